/* sotto-command.c — one command line for a profile: its words, its output
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A SottoCommand is what a front end hands to sotto_context_execute(): a
 * `sotto-cli` command line, where relative file names start, how to get
 * a passphrase, and what the command printed. The commands themselves are
 * in sotto-context-commands.c.
 */
#define G_LOG_DOMAIN "sotto-command"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>
#include <json-glib/json-glib.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sotto-command-private.h"
#include "sotto-error.h"
#include "sotto-store-key.h"

struct _SottoCommand
{
  GObject                 parent_instance;

  /* construct-only */
  GStrv                   argv;
  char                   *cwd;

  /* how to get a passphrase: a file, or asking the user (never when the
   * command was handed over: nobody is there to answer) */
  char                   *passphrase_file;
  SottoAskPassphraseFunc  ask;
  gpointer                ask_data;

  /* what the command printed, unless it streams to stdout and stderr */
  gboolean                streaming;
  GString                *out;
  GString                *err;
};

G_DEFINE_FINAL_TYPE (SottoCommand, sotto_command, G_TYPE_OBJECT)

/* -------------------------------------------------------------------------
 * Output
 * ------------------------------------------------------------------------- */

void
_sotto_command_print (SottoCommand *self,
           const char   *format,
           ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  if (self->streaming)
    g_print ("%s", text);
  else
    g_string_append (self->out, text);
}

static void
err_print (SottoCommand *self,
           const char   *text)
{
  if (self->streaming)
    g_printerr ("%s", text);
  else
    g_string_append (self->err, text);
}

static char *
dup_usage_error (const char *message)
{
  return g_strdup_printf ("sotto-cli: %s\n%s\n", message,
                          _("Try “sotto-cli --help” for more information."));
}

int
_sotto_command_usage_error (SottoCommand *self,
             const char   *message)
{
  g_autofree char *text = dup_usage_error (message);

  err_print (self, text);
  return SOTTO_EXIT_USAGE;
}

/* A file named on the command line, relative to where it was typed (a
 * handed-over command runs elsewhere). */
char *
_sotto_command_resolve_path (SottoCommand *self,
                             const char   *path)
{
  g_return_val_if_fail (SOTTO_IS_COMMAND (self), NULL);

  return g_path_is_absolute (path) || self->cwd == NULL ? g_strdup (path)
                                                        : g_build_filename (self->cwd, path, NULL);
}

/* Prints the error and picks the exit status a script can act on. */
int
_sotto_command_fail (SottoCommand *self,
      const GError *error)
{
  g_autofree char *text = g_strdup_printf ("sotto-cli: %s\n", error->message);

  err_print (self, text);
  return sotto_command_exit_status (error);
}

/* A note on stderr that changes neither the output nor the exit status. */
void
_sotto_command_warn (SottoCommand *self,
                     const char   *note)
{
  g_autofree char *text = g_strdup_printf ("sotto-cli: %s\n", note);

  err_print (self, text);
}

/* On stderr, so that the output (JSON too) stays what it was; the exit
 * status too: what could be read was shown. */
void
_sotto_command_note_damaged (SottoCommand *self,
                             guint         n_messages,
                             guint         n_contacts)
{
  if (n_messages > 0)
    {
      g_autofree char *note = NULL;
      g_autofree char *text = NULL;

      note = g_strdup_printf (ngettext ("%u message could not be read: it was changed "
                                        "behind Sotto’s back or damaged",
                                        "%u messages could not be read: they were changed "
                                        "behind Sotto’s back or damaged",
                                        n_messages),
                              n_messages);
      text = g_strdup_printf ("sotto-cli: %s\n", note);
      err_print (self, text);
    }

  if (n_contacts > 0)
    {
      g_autofree char *note = NULL;
      g_autofree char *text = NULL;

      note = g_strdup_printf (ngettext ("%u contact could not be read and is left out: it was "
                                        "changed behind Sotto’s back or damaged",
                                        "%u contacts could not be read and are left out: they "
                                        "were changed behind Sotto’s back or damaged",
                                        n_contacts),
                              n_contacts);
      text = g_strdup_printf ("sotto-cli: %s\n", note);
      err_print (self, text);
    }
}

/* @node, pretty-printed, as the command's output. */
void
_sotto_command_print_json (SottoCommand *self,
                           JsonNode     *node)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  _sotto_command_print (self, "%s\n", text);
}

void
_sotto_command_print_json_array (SottoCommand *self,
                  JsonArray    *array)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);

  json_node_set_array (root, array);
  _sotto_command_print_json (self, root);
}

/* -------------------------------------------------------------------------
 * Passphrases
 * ------------------------------------------------------------------------- */

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

/**
 * sotto_passphrase_read_line:
 * @fd: where to read
 *
 * Reads one line, at most %SOTTO_PASSPHRASE_MAX_LEN bytes, into memory
 * from sodium_malloc(); a front end's terminal prompt uses it too.
 *
 * Returns: (transfer full): free with sotto_passphrase_free()
 */
char *
sotto_passphrase_read_line (int      fd,
                            GError **error)
{
  g_return_val_if_fail (fd >= 0, NULL);

  return read_line_secure (fd, error);
}

/**
 * sotto_passphrase_read_file:
 * @file: a file whose first line is the passphrase; relative to @cwd
 *
 * Refuses a file other users can read, as ssh does with keys: a secret
 * others can read is no secret.
 *
 * Returns: (transfer full): free with sotto_passphrase_free()
 */
char *
sotto_passphrase_read_file (const char  *file,
                            const char  *cwd,
                            GError     **error)
{
  g_autofree char *path = NULL;
  GStatBuf st;
  char *passphrase;
  int fd;

  g_return_val_if_fail (file != NULL, NULL);

  path = g_path_is_absolute (file) || cwd == NULL
           ? g_strdup (file) : g_build_filename (cwd, file, NULL);
  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("Cannot read the passphrase file “%s”: %s"), file, g_strerror (saved_errno));
      return NULL;
    }

  if (fstat (fd, &st) == 0 && S_ISDIR (st.st_mode))
    {
      close (fd);
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("The passphrase file “%s” is a folder: give the file that holds "
                     "the passphrase"), file);
      return NULL;
    }

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

void
sotto_passphrase_free (char *passphrase)
{
  if (passphrase != NULL)
    sodium_free (passphrase);
}

/* From @file if given, else by asking; never from the command line
 * itself: that would show in `ps` and in the shell's history. */
char *
_sotto_passphrase_obtain (const char              *file,
                   const char              *cwd,
                   SottoAskPassphraseFunc   ask,
                   gpointer                 ask_data,
                   const char              *prompt,
                   gboolean                 confirm,
                   GError                 **error)
{
  char *passphrase;

  if (file != NULL)
    passphrase = sotto_passphrase_read_file (file, cwd, error);
  else if (ask != NULL)
    passphrase = ask (prompt, confirm, ask_data, error);
  else
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_NEEDS_PASSPHRASE,
                           _("This needs a passphrase and there is nobody to ask: "
                             "use --passphrase-file"));
      return NULL;
    }

  if (passphrase != NULL && !sotto_passphrase_validate (passphrase, error))
    g_clear_pointer (&passphrase, sotto_passphrase_free);

  return passphrase;
}

char *
_sotto_command_read_passphrase (SottoCommand  *self,
                 const char    *file,
                 const char    *prompt,
                 gboolean       confirm,
                 GError       **error)
{
  return _sotto_passphrase_obtain (file, self->cwd, self->ask, self->ask_data, prompt, confirm, error);
}

/* -------------------------------------------------------------------------
 * What every command shares
 * ------------------------------------------------------------------------- */

/* Parses a command's own options; leaves positional arguments in argv. */
gboolean
_sotto_command_parse (SottoCommand        *self,
               const char          *name,
               const char          *args,
               const GOptionEntry  *entries,
               int                 *argc,
               char              ***argv,
               int                 *status)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *usage = g_strdup_printf ("%s%s%s", name, args[0] ? " " : "", args);

  context = g_option_context_new (usage);
  /* GOption prints help and exits the process: only in a command-line
   * program of its own, never in the process that holds the profile
   * (sotto_command_forwardable() keeps help there). */
  g_option_context_set_help_enabled (context, self->streaming);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *status = _sotto_command_usage_error (self, error->message);
      return FALSE;
    }

  return TRUE;
}

gboolean
_sotto_command_expect_args (SottoCommand *self,
             const char   *name,
             int           argc,
             int           wanted,
             int          *status)
{
  g_autofree char *message = NULL;

  /* argv[0] is the command itself. */
  if (argc - 1 == wanted)
    return TRUE;

  if (argc - 1 < wanted)
    message = g_strdup_printf (_("“%s” needs more arguments"), name);
  else
    message = g_strdup_printf (_("“%s” has too many arguments"), name);

  *status = _sotto_command_usage_error (self, message);
  return FALSE;
}

/* -------------------------------------------------------------------------
 * The commands
 * ------------------------------------------------------------------------- */

static const SottoCommandInfo commands[] = {
  { "init", "--name NAME", N_("Create the profile: a new identity and an empty history"),
    SOTTO_COMMAND_LOCAL },
  { "invite", "", N_("Print your invite, for colleagues to add you"), 0 },
  { "fingerprint", "[CONTACT]", N_("Print your fingerprint, or the safety number with a contact"),
    0 },
  { "add", "INVITE [--update]",
    N_("Add a contact from their invite, or with --update take a contact’s new invite"), 0 },
  { "contacts", "", N_("List your contacts"), 0 },
  { "remove", "CONTACT", N_("Remove a contact and your conversation with them"), 0 },
  { "block", "CONTACT", N_("Block a contact"), 0 },
  { "unblock", "CONTACT", N_("Unblock a contact"), 0 },
  { "verify", "CONTACT [--key FINGERPRINT]",
    N_("Mark a contact as verified after comparing safety numbers; for a changed key, accept "
       "the new one"), 0 },
  { "send", "CONTACT|GROUP TEXT",
    N_("Send a message: at once if Sotto is running, else when it next runs"), 0 },
  { "retry", "CONTACT",
    N_("Send again the messages to a contact that were not delivered within a week"), 0 },
  { "send-file", "CONTACT PATH [--yes] [--json]",
    N_("Offer a file: at once if Sotto is running, else when it next runs"), 0 },
  { "files", "[CONTACT] [--json]", N_("List the files offered to and by you"), 0 },
  { "accept-file", "ID [--to DIR]", N_("Accept a file offered to you"), 0 },
  { "decline-file", "ID", N_("Decline a file offered to you"), 0 },
  { "cancel-file", "ID", N_("Stop a file transfer, either way"), 0 },
  { "history", "CONTACT|GROUP", N_("Show the newest messages with a contact or in a group"), 0 },
  { "groups", "[--json]", N_("List your groups"), 0 },
  { "group", "create NAME MEMBER… | add|remove|admin GROUP MEMBER… | rename GROUP NAME | "
    "leave|delete GROUP | members GROUP [--json]",
    N_("Make a group, change it if you administer it, leave it, or list its members"), 0 },
  { "search", "TEXT", N_("Find messages containing TEXT, ignoring case and accents"), 0 },
  { "purge", "--older-than DAYS | --all", N_("Delete messages for good"), 0 },
  { "protect", "--keyring | --new-passphrase-file FILE",
    N_("Move the history key to the keyring or under a new passphrase"), 0 },
  { "profile", "", N_("Show the profile’s name and where it keeps its data"),
    SOTTO_COMMAND_NO_PROFILE },
  { "policy", "[--json]",
    N_("List every setting: its value, where it comes from, and whether an administrator "
       "locked it"), SOTTO_COMMAND_NO_PROFILE },
  { "nearby", "[--json] | --look ID | --add ID --fingerprint DIGITS [--alias NAME]",
    N_("List who runs Sotto on the local network; look at one’s key, or add one as a contact "
       "after comparing fingerprints"), 0 },
  { "log", "[--limit N] [--json]",
    N_("Show the security log: refused connections, blocked keys that called, key changes, "
       "flagged files and what the policy refused"), 0 },
  { "check-link", "URL [--from verified|unverified|stranger] [--json]",
    N_("Say what Sotto would do with a link in a message, and why"), SOTTO_COMMAND_NO_PROFILE },
  { "check-file", "PATH [--name NAME] [--no-scan] [--json]",
    N_("Say what Sotto would let you do with a received file, and why"),
    SOTTO_COMMAND_NO_PROFILE },
  { "run", "[--port N] [--json]",
    N_("Connect to contacts and deliver messages until interrupted, reading commands from stdin"),
    SOTTO_COMMAND_LOCAL },
};

/* -------------------------------------------------------------------------
 * The object
 * ------------------------------------------------------------------------- */

static void
sotto_command_finalize (GObject *object)
{
  SottoCommand *self = (SottoCommand *)object;

  g_clear_pointer (&self->argv, g_strfreev);
  g_clear_pointer (&self->cwd, g_free);
  g_clear_pointer (&self->passphrase_file, g_free);
  g_string_free (self->out, TRUE);
  g_string_free (self->err, TRUE);

  G_OBJECT_CLASS (sotto_command_parent_class)->finalize (object);
}

static void
sotto_command_class_init (SottoCommandClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sotto_command_finalize;
}

static void
sotto_command_init (SottoCommand *self)
{
  self->out = g_string_new (NULL);
  self->err = g_string_new (NULL);
}

/* -------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

/**
 * sotto_command_list:
 *
 * Returns: (array length=n_commands): every command, for help texts
 */
const SottoCommandInfo *
sotto_command_list (guint *n_commands)
{
  g_return_val_if_fail (n_commands != NULL, NULL);

  *n_commands = G_N_ELEMENTS (commands);
  return commands;
}

/**
 * sotto_command_lookup:
 *
 * Returns: (nullable): the command called @name
 */
const SottoCommandInfo *
sotto_command_lookup (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];

  return NULL;
}

/* Help is printed by GOption, which then exits: never in the process that
 * holds the profile. */
static gboolean
is_help (const char *arg)
{
  return g_str_equal (arg, "-h") || g_str_equal (arg, "-?") || g_str_has_prefix (arg, "--help");
}

/**
 * sotto_command_forwardable:
 * @argv: a command and its arguments
 *
 * Whether the process holding the profile may run this command line for
 * us: a known command that reads or changes the profile, and not a
 * request for help.
 */
gboolean
sotto_command_forwardable (const char * const *argv)
{
  const SottoCommandInfo *info;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, FALSE);

  info = sotto_command_lookup (argv[0]);
  if (info == NULL || (info->flags & (SOTTO_COMMAND_LOCAL | SOTTO_COMMAND_NO_PROFILE)) != 0)
    return FALSE;
  for (guint i = 1; argv[i] != NULL; i++)
    {
      if (g_str_equal (argv[i], "--"))
        break;
      if (is_help (argv[i]))
        return FALSE;
    }

  return TRUE;
}

/**
 * sotto_command_exit_status:
 *
 * Returns: the exit status that tells a script what went wrong
 */
int
sotto_command_exit_status (const GError *error)
{
  g_return_val_if_fail (error != NULL, SOTTO_EXIT_FAILURE);

  if (error->domain == SOTTO_ERROR)
    {
      switch (error->code)
        {
        case SOTTO_ERROR_INVALID_ARGUMENT:
          return SOTTO_EXIT_USAGE;
        case SOTTO_ERROR_PROFILE_IN_USE:
          return SOTTO_EXIT_PROFILE_IN_USE;
        case SOTTO_ERROR_NEEDS_PASSPHRASE:
        case SOTTO_ERROR_WRONG_PASSPHRASE:
          return SOTTO_EXIT_PASSPHRASE;
        default:
          break;
        }
    }

  return SOTTO_EXIT_FAILURE;
}

/**
 * sotto_command_print_usage_error:
 *
 * Prints a usage error on stderr, the way every command does.
 *
 * Returns: %SOTTO_EXIT_USAGE
 */
int
sotto_command_print_usage_error (const char *message)
{
  g_autofree char *text = dup_usage_error (message);

  g_printerr ("%s", text);
  return SOTTO_EXIT_USAGE;
}

/**
 * sotto_command_new:
 * @argv: the command and its arguments, as given after `sotto-cli`'s own
 *   options
 * @cwd: (nullable): where relative file names start; %NULL: here
 *
 * Returns: (transfer full): a command, for sotto_context_execute()
 */
SottoCommand *
sotto_command_new (const char * const *argv,
                   const char         *cwd)
{
  SottoCommand *self;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  self = g_object_new (SOTTO_TYPE_COMMAND, NULL);
  self->argv = g_strdupv ((char **)argv);
  self->cwd = cwd != NULL ? g_strdup (cwd) : g_get_current_dir ();

  return self;
}

/**
 * sotto_command_get_argv:
 *
 * Returns: (transfer none): the command and its arguments
 */
const char * const *
sotto_command_get_argv (SottoCommand *self)
{
  g_return_val_if_fail (SOTTO_IS_COMMAND (self), NULL);

  return (const char * const *)self->argv;
}

/**
 * sotto_command_set_passphrase_file:
 *
 * Where the profile's passphrase is, if it has one (`--passphrase-file`).
 */
void
sotto_command_set_passphrase_file (SottoCommand *self,
                                   const char   *file)
{
  g_return_if_fail (SOTTO_IS_COMMAND (self));

  g_free (self->passphrase_file);
  self->passphrase_file = g_strdup (file);
}

/**
 * sotto_command_set_ask_passphrase:
 *
 * How to ask the user for a passphrase; without it, a command that needs
 * one and has no file for it fails.
 */
void
sotto_command_set_ask_passphrase (SottoCommand           *self,
                                  SottoAskPassphraseFunc  func,
                                  gpointer                user_data)
{
  g_return_if_fail (SOTTO_IS_COMMAND (self));

  self->ask = func;
  self->ask_data = user_data;
}

/**
 * sotto_command_set_streaming:
 *
 * Print to stdout and stderr as the command goes (search shows each batch
 * of matches as it is found) instead of keeping the output.
 */
void
sotto_command_set_streaming (SottoCommand *self,
                             gboolean      streaming)
{
  g_return_if_fail (SOTTO_IS_COMMAND (self));

  self->streaming = streaming;
}

/**
 * sotto_command_get_output:
 * @len: (out): its length
 *
 * Returns: what the command printed for stdout (nothing when streaming)
 */
const char *
sotto_command_get_output (SottoCommand *self,
                          gsize        *len)
{
  g_return_val_if_fail (SOTTO_IS_COMMAND (self), NULL);

  *len = self->out->len;
  return self->out->str;
}

/**
 * sotto_command_get_errors:
 * @len: (out): its length
 *
 * Returns: what the command printed for stderr (nothing when streaming)
 */
const char *
sotto_command_get_errors (SottoCommand *self,
                          gsize        *len)
{
  g_return_val_if_fail (SOTTO_IS_COMMAND (self), NULL);

  *len = self->err->len;
  return self->err->str;
}

const char *
_sotto_command_get_passphrase_file (SottoCommand *self)
{
  g_assert (SOTTO_IS_COMMAND (self));

  return self->passphrase_file;
}

gboolean
_sotto_command_can_ask (SottoCommand *self)
{
  g_assert (SOTTO_IS_COMMAND (self));

  return self->ask != NULL;
}

void
_sotto_command_get_ask (SottoCommand            *self,
                        SottoAskPassphraseFunc  *func,
                        gpointer                *user_data)
{
  g_assert (SOTTO_IS_COMMAND (self));

  *func = self->ask;
  *user_data = self->ask_data;
}
