/* sotto-message.h — one message of a conversation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  SOTTO_DIRECTION_OUT = 0,
  SOTTO_DIRECTION_IN = 1,
} SottoDirection;

typedef enum
{
  SOTTO_MESSAGE_QUEUED = 0,
  SOTTO_MESSAGE_SENT = 1,
  SOTTO_MESSAGE_DELIVERED = 2,
  SOTTO_MESSAGE_READ = 3,
  SOTTO_MESSAGE_FAILED = 4,
} SottoMessageState;

#define SOTTO_TYPE_DIRECTION     (sotto_direction_get_type ())
#define SOTTO_TYPE_MESSAGE_STATE (sotto_message_state_get_type ())
GType sotto_direction_get_type     (void);
GType sotto_message_state_get_type (void);

/* Message ids are random, so nobody can guess or collide with them. */
#define SOTTO_MESSAGE_UID_LEN  16
/* A chat message, not a file: bigger text is refused before it is stored. */
#define SOTTO_MESSAGE_BODY_MAX (32 * 1024)

#define SOTTO_TYPE_MESSAGE (sotto_message_get_type ())

G_DECLARE_FINAL_TYPE (SottoMessage, sotto_message, SOTTO, MESSAGE, GObject)

gint64             sotto_message_get_id          (SottoMessage *self);
gint64             sotto_message_get_contact_id  (SottoMessage *self);
gint64             sotto_message_get_group_id    (SottoMessage *self);
gint64             sotto_message_get_sender_id   (SottoMessage *self);
const guint8      *sotto_message_get_uid         (SottoMessage *self);
char              *sotto_message_dup_uid_hex     (SottoMessage *self);
SottoDirection     sotto_message_get_direction   (SottoMessage *self);
SottoMessageState  sotto_message_get_state       (SottoMessage *self);
const char        *sotto_message_get_body        (SottoMessage *self);
gint64             sotto_message_get_sent        (SottoMessage *self);
gint64             sotto_message_get_received    (SottoMessage *self);
const char        *sotto_message_state_to_string (SottoMessageState state);

gboolean           sotto_message_body_validate     (const char    *body,
                                                    GError       **error);
gboolean           sotto_message_body_validate_len (const char    *body,
                                                    gsize          len,
                                                    GError       **error);

G_END_DECLS
