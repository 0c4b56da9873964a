/* sotto-cli-forward.c — one-shot commands handed to the process holding the profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A profile is open in one process at a time. When `sotto-cli contacts`
 * (or add, send, history, …) finds that a process holds the profile, it
 * hands its arguments to that process over the control socket
 * (SottoControlServer), which runs the very same command on its open
 * profile (sotto_context_execute()) and sends back what the command
 * printed and its exit status: the command answers as if it had run here.
 */

#define G_LOG_DOMAIN "sotto-cli"

#include "config.h"

#include <stdio.h>
#include <glib/gi18n.h>

#include "sotto-cli-forward.h"
#include "sotto-control.h"
#include "sotto-profile-lock.h"

/**
 * cli_forward:
 * @out_status: (out): the exit status to exit with, when handled
 *
 * Hands the command to the process holding the profile, if there is one,
 * and prints what it printed. A command that was handed over but got no
 * answer is not run again here: it may have run there (exit status 1,
 * with a word on what to check).
 *
 * Returns: %FALSE when no process took the command: run it here
 */
gboolean
cli_forward (SottoContext  *context,
             int            argc,
             char         **argv,
             int           *out_status)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) args = NULL;
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GBytes) err = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *cwd = g_get_current_dir ();
  gsize len = 0;
  const char *data;

  for (int i = 0; i < argc; i++)
    g_strv_builder_add (builder, argv[i]);
  args = g_strv_builder_end (builder);

  if (!sotto_control_call (sotto_context_get_profile_dir (context), (const char * const *)args,
                           cwd, out_status, &out, &err, &error))
    {
      if (g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_NO_REPLY))
        {
          g_printerr ("sotto-cli: %s\n", error->message);
          *out_status = SOTTO_EXIT_FAILURE;
          return TRUE;
        }
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) &&
          !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        g_debug ("no running process took the command: %s", error->message);
      return FALSE;
    }

  data = g_bytes_get_data (out, &len);
  fwrite (data, 1, len, stdout);
  fflush (stdout);
  data = g_bytes_get_data (err, &len);
  fwrite (data, 1, len, stderr);
  fflush (stderr);

  return TRUE;
}

/**
 * cli_profile_busy:
 *
 * Whether another process holds the profile at this moment: a runner
 * that is still starting (its control socket not listening yet) or
 * another one-shot command. A profile that can't be looked at (missing,
 * unreadable) is not busy: running the command says what is wrong.
 */
gboolean
cli_profile_busy (SottoContext *context)
{
  g_autoptr (GError) error = NULL;
  SottoProfileLock *lock;

  lock = sotto_profile_lock_acquire (sotto_context_get_profile_dir (context), &error);
  if (lock != NULL)
    {
      sotto_profile_lock_release (lock);
      return FALSE;
    }
  return g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE_IN_USE);
}
