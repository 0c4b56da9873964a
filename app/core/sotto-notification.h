/* sotto-notification.h — what a desktop notification may say
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The `notification-content` setting, by its nicks. */
typedef enum
{
  SOTTO_NOTIFY_SENDER_AND_MESSAGE,
  SOTTO_NOTIFY_SENDER_ONLY,
  SOTTO_NOTIFY_NOTHING,
} SottoNotifyContent;

/* Longer messages are cut, on a character boundary, with an ellipsis. */
#define SOTTO_NOTIFICATION_BODY_MAX_CHARS 200

SottoNotifyContent sotto_notify_content_from_nick  (const char          *nick);
void               sotto_notification_for_message  (SottoNotifyContent   content,
                                                    const char          *sender,
                                                    const char          *body,
                                                    guint                unseen,
                                                    char               **out_summary,
                                                    char               **out_body);
void               sotto_notification_for_request  (char               **out_summary,
                                                    char               **out_body);

void               sotto_notification_for_file    (SottoNotifyContent   content,
                                                   const char          *sender,
                                                   const char          *file_name,
                                                   guint64              size,
                                                   char               **out_summary,
                                                   char               **out_body);

G_END_DECLS
