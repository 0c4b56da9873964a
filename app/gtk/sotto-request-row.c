/* sotto-request-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A stranger's name and intro are untrusted text: they are shown as plain
 * labels (no markup, nothing clickable, no links), short, and next to the
 * fingerprint, so that a stranger calling themselves "IT Support" is
 * still visibly a stranger. The buttons only say what the user chose.
 */
#define G_LOG_DOMAIN "sotto-request-row"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-core.h"
#include "sotto-request-row.h"

struct _SottoRequestRow
{
  GtkListBoxRow parent_instance;

  guint8        public_key[SOTTO_KEY_LEN];
  char         *display_name;
  GtkWidget    *accept_button;
};

G_DEFINE_FINAL_TYPE (SottoRequestRow, sotto_request_row, GTK_TYPE_LIST_BOX_ROW)

enum {
  ANSWERED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
answer (SottoRequestRow    *self,
        SottoRequestAnswer  choice)
{
  g_signal_emit (self, signals[ANSWERED], 0, choice);
}

static void
on_accept_clicked_cb (GtkButton       *button,
                      SottoRequestRow *self)
{
  answer (self, SOTTO_REQUEST_ANSWER_ACCEPT);
}

static void
on_ignore_clicked_cb (GtkButton       *button,
                      SottoRequestRow *self)
{
  answer (self, SOTTO_REQUEST_ANSWER_IGNORE);
}

static void
on_block_clicked_cb (GtkButton       *button,
                     SottoRequestRow *self)
{
  answer (self, SOTTO_REQUEST_ANSWER_BLOCK);
}

/* A plain label for text from the network: no markup, no mnemonics, no
 * links, no selection (which would offer "Open link"). */
static GtkWidget *
untrusted_label (const char *text,
                 const char *css_class)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_use_markup (GTK_LABEL (label), FALSE);
  gtk_label_set_use_underline (GTK_LABEL (label), FALSE);
  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 40);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  return label;
}

static GtkWidget *
button_new (const char *label,
            const char *accessible,
            const char *css_class)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
  if (css_class != NULL)
    gtk_widget_add_css_class (button, css_class);
  return button;
}

static void
sotto_request_row_finalize (GObject *object)
{
  SottoRequestRow *self = (SottoRequestRow *)object;

  g_free (self->display_name);

  G_OBJECT_CLASS (sotto_request_row_parent_class)->finalize (object);
}

static void
sotto_request_row_class_init (SottoRequestRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sotto_request_row_finalize;

  /**
   * SottoRequestRow::answered:
   * @answer: a #SottoRequestAnswer
   */
  signals[ANSWERED] =
    g_signal_new ("answered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void
sotto_request_row_init (SottoRequestRow *self)
{
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (self), FALSE);
}

/**
 * sotto_request_row_new:
 * @request: what the peer service knows of the stranger
 */
GtkWidget *
sotto_request_row_new (const SottoPeerRequest *request)
{
  SottoRequestRow *self;
  GtkWidget *box;
  GtkWidget *buttons;
  GtkWidget *button;
  g_autofree char *fingerprint = NULL;
  g_autofree char *who = NULL;
  g_autofree char *accessible = NULL;
  g_autofree char *clean_name = NULL;
  g_autofree char *clean_intro = NULL;

  g_return_val_if_fail (request != NULL, NULL);

  self = g_object_new (SOTTO_TYPE_REQUEST_ROW, NULL);
  memcpy (self->public_key, request->public_key, SOTTO_KEY_LEN);
  self->display_name = g_strdup (request->display_name);
  fingerprint = sotto_fingerprint_for_key (request->public_key);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 8);

  clean_name = sotto_display_text (request->display_name, TRUE);
  clean_intro = sotto_display_text (request->intro != NULL ? request->intro : "", FALSE);
  gtk_box_append (GTK_BOX (box), untrusted_label (clean_name, "heading"));
  /* Translators: under a stranger's chosen name: nobody has vouched for it. */
  who = g_strdup_printf (_("Not in your contacts · %s"), fingerprint);
  gtk_box_append (GTK_BOX (box), untrusted_label (who, "caption"));
  if (clean_intro[0] != '\0')
    gtk_box_append (GTK_BOX (box), untrusted_label (clean_intro, "request-intro"));

  buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_halign (buttons, GTK_ALIGN_END);
  gtk_widget_set_margin_top (buttons, 4);

  /* Translators: how a screen reader names a contact request in the list. */
  accessible = g_strdup_printf (_("Contact request from %s"), clean_name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
  g_free (accessible);

  accessible = g_strdup_printf (_("Block %s"), clean_name);
  button = button_new (_("_Block"), accessible, "destructive-action");
  g_signal_connect (button, "clicked", G_CALLBACK (on_block_clicked_cb), self);
  gtk_box_append (GTK_BOX (buttons), button);
  g_free (accessible);

  accessible = g_strdup_printf (_("Ignore the request from %s"), clean_name);
  button = button_new (_("_Ignore"), accessible, NULL);
  g_signal_connect (button, "clicked", G_CALLBACK (on_ignore_clicked_cb), self);
  gtk_box_append (GTK_BOX (buttons), button);
  g_free (accessible);

  accessible = g_strdup_printf (_("Accept the request from %s"), clean_name);
  button = button_new (_("_Accept"), accessible, "suggested-action");
  g_signal_connect (button, "clicked", G_CALLBACK (on_accept_clicked_cb), self);
  gtk_box_append (GTK_BOX (buttons), button);
  self->accept_button = button;

  gtk_box_append (GTK_BOX (box), buttons);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (self), box);

  return GTK_WIDGET (self);
}

/**
 * sotto_request_row_set_accept_refusal:
 * @refusal: (nullable): why the request can't be accepted (the policy
 *   allows no new contacts), or %NULL
 *
 * Greys out Accept and says why, on the button and to screen readers.
 */
void
sotto_request_row_set_accept_refusal (SottoRequestRow *self,
                                      const char      *refusal)
{
  g_return_if_fail (SOTTO_IS_REQUEST_ROW (self));

  gtk_widget_set_sensitive (self->accept_button, refusal == NULL);
  gtk_widget_set_tooltip_text (self->accept_button, refusal);
  if (refusal == NULL)
    gtk_accessible_reset_property (GTK_ACCESSIBLE (self->accept_button),
                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
  else
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->accept_button),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, refusal, -1);
}

/**
 * sotto_request_row_matches:
 * @text: (nullable): the contact list's filter
 *
 * Returns: whether the request shows under @text (the core decides, as
 *   for contacts: sotto_peer_request_matches())
 */
gboolean
sotto_request_row_matches (SottoRequestRow *self,
                           const char      *text)
{
  SottoPeerRequest request = { 0 };

  g_return_val_if_fail (SOTTO_IS_REQUEST_ROW (self), FALSE);

  memcpy (request.public_key, self->public_key, SOTTO_KEY_LEN);
  request.display_name = self->display_name;
  return sotto_peer_request_matches (&request, text);
}

const guint8 *
sotto_request_row_get_public_key (SottoRequestRow *self)
{
  g_return_val_if_fail (SOTTO_IS_REQUEST_ROW (self), NULL);

  return self->public_key;
}
