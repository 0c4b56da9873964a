/* sotto-transfer-row.h — one file offered to or by a contact, in a chat
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-core.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_TRANSFER_ROW (sotto_transfer_row_get_type ())
G_DECLARE_FINAL_TYPE (SottoTransferRow, sotto_transfer_row, SOTTO, TRANSFER_ROW, GtkWidget)

GtkWidget     *sotto_transfer_row_new          (SottoFileTransfer *files,
                                                SottoTransfer     *transfer);
void           sotto_transfer_row_set_sender   (SottoTransferRow  *self,
                                                const char        *name,
                                                SottoVerification  verification);
SottoTransfer *sotto_transfer_row_get_transfer (SottoTransferRow  *self);

G_END_DECLS
