/* sotto-store-log.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The security log (sotto-security-log.h): what was refused, blocked,
 * flagged or changed, kept in the store and sealed like the rest. Who or
 * what an entry is about and its detail are sealed columns; its kind,
 * count and times are bound by the row's mac.
 *
 * What a stranger can cause at will (refused connections, a blocked key
 * calling) is summarised: one row per kind, subject, detail and hour,
 * with a count. The main thread gathers events and hands them to the
 * worker in batches — one write while the previous one is under way
 * gathers everything that came meanwhile — so that a flood costs a few
 * writes, not one per connection. A summarised row is found again by a
 * keyed tag of what it summarises, so the file does not say it in the
 * clear. The log keeps SOTTO_SECURITY_LOG_MAX_ENTRIES rows at most (the
 * oldest go first) and follows history-retention-days.
 */
#define G_LOG_DOMAIN "sotto-store"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>

#include "sotto-error.h"
#include "sotto-seal.h"
#include "sotto-store-private.h"

#define LOG_TAG_CONTEXT "sottolog"
G_STATIC_ASSERT (sizeof LOG_TAG_CONTEXT - 1 == crypto_kdf_CONTEXTBYTES);
/* The subkey id of the tag key (1 is the row MACs', 2 the ignored keys'). */
#define LOG_TAG_SUBKEY 3
#define LOG_TAG_LEN    16

#define HOUR_US ((gint64)3600 * G_USEC_PER_SEC)

#define LOG_MAC(t)                                                                   \
  "sotto_row_mac('security_log', " t "id, " t "kind, " t "tag, " t "count, " t "first, " \
  t "last)"

enum {
  COL_ID, COL_KIND, COL_COUNT, COL_FIRST, COL_LAST, COL_SUBJECT, COL_DETAIL, COL_MAC,
  COL_EXPECTED_MAC,
};

typedef struct
{
  GPtrArray *entries;   /* SottoSecurityLogEntry */
  guint      limit;     /* listing */
  guint      n_damaged;
} LogRequest;

static void
log_request_free (LogRequest *request)
{
  g_clear_pointer (&request->entries, g_ptr_array_unref);
  g_free (request);
}

/* -------------------------------------------------------------------------
 * Worker
 * ------------------------------------------------------------------------- */

static void
tag_of (const guint8                *tag_key,
        const SottoSecurityLogEntry *entry,
        guint8                       tag[LOG_TAG_LEN])
{
  crypto_generichash_state state;
  guint8 header[12];
  gint64 hour = entry->first / HOUR_US;

  /* Unambiguous: the kind, the hour, then each text with its end. */
  for (guint i = 0; i < 4; i++)
    header[i] = (guint8)((guint32)entry->kind >> (8 * i));
  for (guint i = 0; i < 8; i++)
    header[4 + i] = (guint8)((guint64)hour >> (8 * i));
  crypto_generichash_init (&state, tag_key, crypto_generichash_KEYBYTES, LOG_TAG_LEN);
  crypto_generichash_update (&state, header, sizeof header);
  crypto_generichash_update (&state, (const guint8 *)entry->subject, strlen (entry->subject) + 1);
  crypto_generichash_update (&state, (const guint8 *)entry->detail, strlen (entry->detail) + 1);
  crypto_generichash_final (&state, tag, LOG_TAG_LEN);
}

static gboolean
insert_entry (SottoStore                   *self,
              const SottoSecurityLogEntry  *entry,
              const guint8                 *tag,
              GError                      **error)
{
  g_autoptr (CachedStmt) stmt = NULL;
  g_autoptr (GBytes) subject = NULL;
  g_autoptr (GBytes) detail = NULL;
  gint64 id;

  _sotto_store_assert_worker (self);

  if ((id = _sotto_store_db_next_id (self, "security_log", error)) == 0)
    return FALSE;
  subject = _sotto_store_seal_string (self, "security_log", "subject", id, entry->subject);
  detail = _sotto_store_seal_string (self, "security_log", "detail", id, entry->detail);
  stmt = _sotto_store_db_cached (self,
                                 "INSERT INTO security_log (id, kind, tag, count, first, last, "
                                 "subject, detail, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                                 "sotto_row_mac('security_log', ?1, ?2, ?3, ?4, ?5, ?6))",
                                 error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int (stmt, 2, entry->kind);
  if (tag != NULL)
    sqlite3_bind_blob (stmt, 3, tag, LOG_TAG_LEN, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, 3);
  sqlite3_bind_int64 (stmt, 4, entry->count);
  sqlite3_bind_int64 (stmt, 5, entry->first);
  sqlite3_bind_int64 (stmt, 6, entry->last);
  _sotto_store_bind_sealed (stmt, 7, subject);
  _sotto_store_bind_sealed (stmt, 8, detail);
  return _sotto_store_db_step_done (self, stmt, error);
}

/* Adds a summarised entry's count to the row of its hour, or makes it. */
static gboolean
merge_entry (SottoStore                   *self,
             const SottoSecurityLogEntry  *entry,
             const guint8                 *tag_key,
             GError                      **error)
{
  g_autoptr (CachedStmt) update = NULL;
  g_autoptr (CachedStmt) drop = NULL;
  guint8 tag[LOG_TAG_LEN];

  _sotto_store_assert_worker (self);

  tag_of (tag_key, entry, tag);
  /* Only a row that still authenticates is counted on and signed again. */
  update = _sotto_store_db_cached (self,
                                   "UPDATE security_log SET count = MIN(count + ?2, 4294967295), "
                                   "last = MAX(last, ?3), "
                                   "mac = sotto_row_mac('security_log', id, kind, tag, "
                                   "MIN(count + ?2, 4294967295), first, MAX(last, ?3)) "
                                   "WHERE tag = ?1 AND mac = " LOG_MAC (""),
                                   error);
  if (update == NULL)
    return FALSE;
  sqlite3_bind_blob (update, 1, tag, LOG_TAG_LEN, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (update, 2, entry->count);
  sqlite3_bind_int64 (update, 3, entry->last);
  if (!_sotto_store_db_step_done (self, update, error))
    return FALSE;
  if (sqlite3_changes (self->db) == 1)
    return TRUE;

  /* None, or one that no longer authenticates: that one is replaced. */
  drop = _sotto_store_db_cached (self, "DELETE FROM security_log WHERE tag = ?", error);
  if (drop == NULL)
    return FALSE;
  sqlite3_bind_blob (drop, 1, tag, LOG_TAG_LEN, SQLITE_TRANSIENT);
  if (!_sotto_store_db_step_done (self, drop, error))
    return FALSE;
  return insert_entry (self, entry, tag, error);
}

/* The oldest rows beyond SOTTO_SECURITY_LOG_MAX_ENTRIES go. */
static gboolean
trim_log (SottoStore  *self,
          GError     **error)
{
  g_autoptr (CachedStmt) trim = NULL;

  _sotto_store_assert_worker (self);

  trim = _sotto_store_db_cached (self,
                                 "DELETE FROM security_log WHERE id IN (SELECT id FROM security_log "
                                 "ORDER BY last DESC, id DESC LIMIT -1 OFFSET ?)",
                                 error);
  if (trim == NULL)
    return FALSE;
  sqlite3_bind_int (trim, 1, SOTTO_SECURITY_LOG_MAX_ENTRIES);
  return _sotto_store_db_step_done (self, trim, error);
}

static gpointer
write_log_job (SottoStore    *self,
               gpointer       data,
               GCancellable  *cancellable,
               GError       **error)
{
  LogRequest *request = data;
  guint8 *tag_key;
  gboolean ok = TRUE;

  _sotto_store_assert_worker (self);
  g_assert (self->key != NULL);

  tag_key = sodium_malloc (crypto_generichash_KEYBYTES);
  g_assert (tag_key != NULL);
  crypto_kdf_derive_from_key (tag_key, crypto_generichash_KEYBYTES, LOG_TAG_SUBKEY,
                              LOG_TAG_CONTEXT, self->key);

  if (!_sotto_store_db_begin (self, error))
    ok = FALSE;
  for (guint i = 0; ok && i < request->entries->len; i++)
    {
      SottoSecurityLogEntry *entry = g_ptr_array_index (request->entries, i);

      ok = sotto_security_event_is_summarised (entry->kind)
             ? merge_entry (self, entry, tag_key, error)
             : insert_entry (self, entry, NULL, error);
    }
  ok = ok && trim_log (self, error) && _sotto_store_db_commit (self, error);
  sodium_free (tag_key);

  if (!ok)
    {
      _sotto_store_db_rollback (self);
      return NULL;
    }
  return GINT_TO_POINTER (TRUE);
}

/* NULL, with @error unset, for a row that does not authenticate. */
static SottoSecurityLogEntry *
load_entry (SottoStore    *self,
            sqlite3_stmt  *stmt)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoSecurityLogEntry) entry = g_new0 (SottoSecurityLogEntry, 1);
  gint64 id = sqlite3_column_int64 (stmt, COL_ID);
  gint64 count = sqlite3_column_int64 (stmt, COL_COUNT);
  int kind = sqlite3_column_int (stmt, COL_KIND);

  _sotto_store_assert_worker (self);

  if (!_sotto_store_row_mac_matches (stmt, COL_MAC, COL_EXPECTED_MAC) ||
      kind < 1 || kind > SOTTO_SECURITY_EVENT_LAST || count < 1 || count > G_MAXUINT32)
    return NULL;

  entry->kind = kind;
  entry->count = (guint)count;
  entry->first = sqlite3_column_int64 (stmt, COL_FIRST);
  entry->last = sqlite3_column_int64 (stmt, COL_LAST);
  entry->subject = _sotto_store_unseal_string (self, stmt, COL_SUBJECT, "security_log",
                                               "subject", id, &error);
  if (entry->subject != NULL)
    entry->detail = _sotto_store_unseal_string (self, stmt, COL_DETAIL, "security_log",
                                                "detail", id, &error);
  if (error != NULL)
    {
      g_debug ("log entry %" G_GINT64_FORMAT " left out: %s", id, error->message);
      return NULL;
    }
  return g_steal_pointer (&entry);
}

static gpointer
list_log_job (SottoStore    *self,
              gpointer       data,
              GCancellable  *cancellable,
              GError       **error)
{
  LogRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) entries =
    g_ptr_array_new_with_free_func ((GDestroyNotify)sotto_security_log_entry_free);
  int rc;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self,
                                  "SELECT id, kind, count, first, last, subject, detail, mac, "
                                  LOG_MAC ("") " FROM security_log "
                                  "ORDER BY last DESC, id DESC LIMIT ?",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, request->limit);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SottoSecurityLogEntry *entry = load_entry (self, stmt);

      if (entry != NULL)
        g_ptr_array_add (entries, entry);
      else
        request->n_damaged++;
    }
  if (rc != SQLITE_DONE)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading the security log"));
      return NULL;
    }
  return g_steal_pointer (&entries);
}

/* On the worker, with retention: entries last seen before @before go. */
gboolean
_sotto_store_purge_log (SottoStore  *self,
                        gint64       before,
                        GError     **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self, "DELETE FROM security_log WHERE last < ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, before);
  return _sotto_store_db_step_done (self, stmt, error);
}

/* -------------------------------------------------------------------------
 * Main thread
 * ------------------------------------------------------------------------- */

static void flush_log (SottoStore *self);

/* For g_ptr_array_sort(): pointers to the elements. */
static int
compare_first (gconstpointer a,
               gconstpointer b)
{
  const SottoSecurityLogEntry *entry_a = *(SottoSecurityLogEntry * const *)a;
  const SottoSecurityLogEntry *entry_b = *(SottoSecurityLogEntry * const *)b;

  return (entry_a->first > entry_b->first) - (entry_a->first < entry_b->first);
}

static gpointer
log_written_apply (SottoStore *self,
                   gpointer    request,
                   gpointer    data)
{
  _sotto_store_emit_security_log_changed (self);
  return data;
}

static void
on_log_written_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  SottoStore *self = SOTTO_STORE (object);
  g_autoptr (GError) error = NULL;

  /* A full disk is the store's write error already, said once. */
  if (g_task_propagate_pointer (G_TASK (result), &error) == NULL &&
      !g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_STORE))
    g_warning ("The security log could not be written: %s", error->message);
  else if (error != NULL)
    g_debug ("The security log could not be written: %s", error->message);
  self->log_writing = FALSE;
  /* What came while this one was written. */
  if (g_hash_table_size (self->log_pending) > 0)
    flush_log (self);
}

static void
flush_log (SottoStore *self)
{
  LogRequest *request;
  GHashTableIter iter;
  SottoSecurityLogEntry *entry;
  char *key;

  g_assert (SOTTO_IS_STORE (self));

  if (g_hash_table_size (self->log_pending) == 0)
    return;

  request = g_new0 (LogRequest, 1);
  request->entries = g_ptr_array_new_full (g_hash_table_size (self->log_pending),
                                           (GDestroyNotify)sotto_security_log_entry_free);
  g_hash_table_iter_init (&iter, self->log_pending);
  while (g_hash_table_iter_next (&iter, (gpointer *)&key, (gpointer *)&entry))
    {
      /* The entry goes to the worker; its key is not needed any more. */
      g_ptr_array_add (request->entries, entry);
      g_hash_table_iter_steal (&iter);
      g_free (key);
    }
  /* In time order: the trim then drops what is really oldest. */
  g_ptr_array_sort (request->entries, compare_first);

  self->log_writing = TRUE;
  _sotto_store_schedule (self, flush_log, write_log_job, log_written_apply, request,
                         (GDestroyNotify)log_request_free, NULL, NULL, on_log_written_cb, NULL);
}

/**
 * sotto_store_log_event:
 * @kind: what happened
 * @subject: (nullable): who or what it is about (see #SottoSecurityEvent)
 * @detail: (nullable): more about it
 *
 * Adds an event to the security log: written soon, in a batch with
 * others; a summarised kind is counted into the entry of its hour. Texts
 * are cut to %SOTTO_SECURITY_LOG_TEXT_MAX bytes. Cheap enough to call for
 * every refused connection.
 */
void
sotto_store_log_event (SottoStore         *self,
                       SottoSecurityEvent  kind,
                       const char         *subject,
                       const char         *detail)
{
  g_autofree char *clipped_subject = NULL;
  g_autofree char *clipped_detail = NULL;
  g_autofree char *key = NULL;
  SottoSecurityLogEntry *entry;
  gint64 now = g_get_real_time ();

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (kind >= 1 && kind <= SOTTO_SECURITY_EVENT_LAST);

  clipped_subject = sotto_security_log_clip (subject);
  clipped_detail = sotto_security_log_clip (detail);
  if (sotto_security_event_is_summarised (kind))
    key = g_strdup_printf ("%d\x1f%" G_GINT64_FORMAT "\x1f%s\x1f%s", kind, now / HOUR_US,
                           clipped_subject, clipped_detail);
  else
    key = g_strdup_printf ("%" G_GUINT64_FORMAT, ++self->log_serial);

  entry = g_hash_table_lookup (self->log_pending, key);
  if (entry != NULL)
    {
      if (entry->count < G_MAXUINT)
        entry->count++;
      entry->last = now;
      return;
    }

  entry = g_new0 (SottoSecurityLogEntry, 1);
  entry->kind = kind;
  entry->subject = g_steal_pointer (&clipped_subject);
  entry->detail = g_steal_pointer (&clipped_detail);
  entry->count = 1;
  entry->first = entry->last = now;
  g_hash_table_insert (self->log_pending, g_steal_pointer (&key), entry);

  if (!self->log_writing || g_hash_table_size (self->log_pending) >= SOTTO_SECURITY_LOG_MAX_PENDING)
    flush_log (self);
}

static gpointer
nothing_job (SottoStore    *self,
             gpointer       data,
             GCancellable  *cancellable,
             GError       **error)
{
  return GINT_TO_POINTER (TRUE);
}

/**
 * sotto_store_write_log_async:
 *
 * Writes what the security log gathered: completes once every event
 * logged before this call is on disk (or failed to get there, which the
 * log warns about). For a front end about to exit.
 */
void
sotto_store_write_log_async (SottoStore          *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (SOTTO_IS_STORE (self));

  flush_log (self);
  /* The worker runs jobs in order. */
  _sotto_store_schedule (self, sotto_store_write_log_async, nothing_job, NULL, NULL, NULL, NULL,
                         cancellable, callback, user_data);
}

gboolean
sotto_store_write_log_finish (SottoStore    *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_pointer (G_TASK (result), error) != NULL;
}

/**
 * sotto_store_list_security_log_async:
 * @limit: how many entries at most, newest first
 *
 * Lists the security log, with what was logged but not written yet.
 * Entries that no longer authenticate are left out and counted.
 */
void
sotto_store_list_security_log_async (SottoStore          *self,
                                     guint                limit,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  LogRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (limit > 0);

  /* The worker runs jobs in order: written before they are read. */
  flush_log (self);

  request = g_new0 (LogRequest, 1);
  request->limit = limit;
  _sotto_store_schedule (self, sotto_store_list_security_log_async, list_log_job,
                         NULL, request, (GDestroyNotify)log_request_free,
                         (GDestroyNotify)g_ptr_array_unref, cancellable, callback, user_data);
}

/**
 * sotto_store_list_security_log_finish:
 * @out_damaged: (out) (optional): how many entries were left out
 *
 * Returns: (transfer container) (element-type SottoSecurityLogEntry): the
 *   entries, newest first
 */
GPtrArray *
sotto_store_list_security_log_finish (SottoStore    *self,
                                      GAsyncResult  *result,
                                      guint         *out_damaged,
                                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  if (out_damaged != NULL)
    {
      LogRequest *request = _sotto_store_job_get_data (G_TASK (result));

      *out_damaged = request->n_damaged;
    }
  return g_task_propagate_pointer (G_TASK (result), error);
}
