/* sotto-verify-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shows the safety number of the user and a contact, as digits to read
 * aloud and as a QR code to scan; the user confirms that the contact's
 * number matches, and the contact is marked as verified in the store.
 * For a contact whose key changed, the number is that of the new key the
 * contact's address answered with, and confirming accepts that key in
 * place, as `sotto-cli verify` does.
 */
#define G_LOG_DOMAIN "sotto-verify-dialog"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "sotto-qr-code.h"
#include "sotto-verify-dialog.h"

/* Twelve groups of five digits, read out a row at a time. */
#define NUMBER_COLUMNS 4

struct _SottoVerifyDialog
{
  GtkWindow      parent_instance;

  /* template widgets */
  GtkWidget     *key_changed_box;
  GtkLabel      *key_changed_label;
  GtkGrid       *number_grid;
  SottoQrCode   *qr_code;
  GtkLabel      *explanation_label;
  GtkButton     *verify_button;

  /* owned references */
  SottoStore    *store;
  SottoContact  *contact;
  SottoIdentity *own;
  char          *safety_number;

  /* the key the number is for: the pinned one, or the one offered */
  guint8         key[SOTTO_KEY_LEN];
  gboolean       accepting;

  /* a request to the store is under way */
  gboolean       busy;
};

G_DEFINE_FINAL_TYPE (SottoVerifyDialog, sotto_verify_dialog, GTK_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_STORE,
  PROP_CONTACT,
  PROP_OWN_IDENTITY,
  N_PROPS
};

enum {
  VERIFIED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* The number of the key the user is asked about: for a key that changed,
 * the new one, which is what a colleague who set Sotto up again reads out. */
static void
show_number (SottoVerifyDialog *self)
{
  const guint8 *offered = sotto_contact_get_offered_key (self->contact);
  g_autoptr (GError) error = NULL;
  g_autofree char *digits = NULL;
  g_auto (GStrv) groups = NULL;
  GtkWidget *child;

  self->accepting = sotto_contact_get_verification (self->contact) == SOTTO_VERIFICATION_KEY_CHANGED &&
                    offered != NULL;
  memcpy (self->key, self->accepting ? offered : sotto_contact_get_public_key (self->contact),
          SOTTO_KEY_LEN);

  g_free (self->safety_number);
  self->safety_number = sotto_safety_number (sotto_identity_get_public_key (self->own), self->key);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->number_grid))) != NULL)
    gtk_grid_remove (self->number_grid, child);
  groups = g_strsplit (self->safety_number, " ", -1);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      GtkWidget *label = gtk_label_new (groups[i]);

      gtk_grid_attach (self->number_grid, label,
                       (int)(i % NUMBER_COLUMNS), (int)(i / NUMBER_COLUMNS), 1, 1);
    }

  /* Only the digits: numeric mode keeps the code small and easy to scan. */
  digits = g_strjoinv ("", groups);
  if (!sotto_qr_code_set_text (self->qr_code, digits, &error))
    g_critical ("A safety number does not fit in a QR code: %s", error->message);
}

static void
update_state (SottoVerifyDialog *self)
{
  SottoVerification verification = sotto_contact_get_verification (self->contact);
  const char *name = sotto_contact_get_name (self->contact);
  g_autofree char *explanation = NULL;

  if (verification == SOTTO_VERIFICATION_KEY_CHANGED && self->accepting)
    {
      g_autofree char *fingerprint = sotto_fingerprint_for_key (self->key);
      g_autofree char *warning = NULL;

      /* Translators: %1$s is a contact's name, %2$s the fingerprint of
       * their new key. The numbers shown are those of the new key. */
      warning = g_strdup_printf (_("%1$s’s address answered with a new security key "
                                   "(fingerprint %2$s): %1$s may have set up Sotto again, or "
                                   "someone may be listening in. The numbers below are for "
                                   "this new key. If %1$s reads you the same numbers, mark it "
                                   "verified: it replaces the old key and your conversation "
                                   "goes on. If not, nothing is sent to them."),
                                 name, fingerprint);
      gtk_label_set_label (self->key_changed_label, warning);
    }
  else if (verification == SOTTO_VERIFICATION_KEY_CHANGED)
    {
      g_autofree char *warning = NULL;

      /* Translators: %s is a contact's name, three times. The key the
       * numbers come from is the one you added, not the one that answered. */
      warning = g_strdup_printf (_("Someone at %s’s address answered with a different security "
                                   "key: someone may be listening in, or %s may have set up "
                                   "Sotto again. Nothing is sent to them until you check. If %s "
                                   "reads you the numbers below, the key you added is still "
                                   "theirs: mark it verified. If not, ask for a new invite."),
                                 name, name, name);
      gtk_label_set_label (self->key_changed_label, warning);
    }
  gtk_widget_set_visible (self->key_changed_box, verification == SOTTO_VERIFICATION_KEY_CHANGED);

  if (verification == SOTTO_VERIFICATION_VERIFIED)
    /* Translators: %s is a contact's name. */
    explanation = g_strdup_printf (_("You have verified %s. Compare the numbers again if you "
                                     "are unsure."),
                                   name);
  else
    /* Translators: %s is a contact's name. */
    explanation = g_strdup_printf (_("Compare these numbers with %s’s, in person or on a call. "
                                     "If they match, nobody is listening in."),
                                   name);
  gtk_label_set_label (self->explanation_label, explanation);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "verify.mark-verified",
                                 !self->busy && verification != SOTTO_VERIFICATION_VERIFIED);
}

static void
on_contact_changed_cb (SottoVerifyDialog *self)
{
  update_state (self);
}

static void
on_key_changed_cb (SottoVerifyDialog *self)
{
  show_number (self);
  update_state (self);
}

static void
on_contact_updated_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr (SottoVerifyDialog) self = user_data;
  g_autoptr (GError) error = NULL;
  GtkWidget *dialog;

  self->busy = FALSE;

  if (g_task_get_source_tag (G_TASK (result)) == sotto_store_accept_contact_key_async
      ? sotto_store_accept_contact_key_finish (SOTTO_STORE (object), result, &error)
      : sotto_store_update_contact_finish (SOTTO_STORE (object), result, &error))
    {
      g_signal_emit (self, signals[VERIFIED], 0, self->contact);
      gtk_window_close (GTK_WINDOW (self));
      return;
    }

  update_state (self);

  dialog = gtk_message_dialog_new (GTK_WINDOW (self),
                                   GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE,
                                   "%s", _("The contact could not be marked as verified"));
  gtk_window_set_title (GTK_WINDOW (dialog), _("The contact could not be marked as verified"));
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", error->message);
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_window_destroy), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
mark_verified_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  SottoVerifyDialog *self = SOTTO_VERIFY_DIALOG (widget);

  if (self->busy)
    return;

  self->busy = TRUE;
  update_state (self);

  /* The very calls `sotto-cli verify` makes (cmd_verify() in
   * app/core/sotto-context-commands.c): one way to verify a contact,
   * whichever front end asks. For a changed key, the key accepted is the
   * one whose number was shown: if the address has answered with yet
   * another one since, the store refuses. Not cancelled when the dialog
   * closes: the user has confirmed, so the verification is finished. */
  if (self->accepting)
    sotto_store_accept_contact_key_async (self->store, self->contact, self->key,
                                          SOTTO_VERIFICATION_VERIFIED, NULL,
                                          on_contact_updated_cb, g_object_ref (self));
  else
    sotto_store_update_contact_async (self->store, self->contact, NULL, -1,
                                      SOTTO_VERIFICATION_VERIFIED, NULL,
                                      on_contact_updated_cb, g_object_ref (self));
}

static void
sotto_verify_dialog_constructed (GObject *object)
{
  SottoVerifyDialog *self = (SottoVerifyDialog *)object;
  g_autofree char *title = NULL;

  G_OBJECT_CLASS (sotto_verify_dialog_parent_class)->constructed (object);

  g_assert (SOTTO_IS_STORE (self->store));
  g_assert (SOTTO_IS_CONTACT (self->contact));
  g_assert (SOTTO_IS_IDENTITY (self->own));

  /* Translators: the title of the window; %s is a contact's name. */
  title = g_strdup_printf (_("Verify %s"), sotto_contact_get_name (self->contact));
  gtk_window_set_title (GTK_WINDOW (self), title);

  show_number (self);

  /* Yet another key offered, or a key accepted elsewhere: the number of
   * the key now in question replaces the one shown. */
  g_signal_connect_object (self->contact, "notify::verification",
                           G_CALLBACK (on_key_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->contact, "notify::offered-key",
                           G_CALLBACK (on_key_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->contact, "notify::public-key",
                           G_CALLBACK (on_key_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->contact, "notify::name",
                           G_CALLBACK (on_contact_changed_cb), self,
                           G_CONNECT_SWAPPED);

  update_state (self);
}

static void
sotto_verify_dialog_dispose (GObject *object)
{
  SottoVerifyDialog *self = (SottoVerifyDialog *)object;


  g_clear_object (&self->store);
  g_clear_object (&self->contact);
  g_clear_object (&self->own);

  G_OBJECT_CLASS (sotto_verify_dialog_parent_class)->dispose (object);
}

static void
sotto_verify_dialog_finalize (GObject *object)
{
  SottoVerifyDialog *self = (SottoVerifyDialog *)object;

  g_free (self->safety_number);

  G_OBJECT_CLASS (sotto_verify_dialog_parent_class)->finalize (object);
}

static void
sotto_verify_dialog_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  SottoVerifyDialog *self = SOTTO_VERIFY_DIALOG (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_CONTACT:
      g_value_set_object (value, self->contact);
      break;

    case PROP_OWN_IDENTITY:
      g_value_set_object (value, self->own);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_verify_dialog_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  SottoVerifyDialog *self = SOTTO_VERIFY_DIALOG (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;

    case PROP_CONTACT:
      self->contact = g_value_dup_object (value);
      break;

    case PROP_OWN_IDENTITY:
      self->own = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_verify_dialog_class_init (SottoVerifyDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = sotto_verify_dialog_constructed;
  object_class->dispose = sotto_verify_dialog_dispose;
  object_class->finalize = sotto_verify_dialog_finalize;
  object_class->get_property = sotto_verify_dialog_get_property;
  object_class->set_property = sotto_verify_dialog_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         SOTTO_TYPE_STORE,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_CONTACT] =
    g_param_spec_object ("contact", NULL, NULL,
                         SOTTO_TYPE_CONTACT,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_OWN_IDENTITY] =
    g_param_spec_object ("own-identity", NULL, NULL,
                         SOTTO_TYPE_IDENTITY,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SottoVerifyDialog::verified:
   * @contact: the contact, now verified in the store
   */
  signals[VERIFIED] =
    g_signal_new ("verified",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SOTTO_TYPE_CONTACT);

  gtk_widget_class_install_action (widget_class, "verify.mark-verified", NULL,
                                   mark_verified_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);

  g_type_ensure (SOTTO_TYPE_QR_CODE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PATH "/sotto-verify-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SottoVerifyDialog, key_changed_box);
  gtk_widget_class_bind_template_child (widget_class, SottoVerifyDialog, key_changed_label);
  gtk_widget_class_bind_template_child (widget_class, SottoVerifyDialog, number_grid);
  gtk_widget_class_bind_template_child (widget_class, SottoVerifyDialog, qr_code);
  gtk_widget_class_bind_template_child (widget_class, SottoVerifyDialog, explanation_label);
  gtk_widget_class_bind_template_child (widget_class, SottoVerifyDialog, verify_button);
  /* Not used here, but found by name by the tests. */
  gtk_widget_class_bind_template_child_full (widget_class, "cancel_button", FALSE, 0);
}

static void
sotto_verify_dialog_init (SottoVerifyDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * sotto_verify_dialog_new:
 * @parent: (nullable): the window the dialog is for
 * @store: the profile's store, which records the verification
 * @contact: a contact of @store
 * @own: the user's identity
 *
 * Returns: (transfer full): a new, not yet shown, dialog
 */
SottoVerifyDialog *
sotto_verify_dialog_new (GtkWindow     *parent,
                         SottoStore    *store,
                         SottoContact  *contact,
                         SottoIdentity *own)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (SOTTO_IS_STORE (store), NULL);
  g_return_val_if_fail (SOTTO_IS_CONTACT (contact), NULL);
  g_return_val_if_fail (SOTTO_IS_IDENTITY (own), NULL);

  return g_object_new (SOTTO_TYPE_VERIFY_DIALOG,
                       "transient-for", parent,
                       "store", store,
                       "contact", contact,
                       "own-identity", own,
                       NULL);
}

SottoContact *
sotto_verify_dialog_get_contact (SottoVerifyDialog *self)
{
  g_return_val_if_fail (SOTTO_IS_VERIFY_DIALOG (self), NULL);

  return self->contact;
}

/**
 * sotto_verify_dialog_get_safety_number:
 *
 * Returns: the safety number shown, as sotto_safety_number() formats it
 */
const char *
sotto_verify_dialog_get_safety_number (SottoVerifyDialog *self)
{
  g_return_val_if_fail (SOTTO_IS_VERIFY_DIALOG (self), NULL);

  return self->safety_number;
}
