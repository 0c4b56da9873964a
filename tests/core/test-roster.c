/* test-roster.c — the buddy list model, on real stores and, at the end,
 * two real peer services on loopback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Most tests drive the roster through a peer service that is never
 * started: the test emits its signals (presence, typing, offline) the way
 * the service does when a session says so. The last test has a real
 * peer on the other end.
 */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <sodium.h>
#define G_SETTINGS_ENABLE_BACKEND 1
#include <gio/gsettingsbackend.h>

#include "sotto-core.h"
#include "sotto-peer-service-private.h"
#include "sotto-roster-private.h"
#include "sotto-session.h"
#include "sotto-test-util.h"

/* ------------------------------------------------------------------ */
/* A store, a service that is never started, a roster, what it said   */

typedef struct
{
  char             *dir;
  SottoStore       *store;
  GSettings        *settings;
  SottoPeerService *service;
  SottoRoster      *roster;
  GString          *changes;   /* items-changed, as "pos-removed+added " */
} Fixture;

static void
on_items_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     Fixture    *fixture)
{
  g_string_append_printf (fixture->changes, "%u-%u+%u ", position, removed, added);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr (GSettingsBackend) backend = g_memory_settings_backend_new ();
  g_autoptr (GError) error = NULL;

  fixture->dir = sotto_test_make_profile_dir ();
  fixture->store = sotto_test_create_store (fixture->dir, "Owner", SOTTO_KEY_PROTECTION_PASSPHRASE,
                                            "pw", &error);
  g_assert_no_error (error);
  fixture->settings = g_settings_new_with_backend (SCHEMA_ID, backend);
  fixture->service = sotto_peer_service_new (fixture->store, fixture->settings);
  fixture->changes = g_string_new (NULL);
}

/* The roster, made once the test has its contacts, with its first
 * summaries read. */
static SottoRoster *
fixture_roster (Fixture *fixture)
{
  if (fixture->roster == NULL)
    {
      fixture->roster = sotto_roster_new (fixture->store, fixture->service);
      g_signal_connect (fixture->roster, "items-changed", G_CALLBACK (on_items_changed_cb),
                        fixture);
      sotto_test_spin (50);
    }
  return fixture->roster;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->roster);
  g_clear_object (&fixture->service);
  sotto_test_spin (20);
  sotto_test_close_store (&fixture->store);
  g_clear_object (&fixture->settings);
  sotto_test_rm_rf (fixture->dir);
  g_free (fixture->dir);
  g_string_free (fixture->changes, TRUE);
}

static SottoContact *
add (Fixture    *fixture,
     const char *name)
{
  g_autoptr (GError) error = NULL;
  SottoContact *contact = sotto_test_add_contact (fixture->store, name, NULL, NULL, &error);

  g_assert_no_error (error);
  g_object_unref (contact);  /* the store's model keeps it */
  return contact;
}

static SottoContact *
contact_named (Fixture    *fixture,
               const char *name)
{
  GListModel *contacts = sotto_store_get_contacts (fixture->store);

  for (guint i = 0; i < g_list_model_get_n_items (contacts); i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (contacts, i);

      if (g_str_equal (sotto_contact_get_name (contact), name))
        return contact;  /* the model keeps it */
    }
  g_assert_not_reached ();
}

static SottoRosterItem *
item_of (Fixture      *fixture,
         SottoContact *contact)
{
  SottoRosterItem *item = sotto_roster_find (fixture_roster (fixture),
                                             sotto_contact_get_id (contact));

  g_assert_nonnull (item);
  return item;
}

static void
update (Fixture      *fixture,
        SottoContact *contact,
        const char   *alias,
        int           blocked,
        int           verification)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_test_update_contact (fixture->store, contact, alias, blocked, verification,
                                            &error));
  g_assert_no_error (error);
}

/* As the service says it when a PRESENCE arrives. */
static void
say_presence (Fixture       *fixture,
              SottoContact  *contact,
              SottoPresence  presence)
{
  g_signal_emit_by_name (fixture->service, "presence", contact, (guint)presence);
}

static void
say_offline (Fixture      *fixture,
             SottoContact *contact)
{
  g_autoptr (GError) reason = g_error_new_literal (SOTTO_SESSION_ERROR,
                                                   SOTTO_SESSION_ERROR_PEER_CLOSED, "gone");

  g_signal_emit_by_name (fixture->service, "contact-offline", contact, reason);
}

static void
say_typing (Fixture      *fixture,
            SottoContact *contact,
            gboolean      typing)
{
  g_signal_emit_by_name (fixture->service, "typing", contact, typing);
}

static SottoMessage *
receive (Fixture      *fixture,
         SottoContact *contact,
         const char   *body)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  guint8 uid[SOTTO_MESSAGE_UID_LEN];
  SottoMessage *message;

  randombytes_buf (uid, sizeof uid);
  sotto_store_save_incoming_async (fixture->store, contact, uid, g_get_real_time (), body, NULL,
                                   sotto_test_result_cb, &result);
  message = sotto_store_save_incoming_finish (fixture->store, sotto_test_wait (&result), NULL,
                                              &error);
  g_assert_no_error (error);
  return message;
}

static SottoMessage *
write_to (Fixture      *fixture,
          SottoContact *contact,
          const char   *body)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoMessage *message;

  sotto_store_queue_message_async (fixture->store, contact, body, NULL, sotto_test_result_cb,
                                   &result);
  message = sotto_store_queue_message_finish (fixture->store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  return message;
}

static void
mark_read (Fixture      *fixture,
           SottoContact *contact,
           gint64        up_to_id)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) uids = NULL;
  g_autoptr (GError) error = NULL;

  sotto_store_mark_read_async (fixture->store, contact, up_to_id, NULL, sotto_test_result_cb,
                               &result);
  uids = sotto_store_mark_read_finish (fixture->store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
}

/* The names the roster shows, in order: "Ann,Bob". */
static char *
shown (Fixture *fixture)
{
  GListModel *model = G_LIST_MODEL (fixture_roster (fixture));
  GString *names = g_string_new (NULL);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (SottoRosterItem) item = g_list_model_get_item (model, i);

      g_assert_true (G_TYPE_CHECK_INSTANCE_TYPE (item, SOTTO_TYPE_ROSTER_ITEM));
      g_string_append_printf (names, "%s%s", i > 0 ? "," : "", sotto_roster_item_get_name (item));
    }
  g_assert_null (g_list_model_get_item (model, g_list_model_get_n_items (model)));
  return g_string_free (names, FALSE);
}

#define assert_shown(fixture, expected)                                        \
  G_STMT_START                                                                 \
  {                                                                            \
    g_autofree char *shown_ = shown (fixture);                                 \
    g_assert_cmpstr (shown_, ==, expected);                                    \
  }                                                                            \
  G_STMT_END

/* What items-changed said since the last look, then forgotten. */
static char *
take_changes (Fixture *fixture)
{
  char *changes = g_strdup (g_strchomp (fixture->changes->str));

  g_string_truncate (fixture->changes, 0);
  return changes;
}

#define assert_changes(fixture, expected)                                      \
  G_STMT_START                                                                 \
  {                                                                            \
    g_autofree char *changes_ = take_changes (fixture);                        \
    g_assert_cmpstr (changes_, ==, expected);                                  \
  }                                                                            \
  G_STMT_END

static void
count_cb (guint *count)
{
  (*count)++;
}

/* ------------------------------------------------------------------ */
/* Order                                                              */

typedef struct
{
  const char    *name;
  SottoPresence  presence;
  gboolean       blocked;
} Person;

typedef struct
{
  const char   *what;
  const Person *people;     /* ends with a NULL name */
  const char   *expected;
} OrderCase;

static const OrderCase order_cases[] = {
  {
    "by name, case and accents aside",
    (const Person[]) { { "bob" }, { "Alice" }, { "carol" }, { "\xc3\x89mile" }, { "eve" },
                       { "Zo\xc3\xab" }, { "zack" }, { NULL } },
    "Alice,bob,carol,\xc3\x89mile,eve,zack,Zo\xc3\xab",
  },
  {
    "available, then away, then offline",
    (const Person[]) { { "Alice", SOTTO_PRESENCE_OFFLINE }, { "bob", SOTTO_PRESENCE_AWAY },
                       { "carol", SOTTO_PRESENCE_AVAILABLE }, { "Dave", SOTTO_PRESENCE_AVAILABLE },
                       { "eve", SOTTO_PRESENCE_AWAY }, { "Frank", SOTTO_PRESENCE_OFFLINE },
                       { NULL } },
    "carol,Dave,bob,eve,Alice,Frank",
  },
  {
    "blocked last, after the offline",
    (const Person[]) { { "Mallory", SOTTO_PRESENCE_OFFLINE, TRUE },
                       { "Trent", SOTTO_PRESENCE_AWAY },
                       { "Oscar", SOTTO_PRESENCE_OFFLINE },
                       { "Aaron", SOTTO_PRESENCE_OFFLINE, TRUE },
                       { "Zed", SOTTO_PRESENCE_AVAILABLE }, { NULL } },
    "Zed,Trent,Oscar,Aaron,Mallory",
  },
  {
    "the same name twice: in the order they were added",
    (const Person[]) { { "Sam" }, { "sam" }, { "Sam" }, { "Al" }, { NULL } },
    "Al,Sam,sam,Sam",
  },
};

static void
test_order (Fixture       *fixture,
            gconstpointer  data)
{
  const OrderCase *order_case = data;

  for (const Person *p = order_case->people; p->name != NULL; p++)
    add (fixture, p->name);
  fixture_roster (fixture);
  for (const Person *p = order_case->people; p->name != NULL; p++)
    {
      SottoContact *contact = contact_named (fixture, p->name);

      if (p->presence != SOTTO_PRESENCE_OFFLINE)
        say_presence (fixture, contact, p->presence);
      if (p->blocked)
        update (fixture, contact, NULL, 1, -1);
    }
  sotto_test_spin (20);

  g_test_message ("%s", order_case->what);
  assert_shown (fixture, order_case->expected);
}

/* A change of presence, name or blocking moves one item: one removal,
 * one insertion; no change, no signal. */
static void
test_order_moves_one_item (Fixture       *fixture,
                           gconstpointer  data)
{
  SottoContact *dave;
  SottoContact *bob;

  add (fixture, "Ann");
  bob = add (fixture, "Bob");
  add (fixture, "Cat");
  dave = add (fixture, "Dave");
  add (fixture, "Eve");
  assert_shown (fixture, "Ann,Bob,Cat,Dave,Eve");
  assert_changes (fixture, "");

  say_presence (fixture, dave, SOTTO_PRESENCE_AVAILABLE);
  assert_shown (fixture, "Dave,Ann,Bob,Cat,Eve");
  assert_changes (fixture, "3-1+0 0-0+1");
  say_presence (fixture, dave, SOTTO_PRESENCE_AVAILABLE);
  assert_changes (fixture, "");
  /* Away still comes before the offline Ann: it stays where it is. */
  say_presence (fixture, dave, SOTTO_PRESENCE_AWAY);
  assert_changes (fixture, "");
  g_assert_cmpint (sotto_roster_item_get_presence (item_of (fixture, dave)), ==,
                   SOTTO_PRESENCE_AWAY);

  /* A new alias; the store takes the contact out and puts it back, which
   * the roster must not pass on. */
  update (fixture, bob, "Zoltan", -1, -1);
  sotto_test_spin (20);
  assert_shown (fixture, "Dave,Ann,Cat,Eve,Zoltan");
  assert_changes (fixture, "2-1+0 4-0+1");

  /* Verified: nothing moves. */
  update (fixture, bob, NULL, -1, SOTTO_VERIFICATION_VERIFIED);
  sotto_test_spin (20);
  assert_changes (fixture, "");
  g_assert_cmpint (sotto_roster_item_get_verification (item_of (fixture, bob)), ==,
                   SOTTO_VERIFICATION_VERIFIED);

  /* Blocked: to the end, and off the line. */
  update (fixture, dave, NULL, 1, -1);
  say_offline (fixture, dave);
  sotto_test_spin (20);
  assert_shown (fixture, "Ann,Cat,Eve,Zoltan,Dave");
  assert_changes (fixture, "0-1+0 4-0+1");
  g_assert_true (sotto_roster_item_get_blocked (item_of (fixture, dave)));
}

/* Added and removed contacts come and go as one insertion, one removal;
 * the item keeps its state while the store reshuffles an updated one. */
static void
test_contacts_add_remove (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoContact *bea;
  SottoContact *cy;
  SottoRosterItem *item;
  guint name_notified = 0;
  guint notified = 0;
  gint64 bea_id;

  add (fixture, "Ann");
  cy = add (fixture, "Cy");
  assert_shown (fixture, "Ann,Cy");
  assert_changes (fixture, "");
  say_presence (fixture, cy, SOTTO_PRESENCE_AWAY);
  assert_changes (fixture, "1-1+0 0-0+1");

  bea = add (fixture, "Bea");
  assert_shown (fixture, "Cy,Ann,Bea");
  assert_changes (fixture, "2-0+1");
  item = item_of (fixture, bea);
  g_assert_cmpstr (sotto_roster_item_get_name (item), ==, "Bea");
  g_assert_true (sotto_roster_item_get_contact (item) == bea);
  g_assert_cmpint (sotto_roster_item_get_presence (item), ==, SOTTO_PRESENCE_OFFLINE);

  /* Renamed: the name notifies once, nothing else; Cy stays away through
   * it. */
  g_signal_connect_swapped (item_of (fixture, cy), "notify::name", G_CALLBACK (count_cb),
                            &name_notified);
  g_signal_connect_swapped (item_of (fixture, cy), "notify", G_CALLBACK (count_cb), &notified);
  update (fixture, cy, "Cyril", -1, -1);
  sotto_test_spin (20);
  g_assert_cmpuint (name_notified, ==, 1);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpstr (sotto_roster_item_get_name (item_of (fixture, cy)), ==, "Cyril");
  g_assert_cmpint (sotto_roster_item_get_presence (item_of (fixture, cy)), ==, SOTTO_PRESENCE_AWAY);
  assert_shown (fixture, "Cyril,Ann,Bea");
  assert_changes (fixture, "");

  bea_id = sotto_contact_get_id (bea);
  sotto_store_remove_contact_async (fixture->store, bea, NULL, sotto_test_result_cb, &result);
  g_assert_true (sotto_store_remove_contact_finish (fixture->store, sotto_test_wait (&result),
                                                    &error));
  g_assert_no_error (error);
  SOTTO_TEST_WAIT_FOR (fixture->changes->len > 0);
  assert_shown (fixture, "Cyril,Ann");
  assert_changes (fixture, "2-1+0");
  g_assert_null (sotto_roster_find (fixture->roster, bea_id));
}

/* ------------------------------------------------------------------ */
/* Filter                                                             */

typedef struct
{
  const char *text;
  const char *expected;
} FilterCase;

static void
test_filter (Fixture       *fixture,
             gconstpointer  data)
{
  const FilterCase cases[] = {
    { NULL, "ANNA,Bob,\xc3\x89mile Zola,Zack,Zo\xc3\xab" " Adams" },
    { "zoe", "Zo\xc3\xab" " Adams" },
    { "ZO", "\xc3\x89mile Zola,Zo\xc3\xab" " Adams" },
    { "emile", "\xc3\x89mile Zola" },
    { "\xc3\xa9MILE", "\xc3\x89mile Zola" },
    { "a", "ANNA,\xc3\x89mile Zola,Zack,Zo\xc3\xab" " Adams" },
    { "nna", "ANNA" },
    { "xyz", "" },
    { "", "ANNA,Bob,\xc3\x89mile Zola,Zack,Zo\xc3\xab" " Adams" },
  };
  g_autofree char *fingerprint = NULL;
  g_autofree char *digits = NULL;
  SottoContact *bob;

  add (fixture, "Zo\xc3\xab" " Adams");
  add (fixture, "Zack");
  add (fixture, "\xc3\x89mile Zola");
  add (fixture, "ANNA");
  bob = add (fixture, "Bob");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("filter \"%s\"", cases[i].text != NULL ? cases[i].text : "(null)");
      sotto_roster_set_filter (fixture_roster (fixture), cases[i].text);
      assert_shown (fixture, cases[i].expected);
    }

  /* Bob by the start of his fingerprint, as shown (with its space) or
   * not; four digits are too few to mean a fingerprint. */
  fingerprint = sotto_contact_dup_fingerprint (bob);
  digits = g_strndup (fingerprint, 8);  /* "61537 21" */
  sotto_roster_set_filter (fixture->roster, digits);
  assert_shown (fixture, "Bob");
  g_free (digits);
  digits = g_strndup (fingerprint, 5);
  sotto_roster_set_filter (fixture->roster, digits);
  assert_shown (fixture, "Bob");
  g_free (digits);
  digits = g_strndup (fingerprint, 4);
  sotto_roster_set_filter (fixture->roster, digits);
  assert_shown (fixture, "");
}

/* A filter changes the list in one go, between what stays at the ends;
 * a filtered-out contact's changes are silent, a rename can bring it in. */
static void
test_filter_changes (Fixture       *fixture,
                     gconstpointer  data)
{
  SottoContact *dan;

  add (fixture, "Ann");
  add (fixture, "Bea");
  add (fixture, "Bert");
  dan = add (fixture, "Dan");
  assert_shown (fixture, "Ann,Bea,Bert,Dan");

  sotto_roster_set_filter (fixture->roster, "b");
  assert_shown (fixture, "Bea,Bert");
  assert_changes (fixture, "0-4+2");
  sotto_roster_set_filter (fixture->roster, "be");
  assert_changes (fixture, "");
  sotto_roster_set_filter (fixture->roster, "ber");
  assert_shown (fixture, "Bert");
  assert_changes (fixture, "0-1+0");
  g_assert_cmpstr (sotto_roster_get_filter (fixture->roster), ==, "ber");

  say_presence (fixture, dan, SOTTO_PRESENCE_AVAILABLE);
  assert_changes (fixture, "");
  update (fixture, dan, "Berta", -1, -1);
  sotto_test_spin (20);
  assert_shown (fixture, "Berta,Bert");
  assert_changes (fixture, "0-0+1");

  g_object_set (fixture->roster, "filter", NULL, NULL);
  assert_shown (fixture, "Berta,Ann,Bea,Bert");
  assert_changes (fixture, "1-0+2");
}

/* ------------------------------------------------------------------ */
/* Unread and last activity                                           */

static void
test_unread (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr (SottoMessage) old = NULL;
  g_autoptr (SottoMessage) m1 = NULL;
  g_autoptr (SottoMessage) m2 = NULL;
  g_autoptr (SottoMessage) mine = NULL;
  g_autoptr (SottoMessage) volatile_message = NULL;
  SottoContact *ann;
  SottoContact *bob;
  SottoRosterItem *item;
  guint total_notified = 0;

  ann = add (fixture, "Ann");
  bob = add (fixture, "Bob");
  old = receive (fixture, ann, "before the roster");

  /* What the store has, at the start. */
  item = item_of (fixture, ann);
  SOTTO_TEST_WAIT_FOR (sotto_roster_item_get_unread (item) == 1);
  g_assert_cmpint (sotto_roster_item_get_last_activity (item), ==,
                   sotto_message_get_received (old));
  g_assert_cmpuint (sotto_roster_get_total_unread (fixture->roster), ==, 1);
  g_signal_connect_swapped (fixture->roster, "notify::total-unread", G_CALLBACK (count_cb),
                            &total_notified);

  /* Counted up as they come; ours count as activity only. */
  m1 = receive (fixture, ann, "one");
  m2 = receive (fixture, bob, "two");
  g_assert_cmpuint (sotto_roster_item_get_unread (item), ==, 2);
  g_assert_cmpuint (sotto_roster_item_get_unread (item_of (fixture, bob)), ==, 1);
  g_assert_cmpuint (sotto_roster_get_total_unread (fixture->roster), ==, 3);
  g_assert_cmpuint (total_notified, ==, 2);
  mine = write_to (fixture, ann, "mine");
  g_assert_cmpuint (sotto_roster_item_get_unread (item), ==, 2);
  g_assert_cmpint (sotto_roster_item_get_last_activity (item), ==, sotto_message_get_sent (mine));

  /* Read up to the first: one left, from the store. */
  mark_read (fixture, ann, sotto_message_get_id (old));
  SOTTO_TEST_WAIT_FOR (sotto_roster_item_get_unread (item) == 1);
  mark_read (fixture, ann, sotto_message_get_id (mine));
  SOTTO_TEST_WAIT_FOR (sotto_roster_item_get_unread (item) == 0);
  g_assert_cmpuint (sotto_roster_get_total_unread (fixture->roster), ==, 1);
  /* Activity never goes back. */
  g_assert_cmpint (sotto_roster_item_get_last_activity (item), ==, sotto_message_get_sent (mine));

  /* A purge takes Bob's unread message away. */
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_purge_async (fixture->store, bob, G_MAXINT64, TRUE, NULL, sotto_test_result_cb,
                             &result);
    g_assert_true (sotto_store_purge_finish (fixture->store, sotto_test_wait (&result), NULL,
                                             NULL));
  }
  SOTTO_TEST_WAIT_FOR (sotto_roster_get_total_unread (fixture->roster) == 0);

  /* History off: not on disk, counted here until marked read. */
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_apply_retention_async (fixture->store, FALSE, 0, NULL, sotto_test_result_cb,
                                       &result);
    g_assert_true (sotto_store_apply_retention_finish (fixture->store, sotto_test_wait (&result),
                                                       NULL, NULL));
  }
  sotto_test_spin (20);
  volatile_message = receive (fixture, ann, "shown, not kept");
  g_assert_cmpuint (sotto_roster_item_get_unread (item), ==, 1);
  g_assert_cmpuint (sotto_roster_get_total_unread (fixture->roster), ==, 1);
  g_assert_cmpint (sotto_roster_item_get_last_activity (item), ==,
                   sotto_message_get_received (volatile_message));
  mark_read (fixture, ann, sotto_message_get_id (volatile_message));
  SOTTO_TEST_WAIT_FOR (sotto_roster_item_get_unread (item) == 0);
  g_assert_cmpuint (sotto_roster_get_total_unread (fixture->roster), ==, 0);
  /* ...and the activity it brought stays. */
  g_assert_cmpint (sotto_roster_item_get_last_activity (item), ==,
                   sotto_message_get_received (volatile_message));
}

/* ------------------------------------------------------------------ */
/* Presence and typing                                                */

/* Every property notifies only when its value changed. */
static void
test_notify_only_on_change (Fixture       *fixture,
                            gconstpointer  data)
{
  SottoContact *ann = add (fixture, "Ann");
  SottoRosterItem *item = item_of (fixture, ann);
  guint presence = 0;
  guint typing = 0;

  g_signal_connect_swapped (item, "notify::presence", G_CALLBACK (count_cb), &presence);
  g_signal_connect_swapped (item, "notify::typing", G_CALLBACK (count_cb), &typing);

  say_presence (fixture, ann, SOTTO_PRESENCE_AWAY);
  say_presence (fixture, ann, SOTTO_PRESENCE_AWAY);
  g_assert_cmpuint (presence, ==, 1);
  say_presence (fixture, ann, SOTTO_PRESENCE_AVAILABLE);
  g_assert_cmpuint (presence, ==, 2);
  /* Not a presence a peer can send. */
  say_presence (fixture, ann, SOTTO_PRESENCE_OFFLINE);
  g_assert_cmpuint (presence, ==, 2);
  g_assert_cmpint (sotto_roster_item_get_presence (item), ==, SOTTO_PRESENCE_AVAILABLE);

  say_typing (fixture, ann, TRUE);
  say_typing (fixture, ann, TRUE);
  g_assert_cmpuint (typing, ==, 1);
  say_typing (fixture, ann, FALSE);
  say_typing (fixture, ann, FALSE);
  g_assert_cmpuint (typing, ==, 2);

  /* Offline: not typing any more either. */
  say_typing (fixture, ann, TRUE);
  say_offline (fixture, ann);
  say_offline (fixture, ann);
  g_assert_cmpuint (typing, ==, 4);
  g_assert_cmpuint (presence, ==, 3);
  g_assert_false (sotto_roster_item_get_typing (item));
  g_assert_cmpint (sotto_roster_item_get_presence (item), ==, SOTTO_PRESENCE_OFFLINE);
}

/* "Typing" lasts until a notice says otherwise or none came for the
 * timeout; each new notice starts it again. */
static void
test_typing_timeout (Fixture       *fixture,
                     gconstpointer  data)
{
  SottoContact *ann = add (fixture, "Ann");
  SottoRosterItem *item = item_of (fixture, ann);
  gint64 start;

  g_assert_cmpuint (SOTTO_ROSTER_TYPING_TIMEOUT_MS, ==, 6000);
  sotto_roster_set_typing_timeout (fixture->roster, 300);

  start = g_get_monotonic_time ();
  say_typing (fixture, ann, TRUE);
  sotto_test_spin (200);
  g_assert_true (sotto_roster_item_get_typing (item));
  say_typing (fixture, ann, TRUE);
  sotto_test_spin (200);
  /* 400 ms after the first notice, 200 after the second: still typing. */
  g_assert_true (sotto_roster_item_get_typing (item));
  SOTTO_TEST_WAIT_FOR (!sotto_roster_item_get_typing (item));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 500 * 1000);

  /* A notice that says "stopped" needs no wait, and leaves no timer. */
  say_typing (fixture, ann, TRUE);
  say_typing (fixture, ann, FALSE);
  g_assert_false (sotto_roster_item_get_typing (item));
  sotto_test_spin (400);
  g_assert_false (sotto_roster_item_get_typing (item));
}

/* ------------------------------------------------------------------ */
/* With a real peer                                                   */

typedef struct
{
  char             *dir;
  SottoStore       *store;
  GSettings        *settings;
  SottoPeerService *service;
} Peer;

static Peer *
peer_new (const char *name)
{
  g_autoptr (GSettingsBackend) backend = g_memory_settings_backend_new ();
  g_autoptr (GError) error = NULL;
  Peer *peer = g_new0 (Peer, 1);

  peer->dir = sotto_test_make_profile_dir ();
  peer->store = sotto_test_create_store (peer->dir, name, SOTTO_KEY_PROTECTION_PASSPHRASE, "pw",
                                         &error);
  g_assert_no_error (error);
  peer->settings = g_settings_new_with_backend (SCHEMA_ID, backend);
  peer->service = sotto_peer_service_new (peer->store, peer->settings);
  sotto_peer_service_set_backoff (peer->service, 20, 200);
  sotto_peer_service_set_port (peer->service, sotto_test_low_free_port ());
  sotto_peer_service_start (peer->service, &error);
  g_assert_no_error (error);
  return peer;
}

static void
peer_free (Peer *peer)
{
  GObject *service = G_OBJECT (peer->service);

  sotto_peer_service_stop (peer->service);
  g_object_add_weak_pointer (service, (gpointer *)&service);
  g_clear_object (&peer->service);
  SOTTO_TEST_WAIT_FOR (service == NULL);
  sotto_test_spin (50);
  sotto_test_close_store (&peer->store);
  g_clear_object (&peer->settings);
  sotto_test_rm_rf (peer->dir);
  g_free (peer->dir);
  g_free (peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_free)

/* @other becomes a contact of @owner; with @dial, @owner knows where. */
static SottoContact *
peer_add (Peer     *owner,
          Peer     *other,
          gboolean  dial)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u",
                                              sotto_peer_service_get_port (other->service));
  const char *addresses[] = { dial ? address : NULL, NULL };
  SottoIdentity *identity = sotto_store_get_identity (other->store);
  SottoContact *contact;

  invite = sotto_invite_new (sotto_identity_get_public_key (identity),
                             sotto_identity_get_display_name (identity), addresses, &error);
  g_assert_no_error (error);
  sotto_store_add_contact_async (owner->store, invite, NULL, NULL, sotto_test_result_cb, &result);
  contact = sotto_store_add_contact_finish (owner->store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  return contact;
}

/* Alice's roster follows Bob over the network: online, away, typing, a
 * message, read by Alice, then Bob invisible. */
static void
test_end_to_end (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoContact) ac = NULL;
  g_autoptr (SottoRoster) roster = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) uids = NULL;
  g_autoptr (GError) error = NULL;
  SottoRosterItem *bob;

  roster = sotto_roster_new (a->store, a->service);
  /* Only Alice dials: two calls at once would make one drop. */
  ba = peer_add (b, a, FALSE);
  ab = peer_add (a, b, TRUE);
  {
    g_autoptr (SottoIdentity) carol = sotto_identity_generate ("Carol", NULL);
    g_autoptr (SottoInvite) invite = sotto_invite_new (sotto_identity_get_public_key (carol),
                                                       "Carol", NULL, NULL);

    sotto_store_add_contact_async (a->store, invite, NULL, NULL, sotto_test_result_cb, &result);
    ac = sotto_store_add_contact_finish (a->store, sotto_test_wait (&result), &error);
    g_assert_no_error (error);
    g_clear_object (&result);
  }

  bob = sotto_roster_find (roster, sotto_contact_get_id (ab));
  g_assert_nonnull (bob);
  SOTTO_TEST_WAIT_FOR (sotto_roster_item_get_presence (bob) == SOTTO_PRESENCE_AVAILABLE);
  {
    g_autoptr (SottoRosterItem) first = g_list_model_get_item (G_LIST_MODEL (roster), 0);

    g_assert_true (first == bob);
  }

  sotto_peer_service_set_status (b->service, SOTTO_STATUS_AWAY, &error);
  g_assert_no_error (error);
  SOTTO_TEST_WAIT_FOR (sotto_roster_item_get_presence (bob) == SOTTO_PRESENCE_AWAY);

  g_assert_true (sotto_peer_service_send_typing (b->service, ba, TRUE));
  SOTTO_TEST_WAIT_FOR (sotto_roster_item_get_typing (bob));

  sotto_peer_service_send_async (b->service, ba, "hello Alice", NULL, sotto_test_result_cb,
                                 &result);
  g_object_unref (sotto_peer_service_send_finish (b->service, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  SOTTO_TEST_WAIT_FOR (sotto_roster_item_get_unread (bob) == 1);
  g_assert_cmpuint (sotto_roster_get_total_unread (roster), ==, 1);

  sotto_peer_service_mark_read_async (a->service, ab, G_MAXINT64, NULL, sotto_test_result_cb,
                                      &result);
  uids = sotto_peer_service_mark_read_finish (a->service, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uids->len, ==, 1);
  SOTTO_TEST_WAIT_FOR (sotto_roster_item_get_unread (bob) == 0);

  sotto_peer_service_set_status (b->service, SOTTO_STATUS_INVISIBLE, &error);
  g_assert_no_error (error);
  SOTTO_TEST_WAIT_FOR (sotto_roster_item_get_presence (bob) == SOTTO_PRESENCE_OFFLINE);
  g_assert_false (sotto_roster_item_get_typing (bob));
  g_clear_object (&roster);
}

int
main (int   argc,
      char *argv[])
{
  int status;
  guint tick;

  /* Accented names sort the same whatever the caller's locale. */
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add ("/roster/order/by-name", Fixture, &order_cases[0],
              fixture_set_up, test_order, fixture_tear_down);
  g_test_add ("/roster/order/presence-then-name", Fixture, &order_cases[1],
              fixture_set_up, test_order, fixture_tear_down);
  g_test_add ("/roster/order/blocked-last", Fixture, &order_cases[2],
              fixture_set_up, test_order, fixture_tear_down);
  g_test_add ("/roster/order/same-name", Fixture, &order_cases[3],
              fixture_set_up, test_order, fixture_tear_down);
  g_test_add ("/roster/order/moves-one-item", Fixture, NULL,
              fixture_set_up, test_order_moves_one_item, fixture_tear_down);
  g_test_add ("/roster/contacts/add-rename-remove", Fixture, NULL,
              fixture_set_up, test_contacts_add_remove, fixture_tear_down);
  g_test_add ("/roster/filter/name-and-fingerprint", Fixture, NULL,
              fixture_set_up, test_filter, fixture_tear_down);
  g_test_add ("/roster/filter/changes", Fixture, NULL,
              fixture_set_up, test_filter_changes, fixture_tear_down);
  g_test_add ("/roster/unread/count-read-purge-history-off", Fixture, NULL,
              fixture_set_up, test_unread, fixture_tear_down);
  g_test_add ("/roster/notify/only-on-change", Fixture, NULL,
              fixture_set_up, test_notify_only_on_change, fixture_tear_down);
  g_test_add ("/roster/typing/timeout", Fixture, NULL,
              fixture_set_up, test_typing_timeout, fixture_tear_down);
  g_test_add_func ("/roster/end-to-end", test_end_to_end);

  tick = sotto_test_tick_start ();
  status = g_test_run ();
  g_source_remove (tick);

  return status;
}
