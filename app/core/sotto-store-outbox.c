/* sotto-store-outbox.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The outbox: what still waits for a delivered receipt, what is given up
 * on after SOTTO_OUTBOX_EXPIRY_DAYS, and sending a failed message again.
 * Messages enter it in sotto-store-messages.c and leave it there on their
 * receipt.
 */
#define G_LOG_DOMAIN "sotto-store"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "sotto-error.h"
#include "sotto-message-private.h"
#include "sotto-store-private.h"

/* -------------------------------------------------------------------------
 * The queue
 * ------------------------------------------------------------------------- */

static int
compare_message_ids (gconstpointer a,
                     gconstpointer b)
{
  gint64 ia = sotto_message_get_id (*(SottoMessage **)a);
  gint64 ib = sotto_message_get_id (*(SottoMessage **)b);

  return ia < ib ? -1 : ia > ib;
}

static gpointer
list_outbox_job (SottoStore    *self,
                 gpointer       data,
                 GCancellable  *cancellable,
                 GError       **error)
{
  MessageRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) messages = NULL;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self,
                                  "SELECT " MESSAGE_COLUMNS " FROM outbox o "
                                  "JOIN messages m ON m.id = o.message_id "
                                  "JOIN conversations c ON c.id = m.conversation_id "
                                  /* Ordered by the outbox's own key: walks the queue,
                                   * not the whole history. An entry is only a pointer:
                                   * whether the message is ours and waiting is told by
                                   * its authenticated row, so that an entry planted
                                   * in the file sends nothing. */
                                  "WHERE (?1 = 0 OR c.contact_id = ?1) "
                                  "AND m.direction = ?2 AND m.state = ?3 ORDER BY o.message_id",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, request->contact_id);
  sqlite3_bind_int (stmt, 2, SOTTO_DIRECTION_OUT);
  sqlite3_bind_int (stmt, 3, SOTTO_MESSAGE_QUEUED);

  if ((messages = _sotto_store_load_messages (self, stmt, 0, NULL, error)) == NULL)
    return NULL;

  /* And what one contact is owed of group messages, in the one order
   * they were written. */
  if (request->contact_id != 0)
    {
      g_autoptr (GPtrArray) owed = _sotto_store_list_group_owed (self, request->contact_id, error);

      if (owed == NULL)
        return NULL;
      if (owed->len > 0)
        {
          g_ptr_array_extend_and_steal (messages, g_steal_pointer (&owed));
          g_ptr_array_sort (messages, compare_message_ids);
        }
    }
  return g_steal_pointer (&messages);
}

/**
 * sotto_store_list_outbox_async:
 * @contact: (nullable): one contact's queue, or %NULL for all
 *
 * The messages still waiting for a *delivered* receipt, oldest first.
 */
void
sotto_store_list_outbox_async (SottoStore          *self,
                               SottoContact        *contact,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  _sotto_store_schedule_list (self, sotto_store_list_outbox_async, list_outbox_job, contact, cancellable, callback,
                              user_data);
}

/**
 * sotto_store_list_outbox_finish:
 *
 * Returns: (transfer container) (element-type SottoMessage): the queue
 */
GPtrArray *
sotto_store_list_outbox_finish (SottoStore    *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* -------------------------------------------------------------------------
 * Expiry and retry
 * ------------------------------------------------------------------------- */

/* One message whose state changed, for the signal after the commit. */
typedef struct
{
  gint64 contact_id;
  gint64 message_id;
} StateNews;

static gpointer
expire_outbox_job (SottoStore    *self,
                   gpointer       data,
                   GCancellable  *cancellable,
                   GError       **error)
{
  gint64 cutoff = *(gint64 *)data;
  g_autoptr (GArray) failed = g_array_new (FALSE, FALSE, sizeof (StateNews));
  g_autoptr (sqlite3_stmt) find = NULL;
  g_autoptr (sqlite3_stmt) mark = NULL;
  g_autoptr (sqlite3_stmt) unqueue = NULL;
  int rc;

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  /* Strictly older than the cutoff: a message queued exactly
   * SOTTO_OUTBOX_EXPIRY_DAYS ago still has its last microsecond. */
  find = _sotto_store_db_prepare (self,
                                  "SELECT o.message_id, c.contact_id FROM outbox o "
                                  "JOIN messages m ON m.id = o.message_id "
                                  "JOIN conversations c ON c.id = m.conversation_id "
                                  "WHERE o.queued < ?1 AND m.direction = ?2 AND m.state = ?3 "
                                  "AND c.contact_id IS NOT NULL "
                                  "AND m.mac = " MESSAGE_MAC ("m.id", "c.contact_id", "m.uid", "m.direction",
                                                               "m.state", "m.sent", "m.received") " "
                                  "ORDER BY o.message_id",
                                  error);
  if (find == NULL)
    goto failed;
  sqlite3_bind_int64 (find, 1, cutoff);
  sqlite3_bind_int (find, 2, SOTTO_DIRECTION_OUT);
  sqlite3_bind_int (find, 3, SOTTO_MESSAGE_QUEUED);
  while ((rc = sqlite3_step (find)) == SQLITE_ROW)
    {
      StateNews news = { sqlite3_column_int64 (find, 1), sqlite3_column_int64 (find, 0) };

      g_array_append_val (failed, news);
    }
  if (rc != SQLITE_DONE)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading messages"));
      goto failed;
    }
  g_clear_pointer (&find, sqlite3_finalize);

  if (failed->len > 0)
    {
      mark = _sotto_store_db_prepare (self,
                                      "UPDATE messages SET state = ?1, mac = "
                                      MESSAGE_ROW_MAC ("?1") " WHERE id IN "
                                      "(SELECT message_id FROM outbox WHERE queued < ?2) "
                                      "AND direction = ?3 AND state = ?4 "
                                      "AND mac = " MESSAGE_ROW_MAC ("messages.state"),
                                      error);
      unqueue = _sotto_store_db_prepare (self, "DELETE FROM outbox WHERE queued < ?", error);
      if (mark == NULL || unqueue == NULL)
        goto failed;
      sqlite3_bind_int (mark, 1, SOTTO_MESSAGE_FAILED);
      sqlite3_bind_int64 (mark, 2, cutoff);
      sqlite3_bind_int (mark, 3, SOTTO_DIRECTION_OUT);
      sqlite3_bind_int (mark, 4, SOTTO_MESSAGE_QUEUED);
      sqlite3_bind_int64 (unqueue, 1, cutoff);
      if (!_sotto_store_db_step_done (self, mark, error) ||
          !_sotto_store_db_step_done (self, unqueue, error))
        goto failed;
    }

  /* And what group messages still owe some members. */
  {
    g_autoptr (GArray) group_failed = g_array_new (FALSE, FALSE, sizeof (gint64));

    if (!_sotto_store_expire_group_owed (self, cutoff, group_failed, error))
      goto failed;
    for (guint i = 0; i < group_failed->len; i++)
      {
        StateNews news = { 0, g_array_index (group_failed, gint64, i) };

        g_array_append_val (failed, news);
      }
  }

  if (!_sotto_store_db_commit (self, error))
    goto failed;

  return g_steal_pointer (&failed);

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

static gpointer
expired_apply (SottoStore *self,
               gpointer    request,
               gpointer    data)
{
  GArray *failed = data;

  for (guint i = 0; i < failed->len; i++)
    {
      StateNews *news = &g_array_index (failed, StateNews, i);

      _sotto_store_emit_message_state_changed (self, news->contact_id, news->message_id,
                                               SOTTO_MESSAGE_FAILED);
    }

  return failed;
}

/**
 * sotto_store_expire_outbox_async:
 * @now_us: the time to judge by, microseconds since the epoch
 *   (g_get_real_time())
 *
 * Gives up on what has waited too long: every message whose outbox entry
 * was queued more than %SOTTO_OUTBOX_EXPIRY_DAYS days before @now_us
 * becomes %SOTTO_MESSAGE_FAILED and leaves the outbox, so that it is no
 * longer sent; #SottoStore::message-state-changed is emitted for each.
 * The age counts from when the message was last queued (see
 * sotto_store_retry_message_async()), not from when it was written.
 */
void
sotto_store_expire_outbox_async (SottoStore          *self,
                                 gint64               now_us,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  gint64 cutoff;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (now_us >= 0);

  cutoff = now_us - (gint64)SOTTO_OUTBOX_EXPIRY_DAYS * G_TIME_SPAN_DAY;
  _sotto_store_schedule (self, sotto_store_expire_outbox_async, expire_outbox_job, expired_apply,
                         g_memdup2 (&cutoff, sizeof cutoff), g_free, (GDestroyNotify)g_array_unref,
                         cancellable, callback, user_data);
}

/**
 * sotto_store_expire_outbox_finish:
 *
 * Returns: how many messages failed; 0 with @error set on failure
 */
guint
sotto_store_expire_outbox_finish (SottoStore    *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_autoptr (GArray) failed = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), 0);

  failed = g_task_propagate_pointer (G_TASK (result), error);
  return failed != NULL ? failed->len : 0;
}

typedef struct
{
  SottoMessage *message;     /* the caller's: takes the new state after the commit */
  gint64        message_id;
  gint64        contact_id;  /* as the row says, for the signal */
  gint64        queued;
} RetryRequest;

static void
retry_request_free (RetryRequest *request)
{
  g_clear_object (&request->message);
  g_free (request);
}

static gpointer
retry_message_job (SottoStore    *self,
                   gpointer       data,
                   GCancellable  *cancellable,
                   GError       **error)
{
  RetryRequest *request = data;
  g_autoptr (sqlite3_stmt) find = NULL;
  g_autoptr (sqlite3_stmt) update = NULL;
  g_autoptr (sqlite3_stmt) queue = NULL;
  gboolean *done;
  int rc;

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  find = _sotto_store_db_prepare (self,
                                  "SELECT m.direction, m.state, c.contact_id FROM messages m "
                                  "JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?",
                                  error);
  if (find == NULL)
    goto failed;
  sqlite3_bind_int64 (find, 1, request->message_id);
  rc = sqlite3_step (find);
  if (rc == SQLITE_DONE)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND, _("No such message"));
      goto failed;
    }
  if (rc != SQLITE_ROW)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading messages"));
      goto failed;
    }
  /* What the disk says, not the caller's copy, which may be out of date. */
  if (sqlite3_column_int64 (find, 0) != SOTTO_DIRECTION_OUT ||
      sqlite3_column_int64 (find, 1) != SOTTO_MESSAGE_FAILED)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("Only a message of yours that was not sent can be sent again"));
      goto failed;
    }
  request->contact_id = sqlite3_column_int64 (find, 2);
  g_clear_pointer (&find, sqlite3_finalize);

  /* Back in the outbox under the same id: a peer that had it after all
   * recognises it and drops it. The week starts again now. */
  update = _sotto_store_db_prepare (self,
                                    "UPDATE messages SET state = ?1, mac = " MESSAGE_ROW_MAC ("?1")
                                    " WHERE id = ?2 AND mac = " MESSAGE_ROW_MAC ("messages.state"),
                                    error);
  queue = _sotto_store_db_prepare (self, "INSERT INTO outbox (message_id, queued) VALUES (?, ?)",
                                   error);
  if (update == NULL || queue == NULL)
    goto failed;
  sqlite3_bind_int (update, 1, SOTTO_MESSAGE_QUEUED);
  sqlite3_bind_int64 (update, 2, request->message_id);
  sqlite3_bind_int64 (queue, 1, request->message_id);
  sqlite3_bind_int64 (queue, 2, request->queued);
  if (!_sotto_store_db_step_done (self, update, error))
    goto failed;
  /* A row changed behind our back is not queued, nor signed again. */
  if (sqlite3_changes (self->db) != 1)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                   _("Message %lld is damaged"), (long long)request->message_id);
      goto failed;
    }
  if (!_sotto_store_db_step_done (self, queue, error) ||
      !_sotto_store_db_commit (self, error))
    goto failed;

  done = g_new0 (gboolean, 1);
  *done = TRUE;
  return done;

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

static gpointer
retried_apply (SottoStore *self,
               gpointer    data,
               gpointer    result)
{
  RetryRequest *request = data;

  _sotto_message_set_state (request->message, SOTTO_MESSAGE_QUEUED);
  _sotto_store_emit_message_state_changed (self, request->contact_id, request->message_id,
                                           SOTTO_MESSAGE_QUEUED);

  return result;
}

/**
 * sotto_store_retry_message_async:
 * @message: one of our messages, %SOTTO_MESSAGE_FAILED
 *
 * Queues a message that could not be sent (sotto_store_expire_outbox_async())
 * again: under the same id, so that a peer that did get it drops the
 * duplicate, and for a whole %SOTTO_OUTBOX_EXPIRY_DAYS from now. @message
 * and #SottoStore::message-state-changed then say %SOTTO_MESSAGE_QUEUED.
 * Front ends go through sotto_peer_service_retry_async(), which also sends
 * it at once if the contact is online.
 *
 * Anything but an outgoing message that failed on disk is refused with
 * %SOTTO_ERROR_INVALID_ARGUMENT (%SOTTO_ERROR_NOT_FOUND if it is gone), and
 * nothing changes.
 */
void
sotto_store_retry_message_async (SottoStore          *self,
                                 SottoMessage        *message,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  RetryRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_MESSAGE (message));

  request = g_new0 (RetryRequest, 1);
  request->message = g_object_ref (message);
  request->message_id = sotto_message_get_id (message);
  request->queued = g_get_real_time ();

  _sotto_store_schedule (self, sotto_store_retry_message_async, retry_message_job, retried_apply,
                         request, (GDestroyNotify)retry_request_free, g_free,
                         cancellable, callback, user_data);
}

gboolean
sotto_store_retry_message_finish (SottoStore    *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_autofree gboolean *done = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  done = g_task_propagate_pointer (G_TASK (result), error);
  return done != NULL;
}

static gpointer
list_failed_job (SottoStore    *self,
                 gpointer       data,
                 GCancellable  *cancellable,
                 GError       **error)
{
  MessageRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;

  _sotto_store_assert_worker (self);

  /* Rare, and asked for rarely: no index of its own. Only the matches
   * are unsealed. */
  stmt = _sotto_store_db_prepare (self,
                                  "SELECT " MESSAGE_COLUMNS " FROM messages m "
                                  "JOIN conversations c ON c.id = m.conversation_id "
                                  "WHERE (?1 = 0 OR c.contact_id = ?1) "
                                  "AND m.direction = ?2 AND m.state = ?3 "
                                  "ORDER BY m.id",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, request->contact_id);
  sqlite3_bind_int (stmt, 2, SOTTO_DIRECTION_OUT);
  sqlite3_bind_int (stmt, 3, SOTTO_MESSAGE_FAILED);

  return _sotto_store_load_messages (self, stmt, 0, NULL, error);
}

/**
 * sotto_store_list_failed_async:
 * @contact: (nullable): one conversation, or %NULL for all
 *
 * Our messages that could not be sent (%SOTTO_MESSAGE_FAILED), oldest
 * first: what sotto_store_retry_message_async() takes.
 */
void
sotto_store_list_failed_async (SottoStore          *self,
                               SottoContact        *contact,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  _sotto_store_schedule_list (self, sotto_store_list_failed_async, list_failed_job, contact, cancellable, callback,
                              user_data);
}

/**
 * sotto_store_list_failed_finish:
 *
 * Returns: (transfer container) (element-type SottoMessage): the messages
 */
GPtrArray *
sotto_store_list_failed_finish (SottoStore    *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
