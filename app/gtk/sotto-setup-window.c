/* sotto-setup-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shown when the profile does not exist yet. It asks for the name
 * colleagues see and for what protects the history key, creates the
 * profile through the context (as `sotto-cli init` does), and then shows
 * the user's invite. The application hears ::profile-created as soon as
 * the profile is open, so that colleagues can already connect while the
 * invite is on screen, and ::finished when the user moves on.
 */
#define G_LOG_DOMAIN "sotto-setup-window"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-busy-bar.h"
#include "sotto-core.h"
#include "sotto-port-banner.h"
#include "sotto-qr-code.h"
#include "sotto-setup-window.h"

struct _SottoSetupWindow
{
  GtkApplicationWindow parent_instance;

  /* template widgets */
  GtkStack            *stack;
  GtkImage            *logo;
  GtkEntry            *name_entry;
  GtkLabel            *name_error;
  GtkCheckButton      *passphrase_check;
  GtkPasswordEntry    *passphrase_entry;
  GtkPasswordEntry    *repeat_entry;
  GtkLabel            *protection_error;
  SottoBusyBar        *busy_bar;
  GtkBox              *qr_box;
  GtkLabel            *invite_label;
  GtkButton           *name_next;
  GtkButton           *create_button;
  GtkButton           *start_button;

  /* owned references */
  SottoContext        *context;
  GSettings           *settings;
  GCancellable        *cancellable;
  char                *invite;
};

G_DEFINE_FINAL_TYPE (SottoSetupWindow, sotto_setup_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_SETTINGS,
  N_PROPS
};

enum {
  PROFILE_CREATED,
  FINISHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
show_error (GtkLabel   *label,
            const char *message)
{
  gtk_label_set_label (label, message);
  gtk_widget_set_visible (GTK_WIDGET (label), message != NULL);
}

static void
update_actions (SottoSetupWindow *self)
{
  const char *page = gtk_stack_get_visible_child_name (self->stack);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "setup.back",
                                 g_str_equal (page, "protection"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "setup.next",
                                 g_str_equal (page, "name") || g_str_equal (page, "protection"));
}

static void
show_page (SottoSetupWindow *self,
           const char       *page,
           GtkWidget        *focus,
           GtkWidget        *default_widget)
{
  gtk_stack_set_visible_child_name (self->stack, page);
  gtk_window_set_default_widget (GTK_WINDOW (self), default_widget);
  if (focus != NULL)
    gtk_widget_grab_focus (focus);
  update_actions (self);
}

/* The user's invite as text and as a QR code, naming the port the
 * profile listens on now. */
static void
show_invite (SottoSetupWindow *self)
{
  g_autoptr (GError) error = NULL;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->qr_box))) != NULL)
    gtk_box_remove (self->qr_box, child);
  g_clear_pointer (&self->invite, g_free);

  self->invite = sotto_context_dup_invite (self->context, &error);
  if (self->invite == NULL)
    {
      /* The profile is made: an invite can be had later from the main
       * window, so this is not worth stopping for. */
      g_warning ("No invite to show: %s", error->message);
      gtk_label_set_label (self->invite_label, error->message);
    }
  else
    {
      GtkWidget *code = sotto_qr_code_new ();

      gtk_label_set_label (self->invite_label, self->invite);
      /* An invite too long for a QR code is still there as text. */
      if (sotto_qr_code_set_text (SOTTO_QR_CODE (code), self->invite, NULL))
        {
          gtk_widget_set_size_request (code, 180, 180);
          gtk_box_append (self->qr_box, code);
        }
      else
        {
          g_object_ref_sink (code);
          g_object_unref (code);
        }
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "setup.copy-invite", self->invite != NULL);
}

/* The port the invite named was taken, and the user took the free one. */
static void
on_port_changed_cb (SottoSetupWindow *self)
{
  if (self->invite != NULL)
    show_invite (self);
}

static void
on_created_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr (SottoSetupWindow) self = user_data;
  g_autoptr (GError) error = NULL;

  sotto_busy_bar_set_active (self->busy_bar, FALSE);
  if (!sotto_context_create_finish (SOTTO_CONTEXT (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      show_error (self->protection_error, error->message);
      show_page (self, "protection", NULL, GTK_WIDGET (self->create_button));
      return;
    }

  g_signal_emit (self, signals[PROFILE_CREATED], 0);

  show_invite (self);
  show_page (self, "done", GTK_WIDGET (self->start_button), GTK_WIDGET (self->start_button));
}

static void
create_profile (SottoSetupWindow *self)
{
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_entry))));
  gboolean with_passphrase = gtk_check_button_get_active (self->passphrase_check);
  const char *passphrase = gtk_editable_get_text (GTK_EDITABLE (self->passphrase_entry));
  const char *repeat = gtk_editable_get_text (GTK_EDITABLE (self->repeat_entry));

  if (with_passphrase && passphrase[0] == '\0')
    {
      show_error (self->protection_error, _("Enter a passphrase, or let your login protect the history"));
      gtk_widget_grab_focus (GTK_WIDGET (self->passphrase_entry));
      return;
    }
  if (with_passphrase && strcmp (passphrase, repeat) != 0)
    {
      show_error (self->protection_error, _("The two passphrases differ"));
      gtk_widget_grab_focus (GTK_WIDGET (self->repeat_entry));
      return;
    }
  show_error (self->protection_error, NULL);

  show_page (self, "working", NULL, NULL);
  sotto_busy_bar_set_active (self->busy_bar, TRUE);
  sotto_context_create_async (self->context, name,
                              with_passphrase ? SOTTO_KEY_PROTECTION_PASSPHRASE
                                              : SOTTO_KEY_PROTECTION_KEYRING,
                              with_passphrase ? passphrase : NULL,
                              self->cancellable, on_created_cb, g_object_ref (self));
}

static void
next_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  SottoSetupWindow *self = SOTTO_SETUP_WINDOW (widget);
  const char *page = gtk_stack_get_visible_child_name (self->stack);

  if (g_str_equal (page, "name"))
    {
      g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_entry))));
      g_autoptr (GError) error = NULL;

      if (name[0] == '\0')
        {
          show_error (self->name_error, _("Enter the name your colleagues know you by"));
          return;
        }
      if (!sotto_display_name_validate (name, &error))
        {
          show_error (self->name_error, error->message);
          return;
        }
      show_error (self->name_error, NULL);
      /* Enter again creates the profile with the recommended protection. */
      show_page (self, "protection", GTK_WIDGET (self->create_button),
                 GTK_WIDGET (self->create_button));
    }
  else if (g_str_equal (page, "protection"))
    create_profile (self);
}

static void
back_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  SottoSetupWindow *self = SOTTO_SETUP_WINDOW (widget);

  show_page (self, "name", GTK_WIDGET (self->name_entry), GTK_WIDGET (self->name_next));
}

static void
copy_invite_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  SottoSetupWindow *self = SOTTO_SETUP_WINDOW (widget);

  if (self->invite != NULL)
    gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), self->invite);
}

static void
finish_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  g_signal_emit (widget, signals[FINISHED], 0);
}

static void
sotto_setup_window_constructed (GObject *object)
{
  SottoSetupWindow *self = (SottoSetupWindow *)object;
  GtkWidget *banner;

  G_OBJECT_CLASS (sotto_setup_window_parent_class)->constructed (object);

  g_assert (SOTTO_IS_CONTEXT (self->context));
  g_assert (G_IS_SETTINGS (self->settings));

  if (DEVELOPMENT_BUILD)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
  gtk_image_set_from_icon_name (self->logo, APPLICATION_ID);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "setup.copy-invite", FALSE);

  /* An invite that names a port someone else has is no use: the page
   * that shows it says so, and offers a free one. */
  banner = sotto_port_banner_new (self->context);
  g_signal_connect_object (banner, "port-changed", G_CALLBACK (on_port_changed_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_box_insert_child_after (GTK_BOX (gtk_widget_get_parent (GTK_WIDGET (self->qr_box))), banner,
                              gtk_widget_get_prev_sibling (GTK_WIDGET (self->qr_box)));

  show_page (self, "name", GTK_WIDGET (self->name_entry), GTK_WIDGET (self->name_next));
}

static void
sotto_setup_window_dispose (GObject *object)
{
  SottoSetupWindow *self = (SottoSetupWindow *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->context);
  g_clear_object (&self->settings);


  G_OBJECT_CLASS (sotto_setup_window_parent_class)->dispose (object);
}

static void
sotto_setup_window_finalize (GObject *object)
{
  SottoSetupWindow *self = (SottoSetupWindow *)object;

  g_clear_pointer (&self->invite, g_free);

  G_OBJECT_CLASS (sotto_setup_window_parent_class)->finalize (object);
}

static void
sotto_setup_window_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  SottoSetupWindow *self = SOTTO_SETUP_WINDOW (object);

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
sotto_setup_window_class_init (SottoSetupWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = sotto_setup_window_constructed;
  object_class->dispose = sotto_setup_window_dispose;
  object_class->finalize = sotto_setup_window_finalize;
  object_class->set_property = sotto_setup_window_set_property;

  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL, SOTTO_TYPE_CONTEXT,
                         (G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         (G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SottoSetupWindow::profile-created:
   *
   * The profile exists and is open in the context.
   */
  signals[PROFILE_CREATED] =
    g_signal_new ("profile-created", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * SottoSetupWindow::finished:
   *
   * The user has seen the invite and wants the contact list.
   */
  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PATH "/sotto-setup-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, logo);
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, name_entry);
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, name_error);
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, passphrase_check);
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, passphrase_entry);
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, repeat_entry);
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, protection_error);
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, busy_bar);
  g_type_ensure (SOTTO_TYPE_BUSY_BAR);
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, qr_box);
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, invite_label);
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, name_next);
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, create_button);
  gtk_widget_class_bind_template_child (widget_class, SottoSetupWindow, start_button);

  gtk_widget_class_install_action (widget_class, "setup.next", NULL, next_activated);
  gtk_widget_class_install_action (widget_class, "setup.back", NULL, back_activated);
  gtk_widget_class_install_action (widget_class, "setup.copy-invite", NULL, copy_invite_activated);
  gtk_widget_class_install_action (widget_class, "setup.finish", NULL, finish_activated);
}

static void
sotto_setup_window_init (SottoSetupWindow *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
}

SottoSetupWindow *
sotto_setup_window_new (GtkApplication *application,
                        SottoContext   *context,
                        GSettings      *settings)
{
  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (SOTTO_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  return g_object_new (SOTTO_TYPE_SETUP_WINDOW,
                       "application", application,
                       "context", context,
                       "settings", settings,
                       NULL);
}
