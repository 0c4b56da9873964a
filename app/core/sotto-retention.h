/* sotto-retention.h — history retention, as the settings say
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "sotto-store.h"

G_BEGIN_DECLS

/* How often retention runs while a front end is up. */
#define SOTTO_RETENTION_INTERVAL_SECONDS (60 * 60)

#define SOTTO_TYPE_RETENTION (sotto_retention_get_type ())

G_DECLARE_FINAL_TYPE (SottoRetention, sotto_retention, SOTTO, RETENTION, GObject)

SottoRetention *sotto_retention_new          (SottoStore          *store,
                                              GSettings           *settings);
void            sotto_retention_apply_async  (SottoRetention      *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean        sotto_retention_apply_finish (SottoRetention      *self,
                                              GAsyncResult        *result,
                                              guint               *out_deleted,
                                              GError             **error);
void            sotto_retention_start        (SottoRetention      *self);

G_END_DECLS
