/* sotto-context-settings.c — the settings a profile runs with
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two schemas. SCHEMA_ID, at one path, holds what the user and their
 * administrator set for every profile: privacy, history, requests, and
 * the first port. SCHEMA_ID.Profile, one path per profile (see
 * sotto_profile_settings_path()), holds what belongs to one profile: its
 * port, whether it starts at login, its windows. Two keys exist in both:
 * `listen-port` and `start-at-login`. The profile's own value decides,
 * except when an administrator locked the user's key: then that value
 * applies to every profile, with one lock.
 */
#define G_LOG_DOMAIN "sotto-context"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "sotto-autostart.h"
#include "sotto-context-private.h"
#include "sotto-error.h"
#include "sotto-peer-service.h"
#include "sotto-profile.h"

#define PROFILE_SCHEMA_ID SCHEMA_ID ".Profile"

/* How far above the first port a new profile looks for its own. */
#define PORT_TRIES 100

static GSettingsSchema *
lookup_schema (const char  *id,
               GError     **error)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  GSettingsSchema *schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, id, TRUE);
  if (schema == NULL)
    g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_STORE,
                 _("The settings schema “%s” is not installed"), id);
  return schema;
}

/* The settings of the profile called @name in its default directory. */
static GSettings *
profile_settings_new (GSettingsSchema *schema,
                      const char      *name,
                      const char      *dir)
{
  g_autofree char *path = sotto_profile_settings_path (name, dir);

  return g_settings_new_full (schema, NULL, path);
}

/* The first time the default profile runs with settings of its own, it
 * takes over what the user had chosen before profiles had any. */
static void
seed_default_profile (SottoContext *self)
{
  g_autoptr (GVariant) own = NULL;
  g_autoptr (GVariant) user = NULL;

  if (!sotto_context_is_default_profile (self))
    return;

  own = g_settings_get_user_value (self->profile_settings, "start-at-login");
  user = g_settings_get_user_value (self->settings, "start-at-login");
  if (own == NULL && user != NULL)
    g_settings_set_value (self->profile_settings, "start-at-login", user);
}

/**
 * _sotto_context_ensure_settings:
 *
 * Both kinds of settings, or a clear error when a schema is not installed
 * (rather than GLib aborting).
 */
gboolean
_sotto_context_ensure_settings (SottoContext  *self,
                                GError       **error)
{
  g_autoptr (GSettingsSchema) schema = NULL;
  g_autoptr (GSettingsSchema) profile_schema = NULL;

  g_assert (SOTTO_IS_CONTEXT (self));

  if (self->settings != NULL)
    return TRUE;

  schema = lookup_schema (SCHEMA_ID, error);
  if (schema == NULL)
    return FALSE;
  profile_schema = lookup_schema (PROFILE_SCHEMA_ID, error);
  if (profile_schema == NULL)
    return FALSE;

  self->settings = g_settings_new_full (schema, NULL, NULL);
  self->policy = sotto_policy_new (self->settings);
  self->profile_settings = profile_settings_new (profile_schema, self->profile,
                                                 self->profile_dir);
  seed_default_profile (self);
  return TRUE;
}

/* The ports the user's other profiles (those in the default place) have
 * taken, even when they are not running now. */
static GHashTable *
ports_of_other_profiles (SottoContext *self)
{
  g_autoptr (GHashTable) ports = g_hash_table_new (NULL, NULL);
  g_autoptr (GSettingsSchema) schema = NULL;
  g_autoptr (GDir) dir = NULL;
  g_autofree char *own_path = NULL;
  g_autofree char *data = NULL;
  const char *name;

  schema = g_settings_schema_source_lookup (g_settings_schema_source_get_default (),
                                            PROFILE_SCHEMA_ID, TRUE);
  own_path = sotto_profile_settings_path (self->profile, self->profile_dir);
  data = g_build_filename (g_get_user_data_dir (), "sotto", NULL);
  dir = g_dir_open (data, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autoptr (GSettings) other = NULL;
      int port;

      if (!sotto_profile_name_validate (name, NULL))
        continue;
      path = sotto_profile_settings_path (name, NULL);
      if (g_str_equal (path, own_path))
        continue;
      other = g_settings_new_full (schema, NULL, path);
      port = g_settings_get_int (other, "listen-port");
      if (port > 0)
        g_hash_table_add (ports, GINT_TO_POINTER (port));
    }
  return g_steal_pointer (&ports);
}

static gboolean
port_is_free (guint port)
{
  g_autoptr (GSocketListener) probe = g_socket_listener_new ();

  /* Bound as the peer service binds, so that it is free for it. */
  if (!g_socket_listener_add_inet_port (probe, (guint16)port, NULL, NULL))
    return FALSE;
  g_socket_listener_close (probe);
  return TRUE;
}

/* The first port from @from up that none of the user's other profiles has
 * and that nothing listens on now; 0 if there is none near. */
static guint
first_free_port_from (SottoContext *self,
                      guint         from)
{
  g_autoptr (GHashTable) taken = ports_of_other_profiles (self);

  for (guint port = from; port > 0 && port <= 65535 && port < from + PORT_TRIES; port++)
    if (!g_hash_table_contains (taken, GUINT_TO_POINTER (port)) && port_is_free (port))
      return port;
  return 0;
}

/**
 * _sotto_context_choose_listen_port:
 * @keep: whether to keep the choice in the profile's settings
 *
 * The port the profile listens on, chosen the first time: the first port
 * from the user's `listen-port` up that none of the user's other profiles
 * has and that is free now. When none is, the first port: the peer service
 * then says that it is taken and offers another. Creating a profile keeps
 * the choice; opening one whose setting is still 0 only chooses (an
 * invite then names that port), and its first start keeps it: a one-shot
 * command never writes settings.
 *
 * Returns: a port, 1–65535
 */
guint
_sotto_context_choose_listen_port (SottoContext *self,
                                   gboolean      keep)
{
  guint first;
  guint port;

  g_assert (SOTTO_IS_CONTEXT (self));
  g_assert (self->settings != NULL);

  port = sotto_context_get_listen_port (self);
  if (port == 0)
    {
      first = (guint)g_settings_get_int (self->settings, "listen-port");
      port = first_free_port_from (self, first);
      if (port == 0)
        port = first;
      self->chosen_port = port;
    }

  if (keep && self->port_override < 0 && !sotto_context_is_listen_port_locked (self) &&
      g_settings_get_int (self->profile_settings, "listen-port") == 0 &&
      g_settings_is_writable (self->profile_settings, "listen-port"))
    g_settings_set_int (self->profile_settings, "listen-port", (int)port);
  return port;
}

/**
 * sotto_context_get_profile_settings:
 *
 * This profile's own settings (the `.Profile` schema): its port, start at
 * login and window sizes. Loaded on first use.
 *
 * Returns: (transfer none) (nullable): the settings, or %NULL when the
 *   settings schemas are not installed
 */
GSettings *
sotto_context_get_profile_settings (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), NULL);

  _sotto_context_ensure_settings (self, NULL);
  return self->profile_settings;
}

/**
 * sotto_context_is_listen_port_locked:
 *
 * Returns: %TRUE when an administrator has set the port of every profile
 */
gboolean
sotto_context_is_listen_port_locked (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), FALSE);

  if (!_sotto_context_ensure_settings (self, NULL))
    return FALSE;
  return !g_settings_is_writable (self->settings, "listen-port");
}

/**
 * sotto_context_get_listen_port:
 *
 * The port the profile listens on by its settings: the administrator's if
 * locked, else the one this run was given (sotto_context_set_listen_port()),
 * else the profile's own, else the one chosen for it when it was opened.
 *
 * Returns: the port, or 0 while the profile has none yet
 */
guint
sotto_context_get_listen_port (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), 0);

  if (!_sotto_context_ensure_settings (self, NULL))
    return 0;
  if (!g_settings_is_writable (self->settings, "listen-port"))
    return (guint)g_settings_get_int (self->settings, "listen-port");
  if (self->port_override >= 0)
    return (guint)self->port_override;
  if (g_settings_get_int (self->profile_settings, "listen-port") > 0)
    return (guint)g_settings_get_int (self->profile_settings, "listen-port");
  return self->chosen_port;
}

/**
 * sotto_context_suggest_listen_port:
 * @self: a #SottoContext
 * @error: return location for a #GError
 *
 * A port to offer the user when the profile's is taken: the first one
 * above it that none of the user's other profiles has and that nothing
 * listens on now, so that it stays close to what a firewall may already
 * let through; failing that, any free port. Only a suggestion: another
 * program may take it first. Use it with
 * sotto_context_change_listen_port().
 *
 * Returns: a port, or 0 with @error set: %SOTTO_ERROR_INVALID_ARGUMENT
 *   when an administrator set the port, or why no port could be had
 */
guint
sotto_context_suggest_listen_port (SottoContext  *self,
                                   GError       **error)
{
  g_autoptr (GSocketListener) any = NULL;
  guint current;
  guint port;

  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!_sotto_context_ensure_settings (self, error))
    return 0;
  if (sotto_context_is_listen_port_locked (self))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("Your administrator set the port Sotto listens on (%d): "
                     "it can’t be changed"),
                   g_settings_get_int (self->settings, "listen-port"));
      return 0;
    }

  current = sotto_context_get_listen_port (self);
  if (current == 0)
    current = (guint)g_settings_get_int (self->settings, "listen-port");
  port = current < 65535 ? first_free_port_from (self, current + 1) : 0;
  if (port != 0)
    return port;

  any = g_socket_listener_new ();
  port = g_socket_listener_add_any_inet_port (any, NULL, error);
  g_socket_listener_close (any);
  return port;
}

/**
 * sotto_context_change_listen_port:
 * @self: a #SottoContext
 * @port: 1–65535
 * @error: return location for a #GError
 *
 * Makes @port the profile's port for good, and while it runs moves the
 * listener there at once (see sotto_peer_service_change_port()).
 *
 * Returns: %TRUE if the profile listens on @port (or will when it
 *   starts); %FALSE when an administrator set the port, or @port is taken
 */
gboolean
sotto_context_change_listen_port (SottoContext  *self,
                                  guint          port,
                                  GError       **error)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (port == 0 || port > 65535)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("A port is a number from 1 to 65535"));
      return FALSE;
    }
  if (!_sotto_context_ensure_settings (self, error))
    return FALSE;
  if (sotto_context_is_listen_port_locked (self))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("Your administrator set the port Sotto listens on (%d): "
                     "it can’t be changed"),
                   g_settings_get_int (self->settings, "listen-port"));
      return FALSE;
    }

  g_settings_set_int (self->profile_settings, "listen-port", (int)port);
  self->port_override = -1;
  if (self->service != NULL)
    return sotto_peer_service_change_port (self->service, port, error);
  return TRUE;
}

/**
 * sotto_context_get_start_at_login:
 *
 * Returns: whether the session should start this profile at login: the
 *   administrator's choice if locked, else the profile's own
 */
gboolean
sotto_context_get_start_at_login (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), FALSE);

  if (!_sotto_context_ensure_settings (self, NULL))
    return FALSE;
  if (!g_settings_is_writable (self->settings, "start-at-login"))
    return g_settings_get_boolean (self->settings, "start-at-login");
  return g_settings_get_boolean (self->profile_settings, "start-at-login");
}

/**
 * sotto_context_apply_start_at_login:
 * @self: a #SottoContext
 * @error: return location for a #GError
 *
 * Writes or removes this profile's autostart entry as
 * sotto_context_get_start_at_login() says. Only a profile in its default
 * directory can be started by name at login; for another, this does
 * nothing.
 *
 * Returns: %TRUE on success
 */
gboolean
sotto_context_apply_start_at_login (SottoContext  *self,
                                    GError       **error)
{
  g_autofree char *default_dir = NULL;

  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  default_dir = sotto_profile_default_dir (self->profile);
  if (!g_str_equal (default_dir, self->profile_dir))
    return TRUE;
  return sotto_autostart_set (sotto_context_get_start_at_login (self), self->profile, error);
}

/**
 * sotto_context_check_link:
 * @link: a link as it appears in a message
 * @sender: who sent it
 *
 * sotto_link_guard_check() under the user's and the administrator's
 * settings (`link-open`, `link-schemes`, `link-trusted-domains`): what
 * the app's link dialog and `sotto-cli check-link` both show.
 *
 * Returns: (transfer full): the verdict
 */
SottoLinkVerdict *
sotto_context_check_link (SottoContext    *self,
                          const char      *link,
                          SottoLinkSender  sender)
{
  GSettings *settings;
  g_auto (GStrv) schemes = NULL;
  g_auto (GStrv) trusted = NULL;
  SottoLinkPolicy policy = { NULL, NULL, FALSE };

  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), NULL);
  g_return_val_if_fail (link != NULL, NULL);

  settings = sotto_context_get_settings (self);
  if (settings != NULL)
    {
      schemes = g_settings_get_strv (settings, "link-schemes");
      trusted = g_settings_get_strv (settings, "link-trusted-domains");
      policy.schemes = (const char * const *)schemes;
      policy.trusted_domains = (const char * const *)trusted;
      policy.links_off = g_settings_get_enum (settings, "link-open") == 1;
    }
  /* Without the schemas (a build tree without them), the safe defaults. */
  return sotto_link_guard_check (link, sender, &policy);
}
