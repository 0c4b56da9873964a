/* sotto-context-groups.c — the commands about groups
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `sotto-cli groups` and `sotto-cli group create|add|remove|admin|rename|
 * leave|delete|members`, run on a context like every one-shot command
 * (sotto-context-commands.c), and the lookup that lets `send` and
 * `history` take a group wherever they take a contact.
 */
#define G_LOG_DOMAIN "sotto-context"

#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include <glib/gi18n-lib.h>

#include "sotto-command-private.h"
#include "sotto-context-private.h"
#include "sotto-error.h"
#include "sotto-identity.h"
#include "sotto-peer-service.h"
#include "sotto-store.h"
#include "sotto-text.h"

/* A contact, or else a group: @query must fit exactly one of the two. */
int
_sotto_context_find_target_or_fail (SottoCommand  *command,
                                    SottoStore    *store,
                                    const char    *query,
                                    SottoContact **contact,
                                    SottoGroup   **group)
{
  g_autoptr (GError) contact_error = NULL;
  g_autoptr (GError) group_error = NULL;
  SottoContact *found_contact = sotto_store_find_contact (store, query, &contact_error);
  SottoGroup *found_group = sotto_store_find_group (store, query, &group_error);

  *contact = NULL;
  *group = NULL;
  if (found_contact != NULL && found_group != NULL)
    {
      g_autofree char *gid = sotto_group_dup_gid_hex (found_group);
      g_autoptr (GError) error = g_error_new (SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                                              _("“%s” is both a contact and a group: give the "
                                                "contact as “=NAME” or the group by its id %s"),
                                              query, gid);

      return _sotto_command_fail (command, error);
    }
  if (found_contact != NULL)
    {
      *contact = g_object_ref (found_contact);
      return SOTTO_EXIT_OK;
    }
  if (found_group != NULL)
    {
      *group = g_object_ref (found_group);
      return SOTTO_EXIT_OK;
    }
  /* Several contacts fit, or several groups: that says more than "none". */
  if (g_error_matches (group_error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT))
    return _sotto_command_fail (command, group_error);
  return _sotto_command_fail (command, contact_error);
}

/* A group's member as this side knows it: its row (a contact or a
 * member-only peer), or NULL for the user. */
static SottoContact *
member_peer (SottoStore             *store,
             const SottoGroupMember *member)
{
  const guint8 *own = sotto_identity_get_public_key (sotto_store_get_identity (store));

  if (memcmp (member->key, own, SOTTO_KEY_LEN) == 0)
    return NULL;
  return sotto_store_get_peer_by_key (store, member->key);
}

/* A member of @group named as `group remove` and `group admin` take it: a
 * contact's name, the name the group gives it, or the start of its
 * fingerprint. Members need not be our contacts. */
static int
find_member_or_fail (SottoCommand  *command,
                     SottoStore    *store,
                     SottoGroup    *group,
                     const char    *query,
                     SottoContact **peer)
{
  const SottoGroupRecord *record = sotto_group_get_record (group);
  g_autofree char *folded = g_utf8_casefold (query[0] == '=' ? query + 1 : query, -1);
  g_autoptr (GString) digits = g_string_new (NULL);
  SottoContact *exact = NULL, *prefix = NULL;
  guint n_exact = 0, n_prefix = 0;
  g_autoptr (GError) error = NULL;

  for (const char *p = query; *p != '\0'; p++)
    if (g_ascii_isdigit (*p))
      g_string_append_c (digits, *p);
    else if (*p != ' ' && *p != '-')
      {
        g_string_truncate (digits, 0);
        break;
      }

  for (guint i = 0; i < record->members->len; i++)
    {
      SottoGroupMember *member = g_ptr_array_index (record->members, i);
      SottoContact *candidate = member_peer (store, member);
      g_autofree char *shown = NULL;
      g_autofree char *name = NULL;
      g_autofree char *fingerprint = NULL;

      if (candidate == NULL)
        continue;
      shown = sotto_store_dup_member_name (store, member);
      name = g_utf8_casefold (shown, -1);
      fingerprint = sotto_fingerprint_for_key (member->key);
      if (g_str_equal (name, folded))
        {
          exact = candidate;
          n_exact++;
        }
      else if ((query[0] != '=' && g_str_has_prefix (name, folded)) ||
               (digits->len >= 5 && g_str_has_prefix (fingerprint, digits->str)))
        {
          prefix = candidate;
          n_prefix++;
        }
    }

  if (n_exact == 1)
    *peer = g_object_ref (exact);
  else if (n_exact == 0 && n_prefix == 1)
    *peer = g_object_ref (prefix);
  else
    {
      if (n_exact + n_prefix == 0)
        error = g_error_new (SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND,
                             _("Nobody in “%s” is called “%s”"), sotto_group_get_name (group), query);
      else
        error = g_error_new (SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                             _("“%s” could be several members of “%s”: give more of the name "
                               "or the start of the fingerprint"),
                             query, sotto_group_get_name (group));
      return _sotto_command_fail (command, error);
    }
  return SOTTO_EXIT_OK;
}

static int
find_group_or_fail (SottoCommand  *command,
                    SottoStore    *store,
                    const char    *query,
                    SottoGroup   **group)
{
  g_autoptr (GError) error = NULL;
  SottoGroup *found = sotto_store_find_group (store, query, &error);

  if (found == NULL)
    return _sotto_command_fail (command, error);
  *group = g_object_ref (found);
  return SOTTO_EXIT_OK;
}

static JsonNode *
group_to_json (SottoStore *store,
               SottoGroup *group)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *gid = sotto_group_dup_gid_hex (group);
  const guint8 *own = sotto_identity_get_public_key (sotto_store_get_identity (store));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, gid);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, sotto_group_get_name (group));
  json_builder_set_member_name (builder, "members");
  json_builder_add_int_value (builder, sotto_group_get_n_members (group));
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, sotto_group_is_admin (group, own) ? "admin" : "member");
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, sotto_group_status_to_string (sotto_group_get_status (group)));
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, (gint64)sotto_group_get_version (group));
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* groups ---------------------------------------------------------------- */

SOTTO_CONTEXT_COMMAND (groups)
{
  g_autoptr (SottoStore) store = NULL;
  gboolean json = FALSE;
  int status = SOTTO_EXIT_OK;
  GListModel *groups;
  guint n;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  if (!_sotto_command_parse (command, "groups", "[--json]", entries, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "groups", argc, 0, &status) ||
      (status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK)
    return status;

  groups = sotto_store_get_groups (store);
  n = g_list_model_get_n_items (groups);
  if (json)
    {
      g_autoptr (JsonArray) array = json_array_new ();

      for (guint i = 0; i < n; i++)
        {
          g_autoptr (SottoGroup) group = g_list_model_get_item (groups, i);

          json_array_add_element (array, group_to_json (store, group));
        }
      _sotto_command_print_json_array (command, array);
      return SOTTO_EXIT_OK;
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoGroup) group = g_list_model_get_item (groups, i);
      g_autofree char *name = sotto_terminal_text (sotto_group_get_name (group), TRUE);
      g_autofree char *gid = sotto_group_dup_gid_hex (group);
      const guint8 *own = sotto_identity_get_public_key (sotto_store_get_identity (store));
      guint members = sotto_group_get_n_members (group);
      SottoGroupStatus group_status = sotto_group_get_status (group);

      _sotto_command_print (command, "%s  %s  ", gid, name);
      _sotto_command_print (command, ngettext ("%u member", "%u members", members), members);
      if (group_status == SOTTO_GROUP_STATUS_MEMBER && sotto_group_is_admin (group, own))
        _sotto_command_print (command, ", %s", _("you administer it"));
      else if (group_status == SOTTO_GROUP_STATUS_LEAVING || group_status == SOTTO_GROUP_STATUS_LEFT)
        _sotto_command_print (command, ", %s", _("you left"));
      else if (group_status == SOTTO_GROUP_STATUS_REMOVED)
        _sotto_command_print (command, ", %s", _("you were removed"));
      _sotto_command_print (command, "\n");
    }
  return SOTTO_EXIT_OK;
}

/* group ----------------------------------------------------------------- */

static int
finish_change (SottoCommand     *command,
               SottoPeerService *service,
               GAsyncResult     *result)
{
  g_autoptr (SottoGroup) group = NULL;
  g_autoptr (GError) error = NULL;

  group = sotto_peer_service_change_group_finish (service, result, &error);
  if (group == NULL)
    return _sotto_command_fail (command, error);
  return SOTTO_EXIT_OK;
}

static int
group_members (SottoCommand *command,
               SottoStore   *store,
               SottoGroup   *group,
               gboolean      json)
{
  const SottoGroupRecord *record = sotto_group_get_record (group);
  const guint8 *own = sotto_identity_get_public_key (sotto_store_get_identity (store));
  g_autoptr (JsonArray) array = json_array_new ();

  for (guint i = 0; i < record->members->len; i++)
    {
      SottoGroupMember *member = g_ptr_array_index (record->members, i);
      SottoContact *peer = member_peer (store, member);
      g_autofree char *name = sotto_store_dup_member_name (store, member);
      g_autofree char *fingerprint = sotto_fingerprint_for_key (member->key);
      gboolean you = memcmp (member->key, own, SOTTO_KEY_LEN) == 0;
      gboolean contact = peer != NULL && sotto_contact_get_member_only (peer) == SOTTO_MEMBER_ONLY_NO;
      SottoVerification verification = peer != NULL ? sotto_contact_get_verification (peer)
                                                     : SOTTO_VERIFICATION_VERIFIED;
      const char *verification_text = verification == SOTTO_VERIFICATION_VERIFIED ? "verified"
                                      : verification == SOTTO_VERIFICATION_KEY_CHANGED ? "key-changed"
                                      : "unverified";
      const char *role = member->role == SOTTO_GROUP_ROLE_ADMIN ? "admin" : "member";

      if (json)
        {
          g_autoptr (JsonBuilder) builder = json_builder_new ();

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, name);
          json_builder_set_member_name (builder, "fingerprint");
          json_builder_add_string_value (builder, fingerprint);
          json_builder_set_member_name (builder, "role");
          json_builder_add_string_value (builder, role);
          json_builder_set_member_name (builder, "you");
          json_builder_add_boolean_value (builder, you);
          json_builder_set_member_name (builder, "contact");
          json_builder_add_boolean_value (builder, contact);
          json_builder_set_member_name (builder, "verification");
          json_builder_add_string_value (builder, you ? "verified" : verification_text);
          json_builder_end_object (builder);
          json_array_add_element (array, json_builder_get_root (builder));
        }
      else
        {
          g_autofree char *shown = sotto_terminal_text (name, TRUE);

          _sotto_command_print (command, "%s  %s  %s%s%s\n", fingerprint, shown,
                                member->role == SOTTO_GROUP_ROLE_ADMIN ? _("admin") : _("member"),
                                you ? _(", you") : "",
                                you || contact ? "" : _(", not a contact"));
        }
    }
  if (json)
    _sotto_command_print_json_array (command, array);
  return SOTTO_EXIT_OK;
}

SOTTO_CONTEXT_COMMAND (group)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (SottoGroup) group = NULL;
  g_autoptr (GPtrArray) members = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoPeerService *service;
  gboolean json = FALSE;
  int status = SOTTO_EXIT_OK;
  const char *what;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };

  if (!_sotto_command_parse (command, "group",
                             "create NAME MEMBER… | add|remove|admin GROUP MEMBER… | "
                             "rename GROUP NAME | leave|delete GROUP | members GROUP [--json]",
                             entries, &argc, &argv, &status))
    return status;
  if (argc < 3)
    return _sotto_command_usage_error (command, _("“group” needs more arguments"));
  what = argv[1];

  if (g_str_equal (what, "create"))
    {
      g_autofree char *gid = NULL;

      if (argc < 4)
        return _sotto_command_usage_error (command, _("“group create” needs a name and at least "
                                                      "one member"));
      if ((status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK)
        return status;
      for (int i = 3; i < argc; i++)
        {
          SottoContact *contact = NULL;

          if ((status = _sotto_context_find_or_fail (command, store, argv[i], &contact)) != SOTTO_EXIT_OK)
            return status;
          g_ptr_array_add (members, contact);
        }
      service = self->service;
      sotto_peer_service_create_group_async (service, argv[2], members, NULL,
                                             _sotto_context_result_cb, &result);
      group = sotto_peer_service_change_group_finish (service, _sotto_context_wait_for (&result),
                                                      &error);
      if (group == NULL)
        return _sotto_command_fail (command, error);
      gid = sotto_group_dup_gid_hex (group);
      _sotto_command_print (command, "%s\n", gid);
      return SOTTO_EXIT_OK;
    }

  if ((status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK ||
      (status = find_group_or_fail (command, store, argv[2], &group)) != SOTTO_EXIT_OK)
    return status;
  service = self->service;

  if (g_str_equal (what, "members"))
    {
      if (argc != 3)
        return _sotto_command_usage_error (command, _("“group members” has too many arguments"));
      return group_members (command, store, group, json);
    }

  if (g_str_equal (what, "add") || g_str_equal (what, "remove") || g_str_equal (what, "admin"))
    {
      SottoGroupChange change = g_str_equal (what, "add") ? SOTTO_GROUP_CHANGE_ADD
                                : g_str_equal (what, "remove") ? SOTTO_GROUP_CHANGE_REMOVE
                                : SOTTO_GROUP_CHANGE_ADMIN;

      if (argc < 4)
        return _sotto_command_usage_error (command, _("Name at least one member"));
      for (int i = 3; i < argc; i++)
        {
          SottoContact *peer = NULL;

          status = change == SOTTO_GROUP_CHANGE_ADD
                   ? _sotto_context_find_or_fail (command, store, argv[i], &peer)
                   : find_member_or_fail (command, store, group, argv[i], &peer);
          if (status != SOTTO_EXIT_OK)
            return status;
          g_ptr_array_add (members, peer);
        }
      sotto_peer_service_change_group_async (service, group, change, members, NULL, NULL,
                                             _sotto_context_result_cb, &result);
      return finish_change (command, service, _sotto_context_wait_for (&result));
    }

  if (g_str_equal (what, "rename"))
    {
      if (argc != 4)
        return _sotto_command_usage_error (command, _("“group rename” needs a group and a name"));
      sotto_peer_service_change_group_async (service, group, SOTTO_GROUP_CHANGE_RENAME, NULL,
                                             argv[3], NULL, _sotto_context_result_cb, &result);
      return finish_change (command, service, _sotto_context_wait_for (&result));
    }

  if (g_str_equal (what, "leave"))
    {
      if (argc != 3)
        return _sotto_command_usage_error (command, _("“group leave” has too many arguments"));
      sotto_peer_service_leave_group_async (service, group, NULL, _sotto_context_result_cb, &result);
      return finish_change (command, service, _sotto_context_wait_for (&result));
    }

  if (g_str_equal (what, "delete"))
    {
      if (argc != 3)
        return _sotto_command_usage_error (command, _("“group delete” has too many arguments"));
      sotto_peer_service_delete_group_async (service, group, NULL, _sotto_context_result_cb,
                                             &result);
      if (!sotto_peer_service_delete_group_finish (service, _sotto_context_wait_for (&result),
                                                   &error))
        return _sotto_command_fail (command, error);
      return SOTTO_EXIT_OK;
    }

  {
    g_autofree char *message = g_strdup_printf (_("“group %s” is not a command: use create, add, "
                                                  "remove, admin, rename, leave, delete or "
                                                  "members"), what);

    return _sotto_command_usage_error (command, message);
  }
}

/* The name a group message's sender has here. */
char *
_sotto_context_dup_sender_name (SottoStore   *store,
                                SottoMessage *message)
{
  SottoContact *sender;

  if (sotto_message_get_direction (message) == SOTTO_DIRECTION_OUT)
    return g_strdup (sotto_identity_get_display_name (sotto_store_get_identity (store)));
  sender = sotto_store_get_contact_by_id (store, sotto_message_get_sender_id (message));
  return g_strdup (sender != NULL ? sotto_contact_get_name (sender) : _("a former member"));
}
