/* sotto-seal.h — authenticated encryption of stored fields
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SOTTO_SEAL_KEY_LEN       32
#define SOTTO_SEAL_VERSION       1
/* version byte + XChaCha20 nonce + Poly1305 tag */
#define SOTTO_SEAL_OVERHEAD      (1 + 24 + 16)
/* Bodies, names and keys are small; anything bigger is damage or an attack. */
#define SOTTO_SEAL_PLAINTEXT_MAX (1024 * 1024)
#define SOTTO_SEAL_NAME_MAX      32

GBytes   *sotto_seal        (const guint8  *key,
                             const char    *table,
                             const char    *column,
                             gint64         rowid,
                             const guint8  *plaintext,
                             gsize          plaintext_len);
GBytes   *sotto_unseal      (const guint8  *key,
                             const char    *table,
                             const char    *column,
                             gint64         rowid,
                             const guint8  *sealed,
                             gsize          sealed_len,
                             GError       **error);
gboolean  sotto_unseal_into (const guint8  *key,
                             const char    *table,
                             const char    *column,
                             gint64         rowid,
                             const guint8  *sealed,
                             gsize          sealed_len,
                             guint8        *out,
                             gsize          out_len,
                             GError       **error);

G_END_DECLS
