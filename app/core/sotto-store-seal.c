/* sotto-store-seal.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The store key: made at create, unwrapped at open (from the Secret
 * Service or under a passphrase), re-wrapped when the protection changes;
 * the sealing of single columns under it (sotto-seal.c does the
 * cryptography); and the MAC that binds a row's clear columns.
 *
 * Sealed values are bound to their table, column and row only. What is
 * left in the clear but decides trust or meaning is bound by a second
 * value per row, the mac column: keyed BLAKE2b-256 under a key derived
 * from the store key (crypto_kdf, context "sottomac", subkey 1) over an
 * unambiguous encoding of the table name, the row id and those columns:
 *
 *   contacts  id, public_key, verification, blocked, offered_key
 *   messages  id, the contact (through conversations), uid, direction,
 *             state, sent, received
 *
 * Without the key, someone who can write sotto.db can no longer swap a
 * contact's key, mark it verified or unblocked, move a message to another
 * conversation (or conversations to other contacts), or turn the user's
 * message into the contact's: the row stops authenticating, and is
 * reported as damaged and left out (never shown, trusted or sent).
 *
 * The MAC is computed by SQL itself, with sotto_row_mac(), registered on
 * the store's connection only (SQLITE_DIRECTONLY: no trigger or view in
 * the file can call it). An UPDATE then sets a clear column and its row's
 * mac in the same statement, or the same transaction: no write leaves a
 * row behind that does not authenticate. A state change applies only to
 * a row whose mac still matches, so that a changed row is never signed
 * again. Not bound, and listed in README as such: last activity, read
 * times, the outbox's queue times and the seen table; nor can a MAC tell
 * a deleted row, or a whole row put back as an older copy of itself.
 */
#define G_LOG_DOMAIN "sotto-store"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>

#include "sotto-error.h"
#include "sotto-seal.h"
#include "sotto-store-private.h"

#define KEY_CHECK_TEXT "sotto key check v1"

/* -------------------------------------------------------------------------
 * Sealed columns (worker thread)
 * ------------------------------------------------------------------------- */

void
_sotto_store_bind_sealed (sqlite3_stmt *stmt,
                          int           index,
                          GBytes       *sealed)
{
  gsize len = 0;
  gconstpointer data = g_bytes_get_data (sealed, &len);

  sqlite3_bind_blob (stmt, index, data, (int)len, SQLITE_TRANSIENT);
}

GBytes *
_sotto_store_seal_string (SottoStore *self,
                          const char *table,
                          const char *column,
                          gint64      rowid,
                          const char *text)
{
  _sotto_store_assert_worker (self);

  return sotto_seal (self->key, table, column, rowid, (const guint8 *)text, strlen (text));
}

char *
_sotto_store_unseal_string (SottoStore    *self,
                            sqlite3_stmt  *stmt,
                            int            col,
                            const char    *table,
                            const char    *column,
                            gint64         rowid,
                            GError       **error)
{
  g_autoptr (GBytes) plain = NULL;
  gsize len = 0;
  const char *data;

  _sotto_store_assert_worker (self);

  if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
    return NULL;

  plain = sotto_unseal (self->key, table, column, rowid,
                        sqlite3_column_blob (stmt, col),
                        (gsize)sqlite3_column_bytes (stmt, col), error);
  if (plain == NULL)
    return NULL;

  data = g_bytes_get_data (plain, &len);
  /* A sealed value authenticated, but a string must still be one. */
  if (memchr (data, '\0', len) != NULL || !g_utf8_validate (data, len, NULL))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                   _("A stored text in “%s” (row %lld) is not valid text"),
                   table, (long long)rowid);
      return NULL;
    }

  return g_strndup (data, len);
}

/* -------------------------------------------------------------------------
 * Row MACs (worker thread)
 * ------------------------------------------------------------------------- */

#define ROW_MAC_CONTEXT "sottomac"
#define ROW_MAC_LEN     crypto_generichash_BYTES
#define ROW_MAC_DOMAIN  "sotto-row-mac-v1"

G_STATIC_ASSERT (sizeof ROW_MAC_CONTEXT - 1 == crypto_kdf_CONTEXTBYTES);
G_STATIC_ASSERT (SOTTO_STORE_KEY_LEN == crypto_kdf_KEYBYTES);

/* sotto_row_mac(table, value, ...): every argument, tagged with its type
 * and length-prefixed, so that no two different rows encode the same. */
static void
row_mac_func (sqlite3_context  *context,
              int               argc,
              sqlite3_value   **argv)
{
  const guint8 *mac_key = sqlite3_user_data (context);
  crypto_generichash_state state;
  guint8 mac[ROW_MAC_LEN];

  crypto_generichash_init (&state, mac_key, crypto_generichash_KEYBYTES, sizeof mac);
  crypto_generichash_update (&state, (const guint8 *)ROW_MAC_DOMAIN, sizeof ROW_MAC_DOMAIN);

  for (int i = 0; i < argc; i++)
    {
      guint8 tag = (guint8)sqlite3_value_type (argv[i]);

      crypto_generichash_update (&state, &tag, 1);
      switch (tag)
        {
        case SQLITE_INTEGER:
          {
            guint64 be = GUINT64_TO_BE ((guint64)sqlite3_value_int64 (argv[i]));

            crypto_generichash_update (&state, (const guint8 *)&be, sizeof be);
          }
          break;

        case SQLITE_BLOB:
        case SQLITE_TEXT:
          {
            const guint8 *data = tag == SQLITE_BLOB ? sqlite3_value_blob (argv[i])
                                                    : sqlite3_value_text (argv[i]);
            guint32 be = GUINT32_TO_BE ((guint32)sqlite3_value_bytes (argv[i]));

            crypto_generichash_update (&state, (const guint8 *)&be, sizeof be);
            if (data != NULL)
              crypto_generichash_update (&state, data, (gsize)sqlite3_value_bytes (argv[i]));
          }
          break;

        case SQLITE_NULL:
          break;

        default:
          /* No bound column is a float: such a value is damage, and
           * must not match what was written. */
          sqlite3_result_null (context);
          return;
        }
    }

  crypto_generichash_final (&state, mac, sizeof mac);
  sqlite3_result_blob (context, mac, sizeof mac, SQLITE_TRANSIENT);
}

/* Once the store key is known, on create and on open: the migration that
 * adds the mac column already needs it. On every connection the store
 * opens (create opens a second one once the file is in place). */
gboolean
_sotto_store_register_row_mac (SottoStore  *self,
                               GError     **error)
{
  int rc;

  _sotto_store_assert_worker (self);
  g_assert (self->key != NULL && self->db != NULL);

  if (self->mac_key == NULL)
    {
      self->mac_key = sodium_malloc (crypto_generichash_KEYBYTES);
      g_assert (self->mac_key != NULL);
      crypto_kdf_derive_from_key (self->mac_key, crypto_generichash_KEYBYTES, 1,
                                  ROW_MAC_CONTEXT, self->key);
    }

  rc = sqlite3_create_function_v2 (self->db, "sotto_row_mac", -1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY,
                                   self->mac_key, row_mac_func, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return _sotto_store_set_db_error (error, self->db, rc, _("opening"));

  return TRUE;
}

/* Whether the stored mac (@mac_col) is the one sotto_row_mac() computed
 * for the row as it reads now (@expected_col). */
gboolean
_sotto_store_row_mac_matches (sqlite3_stmt *stmt,
                              int           mac_col,
                              int           expected_col)
{
  return sqlite3_column_bytes (stmt, mac_col) == ROW_MAC_LEN &&
         sqlite3_column_bytes (stmt, expected_col) == ROW_MAC_LEN &&
         crypto_verify_32 (sqlite3_column_blob (stmt, mac_col),
                           sqlite3_column_blob (stmt, expected_col)) == 0;
}

/* -------------------------------------------------------------------------
 * The store key
 * ------------------------------------------------------------------------- */

char *
_sotto_store_secure_strdup (const char *s)
{
  gsize len;
  char *copy;

  if (s == NULL)
    return NULL;

  len = strnlen (s, SOTTO_PASSPHRASE_MAX_LEN + 1);
  copy = sodium_malloc (len + 1);
  g_assert (copy != NULL);
  memcpy (copy, s, len);
  copy[len] = '\0';

  return copy;
}

void
_sotto_store_key_request_free (KeyRequest *request)
{
  g_free (request->display_name);
  if (request->passphrase != NULL)
    sodium_free (request->passphrase);
  g_free (request);
}

KeyRequest *
_sotto_store_key_request_new (const char         *display_name,
                              SottoKeyProtection  protection,
                              const char         *passphrase,
                              guint64             opslimit,
                              guint64             memlimit)
{
  KeyRequest *request = g_new0 (KeyRequest, 1);

  request->display_name = g_strdup (display_name);
  request->protection = protection;
  request->passphrase = _sotto_store_secure_strdup (passphrase);
  request->opslimit = opslimit != 0 ? opslimit : SOTTO_PWHASH_OPSLIMIT_DEFAULT;
  request->memlimit = memlimit != 0 ? memlimit : SOTTO_PWHASH_MEMLIMIT_DEFAULT;

  return request;
}

char *
_sotto_store_dup_keyring_label (SottoStore *self)
{
  g_autofree char *profile = g_path_get_basename (self->profile_dir);

  /* Translators: the label of the item in the login keyring. */
  return g_strdup_printf (_("Sotto history key (profile “%s”)"), profile);
}

/* Writes keyinfo (id 1) for the current store key under @request. */
gboolean
_sotto_store_write_keyinfo (SottoStore    *self,
                            KeyRequest    *request,
                            gboolean       insert,
                            GError       **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GBytes) key_check = NULL;
  g_autoptr (GBytes) wrapped = NULL;
  guint8 salt[SOTTO_PWHASH_SALT_LEN];

  _sotto_store_assert_worker (self);

  key_check = sotto_seal (self->key, "keyinfo", "key_check", 1,
                          (const guint8 *)KEY_CHECK_TEXT, strlen (KEY_CHECK_TEXT));

  if (request->protection == SOTTO_KEY_PROTECTION_PASSPHRASE)
    {
      guint8 *kek;

      randombytes_buf (salt, sizeof salt);
      kek = sotto_passphrase_derive_kek (request->passphrase, salt,
                                         request->opslimit, request->memlimit, error);
      if (kek == NULL)
        return FALSE;
      wrapped = sotto_seal (kek, "keyinfo", "wrapped_key", 1, self->key, SOTTO_STORE_KEY_LEN);
      sotto_store_key_free (kek);
    }

  stmt = _sotto_store_db_prepare (self,
                                  insert ?
                                  "INSERT INTO keyinfo (store_id, protection, pwhash_salt, "
                                  "pwhash_opslimit, pwhash_memlimit, wrapped_key, key_check, id) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?, 1)" :
                                  "UPDATE keyinfo SET store_id = ?, protection = ?, "
                                  "pwhash_salt = ?, pwhash_opslimit = ?, pwhash_memlimit = ?, "
                                  "wrapped_key = ?, key_check = ? WHERE id = 1",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, self->store_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, request->protection);
  if (wrapped != NULL)
    {
      sqlite3_bind_blob (stmt, 3, salt, sizeof salt, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 4, (sqlite3_int64)request->opslimit);
      sqlite3_bind_int64 (stmt, 5, (sqlite3_int64)request->memlimit);
      _sotto_store_bind_sealed (stmt, 6, wrapped);
    }
  _sotto_store_bind_sealed (stmt, 7, key_check);

  return _sotto_store_db_step_done (self, stmt, error);
}

gboolean
_sotto_store_read_keyinfo_and_unlock (SottoStore    *self,
                                      const char    *passphrase,
                                      GCancellable  *cancellable,
                                      GError       **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GBytes) check = NULL;
  g_autoptr (GError) check_error = NULL;
  gint64 protection;
  int rc;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self,
                                  "SELECT store_id, protection, pwhash_salt, pwhash_opslimit, "
                                  "pwhash_memlimit, wrapped_key, key_check FROM keyinfo "
                                  "WHERE id = 1",
                                  error);
  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      if (rc == SQLITE_DONE)
        g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                             _("The history database has no key information: it is damaged"));
      else
        _sotto_store_set_db_error (error, self->db, rc, _("reading the key information"));
      return FALSE;
    }

  self->store_id = g_strdup ((const char *)sqlite3_column_text (stmt, 0));
  protection = sqlite3_column_int64 (stmt, 1);

  if (self->store_id == NULL || strlen (self->store_id) != 2 * STORE_ID_LEN)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                           _("The history database’s key information is damaged"));
      return FALSE;
    }

  if (protection == SOTTO_KEY_PROTECTION_KEYRING)
    {
      self->key = sotto_keyring_lookup_key (self->store_id, cancellable, error);
      if (self->key == NULL)
        return FALSE;
    }
  else if (protection == SOTTO_KEY_PROTECTION_PASSPHRASE)
    {
      g_autoptr (GError) unwrap_error = NULL;
      guint8 *kek;

      if (passphrase == NULL)
        {
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_NEEDS_PASSPHRASE,
                               _("This profile is protected by a passphrase"));
          return FALSE;
        }

      if (sqlite3_column_bytes (stmt, 2) != SOTTO_PWHASH_SALT_LEN)
        {
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                               _("The history database’s key information is damaged"));
          return FALSE;
        }

      kek = sotto_passphrase_derive_kek (passphrase, sqlite3_column_blob (stmt, 2),
                                         (guint64)sqlite3_column_int64 (stmt, 3),
                                         (guint64)sqlite3_column_int64 (stmt, 4), error);
      if (kek == NULL)
        return FALSE;

      self->key = sodium_malloc (SOTTO_STORE_KEY_LEN);
      g_assert (self->key != NULL);
      if (!sotto_unseal_into (kek, "keyinfo", "wrapped_key", 1,
                              sqlite3_column_blob (stmt, 5),
                              (gsize)sqlite3_column_bytes (stmt, 5),
                              self->key, SOTTO_STORE_KEY_LEN, &unwrap_error))
        {
          sotto_store_key_free (kek);
          g_clear_pointer (&self->key, sotto_store_key_free);
          /* An AEAD failure here is, by far most likely, a wrong passphrase. */
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_WRONG_PASSPHRASE,
                               _("The passphrase is wrong"));
          return FALSE;
        }
      sotto_store_key_free (kek);
    }
  else
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                           _("The history database’s key information is damaged"));
      return FALSE;
    }

  self->protection = (SottoKeyProtection)protection;

  check = sotto_unseal (self->key, "keyinfo", "key_check", 1,
                        sqlite3_column_blob (stmt, 6), (gsize)sqlite3_column_bytes (stmt, 6),
                        &check_error);
  if (check == NULL ||
      g_bytes_get_size (check) != strlen (KEY_CHECK_TEXT) ||
      memcmp (g_bytes_get_data (check, NULL), KEY_CHECK_TEXT, strlen (KEY_CHECK_TEXT)) != 0)
    {
      g_clear_pointer (&self->key, sotto_store_key_free);
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                           _("The key does not open this profile’s history: the keyring item "
                             "or the database was replaced or damaged"));
      return FALSE;
    }

  return TRUE;
}

/* -------------------------------------------------------------------------
 * Key protection
 * ------------------------------------------------------------------------- */

static gpointer
set_key_protection_job (SottoStore    *self,
                        gpointer       data,
                        GCancellable  *cancellable,
                        GError       **error)
{
  KeyRequest *request = data;
  g_autofree char *label = NULL;
  SottoKeyProtection old_protection;
  gboolean stored = FALSE;

  _sotto_store_assert_worker (self);

  old_protection = self->protection;

  /* Only the wrapping of the store key changes: no message is rewritten. */
  if (request->protection == SOTTO_KEY_PROTECTION_KEYRING &&
      old_protection != SOTTO_KEY_PROTECTION_KEYRING)
    {
      label = _sotto_store_dup_keyring_label (self);
      if (!sotto_keyring_store_key (self->store_id, label, self->key, cancellable, error))
        return NULL;
      stored = TRUE;
    }

  if (!_sotto_store_db_begin (self, error) ||
      !_sotto_store_write_keyinfo (self, request, FALSE, error) ||
      !_sotto_store_db_commit (self, error))
    {
      _sotto_store_db_rollback (self);
      if (stored)
        sotto_keyring_clear_key (self->store_id, NULL, NULL);
      return NULL;
    }

  self->protection = request->protection;

  /* The old copy goes last: until the commit it was the only way in. */
  if (old_protection == SOTTO_KEY_PROTECTION_KEYRING &&
      request->protection != SOTTO_KEY_PROTECTION_KEYRING)
    {
      g_autoptr (GError) clear_error = NULL;

      if (!sotto_keyring_clear_key (self->store_id, cancellable, &clear_error))
        g_message ("The old key could not be removed from the keyring: %s", clear_error->message);
    }

  return GINT_TO_POINTER (request->protection);
}

static gpointer
set_key_protection_apply (SottoStore *self,
                          gpointer    request,
                          gpointer    data)
{
  self->key_protection = GPOINTER_TO_INT (data);

  return data;
}

/**
 * sotto_store_set_key_protection_async:
 * @passphrase: (nullable): the new passphrase, for
 *   %SOTTO_KEY_PROTECTION_PASSPHRASE
 *
 * Moves the store key to the keyring or under a (new) passphrase. Only the
 * key is re-wrapped.
 */
void
sotto_store_set_key_protection_async (SottoStore          *self,
                                      SottoKeyProtection   protection,
                                      const char          *passphrase,
                                      guint64              opslimit,
                                      guint64              memlimit,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (protection == SOTTO_KEY_PROTECTION_KEYRING ||
                    protection == SOTTO_KEY_PROTECTION_PASSPHRASE);

  if ((protection == SOTTO_KEY_PROTECTION_PASSPHRASE &&
       !sotto_passphrase_validate (passphrase, &error)) ||
      (self->policy != NULL &&
       !sotto_policy_may_protect (self->policy, protection, passphrase, &error)))
    {
      if (g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED))
        sotto_store_log_event (self, SOTTO_SECURITY_EVENT_POLICY_REFUSED,
                               _("protecting the history key"), error->message);
      g_task_report_error (self, callback, user_data, sotto_store_set_key_protection_async,
                           g_steal_pointer (&error));
      return;
    }

  _sotto_store_schedule (self, sotto_store_set_key_protection_async, set_key_protection_job,
                         set_key_protection_apply,
                         _sotto_store_key_request_new (NULL, protection, passphrase,
                                                       opslimit, memlimit),
                         (GDestroyNotify)_sotto_store_key_request_free, NULL,
                         cancellable, callback, user_data);
}

gboolean
sotto_store_set_key_protection_finish (SottoStore    *self,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_pointer (G_TASK (result), error) != NULL;
}
