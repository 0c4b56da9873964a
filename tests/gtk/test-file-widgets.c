/* test-file-widgets.c — files in the GUI: the dialog before a received file
 * opens, and the rows a chat shows for files offered and received
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <gtk/gtk.h>
#include <glib/gstdio.h>

#include "sotto-core.h"
#include "sotto-file-dialog.h"
#include "sotto-gtk-test-util.h"
#include "sotto-test-util.h"
#include "sotto-transfer-private.h"
#include "sotto-transfer-row.h"

#define SCREEN_WIDTH  1280
#define SCREEN_HEIGHT 1024

/* The dialog's buttons, by their labels without mnemonics. */
static void
collect_buttons (GtkWidget *root,
                 GPtrArray *labels)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_BUTTON (child) && gtk_button_get_use_underline (GTK_BUTTON (child)) &&
          gtk_widget_get_visible (child))
        g_ptr_array_add (labels, (gpointer)gtk_button_get_label (GTK_BUTTON (child)));
      collect_buttons (child, labels);
    }
}

static gboolean
has_button (GPtrArray  *labels,
            const char *label)
{
  for (guint i = 0; i < labels->len; i++)
    if (g_strcmp0 (g_ptr_array_index (labels, i), label) == 0)
      return TRUE;
  return FALSE;
}

static char *
write_file (const char   *dir,
            const char   *name,
            const guint8 *data,
            gsize         len)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, (const char *)data, (gssize)len, &error);
  g_assert_no_error (error);
  return path;
}

static GtkWidget *
show_dialog (const char *path,
             const char *screenshot)
{
  g_autoptr (SottoFileVerdict) verdict = NULL;
  g_autoptr (GError) error = NULL;
  GtkWidget *dialog;

  verdict = sotto_file_guard_check_path (path, NULL, SOTTO_SCAN_CLEAN, NULL, &error);
  g_assert_no_error (error);
  dialog = sotto_file_dialog_new (NULL, verdict, path);
  gtk_window_present (GTK_WINDOW (dialog));
  sotto_gtk_test_wait_frames (dialog, 3);
  g_assert_cmpint (gtk_widget_get_width (dialog), <=, SCREEN_WIDTH);
  g_assert_cmpint (gtk_widget_get_height (dialog), <=, SCREEN_HEIGHT);
  g_free (sotto_gtk_test_save_screenshot (dialog, screenshot));
  return dialog;
}

/* A PDF that is one: it may be opened, and Enter opens it. */
static void
test_file_dialog_document (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sotto-files-XXXXXX", NULL);
  static const guint8 pdf[] = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n";
  g_autofree char *path = write_file (dir, "minutes.pdf", pdf, sizeof pdf - 1);
  GtkWidget *dialog = show_dialog (path, "file-document");
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();

  collect_buttons (dialog, labels);
  g_assert_true (has_button (labels, "_Open File"));
  g_assert_true (has_button (labels, "_Show in Folder"));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (dialog)), ==, "Open this file?");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_unlink (path);
  g_rmdir (dir);
}

/* A program called report.pdf: shown in its folder, never opened. */
static void
test_file_dialog_program (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sotto-files-XXXXXX", NULL);
  guint8 elf[256] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0 };
  g_autofree char *path = write_file (dir, "report.pdf", elf, sizeof elf);
  GtkWidget *dialog = show_dialog (path, "file-program");
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();

  collect_buttons (dialog, labels);
  g_assert_cmpuint (labels->len, ==, 2);
  g_assert_true (has_button (labels, "_Show in Folder"));
  g_assert_true (has_button (labels, "_Close"));
  g_assert_false (has_button (labels, "_Open File"));
  g_assert_false (has_button (labels, "_Open Anyway"));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (dialog)), ==, "Sotto will not open this file");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_unlink (path);
  g_rmdir (dir);
}

/* The labels of @row's visible buttons. */
static GPtrArray *
row_buttons (GtkWidget *row)
{
  GPtrArray *labels = g_ptr_array_new ();

  collect_buttons (row, labels);
  return labels;
}

static SottoTransfer *
make_transfer (SottoContact   *contact,
               guint8          id,
               SottoDirection  direction,
               const char     *name,
               guint64         size)
{
  guint8 uid[SOTTO_FILE_ID_LEN] = { id };
  guint8 hash[SOTTO_FILE_HASH_LEN] = { 0 };
  g_autoptr (GBytes) head = g_bytes_new_static ("%PDF-1.7\n", MIN (size, 9));

  return _sotto_transfer_new (sotto_contact_get_id (contact), uid, direction, g_get_real_time (),
                              name, size, hash, head, "application/pdf");
}

/* The first label under @root whose text holds @needle, or NULL. */
static GtkWidget *
find_label_holding (GtkWidget  *root,
                    const char *needle)
{
  if (GTK_IS_LABEL (root) && strstr (gtk_label_get_label (GTK_LABEL (root)), needle) != NULL)
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_label_holding (child, needle);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Offered, on its way, received, declined: each row offers what can be
 * done now, and follows its transfer. */
static void
test_transfer_rows (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoFileTransfer) files = NULL;
  g_autoptr (SottoTransfer) offered = NULL;
  g_autoptr (SottoTransfer) sending = NULL;
  g_autoptr (SottoTransfer) received = NULL;
  g_autoptr (SottoTransfer) declined = NULL;
  g_autofree char *saved = NULL;
  GtkWidget *window;
  GtkWidget *list;
  GtkWidget *rows[4];
  static const guint8 pdf[] = "%PDF-1.7\n";

  store = sotto_test_create_store (dir, "Ann Example", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw",
                                   &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Bea Beispiel", NULL, NULL, &error);
  g_assert_no_error (error);
  files = sotto_file_transfer_new (store, NULL);

  offered = make_transfer (contact, 1, SOTTO_DIRECTION_IN, "Quarterly figures \u202Efdp.exe", 1234567);
  sending = make_transfer (contact, 2, SOTTO_DIRECTION_OUT, "site-plan.pdf", 48 * 1024 * 1024);
  _sotto_transfer_set_state (sending, SOTTO_TRANSFER_ACTIVE);
  _sotto_transfer_set_progress (sending, 20 * 1024 * 1024);
  received = make_transfer (contact, 3, SOTTO_DIRECTION_IN, "minutes.pdf", sizeof pdf - 1);
  saved = write_file (dir, "minutes.pdf", pdf, sizeof pdf - 1);
  _sotto_transfer_set_path (received, saved);
  _sotto_transfer_set_scan (received, SOTTO_SCAN_CLEAN);
  _sotto_transfer_set_state (received, SOTTO_TRANSFER_DONE);
  declined = make_transfer (contact, 4, SOTTO_DIRECTION_OUT, "holiday.jpg", 2048);
  _sotto_transfer_end (declined, SOTTO_FILE_CANCEL_DECLINED, TRUE);

  window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 640, -1);
  list = gtk_list_box_new ();
  gtk_widget_add_css_class (list, "boxed-list");
  rows[0] = sotto_transfer_row_new (files, offered);
  rows[1] = sotto_transfer_row_new (files, sending);
  rows[2] = sotto_transfer_row_new (files, received);
  rows[3] = sotto_transfer_row_new (files, declined);
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      sotto_transfer_row_set_sender (SOTTO_TRANSFER_ROW (rows[i]), "Bea Beispiel",
                                     SOTTO_VERIFICATION_UNVERIFIED);
      gtk_list_box_append (GTK_LIST_BOX (list), rows[i]);
    }
  gtk_window_set_child (GTK_WINDOW (window), list);
  gtk_window_present (GTK_WINDOW (window));
  sotto_gtk_test_wait_frames (window, 3);
  g_free (sotto_gtk_test_save_screenshot (window, "file-rows"));

  {
    g_autoptr (GPtrArray) b0 = row_buttons (rows[0]);
    g_autoptr (GPtrArray) b1 = row_buttons (rows[1]);
    g_autoptr (GPtrArray) b2 = row_buttons (rows[2]);
    g_autoptr (GPtrArray) b3 = row_buttons (rows[3]);

    /* An offer: accept or decline, nothing else. */
    g_assert_cmpuint (b0->len, ==, 2);
    g_assert_true (has_button (b0, "_Accept") && has_button (b0, "_Decline"));
    /* On its way: cancel. */
    g_assert_cmpuint (b1->len, ==, 1);
    g_assert_true (has_button (b1, "_Cancel"));
    /* Received: open (through the dialog) or show in its folder. */
    g_assert_cmpuint (b2->len, ==, 2);
    g_assert_true (has_button (b2, "_Open…") && has_button (b2, "Show in _Folder"));
    /* Ended: nothing to do. */
    g_assert_cmpuint (b3->len, ==, 0);
  }
  /* The hidden direction character of the offered name is shown, not obeyed. */
  g_assert_nonnull (sotto_gtk_test_find_label (rows[0], "Quarterly figures ⟦U+202E⟧fdp.exe"));
  {
    g_autofree char *size = g_format_size (2048);
    g_autofree char *detail = g_strdup_printf ("%s · Declined by your contact", size);

    g_assert_nonnull (sotto_gtk_test_find_label (rows[3], detail));
  }

  /* Before accepting: what the offer is by its name and by its bytes,
   * who sent it and whether their key is verified, what the guard found.
   * Once the file is in, the file dialog says what it is. */
  {
    GtkWidget *about = find_label_holding (rows[0], "From Bea Beispiel, whose key you have not verified");
    GtkWidget *done = find_label_holding (rows[2], "From Bea Beispiel");
    const char *text;

    g_assert_nonnull (about);
    g_assert_true (gtk_widget_get_visible (about));
    text = gtk_label_get_label (GTK_LABEL (about));
    g_assert_true (g_str_has_prefix (text, "Named as "));
    g_assert_nonnull (strstr (text, "reverse the text"));
    g_assert_nonnull (done);
    g_assert_false (gtk_widget_get_visible (done));
    g_assert_null (find_label_holding (rows[1], "From Bea Beispiel"));
  }
  sotto_transfer_row_set_sender (SOTTO_TRANSFER_ROW (rows[0]), "Bea Beispiel",
                                 SOTTO_VERIFICATION_VERIFIED);
  g_assert_nonnull (find_label_holding (rows[0], "From Bea Beispiel, whose key you verified"));

  /* Follows its transfer. */
  _sotto_transfer_set_state (offered, SOTTO_TRANSFER_ACTIVE);
  {
    g_autoptr (GPtrArray) after = row_buttons (rows[0]);

    g_assert_cmpuint (after->len, ==, 1);
    g_assert_true (has_button (after, "_Cancel"));
  }

  gtk_window_destroy (GTK_WINDOW (window));
  sotto_gtk_test_flush ();
  g_clear_object (&files);
  g_clear_object (&contact);
  sotto_test_close_store (&store);
  sotto_test_rm_rf (dir);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  sotto_gtk_test_init (&argc, &argv);

  g_test_add_func ("/files/dialog/document", test_file_dialog_document);
  g_test_add_func ("/files/dialog/program", test_file_dialog_program);
  g_test_add_func ("/files/rows", test_transfer_rows);

  status = g_test_run ();
  sotto_gtk_test_cleanup ();

  return status;
}
