/* sotto-cli-common.h — what sotto-cli's front end shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-core.h"

G_BEGIN_DECLS

char *cli_ask_passphrase (const char  *prompt,
                          gboolean     confirm,
                          gpointer     user_data,
                          GError     **error);

G_END_DECLS
