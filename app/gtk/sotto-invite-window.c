/* sotto-invite-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The invite as text to copy and as a QR code to scan from a phone or a
 * colleague's screen, with one sentence on what to do with it.
 */
#define G_LOG_DOMAIN "sotto-invite-window"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-core.h"
#include "sotto-invite-window.h"
#include "sotto-qr-code.h"

static void
on_copy_clicked_cb (GtkButton  *button,
                    const char *invite)
{
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (button)), invite);
  gtk_button_set_label (button, _("Copied"));
}

/**
 * sotto_invite_window_new:
 * @parent: (nullable): the window it belongs to
 * @invite: the `sotto:` URI
 *
 * Returns: (transfer none): a new window, owned by GTK
 */
GtkWindow *
sotto_invite_window_new (GtkWindow  *parent,
                         const char *invite)
{
  GtkWindow *window = GTK_WINDOW (gtk_window_new ());
  GtkWidget *header = gtk_header_bar_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *label;
  GtkWidget *copy;
  GtkWidget *code;
  GtkEventController *keys;

  g_return_val_if_fail (invite != NULL, NULL);

  gtk_window_set_title (window, _("Your Invite"));
  gtk_window_set_transient_for (window, parent);
  gtk_window_set_modal (window, TRUE);
  gtk_window_set_destroy_with_parent (window, TRUE);
  gtk_window_set_default_size (window, 420, -1);
  gtk_window_set_titlebar (window, header);

  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_margin_start (box, 24);
  gtk_widget_set_margin_end (box, 24);

  label = gtk_label_new (_("Send this to a colleague: they add you by pasting it into Sotto’s "
                           "“Add Contact”, or by scanning the code. Only people you add can "
                           "message you."));
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 44);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (box), label);

  code = sotto_qr_code_new ();
  /* An invite too long for a QR code is still there as text. */
  if (sotto_qr_code_set_text (SOTTO_QR_CODE (code), invite, NULL))
    {
      gtk_widget_set_size_request (code, 200, 200);
      gtk_widget_set_halign (code, GTK_ALIGN_CENTER);
      gtk_box_append (GTK_BOX (box), code);
    }
  else
    {
      g_object_ref_sink (code);
      g_object_unref (code);
    }

  label = gtk_label_new (invite);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 44);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "monospace");
  gtk_accessible_update_property (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Your invite"), -1);
  gtk_box_append (GTK_BOX (box), label);

  copy = gtk_button_new_with_mnemonic (_("C_opy Invite"));
  gtk_widget_set_halign (copy, GTK_ALIGN_END);
  gtk_widget_add_css_class (copy, "suggested-action");
  g_signal_connect_data (copy, "clicked", G_CALLBACK (on_copy_clicked_cb), g_strdup (invite),
                         (GClosureNotify)(void (*) (void))g_free, 0);
  gtk_box_append (GTK_BOX (box), copy);

  gtk_window_set_child (window, box);

  /* Escape closes it, as it does every other small window of the app. */
  keys = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (keys),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                          gtk_named_action_new ("window.close")));
  gtk_widget_add_controller (GTK_WIDGET (window), keys);
  return window;
}
