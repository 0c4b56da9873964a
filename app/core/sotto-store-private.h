/* sotto-store-private.h — store entry points for tests and benchmarks only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-store.h"

G_BEGIN_DECLS

void     _sotto_store_insert_history_async  (SottoStore          *self,
                                             SottoContact        *contact,
                                             GPtrArray           *bodies,
                                             gint64               first_time,
                                             gint64               step,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean _sotto_store_insert_history_finish (SottoStore          *self,
                                             GAsyncResult        *result,
                                             GError             **error);

G_END_DECLS
