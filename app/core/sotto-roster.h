/* sotto-roster.h — the buddy list: contacts with presence and unread counts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "sotto-peer-service.h"
#include "sotto-roster-item.h"
#include "sotto-store.h"

G_BEGIN_DECLS

/* A contact who said "typing" and then nothing for this long has stopped
 * (the notice that says so may never come: the window closed, the peer
 * went away). */
#define SOTTO_ROSTER_TYPING_TIMEOUT_MS 6000

#define SOTTO_TYPE_ROSTER (sotto_roster_get_type ())

G_DECLARE_FINAL_TYPE (SottoRoster, sotto_roster, SOTTO, ROSTER, GObject)

SottoRoster     *sotto_roster_new                (SottoStore       *store,
                                                  SottoPeerService *service);
void             sotto_roster_set_filter         (SottoRoster      *self,
                                                  const char       *text);
const char      *sotto_roster_get_filter         (SottoRoster      *self);
guint            sotto_roster_get_total_unread   (SottoRoster      *self);
SottoRosterItem *sotto_roster_find               (SottoRoster      *self,
                                                  gint64            contact_id);

G_END_DECLS
