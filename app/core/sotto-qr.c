/* sotto-qr.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A thin, GUI-free wrapper around libqrencode: the matrix it returns is
 * immutable and already has its quiet zone, so every front end draws the
 * same thing and none of them touches libqrencode's types.
 */
#define G_LOG_DOMAIN "sotto-qr"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <qrencode.h>

#include "sotto-qr.h"

struct _SottoQr
{
  gatomicrefcount  ref_count;

  char            *text;
  guint            version;
  /* modules per side, quiet zone included */
  guint            size;
  /* size × size, row by row: 1 is a dark module */
  guint8          *modules;
};

G_DEFINE_BOXED_TYPE (SottoQr, sotto_qr, sotto_qr_ref, sotto_qr_unref)

G_DEFINE_QUARK (sotto-qr-error-quark, sotto_qr_error)

/**
 * sotto_qr_encode:
 * @text: UTF-8 text, such as an invite URI or a safety number
 * @error: return location for a #SOTTO_QR_ERROR
 *
 * Encodes @text with error correction level M (15 % of the symbol may be
 * damaged or dirty), in the smallest version that holds it.
 *
 * Returns: (transfer full): the matrix, or %NULL with
 *   %SOTTO_QR_ERROR_TOO_LONG when @text does not fit in a version 40 symbol
 */
SottoQr *
sotto_qr_encode (const char  *text,
                 GError     **error)
{
  g_autoptr (SottoQr) self = NULL;
  QRcode *code;
  guint width;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (text[0] == '\0')
    {
      g_set_error_literal (error, SOTTO_QR_ERROR, SOTTO_QR_ERROR_FAILED,
                           _("There is no text to put in a QR code"));
      return NULL;
    }

  errno = 0;
  /* Version 0: the smallest that fits. QR_MODE_8 keeps UTF-8 bytes as they
   * are; runs of digits still get the compact numeric mode. */
  code = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (code == NULL)
    {
      int saved_errno = errno;

      if (saved_errno == ERANGE)
        g_set_error (error, SOTTO_QR_ERROR, SOTTO_QR_ERROR_TOO_LONG,
                     ngettext ("The text is too long for a QR code (%zu byte)",
                               "The text is too long for a QR code (%zu bytes)",
                               strlen (text)),
                     strlen (text));
      else
        g_set_error (error, SOTTO_QR_ERROR, SOTTO_QR_ERROR_FAILED,
                     _("Could not make a QR code: %s"), g_strerror (saved_errno));
      return NULL;
    }

  self = g_new0 (SottoQr, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->text = g_strdup (text);
  self->version = (guint)code->version;
  width = (guint)code->width;
  self->size = width + 2 * SOTTO_QR_QUIET_ZONE;
  self->modules = g_malloc0 ((gsize)self->size * self->size);

  for (guint y = 0; y < width; y++)
    for (guint x = 0; x < width; x++)
      self->modules[(y + SOTTO_QR_QUIET_ZONE) * self->size + x + SOTTO_QR_QUIET_ZONE] =
        code->data[y * width + x] & 1;

  QRcode_free (code);

  return g_steal_pointer (&self);
}

SottoQr *
sotto_qr_ref (SottoQr *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
sotto_qr_unref (SottoQr *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->text);
  g_free (self->modules);
  g_free (self);
}

/**
 * sotto_qr_get_text:
 *
 * Returns: the text the matrix encodes
 */
const char *
sotto_qr_get_text (const SottoQr *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->text;
}

/**
 * sotto_qr_get_version:
 *
 * Returns: the QR version, 1 (21 × 21 modules) to 40 (177 × 177)
 */
guint
sotto_qr_get_version (const SottoQr *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->version;
}

/**
 * sotto_qr_get_size:
 *
 * Returns: the number of modules per side, the quiet zone on both sides
 *   included: 17 + 4 × version + 2 × %SOTTO_QR_QUIET_ZONE
 */
guint
sotto_qr_get_size (const SottoQr *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->size;
}

/**
 * sotto_qr_get_module:
 * @x: column, 0 is the left edge of the quiet zone
 * @y: row, 0 is the top edge of the quiet zone
 *
 * Returns: %TRUE if the module at (@x, @y) is dark
 */
gboolean
sotto_qr_get_module (const SottoQr *self,
                     guint          x,
                     guint          y)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (x < self->size && y < self->size, FALSE);

  return self->modules[y * self->size + x] != 0;
}
