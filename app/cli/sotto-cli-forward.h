/* sotto-cli-forward.h — one-shot commands run by the process holding the profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "sotto-cli-commands.h"
#include "sotto-control.h"

G_BEGIN_DECLS

gboolean cli_command_forwardable (const CliCommand    *command,
                                  int                  argc,
                                  char               **argv);
gboolean cli_forward             (CliEnv              *env,
                                  int                  argc,
                                  char               **argv,
                                  int                 *out_status);
void     cli_serve_request       (CliEnv              *env,
                                  SottoControlRequest *request);

G_END_DECLS
