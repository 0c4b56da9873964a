/* sotto-message-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A message: the day's heading when it is the first of its day, the text
 * (selectable, links underlined), the time and, for ours, how far it got.
 * A link is never opened from here: the row emits ::link-activated and
 * the chat page asks the link guard and the user. A message of ours that
 * was not delivered in time gets a Retry button, which emits ::retry.
 */
#define G_LOG_DOMAIN "sotto-message-row"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-core.h"
#include "sotto-message-row.h"

struct _SottoMessageRow
{
  GtkWidget     parent_instance;

  GtkWidget    *box;
  GtkWidget    *day_label;
  GtkWidget    *bubble;
  GtkWidget    *body_label;
  GtkWidget    *meta_box;
  GtkWidget    *meta_label;
  GtkWidget    *retry_button;   /* made for the first failed message shown */

  SottoMessage *message;
  gulong        state_id;
};

G_DEFINE_FINAL_TYPE (SottoMessageRow, sotto_message_row, GTK_TYPE_WIDGET)

enum {
  LINK_ACTIVATED,
  RETRY,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *
state_text (SottoMessageState state)
{
  switch (state)
    {
    case SOTTO_MESSAGE_QUEUED:
      return _("Queued");
    case SOTTO_MESSAGE_SENT:
      return _("Sent");
    case SOTTO_MESSAGE_DELIVERED:
      return _("Delivered");
    case SOTTO_MESSAGE_READ:
      return _("Read");
    case SOTTO_MESSAGE_FAILED:
      return _("Not sent");
    default:
      return "";
    }
}

/* The text with its links as <a>: everything else escaped, so nothing in
 * a message is ever taken as markup. */
static char *
body_markup (const char *body)
{
  g_autoptr (GArray) spans = sotto_link_find (body);
  GString *markup = g_string_new (NULL);
  gsize at = 0;

  for (guint i = 0; i < spans->len; i++)
    {
      const SottoLinkSpan *span = &g_array_index (spans, SottoLinkSpan, i);
      g_autofree char *before = g_markup_escape_text (body + at, (gssize)(span->start - at));
      g_autofree char *raw = g_strndup (body + span->start, span->end - span->start);
      g_autofree char *shown = sotto_link_dup_shown (raw);
      g_autofree char *href = g_markup_escape_text (raw, -1);
      g_autofree char *text = g_markup_escape_text (shown, -1);

      /* Shown as it is: its hidden characters made visible, left to right
       * and isolated (U+2066 … U+2069), so that a direction override in a
       * link can't turn "moc.elgoog//:sptth" into something else on screen.
       * A click hands the link as written to the guard. */
      g_autoptr (SottoLinkVerdict) verdict = sotto_link_guard_check (raw,
                                                                     SOTTO_LINK_SENDER_VERIFIED,
                                                                     NULL);

      g_string_append (markup, before);
      g_string_append_printf (markup, "<a href=\"%s\">\u2066%s\u2069</a>", href, text);
      /* What is odd about the link itself shows before anyone clicks: a
       * look-alike name reads exactly like the real one. */
      if (verdict->action >= SOTTO_LINK_WARN)
        g_string_append (markup, " \u26A0");
      at = span->end;
    }
  {
    g_autofree char *rest = g_markup_escape_text (body + at, -1);

    g_string_append (markup, rest);
  }

  return g_string_free (markup, FALSE);
}

static void
on_retry_clicked_cb (GtkButton       *button,
                     SottoMessageRow *self)
{
  g_signal_emit (self, signals[RETRY], 0);
}

static void
update_meta (SottoMessageRow *self)
{
  g_autofree char *clock = NULL;
  g_autofree char *text = NULL;
  SottoMessage *message = self->message;
  gboolean out = sotto_message_get_direction (message) == SOTTO_DIRECTION_OUT;
  SottoMessageState state = sotto_message_get_state (message);

  clock = sotto_time_format_clock (out ? sotto_message_get_sent (message)
                                       : sotto_message_get_received (message) > 0
                                           ? sotto_message_get_received (message)
                                           : sotto_message_get_sent (message));
  if (out)
    text = g_strdup_printf ("%s · %s", clock, state_text (state));
  else
    text = g_strdup (clock);
  gtk_label_set_label (GTK_LABEL (self->meta_label), text);

  gtk_widget_remove_css_class (self->bubble, "queued");
  gtk_widget_remove_css_class (self->bubble, "failed");
  if (out && state == SOTTO_MESSAGE_QUEUED)
    gtk_widget_add_css_class (self->bubble, "queued");
  if (out && state == SOTTO_MESSAGE_FAILED)
    gtk_widget_add_css_class (self->bubble, "failed");

  /* Few messages ever fail: the button is made the first time one does. */
  if (out && state == SOTTO_MESSAGE_FAILED && self->retry_button == NULL)
    {
      self->retry_button = gtk_button_new_with_mnemonic (_("_Retry"));
      gtk_widget_add_css_class (self->retry_button, "flat");
      gtk_widget_add_css_class (self->retry_button, "caption");
      gtk_widget_set_tooltip_text (self->retry_button, _("Send this message again"));
      g_signal_connect (self->retry_button, "clicked", G_CALLBACK (on_retry_clicked_cb), self);
      gtk_box_append (GTK_BOX (self->meta_box), self->retry_button);
    }
  if (self->retry_button != NULL)
    gtk_widget_set_visible (self->retry_button, out && state == SOTTO_MESSAGE_FAILED);
}

static void
on_state_notify_cb (SottoMessage    *message,
                    GParamSpec      *pspec,
                    SottoMessageRow *self)
{
  update_meta (self);
}

static gboolean
on_activate_link_cb (GtkLabel        *label,
                     const char      *uri,
                     SottoMessageRow *self)
{
  g_signal_emit (self, signals[LINK_ACTIVATED], 0, uri);
  /* Handled: GTK must not open it itself. */
  return TRUE;
}

static void
sotto_message_row_dispose (GObject *object)
{
  SottoMessageRow *self = (SottoMessageRow *)object;

  sotto_message_row_set_message (self, NULL, NULL);
  g_clear_pointer (&self->box, gtk_widget_unparent);

  G_OBJECT_CLASS (sotto_message_row_parent_class)->dispose (object);
}

static void
sotto_message_row_class_init (SottoMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sotto_message_row_dispose;

  /**
   * SottoMessageRow::link-activated:
   * @uri: the link as written in the message
   */
  signals[LINK_ACTIVATED] =
    g_signal_new ("link-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * SottoMessageRow::retry:
   *
   * The user asked to send a failed message again.
   */
  signals[RETRY] =
    g_signal_new ("retry", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "messagerow");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
sotto_message_row_init (SottoMessageRow *self)
{
  GtkWidget *inner;

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  self->day_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->day_label, "day-heading");
  gtk_widget_add_css_class (self->day_label, "dim-label");
  gtk_box_append (GTK_BOX (self->box), self->day_label);

  self->bubble = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_add_css_class (self->bubble, "bubble");
  gtk_box_append (GTK_BOX (self->box), self->bubble);

  inner = self->bubble;
  self->body_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->body_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->body_label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (self->body_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->body_label), 0);
  gtk_label_set_max_width_chars (GTK_LABEL (self->body_label), 60);
  gtk_widget_add_css_class (self->body_label, "body");
  g_signal_connect (self->body_label, "activate-link", G_CALLBACK (on_activate_link_cb), self);
  gtk_box_append (GTK_BOX (inner), self->body_label);

  self->meta_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_halign (self->meta_box, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (inner), self->meta_box);

  self->meta_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->meta_label), 1);
  gtk_widget_add_css_class (self->meta_label, "caption");
  gtk_widget_add_css_class (self->meta_label, "dim-label");
  gtk_box_append (GTK_BOX (self->meta_box), self->meta_label);
}

GtkWidget *
sotto_message_row_new (void)
{
  return g_object_new (SOTTO_TYPE_MESSAGE_ROW, NULL);
}

/**
 * sotto_message_row_set_message:
 * @message: (nullable): the message to show
 * @day_heading: (nullable): the day's heading, for the first message of a day
 */
void
sotto_message_row_set_message (SottoMessageRow *self,
                               SottoMessage    *message,
                               const char      *day_heading)
{
  g_autofree char *clean = NULL;
  g_autofree char *markup = NULL;
  gboolean out;

  g_return_if_fail (SOTTO_IS_MESSAGE_ROW (self));

  if (self->message != NULL)
    {
      g_clear_signal_handler (&self->state_id, self->message);
      g_clear_object (&self->message);
    }
  if (message == NULL)
    return;

  self->message = g_object_ref (message);
  self->state_id = g_signal_connect (message, "notify::state", G_CALLBACK (on_state_notify_cb),
                                     self);

  gtk_label_set_label (GTK_LABEL (self->day_label), day_heading);
  gtk_widget_set_visible (self->day_label, day_heading != NULL);

  out = sotto_message_get_direction (message) == SOTTO_DIRECTION_OUT;
  gtk_widget_set_halign (self->bubble, out ? GTK_ALIGN_END : GTK_ALIGN_START);
  gtk_widget_remove_css_class (self->bubble, out ? "incoming" : "outgoing");
  gtk_widget_add_css_class (self->bubble, out ? "outgoing" : "incoming");

  clean = sotto_display_text (sotto_message_get_body (message), FALSE);
  markup = body_markup (clean);
  gtk_label_set_markup (GTK_LABEL (self->body_label), markup);
  update_meta (self);
}

SottoMessage *
sotto_message_row_get_message (SottoMessageRow *self)
{
  g_return_val_if_fail (SOTTO_IS_MESSAGE_ROW (self), NULL);

  return self->message;
}
