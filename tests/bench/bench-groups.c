/* bench-groups.c — a message to a 50-member group, next to 50 direct ones
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prints figures, each next to a baseline measured in the same run; it
 * does not pass or fail. Run it with `build-aux/sotto-dev bench groups`.
 *
 * Fifty peers in this one process (50 processes are too many for two
 * cores), each with its own profile, store and peer service, talking over
 * real loopback TCP. Peer 0 has the other 49 as contacts and makes a
 * group of all 50; the 49 are not each other's contacts, so they meet as
 * member-only peers. Then, in turns:
 *
 *  - group: peer 0 sends one message to the group; the time until the
 *    last of the 49 members has stored it;
 *  - direct (the baseline): peer 0 sends one direct message to each of
 *    the 49, all at once; the time until the last has stored its own.
 *
 * Both go over the same sessions, and every receiver stores one message
 * either way, so the ratio is what the group's fan-out costs (the
 * issue's target: at most 1.2 times the direct messages).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sodium.h>
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "sotto-core.h"
#include "sotto-peer-service.h"
#include "sotto-test-util.h"

#define PASSPHRASE "bench"
#define DEFAULT_MEMBERS 50
#define DEFAULT_ROUNDS 10
#define SETTLE_TIMEOUT_S 300

typedef struct
{
  SottoStore       *store;
  SottoPeerService *service;
  GSettings        *settings;
  guint             port;
  gboolean          joined;
} Peer;

typedef struct
{
  GPtrArray *peers;           /* Peer */
  char      *expect;          /* the body each receiver waits for */
  guint      received;        /* receivers that stored it */
  gint64     last_at;         /* when the last one did */
  guint      online;          /* peer 0's contacts online */
  guint      joined;
} Bench;

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static double
median_of (GArray *values)
{
  g_array_sort (values, compare_doubles);
  return g_array_index (values, double, values->len / 2);
}

static GSettings *
memory_settings (void)
{
  g_autoptr (GSettingsBackend) backend = g_memory_settings_backend_new ();

  return g_settings_new_with_backend (SCHEMA_ID, backend);
}

static void
on_online_cb (SottoPeerService *service,
              SottoContact     *contact,
              Bench            *bench)
{
  bench->online++;
}

static void
note_arrival (Bench        *bench,
              SottoMessage *message)
{
  if (bench->expect != NULL && g_str_equal (sotto_message_get_body (message), bench->expect))
    {
      bench->received++;
      bench->last_at = g_get_monotonic_time ();
    }
}

static void
on_received_cb (SottoPeerService *service,
                SottoContact     *contact,
                SottoMessage     *message,
                Bench            *bench)
{
  note_arrival (bench, message);
}

static void
on_group_received_cb (SottoPeerService *service,
                      SottoGroup       *group,
                      SottoContact     *sender,
                      SottoMessage     *message,
                      Bench            *bench)
{
  note_arrival (bench, message);
}

static void
on_joined_cb (SottoPeerService *service,
              SottoGroup       *group,
              Bench            *bench)
{
  bench->joined++;
}

static void
wait_until (guint   *counter,
            guint    wanted,
            guint    timeout_s,
            const char *what)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_s * G_USEC_PER_SEC;

  while (*counter < wanted)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("%s: %u of %u after %u s", what, *counter, wanted, timeout_s);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* Every member has a session with every other: the mesh has formed. */
static guint
count_sessions (Bench *bench)
{
  guint n = 0;

  for (guint i = 1; i < bench->peers->len; i++)
    {
      Peer *peer = g_ptr_array_index (bench->peers, i);
      GListModel *members = sotto_store_get_members (peer->store);
      guint m = g_list_model_get_n_items (members);

      for (guint j = 0; j < m; j++)
        {
          g_autoptr (SottoContact) other = g_list_model_get_item (members, j);

          n += sotto_peer_service_is_online (peer->service, other);
        }
    }
  return n;
}

static void
on_sent_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoMessage) message = NULL;

  if (g_task_get_source_tag (G_TASK (result)) == sotto_peer_service_send_group_async)
    message = sotto_peer_service_send_group_finish (SOTTO_PEER_SERVICE (object), result, &error);
  else
    message = sotto_peer_service_send_finish (SOTTO_PEER_SERVICE (object), result, &error);
  if (message == NULL)
    g_error ("send: %s", error->message);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *root = g_dir_make_tmp ("sotto-bench-groups-XXXXXX", NULL);
  g_autoptr (GPtrArray) peers = g_ptr_array_new ();
  g_autoptr (GArray) group_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) direct_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (SottoGroup) group = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) options = NULL;
  int n_members = DEFAULT_MEMBERS;
  int rounds = DEFAULT_ROUNDS;
  Bench bench = { 0 };
  Peer *creator;
  guint tick;
  gint64 start;
  guint mesh;
  const GOptionEntry entries[] = {
    { "members", 0, 0, G_OPTION_ARG_INT, &n_members, "Members of the group (default 50)", "N" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "Rounds of each kind (default 10)", "N" },
    { NULL }
  };

  options = g_option_context_new ("— a group message next to direct ones");
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    g_error ("%s", error->message);
  if (n_members < 2 || n_members > SOTTO_GROUP_MAX_MEMBERS || rounds < 1)
    g_error ("--members must be 2 to %d, --rounds at least 1", SOTTO_GROUP_MAX_MEMBERS);
  if (sodium_init () < 0)
    g_error ("libsodium");

  bench.peers = peers;
  /* Waits in the main loop wake up at least every 10 ms. */
  tick = sotto_test_tick_start ();
  printf ("groups: %d members in this process, loopback TCP, %d rounds of each\n", n_members, rounds);
  fflush (stdout);

  /* Profiles: peer 0 and each other one are each other's contacts. */
  start = g_get_monotonic_time ();
  for (int i = 0; i < n_members; i++)
    {
      Peer *peer = g_new0 (Peer, 1);
      g_autofree char *dir = g_strdup_printf ("%s/p%02d", root, i);
      g_autofree char *name = g_strdup_printf ("Member %02d", i);

      g_mkdir_with_parents (dir, 0700);
      peer->store = sotto_test_create_store (dir, name, SOTTO_KEY_PROTECTION_PASSPHRASE, PASSPHRASE,
                                             &error);
      if (peer->store == NULL)
        g_error ("create: %s", error->message);
      peer->port = sotto_test_low_free_port ();
      peer->settings = memory_settings ();
      g_ptr_array_add (peers, peer);
    }
  /* Fifty picks of a free port may pick one twice. */
  for (int i = 0; i < n_members; i++)
    for (int j = 0; j < i; j++)
      {
        Peer *a = g_ptr_array_index (peers, i);
        Peer *b = g_ptr_array_index (peers, j);

        if (a->port == b->port)
          {
            a->port = sotto_test_low_free_port ();
            j = -1;
          }
      }
  creator = g_ptr_array_index (peers, 0);
  for (int i = 1; i < n_members; i++)
    {
      Peer *peer = g_ptr_array_index (peers, i);

      g_autofree char *peer_address = g_strdup_printf ("127.0.0.1:%u", peer->port);
      g_autofree char *creator_address = g_strdup_printf ("127.0.0.1:%u", creator->port);

      g_object_unref (sotto_test_add_identity (creator->store, sotto_store_get_identity (peer->store),
                                               peer_address));
      g_object_unref (sotto_test_add_identity (peer->store, sotto_store_get_identity (creator->store),
                                               creator_address));
    }

  for (int i = 0; i < n_members; i++)
    {
      Peer *peer = g_ptr_array_index (peers, i);

      peer->service = sotto_peer_service_new (peer->store, peer->settings);
      sotto_peer_service_set_port (peer->service, peer->port);
      if (i == 0)
        g_signal_connect (peer->service, "contact-online", G_CALLBACK (on_online_cb), &bench);
      else
        {
          g_signal_connect (peer->service, "message-received", G_CALLBACK (on_received_cb), &bench);
          g_signal_connect (peer->service, "group-message-received",
                            G_CALLBACK (on_group_received_cb), &bench);
          g_signal_connect (peer->service, "group-joined", G_CALLBACK (on_joined_cb), &bench);
        }
      if (!sotto_peer_service_start (peer->service, &error))
        g_error ("start: %s", error->message);
    }
  wait_until (&bench.online, (guint)n_members - 1, SETTLE_TIMEOUT_S, "contacts online");
  printf ("  set-up: %d profiles, all online: %.1f s\n", n_members,
          (g_get_monotonic_time () - start) / 1e6);
  fflush (stdout);

  /* The group, and every member's sessions with the others. */
  start = g_get_monotonic_time ();
  {
    g_autoptr (GPtrArray) contacts = g_ptr_array_new_with_free_func (g_object_unref);
    GListModel *model = sotto_store_get_contacts (creator->store);
    g_autoptr (GAsyncResult) result = NULL;

    for (guint i = 0; i < g_list_model_get_n_items (model); i++)
      g_ptr_array_add (contacts, g_list_model_get_item (model, i));
    sotto_peer_service_create_group_async (creator->service, "Everyone", contacts, NULL,
                                           sotto_test_result_cb, &result);
    group = sotto_peer_service_change_group_finish (creator->service, sotto_test_wait (&result),
                                                    &error);
    if (group == NULL)
      g_error ("group: %s", error->message);
  }
  wait_until (&bench.joined, (guint)n_members - 1, SETTLE_TIMEOUT_S, "members joined");
  {
    guint wanted = (guint)(n_members - 1) * (guint)(n_members - 2);
    gint64 deadline = g_get_monotonic_time () + SETTLE_TIMEOUT_S * G_USEC_PER_SEC;

    while ((mesh = count_sessions (&bench)) < wanted && g_get_monotonic_time () < deadline)
      sotto_test_spin (200);
    printf ("  group made, all joined, %u of %u member sessions up: %.1f s\n", mesh, wanted,
            (g_get_monotonic_time () - start) / 1e6);
  }
  fflush (stdout);

  /* In turns, so that a slow moment of the disk falls on both alike. */
  for (int round = 0; round < 2 * rounds; round++)
    {
      gboolean as_group = round % 2 == 0;
      g_autofree char *body = g_strdup_printf ("%s round %d: the quarterly numbers look fine",
                                               as_group ? "group" : "direct", round);

      g_free (bench.expect);
      bench.expect = g_strdup (body);
      bench.received = 0;
      start = g_get_monotonic_time ();
      if (as_group)
        sotto_peer_service_send_group_async (creator->service, group, body, NULL, on_sent_cb, NULL);
      else
        {
          GListModel *model = sotto_store_get_contacts (creator->store);

          for (guint i = 0; i < g_list_model_get_n_items (model); i++)
            {
              g_autoptr (SottoContact) contact = g_list_model_get_item (model, i);

              sotto_peer_service_send_async (creator->service, contact, body, NULL, on_sent_cb, NULL);
            }
        }
      wait_until (&bench.received, (guint)n_members - 1, 120, as_group ? "group" : "direct");
      {
        double ms = (double)(bench.last_at - start) / 1000.0;

        g_array_append_val (as_group ? group_ms : direct_ms, ms);
      }
      /* Receipts and stragglers settle before the next round. */
      sotto_test_spin (300);
    }

  {
    double g = median_of (group_ms);
    double d = median_of (direct_ms);

    printf ("  one message to the group of %d, until the last member stored it: median %.1f ms\n",
            n_members, g);
    printf ("  baseline: %d direct messages, one to each, until the last stored: median %.1f ms\n",
            n_members - 1, d);
    printf ("  group / direct: %.2f (target: at most 1.20)\n", g / d);
  }

  for (guint i = 0; i < peers->len; i++)
    {
      Peer *peer = g_ptr_array_index (peers, i);

      sotto_peer_service_stop (peer->service);
      g_clear_object (&peer->service);
      sotto_test_close_store (&peer->store);
      g_clear_object (&peer->settings);
      g_free (peer);
    }
  g_free (bench.expect);
  g_source_remove (tick);
  sotto_test_rm_rf (root);
  return 0;
}
