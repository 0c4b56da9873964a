/* sotto-store-purge.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Deleting history for good, on request or by the retention policy:
 * rows are overwritten (secure_delete) and the WAL emptied, so deleted
 * text leaves every file of the profile.
 */
#define G_LOG_DOMAIN "sotto-store"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "sotto-store-private.h"

typedef struct
{
  gint64   contact_id;
  gint64   before;
  gboolean include_queued;
  gboolean history_enabled;  /* retention only */
  gint64   log_before;       /* retention only: the security log's cut-off */
  guint    deleted;
} PurgeRequest;

static gpointer
purge_job (SottoStore    *self,
           gpointer       data,
           GCancellable  *cancellable,
           GError       **error)
{
  PurgeRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  /* Age is judged by our own clock: when we sent it, or when it arrived. A
   * sender's clock set to the future must not keep a message for ever.
   * Ours that were given up on wait for the user's retry, as the queued
   * ones wait for delivery: as their authenticated rows say, not the
   * outbox, where an entry planted in the file would keep anything. A row
   * changed to look waiting no longer authenticates, and goes. */
  stmt = _sotto_store_db_prepare (self,
                                  "DELETE FROM messages WHERE "
                                  "(?1 = 0 OR conversation_id = "
                                  "  (SELECT id FROM conversations WHERE contact_id = ?1)) "
                                  "AND (CASE direction WHEN 1 THEN received ELSE sent END) < ?2 "
                                  "AND (?3 OR direction != ?4 OR state NOT IN (?5, ?6) "
                                  "     OR mac IS NOT " MESSAGE_ROW_MAC ("messages.state") ")",
                                  error);
  if (stmt == NULL)
    goto failed;
  sqlite3_bind_int64 (stmt, 1, request->contact_id);
  sqlite3_bind_int64 (stmt, 2, request->before);
  sqlite3_bind_int (stmt, 3, request->include_queued);
  sqlite3_bind_int (stmt, 4, SOTTO_DIRECTION_OUT);
  sqlite3_bind_int (stmt, 5, SOTTO_MESSAGE_FAILED);
  sqlite3_bind_int (stmt, 6, SOTTO_MESSAGE_QUEUED);
  if (!_sotto_store_db_step_done (self, stmt, error))
    goto failed;
  request->deleted = (guint)sqlite3_changes (self->db);

  if (!_sotto_store_db_commit (self, error))
    goto failed;

  /* secure_delete zeroed the rows in the pages; the checkpoint moves those
   * pages into the database and empties the WAL, which still held the old
   * ones. */
  if (request->deleted > 0 &&
      !_sotto_store_db_exec (self, "PRAGMA wal_checkpoint(TRUNCATE)", error))
    return NULL;

  return g_memdup2 (&request->deleted, sizeof request->deleted);

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

static gpointer
apply_retention_job (SottoStore    *self,
                     gpointer       data,
                     GCancellable  *cancellable,
                     GError       **error)
{
  PurgeRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;

  _sotto_store_assert_worker (self);

  /* Before anything can fail: the setting holds for the next message even
   * when this purge does not go through. */
  self->keep_history = request->history_enabled;

  /* History on or off: the ids of messages received while it was off are
   * needed only while their sender may still retry. */
  stmt = _sotto_store_db_prepare (self, "DELETE FROM seen WHERE received < ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, sotto_store_days_ago (SOTTO_SEEN_KEEP_DAYS));
  if (!_sotto_store_db_step_done (self, stmt, error))
    return NULL;

  /* The security log is not history: kept with history off, for as many
   * days as history would be. */
  if (!_sotto_store_purge_log (self, request->log_before, error))
    return NULL;

  return purge_job (self, data, cancellable, error);
}

static gpointer
purged_apply (SottoStore *self,
              gpointer    request,
              gpointer    data)
{
  PurgeRequest *purge_request = request;
  guint *deleted = data;

  if (*deleted > 0)
    _sotto_store_emit_history_purged (self, purge_request->contact_id, *deleted);

  return deleted;
}

/**
 * sotto_store_purge_async:
 * @contact: (nullable): one conversation, or %NULL for all
 * @before: delete messages sent or received before this time
 *   (microseconds since the epoch); %G_MAXINT64 for all of them
 * @include_queued: also delete messages still waiting for delivery
 *
 * Deletes messages for good: their rows are overwritten and the WAL is
 * emptied, so the ciphertext is gone from every file of the profile.
 */
void
sotto_store_purge_async (SottoStore          *self,
                         SottoContact        *contact,
                         gint64               before,
                         gboolean             include_queued,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  PurgeRequest *request;
  GError *error = NULL;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (contact == NULL || SOTTO_IS_CONTACT (contact));

  if (self->policy != NULL && !sotto_policy_may_delete_history (self->policy, &error))
    {
      sotto_store_log_event (self, SOTTO_SECURITY_EVENT_POLICY_REFUSED, _("deleting history"),
                             error->message);
      g_task_report_error (self, callback, user_data, sotto_store_purge_async, error);
      return;
    }

  request = g_new0 (PurgeRequest, 1);
  request->contact_id = contact != NULL ? sotto_contact_get_id (contact) : 0;
  request->before = before;
  request->include_queued = include_queued;

  _sotto_store_schedule (self, sotto_store_purge_async, purge_job, purged_apply,
                         request, g_free, g_free, cancellable, callback, user_data);
}

gboolean
sotto_store_purge_finish (SottoStore    *self,
                          GAsyncResult  *result,
                          guint         *out_deleted,
                          GError       **error)
{
  g_autofree guint *deleted = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  deleted = g_task_propagate_pointer (G_TASK (result), error);
  if (out_deleted != NULL)
    *out_deleted = deleted != NULL ? *deleted : 0;

  return deleted != NULL;
}

/**
 * sotto_store_days_ago:
 *
 * Returns: the time @days days ago, in microseconds since the epoch, as
 *   sotto_store_purge_async() takes it
 */
gint64
sotto_store_days_ago (guint days)
{
  return g_get_real_time () - (gint64)days * 24 * 60 * 60 * G_USEC_PER_SEC;
}

/**
 * sotto_store_apply_retention_async:
 * @history_enabled: %FALSE keeps nothing but what waits for delivery
 * @retention_days: delete what is older than this many days; 0 keeps all
 *
 * The GSettings keys `history-enabled` and `history-retention-days`, applied
 * once. Messages still in the outbox are never deleted by retention. The
 * security log follows @retention_days, whether history is on or not.
 * Turning history off deletes the history kept, except when the user did
 * so while the policy (sotto_store_set_policy()) forbids them to delete
 * history: then it is kept until @retention_days.
 *
 * The store also remembers @history_enabled from then on (it starts out
 * %TRUE): while it is %FALSE, a message is deleted as soon as
 * sotto_store_mark_delivered_async() records its receipt, and
 * sotto_store_save_incoming_async() keeps no received message, only its
 * id, for %SOTTO_SEEN_KEEP_DAYS days. Front ends therefore apply retention
 * on opening a store and whenever the setting changes (#SottoRetention).
 */
void
sotto_store_apply_retention_async (SottoStore          *self,
                                   gboolean             history_enabled,
                                   guint                retention_days,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  PurgeRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));

  request = g_new0 (PurgeRequest, 1);
  request->history_enabled = history_enabled;
  request->log_before = retention_days > 0 ? sotto_store_days_ago (retention_days) : G_MININT64;
  /* History turned off deletes what was kept, unless the user turned it
   * off while the policy forbids them to delete history: then only what
   * comes from now on is not kept, and the rest ages out as before. An
   * administrator's lock on history-enabled deletes it. */
  if (!history_enabled &&
      (self->policy == NULL ||
       sotto_policy_is_locked (self->policy, "history-enabled") ||
       sotto_policy_may_delete_history (self->policy, NULL)))
    request->before = G_MAXINT64;
  else if (retention_days > 0)
    request->before = sotto_store_days_ago (retention_days);
  else
    request->before = G_MININT64;

  _sotto_store_schedule (self, sotto_store_apply_retention_async, apply_retention_job, purged_apply,
                         request, g_free, g_free, cancellable, callback, user_data);
}

gboolean
sotto_store_apply_retention_finish (SottoStore    *self,
                                    GAsyncResult  *result,
                                    guint         *out_deleted,
                                    GError       **error)
{
  return sotto_store_purge_finish (self, result, out_deleted, error);
}
