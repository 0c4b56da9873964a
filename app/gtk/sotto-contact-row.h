/* sotto-contact-row.h — one contact in the buddy list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SOTTO_TYPE_CONTACT_ROW (sotto_contact_row_get_type ())

G_DECLARE_FINAL_TYPE (SottoContactRow, sotto_contact_row, SOTTO, CONTACT_ROW, GtkWidget)

GtkWidget *sotto_contact_row_new      (void);
void       sotto_contact_row_set_item (SottoContactRow *self,
                                       GObject         *item);
GObject   *sotto_contact_row_get_item (SottoContactRow *self);
void       sotto_contact_row_popup_menu (SottoContactRow *self);

G_END_DECLS
