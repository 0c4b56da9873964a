/* sotto-file-receive.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The receiving side of a file transfer (sotto-file-transfer.c has the
 * rest): the part file in the download folder, opened never through a
 * link and hashed again after a restart; the chunks, written in order in
 * a thread while the hash follows them; and the end: the hash compared
 * with the offer's, the virus scan, and the rename into a name of its
 * own that replaces nothing.
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
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sotto-error.h"
#include "sotto-file-transfer-private.h"
#include "sotto-scanner.h"
#include "sotto-text.h"
#include "sotto-transfer-private.h"

/* A part file's name keeps this much of the safe name, so that the
 * suffix still fits in NAME_MAX. */
#define PART_NAME_KEEP 200

typedef struct _CheckJob CheckJob;

static void write_next (Live *live);
static void run_check (Live *live, CheckJob *job);

/* -------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------- */

char *
_sotto_file_part_name (SottoTransfer *transfer)
{
  g_autofree char *safe = sotto_file_safe_name (sotto_transfer_get_name (transfer));
  g_autofree char *kept = sotto_text_utf8_prefix (safe, PART_NAME_KEEP);
  g_autofree char *hex = sotto_transfer_dup_uid_hex (transfer);

  hex[8] = '\0';
  return g_strdup_printf ("%s.%s.part", kept, hex);
}

/* "name.ext" → "name (n).ext"; a leading dot is no extension. */
static char *
numbered_name (const char *safe,
               guint       n)
{
  const char *dot = strrchr (safe, '.');
  g_autofree char *stem = NULL;
  g_autofree char *name = NULL;

  if (n < 2)
    return g_strdup (safe);
  if (dot == NULL || dot == safe)
    dot = safe + strlen (safe);
  /* The number must fit: the stem gives way. */
  stem = sotto_text_utf8_prefix (safe, MIN ((gsize)(dot - safe), (gsize)(255 - strlen (dot) - 8)));
  name = g_strdup_printf ("%s (%u)%s", stem, n, dot);
  return g_steal_pointer (&name);
}

/* -------------------------------------------------------------------------
 * Receiving: the part file
 * ------------------------------------------------------------------------- */

typedef struct
{
  char                     *path;
  guint64                   size;
  int                       fd;
  guint64                   length;
  crypto_generichash_state *hash;
} PrepareJob;

static void
prepare_job_free (PrepareJob *job)
{
  g_free (job->path);
  if (job->fd >= 0)
    close (job->fd);
  g_clear_pointer (&job->hash, sodium_free);
  g_free (job);
}

/* Opens (or creates) the part file in its folder, never through a link,
 * and hashes what it already holds. */
static void
prepare_thread (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  PrepareJob *job = task_data;
  g_autofree char *folder = g_path_get_dirname (job->path);
  g_autofree guint8 *block = NULL;
  struct stat st;
  guint64 at = 0;

  if (g_mkdir_with_parents (folder, 0700) != 0)
    goto failed;
  job->fd = g_open (job->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (job->fd < 0)
    goto failed;
  if (fstat (job->fd, &st) != 0)
    goto failed;
  if (!S_ISREG (st.st_mode) || st.st_nlink != 1 || st.st_uid != getuid ())
    {
      errno = EPERM;
      goto failed;
    }
  if (fchmod (job->fd, 0600) != 0)
    goto failed;
  job->length = (guint64)st.st_size;
  if (job->length > job->size)
    {
      if (ftruncate (job->fd, 0) != 0)
        goto failed;
      job->length = 0;
    }

  job->hash = sodium_malloc (sizeof *job->hash);
  g_assert (job->hash != NULL);
  crypto_generichash_init (job->hash, NULL, 0, SOTTO_FILE_HASH_LEN);
  block = g_malloc (SOTTO_FILE_HASH_BLOCK);
  while (at < job->length)
    {
      ssize_t n = pread (job->fd, block, (size_t)MIN ((guint64)SOTTO_FILE_HASH_BLOCK, job->length - at),
                         (off_t)at);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        goto failed;
      crypto_generichash_update (job->hash, block, (gsize)n);
      at += (guint64)n;
    }
  g_task_return_boolean (task, TRUE);
  return;

failed:
  {
    int saved = errno;

    g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                             _("Can’t write the received file “%s”: %s"), job->path,
                             g_strerror (saved));
  }
}

static void
on_prepared_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Live *live = user_data;
  PrepareJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  live->busy = FALSE;
  if (sotto_transfer_get_state (live->transfer) != SOTTO_TRANSFER_ACTIVE)
    return;  /* cancelled meanwhile: _sotto_file_live_end() removed the file */

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_warning ("%s", error->message);
      _sotto_file_live_fail (live, SOTTO_FILE_CANCEL_STORAGE);
      return;
    }

  live->part_fd = g_steal_fd (&job->fd);
  g_clear_pointer (&live->hash, sodium_free);
  live->hash = g_steal_pointer (&job->hash);
  live->written = job->length;
  live->expected = job->length;
  live->ready = TRUE;
  _sotto_file_live_set_progress (live, live->written);

  if (live->written == sotto_transfer_get_size (live->transfer))
    {
      _sotto_file_receive_finish (live);
      return;
    }
  /* Ask for the rest, if the sender is there. */
  live->session = NULL;
  {
    SottoSession *session = _sotto_file_transfer_ready_session (live->service,
                                           sotto_transfer_get_contact_id (live->transfer));

    if (session != NULL)
      {
        g_set_object (&live->session, session);
        _sotto_file_live_send_accept (live, live->expected);
      }
  }
}

void
_sotto_file_receive_prepare (Live *live)
{
  g_autoptr (GTask) task = NULL;
  PrepareJob *job;

  if (live->busy || live->ready || !live->service->running ||
      sotto_transfer_get_state (live->transfer) != SOTTO_TRANSFER_ACTIVE)
    return;

  job = g_new0 (PrepareJob, 1);
  job->path = g_strdup (_sotto_transfer_peek_path (live->transfer));
  job->size = sotto_transfer_get_size (live->transfer);
  job->fd = -1;
  live->busy = TRUE;
  task = g_task_new (live->service, NULL, on_prepared_cb, live);
  g_task_set_task_data (task, job, (GDestroyNotify)prepare_job_free);
  g_task_run_in_thread (task, prepare_thread);
}

/* -------------------------------------------------------------------------
 * Receiving: chunks
 * ------------------------------------------------------------------------- */

/* Chunks waiting in memory are written together, up to this many bytes:
 * one trip to a thread per batch rather than per chunk. */
#define WRITE_BATCH (1024 * 1024)

typedef struct
{
  int                       fd;
  crypto_generichash_state *hash;   /* the live's: one thread at a time uses it */
  GPtrArray                *chunks; /* GBytes, one after the other */
  guint64                   offset;
  guint64                   len;
} WriteJob;

static void
write_job_free (WriteJob *job)
{
  g_ptr_array_unref (job->chunks);
  g_free (job);
}

static void
write_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  WriteJob *job = task_data;
  guint64 at = job->offset;

  for (guint i = 0; i < job->chunks->len; i++)
    {
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (g_ptr_array_index (job->chunks, i), &len);
      gsize done = 0;

      while (done < len)
        {
          ssize_t n = pwrite (job->fd, data + done, len - done, (off_t)(at + done));

          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            {
              int saved = errno;

              g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                       _("Can’t write the received file: %s"),
                                       g_strerror (saved));
              return;
            }
          done += (gsize)n;
        }
      crypto_generichash_update (job->hash, data, len);
      at += len;
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_written_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Live *live = user_data;
  WriteJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  guint64 size = sotto_transfer_get_size (live->transfer);

  live->busy = FALSE;
  if (sotto_transfer_get_state (live->transfer) != SOTTO_TRANSFER_ACTIVE)
    {
      _sotto_file_live_close (live);
      return;
    }
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_warning ("%s", error->message);
      _sotto_file_live_fail (live, SOTTO_FILE_CANCEL_STORAGE);
      return;
    }

  live->written = job->offset + job->len;
  _sotto_file_live_set_progress (live, live->written);
  if (live->written == size)
    {
      _sotto_file_receive_finish (live);
      return;
    }
  /* The sender may go on: the window moves with what is on disk, every
   * step, so that what waits here in memory stays within one window. */
  if (live->session != NULL && !sotto_session_is_closed (live->session) &&
      live->written >= live->accept_sent + SOTTO_FILE_ACCEPT_STEP)
    _sotto_file_live_send_accept (live, live->written);
  write_next (live);
}

static void
write_next (Live *live)
{
  g_autoptr (GTask) task = NULL;
  WriteJob *job;

  if (live->busy || g_queue_is_empty (&live->writes))
    return;

  job = g_new0 (WriteJob, 1);
  job->fd = live->part_fd;
  job->hash = live->hash;
  job->chunks = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  job->offset = live->written;
  while (!g_queue_is_empty (&live->writes) && job->len < WRITE_BATCH)
    {
      GBytes *chunk = g_queue_pop_head (&live->writes);

      job->len += g_bytes_get_size (chunk);
      g_ptr_array_add (job->chunks, chunk);
    }
  live->busy = TRUE;
  task = g_task_new (live->service, NULL, on_written_cb, live);
  g_task_set_task_data (task, job, (GDestroyNotify)write_job_free);
  g_task_run_in_thread (task, write_thread);
}

void
_sotto_file_receive_chunk (SottoFileTransfer  *self,
          SottoContact       *contact,
          SottoSession       *session,
          const SottoPayload *payload)
{
  Live *live = _sotto_file_live_lookup (self, sotto_contact_get_id (contact), SOTTO_DIRECTION_IN,
                            payload->file_id);
  g_autoptr (GError) error = NULL;
  guint64 end = payload->file_offset + payload->chunk_len;

  /* Chunks of a transfer we did not ask for on this session (ended, or
   * still in flight from before a cancel) are dropped. */
  if (live == NULL || live->session != session || !live->ready ||
      sotto_transfer_get_state (live->transfer) != SOTTO_TRANSFER_ACTIVE)
    return;

  if (payload->file_offset != live->expected)
    error = g_error_new (SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_PROTOCOL,
                         "file chunk at %" G_GUINT64_FORMAT ", expected %" G_GUINT64_FORMAT,
                         payload->file_offset, live->expected);
  else if (end > sotto_transfer_get_size (live->transfer))
    error = g_error_new_literal (SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_PROTOCOL,
                                 "file chunk goes past the file's size");
  else if (end > live->accept_sent + SOTTO_FILE_WINDOW)
    error = g_error_new_literal (SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_PROTOCOL,
                                 "file chunk goes past the window");
  if (error != NULL)
    {
      sotto_session_close (session, error);
      return;
    }

  live->expected = end;
  g_queue_push_tail (&live->writes, g_bytes_new (payload->chunk, payload->chunk_len));
  write_next (live);
}

/* -------------------------------------------------------------------------
 * Receiving: the end
 * ------------------------------------------------------------------------- */

typedef enum
{
  CHECK_HASH,     /* compare the hash, sync the file */
  CHECK_PLACE,    /* rename into place, or deal with an infected file */
} CheckStep;

struct _CheckJob
{
  CheckStep                 step;
  int                       fd;
  crypto_generichash_state *hash;
  guint8                    expected[SOTTO_FILE_HASH_LEN];
  char                     *part;
  char                     *safe_name;
  SottoScanResult           scan;
  char                     *scan_detail;
  char                     *name;        /* as the sender gave it */
  gboolean                  keep_infected;
  gboolean                  matches;
  char                     *final;       /* out */
  SottoFileVerdict         *verdict;     /* out: of the file placed */
};

static void
check_job_free (CheckJob *job)
{
  g_free (job->part);
  g_free (job->safe_name);
  g_free (job->scan_detail);
  g_free (job->name);
  g_free (job->final);
  g_clear_pointer (&job->verdict, sotto_file_verdict_free);
  g_free (job);
}

static gboolean
place_file (CheckJob  *job,
            GError   **error)
{
  g_autofree char *folder = g_path_get_dirname (job->part);
  g_autofree char *part = g_path_get_basename (job->part);
  int dir = g_open (folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  int saved;

  if (dir < 0)
    goto failed;

  if (job->scan == SOTTO_SCAN_INFECTED)
    {
      g_autofree char *locked = NULL;

      if (!job->keep_infected)
        {
          if (unlinkat (dir, part, 0) != 0 && errno != ENOENT)
            goto failed;
          close (dir);
          return TRUE;
        }
      /* Kept for an administrator to look at: unreadable, and under a
       * name that no program opens. */
      locked = g_strdup_printf ("%.*s.infected", (int)(strlen (part) - strlen (".part")), part);
      if (fchmodat (dir, part, 0, 0) != 0 ||
          renameat2 (dir, part, dir, locked, RENAME_NOREPLACE) != 0)
        goto failed;
      job->final = g_build_filename (folder, locked, NULL);
      close (dir);
      return TRUE;
    }

  for (guint n = 1; n <= SOTTO_FILE_NUMBERED_MAX; n++)
    {
      g_autofree char *name = numbered_name (job->safe_name, n);

      if (renameat2 (dir, part, dir, name, RENAME_NOREPLACE) == 0)
        {
          job->final = g_build_filename (folder, name, NULL);
          close (dir);
          return TRUE;
        }
      if (errno != EEXIST)
        goto failed;
    }
  errno = EEXIST;

failed:
  saved = errno;
  if (dir >= 0)
    close (dir);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
               _("Can’t save the received file in its folder: %s"), g_strerror (saved));
  return FALSE;
}

static void
check_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  CheckJob *job = task_data;
  GError *error = NULL;

  if (job->step == CHECK_HASH)
    {
      crypto_generichash_state copy = *job->hash;
      guint8 hash[SOTTO_FILE_HASH_LEN];

      crypto_generichash_final (&copy, hash, sizeof hash);
      sodium_memzero (&copy, sizeof copy);
      job->matches = sodium_memcmp (hash, job->expected, sizeof hash) == 0;
      if (job->matches && fsync (job->fd) != 0)
        {
          int saved = errno;

          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                   _("Can’t write the received file: %s"), g_strerror (saved));
          return;
        }
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* What the guard makes of it, for the security log, read before the
   * file leaves quarantine (an infected one is not read again). */
  if (job->scan != SOTTO_SCAN_INFECTED)
    job->verdict = sotto_file_guard_check_path (job->part, job->name, job->scan,
                                                job->scan_detail, NULL);
  if (!place_file (job, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* The security log's line for a received file the scanner or the guard
 * found something in. */
static void
log_received (Live     *live,
              CheckJob *job)
{
  SottoContact *contact = sotto_store_get_contact_by_id (live->service->store,
                                                         sotto_transfer_get_contact_id (live->transfer));
  const char *sender = contact != NULL ? sotto_contact_get_name (contact) : "";
  g_autoptr (GString) detail = g_string_new (sotto_transfer_get_name (live->transfer));

  if (job->scan == SOTTO_SCAN_INFECTED)
    {
      if (job->scan_detail != NULL && job->scan_detail[0] != '\0')
        g_string_append_printf (detail, " — %s", job->scan_detail);
      sotto_store_log_event (live->service->store, SOTTO_SECURITY_EVENT_FILE_INFECTED, sender,
                             detail->str);
      return;
    }
  if (job->verdict == NULL || job->verdict->action == SOTTO_FILE_ASK)
    return;
  for (guint i = 0; i < job->verdict->findings->len; i++)
    {
      SottoFileFinding *finding = g_ptr_array_index (job->verdict->findings, i);

      if (finding->severity >= SOTTO_FILE_SUSPECT)
        g_string_append_printf (detail, " — %s", finding->text);
    }
  sotto_store_log_event (live->service->store, SOTTO_SECURITY_EVENT_FILE_FLAGGED, sender,
                         detail->str);
}

static void
done_receiving (Live                *live,
                SottoFileDoneResult  result)
{
  _sotto_transfer_set_state (live->transfer, result == SOTTO_FILE_DONE_INFECTED
                                             ? SOTTO_TRANSFER_INFECTED : SOTTO_TRANSFER_DONE);
  _sotto_transfer_owe (live->transfer, SOTTO_TRANSFER_OWES_DONE, result);
  g_clear_object (&live->session);
  _sotto_file_live_emit_changed (live);
  _sotto_file_live_send_owed (live, _sotto_file_transfer_ready_session (live->service, sotto_transfer_get_contact_id (live->transfer)));
  _sotto_file_live_save (live, NULL, NULL);
}

typedef struct
{
  SottoFileTransfer *service;
  char              *key;
  CheckJob          *job;
} ScanData;

static void
on_scanned_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  ScanData *data = user_data;
  g_autoptr (SottoFileTransfer) self = data->service;
  g_autofree char *key = data->key;
  CheckJob *job = data->job;
  Live *live = g_hash_table_lookup (self->lives, key);
  g_autoptr (GError) error = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *keep = NULL;

  g_free (data);
  job->scan = sotto_scanner_scan_finish (result, &detail, &error);
  if (live == NULL)
    {
      check_job_free (job);
      return;
    }
  live->busy = FALSE;
  if (sotto_transfer_get_state (live->transfer) != SOTTO_TRANSFER_CHECKING)
    {
      check_job_free (job);
      return;
    }
  if (error != NULL)
    g_debug ("scan failed: %s", error->message);
  if (job->scan == SOTTO_SCAN_INFECTED)
    g_message ("a received file is infected: %s", detail != NULL ? detail : "");
  job->scan_detail = g_steal_pointer (&detail);
  keep = self->settings != NULL ? g_settings_get_string (self->settings, "infected-files") : NULL;
  job->keep_infected = g_strcmp0 (keep, "keep-locked") == 0;
  job->step = CHECK_PLACE;
  run_check (live, job);
}

static void
on_checked_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Live *live = user_data;
  CheckJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  live->busy = FALSE;
  if (sotto_transfer_get_state (live->transfer) != SOTTO_TRANSFER_CHECKING)
    {
      /* Ended by the peer while we checked. Its part file went then; a
       * file the thread had already put in place goes now: a cancelled
       * transfer leaves nothing in the folder. */
      if (ok && job->step == CHECK_PLACE && job->final != NULL &&
          g_unlink (job->final) != 0 && errno != ENOENT)
        g_warning ("can't remove “%s”: %s", job->final, g_strerror (errno));
      _sotto_file_live_close (live);
      return;
    }

  if (!ok)
    {
      g_warning ("%s", error->message);
      _sotto_transfer_set_state (live->transfer, SOTTO_TRANSFER_ACTIVE);
      _sotto_file_live_fail (live, SOTTO_FILE_CANCEL_STORAGE);
      return;
    }

  if (job->step == CHECK_HASH)
    {
      _sotto_file_live_close (live);
      if (!job->matches)
        {
          _sotto_transfer_set_state (live->transfer, SOTTO_TRANSFER_ACTIVE);
          _sotto_file_live_fail (live, SOTTO_FILE_CANCEL_DAMAGED);
          return;
        }
      /* The scanner next, before the file leaves quarantine. */
      {
        ScanData *scan = g_new0 (ScanData, 1);
        CheckJob *next = g_new0 (CheckJob, 1);
        g_autofree char *command = live->service->settings != NULL
                                   ? g_settings_get_string (live->service->settings, "scan-command")
                                   : NULL;

        next->fd = -1;
        next->part = g_strdup (job->part);
        next->safe_name = g_strdup (job->safe_name);
        next->name = g_strdup (sotto_transfer_get_name (live->transfer));
        scan->service = g_object_ref (live->service);
        scan->key = _sotto_file_live_key (sotto_transfer_get_contact_id (live->transfer),
                              SOTTO_DIRECTION_IN, sotto_transfer_get_uid (live->transfer));
        scan->job = next;
        live->busy = TRUE;
        sotto_scanner_scan_async (command, next->part, NULL, on_scanned_cb, scan);
      }
      return;
    }

  /* Placed (or removed). */
  log_received (live, job);
  _sotto_transfer_set_scan (live->transfer, job->scan);
  _sotto_transfer_set_path (live->transfer, job->final);
  done_receiving (live, job->scan == SOTTO_SCAN_INFECTED ? SOTTO_FILE_DONE_INFECTED
                                                         : SOTTO_FILE_DONE_RECEIVED);
}

static void
run_check (Live     *live,
           CheckJob *job)
{
  g_autoptr (GTask) task = g_task_new (live->service, NULL, on_checked_cb, live);

  live->busy = TRUE;
  g_task_set_task_data (task, job, (GDestroyNotify)check_job_free);
  g_task_run_in_thread (task, check_thread);
}

void
_sotto_file_receive_finish (Live *live)
{
  CheckJob *job;

  if (live->finishing)
    return;
  live->finishing = TRUE;
  _sotto_transfer_set_state (live->transfer, SOTTO_TRANSFER_CHECKING);
  _sotto_file_live_emit_changed (live);
  _sotto_file_live_save (live, NULL, NULL);

  job = g_new0 (CheckJob, 1);
  job->step = CHECK_HASH;
  job->fd = live->part_fd;
  job->hash = live->hash;
  memcpy (job->expected, sotto_transfer_get_hash (live->transfer), SOTTO_FILE_HASH_LEN);
  job->part = g_strdup (_sotto_transfer_peek_path (live->transfer));
  job->safe_name = sotto_file_safe_name (sotto_transfer_get_name (live->transfer));
  run_check (live, job);
}

