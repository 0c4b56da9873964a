/* sotto-context-nearby.c — colleagues on the local network
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What LAN discovery sees, and how a stranger seen there becomes a
 * contact: Sotto looks at the key behind the service (handshake message 2,
 * nothing of ours sent), checks it against the published discovery id,
 * and adds it only once the user has compared the whole fingerprint.
 * `sotto-cli nearby` and the app's Nearby section both come here.
 */
#define G_LOG_DOMAIN "sotto-context"

#include "config.h"

#include <json-glib/json-glib.h>
#include <glib/gi18n-lib.h>

#include "sotto-command-private.h"
#include "sotto-context-private.h"
#include "sotto-discovery.h"
#include "sotto-error.h"
#include "sotto-identity.h"
#include "sotto-invite.h"
#include "sotto-peer-service.h"
#include "sotto-store.h"

/* Without a running profile, `sotto-cli nearby` browses for this long. */
#define NEARBY_SCAN_MS 3000

/* Looking at a nearby service's key ---------------------------------------- */

typedef struct
{
  char  *id;
  GStrv  addresses;
  guint  index;
} LookData;

static void
look_data_free (LookData *data)
{
  g_free (data->id);
  g_strfreev (data->addresses);
  g_free (data);
}

static void look_next (GTask *task);

static void
on_probed_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  LookData *data = g_task_get_task_data (task);
  g_autoptr (GBytes) key = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *id = NULL;
  const char *address = data->addresses[data->index];
  const char * const addresses[] = { address, NULL };
  SottoInvite *invite;

  key = sotto_peer_service_probe_finish (SOTTO_PEER_SERVICE (object), result, &name, &error);
  if (key == NULL)
    {
      /* The next address, if there is one; else the last reason. */
      g_debug ("looking at %s: %s", address, error->message);
      data->index++;
      if (data->addresses[data->index] != NULL)
        {
          look_next (task);
          return;
        }
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  id = sotto_discovery_id_for_key (g_bytes_get_data (key, NULL));
  if (!g_str_equal (id, data->id))
    {
      g_autofree char *published = sotto_discovery_id_format (data->id);

      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("The key at %s is not the one this service published (its "
                                 "fingerprint does not start with %s): it is not who it claims "
                                 "to be"), address, published);
      return;
    }

  invite = sotto_invite_new (g_bytes_get_data (key, NULL), name, addresses, &error);
  if (invite == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, invite, (GDestroyNotify)sotto_invite_free);
}

/* Borrows @task: the probe's callback holds a reference of its own. */
static void
look_next (GTask *task)
{
  SottoContext *self = g_task_get_source_object (task);
  LookData *data = g_task_get_task_data (task);

  sotto_peer_service_probe_async (self->service, data->addresses[data->index],
                                  g_task_get_cancellable (task), on_probed_cb, g_object_ref (task));
}

/**
 * sotto_context_look_at_nearby_async:
 * @self: a #SottoContext with its profile open
 * @nearby: a service LAN discovery saw
 *
 * Learns the key and name behind @nearby, at the first of its addresses
 * that answers, without telling it anything of us; fails when that key's
 * discovery id is not the one published. The result is an invite for
 * sotto_store_add_contact_async(), to add once the user has compared its
 * fingerprint with the colleague's own.
 */
void
sotto_context_look_at_nearby_async (SottoContext        *self,
                                    SottoNearby         *nearby,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  LookData *data;

  g_return_if_fail (SOTTO_IS_CONTEXT (self));
  g_return_if_fail (SOTTO_IS_NEARBY (nearby));
  g_return_if_fail (self->service != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_context_look_at_nearby_async);
  data = g_new0 (LookData, 1);
  data->id = g_strdup (sotto_nearby_get_id (nearby));
  data->addresses = g_strdupv ((char **)sotto_nearby_get_addresses (nearby));
  g_task_set_task_data (task, data, (GDestroyNotify)look_data_free);
  if (data->addresses[0] == NULL)
    {
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND,
                               _("This service has no address Sotto may call"));
      return;
    }
  look_next (task);
}

/**
 * sotto_context_look_at_nearby_finish:
 *
 * Returns: (transfer full): the key, its display name from its hello, and
 *   the address that answered; %NULL with @error
 */
SottoInvite *
sotto_context_look_at_nearby_finish (SottoContext  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* nearby -------------------------------------------------------------------- */

static const char *
contact_name_of (SottoStore  *store,
                 SottoNearby *nearby)
{
  gint64 id = sotto_nearby_get_contact_id (nearby);
  SottoContact *contact = id != 0 ? sotto_store_get_contact_by_id (store, id) : NULL;

  return contact != NULL ? sotto_contact_get_name (contact) : NULL;
}

static SottoNearby *
find_or_fail (SottoContext  *self,
              SottoCommand  *command,
              const char    *id,
              int           *status)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) digits = g_string_new (NULL);
  SottoNearby *nearby;

  /* As shown ("61537 21082 48558") or as published: digits, with spaces or
   * hyphens between them, as a typed fingerprint may have. */
  for (const char *p = id; *p != '\0'; p++)
    if (*p != ' ' && *p != '-')
      g_string_append_c (digits, *p);
  if (!sotto_discovery_id_is_valid (digits->str))
    {
      g_autofree char *message = g_strdup_printf (_("“%s” is not a discovery id (15 digits, as "
                                                    "`sotto-cli nearby` shows them)"), id);

      *status = _sotto_command_usage_error (command, message);
      return NULL;
    }
  nearby = sotto_discovery_find (self->discovery, digits->str);
  if (nearby == NULL)
    {
      g_set_error (&error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND,
                   _("No service with the id %s is nearby"), digits->str);
      *status = _sotto_command_fail (command, error);
    }
  return nearby;
}

static void
print_services (SottoContext *self,
                SottoCommand *command,
                SottoStore   *store,
                gboolean      json)
{
  GListModel *services = sotto_discovery_get_services (self->discovery);
  guint n = g_list_model_get_n_items (services);

  if (json)
    {
      g_autoptr (JsonArray) array = json_array_new ();

      for (guint i = 0; i < n; i++)
        {
          g_autoptr (SottoNearby) nearby = g_list_model_get_item (services, i);

          json_array_add_element (array, sotto_nearby_to_json (nearby,
                                                               contact_name_of (store, nearby)));
        }
      _sotto_command_print_json_array (command, array);
      return;
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoNearby) nearby = g_list_model_get_item (services, i);
      g_autofree char *fingerprint = sotto_nearby_dup_fingerprint (nearby);
      g_autofree char *addresses = g_strjoinv (", ", (char **)sotto_nearby_get_addresses (nearby));
      const char *contact = contact_name_of (store, nearby);
      const char *name = sotto_nearby_get_name (nearby);

      if (contact != NULL)
        _sotto_command_print (command, "%s …  %s (%s)  %s\n", fingerprint, contact, _("contact"),
                              addresses);
      else
        _sotto_command_print (command, "%s …  %s  %s\n", fingerprint,
                              name != NULL ? name : _("(no name published)"), addresses);
    }
  if (n == 0)
    _sotto_command_print (command, "%s\n", _("Nobody running Sotto was found nearby."));
}

static void
on_scan_over_cb (gpointer user_data)
{
  gboolean *over = user_data;

  *over = TRUE;
}

SOTTO_CONTEXT_COMMAND (nearby)
{
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GAsyncResult) added = NULL;
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *look = NULL;
  g_autofree char *add = NULL;
  g_autofree char *fingerprint_text = NULL;
  g_autofree char *alias = NULL;
  g_autofree char *message = NULL;
  gboolean json = FALSE;
  gboolean scanned = FALSE;
  int status = SOTTO_EXIT_OK;
  SottoNearby *nearby;
  const GOptionEntry options[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "look", 0, 0, G_OPTION_ARG_STRING, &look,
      N_("Show the whole fingerprint and the name of the service with this id"), N_("ID") },
    { "add", 0, 0, G_OPTION_ARG_STRING, &add,
      N_("Add the service with this id as a contact (with --fingerprint)"), N_("ID") },
    { "fingerprint", 0, 0, G_OPTION_ARG_STRING, &fingerprint_text,
      N_("The colleague’s fingerprint, as they read it to you"), N_("DIGITS") },
    { "alias", 0, 0, G_OPTION_ARG_STRING, &alias,
      N_("Call the contact NAME instead of the name it gives"), N_("NAME") },
    { NULL }
  };

  if (!_sotto_command_parse (command, "nearby",
                             "[--json] | --look ID | --add ID --fingerprint DIGITS [--alias NAME]",
                             options, &argc, &argv, &status) ||
      !_sotto_command_expect_args (command, "nearby", argc, 0, &status))
    return status;
  if (look != NULL && add != NULL)
    return _sotto_command_usage_error (command, _("--look and --add go one at a time"));
  if (add != NULL && fingerprint_text == NULL)
    return _sotto_command_usage_error (command,
                                       _("--add needs --fingerprint: compare the whole fingerprint "
                                         "with your colleague first (--look shows it)"));
  if ((fingerprint_text != NULL || alias != NULL) && add == NULL)
    return _sotto_command_usage_error (command, _("--fingerprint and --alias go with --add"));
  if ((status = _sotto_context_open_or_fail (self, command, &store)) != SOTTO_EXIT_OK)
    return status;

  /* Not running: look around for a moment ourselves (the timer wakes the
   * loop when nothing else does). */
  if (!self->running)
    {
      gboolean over = FALSE;
      guint timer = g_timeout_add_once (NEARBY_SCAN_MS, on_scan_over_cb, &over);

      sotto_discovery_start (self->discovery);
      while (!over &&
             sotto_discovery_get_state (self->discovery) != SOTTO_DISCOVERY_STATE_OFF &&
             sotto_discovery_get_state (self->discovery) != SOTTO_DISCOVERY_STATE_UNAVAILABLE &&
             sotto_discovery_get_state (self->discovery) != SOTTO_DISCOVERY_STATE_FAILED)
        g_main_context_iteration (NULL, TRUE);
      if (!over)
        g_source_remove (timer);
      scanned = TRUE;
    }

  if (sotto_discovery_get_state (self->discovery) != SOTTO_DISCOVERY_STATE_RUNNING)
    {
      message = sotto_discovery_dup_state_message (self->discovery);
      _sotto_command_warn (command, message);
    }

  if (look == NULL && add == NULL)
    {
      print_services (self, command, store, json);
      status = SOTTO_EXIT_OK;
      goto out;
    }

  nearby = find_or_fail (self, command, look != NULL ? look : add, &status);
  if (nearby == NULL)
    goto out;
  if (sotto_nearby_get_contact_id (nearby) != 0)
    {
      g_set_error (&error, SOTTO_ERROR, SOTTO_ERROR_EXISTS, _("%s is already your contact"),
                   contact_name_of (store, nearby));
      status = _sotto_command_fail (command, error);
      goto out;
    }

  sotto_context_look_at_nearby_async (self, nearby, NULL, _sotto_context_result_cb, &result);
  invite = sotto_context_look_at_nearby_finish (self, _sotto_context_wait_for (&result), &error);
  if (invite == NULL)
    {
      status = _sotto_command_fail (command, error);
      goto out;
    }

  if (look != NULL)
    {
      g_autofree char *fingerprint = sotto_fingerprint_for_key (invite->public_key);

      _sotto_command_print (command, "name: %s\n", invite->display_name);
      _sotto_command_print (command, "fingerprint: %s\n", fingerprint);
      _sotto_command_print (command, "address: %s\n", invite->addresses[0]);
      status = SOTTO_EXIT_OK;
      goto out;
    }

  /* Only the whole fingerprint, compared with the colleague's own, makes
   * a stranger on the network a contact. */
  if (!sotto_fingerprint_matches_key (fingerprint_text, invite->public_key, &error))
    {
      if (error != NULL)
        status = _sotto_command_usage_error (command, error->message);
      else
        {
          g_set_error_literal (&error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("That is not the fingerprint of the key behind this service: "
                                 "it was not added"));
          status = _sotto_command_fail (command, error);
        }
      goto out;
    }

  sotto_store_add_contact_async (store, invite, alias, NULL, _sotto_context_result_cb, &added);
  contact = sotto_store_add_contact_finish (store, _sotto_context_wait_for (&added), &error);
  if (contact == NULL)
    {
      status = _sotto_command_fail (command, error);
      goto out;
    }
  {
    g_autofree char *fingerprint = sotto_contact_dup_fingerprint (contact);

    _sotto_command_print (command, "added: %s\n", sotto_contact_get_name (contact));
    _sotto_command_print (command, "fingerprint: %s\n", fingerprint);
  }
  status = SOTTO_EXIT_OK;

out:
  if (scanned)
    sotto_discovery_stop (self->discovery);
  return status;
}
