/* sotto-unlock-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The profile's key is wrapped by a passphrase: ask for it, open the
 * profile through the context, and say so plainly when it was wrong. The
 * key derivation takes about a second, so the window shows it is working.
 */
#define G_LOG_DOMAIN "sotto-unlock-window"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-busy-bar.h"
#include "sotto-core.h"
#include "sotto-unlock-window.h"

struct _SottoUnlockWindow
{
  GtkApplicationWindow parent_instance;

  /* template widgets */
  GtkLabel            *explanation;
  GtkPasswordEntry    *passphrase_entry;
  GtkLabel            *error_label;
  SottoBusyBar        *busy_bar;
  GtkButton           *unlock_button;

  /* owned references */
  SottoContext        *context;
  GSettings           *settings;
  GCancellable        *cancellable;
};

G_DEFINE_FINAL_TYPE (SottoUnlockWindow, sotto_unlock_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_SETTINGS,
  N_PROPS
};

enum {
  UNLOCKED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
set_busy (SottoUnlockWindow *self,
          gboolean           busy)
{
  sotto_busy_bar_set_active (self->busy_bar, busy);
  /* An entry made insensitive while it has the focus never hears that it
   * lost it (GTK warns): the focus leaves it first. */
  if (busy)
    gtk_root_set_focus (GTK_ROOT (self), NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->passphrase_entry), !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "unlock.unlock", !busy);
}

static void
on_opened_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr (SottoUnlockWindow) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!sotto_context_open_finish (SOTTO_CONTEXT (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_busy (self, FALSE);
      if (g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_WRONG_PASSPHRASE))
        gtk_label_set_label (self->error_label, _("That passphrase is not the right one. Try again."));
      else
        gtk_label_set_label (self->error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      gtk_editable_set_text (GTK_EDITABLE (self->passphrase_entry), "");
      gtk_widget_grab_focus (GTK_WIDGET (self->passphrase_entry));
      return;
    }

  g_signal_emit (self, signals[UNLOCKED], 0);
}

static void
unlock_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  SottoUnlockWindow *self = SOTTO_UNLOCK_WINDOW (widget);
  const char *passphrase = gtk_editable_get_text (GTK_EDITABLE (self->passphrase_entry));

  if (passphrase[0] == '\0')
    return;

  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  set_busy (self, TRUE);
  sotto_context_open_async (self->context, passphrase, self->cancellable, on_opened_cb, g_object_ref (self));
}

static void
sotto_unlock_window_constructed (GObject *object)
{
  SottoUnlockWindow *self = (SottoUnlockWindow *)object;
  g_autofree char *text = NULL;

  G_OBJECT_CLASS (sotto_unlock_window_parent_class)->constructed (object);

  if (sotto_context_is_default_profile (self->context))
    text = g_strdup (_("Enter your passphrase to open your messages."));
  else
    text = g_strdup_printf (_("Enter the passphrase of the profile “%s” to open its messages."),
                            sotto_context_get_profile (self->context));
  gtk_label_set_label (self->explanation, text);
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->unlock_button));
  gtk_widget_grab_focus (GTK_WIDGET (self->passphrase_entry));
}

static void
sotto_unlock_window_dispose (GObject *object)
{
  SottoUnlockWindow *self = (SottoUnlockWindow *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->context);
  g_clear_object (&self->settings);


  G_OBJECT_CLASS (sotto_unlock_window_parent_class)->dispose (object);
}

static void
sotto_unlock_window_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  SottoUnlockWindow *self = SOTTO_UNLOCK_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_object (value);
      break;

    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_unlock_window_class_init (SottoUnlockWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = sotto_unlock_window_constructed;
  object_class->dispose = sotto_unlock_window_dispose;
  object_class->set_property = sotto_unlock_window_set_property;

  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL, SOTTO_TYPE_CONTEXT,
                         (G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         (G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SottoUnlockWindow::unlocked:
   *
   * The profile is open in the context.
   */
  signals[UNLOCKED] =
    g_signal_new ("unlocked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PATH "/sotto-unlock-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SottoUnlockWindow, explanation);
  gtk_widget_class_bind_template_child (widget_class, SottoUnlockWindow, passphrase_entry);
  gtk_widget_class_bind_template_child (widget_class, SottoUnlockWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, SottoUnlockWindow, busy_bar);
  g_type_ensure (SOTTO_TYPE_BUSY_BAR);
  gtk_widget_class_bind_template_child (widget_class, SottoUnlockWindow, unlock_button);

  gtk_widget_class_install_action (widget_class, "unlock.unlock", NULL, unlock_activated);
}

static void
sotto_unlock_window_init (SottoUnlockWindow *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
}

SottoUnlockWindow *
sotto_unlock_window_new (GtkApplication *application,
                         SottoContext   *context,
                         GSettings      *settings)
{
  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (SOTTO_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  return g_object_new (SOTTO_TYPE_UNLOCK_WINDOW,
                       "application", application,
                       "context", context,
                       "settings", settings,
                       NULL);
}
