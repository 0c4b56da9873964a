/* sotto-notification.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The privacy setting decides what a notification shows on a screen that
 * others may see: the sender and the message, the sender only, or
 * nothing but "New message". A stranger's request never shows the
 * stranger's words (that would be spim on the desktop). Texts come out
 * escaped for the notification server, which may read the body as markup.
 */
#define G_LOG_DOMAIN "sotto-notification"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "sotto-notification.h"
#include "sotto-text.h"

/**
 * sotto_notify_content_from_nick:
 * @nick: (nullable): a value of the `notification-content` setting
 *
 * Returns: the level; anything unknown is the most private one
 */
SottoNotifyContent
sotto_notify_content_from_nick (const char *nick)
{
  if (g_strcmp0 (nick, "sender-and-message") == 0)
    return SOTTO_NOTIFY_SENDER_AND_MESSAGE;
  if (g_strcmp0 (nick, "sender-only") == 0)
    return SOTTO_NOTIFY_SENDER_ONLY;
  return SOTTO_NOTIFY_NOTHING;
}

/* Someone else's text on one line, cut to @max_chars (0: no limit). */
static char *
clean_one_line (const char *text,
                glong       max_chars)
{
  g_autofree char *clean = sotto_display_text (text, TRUE);

  if (max_chars > 0 && g_utf8_strlen (clean, -1) > max_chars)
    {
      g_autofree char *head = g_utf8_substring (clean, 0, max_chars - 1);

      return g_strconcat (head, "…", NULL);
    }

  return g_steal_pointer (&clean);
}

/* The body may be read as markup; the summary never is. */
static char *
escaped_one_line (const char *text,
                  glong       max_chars)
{
  g_autofree char *clean = clean_one_line (text, max_chars);

  return g_markup_escape_text (clean, -1);
}

/**
 * sotto_notification_for_message:
 * @content: what the user allows to be shown
 * @sender: the contact's name
 * @body: the newest message
 * @unseen: how many messages of this conversation the user has not seen
 *   yet, this one included (the notification is updated, not repeated)
 * @out_summary: (out) (transfer full): the title, plain text
 * @out_body: (out) (transfer full) (nullable): the text, escaped for
 *   servers that read it as markup, or %NULL for none
 */
void
sotto_notification_for_message (SottoNotifyContent   content,
                                const char          *sender,
                                const char          *body,
                                guint                unseen,
                                char               **out_summary,
                                char               **out_body)
{
  g_return_if_fail (sender != NULL && body != NULL);
  g_return_if_fail (out_summary != NULL && out_body != NULL);

  switch (content)
    {
    case SOTTO_NOTIFY_SENDER_AND_MESSAGE:
      *out_summary = clean_one_line (sender, 0);
      if (unseen > 1)
        {
          g_autofree char *text = escaped_one_line (body, SOTTO_NOTIFICATION_BODY_MAX_CHARS);

          /* Translators: %s is the newest message; %u how many there are. */
          *out_body = g_strdup_printf (ngettext ("%s\n(%u new message)", "%s\n(%u new messages)",
                                                 unseen), text, unseen);
        }
      else
        *out_body = escaped_one_line (body, SOTTO_NOTIFICATION_BODY_MAX_CHARS);
      break;

    case SOTTO_NOTIFY_SENDER_ONLY:
      {
        g_autofree char *name = clean_one_line (sender, 0);

        if (unseen <= 1)
          *out_summary = g_strdup_printf (_("New message from %s"), name);
        else
          *out_summary = g_strdup_printf (ngettext ("%u new message from %s",
                                                    "%u new messages from %s", unseen),
                                          unseen, name);
        *out_body = NULL;
      }
      break;

    case SOTTO_NOTIFY_NOTHING:
    default:
      *out_summary = g_strdup (_("New message"));
      *out_body = NULL;
      break;
    }
}

/**
 * sotto_notification_for_request:
 *
 * A contact request, whatever the setting: never the stranger's name or
 * words.
 */
void
sotto_notification_for_request (char **out_summary,
                                char **out_body)
{
  g_return_if_fail (out_summary != NULL && out_body != NULL);

  *out_summary = g_strdup (_("New contact request"));
  *out_body = NULL;
}

/**
 * sotto_notification_for_file:
 * @content: how much the user lets notifications show
 * @sender: the contact's name
 * @file_name: the file's name as the file guard shows it (hidden
 *   characters made visible)
 * @size: its size in bytes
 * @out_summary: (out): the notification's title, plain text
 * @out_body: (out) (nullable): its body, escaped for markup, or %NULL
 *
 * The notification for a file offered: with the message content allowed,
 * who offers what; with the sender only, who; else only that a file
 * waits. It never says the file is safe: nothing has been checked yet.
 */
void
sotto_notification_for_file (SottoNotifyContent   content,
                             const char          *sender,
                             const char          *file_name,
                             guint64              size,
                             char               **out_summary,
                             char               **out_body)
{
  g_return_if_fail (sender != NULL && file_name != NULL);
  g_return_if_fail (out_summary != NULL && out_body != NULL);

  switch (content)
    {
    case SOTTO_NOTIFY_SENDER_AND_MESSAGE:
      {
        g_autofree char *name = clean_one_line (sender, 0);
        g_autofree char *file = escaped_one_line (file_name, SOTTO_NOTIFICATION_BODY_MAX_CHARS);
        g_autofree char *size_text = g_format_size (size);

        *out_summary = g_strdup_printf (_("%s offers you a file"), name);
        /* Translators: a file offered: its name and its size, "report.pdf (1.2 MB)". */
        *out_body = g_strdup_printf (_("%s (%s)"), file, size_text);
      }
      break;

    case SOTTO_NOTIFY_SENDER_ONLY:
      {
        g_autofree char *name = clean_one_line (sender, 0);

        *out_summary = g_strdup_printf (_("%s offers you a file"), name);
        *out_body = NULL;
      }
      break;

    case SOTTO_NOTIFY_NOTHING:
    default:
      *out_summary = g_strdup (_("A file is offered to you"));
      *out_body = NULL;
      break;
    }
}
