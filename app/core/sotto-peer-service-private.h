/* sotto-peer-service-private.h — entry points for tests only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-peer-service.h"

G_BEGIN_DECLS

void sotto_peer_service_set_backoff         (SottoPeerService *self,
                                             guint             base_ms,
                                             guint             max_ms);
void sotto_peer_service_set_tie_grace      (SottoPeerService *self,
                                             guint             grace_ms);
void sotto_peer_service_set_expiry_interval (SottoPeerService *self,
                                             guint             interval_ms);
guint sotto_peer_service_count_handshaking  (SottoPeerService *self);
guint sotto_peer_service_count_refused_early (SottoPeerService *self);
void sotto_peer_service_age_requests        (SottoPeerService *self,
                                             gint64            usec);

G_END_DECLS
