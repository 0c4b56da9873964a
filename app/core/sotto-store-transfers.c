/* sotto-store-transfers.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Files offered and received: one row per transfer and direction. The
 * offer's name, declared type and first bytes, and the path of the file,
 * are sealed like message bodies; the columns that decide what happens
 * (whose it is, which way, where it stands, what we owe the peer, the
 * size and hash the content must match, the scanner's answer) are bound
 * by the row's mac, so that someone who can write sotto.db cannot make a
 * declined file accepted, or a received file clean.
 */
#define G_LOG_DOMAIN "sotto-store"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "sotto-error.h"
#include "sotto-seal.h"
#include "sotto-store-private.h"
#include "sotto-transfer-private.h"

#define TRANSFER_MAC(t)                                                                  \
  "sotto_row_mac('transfers', " t "id, " t "contact_id, " t "uid, " t "direction, "     \
  t "state, " t "reason, " t "by_peer, " t "size, " t "hash, " t "owes, " t "owed_uid, " \
  t "owed_code, " t "scan)"

#define TRANSFER_COLUMNS                                                                 \
  "t.id, t.contact_id, t.uid, t.direction, t.state, t.reason, t.by_peer, t.offered, "   \
  "t.received, t.size, t.hash, t.name, t.type, t.head, t.path, t.progress, t.scan, "    \
  "t.owes, t.owed_uid, t.owed_code, t.mac, " TRANSFER_MAC ("t.")

enum {
  COL_ID, COL_CONTACT_ID, COL_UID, COL_DIRECTION, COL_STATE, COL_REASON, COL_BY_PEER,
  COL_OFFERED, COL_RECEIVED, COL_SIZE, COL_HASH, COL_NAME, COL_TYPE, COL_HEAD, COL_PATH,
  COL_PROGRESS, COL_SCAN, COL_OWES, COL_OWED_UID, COL_OWED_CODE, COL_MAC, COL_EXPECTED_MAC,
};

typedef struct
{
  SottoTransfer *transfer;   /* the service's, changed on the main thread only */
  SottoTransfer *snapshot;   /* what the worker writes */
  gint64         contact_id; /* listing: 0 for all */
  gboolean       is_new;
  guint          n_damaged;
} TransferRequest;

static void
transfer_request_free (TransferRequest *request)
{
  g_clear_object (&request->transfer);
  g_clear_object (&request->snapshot);
  g_free (request);
}

/* -------------------------------------------------------------------------
 * Reading (worker thread)
 * ------------------------------------------------------------------------- */

static GBytes *
unseal_column (SottoStore    *self,
               sqlite3_stmt  *stmt,
               int            col,
               const char    *column,
               gint64         id,
               GError       **error)
{
  _sotto_store_assert_worker (self);

  return sotto_unseal (self->key, "transfers", column, id, sqlite3_column_blob (stmt, col),
                       (gsize)sqlite3_column_bytes (stmt, col), error);
}

/* NULL, with @error unset, for a row that does not authenticate. */
static SottoTransfer *
load_transfer (SottoStore    *self,
               sqlite3_stmt  *stmt,
               GError       **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *type = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GBytes) head = NULL;
  SottoTransfer *transfer;
  gint64 id = sqlite3_column_int64 (stmt, COL_ID);
  int direction = sqlite3_column_int (stmt, COL_DIRECTION);
  int state = sqlite3_column_int (stmt, COL_STATE);
  int owes = sqlite3_column_int (stmt, COL_OWES);

  _sotto_store_assert_worker (self);

  if (!_sotto_store_row_mac_matches (stmt, COL_MAC, COL_EXPECTED_MAC) ||
      sqlite3_column_bytes (stmt, COL_UID) != SOTTO_FILE_ID_LEN ||
      sqlite3_column_bytes (stmt, COL_HASH) != SOTTO_FILE_HASH_LEN ||
      (direction != SOTTO_DIRECTION_OUT && direction != SOTTO_DIRECTION_IN) ||
      state < SOTTO_TRANSFER_QUEUED || state > SOTTO_TRANSFER_CANCELLED ||
      (owes != SOTTO_TRANSFER_OWES_NOTHING &&
       (sqlite3_column_bytes (stmt, COL_OWED_UID) != SOTTO_MESSAGE_UID_LEN ||
        (owes != SOTTO_TRANSFER_OWES_CANCEL && owes != SOTTO_TRANSFER_OWES_DONE))))
    return NULL;

  name = _sotto_store_unseal_string (self, stmt, COL_NAME, "transfers", "name", id, &local_error);
  if (name != NULL)
    type = _sotto_store_unseal_string (self, stmt, COL_TYPE, "transfers", "type", id, &local_error);
  if (type != NULL)
    head = unseal_column (self, stmt, COL_HEAD, "head", id, &local_error);
  if (head != NULL && sqlite3_column_type (stmt, COL_PATH) != SQLITE_NULL)
    path = _sotto_store_unseal_string (self, stmt, COL_PATH, "transfers", "path", id, &local_error);
  if (local_error != NULL)
    {
      g_debug ("transfer %" G_GINT64_FORMAT " left out: %s", id, local_error->message);
      return NULL;
    }

  transfer = _sotto_transfer_new (sqlite3_column_int64 (stmt, COL_CONTACT_ID),
                                  sqlite3_column_blob (stmt, COL_UID), direction,
                                  sqlite3_column_int64 (stmt, COL_OFFERED), name,
                                  (guint64)sqlite3_column_int64 (stmt, COL_SIZE),
                                  sqlite3_column_blob (stmt, COL_HASH), head, type);
  _sotto_transfer_set_id (transfer, id);
  _sotto_transfer_set_received (transfer, sqlite3_column_int64 (stmt, COL_RECEIVED));
  if (state == SOTTO_TRANSFER_CANCELLED)
    _sotto_transfer_end (transfer, sqlite3_column_int (stmt, COL_REASON),
                         sqlite3_column_int (stmt, COL_BY_PEER) != 0);
  else
    _sotto_transfer_set_state (transfer, state);
  _sotto_transfer_set_path (transfer, path);
  _sotto_transfer_set_progress (transfer, (guint64)sqlite3_column_int64 (stmt, COL_PROGRESS));
  _sotto_transfer_set_scan (transfer, sqlite3_column_int (stmt, COL_SCAN));
  _sotto_transfer_set_owed (transfer, owes,
                            owes != SOTTO_TRANSFER_OWES_NOTHING
                            ? sqlite3_column_blob (stmt, COL_OWED_UID) : NULL,
                            (guint8)sqlite3_column_int (stmt, COL_OWED_CODE));
  return transfer;
}

static gpointer
list_transfers_job (SottoStore    *self,
                    gpointer       data,
                    GCancellable  *cancellable,
                    GError       **error)
{
  TransferRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) transfers = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self,
                                  "SELECT " TRANSFER_COLUMNS " FROM transfers t "
                                  "WHERE ?1 = 0 OR t.contact_id = ?1 ORDER BY t.id DESC",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, request->contact_id);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SottoTransfer *transfer = load_transfer (self, stmt, error);

      if (transfer != NULL)
        g_ptr_array_add (transfers, transfer);
      else
        request->n_damaged++;
    }
  if (rc != SQLITE_DONE)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading file transfers"));
      return NULL;
    }

  return g_steal_pointer (&transfers);
}

/* -------------------------------------------------------------------------
 * Writing (worker thread)
 * ------------------------------------------------------------------------- */

/* The sealed columns of a row, under its id. */
typedef struct
{
  GBytes *name;
  GBytes *type;
  GBytes *head;
  GBytes *path;   /* NULL: none */
} Sealed;

static void
sealed_clear (Sealed *sealed)
{
  g_clear_pointer (&sealed->name, g_bytes_unref);
  g_clear_pointer (&sealed->type, g_bytes_unref);
  g_clear_pointer (&sealed->head, g_bytes_unref);
  g_clear_pointer (&sealed->path, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Sealed, sealed_clear)

static void
bind_state (sqlite3_stmt  *stmt,
            SottoTransfer *transfer,
            GBytes        *path,
            int            first)
{
  const guint8 *owed_uid = NULL;
  guint8 owed_code = 0;
  SottoTransferOwes owes = _sotto_transfer_get_owes (transfer, &owed_uid, &owed_code);

  /* state, reason, by_peer, path, progress, scan, owes, owed_uid,
   * owed_code, updated: in this order from @first on. */
  sqlite3_bind_int (stmt, first, sotto_transfer_get_state (transfer));
  sqlite3_bind_int (stmt, first + 1, sotto_transfer_get_reason (transfer));
  sqlite3_bind_int (stmt, first + 2, sotto_transfer_get_ended_by_peer (transfer) ? 1 : 0);
  if (path != NULL)
    _sotto_store_bind_sealed (stmt, first + 3, path);
  else
    sqlite3_bind_null (stmt, first + 3);
  sqlite3_bind_int64 (stmt, first + 4, (gint64)sotto_transfer_get_progress (transfer));
  sqlite3_bind_int (stmt, first + 5, sotto_transfer_get_scan (transfer));
  sqlite3_bind_int (stmt, first + 6, owes);
  if (owes != SOTTO_TRANSFER_OWES_NOTHING)
    sqlite3_bind_blob (stmt, first + 7, owed_uid, SOTTO_MESSAGE_UID_LEN, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, first + 7);
  sqlite3_bind_int (stmt, first + 8, owed_code);
  sqlite3_bind_int64 (stmt, first + 9, g_get_real_time ());
}

static GBytes *
seal_path (SottoStore    *self,
           SottoTransfer *transfer,
           gint64         id)
{
  const char *path = _sotto_transfer_peek_path (transfer);

  return path != NULL ? _sotto_store_seal_string (self, "transfers", "path", id, path) : NULL;
}

static gboolean
insert_transfer (SottoStore     *self,
                 SottoTransfer  *transfer,
                 GError        **error)
{
  g_autoptr (CachedStmt) stmt = NULL;
  g_auto (Sealed) sealed = { 0 };
  gsize head_len = 0;
  gconstpointer head = g_bytes_get_data (sotto_transfer_get_head (transfer), &head_len);
  gint64 id;

  _sotto_store_assert_worker (self);

  if ((id = _sotto_store_db_next_id (self, "transfers", error)) == 0)
    return FALSE;

  sealed.name = _sotto_store_seal_string (self, "transfers", "name", id,
                                          sotto_transfer_get_name (transfer));
  sealed.type = _sotto_store_seal_string (self, "transfers", "type", id,
                                          sotto_transfer_get_declared_type (transfer));
  sealed.head = sotto_seal (self->key, "transfers", "head", id, head, head_len);
  sealed.path = seal_path (self, transfer, id);

  stmt = _sotto_store_db_cached (self,
                                 "INSERT INTO transfers (id, contact_id, uid, direction, offered, "
                                 "received, size, hash, name, type, head, state, reason, by_peer, "
                                 "path, progress, scan, owes, owed_uid, owed_code, updated, mac) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                                 "?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
                                 "sotto_row_mac('transfers', ?1, ?2, ?3, ?4, ?12, ?13, ?14, ?7, ?8, "
                                 "?18, ?19, ?20, ?17))",
                                 error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, sotto_transfer_get_contact_id (transfer));
  sqlite3_bind_blob (stmt, 3, sotto_transfer_get_uid (transfer), SOTTO_FILE_ID_LEN,
                     SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 4, sotto_transfer_get_direction (transfer));
  sqlite3_bind_int64 (stmt, 5, sotto_transfer_get_offered (transfer));
  sqlite3_bind_int64 (stmt, 6, _sotto_transfer_get_received (transfer));
  sqlite3_bind_int64 (stmt, 7, (gint64)sotto_transfer_get_size (transfer));
  sqlite3_bind_blob (stmt, 8, sotto_transfer_get_hash (transfer), SOTTO_FILE_HASH_LEN,
                     SQLITE_TRANSIENT);
  _sotto_store_bind_sealed (stmt, 9, sealed.name);
  _sotto_store_bind_sealed (stmt, 10, sealed.type);
  _sotto_store_bind_sealed (stmt, 11, sealed.head);
  bind_state (stmt, transfer, sealed.path, 12);
  if (!_sotto_store_db_step_done (self, stmt, error))
    return FALSE;

  _sotto_transfer_set_id (transfer, id);
  return TRUE;
}

static gboolean
update_transfer (SottoStore     *self,
                 SottoTransfer  *transfer,
                 GError        **error)
{
  g_autoptr (CachedStmt) stmt = NULL;
  g_autoptr (GBytes) path = NULL;
  gint64 id = sotto_transfer_get_id (transfer);

  _sotto_store_assert_worker (self);

  path = seal_path (self, transfer, id);
  /* Only a row that still authenticates is signed again. */
  stmt = _sotto_store_db_cached (self,
                                 "UPDATE transfers SET state = ?2, reason = ?3, by_peer = ?4, "
                                 "path = ?5, progress = ?6, scan = ?7, owes = ?8, owed_uid = ?9, "
                                 "owed_code = ?10, updated = ?11, "
                                 "mac = sotto_row_mac('transfers', id, contact_id, uid, direction, "
                                 "?2, ?3, ?4, size, hash, ?8, ?9, ?10, ?7) "
                                 "WHERE id = ?1 AND mac = " TRANSFER_MAC (""),
                                 error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  bind_state (stmt, transfer, path, 2);
  if (!_sotto_store_db_step_done (self, stmt, error))
    return FALSE;
  if (sqlite3_changes (self->db) != 1)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                   _("The record of a file transfer on this computer was changed or is damaged"));
      return FALSE;
    }
  return TRUE;
}

/* An incoming offer we already hold is a duplicate (@out_existing); one
 * that reuses the id of our own offer to that contact is refused. */
static gboolean
find_same_id (SottoStore      *self,
              SottoTransfer   *transfer,
              SottoTransfer  **out_existing,
              GError         **error)
{
  g_autoptr (CachedStmt) stmt = NULL;
  int rc;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_cached (self,
                                 "SELECT " TRANSFER_COLUMNS " FROM transfers t "
                                 "WHERE t.contact_id = ?1 AND t.uid = ?2",
                                 error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, sotto_transfer_get_contact_id (transfer));
  sqlite3_bind_blob (stmt, 2, sotto_transfer_get_uid (transfer), SOTTO_FILE_ID_LEN,
                     SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (sqlite3_column_int (stmt, COL_DIRECTION) != SOTTO_DIRECTION_IN)
        {
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                       _("The contact offered a file under the id of one of yours"));
          return FALSE;
        }
      if (*out_existing == NULL)
        *out_existing = load_transfer (self, stmt, NULL);
      if (*out_existing == NULL)
        {
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                       _("The record of a file transfer on this computer was changed or is damaged"));
          return FALSE;
        }
    }
  if (rc != SQLITE_DONE)
    return _sotto_store_set_db_error (error, self->db, rc, _("reading file transfers"));
  return TRUE;
}

static gpointer
save_transfer_job (SottoStore    *self,
                   gpointer       data,
                   GCancellable  *cancellable,
                   GError       **error)
{
  TransferRequest *request = data;
  SottoTransfer *snapshot = request->snapshot;
  g_autoptr (SottoTransfer) existing = NULL;

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  if (sotto_transfer_get_id (snapshot) != 0)
    {
      if (!update_transfer (self, snapshot, error))
        goto failed;
    }
  else
    {
      if (sotto_transfer_get_direction (snapshot) == SOTTO_DIRECTION_IN &&
          !find_same_id (self, snapshot, &existing, error))
        goto failed;
      if (existing != NULL)
        {
          /* A duplicate offer: the record stands as it is. */
          _sotto_store_db_rollback (self);
          request->is_new = FALSE;
          return g_steal_pointer (&existing);
        }
      if (!insert_transfer (self, snapshot, error))
        goto failed;
      request->is_new = TRUE;
    }

  if (!_sotto_store_db_commit (self, error))
    goto failed;

  return g_object_ref (snapshot);

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

/* On the main thread: a new row's id goes to the service's object. */
static gpointer
save_transfer_apply (SottoStore *self,
                     gpointer    data,
                     gpointer    result)
{
  TransferRequest *request = data;

  if (request->is_new)
    _sotto_transfer_set_id (request->transfer, sotto_transfer_get_id (result));
  return result;
}

/**
 * sotto_store_save_transfer_async:
 * @transfer: a transfer: inserted if it has no id yet, else its state
 *   written
 *
 * Writes where @transfer stands, as it is when this is called. An incoming
 * offer the store already has (the same id from the same contact) is a
 * duplicate: nothing is written, and the stored one is returned with
 * @out_is_new %FALSE.
 */
void
sotto_store_save_transfer_async (SottoStore          *self,
                                 SottoTransfer       *transfer,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  TransferRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_TRANSFER (transfer));

  request = g_new0 (TransferRequest, 1);
  request->transfer = g_object_ref (transfer);
  request->snapshot = _sotto_transfer_copy (transfer);
  _sotto_store_schedule (self, sotto_store_save_transfer_async, save_transfer_job,
                         save_transfer_apply, request, (GDestroyNotify)transfer_request_free,
                         g_object_unref, cancellable, callback, user_data);
}

/**
 * sotto_store_save_transfer_finish:
 * @out_is_new: (out) (optional): whether the transfer was new to the store
 *
 * Returns: (transfer full) (nullable): the transfer as stored (for a
 *   duplicate offer, the one stored before), or %NULL on error
 */
SottoTransfer *
sotto_store_save_transfer_finish (SottoStore    *self,
                                  GAsyncResult  *result,
                                  gboolean      *out_is_new,
                                  GError       **error)
{
  TransferRequest *request;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  request = _sotto_store_job_get_data (G_TASK (result));
  if (out_is_new != NULL)
    *out_is_new = request->is_new;
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * sotto_store_list_transfers_async:
 * @contact: (nullable): one contact's transfers, or %NULL for all
 *
 * Every file transfer, newest first. A record that does not authenticate
 * is left out and counted.
 */
void
sotto_store_list_transfers_async (SottoStore          *self,
                                  SottoContact        *contact,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  TransferRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (contact == NULL || SOTTO_IS_CONTACT (contact));

  request = g_new0 (TransferRequest, 1);
  request->contact_id = contact != NULL ? sotto_contact_get_id (contact) : 0;
  _sotto_store_schedule (self, sotto_store_list_transfers_async, list_transfers_job, NULL,
                         request, (GDestroyNotify)transfer_request_free,
                         (GDestroyNotify)g_ptr_array_unref, cancellable, callback, user_data);
}

/**
 * sotto_store_list_transfers_finish:
 * @out_n_damaged: (out) (optional): records left out because they did not
 *   authenticate
 *
 * Returns: (transfer container) (element-type SottoTransfer): the transfers
 */
GPtrArray *
sotto_store_list_transfers_finish (SottoStore    *self,
                                   GAsyncResult  *result,
                                   guint         *out_n_damaged,
                                   GError       **error)
{
  TransferRequest *request;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  request = _sotto_store_job_get_data (G_TASK (result));
  if (out_n_damaged != NULL)
    *out_n_damaged = request->n_damaged;
  return g_task_propagate_pointer (G_TASK (result), error);
}
