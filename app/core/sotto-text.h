/* sotto-text.h — untrusted text made safe to show in a window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *sotto_display_text  (const char *text,
                           gboolean    one_line);
char *sotto_terminal_text (const char *text,
                           gboolean    one_line);

G_END_DECLS
