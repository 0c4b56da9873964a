/* sotto-identity-private.h — what only the store may change
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-identity.h"

G_BEGIN_DECLS

void _sotto_identity_set_display_name (SottoIdentity *self,
                                       const char    *display_name);

G_END_DECLS
