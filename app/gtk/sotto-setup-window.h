/* sotto-setup-window.h — the first-run assistant: name, protection, invite
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-context.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_SETUP_WINDOW (sotto_setup_window_get_type ())

G_DECLARE_FINAL_TYPE (SottoSetupWindow, sotto_setup_window, SOTTO, SETUP_WINDOW,
                      GtkApplicationWindow)

SottoSetupWindow *sotto_setup_window_new (GtkApplication *application,
                                          SottoContext   *context,
                                          GSettings      *settings);

G_END_DECLS
