/* sotto-cli-common.c — what sotto-cli's front end shares: asking on the terminal
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-cli"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "sotto-cli-common.h"

static char *
prompt_on_terminal (const char  *prompt,
                    GError     **error)
{
  struct termios saved;
  struct termios quiet;
  char *passphrase;
  int fd;

  fd = g_open ("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0 || !isatty (fd))
    {
      if (fd >= 0)
        close (fd);
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_NEEDS_PASSPHRASE,
                           _("This needs a passphrase and there is no terminal to ask on: "
                             "use --passphrase-file"));
      return NULL;
    }

  if (write (fd, prompt, strlen (prompt)) < 0)
    g_debug ("Could not write the prompt: %s", g_strerror (errno));

  tcgetattr (fd, &saved);
  quiet = saved;
  quiet.c_lflag &= ~(tcflag_t)ECHO;
  tcsetattr (fd, TCSAFLUSH, &quiet);
  passphrase = sotto_passphrase_read_line (fd, error);
  tcsetattr (fd, TCSAFLUSH, &saved);
  if (write (fd, "\n", 1) < 0)
    g_debug ("Could not end the prompt line: %s", g_strerror (errno));
  close (fd);

  return passphrase;
}

/**
 * cli_ask_passphrase:
 *
 * A #SottoAskPassphraseFunc: asks on the terminal, without echo; a new
 * passphrase twice.
 */
char *
cli_ask_passphrase (const char  *prompt,
                    gboolean     confirm,
                    gpointer     user_data,
                    GError     **error)
{
  char *first;
  char *second;

  first = prompt_on_terminal (prompt, error);
  if (first == NULL || !confirm)
    return first;

  second = prompt_on_terminal (_("Repeat the passphrase: "), error);
  if (second == NULL)
    {
      sotto_passphrase_free (first);
      return NULL;
    }

  if (strcmp (first, second) != 0)
    {
      sotto_passphrase_free (first);
      sotto_passphrase_free (second);
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The two passphrases differ"));
      return NULL;
    }

  sotto_passphrase_free (second);
  return first;
}
