/* sotto-add-contact-dialog.h — add a colleague from their invite
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-store.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_ADD_CONTACT_DIALOG (sotto_add_contact_dialog_get_type ())

G_DECLARE_FINAL_TYPE (SottoAddContactDialog, sotto_add_contact_dialog, SOTTO, ADD_CONTACT_DIALOG,
                      GtkWindow)

SottoAddContactDialog *sotto_add_contact_dialog_new (GtkWindow  *parent,
                                                     SottoStore *store,
                                                     const char *invite);

G_END_DECLS
