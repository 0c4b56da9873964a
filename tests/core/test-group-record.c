/* test-group-record.c — the signed member list of a group, and the group
 * payloads that carry it
 *
 * The known answers are the worked example of app/core/PROTOCOL.md,
 * "Groups": RFC 7748's Alice creates a group with Bob. Every limit is
 * tried at its value and one past it; the verdict on a record that
 * arrives is a table.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sodium.h>

#include "sotto-error.h"
#include "sotto-group-record.h"
#include "sotto-identity.h"
#include "sotto-payload-private.h"

#define ALICE_SECRET "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define ALICE_PUBLIC "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define BOB_SECRET   "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define BOB_PUBLIC   "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"

/* The worked example: filled in from PROTOCOL.md. */
#define ALICE_SIGNING_HEX \
  "fd6839ff0d140742400e28ca68410b6eb58522883321ec855f759098c426ba9f"
#define EXAMPLE_RECORD_HEX \
  "0100000000000000" \
  "000102030405060708090a0b0c0d0e0f" \
  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a" \
  "50726f6a65637400" \
  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a" \
  "fd6839ff0d140742400e28ca68410b6eb58522883321ec855f759098c426ba9f" \
  "416c69636500" \
  "02" \
  "46464020" \
  "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f" \
  "ebedec3a2b1aed5c2c10e7e0321b0c1b5bec0a7d568669a9fe7d01d4064a86db" \
  "426f6200" \
  "3139322e302e322e373a343733303000" \
  "10" \
  "01" \
  "55444020" \
  "4ba5" \
  "403818"
#define EXAMPLE_SIGNATURE_HEX \
  "9081b6d0c940f8d7087206e0028c32f51848ecfb964830d5055a1e7466079826" \
  "4583a243e222e36367640f1c09311797a095027e9cdc32ffd133ddf127a67306"

/* --- helpers ---------------------------------------------------------- */

static void
from_hex (const char *hex,
          guint8     *out,
          gsize       len)
{
  gsize bin_len = 0;

  g_assert_cmpint (sodium_hex2bin (out, len, hex, strlen (hex), NULL, &bin_len, NULL), ==, 0);
  g_assert_cmpuint (bin_len, ==, len);
}

static GBytes *
hex_bytes (const char *hex)
{
  gsize len = strlen (hex) / 2;
  guint8 *data = g_malloc (len + 1);

  from_hex (hex, data, len);
  return g_bytes_new_take (data, len);
}

static char *
to_hex (GBytes *bytes)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  char *hex = g_malloc (len * 2 + 1);

  sodium_bin2hex (hex, len * 2 + 1, data, len);
  return hex;
}

static SottoIdentity *
identity_from (const char *secret_hex,
               const char *public_hex,
               const char *name)
{
  guint8 secret[SOTTO_KEY_LEN], public[SOTTO_KEY_LEN];
  g_autoptr (GError) error = NULL;
  SottoIdentity *identity;

  from_hex (secret_hex, secret, sizeof secret);
  from_hex (public_hex, public, sizeof public);
  identity = sotto_identity_new_from_keys (public, secret, name, &error);
  g_assert_no_error (error);
  return identity;
}

static SottoIdentity *
fresh_identity (const char *name)
{
  g_autoptr (GError) error = NULL;
  SottoIdentity *identity = sotto_identity_generate (name, &error);

  g_assert_no_error (error);
  return identity;
}

static const guint8 example_group_id[SOTTO_GROUP_ID_LEN] = {
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
  0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

/* Alice (admin) and Bob (member, at 192.0.2.7:47300), version 1. */
static SottoGroupRecord *
example_record (SottoIdentity *alice,
                SottoIdentity *bob)
{
  SottoGroupRecord *record = sotto_group_record_new (example_group_id, "Project");
  const char *bob_addresses[] = { "192.0.2.7:47300", NULL };

  record->version = 1;
  sotto_group_record_add_member (record, sotto_identity_get_public_key (alice),
                                 sotto_identity_get_signing_key (alice), "Alice", NULL,
                                 SOTTO_GROUP_ROLE_ADMIN);
  sotto_group_record_add_member (record, sotto_identity_get_public_key (bob),
                                 sotto_identity_get_signing_key (bob), "Bob", bob_addresses,
                                 SOTTO_GROUP_ROLE_MEMBER);
  return record;
}

/* A record of @n members, signed by the first (an admin). */
static SottoGroupRecord *
record_of (SottoIdentity *admin,
           guint          n_others)
{
  SottoGroupRecord *record = sotto_group_record_new (example_group_id, "Team");

  record->version = 1;
  sotto_group_record_add_member (record, sotto_identity_get_public_key (admin),
                                 sotto_identity_get_signing_key (admin), "Admin", NULL,
                                 SOTTO_GROUP_ROLE_ADMIN);
  for (guint i = 0; i < n_others; i++)
    {
      g_autoptr (SottoIdentity) other = fresh_identity ("Other");

      sotto_group_record_add_member (record, sotto_identity_get_public_key (other), NULL,
                                     "Other", NULL, SOTTO_GROUP_ROLE_MEMBER);
    }
  return record;
}

static void
assert_sign_fails (SottoGroupRecord *record,
                   SottoIdentity    *identity,
                   const char       *reason)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (sotto_group_record_sign (record, identity, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  if (strstr (error->message, reason) == NULL)
    g_error ("“%s” does not say “%s”", error->message, reason);
}

static SottoGroupRecord *
reparse (const SottoGroupRecord *record)
{
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (record->bytes, &len);
  SottoGroupRecord *parsed = sotto_group_record_parse (data, len, record->signature, &error);

  g_assert_no_error (error);
  return parsed;
}

/* --- the worked example ------------------------------------------------ */

static void
test_example (void)
{
  g_autoptr (SottoIdentity) alice = identity_from (ALICE_SECRET, ALICE_PUBLIC, "Alice");
  g_autoptr (SottoIdentity) bob = identity_from (BOB_SECRET, BOB_PUBLIC, "Bob");
  g_autoptr (SottoGroupRecord) record = example_record (alice, bob);
  g_autoptr (SottoGroupRecord) parsed = NULL;
  g_autoptr (GBytes) signing = g_bytes_new (sotto_identity_get_signing_key (alice), 32);
  g_autoptr (GBytes) signature = NULL;
  g_autofree char *signing_hex = to_hex (signing);
  g_autofree char *record_hex = NULL;
  g_autofree char *signature_hex = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_group_record_sign (record, alice, &error));
  g_assert_no_error (error);
  record_hex = to_hex (record->bytes);
  signature = g_bytes_new (record->signature, SOTTO_SIGNATURE_LEN);
  signature_hex = to_hex (signature);
  g_test_message ("alice signing key %s", signing_hex);
  g_test_message ("record %s", record_hex);
  g_test_message ("signature %s", signature_hex);

  g_assert_cmpstr (signing_hex, ==, ALICE_SIGNING_HEX);
  g_assert_cmpstr (record_hex, ==, EXAMPLE_RECORD_HEX);
  g_assert_cmpstr (signature_hex, ==, EXAMPLE_SIGNATURE_HEX);

  /* What a reader makes of the example's bytes. */
  {
    g_autoptr (GBytes) bytes = hex_bytes (EXAMPLE_RECORD_HEX);
    guint8 sig[SOTTO_SIGNATURE_LEN];
    SottoGroupMember *member;

    from_hex (EXAMPLE_SIGNATURE_HEX, sig, sizeof sig);
    parsed = sotto_group_record_parse (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                       sig, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (parsed->version, ==, 1);
    g_assert_cmpstr (parsed->name, ==, "Project");
    g_assert_cmpmem (parsed->group_id, 16, example_group_id, 16);
    g_assert_cmpmem (parsed->signer, 32, sotto_identity_get_public_key (alice), 32);
    g_assert_cmpuint (parsed->members->len, ==, 2);
    member = g_ptr_array_index (parsed->members, 1);
    g_assert_cmpstr (member->display_name, ==, "Bob");
    g_assert_cmpstr (member->addresses[0], ==, "192.0.2.7:47300");
    g_assert_null (member->addresses[1]);
    g_assert_cmpint (member->role, ==, SOTTO_GROUP_ROLE_MEMBER);
    g_assert_true (sotto_group_record_is_admin (parsed, sotto_identity_get_public_key (alice)));
    g_assert_false (sotto_group_record_is_admin (parsed, sotto_identity_get_public_key (bob)));
    g_assert_true (sotto_group_record_verify (parsed, sotto_identity_get_signing_key (alice)));
    g_assert_false (sotto_group_record_verify (parsed, sotto_identity_get_signing_key (bob)));
    g_assert_true (sotto_group_record_same (parsed, record));
  }
}

/* The signing key follows from the X25519 key: the same identity always
 * signs with the same key, another one with another. */
static void
test_signing_key (void)
{
  g_autoptr (SottoIdentity) alice = identity_from (ALICE_SECRET, ALICE_PUBLIC, "Alice");
  g_autoptr (SottoIdentity) again = identity_from (ALICE_SECRET, ALICE_PUBLIC, "Alice");
  g_autoptr (SottoIdentity) bob = identity_from (BOB_SECRET, BOB_PUBLIC, "Bob");
  guint8 zero[SOTTO_SIGNING_KEY_LEN] = { 0 };
  guint8 signature[SOTTO_SIGNATURE_LEN];

  g_assert_cmpmem (sotto_identity_get_signing_key (alice), 32,
                   sotto_identity_get_signing_key (again), 32);
  g_assert_true (memcmp (sotto_identity_get_signing_key (alice),
                         sotto_identity_get_signing_key (bob), 32) != 0);
  g_assert_true (sotto_signing_key_is_valid (sotto_identity_get_signing_key (alice)));
  /* The identity point and other small-order points are refused. */
  g_assert_false (sotto_signing_key_is_valid (zero));
  zero[0] = 1;
  g_assert_false (sotto_signing_key_is_valid (zero));

  sotto_identity_sign (alice, (const guint8 *)"hello", 5, signature);
  g_assert_cmpint (crypto_sign_verify_detached (signature, (const guint8 *)"hello", 5,
                                                sotto_identity_get_signing_key (alice)), ==, 0);
}

/* --- the rules, each at its limit and one past it ---------------------- */

static void
test_limits_members (void)
{
  g_autoptr (SottoIdentity) admin = fresh_identity ("Admin");
  g_autoptr (SottoGroupRecord) full = record_of (admin, SOTTO_GROUP_MAX_MEMBERS - 1);
  g_autoptr (SottoGroupRecord) parsed = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoIdentity) one_more = fresh_identity ("One more");

  g_assert_cmpint (SOTTO_GROUP_MAX_MEMBERS, ==, 64);
  g_assert_true (sotto_group_record_sign (full, admin, &error));
  g_assert_no_error (error);
  parsed = reparse (full);
  g_assert_cmpuint (parsed->members->len, ==, 64);

  sotto_group_record_add_member (full, sotto_identity_get_public_key (one_more), NULL, "One more",
                                 NULL, SOTTO_GROUP_ROLE_MEMBER);
  assert_sign_fails (full, admin, "65 members");
}

static void
test_limits_addresses (void)
{
  g_autoptr (SottoIdentity) admin = fresh_identity ("Admin");
  g_autoptr (SottoGroupRecord) record = record_of (admin, 1);
  SottoGroupMember *member = g_ptr_array_index (record->members, 1);
  const char *two[] = { "192.0.2.1:1", "[2001:db8::1]:65535", NULL };
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (SOTTO_GROUP_MAX_ADDRESSES, ==, 2);
  sotto_group_record_add_member (record, member->key, NULL, "Other", two, SOTTO_GROUP_ROLE_MEMBER);
  g_assert_true (sotto_group_record_sign (record, admin, &error));
  g_assert_no_error (error);
  {
    g_autoptr (SottoGroupRecord) parsed = reparse (record);
    SottoGroupMember *read = g_ptr_array_index (parsed->members, 1);

    g_assert_cmpuint (g_strv_length (read->addresses), ==, 2);
  }

  /* add_member() keeps two; a third can only be smuggled in. */
  g_strfreev (member->addresses);
  member->addresses = g_strsplit ("192.0.2.1:1 192.0.2.2:2 192.0.2.3:3", " ", -1);
  assert_sign_fails (record, admin, "3 addresses");

  g_strfreev (member->addresses);
  member->addresses = g_strsplit ("192.0.2.1:0", " ", -1);
  assert_sign_fails (record, admin, "invalid address");
  g_strfreev (member->addresses);
  member->addresses = g_strsplit ("[fe80::1%eth0]:1", " ", -1);
  assert_sign_fails (record, admin, "invalid address");
}

static void
test_limits_version (void)
{
  g_autoptr (SottoIdentity) admin = fresh_identity ("Admin");
  g_autoptr (SottoGroupRecord) record = record_of (admin, 1);
  g_autoptr (GError) error = NULL;

  record->version = 0;
  assert_sign_fails (record, admin, "version 0");
  record->version = SOTTO_GROUP_VERSION_MAX;
  g_assert_true (sotto_group_record_sign (record, admin, &error));
  g_assert_no_error (error);
  record->version = SOTTO_GROUP_VERSION_MAX + 1;
  assert_sign_fails (record, admin, "outside 1 to 2^53");
}

static void
test_limits_names (void)
{
  g_autoptr (SottoIdentity) admin = fresh_identity ("Admin");
  g_autoptr (SottoGroupRecord) record = record_of (admin, 1);
  SottoGroupMember *member = g_ptr_array_index (record->members, 1);
  g_autofree char *longest = g_strnfill (SOTTO_DISPLAY_NAME_MAX_CHARS, 'a');
  g_autofree char *too_long = g_strnfill (SOTTO_DISPLAY_NAME_MAX_CHARS + 1, 'a');
  g_autoptr (GError) error = NULL;

  g_free (record->name);
  record->name = g_strdup (longest);
  g_free (member->display_name);
  member->display_name = g_strdup (longest);
  g_assert_true (sotto_group_record_sign (record, admin, &error));
  g_assert_no_error (error);

  g_free (record->name);
  record->name = g_strdup (too_long);
  assert_sign_fails (record, admin, "group name is invalid");
  g_free (record->name);
  record->name = g_strdup ("Evil\xe2\x80\xae" "cod.exe");
  assert_sign_fails (record, admin, "group name is invalid");
  g_free (record->name);
  record->name = g_strdup ("Team");

  g_free (member->display_name);
  member->display_name = g_strdup (too_long);
  assert_sign_fails (record, admin, "member 1 has an invalid name");
  g_free (member->display_name);
  member->display_name = g_strdup ("");
  assert_sign_fails (record, admin, "member 1 has an invalid name");
}

static void
test_rules (void)
{
  g_autoptr (SottoIdentity) admin = fresh_identity ("Admin");
  g_autoptr (SottoGroupRecord) record = NULL;
  SottoGroupMember *member;
  guint8 high[SOTTO_KEY_LEN];

  /* The same key twice. */
  record = record_of (admin, 1);
  member = g_ptr_array_index (record->members, 1);
  memcpy (member->key, sotto_identity_get_public_key (admin), SOTTO_KEY_LEN);
  assert_sign_fails (record, admin, "lists member 1 twice");
  g_clear_pointer (&record, sotto_group_record_free);

  /* No admin at all. */
  record = record_of (admin, 1);
  ((SottoGroupMember *)g_ptr_array_index (record->members, 0))->role = SOTTO_GROUP_ROLE_MEMBER;
  assert_sign_fails (record, admin, "no admin");
  g_clear_pointer (&record, sotto_group_record_free);

  /* An admin whose signing key nobody knows could never sign. */
  record = record_of (admin, 1);
  member = g_ptr_array_index (record->members, 1);
  member->role = SOTTO_GROUP_ROLE_ADMIN;
  assert_sign_fails (record, admin, "admin 1 has no signing key");
  g_clear_pointer (&record, sotto_group_record_free);

  /* Roles 0 and 3. */
  record = record_of (admin, 1);
  member = g_ptr_array_index (record->members, 1);
  member->role = 0;
  assert_sign_fails (record, admin, "role 0");
  member->role = 3;
  assert_sign_fails (record, admin, "role 3");
  g_clear_pointer (&record, sotto_group_record_free);

  /* A key that is not canonical (bit 255 set). */
  record = record_of (admin, 1);
  member = g_ptr_array_index (record->members, 1);
  memcpy (high, member->key, SOTTO_KEY_LEN);
  high[31] |= 0x80;
  memcpy (member->key, high, SOTTO_KEY_LEN);
  assert_sign_fails (record, admin, "not canonical");
  g_clear_pointer (&record, sotto_group_record_free);

  /* A signing key that is no valid point. */
  record = record_of (admin, 1);
  member = g_ptr_array_index (record->members, 1);
  memset (member->signing_key, 0, SOTTO_SIGNING_KEY_LEN);
  member->has_signing_key = TRUE;
  assert_sign_fails (record, admin, "not a valid point");
}

/* Bytes a peer could send that the writer never makes: each is refused
 * when read. */
static void
test_parse_refuses (void)
{
  g_autoptr (SottoIdentity) admin = fresh_identity ("Admin");
  g_autoptr (SottoGroupRecord) record = record_of (admin, 1);
  g_autoptr (GError) error = NULL;
  guint8 sig[SOTTO_SIGNATURE_LEN] = { 0 };

  g_assert_true (sotto_group_record_sign (record, admin, &error));
  g_assert_no_error (error);

  /* Every truncation of a valid record is refused (none is the normal
   * form of another valid record), and so is a byte more. */
  {
    gsize len = 0;
    const guint8 *data = g_bytes_get_data (record->bytes, &len);
    g_autofree guint8 *longer = g_malloc0 (len + 1);

    for (gsize cut = 0; cut < len; cut++)
      {
        g_autoptr (SottoGroupRecord) parsed = sotto_group_record_parse (data, cut, sig, &error);

        g_assert_null (parsed);
        g_assert_nonnull (error);
        g_clear_error (&error);
      }
    memcpy (longer, data, len);
    g_assert_null (sotto_group_record_parse (longer, len + 1, sig, &error));
    g_assert_nonnull (error);
    g_clear_error (&error);

    /* Every single-byte change is refused or reads as a valid record
     * (a changed key byte, a letter of a name): never a crash, never an
     * invalid record accepted. */
    for (gsize at = 0; at < len; at++)
      {
        g_autofree guint8 *copy = g_memdup2 (data, len);
        g_autoptr (SottoGroupRecord) parsed = NULL;

        copy[at] ^= 0x41;
        parsed = sotto_group_record_parse (copy, len, sig, &error);
        if (parsed != NULL)
          g_assert_true (sotto_group_record_validate (parsed, NULL));
        g_clear_error (&error);
      }
  }
}

/* A record built from GVariant text, for shapes the writer never makes. */
static GBytes *
crafted (const char *text)
{
  g_autoptr (GVariant) value = g_variant_ref_sink (g_variant_new_parsed (text));

  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE (SOTTO_GROUP_RECORD_TYPE)));
  return g_variant_get_data_as_bytes (value);
}

static void
assert_crafted_refused (const char *text,
                        const char *reason)
{
  g_autoptr (GBytes) bytes = crafted (text);
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoGroupRecord) parsed = NULL;

  parsed = sotto_group_record_parse (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                     NULL, &error);
  g_assert_null (parsed);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  if (strstr (error->message, reason) == NULL)
    g_error ("%s: “%s” does not say “%s”", text, error->message, reason);
}

static void
test_parse_crafted (void)
{
  g_autoptr (SottoIdentity) admin = fresh_identity ("Admin");
  g_autoptr (GVariant) k = g_variant_ref_sink (
    g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, sotto_identity_get_public_key (admin), 32, 1));
  g_autoptr (GVariant) sk = g_variant_ref_sink (
    g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, sotto_identity_get_signing_key (admin), 32, 1));
  g_autofree char *key = g_variant_print (k, FALSE);
  g_autofree char *signing = g_variant_print (sk, FALSE);
  const char *id = "[byte 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]";
  const char *three = "[byte 1,2,3]";
  g_autofree char *ok = g_strdup_printf ("(@t 1, @ay %s, @ay %s, 'T', [(@ay %s, @ay %s, 'A', @as [], @y 2)])",
                                         id, key, key, signing);
  g_autofree char *c1 = g_strdup_printf ("(@t 1, @ay %s, @ay %s, 'T', [(@ay %s, @ay %s, 'A', @as [], @y 2)])",
                                         three, key, key, signing);
  g_autofree char *c2 = g_strdup_printf ("(@t 1, @ay %s, @ay %s, 'T', [(@ay %s, @ay %s, 'A', @as [], @y 2)])",
                                         id, three, key, signing);
  g_autofree char *c3 = g_strdup_printf ("(@t 1, @ay %s, @ay %s, 'T', @a(ayaysasy) [])", id, key);
  g_autofree char *c4 = g_strdup_printf ("(@t 1, @ay %s, @ay %s, 'T', [(@ay %s, @ay %s, 'A', @as [], @y 2)])",
                                         id, key, three, signing);
  g_autofree char *c5 = g_strdup_printf ("(@t 1, @ay %s, @ay %s, 'T', [(@ay %s, @ay %s, 'A', @as [], @y 2)])",
                                         id, key, key, three);
  g_autofree char *c6 = g_strdup_printf ("(@t 1, @ay %s, @ay %s, 'T', [(@ay %s, @ay %s, 'A', "
                                         "['192.0.2.1:1', '192.0.2.1:2', '192.0.2.1:3'], @y 2)])",
                                         id, key, key, signing);
  g_autofree char *c7 = g_strdup_printf ("(@t 0, @ay %s, @ay %s, 'T', [(@ay %s, @ay %s, 'A', @as [], @y 2)])",
                                         id, key, key, signing);
  g_autofree char *c8 = g_strdup_printf ("(@t 1, @ay %s, @ay %s, 'T', [(@ay %s, @ay [], 'A', @as [], @y 2)])",
                                         id, key, key);
  g_autoptr (GBytes) good = crafted (ok);
  g_autoptr (SottoGroupRecord) parsed = NULL;
  g_autoptr (GError) error = NULL;

  /* The template itself is a valid record. */
  parsed = sotto_group_record_parse (g_bytes_get_data (good, NULL), g_bytes_get_size (good), NULL,
                                     &error);
  g_assert_no_error (error);

  assert_crafted_refused (c1, "group id is 3 bytes");
  assert_crafted_refused (c2, "signer is 3 bytes");
  assert_crafted_refused (c3, "lists 0 members");
  assert_crafted_refused (c4, "key is 3 bytes");
  assert_crafted_refused (c5, "signing key is 3 bytes");
  assert_crafted_refused (c6, "3 addresses");
  assert_crafted_refused (c7, "version 0");
  assert_crafted_refused (c8, "admin 0 has no signing key");
}

/* --- who may change a group ------------------------------------------- */

typedef struct
{
  SottoIdentity *alice;  /* the creator, admin */
  SottoIdentity *bob;    /* a member */
  SottoIdentity *carol;  /* a member, named admin in some records */
  SottoIdentity *mallory; /* not in the group */
} Cast;

static void
cast_init (Cast *cast)
{
  cast->alice = fresh_identity ("Alice");
  cast->bob = fresh_identity ("Bob");
  cast->carol = fresh_identity ("Carol");
  cast->mallory = fresh_identity ("Mallory");
}

static void
cast_clear (Cast *cast)
{
  g_clear_object (&cast->alice);
  g_clear_object (&cast->bob);
  g_clear_object (&cast->carol);
  g_clear_object (&cast->mallory);
}

static void
add (SottoGroupRecord *record,
     SottoIdentity    *who,
     SottoGroupRole    role)
{
  sotto_group_record_add_member (record, sotto_identity_get_public_key (who),
                                 sotto_identity_get_signing_key (who),
                                 sotto_identity_get_display_name (who), NULL, role);
}

/* Version @version with @members (role per identity), signed by @signer. */
static SottoGroupRecord *
signed_record (guint64        version,
               SottoIdentity *signer,
               SottoIdentity *m1, SottoGroupRole r1,
               SottoIdentity *m2, SottoGroupRole r2,
               SottoIdentity *m3, SottoGroupRole r3)
{
  SottoGroupRecord *record = sotto_group_record_new (example_group_id, "Team");
  g_autoptr (GError) error = NULL;

  record->version = version;
  if (m1 != NULL)
    add (record, m1, r1);
  if (m2 != NULL)
    add (record, m2, r2);
  if (m3 != NULL)
    add (record, m3, r3);
  g_assert_true (sotto_group_record_sign (record, signer, &error));
  g_assert_no_error (error);
  /* What a receiver judges is what it parsed. */
  {
    SottoGroupRecord *parsed = reparse (record);

    sotto_group_record_free (record);
    return parsed;
  }
}

#define ADMIN  SOTTO_GROUP_ROLE_ADMIN
#define MEMBER SOTTO_GROUP_ROLE_MEMBER

static void
test_judge_join (void)
{
  Cast c;
  g_autoptr (SottoGroupRecord) v1 = NULL;
  g_autoptr (SottoGroupRecord) by_bob = NULL;
  g_autoptr (SottoGroupRecord) tampered = NULL;
  const guint8 *bob_key, *alice_signing;

  cast_init (&c);
  bob_key = sotto_identity_get_public_key (c.bob);
  alice_signing = sotto_identity_get_signing_key (c.alice);
  v1 = signed_record (1, c.alice, c.alice, ADMIN, c.bob, MEMBER, NULL, 0);

  /* From a contact whose signing key we know: joined. */
  g_assert_cmpint (sotto_group_record_judge (NULL, v1, bob_key, alice_signing), ==,
                   SOTTO_GROUP_VERDICT_JOIN);
  /* Not from a contact (or its key unknown): not joined. */
  g_assert_cmpint (sotto_group_record_judge (NULL, v1, bob_key, NULL), ==,
                   SOTTO_GROUP_VERDICT_UNAUTHORIZED);
  /* A contact whose signing key is another than the record says. */
  g_assert_cmpint (sotto_group_record_judge (NULL, v1, bob_key,
                                             sotto_identity_get_signing_key (c.carol)), ==,
                   SOTTO_GROUP_VERDICT_UNAUTHORIZED);
  /* A group that does not list us. */
  g_assert_cmpint (sotto_group_record_judge (NULL, v1, sotto_identity_get_public_key (c.carol),
                                             alice_signing), ==,
                   SOTTO_GROUP_VERDICT_NOT_LISTED);
  /* Signed by a mere member who is our contact: not an admin of it. */
  by_bob = signed_record (1, c.bob, c.alice, ADMIN, c.bob, MEMBER, c.carol, MEMBER);
  g_assert_cmpint (sotto_group_record_judge (NULL, by_bob, sotto_identity_get_public_key (c.carol),
                                             sotto_identity_get_signing_key (c.bob)), ==,
                   SOTTO_GROUP_VERDICT_UNAUTHORIZED);
  /* A signature that does not verify. */
  tampered = sotto_group_record_copy (v1);
  tampered->signature[0] ^= 1;
  g_assert_cmpint (sotto_group_record_judge (NULL, tampered, bob_key, alice_signing), ==,
                   SOTTO_GROUP_VERDICT_BAD_SIGNATURE);

  cast_clear (&c);
}

static void
test_judge_change (void)
{
  Cast c;
  g_autoptr (SottoGroupRecord) v1 = NULL;
  g_autoptr (SottoGroupRecord) v2 = NULL;
  g_autoptr (SottoGroupRecord) v2_by_bob = NULL;
  g_autoptr (SottoGroupRecord) v2_self_admin = NULL;
  g_autoptr (SottoGroupRecord) v2_mallory = NULL;
  g_autoptr (SottoGroupRecord) v3_by_carol = NULL;
  g_autoptr (SottoGroupRecord) tampered = NULL;
  const guint8 *bob_key;

  cast_init (&c);
  bob_key = sotto_identity_get_public_key (c.bob);
  v1 = signed_record (1, c.alice, c.alice, ADMIN, c.bob, MEMBER, NULL, 0);
  v2 = signed_record (2, c.alice, c.alice, ADMIN, c.bob, MEMBER, c.carol, ADMIN);

  /* An admin's change: accepted, whoever relays it. */
  g_assert_cmpint (sotto_group_record_judge (v1, v2, bob_key, NULL), ==,
                   SOTTO_GROUP_VERDICT_CHANGE);
  /* The record we hold, and an older one. */
  g_assert_cmpint (sotto_group_record_judge (v2, v2, bob_key, NULL), ==, SOTTO_GROUP_VERDICT_SAME);
  g_assert_cmpint (sotto_group_record_judge (v2, v1, bob_key, NULL), ==, SOTTO_GROUP_VERDICT_OLDER);
  /* A member is no admin, even if it is our contact. */
  v2_by_bob = signed_record (2, c.bob, c.alice, ADMIN, c.bob, MEMBER, c.mallory, MEMBER);
  g_assert_cmpint (sotto_group_record_judge (v1, v2_by_bob, bob_key,
                                             sotto_identity_get_signing_key (c.bob)), ==,
                   SOTTO_GROUP_VERDICT_UNAUTHORIZED);
  /* Naming oneself admin in the new record does not help: the key is
   * taken from the record held. */
  v2_self_admin = signed_record (2, c.bob, c.alice, ADMIN, c.bob, ADMIN, c.mallory, MEMBER);
  g_assert_cmpint (sotto_group_record_judge (v1, v2_self_admin, sotto_identity_get_public_key (c.alice),
                                             NULL), ==,
                   SOTTO_GROUP_VERDICT_UNAUTHORIZED);
  /* An outsider's record. */
  v2_mallory = signed_record (2, c.mallory, c.mallory, ADMIN, c.bob, MEMBER, NULL, 0);
  g_assert_cmpint (sotto_group_record_judge (v1, v2_mallory, bob_key, NULL), ==,
                   SOTTO_GROUP_VERDICT_UNAUTHORIZED);
  /* Carol, named admin in v2, may sign v3 for whoever holds v2, but not
   * for whoever still holds v1 (it answers with v1, and gets v2 first). */
  v3_by_carol = signed_record (3, c.carol, c.alice, ADMIN, c.carol, ADMIN, c.bob, MEMBER);
  g_assert_cmpint (sotto_group_record_judge (v2, v3_by_carol, bob_key, NULL), ==,
                   SOTTO_GROUP_VERDICT_CHANGE);
  g_assert_cmpint (sotto_group_record_judge (v1, v3_by_carol, bob_key, NULL), ==,
                   SOTTO_GROUP_VERDICT_UNAUTHORIZED);
  /* A changed byte of the signature. */
  tampered = sotto_group_record_copy (v2);
  tampered->signature[63] ^= 0x80;
  g_assert_cmpint (sotto_group_record_judge (v1, tampered, bob_key, NULL), ==,
                   SOTTO_GROUP_VERDICT_BAD_SIGNATURE);

  cast_clear (&c);
}

/* Two admins change the group at once: everyone picks the same winner. */
static void
test_judge_tie (void)
{
  Cast c;
  g_autoptr (SottoGroupRecord) v1 = NULL;
  g_autoptr (SottoGroupRecord) a2 = NULL;
  g_autoptr (SottoGroupRecord) c2 = NULL;
  g_autoptr (SottoGroupRecord) removes_carol = NULL;
  g_autoptr (SottoGroupRecord) by_carol = NULL;
  const guint8 *bob_key;
  gboolean a_wins;

  cast_init (&c);
  bob_key = sotto_identity_get_public_key (c.bob);
  v1 = signed_record (1, c.alice, c.alice, ADMIN, c.bob, MEMBER, c.carol, ADMIN);

  /* Both stay admins in each other's record: the smaller hash wins, the
   * same for everyone whichever arrived first. */
  a2 = signed_record (2, c.alice, c.alice, ADMIN, c.bob, ADMIN, c.carol, ADMIN);
  c2 = signed_record (2, c.carol, c.alice, ADMIN, c.bob, MEMBER, c.carol, ADMIN);
  a_wins = sotto_group_record_wins (a2, c2);
  g_assert_true (a_wins != sotto_group_record_wins (c2, a2));
  g_assert_cmpint (sotto_group_record_judge (a2, c2, bob_key, NULL), ==,
                   a_wins ? SOTTO_GROUP_VERDICT_OLDER : SOTTO_GROUP_VERDICT_CHANGE);
  g_assert_cmpint (sotto_group_record_judge (c2, a2, bob_key, NULL), ==,
                   a_wins ? SOTTO_GROUP_VERDICT_CHANGE : SOTTO_GROUP_VERDICT_OLDER);

  /* Alice removes Carol while Carol changes the group: Carol, no admin in
   * Alice's record, loses, whatever the hashes say. */
  removes_carol = signed_record (2, c.alice, c.alice, ADMIN, c.bob, MEMBER, NULL, 0);
  by_carol = signed_record (2, c.carol, c.alice, ADMIN, c.bob, MEMBER, c.carol, ADMIN);
  g_assert_true (sotto_group_record_wins (removes_carol, by_carol));
  g_assert_false (sotto_group_record_wins (by_carol, removes_carol));
  g_assert_cmpint (sotto_group_record_judge (by_carol, removes_carol, bob_key, NULL), ==,
                   SOTTO_GROUP_VERDICT_CHANGE);
  g_assert_cmpint (sotto_group_record_judge (removes_carol, by_carol, bob_key, NULL), ==,
                   SOTTO_GROUP_VERDICT_OLDER);

  cast_clear (&c);
}

/* --- the group payloads ------------------------------------------------ */

/* PROTOCOL.md's examples: group 00 … 0f, message 10 … 1f, "Hi all". */
#define GROUP_TEXT_HEX \
  "12" "000102030405060708090a0b0c0d0e0f" "101112131415161718191a1b1c1d1e1f" \
  "00401e18240a0600" "486920616c6c00" "2010"
#define GROUP_LEAVE_HEX  "13" "000102030405060708090a0b0c0d0e0f"
#define GROUP_TYPING_HEX "14" "000102030405060708090a0b0c0d0e0f" "01" "10"

static void
assert_decodes (const char *hex)
{
  g_autoptr (GBytes) bytes = hex_bytes (hex);
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoPayload) payload = sotto_payload_decode (g_bytes_get_data (bytes, NULL),
                                                          g_bytes_get_size (bytes), &error);
  g_autoptr (GBytes) again = NULL;

  g_assert_no_error (error);
  g_assert_true (payload->known);
  again = sotto_payload_encode (payload, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (bytes, again));
}

static void
assert_malformed (const char *hex,
                  const char *reason)
{
  g_autoptr (GBytes) bytes = hex_bytes (hex);
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoPayload) payload = sotto_payload_decode (g_bytes_get_data (bytes, NULL),
                                                          g_bytes_get_size (bytes), &error);

  g_assert_null (payload);
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  if (strstr (error->message, reason) == NULL)
    g_error ("“%s” does not say “%s”", error->message, reason);
}

static void
test_payloads (void)
{
  g_autoptr (SottoIdentity) alice = identity_from (ALICE_SECRET, ALICE_PUBLIC, "Alice");
  g_autoptr (SottoIdentity) bob = identity_from (BOB_SECRET, BOB_PUBLIC, "Bob");
  g_autofree char *signing_hex = g_strconcat ("10", ALICE_SIGNING_HEX, NULL);
  g_autofree char *record_hex = NULL;
  g_autoptr (SottoPayload) text = sotto_payload_new (SOTTO_PAYLOAD_GROUP_TEXT);
  g_autoptr (GBytes) encoded = NULL;
  g_autoptr (GError) error = NULL;

  assert_decodes (signing_hex);
  assert_decodes (GROUP_TEXT_HEX);
  assert_decodes (GROUP_LEAVE_HEX);
  assert_decodes (GROUP_TYPING_HEX);

  /* The record: record bytes, signature, one offset (2 bytes, the value
   * is longer than 255). */
  {
    g_autoptr (SottoGroupRecord) record = example_record (alice, bob);
    g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_GROUP_RECORD);
    g_autoptr (SottoPayload) decoded = NULL;
    gsize len;

    g_assert_true (sotto_group_record_sign (record, alice, &error));
    payload->group_record = sotto_group_record_copy (record);
    encoded = sotto_payload_encode (payload, &error);
    g_assert_no_error (error);
    len = g_bytes_get_size (record->bytes);
    g_assert_cmpuint (g_bytes_get_size (encoded), ==, 1 + len + 64 + 2);
    record_hex = to_hex (encoded);
    g_assert_true (g_str_has_prefix (record_hex, "11" "01000000"));
    /* PROTOCOL.md: the record ends at 234, said in two bytes. */
    g_assert_true (g_str_has_suffix (record_hex, EXAMPLE_SIGNATURE_HEX "ea00"));
    decoded = sotto_payload_decode (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded),
                                    &error);
    g_assert_no_error (error);
    g_assert_true (sotto_payload_equal (payload, decoded));
    g_assert_true (sotto_group_record_verify (decoded->group_record,
                                              sotto_identity_get_signing_key (alice)));
  }

  /* Ids of 15 and 17 bytes, a signing key of 31 and 33 and one that is
   * no point, a typing byte of 2, an empty body. */
  assert_malformed ("10" "00", "signing key is 1 bytes");
  {
    g_autofree char *short_key = g_strndup (signing_hex, 2 + 62);
    g_autofree char *long_key = g_strconcat (signing_hex, "00", NULL);

    assert_malformed (short_key, "signing key is 31 bytes");
    assert_malformed (long_key, "signing key is 33 bytes");
  }
  assert_malformed ("10" "0000000000000000000000000000000000000000000000000000000000000000",
                    "not a valid point");
  assert_malformed ("13" "000102030405060708090a0b0c0d0e", "group id is 15 bytes");
  assert_malformed ("13" "000102030405060708090a0b0c0d0e0f10", "group id is 17 bytes");
  assert_malformed ("14" "000102030405060708090a0b0c0d0e0f" "02" "10", "normal form");
  assert_malformed ("12" "000102030405060708090a0b0c0d0e0f" "101112131415161718191a1b1c1d1e1f"
                    "00401e18240a0600" "00" "2010", "text body");
  assert_malformed ("12" "000102030405060708090a0b0c0d0e0f" "101112131415161718191a1b1c1d1e1f"
                    "0000000000000000" "486900" "2010", "timestamp");

  /* A group text at the body limit, and one past it, like TEXT. */
  memset (text->group_id, 7, SOTTO_GROUP_ID_LEN);
  memset (text->uid, 9, SOTTO_MESSAGE_UID_LEN);
  text->timestamp = 1;
  text->body = g_strnfill (SOTTO_MESSAGE_BODY_MAX, 'x');
  g_clear_pointer (&encoded, g_bytes_unref);
  encoded = sotto_payload_encode (text, &error);
  g_assert_no_error (error);
  g_free (text->body);
  text->body = g_strnfill (SOTTO_MESSAGE_BODY_MAX + 1, 'x');
  g_assert_null (sotto_payload_encode (text, &error));
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
}

/* A record payload whose record is a byte too long for any plaintext
 * cannot even be built; one with a 63-byte signature is malformed. */
static void
test_payload_record_limits (void)
{
  g_autoptr (SottoIdentity) alice = identity_from (ALICE_SECRET, ALICE_PUBLIC, "Alice");
  g_autoptr (SottoIdentity) bob = identity_from (BOB_SECRET, BOB_PUBLIC, "Bob");
  g_autoptr (SottoGroupRecord) record = example_record (alice, bob);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GByteArray) plain = g_byte_array_new ();
  g_autoptr (SottoPayload) payload = NULL;
  gsize len = 0;
  const guint8 *data;

  g_assert_true (sotto_group_record_sign (record, alice, &error));
  data = g_bytes_get_data (record->bytes, &len);
  value = g_variant_ref_sink (g_variant_new ("(@ay@ay)",
                                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1),
                                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                        record->signature, 63, 1)));
  bytes = g_variant_get_data_as_bytes (value);
  g_byte_array_append (plain, (const guint8 *)"\x11", 1);
  g_byte_array_append (plain, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  payload = sotto_payload_decode (plain->data, plain->len, &error);
  g_assert_null (payload);
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "signature is 63 bytes"));
  g_clear_error (&error);

  g_assert_cmpint (SOTTO_GROUP_RECORD_MAX_LEN, ==, 65452);
  {
    g_autofree guint8 *huge = g_malloc0 (SOTTO_GROUP_RECORD_MAX_LEN + 1);

    g_assert_null (sotto_group_record_parse (huge, SOTTO_GROUP_RECORD_MAX_LEN + 1, NULL, &error));
    g_assert_nonnull (strstr (error->message, "must be 1 to 65452"));
    g_clear_error (&error);
    /* At the limit the length is fine; the bytes are not a record. */
    g_assert_null (sotto_group_record_parse (huge, SOTTO_GROUP_RECORD_MAX_LEN, NULL, &error));
    g_assert_null (strstr (error->message, "must be 1 to"));
  }
}

/* The largest record a group can have fits one payload. */
static void
test_largest_record (void)
{
  g_autoptr (SottoIdentity) admin = fresh_identity ("Admin");
  g_autoptr (SottoGroupRecord) record = sotto_group_record_new (example_group_id, "x");
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_GROUP_RECORD);
  g_autoptr (GBytes) encoded = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *a = g_strnfill (63, 'a');
  g_autofree char *d = g_strnfill (61, 'd');
  /* A 253-character DNS name and a 5-digit port: the longest hint. */
  g_autofree char *address = g_strdup_printf ("%s.%s.%s.%s:65535", a, a, a, d);
  const char *addresses[] = { address, address, NULL };
  GString *wide = g_string_new (NULL);

  /* 64 four-byte characters: the longest name in bytes. */
  for (guint i = 0; i < SOTTO_DISPLAY_NAME_MAX_CHARS; i++)
    g_string_append (wide, "\xf0\x9f\x98\x80");
  g_free (record->name);
  record->name = g_string_free (wide, FALSE);
  record->version = SOTTO_GROUP_VERSION_MAX;
  for (guint i = 0; i < SOTTO_GROUP_MAX_MEMBERS; i++)
    {
      g_autoptr (SottoIdentity) member = i == 0 ? g_object_ref (admin) : fresh_identity ("m");

      sotto_group_record_add_member (record, sotto_identity_get_public_key (member),
                                     sotto_identity_get_signing_key (member), record->name,
                                     addresses, SOTTO_GROUP_ROLE_ADMIN);
    }
  g_assert_true (sotto_group_record_sign (record, admin, &error));
  g_assert_no_error (error);
  g_test_message ("largest record: %" G_GSIZE_FORMAT " bytes", g_bytes_get_size (record->bytes));
  g_assert_cmpuint (g_bytes_get_size (record->bytes), <=, SOTTO_GROUP_RECORD_MAX_LEN);
  payload->group_record = sotto_group_record_copy (record);
  encoded = sotto_payload_encode (payload, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (encoded), <=, SOTTO_PAYLOAD_MAX_LEN);
}

static void
test_ids (void)
{
  guint8 id[SOTTO_GROUP_ID_LEN];
  g_autofree char *hex = sotto_group_id_to_hex (example_group_id);

  g_assert_cmpstr (hex, ==, "000102030405060708090a0b0c0d0e0f");
  g_assert_true (sotto_group_id_from_hex (hex, id));
  g_assert_cmpmem (id, 16, example_group_id, 16);
  g_assert_false (sotto_group_id_from_hex ("000102030405060708090a0b0c0d0e", id));
  g_assert_false (sotto_group_id_from_hex ("000102030405060708090a0b0c0d0e0f00", id));
  g_assert_false (sotto_group_id_from_hex ("000102030405060708090a0b0c0d0e0g", id));
  g_assert_false (sotto_group_id_from_hex ("", id));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/group-record/example", test_example);
  g_test_add_func ("/group-record/signing-key", test_signing_key);
  g_test_add_func ("/group-record/limits/members", test_limits_members);
  g_test_add_func ("/group-record/limits/addresses", test_limits_addresses);
  g_test_add_func ("/group-record/limits/version", test_limits_version);
  g_test_add_func ("/group-record/limits/names", test_limits_names);
  g_test_add_func ("/group-record/rules", test_rules);
  g_test_add_func ("/group-record/parse/mutations", test_parse_refuses);
  g_test_add_func ("/group-record/parse/crafted", test_parse_crafted);
  g_test_add_func ("/group-record/judge/join", test_judge_join);
  g_test_add_func ("/group-record/judge/change", test_judge_change);
  g_test_add_func ("/group-record/judge/tie", test_judge_tie);
  g_test_add_func ("/group-record/payloads", test_payloads);
  g_test_add_func ("/group-record/payloads/record-limits", test_payload_record_limits);
  g_test_add_func ("/group-record/largest", test_largest_record);
  g_test_add_func ("/group-record/ids", test_ids);

  return g_test_run ();
}
