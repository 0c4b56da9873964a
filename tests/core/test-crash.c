/* test-crash.c — queued messages survive kill -9 of the process at any moment
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The store's promise: once sotto_store_queue_message_finish() has returned
 * a message, it is on disk with its outbox row. crash-writer queues messages
 * one after another and reports each one only after that point; we kill it
 * with SIGKILL at random moments, then open the profile ourselves and check
 * that every reported message is there, byte for byte, still queued, and
 * that nothing else appeared but the one message that may have been in
 * flight when the signal came.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sotto-core.h"
#include "sotto-store.h"
#include "sotto-test-util.h"

/* sotto_test_create_store() uses fast Argon2id: each child opens the profile. */
#define TEST_PASSPHRASE "crash test passphrase"

#define DEFAULT_ITERATIONS 300
#define MIN_ITERATIONS     200
/* Every run re-reads the whole history, so the cost grows with its square;
 * a fresh profile now and then keeps the test quick under sanitizers too. */
#define RUNS_PER_PROFILE   50
/* An odd page size, so that reading the history takes several pages
 * whose edges fall anywhere. */
#define HISTORY_PAGE       331
/* A child that has not been killed and ended within this is stuck. */
#define CHILD_DEADLINE_USEC (30 * G_USEC_PER_SEC)

/* ------------------------------------------------------------------ */
/* Synchronous wrappers                                               */

static char *
make_profile (void)
{
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;

  store = sotto_test_create_store (dir, "Crash Tester", SOTTO_KEY_PROTECTION_PASSPHRASE,
                                   TEST_PASSPHRASE, &error);
  g_assert_no_error (error);
  contact = sotto_test_add_contact (store, "Crash Peer", NULL, NULL, &error);
  g_assert_no_error (error);

  g_clear_object (&contact);
  sotto_test_close_store (&store);

  return g_steal_pointer (&dir);
}

/* ------------------------------------------------------------------ */
/* One child: spawn, let it write, kill it, collect what it reported  */

typedef struct
{
  GSubprocess  *process;
  GInputStream *stdout_pipe;
  GString      *output;
  guint         delay_ms;
  gboolean      wait_for_ready;
  gboolean      ready;
  gboolean      killed;
  gboolean      eof;
  guint         kill_source;
  GError       *error;
  char          chunk[4096];
} Child;

static gboolean
on_kill_timeout_cb (gpointer user_data)
{
  Child *child = user_data;

  child->kill_source = 0;
  child->killed = TRUE;
  g_subprocess_send_signal (child->process, SIGKILL);

  return G_SOURCE_REMOVE;
}

/* Before "ready" nothing else would wake us: the profile lock still held,
 * say, or an open that never ends. */
static gboolean
on_stuck_timeout_cb (gpointer user_data)
{
  Child *child = user_data;

  g_subprocess_send_signal (child->process, SIGKILL);
  g_error ("crash-writer did not get going within %d s; its output so far: %s",
           (int)(CHILD_DEADLINE_USEC / G_USEC_PER_SEC), child->output->str);

  return G_SOURCE_REMOVE;
}

static void
start_kill_timer (Child *child)
{
  g_assert_cmpuint (child->kill_source, ==, 0);
  child->kill_source = g_timeout_add (child->delay_ms, on_kill_timeout_cb, child);
}

static void read_more (Child *child);

static void
on_stdout_read_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Child *child = user_data;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &child->error);
  if (n <= 0)
    {
      child->eof = TRUE;
      g_main_context_wakeup (NULL);
      return;
    }

  g_string_append_len (child->output, child->chunk, n);

  /* The random delay counts from the moment the profile is open: the
   * start-up would otherwise swallow most of the kills. */
  if (child->wait_for_ready && !child->ready && strchr (child->output->str, '\n') != NULL)
    {
      child->ready = TRUE;
      g_assert_true (g_str_has_prefix (child->output->str, "ready\n"));
      if (!child->killed)
        start_kill_timer (child);
    }

  read_more (child);
}

static void
read_more (Child *child)
{
  g_input_stream_read_async (child->stdout_pipe, child->chunk, sizeof child->chunk,
                             G_PRIORITY_DEFAULT, NULL, on_stdout_read_cb, child);
}

/* Runs crash-writer once and returns everything it wrote to stdout. The
 * pipe is read all along, so that a full pipe never stalls the writer. */
static char *
run_and_kill_writer (const char *writer,
                     const char *dir,
                     guint       run,
                     gboolean    wait_for_ready,
                     guint       delay_ms)
{
  g_autofree char *run_text = g_strdup_printf ("%u", run);
  g_autoptr (GError) error = NULL;
  Child child = { 0 };
  guint stuck_source;

  child.output = g_string_new (NULL);
  child.delay_ms = delay_ms;
  child.wait_for_ready = wait_for_ready;
  child.process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                                    writer, dir, TEST_PASSPHRASE, run_text, NULL);
  g_assert_no_error (error);
  child.stdout_pipe = g_subprocess_get_stdout_pipe (child.process);

  if (!wait_for_ready)
    start_kill_timer (&child);
  stuck_source = g_timeout_add (CHILD_DEADLINE_USEC / 1000, on_stuck_timeout_cb, &child);
  read_more (&child);

  while (!child.eof)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (stuck_source);
  g_assert_no_error (child.error);

  g_subprocess_wait (child.process, NULL, &error);
  g_assert_no_error (error);

  /* A writer that ended by itself failed; its message is on our stderr. */
  if (!child.killed || !g_subprocess_get_if_signaled (child.process) ||
      g_subprocess_get_term_sig (child.process) != SIGKILL)
    {
      if (g_subprocess_get_if_exited (child.process))
        g_error ("crash-writer run %u exited with status %d before it was killed; output: %s",
                 run, g_subprocess_get_exit_status (child.process), child.output->str);
      else
        g_error ("crash-writer run %u died of signal %d before it was killed; output: %s",
                 run, g_subprocess_get_term_sig (child.process), child.output->str);
    }

  g_clear_handle_id (&child.kill_source, g_source_remove);
  g_clear_object (&child.process);

  return g_string_free (child.output, FALSE);
}

/* ------------------------------------------------------------------ */
/* Bookkeeping                                                        */

typedef struct
{
  char   *uid_hex;
  gint64  id;
  char   *body;
} Known;

static void
known_free (Known *known)
{
  g_free (known->uid_hex);
  g_free (known->body);
  g_free (known);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Known, known_free)

/* Parses what one child reported, checking it is what it should have
 * written: "ready", then "committed UID ID crash-test RUN 0", "... 1", ... */
static GPtrArray *
parse_report (const char *output,
              guint       run)
{
  g_autoptr (GPtrArray) reported = g_ptr_array_new_with_free_func ((GDestroyNotify)known_free);
  g_auto (GStrv) lines = g_strsplit (output, "\n", -1);
  guint n_lines = g_strv_length (lines);

  /* The last piece has no newline: empty, or a line the kill cut short,
   * which does not count as reported. */
  for (guint i = 0; i + 1 < n_lines; i++)
    {
      g_autoptr (Known) known = g_new0 (Known, 1);
      g_autofree char *expected_body = NULL;
      g_auto (GStrv) fields = NULL;
      gint64 id = 0;

      if (i == 0)
        {
          g_assert_cmpstr (lines[i], ==, "ready");
          continue;
        }

      /* "committed", the uid, the id, and the body, which has spaces. */
      fields = g_strsplit (lines[i], " ", 4);
      g_assert_cmpuint (g_strv_length (fields), ==, 4);
      g_assert_cmpstr (fields[0], ==, "committed");
      g_assert_cmpuint (strlen (fields[1]), ==, 2 * SOTTO_MESSAGE_UID_LEN);
      g_assert_true (g_ascii_string_to_signed (fields[2], 10, 1, G_MAXINT64, &id, NULL));
      expected_body = g_strdup_printf ("crash-test %u %u", run, reported->len);
      g_assert_cmpstr (fields[3], ==, expected_body);

      known->uid_hex = g_strdup (fields[1]);
      known->id = id;
      known->body = g_strdup (fields[3]);
      g_ptr_array_add (reported, g_steal_pointer (&known));
    }

  return g_steal_pointer (&reported);
}

static void
assert_message_is (SottoMessage *message,
                   SottoContact *contact,
                   const Known  *known)
{
  g_autofree char *uid_hex = sotto_message_dup_uid_hex (message);

  g_assert_cmpstr (uid_hex, ==, known->uid_hex);
  g_assert_cmpstr (sotto_message_get_body (message), ==, known->body);
  g_assert_cmpint (sotto_message_get_id (message), ==, known->id);
  g_assert_cmpint (sotto_message_get_contact_id (message), ==, sotto_contact_get_id (contact));
  g_assert_cmpint (sotto_message_get_direction (message), ==, SOTTO_DIRECTION_OUT);
  /* Nothing was ever delivered: every message is still waiting. */
  g_assert_cmpint (sotto_message_get_state (message), ==, SOTTO_MESSAGE_QUEUED);
  g_assert_cmpint (sotto_message_get_sent (message), >, 0);
  g_assert_cmpint (sotto_message_get_received (message), ==, 0);
}

/* How many of @expected are not in @stored, each one logged. */
static guint
count_missing (GPtrArray  *stored,
               GPtrArray  *expected,
               const char *from)
{
  g_autoptr (GHashTable) uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n_missing = 0;

  for (guint i = 0; i < stored->len; i++)
    g_hash_table_add (uids, sotto_message_dup_uid_hex (g_ptr_array_index (stored, i)));

  for (guint i = 0; i < expected->len; i++)
    {
      Known *known = g_ptr_array_index (expected, i);

      if (!g_hash_table_contains (uids, known->uid_hex))
        {
          g_test_message ("lost: \"%s\" (uid %s, id %" G_GINT64_FORMAT "), reported committed "
                          "in %s", known->body, known->uid_hex, known->id, from);
          n_missing++;
        }
    }

  return n_missing;
}

/* ------------------------------------------------------------------ */
/* The test                                                           */

static char *
find_writer (void)
{
  const char *env = g_getenv ("SOTTO_CRASH_WRITER");
  g_autofree char *self = NULL;
  g_autofree char *dir = NULL;

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);

  /* Built next to this program. */
  self = g_file_read_link ("/proc/self/exe", NULL);
  g_assert_nonnull (self);
  dir = g_path_get_dirname (self);
  return g_build_filename (dir, "crash-writer", NULL);
}

static guint
n_iterations (void)
{
  const char *env = g_getenv ("SOTTO_CRASH_ITERATIONS");
  guint64 n = DEFAULT_ITERATIONS;

  if (env != NULL && !g_ascii_string_to_unsigned (env, 10, 1, G_MAXUINT, &n, NULL))
    g_error ("SOTTO_CRASH_ITERATIONS must be a positive number, not “%s”", env);

  return MAX ((guint)n, MIN_ITERATIONS);
}

static void
test_crash_kill_9_loop (void)
{
  g_autofree char *writer = find_writer ();
  g_autofree char *dir = NULL;
  g_autoptr (GPtrArray) known = g_ptr_array_new_with_free_func ((GDestroyNotify)known_free);
  /* Across all profiles: a uid is never made twice. */
  g_autoptr (GHashTable) seen_uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint iterations = n_iterations ();
  guint n_early = 0;
  guint n_nothing_reported = 0;
  guint n_with_reports = 0;
  guint n_reported = 0;
  guint n_in_flight = 0;
  guint n_stored = 0;
  guint n_profiles = 0;
  guint64 n_checked = 0;
  gint64 start = g_get_monotonic_time ();

  g_test_summary ("Every message reported committed by sotto_store_queue_message_finish() "
                  "survives SIGKILL of the writing process at a random moment, and "
                  "nothing but at most one in-flight message appears.");

  if (!g_file_test (writer, G_FILE_TEST_IS_EXECUTABLE))
    g_error ("crash-writer not found at %s (set SOTTO_CRASH_WRITER)", writer);

  for (guint run = 0; run < iterations; run++)
    {
      g_autoptr (SottoStore) store = NULL;
      g_autoptr (SottoContact) contact = NULL;
      g_autoptr (GPtrArray) reported = NULL;
      g_autoptr (GPtrArray) stored = NULL;
      g_autoptr (GPtrArray) queue = NULL;
      g_autoptr (GPtrArray) queue_contact = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *output = NULL;
      /* One kill in eight lands anywhere from exec to the first writes. */
      gboolean early = g_test_rand_int_range (0, 8) == 0;
      guint delay_ms = early ? (guint)g_test_rand_int_range (0, 16)
                             : (guint)g_test_rand_int_range (1, 41);
      guint n_before;
      guint n_missing;
      guint extra;

      if (run % RUNS_PER_PROFILE == 0)
        {
          if (dir != NULL)
            sotto_test_rm_rf (dir);
          g_clear_pointer (&dir, g_free);
          dir = make_profile ();
          g_ptr_array_set_size (known, 0);
          n_profiles++;
        }
      n_before = known->len;

      output = run_and_kill_writer (writer, dir, run, !early, delay_ms);
      reported = parse_report (output, run);

      /* Opening includes PRAGMA quick_check and the WAL recovery. */
      store = sotto_test_open_store (dir, TEST_PASSPHRASE, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_contacts (store)), ==, 1);
      contact = g_list_model_get_item (sotto_store_get_contacts (store), 0);

      stored = sotto_test_full_history (store, contact, HISTORY_PAGE);

      /* First the promise itself: name every reported message that is gone. */
      n_missing = count_missing (stored, known, "an earlier run") +
                  count_missing (stored, reported, "this run");
      if (n_missing > 0)
        g_error ("run %u: %u messages reported as committed are missing from the store",
                 run, n_missing);

      /* Earlier runs' messages, then this run's reported ones, in order. */
      g_assert_cmpuint (stored->len, >=, n_before + reported->len);
      for (guint i = 0; i < n_before; i++)
        assert_message_is (g_ptr_array_index (stored, i), contact, g_ptr_array_index (known, i));
      for (guint i = 0; i < reported->len; i++)
        {
          Known *report = g_ptr_array_index (reported, i);

          g_assert_false (g_hash_table_contains (seen_uids, report->uid_hex));
          assert_message_is (g_ptr_array_index (stored, n_before + i), contact, report);
        }

      /* At most the one message that was being committed when the signal
       * came, and then it is exactly the next one the writer would have
       * reported. */
      extra = stored->len - n_before - reported->len;
      if (extra > 1)
        {
          for (guint i = n_before + reported->len; i < stored->len; i++)
            g_test_message ("unexpected message %u: \"%s\"", i,
                            sotto_message_get_body (g_ptr_array_index (stored, i)));
          g_error ("run %u: %u messages appeared that the writer never reported", run, extra);
        }

      g_ptr_array_extend_and_steal (known, g_steal_pointer (&reported));
      if (extra == 1)
        {
          SottoMessage *message = g_ptr_array_index (stored, stored->len - 1);
          Known *in_flight = g_new0 (Known, 1);

          in_flight->uid_hex = sotto_message_dup_uid_hex (message);
          in_flight->id = sotto_message_get_id (message);
          in_flight->body = g_strdup_printf ("crash-test %u %u", run, known->len - n_before);
          g_assert_false (g_hash_table_contains (seen_uids, in_flight->uid_hex));
          assert_message_is (message, contact, in_flight);
          g_ptr_array_add (known, in_flight);
          n_in_flight++;
        }

      for (guint i = n_before; i < known->len; i++)
        {
          Known *k = g_ptr_array_index (known, i);
          g_hash_table_add (seen_uids, g_strdup (k->uid_hex));
        }

      /* Every message is still in the outbox, in order, nothing else. The
       * contact's queue says the same as the whole one; reading both every
       * time would only cost time. */
      queue = sotto_test_outbox (store, NULL);
      g_assert_cmpuint (queue->len, ==, known->len);
      for (guint i = 0; i < known->len; i++)
        assert_message_is (g_ptr_array_index (queue, i), contact, g_ptr_array_index (known, i));
      if (run % 8 == 0 || run + 1 == iterations)
        {
          queue_contact = sotto_test_outbox (store, contact);
          g_assert_cmpuint (queue_contact->len, ==, known->len);
          for (guint i = 0; i < known->len; i++)
            assert_message_is (g_ptr_array_index (queue_contact, i), contact,
                               g_ptr_array_index (known, i));
          n_checked += queue_contact->len;
        }

      n_checked += stored->len + queue->len;
      n_reported += known->len - n_before - extra;
      if (early)
        n_early++;
      else if (known->len - n_before - extra == 0)
        n_nothing_reported++;
      else
        n_with_reports++;

      if ((run + 1) % RUNS_PER_PROFILE == 0 || run + 1 == iterations)
        n_stored += known->len;

      g_clear_object (&contact);
      sotto_test_close_store (&store);
    }

  g_test_message ("%u kill -9 iterations in %.1f s: %u early kills, %u after ready with "
                  "nothing reported yet, %u with messages reported",
                  iterations, (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC,
                  n_early, n_nothing_reported, n_with_reports);
  g_test_message ("%u messages reported committed, %u more found committed but unreported "
                  "(in flight at the kill), %u in %u profiles at the end; "
                  "%" G_GUINT64_FORMAT " message checks in history and outbox",
                  n_reported, n_in_flight, n_stored, n_profiles, n_checked);
  g_assert_cmpuint (n_stored, ==, n_reported + n_in_flight);

  /* A test whose kills all came too early would prove nothing. */
  g_assert_cmpuint (n_with_reports, >=, iterations / 4);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/store/crash/kill-9-loop", test_crash_kill_9_loop);

  return g_test_run ();
}
