/* sotto-contact.h — a contact, as the store knows it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  SOTTO_VERIFICATION_UNVERIFIED = 0,
  SOTTO_VERIFICATION_VERIFIED = 1,
  SOTTO_VERIFICATION_KEY_CHANGED = 2,
} SottoVerification;

#define SOTTO_TYPE_VERIFICATION (sotto_verification_get_type ())
GType sotto_verification_get_type (void);

#define SOTTO_ALIAS_MAX_BYTES 256

/* A contact row is a contact, or a peer known only from a group:
 * PROTOCOL.md, "Members who are not contacts". */
typedef enum
{
  SOTTO_MEMBER_ONLY_NO = 0,
  SOTTO_MEMBER_ONLY_ACTIVE = 1,   /* listed in a group we are in */
  SOTTO_MEMBER_ONLY_FORMER = 2,   /* no longer: kept for the names in history */
} SottoMemberOnly;

#define SOTTO_TYPE_CONTACT (sotto_contact_get_type ())

G_DECLARE_FINAL_TYPE (SottoContact, sotto_contact, SOTTO, CONTACT, GObject)

gint64             sotto_contact_get_id           (SottoContact *self);
const guint8      *sotto_contact_get_public_key   (SottoContact *self);
const guint8      *sotto_contact_get_offered_key  (SottoContact *self);
const char        *sotto_contact_get_display_name (SottoContact *self);
const char        *sotto_contact_get_alias        (SottoContact *self);
const char        *sotto_contact_get_name         (SottoContact *self);
SottoVerification  sotto_contact_get_verification (SottoContact *self);
gboolean           sotto_contact_get_blocked      (SottoContact *self);
const char * const *sotto_contact_get_addresses   (SottoContact *self);
char              *sotto_contact_dup_fingerprint  (SottoContact *self);
SottoMemberOnly    sotto_contact_get_member_only  (SottoContact *self);
const guint8      *sotto_contact_get_signing_key  (SottoContact *self);
const char        *sotto_verification_to_string   (SottoVerification verification);

G_END_DECLS
