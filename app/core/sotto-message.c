/* sotto-message.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-message"

#include "config.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <string.h>
#include <glib/gi18n-lib.h>

#include "sotto-error.h"
#include "sotto-message-private.h"

struct _SottoMessage
{
  GObject parent_instance;

  gint64             id;
  gint64             contact_id;      /* 0 in a group's conversation */
  gint64             group_id;        /* the store's id of its group, or 0 */
  gint64             sender_id;       /* in a group: the contact that wrote it, 0 for us */
  guint8             uid[SOTTO_MESSAGE_UID_LEN];
  SottoDirection     direction;
  SottoMessageState  state;
  gint64             sent;
  gint64             received;
  char              *body;
};

G_DEFINE_FINAL_TYPE (SottoMessage, sotto_message, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_ENUM_TYPE (SottoDirection, sotto_direction,
                    G_DEFINE_ENUM_VALUE (SOTTO_DIRECTION_OUT, "out"),
                    G_DEFINE_ENUM_VALUE (SOTTO_DIRECTION_IN, "in"))

G_DEFINE_ENUM_TYPE (SottoMessageState, sotto_message_state,
                    G_DEFINE_ENUM_VALUE (SOTTO_MESSAGE_QUEUED, "queued"),
                    G_DEFINE_ENUM_VALUE (SOTTO_MESSAGE_SENT, "sent"),
                    G_DEFINE_ENUM_VALUE (SOTTO_MESSAGE_DELIVERED, "delivered"),
                    G_DEFINE_ENUM_VALUE (SOTTO_MESSAGE_READ, "read"),
                    G_DEFINE_ENUM_VALUE (SOTTO_MESSAGE_FAILED, "failed"))

static void
sotto_message_finalize (GObject *object)
{
  SottoMessage *self = (SottoMessage *)object;

  g_clear_pointer (&self->body, g_free);

  G_OBJECT_CLASS (sotto_message_parent_class)->finalize (object);
}

static void
sotto_message_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  SottoMessage *self = SOTTO_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_message_class_init (SottoMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sotto_message_finalize;
  object_class->get_property = sotto_message_get_property;

  /**
   * SottoMessage:state:
   *
   * Where the message is on its way; the only thing about a message that
   * changes, so a chat view can show "delivered" as it happens.
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       SOTTO_TYPE_MESSAGE_STATE, SOTTO_MESSAGE_QUEUED,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sotto_message_init (SottoMessage *self)
{
}

SottoMessage *
_sotto_message_new (gint64             id,
                    gint64             contact_id,
                    const guint8      *uid,
                    SottoDirection     direction,
                    SottoMessageState  state,
                    gint64             sent,
                    gint64             received,
                    const char        *body)
{
  SottoMessage *self = g_object_new (SOTTO_TYPE_MESSAGE, NULL);

  self->id = id;
  self->contact_id = contact_id;
  memcpy (self->uid, uid, SOTTO_MESSAGE_UID_LEN);
  self->direction = direction;
  self->state = state;
  self->sent = sent;
  self->received = received;
  self->body = g_strdup (body);

  return self;
}

void
_sotto_message_set_state (SottoMessage      *self,
                          SottoMessageState  state)
{
  g_return_if_fail (SOTTO_IS_MESSAGE (self));

  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

gint64
sotto_message_get_id (SottoMessage *self)
{
  g_return_val_if_fail (SOTTO_IS_MESSAGE (self), 0);
  return self->id;
}

/**
 * sotto_message_get_group_id:
 *
 * Returns: the store's id of the group whose conversation this message
 *   is in, or 0 for a direct message
 */
gint64
sotto_message_get_group_id (SottoMessage *self)
{
  g_return_val_if_fail (SOTTO_IS_MESSAGE (self), 0);

  return self->group_id;
}

/**
 * sotto_message_get_sender_id:
 *
 * Returns: in a group, the id of the contact (or member-only peer) who
 *   wrote an incoming message; 0 for ours and for direct messages
 */
gint64
sotto_message_get_sender_id (SottoMessage *self)
{
  g_return_val_if_fail (SOTTO_IS_MESSAGE (self), 0);

  return self->sender_id;
}

void
_sotto_message_set_group (SottoMessage *self,
                          gint64        group_id,
                          gint64        sender_id)
{
  g_return_if_fail (SOTTO_IS_MESSAGE (self));

  self->group_id = group_id;
  self->sender_id = sender_id;
}

gint64
sotto_message_get_contact_id (SottoMessage *self)
{
  g_return_val_if_fail (SOTTO_IS_MESSAGE (self), 0);
  return self->contact_id;
}

/**
 * sotto_message_get_uid:
 *
 * Returns: (array fixed-size=16): the message's random id, the same on
 *   both sides of the conversation
 */
const guint8 *
sotto_message_get_uid (SottoMessage *self)
{
  g_return_val_if_fail (SOTTO_IS_MESSAGE (self), NULL);
  return self->uid;
}

char *
sotto_message_dup_uid_hex (SottoMessage *self)
{
  GString *hex;

  g_return_val_if_fail (SOTTO_IS_MESSAGE (self), NULL);

  hex = g_string_sized_new (2 * SOTTO_MESSAGE_UID_LEN);
  for (guint i = 0; i < SOTTO_MESSAGE_UID_LEN; i++)
    g_string_append_printf (hex, "%02x", self->uid[i]);

  return g_string_free (hex, FALSE);
}

SottoDirection
sotto_message_get_direction (SottoMessage *self)
{
  g_return_val_if_fail (SOTTO_IS_MESSAGE (self), SOTTO_DIRECTION_OUT);
  return self->direction;
}

SottoMessageState
sotto_message_get_state (SottoMessage *self)
{
  g_return_val_if_fail (SOTTO_IS_MESSAGE (self), SOTTO_MESSAGE_QUEUED);
  return self->state;
}

const char *
sotto_message_get_body (SottoMessage *self)
{
  g_return_val_if_fail (SOTTO_IS_MESSAGE (self), NULL);
  return self->body;
}

/* Microseconds since the Unix epoch, by the sender's clock. */
gint64
sotto_message_get_sent (SottoMessage *self)
{
  g_return_val_if_fail (SOTTO_IS_MESSAGE (self), 0);
  return self->sent;
}

/* Microseconds since the Unix epoch, by our clock; 0 for our own messages. */
gint64
sotto_message_get_received (SottoMessage *self)
{
  g_return_val_if_fail (SOTTO_IS_MESSAGE (self), 0);
  return self->received;
}

const char *
sotto_message_state_to_string (SottoMessageState state)
{
  switch (state)
    {
    case SOTTO_MESSAGE_SENT:
      return "sent";
    case SOTTO_MESSAGE_DELIVERED:
      return "delivered";
    case SOTTO_MESSAGE_READ:
      return "read";
    case SOTTO_MESSAGE_FAILED:
      return "failed";
    case SOTTO_MESSAGE_QUEUED:
    default:
      return "queued";
    }
}

/* Where @len bytes stop being UTF-8 without NUL: @len if they never do.
 *
 * Every body of every payload goes through here, on both sides of the
 * wire, and most are ASCII: skip ASCII without NUL 32 and then 8 bytes
 * at a time, and leave the rest of each non-ASCII stretch to
 * g_utf8_validate(), which is exact but goes byte by byte. A stretch
 * handed over ends right before an ASCII byte, never inside a
 * character, so the verdict is g_utf8_validate()'s on the whole body. */
static gsize
body_valid_prefix (const char *body,
                   gsize       len)
{
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
  const guint64 high = G_GUINT64_CONSTANT (0x8080808080808080);
  const char *p = body;
  const char *end = body + len;

  /* A word's high bits, and (w - ones) & ~w, which has a high bit set
   * if and only if the word holds a zero byte. */
#define NOT_PLAIN_ASCII(w) (((w) | (((w) - ones) & ~(w))) & high)

  while (p < end)
    {
      const char *q;

#ifdef __SSE2__
      /* 64 bytes at a time: no high bit in their OR, no zero in their
       * unsigned minimum. */
      while (end - p >= 64)
        {
          __m128i a = _mm_loadu_si128 ((const __m128i *) p);
          __m128i b = _mm_loadu_si128 ((const __m128i *) (p + 16));
          __m128i c = _mm_loadu_si128 ((const __m128i *) (p + 32));
          __m128i d = _mm_loadu_si128 ((const __m128i *) (p + 48));
          __m128i any = _mm_or_si128 (_mm_or_si128 (a, b), _mm_or_si128 (c, d));
          __m128i least = _mm_min_epu8 (_mm_min_epu8 (a, b), _mm_min_epu8 (c, d));

          if (_mm_movemask_epi8 (_mm_or_si128 (any, _mm_cmpeq_epi8 (least, _mm_setzero_si128 ()))) != 0)
            break;
          p += 64;
        }
#endif
      while (end - p >= 32)
        {
          guint64 words[4];

          memcpy (words, p, sizeof words);
          if ((NOT_PLAIN_ASCII (words[0]) | NOT_PLAIN_ASCII (words[1]) |
               NOT_PLAIN_ASCII (words[2]) | NOT_PLAIN_ASCII (words[3])) != 0)
            break;
          p += 32;
        }
      while (end - p >= 8)
        {
          guint64 word;

          memcpy (&word, p, sizeof word);
          if (NOT_PLAIN_ASCII (word) != 0)
            break;
          p += 8;
        }
      while (p < end && *p != '\0' && (guchar) *p < 0x80)
        p++;
      if (p == end || *p == '\0')
        break;

      /* A non-ASCII stretch, up to the next ASCII byte or the end. */
      for (q = p + 1; q < end && (guchar) *q >= 0x80; q++)
        ;
      if (!g_utf8_validate (p, q - p, NULL))
        break;
      p = q;
    }

#undef NOT_PLAIN_ASCII

  return p - body;
}

/**
 * sotto_message_body_validate_len:
 * @body: (array length=len): the text, not necessarily NUL-terminated
 * @len: its length in bytes
 *
 * sotto_message_body_validate() for a body whose length is known, which
 * it then does not look for: valid UTF-8 without NUL, 1 to
 * %SOTTO_MESSAGE_BODY_MAX bytes.
 */
gboolean
sotto_message_body_validate_len (const char  *body,
                                 gsize        len,
                                 GError     **error)
{
  gsize valid;

  if (body == NULL || len == 0)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The message is empty"));
      return FALSE;
    }

  if (len > SOTTO_MESSAGE_BODY_MAX)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("The message is longer than %d bytes"), SOTTO_MESSAGE_BODY_MAX);
      return FALSE;
    }

  valid = body_valid_prefix (body, len);
  if (valid != len)
    {
      if (body[valid] == '\0')
        g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                             _("The message contains a NUL byte"));
      else
        g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                             _("The message is not valid UTF-8 text"));
      return FALSE;
    }

  return TRUE;
}

/**
 * sotto_message_body_validate:
 *
 * A message body is valid UTF-8 without NUL, 1 to %SOTTO_MESSAGE_BODY_MAX
 * bytes.
 */
gboolean
sotto_message_body_validate (const char  *body,
                             GError     **error)
{
  if (body == NULL)
    return sotto_message_body_validate_len (NULL, 0, error);

  /* Past the limit is enough to know it is too long. */
  return sotto_message_body_validate_len (body, strnlen (body, SOTTO_MESSAGE_BODY_MAX + 1), error);
}
