/* test-verify-dialog.c — SottoVerifyDialog against a real store: the number
 * shown is the core's safety number, and confirming verifies the contact
 * in the database, as `sotto-cli verify` does
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <gtk/gtk.h>

#include "sotto-core.h"
#include "sotto-gtk-test-util.h"
#include "sotto-qr-code.h"
#include "sotto-test-util.h"
#include "sotto-verify-dialog.h"

#define PASSPHRASE "correct horse battery staple"

typedef struct
{
  char         *dir;
  SottoStore   *store;
  SottoContact *contact;
} Fixture;

static GtkWidget *
child (SottoVerifyDialog *dialog,
       const char        *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                   SOTTO_TYPE_VERIFY_DIALOG, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  fixture->dir = sotto_test_make_profile_dir ();
  fixture->store = sotto_test_create_store (fixture->dir, "Ann Example",
                                            SOTTO_KEY_PROTECTION_PASSPHRASE, PASSPHRASE,
                                            &error);
  g_assert_no_error (error);
  fixture->contact = sotto_test_add_contact (fixture->store, "Bea Beispiel", NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->contact);
  if (fixture->store != NULL)
    sotto_test_close_store (&fixture->store);
  sotto_test_rm_rf (fixture->dir);
  g_clear_pointer (&fixture->dir, g_free);
}

static void
set_verification (Fixture           *fixture,
                  SottoVerification  verification)
{
  g_autoptr (GError) error = NULL;

  sotto_test_update_contact (fixture->store, fixture->contact, NULL, -1, verification, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sotto_contact_get_verification (fixture->contact), ==, verification);
}

static SottoVerifyDialog *
show_dialog (Fixture *fixture)
{
  SottoVerifyDialog *dialog;

  dialog = sotto_verify_dialog_new (NULL, fixture->store, fixture->contact,
                                    sotto_store_get_identity (fixture->store));
  gtk_window_present (GTK_WINDOW (dialog));
  sotto_gtk_test_wait_frames (GTK_WIDGET (dialog), 2);

  return dialog;
}

/* The digits as the grid shows them: row by row, left to right. */
static char *
shown_number (SottoVerifyDialog *dialog)
{
  GtkGrid *grid = GTK_GRID (child (dialog, "number_grid"));
  g_autoptr (GStrvBuilder) groups = g_strv_builder_new ();
  g_auto (GStrv) strv = NULL;

  for (int row = 0; row < 3; row++)
    for (int column = 0; column < 4; column++)
      {
        GtkWidget *label = gtk_grid_get_child_at (grid, column, row);

        g_assert_true (GTK_IS_LABEL (label));
        g_strv_builder_add (groups, gtk_label_get_label (GTK_LABEL (label)));
      }
  g_assert_null (gtk_grid_get_child_at (grid, 0, 3));
  g_assert_null (gtk_grid_get_child_at (grid, 4, 0));

  strv = g_strv_builder_end (groups);
  return g_strjoinv (" ", strv);
}

static void
on_verified_cb (SottoVerifyDialog  *dialog,
                SottoContact       *contact,
                SottoContact      **out)
{
  g_assert_null (*out);
  *out = g_object_ref (contact);
}

static void
wait_for_contact (SottoContact **slot)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (*slot == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
test_verify_shows_safety_number (Fixture       *fixture,
                                 gconstpointer  data)
{
  SottoIdentity *own = sotto_store_get_identity (fixture->store);
  g_autofree char *expected = sotto_safety_number (sotto_identity_get_public_key (own),
                                                   sotto_contact_get_public_key (fixture->contact));
  g_autofree char *shown = NULL;
  g_autofree char *screenshot = NULL;
  g_auto (GStrv) groups = NULL;
  g_autofree char *digits = NULL;
  SottoVerifyDialog *dialog = show_dialog (fixture);
  SottoQrCode *qr_code = SOTTO_QR_CODE (child (dialog, "qr_code"));
  GtkWidget *first;
  const PangoFontDescription *font;

  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (dialog)), ==, "Verify Bea Beispiel");
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (dialog)));

  shown = shown_number (dialog);
  g_assert_cmpstr (shown, ==, expected);
  g_assert_cmpuint (strlen (expected), ==, SOTTO_SAFETY_NUMBER_DIGITS + 11);
  g_assert_cmpstr (sotto_verify_dialog_get_safety_number (dialog), ==, expected);

  /* Large and monospace, from the application's style sheet. */
  first = gtk_grid_get_child_at (GTK_GRID (child (dialog, "number_grid")), 0, 0);
  font = pango_context_get_font_description (gtk_widget_get_pango_context (first));
  g_assert_nonnull (font);
  g_assert_cmpint (pango_font_description_get_size (font) / PANGO_SCALE, >=, 17);
  g_assert_cmpstr (pango_font_description_get_family (font), ==, "monospace");

  /* The same number in the QR code, digits only. */
  groups = g_strsplit (expected, " ", -1);
  digits = g_strjoinv ("", groups);
  g_assert_cmpstr (sotto_qr_code_get_text (qr_code), ==, digits);
  g_assert_cmpuint (sotto_qr_get_version (sotto_qr_code_get_qr (qr_code)), ==, 2);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (qr_code)));
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (qr_code)), >=, 33 * 2);

  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (child (dialog, "explanation_label"))), ==,
                   "Compare these numbers with Bea Beispiel’s, in person or on a call. "
                   "If they match, nobody is listening in.");
  g_assert_false (gtk_widget_get_visible (child (dialog, "key_changed_box")));

  screenshot = sotto_gtk_test_save_screenshot (GTK_WIDGET (dialog), "verify-dialog");

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_verify_marks_verified (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr (SottoContact) verified = NULL;
  SottoContact *reopened;
  g_autoptr (GError) error = NULL;
  gint64 id = sotto_contact_get_id (fixture->contact);
  SottoVerifyDialog *dialog = show_dialog (fixture);

  g_assert_cmpint (sotto_contact_get_verification (fixture->contact), ==,
                   SOTTO_VERIFICATION_UNVERIFIED);
  g_signal_connect (dialog, "verified", G_CALLBACK (on_verified_cb), &verified);
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *)&dialog);

  /* The user presses "Mark as Verified". */
  g_assert_true (gtk_widget_is_sensitive (child (dialog, "verify_button")));
  sotto_gtk_test_click (child (dialog, "verify_button"));
  wait_for_contact (&verified);
  g_assert_true (verified == fixture->contact);
  g_assert_cmpint (sotto_contact_get_verification (fixture->contact), ==,
                   SOTTO_VERIFICATION_VERIFIED);

  /* The dialog closed itself. */
  sotto_gtk_test_flush ();
  g_assert_null (dialog);

  /* In the database, not only in memory. */
  g_clear_object (&fixture->contact);
  g_clear_object (&verified);
  sotto_test_close_store (&fixture->store);
  fixture->store = sotto_test_open_store (fixture->dir, PASSPHRASE, &error);
  g_assert_no_error (error);
  reopened = sotto_store_get_contact_by_id (fixture->store, id);
  g_assert_nonnull (reopened);
  g_assert_cmpint (sotto_contact_get_verification (reopened), ==, SOTTO_VERIFICATION_VERIFIED);
}

static void
test_verify_cancel (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr (SottoContact) verified = NULL;
  SottoVerifyDialog *dialog = show_dialog (fixture);

  g_signal_connect (dialog, "verified", G_CALLBACK (on_verified_cb), &verified);
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *)&dialog);

  sotto_gtk_test_click (child (dialog, "cancel_button"));
  sotto_gtk_test_flush ();

  g_assert_null (dialog);
  g_assert_null (verified);
  g_assert_cmpint (sotto_contact_get_verification (fixture->contact), ==,
                   SOTTO_VERIFICATION_UNVERIFIED);
}

static void
test_verify_key_changed (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr (SottoContact) verified = NULL;
  g_autofree char *screenshot = NULL;
  SottoVerifyDialog *dialog;
  GtkWidget *warning;
  const char *text;

  set_verification (fixture, SOTTO_VERIFICATION_KEY_CHANGED);
  dialog = show_dialog (fixture);
  warning = child (dialog, "key_changed_label");

  g_assert_true (gtk_widget_is_visible (child (dialog, "key_changed_box")));
  text = gtk_label_get_label (GTK_LABEL (warning));
  g_assert_nonnull (strstr (text, "Someone at Bea Beispiel’s address answered with a "
                                 "different security key"));
  g_assert_nonnull (strstr (text, "the key you added is still theirs"));

  screenshot = sotto_gtk_test_save_screenshot (GTK_WIDGET (dialog), "verify-dialog-key-changed");

  g_signal_connect (dialog, "verified", G_CALLBACK (on_verified_cb), &verified);
  sotto_gtk_test_click (child (dialog, "verify_button"));
  wait_for_contact (&verified);
  g_assert_cmpint (sotto_contact_get_verification (fixture->contact), ==,
                   SOTTO_VERIFICATION_VERIFIED);
  sotto_gtk_test_flush ();
}

/* Bea set Sotto up again: the number shown is that of her new key, and
 * confirming it makes that key hers, on the same contact. */
static void
test_verify_key_changed_new_key (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr (SottoIdentity) again = sotto_identity_generate ("Bea Beispiel", NULL);
  g_autoptr (SottoContact) verified = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoIdentity *own = sotto_store_get_identity (fixture->store);
  g_autofree char *expected = sotto_safety_number (sotto_identity_get_public_key (own),
                                                   sotto_identity_get_public_key (again));
  g_autofree char *fingerprint = sotto_fingerprint_for_key (sotto_identity_get_public_key (again));
  g_autofree char *shown = NULL;
  g_autofree char *screenshot = NULL;
  gint64 id = sotto_contact_get_id (fixture->contact);
  SottoVerifyDialog *dialog;
  const char *text;

  sotto_store_mark_key_changed_async (fixture->store, fixture->contact,
                                      sotto_identity_get_public_key (again), NULL,
                                      sotto_test_result_cb, &result);
  g_assert_true (sotto_store_update_contact_finish (fixture->store, sotto_test_wait (&result),
                                                    &error));
  g_assert_no_error (error);

  dialog = show_dialog (fixture);
  shown = shown_number (dialog);
  g_assert_cmpstr (shown, ==, expected);
  g_assert_cmpstr (sotto_verify_dialog_get_safety_number (dialog), ==, expected);
  g_assert_true (gtk_widget_is_visible (child (dialog, "key_changed_box")));
  text = gtk_label_get_label (GTK_LABEL (child (dialog, "key_changed_label")));
  g_assert_nonnull (strstr (text, "answered with a new security key"));
  g_assert_nonnull (strstr (text, fingerprint));
  g_assert_nonnull (strstr (text, "The numbers below are for this new key"));

  screenshot = sotto_gtk_test_save_screenshot (GTK_WIDGET (dialog),
                                               "verify-dialog-key-changed-new-key");

  g_signal_connect (dialog, "verified", G_CALLBACK (on_verified_cb), &verified);
  sotto_gtk_test_click (child (dialog, "verify_button"));
  wait_for_contact (&verified);
  g_assert_true (verified == fixture->contact);
  g_assert_cmpint (sotto_contact_get_id (fixture->contact), ==, id);
  g_assert_cmpmem (sotto_contact_get_public_key (fixture->contact), SOTTO_KEY_LEN,
                   sotto_identity_get_public_key (again), SOTTO_KEY_LEN);
  g_assert_null (sotto_contact_get_offered_key (fixture->contact));
  g_assert_cmpint (sotto_contact_get_verification (fixture->contact), ==,
                   SOTTO_VERIFICATION_VERIFIED);
  sotto_gtk_test_flush ();
}

/* Nothing to confirm twice; the contact's state is followed while shown. */
static void
test_verify_already_verified (Fixture       *fixture,
                              gconstpointer  data)
{
  SottoVerifyDialog *dialog = show_dialog (fixture);
  GtkWidget *button = child (dialog, "verify_button");
  GtkLabel *explanation = GTK_LABEL (child (dialog, "explanation_label"));

  g_assert_true (gtk_widget_is_sensitive (button));

  set_verification (fixture, SOTTO_VERIFICATION_VERIFIED);
  sotto_gtk_test_flush ();
  g_assert_false (gtk_widget_is_sensitive (button));
  g_assert_nonnull (strstr (gtk_label_get_label (explanation), "You have verified Bea Beispiel."));

  set_verification (fixture, SOTTO_VERIFICATION_KEY_CHANGED);
  sotto_gtk_test_flush ();
  g_assert_true (gtk_widget_is_sensitive (button));
  g_assert_true (gtk_widget_is_visible (child (dialog, "key_changed_box")));

  gtk_window_destroy (GTK_WINDOW (dialog));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  sotto_gtk_test_init (&argc, &argv);

  g_test_add ("/verify-dialog/safety-number", Fixture, NULL,
              fixture_set_up, test_verify_shows_safety_number, fixture_tear_down);
  g_test_add ("/verify-dialog/mark-verified", Fixture, NULL,
              fixture_set_up, test_verify_marks_verified, fixture_tear_down);
  g_test_add ("/verify-dialog/cancel", Fixture, NULL,
              fixture_set_up, test_verify_cancel, fixture_tear_down);
  g_test_add ("/verify-dialog/key-changed", Fixture, NULL,
              fixture_set_up, test_verify_key_changed, fixture_tear_down);
  g_test_add ("/verify-dialog/key-changed/new-key", Fixture, NULL,
              fixture_set_up, test_verify_key_changed_new_key, fixture_tear_down);
  g_test_add ("/verify-dialog/already-verified", Fixture, NULL,
              fixture_set_up, test_verify_already_verified, fixture_tear_down);

  status = g_test_run ();
  sotto_gtk_test_cleanup ();

  return status;
}
