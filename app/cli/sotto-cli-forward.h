/* sotto-cli-forward.h — one-shot commands handed to the process holding the profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "sotto-core.h"

G_BEGIN_DECLS

gboolean cli_forward (SottoContext  *context,
                      int            argc,
                      char         **argv,
                      int           *out_status);
gboolean cli_profile_busy (SottoContext *context);

G_END_DECLS
