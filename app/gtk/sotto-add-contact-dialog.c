/* sotto-add-contact-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The invite is parsed as it is typed or pasted (sotto_invite_parse, the
 * same parser sotto-cli uses); the name it claims and the fingerprint of
 * its key are shown before anything is added, and the name is presented
 * as a claim, not a fact. An invite whose key or name is already a
 * contact's updates that contact instead of adding a second one for the
 * same person (sotto_store_match_invite(), as `sotto-cli add` does).
 */
#define G_LOG_DOMAIN "sotto-add-contact-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-add-contact-dialog.h"
#include "sotto-core.h"

struct _SottoAddContactDialog
{
  GtkWindow     parent_instance;

  /* template widgets */
  GtkEntry     *invite_entry;
  GtkLabel     *error_label;
  GtkWidget    *details_box;
  GtkLabel     *name_label;
  GtkLabel     *fingerprint_label;
  GtkEntry     *alias_entry;
  GtkButton    *add_button;
  GtkLabel     *match_label;

  /* owned references */
  SottoStore   *store;
  SottoInvite  *invite;
  SottoContact *update;         /* the contact the invite updates, if any */
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (SottoAddContactDialog, sotto_add_contact_dialog, GTK_TYPE_WINDOW)

static void
show_error (SottoAddContactDialog *self,
            const char            *message)
{
  gtk_label_set_label (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static void
on_invite_changed_cb (SottoAddContactDialog *self,
                      GtkEntry              *entry)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
  g_autoptr (GError) error = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *name = NULL;
  g_autofree char *claim = NULL;
  SottoContactMatch match = SOTTO_CONTACT_MATCH_NONE;
  SottoContact *known;

  g_clear_pointer (&self->invite, sotto_invite_free);
  g_clear_object (&self->update);
  gtk_button_set_label (self->add_button, _("_Add"));
  gtk_widget_set_visible (GTK_WIDGET (self->match_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->alias_entry), TRUE);
  gtk_widget_set_visible (self->details_box, FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "add-contact.add", FALSE);

  if (text[0] == '\0')
    {
      show_error (self, NULL);
      return;
    }

  self->invite = sotto_invite_parse (text, &error);
  if (self->invite == NULL)
    {
      show_error (self, error->message);
      return;
    }

  if (memcmp (self->invite->public_key,
              sotto_identity_get_public_key (sotto_store_get_identity (self->store)),
              SOTTO_KEY_LEN) == 0)
    {
      show_error (self, _("This is your own invite. Send it to colleagues; paste theirs here."));
      return;
    }

  known = sotto_store_match_invite (self->store, self->invite, &match);
  if (known != NULL)
    {
      const char *known_name = sotto_contact_get_name (known);
      g_autofree char *message = NULL;
      g_autofree char *button = NULL;

      if (match & SOTTO_CONTACT_MATCH_KEY)
        /* Translators: %s is a contact's name, twice. */
        message = g_strdup_printf (_("%s is already in your contacts. Updating takes this "
                                     "invite’s name and addresses for %s."),
                                   known_name, known_name);
      else
        /* Translators: %s is a contact's name, four times. */
        message = g_strdup_printf (_("You already have a contact called %s, with another key. "
                                     "If %s set up Sotto again, update %s: the key above "
                                     "replaces the old one, your conversation stays, and %s is "
                                     "not verified until you compare safety numbers again."),
                                   known_name, known_name, known_name, known_name);
      gtk_label_set_text (self->match_label, message);
      gtk_widget_set_visible (GTK_WIDGET (self->match_label), TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->alias_entry), FALSE);
      /* Translators: a button; %s is a contact's name. */
      button = g_strdup_printf (_("_Update %s"), known_name);
      gtk_button_set_label (self->add_button, button);
      self->update = g_object_ref (known);
    }

  show_error (self, NULL);
  name = sotto_display_text (self->invite->display_name, TRUE);
  /* Translators: the name comes from the invite, and is only a claim. */
  claim = g_strdup_printf (_("Calls themselves “%s”"), name);
  gtk_label_set_text (self->name_label, claim);
  fingerprint = sotto_fingerprint_for_key (self->invite->public_key);
  gtk_label_set_text (self->fingerprint_label, fingerprint);
  gtk_widget_set_visible (self->details_box, TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "add-contact.add", TRUE);
}

static void
on_added_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr (SottoAddContactDialog) self = user_data;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;

  contact = sotto_store_add_contact_finish (SOTTO_STORE (object), result, &error);
  if (contact == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      gtk_widget_set_sensitive (GTK_WIDGET (self), TRUE);
      show_error (self, error->message);
      return;
    }

  /* The entry gives up the focus first: GTK 4.8 warns when a text widget
   * goes with the focus still in it. */
  gtk_window_set_focus (GTK_WINDOW (self), NULL);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
on_updated_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr (SottoAddContactDialog) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!sotto_store_update_contact_finish (SOTTO_STORE (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      gtk_widget_set_sensitive (GTK_WIDGET (self), TRUE);
      show_error (self, error->message);
      return;
    }

  gtk_window_set_focus (GTK_WINDOW (self), NULL);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
add_activated (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  SottoAddContactDialog *self = SOTTO_ADD_CONTACT_DIALOG (widget);
  g_autofree char *alias = NULL;

  if (self->invite == NULL)
    return;

  gtk_widget_set_sensitive (widget, FALSE);
  if (self->update != NULL)
    {
      sotto_store_update_contact_from_invite_async (self->store, self->update, self->invite,
                                                    self->cancellable, on_updated_cb,
                                                    g_object_ref (self));
      return;
    }

  alias = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->alias_entry))));
  sotto_store_add_contact_async (self->store, self->invite, alias[0] != '\0' ? alias : NULL,
                                 self->cancellable, on_added_cb, g_object_ref (self));
}

static void
sotto_add_contact_dialog_dispose (GObject *object)
{
  SottoAddContactDialog *self = (SottoAddContactDialog *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->store);
  g_clear_pointer (&self->invite, sotto_invite_free);
  g_clear_object (&self->update);

  G_OBJECT_CLASS (sotto_add_contact_dialog_parent_class)->dispose (object);
}

static void
sotto_add_contact_dialog_class_init (SottoAddContactDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sotto_add_contact_dialog_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PATH "/sotto-add-contact-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SottoAddContactDialog, invite_entry);
  gtk_widget_class_bind_template_child (widget_class, SottoAddContactDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, SottoAddContactDialog, details_box);
  gtk_widget_class_bind_template_child (widget_class, SottoAddContactDialog, name_label);
  gtk_widget_class_bind_template_child (widget_class, SottoAddContactDialog, fingerprint_label);
  gtk_widget_class_bind_template_child (widget_class, SottoAddContactDialog, alias_entry);
  gtk_widget_class_bind_template_child (widget_class, SottoAddContactDialog, add_button);
  gtk_widget_class_bind_template_child (widget_class, SottoAddContactDialog, match_label);
  gtk_widget_class_bind_template_callback (widget_class, on_invite_changed_cb);

  gtk_widget_class_install_action (widget_class, "add-contact.add", NULL, add_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
sotto_add_contact_dialog_init (SottoAddContactDialog *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->add_button));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "add-contact.add", FALSE);
}

/**
 * sotto_add_contact_dialog_new:
 * @invite: (nullable): text to start with, e.g. a `sotto:` link opened
 */
SottoAddContactDialog *
sotto_add_contact_dialog_new (GtkWindow  *parent,
                              SottoStore *store,
                              const char *invite)
{
  SottoAddContactDialog *self;

  g_return_val_if_fail (SOTTO_IS_STORE (store), NULL);

  self = g_object_new (SOTTO_TYPE_ADD_CONTACT_DIALOG, "transient-for", parent, NULL);
  self->store = g_object_ref (store);
  if (invite != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->invite_entry), invite);
  return self;
}
