/* sotto-qr-code.h — a QR code, drawn crisp at any size
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-qr.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_QR_CODE (sotto_qr_code_get_type ())

G_DECLARE_FINAL_TYPE (SottoQrCode, sotto_qr_code, SOTTO, QR_CODE, GtkWidget)

GtkWidget  *sotto_qr_code_new      (void);
const char *sotto_qr_code_get_text (SottoQrCode  *self);
gboolean    sotto_qr_code_set_text (SottoQrCode  *self,
                                    const char   *text,
                                    GError      **error);
SottoQr    *sotto_qr_code_get_qr   (SottoQrCode  *self);

G_END_DECLS
