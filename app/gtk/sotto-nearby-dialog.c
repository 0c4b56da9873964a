/* sotto-nearby-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Adds someone LAN discovery sees, the one way PROTOCOL.md allows: Sotto
 * looks at the key behind the service (the core refuses one whose
 * fingerprint does not start as published), the dialog shows the whole
 * fingerprint, and only once the user says it matches the one their
 * colleague reads out is the key added — the calls `sotto-cli nearby
 * --look` and `--add` make. Nothing is added on the way there.
 */
#define G_LOG_DOMAIN "sotto-nearby-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-busy-bar.h"
#include "sotto-core.h"
#include "sotto-labels.h"
#include "sotto-nearby-dialog.h"

struct _SottoNearbyDialog
{
  GtkWindow     parent_instance;

  /* template widgets */
  GtkButton    *cancel_button;
  GtkButton    *add_button;
  GtkStack     *stack;
  SottoBusyBar *busy_bar;
  GtkLabel     *name_label;
  GtkLabel     *fingerprint_label;
  GtkLabel     *instruction_label;
  GtkLabel     *add_error_label;
  GtkLabel     *failure_title_label;
  GtkLabel     *failure_label;
  GtkLabel     *failure_reason_label;

  /* owned references */
  SottoContext *context;
  SottoNearby  *nearby;
  SottoInvite  *invite;       /* what the look found, once it did */
  GCancellable *cancellable;  /* the look, not the adding */

  /* the store is adding the contact */
  gboolean      busy;
};

G_DEFINE_FINAL_TYPE (SottoNearbyDialog, sotto_nearby_dialog, GTK_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_NEARBY,
  N_PROPS
};

enum {
  ADDED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
update_actions (SottoNearbyDialog *self)
{
  g_assert (SOTTO_IS_NEARBY_DIALOG (self));

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "nearby.add",
                                 self->invite != NULL && !self->busy);
}

static void
show_failure (SottoNearbyDialog *self,
              const char        *title,
              const char        *text,
              const char        *reason)
{
  g_assert (SOTTO_IS_NEARBY_DIALOG (self));

  sotto_busy_bar_set_active (self->busy_bar, FALSE);
  gtk_label_set_text (self->failure_title_label, title);
  gtk_label_set_text (self->failure_label, text);
  gtk_label_set_text (self->failure_reason_label, reason != NULL ? reason : "");
  gtk_widget_set_visible (GTK_WIDGET (self->failure_reason_label), reason != NULL);
  gtk_stack_set_visible_child_name (self->stack, "failed");
  /* Nothing left to confirm. */
  gtk_widget_set_visible (GTK_WIDGET (self->add_button), FALSE);
  gtk_button_set_label (self->cancel_button, _("_Close"));
  update_actions (self);
}

/* The compare page for @name and @fingerprint (six groups). */
static void
fill_compare_page (SottoNearbyDialog *self,
                   const char        *name,
                   const char        *fingerprint)
{
  g_autofree char *shown_name = NULL;
  g_autofree char *claim = NULL;
  g_autofree char *lines = NULL;
  g_autofree char *instruction = NULL;

  g_assert (SOTTO_IS_NEARBY_DIALOG (self));

  shown_name = sotto_display_text (name, TRUE);
  /* Translators: the name comes from their own computer, and is only a
   * claim. */
  claim = g_strdup_printf (_("Calls themselves “%s”"), shown_name);
  gtk_label_set_text (self->name_label, claim);

  lines = sotto_fingerprint_lines (fingerprint);
  gtk_label_set_text (self->fingerprint_label, lines);

  /* Translators: %s is the name they gave, twice. "Preferences" and
   * "Security" are the names of the window and its page where Sotto
   * shows the user's own fingerprint. */
  instruction = g_strdup_printf (_("Ask %s to open Preferences › Security in their Sotto and "
                                   "read you their fingerprint, in person or on a call. Add "
                                   "%s only if all six groups match."),
                                 shown_name, shown_name);
  gtk_label_set_text (self->instruction_label, instruction);
}

static void
show_invite (SottoNearbyDialog *self)
{
  g_autofree char *fingerprint = NULL;

  g_assert (SOTTO_IS_NEARBY_DIALOG (self));
  g_assert (self->invite != NULL);

  fingerprint = sotto_fingerprint_for_key (self->invite->public_key);
  fill_compare_page (self, self->invite->display_name, fingerprint);
  sotto_busy_bar_set_active (self->busy_bar, FALSE);
  gtk_stack_set_visible_child_name (self->stack, "compare");
  update_actions (self);
}

static void
on_looked_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr (SottoNearbyDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoInvite) invite = NULL;

  invite = sotto_context_look_at_nearby_finish (SOTTO_CONTEXT (object), result, &error);
  if (invite == NULL)
    {
      /* Closed meanwhile. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
          gtk_widget_in_destruction (GTK_WIDGET (self)))
        return;
      /* No connection at all: the words of the socket say little. */
      if (error->domain == G_IO_ERROR || error->domain == G_RESOLVER_ERROR)
        show_failure (self, _("Nobody answered"),
                      _("Their computer did not answer: they may have closed Sotto, or left the "
                        "network. Try again when they are back."),
                      error->message);
      else
        show_failure (self, _("Sotto could not check their key"), error->message, NULL);
      return;
    }

  if (gtk_widget_in_destruction (GTK_WIDGET (self)))
    return;
  self->invite = g_steal_pointer (&invite);
  show_invite (self);
}

static void
on_added_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr (SottoNearbyDialog) self = user_data;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;

  self->busy = FALSE;
  contact = sotto_store_add_contact_finish (SOTTO_STORE (object), result, &error);
  if (contact != NULL)
    g_signal_emit (self, signals[ADDED], 0, contact);
  if (gtk_widget_in_destruction (GTK_WIDGET (self)))
    return;
  if (contact != NULL)
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }

  gtk_label_set_text (self->add_error_label, error->message);
  gtk_widget_set_visible (GTK_WIDGET (self->add_error_label), TRUE);
  update_actions (self);
}

static void
add_activated (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  SottoNearbyDialog *self = SOTTO_NEARBY_DIALOG (widget);

  if (self->invite == NULL || self->busy)
    return;

  self->busy = TRUE;
  gtk_widget_set_visible (GTK_WIDGET (self->add_error_label), FALSE);
  update_actions (self);
  /* The name is the one they gave: the user can rename them in the list.
   * Not cancelled when the dialog closes: the user has confirmed. The
   * store refuses if the policy allows no new contacts (any more). */
  sotto_store_add_contact_async (sotto_context_get_store (self->context), self->invite, NULL,
                                 NULL, on_added_cb, g_object_ref (self));
}

static void
sotto_nearby_dialog_constructed (GObject *object)
{
  SottoNearbyDialog *self = (SottoNearbyDialog *)object;

  G_OBJECT_CLASS (sotto_nearby_dialog_parent_class)->constructed (object);

  g_assert (SOTTO_IS_CONTEXT (self->context));
  g_assert (SOTTO_IS_NEARBY (self->nearby));
  g_assert (SOTTO_IS_STORE (sotto_context_get_store (self->context)));

  /* Filled in already, with what was published and a fingerprint's
   * shape: the window takes the size of the page it will show, and does
   * not have to grow once the look has ended (where nothing may let it). */
  fill_compare_page (self,
                     sotto_nearby_get_name (self->nearby) != NULL
                       ? sotto_nearby_get_name (self->nearby) : _("Someone nearby"),
                     "00000 00000 00000 00000 00000 00000");
  gtk_stack_set_visible_child_name (self->stack, "looking");
  update_actions (self);
  sotto_context_look_at_nearby_async (self->context, self->nearby, self->cancellable,
                                      on_looked_cb, g_object_ref (self));
}

static void
sotto_nearby_dialog_dispose (GObject *object)
{
  SottoNearbyDialog *self = (SottoNearbyDialog *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->context);
  g_clear_object (&self->nearby);
  g_clear_pointer (&self->invite, sotto_invite_free);

  G_OBJECT_CLASS (sotto_nearby_dialog_parent_class)->dispose (object);
}

static void
sotto_nearby_dialog_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  SottoNearbyDialog *self = SOTTO_NEARBY_DIALOG (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_object (value, self->context);
      break;

    case PROP_NEARBY:
      g_value_set_object (value, self->nearby);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_nearby_dialog_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  SottoNearbyDialog *self = SOTTO_NEARBY_DIALOG (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_object (value);
      break;

    case PROP_NEARBY:
      self->nearby = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_nearby_dialog_class_init (SottoNearbyDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = sotto_nearby_dialog_constructed;
  object_class->dispose = sotto_nearby_dialog_dispose;
  object_class->get_property = sotto_nearby_dialog_get_property;
  object_class->set_property = sotto_nearby_dialog_set_property;

  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL,
                         SOTTO_TYPE_CONTEXT,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_NEARBY] =
    g_param_spec_object ("nearby", NULL, NULL,
                         SOTTO_TYPE_NEARBY,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SottoNearbyDialog::added:
   * @contact: the new contact, in the store
   */
  signals[ADDED] =
    g_signal_new ("added",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SOTTO_TYPE_CONTACT);

  gtk_widget_class_install_action (widget_class, "nearby.add", NULL, add_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);

  g_type_ensure (SOTTO_TYPE_BUSY_BAR);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PATH "/sotto-nearby-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyDialog, busy_bar);
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyDialog, name_label);
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyDialog, fingerprint_label);
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyDialog, instruction_label);
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyDialog, add_error_label);
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyDialog, failure_title_label);
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyDialog, failure_label);
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyDialog, failure_reason_label);
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyDialog, add_button);
}

static void
sotto_nearby_dialog_init (SottoNearbyDialog *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  /* No default widget: Enter must not say that the fingerprints match.
   * The digits left to right, whatever the language's direction. */
  gtk_widget_set_direction (GTK_WIDGET (self->fingerprint_label), GTK_TEXT_DIR_LTR);
}

/**
 * sotto_nearby_dialog_new:
 * @parent: (nullable): the window the dialog is for
 * @context: a context with its profile open
 * @nearby: a service LAN discovery saw, not a contact
 *
 * Returns: (transfer full): a new, not yet shown, dialog, already looking
 *   at the key behind @nearby
 */
SottoNearbyDialog *
sotto_nearby_dialog_new (GtkWindow    *parent,
                         SottoContext *context,
                         SottoNearby  *nearby)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (SOTTO_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (SOTTO_IS_STORE (sotto_context_get_store (context)), NULL);
  g_return_val_if_fail (SOTTO_IS_NEARBY (nearby), NULL);

  return g_object_new (SOTTO_TYPE_NEARBY_DIALOG,
                       "transient-for", parent,
                       "context", context,
                       "nearby", nearby,
                       NULL);
}

SottoNearby *
sotto_nearby_dialog_get_nearby (SottoNearbyDialog *self)
{
  g_return_val_if_fail (SOTTO_IS_NEARBY_DIALOG (self), NULL);

  return self->nearby;
}
