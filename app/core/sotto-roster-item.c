/* sotto-roster-item.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A contact with what the buddy list shows beside its name: presence,
 * unread count, last activity, typing. Read-only for front ends; the
 * roster (sotto-roster.c) keeps it current, and every property notifies
 * only when its value really changed, so that a row redraws only then.
 */
#define G_LOG_DOMAIN "sotto-roster"

#include "config.h"

#include <string.h>

#include "sotto-roster-item-private.h"
#include "sotto-store.h"

struct _SottoRosterItem
{
  GObject            parent_instance;

  /* owned references */
  SottoContact      *contact;

  /* what front ends see */
  char              *name;
  SottoPresence      presence;
  SottoVerification  verification;
  gboolean           blocked;
  guint              unread;
  gint64             last_activity;
  gboolean           typing;

  /* for the roster's order and filter */
  char              *sort_key;     /* collate key of the folded name: case and accents aside */
  char              *tie_key;      /* collate key of the case-folded name: then accents */
  char              *folded_name;  /* sotto_search_fold () of the name */
  char              *fingerprint;  /* its 30 digits, on first use */
};

G_DEFINE_FINAL_TYPE (SottoRosterItem, sotto_roster_item, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (SottoPresence, sotto_presence,
                    G_DEFINE_ENUM_VALUE (SOTTO_PRESENCE_OFFLINE, "offline"),
                    G_DEFINE_ENUM_VALUE (SOTTO_PRESENCE_AVAILABLE, "available"),
                    G_DEFINE_ENUM_VALUE (SOTTO_PRESENCE_AWAY, "away"))

enum {
  PROP_0,
  PROP_CONTACT,
  PROP_NAME,
  PROP_PRESENCE,
  PROP_VERIFICATION,
  PROP_BLOCKED,
  PROP_UNREAD,
  PROP_LAST_ACTIVITY,
  PROP_TYPING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Sets the name and what is derived from it; %TRUE if it changed. */
static gboolean
set_name (SottoRosterItem *self,
          const char      *name)
{
  g_autofree char *casefolded = NULL;

  if (name == NULL)
    name = "";
  if (g_strcmp0 (self->name, name) == 0)
    return FALSE;

  g_free (self->name);
  self->name = g_strdup (name);

  /* Two keys, so that "Émile" sorts among the e's, before "Eve", in any
   * locale: accents and case only order names that are otherwise the
   * same. */
  g_free (self->folded_name);
  self->folded_name = sotto_search_fold (name);
  g_free (self->sort_key);
  self->sort_key = g_utf8_collate_key (self->folded_name, -1);
  casefolded = g_utf8_casefold (name, -1);
  g_free (self->tie_key);
  self->tie_key = g_utf8_collate_key (casefolded, -1);

  return TRUE;
}

static void
sotto_roster_item_dispose (GObject *object)
{
  SottoRosterItem *self = (SottoRosterItem *)object;

  g_clear_object (&self->contact);

  G_OBJECT_CLASS (sotto_roster_item_parent_class)->dispose (object);
}

static void
sotto_roster_item_finalize (GObject *object)
{
  SottoRosterItem *self = (SottoRosterItem *)object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->sort_key, g_free);
  g_clear_pointer (&self->tie_key, g_free);
  g_clear_pointer (&self->folded_name, g_free);
  g_clear_pointer (&self->fingerprint, g_free);

  G_OBJECT_CLASS (sotto_roster_item_parent_class)->finalize (object);
}

static void
sotto_roster_item_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  SottoRosterItem *self = SOTTO_ROSTER_ITEM (object);

  switch (prop_id)
    {
    case PROP_CONTACT:
      g_value_set_object (value, self->contact);
      break;

    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_PRESENCE:
      g_value_set_enum (value, self->presence);
      break;

    case PROP_VERIFICATION:
      g_value_set_enum (value, self->verification);
      break;

    case PROP_BLOCKED:
      g_value_set_boolean (value, self->blocked);
      break;

    case PROP_UNREAD:
      g_value_set_uint (value, self->unread);
      break;

    case PROP_LAST_ACTIVITY:
      g_value_set_int64 (value, self->last_activity);
      break;

    case PROP_TYPING:
      g_value_set_boolean (value, self->typing);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_roster_item_class_init (SottoRosterItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = sotto_roster_item_dispose;
  object_class->finalize = sotto_roster_item_finalize;
  object_class->get_property = sotto_roster_item_get_property;

  properties[PROP_CONTACT] =
    g_param_spec_object ("contact", NULL, NULL, SOTTO_TYPE_CONTACT, flags);
  /**
   * SottoRosterItem:name:
   *
   * The contact's name (#SottoContact:name), as the list is sorted by it.
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties[PROP_PRESENCE] =
    g_param_spec_enum ("presence", NULL, NULL, SOTTO_TYPE_PRESENCE, SOTTO_PRESENCE_OFFLINE, flags);
  properties[PROP_VERIFICATION] =
    g_param_spec_enum ("verification", NULL, NULL, SOTTO_TYPE_VERIFICATION,
                       SOTTO_VERIFICATION_UNVERIFIED, flags);
  properties[PROP_BLOCKED] =
    g_param_spec_boolean ("blocked", NULL, NULL, FALSE, flags);
  /**
   * SottoRosterItem:unread:
   *
   * Incoming messages not marked read yet (see #SottoRoster for messages
   * received while history is off).
   */
  properties[PROP_UNREAD] =
    g_param_spec_uint ("unread", NULL, NULL, 0, G_MAXUINT, 0, flags);
  /**
   * SottoRosterItem:last-activity:
   *
   * When the newest message was sent or received, µs since the epoch; 0
   * for none.
   */
  properties[PROP_LAST_ACTIVITY] =
    g_param_spec_int64 ("last-activity", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_TYPING] =
    g_param_spec_boolean ("typing", NULL, NULL, FALSE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sotto_roster_item_init (SottoRosterItem *self)
{
  self->presence = SOTTO_PRESENCE_OFFLINE;
}

SottoRosterItem *
_sotto_roster_item_new (SottoContact *contact)
{
  SottoRosterItem *self;

  g_return_val_if_fail (SOTTO_IS_CONTACT (contact), NULL);

  self = g_object_new (SOTTO_TYPE_ROSTER_ITEM, NULL);
  self->contact = g_object_ref (contact);
  set_name (self, sotto_contact_get_name (contact));
  self->verification = sotto_contact_get_verification (contact);
  self->blocked = sotto_contact_get_blocked (contact);

  return self;
}

/* Takes name, verification and blocked from the contact again.
 * Returns: %TRUE if the item's place in the list may have changed */
gboolean
_sotto_roster_item_sync_contact (SottoRosterItem *self)
{
  gboolean moved = FALSE;

  g_object_freeze_notify (G_OBJECT (self));

  if (set_name (self, sotto_contact_get_name (self->contact)))
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
      moved = TRUE;
    }
  if (self->verification != sotto_contact_get_verification (self->contact))
    {
      self->verification = sotto_contact_get_verification (self->contact);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VERIFICATION]);
    }
  if (self->blocked != sotto_contact_get_blocked (self->contact))
    {
      self->blocked = sotto_contact_get_blocked (self->contact);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BLOCKED]);
      moved = TRUE;
    }

  g_object_thaw_notify (G_OBJECT (self));

  return moved;
}

/* Returns: %TRUE if it changed, and with it the item's place */
gboolean
_sotto_roster_item_set_presence (SottoRosterItem *self,
                                 SottoPresence    presence)
{
  if (self->presence == presence)
    return FALSE;

  self->presence = presence;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESENCE]);
  return TRUE;
}

void
_sotto_roster_item_set_unread (SottoRosterItem *self,
                               guint            unread)
{
  if (self->unread == unread)
    return;

  self->unread = unread;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNREAD]);
}

void
_sotto_roster_item_set_last_activity (SottoRosterItem *self,
                                      gint64           last_activity)
{
  last_activity = MAX (last_activity, 0);
  if (self->last_activity == last_activity)
    return;

  self->last_activity = last_activity;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ACTIVITY]);
}

void
_sotto_roster_item_set_typing (SottoRosterItem *self,
                               gboolean         typing)
{
  typing = !!typing;
  if (self->typing == typing)
    return;

  self->typing = typing;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TYPING]);
}

static int
presence_rank (SottoPresence presence)
{
  switch (presence)
    {
    case SOTTO_PRESENCE_AVAILABLE:
      return 0;
    case SOTTO_PRESENCE_AWAY:
      return 1;
    case SOTTO_PRESENCE_OFFLINE:
    default:
      return 2;
    }
}

/* The buddy list's order: blocked contacts last; before them available,
 * away, offline; in each group by name. The id decides between equal
 * names, so that every item has exactly one place. */
int
_sotto_roster_item_compare (SottoRosterItem *a,
                            SottoRosterItem *b)
{
  gint64 id_a;
  gint64 id_b;
  int cmp;

  if (a->blocked != b->blocked)
    return a->blocked ? 1 : -1;
  if ((cmp = presence_rank (a->presence) - presence_rank (b->presence)) != 0)
    return cmp;
  if ((cmp = strcmp (a->sort_key, b->sort_key)) != 0)
    return cmp;
  if ((cmp = strcmp (a->tie_key, b->tie_key)) != 0)
    return cmp;

  id_a = sotto_contact_get_id (a->contact);
  id_b = sotto_contact_get_id (b->contact);
  return id_a < id_b ? -1 : id_a > id_b;
}

/* @folded: sotto_search_fold() of the filter text, or %NULL for any name;
 * @digits: the filter as the start of a fingerprint, or %NULL */
gboolean
_sotto_roster_item_matches (SottoRosterItem *self,
                            const char      *folded,
                            const char      *digits)
{
  if (folded == NULL || strstr (self->folded_name, folded) != NULL)
    return TRUE;
  if (digits == NULL)
    return FALSE;

  if (self->fingerprint == NULL)
    {
      g_autofree char *grouped = sotto_contact_dup_fingerprint (self->contact);

      self->fingerprint = sotto_search_digits_only (grouped);
    }

  return g_str_has_prefix (self->fingerprint, digits);
}

SottoContact *
sotto_roster_item_get_contact (SottoRosterItem *self)
{
  g_return_val_if_fail (SOTTO_IS_ROSTER_ITEM (self), NULL);
  return self->contact;
}

const char *
sotto_roster_item_get_name (SottoRosterItem *self)
{
  g_return_val_if_fail (SOTTO_IS_ROSTER_ITEM (self), NULL);
  return self->name;
}

SottoPresence
sotto_roster_item_get_presence (SottoRosterItem *self)
{
  g_return_val_if_fail (SOTTO_IS_ROSTER_ITEM (self), SOTTO_PRESENCE_OFFLINE);
  return self->presence;
}

SottoVerification
sotto_roster_item_get_verification (SottoRosterItem *self)
{
  g_return_val_if_fail (SOTTO_IS_ROSTER_ITEM (self), SOTTO_VERIFICATION_UNVERIFIED);
  return self->verification;
}

gboolean
sotto_roster_item_get_blocked (SottoRosterItem *self)
{
  g_return_val_if_fail (SOTTO_IS_ROSTER_ITEM (self), FALSE);
  return self->blocked;
}

guint
sotto_roster_item_get_unread (SottoRosterItem *self)
{
  g_return_val_if_fail (SOTTO_IS_ROSTER_ITEM (self), 0);
  return self->unread;
}

gint64
sotto_roster_item_get_last_activity (SottoRosterItem *self)
{
  g_return_val_if_fail (SOTTO_IS_ROSTER_ITEM (self), 0);
  return self->last_activity;
}

gboolean
sotto_roster_item_get_typing (SottoRosterItem *self)
{
  g_return_val_if_fail (SOTTO_IS_ROSTER_ITEM (self), FALSE);
  return self->typing;
}
