/* sotto-roster-private.h — entry points for tests only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-roster.h"

G_BEGIN_DECLS

void sotto_roster_set_typing_timeout (SottoRoster *self,
                                      guint        timeout_ms);

G_END_DECLS
