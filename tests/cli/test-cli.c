/* test-cli.c — sotto-cli as a script sees it: output and exit status
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <gio/gio.h>

typedef struct
{
  int   status;
  char *out;
  char *err;
} CliResult;

static void
cli_result_free (CliResult *result)
{
  g_free (result->out);
  g_free (result->err);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliResult, cli_result_free)

static CliResult *
run_cli (const char *first_arg,
         ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  CliResult *result = g_new0 (CliResult, 1);
  const char *cli = g_getenv ("SOTTO_CLI");
  const char *arg;
  va_list args;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (gpointer)cli);
  va_start (args, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer)arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  /* GLib points the environment's XDG dirs at /dev/null in isolated tests;
   * the child gets this test's own throw-away dirs instead. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "HOME", g_get_home_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", g_get_user_data_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", g_get_user_config_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", g_get_user_cache_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", g_get_user_state_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", g_get_user_runtime_dir (), TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *)argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &result->out, &result->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  result->status = g_subprocess_get_exit_status (proc);

  g_test_message ("status %d\nstdout: %s\nstderr: %s", result->status, result->out, result->err);

  return result;
}

static void
test_cli_version (void)
{
  g_autoptr (CliResult) r = run_cli ("--version", NULL);

  g_assert_cmpint (r->status, ==, 0);
  g_assert_cmpstr (r->out, ==, "sotto-cli " PACKAGE_VERSION "\n");
  g_assert_cmpstr (r->err, ==, "");
}

static void
test_cli_help (void)
{
  g_autoptr (CliResult) r = run_cli ("--help", NULL);

  g_assert_cmpint (r->status, ==, 0);
  g_assert_nonnull (strstr (r->out, "sotto-cli [OPTION…] COMMAND [ARGUMENTS…]"));
  g_assert_nonnull (strstr (r->out, "--profile=NAME"));
  g_assert_nonnull (strstr (r->out, "Commands:"));
  g_assert_nonnull (strstr (r->out, "  profile "));
  g_assert_nonnull (strstr (r->out, "Exit status"));
}

static void
test_cli_no_command (void)
{
  g_autoptr (CliResult) r = run_cli (NULL);

  g_assert_cmpint (r->status, ==, 2);
  g_assert_cmpstr (r->out, ==, "");
  g_assert_nonnull (strstr (r->err, "No command given"));
  g_assert_nonnull (strstr (r->err, "sotto-cli --help"));
}

static void
test_cli_unknown_command (void)
{
  g_autoptr (CliResult) r = run_cli ("frobnicate", NULL);

  g_assert_cmpint (r->status, ==, 2);
  g_assert_nonnull (strstr (r->err, "Unknown command “frobnicate”"));
}

static void
test_cli_unknown_option (void)
{
  g_autoptr (CliResult) r = run_cli ("--frobnicate", "profile", NULL);

  g_assert_cmpint (r->status, ==, 2);
  g_assert_nonnull (strstr (r->err, "--frobnicate"));
}

static void
test_cli_bad_profile (void)
{
  g_autoptr (CliResult) r = run_cli ("--profile", "../../etc", "profile", NULL);

  g_assert_cmpint (r->status, ==, 2);
  g_assert_cmpstr (r->out, ==, "");
  g_assert_nonnull (strstr (r->err, "profile name"));
}

static void
test_cli_profile_default (void)
{
  g_autoptr (CliResult) r = run_cli ("profile", NULL);
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "sotto", "default", NULL);
  g_autofree char *expected = g_strdup_printf ("profile: default\ndirectory: %s\n", dir);

  g_assert_cmpint (r->status, ==, 0);
  g_assert_cmpstr (r->out, ==, expected);
}

static void
test_cli_profile_named (void)
{
  g_autoptr (CliResult) r = run_cli ("-p", "work", "profile", NULL);
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "sotto", "work", NULL);
  g_autofree char *expected = g_strdup_printf ("profile: work\ndirectory: %s\n", dir);

  g_assert_cmpint (r->status, ==, 0);
  g_assert_cmpstr (r->out, ==, expected);
}

static void
test_cli_profile_dir (void)
{
  g_autofree char *dir = g_build_filename (g_get_tmp_dir (), "elsewhere", NULL);
  g_autoptr (CliResult) r = run_cli ("--profile-dir", dir, "profile", NULL);
  g_autofree char *expected = g_strdup_printf ("profile: default\ndirectory: %s\n", dir);

  g_assert_cmpint (r->status, ==, 0);
  g_assert_cmpstr (r->out, ==, expected);
}

static void
test_cli_command_extra_argument (void)
{
  g_autoptr (CliResult) r = run_cli ("profile", "extra", NULL);

  g_assert_cmpint (r->status, ==, 2);
  g_assert_nonnull (strstr (r->err, "takes no arguments"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  /* Scripts parse the untranslated output. */
  setlocale (LC_ALL, "C.UTF-8");
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_unsetenv ("LANGUAGE");

  g_test_add_func ("/cli/version", test_cli_version);
  g_test_add_func ("/cli/help", test_cli_help);
  g_test_add_func ("/cli/usage/no-command", test_cli_no_command);
  g_test_add_func ("/cli/usage/unknown-command", test_cli_unknown_command);
  g_test_add_func ("/cli/usage/unknown-option", test_cli_unknown_option);
  g_test_add_func ("/cli/usage/bad-profile", test_cli_bad_profile);
  g_test_add_func ("/cli/usage/extra-argument", test_cli_command_extra_argument);
  g_test_add_func ("/cli/profile/default", test_cli_profile_default);
  g_test_add_func ("/cli/profile/named", test_cli_profile_named);
  g_test_add_func ("/cli/profile/dir", test_cli_profile_dir);

  return g_test_run ();
}
