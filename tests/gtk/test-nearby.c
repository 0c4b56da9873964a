/* test-nearby.c — people LAN discovery sees: their row in the buddy list
 * (the stranger's name as plain text, the fingerprint prefix, Add as the
 * policy allows), and the dialog that adds one, against a real colleague's
 * peer service on loopback: the whole fingerprint first, nothing added
 * until the user confirms, and every failure said in the dialog
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gtk/gtk.h>

#include "sotto-core.h"
#include "sotto-gtk-test-util.h"
#include "sotto-nearby-dialog.h"
#include "sotto-nearby-row.h"
#include "sotto-peer-service.h"
#include "sotto-test-util.h"

#define PASSPHRASE "correct horse battery staple"
/* Alice's key in PROTOCOL.md, "Fingerprints". */
#define ID          "615372108248558"
#define PREFIX      "61537 21082 48558"

/* --------------------------------------------------------------------------
 * The row
 * -------------------------------------------------------------------------- */

static GtkWidget *
row_child (GtkWidget  *row,
           const char *name)
{
  GObject *object = gtk_widget_get_template_child (row, SOTTO_TYPE_NEARBY_ROW, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

/* The row, shown in a list in a window of its own. */
static GtkWidget *
show_row (SottoNearby *nearby)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *list = gtk_list_box_new ();
  GtkWidget *row = sotto_nearby_row_new (nearby);

  /* As in the contact list's window. */
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_window_set_default_size (GTK_WINDOW (window), 300, -1);
  gtk_list_box_append (GTK_LIST_BOX (list), row);
  gtk_window_set_child (GTK_WINDOW (window), list);
  gtk_window_present (GTK_WINDOW (window));
  sotto_gtk_test_wait_frames (window, 2);
  return row;
}

static void
destroy_row (GtkWidget *row)
{
  gtk_window_destroy (GTK_WINDOW (gtk_widget_get_root (row)));
  sotto_gtk_test_flush ();
}

static SottoNearby *
nearby_new (const char *name)
{
  const char *addresses[] = { "192.0.2.7:47300", NULL };
  SottoNearby *nearby = sotto_nearby_new (ID, "Sotto " PREFIX);

  sotto_nearby_set_name (nearby, name);
  sotto_nearby_set_addresses (nearby, addresses);
  return nearby;
}

static void
test_row_name (void)
{
  g_autoptr (SottoNearby) nearby = nearby_new ("Bob Example");
  GtkWidget *row = show_row (nearby);
  GtkLabel *name = GTK_LABEL (row_child (row, "name_label"));
  GtkLabel *fingerprint = GTK_LABEL (row_child (row, "fingerprint_label"));
  GtkWidget *add = row_child (row, "add_button");

  g_assert_cmpstr (gtk_label_get_text (name), ==, "Bob Example");
  /* The digits isolated, so that they stay left to right in any sentence,
   * and never broken over two lines. */
  g_assert_cmpstr (gtk_label_get_text (fingerprint), ==,
                   "Fingerprint starts with \u206661537\u00a021082\u00a048558\u2069");
  g_assert_true (gtk_widget_is_sensitive (add));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (add)), ==, "_Add…");
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (add), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Add Bob Example as a contact");
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Bob Example, nearby, fingerprint starts with " PREFIX);

  /* The service publishes another name: the row follows. */
  sotto_nearby_set_name (nearby, "Bob Beispiel");
  g_assert_cmpstr (gtk_label_get_text (name), ==, "Bob Beispiel");
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (add), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Add Bob Beispiel as a contact");

  destroy_row (row);
}

static void
test_row_no_name (void)
{
  g_autoptr (SottoNearby) nearby = nearby_new (NULL);
  g_autofree char *screenshot = NULL;
  GtkWidget *row = show_row (nearby);
  GtkWidget *add = row_child (row, "add_button");

  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (row_child (row, "name_label"))), ==,
                   "Someone nearby");
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (add), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Add someone nearby as a contact, fingerprint starts "
                                       "with " PREFIX);
  screenshot = sotto_gtk_test_save_screenshot (GTK_WIDGET (gtk_widget_get_root (row)),
                                               "nearby-row-no-name");

  destroy_row (row);
}

/* The name is the stranger's claim: shown as it is, never as markup. */
static void
test_row_markup (void)
{
  g_autoptr (SottoNearby) nearby = nearby_new ("<b>IT Support</b> & <a href=\"x\">Co</a>");
  GtkWidget *row = show_row (nearby);
  GtkLabel *name = GTK_LABEL (row_child (row, "name_label"));

  g_assert_false (gtk_label_get_use_markup (name));
  g_assert_false (gtk_label_get_use_underline (name));
  g_assert_cmpstr (gtk_label_get_text (name), ==, "<b>IT Support</b> & <a href=\"x\">Co</a>");
  g_assert_null (pango_layout_get_attributes (gtk_label_get_layout (name)));
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (row_child (row, "add_button")),
                                       GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Add <b>IT Support</b> & <a href=\"x\">Co</a> as a contact");

  destroy_row (row);
}

static void
on_add_requested_cb (SottoNearbyRow *row,
                     guint          *count)
{
  (*count)++;
}

static void
test_row_add_requested (void)
{
  g_autoptr (SottoNearby) nearby = nearby_new ("Bob Example");
  GtkWidget *row = show_row (nearby);
  guint requested = 0;

  g_signal_connect (row, "add-requested", G_CALLBACK (on_add_requested_cb), &requested);
  sotto_gtk_test_click (row_child (row, "add_button"));
  g_assert_cmpuint (requested, ==, 1);
  g_assert_true (sotto_nearby_row_get_nearby (SOTTO_NEARBY_ROW (row)) == nearby);

  destroy_row (row);
}

/* An administrator allows no new contacts: Add is greyed out and says why,
 * in the policy's words, until the lock goes. */
static void
test_row_add_locked (void)
{
  g_autoptr (TestLockBackend) backend = sotto_gtk_test_lock_backend_new ();
  g_autoptr (GSettings) settings = g_settings_new_with_backend (SCHEMA_ID,
                                                                G_SETTINGS_BACKEND (backend));
  g_autoptr (SottoPolicy) policy = sotto_policy_new (settings);
  g_autoptr (SottoNearby) nearby = nearby_new ("Bob Example");
  g_autoptr (GError) refusal = NULL;
  g_autofree char *screenshot = NULL;
  GtkWidget *row = show_row (nearby);
  GtkWidget *add = row_child (row, "add_button");

  sotto_gtk_test_admin_lock (backend, "allow-adding-contacts", g_variant_new_boolean (FALSE));
  g_assert_false (sotto_policy_may_add_contacts (policy, &refusal));
  sotto_nearby_row_set_add_refusal (SOTTO_NEARBY_ROW (row), refusal->message);

  g_assert_false (gtk_widget_is_sensitive (add));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (add), ==,
                   "Your administrator does not allow adding contacts");
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (add), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                       "Your administrator does not allow adding contacts");
  sotto_gtk_test_wait_frames (GTK_WIDGET (gtk_widget_get_root (row)), 2);
  screenshot = sotto_gtk_test_save_screenshot (GTK_WIDGET (gtk_widget_get_root (row)),
                                               "nearby-row-locked");

  sotto_gtk_test_admin_lock (backend, "allow-adding-contacts", NULL);
  g_settings_set_boolean (settings, "allow-adding-contacts", TRUE);
  g_assert_true (sotto_policy_may_add_contacts (policy, NULL));
  sotto_nearby_row_set_add_refusal (SOTTO_NEARBY_ROW (row), NULL);
  g_assert_true (gtk_widget_is_sensitive (add));
  g_assert_null (gtk_widget_get_tooltip_text (add));

  destroy_row (row);
}

/* --------------------------------------------------------------------------
 * The dialog: our profile (a real context, not started: nothing of ours
 * listens or dials) and a colleague's peer service on loopback.
 * -------------------------------------------------------------------------- */

typedef struct
{
  char             *dir;
  SottoContext     *context;
  char             *colleague_dir;
  SottoStore       *colleague;
  GSettings        *colleague_settings;
  SottoPeerService *colleague_service;
  char             *colleague_address;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoStore *store;
  guint port = sotto_test_low_free_port ();

  fixture->dir = sotto_test_make_profile_dir ();
  store = sotto_test_create_store (fixture->dir, "Ann Example", SOTTO_KEY_PROTECTION_PASSPHRASE,
                                   PASSPHRASE, &error);
  g_assert_no_error (error);
  sotto_test_close_store (&store);
  fixture->context = sotto_context_new ("nearby", fixture->dir, &error);
  g_assert_no_error (error);
  sotto_context_open_async (fixture->context, PASSPHRASE, NULL, sotto_test_result_cb, &result);
  g_assert_true (sotto_context_open_finish (fixture->context, sotto_test_wait (&result), &error));
  g_assert_no_error (error);

  fixture->colleague_dir = sotto_test_make_profile_dir ();
  fixture->colleague = sotto_test_create_store (fixture->colleague_dir, "Bob Example",
                                                SOTTO_KEY_PROTECTION_PASSPHRASE, PASSPHRASE,
                                                &error);
  g_assert_no_error (error);
  fixture->colleague_settings = g_settings_new (SCHEMA_ID);
  fixture->colleague_service = sotto_peer_service_new (fixture->colleague,
                                                       fixture->colleague_settings);
  sotto_peer_service_set_port (fixture->colleague_service, port);
  g_assert_true (sotto_peer_service_start (fixture->colleague_service, &error));
  g_assert_no_error (error);
  fixture->colleague_address = g_strdup_printf ("127.0.0.1:%u", port);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  sotto_gtk_test_flush ();
  g_settings_reset (fixture->colleague_settings, "allow-adding-contacts");
  sotto_peer_service_stop (fixture->colleague_service);
  g_clear_object (&fixture->colleague_service);
  g_clear_object (&fixture->colleague_settings);
  sotto_test_close_store (&fixture->colleague);
  sotto_context_stop (fixture->context);
  g_clear_object (&fixture->context);
  sotto_gtk_test_flush ();
  sotto_test_rm_rf (fixture->colleague_dir);
  sotto_test_rm_rf (fixture->dir);
  g_clear_pointer (&fixture->colleague_dir, g_free);
  g_clear_pointer (&fixture->dir, g_free);
  g_clear_pointer (&fixture->colleague_address, g_free);
}

/* The colleague as discovery would see them: their id, their address. */
static SottoNearby *
colleague_nearby (Fixture    *fixture,
                  const char *id,
                  const char *address)
{
  const char *addresses[] = { address, NULL };
  SottoNearby *nearby = sotto_nearby_new (id, "Bob Example");

  sotto_nearby_set_name (nearby, "Bob Example");
  sotto_nearby_set_addresses (nearby, addresses);
  return nearby;
}

static char *
colleague_id (Fixture *fixture)
{
  return sotto_discovery_id_for_key (
    sotto_identity_get_public_key (sotto_store_get_identity (fixture->colleague)));
}

static GtkWidget *
dialog_child (SottoNearbyDialog *dialog,
              const char        *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                   SOTTO_TYPE_NEARBY_DIALOG, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

static const char *
page_of (SottoNearbyDialog *dialog)
{
  return gtk_stack_get_visible_child_name (GTK_STACK (dialog_child (dialog, "stack")));
}

/* The dialog, shown, once it has looked at the key. */
static SottoNearbyDialog *
show_dialog (Fixture     *fixture,
             SottoNearby *nearby)
{
  SottoNearbyDialog *dialog = sotto_nearby_dialog_new (NULL, fixture->context, nearby);

  /* Kept for the checks after it closes. */
  g_object_ref_sink (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  g_assert_cmpstr (page_of (dialog), ==, "looking");
  g_assert_false (gtk_widget_is_sensitive (dialog_child (dialog, "add_button")));
  SOTTO_TEST_WAIT_FOR (!g_str_equal (page_of (dialog), "looking"));
  sotto_gtk_test_wait_frames (GTK_WIDGET (dialog), 2);
  return dialog;
}

static guint
n_contacts (Fixture *fixture)
{
  return g_list_model_get_n_items (sotto_store_get_contacts (
    sotto_context_get_store (fixture->context)));
}

static void
on_added_cb (SottoNearbyDialog  *dialog,
             SottoContact       *contact,
             SottoContact      **out)
{
  g_set_object (out, contact);
}

static void
test_dialog_add (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *id = colleague_id (fixture);
  g_autoptr (SottoNearby) nearby = colleague_nearby (fixture, id, fixture->colleague_address);
  g_autoptr (SottoContact) added = NULL;
  g_autoptr (SottoNearbyDialog) dialog = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *screenshot = NULL;
  g_auto (GStrv) groups = NULL;
  GtkLabel *shown;

  dialog = show_dialog (fixture, nearby);
  g_signal_connect (dialog, "added", G_CALLBACK (on_added_cb), &added);
  g_assert_cmpstr (page_of (dialog), ==, "compare");

  /* The whole fingerprint, three groups a line as Preferences shows one's
   * own, left to right in any language; and the name they give. */
  fingerprint = sotto_identity_dup_fingerprint (sotto_store_get_identity (fixture->colleague));
  groups = g_strsplit (fingerprint, " ", -1);
  g_assert_cmpuint (g_strv_length (groups), ==, 6);
  shown = GTK_LABEL (dialog_child (dialog, "fingerprint_label"));
  {
    g_autofree char *expected = g_strdup_printf ("%s %s %s\n%s %s %s", groups[0], groups[1],
                                                 groups[2], groups[3], groups[4], groups[5]);

    g_assert_cmpstr (gtk_label_get_text (shown), ==, expected);
  }
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (shown), "monospace"));
  g_assert_cmpint (gtk_widget_get_direction (GTK_WIDGET (shown)), ==, GTK_TEXT_DIR_LTR);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (dialog_child (dialog, "name_label"))), ==,
                   "Calls themselves “Bob Example”");
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (dialog_child (dialog, "instruction_label"))),
                   ==, "Ask Bob Example to open Preferences › Security in their Sotto and read "
                       "you their fingerprint, in person or on a call. Add Bob Example only if "
                       "all six groups match.");
  screenshot = sotto_gtk_test_save_screenshot (GTK_WIDGET (dialog), "nearby-dialog");

  /* Looking added nothing. */
  g_assert_cmpuint (n_contacts (fixture), ==, 0);
  g_assert_true (gtk_widget_is_sensitive (dialog_child (dialog, "add_button")));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (dialog_child (dialog, "add_button"))), ==,
                   "They _Match — Add");

  /* They match: added, with the address that answered, and the dialog goes. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "nearby.add", NULL));
  SOTTO_TEST_WAIT_FOR (added != NULL);
  g_assert_cmpuint (n_contacts (fixture), ==, 1);
  g_assert_cmpmem (sotto_contact_get_public_key (added), SOTTO_KEY_LEN,
                   sotto_identity_get_public_key (sotto_store_get_identity (fixture->colleague)),
                   SOTTO_KEY_LEN);
  g_assert_cmpstr (sotto_contact_get_name (added), ==, "Bob Example");
  g_assert_cmpstr (sotto_contact_get_addresses (added)[0], ==, fixture->colleague_address);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (dialog)));
}

static void
test_dialog_cancel (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *id = colleague_id (fixture);
  g_autoptr (SottoNearby) nearby = colleague_nearby (fixture, id, fixture->colleague_address);
  g_autoptr (SottoNearbyDialog) dialog = show_dialog (fixture, nearby);

  g_assert_cmpstr (page_of (dialog), ==, "compare");
  sotto_gtk_test_click (dialog_child (dialog, "cancel_button"));
  sotto_gtk_test_flush ();
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (dialog)));
  g_assert_cmpuint (n_contacts (fixture), ==, 0);
}

/* Closed while it looks: the look is called off, and nothing is added. */
static void
test_dialog_close_while_looking (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autofree char *id = colleague_id (fixture);
  g_autoptr (SottoNearby) nearby = colleague_nearby (fixture, id, fixture->colleague_address);
  SottoNearbyDialog *dialog = sotto_nearby_dialog_new (NULL, fixture->context, nearby);

  gtk_window_present (GTK_WINDOW (dialog));
  g_assert_cmpstr (page_of (dialog), ==, "looking");
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *)&dialog);
  gtk_window_destroy (GTK_WINDOW (dialog));
  /* The look holds the dialog until it has ended. */
  SOTTO_TEST_WAIT_FOR (dialog == NULL);
  sotto_gtk_test_flush ();
  g_assert_cmpuint (n_contacts (fixture), ==, 0);
}

/* The service published one id, and the key behind it has another: the
 * core refuses, and the dialog says so; nothing can be added. */
static void
test_dialog_wrong_key (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr (SottoNearby) nearby = colleague_nearby (fixture, ID, fixture->colleague_address);
  g_autoptr (SottoNearbyDialog) dialog = show_dialog (fixture, nearby);
  g_autofree char *message = NULL;
  g_autofree char *screenshot = NULL;

  g_assert_cmpstr (page_of (dialog), ==, "failed");
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (dialog_child (dialog, "failure_title_label"))),
                   ==, "Sotto could not check their key");
  message = g_strdup_printf ("The key at %s is not the one this service published (its "
                             "fingerprint does not start with " PREFIX "): it is not who it "
                             "claims to be", fixture->colleague_address);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (dialog_child (dialog, "failure_label"))), ==,
                   message);
  g_assert_false (gtk_widget_get_visible (dialog_child (dialog, "add_button")));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (dialog_child (dialog, "cancel_button"))),
                   ==, "_Close");
  /* Nor through the action, with the button's shortcut, say. */
  gtk_widget_activate_action (GTK_WIDGET (dialog), "nearby.add", NULL);
  sotto_gtk_test_flush ();
  screenshot = sotto_gtk_test_save_screenshot (GTK_WIDGET (dialog), "nearby-dialog-wrong-key");
  g_assert_cmpuint (n_contacts (fixture), ==, 0);

  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* Nobody listens at the address any more. */
static void
test_dialog_no_answer (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *id = colleague_id (fixture);
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", sotto_test_low_free_port ());
  g_autoptr (SottoNearby) nearby = colleague_nearby (fixture, id, address);
  g_autoptr (SottoNearbyDialog) dialog = show_dialog (fixture, nearby);
  GtkWidget *reason = dialog_child (dialog, "failure_reason_label");

  g_assert_cmpstr (page_of (dialog), ==, "failed");
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (dialog_child (dialog, "failure_title_label"))),
                   ==, "Nobody answered");
  /* The socket's own words, under the plain ones. */
  g_assert_true (gtk_widget_get_visible (reason));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (reason)), !=, "");
  g_assert_false (gtk_widget_get_visible (dialog_child (dialog, "add_button")));
  g_assert_cmpuint (n_contacts (fixture), ==, 0);

  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* Adding contacts turned off while the dialog is open: the store refuses,
 * the dialog stays and says why. */
static void
test_dialog_policy (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *id = colleague_id (fixture);
  g_autoptr (SottoNearby) nearby = colleague_nearby (fixture, id, fixture->colleague_address);
  g_autoptr (SottoNearbyDialog) dialog = show_dialog (fixture, nearby);
  GtkWidget *error = dialog_child (dialog, "add_error_label");
  GSettings *settings = sotto_context_get_settings (fixture->context);

  g_assert_cmpstr (page_of (dialog), ==, "compare");
  g_assert_false (gtk_widget_get_visible (error));
  g_settings_set_boolean (settings, "allow-adding-contacts", FALSE);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "nearby.add", NULL));
  SOTTO_TEST_WAIT_FOR (gtk_widget_get_visible (error));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (error)), ==,
                   "Adding contacts is turned off in the preferences");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (dialog)));
  g_assert_cmpuint (n_contacts (fixture), ==, 0);

  g_settings_reset (settings, "allow-adding-contacts");
  gtk_window_destroy (GTK_WINDOW (dialog));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  sotto_gtk_test_init (&argc, &argv);

  g_test_add_func ("/nearby/row/name", test_row_name);
  g_test_add_func ("/nearby/row/no-name", test_row_no_name);
  g_test_add_func ("/nearby/row/markup", test_row_markup);
  g_test_add_func ("/nearby/row/add-requested", test_row_add_requested);
  g_test_add_func ("/nearby/row/add-locked", test_row_add_locked);
  g_test_add ("/nearby/dialog/add", Fixture, NULL, fixture_set_up, test_dialog_add,
              fixture_tear_down);
  g_test_add ("/nearby/dialog/cancel", Fixture, NULL, fixture_set_up, test_dialog_cancel,
              fixture_tear_down);
  g_test_add ("/nearby/dialog/close-while-looking", Fixture, NULL, fixture_set_up,
              test_dialog_close_while_looking, fixture_tear_down);
  g_test_add ("/nearby/dialog/wrong-key", Fixture, NULL, fixture_set_up, test_dialog_wrong_key,
              fixture_tear_down);
  g_test_add ("/nearby/dialog/no-answer", Fixture, NULL, fixture_set_up, test_dialog_no_answer,
              fixture_tear_down);
  g_test_add ("/nearby/dialog/policy", Fixture, NULL, fixture_set_up, test_dialog_policy,
              fixture_tear_down);

  status = g_test_run ();
  sotto_gtk_test_cleanup ();

  return status;
}
