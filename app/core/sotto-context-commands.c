/* sotto-context-commands.c — the one-shot commands, run on a context
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `sotto-cli contacts`, `send`, `history` and the rest are carried out
 * here, whoever asked: sotto-cli in a process of its own, or the process
 * holding the profile (the app or `sotto-cli run`) for a command handed
 * over through its control socket (sotto_context_start() serves it). One
 * path, so that every rule holds for both front ends. Each command parses
 * its own arguments (SottoCommand), calls the core and prints into the
 * command's output. Output labels are not translated (scripts read them);
 * messages to people are.
 */
#define G_LOG_DOMAIN "sotto-context"

#include "config.h"

#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <json-glib/json-glib.h>
#include <glib/gi18n-lib.h>

#include "sotto-command-private.h"
#include "sotto-contact.h"
#include "sotto-context-private.h"
#include "sotto-error.h"
#include "sotto-identity.h"
#include "sotto-invite.h"
#include "sotto-message.h"
#include "sotto-peer-service.h"
#include "sotto-store.h"
#include "sotto-text.h"
#include "sotto-time.h"

/* Local time for people, UTC ISO 8601 for scripts. */
static char *
format_time (gint64   usec,
             gboolean iso)
{
  g_autoptr (GDateTime) utc = NULL;
  g_autoptr (GDateTime) local = NULL;

  if (iso)
    return sotto_time_format_iso8601 (usec);

  utc = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
  if (utc == NULL)
    return g_strdup ("?");
  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%Y-%m-%d %H:%M");
}

/* -------------------------------------------------------------------------
 * Waiting: commands run to the end, one step after the other
 * ------------------------------------------------------------------------- */

void
_sotto_context_result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
  g_main_context_wakeup (NULL);
}

GAsyncResult *
_sotto_context_wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static gboolean
open_with (SottoContext  *context,
           const char    *passphrase,
           GError       **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_context_open_async (context, passphrase, NULL, _sotto_context_result_cb, &result);
  return sotto_context_open_finish (context, _sotto_context_wait_for (&result), error);
}

/**
 * sotto_context_open_interactive:
 * @self: a #SottoContext whose profile is not open yet
 * @passphrase_file: (nullable): where the passphrase is, if it has one
 * @ask: (nullable): how to ask for it otherwise
 *
 * Opens the profile, as sotto_context_open_async() does, and asks for the
 * passphrase only if the profile has one. Blocks, iterating the thread's
 * default main context: for command-line front ends.
 */
gboolean
sotto_context_open_interactive (SottoContext            *self,
                                const char              *passphrase_file,
                                SottoAskPassphraseFunc   ask,
                                gpointer                 ask_data,
                                GError                 **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *prompt = NULL;
  g_autofree char *cwd = g_get_current_dir ();
  char *passphrase;
  gboolean opened;

  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), FALSE);

  if (open_with (self, NULL, &local_error))
    return TRUE;
  if (!g_error_matches (local_error, SOTTO_ERROR, SOTTO_ERROR_NEEDS_PASSPHRASE))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  prompt = g_strdup_printf (_("Passphrase for profile “%s”: "),
                            self->profile);
  passphrase = _sotto_passphrase_obtain (passphrase_file, cwd, ask, ask_data, prompt, FALSE,
                                         error);
  if (passphrase == NULL)
    return FALSE;

  opened = open_with (self, passphrase, error);
  sotto_passphrase_free (passphrase);

  return opened;
}

static gboolean
open_profile (SottoCommand  *command,
                             SottoContext  *self,
                             GError       **error)
{
  SottoAskPassphraseFunc ask = NULL;
  gpointer ask_data = NULL;

  _sotto_command_get_ask (command, &ask, &ask_data);
  return sotto_context_open_interactive (self, _sotto_command_get_passphrase_file (command), ask,
                                         ask_data, error);
}

/* The profile's store, opened if this process does not have it open yet
 * (and then with retention applied and old messages given up on, as
 * sotto_context_open_async() does for every front end). */
int
_sotto_context_open_or_fail (SottoContext  *self,
              SottoCommand  *command,
              SottoStore   **store)
{
  g_autoptr (GError) error = NULL;

  if (self->store == NULL &&
      !open_profile (command, self, &error))
    return _sotto_command_fail (command, error);

  *store = g_object_ref (self->store);
  return SOTTO_EXIT_OK;
}

int
_sotto_context_find_or_fail (SottoCommand  *command,
              SottoStore    *store,
              const char    *query,
              SottoContact **contact)
{
  g_autoptr (GError) error = NULL;

  *contact = sotto_store_find_contact (store, query, &error);
  if (*contact == NULL)
    return _sotto_command_fail (command, error);

  g_object_ref (*contact);
  return SOTTO_EXIT_OK;
}

/* The peer service, when this process runs the profile: a message then
 * leaves at once. */
static SottoPeerService *
running_service (SottoContext *self)
{
  return self->running ? self->service : NULL;
}

/* init ------------------------------------------------------------------ */

static int
cmd_init (SottoContext  *self,
          SottoCommand  *command,
          int            argc,
          char         **argv)
{
  g_autofree char *name = NULL;
  g_autofree char *passphrase_file = NULL;
  gboolean ask = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  SottoStore *store;
  g_autofree char *fingerprint = NULL;
  char *passphrase = NULL;
  gboolean created;
  SottoKeyProtection protection = SOTTO_KEY_PROTECTION_KEYRING;
  int status = SOTTO_EXIT_OK;
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

  if (!_sotto_command_parse (command, "init", "--name NAME", entries, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "init", argc, 0, &status))
    return status;

  if (name == NULL)
    return _sotto_command_usage_error (command, _("“init” needs --name"));

  if (passphrase_file == NULL)
    passphrase_file = g_strdup (_sotto_command_get_passphrase_file (command));

  if (passphrase_file != NULL || ask)
    {
      protection = SOTTO_KEY_PROTECTION_PASSPHRASE;
      passphrase = _sotto_command_read_passphrase (command, passphrase_file, _("New passphrase: "), TRUE, &error);
      if (passphrase == NULL)
        return _sotto_command_fail (command, error);
    }

  sotto_context_create_async (self, name, protection, passphrase, NULL,
                              _sotto_context_result_cb, &result);
  created = sotto_context_create_finish (self, _sotto_context_wait_for (&result), &error);
  sotto_passphrase_free (passphrase);
  if (!created)
    return _sotto_command_fail (command, error);
  store = sotto_context_get_store (self);

  fingerprint = sotto_identity_dup_fingerprint (sotto_store_get_identity (store));
  _sotto_command_print (command, "profile: %s\n", sotto_context_get_profile (self));
  _sotto_command_print (command, "directory: %s\n", sotto_context_get_profile_dir (self));
  _sotto_command_print (command, "name: %s\n", sotto_identity_get_display_name (sotto_store_get_identity (store)));
  _sotto_command_print (command, "fingerprint: %s\n", fingerprint);
  _sotto_command_print (command, "protection: %s\n",
           protection == SOTTO_KEY_PROTECTION_KEYRING ? "keyring" : "passphrase");

  return SOTTO_EXIT_OK;
}

/* invite, fingerprint ------------------------------------------------------- */

static int
cmd_invite (SottoContext  *self,
            SottoCommand  *command,
            int            argc,
            char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) addresses = NULL;
  g_autofree char *invite = NULL;
  int status = SOTTO_EXIT_OK;
  const GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &addresses,
      N_("Tell colleagues to connect to HOST:PORT instead of this computer’s own addresses "
         "(may be given several times)"), N_("HOST:PORT") },
    { NULL }
  };

  if (!_sotto_command_parse (command, "invite", "[--address HOST:PORT…]", entries, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "invite", argc, 0, &status))
    return status;

  if (addresses != NULL)
    {
      if (g_strv_length (addresses) > SOTTO_INVITE_MAX_ADDRESSES)
        {
          g_autofree char *message = g_strdup_printf (_("An invite holds at most %d addresses"),
                                                      SOTTO_INVITE_MAX_ADDRESSES);
          return _sotto_command_usage_error (command, message);
        }
      for (guint i = 0; addresses[i] != NULL; i++)
        if (!sotto_invite_address_validate (addresses[i], &error))
          return _sotto_command_usage_error (command, error->message);
    }

  if ((status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK)
    return status;

  /* Without --address: this computer's addresses and the port the profile
   * listens on, or will. */
  if (addresses != NULL)
    {
      g_autoptr (SottoInvite) own = NULL;

      own = sotto_invite_new_for_identity (sotto_store_get_identity (store),
                                           (const char * const *)addresses, &error);
      if (own != NULL)
        invite = sotto_invite_to_uri (own);
    }
  else
    invite = sotto_context_dup_invite (self, &error);
  if (invite == NULL)
    return _sotto_command_fail (command, error);

  _sotto_command_print (command, "%s\n", invite);
  return SOTTO_EXIT_OK;
}

static int
cmd_fingerprint (SottoContext  *self,
                 SottoCommand  *command,
                 int            argc,
                 char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autofree char *text = NULL;
  int status = SOTTO_EXIT_OK;

  if (!_sotto_command_parse (command, "fingerprint", "[CONTACT]", NULL, &argc, &argv, &status))
    return status;
  if (argc > 2)
    return _sotto_command_usage_error (command, _("“fingerprint” has too many arguments"));
  if ((status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK)
    return status;

  if (argc == 1)
    {
      text = sotto_identity_dup_fingerprint (sotto_store_get_identity (store));
      _sotto_command_print (command, "%s\n", text);
      return SOTTO_EXIT_OK;
    }

  if ((status = _sotto_context_find_or_fail (command, store, argv[1], &contact)) != SOTTO_EXIT_OK)
    return status;

  /* The same number on both sides: read it out to each other. For a key
   * that changed, the number of the new key: the one that `verify` takes. */
  text = sotto_safety_number (sotto_identity_get_public_key (sotto_store_get_identity (store)),
                              sotto_contact_get_offered_key (contact) != NULL
                              ? sotto_contact_get_offered_key (contact)
                              : sotto_contact_get_public_key (contact));
  _sotto_command_print (command, "%s\n", text);

  return SOTTO_EXIT_OK;
}

/* contacts ------------------------------------------------------------------ */

static JsonNode *
contact_to_json (SottoContact *contact)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *fingerprint = sotto_contact_dup_fingerprint (contact);
  g_autofree char *key = sotto_key_to_hex (sotto_contact_get_public_key (contact));
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
cmd_contacts (SottoContext  *self,
              SottoCommand  *command,
              int            argc,
              char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  gboolean json = FALSE;
  int status = SOTTO_EXIT_OK;
  GListModel *contacts;
  guint n;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  if (!_sotto_command_parse (command, "contacts", "[--json]", entries, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "contacts", argc, 0, &status) ||
      (status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK)
    return status;

  contacts = sotto_store_get_contacts (store);
  n = g_list_model_get_n_items (contacts);
  _sotto_command_note_damaged (command, 0, sotto_store_get_n_damaged_contacts (store));

  if (json)
    {
      g_autoptr (JsonArray) array = json_array_new ();

      for (guint i = 0; i < n; i++)
        {
          g_autoptr (SottoContact) contact = g_list_model_get_item (contacts, i);
          json_array_add_element (array, contact_to_json (contact));
        }
      _sotto_command_print_json_array (command, array);
      return SOTTO_EXIT_OK;
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (contacts, i);
      g_autofree char *fingerprint = sotto_contact_dup_fingerprint (contact);

      _sotto_command_print (command, "%s\t%s\t%s%s\n", sotto_contact_get_name (contact), fingerprint,
               sotto_verification_to_string (sotto_contact_get_verification (contact)),
               sotto_contact_get_blocked (contact) ? "\tblocked" : "");
    }

  return SOTTO_EXIT_OK;
}

/* add, remove, block, unblock, verify ---------------------------------------- */

/* What to tell someone about to add a second contact for the same person. */
static char *
dup_match_message (SottoContact      *contact,
                   SottoContactMatch  match)
{
  const char *name = sotto_contact_get_name (contact);

  if (match & SOTTO_CONTACT_MATCH_KEY)
    return g_strdup_printf (_("This invite is from “%s”, already one of your contacts: "
                              "“sotto-cli add --update INVITE” takes its name and addresses "
                              "for that contact"), name);

  return g_strdup_printf (_("You already have a contact called “%s”, with another key. If "
                            "they set Sotto up again, “sotto-cli add --update INVITE” gives "
                            "that contact the new key and keeps your conversation; to add "
                            "someone else of the same name, use --new"), name);
}

static int
cmd_add (SottoContext  *self,
         SottoCommand  *command,
         int            argc,
         char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *alias = NULL;
  g_autofree char *fingerprint = NULL;
  gboolean update = FALSE;
  gboolean second = FALSE;
  SottoContactMatch match = SOTTO_CONTACT_MATCH_NONE;
  SottoContact *existing;
  int status = SOTTO_EXIT_OK;
  const GOptionEntry entries[] = {
    { "alias", 0, 0, G_OPTION_ARG_STRING, &alias,
      N_("Call the contact NAME instead of the name in the invite"), N_("NAME") },
    { "update", 0, 0, G_OPTION_ARG_NONE, &update,
      N_("Update the contact with this invite’s key or name instead of adding a second one"),
      NULL },
    { "new", 0, 0, G_OPTION_ARG_NONE, &second,
      N_("Add a new contact even if one has the invite’s name"), NULL },
    { NULL }
  };

  if (!_sotto_command_parse (command, "add", "INVITE [--alias NAME] [--update | --new]", entries,
                             &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "add", argc, 1, &status))
    return status;

  if (update && (second || alias != NULL))
    return _sotto_command_usage_error (command, _("--update goes with neither --new nor --alias"));

  /* A bad invite is a usage error, before the profile is even opened. */
  invite = sotto_invite_parse (argv[1], &error);
  if (invite == NULL)
    return _sotto_command_usage_error (command, error->message);

  if ((status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK)
    return status;

  /* The same person twice would split the conversation in two. (Our own
   * invite is refused for what it is, whatever its name.) */
  if (sodium_memcmp (invite->public_key,
                     sotto_identity_get_public_key (sotto_store_get_identity (store)),
                     SOTTO_KEY_LEN) == 0)
    existing = NULL;
  else
    existing = sotto_store_match_invite (store, invite, &match);
  if (update)
    {
      gboolean new_key;

      if (existing == NULL)
        {
          g_set_error_literal (&error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND,
                               _("No contact has this invite’s key or name: add it without "
                                 "--update"));
          return _sotto_command_fail (command, error);
        }

      contact = g_object_ref (existing);
      new_key = sodium_memcmp (sotto_contact_get_public_key (contact), invite->public_key,
                               SOTTO_KEY_LEN) != 0;
      sotto_store_update_contact_from_invite_async (store, contact, invite, NULL, _sotto_context_result_cb,
                                                    &result);
      if (!sotto_store_update_contact_finish (store, _sotto_context_wait_for (&result), &error))
        return _sotto_command_fail (command, error);

      fingerprint = sotto_contact_dup_fingerprint (contact);
      _sotto_command_print (command, "updated: %s\n", sotto_contact_get_name (contact));
      _sotto_command_print (command, "fingerprint: %s\n", fingerprint);
      if (new_key)
        _sotto_command_print (command, "key: new, %s\n",
                              sotto_verification_to_string (sotto_contact_get_verification (contact)));
      return SOTTO_EXIT_OK;
    }

  if (existing != NULL && ((match & SOTTO_CONTACT_MATCH_KEY) || !second))
    {
      g_autofree char *message = dup_match_message (existing, match);

      g_set_error_literal (&error, SOTTO_ERROR, SOTTO_ERROR_EXISTS, message);
      return _sotto_command_fail (command, error);
    }

  sotto_store_add_contact_async (store, invite, alias, NULL, _sotto_context_result_cb, &result);
  contact = sotto_store_add_contact_finish (store, _sotto_context_wait_for (&result), &error);
  if (contact == NULL)
    return _sotto_command_fail (command, error);

  fingerprint = sotto_contact_dup_fingerprint (contact);
  _sotto_command_print (command, "added: %s\n", sotto_contact_get_name (contact));
  _sotto_command_print (command, "fingerprint: %s\n", fingerprint);

  return SOTTO_EXIT_OK;
}

static int
cmd_remove (SottoContext  *self,
            SottoCommand  *command,
            int            argc,
            char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  int status = SOTTO_EXIT_OK;

  if (!_sotto_command_parse (command, "remove", "CONTACT", NULL, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "remove", argc, 1, &status) ||
      (status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK ||
      (status = _sotto_context_find_or_fail (command, store, argv[1], &contact)) != SOTTO_EXIT_OK)
    return status;

  sotto_store_remove_contact_async (store, contact, NULL, _sotto_context_result_cb, &result);
  if (!sotto_store_remove_contact_finish (store, _sotto_context_wait_for (&result), &error))
    return _sotto_command_fail (command, error);

  _sotto_command_print (command, "removed: %s\n", sotto_contact_get_name (contact));
  return SOTTO_EXIT_OK;
}

/* block, unblock and verify differ only in what they change. */
static int
update_one (SottoContext  *self,
            SottoCommand  *command,
            const char    *name,
            int            argc,
            char         **argv,
            int            blocked,
            int            verification,
            const char    *done)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  int status = SOTTO_EXIT_OK;

  if (!_sotto_command_parse (command, name, "CONTACT", NULL, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, name, argc, 1, &status) ||
      (status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK ||
      (status = _sotto_context_find_or_fail (command, store, argv[1], &contact)) != SOTTO_EXIT_OK)
    return status;

  sotto_store_update_contact_async (store, contact, NULL, blocked, verification,
                                    NULL, _sotto_context_result_cb, &result);
  if (!sotto_store_update_contact_finish (store, _sotto_context_wait_for (&result), &error))
    return _sotto_command_fail (command, error);

  _sotto_command_print (command, "%s: %s\n", done, sotto_contact_get_name (contact));
  return SOTTO_EXIT_OK;
}

static int
cmd_block (SottoContext *self, SottoCommand *command, int argc, char **argv)
{
  return update_one (self, command, "block", argc, argv, 1, -1, "blocked");
}

static int
cmd_unblock (SottoContext *self, SottoCommand *command, int argc, char **argv)
{
  return update_one (self, command, "unblock", argc, argv, 0, -1, "unblocked");
}

/* For a contact whose key changed, verifying is accepting the key their
 * address now answers with: that is the one whose safety number the user
 * compares. --key says which key the user compared, to the digit. */
static int
cmd_verify (SottoContext  *self,
            SottoCommand  *command,
            int            argc,
            char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *key_text = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *safety_number = NULL;
  const guint8 *own;
  const guint8 *key;
  gboolean changed;
  int status = SOTTO_EXIT_OK;
  const GOptionEntry entries[] = {
    { "key", 0, 0, G_OPTION_ARG_STRING, &key_text,
      N_("Verify only if the contact’s key (for a changed key, the new one) has this "
         "fingerprint"), N_("FINGERPRINT") },
    { NULL }
  };

  if (!_sotto_command_parse (command, "verify", "CONTACT [--key FINGERPRINT]", entries, &argc,
                             &argv, &status) ||
      !_sotto_command_expect_args (command, "verify", argc, 1, &status) ||
      (status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK ||
      (status = _sotto_context_find_or_fail (command, store, argv[1], &contact)) != SOTTO_EXIT_OK)
    return status;

  changed = sotto_contact_get_verification (contact) == SOTTO_VERIFICATION_KEY_CHANGED;
  key = changed ? sotto_contact_get_offered_key (contact) : sotto_contact_get_public_key (contact);
  if (key == NULL)
    {
      g_autofree char *message =
        g_strdup_printf (_("The key of “%s” changed, but the new key was not kept: ask them for "
                           "their new invite and add it with “sotto-cli add --update INVITE”"),
                         sotto_contact_get_name (contact));

      g_set_error_literal (&error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND, message);
      return _sotto_command_fail (command, error);
    }

  fingerprint = sotto_fingerprint_for_key (key);
  if (key_text != NULL)
    {
      gboolean matches = sotto_fingerprint_matches_key (key_text, key, &error);

      if (error != NULL)
        return _sotto_command_usage_error (command, error->message);
      if (!matches)
        {
          g_autofree char *message = NULL;

          if (changed)
            message = g_strdup_printf (_("“%s” now answers with the key %s, not the one given: "
                                         "nothing changed"),
                                       sotto_contact_get_name (contact), fingerprint);
          else
            message = g_strdup_printf (_("The key of “%s” is %s, not the one given: nothing "
                                         "changed"),
                                       sotto_contact_get_name (contact), fingerprint);
          return _sotto_command_usage_error (command, message);
        }
    }

  if (!changed)
    {
      sotto_store_update_contact_async (store, contact, NULL, -1, SOTTO_VERIFICATION_VERIFIED,
                                        NULL, _sotto_context_result_cb, &result);
      if (!sotto_store_update_contact_finish (store, _sotto_context_wait_for (&result), &error))
        return _sotto_command_fail (command, error);

      _sotto_command_print (command, "verified: %s\n", sotto_contact_get_name (contact));
      return SOTTO_EXIT_OK;
    }

  /* Said before it is done: the user sees which key they accepted. */
  own = sotto_identity_get_public_key (sotto_store_get_identity (store));
  safety_number = sotto_safety_number (own, key);
  _sotto_command_print (command, "new-key: %s\n", fingerprint);
  _sotto_command_print (command, "safety-number: %s\n", safety_number);

  sotto_store_accept_contact_key_async (store, contact, key, SOTTO_VERIFICATION_VERIFIED, NULL,
                                        _sotto_context_result_cb, &result);
  if (!sotto_store_accept_contact_key_finish (store, _sotto_context_wait_for (&result), &error))
    return _sotto_command_fail (command, error);

  _sotto_command_print (command, "verified: %s\n", sotto_contact_get_name (contact));
  return SOTTO_EXIT_OK;
}

/* history ------------------------------------------------------------------- */

static JsonNode *
message_to_json (SottoMessage *message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *uid = sotto_message_dup_uid_hex (message);
  g_autofree char *sent = format_time (sotto_message_get_sent (message), TRUE);

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
      g_autofree char *received = format_time (sotto_message_get_received (message), TRUE);
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
print_message (SottoCommand *command,
               const char   *sender,
               SottoMessage *message)
{
  g_autofree char *when = format_time (sotto_message_get_sent (message), FALSE);
  g_autofree char *body = sotto_terminal_text (sotto_message_get_body (message), FALSE);
  g_autofree char *name = sotto_terminal_text (sender, TRUE);
  g_auto (GStrv) lines = g_strsplit (body, "\n", -1);
  gboolean out = sotto_message_get_direction (message) == SOTTO_DIRECTION_OUT;
  SottoMessageState state = sotto_message_get_state (message);

  _sotto_command_print (command, "%s <%s>", when, out ? "me" : name);
  for (guint i = 0; lines[i] != NULL; i++)
    _sotto_command_print (command, "%s%s\n", i == 0 ? " " : "    ", lines[i]);
  if (out && state == SOTTO_MESSAGE_FAILED)
    _sotto_command_print (command, "    (not sent)\n");
  else if (out && state != SOTTO_MESSAGE_DELIVERED && state != SOTTO_MESSAGE_READ)
    _sotto_command_print (command, "    (%s)\n", sotto_message_state_to_string (state));
}

static int
cmd_history (SottoContext  *self,
             SottoCommand  *command,
             int            argc,
             char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoGroup) group = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *limit_text = NULL;
  guint64 limit = 20;
  gboolean json = FALSE;
  guint n_damaged = 0;
  int status = SOTTO_EXIT_OK;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "limit", 0, 0, G_OPTION_ARG_STRING, &limit_text,
      N_("Show the newest N messages (default 20)"), N_("N") },
    { NULL }
  };

  if (!_sotto_command_parse (command, "history", "CONTACT|GROUP [--json] [--limit N]", entries, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "history", argc, 1, &status))
    return status;

  if (limit_text != NULL &&
      !g_ascii_string_to_unsigned (limit_text, 10, 1, SOTTO_HISTORY_PAGE_MAX, &limit, NULL))
    {
      g_autofree char *message = g_strdup_printf (_("--limit must be a number from 1 to %d"),
                                                  SOTTO_HISTORY_PAGE_MAX);
      return _sotto_command_usage_error (command, message);
    }

  if ((status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK ||
      (status = _sotto_context_find_target_or_fail (command, store, argv[1], &contact,
                                                    &group)) != SOTTO_EXIT_OK)
    return status;

  if (group != NULL)
    sotto_store_group_history_async (store, group, 0, (guint)limit, NULL, _sotto_context_result_cb,
                                     &result);
  else
    sotto_store_history_async (store, contact, 0, (guint)limit, NULL, _sotto_context_result_cb,
                               &result);
  page = sotto_store_history_finish_full (store, _sotto_context_wait_for (&result), &n_damaged, &error);
  if (page == NULL)
    return _sotto_command_fail (command, error);
  _sotto_command_note_damaged (command, n_damaged, 0);

  if (json)
    {
      g_autoptr (JsonArray) array = json_array_new ();

      for (guint i = 0; i < page->len; i++)
        {
          SottoMessage *message = g_ptr_array_index (page, i);
          JsonNode *node = message_to_json (message);

          /* In a group: which one, and who wrote each (null: the user). */
          if (group != NULL)
            {
              JsonObject *object = json_node_get_object (node);
              g_autofree char *gid = sotto_group_dup_gid_hex (group);

              json_object_set_string_member (object, "group", gid);
              if (sotto_message_get_direction (message) == SOTTO_DIRECTION_IN)
                {
                  g_autofree char *sender = _sotto_context_dup_sender_name (store, message);

                  json_object_set_string_member (object, "sender", sender);
                }
              else
                json_object_set_null_member (object, "sender");
            }
          json_array_add_element (array, node);
        }
      _sotto_command_print_json_array (command, array);
      return SOTTO_EXIT_OK;
    }

  for (guint i = 0; i < page->len; i++)
    {
      SottoMessage *message = g_ptr_array_index (page, i);
      g_autofree char *sender = group != NULL ? _sotto_context_dup_sender_name (store, message)
                                              : g_strdup (sotto_contact_get_name (contact));

      print_message (command, sender, message);
    }

  return SOTTO_EXIT_OK;
}

/* send ---------------------------------------------------------------------- */

static int
cmd_send (SottoContext  *self,
          SottoCommand  *command,
          int            argc,
          char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoGroup) group = NULL;
  g_autoptr (SottoMessage) message = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *uid = NULL;
  SottoPeerService *service = running_service (self);
  int status = SOTTO_EXIT_OK;

  if (!_sotto_command_parse (command, "send", "CONTACT|GROUP TEXT", NULL, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "send", argc, 2, &status))
    return status;

  if (!sotto_message_body_validate (argv[2], &error))
    return _sotto_command_usage_error (command, error->message);

  if ((status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK ||
      (status = _sotto_context_find_target_or_fail (command, store, argv[1], &contact,
                                                    &group)) != SOTTO_EXIT_OK)
    return status;

  /* In the running process the message leaves at once; otherwise the
   * next process to run the profile delivers it. */
  if (group != NULL)
    {
      sotto_peer_service_send_group_async (self->service, group, argv[2], NULL,
                                           _sotto_context_result_cb, &result);
      message = sotto_peer_service_send_group_finish (self->service,
                                                      _sotto_context_wait_for (&result), &error);
    }
  else if (service != NULL)
    {
      sotto_peer_service_send_async (service, contact, argv[2], NULL, _sotto_context_result_cb, &result);
      message = sotto_peer_service_send_finish (service, _sotto_context_wait_for (&result), &error);
    }
  else
    {
      sotto_store_queue_message_async (store, contact, argv[2], NULL, _sotto_context_result_cb, &result);
      message = sotto_store_queue_message_finish (store, _sotto_context_wait_for (&result), &error);
    }
  if (message == NULL)
    return _sotto_command_fail (command, error);

  uid = sotto_message_dup_uid_hex (message);
  _sotto_command_print (command, "queued: %s\n", uid);
  return SOTTO_EXIT_OK;
}

/* retry --------------------------------------------------------------------- */

static int
cmd_retry (SottoContext  *self,
           SottoCommand  *command,
           int            argc,
           char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) failed = NULL;
  g_autoptr (GError) error = NULL;
  SottoPeerService *service = running_service (self);
  int status = SOTTO_EXIT_OK;

  if (!_sotto_command_parse (command, "retry", "CONTACT", NULL, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "retry", argc, 1, &status) ||
      (status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK ||
      (status = _sotto_context_find_or_fail (command, store, argv[1], &contact)) != SOTTO_EXIT_OK)
    return status;

  sotto_store_list_failed_async (store, contact, NULL, _sotto_context_result_cb, &result);
  failed = sotto_store_list_failed_finish (store, _sotto_context_wait_for (&result), &error);
  if (failed == NULL)
    return _sotto_command_fail (command, error);

  /* Oldest first, one after the other: in the running process each leaves
   * at once, in the order they were written; otherwise the next process
   * to run the profile sends them. */
  for (guint i = 0; i < failed->len; i++)
    {
      SottoMessage *message = g_ptr_array_index (failed, i);
      g_autoptr (GAsyncResult) retried = NULL;
      gboolean ok;

      if (service != NULL)
        {
          sotto_peer_service_retry_async (service, message, NULL, _sotto_context_result_cb, &retried);
          ok = sotto_peer_service_retry_finish (service, _sotto_context_wait_for (&retried), &error);
        }
      else
        {
          sotto_store_retry_message_async (store, message, NULL, _sotto_context_result_cb, &retried);
          ok = sotto_store_retry_message_finish (store, _sotto_context_wait_for (&retried), &error);
        }
      if (!ok)
        {
          _sotto_command_print (command, "retried: %u\n", i);
          return _sotto_command_fail (command, error);
        }
    }

  _sotto_command_print (command, "retried: %u\n", failed->len);
  return SOTTO_EXIT_OK;
}

/* search, purge ---------------------------------------------------------------- */

typedef struct
{
  SottoCommand *command;
  gboolean      json;
  JsonArray    *array;
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
          _sotto_command_print (output->command, "[%s] ", sotto_contact_get_name (contact));
          print_message (output->command, sotto_contact_get_name (contact), message);
        }
    }
}

static int
cmd_search (SottoContext  *self,
            SottoCommand  *command,
            int            argc,
            char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) array = json_array_new ();
  g_autofree char *contact_query = NULL;
  SearchOutput output = { command, FALSE, array };
  guint n = 0;
  guint n_damaged = 0;
  int status = SOTTO_EXIT_OK;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &output.json, N_("Print JSON"), NULL },
    { "contact", 0, 0, G_OPTION_ARG_STRING, &contact_query,
      N_("Search only the conversation with CONTACT"), N_("CONTACT") },
    { NULL }
  };

  if (!_sotto_command_parse (command, "search", "TEXT [--contact CONTACT] [--json]", entries, &argc, &argv,
                      &status) ||
      !_sotto_command_expect_args (command, "search", argc, 1, &status))
    return status;

  /* Said as such: the store would only say the length is wrong. */
  if (!g_utf8_validate (argv[1], -1, NULL))
    return _sotto_command_usage_error (command, _("The search text is not valid UTF-8: check "
                                                  "the terminal’s character encoding"));

  if ((status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK)
    return status;

  if (contact_query != NULL &&
      (status = _sotto_context_find_or_fail (command, store, contact_query, &contact)) != SOTTO_EXIT_OK)
    return status;

  sotto_store_search_async (store, contact, argv[1], on_search_matches_cb, &output,
                            NULL, _sotto_context_result_cb, &result);
  if (!sotto_store_search_finish_full (store, _sotto_context_wait_for (&result), &n, &n_damaged, &error))
    return _sotto_command_fail (command, error);
  _sotto_command_note_damaged (command, n_damaged, 0);

  if (output.json)
    _sotto_command_print_json_array (command, array);

  return SOTTO_EXIT_OK;
}

static int
cmd_purge (SottoContext  *self,
           SottoCommand  *command,
           int            argc,
           char         **argv)
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
  int status = SOTTO_EXIT_OK;
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

  if (!_sotto_command_parse (command, "purge", "--older-than DAYS | --all", entries, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "purge", argc, 0, &status))
    return status;

  if (all == (days_text != NULL))
    return _sotto_command_usage_error (command, _("“purge” needs either --older-than DAYS or --all"));

  if (days_text != NULL &&
      !g_ascii_string_to_unsigned (days_text, 10, 0, 36500, &days, NULL))
    return _sotto_command_usage_error (command, _("--older-than must be a number of days from 0 to 36500"));

  if ((status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK)
    return status;
  if (contact_query != NULL &&
      (status = _sotto_context_find_or_fail (command, store, contact_query, &contact)) != SOTTO_EXIT_OK)
    return status;

  before = all ? G_MAXINT64 : sotto_store_days_ago ((guint)days);
  sotto_store_purge_async (store, contact, before, include_queued, NULL, _sotto_context_result_cb, &result);
  if (!sotto_store_purge_finish (store, _sotto_context_wait_for (&result), &deleted, &error))
    return _sotto_command_fail (command, error);

  _sotto_command_print (command, "deleted: %u\n", deleted);
  return SOTTO_EXIT_OK;
}

/* protect --------------------------------------------------------------------- */

/* The current passphrase of a profile protected by one, for
 * sotto_context_protect_async() to check: from --passphrase-file, the
 * global one, or asked. *current stays NULL for a key in the keyring. */
static int
read_current_passphrase (SottoCommand  *command,
                         SottoStore    *store,
                         const char    *current_file,
                         char         **current)
{
  g_autoptr (GError) error = NULL;

  *current = NULL;
  if (sotto_store_get_key_protection (store) != SOTTO_KEY_PROTECTION_PASSPHRASE)
    return SOTTO_EXIT_OK;

  if (current_file == NULL)
    current_file = _sotto_command_get_passphrase_file (command);
  if (current_file == NULL && !_sotto_command_can_ask (command))
    {
      g_set_error_literal (&error, SOTTO_ERROR, SOTTO_ERROR_NEEDS_PASSPHRASE,
                           _("“protect” needs the current passphrase: give it with "
                             "--passphrase-file FILE"));
      return _sotto_command_fail (command, error);
    }
  *current = _sotto_command_read_passphrase (command, current_file, _("Current passphrase: "),
                                             FALSE, &error);
  if (*current == NULL)
    return _sotto_command_fail (command, error);
  return SOTTO_EXIT_OK;
}

static int
cmd_protect (SottoContext  *self,
             SottoCommand  *command,
             int            argc,
             char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *new_file = NULL;
  g_autofree char *current_file = NULL;
  gboolean keyring = FALSE;
  gboolean ask = FALSE;
  gboolean was_open = self->store != NULL;
  SottoKeyProtection protection;
  char *passphrase = NULL;
  int status = SOTTO_EXIT_OK;
  gboolean ok;
  const GOptionEntry entries[] = {
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &current_file,
      N_("The current passphrase is in FILE (for a profile protected by one)"), N_("FILE") },
    { "keyring", 0, 0, G_OPTION_ARG_NONE, &keyring,
      N_("Keep the history key in the login keyring"), NULL },
    { "new-passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &new_file,
      N_("Protect the history key with the passphrase in FILE"), N_("FILE") },
    { "ask-passphrase", 0, 0, G_OPTION_ARG_NONE, &ask,
      N_("Protect the history key with a new passphrase asked on the terminal"), NULL },
    { NULL }
  };

  if (!_sotto_command_parse (command, "protect",
                             "[--passphrase-file FILE] --keyring | --new-passphrase-file FILE | "
                             "--ask-passphrase",
                      entries, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "protect", argc, 0, &status))
    return status;

  if ((keyring ? 1 : 0) + (new_file != NULL ? 1 : 0) + (ask ? 1 : 0) != 1)
    return _sotto_command_usage_error (command, _("“protect” needs one of --keyring, --new-passphrase-file "
                              "or --ask-passphrase"));

  if (!_sotto_command_can_ask (command) && ask)
    return _sotto_command_usage_error (command, _("Sotto is running with this profile and can’t ask for a "
                              "passphrase here: use --new-passphrase-file"));

  protection = keyring ? SOTTO_KEY_PROTECTION_KEYRING : SOTTO_KEY_PROTECTION_PASSPHRASE;

  /* The new passphrase first: nothing is opened before the command is
   * known to be complete. */
  if (!keyring)
    {
      passphrase = _sotto_command_read_passphrase (command, new_file, _("New passphrase: "), TRUE, &error);
      if (passphrase == NULL)
        return _sotto_command_fail (command, error);
    }

  if ((status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK)
    {
      sotto_passphrase_free (passphrase);
      return status;
    }

  /* Only the key is wrapped anew; no message is rewritten. Opening here
   * proved that whoever asks holds what protects the key; a profile that
   * was open (a command handed to the app or `run`) proves it now, as the
   * app's dialog does. */
  if (was_open)
    {
      char *current = NULL;

      if ((status = read_current_passphrase (command, store, current_file, &current)) !=
          SOTTO_EXIT_OK)
        {
          sotto_passphrase_free (passphrase);
          return status;
        }
      sotto_context_protect_async (self, current, protection, passphrase, NULL, _sotto_context_result_cb,
                                   &result);
      ok = sotto_context_protect_finish (self, _sotto_context_wait_for (&result), &error);
      sotto_passphrase_free (current);
    }
  else
    {
      sotto_store_set_key_protection_async (store, protection, passphrase, 0, 0, NULL,
                                            _sotto_context_result_cb, &result);
      ok = sotto_store_set_key_protection_finish (store, _sotto_context_wait_for (&result), &error);
    }
  sotto_passphrase_free (passphrase);
  if (!ok)
    return _sotto_command_fail (command, error);

  _sotto_command_print (command, "protection: %s\n", keyring ? "keyring" : "passphrase");
  return SOTTO_EXIT_OK;
}

/* profile --------------------------------------------------------------------- */

static int
cmd_profile (SottoContext  *self,
             SottoCommand  *command,
             int            argc,
             char         **argv)
{
  int status = SOTTO_EXIT_OK;

  if (!_sotto_command_parse (command, "profile", "", NULL, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "profile", argc, 0, &status))
    return status;

  _sotto_command_print (command, "profile: %s\n", sotto_context_get_profile (self));
  _sotto_command_print (command, "directory: %s\n", sotto_context_get_profile_dir (self));

  return SOTTO_EXIT_OK;
}

/* policy ---------------------------------------------------------------------- */

static int
cmd_policy (SottoContext  *self,
            SottoCommand  *command,
            int            argc,
            char         **argv)
{
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  gboolean json = FALSE;
  int status = SOTTO_EXIT_OK;
  const GOptionEntry options[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  if (!_sotto_command_parse (command, "policy", "[--json]", options, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "policy", argc, 0, &status))
    return status;
  if (!_sotto_context_ensure_settings (self, &error))
    return _sotto_command_fail (command, error);

  entries = sotto_policy_list (self->policy);
  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < entries->len; i++)
        {
          SottoPolicyEntry *entry = g_ptr_array_index (entries, i);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "key");
          json_builder_add_string_value (builder, entry->key);
          json_builder_set_member_name (builder, "value");
          json_builder_add_value (builder, json_gvariant_serialize (entry->value));
          json_builder_set_member_name (builder, "source");
          json_builder_add_string_value (builder, sotto_policy_source_to_string (entry->source));
          json_builder_set_member_name (builder, "locked");
          json_builder_add_boolean_value (builder, entry->locked);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      _sotto_command_print_json (command, root);
      return SOTTO_EXIT_OK;
    }

  for (guint i = 0; i < entries->len; i++)
    {
      SottoPolicyEntry *entry = g_ptr_array_index (entries, i);
      g_autofree char *value = g_variant_print (entry->value, FALSE);

      _sotto_command_print (command, "%s: %s (%s%s)\n", entry->key, value,
                            sotto_policy_source_to_string (entry->source),
                            entry->locked ? ", locked" : "");
    }
  return SOTTO_EXIT_OK;
}

static JsonNode *
log_entry_to_json (const SottoSecurityLogEntry *entry)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *first_text = sotto_time_format_iso8601 (entry->first);
  g_autofree char *last_text = sotto_time_format_iso8601 (entry->last);
  g_autofree char *text = sotto_security_log_entry_describe (entry);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, sotto_security_event_to_string (entry->kind));
  json_builder_set_member_name (builder, "subject");
  json_builder_add_string_value (builder, entry->subject);
  json_builder_set_member_name (builder, "detail");
  json_builder_add_string_value (builder, entry->detail);
  json_builder_set_member_name (builder, "count");
  json_builder_add_int_value (builder, entry->count);
  json_builder_set_member_name (builder, "first");
  json_builder_add_string_value (builder, first_text);
  json_builder_set_member_name (builder, "last");
  json_builder_add_string_value (builder, last_text);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static int
cmd_log (SottoContext  *self,
         SottoCommand  *command,
         int            argc,
         char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *limit_text = NULL;
  guint64 limit = SOTTO_SECURITY_LOG_PAGE;
  gboolean json = FALSE;
  guint n_damaged = 0;
  int status = SOTTO_EXIT_OK;
  const GOptionEntry options[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "limit", 0, 0, G_OPTION_ARG_STRING, &limit_text,
      N_("Show the newest N entries (default 200)"), N_("N") },
    { NULL }
  };

  if (!_sotto_command_parse (command, "log", "[--limit N] [--json]", options, &argc, &argv,
                             &status) ||
      !_sotto_command_expect_args (command, "log", argc, 0, &status))
    return status;
  if (limit_text != NULL &&
      !g_ascii_string_to_unsigned (limit_text, 10, 1, SOTTO_SECURITY_LOG_MAX_ENTRIES, &limit, NULL))
    {
      g_autofree char *message = g_strdup_printf (_("--limit must be a number from 1 to %d"),
                                                  SOTTO_SECURITY_LOG_MAX_ENTRIES);
      return _sotto_command_usage_error (command, message);
    }
  if ((status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK)
    return status;

  sotto_store_list_security_log_async (store, (guint)limit, NULL, _sotto_context_result_cb,
                                       &result);
  entries = sotto_store_list_security_log_finish (store, _sotto_context_wait_for (&result),
                                                  &n_damaged, &error);
  if (entries == NULL)
    return _sotto_command_fail (command, error);
  if (n_damaged > 0)
    {
      g_autofree char *note =
        g_strdup_printf (ngettext ("%u entry of the security log could not be read: it was "
                                   "changed behind Sotto’s back or damaged",
                                   "%u entries of the security log could not be read: they were "
                                   "changed behind Sotto’s back or damaged", n_damaged),
                         n_damaged);

      _sotto_command_warn (command, note);
    }

  if (json)
    {
      g_autoptr (JsonArray) array = json_array_new ();

      for (guint i = 0; i < entries->len; i++)
        json_array_add_element (array, log_entry_to_json (g_ptr_array_index (entries, i)));
      _sotto_command_print_json_array (command, array);
      return SOTTO_EXIT_OK;
    }

  for (guint i = 0; i < entries->len; i++)
    {
      SottoSecurityLogEntry *entry = g_ptr_array_index (entries, i);
      g_autoptr (GDateTime) when = g_date_time_new_from_unix_local (entry->last / G_USEC_PER_SEC);
      g_autofree char *time_text = when != NULL ? g_date_time_format (when, "%Y-%m-%d %H:%M") : NULL;
      g_autofree char *text = sotto_security_log_entry_describe (entry);

      _sotto_command_print (command, "%s  %s\n", time_text != NULL ? time_text : "?", text);
    }
  if (entries->len == 0)
    _sotto_command_print (command, "%s\n", _("The security log is empty."));
  return SOTTO_EXIT_OK;
}

/* -------------------------------------------------------------------------
 * Running one
 * ------------------------------------------------------------------------- */

typedef int (*CommandFunc) (SottoContext  *self,
                            SottoCommand  *command,
                            int            argc,
                            char         **argv);

static const struct
{
  const char  *name;
  CommandFunc  func;
} command_funcs[] = {
  { "init", cmd_init },
  { "invite", cmd_invite },
  { "fingerprint", cmd_fingerprint },
  { "add", cmd_add },
  { "contacts", cmd_contacts },
  { "remove", cmd_remove },
  { "block", cmd_block },
  { "unblock", cmd_unblock },
  { "verify", cmd_verify },
  { "send", cmd_send },
  { "retry", cmd_retry },
  { "history", cmd_history },
  { "search", cmd_search },
  { "purge", cmd_purge },
  { "protect", cmd_protect },
  { "profile", cmd_profile },
  { "policy", cmd_policy },
  { "log", cmd_log },
  { "check-link", _sotto_context_cmd_check_link },
  { "check-file", _sotto_context_cmd_check_file },
  { "send-file", _sotto_context_cmd_send_file },
  { "files", _sotto_context_cmd_files },
  { "accept-file", _sotto_context_cmd_accept_file },
  { "decline-file", _sotto_context_cmd_decline_file },
  { "cancel-file", _sotto_context_cmd_cancel_file },
  { "nearby", _sotto_context_cmd_nearby },
  { "groups", _sotto_context_cmd_groups },
  { "group", _sotto_context_cmd_group },
};

/**
 * sotto_context_execute:
 * @self: a #SottoContext, with its profile open or not (a command that
 *   needs it opens it, asking for the passphrase as @command says)
 * @command: what to run
 *
 * Runs a one-shot command to its end, iterating the thread's default main
 * context while it waits.
 *
 * Returns: its exit status (#SottoExitStatus)
 */
int
sotto_context_execute (SottoContext *self,
                       SottoCommand *command)
{
  g_autofree char **args = NULL;
  const char * const *argv;
  int argc;
  int status;

  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), SOTTO_EXIT_FAILURE);
  g_return_val_if_fail (SOTTO_IS_COMMAND (command), SOTTO_EXIT_FAILURE);

  argv = sotto_command_get_argv (command);
  for (gsize i = 0; i < G_N_ELEMENTS (command_funcs); i++)
    {
      if (!g_str_equal (command_funcs[i].name, argv[0]))
        continue;

      /* GOption shuffles the array it parses: the strings stay the
       * command's. */
      argc = (int)g_strv_length ((char **)argv);
      args = g_new0 (char *, argc + 1);
      memcpy (args, argv, sizeof (char *) * (gsize)argc);
      status = command_funcs[i].func (self, command, argc, args);
      /* What the command logged (a refusal) is on disk before the
       * process that ran it exits. */
      if (self->store != NULL)
        {
          g_autoptr (GAsyncResult) result = NULL;

          sotto_store_write_log_async (self->store, NULL, _sotto_context_result_cb, &result);
          sotto_store_write_log_finish (self->store, _sotto_context_wait_for (&result), NULL);
        }
      return status;
    }

  if (sotto_command_lookup (argv[0]) != NULL)
    {
      g_autofree char *message = g_strdup_printf (_("“%s” is not a one-shot command"), argv[0]);

      return _sotto_command_usage_error (command, message);
    }
  else
    {
      g_autofree char *message = g_strdup_printf (_("Unknown command “%s”"), argv[0]);

      return _sotto_command_usage_error (command, message);
    }
}

/* A command handed over through the control socket: run on the open
 * profile, and the caller sees what it would have seen had the command
 * run in its own process. Nothing may ask for anything here. */
void
_sotto_context_serve (SottoContext        *self,
                      SottoControlRequest *request)
{
  const char * const *argv;
  g_autoptr (SottoCommand) command = NULL;
  const char *out;
  const char *err;
  gsize out_len;
  gsize err_len;
  int status;

  g_assert (SOTTO_IS_CONTEXT (self));

  argv = sotto_control_request_get_argv (request);
  if (sotto_command_lookup (argv[0]) != NULL && !sotto_command_forwardable (argv))
    {
      g_autofree char *message = NULL;

      if (g_str_equal (argv[0], "run"))
        message = g_strdup_printf (_("sotto-cli: The profile is already running in process %d\n"),
                                   (int)getpid ());
      else
        message = g_strdup_printf (_("sotto-cli: “%s” can’t run while Sotto has the profile "
                                     "open\n"), argv[0]);
      sotto_control_request_reply (request, SOTTO_EXIT_PROFILE_IN_USE, NULL, 0,
                                   message, strlen (message));
      return;
    }

  command = sotto_command_new (argv, sotto_control_request_get_cwd (request));
  status = sotto_context_execute (self, command);
  out = sotto_command_get_output (command, &out_len);
  err = sotto_command_get_errors (command, &err_len);
  sotto_control_request_reply (request, status, out, out_len, err, err_len);
}
