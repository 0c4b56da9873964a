/* sotto-labels.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The two kinds of label the link and file dialogs show: text that is
 * not prose (a link, a host, a file name), and the sentences around it;
 * and a fingerprint laid out the one way every window shows it, so that
 * two people comparing theirs see the same lines.
 */
#define G_LOG_DOMAIN "sotto-labels"

#include "config.h"

#include "sotto-labels.h"

/* Every label as wide as the widest: a wrapped label that may be
 * narrower than that makes GTK 4.8 disagree with itself about its width
 * for a given height (a critical warning, and overlapping text). */
static void
set_width (GtkWidget *label)
{
  gtk_label_set_width_chars (GTK_LABEL (label), SOTTO_DIALOG_WIDTH_CHARS);
  gtk_label_set_max_width_chars (GTK_LABEL (label), SOTTO_DIALOG_WIDTH_CHARS);
}

/**
 * sotto_verbatim_label_new:
 * @markup: Pango markup, its text escaped
 *
 * A label for text that is not prose: left to right whatever the
 * language, wrapped anywhere, without the hyphens Pango would otherwise
 * put where it breaks a word, and selectable.
 *
 * Returns: (transfer floating): the label
 */
GtkWidget *
sotto_verbatim_label_new (const char *markup)
{
  GtkWidget *label = gtk_label_new (NULL);
  PangoAttrList *attributes = pango_attr_list_new ();

  gtk_label_set_markup (GTK_LABEL (label), markup);
  pango_attr_list_insert (attributes, pango_attr_insert_hyphens_new (FALSE));
  gtk_label_set_attributes (GTK_LABEL (label), attributes);
  pango_attr_list_unref (attributes);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_CHAR);
  set_width (label);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_direction (label, GTK_TEXT_DIR_LTR);
  gtk_widget_set_halign (label, GTK_ALIGN_START);
  return label;
}

/**
 * sotto_prose_label_new:
 * @text: a sentence, plain text
 *
 * Returns: (transfer floating): a label wrapped between words
 */
GtkWidget *
sotto_prose_label_new (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  set_width (label);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_halign (label, GTK_ALIGN_START);
  return label;
}

/**
 * sotto_fingerprint_lines:
 * @fingerprint: (nullable): six groups of five digits, as
 *   sotto_fingerprint_for_key() makes them
 *
 * "61537 21082 48558 42141 97358 07623" → three groups a line: short
 * enough to read aloud one line at a time.
 *
 * Returns: (transfer full): the text for a label
 */
char *
sotto_fingerprint_lines (const char *fingerprint)
{
  g_auto (GStrv) groups = NULL;
  GString *text;

  if (fingerprint == NULL)
    return g_strdup ("");

  groups = g_strsplit (fingerprint, " ", -1);
  text = g_string_new (NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (text, i % 3 == 0 ? '\n' : ' ');
      g_string_append (text, groups[i]);
    }

  return g_string_free (text, FALSE);
}
