/* sotto-peer-service.h — listener, dialer and delivery for one profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "sotto-contact.h"
#include "sotto-file-transfer.h"
#include "sotto-message.h"
#include "sotto-payload.h"
#include "sotto-store.h"

G_BEGIN_DECLS

/* See PROTOCOL.md, "Connections". */
#define SOTTO_PEER_DEFAULT_PORT        47300
#define SOTTO_PEER_CONNECT_TIMEOUT_S   5
#define SOTTO_PEER_BACKOFF_BASE_MS     1000
#define SOTTO_PEER_BACKOFF_MAX_MS      60000
/* Two sessions for one contact established this close together were
 * dialled at once: both ends keep the same one (see PROTOCOL.md). */
#define SOTTO_PEER_TIE_WINDOW_MS       10000
/* A young session the peer closes is told as dropped only when no other
 * session with that contact comes up within this long: the peer may have
 * closed it because it keeps the one we dialled at the same moment. */
#define SOTTO_PEER_TIE_GRACE_MS        2000
/* Messages from the outbox are written to a session while it holds less
 * than this many unsent bytes (see PROTOCOL.md, "Delivery"): far below
 * SOTTO_SESSION_MAX_QUEUED_BYTES, which closes a session. */
#define SOTTO_PEER_SEND_WINDOW         (1024 * 1024)
/* Contact requests held at once: a new one beyond them drops the oldest. */
#define SOTTO_PEER_MAX_REQUESTS        32
/* Connections whose caller is not known yet (the handshake has not
 * finished), at once: in total (beyond it the oldest is dropped, so that
 * a contact's new handshake always gets in), and from one address (beyond
 * it new ones are closed at once); and handshakes one address may start
 * in a minute. All before any Diffie-Hellman work. */
#define SOTTO_PEER_MAX_HANDSHAKING             64
#define SOTTO_PEER_MAX_HANDSHAKING_PER_ADDRESS 8
#define SOTTO_PEER_HANDSHAKES_PER_MINUTE       120
/* Connections the kernel may hold for us before we accept them. GLib's
 * default, 10, overflows under a flood: the kernel then drops a caller's
 * last handshake packet, and a contact's connection waits for its
 * retransmission (a silent caller, never accepted, looks open to itself
 * until the kernel gives up on it). The kernel caps it at somaxconn. */
#define SOTTO_PEER_LISTEN_BACKLOG      1024
/* A request nobody answered is dropped after this long. */
#define SOTTO_PEER_REQUEST_EXPIRY_DAYS 7
/* An ignored stranger is refused, without a request, for this long. */
#define SOTTO_PEER_IGNORE_DAYS         30
/* How often a running service gives up on messages that have waited longer
 * than SOTTO_OUTBOX_EXPIRY_DAYS (and once on starting): the limit is in
 * days, so an hour late is close enough, and costs one query an hour. */
#define SOTTO_PEER_EXPIRY_INTERVAL_S   3600

/**
 * SottoStatus:
 * @SOTTO_STATUS_AVAILABLE: online, and contacts are told so
 * @SOTTO_STATUS_AWAY: online, and contacts are told we are away
 * @SOTTO_STATUS_INVISIBLE: appear offline: no listening, no dialling, no
 *   session; messages wait in the outbox
 *
 * Our own status, as the user chose it.
 */
typedef enum
{
  SOTTO_STATUS_AVAILABLE,
  SOTTO_STATUS_AWAY,
  SOTTO_STATUS_INVISIBLE,
} SottoStatus;

#define SOTTO_TYPE_STATUS (sotto_status_get_type ())
GType sotto_status_get_type (void);

#define SOTTO_TYPE_PEER_SERVICE (sotto_peer_service_get_type ())

/* What an admin does to a group (sotto_peer_service_change_group_async()). */
typedef enum
{
  SOTTO_GROUP_CHANGE_ADD,
  SOTTO_GROUP_CHANGE_REMOVE,
  SOTTO_GROUP_CHANGE_ADMIN,
  SOTTO_GROUP_CHANGE_RENAME,
} SottoGroupChange;

G_DECLARE_FINAL_TYPE (SottoPeerService, sotto_peer_service, SOTTO, PEER_SERVICE, GObject)

SottoPeerService *sotto_peer_service_new               (SottoStore           *store,
                                                        GSettings            *settings);
void              sotto_peer_service_set_port          (SottoPeerService     *self,
                                                        guint                 port);
gboolean          sotto_peer_service_change_port       (SottoPeerService     *self,
                                                        guint                 port,
                                                        GError              **error);
void              sotto_peer_service_set_intro         (SottoPeerService     *self,
                                                        const char           *intro);
gboolean          sotto_peer_service_start             (SottoPeerService     *self,
                                                        GError              **error);
void              sotto_peer_service_stop              (SottoPeerService     *self);
guint             sotto_peer_service_get_port          (SottoPeerService     *self);
const GError     *sotto_peer_service_get_listen_error  (SottoPeerService     *self);
SottoStore       *sotto_peer_service_get_store         (SottoPeerService     *self);
SottoFileTransfer *sotto_peer_service_get_files        (SottoPeerService     *self);

gboolean          sotto_peer_service_is_online         (SottoPeerService     *self,
                                                        SottoContact         *contact);
void              sotto_peer_service_connect           (SottoPeerService     *self,
                                                        SottoContact         *contact);
void              sotto_peer_service_deliver           (SottoPeerService     *self,
                                                        SottoContact         *contact);
void              sotto_peer_service_hint_addresses    (SottoPeerService     *self,
                                                        SottoContact         *contact,
                                                        const char * const   *addresses);
void              sotto_peer_service_probe_async       (SottoPeerService     *self,
                                                        const char           *address,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
GBytes           *sotto_peer_service_probe_finish      (SottoPeerService     *self,
                                                        GAsyncResult         *result,
                                                        char                **out_name,
                                                        GError              **error);

void              sotto_peer_service_send_async        (SottoPeerService     *self,
                                                        SottoContact         *contact,
                                                        const char           *body,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
SottoMessage     *sotto_peer_service_send_finish       (SottoPeerService     *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);
void              sotto_peer_service_create_group_async (SottoPeerService    *self,
                                                         const char          *name,
                                                         GPtrArray           *members,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
void              sotto_peer_service_change_group_async (SottoPeerService    *self,
                                                         SottoGroup          *group,
                                                         SottoGroupChange     change,
                                                         GPtrArray           *members,
                                                         const char          *name,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
void              sotto_peer_service_leave_group_async  (SottoPeerService    *self,
                                                         SottoGroup          *group,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
SottoGroup       *sotto_peer_service_change_group_finish (SottoPeerService   *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
void              sotto_peer_service_delete_group_async (SottoPeerService    *self,
                                                         SottoGroup          *group,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean          sotto_peer_service_delete_group_finish (SottoPeerService   *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
void              sotto_peer_service_send_group_async   (SottoPeerService    *self,
                                                         SottoGroup          *group,
                                                         const char          *body,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
SottoMessage     *sotto_peer_service_send_group_finish  (SottoPeerService    *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
void              sotto_peer_service_retry_async       (SottoPeerService     *self,
                                                        SottoMessage         *message,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
gboolean          sotto_peer_service_retry_finish      (SottoPeerService     *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);
void              sotto_peer_service_mark_read_async   (SottoPeerService     *self,
                                                        SottoContact         *contact,
                                                        gint64                up_to_id,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
GPtrArray        *sotto_peer_service_mark_read_finish  (SottoPeerService     *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);

void              sotto_peer_service_set_presence      (SottoPeerService     *self,
                                                        guint                 presence);
gboolean          sotto_peer_service_set_status        (SottoPeerService     *self,
                                                        SottoStatus           status,
                                                        GError              **error);
SottoStatus       sotto_peer_service_get_status        (SottoPeerService     *self);
SottoPresence     sotto_peer_service_get_contact_presence (SottoPeerService  *self,
                                                        SottoContact         *contact);
gboolean          sotto_peer_service_send_typing       (SottoPeerService     *self,
                                                        SottoContact         *contact,
                                                        gboolean              typing);

GPtrArray        *sotto_peer_service_list_requests     (SottoPeerService     *self);
void              sotto_peer_service_accept_request_async (SottoPeerService  *self,
                                                        const guint8         *public_key,
                                                        const char           *alias,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
SottoContact     *sotto_peer_service_accept_request_finish (SottoPeerService *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);
void              sotto_peer_service_block_request_async (SottoPeerService   *self,
                                                        const guint8         *public_key,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
gboolean          sotto_peer_service_block_request_finish (SottoPeerService  *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);
gboolean          sotto_peer_service_ignore_request    (SottoPeerService     *self,
                                                        const guint8         *public_key);

/* What sotto_peer_service_list_requests() returns: a stranger waiting. */
typedef struct
{
  guint8  public_key[32];
  char   *display_name;
  char   *intro;
  char   *address;          /* where it connects from, "host:port" */
  gint64  received;         /* µs since the epoch */
} SottoPeerRequest;


void              sotto_peer_request_free              (SottoPeerRequest     *request);
gboolean          sotto_peer_request_matches           (const SottoPeerRequest *request,
                                                        const char             *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoPeerRequest, sotto_peer_request_free)

G_END_DECLS
