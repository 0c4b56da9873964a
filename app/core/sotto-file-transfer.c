/* sotto-file-transfer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Files between contacts (PROTOCOL.md, "Files"). The offer, a cancel and
 * a "done" are delivered like texts: stored first, sent on every session
 * until the peer's receipt names them. The bytes flow only on a session:
 * the receiver says where to start (FILE_ACCEPT) and moves the sender's
 * window as it writes, so neither side holds more than a few MiB of a
 * file in memory, and a session that ends, or a process that dies, only
 * means starting again where the receiver's part file ends.
 *
 * Received files are written into the download folder as
 * "NAME.ID.part" (mode 0600, never followed through a link), hashed as
 * they arrive, checked against the offer's hash, scanned, and only then
 * renamed to their safe name, never replacing a file that is there.
 *
 * File I/O runs in GTask threads, one operation at a time per transfer;
 * everything else on the main thread.
 */
#define G_LOG_DOMAIN "sotto-files"
#define _GNU_SOURCE 1  /* renameat2 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sotto-error.h"
#include "sotto-file-transfer-private.h"
#include "sotto-scanner.h"
#include "sotto-transfer-private.h"

/* Bytes read from the file offered in one go: a few chunks. */
#define READ_BATCH (4 * SOTTO_FILE_CHUNK_MAX)
/* Reading a file to hash it, or a part file to resume its hash. */
/* Progress is told at most this often per transfer. */
#define PROGRESS_INTERVAL_US (250 * 1000)

G_STATIC_ASSERT (SOTTO_FILE_HEAD_MAX == SOTTO_FILE_HEAD_LEN);
G_STATIC_ASSERT (crypto_generichash_BYTES_MAX == SOTTO_FILE_HASH_LEN);

G_DEFINE_FINAL_TYPE (SottoFileTransfer, sotto_file_transfer, G_TYPE_OBJECT)

enum {
  TRANSFER_ADDED,
  TRANSFER_CHANGED,
  TRANSFER_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void pump (Live *live);

/* -------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

char *
_sotto_file_live_key (gint64          contact_id,
          SottoDirection  direction,
          const guint8   *uid)
{
  char hex[SOTTO_FILE_ID_LEN * 2 + 1];

  sodium_bin2hex (hex, sizeof hex, uid, SOTTO_FILE_ID_LEN);
  return g_strdup_printf ("%d:%" G_GINT64_FORMAT ":%s", direction, contact_id, hex);
}

void
_sotto_file_live_close (Live *live)
{
  if (live->fd >= 0)
    close (live->fd);
  live->fd = -1;
  if (live->part_fd >= 0)
    close (live->part_fd);
  live->part_fd = -1;
  live->ready = FALSE;
  g_queue_clear_full (&live->writes, (GDestroyNotify)g_bytes_unref);
}

static void
live_free (Live *live)
{
  /* A thread still working holds the live: never freed under it. */
  g_assert (!live->busy);
  _sotto_file_live_close (live);
  g_clear_pointer (&live->hash, sodium_free);
  g_clear_object (&live->session);
  g_clear_object (&live->offered_on);
  g_clear_object (&live->transfer);
  g_free (live);
}

static Live *
live_add (SottoFileTransfer *self,
          SottoTransfer     *transfer)
{
  Live *live = g_new0 (Live, 1);

  live->service = self;
  live->transfer = g_object_ref (transfer);
  live->fd = -1;
  live->part_fd = -1;
  g_queue_init (&live->writes);
  g_hash_table_replace (self->lives,
                        _sotto_file_live_key (sotto_transfer_get_contact_id (transfer),
                                  sotto_transfer_get_direction (transfer),
                                  sotto_transfer_get_uid (transfer)),
                        live);
  return live;
}

Live *
_sotto_file_live_lookup (SottoFileTransfer *self,
             gint64             contact_id,
             SottoDirection     direction,
             const guint8      *uid)
{
  g_autofree char *key = _sotto_file_live_key (contact_id, direction, uid);

  return g_hash_table_lookup (self->lives, key);
}

static Live *
live_for (SottoFileTransfer *self,
          SottoTransfer     *transfer)
{
  return _sotto_file_live_lookup (self, sotto_transfer_get_contact_id (transfer),
                      sotto_transfer_get_direction (transfer),
                      sotto_transfer_get_uid (transfer));
}

SottoSession *
_sotto_file_transfer_ready_session (SottoFileTransfer *self,
               gint64             contact_id)
{
  SottoSession *session = g_hash_table_lookup (self->sessions, &contact_id);

  if (session != NULL && sotto_session_is_closed (session))
    return NULL;
  return session;
}

static void
send_on (SottoSession       *session,
         const SottoPayload *payload)
{
  g_autoptr (GError) error = NULL;

  if (session != NULL && !sotto_session_send (session, payload, &error))
    g_debug ("%s not sent: %s", sotto_payload_kind_to_string (payload->kind), error->message);
}

static void
send_receipt (SottoSession *session,
              const guint8 *uid)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_RECEIPT);

  payload->receipt_state = SOTTO_RECEIPT_DELIVERED;
  payload->n_ids = 1;
  payload->ids = g_memdup2 (uid, SOTTO_MESSAGE_UID_LEN);
  send_on (session, payload);
}

static void
send_offer (Live         *live,
            SottoSession *session)
{
  SottoTransfer *transfer = live->transfer;
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_FILE_OFFER);
  GBytes *head = sotto_transfer_get_head (transfer);

  if (live->offered_on == session)
    return;
  memcpy (payload->file_id, sotto_transfer_get_uid (transfer), SOTTO_FILE_ID_LEN);
  payload->timestamp = sotto_transfer_get_offered (transfer);
  payload->file_name = g_strdup (sotto_transfer_get_name (transfer));
  payload->file_size = sotto_transfer_get_size (transfer);
  memcpy (payload->file_hash, sotto_transfer_get_hash (transfer), SOTTO_FILE_HASH_LEN);
  payload->file_head = g_bytes_unref_to_data (g_bytes_ref (head), &payload->file_head_len);
  payload->file_type = g_strdup (sotto_transfer_get_declared_type (transfer));
  send_on (session, payload);
  g_set_object (&live->offered_on, session);
}

void
_sotto_file_live_send_owed (Live         *live,
           SottoSession *session)
{
  const guint8 *uid = NULL;
  guint8 code = 0;
  SottoTransferOwes owes = _sotto_transfer_get_owes (live->transfer, &uid, &code);
  g_autoptr (SottoPayload) payload = NULL;

  if (owes == SOTTO_TRANSFER_OWES_NOTHING)
    return;
  payload = sotto_payload_new (owes);
  memcpy (payload->uid, uid, SOTTO_MESSAGE_UID_LEN);
  memcpy (payload->file_id, sotto_transfer_get_uid (live->transfer), SOTTO_FILE_ID_LEN);
  payload->file_reason = code;
  send_on (session, payload);
}

void
_sotto_file_live_send_accept (Live    *live,
                              guint64  offset)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_FILE_ACCEPT);

  memcpy (payload->file_id, sotto_transfer_get_uid (live->transfer), SOTTO_FILE_ID_LEN);
  payload->file_offset = offset;
  live->accept_sent = offset;
  send_on (live->session, payload);
}

void
_sotto_file_live_emit_changed (Live *live)
{
  /* A copy made to send from memory is not needed once it has ended. */
  if (sotto_transfer_get_direction (live->transfer) == SOTTO_DIRECTION_OUT &&
      sotto_transfer_is_ended (live->transfer))
    _sotto_file_copy_forget (live->service, sotto_transfer_get_path (live->transfer));
  g_signal_emit (live->service, signals[TRANSFER_CHANGED], 0, live->transfer);
}

void
_sotto_file_live_set_progress (Live    *live,
              guint64  progress)
{
  gint64 now = g_get_monotonic_time ();

  _sotto_transfer_set_progress (live->transfer, progress);
  if (now - live->progress_told >= PROGRESS_INTERVAL_US ||
      progress == sotto_transfer_get_size (live->transfer))
    {
      live->progress_told = now;
      g_signal_emit (live->service, signals[TRANSFER_PROGRESS], 0, live->transfer);
    }
}

/**
 * sotto_file_transfer_resolve_folder:
 * @setting: (nullable): the download-folder setting
 *
 * Returns: (transfer full): the folder files are received into: the
 *   setting ("~/" for the home folder), or Downloads/Sotto when it is empty
 */
char *
sotto_file_transfer_resolve_folder (const char *setting)
{
  const char *downloads;

  if (setting != NULL && setting[0] != '\0')
    {
      if (g_str_has_prefix (setting, "~/"))
        return g_build_filename (g_get_home_dir (), setting + 2, NULL);
      return g_strdup (setting);
    }
  downloads = g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD);
  if (downloads != NULL && g_path_is_absolute (downloads))
    return g_build_filename (downloads, SOTTO_FILE_FOLDER_NAME, NULL);
  return g_build_filename (g_get_home_dir (), "Downloads", SOTTO_FILE_FOLDER_NAME, NULL);
}

static char *
default_folder (GSettings *settings)
{
  g_autofree char *configured = settings != NULL
                                ? g_settings_get_string (settings, "download-folder") : NULL;

  return sotto_file_transfer_resolve_folder (configured);
}

/* -------------------------------------------------------------------------
 * Saving
 * ------------------------------------------------------------------------- */

typedef struct
{
  SottoFileTransfer *service;
  SottoSession      *session;   /* to acknowledge on, or NULL */
  guint8             ack[SOTTO_MESSAGE_UID_LEN];
} SaveData;

static void
on_saved_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  SaveData *data = user_data;
  g_autoptr (SottoTransfer) saved = NULL;
  g_autoptr (GError) error = NULL;

  saved = sotto_store_save_transfer_finish (SOTTO_STORE (object), result, NULL, &error);
  if (saved == NULL)
    {
      /* Not acknowledged: the peer tells us again on the next session. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("can't save a file transfer: %s", error->message);
    }
  else if (data->session != NULL && !sotto_session_is_closed (data->session))
    send_receipt (data->session, data->ack);

  g_clear_object (&data->session);
  g_object_unref (data->service);
  g_free (data);
}

/* Writes where @live stands; with @ack, acknowledges that id on @session
 * once it is on disk. */
void
_sotto_file_live_save (Live         *live,
      SottoSession *session,
      const guint8 *ack)
{
  SaveData *data = g_new0 (SaveData, 1);

  data->service = g_object_ref (live->service);
  if (ack != NULL)
    {
      data->session = session != NULL ? g_object_ref (session) : NULL;
      memcpy (data->ack, ack, SOTTO_MESSAGE_UID_LEN);
    }
  sotto_store_save_transfer_async (live->service->store, live->transfer,
                                   live->service->cancellable, on_saved_cb, data);
}

/* Ends @live here: @reason, said by us (owed to the peer) or by the peer. */
void
_sotto_file_live_end (Live                  *live,
              SottoFileCancelReason  reason,
              gboolean               by_peer)
{
  SottoTransfer *transfer = live->transfer;
  const char *part = _sotto_transfer_peek_path (transfer);

  if (sotto_transfer_get_direction (transfer) == SOTTO_DIRECTION_IN && part != NULL &&
      sotto_transfer_get_state (transfer) != SOTTO_TRANSFER_DONE)
    {
      /* The bytes of a file we will never have are not kept. */
      if (g_unlink (part) != 0 && errno != ENOENT)
        g_warning ("can't remove “%s”: %s", part, g_strerror (errno));
    }
  if (!live->busy)
    _sotto_file_live_close (live);
  g_clear_object (&live->session);

  _sotto_transfer_end (transfer, reason, by_peer);
  _sotto_transfer_owe (transfer, by_peer ? SOTTO_TRANSFER_OWES_NOTHING : SOTTO_TRANSFER_OWES_CANCEL,
                       by_peer ? 0 : reason);
  _sotto_file_live_emit_changed (live);
}

/* Ends @live for a reason of ours (the file unreadable, the disk full, the
 * hash wrong): the peer is told at once if it is there, and it is stored. */
void
_sotto_file_live_fail (Live                  *live,
                       SottoFileCancelReason  reason)
{
  gint64 contact_id = sotto_transfer_get_contact_id (live->transfer);

  _sotto_file_live_end (live, reason, FALSE);
  _sotto_file_live_send_owed (live, _sotto_file_transfer_ready_session (live->service, contact_id));
  _sotto_file_live_save (live, NULL, NULL);
}

/* -------------------------------------------------------------------------
 * Sending
 * ------------------------------------------------------------------------- */

typedef struct
{
  int     fd;
  guint64 offset;
  gsize   len;
} ReadJob;

static void
read_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  ReadJob *job = task_data;
  guint8 *buffer = g_malloc (job->len);
  gsize done = 0;

  while (done < job->len)
    {
      ssize_t n = pread (job->fd, buffer + done, job->len - done, (off_t)(job->offset + done));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_free (buffer);
          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                   "%s", g_strerror (saved));
          return;
        }
      if (n == 0)
        break;
      done += (gsize)n;
    }
  g_task_return_pointer (task, g_bytes_new_take (buffer, done), (GDestroyNotify)g_bytes_unref);
}

static void
on_read_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Live *live = user_data;
  ReadJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  const guint8 *data;

  live->busy = FALSE;
  live->reading = FALSE;
  bytes = g_task_propagate_pointer (G_TASK (result), &error);

  if (sotto_transfer_get_state (live->transfer) != SOTTO_TRANSFER_ACTIVE)
    {
      /* Ended while we read. */
      _sotto_file_live_close (live);
      return;
    }
  if (bytes == NULL || g_bytes_get_size (bytes) < job->len)
    {
      g_debug ("file for transfer no longer readable: %s",
               error != NULL ? error->message : "it is shorter than offered");
      _sotto_file_live_fail (live, SOTTO_FILE_CANCEL_UNAVAILABLE);
      return;
    }
  /* The session it was read for may be gone: the next one starts where
   * its receiver says. */
  if (live->session == NULL || sotto_session_is_closed (live->session) || job->offset != live->next)
    {
      /* A new session asked from elsewhere while we read: start there. */
      pump (live);
      return;
    }

  data = g_bytes_get_data (bytes, &len);
  for (gsize at = 0; at < len; at += SOTTO_FILE_CHUNK_MAX)
    {
      g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_FILE_CHUNK);
      g_autoptr (GError) send_error = NULL;

      memcpy (payload->file_id, sotto_transfer_get_uid (live->transfer), SOTTO_FILE_ID_LEN);
      payload->file_offset = job->offset + at;
      payload->chunk_len = MIN (SOTTO_FILE_CHUNK_MAX, len - at);
      payload->chunk = g_memdup2 (data + at, payload->chunk_len);
      if (!sotto_session_send (live->session, payload, &send_error))
        {
          g_debug ("chunk not sent: %s", send_error->message);
          return;
        }
    }
  live->next += len;
  pump (live);
}

/* Reads the next bytes the receiver allows, while the session has room:
 * SottoSession::drained calls again. */
static void
pump (Live *live)
{
  SottoTransfer *transfer = live->transfer;
  guint64 size = sotto_transfer_get_size (transfer);
  guint64 limit;
  g_autoptr (GTask) task = NULL;
  ReadJob *job;

  if (live->reading || live->busy || live->session == NULL || live->fd < 0 ||
      sotto_session_is_closed (live->session) ||
      sotto_transfer_get_state (transfer) != SOTTO_TRANSFER_ACTIVE ||
      sotto_session_get_unsent_bytes (live->session) >= SOTTO_FILE_SEND_WINDOW)
    return;

  limit = MIN (size, live->accepted + SOTTO_FILE_WINDOW);
  if (live->next >= limit)
    return;

  job = g_new0 (ReadJob, 1);
  job->fd = live->fd;
  job->offset = live->next;
  job->len = (gsize)MIN ((guint64)READ_BATCH, limit - live->next);
  live->reading = TRUE;
  live->busy = TRUE;
  task = g_task_new (live->service, NULL, on_read_cb, live);
  g_task_set_task_data (task, job, g_free);
  g_task_run_in_thread (task, read_thread);
}

/* The file as offered, for the bytes of an accepted transfer. */
static gboolean
open_source (Live *live)
{
  const char *path = _sotto_transfer_peek_path (live->transfer);
  struct stat st;
  int fd;

  if (live->fd >= 0)
    return TRUE;
  fd = path != NULL ? g_open (path, O_RDONLY | O_CLOEXEC, 0) : -1;
  if (fd < 0 || fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) ||
      (guint64)st.st_size != sotto_transfer_get_size (live->transfer))
    {
      g_debug ("“%s” is no longer the file offered", path != NULL ? path : "(none)");
      if (fd >= 0)
        close (fd);
      return FALSE;
    }
  live->fd = fd;
  return TRUE;
}

static void
on_accept (SottoFileTransfer  *self,
           SottoContact       *contact,
           SottoSession       *session,
           const SottoPayload *payload)
{
  Live *live = _sotto_file_live_lookup (self, sotto_contact_get_id (contact), SOTTO_DIRECTION_OUT,
                            payload->file_id);
  SottoTransfer *transfer = live != NULL ? live->transfer : NULL;
  SottoTransferState state;

  if (transfer == NULL)
    {
      /* Nothing of ours: the receiver waits for a file that will not come. */
      g_autoptr (SottoPayload) cancel = sotto_payload_new (SOTTO_PAYLOAD_FILE_CANCEL);

      randombytes_buf (cancel->uid, sizeof cancel->uid);
      memcpy (cancel->file_id, payload->file_id, SOTTO_FILE_ID_LEN);
      cancel->file_reason = SOTTO_FILE_CANCEL_UNAVAILABLE;
      send_on (session, cancel);
      return;
    }

  if (payload->file_offset > sotto_transfer_get_size (transfer))
    {
      g_autoptr (GError) error = g_error_new (SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_PROTOCOL,
                                              "file accept offset %" G_GUINT64_FORMAT
                                              " is past the file's size",
                                              payload->file_offset);
      sotto_session_close (session, error);
      return;
    }

  state = sotto_transfer_get_state (transfer);
  if (state == SOTTO_TRANSFER_CANCELLED)
    {
      /* It still waits for our word, or lost it: say it again. */
      g_autoptr (SottoPayload) cancel = sotto_payload_new (SOTTO_PAYLOAD_FILE_CANCEL);

      if (_sotto_transfer_get_owes (transfer, NULL, NULL) != SOTTO_TRANSFER_OWES_NOTHING)
        {
          _sotto_file_live_send_owed (live, session);
          return;
        }
      randombytes_buf (cancel->uid, sizeof cancel->uid);
      memcpy (cancel->file_id, payload->file_id, SOTTO_FILE_ID_LEN);
      cancel->file_reason = sotto_transfer_get_reason (transfer);
      send_on (session, cancel);
      return;
    }
  if (sotto_transfer_is_ended (transfer))
    return;

  if (live->session == session)
    {
      /* The window moves; it never goes back within a session. */
      if (payload->file_offset < live->accepted)
        {
          g_autoptr (GError) error = g_error_new_literal (SOTTO_SESSION_ERROR,
                                                          SOTTO_SESSION_ERROR_PROTOCOL,
                                                          "file accept offset went back");
          sotto_session_close (session, error);
          return;
        }
      live->accepted = payload->file_offset;
      _sotto_file_live_set_progress (live, live->accepted);
      pump (live);
      return;
    }

  /* The first word on this session: start where the receiver says. */
  g_set_object (&live->session, session);
  live->next = payload->file_offset;
  live->accepted = payload->file_offset;
  if (state != SOTTO_TRANSFER_ACTIVE)
    {
      _sotto_transfer_set_state (transfer, SOTTO_TRANSFER_ACTIVE);
      _sotto_file_live_emit_changed (live);
      _sotto_file_live_save (live, NULL, NULL);
    }
  _sotto_file_live_set_progress (live, live->accepted);
  if (!open_source (live))
    {
      _sotto_file_live_end (live, SOTTO_FILE_CANCEL_UNAVAILABLE, FALSE);
      _sotto_file_live_send_owed (live, session);
      _sotto_file_live_save (live, NULL, NULL);
      return;
    }
  pump (live);
}

/* -------------------------------------------------------------------------
 * Offers, cancels and dones from the peer
 * ------------------------------------------------------------------------- */

typedef struct
{
  SottoFileTransfer *service;
  SottoSession      *session;
  guint8             uid[SOTTO_FILE_ID_LEN];
} OfferData;

static void
on_offer_saved_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  OfferData *data = user_data;
  g_autoptr (SottoFileTransfer) self = data->service;
  g_autoptr (SottoSession) session = data->session;
  g_autoptr (SottoTransfer) transfer = NULL;
  g_autoptr (GError) error = NULL;
  gboolean is_new = FALSE;
  Live *live;

  transfer = sotto_store_save_transfer_finish (SOTTO_STORE (object), result, &is_new, &error);
  if (transfer == NULL)
    {
      /* Not acknowledged: the sender offers it again. A peer reusing the
       * id of one of our files is at fault. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          if (!g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT))
            g_warning ("can't store a file offer: %s", error->message);
          sotto_session_close (session, error);
        }
      g_free (data);
      return;
    }

  if (is_new && live_for (self, transfer) == NULL)
    {
      live = live_add (self, transfer);
      g_signal_emit (self, signals[TRANSFER_ADDED], 0, transfer);
      _sotto_file_live_send_owed (live, session);
    }
  if (!sotto_session_is_closed (session))
    send_receipt (session, data->uid);
  g_free (data);
}

static void
on_offer (SottoFileTransfer  *self,
          SottoContact       *contact,
          SottoSession       *session,
          const SottoPayload *payload)
{
  gint64 contact_id = sotto_contact_get_id (contact);
  g_autoptr (SottoTransfer) transfer = NULL;
  g_autoptr (GBytes) head = NULL;
  OfferData *data;
  Live *known;

  if (_sotto_file_live_lookup (self, contact_id, SOTTO_DIRECTION_OUT, payload->file_id) != NULL)
    {
      g_autoptr (GError) error = g_error_new_literal (SOTTO_SESSION_ERROR,
                                                      SOTTO_SESSION_ERROR_PROTOCOL,
                                                      "file offer under the id of one of ours");
      sotto_session_close (session, error);
      return;
    }
  known = _sotto_file_live_lookup (self, contact_id, SOTTO_DIRECTION_IN, payload->file_id);
  if (known != NULL)
    {
      /* A duplicate: acknowledged again, nothing else. */
      send_receipt (session, payload->file_id);
      return;
    }

  head = g_bytes_new (payload->file_head, payload->file_head_len);
  transfer = _sotto_transfer_new (contact_id, payload->file_id, SOTTO_DIRECTION_IN,
                                  payload->timestamp, payload->file_name, payload->file_size,
                                  payload->file_hash, head, payload->file_type);
  _sotto_transfer_set_received (transfer, g_get_real_time ());

  /* What this computer does not take is refused, and said so. */
  if (self->settings != NULL && !g_settings_get_boolean (self->settings, "file-transfer-enabled"))
    {
      _sotto_transfer_end (transfer, SOTTO_FILE_CANCEL_NOT_ALLOWED, FALSE);
      _sotto_transfer_owe (transfer, SOTTO_TRANSFER_OWES_CANCEL, SOTTO_FILE_CANCEL_NOT_ALLOWED);
    }
  else if (self->settings != NULL &&
           payload->file_size > g_settings_get_uint64 (self->settings, "file-max-size"))
    {
      _sotto_transfer_end (transfer, SOTTO_FILE_CANCEL_TOO_LARGE, FALSE);
      _sotto_transfer_owe (transfer, SOTTO_TRANSFER_OWES_CANCEL, SOTTO_FILE_CANCEL_TOO_LARGE);
    }

  data = g_new0 (OfferData, 1);
  data->service = g_object_ref (self);
  data->session = g_object_ref (session);
  memcpy (data->uid, payload->file_id, SOTTO_FILE_ID_LEN);
  sotto_store_save_transfer_async (self->store, transfer, self->cancellable,
                                   on_offer_saved_cb, data);
}

/* FILE_CANCEL and FILE_DONE: applied, then acknowledged, whatever we knew
 * of the transfer. */
static void
on_end (SottoFileTransfer  *self,
        SottoContact       *contact,
        SottoSession       *session,
        const SottoPayload *payload)
{
  gint64 contact_id = sotto_contact_get_id (contact);
  Live *live = _sotto_file_live_lookup (self, contact_id, SOTTO_DIRECTION_OUT, payload->file_id);

  if (live == NULL && payload->kind == SOTTO_PAYLOAD_FILE_CANCEL)
    live = _sotto_file_live_lookup (self, contact_id, SOTTO_DIRECTION_IN, payload->file_id);

  if (live == NULL || sotto_transfer_is_ended (live->transfer))
    {
      send_receipt (session, payload->uid);
      return;
    }

  if (payload->kind == SOTTO_PAYLOAD_FILE_CANCEL)
    _sotto_file_live_end (live, payload->file_reason, TRUE);
  else
    {
      _sotto_file_live_close (live);
      g_clear_object (&live->session);
      _sotto_transfer_set_progress (live->transfer, sotto_transfer_get_size (live->transfer));
      _sotto_transfer_set_state (live->transfer, payload->file_reason == SOTTO_FILE_DONE_INFECTED
                                                 ? SOTTO_TRANSFER_INFECTED : SOTTO_TRANSFER_DONE);
      _sotto_file_live_emit_changed (live);
    }
  _sotto_file_live_save (live, session, payload->uid);
}

/* -------------------------------------------------------------------------
 * The peer service's side
 * ------------------------------------------------------------------------- */

static int
compare_oldest_first (gconstpointer a,
                      gconstpointer b)
{
  gint64 id_a = sotto_transfer_get_id ((*(Live * const *)a)->transfer);
  gint64 id_b = sotto_transfer_get_id ((*(Live * const *)b)->transfer);

  return id_a < id_b ? -1 : id_a > id_b;
}

void
_sotto_file_transfer_set_running (SottoFileTransfer *self,
                                  gboolean           running)
{
  GHashTableIter iter;
  Live *live;

  g_return_if_fail (SOTTO_IS_FILE_TRANSFER (self));

  self->running = running;
  if (!running)
    return;
  /* Accepted before, here or by another process: the part files open. */
  g_hash_table_iter_init (&iter, self->lives);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&live))
    if (sotto_transfer_get_direction (live->transfer) == SOTTO_DIRECTION_IN)
      _sotto_file_receive_prepare (live);
}

/* @session is an established, confirmed contact session with a peer that
 * speaks files: what waits for the contact goes out. */
void
_sotto_file_transfer_session_ready (SottoFileTransfer *self,
                                    SottoContact      *contact,
                                    SottoSession      *session)
{
  gint64 contact_id = sotto_contact_get_id (contact);
  g_autoptr (GPtrArray) lives = g_ptr_array_new ();
  GHashTableIter iter;
  Live *live;

  g_return_if_fail (SOTTO_IS_FILE_TRANSFER (self));

  g_hash_table_insert (self->sessions, g_memdup2 (&contact_id, sizeof contact_id),
                       g_object_ref (session));

  g_hash_table_iter_init (&iter, self->lives);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&live))
    if (sotto_transfer_get_contact_id (live->transfer) == contact_id)
      g_ptr_array_add (lives, live);
  g_ptr_array_sort (lives, compare_oldest_first);

  for (guint i = 0; i < lives->len; i++)
    {
      live = g_ptr_array_index (lives, i);

      _sotto_file_live_send_owed (live, session);
      if (sotto_transfer_get_state (live->transfer) == SOTTO_TRANSFER_QUEUED)
        send_offer (live, session);
      else if (sotto_transfer_get_direction (live->transfer) == SOTTO_DIRECTION_IN &&
               sotto_transfer_get_state (live->transfer) == SOTTO_TRANSFER_ACTIVE)
        {
          if (!live->ready)
            _sotto_file_receive_prepare (live);  /* asks once the part file is hashed */
          else if (live->written < sotto_transfer_get_size (live->transfer))
            {
              g_set_object (&live->session, session);
              /* The chunks start after what still waits to be written. */
              _sotto_file_live_send_accept (live, live->expected);
            }
        }
    }
}

void
_sotto_file_transfer_session_gone (SottoFileTransfer *self,
                                   gint64             contact_id,
                                   SottoSession      *session)
{
  GHashTableIter iter;
  Live *live;

  g_return_if_fail (SOTTO_IS_FILE_TRANSFER (self));

  if (g_hash_table_lookup (self->sessions, &contact_id) == session)
    g_hash_table_remove (self->sessions, &contact_id);

  g_hash_table_iter_init (&iter, self->lives);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&live))
    {
      if (live->session == session)
        g_clear_object (&live->session);
      if (live->offered_on == session)
        g_clear_object (&live->offered_on);
      /* What the receiver has written it says next time; the sender's
       * file waits open for it. */
    }
}

void
_sotto_file_transfer_drained (SottoFileTransfer *self,
                              gint64             contact_id,
                              SottoSession      *session)
{
  GHashTableIter iter;
  Live *live;

  g_return_if_fail (SOTTO_IS_FILE_TRANSFER (self));

  g_hash_table_iter_init (&iter, self->lives);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&live))
    if (live->session == session && sotto_transfer_get_direction (live->transfer) == SOTTO_DIRECTION_OUT)
      pump (live);
}

void
_sotto_file_transfer_payload (SottoFileTransfer  *self,
                              SottoContact       *contact,
                              SottoSession       *session,
                              const SottoPayload *payload)
{
  g_return_if_fail (SOTTO_IS_FILE_TRANSFER (self));

  switch (payload->kind)
    {
    case SOTTO_PAYLOAD_FILE_OFFER:
      on_offer (self, contact, session, payload);
      break;

    case SOTTO_PAYLOAD_FILE_ACCEPT:
      on_accept (self, contact, session, payload);
      break;

    case SOTTO_PAYLOAD_FILE_CHUNK:
      _sotto_file_receive_chunk (self, contact, session, payload);
      break;

    case SOTTO_PAYLOAD_FILE_CANCEL:
    case SOTTO_PAYLOAD_FILE_DONE:
      on_end (self, contact, session, payload);
      break;

    default:
      break;
    }
}

/* A delivered receipt: TRUE if it named an offer of ours or a word we
 * owed, which the peer now has. */
gboolean
_sotto_file_transfer_receipt (SottoFileTransfer *self,
                              gint64             contact_id,
                              const guint8      *uid)
{
  GHashTableIter iter;
  Live *live;

  g_return_val_if_fail (SOTTO_IS_FILE_TRANSFER (self), FALSE);

  g_hash_table_iter_init (&iter, self->lives);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&live))
    {
      SottoTransfer *transfer = live->transfer;
      const guint8 *owed = NULL;

      if (sotto_transfer_get_contact_id (transfer) != contact_id)
        continue;
      if (sotto_transfer_get_direction (transfer) == SOTTO_DIRECTION_OUT &&
          sotto_transfer_get_state (transfer) == SOTTO_TRANSFER_QUEUED &&
          memcmp (sotto_transfer_get_uid (transfer), uid, SOTTO_FILE_ID_LEN) == 0)
        {
          _sotto_transfer_set_state (transfer, SOTTO_TRANSFER_OFFERED);
          _sotto_file_live_emit_changed (live);
          _sotto_file_live_save (live, NULL, NULL);
          return TRUE;
        }
      if (_sotto_transfer_get_owes (transfer, &owed, NULL) != SOTTO_TRANSFER_OWES_NOTHING &&
          memcmp (owed, uid, SOTTO_MESSAGE_UID_LEN) == 0)
        {
          _sotto_transfer_owe (transfer, SOTTO_TRANSFER_OWES_NOTHING, 0);
          _sotto_file_live_save (live, NULL, NULL);
          return TRUE;
        }
    }
  return FALSE;
}

/* -------------------------------------------------------------------------
 * Offering a file (main thread, hashing in a thread)
 * ------------------------------------------------------------------------- */

typedef struct
{
  char    *path;
  gint64   contact_id;
  guint64  max_size;
  /* offered from memory: written first as a copy into this folder */
  GBytes  *data;
  char    *copies;
  /* out */
  guint64  size;
  guint8   hash[SOTTO_FILE_HASH_LEN];
  GBytes  *head;
  char    *type;
} HashJob;

static void
hash_job_free (HashJob *job)
{
  g_free (job->path);
  g_clear_pointer (&job->data, g_bytes_unref);
  g_free (job->copies);
  g_clear_pointer (&job->head, g_bytes_unref);
  g_free (job->type);
  g_free (job);
}

static void
hash_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  HashJob *job = task_data;
  g_autofree guint8 *block = g_malloc (SOTTO_FILE_HASH_BLOCK);
  g_autofree char *basename = NULL;
  g_autofree char *content_type = NULL;
  crypto_generichash_state state;
  struct stat before;
  struct stat after;
  guint64 at = 0;
  int fd;

  if (job->data != NULL)
    {
      GError *error = NULL;
      g_autofree char *name = NULL;

      if (g_bytes_get_size (job->data) > job->max_size)
        {
          g_autofree char *size = g_format_size (g_bytes_get_size (job->data));
          g_autofree char *max = g_format_size (job->max_size);

          g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                                   _("“%s” is %s: larger than the %s this computer may send"),
                                   job->path, size, max);
          return;
        }
      name = g_steal_pointer (&job->path);
      job->path = _sotto_file_copy_write (job->copies, name, job->data, &error);
      if (job->path == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
    }
  basename = g_path_get_basename (job->path);
  fd = g_open (job->path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                               _("Can’t read “%s”: %s"), job->path, g_strerror (saved));
      return;
    }
  if (fstat (fd, &before) != 0 || !S_ISREG (before.st_mode))
    {
      close (fd);
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("“%s” is not a file"), job->path);
      return;
    }
  job->size = (guint64)before.st_size;
  if (job->size > job->max_size)
    {
      g_autofree char *size = g_format_size (job->size);
      g_autofree char *max = g_format_size (job->max_size);

      close (fd);
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("“%s” is %s: larger than the %s this computer may send"),
                               job->path, size, max);
      return;
    }

  crypto_generichash_init (&state, NULL, 0, SOTTO_FILE_HASH_LEN);
  while (at < job->size)
    {
      ssize_t n = pread (fd, block, (size_t)MIN ((guint64)SOTTO_FILE_HASH_BLOCK, job->size - at), (off_t)at);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || g_cancellable_is_cancelled (cancellable))
        break;
      if (at == 0)
        job->head = g_bytes_new (block, MIN ((gsize)n, SOTTO_FILE_HEAD_MAX));
      crypto_generichash_update (&state, block, (gsize)n);
      at += (guint64)n;
    }
  crypto_generichash_final (&state, job->hash, sizeof job->hash);

  /* A file that changed while we read it is not the file offered. */
  if (at != job->size || fstat (fd, &after) != 0 || after.st_size != before.st_size ||
      after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
      after.st_mtim.tv_nsec != before.st_mtim.tv_nsec)
    {
      close (fd);
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("“%s” changed while it was being read; try again"), job->path);
      return;
    }
  close (fd);
  if (job->head == NULL)
    job->head = g_bytes_new (NULL, 0);

  content_type = g_content_type_guess (basename, g_bytes_get_data (job->head, NULL),
                                       g_bytes_get_size (job->head), NULL);
  job->type = content_type != NULL ? g_content_type_get_mime_type (content_type) : NULL;
  /* Only what the wire allows: else no declared type at all. */
  if (job->type != NULL && strlen (job->type) <= SOTTO_FILE_TYPE_MAX)
    for (const char *c = job->type; *c != '\0'; c++)
      if ((guchar)*c < 0x20 || (guchar)*c > 0x7e)
        g_clear_pointer (&job->type, g_free);
  if (job->type == NULL || strlen (job->type) > SOTTO_FILE_TYPE_MAX)
    {
      g_free (job->type);
      job->type = g_strdup ("");
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_offer_stored_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoFileTransfer *self = g_task_get_source_object (task);
  g_autoptr (SottoTransfer) transfer = NULL;
  g_autoptr (GError) error = NULL;
  SottoSession *session;
  Live *live;

  transfer = sotto_store_save_transfer_finish (SOTTO_STORE (object), result, NULL, &error);
  if (transfer == NULL)
    {
      _sotto_file_copy_forget (self, sotto_transfer_get_path (g_task_get_task_data (task)));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  live = live_add (self, g_task_get_task_data (task));
  g_signal_emit (self, signals[TRANSFER_ADDED], 0, live->transfer);
  session = _sotto_file_transfer_ready_session (self, sotto_transfer_get_contact_id (live->transfer));
  if (session != NULL)
    send_offer (live, session);
  g_task_return_pointer (task, g_object_ref (live->transfer), g_object_unref);
}

static void
on_hashed_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  SottoFileTransfer *self = SOTTO_FILE_TRANSFER (object);
  g_autoptr (GTask) task = user_data;
  HashJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  GCancellable *cancellable;
  SottoTransfer *transfer;
  guint8 uid[SOTTO_FILE_ID_LEN];

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (job->data != NULL)
        _sotto_file_copy_forget (self, job->path);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  randombytes_buf (uid, sizeof uid);
  name = g_path_get_basename (job->path);
  /* A name longer than the wire allows keeps its end: the extension. */
  if (strlen (name) > SOTTO_FILE_OFFER_NAME_MAX)
    {
      const char *tail = name + strlen (name) - SOTTO_FILE_OFFER_NAME_MAX;

      while ((*tail & 0xc0) == 0x80)
        tail++;
      memmove (name, tail, strlen (tail) + 1);
    }
  if (!g_utf8_validate (name, -1, NULL))
    {
      char *valid = g_utf8_make_valid (name, -1);

      g_free (name);
      name = valid;
    }

  transfer = _sotto_transfer_new (job->contact_id, uid, SOTTO_DIRECTION_OUT, g_get_real_time (),
                                  name, job->size, job->hash, job->head, job->type);
  _sotto_transfer_set_path (transfer, job->path);
  g_task_set_task_data (task, transfer, g_object_unref);
  cancellable = g_task_get_cancellable (task);
  sotto_store_save_transfer_async (self->store, transfer, cancellable, on_offer_stored_cb,
                                   g_steal_pointer (&task));
}

static void
log_refusal (SottoFileTransfer *self,
             SottoContact      *contact,
             const GError      *error)
{
  g_autofree char *what = g_strdup_printf (_("a file to %s"), sotto_contact_get_name (contact));

  sotto_store_log_event (self->store, SOTTO_SECURITY_EVENT_POLICY_REFUSED, what, error->message);
}

/* The policy and the contact allow an offer; else @task has its error. */
static gboolean
may_offer (SottoFileTransfer *self,
           SottoContact      *contact,
           GTask             *task)
{
  GError *error = NULL;

  if (self->policy != NULL && !sotto_policy_may_send_files (self->policy, &error))
    {
      log_refusal (self, contact, error);
      g_task_return_error (task, error);
      return FALSE;
    }
  if (sotto_contact_get_blocked (contact))
    {
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("%s is blocked"), sotto_contact_get_name (contact));
      return FALSE;
    }
  if (self->policy != NULL && !sotto_policy_may_message (self->policy, contact, &error))
    {
      log_refusal (self, contact, error);
      g_task_return_error (task, error);
      return FALSE;
    }
  return TRUE;
}

/* Hashes (and for @data, first writes) in a thread, then stores and
 * queues the offer; @task gets the transfer. */
static void
offer (SottoFileTransfer *self,
       SottoContact      *contact,
       GTask             *task,
       HashJob           *job)
{
  g_autoptr (GTask) hash_task = NULL;

  job->contact_id = sotto_contact_get_id (contact);
  job->max_size = self->settings != NULL ? g_settings_get_uint64 (self->settings, "file-max-size")
                                         : SOTTO_FILE_SIZE_MAX;
  job->max_size = MIN (job->max_size, SOTTO_FILE_SIZE_MAX);
  hash_task = g_task_new (self, g_task_get_cancellable (task), on_hashed_cb, task);
  g_task_set_task_data (hash_task, job, (GDestroyNotify)hash_job_free);
  g_task_run_in_thread (hash_task, hash_thread);
}

/**
 * sotto_file_transfer_offer_async:
 * @contact: who gets the offer
 * @path: an absolute path to a regular file
 *
 * Hashes the file and queues its offer: it goes out now if the contact is
 * online, else on the next session. Refused when the policy turns file
 * transfer off or the file is above file-max-size.
 */
void
sotto_file_transfer_offer_async (SottoFileTransfer   *self,
                                 SottoContact        *contact,
                                 const char          *path,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  HashJob *job;

  g_return_if_fail (SOTTO_IS_FILE_TRANSFER (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (path != NULL && g_path_is_absolute (path));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_file_transfer_offer_async);
  if (!may_offer (self, contact, task))
    return;

  job = g_new0 (HashJob, 1);
  job->path = g_strdup (path);
  offer (self, contact, g_steal_pointer (&task), job);
}

/**
 * sotto_file_transfer_offer_data_async:
 * @contact: who gets the offer
 * @name: what to call the file: no folder, at most %SOTTO_FILE_NAME_MAX
 *   bytes of UTF-8
 * @data: its content (a pasted picture, say)
 *
 * Like sotto_file_transfer_offer_async() for bytes in memory: a copy is
 * kept in the profile until the transfer has ended, so that it can be
 * resumed after a restart. Finish with sotto_file_transfer_offer_finish().
 */
void
sotto_file_transfer_offer_data_async (SottoFileTransfer   *self,
                                      SottoContact        *contact,
                                      const char          *name,
                                      GBytes              *data,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  HashJob *job;

  g_return_if_fail (SOTTO_IS_FILE_TRANSFER (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (name != NULL);
  g_return_if_fail (data != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_file_transfer_offer_data_async);
  if (!_sotto_file_copy_name_is_valid (name))
    {
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("“%s” can’t be a file name"), name);
      return;
    }
  if (!may_offer (self, contact, task))
    return;

  job = g_new0 (HashJob, 1);
  job->path = g_strdup (name);
  job->data = g_bytes_ref (data);
  job->copies = _sotto_file_copies_folder (self);
  offer (self, contact, g_steal_pointer (&task), job);
}

/**
 * sotto_file_transfer_offer_finish:
 *
 * Returns: (transfer full) (nullable): the transfer, stored and queued
 */
SottoTransfer *
sotto_file_transfer_offer_finish (SottoFileTransfer  *self,
                                  GAsyncResult       *result,
                                  GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* -------------------------------------------------------------------------
 * Answering an offer, cancelling
 * ------------------------------------------------------------------------- */

static void
on_changed_saved_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (SottoTransfer) saved = NULL;
  GError *error = NULL;

  saved = sotto_store_save_transfer_finish (SOTTO_STORE (object), result, NULL, &error);
  if (saved == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static Live *
live_or_fail (SottoFileTransfer  *self,
              SottoTransfer      *transfer,
              GTask              *task)
{
  Live *live = live_for (self, transfer);

  if (live == NULL)
    {
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND,
                               _("There is no such file transfer"));
      return NULL;
    }
  if (sotto_transfer_is_ended (live->transfer) ||
      sotto_transfer_get_state (live->transfer) == SOTTO_TRANSFER_CHECKING)
    {
      g_autofree char *what = sotto_transfer_dup_description (live->transfer);

      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("This file transfer has already ended: %s"), what);
      return NULL;
    }
  return live;
}

/**
 * sotto_file_transfer_accept_async:
 * @transfer: an incoming offer waiting for an answer
 * @folder: (nullable): where to save it; %NULL for the download folder
 *
 * Accepts the offer: the file is asked for now if the sender is online,
 * else on the next session, and saved in @folder once it is complete,
 * checked and scanned.
 */
void
sotto_file_transfer_accept_async (SottoFileTransfer   *self,
                                  SottoTransfer       *transfer,
                                  const char          *folder,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *target = NULL;
  g_autofree char *part = NULL;
  Live *live;

  g_return_if_fail (SOTTO_IS_FILE_TRANSFER (self));
  g_return_if_fail (SOTTO_IS_TRANSFER (transfer));
  g_return_if_fail (folder == NULL || g_path_is_absolute (folder));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_file_transfer_accept_async);
  if ((live = live_or_fail (self, transfer, task)) == NULL)
    return;
  if (sotto_transfer_get_direction (transfer) != SOTTO_DIRECTION_IN ||
      sotto_transfer_get_state (transfer) != SOTTO_TRANSFER_OFFERED)
    {
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("Only a file offered to you can be accepted, once"));
      return;
    }
  if (self->settings != NULL && !g_settings_get_boolean (self->settings, "file-transfer-enabled"))
    {
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("Receiving files is turned off on this computer"));
      return;
    }
  if (self->settings != NULL &&
      sotto_transfer_get_size (transfer) > g_settings_get_uint64 (self->settings, "file-max-size"))
    {
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("The file is larger than this computer accepts"));
      return;
    }

  target = folder != NULL ? g_strdup (folder) : default_folder (self->settings);
  {
    g_autofree char *name = _sotto_file_part_name (live->transfer);

    part = g_build_filename (target, name, NULL);
  }
  _sotto_transfer_set_path (live->transfer, part);
  _sotto_transfer_set_state (live->transfer, SOTTO_TRANSFER_ACTIVE);
  _sotto_file_live_emit_changed (live);
  _sotto_file_receive_prepare (live);
  sotto_store_save_transfer_async (self->store, live->transfer, cancellable, on_changed_saved_cb,
                                   g_steal_pointer (&task));
}

static void
end_by_user (SottoFileTransfer     *self,
             SottoTransfer         *transfer,
             SottoFileCancelReason  reason,
             gpointer               source_tag,
             GCancellable          *cancellable,
             GAsyncReadyCallback    callback,
             gpointer               user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  Live *live;

  g_task_set_source_tag (task, source_tag);
  if ((live = live_or_fail (self, transfer, task)) == NULL)
    return;
  if (reason == SOTTO_FILE_CANCEL_DECLINED &&
      (sotto_transfer_get_direction (transfer) != SOTTO_DIRECTION_IN ||
       sotto_transfer_get_state (transfer) != SOTTO_TRANSFER_OFFERED))
    {
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("Only a file offered to you and not yet accepted can be declined"));
      return;
    }

  _sotto_file_live_end (live, reason, FALSE);
  _sotto_file_live_send_owed (live, _sotto_file_transfer_ready_session (self, sotto_transfer_get_contact_id (transfer)));
  sotto_store_save_transfer_async (self->store, live->transfer, cancellable, on_changed_saved_cb,
                                   g_steal_pointer (&task));
}

void
sotto_file_transfer_decline_async (SottoFileTransfer   *self,
                                   SottoTransfer       *transfer,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (SOTTO_IS_FILE_TRANSFER (self));
  g_return_if_fail (SOTTO_IS_TRANSFER (transfer));

  end_by_user (self, transfer, SOTTO_FILE_CANCEL_DECLINED, sotto_file_transfer_decline_async,
               cancellable, callback, user_data);
}

void
sotto_file_transfer_cancel_async (SottoFileTransfer   *self,
                                  SottoTransfer       *transfer,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (SOTTO_IS_FILE_TRANSFER (self));
  g_return_if_fail (SOTTO_IS_TRANSFER (transfer));

  end_by_user (self, transfer, SOTTO_FILE_CANCEL_CANCELLED, sotto_file_transfer_cancel_async,
               cancellable, callback, user_data);
}

/**
 * sotto_file_transfer_change_finish:
 *
 * Finishes accepting, declining or cancelling: %TRUE once it is on disk.
 */
gboolean
sotto_file_transfer_change_finish (SottoFileTransfer  *self,
                                   GAsyncResult       *result,
                                   GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* -------------------------------------------------------------------------
 * Loading, listing
 * ------------------------------------------------------------------------- */

static void
on_swept_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;

  g_task_return_boolean (task, TRUE);
}

static void
on_loaded_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoFileTransfer *self = g_task_get_source_object (task);
  g_autoptr (GPtrArray) transfers = NULL;
  GError *error = NULL;
  guint n_damaged = 0;

  transfers = sotto_store_list_transfers_finish (SOTTO_STORE (object), result, &n_damaged, &error);
  if (transfers == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (n_damaged > 0)
    g_warning ("%u file transfer records could not be read: they were changed or are damaged",
               n_damaged);

  for (guint i = 0; i < transfers->len; i++)
    {
      SottoTransfer *transfer = g_ptr_array_index (transfers, i);
      Live *live;

      if (live_for (self, transfer) != NULL)
        continue;
      /* A check cut short by the end of the last run starts over. */
      if (sotto_transfer_get_state (transfer) == SOTTO_TRANSFER_CHECKING)
        _sotto_transfer_set_state (transfer, SOTTO_TRANSFER_ACTIVE);
      live = live_add (self, transfer);
      if (self->running && sotto_transfer_get_direction (transfer) == SOTTO_DIRECTION_IN)
        _sotto_file_receive_prepare (live);
    }
  _sotto_file_copies_sweep_async (self, on_swept_cb, g_steal_pointer (&task));
}

/**
 * sotto_file_transfer_load_async:
 *
 * Reads the profile's transfers from the store; once, before anything
 * else uses the service.
 */
void
sotto_file_transfer_load_async (SottoFileTransfer   *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (SOTTO_IS_FILE_TRANSFER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_file_transfer_load_async);
  sotto_store_list_transfers_async (self->store, NULL, cancellable, on_loaded_cb, task);
}

gboolean
sotto_file_transfer_load_finish (SottoFileTransfer  *self,
                                 GAsyncResult       *result,
                                 GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static int
compare_newest_first (gconstpointer a,
                      gconstpointer b)
{
  gint64 id_a = sotto_transfer_get_id (*(SottoTransfer * const *)a);
  gint64 id_b = sotto_transfer_get_id (*(SottoTransfer * const *)b);

  return id_a > id_b ? -1 : id_a < id_b;
}

/**
 * sotto_file_transfer_list:
 * @contact: (nullable): one contact's, or %NULL for every transfer
 *
 * Returns: (transfer container) (element-type SottoTransfer): newest first
 */
GPtrArray *
sotto_file_transfer_list (SottoFileTransfer *self,
                          SottoContact      *contact)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  Live *live;

  g_return_val_if_fail (SOTTO_IS_FILE_TRANSFER (self), NULL);

  g_hash_table_iter_init (&iter, self->lives);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&live))
    if (contact == NULL ||
        sotto_transfer_get_contact_id (live->transfer) == sotto_contact_get_id (contact))
      g_ptr_array_add (list, g_object_ref (live->transfer));
  g_ptr_array_sort (list, compare_newest_first);
  return list;
}

/**
 * sotto_file_transfer_find:
 * @id_prefix: the transfer's id in hex, or the start of it (at least
 *   %SOTTO_FILE_ID_PREFIX_MIN digits)
 *
 * Returns: (transfer full) (nullable): the one transfer whose id starts so
 */
SottoTransfer *
sotto_file_transfer_find (SottoFileTransfer  *self,
                          const char         *id_prefix,
                          GError            **error)
{
  g_autofree char *wanted = NULL;
  SottoTransfer *found = NULL;
  GHashTableIter iter;
  Live *live;
  gsize len;

  g_return_val_if_fail (SOTTO_IS_FILE_TRANSFER (self), NULL);
  g_return_val_if_fail (id_prefix != NULL, NULL);

  wanted = g_ascii_strdown (id_prefix, -1);
  len = strlen (wanted);
  if (len < SOTTO_FILE_ID_PREFIX_MIN || len > SOTTO_FILE_ID_LEN * 2 ||
      strspn (wanted, "0123456789abcdef") != len)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a file transfer id: give its %d hex digits, or at least "
                     "the first %d"), id_prefix, SOTTO_FILE_ID_LEN * 2, SOTTO_FILE_ID_PREFIX_MIN);
      return NULL;
    }

  g_hash_table_iter_init (&iter, self->lives);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&live))
    {
      g_autofree char *hex = sotto_transfer_dup_uid_hex (live->transfer);

      if (!g_str_has_prefix (hex, wanted))
        continue;
      if (found != NULL && found != live->transfer)
        {
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                       _("More than one file transfer starts with “%s”: give more digits"),
                       id_prefix);
          return NULL;
        }
      found = live->transfer;
    }
  if (found == NULL)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND,
                   _("There is no file transfer “%s”"), id_prefix);
      return NULL;
    }
  return g_object_ref (found);
}

/**
 * sotto_file_transfer_dup_folder:
 *
 * Returns: (transfer full): where received files go unless told otherwise
 */
char *
sotto_file_transfer_dup_folder (SottoFileTransfer *self)
{
  g_return_val_if_fail (SOTTO_IS_FILE_TRANSFER (self), NULL);

  return default_folder (self->settings);
}

/* -------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------- */

static void
sotto_file_transfer_dispose (GObject *object)
{
  SottoFileTransfer *self = (SottoFileTransfer *)object;

  g_cancellable_cancel (self->cancellable);
  g_hash_table_remove_all (self->sessions);

  G_OBJECT_CLASS (sotto_file_transfer_parent_class)->dispose (object);
}

static void
sotto_file_transfer_finalize (GObject *object)
{
  SottoFileTransfer *self = (SottoFileTransfer *)object;

  /* Every thread's task held a reference: none is running now. */
  g_clear_pointer (&self->lives, g_hash_table_unref);
  g_clear_pointer (&self->sessions, g_hash_table_unref);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->policy);
  g_clear_object (&self->settings);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (sotto_file_transfer_parent_class)->finalize (object);
}

static void
sotto_file_transfer_class_init (SottoFileTransferClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sotto_file_transfer_dispose;
  object_class->finalize = sotto_file_transfer_finalize;

  /**
   * SottoFileTransfer::transfer-added:
   *
   * A file offered by us or to us, stored.
   */
  signals[TRANSFER_ADDED] =
    g_signal_new ("transfer-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, SOTTO_TYPE_TRANSFER);
  /**
   * SottoFileTransfer::transfer-changed:
   *
   * Its state changed: accepted, checking, done, cancelled, …
   */
  signals[TRANSFER_CHANGED] =
    g_signal_new ("transfer-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, SOTTO_TYPE_TRANSFER);
  /**
   * SottoFileTransfer::transfer-progress:
   *
   * More bytes moved; at most every 250 ms per transfer, and at the end.
   */
  signals[TRANSFER_PROGRESS] =
    g_signal_new ("transfer-progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, SOTTO_TYPE_TRANSFER);
}

static void
sotto_file_transfer_init (SottoFileTransfer *self)
{
  self->cancellable = g_cancellable_new ();
  self->lives = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)live_free);
  self->sessions = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
}

/**
 * sotto_file_transfer_new:
 * @store: the profile's store
 * @settings: (nullable): the profile's settings; %NULL takes the schema's
 *   defaults for file-transfer-enabled and file-max-size
 *
 * Returns: (transfer full): a service to load before use. Alone it offers,
 *   answers and cancels (stored, for the process that runs the profile);
 *   inside a running peer service it also moves the bytes.
 */
SottoFileTransfer *
sotto_file_transfer_new (SottoStore *store,
                         GSettings  *settings)
{
  SottoFileTransfer *self;

  g_return_val_if_fail (SOTTO_IS_STORE (store), NULL);
  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  self = g_object_new (SOTTO_TYPE_FILE_TRANSFER, NULL);
  self->store = g_object_ref (store);
  self->settings = settings != NULL ? g_object_ref (settings) : NULL;
  self->policy = settings != NULL ? sotto_policy_new (settings) : NULL;
  return self;
}
