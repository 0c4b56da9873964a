/* sotto-cli-forward.c — one-shot commands run by the process holding the profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A profile is open in one process at a time. When `sotto-cli contacts`
 * (or add, send, history, …) finds that a process holds the profile, it
 * hands its arguments to that process over the control socket
 * (SottoControlServer), which runs the very same command against its open
 * store and sends back what the command printed and its exit status: the
 * command answers as if it had run directly.
 */

#define G_LOG_DOMAIN "sotto-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n.h>

#include "sotto-cli-forward.h"

/* Commands that take a file name, which must mean the same in the
 * process that runs the command. */
static const char * const file_options[] = { "--passphrase-file", "--new-passphrase-file" };

/* Help is printed by GOption, which then exits: never in the process that
 * holds the profile. */
static gboolean
is_help (const char *arg)
{
  return g_str_equal (arg, "-h") || g_str_equal (arg, "-?") || g_str_has_prefix (arg, "--help");
}

/**
 * cli_command_forwardable:
 *
 * Whether a running process may run this command line for us: every
 * command that reads or changes the profile, except `init` and `run`, and
 * never a request for help.
 */
gboolean
cli_command_forwardable (const CliCommand  *command,
                         int                argc,
                         char             **argv)
{
  if (g_str_equal (command->name, "init") || g_str_equal (command->name, "run"))
    return FALSE;
  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--"))
        break;
      if (is_help (argv[i]))
        return FALSE;
    }
  return TRUE;
}

static char *
absolute (const char *path,
          const char *cwd)
{
  return g_path_is_absolute (path) ? g_strdup (path) : g_build_filename (cwd, path, NULL);
}

/**
 * cli_forward:
 *
 * Hands the command to the process holding the profile, if there is one,
 * and prints what it printed.
 *
 * Returns: %FALSE when no process answers: run the command here
 */
gboolean
cli_forward (CliEnv  *env,
             int      argc,
             char   **argv,
             int     *out_status)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GBytes) err = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *cwd = g_get_current_dir ();
  gsize len = 0;
  const char *data;

  for (int i = 0; i < argc; i++)
    {
      gboolean done = FALSE;

      for (guint j = 0; j < G_N_ELEMENTS (file_options) && !done; j++)
        {
          gsize n = strlen (file_options[j]);

          if (g_str_equal (argv[i], file_options[j]) && i + 1 < argc)
            {
              g_ptr_array_add (args, g_strdup (argv[i]));
              g_ptr_array_add (args, absolute (argv[++i], cwd));
              done = TRUE;
            }
          else if (strncmp (argv[i], file_options[j], n) == 0 && argv[i][n] == '=')
            {
              g_autofree char *path = absolute (argv[i] + n + 1, cwd);

              g_ptr_array_add (args, g_strdup_printf ("%s=%s", file_options[j], path));
              done = TRUE;
            }
        }
      if (!done)
        g_ptr_array_add (args, g_strdup (argv[i]));
    }
  g_ptr_array_add (args, NULL);

  if (!sotto_control_call (sotto_context_get_profile_dir (env->context),
                           (const char * const *)args->pdata, cwd, out_status, &out, &err, &error))
    {
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

/* What a command prints while it runs for someone else. The print
 * handlers are process-wide, so this is too; requests run one at a time. */
static GString *captured_out;
static GString *captured_err;

static void
capture_out (const char *text)
{
  g_string_append (captured_out, text);
}

static void
capture_err (const char *text)
{
  g_string_append (captured_err, text);
}

/**
 * cli_serve_request:
 * @env: the environment of the process holding the profile: its context,
 *   open store and peer service
 *
 * Runs a command handed over through the control socket and replies.
 */
void
cli_serve_request (CliEnv              *env,
                   SottoControlRequest *request)
{
  const char * const *argv = sotto_control_request_get_argv (request);
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GString) err = g_string_new (NULL);
  g_autoptr (GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  g_autofree char **args = NULL;
  const CliCommand *command = cli_find_command (argv[0]);
  GPrintFunc old_out;
  GPrintFunc old_err;
  CliEnv forwarded = *env;
  int argc = (int)g_strv_length ((char **)argv);
  int status;

  if (command == NULL)
    {
      /* What sotto-cli answers before it would ask (cli_usage_error()). */
      g_autofree char *unknown = g_strdup_printf (_("Unknown command “%s”"), argv[0]);
      g_autofree char *message = g_strdup_printf ("sotto-cli: %s\n%s\n", unknown,
                                                  _("Try “sotto-cli --help” for more information."));

      sotto_control_request_reply (request, CLI_EXIT_USAGE, NULL, 0, message, strlen (message));
      return;
    }
  if (!cli_command_forwardable (command, argc, (char **)argv))
    {
      g_autofree char *message = NULL;

      if (g_str_equal (command->name, "run"))
        {
          message = g_strdup_printf (_("sotto-cli: The profile is already running in process %d\n"),
                                     (int)getpid ());
          sotto_control_request_reply (request, CLI_EXIT_PROFILE_IN_USE, NULL, 0,
                                       message, strlen (message));
        }
      else
        {
          message = g_strdup_printf (_("sotto-cli: “%s” can’t run while Sotto has the profile "
                                       "open\n"), argv[0]);
          sotto_control_request_reply (request, CLI_EXIT_PROFILE_IN_USE, NULL, 0,
                                       message, strlen (message));
        }
      return;
    }

  /* GOption shuffles the array it parses: keep the strings apart. */
  args = g_new0 (char *, argc + 1);
  for (int i = 0; i < argc; i++)
    {
      args[i] = g_strdup (argv[i]);
      g_ptr_array_add (owned, args[i]);
    }

  forwarded.forwarded = TRUE;
  forwarded.passphrase_file = NULL;

  captured_out = out;
  captured_err = err;
  old_out = g_set_print_handler (capture_out);
  old_err = g_set_printerr_handler (capture_err);

  status = command->run (&forwarded, argc, args);

  g_set_print_handler (old_out);
  g_set_printerr_handler (old_err);
  captured_out = captured_err = NULL;

  sotto_control_request_reply (request, status, out->str, out->len, err->str, err->len);
}
