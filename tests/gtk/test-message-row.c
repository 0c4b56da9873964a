/* test-message-row.c — a message of ours that was given up on shows
 * "Not sent" and a Retry button; the button asks to send it again, and
 * goes away once the message is queued again. Against a real store and
 * conversation model, as the chat page binds them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <gtk/gtk.h>

#include "sotto-core.h"
#include "sotto-gtk-test-util.h"
#include "sotto-message-row.h"
#include "sotto-test-util.h"

#define PASSPHRASE "correct horse battery staple"

typedef struct
{
  char                   *dir;
  SottoStore             *store;
  SottoContact           *contact;
  SottoConversationModel *model;
  GtkWidget              *window;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  fixture->dir = sotto_test_make_profile_dir ();
  fixture->store = sotto_test_create_store (fixture->dir, "Ann Example",
                                            SOTTO_KEY_PROTECTION_PASSPHRASE, PASSPHRASE, &error);
  g_assert_no_error (error);
  fixture->contact = sotto_test_add_contact (fixture->store, "Bea Beispiel", NULL, NULL, &error);
  g_assert_no_error (error);
  fixture->model = sotto_conversation_model_new (fixture->store, fixture->contact);
  fixture->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 360, -1);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_pointer ((GtkWindow **)&fixture->window, gtk_window_destroy);
  g_clear_object (&fixture->model);
  g_clear_object (&fixture->contact);
  if (fixture->store != NULL)
    sotto_test_close_store (&fixture->store);
  sotto_test_rm_rf (fixture->dir);
  g_clear_pointer (&fixture->dir, g_free);
  sotto_gtk_test_flush ();
}

static GtkWidget *
find_button (GtkWidget *root)
{
  if (GTK_IS_BUTTON (root))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_button (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
expire (Fixture *fixture)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gint64 late = g_get_real_time () + (gint64)SOTTO_OUTBOX_EXPIRY_DAYS * G_TIME_SPAN_DAY
                + G_TIME_SPAN_SECOND;

  sotto_store_expire_outbox_async (fixture->store, late, NULL, sotto_test_result_cb, &result);
  g_assert_cmpuint (sotto_store_expire_outbox_finish (fixture->store, sotto_test_wait (&result),
                                                      &error), ==, 1);
  g_assert_no_error (error);
}

static void
on_retry_cb (SottoMessageRow  *row,
             SottoMessage    **out)
{
  *out = sotto_message_row_get_message (row);
}

static void
test_retry_button (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr (SottoMessage) queued = NULL;
  g_autoptr (SottoMessage) shown = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *screenshot = NULL;
  SottoMessage *asked = NULL;
  GtkWidget *row = sotto_message_row_new ();
  GtkWidget *button;

  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_queue_message_async (fixture->store, fixture->contact, "Lunch at noon?", NULL,
                                     sotto_test_result_cb, &result);
    queued = sotto_store_queue_message_finish (fixture->store, sotto_test_wait (&result), &error);
    g_assert_no_error (error);
  }
  SOTTO_TEST_WAIT_FOR (g_list_model_get_n_items (G_LIST_MODEL (fixture->model)) == 1);
  shown = g_list_model_get_item (G_LIST_MODEL (fixture->model), 0);

  sotto_message_row_set_message (SOTTO_MESSAGE_ROW (row), shown, NULL);
  g_signal_connect (row, "retry", G_CALLBACK (on_retry_cb), &asked);
  gtk_window_set_child (GTK_WINDOW (fixture->window), row);
  gtk_window_present (GTK_WINDOW (fixture->window));
  sotto_gtk_test_wait_frames (fixture->window, 2);

  /* Queued: nothing to retry, and no button made for it. */
  g_assert_null (find_button (row));
  g_assert_nonnull (sotto_gtk_test_find_label (row, "Lunch at noon?"));

  /* A week later it is given up on: the row says so and offers Retry. */
  expire (fixture);
  g_assert_cmpint (sotto_message_get_state (shown), ==, SOTTO_MESSAGE_FAILED);
  button = find_button (row);
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_get_visible (button));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (button)), ==, "_Retry");
  sotto_gtk_test_wait_frames (fixture->window, 2);
  screenshot = sotto_gtk_test_save_screenshot (fixture->window, "message-not-sent");
  {
    g_autoptr (GString) found = g_string_new (NULL);
    GtkWidget *label;

    for (label = gtk_widget_get_first_child (gtk_widget_get_parent (button)); label != NULL;
         label = gtk_widget_get_next_sibling (label))
      if (GTK_IS_LABEL (label))
        g_string_append (found, gtk_label_get_label (GTK_LABEL (label)));
    g_assert_true (g_str_has_suffix (found->str, " · Not sent"));
  }

  /* The button asks for this message; the row decides nothing itself. */
  sotto_gtk_test_click (button);
  g_assert_true (asked == shown);

  /* Queued again (as the chat page does on ::retry): the button goes. */
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_retry_message_async (fixture->store, shown, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_retry_message_finish (fixture->store, sotto_test_wait (&result),
                                                     &error));
    g_assert_no_error (error);
  }
  g_assert_cmpint (sotto_message_get_state (shown), ==, SOTTO_MESSAGE_QUEUED);
  g_assert_false (gtk_widget_get_visible (button));

  /* Unbound, it lets go of the message. */
  sotto_message_row_set_message (SOTTO_MESSAGE_ROW (row), NULL, NULL);
  g_assert_null (sotto_message_row_get_message (SOTTO_MESSAGE_ROW (row)));
}

int
main (int   argc,
      char *argv[])
{
  sotto_gtk_test_init (&argc, &argv);

  g_test_add ("/message-row/retry", Fixture, NULL, fixture_set_up, test_retry_button,
              fixture_tear_down);

  return g_test_run ();
}
