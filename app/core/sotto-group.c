/* sotto-group.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A group as front ends see it: its current record and where the user
 * stands. Only the store makes and changes them (sotto-group-private.h).
 */
#define G_LOG_DOMAIN "sotto-group"

#include "config.h"

#include <string.h>

#include "sotto-group-private.h"

struct _SottoGroup
{
  GObject parent_instance;

  gint64            id;
  SottoGroupRecord *record;
  SottoGroupStatus  status;
};

G_DEFINE_FINAL_TYPE (SottoGroup, sotto_group, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (SottoGroupStatus, sotto_group_status,
                    G_DEFINE_ENUM_VALUE (SOTTO_GROUP_STATUS_MEMBER, "member"),
                    G_DEFINE_ENUM_VALUE (SOTTO_GROUP_STATUS_LEAVING, "leaving"),
                    G_DEFINE_ENUM_VALUE (SOTTO_GROUP_STATUS_LEFT, "left"),
                    G_DEFINE_ENUM_VALUE (SOTTO_GROUP_STATUS_REMOVED, "removed"))

enum {
  PROP_0,
  PROP_NAME,
  PROP_STATUS,
  PROP_VERSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
sotto_group_finalize (GObject *object)
{
  SottoGroup *self = (SottoGroup *)object;

  g_clear_pointer (&self->record, sotto_group_record_free);

  G_OBJECT_CLASS (sotto_group_parent_class)->finalize (object);
}

static void
sotto_group_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  SottoGroup *self = SOTTO_GROUP (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->record->name);
      break;
    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;
    case PROP_VERSION:
      g_value_set_uint64 (value, self->record->version);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_group_class_init (SottoGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sotto_group_finalize;
  object_class->get_property = sotto_group_get_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATUS] =
    g_param_spec_enum ("status", NULL, NULL, SOTTO_TYPE_GROUP_STATUS, SOTTO_GROUP_STATUS_MEMBER,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_VERSION] =
    g_param_spec_uint64 ("version", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sotto_group_init (SottoGroup *self)
{
}

SottoGroup *
_sotto_group_new (gint64                  id,
                  const SottoGroupRecord *record,
                  SottoGroupStatus        status)
{
  SottoGroup *self = g_object_new (SOTTO_TYPE_GROUP, NULL);

  self->id = id;
  self->record = sotto_group_record_copy (record);
  self->status = status;
  return self;
}

/* Takes what @other says; notifies what changed. */
void
_sotto_group_update_from (SottoGroup *self,
                          SottoGroup *other)
{
  gboolean renamed, moved, newer;

  g_return_if_fail (SOTTO_IS_GROUP (self));
  g_return_if_fail (SOTTO_IS_GROUP (other));
  g_return_if_fail (self->id == other->id);

  renamed = g_strcmp0 (self->record->name, other->record->name) != 0;
  newer = !sotto_group_record_same (self->record, other->record);
  moved = self->status != other->status;

  g_clear_pointer (&self->record, sotto_group_record_free);
  self->record = sotto_group_record_copy (other->record);
  self->status = other->status;

  if (renamed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
  if (moved)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
  if (newer)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VERSION]);
}

gint64
sotto_group_get_id (SottoGroup *self)
{
  g_return_val_if_fail (SOTTO_IS_GROUP (self), 0);

  return self->id;
}

/**
 * sotto_group_get_gid:
 *
 * Returns: (array fixed-size=16): the group's id on the wire
 */
const guint8 *
sotto_group_get_gid (SottoGroup *self)
{
  g_return_val_if_fail (SOTTO_IS_GROUP (self), NULL);

  return self->record->group_id;
}

char *
sotto_group_dup_gid_hex (SottoGroup *self)
{
  g_return_val_if_fail (SOTTO_IS_GROUP (self), NULL);

  return sotto_group_id_to_hex (self->record->group_id);
}

const char *
sotto_group_get_name (SottoGroup *self)
{
  g_return_val_if_fail (SOTTO_IS_GROUP (self), NULL);

  return self->record->name;
}

/**
 * sotto_group_get_record:
 *
 * Returns: (transfer none): the current record, signed
 */
const SottoGroupRecord *
sotto_group_get_record (SottoGroup *self)
{
  g_return_val_if_fail (SOTTO_IS_GROUP (self), NULL);

  return self->record;
}

guint64
sotto_group_get_version (SottoGroup *self)
{
  g_return_val_if_fail (SOTTO_IS_GROUP (self), 0);

  return self->record->version;
}

guint
sotto_group_get_n_members (SottoGroup *self)
{
  g_return_val_if_fail (SOTTO_IS_GROUP (self), 0);

  return self->record->members->len;
}

SottoGroupStatus
sotto_group_get_status (SottoGroup *self)
{
  g_return_val_if_fail (SOTTO_IS_GROUP (self), SOTTO_GROUP_STATUS_REMOVED);

  return self->status;
}

/**
 * sotto_group_is_active:
 *
 * Returns: whether the user is in the group: it sends and receives
 */
gboolean
sotto_group_is_active (SottoGroup *self)
{
  g_return_val_if_fail (SOTTO_IS_GROUP (self), FALSE);

  return self->status == SOTTO_GROUP_STATUS_MEMBER;
}

gboolean
sotto_group_lists (SottoGroup   *self,
                   const guint8 *key)
{
  g_return_val_if_fail (SOTTO_IS_GROUP (self), FALSE);

  return sotto_group_record_find_member (self->record, key) != NULL;
}

gboolean
sotto_group_is_admin (SottoGroup   *self,
                      const guint8 *key)
{
  g_return_val_if_fail (SOTTO_IS_GROUP (self), FALSE);

  return sotto_group_record_is_admin (self->record, key);
}

const char *
sotto_group_status_to_string (SottoGroupStatus status)
{
  switch (status)
    {
    case SOTTO_GROUP_STATUS_MEMBER:  return "member";
    case SOTTO_GROUP_STATUS_LEAVING: return "leaving";
    case SOTTO_GROUP_STATUS_LEFT:    return "left";
    case SOTTO_GROUP_STATUS_REMOVED: return "removed";
    default:                         return "unknown";
    }
}
