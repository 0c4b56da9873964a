/* sotto-payload.h — what travels inside Noise: the hello of the handshake
 * and the typed payloads of a session
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "sotto-message.h"

G_BEGIN_DECLS

/* See PROTOCOL.md, "Sessions". The prologue is mixed into the handshake
 * hash: a peer speaking another major version fails the handshake. */
#define SOTTO_PROTOCOL_NAME      "Noise_XX_25519_ChaChaPoly_BLAKE2b"
#define SOTTO_PROTOCOL_PROLOGUE  "Sotto/1"      /* 7 ASCII bytes, no NUL */
#define SOTTO_PROTOCOL_PROLOGUE_LEN 7
#define SOTTO_PROTOCOL_VERSION   1              /* minor revision carried in the hello */

/* A Noise transport message is at most 65535 bytes, 16 of them the tag. */
#define SOTTO_PAYLOAD_MAX_LEN    (65535 - 16)
#define SOTTO_PAYLOAD_MAX_RECEIPT_IDS 256

#define SOTTO_HELLO_INTRO_MAX_BYTES 1024
#define SOTTO_HELLO_INTRO_MAX_CHARS 280
/* A bound checked before decoding, not the largest valid hello (1299
 * bytes: a 256-byte name and a 1024-byte intro). */
#define SOTTO_HELLO_MAX_LEN      2048

#define SOTTO_PAYLOAD_ERROR (sotto_payload_error_quark ())

typedef enum
{
  SOTTO_PAYLOAD_ERROR_MALFORMED,
} SottoPayloadError;

typedef enum
{
  SOTTO_PAYLOAD_TEXT = 1,
  SOTTO_PAYLOAD_RECEIPT,
  SOTTO_PAYLOAD_TYPING,
  SOTTO_PAYLOAD_PRESENCE,
  SOTTO_PAYLOAD_PING,
  SOTTO_PAYLOAD_PONG,
  SOTTO_PAYLOAD_REQUEST_STATE,
} SottoPayloadKind;

/* Kinds 0x08..0x0F are kept for file transfer; today they decode as unknown. */
#define SOTTO_PAYLOAD_KIND_RESERVED_FIRST 0x08
#define SOTTO_PAYLOAD_KIND_RESERVED_LAST  0x0F

typedef enum
{
  SOTTO_RECEIPT_DELIVERED = 1,
  SOTTO_RECEIPT_READ = 2,
} SottoReceiptState;

/* On the wire only AVAILABLE and AWAY: OFFLINE is what front ends show
 * for a contact without a session, and is malformed in a PRESENCE. */
typedef enum
{
  SOTTO_PRESENCE_OFFLINE = 0,
  SOTTO_PRESENCE_AVAILABLE = 1,
  SOTTO_PRESENCE_AWAY = 2,
} SottoPresence;

typedef enum
{
  SOTTO_REQUEST_PENDING = 1,
  SOTTO_REQUEST_ACCEPTED = 2,
} SottoRequestState;

typedef struct
{
  guint8    kind;           /* the raw kind byte */
  gboolean  known;          /* FALSE: a kind of a later version, no field set */

  /* SOTTO_PAYLOAD_TEXT */
  guint8    uid[SOTTO_MESSAGE_UID_LEN];
  gint64    timestamp;      /* µs since the Unix epoch, UTC, the sender's clock */
  char     *body;
  gpointer  body_storage;   /* if set, the block @body lies in, freed instead of it:
                             * a payload from sotto_payload_decode_take() */

  /* SOTTO_PAYLOAD_RECEIPT */
  guint8    receipt_state;  /* SottoReceiptState */
  guint8   *ids;            /* n_ids × SOTTO_MESSAGE_UID_LEN bytes */
  guint     n_ids;

  /* SOTTO_PAYLOAD_TYPING */
  gboolean  typing;

  /* SOTTO_PAYLOAD_PRESENCE */
  guint8    presence;       /* SottoPresence */

  /* SOTTO_PAYLOAD_PING, SOTTO_PAYLOAD_PONG */
  guint64   cookie;

  /* SOTTO_PAYLOAD_REQUEST_STATE */
  guint8    request_state;  /* SottoRequestState */
} SottoPayload;

typedef struct
{
  guint16  version;         /* the sender's SOTTO_PROTOCOL_VERSION, at least 1 */
  char    *display_name;
  guint16  listen_port;     /* 0: not listening */
  guint64  capabilities;    /* no bit defined yet; unknown bits are ignored */
  char    *intro;           /* "" if none */
} SottoHello;

GQuark        sotto_payload_error_quark     (void);

SottoPayload *sotto_payload_new             (guint8               kind);
SottoPayload *sotto_payload_decode          (const guint8        *data,
                                             gsize                len,
                                             GError             **error);
SottoPayload *sotto_payload_decode_take     (guint8              *data,
                                             gsize                len,
                                             GError             **error);
GBytes       *sotto_payload_encode          (const SottoPayload  *payload,
                                             GError             **error);
gboolean      sotto_payload_encode_to       (const SottoPayload  *payload,
                                             GByteArray          *out,
                                             GError             **error);
gboolean      sotto_payload_equal           (const SottoPayload  *a,
                                             const SottoPayload  *b);
void          sotto_payload_free            (SottoPayload        *payload);
const char   *sotto_payload_kind_to_string  (guint8               kind);

SottoHello   *sotto_hello_decode            (const guint8        *data,
                                             gsize                len,
                                             GError             **error);
GBytes       *sotto_hello_encode            (const SottoHello    *hello,
                                             GError             **error);
gboolean      sotto_hello_check_empty       (const guint8        *data,
                                             gsize                len,
                                             GError             **error);
gboolean      sotto_hello_equal             (const SottoHello    *a,
                                             const SottoHello    *b);
void          sotto_hello_free              (SottoHello          *hello);

gboolean      sotto_intro_validate          (const char          *intro,
                                             GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoPayload, sotto_payload_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoHello, sotto_hello_free)

G_END_DECLS
