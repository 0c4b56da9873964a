/* sotto-roster-item-private.h — what only the roster may change
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-roster-item.h"

G_BEGIN_DECLS

SottoRosterItem *_sotto_roster_item_new               (SottoContact    *contact);
gboolean         _sotto_roster_item_sync_contact      (SottoRosterItem *self);
gboolean         _sotto_roster_item_set_presence      (SottoRosterItem *self,
                                                       SottoPresence    presence);
void             _sotto_roster_item_set_unread        (SottoRosterItem *self,
                                                       guint            unread);
void             _sotto_roster_item_set_last_activity (SottoRosterItem *self,
                                                       gint64           last_activity);
void             _sotto_roster_item_set_typing        (SottoRosterItem *self,
                                                       gboolean         typing);
int              _sotto_roster_item_compare           (SottoRosterItem *a,
                                                       SottoRosterItem *b);
gboolean         _sotto_roster_item_matches           (SottoRosterItem *self,
                                                       const char      *folded,
                                                       const char      *digits);

G_END_DECLS
