/* sotto-file-copies.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Files offered from memory (a pasted picture) have no file of the user's
 * behind them, yet a transfer reads its file until the receiver has it,
 * across restarts. They are written into the profile, as
 * "PROFILE/outgoing/RANDOM/NAME" (folders 0700, file 0600), and removed
 * once their transfer has ended. A copy no unfinished transfer uses, left
 * by a process that died between writing it and storing its offer, is
 * removed when the profile's transfers are loaded.
 */
#define G_LOG_DOMAIN "sotto-files"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sotto-error.h"
#include "sotto-file-guard.h"
#include "sotto-file-transfer-private.h"

#define COPIES_FOLDER "outgoing"

char *
_sotto_file_copies_folder (SottoFileTransfer *self)
{
  return g_build_filename (sotto_store_get_profile_dir (self->store), COPIES_FOLDER, NULL);
}

/* A name for a file offered from memory: what a sender may call it. */
gboolean
_sotto_file_copy_name_is_valid (const char *name)
{
  return name != NULL && name[0] != '\0' && strlen (name) <= SOTTO_FILE_NAME_MAX &&
         g_utf8_validate (name, -1, NULL) && strchr (name, '/') == NULL &&
         strcmp (name, ".") != 0 && strcmp (name, "..") != 0;
}

static gboolean
write_all (int            fd,
           const guint8  *data,
           gsize          len,
           GError       **error)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, MIN (len, (gsize)G_MAXSSIZE));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s",
                       g_strerror (saved));
          return FALSE;
        }
      data += n;
      len -= (gsize)n;
    }
  return TRUE;
}

/* In a thread: writes @data as FOLDER/RANDOM/@name and returns its path. */
char *
_sotto_file_copy_write (const char  *folder,
                        const char  *name,
                        GBytes      *data,
                        GError     **error)
{
  g_autofree char *template = g_build_filename (folder, "XXXXXX", NULL);
  g_autofree char *path = NULL;
  g_autoptr (GError) local_error = NULL;
  gsize len = 0;
  const guint8 *bytes = g_bytes_get_data (data, &len);
  int fd;

  if (g_mkdir_with_parents (folder, 0700) != 0 || g_chmod (folder, 0700) != 0 ||
      g_mkdtemp_full (template, 0700) == NULL)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Can’t keep a copy to send in “%s”: %s"), folder, g_strerror (saved));
      return NULL;
    }
  path = g_build_filename (template, name, NULL);
  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || !write_all (fd, bytes, len, &local_error) || fsync (fd) != 0)
    {
      int saved = errno;

      if (fd >= 0)
        close (fd);
      g_unlink (path);
      g_rmdir (template);
      g_set_error (error, G_IO_ERROR,
                   local_error != NULL ? local_error->code : (int)g_io_error_from_errno (saved),
                   _("Can’t keep a copy to send in “%s”: %s"), folder,
                   local_error != NULL ? local_error->message : g_strerror (saved));
      return NULL;
    }
  close (fd);
  return g_steal_pointer (&path);
}

/* Removes @path and its folder when it is one of our copies; anything
 * else (a file of the user's) is never touched. */
void
_sotto_file_copy_forget (SottoFileTransfer *self,
                         const char        *path)
{
  g_autofree char *folder = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *grandparent = NULL;

  if (path == NULL)
    return;
  folder = _sotto_file_copies_folder (self);
  parent = g_path_get_dirname (path);
  grandparent = g_path_get_dirname (parent);
  if (strcmp (grandparent, folder) != 0)
    return;
  if (g_unlink (path) != 0 && errno != ENOENT)
    g_warning ("Can’t remove the copy “%s”: %s", path, g_strerror (errno));
  g_rmdir (parent);
}

static void
sweep_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  SottoFileTransfer *self = source;
  GHashTable *kept = task_data;
  g_autofree char *folder = _sotto_file_copies_folder (self);
  g_autoptr (GDir) dir = g_dir_open (folder, 0, NULL);
  const char *entry;

  if (dir == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *sub_path = g_build_filename (folder, entry, NULL);
      g_autoptr (GDir) sub = g_dir_open (sub_path, 0, NULL);
      const char *name;

      if (sub == NULL)
        {
          /* Not one of our folders: a stray file, never a copy. */
          g_unlink (sub_path);
          continue;
        }
      while ((name = g_dir_read_name (sub)) != NULL)
        {
          g_autofree char *path = g_build_filename (sub_path, name, NULL);

          if (!g_hash_table_contains (kept, path))
            {
              g_debug ("removing the copy %s: no transfer uses it", path);
              g_unlink (path);
            }
        }
      g_rmdir (sub_path);
    }
  g_task_return_boolean (task, TRUE);
}

/* While loading, before anything can offer a file: removes the copies
 * that no unfinished transfer reads. */
void
_sotto_file_copies_sweep_async (SottoFileTransfer   *self,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  GHashTable *kept = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  Live *live;

  g_hash_table_iter_init (&iter, self->lives);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&live))
    {
      SottoTransfer *transfer = live->transfer;

      if (sotto_transfer_get_direction (transfer) == SOTTO_DIRECTION_OUT &&
          !sotto_transfer_is_ended (transfer) && sotto_transfer_get_path (transfer) != NULL)
        g_hash_table_add (kept, g_strdup (sotto_transfer_get_path (transfer)));
    }
  g_task_set_source_tag (task, _sotto_file_copies_sweep_async);
  g_task_set_task_data (task, kept, (GDestroyNotify)g_hash_table_unref);
  g_task_run_in_thread (task, sweep_thread);
}
