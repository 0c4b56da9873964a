/* sotto-peer-service-internal.h — the peer service's state, shared by
 * its files: sotto-peer-service.c (sessions, dialling, delivery) and
 * sotto-peer-groups.c (groups)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-file-transfer.h"
#include "sotto-payload.h"
#include "sotto-peer-service.h"
#include "sotto-policy.h"
#include "sotto-session.h"

G_BEGIN_DECLS

typedef struct _Link Link;

struct _SottoPeerService
{
  GObject           parent_instance;

  /* owned references */
  SottoStore       *store;
  GSettings        *settings;
  GSocketService   *listener;
  GSocketClient    *client;
  GCancellable     *cancellable;
  SottoFileTransfer *files;

  GHashTable       *links;        /* gint64 contact id → Link */
  GPtrArray        *handshaking;  /* sessions the peer started, caller not known yet */
  GHashTable       *handshake_rate; /* address → Rate: handshakes this minute */
  SottoPolicy      *policy;       /* over settings */
  guint             refused_early;  /* connections closed before a handshake */
  GPtrArray        *requests;     /* Request */
  GHashTable       *own_addresses; /* "host:port": answered with our own key, since going online */

  guint             port;         /* configured; 0: any */
  guint             bound_port;   /* 0 while we can't listen */
  guint             told_port;    /* the port property, as last notified */
  char             *listening_on;  /* the addresses bound, "" for all; NULL: none */
  GError           *listen_error; /* why we can't, while online */
  char             *intro;
  SottoStatus       status;
  guint8            presence;     /* SottoPresence, told to every contact */
  guint             backoff_base_ms;
  guint             backoff_max_ms;
  guint             tie_grace_ms;
  gboolean          running;      /* between start() and stop(): online unless invisible */
  gboolean          started;      /* listening and dialling */
  gboolean          stopping;
  guint             prune_source;

  /* groups (sotto-peer-groups.c): records waiting to be judged, one at
   * a time, for each may depend on the one before */
  GQueue            group_inbox;
  gboolean          judging;
  guint             saving_own;   /* changes of ours being written */

  /* giving up on old messages, while running */
  guint             expiry_interval_ms;
  guint             expiry_source;
  GCancellable     *expiry_cancellable;
};

struct _Link
{
  SottoPeerService *service;      /* unowned: the service owns the link */
  gint64            contact_id;
  SottoSession     *session;      /* established, contact mode */
  SottoSession     *outgoing;     /* our dial, in its handshake */
  GCancellable     *dial_cancellable;
  char            **dial_addresses;
  guint             dial_index;
  /* From LAN discovery: addresses dialled first, unproven until the
   * handshake there shows the contact's key (PROTOCOL.md, "Discovery"). */
  GStrv             hints;
  gboolean          verifying;    /* dialling a hint while a session is up */
  gboolean          hints_first;  /* hints came during a dial: they go next */

  guint             attempt;
  guint             retry_source;
  gint64            session_since; /* monotonic time the current session came up */
  gboolean          key_mismatch; /* dial no more until re-verified */
  gboolean          confirmed;    /* the peer has spoken on the session: it took us */
  guint8            presence;     /* SottoPresence the peer last told us on this session */
  gboolean          online_told;  /* contact-online emitted, contact-offline not since */

  /* A young session the peer closed: told only if no other one takes its
   * place within tie_grace_ms (the peer may have closed it to keep the
   * one we both dialled at the same moment, see keep_new_session()). */
  guint             drop_source;
  GError           *drop_reason;

  /* groups, on the current session (sotto-peer-groups.c) */
  guint8            signing_key[SOTTO_SIGNING_KEY_LEN];  /* as the peer sent it */
  gboolean          has_signing_key;
  GHashTable       *answered;     /* group ids (GBytes) answered by rule 3 or 4 */
  GHashTable       *versions;     /* group id (GBytes) → the highest version the peer sent */

  /* delivery on the current session */
  GHashTable       *sent;         /* uid (16 bytes, GBytes) → TRUE */
  GQueue            pending;      /* SottoMessage: to go out, in order, as the session takes them */
  gboolean          flushing;
  gboolean          flush_again;
  gboolean          flushed;
  GByteArray       *receipts;     /* uids to acknowledge, 16 bytes each */
  guint             receipt_source;
};

typedef struct
{
  SottoPeerRequest *info;
  SottoSession     *session;      /* may be closed */
  char             *dial_address; /* its host and listen port; NULL if it does not listen */
  gboolean          handling;     /* being accepted or blocked */
} Request;

/* sotto-peer-service.c, for the other files */
SottoContact *_sotto_peer_ref_contact        (SottoPeerService *self,
                                              gint64            contact_id);
Link         *_sotto_peer_link               (SottoPeerService *self,
                                              gint64            contact_id);
void          _sotto_peer_link_ack           (Link             *link,
                                              const guint8     *uid);
void          _sotto_peer_link_send_or_list  (Link             *link,
                                              SottoContact     *contact,
                                              SottoMessage     *message);
gboolean      _sotto_peer_link_ready         (Link             *link);
void          _sotto_peer_link_resend        (Link             *link);

/* sotto-peer-groups.c */
void          _sotto_peer_groups_class_init   (GObjectClass     *object_class);
gboolean      _sotto_peer_link_speaks_groups  (Link             *link);
void          _sotto_peer_groups_session_ready (Link            *link,
                                               SottoContact     *contact);
void          _sotto_peer_groups_payload      (Link             *link,
                                               SottoContact     *contact,
                                               const SottoPayload *payload);
void          _sotto_peer_groups_stop         (SottoPeerService *self);

G_END_DECLS
