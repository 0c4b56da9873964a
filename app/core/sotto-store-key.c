/* sotto-store-key.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The store key never touches ordinary memory or the disk in the clear: it
 * lives in sodium_malloc() memory, and at rest either in the Secret Service
 * (as a binary secret, which libsecret keeps in non-pageable memory) or
 * wrapped under a key derived from a passphrase with Argon2id.
 *
 * The keyring calls are synchronous: they run on the store's worker thread.
 */
#define G_LOG_DOMAIN "sotto-store-key"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <libsecret/secret.h>
#include <glib/gi18n-lib.h>

#include "sotto-error.h"
#include "sotto-store-key.h"

G_STATIC_ASSERT (SOTTO_PWHASH_SALT_LEN == crypto_pwhash_SALTBYTES);
G_STATIC_ASSERT (SOTTO_PWHASH_OPSLIMIT_MAX == crypto_pwhash_OPSLIMIT_SENSITIVE);
G_STATIC_ASSERT (SOTTO_PWHASH_MEMLIMIT_MAX == crypto_pwhash_MEMLIMIT_SENSITIVE);
G_STATIC_ASSERT (SOTTO_PWHASH_OPSLIMIT_DEFAULT == crypto_pwhash_OPSLIMIT_MODERATE);
G_STATIC_ASSERT (SOTTO_PWHASH_MEMLIMIT_DEFAULT == crypto_pwhash_MEMLIMIT_MODERATE);

static const SecretSchema *
get_secret_schema (void)
{
  /* Named after the application id, as the Secret Service expects. */
  static const SecretSchema schema = {
    SCHEMA_ID, SECRET_SCHEMA_NONE,
    {
      { "store-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

/**
 * sotto_store_key_new:
 *
 * Returns: (transfer full): a random key in sodium_malloc() memory; free
 *   with sotto_store_key_free()
 */
guint8 *
sotto_store_key_new (void)
{
  guint8 *key = sodium_malloc (SOTTO_STORE_KEY_LEN);

  g_assert (key != NULL);
  randombytes_buf (key, SOTTO_STORE_KEY_LEN);

  return key;
}

void
sotto_store_key_free (guint8 *key)
{
  /* sodium_free() wipes before it frees. */
  if (key != NULL)
    sodium_free (key);
}

gboolean
sotto_passphrase_validate (const char  *passphrase,
                           GError     **error)
{
  gsize len;

  if (passphrase == NULL || passphrase[0] == '\0')
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The passphrase is empty"));
      return FALSE;
    }

  len = strnlen (passphrase, SOTTO_PASSPHRASE_MAX_LEN + 1);
  if (len > SOTTO_PASSPHRASE_MAX_LEN)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("The passphrase is longer than %d bytes"), SOTTO_PASSPHRASE_MAX_LEN);
      return FALSE;
    }

  return TRUE;
}

/**
 * sotto_passphrase_derive_kek:
 * @passphrase: the user's passphrase
 * @salt: %SOTTO_PWHASH_SALT_LEN random bytes, stored with the wrapped key
 * @opslimit: Argon2id passes
 * @memlimit: Argon2id memory, in bytes
 *
 * Returns: (transfer full) (nullable): the key-encryption key in
 *   sodium_malloc() memory (free with sotto_store_key_free())
 */
guint8 *
sotto_passphrase_derive_kek (const char    *passphrase,
                             const guint8  *salt,
                             guint64        opslimit,
                             guint64        memlimit,
                             GError       **error)
{
  guint8 *kek;

  g_return_val_if_fail (salt != NULL, NULL);

  if (!sotto_passphrase_validate (passphrase, error))
    return NULL;

  /* The limits come from the database: bounded, so a damaged or planted
   * file can't make us allocate gigabytes or spin for minutes. */
  if (opslimit < SOTTO_PWHASH_OPSLIMIT_MIN || opslimit > SOTTO_PWHASH_OPSLIMIT_MAX ||
      memlimit < SOTTO_PWHASH_MEMLIMIT_MIN || memlimit > SOTTO_PWHASH_MEMLIMIT_MAX)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                           _("The passphrase settings stored in the profile are out of range: "
                             "the history is damaged"));
      return NULL;
    }

  kek = sodium_malloc (SOTTO_STORE_KEY_LEN);
  g_assert (kek != NULL);

  if (crypto_pwhash (kek, SOTTO_STORE_KEY_LEN, passphrase, strlen (passphrase), salt,
                     opslimit, (size_t)memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
    {
      sodium_free (kek);
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_STORE,
                           _("Not enough memory to check the passphrase"));
      return NULL;
    }

  return kek;
}

static void
set_keyring_error (GError     **error,
                   const GError *cause)
{
  g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_KEYRING,
               _("The login keyring is not available: %s"), cause->message);
}

gboolean
sotto_keyring_store_key (const char    *store_id,
                         const char    *label,
                         const guint8  *key,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr (GError) local_error = NULL;
  SecretValue *value;
  gboolean ok;

  g_return_val_if_fail (store_id != NULL, FALSE);
  g_return_val_if_fail (label != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  value = secret_value_new ((const char *)key, SOTTO_STORE_KEY_LEN, "application/octet-stream");
  ok = secret_password_store_binary_sync (get_secret_schema (), SECRET_COLLECTION_DEFAULT,
                                          label, value, cancellable, &local_error,
                                          "store-id", store_id,
                                          NULL);
  secret_value_unref (value);

  if (!ok)
    {
      set_keyring_error (error, local_error);
      return FALSE;
    }

  return TRUE;
}

/**
 * sotto_keyring_lookup_key:
 *
 * Returns: (transfer full) (nullable): the key in sodium_malloc() memory, or
 *   %NULL with %SOTTO_ERROR_KEY_MISSING when the keyring has no such item
 */
guint8 *
sotto_keyring_lookup_key (const char    *store_id,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_autoptr (GError) local_error = NULL;
  SecretValue *value;
  const char *bytes;
  gsize len = 0;
  guint8 *key;

  g_return_val_if_fail (store_id != NULL, NULL);

  value = secret_password_lookup_binary_sync (get_secret_schema (), cancellable, &local_error,
                                              "store-id", store_id,
                                              NULL);
  if (local_error != NULL)
    {
      set_keyring_error (error, local_error);
      return NULL;
    }

  if (value == NULL)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_KEY_MISSING,
                           _("The key of this profile’s history is not in your login keyring"));
      return NULL;
    }

  bytes = secret_value_get (value, &len);
  if (len != SOTTO_STORE_KEY_LEN)
    {
      secret_value_unref (value);
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                           _("The key stored in your login keyring for this profile is damaged"));
      return NULL;
    }

  key = sodium_malloc (SOTTO_STORE_KEY_LEN);
  g_assert (key != NULL);
  memcpy (key, bytes, SOTTO_STORE_KEY_LEN);
  secret_value_unref (value);

  return key;
}

gboolean
sotto_keyring_clear_key (const char    *store_id,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (store_id != NULL, FALSE);

  /* FALSE without an error only means there was nothing to remove. */
  if (!secret_password_clear_sync (get_secret_schema (), cancellable, &local_error,
                                   "store-id", store_id,
                                   NULL) &&
      local_error != NULL)
    {
      set_keyring_error (error, local_error);
      return FALSE;
    }

  return TRUE;
}
