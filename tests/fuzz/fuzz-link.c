/* fuzz-link.c — the link finder and the link guard, on any message text
 *
 * Whatever a stranger writes, the finder's spans must be well-formed and
 * every verdict must keep its promises: blocked exactly when there is no
 * URI, a URI in plain ASCII, a display text that hides nothing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "fuzz-common.h"
#include "sotto-link-guard.h"

static const SottoLinkSender senders[] = {
  SOTTO_LINK_SENDER_VERIFIED,
  SOTTO_LINK_SENDER_UNVERIFIED,
  SOTTO_LINK_SENDER_STRANGER,
};

static gboolean
is_hidden (gunichar c)
{
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
         c == 0x200E || c == 0x200F || c == 0x061C ||                  /* bidi controls */
         (c >= 0x200B && c <= 0x200D) || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF ||
         c == 0x00AD || c == 0x180E || (c >= 0xFE00 && c <= 0xFE0F) ||
         (c >= 0xE0000 && c <= 0xE007F);                               /* invisible */
}

static void
check_verdict (const char             *link_text,
               const SottoLinkVerdict *verdict)
{
  SottoLinkSeverity worst = SOTTO_LINK_NOTE;
  gboolean trusted = FALSE;
  SottoLinkVerdict *copy = NULL;

  FUZZ_CHECK (verdict != NULL);
  FUZZ_CHECK (verdict->link != NULL && strcmp (verdict->link, link_text) == 0);
  FUZZ_CHECK (verdict->scheme != NULL);
  FUZZ_CHECK (verdict->findings != NULL);
  FUZZ_CHECK (verdict->port >= -1 && verdict->port <= 65535);

  /* Blocked exactly when there is nothing to open. */
  FUZZ_CHECK ((verdict->action == SOTTO_LINK_BLOCK) == (verdict->uri == NULL));
  if (verdict->uri != NULL)
    for (const char *p = verdict->uri; *p != '\0'; p++)
      FUZZ_CHECK (*p > 0x20 && *p < 0x7F);

  /* What is shown is what is there: nothing invisible, nothing reordering. */
  FUZZ_CHECK (verdict->shown != NULL);
  FUZZ_CHECK (g_utf8_validate (verdict->shown, -1, NULL));
  for (const char *p = verdict->shown; *p != '\0'; p = g_utf8_next_char (p))
    FUZZ_CHECK (!is_hidden (g_utf8_get_char (p)));

  if (verdict->host != NULL)
    FUZZ_CHECK (g_utf8_validate (verdict->host, -1, NULL));
  if (verdict->host_ascii != NULL)
    for (const char *p = verdict->host_ascii; *p != '\0'; p++)
      FUZZ_CHECK ((guchar) *p < 0x80);
  if (verdict->registrable_domain != NULL)
    FUZZ_CHECK (g_utf8_validate (verdict->registrable_domain, -1, NULL));

  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoLinkFinding *finding = g_ptr_array_index (verdict->findings, i);

      FUZZ_CHECK (finding != NULL);
      FUZZ_CHECK (finding->id != NULL && finding->id[0] != '\0');
      FUZZ_CHECK (finding->text != NULL && finding->text[0] != '\0');
      FUZZ_CHECK ((guint) finding->severity <= SOTTO_LINK_FATAL);
      FUZZ_CHECK (sotto_link_verdict_has_finding (verdict, finding->id));
      worst = MAX (worst, finding->severity);
      trusted |= g_str_equal (finding->id, "trusted");
    }

  /* The worst finding decides. */
  if (worst == SOTTO_LINK_FATAL)
    FUZZ_CHECK (verdict->action == SOTTO_LINK_BLOCK);
  else if (worst == SOTTO_LINK_SUSPECT)
    FUZZ_CHECK (verdict->action == SOTTO_LINK_WARN);
  else if (trusted)
    FUZZ_CHECK (verdict->action == SOTTO_LINK_OPEN);
  else
    FUZZ_CHECK (verdict->action == SOTTO_LINK_ASK);

  /* Past the limit, nothing else is looked at. */
  if (strlen (link_text) > SOTTO_LINK_MAX_LEN)
    FUZZ_CHECK (verdict->findings->len == 1 &&
                sotto_link_verdict_has_finding (verdict, "too-long"));

  FUZZ_CHECK (sotto_link_action_to_string (verdict->action) != NULL);

  /* A copy owns the same values, for ASan to check. */
  copy = sotto_link_verdict_copy (verdict);
  FUZZ_CHECK (copy != NULL && copy->findings->len == verdict->findings->len);
  FUZZ_CHECK (g_strcmp0 (copy->uri, verdict->uri) == 0);
  FUZZ_CHECK (g_strcmp0 (copy->shown, verdict->shown) == 0);
  FUZZ_CHECK (g_strcmp0 (copy->host, verdict->host) == 0);
  FUZZ_CHECK (copy->action == verdict->action);
  sotto_link_verdict_free (copy);
}

static void
check_link (const char *link_text)
{
  for (guint s = 0; s < G_N_ELEMENTS (senders); s++)
    {
      g_autoptr (SottoLinkVerdict) verdict = sotto_link_guard_check (link_text, senders[s], NULL);

      check_verdict (link_text, verdict);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = NULL;
  g_autoptr (GArray) spans = NULL;
  gsize previous_end = 0;

  /* Messages are validated UTF-8, without NUL, before the finder sees them. */
  if (!g_utf8_validate_len ((const char *) data, size, NULL))
    return 0;
  text = g_strndup ((const char *) data, size);

  spans = sotto_link_find (text);
  FUZZ_CHECK (spans != NULL);
  for (guint i = 0; i < spans->len; i++)
    {
      const SottoLinkSpan *span = &g_array_index (spans, SottoLinkSpan, i);
      g_autofree char *link_text = NULL;

      /* In order, apart, inside the text, on character boundaries. */
      FUZZ_CHECK (span->start >= previous_end);
      FUZZ_CHECK (span->start < span->end);
      FUZZ_CHECK (span->end <= size);
      FUZZ_CHECK (((guchar) text[span->start] & 0xC0) != 0x80);
      FUZZ_CHECK (span->end == size || ((guchar) text[span->end] & 0xC0) != 0x80);
      previous_end = span->end;

      link_text = g_strndup (text + span->start, span->end - span->start);
      FUZZ_CHECK (g_utf8_validate (link_text, -1, NULL));
      check_link (link_text);
    }

  /* A whole message handed to the guard as one link, too. */
  check_link (text);

  return 0;
}
