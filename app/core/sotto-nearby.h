/* sotto-nearby.h — a Sotto service that LAN discovery sees
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The discovery id: the first three groups of a fingerprint, without the
 * spaces (PROTOCOL.md, "Discovery on the local network"). */
#define SOTTO_DISCOVERY_ID_DIGITS 15

#define SOTTO_TYPE_NEARBY (sotto_nearby_get_type ())

G_DECLARE_FINAL_TYPE (SottoNearby, sotto_nearby, SOTTO, NEARBY, GObject)

SottoNearby        *sotto_nearby_new                (const char         *id,
                                                     const char         *service_name);
const char         *sotto_nearby_get_id             (SottoNearby        *self);
char               *sotto_nearby_dup_fingerprint    (SottoNearby        *self);
const char         *sotto_nearby_get_service_name   (SottoNearby        *self);
const char         *sotto_nearby_get_name           (SottoNearby        *self);
void                sotto_nearby_set_name           (SottoNearby        *self,
                                                     const char         *name);
const char * const *sotto_nearby_get_addresses      (SottoNearby        *self);
gboolean            sotto_nearby_set_addresses      (SottoNearby        *self,
                                                     const char * const *addresses);
gint64              sotto_nearby_get_contact_id     (SottoNearby        *self);
void                sotto_nearby_set_contact_id     (SottoNearby        *self,
                                                     gint64              contact_id);

JsonNode           *sotto_nearby_to_json            (SottoNearby        *self,
                                                     const char         *contact_name);

char               *sotto_discovery_id_for_key      (const guint8       *public_key);
gboolean            sotto_discovery_id_is_valid     (const char         *id);
char               *sotto_discovery_id_format       (const char         *id);

G_END_DECLS
