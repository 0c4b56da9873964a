/* sotto-text.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-text"

#include "config.h"

#include "sotto-text.h"

/* Characters that change how the text around them reads rather than being
 * read themselves: bidirectional embeddings, overrides and isolates (a
 * name "Bob\u202Egnp.exe" reads "Bobexe.png"). */
static gboolean
is_bidi_control (gunichar c)
{
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
         c == 0x200E || c == 0x200F || c == 0x061C;
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
      else if (c == '\r' || type == G_UNICODE_CONTROL || is_bidi_control (c) ||
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
