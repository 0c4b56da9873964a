/* sotto-message.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-message"

#include "config.h"

#include <string.h>

#include "sotto-message-private.h"

struct _SottoMessage
{
  GObject parent_instance;

  gint64             id;
  gint64             contact_id;
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
