/* sotto-transfer-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A file in a chat: its name (as the guard shows it: hidden characters
 * made visible, left to right), its size, where it stands in words, a
 * progress bar with speed and time left while bytes flow, until it is
 * in: what the offer says it is and who sent it, and what the
 * user can do now: accept or decline an offer, cancel a transfer, open a
 * received file through the file dialog, or show it in its folder. Every
 * decision is the core's (SottoFileTransfer, SottoFileGuard).
 */
#define G_LOG_DOMAIN "sotto-transfer-row"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-file-dialog.h"
#include "sotto-transfer-row.h"

struct _SottoTransferRow
{
  GtkWidget          parent_instance;

  /* children */
  GtkWidget         *box;
  GtkWidget         *icon;
  GtkWidget         *name_label;
  GtkWidget         *detail_label;
  GtkWidget         *about_label;
  GtkWidget         *progress;
  GtkWidget         *accept_button;
  GtkWidget         *decline_button;
  GtkWidget         *cancel_button;
  GtkWidget         *open_button;
  GtkWidget         *show_button;

  /* owned references */
  SottoFileTransfer *files;
  SottoTransfer     *transfer;
  GCancellable      *cancellable;

  /* speed: bytes and time when this view first saw the transfer active */
  guint64            started_bytes;
  gint64             started_at;
  char              *error;
  char              *about;       /* from the offer and its sender */
};

G_DEFINE_FINAL_TYPE (SottoTransferRow, sotto_transfer_row, GTK_TYPE_WIDGET)

static void
update (SottoTransferRow *self)
{
  SottoTransfer *transfer = self->transfer;
  SottoTransferState state = sotto_transfer_get_state (transfer);
  gboolean in = sotto_transfer_get_direction (transfer) == SOTTO_DIRECTION_IN;
  guint64 size = sotto_transfer_get_size (transfer);
  guint64 progress = sotto_transfer_get_progress (transfer);
  g_autofree char *size_text = g_format_size (size);
  g_autofree char *description = sotto_transfer_dup_description (transfer);
  g_autofree char *detail = NULL;

  g_assert (SOTTO_IS_TRANSFER_ROW (self));

  if (state == SOTTO_TRANSFER_ACTIVE && size > 0)
    {
      g_autofree char *done_text = g_format_size (progress);
      gint64 now = g_get_monotonic_time ();
      double seconds;

      if (self->started_at == 0)
        {
          self->started_at = now;
          self->started_bytes = progress;
        }
      seconds = (double)(now - self->started_at) / G_USEC_PER_SEC;
      if (seconds >= 1.0 && progress > self->started_bytes)
        {
          double speed = (double)(progress - self->started_bytes) / seconds;
          g_autofree char *speed_text = g_format_size ((guint64)speed);
          guint left = (guint)((double)(size - progress) / speed + 0.5);

          /* Translators: a file on its way: "12.3 MB of 200 MB · 45 MB/s · 4 s left". */
          detail = g_strdup_printf (ngettext ("%s of %s · %s/s · %u second left",
                                              "%s of %s · %s/s · %u seconds left", left),
                                    done_text, size_text, speed_text, left);
        }
      else
        /* Translators: a file on its way: "12.3 MB of 200 MB · Receiving". */
        detail = g_strdup_printf (_("%s of %s · %s"), done_text, size_text, description);
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress),
                                     (double)progress / (double)size);
    }
  else
    /* Translators: a file's size and where it stands: "1.2 MB · Waiting for your answer". */
    detail = g_strdup_printf (_("%s · %s"), size_text, description);

  if (self->error != NULL)
    {
      g_autofree char *with_error = g_strdup_printf ("%s\n%s", detail, self->error);

      g_free (detail);
      detail = g_steal_pointer (&with_error);
    }
  gtk_label_set_text (GTK_LABEL (self->detail_label), detail);
  /* What the offer is matters until the file is in and the file dialog
   * can say what the file is. */
  gtk_widget_set_visible (self->about_label,
                          self->about != NULL && in && state <= SOTTO_TRANSFER_ACTIVE);
  gtk_widget_set_visible (self->progress, state == SOTTO_TRANSFER_ACTIVE && size > 0);

  gtk_widget_set_visible (self->accept_button, in && state == SOTTO_TRANSFER_OFFERED);
  gtk_widget_set_visible (self->decline_button, in && state == SOTTO_TRANSFER_OFFERED);
  gtk_widget_set_visible (self->cancel_button,
                          (!in && state <= SOTTO_TRANSFER_ACTIVE) ||
                          (in && state == SOTTO_TRANSFER_ACTIVE));
  gtk_widget_set_visible (self->open_button, in && state == SOTTO_TRANSFER_DONE);
  gtk_widget_set_visible (self->show_button, in && state == SOTTO_TRANSFER_DONE);
}

static void
on_transfer_notify_cb (SottoTransferRow *self)
{
  update (self);
}

static void
on_changed_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr (SottoTransferRow) self = user_data;
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&self->error, g_free);
  if (!sotto_file_transfer_change_finish (SOTTO_FILE_TRANSFER (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    self->error = g_strdup (error->message);
  update (self);
}

static void
on_accept_clicked_cb (SottoTransferRow *self)
{
  sotto_file_transfer_accept_async (self->files, self->transfer, NULL, self->cancellable,
                                    on_changed_cb, g_object_ref (self));
}

static void
on_decline_clicked_cb (SottoTransferRow *self)
{
  sotto_file_transfer_decline_async (self->files, self->transfer, self->cancellable,
                                     on_changed_cb, g_object_ref (self));
}

static void
on_cancel_clicked_cb (SottoTransferRow *self)
{
  sotto_file_transfer_cancel_async (self->files, self->transfer, self->cancellable,
                                    on_changed_cb, g_object_ref (self));
}

static void
on_checked_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr (SottoTransferRow) self = user_data;
  g_autoptr (SottoFileVerdict) verdict = NULL;
  const char *path = sotto_transfer_get_path (self->transfer);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog;

  verdict = sotto_transfer_check_finish (SOTTO_TRANSFER (object), result, NULL);
  if (verdict == NULL || path == NULL || !GTK_IS_WINDOW (root))
    return;
  dialog = sotto_file_dialog_new (GTK_WINDOW (root), verdict, path);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The guard reads the file in a thread; the dialog opens with its verdict. */
static void
on_open_clicked_cb (SottoTransferRow *self)
{
  if (sotto_transfer_get_path (self->transfer) == NULL)
    return;
  sotto_transfer_check_async (self->transfer, self->cancellable, on_checked_cb,
                              g_object_ref (self));
}

static void
on_show_clicked_cb (SottoTransferRow *self)
{
  const char *path = sotto_transfer_get_path (self->transfer);

  if (path != NULL)
    sotto_show_in_folder (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), path);
}

static GtkWidget *
add_button (SottoTransferRow *self,
            GtkWidget        *box,
            const char       *label,
            const char       *accessible,
            GCallback         callback)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
  g_signal_connect_swapped (button, "clicked", callback, self);
  gtk_box_append (GTK_BOX (box), button);
  return button;
}

static void
sotto_transfer_row_dispose (GObject *object)
{
  SottoTransferRow *self = (SottoTransferRow *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->transfer);
  g_clear_object (&self->files);

  G_OBJECT_CLASS (sotto_transfer_row_parent_class)->dispose (object);
}

static void
sotto_transfer_row_finalize (GObject *object)
{
  SottoTransferRow *self = (SottoTransferRow *)object;

  g_clear_object (&self->cancellable);
  g_free (self->error);
  g_free (self->about);

  G_OBJECT_CLASS (sotto_transfer_row_parent_class)->finalize (object);
}

static void
sotto_transfer_row_class_init (SottoTransferRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sotto_transfer_row_dispose;
  object_class->finalize = sotto_transfer_row_finalize;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "transferrow");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
sotto_transfer_row_init (SottoTransferRow *self)
{
  self->cancellable = g_cancellable_new ();
}

/**
 * sotto_transfer_row_new:
 * @files: the profile's file transfers
 * @transfer: one of them
 *
 * Returns: (transfer floating): a row that follows @transfer
 */
GtkWidget *
sotto_transfer_row_new (SottoFileTransfer *files,
                        SottoTransfer     *transfer)
{
  SottoTransferRow *self;
  g_autofree char *shown = NULL;
  g_autofree char *accessible = NULL;
  GtkWidget *texts;
  GtkWidget *buttons;
  gboolean in;

  g_return_val_if_fail (SOTTO_IS_FILE_TRANSFER (files), NULL);
  g_return_val_if_fail (SOTTO_IS_TRANSFER (transfer), NULL);

  self = g_object_new (SOTTO_TYPE_TRANSFER_ROW, NULL);
  self->files = g_object_ref (files);
  self->transfer = g_object_ref (transfer);
  in = sotto_transfer_get_direction (transfer) == SOTTO_DIRECTION_IN;
  shown = sotto_transfer_dup_shown_name (transfer);

  self->box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  gtk_widget_add_css_class (self->box, "bubble");
  gtk_widget_add_css_class (self->box, in ? "incoming" : "outgoing");

  self->icon = gtk_image_new_from_icon_name (in ? "folder-download-symbolic"
                                                : "document-send-symbolic");
  gtk_widget_set_valign (self->icon, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (self->box), self->icon);

  texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_hexpand (texts, TRUE);
  gtk_box_append (GTK_BOX (self->box), texts);

  /* The name as the guard shows it: hidden characters visible, left to
   * right whatever the language. */
  self->name_label = gtk_label_new (shown);
  gtk_label_set_ellipsize (GTK_LABEL (self->name_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_xalign (GTK_LABEL (self->name_label), 0);
  gtk_widget_set_direction (self->name_label, GTK_TEXT_DIR_LTR);
  gtk_widget_add_css_class (self->name_label, "heading");
  gtk_box_append (GTK_BOX (texts), self->name_label);

  self->detail_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->detail_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->detail_label), TRUE);
  gtk_widget_add_css_class (self->detail_label, "dim-label");
  gtk_box_append (GTK_BOX (texts), self->detail_label);

  self->about_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->about_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->about_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->about_label), PANGO_WRAP_WORD_CHAR);
  gtk_widget_set_visible (self->about_label, FALSE);
  gtk_box_append (GTK_BOX (texts), self->about_label);

  self->progress = gtk_progress_bar_new ();
  gtk_box_append (GTK_BOX (texts), self->progress);

  buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (self->box), buttons);
  self->decline_button = add_button (self, buttons, _("_Decline"), _("Decline the file"),
                                     G_CALLBACK (on_decline_clicked_cb));
  self->accept_button = add_button (self, buttons, _("_Accept"), _("Accept the file"),
                                    G_CALLBACK (on_accept_clicked_cb));
  gtk_widget_add_css_class (self->accept_button, "suggested-action");
  self->cancel_button = add_button (self, buttons, _("_Cancel"), _("Cancel the file transfer"),
                                    G_CALLBACK (on_cancel_clicked_cb));
  self->show_button = add_button (self, buttons, _("Show in _Folder"),
                                  _("Show the file in its folder"),
                                  G_CALLBACK (on_show_clicked_cb));
  self->open_button = add_button (self, buttons, _("_Open…"), _("Open the file"),
                                  G_CALLBACK (on_open_clicked_cb));

  /* Translators: how a screen reader names a file in a chat: "File report.pdf, from your contact". */
  accessible = g_strdup_printf (in ? _("File %s, from your contact") : _("File %s, to your contact"),
                                shown);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);

  g_signal_connect_object (transfer, "notify::state", G_CALLBACK (on_transfer_notify_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (transfer, "notify::progress", G_CALLBACK (on_transfer_notify_cb), self,
                           G_CONNECT_SWAPPED);
  update (self);
  return GTK_WIDGET (self);
}

/**
 * sotto_transfer_row_set_sender:
 * @name: the contact's name
 * @verification: where their key stands
 *
 * Says, under an incoming file, what the offer claims it is, who sent it
 * and whether their key was verified. The chat calls this again when the
 * contact changes.
 */
void
sotto_transfer_row_set_sender (SottoTransferRow  *self,
                               const char        *name,
                               SottoVerification  verification)
{
  g_return_if_fail (SOTTO_IS_TRANSFER_ROW (self));
  g_return_if_fail (name != NULL);

  if (sotto_transfer_get_direction (self->transfer) != SOTTO_DIRECTION_IN)
    return;
  g_free (self->about);
  self->about = sotto_transfer_dup_offer_about (self->transfer, name, verification);
  gtk_label_set_text (GTK_LABEL (self->about_label), self->about);
  update (self);
}

/**
 * sotto_transfer_row_get_transfer:
 *
 * Returns: (transfer none): the transfer shown
 */
SottoTransfer *
sotto_transfer_row_get_transfer (SottoTransferRow *self)
{
  g_return_val_if_fail (SOTTO_IS_TRANSFER_ROW (self), NULL);

  return self->transfer;
}
