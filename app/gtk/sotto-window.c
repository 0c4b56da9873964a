/* sotto-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-window"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-window.h"

struct _SottoWindow
{
  GtkApplicationWindow parent_instance;

  /* template widgets */
  GtkMenuButton *primary_menu_button;
  GtkLabel      *subtitle_label;
  GtkImage      *empty_image;

  /* owned references */
  SottoContext  *context;
  GSettings     *settings;
};

G_DEFINE_FINAL_TYPE (SottoWindow, sotto_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static char *
dup_subtitle (SottoWindow *self)
{
  /* The header is narrow: the profile wins, since a development build is
   * already marked by its striped header bar. */
  if (!sotto_context_is_default_profile (self->context))
    return g_strdup_printf (_("Profile “%s”"), sotto_context_get_profile (self->context));

  if (DEVELOPMENT_BUILD)
    return g_strdup (_("Development build"));

  return NULL;
}

static void
restore_window_state (SottoWindow *self)
{
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));

  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
save_window_state (SottoWindow *self)
{
  int width = 0;
  int height = 0;
  gboolean maximized = gtk_window_is_maximized (GTK_WINDOW (self));

  /* A maximized window's size is the screen's: keep the size to restore to. */
  if (!maximized)
    {
      gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
      if (width > 0 && height > 0)
        {
          g_settings_set_int (self->settings, "window-width", width);
          g_settings_set_int (self->settings, "window-height", height);
        }
    }

  g_settings_set_boolean (self->settings, "window-maximized", maximized);
}

static gboolean
sotto_window_close_request (GtkWindow *window)
{
  save_window_state (SOTTO_WINDOW (window));

  return GTK_WINDOW_CLASS (sotto_window_parent_class)->close_request (window);
}

static void
sotto_window_constructed (GObject *object)
{
  SottoWindow *self = (SottoWindow *)object;
  g_autofree char *subtitle = NULL;
  g_autofree char *title = NULL;

  G_OBJECT_CLASS (sotto_window_parent_class)->constructed (object);

  g_assert (SOTTO_IS_CONTEXT (self->context));
  g_assert (G_IS_SETTINGS (self->settings));

  if (DEVELOPMENT_BUILD)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");

  subtitle = dup_subtitle (self);
  gtk_label_set_label (self->subtitle_label, subtitle);
  gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), subtitle != NULL);

  /* Two profiles' windows must be told apart in the window list, too. */
  if (!sotto_context_is_default_profile (self->context))
    {
      /* Translators: the window title of a named profile's contact list. */
      title = g_strdup_printf (_("Contacts — %s"), sotto_context_get_profile (self->context));
      gtk_window_set_title (GTK_WINDOW (self), title);
    }

  gtk_image_set_from_icon_name (self->empty_image, APPLICATION_ID);

  restore_window_state (self);
}

static void
sotto_window_dispose (GObject *object)
{
  SottoWindow *self = (SottoWindow *)object;

  gtk_widget_dispose_template (GTK_WIDGET (self), SOTTO_TYPE_WINDOW);

  g_clear_object (&self->context);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sotto_window_parent_class)->dispose (object);
}

static void
sotto_window_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  SottoWindow *self = SOTTO_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_object (value, self->context);
      break;

    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_window_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  SottoWindow *self = SOTTO_WINDOW (object);

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
sotto_window_class_init (SottoWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = sotto_window_constructed;
  object_class->dispose = sotto_window_dispose;
  object_class->get_property = sotto_window_get_property;
  object_class->set_property = sotto_window_set_property;

  window_class->close_request = sotto_window_close_request;

  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL,
                         SOTTO_TYPE_CONTEXT,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL,
                         G_TYPE_SETTINGS,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PATH "/sotto-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, primary_menu_button);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, empty_image);
}

static void
sotto_window_init (SottoWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

SottoWindow *
sotto_window_new (SottoApplication *application,
                  SottoContext     *context,
                  GSettings        *settings)
{
  g_return_val_if_fail (SOTTO_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (SOTTO_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  return g_object_new (SOTTO_TYPE_WINDOW,
                       "application", application,
                       "context", context,
                       "settings", settings,
                       NULL);
}

SottoContext *
sotto_window_get_context (SottoWindow *self)
{
  g_return_val_if_fail (SOTTO_IS_WINDOW (self), NULL);

  return self->context;
}
