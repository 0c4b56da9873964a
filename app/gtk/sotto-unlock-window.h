/* sotto-unlock-window.h — asks for a passphrase-protected profile's passphrase
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-context.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_UNLOCK_WINDOW (sotto_unlock_window_get_type ())

G_DECLARE_FINAL_TYPE (SottoUnlockWindow, sotto_unlock_window, SOTTO, UNLOCK_WINDOW,
                      GtkApplicationWindow)

SottoUnlockWindow *sotto_unlock_window_new (GtkApplication *application,
                                            SottoContext   *context,
                                            GSettings      *settings);

G_END_DECLS
