/* sotto-group-record.h — what a group is: its signed member list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "sotto-identity.h"

G_BEGIN_DECLS

/* PROTOCOL.md, "Groups", "The group record". */
#define SOTTO_GROUP_ID_LEN            16
#define SOTTO_GROUP_MAX_MEMBERS       64
#define SOTTO_GROUP_MAX_ADDRESSES     2
#define SOTTO_GROUP_VERSION_MAX       (G_GUINT64_CONSTANT (1) << 53)
/* What fits a GROUP_RECORD payload beside the kind, the signature and
 * a 2-byte framing offset. */
#define SOTTO_GROUP_RECORD_MAX_LEN    65452
#define SOTTO_GROUP_RECORD_TYPE       "(tayaysa(ayaysasy))"
#define SOTTO_GROUP_SIGNATURE_DOMAIN  "Sotto group record v1"

typedef enum
{
  SOTTO_GROUP_ROLE_MEMBER = 1,
  SOTTO_GROUP_ROLE_ADMIN = 2,
} SottoGroupRole;

typedef struct
{
  guint8          key[SOTTO_KEY_LEN];
  guint8          signing_key[SOTTO_SIGNING_KEY_LEN];
  gboolean        has_signing_key;
  char           *display_name;
  /* NULL-terminated, at most SOTTO_GROUP_MAX_ADDRESSES, most recent first */
  char          **addresses;
  SottoGroupRole  role;
} SottoGroupMember;

typedef struct
{
  guint64    version;
  guint8     group_id[SOTTO_GROUP_ID_LEN];
  guint8     signer[SOTTO_KEY_LEN];
  char      *name;
  GPtrArray *members;        /* SottoGroupMember, in the record's order */

  /* Set by sotto_group_record_parse() and sotto_group_record_sign():
   * the serialized record exactly as signed, and its signature. */
  GBytes    *bytes;
  guint8     signature[SOTTO_SIGNATURE_LEN];
} SottoGroupRecord;

/* What a side makes of a record it received (PROTOCOL.md, "Accepting a
 * record"). */
typedef enum
{
  SOTTO_GROUP_VERDICT_JOIN,          /* accepted: the first record it holds */
  SOTTO_GROUP_VERDICT_CHANGE,        /* accepted: replaces the current one */
  SOTTO_GROUP_VERDICT_SAME,          /* the very record it holds */
  SOTTO_GROUP_VERDICT_OLDER,         /* a lower version, or the loser of a tie */
  SOTTO_GROUP_VERDICT_UNAUTHORIZED,  /* signer not an admin it can trust */
  SOTTO_GROUP_VERDICT_NOT_LISTED,    /* a first record that does not list it */
  SOTTO_GROUP_VERDICT_BAD_SIGNATURE, /* does not verify with the key it trusts */
} SottoGroupVerdict;

#define SOTTO_TYPE_GROUP_RECORD (sotto_group_record_get_type ())

GType              sotto_group_record_get_type     (void) G_GNUC_CONST;

SottoGroupRecord  *sotto_group_record_new          (const guint8            *group_id,
                                                    const char              *name);
SottoGroupRecord  *sotto_group_record_copy         (const SottoGroupRecord  *record);
void               sotto_group_record_free         (SottoGroupRecord        *record);

SottoGroupMember  *sotto_group_record_add_member   (SottoGroupRecord        *record,
                                                    const guint8            *key,
                                                    const guint8            *signing_key,
                                                    const char              *display_name,
                                                    const char * const      *addresses,
                                                    SottoGroupRole           role);
gboolean           sotto_group_record_remove_member (SottoGroupRecord       *record,
                                                    const guint8            *key);
SottoGroupMember  *sotto_group_record_find_member  (const SottoGroupRecord  *record,
                                                    const guint8            *key);
gboolean           sotto_group_record_is_admin     (const SottoGroupRecord  *record,
                                                    const guint8            *key);
guint              sotto_group_record_count_admins (const SottoGroupRecord  *record);

gboolean           sotto_group_record_validate     (const SottoGroupRecord  *record,
                                                    GError                 **error);
gboolean           sotto_group_record_sign         (SottoGroupRecord        *record,
                                                    SottoIdentity           *identity,
                                                    GError                 **error);
SottoGroupRecord  *sotto_group_record_parse        (const guint8            *data,
                                                    gsize                    len,
                                                    const guint8            *signature,
                                                    GError                 **error);
gboolean           sotto_group_record_verify       (const SottoGroupRecord  *record,
                                                    const guint8            *signing_key);
gboolean           sotto_group_record_same         (const SottoGroupRecord  *a,
                                                    const SottoGroupRecord  *b);
gboolean           sotto_group_record_wins         (const SottoGroupRecord  *a,
                                                    const SottoGroupRecord  *b);
SottoGroupVerdict  sotto_group_record_judge        (const SottoGroupRecord  *current,
                                                    const SottoGroupRecord  *incoming,
                                                    const guint8            *own_key,
                                                    const guint8            *signer_contact_key);
const char        *sotto_group_verdict_to_string   (SottoGroupVerdict        verdict);

gboolean           sotto_signing_key_is_valid      (const guint8            *signing_key);
char              *sotto_group_id_to_hex           (const guint8            *group_id);
gboolean           sotto_group_id_from_hex         (const char              *text,
                                                    guint8                  *group_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoGroupRecord, sotto_group_record_free)

G_END_DECLS
