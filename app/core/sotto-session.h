/* sotto-session.h — one authenticated connection to a peer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "sotto-identity.h"
#include "sotto-payload.h"

G_BEGIN_DECLS

/* See PROTOCOL.md, "Sessions". */
#define SOTTO_SESSION_HANDSHAKE_TIMEOUT_MS 10000
#define SOTTO_SESSION_KEEPALIVE_MS         20000
#define SOTTO_SESSION_IDLE_TIMEOUT_MS      60000
/* Message 1 is exactly 32 bytes; messages 2 and 3 carry a hello of at most
 * SOTTO_HELLO_MAX_LEN bytes plus keys and tags. */
#define SOTTO_SESSION_HANDSHAKE_FRAME_MAX  (32 + 48 + SOTTO_HELLO_MAX_LEN + 16)
/* Outgoing bytes a session holds for a peer that does not read. */
#define SOTTO_SESSION_MAX_QUEUED_BYTES     (8 * 1024 * 1024)
/* Each direction rekeys after this many transport messages or bytes. */
#define SOTTO_REKEY_MESSAGES               10000
#define SOTTO_REKEY_BYTES                  (64 * 1024 * 1024)

#define SOTTO_SESSION_ERROR (sotto_session_error_quark ())

typedef enum
{
  SOTTO_SESSION_ERROR_CLOSED,        /* closed on this side */
  SOTTO_SESSION_ERROR_PEER_CLOSED,   /* the peer closed the connection */
  SOTTO_SESSION_ERROR_TIMEOUT,       /* handshake too slow, or the peer went silent */
  SOTTO_SESSION_ERROR_PROTOCOL,      /* malformed frame or payload */
  SOTTO_SESSION_ERROR_CRYPTO,        /* handshake or transport decryption failed */
  SOTTO_SESSION_ERROR_KEY_MISMATCH,  /* the responder's key is not the pinned one */
  SOTTO_SESSION_ERROR_REFUSED,       /* the initiator's key is not welcome */
  SOTTO_SESSION_ERROR_OVERLOADED,    /* the peer does not read what we send */
  SOTTO_SESSION_ERROR_IO,
} SottoSessionError;

typedef enum
{
  SOTTO_SESSION_MODE_REFUSE,
  SOTTO_SESSION_MODE_CONTACT,        /* everything flows */
  SOTTO_SESSION_MODE_REQUEST,        /* a stranger: only its hello's intro counts */
} SottoSessionMode;

#define SOTTO_TYPE_SESSION (sotto_session_get_type ())

G_DECLARE_FINAL_TYPE (SottoSession, sotto_session, SOTTO, SESSION, GObject)

/* Decides, when a responder has learned who called, what the session is. */
typedef SottoSessionMode (*SottoSessionAuthFunc) (SottoSession     *session,
                                                  const guint8     *remote_key,
                                                  const SottoHello *remote_hello,
                                                  gpointer          user_data);

GQuark            sotto_session_error_quark         (void);

SottoSession     *sotto_session_new                 (GSocketConnection    *connection,
                                                     SottoIdentity        *identity,
                                                     const SottoHello     *hello,
                                                     const guint8         *expected_key);
SottoSession     *sotto_session_new_for_fd          (int                   fd,
                                                     SottoIdentity        *identity,
                                                     const SottoHello     *hello,
                                                     const guint8         *expected_key);
void              sotto_session_set_auth_func       (SottoSession         *self,
                                                     SottoSessionAuthFunc  func,
                                                     gpointer              user_data);
void              sotto_session_start               (SottoSession         *self);

gboolean          sotto_session_is_initiator        (SottoSession         *self);
gboolean          sotto_session_is_established      (SottoSession         *self);
gboolean          sotto_session_is_closed           (SottoSession         *self);
SottoSessionMode  sotto_session_get_mode            (SottoSession         *self);
void              sotto_session_set_mode            (SottoSession         *self,
                                                     SottoSessionMode      mode);
const guint8     *sotto_session_get_remote_key      (SottoSession         *self);
const SottoHello *sotto_session_get_remote_hello    (SottoSession         *self);
GInetSocketAddress *sotto_session_get_remote_address (SottoSession        *self);
GInetSocketAddress *sotto_session_get_local_address  (SottoSession        *self);
gint64            sotto_session_get_established_time (SottoSession        *self);
gsize             sotto_session_get_unsent_bytes    (SottoSession         *self);

gboolean          sotto_session_send                (SottoSession         *self,
                                                     const SottoPayload   *payload,
                                                     GError              **error);
void              sotto_session_close               (SottoSession         *self,
                                                     const GError         *reason);

G_END_DECLS
