/* bench-store.c — how fast the encrypted store is, next to libsodium alone
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prints figures, measured in this run, each next to a baseline measured in
 * the same run; it does not pass or fail. Run it with
 * `build-aux/sotto-dev bench store`.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "sotto-core.h"
#include "sotto-test-util.h"
#include "sotto-store-private.h"

#define PASSPHRASE "bench"
#define PAGE       50
#define NEEDLE     "quarterly-report"

static const char *words[] = {
  "the", "meeting", "is", "at", "noon", "can", "you", "send", "me", "draft", "please",
  "thanks", "later", "lunch", "today", "budget", "review", "client", "call", "ok",
  "sure", "tomorrow", "morning", "server", "deploy", "ticket", "fixed", "numbers",
  "Grüße", "café", "ready", "waiting", "on", "for", "the", "printer", "again",
};

/* Chat-like text, 3 to 30 words; one in ten thousand mentions NEEDLE. */
static GPtrArray *
make_bodies (guint   n,
             GRand  *rand,
             guint  *n_needles)
{
  GPtrArray *bodies = g_ptr_array_new_full (n, g_free);

  *n_needles = 0;
  for (guint i = 0; i < n; i++)
    {
      GString *body = g_string_new (NULL);
      guint n_words = g_rand_int_range (rand, 3, 31);

      for (guint w = 0; w < n_words; w++)
        {
          if (w > 0)
            g_string_append_c (body, ' ');
          g_string_append (body, words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
        }
      if (g_rand_int_range (rand, 0, 10000) == 0)
        {
          g_string_append (body, " see the " NEEDLE);
          (*n_needles)++;
        }
      g_ptr_array_add (bodies, g_string_free (body, FALSE));
    }

  return bodies;
}

typedef struct
{
  SottoStore *store;
  guint       in_flight;
  guint       done;
} InsertState;

static void
queued_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  InsertState *state = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoMessage) message = sotto_store_queue_message_finish (state->store, result, &error);

  if (message == NULL)
    g_error ("queue: %s", error->message);
  state->in_flight--;
  state->done++;
}

static double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;
}

static SottoStore *
open_store (const char *dir)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoStore *store;

  sotto_store_open_async (dir, PASSPHRASE, NULL, sotto_test_result_cb, &result);
  store = sotto_store_open_finish (sotto_test_wait (&result), &error);
  if (store == NULL)
    g_error ("open: %s", error->message);
  return store;
}

static SottoContact *
add_contact (SottoStore *store,
             const char *name)
{
  g_autoptr (SottoIdentity) peer = sotto_identity_generate (name, NULL);
  g_autoptr (SottoInvite) invite = sotto_invite_new (sotto_identity_get_public_key (peer),
                                                     name, NULL, NULL);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoContact *contact;

  sotto_store_add_contact_async (store, invite, NULL, NULL, sotto_test_result_cb, &result);
  contact = sotto_store_add_contact_finish (store, sotto_test_wait (&result), &error);
  if (contact == NULL)
    g_error ("add: %s", error->message);
  return contact;
}

/* Baseline: what sealing alone costs, with the same cipher and sizes. */
static double
baseline_seal (GPtrArray  *bodies,
               GPtrArray **out_sealed)
{
  guint8 key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
  GPtrArray *sealed = g_ptr_array_new_full (bodies->len, (GDestroyNotify)g_bytes_unref);
  gint64 start;

  crypto_aead_xchacha20poly1305_ietf_keygen (key);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < bodies->len; i++)
    {
      const char *body = g_ptr_array_index (bodies, i);
      gsize len = strlen (body);
      guint8 *out = g_malloc (len + 24 + 16);
      unsigned long long out_len = 0;

      randombytes_buf (out, 24);
      crypto_aead_xchacha20poly1305_ietf_encrypt (out + 24, &out_len, (const guint8 *)body, len,
                                                  NULL, 0, NULL, out, key);
      g_ptr_array_add (sealed, g_bytes_new_take (out, out_len + 24));
    }

  if (out_sealed != NULL)
    *out_sealed = sealed;
  else
    g_ptr_array_unref (sealed);
  return seconds_since (start);
}

/* Baseline for search: decrypting the same number of bodies, nothing else. */
static double
baseline_open (GPtrArray *bodies)
{
  guint8 key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
  g_autoptr (GPtrArray) sealed = g_ptr_array_new_full (bodies->len, (GDestroyNotify)g_bytes_unref);
  guint8 plain[4096];
  gint64 start;

  crypto_aead_xchacha20poly1305_ietf_keygen (key);
  for (guint i = 0; i < bodies->len; i++)
    {
      const char *body = g_ptr_array_index (bodies, i);
      gsize len = strlen (body);
      guint8 *out = g_malloc (len + 24 + 16);
      unsigned long long out_len = 0;

      randombytes_buf (out, 24);
      crypto_aead_xchacha20poly1305_ietf_encrypt (out + 24, &out_len, (const guint8 *)body, len,
                                                  NULL, 0, NULL, out, key);
      g_ptr_array_add (sealed, g_bytes_new_take (out, out_len + 24));
    }

  start = g_get_monotonic_time ();
  for (guint i = 0; i < sealed->len; i++)
    {
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (g_ptr_array_index (sealed, i), &len);
      unsigned long long plain_len = 0;

      if (crypto_aead_xchacha20poly1305_ietf_decrypt (plain, &plain_len, NULL, data + 24, len - 24,
                                                      NULL, 0, data, key) != 0)
        g_error ("baseline decrypt failed");
    }

  return seconds_since (start);
}

/* Baseline: reading what search reads, straight from SQLite, no crypto. */
static double
baseline_read (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  sqlite3_stmt *stmt = NULL;
  sqlite3 *db = NULL;
  gsize bytes = 0;
  gint64 start;

  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, "SELECT id, body FROM messages ORDER BY id DESC", -1, &stmt,
                          NULL) != SQLITE_OK)
    g_error ("baseline read: %s", sqlite3_errmsg (db));

  start = g_get_monotonic_time ();
  while (sqlite3_step (stmt) == SQLITE_ROW)
    bytes += (gsize)sqlite3_column_bytes (stmt, 1) + (sqlite3_column_blob (stmt, 1) != NULL);
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  g_assert (bytes > 0);
  return seconds_since (start);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *)a;
  double y = *(const double *)b;

  return x < y ? -1 : x > y;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GOptionContext) options = g_option_context_new ("— store benchmark");
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261122);
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) busy = NULL;
  g_autoptr (SottoContact) chatty = NULL;
  g_autoptr (GPtrArray) bodies = NULL;
  g_autoptr (GPtrArray) history = NULL;
  g_autoptr (SottoContext) context = NULL;
  g_autofree char *dir = NULL;
  int n_messages = 100000;
  int n_history = 1000000;
  guint needles_a = 0;
  guint needles_b = 0;
  double seal_s;
  double insert_s;
  double open_s;
  double decrypt_s;
  double read_s;
  double search_s;
  double pages[30];
  guint found = 0;
  gint64 start;
  GOptionEntry entries[] = {
    { "messages", 0, 0, G_OPTION_ARG_INT, &n_messages, "Messages to insert one by one", "N" },
    { "history", 0, 0, G_OPTION_ARG_INT, &n_history, "Messages in the long conversation", "N" },
    { NULL }
  };

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    g_error ("%s", error->message);
  if (n_messages < 1000 || n_history < 10000)
    g_error ("--messages >= 1000 and --history >= 10000, please");

  context = sotto_context_new ("bench", NULL, &error);
  if (context == NULL || !sotto_context_ensure_profile_dir (context, &error))
    g_error ("%s", error->message);
  dir = g_strdup (sotto_context_get_profile_dir (context));

  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_create_async (dir, "Bench", SOTTO_KEY_PROTECTION_PASSPHRASE, PASSPHRASE,
                              SOTTO_PWHASH_OPSLIMIT_MIN, SOTTO_PWHASH_MEMLIMIT_MIN,
                              NULL, sotto_test_result_cb, &result);
    store = sotto_store_create_finish (sotto_test_wait (&result), &error);
    if (store == NULL)
      g_error ("create: %s", error->message);
  }
  busy = add_contact (store, "Busy");
  chatty = add_contact (store, "Chatty");

  g_print ("Sotto store benchmark, %d cores, libsodium %s, SQLite %s\n",
           g_get_num_processors (), sodium_version_string (), sqlite3_libversion ());

  /* 1. Inserting messages one by one, each durable before it completes. */
  bodies = make_bodies ((guint)n_messages, rand, &needles_a);
  seal_s = baseline_seal (bodies, NULL);
  {
    InsertState state = { store, 0, 0 };
    guint issued = 0;

    start = g_get_monotonic_time ();
    /* Up to 256 requests in flight, as a busy front end might have. */
    while (state.done < bodies->len)
      {
        while (issued < bodies->len && state.in_flight < 256)
          {
            sotto_store_queue_message_async (store, busy, g_ptr_array_index (bodies, issued),
                                             NULL, queued_cb, &state);
            issued++;
            state.in_flight++;
          }
        g_main_context_iteration (NULL, TRUE);
      }
    insert_s = seconds_since (start);
  }
  g_print ("\ninsert %d messages, one durable transaction each (synchronous=FULL):\n", n_messages);
  g_print ("  store:    %8.0f messages/s  (%.2f s)\n", n_messages / insert_s, insert_s);
  g_print ("  baseline: %8.0f seals/s with libsodium alone, same bodies  (%.3f s)\n",
           n_messages / seal_s, seal_s);

  /* 2. A conversation of n_history messages. */
  history = make_bodies ((guint)n_history, rand, &needles_b);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < history->len; i += 20000)
    {
      g_autoptr (GPtrArray) chunk = g_ptr_array_new ();
      g_autoptr (GAsyncResult) result = NULL;

      for (guint j = i; j < MIN (i + 20000, history->len); j++)
        g_ptr_array_add (chunk, g_ptr_array_index (history, j));
      _sotto_store_insert_history_async (store, chatty, chunk,
                                         g_get_real_time () - 400LL * 24 * 3600 * G_USEC_PER_SEC
                                           + (gint64)i * 30 * G_USEC_PER_SEC,
                                         30 * G_USEC_PER_SEC, sotto_test_result_cb, &result);
      if (!_sotto_store_insert_history_finish (store, sotto_test_wait (&result), &error))
        g_error ("history: %s", error->message);
    }
  g_print ("\nbuilt a %d-message conversation in %.1f s (bulk, 20000 per transaction)\n",
           n_history, seconds_since (start));

  g_clear_object (&busy);
  g_clear_object (&chatty);
  g_clear_object (&store);

  {
    g_autofree char *db = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
    GStatBuf st;

    g_stat (db, &st);
    start = g_get_monotonic_time ();
    store = open_store (dir);
    open_s = seconds_since (start);
    g_print ("open the profile (%.0f MB, integrity check and key unwrap included): %.0f ms\n",
             st.st_size / 1e6, open_s * 1000);
  }
  chatty = g_object_ref (sotto_store_find_contact (store, "Chatty", &error));

  /* 3. The newest page of the long conversation: what opening a chat costs. */
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (GPtrArray) page = NULL;

      start = g_get_monotonic_time ();
      sotto_store_history_async (store, chatty, 0, PAGE, NULL, sotto_test_result_cb, &result);
      page = sotto_store_history_finish (store, sotto_test_wait (&result), &error);
      pages[i] = seconds_since (start) * 1000;
      if (page == NULL || page->len != PAGE)
        g_error ("page: %s", error ? error->message : "short page");
    }
  qsort (pages, G_N_ELEMENTS (pages), sizeof pages[0], compare_doubles);
  g_print ("\nnewest page (%d messages) of the %d-message conversation, %u runs:\n",
           PAGE, n_history, (guint)G_N_ELEMENTS (pages));
  g_print ("  store:    median %.2f ms, worst %.2f ms  (target: at most 20 ms)\n",
           pages[G_N_ELEMENTS (pages) / 2], pages[G_N_ELEMENTS (pages) - 1]);

  /* 3b. The same through the model a chat view binds to. */
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autoptr (SottoConversationModel) model = NULL;

      start = g_get_monotonic_time ();
      model = sotto_conversation_model_new (store, chatty);
      while (sotto_conversation_model_get_loading (model))
        g_main_context_iteration (NULL, TRUE);
      pages[i] = seconds_since (start) * 1000;
      if (g_list_model_get_n_items (G_LIST_MODEL (model)) != SOTTO_CONVERSATION_PAGE)
        g_error ("model: short first page");
    }
  qsort (pages, G_N_ELEMENTS (pages), sizeof pages[0], compare_doubles);
  g_print ("  model:    median %.2f ms, worst %.2f ms from sotto_conversation_model_new() "
           "to its first %d messages\n",
           pages[G_N_ELEMENTS (pages) / 2], pages[G_N_ELEMENTS (pages) - 1],
           SOTTO_CONVERSATION_PAGE);

  /* 4. Searching everything. */
  decrypt_s = baseline_open (history);
  read_s = baseline_read (dir);
  {
    g_autoptr (GAsyncResult) result = NULL;

    start = g_get_monotonic_time ();
    sotto_store_search_async (store, NULL, NEEDLE, NULL, NULL, NULL, sotto_test_result_cb, &result);
    if (!sotto_store_search_finish (store, sotto_test_wait (&result), &found, &error))
      g_error ("search: %s", error->message);
    search_s = seconds_since (start);
  }
  g_print ("\nsearch all %d messages for \"%s\" (%u found, %u expected):\n",
           n_messages + n_history, NEEDLE, found, needles_a + needles_b);
  g_print ("  store:    %.2f s  (target: at most 1 s for 1,000,000)\n", search_s);
  g_print ("  baseline: %.2f s to decrypt the %d conversation bodies with libsodium alone\n",
           decrypt_s, n_history);
  g_print ("  baseline: %.2f s for SQLite alone to read every row's id and sealed body\n", read_s);

  if (found != needles_a + needles_b)
    g_error ("search found %u, expected %u", found, needles_a + needles_b);

  return 0;
}
