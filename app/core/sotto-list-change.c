/* sotto-list-change.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Models that rebuild their list of items whole (the roster under a new
 * filter, the timeline after any change) tell their view only the one span
 * between what stayed the same at either end, so that a view redraws the
 * rows that changed, not the list.
 */
#include "config.h"

#include "sotto-list-change.h"

/**
 * sotto_list_model_items_replaced:
 * @model: the model whose items were @before and are now @after
 * @before: its items until now
 * @after: its items now (compared by pointer)
 *
 * Emits #GListModel::items-changed once for the span that differs, or not
 * at all when nothing does.
 */
void
sotto_list_model_items_replaced (GListModel *model,
                                 GPtrArray  *before,
                                 GPtrArray  *after)
{
  guint common = MIN (before->len, after->len);
  guint prefix = 0;
  guint suffix = 0;

  g_return_if_fail (G_IS_LIST_MODEL (model));

  while (prefix < common &&
         g_ptr_array_index (before, prefix) == g_ptr_array_index (after, prefix))
    prefix++;
  while (suffix < common - prefix &&
         g_ptr_array_index (before, before->len - 1 - suffix) ==
         g_ptr_array_index (after, after->len - 1 - suffix))
    suffix++;
  if (before->len != after->len || prefix != before->len)
    g_list_model_items_changed (model, prefix, before->len - prefix - suffix,
                                after->len - prefix - suffix);
}
