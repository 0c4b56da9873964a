/* test-cli.c — sotto-cli as a script sees it: output and exit status
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>

#include "sotto-control.h"
#include "sotto-core.h"
#include "sotto-profile-lock.h"
#include "sotto-store.h"
#include "sotto-test-util.h"

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

static GSubprocess *
spawn_cli_flags_va (GSubprocessFlags  flags,
                    const char       *first_arg,
                    va_list           args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autofree char *config_dirs = NULL;
  g_autofree char *data_dirs = NULL;
  g_autoptr (GError) error = NULL;
  GSubprocess *proc;
  const char *cli = g_getenv ("SOTTO_CLI");
  const char *arg;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (gpointer)cli);
  for (arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer)arg);
  g_ptr_array_add (argv, NULL);

  /* GLib points the environment's XDG dirs at /dev/null in isolated tests;
   * the child gets this test's own throw-away dirs instead. */
  launcher = g_subprocess_launcher_new (flags | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "HOME", g_get_home_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", g_get_user_data_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", g_get_user_config_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", g_get_user_cache_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", g_get_user_state_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", g_get_user_runtime_dir (), TRUE);
  config_dirs = g_strjoinv (":", (char **)g_get_system_config_dirs ());
  data_dirs = g_strjoinv (":", (char **)g_get_system_data_dirs ());
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_DIRS", config_dirs, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_DIRS", data_dirs, TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *)argv->pdata, &error);
  g_assert_no_error (error);

  return proc;
}

static GSubprocess *
spawn_cli_va (const char *first_arg,
              va_list     args)
{
  return spawn_cli_flags_va (G_SUBPROCESS_FLAGS_NONE, first_arg, args);
}

static CliResult *
cli_result_new (GSubprocess *proc,
                char        *out,
                char        *err)
{
  CliResult *result = g_new0 (CliResult, 1);

  result->out = out;
  result->err = err;
  if (!g_subprocess_get_if_exited (proc))
    g_error ("sotto-cli was killed by signal %d; stderr:\n%s",
             g_subprocess_get_term_sig (proc), result->err);
  result->status = g_subprocess_get_exit_status (proc);

  return result;
}

static CliResult *
run_cli (const char *first_arg,
         ...)
{
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  CliResult *result;
  va_list args;

  va_start (args, first_arg);
  proc = spawn_cli_va (first_arg, args);
  va_end (args);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  result = cli_result_new (proc, g_steal_pointer (&out), g_steal_pointer (&err));
  g_test_message ("status %d\nstdout: %s\nstderr: %s", result->status, result->out, result->err);

  return result;
}

/* The same, with @input on its standard input. */
static CliResult *
run_cli_input (const char *input,
               const char *first_arg,
               ...)
{
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  CliResult *result;
  va_list args;

  va_start (args, first_arg);
  proc = spawn_cli_flags_va (G_SUBPROCESS_FLAGS_STDIN_PIPE, first_arg, args);
  va_end (args);
  g_subprocess_communicate_utf8 (proc, input, NULL, &out, &err, &error);
  g_assert_no_error (error);
  result = cli_result_new (proc, g_steal_pointer (&out), g_steal_pointer (&err));
  g_test_message ("status %d\nstdout: %s\nstderr: %s", result->status, result->out, result->err);

  return result;
}

/* The same, while this process's main loop runs: for a test that plays
 * the process holding the profile. */
static CliResult *
run_cli_iterating (const char *first_arg,
                   ...)
{
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GAsyncResult) done = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  CliResult *result;
  va_list args;

  va_start (args, first_arg);
  proc = spawn_cli_va (first_arg, args);
  va_end (args);
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, sotto_test_result_cb, &done);
  while (done == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_subprocess_communicate_utf8_finish (proc, done, &out, &err, &error);
  g_assert_no_error (error);
  result = cli_result_new (proc, g_steal_pointer (&out), g_steal_pointer (&err));
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
  g_assert_nonnull (strstr (r->out, "  retry "));
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
  g_assert_nonnull (strstr (r->err, "has too many arguments"));
}

/* Profiles ---------------------------------------------------------------- */

static char *
write_passphrase_file (const char *passphrase,
                       int         mode)
{
  char *path = g_build_filename (g_get_user_config_dir (), "passphrase", NULL);

  g_assert_cmpint (g_mkdir_with_parents (g_get_user_config_dir (), 0700), ==, 0);
  g_assert_true (g_file_set_contents_full (path, passphrase, -1,
                                          G_FILE_SET_CONTENTS_CONSISTENT, mode, NULL));

  return path;
}

static char *
first_line_value (const char *out,
                  const char *label)
{
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  g_autofree char *prefix = g_strconcat (label, ": ", NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_strdup (lines[i] + strlen (prefix));

  return NULL;
}

static JsonArray *
parse_json_array (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)));

  return json_array_ref (json_node_get_array (json_parser_get_root (parser)));
}

static void
test_cli_init_keyring (void)
{
  g_autoptr (CliResult) init = run_cli ("-p", "alice", "init", "--name", "Alice Example", NULL);
  g_autoptr (CliResult) again = NULL;
  g_autoptr (CliResult) invite = NULL;
  g_autoptr (CliResult) fingerprint = NULL;
  g_autofree char *printed = NULL;

  g_assert_cmpint (init->status, ==, 0);
  g_assert_nonnull (strstr (init->out, "name: Alice Example\n"));
  g_assert_nonnull (strstr (init->out, "protection: keyring\n"));
  printed = first_line_value (init->out, "fingerprint");
  g_assert_cmpuint (strlen (printed), ==, 35);

  /* No passphrase asked: the key is in the (test's own) login keyring. */
  invite = run_cli ("-p", "alice", "invite", NULL);
  g_assert_cmpint (invite->status, ==, 0);
  g_assert_true (g_str_has_prefix (invite->out, "sotto:"));
  g_assert_nonnull (strstr (invite->out, "n=Alice%20Example"));

  fingerprint = run_cli ("-p", "alice", "fingerprint", NULL);
  g_assert_cmpint (fingerprint->status, ==, 0);
  g_assert_true (g_str_has_prefix (fingerprint->out, printed));

  again = run_cli ("-p", "alice", "init", "--name", "Alice Again", NULL);
  g_assert_cmpint (again->status, ==, 1);
  g_assert_nonnull (strstr (again->err, "already a profile"));
}

static void
test_cli_init_passphrase (void)
{
  g_autofree char *good = write_passphrase_file ("correct horse battery\n", 0600);
  g_autoptr (CliResult) init = NULL;
  g_autoptr (CliResult) without = NULL;
  g_autoptr (CliResult) with = NULL;
  g_autoptr (CliResult) wrong = NULL;
  g_autoptr (CliResult) exposed = NULL;

  init = run_cli ("-p", "bob", "init", "--name", "Bob", "--passphrase-file", good, NULL);
  g_assert_cmpint (init->status, ==, 0);
  g_assert_nonnull (strstr (init->out, "protection: passphrase\n"));

  /* No terminal here and no file: exit 4, and a hint. */
  without = run_cli ("-p", "bob", "contacts", NULL);
  g_assert_cmpint (without->status, ==, 4);
  g_assert_nonnull (strstr (without->err, "--passphrase-file"));

  with = run_cli ("-p", "bob", "--passphrase-file", good, "contacts", NULL);
  g_assert_cmpint (with->status, ==, 0);

  g_assert_true (g_file_set_contents_full (good, "correct horse battery staple\n", -1,
                                          G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
  wrong = run_cli ("-p", "bob", "--passphrase-file", good, "contacts", NULL);
  g_assert_cmpint (wrong->status, ==, 4);
  g_assert_nonnull (strstr (wrong->err, "passphrase is wrong"));

  g_assert_cmpint (g_chmod (good, 0644), ==, 0);
  exposed = run_cli ("-p", "bob", "--passphrase-file", good, "contacts", NULL);
  g_assert_cmpint (exposed->status, ==, 2);
  g_assert_nonnull (strstr (exposed->err, "chmod 600"));
}

static char *
init_profile (const char *profile,
              const char *name)
{
  g_autoptr (CliResult) init = run_cli ("-p", profile, "init", "--name", name, NULL);
  g_autoptr (CliResult) invite = NULL;

  g_assert_cmpint (init->status, ==, 0);
  invite = run_cli ("-p", profile, "invite", NULL);
  g_assert_cmpint (invite->status, ==, 0);

  return g_strstrip (g_strdup (invite->out));
}

static void
test_cli_add_both_sides (void)
{
  g_autofree char *carol = init_profile ("carol", "Carol");
  g_autofree char *dave = init_profile ("dave", "Dave Davis");
  g_autoptr (CliResult) add1 = run_cli ("-p", "carol", "add", dave, "--alias", "DD", NULL);
  g_autoptr (CliResult) add2 = run_cli ("-p", "dave", "add", carol, NULL);
  g_autoptr (CliResult) dup = run_cli ("-p", "dave", "add", carol, NULL);
  g_autoptr (CliResult) list = run_cli ("-p", "carol", "contacts", "--json", NULL);
  g_autoptr (CliResult) sn1 = run_cli ("-p", "carol", "fingerprint", "dd", NULL);
  g_autoptr (CliResult) sn2 = run_cli ("-p", "dave", "fingerprint", "carol", NULL);
  g_autoptr (CliResult) own = run_cli ("-p", "carol", "add", carol, NULL);
  g_autoptr (JsonArray) contacts = NULL;
  JsonObject *contact;

  g_assert_cmpint (add1->status, ==, 0);
  g_assert_nonnull (strstr (add1->out, "added: DD\n"));
  g_assert_cmpint (add2->status, ==, 0);
  g_assert_cmpint (dup->status, ==, 1);
  g_assert_nonnull (strstr (dup->err, "already one of your contacts"));
  g_assert_cmpint (own->status, ==, 2);

  g_assert_cmpint (list->status, ==, 0);
  contacts = parse_json_array (list->out);
  g_assert_cmpuint (json_array_get_length (contacts), ==, 1);
  contact = json_array_get_object_element (contacts, 0);
  g_assert_cmpstr (json_object_get_string_member (contact, "name"), ==, "DD");
  g_assert_cmpstr (json_object_get_string_member (contact, "display_name"), ==, "Dave Davis");
  g_assert_cmpstr (json_object_get_string_member (contact, "verification"), ==, "unverified");
  g_assert_false (json_object_get_boolean_member (contact, "blocked"));

  /* The safety number is the same on both sides. */
  g_assert_cmpint (sn1->status, ==, 0);
  g_assert_cmpint (sn2->status, ==, 0);
  g_assert_cmpuint (strlen (sn1->out), ==, 71 + 1);
  g_assert_cmpstr (sn1->out, ==, sn2->out);
}

static void
test_cli_add_bad_invite (void)
{
  g_autofree char *invite = init_profile ("erin", "Erin");
  g_autofree char *typo = g_strdup (invite);
  g_autoptr (CliResult) r1 = NULL;
  g_autoptr (CliResult) r2 = NULL;
  char *name = strstr (typo, "n=Erin");

  g_assert_nonnull (name);
  name[2] = 'A';
  r1 = run_cli ("-p", "erin", "add", typo, NULL);
  g_assert_cmpint (r1->status, ==, 2);
  g_assert_nonnull (strstr (r1->err, "mistyped"));

  r2 = run_cli ("-p", "erin", "add", "https://example.com/", NULL);
  g_assert_cmpint (r2->status, ==, 2);
  g_assert_nonnull (strstr (r2->err, "sotto:"));
}

static void
test_cli_send_history (void)
{
  g_autofree char *frank = init_profile ("frank", "Frank");
  g_autofree char *grace = init_profile ("grace", "Grace");
  g_autoptr (CliResult) add = run_cli ("-p", "frank", "add", grace, NULL);
  g_autoptr (CliResult) s1 = run_cli ("-p", "frank", "send", "grace", "first", NULL);
  g_autoptr (CliResult) s2 = run_cli ("-p", "frank", "send", "Grace", "second\nline", NULL);
  g_autoptr (CliResult) text = run_cli ("-p", "frank", "history", "grace", NULL);
  g_autoptr (CliResult) json = run_cli ("-p", "frank", "history", "grace", "--json",
                                        "--limit", "1", NULL);
  g_autoptr (CliResult) at_limit = run_cli ("-p", "frank", "history", "grace", "--limit", "1000",
                                            NULL);
  g_autoptr (CliResult) past_limit = run_cli ("-p", "frank", "history", "grace", "--limit", "1001",
                                              NULL);
  g_autoptr (CliResult) empty = run_cli ("-p", "frank", "send", "grace", "", NULL);
  g_autoptr (JsonArray) messages = NULL;
  JsonObject *message;

  g_assert_cmpint (add->status, ==, 0);
  g_assert_cmpint (s1->status, ==, 0);
  g_assert_true (g_str_has_prefix (s1->out, "queued: "));
  g_assert_cmpint (s2->status, ==, 0);

  g_assert_cmpint (text->status, ==, 0);
  g_assert_nonnull (strstr (text->out, "<me> first\n"));
  g_assert_nonnull (strstr (text->out, "<me> second\n    line\n"));
  g_assert_nonnull (strstr (text->out, "(queued)"));

  g_assert_cmpint (json->status, ==, 0);
  messages = parse_json_array (json->out);
  g_assert_cmpuint (json_array_get_length (messages), ==, 1);
  message = json_array_get_object_element (messages, 0);
  g_assert_cmpstr (json_object_get_string_member (message, "body"), ==, "second\nline");
  g_assert_cmpstr (json_object_get_string_member (message, "direction"), ==, "out");
  g_assert_cmpstr (json_object_get_string_member (message, "state"), ==, "queued");
  g_assert_cmpuint (strlen (json_object_get_string_member (message, "uid")), ==, 32);

  g_assert_cmpint (at_limit->status, ==, 0);
  g_assert_cmpint (past_limit->status, ==, 2);
  g_assert_cmpint (empty->status, ==, 2);
}

/* Edits a profile's database as the store would never do: for times the
 * tests can't wait for. */
static void
profile_raw_sql (const char *profile,
                 const char *sql)
{
  g_autofree char *path = g_build_filename (g_get_user_data_dir (), "sotto", profile,
                                            "sotto.db", NULL);

  sotto_test_db_exec (path, sql);
}

/* A message or a contact changed with SQLite alone is reported on stderr;
 * the rest is shown, JSON stays valid, and the status is 0. */
static void
test_cli_damaged (void)
{
  g_autofree char *pia = init_profile ("pia", "Pia");
  g_autofree char *rex = init_profile ("rex", "Rex");
  g_autofree char *sam = init_profile ("sam", "Sam");
  g_autoptr (CliResult) add_rex = run_cli ("-p", "pia", "add", rex, NULL);
  g_autoptr (CliResult) add_sam = run_cli ("-p", "pia", "add", sam, NULL);
  g_autoptr (CliResult) s1 = run_cli ("-p", "pia", "send", "rex", "first note", NULL);
  g_autoptr (CliResult) s2 = run_cli ("-p", "pia", "send", "rex", "second note", NULL);
  g_autoptr (CliResult) history = NULL;
  g_autoptr (CliResult) history_json = NULL;
  g_autoptr (CliResult) found = NULL;
  g_autoptr (CliResult) contacts = NULL;
  g_autoptr (JsonArray) messages = NULL;

  g_assert_cmpint (add_rex->status + add_sam->status + s1->status + s2->status, ==, 0);

  /* The second note turned into Rex's; Sam marked verified. */
  profile_raw_sql ("pia", "UPDATE messages SET direction = 1 WHERE id = 2;"
                          "UPDATE contacts SET verification = 1 WHERE id = 2;");

  history = run_cli ("-p", "pia", "history", "rex", NULL);
  g_assert_cmpint (history->status, ==, 0);
  g_assert_nonnull (strstr (history->out, "first note"));
  g_assert_null (strstr (history->out, "second note"));
  g_assert_nonnull (strstr (history->err, "1 message could not be read"));

  history_json = run_cli ("-p", "pia", "history", "rex", "--json", NULL);
  g_assert_cmpint (history_json->status, ==, 0);
  messages = parse_json_array (history_json->out);
  g_assert_cmpuint (json_array_get_length (messages), ==, 1);
  g_assert_nonnull (strstr (history_json->err, "1 message could not be read"));

  found = run_cli ("-p", "pia", "search", "note", NULL);
  g_assert_cmpint (found->status, ==, 0);
  g_assert_nonnull (strstr (found->out, "first note"));
  g_assert_null (strstr (found->out, "second note"));
  g_assert_nonnull (strstr (found->err, "1 message could not be read"));

  contacts = run_cli ("-p", "pia", "contacts", NULL);
  g_assert_cmpint (contacts->status, ==, 0);
  g_assert_nonnull (strstr (contacts->out, "Rex"));
  g_assert_null (strstr (contacts->out, "Sam"));
  g_assert_nonnull (strstr (contacts->err, "1 contact could not be read"));
}

/* A name that is one contact's whole name and the start of another's
 * picks neither: a newly accepted "Bob" must not get what was meant for
 * Bob Smith. "=NAME" asks for exactly that name; fingerprint digits pick
 * one too. */
static void
test_cli_contact_ambiguous (void)
{
  g_autofree char *bob = init_profile ("amb-bob", "Bob");
  g_autofree char *smith = init_profile ("amb-smith", "Bob Smith");
  g_autoptr (CliResult) owner = run_cli ("-p", "amb-owner", "init", "--name", "Owner", NULL);
  g_autoptr (CliResult) add1 = run_cli ("-p", "amb-owner", "add", smith, NULL);
  g_autoptr (CliResult) add2 = run_cli ("-p", "amb-owner", "add", bob, NULL);
  g_autoptr (CliResult) bare = run_cli ("-p", "amb-owner", "send", "bob", "for Bob Smith", NULL);
  g_autoptr (CliResult) exact = run_cli ("-p", "amb-owner", "send", "=bob", "for Bob", NULL);
  g_autoptr (CliResult) longer = run_cli ("-p", "amb-owner", "send", "Bob Smith", "for Smith",
                                          NULL);
  g_autoptr (CliResult) fp = run_cli ("-p", "amb-bob", "fingerprint", NULL);
  g_autoptr (CliResult) by_digits = NULL;
  g_autoptr (CliResult) to_bob = NULL;
  g_autoptr (CliResult) to_smith = NULL;
  g_autofree char *digits = NULL;

  g_assert_cmpint (owner->status, ==, 0);
  g_assert_cmpint (add1->status, ==, 0);
  g_assert_cmpint (add2->status, ==, 0);

  g_assert_cmpint (bare->status, ==, 2);
  g_assert_cmpstr (bare->out, ==, "");
  g_assert_nonnull (strstr (bare->err, "Bob Smith"));
  g_assert_nonnull (strstr (bare->err, "“Bob”"));
  g_assert_nonnull (strstr (bare->err, "=NAME"));

  g_assert_cmpint (exact->status, ==, 0);
  g_assert_cmpint (longer->status, ==, 0);

  g_assert_cmpint (fp->status, ==, 0);
  digits = g_strndup (fp->out, 11);  /* "12345 67890" */
  by_digits = run_cli ("-p", "amb-owner", "send", digits, "by digits", NULL);
  g_assert_cmpint (by_digits->status, ==, 0);

  to_bob = run_cli ("-p", "amb-owner", "history", "=Bob", NULL);
  g_assert_cmpint (to_bob->status, ==, 0);
  g_assert_nonnull (strstr (to_bob->out, "for Bob\n"));
  g_assert_nonnull (strstr (to_bob->out, "by digits\n"));
  g_assert_null (strstr (to_bob->out, "for Smith"));
  g_assert_null (strstr (to_bob->out, "for Bob Smith"));
  to_smith = run_cli ("-p", "amb-owner", "history", "bob s", NULL);
  g_assert_cmpint (to_smith->status, ==, 0);
  g_assert_nonnull (strstr (to_smith->out, "for Smith\n"));
  g_assert_null (strstr (to_smith->out, "for Bob Smith"));
}

static void
test_cli_retry (void)
{
  g_autofree char *nina = init_profile ("nina", "Nina");
  g_autofree char *omar = init_profile ("omar", "Omar");
  g_autofree char *age = g_strdup_printf ("UPDATE outbox SET queued = queued - %" G_GINT64_FORMAT,
                                          (gint64)SOTTO_OUTBOX_EXPIRY_DAYS * G_TIME_SPAN_DAY +
                                          G_TIME_SPAN_SECOND);
  g_autoptr (CliResult) add = run_cli ("-p", "nina", "add", omar, NULL);
  g_autoptr (CliResult) old = run_cli ("-p", "nina", "send", "omar", "a week ago", NULL);
  g_autoptr (CliResult) failed_text = NULL;
  g_autoptr (CliResult) failed_json = NULL;
  g_autoptr (CliResult) fresh = NULL;
  g_autoptr (CliResult) retried = NULL;
  g_autoptr (CliResult) queued_text = NULL;
  g_autoptr (CliResult) queued_json = NULL;
  g_autoptr (CliResult) nothing = NULL;
  g_autoptr (CliResult) nobody = NULL;
  g_autoptr (CliResult) missing = NULL;
  g_autoptr (CliResult) extra = NULL;
  g_autoptr (JsonArray) messages = NULL;
  g_autofree char *uid = NULL;

  g_assert_cmpint (add->status, ==, 0);
  g_assert_cmpint (old->status, ==, 0);
  uid = first_line_value (old->out, "queued");
  g_assert_nonnull (uid);

  /* Nothing ran for a week: the next command to open the profile gives
   * up on it, and says so. */
  profile_raw_sql ("nina", age);
  failed_text = run_cli ("-p", "nina", "history", "omar", NULL);
  g_assert_cmpint (failed_text->status, ==, 0);
  g_assert_nonnull (strstr (failed_text->out, "<me> a week ago\n    (not sent)\n"));
  failed_json = run_cli ("-p", "nina", "history", "omar", "--json", NULL);
  g_assert_cmpint (failed_json->status, ==, 0);
  messages = parse_json_array (failed_json->out);
  g_assert_cmpuint (json_array_get_length (messages), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0),
                                                  "state"), ==, "failed");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0),
                                                  "uid"), ==, uid);
  g_clear_pointer (&messages, json_array_unref);

  /* A message written since is not affected, nor retried. */
  fresh = run_cli ("-p", "nina", "send", "omar", "just now", NULL);
  g_assert_cmpint (fresh->status, ==, 0);
  retried = run_cli ("-p", "nina", "retry", "omar", NULL);
  g_assert_cmpint (retried->status, ==, 0);
  g_assert_cmpstr (retried->out, ==, "retried: 1\n");

  queued_text = run_cli ("-p", "nina", "history", "omar", NULL);
  g_assert_null (strstr (queued_text->out, "(not sent)"));
  g_assert_nonnull (strstr (queued_text->out, "<me> a week ago\n    (queued)\n"));
  queued_json = run_cli ("-p", "nina", "history", "omar", "--json", NULL);
  messages = parse_json_array (queued_json->out);
  g_assert_cmpuint (json_array_get_length (messages), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0),
                                                  "uid"), ==, uid);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0),
                                                  "state"), ==, "queued");

  nothing = run_cli ("-p", "nina", "retry", "Omar", NULL);
  g_assert_cmpint (nothing->status, ==, 0);
  g_assert_cmpstr (nothing->out, ==, "retried: 0\n");

  nobody = run_cli ("-p", "nina", "retry", "nobody", NULL);
  g_assert_cmpint (nobody->status, ==, 1);
  g_assert_nonnull (strstr (nobody->err, "nobody"));
  missing = run_cli ("-p", "nina", "retry", NULL);
  g_assert_cmpint (missing->status, ==, 2);
  extra = run_cli ("-p", "nina", "retry", "omar", "now", NULL);
  g_assert_cmpint (extra->status, ==, 2);
}

static void
test_cli_block_verify_remove (void)
{
  g_autofree char *hank = init_profile ("hank", "Hank");
  g_autofree char *ivy = init_profile ("ivy", "Ivy");
  g_autoptr (CliResult) add = run_cli ("-p", "hank", "add", ivy, NULL);
  g_autoptr (CliResult) verify = run_cli ("-p", "hank", "verify", "ivy", NULL);
  g_autoptr (CliResult) block = run_cli ("-p", "hank", "block", "ivy", NULL);
  g_autoptr (CliResult) list = run_cli ("-p", "hank", "contacts", NULL);
  g_autoptr (CliResult) unblock = run_cli ("-p", "hank", "unblock", "ivy", NULL);
  g_autoptr (CliResult) list2 = run_cli ("-p", "hank", "contacts", NULL);
  g_autoptr (CliResult) nobody = run_cli ("-p", "hank", "remove", "nobody", NULL);
  g_autoptr (CliResult) remove = run_cli ("-p", "hank", "remove", "ivy", NULL);
  g_autoptr (CliResult) list3 = run_cli ("-p", "hank", "contacts", NULL);

  g_assert_cmpint (add->status, ==, 0);
  g_assert_cmpint (verify->status, ==, 0);
  g_assert_cmpint (block->status, ==, 0);
  g_assert_nonnull (strstr (list->out, "\tverified\tblocked\n"));
  g_assert_cmpint (unblock->status, ==, 0);
  g_assert_nonnull (strstr (list2->out, "\tverified\n"));
  g_assert_cmpint (nobody->status, ==, 1);
  g_assert_nonnull (strstr (nobody->err, "No contact is called “nobody”"));
  g_assert_cmpint (remove->status, ==, 0);
  g_assert_cmpstr (list3->out, ==, "");
}

static JsonObject *
parse_object (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static gboolean
has_finding (JsonObject *verdict,
             const char *id)
{
  JsonArray *findings = json_object_get_array_member (verdict, "findings");

  for (guint i = 0; i < json_array_get_length (findings); i++)
    {
      JsonObject *finding = json_array_get_object_element (findings, i);

      g_assert_cmpstr (json_object_get_string_member (finding, "text"), !=, "");
      if (g_str_equal (json_object_get_string_member (finding, "id"), id))
        return TRUE;
    }
  return FALSE;
}

/* check-link: the core's verdict, under the settings, without a profile. */
static void
test_cli_check_link (void)
{
  g_autoptr (CliResult) lookalike = run_cli ("check-link", "--json", "https://\xd0\xb0pple.com/",
                                             NULL);
  g_autoptr (CliResult) plain = run_cli ("check-link", "https://www.gnome.org/", NULL);
  g_autoptr (CliResult) stranger = run_cli ("check-link", "--from", "stranger", "--json",
                                            "https://www.gnome.org/", NULL);
  g_autoptr (CliResult) bad_from = run_cli ("check-link", "--from", "boss",
                                            "https://www.gnome.org/", NULL);
  g_autoptr (CliResult) no_link = run_cli ("check-link", NULL);
  g_autoptr (CliResult) never = NULL;
  g_autoptr (CliResult) trusted = NULL;
  g_autoptr (JsonObject) object = NULL;
  g_autofree char *keyfile_dir = g_build_filename (g_get_user_config_dir (), "glib-2.0",
                                                   "settings", NULL);
  g_autofree char *keyfile = g_build_filename (keyfile_dir, "keyfile", NULL);

  g_assert_cmpint (lookalike->status, ==, 0);
  object = parse_object (lookalike->out);
  g_assert_cmpstr (json_object_get_string_member (object, "verdict"), ==, "warn");
  g_assert_cmpstr (json_object_get_string_member (object, "host"), ==, "\xd0\xb0pple.com");
  g_assert_cmpstr (json_object_get_string_member (object, "host_ascii"), ==, "xn--pple-43d.com");
  g_assert_true (has_finding (object, "confusable"));
  g_assert_true (has_finding (object, "idn"));
  g_clear_pointer (&object, json_object_unref);

  g_assert_cmpint (plain->status, ==, 0);
  g_assert_true (g_str_has_prefix (plain->out, "verdict: ask\n"));
  g_assert_nonnull (strstr (plain->out, "domain: gnome.org\n"));

  object = parse_object (stranger->out);
  g_assert_cmpstr (json_object_get_string_member (object, "verdict"), ==, "warn");
  g_assert_true (has_finding (object, "sender-stranger"));
  g_clear_pointer (&object, json_object_unref);

  g_assert_cmpint (bad_from->status, ==, 2);
  g_assert_nonnull (strstr (bad_from->err, "boss"));
  g_assert_cmpint (no_link->status, ==, 2);

  /* What the administrator set holds: links off; a trusted intranet. */
  g_assert_cmpint (g_mkdir_with_parents (keyfile_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (keyfile,
                                      "[im/sotto/Sotto]\n"
                                      "link-trusted-domains=['intranet.example']\n", -1, NULL));
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);
  trusted = run_cli ("check-link", "--json", "https://wiki.intranet.example/start", NULL);
  g_assert_true (g_file_set_contents (keyfile, "[im/sotto/Sotto]\nlink-open='never'\n", -1,
                                      NULL));
  never = run_cli ("check-link", "--json", "https://www.gnome.org/", NULL);
  g_unsetenv ("GSETTINGS_BACKEND");
  g_unlink (keyfile);

  object = parse_object (trusted->out);
  g_assert_cmpstr (json_object_get_string_member (object, "verdict"), ==, "open");
  g_assert_true (has_finding (object, "trusted"));
  g_clear_pointer (&object, json_object_unref);
  object = parse_object (never->out);
  g_assert_cmpstr (json_object_get_string_member (object, "verdict"), ==, "block");
  g_assert_true (has_finding (object, "links-off"));
  g_assert_true (json_node_is_null (json_object_get_member (object, "uri")));
}

static void
test_cli_profile_in_use (void)
{
  g_autofree char *invite = init_profile ("jack", "Jack");
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "sotto", "jack", NULL);
  g_autofree char *pid = g_strdup_printf ("process %ld", (long)getpid ());
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoProfileLock) lock = sotto_profile_lock_acquire (dir, &error);
  g_autoptr (CliResult) busy = NULL;

  g_assert_no_error (error);
  busy = run_cli ("-p", "jack", "contacts", NULL);
  g_assert_cmpint (busy->status, ==, 3);
  g_assert_nonnull (strstr (busy->err, pid));
}

static gboolean
release_lock_cb (gpointer data)
{
  SottoProfileLock **lock = data;

  g_clear_pointer (lock, sotto_profile_lock_release);
  return G_SOURCE_REMOVE;
}

/* A profile held for a moment — a runner still opening it, another
 * one-shot command — is waited for, not reported in use. */
static void
test_cli_profile_held_briefly (void)
{
  g_autofree char *invite = init_profile ("kate", "Kate");
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "sotto", "kate", NULL);
  g_autoptr (GError) error = NULL;
  SottoProfileLock *lock = sotto_profile_lock_acquire (dir, &error);
  g_autoptr (CliResult) waited = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_no_error (error);
  g_timeout_add (1000, release_lock_cb, &lock);
  waited = run_cli_iterating ("-p", "kate", "contacts", NULL);
  g_assert_cmpint (waited->status, ==, 0);
  g_assert_cmpstr (waited->err, ==, "");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC);
  g_assert_null (lock);
}

static void
test_cli_no_profile (void)
{
  g_autoptr (CliResult) r = run_cli ("-p", "nobody", "contacts", NULL);

  g_assert_cmpint (r->status, ==, 1);
  g_assert_nonnull (strstr (r->err, "sotto-cli init"));
}

/* A port nobody listens on, below the ephemeral range. */
static guint
low_free_port (void)
{
  for (guint i = 0; i < 1000; i++)
    {
      g_autoptr (GSocketListener) listener = g_socket_listener_new ();
      guint port = (guint)g_random_int_range (10000, 32000);

      if (g_socket_listener_add_inet_port (listener, (guint16)port, NULL, NULL))
        {
          g_socket_listener_close (listener);
          return port;
        }
    }
  g_error ("no free port below the ephemeral range");
}

/* A profile folder that can't be read, or is not the user's, is said to
 * be so: not "there is no profile yet", which init then contradicts. */
static void
test_cli_profile_dir_unreadable (void)
{
  g_autofree char *theirs = g_build_filename (g_get_user_data_dir (), "theirs", NULL);
  g_autofree char *link = g_build_filename (g_get_user_data_dir (), "link", NULL);
  g_autofree char *real = g_build_filename (g_get_user_data_dir (), "real", NULL);
  g_autoptr (CliResult) other_user = NULL;
  g_autoptr (CliResult) init = NULL;
  g_autoptr (CliResult) through_link = NULL;

  /* Another user's folder (as root, the test can make one). */
  g_assert_cmpint (g_mkdir_with_parents (theirs, 0700), ==, 0);
  if (getuid () == 0)
    {
      g_assert_cmpint (chown (theirs, 65534, 65534), ==, 0);
      other_user = run_cli ("--profile-dir", theirs, "contacts", NULL);
      g_assert_cmpint (other_user->status, ==, 1);
      g_assert_null (strstr (other_user->err, "no profile"));
      g_assert_nonnull (strstr (other_user->err, "belongs to another user"));
    }
  else
    {
      /* A folder of mode 000 of one's own. */
      g_assert_cmpint (g_chmod (theirs, 0), ==, 0);
      other_user = run_cli ("--profile-dir", theirs, "contacts", NULL);
      g_assert_cmpint (other_user->status, ==, 1);
      g_assert_null (strstr (other_user->err, "no profile"));
      g_assert_nonnull (strstr (other_user->err, "Cannot read the profile directory"));
      g_assert_cmpint (g_chmod (theirs, 0700), ==, 0);
    }

  /* A symbolic link to a profile is refused as such, not by SQLite. */
  init = run_cli ("--profile-dir", real, "init", "--name", "Real", NULL);
  g_assert_cmpint (init->status, ==, 0);
  g_assert_cmpint (symlink (real, link), ==, 0);
  through_link = run_cli ("--profile-dir", link, "contacts", NULL);
  g_assert_cmpint (through_link->status, ==, 1);
  g_assert_nonnull (strstr (through_link->err, "symbolic link"));
  g_assert_null (strstr (through_link->err, "history database"));
}

/* A folder given as the passphrase file is said to be one. */
static void
test_cli_passphrase_file_folder (void)
{
  g_autoptr (CliResult) init = NULL;

  init = run_cli ("-p", "folder", "init", "--name", "Folder", "--passphrase-file",
                  g_get_tmp_dir (), NULL);
  g_assert_cmpint (init->status, ==, 2);
  g_assert_null (strstr (init->err, "empty"));
  g_assert_nonnull (strstr (init->err, "folder"));
}

/* Text that is not UTF-8 is refused as such, not for its length. */
static void
test_cli_search_invalid_utf8 (void)
{
  g_autofree char *vera = init_profile ("vera", "Vera");
  g_autoptr (CliResult) search = run_cli ("-p", "vera", "search", "caf\xe9", NULL);

  g_assert_cmpint (search->status, ==, 2);
  g_assert_nonnull (strstr (search->err, "UTF-8"));
  g_assert_null (strstr (search->err, "bytes"));
}

/* connect on run's input takes a quoted name, as send and typing do. */
static void
test_cli_run_connect_quoted (void)
{
  g_autofree char *wes = init_profile ("wes", "Wes");
  g_autofree char *smith = init_profile ("wes-smith", "Bob Smith");
  g_autoptr (CliResult) add = run_cli ("-p", "wes", "add", smith, NULL);
  g_autofree char *port = g_strdup_printf ("%u", low_free_port ());
  g_autoptr (CliResult) run = NULL;

  g_assert_cmpint (add->status, ==, 0);
  run = run_cli_input ("connect \"Bob Smith\"\nconnect \"Nobody Here\"\nquit\n",
                       "-p", "wes", "run", "--port", port, NULL);
  g_assert_cmpint (run->status, ==, 0);
  /* Events, errors among them, are on stdout. */
  g_assert_null (strstr (run->out, "“\"Bob Smith\"”"));
  g_assert_null (strstr (run->out, "“Bob Smith”"));
  /* The other one is looked up by its name too, without the quotes. */
  g_assert_nonnull (strstr (run->out, "“Nobody Here”"));
}

static void
test_cli_search_purge (void)
{
  g_autofree char *kim = init_profile ("kim", "Kim");
  g_autofree char *lee = init_profile ("lee", "Lee");
  g_autoptr (CliResult) add = run_cli ("-p", "kim", "add", lee, NULL);
  g_autoptr (CliResult) s1 = run_cli ("-p", "kim", "send", "lee", "Meet at Hauptstraße 5", NULL);
  g_autoptr (CliResult) s2 = run_cli ("-p", "kim", "send", "lee", "Bring the STRASSE map", NULL);
  g_autoptr (CliResult) s3 = run_cli ("-p", "kim", "send", "lee", "unrelated", NULL);
  g_autoptr (CliResult) found = run_cli ("-p", "kim", "search", "strasse", NULL);
  g_autoptr (CliResult) json = run_cli ("-p", "kim", "search", "Straße", "--json", NULL);
  g_autoptr (CliResult) keep = run_cli ("-p", "kim", "purge", "--all", NULL);
  g_autoptr (CliResult) both = run_cli ("-p", "kim", "purge", "--all", "--older-than", "3", NULL);
  g_autoptr (CliResult) neither = run_cli ("-p", "kim", "purge", NULL);
  g_autoptr (CliResult) too_old = run_cli ("-p", "kim", "purge", "--older-than", "36501", NULL);
  g_autoptr (CliResult) gone = run_cli ("-p", "kim", "purge", "--all", "--include-queued",
                                        "--contact", "lee", NULL);
  g_autoptr (CliResult) after = run_cli ("-p", "kim", "search", "strasse", NULL);
  g_autoptr (JsonArray) matches = NULL;

  g_assert_cmpint (add->status + s1->status + s2->status + s3->status, ==, 0);

  g_assert_cmpint (found->status, ==, 0);
  g_assert_nonnull (strstr (found->out, "[Lee] "));
  g_assert_nonnull (strstr (found->out, "Hauptstraße"));
  g_assert_nonnull (strstr (found->out, "STRASSE map"));
  g_assert_null (strstr (found->out, "unrelated"));

  matches = parse_json_array (json->out);
  g_assert_cmpuint (json_array_get_length (matches), ==, 2);
  /* Newest first. */
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (matches, 0),
                                                  "body"), ==, "Bring the STRASSE map");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (matches, 0),
                                                  "contact"), ==, "Lee");

  /* Nothing was delivered, so a plain purge keeps everything. */
  g_assert_cmpint (keep->status, ==, 0);
  g_assert_cmpstr (keep->out, ==, "deleted: 0\n");
  g_assert_cmpint (both->status, ==, 2);
  g_assert_cmpint (neither->status, ==, 2);
  g_assert_cmpint (too_old->status, ==, 2);

  g_assert_cmpint (gone->status, ==, 0);
  g_assert_cmpstr (gone->out, ==, "deleted: 3\n");
  g_assert_cmpint (after->status, ==, 0);
  g_assert_cmpstr (after->out, ==, "");
}

static void
test_cli_protect (void)
{
  g_autofree char *first = write_passphrase_file ("first passphrase\n", 0600);
  g_autofree char *second = g_build_filename (g_get_user_config_dir (), "second", NULL);
  g_autoptr (CliResult) init = NULL;
  g_autoptr (CliResult) to_second = NULL;
  g_autoptr (CliResult) old_fails = NULL;
  g_autoptr (CliResult) new_works = NULL;
  g_autoptr (CliResult) to_keyring = NULL;
  g_autoptr (CliResult) no_passphrase = NULL;
  g_autoptr (CliResult) to_first = NULL;
  g_autoptr (CliResult) needs_again = NULL;
  g_autoptr (CliResult) two_options = NULL;

  g_assert_true (g_file_set_contents_full (second, "second passphrase\n", -1,
                                          G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));

  init = run_cli ("-p", "mo", "init", "--name", "Mo", "--passphrase-file", first, NULL);
  g_assert_cmpint (init->status, ==, 0);

  to_second = run_cli ("-p", "mo", "--passphrase-file", first, "protect",
                       "--new-passphrase-file", second, NULL);
  g_assert_cmpint (to_second->status, ==, 0);
  g_assert_cmpstr (to_second->out, ==, "protection: passphrase\n");

  old_fails = run_cli ("-p", "mo", "--passphrase-file", first, "contacts", NULL);
  g_assert_cmpint (old_fails->status, ==, 4);
  new_works = run_cli ("-p", "mo", "--passphrase-file", second, "contacts", NULL);
  g_assert_cmpint (new_works->status, ==, 0);

  to_keyring = run_cli ("-p", "mo", "--passphrase-file", second, "protect", "--keyring", NULL);
  g_assert_cmpint (to_keyring->status, ==, 0);
  no_passphrase = run_cli ("-p", "mo", "contacts", NULL);
  g_assert_cmpint (no_passphrase->status, ==, 0);

  to_first = run_cli ("-p", "mo", "protect", "--new-passphrase-file", first, NULL);
  g_assert_cmpint (to_first->status, ==, 0);
  needs_again = run_cli ("-p", "mo", "contacts", NULL);
  g_assert_cmpint (needs_again->status, ==, 4);

  two_options = run_cli ("-p", "mo", "protect", "--keyring", "--ask-passphrase", NULL);
  g_assert_cmpint (two_options->status, ==, 2);
}

/* Plays the app holding a profile: open and running, commands handed to
 * it through its control socket. */
static SottoContext *
hold_profile (const char *profile,
              const char *passphrase)
{
  g_autoptr (SottoContext) context = NULL;
  g_autoptr (GAsyncResult) opened = NULL;
  g_autoptr (GError) error = NULL;

  /* This process's settings stay in memory: the children's are dconf's. */
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  context = sotto_context_new (profile, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (sotto_context_set_listen_port (context, low_free_port (), &error));
  g_assert_no_error (error);
  sotto_context_open_async (context, passphrase, NULL, sotto_test_result_cb, &opened);
  while (opened == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_unsetenv ("GSETTINGS_BACKEND");
  g_assert_true (sotto_context_open_finish (context, opened, &error));
  g_assert_no_error (error);
  g_assert_true (sotto_context_start (context, &error));
  g_assert_no_error (error);

  return g_steal_pointer (&context);
}

static void
release_profile (SottoContext **context)
{
  SottoStore *store = sotto_context_get_store (*context);

  g_object_add_weak_pointer (G_OBJECT (store), (gpointer *)&store);
  sotto_context_stop (*context);
  g_clear_object (context);
  while (store != NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* protect handed to the process holding the profile asks for what
 * protects the history now, as it does when sotto-cli opens the profile
 * itself: any process of the user could otherwise put the history under
 * a passphrase of its own and lock the owner out. */
static void
test_cli_protect_forwarded (void)
{
  g_autofree char *current = write_passphrase_file ("current passphrase\n", 0600);
  g_autofree char *wrong = g_build_filename (g_get_user_config_dir (), "wrong", NULL);
  g_autofree char *new = g_build_filename (g_get_user_config_dir (), "new", NULL);
  g_autoptr (SottoContext) holder = NULL;
  g_autoptr (CliResult) init = NULL;
  g_autoptr (CliResult) without = NULL;
  g_autoptr (CliResult) wrong_one = NULL;
  g_autoptr (CliResult) right_one = NULL;
  g_autoptr (CliResult) as_option = NULL;
  g_autoptr (CliResult) old_fails = NULL;
  g_autoptr (CliResult) new_works = NULL;
  g_autoptr (CliResult) to_keyring = NULL;
  g_autoptr (CliResult) from_keyring = NULL;

  g_assert_true (g_file_set_contents_full (wrong, "not the passphrase\n", -1,
                                          G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
  g_assert_true (g_file_set_contents_full (new, "an intruder's passphrase\n", -1,
                                          G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
  init = run_cli ("-p", "pat", "init", "--name", "Pat", "--passphrase-file", current, NULL);
  g_assert_cmpint (init->status, ==, 0);

  holder = hold_profile ("pat", "current passphrase");

  without = run_cli_iterating ("-p", "pat", "protect", "--new-passphrase-file", new, NULL);
  g_assert_cmpint (without->status, ==, 4);
  g_assert_nonnull (strstr (without->err, "--passphrase-file"));
  wrong_one = run_cli_iterating ("-p", "pat", "--passphrase-file", wrong, "protect",
                                 "--new-passphrase-file", new, NULL);
  g_assert_cmpint (wrong_one->status, ==, 4);
  g_assert_nonnull (strstr (wrong_one->err, "passphrase is wrong"));

  /* The owner, with the current passphrase, given before or after. */
  right_one = run_cli_iterating ("-p", "pat", "--passphrase-file", current, "protect",
                                 "--new-passphrase-file", new, NULL);
  g_assert_cmpint (right_one->status, ==, 0);
  g_assert_cmpstr (right_one->out, ==, "protection: passphrase\n");
  as_option = run_cli_iterating ("-p", "pat", "protect", "--passphrase-file", new,
                                 "--new-passphrase-file", current, NULL);
  g_assert_cmpint (as_option->status, ==, 0);

  /* A profile whose key is in the keyring: reading it there is the proof. */
  to_keyring = run_cli_iterating ("-p", "pat", "--passphrase-file", current, "protect",
                                  "--keyring", NULL);
  g_assert_cmpint (to_keyring->status, ==, 0);
  from_keyring = run_cli_iterating ("-p", "pat", "protect", "--new-passphrase-file", new, NULL);
  g_assert_cmpint (from_keyring->status, ==, 0);

  release_profile (&holder);

  old_fails = run_cli ("-p", "pat", "--passphrase-file", current, "contacts", NULL);
  g_assert_cmpint (old_fails->status, ==, 4);
  new_works = run_cli ("-p", "pat", "--passphrase-file", new, "contacts", NULL);
  g_assert_cmpint (new_works->status, ==, 0);
}

/* Plays the process holding the profile: carries out the command it is
 * handed, then dies before it answers, as under kill -9 (the profile
 * closed, the connection dropped). */
typedef struct
{
  SottoContext       *context;
  SottoControlServer *server;
  SottoStore         *store;    /* weak: gone with the profile lock */
  guint               served;
} DyingRunner;

static void
on_request_then_die_cb (SottoControlServer  *server,
                        SottoControlRequest *request,
                        DyingRunner         *runner)
{
  g_autoptr (SottoCommand) command = NULL;

  command = sotto_command_new (sotto_control_request_get_argv (request),
                               sotto_control_request_get_cwd (request));
  g_assert_cmpint (sotto_context_execute (runner->context, command), ==, 0);
  runner->served++;

  /* The server goes with its queued request, and the connection with it. */
  g_clear_object (&runner->context);
  g_clear_object (&runner->server);
}

/* A command handed over may have run: when no answer comes, sotto-cli
 * must not run it again itself (a message stored and sent twice, under
 * two ids), but say so. */
static void
test_cli_forward_runs_once (void)
{
  g_autofree char *ivan = init_profile ("ivan", "Ivan");
  g_autofree char *judy = init_profile ("judy", "Judy");
  g_autoptr (CliResult) add = run_cli ("-p", "ivan", "add", judy, NULL);
  g_autoptr (CliResult) send = NULL;
  g_autoptr (CliResult) history = NULL;
  g_autoptr (JsonArray) messages = NULL;
  g_autoptr (GAsyncResult) opened = NULL;
  g_autoptr (GError) error = NULL;
  DyingRunner runner = { 0 };

  g_assert_cmpint (add->status, ==, 0);

  /* This process's settings stay in memory: the children's are dconf's. */
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  runner.context = sotto_context_new ("ivan", NULL, &error);
  g_assert_no_error (error);
  sotto_context_open_async (runner.context, NULL, NULL, sotto_test_result_cb, &opened);
  while (opened == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_unsetenv ("GSETTINGS_BACKEND");
  g_assert_true (sotto_context_open_finish (runner.context, opened, &error));
  g_assert_no_error (error);
  /* The task holds the context: only the runner may. */
  g_clear_object (&opened);
  runner.store = sotto_context_get_store (runner.context);
  g_object_add_weak_pointer (G_OBJECT (runner.store), (gpointer *)&runner.store);
  runner.server = sotto_control_server_new (sotto_context_get_profile_dir (runner.context),
                                            &error);
  g_assert_no_error (error);
  g_signal_connect (runner.server, "request", G_CALLBACK (on_request_then_die_cb), &runner);

  send = run_cli_iterating ("-p", "ivan", "send", "judy", "only once", NULL);
  g_assert_cmpuint (runner.served, ==, 1);
  g_assert_null (runner.context);
  g_assert_cmpint (send->status, ==, 1);
  g_assert_nonnull (strstr (send->err, "sotto-cli history"));

  /* Its last callbacks done, the store closes: the profile is free. */
  while (runner.store != NULL)
    g_main_context_iteration (NULL, TRUE);

  history = run_cli ("-p", "ivan", "history", "judy", "--json", NULL);
  g_assert_cmpint (history->status, ==, 0);
  messages = parse_json_array (history->out);
  g_assert_cmpuint (json_array_get_length (messages), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0),
                                                  "body"), ==, "only once");
}

int
main (int   argc,
      char *argv[])
{
  int status;

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
  g_test_add_func ("/cli/init/keyring", test_cli_init_keyring);
  g_test_add_func ("/cli/init/passphrase", test_cli_init_passphrase);
  g_test_add_func ("/cli/add/both-sides", test_cli_add_both_sides);
  g_test_add_func ("/cli/add/bad-invite", test_cli_add_bad_invite);
  g_test_add_func ("/cli/send-history", test_cli_send_history);
  g_test_add_func ("/cli/contact/ambiguous", test_cli_contact_ambiguous);
  g_test_add_func ("/cli/retry", test_cli_retry);
  g_test_add_func ("/cli/damaged", test_cli_damaged);
  g_test_add_func ("/cli/block-verify-remove", test_cli_block_verify_remove);
  g_test_add_func ("/cli/profile-in-use", test_cli_profile_in_use);
  g_test_add_func ("/cli/profile-held-briefly", test_cli_profile_held_briefly);
  g_test_add_func ("/cli/check-link", test_cli_check_link);
  g_test_add_func ("/cli/no-profile", test_cli_no_profile);
  g_test_add_func ("/cli/profile-dir/unreadable", test_cli_profile_dir_unreadable);
  g_test_add_func ("/cli/passphrase-file/folder", test_cli_passphrase_file_folder);
  g_test_add_func ("/cli/search/invalid-utf8", test_cli_search_invalid_utf8);
  g_test_add_func ("/cli/run/connect-quoted", test_cli_run_connect_quoted);
  g_test_add_func ("/cli/search-purge", test_cli_search_purge);
  g_test_add_func ("/cli/protect", test_cli_protect);
  g_test_add_func ("/cli/protect/forwarded", test_cli_protect_forwarded);
  g_test_add_func ("/cli/forward/runs-once", test_cli_forward_runs_once);

  sotto_test_keyring_start ();
  status = g_test_run ();
  sotto_test_keyring_stop ();

  return status;
}
