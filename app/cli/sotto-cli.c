/* sotto-cli.c — the `sotto-cli` program: Sotto without a window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-cli"

#include "config.h"

#include <stdlib.h>
#include <glib/gi18n.h>

#include "sotto-core.h"

/* Exit statuses, stable for scripts. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_FAILURE = 1,
  CLI_EXIT_USAGE = 2,
};

typedef struct
{
  const char *name;
  const char *summary;
  int       (*run) (SottoContext  *context,
                    int            argc,
                    char         **argv);
} CliCommand;

static int
cli_usage_error (const char *message)
{
  g_printerr ("sotto-cli: %s\n", message);
  g_printerr (_("Try “sotto-cli --help” for more information."));
  g_printerr ("\n");
  return CLI_EXIT_USAGE;
}

static int
cli_profile (SottoContext  *context,
             int            argc,
             char         **argv)
{
  if (argc > 1)
    return cli_usage_error (_("“profile” takes no arguments"));

  /* Labels are not translated: scripts read this output. */
  g_print ("profile: %s\n", sotto_context_get_profile (context));
  g_print ("directory: %s\n", sotto_context_get_profile_dir (context));

  return CLI_EXIT_OK;
}

static const CliCommand commands[] = {
  { "profile", N_("Show the profile’s name and where it keeps its data"), cli_profile },
};

static const CliCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];

  return NULL;
}

static char *
dup_commands_description (void)
{
  g_autoptr (GString) str = g_string_new (_("Commands:"));

  g_string_append_c (str, '\n');
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (str, "  %-12s %s\n", commands[i].name, _(commands[i].summary));

  g_string_append_c (str, '\n');
  g_string_append (str, _("Exit status: 0 on success, 1 when the command failed, "
                          "2 when the command line is wrong."));

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
  g_autofree char *description = NULL;
  gboolean version = FALSE;
  const CliCommand *command;
  const GOptionEntry entries[] = {
    { "profile", 'p', 0, G_OPTION_ARG_STRING, &profile,
      N_("Use the profile NAME"), N_("NAME") },
    { "profile-dir", 0, 0, G_OPTION_ARG_FILENAME, &profile_dir,
      N_("Keep the profile in DIR instead of the default place"), N_("DIR") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      N_("Print the version and exit"), NULL },
    { NULL }
  };

  sotto_i18n_init ();
  g_set_prgname ("sotto-cli");

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
    return cli_usage_error (error->message);

  if (version)
    {
      g_print ("sotto-cli %s\n", PACKAGE_VERSION);
      return CLI_EXIT_OK;
    }

  if (argc < 2)
    return cli_usage_error (_("No command given"));

  command = find_command (argv[1]);
  if (command == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("Unknown command “%s”"), argv[1]);
      return cli_usage_error (message);
    }

  context = sotto_context_new (profile, profile_dir, &error);
  if (context == NULL)
    return cli_usage_error (error->message);

  return command->run (context, argc - 1, argv + 1);
}
