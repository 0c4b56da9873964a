/* sotto-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-application"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-application.h"
#include "sotto-chat-window.h"
#include "sotto-context.h"
#include "sotto-core.h"
#include "sotto-idle-monitor.h"
#include "sotto-notifier.h"
#include "sotto-peer-service.h"
#include "sotto-profile.h"
#include "sotto-setup-window.h"
#include "sotto-unlock-window.h"
#include "sotto-window.h"

struct _SottoApplication
{
  GtkApplication      parent_instance;

  /* owned references */
  SottoContext       *context;
  GSettings          *settings;
  SottoNotifier      *notifier;
  SottoAutoAway      *auto_away;
  SottoIdleMonitor   *idle_monitor;
  GCancellable       *cancellable;
  GPtrArray          *pending_invites;  /* sotto: URIs opened before the window */

  /* the desktop's light or dark preference */
  GDBusProxy         *portal_settings;
  GSettings          *desktop_interface;

  /* not owned: the windows of the start-up flow, while they exist */
  GtkWindow          *flow_window;
  SottoWindow        *main_window;
  gboolean            opening;

  /* set in startup when the profile can't be used; shown on activate */
  GError             *startup_error;
  /* why colleagues can't reach us (the port is taken, say), for the window */
  GError             *network_error;
};

G_DEFINE_FINAL_TYPE (SottoApplication, sotto_application, GTK_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Print the version and exit"), NULL },
  { "profile", 'p', 0, G_OPTION_ARG_STRING, NULL,
    N_("Use the profile NAME (its own identity, contacts and history)"), N_("NAME") },
  { NULL }
};

static void
show_startup_error (SottoApplication *self)
{
  GtkWidget *dialog;

  dialog = gtk_message_dialog_new (NULL, GTK_DIALOG_MODAL, GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE,
                                   _("Sotto cannot open its profile"));
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s",
                                            self->startup_error->message);
  gtk_window_set_title (GTK_WINDOW (dialog), _("Sotto"));
  gtk_window_set_application (GTK_WINDOW (dialog), GTK_APPLICATION (self));
  g_signal_connect_swapped (dialog, "response", G_CALLBACK (gtk_window_destroy), dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
show_error_dialog (SottoApplication *self,
                   const char       *title,
                   const GError     *error)
{
  GtkWidget *dialog;

  dialog = gtk_message_dialog_new (NULL, GTK_DIALOG_MODAL, GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE,
                                   "%s", title);
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", error->message);
  gtk_window_set_title (GTK_WINDOW (dialog), _("Sotto"));
  gtk_window_set_application (GTK_WINDOW (dialog), GTK_APPLICATION (self));
  g_signal_connect_swapped (dialog, "response", G_CALLBACK (gtk_window_destroy), dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
open_pending_invites (SottoApplication *self)
{
  if (self->main_window == NULL || sotto_context_get_store (self->context) == NULL)
    return;

  for (guint i = 0; i < self->pending_invites->len; i++)
    sotto_window_add_contact (self->main_window, g_ptr_array_index (self->pending_invites, i));
  g_ptr_array_set_size (self->pending_invites, 0);
}

static gboolean
destroy_window_cb (gpointer window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  return G_SOURCE_REMOVE;
}

static void
show_main_window (SottoApplication *self)
{
  if (self->main_window == NULL)
    {
      self->main_window = sotto_window_new (GTK_APPLICATION (self), self->context, self->settings);
      g_object_add_weak_pointer (G_OBJECT (self->main_window), (gpointer *)&self->main_window);
    }
  if (sotto_context_get_store (self->context) != NULL)
    sotto_window_set_ready (self->main_window);
  if (self->network_error != NULL)
    sotto_window_show_network_error (self->main_window, self->network_error);

  /* Hidden now, destroyed once the click that got us here is over: GTK
   * does not like a window destroyed inside its own button's handler. */
  if (self->flow_window != NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->flow_window), FALSE);
      g_idle_add_full (G_PRIORITY_LOW, destroy_window_cb, g_object_ref (self->flow_window),
                       g_object_unref);
    }
  gtk_window_present (GTK_WINDOW (self->main_window));
  open_pending_invites (self);
}

static gboolean
is_showing_cb (gint64   contact_id,
               gpointer user_data)
{
  SottoApplication *self = user_data;
  SottoChatWindow *chat = self->main_window != NULL
                            ? sotto_window_get_chat_window (self->main_window) : NULL;

  return chat != NULL && sotto_chat_window_is_showing (chat, contact_id);
}

static void
on_conversation_read_cb (SottoStore       *store,
                         gint64            contact_id,
                         SottoApplication *self)
{
  if (self->notifier != NULL)
    sotto_notifier_seen (self->notifier, contact_id);
}

/* The autostart entry follows the setting, also when an administrator
 * pushes it or locks it. */
static void
on_start_at_login_changed_cb (GSettings        *settings,
                              const char       *key,
                              SottoApplication *self)
{
  g_autoptr (GError) error = NULL;

  if (!sotto_context_apply_start_at_login (self->context, &error))
    g_printerr ("sotto: %s\n", error->message);
}

static void
follow_start_at_login (SottoApplication *self)
{
  GSettings *own = sotto_context_get_profile_settings (self->context);

  on_start_at_login_changed_cb (NULL, NULL, self);
  g_signal_connect_object (self->settings, "changed::start-at-login",
                           G_CALLBACK (on_start_at_login_changed_cb), self, 0);
  g_signal_connect_object (self->settings, "writable-changed::start-at-login",
                           G_CALLBACK (on_start_at_login_changed_cb), self, 0);
  g_signal_connect_object (own, "changed::start-at-login",
                           G_CALLBACK (on_start_at_login_changed_cb), self, 0);
}

/* The profile is open: start what runs while it is, once. */
static void
start_profile (SottoApplication *self)
{
  g_autoptr (GError) error = NULL;

  if (self->notifier != NULL)
    return;

  if (!sotto_context_start (self->context, &error))
    {
      SottoPeerService *service = sotto_context_get_peer_service (self->context);

      /* Not fatal: history and queued messages are still there, and the
       * window says why colleagues can't reach us: its port banner when
       * the peer service can't listen, its network banner otherwise. */
      g_printerr ("sotto: %s\n", error->message);
      if (service == NULL || sotto_peer_service_get_listen_error (service) == NULL)
        self->network_error = g_steal_pointer (&error);
    }

  follow_start_at_login (self);

  self->notifier = sotto_notifier_new (G_APPLICATION (self), self->context, self->settings,
                                       is_showing_cb, self);
  /* Away while the user is not at the computer (auto-away-minutes). */
  if (sotto_context_get_peer_service (self->context) != NULL)
    {
      self->auto_away = sotto_auto_away_new (sotto_context_get_peer_service (self->context),
                                             self->settings);
      self->idle_monitor = sotto_idle_monitor_new (self->auto_away);
    }
  g_signal_connect_object (sotto_context_get_store (self->context), "conversation-read",
                           G_CALLBACK (on_conversation_read_cb), self, 0);
}

static void
on_profile_created_cb (SottoSetupWindow *window,
                       SottoApplication *self)
{
  start_profile (self);
}

static void
on_setup_finished_cb (SottoSetupWindow *window,
                      SottoApplication *self)
{
  show_main_window (self);
}

static void
on_unlocked_cb (SottoUnlockWindow *window,
                SottoApplication  *self)
{
  start_profile (self);
  show_main_window (self);
}

static void
show_flow_window (SottoApplication *self,
                  GtkWindow        *window)
{
  self->flow_window = window;
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *)&self->flow_window);
  gtk_window_present (window);
}

static void
show_unlock_window (SottoApplication *self)
{
  SottoUnlockWindow *window = sotto_unlock_window_new (GTK_APPLICATION (self), self->context,
                                                       self->settings);

  g_signal_connect (window, "unlocked", G_CALLBACK (on_unlocked_cb), self);
  show_flow_window (self, GTK_WINDOW (window));
}

static void
on_opened_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr (SottoApplication) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean opened = sotto_context_open_finish (SOTTO_CONTEXT (object), result, &error);

  self->opening = FALSE;
  /* Quit while opening: the context has already gone. */
  if (self->context == NULL)
    {
      g_application_release (G_APPLICATION (self));
      return;
    }

  if (opened)
    {
      start_profile (self);
      show_main_window (self);
    }
  else
    {
      /* The window shown while opening has nothing to show. */
      if (self->main_window != NULL)
        gtk_window_destroy (GTK_WINDOW (self->main_window));
      if (g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_NEEDS_PASSPHRASE))
        show_unlock_window (self);
      else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error_dialog (self, _("Sotto cannot open its profile"), error);
    }

  g_application_release (G_APPLICATION (self));
}

static void
quit_activated_cb (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  SottoApplication *self = user_data;
  g_autoptr (GList) windows = NULL;

  /* Close, not destroy: each window saves its state in close-request. */
  windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));
  for (const GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (GTK_WINDOW (l->data));

  g_application_quit (G_APPLICATION (self));
}

/* GTK 4.8's About window leaves the text views of its Legal and System
 * pages unnamed: screen readers would say "GtkTextView". Each takes the
 * title of the page it is on, GTK's own translated word. */
static void
name_about_text_views (GtkWidget  *widget,
                       const char *page_title)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      const char *title = page_title;

      GtkStackPage *page = GTK_IS_STACK (widget) ? gtk_stack_get_page (GTK_STACK (widget), child) : NULL;

      if (page != NULL)
        title = gtk_stack_page_get_title (page);
      if (GTK_IS_TEXT_VIEW (child) && title != NULL)
        gtk_accessible_update_property (GTK_ACCESSIBLE (child), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                        title, -1);
      name_about_text_views (child, title);
    }
}

static void
about_activated_cb (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  SottoApplication *self = user_data;
  static const char *developers[] = { "The Sotto developers", NULL };
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GObject *owner = parent != NULL ? G_OBJECT (parent) : G_OBJECT (self);
  GtkWidget *about = g_object_get_data (owner, "sotto-about");

  /* One per window, kept and shown again, as gtk_show_about_dialog()
   * does; built here to name what GTK leaves unnamed. */
  if (about == NULL)
    {
      about = g_object_new (GTK_TYPE_ABOUT_DIALOG,
                            "transient-for", parent,
                            "modal", TRUE,
                            "destroy-with-parent", TRUE,
                            "hide-on-close", TRUE,
                            "program-name", _("Sotto"),
                            "logo-icon-name", APPLICATION_ID,
                            "version", PACKAGE_VERSION,
                            "comments", _("Private instant messaging for the office, "
                                          "without a server"),
                            "copyright", "© 2026 The Sotto developers",
                            "license-type", GTK_LICENSE_GPL_3_0,
                            "authors", developers,
                            /* Translators: put your names here, one per line. */
                            "translator-credits", _("translator-credits"),
                            NULL);
      name_about_text_views (about, NULL);
      g_object_set_data_full (owner, "sotto-about", g_object_ref_sink (about), g_object_unref);
    }
  gtk_window_present (GTK_WINDOW (about));
}

/* From a notification: the conversation it was about. */
static void
open_chat_activated_cb (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  SottoApplication *self = user_data;
  SottoStore *store = sotto_context_get_store (self->context);
  SottoContact *contact;

  if (store == NULL || self->main_window == NULL)
    return;
  contact = sotto_store_get_contact_by_id (store, g_variant_get_int64 (parameter));
  if (contact != NULL)
    sotto_window_open_chat (self->main_window, contact);
}

/* From a contact request's notification: the requests. */
static void
show_requests_activated_cb (GSimpleAction *action,
                            GVariant      *parameter,
                            gpointer       user_data)
{
  SottoApplication *self = user_data;

  if (self->main_window != NULL)
    sotto_window_show_requests (self->main_window);
}

static const GActionEntry app_actions[] = {
  { "quit", quit_activated_cb },
  { "about", about_activated_cb },
  { "open-chat", open_chat_activated_cb, "x" },
  { "show-requests", show_requests_activated_cb },
};

static int
sotto_application_handle_local_options (GApplication *app,
                                        GVariantDict *options)
{
  SottoApplication *self = SOTTO_APPLICATION (app);
  g_autoptr (GError) error = NULL;
  g_autofree char *application_id = NULL;
  const char *profile = NULL;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("sotto %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  g_variant_dict_lookup (options, "profile", "&s", &profile);

  self->context = sotto_context_new (profile, NULL, &error);
  if (self->context == NULL)
    {
      g_printerr ("sotto: %s\n", error->message);
      return 2;
    }

  /* No schema at all (a broken install) would abort in g_settings_new(). */
  if (sotto_context_get_settings (self->context) == NULL)
    {
      g_printerr ("sotto: ");
      g_printerr (_("The settings schema “%s” is not installed"), SCHEMA_ID);
      g_printerr ("\n");
      return EXIT_FAILURE;
    }

  /* Registration has not happened yet, so the id may still change: each
   * profile is its own single-instance application. */
  application_id = sotto_profile_application_id (APPLICATION_ID,
                                                 sotto_context_get_profile (self->context));
  g_application_set_application_id (app, application_id);

  return -1;
}

/* -------------------------------------------------------------------------
 * Dark or light, as the desktop prefers
 *
 * GTK 4.8 without libadwaita does not follow the desktop's colour scheme
 * by itself. The desktop portal says what the user chose
 * (org.freedesktop.appearance color-scheme: 1 dark, 2 light, 0 no
 * preference); without a portal, GNOME's own setting does.
 * ------------------------------------------------------------------------- */

static void
prefer_dark (gboolean dark)
{
  GtkSettings *settings = gtk_settings_get_default ();
  gboolean current = FALSE;

  /* Setting it at all reloads the whole theme, even to the same value:
   * at start-up that would be most of a style's work done twice. */
  g_object_get (settings, "gtk-application-prefer-dark-theme", &current, NULL);
  if (!current != !dark)
    g_object_set (settings, "gtk-application-prefer-dark-theme", dark, NULL);
}

static void
on_desktop_color_scheme_cb (GSettings        *settings,
                            const char       *key,
                            SottoApplication *self)
{
  g_autofree char *scheme = g_settings_get_string (settings, "color-scheme");

  prefer_dark (g_strcmp0 (scheme, "prefer-dark") == 0);
}

static void
follow_gnome_setting (SottoApplication *self)
{
  g_autoptr (GSettingsSchema) schema = NULL;
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, "org.gnome.desktop.interface", TRUE);
  if (schema == NULL || !g_settings_schema_has_key (schema, "color-scheme"))
    return;

  self->desktop_interface = g_settings_new_full (schema, NULL, NULL);
  g_signal_connect (self->desktop_interface, "changed::color-scheme",
                    G_CALLBACK (on_desktop_color_scheme_cb), self);
  on_desktop_color_scheme_cb (self->desktop_interface, "color-scheme", self);
}

/* The portal wraps the value in one or two variants, by its version. */
static void
apply_portal_value (GVariant *value)
{
  g_autoptr (GVariant) inner = g_variant_ref (value);

  while (g_variant_is_of_type (inner, G_VARIANT_TYPE_VARIANT))
    {
      GVariant *next = g_variant_get_variant (inner);

      g_variant_unref (inner);
      inner = next;
    }
  if (g_variant_is_of_type (inner, G_VARIANT_TYPE_UINT32))
    prefer_dark (g_variant_get_uint32 (inner) == 1);
}

static void
on_portal_signal_cb (GDBusProxy *proxy,
                     const char *sender,
                     const char *signal,
                     GVariant   *parameters,
                     gpointer    user_data)
{
  const char *ns = NULL;
  const char *key = NULL;
  g_autoptr (GVariant) value = NULL;

  if (!g_str_equal (signal, "SettingChanged") ||
      !g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ssv)")))
    return;
  g_variant_get (parameters, "(&s&sv)", &ns, &key, &value);
  if (g_str_equal (ns, "org.freedesktop.appearance") && g_str_equal (key, "color-scheme"))
    apply_portal_value (value);
}

static void
on_portal_read_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr (SottoApplication) self = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) value = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (object), result, NULL);
  if (reply == NULL)
    {
      /* No portal, or an old one: GNOME's setting, if there is one. */
      g_clear_object (&self->portal_settings);
      follow_gnome_setting (self);
      return;
    }

  g_signal_connect (self->portal_settings, "g-signal", G_CALLBACK (on_portal_signal_cb), NULL);
  g_variant_get (reply, "(v)", &value);
  apply_portal_value (value);
}

static void
on_portal_proxy_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr (SottoApplication) self = user_data;

  self->portal_settings = g_dbus_proxy_new_for_bus_finish (result, NULL);
  if (self->portal_settings == NULL || g_dbus_proxy_get_name_owner (self->portal_settings) == NULL)
    {
      g_clear_object (&self->portal_settings);
      follow_gnome_setting (self);
      return;
    }

  g_dbus_proxy_call (self->portal_settings, "Read",
                     g_variant_new ("(ss)", "org.freedesktop.appearance", "color-scheme"),
                     G_DBUS_CALL_FLAGS_NONE, 2000, self->cancellable, on_portal_read_cb,
                     g_object_ref (self));
}

static void
follow_color_scheme (SottoApplication *self)
{
  /* Not started for us: a desktop without a portal has none running. */
  g_dbus_proxy_new_for_bus (G_BUS_TYPE_SESSION,
                            G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START |
                            G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                            NULL, "org.freedesktop.portal.Desktop",
                            "/org/freedesktop/portal/desktop",
                            "org.freedesktop.portal.Settings", self->cancellable,
                            on_portal_proxy_cb, g_object_ref (self));
}

static void
load_css (void)
{
  g_autoptr (GtkCssProvider) provider = gtk_css_provider_new ();

  gtk_css_provider_load_from_resource (provider, RESOURCE_PATH "/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static void
sotto_application_startup (GApplication *app)
{
  SottoApplication *self = SOTTO_APPLICATION (app);
  static const char *quit_accels[] = { "<Control>q", NULL };
  /* the keys GTK gives its own help overlay */
  static const char *shortcuts_accels[] = { "<Control>F1", "<Control>question", NULL };

  G_APPLICATION_CLASS (sotto_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.show-help-overlay",
                                         shortcuts_accels);

  gtk_window_set_default_icon_name (APPLICATION_ID);
  load_css ();
  follow_color_scheme (self);

  self->settings = g_object_ref (sotto_context_get_settings (self->context));

  /* Not a programming error, so not g_warning(): the user sees it in a
   * dialog on activate, and the log gets the same words. */
  if (!sotto_context_ensure_profile_dir (self->context, &self->startup_error))
    g_printerr ("sotto: %s\n", self->startup_error->message);
}

static void
sotto_application_activate (GApplication *app)
{
  SottoApplication *self = SOTTO_APPLICATION (app);

  if (self->startup_error != NULL)
    {
      show_startup_error (self);
      return;
    }

  if (self->main_window != NULL)
    gtk_window_present (GTK_WINDOW (self->main_window));
  else if (self->flow_window != NULL)
    gtk_window_present (self->flow_window);
  else if (self->opening)
    return;
  else if (sotto_context_get_store (self->context) != NULL)
    show_main_window (self);
  else if (!sotto_context_has_profile (self->context))
    {
      SottoSetupWindow *window = sotto_setup_window_new (GTK_APPLICATION (self), self->context,
                                                         self->settings);

      g_signal_connect (window, "profile-created", G_CALLBACK (on_profile_created_cb), self);
      g_signal_connect (window, "finished", G_CALLBACK (on_setup_finished_cb), self);
      show_flow_window (self, GTK_WINDOW (window));
    }
  else
    {
      SottoKeyProtection protection = SOTTO_KEY_PROTECTION_KEYRING;
      gboolean known = sotto_store_peek_protection (sotto_context_get_profile_dir (self->context),
                                                    &protection, NULL);

      /* A passphrase-protected profile asks first. One in the login
       * keyring opens unasked: its window shows at once, and fills when
       * the profile is open. (Not known: the opening says why.) */
      if (known && protection == SOTTO_KEY_PROTECTION_PASSPHRASE)
        {
          show_unlock_window (self);
          return;
        }

      self->opening = TRUE;
      g_application_hold (app);
      if (known)
        show_main_window (self);
      sotto_context_open_async (self->context, NULL, self->cancellable,
                                on_opened_cb, g_object_ref (self));
    }
}

/* sotto:… links (x-scheme-handler/sotto) and `sotto sotto:…`: an invite
 * to look at and perhaps add, never added without asking. */
static void
sotto_application_open (GApplication  *app,
                        GFile        **files,
                        int            n_files,
                        const char    *hint)
{
  SottoApplication *self = SOTTO_APPLICATION (app);

  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *uri = g_file_get_uri (files[i]);

      g_ptr_array_add (self->pending_invites, g_steal_pointer (&uri));
    }

  sotto_application_activate (app);
  open_pending_invites (self);
}

static void
sotto_application_shutdown (GApplication *app)
{
  SottoApplication *self = SOTTO_APPLICATION (app);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->idle_monitor);
  g_clear_object (&self->auto_away);
  g_clear_object (&self->notifier);
  if (self->context != NULL)
    sotto_context_stop (self->context);

  G_APPLICATION_CLASS (sotto_application_parent_class)->shutdown (app);
}

static void
sotto_application_dispose (GObject *object)
{
  SottoApplication *self = (SottoApplication *)object;

  g_clear_object (&self->idle_monitor);
  g_clear_object (&self->auto_away);
  g_clear_object (&self->notifier);
  g_clear_object (&self->portal_settings);
  g_clear_object (&self->desktop_interface);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_clear_object (&self->context);

  G_OBJECT_CLASS (sotto_application_parent_class)->dispose (object);
}

static void
sotto_application_finalize (GObject *object)
{
  SottoApplication *self = (SottoApplication *)object;

  g_clear_error (&self->startup_error);
  g_clear_error (&self->network_error);
  g_clear_pointer (&self->pending_invites, g_ptr_array_unref);

  G_OBJECT_CLASS (sotto_application_parent_class)->finalize (object);
}

static void
sotto_application_class_init (SottoApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = sotto_application_dispose;
  object_class->finalize = sotto_application_finalize;

  app_class->handle_local_options = sotto_application_handle_local_options;
  app_class->startup = sotto_application_startup;
  app_class->activate = sotto_application_activate;
  app_class->open = sotto_application_open;
  app_class->shutdown = sotto_application_shutdown;
}

static void
sotto_application_init (SottoApplication *self)
{
  self->cancellable = g_cancellable_new ();
  self->pending_invites = g_ptr_array_new_with_free_func (g_free);
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Sotto: private instant messaging for the office."));
}

SottoApplication *
sotto_application_new (void)
{
  return g_object_new (SOTTO_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", RESOURCE_PATH,
                       NULL);
}

/**
 * sotto_application_get_context:
 * @self: a #SottoApplication
 *
 * Returns: (transfer none) (nullable): the context, once the command line
 *   has named a valid profile
 */
SottoContext *
sotto_application_get_context (SottoApplication *self)
{
  g_return_val_if_fail (SOTTO_IS_APPLICATION (self), NULL);

  return self->context;
}
