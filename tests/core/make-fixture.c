/* make-fixture.c — writes tests/core/fixtures/store-v1.db with today's code
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: make-fixture OUTPUT.db
 *
 * Built, never run by the test suite: the fixture is a file from the past
 * that later versions of the store must still open (see fixtures/README.md).
 * Regenerating it is only right while SOTTO_STORE_SCHEMA_VERSION is still 1;
 * after that, store-v1.db must stay as it is and a v2 generator writes
 * store-v2.db.
 *
 * Keys, uids and times of outgoing messages are random or taken from the
 * clock, so a new file needs new values in test-fixtures.c; this program
 * prints them at the end.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <glib/gstdio.h>

#include "sotto-core.h"
#include "sotto-test-util.h"

#define FIXTURE_PASSPHRASE "fixture"
/* The format this program's output is named after. */
#define FIXTURE_SCHEMA_VERSION 1

static void
check (const GError *error,
       const char   *what)
{
  if (error != NULL)
    {
      fprintf (stderr, "make-fixture: %s: %s\n", what, error->message);
      exit (EXIT_FAILURE);
    }
}

static char *
to_hex (const guint8 *data,
        gsize         len)
{
  char *hex = g_malloc (2 * len + 1);

  return sodium_bin2hex (hex, 2 * len + 1, data, len);
}

/* Contacts get fixed keys, so that the test can name them: the public key
 * of the secret BLAKE2b-256("sotto fixture contact: " NAME). */
static SottoContact *
add_contact (SottoStore *store,
             const char *name,
             const char *alias,
             const char *addresses[])
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *seed = g_strconcat ("sotto fixture contact: ", name, NULL);
  guint8 secret[crypto_scalarmult_SCALARBYTES];
  guint8 public_key[crypto_scalarmult_BYTES];
  SottoContact *contact;

  crypto_generichash (secret, sizeof secret, (const guint8 *)seed, strlen (seed), NULL, 0);
  if (crypto_scalarmult_base (public_key, secret) != 0)
    abort ();
  sodium_memzero (secret, sizeof secret);

  invite = sotto_invite_new (public_key, name, addresses, &error);
  check (error, "making an invite");
  sotto_store_add_contact_async (store, invite, alias, NULL, sotto_test_result_cb, &result);
  contact = sotto_store_add_contact_finish (store, sotto_test_wait (&result), &error);
  check (error, "adding a contact");

  return contact;
}

static void
send_message (SottoStore   *store,
              SottoContact *contact,
              const char   *body,
              gboolean      delivered)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (SottoMessage) message = NULL;
  g_autoptr (GError) error = NULL;

  sotto_store_queue_message_async (store, contact, body, NULL, sotto_test_result_cb, &result);
  message = sotto_store_queue_message_finish (store, sotto_test_wait (&result), &error);
  check (error, "queueing a message");

  if (delivered)
    {
      g_autoptr (GAsyncResult) receipt = NULL;

      sotto_store_mark_delivered_async (store, contact, sotto_message_get_uid (message), NULL,
                                        sotto_test_result_cb, &receipt);
      if (!sotto_store_mark_delivered_finish (store, sotto_test_wait (&receipt), &error))
        {
          check (error, "marking a message delivered");
          fprintf (stderr, "make-fixture: the receipt matched no message\n");
          exit (EXIT_FAILURE);
        }
    }
}

static void
receive_message (SottoStore   *store,
                 SottoContact *contact,
                 guint8        uid_byte,
                 gint64        sent,
                 const char   *body)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (SottoMessage) message = NULL;
  g_autoptr (GError) error = NULL;
  guint8 uid[SOTTO_MESSAGE_UID_LEN];

  memset (uid, uid_byte, sizeof uid);
  sotto_store_save_incoming_async (store, contact, uid, sent, body, NULL, sotto_test_result_cb, &result);
  message = sotto_store_save_incoming_finish (store, sotto_test_wait (&result), NULL, &error);
  check (error, "saving an incoming message");
}

static void
update_contact (SottoStore   *store,
                SottoContact *contact,
                const char   *alias,
                int           blocked,
                int           verification)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  sotto_store_update_contact_async (store, contact, alias, blocked, verification, NULL,
                                    sotto_test_result_cb, &result);
  sotto_store_update_contact_finish (store, sotto_test_wait (&result), &error);
  check (error, "updating a contact");
}

static void
make_profile (const char *dir)
{
  const char *ada_addresses[] = {
    "192.0.2.10:7483", "ada-desk.office.example:7483", "[2001:db8::10]:7483", NULL
  };
  const char *grace_addresses[] = { "198.51.100.5:7483", NULL };
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) ada = NULL;
  g_autoptr (SottoContact) grace = NULL;
  g_autoptr (GError) error = NULL;
  GWeakRef weak;

  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_create_async (dir, "Fixture Owner", SOTTO_KEY_PROTECTION_PASSPHRASE,
                              FIXTURE_PASSPHRASE, SOTTO_PWHASH_OPSLIMIT_MIN,
                              SOTTO_PWHASH_MEMLIMIT_MIN, NULL, sotto_test_result_cb, &result);
    store = sotto_store_create_finish (sotto_test_wait (&result), &error);
    check (error, "creating the profile");
  }

  ada = add_contact (store, "Ada Lovelace", "Ada", ada_addresses);
  grace = add_contact (store, "Grace Hopper", NULL, grace_addresses);

  /* Both directions, interleaved; the message ids are 1 to 9 in this order. */
  send_message (store, ada, "Hello Ada, are you free for lunch?", TRUE);
  receive_message (store, ada, 0x11, G_GINT64_CONSTANT (1700000000000000), "Grüße 👋");
  send_message (store, ada,
                "Agenda for Monday:\n"
                "  1. Analytical Engine\n"
                "  2. Note G\n"
                "\n"
                "See you!",
                TRUE);
  receive_message (store, ada, 0x22, G_GINT64_CONSTANT (1700000300000000),
                   "Zeile eins\nZeile zwei: Grüße 👋\n");
  send_message (store, ada, "Still in the outbox: Grüße 👋", FALSE);
  receive_message (store, grace, 0x33, G_GINT64_CONSTANT (1700000600000000),
                   "It's easier to ask forgiveness than it is to get permission.");
  send_message (store, grace, "Delivered before the block", TRUE);
  send_message (store, grace, "Queued, then blocked:\nsecond line", FALSE);
  send_message (store, ada, "Last one, queued too", FALSE);

  update_contact (store, grace, NULL, 1, SOTTO_VERIFICATION_VERIFIED);

  /* Closing checkpoints the WAL into the main file and removes it. */
  g_clear_object (&ada);
  g_clear_object (&grace);
  g_weak_ref_init (&weak, store);
  g_clear_object (&store);
  if (g_weak_ref_get (&weak) != NULL)
    {
      fprintf (stderr, "make-fixture: the store was not closed\n");
      exit (EXIT_FAILURE);
    }
  g_weak_ref_clear (&weak);
}

/* Reads the finished file back through the store, from a copy of it, and
 * prints what test-fixtures.c needs. */
static void
print_summary (const char *fixture)
{
  g_autofree char *tmp = NULL;
  g_autofree char *copy = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *public_hex = NULL;
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;
  GListModel *contacts;
  gsize len = 0;

  tmp = g_dir_make_tmp ("sotto-fixture-check-XXXXXX", &error);
  check (error, "making a directory");
  copy = g_build_filename (tmp, SOTTO_STORE_FILENAME, NULL);
  g_file_get_contents (fixture, &contents, &len, &error);
  check (error, "reading the fixture");
  g_file_set_contents_full (copy, contents, len, G_FILE_SET_CONTENTS_NONE, 0600, &error);
  check (error, "copying the fixture");

  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_open_async (tmp, FIXTURE_PASSPHRASE, NULL, sotto_test_result_cb, &result);
    store = sotto_store_open_finish (sotto_test_wait (&result), &error);
    check (error, "opening the fixture");
  }

  public_hex = to_hex (sotto_identity_get_public_key (sotto_store_get_identity (store)),
                       SOTTO_KEY_LEN);
  printf ("identity \"%s\" public key %s\n",
          sotto_identity_get_display_name (sotto_store_get_identity (store)), public_hex);

  contacts = sotto_store_get_contacts (store);
  for (guint i = 0; i < g_list_model_get_n_items (contacts); i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (contacts, i);
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (GPtrArray) page = NULL;
      g_autofree char *key_hex = to_hex (sotto_contact_get_public_key (contact), SOTTO_KEY_LEN);

      printf ("contact %" G_GINT64_FORMAT " \"%s\" public key %s\n",
              sotto_contact_get_id (contact), sotto_contact_get_display_name (contact), key_hex);

      sotto_store_history_async (store, contact, 0, SOTTO_HISTORY_PAGE_MAX, NULL,
                                 sotto_test_result_cb, &result);
      page = sotto_store_history_finish (store, sotto_test_wait (&result), &error);
      check (error, "reading the history");
      for (guint j = 0; j < page->len; j++)
        {
          SottoMessage *message = g_ptr_array_index (page, j);
          g_autofree char *uid_hex = sotto_message_dup_uid_hex (message);

          printf ("  message %" G_GINT64_FORMAT " %s %s %s sent %" G_GINT64_FORMAT
                  " received %" G_GINT64_FORMAT "\n",
                  sotto_message_get_id (message),
                  sotto_message_get_direction (message) == SOTTO_DIRECTION_IN ? "in " : "out",
                  sotto_message_state_to_string (sotto_message_get_state (message)),
                  uid_hex, sotto_message_get_sent (message), sotto_message_get_received (message));
        }
    }

  g_clear_object (&store);
  {
    const char *names[] = { SOTTO_STORE_FILENAME, "lock", SOTTO_STORE_FILENAME "-wal",
                            SOTTO_STORE_FILENAME "-shm" };

    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autofree char *path = g_build_filename (tmp, names[i], NULL);
        g_unlink (path);
      }
    g_rmdir (tmp);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *profile = NULL;
  g_autofree char *db = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  const char *output;

  if (argc != 2)
    {
      fprintf (stderr, "Usage: %s OUTPUT.db\n", argv[0]);
      return EXIT_FAILURE;
    }
  output = argv[1];
  if (g_file_test (output, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, "make-fixture: %s exists; remove it first\n", output);
      return EXIT_FAILURE;
    }

  if (sodium_init () < 0)
    return EXIT_FAILURE;

  /* The store wants a private directory of its own. */
  tmp = g_dir_make_tmp ("sotto-fixture-XXXXXX", &error);
  check (error, "making a directory");
  profile = g_build_filename (tmp, "profile", NULL);
  if (g_mkdir (profile, 0700) != 0)
    {
      fprintf (stderr, "make-fixture: %s: %s\n", profile, g_strerror (errno));
      return EXIT_FAILURE;
    }

  make_profile (profile);

  /* One self-contained file: nothing may still sit in a WAL. */
  db = g_build_filename (profile, SOTTO_STORE_FILENAME, NULL);
  {
    g_autofree char *wal = g_strconcat (db, "-wal", NULL);
    g_autofree char *shm = g_strconcat (db, "-shm", NULL);

    if (g_file_test (wal, G_FILE_TEST_EXISTS) || g_file_test (shm, G_FILE_TEST_EXISTS))
      {
        fprintf (stderr, "make-fixture: %s or %s is still there after closing\n", wal, shm);
        return EXIT_FAILURE;
      }
  }

  g_file_get_contents (db, &contents, &len, &error);
  check (error, "reading the database");

  {
    g_autofree char *lock = g_build_filename (profile, "lock", NULL);

    g_unlink (db);
    g_unlink (lock);
    g_rmdir (profile);
    g_rmdir (tmp);
  }

  /* Newer code writes a newer format: store-v1.db must then stay the file
   * that version 1 wrote. PRAGMA user_version is at offset 60. */
  {
    const guint8 *header = (const guint8 *)contents;
    guint32 version = len < 100 ? 0 : ((guint32)header[60] << 24 | (guint32)header[61] << 16 |
                                       (guint32)header[62] << 8 | header[63]);

    if (version != FIXTURE_SCHEMA_VERSION)
      {
        fprintf (stderr, "make-fixture: this build writes history format %u, not %d: "
                 "keep the committed store-v%d.db (see fixtures/README.md)\n",
                 version, FIXTURE_SCHEMA_VERSION, FIXTURE_SCHEMA_VERSION);
        return EXIT_FAILURE;
      }
  }

  g_file_set_contents_full (output, contents, len, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error);
  check (error, "writing the fixture");

  printf ("wrote %s (%" G_GSIZE_FORMAT " bytes)\n", output, len);
  print_summary (output);

  return EXIT_SUCCESS;
}
