/* sotto-time.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions of two instants (the time shown and "now"), in the
 * local time zone, so that the contact list, the chat view and sotto-cli
 * say the same thing and tests can fix "now".
 */
#define G_LOG_DOMAIN "sotto-time"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "sotto-time.h"

static GDateTime *
local_time (gint64 usec)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);

  return utc != NULL ? g_date_time_to_local (utc) : NULL;
}

/* Whole calendar days from @then to @now, local time: 0 today, 1 yesterday. */
static int
days_between (GDateTime *then,
              GDateTime *now)
{
  g_autoptr (GDate) a = g_date_new_dmy ((GDateDay)g_date_time_get_day_of_month (then),
                                        (GDateMonth)g_date_time_get_month (then),
                                        (GDateYear)g_date_time_get_year (then));
  g_autoptr (GDate) b = g_date_new_dmy ((GDateDay)g_date_time_get_day_of_month (now),
                                        (GDateMonth)g_date_time_get_month (now),
                                        (GDateYear)g_date_time_get_year (now));

  return g_date_days_between (a, b);
}

/**
 * sotto_time_format_clock:
 * @usec: microseconds since the epoch
 *
 * Returns: (transfer full): the local time of day, "14:05"
 */
char *
sotto_time_format_clock (gint64 usec)
{
  g_autoptr (GDateTime) then = local_time (usec);

  if (then == NULL)
    return g_strdup ("");
  /* Translators: a time of day, see g_date_time_format() (%H:%M is 14:05). */
  return g_date_time_format (then, _("%H:%M"));
}

/**
 * sotto_time_format_iso8601:
 * @usec: microseconds since the epoch
 *
 * Returns: (transfer full): the time in UTC, to the second, as scripts
 *   read it: "2026-12-06T14:05:00Z"; "?" for a time GLib can't represent
 */
char *
sotto_time_format_iso8601 (gint64 usec)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);

  return utc != NULL ? g_date_time_format_iso8601 (utc) : g_strdup ("?");
}

/**
 * sotto_time_format_short:
 * @usec: microseconds since the epoch; 0 means never
 * @now_usec: the present
 *
 * When something last happened, as short as a contact list wants it:
 * the time today, "Yesterday", the weekday within a week, else the date.
 *
 * Returns: (transfer full): the text, "" for never
 */
char *
sotto_time_format_short (gint64 usec,
                         gint64 now_usec)
{
  g_autoptr (GDateTime) then = NULL;
  g_autoptr (GDateTime) now = NULL;
  int days;

  if (usec <= 0 || (then = local_time (usec)) == NULL || (now = local_time (now_usec)) == NULL)
    return g_strdup ("");

  days = days_between (then, now);
  if (days <= 0)
    return sotto_time_format_clock (usec);
  if (days == 1)
    return g_strdup (_("Yesterday"));
  if (days < 7)
    return g_date_time_format (then, "%A");
  if (g_date_time_get_year (then) == g_date_time_get_year (now))
    /* Translators: a date in this year, see g_date_time_format() (%-e %b is 3 Mar). */
    return g_date_time_format (then, _("%-e %b"));
  /* Translators: a date in another year, see g_date_time_format(). */
  return g_date_time_format (then, _("%-e %b %Y"));
}

/**
 * sotto_time_format_day:
 * @usec: microseconds since the epoch
 * @now_usec: the present
 *
 * The heading of a day in a conversation: "Today", "Yesterday", the
 * weekday within a week, else the full date.
 *
 * Returns: (transfer full): the text
 */
char *
sotto_time_format_day (gint64 usec,
                       gint64 now_usec)
{
  g_autoptr (GDateTime) then = local_time (usec);
  g_autoptr (GDateTime) now = local_time (now_usec);
  int days;

  if (then == NULL || now == NULL)
    return g_strdup ("");

  days = days_between (then, now);
  if (days <= 0)
    return g_strdup (_("Today"));
  if (days == 1)
    return g_strdup (_("Yesterday"));
  if (days < 7)
    return g_date_time_format (then, "%A");
  /* Translators: a full date, see g_date_time_format() (%A %-e %B %Y is Tuesday 3 March 2026). */
  return g_date_time_format (then, _("%A %-e %B %Y"));
}

/**
 * sotto_time_same_day:
 *
 * Returns: whether two instants fall on the same local calendar day
 */
gboolean
sotto_time_same_day (gint64 a_usec,
                     gint64 b_usec)
{
  g_autoptr (GDateTime) a = local_time (a_usec);
  g_autoptr (GDateTime) b = local_time (b_usec);

  return a != NULL && b != NULL && days_between (a, b) == 0;
}
