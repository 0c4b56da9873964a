/* sotto-roster-item.h — one contact as the buddy list shows it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "sotto-contact.h"
#include "sotto-payload.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_PRESENCE (sotto_presence_get_type ())
GType sotto_presence_get_type (void);

#define SOTTO_TYPE_ROSTER_ITEM (sotto_roster_item_get_type ())

G_DECLARE_FINAL_TYPE (SottoRosterItem, sotto_roster_item, SOTTO, ROSTER_ITEM, GObject)

SottoContact      *sotto_roster_item_get_contact       (SottoRosterItem *self);
const char        *sotto_roster_item_get_name          (SottoRosterItem *self);
SottoPresence      sotto_roster_item_get_presence      (SottoRosterItem *self);
SottoVerification  sotto_roster_item_get_verification  (SottoRosterItem *self);
gboolean           sotto_roster_item_get_blocked       (SottoRosterItem *self);
guint              sotto_roster_item_get_unread        (SottoRosterItem *self);
gint64             sotto_roster_item_get_last_activity (SottoRosterItem *self);
gboolean           sotto_roster_item_get_typing        (SottoRosterItem *self);

G_END_DECLS
