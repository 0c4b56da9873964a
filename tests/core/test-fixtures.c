/* test-fixtures.c — databases written by earlier versions still open, intact
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each fixture under core/fixtures/ is a profile database exactly as some
 * schema version left it (fixtures/README.md says how each was made). The
 * current code must open a copy of it, migrating if it has to, and show
 * every identity, contact, message and outbox entry as it was written.
 *
 * The expected content is written out here by hand, not taken from the
 * generator: a change that reads old files differently must show up as a
 * failing table row. A new schema version adds one entry to fixtures[].
 */
#include "config.h"

#include <string.h>
#include <sodium.h>
#include <glib/gstdio.h>

#include "sotto-core.h"
#include "sotto-store.h"
#include "sotto-test-util.h"

/* ------------------------------------------------------------------ */
/* The expected content                                               */

typedef struct
{
  gint64             id;
  const char        *uid_hex;
  SottoDirection     direction;
  SottoMessageState  state;
  gint64             sent;      /* µs since the epoch */
  gint64             received;  /* 0 for outgoing messages */
  const char        *body;
} ExpectedMessage;

typedef struct
{
  gint64                 id;
  const char            *public_key_hex;
  const char            *display_name;
  const char            *alias;         /* NULL: none */
  const char            *name;          /* what front ends show */
  gboolean               blocked;
  SottoVerification      verification;
  const char * const    *addresses;
  const ExpectedMessage *messages;      /* reading order; ends with a NULL body */
  guint                  unread;        /* incoming messages never marked read */
} ExpectedContact;

typedef struct
{
  const char             *name;              /* the test path: /store/fixtures/NAME */
  const char             *file;              /* below core/fixtures/ */
  gint64                  schema_version;    /* PRAGMA user_version of the file */
  SottoKeyProtection      protection;
  const char             *passphrase;
  const char             *identity_name;
  const char             *identity_public_key_hex;
  const ExpectedContact  *contacts;          /* any order; ends with a NULL display_name */
  const char * const     *outbox;            /* uids, oldest first; NULL-terminated */
  gint64                  next_message_id;   /* what the next message written gets */
} Fixture;

/* store-v1.db: SOTTO_STORE_SCHEMA_VERSION 1, made by make-fixture. */
static const ExpectedMessage v1_ada_messages[] = {
  { 1, "f52e5edb9d8d4bbc10659a307a2365a6", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1795387214527858), 0,
    "Hello Ada, are you free for lunch?" },
  { 2, "11111111111111111111111111111111", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000000000000), G_GINT64_CONSTANT (1795387214528554),
    "Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b" },
  { 3, "28342cdb1988ce704a699f99edc9ec49", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1795387214528883), 0,
    "Agenda for Monday:\n  1. Analytical Engine\n  2. Note G\n\nSee you!" },
  { 4, "22222222222222222222222222222222", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000300000000), G_GINT64_CONSTANT (1795387214529563),
    "Zeile eins\nZeile zwei: Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b\n" },
  { 5, "6941304bdd5398b7e2ed7ae9415a2acf", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1795387214529888), 0,
    "Still in the outbox: Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b" },
  { 9, "5b7f1f81a84158dc7fc3d1dadd56cc25", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1795387214531710), 0,
    "Last one, queued too" },
  { 0 }
};

static const ExpectedMessage v1_grace_messages[] = {
  { 6, "33333333333333333333333333333333", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000600000000), G_GINT64_CONSTANT (1795387214530268),
    "It's easier to ask forgiveness than it is to get permission." },
  { 7, "09017d4c55516510fe2927613d49dfbd", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1795387214530582), 0,
    "Delivered before the block" },
  { 8, "00a247f49ba6868d6de89b50305e8c42", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1795387214531260), 0,
    "Queued, then blocked:\nsecond line" },
  { 0 }
};

static const ExpectedContact v1_contacts[] = {
  {
    1, "68baa662824edc465c6fc6b02d1ddab71144a9e2fbb5fc9df5d1c01b05ff0204",
    "Ada Lovelace", "Ada", "Ada", FALSE, SOTTO_VERIFICATION_UNVERIFIED,
    (const char * const[]) { "192.0.2.10:7483", "ada-desk.office.example:7483",
                             "[2001:db8::10]:7483", NULL },
    v1_ada_messages,
  },
  {
    2, "827edd0895dc752e15d9fa0f65c554752f156e4e928d328a629a867c02bba47e",
    "Grace Hopper", NULL, "Grace Hopper", TRUE, SOTTO_VERIFICATION_VERIFIED,
    (const char * const[]) { "198.51.100.5:7483", NULL },
    v1_grace_messages,
  },
  { 0 }
};

/* store-v3.db: SOTTO_STORE_SCHEMA_VERSION 3, made by make-fixture (same
 * content as v1; keys, uids and times of its own run). */
static const ExpectedMessage v3_ada_messages[] = {
  { 1, "2f6e1b3f89024cdb1899c4639c85076e", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1795391211780776), 0,
    "Hello Ada, are you free for lunch?" },
  { 2, "11111111111111111111111111111111", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000000000000), G_GINT64_CONSTANT (1795391211781552),
    "Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b" },
  { 3, "5d6122f751b187c02d42c16dc8bf0e89", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1795391211783268), 0,
    "Agenda for Monday:\n  1. Analytical Engine\n  2. Note G\n\nSee you!" },
  { 4, "22222222222222222222222222222222", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000300000000), G_GINT64_CONSTANT (1795391211784298),
    "Zeile eins\nZeile zwei: Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b\n" },
  { 5, "c22995e8657ff91c02b8318003f5672a", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1795391211784792), 0,
    "Still in the outbox: Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b" },
  { 9, "e8ddda5609f7cbe72f461e7c383e124f", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1795391211787694), 0,
    "Last one, queued too" },
  { 0 }
};

static const ExpectedMessage v3_grace_messages[] = {
  { 6, "33333333333333333333333333333333", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000600000000), G_GINT64_CONSTANT (1795391211785303),
    "It's easier to ask forgiveness than it is to get permission." },
  { 7, "26439d97110205c1b807b1da82856c08", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1795391211785800), 0,
    "Delivered before the block" },
  { 8, "52425c235653c2a3368775d97879f3af", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1795391211787074), 0,
    "Queued, then blocked:\nsecond line" },
  { 0 }
};

static const ExpectedContact v3_contacts[] = {
  {
    1, "68baa662824edc465c6fc6b02d1ddab71144a9e2fbb5fc9df5d1c01b05ff0204",
    "Ada Lovelace", "Ada", "Ada", FALSE, SOTTO_VERIFICATION_UNVERIFIED,
    (const char * const[]) { "192.0.2.10:7483", "ada-desk.office.example:7483",
                             "[2001:db8::10]:7483", NULL },
    v3_ada_messages,
  },
  {
    2, "827edd0895dc752e15d9fa0f65c554752f156e4e928d328a629a867c02bba47e",
    "Grace Hopper", NULL, "Grace Hopper", TRUE, SOTTO_VERIFICATION_VERIFIED,
    (const char * const[]) { "198.51.100.5:7483", NULL },
    v3_grace_messages,
  },
  { 0 }
};

/* store-v4.db: SOTTO_STORE_SCHEMA_VERSION 4, made by make-fixture (same
 * content as v1; keys, uids and times of its own run). */
static const ExpectedMessage v4_ada_messages[] = {
  { 1, "55b3a40b31165c8832a77c0e2c74897a", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1795398512709736), 0,
    "Hello Ada, are you free for lunch?" },
  { 2, "11111111111111111111111111111111", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000000000000), G_GINT64_CONSTANT (1795398512710292),
    "Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b" },
  { 3, "b341bb2b48b82f87b8b55677ee2eea14", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1795398512710625), 0,
    "Agenda for Monday:\n  1. Analytical Engine\n  2. Note G\n\nSee you!" },
  { 4, "22222222222222222222222222222222", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000300000000), G_GINT64_CONSTANT (1795398512711030),
    "Zeile eins\nZeile zwei: Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b\n" },
  { 5, "6a4d88927839c0a8c58b613c628f8a80", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1795398512711375), 0,
    "Still in the outbox: Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b" },
  { 9, "05a7a420941b41f251aaf0486b0ad0a5", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1795398512713085), 0,
    "Last one, queued too" },
  { 0 }
};

static const ExpectedMessage v4_grace_messages[] = {
  { 6, "33333333333333333333333333333333", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000600000000), G_GINT64_CONSTANT (1795398512711822),
    "It's easier to ask forgiveness than it is to get permission." },
  { 7, "134fa1df04e8571532a08132bb8e21c5", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1795398512712133), 0,
    "Delivered before the block" },
  { 8, "f00c5fbca002d8f993d8a9ef294bfbce", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1795398512712739), 0,
    "Queued, then blocked:\nsecond line" },
  { 0 }
};

static const ExpectedContact v4_contacts[] = {
  {
    1, "68baa662824edc465c6fc6b02d1ddab71144a9e2fbb5fc9df5d1c01b05ff0204",
    "Ada Lovelace", "Ada", "Ada", FALSE, SOTTO_VERIFICATION_UNVERIFIED,
    (const char * const[]) { "192.0.2.10:7483", "ada-desk.office.example:7483",
                             "[2001:db8::10]:7483", NULL },
    v4_ada_messages,
  },
  {
    2, "827edd0895dc752e15d9fa0f65c554752f156e4e928d328a629a867c02bba47e",
    "Grace Hopper", NULL, "Grace Hopper", TRUE, SOTTO_VERIFICATION_VERIFIED,
    (const char * const[]) { "198.51.100.5:7483", NULL },
    v4_grace_messages,
  },
  { 0 }
};

/* store-v5.db: SOTTO_STORE_SCHEMA_VERSION 5, made by make-fixture (same
 * content as v1; keys, uids and times of its own run). */
static const ExpectedMessage v5_ada_messages[] = {
  { 1, "f1940e91fb0926ed246fbcb73909f1ae", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1796581407609507), 0,
    "Hello Ada, are you free for lunch?" },
  { 2, "11111111111111111111111111111111", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000000000000), G_GINT64_CONSTANT (1796581407610363),
    "Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b" },
  { 3, "617d92104093e3c393fc7b23ce5abfa6", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1796581407610925), 0,
    "Agenda for Monday:\n  1. Analytical Engine\n  2. Note G\n\nSee you!" },
  { 4, "22222222222222222222222222222222", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000300000000), G_GINT64_CONSTANT (1796581407611564),
    "Zeile eins\nZeile zwei: Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b\n" },
  { 5, "7419e6fe4ccc29e73ea46e264782597d", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1796581407612044), 0,
    "Still in the outbox: Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b" },
  { 9, "6924ffaac7078a9c5c9d75b6d2dd1bc8", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1796581407614108), 0,
    "Last one, queued too" },
  { 0 }
};

static const ExpectedMessage v5_grace_messages[] = {
  { 6, "33333333333333333333333333333333", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000600000000), G_GINT64_CONSTANT (1796581407612583),
    "It's easier to ask forgiveness than it is to get permission." },
  { 7, "5487d19452da1475d902862626bcb755", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1796581407613038), 0,
    "Delivered before the block" },
  { 8, "76f5b8de88b7984e84983fdec6e79d52", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1796581407613647), 0,
    "Queued, then blocked:\nsecond line" },
  { 0 }
};

static const ExpectedContact v5_contacts[] = {
  {
    1, "68baa662824edc465c6fc6b02d1ddab71144a9e2fbb5fc9df5d1c01b05ff0204",
    "Ada Lovelace", "Ada", "Ada", FALSE, SOTTO_VERIFICATION_UNVERIFIED,
    (const char * const[]) { "192.0.2.10:7483", "ada-desk.office.example:7483",
                             "[2001:db8::10]:7483", NULL },
    v5_ada_messages, 2,
  },
  {
    2, "827edd0895dc752e15d9fa0f65c554752f156e4e928d328a629a867c02bba47e",
    "Grace Hopper", NULL, "Grace Hopper", TRUE, SOTTO_VERIFICATION_VERIFIED,
    (const char * const[]) { "198.51.100.5:7483", NULL },
    v5_grace_messages, 1,
  },
  { 0 }
};

/* store-v6.db: SOTTO_STORE_SCHEMA_VERSION 6, made by make-fixture (same
 * content as v1; keys, uids and times of its own run). */
static const ExpectedMessage v6_ada_messages[] = {
  { 1, "bf5848fe8f20fe670c3b3162ecbea1be", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1796583771213268), 0,
    "Hello Ada, are you free for lunch?" },
  { 2, "11111111111111111111111111111111", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000000000000), G_GINT64_CONSTANT (1796583771221850),
    "Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b" },
  { 3, "b4ee848c24ce0b5d1b8c8c99eeb3ef06", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1796583771234339), 0,
    "Agenda for Monday:\n  1. Analytical Engine\n  2. Note G\n\nSee you!" },
  { 4, "22222222222222222222222222222222", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000300000000), G_GINT64_CONSTANT (1796583771242468),
    "Zeile eins\nZeile zwei: Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b\n" },
  { 5, "84e1ab8566ccbe5acb8f9e9f7d44b662", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1796583771252020), 0,
    "Still in the outbox: Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x91\x8b" },
  { 9, "db40bdc96b6f8315db7d11e994e00f2c", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1796583771297266), 0,
    "Last one, queued too" },
  { 0 }
};

static const ExpectedMessage v6_grace_messages[] = {
  { 6, "33333333333333333333333333333333", SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1700000600000000), G_GINT64_CONSTANT (1796583771252944),
    "It's easier to ask forgiveness than it is to get permission." },
  { 7, "9df2877a3d2ac0daad1423ed7ce7e156", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_DELIVERED,
    G_GINT64_CONSTANT (1796583771263565), 0,
    "Delivered before the block" },
  { 8, "e0741cc3d82cc888b1c0a3ae35c2d2a7", SOTTO_DIRECTION_OUT, SOTTO_MESSAGE_QUEUED,
    G_GINT64_CONSTANT (1796583771282451), 0,
    "Queued, then blocked:\nsecond line" },
  { 0 }
};

static const ExpectedContact v6_contacts[] = {
  {
    1, "68baa662824edc465c6fc6b02d1ddab71144a9e2fbb5fc9df5d1c01b05ff0204",
    "Ada Lovelace", "Ada", "Ada", FALSE, SOTTO_VERIFICATION_UNVERIFIED,
    (const char * const[]) { "192.0.2.10:7483", "ada-desk.office.example:7483",
                             "[2001:db8::10]:7483", NULL },
    v6_ada_messages, 2,
  },
  {
    2, "827edd0895dc752e15d9fa0f65c554752f156e4e928d328a629a867c02bba47e",
    "Grace Hopper", NULL, "Grace Hopper", TRUE, SOTTO_VERIFICATION_VERIFIED,
    (const char * const[]) { "198.51.100.5:7483", NULL },
    v6_grace_messages, 1,
  },
  { 0 }
};

static const Fixture fixtures[] = {
  {
    "v1", "store-v1.db", 1,
    SOTTO_KEY_PROTECTION_PASSPHRASE, "fixture",
    "Fixture Owner", "d8b4222f57158910e596f1ed4f78ea60fc3de108fb40dc9dee5da3775808612f",
    v1_contacts,
    (const char * const[]) { "6941304bdd5398b7e2ed7ae9415a2acf",
                             "00a247f49ba6868d6de89b50305e8c42",
                             "5b7f1f81a84158dc7fc3d1dadd56cc25", NULL },
    10,
  },
  {
    "v3", "store-v3.db", 3,
    SOTTO_KEY_PROTECTION_PASSPHRASE, "fixture",
    "Fixture Owner", "3718b6d96b7b0b161c6dc34c8e2c60ae97519376233f42c97c8fbc6617c40e12",
    v3_contacts,
    (const char * const[]) { "c22995e8657ff91c02b8318003f5672a",
                             "52425c235653c2a3368775d97879f3af",
                             "e8ddda5609f7cbe72f461e7c383e124f", NULL },
    10,
  },
  {
    "v4", "store-v4.db", 4,
    SOTTO_KEY_PROTECTION_PASSPHRASE, "fixture",
    "Fixture Owner", "421467d41f8412c5066a6dee17a3830a2c19283447e23960717333d57cde5e0f",
    v4_contacts,
    (const char * const[]) { "6a4d88927839c0a8c58b613c628f8a80",
                             "f00c5fbca002d8f993d8a9ef294bfbce",
                             "05a7a420941b41f251aaf0486b0ad0a5", NULL },
    10,
  },
  {
    "v5", "store-v5.db", 5,
    SOTTO_KEY_PROTECTION_PASSPHRASE, "fixture",
    "Fixture Owner", "58f83f91e1d389de119674c59e27972b6f9ea82ac59bdaa0c64a447b9fed8625",
    v5_contacts,
    (const char * const[]) { "7419e6fe4ccc29e73ea46e264782597d",
                             "76f5b8de88b7984e84983fdec6e79d52",
                             "6924ffaac7078a9c5c9d75b6d2dd1bc8", NULL },
    10,
  },
  {
    "v6", "store-v6.db", 6,
    SOTTO_KEY_PROTECTION_PASSPHRASE, "fixture",
    "Fixture Owner", "8a8c9e435d2a1fc1814218eb6d124153a14e4761cb2ced49847dfe13faceec38",
    v6_contacts,
    (const char * const[]) { "84e1ab8566ccbe5acb8f9e9f7d44b662",
                             "e0741cc3d82cc888b1c0a3ae35c2d2a7",
                             "db40bdc96b6f8315db7d11e994e00f2c", NULL },
    10,
  },
};

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

static char *
fixture_path (const Fixture *fixture)
{
  /* test_env sets G_TEST_SRCDIR to the tests/ source directory. */
  return g_test_build_filename (G_TEST_DIST, "core", "fixtures", fixture->file, NULL);
}

static char *
bytes_to_hex (const guint8 *data,
              gsize         len)
{
  char *hex = g_malloc (2 * len + 1);

  return sodium_bin2hex (hex, 2 * len + 1, data, len);
}

/* A fresh private profile holding a copy of the fixture: opening may
 * migrate, and must never touch the file in the source tree. */
static char *
copy_into_profile (const Fixture *fixture)
{
  g_autofree char *source = fixture_path (fixture);
  g_autofree char *dir = sotto_test_make_profile_dir ();
  g_autofree char *target = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  if (!g_file_get_contents (source, &contents, &len, &error))
    g_error ("Cannot read the fixture (is G_TEST_SRCDIR the tests/ source directory?): %s",
             error->message);
  g_file_set_contents_full (target, contents, len, G_FILE_SET_CONTENTS_NONE, 0600, &error);
  g_assert_no_error (error);

  return g_steal_pointer (&dir);
}

static guint
count_messages (const ExpectedMessage *messages)
{
  guint n = 0;

  while (messages[n].body != NULL)
    n++;

  return n;
}

static const ExpectedMessage *
find_expected_message (const Fixture          *fixture,
                       const char             *uid_hex,
                       const ExpectedContact **out_contact)
{
  for (const ExpectedContact *c = fixture->contacts; c->display_name != NULL; c++)
    for (const ExpectedMessage *m = c->messages; m->body != NULL; m++)
      if (g_str_equal (m->uid_hex, uid_hex))
        {
          *out_contact = c;
          return m;
        }

  return NULL;
}

static void
assert_message (SottoMessage          *message,
                const ExpectedContact *contact,
                const ExpectedMessage *expected)
{
  g_autofree char *uid_hex = sotto_message_dup_uid_hex (message);

  g_assert_cmpint (sotto_message_get_id (message), ==, expected->id);
  g_assert_cmpint (sotto_message_get_contact_id (message), ==, contact->id);
  g_assert_cmpstr (uid_hex, ==, expected->uid_hex);
  g_assert_cmpint (sotto_message_get_direction (message), ==, expected->direction);
  g_assert_cmpstr (sotto_message_state_to_string (sotto_message_get_state (message)), ==,
                   sotto_message_state_to_string (expected->state));
  g_assert_cmpint (sotto_message_get_sent (message), ==, expected->sent);
  g_assert_cmpint (sotto_message_get_received (message), ==, expected->received);
  g_assert_cmpstr (sotto_message_get_body (message), ==, expected->body);
}

static void
assert_identity (SottoStore    *store,
                 const Fixture *fixture)
{
  SottoIdentity *identity = sotto_store_get_identity (store);
  g_autoptr (SottoIdentity) rebuilt = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *public_hex = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *expected_fingerprint = NULL;
  guint8 derived[SOTTO_KEY_LEN];

  g_assert_nonnull (identity);
  g_assert_cmpstr (sotto_identity_get_display_name (identity), ==, fixture->identity_name);
  public_hex = bytes_to_hex (sotto_identity_get_public_key (identity), SOTTO_KEY_LEN);
  g_assert_cmpstr (public_hex, ==, fixture->identity_public_key_hex);

  /* The secret key came out of its sealed column and still belongs to the
   * public one: without that the profile could never finish a handshake. */
  g_assert_cmpint (crypto_scalarmult_base (derived, sotto_identity_get_secret_key (identity)),
                   ==, 0);
  g_assert_cmpmem (derived, SOTTO_KEY_LEN, sotto_identity_get_public_key (identity),
                   SOTTO_KEY_LEN);
  rebuilt = sotto_identity_new_from_keys (sotto_identity_get_public_key (identity),
                                          sotto_identity_get_secret_key (identity),
                                          fixture->identity_name, &error);
  g_assert_no_error (error);

  fingerprint = sotto_identity_dup_fingerprint (identity);
  expected_fingerprint = sotto_fingerprint_for_key (sotto_identity_get_public_key (identity));
  g_assert_cmpstr (fingerprint, ==, expected_fingerprint);

  g_assert_cmpint (sotto_store_get_key_protection (store), ==, fixture->protection);
}

static void
assert_contacts_and_history (SottoStore    *store,
                             const Fixture *fixture)
{
  GListModel *contacts = sotto_store_get_contacts (store);
  guint n_expected = 0;

  for (const ExpectedContact *c = fixture->contacts; c->display_name != NULL; c++)
    {
      guint8 key[SOTTO_KEY_LEN];
      SottoContact *contact;
      g_autofree char *fingerprint = NULL;
      g_autofree char *expected_fingerprint = NULL;
      g_autoptr (GPtrArray) history = NULL;
      const char * const *addresses;
      guint n_messages = count_messages (c->messages);

      n_expected++;
      g_assert_cmpint (sodium_hex2bin (key, sizeof key, c->public_key_hex,
                                       strlen (c->public_key_hex), NULL, NULL, NULL), ==, 0);
      contact = sotto_store_get_contact_by_key (store, key);
      g_assert_nonnull (contact);

      g_assert_cmpint (sotto_contact_get_id (contact), ==, c->id);
      g_assert_cmpstr (sotto_contact_get_display_name (contact), ==, c->display_name);
      g_assert_cmpstr (sotto_contact_get_alias (contact), ==, c->alias);
      g_assert_cmpstr (sotto_contact_get_name (contact), ==, c->name);
      g_assert_cmpint (sotto_contact_get_blocked (contact), ==, c->blocked);
      /* No file before format 6 kept an offered key. */
      g_assert_null (sotto_contact_get_offered_key (contact));
      g_assert_cmpstr (sotto_verification_to_string (sotto_contact_get_verification (contact)),
                       ==, sotto_verification_to_string (c->verification));
      fingerprint = sotto_contact_dup_fingerprint (contact);
      expected_fingerprint = sotto_fingerprint_for_key (key);
      g_assert_cmpstr (fingerprint, ==, expected_fingerprint);

      addresses = sotto_contact_get_addresses (contact);
      g_assert_nonnull (addresses);
      g_assert_cmpstrv (addresses, c->addresses);

      /* Found by name, as sotto-cli finds them. */
      g_assert_true (sotto_store_find_contact (store, c->display_name, NULL) == contact);

      history = sotto_test_full_history (store, contact, 2);
      g_assert_cmpuint (history->len, ==, n_messages);
      for (guint i = 0; i < n_messages; i++)
        assert_message (g_ptr_array_index (history, i), c, &c->messages[i]);
    }

  g_assert_cmpuint (g_list_model_get_n_items (contacts), ==, n_expected);
}

static void
assert_outbox (SottoStore    *store,
               const Fixture *fixture)
{
  g_autoptr (GPtrArray) queue = sotto_test_outbox (store, NULL);
  guint n_expected = g_strv_length ((char **)fixture->outbox);

  g_assert_cmpuint (queue->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    {
      const ExpectedContact *contact = NULL;
      const ExpectedMessage *expected = find_expected_message (fixture, fixture->outbox[i],
                                                               &contact);

      g_assert_nonnull (expected);
      assert_message (g_ptr_array_index (queue, i), contact, expected);
    }

  /* Each contact's queue is its part of the whole one, in the same order. */
  for (const ExpectedContact *c = fixture->contacts; c->display_name != NULL; c++)
    {
      guint8 key[SOTTO_KEY_LEN];
      g_autoptr (GPtrArray) contact_queue = NULL;
      guint j = 0;

      g_assert_cmpint (sodium_hex2bin (key, sizeof key, c->public_key_hex,
                                       strlen (c->public_key_hex), NULL, NULL, NULL), ==, 0);
      contact_queue = sotto_test_outbox (store, sotto_store_get_contact_by_key (store, key));
      for (guint i = 0; i < n_expected; i++)
        {
          const ExpectedContact *owner = NULL;
          const ExpectedMessage *expected = find_expected_message (fixture, fixture->outbox[i],
                                                                   &owner);

          if (owner != c)
            continue;
          g_assert_cmpuint (j, <, contact_queue->len);
          assert_message (g_ptr_array_index (contact_queue, j++), c, expected);
        }
      g_assert_cmpuint (j, ==, contact_queue->len);
    }
}

/* A fixture that predates read marks has nothing unread after the
 * migration; a later one has what it never marked read. The last activity
 * is that of each contact's newest message. */
static void
assert_summaries (SottoStore    *store,
                  const Fixture *fixture)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) summaries = NULL;
  g_autoptr (GError) error = NULL;
  guint n_expected = 0;

  sotto_store_list_summaries_async (store, NULL, NULL, sotto_test_result_cb, &result);
  summaries = sotto_store_list_summaries_finish (store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);

  for (const ExpectedContact *c = fixture->contacts; c->display_name != NULL; c++)
    {
      const ExpectedMessage *newest = &c->messages[count_messages (c->messages) - 1];
      gboolean found = FALSE;

      n_expected++;
      for (guint i = 0; i < summaries->len; i++)
        {
          SottoConversationSummary *summary = g_ptr_array_index (summaries, i);

          if (summary->contact_id != c->id)
            continue;
          found = TRUE;
          g_assert_cmpuint (summary->unread, ==, c->unread);
          g_assert_cmpint (summary->last_activity, ==, MAX (newest->sent, newest->received));
        }
      g_assert_true (found);
    }
  g_assert_cmpuint (summaries->len, ==, n_expected);
}

static void
assert_content (SottoStore    *store,
                const Fixture *fixture)
{
  assert_identity (store, fixture);
  assert_contacts_and_history (store, fixture);
  assert_outbox (store, fixture);
  assert_summaries (store, fixture);
}

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

/* Straight from the SQLite header, so that nothing opens the file:
 * user_version at offset 60, application_id at offset 68. */
static void
read_header (const char *path,
             gint64     *out_user_version,
             guint32    *out_application_id)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, >=, 100);
  g_assert_cmpmem (contents, 16, "SQLite format 3", 16);
  *out_user_version = read_be32 ((const guint8 *)contents + 60);
  *out_application_id = read_be32 ((const guint8 *)contents + 68);
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */

/* The committed file is what the table says it is: one self-contained
 * SQLite file of the right schema version. A fixture regenerated by newer
 * code would no longer test the old format, and fails here. */
static void
test_fixture_file (gconstpointer data)
{
  const Fixture *fixture = data;
  g_autofree char *path = fixture_path (fixture);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  g_autofree char *journal = g_strconcat (path, "-journal", NULL);
  gint64 user_version = 0;
  guint32 application_id = 0;

  read_header (path, &user_version, &application_id);
  g_assert_cmpint (user_version, ==, fixture->schema_version);
  g_assert_cmphex (application_id, ==, SOTTO_STORE_APPLICATION_ID);
  /* A fixture newer than the code would be a mistake in the table. */
  g_assert_cmpint (fixture->schema_version, <=, SOTTO_STORE_SCHEMA_VERSION);

  /* Whatever the WAL held would be lost on copying the main file alone. */
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (shm, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
}

static void
test_fixture_content (gconstpointer data)
{
  const Fixture *fixture = data;
  g_autofree char *dir = copy_into_profile (fixture);
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;

  /* The Argon2id parameters come from the file: the wrong passphrase and
   * none at all are told apart from a damaged file. */
  if (fixture->protection == SOTTO_KEY_PROTECTION_PASSPHRASE)
    {
      store = sotto_test_open_store (dir, NULL, &error);
      g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NEEDS_PASSPHRASE);
      g_assert_null (store);
      g_clear_error (&error);

      store = sotto_test_open_store (dir, "not the passphrase", &error);
      g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_WRONG_PASSPHRASE);
      g_assert_null (store);
      g_clear_error (&error);
    }

  store = sotto_test_open_store (dir, fixture->passphrase, &error);
  g_assert_no_error (error);
  assert_content (store, fixture);
  sotto_test_close_store (&store);

  /* Opening brought the copy up to today's format, and closing left it
   * in one file again. */
  {
    g_autofree char *copy = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
    g_autofree char *wal = g_strconcat (copy, "-wal", NULL);
    gint64 user_version = 0;
    guint32 application_id = 0;

    read_header (copy, &user_version, &application_id);
    g_assert_cmpint (user_version, ==, SOTTO_STORE_SCHEMA_VERSION);
    g_assert_cmphex (application_id, ==, SOTTO_STORE_APPLICATION_ID);
    g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  }

  /* Whatever the first open did (a migration, say), the second sees the
   * same. */
  store = sotto_test_open_store (dir, fixture->passphrase, &error);
  g_assert_no_error (error);
  assert_content (store, fixture);
  sotto_test_close_store (&store);
}

static int
compare_names (const void *a,
               const void *b)
{
  return strcmp (*(char * const *)a, *(char * const *)b);
}

/* The names in @path, sorted. */
static char **
list_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  char **names;
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_strv_builder_add (builder, name);

  names = g_strv_builder_end (builder);
  qsort (names, g_strv_length (names), sizeof (char *), compare_names);
  return names;
}

/* Opening and then writing to the copy leaves the committed fixture, and
 * the directory it lives in, byte for byte as they were; and the old file
 * stays usable for new writes. */
static void
test_fixture_original_untouched (gconstpointer data)
{
  const Fixture *fixture = data;
  g_autofree char *path = fixture_path (fixture);
  g_autofree char *fixtures_dir = g_path_get_dirname (path);
  g_autofree char *checksum_before = sotto_test_file_checksum (path);
  g_autofree char *checksum_after = NULL;
  g_autofree char *copy_before = NULL;
  g_autofree char *copy_after = NULL;
  g_auto (GStrv) names_before = NULL;
  g_auto (GStrv) names_after = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *copy = NULL;
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoMessage) message = NULL;
  g_autoptr (GError) error = NULL;
  GStatBuf st_before;
  GStatBuf st_after;
  const ExpectedContact *first = &fixture->contacts[0];
  guint8 key[SOTTO_KEY_LEN];

  names_before = list_dir (fixtures_dir);
  g_assert_cmpint (g_stat (path, &st_before), ==, 0);

  dir = copy_into_profile (fixture);
  copy = g_build_filename (dir, SOTTO_STORE_FILENAME, NULL);
  copy_before = sotto_test_file_checksum (copy);
  g_assert_cmpstr (copy_before, ==, checksum_before);

  store = sotto_test_open_store (dir, fixture->passphrase, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sotto_store_get_profile_dir (store), ==, dir);

  /* A write, so that the copy certainly changes. */
  g_assert_cmpint (sodium_hex2bin (key, sizeof key, first->public_key_hex,
                                   strlen (first->public_key_hex), NULL, NULL, NULL), ==, 0);
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_queue_message_async (store, sotto_store_get_contact_by_key (store, key),
                                     "written after opening an old file", NULL,
                                     sotto_test_result_cb, &result);
    message = sotto_store_queue_message_finish (store, sotto_test_wait (&result), &error);
    g_assert_no_error (error);
  }
  sotto_test_close_store (&store);

  /* The new message sits after the old ones; the old ones are unchanged. */
  store = sotto_test_open_store (dir, fixture->passphrase, &error);
  g_assert_no_error (error);
  assert_identity (store, fixture);
  {
    SottoContact *contact = sotto_store_get_contact_by_key (store, key);
    g_autoptr (GPtrArray) history = sotto_test_full_history (store, contact, 2);
    g_autoptr (GPtrArray) queue = sotto_test_outbox (store, NULL);
    guint n_messages = count_messages (first->messages);
    SottoMessage *last;

    g_assert_cmpuint (history->len, ==, n_messages + 1);
    for (guint i = 0; i < n_messages; i++)
      assert_message (g_ptr_array_index (history, i), first, &first->messages[i]);
    last = g_ptr_array_index (history, n_messages);
    g_assert_cmpstr (sotto_message_get_body (last), ==, "written after opening an old file");
    g_assert_cmpint (sotto_message_get_id (last), ==, sotto_message_get_id (message));
    /* The file's id counter (or, before it had one, its highest id) went
     * through the migration. */
    g_assert_cmpint (sotto_message_get_id (message), ==, fixture->next_message_id);
    g_assert_cmpuint (queue->len, ==, g_strv_length ((char **)fixture->outbox) + 1);
  }
  sotto_test_close_store (&store);

  checksum_after = sotto_test_file_checksum (path);
  g_assert_cmpstr (checksum_after, ==, checksum_before);
  copy_after = sotto_test_file_checksum (copy);
  g_assert_cmpstr (copy_after, !=, checksum_before);
  g_assert_cmpint (g_stat (path, &st_after), ==, 0);
  g_assert_cmpint (st_after.st_mtime, ==, st_before.st_mtime);
  g_assert_cmpint (st_after.st_size, ==, st_before.st_size);

  /* No -wal, -shm or lock appeared beside the original. */
  names_after = list_dir (fixtures_dir);
  g_assert_cmpstrv (names_after, names_before);
}

static guint
expire (SottoStore *store,
        gint64      now_us)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  guint n;

  sotto_store_expire_outbox_async (store, now_us, NULL, sotto_test_result_cb, &result);
  n = sotto_store_expire_outbox_finish (store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);

  return n;
}

/* What an old file has in its outbox was queued when it was written: it
 * expires SOTTO_OUTBOX_EXPIRY_DAYS after its own time, to the
 * microsecond, and not before; the rest of the file is untouched. */
static void
test_fixture_outbox_expiry (gconstpointer data)
{
  const Fixture *fixture = data;
  g_autofree char *dir = copy_into_profile (fixture);
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) queue = NULL;
  const gint64 span = (gint64)SOTTO_OUTBOX_EXPIRY_DAYS * G_TIME_SPAN_DAY;
  guint n_queued = g_strv_length ((char **)fixture->outbox);
  guint n_failed = 0;

  store = sotto_test_open_store (dir, fixture->passphrase, &error);
  g_assert_no_error (error);

  /* Oldest first: at each message's limit nothing more fails, one
   * microsecond later that one does. */
  for (guint i = 0; i < n_queued; i++)
    {
      const ExpectedContact *contact = NULL;
      const ExpectedMessage *expected = find_expected_message (fixture, fixture->outbox[i],
                                                               &contact);

      g_assert_nonnull (expected);
      g_assert_cmpuint (expire (store, expected->sent + span), ==, 0);
      g_assert_cmpuint (expire (store, expected->sent + span + 1), ==, 1);
      n_failed++;

      queue = sotto_test_outbox (store, NULL);
      g_assert_cmpuint (queue->len, ==, n_queued - n_failed);
      g_clear_pointer (&queue, g_ptr_array_unref);
    }
  sotto_test_close_store (&store);

  /* Failed on disk; everything else as it was. */
  store = sotto_test_open_store (dir, fixture->passphrase, &error);
  g_assert_no_error (error);
  assert_identity (store, fixture);
  for (const ExpectedContact *c = fixture->contacts; c->display_name != NULL; c++)
    {
      guint8 key[SOTTO_KEY_LEN];
      g_autoptr (GPtrArray) history = NULL;

      g_assert_cmpint (sodium_hex2bin (key, sizeof key, c->public_key_hex,
                                       strlen (c->public_key_hex), NULL, NULL, NULL), ==, 0);
      history = sotto_test_full_history (store, sotto_store_get_contact_by_key (store, key), 2);
      g_assert_cmpuint (history->len, ==, count_messages (c->messages));
      for (guint i = 0; i < history->len; i++)
        {
          ExpectedMessage expected = c->messages[i];

          if (expected.state == SOTTO_MESSAGE_QUEUED)
            expected.state = SOTTO_MESSAGE_FAILED;
          assert_message (g_ptr_array_index (history, i), c, &expected);
        }
    }
  queue = sotto_test_outbox (store, NULL);
  g_assert_cmpuint (queue->len, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  for (guint i = 0; i < G_N_ELEMENTS (fixtures); i++)
    {
      const Fixture *fixture = &fixtures[i];
      g_autofree char *file_path = g_strdup_printf ("/store/fixtures/%s/file", fixture->name);
      g_autofree char *content_path = g_strdup_printf ("/store/fixtures/%s", fixture->name);
      g_autofree char *untouched_path = g_strdup_printf ("/store/fixtures/%s/original-untouched",
                                                         fixture->name);
      g_autofree char *expiry_path = g_strdup_printf ("/store/fixtures/%s/outbox-expiry",
                                                      fixture->name);

      g_test_add_data_func (file_path, fixture, test_fixture_file);
      g_test_add_data_func (content_path, fixture, test_fixture_content);
      g_test_add_data_func (untouched_path, fixture, test_fixture_original_untouched);
      g_test_add_data_func (expiry_path, fixture, test_fixture_outbox_expiry);
    }

  return g_test_run ();
}
