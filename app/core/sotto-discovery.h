/* sotto-discovery.h — colleagues on the local network, through Avahi
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "sotto-nearby.h"
#include "sotto-store.h"

G_BEGIN_DECLS

/* See PROTOCOL.md, "Discovery on the local network (DNS-SD)". */
#define SOTTO_DISCOVERY_SERVICE_TYPE  "_sotto._tcp"
#define SOTTO_DISCOVERY_TXT_VERSION   "1"
#define SOTTO_DISCOVERY_PROTOCOL      "1"
/* Instances kept at once, and addresses kept per instance. */
#define SOTTO_DISCOVERY_MAX_SERVICES  256
#define SOTTO_DISCOVERY_MAX_ADDRESSES 8
/* A DNS label, and so an instance name, holds at most this many bytes. */
#define SOTTO_DISCOVERY_MAX_NAME      63
/* How soon a resolver that failed is asked again, and how soon a client
 * that lost the Avahi service looks for it again when Avahi itself does
 * not say (no system bus at all). */
#define SOTTO_DISCOVERY_RESOLVE_RETRY_MS 2000
#define SOTTO_DISCOVERY_RECONNECT_S      30

/**
 * SottoDiscoveryState:
 * @SOTTO_DISCOVERY_STATE_OFF: not started, or `discovery-enabled` is off
 * @SOTTO_DISCOVERY_STATE_STARTING: waiting for the Avahi service to answer
 * @SOTTO_DISCOVERY_STATE_RUNNING: browsing, and publishing while listening
 * @SOTTO_DISCOVERY_STATE_UNAVAILABLE: no Avahi service (or no system bus)
 * @SOTTO_DISCOVERY_STATE_FAILED: Avahi refused; the message says why
 */
typedef enum
{
  SOTTO_DISCOVERY_STATE_OFF,
  SOTTO_DISCOVERY_STATE_STARTING,
  SOTTO_DISCOVERY_STATE_RUNNING,
  SOTTO_DISCOVERY_STATE_UNAVAILABLE,
  SOTTO_DISCOVERY_STATE_FAILED,
} SottoDiscoveryState;

#define SOTTO_TYPE_DISCOVERY_STATE (sotto_discovery_state_get_type ())
GType sotto_discovery_state_get_type (void);

#define SOTTO_TYPE_DISCOVERY (sotto_discovery_get_type ())

G_DECLARE_FINAL_TYPE (SottoDiscovery, sotto_discovery, SOTTO, DISCOVERY, GObject)

SottoDiscovery      *sotto_discovery_new               (SottoStore      *store,
                                                        GSettings       *settings);
void                 sotto_discovery_start             (SottoDiscovery  *self);
void                 sotto_discovery_stop              (SottoDiscovery  *self);
void                 sotto_discovery_set_port          (SottoDiscovery  *self,
                                                        guint            port);
SottoDiscoveryState  sotto_discovery_get_state         (SottoDiscovery  *self);
const char          *sotto_discovery_state_to_string   (SottoDiscoveryState state);
char                *sotto_discovery_dup_state_message (SottoDiscovery  *self);
const char          *sotto_discovery_get_published_name (SottoDiscovery *self);
GListModel          *sotto_discovery_get_services      (SottoDiscovery  *self);
SottoNearby         *sotto_discovery_find              (SottoDiscovery  *self,
                                                        const char      *id);

G_END_DECLS
