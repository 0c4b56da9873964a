/* sotto-idle-monitor.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tells the core's auto-away (SottoAutoAway) how long the user has been
 * idle, as the desktop knows it: GNOME's idle monitor on the session bus
 * (X11 and Wayland), else the X11 screen saver extension. Looks only when
 * it matters — when the user would become away, and every few seconds
 * while they are away, to notice them back — so that an app left alone
 * does not wake up for nothing.
 */
#define G_LOG_DOMAIN "sotto-idle-monitor"

#include "config.h"

#ifdef HAVE_XSS
#include <gdk/x11/gdkx.h>
#include <X11/extensions/scrnsaver.h>
#endif

#include "sotto-idle-monitor.h"

#define MUTTER_NAME      "org.gnome.Mutter.IdleMonitor"
#define MUTTER_PATH      "/org/gnome/Mutter/IdleMonitor/Core"
#define MUTTER_INTERFACE "org.gnome.Mutter.IdleMonitor"

/* While away, how often to look whether the user is back. */
#define BACK_CHECK_SECONDS 3

typedef enum
{
  SOURCE_NONE,
  SOURCE_MUTTER,
  SOURCE_X11,
} Source;

struct _SottoIdleMonitor
{
  GObject        parent_instance;

  /* owned references */
  SottoAutoAway *auto_away;
  GDBusProxy    *mutter;
  GCancellable  *cancellable;

  Source         source;
  guint          check_source;
};

G_DEFINE_FINAL_TYPE (SottoIdleMonitor, sotto_idle_monitor, G_TYPE_OBJECT)

static void check (SottoIdleMonitor *self);

static gboolean
on_check_cb (gpointer user_data)
{
  SottoIdleMonitor *self = user_data;

  self->check_source = 0;
  check (self);
  return G_SOURCE_REMOVE;
}

/* The next look: when the user would become away, or soon while away. */
static void
schedule (SottoIdleMonitor *self,
          guint             idle_seconds)
{
  guint threshold = sotto_auto_away_get_threshold (self->auto_away);
  guint delay;

  g_clear_handle_id (&self->check_source, g_source_remove);
  if (threshold == 0)
    return;   /* looked at again when the setting changes */
  if (sotto_auto_away_is_away (self->auto_away))
    delay = BACK_CHECK_SECONDS;
  else
    delay = idle_seconds < threshold ? threshold - idle_seconds : 1;
  self->check_source = g_timeout_add_seconds (delay, on_check_cb, self);
  g_source_set_static_name (g_main_context_find_source_by_id (NULL, self->check_source),
                            "[sotto] idle check");
}

static void
report (SottoIdleMonitor *self,
        guint64           idle_ms)
{
  guint seconds = (guint)MIN (idle_ms / 1000, G_MAXUINT);

  sotto_auto_away_set_idle_time (self->auto_away, seconds);
  schedule (self, seconds);
}

static void
on_idletime_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  SottoIdleMonitor *self = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  guint64 idle_ms = 0;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (reply == NULL)
    {
      g_debug ("GNOME's idle monitor did not answer: %s", error->message);
      schedule (self, 0);
      return;
    }
  g_variant_get (reply, "(t)", &idle_ms);
  report (self, idle_ms);
}

static void
check (SottoIdleMonitor *self)
{
  g_assert (SOTTO_IS_IDLE_MONITOR (self));

  switch (self->source)
    {
    case SOURCE_MUTTER:
      g_dbus_proxy_call (self->mutter, "GetIdletime", NULL, G_DBUS_CALL_FLAGS_NONE, 1000,
                         self->cancellable, on_idletime_cb, self);
      break;

    case SOURCE_X11:
#ifdef HAVE_XSS
      {
        GdkDisplay *display = gdk_display_get_default ();
        Display *xdisplay = gdk_x11_display_get_xdisplay (display);
        XScreenSaverInfo *info = XScreenSaverAllocInfo ();

        if (info != NULL &&
            XScreenSaverQueryInfo (xdisplay, DefaultRootWindow (xdisplay), info) != 0)
          report (self, info->idle);
        if (info != NULL)
          XFree (info);
      }
#endif
      break;

    case SOURCE_NONE:
    default:
      break;
    }
}

static void
on_minutes_changed_cb (SottoIdleMonitor *self)
{
  check (self);
}

/* The X11 screen saver extension, when the display is X11 and has it. */
static gboolean
x11_has_idle_time (void)
{
#ifdef HAVE_XSS
  GdkDisplay *display = gdk_display_get_default ();
  int event_base;
  int error_base;

  return display != NULL && GDK_IS_X11_DISPLAY (display) &&
         XScreenSaverQueryExtension (gdk_x11_display_get_xdisplay (display), &event_base,
                                     &error_base);
#else
  return FALSE;
#endif
}

static void
on_mutter_proxy_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr (SottoIdleMonitor) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusProxy) proxy = g_dbus_proxy_new_for_bus_finish (result, &error);
  g_autofree char *owner = proxy != NULL ? g_dbus_proxy_get_name_owner (proxy) : NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (owner != NULL)
    {
      self->mutter = g_steal_pointer (&proxy);
      self->source = SOURCE_MUTTER;
    }
  else if (x11_has_idle_time ())
    self->source = SOURCE_X11;
  else
    {
      g_debug ("no idle time from this desktop: no automatic away");
      return;
    }
  check (self);
}

static void
sotto_idle_monitor_dispose (GObject *object)
{
  SottoIdleMonitor *self = (SottoIdleMonitor *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->check_source, g_source_remove);
  g_clear_object (&self->mutter);
  g_clear_object (&self->auto_away);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (sotto_idle_monitor_parent_class)->dispose (object);
}

static void
sotto_idle_monitor_class_init (SottoIdleMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sotto_idle_monitor_dispose;
}

static void
sotto_idle_monitor_init (SottoIdleMonitor *self)
{
  self->cancellable = g_cancellable_new ();
}

/**
 * sotto_idle_monitor_new:
 * @auto_away: what to tell the idle time
 *
 * Returns: (transfer full): a monitor that finds the desktop's idle time
 *   and keeps @auto_away told
 */
SottoIdleMonitor *
sotto_idle_monitor_new (SottoAutoAway *auto_away)
{
  SottoIdleMonitor *self;

  g_return_val_if_fail (SOTTO_IS_AUTO_AWAY (auto_away), NULL);

  self = g_object_new (SOTTO_TYPE_IDLE_MONITOR, NULL);
  self->auto_away = g_object_ref (auto_away);
  g_signal_connect_object (sotto_auto_away_get_settings (auto_away), "changed::auto-away-minutes",
                           G_CALLBACK (on_minutes_changed_cb), self, G_CONNECT_SWAPPED);
  g_dbus_proxy_new_for_bus (G_BUS_TYPE_SESSION,
                            G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START |
                            G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                            G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                            NULL, MUTTER_NAME, MUTTER_PATH, MUTTER_INTERFACE, self->cancellable,
                            on_mutter_proxy_cb, g_object_ref (self));
  return self;
}

/**
 * sotto_idle_monitor_get_source:
 *
 * Returns: where the idle time comes from: "gnome", "x11" or "none"
 */
const char *
sotto_idle_monitor_get_source (SottoIdleMonitor *self)
{
  g_return_val_if_fail (SOTTO_IS_IDLE_MONITOR (self), NULL);

  switch (self->source)
    {
    case SOURCE_MUTTER:
      return "gnome";
    case SOURCE_X11:
      return "x11";
    case SOURCE_NONE:
    default:
      return "none";
    }
}
