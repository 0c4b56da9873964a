/* test-store-groups.c — groups in the store: records, member-only peers,
 * messages owed to each member, and what a changed file gives away
 *
 * Real SQLite files, as test-store.c; the peer service is not involved.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sodium.h>

#include "sotto-core.h"
#include "sotto-test-util.h"

#define PASSPHRASE "groups"

typedef struct
{
  char          *dir;
  SottoStore    *store;
  SottoIdentity *bob;     /* a contact */
  SottoIdentity *carol;   /* not a contact */
  SottoContact  *bob_contact;
  guint8         gid[SOTTO_GROUP_ID_LEN];
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  f->dir = sotto_test_make_profile_dir ();
  f->store = sotto_test_create_store (f->dir, "Alice", SOTTO_KEY_PROTECTION_PASSPHRASE, PASSPHRASE,
                                      &error);
  g_assert_no_error (error);
  f->bob = sotto_identity_generate ("Bob", &error);
  f->carol = sotto_identity_generate ("Carol", &error);
  g_assert_no_error (error);
  f->bob_contact = sotto_test_add_identity (f->store, f->bob, "127.0.0.1:20001");
  randombytes_buf (f->gid, sizeof f->gid);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->bob_contact);
  sotto_test_close_store (&f->store);
  g_clear_object (&f->bob);
  g_clear_object (&f->carol);
  sotto_test_rm_rf (f->dir);
  g_free (f->dir);
}

static void
add_member (SottoGroupRecord *record,
            SottoIdentity    *who,
            SottoGroupRole    role)
{
  const char *addresses[] = { "127.0.0.1:20002", NULL };

  sotto_group_record_add_member (record, sotto_identity_get_public_key (who),
                                 sotto_identity_get_signing_key (who),
                                 sotto_identity_get_display_name (who), addresses, role);
}

/* Version @version: Alice (admin) and Bob, and Carol if @with_carol. */
static SottoGroupRecord *
record_for (Fixture  *f,
            guint64   version,
            gboolean  with_carol)
{
  SottoIdentity *alice = sotto_store_get_identity (f->store);
  SottoGroupRecord *record = sotto_group_record_new (f->gid, "Team");
  g_autoptr (GError) error = NULL;

  record->version = version;
  add_member (record, alice, SOTTO_GROUP_ROLE_ADMIN);
  add_member (record, f->bob, SOTTO_GROUP_ROLE_MEMBER);
  if (with_carol)
    add_member (record, f->carol, SOTTO_GROUP_ROLE_MEMBER);
  g_assert_true (sotto_group_record_sign (record, alice, &error));
  g_assert_no_error (error);
  return record;
}

static SottoGroup *
save (Fixture                *f,
      const SottoGroupRecord *record,
      SottoGroupStatus        status)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoGroup *group;

  sotto_store_save_group_async (f->store, record, status, NULL, sotto_test_result_cb, &result);
  group = sotto_store_save_group_finish (f->store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  return group;
}

static SottoMessage *
queue (Fixture    *f,
       SottoGroup *group,
       const char *body)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoMessage *message;

  sotto_store_queue_group_message_async (f->store, group, body, NULL, sotto_test_result_cb,
                                         &result);
  message = sotto_store_queue_group_message_finish (f->store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  return message;
}

static SottoMessage *
receive (Fixture      *f,
         SottoGroup   *group,
         SottoContact *sender,
         const guint8 *uid,
         const char   *body,
         gboolean     *is_new,
         GError      **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_store_save_incoming_group_async (f->store, group, sender, uid, g_get_real_time (), body,
                                         NULL, sotto_test_result_cb, &result);
  return sotto_store_save_incoming_group_finish (f->store, sotto_test_wait (&result), is_new, error);
}

static GPtrArray *
group_history (Fixture    *f,
               SottoGroup *group)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *page;

  sotto_store_group_history_async (f->store, group, 0, SOTTO_HISTORY_PAGE_MAX, NULL,
                                   sotto_test_result_cb, &result);
  page = sotto_store_history_finish (f->store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  return page;
}

static gboolean
mark_delivered (Fixture      *f,
                SottoContact *contact,
                const guint8 *uid)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gboolean done;

  sotto_store_mark_delivered_async (f->store, contact, uid, NULL, sotto_test_result_cb, &result);
  done = sotto_store_mark_delivered_finish (f->store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  return done;
}

/* A record saved makes its group, its conversation and the member-only
 * peers; contacts stay contacts, and the contact list does not change. */
static void
test_members (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr (SottoGroupRecord) v1 = record_for (f, 1, TRUE);
  g_autoptr (SottoGroupRecord) v2 = record_for (f, 2, FALSE);
  g_autoptr (SottoGroup) group = save (f, v1, SOTTO_GROUP_STATUS_MEMBER);
  g_autoptr (SottoGroup) again = NULL;
  SottoContact *carol;
  gint64 carol_id;

  g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_groups (f->store)), ==, 1);
  g_assert_true (sotto_store_get_group_by_gid (f->store, f->gid) == group);
  g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_contacts (f->store)), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_members (f->store)), ==, 1);
  carol = sotto_store_get_peer_by_key (f->store, sotto_identity_get_public_key (f->carol));
  g_assert_nonnull (carol);
  carol_id = sotto_contact_get_id (carol);
  g_assert_cmpint (sotto_contact_get_member_only (carol), ==, SOTTO_MEMBER_ONLY_ACTIVE);
  g_assert_cmpstr (sotto_contact_get_name (carol), ==, "Carol");
  g_assert_cmpint (sotto_contact_get_member_only (f->bob_contact), ==, SOTTO_MEMBER_ONLY_NO);
  /* A member-only peer is no contact: no direct message to her. */
  {
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (SottoMessage) direct = NULL;

    sotto_store_queue_message_async (f->store, carol, "hi", NULL, sotto_test_result_cb, &result);
    direct = sotto_store_queue_message_finish (f->store, sotto_test_wait (&result), &error);
    g_assert_null (direct);
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED);
  }

  /* Dropped from the group: a former member, kept for the names in
   * history, in no list the service dials. */
  again = save (f, v2, SOTTO_GROUP_STATUS_MEMBER);
  g_assert_true (again == group);
  g_assert_cmpuint (sotto_group_get_version (group), ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_members (f->store)), ==, 0);
  carol = sotto_store_get_contact_by_id (f->store, carol_id);
  g_assert_cmpint (sotto_contact_get_member_only (carol), ==, SOTTO_MEMBER_ONLY_FORMER);

  /* After a restart, the same. */
  sotto_test_close_store (&f->store);
  {
    g_autoptr (GError) error = NULL;

    f->store = sotto_test_open_store (f->dir, PASSPHRASE, &error);
    g_assert_no_error (error);
  }
  g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_groups (f->store)), ==, 1);
  g_assert_cmpuint (sotto_group_get_version (sotto_store_get_group_by_gid (f->store, f->gid)), ==, 2);
  carol = sotto_store_get_contact_by_id (f->store, carol_id);
  g_assert_cmpint (sotto_contact_get_member_only (carol), ==, SOTTO_MEMBER_ONLY_FORMER);

  /* Added as a contact: the same row, now a contact. */
  {
    g_autoptr (SottoContact) added = sotto_test_add_identity (f->store, f->carol, "127.0.0.1:20001");

    g_assert_cmpint (sotto_contact_get_id (added), ==, carol_id);
    g_assert_cmpint (sotto_contact_get_member_only (added), ==, SOTTO_MEMBER_ONLY_NO);
    g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_contacts (f->store)), ==, 2);
  }
}

/* A message to the group is owed to each member; receipts pay it off,
 * and it is delivered once every member has it. */
static void
test_owed (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr (SottoGroupRecord) v1 = record_for (f, 1, TRUE);
  g_autoptr (SottoGroupRecord) v2 = record_for (f, 2, FALSE);
  g_autoptr (SottoGroup) group = save (f, v1, SOTTO_GROUP_STATUS_MEMBER);
  g_autoptr (SottoMessage) first = queue (f, group, "to Bob and Carol");
  SottoContact *carol = sotto_store_get_peer_by_key (f->store, sotto_identity_get_public_key (f->carol));
  g_autoptr (GPtrArray) bob_owed = sotto_test_outbox (f->store, f->bob_contact);
  g_autoptr (GPtrArray) carol_owed = sotto_test_outbox (f->store, carol);
  g_autoptr (GPtrArray) page = NULL;

  g_assert_cmpint (sotto_message_get_group_id (first), ==, sotto_group_get_id (group));
  g_assert_cmpuint (bob_owed->len, ==, 1);
  g_assert_cmpuint (carol_owed->len, ==, 1);
  g_assert_cmpint (sotto_message_get_group_id (g_ptr_array_index (bob_owed, 0)), ==,
                   sotto_group_get_id (group));

  /* Bob's receipt pays his part; Carol's is still owed. */
  g_assert_true (mark_delivered (f, f->bob_contact, sotto_message_get_uid (first)));
  g_clear_pointer (&bob_owed, g_ptr_array_unref);
  bob_owed = sotto_test_outbox (f->store, f->bob_contact);
  g_assert_cmpuint (bob_owed->len, ==, 0);
  page = group_history (f, group);
  g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (page, 0)), ==, SOTTO_MESSAGE_QUEUED);
  /* A receipt for someone else's part, or repeated, changes nothing. */
  g_assert_true (mark_delivered (f, f->bob_contact, sotto_message_get_uid (first)));

  /* Carol removed: nothing owed to her any more, and the message, every
   * listed member having it, is delivered. */
  g_object_unref (save (f, v2, SOTTO_GROUP_STATUS_MEMBER));
  g_clear_pointer (&carol_owed, g_ptr_array_unref);
  carol_owed = sotto_test_outbox (f->store, carol);
  g_assert_cmpuint (carol_owed->len, ==, 0);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = group_history (f, group);
  g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (page, 0)), ==, SOTTO_MESSAGE_DELIVERED);

  /* A message written now owes Bob only; Bob's receipt delivers it. */
  {
    g_autoptr (SottoMessage) second = queue (f, group, "to Bob");

    g_clear_pointer (&carol_owed, g_ptr_array_unref);
    carol_owed = sotto_test_outbox (f->store, carol);
    g_assert_cmpuint (carol_owed->len, ==, 0);
    g_assert_true (mark_delivered (f, f->bob_contact, sotto_message_get_uid (second)));
    g_clear_pointer (&page, g_ptr_array_unref);
    page = group_history (f, group);
    g_assert_cmpuint (page->len, ==, 2);
    g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (page, 1)), ==,
                     SOTTO_MESSAGE_DELIVERED);
  }

  /* Out of the group, nothing can be written to it. */
  {
    g_autoptr (SottoGroup) left = save (f, v2, SOTTO_GROUP_STATUS_LEFT);
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (SottoMessage) refused = NULL;

    sotto_store_queue_group_message_async (f->store, left, "too late", NULL, sotto_test_result_cb,
                                           &result);
    refused = sotto_store_queue_group_message_finish (f->store, sotto_test_wait (&result), &error);
    g_assert_null (refused);
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED);
  }
}

/* Messages from members: once per sender and id, never one of ours. */
static void
test_incoming (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr (SottoGroupRecord) v1 = record_for (f, 1, TRUE);
  g_autoptr (SottoGroup) group = save (f, v1, SOTTO_GROUP_STATUS_MEMBER);
  SottoContact *carol = sotto_store_get_peer_by_key (f->store, sotto_identity_get_public_key (f->carol));
  guint8 uid[SOTTO_MESSAGE_UID_LEN] = { 1, 2, 3 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) page = NULL;
  gboolean is_new = FALSE;

  g_object_unref (receive (f, group, carol, uid, "from Carol", &is_new, &error));
  g_assert_no_error (error);
  g_assert_true (is_new);
  g_object_unref (receive (f, group, carol, uid, "from Carol", &is_new, &error));
  g_assert_no_error (error);
  g_assert_false (is_new);
  /* The same 16 bytes from Bob are Bob's own message. */
  g_object_unref (receive (f, group, f->bob_contact, uid, "from Bob", &is_new, &error));
  g_assert_no_error (error);
  g_assert_true (is_new);

  page = group_history (f, group);
  g_assert_cmpuint (page->len, ==, 2);
  g_assert_cmpint (sotto_message_get_sender_id (g_ptr_array_index (page, 0)), ==,
                   sotto_contact_get_id (carol));
  g_assert_cmpint (sotto_message_get_sender_id (g_ptr_array_index (page, 1)), ==,
                   sotto_contact_get_id (f->bob_contact));

  /* The id of one of ours: refused. */
  {
    g_autoptr (SottoMessage) ours = queue (f, group, "mine");
    g_autoptr (SottoMessage) refused = receive (f, group, carol, sotto_message_get_uid (ours),
                                                "not yours", &is_new, &error);

    g_assert_null (refused);
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  }
}

/* What a member never took is given up after the outbox's days. */
static void
test_expiry (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr (SottoGroupRecord) v1 = record_for (f, 1, TRUE);
  g_autoptr (SottoGroup) group = save (f, v1, SOTTO_GROUP_STATUS_MEMBER);
  g_autoptr (SottoMessage) message = queue (f, group, "nobody reads this");
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (GError) error = NULL;
  gint64 later = g_get_real_time () + (gint64)(SOTTO_OUTBOX_EXPIRY_DAYS + 1) * G_TIME_SPAN_DAY;

  g_assert_true (mark_delivered (f, f->bob_contact, sotto_message_get_uid (message)));
  sotto_store_expire_outbox_async (f->store, later, NULL, sotto_test_result_cb, &result);
  g_assert_cmpuint (sotto_store_expire_outbox_finish (f->store, sotto_test_wait (&result), &error), ==, 1);
  g_assert_no_error (error);
  page = group_history (f, group);
  g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (page, 0)), ==, SOTTO_MESSAGE_FAILED);
}

/* Someone who can write the file but has no key: a member-only peer
 * turned into a contact, or a group message turned into one of the
 * user's, no longer authenticates. */
static void
test_tamper (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr (SottoGroupRecord) v1 = record_for (f, 1, TRUE);
  g_autoptr (SottoGroup) group = save (f, v1, SOTTO_GROUP_STATUS_MEMBER);
  SottoContact *carol = sotto_store_get_peer_by_key (f->store, sotto_identity_get_public_key (f->carol));
  gint64 carol_id = sotto_contact_get_id (carol);
  guint8 uid[SOTTO_MESSAGE_UID_LEN] = { 9 };
  g_autofree char *db = g_build_filename (f->dir, SOTTO_STORE_FILENAME, NULL);
  g_autofree char *sql = NULL;
  g_autoptr (GError) error = NULL;
  gboolean is_new;

  g_object_unref (receive (f, group, carol, uid, "from Carol", &is_new, &error));
  g_assert_no_error (error);
  sotto_test_close_store (&f->store);

  sql = g_strdup_printf ("UPDATE contacts SET member_only = 0 WHERE id = %" G_GINT64_FORMAT ";"
                         "UPDATE messages SET sender_id = 0, direction = 0 WHERE sender_id = %"
                         G_GINT64_FORMAT ";", carol_id, carol_id);
  sotto_test_db_exec (db, sql);
  f->store = sotto_test_open_store (f->dir, PASSPHRASE, &error);
  g_assert_no_error (error);
  /* Carol's row is damaged: neither contact nor member. */
  g_assert_null (sotto_store_get_contact_by_id (f->store, carol_id));
  g_assert_cmpuint (sotto_store_get_n_damaged_contacts (f->store), ==, 1);
  {
    g_autoptr (GPtrArray) page = group_history (f, sotto_store_get_group_by_gid (f->store, f->gid));

    g_assert_cmpuint (page->len, ==, 0);
  }
}

/* Deleting a group takes its conversation and what it owed. */
static void
test_delete (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr (SottoGroupRecord) v1 = record_for (f, 1, TRUE);
  g_autoptr (SottoGroup) group = save (f, v1, SOTTO_GROUP_STATUS_MEMBER);
  g_autoptr (SottoMessage) message = queue (f, group, "soon gone");
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) owed = NULL;

  sotto_store_delete_group_async (f->store, group, NULL, sotto_test_result_cb, &result);
  g_assert_true (sotto_store_delete_group_finish (f->store, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_groups (f->store)), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (sotto_store_get_members (f->store)), ==, 0);
  owed = sotto_test_outbox (f->store, f->bob_contact);
  g_assert_cmpuint (owed->len, ==, 0);
  g_assert_true (sotto_test_store_exec (f->store, "SELECT 1", &error));
}

/* The records kept for members behind: newest 64, oldest first. */
static void
test_chain (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr (SottoGroup) group = NULL;

  for (guint64 v = 1; v <= 70; v++)
    {
      g_autoptr (SottoGroupRecord) record = record_for (f, v, v % 2 == 0);

      g_clear_object (&group);
      group = save (f, record, SOTTO_GROUP_STATUS_MEMBER);
    }
  {
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) records = NULL;

    sotto_store_list_group_records_async (f->store, group, 60, NULL, sotto_test_result_cb, &result);
    records = sotto_store_list_group_records_finish (f->store, sotto_test_wait (&result), &error);
    g_assert_no_error (error);
    g_assert_cmpuint (records->len, ==, 10);
    g_assert_cmpuint (((SottoGroupRecord *)g_ptr_array_index (records, 0))->version, ==, 61);
    g_assert_cmpuint (((SottoGroupRecord *)g_ptr_array_index (records, 9))->version, ==, 70);
    g_clear_object (&result);
    g_clear_pointer (&records, g_ptr_array_unref);
    sotto_store_list_group_records_async (f->store, group, 0, NULL, sotto_test_result_cb, &result);
    records = sotto_store_list_group_records_finish (f->store, sotto_test_wait (&result), &error);
    g_assert_cmpuint (records->len, ==, 64);
    g_assert_cmpuint (((SottoGroupRecord *)g_ptr_array_index (records, 0))->version, ==, 7);
  }
}

static void
test_find (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr (SottoGroupRecord) v1 = record_for (f, 1, FALSE);
  g_autoptr (SottoGroup) group = save (f, v1, SOTTO_GROUP_STATUS_MEMBER);
  g_autofree char *hex = sotto_group_dup_gid_hex (group);
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_store_find_group (f->store, hex, NULL) == group);
  g_assert_true (sotto_store_find_group (f->store, "team", NULL) == group);
  g_assert_true (sotto_store_find_group (f->store, "Te", NULL) == group);
  g_assert_null (sotto_store_find_group (f->store, "Other", &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/store/groups/members", test_members);
  ADD ("/store/groups/owed", test_owed);
  ADD ("/store/groups/incoming", test_incoming);
  ADD ("/store/groups/expiry", test_expiry);
  ADD ("/store/groups/tamper", test_tamper);
  ADD ("/store/groups/delete", test_delete);
  ADD ("/store/groups/chain", test_chain);
  ADD ("/store/groups/find", test_find);
#undef ADD

  return g_test_run ();
}
