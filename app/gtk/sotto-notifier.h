/* sotto-notifier.h — desktop notifications for messages and requests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-context.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_NOTIFIER (sotto_notifier_get_type ())

G_DECLARE_FINAL_TYPE (SottoNotifier, sotto_notifier, SOTTO, NOTIFIER, GObject)

/* Whether the user is looking at a conversation now. */
typedef gboolean (*SottoNotifierShowingFunc) (gint64   contact_id,
                                              gpointer user_data);

SottoNotifier *sotto_notifier_new          (GApplication             *application,
                                            SottoContext             *context,
                                            GSettings                *settings,
                                            SottoNotifierShowingFunc  showing,
                                            gpointer                  showing_data);
void           sotto_notifier_seen         (SottoNotifier            *self,
                                            gint64                    contact_id);

G_END_DECLS
