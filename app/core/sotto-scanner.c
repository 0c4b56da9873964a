/* sotto-scanner.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs the virus scanner on a file and says what it found. The command is
 * the administrator's (GSettings `scan-command`, "%f" for the file) or, by
 * default, ClamAV's: clamdscan when a clamd daemon listens on its socket
 * (fast: the signatures stay loaded), else clamscan when it is installed.
 * Exit status 0 is clean, 1 is infected (ClamAV's convention, which an
 * administrator's command keeps); anything else, a timeout included, is a
 * scan that failed, never a clean file.
 */
#define G_LOG_DOMAIN "sotto-scanner"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "sotto-scanner.h"

/* Where Debian's clamd listens (clamd.conf, LocalSocket). */
static const char * const clamd_sockets[] = {
  "/run/clamav/clamd.ctl",
  "/var/run/clamav/clamd.ctl",
  NULL
};

typedef struct
{
  char    *path;
  char    *output;
  guint    timeout_source;
  gboolean timed_out;
} ScanData;

static void
scan_data_free (ScanData *data)
{
  g_clear_handle_id (&data->timeout_source, g_source_remove);
  g_free (data->path);
  g_free (data->output);
  g_free (data);
}

/**
 * sotto_scanner_find_command:
 *
 * The default scanner: `clamdscan` when a clamd socket exists and the
 * program is installed, else `clamscan` when installed.
 *
 * Returns: (transfer full) (nullable): a command with "%f" for the file,
 *   or %NULL when there is no scanner
 */
char *
sotto_scanner_find_command (void)
{
  g_autofree char *clamdscan = g_find_program_in_path ("clamdscan");
  g_autofree char *clamscan = g_find_program_in_path ("clamscan");

  if (clamdscan != NULL)
    for (guint i = 0; clamd_sockets[i] != NULL; i++)
      if (g_file_test (clamd_sockets[i], G_FILE_TEST_EXISTS))
        return g_strdup_printf ("%s --no-summary --fdpass %%f", clamdscan);
  if (clamscan != NULL)
    return g_strdup_printf ("%s --no-summary --stdout %%f", clamscan);
  return NULL;
}

/* What ClamAV names: "PATH: Eicar-Signature FOUND". */
static char *
dup_found (const char *output,
           const char *path)
{
  g_auto (GStrv) lines = g_strsplit (output != NULL ? output : "", "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      gsize len = strlen (line);

      if (len > 6 && g_str_has_suffix (line, " FOUND"))
        {
          const char *colon = g_strrstr_len (line, (gssize)(len - 6), ": ");

          if (colon != NULL)
            return g_utf8_make_valid (colon + 2, (gssize)(line + len - 6 - colon - 2));
        }
    }
  return NULL;
}

static gboolean
on_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  ScanData *data = g_task_get_task_data (task);
  GSubprocess *process = g_object_get_data (G_OBJECT (task), "process");

  data->timeout_source = 0;
  data->timed_out = TRUE;
  if (process != NULL)
    g_subprocess_force_exit (process);
  return G_SOURCE_REMOVE;
}

static void
on_communicated_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  GSubprocess *process = G_SUBPROCESS (object);
  ScanData *data = g_task_get_task_data (task);
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  g_clear_handle_id (&data->timeout_source, g_source_remove);
  if (!g_subprocess_communicate_finish (process, result, &out, NULL, &error))
    {
      /* Cancelled: the scanner does not go on for nothing. */
      g_subprocess_force_exit (process);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Bytes, not UTF-8: the scanner prints the file's path, which may be
   * anything, and its answer must not be lost to it. */
  if (out != NULL)
    {
      gsize len = 0;
      const char *bytes = g_bytes_get_data (out, &len);

      data->output = g_utf8_make_valid (bytes != NULL ? bytes : "", (gssize)len);
    }

  if (data->timed_out)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               ngettext ("The virus scanner took longer than %d second",
                                         "The virus scanner took longer than %d seconds",
                                         SOTTO_SCAN_TIMEOUT_S),
                               SOTTO_SCAN_TIMEOUT_S);
      return;
    }
  if (!g_subprocess_get_if_exited (process))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("The virus scanner crashed"));
      return;
    }

  status = g_subprocess_get_exit_status (process);
  if (status == 0)
    g_task_return_int (task, SOTTO_SCAN_CLEAN);
  else if (status == 1)
    g_task_return_int (task, SOTTO_SCAN_INFECTED);
  else
    {
      g_auto (GStrv) lines = g_strsplit (data->output != NULL ? data->output : "", "\n", 2);

      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("The virus scanner failed (exit status %d): %s"), status,
                               lines[0] != NULL && lines[0][0] != '\0' ? lines[0] : "—");
    }
}

/**
 * sotto_scanner_scan_async:
 * @command: (nullable): a command line, "%f" standing for the file (else
 *   the file goes last); %NULL or "" for sotto_scanner_find_command()
 * @path: the file
 *
 * Runs the scanner on @path. With no scanner to run it completes with
 * %SOTTO_SCAN_NOT_SCANNED; a scanner that fails, crashes or takes longer
 * than %SOTTO_SCAN_TIMEOUT_S completes with %SOTTO_SCAN_FAILED and the
 * reason in the error.
 */
void
sotto_scanner_scan_async (const char          *command,
                          const char          *path,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *found = NULL;
  g_auto (GStrv) words = NULL;
  g_autoptr (GError) error = NULL;
  gboolean placed = FALSE;
  ScanData *data;

  g_return_if_fail (path != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_scanner_scan_async);
  data = g_new0 (ScanData, 1);
  data->path = g_strdup (path);
  g_task_set_task_data (task, data, (GDestroyNotify)scan_data_free);

  if (command == NULL || command[0] == '\0')
    command = found = sotto_scanner_find_command ();
  if (command == NULL)
    {
      g_task_return_int (task, SOTTO_SCAN_NOT_SCANNED);
      return;
    }

  if (!g_shell_parse_argv (command, NULL, &words, &error))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("The virus scanner’s command can’t be read: %s"),
                               error->message);
      return;
    }
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (strstr (words[i], "%f") != NULL)
        {
          g_autoptr (GString) word = g_string_new (words[i]);

          g_string_replace (word, "%f", path, 0);
          g_ptr_array_add (argv, g_string_free (g_steal_pointer (&word), FALSE));
          placed = TRUE;
        }
      else
        g_ptr_array_add (argv, g_strdup (words[i]));
    }
  if (!placed)
    g_ptr_array_add (argv, g_strdup (path));
  g_ptr_array_add (argv, NULL);

  /* The scanner's report on stdout, its complaints on stderr: both are
   * what the user may need to read when it fails. Its stdin is
   * /dev/null: nothing of ours to read. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *)argv->pdata, &error);
  if (process == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("The virus scanner could not be started: %s"), error->message);
      return;
    }

  g_object_set_data_full (G_OBJECT (task), "process", g_object_ref (process), g_object_unref);
  data->timeout_source = g_timeout_add_seconds (SOTTO_SCAN_TIMEOUT_S, on_timeout_cb, task);
  g_subprocess_communicate_async (process, NULL, cancellable, on_communicated_cb,
                                  g_steal_pointer (&task));
}

/**
 * sotto_scanner_scan_finish:
 * @out_detail: (out) (optional) (nullable): for an infected file, what
 *   the scanner named; for a failed scan, why
 *
 * Returns: what the scanner said; %SOTTO_SCAN_FAILED with @error set when
 *   it did not say
 */
SottoScanResult
sotto_scanner_scan_finish (GAsyncResult  *result,
                           char         **out_detail,
                           GError       **error)
{
  GTask *task = G_TASK (result);
  ScanData *data = g_task_get_task_data (task);
  g_autoptr (GError) local_error = NULL;
  gssize answer;

  g_return_val_if_fail (g_task_is_valid (result, NULL), SOTTO_SCAN_FAILED);

  if (out_detail != NULL)
    *out_detail = NULL;
  answer = g_task_propagate_int (task, &local_error);
  if (local_error != NULL)
    {
      if (out_detail != NULL)
        *out_detail = g_strdup (local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return SOTTO_SCAN_FAILED;
    }
  if (answer == SOTTO_SCAN_INFECTED && out_detail != NULL)
    *out_detail = dup_found (data->output, data->path);
  return (SottoScanResult)answer;
}

/**
 * sotto_scan_result_to_string:
 *
 * Returns: "not-scanned", "clean", "infected" or "failed", for scripts
 */
const char *
sotto_scan_result_to_string (SottoScanResult result)
{
  switch (result)
    {
    case SOTTO_SCAN_NOT_SCANNED:
      return "not-scanned";
    case SOTTO_SCAN_CLEAN:
      return "clean";
    case SOTTO_SCAN_INFECTED:
      return "infected";
    case SOTTO_SCAN_FAILED:
    default:
      return "failed";
    }
}
