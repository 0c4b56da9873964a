/* sotto-cli-run.h — `sotto-cli run`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "sotto-cli-common.h"

G_BEGIN_DECLS

int cli_run (CliEnv  *env,
             int      argc,
             char   **argv);

G_END_DECLS
