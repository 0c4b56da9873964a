/* test-profiles.c — profiles side by side: their own settings and ports
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Real profiles (stores created through SottoContext) in the test's own
 * XDG directories, GSettings in memory, and real listening sockets on
 * ports below 32768.
 */
#include "config.h"

#include <unistd.h>

#include "sotto-core.h"
#include "sotto-test-util.h"

#define PASSPHRASE "correct horse battery staple"

/* A first port nothing else uses during the test, below the range the
 * kernel hands out to outgoing connections. */
static guint
pick_first_port (void)
{
  for (guint i = 0; i < 1000; i++)
    {
      guint port = 20000 + (guint)g_random_int_range (0, 12000);
      gboolean free = TRUE;

      for (guint j = 0; j < 4 && free; j++)
        {
          g_autoptr (GSocketListener) probe = g_socket_listener_new ();

          free = g_socket_listener_add_inet_port (probe, (guint16)(port + j), NULL, NULL);
          g_socket_listener_close (probe);
        }
      if (free)
        return port;
    }
  g_assert_not_reached ();
}

static void
set_first_port (guint port)
{
  g_autoptr (GSettings) settings = g_settings_new (SCHEMA_ID);

  g_settings_set_int (settings, "listen-port", (int)port);
}

static SottoContext *
create_profile (const char *name,
                const char *dir)
{
  g_autoptr (SottoContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  context = sotto_context_new (name, dir, &error);
  g_assert_no_error (error);
  g_assert_true (sotto_context_ensure_profile_dir (context, &error));
  g_assert_no_error (error);
  sotto_context_create_async (context, name, SOTTO_KEY_PROTECTION_PASSPHRASE, PASSPHRASE, NULL,
                              sotto_test_result_cb, &result);
  g_assert_true (sotto_context_create_finish (context, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
  return g_steal_pointer (&context);
}

static SottoContext *
open_profile (const char *name)
{
  g_autoptr (SottoContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  context = sotto_context_new (name, NULL, &error);
  g_assert_no_error (error);
  sotto_context_open_async (context, PASSPHRASE, NULL, sotto_test_result_cb, &result);
  sotto_context_open_finish (context, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  return g_steal_pointer (&context);
}

/* Stopped and gone, its store closed and its lock released. */
static void
close_profile (SottoContext **context)
{
  guint tick = sotto_test_tick_start ();

  sotto_context_stop (*context);
  /* What the stopped sessions still had under way lets go. */
  sotto_test_spin (100);
  g_source_remove (tick);
  g_assert_finalize_object (g_steal_pointer (context));
}

/* Gone, and so are their settings: the next test starts afresh. */
static void
remove_profiles (void)
{
  g_autofree char *data = g_build_filename (g_get_user_data_dir (), "sotto", NULL);
  const char *names[] = { SOTTO_PROFILE_DEFAULT, "work" };

  sotto_test_rm_rf (data);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = sotto_profile_settings_path (names[i], NULL);
      g_autoptr (GSettings) settings = g_settings_new_with_path (SCHEMA_ID ".Profile", path);

      g_settings_reset (settings, "listen-port");
      g_settings_reset (settings, "start-at-login");
    }
}

/* Two profiles with default settings: the first takes the first port, the
 * second the next, also when the first is not running as it is created;
 * both listen at once, and each keeps its port. */
static void
test_profiles_own_ports (void)
{
  g_autoptr (SottoContext) home = NULL;
  g_autoptr (SottoContext) work = NULL;
  g_autoptr (GError) error = NULL;
  guint first = pick_first_port ();

  set_first_port (first);

  home = create_profile (SOTTO_PROFILE_DEFAULT, NULL);
  g_assert_cmpuint (sotto_context_get_listen_port (home), ==, first);
  close_profile (&home);

  work = create_profile ("work", NULL);
  g_assert_cmpuint (sotto_context_get_listen_port (work), ==, first + 1);

  home = open_profile (SOTTO_PROFILE_DEFAULT);
  g_assert_cmpuint (sotto_context_get_listen_port (home), ==, first);
  /* Not offered either: the port of another profile, running or not. */
  g_assert_cmpuint (sotto_context_suggest_listen_port (home, &error), ==, first + 2);
  g_assert_no_error (error);

  g_assert_true (sotto_context_start (home, &error));
  g_assert_no_error (error);
  g_assert_true (sotto_context_start (work, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sotto_peer_service_get_port (sotto_context_get_peer_service (home)), ==, first);
  g_assert_cmpuint (sotto_peer_service_get_port (sotto_context_get_peer_service (work)), ==,
                    first + 1);
  g_assert_null (sotto_peer_service_get_listen_error (sotto_context_get_peer_service (work)));

  close_profile (&work);
  work = open_profile ("work");
  g_assert_cmpuint (sotto_context_get_listen_port (work), ==, first + 1);

  close_profile (&work);
  close_profile (&home);
  remove_profiles ();
}

/* A port another program holds when the profile first runs is passed over;
 * one the user gave the profile is kept, taken or not. */
static void
test_profiles_port_taken_at_creation (void)
{
  g_autoptr (SottoContext) home = NULL;
  g_autoptr (GSocketListener) squatter = g_socket_listener_new ();
  g_autoptr (GError) error = NULL;
  guint first = pick_first_port ();

  set_first_port (first);
  g_assert_true (g_socket_listener_add_inet_port (squatter, (guint16)first, NULL, &error));
  g_assert_no_error (error);

  home = create_profile (SOTTO_PROFILE_DEFAULT, NULL);
  g_assert_cmpuint (sotto_context_get_listen_port (home), ==, first + 1);

  /* The user moves it onto the taken port: it stays the profile's, and
   * the peer service says it can't listen there. */
  g_assert_true (sotto_context_change_listen_port (home, first, &error));
  g_assert_no_error (error);
  g_assert_false (sotto_context_start (home, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_clear_error (&error);
  g_assert_true (sotto_context_is_running (home));
  g_assert_cmpuint (sotto_context_get_listen_port (home), ==, first);
  g_assert_nonnull (sotto_peer_service_get_listen_error (sotto_context_get_peer_service (home)));

  /* The port offered instead: the next free one up. */
  g_assert_cmpuint (sotto_context_suggest_listen_port (home, &error), ==, first + 1);
  g_assert_no_error (error);

  /* Moved again while running: it listens there at once. */
  g_assert_true (sotto_context_change_listen_port (home, first + 2, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sotto_peer_service_get_port (sotto_context_get_peer_service (home)), ==,
                    first + 2);
  g_assert_null (sotto_peer_service_get_listen_error (sotto_context_get_peer_service (home)));

  /* Past the limits. */
  g_assert_false (sotto_context_change_listen_port (home, 0, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (sotto_context_change_listen_port (home, 65536, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpuint (sotto_context_get_listen_port (home), ==, first + 2);

  g_socket_listener_close (squatter);
  close_profile (&home);
  remove_profiles ();
}

/* Profiles in folders of their own (--profile-dir) never share settings,
 * even under one name. */
static void
test_profiles_dir_settings (void)
{
  g_autofree char *a = sotto_test_make_profile_dir ();
  g_autofree char *b = sotto_test_make_profile_dir ();
  g_autofree char *path_a = sotto_profile_settings_path (SOTTO_PROFILE_DEFAULT, a);
  g_autofree char *path_b = sotto_profile_settings_path (SOTTO_PROFILE_DEFAULT, b);
  g_autofree char *path_default = sotto_profile_settings_path (SOTTO_PROFILE_DEFAULT, NULL);
  g_autofree char *default_dir = sotto_profile_default_dir (SOTTO_PROFILE_DEFAULT);
  g_autofree char *path_default_dir = sotto_profile_settings_path (SOTTO_PROFILE_DEFAULT,
                                                                   default_dir);

  g_assert_cmpstr (path_default, ==, "/im/sotto/Sotto/profiles/default/");
  g_assert_cmpstr (path_default_dir, ==, path_default);
  g_assert_cmpstr (path_a, !=, path_b);
  g_assert_cmpstr (path_a, !=, path_default);
  g_assert_true (g_str_has_prefix (path_a, SOTTO_PROFILE_SETTINGS_BASE "dir-"));
  g_assert_true (g_str_has_suffix (path_a, "/"));

  sotto_test_rm_rf (a);
  sotto_test_rm_rf (b);
}

/* Start at login is each profile's own: turning it on for one leaves the
 * other's entry alone. */
static void
test_profiles_start_at_login (void)
{
  g_autoptr (SottoContext) home = NULL;
  g_autoptr (SottoContext) work = NULL;
  g_autoptr (GError) error = NULL;

  set_first_port (pick_first_port ());
  home = create_profile (SOTTO_PROFILE_DEFAULT, NULL);
  work = create_profile ("work", NULL);

  g_settings_set_boolean (sotto_context_get_profile_settings (home), "start-at-login", TRUE);
  g_assert_true (sotto_context_apply_start_at_login (home, &error));
  g_assert_no_error (error);
  g_assert_true (sotto_context_apply_start_at_login (work, &error));
  g_assert_no_error (error);
  g_assert_true (sotto_autostart_is_enabled (SOTTO_PROFILE_DEFAULT));
  g_assert_false (sotto_autostart_is_enabled ("work"));

  g_settings_set_boolean (sotto_context_get_profile_settings (work), "start-at-login", TRUE);
  g_assert_true (sotto_context_apply_start_at_login (work, &error));
  g_assert_true (sotto_autostart_is_enabled (SOTTO_PROFILE_DEFAULT));
  g_assert_true (sotto_autostart_is_enabled ("work"));

  g_settings_set_boolean (sotto_context_get_profile_settings (home), "start-at-login", FALSE);
  g_assert_true (sotto_context_apply_start_at_login (home, &error));
  g_assert_false (sotto_autostart_is_enabled (SOTTO_PROFILE_DEFAULT));
  g_assert_true (sotto_autostart_is_enabled ("work"));

  g_settings_set_boolean (sotto_context_get_profile_settings (work), "start-at-login", FALSE);
  g_assert_true (sotto_context_apply_start_at_login (work, &error));
  close_profile (&work);
  close_profile (&home);
  remove_profiles ();
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/profiles/own-ports", test_profiles_own_ports);
  g_test_add_func ("/profiles/port-taken-at-creation", test_profiles_port_taken_at_creation);
  g_test_add_func ("/profiles/dir-settings", test_profiles_dir_settings);
  g_test_add_func ("/profiles/start-at-login", test_profiles_start_at_login);

  return g_test_run ();
}
