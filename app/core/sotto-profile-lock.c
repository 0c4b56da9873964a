/* sotto-profile-lock.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An open-file-description lock on PROFILE/lock: the kernel drops it when
 * the holder dies, even by kill -9, so a crash never leaves a stale lock.
 * OFD locks (unlike POSIX record locks) also conflict inside one process.
 * The file holds the holder's PID, only to name it in the error.
 */
#define _GNU_SOURCE 1  /* F_OFD_SETLK */
#define G_LOG_DOMAIN "sotto-profile-lock"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sotto-error.h"
#include "sotto-profile-lock.h"

struct _SottoProfileLock
{
  int   fd;
  char *path;
};

static gboolean
try_lock (int fd)
{
  struct flock fl = {
    .l_type = F_WRLCK,
    .l_whence = SEEK_SET,
    .l_start = 0,
    .l_len = 0,
  };

  return fcntl (fd, F_OFD_SETLK, &fl) == 0;
}

/* By hand, not g_ascii_string_to_signed(): its first call in a process
 * sets up a C locale, which may leave errno set, and then it fails on a
 * valid number (seen: one run in five named no process). */
static long
read_holder_pid (int fd)
{
  char buf[32] = { 0 };
  ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
  long pid = 0;
  ssize_t i;

  if (n <= 0)
    return 0;
  for (i = 0; i < n && g_ascii_isdigit (buf[i]); i++)
    {
      if (pid > (G_MAXINT - 9) / 10)
        return 0;
      pid = pid * 10 + (buf[i] - '0');
    }
  /* Digits, then the newline: anything else is not ours. */
  if (i == 0 || i >= n || buf[i] != '\n')
    return 0;

  return pid;
}

/**
 * sotto_profile_lock_acquire:
 * @profile_dir: an existing profile directory
 *
 * Returns: (transfer full) (nullable): the lock, or %NULL with
 *   %SOTTO_ERROR_PROFILE_IN_USE if another process holds it
 */
SottoProfileLock *
sotto_profile_lock_acquire (const char  *profile_dir,
                            GError     **error)
{
  g_autofree char *path = NULL;
  g_autofree char *pid = NULL;
  SottoProfileLock *lock;
  int fd;

  g_return_val_if_fail (profile_dir != NULL, NULL);

  path = g_build_filename (profile_dir, "lock", NULL);
  fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("Cannot open the profile lock “%s”: %s"), path, g_strerror (saved_errno));
      return NULL;
    }

  if (!try_lock (fd))
    {
      int saved_errno = errno;
      long holder = read_holder_pid (fd);

      close (fd);
      if (saved_errno == EAGAIN || saved_errno == EACCES)
        {
          if (holder > 0)
            g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE_IN_USE,
                         _("The profile is in use by process %ld"), holder);
          else
            g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE_IN_USE,
                                 _("The profile is in use by another process"));
        }
      else
        g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                     _("Cannot lock the profile: %s"), g_strerror (saved_errno));
      return NULL;
    }

  pid = g_strdup_printf ("%ld\n", (long)getpid ());
  if (ftruncate (fd, 0) != 0 || pwrite (fd, pid, strlen (pid), 0) < 0)
    g_debug ("Could not record our PID in %s: %s", path, g_strerror (errno));

  lock = g_new0 (SottoProfileLock, 1);
  lock->fd = fd;
  lock->path = g_steal_pointer (&path);

  return lock;
}

void
sotto_profile_lock_release (SottoProfileLock *lock)
{
  if (lock == NULL)
    return;

  /* Empty the PID first, so nobody blames a process that has gone; the
   * file itself stays, since unlinking it would race with a new holder. */
  if (ftruncate (lock->fd, 0) != 0)
    g_debug ("Could not clear %s: %s", lock->path, g_strerror (errno));
  close (lock->fd);
  g_free (lock->path);
  g_free (lock);
}
