/* sotto-port-banner.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A banner that says, while it is so, that colleagues can't connect to
 * the user because the profile's port is taken, that Sotto still connects
 * to them, and offers a free port with one click. It follows the peer
 * service's listen-error; which port to offer, and moving there, are the
 * core's (sotto_context_suggest_listen_port(), _change_listen_port()).
 */
#define G_LOG_DOMAIN "sotto-port-banner"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-port-banner.h"

struct _SottoPortBanner
{
  GtkWidget     parent_instance;

  /* children */
  GtkWidget    *revealer;
  GtkLabel     *label;
  GtkButton    *button;

  /* owned references */
  SottoContext *context;

  guint         offered;   /* the port the button moves to, 0: none */
};

G_DEFINE_FINAL_TYPE (SottoPortBanner, sotto_port_banner, GTK_TYPE_WIDGET)

enum {
  PORT_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
update (SottoPortBanner *self)
{
  SottoPeerService *service = sotto_context_get_peer_service (self->context);
  const GError *problem = service != NULL ? sotto_peer_service_get_listen_error (service) : NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *button = NULL;
  guint port = sotto_context_get_listen_port (self->context);

  self->offered = 0;
  if (problem == NULL)
    {
      gtk_revealer_set_reveal_child (GTK_REVEALER (self->revealer), FALSE);
      return;
    }

  if (g_error_matches (problem, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    {
      if (sotto_context_is_listen_port_locked (self->context))
        text = g_strdup_printf (_("Port %u, which your administrator set, is in use by another "
                                  "program, so colleagues can’t connect to you. Sotto still "
                                  "connects to them, and your messages go out."),
                                port);
      else
        text = g_strdup_printf (_("Port %u is in use by another program, so colleagues can’t "
                                  "connect to you. Sotto still connects to them, and your "
                                  "messages go out."),
                                port);
      self->offered = sotto_context_suggest_listen_port (self->context, &error);
    }
  else
    {
      text = g_strdup_printf (_("Colleagues can’t connect to you: %s. Sotto still connects to "
                                "them, and your messages go out."),
                              problem->message);
    }

  gtk_label_set_label (self->label, text);
  if (self->offered != 0)
    {
      button = g_strdup_printf (_("Use Port %u"), self->offered);
      gtk_button_set_label (self->button, button);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->button), self->offered != 0);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->revealer), TRUE);
}

static void
on_listen_error_cb (SottoPortBanner *self)
{
  update (self);
}

static void
watch_service (SottoPortBanner *self)
{
  SottoPeerService *service = sotto_context_get_peer_service (self->context);

  if (service != NULL)
    g_signal_connect_object (service, "notify::listen-error", G_CALLBACK (on_listen_error_cb),
                             self, G_CONNECT_SWAPPED);
  update (self);
}

static void
on_store_cb (SottoPortBanner *self)
{
  watch_service (self);
}

static void
use_port_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  SottoPortBanner *self = SOTTO_PORT_BANNER (widget);
  g_autoptr (GError) error = NULL;
  guint port = self->offered;

  if (port == 0)
    return;

  /* Taken meanwhile: the banner stays, with the next free port. */
  if (!sotto_context_change_listen_port (self->context, port, &error))
    g_debug ("could not move to port %u: %s", port, error->message);
  update (self);
  g_signal_emit (self, signals[PORT_CHANGED], 0);
}

static void
sotto_port_banner_dispose (GObject *object)
{
  SottoPortBanner *self = (SottoPortBanner *)object;

  g_clear_pointer (&self->revealer, gtk_widget_unparent);
  g_clear_object (&self->context);

  G_OBJECT_CLASS (sotto_port_banner_parent_class)->dispose (object);
}

static void
sotto_port_banner_class_init (SottoPortBannerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sotto_port_banner_dispose;

  /**
   * SottoPortBanner::port-changed:
   *
   * The user moved the profile to the port offered: what names the old
   * one (an invite on screen) is out of date.
   */
  signals[PORT_CHANGED] =
    g_signal_new ("port-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_install_action (widget_class, "banner.use-port", NULL, use_port_activated);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "portbanner");
}

static void
sotto_port_banner_init (SottoPortBanner *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *icon = gtk_image_new_from_icon_name ("network-error-symbolic");
  GtkWidget *label = gtk_label_new (NULL);
  GtkWidget *button = gtk_button_new ();

  gtk_widget_add_css_class (box, "banner");
  gtk_widget_add_css_class (box, "warning");
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "banner.use-port");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_visible (button, FALSE);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), button);

  self->revealer = gtk_revealer_new ();
  gtk_revealer_set_child (GTK_REVEALER (self->revealer), box);
  gtk_widget_set_parent (self->revealer, GTK_WIDGET (self));
  self->label = GTK_LABEL (label);
  self->button = GTK_BUTTON (button);
}

/**
 * sotto_port_banner_new:
 * @context: the profile's context; its peer service may come later
 *
 * Returns: (transfer floating): a banner, hidden while the profile
 *   listens
 */
GtkWidget *
sotto_port_banner_new (SottoContext *context)
{
  SottoPortBanner *self;

  g_return_val_if_fail (SOTTO_IS_CONTEXT (context), NULL);

  self = g_object_new (SOTTO_TYPE_PORT_BANNER, NULL);
  self->context = g_object_ref (context);
  g_signal_connect_object (context, "notify::store", G_CALLBACK (on_store_cb), self,
                           G_CONNECT_SWAPPED);
  watch_service (self);

  return GTK_WIDGET (self);
}

/**
 * sotto_port_banner_get_offered_port:
 *
 * Returns: the port the banner's button moves to, 0 while it offers none
 */
guint
sotto_port_banner_get_offered_port (SottoPortBanner *self)
{
  g_return_val_if_fail (SOTTO_IS_PORT_BANNER (self), 0);

  return self->offered;
}
