/* sotto-cli-commands.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each command parses its own arguments, calls the core, and prints. Output
 * labels are not translated (scripts read them); messages to people are.
 */
#define G_LOG_DOMAIN "sotto-cli"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <glib/gi18n.h>

#include "sotto-cli-commands.h"
#include "sotto-cli-run.h"
#include "sotto-peer-service.h"

/* Parses a command's own options; leaves positional arguments in argv. */
static gboolean
parse_command (const char          *name,
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
  g_option_context_set_help_enabled (context, TRUE);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *status = cli_usage_error (error->message);
      return FALSE;
    }

  return TRUE;
}

static gboolean
expect_args (const char *name,
             int         argc,
             int         wanted,
             int        *status)
{
  g_autofree char *message = NULL;

  /* argv[0] is the command itself. */
  if (argc - 1 == wanted)
    return TRUE;

  if (argc - 1 < wanted)
    message = g_strdup_printf (_("“%s” needs more arguments"), name);
  else
    message = g_strdup_printf (_("“%s” has too many arguments"), name);

  *status = cli_usage_error (message);
  return FALSE;
}

static int
open_or_fail (CliEnv      *env,
              SottoStore **store)
{
  g_autoptr (GError) error = NULL;

  *store = cli_open_store (env, &error);
  if (*store == NULL)
    return cli_fail (error);

  return CLI_EXIT_OK;
}

static int
find_or_fail (SottoStore    *store,
              const char    *query,
              SottoContact **contact)
{
  g_autoptr (GError) error = NULL;

  *contact = sotto_store_find_contact (store, query, &error);
  if (*contact == NULL)
    return cli_fail (error);

  g_object_ref (*contact);
  return CLI_EXIT_OK;
}

/* init ------------------------------------------------------------------ */

static int
cmd_init (CliEnv  *env,
          int      argc,
          char   **argv)
{
  g_autofree char *name = NULL;
  g_autofree char *passphrase_file = NULL;
  gboolean ask = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (SottoStore) store = NULL;
  g_autofree char *fingerprint = NULL;
  char *passphrase = NULL;
  SottoKeyProtection protection = SOTTO_KEY_PROTECTION_KEYRING;
  int status = CLI_EXIT_OK;
  const GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name,
      N_("The name colleagues see"), N_("NAME") },
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &passphrase_file,
      N_("Protect the history with the passphrase in FILE instead of the login keyring"),
      N_("FILE") },
    { "ask-passphrase", 0, 0, G_OPTION_ARG_NONE, &ask,
      N_("Protect the history with a passphrase asked on the terminal"), NULL },
    { NULL }
  };

  if (!parse_command ("init", "--name NAME", entries, &argc, &argv, &status) ||
      !expect_args ("init", argc, 0, &status))
    return status;

  if (name == NULL)
    return cli_usage_error (_("“init” needs --name"));

  if (passphrase_file == NULL)
    passphrase_file = g_strdup (env->passphrase_file);

  if (passphrase_file != NULL || ask)
    {
      protection = SOTTO_KEY_PROTECTION_PASSPHRASE;
      passphrase = cli_read_passphrase (passphrase_file, _("New passphrase: "), TRUE, &error);
      if (passphrase == NULL)
        return cli_fail (error);
    }

  if (!sotto_context_ensure_profile_dir (env->context, &error))
    {
      cli_passphrase_free (passphrase);
      return cli_fail (error);
    }

  sotto_store_create_async (sotto_context_get_profile_dir (env->context), name, protection,
                            passphrase, 0, 0, NULL, cli_result_cb, &result);
  store = sotto_store_create_finish (cli_wait (&result), &error);
  cli_passphrase_free (passphrase);
  if (store == NULL)
    return cli_fail (error);

  fingerprint = sotto_identity_dup_fingerprint (sotto_store_get_identity (store));
  g_print ("profile: %s\n", sotto_context_get_profile (env->context));
  g_print ("directory: %s\n", sotto_context_get_profile_dir (env->context));
  g_print ("name: %s\n", sotto_identity_get_display_name (sotto_store_get_identity (store)));
  g_print ("fingerprint: %s\n", fingerprint);
  g_print ("protection: %s\n",
           protection == SOTTO_KEY_PROTECTION_KEYRING ? "keyring" : "passphrase");

  return CLI_EXIT_OK;
}

/* invite, fingerprint ------------------------------------------------------- */

static int
cmd_invite (CliEnv  *env,
            int      argc,
            char   **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GSettings) settings = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) addresses = NULL;
  g_auto (GStrv) local = NULL;
  g_autofree char *invite = NULL;
  int status = CLI_EXIT_OK;
  const GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &addresses,
      N_("Tell colleagues to connect to HOST:PORT instead of this computer’s own addresses "
         "(may be given several times)"), N_("HOST:PORT") },
    { NULL }
  };

  if (!parse_command ("invite", "[--address HOST:PORT…]", entries, &argc, &argv, &status) ||
      !expect_args ("invite", argc, 0, &status))
    return status;

  if (addresses == NULL)
    {
      settings = cli_settings_new (&error);
      if (settings == NULL)
        return cli_fail (error);
      local = sotto_local_addresses (env->service != NULL
                                     ? sotto_peer_service_get_port (env->service)
                                     : (guint)g_settings_get_int (settings, "listen-port"));
    }
  else
    {
      if (g_strv_length (addresses) > SOTTO_INVITE_MAX_ADDRESSES)
        {
          g_autofree char *message = g_strdup_printf (_("An invite holds at most %d addresses"),
                                                      SOTTO_INVITE_MAX_ADDRESSES);
          return cli_usage_error (message);
        }
      for (guint i = 0; addresses[i] != NULL; i++)
        if (!sotto_invite_address_validate (addresses[i], &error))
          return cli_usage_error (error->message);
    }

  if ((status = open_or_fail (env, &store)) != CLI_EXIT_OK)
    return status;

  invite = sotto_identity_dup_invite (sotto_store_get_identity (store),
                                      (const char * const *)(addresses != NULL ? addresses : local),
                                      &error);
  if (invite == NULL)
    return cli_fail (error);

  g_print ("%s\n", invite);
  return CLI_EXIT_OK;
}

static int
cmd_fingerprint (CliEnv  *env,
                 int      argc,
                 char   **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autofree char *text = NULL;
  int status = CLI_EXIT_OK;

  if (!parse_command ("fingerprint", "[CONTACT]", NULL, &argc, &argv, &status))
    return status;
  if (argc > 2)
    return cli_usage_error (_("“fingerprint” has too many arguments"));
  if ((status = open_or_fail (env, &store)) != CLI_EXIT_OK)
    return status;

  if (argc == 1)
    {
      text = sotto_identity_dup_fingerprint (sotto_store_get_identity (store));
      g_print ("%s\n", text);
      return CLI_EXIT_OK;
    }

  if ((status = find_or_fail (store, argv[1], &contact)) != CLI_EXIT_OK)
    return status;

  /* The same number on both sides: read it out to each other. */
  text = sotto_safety_number (sotto_identity_get_public_key (sotto_store_get_identity (store)),
                              sotto_contact_get_public_key (contact));
  g_print ("%s\n", text);

  return CLI_EXIT_OK;
}

/* contacts ------------------------------------------------------------------ */

static JsonNode *
contact_to_json (SottoContact *contact)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *fingerprint = sotto_contact_dup_fingerprint (contact);
  g_autofree char *key = cli_dup_key_hex (sotto_contact_get_public_key (contact));
  const char * const *addresses = sotto_contact_get_addresses (contact);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, sotto_contact_get_id (contact));
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, sotto_contact_get_name (contact));
  json_builder_set_member_name (builder, "display_name");
  json_builder_add_string_value (builder, sotto_contact_get_display_name (contact));
  json_builder_set_member_name (builder, "alias");
  if (sotto_contact_get_alias (contact) != NULL)
    json_builder_add_string_value (builder, sotto_contact_get_alias (contact));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "fingerprint");
  json_builder_add_string_value (builder, fingerprint);
  json_builder_set_member_name (builder, "public_key");
  json_builder_add_string_value (builder, key);
  json_builder_set_member_name (builder, "verification");
  json_builder_add_string_value (builder,
                                 sotto_verification_to_string (sotto_contact_get_verification (contact)));
  json_builder_set_member_name (builder, "blocked");
  json_builder_add_boolean_value (builder, sotto_contact_get_blocked (contact));
  json_builder_set_member_name (builder, "addresses");
  json_builder_begin_array (builder);
  for (guint i = 0; addresses[i] != NULL; i++)
    json_builder_add_string_value (builder, addresses[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static int
cmd_contacts (CliEnv  *env,
              int      argc,
              char   **argv)
{
  g_autoptr (SottoStore) store = NULL;
  gboolean json = FALSE;
  int status = CLI_EXIT_OK;
  GListModel *contacts;
  guint n;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  if (!parse_command ("contacts", "[--json]", entries, &argc, &argv, &status) ||
      !expect_args ("contacts", argc, 0, &status) ||
      (status = open_or_fail (env, &store)) != CLI_EXIT_OK)
    return status;

  contacts = sotto_store_get_contacts (store);
  n = g_list_model_get_n_items (contacts);

  if (json)
    {
      g_autoptr (JsonArray) array = json_array_new ();

      for (guint i = 0; i < n; i++)
        {
          g_autoptr (SottoContact) contact = g_list_model_get_item (contacts, i);
          json_array_add_element (array, contact_to_json (contact));
        }
      cli_print_json_array (array);
      return CLI_EXIT_OK;
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (contacts, i);
      g_autofree char *fingerprint = sotto_contact_dup_fingerprint (contact);

      g_print ("%s\t%s\t%s%s\n", sotto_contact_get_name (contact), fingerprint,
               sotto_verification_to_string (sotto_contact_get_verification (contact)),
               sotto_contact_get_blocked (contact) ? "\tblocked" : "");
    }

  return CLI_EXIT_OK;
}

/* add, remove, block, unblock, verify ---------------------------------------- */

static int
cmd_add (CliEnv  *env,
         int      argc,
         char   **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *alias = NULL;
  g_autofree char *fingerprint = NULL;
  int status = CLI_EXIT_OK;
  const GOptionEntry entries[] = {
    { "alias", 0, 0, G_OPTION_ARG_STRING, &alias,
      N_("Call the contact NAME instead of the name in the invite"), N_("NAME") },
    { NULL }
  };

  if (!parse_command ("add", "INVITE [--alias NAME]", entries, &argc, &argv, &status) ||
      !expect_args ("add", argc, 1, &status))
    return status;

  /* A bad invite is a usage error, before the profile is even opened. */
  invite = sotto_invite_parse (argv[1], &error);
  if (invite == NULL)
    return cli_usage_error (error->message);

  if ((status = open_or_fail (env, &store)) != CLI_EXIT_OK)
    return status;

  sotto_store_add_contact_async (store, invite, alias, NULL, cli_result_cb, &result);
  contact = sotto_store_add_contact_finish (store, cli_wait (&result), &error);
  if (contact == NULL)
    return cli_fail (error);

  fingerprint = sotto_contact_dup_fingerprint (contact);
  g_print ("added: %s\n", sotto_contact_get_name (contact));
  g_print ("fingerprint: %s\n", fingerprint);

  return CLI_EXIT_OK;
}

static int
cmd_remove (CliEnv  *env,
            int      argc,
            char   **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  int status = CLI_EXIT_OK;

  if (!parse_command ("remove", "CONTACT", NULL, &argc, &argv, &status) ||
      !expect_args ("remove", argc, 1, &status) ||
      (status = open_or_fail (env, &store)) != CLI_EXIT_OK ||
      (status = find_or_fail (store, argv[1], &contact)) != CLI_EXIT_OK)
    return status;

  sotto_store_remove_contact_async (store, contact, NULL, cli_result_cb, &result);
  if (!sotto_store_remove_contact_finish (store, cli_wait (&result), &error))
    return cli_fail (error);

  g_print ("removed: %s\n", sotto_contact_get_name (contact));
  return CLI_EXIT_OK;
}

/* block, unblock and verify differ only in what they change. */
static int
update_one (CliEnv     *env,
            const char *name,
            int         argc,
            char      **argv,
            int         blocked,
            int         verification,
            const char *done)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  int status = CLI_EXIT_OK;

  if (!parse_command (name, "CONTACT", NULL, &argc, &argv, &status) ||
      !expect_args (name, argc, 1, &status) ||
      (status = open_or_fail (env, &store)) != CLI_EXIT_OK ||
      (status = find_or_fail (store, argv[1], &contact)) != CLI_EXIT_OK)
    return status;

  sotto_store_update_contact_async (store, contact, NULL, blocked, verification,
                                    NULL, cli_result_cb, &result);
  if (!sotto_store_update_contact_finish (store, cli_wait (&result), &error))
    return cli_fail (error);

  g_print ("%s: %s\n", done, sotto_contact_get_name (contact));
  return CLI_EXIT_OK;
}

static int
cmd_block (CliEnv *env, int argc, char **argv)
{
  return update_one (env, "block", argc, argv, 1, -1, "blocked");
}

static int
cmd_unblock (CliEnv *env, int argc, char **argv)
{
  return update_one (env, "unblock", argc, argv, 0, -1, "unblocked");
}

static int
cmd_verify (CliEnv *env, int argc, char **argv)
{
  return update_one (env, "verify", argc, argv, -1, SOTTO_VERIFICATION_VERIFIED, "verified");
}

/* history ------------------------------------------------------------------- */

static JsonNode *
message_to_json (SottoMessage *message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *uid = sotto_message_dup_uid_hex (message);
  g_autofree char *sent = cli_format_time (sotto_message_get_sent (message), TRUE);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, sotto_message_get_id (message));
  json_builder_set_member_name (builder, "uid");
  json_builder_add_string_value (builder, uid);
  json_builder_set_member_name (builder, "direction");
  json_builder_add_string_value (builder,
                                 sotto_message_get_direction (message) == SOTTO_DIRECTION_IN ?
                                 "in" : "out");
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder,
                                 sotto_message_state_to_string (sotto_message_get_state (message)));
  json_builder_set_member_name (builder, "sent");
  json_builder_add_string_value (builder, sent);
  json_builder_set_member_name (builder, "received");
  if (sotto_message_get_received (message) > 0)
    {
      g_autofree char *received = cli_format_time (sotto_message_get_received (message), TRUE);
      json_builder_add_string_value (builder, received);
    }
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "body");
  json_builder_add_string_value (builder, sotto_message_get_body (message));
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static void
print_message (SottoContact *contact,
               SottoMessage *message)
{
  g_autofree char *when = cli_format_time (sotto_message_get_sent (message), FALSE);
  g_autofree char *body = cli_terminal_text (sotto_message_get_body (message), FALSE);
  g_autofree char *name = cli_terminal_text (sotto_contact_get_name (contact), TRUE);
  g_auto (GStrv) lines = g_strsplit (body, "\n", -1);
  gboolean out = sotto_message_get_direction (message) == SOTTO_DIRECTION_OUT;
  SottoMessageState state = sotto_message_get_state (message);

  g_print ("%s <%s>", when, out ? "me" : name);
  for (guint i = 0; lines[i] != NULL; i++)
    g_print ("%s%s\n", i == 0 ? " " : "    ", lines[i]);
  if (out && state == SOTTO_MESSAGE_FAILED)
    g_print ("    (not sent)\n");
  else if (out && state != SOTTO_MESSAGE_DELIVERED && state != SOTTO_MESSAGE_READ)
    g_print ("    (%s)\n", sotto_message_state_to_string (state));
}

static int
cmd_history (CliEnv  *env,
             int      argc,
             char   **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *limit_text = NULL;
  guint64 limit = 20;
  gboolean json = FALSE;
  int status = CLI_EXIT_OK;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "limit", 0, 0, G_OPTION_ARG_STRING, &limit_text,
      N_("Show the newest N messages (default 20)"), N_("N") },
    { NULL }
  };

  if (!parse_command ("history", "CONTACT [--json] [--limit N]", entries, &argc, &argv, &status) ||
      !expect_args ("history", argc, 1, &status))
    return status;

  if (limit_text != NULL &&
      !g_ascii_string_to_unsigned (limit_text, 10, 1, SOTTO_HISTORY_PAGE_MAX, &limit, NULL))
    {
      g_autofree char *message = g_strdup_printf (_("--limit must be a number from 1 to %d"),
                                                  SOTTO_HISTORY_PAGE_MAX);
      return cli_usage_error (message);
    }

  if ((status = open_or_fail (env, &store)) != CLI_EXIT_OK ||
      (status = find_or_fail (store, argv[1], &contact)) != CLI_EXIT_OK)
    return status;

  sotto_store_history_async (store, contact, 0, (guint)limit, NULL, cli_result_cb, &result);
  page = sotto_store_history_finish (store, cli_wait (&result), &error);
  if (page == NULL)
    return cli_fail (error);

  if (json)
    {
      g_autoptr (JsonArray) array = json_array_new ();

      for (guint i = 0; i < page->len; i++)
        json_array_add_element (array, message_to_json (g_ptr_array_index (page, i)));
      cli_print_json_array (array);
      return CLI_EXIT_OK;
    }

  for (guint i = 0; i < page->len; i++)
    print_message (contact, g_ptr_array_index (page, i));

  return CLI_EXIT_OK;
}

/* send ---------------------------------------------------------------------- */

static int
cmd_send (CliEnv  *env,
          int      argc,
          char   **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoMessage) message = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *uid = NULL;
  int status = CLI_EXIT_OK;

  if (!parse_command ("send", "CONTACT TEXT", NULL, &argc, &argv, &status) ||
      !expect_args ("send", argc, 2, &status))
    return status;

  if (!sotto_message_body_validate (argv[2], &error))
    return cli_usage_error (error->message);

  if ((status = open_or_fail (env, &store)) != CLI_EXIT_OK ||
      (status = find_or_fail (store, argv[1], &contact)) != CLI_EXIT_OK)
    return status;

  /* In the running process the message leaves at once; otherwise the
   * next process to run the profile delivers it. */
  if (env->service != NULL)
    {
      sotto_peer_service_send_async (env->service, contact, argv[2], NULL, cli_result_cb, &result);
      message = sotto_peer_service_send_finish (env->service, cli_wait (&result), &error);
    }
  else
    {
      sotto_store_queue_message_async (store, contact, argv[2], NULL, cli_result_cb, &result);
      message = sotto_store_queue_message_finish (store, cli_wait (&result), &error);
    }
  if (message == NULL)
    return cli_fail (error);

  uid = sotto_message_dup_uid_hex (message);
  g_print ("queued: %s\n", uid);
  return CLI_EXIT_OK;
}

/* retry --------------------------------------------------------------------- */

static int
cmd_retry (CliEnv  *env,
           int      argc,
           char   **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) failed = NULL;
  g_autoptr (GError) error = NULL;
  int status = CLI_EXIT_OK;

  if (!parse_command ("retry", "CONTACT", NULL, &argc, &argv, &status) ||
      !expect_args ("retry", argc, 1, &status) ||
      (status = open_or_fail (env, &store)) != CLI_EXIT_OK ||
      (status = find_or_fail (store, argv[1], &contact)) != CLI_EXIT_OK)
    return status;

  sotto_store_list_failed_async (store, contact, NULL, cli_result_cb, &result);
  failed = sotto_store_list_failed_finish (store, cli_wait (&result), &error);
  if (failed == NULL)
    return cli_fail (error);

  /* Oldest first, one after the other: in the running process each leaves
   * at once, in the order they were written; otherwise the next process
   * to run the profile sends them. */
  for (guint i = 0; i < failed->len; i++)
    {
      SottoMessage *message = g_ptr_array_index (failed, i);
      g_autoptr (GAsyncResult) retried = NULL;
      gboolean ok;

      if (env->service != NULL)
        {
          sotto_peer_service_retry_async (env->service, message, NULL, cli_result_cb, &retried);
          ok = sotto_peer_service_retry_finish (env->service, cli_wait (&retried), &error);
        }
      else
        {
          sotto_store_retry_message_async (store, message, NULL, cli_result_cb, &retried);
          ok = sotto_store_retry_message_finish (store, cli_wait (&retried), &error);
        }
      if (!ok)
        {
          g_print ("retried: %u\n", i);
          return cli_fail (error);
        }
    }

  g_print ("retried: %u\n", failed->len);
  return CLI_EXIT_OK;
}

/* search, purge ---------------------------------------------------------------- */

typedef struct
{
  gboolean   json;
  JsonArray *array;
} SearchOutput;

static void
on_search_matches_cb (SottoStore *store,
                      GPtrArray  *matches,
                      gpointer    user_data)
{
  SearchOutput *output = user_data;

  /* People see matches as they are found; scripts get one array. */
  for (guint i = 0; i < matches->len; i++)
    {
      SottoMessage *message = g_ptr_array_index (matches, i);
      SottoContact *contact = sotto_store_get_contact_by_id (store,
                                                             sotto_message_get_contact_id (message));

      if (contact == NULL)
        continue;

      if (output->json)
        {
          JsonNode *node = message_to_json (message);

          json_object_set_string_member (json_node_get_object (node), "contact",
                                         sotto_contact_get_name (contact));
          json_array_add_element (output->array, node);
        }
      else
        {
          g_print ("[%s] ", sotto_contact_get_name (contact));
          print_message (contact, message);
        }
    }
}

static int
cmd_search (CliEnv  *env,
            int      argc,
            char   **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) array = json_array_new ();
  g_autofree char *contact_query = NULL;
  SearchOutput output = { FALSE, array };
  guint n = 0;
  int status = CLI_EXIT_OK;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &output.json, N_("Print JSON"), NULL },
    { "contact", 0, 0, G_OPTION_ARG_STRING, &contact_query,
      N_("Search only the conversation with CONTACT"), N_("CONTACT") },
    { NULL }
  };

  if (!parse_command ("search", "TEXT [--contact CONTACT] [--json]", entries, &argc, &argv,
                      &status) ||
      !expect_args ("search", argc, 1, &status) ||
      (status = open_or_fail (env, &store)) != CLI_EXIT_OK)
    return status;

  if (contact_query != NULL &&
      (status = find_or_fail (store, contact_query, &contact)) != CLI_EXIT_OK)
    return status;

  sotto_store_search_async (store, contact, argv[1], on_search_matches_cb, &output,
                            NULL, cli_result_cb, &result);
  if (!sotto_store_search_finish (store, cli_wait (&result), &n, &error))
    return cli_fail (error);

  if (output.json)
    cli_print_json_array (array);

  return CLI_EXIT_OK;
}

static int
cmd_purge (CliEnv  *env,
           int      argc,
           char   **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *days_text = NULL;
  g_autofree char *contact_query = NULL;
  gboolean all = FALSE;
  gboolean include_queued = FALSE;
  guint64 days = 0;
  guint deleted = 0;
  gint64 before;
  int status = CLI_EXIT_OK;
  const GOptionEntry entries[] = {
    { "older-than", 0, 0, G_OPTION_ARG_STRING, &days_text,
      N_("Delete messages older than DAYS days"), N_("DAYS") },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, N_("Delete all messages"), NULL },
    { "contact", 0, 0, G_OPTION_ARG_STRING, &contact_query,
      N_("Only in the conversation with CONTACT"), N_("CONTACT") },
    { "include-queued", 0, 0, G_OPTION_ARG_NONE, &include_queued,
      N_("Also delete messages that were never delivered"), NULL },
    { NULL }
  };

  if (!parse_command ("purge", "--older-than DAYS | --all", entries, &argc, &argv, &status) ||
      !expect_args ("purge", argc, 0, &status))
    return status;

  if (all == (days_text != NULL))
    return cli_usage_error (_("“purge” needs either --older-than DAYS or --all"));

  if (days_text != NULL &&
      !g_ascii_string_to_unsigned (days_text, 10, 0, 36500, &days, NULL))
    return cli_usage_error (_("--older-than must be a number of days from 0 to 36500"));

  if ((status = open_or_fail (env, &store)) != CLI_EXIT_OK)
    return status;
  if (contact_query != NULL &&
      (status = find_or_fail (store, contact_query, &contact)) != CLI_EXIT_OK)
    return status;

  before = all ? G_MAXINT64 : sotto_store_days_ago ((guint)days);
  sotto_store_purge_async (store, contact, before, include_queued, NULL, cli_result_cb, &result);
  if (!sotto_store_purge_finish (store, cli_wait (&result), &deleted, &error))
    return cli_fail (error);

  g_print ("deleted: %u\n", deleted);
  return CLI_EXIT_OK;
}

/* protect --------------------------------------------------------------------- */

static int
cmd_protect (CliEnv  *env,
             int      argc,
             char   **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *new_file = NULL;
  gboolean keyring = FALSE;
  gboolean ask = FALSE;
  char *passphrase = NULL;
  int status = CLI_EXIT_OK;
  gboolean ok;
  const GOptionEntry entries[] = {
    { "keyring", 0, 0, G_OPTION_ARG_NONE, &keyring,
      N_("Keep the history key in the login keyring"), NULL },
    { "new-passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &new_file,
      N_("Protect the history key with the passphrase in FILE"), N_("FILE") },
    { "ask-passphrase", 0, 0, G_OPTION_ARG_NONE, &ask,
      N_("Protect the history key with a new passphrase asked on the terminal"), NULL },
    { NULL }
  };

  if (!parse_command ("protect", "--keyring | --new-passphrase-file FILE | --ask-passphrase",
                      entries, &argc, &argv, &status) ||
      !expect_args ("protect", argc, 0, &status))
    return status;

  if ((keyring ? 1 : 0) + (new_file != NULL ? 1 : 0) + (ask ? 1 : 0) != 1)
    return cli_usage_error (_("“protect” needs one of --keyring, --new-passphrase-file "
                              "or --ask-passphrase"));

  if (env->forwarded && ask)
    return cli_usage_error (_("Sotto is running with this profile and can’t ask for a "
                              "passphrase here: use --new-passphrase-file"));

  /* The new passphrase first: nothing is opened before the command is
   * known to be complete. */
  if (!keyring)
    {
      passphrase = cli_read_passphrase (new_file, _("New passphrase: "), TRUE, &error);
      if (passphrase == NULL)
        return cli_fail (error);
    }

  if ((status = open_or_fail (env, &store)) != CLI_EXIT_OK)
    {
      cli_passphrase_free (passphrase);
      return status;
    }

  /* Only the key is wrapped anew; no message is rewritten. */
  sotto_store_set_key_protection_async (store,
                                        keyring ? SOTTO_KEY_PROTECTION_KEYRING
                                                : SOTTO_KEY_PROTECTION_PASSPHRASE,
                                        passphrase, 0, 0, NULL, cli_result_cb, &result);
  ok = sotto_store_set_key_protection_finish (store, cli_wait (&result), &error);
  cli_passphrase_free (passphrase);
  if (!ok)
    return cli_fail (error);

  g_print ("protection: %s\n", keyring ? "keyring" : "passphrase");
  return CLI_EXIT_OK;
}

/* profile --------------------------------------------------------------------- */

static int
cmd_profile (CliEnv  *env,
             int      argc,
             char   **argv)
{
  int status = CLI_EXIT_OK;

  if (!parse_command ("profile", "", NULL, &argc, &argv, &status) ||
      !expect_args ("profile", argc, 0, &status))
    return status;

  g_print ("profile: %s\n", sotto_context_get_profile (env->context));
  g_print ("directory: %s\n", sotto_context_get_profile_dir (env->context));

  return CLI_EXIT_OK;
}

static const CliCommand commands[] = {
  { "init", "--name NAME", N_("Create the profile: a new identity and an empty history"), cmd_init },
  { "invite", "", N_("Print your invite, for colleagues to add you"), cmd_invite },
  { "fingerprint", "[CONTACT]", N_("Print your fingerprint, or the safety number with a contact"),
    cmd_fingerprint },
  { "add", "INVITE", N_("Add a contact from their invite"), cmd_add },
  { "contacts", "", N_("List your contacts"), cmd_contacts },
  { "remove", "CONTACT", N_("Remove a contact and your conversation with them"), cmd_remove },
  { "block", "CONTACT", N_("Block a contact"), cmd_block },
  { "unblock", "CONTACT", N_("Unblock a contact"), cmd_unblock },
  { "verify", "CONTACT", N_("Mark a contact as verified, after comparing safety numbers"),
    cmd_verify },
  { "send", "CONTACT TEXT",
    N_("Send a message: at once if Sotto is running, else when it next runs"), cmd_send },
  { "retry", "CONTACT",
    N_("Send again the messages to a contact that were not delivered within a week"),
    cmd_retry },
  { "history", "CONTACT", N_("Show the newest messages with a contact"), cmd_history },
  { "search", "TEXT", N_("Find messages containing TEXT, ignoring case and accents"), cmd_search },
  { "purge", "--older-than DAYS | --all", N_("Delete messages for good"), cmd_purge },
  { "protect", "--keyring | --new-passphrase-file FILE",
    N_("Move the history key to the keyring or under a new passphrase"), cmd_protect },
  { "profile", "", N_("Show the profile’s name and where it keeps its data"), cmd_profile },
  { "run", "[--port N] [--json]",
    N_("Connect to contacts and deliver messages until interrupted, reading commands from stdin"),
    cli_run },
};

const CliCommand *
cli_commands (guint *n_commands)
{
  *n_commands = G_N_ELEMENTS (commands);
  return commands;
}

const CliCommand *
cli_find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];

  return NULL;
}
