/* sotto-retention.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Keeps the store to the settings `history-enabled` and
 * `history-retention-days`: once when started, whenever either changes
 * (an admin may push a new value while Sotto runs), and every hour, since
 * messages keep ageing past the limit.
 */
#define G_LOG_DOMAIN "sotto-retention"

#include "config.h"

#include "sotto-retention.h"

struct _SottoRetention
{
  GObject     parent_instance;

  /* owned references */
  SottoStore *store;
  GSettings  *settings;

  guint       timeout_id;
  gboolean    started;
};

G_DEFINE_FINAL_TYPE (SottoRetention, sotto_retention, G_TYPE_OBJECT)

enum {
  APPLIED,
  FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
applied_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr (SottoRetention) self = user_data;
  g_autoptr (GError) error = NULL;
  guint deleted = 0;

  if (!sotto_store_apply_retention_finish (SOTTO_STORE (object), result, &deleted, &error))
    {
      g_message ("History retention failed: %s", error->message);
      g_signal_emit (self, signals[FAILED], 0, error);
      return;
    }

  if (deleted > 0)
    g_debug ("Retention deleted %u messages", deleted);
  g_signal_emit (self, signals[APPLIED], 0, deleted);
}

static void
apply_in_background (SottoRetention *self)
{
  sotto_store_apply_retention_async (self->store,
                                     g_settings_get_boolean (self->settings, "history-enabled"),
                                     g_settings_get_uint (self->settings, "history-retention-days"),
                                     NULL, applied_cb, g_object_ref (self));
}

static void
on_settings_changed_cb (GSettings      *settings,
                        const char     *key,
                        SottoRetention *self)
{
  if (self->started)
    apply_in_background (self);
}

static gboolean
on_interval_cb (gpointer user_data)
{
  apply_in_background (user_data);

  return G_SOURCE_CONTINUE;
}

static void
sotto_retention_dispose (GObject *object)
{
  SottoRetention *self = (SottoRetention *)object;

  g_clear_handle_id (&self->timeout_id, g_source_remove);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (sotto_retention_parent_class)->dispose (object);
}

static void
sotto_retention_class_init (SottoRetentionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sotto_retention_dispose;

  /**
   * SottoRetention::applied:
   * @deleted: how many messages were deleted
   */
  signals[APPLIED] =
    g_signal_new ("applied", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);

  /**
   * SottoRetention::failed:
   * @error: why
   */
  signals[FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
sotto_retention_init (SottoRetention *self)
{
}

/**
 * sotto_retention_new:
 * @settings: the application's settings (schema `im.sotto.Sotto`)
 *
 * Returns: (transfer full): an idle retention; sotto_retention_start()
 *   applies it and keeps it applied
 */
SottoRetention *
sotto_retention_new (SottoStore *store,
                     GSettings  *settings)
{
  SottoRetention *self;

  g_return_val_if_fail (SOTTO_IS_STORE (store), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (SOTTO_TYPE_RETENTION, NULL);
  self->store = g_object_ref (store);
  self->settings = g_object_ref (settings);
  g_signal_connect (settings, "changed::history-enabled",
                    G_CALLBACK (on_settings_changed_cb), self);
  g_signal_connect (settings, "changed::history-retention-days",
                    G_CALLBACK (on_settings_changed_cb), self);

  return self;
}

/**
 * sotto_retention_start:
 *
 * Applies retention now, on every change of the settings, and every
 * %SOTTO_RETENTION_INTERVAL_SECONDS while @self lives. Results are
 * reported by #SottoRetention::applied and #SottoRetention::failed.
 */
void
sotto_retention_start (SottoRetention *self)
{
  g_return_if_fail (SOTTO_IS_RETENTION (self));

  if (self->started)
    return;

  self->started = TRUE;
  apply_in_background (self);
  self->timeout_id = g_timeout_add_seconds (SOTTO_RETENTION_INTERVAL_SECONDS,
                                            on_interval_cb, self);
}

/**
 * sotto_retention_apply_async:
 *
 * Applies retention once; for one-shot front ends such as sotto-cli.
 */
void
sotto_retention_apply_async (SottoRetention      *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (SOTTO_IS_RETENTION (self));

  sotto_store_apply_retention_async (self->store,
                                     g_settings_get_boolean (self->settings, "history-enabled"),
                                     g_settings_get_uint (self->settings, "history-retention-days"),
                                     cancellable, callback, user_data);
}

gboolean
sotto_retention_apply_finish (SottoRetention  *self,
                              GAsyncResult    *result,
                              guint           *out_deleted,
                              GError         **error)
{
  g_return_val_if_fail (SOTTO_IS_RETENTION (self), FALSE);

  return sotto_store_apply_retention_finish (self->store, result, out_deleted, error);
}
