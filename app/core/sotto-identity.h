/* sotto-identity.h — who we are: a key pair, a display name, and what is
 * derived from them for people to compare (fingerprints, safety numbers)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* X25519 public and secret keys. */
#define SOTTO_KEY_LEN 32
/* Ed25519 public keys and signatures (PROTOCOL.md, "Groups"). */
#define SOTTO_SIGNING_KEY_LEN 32
#define SOTTO_SIGNATURE_LEN   64

/* A display name is shown to colleagues next to the fingerprint; see
 * PROTOCOL.md, "Identity keys", for the exact rules. The byte limit is
 * checked first, with a bounded scan. */
#define SOTTO_DISPLAY_NAME_MAX_CHARS 64
#define SOTTO_DISPLAY_NAME_MAX_BYTES 256

#define SOTTO_FINGERPRINT_DIGITS   30
#define SOTTO_SAFETY_NUMBER_DIGITS 60

#define SOTTO_TYPE_IDENTITY (sotto_identity_get_type ())

G_DECLARE_FINAL_TYPE (SottoIdentity, sotto_identity, SOTTO, IDENTITY, GObject)

gboolean       sotto_display_name_validate      (const char          *name,
                                                 GError             **error);
char          *sotto_display_name_normalize     (const char          *name,
                                                 GError             **error);

SottoIdentity *sotto_identity_generate          (const char          *display_name,
                                                 GError             **error);
SottoIdentity *sotto_identity_new_from_keys     (const guint8        *public_key,
                                                 const guint8        *secret_key,
                                                 const char          *display_name,
                                                 GError             **error);
const guint8  *sotto_identity_get_public_key    (SottoIdentity       *self);
const guint8  *sotto_identity_get_secret_key    (SottoIdentity       *self);
const char    *sotto_identity_get_display_name  (SottoIdentity       *self);
const guint8  *sotto_identity_get_signing_key   (SottoIdentity       *self);
void           sotto_identity_sign              (SottoIdentity       *self,
                                                 const guint8        *message,
                                                 gsize                len,
                                                 guint8              *signature);
char          *sotto_identity_dup_fingerprint   (SottoIdentity       *self);

gboolean       sotto_public_key_is_canonical    (const guint8        *public_key);
char          *sotto_key_to_hex                 (const guint8        *public_key);
char          *sotto_fingerprint_for_key        (const guint8        *public_key);
gboolean       sotto_fingerprint_matches_key    (const char          *text,
                                                 const guint8        *public_key,
                                                 GError             **error);
char          *sotto_safety_number              (const guint8        *key_a,
                                                 const guint8        *key_b);

G_END_DECLS
