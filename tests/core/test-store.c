/* test-store.c — the encrypted store, with real SQLite files and a real
 * Secret Service
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE 1  /* memmem */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>
#include <sqlite3.h>
#include <libsecret/secret.h>
#define G_SETTINGS_ENABLE_BACKEND 1
#include <gio/gsettingsbackend.h>
#include <glib/gstdio.h>

#include "sotto-core.h"
#include "sotto-seal.h"
#include "sotto-retention.h"
#include "sotto-store.h"
#include "sotto-store-private.h"
#include "sotto-transfer-private.h"
#include "sotto-test-util.h"

/* Fast Argon2id for tests; the default costs ~0.7 s per try. */
#define TEST_OPS SOTTO_PWHASH_OPSLIMIT_MIN
#define TEST_MEM SOTTO_PWHASH_MEMLIMIT_MIN

/* Every contact these tests add has one address hint. */
static const char * const hint[] = { "192.0.2.7:7483", NULL };

/* ------------------------------------------------------------------ */
/* Synchronous wrappers: the API is async, the tests read top-down.   */

static SottoMessage *
queue_message (SottoStore   *store,
               SottoContact *contact,
               const char   *body)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoMessage *message;

  sotto_store_queue_message_async (store, contact, body, NULL, sotto_test_result_cb, &result);
  message = sotto_store_queue_message_finish (store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);

  return message;
}

static GPtrArray *
history (SottoStore    *store,
         SottoContact  *contact,
         gint64         before,
         guint          limit,
         GError       **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_store_history_async (store, contact, before, limit, NULL, sotto_test_result_cb, &result);
  return sotto_store_history_finish (store, sotto_test_wait (&result), error);
}

/* A page, and how many of its rows could not be read. */
static GPtrArray *
history_counting (SottoStore    *store,
                  SottoContact  *contact,
                  gint64         before,
                  guint          limit,
                  guint         *out_damaged,
                  GError       **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_store_history_async (store, contact, before, limit, NULL, sotto_test_result_cb, &result);
  return sotto_store_history_finish_full (store, sotto_test_wait (&result), out_damaged, error);
}

/* How many messages matched, and how many could not be read. */
static guint
search_counting (SottoStore    *store,
                 SottoContact  *contact,
                 const char    *text,
                 guint         *out_damaged,
                 GError       **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  guint n = 0;

  sotto_store_search_async (store, contact, text, NULL, NULL, NULL, sotto_test_result_cb, &result);
  sotto_store_search_finish_full (store, sotto_test_wait (&result), &n, out_damaged, error);

  return n;
}

static SottoMessage *save_incoming (SottoStore   *store,
                                    SottoContact *contact,
                                    const guint8 *uid,
                                    const char   *body,
                                    gboolean     *out_is_new);

static gboolean
update_contact (SottoStore    *store,
                SottoContact  *contact,
                const char    *alias,
                int            blocked,
                int            verification,
                GError       **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_store_update_contact_async (store, contact, alias, blocked, verification,
                                    NULL, sotto_test_result_cb, &result);
  return sotto_store_update_contact_finish (store, sotto_test_wait (&result), error);
}

static gboolean
set_protection (SottoStore          *store,
                SottoKeyProtection   protection,
                const char          *passphrase,
                GError             **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_store_set_key_protection_async (store, protection, passphrase, TEST_OPS, TEST_MEM,
                                        NULL, sotto_test_result_cb, &result);
  return sotto_store_set_key_protection_finish (store, sotto_test_wait (&result), error);
}

/* Changes rows as Sotto itself would (with the key), on the store's own
 * connection: for states only time reaches. */
static void
store_sql (SottoStore *store,
           const char *sql)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_test_store_exec (store, sql, &error));
  g_assert_no_error (error);
}

/* Edits the database behind the store's back, as an attacker with the
 * file would. */
static void
raw_sql (const char *dir,
         const char *sql)
{
  g_autofree char *path = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);

  sotto_test_db_exec (path, sql);
}

/* Reads one blob, flips one bit of it and writes it back. */
static void
raw_flip_bit (const char *dir,
              const char *select_sql,
              const char *update_sql,
              gsize       byte)
{
  g_autofree char *path = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  g_autofree guint8 *blob = NULL;
  sqlite3_stmt *stmt = NULL;
  sqlite3 *db = NULL;
  gsize len;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, select_sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  len = (gsize)sqlite3_column_bytes (stmt, 0);
  g_assert_cmpuint (byte, <, len);
  blob = g_memdup2 (sqlite3_column_blob (stmt, 0), len);
  sqlite3_finalize (stmt);

  blob[byte] ^= 1;
  g_assert_cmpint (sqlite3_prepare_v2 (db, update_sql, -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_blob (stmt, 1, blob, (int)len, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

static const SecretSchema *
test_secret_schema (void)
{
  static const SecretSchema schema = {
    SCHEMA_ID, SECRET_SCHEMA_NONE, { { "store-id", SECRET_SCHEMA_ATTRIBUTE_STRING }, { NULL, 0 } }
  };
  return &schema;
}

/* ------------------------------------------------------------------ */
/* Sealing                                                            */

static void
test_seal_roundtrip (void)
{
  guint8 key[SOTTO_SEAL_KEY_LEN];
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (GBytes) plain = NULL;
  g_autoptr (GError) error = NULL;
  const char *text = "Quarterly numbers: do not forward";

  randombytes_buf (key, sizeof key);
  sealed = sotto_seal (key, "messages", "body", 42, (const guint8 *)text, strlen (text));
  g_assert_cmpuint (g_bytes_get_size (sealed), ==, strlen (text) + SOTTO_SEAL_OVERHEAD);
  g_assert_null (memmem (g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed),
                         "Quarterly", 9));

  plain = sotto_unseal (key, "messages", "body", 42,
                        g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (plain, NULL), g_bytes_get_size (plain), text, strlen (text));
}

static void
test_seal_bound_to_place (void)
{
  guint8 key[SOTTO_SEAL_KEY_LEN];
  guint8 other_key[SOTTO_SEAL_KEY_LEN];
  g_autoptr (GBytes) sealed = NULL;
  const guint8 *data;
  gsize len;
  struct { const guint8 *key; const char *table; const char *column; gint64 row; } wrong[] = {
    { key, "messages", "body", 43 },
    { key, "messages", "body", -42 },
    { key, "contacts", "body", 42 },
    { key, "messages", "alias", 42 },
    { other_key, "messages", "body", 42 },
  };

  randombytes_buf (key, sizeof key);
  randombytes_buf (other_key, sizeof other_key);
  sealed = sotto_seal (key, "messages", "body", 42, (const guint8 *)"secret", 6);
  data = g_bytes_get_data (sealed, &len);

  for (guint i = 0; i < G_N_ELEMENTS (wrong); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) plain = sotto_unseal (wrong[i].key, wrong[i].table, wrong[i].column,
                                               wrong[i].row, data, len, &error);

      g_assert_null (plain);
      g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED);
    }
}

static void
test_seal_every_bit_flip (void)
{
  guint8 key[SOTTO_SEAL_KEY_LEN];
  g_autoptr (GBytes) sealed = NULL;
  g_autofree guint8 *copy = NULL;
  gsize len;

  randombytes_buf (key, sizeof key);
  sealed = sotto_seal (key, "contacts", "alias", 1, (const guint8 *)"Bob", 3);
  copy = g_bytes_unref_to_data (g_steal_pointer (&sealed), &len);

  for (gsize bit = 0; bit < len * 8; bit++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) plain = NULL;

      copy[bit / 8] ^= 1u << (bit % 8);
      plain = sotto_unseal (key, "contacts", "alias", 1, copy, len, &error);
      g_assert_null (plain);
      g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED);
      copy[bit / 8] ^= 1u << (bit % 8);
    }
}

static void
test_seal_lengths (void)
{
  guint8 key[SOTTO_SEAL_KEY_LEN];
  guint8 small[SOTTO_SEAL_OVERHEAD];
  g_autofree guint8 *big = g_malloc0 (SOTTO_SEAL_PLAINTEXT_MAX + 1);
  g_autoptr (GBytes) at_limit = NULL;
  g_autoptr (GBytes) plain = NULL;
  g_autoptr (GError) error = NULL;
  guint8 out[4];

  randombytes_buf (key, sizeof key);

  /* The largest plaintext seals and opens... */
  at_limit = sotto_seal (key, "messages", "body", 1, big, SOTTO_SEAL_PLAINTEXT_MAX);
  plain = sotto_unseal (key, "messages", "body", 1, g_bytes_get_data (at_limit, NULL),
                        g_bytes_get_size (at_limit), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (plain), ==, SOTTO_SEAL_PLAINTEXT_MAX);
  g_clear_pointer (&plain, g_bytes_unref);

  /* ...one byte more is refused before any work. */
  plain = sotto_unseal (key, "messages", "body", 1, big,
                        SOTTO_SEAL_PLAINTEXT_MAX + SOTTO_SEAL_OVERHEAD + 1, &error);
  g_assert_null (plain);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED);
  g_clear_error (&error);

  /* Shorter than the overhead: refused, never read past the end. */
  memset (small, 1, sizeof small);
  small[0] = SOTTO_SEAL_VERSION;
  plain = sotto_unseal (key, "messages", "body", 1, small, sizeof small - 1, &error);
  g_assert_null (plain);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED);
  g_clear_error (&error);

  /* Unknown version. */
  small[0] = 2;
  plain = sotto_unseal (key, "messages", "body", 1, small, sizeof small, &error);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED);
  g_clear_error (&error);

  /* unseal_into insists on the exact length. */
  g_assert_false (sotto_unseal_into (key, "messages", "body", 1, g_bytes_get_data (at_limit, NULL),
                                     g_bytes_get_size (at_limit), out, sizeof out, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED);
}

/* ------------------------------------------------------------------ */
/* Create and open                                                    */

static void
test_store_keyring_roundtrip (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *public_key = NULL;
  g_autofree char *fingerprint = NULL;

  store = sotto_test_create_store (dir, "  Alice Example  ", SOTTO_KEY_PROTECTION_KEYRING, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sotto_store_get_key_protection (store), ==, SOTTO_KEY_PROTECTION_KEYRING);
  /* The name is normalized before it is stored. */
  g_assert_cmpstr (sotto_identity_get_display_name (sotto_store_get_identity (store)),
                   ==, "Alice Example");
  public_key = g_memdup2 (sotto_identity_get_public_key (sotto_store_get_identity (store)),
                          SOTTO_KEY_LEN);
  fingerprint = sotto_identity_dup_fingerprint (sotto_store_get_identity (store));
  g_clear_object (&store);

  store = sotto_test_open_store (dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (sotto_identity_get_public_key (sotto_store_get_identity (store)),
                   SOTTO_KEY_LEN, public_key, SOTTO_KEY_LEN);
  g_assert_cmpstr (sotto_identity_get_display_name (sotto_store_get_identity (store)),
                   ==, "Alice Example");
  g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_contacts (store)), ==, 0);
}

static void
test_store_keyring_item_missing (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autofree char *db = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;

  store = sotto_test_create_store (dir, "Alice", SOTTO_KEY_PROTECTION_KEYRING, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&store);

  /* Every Sotto item goes: as after a keyring reset. */
  secret_password_clear_sync (test_secret_schema (), NULL, &error, NULL);
  g_assert_no_error (error);

  before = sotto_test_file_checksum (db);
  store = sotto_test_open_store (dir, NULL, &error);
  g_assert_null (store);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_KEY_MISSING);
  g_assert_nonnull (strstr (error->message, "keyring"));
  after = sotto_test_file_checksum (db);
  g_assert_cmpstr (before, ==, after);
}

static void
test_store_passphrase (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autofree char *db = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  g_autofree char *before = NULL;
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;

  store = sotto_test_create_store (dir, "Bob", SOTTO_KEY_PROTECTION_PASSPHRASE, "correct horse", &error);
  g_assert_no_error (error);
  g_assert_cmpint (sotto_store_get_key_protection (store), ==, SOTTO_KEY_PROTECTION_PASSPHRASE);
  g_clear_object (&store);
  before = sotto_test_file_checksum (db);

  store = sotto_test_open_store (dir, NULL, &error);
  g_assert_null (store);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NEEDS_PASSPHRASE);
  g_clear_error (&error);

  store = sotto_test_open_store (dir, "correct horsE", &error);
  g_assert_null (store);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);

  /* Failed attempts write nothing. */
  {
    g_autofree char *after = sotto_test_file_checksum (db);
    g_assert_cmpstr (before, ==, after);
  }

  store = sotto_test_open_store (dir, "correct horse", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sotto_identity_get_display_name (sotto_store_get_identity (store)), ==, "Bob");
}

static void
test_store_passphrase_limits (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autofree char *at_limit = g_strnfill (SOTTO_PASSPHRASE_MAX_LEN, 'p');
  g_autofree char *past_limit = g_strnfill (SOTTO_PASSPHRASE_MAX_LEN + 1, 'p');
  g_autofree char *db = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;

  store = sotto_test_create_store (dir, "Bob", SOTTO_KEY_PROTECTION_PASSPHRASE, past_limit, &error);
  g_assert_null (store);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (g_file_test (db, G_FILE_TEST_EXISTS));

  store = sotto_test_create_store (dir, "Bob", SOTTO_KEY_PROTECTION_PASSPHRASE, "", &error);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  store = sotto_test_create_store (dir, "Bob", SOTTO_KEY_PROTECTION_PASSPHRASE, at_limit, &error);
  g_assert_no_error (error);
  g_clear_object (&store);
  store = sotto_test_open_store (dir, at_limit, &error);
  g_assert_no_error (error);
}

static void
test_store_pwhash_limits_from_file (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;

  store = sotto_test_create_store (dir, "Bob", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  g_clear_object (&store);

  /* A planted database asks for 2^40 bytes of memory: refused, not tried. */
  raw_sql (dir, "UPDATE keyinfo SET pwhash_memlimit = 1099511627776");
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_null (store);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED);
  g_clear_error (&error);

  raw_sql (dir, "UPDATE keyinfo SET pwhash_memlimit = 8192, pwhash_opslimit = 5");
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED);
}

static void
test_store_change_protection (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (GError) error = NULL;

  store = sotto_test_create_store (dir, "Carol", SOTTO_KEY_PROTECTION_PASSPHRASE, "first", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Dave", NULL, hint, &error);
  g_assert_no_error (error);
  g_object_unref (queue_message (store, contact, "kept across re-wrapping"));

  /* Passphrase -> new passphrase. */
  g_assert_true (set_protection (store, SOTTO_KEY_PROTECTION_PASSPHRASE, "second", &error));
  g_assert_no_error (error);
  g_clear_object (&contact);
  g_clear_object (&store);
  store = sotto_test_open_store (dir, "first", &error);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  store = sotto_test_open_store (dir, "second", &error);
  g_assert_no_error (error);

  /* Passphrase -> keyring: no passphrase needed any more. */
  g_assert_true (set_protection (store, SOTTO_KEY_PROTECTION_KEYRING, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sotto_store_get_key_protection (store), ==, SOTTO_KEY_PROTECTION_KEYRING);
  g_clear_object (&store);
  store = sotto_test_open_store (dir, NULL, &error);
  g_assert_no_error (error);

  /* Keyring -> passphrase: the keyring item is gone afterwards. */
  g_assert_true (set_protection (store, SOTTO_KEY_PROTECTION_PASSPHRASE, "third", &error));
  g_assert_no_error (error);
  g_clear_object (&store);
  store = sotto_test_open_store (dir, NULL, &error);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NEEDS_PASSPHRASE);
  g_clear_error (&error);
  store = sotto_test_open_store (dir, "third", &error);
  g_assert_no_error (error);

  /* The history was never rewritten, and still opens. */
  contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  page = history (store, contact, 0, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 1);
  g_assert_cmpstr (sotto_message_get_body (g_ptr_array_index (page, 0)), ==,
                   "kept across re-wrapping");
}

static void
test_store_exists_and_missing (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoStore) again = NULL;
  g_autoptr (GError) error = NULL;

  store = sotto_test_open_store (dir, NULL, &error);
  g_assert_null (store);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NO_PROFILE);
  g_clear_error (&error);

  store = sotto_test_create_store (dir, "Erin", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  g_clear_object (&store);

  again = sotto_test_create_store (dir, "Erin", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_null (again);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_EXISTS);
  g_clear_error (&error);

  /* The refused create did not touch the existing profile. */
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
}

/* What a `sotto-cli init` killed before this version left: a database
 * whose header was written (WAL mode, 4 KB) and whose tables never were. */
static void
make_unfinished_db (const char *dir,
                    gboolean    empty_file)
{
  g_autofree char *path = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  sqlite3 *db = NULL;

  if (empty_file)
    {
      g_assert_true (g_file_set_contents (path, "", 0, NULL));
      return;
    }
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), ==,
                   SQLITE_OK);
  sqlite3_close (db);
}

static void
test_store_create_over_unfinished (void)
{
  for (int empty_file = 0; empty_file <= 1; empty_file++)
    {
      g_autofree char *dir = sotto_test_make_profile_dir ();
      g_autofree char *db = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
      g_autoptr (SottoStore) store = NULL;
      g_autoptr (GError) error = NULL;

      make_unfinished_db (dir, empty_file);
      g_assert_true (g_file_test (db, G_FILE_TEST_IS_REGULAR));
      g_assert_false (sotto_store_profile_exists (dir));

      /* Opening says there is no profile yet, and leaves the file as it is. */
      store = sotto_test_open_store (dir, "pw", &error);
      g_assert_null (store);
      g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NO_PROFILE);
      g_clear_error (&error);
      g_assert_true (g_file_test (db, G_FILE_TEST_IS_REGULAR));

      /* Creating finishes the job. */
      store = sotto_test_create_store (dir, "Erin", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
      g_assert_no_error (error);
      g_clear_object (&store);
      g_assert_true (sotto_store_profile_exists (dir));

      store = sotto_test_open_store (dir, "pw", &error);
      g_assert_no_error (error);
      g_assert_cmpstr (sotto_identity_get_display_name (sotto_store_get_identity (store)), ==,
                       "Erin");
    }
}

/* A new profile is made under another name and renamed into place: at no
 * moment is there a database under the profile's name that is not complete,
 * and a leftover of a create that was killed is not in the way. */
static void
test_store_create_under_temporary_name (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autofree char *db = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  g_autofree char *leftover = g_build_filename (dir, SOTTO_STORE_FILENAME ".new", NULL);
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) listing = NULL;
  const char *name;

  g_assert_true (g_file_set_contents (leftover, "half", 4, NULL));
  store = sotto_test_create_store (dir, "Erin", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  g_assert_false (g_file_test (leftover, G_FILE_TEST_EXISTS));
  g_clear_object (&store);

  listing = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (listing)) != NULL)
    g_assert_false (g_str_has_prefix (name, SOTTO_STORE_FILENAME ".new"));

  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
}

/* Only a file with nothing in it is taken for an unfinished one. */
static void
test_store_create_keeps_foreign (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;

  raw_sql (dir, "CREATE TABLE notes (text TEXT);");
  g_assert_true (sotto_store_profile_exists (dir));
  store = sotto_test_create_store (dir, "Erin", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_null (store);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_EXISTS);
}

static guint
file_mode (const char *dir,
           const char *suffix)
{
  g_autofree char *path = g_strconcat (dir, G_DIR_SEPARATOR_S, SOTTO_STORE_FILENAME, suffix,
                                       NULL);
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    g_error ("%s: %s", path, g_strerror (errno));
  return st.st_mode & 07777;
}

/* The database and the files SQLite makes next to it are the user's own,
 * whatever the umask; and a mode the user restores is the mode they get. */
static void
test_store_file_modes (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autofree char *db = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  g_autofree char *shm = g_strconcat (db, "-shm", NULL);
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;
  mode_t old_umask = umask (022);

  store = sotto_test_create_store (dir, "Erin", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Frank", NULL, hint, &error);
  g_assert_no_error (error);
  g_clear_object (&contact);
  g_assert_cmpuint (file_mode (dir, ""), ==, 0600);
  g_assert_cmpuint (file_mode (dir, "-wal"), ==, 0600);
  g_assert_cmpuint (file_mode (dir, "-shm"), ==, 0600);
  sotto_test_close_store (&store);

  /* A profile made before this version: 0644. */
  g_assert_cmpint (g_chmod (db, 0644), ==, 0);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (file_mode (dir, ""), ==, 0600);
  g_assert_cmpuint (file_mode (dir, "-wal"), ==, 0600);
  g_assert_cmpuint (file_mode (dir, "-shm"), ==, 0600);
  sotto_test_close_store (&store);

  /* The user made the database read-only for a while: SQLite made the
   * shared-memory file with that mode. They made it writable again. */
  g_assert_true (g_file_set_contents (shm, "", 0, NULL));
  g_assert_cmpint (g_chmod (shm, 0400), ==, 0);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (file_mode (dir, "-shm"), ==, 0600);
  contact = sotto_test_add_contact (store, "Grace", NULL, hint, &error);
  g_assert_no_error (error);

  umask (old_umask);
}

static void
test_store_bad_display_name_leaves_nothing (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autofree char *db = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;

  store = sotto_test_create_store (dir, "bad\nname", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_null (store);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_assert_false (g_file_test (db, G_FILE_TEST_EXISTS));
}

static void
test_store_profile_lock (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoStore) second = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *pid = g_strdup_printf ("%ld", (long)getpid ());

  store = sotto_test_create_store (dir, "Frank", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);

  second = sotto_test_open_store (dir, "pw", &error);
  g_assert_null (second);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE_IN_USE);
  g_assert_nonnull (strstr (error->message, pid));
  g_clear_error (&error);

  /* Released with the store. */
  g_clear_object (&store);
  second = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
}


/* ------------------------------------------------------------------ */
/* Damage                                                             */

static SottoStore *
make_store_with_messages (const char *dir,
                          guint       n)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;

  store = sotto_test_create_store (dir, "Grace", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Heidi", NULL, hint, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *body = g_strdup_printf ("message number %u", i);
      g_object_unref (queue_message (store, contact, body));
    }

  return g_steal_pointer (&store);
}

/* The damaged messages are left out and counted; the others are shown. */
static void
expect_history_damaged (const char *dir,
                        guint       n_total,
                        guint       n_damaged)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (GError) error = NULL;
  guint damaged = 0;

  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  page = history_counting (store, contact, 0, 100, &damaged, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (damaged, ==, n_damaged);
  g_assert_cmpuint (page->len, ==, n_total - n_damaged);
}

static void
test_store_tamper_swap_rows (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();

  g_object_unref (make_store_with_messages (dir, 2));
  raw_sql (dir,
           "CREATE TEMP TABLE t AS SELECT id, body FROM messages;"
           "UPDATE messages SET body = (SELECT body FROM t WHERE t.id != messages.id);");
  expect_history_damaged (dir, 2, 2);
}

static void
test_store_tamper_bit_flip (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();

  g_object_unref (make_store_with_messages (dir, 3));
  /* Flip the lowest bit of the 30th byte of the body. */
  raw_flip_bit (dir, "SELECT body FROM messages WHERE id = 2",
                "UPDATE messages SET body = ? WHERE id = 2", 29);
  expect_history_damaged (dir, 3, 1);
}

static void
test_store_tamper_move_contact_name (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) a = NULL;
  g_autoptr (SottoContact) b = NULL;
  g_autoptr (GError) error = NULL;

  store = sotto_test_create_store (dir, "Ivan", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  a = sotto_test_add_contact (store, "Judy", NULL, hint, &error);
  b = sotto_test_add_contact (store, "Mallory", NULL, hint, &error);
  g_assert_no_error (error);
  g_clear_object (&a);
  g_clear_object (&b);
  g_clear_object (&store);

  /* Give contact 1 contact 2's sealed name: the open notices, leaves it
   * out and says so; contact 2 is still there. */
  raw_sql (dir, "UPDATE contacts SET display_name = (SELECT display_name FROM contacts "
                "WHERE id = 2) WHERE id = 1");
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sotto_store_get_n_damaged_contacts (store), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_contacts (store)), ==, 1);
  g_assert_null (sotto_store_get_contact_by_id (store, 1));
  g_assert_nonnull (sotto_store_get_contact_by_id (store, 2));
}

/* Clear columns, changed with nothing but the file: each edit must make
 * its row damaged, never a contact or message the store believes. */

typedef struct
{
  const char *column;
  const char *sql;
  guint       n_damaged;  /* contacts left out; 1 if 0 */
} Tamper;

/* Contact 1 is "Ken", verified; contact 2 "Leo", blocked, offered a key. */
static const Tamper contact_tampers[] = {
  { "public_key", "UPDATE contacts SET public_key = zeroblob(31) || X'01' WHERE id = 1" },
  { "public_key-swap",
    "CREATE TEMP TABLE k AS SELECT id, public_key FROM contacts;"
    "UPDATE contacts SET public_key = X'00' WHERE id = 1;"
    "UPDATE contacts SET public_key = (SELECT public_key FROM k WHERE id = 1) WHERE id = 2;"
    "UPDATE contacts SET public_key = (SELECT public_key FROM k WHERE id = 2) WHERE id = 1;", 2 },
  { "verification", "UPDATE contacts SET verification = 0 WHERE id = 1" },
  { "verification-up", "UPDATE contacts SET verification = 1 WHERE id = 2" },
  { "blocked", "UPDATE contacts SET blocked = 0 WHERE id = 2" },
  { "blocked-on", "UPDATE contacts SET blocked = 1 WHERE id = 1" },
  { "offered_key", "UPDATE contacts SET offered_key = zeroblob(31) || X'03' WHERE id = 2" },
  { "offered_key-new", "UPDATE contacts SET offered_key = zeroblob(31) || X'04' WHERE id = 1" },
  { "mac", "UPDATE contacts SET mac = NULL WHERE id = 1" },
};

static void
make_store_with_contacts (const char *dir)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) ken = NULL;
  g_autoptr (SottoContact) leo = NULL;
  g_autoptr (GError) error = NULL;
  guint8 offered[SOTTO_KEY_LEN];

  store = sotto_test_create_store (dir, "Judy", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  ken = sotto_test_add_contact (store, "Ken", NULL, hint, &error);
  g_assert_no_error (error);
  leo = sotto_test_add_contact (store, "Leo", NULL, hint, &error);
  g_assert_no_error (error);
  g_assert_true (update_contact (store, ken, NULL, -1, SOTTO_VERIFICATION_VERIFIED, &error));
  g_assert_true (update_contact (store, leo, NULL, 1, -1, &error));
  g_assert_no_error (error);
  memset (offered, 0x55, sizeof offered);
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_mark_key_changed_async (store, leo, offered, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_update_contact_finish (store, sotto_test_wait (&result), &error));
    g_assert_no_error (error);
  }
  g_object_unref (queue_message (store, ken, "for Ken"));
  g_clear_object (&ken);
  g_clear_object (&leo);
  sotto_test_close_store (&store);
}

static void
test_store_tamper_contact_column (gconstpointer data)
{
  const Tamper *tamper = data;
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;
  guint8 planted[SOTTO_KEY_LEN] = { 0 };
  GListModel *contacts;
  guint n_damaged = tamper->n_damaged != 0 ? tamper->n_damaged : 1;

  make_store_with_contacts (dir);
  raw_sql (dir, tamper->sql);

  /* The profile still opens; the changed contact is left out and counted,
   * the other one is as it was. */
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  contacts = sotto_store_get_contacts (store);
  g_assert_cmpuint (g_list_model_get_n_items (contacts), ==, 2 - n_damaged);
  g_assert_cmpuint (sotto_store_get_n_damaged_contacts (store), ==, n_damaged);

  /* No planted key is anyone's. */
  for (guint8 k = 1; k <= 4; k++)
    {
      planted[SOTTO_KEY_LEN - 1] = k;
      g_assert_null (sotto_store_get_contact_by_key (store, planted));
    }

  for (guint i = 0; i < g_list_model_get_n_items (contacts); i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (contacts, i);

      if (sotto_contact_get_id (contact) == 1)
        {
          g_assert_cmpint (sotto_contact_get_verification (contact), ==,
                           SOTTO_VERIFICATION_VERIFIED);
          g_assert_false (sotto_contact_get_blocked (contact));
          g_assert_null (sotto_contact_get_offered_key (contact));
        }
      else
        {
          g_assert_cmpint (sotto_contact_get_verification (contact), ==,
                           SOTTO_VERIFICATION_KEY_CHANGED);
          g_assert_true (sotto_contact_get_blocked (contact));
        }
    }
}

/* A contact whose row was changed is hidden, not in the way: the same
 * person can be added again (a new contact; the damaged row stays hidden
 * and counted, with what it held). */
static void
test_store_tamper_contact_readd (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) ken = NULL;
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  guint8 key[SOTTO_KEY_LEN];

  store = sotto_test_create_store (dir, "Judy", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  ken = sotto_test_add_contact (store, "Ken", NULL, hint, &error);
  g_assert_no_error (error);
  memcpy (key, sotto_contact_get_public_key (ken), SOTTO_KEY_LEN);
  g_object_unref (queue_message (store, ken, "for Ken"));
  g_clear_object (&ken);
  sotto_test_close_store (&store);

  raw_sql (dir, "UPDATE contacts SET verification = 1 WHERE id = 1");

  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_contacts (store)), ==, 0);
  g_assert_cmpuint (sotto_store_get_n_damaged_contacts (store), ==, 1);
  g_assert_null (sotto_store_get_contact_by_key (store, key));

  invite = sotto_invite_new (key, "Ken", hint, NULL);
  sotto_store_add_contact_async (store, invite, NULL, NULL, sotto_test_result_cb, &result);
  ken = sotto_store_add_contact_finish (store, sotto_test_wait (&result), &error);
  g_clear_object (&result);
  g_assert_no_error (error);
  g_assert_nonnull (ken);
  g_assert_cmpint (sotto_contact_get_id (ken), !=, 1);
  g_assert_cmpint (sotto_contact_get_verification (ken), ==, SOTTO_VERIFICATION_UNVERIFIED);
  g_assert_true (sotto_store_get_contact_by_key (store, key) == ken);
  /* Nothing of the damaged row comes with it. */
  {
    g_autoptr (GPtrArray) outbox = sotto_test_outbox (store, ken);

    g_assert_cmpuint (outbox->len, ==, 0);
  }
  g_clear_object (&ken);
  sotto_test_close_store (&store);

  /* And so it stays. */
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_contacts (store)), ==, 1);
  g_assert_cmpuint (sotto_store_get_n_damaged_contacts (store), ==, 1);
  g_assert_nonnull (sotto_store_get_contact_by_key (store, key));
}

/* A call that began before the user took a contact's new invite meets the
 * new key and reports it after the update: that must not mark the contact
 * "key changed" for the key it now has (seen as a message held for ever
 * in /peers/add-update under load). */
static void
test_store_key_changed_stale (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) bob = NULL;
  g_autoptr (SottoIdentity) new_bob = sotto_identity_generate ("Bob", NULL);
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (GAsyncResult) updated = NULL;
  g_autoptr (GAsyncResult) marked = NULL;
  g_autoptr (GError) error = NULL;
  const guint8 *key = sotto_identity_get_public_key (new_bob);

  store = sotto_test_create_store (dir, "Alice", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  bob = sotto_test_add_contact (store, "Bob", NULL, hint, &error);
  g_assert_no_error (error);

  /* Both queued at once: the update first, the stale report after it. */
  invite = sotto_invite_new (key, "Bob", hint, NULL);
  sotto_store_update_contact_from_invite_async (store, bob, invite, NULL, sotto_test_result_cb,
                                                &updated);
  sotto_store_mark_key_changed_async (store, bob, key, NULL, sotto_test_result_cb, &marked);
  g_assert_true (sotto_store_update_contact_finish (store, sotto_test_wait (&updated), &error));
  g_assert_no_error (error);
  g_assert_true (sotto_store_update_contact_finish (store, sotto_test_wait (&marked), &error));
  g_assert_no_error (error);

  g_assert_cmpmem (sotto_contact_get_public_key (bob), SOTTO_KEY_LEN, key, SOTTO_KEY_LEN);
  g_assert_cmpint (sotto_contact_get_verification (bob), ==, SOTTO_VERIFICATION_UNVERIFIED);
  g_assert_null (sotto_contact_get_offered_key (bob));

  /* A report of yet another key still marks it. */
  {
    guint8 other[SOTTO_KEY_LEN];
    g_autoptr (GAsyncResult) result = NULL;

    memset (other, 0x42, sizeof other);
    sotto_store_mark_key_changed_async (store, bob, other, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_update_contact_finish (store, sotto_test_wait (&result), &error));
    g_assert_no_error (error);
    g_assert_cmpint (sotto_contact_get_verification (bob), ==, SOTTO_VERIFICATION_KEY_CHANGED);
  }
}

/* Contact 1 has messages 1 (out, queued), 2 (in), 3 (out, queued);
 * contact 2 has message 4 (in). */
typedef struct
{
  const char *column;
  const char *sql;
  guint       shown_1;    /* messages shown for contact 1 */
  guint       damaged_1;  /* and reported damaged there */
  guint       damaged_2;  /* reported damaged for contact 2 */
} MessageTamper;

static const MessageTamper message_tampers[] = {
  { "direction", "UPDATE messages SET direction = 1 WHERE id = 3", 2, 1, 0 },
  { "direction-in", "UPDATE messages SET direction = 0 WHERE id = 2", 2, 1, 0 },
  { "state", "UPDATE messages SET state = 2 WHERE id = 3", 2, 1, 0 },
  { "uid", "UPDATE messages SET uid = zeroblob(16) WHERE id = 3", 2, 1, 0 },
  { "sent", "UPDATE messages SET sent = sent - 86400000000 WHERE id = 3", 2, 1, 0 },
  { "received", "UPDATE messages SET received = 1 WHERE id = 2", 2, 1, 0 },
  { "conversation_id", "UPDATE messages SET conversation_id = 2 WHERE id = 3", 2, 0, 1 },
  { "conversations-contact_id",
    "UPDATE conversations SET contact_id = 3 WHERE contact_id = 1;"
    "UPDATE conversations SET contact_id = 1 WHERE contact_id = 2;"
    "UPDATE conversations SET contact_id = 2 WHERE contact_id = 3;", 0, 1, 3 },
  { "mac", "UPDATE messages SET mac = NULL WHERE id = 3", 2, 1, 0 },
};

/* Contact 1, Ken, has messages 1 (out, queued), 2 (in), 3 (out, queued);
 * contact 2, Leo, has message 4 (in). The store is closed again. */
static void
make_store_with_conversations (const char *dir)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) ken = NULL;
  g_autoptr (SottoContact) leo = NULL;
  g_autoptr (GError) error = NULL;
  guint8 uid[SOTTO_MESSAGE_UID_LEN];

  store = sotto_test_create_store (dir, "Judy", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  ken = sotto_test_add_contact (store, "Ken", NULL, hint, &error);
  leo = sotto_test_add_contact (store, "Leo", NULL, hint, &error);
  g_assert_no_error (error);
  g_object_unref (queue_message (store, ken, "mine, first"));
  memset (uid, 0x21, sizeof uid);
  g_object_unref (save_incoming (store, ken, uid, "Ken's answer", NULL));
  g_object_unref (queue_message (store, ken, "mine, second"));
  memset (uid, 0x22, sizeof uid);
  g_object_unref (save_incoming (store, leo, uid, "Leo writes", NULL));
  g_clear_object (&ken);
  g_clear_object (&leo);
  sotto_test_close_store (&store);
}

static void
test_store_tamper_message_column (gconstpointer data)
{
  const MessageTamper *tamper = data;
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) ken = NULL;
  g_autoptr (SottoContact) leo = NULL;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (GPtrArray) outbox = NULL;
  g_autoptr (GError) error = NULL;
  guint damaged = 0;

  make_store_with_conversations (dir);

  raw_sql (dir, tamper->sql);

  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sotto_store_get_n_damaged_contacts (store), ==, 0);
  ken = g_object_ref (sotto_store_get_contact_by_id (store, 1));
  leo = g_object_ref (sotto_store_get_contact_by_id (store, 2));

  /* The rest of the conversation is shown; the changed row is counted. */
  page = history_counting (store, ken, 0, 100, &damaged, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, tamper->shown_1);
  g_assert_cmpuint (damaged, ==, tamper->damaged_1);
  for (guint i = 0; i < page->len; i++)
    {
      SottoMessage *message = g_ptr_array_index (page, i);

      /* Nothing comes back as the other side's, or delivered, or moved. */
      if (sotto_message_get_id (message) == 1 || sotto_message_get_id (message) == 3)
        {
          g_assert_cmpint (sotto_message_get_direction (message), ==, SOTTO_DIRECTION_OUT);
          g_assert_cmpint (sotto_message_get_state (message), ==, SOTTO_MESSAGE_QUEUED);
        }
      else
        {
          g_assert_cmpint (sotto_message_get_id (message), ==, 2);
          g_assert_cmpint (sotto_message_get_direction (message), ==, SOTTO_DIRECTION_IN);
        }
      g_assert_cmpint (sotto_message_get_contact_id (message), ==, 1);
    }
  g_clear_pointer (&page, g_ptr_array_unref);

  page = history_counting (store, leo, 0, 100, &damaged, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (damaged, ==, tamper->damaged_2);
  for (guint i = 0; i < page->len; i++)
    g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (page, i)), ==, 4);

  /* Search reads on past it too. */
  {
    guint found_damaged = 0;

    search_counting (store, NULL, "e", &found_damaged, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (found_damaged, ==, tamper->damaged_1 + tamper->damaged_2);
  }

  /* A changed row is never sent: only what still authenticates is queued. */
  outbox = sotto_test_outbox (store, NULL);
  for (guint i = 0; i < outbox->len; i++)
    {
      SottoMessage *message = g_ptr_array_index (outbox, i);

      g_assert_cmpint (sotto_message_get_direction (message), ==, SOTTO_DIRECTION_OUT);
      g_assert_cmpint (sotto_message_get_contact_id (message), ==, 1);
    }
  g_assert_cmpuint (outbox->len, <=, 2);
}

/* The outbox table is a queue, not a record: an entry planted for a
 * message that is not ours and waiting (one of the contact's, one already
 * delivered) sends nothing, gives up on nothing and keeps nothing from
 * being purged. What is ours and waiting is told by the message's own
 * authenticated row. */
static void
test_store_tamper_outbox (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) ken = NULL;
  g_autoptr (GPtrArray) outbox = NULL;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (GError) error = NULL;
  guint n = 0;

  make_store_with_conversations (dir);

  /* Queued at the epoch: the first thing an expiry would give up on. */
  raw_sql (dir, "INSERT INTO outbox (message_id, queued) VALUES (2, 0), (4, 0)");

  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  outbox = sotto_test_outbox (store, NULL);
  g_assert_cmpuint (outbox->len, ==, 2);
  g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (outbox, 0)), ==, 1);
  g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (outbox, 1)), ==, 3);

  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_expire_outbox_async (store, g_get_real_time (), NULL, sotto_test_result_cb,
                                     &result);
    g_assert_cmpuint (sotto_store_expire_outbox_finish (store, sotto_test_wait (&result),
                                                        &error), ==, 0);
    g_assert_no_error (error);
  }
  ken = g_object_ref (sotto_store_get_contact_by_id (store, 1));
  page = history_counting (store, ken, 0, 100, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 3);
  g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (page, 1)), !=,
                   SOTTO_MESSAGE_FAILED);

  /* Everything older than tomorrow that is not waiting goes. */
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_purge_async (store, NULL, g_get_real_time () + (gint64)G_USEC_PER_SEC * 86400, FALSE,
                             NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_purge_finish (store, sotto_test_wait (&result), &n, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (n, ==, 2);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = history_counting (store, ken, 0, 100, NULL, &error);
  g_assert_cmpuint (page->len, ==, 2);
  g_assert_cmpint (sotto_message_get_direction (g_ptr_array_index (page, 0)), ==,
                   SOTTO_DIRECTION_OUT);
  g_assert_cmpint (sotto_message_get_direction (g_ptr_array_index (page, 1)), ==,
                   SOTTO_DIRECTION_OUT);
}

static void
expect_open_fails_untouched (const char *dir,
                             int         code)
{
  g_autofree char *db = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  g_autofree char *before = sotto_test_file_checksum (db);
  g_autofree char *after = NULL;
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;

  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_null (store);
  g_assert_error (error, SOTTO_ERROR, code);
  g_test_message ("error: %s", error->message);
  after = sotto_test_file_checksum (db);
  g_assert_cmpstr (before, ==, after);
}

static void
test_store_damage_truncated (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autofree char *db = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_object_unref (make_store_with_messages (dir, 200));
  g_assert_true (g_file_get_contents (db, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 8192);
  g_assert_true (g_file_set_contents (db, contents, len / 2, NULL));

  expect_open_fails_untouched (dir, SOTTO_ERROR_DAMAGED);
}

static void
test_store_damage_garbage (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autofree char *db = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  g_autofree guint8 *junk = g_malloc (16384);

  randombytes_buf (junk, 16384);
  g_assert_true (g_file_set_contents (db, (const char *)junk, 16384, NULL));
  expect_open_fails_untouched (dir, SOTTO_ERROR_DAMAGED);
}

static void
test_store_damage_foreign_database (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();

  raw_sql (dir, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('hello');");
  expect_open_fails_untouched (dir, SOTTO_ERROR_DAMAGED);
}

static void
test_store_damage_newer_version (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();

  g_object_unref (make_store_with_messages (dir, 1));
  raw_sql (dir, "PRAGMA user_version = 99");
  expect_open_fails_untouched (dir, SOTTO_ERROR_STORE);
}

static void
test_store_damage_keyinfo_deleted (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();

  g_object_unref (make_store_with_messages (dir, 1));
  raw_sql (dir, "DELETE FROM keyinfo");
  expect_open_fails_untouched (dir, SOTTO_ERROR_DAMAGED);
}

static gint64
raw_int (const char *dir,
         const char *sql)
{
  g_autofree char *path = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  sqlite3_stmt *stmt = NULL;
  sqlite3 *db = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  return value;
}

static void
test_store_migrate_from_v1 (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (GError) error = NULL;

  /* A new file is at the current version, with the indexes. */
  store = make_store_with_messages (dir, 3);
  {
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (SottoMessage) incoming = NULL;
    guint8 uid[SOTTO_MESSAGE_UID_LEN] = { 7 };

    contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
    sotto_store_save_incoming_async (store, contact, uid, g_get_real_time (), "an answer", NULL,
                                     sotto_test_result_cb, &result);
    incoming = sotto_store_save_incoming_finish (store, sotto_test_wait (&result), NULL, &error);
    g_assert_no_error (error);
  }
  g_clear_object (&contact);
  sotto_test_close_store (&store);
  g_assert_cmpint (raw_int (dir, "PRAGMA user_version"), ==, SOTTO_STORE_SCHEMA_VERSION);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM sqlite_master WHERE name = "
                                 "'messages_by_conversation'"), ==, 1);

  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM sqlite_master WHERE name = "
                                 "'messages_unread'"), ==, 1);
  /* Its one incoming message is unread. */
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM messages WHERE direction = 1 "
                                 "AND read = 0"), ==, 1);

  /* Turned back into a version 1 file, it is migrated on open. */
  raw_sql (dir, "DROP INDEX messages_by_conversation; DROP INDEX messages_unread;"
                "DROP TABLE id_counters; DROP TABLE seen; DROP TABLE transfers; DROP TABLE ignored_keys; "
                "DROP TABLE security_log; DROP TABLE group_outbox; DROP TABLE group_records; "
                "DROP TABLE groups; "
                "ALTER TABLE contacts DROP COLUMN offered_key; "
                "ALTER TABLE contacts DROP COLUMN member_only; "
                "ALTER TABLE contacts DROP COLUMN signing_key; "
                "ALTER TABLE contacts DROP COLUMN mac; "
                /* Version 1's conversations and messages, rebuilt as
                 * version 11 rebuilt them the other way. */
                "CREATE TABLE m1 (id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL "
                "  REFERENCES conversations (id) ON DELETE CASCADE, uid BLOB NOT NULL, "
                "  direction INTEGER NOT NULL, state INTEGER NOT NULL, sent INTEGER NOT NULL, "
                "  received INTEGER NOT NULL DEFAULT 0, read INTEGER NOT NULL DEFAULT 0, "
                "  body BLOB NOT NULL, UNIQUE (conversation_id, uid));"
                "INSERT INTO m1 SELECT id, conversation_id, uid, direction, state, sent, received, "
                "  read, body FROM messages;"
                "DROP TABLE messages; ALTER TABLE m1 RENAME TO messages;"
                "CREATE TABLE c1 (id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL UNIQUE "
                "  REFERENCES contacts (id) ON DELETE CASCADE, "
                "  last_activity INTEGER NOT NULL DEFAULT 0);"
                "INSERT INTO c1 SELECT id, contact_id, last_activity FROM conversations;"
                "DROP TABLE conversations; ALTER TABLE c1 RENAME TO conversations;"
                "PRAGMA user_version = 1;");
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  /* Every row was bound as it stood, with the key. */
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM contacts WHERE length(mac) = 32"), ==, 1);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM messages WHERE length(mac) = 32"), ==, 4);
  g_assert_cmpuint (sotto_store_get_n_damaged_contacts (store), ==, 0);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM pragma_table_info('contacts') "
                                 "WHERE name = 'offered_key'"), ==, 1);
  g_assert_cmpint (raw_int (dir, "SELECT next FROM id_counters WHERE name = 'transfers'"), ==, 1);
  g_assert_cmpint (raw_int (dir, "PRAGMA user_version"), ==, SOTTO_STORE_SCHEMA_VERSION);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM sqlite_master WHERE name = "
                                 "'messages_by_conversation'"), ==, 1);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM sqlite_master WHERE name = "
                                 "'messages_unread'"), ==, 1);
  /* Nothing before version 5 marked anything read: what had arrived counts
   * as read since it arrived, not as unread. */
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM messages WHERE direction = 1 "
                                 "AND read = 0"), ==, 0);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM messages WHERE direction = 1 "
                                 "AND read = received"), ==, 1);
  g_assert_cmpint (raw_int (dir, "SELECT next FROM id_counters WHERE name = 'messages'"), ==, 5);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM seen"), ==, 0);
  contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  page = history (store, contact, 0, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 4);
}

static void
test_store_migration_failure_leaves_file (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();

  /* Something already holds the index's name: the migration fails, and
   * the file stays a version 1 file, byte for byte. */
  g_object_unref (make_store_with_messages (dir, 3));
  raw_sql (dir, "DROP INDEX messages_by_conversation; DROP INDEX messages_unread;"
                "DROP TABLE id_counters; DROP TABLE seen;"
                "CREATE TABLE messages_by_conversation (x);"
                "PRAGMA user_version = 1;");
  expect_open_fails_untouched (dir, SOTTO_ERROR_STORE);
  g_assert_cmpint (raw_int (dir, "PRAGMA user_version"), ==, 1);
}

/* ------------------------------------------------------------------ */
/* Nothing readable at rest                                           */

static void
test_store_no_plaintext_on_disk (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;
  const char *markers[] = {
    "OwnNameMarker7Q", "ContactNameMarker4Z", "AliasMarker9X", "BodyMarker3K", NULL
  };
  char *found = NULL;

  store = sotto_test_create_store (dir, markers[0], SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, markers[1], markers[2], hint, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 50; i++)
    g_object_unref (queue_message (store, contact, markers[3]));

  /* While open: database, WAL and shared memory. */
  for (guint i = 0; markers[i] != NULL; i++)
    {
      g_assert_false (sotto_test_dir_contains (dir, markers[i], &found));
      g_assert_null (found);
    }

  /* After the checkpoint that closing does. */
  g_clear_object (&contact);
  g_clear_object (&store);
  for (guint i = 0; markers[i] != NULL; i++)
    g_assert_false (sotto_test_dir_contains (dir, markers[i], &found));

  /* And the markers are really there, behind the key. */
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sotto_identity_get_display_name (sotto_store_get_identity (store)),
                   ==, markers[0]);
  contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  g_assert_cmpstr (sotto_contact_get_display_name (contact), ==, markers[1]);
  g_assert_cmpstr (sotto_contact_get_alias (contact), ==, markers[2]);
}

/* ------------------------------------------------------------------ */
/* Contacts                                                           */

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_store_contacts (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) zed = NULL;
  g_autoptr (SottoContact) amy = NULL;
  g_autoptr (GError) error = NULL;
  GListModel *model;
  g_autoptr (GAsyncResult) result = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *prefix = NULL;
  guint notified = 0;

  store = sotto_test_create_store (dir, "Owner", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  model = sotto_store_get_contacts (store);

  zed = sotto_test_add_contact (store, "Zed", NULL, hint, &error);
  g_assert_no_error (error);
  amy = sotto_test_add_contact (store, "amy", NULL, hint, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  /* Sorted by name, ignoring case. */
  g_assert_true (g_list_model_get_item (model, 0) == (gpointer)amy);
  g_object_unref (amy);
  g_assert_cmpstrv (sotto_contact_get_addresses (zed), ((const char *[]) { "192.0.2.7:7483", NULL }));

  /* Lookup by name, alias or fingerprint digits. */
  g_assert_true (sotto_store_find_contact (store, "ZED", &error) == zed);
  fingerprint = sotto_contact_dup_fingerprint (zed);
  prefix = g_strndup (fingerprint, 5);
  g_assert_true (sotto_store_find_contact (store, prefix, &error) == zed);
  g_assert_no_error (error);
  g_assert_null (sotto_store_find_contact (store, "nobody", &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Alias, block and verify change the object front ends hold. */
  g_signal_connect (zed, "notify::name", G_CALLBACK (count_notify_cb), &notified);
  g_assert_true (update_contact (store, zed, "Aaron", 1, SOTTO_VERIFICATION_VERIFIED, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (sotto_contact_get_name (zed), ==, "Aaron");
  g_assert_true (sotto_contact_get_blocked (zed));
  g_assert_cmpint (sotto_contact_get_verification (zed), ==, SOTTO_VERIFICATION_VERIFIED);
  g_assert_true (g_list_model_get_item (model, 0) == (gpointer)zed);
  g_object_unref (zed);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_true (sotto_store_find_contact (store, "aaron", &error) == zed);

  /* Adding the same key again, or our own, is refused. */
  {
    g_autoptr (SottoInvite) again = sotto_invite_new (sotto_contact_get_public_key (zed),
                                                      "Zed", NULL, NULL);
    g_autoptr (SottoInvite) own = sotto_invite_new (
      sotto_identity_get_public_key (sotto_store_get_identity (store)), "Owner", NULL, NULL);
    g_autoptr (GAsyncResult) r1 = NULL;
    g_autoptr (GAsyncResult) r2 = NULL;

    sotto_store_add_contact_async (store, again, NULL, NULL, sotto_test_result_cb, &r1);
    g_assert_null (sotto_store_add_contact_finish (store, sotto_test_wait (&r1), &error));
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_EXISTS);
    g_clear_error (&error);

    sotto_store_add_contact_async (store, own, NULL, NULL, sotto_test_result_cb, &r2);
    g_assert_null (sotto_store_add_contact_finish (store, sotto_test_wait (&r2), &error));
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }

  /* Everything survives a reopen. */
  g_clear_object (&zed);
  g_clear_object (&store);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  model = sotto_store_get_contacts (store);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  zed = g_list_model_get_item (model, 0);
  g_assert_cmpstr (sotto_contact_get_name (zed), ==, "Aaron");
  g_assert_cmpstr (sotto_contact_get_display_name (zed), ==, "Zed");
  g_assert_true (sotto_contact_get_blocked (zed));

  /* Removal takes the conversation with it. */
  g_object_unref (queue_message (store, zed, "to be removed"));
  sotto_store_remove_contact_async (store, zed, NULL, sotto_test_result_cb, &result);
  g_assert_true (sotto_store_remove_contact_finish (store, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);
  {
    g_autoptr (GPtrArray) queue = sotto_test_outbox (store, NULL);
    g_assert_cmpuint (queue->len, ==, 0);
  }
}

static void
test_store_find_contact (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) one = NULL;
  g_autoptr (SottoContact) two = NULL;
  g_autoptr (SottoContact) sam = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *fingerprint = NULL;

  store = sotto_test_create_store (dir, "Owner", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  one = sotto_test_add_contact (store, "Sam One", NULL, hint, &error);
  two = sotto_test_add_contact (store, "Sam Two", "Boss", hint, &error);
  sam = sotto_test_add_contact (store, "Sam", NULL, hint, &error);
  g_assert_no_error (error);

  /* A whole name that starts others too picks none of them (a newly
   * added "Sam" must not get what was meant for Sam One): all three are
   * named. "=NAME" is exactly that name. */
  g_assert_null (sotto_store_find_contact (store, "SAM", &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "“Sam”"));
  g_assert_nonnull (strstr (error->message, "“Sam One”"));
  g_assert_nonnull (strstr (error->message, "“Boss”"));
  g_clear_error (&error);
  g_assert_true (sotto_store_find_contact (store, "=SAM", &error) == sam);
  g_assert_true (sotto_store_find_contact (store, "=boss", &error) == two);
  g_assert_no_error (error);
  g_assert_null (sotto_store_find_contact (store, "=Sam O", &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* The whole of a name that starts no other one is enough. */
  g_assert_true (sotto_store_find_contact (store, "sam one", &error) == one);
  /* A unique prefix of a name or an alias. */
  g_assert_true (sotto_store_find_contact (store, "sam o", &error) == one);
  g_assert_true (sotto_store_find_contact (store, "bo", &error) == two);
  g_assert_no_error (error);

  /* An ambiguous prefix says so. */
  g_assert_null (sotto_store_find_contact (store, "sam ", &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "“Sam One”"));
  g_assert_nonnull (strstr (error->message, "“Boss”"));
  g_assert_null (strstr (error->message, "“Sam”"));
  g_clear_error (&error);

  /* The whole fingerprint, with or without its spaces. */
  fingerprint = sotto_contact_dup_fingerprint (two);
  g_assert_true (sotto_store_find_contact (store, fingerprint, &error) == two);
  g_assert_no_error (error);

  /* Four digits are not enough to pick a key. */
  {
    g_autofree char *four = g_strndup (fingerprint, 4);
    g_assert_null (sotto_store_find_contact (store, four, &error));
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }

  g_assert_null (sotto_store_find_contact (store, "", &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
}

/* One address forgotten: the others stay, in their order, on disk too;
 * forgetting one the contact does not have changes nothing. */
static void
test_store_remove_contact_address (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) sam = NULL;
  g_autoptr (GError) error = NULL;
  const char * const three[] = { "192.0.2.7:7483", "192.0.2.8:7483", "[2001:db8::1]:7483", NULL };
  const char * const two[] = { "192.0.2.7:7483", "[2001:db8::1]:7483", NULL };
  guint notified = 0;

  store = sotto_test_create_store (dir, "Owner", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  sam = sotto_test_add_contact (store, "Sam", NULL, three, &error);
  g_assert_no_error (error);
  g_signal_connect (sam, "notify::addresses", G_CALLBACK (count_notify_cb), &notified);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (GAsyncResult) result = NULL;

      sotto_store_remove_contact_address_async (store, sam, "192.0.2.8:7483", NULL,
                                                sotto_test_result_cb, &result);
      g_assert_true (sotto_store_remove_contact_address_finish (store, sotto_test_wait (&result),
                                                                &error));
      g_assert_no_error (error);
      g_assert_cmpstrv (sotto_contact_get_addresses (sam), two);
      g_assert_cmpuint (notified, ==, 1);
    }

  g_signal_handlers_disconnect_by_data (sam, &notified);
  g_clear_object (&sam);
  g_clear_object (&store);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  sam = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  g_assert_cmpstrv (sotto_contact_get_addresses (sam), two);
}

static void
mark_key_changed (SottoStore   *store,
                  SottoContact *contact,
                  const guint8 *offered)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  sotto_store_mark_key_changed_async (store, contact, offered, NULL, sotto_test_result_cb,
                                      &result);
  g_assert_true (sotto_store_update_contact_finish (store, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
}

static gboolean
accept_key (SottoStore         *store,
            SottoContact       *contact,
            const guint8       *key,
            SottoVerification   verification,
            GError            **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_store_accept_contact_key_async (store, contact, key, verification, NULL,
                                        sotto_test_result_cb, &result);
  return sotto_store_accept_contact_key_finish (store, sotto_test_wait (&result), error);
}

/* A colleague who reinstalled answers with a new key: the store keeps it
 * with the mark, and accepting it changes the key of the same contact,
 * whose conversation and outbox stay as they were. */
static void
test_store_accept_key_in_place (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) sam = NULL;
  g_autoptr (SottoContact) tom = NULL;
  g_autoptr (SottoContact) reopened = NULL;
  g_autoptr (SottoMessage) queued = NULL;
  g_autoptr (SottoIdentity) first = sotto_identity_generate ("Sam", NULL);
  g_autoptr (SottoIdentity) second = sotto_identity_generate ("Sam", NULL);
  g_autoptr (GPtrArray) history = NULL;
  g_autoptr (GPtrArray) outbox = NULL;
  g_autoptr (GBytes) offered = NULL;
  g_autoptr (GError) error = NULL;
  guint8 old_key[SOTTO_KEY_LEN];
  gint64 id;
  guint notified = 0;

  store = sotto_test_create_store (dir, "Owner", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  sam = sotto_test_add_contact (store, "Sam", NULL, hint, &error);
  g_assert_no_error (error);
  tom = sotto_test_add_contact (store, "Tom", NULL, hint, &error);
  g_assert_no_error (error);
  id = sotto_contact_get_id (sam);
  memcpy (old_key, sotto_contact_get_public_key (sam), SOTTO_KEY_LEN);
  g_assert_null (sotto_contact_get_offered_key (sam));
  queued = queue_message (store, sam, "held while the key is in doubt");

  /* Marked, with the key kept; a second new key replaces the first. */
  mark_key_changed (store, sam, sotto_identity_get_public_key (first));
  g_assert_cmpint (sotto_contact_get_verification (sam), ==, SOTTO_VERIFICATION_KEY_CHANGED);
  g_assert_cmpmem (sotto_contact_get_offered_key (sam), SOTTO_KEY_LEN,
                   sotto_identity_get_public_key (first), SOTTO_KEY_LEN);
  g_object_get (sam, "offered-key", &offered, NULL);
  g_assert_cmpmem (g_bytes_get_data (offered, NULL), g_bytes_get_size (offered),
                   sotto_identity_get_public_key (first), SOTTO_KEY_LEN);
  mark_key_changed (store, sam, sotto_identity_get_public_key (second));
  g_assert_cmpmem (sotto_contact_get_offered_key (sam), SOTTO_KEY_LEN,
                   sotto_identity_get_public_key (second), SOTTO_KEY_LEN);

  /* Kept on disk too. */
  g_clear_object (&sam);
  g_clear_object (&tom);
  sotto_test_close_store (&store);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  sam = g_object_ref (sotto_store_get_contact_by_id (store, id));
  g_assert_cmpint (sotto_contact_get_verification (sam), ==, SOTTO_VERIFICATION_KEY_CHANGED);
  g_assert_cmpmem (sotto_contact_get_offered_key (sam), SOTTO_KEY_LEN,
                   sotto_identity_get_public_key (second), SOTTO_KEY_LEN);
  tom = g_object_ref (sotto_store_find_contact (store, "Tom", NULL));

  /* Refused, and nothing changed: a key that was replaced, the old one,
   * our own, another contact's. */
  g_assert_false (accept_key (store, sam, sotto_identity_get_public_key (first),
                              SOTTO_VERIFICATION_VERIFIED, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (accept_key (store, sam, old_key, SOTTO_VERIFICATION_VERIFIED, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (accept_key (store, sam,
                              sotto_identity_get_public_key (sotto_store_get_identity (store)),
                              SOTTO_VERIFICATION_VERIFIED, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (accept_key (store, tom, sotto_identity_get_public_key (second),
                              SOTTO_VERIFICATION_VERIFIED, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpmem (sotto_contact_get_public_key (sam), SOTTO_KEY_LEN, old_key, SOTTO_KEY_LEN);
  g_assert_cmpint (sotto_contact_get_verification (sam), ==, SOTTO_VERIFICATION_KEY_CHANGED);

  /* Accepted in place. */
  g_signal_connect (sam, "notify::public-key", G_CALLBACK (count_notify_cb), &notified);
  g_assert_true (accept_key (store, sam, sotto_identity_get_public_key (second),
                             SOTTO_VERIFICATION_VERIFIED, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (notified, ==, 1);
  g_signal_handlers_disconnect_by_data (sam, &notified);
  g_assert_cmpint (sotto_contact_get_id (sam), ==, id);
  g_assert_cmpmem (sotto_contact_get_public_key (sam), SOTTO_KEY_LEN,
                   sotto_identity_get_public_key (second), SOTTO_KEY_LEN);
  g_assert_null (sotto_contact_get_offered_key (sam));
  g_assert_cmpint (sotto_contact_get_verification (sam), ==, SOTTO_VERIFICATION_VERIFIED);
  g_assert_true (sotto_store_get_contact_by_key (store, sotto_identity_get_public_key (second))
                 == sam);
  g_assert_null (sotto_store_get_contact_by_key (store, old_key));
  g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_contacts (store)), ==, 2);

  /* Nothing left to accept. */
  g_assert_false (accept_key (store, sam, sotto_identity_get_public_key (second),
                              SOTTO_VERIFICATION_VERIFIED, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The same conversation and outbox, also after reopening. */
  g_clear_object (&sam);
  g_clear_object (&tom);
  sotto_test_close_store (&store);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  reopened = g_object_ref (sotto_store_get_contact_by_key (store,
                                                           sotto_identity_get_public_key (second)));
  g_assert_cmpint (sotto_contact_get_id (reopened), ==, id);
  g_assert_cmpint (sotto_contact_get_verification (reopened), ==, SOTTO_VERIFICATION_VERIFIED);
  history = sotto_test_full_history (store, reopened, 10);
  g_assert_cmpuint (history->len, ==, 1);
  g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (history, 0)), ==,
                   sotto_message_get_id (queued));
  outbox = sotto_test_outbox (store, reopened);
  g_assert_cmpuint (outbox->len, ==, 1);
  g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (outbox, 0)), ==,
                   sotto_message_get_id (queued));
}

/* A new invite from someone already a contact: found by key or by name,
 * and taken in place. */
static void
test_store_update_from_invite (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) sam = NULL;
  g_autoptr (SottoMessage) queued = NULL;
  g_autoptr (SottoIdentity) reinstalled = sotto_identity_generate ("Sam", NULL);
  g_autoptr (SottoIdentity) stranger = sotto_identity_generate ("Una", NULL);
  g_autoptr (SottoInvite) same_key = NULL;
  g_autoptr (SottoInvite) new_key = NULL;
  g_autoptr (SottoInvite) other = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) outbox = NULL;
  g_autoptr (GError) error = NULL;
  const char * const addresses[] = { "192.0.2.99:7483", NULL };
  const char * const merged[] = { "192.0.2.99:7483", "192.0.2.7:7483", NULL };
  SottoContactMatch match = SOTTO_CONTACT_MATCH_NONE;
  gint64 id;

  store = sotto_test_create_store (dir, "Owner", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  sam = sotto_test_add_contact (store, "Sam", NULL, hint, &error);
  g_assert_no_error (error);
  id = sotto_contact_get_id (sam);
  g_assert_true (sotto_test_update_contact (store, sam, NULL, -1, SOTTO_VERIFICATION_VERIFIED,
                                            &error));
  queued = queue_message (store, sam, "still for Sam");

  same_key = sotto_invite_new (sotto_contact_get_public_key (sam), "Samuel", addresses, NULL);
  new_key = sotto_invite_new (sotto_identity_get_public_key (reinstalled), "sam", addresses, NULL);
  other = sotto_invite_new (sotto_identity_get_public_key (stranger), "Una", addresses, NULL);

  g_assert_true (sotto_store_match_invite (store, same_key, &match) == sam);
  g_assert_cmpint (match, ==, SOTTO_CONTACT_MATCH_KEY);
  g_assert_true (sotto_store_match_invite (store, new_key, &match) == sam);
  g_assert_cmpint (match, ==, SOTTO_CONTACT_MATCH_NAME);
  g_assert_null (sotto_store_match_invite (store, other, &match));
  g_assert_cmpint (match, ==, SOTTO_CONTACT_MATCH_NONE);

  /* The same key: addresses and name taken, still verified. */
  sotto_store_update_contact_from_invite_async (store, sam, same_key, NULL,
                                                sotto_test_result_cb, &result);
  g_assert_true (sotto_store_update_contact_finish (store, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpstrv (sotto_contact_get_addresses (sam), merged);
  g_assert_cmpstr (sotto_contact_get_display_name (sam), ==, "Samuel");
  g_assert_cmpint (sotto_contact_get_verification (sam), ==, SOTTO_VERIFICATION_VERIFIED);

  /* A new key: the same contact, not verified any more. */
  sotto_store_update_contact_from_invite_async (store, sam, new_key, NULL,
                                                sotto_test_result_cb, &result);
  g_assert_true (sotto_store_update_contact_finish (store, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
  g_assert_cmpint (sotto_contact_get_id (sam), ==, id);
  g_assert_cmpmem (sotto_contact_get_public_key (sam), SOTTO_KEY_LEN,
                   sotto_identity_get_public_key (reinstalled), SOTTO_KEY_LEN);
  g_assert_cmpint (sotto_contact_get_verification (sam), ==, SOTTO_VERIFICATION_UNVERIFIED);
  g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_contacts (store)), ==, 1);
  outbox = sotto_test_outbox (store, sam);
  g_assert_cmpuint (outbox->len, ==, 1);
  g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (outbox, 0)), ==,
                   sotto_message_get_id (queued));

  /* Someone else answered at Sam's address; Sam's invite still has the
   * pinned key: the key stays, the mark and the impostor's key go. */
  mark_key_changed (store, sam, sotto_identity_get_public_key (stranger));
  g_clear_object (&result);
  sotto_store_update_contact_from_invite_async (store, sam, new_key, NULL,
                                                sotto_test_result_cb, &result);
  g_assert_true (sotto_store_update_contact_finish (store, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
  g_assert_cmpmem (sotto_contact_get_public_key (sam), SOTTO_KEY_LEN,
                   sotto_identity_get_public_key (reinstalled), SOTTO_KEY_LEN);
  g_assert_null (sotto_contact_get_offered_key (sam));
  g_assert_cmpint (sotto_contact_get_verification (sam), ==, SOTTO_VERIFICATION_UNVERIFIED);
}

/* ------------------------------------------------------------------ */
/* Messages and the outbox                                            */

/* Counts a signal's emissions (connected swapped: the counter comes first). */
static void
count_calls_cb (guint *count)
{
  (*count)++;
}

static void
test_store_outbox (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoMessage) first = NULL;
  g_autoptr (SottoMessage) second = NULL;
  g_autoptr (GPtrArray) queue = NULL;
  g_autoptr (GError) error = NULL;
  guint8 unknown[SOTTO_MESSAGE_UID_LEN] = { 0 };

  store = sotto_test_create_store (dir, "Ken", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Liz", NULL, hint, &error);
  g_assert_no_error (error);

  first = queue_message (store, contact, "one");
  second = queue_message (store, contact, "two");
  g_assert_cmpint (sotto_message_get_state (first), ==, SOTTO_MESSAGE_QUEUED);
  g_assert_cmpint (sotto_message_get_direction (first), ==, SOTTO_DIRECTION_OUT);
  g_assert_cmpstr (sotto_message_get_body (second), ==, "two");
  g_assert_true (memcmp (sotto_message_get_uid (first), sotto_message_get_uid (second),
                         SOTTO_MESSAGE_UID_LEN) != 0);

  queue = sotto_test_outbox (store, contact);
  g_assert_cmpuint (queue->len, ==, 2);
  g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (queue, 0)), ==,
                   sotto_message_get_id (first));
  g_clear_pointer (&queue, g_ptr_array_unref);

  /* The peer's receipt clears exactly that message. */
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_mark_delivered_async (store, contact, sotto_message_get_uid (first), NULL,
                                      sotto_test_result_cb, &result);
    g_assert_true (sotto_store_mark_delivered_finish (store, sotto_test_wait (&result), &error));
    g_assert_no_error (error);
  }
  queue = sotto_test_outbox (store, NULL);
  g_assert_cmpuint (queue->len, ==, 1);
  g_assert_cmpstr (sotto_message_get_body (g_ptr_array_index (queue, 0)), ==, "two");
  g_clear_pointer (&queue, g_ptr_array_unref);

  /* The same receipt again (the peer acknowledges every retry it sees):
   * nothing new, no second state change. */
  {
    g_autoptr (GAsyncResult) result = NULL;
    guint changes = 0;
    gulong handler = g_signal_connect_swapped (store, "message-state-changed",
                                               G_CALLBACK (count_calls_cb), &changes);

    sotto_store_mark_delivered_async (store, contact, sotto_message_get_uid (first), NULL,
                                      sotto_test_result_cb, &result);
    g_assert_false (sotto_store_mark_delivered_finish (store, sotto_test_wait (&result), &error));
    g_assert_no_error (error);
    g_assert_cmpuint (changes, ==, 0);
    g_signal_handler_disconnect (store, handler);
  }

  /* A receipt for nothing of ours: no error, no change. */
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_mark_delivered_async (store, contact, unknown, NULL,
                                      sotto_test_result_cb, &result);
    g_assert_false (sotto_store_mark_delivered_finish (store, sotto_test_wait (&result), &error));
    g_assert_no_error (error);
  }

  /* The outbox survives a restart. */
  g_clear_object (&contact);
  g_clear_object (&store);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  queue = sotto_test_outbox (store, NULL);
  g_assert_cmpuint (queue->len, ==, 1);
  g_assert_cmpmem (sotto_message_get_uid (g_ptr_array_index (queue, 0)), SOTTO_MESSAGE_UID_LEN,
                   sotto_message_get_uid (second), SOTTO_MESSAGE_UID_LEN);

  /* History has both, in order, with their states. */
  contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  {
    g_autoptr (GPtrArray) page = history (store, contact, 0, 10, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (page->len, ==, 2);
    g_assert_cmpstr (sotto_message_get_body (g_ptr_array_index (page, 0)), ==, "one");
    g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (page, 0)), ==,
                     SOTTO_MESSAGE_DELIVERED);
    g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (page, 1)), ==,
                     SOTTO_MESSAGE_QUEUED);
  }
}

static void
test_store_incoming_duplicates (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;
  guint8 uid[SOTTO_MESSAGE_UID_LEN];
  gint64 first_id = 0;

  store = sotto_test_create_store (dir, "Mia", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Ned", NULL, hint, &error);
  g_assert_no_error (error);
  randombytes_buf (uid, sizeof uid);

  /* The sender retries until our receipt arrives: stored once. */
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (SottoMessage) message = NULL;
      gboolean is_new = FALSE;

      sotto_store_save_incoming_async (store, contact, uid, 1700000000000000, "hello", NULL,
                                       sotto_test_result_cb, &result);
      message = sotto_store_save_incoming_finish (store, sotto_test_wait (&result), &is_new, &error);
      g_assert_no_error (error);
      g_assert_cmpint (is_new, ==, i == 0);
      g_assert_cmpint (sotto_message_get_direction (message), ==, SOTTO_DIRECTION_IN);
      g_assert_cmpint (sotto_message_get_sent (message), ==, 1700000000000000);
      g_assert_cmpint (sotto_message_get_received (message), >, 0);
      if (i == 0)
        first_id = sotto_message_get_id (message);
      g_assert_cmpint (sotto_message_get_id (message), ==, first_id);
    }

  {
    g_autoptr (GPtrArray) page = history (store, contact, 0, 10, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (page->len, ==, 1);
  }
}

static void
test_store_history_pages (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = make_store_with_messages (dir, 25);
  g_autoptr (SottoContact) contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  g_autoptr (GPtrArray) newest = NULL;
  g_autoptr (GPtrArray) older = NULL;
  g_autoptr (GPtrArray) oldest = NULL;
  g_autoptr (GError) error = NULL;

  newest = history (store, contact, 0, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (newest->len, ==, 10);
  g_assert_cmpstr (sotto_message_get_body (g_ptr_array_index (newest, 0)), ==, "message number 15");
  g_assert_cmpstr (sotto_message_get_body (g_ptr_array_index (newest, 9)), ==, "message number 24");

  older = history (store, contact, sotto_message_get_id (g_ptr_array_index (newest, 0)), 10, &error);
  g_assert_cmpuint (older->len, ==, 10);
  g_assert_cmpstr (sotto_message_get_body (g_ptr_array_index (older, 9)), ==, "message number 14");

  oldest = history (store, contact, sotto_message_get_id (g_ptr_array_index (older, 0)), 10, &error);
  g_assert_cmpuint (oldest->len, ==, 5);
  g_assert_cmpstr (sotto_message_get_body (g_ptr_array_index (oldest, 0)), ==, "message number 0");
}

/* sotto_message_body_validate_len() against GLib's own verdict, on
 * bodies built to put every kind of byte at every position of the
 * 8-, 32- and 64-byte blocks its ASCII path reads. */
static void
test_store_body_validate_len (void)
{
  static const char *const pieces[] = {
    "a", " ", "~", "\x7f", "\x01", "\0", "é", "✓", "😀", "\xc3", "\xe2\x9c", "\xf0\x9f\x98",
    "\x80", "\xbf", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "\xfe",
  };
  static const gsize piece_lens[] = { 1, 1, 1, 1, 1, 1, 2, 3, 4, 1, 2, 3, 1, 1, 2, 3, 4, 1, 1 };
  g_autofree char *at_limit = g_strnfill (SOTTO_MESSAGE_BODY_MAX + 1, 'x');
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (4);
  char buffer[160];

  G_STATIC_ASSERT (G_N_ELEMENTS (pieces) == G_N_ELEMENTS (piece_lens));

  /* The limits, with the length given rather than found. */
  g_assert_true (sotto_message_body_validate_len (at_limit, SOTTO_MESSAGE_BODY_MAX, &error));
  g_assert_no_error (error);
  g_assert_false (sotto_message_body_validate_len (at_limit, SOTTO_MESSAGE_BODY_MAX + 1, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sotto_message_body_validate_len ("x", 0, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (sotto_message_body_validate_len ("x", 1, NULL));

  /* A NUL inside the given length is refused, wherever it is; the byte
   * after the length is not looked at. */
  for (gsize len = 1; len <= 140; len++)
    for (gsize at = 0; at <= len; at++)
      {
        memset (buffer, 'a', sizeof buffer);
        buffer[at] = '\0';
        g_assert_cmpint (sotto_message_body_validate_len (buffer, len, NULL), ==, at == len);
      }

  /* Random bodies of the pieces above, ASCII-heavy so that runs of
   * words pass the fast path before the byte that matters. */
  for (guint round = 0; round < 200000; round++)
    {
      gsize len = 0;
      gboolean expected;
      gboolean got;

      while (len < 150)
        {
          guint i = g_rand_int_range (rand, 0, 4) != 0 ? 0 : g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces));

          if (len + piece_lens[i] > sizeof buffer - 1)
            break;
          memcpy (buffer + len, pieces[i], piece_lens[i]);
          len += piece_lens[i];
          if (g_rand_int_range (rand, 0, 96) == 0)
            break;
        }
      buffer[len] = '\0';
      expected = len > 0 && g_utf8_validate (buffer, len, NULL);
      got = sotto_message_body_validate_len (buffer, len, NULL);
      if (got != expected)
        {
          g_autofree char *hex = g_strescape (buffer, NULL);

          g_error ("%s (%zu bytes): expected %d, got %d", hex, len, expected, got);
        }
      /* And the C-string entry point agrees where there is no NUL. */
      if (memchr (buffer, '\0', len) == NULL)
        g_assert_cmpint (sotto_message_body_validate (buffer, NULL), ==, expected);
    }
}

static void
test_store_body_limits (void)
{
  g_autofree char *at_limit = g_strnfill (SOTTO_MESSAGE_BODY_MAX, 'x');
  g_autofree char *past_limit = g_strnfill (SOTTO_MESSAGE_BODY_MAX + 1, 'x');
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_message_body_validate (at_limit, &error));
  g_assert_no_error (error);
  g_assert_true (sotto_message_body_validate ("ünïcödé ✓", &error));

  g_assert_false (sotto_message_body_validate (past_limit, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sotto_message_body_validate ("", &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sotto_message_body_validate ("bad \xff byte", &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* And the store refuses it before anything is written. */
  {
    g_autofree char *dir = sotto_test_make_profile_dir ();
    g_autoptr (SottoStore) store = make_store_with_messages (dir, 0);
    g_autoptr (SottoContact) contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (SottoMessage) message = NULL;
    g_autoptr (GPtrArray) queue = NULL;

    sotto_store_queue_message_async (store, contact, past_limit, NULL, sotto_test_result_cb, &result);
    message = sotto_store_queue_message_finish (store, sotto_test_wait (&result), &error);
    g_assert_null (message);
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
    queue = sotto_test_outbox (store, NULL);
    g_assert_cmpuint (queue->len, ==, 0);
  }
}


/* ------------------------------------------------------------------ */
/* Purge, retention, search                                           */

static guint
purge (SottoStore   *store,
       SottoContact *contact,
       gint64        before,
       gboolean      include_queued)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  guint deleted = 0;

  sotto_store_purge_async (store, contact, before, include_queued, NULL,
                           sotto_test_result_cb, &result);
  g_assert_true (sotto_store_purge_finish (store, sotto_test_wait (&result), &deleted, &error));
  g_assert_no_error (error);

  return deleted;
}

static void
mark_delivered (SottoStore   *store,
                SottoContact *contact,
                SottoMessage *message)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  sotto_store_mark_delivered_async (store, contact, sotto_message_get_uid (message), NULL,
                                    sotto_test_result_cb, &result);
  g_assert_true (sotto_store_mark_delivered_finish (store, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
}

/* 24 bytes from the middle of a message's sealed body, read raw. */
static char *
raw_body_chunk (const char *dir,
                gint64      id)
{
  g_autofree char *path = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  g_autofree char *sql = g_strdup_printf ("SELECT body FROM messages WHERE id = %" G_GINT64_FORMAT, id);
  sqlite3_stmt *stmt = NULL;
  sqlite3 *db = NULL;
  char *chunk;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_bytes (stmt, 0), >=, 60);
  /* Skip the version byte and nonce: ciphertext only. */
  chunk = g_malloc0 (25);
  memcpy (chunk, (const char *)sqlite3_column_blob (stmt, 0) + 30, 24);
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  return chunk;
}

/* Whether a binary chunk appears in any file of the directory. */
static gboolean
dir_contains_bytes (const char *dir,
                    const char *chunk)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (g_file_get_contents (path, &contents, &len, NULL) &&
          memmem (contents, len, chunk, 24) != NULL)
        return TRUE;
    }

  return FALSE;
}

static void
test_store_purge_raw_files (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GPtrArray) sent = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) chunks = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;

  store = sotto_test_create_store (dir, "Olga", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Pete", NULL, hint, &error);
  g_assert_no_error (error);

  /* 40 long messages; the first 30 get delivered, 10 stay queued. */
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *body = g_strdup_printf ("confidential figure %u: %s", i,
                                               "lorem ipsum dolor sit amet consectetur");
      g_ptr_array_add (sent, queue_message (store, contact, body));
    }
  for (guint i = 0; i < 30; i++)
    mark_delivered (store, contact, g_ptr_array_index (sent, i));

  for (guint i = 0; i < sent->len; i++)
    g_ptr_array_add (chunks, raw_body_chunk (dir, sotto_message_get_id (g_ptr_array_index (sent, i))));

  /* Positive control: before the purge every sealed body is on disk. */
  for (guint i = 0; i < chunks->len; i++)
    g_assert_true (dir_contains_bytes (dir, g_ptr_array_index (chunks, i)));

  g_assert_cmpuint (purge (store, NULL, G_MAXINT64, FALSE), ==, 30);

  /* Gone from the database and the WAL, while the store is still open... */
  for (guint i = 0; i < 30; i++)
    g_assert_false (dir_contains_bytes (dir, g_ptr_array_index (chunks, i)));
  /* ...and what still waits for delivery was kept. */
  for (guint i = 30; i < 40; i++)
    g_assert_true (dir_contains_bytes (dir, g_ptr_array_index (chunks, i)));

  g_clear_object (&contact);
  g_clear_object (&store);
  for (guint i = 0; i < 30; i++)
    g_assert_false (dir_contains_bytes (dir, g_ptr_array_index (chunks, i)));

  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  {
    g_autoptr (GPtrArray) page = history (store, contact, 0, 100, &error);
    g_autoptr (GPtrArray) queue = sotto_test_outbox (store, NULL);

    g_assert_cmpuint (page->len, ==, 10);
    g_assert_cmpuint (queue->len, ==, 10);
  }

  /* Deleting the conversation takes the queue too. */
  g_assert_cmpuint (purge (store, contact, G_MAXINT64, TRUE), ==, 10);
  for (guint i = 30; i < 40; i++)
    g_assert_false (dir_contains_bytes (dir, g_ptr_array_index (chunks, i)));
}

static void
test_store_retention (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;
  gint64 day = (gint64)G_USEC_PER_SEC * 60 * 60 * 24;
  guint deleted = 0;

  store = sotto_test_create_store (dir, "Quinn", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Rita", NULL, hint, &error);
  g_assert_no_error (error);

  /* Two delivered messages and one queued one, all ten days old; one
   * incoming message whose sender's clock claims ten days old but that
   * arrived today; and one fresh delivered message. */
  for (guint i = 0; i < 4; i++)
    {
      g_autoptr (SottoMessage) m = queue_message (store, contact, "old or new");
      if (i != 2)
        mark_delivered (store, contact, m);
    }
  {
    g_autoptr (GAsyncResult) result = NULL;
    guint8 uid[SOTTO_MESSAGE_UID_LEN];

    randombytes_buf (uid, sizeof uid);
    sotto_store_save_incoming_async (store, contact, uid, g_get_real_time () - 10 * day,
                                     "arrived today", NULL, sotto_test_result_cb, &result);
    g_object_unref (sotto_store_save_incoming_finish (store, sotto_test_wait (&result), NULL, &error));
    g_assert_no_error (error);
  }
  g_clear_object (&contact);
  store_sql (store, "UPDATE messages SET sent = sent - 864000000000 WHERE id <= 3;"
                    "UPDATE messages SET mac = " MESSAGE_ROW_MAC ("messages.state")
                    " WHERE id <= 3");

  /* 0 days: keep everything. */
  {
    g_autoptr (GAsyncResult) result = NULL;
    sotto_store_apply_retention_async (store, TRUE, 0, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_apply_retention_finish (store, sotto_test_wait (&result), &deleted, &error));
    g_assert_cmpuint (deleted, ==, 0);
  }
  /* 7 days: the two old delivered ones go; the queued one stays, and so
   * does the incoming one, judged by when it arrived. */
  {
    g_autoptr (GAsyncResult) result = NULL;
    sotto_store_apply_retention_async (store, TRUE, 7, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_apply_retention_finish (store, sotto_test_wait (&result), &deleted, &error));
    g_assert_cmpuint (deleted, ==, 2);
  }
  /* History off: only what waits for delivery remains. */
  {
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GPtrArray) page = NULL;

    sotto_store_apply_retention_async (store, FALSE, 0, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_apply_retention_finish (store, sotto_test_wait (&result), &deleted, &error));
    g_assert_cmpuint (deleted, ==, 2);
    contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
    page = history (store, contact, 0, 100, &error);
    g_assert_cmpuint (page->len, ==, 1);
    g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (page, 0)), ==, SOTTO_MESSAGE_QUEUED);
  }
}

/* A message given up on waits for the user's retry: history off and
 * retention keep it, as they keep what is queued; only a purge that
 * includes queued messages deletes it. */
static void
test_store_purge_keeps_failed (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoMessage) message = NULL;
  g_autoptr (GError) error = NULL;
  gint64 late = g_get_real_time () + (gint64)(SOTTO_OUTBOX_EXPIRY_DAYS + 1) * G_TIME_SPAN_DAY;
  guint deleted = 0;

  store = sotto_test_create_store (dir, "Quinn", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Rita", NULL, hint, &error);
  g_assert_no_error (error);
  message = queue_message (store, contact, "are you there?");
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_expire_outbox_async (store, late, NULL, sotto_test_result_cb, &result);
    g_assert_cmpuint (sotto_store_expire_outbox_finish (store, sotto_test_wait (&result), &error),
                      ==, 1);
    g_assert_no_error (error);
  }
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_apply_retention_async (store, FALSE, 0, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_apply_retention_finish (store, sotto_test_wait (&result), &deleted,
                                                       &error));
    g_assert_cmpuint (deleted, ==, 0);
  }
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_purge_async (store, contact, late, FALSE, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_purge_finish (store, sotto_test_wait (&result), &deleted, &error));
    g_assert_cmpuint (deleted, ==, 0);
  }
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_retry_message_async (store, message, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_retry_message_finish (store, sotto_test_wait (&result), &error));
    g_assert_no_error (error);
  }
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_expire_outbox_async (store, late, NULL, sotto_test_result_cb, &result);
    g_assert_cmpuint (sotto_store_expire_outbox_finish (store, sotto_test_wait (&result), &error),
                      ==, 1);
  }
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_purge_async (store, contact, late, TRUE, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_purge_finish (store, sotto_test_wait (&result), &deleted, &error));
    g_assert_cmpuint (deleted, ==, 1);
  }
}

typedef struct
{
  guint n_batches;
  guint n_matches;
  guint largest_batch;
  gboolean finished;
  GCancellable *cancel_after_first;
  gint64 last_id;             /* of the previous match; 0 before the first */
  gboolean out_of_order;
} SearchProgress;

static void
on_matches (SottoStore *store,
            GPtrArray  *matches,
            gpointer    user_data)
{
  SearchProgress *progress = user_data;

  g_assert_false (progress->finished);
  progress->n_batches++;
  progress->n_matches += matches->len;
  progress->largest_batch = MAX (progress->largest_batch, matches->len);
  for (guint i = 0; i < matches->len; i++)
    {
      gint64 id = sotto_message_get_id (g_ptr_array_index (matches, i));

      if (progress->last_id != 0 && id >= progress->last_id)
        progress->out_of_order = TRUE;
      progress->last_id = id;
    }
  if (progress->cancel_after_first != NULL)
    g_cancellable_cancel (progress->cancel_after_first);
}

static guint
search (SottoStore     *store,
        SottoContact   *contact,
        const char     *text,
        SearchProgress *progress,
        GCancellable   *cancellable,
        GError        **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  guint n = 0;

  sotto_store_search_async (store, contact, text, on_matches, progress, cancellable,
                            sotto_test_result_cb, &result);
  sotto_store_search_finish (store, sotto_test_wait (&result), &n, error);
  progress->finished = TRUE;

  return n;
}

static void
on_retention_applied (SottoRetention *retention,
                      guint           deleted,
                      int            *slot)
{
  *slot = (int)deleted;
}

static void
wait_applied (int *slot)
{
  while (*slot < 0)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_store_retention_follows_settings (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoRetention) retention = NULL;
  g_autoptr (GSettingsBackend) backend = g_memory_settings_backend_new ();
  g_autoptr (GSettings) settings = g_settings_new_with_backend (SCHEMA_ID, backend);
  g_autoptr (GError) error = NULL;
  int applied = -1;

  store = sotto_test_create_store (dir, "Uma", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Vic", NULL, hint, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (SottoMessage) m = queue_message (store, contact, "aging");
      mark_delivered (store, contact, m);
    }
  g_clear_object (&contact);
  /* Two of them are 40 days old. */
  store_sql (store, "UPDATE messages SET sent = sent - 3456000000000 WHERE id <= 2;"
                    "UPDATE messages SET mac = " MESSAGE_ROW_MAC ("messages.state")
                    " WHERE id <= 2");

  g_settings_set_uint (settings, "history-retention-days", 30);
  retention = sotto_retention_new (store, settings);
  g_signal_connect (retention, "applied", G_CALLBACK (on_retention_applied), &applied);

  /* Nothing happens before start... */
  g_settings_set_uint (settings, "history-retention-days", 31);
  g_main_context_iteration (NULL, FALSE);
  g_assert_cmpint (applied, ==, -1);

  /* ...then it applies at once, */
  sotto_retention_start (retention);
  wait_applied (&applied);
  g_assert_cmpint (applied, ==, 2);

  /* and again when an admin changes a key while we run. */
  applied = -1;
  g_settings_set_boolean (settings, "history-enabled", FALSE);
  wait_applied (&applied);
  g_assert_cmpint (applied, ==, 1);
}

/* ------------------------------------------------------------------ */
/* History off: nothing kept beyond what is still undelivered         */

static guint
apply_retention (SottoStore *store,
                 gboolean    history_enabled)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  guint deleted = 0;

  sotto_store_apply_retention_async (store, history_enabled, 0, NULL,
                                     sotto_test_result_cb, &result);
  g_assert_true (sotto_store_apply_retention_finish (store, sotto_test_wait (&result), &deleted,
                                                     &error));
  g_assert_no_error (error);

  return deleted;
}

static SottoMessage *
save_incoming (SottoStore   *store,
               SottoContact *contact,
               const guint8 *uid,
               const char   *body,
               gboolean     *out_is_new)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoMessage *message;

  sotto_store_save_incoming_async (store, contact, uid, 1700000000000000, body, NULL,
                                   sotto_test_result_cb, &result);
  message = sotto_store_save_incoming_finish (store, sotto_test_wait (&result), out_is_new,
                                              &error);
  g_assert_no_error (error);
  g_assert_nonnull (message);

  return message;
}

static guint
history_length (SottoStore   *store,
                SottoContact *contact)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) page = history (store, contact, 0, 100, &error);

  g_assert_no_error (error);
  return page->len;
}

typedef struct
{
  guint  n_added;
  gint64 last_added_id;
  guint  n_changed;
  gint64 changed_contact_id;
  gint64 changed_message_id;
  int    changed_state;
} StoreSignals;

static void
on_message_added (SottoStore   *store,
                  SottoMessage *message,
                  StoreSignals *signals)
{
  signals->n_added++;
  signals->last_added_id = sotto_message_get_id (message);
}

static void
on_message_state_changed (SottoStore        *store,
                          gint64             contact_id,
                          gint64             message_id,
                          SottoMessageState  state,
                          StoreSignals      *signals)
{
  signals->n_changed++;
  signals->changed_contact_id = contact_id;
  signals->changed_message_id = message_id;
  signals->changed_state = state;
}

static void
test_store_history_off_delivered (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoMessage) message = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *chunk = NULL;
  const char *marker = "DeliveredMarker5T: the figures for the board, not for anyone else";
  StoreSignals signals = { 0 };

  store = sotto_test_create_store (dir, "Eve", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Finn", NULL, hint, &error);
  g_assert_no_error (error);
  g_signal_connect (store, "message-state-changed", G_CALLBACK (on_message_state_changed),
                    &signals);

  g_assert_cmpuint (apply_retention (store, FALSE), ==, 0);
  message = queue_message (store, contact, marker);
  chunk = raw_body_chunk (dir, sotto_message_get_id (message));
  /* Positive control: until delivered, the sealed body is on disk. */
  g_assert_true (dir_contains_bytes (dir, chunk));

  mark_delivered (store, contact, message);

  /* Front ends holding it still hear of the new state... */
  g_assert_cmpuint (signals.n_changed, ==, 1);
  g_assert_cmpint (signals.changed_contact_id, ==, sotto_contact_get_id (contact));
  g_assert_cmpint (signals.changed_message_id, ==, sotto_message_get_id (message));
  g_assert_cmpint (signals.changed_state, ==, SOTTO_MESSAGE_DELIVERED);

  /* ...but the row is gone at once, with its outbox row, and its sealed
   * text is in no file of the profile, not even the WAL. */
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM messages"), ==, 0);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM outbox"), ==, 0);
  g_assert_cmpuint (history_length (store, contact), ==, 0);
  g_assert_false (dir_contains_bytes (dir, chunk));
  g_assert_false (sotto_test_dir_contains (dir, "DeliveredMarker5T", NULL));

  g_clear_object (&contact);
  sotto_test_close_store (&store);
  g_assert_false (dir_contains_bytes (dir, chunk));
  g_assert_false (sotto_test_dir_contains (dir, "DeliveredMarker5T", NULL));
}

static void
test_store_history_off_received (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoContact) other = NULL;
  g_autoptr (SottoMessage) earlier = NULL;
  g_autoptr (SottoMessage) received = NULL;
  g_autoptr (GError) error = NULL;
  const char *marker = "ReceivedMarker8W: meet me at the loading dock";
  StoreSignals signals = { 0 };
  gboolean is_new = FALSE;
  guint8 uid[SOTTO_MESSAGE_UID_LEN];
  gint64 received_id;

  store = sotto_test_create_store (dir, "Gus", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Hal", NULL, hint, &error);
  other = sotto_test_add_contact (store, "Ivy", NULL, hint, &error);
  g_assert_no_error (error);
  earlier = queue_message (store, contact, "still waiting to be sent");
  g_assert_cmpuint (apply_retention (store, FALSE), ==, 0);
  g_signal_connect (store, "message-added", G_CALLBACK (on_message_added), &signals);
  randombytes_buf (uid, sizeof uid);

  /* Shown once, with a new id after every earlier one, as views expect... */
  received = save_incoming (store, contact, uid, marker, &is_new);
  g_assert_true (is_new);
  g_assert_cmpuint (signals.n_added, ==, 1);
  received_id = sotto_message_get_id (received);
  g_assert_cmpint (received_id, !=, 0);
  g_assert_cmpint (received_id, >, sotto_message_get_id (earlier));
  g_assert_cmpint (signals.last_added_id, ==, received_id);
  g_assert_cmpint (sotto_message_get_contact_id (received), ==, sotto_contact_get_id (contact));
  g_assert_cmpint (sotto_message_get_direction (received), ==, SOTTO_DIRECTION_IN);
  g_assert_cmpint (sotto_message_get_state (received), ==, SOTTO_MESSAGE_DELIVERED);
  g_assert_cmpint (sotto_message_get_received (received), >, 0);
  g_assert_cmpstr (sotto_message_get_body (received), ==, marker);
  g_assert_cmpmem (sotto_message_get_uid (received), SOTTO_MESSAGE_UID_LEN, uid, sizeof uid);
  g_clear_object (&received);

  /* ...but not kept: history has only what waits to be sent. */
  g_assert_cmpuint (history_length (store, contact), ==, 1);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM messages WHERE direction = 1"), ==, 0);
  g_assert_false (sotto_test_dir_contains (dir, "ReceivedMarker8W", NULL));

  /* The sender's retry is known, and not shown again. */
  received = save_incoming (store, contact, uid, marker, &is_new);
  g_assert_false (is_new);
  g_assert_cmpuint (signals.n_added, ==, 1);
  g_clear_object (&received);

  /* The same id from someone else is someone else's message. */
  received = save_incoming (store, other, uid, "from Ivy", &is_new);
  g_assert_true (is_new);
  g_assert_cmpuint (signals.n_added, ==, 2);
  g_assert_cmpint (sotto_message_get_id (received), >, received_id);
  g_assert_cmpint (signals.last_added_id, ==, sotto_message_get_id (received));
  g_assert_cmpuint (history_length (store, other), ==, 0);
  g_clear_object (&received);

  /* Across a restart too: a receipt lost in a crash brings a retry. */
  g_clear_object (&contact);
  g_clear_object (&other);
  sotto_test_close_store (&store);
  g_assert_false (sotto_test_dir_contains (dir, "ReceivedMarker8W", NULL));
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (apply_retention (store, FALSE), ==, 0);
  contact = g_object_ref (sotto_store_get_contact_by_id (store,
                                                         sotto_message_get_contact_id (earlier)));
  signals.n_added = 0;
  g_signal_connect (store, "message-added", G_CALLBACK (on_message_added), &signals);
  received = save_incoming (store, contact, uid, marker, &is_new);
  g_assert_false (is_new);
  g_assert_cmpuint (signals.n_added, ==, 0);
  g_assert_cmpuint (history_length (store, contact), ==, 1);
}

/* A user who may not delete history can't do so by turning history off:
 * what was kept stays (and ages out with retention); what comes from then
 * on is not kept. Where they may, turning it off deletes it. */
static void
test_store_history_off_user_may_not_delete (void)
{
  g_autoptr (GSettingsBackend) backend = g_memory_settings_backend_new ();
  g_autoptr (GSettings) settings = g_settings_new_with_backend (SCHEMA_ID, backend);
  g_autoptr (SottoPolicy) policy = sotto_policy_new (settings);
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;

  store = sotto_test_create_store (dir, "Jan", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  sotto_store_set_policy (store, policy);
  contact = sotto_test_add_contact (store, "Kim", NULL, hint, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (SottoMessage) kept = queue_message (store, contact, "kept");

      mark_delivered (store, contact, kept);
    }

  g_settings_set_boolean (settings, "history-user-delete", FALSE);
  g_settings_set_boolean (settings, "history-enabled", FALSE);
  g_assert_cmpuint (apply_retention (store, FALSE), ==, 0);
  g_assert_cmpuint (history_length (store, contact), ==, 2);
  {
    g_autoptr (SottoMessage) fresh = queue_message (store, contact, "not kept");

    mark_delivered (store, contact, fresh);
  }
  g_assert_cmpuint (history_length (store, contact), ==, 2);

  g_settings_set_boolean (settings, "history-user-delete", TRUE);
  g_assert_cmpuint (apply_retention (store, FALSE), ==, 2);
  g_assert_cmpuint (history_length (store, contact), ==, 0);
}

static void
test_store_history_off_queued (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoMessage) message = NULL;
  g_autoptr (GPtrArray) queue = NULL;
  g_autoptr (GError) error = NULL;
  gint64 contact_id;

  store = sotto_test_create_store (dir, "Jan", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Kim", NULL, hint, &error);
  g_assert_no_error (error);
  contact_id = sotto_contact_get_id (contact);
  g_assert_cmpuint (apply_retention (store, FALSE), ==, 0);
  message = queue_message (store, contact, "not delivered yet");

  /* Undelivered, it stays: through retention and a restart. */
  g_assert_cmpuint (apply_retention (store, FALSE), ==, 0);
  g_clear_object (&contact);
  sotto_test_close_store (&store);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (apply_retention (store, FALSE), ==, 0);
  contact = g_object_ref (sotto_store_get_contact_by_id (store, contact_id));
  queue = sotto_test_outbox (store, contact);
  g_assert_cmpuint (queue->len, ==, 1);
  g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (queue, 0)), ==,
                   sotto_message_get_id (message));
  g_clear_pointer (&queue, g_ptr_array_unref);
  g_assert_cmpuint (history_length (store, contact), ==, 1);

  /* Delivered, it goes. */
  mark_delivered (store, contact, message);
  queue = sotto_test_outbox (store, NULL);
  g_assert_cmpuint (queue->len, ==, 0);
  g_assert_cmpuint (history_length (store, contact), ==, 0);
}

static void
test_store_history_off_seen_pruned (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *age = NULL;
  guint8 old_uid[SOTTO_MESSAGE_UID_LEN];
  guint8 new_uid[SOTTO_MESSAGE_UID_LEN];
  gboolean is_new = FALSE;
  gint64 contact_id;

  memset (old_uid, 0xaa, sizeof old_uid);
  memset (new_uid, 0xbb, sizeof new_uid);
  store = sotto_test_create_store (dir, "Lou", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Max", NULL, hint, &error);
  g_assert_no_error (error);
  contact_id = sotto_contact_get_id (contact);
  g_assert_cmpuint (apply_retention (store, FALSE), ==, 0);
  g_object_unref (save_incoming (store, contact, old_uid, "old", &is_new));
  g_object_unref (save_incoming (store, contact, new_uid, "new", &is_new));
  g_clear_object (&contact);
  sotto_test_close_store (&store);

  /* One of them arrived a day longer ago than any sender retries. */
  age = g_strdup_printf ("UPDATE seen SET received = received - %" G_GINT64_FORMAT
                         " WHERE uid = X'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
                         (gint64)(SOTTO_SEEN_KEEP_DAYS + 1) * 24 * 60 * 60 * G_USEC_PER_SEC);
  raw_sql (dir, age);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM seen"), ==, 2);

  /* Pruned by the next retention, with history on as well as off. */
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (apply_retention (store, TRUE), ==, 0);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM seen"), ==, 1);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM seen "
                                 "WHERE uid = X'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'"), ==, 1);

  /* The one kept still stops a retry. */
  contact = g_object_ref (sotto_store_get_contact_by_id (store, contact_id));
  g_object_unref (save_incoming (store, contact, new_uid, "new", &is_new));
  g_assert_false (is_new);

  /* And removing the contact takes its ids along. */
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_remove_contact_async (store, contact, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_remove_contact_finish (store, sotto_test_wait (&result), &error));
    g_assert_no_error (error);
  }
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM seen"), ==, 0);
}

static void
test_store_history_on_unchanged (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoMessage) sent = NULL;
  g_autoptr (SottoMessage) received = NULL;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (GError) error = NULL;
  StoreSignals signals = { 0 };
  gboolean is_new = FALSE;
  guint8 while_off[SOTTO_MESSAGE_UID_LEN];
  guint8 while_on[SOTTO_MESSAGE_UID_LEN];

  randombytes_buf (while_off, sizeof while_off);
  randombytes_buf (while_on, sizeof while_on);
  store = sotto_test_create_store (dir, "Ned", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Oda", NULL, hint, &error);
  g_assert_no_error (error);

  /* Off for one message, then on again. */
  g_assert_cmpuint (apply_retention (store, FALSE), ==, 0);
  g_object_unref (save_incoming (store, contact, while_off, "while off", &is_new));
  g_assert_true (is_new);
  g_assert_cmpuint (apply_retention (store, TRUE), ==, 0);
  g_signal_connect (store, "message-added", G_CALLBACK (on_message_added), &signals);

  /* A delivered message stays... */
  sent = queue_message (store, contact, "kept after delivery");
  mark_delivered (store, contact, sent);
  page = history (store, contact, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 1);
  g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (page, 0)), ==,
                   SOTTO_MESSAGE_DELIVERED);
  g_clear_pointer (&page, g_ptr_array_unref);

  /* ...a received one is stored, in history and not among the ids... */
  received = save_incoming (store, contact, while_on, "kept after receipt", &is_new);
  g_assert_true (is_new);
  g_assert_cmpuint (signals.n_added, ==, 2);
  page = history (store, contact, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 2);
  g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (page, 1)), ==,
                   sotto_message_get_id (received));
  g_assert_cmpstr (sotto_message_get_body (g_ptr_array_index (page, 1)), ==, "kept after receipt");
  g_clear_pointer (&page, g_ptr_array_unref);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM seen"), ==, 1);
  g_clear_object (&received);

  /* ...and a retry of what came while history was off is still known. */
  received = save_incoming (store, contact, while_off, "while off", &is_new);
  g_assert_false (is_new);
  g_assert_cmpuint (signals.n_added, ==, 2);
  g_assert_cmpuint (history_length (store, contact), ==, 2);
}

static void
test_store_search (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) sam = NULL;
  g_autoptr (SottoContact) tia = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *at_limit = g_strnfill (SOTTO_SEARCH_TEXT_MAX, 'q');
  g_autofree char *past_limit = g_strnfill (SOTTO_SEARCH_TEXT_MAX + 1, 'q');
  const struct { const char *query; guint expected; } cases[] = {
    { "strasse", 1 },      /* ß folds to ss */
    { "STRASSE", 1 },
    { "Straße", 1 },
    { "cafe", 1 },         /* accents are ignored... */
    { "café", 1 },
    { "muller", 1 },       /* ...wherever they are */
    { "MÜLLER", 1 },
    { "file", 2 },         /* "ﬁle" (ligature) and "FILE" */
    { "ΣΟΦΙΑ", 1 },        /* Greek final sigma folds with the others */
    { "needle", 0 },
    { at_limit, 0 },
  };

  store = sotto_test_create_store (dir, "Sven", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  sam = sotto_test_add_contact (store, "Sam", NULL, hint, &error);
  tia = sotto_test_add_contact (store, "Tia", NULL, hint, &error);
  g_assert_no_error (error);
  g_object_unref (queue_message (store, sam, "Meet at Hauptstraße 5"));
  g_object_unref (queue_message (store, sam, "The café downstairs"));
  g_object_unref (queue_message (store, sam, "Send the ﬁle"));
  g_object_unref (queue_message (store, tia, "FILE attached"));
  g_object_unref (queue_message (store, tia, "Σοφία says hi"));
  g_object_unref (queue_message (store, tia, "Ask Mr Müller"));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      SearchProgress progress = { 0 };

      g_test_message ("search %s", cases[i].query);
      g_assert_cmpuint (search (store, NULL, cases[i].query, &progress, NULL, &error), ==,
                        cases[i].expected);
      g_assert_no_error (error);
      g_assert_cmpuint (progress.n_matches, ==, cases[i].expected);
    }

  /* One conversation only. */
  {
    SearchProgress progress = { 0 };
    g_assert_cmpuint (search (store, tia, "file", &progress, NULL, &error), ==, 1);
  }

  /* Bad queries are refused. */
  {
    SearchProgress progress = { 0 };
    search (store, NULL, past_limit, &progress, NULL, &error);
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    search (store, NULL, "", &progress, NULL, &error);
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
}

static void
test_store_search_batches_and_cancel (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = make_store_with_messages (dir, 300);
  g_autoptr (SottoContact) contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GPtrArray) bulk = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  SearchProgress all = { 0 };
  SearchProgress stopped = { 0 };
  guint total;

  /* Results come in batches, all of them before the search completes. */
  g_assert_cmpuint (search (store, contact, "number", &all, NULL, &error), ==, 300);
  g_assert_no_error (error);
  g_assert_cmpuint (all.n_matches, ==, 300);
  g_assert_cmpuint (all.n_batches, ==, (300 + SOTTO_SEARCH_BATCH - 1) / SOTTO_SEARCH_BATCH);
  g_assert_cmpuint (all.largest_batch, ==, SOTTO_SEARCH_BATCH);

  /* A long history: cancelled after the first batch, it stops early. */
  for (guint i = 0; i < 40000; i++)
    g_ptr_array_add (bulk, (gpointer)"another number");
  {
    g_autoptr (GAsyncResult) result = NULL;

    _sotto_store_insert_history_async (store, contact, bulk, g_get_real_time (), 1,
                                       sotto_test_result_cb, &result);
    g_assert_true (_sotto_store_insert_history_finish (store, sotto_test_wait (&result), &error));
  }
  total = 300 + bulk->len;

  stopped.cancel_after_first = cancellable;
  search (store, contact, "number", &stopped, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_test_message ("cancelled after %u of %u matches", stopped.n_matches, total);
  g_assert_cmpuint (stopped.n_matches, <, total);
}

/* Search is spread over threads in chunks of rows: results must still
 * come newest first, complete, and a damaged row anywhere must stop it
 * with an error. */
static void
test_store_search_order_and_damage (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = make_store_with_messages (dir, 1);
  g_autoptr (SottoContact) contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  g_autoptr (GPtrArray) bodies = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  const guint n = 5000;
  guint plain_matches = 0;
  guint folded_matches = 0;

  for (guint i = 0; i < n; i++)
    {
      switch (i % 3)
        {
        case 0:
          g_ptr_array_add (bodies, g_strdup_printf ("A NEEDLE in row %u", i));
          plain_matches++;
          break;
        case 1:
          g_ptr_array_add (bodies, g_strdup_printf ("Größe und Straße %u", i));
          folded_matches++;
          break;
        default:
          g_ptr_array_add (bodies, g_strdup_printf ("only hay %u, needl", i));
          break;
        }
    }
  {
    g_autoptr (GAsyncResult) result = NULL;

    _sotto_store_insert_history_async (store, contact, bodies, g_get_real_time (), 1,
                                       sotto_test_result_cb, &result);
    g_assert_true (_sotto_store_insert_history_finish (store, sotto_test_wait (&result), &error));
    g_assert_no_error (error);
  }

  {
    SearchProgress ascii = { 0 };
    SearchProgress folded = { 0 };

    g_assert_cmpuint (search (store, NULL, "needle", &ascii, NULL, &error), ==, plain_matches);
    g_assert_no_error (error);
    g_assert_false (ascii.out_of_order);
    g_assert_cmpuint (ascii.n_matches, ==, plain_matches);

    g_assert_cmpuint (search (store, contact, "STRASSE", &folded, NULL, &error), ==,
                      folded_matches);
    g_assert_no_error (error);
    g_assert_false (folded.out_of_order);
  }
  g_clear_object (&contact);
  sotto_test_close_store (&store);

  /* One flipped bit in the middle of the history. */
  raw_flip_bit (dir, "SELECT body FROM messages WHERE id = 2500",
                "UPDATE messages SET body = ? WHERE id = 2500", 40);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  {
    guint damaged = 0;

    /* Row 2500 held hay (body 2498): it could have matched, so it is
     * counted; every needle is still found. */
    g_assert_cmpuint (search_counting (store, NULL, "needle", &damaged, &error), ==,
                      plain_matches);
    g_assert_no_error (error);
    g_assert_cmpuint (damaged, ==, 1);
  }
}

/* ------------------------------------------------------------------ */
/* Threads, ids and echoed ids (found by review)                      */

static void
record_thread_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  GThread   **thread)
{
  *thread = g_thread_self ();
}

static void
test_store_changes_on_main_thread (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoIdentity) peer = sotto_identity_generate ("Wes", NULL);
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;
  GThread *changed_on = NULL;

  store = sotto_test_create_store (dir, "Xena", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  g_signal_connect (sotto_store_get_contacts (store), "items-changed",
                    G_CALLBACK (record_thread_cb), &changed_on);

  invite = sotto_invite_new (sotto_identity_get_public_key (peer), "Wes", NULL, NULL);
  sotto_store_add_contact_async (store, invite, NULL, NULL, sotto_test_result_cb, &result);
  /* The main thread is busy elsewhere while the worker finishes: the model
   * must still change here, not on the worker. */
  g_usleep (300 * 1000);
  contact = sotto_store_add_contact_finish (store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  g_assert_true (changed_on == g_thread_self ());
}

static void
test_store_ids_never_reused (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) first = NULL;
  g_autoptr (SottoContact) removed = NULL;
  g_autoptr (SottoContact) later = NULL;
  g_autoptr (SottoMessage) old_message = NULL;
  g_autoptr (SottoMessage) new_message = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gint64 removed_id;

  store = sotto_test_create_store (dir, "Yara", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  first = sotto_test_add_contact (store, "Zack", NULL, hint, &error);
  removed = sotto_test_add_contact (store, "Abe", NULL, hint, &error);
  g_assert_no_error (error);
  removed_id = sotto_contact_get_id (removed);
  old_message = queue_message (store, removed, "to a contact about to go");

  sotto_store_remove_contact_async (store, removed, NULL, sotto_test_result_cb, &result);
  g_assert_true (sotto_store_remove_contact_finish (store, sotto_test_wait (&result), &error));

  /* A front end still holding the removed contact must not reach whoever
   * is added next, and an old message id must not come back, even after
   * a restart. */
  g_clear_object (&result);
  g_clear_object (&first);
  g_clear_object (&store);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  later = sotto_test_add_contact (store, "Bea", NULL, hint, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sotto_contact_get_id (later), >, removed_id);
  new_message = queue_message (store, later, "new");
  g_assert_cmpint (sotto_message_get_id (new_message), >, sotto_message_get_id (old_message));
}

static void
test_store_incoming_echo_of_our_uid (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoMessage) ours = NULL;
  g_autoptr (SottoMessage) echoed = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) queue = NULL;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (GError) error = NULL;
  gboolean is_new = TRUE;

  store = sotto_test_create_store (dir, "Cal", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Dee", NULL, hint, &error);
  g_assert_no_error (error);
  ours = queue_message (store, contact, "ours");

  /* A peer sends a message with the id of one of ours: it is not a
   * duplicate of anything it sent, and must not be acknowledged as one. */
  sotto_store_save_incoming_async (store, contact, sotto_message_get_uid (ours),
                                   g_get_real_time (), "theirs", NULL,
                                   sotto_test_result_cb, &result);
  echoed = sotto_store_save_incoming_finish (store, sotto_test_wait (&result), &is_new, &error);
  g_assert_null (echoed);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  queue = sotto_test_outbox (store, contact);
  g_assert_cmpuint (queue->len, ==, 1);
  page = history (store, contact, 0, 10, &error);
  g_assert_cmpuint (page->len, ==, 1);
  g_assert_cmpstr (sotto_message_get_body (g_ptr_array_index (page, 0)), ==, "ours");
}

/* ------------------------------------------------------------------ */
/* Read marks and conversation summaries                              */

static GPtrArray *
mark_read (SottoStore   *store,
           SottoContact *contact,
           gint64        up_to_id)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *uids;

  sotto_store_mark_read_async (store, contact, up_to_id, NULL, sotto_test_result_cb, &result);
  uids = sotto_store_mark_read_finish (store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (uids);

  return uids;
}

static gboolean
mark_read_by_peer (SottoStore   *store,
                   SottoContact *contact,
                   const guint8 *uid)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gboolean changed;

  sotto_store_mark_read_by_peer_async (store, contact, uid, NULL, sotto_test_result_cb, &result);
  changed = sotto_store_mark_read_by_peer_finish (store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);

  return changed;
}

/* Checks the list of every summary (@n_expected of them), and returns
 * @contact's, which must be the same when asked for alone. */
static SottoConversationSummary *
summary_of (SottoStore   *store,
            SottoContact *contact,
            guint         n_expected)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) all = NULL;
  g_autoptr (GPtrArray) one = NULL;
  g_autoptr (GError) error = NULL;
  SottoConversationSummary *found = NULL;

  sotto_store_list_summaries_async (store, NULL, NULL, sotto_test_result_cb, &result);
  all = sotto_store_list_summaries_finish (store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, n_expected);
  for (guint i = 0; i < all->len; i++)
    {
      SottoConversationSummary *summary = g_ptr_array_index (all, i);

      /* By contact id, as documented. */
      if (i > 0)
        g_assert_cmpint (((SottoConversationSummary *)g_ptr_array_index (all, i - 1))->contact_id,
                         <, summary->contact_id);
      if (contact != NULL && summary->contact_id == sotto_contact_get_id (contact))
        found = sotto_conversation_summary_copy (summary);
    }
  if (contact == NULL)
    return NULL;
  g_assert_nonnull (found);

  /* The same, asked for that one conversation only. */
  g_clear_object (&result);
  sotto_store_list_summaries_async (store, contact, NULL, sotto_test_result_cb, &result);
  one = sotto_store_list_summaries_finish (store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (one->len, ==, 1);
  g_assert_cmpmem (g_ptr_array_index (one, 0), sizeof *found, found, sizeof *found);

  return found;
}

static void
assert_uids (GPtrArray     *uids,
             SottoMessage **expected,
             guint          n_expected)
{
  g_assert_cmpuint (uids->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpmem (g_bytes_get_data (g_ptr_array_index (uids, i), NULL),
                     g_bytes_get_size (g_ptr_array_index (uids, i)),
                     sotto_message_get_uid (expected[i]), SOTTO_MESSAGE_UID_LEN);
}

static void
on_conversation_read (SottoStore *store,
                      gint64      contact_id,
                      GArray     *read)
{
  g_array_append_val (read, contact_id);
}

/* Exactly what is at most up_to_id, incoming and unread, becomes read:
 * the message at up_to_id is in, the next one is not. */
static void
test_store_read_mark_read (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) liz = NULL;
  g_autoptr (SottoContact) max = NULL;
  g_autoptr (SottoMessage) in1 = NULL;
  g_autoptr (SottoMessage) in2 = NULL;
  g_autoptr (SottoMessage) out1 = NULL;
  g_autoptr (SottoMessage) in3 = NULL;
  g_autoptr (SottoMessage) from_max = NULL;
  g_autoptr (GPtrArray) uids = NULL;
  g_autoptr (GArray) read = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree SottoConversationSummary *summary = NULL;
  g_autoptr (GError) error = NULL;
  guint8 uid[SOTTO_MESSAGE_UID_LEN];

  store = sotto_test_create_store (dir, "Ken", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  liz = sotto_test_add_contact (store, "Liz", NULL, hint, &error);
  max = sotto_test_add_contact (store, "Max", NULL, hint, &error);
  g_assert_no_error (error);
  g_signal_connect (store, "conversation-read", G_CALLBACK (on_conversation_read), read);

  randombytes_buf (uid, sizeof uid);
  in1 = save_incoming (store, liz, uid, "one", NULL);
  randombytes_buf (uid, sizeof uid);
  in2 = save_incoming (store, liz, uid, "two", NULL);
  out1 = queue_message (store, liz, "mine");
  randombytes_buf (uid, sizeof uid);
  in3 = save_incoming (store, liz, uid, "three", NULL);
  randombytes_buf (uid, sizeof uid);
  from_max = save_incoming (store, max, uid, "from Max", NULL);
  g_assert_cmpint (sotto_message_get_id (in3), ==, sotto_message_get_id (out1) + 1);

  summary = summary_of (store, liz, 2);
  g_assert_cmpuint (summary->unread, ==, 3);
  g_clear_pointer (&summary, g_free);

  /* Up to and including in2: in1 and in2, oldest first. */
  uids = mark_read (store, liz, sotto_message_get_id (in2));
  assert_uids (uids, (SottoMessage *[]) { in1, in2 }, 2);
  g_clear_pointer (&uids, g_ptr_array_unref);
  g_assert_cmpuint (read->len, ==, 1);
  g_assert_cmpint (g_array_index (read, gint64, 0), ==, sotto_contact_get_id (liz));
  summary = summary_of (store, liz, 2);
  g_assert_cmpuint (summary->unread, ==, 1);
  g_clear_pointer (&summary, g_free);

  /* Again: nothing new, no signal. */
  uids = mark_read (store, liz, sotto_message_get_id (in2));
  g_assert_cmpuint (uids->len, ==, 0);
  g_clear_pointer (&uids, g_ptr_array_unref);
  g_assert_cmpuint (read->len, ==, 1);

  /* One short of in3 (our own message there is never "read" by us). */
  uids = mark_read (store, liz, sotto_message_get_id (in3) - 1);
  g_assert_cmpuint (uids->len, ==, 0);
  g_clear_pointer (&uids, g_ptr_array_unref);
  g_assert_cmpuint (read->len, ==, 1);

  /* Exactly in3. */
  uids = mark_read (store, liz, sotto_message_get_id (in3));
  assert_uids (uids, (SottoMessage *[]) { in3 }, 1);
  g_clear_pointer (&uids, g_ptr_array_unref);
  g_assert_cmpuint (read->len, ==, 2);

  /* Max's conversation is his own, even past its ids. */
  summary = summary_of (store, max, 2);
  g_assert_cmpuint (summary->unread, ==, 1);
  g_clear_pointer (&summary, g_free);

  /* Read marks are times, and stay across a restart. */
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM messages WHERE direction = 1 "
                                 "AND read > 0"), ==, 3);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM messages WHERE direction = 0 "
                                 "AND read > 0"), ==, 0);
  g_clear_object (&liz);
  g_clear_object (&max);
  sotto_test_close_store (&store);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  liz = g_object_ref (sotto_store_get_contact_by_id (store, sotto_message_get_contact_id (in1)));
  max = g_object_ref (sotto_store_get_contact_by_id (store,
                                                     sotto_message_get_contact_id (from_max)));
  summary = summary_of (store, liz, 2);
  g_assert_cmpuint (summary->unread, ==, 0);
  g_clear_pointer (&summary, g_free);
  summary = summary_of (store, max, 2);
  g_assert_cmpuint (summary->unread, ==, 1);
}

/* The peer's read receipt only moves a message forward, and takes it out
 * of the outbox; a later delivered receipt changes nothing. */
static void
test_store_read_by_peer (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoMessage) first = NULL;
  g_autoptr (SottoMessage) second = NULL;
  g_autoptr (SottoMessage) third = NULL;
  g_autoptr (SottoMessage) theirs = NULL;
  g_autoptr (GPtrArray) queue = NULL;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (GError) error = NULL;
  StoreSignals signals = { 0 };
  guint8 unknown[SOTTO_MESSAGE_UID_LEN] = { 9 };
  guint8 uid[SOTTO_MESSAGE_UID_LEN];

  store = sotto_test_create_store (dir, "Nia", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Oz", NULL, hint, &error);
  g_assert_no_error (error);
  first = queue_message (store, contact, "first");
  second = queue_message (store, contact, "second");
  third = queue_message (store, contact, "third");
  randombytes_buf (uid, sizeof uid);
  theirs = save_incoming (store, contact, uid, "theirs", NULL);
  g_signal_connect (store, "message-state-changed", G_CALLBACK (on_message_state_changed),
                    &signals);

  /* Sent is told, never written. */
  sotto_store_note_sent (store, sotto_contact_get_id (contact), sotto_message_get_id (first));
  g_assert_cmpuint (signals.n_changed, ==, 1);
  g_assert_cmpint (signals.changed_state, ==, SOTTO_MESSAGE_SENT);
  g_assert_cmpint (signals.changed_message_id, ==, sotto_message_get_id (first));
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM messages WHERE state = 1"), ==, 0);

  /* Read while still queued (its delivered receipt was lost). */
  g_assert_true (mark_read_by_peer (store, contact, sotto_message_get_uid (first)));
  g_assert_cmpuint (signals.n_changed, ==, 2);
  g_assert_cmpint (signals.changed_contact_id, ==, sotto_contact_get_id (contact));
  g_assert_cmpint (signals.changed_message_id, ==, sotto_message_get_id (first));
  g_assert_cmpint (signals.changed_state, ==, SOTTO_MESSAGE_READ);

  /* The delivered receipt, late: nothing changes. */
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_mark_delivered_async (store, contact, sotto_message_get_uid (first), NULL,
                                      sotto_test_result_cb, &result);
    g_assert_false (sotto_store_mark_delivered_finish (store, sotto_test_wait (&result), &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (signals.n_changed, ==, 2);

  /* Delivered, then read, then read again. */
  mark_delivered (store, contact, second);
  g_assert_cmpuint (signals.n_changed, ==, 3);
  g_assert_true (mark_read_by_peer (store, contact, sotto_message_get_uid (second)));
  g_assert_cmpuint (signals.n_changed, ==, 4);
  g_assert_cmpint (signals.changed_state, ==, SOTTO_MESSAGE_READ);
  g_assert_false (mark_read_by_peer (store, contact, sotto_message_get_uid (second)));
  g_assert_cmpuint (signals.n_changed, ==, 4);

  /* Not ours, or nobody's: ignored. */
  g_assert_false (mark_read_by_peer (store, contact, sotto_message_get_uid (theirs)));
  g_assert_false (mark_read_by_peer (store, contact, unknown));
  g_assert_cmpuint (signals.n_changed, ==, 4);

  /* On disk, across a restart: the outbox has only the third. */
  g_clear_object (&contact);
  sotto_test_close_store (&store);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  queue = sotto_test_outbox (store, NULL);
  g_assert_cmpuint (queue->len, ==, 1);
  g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (queue, 0)), ==,
                   sotto_message_get_id (third));
  page = history (store, contact, 0, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 4);
  g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (page, 0)), ==, SOTTO_MESSAGE_READ);
  g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (page, 1)), ==, SOTTO_MESSAGE_READ);
  g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (page, 2)), ==,
                   SOTTO_MESSAGE_QUEUED);
  g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (page, 3)), ==,
                   SOTTO_MESSAGE_DELIVERED);
}

/* Unread count and last activity of every conversation, and after a
 * purge. */
static void
test_store_read_summaries (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) ann = NULL;
  g_autoptr (SottoContact) ben = NULL;
  g_autoptr (SottoContact) cat = NULL;
  g_autoptr (SottoMessage) newest = NULL;
  g_autoptr (GPtrArray) uids = NULL;
  g_autofree SottoConversationSummary *summary = NULL;
  g_autoptr (GError) error = NULL;
  guint8 uid[SOTTO_MESSAGE_UID_LEN];

  store = sotto_test_create_store (dir, "Pia", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  ann = sotto_test_add_contact (store, "Ann", NULL, hint, &error);
  ben = sotto_test_add_contact (store, "Ben", NULL, hint, &error);
  cat = sotto_test_add_contact (store, "Cat", NULL, hint, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < 2; i++)
    {
      randombytes_buf (uid, sizeof uid);
      g_object_unref (save_incoming (store, ann, uid, "to Pia", NULL));
    }
  newest = queue_message (store, ann, "from Pia");
  randombytes_buf (uid, sizeof uid);
  g_object_unref (save_incoming (store, cat, uid, "read soon", NULL));
  uids = mark_read (store, cat, G_MAXINT64);
  g_assert_cmpuint (uids->len, ==, 1);

  summary = summary_of (store, ann, 3);
  g_assert_cmpuint (summary->unread, ==, 2);
  /* Our own message was the last thing that happened. */
  g_assert_cmpint (summary->last_activity, ==, sotto_message_get_sent (newest));
  g_clear_pointer (&summary, g_free);
  summary = summary_of (store, ben, 3);
  g_assert_cmpuint (summary->unread, ==, 0);
  g_assert_cmpint (summary->last_activity, ==, 0);
  g_clear_pointer (&summary, g_free);
  summary = summary_of (store, cat, 3);
  g_assert_cmpuint (summary->unread, ==, 0);
  g_assert_cmpint (summary->last_activity, >, 0);
  g_clear_pointer (&summary, g_free);

  /* Purged messages are no longer unread; the activity stays. */
  g_assert_cmpuint (purge (store, ann, G_MAXINT64, FALSE), ==, 2);
  summary = summary_of (store, ann, 3);
  g_assert_cmpuint (summary->unread, ==, 0);
  g_assert_cmpint (summary->last_activity, ==, sotto_message_get_sent (newest));
  g_clear_pointer (&summary, g_free);
}

/* With history off, received messages are not on disk, but unread until
 * marked read, as long as the store is open. Our messages go as soon as
 * the peer has them, read or delivered. */
static void
test_store_read_history_off (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoMessage) received = NULL;
  g_autoptr (SottoMessage) later = NULL;
  g_autoptr (SottoMessage) ours = NULL;
  g_autoptr (GPtrArray) uids = NULL;
  g_autoptr (GArray) read = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree SottoConversationSummary *summary = NULL;
  g_autoptr (GError) error = NULL;
  StoreSignals signals = { 0 };
  guint8 uid[SOTTO_MESSAGE_UID_LEN];

  store = sotto_test_create_store (dir, "Quy", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Rex", NULL, hint, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (apply_retention (store, FALSE), ==, 0);
  g_signal_connect (store, "conversation-read", G_CALLBACK (on_conversation_read), read);
  g_signal_connect (store, "message-state-changed", G_CALLBACK (on_message_state_changed),
                    &signals);

  randombytes_buf (uid, sizeof uid);
  received = save_incoming (store, contact, uid, "not kept", NULL);
  randombytes_buf (uid, sizeof uid);
  later = save_incoming (store, contact, uid, "not kept either", NULL);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM messages"), ==, 0);
  summary = summary_of (store, contact, 1);
  g_assert_cmpuint (summary->unread, ==, 2);
  g_clear_pointer (&summary, g_free);

  /* Up to the first: its uid, for the receipt. */
  uids = mark_read (store, contact, sotto_message_get_id (received));
  assert_uids (uids, (SottoMessage *[]) { received }, 1);
  g_clear_pointer (&uids, g_ptr_array_unref);
  g_assert_cmpuint (read->len, ==, 1);
  summary = summary_of (store, contact, 1);
  g_assert_cmpuint (summary->unread, ==, 1);
  g_clear_pointer (&summary, g_free);
  uids = mark_read (store, contact, sotto_message_get_id (received));
  g_assert_cmpuint (uids->len, ==, 0);
  g_clear_pointer (&uids, g_ptr_array_unref);
  g_assert_cmpuint (read->len, ==, 1);

  /* Only while the store is open. */
  g_clear_object (&contact);
  sotto_test_close_store (&store);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (apply_retention (store, FALSE), ==, 0);
  g_signal_connect (store, "message-state-changed", G_CALLBACK (on_message_state_changed),
                    &signals);
  contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  summary = summary_of (store, contact, 1);
  g_assert_cmpuint (summary->unread, ==, 0);

  ours = queue_message (store, contact, "kept until read");
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM messages"), ==, 1);
  g_assert_true (mark_read_by_peer (store, contact, sotto_message_get_uid (ours)));
  g_assert_cmpuint (signals.n_changed, ==, 1);
  g_assert_cmpint (signals.changed_state, ==, SOTTO_MESSAGE_READ);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM messages"), ==, 0);
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM outbox"), ==, 0);
}

/* The user's own name changes, is stored sealed, and survives reopening;
 * a name that could not be created is refused and changes nothing. */
static void
test_store_display_name (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  SottoStore *store = sotto_test_create_store (dir, "Old Name", SOTTO_KEY_PROTECTION_PASSPHRASE,
                                               "pass", &error);
  g_autofree char *hit = NULL;
  guint notified = 0;

  g_assert_no_error (error);
  g_signal_connect_swapped (sotto_store_get_identity (store), "notify::display-name",
                            G_CALLBACK (g_atomic_int_inc), &notified);

  sotto_store_set_display_name_async (store, "New Name", NULL, sotto_test_result_cb, &result);
  g_assert_true (sotto_store_set_display_name_finish (store, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpstr (sotto_identity_get_display_name (sotto_store_get_identity (store)), ==,
                   "New Name");
  g_assert_cmpuint (notified, ==, 1);

  sotto_store_set_display_name_async (store, "\x01" "bad", NULL, sotto_test_result_cb, &result);
  g_assert_false (sotto_store_set_display_name_finish (store, sotto_test_wait (&result), &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_clear_object (&result);
  g_assert_cmpstr (sotto_identity_get_display_name (sotto_store_get_identity (store)), ==,
                   "New Name");

  sotto_test_close_store (&store);
  /* Sealed: neither name is in the files as text. */
  g_assert_false (sotto_test_dir_contains (dir, "New Name", &hit));

  store = sotto_test_open_store (dir, "pass", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sotto_identity_get_display_name (sotto_store_get_identity (store)), ==,
                   "New Name");
  sotto_test_close_store (&store);
  sotto_test_rm_rf (dir);
}

/* ------------------------------------------------------------------ */
/* Giving up on old messages, and trying again                        */

#define EXPIRY_SPAN ((gint64)SOTTO_OUTBOX_EXPIRY_DAYS * G_TIME_SPAN_DAY)

typedef struct
{
  gint64            contact_id;
  gint64            message_id;
  SottoMessageState state;
} StateChange;

static void
on_state_logged (SottoStore        *store,
                 gint64             contact_id,
                 gint64             message_id,
                 SottoMessageState  state,
                 GArray            *log)
{
  StateChange change = { contact_id, message_id, state };

  g_array_append_val (log, change);
}

static guint
expire (SottoStore *store,
        gint64      now_us)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  guint n;

  sotto_store_expire_outbox_async (store, now_us, NULL, sotto_test_result_cb, &result);
  n = sotto_store_expire_outbox_finish (store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);

  return n;
}

static gboolean
retry (SottoStore    *store,
       SottoMessage  *message,
       GError       **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_store_retry_message_async (store, message, NULL, sotto_test_result_cb, &result);
  return sotto_store_retry_message_finish (store, sotto_test_wait (&result), error);
}

static GPtrArray *
list_failed (SottoStore   *store,
             SottoContact *contact)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *failed;

  sotto_store_list_failed_async (store, contact, NULL, sotto_test_result_cb, &result);
  failed = sotto_store_list_failed_finish (store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);

  return failed;
}

/* The state on disk, read through the store. */
static SottoMessageState
stored_state (SottoStore   *store,
              SottoContact *contact,
              SottoMessage *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) page = history (store, contact, sotto_message_get_id (message) + 1, 1,
                                        &error);

  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 1);
  g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (page, 0)), ==,
                   sotto_message_get_id (message));
  return sotto_message_get_state (g_ptr_array_index (page, 0));
}

static gboolean
outbox_has (SottoStore   *store,
            SottoMessage *message)
{
  g_autoptr (GPtrArray) queue = sotto_test_outbox (store, NULL);

  for (guint i = 0; i < queue->len; i++)
    if (sotto_message_get_id (g_ptr_array_index (queue, i)) == sotto_message_get_id (message))
      return TRUE;
  return FALSE;
}

/* Expiry counts to the microsecond from when each message was queued: at
 * exactly SOTTO_OUTBOX_EXPIRY_DAYS a message still waits, one microsecond
 * later it has failed, left the outbox, and views were told. */
static void
test_store_outbox_expire_limit (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoMessage) first = NULL;
  g_autoptr (SottoMessage) second = NULL;
  g_autoptr (GArray) log = g_array_new (FALSE, FALSE, sizeof (StateChange));
  g_autoptr (GPtrArray) failed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *sql = NULL;
  const gint64 t = G_GINT64_CONSTANT (1800000000000000);

  store = sotto_test_create_store (dir, "Ken", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Liz", NULL, hint, &error);
  g_assert_no_error (error);
  first = queue_message (store, contact, "one");
  second = queue_message (store, contact, "two");

  /* Queued at known times, ten microseconds apart. */
  sql = g_strdup_printf ("UPDATE outbox SET queued = %" G_GINT64_FORMAT " WHERE message_id = %"
                         G_GINT64_FORMAT "; UPDATE outbox SET queued = %" G_GINT64_FORMAT
                         " WHERE message_id = %" G_GINT64_FORMAT ";",
                         t, sotto_message_get_id (first), t + 10, sotto_message_get_id (second));
  raw_sql (dir, sql);
  g_signal_connect (store, "message-state-changed", G_CALLBACK (on_state_logged), log);

  /* Long before, and at the limit: nothing. */
  g_assert_cmpuint (expire (store, t), ==, 0);
  g_assert_cmpuint (expire (store, t + EXPIRY_SPAN), ==, 0);
  g_assert_cmpuint (log->len, ==, 0);
  g_assert_true (outbox_has (store, first));
  g_assert_cmpint (stored_state (store, contact, first), ==, SOTTO_MESSAGE_QUEUED);

  /* One microsecond past it: the first, and only the first. */
  g_assert_cmpuint (expire (store, t + EXPIRY_SPAN + 1), ==, 1);
  g_assert_cmpuint (log->len, ==, 1);
  g_assert_cmpint (g_array_index (log, StateChange, 0).contact_id, ==,
                   sotto_contact_get_id (contact));
  g_assert_cmpint (g_array_index (log, StateChange, 0).message_id, ==,
                   sotto_message_get_id (first));
  g_assert_cmpint (g_array_index (log, StateChange, 0).state, ==, SOTTO_MESSAGE_FAILED);
  g_assert_false (outbox_has (store, first));
  g_assert_true (outbox_has (store, second));
  g_assert_cmpint (stored_state (store, contact, first), ==, SOTTO_MESSAGE_FAILED);
  g_assert_cmpint (stored_state (store, contact, second), ==, SOTTO_MESSAGE_QUEUED);

  /* Given up on once: not again. The second at its own limit, then past. */
  g_assert_cmpuint (expire (store, t + 10 + EXPIRY_SPAN), ==, 0);
  g_assert_cmpuint (log->len, ==, 1);
  g_assert_cmpuint (expire (store, t + 10 + EXPIRY_SPAN + 1), ==, 1);
  g_assert_cmpuint (log->len, ==, 2);
  g_assert_cmpint (g_array_index (log, StateChange, 1).message_id, ==,
                   sotto_message_get_id (second));
  g_assert_cmpint (g_array_index (log, StateChange, 1).state, ==, SOTTO_MESSAGE_FAILED);
  g_signal_handlers_disconnect_by_data (store, log);

  /* Nothing is sent any more; both are there to be retried, oldest first. */
  {
    g_autoptr (GPtrArray) queue = sotto_test_outbox (store, NULL);

    g_assert_cmpuint (queue->len, ==, 0);
  }
  failed = list_failed (store, contact);
  g_assert_cmpuint (failed->len, ==, 2);
  g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (failed, 0)), ==,
                   sotto_message_get_id (first));
  g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (failed, 1)), ==,
                   SOTTO_MESSAGE_FAILED);
  g_assert_cmpstr (sotto_message_get_body (g_ptr_array_index (failed, 1)), ==, "two");
  g_clear_pointer (&failed, g_ptr_array_unref);

  /* On disk: still failed after a restart. */
  g_clear_object (&contact);
  sotto_test_close_store (&store);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  g_assert_cmpint (stored_state (store, contact, first), ==, SOTTO_MESSAGE_FAILED);
  failed = list_failed (store, NULL);
  g_assert_cmpuint (failed->len, ==, 2);
}

/* A delivered (or read) message is out of the outbox and never fails; one
 * given up on whose receipt comes after all is delivered, not failed. */
static void
test_store_outbox_expire_delivered (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoMessage) delivered = NULL;
  g_autoptr (SottoMessage) late = NULL;
  g_autoptr (GArray) log = g_array_new (FALSE, FALSE, sizeof (StateChange));
  g_autoptr (GPtrArray) failed = NULL;
  g_autoptr (GError) error = NULL;

  store = sotto_test_create_store (dir, "Ken", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Liz", NULL, hint, &error);
  g_assert_no_error (error);
  delivered = queue_message (store, contact, "got there");
  late = queue_message (store, contact, "got there late");
  mark_delivered (store, contact, delivered);

  g_signal_connect (store, "message-state-changed", G_CALLBACK (on_state_logged), log);
  g_assert_cmpuint (expire (store, g_get_real_time () + 100 * EXPIRY_SPAN), ==, 1);
  g_assert_cmpuint (log->len, ==, 1);
  g_assert_cmpint (g_array_index (log, StateChange, 0).message_id, ==, sotto_message_get_id (late));
  g_assert_cmpint (stored_state (store, contact, delivered), ==, SOTTO_MESSAGE_DELIVERED);
  g_assert_cmpint (stored_state (store, contact, late), ==, SOTTO_MESSAGE_FAILED);

  /* The peer had it after all. */
  mark_delivered (store, contact, late);
  g_assert_cmpuint (log->len, ==, 2);
  g_assert_cmpint (g_array_index (log, StateChange, 1).message_id, ==, sotto_message_get_id (late));
  g_assert_cmpint (g_array_index (log, StateChange, 1).state, ==, SOTTO_MESSAGE_DELIVERED);
  g_assert_cmpint (stored_state (store, contact, late), ==, SOTTO_MESSAGE_DELIVERED);
  failed = list_failed (store, NULL);
  g_assert_cmpuint (failed->len, ==, 0);
  g_assert_cmpuint (expire (store, g_get_real_time () + 100 * EXPIRY_SPAN), ==, 0);
  g_assert_cmpuint (log->len, ==, 2);
  g_signal_handlers_disconnect_by_data (store, log);
}

/* A retry puts the message back in the outbox under the same id, queued
 * now: a whole new week, also after a restart. */
static void
test_store_outbox_retry (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoMessage) message = NULL;
  g_autoptr (GArray) log = g_array_new (FALSE, FALSE, sizeof (StateChange));
  g_autoptr (GPtrArray) failed = NULL;
  g_autoptr (GPtrArray) queue = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *queued_sql = NULL;
  gint64 before;
  gint64 after;
  gint64 queued;
  guint8 uid[SOTTO_MESSAGE_UID_LEN];

  store = sotto_test_create_store (dir, "Ken", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Liz", NULL, hint, &error);
  g_assert_no_error (error);
  message = queue_message (store, contact, "try, try again");
  memcpy (uid, sotto_message_get_uid (message), sizeof uid);
  g_assert_cmpuint (expire (store, g_get_real_time () + EXPIRY_SPAN + G_TIME_SPAN_SECOND), ==, 1);

  /* What the caller holds is what history says: failed. */
  failed = list_failed (store, contact);
  g_assert_cmpuint (failed->len, ==, 1);
  g_clear_object (&message);
  message = g_object_ref (g_ptr_array_index (failed, 0));
  g_assert_cmpint (sotto_message_get_state (message), ==, SOTTO_MESSAGE_FAILED);

  g_signal_connect (store, "message-state-changed", G_CALLBACK (on_state_logged), log);
  before = g_get_real_time ();
  g_assert_true (retry (store, message, &error));
  g_assert_no_error (error);
  after = g_get_real_time ();

  g_assert_cmpint (sotto_message_get_state (message), ==, SOTTO_MESSAGE_QUEUED);
  g_assert_cmpuint (log->len, ==, 1);
  g_assert_cmpint (g_array_index (log, StateChange, 0).contact_id, ==,
                   sotto_contact_get_id (contact));
  g_assert_cmpint (g_array_index (log, StateChange, 0).message_id, ==,
                   sotto_message_get_id (message));
  g_assert_cmpint (g_array_index (log, StateChange, 0).state, ==, SOTTO_MESSAGE_QUEUED);
  g_signal_handlers_disconnect_by_data (store, log);

  queue = sotto_test_outbox (store, contact);
  g_assert_cmpuint (queue->len, ==, 1);
  g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (queue, 0)), ==,
                   sotto_message_get_id (message));
  g_assert_cmpmem (sotto_message_get_uid (g_ptr_array_index (queue, 0)), SOTTO_MESSAGE_UID_LEN,
                   uid, sizeof uid);
  g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (queue, 0)), ==,
                   SOTTO_MESSAGE_QUEUED);
  g_clear_pointer (&queue, g_ptr_array_unref);
  g_clear_pointer (&failed, g_ptr_array_unref);
  failed = list_failed (store, contact);
  g_assert_cmpuint (failed->len, ==, 0);
  g_clear_pointer (&failed, g_ptr_array_unref);

  /* It survives a restart, queued at the time of the retry. */
  g_clear_object (&contact);
  sotto_test_close_store (&store);
  queued_sql = g_strdup_printf ("SELECT queued FROM outbox WHERE message_id = %" G_GINT64_FORMAT,
                                sotto_message_get_id (message));
  queued = raw_int (dir, queued_sql);
  g_assert_cmpint (queued, >=, before);
  g_assert_cmpint (queued, <=, after);
  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  g_assert_cmpint (stored_state (store, contact, message), ==, SOTTO_MESSAGE_QUEUED);
  queue = sotto_test_outbox (store, NULL);
  g_assert_cmpuint (queue->len, ==, 1);
  g_assert_cmpmem (sotto_message_get_uid (g_ptr_array_index (queue, 0)), SOTTO_MESSAGE_UID_LEN,
                   uid, sizeof uid);

  /* A new week from the retry: at its limit still queued, then failed. */
  g_assert_cmpuint (expire (store, queued + EXPIRY_SPAN), ==, 0);
  g_assert_cmpint (stored_state (store, contact, message), ==, SOTTO_MESSAGE_QUEUED);
  g_assert_cmpuint (expire (store, queued + EXPIRY_SPAN + 1), ==, 1);
  g_assert_cmpint (stored_state (store, contact, message), ==, SOTTO_MESSAGE_FAILED);

  /* And again, as often as the user likes. */
  g_assert_true (retry (store, message, &error));
  g_assert_no_error (error);
  g_assert_cmpint (stored_state (store, contact, message), ==, SOTTO_MESSAGE_QUEUED);
}

static void
assert_retry_refused (const char   *dir,
                      SottoStore   *store,
                      SottoContact *contact,
                      SottoMessage *message,
                      int           code)
{
  g_autoptr (GArray) log = g_array_new (FALSE, FALSE, sizeof (StateChange));
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) queue_before = sotto_test_outbox (store, NULL);
  g_autoptr (GPtrArray) queue_after = NULL;
  g_autoptr (GPtrArray) history_before = history (store, contact, 0, 100, &error);
  g_autoptr (GPtrArray) history_after = NULL;
  SottoMessageState held = sotto_message_get_state (message);

  g_assert_no_error (error);
  g_signal_connect (store, "message-state-changed", G_CALLBACK (on_state_logged), log);
  g_assert_false (retry (store, message, &error));
  g_assert_error (error, SOTTO_ERROR, code);
  g_assert_nonnull (error->message);
  g_clear_error (&error);
  g_signal_handlers_disconnect_by_data (store, log);

  /* Nothing changed: no signal, the same queue, the same states. */
  g_assert_cmpuint (log->len, ==, 0);
  g_assert_cmpint (sotto_message_get_state (message), ==, held);
  queue_after = sotto_test_outbox (store, NULL);
  g_assert_cmpuint (queue_after->len, ==, queue_before->len);
  for (guint i = 0; i < queue_after->len; i++)
    g_assert_cmpint (sotto_message_get_id (g_ptr_array_index (queue_after, i)), ==,
                     sotto_message_get_id (g_ptr_array_index (queue_before, i)));
  history_after = history (store, contact, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (history_after->len, ==, history_before->len);
  for (guint i = 0; i < history_after->len; i++)
    g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (history_after, i)), ==,
                     sotto_message_get_state (g_ptr_array_index (history_before, i)));
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM outbox"), ==, (gint64)queue_before->len);
}

/* Only an outgoing message that failed may be retried: anything else is
 * refused, and nothing changes. */
static void
test_store_outbox_retry_refused (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoContact) other = NULL;
  g_autoptr (SottoMessage) queued = NULL;
  g_autoptr (SottoMessage) delivered = NULL;
  g_autoptr (SottoMessage) incoming = NULL;
  g_autoptr (SottoMessage) failed = NULL;
  g_autoptr (SottoMessage) orphan = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;
  guint8 uid[SOTTO_MESSAGE_UID_LEN] = { 0x5a };
  const char * const other_hint[] = { "192.0.2.8:7483", NULL };

  store = sotto_test_create_store (dir, "Ken", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Liz", NULL, hint, &error);
  g_assert_no_error (error);
  queued = queue_message (store, contact, "still waiting");
  delivered = queue_message (store, contact, "arrived");
  mark_delivered (store, contact, delivered);
  incoming = save_incoming (store, contact, uid, "from Liz", NULL);

  assert_retry_refused (dir, store, contact, queued, SOTTO_ERROR_INVALID_ARGUMENT);
  assert_retry_refused (dir, store, contact, delivered, SOTTO_ERROR_INVALID_ARGUMENT);
  assert_retry_refused (dir, store, contact, incoming, SOTTO_ERROR_INVALID_ARGUMENT);

  /* Failed, retried once: a second retry (a stale copy that still says
   * failed) is refused. */
  g_assert_cmpuint (expire (store, g_get_real_time () + EXPIRY_SPAN + G_TIME_SPAN_SECOND), ==, 1);
  list = list_failed (store, contact);
  g_assert_cmpuint (list->len, ==, 1);
  failed = g_object_ref (g_ptr_array_index (list, 0));
  g_clear_pointer (&list, g_ptr_array_unref);
  list = list_failed (store, contact);
  g_assert_true (retry (store, failed, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (list, 0)), ==,
                   SOTTO_MESSAGE_FAILED);
  assert_retry_refused (dir, store, contact, g_ptr_array_index (list, 0),
                        SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* A message gone with its contact. */
  other = sotto_test_add_contact (store, "Max", NULL, other_hint, &error);
  g_assert_no_error (error);
  orphan = queue_message (store, other, "to someone removed");
  g_assert_cmpuint (expire (store, g_get_real_time () + EXPIRY_SPAN + G_TIME_SPAN_SECOND), ==, 2);
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_remove_contact_async (store, other, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_remove_contact_finish (store, sotto_test_wait (&result), &error));
    g_assert_no_error (error);
  }
  g_assert_false (retry (store, orphan, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND);
}

/* ------------------------------------------------------------------ */
/* File transfers                                                     */

static SottoTransfer *
new_transfer (SottoContact   *contact,
              guint8          id_byte,
              SottoDirection  direction)
{
  guint8 uid[SOTTO_FILE_ID_LEN] = { id_byte };
  guint8 hash[SOTTO_FILE_HASH_LEN] = { 0xab };
  g_autoptr (GBytes) head = g_bytes_new_static ("%PDF-", 5);

  return _sotto_transfer_new (sotto_contact_get_id (contact), uid, direction, 1700000000000000,
                              "report.pdf", 5, hash, head, "application/pdf");
}

static SottoTransfer *
save_transfer (SottoStore    *store,
               SottoTransfer *transfer,
               gboolean      *out_is_new,
               GError       **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_store_save_transfer_async (store, transfer, NULL, sotto_test_result_cb, &result);
  return sotto_store_save_transfer_finish (store, sotto_test_wait (&result), out_is_new, error);
}

static GPtrArray *
list_transfers (SottoStore *store,
                guint      *out_n_damaged)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *list;

  sotto_store_list_transfers_async (store, NULL, NULL, sotto_test_result_cb, &result);
  list = sotto_store_list_transfers_finish (store, sotto_test_wait (&result), out_n_damaged, &error);
  g_assert_no_error (error);
  return list;
}

/* A transfer comes back as it was written, across a reopen; its state
 * changes in place. */
static void
test_store_transfers_round_trip (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = make_store_with_messages (dir, 0);
  g_autoptr (SottoContact) contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  g_autoptr (SottoTransfer) transfer = new_transfer (contact, 1, SOTTO_DIRECTION_IN);
  g_autoptr (SottoTransfer) saved = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;
  gboolean is_new = FALSE;
  SottoTransfer *back;
  const guint8 *owed = NULL;
  guint8 code = 0;

  saved = save_transfer (store, transfer, &is_new, &error);
  g_assert_no_error (error);
  g_assert_true (is_new);
  g_assert_cmpint (sotto_transfer_get_id (transfer), >, 0);

  _sotto_transfer_set_path (transfer, "/tmp/folder/report.pdf.01000000.part");
  _sotto_transfer_end (transfer, SOTTO_FILE_CANCEL_CANCELLED, FALSE);
  _sotto_transfer_owe (transfer, SOTTO_TRANSFER_OWES_CANCEL, SOTTO_FILE_CANCEL_CANCELLED);
  _sotto_transfer_set_progress (transfer, 3);
  g_clear_object (&saved);
  saved = save_transfer (store, transfer, &is_new, &error);
  g_assert_no_error (error);
  g_clear_object (&contact);
  sotto_test_close_store (&store);

  store = sotto_test_open_store (dir, "pw", &error);
  g_assert_no_error (error);
  list = list_transfers (store, NULL);
  g_assert_cmpuint (list->len, ==, 1);
  back = g_ptr_array_index (list, 0);
  g_assert_cmpmem (sotto_transfer_get_uid (back), SOTTO_FILE_ID_LEN,
                   sotto_transfer_get_uid (transfer), SOTTO_FILE_ID_LEN);
  g_assert_cmpstr (sotto_transfer_get_name (back), ==, "report.pdf");
  g_assert_cmpstr (sotto_transfer_get_declared_type (back), ==, "application/pdf");
  g_assert_cmpuint (sotto_transfer_get_size (back), ==, 5);
  g_assert_cmpmem (sotto_transfer_get_hash (back), SOTTO_FILE_HASH_LEN,
                   sotto_transfer_get_hash (transfer), SOTTO_FILE_HASH_LEN);
  g_assert_cmpmem (g_bytes_get_data (sotto_transfer_get_head (back), NULL),
                   g_bytes_get_size (sotto_transfer_get_head (back)), "%PDF-", 5);
  g_assert_cmpint (sotto_transfer_get_state (back), ==, SOTTO_TRANSFER_CANCELLED);
  g_assert_cmpint (sotto_transfer_get_reason (back), ==, SOTTO_FILE_CANCEL_CANCELLED);
  g_assert_false (sotto_transfer_get_ended_by_peer (back));
  g_assert_cmpstr (_sotto_transfer_peek_path (back), ==, "/tmp/folder/report.pdf.01000000.part");
  g_assert_cmpuint (sotto_transfer_get_progress (back), ==, 3);
  g_assert_cmpint (_sotto_transfer_get_owes (back, &owed, &code), ==, SOTTO_TRANSFER_OWES_CANCEL);
  g_assert_cmpuint (code, ==, SOTTO_FILE_CANCEL_CANCELLED);
  {
    const guint8 *expected = NULL;

    _sotto_transfer_get_owes (transfer, &expected, NULL);
    g_assert_cmpmem (owed, SOTTO_MESSAGE_UID_LEN, expected, SOTTO_MESSAGE_UID_LEN);
  }
  /* Nothing of the name, type, first bytes or path is in the clear. */
  g_assert_cmpint (raw_int (dir, "SELECT count(*) FROM transfers WHERE instr(name, 'report') > 0 "
                                 "OR instr(type, 'pdf') > 0 OR instr(head, 'PDF') > 0 "
                                 "OR instr(path, 'folder') > 0"), ==, 0);
}

/* The same offer twice is one transfer; an offer under the id of one of
 * ours is refused. */
static void
test_store_transfers_duplicate (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = make_store_with_messages (dir, 0);
  g_autoptr (SottoContact) contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  g_autoptr (SottoTransfer) first = new_transfer (contact, 2, SOTTO_DIRECTION_IN);
  g_autoptr (SottoTransfer) again = new_transfer (contact, 2, SOTTO_DIRECTION_IN);
  g_autoptr (SottoTransfer) ours = new_transfer (contact, 3, SOTTO_DIRECTION_OUT);
  g_autoptr (SottoTransfer) echo = new_transfer (contact, 3, SOTTO_DIRECTION_IN);
  g_autoptr (SottoTransfer) saved = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;
  gboolean is_new = TRUE;

  saved = save_transfer (store, first, &is_new, &error);
  g_assert_no_error (error);
  g_clear_object (&saved);
  saved = save_transfer (store, again, &is_new, &error);
  g_assert_no_error (error);
  g_assert_false (is_new);
  g_assert_cmpint (sotto_transfer_get_id (saved), ==, sotto_transfer_get_id (first));
  g_assert_cmpint (sotto_transfer_get_id (again), ==, 0);
  g_clear_object (&saved);

  saved = save_transfer (store, ours, &is_new, &error);
  g_assert_no_error (error);
  g_clear_object (&saved);
  saved = save_transfer (store, echo, &is_new, &error);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_assert_null (saved);

  list = list_transfers (store, NULL);
  g_assert_cmpuint (list->len, ==, 2);
}

/* A state, a size or an owed word changed in the file: the record no
 * longer authenticates and is left out, counted. */
static void
test_store_transfers_tamper (void)
{
  const char *edits[] = {
    "UPDATE transfers SET state = 4",          /* cancelled → done */
    "UPDATE transfers SET scan = 1",           /* not scanned → clean */
    "UPDATE transfers SET size = 6",
    "UPDATE transfers SET owes = 0, owed_uid = NULL",
    "UPDATE transfers SET direction = 0",
    "UPDATE transfers SET contact_id = contact_id + 0, uid = zeroblob(16)",
  };

  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      g_autofree char *dir = sotto_test_make_profile_dir ();
      g_autoptr (SottoStore) store = make_store_with_messages (dir, 0);
      g_autoptr (SottoContact) contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);
      g_autoptr (SottoTransfer) transfer = new_transfer (contact, 4, SOTTO_DIRECTION_IN);
      g_autoptr (SottoTransfer) saved = NULL;
      g_autoptr (GPtrArray) list = NULL;
      g_autoptr (GError) error = NULL;
      guint n_damaged = 0;

      _sotto_transfer_end (transfer, SOTTO_FILE_CANCEL_DECLINED, FALSE);
      _sotto_transfer_owe (transfer, SOTTO_TRANSFER_OWES_CANCEL, SOTTO_FILE_CANCEL_DECLINED);
      saved = save_transfer (store, transfer, NULL, &error);
      g_assert_no_error (error);
      g_clear_object (&contact);
      sotto_test_close_store (&store);

      raw_sql (dir, edits[i]);
      store = sotto_test_open_store (dir, "pw", &error);
      g_assert_no_error (error);
      list = list_transfers (store, &n_damaged);
      g_assert_cmpuint (list->len, ==, 0);
      g_assert_cmpuint (n_damaged, ==, 1);

      /* Nor is it written again over the change. */
      g_clear_object (&saved);
      _sotto_transfer_owe (transfer, SOTTO_TRANSFER_OWES_NOTHING, 0);
      saved = save_transfer (store, transfer, NULL, &error);
      g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED);
    }
}


int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/seal/roundtrip", test_seal_roundtrip);
  g_test_add_func ("/seal/bound-to-place", test_seal_bound_to_place);
  g_test_add_func ("/seal/every-bit-flip", test_seal_every_bit_flip);
  g_test_add_func ("/seal/lengths", test_seal_lengths);
  g_test_add_func ("/store/keyring/roundtrip", test_store_keyring_roundtrip);
  g_test_add_func ("/store/keyring/item-missing", test_store_keyring_item_missing);
  g_test_add_func ("/store/passphrase/roundtrip", test_store_passphrase);
  g_test_add_func ("/store/passphrase/limits", test_store_passphrase_limits);
  g_test_add_func ("/store/passphrase/limits-from-file", test_store_pwhash_limits_from_file);
  g_test_add_func ("/store/protection/change", test_store_change_protection);
  g_test_add_func ("/store/create/exists-and-missing", test_store_exists_and_missing);
  g_test_add_func ("/store/identity/display-name", test_store_display_name);
  g_test_add_func ("/store/create/bad-name-leaves-nothing", test_store_bad_display_name_leaves_nothing);
  g_test_add_func ("/store/create/over-unfinished", test_store_create_over_unfinished);
  g_test_add_func ("/store/create/under-temporary-name", test_store_create_under_temporary_name);
  g_test_add_func ("/store/create/keeps-foreign", test_store_create_keeps_foreign);
  g_test_add_func ("/store/files/modes", test_store_file_modes);
  g_test_add_func ("/store/profile-lock", test_store_profile_lock);
  g_test_add_func ("/store/transfers/round-trip", test_store_transfers_round_trip);
  g_test_add_func ("/store/transfers/duplicate", test_store_transfers_duplicate);
  g_test_add_func ("/store/transfers/tamper", test_store_transfers_tamper);
  g_test_add_func ("/store/tamper/swap-rows", test_store_tamper_swap_rows);
  g_test_add_func ("/store/tamper/bit-flip", test_store_tamper_bit_flip);
  g_test_add_func ("/store/tamper/move-contact-name", test_store_tamper_move_contact_name);
  for (guint i = 0; i < G_N_ELEMENTS (contact_tampers); i++)
    {
      g_autofree char *path = g_strdup_printf ("/store/tamper/contacts/%s",
                                               contact_tampers[i].column);

      g_test_add_data_func (path, &contact_tampers[i], test_store_tamper_contact_column);
    }
  for (guint i = 0; i < G_N_ELEMENTS (message_tampers); i++)
    {
      g_autofree char *path = g_strdup_printf ("/store/tamper/messages/%s",
                                               message_tampers[i].column);

      g_test_add_data_func (path, &message_tampers[i], test_store_tamper_message_column);
    }
  g_test_add_func ("/store/tamper/outbox", test_store_tamper_outbox);
  g_test_add_func ("/store/tamper/contact-added-again", test_store_tamper_contact_readd);
  g_test_add_func ("/store/key-changed/stale-report", test_store_key_changed_stale);
  g_test_add_func ("/store/damage/truncated", test_store_damage_truncated);
  g_test_add_func ("/store/damage/garbage", test_store_damage_garbage);
  g_test_add_func ("/store/damage/foreign-database", test_store_damage_foreign_database);
  g_test_add_func ("/store/damage/newer-version", test_store_damage_newer_version);
  g_test_add_func ("/store/damage/keyinfo-deleted", test_store_damage_keyinfo_deleted);
  g_test_add_func ("/store/migrate/from-v1", test_store_migrate_from_v1);
  g_test_add_func ("/store/migrate/failure-leaves-file", test_store_migration_failure_leaves_file);
  g_test_add_func ("/store/at-rest/no-plaintext", test_store_no_plaintext_on_disk);
  g_test_add_func ("/store/contacts", test_store_contacts);
  g_test_add_func ("/store/contacts/find", test_store_find_contact);
  g_test_add_func ("/store/contacts/remove-address", test_store_remove_contact_address);
  g_test_add_func ("/store/contacts/accept-key-in-place", test_store_accept_key_in_place);
  g_test_add_func ("/store/contacts/update-from-invite", test_store_update_from_invite);
  g_test_add_func ("/store/outbox/deliver", test_store_outbox);
  g_test_add_func ("/store/outbox/expire/limit", test_store_outbox_expire_limit);
  g_test_add_func ("/store/outbox/expire/delivered-never-fails",
                   test_store_outbox_expire_delivered);
  g_test_add_func ("/store/outbox/retry", test_store_outbox_retry);
  g_test_add_func ("/store/outbox/retry/refused", test_store_outbox_retry_refused);
  g_test_add_func ("/store/incoming/duplicates", test_store_incoming_duplicates);
  g_test_add_func ("/store/incoming/echo-of-our-uid", test_store_incoming_echo_of_our_uid);
  g_test_add_func ("/store/threads/changes-on-main-thread", test_store_changes_on_main_thread);
  g_test_add_func ("/store/ids/never-reused", test_store_ids_never_reused);
  g_test_add_func ("/store/history/pages", test_store_history_pages);
  g_test_add_func ("/store/message/body-limits", test_store_body_limits);
  g_test_add_func ("/store/message/body-validate-len", test_store_body_validate_len);
  g_test_add_func ("/store/purge/raw-files", test_store_purge_raw_files);
  g_test_add_func ("/store/purge/retention", test_store_retention);
  g_test_add_func ("/store/purge/keeps-failed", test_store_purge_keeps_failed);
  g_test_add_func ("/store/purge/retention-follows-settings", test_store_retention_follows_settings);
  g_test_add_func ("/store/history-off/delivered-deleted-at-once",
                   test_store_history_off_delivered);
  g_test_add_func ("/store/history-off/received-not-kept", test_store_history_off_received);
  g_test_add_func ("/store/history-off/queued-kept", test_store_history_off_queued);
  g_test_add_func ("/store/history-off/user-may-not-delete",
                   test_store_history_off_user_may_not_delete);
  g_test_add_func ("/store/history-off/seen-pruned", test_store_history_off_seen_pruned);
  g_test_add_func ("/store/history-on/unchanged", test_store_history_on_unchanged);
  g_test_add_func ("/store/search/folding", test_store_search);
  g_test_add_func ("/store/search/batches-and-cancel", test_store_search_batches_and_cancel);
  g_test_add_func ("/store/search/order-and-damage", test_store_search_order_and_damage);
  g_test_add_func ("/store/read/mark-read", test_store_read_mark_read);
  g_test_add_func ("/store/read/by-peer", test_store_read_by_peer);
  g_test_add_func ("/store/read/summaries", test_store_read_summaries);
  g_test_add_func ("/store/read/history-off", test_store_read_history_off);

  sotto_test_keyring_start ();
  status = g_test_run ();
  sotto_test_keyring_stop ();

  return status;
}
