/* sotto-context-files.c — the commands about links and files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `sotto-cli check-link`, `check-file`, `send-file`, `files`,
 * `accept-file`, `decline-file` and `cancel-file`, run on a context like
 * every one-shot command (sotto-context-commands.c): what they print is
 * what the app shows, from the same core calls.
 */
#define G_LOG_DOMAIN "sotto-context"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <json-glib/json-glib.h>
#include <glib/gi18n-lib.h>

#include "sotto-command-private.h"
#include "sotto-context-private.h"
#include "sotto-error.h"
#include "sotto-file-guard.h"
#include "sotto-file-transfer.h"
#include "sotto-link-guard.h"
#include "sotto-peer-service.h"
#include "sotto-scanner.h"
#include "sotto-store.h"
#include "sotto-text.h"
#include "sotto-time.h"

/* check-link ------------------------------------------------------------------ */

static const char *
severity_to_string (SottoLinkSeverity severity)
{
  switch (severity)
    {
    case SOTTO_LINK_FATAL:
      return "block";
    case SOTTO_LINK_SUSPECT:
      return "suspect";
    case SOTTO_LINK_NOTE:
    default:
      return "note";
    }
}

static void
add_nullable_string (JsonBuilder *builder,
                     const char  *name,
                     const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_finding_json (JsonBuilder *builder,
                  const char  *id,
                  const char  *severity,
                  const char  *text)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  json_builder_set_member_name (builder, "severity");
  json_builder_add_string_value (builder, severity);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
}

/* Ends @builder's object and prints it. */
static void
print_json_object (SottoCommand *command,
                   JsonBuilder  *builder)
{
  g_autoptr (JsonNode) root = NULL;

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  _sotto_command_print_json (command, root);
}

int
_sotto_context_cmd_check_link (SottoContext  *self,
                SottoCommand  *command,
                int            argc,
                char         **argv)
{
  g_autoptr (SottoLinkVerdict) verdict = NULL;
  g_autofree char *from = NULL;
  gboolean json = FALSE;
  int status = SOTTO_EXIT_OK;
  SottoLinkSender sender = SOTTO_LINK_SENDER_VERIFIED;
  const GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &from,
      N_("Who sent it: verified (the default), unverified or stranger"), "WHO" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  if (!_sotto_command_parse (command, "check-link", "URL [--from WHO] [--json]", entries, &argc,
                             &argv, &status) ||
      !_sotto_command_expect_args (command, "check-link", argc, 1, &status))
    return status;

  if (from == NULL || g_str_equal (from, "verified"))
    sender = SOTTO_LINK_SENDER_VERIFIED;
  else if (g_str_equal (from, "unverified"))
    sender = SOTTO_LINK_SENDER_UNVERIFIED;
  else if (g_str_equal (from, "stranger"))
    sender = SOTTO_LINK_SENDER_STRANGER;
  else
    {
      g_autofree char *message = g_strdup_printf (_("--from takes verified, unverified or "
                                                    "stranger, not “%s”"), from);

      return _sotto_command_usage_error (command, message);
    }
  if (!g_utf8_validate (argv[1], -1, NULL))
    return _sotto_command_usage_error (command, _("The link is not valid UTF-8 text"));

  verdict = sotto_context_check_link (self, argv[1], sender);

  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "verdict");
      json_builder_add_string_value (builder, sotto_link_action_to_string (verdict->action));
      json_builder_set_member_name (builder, "findings");
      json_builder_begin_array (builder);
      for (guint i = 0; i < verdict->findings->len; i++)
        {
          const SottoLinkFinding *finding = g_ptr_array_index (verdict->findings, i);

          add_finding_json (builder, finding->id, severity_to_string (finding->severity),
                            finding->text);
        }
      json_builder_end_array (builder);
      add_nullable_string (builder, "link", verdict->link);
      add_nullable_string (builder, "shown", verdict->shown);
      add_nullable_string (builder, "uri", verdict->uri);
      add_nullable_string (builder, "scheme", verdict->scheme);
      add_nullable_string (builder, "host", verdict->host);
      add_nullable_string (builder, "host_ascii", verdict->host_ascii);
      add_nullable_string (builder, "registrable_domain", verdict->registrable_domain);
      json_builder_set_member_name (builder, "port");
      if (verdict->port >= 0)
        json_builder_add_int_value (builder, verdict->port);
      else
        json_builder_add_null_value (builder);
      print_json_object (command, builder);
      return SOTTO_EXIT_OK;
    }

  _sotto_command_print (command, "verdict: %s\n", sotto_link_action_to_string (verdict->action));
  _sotto_command_print (command, "link: %s\n", verdict->shown);
  if (verdict->host != NULL)
    {
      if (verdict->host_ascii != NULL && !g_str_equal (verdict->host, verdict->host_ascii))
        _sotto_command_print (command, "site: %s (%s)\n", verdict->host, verdict->host_ascii);
      else
        _sotto_command_print (command, "site: %s\n", verdict->host);
    }
  if (verdict->registrable_domain != NULL)
    _sotto_command_print (command, "domain: %s\n", verdict->registrable_domain);
  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoLinkFinding *finding = g_ptr_array_index (verdict->findings, i);

      _sotto_command_print (command, "%s (%s): %s\n", finding->id,
                            severity_to_string (finding->severity), finding->text);
    }

  return SOTTO_EXIT_OK;
}

/* check-file ------------------------------------------------------------------ */

static const char *
file_severity_to_string (SottoFileSeverity severity)
{
  switch (severity)
    {
    case SOTTO_FILE_INFECTED:
      return "infected";
    case SOTTO_FILE_RUNS:
      return "runs";
    case SOTTO_FILE_SUSPECT:
      return "suspect";
    case SOTTO_FILE_NOTE:
    default:
      return "note";
    }
}

/* A file verdict's findings, as "findings": [...]. */
static void
add_file_findings (JsonBuilder            *builder,
                   const SottoFileVerdict *verdict)
{
  json_builder_set_member_name (builder, "findings");
  json_builder_begin_array (builder);
  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoFileFinding *finding = g_ptr_array_index (verdict->findings, i);

      add_finding_json (builder, finding->id, file_severity_to_string (finding->severity),
                        finding->text);
    }
  json_builder_end_array (builder);
}

int
_sotto_context_cmd_check_file (SottoContext  *self,
                SottoCommand  *command,
                int            argc,
                char         **argv)
{
  g_autoptr (SottoFileVerdict) verdict = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *scan_command = NULL;
  gboolean json = FALSE;
  gboolean no_scan = FALSE;
  int status = SOTTO_EXIT_OK;
  SottoScanResult scan = SOTTO_SCAN_NOT_SCANNED;
  GSettings *settings;
  const GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name,
      N_("The name the sender gave the file (default: its own)"), "NAME" },
    { "no-scan", 0, 0, G_OPTION_ARG_NONE, &no_scan, N_("Don’t run the virus scanner"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  if (!_sotto_command_parse (command, "check-file", "PATH [--name NAME] [--no-scan] [--json]",
                             entries, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "check-file", argc, 1, &status))
    return status;

  path = _sotto_command_resolve_path (command, argv[1]);
  settings = sotto_context_get_settings (self);
  if (settings != NULL)
    scan_command = g_settings_get_string (settings, "scan-command");

  if (!no_scan)
    {
      sotto_scanner_scan_async (scan_command, path, NULL, _sotto_context_result_cb, &result);
      scan = sotto_scanner_scan_finish (_sotto_context_wait_for (&result), &detail, &error);
      if (error != NULL)
        g_debug ("scan failed: %s", error->message);
    }

  g_clear_error (&error);
  verdict = sotto_file_guard_check_path (path, name, scan, detail, &error);
  if (verdict == NULL)
    {
      return _sotto_command_fail (command, error);
    }

  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "verdict");
      json_builder_add_string_value (builder, sotto_file_action_to_string (verdict->action));
      add_file_findings (builder, verdict);
      add_nullable_string (builder, "name", verdict->name);
      add_nullable_string (builder, "safe_name", verdict->safe_name);
      add_nullable_string (builder, "kind", verdict->kind);
      add_nullable_string (builder, "sniffed_type", verdict->sniffed_type);
      add_nullable_string (builder, "declared_type", verdict->declared_type);
      add_nullable_string (builder, "scan", sotto_scan_result_to_string (scan));
      add_nullable_string (builder, "scan_detail", detail);
      print_json_object (command, builder);
      return SOTTO_EXIT_OK;
    }

  _sotto_command_print (command, "verdict: %s\n", sotto_file_action_to_string (verdict->action));
  _sotto_command_print (command, "name: %s\n", verdict->shown_name);
  _sotto_command_print (command, "saved as: %s\n", verdict->safe_name);
  _sotto_command_print (command, "content: %s (%s)\n", verdict->kind, verdict->sniffed_type);
  _sotto_command_print (command, "scan: %s%s%s\n", sotto_scan_result_to_string (scan),
                        detail != NULL ? ": " : "", detail != NULL ? detail : "");
  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoFileFinding *finding = g_ptr_array_index (verdict->findings, i);

      _sotto_command_print (command, "%s (%s): %s\n", finding->id,
                            file_severity_to_string (finding->severity), finding->text);
    }

  return SOTTO_EXIT_OK;
}

/* -------------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------------- */

static const char *
scan_to_json (SottoTransfer *transfer)
{
  if (sotto_transfer_get_direction (transfer) != SOTTO_DIRECTION_IN ||
      (sotto_transfer_get_state (transfer) != SOTTO_TRANSFER_DONE &&
       sotto_transfer_get_state (transfer) != SOTTO_TRANSFER_INFECTED))
    return NULL;
  switch (sotto_transfer_get_scan (transfer))
    {
    case SOTTO_SCAN_CLEAN:
      return "clean";
    case SOTTO_SCAN_INFECTED:
      return "infected";
    case SOTTO_SCAN_NOT_SCANNED:
    case SOTTO_SCAN_FAILED:
    default:
      return "not-scanned";
    }
}

/* The members of a transfer, as `files --json` prints them. */
static void
add_transfer_members (JsonBuilder   *builder,
                      SottoStore    *store,
                      SottoTransfer *transfer)
{
  SottoContact *contact = sotto_store_get_contact_by_id (store,
                                                         sotto_transfer_get_contact_id (transfer));
  g_autoptr (SottoFileVerdict) verdict = sotto_transfer_check (transfer);
  g_autofree char *id = sotto_transfer_dup_uid_hex (transfer);
  g_autofree char *offered = sotto_time_format_iso8601 (sotto_transfer_get_offered (transfer));
  char hash[SOTTO_FILE_HASH_LEN * 2 + 1];
  gboolean cancelled = sotto_transfer_get_state (transfer) == SOTTO_TRANSFER_CANCELLED;
  g_autofree char *saved = sotto_transfer_get_direction (transfer) == SOTTO_DIRECTION_IN &&
                           sotto_transfer_get_path (transfer) != NULL
                           ? g_path_get_basename (sotto_transfer_get_path (transfer)) : NULL;

  sodium_bin2hex (hash, sizeof hash, sotto_transfer_get_hash (transfer), SOTTO_FILE_HASH_LEN);
  add_nullable_string (builder, "id", id);
  add_nullable_string (builder, "contact", contact != NULL ? sotto_contact_get_name (contact) : NULL);
  add_nullable_string (builder, "direction",
                       sotto_transfer_get_direction (transfer) == SOTTO_DIRECTION_IN ? "in" : "out");
  add_nullable_string (builder, "state",
                       sotto_transfer_state_to_string (sotto_transfer_get_state (transfer)));
  add_nullable_string (builder, "reason",
                       cancelled ? sotto_file_cancel_reason_to_string (
                                     sotto_transfer_get_reason (transfer)) : NULL);
  add_nullable_string (builder, "by",
                       !cancelled ? NULL
                       : sotto_transfer_get_ended_by_peer (transfer) ? "contact" : "you");
  add_nullable_string (builder, "name", sotto_transfer_get_name (transfer));
  /* Received: the name it was saved under, " (2)" and all. */
  add_nullable_string (builder, "safe_name", saved != NULL ? saved : verdict->safe_name);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, (gint64)sotto_transfer_get_size (transfer));
  json_builder_set_member_name (builder, "progress");
  json_builder_add_int_value (builder, (gint64)sotto_transfer_get_progress (transfer));
  add_nullable_string (builder, "declared_type", sotto_transfer_get_declared_type (transfer));
  add_nullable_string (builder, "sniffed_type", verdict->sniffed_type);
  add_nullable_string (builder, "hash", hash);
  add_nullable_string (builder, "offered", offered);
  add_nullable_string (builder, "path", sotto_transfer_get_path (transfer));
  add_nullable_string (builder, "scan", scan_to_json (transfer));
  add_nullable_string (builder, "verdict", sotto_file_action_to_string (verdict->action));
  add_file_findings (builder, verdict);
}

static void
print_transfer_line (SottoCommand  *command,
                     SottoStore    *store,
                     SottoTransfer *transfer)
{
  SottoContact *contact = sotto_store_get_contact_by_id (store,
                                                         sotto_transfer_get_contact_id (transfer));
  g_autofree char *shown = sotto_transfer_dup_shown_name (transfer);
  g_autofree char *id = sotto_transfer_dup_uid_hex (transfer);
  g_autofree char *size = g_format_size (sotto_transfer_get_size (transfer));
  g_autofree char *state = sotto_transfer_dup_description (transfer);
  gboolean in = sotto_transfer_get_direction (transfer) == SOTTO_DIRECTION_IN;

  /* TRANSLATORS: one file transfer: its id, "from" or "to" a contact,
   * the name, the size and where it stands */
  _sotto_command_print (command, _("%s  %s %s  “%s” (%s)  %s\n"), id,
                        in ? _("from") : _("to"),
                        contact != NULL ? sotto_contact_get_name (contact) : "?",
                        shown, size, state);
}

/* The profile's transfers, loaded with it. */
static SottoFileTransfer *
files_of (SottoContext *self)
{
  return sotto_peer_service_get_files (self->service);
}

int
_sotto_context_cmd_send_file (SottoContext  *self,
               SottoCommand  *command,
               int            argc,
               char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoTransfer) transfer = NULL;
  g_autoptr (SottoFileVerdict) verdict = NULL;
  g_autoptr (GAsyncResult) checked = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  gboolean yes = FALSE;
  gboolean json = FALSE;
  gboolean ask_sender = FALSE;
  int status = SOTTO_EXIT_OK;
  const GOptionEntry entries[] = {
    { "yes", 0, 0, G_OPTION_ARG_NONE, &yes,
      N_("Send it even if it is a program"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  if (!_sotto_command_parse (command, "send-file", "CONTACT PATH [--yes] [--json]", entries,
                             &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "send-file", argc, 2, &status) ||
      (status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK ||
      (status = _sotto_context_find_or_fail (command, store, argv[1], &contact)) != SOTTO_EXIT_OK)
    return status;

  path = _sotto_command_resolve_path (command, argv[2]);
  sotto_file_guard_check_outgoing_async (path, NULL, _sotto_context_result_cb, &checked);
  verdict = sotto_file_guard_check_outgoing_finish (_sotto_context_wait_for (&checked), &ask_sender, &error);
  if (verdict == NULL)
    return _sotto_command_fail (command, error);
  if (ask_sender && !yes)
    {
      g_autofree char *message =
        g_strdup_printf (_("“%s” is a program or could run one (%s): your contact will only be "
                           "able to show it in its folder. Add --yes to send it anyway."),
                         verdict->shown_name, verdict->kind);

      g_set_error_literal (&error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED, message);
      return _sotto_command_fail (command, error);
    }

  sotto_file_transfer_offer_async (files_of (self), contact, path, NULL, _sotto_context_result_cb, &result);
  transfer = sotto_file_transfer_offer_finish (files_of (self), _sotto_context_wait_for (&result), &error);
  if (transfer == NULL)
    return _sotto_command_fail (command, error);

  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      add_transfer_members (builder, store, transfer);
      print_json_object (command, builder);
    }
  else
    {
      g_autofree char *id = sotto_transfer_dup_uid_hex (transfer);

      _sotto_command_print (command, "queued: %s\n", id);
    }
  return SOTTO_EXIT_OK;
}

int
_sotto_context_cmd_files (SottoContext  *self,
           SottoCommand  *command,
           int            argc,
           char         **argv)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GPtrArray) transfers = NULL;
  gboolean json = FALSE;
  int status = SOTTO_EXIT_OK;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  if (!_sotto_command_parse (command, "files", "[CONTACT] [--json]", entries, &argc, &argv,
                             &status) ||
      (status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK)
    return status;
  if (argc > 2)
    return _sotto_command_usage_error (command, _("Give at most one contact"));
  if (argc == 2 && (status = _sotto_context_find_or_fail (command, store, argv[1], &contact)) != SOTTO_EXIT_OK)
    return status;

  transfers = sotto_file_transfer_list (files_of (self), contact);
  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < transfers->len; i++)
        {
          json_builder_begin_object (builder);
          add_transfer_members (builder, store, g_ptr_array_index (transfers, i));
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      _sotto_command_print_json (command, root);
      return SOTTO_EXIT_OK;
    }

  for (guint i = 0; i < transfers->len; i++)
    print_transfer_line (command, store, g_ptr_array_index (transfers, i));
  return SOTTO_EXIT_OK;
}

typedef enum
{
  ANSWER_ACCEPT,
  ANSWER_DECLINE,
  ANSWER_CANCEL,
} Answer;

static int
answer_file (SottoContext  *self,
             SottoCommand  *command,
             int            argc,
             char         **argv,
             Answer         answer)
{
  static const char * const names[] = { "accept-file", "decline-file", "cancel-file" };
  static const char * const done[] = { "accepted", "declined", "cancelled" };
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoTransfer) transfer = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *to = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *id = NULL;
  int status = SOTTO_EXIT_OK;
  const GOptionEntry accept_entries[] = {
    { "to", 0, 0, G_OPTION_ARG_FILENAME, &to,
      N_("Save it in this folder instead of the download folder"), "DIR" },
    { NULL }
  };
  const GOptionEntry no_entries[] = { { NULL } };

  if (!_sotto_command_parse (command, names[answer], answer == ANSWER_ACCEPT ? "ID [--to DIR]" : "ID",
                             answer == ANSWER_ACCEPT ? accept_entries : no_entries,
                             &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, names[answer], argc, 1, &status) ||
      (status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK)
    return status;

  transfer = sotto_file_transfer_find (files_of (self), argv[1], &error);
  if (transfer == NULL)
    return _sotto_command_fail (command, error);

  switch (answer)
    {
    case ANSWER_ACCEPT:
      if (to != NULL)
        {
          folder = _sotto_command_resolve_path (command, to);
          if (!g_file_test (folder, G_FILE_TEST_IS_DIR))
            {
              g_set_error (&error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("“%s” is not a folder"), folder);
              return _sotto_command_fail (command, error);
            }
        }
      sotto_file_transfer_accept_async (files_of (self), transfer, folder, NULL, _sotto_context_result_cb, &result);
      break;
    case ANSWER_DECLINE:
      sotto_file_transfer_decline_async (files_of (self), transfer, NULL, _sotto_context_result_cb, &result);
      break;
    case ANSWER_CANCEL:
    default:
      sotto_file_transfer_cancel_async (files_of (self), transfer, NULL, _sotto_context_result_cb, &result);
      break;
    }
  if (!sotto_file_transfer_change_finish (files_of (self), _sotto_context_wait_for (&result), &error))
    return _sotto_command_fail (command, error);

  id = sotto_transfer_dup_uid_hex (transfer);
  _sotto_command_print (command, "%s: %s\n", done[answer], id);
  return SOTTO_EXIT_OK;
}

int
_sotto_context_cmd_accept_file (SottoContext *self, SottoCommand *command, int argc, char **argv)
{
  return answer_file (self, command, argc, argv, ANSWER_ACCEPT);
}

int
_sotto_context_cmd_decline_file (SottoContext *self, SottoCommand *command, int argc, char **argv)
{
  return answer_file (self, command, argc, argv, ANSWER_DECLINE);
}

int
_sotto_context_cmd_cancel_file (SottoContext *self, SottoCommand *command, int argc, char **argv)
{
  return answer_file (self, command, argc, argv, ANSWER_CANCEL);
}

