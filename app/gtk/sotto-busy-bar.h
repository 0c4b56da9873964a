/* sotto-busy-bar.h — a bar that moves while something is under way
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SOTTO_TYPE_BUSY_BAR (sotto_busy_bar_get_type ())

G_DECLARE_FINAL_TYPE (SottoBusyBar, sotto_busy_bar, SOTTO, BUSY_BAR, GtkWidget)

GtkWidget *sotto_busy_bar_new        (void);
void       sotto_busy_bar_set_active (SottoBusyBar *self,
                                      gboolean      active);
gboolean   sotto_busy_bar_get_active (SottoBusyBar *self);

G_END_DECLS
