/* sotto-text.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-text"

#include "config.h"

#include "sotto-text.h"

/**
 * sotto_char_is_bidi_control:
 *
 * Characters that change how the text around them reads rather than being
 * read themselves: bidirectional embeddings, overrides, isolates and marks
 * (a name "Bob\u202Egnp.exe" reads "Bobexe.png").
 */
gboolean
sotto_char_is_bidi_control (gunichar c)
{
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
         c == 0x200E || c == 0x200F || c == 0x061C;
}

/**
 * sotto_char_is_invisible:
 *
 * Default-ignorable characters that show nothing, so that a name or a
 * link can hide them (zero-width spaces and joiners, the word joiner and
 * invisible operators, the byte order mark, the soft hyphen, variation
 * selectors, tags). Not the bidirectional controls: see
 * sotto_char_is_bidi_control().
 */
gboolean
sotto_char_is_invisible (gunichar c)
{
  return (c >= 0x200B && c <= 0x200D) || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF ||
         c == 0x00AD || c == 0x180E || (c >= 0xFE00 && c <= 0xFE0F) ||
         (c >= 0xE0000 && c <= 0xE007F);
}

/* General category Cf in Unicode 15.0, in full: a fixed list, so that a
 * name valid here is valid to an implementation on any Unicode version. */
static const struct { gunichar first, last; } format_ranges[] = {
  { 0x00AD, 0x00AD }, { 0x0600, 0x0605 }, { 0x061C, 0x061C }, { 0x06DD, 0x06DD },
  { 0x070F, 0x070F }, { 0x0890, 0x0891 }, { 0x08E2, 0x08E2 }, { 0x180E, 0x180E },
  { 0x200B, 0x200F }, { 0x202A, 0x202E }, { 0x2060, 0x2064 }, { 0x2066, 0x206F },
  { 0xFEFF, 0xFEFF }, { 0xFFF9, 0xFFFB }, { 0x110BD, 0x110BD }, { 0x110CD, 0x110CD },
  { 0x13430, 0x1343F }, { 0x1BCA0, 0x1BCA3 }, { 0x1D173, 0x1D17A }, { 0xE0001, 0xE0001 },
  { 0xE0020, 0xE007F },
};

/**
 * sotto_char_classify:
 * @c: a Unicode scalar value
 *
 * Whether @c may stand in a display name or an intro, by the protocol's
 * fixed lists (PROTOCOL.md, Display names): controls, the line and
 * paragraph separators, the format characters of Unicode 15.0 but U+200C
 * and U+200D (which Persian, Indic scripts and emoji need), private use and
 * noncharacters are refused. Everything else is allowed, unassigned code points too:
 * they are assigned in some later version, and refusing them would make
 * two implementations on different versions disagree.
 *
 * Returns: the class of @c
 */
SottoCharClass
sotto_char_classify (gunichar c)
{
  if (c <= 0x1F || (c >= 0x7F && c <= 0x9F))
    return SOTTO_CHAR_CONTROL;
  if (c == 0x2028 || c == 0x2029)
    return SOTTO_CHAR_SEPARATOR;
  if (c == 0x200C || c == 0x200D)
    return SOTTO_CHAR_ALLOWED;
  for (gsize i = 0; i < G_N_ELEMENTS (format_ranges); i++)
    if (c >= format_ranges[i].first && c <= format_ranges[i].last)
      return SOTTO_CHAR_FORMAT;
  if ((c >= 0xE000 && c <= 0xF8FF) || (c >= 0xF0000 && c <= 0xFFFFD) ||
      (c >= 0x100000 && c <= 0x10FFFD) || (c >= 0xD800 && c <= 0xDFFF))
    return SOTTO_CHAR_PRIVATE_USE;
  /* Noncharacters, fixed for ever: U+FDD0–U+FDEF and the last two code
   * points of every plane. */
  if ((c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE)
    return SOTTO_CHAR_PRIVATE_USE;
  return SOTTO_CHAR_ALLOWED;
}

/**
 * sotto_text_reveal_hidden:
 * @text: valid UTF-8
 * @controls: also control characters (U+0000–U+001F, U+007F–U+009F)
 *
 * @text with every character that hides itself or reorders what is
 * around it — bidirectional controls, invisible characters — written
 * out as a visible "⟦U+202E⟧", so that what shows is what is there, in
 * its order. For links and file names, which must be read exactly.
 *
 * Returns: (transfer full): the text to show
 */
char *
sotto_text_reveal_hidden (const char *text,
                          gboolean    controls)
{
  GString *shown = g_string_new (NULL);

  g_return_val_if_fail (text != NULL, NULL);

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (sotto_char_is_bidi_control (c) || sotto_char_is_invisible (c) ||
          (controls && (c < 0x20 || (c >= 0x7F && c <= 0x9F))))
        g_string_append_printf (shown, "⟦U+%04X⟧", c);
      else
        g_string_append_unichar (shown, c);
    }
  return g_string_free (shown, FALSE);
}

/**
 * sotto_display_text:
 * @text: valid UTF-8 from someone else (a name, an intro, a message)
 * @one_line: whether line breaks become spaces (names, list rows)
 *
 * The text as a window may show it: control characters and bidirectional
 * controls are dropped, tabs become spaces and, with @one_line, so do line
 * breaks. Zero-width joiners stay (emoji sequences need them). Labels
 * showing the result must still not interpret markup.
 *
 * Returns: (transfer full): the text to show
 */
char *
sotto_display_text (const char *text,
                    gboolean    one_line)
{
  GString *out;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (g_utf8_validate (text, -1, NULL), NULL);

  out = g_string_sized_new (strlen (text));
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      GUnicodeType type = g_unichar_type (c);

      if (c == '\n')
        g_string_append_c (out, one_line ? ' ' : '\n');
      else if (c == '\t')
        g_string_append_c (out, ' ');
      else if (c == '\r' || type == G_UNICODE_CONTROL || sotto_char_is_bidi_control (c) ||
               c == 0x2028 || c == 0x2029)
        {
          if (one_line && (c == 0x2028 || c == 0x2029))
            g_string_append_c (out, ' ');
          else if (c == 0x2028 || c == 0x2029)
            g_string_append_c (out, '\n');
        }
      else
        g_string_append_unichar (out, c);
    }

  return g_string_free (out, FALSE);
}

/**
 * sotto_terminal_text:
 * @text: UTF-8 text from others
 * @one_line: show line feeds as `\n`
 *
 * Text from others, made safe for a terminal: control characters (which
 * could move the cursor or recolour the screen) and format characters
 * such as bidirectional overrides (which could make text read differently
 * from what it is) are shown as \uXXXX escapes. Line feeds stay unless
 * @one_line; the joiners that some scripts need stay too.
 *
 * Returns: (transfer full): the text to print
 */
char *
sotto_terminal_text (const char *text,
                     gboolean    one_line)
{
  GString *out;

  g_return_val_if_fail (text != NULL, NULL);

  out = g_string_sized_new (strlen (text));
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      GUnicodeType type = g_unichar_type (c);

      if ((c == '\n' && !one_line) || c == '\t')
        g_string_append_unichar (out, c);
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (type == G_UNICODE_CONTROL ||
               (type == G_UNICODE_FORMAT && c != 0x200C && c != 0x200D))
        g_string_append_printf (out, "\\u%04X", c);
      else
        g_string_append_unichar (out, c);
    }

  return g_string_free (out, FALSE);
}

/**
 * sotto_text_utf8_prefix:
 * @text: valid UTF-8
 * @max: the most bytes to keep
 *
 * Returns: (transfer full): at most @max bytes of @text, cut between
 *   characters
 */
char *
sotto_text_utf8_prefix (const char *text,
                        gsize       max)
{
  const char *end = text;

  g_return_val_if_fail (text != NULL, NULL);

  while (*end != '\0')
    {
      const char *next = g_utf8_next_char (end);

      if ((gsize)(next - text) > max)
        break;
      end = next;
    }
  return g_strndup (text, (gsize)(end - text));
}
