/* sotto-cli-run.h — `sotto-cli run`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "sotto-core.h"

G_BEGIN_DECLS

int cli_run (SottoContext  *context,
             const char    *passphrase_file,
             int            argc,
             char         **argv);

G_END_DECLS
