/* sotto-group.h — a group the user is in (or was), as the store keeps it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "sotto-group-record.h"

G_BEGIN_DECLS

/* Where the user stands in a group (PROTOCOL.md, "Groups"). */
typedef enum
{
  SOTTO_GROUP_STATUS_MEMBER = 1,   /* listed: sends and receives */
  SOTTO_GROUP_STATUS_LEAVING = 2,  /* left; tells admins until a record drops it */
  SOTTO_GROUP_STATUS_LEFT = 3,     /* left, and no longer listed */
  SOTTO_GROUP_STATUS_REMOVED = 4,  /* an admin's record dropped it */
} SottoGroupStatus;

#define SOTTO_TYPE_GROUP_STATUS (sotto_group_status_get_type ())
#define SOTTO_TYPE_GROUP (sotto_group_get_type ())

GType sotto_group_status_get_type (void) G_GNUC_CONST;

G_DECLARE_FINAL_TYPE (SottoGroup, sotto_group, SOTTO, GROUP, GObject)

gint64                  sotto_group_get_id          (SottoGroup       *self);
const guint8           *sotto_group_get_gid         (SottoGroup       *self);
char                   *sotto_group_dup_gid_hex     (SottoGroup       *self);
const char             *sotto_group_get_name        (SottoGroup       *self);
const SottoGroupRecord *sotto_group_get_record      (SottoGroup       *self);
guint64                 sotto_group_get_version     (SottoGroup       *self);
guint                   sotto_group_get_n_members   (SottoGroup       *self);
SottoGroupStatus        sotto_group_get_status      (SottoGroup       *self);
gboolean                sotto_group_is_active       (SottoGroup       *self);
gboolean                sotto_group_lists           (SottoGroup       *self,
                                                     const guint8     *key);
gboolean                sotto_group_is_admin        (SottoGroup       *self,
                                                     const guint8     *key);
const char             *sotto_group_status_to_string (SottoGroupStatus status);

G_END_DECLS
