/* test-autostart.c — the XDG autostart entry behind "Start at login"
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>

#include "sotto-core.h"

static GKeyFile *
load_autostart_entry (const char *profile)
{
  g_autofree char *path = sotto_autostart_dup_path (profile);
  g_autoptr (GKeyFile) entry = g_key_file_new ();
  g_autoptr (GError) error = NULL;

  g_key_file_load_from_file (entry, path, G_KEY_FILE_KEEP_TRANSLATIONS, &error);
  g_assert_no_error (error);

  return g_steal_pointer (&entry);
}

static void
install_desktop_entry (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "applications", NULL);
  g_autofree char *path = g_build_filename (dir, APPLICATION_ID ".desktop", NULL);
  g_autoptr (GError) error = NULL;
  static const char entry[] =
    "[Desktop Entry]\n"
    "Name=Sotto\n"
    "Name[de]=Sotto (de)\n"
    "Comment=Private instant messaging\n"
    "Exec=sotto\n"
    "TryExec=sotto\n"
    "Icon=" APPLICATION_ID "\n"
    "Terminal=false\n"
    "Type=Application\n"
    "NoDisplay=true\n"
    "Categories=Network;InstantMessaging;\n";

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, entry, -1, &error);
  g_assert_no_error (error);
}

static void
test_autostart_path (void)
{
  g_autofree char *path = sotto_autostart_dup_path (NULL);
  g_autofree char *expected = g_build_filename (g_get_user_config_dir (), "autostart",
                                                APPLICATION_ID ".desktop", NULL);

  g_assert_cmpstr (path, ==, expected);
}

/* Each profile has its own entry: turning one on or off leaves the other
 * as it was. */
static void
test_autostart_per_profile (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *work = sotto_autostart_dup_path ("work");
  g_autofree char *home = sotto_autostart_dup_path (NULL);
  g_autofree char *exec = NULL;
  g_autoptr (GKeyFile) entry = NULL;

  g_assert_cmpstr (work, !=, home);
  g_assert_true (g_str_has_suffix (work, APPLICATION_ID ".Profile_work.desktop"));

  g_assert_true (sotto_autostart_set (TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sotto_autostart_set (TRUE, "work", &error));
  g_assert_no_error (error);
  g_assert_true (sotto_autostart_is_enabled (NULL));
  g_assert_true (sotto_autostart_is_enabled ("work"));
  entry = load_autostart_entry (NULL);
  exec = g_key_file_get_string (entry, G_KEY_FILE_DESKTOP_GROUP, "Exec", NULL);
  g_assert_cmpstr (exec, ==, "sotto --profile " SOTTO_PROFILE_DEFAULT);

  g_assert_true (sotto_autostart_set (FALSE, "work", &error));
  g_assert_no_error (error);
  g_assert_false (sotto_autostart_is_enabled ("work"));
  g_assert_true (sotto_autostart_is_enabled (NULL));

  g_assert_true (sotto_autostart_set (FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (sotto_autostart_is_enabled (NULL));
}

static void
test_autostart_copies_installed_entry (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GKeyFile) entry = NULL;
  g_autofree char *exec = NULL;
  g_autofree char *name_de = NULL;
  g_autofree char *comment = NULL;

  install_desktop_entry ();
  g_assert_false (sotto_autostart_is_enabled ("work"));

  g_assert_true (sotto_autostart_set (TRUE, "work", &error));
  g_assert_no_error (error);
  g_assert_true (sotto_autostart_is_enabled ("work"));

  entry = load_autostart_entry ("work");
  exec = g_key_file_get_string (entry, G_KEY_FILE_DESKTOP_GROUP, "Exec", NULL);
  g_assert_cmpstr (exec, ==, "sotto --profile work");
  /* The session shows it as the installed entry: translations and all. */
  name_de = g_key_file_get_locale_string (entry, G_KEY_FILE_DESKTOP_GROUP, "Name", "de", NULL);
  g_assert_cmpstr (name_de, ==, "Sotto (de)");
  comment = g_key_file_get_string (entry, G_KEY_FILE_DESKTOP_GROUP, "Comment", NULL);
  g_assert_cmpstr (comment, ==, "Private instant messaging");
  /* An entry hidden from menus must still start. */
  g_assert_false (g_key_file_has_key (entry, G_KEY_FILE_DESKTOP_GROUP, "NoDisplay", NULL));
  g_assert_false (g_key_file_has_key (entry, G_KEY_FILE_DESKTOP_GROUP, "TryExec", NULL));
  g_assert_true (g_key_file_get_boolean (entry, G_KEY_FILE_DESKTOP_GROUP,
                                         "X-GNOME-Autostart-enabled", NULL));
}

static void
test_autostart_without_installed_entry (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GKeyFile) entry = NULL;
  g_autofree char *exec = NULL;
  g_autofree char *name = NULL;
  g_autofree char *type = NULL;

  /* Running from the build tree: nothing installed to copy. */
  g_assert_true (sotto_autostart_set (TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sotto_autostart_is_enabled (NULL));

  entry = load_autostart_entry (NULL);
  exec = g_key_file_get_string (entry, G_KEY_FILE_DESKTOP_GROUP, "Exec", NULL);
  g_assert_cmpstr (exec, ==, "sotto --profile " SOTTO_PROFILE_DEFAULT);

  /* Still a complete application entry. */
  name = g_key_file_get_string (entry, G_KEY_FILE_DESKTOP_GROUP, "Name", NULL);
  g_assert_cmpstr (name, ==, "Sotto");
  type = g_key_file_get_string (entry, G_KEY_FILE_DESKTOP_GROUP, "Type", NULL);
  g_assert_cmpstr (type, ==, "Application");
  g_assert_true (g_key_file_has_key (entry, G_KEY_FILE_DESKTOP_GROUP, "Icon", NULL));
  g_assert_true (g_key_file_get_boolean (entry, G_KEY_FILE_DESKTOP_GROUP,
                                         "X-GNOME-Autostart-enabled", NULL));
}

static void
test_autostart_disable (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sotto_autostart_dup_path (NULL);

  /* Nothing there yet: removing is no error. */
  g_assert_true (sotto_autostart_set (FALSE, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (sotto_autostart_set (TRUE, "default", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  g_assert_true (sotto_autostart_set (FALSE, "default", &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (sotto_autostart_is_enabled (NULL));
}

/* The user switched it off in the session's own settings. */
static void
test_autostart_disabled_by_session (void)
{
  g_autofree char *path = sotto_autostart_dup_path (NULL);
  g_autoptr (GKeyFile) entry = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_autostart_set (TRUE, "default", &error));
  g_assert_no_error (error);

  entry = load_autostart_entry (NULL);
  g_key_file_set_boolean (entry, G_KEY_FILE_DESKTOP_GROUP, "X-GNOME-Autostart-enabled", FALSE);
  g_key_file_save_to_file (entry, path, &error);
  g_assert_no_error (error);
  g_assert_false (sotto_autostart_is_enabled (NULL));

  g_key_file_remove_key (entry, G_KEY_FILE_DESKTOP_GROUP, "X-GNOME-Autostart-enabled", NULL);
  g_key_file_set_boolean (entry, G_KEY_FILE_DESKTOP_GROUP, "Hidden", TRUE);
  g_key_file_save_to_file (entry, path, &error);
  g_assert_no_error (error);
  g_assert_false (sotto_autostart_is_enabled (NULL));

  /* Enabling again writes a fresh entry. */
  g_assert_true (sotto_autostart_set (TRUE, "default", &error));
  g_assert_no_error (error);
  g_assert_true (sotto_autostart_is_enabled (NULL));
}

static void
test_autostart_bad_profile (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sotto_autostart_dup_path (NULL);

  /* It would end up in Exec: nothing that needs quoting gets through. */
  g_assert_false (sotto_autostart_set (TRUE, "x; rm -rf ~", &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_autostart_unwritable (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "autostart", NULL);

  /* A file where the folder should be. */
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_config_dir (), 0700), ==, 0);
  g_file_set_contents (dir, "", 0, &error);
  g_assert_no_error (error);

  g_assert_false (sotto_autostart_set (TRUE, "default", &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_FILE_ERROR);
  g_assert_false (sotto_autostart_is_enabled (NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/autostart/path", test_autostart_path);
  g_test_add_func ("/autostart/enable/copies-installed-entry",
                   test_autostart_copies_installed_entry);
  g_test_add_func ("/autostart/enable/without-installed-entry",
                   test_autostart_without_installed_entry);
  g_test_add_func ("/autostart/disable", test_autostart_disable);
  g_test_add_func ("/autostart/per-profile", test_autostart_per_profile);
  g_test_add_func ("/autostart/disabled-by-session", test_autostart_disabled_by_session);
  g_test_add_func ("/autostart/bad-profile", test_autostart_bad_profile);
  g_test_add_func ("/autostart/unwritable", test_autostart_unwritable);

  return g_test_run ();
}
