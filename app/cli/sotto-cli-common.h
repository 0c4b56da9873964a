/* sotto-cli-common.h — what every sotto-cli command shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "sotto-core.h"
#include "sotto-store.h"

G_BEGIN_DECLS

/* Exit statuses, stable for scripts. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_FAILURE = 1,
  CLI_EXIT_USAGE = 2,
  CLI_EXIT_PROFILE_IN_USE = 3,
  CLI_EXIT_PASSPHRASE = 4,
};

typedef struct _SottoPeerService SottoPeerService;

typedef struct
{
  SottoContext     *context;
  char             *passphrase_file;

  /* Set when the command runs inside the process that holds the profile,
   * handed over through the control socket: the open store and the peer
   * service are that process's own, and nothing may prompt. */
  gboolean          forwarded;
  SottoStore       *store;
  SottoPeerService *service;
} CliEnv;

int         cli_usage_error      (const char    *message);
int         cli_fail             (const GError  *error);
char       *cli_read_passphrase  (const char    *file,
                                  const char    *prompt,
                                  gboolean       confirm,
                                  GError       **error);
void        cli_passphrase_free  (char          *passphrase);
SottoStore *cli_open_store       (CliEnv        *env,
                                  GError       **error);
SottoStore *cli_open_store_for_service (CliEnv   *env,
                                        GError  **error);
GAsyncResult *cli_wait           (GAsyncResult **slot);
void        cli_result_cb        (GObject       *object,
                                  GAsyncResult  *result,
                                  gpointer       user_data);
void        cli_print_json       (JsonNode      *node);
void        cli_print_json_array (JsonArray     *array);
char       *cli_format_time      (gint64         usec,
                                  gboolean       iso);
GSettings  *cli_settings_new     (GError       **error);
char       *cli_dup_key_hex      (const guint8  *key);
char       *cli_terminal_text    (const char    *text,
                                  gboolean       one_line);

G_END_DECLS
