/* sotto-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-application"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-application.h"
#include "sotto-context.h"
#include "sotto-profile.h"
#include "sotto-window.h"

struct _SottoApplication
{
  GtkApplication parent_instance;

  /* owned references */
  SottoContext *context;
  GSettings    *settings;

  /* set in startup when the profile can't be used; shown on activate */
  GError       *startup_error;
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

static void
about_activated_cb (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  SottoApplication *self = user_data;
  static const char *developers[] = { "The Sotto developers", NULL };

  gtk_show_about_dialog (gtk_application_get_active_window (GTK_APPLICATION (self)),
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
}

static const GActionEntry app_actions[] = {
  { "quit", quit_activated_cb },
  { "about", about_activated_cb },
};

static int
sotto_application_handle_local_options (GApplication *app,
                                        GVariantDict *options)
{
  SottoApplication *self = SOTTO_APPLICATION (app);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSettingsSchema) schema = NULL;
  g_autofree char *application_id = NULL;
  GSettingsSchemaSource *source;
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
  source = g_settings_schema_source_get_default ();
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, SCHEMA_ID, TRUE);
  if (schema == NULL)
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

  G_APPLICATION_CLASS (sotto_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);

  gtk_window_set_default_icon_name (APPLICATION_ID);
  load_css ();

  self->settings = g_settings_new (SCHEMA_ID);

  /* Not a programming error, so not g_warning(): the user sees it in a
   * dialog on activate, and the log gets the same words. */
  if (!sotto_context_ensure_profile_dir (self->context, &self->startup_error))
    g_printerr ("sotto: %s\n", self->startup_error->message);
}

static void
sotto_application_activate (GApplication *app)
{
  SottoApplication *self = SOTTO_APPLICATION (app);
  GtkWindow *window;

  if (self->startup_error != NULL)
    {
      show_startup_error (self);
      return;
    }

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (window == NULL)
    window = GTK_WINDOW (sotto_window_new (self, self->context, self->settings));

  gtk_window_present (window);
}

static void
sotto_application_dispose (GObject *object)
{
  SottoApplication *self = (SottoApplication *)object;

  g_clear_object (&self->settings);
  g_clear_object (&self->context);

  G_OBJECT_CLASS (sotto_application_parent_class)->dispose (object);
}

static void
sotto_application_finalize (GObject *object)
{
  SottoApplication *self = (SottoApplication *)object;

  g_clear_error (&self->startup_error);

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
}

static void
sotto_application_init (SottoApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Sotto: private instant messaging for the office."));
}

SottoApplication *
sotto_application_new (void)
{
  return g_object_new (SOTTO_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
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
