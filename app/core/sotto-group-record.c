/* sotto-group-record.c
 *
 * A group is one signed record: its name, its members, who may change
 * it (PROTOCOL.md, "Groups"). Records arrive from peers, relayed by
 * anyone in the group, so reading one is parsing untrusted bytes: GLib
 * confirms the normal form first, then every rule of the record is
 * checked, the same rules for what we sign and what we read. Whether a
 * record may replace the one we hold is a pure verdict,
 * sotto_group_record_judge(), tested by tables.
 *
 * Error messages are plain, untranslated strings: they end up in the log
 * as the reason a session was closed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-group"

#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <sodium.h>

#include "sotto-group-record.h"
#include "sotto-invite.h"
#include "sotto-error.h"

#define DOMAIN_LEN (sizeof SOTTO_GROUP_SIGNATURE_DOMAIN - 1)

G_STATIC_ASSERT (DOMAIN_LEN == 21);
G_STATIC_ASSERT (SOTTO_SIGNING_KEY_LEN == crypto_sign_PUBLICKEYBYTES);
G_STATIC_ASSERT (SOTTO_SIGNATURE_LEN == crypto_sign_BYTES);

G_DEFINE_BOXED_TYPE (SottoGroupRecord, sotto_group_record,
                     sotto_group_record_copy, sotto_group_record_free)

static void malformed (GError     **error,
                       const char  *format,
                       ...) G_GNUC_PRINTF (2, 3);

static void
malformed (GError     **error,
           const char  *format,
           ...)
{
  va_list args;

  if (error == NULL)
    return;

  g_assert (*error == NULL);
  va_start (args, format);
  *error = g_error_new_valist (SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT, format, args);
  va_end (args);
}

static void
member_free (gpointer data)
{
  SottoGroupMember *member = data;

  g_free (member->display_name);
  g_strfreev (member->addresses);
  g_free (member);
}

static SottoGroupMember *
member_copy (const SottoGroupMember *member)
{
  SottoGroupMember *copy = g_new0 (SottoGroupMember, 1);

  *copy = *member;
  copy->display_name = g_strdup (member->display_name);
  copy->addresses = g_strdupv (member->addresses);
  return copy;
}

/**
 * sotto_signing_key_is_valid:
 * @signing_key: (array fixed-size=32): an Ed25519 public key
 *
 * Returns: whether @signing_key is a point of prime order on the curve,
 *   as PROTOCOL.md asks of SIGNING_KEY and of the keys in records
 */
gboolean
sotto_signing_key_is_valid (const guint8 *signing_key)
{
  g_return_val_if_fail (signing_key != NULL, FALSE);

  if (sodium_init () < 0)
    return FALSE;
  return crypto_core_ed25519_is_valid_point (signing_key) == 1;
}

/* -------------------------------------------------------------------------
 * Building
 * ------------------------------------------------------------------------- */

/**
 * sotto_group_record_new:
 * @group_id: (array fixed-size=16): the group's id
 * @name: its name
 *
 * Returns: (transfer full): a record of version 0 without members, to be
 *   filled, given a version and signed
 */
SottoGroupRecord *
sotto_group_record_new (const guint8 *group_id,
                        const char   *name)
{
  SottoGroupRecord *record;

  g_return_val_if_fail (group_id != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  record = g_new0 (SottoGroupRecord, 1);
  memcpy (record->group_id, group_id, SOTTO_GROUP_ID_LEN);
  record->name = g_strdup (name);
  record->members = g_ptr_array_new_with_free_func (member_free);
  return record;
}

SottoGroupRecord *
sotto_group_record_copy (const SottoGroupRecord *record)
{
  SottoGroupRecord *copy;

  g_return_val_if_fail (record != NULL, NULL);

  copy = sotto_group_record_new (record->group_id, record->name);
  copy->version = record->version;
  memcpy (copy->signer, record->signer, SOTTO_KEY_LEN);
  for (guint i = 0; i < record->members->len; i++)
    g_ptr_array_add (copy->members, member_copy (g_ptr_array_index (record->members, i)));
  if (record->bytes != NULL)
    copy->bytes = g_bytes_ref (record->bytes);
  memcpy (copy->signature, record->signature, SOTTO_SIGNATURE_LEN);
  return copy;
}

void
sotto_group_record_free (SottoGroupRecord *record)
{
  if (record == NULL)
    return;

  g_free (record->name);
  g_ptr_array_unref (record->members);
  g_clear_pointer (&record->bytes, g_bytes_unref);
  g_free (record);
}

/* A change makes the serialized form and its signature stale. */
static void
forget_bytes (SottoGroupRecord *record)
{
  g_clear_pointer (&record->bytes, g_bytes_unref);
  memset (record->signature, 0, SOTTO_SIGNATURE_LEN);
}

/**
 * sotto_group_record_add_member:
 * @record: a record
 * @key: (array fixed-size=32): the member's X25519 key
 * @signing_key: (nullable) (array fixed-size=32): its signing key, if known
 * @display_name: how the member is known
 * @addresses: (nullable) (array zero-terminated=1): where to reach it;
 *   the first SOTTO_GROUP_MAX_ADDRESSES are kept
 * @role: its role
 *
 * Adds @key, or updates it if it is listed already.
 *
 * Returns: (transfer none): the member's entry
 */
SottoGroupMember *
sotto_group_record_add_member (SottoGroupRecord   *record,
                               const guint8       *key,
                               const guint8       *signing_key,
                               const char         *display_name,
                               const char * const *addresses,
                               SottoGroupRole      role)
{
  SottoGroupMember *member;
  guint n = 0;

  g_return_val_if_fail (record != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (display_name != NULL, NULL);

  forget_bytes (record);
  member = sotto_group_record_find_member (record, key);
  if (member == NULL)
    {
      member = g_new0 (SottoGroupMember, 1);
      memcpy (member->key, key, SOTTO_KEY_LEN);
      g_ptr_array_add (record->members, member);
    }
  if (signing_key != NULL)
    {
      memcpy (member->signing_key, signing_key, SOTTO_SIGNING_KEY_LEN);
      member->has_signing_key = TRUE;
    }
  g_free (member->display_name);
  member->display_name = g_strdup (display_name);
  g_strfreev (member->addresses);
  member->addresses = g_new0 (char *, SOTTO_GROUP_MAX_ADDRESSES + 1);
  for (guint i = 0; addresses != NULL && addresses[i] != NULL && n < SOTTO_GROUP_MAX_ADDRESSES; i++)
    member->addresses[n++] = g_strdup (addresses[i]);
  member->role = role;
  return member;
}

/**
 * sotto_group_record_remove_member:
 *
 * Returns: whether @key was listed
 */
gboolean
sotto_group_record_remove_member (SottoGroupRecord *record,
                                  const guint8     *key)
{
  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  for (guint i = 0; i < record->members->len; i++)
    {
      SottoGroupMember *member = g_ptr_array_index (record->members, i);

      if (memcmp (member->key, key, SOTTO_KEY_LEN) == 0)
        {
          forget_bytes (record);
          g_ptr_array_remove_index (record->members, i);
          return TRUE;
        }
    }
  return FALSE;
}

/**
 * sotto_group_record_find_member:
 *
 * Returns: (transfer none) (nullable): the entry of @key
 */
SottoGroupMember *
sotto_group_record_find_member (const SottoGroupRecord *record,
                                const guint8           *key)
{
  g_return_val_if_fail (record != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  for (guint i = 0; i < record->members->len; i++)
    {
      SottoGroupMember *member = g_ptr_array_index (record->members, i);

      if (memcmp (member->key, key, SOTTO_KEY_LEN) == 0)
        return member;
    }
  return NULL;
}

gboolean
sotto_group_record_is_admin (const SottoGroupRecord *record,
                             const guint8           *key)
{
  SottoGroupMember *member = sotto_group_record_find_member (record, key);

  return member != NULL && member->role == SOTTO_GROUP_ROLE_ADMIN;
}

guint
sotto_group_record_count_admins (const SottoGroupRecord *record)
{
  guint n = 0;

  g_return_val_if_fail (record != NULL, 0);

  for (guint i = 0; i < record->members->len; i++)
    if (((SottoGroupMember *)g_ptr_array_index (record->members, i))->role == SOTTO_GROUP_ROLE_ADMIN)
      n++;
  return n;
}

/* -------------------------------------------------------------------------
 * The rules
 * ------------------------------------------------------------------------- */

static gboolean
member_validate (const SottoGroupMember  *member,
                 guint                    index,
                 GError                 **error)
{
  g_autoptr (GError) reason = NULL;
  guint n_addresses = member->addresses != NULL ? g_strv_length (member->addresses) : 0;

  if (!sotto_public_key_is_canonical (member->key))
    {
      malformed (error, "group member %u has a key that is not canonical", index);
      return FALSE;
    }
  if (member->has_signing_key && !sotto_signing_key_is_valid (member->signing_key))
    {
      malformed (error, "group member %u has a signing key that is not a valid point", index);
      return FALSE;
    }
  if (member->display_name == NULL || !sotto_display_name_validate (member->display_name, &reason))
    {
      malformed (error, "group member %u has an invalid name: %s", index,
                 reason != NULL ? reason->message : "none");
      return FALSE;
    }
  if (n_addresses > SOTTO_GROUP_MAX_ADDRESSES)
    {
      malformed (error, "group member %u has %u addresses, at most %d", index, n_addresses,
                 SOTTO_GROUP_MAX_ADDRESSES);
      return FALSE;
    }
  for (guint i = 0; i < n_addresses; i++)
    if (!sotto_invite_address_validate (member->addresses[i], &reason))
      {
        malformed (error, "group member %u has an invalid address: %s", index, reason->message);
        return FALSE;
      }
  if (member->role != SOTTO_GROUP_ROLE_MEMBER && member->role != SOTTO_GROUP_ROLE_ADMIN)
    {
      malformed (error, "group member %u has role %u (1 = member, 2 = admin)", index,
                 (guint)member->role);
      return FALSE;
    }
  if (member->role == SOTTO_GROUP_ROLE_ADMIN && !member->has_signing_key)
    {
      malformed (error, "group admin %u has no signing key", index);
      return FALSE;
    }
  return TRUE;
}

/**
 * sotto_group_record_validate:
 * @record: a record
 * @error: return location for a #SOTTO_ERROR_INVALID_ARGUMENT
 *
 * Checks every rule of PROTOCOL.md, "The group record", but the length
 * of the serialized form and the signature.
 */
gboolean
sotto_group_record_validate (const SottoGroupRecord  *record,
                             GError                 **error)
{
  g_autoptr (GError) reason = NULL;
  g_autoptr (GHashTable) keys = NULL;

  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (record->version < 1 || record->version > SOTTO_GROUP_VERSION_MAX)
    {
      malformed (error, "group record version %" G_GUINT64_FORMAT " is outside 1 to 2^53",
                 record->version);
      return FALSE;
    }
  if (!sotto_public_key_is_canonical (record->signer))
    {
      malformed (error, "group record signer is not a canonical key");
      return FALSE;
    }
  if (record->name == NULL || !sotto_display_name_validate (record->name, &reason))
    {
      malformed (error, "group name is invalid: %s", reason != NULL ? reason->message : "none");
      return FALSE;
    }
  if (record->members->len < 1 || record->members->len > SOTTO_GROUP_MAX_MEMBERS)
    {
      malformed (error, "group record lists %u members, must be 1 to %d", record->members->len,
                 SOTTO_GROUP_MAX_MEMBERS);
      return FALSE;
    }

  keys = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify)g_bytes_unref, NULL);
  for (guint i = 0; i < record->members->len; i++)
    {
      SottoGroupMember *member = g_ptr_array_index (record->members, i);
      g_autoptr (GBytes) key = NULL;

      if (!member_validate (member, i, error))
        return FALSE;
      key = g_bytes_new_static (member->key, SOTTO_KEY_LEN);
      if (g_hash_table_contains (keys, key))
        {
          malformed (error, "group record lists member %u twice", i);
          return FALSE;
        }
      g_hash_table_add (keys, g_steal_pointer (&key));
    }

  if (sotto_group_record_count_admins (record) == 0)
    {
      malformed (error, "group record has no admin");
      return FALSE;
    }
  return TRUE;
}

/* -------------------------------------------------------------------------
 * Serialized form and signature
 * ------------------------------------------------------------------------- */

static GVariant *
bytes_variant (const guint8 *data,
               gsize         len)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, len > 0 ? data : NULL, len, 1);
}

static GBytes *
serialize (const SottoGroupRecord *record)
{
  g_auto (GVariantBuilder) members = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ayaysasy)"));
  g_autoptr (GVariant) variant = NULL;
  g_autoptr (GVariant) little = NULL;

  for (guint i = 0; i < record->members->len; i++)
    {
      SottoGroupMember *member = g_ptr_array_index (record->members, i);
      const char * const empty[] = { NULL };

      g_variant_builder_add (&members, "(@ay@ays^asy)",
                             bytes_variant (member->key, SOTTO_KEY_LEN),
                             bytes_variant (member->signing_key,
                                            member->has_signing_key ? SOTTO_SIGNING_KEY_LEN : 0),
                             member->display_name,
                             member->addresses != NULL ? (const char * const *)member->addresses : empty,
                             (guint8)member->role);
    }
  variant = g_variant_ref_sink (g_variant_new ("(t@ay@ays@a(ayaysasy))", record->version,
                                               bytes_variant (record->group_id, SOTTO_GROUP_ID_LEN),
                                               bytes_variant (record->signer, SOTTO_KEY_LEN),
                                               record->name, g_variant_builder_end (&members)));
  little = G_BYTE_ORDER == G_LITTLE_ENDIAN ? g_variant_ref (variant) : g_variant_byteswap (variant);
  return g_variant_get_data_as_bytes (little);
}

static void
signed_message (GBytes     *bytes,
                GByteArray *out)
{
  g_byte_array_append (out, (const guint8 *)SOTTO_GROUP_SIGNATURE_DOMAIN, DOMAIN_LEN);
  g_byte_array_append (out, g_bytes_get_data (bytes, NULL), (guint)g_bytes_get_size (bytes));
}

/**
 * sotto_group_record_sign:
 * @record: a record with its version set
 * @identity: the admin signing it
 * @error: return location for a #SOTTO_ERROR_INVALID_ARGUMENT
 *
 * Makes @identity the signer, then checks, serializes and signs @record.
 *
 * Returns: whether @record is valid and now signed
 */
gboolean
sotto_group_record_sign (SottoGroupRecord  *record,
                         SottoIdentity     *identity,
                         GError           **error)
{
  g_autoptr (GByteArray) message = g_byte_array_new ();
  g_autoptr (GBytes) bytes = NULL;

  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (SOTTO_IS_IDENTITY (identity), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  forget_bytes (record);
  memcpy (record->signer, sotto_identity_get_public_key (identity), SOTTO_KEY_LEN);
  if (!sotto_group_record_validate (record, error))
    return FALSE;
  bytes = serialize (record);
  if (g_bytes_get_size (bytes) > SOTTO_GROUP_RECORD_MAX_LEN)
    {
      malformed (error, "group record would be %" G_GSIZE_FORMAT " bytes, at most %d",
                 g_bytes_get_size (bytes), SOTTO_GROUP_RECORD_MAX_LEN);
      return FALSE;
    }
  signed_message (bytes, message);
  sotto_identity_sign (identity, message->data, message->len, record->signature);
  record->bytes = g_steal_pointer (&bytes);
  return TRUE;
}

/**
 * sotto_group_record_parse:
 * @data: (array length=len): a serialized record, from a peer or the store
 * @len: its length
 * @signature: (nullable) (array fixed-size=64): the signature that came with it
 * @error: return location for a #SOTTO_ERROR_INVALID_ARGUMENT
 *
 * Reads a record that must be in normal form and keep every rule. The
 * signature is kept, not checked: that needs the key of an admin the
 * reader trusts (sotto_group_record_judge()).
 *
 * Returns: (transfer full) (nullable): the record, or %NULL if malformed
 */
SottoGroupRecord *
sotto_group_record_parse (const guint8  *data,
                          gsize          len,
                          const guint8  *signature,
                          GError       **error)
{
  g_autoptr (SottoGroupRecord) record = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GVariant) variant = NULL;
  g_autoptr (GVariant) native = NULL;
  g_autoptr (GVariant) id = NULL;
  g_autoptr (GVariant) signer = NULL;
  g_autoptr (GVariant) members = NULL;
  g_autofree char *name = NULL;
  guint64 version;
  gsize n;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len < 1 || len > SOTTO_GROUP_RECORD_MAX_LEN)
    {
      malformed (error, "group record is %" G_GSIZE_FORMAT " bytes, must be 1 to %d", len,
                 SOTTO_GROUP_RECORD_MAX_LEN);
      return NULL;
    }
  /* Copied: aligned for the type, and independent of the caller's buffer. */
  bytes = g_bytes_new (data, len);
  variant = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (SOTTO_GROUP_RECORD_TYPE),
                                                          bytes, FALSE));
  if (!g_variant_is_normal_form (variant))
    {
      malformed (error, "group record is not in normal form");
      return NULL;
    }
  native = G_BYTE_ORDER == G_LITTLE_ENDIAN ? g_variant_ref (variant) : g_variant_byteswap (variant);

  g_variant_get (native, "(t@ay@ays@a(ayaysasy))", &version, &id, &signer, &name, &members);
  if (g_variant_get_size (id) != SOTTO_GROUP_ID_LEN)
    {
      malformed (error, "group id is %" G_GSIZE_FORMAT " bytes, must be %d",
                 g_variant_get_size (id), SOTTO_GROUP_ID_LEN);
      return NULL;
    }
  if (g_variant_get_size (signer) != SOTTO_KEY_LEN)
    {
      malformed (error, "group record signer is %" G_GSIZE_FORMAT " bytes, must be %d",
                 g_variant_get_size (signer), SOTTO_KEY_LEN);
      return NULL;
    }
  n = g_variant_n_children (members);
  if (n < 1 || n > SOTTO_GROUP_MAX_MEMBERS)
    {
      malformed (error, "group record lists %" G_GSIZE_FORMAT " members, must be 1 to %d", n,
                 SOTTO_GROUP_MAX_MEMBERS);
      return NULL;
    }

  record = sotto_group_record_new (g_variant_get_data (id), name);
  record->version = version;
  memcpy (record->signer, g_variant_get_data (signer), SOTTO_KEY_LEN);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) entry = g_variant_get_child_value (members, i);
      g_autoptr (GVariant) key = NULL;
      g_autoptr (GVariant) signing_key = NULL;
      g_autoptr (GVariant) addresses = NULL;
      SottoGroupMember *member;
      gsize n_addresses;
      guint8 role;

      member = g_new0 (SottoGroupMember, 1);
      g_ptr_array_add (record->members, member);
      g_variant_get (entry, "(@ay@ays@asy)", &key, &signing_key, &member->display_name,
                     &addresses, &role);
      member->role = role;
      if (g_variant_get_size (key) != SOTTO_KEY_LEN)
        {
          malformed (error, "group member %" G_GSIZE_FORMAT " key is %" G_GSIZE_FORMAT
                     " bytes, must be %d", i, g_variant_get_size (key), SOTTO_KEY_LEN);
          return NULL;
        }
      memcpy (member->key, g_variant_get_data (key), SOTTO_KEY_LEN);
      if (g_variant_get_size (signing_key) == SOTTO_SIGNING_KEY_LEN)
        {
          memcpy (member->signing_key, g_variant_get_data (signing_key), SOTTO_SIGNING_KEY_LEN);
          member->has_signing_key = TRUE;
        }
      else if (g_variant_get_size (signing_key) != 0)
        {
          malformed (error, "group member %" G_GSIZE_FORMAT " signing key is %" G_GSIZE_FORMAT
                     " bytes, must be 0 or %d", i, g_variant_get_size (signing_key),
                     SOTTO_SIGNING_KEY_LEN);
          return NULL;
        }
      n_addresses = g_variant_n_children (addresses);
      if (n_addresses > SOTTO_GROUP_MAX_ADDRESSES)
        {
          malformed (error, "group member %" G_GSIZE_FORMAT " has %" G_GSIZE_FORMAT
                     " addresses, at most %d", i, n_addresses, SOTTO_GROUP_MAX_ADDRESSES);
          return NULL;
        }
      member->addresses = g_variant_dup_strv (addresses, NULL);
    }

  if (!sotto_group_record_validate (record, error))
    return NULL;

  record->bytes = g_bytes_new (data, len);
  if (signature != NULL)
    memcpy (record->signature, signature, SOTTO_SIGNATURE_LEN);
  return g_steal_pointer (&record);
}

/**
 * sotto_group_record_verify:
 * @record: a record that was signed or parsed
 * @signing_key: (array fixed-size=32): the key it should be signed with
 *
 * Returns: whether the record's signature verifies with @signing_key
 */
gboolean
sotto_group_record_verify (const SottoGroupRecord *record,
                           const guint8           *signing_key)
{
  g_autoptr (GByteArray) message = NULL;

  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (signing_key != NULL, FALSE);

  if (record->bytes == NULL || sodium_init () < 0)
    return FALSE;
  message = g_byte_array_new ();
  signed_message (record->bytes, message);
  return crypto_sign_verify_detached (record->signature, message->data, message->len,
                                      signing_key) == 0;
}

/* -------------------------------------------------------------------------
 * Which record counts
 * ------------------------------------------------------------------------- */

/**
 * sotto_group_record_same:
 *
 * Returns: whether @a and @b are the same serialized record
 */
gboolean
sotto_group_record_same (const SottoGroupRecord *a,
                         const SottoGroupRecord *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  return a->bytes != NULL && b->bytes != NULL && g_bytes_equal (a->bytes, b->bytes);
}

static void
record_hash (const SottoGroupRecord *record,
             guint8                  hash[32])
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (record->bytes, &len);

  crypto_generichash (hash, 32, data, len, NULL, 0);
}

/**
 * sotto_group_record_wins:
 * @a: a signed or parsed record
 * @b: another one of the same group and version
 *
 * The order of PROTOCOL.md, "The group record", for two different
 * records of one version: the one whose signer is not an admin in the
 * other loses; else the smaller BLAKE2b-256 hash wins.
 *
 * Returns: whether @a wins over @b
 */
gboolean
sotto_group_record_wins (const SottoGroupRecord *a,
                         const SottoGroupRecord *b)
{
  gboolean a_trusted, b_trusted;
  guint8 hash_a[32], hash_b[32];

  g_return_val_if_fail (a != NULL && a->bytes != NULL, FALSE);
  g_return_val_if_fail (b != NULL && b->bytes != NULL, FALSE);

  a_trusted = sotto_group_record_is_admin (b, a->signer);
  b_trusted = sotto_group_record_is_admin (a, b->signer);
  if (a_trusted != b_trusted)
    return a_trusted;

  record_hash (a, hash_a);
  record_hash (b, hash_b);
  return memcmp (hash_a, hash_b, sizeof hash_a) < 0;
}

/**
 * sotto_group_record_judge:
 * @current: (nullable): the record held now, or %NULL when none is (or
 *   the side left the group or was removed from it)
 * @incoming: a parsed record of the same group
 * @own_key: (array fixed-size=32): the judging side's key
 * @signer_contact_key: (nullable) (array fixed-size=32): the signing key
 *   that the signer of @incoming sent us itself, when it is a contact we
 *   trust (pinned, not blocked, not key-changed); %NULL otherwise
 *
 * PROTOCOL.md, "Accepting a record".
 */
SottoGroupVerdict
sotto_group_record_judge (const SottoGroupRecord *current,
                          const SottoGroupRecord *incoming,
                          const guint8           *own_key,
                          const guint8           *signer_contact_key)
{
  SottoGroupMember *signer;

  g_return_val_if_fail (incoming != NULL && incoming->bytes != NULL,
                        SOTTO_GROUP_VERDICT_UNAUTHORIZED);
  g_return_val_if_fail (own_key != NULL, SOTTO_GROUP_VERDICT_UNAUTHORIZED);

  if (current == NULL)
    {
      if (sotto_group_record_find_member (incoming, own_key) == NULL)
        return SOTTO_GROUP_VERDICT_NOT_LISTED;
      signer = sotto_group_record_find_member (incoming, incoming->signer);
      if (signer == NULL || signer->role != SOTTO_GROUP_ROLE_ADMIN || !signer->has_signing_key ||
          signer_contact_key == NULL ||
          sodium_memcmp (signer->signing_key, signer_contact_key, SOTTO_SIGNING_KEY_LEN) != 0)
        return SOTTO_GROUP_VERDICT_UNAUTHORIZED;
      if (!sotto_group_record_verify (incoming, signer->signing_key))
        return SOTTO_GROUP_VERDICT_BAD_SIGNATURE;
      return SOTTO_GROUP_VERDICT_JOIN;
    }

  g_return_val_if_fail (memcmp (current->group_id, incoming->group_id, SOTTO_GROUP_ID_LEN) == 0,
                        SOTTO_GROUP_VERDICT_UNAUTHORIZED);

  if (incoming->version < current->version)
    return SOTTO_GROUP_VERDICT_OLDER;
  if (sotto_group_record_same (current, incoming))
    return SOTTO_GROUP_VERDICT_SAME;
  if (incoming->version == current->version && !sotto_group_record_wins (incoming, current))
    return SOTTO_GROUP_VERDICT_OLDER;

  /* The key comes from the record we hold, never from the new one:
   * otherwise anyone could list themselves as admin and sign. */
  signer = sotto_group_record_find_member (current, incoming->signer);
  if (signer == NULL || signer->role != SOTTO_GROUP_ROLE_ADMIN || !signer->has_signing_key)
    return SOTTO_GROUP_VERDICT_UNAUTHORIZED;
  if (!sotto_group_record_verify (incoming, signer->signing_key))
    return SOTTO_GROUP_VERDICT_BAD_SIGNATURE;
  return SOTTO_GROUP_VERDICT_CHANGE;
}

const char *
sotto_group_verdict_to_string (SottoGroupVerdict verdict)
{
  switch (verdict)
    {
    case SOTTO_GROUP_VERDICT_JOIN:          return "join";
    case SOTTO_GROUP_VERDICT_CHANGE:        return "change";
    case SOTTO_GROUP_VERDICT_SAME:          return "same";
    case SOTTO_GROUP_VERDICT_OLDER:         return "older";
    case SOTTO_GROUP_VERDICT_UNAUTHORIZED:  return "unauthorized";
    case SOTTO_GROUP_VERDICT_NOT_LISTED:    return "not-listed";
    case SOTTO_GROUP_VERDICT_BAD_SIGNATURE: return "bad-signature";
    default:                                return "unknown";
    }
}

/* -------------------------------------------------------------------------
 * Ids as text
 * ------------------------------------------------------------------------- */

/**
 * sotto_group_id_to_hex:
 *
 * Returns: (transfer full): the 32 lower-case hex digits of @group_id
 */
char *
sotto_group_id_to_hex (const guint8 *group_id)
{
  char *hex = g_malloc (SOTTO_GROUP_ID_LEN * 2 + 1);

  g_return_val_if_fail (group_id != NULL, NULL);

  sodium_bin2hex (hex, SOTTO_GROUP_ID_LEN * 2 + 1, group_id, SOTTO_GROUP_ID_LEN);
  return hex;
}

/**
 * sotto_group_id_from_hex:
 * @text: 32 hex digits
 * @group_id: (out caller-allocates) (array fixed-size=16): the id
 *
 * Returns: whether @text is exactly a group id in hex
 */
gboolean
sotto_group_id_from_hex (const char *text,
                         guint8     *group_id)
{
  gsize bin_len = 0;
  const char *end = NULL;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (group_id != NULL, FALSE);

  if (strlen (text) != SOTTO_GROUP_ID_LEN * 2)
    return FALSE;
  return sodium_hex2bin (group_id, SOTTO_GROUP_ID_LEN, text, SOTTO_GROUP_ID_LEN * 2, NULL,
                         &bin_len, &end) == 0 &&
         bin_len == SOTTO_GROUP_ID_LEN && *end == '\0';
}
