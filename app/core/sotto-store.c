/* sotto-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One SQLite database per profile, used only from one worker thread: every
 * public call queues a job there and completes on the caller's main context.
 * Secret fields are sealed (sotto-seal.c) under a random store key that is
 * itself kept in the Secret Service or wrapped under a passphrase.
 *
 * Front ends see results on the main thread only: the contact list model is
 * changed there, after the worker has committed.
 */
#define G_LOG_DOMAIN "sotto-store"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sodium.h>
#include <sqlite3.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sotto-contact-private.h"
#include "sotto-error.h"
#include "sotto-message-private.h"
#include "sotto-profile-lock.h"
#include "sotto-seal.h"
#include "sotto-store.h"
#include "sotto-identity-private.h"
#include "sotto-store-private.h"

G_DEFINE_FINAL_TYPE (SottoStore, sotto_store, G_TYPE_OBJECT)

typedef struct
{
  gint64 id;
  guint8 uid[SOTTO_MESSAGE_UID_LEN];
} Unstored;

enum {
  MESSAGE_ADDED,
  MESSAGE_STATE_CHANGED,
  HISTORY_PURGED,
  CONVERSATION_READ,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* -------------------------------------------------------------------------
 * The worker
 * ------------------------------------------------------------------------- */

typedef struct
{
  StoreJobFunc    run;
  StoreApplyFunc  apply;
  gpointer        data;
  GDestroyNotify  data_free;
  gpointer        result;
  GDestroyNotify  result_free;
  GError         *error;
} StoreJob;

static void
store_job_free (StoreJob *job)
{
  if (job->data_free != NULL)
    g_clear_pointer (&job->data, job->data_free);
  if (job->result != NULL && job->result_free != NULL)
    g_clear_pointer (&job->result, job->result_free);
  g_clear_error (&job->error);
  g_free (job);
}

static gboolean
job_complete_cb (gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoStore *self = g_task_get_source_object (task);
  StoreJob *job = g_task_get_task_data (task);
  gpointer result;

  if (job->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&job->error));
      return G_SOURCE_REMOVE;
    }

  result = g_steal_pointer (&job->result);
  if (job->apply != NULL)
    result = job->apply (self, job->data, result);
  g_task_return_pointer (task, result, job->result_free);

  return G_SOURCE_REMOVE;
}

/* Not g_main_context_invoke(): when nobody iterates @context at that
 * moment, it would acquire it and run @func right here on the worker, and
 * front ends would see the contact model change on the wrong thread. */
void
_sotto_store_run_in_context (GMainContext *context,
                             GSourceFunc   func,
                             gpointer      data)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, NULL);
  g_source_set_static_name (source, "[sotto-store] completion");
  g_source_attach (source, context);
  g_source_unref (source);
}

static void
worker_func (gpointer data,
             gpointer user_data)
{
  GTask *task = data;
  SottoStore *self = g_task_get_source_object (task);
  StoreJob *job = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (!g_cancellable_set_error_if_cancelled (cancellable, &job->error))
    job->result = job->run (self, job->data, cancellable, &job->error);

  /* Back to the caller's context, which owns the task from here on. */
  _sotto_store_run_in_context (g_task_get_context (task), job_complete_cb, task);
}

void
_sotto_store_schedule (SottoStore          *self,
                       gpointer             source_tag,
                       StoreJobFunc         run,
                       StoreApplyFunc       apply,
                       gpointer             data,
                       GDestroyNotify       data_free,
                       GDestroyNotify       result_free,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  StoreJob *job = g_new0 (StoreJob, 1);

  job->run = run;
  job->apply = apply;
  job->data = data;
  job->data_free = data_free;
  job->result_free = result_free;
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, job, (GDestroyNotify)store_job_free);

  g_thread_pool_push (self->pool, task, NULL);
}

/* What a job was scheduled with, for a _finish() that reports more than
 * the result. */
gpointer
_sotto_store_job_get_data (GTask *task)
{
  return ((StoreJob *)g_task_get_task_data (task))->data;
}

/* -------------------------------------------------------------------------
 * SQLite helpers (worker thread)
 * ------------------------------------------------------------------------- */

void
_sotto_store_cached_stmt_release (CachedStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

/* @what says what we were doing, e.g. _("opening"). */
gboolean
_sotto_store_set_db_error (GError     **error,
                           sqlite3     *db,
                           int          rc,
                           const char  *what)
{
  int primary = rc & 0xff;
  const char *detail = db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc);

  /* Translators: the first %s says what Sotto was doing, e.g. "opening";
   * the second is SQLite's own (English) message. */
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
    g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                 _("The history database is damaged (%s): %s"), what, detail);
  else if (primary == SQLITE_FULL)
    g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_STORE,
                 _("The disk is full (%s)"), what);
  else
    g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_STORE,
                 _("The history database failed (%s): %s"), what, detail);

  return FALSE;
}

gboolean
_sotto_store_db_exec (SottoStore  *self,
                      const char  *sql,
                      GError     **error)
{
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    return _sotto_store_set_db_error (error, self->db, rc, sql);

  return TRUE;
}

/* A statement kept prepared for the life of the connection, for the
 * statements every message runs: compiling one costs more than running
 * it. @sql must be a literal, and a caller holds it with
 * g_autoptr (CachedStmt); the same SQL must not be in use twice at once. */
sqlite3_stmt *
_sotto_store_db_cached (SottoStore  *self,
                        const char  *sql,
                        GError     **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);
  int rc;

  if (stmt != NULL)
    {
      g_assert (!sqlite3_stmt_busy (stmt));
      return stmt;
    }

  rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      _sotto_store_set_db_error (error, self->db, rc, sql);
      return NULL;
    }

  g_hash_table_insert (self->statements, (gpointer)sql, stmt);
  return stmt;
}

/* Closes the connection, with the statements it keeps prepared. */
static void
db_close (SottoStore *self)
{
  g_hash_table_remove_all (self->statements);
  if (self->db != NULL && sqlite3_close (self->db) != SQLITE_OK)
    g_critical ("The history database was not closed: %s", sqlite3_errmsg (self->db));
  self->db = NULL;
}

sqlite3_stmt *
_sotto_store_db_prepare (SottoStore  *self,
                         const char  *sql,
                         GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);

  if (rc != SQLITE_OK)
    {
      _sotto_store_set_db_error (error, self->db, rc, sql);
      return NULL;
    }

  return stmt;
}

/* Runs a statement that returns no rows (or ignores them). */
gboolean
_sotto_store_db_step_done (SottoStore    *self,
                           sqlite3_stmt  *stmt,
                           GError       **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    ;

  if (rc != SQLITE_DONE)
    return _sotto_store_set_db_error (error, self->db, rc, sqlite3_sql (stmt));

  return TRUE;
}

/* Runs a cached statement that returns no rows. */
gboolean
_sotto_store_db_run_cached (SottoStore  *self,
                            const char  *sql,
                            GError     **error)
{
  g_autoptr (CachedStmt) stmt = _sotto_store_db_cached (self, sql, error);

  return stmt != NULL && _sotto_store_db_step_done (self, stmt, error);
}

gboolean
_sotto_store_db_begin (SottoStore  *self,
                       GError     **error)
{
  return _sotto_store_db_run_cached (self, "BEGIN IMMEDIATE", error);
}

gboolean
_sotto_store_db_commit (SottoStore  *self,
                        GError     **error)
{
  return _sotto_store_db_run_cached (self, "COMMIT", error);
}

void
_sotto_store_db_rollback (SottoStore *self)
{
  if (!sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

/* The id for a new row of @table, known before the insert because the
 * sealed columns are bound to it. Must run inside the insert's
 * transaction. */
gint64
_sotto_store_db_next_id (SottoStore  *self,
                         const char  *table,
                         GError     **error)
{
  g_autoptr (CachedStmt) find = NULL;
  g_autoptr (CachedStmt) bump = NULL;
  gint64 next;
  int rc;

  /* A SELECT and an UPDATE, not UPDATE … RETURNING: RETURNING makes
   * SQLite open a statement journal, which costs more than the rest. */
  find = _sotto_store_db_cached (self, "SELECT next FROM id_counters WHERE name = ?", error);
  if (find == NULL)
    return 0;
  sqlite3_bind_text (find, 1, table, -1, SQLITE_STATIC);

  rc = sqlite3_step (find);
  if (rc != SQLITE_ROW)
    {
      if (rc == SQLITE_DONE)
        g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                     _("The history database has no id counter for “%s”: it is damaged"), table);
      else
        _sotto_store_set_db_error (error, self->db, rc, _("allocating an id"));
      return 0;
    }
  next = sqlite3_column_int64 (find, 0);
  if (next < 1 || next == G_MAXINT64)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                   _("The history database has no id counter for “%s”: it is damaged"), table);
      return 0;
    }

  bump = _sotto_store_db_cached (self, "UPDATE id_counters SET next = ? WHERE name = ?", error);
  if (bump == NULL)
    return 0;
  sqlite3_bind_int64 (bump, 1, next + 1);
  sqlite3_bind_text (bump, 2, table, -1, SQLITE_STATIC);
  if (!_sotto_store_db_step_done (self, bump, error))
    return 0;

  return next;
}

static void
remove_db_files (const char *db_path)
{
  static const char *suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path = g_strconcat (db_path, suffixes[i], NULL);

      if (g_unlink (path) != 0 && errno != ENOENT)
        g_debug ("Could not remove %s: %s", path, g_strerror (errno));
    }
}

/* -------------------------------------------------------------------------
 * Rows to objects (worker thread)
 * ------------------------------------------------------------------------- */

#define MESSAGE_COLUMNS \
  "m.id, c.contact_id, m.uid, m.direction, m.state, m.sent, m.received, m.body"

static SottoMessage *
message_from_row (SottoStore    *self,
                  sqlite3_stmt  *stmt,
                  GError       **error)
{
  gint64 id = sqlite3_column_int64 (stmt, 0);
  gint64 direction = sqlite3_column_int64 (stmt, 3);
  gint64 state = sqlite3_column_int64 (stmt, 4);
  g_autofree char *body = NULL;

  if (sqlite3_column_bytes (stmt, 2) != SOTTO_MESSAGE_UID_LEN ||
      (direction != SOTTO_DIRECTION_IN && direction != SOTTO_DIRECTION_OUT) ||
      state < SOTTO_MESSAGE_QUEUED || state > SOTTO_MESSAGE_FAILED)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                   _("Message %lld is damaged"), (long long)id);
      return NULL;
    }

  body = _sotto_store_unseal_string (self, stmt, 7, "messages", "body", id, error);
  if (body == NULL)
    return NULL;

  return _sotto_message_new (id, sqlite3_column_int64 (stmt, 1), sqlite3_column_blob (stmt, 2),
                             (SottoDirection)direction, (SottoMessageState)state,
                             sqlite3_column_int64 (stmt, 5), sqlite3_column_int64 (stmt, 6),
                             body);
}

GPtrArray *
_sotto_store_load_messages (SottoStore    *self,
                            sqlite3_stmt  *stmt,
                            GError       **error)
{
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SottoMessage *message = message_from_row (self, stmt, error);

      if (message == NULL)
        return NULL;
      g_ptr_array_add (messages, message);
    }

  if (rc != SQLITE_DONE)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading messages"));
      return NULL;
    }

  return g_steal_pointer (&messages);
}

/* -------------------------------------------------------------------------
 * Create and open (worker thread)
 * ------------------------------------------------------------------------- */

static gboolean
insert_identity (SottoStore     *self,
                 SottoIdentity  *identity,
                 GError        **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GBytes) secret = NULL;
  g_autoptr (GBytes) name = NULL;

  secret = sotto_seal (self->key, "identity", "secret_key", 1,
                       sotto_identity_get_secret_key (identity), SOTTO_KEY_LEN);
  name = _sotto_store_seal_string (self, "identity", "display_name", 1,
                                   sotto_identity_get_display_name (identity));

  stmt = _sotto_store_db_prepare (self,
                                  "INSERT INTO identity (id, public_key, secret_key, display_name, "
                                  "created) VALUES (1, ?, ?, ?, ?)",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_blob (stmt, 1, sotto_identity_get_public_key (identity), SOTTO_KEY_LEN,
                     SQLITE_TRANSIENT);
  _sotto_store_bind_sealed (stmt, 2, secret);
  _sotto_store_bind_sealed (stmt, 3, name);
  sqlite3_bind_int64 (stmt, 4, g_get_real_time ());

  return _sotto_store_db_step_done (self, stmt, error);
}

typedef struct
{
  SottoIdentity *identity;
  GPtrArray     *contacts;
} OpenResult;

static void
open_result_free (OpenResult *result)
{
  g_clear_object (&result->identity);
  g_clear_pointer (&result->contacts, g_ptr_array_unref);
  g_free (result);
}

static gboolean
ensure_lock (SottoStore  *self,
             GError     **error)
{
  if (self->lock == NULL)
    self->lock = sotto_profile_lock_acquire (self->profile_dir, error);

  return self->lock != NULL;
}

static gpointer
create_job (SottoStore    *self,
            gpointer       data,
            GCancellable  *cancellable,
            GError       **error)
{
  KeyRequest *request = data;
  g_autoptr (SottoIdentity) identity = NULL;
  g_autofree char *name = NULL;
  g_autofree char *label = NULL;
  guint8 store_id[STORE_ID_LEN];
  gboolean in_keyring = FALSE;
  OpenResult *result;
  int rc;

  if (!ensure_lock (self, error))
    return NULL;

  if (g_file_test (self->db_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_EXISTS,
                   _("There is already a profile in “%s”"), self->profile_dir);
      return NULL;
    }

  if ((name = sotto_display_name_normalize (request->display_name, error)) == NULL ||
      (identity = sotto_identity_generate (name, error)) == NULL)
    return NULL;

  self->key = sotto_store_key_new ();
  randombytes_buf (store_id, sizeof store_id);
  self->store_id = sodium_bin2hex (g_malloc (2 * STORE_ID_LEN + 1), 2 * STORE_ID_LEN + 1,
                                   store_id, sizeof store_id);
  self->protection = request->protection;

  rc = sqlite3_open_v2 (self->db_path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
                        SQLITE_OPEN_EXRESCODE,
                        NULL);
  if (rc != SQLITE_OK)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("creating"));
      goto failed;
    }

  if (!_sotto_store_db_configure (self, error) ||
      !_sotto_store_db_begin (self, error) ||
      !_sotto_store_db_create_tables (self, error) ||
      !_sotto_store_write_keyinfo (self, request, TRUE, error) ||
      !insert_identity (self, identity, error))
    goto failed;

  /* The keyring item goes in before the commit: a profile whose key is
   * nowhere would be unreadable. If the commit fails, the item goes again. */
  if (request->protection == SOTTO_KEY_PROTECTION_KEYRING)
    {
      label = _sotto_store_dup_keyring_label (self);
      if (!sotto_keyring_store_key (self->store_id, label, self->key, cancellable, error))
        goto failed;
      in_keyring = TRUE;
    }

  if (!_sotto_store_db_exec (self,
                             "PRAGMA application_id = "
                             G_STRINGIFY (SOTTO_STORE_APPLICATION_ID) ";",
                             error) ||
      !_sotto_store_db_migrate (self, 1, error) ||
      !_sotto_store_db_commit (self, error))
    goto failed;

  result = g_new0 (OpenResult, 1);
  result->identity = g_steal_pointer (&identity);
  result->contacts = g_ptr_array_new_with_free_func (g_object_unref);
  return result;

failed:
  if (in_keyring)
    sotto_keyring_clear_key (self->store_id, NULL, NULL);
  if (self->db != NULL)
    {
      _sotto_store_db_rollback (self);
      db_close (self);
    }
  /* Nothing half-made is left behind: the file was ours. */
  remove_db_files (self->db_path);
  return NULL;
}

static SottoIdentity *
load_identity (SottoStore  *self,
               GError     **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *name = NULL;
  SottoIdentity *identity;
  guint8 *secret;
  int rc;

  stmt = _sotto_store_db_prepare (self,
                                  "SELECT public_key, secret_key, display_name FROM identity "
                                  "WHERE id = 1",
                                  error);
  if (stmt == NULL)
    return NULL;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW || sqlite3_column_bytes (stmt, 0) != SOTTO_KEY_LEN)
    {
      if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                             _("The identity in the history database is missing or damaged"));
      else
        _sotto_store_set_db_error (error, self->db, rc, _("reading the identity"));
      return NULL;
    }

  name = _sotto_store_unseal_string (self, stmt, 2, "identity", "display_name", 1, error);
  if (name == NULL)
    return NULL;

  secret = sodium_malloc (SOTTO_KEY_LEN);
  g_assert (secret != NULL);
  if (!sotto_unseal_into (self->key, "identity", "secret_key", 1,
                          sqlite3_column_blob (stmt, 1), (gsize)sqlite3_column_bytes (stmt, 1),
                          secret, SOTTO_KEY_LEN, error))
    {
      sodium_free (secret);
      return NULL;
    }

  identity = sotto_identity_new_from_keys (sqlite3_column_blob (stmt, 0), secret, name, error);
  sodium_free (secret);

  return identity;
}

static gpointer
open_job (SottoStore    *self,
          gpointer       data,
          GCancellable  *cancellable,
          GError       **error)
{
  const char *passphrase = data;
  g_autoptr (SottoIdentity) identity = NULL;
  g_autoptr (GPtrArray) contacts = NULL;
  OpenResult *result;

  /* Checked before and after taking the lock: without a directory there
   * is nothing to lock, and a create may have been under way. */
  if (!g_file_test (self->db_path, G_FILE_TEST_IS_REGULAR) ||
      !ensure_lock (self, error) ||
      !g_file_test (self->db_path, G_FILE_TEST_IS_REGULAR))
    {
      if (error == NULL || *error == NULL)
        g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_NO_PROFILE,
                     _("There is no profile in “%s” yet: create one with "
                       "“sotto-cli init”"), self->profile_dir);
      return NULL;
    }

  if (!_sotto_store_db_open_existing (self, error) ||
      !_sotto_store_read_keyinfo_and_unlock (self, passphrase, cancellable, error) ||
      (identity = load_identity (self, error)) == NULL ||
      (contacts = _sotto_store_load_contacts (self, error)) == NULL)
    return NULL;

  result = g_new0 (OpenResult, 1);
  result->identity = g_steal_pointer (&identity);
  result->contacts = g_steal_pointer (&contacts);
  return result;
}

static gpointer
open_apply (SottoStore *self,
            gpointer    request,
            gpointer    data)
{
  OpenResult *result = data;

  g_set_object (&self->identity, result->identity);
  self->key_protection = self->protection;
  for (guint i = 0; i < result->contacts->len; i++)
    _sotto_store_contacts_insert (self, g_ptr_array_index (result->contacts, i));
  open_result_free (result);

  return g_object_ref (self);
}

/* -------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------- */

static void
thread_pool_free_wait (GThreadPool *pool)
{
  g_thread_pool_free (pool, FALSE, TRUE);
}

static void
sotto_store_finalize (GObject *object)
{
  SottoStore *self = (SottoStore *)object;

  /* Waits for the worker to finish; after that its state is ours. */
  g_clear_pointer (&self->pool, thread_pool_free_wait);
  /* Closing checkpoints the WAL; a statement left open would silently
   * keep the connection (and the WAL) alive. */
  db_close (self);
  g_clear_pointer (&self->statements, g_hash_table_unref);
  g_clear_pointer (&self->unstored, g_hash_table_unref);
  g_clear_pointer (&self->key, sotto_store_key_free);
  g_clear_pointer (&self->lock, sotto_profile_lock_release);
  g_clear_pointer (&self->store_id, g_free);
  g_clear_object (&self->identity);
  g_clear_pointer (&self->contacts_by_id, g_hash_table_unref);
  g_clear_object (&self->contacts);
  g_clear_pointer (&self->profile_dir, g_free);
  g_clear_pointer (&self->db_path, g_free);

  G_OBJECT_CLASS (sotto_store_parent_class)->finalize (object);
}

static void
sotto_store_class_init (SottoStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sotto_store_finalize;

  /**
   * SottoStore::message-added:
   * @message: a message now on disk, ours or a new one of theirs
   *
   * Emitted on the main thread after the message was committed. With
   * history off a new one of theirs is not on disk: it is shown once, from
   * here, and found in no history page.
   */
  signals[MESSAGE_ADDED] =
    g_signal_new ("message-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, SOTTO_TYPE_MESSAGE);

  /**
   * SottoStore::message-state-changed:
   * @contact_id: the conversation's contact
   * @message_id: the message
   * @state: its new #SottoMessageState
   *
   * With history off, a message that became delivered is already deleted:
   * only views holding it still have it.
   *
   * %SOTTO_MESSAGE_SENT is never on disk (sotto_store_note_sent()), and
   * signals of one message may come out of order (a resend after the
   * receipt): views never move a message's state backwards, except out of
   * %SOTTO_MESSAGE_FAILED: a message given up on
   * (sotto_store_expire_outbox_async()) may still turn out delivered, or
   * be queued again (sotto_store_retry_message_async()).
   */
  signals[MESSAGE_STATE_CHANGED] =
    g_signal_new ("message-state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_INT64, G_TYPE_INT64, SOTTO_TYPE_MESSAGE_STATE);

  /**
   * SottoStore::history-purged:
   * @contact_id: the conversation's contact, or 0 for every conversation
   * @deleted: how many messages went
   */
  signals[HISTORY_PURGED] =
    g_signal_new ("history-purged", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_UINT);

  /**
   * SottoStore::conversation-read:
   * @contact_id: the conversation's contact
   *
   * Some of its incoming messages were just marked read
   * (sotto_store_mark_read_async()): its unread count went down.
   */
  signals[CONVERSATION_READ] =
    g_signal_new ("conversation-read", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void
sotto_store_init (SottoStore *self)
{
  g_autoptr (GError) error = NULL;

  self->contacts = g_list_store_new (SOTTO_TYPE_CONTACT);
  self->contacts_by_id = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify)sqlite3_finalize);
  self->unstored = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                          (GDestroyNotify)g_array_unref);
  /* The setting's default, until the first retention applies the real
   * value (SottoRetention at start, sotto-cli on every open). */
  self->keep_history = TRUE;
  /* Exclusive, one thread: every SQLite call happens on the same thread. */
  self->pool = g_thread_pool_new (worker_func, self, 1, TRUE, &error);
  g_assert_no_error (error);
}

static SottoStore *
store_new (const char *profile_dir)
{
  SottoStore *self = g_object_new (SOTTO_TYPE_STORE, NULL);

  if (sodium_init () < 0)
    g_error ("libsodium could not be initialized");

  self->profile_dir = g_strdup (profile_dir);
  self->db_path = g_build_filename (profile_dir, SOTTO_STORE_FILENAME, NULL);

  return self;
}

/* For the other sotto-store*.c files, which do not see signals[]. */

void
_sotto_store_emit_message_added (SottoStore   *self,
                                 SottoMessage *message)
{
  g_signal_emit (self, signals[MESSAGE_ADDED], 0, message);
}

void
_sotto_store_emit_message_state_changed (SottoStore        *self,
                                         gint64             contact_id,
                                         gint64             message_id,
                                         SottoMessageState  state)
{
  g_signal_emit (self, signals[MESSAGE_STATE_CHANGED], 0, contact_id, message_id, state);
}

void
_sotto_store_emit_history_purged (SottoStore *self,
                                  gint64      contact_id,
                                  guint       deleted)
{
  g_signal_emit (self, signals[HISTORY_PURGED], 0, contact_id, deleted);
}

void
_sotto_store_emit_conversation_read (SottoStore *self,
                                     gint64      contact_id)
{
  g_signal_emit (self, signals[CONVERSATION_READ], 0, contact_id);
}

/* -------------------------------------------------------------------------
 * Public API: create, open
 * ------------------------------------------------------------------------- */

/**
 * sotto_store_create_async:
 * @profile_dir: an existing, private profile directory
 * @display_name: the name colleagues see
 * @protection: where the store key is kept
 * @passphrase: (nullable): for %SOTTO_KEY_PROTECTION_PASSPHRASE
 * @opslimit: Argon2id passes, 0 for %SOTTO_PWHASH_OPSLIMIT_DEFAULT
 * @memlimit: Argon2id memory, 0 for %SOTTO_PWHASH_MEMLIMIT_DEFAULT
 *
 * Creates the database with a new identity. Nothing is left behind when it
 * fails.
 */
void
sotto_store_create_async (const char          *profile_dir,
                          const char          *display_name,
                          SottoKeyProtection   protection,
                          const char          *passphrase,
                          guint64              opslimit,
                          guint64              memlimit,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr (SottoStore) self = NULL;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (profile_dir != NULL);
  g_return_if_fail (display_name != NULL);
  g_return_if_fail (protection == SOTTO_KEY_PROTECTION_KEYRING ||
                    protection == SOTTO_KEY_PROTECTION_PASSPHRASE);

  self = store_new (profile_dir);

  if (protection == SOTTO_KEY_PROTECTION_PASSPHRASE &&
      !sotto_passphrase_validate (passphrase, &error))
    {
      g_task_report_error (self, callback, user_data, sotto_store_create_async,
                           g_steal_pointer (&error));
      return;
    }

  _sotto_store_schedule (self, sotto_store_create_async, create_job, open_apply,
                         _sotto_store_key_request_new (display_name, protection, passphrase,
                                                       opslimit, memlimit),
                         (GDestroyNotify)_sotto_store_key_request_free, g_object_unref,
                         cancellable, callback, user_data);
}

SottoStore *
sotto_store_create_finish (GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * sotto_store_open_async:
 * @profile_dir: the profile directory
 * @passphrase: (nullable): the passphrase, if the profile has one; without
 *   it such a profile fails with %SOTTO_ERROR_NEEDS_PASSPHRASE
 *
 * Opens an existing profile: checks the file, unlocks the store key, loads
 * the identity and the contacts. A damaged file is reported, not changed.
 */
void
sotto_store_open_async (const char          *profile_dir,
                        const char          *passphrase,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr (SottoStore) self = NULL;

  g_return_if_fail (profile_dir != NULL);

  self = store_new (profile_dir);
  _sotto_store_schedule (self, sotto_store_open_async, open_job, open_apply,
                         _sotto_store_secure_strdup (passphrase), (GDestroyNotify)sodium_free,
                         g_object_unref, cancellable, callback, user_data);
}

SottoStore *
sotto_store_open_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * sotto_store_peek_protection:
 * @profile_dir: a profile's directory
 * @out_protection: (out): where the history key is kept
 * @error: return location for a #GError
 *
 * Reads, without opening the store, only what protects its key: enough
 * for a front end to show the right first window (ask for a passphrase,
 * or open at once). One small read-only query on the calling thread;
 * the store itself checks everything again when it opens.
 *
 * Returns: %TRUE if @out_protection was set
 */
gboolean
sotto_store_peek_protection (const char          *profile_dir,
                             SottoKeyProtection  *out_protection,
                             GError             **error)
{
  g_autofree char *path = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gboolean found = FALSE;
  int rc;

  g_return_val_if_fail (profile_dir != NULL, FALSE);
  g_return_val_if_fail (out_protection != NULL, FALSE);

  path = g_build_filename (profile_dir, SOTTO_STORE_FILENAME, NULL);
  rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2 (db, "SELECT protection FROM keyinfo WHERE id = 1", -1, &stmt, NULL);
  if (rc == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 value = sqlite3_column_int64 (stmt, 0);

      if (value == SOTTO_KEY_PROTECTION_KEYRING || value == SOTTO_KEY_PROTECTION_PASSPHRASE)
        {
          *out_protection = (SottoKeyProtection)value;
          found = TRUE;
        }
    }
  if (!found)
    g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                 _("“%s” is not a Sotto history database"), path);

  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return found;
}

const char *
sotto_store_get_profile_dir (SottoStore *self)
{
  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);

  return self->profile_dir;
}

SottoIdentity *
sotto_store_get_identity (SottoStore *self)
{
  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);

  return self->identity;
}

SottoKeyProtection
sotto_store_get_key_protection (SottoStore *self)
{
  g_return_val_if_fail (SOTTO_IS_STORE (self), 0);

  return self->key_protection;
}

/* -------------------------------------------------------------------------
 * The user's own name
 * ------------------------------------------------------------------------- */

static gpointer
set_display_name_job (SottoStore    *self,
                      gpointer       data,
                      GCancellable  *cancellable,
                      GError       **error)
{
  const char *name = data;
  g_autoptr (GBytes) sealed = _sotto_store_seal_string (self, "identity", "display_name", 1, name);
  g_autoptr (sqlite3_stmt) stmt = NULL;

  stmt = _sotto_store_db_prepare (self, "UPDATE identity SET display_name = ? WHERE id = 1", error);
  if (stmt == NULL)
    return NULL;
  _sotto_store_bind_sealed (stmt, 1, sealed);
  if (!_sotto_store_db_step_done (self, stmt, error))
    return NULL;
  if (sqlite3_changes (self->db) != 1)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                           _("The history database has no identity: it is damaged"));
      return NULL;
    }

  return g_strdup (name);
}

static gpointer
set_display_name_apply (SottoStore *self,
                        gpointer    request,
                        gpointer    data)
{
  _sotto_identity_set_display_name (self->identity, data);
  return data;
}

/**
 * sotto_store_set_display_name_async:
 * @name: the name colleagues see from now on; normalized and checked as
 *   at `sotto-cli init`
 *
 * Stores the user's new name. The identity's #SottoIdentity:display-name
 * changes once it is stored; sessions started after that introduce the
 * user by it (see PROTOCOL.md, hello).
 */
void
sotto_store_set_display_name_async (SottoStore          *self,
                                    const char          *name,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr (GError) error = NULL;
  char *normalized;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (name != NULL);

  normalized = sotto_display_name_normalize (name, &error);
  if (normalized == NULL)
    {
      g_task_report_error (self, callback, user_data, sotto_store_set_display_name_async,
                           g_steal_pointer (&error));
      return;
    }

  _sotto_store_schedule (self, sotto_store_set_display_name_async, set_display_name_job,
                         set_display_name_apply, normalized, g_free, g_free,
                         cancellable, callback, user_data);
}

gboolean
sotto_store_set_display_name_finish (SottoStore    *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  name = g_task_propagate_pointer (G_TASK (result), error);
  return name != NULL;
}

/* -------------------------------------------------------------------------
 * Messages and the outbox
 * ------------------------------------------------------------------------- */

void
_sotto_store_message_request_free (MessageRequest *request)
{
  g_free (request->body);
  g_free (request);
}

static gint64
conversation_for_contact (SottoStore  *self,
                          gint64       contact_id,
                          GError     **error)
{
  g_autoptr (CachedStmt) stmt = NULL;

  stmt = _sotto_store_db_cached (self, "SELECT id FROM conversations WHERE contact_id = ?", error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, contact_id);

  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND, _("No such contact"));
      return 0;
    }

  return sqlite3_column_int64 (stmt, 0);
}

SottoMessage *
_sotto_store_load_message (SottoStore  *self,
                           gint64       id,
                           GError     **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) messages = NULL;

  stmt = _sotto_store_db_prepare (self,
                                  "SELECT " MESSAGE_COLUMNS " FROM messages m "
                                  "JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);

  messages = _sotto_store_load_messages (self, stmt, error);
  if (messages == NULL)
    return NULL;
  if (messages->len != 1)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND, _("No such message"));
      return NULL;
    }

  return g_object_ref (g_ptr_array_index (messages, 0));
}

static gint64
insert_message (SottoStore        *self,
                gint64             conversation_id,
                const guint8      *uid,
                SottoDirection     direction,
                SottoMessageState  state,
                gint64             sent,
                gint64             received,
                const char        *body,
                GError           **error)
{
  g_autoptr (CachedStmt) stmt = NULL;
  g_autoptr (CachedStmt) touch = NULL;
  g_autoptr (GBytes) sealed = NULL;
  gint64 id;

  if ((id = _sotto_store_db_next_id (self, "messages", error)) == 0)
    return 0;

  sealed = _sotto_store_seal_string (self, "messages", "body", id, body);
  stmt = _sotto_store_db_cached (self,
                     "INSERT INTO messages (id, conversation_id, uid, direction, state, sent, "
                     "received, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, conversation_id);
  sqlite3_bind_blob (stmt, 3, uid, SOTTO_MESSAGE_UID_LEN, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 4, direction);
  sqlite3_bind_int (stmt, 5, state);
  sqlite3_bind_int64 (stmt, 6, sent);
  sqlite3_bind_int64 (stmt, 7, received);
  _sotto_store_bind_sealed (stmt, 8, sealed);
  if (!_sotto_store_db_step_done (self, stmt, error))
    return 0;

  touch = _sotto_store_db_cached (self, "UPDATE conversations SET last_activity = ? WHERE id = ?",
                                  error);
  if (touch == NULL)
    return 0;
  sqlite3_bind_int64 (touch, 1, MAX (sent, received));
  sqlite3_bind_int64 (touch, 2, conversation_id);
  if (!_sotto_store_db_step_done (self, touch, error))
    return 0;

  return id;
}

/* After the commit, on the caller's thread: views learn of it. */
static gpointer
message_added_apply (SottoStore *self,
                     gpointer    request,
                     gpointer    data)
{
  MessageRequest *message_request = request;
  SottoMessage *message = data;

  /* A retried incoming message is already known: nothing new to show. */
  if (sotto_message_get_direction (message) == SOTTO_DIRECTION_OUT || message_request->is_new)
    _sotto_store_emit_message_added (self, message);

  return message;
}

static gpointer
queue_message_job (SottoStore    *self,
                   gpointer       data,
                   GCancellable  *cancellable,
                   GError       **error)
{
  MessageRequest *request = data;
  g_autoptr (CachedStmt) stmt = NULL;
  gint64 conversation_id;
  gint64 id;

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  /* Message and outbox row commit together: once the caller hears back, the
   * message survives a crash and will be sent. */
  if ((conversation_id = conversation_for_contact (self, request->contact_id, error)) == 0 ||
      (id = insert_message (self, conversation_id, request->uid, SOTTO_DIRECTION_OUT,
                            SOTTO_MESSAGE_QUEUED, request->sent, 0, request->body, error)) == 0)
    goto failed;

  stmt = _sotto_store_db_cached (self, "INSERT INTO outbox (message_id, queued) VALUES (?, ?)",
                                 error);
  if (stmt == NULL)
    goto failed;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, request->sent);
  if (!_sotto_store_db_step_done (self, stmt, error) || !_sotto_store_db_commit (self, error))
    goto failed;

  /* What was just written, without reading it back and unsealing it. */
  return _sotto_message_new (id, request->contact_id, request->uid, SOTTO_DIRECTION_OUT,
                             SOTTO_MESSAGE_QUEUED, request->sent, 0, request->body);

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

/**
 * sotto_store_queue_message_async:
 * @body: the text; see sotto_message_body_validate()
 *
 * Stores an outgoing message together with its outbox row, with a new
 * random id. When this completes, the message is on disk.
 */
void
sotto_store_queue_message_async (SottoStore          *self,
                                 SottoContact        *contact,
                                 const char          *body,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr (GError) error = NULL;
  MessageRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));

  if (!sotto_message_body_validate (body, &error))
    {
      g_task_report_error (self, callback, user_data, sotto_store_queue_message_async,
                           g_steal_pointer (&error));
      return;
    }

  request = g_new0 (MessageRequest, 1);
  request->contact_id = sotto_contact_get_id (contact);
  randombytes_buf (request->uid, sizeof request->uid);
  request->sent = g_get_real_time ();
  request->body = g_strdup (body);

  _sotto_store_schedule (self, sotto_store_queue_message_async, queue_message_job,
                         message_added_apply, request,
                         (GDestroyNotify)_sotto_store_message_request_free, g_object_unref,
                         cancellable, callback, user_data);
}

SottoMessage *
sotto_store_queue_message_finish (SottoStore    *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gpointer
save_incoming_job (SottoStore    *self,
                   gpointer       data,
                   GCancellable  *cancellable,
                   GError       **error)
{
  MessageRequest *request = data;
  g_autoptr (CachedStmt) stmt = NULL;
  g_autoptr (CachedStmt) seen = NULL;
  g_autoptr (CachedStmt) remember = NULL;
  gint64 conversation_id;
  gint64 received;
  gint64 id;
  int rc;

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  if ((conversation_id = conversation_for_contact (self, request->contact_id, error)) == 0)
    goto failed;

  /* The sender retries until it hears "delivered": a message we already
   * have is not stored twice. */
  stmt = _sotto_store_db_cached (self,
                                 "SELECT id, direction FROM messages "
                                 "WHERE conversation_id = ? AND uid = ?",
                                 error);
  if (stmt == NULL)
    goto failed;
  sqlite3_bind_int64 (stmt, 1, conversation_id);
  sqlite3_bind_blob (stmt, 2, request->uid, SOTTO_MESSAGE_UID_LEN, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      id = sqlite3_column_int64 (stmt, 0);
      if (sqlite3_column_int64 (stmt, 1) != SOTTO_DIRECTION_IN)
        {
          /* The id of one of ours: not a retry of theirs. It must not be
           * stored, nor acknowledged as if it had been. */
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("The contact sent a message with the id of one of yours"));
          goto failed;
        }
      g_clear_pointer (&stmt, _sotto_store_cached_stmt_release);
      _sotto_store_db_rollback (self);
      request->is_new = FALSE;
      return _sotto_store_load_message (self, id, error);
    }
  g_clear_pointer (&stmt, _sotto_store_cached_stmt_release);

  /* Received while history was off: it was shown then, and must not be
   * shown again. The caller still acknowledges it. */
  seen = _sotto_store_db_cached (self,
                                 "SELECT received FROM seen WHERE contact_id = ? AND uid = ?",
                                 error);
  if (seen == NULL)
    goto failed;
  sqlite3_bind_int64 (seen, 1, request->contact_id);
  sqlite3_bind_blob (seen, 2, request->uid, SOTTO_MESSAGE_UID_LEN, SQLITE_TRANSIENT);
  rc = sqlite3_step (seen);
  if (rc == SQLITE_ROW)
    {
      received = sqlite3_column_int64 (seen, 0);
      g_clear_pointer (&seen, _sotto_store_cached_stmt_release);
      _sotto_store_db_rollback (self);
      request->is_new = FALSE;
      return _sotto_message_new (0, request->contact_id, request->uid, SOTTO_DIRECTION_IN,
                                 SOTTO_MESSAGE_DELIVERED, request->sent, received, request->body);
    }
  if (rc != SQLITE_DONE)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading messages"));
      goto failed;
    }
  g_clear_pointer (&seen, _sotto_store_cached_stmt_release);

  received = g_get_real_time ();

  if (!self->keep_history)
    {
      /* Only the id is written, never the text. The message still takes a
       * fresh id from the counter: views keep messages in id order. */
      if ((id = _sotto_store_db_next_id (self, "messages", error)) == 0)
        goto failed;
      remember = _sotto_store_db_cached (self,
                                         "INSERT INTO seen (contact_id, uid, received) "
                                         "VALUES (?, ?, ?)",
                                         error);
      if (remember == NULL)
        goto failed;
      sqlite3_bind_int64 (remember, 1, request->contact_id);
      sqlite3_bind_blob (remember, 2, request->uid, SOTTO_MESSAGE_UID_LEN, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (remember, 3, received);
      if (!_sotto_store_db_step_done (self, remember, error) ||
          !_sotto_store_db_commit (self, error))
        goto failed;

      /* Unread until the user has seen it (sotto_store_mark_read_async()). */
      {
        GArray *unread = g_hash_table_lookup (self->unstored, &request->contact_id);
        Unstored entry = { id, { 0 } };

        if (unread == NULL)
          {
            unread = g_array_new (FALSE, FALSE, sizeof (Unstored));
            g_hash_table_insert (self->unstored,
                                 g_memdup2 (&request->contact_id, sizeof request->contact_id),
                                 unread);
          }
        memcpy (entry.uid, request->uid, SOTTO_MESSAGE_UID_LEN);
        g_array_append_val (unread, entry);
      }

      request->is_new = TRUE;
      return _sotto_message_new (id, request->contact_id, request->uid, SOTTO_DIRECTION_IN,
                                 SOTTO_MESSAGE_DELIVERED, request->sent, received, request->body);
    }

  if ((id = insert_message (self, conversation_id, request->uid, SOTTO_DIRECTION_IN,
                            SOTTO_MESSAGE_DELIVERED, request->sent, received,
                            request->body, error)) == 0 ||
      !_sotto_store_db_commit (self, error))
    goto failed;

  request->is_new = TRUE;
  return _sotto_message_new (id, request->contact_id, request->uid, SOTTO_DIRECTION_IN,
                             SOTTO_MESSAGE_DELIVERED, request->sent, received, request->body);

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

/**
 * sotto_store_save_incoming_async:
 * @uid: (array fixed-size=16): the sender's message id
 * @sent: the sender's timestamp, microseconds since the epoch
 *
 * Persists a received message; only when this completes may the
 * *delivered* receipt go out. A message with a known @uid is not stored
 * again (sotto_store_save_incoming_finish() says which).
 *
 * With history off (see sotto_store_apply_retention_async()) only @uid is
 * persisted, for recognising a retry: the message returned, with a new id,
 * is in no history page, and a retry returns one with id 0.
 */
void
sotto_store_save_incoming_async (SottoStore          *self,
                                 SottoContact        *contact,
                                 const guint8        *uid,
                                 gint64               sent,
                                 const char          *body,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr (GError) error = NULL;
  MessageRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (uid != NULL);

  if (!sotto_message_body_validate (body, &error))
    {
      g_task_report_error (self, callback, user_data, sotto_store_save_incoming_async,
                           g_steal_pointer (&error));
      return;
    }

  request = g_new0 (MessageRequest, 1);
  request->contact_id = sotto_contact_get_id (contact);
  memcpy (request->uid, uid, SOTTO_MESSAGE_UID_LEN);
  request->sent = sent;
  request->body = g_strdup (body);

  _sotto_store_schedule (self, sotto_store_save_incoming_async, save_incoming_job,
                         message_added_apply, request,
                         (GDestroyNotify)_sotto_store_message_request_free, g_object_unref,
                         cancellable, callback, user_data);
}

SottoMessage *
sotto_store_save_incoming_finish (SottoStore    *self,
                                  GAsyncResult  *result,
                                  gboolean      *out_is_new,
                                  GError       **error)
{
  MessageRequest *request;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  request = _sotto_store_job_get_data (G_TASK (result));
  if (out_is_new != NULL)
    *out_is_new = request->is_new;

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The peer's receipt for one of our messages: its state moves forward to
 * request->target_state (delivered or read), and it leaves the outbox, for
 * read implies delivered. */
static gpointer
mark_state_in_transaction (SottoStore    *self,
                           gpointer       data,
                           GCancellable  *cancellable,
                           GError       **error)
{
  MessageRequest *request = data;
  g_autoptr (CachedStmt) find = NULL;
  g_autoptr (CachedStmt) update = NULL;
  g_autoptr (CachedStmt) unqueue = NULL;
  g_autoptr (CachedStmt) forget = NULL;
  gboolean *found;
  gboolean newly;
  gint64 conversation_id;
  gint64 id;
  int rc;

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  if ((conversation_id = conversation_for_contact (self, request->contact_id, error)) == 0)
    goto failed;

  find = _sotto_store_db_cached (self,
                                 "SELECT id FROM messages WHERE conversation_id = ? AND uid = ? "
                                 "AND direction = 0",
                                 error);
  if (find == NULL)
    goto failed;
  sqlite3_bind_int64 (find, 1, conversation_id);
  sqlite3_bind_blob (find, 2, request->uid, SOTTO_MESSAGE_UID_LEN, SQLITE_TRANSIENT);
  rc = sqlite3_step (find);
  if (rc != SQLITE_ROW)
    {
      /* A receipt for something we never sent: ignored, not an error of ours. */
      g_clear_pointer (&find, _sotto_store_cached_stmt_release);
      _sotto_store_db_rollback (self);
      return g_new0 (gboolean, 1);
    }
  id = sqlite3_column_int64 (find, 0);
  /* A statement left mid-row would make the checkpoint below fail. */
  g_clear_pointer (&find, _sotto_store_cached_stmt_release);

  /* Only forward: a delivered receipt that arrives after the read one
   * (receipts of one message travel separately) changes nothing. A
   * message given up on (sotto_store_expire_outbox_async()) that the peer
   * had after all is delivered, not failed. */
  update = _sotto_store_db_cached (self,
                                   "UPDATE messages SET state = ?1 "
                                   "WHERE id = ?2 AND (state < ?1 OR state = ?3)",
                                   error);
  unqueue = _sotto_store_db_cached (self, "DELETE FROM outbox WHERE message_id = ?", error);
  if (update == NULL || unqueue == NULL)
    goto failed;
  sqlite3_bind_int (update, 1, request->target_state);
  sqlite3_bind_int64 (update, 2, id);
  sqlite3_bind_int (update, 3, SOTTO_MESSAGE_FAILED);
  sqlite3_bind_int64 (unqueue, 1, id);
  if (!_sotto_store_db_step_done (self, update, error))
    goto failed;
  /* A receipt repeated (the peer acknowledges every retry it sees)
   * changes nothing and is not news. */
  newly = sqlite3_changes (self->db) > 0;
  if (!_sotto_store_db_step_done (self, unqueue, error))
    goto failed;

  /* History off: it was kept only until the peer had it. */
  if (!self->keep_history)
    {
      forget = _sotto_store_db_cached (self, "DELETE FROM messages WHERE id = ?", error);
      if (forget == NULL)
        goto failed;
      sqlite3_bind_int64 (forget, 1, id);
      if (!_sotto_store_db_step_done (self, forget, error))
        goto failed;
    }

  if (!_sotto_store_db_commit (self, error))
    goto failed;

  /* secure_delete zeroed the row; the WAL still holds the pages it was
   * written in (see purge_job() in sotto-store-purge.c). The receipt is
   * recorded whatever happens here: a later checkpoint, at the latest on
   * closing, catches up. */
  if (!self->keep_history)
    {
      g_autoptr (GError) checkpoint_error = NULL;

      if (!_sotto_store_db_exec (self, "PRAGMA wal_checkpoint(TRUNCATE)", &checkpoint_error))
        g_warning ("Could not empty the WAL after a delivery: %s", checkpoint_error->message);
    }

  /* The message id rides along for the state signal. */
  request->delivered_id = newly ? id : 0;
  found = g_new0 (gboolean, 1);
  *found = newly;
  return found;

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

/* Runs @func without waiting for the disk: for marks that need not survive
 * a crash. */
static gpointer
run_without_fsync (SottoStore    *self,
                   StoreJobFunc   func,
                   GDestroyNotify result_free,
                   gpointer       data,
                   GCancellable  *cancellable,
                   GError       **error)
{
  gpointer result;

  if (!_sotto_store_db_run_cached (self, "PRAGMA synchronous = NORMAL", error))
    return NULL;
  result = func (self, data, cancellable, error);
  if (!_sotto_store_db_run_cached (self, "PRAGMA synchronous = FULL",
                                   result != NULL ? error : NULL))
    {
      /* Every later write must be durable again: a store that can't
       * promise that must not go on. */
      g_clear_pointer (&result, result_free);
    }
  return result;
}

/* A delivered or read mark need not survive a crash: lost, the message is
 * sent again, and the receiver recognises it and acknowledges it again
 * (a lost read mark leaves it delivered). So it skips the fsync every
 * other write waits for, which is a third of the time a message takes
 * from send to receipt. */
static gpointer
mark_state_job (SottoStore    *self,
                gpointer       data,
                GCancellable  *cancellable,
                GError       **error)
{
  return run_without_fsync (self, mark_state_in_transaction, g_free, data, cancellable, error);
}

static gpointer
state_apply (SottoStore *self,
             gpointer    request,
             gpointer    data)
{
  MessageRequest *message_request = request;
  gboolean *found = data;

  if (*found)
    _sotto_store_emit_message_state_changed (self, message_request->contact_id,
                                             message_request->delivered_id,
                                             message_request->target_state);

  return found;
}

static void
schedule_mark_state (SottoStore          *self,
                     gpointer             source_tag,
                     SottoContact        *contact,
                     const guint8        *uid,
                     SottoMessageState    state,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  MessageRequest *request = g_new0 (MessageRequest, 1);

  request->contact_id = sotto_contact_get_id (contact);
  memcpy (request->uid, uid, SOTTO_MESSAGE_UID_LEN);
  request->target_state = state;

  _sotto_store_schedule (self, source_tag, mark_state_job, state_apply,
                         request, (GDestroyNotify)_sotto_store_message_request_free, g_free,
                         cancellable, callback, user_data);
}

static gboolean
mark_state_finish (SottoStore    *self,
                   GAsyncResult  *result,
                   GError       **error)
{
  g_autofree gboolean *found = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  found = g_task_propagate_pointer (G_TASK (result), error);
  return found != NULL && *found;
}

/**
 * sotto_store_mark_delivered_async:
 *
 * The peer's *delivered* receipt: the message leaves the outbox, and with
 * history off (see sotto_store_apply_retention_async()) the store too.
 * #SottoStore::message-state-changed is emitted either way.
 * sotto_store_mark_delivered_finish() returns %FALSE without an error
 * for a receipt that matches no message of ours, or one already delivered
 * (or read).
 */
void
sotto_store_mark_delivered_async (SottoStore          *self,
                                  SottoContact        *contact,
                                  const guint8        *uid,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (uid != NULL);

  schedule_mark_state (self, sotto_store_mark_delivered_async, contact, uid,
                       SOTTO_MESSAGE_DELIVERED, cancellable, callback, user_data);
}

gboolean
sotto_store_mark_delivered_finish (SottoStore    *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  return mark_state_finish (self, result, error);
}

/**
 * sotto_store_mark_read_by_peer_async:
 * @uid: (array fixed-size=16): one of our messages to @contact
 *
 * The peer's *read* receipt: the message becomes %SOTTO_MESSAGE_READ,
 * never backwards, and leaves the outbox if it was still there (its
 * delivered receipt may have been lost); with history off it leaves the
 * store, as on delivery. Nothing waits for the disk: a read mark lost in a
 * crash leaves the message delivered. sotto_store_mark_read_by_peer_finish()
 * returns %FALSE without an error when nothing changed: no such message of
 * ours, or already read.
 */
void
sotto_store_mark_read_by_peer_async (SottoStore          *self,
                                     SottoContact        *contact,
                                     const guint8        *uid,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (uid != NULL);

  schedule_mark_state (self, sotto_store_mark_read_by_peer_async, contact, uid,
                       SOTTO_MESSAGE_READ, cancellable, callback, user_data);
}

gboolean
sotto_store_mark_read_by_peer_finish (SottoStore    *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  return mark_state_finish (self, result, error);
}

/**
 * sotto_store_note_sent:
 * @message_id: one of our messages, just handed to a session
 *
 * Emits #SottoStore::message-state-changed with %SOTTO_MESSAGE_SENT. Called
 * by the peer service on the main thread; nothing is written: on disk the
 * message stays queued until its delivered receipt, so that a commit per
 * message is not spent on a state that lasts a round trip.
 */
void
sotto_store_note_sent (SottoStore *self,
                       gint64      contact_id,
                       gint64      message_id)
{
  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (message_id > 0);

  _sotto_store_emit_message_state_changed (self, contact_id, message_id, SOTTO_MESSAGE_SENT);
}

static int
compare_unstored (gconstpointer a,
                  gconstpointer b)
{
  gint64 id_a = ((const Unstored *)a)->id;
  gint64 id_b = ((const Unstored *)b)->id;

  return id_a < id_b ? -1 : id_a > id_b;
}

static gpointer
mark_read_in_transaction (SottoStore    *self,
                          gpointer       data,
                          GCancellable  *cancellable,
                          GError       **error)
{
  MessageRequest *request = data;
  g_autoptr (GArray) read = g_array_new (FALSE, FALSE, sizeof (Unstored));
  g_autoptr (GPtrArray) uids = NULL;
  g_autoptr (CachedStmt) find = NULL;
  g_autoptr (CachedStmt) update = NULL;
  GArray *unstored;
  gint64 conversation_id;
  int rc;

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  if ((conversation_id = conversation_for_contact (self, request->contact_id, error)) == 0)
    goto failed;

  /* The terms of the partial index messages_unread, written out so that
   * SQLite uses it: only unread rows are visited. */
  find = _sotto_store_db_cached (self,
                                 "SELECT id, uid FROM messages "
                                 "WHERE conversation_id = ?1 AND id <= ?2 "
                                 "AND direction = 1 AND read = 0",
                                 error);
  if (find == NULL)
    goto failed;
  sqlite3_bind_int64 (find, 1, conversation_id);
  sqlite3_bind_int64 (find, 2, request->up_to_id);
  while ((rc = sqlite3_step (find)) == SQLITE_ROW)
    {
      Unstored entry = { sqlite3_column_int64 (find, 0), { 0 } };

      /* A damaged uid is marked read with the rest, but never named in a
       * receipt. */
      if (sqlite3_column_bytes (find, 1) != SOTTO_MESSAGE_UID_LEN)
        continue;
      memcpy (entry.uid, sqlite3_column_blob (find, 1), SOTTO_MESSAGE_UID_LEN);
      g_array_append_val (read, entry);
    }
  g_clear_pointer (&find, _sotto_store_cached_stmt_release);
  if (rc != SQLITE_DONE)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading messages"));
      goto failed;
    }

  update = _sotto_store_db_cached (self,
                                   "UPDATE messages SET read = ?3 "
                                   "WHERE conversation_id = ?1 AND id <= ?2 "
                                   "AND direction = 1 AND read = 0",
                                   error);
  if (update == NULL)
    goto failed;
  sqlite3_bind_int64 (update, 1, conversation_id);
  sqlite3_bind_int64 (update, 2, request->up_to_id);
  sqlite3_bind_int64 (update, 3, MAX (g_get_real_time (), 1));
  if (!_sotto_store_db_step_done (self, update, error) || !_sotto_store_db_commit (self, error))
    goto failed;

  /* Those received while history was off are read now too; ids are in
   * the same sequence, so the uids come out oldest first either way. */
  unstored = g_hash_table_lookup (self->unstored, &request->contact_id);
  for (guint i = 0; unstored != NULL && i < unstored->len; )
    {
      if (g_array_index (unstored, Unstored, i).id <= request->up_to_id)
        {
          g_array_append_val (read, g_array_index (unstored, Unstored, i));
          g_array_remove_index (unstored, i);
        }
      else
        i++;
    }
  g_array_sort (read, compare_unstored);

  uids = g_ptr_array_new_full (read->len, (GDestroyNotify)g_bytes_unref);
  for (guint i = 0; i < read->len; i++)
    g_ptr_array_add (uids, g_bytes_new (g_array_index (read, Unstored, i).uid,
                                        SOTTO_MESSAGE_UID_LEN));
  return g_steal_pointer (&uids);

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

/* Losing a read mark in a crash only shows a message as unread again. */
static gpointer
mark_read_job (SottoStore    *self,
               gpointer       data,
               GCancellable  *cancellable,
               GError       **error)
{
  return run_without_fsync (self, mark_read_in_transaction, (GDestroyNotify)g_ptr_array_unref,
                            data, cancellable, error);
}

static gpointer
read_apply (SottoStore *self,
            gpointer    request,
            gpointer    data)
{
  MessageRequest *message_request = request;
  GPtrArray *uids = data;

  if (uids->len > 0)
    _sotto_store_emit_conversation_read (self, message_request->contact_id);

  return uids;
}

/**
 * sotto_store_mark_read_async:
 * @up_to_id: the newest message the user has seen; every incoming message
 *   up to and including it counts as read
 *
 * Marks the incoming messages of the conversation read, and emits
 * #SottoStore::conversation-read if any was unread. Nothing waits for the
 * disk: a read mark lost in a crash only shows a message as unread again.
 *
 * Messages received while history was off are not on disk: the store
 * holds them as unread in memory until they are marked read here, the
 * contact is removed, or the store is closed.
 */
void
sotto_store_mark_read_async (SottoStore          *self,
                             SottoContact        *contact,
                             gint64               up_to_id,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  MessageRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));

  request = g_new0 (MessageRequest, 1);
  request->contact_id = sotto_contact_get_id (contact);
  request->up_to_id = up_to_id;

  _sotto_store_schedule (self, sotto_store_mark_read_async, mark_read_job, read_apply,
                         request, (GDestroyNotify)_sotto_store_message_request_free,
                         (GDestroyNotify)g_ptr_array_unref, cancellable, callback, user_data);
}

/**
 * sotto_store_mark_read_finish:
 *
 * Returns: (transfer container) (element-type GBytes): the 16-byte uids of
 *   the messages newly marked read, oldest first; empty if none was unread
 */
GPtrArray *
sotto_store_mark_read_finish (SottoStore    *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

G_DEFINE_BOXED_TYPE (SottoConversationSummary, sotto_conversation_summary,
                     sotto_conversation_summary_copy, sotto_conversation_summary_free)

SottoConversationSummary *
sotto_conversation_summary_copy (const SottoConversationSummary *summary)
{
  return g_memdup2 (summary, sizeof *summary);
}

void
sotto_conversation_summary_free (SottoConversationSummary *summary)
{
  g_free (summary);
}

static gpointer
list_summaries_job (SottoStore    *self,
                    gpointer       data,
                    GCancellable  *cancellable,
                    GError       **error)
{
  MessageRequest *request = data;
  g_autoptr (GPtrArray) summaries = NULL;
  g_autoptr (CachedStmt) stmt = NULL;
  int rc;

  /* One count per conversation through the partial index messages_unread,
   * which holds the unread messages only. */
  stmt = _sotto_store_db_cached (self,
                                 "SELECT c.contact_id, c.last_activity, "
                                 "  (SELECT count(*) FROM messages m "
                                 "   WHERE m.conversation_id = c.id "
                                 "   AND m.direction = 1 AND m.read = 0) "
                                 "FROM conversations c WHERE ?1 = 0 OR c.contact_id = ?1 "
                                 "ORDER BY c.contact_id",
                                 error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, request->contact_id);

  summaries = g_ptr_array_new_with_free_func ((GDestroyNotify)sotto_conversation_summary_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SottoConversationSummary *summary = g_new0 (SottoConversationSummary, 1);
      GArray *unstored;

      summary->contact_id = sqlite3_column_int64 (stmt, 0);
      summary->last_activity = sqlite3_column_int64 (stmt, 1);
      summary->unread = (guint)CLAMP (sqlite3_column_int64 (stmt, 2), 0, G_MAXUINT);
      if ((unstored = g_hash_table_lookup (self->unstored, &summary->contact_id)) != NULL)
        summary->unread += unstored->len;
      g_ptr_array_add (summaries, summary);
    }
  if (rc != SQLITE_DONE)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading conversations"));
      return NULL;
    }

  return g_steal_pointer (&summaries);
}

/**
 * sotto_store_list_summaries_async:
 * @contact: (nullable): one conversation, or %NULL for every contact's
 *
 * Unread count and last activity of conversations, for the buddy list.
 * The count includes messages received while history was off and not
 * marked read yet (see sotto_store_mark_read_async()); the last activity
 * is that of what is on disk.
 */
void
sotto_store_list_summaries_async (SottoStore          *self,
                                  SottoContact        *contact,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  MessageRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (contact == NULL || SOTTO_IS_CONTACT (contact));

  request = g_new0 (MessageRequest, 1);
  request->contact_id = contact != NULL ? sotto_contact_get_id (contact) : 0;

  _sotto_store_schedule (self, sotto_store_list_summaries_async, list_summaries_job, NULL,
                         request, (GDestroyNotify)_sotto_store_message_request_free,
                         (GDestroyNotify)g_ptr_array_unref, cancellable, callback, user_data);
}

/**
 * sotto_store_list_summaries_finish:
 *
 * Returns: (transfer container) (element-type SottoConversationSummary):
 *   one summary per conversation, by contact id
 */
GPtrArray *
sotto_store_list_summaries_finish (SottoStore    *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gpointer
history_job (SottoStore    *self,
             gpointer       data,
             GCancellable  *cancellable,
             GError       **error)
{
  MessageRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  GPtrArray *page;

  /* Newest first from the index, then turned to reading order. */
  stmt = _sotto_store_db_prepare (self,
                                  "SELECT " MESSAGE_COLUMNS " FROM messages m "
                                  "JOIN conversations c ON c.id = m.conversation_id "
                                  "WHERE c.contact_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, request->contact_id);
  sqlite3_bind_int64 (stmt, 2, request->before_id > 0 ? request->before_id : G_MAXINT64);
  sqlite3_bind_int (stmt, 3, (int)request->limit);

  page = _sotto_store_load_messages (self, stmt, error);
  if (page != NULL)
    {
      for (guint i = 0; i < page->len / 2; i++)
        {
          gpointer tmp = page->pdata[i];

          page->pdata[i] = page->pdata[page->len - 1 - i];
          page->pdata[page->len - 1 - i] = tmp;
        }
    }

  return page;
}

/**
 * sotto_store_history_async:
 * @before_id: only messages older than this message id; 0 for the newest
 * @limit: at most this many, 1 to %SOTTO_HISTORY_PAGE_MAX
 *
 * One page of a conversation, in reading order (oldest first).
 */
void
sotto_store_history_async (SottoStore          *self,
                           SottoContact        *contact,
                           gint64               before_id,
                           guint                limit,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  MessageRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (limit >= 1 && limit <= SOTTO_HISTORY_PAGE_MAX);

  request = g_new0 (MessageRequest, 1);
  request->contact_id = sotto_contact_get_id (contact);
  request->before_id = before_id;
  request->limit = limit;

  _sotto_store_schedule (self, sotto_store_history_async, history_job, NULL,
                         request, (GDestroyNotify)_sotto_store_message_request_free,
                         (GDestroyNotify)g_ptr_array_unref, cancellable, callback, user_data);
}

/**
 * sotto_store_history_finish:
 *
 * Returns: (transfer container) (element-type SottoMessage): the page
 */
GPtrArray *
sotto_store_history_finish (SottoStore    *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* -------------------------------------------------------------------------
 * Bulk history, for benchmarks and test fixtures (sotto-store-private.h)
 * ------------------------------------------------------------------------- */

typedef struct
{
  gint64     contact_id;
  GPtrArray *bodies;
  gint64     first_time;
  gint64     step;
} HistoryRequest;

static void
history_request_free (HistoryRequest *request)
{
  g_ptr_array_unref (request->bodies);
  g_free (request);
}

static gpointer
insert_history_job (SottoStore    *self,
                    gpointer       data,
                    GCancellable  *cancellable,
                    GError       **error)
{
  HistoryRequest *request = data;
  gint64 conversation_id;

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  if ((conversation_id = conversation_for_contact (self, request->contact_id, error)) == 0)
    goto failed;

  /* Delivered history, alternating directions, as a long conversation
   * looks; written through the same sealing as every other message. */
  for (guint i = 0; i < request->bodies->len; i++)
    {
      gint64 when = request->first_time + (gint64)i * request->step;
      SottoDirection direction = i % 2 ? SOTTO_DIRECTION_IN : SOTTO_DIRECTION_OUT;
      guint8 uid[SOTTO_MESSAGE_UID_LEN];

      randombytes_buf (uid, sizeof uid);
      if (insert_message (self, conversation_id, uid, direction, SOTTO_MESSAGE_DELIVERED,
                          when, direction == SOTTO_DIRECTION_IN ? when : 0,
                          g_ptr_array_index (request->bodies, i), error) == 0)
        goto failed;
    }

  if (!_sotto_store_db_commit (self, error))
    goto failed;

  return GINT_TO_POINTER (TRUE);

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

void
_sotto_store_insert_history_async (SottoStore          *self,
                                   SottoContact        *contact,
                                   GPtrArray           *bodies,
                                   gint64               first_time,
                                   gint64               step,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  HistoryRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (bodies != NULL);

  request = g_new0 (HistoryRequest, 1);
  request->contact_id = sotto_contact_get_id (contact);
  request->bodies = g_ptr_array_ref (bodies);
  request->first_time = first_time;
  request->step = step;

  _sotto_store_schedule (self, _sotto_store_insert_history_async, insert_history_job, NULL,
                         request, (GDestroyNotify)history_request_free, NULL,
                         NULL, callback, user_data);
}

gboolean
_sotto_store_insert_history_finish (SottoStore    *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_pointer (G_TASK (result), error) != NULL;
}
