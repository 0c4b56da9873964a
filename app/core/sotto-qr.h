/* sotto-qr.h — QR code matrices for people to scan (invites, safety numbers)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The light border every reader needs around the symbol, in modules. It is
 * part of the matrix, so a front end only has to draw what it is given. */
#define SOTTO_QR_QUIET_ZONE 4

#define SOTTO_QR_ERROR (sotto_qr_error_quark ())

typedef enum
{
  SOTTO_QR_ERROR_TOO_LONG,
  SOTTO_QR_ERROR_FAILED,
} SottoQrError;

#define SOTTO_TYPE_QR (sotto_qr_get_type ())

typedef struct _SottoQr SottoQr;

GQuark      sotto_qr_error_quark (void);
GType       sotto_qr_get_type    (void) G_GNUC_CONST;

SottoQr    *sotto_qr_encode      (const char     *text,
                                  GError        **error);
SottoQr    *sotto_qr_ref         (SottoQr        *self);
void        sotto_qr_unref       (SottoQr        *self);
const char *sotto_qr_get_text    (const SottoQr  *self);
guint       sotto_qr_get_version (const SottoQr  *self);
guint       sotto_qr_get_size    (const SottoQr  *self);
gboolean    sotto_qr_get_module  (const SottoQr  *self,
                                  guint           x,
                                  guint           y);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoQr, sotto_qr_unref)

G_END_DECLS
