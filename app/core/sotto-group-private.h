/* sotto-group-private.h — what only the store may change
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-group.h"

G_BEGIN_DECLS

SottoGroup *_sotto_group_new         (gint64                  id,
                                      const SottoGroupRecord *record,
                                      SottoGroupStatus        status);
void        _sotto_group_update_from (SottoGroup             *self,
                                      SottoGroup             *other);

G_END_DECLS
