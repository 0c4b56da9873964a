/* sotto-auto-away.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The `auto-away-minutes` policy: a user who has not touched the computer
 * for that long is shown to contacts as away, and available again as soon
 * as they are back. Only a status the user left at Available is changed,
 * and only back what this changed: a user who chose Away or Invisible, or
 * changed the status while away, keeps their choice.
 *
 * How long the user has been idle is the front end's to say (the desktop
 * knows it; a headless `sotto-cli run` has no user to watch):
 * sotto_auto_away_set_idle_time(), whenever it looks, and at the latest
 * when sotto_auto_away_get_threshold() says the user would become away.
 */
#define G_LOG_DOMAIN "sotto-auto-away"

#include "config.h"

#include "sotto-auto-away.h"

struct _SottoAutoAway
{
  GObject           parent_instance;

  /* owned references */
  SottoPeerService *service;
  GSettings        *settings;

  guint             idle_seconds;  /* as last told */
  gboolean          made_away;     /* the status is Away because of this */
  gboolean          changing;      /* our own change of the status */
};

G_DEFINE_FINAL_TYPE (SottoAutoAway, sotto_auto_away, G_TYPE_OBJECT)

static void
set_status (SottoAutoAway *self,
            SottoStatus    status)
{
  g_autoptr (GError) error = NULL;

  g_assert (SOTTO_IS_AUTO_AWAY (self));

  self->changing = TRUE;
  if (!sotto_peer_service_set_status (self->service, status, &error))
    g_debug ("status changed, not listening: %s", error->message);
  self->changing = FALSE;
}

static void
apply (SottoAutoAway *self)
{
  guint threshold = sotto_auto_away_get_threshold (self);
  gboolean idle = threshold > 0 && self->idle_seconds >= threshold;
  SottoStatus status = sotto_peer_service_get_status (self->service);

  g_assert (SOTTO_IS_AUTO_AWAY (self));

  if (idle && !self->made_away && status == SOTTO_STATUS_AVAILABLE)
    {
      set_status (self, SOTTO_STATUS_AWAY);
      self->made_away = TRUE;
    }
  else if (!idle && self->made_away)
    {
      self->made_away = FALSE;
      if (status == SOTTO_STATUS_AWAY)
        set_status (self, SOTTO_STATUS_AVAILABLE);
    }
}

static void
on_status_changed_cb (SottoAutoAway *self)
{
  /* The user chose a status: theirs from now on. */
  if (!self->changing)
    self->made_away = FALSE;
}

static void
on_minutes_changed_cb (SottoAutoAway *self)
{
  apply (self);
}

static void
sotto_auto_away_dispose (GObject *object)
{
  SottoAutoAway *self = (SottoAutoAway *)object;

  g_clear_object (&self->service);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sotto_auto_away_parent_class)->dispose (object);
}

static void
sotto_auto_away_class_init (SottoAutoAwayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sotto_auto_away_dispose;
}

static void
sotto_auto_away_init (SottoAutoAway *self)
{
}

/**
 * sotto_auto_away_new:
 * @service: the profile's peer service, whose status this changes
 * @settings: the user's settings (auto-away-minutes)
 *
 * Returns: (transfer full): an auto-away that waits to be told how long
 *   the user has been idle
 */
SottoAutoAway *
sotto_auto_away_new (SottoPeerService *service,
                     GSettings        *settings)
{
  SottoAutoAway *self;

  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (service), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (SOTTO_TYPE_AUTO_AWAY, NULL);
  self->service = g_object_ref (service);
  self->settings = g_object_ref (settings);
  g_signal_connect_object (service, "notify::status", G_CALLBACK (on_status_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (settings, "changed::auto-away-minutes",
                           G_CALLBACK (on_minutes_changed_cb), self, G_CONNECT_SWAPPED);
  return self;
}

/**
 * sotto_auto_away_get_threshold:
 *
 * Returns: after how many idle seconds the user is shown away; 0 never
 */
guint
sotto_auto_away_get_threshold (SottoAutoAway *self)
{
  g_return_val_if_fail (SOTTO_IS_AUTO_AWAY (self), 0);

  return g_settings_get_uint (self->settings, "auto-away-minutes") * 60;
}

/**
 * sotto_auto_away_set_idle_time:
 * @seconds: how long the user has not touched the computer
 *
 * Shows the user away once @seconds reaches the threshold (if their
 * status is Available), and available again when it falls below it (if
 * this made them away).
 */
void
sotto_auto_away_set_idle_time (SottoAutoAway *self,
                               guint          seconds)
{
  g_return_if_fail (SOTTO_IS_AUTO_AWAY (self));

  self->idle_seconds = seconds;
  apply (self);
}

/**
 * sotto_auto_away_is_away:
 *
 * Returns: whether the status is Away because the user is idle (a front
 *   end then looks more often, to notice them back soon)
 */
gboolean
sotto_auto_away_is_away (SottoAutoAway *self)
{
  g_return_val_if_fail (SOTTO_IS_AUTO_AWAY (self), FALSE);

  return self->made_away;
}

/**
 * sotto_auto_away_get_settings:
 *
 * Returns: (transfer none): the settings it follows
 */
GSettings *
sotto_auto_away_get_settings (SottoAutoAway *self)
{
  g_return_val_if_fail (SOTTO_IS_AUTO_AWAY (self), NULL);

  return self->settings;
}
