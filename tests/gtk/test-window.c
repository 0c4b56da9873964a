/* test-window.c — the main window inside a running SottoApplication
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gtk/gtk.h>

#include "sotto-application.h"
#include "sotto-core.h"
#include "sotto-gtk-test-util.h"
#include "sotto-nearby-dialog.h"
#include "sotto-nearby-row.h"
#include "sotto-profile.h"
#include "sotto-store-banner.h"
#include "sotto-store-private.h"
#include "sotto-test-util.h"
#include "sotto-window.h"

typedef void (*WindowCheck) (SottoWindow *window,
                             GSettings   *settings);

typedef struct
{
  WindowCheck check;
  gboolean    checked;
} RunData;

static GtkWidget *
template_child (SottoWindow *window,
                const char  *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (window), SOTTO_TYPE_WINDOW, name);

  g_assert_nonnull (child);
  return GTK_WIDGET (child);
}

static gboolean
check_window_cb (gpointer user_data)
{
  GApplication *app = G_APPLICATION (user_data);
  RunData *data = g_object_get_data (G_OBJECT (app), "run-data");
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  g_autoptr (GSettings) settings = g_settings_new (SCHEMA_ID);

  g_assert_true (SOTTO_IS_WINDOW (window));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));
  data->check (SOTTO_WINDOW (window), settings);
  data->checked = TRUE;

  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);

  return G_SOURCE_REMOVE;
}

static gboolean
wait_for_window_cb (gpointer user_data)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (user_data));

  /* The profile opens asynchronously; the main window follows. */
  if (!SOTTO_IS_WINDOW (window))
    return G_SOURCE_CONTINUE;
  check_window_cb (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_activate_cb (GApplication *app)
{
  g_timeout_add (20, wait_for_window_cb, app);
}

/* The main window shows an open profile: one is made for each test,
 * with its key in the test's own keyring, so the app opens it unasked. */
static void
ensure_profile (const char *profile)
{
  g_autofree char *dir = sotto_profile_default_dir (profile);
  g_autoptr (GError) error = NULL;
  SottoStore *store;

  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    return;
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  store = sotto_test_create_store (dir, "Tester", SOTTO_KEY_PROTECTION_KEYRING, NULL, &error);
  g_assert_no_error (error);
  sotto_test_close_store (&store);
}

static void
run_app_with (const char  *profile,
              WindowCheck  check)
{
  g_autoptr (SottoApplication) app = sotto_application_new ();
  RunData data = { check, FALSE };
  char *argv[] = { (char *)"sotto", (char *)"--profile", (char *)profile, NULL };
  int status;

  ensure_profile (profile);

  g_object_set_data (G_OBJECT (app), "run-data", &data);
  g_signal_connect_after (app, "activate", G_CALLBACK (on_activate_cb), NULL);

  status = g_application_run (G_APPLICATION (app), 3, argv);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (data.checked);
}

static void
check_default_profile (SottoWindow *window,
                       GSettings   *settings)
{
  GtkWidget *subtitle = template_child (window, "subtitle_label");

  g_assert_cmpstr (sotto_context_get_profile (sotto_window_get_context (window)), ==, "default");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Contacts");
  g_assert_false (gtk_widget_get_visible (subtitle));
}

static void
test_window_default_profile (void)
{
  run_app_with ("default", check_default_profile);
}

static void
check_named_profile (SottoWindow *window,
                     GSettings   *settings)
{
  GtkWidget *subtitle = template_child (window, "subtitle_label");
  GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (window)));

  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Contacts — gtktest");
  g_assert_true (gtk_widget_get_visible (subtitle));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (subtitle)), ==, "Profile “gtktest”");
  g_assert_cmpstr (g_application_get_application_id (app),
                   ==, APPLICATION_ID ".Profile_gtktest");
}

static void
test_window_named_profile (void)
{
  run_app_with ("gtktest", check_named_profile);
}

static void
check_size_restored (SottoWindow *window,
                     GSettings   *settings)
{
  int width, height;

  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 480);
  g_assert_cmpint (height, ==, 700);

  /* The user resizes; closing the window remembers the new size. */
  gtk_window_set_default_size (GTK_WINDOW (window), 520, 640);
}

/* The window's size is the profile's: another profile keeps its own. */
static void
test_window_size_remembered (void)
{
  g_autofree char *path = sotto_profile_settings_path ("sizes", NULL);
  g_autofree char *other_path = sotto_profile_settings_path ("default", NULL);
  g_autoptr (GSettings) settings = g_settings_new_with_path (SCHEMA_ID ".Profile", path);
  g_autoptr (GSettings) other = g_settings_new_with_path (SCHEMA_ID ".Profile", other_path);

  g_settings_set_int (settings, "window-width", 480);
  g_settings_set_int (settings, "window-height", 700);
  g_settings_set_boolean (settings, "window-maximized", FALSE);
  g_settings_set_int (other, "window-width", 333);
  g_settings_set_int (other, "window-height", 444);

  run_app_with ("sizes", check_size_restored);

  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 520);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 640);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));
  g_assert_cmpint (g_settings_get_int (other, "window-width"), ==, 333);
  g_assert_cmpint (g_settings_get_int (other, "window-height"), ==, 444);
}

static void
check_menu_actions (SottoWindow *window,
                    GSettings   *settings)
{
  GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (window)));
  GtkWidget *menu_button = template_child (window, "primary_menu_button");
  g_auto (GStrv) quit_accels = NULL;
  g_auto (GStrv) shortcuts_accels = NULL;
  GtkShortcutsWindow *shortcuts;

  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "about"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "quit"));
  quit_accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "app.quit");
  g_assert_cmpstr (quit_accels[0], ==, "<Control>q");

  /* The shortcuts window is built the first time it is asked for, with
   * the keys GTK gives its own, and then kept. */
  g_assert_null (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)));
  shortcuts_accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                            "win.show-help-overlay");
  g_assert_cmpstr (shortcuts_accels[0], ==, "<Control>F1");
  g_assert_cmpstr (shortcuts_accels[1], ==, "<Control>question");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL));
  shortcuts = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window));
  g_assert_nonnull (shortcuts);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (shortcuts)));
  /* GTK's shortcuts window has no title of its own: without one, screen
   * readers announce "GtkShortcutsWindow". */
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (shortcuts)), ==, "Keyboard Shortcuts");
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (shortcuts)) == GTK_WINDOW (window));
  gtk_window_close (GTK_WINDOW (shortcuts));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (shortcuts)));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL));
  g_assert_true (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window)) ==
                 shortcuts);
  gtk_window_close (GTK_WINDOW (shortcuts));

  g_assert_nonnull (gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (menu_button)));
}

static void
test_window_menu_actions (void)
{
  run_app_with ("menus", check_menu_actions);
}

static GtkWidget *
find_store_banner (GtkWidget *root)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = SOTTO_IS_STORE_BANNER (child) ? child : find_store_banner (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
banner_shown (GtkWidget *banner)
{
  GtkWidget *revealer = gtk_widget_get_first_child (banner);

  return gtk_revealer_get_reveal_child (GTK_REVEALER (revealer));
}

/* A write that fails (SQLite's limit on the database's size gives the
 * same SQLITE_FULL as a full disk) shows the banner with the reason; the
 * first write that works again hides it, without the user doing anything. */
static void
check_disk_full_banner (SottoWindow *window,
                        GSettings   *settings)
{
  SottoContext *context = sotto_window_get_context (window);
  GtkWidget *banner = find_store_banner (GTK_WIDGET (window));
  g_autoptr (GError) error = NULL;
  g_autofree char *shot = NULL;
  SottoStore *store;

  /* The window shows while the profile is still opening. */
  SOTTO_TEST_WAIT_FOR (sotto_context_get_store (context) != NULL);
  store = sotto_context_get_store (context);
  g_assert_nonnull (banner);
  g_assert_false (banner_shown (banner));

  _sotto_store_set_write_retry_ms (store, 100);
  sotto_test_store_exec (store, "PRAGMA max_page_count = 1", &error);
  g_assert_no_error (error);
  sotto_test_store_exec (store,
                         "INSERT INTO id_counters (name, next) VALUES ('big', zeroblob (1000000))",
                         &error);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_STORE);
  g_clear_error (&error);

  g_assert_true (banner_shown (banner));
  g_assert_nonnull (sotto_gtk_test_find_label (banner,
                                               "Sotto can’t save to this computer: The disk is "
                                               "full. Colleagues’ messages wait on "
                                               "their computers until there is space again, and "
                                               "yours can’t be sent. Sotto keeps trying by "
                                               "itself."));
  sotto_gtk_test_wait_frames (GTK_WIDGET (window), 30);
  shot = sotto_gtk_test_save_screenshot (GTK_WIDGET (window), "disk-full");

  sotto_test_store_exec (store, "PRAGMA max_page_count = 1000000", &error);
  g_assert_no_error (error);
  SOTTO_TEST_WAIT_FOR (sotto_store_get_write_error (store) == NULL);
  g_assert_false (banner_shown (banner));
}

static void
test_window_disk_full_banner (void)
{
  run_app_with ("full", check_disk_full_banner);
}

/* The rows of @list that are SottoNearbyRows. */
static guint
count_nearby_rows (GtkWidget    *list,
                   GtkWidget   **out_first)
{
  guint n = 0;

  *out_first = NULL;
  for (GtkWidget *row = gtk_widget_get_first_child (list); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (SOTTO_IS_NEARBY_ROW (row))
      {
        if (*out_first == NULL)
          *out_first = row;
        n++;
      }
  return n;
}

static SottoNearbyDialog *
find_nearby_dialog (GtkWindow *parent)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (SOTTO_IS_NEARBY_DIALOG (window) && gtk_window_get_transient_for (window) == parent)
        return SOTTO_NEARBY_DIALOG (window);
    }
  return NULL;
}

/* Strangers LAN discovery sees are listed above the contacts, until they
 * become one; contacts seen nearby are not. There is no Avahi service in
 * the tests: the services are put where discovery keeps what it resolves. */
static void
check_nearby (SottoWindow *window,
              GSettings   *settings)
{
  SottoContext *context = sotto_window_get_context (window);
  GtkStack *content = GTK_STACK (template_child (window, "content_stack"));
  GtkRevealer *revealer = GTK_REVEALER (template_child (window, "nearby_revealer"));
  GtkWidget *list = template_child (window, "nearby_list");
  const char *addresses[] = { "127.0.0.1:1", NULL };
  g_autoptr (SottoNearby) stranger = sotto_nearby_new ("615372108248558", "Bob Example");
  g_autoptr (SottoNearby) contact = sotto_nearby_new ("123451234512345", "Carol");
  g_autofree char *shot = NULL;
  SottoNearbyDialog *dialog;
  SottoDiscovery *discovery;
  GListModel *services;
  GtkWidget *row;
  GtkWidget *add;

  SOTTO_TEST_WAIT_FOR (!g_str_equal (gtk_stack_get_visible_child_name (content), "opening"));
  discovery = sotto_context_get_discovery (context);
  g_assert_nonnull (discovery);
  SOTTO_TEST_WAIT_FOR (sotto_discovery_get_state (discovery) != SOTTO_DISCOVERY_STATE_STARTING);
  g_assert_cmpint (sotto_discovery_get_state (discovery), ==, SOTTO_DISCOVERY_STATE_UNAVAILABLE);
  services = sotto_discovery_get_services (discovery);
  g_assert_true (G_IS_LIST_STORE (services));
  g_assert_false (gtk_revealer_get_reveal_child (revealer));

  sotto_nearby_set_name (stranger, "Bob Example");
  sotto_nearby_set_addresses (stranger, addresses);
  sotto_nearby_set_addresses (contact, addresses);
  sotto_nearby_set_contact_id (contact, 42);
  g_list_store_append (G_LIST_STORE (services), contact);
  g_list_store_append (G_LIST_STORE (services), stranger);
  sotto_gtk_test_flush ();

  g_assert_true (gtk_revealer_get_reveal_child (revealer));
  g_assert_cmpuint (count_nearby_rows (list, &row), ==, 1);
  g_assert_true (sotto_nearby_row_get_nearby (SOTTO_NEARBY_ROW (row)) == stranger);
  add = GTK_WIDGET (gtk_widget_get_template_child (row, SOTTO_TYPE_NEARBY_ROW, "add_button"));
  g_assert_true (gtk_widget_is_sensitive (add));
  sotto_gtk_test_wait_frames (GTK_WIDGET (window), 30);
  shot = sotto_gtk_test_save_screenshot (GTK_WIDGET (window), "window-nearby");

  /* No new contacts allowed: Add says so. */
  g_settings_set_boolean (settings, "allow-adding-contacts", FALSE);
  sotto_gtk_test_flush ();
  g_assert_false (gtk_widget_is_sensitive (add));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (add), ==,
                   "Adding contacts is turned off in the preferences");
  g_settings_reset (settings, "allow-adding-contacts");
  sotto_gtk_test_flush ();
  g_assert_true (gtk_widget_is_sensitive (add));

  /* Add… opens the dialog that looks at the key first. */
  sotto_gtk_test_click (add);
  dialog = find_nearby_dialog (GTK_WINDOW (window));
  g_assert_nonnull (dialog);
  g_assert_true (sotto_nearby_dialog_get_nearby (dialog) == stranger);
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* Added (here or through sotto-cli): no longer a stranger. And back. */
  sotto_nearby_set_contact_id (stranger, 43);
  sotto_gtk_test_flush ();
  g_assert_cmpuint (count_nearby_rows (list, &row), ==, 0);
  g_assert_false (gtk_revealer_get_reveal_child (revealer));
  sotto_nearby_set_contact_id (contact, 0);
  sotto_gtk_test_flush ();
  g_assert_cmpuint (count_nearby_rows (list, &row), ==, 1);
  g_assert_true (sotto_nearby_row_get_nearby (SOTTO_NEARBY_ROW (row)) == contact);
  g_assert_true (gtk_revealer_get_reveal_child (revealer));

  /* Gone from the network. */
  g_list_store_remove_all (G_LIST_STORE (services));
  sotto_gtk_test_flush ();
  g_assert_cmpuint (count_nearby_rows (list, &row), ==, 0);
  g_assert_false (gtk_revealer_get_reveal_child (revealer));
}

static void
test_window_nearby (void)
{
  run_app_with ("nearby", check_nearby);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *data_home = NULL;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_printerr ("No display: run the GUI tests through build-aux/sotto-dev test (Xvfb)\n");
      return 1;
    }

  /* Not G_TEST_OPTION_ISOLATE_DIRS: GTK needs the system's XDG_DATA_DIRS
   * (MIME database, icon themes); build-aux/sotto-dev already gives the run
   * a throw-away HOME. Settings stay in memory, so runs can't interfere. */
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);

  /* Profiles of their own: one left from elsewhere would have its key in
   * another keyring. */
  data_home = g_dir_make_tmp ("sotto-test-window-XXXXXX", NULL);
  g_assert_nonnull (data_home);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);

  /* These checks compare untranslated strings. */
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_unsetenv ("LANGUAGE");

  /* The test's own bus (for the keyring) has no accessibility bus. */
  g_setenv ("GTK_A11Y", "none", TRUE);

  g_test_init (&argc, &argv, NULL);
  {
    /* GTestDBus unsets DISPLAY, so that nothing autolaunches on X. */
    g_autofree char *display = g_strdup (g_getenv ("DISPLAY"));

    sotto_test_keyring_start ();
    if (display != NULL)
      g_setenv ("DISPLAY", display, TRUE);
  }

  g_test_add_func ("/window/profile/default", test_window_default_profile);
  g_test_add_func ("/window/profile/named", test_window_named_profile);
  g_test_add_func ("/window/state/size-remembered", test_window_size_remembered);
  g_test_add_func ("/window/menu/actions", test_window_menu_actions);
  g_test_add_func ("/window/banner/disk-full", test_window_disk_full_banner);
  g_test_add_func ("/window/nearby", test_window_nearby);

  {
    int status = g_test_run ();

    sotto_test_keyring_stop ();
    sotto_test_rm_rf (data_home);
    return status;
  }
}
