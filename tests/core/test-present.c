/* test-present.c — the pure functions behind what windows show: times,
 * untrusted text, link verdicts, notification texts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <glib.h>

#include "sotto-core.h"

/* Local noon on a given date, so that "a day before" is never a DST edge. */
static gint64
local_noon (int year,
            int month,
            int day,
            int hour,
            int minute)
{
  g_autoptr (GDateTime) when = g_date_time_new_local (year, month, day, hour, minute, 0);

  return g_date_time_to_unix (when) * G_USEC_PER_SEC;
}

static void
test_time_short (void)
{
  gint64 now = local_noon (2026, 11, 18, 12, 0);  /* a Wednesday */
  struct {
    gint64      when;
    const char *expected;
  } cases[] = {
    { 0, "" },
    { local_noon (2026, 11, 18, 9, 5), "09:05" },
    { local_noon (2026, 11, 18, 0, 0), "00:00" },
    { local_noon (2026, 11, 17, 23, 59), "Yesterday" },
    { local_noon (2026, 11, 16, 12, 0), "Monday" },
    { local_noon (2026, 11, 12, 12, 0), "Thursday" },      /* 6 days: still the weekday */
    { local_noon (2026, 11, 11, 12, 0), "11 Nov" },        /* 7 days: the date */
    { local_noon (2025, 12, 31, 12, 0), "31 Dec 2025" },   /* another year */
    { local_noon (2026, 11, 18, 18, 0), "18:00" },         /* later today (clock skew) */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = sotto_time_format_short (cases[i].when, now);
      g_autofree char *stripped = g_strstrip (g_strdup (text));

      g_assert_cmpstr (stripped, ==, cases[i].expected);
    }
}

static void
test_time_day (void)
{
  gint64 now = local_noon (2026, 11, 18, 12, 0);
  struct {
    gint64      when;
    const char *expected;
  } cases[] = {
    { local_noon (2026, 11, 18, 0, 1), "Today" },
    { local_noon (2026, 11, 17, 12, 0), "Yesterday" },
    { local_noon (2026, 11, 15, 12, 0), "Sunday" },
    { local_noon (2026, 3, 3, 12, 0), "Tuesday 3 March 2026" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = sotto_time_format_day (cases[i].when, now);

      g_assert_cmpstr (text, ==, cases[i].expected);
    }

  g_assert_true (sotto_time_same_day (local_noon (2026, 1, 2, 0, 0), local_noon (2026, 1, 2, 23, 59)));
  g_assert_false (sotto_time_same_day (local_noon (2026, 1, 2, 23, 59), local_noon (2026, 1, 3, 0, 0)));
}

static void
test_display_text (void)
{
  struct {
    const char *text;
    gboolean    one_line;
    const char *expected;
  } cases[] = {
    { "Ada Lovelace", TRUE, "Ada Lovelace" },
    { "two\nlines", FALSE, "two\nlines" },
    { "two\nlines", TRUE, "two lines" },
    { "tab\there", FALSE, "tab here" },
    { "bell\a and escape\x1b[31m", FALSE, "bell and escape[31m" },
    { "Bob\xe2\x80\xaegnp.exe", TRUE, "Bobgnp.exe" },                   /* U+202E override */
    { "a\xe2\x81\xa6" "b\xe2\x81\xa9" "c", TRUE, "abc" },                /* isolates */
    { "carriage\r\nreturn", TRUE, "carriage return" },
    { "line\xe2\x80\xa8sep", FALSE, "line\nsep" },                     /* U+2028 */
    { "line\xe2\x80\xa8sep", TRUE, "line sep" },
    { "family \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7", TRUE,
      "family \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7" },            /* ZWJ stays */
    { "<b>not markup</b> &amp;", TRUE, "<b>not markup</b> &amp;" },   /* left for the label */
    { "", TRUE, "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = sotto_display_text (cases[i].text, cases[i].one_line);

      g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

static void
test_notification_levels (void)
{
  struct {
    const char *nick;
    guint       unseen;
    const char *summary;
    const char *body;
  } cases[] = {
    { "sender-and-message", 1, "Ada <Lovelace>", "lunch &amp; &lt;b&gt;talk&lt;/b&gt;?" },
    { "sender-and-message", 3, "Ada <Lovelace>", "lunch &amp; &lt;b&gt;talk&lt;/b&gt;?\n(3 new messages)" },
    { "sender-only", 1, "New message from Ada <Lovelace>", NULL },
    { "sender-only", 2, "2 new messages from Ada <Lovelace>", NULL },
    { "nothing", 5, "New message", NULL },
    { "something-unknown", 1, "New message", NULL },
    { NULL, 1, "New message", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *summary = NULL;
      g_autofree char *body = NULL;

      sotto_notification_for_message (sotto_notify_content_from_nick (cases[i].nick),
                                      "Ada <Lovelace>", "lunch & <b>talk</b>?",
                                      cases[i].unseen, &summary, &body);
      g_assert_cmpstr (summary, ==, cases[i].summary);
      g_assert_cmpstr (body, ==, cases[i].body);
    }
}

/* A file offered: its name only where the message may be shown, and
 * escaped there; never a word on whether it is safe. */
static void
test_notification_file (void)
{
  const struct {
    const char *nick;
    const char *summary;
    const char *body;
  } cases[] = {
    { "sender-and-message", "Ada <Lovelace> offers you a file", "a&lt;b&gt;.pdf (1.2\u00a0MB)" },
    { "sender-only", "Ada <Lovelace> offers you a file", NULL },
    { "nothing", "A file is offered to you", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *summary = NULL;
      g_autofree char *body = NULL;

      sotto_notification_for_file (sotto_notify_content_from_nick (cases[i].nick),
                                   "Ada <Lovelace>", "a<b>.pdf", 1200000, &summary, &body);
      g_assert_cmpstr (summary, ==, cases[i].summary);
      g_assert_cmpstr (body, ==, cases[i].body);
    }
}

static void
test_notification_limits (void)
{
  g_autofree char *at_limit = g_strnfill (SOTTO_NOTIFICATION_BODY_MAX_CHARS, 'a');
  g_autofree char *past = g_strnfill (SOTTO_NOTIFICATION_BODY_MAX_CHARS + 1, 'a');
  g_autofree char *summary = NULL;
  g_autofree char *body = NULL;

  sotto_notification_for_message (SOTTO_NOTIFY_SENDER_AND_MESSAGE, "Ada", at_limit, 1,
                                  &summary, &body);
  g_assert_cmpstr (body, ==, at_limit);
  g_clear_pointer (&summary, g_free);
  g_clear_pointer (&body, g_free);

  sotto_notification_for_message (SOTTO_NOTIFY_SENDER_AND_MESSAGE, "Ada", past, 1,
                                  &summary, &body);
  g_assert_cmpint (g_utf8_strlen (body, -1), ==, SOTTO_NOTIFICATION_BODY_MAX_CHARS);
  g_assert_true (g_str_has_suffix (body, "…"));
  g_clear_pointer (&summary, g_free);
  g_clear_pointer (&body, g_free);

  /* Requests never carry the stranger's words. */
  sotto_notification_for_request (&summary, &body);
  g_assert_cmpstr (summary, ==, "New contact request");
  g_assert_null (body);
}

/* For scripts: UTC to the second, whatever the local zone; a time GLib
 * can't represent is "?", not a crash. */
static void
test_time_iso8601 (void)
{
  g_autofree char *epoch = sotto_time_format_iso8601 (0);
  g_autofree char *known = sotto_time_format_iso8601 (G_GINT64_CONSTANT (1796565900) * G_USEC_PER_SEC);
  g_autofree char *past = sotto_time_format_iso8601 (G_MAXINT64);

  g_assert_cmpstr (epoch, ==, "1970-01-01T00:00:00Z");
  g_assert_cmpstr (known, ==, "2026-12-06T14:05:00Z");
  g_assert_cmpstr (past, ==, "?");
}

/* A key as the command line prints it. */
static void
test_key_hex (void)
{
  guint8 key[SOTTO_KEY_LEN];
  g_autofree char *hex = NULL;

  for (guint i = 0; i < SOTTO_KEY_LEN; i++)
    key[i] = (guint8)(i * 17);
  hex = sotto_key_to_hex (key);
  g_assert_cmpuint (strlen (hex), ==, 2 * SOTTO_KEY_LEN);
  g_assert_true (g_str_has_prefix (hex, "00112233445566778899aabbccddeeff"));
}

int
main (int   argc,
      char *argv[])
{
  /* English texts and a fixed time zone for the expected strings. */
  g_setenv ("LANGUAGE", "C", TRUE);
  g_setenv ("TZ", "Europe/Berlin", TRUE);
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/present/time/short", test_time_short);
  g_test_add_func ("/present/time/day", test_time_day);
  g_test_add_func ("/present/time/iso8601", test_time_iso8601);
  g_test_add_func ("/present/key/hex", test_key_hex);
  g_test_add_func ("/present/text/display", test_display_text);
  g_test_add_func ("/present/notification/levels", test_notification_levels);
  g_test_add_func ("/present/notification/file", test_notification_file);
  g_test_add_func ("/present/notification/limits", test_notification_limits);

  return g_test_run ();
}
