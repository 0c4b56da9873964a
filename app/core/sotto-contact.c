/* sotto-contact.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-contact"

#include "config.h"

#include <string.h>

#include "sotto-contact-private.h"
#include "sotto-identity.h"

struct _SottoContact
{
  GObject parent_instance;

  gint64             id;
  guint8             public_key[32];
  guint8             offered_key[32];
  gboolean           has_offered_key;
  char              *display_name;
  char              *alias;
  char             **addresses;
  SottoVerification  verification;
  gboolean           blocked;
  /* groups: whether this is a member-only peer, and its signing key */
  SottoMemberOnly    member_only;
  guint8             signing_key[32];
  gboolean           has_signing_key;
};

G_DEFINE_FINAL_TYPE (SottoContact, sotto_contact, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (SottoVerification, sotto_verification,
                    G_DEFINE_ENUM_VALUE (SOTTO_VERIFICATION_UNVERIFIED, "unverified"),
                    G_DEFINE_ENUM_VALUE (SOTTO_VERIFICATION_VERIFIED, "verified"),
                    G_DEFINE_ENUM_VALUE (SOTTO_VERIFICATION_KEY_CHANGED, "key-changed"))

enum {
  PROP_0,
  PROP_ID,
  PROP_PUBLIC_KEY,
  PROP_OFFERED_KEY,
  PROP_DISPLAY_NAME,
  PROP_ALIAS,
  PROP_NAME,
  PROP_VERIFICATION,
  PROP_BLOCKED,
  PROP_ADDRESSES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
sotto_contact_finalize (GObject *object)
{
  SottoContact *self = (SottoContact *)object;

  g_clear_pointer (&self->display_name, g_free);
  g_clear_pointer (&self->alias, g_free);
  g_clear_pointer (&self->addresses, g_strfreev);

  G_OBJECT_CLASS (sotto_contact_parent_class)->finalize (object);
}

static void
sotto_contact_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  SottoContact *self = SOTTO_CONTACT (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;

    case PROP_PUBLIC_KEY:
      g_value_take_boxed (value, g_bytes_new (self->public_key, sizeof self->public_key));
      break;

    case PROP_OFFERED_KEY:
      if (self->has_offered_key)
        g_value_take_boxed (value, g_bytes_new (self->offered_key, sizeof self->offered_key));
      break;

    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;

    case PROP_ALIAS:
      g_value_set_string (value, self->alias);
      break;

    case PROP_NAME:
      g_value_set_string (value, sotto_contact_get_name (self));
      break;

    case PROP_VERIFICATION:
      g_value_set_enum (value, self->verification);
      break;

    case PROP_BLOCKED:
      g_value_set_boolean (value, self->blocked);
      break;

    case PROP_ADDRESSES:
      g_value_set_boxed (value, self->addresses);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_contact_class_init (SottoContactClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = sotto_contact_finalize;
  object_class->get_property = sotto_contact_get_property;

  properties[PROP_ID] =
    g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  /**
   * SottoContact:public-key:
   *
   * The pinned static key (32 bytes): changes only when the user accepts
   * a new one.
   */
  properties[PROP_PUBLIC_KEY] =
    g_param_spec_boxed ("public-key", NULL, NULL, G_TYPE_BYTES, flags);
  /**
   * SottoContact:offered-key:
   *
   * While the contact is %SOTTO_VERIFICATION_KEY_CHANGED: the key their
   * address answered with instead of the pinned one (32 bytes), for the
   * user to compare and accept; %NULL otherwise, or when a profile from
   * before this was kept never learnt it.
   */
  properties[PROP_OFFERED_KEY] =
    g_param_spec_boxed ("offered-key", NULL, NULL, G_TYPE_BYTES, flags);
  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL, NULL, flags);
  properties[PROP_ALIAS] =
    g_param_spec_string ("alias", NULL, NULL, NULL, flags);
  /**
   * SottoContact:name:
   *
   * What to call the contact: the alias the user gave, else the name the
   * contact chose.
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties[PROP_VERIFICATION] =
    g_param_spec_enum ("verification", NULL, NULL,
                       SOTTO_TYPE_VERIFICATION, SOTTO_VERIFICATION_UNVERIFIED, flags);
  properties[PROP_BLOCKED] =
    g_param_spec_boolean ("blocked", NULL, NULL, FALSE, flags);
  properties[PROP_ADDRESSES] =
    g_param_spec_boxed ("addresses", NULL, NULL, G_TYPE_STRV, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sotto_contact_init (SottoContact *self)
{
}

SottoContact *
_sotto_contact_new (gint64              id,
                    const guint8       *public_key,
                    const guint8       *offered_key,
                    const char         *display_name,
                    const char         *alias,
                    SottoVerification   verification,
                    gboolean            blocked,
                    const char * const *addresses)
{
  SottoContact *self = g_object_new (SOTTO_TYPE_CONTACT, NULL);
  static const char * const none[] = { NULL };

  self->id = id;
  memcpy (self->public_key, public_key, sizeof self->public_key);
  if (offered_key != NULL)
    {
      memcpy (self->offered_key, offered_key, sizeof self->offered_key);
      self->has_offered_key = TRUE;
    }
  self->display_name = g_strdup (display_name);
  self->alias = alias != NULL && alias[0] != '\0' ? g_strdup (alias) : NULL;
  self->verification = verification;
  self->blocked = blocked;
  self->addresses = g_strdupv ((char **)(addresses != NULL ? addresses : none));

  return self;
}

/* The store reloads a row after a change and copies it into the object the
 * front ends already hold, so their bindings see the change. */
void
_sotto_contact_set_group_state (SottoContact    *self,
                                SottoMemberOnly  member_only,
                                const guint8    *signing_key)
{
  g_return_if_fail (SOTTO_IS_CONTACT (self));

  self->member_only = member_only;
  self->has_signing_key = signing_key != NULL;
  if (signing_key != NULL)
    memcpy (self->signing_key, signing_key, sizeof self->signing_key);
}

/**
 * sotto_contact_get_member_only:
 *
 * Returns: %SOTTO_MEMBER_ONLY_NO for a contact the user chose; else a peer
 *   known only because a group lists it (or listed it: former)
 */
SottoMemberOnly
sotto_contact_get_member_only (SottoContact *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTACT (self), SOTTO_MEMBER_ONLY_NO);

  return self->member_only;
}

/**
 * sotto_contact_get_signing_key:
 *
 * Returns: (nullable) (array fixed-size=32): the Ed25519 key the peer
 *   sent over its own session, if it did (PROTOCOL.md, "Groups")
 */
const guint8 *
sotto_contact_get_signing_key (SottoContact *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTACT (self), NULL);

  return self->has_signing_key ? self->signing_key : NULL;
}

void
_sotto_contact_update_from (SottoContact *self,
                            SottoContact *other)
{
  g_autofree char *old_name = g_strdup (sotto_contact_get_name (self));

  g_return_if_fail (SOTTO_IS_CONTACT (self));
  g_return_if_fail (SOTTO_IS_CONTACT (other));
  g_return_if_fail (self->id == other->id);

  g_object_freeze_notify (G_OBJECT (self));

  /* Not properties: they change along with the lists the contact is in. */
  self->member_only = other->member_only;
  self->has_signing_key = other->has_signing_key;
  memcpy (self->signing_key, other->signing_key, sizeof self->signing_key);

  if (memcmp (self->public_key, other->public_key, sizeof self->public_key) != 0)
    {
      memcpy (self->public_key, other->public_key, sizeof self->public_key);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PUBLIC_KEY]);
    }

  if (self->has_offered_key != other->has_offered_key ||
      (other->has_offered_key &&
       memcmp (self->offered_key, other->offered_key, sizeof self->offered_key) != 0))
    {
      memcpy (self->offered_key, other->offered_key, sizeof self->offered_key);
      self->has_offered_key = other->has_offered_key;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OFFERED_KEY]);
    }

  if (g_strcmp0 (self->display_name, other->display_name) != 0)
    {
      g_free (self->display_name);
      self->display_name = g_strdup (other->display_name);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);
    }

  if (g_strcmp0 (self->alias, other->alias) != 0)
    {
      g_free (self->alias);
      self->alias = g_strdup (other->alias);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALIAS]);
    }

  if (g_strcmp0 (old_name, sotto_contact_get_name (self)) != 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);

  if (self->verification != other->verification)
    {
      self->verification = other->verification;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VERIFICATION]);
    }

  if (self->blocked != other->blocked)
    {
      self->blocked = other->blocked;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BLOCKED]);
    }

  if (!g_strv_equal ((const char * const *)self->addresses,
                     (const char * const *)other->addresses))
    {
      g_strfreev (self->addresses);
      self->addresses = g_strdupv (other->addresses);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ADDRESSES]);
    }

  g_object_thaw_notify (G_OBJECT (self));
}

gint64
sotto_contact_get_id (SottoContact *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTACT (self), 0);
  return self->id;
}

/**
 * sotto_contact_get_public_key:
 *
 * Returns: (array fixed-size=32): the pinned static key
 */
const guint8 *
sotto_contact_get_public_key (SottoContact *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTACT (self), NULL);
  return self->public_key;
}

/**
 * sotto_contact_get_offered_key:
 *
 * Returns: (array fixed-size=32) (nullable): the key the contact's address
 *   now answers with, while the contact is
 *   %SOTTO_VERIFICATION_KEY_CHANGED and the key is known
 */
const guint8 *
sotto_contact_get_offered_key (SottoContact *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTACT (self), NULL);
  return self->has_offered_key ? self->offered_key : NULL;
}

const char *
sotto_contact_get_display_name (SottoContact *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTACT (self), NULL);
  return self->display_name;
}

const char *
sotto_contact_get_alias (SottoContact *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTACT (self), NULL);
  return self->alias;
}

const char *
sotto_contact_get_name (SottoContact *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTACT (self), NULL);
  return self->alias != NULL ? self->alias : self->display_name;
}

SottoVerification
sotto_contact_get_verification (SottoContact *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTACT (self), SOTTO_VERIFICATION_UNVERIFIED);
  return self->verification;
}

gboolean
sotto_contact_get_blocked (SottoContact *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTACT (self), FALSE);
  return self->blocked;
}

const char * const *
sotto_contact_get_addresses (SottoContact *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTACT (self), NULL);
  return (const char * const *)self->addresses;
}

char *
sotto_contact_dup_fingerprint (SottoContact *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTACT (self), NULL);
  return sotto_fingerprint_for_key (self->public_key);
}

/**
 * sotto_verification_to_string:
 *
 * Returns: a stable, untranslated name, for scripts
 */
const char *
sotto_verification_to_string (SottoVerification verification)
{
  switch (verification)
    {
    case SOTTO_VERIFICATION_VERIFIED:
      return "verified";
    case SOTTO_VERIFICATION_KEY_CHANGED:
      return "key-changed";
    case SOTTO_VERIFICATION_UNVERIFIED:
    default:
      return "unverified";
    }
}
