/* sotto-window.h — the main window: the contact list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-application.h"
#include "sotto-context.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_WINDOW (sotto_window_get_type ())

G_DECLARE_FINAL_TYPE (SottoWindow, sotto_window, SOTTO, WINDOW, GtkApplicationWindow)

SottoWindow  *sotto_window_new         (SottoApplication *application,
                                        SottoContext     *context,
                                        GSettings        *settings);
SottoContext *sotto_window_get_context (SottoWindow      *self);

G_END_DECLS
