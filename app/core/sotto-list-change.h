/* sotto-list-change.h — tell a list model's view what changed, once
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void sotto_list_model_items_replaced (GListModel *model,
                                      GPtrArray  *before,
                                      GPtrArray  *after);

G_END_DECLS
