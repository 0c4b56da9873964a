/* sotto-cli-run.c — `sotto-cli run`: the peer service without a window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs the profile's peer service until interrupted, prints one line per
 * event (JSON lines with --json) and reads commands from stdin, one per
 * line, so that a script can drive a peer.
 */

#define G_LOG_DOMAIN "sotto-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n.h>
#include <glib-unix.h>
#include <gio/gunixinputstream.h>
#include <json-glib/json-glib.h>

#include "sotto-cli-run.h"
#include "sotto-cli-common.h"
#include "sotto-payload.h"
#include "sotto-peer-service.h"

/* A command line on stdin: generous for a message of the largest size. */
#define RUN_LINE_MAX (SOTTO_MESSAGE_BODY_MAX + 1024)

typedef struct
{
  SottoContext      *context;
  SottoStore        *store;
  SottoPeerService  *service;
  GMainLoop         *loop;
  GDataInputStream  *input;
  GCancellable      *cancellable;
  gboolean           json;
  int                status;
  GHashTable        *progress_told;  /* transfer (unowned) → monotonic µs, as gint64* */
} Run;

/* -------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------- */

/* Prints one event: @human for people, or with --json an object of
 * "event" followed by @members (none if %NULL). */
static void
print_event (Run        *run,
             const char *event,
             const char *human,
             JsonObject *members)
{
  if (run->json)
    {
      g_autoptr (JsonObject) object = json_object_new ();
      g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
      g_autoptr (JsonGenerator) generator = json_generator_new ();
      g_autofree char *text = NULL;
      g_autoptr (GList) names = members != NULL ? json_object_get_members (members) : NULL;

      json_object_set_string_member (object, "event", event);
      for (GList *l = names; l != NULL; l = l->next)
        json_object_set_member (object, l->data,
                                json_node_copy (json_object_get_member (members, l->data)));
      json_node_set_object (root, object);
      json_generator_set_root (generator, root);
      text = json_generator_to_data (generator, NULL);
      fprintf (stdout, "%s\n", text);
    }
  else
    {
      g_autofree char *safe = sotto_terminal_text (human, TRUE);

      fprintf (stdout, "%s: %s\n", event, safe);
    }
  /* Not g_print(): while a handed-over command runs, g_print() output
   * belongs to that command. */
  fflush (stdout);
}

/* Prints one event. @human is the line for people; the JSON line carries
 * "event" and the members given as NULL-terminated name/value string
 * pairs (a NULL value prints as null). */
static void
emit (Run        *run,
      const char *event,
      const char *human,
      ...)
{
  g_autoptr (JsonObject) members = json_object_new ();
  const char *name;
  va_list args;

  va_start (args, human);
  while ((name = va_arg (args, const char *)) != NULL)
    {
      const char *value = va_arg (args, const char *);

      if (value != NULL)
        json_object_set_string_member (members, name, value);
      else
        json_object_set_null_member (members, name);
    }
  va_end (args);
  print_event (run, event, human, members);
}

static void
on_discovery_state_cb (SottoDiscovery *discovery,
                       GParamSpec     *pspec,
                       Run            *run)
{
  SottoDiscoveryState state = sotto_discovery_get_state (discovery);
  g_autofree char *message = sotto_discovery_dup_state_message (discovery);

  /* "starting" passes in a moment: said is where it ends up. */
  if (state == SOTTO_DISCOVERY_STATE_STARTING)
    return;
  emit (run, "discovery", message, "state", sotto_discovery_state_to_string (state),
        "reason", state == SOTTO_DISCOVERY_STATE_RUNNING ? NULL : message, NULL);
}

static void
on_service_changed_cb (SottoDiscovery *discovery,
                       SottoNearby    *nearby,
                       Run            *run)
{
  g_autoptr (JsonNode) object = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *addresses = NULL;
  g_autofree char *human = NULL;
  const char *name = sotto_nearby_get_name (nearby);

  /* Contacts are told as address-changed, once the handshake proved it. */
  if (sotto_nearby_get_contact_id (nearby) != 0)
    return;
  object = sotto_nearby_to_json (nearby, NULL);
  fingerprint = sotto_nearby_dup_fingerprint (nearby);
  addresses = g_strjoinv (", ", (char **)sotto_nearby_get_addresses (nearby));
  human = g_strdup_printf ("%s (%s …) at %s", name != NULL ? name : _("someone"), fingerprint,
                           addresses);
  print_event (run, "nearby", human, json_node_get_object (object));
}

static void
on_service_removed_cb (SottoDiscovery *discovery,
                       SottoNearby    *nearby,
                       Run            *run)
{
  g_autofree char *fingerprint = sotto_nearby_dup_fingerprint (nearby);

  if (sotto_nearby_get_contact_id (nearby) != 0)
    return;
  emit (run, "nearby-gone", fingerprint, "id", sotto_nearby_get_id (nearby), NULL);
}

static void
on_address_changed_cb (SottoPeerService *service,
                       SottoContact     *contact,
                       const char       *address,
                       Run              *run)
{
  g_autofree char *human = g_strdup_printf ("%s at %s", sotto_contact_get_name (contact), address);

  emit (run, "address-changed", human, "contact", sotto_contact_get_name (contact),
        "address", address, NULL);
}

static void
on_contact_online_cb (SottoPeerService *service,
                      SottoContact     *contact,
                      Run              *run)
{
  emit (run, "connected", sotto_contact_get_name (contact),
        "contact", sotto_contact_get_name (contact), NULL);
}

static void
on_contact_offline_cb (SottoPeerService *service,
                       SottoContact     *contact,
                       const GError     *reason,
                       Run              *run)
{
  g_autofree char *human = g_strdup_printf ("%s (%s)", sotto_contact_get_name (contact),
                                            reason->message);

  emit (run, "disconnected", human,
        "contact", sotto_contact_get_name (contact), "reason", reason->message, NULL);
}

static void
on_session_failed_cb (SottoPeerService *service,
                      SottoContact     *contact,
                      const GError     *reason,
                      Run              *run)
{
  const char *name = contact != NULL ? sotto_contact_get_name (contact) : NULL;
  g_autofree char *human = g_strdup_printf ("%s%s%s", name != NULL ? name : "",
                                            name != NULL ? ": " : "", reason->message);

  emit (run, "failed", human, "contact", name, "reason", reason->message, NULL);
}

static void
on_message_received_cb (SottoPeerService *service,
                        SottoContact     *contact,
                        SottoMessage     *message,
                        Run              *run)
{
  g_autofree char *uid = sotto_message_dup_uid_hex (message);
  g_autofree char *sent = sotto_time_format_iso8601 (sotto_message_get_sent (message));
  g_autofree char *human = g_strdup_printf ("%s: %s", sotto_contact_get_name (contact),
                                            sotto_message_get_body (message));

  emit (run, "message", human,
        "contact", sotto_contact_get_name (contact), "uid", uid, "sent", sent,
        "body", sotto_message_get_body (message), NULL);
}

static void
on_group_message_received_cb (SottoPeerService *service,
                              SottoGroup       *group,
                              SottoContact     *sender,
                              SottoMessage     *message,
                              Run              *run)
{
  g_autofree char *uid = sotto_message_dup_uid_hex (message);
  g_autofree char *gid = sotto_group_dup_gid_hex (group);
  g_autofree char *sent = sotto_time_format_iso8601 (sotto_message_get_sent (message));
  g_autofree char *human = g_strdup_printf ("%s in %s: %s", sotto_contact_get_name (sender),
                                            sotto_group_get_name (group),
                                            sotto_message_get_body (message));

  emit (run, "message", human,
        "contact", sotto_contact_get_name (sender), "group", gid,
        "group_name", sotto_group_get_name (group), "uid", uid, "sent", sent,
        "body", sotto_message_get_body (message), NULL);
}

static void
on_group_joined_cb (SottoPeerService *service,
                    SottoGroup       *group,
                    Run              *run)
{
  g_autofree char *gid = sotto_group_dup_gid_hex (group);

  emit (run, "group-joined", sotto_group_get_name (group),
        "group", gid, "name", sotto_group_get_name (group), NULL);
}

static void
on_group_removed_cb (SottoPeerService *service,
                     SottoGroup       *group,
                     Run              *run)
{
  g_autofree char *gid = sotto_group_dup_gid_hex (group);

  emit (run, "group-removed", sotto_group_get_name (group),
        "group", gid, "name", sotto_group_get_name (group), NULL);
}

static void
emit_member (Run        *run,
             const char *event,
             SottoGroup *group,
             const char *name)
{
  g_autofree char *gid = sotto_group_dup_gid_hex (group);
  g_autofree char *human = g_strdup_printf ("%s: %s", sotto_group_get_name (group), name);

  emit (run, event, human, "group", gid, "member", name, NULL);
}

static void
on_group_member_added_cb (SottoPeerService *service,
                          SottoGroup       *group,
                          const char       *name,
                          Run              *run)
{
  emit_member (run, "member-added", group, name);
}

static void
on_group_member_removed_cb (SottoPeerService *service,
                            SottoGroup       *group,
                            const char       *name,
                            Run              *run)
{
  emit_member (run, "member-removed", group, name);
}

/* A receipt: "delivered" or "read". */
static void
emit_receipt (Run          *run,
              const char   *event,
              SottoContact *contact,
              const char   *uid)
{
  g_autofree char *human = g_strdup_printf ("%s %s", sotto_contact_get_name (contact), uid);

  emit (run, event, human, "contact", sotto_contact_get_name (contact), "uid", uid, NULL);
}

static void
on_message_delivered_cb (SottoPeerService *service,
                         SottoContact     *contact,
                         const char       *uid,
                         Run              *run)
{
  emit_receipt (run, "delivered", contact, uid);
}

static void
on_message_read_cb (SottoPeerService *service,
                    SottoContact     *contact,
                    const char       *uid,
                    Run              *run)
{
  emit_receipt (run, "read", contact, uid);
}

/* Files: offers, answers, progress and the end, each with the transfer's
 * id and its contact. */
static const char *
transfer_contact_name (Run           *run,
                       SottoTransfer *transfer)
{
  SottoContact *contact = sotto_store_get_contact_by_id (run->store,
                                                         sotto_transfer_get_contact_id (transfer));

  return contact != NULL ? sotto_contact_get_name (contact) : "?";
}

static const char *
direction_name (SottoTransfer *transfer)
{
  return sotto_transfer_get_direction (transfer) == SOTTO_DIRECTION_IN ? "in" : "out";
}

static void
on_transfer_added_cb (SottoFileTransfer *files,
                      SottoTransfer     *transfer,
                      Run               *run)
{
  g_autoptr (SottoFileVerdict) verdict = NULL;
  g_autofree char *id = NULL;
  g_autofree char *size = NULL;
  g_autofree char *human = NULL;

  if (sotto_transfer_get_direction (transfer) != SOTTO_DIRECTION_IN)
    return;
  verdict = sotto_transfer_check (transfer);
  id = sotto_transfer_dup_uid_hex (transfer);
  size = g_strdup_printf ("%" G_GUINT64_FORMAT, sotto_transfer_get_size (transfer));
  human = g_strdup_printf ("%s: “%s” (%s bytes) %s", transfer_contact_name (run, transfer),
                           verdict->shown_name, size, id);
  emit (run, "file-offer", human, "contact", transfer_contact_name (run, transfer), "id", id,
        "name", sotto_transfer_get_name (transfer), "safe_name", verdict->safe_name,
        "size", size, "declared_type", sotto_transfer_get_declared_type (transfer),
        "sniffed_type", verdict->sniffed_type,
        "verdict", sotto_file_action_to_string (verdict->action), NULL);
}

static void
on_transfer_changed_cb (SottoFileTransfer *files,
                        SottoTransfer     *transfer,
                        Run               *run)
{
  g_autofree char *id = sotto_transfer_dup_uid_hex (transfer);
  g_autofree char *description = sotto_transfer_dup_description (transfer);
  g_autofree char *human = g_strdup_printf ("%s %s: %s", transfer_contact_name (run, transfer), id,
                                            description);
  const char *contact = transfer_contact_name (run, transfer);

  switch (sotto_transfer_get_state (transfer))
    {
    case SOTTO_TRANSFER_ACTIVE:
      if (sotto_transfer_get_direction (transfer) == SOTTO_DIRECTION_OUT)
        emit (run, "file-accepted", human, "contact", contact, "id", id, NULL);
      break;

    case SOTTO_TRANSFER_DONE:
      emit (run, "file-done", human, "contact", contact, "id", id,
            "direction", direction_name (transfer), "path",
            sotto_transfer_get_direction (transfer) == SOTTO_DIRECTION_IN
            ? sotto_transfer_get_path (transfer) : NULL,
            "scan", sotto_transfer_get_direction (transfer) == SOTTO_DIRECTION_IN
            ? (sotto_transfer_get_scan (transfer) == SOTTO_SCAN_CLEAN ? "clean" : "not-scanned")
            : NULL, NULL);
      break;

    case SOTTO_TRANSFER_INFECTED:
      emit (run, "file-infected", human, "contact", contact, "id", id,
            "direction", direction_name (transfer), NULL);
      break;

    case SOTTO_TRANSFER_CANCELLED:
      emit (run, "file-cancelled", human, "contact", contact, "id", id,
            "direction", direction_name (transfer),
            "reason", sotto_file_cancel_reason_to_string (sotto_transfer_get_reason (transfer)),
            "by", sotto_transfer_get_ended_by_peer (transfer) ? "contact" : "you", NULL);
      break;

    case SOTTO_TRANSFER_QUEUED:
    case SOTTO_TRANSFER_OFFERED:
    case SOTTO_TRANSFER_CHECKING:
    default:
      break;
    }
}

/* At most once a second per transfer, and the last one. */
static void
on_transfer_progress_cb (SottoFileTransfer *files,
                         SottoTransfer     *transfer,
                         Run               *run)
{
  gint64 now = g_get_monotonic_time ();
  gint64 *told = g_hash_table_lookup (run->progress_told, transfer);
  guint64 bytes = sotto_transfer_get_progress (transfer);
  guint64 size = sotto_transfer_get_size (transfer);
  g_autofree char *id = NULL;
  g_autofree char *bytes_text = NULL;
  g_autofree char *size_text = NULL;
  g_autofree char *human = NULL;

  if (size == 0)
    return;
  if (told != NULL && now - *told < G_USEC_PER_SEC && bytes < size)
    return;
  if (told == NULL)
    {
      told = g_new (gint64, 1);
      g_hash_table_insert (run->progress_told, g_object_ref (transfer), told);
    }
  *told = now;

  id = sotto_transfer_dup_uid_hex (transfer);
  bytes_text = g_strdup_printf ("%" G_GUINT64_FORMAT, bytes);
  size_text = g_strdup_printf ("%" G_GUINT64_FORMAT, size);
  human = g_strdup_printf ("%s %s: %s of %s bytes", transfer_contact_name (run, transfer), id,
                           bytes_text, size_text);
  emit (run, "file-progress", human, "contact", transfer_contact_name (run, transfer), "id", id,
        "direction", direction_name (transfer), "bytes", bytes_text, "size", size_text, NULL);
}

typedef struct
{
  Run    *run;
  gint64  contact_id;
  gint64  message_id;
} NotSentData;

static void
on_not_sent_found_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  NotSentData *data = user_data;
  SottoStore *store = SOTTO_STORE (object);
  SottoContact *contact = sotto_store_get_contact_by_id (store, data->contact_id);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) page = sotto_store_history_finish (store, result, &error);
  g_autofree char *uid = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_free (data);
      return;
    }
  if (page != NULL && page->len == 1 &&
      sotto_message_get_id (g_ptr_array_index (page, 0)) == data->message_id)
    uid = sotto_message_dup_uid_hex (g_ptr_array_index (page, 0));

  if (contact != NULL)
    {
      g_autofree char *human = g_strdup_printf ("%s %s", sotto_contact_get_name (contact),
                                                uid != NULL ? uid : "?");

      emit (data->run, "not-sent", human,
            "contact", sotto_contact_get_name (contact), "uid", uid, NULL);
    }
  g_free (data);
}

/* A message of ours given up on: not delivered within
 * SOTTO_OUTBOX_EXPIRY_DAYS (`retry` sends it again). */
static void
on_message_state_changed_cb (SottoStore        *store,
                             gint64             contact_id,
                             gint64             message_id,
                             SottoMessageState  state,
                             Run               *run)
{
  SottoContact *contact;
  NotSentData *data;

  if (state != SOTTO_MESSAGE_FAILED)
    return;
  contact = sotto_store_get_contact_by_id (store, contact_id);
  if (contact == NULL)
    return;

  /* Scripts know a message by its uid (`queued`, `delivered`); the
   * signal names the row: the history page of one that ends there has it. */
  data = g_new0 (NotSentData, 1);
  data->run = run;
  data->contact_id = contact_id;
  data->message_id = message_id;
  sotto_store_history_async (store, contact, message_id + 1, 1, run->cancellable,
                             on_not_sent_found_cb, data);
}

static void
on_key_changed_cb (SottoPeerService *service,
                   SottoContact     *contact,
                   GBytes           *key,
                   Run              *run)
{
  g_autofree char *fingerprint = sotto_fingerprint_for_key (g_bytes_get_data (key, NULL));
  g_autofree char *human = g_strdup_printf (_("%s’s key changed: nothing is sent to them until "
                                              "you verify them again (new fingerprint %s)"),
                                            sotto_contact_get_name (contact), fingerprint);

  emit (run, "key-changed", human,
        "contact", sotto_contact_get_name (contact), "fingerprint", fingerprint, NULL);
}

static void
on_request_received_cb (SottoPeerService *service,
                        gpointer          request_ptr,
                        Run              *run)
{
  const SottoPeerRequest *request = request_ptr;
  g_autofree char *fingerprint = sotto_fingerprint_for_key (request->public_key);
  g_autofree char *key = sotto_key_to_hex (request->public_key);
  g_autofree char *human = g_strdup_printf ("%s (%s) from %s: %s", request->display_name,
                                            fingerprint, request->address ? request->address : "?",
                                            request->intro);

  emit (run, "request", human,
        "name", request->display_name, "fingerprint", fingerprint, "key", key,
        "address", request->address, "intro", request->intro, NULL);
}

static void
on_request_pending_cb (SottoPeerService *service,
                       SottoContact     *contact,
                       Run              *run)
{
  emit (run, "request-pending", sotto_contact_get_name (contact),
        "contact", sotto_contact_get_name (contact), NULL);
}

static void
on_request_accepted_cb (SottoPeerService *service,
                        SottoContact     *contact,
                        Run              *run)
{
  emit (run, "request-accepted", sotto_contact_get_name (contact),
        "contact", sotto_contact_get_name (contact), NULL);
}

static void
on_typing_cb (SottoPeerService *service,
              SottoContact     *contact,
              gboolean          typing,
              Run              *run)
{
  g_autofree char *human = g_strdup_printf ("%s %s", sotto_contact_get_name (contact),
                                            typing ? "on" : "off");

  emit (run, "typing", human, "contact", sotto_contact_get_name (contact),
        "typing", typing ? "on" : "off", NULL);
}

static void
on_presence_cb (SottoPeerService *service,
                SottoContact     *contact,
                guint             presence,
                Run              *run)
{
  const char *state = presence == 2 ? "away" : "available";
  g_autofree char *human = g_strdup_printf ("%s %s", sotto_contact_get_name (contact), state);

  emit (run, "presence", human, "contact", sotto_contact_get_name (contact),
        "presence", state, NULL);
}

/* -------------------------------------------------------------------------
 * Commands from stdin
 * ------------------------------------------------------------------------- */

static void
fail_command (Run        *run,
              const char *message)
{
  emit (run, "error", message, "message", message, NULL);
}

/* Splits "WORD REST" or "\"TWO WORDS\" REST". */
static gboolean
split_argument (const char  *line,
                char       **out_first,
                const char **out_rest)
{
  const char *p = line;
  const char *end;

  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == '\0')
    return FALSE;

  if (*p == '"')
    {
      end = strchr (p + 1, '"');
      if (end == NULL)
        return FALSE;
      *out_first = g_strndup (p + 1, (gsize)(end - p - 1));
      end++;
    }
  else
    {
      end = p + strcspn (p, " \t");
      *out_first = g_strndup (p, (gsize)(end - p));
    }
  while (*end == ' ' || *end == '\t')
    end++;
  *out_rest = end;
  return TRUE;
}

typedef struct
{
  Run  *run;
  char *contact_name;
} SendData;

static void
on_sent_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  SendData *data = user_data;
  g_autoptr (SottoMessage) message = NULL;
  g_autoptr (GError) error = NULL;

  message = sotto_peer_service_send_finish (SOTTO_PEER_SERVICE (object), result, &error);
  if (message == NULL)
    fail_command (data->run, error->message);
  else
    {
      g_autofree char *uid = sotto_message_dup_uid_hex (message);
      g_autofree char *human = g_strdup_printf ("%s %s", data->contact_name, uid);

      emit (data->run, "queued", human, "contact", data->contact_name, "uid", uid, NULL);
    }
  g_free (data->contact_name);
  g_free (data);
}

static void
command_send (Run        *run,
              const char *args)
{
  g_autofree char *query = NULL;
  g_autoptr (GError) error = NULL;
  SottoContact *contact;
  const char *text = NULL;
  SendData *data;

  if (!split_argument (args, &query, &text) || text[0] == '\0')
    {
      fail_command (run, _("Usage: send CONTACT TEXT"));
      return;
    }
  if (!sotto_message_body_validate (text, &error))
    {
      fail_command (run, error->message);
      return;
    }
  contact = sotto_store_find_contact (run->store, query, &error);
  if (contact == NULL)
    {
      fail_command (run, error->message);
      return;
    }

  data = g_new0 (SendData, 1);
  data->run = run;
  data->contact_name = g_strdup (sotto_contact_get_name (contact));
  sotto_peer_service_send_async (run->service, contact, text, NULL, on_sent_cb, data);
}

/* A request by the start of its key (hex) or its exact display name. */
static SottoPeerRequest *
find_request (Run        *run,
              const char *query,
              GError    **error)
{
  g_autoptr (GPtrArray) requests = sotto_peer_service_list_requests (run->service);
  SottoPeerRequest *found = NULL;
  guint matches = 0;

  for (guint i = 0; i < requests->len; i++)
    {
      SottoPeerRequest *request = g_ptr_array_index (requests, i);
      g_autofree char *key = sotto_key_to_hex (request->public_key);

      if (g_str_equal (request->display_name, query) ||
          (strlen (query) >= 8 && g_str_has_prefix (key, query)))
        {
          matches++;
          found = request;
        }
    }

  if (matches == 1)
    {
      SottoPeerRequest *copy = g_new0 (SottoPeerRequest, 1);

      memcpy (copy->public_key, found->public_key, sizeof copy->public_key);
      copy->display_name = g_strdup (found->display_name);
      return copy;
    }

  g_set_error (error, SOTTO_ERROR, matches == 0 ? SOTTO_ERROR_NOT_FOUND : SOTTO_ERROR_INVALID_ARGUMENT,
               matches == 0 ? _("No contact request matches “%s”")
                            : _("Several contact requests match “%s”: give more of the key"),
               query);
  return NULL;
}

static void
on_accepted_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;

  contact = sotto_peer_service_accept_request_finish (SOTTO_PEER_SERVICE (object), result, &error);
  if (contact == NULL)
    fail_command (run, error->message);
  else
    emit (run, "added", sotto_contact_get_name (contact),
          "contact", sotto_contact_get_name (contact), NULL);
}

static void
on_blocked_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;

  if (!sotto_peer_service_block_request_finish (SOTTO_PEER_SERVICE (object), result, &error))
    fail_command (run, error->message);
  else
    emit (run, "blocked", "", NULL);
}

typedef enum
{
  REQUEST_ACCEPT,
  REQUEST_IGNORE,
  REQUEST_BLOCK,
} RequestAction;

static void
command_request (Run           *run,
                 const char    *args,
                 RequestAction  action)
{
  g_autoptr (SottoPeerRequest) request = NULL;
  g_autofree char *query = NULL;
  g_autoptr (GError) error = NULL;
  const char *alias = NULL;

  if (!split_argument (args, &query, &alias))
    {
      fail_command (run, action == REQUEST_ACCEPT ? _("Usage: accept REQUEST [ALIAS]")
                         : action == REQUEST_IGNORE ? _("Usage: ignore REQUEST")
                         : _("Usage: block REQUEST"));
      return;
    }
  request = find_request (run, query, &error);
  if (request == NULL)
    {
      fail_command (run, error->message);
      return;
    }

  switch (action)
    {
    case REQUEST_ACCEPT:
      sotto_peer_service_accept_request_async (run->service, request->public_key,
                                               alias[0] != '\0' ? alias : NULL, NULL,
                                               on_accepted_cb, run);
      break;
    case REQUEST_IGNORE:
      sotto_peer_service_ignore_request (run->service, request->public_key);
      emit (run, "ignored", request->display_name, "name", request->display_name, NULL);
      break;
    case REQUEST_BLOCK:
      sotto_peer_service_block_request_async (run->service, request->public_key, NULL,
                                              on_blocked_cb, run);
      break;
    }
}

static void
command_requests (Run *run)
{
  g_autoptr (GPtrArray) requests = sotto_peer_service_list_requests (run->service);
  g_autofree char *count = NULL;

  for (guint i = 0; i < requests->len; i++)
    on_request_received_cb (run->service, g_ptr_array_index (requests, i), run);
  count = g_strdup_printf ("%u", requests->len);
  emit (run, "requests", count, "count", count, NULL);
}

static void
command_contacts (Run *run)
{
  GListModel *contacts = sotto_store_get_contacts (run->store);
  guint n = g_list_model_get_n_items (contacts);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (contacts, i);
      gboolean online = sotto_peer_service_is_online (run->service, contact);
      const char *state = sotto_contact_get_blocked (contact) ? "blocked"
                          : online ? "online" : "offline";
      g_autofree char *human = g_strdup_printf ("%s %s", sotto_contact_get_name (contact), state);

      emit (run, "contact", human, "contact", sotto_contact_get_name (contact),
            "state", state, NULL);
    }
}

static void
command_typing (Run        *run,
                const char *args)
{
  g_autofree char *query = NULL;
  g_autoptr (GError) error = NULL;
  SottoContact *contact;
  const char *state = NULL;

  if (!split_argument (args, &query, &state) ||
      (!g_str_equal (state, "on") && !g_str_equal (state, "off")))
    {
      fail_command (run, _("Usage: typing CONTACT on|off"));
      return;
    }
  contact = sotto_store_find_contact (run->store, query, &error);
  if (contact == NULL)
    {
      fail_command (run, error->message);
      return;
    }
  sotto_peer_service_send_typing (run->service, contact, g_str_equal (state, "on"));
}

static void
command_connect (Run        *run,
                 const char *args)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *query = NULL;
  const char *rest = NULL;
  SottoContact *contact;

  /* A name with spaces in double quotes, as for send and typing; the
   * whole rest of the line without them. */
  while (*args == ' ' || *args == '\t')
    args++;
  if (*args != '"')
    query = g_strstrip (g_strdup (args));
  else if (!split_argument (args, &query, &rest) || rest[0] != '\0')
    {
      fail_command (run, _("Usage: connect CONTACT"));
      return;
    }
  contact = sotto_store_find_contact (run->store, query, &error);
  if (contact == NULL)
    {
      fail_command (run, error->message);
      return;
    }
  sotto_peer_service_connect (run->service, contact);
}

static void
handle_line (Run  *run,
             char *line)
{
  g_autofree char *command = NULL;
  const char *args = NULL;

  if (!g_utf8_validate (line, -1, NULL))
    {
      fail_command (run, _("The command is not valid UTF-8 text"));
      return;
    }
  if (!split_argument (line, &command, &args))
    return;  /* an empty line */

  if (g_str_equal (command, "send"))
    command_send (run, args);
  else if (g_str_equal (command, "accept"))
    command_request (run, args, REQUEST_ACCEPT);
  else if (g_str_equal (command, "ignore"))
    command_request (run, args, REQUEST_IGNORE);
  else if (g_str_equal (command, "block"))
    command_request (run, args, REQUEST_BLOCK);
  else if (g_str_equal (command, "requests"))
    command_requests (run);
  else if (g_str_equal (command, "contacts"))
    command_contacts (run);
  else if (g_str_equal (command, "typing"))
    command_typing (run, args);
  else if (g_str_equal (command, "connect"))
    command_connect (run, args);
  else if (g_str_equal (command, "status"))
    {
      g_strstrip ((char *)args);
      if (g_str_equal (args, "available") || g_str_equal (args, "away"))
        {
          sotto_peer_service_set_presence (run->service, g_str_equal (args, "away")
                                                         ? SOTTO_PRESENCE_AWAY
                                                         : SOTTO_PRESENCE_AVAILABLE);
          emit (run, "status", args, "status", args, NULL);
        }
      else
        fail_command (run, _("Usage: status available|away"));
    }
  else if (g_str_equal (command, "quit"))
    g_main_loop_quit (run->loop);
  else
    {
      g_autofree char *message = g_strdup_printf (_("Unknown command “%s” (try send, accept, "
                                                    "ignore, block, requests, contacts, "
                                                    "typing, status, connect, quit)"), command);
      fail_command (run, message);
    }
}

static void read_next_line (Run *run);

static void
on_line_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  gsize len = 0;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result, &len,
                                                    &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL && error->domain == G_CONVERT_ERROR)
    {
      fail_command (run, _("The command is not valid UTF-8 text"));
      read_next_line (run);
      return;
    }
  if (line == NULL)
    {
      /* stdin closed: a service started in the background keeps running
       * until it is interrupted. */
      if (error != NULL)
        g_debug ("stdin: %s", error->message);
      return;
    }

  if (len > RUN_LINE_MAX)
    fail_command (run, _("The command line is too long"));
  else
    handle_line (run, line);
  read_next_line (run);
}

static void
read_next_line (Run *run)
{
  g_data_input_stream_read_line_async (run->input, G_PRIORITY_DEFAULT, run->cancellable,
                                       on_line_cb, run);
}

static gboolean
on_signal_cb (gpointer user_data)
{
  Run *run = user_data;

  g_main_loop_quit (run->loop);
  return G_SOURCE_CONTINUE;
}

/* -------------------------------------------------------------------------
 * The command
 * ------------------------------------------------------------------------- */

/* Follows the store from the moment the context has it: messages given
 * up on while the profile opens are reported too. */
/* Writing failed (a full disk) or works again. Until it works, what
 * contacts send is refused and waits on their computers. */
static void
on_write_error_cb (SottoStore *store,
                   GParamSpec *pspec,
                   Run        *run)
{
  const GError *error = sotto_store_get_write_error (store);
  g_autofree char *human = NULL;

  if (error == NULL)
    {
      emit (run, "store-recovered", _("Writing to the history works again"), NULL);
      return;
    }

  /* Translators: %s says why, e.g. "The disk is full". */
  human = g_strdup_printf (ngettext ("Can't write to the history: %s. Messages from contacts "
                                     "wait on their computers until it works again; Sotto "
                                     "tries every %d second",
                                     "Can't write to the history: %s. Messages from contacts "
                                     "wait on their computers until it works again; Sotto "
                                     "tries every %d seconds",
                                     SOTTO_STORE_WRITE_RETRY_SECONDS),
                           error->message, SOTTO_STORE_WRITE_RETRY_SECONDS);
  emit (run, "store-failed", human, "message", error->message, NULL);
}

static void
on_store_cb (SottoContext *context,
             GParamSpec   *pspec,
             Run          *run)
{
  SottoStore *store = sotto_context_get_store (context);

  if (store == NULL || run->store != NULL)
    return;
  run->store = g_object_ref (store);
  g_signal_connect (run->store, "message-state-changed",
                    G_CALLBACK (on_message_state_changed_cb), run);
  g_signal_connect (run->store, "notify::write-error", G_CALLBACK (on_write_error_cb), run);
}

int
cli_run (SottoContext  *context,
         const char    *passphrase_file,
         int            argc,
         char         **argv)
{
  g_autoptr (GOptionContext) option_context = NULL;
  g_autoptr (GInputStream) stdin_stream = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *intro = NULL;
  g_autofree char *port_text = NULL;
  g_autofree char *port_line = NULL;
  guint64 port = 0;
  gboolean json = FALSE;
  gboolean started_ok;
  guint sigint = 0;
  guint sigterm = 0;
  gulong store_handler;
  Run run = { 0 };
  const GOptionEntry entries[] = {
    { "port", 0, 0, G_OPTION_ARG_STRING, &port_text,
      N_("Listen on port N instead of the one in the settings (0: any free port)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print events as JSON lines"), NULL },
    { "intro", 0, 0, G_OPTION_ARG_STRING, &intro,
      N_("What a colleague who has not added you yet sees in your contact request"), N_("TEXT") },
    { NULL }
  };

  option_context = g_option_context_new ("[--port N] [--json] [--intro TEXT]");
  g_option_context_set_summary (option_context,
                                _("Runs the profile until interrupted: connects to contacts, "
                                  "delivers queued messages, prints one line per event and "
                                  "reads commands from stdin (send CONTACT TEXT, accept REQUEST, "
                                  "ignore REQUEST, block REQUEST, requests, contacts, "
                                  "typing CONTACT on|off, status available|away, "
                                  "connect CONTACT, quit)."));
  g_option_context_add_main_entries (option_context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (option_context, GETTEXT_PACKAGE);
  if (!g_option_context_parse (option_context, &argc, &argv, &error))
    return sotto_command_print_usage_error (error->message);
  if (argc > 1)
    return sotto_command_print_usage_error (_("“run” has too many arguments"));
  if (port_text != NULL &&
      !g_ascii_string_to_unsigned (port_text, 10, 0, 65535, &port, &error))
    return sotto_command_print_usage_error (error->message);
  if (intro != NULL && !sotto_intro_validate (intro, &error))
    return sotto_command_print_usage_error (error->message);
  /* An administrator's port is not for a command line to change. */
  if (port_text != NULL && !sotto_context_set_listen_port (context, (guint)port, &error))
    return sotto_command_print_usage_error (error->message);

  run.context = context;
  run.json = json;
  store_handler = g_signal_connect (context, "notify::store", G_CALLBACK (on_store_cb), &run);
  if (!sotto_context_open_interactive (context, passphrase_file, cli_ask_passphrase, NULL, &error))
    {
      g_signal_handler_disconnect (context, store_handler);
      if (run.store != NULL)
        g_signal_handlers_disconnect_by_data (run.store, &run);
      g_clear_object (&run.store);
      g_printerr ("sotto-cli: %s\n", error->message);
      return sotto_command_exit_status (error);
    }
  g_signal_handler_disconnect (context, store_handler);

  run.loop = g_main_loop_new (NULL, FALSE);
  run.cancellable = g_cancellable_new ();
  run.service = g_object_ref (sotto_context_get_peer_service (context));
  if (intro != NULL)
    sotto_peer_service_set_intro (run.service, intro);

  g_signal_connect (run.service, "contact-online", G_CALLBACK (on_contact_online_cb), &run);
  g_signal_connect (run.service, "contact-offline", G_CALLBACK (on_contact_offline_cb), &run);
  g_signal_connect (run.service, "session-failed", G_CALLBACK (on_session_failed_cb), &run);
  g_signal_connect (run.service, "message-received", G_CALLBACK (on_message_received_cb), &run);
  g_signal_connect (run.service, "message-delivered", G_CALLBACK (on_message_delivered_cb), &run);
  g_signal_connect (run.service, "message-read", G_CALLBACK (on_message_read_cb), &run);
  g_signal_connect (run.service, "key-changed", G_CALLBACK (on_key_changed_cb), &run);
  g_signal_connect (run.service, "request-received", G_CALLBACK (on_request_received_cb), &run);
  g_signal_connect (run.service, "request-pending", G_CALLBACK (on_request_pending_cb), &run);
  g_signal_connect (run.service, "request-accepted", G_CALLBACK (on_request_accepted_cb), &run);
  g_signal_connect (run.service, "typing", G_CALLBACK (on_typing_cb), &run);
  g_signal_connect (run.service, "presence", G_CALLBACK (on_presence_cb), &run);
  g_signal_connect (run.service, "address-changed", G_CALLBACK (on_address_changed_cb), &run);
  g_signal_connect (run.service, "group-message-received",
                    G_CALLBACK (on_group_message_received_cb), &run);
  g_signal_connect (run.service, "group-joined", G_CALLBACK (on_group_joined_cb), &run);
  g_signal_connect (run.service, "group-removed", G_CALLBACK (on_group_removed_cb), &run);
  g_signal_connect (run.service, "group-member-added", G_CALLBACK (on_group_member_added_cb), &run);
  g_signal_connect (run.service, "group-member-removed",
                    G_CALLBACK (on_group_member_removed_cb), &run);
  g_signal_connect (sotto_context_get_discovery (context), "notify::state",
                    G_CALLBACK (on_discovery_state_cb), &run);
  g_signal_connect (sotto_context_get_discovery (context), "service-changed",
                    G_CALLBACK (on_service_changed_cb), &run);
  g_signal_connect (sotto_context_get_discovery (context), "service-removed",
                    G_CALLBACK (on_service_removed_cb), &run);
  run.progress_told = g_hash_table_new_full (NULL, NULL, g_object_unref, g_free);
  g_signal_connect (sotto_peer_service_get_files (run.service), "transfer-added",
                    G_CALLBACK (on_transfer_added_cb), &run);
  g_signal_connect (sotto_peer_service_get_files (run.service), "transfer-changed",
                    G_CALLBACK (on_transfer_changed_cb), &run);
  g_signal_connect (sotto_peer_service_get_files (run.service), "transfer-progress",
                    G_CALLBACK (on_transfer_progress_cb), &run);

  /* What can run does; what can't (the port taken) is said, and the
   * profile still reaches out to its contacts. */
  started_ok = sotto_context_start (context, &error);
  /* Off is where discovery starts from: no change to tell, but said. */
  if (sotto_discovery_get_state (sotto_context_get_discovery (context)) ==
      SOTTO_DISCOVERY_STATE_OFF)
    on_discovery_state_cb (sotto_context_get_discovery (context), NULL, &run);
  if (!started_ok)
    {
      g_autofree char *free_port = NULL;
      g_autofree char *human = NULL;

      /* A port taken: say which one is free, for the next run. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        {
          guint port_free = sotto_context_suggest_listen_port (context, NULL);

          if (port_free != 0)
            free_port = g_strdup_printf ("%u", port_free);
        }
      if (free_port != NULL)
        human = g_strdup_printf (_("%s. Sotto still connects to your contacts; port %s is free "
                                   "(sotto-cli run --port %s)"),
                                 error->message, free_port, free_port);
      emit (&run, "warning", human != NULL ? human : error->message,
            "message", error->message, "free_port", free_port, NULL);
      g_clear_error (&error);
    }

  port_line = g_strdup_printf ("%u", sotto_peer_service_get_port (run.service));
  emit (&run, "listening", port_line, "port", port_line, NULL);

  stdin_stream = g_unix_input_stream_new (0, FALSE);
  run.input = g_data_input_stream_new (stdin_stream);
  g_data_input_stream_set_newline_type (run.input, G_DATA_STREAM_NEWLINE_TYPE_LF);
  read_next_line (&run);

  sigint = g_unix_signal_add (SIGINT, on_signal_cb, &run);
  sigterm = g_unix_signal_add (SIGTERM, on_signal_cb, &run);

  g_main_loop_run (run.loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_cancellable_cancel (run.cancellable);
  /* What stopping forgets is no news. */
  g_signal_handlers_disconnect_by_data (sotto_context_get_discovery (context), &run);
  sotto_context_stop (context);
  g_signal_handlers_disconnect_by_data (run.service, &run);
  g_signal_handlers_disconnect_by_data (sotto_peer_service_get_files (run.service), &run);
  g_clear_pointer (&run.progress_told, g_hash_table_unref);
  g_signal_handlers_disconnect_by_data (run.store, &run);
  emit (&run, "stopped", "", NULL);

  g_clear_object (&run.input);
  g_clear_object (&run.service);
  g_clear_object (&run.cancellable);
  g_clear_object (&run.store);
  g_main_loop_unref (run.loop);

  return run.status;
}
