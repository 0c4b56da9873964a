/* test-conversation.c — a conversation as a lazily loaded GListModel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sodium.h>

#include "sotto-core.h"
#include "sotto-store-private.h"
#include "sotto-test-util.h"

typedef struct
{
  char         *dir;
  SottoStore   *store;
  SottoContact *contact;
  SottoContact *other;
} Fixture;

/* @n messages "message 0" … in one bulk transaction. */
static void
add_history (Fixture *fixture,
             SottoContact *contact,
             guint    n)
{
  g_autoptr (GPtrArray) bodies = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (bodies, g_strdup_printf ("message %u", i));

  _sotto_store_insert_history_async (fixture->store, contact, bodies,
                                     g_get_real_time () - (gint64)3600 * G_USEC_PER_SEC, 1000,
                                     sotto_test_result_cb, &result);
  g_assert_true (_sotto_store_insert_history_finish (fixture->store, sotto_test_wait (&result),
                                                     &error));
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  fixture->dir = sotto_test_make_profile_dir ();
  fixture->store = sotto_test_create_store (fixture->dir, "Owner",
                                            SOTTO_KEY_PROTECTION_PASSPHRASE, "pw", &error);
  g_assert_no_error (error);
  fixture->contact = sotto_test_add_contact (fixture->store, "Pat", NULL, NULL, &error);
  g_assert_no_error (error);
  fixture->other = sotto_test_add_contact (fixture->store, "Quin", NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->contact);
  g_clear_object (&fixture->other);
  g_clear_object (&fixture->store);
  g_free (fixture->dir);
}

static void
wait_idle (SottoConversationModel *model)
{
  /* The first page is on its way as soon as the model exists. */
  while (sotto_conversation_model_get_loading (model))
    g_main_context_iteration (NULL, TRUE);
}

static const char *
body_at (GListModel *model,
         guint       position)
{
  g_autoptr (SottoMessage) message = g_list_model_get_item (model, position);

  /* The model keeps the object alive. */
  return sotto_message_get_body (message);
}

static guint
load_older (SottoConversationModel *model)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  guint loaded = 0;

  sotto_conversation_model_load_older_async (model, NULL, sotto_test_result_cb, &result);
  g_assert_true (sotto_conversation_model_load_older_finish (model, sotto_test_wait (&result),
                                                             &loaded, &error));
  g_assert_no_error (error);

  return loaded;
}

static void
test_conversation_pages (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr (SottoConversationModel) model = NULL;
  guint total = 3 * SOTTO_CONVERSATION_PAGE + 42;
  guint loaded;

  add_history (fixture, fixture->contact, total);
  add_history (fixture, fixture->other, 10);

  /* Opens empty, at once; the newest page follows. */
  model = sotto_conversation_model_new (fixture->store, fixture->contact);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 0);
  g_assert_true (sotto_conversation_model_get_loading (model));
  wait_idle (model);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, SOTTO_CONVERSATION_PAGE);
  g_assert_false (sotto_conversation_model_get_complete (model));
  g_assert_cmpstr (body_at (G_LIST_MODEL (model), SOTTO_CONVERSATION_PAGE - 1), ==, "message 341");
  g_assert_cmpstr (body_at (G_LIST_MODEL (model), 0), ==, "message 242");
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (model)) == SOTTO_TYPE_MESSAGE);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (model), SOTTO_CONVERSATION_PAGE));

  /* Back to the start, a page at a time, oldest first throughout. */
  g_assert_cmpuint (load_older (model), ==, SOTTO_CONVERSATION_PAGE);
  g_assert_cmpuint (load_older (model), ==, SOTTO_CONVERSATION_PAGE);
  loaded = load_older (model);
  g_assert_cmpuint (loaded, ==, 42);
  g_assert_true (sotto_conversation_model_get_complete (model));
  g_assert_cmpuint (load_older (model), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, total);
  for (guint i = 0; i < total; i++)
    {
      g_autofree char *expected = g_strdup_printf ("message %u", i);
      g_assert_cmpstr (body_at (G_LIST_MODEL (model), i), ==, expected);
    }
}

/* A message whose row no longer authenticates is left out and counted;
 * a page is still full while older messages remain, so that the rest of
 * the conversation loads as before. */
static void
test_conversation_damaged (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr (SottoConversationModel) model = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *sql = NULL;
  guint total = 2 * SOTTO_CONVERSATION_PAGE + 5;
  guint at = 0;

  add_history (fixture, fixture->contact, total);
  /* The 4th newest, and the newest of the second page. */
  sql = g_strdup_printf ("UPDATE messages SET sent = sent + 1 WHERE id IN "
                         "(SELECT m.id FROM messages m JOIN conversations c "
                         " ON c.id = m.conversation_id WHERE c.contact_id = %" G_GINT64_FORMAT
                         " ORDER BY m.id DESC LIMIT 1 OFFSET 3) OR id IN "
                         "(SELECT m.id FROM messages m JOIN conversations c "
                         " ON c.id = m.conversation_id WHERE c.contact_id = %" G_GINT64_FORMAT
                         " ORDER BY m.id DESC LIMIT 1 OFFSET %u)",
                         sotto_contact_get_id (fixture->contact),
                         sotto_contact_get_id (fixture->contact), SOTTO_CONVERSATION_PAGE + 1);
  g_assert_true (sotto_test_store_exec (fixture->store, sql, &error));
  g_assert_no_error (error);

  model = sotto_conversation_model_new (fixture->store, fixture->contact);
  wait_idle (model);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, SOTTO_CONVERSATION_PAGE);
  g_assert_cmpuint (sotto_conversation_model_get_n_damaged (model), ==, 1);
  g_assert_false (sotto_conversation_model_get_complete (model));

  g_assert_cmpuint (load_older (model), ==, SOTTO_CONVERSATION_PAGE);
  g_assert_cmpuint (sotto_conversation_model_get_n_damaged (model), ==, 2);
  g_assert_cmpuint (load_older (model), ==, 3);
  g_assert_true (sotto_conversation_model_get_complete (model));
  /* Each damaged row counted once, however the pages fell. */
  g_assert_cmpuint (sotto_conversation_model_get_n_damaged (model), ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, total - 2);
  for (guint i = 0; i < total; i++)
    {
      g_autofree char *expected = g_strdup_printf ("message %u", i);

      if (i == total - 4 || i == total - SOTTO_CONVERSATION_PAGE - 2)
        continue;
      g_assert_cmpstr (body_at (G_LIST_MODEL (model), at), ==, expected);
      at++;
    }
}

static void
count_changes_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  guint      *appended_at)
{
  *appended_at = position;
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_conversation_live (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr (SottoConversationModel) model = NULL;
  g_autoptr (SottoMessage) sent = NULL;
  g_autoptr (SottoMessage) shown = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GAsyncResult) other_result = NULL;
  g_autoptr (GError) error = NULL;
  guint appended_at = G_MAXUINT;
  guint notified = 0;
  guint n;

  add_history (fixture, fixture->contact, 5);
  model = sotto_conversation_model_new (fixture->store, fixture->contact);
  wait_idle (model);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 5);
  g_assert_true (sotto_conversation_model_get_complete (model));
  g_signal_connect (model, "items-changed", G_CALLBACK (count_changes_cb), &appended_at);

  /* What we send shows at the end as soon as it is stored... */
  sotto_store_queue_message_async (fixture->store, fixture->contact, "just sent", NULL,
                                   sotto_test_result_cb, &result);
  sent = sotto_store_queue_message_finish (fixture->store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  n = g_list_model_get_n_items (G_LIST_MODEL (model));
  g_assert_cmpuint (n, ==, 6);
  g_assert_cmpuint (appended_at, ==, 5);
  shown = g_list_model_get_item (G_LIST_MODEL (model), 5);
  g_assert_cmpstr (sotto_message_get_body (shown), ==, "just sent");
  g_assert_cmpint (sotto_message_get_state (shown), ==, SOTTO_MESSAGE_QUEUED);

  /* ...another conversation's messages do not... */
  g_clear_object (&result);
  sotto_store_queue_message_async (fixture->store, fixture->other, "elsewhere", NULL,
                                   sotto_test_result_cb, &other_result);
  g_object_unref (sotto_store_queue_message_finish (fixture->store, sotto_test_wait (&other_result),
                                                    &error));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 6);

  /* ...and the receipt changes the shown object in place. */
  g_signal_connect (shown, "notify::state", G_CALLBACK (count_notify_cb), &notified);
  sotto_store_mark_delivered_async (fixture->store, fixture->contact, sotto_message_get_uid (sent),
                                    NULL, sotto_test_result_cb, &result);
  g_assert_true (sotto_store_mark_delivered_finish (fixture->store, sotto_test_wait (&result),
                                                    &error));
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpint (sotto_message_get_state (shown), ==, SOTTO_MESSAGE_DELIVERED);

  /* An incoming message, and its retry, show once. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (GAsyncResult) r = NULL;
      guint8 uid[SOTTO_MESSAGE_UID_LEN] = { 7, 7, 7 };

      sotto_store_save_incoming_async (fixture->store, fixture->contact, uid, g_get_real_time (),
                                       "hello back", NULL, sotto_test_result_cb, &r);
      g_object_unref (sotto_store_save_incoming_finish (fixture->store, sotto_test_wait (&r),
                                                        NULL, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 7);
  g_assert_cmpstr (body_at (G_LIST_MODEL (model), 6), ==, "hello back");
}

static void
test_conversation_purge_reloads (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr (SottoConversationModel) model = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  guint deleted = 0;

  add_history (fixture, fixture->contact, 250);
  model = sotto_conversation_model_new (fixture->store, fixture->contact);
  wait_idle (model);
  g_assert_cmpuint (load_older (model), ==, SOTTO_CONVERSATION_PAGE);

  /* Everything delivered goes; a queued message stays, and the view
   * shows exactly what is left. */
  {
    g_autoptr (GAsyncResult) r = NULL;
    sotto_store_queue_message_async (fixture->store, fixture->contact, "still queued", NULL,
                                     sotto_test_result_cb, &r);
    g_object_unref (sotto_store_queue_message_finish (fixture->store, sotto_test_wait (&r), &error));
  }
  sotto_store_purge_async (fixture->store, NULL, G_MAXINT64, FALSE, NULL,
                           sotto_test_result_cb, &result);
  g_assert_true (sotto_store_purge_finish (fixture->store, sotto_test_wait (&result), &deleted,
                                           &error));
  g_assert_cmpuint (deleted, ==, 250);
  wait_idle (model);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 1);
  g_assert_cmpstr (body_at (G_LIST_MODEL (model), 0), ==, "still queued");
  g_assert_true (sotto_conversation_model_get_complete (model));
}

static void
test_conversation_outlives_nothing (Fixture       *fixture,
                                    gconstpointer  data)
{
  SottoConversationModel *model;

  add_history (fixture, fixture->contact, 10);

  /* Dropped while its first page is still being read: nothing crashes,
   * nothing leaks, the store is still usable. */
  model = sotto_conversation_model_new (fixture->store, fixture->contact);
  g_object_unref (model);
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);

  model = sotto_conversation_model_new (fixture->store, fixture->contact);
  wait_idle (model);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 10);
  g_object_unref (model);
}

/* An open conversation shows a message given up on as failed, then, once
 * retried, as queued again; a late receipt still makes it delivered. */
static void
test_conversation_failed_and_retried (Fixture       *fixture,
                                      gconstpointer  data)
{
  g_autoptr (SottoConversationModel) model = NULL;
  g_autoptr (SottoMessage) queued = NULL;
  g_autoptr (SottoMessage) shown = NULL;
  g_autoptr (GError) error = NULL;
  gint64 late = g_get_real_time () + (gint64)SOTTO_OUTBOX_EXPIRY_DAYS * G_TIME_SPAN_DAY +
                G_TIME_SPAN_SECOND;

  model = sotto_conversation_model_new (fixture->store, fixture->contact);
  wait_idle (model);
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_queue_message_async (fixture->store, fixture->contact, "hello?", NULL,
                                     sotto_test_result_cb, &result);
    queued = sotto_store_queue_message_finish (fixture->store, sotto_test_wait (&result), &error);
    g_assert_no_error (error);
  }
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 1);
  shown = g_list_model_get_item (G_LIST_MODEL (model), 0);
  g_assert_cmpint (sotto_message_get_state (shown), ==, SOTTO_MESSAGE_QUEUED);

  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_expire_outbox_async (fixture->store, late, NULL, sotto_test_result_cb, &result);
    g_assert_cmpuint (sotto_store_expire_outbox_finish (fixture->store, sotto_test_wait (&result),
                                                        &error), ==, 1);
    g_assert_no_error (error);
  }
  g_assert_cmpint (sotto_message_get_state (shown), ==, SOTTO_MESSAGE_FAILED);

  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_retry_message_async (fixture->store, shown, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_retry_message_finish (fixture->store, sotto_test_wait (&result),
                                                     &error));
    g_assert_no_error (error);
  }
  g_assert_cmpint (sotto_message_get_state (shown), ==, SOTTO_MESSAGE_QUEUED);

  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_expire_outbox_async (fixture->store, late, NULL, sotto_test_result_cb, &result);
    g_assert_cmpuint (sotto_store_expire_outbox_finish (fixture->store, sotto_test_wait (&result),
                                                        &error), ==, 1);
    g_assert_no_error (error);
    g_assert_cmpint (sotto_message_get_state (shown), ==, SOTTO_MESSAGE_FAILED);
  }
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_mark_delivered_async (fixture->store, fixture->contact,
                                      sotto_message_get_uid (queued), NULL,
                                      sotto_test_result_cb, &result);
    g_assert_true (sotto_store_mark_delivered_finish (fixture->store, sotto_test_wait (&result),
                                                      &error));
    g_assert_no_error (error);
  }
  g_assert_cmpint (sotto_message_get_state (shown), ==, SOTTO_MESSAGE_DELIVERED);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add ("/conversation/pages", Fixture, NULL,
              fixture_set_up, test_conversation_pages, fixture_tear_down);
  g_test_add ("/conversation/damaged", Fixture, NULL,
              fixture_set_up, test_conversation_damaged, fixture_tear_down);
  g_test_add ("/conversation/live", Fixture, NULL,
              fixture_set_up, test_conversation_live, fixture_tear_down);
  g_test_add ("/conversation/purge-reloads", Fixture, NULL,
              fixture_set_up, test_conversation_purge_reloads, fixture_tear_down);
  g_test_add ("/conversation/dropped-while-loading", Fixture, NULL,
              fixture_set_up, test_conversation_outlives_nothing, fixture_tear_down);
  g_test_add ("/conversation/failed-and-retried", Fixture, NULL,
              fixture_set_up, test_conversation_failed_and_retried, fixture_tear_down);

  return g_test_run ();
}
