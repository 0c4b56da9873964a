/* sotto-invite-window.h — the user's own invite, to copy or scan
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

GtkWindow *sotto_invite_window_new (GtkWindow  *parent,
                                    const char *invite);

G_END_DECLS
