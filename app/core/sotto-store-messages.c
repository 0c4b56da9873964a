/* sotto-store-messages.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Messages: queueing ours (with their outbox row), saving theirs exactly
 * once, the peer's receipts and the user's read marks, and reading a
 * conversation back page by page. With history off, a received message
 * is shown but not stored: only its id is kept, to recognise a retry.
 */
#define G_LOG_DOMAIN "sotto-store"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>

#include "sotto-error.h"
#include "sotto-message-private.h"
#include "sotto-store-private.h"

/* A message received while history was off, in SottoStore.unstored. */
typedef struct
{
  gint64 id;
  guint8 uid[SOTTO_MESSAGE_UID_LEN];
} Unstored;

/* -------------------------------------------------------------------------
 * Rows (worker thread)
 * ------------------------------------------------------------------------- */

static SottoMessage *
message_from_row (SottoStore    *self,
                  sqlite3_stmt  *stmt,
                  GError       **error)
{
  gint64 id = sqlite3_column_int64 (stmt, 0);
  gint64 direction = sqlite3_column_int64 (stmt, 3);
  gint64 state = sqlite3_column_int64 (stmt, 4);
  g_autofree char *body = NULL;
  SottoMessage *message;

  _sotto_store_assert_worker (self);

  /* Its contact, direction and state are as Sotto wrote them, first. */
  if (!_sotto_store_row_mac_matches (stmt, 8, 9) ||
      sqlite3_column_bytes (stmt, 2) != SOTTO_MESSAGE_UID_LEN ||
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

  message = _sotto_message_new (id, sqlite3_column_int64 (stmt, 1), sqlite3_column_blob (stmt, 2),
                                (SottoDirection)direction, (SottoMessageState)state,
                                sqlite3_column_int64 (stmt, 5), sqlite3_column_int64 (stmt, 6),
                                body);
  if (sqlite3_column_type (stmt, 10) != SQLITE_NULL)
    _sotto_message_set_group (message, sqlite3_column_int64 (stmt, 10),
                              sqlite3_column_int64 (stmt, 11));
  return message;
}

/* A row that does not authenticate is left out and counted in
 * @n_damaged: one changed or damaged message must not hide the rest of a
 * conversation, nor be shown or sent as it now reads. At most @max
 * messages (0: all), so that a page is full while rows remain, however
 * many of them were damaged. */
GPtrArray *
_sotto_store_load_messages (SottoStore    *self,
                            sqlite3_stmt  *stmt,
                            guint          max,
                            guint         *n_damaged,
                            GError       **error)
{
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  int rc = SQLITE_DONE;

  _sotto_store_assert_worker (self);

  while ((max == 0 || messages->len < max) && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr (GError) local_error = NULL;
      SottoMessage *message = message_from_row (self, stmt, &local_error);

      if (message == NULL)
        {
          if (!g_error_matches (local_error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return NULL;
            }
          g_message ("Left out: %s", local_error->message);
          if (n_damaged != NULL)
            (*n_damaged)++;
          continue;
        }
      g_ptr_array_add (messages, message);
    }

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading messages"));
      return NULL;
    }

  return g_steal_pointer (&messages);
}

void
_sotto_store_message_request_free (MessageRequest *request)
{
  g_free (request->body);
  g_free (request);
}

/* A job that lists messages (or summaries) of one contact, or of all
 * with @contact %NULL, into a GPtrArray. */
void
_sotto_store_schedule_list (SottoStore          *self,
                            gpointer             source_tag,
                            StoreJobFunc         run,
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

  _sotto_store_schedule (self, source_tag, run, NULL, request,
                         (GDestroyNotify)_sotto_store_message_request_free,
                         (GDestroyNotify)g_ptr_array_unref, cancellable, callback, user_data);
}

static gint64
conversation_for_contact (SottoStore  *self,
                          gint64       contact_id,
                          GError     **error)
{
  g_autoptr (CachedStmt) stmt = NULL;

  _sotto_store_assert_worker (self);

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
  guint n_damaged = 0;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self,
                                  "SELECT " MESSAGE_COLUMNS " FROM messages m "
                                  "JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);

  messages = _sotto_store_load_messages (self, stmt, 0, &n_damaged, error);
  if (messages == NULL)
    return NULL;
  if (n_damaged > 0)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                   _("Message %lld is damaged"), (long long)id);
      return NULL;
    }
  if (messages->len != 1)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND, _("No such message"));
      return NULL;
    }

  return g_object_ref (g_ptr_array_index (messages, 0));
}

gint64
_sotto_store_insert_message (SottoStore        *self,
                             gint64             conversation_id,
                             gint64             sender_id,
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

  _sotto_store_assert_worker (self);

  if ((id = _sotto_store_db_next_id (self, "messages", error)) == 0)
    return 0;

  sealed = _sotto_store_seal_string (self, "messages", "body", id, body);
  stmt = _sotto_store_db_cached (self,
                     "INSERT INTO messages (id, conversation_id, uid, direction, state, sent, "
                     "received, body, sender_id, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                     MESSAGE_MAC ("?1", "(SELECT " MESSAGE_PARTY ("contact_id", "group_id", "?9")
                                  " FROM conversations WHERE id = ?2)",
                                  "?3", "?4", "?5", "?6", "?7") ")",
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
  sqlite3_bind_int64 (stmt, 9, sender_id);
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

/* -------------------------------------------------------------------------
 * Sending and receiving
 * ------------------------------------------------------------------------- */

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

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  /* Message and outbox row commit together: once the caller hears back, the
   * message survives a crash and will be sent. */
  if ((conversation_id = conversation_for_contact (self, request->contact_id, error)) == 0 ||
      (id = _sotto_store_insert_message (self, conversation_id, 0, request->uid, SOTTO_DIRECTION_OUT,
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

  /* Someone known only from a group gets group messages only
   * (PROTOCOL.md, "Members who are not contacts"). */
  if (sotto_contact_get_member_only (contact) != SOTTO_MEMBER_ONLY_NO)
    {
      g_task_report_new_error (self, callback, user_data, sotto_store_queue_message_async,
                               SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("%s is not one of your contacts: write to them in a group you "
                                 "share, or add them as a contact"),
                               sotto_contact_get_name (contact));
      return;
    }
  if (!sotto_message_body_validate (body, &error) ||
      (self->policy != NULL && !sotto_policy_may_message (self->policy, contact, &error)))
    {
      if (g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED))
        {
          g_autofree char *what = g_strdup_printf (_("a message to %s"),
                                                   sotto_contact_get_name (contact));

          sotto_store_log_event (self, SOTTO_SECURITY_EVENT_POLICY_REFUSED, what, error->message);
        }
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

  _sotto_store_assert_worker (self);

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
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
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

  if ((id = _sotto_store_insert_message (self, conversation_id, 0, request->uid, SOTTO_DIRECTION_IN,
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

/* -------------------------------------------------------------------------
 * Receipts and read marks
 * ------------------------------------------------------------------------- */

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

  _sotto_store_assert_worker (self);

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
      gboolean settled = FALSE;

      g_clear_pointer (&find, _sotto_store_cached_stmt_release);
      /* One of our group messages owed to this peer (PROTOCOL.md,
       * "Group messages"); otherwise a receipt for something we never
       * sent: ignored, not an error of ours. */
      id = _sotto_store_group_receipt (self, request->contact_id, request->uid, &settled, error);
      if (id < 0 || (id > 0 && !_sotto_store_db_commit (self, error)))
        goto failed;
      if (id == 0)
        _sotto_store_db_rollback (self);
      request->group_message_id = id;
      request->delivered_id = settled ? id : 0;
      found = g_new0 (gboolean, 1);
      *found = id > 0;
      return found;
    }
  id = sqlite3_column_int64 (find, 0);
  /* A statement left mid-row would make the checkpoint below fail. */
  g_clear_pointer (&find, _sotto_store_cached_stmt_release);

  /* Only forward: a delivered receipt that arrives after the read one
   * (receipts of one message travel separately) changes nothing. A
   * message given up on (sotto_store_expire_outbox_async()) that the peer
   * had after all is delivered, not failed. */
  update = _sotto_store_db_cached (self,
                                   "UPDATE messages SET state = ?1, mac = " MESSAGE_ROW_MAC ("?1")
                                   " WHERE id = ?2 AND (state < ?1 OR state = ?3) "
                                   "AND mac = " MESSAGE_ROW_MAC ("messages.state"),
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

  _sotto_store_assert_worker (self);

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
  _sotto_store_assert_worker (self);

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

  _sotto_store_assert_worker (self);

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
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
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
  _sotto_store_assert_worker (self);

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

/* -------------------------------------------------------------------------
 * Conversations: unread counts, history pages
 * ------------------------------------------------------------------------- */

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

  _sotto_store_assert_worker (self);

  /* One count per conversation through the partial index messages_unread,
   * which holds the unread messages only. */
  stmt = _sotto_store_db_cached (self,
                                 "SELECT c.contact_id, c.last_activity, "
                                 "  (SELECT count(*) FROM messages m "
                                 "   WHERE m.conversation_id = c.id "
                                 "   AND m.direction = 1 AND m.read = 0) "
                                 "FROM conversations c WHERE c.contact_id IS NOT NULL "
                                 "AND (?1 = 0 OR c.contact_id = ?1) "
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
  _sotto_store_schedule_list (self, sotto_store_list_summaries_async, list_summaries_job, contact, cancellable, callback,
                              user_data);
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

  _sotto_store_assert_worker (self);

  /* Newest first from the index, then turned to reading order. */
  stmt = _sotto_store_db_prepare (self,
                                  request->group_id != 0
                                  ? "SELECT " MESSAGE_COLUMNS " FROM messages m "
                                    "JOIN conversations c ON c.id = m.conversation_id "
                                    "WHERE c.group_id = ? AND m.id < ? ORDER BY m.id DESC"
                                  : "SELECT " MESSAGE_COLUMNS " FROM messages m "
                                    "JOIN conversations c ON c.id = m.conversation_id "
                                    "WHERE c.contact_id = ? AND m.id < ? ORDER BY m.id DESC",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, request->group_id != 0 ? request->group_id : request->contact_id);
  sqlite3_bind_int64 (stmt, 2, request->before_id > 0 ? request->before_id : G_MAXINT64);

  /* Damaged rows don't count towards the page: one that is full says
   * that there may be more. */
  page = _sotto_store_load_messages (self, stmt, request->limit, &request->n_damaged, error);
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
 * One page of a conversation, in reading order (oldest first). A message
 * that no longer authenticates (changed or damaged on disk) is left out;
 * sotto_store_history_finish_full() says how many were.
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
 * sotto_store_group_history_async:
 *
 * sotto_store_history_async() for a group's conversation.
 */
void
sotto_store_group_history_async (SottoStore          *self,
                                 SottoGroup          *group,
                                 gint64               before_id,
                                 guint                limit,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  MessageRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_GROUP (group));
  g_return_if_fail (limit >= 1 && limit <= SOTTO_HISTORY_PAGE_MAX);

  request = g_new0 (MessageRequest, 1);
  request->group_id = sotto_group_get_id (group);
  request->before_id = before_id;
  request->limit = limit;

  /* The same job, and the same source tag: its _finish() is shared. */
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
  return sotto_store_history_finish_full (self, result, NULL, error);
}

/**
 * sotto_store_history_finish_full:
 * @out_n_damaged: (out) (optional): how many messages of the page were
 *   left out because they no longer authenticate
 *
 * Returns: (transfer container) (element-type SottoMessage): the page
 */
GPtrArray *
sotto_store_history_finish_full (SottoStore    *self,
                                 GAsyncResult  *result,
                                 guint         *out_n_damaged,
                                 GError       **error)
{
  MessageRequest *request;
  GPtrArray *page;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  page = g_task_propagate_pointer (G_TASK (result), error);
  request = _sotto_store_job_get_data (G_TASK (result));
  if (out_n_damaged != NULL)
    *out_n_damaged = page != NULL ? request->n_damaged : 0;

  return page;
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

  _sotto_store_assert_worker (self);

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
      if (_sotto_store_insert_message (self, conversation_id, 0, uid, direction, SOTTO_MESSAGE_DELIVERED,
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

/* -------------------------------------------------------------------------
 * SQL on the store's connection, for tests (sotto-store-private.h)
 * ------------------------------------------------------------------------- */

static gpointer
exec_job (SottoStore    *self,
          gpointer       data,
          GCancellable  *cancellable,
          GError       **error)
{
  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;
  if (!_sotto_store_db_exec (self, data, error) || !_sotto_store_db_commit (self, error))
    {
      _sotto_store_db_rollback (self);
      return NULL;
    }

  return GINT_TO_POINTER (TRUE);
}

/* Runs @sql in one transaction on the store's own connection, where
 * sotto_row_mac() is known: for a test that puts a row in a state Sotto
 * only reaches with time (aged, or a receipt lost), and signs it as Sotto
 * would with MESSAGE_ROW_MAC / CONTACT_ROW_MAC. */
void
_sotto_store_exec_async (SottoStore          *self,
                         const char          *sql,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (sql != NULL);

  _sotto_store_schedule (self, _sotto_store_exec_async, exec_job, NULL, g_strdup (sql), g_free,
                         NULL, NULL, callback, user_data);
}

gboolean
_sotto_store_exec_finish (SottoStore    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_pointer (G_TASK (result), error) != NULL;
}
