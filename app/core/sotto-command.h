/* sotto-command.h — one command line for a profile: its words, its output
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Exit statuses, stable for scripts. */
typedef enum
{
  SOTTO_EXIT_OK = 0,
  SOTTO_EXIT_FAILURE = 1,
  SOTTO_EXIT_USAGE = 2,
  SOTTO_EXIT_PROFILE_IN_USE = 3,
  SOTTO_EXIT_PASSPHRASE = 4,
} SottoExitStatus;

typedef enum
{
  SOTTO_COMMAND_FLAGS_NONE = 0,
  /* Run by the front end itself, never handed to the process that holds
   * the profile (init, run). */
  SOTTO_COMMAND_LOCAL = 1 << 0,
  /* Needs no open profile (profile). */
  SOTTO_COMMAND_NO_PROFILE = 1 << 1,
} SottoCommandFlags;

typedef struct
{
  const char        *name;
  const char        *args;
  const char        *summary;   /* marked for translation, untranslated */
  SottoCommandFlags  flags;
} SottoCommandInfo;

/**
 * SottoAskPassphraseFunc:
 * @prompt: what to ask
 * @confirm: a new passphrase: ask twice
 *
 * How a front end asks its user for a passphrase (a terminal prompt).
 *
 * Returns: (transfer full): the passphrase in memory from sodium_malloc()
 *   (sotto_passphrase_free()), or %NULL with @error set
 */
typedef char *(*SottoAskPassphraseFunc) (const char  *prompt,
                                         gboolean     confirm,
                                         gpointer     user_data,
                                         GError     **error);

char                   *sotto_passphrase_read_line      (int                  fd,
                                                         GError             **error);
char                   *sotto_passphrase_read_file      (const char          *file,
                                                         const char          *cwd,
                                                         GError             **error);
void                    sotto_passphrase_free           (char                *passphrase);

const SottoCommandInfo *sotto_command_list              (guint               *n_commands);
const SottoCommandInfo *sotto_command_lookup            (const char          *name);
gboolean                sotto_command_forwardable       (const char * const  *argv);
int                     sotto_command_exit_status       (const GError        *error);
int                     sotto_command_print_usage_error (const char          *message);

#define SOTTO_TYPE_COMMAND (sotto_command_get_type ())

G_DECLARE_FINAL_TYPE (SottoCommand, sotto_command, SOTTO, COMMAND, GObject)

SottoCommand       *sotto_command_new                 (const char * const     *argv,
                                                       const char             *cwd);
const char * const *sotto_command_get_argv            (SottoCommand           *self);
void                sotto_command_set_passphrase_file (SottoCommand           *self,
                                                       const char             *file);
void                sotto_command_set_ask_passphrase  (SottoCommand           *self,
                                                       SottoAskPassphraseFunc  func,
                                                       gpointer                user_data);
void                sotto_command_set_streaming       (SottoCommand           *self,
                                                       gboolean                streaming);
const char         *sotto_command_get_output          (SottoCommand           *self,
                                                       gsize                  *len);
const char         *sotto_command_get_errors          (SottoCommand           *self,
                                                       gsize                  *len);

G_END_DECLS
