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
 *
 * This file is the class, its worker and SQLite helpers, creating and
 * opening a profile, and the user's own name. The rest is split by what
 * it is about, sharing sotto-store-private.h:
 *
 *   sotto-store-schema.c    tables, migrations, checks before opening
 *   sotto-store-seal.c      the store key and sealed columns
 *   sotto-store-contacts.c  contacts and the contact list model
 *   sotto-store-messages.c  queueing, receiving, receipts, read marks, pages
 *   sotto-store-outbox.c    the outbox, its expiry, retrying
 *   sotto-store-purge.c     deleting history for good, retention
 *   sotto-store-search.c    full-text search over sealed bodies
 *   sotto-store-transfers.c files offered and received
 *   sotto-store-ignored.c   strangers the user ignored
 *   sotto-store-log.c       the security log
 */
#define G_LOG_DOMAIN "sotto-store"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sodium.h>
#include <sqlite3.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sotto-error.h"
#include "sotto-identity-private.h"
#include "sotto-profile-lock.h"
#include "sotto-profile.h"
#include "sotto-seal.h"
#include "sotto-store-private.h"

G_DEFINE_FINAL_TYPE (SottoStore, sotto_store, G_TYPE_OBJECT)

enum {
  MESSAGE_ADDED,
  MESSAGE_STATE_CHANGED,
  HISTORY_PURGED,
  CONVERSATION_READ,
  SECURITY_LOG_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

enum {
  PROP_0,
  PROP_WRITE_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

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
  gboolean        wrote;        /* it began a write transaction */
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

static void note_write (SottoStore *self, const GError *error);

static gboolean
job_complete_cb (gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoStore *self = g_task_get_source_object (task);
  StoreJob *job = g_task_get_task_data (task);
  gpointer result;

  if (job->wrote)
    note_write (self, job->error);

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
  sqlite3_int64 changes;

  /* An exclusive pool of one thread: the first job names it, and every
   * later one must run on it too. */
  if (self->worker == NULL)
    self->worker = g_thread_self ();
  _sotto_store_assert_worker (self);

  self->job_wrote = FALSE;
  changes = self->db != NULL ? sqlite3_total_changes64 (self->db) : 0;
  if (!g_cancellable_set_error_if_cancelled (cancellable, &job->error))
    job->result = job->run (self, job->data, cancellable, &job->error);
  /* A transaction that changed nothing proves nothing about the disk. */
  job->wrote = self->job_wrote &&
               (job->error != NULL ||
                (self->db != NULL && sqlite3_total_changes64 (self->db) > changes));

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
 * Writes that fail (main thread)
 * ------------------------------------------------------------------------- */

/* The probe's row is deleted in its own transaction: what it proves is
 * that SQLite could take as many new pages as a few messages need, in
 * the database and in its WAL. A row of a table every profile has, under
 * a name no counter uses. */
static gpointer
write_probe_job (SottoStore    *self,
                 gpointer       data,
                 GCancellable  *cancellable,
                 GError       **error)
{
  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;
  if (!_sotto_store_db_exec (self,
                             "INSERT OR REPLACE INTO id_counters (name, next) "
                             "VALUES (' write probe', zeroblob (65536));"
                             "DELETE FROM id_counters WHERE name = ' write probe';",
                             error) ||
      !_sotto_store_db_commit (self, error))
    {
      _sotto_store_db_rollback (self);
      return NULL;
    }

  return GINT_TO_POINTER (TRUE);
}

static void
on_write_probe_done_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  SottoStore *self = SOTTO_STORE (object);

  /* note_write() has seen the outcome already. */
  self->write_probing = FALSE;
  g_task_propagate_pointer (G_TASK (result), NULL);
}

static gboolean
on_write_retry_cb (gpointer user_data)
{
  SottoStore *self = user_data;

  g_assert (SOTTO_IS_STORE (self));

  if (self->write_error == NULL)
    {
      self->write_retry_source = 0;
      return G_SOURCE_REMOVE;
    }
  if (!self->write_probing)
    {
      self->write_probing = TRUE;
      _sotto_store_schedule (self, on_write_retry_cb, write_probe_job, NULL, NULL, NULL, NULL,
                             NULL, on_write_probe_done_cb, NULL);
    }

  return G_SOURCE_CONTINUE;
}

/* Every job that began a write comes here with its outcome. A failure of
 * the database itself (a full disk, a file made read-only, an I/O error)
 * is kept and told until a write succeeds again; a write refused for
 * what it was (a duplicate, a contact that is gone) says nothing about
 * the disk. */
static void
note_write (SottoStore   *self,
            const GError *error)
{
  g_assert (SOTTO_IS_STORE (self));

  if (error == NULL)
    {
      if (self->write_error == NULL)
        return;
      g_debug ("writing to the history works again");
      g_clear_error (&self->write_error);
      g_clear_handle_id (&self->write_retry_source, g_source_remove);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WRITE_ERROR]);
      return;
    }

  if (!g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_STORE))
    return;

  /* Told once per change of cause, not per failed write. */
  if (self->write_error != NULL && g_strcmp0 (self->write_error->message, error->message) == 0)
    return;
  g_clear_error (&self->write_error);
  self->write_error = g_error_copy (error);
  if (self->write_retry_source == 0)
    {
      self->write_retry_source = g_timeout_add (self->write_retry_ms, on_write_retry_cb, self);
      g_source_set_static_name (g_main_context_find_source_by_id (NULL, self->write_retry_source),
                                "[sotto-store] write retry");
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WRITE_ERROR]);
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
    g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_STORE, _("The disk is full"));
  else
    g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_STORE,
                 _("The history database failed (%s): %s"), what, detail);

  return FALSE;
}

/* For a failure of the statement @sql: its text says nothing to a user
 * (a full disk is not the statement's fault), so it goes to the debug log
 * and the message says whether Sotto was writing. */
static gboolean
set_statement_error (GError     **error,
                     sqlite3     *db,
                     int          rc,
                     const char  *sql)
{
  gboolean writing = g_ascii_strncasecmp (sql, "SELECT", 6) != 0;

  g_debug ("%s: %s", sql, db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));

  return _sotto_store_set_db_error (error, db, rc, writing ? _("writing") : _("reading"));
}

gboolean
_sotto_store_db_exec (SottoStore  *self,
                      const char  *sql,
                      GError     **error)
{
  int rc;

  _sotto_store_assert_worker (self);

  rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return set_statement_error (error, self->db, rc, sql);

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
  sqlite3_stmt *stmt;
  int rc;

  _sotto_store_assert_worker (self);

  stmt = g_hash_table_lookup (self->statements, sql);
  if (stmt != NULL)
    {
      g_assert (!sqlite3_stmt_busy (stmt));
      return stmt;
    }

  rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      set_statement_error (error, self->db, rc, sql);
      return NULL;
    }

  g_hash_table_insert (self->statements, (gpointer)sql, stmt);
  return stmt;
}

/* Closes the connection, with the statements it keeps prepared. On the
 * worker, or in finalize once the worker has stopped: no assertion. */
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
  int rc;

  _sotto_store_assert_worker (self);

  rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      set_statement_error (error, self->db, rc, sql);
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

  _sotto_store_assert_worker (self);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    ;

  if (rc != SQLITE_DONE)
    return set_statement_error (error, self->db, rc, sqlite3_sql (stmt));

  return TRUE;
}

/* Runs a cached statement that returns no rows. */
gboolean
_sotto_store_db_run_cached (SottoStore  *self,
                            const char  *sql,
                            GError     **error)
{
  g_autoptr (CachedStmt) stmt = NULL;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_cached (self, sql, error);
  return stmt != NULL && _sotto_store_db_step_done (self, stmt, error);
}

gboolean
_sotto_store_db_begin (SottoStore  *self,
                       GError     **error)
{
  _sotto_store_assert_worker (self);

  self->job_wrote = TRUE;
  return _sotto_store_db_run_cached (self, "BEGIN IMMEDIATE", error);
}

gboolean
_sotto_store_db_commit (SottoStore  *self,
                        GError     **error)
{
  _sotto_store_assert_worker (self);

  return _sotto_store_db_run_cached (self, "COMMIT", error);
}

void
_sotto_store_db_rollback (SottoStore *self)
{
  _sotto_store_assert_worker (self);

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

  _sotto_store_assert_worker (self);

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

/* Whether @path is what a create that never finished left behind (before
 * creates went through a temporary name): an SQLite file, its WAL read,
 * with no table, no application id and no version. A file that SQLite
 * cannot read, or that holds anything, is not: it is never discarded. */
static gboolean
db_is_unfinished (const char *path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gboolean unfinished = FALSE;
  GStatBuf st;
  int rc;

  if (g_lstat (path, &st) != 0 || !S_ISREG (st.st_mode))
    return FALSE;

  rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2 (db,
                             "SELECT (SELECT count(*) FROM sqlite_master), "
                             "(SELECT application_id FROM pragma_application_id), "
                             "(SELECT user_version FROM pragma_user_version)",
                             -1, &stmt, NULL);
  if (rc == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
    unfinished = (sqlite3_column_int64 (stmt, 0) == 0 &&
                  sqlite3_column_int64 (stmt, 1) == 0 &&
                  sqlite3_column_int64 (stmt, 2) == 0);

  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return unfinished;
}

/* Flushes a rename in @dir to disk. */
static void
sync_dir (const char *dir)
{
  int fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

  if (fd < 0)
    return;
  if (fsync (fd) != 0)
    g_debug ("Could not flush %s: %s", dir, g_strerror (errno));
  close (fd);
}

/* Leaves the temporary file as one complete file, ready to be renamed: the
 * WAL is written back and removed, which only a rollback journal mode
 * guarantees (closing in WAL mode leaves the WAL when it cannot
 * checkpoint). The database goes back to WAL once opened under its name. */
static gboolean
db_finish_temporary (SottoStore  *self,
                     GError     **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self, "PRAGMA journal_mode = DELETE", error);
  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return _sotto_store_set_db_error (error, self->db, rc, _("creating"));
  if (g_ascii_strcasecmp ((const char *)sqlite3_column_text (stmt, 0), "delete") != 0)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_STORE,
                   _("The history database failed (%s): %s"), _("creating"),
                   "journal_mode");
      return FALSE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  db_close (self);

  return TRUE;
}

/* SQLite gives the WAL and the shared-memory file the database's mode at
 * the moment it creates them: a database made 0600 keeps its companions
 * private whatever the umask. */
static gboolean
create_private_file (const char  *path,
                     GError     **error)
{
  int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_STORE,
                   _("The history database failed (%s): %s"), _("creating"),
                   g_strerror (saved_errno));
      return FALSE;
    }
  close (fd);

  return TRUE;
}

/* Before opening: the database is the user's only (one made by an older
 * version was 0644), and the WAL and shared-memory files follow its mode.
 * SQLite made them with the mode the database had then: one made while
 * the user had the database read-only would keep the profile read-only
 * after they made it writable again. A database the user keeps read-only
 * is left as it is. */
static void
fix_file_modes (const char *db_path)
{
  static const char *suffixes[] = { "-wal", "-shm" };
  GStatBuf st;
  mode_t mode;

  if (g_lstat (db_path, &st) != 0 || !S_ISREG (st.st_mode) || st.st_uid != getuid ())
    return;

  mode = st.st_mode & 0700;
  if ((st.st_mode & 07777) != mode && g_chmod (db_path, mode) != 0)
    g_debug ("Could not make %s private: %s", db_path, g_strerror (errno));
  if ((mode & S_IWUSR) == 0)
    return;

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path = g_strconcat (db_path, suffixes[i], NULL);

      if (g_lstat (path, &st) == 0 && S_ISREG (st.st_mode) && st.st_uid == getuid () &&
          (st.st_mode & 07777) != mode && g_chmod (path, mode) != 0)
        g_debug ("Could not set the mode of %s: %s", path, g_strerror (errno));
    }
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

  _sotto_store_assert_worker (self);

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
  guint          n_damaged_contacts;
  GPtrArray     *contacts;
  GPtrArray     *groups;
  guint8        *ignore_tag_key;
  GHashTable    *ignored;
} OpenResult;

static void
open_result_free (OpenResult *result)
{
  g_clear_object (&result->identity);
  g_clear_pointer (&result->contacts, g_ptr_array_unref);
  g_clear_pointer (&result->groups, g_ptr_array_unref);
  g_clear_pointer (&result->ignore_tag_key, sodium_free);
  g_clear_pointer (&result->ignored, g_hash_table_unref);
  g_free (result);
}

static gboolean
ensure_lock (SottoStore  *self,
             GError     **error)
{
  _sotto_store_assert_worker (self);

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
  g_autofree char *tmp_path = NULL;
  guint8 store_id[STORE_ID_LEN];
  gboolean in_keyring = FALSE;
  OpenResult *result;
  GStatBuf st;
  int rc;

  _sotto_store_assert_worker (self);

  if (!ensure_lock (self, error))
    return NULL;

  if (g_lstat (self->db_path, &st) == 0)
    {
      if (!db_is_unfinished (self->db_path))
        {
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_EXISTS,
                       _("There is already a profile in “%s”"), self->profile_dir);
          return NULL;
        }
      /* Holds nothing: a create that was killed before this version. */
      g_debug ("Discarding the unfinished database %s", self->db_path);
      remove_db_files (self->db_path);
    }

  /* The database is made under another name and renamed into place once
   * complete: a create that is killed leaves no file under the profile's
   * name, only this one, which the next create removes. */
  tmp_path = g_strconcat (self->db_path, ".new", NULL);
  remove_db_files (tmp_path);

  if ((name = sotto_display_name_normalize (request->display_name, error)) == NULL ||
      (identity = sotto_identity_generate (name, error)) == NULL)
    return NULL;

  self->key = sotto_store_key_new ();
  randombytes_buf (store_id, sizeof store_id);
  self->store_id = sodium_bin2hex (g_malloc (2 * STORE_ID_LEN + 1), 2 * STORE_ID_LEN + 1,
                                   store_id, sizeof store_id);
  self->protection = request->protection;

  if (!create_private_file (tmp_path, error))
    goto failed;
  rc = sqlite3_open_v2 (tmp_path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
                        SQLITE_OPEN_EXRESCODE,
                        NULL);
  if (rc != SQLITE_OK)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("creating"));
      goto failed;
    }

  if (!_sotto_store_db_configure (self, error) ||
      !_sotto_store_register_row_mac (self, error) ||
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
      !_sotto_store_db_commit (self, error) ||
      !db_finish_temporary (self, error))
    goto failed;

  if (g_rename (tmp_path, self->db_path) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_STORE,
                   _("The history database failed (%s): %s"), _("creating"),
                   g_strerror (saved_errno));
      goto failed;
    }
  sync_dir (self->profile_dir);

  /* The profile exists from here on: a failure now is one of opening it. */
  rc = sqlite3_open_v2 (self->db_path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
                        NULL);
  if (rc != SQLITE_OK)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("opening"));
      db_close (self);
      return NULL;
    }
  if (!_sotto_store_db_configure (self, error) || !_sotto_store_register_row_mac (self, error))
    {
      db_close (self);
      return NULL;
    }

  result = g_new0 (OpenResult, 1);
  result->identity = g_steal_pointer (&identity);
  result->contacts = g_ptr_array_new_with_free_func (g_object_unref);
  if (!_sotto_store_load_ignored (self, &result->ignore_tag_key, &result->ignored, error))
    {
      open_result_free (result);
      db_close (self);
      return NULL;
    }
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
  remove_db_files (tmp_path);
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

  _sotto_store_assert_worker (self);

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

/* What keeps a profile from opening before its database is looked at: a
 * directory that is a symbolic link, another user's, or one that can't
 * be read is said to be so, not taken for "no profile yet" (which init
 * would then contradict) or left to SQLite. A directory that does not
 * exist is no profile: no error. */
static gboolean
check_profile_dir (SottoStore  *self,
                   GError     **error)
{
  GStatBuf st;
  int saved_errno;

  if (!sotto_profile_check_dir (self->profile_dir, &st, error))
    return FALSE;
  if (st.st_mode == 0)
    return TRUE;
  if (g_lstat (self->db_path, &st) != 0 && errno != ENOENT)
    {
      saved_errno = errno;
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("Cannot read the profile directory “%s”: %s"),
                   self->profile_dir, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
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
  guint n_damaged = 0;
  OpenResult *result;

  _sotto_store_assert_worker (self);

  if (!check_profile_dir (self, error))
    return NULL;

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

  /* What a create killed before this version left holds nothing: there is
   * no profile yet, and `init` discards it. */
  if (db_is_unfinished (self->db_path))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_NO_PROFILE,
                   _("There is no profile in “%s” yet: create one with "
                     "“sotto-cli init”"), self->profile_dir);
      return NULL;
    }

  fix_file_modes (self->db_path);
  if (!_sotto_store_db_open_existing (self, error) ||
      !_sotto_store_read_keyinfo_and_unlock (self, passphrase, cancellable, error) ||
      !_sotto_store_register_row_mac (self, error) ||
      !_sotto_store_db_upgrade (self, error) ||
      (identity = load_identity (self, error)) == NULL ||
      (contacts = _sotto_store_load_contacts (self, &n_damaged, error)) == NULL)
    return NULL;

  result = g_new0 (OpenResult, 1);
  result->n_damaged_contacts = n_damaged;
  result->identity = g_steal_pointer (&identity);
  result->contacts = g_steal_pointer (&contacts);
  if ((result->groups = _sotto_store_load_groups (self, error)) == NULL ||
      !_sotto_store_load_ignored (self, &result->ignore_tag_key, &result->ignored, error))
    {
      open_result_free (result);
      return NULL;
    }
  return result;
}

static gpointer
open_apply (SottoStore *self,
            gpointer    request,
            gpointer    data)
{
  OpenResult *result = data;

  g_set_object (&self->identity, result->identity);
  g_clear_pointer (&self->ignore_tag_key, sodium_free);
  self->ignore_tag_key = g_steal_pointer (&result->ignore_tag_key);
  g_clear_pointer (&self->ignored, g_hash_table_unref);
  self->ignored = g_steal_pointer (&result->ignored);
  self->key_protection = self->protection;
  self->n_damaged_contacts = result->n_damaged_contacts;
  for (guint i = 0; i < result->contacts->len; i++)
    _sotto_store_contacts_insert (self, g_ptr_array_index (result->contacts, i));
  _sotto_store_groups_set (self, result->groups);
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
sotto_store_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  SottoStore *self = SOTTO_STORE (object);

  switch (prop_id)
    {
    case PROP_WRITE_ERROR:
      g_value_set_boxed (value, self->write_error);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_store_finalize (GObject *object)
{
  SottoStore *self = (SottoStore *)object;

  g_clear_handle_id (&self->write_retry_source, g_source_remove);
  g_clear_error (&self->write_error);

  /* Waits for the worker to finish; after that its state is ours. */
  g_clear_pointer (&self->pool, thread_pool_free_wait);
  /* Closing checkpoints the WAL; a statement left open would silently
   * keep the connection (and the WAL) alive. */
  db_close (self);
  g_clear_pointer (&self->statements, g_hash_table_unref);
  g_clear_pointer (&self->unstored, g_hash_table_unref);
  g_clear_pointer (&self->key, sotto_store_key_free);
  g_clear_pointer (&self->mac_key, sodium_free);
  g_clear_pointer (&self->lock, sotto_profile_lock_release);
  g_clear_pointer (&self->store_id, g_free);
  g_clear_object (&self->identity);
  g_clear_object (&self->policy);
  g_clear_pointer (&self->ignore_tag_key, sodium_free);
  g_clear_pointer (&self->ignored, g_hash_table_unref);
  /* Every batch was handed to the worker: a job in flight holds a
   * reference, and its completion hands over what came meanwhile. */
  g_warn_if_fail (self->log_pending == NULL || g_hash_table_size (self->log_pending) == 0);
  g_clear_pointer (&self->log_pending, g_hash_table_unref);
  g_clear_object (&self->contacts);
  g_clear_object (&self->members);
  g_clear_object (&self->groups);
  g_clear_pointer (&self->contacts_by_id, g_hash_table_unref);
  g_clear_pointer (&self->profile_dir, g_free);
  g_clear_pointer (&self->db_path, g_free);

  G_OBJECT_CLASS (sotto_store_parent_class)->finalize (object);
}

static void
sotto_store_class_init (SottoStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sotto_store_finalize;
  object_class->get_property = sotto_store_get_property;

  /**
   * SottoStore:write-error:
   *
   * Why writing to the database failed (%SOTTO_ERROR_STORE: a full disk,
   * a file made read-only), or %NULL. Set by the first write that fails,
   * cleared by the first that succeeds; while set, a small write is tried
   * every %SOTTO_STORE_WRITE_RETRY_SECONDS, so that it clears by itself
   * once there is space again.
   */
  properties[PROP_WRITE_ERROR] =
    g_param_spec_boxed ("write-error", NULL, NULL, G_TYPE_ERROR,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

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

  /**
   * SottoStore::security-log-changed:
   *
   * New entries of the security log were written, or entries were counted
   * on: a view of it lists it again.
   */
  signals[SECURITY_LOG_CHANGED] =
    g_signal_new ("security-log-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
sotto_store_init (SottoStore *self)
{
  g_autoptr (GError) error = NULL;

  self->contacts = g_list_store_new (SOTTO_TYPE_CONTACT);
  self->contacts_by_id = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  self->members = g_list_store_new (SOTTO_TYPE_CONTACT);
  self->groups = g_list_store_new (SOTTO_TYPE_GROUP);
  self->log_pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify)sotto_security_log_entry_free);
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify)sqlite3_finalize);
  self->unstored = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                          (GDestroyNotify)g_array_unref);
  /* The setting's default, until the first retention applies the real
   * value (SottoRetention at start, sotto-cli on every open). */
  self->keep_history = TRUE;
  self->write_retry_ms = SOTTO_STORE_WRITE_RETRY_SECONDS * 1000;
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
_sotto_store_emit_security_log_changed (SottoStore *self)
{
  g_signal_emit (self, signals[SECURITY_LOG_CHANGED], 0);
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

/**
 * sotto_store_profile_exists:
 * @profile_dir: a profile's directory
 *
 * Whether a profile was created in @profile_dir: its database is there
 * and is not what a create killed before this version left (a file with
 * no tables, which sotto_store_create_async() discards). A damaged or
 * foreign file counts as a profile: opening it says what is wrong.
 */
gboolean
sotto_store_profile_exists (const char *profile_dir)
{
  g_autofree char *path = NULL;
  GStatBuf st;

  g_return_val_if_fail (profile_dir != NULL, FALSE);

  path = g_build_filename (profile_dir, SOTTO_STORE_FILENAME, NULL);
  return g_lstat (path, &st) == 0 && !db_is_unfinished (path);
}

const char *
sotto_store_get_profile_dir (SottoStore *self)
{
  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);

  return self->profile_dir;
}

/**
 * sotto_store_set_policy:
 * @policy: (nullable): what the user and their administrator allow
 *
 * From then on, what the policy governs is refused here, whoever asks:
 * adding a contact (allow-adding-contacts), queueing a message to a
 * contact that is not verified (require-verified-contacts), deleting
 * history (history-user-delete). The context sets it when it opens the
 * profile.
 */
void
sotto_store_set_policy (SottoStore  *self,
                        SottoPolicy *policy)
{
  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (policy == NULL || SOTTO_IS_POLICY (policy));

  g_set_object (&self->policy, policy);
}

/**
 * sotto_store_get_policy:
 *
 * Returns: (transfer none) (nullable): the policy set, if any
 */
SottoPolicy *
sotto_store_get_policy (SottoStore *self)
{
  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);

  return self->policy;
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

/**
 * sotto_store_get_write_error:
 *
 * Returns: (nullable): why writing failed, while it does
 *   (#SottoStore:write-error)
 */
const GError *
sotto_store_get_write_error (SottoStore *self)
{
  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);

  return self->write_error;
}

/* For tests: how often a write is tried while writing fails. */
void
_sotto_store_set_write_retry_ms (SottoStore *self,
                                 guint       interval_ms)
{
  g_return_if_fail (SOTTO_IS_STORE (self));

  self->write_retry_ms = MAX (interval_ms, 1);
}

/* -------------------------------------------------------------------------
 * Proving the key's protection
 * ------------------------------------------------------------------------- */

static gpointer
check_key_job (SottoStore    *self,
               gpointer       data,
               GCancellable  *cancellable,
               GError       **error)
{
  const char *passphrase = data;
  guint8 *open_key;
  char *open_store_id;
  SottoKeyProtection open_protection;
  gboolean same;

  _sotto_store_assert_worker (self);

  /* Unlocks the key again, exactly as opening does, and puts the open
   * store's state back whatever happened. */
  open_key = g_steal_pointer (&self->key);
  open_store_id = g_steal_pointer (&self->store_id);
  open_protection = self->protection;

  same = _sotto_store_read_keyinfo_and_unlock (self, passphrase, cancellable, error);
  if (same && sodium_memcmp (self->key, open_key, SOTTO_STORE_KEY_LEN) != 0)
    {
      same = FALSE;
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                           _("The key does not open this profile’s history: the keyring item "
                             "or the database was replaced or damaged"));
    }

  g_clear_pointer (&self->key, sotto_store_key_free);
  g_clear_pointer (&self->store_id, g_free);
  self->key = open_key;
  self->store_id = open_store_id;
  self->protection = open_protection;

  return same ? GINT_TO_POINTER (TRUE) : NULL;
}

/**
 * sotto_store_check_key_async:
 * @passphrase: (nullable): the current passphrase, for a profile protected
 *   by one
 *
 * Checks that whoever asks holds what protects the history key now: the
 * passphrase (%SOTTO_ERROR_NEEDS_PASSPHRASE without one,
 * %SOTTO_ERROR_WRONG_PASSPHRASE for a wrong one), or, for a profile whose
 * key is in the login keyring, that keyring (which may ask to be
 * unlocked). An open profile does not need either, but changing how its
 * key is protected does: otherwise any process that reaches it could put
 * the history under a passphrase of its own.
 */
void
sotto_store_check_key_async (SottoStore          *self,
                             const char          *passphrase,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (SOTTO_IS_STORE (self));

  _sotto_store_schedule (self, sotto_store_check_key_async, check_key_job, NULL,
                         _sotto_store_secure_strdup (passphrase), (GDestroyNotify)sodium_free,
                         NULL, cancellable, callback, user_data);
}

gboolean
sotto_store_check_key_finish (SottoStore    *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_pointer (G_TASK (result), error) != NULL;
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
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (sqlite3_stmt) stmt = NULL;

  _sotto_store_assert_worker (self);

  sealed = _sotto_store_seal_string (self, "identity", "display_name", 1, name);
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
