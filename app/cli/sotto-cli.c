/* sotto-cli.c — the `sotto-cli` program: Sotto without a window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-cli"

#include "config.h"

#include <stdlib.h>
#include <glib/gi18n.h>

#include "sotto-cli-common.h"
#include "sotto-cli-forward.h"
#include "sotto-cli-run.h"

/* How long a one-shot command waits for a profile another process holds
 * to be handed over or let go. */
#define CLI_PROFILE_WAIT_MS 5000

static char *
dup_commands_description (void)
{
  g_autoptr (GString) str = g_string_new (_("Commands:"));
  const SottoCommandInfo *commands;
  guint n;

  commands = sotto_command_list (&n);
  g_string_append_c (str, '\n');
  for (guint i = 0; i < n; i++)
    g_string_append_printf (str, "  %-12s %s\n", commands[i].name, _(commands[i].summary));

  g_string_append_c (str, '\n');
  g_string_append (str, _("CONTACT is a contact’s name or alias, or the start of one (any case), "
                          "or at least five digits of its fingerprint; it must fit one contact "
                          "only. “=NAME” is exactly that name: “=Bob” when “Bob” also starts "
                          "“Bob Smith”."));
  g_string_append (str, "\n\n");
  g_string_append (str, _("“sotto-cli COMMAND --help” shows a command’s own options."));
  g_string_append (str, "\n\n");
  g_string_append (str, _("Exit status: 0 on success, 1 when the command failed, "
                          "2 when the command line is wrong, 3 when another program "
                          "has the profile open, 4 when the passphrase is missing or wrong."));

  return g_string_free (g_steal_pointer (&str), FALSE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GOptionContext) option_context = NULL;
  g_autoptr (SottoContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *profile = NULL;
  g_autofree char *profile_dir = NULL;
  g_autofree char *passphrase_file = NULL;
  g_autofree char *description = NULL;
  g_autoptr (SottoCommand) command = NULL;
  g_auto (GStrv) words = NULL;
  gboolean version = FALSE;
  const SottoCommandInfo *info;
  const GOptionEntry entries[] = {
    { "profile", 'p', 0, G_OPTION_ARG_STRING, &profile,
      N_("Use the profile NAME"), N_("NAME") },
    { "profile-dir", 0, 0, G_OPTION_ARG_FILENAME, &profile_dir,
      N_("Keep the profile in DIR instead of the default place"), N_("DIR") },
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &passphrase_file,
      N_("Read the profile’s passphrase from the first line of FILE"), N_("FILE") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      N_("Print the version and exit"), NULL },
    { NULL }
  };

  sotto_i18n_init ();
  g_set_prgname ("sotto-cli");
  /* stdout is for results and events that scripts parse: debug output,
   * when asked for, goes to stderr with every other message. */
  g_log_writer_default_set_use_stderr (TRUE);

  option_context = g_option_context_new (_("COMMAND [ARGUMENTS…]"));
  g_option_context_set_summary (option_context,
                                _("Sotto from the command line: the same profile, "
                                  "contacts and history as the app, without a window."));
  description = dup_commands_description ();
  g_option_context_set_description (option_context, description);
  g_option_context_add_main_entries (option_context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (option_context, GETTEXT_PACKAGE);
  /* Options after the command belong to the command. */
  g_option_context_set_strict_posix (option_context, TRUE);

  if (!g_option_context_parse (option_context, &argc, &argv, &error))
    return sotto_command_print_usage_error (error->message);

  if (version)
    {
      g_print ("sotto-cli %s\n", PACKAGE_VERSION);
      return SOTTO_EXIT_OK;
    }

  if (argc < 2)
    return sotto_command_print_usage_error (_("No command given"));

  info = sotto_command_lookup (argv[1]);
  if (info == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("Unknown command “%s”"), argv[1]);
      return sotto_command_print_usage_error (message);
    }

  context = sotto_context_new (profile, profile_dir, &error);
  if (context == NULL)
    return sotto_command_print_usage_error (error->message);

  if (g_str_equal (info->name, "run"))
    return cli_run (context, passphrase_file, argc - 1, argv + 1);

  /* The command's own words, NULL-terminated. */
  words = g_new0 (char *, argc);
  for (int i = 1; i < argc; i++)
    words[i - 1] = g_strdup (argv[i]);

  /* While a process holds the profile, it runs the command. */
  if (sotto_command_forwardable ((const char * const *)words))
    {
      g_autoptr (GPtrArray) forwarded = g_ptr_array_new ();
      gint64 deadline;
      int status = 0;

      /* protect proves the current passphrase there too (PROTOCOL.md,
       * "Local control socket"): the one given to sotto-cli goes along,
       * before the command's own options, which win. */
      g_ptr_array_add (forwarded, argv[1]);
      if (passphrase_file != NULL && g_str_equal (info->name, "protect"))
        {
          g_ptr_array_add (forwarded, (gpointer)"--passphrase-file");
          g_ptr_array_add (forwarded, passphrase_file);
        }
      for (int i = 2; i < argc; i++)
        g_ptr_array_add (forwarded, argv[i]);
      g_ptr_array_add (forwarded, NULL);

      /* A runner that is starting holds the profile for a moment before
       * it listens for commands (opening the store takes about a second),
       * and so does another one-shot command: wait for either to take the
       * command or let go, rather than say "in use" at once. */
      deadline = g_get_monotonic_time () + (gint64)CLI_PROFILE_WAIT_MS * 1000;
      while (TRUE)
        {
          if (cli_forward (context, (int)forwarded->len - 1, (char **)forwarded->pdata, &status))
            return status;
          if (!cli_profile_busy (context) || g_get_monotonic_time () >= deadline)
            break;
          g_usleep (100 * 1000);
        }
    }

  command = sotto_command_new ((const char * const *)words, NULL);
  sotto_command_set_passphrase_file (command, passphrase_file);
  sotto_command_set_ask_passphrase (command, cli_ask_passphrase, NULL);
  sotto_command_set_streaming (command, TRUE);

  return sotto_context_execute (context, command);
}
