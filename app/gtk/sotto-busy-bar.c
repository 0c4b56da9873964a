/* sotto-busy-bar.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What a GtkSpinner is for — something is under way, for how long nobody
 * knows — as a pulsing progress bar. The theme draws a spinner from an
 * SVG, and showing one loads the SVG library into the app for the rest
 * of its life: several megabytes for half a second of animation. While
 * inactive the bar keeps its place and shows nothing.
 */
#define G_LOG_DOMAIN "sotto-busy-bar"

#include "config.h"

#include "sotto-busy-bar.h"

/* How often the bar moves on. */
#define PULSE_INTERVAL_US (100 * G_TIME_SPAN_MILLISECOND)

struct _SottoBusyBar
{
  GtkWidget  parent_instance;

  /* children */
  GtkWidget *bar;

  gboolean   active;
  guint      tick_id;
  gint64     last_pulse;
};

G_DEFINE_FINAL_TYPE (SottoBusyBar, sotto_busy_bar, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ACTIVE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
pulse_cb (GtkWidget     *widget,
          GdkFrameClock *clock,
          gpointer       user_data)
{
  SottoBusyBar *self = SOTTO_BUSY_BAR (widget);
  gint64 now = gdk_frame_clock_get_frame_time (clock);

  if (now - self->last_pulse >= PULSE_INTERVAL_US)
    {
      gtk_progress_bar_pulse (GTK_PROGRESS_BAR (self->bar));
      self->last_pulse = now;
    }
  return G_SOURCE_CONTINUE;
}

static void
sotto_busy_bar_dispose (GObject *object)
{
  SottoBusyBar *self = (SottoBusyBar *)object;

  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
  g_clear_pointer (&self->bar, gtk_widget_unparent);

  G_OBJECT_CLASS (sotto_busy_bar_parent_class)->dispose (object);
}

static void
sotto_busy_bar_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  SottoBusyBar *self = SOTTO_BUSY_BAR (object);

  switch (prop_id)
    {
    case PROP_ACTIVE:
      g_value_set_boolean (value, self->active);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_busy_bar_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  SottoBusyBar *self = SOTTO_BUSY_BAR (object);

  switch (prop_id)
    {
    case PROP_ACTIVE:
      sotto_busy_bar_set_active (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_busy_bar_class_init (SottoBusyBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sotto_busy_bar_dispose;
  object_class->get_property = sotto_busy_bar_get_property;
  object_class->set_property = sotto_busy_bar_set_property;

  properties[PROP_ACTIVE] =
    g_param_spec_boolean ("active", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "busybar");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
sotto_busy_bar_init (SottoBusyBar *self)
{
  self->bar = gtk_progress_bar_new ();
  gtk_widget_set_valign (self->bar, GTK_ALIGN_CENTER);
  gtk_widget_set_opacity (self->bar, 0);
  gtk_widget_set_parent (self->bar, GTK_WIDGET (self));
}

GtkWidget *
sotto_busy_bar_new (void)
{
  return g_object_new (SOTTO_TYPE_BUSY_BAR, NULL);
}

/**
 * sotto_busy_bar_set_active:
 * @active: whether something is under way
 */
void
sotto_busy_bar_set_active (SottoBusyBar *self,
                           gboolean      active)
{
  g_return_if_fail (SOTTO_IS_BUSY_BAR (self));

  active = !!active;
  if (self->active == active)
    return;
  self->active = active;

  gtk_widget_set_opacity (self->bar, active ? 1 : 0);
  gtk_accessible_update_state (GTK_ACCESSIBLE (self->bar), GTK_ACCESSIBLE_STATE_BUSY, active, -1);
  if (active)
    self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), pulse_cb, NULL, NULL);
  else if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
  /* A pulsed bar animates on its own for as long as it is in activity
   * mode and mapped, and an invisible one (opacity 0) is still mapped: a
   * fraction ends activity mode, and with it a redraw every frame. */
  if (!active)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->bar), 0);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
}

gboolean
sotto_busy_bar_get_active (SottoBusyBar *self)
{
  g_return_val_if_fail (SOTTO_IS_BUSY_BAR (self), FALSE);

  return self->active;
}
