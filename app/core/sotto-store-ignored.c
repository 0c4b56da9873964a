/* sotto-store-ignored.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Strangers the user ignored: their key is refused, without a request or
 * a notification, until a set time, across restarts; then forgotten. A
 * stranger's public key is not kept in the clear: a row holds a keyed
 * BLAKE2b tag of it (the key derived from the store key), so the file
 * does not say whom the user ignored, yet a key can be looked up. The
 * main thread keeps every tag in memory, for the peer service to check
 * each caller before anything else happens.
 */
#define G_LOG_DOMAIN "sotto-store"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <sqlite3.h>

#include "sotto-store-private.h"

#define IGNORE_TAG_CONTEXT "sottoign"
G_STATIC_ASSERT (sizeof IGNORE_TAG_CONTEXT - 1 == crypto_kdf_CONTEXTBYTES);

/* The subkey id of the tag key (sotto-store-seal.c uses 1 for row MACs). */
#define IGNORE_TAG_SUBKEY 2

static void
tag_of (const guint8 *tag_key,
        const guint8 *public_key,
        guint8        tag[SOTTO_STORE_IGNORE_TAG_LEN])
{
  crypto_generichash (tag, SOTTO_STORE_IGNORE_TAG_LEN, public_key, SOTTO_KEY_LEN, tag_key,
                      crypto_generichash_KEYBYTES);
}

static char *
tag_hex (const guint8 tag[SOTTO_STORE_IGNORE_TAG_LEN])
{
  char hex[SOTTO_STORE_IGNORE_TAG_LEN * 2 + 1];

  sodium_bin2hex (hex, sizeof hex, tag, SOTTO_STORE_IGNORE_TAG_LEN);
  return g_strdup (hex);
}

/* On the worker, while opening: the tag key, and the ignores that still
 * hold (the rest is deleted). */
gboolean
_sotto_store_load_ignored (SottoStore   *self,
                           guint8      **out_tag_key,
                           GHashTable  **out_ignored,
                           GError      **error)
{
  g_autoptr (sqlite3_stmt) expire = NULL;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GHashTable) ignored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gint64 now = g_get_real_time ();
  guint8 *tag_key;
  int rc;

  _sotto_store_assert_worker (self);
  g_assert (self->key != NULL);

  expire = _sotto_store_db_prepare (self, "DELETE FROM ignored_keys WHERE until <= ?", error);
  if (expire == NULL)
    return FALSE;
  sqlite3_bind_int64 (expire, 1, now);
  if (!_sotto_store_db_step_done (self, expire, error))
    return FALSE;

  stmt = _sotto_store_db_prepare (self, "SELECT tag, until FROM ignored_keys", error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 *until = g_new (gint64, 1);

      if (sqlite3_column_bytes (stmt, 0) != SOTTO_STORE_IGNORE_TAG_LEN)
        {
          g_free (until);
          continue;
        }
      *until = sqlite3_column_int64 (stmt, 1);
      g_hash_table_insert (ignored, tag_hex (sqlite3_column_blob (stmt, 0)), until);
    }
  if (rc != SQLITE_DONE)
    return _sotto_store_set_db_error (error, self->db, rc, "reading ignored keys");

  tag_key = sodium_malloc (crypto_generichash_KEYBYTES);
  g_assert (tag_key != NULL);
  crypto_kdf_derive_from_key (tag_key, crypto_generichash_KEYBYTES, IGNORE_TAG_SUBKEY,
                              IGNORE_TAG_CONTEXT, self->key);
  *out_tag_key = tag_key;
  *out_ignored = g_steal_pointer (&ignored);
  return TRUE;
}

typedef struct
{
  guint8 tag[SOTTO_STORE_IGNORE_TAG_LEN];
  gint64 until;
} IgnoreRequest;

static gpointer
ignore_job (SottoStore    *self,
            gpointer       data,
            GCancellable  *cancellable,
            GError       **error)
{
  IgnoreRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self,
                                  "INSERT OR REPLACE INTO ignored_keys (tag, until) VALUES (?, ?)",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_blob (stmt, 1, request->tag, SOTTO_STORE_IGNORE_TAG_LEN, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, request->until);
  if (!_sotto_store_db_step_done (self, stmt, error))
    return NULL;
  return GINT_TO_POINTER (TRUE);
}

/**
 * sotto_store_ignore_key_async:
 * @public_key: a stranger's key
 * @until: when the ignore ends, in microseconds since the epoch
 *
 * Ignores @public_key until @until: sotto_store_is_key_ignored() says so
 * at once, and after a restart once this completes.
 */
void
sotto_store_ignore_key_async (SottoStore          *self,
                              const guint8        *public_key,
                              gint64               until,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  IgnoreRequest *request;
  gint64 *held;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (public_key != NULL);
  g_return_if_fail (self->ignore_tag_key != NULL);

  request = g_new0 (IgnoreRequest, 1);
  tag_of (self->ignore_tag_key, public_key, request->tag);
  request->until = until;
  held = g_new (gint64, 1);
  *held = until;
  g_hash_table_replace (self->ignored, tag_hex (request->tag), held);

  _sotto_store_schedule (self, sotto_store_ignore_key_async, ignore_job, NULL, request, g_free,
                         NULL, cancellable, callback, user_data);
}

gboolean
sotto_store_ignore_key_finish (SottoStore    *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_pointer (G_TASK (result), error) != NULL;
}

/**
 * sotto_store_is_key_ignored:
 * @public_key: a caller's key
 *
 * Returns: whether the user ignored @public_key and the ignore still
 *   holds; cheap, for every incoming session
 */
gboolean
sotto_store_is_key_ignored (SottoStore   *self,
                            const guint8 *public_key)
{
  guint8 tag[SOTTO_STORE_IGNORE_TAG_LEN];
  g_autofree char *hex = NULL;
  gint64 *until;

  g_return_val_if_fail (SOTTO_IS_STORE (self), FALSE);
  g_return_val_if_fail (public_key != NULL, FALSE);

  if (self->ignore_tag_key == NULL || g_hash_table_size (self->ignored) == 0)
    return FALSE;
  tag_of (self->ignore_tag_key, public_key, tag);
  hex = tag_hex (tag);
  until = g_hash_table_lookup (self->ignored, hex);
  if (until == NULL)
    return FALSE;
  if (*until > g_get_real_time ())
    return TRUE;
  /* Over: forgotten (the row goes at the next start). */
  g_hash_table_remove (self->ignored, hex);
  return FALSE;
}
