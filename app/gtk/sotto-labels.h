/* sotto-labels.h — labels for the guard dialogs, and fingerprints as shown
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Wide enough for a long link or name in a few lines, narrow enough for a
 * screen. */
#define SOTTO_DIALOG_WIDTH_CHARS 56

GtkWidget *sotto_verbatim_label_new (const char *markup);
GtkWidget *sotto_prose_label_new    (const char *text);
char      *sotto_fingerprint_lines  (const char *fingerprint);

G_END_DECLS
