/* sotto-text.h — untrusted text made safe to show in a window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a character is to the rules for names and intros (PROTOCOL.md,
 * Display names): fixed lists, the same whatever Unicode version the
 * platform implements. */
typedef enum
{
  SOTTO_CHAR_ALLOWED,
  SOTTO_CHAR_CONTROL,      /* Cc: U+0000–U+001F, U+007F–U+009F */
  SOTTO_CHAR_SEPARATOR,    /* U+2028, U+2029 */
  SOTTO_CHAR_FORMAT,       /* Cf as of Unicode 15.0, but the two joiners */
  SOTTO_CHAR_PRIVATE_USE,  /* Co, noncharacters, and surrogates */
} SottoCharClass;

SottoCharClass sotto_char_classify           (gunichar c);
gboolean       sotto_char_is_bidi_control    (gunichar c);
gboolean       sotto_char_is_invisible       (gunichar c);

char *sotto_text_utf8_prefix (const char *text,
                              gsize       max);
char *sotto_display_text  (const char *text,
                           gboolean    one_line);
char *sotto_terminal_text (const char *text,
                           gboolean    one_line);
char *sotto_text_reveal_hidden (const char *text,
                                gboolean    controls);

G_END_DECLS
