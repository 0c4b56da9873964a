/* sotto-verify-dialog.h — compare safety numbers with a contact, then mark
 * them as verified
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-contact.h"
#include "sotto-identity.h"
#include "sotto-store.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_VERIFY_DIALOG (sotto_verify_dialog_get_type ())

G_DECLARE_FINAL_TYPE (SottoVerifyDialog, sotto_verify_dialog, SOTTO, VERIFY_DIALOG, GtkWindow)

SottoVerifyDialog *sotto_verify_dialog_new                  (GtkWindow         *parent,
                                                             SottoStore        *store,
                                                             SottoContact      *contact,
                                                             SottoIdentity     *own);
SottoContact      *sotto_verify_dialog_get_contact          (SottoVerifyDialog *self);
const char        *sotto_verify_dialog_get_safety_number    (SottoVerifyDialog *self);

G_END_DECLS
