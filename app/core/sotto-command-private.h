/* sotto-command-private.h — what the commands use to parse and print
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "sotto-command.h"

G_BEGIN_DECLS

void        _sotto_command_print              (SottoCommand            *self,
                                               const char              *format,
                                               ...) G_GNUC_PRINTF (2, 3);
int         _sotto_command_usage_error        (SottoCommand            *self,
                                               const char              *message);
int         _sotto_command_fail               (SottoCommand            *self,
                                               const GError            *error);
void        _sotto_command_warn               (SottoCommand            *self,
                                               const char              *note);
void        _sotto_command_note_damaged       (SottoCommand            *self,
                                               guint                    n_messages,
                                               guint                    n_contacts);
void        _sotto_command_print_json         (SottoCommand            *self,
                                               JsonNode                *node);
void        _sotto_command_print_json_array   (SottoCommand            *self,
                                               JsonArray               *array);
gboolean    _sotto_command_parse              (SottoCommand            *self,
                                               const char              *name,
                                               const char              *args,
                                               const GOptionEntry      *entries,
                                               int                     *argc,
                                               char                  ***argv,
                                               int                     *status);
gboolean    _sotto_command_expect_args        (SottoCommand            *self,
                                               const char              *name,
                                               int                      argc,
                                               int                      wanted,
                                               int                     *status);
char       *_sotto_command_read_passphrase    (SottoCommand            *self,
                                               const char              *file,
                                               const char              *prompt,
                                               gboolean                 confirm,
                                               GError                 **error);
const char *_sotto_command_get_passphrase_file (SottoCommand           *self);
char       *_sotto_command_resolve_path       (SottoCommand            *self,
                                               const char              *path);
gboolean    _sotto_command_can_ask            (SottoCommand            *self);
void        _sotto_command_get_ask            (SottoCommand            *self,
                                               SottoAskPassphraseFunc  *func,
                                               gpointer                *user_data);
char       *_sotto_passphrase_obtain          (const char              *file,
                                               const char              *cwd,
                                               SottoAskPassphraseFunc   ask,
                                               gpointer                 ask_data,
                                               const char              *prompt,
                                               gboolean                 confirm,
                                               GError                 **error);

G_END_DECLS
