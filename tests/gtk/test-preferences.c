/* test-preferences.c — SottoPreferencesWindow: every control bound to its
 * key both ways, and keys locked by an administrator shown as such, with a
 * real dconf lock as well as one that comes and goes while the window is up
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "sotto-autostart.h"
#include "sotto-gtk-test-util.h"
#include "sotto-preferences-window.h"
#include "sotto-profile.h"
#include "sotto-test-util.h"

#define FINGERPRINT "61537 21082 48558 42141 97358 07623"
#define ADMIN_HINT  "Set by your administrator"

/* The keys with a switch, and the switch's name in the template. */
static const struct {
  const char *key;
  const char *child;
} switches[] = {
  { "start-at-login", "start_at_login_switch" },
  { "send-typing", "send_typing_switch" },
  { "send-read-receipts", "send_read_receipts_switch" },
  { "allow-contact-requests", "allow_requests_switch" },
  { "history-enabled", "history_switch" },
  { "file-transfer-enabled", "file_transfer_switch" },
  { "discovery-enabled", "discovery_switch" },
  { "discovery-publish-name", "publish_name_switch" },
};

static GtkWidget *
child (SottoPreferencesWindow *window,
       const char             *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (window),
                                                   SOTTO_TYPE_PREFERENCES_WINDOW, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

/* The administrator hint in the row of @control, whether shown or not:
 * gtk_widget_is_visible() tells which. */
static GtkWidget *
admin_hint_for (SottoPreferencesWindow *window,
                const char             *control)
{
  GtkWidget *row = gtk_widget_get_ancestor (child (window, control), GTK_TYPE_LIST_BOX_ROW);
  GtkWidget *label;

  g_assert_nonnull (row);
  label = sotto_gtk_test_find_label (row, ADMIN_HINT);
  g_assert_nonnull (label);

  return label;
}

/* The profile's own settings, beside @settings and in the same backend. */
static GSettings *
profile_settings_for (GSettings *settings)
{
  g_autoptr (GSettingsBackend) backend = NULL;
  g_autofree char *path = sotto_profile_settings_path ("gtktest", NULL);

  g_object_get (settings, "backend", &backend, NULL);
  return g_settings_new_with_backend_and_path (SCHEMA_ID ".Profile", backend, path);
}

/* Where the window keeps @key: the profile's keys are the profile's. */
static GSettings *
owner_of (GSettings  *settings,
          const char *key)
{
  static GSettings *profile;

  if (g_str_equal (key, "start-at-login") || g_str_equal (key, "listen-port"))
    {
      g_clear_object (&profile);
      profile = profile_settings_for (settings);
      return profile;
    }
  return settings;
}

static SottoPreferencesWindow *
show_window (GSettings *settings,
             gboolean   passphrase_protected)
{
  g_autoptr (GSettings) profile = profile_settings_for (settings);
  SottoPreferencesWindow *window;

  window = sotto_preferences_window_new (NULL, settings, profile, "gtktest", "Ann Example",
                                         FINGERPRINT, passphrase_protected);
  gtk_window_present (GTK_WINDOW (window));
  sotto_gtk_test_wait_frames (GTK_WIDGET (window), 2);

  return window;
}

static void
reset_keys (GSettings *settings)
{
  g_autoptr (GSettingsSchema) schema = NULL;
  g_auto (GStrv) keys = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    g_settings_reset (settings, keys[i]);
}

static void
reset_settings (GSettings *settings)
{
  g_autoptr (GSettings) profile = profile_settings_for (settings);

  reset_keys (settings);
  reset_keys (profile);
  sotto_gtk_test_flush ();
}

static void
test_preferences_switches (void)
{
  g_autoptr (GSettings) settings = g_settings_new (SCHEMA_ID);
  SottoPreferencesWindow *window;

  reset_settings (settings);
  window = show_window (settings, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (switches); i++)
    {
      GtkSwitch *toggle = GTK_SWITCH (child (window, switches[i].child));
      GSettings *owner = owner_of (settings, switches[i].key);
      gboolean initial = g_settings_get_boolean (owner, switches[i].key);

      g_test_message ("%s", switches[i].key);
      g_assert_cmpint (gtk_switch_get_active (toggle), ==, initial);
      g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (toggle)));
      g_assert_false (gtk_widget_is_visible (admin_hint_for (window, switches[i].child)));

      /* The user flips the switch: the key follows. */
      gtk_switch_set_active (toggle, !initial);
      sotto_gtk_test_flush ();
      g_assert_cmpint (g_settings_get_boolean (owner, switches[i].key), ==, !initial);

      /* Someone else changes the key: the switch follows. */
      g_settings_set_boolean (owner, switches[i].key, initial);
      sotto_gtk_test_flush ();
      g_assert_cmpint (gtk_switch_get_active (toggle), ==, initial);
    }

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_preferences_spin_buttons (void)
{
  g_autoptr (GSettings) settings = g_settings_new (SCHEMA_ID);
  g_autoptr (GSettings) profile = profile_settings_for (settings);
  SottoPreferencesWindow *window;
  GtkSpinButton *retention;
  GtkSpinButton *port;

  reset_settings (settings);
  /* The profile's own port, as chosen when it first went online. */
  g_settings_set_int (profile, "listen-port", 47301);
  window = show_window (settings, FALSE);
  retention = GTK_SPIN_BUTTON (child (window, "retention_spin"));
  port = GTK_SPIN_BUTTON (child (window, "listen_port_spin"));

  g_assert_cmpint (gtk_spin_button_get_value_as_int (retention), ==, 0);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (port), ==, 47301);
  /* 0 means something: the row says what. */
  g_assert_nonnull (sotto_gtk_test_find_label (gtk_widget_get_ancestor (GTK_WIDGET (retention),
                                                                        GTK_TYPE_LIST_BOX_ROW),
                                               "0 days keeps them for ever"));

  gtk_spin_button_set_value (retention, 30);
  gtk_spin_button_set_value (port, 50123);
  sotto_gtk_test_flush ();
  g_assert_cmpuint (g_settings_get_uint (settings, "history-retention-days"), ==, 30);
  g_assert_cmpint (g_settings_get_int (profile, "listen-port"), ==, 50123);
  /* The first port, which other profiles start from, stays. */
  g_assert_cmpint (g_settings_get_int (settings, "listen-port"), ==, 47300);

  g_settings_set_uint (settings, "history-retention-days", 90);
  g_settings_set_int (profile, "listen-port", 1024);
  sotto_gtk_test_flush ();
  g_assert_cmpint (gtk_spin_button_get_value_as_int (retention), ==, 90);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (port), ==, 1024);

  /* The schema's ranges are the spin buttons' ranges. */
  gtk_spin_button_set_value (port, 70000);
  sotto_gtk_test_flush ();
  g_assert_cmpint (g_settings_get_int (profile, "listen-port"), ==, 65535);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
assert_notification_choice (SottoPreferencesWindow *window,
                            const char             *chosen)
{
  g_assert_cmpint (gtk_check_button_get_active (GTK_CHECK_BUTTON (child (window,
                                                                         "notify_message_check"))),
                   ==, g_str_equal (chosen, "notify_message_check"));
  g_assert_cmpint (gtk_check_button_get_active (GTK_CHECK_BUTTON (child (window,
                                                                         "notify_sender_check"))),
                   ==, g_str_equal (chosen, "notify_sender_check"));
  g_assert_cmpint (gtk_check_button_get_active (GTK_CHECK_BUTTON (child (window,
                                                                         "notify_nothing_check"))),
                   ==, g_str_equal (chosen, "notify_nothing_check"));
}

static void
test_preferences_radio_group (void)
{
  g_autoptr (GSettings) settings = g_settings_new (SCHEMA_ID);
  g_autofree char *value = NULL;
  SottoPreferencesWindow *window;

  reset_settings (settings);
  window = show_window (settings, FALSE);

  assert_notification_choice (window, "notify_message_check");
  g_assert_false (gtk_widget_is_visible (admin_hint_for (window, "notify_sender_check")));

  gtk_widget_activate (child (window, "notify_sender_check"));
  sotto_gtk_test_flush ();
  value = g_settings_get_string (settings, "notification-content");
  g_assert_cmpstr (value, ==, "sender-only");
  assert_notification_choice (window, "notify_sender_check");

  gtk_widget_activate (child (window, "notify_nothing_check"));
  sotto_gtk_test_flush ();
  g_assert_cmpint (g_settings_get_enum (settings, "notification-content"), ==, 2);
  assert_notification_choice (window, "notify_nothing_check");

  g_settings_set_string (settings, "notification-content", "sender-and-message");
  sotto_gtk_test_flush ();
  assert_notification_choice (window, "notify_message_check");

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_preferences_start_at_login (void)
{
  g_autoptr (GSettings) settings = g_settings_new (SCHEMA_ID);
  g_autoptr (GKeyFile) entry = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = sotto_autostart_dup_path ("gtktest");
  g_autofree char *exec = NULL;
  SottoPreferencesWindow *window;
  GtkSwitch *toggle;

  reset_settings (settings);
  window = show_window (settings, FALSE);
  toggle = GTK_SWITCH (child (window, "start_at_login_switch"));
  g_assert_false (sotto_autostart_is_enabled ("gtktest"));

  gtk_switch_set_active (toggle, TRUE);
  sotto_gtk_test_flush ();
  g_assert_true (sotto_autostart_is_enabled ("gtktest"));
  g_key_file_load_from_file (entry, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  exec = g_key_file_get_string (entry, G_KEY_FILE_DESKTOP_GROUP, "Exec", NULL);
  g_assert_cmpstr (exec, ==, "sotto --profile gtktest");

  gtk_switch_set_active (toggle, FALSE);
  sotto_gtk_test_flush ();
  g_assert_false (sotto_autostart_is_enabled ("gtktest"));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_preferences_start_at_login_error (void)
{
  g_autoptr (GSettings) settings = g_settings_new (SCHEMA_ID);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "autostart", NULL);
  SottoPreferencesWindow *window;
  GtkWidget *dialog;

  reset_settings (settings);
  window = show_window (settings, FALSE);

  /* A file where the autostart folder should be. */
  sotto_test_rm_rf (dir);
  g_file_set_contents (dir, "", 0, &error);
  g_assert_no_error (error);

  gtk_switch_set_active (GTK_SWITCH (child (window, "start_at_login_switch")), TRUE);
  sotto_gtk_test_flush ();

  dialog = sotto_gtk_test_find_dialog (GTK_WINDOW (window));
  g_assert_nonnull (dialog);
  g_assert_nonnull (sotto_gtk_test_find_label (
    dialog, "Sotto could not add itself to the programs started at login"));
  /* The switch says what will happen at the next login: nothing. */
  g_assert_false (g_settings_get_boolean (owner_of (settings, "start-at-login"),
                                          "start-at-login"));
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (child (window, "start_at_login_switch"))));

  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_CLOSE);
  g_assert_cmpint (g_unlink (dir), ==, 0);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
on_display_name_changed_cb (SottoPreferencesWindow  *window,
                            const char              *name,
                            char                   **out)
{
  g_free (*out);
  *out = g_strdup (name);
}

/* What pressing Enter in the entry does. */
static void
press_enter (GtkWidget *entry)
{
  g_signal_emit_by_name (gtk_editable_get_delegate (GTK_EDITABLE (entry)), "activate");
}

static void
test_preferences_display_name (void)
{
  g_autoptr (GSettings) settings = g_settings_new (SCHEMA_ID);
  g_autofree char *changed = NULL;
  SottoPreferencesWindow *window;
  GtkWidget *entry;

  window = show_window (settings, FALSE);
  entry = child (window, "display_name_entry");
  g_signal_connect (window, "display-name-changed",
                    G_CALLBACK (on_display_name_changed_cb), &changed);

  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "Ann Example");

  /* Nothing changed: nothing to store. */
  press_enter (entry);
  g_assert_null (changed);

  /* Normalized as the core would, before anyone sees it. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "  Ann Beispiel ");
  press_enter (entry);
  g_assert_cmpstr (changed, ==, "Ann Beispiel");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "Ann Beispiel");
  g_assert_cmpstr (sotto_preferences_window_get_display_name (window), ==, "Ann Beispiel");
  g_clear_pointer (&changed, g_free);

  /* A name the core refuses is not passed on, and the entry says so. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "Ann\tTab");
  press_enter (entry);
  g_assert_null (changed);
  g_assert_true (gtk_widget_has_css_class (entry, "error"));
  g_assert_nonnull (gtk_widget_get_tooltip_text (entry));

  /* The owner stored a name: shown, without a signal back. */
  sotto_preferences_window_set_display_name (window, "Ann Exemple");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "Ann Exemple");
  g_assert_null (changed);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
count_cb (gpointer  instance,
          guint    *count)
{
  (*count)++;
}

static void
test_preferences_delete_history (void)
{
  g_autoptr (GSettings) settings = g_settings_new (SCHEMA_ID);
  SottoPreferencesWindow *window;
  GtkWidget *dialog;
  guint requested = 0;

  window = show_window (settings, FALSE);
  g_signal_connect (window, "delete-history-requested", G_CALLBACK (count_cb), &requested);

  /* Cancelled: nothing happens. */
  sotto_gtk_test_click (child (window, "delete_history_button"));
  dialog = sotto_gtk_test_find_dialog (GTK_WINDOW (window));
  g_assert_nonnull (dialog);
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (dialog)));
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  sotto_gtk_test_flush ();
  g_assert_cmpuint (requested, ==, 0);
  g_assert_null (sotto_gtk_test_find_dialog (GTK_WINDOW (window)));

  /* Confirmed: the owner is asked to delete. */
  sotto_gtk_test_click (child (window, "delete_history_button"));
  dialog = sotto_gtk_test_find_dialog (GTK_WINDOW (window));
  g_assert_nonnull (dialog);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  sotto_gtk_test_flush ();
  g_assert_cmpuint (requested, ==, 1);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_preferences_security (void)
{
  g_autoptr (GSettings) settings = g_settings_new (SCHEMA_ID);
  SottoPreferencesWindow *window;
  GtkLabel *fingerprint;
  GtkLabel *protection;
  GtkButton *button;
  guint requested = 0;

  window = show_window (settings, FALSE);
  g_signal_connect (window, "change-passphrase-requested", G_CALLBACK (count_cb), &requested);
  fingerprint = GTK_LABEL (child (window, "fingerprint_label"));
  protection = GTK_LABEL (child (window, "key_protection_label"));
  button = GTK_BUTTON (child (window, "change_passphrase_button"));

  g_assert_cmpstr (gtk_label_get_label (fingerprint), ==, "61537 21082 48558\n42141 97358 07623");
  g_assert_true (gtk_label_get_selectable (fingerprint));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (fingerprint), "monospace"));

  g_assert_cmpstr (gtk_label_get_label (protection), ==,
                   "Kept in your login keyring, unlocked when you log in");
  g_assert_cmpstr (gtk_button_get_label (button), ==, "_Use a Passphrase…");

  sotto_preferences_window_set_passphrase_protected (window, TRUE);
  g_assert_cmpstr (gtk_label_get_label (protection), ==,
                   "Protected by a passphrase that you type when Sotto starts");
  g_assert_cmpstr (gtk_button_get_label (button), ==, "_Change Passphrase…");

  sotto_gtk_test_click (GTK_WIDGET (button));
  g_assert_cmpuint (requested, ==, 1);

  gtk_window_destroy (GTK_WINDOW (window));
}

/* The Files and Links page: the size in MB both ways (a byte more than a
 * whole MB shows as the next MB), the lists as comma-separated text, the
 * enums as radio buttons, the folder as it resolves. */
static void
test_preferences_files_and_links (void)
{
  g_autoptr (GSettings) settings = g_settings_new (SCHEMA_ID);
  g_auto (GStrv) domains = NULL;
  g_auto (GStrv) schemes = NULL;
  g_autofree char *scanner = NULL;
  SottoPreferencesWindow *window;
  GtkSpinButton *size;
  GtkEditable *trusted;
  GtkLabel *folder;

  reset_settings (settings);
  window = show_window (settings, FALSE);
  size = GTK_SPIN_BUTTON (child (window, "file_max_size_spin"));
  trusted = GTK_EDITABLE (child (window, "trusted_domains_entry"));
  folder = GTK_LABEL (child (window, "download_folder_label"));

  /* The default, 4294967296 bytes, is 4,295 MB rounded up. */
  g_assert_cmpint (gtk_spin_button_get_value_as_int (size), ==, 4295);
  gtk_spin_button_set_value (size, 25);
  sotto_gtk_test_flush ();
  g_assert_cmpuint (g_settings_get_uint64 (settings, "file-max-size"), ==, 25000000);
  g_settings_set_uint64 (settings, "file-max-size", 1000001);
  sotto_gtk_test_flush ();
  g_assert_cmpint (gtk_spin_button_get_value_as_int (size), ==, 2);

  gtk_editable_set_text (trusted, " intranet.example.com,, wiki.example.org ");
  sotto_gtk_test_flush ();
  domains = g_settings_get_strv (settings, "link-trusted-domains");
  g_assert_cmpuint (g_strv_length (domains), ==, 2);
  g_assert_cmpstr (domains[0], ==, "intranet.example.com");
  g_assert_cmpstr (domains[1], ==, "wiki.example.org");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (window, "link_schemes_entry"))),
                   ==, "http, https, mailto");
  gtk_editable_set_text (GTK_EDITABLE (child (window, "link_schemes_entry")), "https");
  sotto_gtk_test_flush ();
  schemes = g_settings_get_strv (settings, "link-schemes");
  g_assert_cmpuint (g_strv_length (schemes), ==, 1);

  gtk_editable_set_text (GTK_EDITABLE (child (window, "scan_command_entry")), "clamscan %f");
  sotto_gtk_test_flush ();
  scanner = g_settings_get_string (settings, "scan-command");
  g_assert_cmpstr (scanner, ==, "clamscan %f");

  gtk_widget_activate (child (window, "infected_keep_check"));
  gtk_widget_activate (child (window, "link_never_check"));
  sotto_gtk_test_flush ();
  g_assert_cmpint (g_settings_get_enum (settings, "infected-files"), ==, 1);
  g_assert_cmpint (g_settings_get_enum (settings, "link-open"), ==, 1);

  g_assert_cmpstr (gtk_label_get_label (folder), ==, "Sotto");
  g_settings_set_string (settings, "download-folder", "/srv/incoming");
  sotto_gtk_test_flush ();
  g_assert_cmpstr (gtk_label_get_label (folder), ==, "incoming");

  gtk_window_destroy (GTK_WINDOW (window));
  reset_settings (settings);
}

/* Every page, as a person sees it. */
static void
test_preferences_screenshots (void)
{
  static const char *pages[] = { "general", "privacy", "history", "files", "network",
                                 "security" };
  g_autoptr (GSettings) settings = g_settings_new (SCHEMA_ID);
  SottoPreferencesWindow *window;
  GtkStack *stack;
  int width, height;

  reset_settings (settings);
  window = show_window (settings, TRUE);
  stack = GTK_STACK (child (window, "stack"));

  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 560);
  g_assert_cmpint (height, ==, 520);
  g_assert_false (gtk_window_get_modal (GTK_WINDOW (window)));

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autofree char *name = g_strconcat ("preferences-", pages[i], NULL);
      g_autofree char *path = NULL;

      gtk_stack_set_visible_child_name (stack, pages[i]);
      sotto_gtk_test_wait_frames (GTK_WIDGET (window), 3);
      path = sotto_gtk_test_save_screenshot (GTK_WIDGET (window), name);
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
    }

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_preferences_lock_live (void)
{
  g_autoptr (TestLockBackend) backend = sotto_gtk_test_lock_backend_new ();
  g_autoptr (GSettings) settings = g_settings_new_with_backend (SCHEMA_ID,
                                                                G_SETTINGS_BACKEND (backend));
  g_autoptr (GSettings) profile = profile_settings_for (settings);
  SottoPreferencesWindow *window;
  GtkWidget *port;
  GtkWidget *sender_only;
  GtkWidget *nothing;

  g_settings_set_int (profile, "listen-port", 47305);
  window = show_window (settings, FALSE);
  port = child (window, "listen_port_spin");
  sender_only = child (window, "notify_sender_check");
  nothing = child (window, "notify_nothing_check");
  g_assert_true (gtk_widget_get_sensitive (port));
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (port)), ==, 47305);
  g_assert_false (gtk_widget_is_visible (admin_hint_for (window, "listen_port_spin")));
  g_assert_true (gtk_widget_get_sensitive (nothing));
  g_assert_false (gtk_widget_is_visible (admin_hint_for (window, "notify_nothing_check")));

  /* The administrator pushes a port and a notification policy. */
  sotto_gtk_test_admin_lock (backend, "listen-port", g_variant_new_int32 (443));
  sotto_gtk_test_admin_lock (backend, "notification-content", g_variant_new_string ("sender-only"));

  g_assert_false (gtk_widget_get_sensitive (port));
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (port)), ==, 443);
  g_assert_true (gtk_widget_is_visible (admin_hint_for (window, "listen_port_spin")));

  g_assert_false (gtk_widget_get_sensitive (nothing));
  g_assert_false (gtk_widget_get_sensitive (sender_only));
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (sender_only)));
  g_assert_true (gtk_widget_is_visible (admin_hint_for (window, "notify_nothing_check")));
  /* One hint per key, not one per radio button. */
  g_assert_true (admin_hint_for (window, "notify_nothing_check") ==
                 admin_hint_for (window, "notify_message_check"));

  /* Others stay the user's. */
  g_assert_true (gtk_widget_get_sensitive (child (window, "send_typing_switch")));
  g_assert_false (gtk_widget_is_visible (admin_hint_for (window, "send_typing_switch")));

  /* Unlocked again: the user's to change. */
  sotto_gtk_test_admin_lock (backend, "listen-port", NULL);
  sotto_gtk_test_admin_lock (backend, "notification-content", NULL);
  g_assert_true (gtk_widget_get_sensitive (port));
  /* The profile's own port again, untouched by the lock. */
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (port)), ==, 47305);
  g_assert_false (gtk_widget_is_visible (admin_hint_for (window, "listen_port_spin")));
  g_assert_true (gtk_widget_get_sensitive (nothing));
  g_assert_false (gtk_widget_is_visible (admin_hint_for (window, "notify_nothing_check")));

  gtk_widget_activate (nothing);
  sotto_gtk_test_flush ();
  g_assert_cmpint (g_settings_get_enum (settings, "notification-content"), ==, 2);

  gtk_window_destroy (GTK_WINDOW (window));
  sotto_gtk_test_flush ();
}

/* Every key of the Files and Links page, locked: greyed out, saying who
 * set it; the folder button too. */
static void
test_preferences_files_locked (void)
{
  static const struct {
    const char *key;
    const char *child;
  } controls[] = {
    { "file-transfer-enabled", "file_transfer_switch" },
    { "file-max-size", "file_max_size_spin" },
    { "download-folder", "download_folder_button" },
    { "infected-files", "infected_keep_check" },
    { "scan-command", "scan_command_entry" },
    { "link-open", "link_never_check" },
    { "link-trusted-domains", "trusted_domains_entry" },
    { "link-schemes", "link_schemes_entry" },
  };
  g_autoptr (TestLockBackend) backend = sotto_gtk_test_lock_backend_new ();
  g_autoptr (GSettings) settings = g_settings_new_with_backend (SCHEMA_ID,
                                                                G_SETTINGS_BACKEND (backend));
  SottoPreferencesWindow *window = show_window (settings, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (controls); i++)
    {
      GtkWidget *control = child (window, controls[i].child);
      g_autoptr (GVariant) value = g_settings_get_value (settings, controls[i].key);

      g_test_message ("%s", controls[i].key);
      g_assert_true (gtk_widget_get_sensitive (control));
      g_assert_false (gtk_widget_is_visible (admin_hint_for (window, controls[i].child)));
      sotto_gtk_test_admin_lock (backend, controls[i].key, value);
      g_assert_false (gtk_widget_get_sensitive (control));
      g_assert_true (gtk_widget_is_visible (admin_hint_for (window, controls[i].child)));
    }

  /* The Security page lists every locked key, also one with no control
   * of its own, with its value. */
  {
    const char *networks[] = { "10.20.0.0/16", NULL };
    GtkWidget *list = child (window, "managed_list");
    guint rows = 0;

    sotto_gtk_test_admin_lock (backend, "allowed-networks", g_variant_new_strv (networks, -1));
    g_assert_true (gtk_widget_get_visible (child (window, "managed_frame")));
    for (GtkWidget *row = gtk_widget_get_first_child (list); row != NULL;
         row = gtk_widget_get_next_sibling (row))
      rows++;
    g_assert_cmpuint (rows, ==, G_N_ELEMENTS (controls) + 1);
    g_assert_nonnull (sotto_gtk_test_find_label (list, "Networks colleagues may connect from "
                                                       "and be reached on"));
    g_assert_nonnull (sotto_gtk_test_find_label (list, "10.20.0.0/16"));
  }

  gtk_window_destroy (GTK_WINDOW (window));
  sotto_gtk_test_flush ();
}

/* Every switch, locked and unlocked while the window is up: greyed out
 * and saying who set it, then the user's again. */
static void
test_preferences_switches_locked (void)
{
  g_autoptr (TestLockBackend) backend = sotto_gtk_test_lock_backend_new ();
  g_autoptr (GSettings) settings = g_settings_new_with_backend (SCHEMA_ID,
                                                                G_SETTINGS_BACKEND (backend));
  SottoPreferencesWindow *window = show_window (settings, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (switches); i++)
    {
      GtkWidget *toggle = child (window, switches[i].child);
      g_autoptr (GVariant) value = g_settings_get_value (settings, switches[i].key);

      g_test_message ("%s", switches[i].key);
      g_assert_true (gtk_widget_get_sensitive (toggle));
      g_assert_false (gtk_widget_is_visible (admin_hint_for (window, switches[i].child)));

      sotto_gtk_test_admin_lock (backend, switches[i].key, value);
      g_assert_false (gtk_widget_get_sensitive (toggle));
      g_assert_true (gtk_widget_is_visible (admin_hint_for (window, switches[i].child)));

      sotto_gtk_test_admin_lock (backend, switches[i].key, NULL);
      g_assert_true (gtk_widget_get_sensitive (toggle));
      g_assert_false (gtk_widget_is_visible (admin_hint_for (window, switches[i].child)));
    }

  gtk_window_destroy (GTK_WINDOW (window));
  sotto_gtk_test_flush ();
}

static SottoDiscoveryState
wait_for_discovery (SottoDiscovery *discovery)
{
  SOTTO_TEST_WAIT_FOR (sotto_discovery_get_state (discovery) != SOTTO_DISCOVERY_STATE_STARTING);
  sotto_gtk_test_flush ();
  return sotto_discovery_get_state (discovery);
}

/* LAN discovery on the Network page: the name is published only while
 * discovery is on, and the page says what discovery is doing, in the
 * core's words, as it changes. The tests run without an Avahi service
 * (and without a system bus), which is what the page then says. */
static void
test_preferences_discovery (void)
{
  g_autoptr (TestLockBackend) backend = sotto_gtk_test_lock_backend_new ();
  g_autoptr (GSettings) settings = g_settings_new_with_backend (SCHEMA_ID,
                                                                G_SETTINGS_BACKEND (backend));
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autofree char *screenshot = NULL;
  SottoDiscovery *discovery;
  SottoPreferencesWindow *window;
  SottoStore *store;
  GtkWidget *enabled;
  GtkWidget *publish;
  GtkWidget *status_row;
  GtkLabel *status;

  store = sotto_test_create_store (dir, "Ann Example", SOTTO_KEY_PROTECTION_PASSPHRASE,
                                   "correct horse", &error);
  g_assert_no_error (error);
  discovery = sotto_discovery_new (store, settings);

  window = show_window (settings, FALSE);
  enabled = child (window, "discovery_switch");
  publish = child (window, "publish_name_switch");
  status_row = child (window, "discovery_status_row");
  status = GTK_LABEL (child (window, "discovery_status_label"));

  /* The defaults: looking, without the name. */
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (enabled)));
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (publish)));
  g_assert_true (gtk_widget_is_sensitive (publish));

  /* Nothing is published while discovery is off. */
  gtk_switch_set_active (GTK_SWITCH (enabled), FALSE);
  sotto_gtk_test_flush ();
  g_assert_false (g_settings_get_boolean (settings, "discovery-enabled"));
  g_assert_false (gtk_widget_is_sensitive (publish));
  g_settings_set_boolean (settings, "discovery-enabled", TRUE);
  sotto_gtk_test_flush ();
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (enabled)));
  g_assert_true (gtk_widget_is_sensitive (publish));

  /* No discovery (no profile open): no status. */
  g_assert_false (gtk_widget_get_visible (status_row));

  sotto_preferences_window_set_discovery (window, discovery);
  g_assert_true (gtk_widget_get_visible (status_row));
  g_assert_cmpstr (gtk_label_get_label (status), ==, "LAN discovery is off");

  sotto_discovery_start (discovery);
  g_assert_cmpint (wait_for_discovery (discovery), ==, SOTTO_DISCOVERY_STATE_UNAVAILABLE);
  g_assert_cmpstr (gtk_label_get_label (status), ==,
                   "LAN discovery unavailable: the Avahi service is not running");
  gtk_stack_set_visible_child_name (GTK_STACK (child (window, "stack")), "network");
  sotto_gtk_test_wait_frames (GTK_WIDGET (window), 3);
  screenshot = sotto_gtk_test_save_screenshot (GTK_WIDGET (window), "preferences-discovery");

  /* The user turns it off, then the administrator does. */
  gtk_switch_set_active (GTK_SWITCH (enabled), FALSE);
  sotto_gtk_test_flush ();
  g_assert_cmpint (sotto_discovery_get_state (discovery), ==, SOTTO_DISCOVERY_STATE_OFF);
  g_assert_cmpstr (gtk_label_get_label (status), ==, "LAN discovery is off");
  sotto_gtk_test_admin_lock (backend, "discovery-enabled", g_variant_new_boolean (FALSE));
  g_assert_cmpstr (gtk_label_get_label (status), ==,
                   "LAN discovery is turned off by your administrator");
  g_assert_false (gtk_widget_get_sensitive (enabled));
  g_assert_true (gtk_widget_is_visible (admin_hint_for (window, "discovery_switch")));
  g_assert_false (gtk_widget_is_sensitive (publish));

  /* Unlocked, and on again. */
  sotto_gtk_test_admin_lock (backend, "discovery-enabled", NULL);
  g_assert_cmpstr (gtk_label_get_label (status), ==, "LAN discovery is off");
  gtk_switch_set_active (GTK_SWITCH (enabled), TRUE);
  sotto_gtk_test_flush ();
  g_assert_cmpint (wait_for_discovery (discovery), ==, SOTTO_DISCOVERY_STATE_UNAVAILABLE);
  g_assert_cmpstr (gtk_label_get_label (status), ==,
                   "LAN discovery unavailable: the Avahi service is not running");

  /* The window lets go of it. */
  sotto_preferences_window_set_discovery (window, NULL);
  g_assert_false (gtk_widget_get_visible (status_row));

  gtk_window_destroy (GTK_WINDOW (window));
  sotto_gtk_test_flush ();
  sotto_discovery_stop (discovery);
  g_assert_finalize_object (discovery);
  sotto_test_close_store (&store);
  sotto_test_rm_rf (dir);
}

/* --------------------------------------------------------------------------
 * A real dconf lock, as an administrator makes one (see README.md): a
 * system database compiled by `dconf compile`, named in a dconf profile.
 * -------------------------------------------------------------------------- */

static void
test_preferences_dconf_lock_subprocess (void)
{
  g_autoptr (GSettings) settings = g_settings_new (SCHEMA_ID);
  g_autoptr (GSettingsBackend) backend = NULL;
  g_autofree char *screenshot = NULL;
  SottoPreferencesWindow *window;
  GtkWidget *typing;

  /* Really through dconf, not a fallback to memory. */
  g_object_get (settings, "backend", &backend, NULL);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (backend), ==, "DConfSettingsBackend");
  g_assert_false (g_settings_is_writable (settings, "send-typing"));
  g_assert_false (g_settings_get_boolean (settings, "send-typing"));
  g_assert_true (g_settings_is_writable (settings, "send-read-receipts"));

  window = show_window (settings, TRUE);
  typing = child (window, "send_typing_switch");

  g_assert_false (gtk_widget_get_sensitive (typing));
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (typing)));
  g_assert_true (gtk_widget_is_visible (admin_hint_for (window, "send_typing_switch")));
  g_assert_true (gtk_widget_get_sensitive (child (window, "send_read_receipts_switch")));
  g_assert_false (gtk_widget_is_visible (admin_hint_for (window, "send_read_receipts_switch")));
  g_assert_false (gtk_widget_is_visible (admin_hint_for (window, "history_switch")));

  gtk_stack_set_visible_child_name (GTK_STACK (child (window, "stack")), "privacy");
  sotto_gtk_test_wait_frames (GTK_WIDGET (window), 3);
  g_assert_true (gtk_widget_is_visible (admin_hint_for (window, "send_typing_switch")));
  g_assert_true (gtk_widget_get_mapped (admin_hint_for (window, "send_typing_switch")));
  screenshot = sotto_gtk_test_save_screenshot (GTK_WIDGET (window), "preferences");

  /* The user can't get round it through the widget. */
  gtk_switch_set_active (GTK_SWITCH (typing), TRUE);
  sotto_gtk_test_flush ();
  g_assert_false (g_settings_get_boolean (settings, "send-typing"));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
write_file (const char *dir,
            const char *name,
            const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
test_preferences_dconf_lock (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *work = g_dir_make_tmp ("sotto-dconf-XXXXXX", &error);
  g_autofree char *keyfiles = NULL;
  g_autofree char *locks = NULL;
  g_autofree char *database = NULL;
  g_autofree char *profile = NULL;
  g_autofree char *profile_text = NULL;
  g_autofree char *dconf_stderr = NULL;
  g_autofree char *saved_profile = g_strdup (g_getenv ("DCONF_PROFILE"));
  g_autofree char *saved_backend = g_strdup (g_getenv ("GSETTINGS_BACKEND"));
  int status = -1;
  const char *argv[] = { "dconf", "compile", NULL, NULL, NULL };

  g_assert_no_error (error);
  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    {
      g_test_skip ("No D-Bus session for dconf: run through build-aux/sotto-dev test");
      return;
    }

  keyfiles = g_build_filename (work, "locked.d", NULL);
  locks = g_build_filename (keyfiles, "locks", NULL);
  database = g_build_filename (work, "locked.db", NULL);
  profile = g_build_filename (work, "profile", NULL);
  g_assert_cmpint (g_mkdir_with_parents (locks, 0700), ==, 0);

  write_file (keyfiles, "00-sotto", "[im/sotto/Sotto]\nsend-typing=false\n");
  write_file (locks, "sotto", "/im/sotto/Sotto/send-typing\n");
  profile_text = g_strdup_printf ("user-db:user\nfile-db:%s\n", database);
  write_file (work, "profile", profile_text);

  argv[2] = database;
  argv[3] = keyfiles;
  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &dconf_stderr, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("dconf compile failed: %s\n%s", error->message, dconf_stderr);

  /* The backend is chosen once per process: a fresh one reads the lock. */
  g_setenv ("DCONF_PROFILE", profile, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "dconf", TRUE);
  g_test_trap_subprocess ("/preferences/admin-lock/dconf/subprocess", 60 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);

  if (saved_profile != NULL)
    g_setenv ("DCONF_PROFILE", saved_profile, TRUE);
  else
    g_unsetenv ("DCONF_PROFILE");
  if (saved_backend != NULL)
    g_setenv ("GSETTINGS_BACKEND", saved_backend, TRUE);
  else
    g_unsetenv ("GSETTINGS_BACKEND");
  sotto_test_rm_rf (work);

  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  int status;

  sotto_gtk_test_init (&argc, &argv);

  g_test_add_func ("/preferences/bind/switches", test_preferences_switches);
  g_test_add_func ("/preferences/bind/spin-buttons", test_preferences_spin_buttons);
  g_test_add_func ("/preferences/bind/radio-group", test_preferences_radio_group);
  g_test_add_func ("/preferences/files-and-links", test_preferences_files_and_links);
  g_test_add_func ("/preferences/admin-lock/files-and-links", test_preferences_files_locked);
  g_test_add_func ("/preferences/admin-lock/switches", test_preferences_switches_locked);
  g_test_add_func ("/preferences/discovery", test_preferences_discovery);
  g_test_add_func ("/preferences/start-at-login/autostart", test_preferences_start_at_login);
  g_test_add_func ("/preferences/start-at-login/error", test_preferences_start_at_login_error);
  g_test_add_func ("/preferences/display-name", test_preferences_display_name);
  g_test_add_func ("/preferences/delete-history", test_preferences_delete_history);
  g_test_add_func ("/preferences/security", test_preferences_security);
  g_test_add_func ("/preferences/admin-lock/live", test_preferences_lock_live);
  g_test_add_func ("/preferences/admin-lock/dconf", test_preferences_dconf_lock);
  g_test_add_func ("/preferences/admin-lock/dconf/subprocess",
                   test_preferences_dconf_lock_subprocess);
  g_test_add_func ("/preferences/screenshots", test_preferences_screenshots);

  status = g_test_run ();
  sotto_gtk_test_cleanup ();

  return status;
}
