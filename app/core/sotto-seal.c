/* sotto-seal.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every secret field in the store is sealed with XChaCha20-Poly1305 under the
 * store key. The associated data names the table, column and row, so a
 * ciphertext copied to another row or column no longer opens: a row can't be
 * moved or swapped unnoticed. Layout: version (1) || nonce (24) || ct || tag.
 */
#define G_LOG_DOMAIN "sotto-seal"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>

#include "sotto-error.h"
#include "sotto-seal.h"

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN   crypto_aead_xchacha20poly1305_ietf_ABYTES
#define AD_PREFIX "sotto-store-v1"

G_STATIC_ASSERT (SOTTO_SEAL_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
G_STATIC_ASSERT (SOTTO_SEAL_OVERHEAD == 1 + NONCE_LEN + TAG_LEN);

/* AD = "sotto-store-v1" 0x00 table 0x00 column 0x00 rowid (int64, big endian) */
#define AD_MAX (sizeof AD_PREFIX + SOTTO_SEAL_NAME_MAX + 1 + SOTTO_SEAL_NAME_MAX + 1 + 8)

static gsize
build_ad (guint8     *ad,
          const char *table,
          const char *column,
          gint64      rowid)
{
  gsize table_len = strlen (table);
  gsize column_len = strlen (column);
  guint64 be = GUINT64_TO_BE ((guint64)rowid);
  gsize n = 0;

  g_assert (table_len > 0 && table_len <= SOTTO_SEAL_NAME_MAX);
  g_assert (column_len > 0 && column_len <= SOTTO_SEAL_NAME_MAX);

  memcpy (ad + n, AD_PREFIX, sizeof AD_PREFIX);  /* with its NUL */
  n += sizeof AD_PREFIX;
  memcpy (ad + n, table, table_len + 1);
  n += table_len + 1;
  memcpy (ad + n, column, column_len + 1);
  n += column_len + 1;
  memcpy (ad + n, &be, 8);
  n += 8;

  g_assert (n <= AD_MAX);
  return n;
}

/**
 * sotto_seal:
 * @key: the 32-byte store key
 * @table: the table the value is stored in
 * @column: its column
 * @rowid: its row
 * @plaintext: (array length=plaintext_len): the value
 * @plaintext_len: at most %SOTTO_SEAL_PLAINTEXT_MAX
 *
 * Returns: (transfer full): the sealed value, %SOTTO_SEAL_OVERHEAD bytes
 *   longer than @plaintext
 */
GBytes *
sotto_seal (const guint8 *key,
            const char   *table,
            const char   *column,
            gint64        rowid,
            const guint8 *plaintext,
            gsize         plaintext_len)
{
  guint8 ad[AD_MAX];
  gsize ad_len;
  guint8 *out;
  unsigned long long ct_len = 0;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (table != NULL && column != NULL, NULL);
  g_return_val_if_fail (plaintext != NULL || plaintext_len == 0, NULL);
  g_return_val_if_fail (plaintext_len <= SOTTO_SEAL_PLAINTEXT_MAX, NULL);

  ad_len = build_ad (ad, table, column, rowid);
  out = g_malloc (plaintext_len + SOTTO_SEAL_OVERHEAD);
  out[0] = SOTTO_SEAL_VERSION;
  /* 192-bit random nonces: no counter to keep, no realistic collision. */
  randombytes_buf (out + 1, NONCE_LEN);
  crypto_aead_xchacha20poly1305_ietf_encrypt (out + 1 + NONCE_LEN, &ct_len,
                                              plaintext, plaintext_len,
                                              ad, ad_len, NULL, out + 1, key);
  g_assert (ct_len == plaintext_len + TAG_LEN);

  return g_bytes_new_take (out, plaintext_len + SOTTO_SEAL_OVERHEAD);
}

static gboolean
check_sealed (const guint8  *sealed,
              gsize          sealed_len,
              GError       **error)
{
  if (sealed == NULL || sealed_len < SOTTO_SEAL_OVERHEAD ||
      sealed_len > SOTTO_SEAL_PLAINTEXT_MAX + SOTTO_SEAL_OVERHEAD)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                           _("A stored value has an impossible length: the history is damaged"));
      return FALSE;
    }

  if (sealed[0] != SOTTO_SEAL_VERSION)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                           _("A stored value has an unknown format: the history is damaged "
                             "or was written by a newer version of Sotto"));
      return FALSE;
    }

  return TRUE;
}

static gboolean
open_sealed (const guint8  *key,
             const char    *table,
             const char    *column,
             gint64         rowid,
             const guint8  *sealed,
             gsize          sealed_len,
             guint8        *out,
             GError       **error)
{
  guint8 ad[AD_MAX];
  gsize ad_len = build_ad (ad, table, column, rowid);
  unsigned long long out_len = 0;

  if (crypto_aead_xchacha20poly1305_ietf_decrypt (out, &out_len, NULL,
                                                  sealed + 1 + NONCE_LEN,
                                                  sealed_len - 1 - NONCE_LEN,
                                                  ad, ad_len, sealed + 1, key) != 0)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                   _("A stored value in “%s” (row %lld) does not "
                     "authenticate: it was changed, moved or damaged"),
                   table, (long long)rowid);
      return FALSE;
    }

  g_assert (out_len == sealed_len - SOTTO_SEAL_OVERHEAD);
  return TRUE;
}

/**
 * sotto_unseal:
 *
 * Returns: (transfer full) (nullable): the plaintext, or %NULL with
 *   %SOTTO_ERROR_DAMAGED if the value was changed, moved to another
 *   row or column, or sealed under another key
 */
GBytes *
sotto_unseal (const guint8  *key,
              const char    *table,
              const char    *column,
              gint64         rowid,
              const guint8  *sealed,
              gsize          sealed_len,
              GError       **error)
{
  guint8 *out;
  gsize out_len;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (table != NULL && column != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_sealed (sealed, sealed_len, error))
    return NULL;

  out_len = sealed_len - SOTTO_SEAL_OVERHEAD;
  /* +1: callers may treat a body as a string. */
  out = g_malloc (out_len + 1);
  if (!open_sealed (key, table, column, rowid, sealed, sealed_len, out, error))
    {
      g_free (out);
      return NULL;
    }
  out[out_len] = '\0';

  return g_bytes_new_take (out, out_len);
}

/**
 * sotto_unseal_into:
 * @out: (out caller-allocates) (array length=out_len): where the plaintext
 *   goes, e.g. sodium_malloc() memory for a key
 * @out_len: the exact plaintext length expected
 *
 * Like sotto_unseal(), for secrets that must never touch ordinary memory.
 */
gboolean
sotto_unseal_into (const guint8  *key,
                   const char    *table,
                   const char    *column,
                   gint64         rowid,
                   const guint8  *sealed,
                   gsize          sealed_len,
                   guint8        *out,
                   gsize          out_len,
                   GError       **error)
{
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_sealed (sealed, sealed_len, error))
    return FALSE;

  if (sealed_len - SOTTO_SEAL_OVERHEAD != out_len)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                           _("A stored key has the wrong length: the history is damaged"));
      return FALSE;
    }

  return open_sealed (key, table, column, rowid, sealed, sealed_len, out, error);
}
