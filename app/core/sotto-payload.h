/* sotto-payload.h — what travels inside Noise: the hello of the handshake
 * and the typed payloads of a session
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "sotto-group-record.h"
#include "sotto-message.h"

G_BEGIN_DECLS

/* See PROTOCOL.md, "Sessions". The prologue is mixed into the handshake
 * hash: a peer speaking another major version fails the handshake. */
#define SOTTO_PROTOCOL_NAME      "Noise_XX_25519_ChaChaPoly_BLAKE2b"
#define SOTTO_PROTOCOL_PROLOGUE  "Sotto/1"      /* 7 ASCII bytes, no NUL */
#define SOTTO_PROTOCOL_PROLOGUE_LEN 7
#define SOTTO_PROTOCOL_VERSION   3              /* minor revision carried in the hello */

/* Hello capability bits (PROTOCOL.md, "The hello"). */
#define SOTTO_CAPABILITY_FILES   (G_GUINT64_CONSTANT (1) << 0)  /* kinds 0x08..0x0C */
#define SOTTO_CAPABILITY_GROUPS  (G_GUINT64_CONSTANT (1) << 1)  /* kinds 0x10..0x14 */

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

  SOTTO_PAYLOAD_FILE_OFFER,
  SOTTO_PAYLOAD_FILE_ACCEPT,
  SOTTO_PAYLOAD_FILE_CANCEL,
  SOTTO_PAYLOAD_FILE_CHUNK,
  SOTTO_PAYLOAD_FILE_DONE,

  SOTTO_PAYLOAD_SIGNING_KEY = 0x10,
  SOTTO_PAYLOAD_GROUP_RECORD,
  SOTTO_PAYLOAD_GROUP_TEXT,
  SOTTO_PAYLOAD_GROUP_LEAVE,
  SOTTO_PAYLOAD_GROUP_TYPING,
} SottoPayloadKind;

/* Kinds 0x0D..0x0F are kept for files too; today they decode as unknown. */
#define SOTTO_PAYLOAD_KIND_RESERVED_FIRST 0x0D
#define SOTTO_PAYLOAD_KIND_RESERVED_LAST  0x0F

/* Files (PROTOCOL.md, "Files"). */
#define SOTTO_FILE_ID_LEN      16
#define SOTTO_FILE_HASH_LEN    64                      /* BLAKE2b-512 of the content */
#define SOTTO_FILE_HEAD_MAX    4096                    /* the offer's first bytes */
#define SOTTO_FILE_OFFER_NAME_MAX 1024                 /* bytes of UTF-8, as offered */
#define SOTTO_FILE_TYPE_MAX    255                     /* bytes of printable ASCII */
#define SOTTO_FILE_SIZE_MAX    (G_GUINT64_CONSTANT (1) << 53)
#define SOTTO_FILE_CHUNK_MAX   61440                   /* data bytes in one FILE_CHUNK */
/* A sender stays within this many bytes past the receiver's latest
 * FILE_ACCEPT; the receiver moves it on every SOTTO_FILE_ACCEPT_STEP. */
#define SOTTO_FILE_WINDOW      (4 * 1024 * 1024)
#define SOTTO_FILE_ACCEPT_STEP (1024 * 1024)

typedef enum
{
  SOTTO_FILE_CANCEL_DECLINED = 1,
  SOTTO_FILE_CANCEL_CANCELLED,
  SOTTO_FILE_CANCEL_NOT_ALLOWED,
  SOTTO_FILE_CANCEL_TOO_LARGE,
  SOTTO_FILE_CANCEL_DAMAGED,
  SOTTO_FILE_CANCEL_UNAVAILABLE,
  SOTTO_FILE_CANCEL_STORAGE,
} SottoFileCancelReason;

#define SOTTO_FILE_CANCEL_LAST SOTTO_FILE_CANCEL_STORAGE

typedef enum
{
  SOTTO_FILE_DONE_RECEIVED = 1,
  SOTTO_FILE_DONE_INFECTED = 2,
} SottoFileDoneResult;

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
  /* SOTTO_PAYLOAD_FILE_*: the transfer. FILE_CANCEL and FILE_DONE carry
   * their own message id in @uid; FILE_OFFER's id is @file_id, and its
   * timestamp is @timestamp. */
  guint8    file_id[SOTTO_FILE_ID_LEN];
  /* SOTTO_PAYLOAD_FILE_OFFER */
  char     *file_name;
  guint64   file_size;
  guint8    file_hash[SOTTO_FILE_HASH_LEN];
  guint8   *file_head;      /* file_head_len bytes: MIN (file_size, SOTTO_FILE_HEAD_MAX) */
  gsize     file_head_len;
  char     *file_type;      /* declared media type, "" if none */
  /* SOTTO_PAYLOAD_FILE_ACCEPT, SOTTO_PAYLOAD_FILE_CHUNK */
  guint64   file_offset;
  /* SOTTO_PAYLOAD_FILE_CHUNK: @chunk_len bytes at @chunk, which lies in
   * @body_storage when the payload took its plaintext, else is owned */
  const guint8 *chunk;
  gsize     chunk_len;
  /* SOTTO_PAYLOAD_FILE_CANCEL (SottoFileCancelReason),
   * SOTTO_PAYLOAD_FILE_DONE (SottoFileDoneResult) */
  guint8    file_reason;

  /* SOTTO_PAYLOAD_SIGNING_KEY */
  guint8    signing_key[SOTTO_SIGNING_KEY_LEN];
  /* SOTTO_PAYLOAD_GROUP_TEXT (with @uid, @timestamp, @body),
   * SOTTO_PAYLOAD_GROUP_LEAVE, SOTTO_PAYLOAD_GROUP_TYPING (with @typing) */
  guint8    group_id[SOTTO_GROUP_ID_LEN];
  /* SOTTO_PAYLOAD_GROUP_RECORD: parsed and checked, its signature in it
   * (not verified: that takes a key the receiver trusts) */
  SottoGroupRecord *group_record;
} SottoPayload;

typedef struct
{
  guint16  version;         /* the sender's SOTTO_PROTOCOL_VERSION, at least 1 */
  char    *display_name;
  guint16  listen_port;     /* 0: not listening */
  guint64  capabilities;    /* SOTTO_CAPABILITY_*; unknown bits are ignored */
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
