/* sotto-cli-commands.h — the sotto-cli commands
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-cli-common.h"

G_BEGIN_DECLS

typedef struct
{
  const char *name;
  const char *args;
  const char *summary;
  int       (*run) (CliEnv  *env,
                    int      argc,
                    char   **argv);
} CliCommand;

const CliCommand *cli_commands     (guint      *n_commands);
const CliCommand *cli_find_command (const char *name);

G_END_DECLS
