/* sotto-payload.c
 *
 * Decrypted bytes from a peer are still the peer's bytes. Each kind has
 * exactly one GVariant type, and a payload is only read once GLib has
 * confirmed that the bytes are that type's normal form: every offset and
 * length inside then lies within the data, and the same value has one
 * spelling only. The fields are checked against the same rules for what
 * we decode and what we encode, so we never send what a peer would refuse.
 * TEXT and the hello, the hot paths, are also written and read by hand;
 * those accept only what GLib accepts, and leave the rest to it.
 *
 * Error messages are plain, untranslated strings: they end up in the log
 * as the reason a session was closed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-payload"

#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <sodium.h>

#include "sotto-identity.h"
#include "sotto-payload-private.h"
#include "sotto-text.h"

/* The kind byte before the serialized variant. */
#define KIND_LEN 1

#define TEXT_TYPE          "(ayxs)"
#define RECEIPT_TYPE       "(yaay)"
#define TYPING_TYPE        "b"
#define PRESENCE_TYPE      "y"
#define PING_TYPE          "t"
#define REQUEST_STATE_TYPE "y"
#define FILE_OFFER_TYPE    "(ayxstayays)"
#define FILE_ACCEPT_TYPE   "(ayt)"
#define FILE_CANCEL_TYPE   "(ayayy)"
#define FILE_CHUNK_TYPE    "(aytay)"
#define FILE_DONE_TYPE     "(ayayy)"
#define HELLO_TYPE         "(qsqts)"
#define SIGNING_KEY_TYPE   "ay"
#define GROUP_RECORD_TYPE  "(ayay)"
#define GROUP_TEXT_TYPE    "(ayayxs)"
#define GROUP_LEAVE_TYPE   "ay"
#define GROUP_TYPING_TYPE  "(ayb)"

G_STATIC_ASSERT (sizeof SOTTO_PROTOCOL_PROLOGUE - 1 == SOTTO_PROTOCOL_PROLOGUE_LEN);
/* The largest payload we can build, a TEXT with the longest body (kind,
 * id, timestamp, body and its NUL, one 2-byte framing offset), fits. */
G_STATIC_ASSERT (KIND_LEN + SOTTO_MESSAGE_UID_LEN + 8 + SOTTO_MESSAGE_BODY_MAX + 1 + 2
                 <= SOTTO_PAYLOAD_MAX_LEN);
/* So does the largest receipt: state, ids, a 2-byte offset for each. */
G_STATIC_ASSERT (KIND_LEN + 1 + SOTTO_PAYLOAD_MAX_RECEIPT_IDS * (SOTTO_MESSAGE_UID_LEN + 2)
                 <= SOTTO_PAYLOAD_MAX_LEN);
/* And the largest file offer: id, timestamp, name and its NUL, pad, size,
 * hash, head, type and its NUL, four 2-byte offsets. */
G_STATIC_ASSERT (KIND_LEN + SOTTO_FILE_ID_LEN + 8 + SOTTO_FILE_OFFER_NAME_MAX + 1 + 7 + 8 +
                 SOTTO_FILE_HASH_LEN + SOTTO_FILE_HEAD_MAX + SOTTO_FILE_TYPE_MAX + 1 + 4 * 2
                 <= SOTTO_PAYLOAD_MAX_LEN);
/* And the largest chunk: id, offset, data, one 2-byte offset. */
G_STATIC_ASSERT (KIND_LEN + SOTTO_FILE_ID_LEN + 8 + SOTTO_FILE_CHUNK_MAX + 2
                 <= SOTTO_PAYLOAD_MAX_LEN);
G_STATIC_ASSERT (SOTTO_FILE_ID_LEN == SOTTO_MESSAGE_UID_LEN);
/* And the largest group record: the record, its signature, one 2-byte
 * offset; a group text is a text with 16 more bytes and one more offset. */
G_STATIC_ASSERT (KIND_LEN + SOTTO_GROUP_RECORD_MAX_LEN + SOTTO_SIGNATURE_LEN + 2
                 == SOTTO_PAYLOAD_MAX_LEN);
G_STATIC_ASSERT (KIND_LEN + SOTTO_GROUP_ID_LEN + SOTTO_MESSAGE_UID_LEN + 8 +
                 SOTTO_MESSAGE_BODY_MAX + 1 + 2 * 2 <= SOTTO_PAYLOAD_MAX_LEN);
/* And the largest hello: version, name, pad, port, pad, capabilities,
 * intro, one 2-byte offset = 1299 bytes. */
G_STATIC_ASSERT (2 + SOTTO_DISPLAY_NAME_MAX_BYTES + 1 + 1 + 2 + 2 + 8 +
                 SOTTO_HELLO_INTRO_MAX_BYTES + 1 + 2 <= SOTTO_HELLO_MAX_LEN);

typedef struct
{
  const char *name;
  const char *type;
} KindInfo;

static const KindInfo kinds[] = {
  [SOTTO_PAYLOAD_TEXT]          = { "text", TEXT_TYPE },
  [SOTTO_PAYLOAD_RECEIPT]       = { "receipt", RECEIPT_TYPE },
  [SOTTO_PAYLOAD_TYPING]        = { "typing", TYPING_TYPE },
  [SOTTO_PAYLOAD_PRESENCE]      = { "presence", PRESENCE_TYPE },
  [SOTTO_PAYLOAD_PING]          = { "ping", PING_TYPE },
  [SOTTO_PAYLOAD_PONG]          = { "pong", PING_TYPE },
  [SOTTO_PAYLOAD_REQUEST_STATE] = { "request-state", REQUEST_STATE_TYPE },
  [SOTTO_PAYLOAD_FILE_OFFER]    = { "file-offer", FILE_OFFER_TYPE },
  [SOTTO_PAYLOAD_FILE_ACCEPT]   = { "file-accept", FILE_ACCEPT_TYPE },
  [SOTTO_PAYLOAD_FILE_CANCEL]   = { "file-cancel", FILE_CANCEL_TYPE },
  [SOTTO_PAYLOAD_FILE_CHUNK]    = { "file-chunk", FILE_CHUNK_TYPE },
  [SOTTO_PAYLOAD_FILE_DONE]     = { "file-done", FILE_DONE_TYPE },
  [SOTTO_PAYLOAD_SIGNING_KEY]   = { "signing-key", SIGNING_KEY_TYPE },
  [SOTTO_PAYLOAD_GROUP_RECORD]  = { "group-record", GROUP_RECORD_TYPE },
  [SOTTO_PAYLOAD_GROUP_TEXT]    = { "group-text", GROUP_TEXT_TYPE },
  [SOTTO_PAYLOAD_GROUP_LEAVE]   = { "group-leave", GROUP_LEAVE_TYPE },
  [SOTTO_PAYLOAD_GROUP_TYPING]  = { "group-typing", GROUP_TYPING_TYPE },
};

G_DEFINE_QUARK (sotto-payload-error-quark, sotto_payload_error)

static const KindInfo *
kind_info (guint8 kind)
{
  if (kind >= G_N_ELEMENTS (kinds) || kinds[kind].name == NULL)
    return NULL;

  return &kinds[kind];
}

static void malformed (GError     **error,
                       const char  *format,
                       ...) G_GNUC_PRINTF (2, 3);

static void
malformed (GError     **error,
           const char  *format,
           ...)
{
  va_list args;

  if (error == NULL)
    return;

  g_assert (*error == NULL);
  va_start (args, format);
  *error = g_error_new_valist (SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED, format, args);
  va_end (args);
}

/* Wraps a validator's SOTTO_ERROR so the reason reads as one sentence
 * in the log. */
static void
malformed_because (GError     **error,
                   const char  *what,
                   GError      *reason)
{
  malformed (error, "%s is invalid: %s", what, reason->message);
}

/* The bytes must be the normal form of @type_string, in little-endian
 * byte order. They are copied: the result is aligned for the type and
 * does not depend on the caller's buffer. */
static GVariant *
variant_from_wire (const char    *type_string,
                   const guint8  *data,
                   gsize          len,
                   const char    *what,
                   GError       **error)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);
  g_autoptr (GVariant) variant = NULL;

  variant = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (type_string),
                                                          bytes, FALSE));
  if (!g_variant_is_normal_form (variant))
    {
      malformed (error, "%s payload of %" G_GSIZE_FORMAT " bytes is not a GVariant “%s” "
                 "in normal form", what, len, type_string);
      return NULL;
    }

  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    return g_variant_byteswap (variant);

  return g_steal_pointer (&variant);
}

/* Appends @kind (if not -1) and the little-endian serialization of
 * @variant to a new buffer. */
static GBytes *
variant_to_wire (int        kind,
                 GVariant  *variant)
{
  g_autoptr (GVariant) sunk = g_variant_ref_sink (variant);
  g_autoptr (GVariant) little = NULL;
  gsize prefix = kind >= 0 ? KIND_LEN : 0;
  gsize size;
  guint8 *out;

  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    little = g_variant_byteswap (sunk);
  else
    little = g_variant_ref (sunk);

  /* Not g_variant_store(): it wants the destination aligned for the
   * type, and the kind byte shifts it by one. */
  size = g_variant_get_size (little);
  out = g_malloc (prefix + size);
  if (kind >= 0)
    out[0] = (guint8) kind;
  if (size > 0)
    memcpy (out + prefix, g_variant_get_data (little), size);

  return g_bytes_new_take (out, prefix + size);
}

/* Copies an "ay" that must be exactly @len bytes. */
static gboolean
get_fixed (GVariant    *array,
           guint8      *out,
           gsize        len,
           const char  *what,
           GError     **error)
{
  gsize n;
  const guint8 *bytes = g_variant_get_fixed_array (array, &n, 1);

  if (n != len)
    {
      malformed (error, "%s is %" G_GSIZE_FORMAT " bytes, must be %" G_GSIZE_FORMAT,
                 what, n, len);
      return FALSE;
    }
  memcpy (out, bytes, len);
  return TRUE;
}

/* A message or transfer id: exactly SOTTO_MESSAGE_UID_LEN bytes. */
static gboolean
get_uid (GVariant    *array,
         guint8       uid[SOTTO_MESSAGE_UID_LEN],
         const char  *what,
         GError     **error)
{
  return get_fixed (array, uid, SOTTO_MESSAGE_UID_LEN, what, error);
}

/* A TEXT's rules, for a body of @body_len bytes before its NUL: the
 * length is found once, by the caller. */
static gboolean
text_validate (const SottoPayload  *payload,
               gsize                body_len,
               GError             **error)
{
  g_autoptr (GError) reason = NULL;

  if (payload->timestamp <= 0)
    {
      malformed (error, "text timestamp %" G_GINT64_FORMAT " is not after the Unix epoch",
                 payload->timestamp);
      return FALSE;
    }
  if (!sotto_message_body_validate_len (payload->body, body_len, &reason))
    {
      malformed_because (error, "text body", reason);
      return FALSE;
    }
  return TRUE;
}

/* The length text_validate() wants: past the limit is enough to know
 * the body is too long. */
static gsize
text_body_len (const SottoPayload *payload)
{
  return payload->body != NULL ? strnlen (payload->body, SOTTO_MESSAGE_BODY_MAX + 1) : 0;
}

/* A declared media type: short printable ASCII, nothing to hide in. */
static gboolean
file_type_validate (const char  *type,
                    GError     **error)
{
  gsize len;

  if (type == NULL)
    {
      malformed (error, "file offer has no type");
      return FALSE;
    }
  len = strnlen (type, SOTTO_FILE_TYPE_MAX + 1);
  if (len > SOTTO_FILE_TYPE_MAX)
    {
      malformed (error, "file type is longer than %d bytes", SOTTO_FILE_TYPE_MAX);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    if ((guchar)type[i] < 0x20 || (guchar)type[i] > 0x7e)
      {
        malformed (error, "file type has byte 0x%02x at %" G_GSIZE_FORMAT
                   ", only printable ASCII is allowed", (guchar)type[i], i);
        return FALSE;
      }
  return TRUE;
}

static gboolean
file_offer_validate (const SottoPayload  *payload,
                     GError             **error)
{
  gsize name_len;

  if (payload->timestamp <= 0)
    {
      malformed (error, "file offer timestamp %" G_GINT64_FORMAT " is not after the Unix epoch",
                 payload->timestamp);
      return FALSE;
    }
  name_len = payload->file_name != NULL
             ? strnlen (payload->file_name, SOTTO_FILE_OFFER_NAME_MAX + 1) : 0;
  if (name_len == 0 || name_len > SOTTO_FILE_OFFER_NAME_MAX)
    {
      malformed (error, "file name is %s, must be 1 to %d bytes",
                 name_len == 0 ? "empty" : "longer", SOTTO_FILE_OFFER_NAME_MAX);
      return FALSE;
    }
  if (!g_utf8_validate (payload->file_name, (gssize)name_len, NULL))
    {
      malformed (error, "file name is not valid UTF-8");
      return FALSE;
    }
  if (payload->file_size > SOTTO_FILE_SIZE_MAX)
    {
      malformed (error, "file size %" G_GUINT64_FORMAT " is above %" G_GUINT64_FORMAT,
                 payload->file_size, SOTTO_FILE_SIZE_MAX);
      return FALSE;
    }
  if (payload->file_head_len != MIN (payload->file_size, SOTTO_FILE_HEAD_MAX) ||
      (payload->file_head_len > 0 && payload->file_head == NULL))
    {
      malformed (error, "file head is %" G_GSIZE_FORMAT " bytes, must be %" G_GUINT64_FORMAT
                 " for a file of %" G_GUINT64_FORMAT " bytes", payload->file_head_len,
                 MIN (payload->file_size, SOTTO_FILE_HEAD_MAX), payload->file_size);
      return FALSE;
    }
  return file_type_validate (payload->file_type, error);
}

static gboolean
file_chunk_validate (const SottoPayload  *payload,
                     GError             **error)
{
  if (payload->chunk_len == 0 || payload->chunk_len > SOTTO_FILE_CHUNK_MAX ||
      payload->chunk == NULL)
    {
      malformed (error, "file chunk is %" G_GSIZE_FORMAT " bytes, must be 1 to %d",
                 payload->chunk_len, SOTTO_FILE_CHUNK_MAX);
      return FALSE;
    }
  if (payload->file_offset > SOTTO_FILE_SIZE_MAX - payload->chunk_len)
    {
      malformed (error, "file chunk at %" G_GUINT64_FORMAT " ends past the largest file",
                 payload->file_offset);
      return FALSE;
    }
  return TRUE;
}

/* The rules a known payload's fields follow, on both sides of the wire. */
static gboolean
payload_validate (const SottoPayload  *payload,
                  GError             **error)
{
  switch (payload->kind)
    {
    case SOTTO_PAYLOAD_FILE_OFFER:
      return file_offer_validate (payload, error);

    case SOTTO_PAYLOAD_FILE_ACCEPT:
      if (payload->file_offset > SOTTO_FILE_SIZE_MAX)
        {
          malformed (error, "file accept offset %" G_GUINT64_FORMAT " is past the largest file",
                     payload->file_offset);
          return FALSE;
        }
      return TRUE;

    case SOTTO_PAYLOAD_FILE_CANCEL:
      if (payload->file_reason < SOTTO_FILE_CANCEL_DECLINED ||
          payload->file_reason > SOTTO_FILE_CANCEL_LAST)
        {
          malformed (error, "file cancel reason %u is unknown (1 to %d)",
                     payload->file_reason, SOTTO_FILE_CANCEL_LAST);
          return FALSE;
        }
      return TRUE;

    case SOTTO_PAYLOAD_FILE_CHUNK:
      return file_chunk_validate (payload, error);

    case SOTTO_PAYLOAD_FILE_DONE:
      if (payload->file_reason != SOTTO_FILE_DONE_RECEIVED &&
          payload->file_reason != SOTTO_FILE_DONE_INFECTED)
        {
          malformed (error, "file done result %u is unknown (1 = received, 2 = infected)",
                     payload->file_reason);
          return FALSE;
        }
      return TRUE;

    case SOTTO_PAYLOAD_TEXT:
    case SOTTO_PAYLOAD_GROUP_TEXT:
      return text_validate (payload, text_body_len (payload), error);

    case SOTTO_PAYLOAD_SIGNING_KEY:
      if (!sotto_signing_key_is_valid (payload->signing_key))
        {
          malformed (error, "signing key is not a valid point");
          return FALSE;
        }
      return TRUE;

    case SOTTO_PAYLOAD_GROUP_RECORD:
      {
        g_autoptr (GError) reason = NULL;

        if (payload->group_record == NULL || payload->group_record->bytes == NULL)
          {
            malformed (error, "group record is missing or not signed");
            return FALSE;
          }
        if (!sotto_group_record_validate (payload->group_record, &reason))
          {
            malformed_because (error, "group record", reason);
            return FALSE;
          }
        if (g_bytes_get_size (payload->group_record->bytes) > SOTTO_GROUP_RECORD_MAX_LEN)
          {
            malformed (error, "group record is longer than %d bytes", SOTTO_GROUP_RECORD_MAX_LEN);
            return FALSE;
          }
        return TRUE;
      }

    case SOTTO_PAYLOAD_GROUP_LEAVE:
    case SOTTO_PAYLOAD_GROUP_TYPING:
      return TRUE;

    case SOTTO_PAYLOAD_RECEIPT:
      if (payload->receipt_state != SOTTO_RECEIPT_DELIVERED &&
          payload->receipt_state != SOTTO_RECEIPT_READ)
        {
          malformed (error, "receipt state %u is unknown (1 = delivered, 2 = read)",
                     payload->receipt_state);
          return FALSE;
        }
      if (payload->n_ids == 0 || payload->n_ids > SOTTO_PAYLOAD_MAX_RECEIPT_IDS)
        {
          malformed (error, "receipt lists %u ids, must be 1 to %d",
                     payload->n_ids, SOTTO_PAYLOAD_MAX_RECEIPT_IDS);
          return FALSE;
        }
      if (payload->ids == NULL)
        {
          malformed (error, "receipt has no id array");
          return FALSE;
        }
      return TRUE;

    case SOTTO_PAYLOAD_TYPING:
    case SOTTO_PAYLOAD_PING:
    case SOTTO_PAYLOAD_PONG:
      return TRUE;

    case SOTTO_PAYLOAD_PRESENCE:
      if (payload->presence != SOTTO_PRESENCE_AVAILABLE &&
          payload->presence != SOTTO_PRESENCE_AWAY)
        {
          malformed (error, "presence %u is unknown (1 = available, 2 = away)",
                     payload->presence);
          return FALSE;
        }
      return TRUE;

    case SOTTO_PAYLOAD_REQUEST_STATE:
      if (payload->request_state != SOTTO_REQUEST_PENDING &&
          payload->request_state != SOTTO_REQUEST_ACCEPTED)
        {
          malformed (error, "request state %u is unknown (1 = pending, 2 = accepted)",
                     payload->request_state);
          return FALSE;
        }
      return TRUE;

    default:
      break;
    }

  g_assert_not_reached ();
  return FALSE;
}

static gboolean
decode_text (SottoPayload  *payload,
             GVariant      *variant,
             GError       **error)
{
  g_autoptr (GVariant) uid = NULL;
  const char *body;

  g_variant_get (variant, "(@ayx&s)", &uid, &payload->timestamp, &body);
  if (!get_uid (uid, payload->uid, "text message id", error))
    return FALSE;
  /* Normal form made it valid UTF-8 without NUL; payload_validate()
   * checks the length before anything else uses it. */
  payload->body = g_strdup (body);

  return TRUE;
}

static gboolean
decode_receipt (SottoPayload  *payload,
                GVariant      *variant,
                GError       **error)
{
  g_autoptr (GVariant) ids = NULL;
  gsize n_ids;

  g_variant_get (variant, "(y@aay)", &payload->receipt_state, &ids);

  /* The count comes from the offset table of data already known to be
   * well-formed; check it before allocating anything for it. */
  n_ids = g_variant_n_children (ids);
  if (n_ids == 0 || n_ids > SOTTO_PAYLOAD_MAX_RECEIPT_IDS)
    {
      malformed (error, "receipt lists %" G_GSIZE_FORMAT " ids, must be 1 to %d",
                 n_ids, SOTTO_PAYLOAD_MAX_RECEIPT_IDS);
      return FALSE;
    }

  payload->ids = g_malloc (n_ids * SOTTO_MESSAGE_UID_LEN);
  payload->n_ids = (guint) n_ids;
  for (gsize i = 0; i < n_ids; i++)
    {
      g_autoptr (GVariant) id = g_variant_get_child_value (ids, i);

      if (!get_uid (id, payload->ids + i * SOTTO_MESSAGE_UID_LEN, "receipt id", error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
decode_file_offer (SottoPayload  *payload,
                   GVariant      *variant,
                   GError       **error)
{
  g_autoptr (GVariant) id = NULL;
  g_autoptr (GVariant) hash = NULL;
  g_autoptr (GVariant) head = NULL;
  const char *name;
  const char *type;
  const guint8 *head_bytes;
  gsize head_len;

  g_variant_get (variant, "(@ayx&st@ay@ay&s)", &id, &payload->timestamp, &name,
                 &payload->file_size, &hash, &head, &type);
  if (!get_uid (id, payload->file_id, "file id", error) ||
      !get_fixed (hash, payload->file_hash, SOTTO_FILE_HASH_LEN, "file hash", error))
    return FALSE;

  /* The head's length is checked against the size by
   * file_offer_validate(); copy no more than the most it may be. */
  head_bytes = g_variant_get_fixed_array (head, &head_len, 1);
  if (head_len > SOTTO_FILE_HEAD_MAX)
    {
      malformed (error, "file head is %" G_GSIZE_FORMAT " bytes, at most %d",
                 head_len, SOTTO_FILE_HEAD_MAX);
      return FALSE;
    }
  payload->file_head = g_memdup2 (head_bytes, head_len);
  payload->file_head_len = head_len;
  payload->file_name = g_strdup (name);
  payload->file_type = g_strdup (type);
  return TRUE;
}

static gboolean
decode_file_accept (SottoPayload  *payload,
                    GVariant      *variant,
                    GError       **error)
{
  g_autoptr (GVariant) id = NULL;

  g_variant_get (variant, "(@ayt)", &id, &payload->file_offset);
  return get_uid (id, payload->file_id, "file id", error);
}

/* FILE_CANCEL and FILE_DONE: a message id, the transfer, a code. */
static gboolean
decode_file_end (SottoPayload  *payload,
                 GVariant      *variant,
                 GError       **error)
{
  g_autoptr (GVariant) uid = NULL;
  g_autoptr (GVariant) id = NULL;

  g_variant_get (variant, "(@ay@ayy)", &uid, &id, &payload->file_reason);
  return get_uid (uid, payload->uid, "file message id", error) &&
         get_uid (id, payload->file_id, "file id", error);
}

static gboolean
decode_file_chunk (SottoPayload  *payload,
                   GVariant      *variant,
                   GError       **error)
{
  g_autoptr (GVariant) id = NULL;
  g_autoptr (GVariant) data = NULL;
  const guint8 *bytes;
  gsize len;

  g_variant_get (variant, "(@ayt@ay)", &id, &payload->file_offset, &data);
  if (!get_uid (id, payload->file_id, "file id", error))
    return FALSE;
  bytes = g_variant_get_fixed_array (data, &len, 1);
  if (len == 0 || len > SOTTO_FILE_CHUNK_MAX)
    {
      malformed (error, "file chunk is %" G_GSIZE_FORMAT " bytes, must be 1 to %d",
                 len, SOTTO_FILE_CHUNK_MAX);
      return FALSE;
    }
  payload->chunk = g_memdup2 (bytes, len);
  payload->chunk_len = len;
  return TRUE;
}

static gboolean
decode_group_text (SottoPayload  *payload,
                   GVariant      *variant,
                   GError       **error)
{
  g_autoptr (GVariant) group_id = NULL;
  g_autoptr (GVariant) uid = NULL;
  const char *body;

  g_variant_get (variant, "(@ay@ayx&s)", &group_id, &uid, &payload->timestamp, &body);
  if (!get_fixed (group_id, payload->group_id, SOTTO_GROUP_ID_LEN, "group id", error) ||
      !get_uid (uid, payload->uid, "group message id", error))
    return FALSE;
  payload->body = g_strdup (body);
  return TRUE;
}

static gboolean
decode_group_record (SottoPayload  *payload,
                     GVariant      *variant,
                     GError       **error)
{
  g_autoptr (GVariant) record = NULL;
  g_autoptr (GVariant) signature = NULL;
  g_autoptr (GError) reason = NULL;
  guint8 signature_bytes[SOTTO_SIGNATURE_LEN];
  const guint8 *data;
  gsize len;

  g_variant_get (variant, "(@ay@ay)", &record, &signature);
  if (!get_fixed (signature, signature_bytes, SOTTO_SIGNATURE_LEN, "group record signature", error))
    return FALSE;
  data = g_variant_get_fixed_array (record, &len, 1);
  payload->group_record = sotto_group_record_parse (data, len, signature_bytes, &reason);
  if (payload->group_record == NULL)
    {
      malformed_because (error, "group record", reason);
      return FALSE;
    }
  return TRUE;
}

/* TEXT and FILE_CHUNK carry bulk, so they are serialized and checked by
 * hand; the GLib code above remains the reference for both
 * (see the differential checks in test-payload and fuzz-payload).
 *
 * With a 16-byte id, the normal form of "(ayxs)" is: the id at 0..16, the
 * timestamp at 16..24 (already 8-aligned: no padding), the string with
 * its NUL from 24 up to the framing offset, then that one offset: the end
 * of the id, 16, in k bytes, k = 1 if the whole tuple fits in 255 bytes,
 * else 2 (PROTOCOL.md, "GVariant serialization"). */
#define TEXT_ID_END    SOTTO_MESSAGE_UID_LEN
#define TEXT_BODY_AT   (TEXT_ID_END + 8)

G_STATIC_ASSERT (TEXT_ID_END % 8 == 0);
/* A tuple is at most 65535 bytes: k is never more than 2. */
G_STATIC_ASSERT (SOTTO_PAYLOAD_MAX_LEN - KIND_LEN <= G_MAXUINT16);

/* The size of each framing offset of a tuple that has one, as GLib
 * chooses it: the smallest that lets the whole tuple fit. */
static gsize
framing_offset_size (gsize tuple_without_offset)
{
  return tuple_without_offset + 1 <= G_MAXUINT8 ? 1 : 2;
}

/* @payload has passed text_validate() with @body_len. */
static void
encode_text (const SottoPayload *payload,
             gsize               body_len,
             GByteArray         *out)
{
  gsize unframed = TEXT_BODY_AT + body_len + 1;
  gsize k = framing_offset_size (unframed);
  guint start = out->len;
  guint64 timestamp = GUINT64_TO_LE ((guint64) payload->timestamp);
  guint8 *p;

  g_byte_array_set_size (out, start + KIND_LEN + unframed + k);
  p = out->data + start;
  *p++ = SOTTO_PAYLOAD_TEXT;
  memcpy (p, payload->uid, SOTTO_MESSAGE_UID_LEN);
  memcpy (p + TEXT_ID_END, &timestamp, 8);
  memcpy (p + TEXT_BODY_AT, payload->body, body_len + 1);
  p[unframed] = TEXT_ID_END;
  if (k == 2)
    p[unframed + 1] = 0;
}

/* The shape TEXT and FILE_CHUNK share: a 16-byte id, an 8-byte number
 * (@out_number), then @out_tail_len >= @min_tail bytes up to the one
 * framing offset, which must be the end of the id, in the size the
 * encoder would have chosen (a tuple of 256 bytes has none: with 1-byte
 * offsets it would be 255). */
static gboolean
split_fixed_shape (const guint8 *data,
                   gsize         len,
                   gsize         min_tail,
                   guint64      *out_number,
                   gsize        *out_tail_len)
{
  gsize k = len <= G_MAXUINT8 ? 1 : 2;
  gsize id_end;
  guint64 number;

  if (len < TEXT_BODY_AT + min_tail + k || len > G_MAXUINT16 || framing_offset_size (len - k) != k)
    return FALSE;

  id_end = data[len - k];
  if (k == 2)
    id_end |= (gsize) data[len - 1] << 8;
  if (id_end != TEXT_ID_END)
    return FALSE;

  memcpy (&number, data + TEXT_ID_END, 8);
  *out_number = GUINT64_FROM_LE (number);
  *out_tail_len = len - k - TEXT_BODY_AT;
  return TRUE;
}

/* The TEXT values that are valid, each checked exactly as the reference
 * path checks it: returns the payload, or %NULL for anything else,
 * which the reference path then decodes or refuses with its reason.
 * @data is the value after the kind byte. */
static SottoPayload *
decode_text_fast (const guint8 *data,
                  gsize         len,
                  guint8       *storage)
{
  SottoPayload *payload;
  gsize string_len;
  const char *body;
  guint64 timestamp;

  /* At least one byte of body and its NUL. */
  if (!split_fixed_shape (data, len, 2, &timestamp, &string_len) || (gint64) timestamp <= 0)
    return NULL;

  /* The string's NUL comes last and nowhere before, which
   * sotto_message_body_validate_len() checks with its length and its
   * UTF-8, in one pass. */
  body = (const char *) data + TEXT_BODY_AT;
  if (body[string_len - 1] != '\0' ||
      !sotto_message_body_validate_len (body, string_len - 1, NULL))
    return NULL;

  payload = sotto_payload_new (SOTTO_PAYLOAD_TEXT);
  memcpy (payload->uid, data, SOTTO_MESSAGE_UID_LEN);
  payload->timestamp = (gint64) timestamp;
  if (storage != NULL)
    {
      /* The body stays where it is, NUL-terminated, and the payload
       * keeps the block it lies in. */
      payload->body = (char *) body;
      payload->body_storage = storage;
    }
  else
    {
      payload->body = g_malloc (string_len);
      memcpy (payload->body, body, string_len);
    }

  return payload;
}

/* FILE_CHUNK has TEXT's shape: a 16-byte id, an 8-byte number, then the
 * data up to its one framing offset (the end of the id), without a NUL. */
#define CHUNK_DATA_AT TEXT_BODY_AT

/* @payload has passed file_chunk_validate(). */
static void
encode_chunk (const SottoPayload *payload,
              GByteArray         *out)
{
  gsize unframed = CHUNK_DATA_AT + payload->chunk_len;
  gsize k = framing_offset_size (unframed);
  guint start = out->len;
  guint64 offset = GUINT64_TO_LE (payload->file_offset);
  guint8 *p;

  g_byte_array_set_size (out, start + KIND_LEN + unframed + k);
  p = out->data + start;
  *p++ = SOTTO_PAYLOAD_FILE_CHUNK;
  memcpy (p, payload->file_id, SOTTO_FILE_ID_LEN);
  memcpy (p + TEXT_ID_END, &offset, 8);
  memcpy (p + CHUNK_DATA_AT, payload->chunk, payload->chunk_len);
  p[unframed] = TEXT_ID_END;
  if (k == 2)
    p[unframed + 1] = 0;
}

/* As decode_text_fast(), for the FILE_CHUNK values that are valid. */
static SottoPayload *
decode_chunk_fast (const guint8 *data,
                   gsize         len,
                   guint8       *storage)
{
  SottoPayload *payload;
  gsize chunk_len;
  guint64 offset;

  if (!split_fixed_shape (data, len, 1, &offset, &chunk_len) ||
      chunk_len > SOTTO_FILE_CHUNK_MAX || offset > SOTTO_FILE_SIZE_MAX - chunk_len)
    return NULL;

  payload = sotto_payload_new (SOTTO_PAYLOAD_FILE_CHUNK);
  memcpy (payload->file_id, data, SOTTO_FILE_ID_LEN);
  payload->file_offset = offset;
  payload->chunk_len = chunk_len;
  if (storage != NULL)
    {
      payload->chunk = data + CHUNK_DATA_AT;
      payload->body_storage = storage;
    }
  else
    payload->chunk = g_memdup2 (data + CHUNK_DATA_AT, chunk_len);

  return payload;
}

/**
 * sotto_payload_new:
 * @kind: a kind byte
 *
 * Returns: (transfer full): an empty payload of @kind, to fill in and
 *   encode
 */
SottoPayload *
sotto_payload_new (guint8 kind)
{
  SottoPayload *payload = g_new0 (SottoPayload, 1);

  payload->kind = kind;
  payload->known = kind_info (kind) != NULL;

  return payload;
}

/* The fast path for a well-formed TEXT, GLib for everything else and
 * for every TEXT the fast path did not accept: GLib decides what is
 * malformed, and why. With @storage (@data itself), a TEXT's body stays
 * in it and the payload takes it. */
static SottoPayload *
decode (const guint8  *data,
        gsize          len,
        guint8        *storage,
        GError       **error)
{
  if (len > KIND_LEN && len <= SOTTO_PAYLOAD_MAX_LEN && data[0] == SOTTO_PAYLOAD_TEXT)
    {
      SottoPayload *payload = decode_text_fast (data + KIND_LEN, len - KIND_LEN, storage);

      if (payload != NULL)
        return payload;
    }
  if (len > KIND_LEN && len <= SOTTO_PAYLOAD_MAX_LEN && data[0] == SOTTO_PAYLOAD_FILE_CHUNK)
    {
      SottoPayload *payload = decode_chunk_fast (data + KIND_LEN, len - KIND_LEN, storage);

      if (payload != NULL)
        return payload;
    }
  return _sotto_payload_decode_glib (data, len, error);
}

/**
 * sotto_payload_decode:
 * @data: (array length=len): a Noise transport plaintext
 * @len: its length
 * @error: return location for a #SOTTO_PAYLOAD_ERROR_MALFORMED
 *
 * A kind this version does not know decodes successfully with
 * #SottoPayload.known %FALSE: a later version may send it, and the
 * receiver ignores it.
 *
 * Returns: (transfer full) (nullable): the payload, or %NULL if it is
 *   malformed, which ends the session
 */
SottoPayload *
sotto_payload_decode (const guint8  *data,
                      gsize          len,
                      GError       **error)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return decode (data, len, NULL, error);
}

/**
 * sotto_payload_decode_take:
 * @data: (transfer full) (array length=len): a Noise transport plaintext
 *   in a block of g_malloc() memory
 * @len: its length
 * @error: return location for a #SOTTO_PAYLOAD_ERROR_MALFORMED
 *
 * sotto_payload_decode(), taking @data: a TEXT's body or a FILE_CHUNK's
 * data is then not copied but left where it is, in @data, which the
 * payload frees. Every
 * other outcome wipes @data and frees it at once.
 *
 * Returns: (transfer full) (nullable): as sotto_payload_decode()
 */
SottoPayload *
sotto_payload_decode_take (guint8  *data,
                           gsize    len,
                           GError **error)
{
  SottoPayload *payload;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  payload = decode (data, len, data, error);
  if (payload == NULL || payload->body_storage != data)
    {
      if (data != NULL)
        sodium_memzero (data, len);
      g_free (data);
    }
  return payload;
}

/**
 * _sotto_payload_decode_glib:
 *
 * sotto_payload_decode() with GLib alone checking the serialization: the
 * reference that the TEXT fast path must agree with. For tests; the
 * decoder falls back to it for everything the fast path does not accept.
 */
SottoPayload *
_sotto_payload_decode_glib (const guint8  *data,
                            gsize          len,
                            GError       **error)
{
  g_autoptr (SottoPayload) payload = NULL;
  g_autoptr (GVariant) variant = NULL;
  const KindInfo *info;
  gboolean ok = FALSE;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len < KIND_LEN)
    {
      malformed (error, "payload is empty: no kind byte");
      return NULL;
    }

  if (len > SOTTO_PAYLOAD_MAX_LEN)
    {
      malformed (error, "payload is %" G_GSIZE_FORMAT " bytes, at most %d",
                 len, SOTTO_PAYLOAD_MAX_LEN);
      return NULL;
    }

  payload = sotto_payload_new (data[0]);
  info = kind_info (payload->kind);
  if (info == NULL)
    return g_steal_pointer (&payload);

  variant = variant_from_wire (info->type, data + KIND_LEN, len - KIND_LEN, info->name, error);
  if (variant == NULL)
    return NULL;

  switch (payload->kind)
    {
    case SOTTO_PAYLOAD_TEXT:
      ok = decode_text (payload, variant, error);
      break;

    case SOTTO_PAYLOAD_RECEIPT:
      ok = decode_receipt (payload, variant, error);
      break;

    case SOTTO_PAYLOAD_TYPING:
      payload->typing = g_variant_get_boolean (variant);
      ok = TRUE;
      break;

    case SOTTO_PAYLOAD_PRESENCE:
      payload->presence = g_variant_get_byte (variant);
      ok = TRUE;
      break;

    case SOTTO_PAYLOAD_PING:
    case SOTTO_PAYLOAD_PONG:
      payload->cookie = g_variant_get_uint64 (variant);
      ok = TRUE;
      break;

    case SOTTO_PAYLOAD_REQUEST_STATE:
      payload->request_state = g_variant_get_byte (variant);
      ok = TRUE;
      break;

    case SOTTO_PAYLOAD_FILE_OFFER:
      ok = decode_file_offer (payload, variant, error);
      break;

    case SOTTO_PAYLOAD_FILE_ACCEPT:
      ok = decode_file_accept (payload, variant, error);
      break;

    case SOTTO_PAYLOAD_FILE_CANCEL:
    case SOTTO_PAYLOAD_FILE_DONE:
      ok = decode_file_end (payload, variant, error);
      break;

    case SOTTO_PAYLOAD_FILE_CHUNK:
      ok = decode_file_chunk (payload, variant, error);
      break;

    case SOTTO_PAYLOAD_SIGNING_KEY:
      ok = get_fixed (variant, payload->signing_key, SOTTO_SIGNING_KEY_LEN, "signing key", error);
      break;

    case SOTTO_PAYLOAD_GROUP_RECORD:
      ok = decode_group_record (payload, variant, error);
      break;

    case SOTTO_PAYLOAD_GROUP_TEXT:
      ok = decode_group_text (payload, variant, error);
      break;

    case SOTTO_PAYLOAD_GROUP_LEAVE:
      ok = get_fixed (variant, payload->group_id, SOTTO_GROUP_ID_LEN, "group id", error);
      break;

    case SOTTO_PAYLOAD_GROUP_TYPING:
      {
        g_autoptr (GVariant) group_id = NULL;

        g_variant_get (variant, "(@ayb)", &group_id, &payload->typing);
        ok = get_fixed (group_id, payload->group_id, SOTTO_GROUP_ID_LEN, "group id", error);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  if (!ok || !payload_validate (payload, error))
    return NULL;

  return g_steal_pointer (&payload);
}

/**
 * sotto_payload_encode:
 * @payload: a payload of a known kind
 * @error: return location for a #SOTTO_PAYLOAD_ERROR_MALFORMED
 *
 * Checks @payload against the rules sotto_payload_decode() applies.
 *
 * Returns: (transfer full) (nullable): the transport plaintext, or %NULL
 *   if a peer would refuse it
 */
GBytes *
sotto_payload_encode (const SottoPayload  *payload,
                      GError             **error)
{
  g_autoptr (GByteArray) out = NULL;

  g_return_val_if_fail (payload != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  out = g_byte_array_new ();
  if (!sotto_payload_encode_to (payload, out, error))
    return NULL;

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/**
 * sotto_payload_encode_to:
 * @payload: a payload of a known kind
 * @out: where the transport plaintext is appended
 * @error: return location for a #SOTTO_PAYLOAD_ERROR_MALFORMED
 *
 * sotto_payload_encode() into a buffer of the caller's, so that a session
 * can encrypt the plaintext where it is, after the frame header.
 *
 * Returns: %TRUE if the plaintext was appended; %FALSE, with @out
 *   unchanged, if a peer would refuse it
 */
gboolean
sotto_payload_encode_to (const SottoPayload  *payload,
                         GByteArray          *out,
                         GError             **error)
{
  g_autoptr (GBytes) bytes = NULL;
  gsize size;

  g_return_val_if_fail (payload != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (payload->kind == SOTTO_PAYLOAD_TEXT && payload->known)
    {
      gsize body_len = text_body_len (payload);

      if (!text_validate (payload, body_len, error))
        return FALSE;
      encode_text (payload, body_len, out);
      return TRUE;
    }
  if (payload->kind == SOTTO_PAYLOAD_FILE_CHUNK && payload->known)
    {
      if (!file_chunk_validate (payload, error))
        return FALSE;
      encode_chunk (payload, out);
      return TRUE;
    }

  bytes = _sotto_payload_encode_glib (payload, error);
  if (bytes == NULL)
    return FALSE;

  size = g_bytes_get_size (bytes);
  g_byte_array_append (out, g_bytes_get_data (bytes, NULL), (guint) size);
  return TRUE;
}

static GVariant *
bytes_variant (const guint8 *data,
               gsize         len)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, len > 0 ? data : NULL, len, 1);
}

/**
 * _sotto_payload_encode_glib:
 *
 * sotto_payload_encode() with GLib serializing every kind: the reference
 * that the hand-written TEXT and FILE_CHUNK serializations must agree
 * with. For tests; the encoder uses it for every other kind.
 */
GBytes *
_sotto_payload_encode_glib (const SottoPayload  *payload,
                            GError             **error)
{
  const KindInfo *info;
  GVariant *variant = NULL;
  GBytes *bytes;

  g_return_val_if_fail (payload != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  info = kind_info (payload->kind);
  if (info == NULL || !payload->known)
    {
      malformed (error, "cannot encode a payload of unknown kind 0x%02x", payload->kind);
      return NULL;
    }

  if (!payload_validate (payload, error))
    return NULL;

  switch (payload->kind)
    {
    case SOTTO_PAYLOAD_TEXT:
      variant = g_variant_new ("(@ayxs)",
                               g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, payload->uid,
                                                          SOTTO_MESSAGE_UID_LEN, 1),
                               payload->timestamp, payload->body);
      break;

    case SOTTO_PAYLOAD_RECEIPT:
      {
        g_auto (GVariantBuilder) ids = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aay"));

        for (guint i = 0; i < payload->n_ids; i++)
          g_variant_builder_add_value (&ids, g_variant_new_fixed_array (
                                         G_VARIANT_TYPE_BYTE,
                                         payload->ids + i * SOTTO_MESSAGE_UID_LEN,
                                         SOTTO_MESSAGE_UID_LEN, 1));
        variant = g_variant_new ("(y@aay)", payload->receipt_state,
                                 g_variant_builder_end (&ids));
      }
      break;

    case SOTTO_PAYLOAD_TYPING:
      /* GLib would store any non-zero gboolean as that byte, which is
       * not the normal form of "b". */
      variant = g_variant_new_boolean (payload->typing != FALSE);
      break;

    case SOTTO_PAYLOAD_PRESENCE:
      variant = g_variant_new_byte (payload->presence);
      break;

    case SOTTO_PAYLOAD_PING:
    case SOTTO_PAYLOAD_PONG:
      variant = g_variant_new_uint64 (payload->cookie);
      break;

    case SOTTO_PAYLOAD_REQUEST_STATE:
      variant = g_variant_new_byte (payload->request_state);
      break;

    case SOTTO_PAYLOAD_FILE_OFFER:
      variant = g_variant_new ("(@ayxst@ay@ays)", bytes_variant (payload->file_id, SOTTO_FILE_ID_LEN),
                               payload->timestamp, payload->file_name, payload->file_size,
                               bytes_variant (payload->file_hash, SOTTO_FILE_HASH_LEN),
                               bytes_variant (payload->file_head, payload->file_head_len),
                               payload->file_type);
      break;

    case SOTTO_PAYLOAD_FILE_ACCEPT:
      variant = g_variant_new ("(@ayt)", bytes_variant (payload->file_id, SOTTO_FILE_ID_LEN),
                               payload->file_offset);
      break;

    case SOTTO_PAYLOAD_FILE_CANCEL:
    case SOTTO_PAYLOAD_FILE_DONE:
      variant = g_variant_new ("(@ay@ayy)", bytes_variant (payload->uid, SOTTO_MESSAGE_UID_LEN),
                               bytes_variant (payload->file_id, SOTTO_FILE_ID_LEN),
                               payload->file_reason);
      break;

    case SOTTO_PAYLOAD_FILE_CHUNK:
      variant = g_variant_new ("(@ayt@ay)", bytes_variant (payload->file_id, SOTTO_FILE_ID_LEN),
                               payload->file_offset,
                               bytes_variant (payload->chunk, payload->chunk_len));
      break;

    case SOTTO_PAYLOAD_SIGNING_KEY:
      variant = bytes_variant (payload->signing_key, SOTTO_SIGNING_KEY_LEN);
      break;

    case SOTTO_PAYLOAD_GROUP_RECORD:
      {
        gsize len = 0;
        const guint8 *data = g_bytes_get_data (payload->group_record->bytes, &len);

        variant = g_variant_new ("(@ay@ay)", bytes_variant (data, len),
                                 bytes_variant (payload->group_record->signature,
                                                SOTTO_SIGNATURE_LEN));
      }
      break;

    case SOTTO_PAYLOAD_GROUP_TEXT:
      variant = g_variant_new ("(@ay@ayxs)", bytes_variant (payload->group_id, SOTTO_GROUP_ID_LEN),
                               bytes_variant (payload->uid, SOTTO_MESSAGE_UID_LEN),
                               payload->timestamp, payload->body);
      break;

    case SOTTO_PAYLOAD_GROUP_LEAVE:
      variant = bytes_variant (payload->group_id, SOTTO_GROUP_ID_LEN);
      break;

    case SOTTO_PAYLOAD_GROUP_TYPING:
      variant = g_variant_new ("(@ayb)", bytes_variant (payload->group_id, SOTTO_GROUP_ID_LEN),
                               payload->typing != FALSE);
      break;

    default:
      g_assert_not_reached ();
    }

  g_assert (g_variant_is_of_type (variant, G_VARIANT_TYPE (info->type)));
  bytes = variant_to_wire (payload->kind, variant);

  /* The static assertions above promise this; a later change to a limit
   * must not make us send what the peer has to refuse. */
  if (g_bytes_get_size (bytes) > SOTTO_PAYLOAD_MAX_LEN)
    {
      malformed (error, "%s payload would be %" G_GSIZE_FORMAT " bytes, at most %d",
                 info->name, g_bytes_get_size (bytes), SOTTO_PAYLOAD_MAX_LEN);
      g_bytes_unref (bytes);
      return NULL;
    }

  return bytes;
}

/**
 * sotto_payload_equal:
 *
 * Compares the kind and the fields of that kind; the fields of other
 * kinds are ignored.
 */
gboolean
sotto_payload_equal (const SottoPayload *a,
                     const SottoPayload *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  if (a->kind != b->kind || !a->known != !b->known)
    return FALSE;

  if (!a->known)
    return TRUE;

  switch (a->kind)
    {
    case SOTTO_PAYLOAD_TEXT:
      return memcmp (a->uid, b->uid, SOTTO_MESSAGE_UID_LEN) == 0 &&
             a->timestamp == b->timestamp &&
             g_strcmp0 (a->body, b->body) == 0;

    case SOTTO_PAYLOAD_RECEIPT:
      return a->receipt_state == b->receipt_state &&
             a->n_ids == b->n_ids &&
             (a->n_ids == 0 ||
              memcmp (a->ids, b->ids, (gsize) a->n_ids * SOTTO_MESSAGE_UID_LEN) == 0);

    case SOTTO_PAYLOAD_TYPING:
      return !a->typing == !b->typing;

    case SOTTO_PAYLOAD_PRESENCE:
      return a->presence == b->presence;

    case SOTTO_PAYLOAD_PING:
    case SOTTO_PAYLOAD_PONG:
      return a->cookie == b->cookie;

    case SOTTO_PAYLOAD_REQUEST_STATE:
      return a->request_state == b->request_state;

    case SOTTO_PAYLOAD_FILE_OFFER:
      return memcmp (a->file_id, b->file_id, SOTTO_FILE_ID_LEN) == 0 &&
             a->timestamp == b->timestamp &&
             g_strcmp0 (a->file_name, b->file_name) == 0 &&
             a->file_size == b->file_size &&
             memcmp (a->file_hash, b->file_hash, SOTTO_FILE_HASH_LEN) == 0 &&
             a->file_head_len == b->file_head_len &&
             (a->file_head_len == 0 || memcmp (a->file_head, b->file_head, a->file_head_len) == 0) &&
             g_strcmp0 (a->file_type, b->file_type) == 0;

    case SOTTO_PAYLOAD_FILE_ACCEPT:
      return memcmp (a->file_id, b->file_id, SOTTO_FILE_ID_LEN) == 0 &&
             a->file_offset == b->file_offset;

    case SOTTO_PAYLOAD_FILE_CANCEL:
    case SOTTO_PAYLOAD_FILE_DONE:
      return memcmp (a->uid, b->uid, SOTTO_MESSAGE_UID_LEN) == 0 &&
             memcmp (a->file_id, b->file_id, SOTTO_FILE_ID_LEN) == 0 &&
             a->file_reason == b->file_reason;

    case SOTTO_PAYLOAD_FILE_CHUNK:
      return memcmp (a->file_id, b->file_id, SOTTO_FILE_ID_LEN) == 0 &&
             a->file_offset == b->file_offset &&
             a->chunk_len == b->chunk_len &&
             (a->chunk_len == 0 || memcmp (a->chunk, b->chunk, a->chunk_len) == 0);

    case SOTTO_PAYLOAD_SIGNING_KEY:
      return memcmp (a->signing_key, b->signing_key, SOTTO_SIGNING_KEY_LEN) == 0;

    case SOTTO_PAYLOAD_GROUP_RECORD:
      return a->group_record != NULL && b->group_record != NULL &&
             sotto_group_record_same (a->group_record, b->group_record) &&
             memcmp (a->group_record->signature, b->group_record->signature,
                     SOTTO_SIGNATURE_LEN) == 0;

    case SOTTO_PAYLOAD_GROUP_TEXT:
      return memcmp (a->group_id, b->group_id, SOTTO_GROUP_ID_LEN) == 0 &&
             memcmp (a->uid, b->uid, SOTTO_MESSAGE_UID_LEN) == 0 &&
             a->timestamp == b->timestamp &&
             g_strcmp0 (a->body, b->body) == 0;

    case SOTTO_PAYLOAD_GROUP_LEAVE:
      return memcmp (a->group_id, b->group_id, SOTTO_GROUP_ID_LEN) == 0;

    case SOTTO_PAYLOAD_GROUP_TYPING:
      return memcmp (a->group_id, b->group_id, SOTTO_GROUP_ID_LEN) == 0 &&
             !a->typing == !b->typing;

    default:
      return FALSE;
    }
}

void
sotto_payload_free (SottoPayload *payload)
{
  if (payload == NULL)
    return;

  if (payload->body_storage != NULL)
    g_free (payload->body_storage);
  else
    {
      g_free (payload->body);
      g_free ((gpointer)payload->chunk);
    }
  g_free (payload->ids);
  g_free (payload->file_name);
  g_free (payload->file_head);
  g_free (payload->file_type);
  g_clear_pointer (&payload->group_record, sotto_group_record_free);
  g_free (payload);
}

/**
 * sotto_payload_kind_to_string:
 * @kind: a kind byte
 *
 * Returns: a name for logs: "text", "receipt", …, "reserved" for the
 *   kinds kept for later file payloads, "unknown" for any other
 */
const char *
sotto_payload_kind_to_string (guint8 kind)
{
  const KindInfo *info = kind_info (kind);

  if (info != NULL)
    return info->name;
  if (kind >= SOTTO_PAYLOAD_KIND_RESERVED_FIRST && kind <= SOTTO_PAYLOAD_KIND_RESERVED_LAST)
    return "reserved";
  return "unknown";
}

/**
 * sotto_intro_validate:
 * @intro: (nullable): the short text of a contact request; %NULL is none
 * @error: return location for a #SOTTO_PAYLOAD_ERROR_MALFORMED
 *
 * An intro is shown to someone who has not accepted the sender yet, so it
 * is plain text that cannot disguise itself: at most
 * %SOTTO_HELLO_INTRO_MAX_BYTES bytes and %SOTTO_HELLO_INTRO_MAX_CHARS
 * characters of UTF-8, no control character but the line feed, no format
 * character but the two joiners (so no direction overrides), nothing
 * private-use or unassigned.
 */
gboolean
sotto_intro_validate (const char  *intro,
                      GError     **error)
{
  gsize len;
  glong n_chars;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (intro == NULL)
    return TRUE;

  /* Bounded scan: a huge string costs no more than one past the limit. */
  len = strnlen (intro, SOTTO_HELLO_INTRO_MAX_BYTES + 1);
  if (len > SOTTO_HELLO_INTRO_MAX_BYTES)
    {
      malformed (error, "intro is more than %d bytes", SOTTO_HELLO_INTRO_MAX_BYTES);
      return FALSE;
    }

  if (!g_utf8_validate (intro, len, NULL))
    {
      malformed (error, "intro is not valid UTF-8");
      return FALSE;
    }

  n_chars = g_utf8_strlen (intro, len);
  if (n_chars > SOTTO_HELLO_INTRO_MAX_CHARS)
    {
      malformed (error, "intro is %ld characters, at most %d",
                 n_chars, SOTTO_HELLO_INTRO_MAX_CHARS);
      return FALSE;
    }

  for (const char *p = intro; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      gboolean allowed;

      switch (sotto_char_classify (c))
        {
        case SOTTO_CHAR_CONTROL:
          allowed = c == '\n';
          break;

        case SOTTO_CHAR_SEPARATOR:
        case SOTTO_CHAR_ALLOWED:
          allowed = TRUE;
          break;

        case SOTTO_CHAR_FORMAT:
        case SOTTO_CHAR_PRIVATE_USE:
        default:
          allowed = FALSE;
          break;
        }

      if (!allowed)
        {
          malformed (error, "intro contains U+%04X, which is not allowed "
                     "(control, format or private-use character)", (guint) c);
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
hello_validate (const SottoHello  *hello,
                GError           **error)
{
  g_autoptr (GError) reason = NULL;

  if (hello->version == 0)
    {
      malformed (error, "hello version 0 is invalid, must be at least 1");
      return FALSE;
    }

  if (!sotto_display_name_validate (hello->display_name, &reason))
    {
      malformed_because (error, "hello display name", reason);
      return FALSE;
    }

  return sotto_intro_validate (hello->intro, error);
}

/* A handshake encodes two hellos and decodes two, so the hello too is
 * serialized and checked by hand; the GLib code below remains the
 * reference for both, as for TEXT.
 *
 * The normal form of "(qsqts)": the version at 0..2; the display name and
 * its NUL from 2 up to name_end; a zero byte if name_end is odd, then the
 * port; zero bytes up to a multiple of 8, then the capabilities; the intro
 * and its NUL up to the framing offset; then that one offset, name_end, in
 * k bytes, k = 1 if the whole tuple fits in 255 bytes, else 2. A reader
 * takes k from the total size, and GLib refuses a k larger than needed:
 * no hello is 256 bytes long. */
#define HELLO_NAME_AT 2

/* Any hello we read or write has offsets of at most 2 bytes, and
 * name_end fits in them. */
G_STATIC_ASSERT (SOTTO_HELLO_MAX_LEN <= G_MAXUINT16);

static inline gsize
hello_port_at (gsize name_end)
{
  return name_end + (name_end & 1);
}

static inline gsize
hello_capabilities_at (gsize name_end)
{
  return (hello_port_at (name_end) + 2 + 7) & ~(gsize) 7;
}

/* @hello has passed hello_validate(). */
static GBytes *
encode_hello (const SottoHello *hello)
{
  const char *intro = hello->intro != NULL ? hello->intro : "";
  gsize name_len = strlen (hello->display_name);
  gsize intro_len = strlen (intro);
  gsize name_end = HELLO_NAME_AT + name_len + 1;
  gsize port_at = hello_port_at (name_end);
  gsize capabilities_at = hello_capabilities_at (name_end);
  gsize unframed = capabilities_at + 8 + intro_len + 1;
  gsize k = framing_offset_size (unframed);
  guint16 version = GUINT16_TO_LE (hello->version);
  guint16 port = GUINT16_TO_LE (hello->listen_port);
  guint64 capabilities = GUINT64_TO_LE (hello->capabilities);
  guint8 *p;

  /* Zeroed: that is the padding. */
  p = g_malloc0 (unframed + k);
  memcpy (p, &version, 2);
  memcpy (p + HELLO_NAME_AT, hello->display_name, name_len + 1);
  memcpy (p + port_at, &port, 2);
  memcpy (p + capabilities_at, &capabilities, 8);
  memcpy (p + capabilities_at + 8, intro, intro_len + 1);
  p[unframed] = (guint8) name_end;
  if (k == 2)
    p[unframed + 1] = (guint8) (name_end >> 8);

  return g_bytes_new_take (p, unframed + k);
}

/* What normal form asks of an "s" from @at up to @end: valid UTF-8, then
 * its NUL, and no other (g_utf8_validate() refuses a NUL in its length). */
static gboolean
is_wire_string (const guint8 *data,
                gsize         at,
                gsize         end)
{
  return data[end - 1] == '\0' &&
         g_utf8_validate ((const char *) data + at, end - at - 1, NULL);
}

/* The valid hellos, each checked exactly as the reference path checks
 * it: returns the hello, or %NULL for anything else, which the
 * reference path then decodes or refuses with its reason. */
static SottoHello *
decode_hello_fast (const guint8 *data,
                   gsize         len)
{
  SottoHello view;
  SottoHello *hello;
  gsize k = len <= G_MAXUINT8 ? 1 : 2;
  gsize name_end;
  gsize port_at;
  gsize capabilities_at;
  gsize intro_at;
  gsize intro_end;
  guint16 u16;
  guint64 u64;

  g_assert (len > 0 && len <= SOTTO_HELLO_MAX_LEN);

  /* The offset size the encoder would have chosen. */
  intro_end = len - k;
  if (framing_offset_size (intro_end) != k)
    return NULL;

  name_end = data[len - k];
  if (k == 2)
    name_end |= (gsize) data[len - 1] << 8;

  /* The name's NUL at least; then every fixed field and the intro's
   * NUL before the offset. */
  if (name_end < HELLO_NAME_AT + 1)
    return NULL;
  port_at = hello_port_at (name_end);
  capabilities_at = hello_capabilities_at (name_end);
  intro_at = capabilities_at + 8;
  if (intro_at >= intro_end)
    return NULL;

  for (gsize i = name_end; i < port_at; i++)
    if (data[i] != 0)
      return NULL;
  for (gsize i = port_at + 2; i < capabilities_at; i++)
    if (data[i] != 0)
      return NULL;

  if (!is_wire_string (data, HELLO_NAME_AT, name_end) ||
      !is_wire_string (data, intro_at, intro_end))
    return NULL;

  memcpy (&u16, data, 2);
  view.version = GUINT16_FROM_LE (u16);
  view.display_name = (char *) data + HELLO_NAME_AT;
  memcpy (&u16, data + port_at, 2);
  view.listen_port = GUINT16_FROM_LE (u16);
  memcpy (&u64, data + capabilities_at, 8);
  view.capabilities = GUINT64_FROM_LE (u64);
  view.intro = (char *) data + intro_at;

  if (!hello_validate (&view, NULL))
    return NULL;

  hello = g_new (SottoHello, 1);
  *hello = view;
  hello->display_name = g_memdup2 (data + HELLO_NAME_AT, name_end - HELLO_NAME_AT);
  hello->intro = g_memdup2 (data + intro_at, intro_end - intro_at);

  return hello;
}

/**
 * sotto_hello_decode:
 * @data: (array length=len): the payload of handshake message 2 (the
 *   responder's hello) or 3 (the initiator's)
 * @len: its length
 * @error: return location for a #SOTTO_PAYLOAD_ERROR_MALFORMED
 *
 * A higher version is accepted: it is a later minor revision of the same
 * protocol. Unknown capability bits are kept, for the caller to ignore.
 *
 * Returns: (transfer full) (nullable): the hello, or %NULL if it is
 *   malformed, which fails the handshake
 */
SottoHello *
sotto_hello_decode (const guint8  *data,
                    gsize          len,
                    GError       **error)
{
  SottoHello *hello;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len > 0 && len <= SOTTO_HELLO_MAX_LEN)
    {
      hello = decode_hello_fast (data, len);
      if (hello != NULL)
        return hello;
    }

  /* Every hello the fast path did not accept: the reference decides
   * what is malformed, and why. */
  return _sotto_hello_decode_glib (data, len, error);
}

/**
 * _sotto_hello_decode_glib:
 *
 * sotto_hello_decode() with GLib alone checking the serialization: the
 * reference that the fast path must agree with. For tests; the decoder
 * falls back to it for everything the fast path does not accept.
 */
SottoHello *
_sotto_hello_decode_glib (const guint8  *data,
                          gsize          len,
                          GError       **error)
{
  g_autoptr (SottoHello) hello = NULL;
  g_autoptr (GVariant) variant = NULL;
  const char *display_name;
  const char *intro;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len == 0)
    {
      malformed (error, "hello is missing: the handshake payload is empty");
      return NULL;
    }

  if (len > SOTTO_HELLO_MAX_LEN)
    {
      malformed (error, "hello is %" G_GSIZE_FORMAT " bytes, at most %d",
                 len, SOTTO_HELLO_MAX_LEN);
      return NULL;
    }

  variant = variant_from_wire (HELLO_TYPE, data, len, "hello", error);
  if (variant == NULL)
    return NULL;

  hello = g_new0 (SottoHello, 1);
  g_variant_get (variant, "(q&sqt&s)", &hello->version, &display_name,
                 &hello->listen_port, &hello->capabilities, &intro);
  hello->display_name = g_strdup (display_name);
  hello->intro = g_strdup (intro);

  if (!hello_validate (hello, error))
    return NULL;

  return g_steal_pointer (&hello);
}

/**
 * sotto_hello_encode:
 * @hello: our hello; a %NULL intro is sent as ""
 * @error: return location for a #SOTTO_PAYLOAD_ERROR_MALFORMED
 *
 * Returns: (transfer full) (nullable): the handshake payload, or %NULL if
 *   a peer would refuse it
 */
GBytes *
sotto_hello_encode (const SottoHello  *hello,
                    GError           **error)
{
  g_return_val_if_fail (hello != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hello_validate (hello, error))
    return NULL;

  return encode_hello (hello);
}

/**
 * _sotto_hello_encode_glib:
 *
 * sotto_hello_encode() with GLib serializing: the reference that the
 * hand-written serialization must agree with. For tests.
 */
GBytes *
_sotto_hello_encode_glib (const SottoHello  *hello,
                          GError           **error)
{
  GVariant *variant;

  g_return_val_if_fail (hello != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hello_validate (hello, error))
    return NULL;

  variant = g_variant_new ("(qsqts)", hello->version, hello->display_name,
                           hello->listen_port, hello->capabilities,
                           hello->intro != NULL ? hello->intro : "");

  return variant_to_wire (-1, variant);
}

/**
 * sotto_hello_check_empty:
 * @data: (array length=len) (nullable): the payload of handshake message 1
 * @len: its length
 * @error: return location for a #SOTTO_PAYLOAD_ERROR_MALFORMED
 *
 * Message 1 is neither encrypted nor authenticated, so it carries
 * nothing: an initiator sends an empty payload and a responder refuses
 * any other.
 *
 * Returns: %TRUE if the payload is empty
 */
gboolean
sotto_hello_check_empty (const guint8  *data,
                         gsize          len,
                         GError       **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len != 0)
    {
      malformed (error, "first handshake message carries a %" G_GSIZE_FORMAT "-byte payload, "
                 "must be empty", len);
      return FALSE;
    }

  return TRUE;
}

gboolean
sotto_hello_equal (const SottoHello *a,
                   const SottoHello *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  return a->version == b->version &&
         g_strcmp0 (a->display_name, b->display_name) == 0 &&
         a->listen_port == b->listen_port &&
         a->capabilities == b->capabilities &&
         g_strcmp0 (a->intro != NULL ? a->intro : "", b->intro != NULL ? b->intro : "") == 0;
}

void
sotto_hello_free (SottoHello *hello)
{
  if (hello == NULL)
    return;

  g_free (hello->display_name);
  g_free (hello->intro);
  g_free (hello);
}
