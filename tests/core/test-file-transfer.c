/* test-file-transfer.c — files offered from memory (a pasted picture): the
 * copy kept in the profile while the transfer needs it, and never after;
 * files among a conversation's messages, in time order (SottoTimeline)
 *
 * Transfers between two processes are tested by tests/cli/files.py; this
 * is what one side does with a real store on disk.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "sotto-core.h"
#include "sotto-file-guard.h"
#include "sotto-file-transfer.h"
#include "sotto-test-util.h"

typedef struct
{
  char              *dir;
  SottoStore        *store;
  SottoContact      *contact;
  SottoFileTransfer *files;
} Fixture;

/* The service's threads hold it (and so the store) until they have
 * returned, a moment after their callbacks ran: wait for it to go. */
static void
drop_files (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + SOTTO_TEST_WAIT_S * G_USEC_PER_SEC;
  gpointer weak = f->files;

  if (weak == NULL)
    return;
  g_object_add_weak_pointer (G_OBJECT (weak), &weak);
  g_clear_object (&f->files);
  while (weak != NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
load (Fixture *f)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  drop_files (f);
  f->files = sotto_file_transfer_new (f->store, NULL);
  sotto_file_transfer_load_async (f->files, NULL, sotto_test_result_cb, &result);
  g_assert_true (sotto_file_transfer_load_finish (f->files, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  f->dir = sotto_test_make_profile_dir ();
  f->store = sotto_test_create_store (f->dir, "Ann", SOTTO_KEY_PROTECTION_PASSPHRASE, "pw",
                                      &error);
  g_assert_no_error (error);
  f->contact = sotto_test_add_contact (f->store, "Bea", NULL, NULL, &error);
  g_assert_no_error (error);
  load (f);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  drop_files (f);
  g_clear_object (&f->contact);
  sotto_test_close_store (&f->store);
  sotto_test_rm_rf (f->dir);
  g_free (f->dir);
}

static SottoTransfer *
offer_data (Fixture     *f,
            const char  *name,
            GBytes      *data,
            GError     **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_file_transfer_offer_data_async (f->files, f->contact, name, data, NULL,
                                        sotto_test_result_cb, &result);
  return sotto_file_transfer_offer_finish (f->files, sotto_test_wait (&result), error);
}

static char *
copies_folder (Fixture *f)
{
  return g_build_filename (f->dir, "outgoing", NULL);
}

static guint
count_entries (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  if (dir == NULL)
    return 0;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* The copy: in the profile, the name given, the bytes given, readable by
 * the user alone; the offer names it, and it is gone once the transfer
 * has ended. */
static void
test_offer_data (Fixture       *f,
                 gconstpointer  data)
{
  static const guint8 png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
  g_autoptr (GBytes) bytes = g_bytes_new_static (png, sizeof png - 1);
  g_autoptr (SottoTransfer) transfer = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *folder = copies_folder (f);
  g_autofree char *parent = NULL;
  g_autofree char *grandparent = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  const char *path;
  GStatBuf st;

  transfer = offer_data (f, "Pasted image 2026-12-07 10.00.00.png", bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sotto_transfer_get_name (transfer), ==, "Pasted image 2026-12-07 10.00.00.png");
  g_assert_cmpuint (sotto_transfer_get_size (transfer), ==, sizeof png - 1);
  g_assert_cmpstr (sotto_transfer_get_declared_type (transfer), ==, "image/png");
  g_assert_cmpint (sotto_transfer_get_state (transfer), ==, SOTTO_TRANSFER_QUEUED);

  path = sotto_transfer_get_path (transfer);
  g_assert_nonnull (path);
  parent = g_path_get_dirname (path);
  grandparent = g_path_get_dirname (parent);
  g_assert_cmpstr (grandparent, ==, folder);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, png, sizeof png - 1);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (parent, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpint (g_stat (folder, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  /* Kept across a restart while the transfer is unfinished. */
  load (f);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_clear_object (&transfer);
  {
    g_autoptr (GPtrArray) all = sotto_file_transfer_list (f->files, f->contact);

    g_assert_cmpuint (all->len, ==, 1);
    transfer = g_object_ref (g_ptr_array_index (all, 0));
  }

  sotto_file_transfer_cancel_async (f->files, transfer, NULL, sotto_test_result_cb, &result);
  g_assert_true (sotto_file_transfer_change_finish (f->files, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (parent, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_entries (folder), ==, 0);
}

/* A name is one file name: at the limit accepted, past it, empty, with a
 * folder or "." and ".." refused, and nothing written. */
static void
test_offer_data_names (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static ("hello", 5);
  g_autofree char *folder = copies_folder (f);
  g_autofree char *stem = g_strnfill (SOTTO_FILE_NAME_MAX - 4, 'a');
  g_autofree char *at_limit = g_strconcat (stem, ".png", NULL);
  g_autofree char *past_limit = g_strconcat ("a", at_limit, NULL);
  const char *refused[] = { "", "a/b.png", "../x.png", ".", "..", "/etc/passwd", NULL };

  g_assert_cmpuint (strlen (at_limit), ==, SOTTO_FILE_NAME_MAX);

  for (guint i = 0; refused[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SottoTransfer) transfer = offer_data (f, refused[i], bytes, &error);

      g_assert_null (transfer);
      g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
    }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SottoTransfer) transfer = offer_data (f, past_limit, bytes, &error);

    g_assert_null (transfer);
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  }
  g_assert_cmpuint (count_entries (folder), ==, 0);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SottoTransfer) transfer = offer_data (f, at_limit, bytes, &error);

    g_assert_no_error (error);
    g_assert_nonnull (transfer);
  }
  g_assert_cmpuint (count_entries (folder), ==, 1);
}

/* A copy no transfer uses (the process died between writing it and
 * storing its offer) is removed when the transfers are loaded; the copy
 * of an unfinished transfer is kept. */
static void
test_offer_data_sweep (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static ("picture", 7);
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoTransfer) transfer = offer_data (f, "kept.png", bytes, &error);
  g_autofree char *folder = copies_folder (f);
  g_autofree char *orphan_dir = g_build_filename (folder, "orphan", NULL);
  g_autofree char *orphan = g_build_filename (orphan_dir, "left.png", NULL);
  g_autofree char *stray = g_build_filename (folder, "stray", NULL);

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (orphan_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (orphan, "half", -1, NULL));
  g_assert_true (g_file_set_contents (stray, "x", -1, NULL));

  load (f);
  g_assert_false (g_file_test (orphan, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (orphan_dir, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (stray, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (sotto_transfer_get_path (transfer), G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (count_entries (folder), ==, 1);
}

/* A file of the user's is never removed when its transfer ends. */
static void
test_offer_path_kept (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "mine.txt", NULL);
  g_autoptr (SottoTransfer) transfer = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GAsyncResult) cancelled = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, "notes", -1, NULL));
  sotto_file_transfer_offer_async (f->files, f->contact, path, NULL, sotto_test_result_cb, &result);
  transfer = sotto_file_transfer_offer_finish (f->files, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  sotto_file_transfer_cancel_async (f->files, transfer, NULL, sotto_test_result_cb, &cancelled);
  g_assert_true (sotto_file_transfer_change_finish (f->files, sotto_test_wait (&cancelled), &error));
  g_assert_cmpint (sotto_transfer_get_state (transfer), ==, SOTTO_TRANSFER_CANCELLED);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
}

/* Files among messages ---------------------------------------------------- */

typedef struct
{
  guint position;
  guint removed;
  guint added;
} Change;

static void
on_items_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     GArray     *changes)
{
  Change change = { position, removed, added };

  g_array_append_val (changes, change);
}

static SottoMessage *
queue_text (Fixture    *f,
            const char *body)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoMessage *message;

  /* Times are in microseconds: one apart at least. */
  g_usleep (1000);
  sotto_store_queue_message_async (f->store, f->contact, body, NULL, sotto_test_result_cb, &result);
  message = sotto_store_queue_message_finish (f->store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  return message;
}

static SottoTransfer *
offer_text_file (Fixture    *f,
                 const char *name)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static ("x", 1);
  g_autoptr (GError) error = NULL;
  SottoTransfer *transfer;

  g_usleep (1000);
  transfer = offer_data (f, name, bytes, &error);
  g_assert_no_error (error);
  return transfer;
}

/* "What the list holds", as names: "m:BODY" and "f:NAME". */
static char *
describe (GListModel *model)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (model, i);

      if (out->len > 0)
        g_string_append_c (out, ' ');
      if (SOTTO_IS_MESSAGE (item))
        g_string_append_printf (out, "m:%s", sotto_message_get_body (SOTTO_MESSAGE (item)));
      else
        g_string_append_printf (out, "f:%s", sotto_transfer_get_name (SOTTO_TRANSFER (item)));
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static SottoConversationModel *
conversation (Fixture *f)
{
  SottoConversationModel *model = sotto_conversation_model_new (f->store, f->contact);

  SOTTO_TEST_WAIT_FOR (!sotto_conversation_model_get_loading (model));
  return model;
}

/* A file sits before the first message sent after it was offered; a new
 * message or file changes one row, not the list. */
static void
test_timeline_order (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr (SottoMessage) first = queue_text (f, "first");
  g_autoptr (SottoTransfer) plan = offer_text_file (f, "plan.txt");
  g_autoptr (SottoMessage) second = queue_text (f, "second");
  g_autoptr (SottoConversationModel) model = conversation (f);
  g_autoptr (SottoTimeline) timeline = sotto_timeline_new (model, f->files);
  g_autoptr (GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr (SottoMessage) third = NULL;
  g_autoptr (SottoTransfer) notes = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *last = NULL;
  Change *change;

  before = describe (G_LIST_MODEL (timeline));
  g_assert_cmpstr (before, ==, "m:first f:plan.txt m:second");
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (timeline)) == G_TYPE_OBJECT);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (timeline), 3));

  g_signal_connect (timeline, "items-changed", G_CALLBACK (on_items_changed_cb), changes);
  notes = offer_text_file (f, "notes.txt");
  after = describe (G_LIST_MODEL (timeline));
  g_assert_cmpstr (after, ==, "m:first f:plan.txt m:second f:notes.txt");
  g_assert_cmpuint (changes->len, ==, 1);
  change = &g_array_index (changes, Change, 0);
  g_assert_cmpuint (change->position, ==, 3);
  g_assert_cmpuint (change->removed, ==, 0);
  g_assert_cmpuint (change->added, ==, 1);

  third = queue_text (f, "third");
  SOTTO_TEST_WAIT_FOR (g_list_model_get_n_items (G_LIST_MODEL (timeline)) == 5);
  last = describe (G_LIST_MODEL (timeline));
  g_assert_cmpstr (last, ==, "m:first f:plan.txt m:second f:notes.txt m:third");
  g_assert_cmpuint (changes->len, ==, 2);
  change = &g_array_index (changes, Change, 1);
  g_assert_cmpuint (change->position, ==, 4);
  g_assert_cmpuint (change->removed, ==, 0);
  g_assert_cmpuint (change->added, ==, 1);

  /* Another contact's file is not in this conversation. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SottoContact) other = sotto_test_add_contact (f->store, "Cy", NULL, NULL, &error);
    g_autoptr (GBytes) bytes = g_bytes_new_static ("y", 1);
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (SottoTransfer) theirs = NULL;

    g_assert_no_error (error);
    sotto_file_transfer_offer_data_async (f->files, other, "theirs.txt", bytes, NULL,
                                          sotto_test_result_cb, &result);
    theirs = sotto_file_transfer_offer_finish (f->files, sotto_test_wait (&result), &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (timeline)), ==, 5);
    g_assert_cmpuint (changes->len, ==, 2);
  }
}

/* A file older than every message of the newest page shows up once the
 * page that reaches back to it is loaded, where it belongs. */
static void
test_timeline_older_page (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr (SottoMessage) opening = queue_text (f, "opening");
  g_autoptr (SottoTransfer) old = offer_text_file (f, "old.txt");
  g_autoptr (SottoConversationModel) model = NULL;
  g_autoptr (SottoTimeline) timeline = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GObject) head = NULL;
  g_autoptr (GObject) second = NULL;

  for (guint i = 0; i < SOTTO_CONVERSATION_PAGE; i++)
    {
      g_autofree char *body = g_strdup_printf ("later %u", i);

      g_object_unref (queue_text (f, body));
    }
  model = conversation (f);
  timeline = sotto_timeline_new (model, f->files);
  g_assert_false (sotto_conversation_model_get_complete (model));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (timeline)), ==,
                    SOTTO_CONVERSATION_PAGE);

  sotto_conversation_model_load_older_async (model, NULL, sotto_test_result_cb, &result);
  g_assert_true (sotto_conversation_model_load_older_finish (model, sotto_test_wait (&result),
                                                            NULL, &error));
  g_assert_no_error (error);
  SOTTO_TEST_WAIT_FOR (sotto_conversation_model_get_complete (model));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (timeline)), ==,
                    SOTTO_CONVERSATION_PAGE + 2);
  head = g_list_model_get_item (G_LIST_MODEL (timeline), 0);
  second = g_list_model_get_item (G_LIST_MODEL (timeline), 1);
  g_assert_true (SOTTO_IS_MESSAGE (head));
  g_assert_true (second == G_OBJECT (old));
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *data_home = g_dir_make_tmp ("sotto-test-XXXXXX", NULL);
  int status;

  /* Profiles in a folder of our own; not G_TEST_OPTION_ISOLATE_DIRS, which
   * would hide shared-mime-info's database too. */
  g_assert_nonnull (data_home);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/file-transfer/offer-data", Fixture, NULL, fixture_set_up, test_offer_data,
              fixture_tear_down);
  g_test_add ("/file-transfer/offer-data/names", Fixture, NULL, fixture_set_up,
              test_offer_data_names, fixture_tear_down);
  g_test_add ("/file-transfer/offer-data/sweep", Fixture, NULL, fixture_set_up,
              test_offer_data_sweep, fixture_tear_down);
  g_test_add ("/file-transfer/offer-path/kept", Fixture, NULL, fixture_set_up,
              test_offer_path_kept, fixture_tear_down);
  g_test_add ("/file-transfer/timeline/order", Fixture, NULL, fixture_set_up,
              test_timeline_order, fixture_tear_down);
  g_test_add ("/file-transfer/timeline/older-page", Fixture, NULL, fixture_set_up,
              test_timeline_older_page, fixture_tear_down);

  status = g_test_run ();
  sotto_test_rm_rf (data_home);
  return status;
}
