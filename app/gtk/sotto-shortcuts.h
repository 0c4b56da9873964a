/* sotto-shortcuts.h — the keyboard shortcuts window of each window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void sotto_shortcuts_add_action (GtkApplicationWindow *window);

G_END_DECLS
