/* sotto-cli-common.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-cli"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "sotto-cli-common.h"

int
cli_usage_error (const char *message)
{
  g_printerr ("sotto-cli: %s\n", message);
  g_printerr (_("Try “sotto-cli --help” for more information."));
  g_printerr ("\n");
  return CLI_EXIT_USAGE;
}

/* Prints the error and picks the exit status a script can act on. */
int
cli_fail (const GError *error)
{
  g_printerr ("sotto-cli: %s\n", error->message);

  if (error->domain == SOTTO_ERROR)
    {
      switch (error->code)
        {
        case SOTTO_ERROR_INVALID_ARGUMENT:
          return CLI_EXIT_USAGE;
        case SOTTO_ERROR_PROFILE_IN_USE:
          return CLI_EXIT_PROFILE_IN_USE;
        case SOTTO_ERROR_NEEDS_PASSPHRASE:
        case SOTTO_ERROR_WRONG_PASSPHRASE:
          return CLI_EXIT_PASSPHRASE;
        default:
          break;
        }
    }

  return CLI_EXIT_FAILURE;
}

void
cli_result_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
  g_main_context_wakeup (NULL);
}

GAsyncResult *
cli_wait (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

void
cli_passphrase_free (char *passphrase)
{
  if (passphrase != NULL)
    sodium_free (passphrase);
}

/* Reads one line into locked memory; the newline is dropped. */
static char *
read_line_secure (int      fd,
                  GError **error)
{
  char *buf = sodium_malloc (SOTTO_PASSPHRASE_MAX_LEN + 2);
  gsize len = 0;

  g_assert (buf != NULL);

  for (;;)
    {
      char c;
      ssize_t n = read (fd, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || c == '\n')
        break;
      if (len > SOTTO_PASSPHRASE_MAX_LEN)
        {
          sodium_free (buf);
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                       _("The passphrase is longer than %d bytes"), SOTTO_PASSPHRASE_MAX_LEN);
          return NULL;
        }
      buf[len++] = c;
    }

  if (len > 0 && buf[len - 1] == '\r')
    len--;
  buf[len] = '\0';

  return buf;
}

static char *
read_passphrase_file (const char  *file,
                      GError     **error)
{
  GStatBuf st;
  char *passphrase;
  int fd;

  fd = g_open (file, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("Cannot read the passphrase file “%s”: %s"), file, g_strerror (saved_errno));
      return NULL;
    }

  /* As ssh does with keys: a secret others can read is no secret. */
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 077) != 0)
    {
      close (fd);
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("The passphrase file “%s” can be read by other users: "
                     "make it private (chmod 600) first"), file);
      return NULL;
    }

  passphrase = read_line_secure (fd, error);
  close (fd);

  return passphrase;
}

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
  passphrase = read_line_secure (fd, error);
  tcsetattr (fd, TCSAFLUSH, &saved);
  if (write (fd, "\n", 1) < 0)
    g_debug ("Could not end the prompt line: %s", g_strerror (errno));
  close (fd);

  return passphrase;
}

/**
 * cli_read_passphrase:
 * @file: (nullable): read the first line of this file, else ask on the
 *   terminal
 * @confirm: ask twice (a new passphrase)
 *
 * Never from the command line itself: that would show in `ps` and in the
 * shell's history.
 */
char *
cli_read_passphrase (const char  *file,
                     const char  *prompt,
                     gboolean     confirm,
                     GError     **error)
{
  char *first;
  char *second;

  if (file != NULL)
    first = read_passphrase_file (file, error);
  else
    first = prompt_on_terminal (prompt, error);

  if (first == NULL)
    return NULL;

  if (!sotto_passphrase_validate (first, error))
    {
      cli_passphrase_free (first);
      return NULL;
    }

  if (!confirm || file != NULL)
    return first;

  second = prompt_on_terminal (_("Repeat the passphrase: "), error);
  if (second == NULL)
    {
      cli_passphrase_free (first);
      return NULL;
    }

  if (strcmp (first, second) != 0)
    {
      cli_passphrase_free (first);
      cli_passphrase_free (second);
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The two passphrases differ"));
      return NULL;
    }

  cli_passphrase_free (second);
  return first;
}

static SottoStore *open_asking_passphrase (CliEnv  *env,
                                        GError **error);

static SottoStore *
open_with (CliEnv      *env,
           const char  *passphrase,
           GError     **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_store_open_async (sotto_context_get_profile_dir (env->context), passphrase,
                          NULL, cli_result_cb, &result);
  return sotto_store_open_finish (cli_wait (&result), error);
}

/* The application's settings, or a clear error when the schema is not
 * installed (rather than GLib aborting). */
GSettings *
cli_settings_new (GError **error)
{
  g_autoptr (GSettingsSchema) schema = NULL;
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, SCHEMA_ID, TRUE);
  if (schema == NULL)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_STORE,
                   _("The settings schema “%s” is not installed"), SCHEMA_ID);
      return NULL;
    }

  return g_settings_new_full (schema, NULL, NULL);
}

/* Every front end applies retention when it opens a profile: a one-shot
 * command must not show what the settings say is gone. */
static gboolean
apply_retention (SottoStore  *store,
                 GError     **error)
{
  g_autoptr (GSettings) settings = NULL;
  g_autoptr (SottoRetention) retention = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  settings = cli_settings_new (error);
  if (settings == NULL)
    return FALSE;

  retention = sotto_retention_new (store, settings);
  sotto_retention_apply_async (retention, NULL, cli_result_cb, &result);

  return sotto_retention_apply_finish (retention, cli_wait (&result), NULL, error);
}

/* Gives up on messages that waited too long for delivery, as a running
 * peer service does (sotto_peer_service_start()): `history` shows them as
 * not sent, and `retry` finds them, even when nothing has run for a week. */
static gboolean
expire_outbox (SottoStore  *store,
               GError     **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) local_error = NULL;

  sotto_store_expire_outbox_async (store, g_get_real_time (), NULL, cli_result_cb, &result);
  sotto_store_expire_outbox_finish (store, cli_wait (&result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  return TRUE;
}

/* A public key as 64 lower-case hex digits. */
char *
cli_dup_key_hex (const guint8 *key)
{
  char hex[2 * SOTTO_KEY_LEN + 1];

  sodium_bin2hex (hex, sizeof hex, key, SOTTO_KEY_LEN);
  return g_strdup (hex);
}

/* Text from others, made safe for a terminal: control characters (which
 * could move the cursor or recolour the screen) and bidirectional
 * overrides (which could make text read differently from what it is) are
 * shown as \uXXXX escapes. Line feeds stay unless @one_line. */
char *
cli_terminal_text (const char *text,
                   gboolean    one_line)
{
  GString *out = g_string_sized_new (strlen (text));

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      GUnicodeType type = g_unichar_type (c);

      if ((c == '\n' && !one_line) || c == '\t')
        g_string_append_unichar (out, c);
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (type == G_UNICODE_CONTROL ||
               (type == G_UNICODE_FORMAT && c != 0x200C && c != 0x200D))
        g_string_append_printf (out, "\\u%04X", c);
      else
        g_string_append_unichar (out, c);
    }

  return g_string_free (out, FALSE);
}

static SottoStore *
open_store (CliEnv    *env,
            gboolean   expire,
            GError   **error)
{
  SottoStore *store;

  /* Handed over to the process that holds the profile: its store. */
  if (env->store != NULL)
    return g_object_ref (env->store);

  store = open_asking_passphrase (env, error);

  if (store != NULL &&
      (!apply_retention (store, error) || (expire && !expire_outbox (store, error))))
    g_clear_object (&store);

  return store;
}

/* Opens the profile's store; asks for the passphrase only if it has one. */
SottoStore *
cli_open_store (CliEnv  *env,
                GError **error)
{
  return open_store (env, TRUE, error);
}

/* The same for `run`: its peer service gives up on old messages itself
 * when it starts, and `run` reports each one. */
SottoStore *
cli_open_store_for_service (CliEnv  *env,
                            GError **error)
{
  return open_store (env, FALSE, error);
}

static SottoStore *
open_asking_passphrase (CliEnv  *env,
                     GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *prompt = NULL;
  SottoStore *store;
  char *passphrase;

  store = open_with (env, NULL, &local_error);
  if (store != NULL || !g_error_matches (local_error, SOTTO_ERROR, SOTTO_ERROR_NEEDS_PASSPHRASE))
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      return store;
    }

  prompt = g_strdup_printf (_("Passphrase for profile “%s”: "),
                            sotto_context_get_profile (env->context));
  passphrase = cli_read_passphrase (env->passphrase_file, prompt, FALSE, error);
  if (passphrase == NULL)
    return NULL;

  store = open_with (env, passphrase, error);
  cli_passphrase_free (passphrase);

  return store;
}

void
cli_print_json (JsonNode *node)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

void
cli_print_json_array (JsonArray *array)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);

  json_node_set_array (root, array);
  cli_print_json (root);
}

/* Local time for people, UTC ISO 8601 for scripts. */
char *
cli_format_time (gint64   usec,
                 gboolean iso)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
  g_autoptr (GDateTime) local = NULL;

  if (utc == NULL)
    return g_strdup ("?");

  if (iso)
    return g_date_time_format_iso8601 (utc);

  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%Y-%m-%d %H:%M");
}
