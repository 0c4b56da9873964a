/* sotto-context.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-context"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sotto-context-private.h"
#include "sotto-addresses.h"
#include "sotto-error.h"
#include "sotto-invite.h"
#include "sotto-peer-service.h"
#include "sotto-discovery.h"
#include "sotto-profile.h"
#include "sotto-retention.h"
#include "sotto-store.h"

/* History and keys live below the profile directory: nobody else reads it. */
#define PROFILE_DIR_MODE 0700

static void sotto_context_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SottoContext, sotto_context, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      sotto_context_initable_iface_init))

enum {
  PROP_0,
  PROP_PROFILE,
  PROP_PROFILE_DIR,
  PROP_STORE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
sotto_context_initable_init (GInitable     *initable,
                             GCancellable  *cancellable,
                             GError       **error)
{
  SottoContext *self = SOTTO_CONTEXT (initable);

  /* Every front end makes a context first: from here on, secure memory
   * (sodium_malloc) and libsodium's random numbers can be used. */
  if (sodium_init () < 0)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_CRYPTO,
                           _("The cryptography library could not be initialized"));
      return FALSE;
    }

  if (self->profile == NULL)
    self->profile = g_strdup (SOTTO_PROFILE_DEFAULT);

  if (!sotto_profile_name_validate (self->profile, error))
    return FALSE;

  if (self->profile_dir == NULL || self->profile_dir[0] == '\0')
    {
      g_free (self->profile_dir);
      self->profile_dir = sotto_profile_default_dir (self->profile);
    }
  else
    {
      /* A relative --profile-dir means relative to where the user is now,
       * not to wherever the process later changes to. */
      char *absolute = g_canonicalize_filename (self->profile_dir, NULL);

      g_free (self->profile_dir);
      self->profile_dir = absolute;
    }

  return TRUE;
}

static void
sotto_context_initable_iface_init (GInitableIface *iface)
{
  iface->init = sotto_context_initable_init;
}

static void
sotto_context_dispose (GObject *object)
{
  SottoContext *self = (SottoContext *)object;

  sotto_context_stop (self);
  g_clear_object (&self->control);
  g_clear_object (&self->discovery);
  g_clear_object (&self->service);
  g_clear_object (&self->retention);
  g_clear_object (&self->policy);
  g_clear_object (&self->settings);
  g_clear_object (&self->profile_settings);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (sotto_context_parent_class)->dispose (object);
}

static void
sotto_context_finalize (GObject *object)
{
  SottoContext *self = (SottoContext *)object;

  g_clear_pointer (&self->profile, g_free);
  g_clear_pointer (&self->profile_dir, g_free);

  G_OBJECT_CLASS (sotto_context_parent_class)->finalize (object);
}

static void
sotto_context_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  SottoContext *self = SOTTO_CONTEXT (object);

  switch (prop_id)
    {
    case PROP_PROFILE:
      g_value_set_string (value, self->profile);
      break;

    case PROP_PROFILE_DIR:
      g_value_set_string (value, self->profile_dir);
      break;

    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_context_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  SottoContext *self = SOTTO_CONTEXT (object);

  switch (prop_id)
    {
    case PROP_PROFILE:
      g_free (self->profile);
      self->profile = g_value_dup_string (value);
      break;

    case PROP_PROFILE_DIR:
      g_free (self->profile_dir);
      self->profile_dir = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_context_class_init (SottoContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sotto_context_dispose;
  object_class->finalize = sotto_context_finalize;
  object_class->get_property = sotto_context_get_property;
  object_class->set_property = sotto_context_set_property;

  /**
   * SottoContext:profile:
   *
   * The profile name; %NULL means "default".
   */
  properties[PROP_PROFILE] =
    g_param_spec_string ("profile", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * SottoContext:profile-dir:
   *
   * Where the profile keeps its data; %NULL means
   * `$XDG_DATA_HOME/sotto/PROFILE`.
   */
  properties[PROP_PROFILE_DIR] =
    g_param_spec_string ("profile-dir", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * SottoContext:store:
   *
   * The profile's open store, %NULL until sotto_context_open_async() or
   * sotto_context_create_async() succeeded.
   */
  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         SOTTO_TYPE_STORE,
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sotto_context_init (SottoContext *self)
{
  self->port_override = -1;
}

/**
 * sotto_context_new:
 * @profile: (nullable): a profile name, %NULL for the default profile
 * @profile_dir: (nullable): the profile's directory, %NULL for the default
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): a context, or %NULL if @profile is
 *   not a valid profile name
 */
SottoContext *
sotto_context_new (const char  *profile,
                   const char  *profile_dir,
                   GError     **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (SOTTO_TYPE_CONTEXT, NULL, error,
                         "profile", profile,
                         "profile-dir", profile_dir,
                         NULL);
}

const char *
sotto_context_get_profile (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), NULL);

  return self->profile;
}

const char *
sotto_context_get_profile_dir (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), NULL);

  return self->profile_dir;
}

gboolean
sotto_context_is_default_profile (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), FALSE);

  return g_str_equal (self->profile, SOTTO_PROFILE_DEFAULT);
}

/**
 * sotto_context_ensure_profile_dir:
 * @self: a #SottoContext
 * @error: return location for a #GError
 *
 * Creates the profile directory (and its parents) if needed and makes sure
 * only its owner can enter it: a directory left readable by others is
 * tightened to 0700, since it holds history and keys.
 *
 * Returns: %TRUE if the directory exists, is a directory and is private
 */
gboolean
sotto_context_ensure_profile_dir (SottoContext  *self,
                                  GError       **error)
{
  GStatBuf st;

  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_mkdir_with_parents (self->profile_dir, PROFILE_DIR_MODE) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("Cannot create the profile directory “%s”: %s"),
                   self->profile_dir, g_strerror (saved_errno));
      return FALSE;
    }

  /* lstat: a symlink planted in place of the directory is refused rather
   * than followed somewhere we did not choose. */
  if (!sotto_profile_check_dir (self->profile_dir, &st, error))
    return FALSE;
  if (st.st_mode == 0)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("Cannot read the profile directory “%s”: %s"),
                   self->profile_dir, g_strerror (ENOENT));
      return FALSE;
    }

  if ((st.st_mode & 07777) != PROFILE_DIR_MODE &&
      g_chmod (self->profile_dir, PROFILE_DIR_MODE) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("Cannot make the profile directory “%s” private: %s"),
                   self->profile_dir, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

/**
 * sotto_context_has_profile:
 * @self: a #SottoContext
 *
 * Whether the profile was ever created (its history database exists):
 * a front end offers to create one when it was not.
 */
gboolean
sotto_context_has_profile (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), FALSE);

  return sotto_store_profile_exists (self->profile_dir);
}

typedef struct
{
  SottoStore     *store;
  SottoRetention *retention;
} OpenData;

static void
open_data_free (gpointer data)
{
  OpenData *open = data;

  g_clear_object (&open->store);
  g_clear_object (&open->retention);
  g_free (open);
}

static void
on_files_loaded_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (!sotto_file_transfer_load_finish (SOTTO_FILE_TRANSFER (object), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_outbox_expired_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoContext *self = g_task_get_source_object (task);
  GCancellable *cancellable;
  GError *error = NULL;

  sotto_store_expire_outbox_finish (SOTTO_STORE (object), result, &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* File transfers are known to every front end, running or not. */
  cancellable = g_task_get_cancellable (task);
  sotto_file_transfer_load_async (sotto_peer_service_get_files (self->service), cancellable,
                                  on_files_loaded_cb, g_steal_pointer (&task));
}


static void
on_contact_seen_cb (SottoDiscovery *discovery,
                    gint64          contact_id,
                    GStrv           addresses,
                    SottoContext   *self)
{
  SottoContact *contact = sotto_store_get_contact_by_id (self->store, contact_id);

  if (contact != NULL)
    sotto_peer_service_hint_addresses (self->service, contact, (const char * const *)addresses);
}

static void
on_listen_port_cb (SottoPeerService *service,
                   GParamSpec       *pspec,
                   SottoContext     *self)
{
  sotto_discovery_set_port (self->discovery, sotto_peer_service_get_port (service));
}

static void
on_retention_applied_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoContext *self = g_task_get_source_object (task);
  OpenData *open = g_task_get_task_data (task);
  GCancellable *cancellable;
  GError *error = NULL;

  /* The store is this callback's source object; the retention ran it. */
  if (!sotto_retention_apply_finish (open->retention, result, NULL, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_assert (self->store == NULL);
  self->store = g_object_ref (open->store);
  self->retention = g_object_ref (open->retention);
  self->service = sotto_peer_service_new (self->store, self->settings);
  self->discovery = sotto_discovery_new (self->store, self->settings);
  /* Discovery's word on where a contact is goes to the dialler, which
   * proves it; what we publish is where we listen, while we do. */
  g_signal_connect_object (self->discovery, "contact-seen",
                           G_CALLBACK (on_contact_seen_cb), self, 0);
  g_signal_connect_object (self->service, "notify::port",
                           G_CALLBACK (on_listen_port_cb), self, 0);
  /* A new profile keeps its port at once, so that its first invites name
   * it; an existing one at its first start (opening writes no settings). */
  sotto_peer_service_set_port (self->service,
                               self->port_override >= 0 && !sotto_context_is_listen_port_locked (self)
                                 ? (guint)self->port_override
                                 : _sotto_context_choose_listen_port (
                                     self, g_task_get_source_tag (task) == sotto_context_create_async));
  /* Before old messages are given up on: a front end that follows the
   * store from here hears of each one. */
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STORE]);

  /* Every front end gives up on messages that waited too long, as the
   * running peer service does: `history` shows them as not sent, and
   * `retry` finds them, even when nothing has run for a week. */
  cancellable = g_task_get_cancellable (task);
  sotto_store_expire_outbox_async (self->store, g_get_real_time (), cancellable,
                                   on_outbox_expired_cb, g_steal_pointer (&task));
}

static void
on_store_opened_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoContext *self = g_task_get_source_object (task);
  OpenData *open = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;

  if (g_task_get_source_tag (task) == sotto_context_open_async)
    open->store = sotto_store_open_finish (result, &error);
  else
    open->store = sotto_store_create_finish (result, &error);
  if (open->store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* The rules hold from the first thing anyone asks of the store. */
  sotto_store_set_policy (open->store, self->policy);
  /* What the settings say is gone must not be shown, not even once. */
  open->retention = sotto_retention_new (open->store, self->settings);
  sotto_retention_apply_async (open->retention, cancellable, on_retention_applied_cb,
                               g_steal_pointer (&task));
}

/* Returns NULL, having reported the error, when there are no settings. */
static GTask *
open_task_new (SottoContext        *self,
               gpointer             tag,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, tag);
  g_task_set_task_data (task, g_new0 (OpenData, 1), open_data_free);
  if (!_sotto_context_ensure_settings (self, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return NULL;
    }

  return task;
}

/**
 * sotto_context_open_async:
 * @self: a #SottoContext whose profile exists and is not open yet
 * @passphrase: (nullable): the profile's passphrase; %NULL for a profile
 *   whose key is in the login keyring
 *
 * Opens the profile's store, applies the history settings to it and gives
 * up on messages that waited too long for delivery
 * (sotto_store_expire_outbox_async()); #SottoContext:store is set before
 * that, so that a front end connected to its notification hears of each.
 * A passphrase-protected profile opened without @passphrase fails with
 * %SOTTO_ERROR_NEEDS_PASSPHRASE, a wrong one with
 * %SOTTO_ERROR_WRONG_PASSPHRASE: ask, and try again.
 */
void
sotto_context_open_async (SottoContext        *self,
                          const char          *passphrase,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (SOTTO_IS_CONTEXT (self));
  g_return_if_fail (self->store == NULL);

  task = open_task_new (self, sotto_context_open_async, cancellable, callback, user_data);
  if (task == NULL)
    return;
  sotto_store_open_async (self->profile_dir, passphrase, cancellable, on_store_opened_cb, task);
}

gboolean
sotto_context_open_finish (SottoContext  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * sotto_context_create_async:
 * @self: a #SottoContext whose profile does not exist yet
 * @display_name: the name colleagues see
 * @protection: where the history key is kept
 * @passphrase: (nullable): with %SOTTO_KEY_PROTECTION_PASSPHRASE, the new
 *   passphrase
 *
 * Creates the profile (directory, identity, store) and opens it, as
 * `sotto-cli init` does.
 */
void
sotto_context_create_async (SottoContext        *self,
                            const char          *display_name,
                            SottoKeyProtection   protection,
                            const char          *passphrase,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GError *error = NULL;
  GTask *task;

  g_return_if_fail (SOTTO_IS_CONTEXT (self));
  g_return_if_fail (display_name != NULL);
  g_return_if_fail (self->store == NULL);

  task = open_task_new (self, sotto_context_create_async, cancellable, callback, user_data);
  if (task == NULL)
    return;
  if (!sotto_policy_may_protect (self->policy, protection, passphrase, &error) ||
      !sotto_context_ensure_profile_dir (self, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  sotto_store_create_async (self->profile_dir, display_name, protection, passphrase, 0, 0,
                            cancellable, on_store_opened_cb, task);
}

gboolean
sotto_context_create_finish (SottoContext  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * sotto_context_get_store:
 * @self: a #SottoContext
 *
 * Returns: (transfer none) (nullable): the open store
 */
SottoStore *
sotto_context_get_store (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), NULL);

  return self->store;
}

/**
 * sotto_context_get_discovery:
 * @self: a #SottoContext
 *
 * Returns: (transfer none) (nullable): LAN discovery, once the profile is
 *   open; it browses and publishes while the context runs
 */
SottoDiscovery *
sotto_context_get_discovery (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), NULL);

  return self->discovery;
}

/**
 * sotto_context_get_peer_service:
 * @self: a #SottoContext
 *
 * Returns: (transfer none) (nullable): the peer service, once
 *   sotto_context_start() made it
 */
SottoPeerService *
sotto_context_get_peer_service (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), NULL);

  return self->service;
}

static void
on_control_request_cb (SottoControlServer  *server,
                       SottoControlRequest *request,
                       SottoContext        *self)
{
  _sotto_context_serve (self, request);
}

/**
 * sotto_context_start:
 * @self: a #SottoContext with its profile open
 * @error: return location for a #GError
 *
 * Starts what runs while the profile is open, in every front end: the
 * peer service (listening on the `listen-port` setting or the port given
 * to sotto_context_set_listen_port(), dialling contacts), retention
 * (applied hourly and on every change of the history settings) and the
 * control socket, through which `sotto-cli` hands its commands to this
 * process (sotto_context_execute()).
 *
 * What can start does, even when a part fails: the error then says what
 * did not (the port taken, say), for the front end to show; it is not a
 * reason to stop.
 *
 * Returns: %TRUE if everything started
 */
gboolean
sotto_context_start (SottoContext  *self,
                     GError       **error)
{
  g_autoptr (GError) service_error = NULL;
  g_autoptr (GError) control_error = NULL;

  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), FALSE);
  g_return_val_if_fail (self->store != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->running)
    return TRUE;
  self->running = TRUE;

  sotto_retention_start (self->retention);
  /* The port chosen when the profile was opened is its own from now on. */
  _sotto_context_choose_listen_port (self, TRUE);
  sotto_peer_service_start (self->service, &service_error);
  sotto_discovery_set_port (self->discovery, sotto_peer_service_get_port (self->service));
  sotto_discovery_start (self->discovery);

  self->control = sotto_control_server_new (self->profile_dir, &control_error);
  if (self->control != NULL)
    g_signal_connect_object (self->control, "request", G_CALLBACK (on_control_request_cb),
                             self, 0);

  if (service_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&service_error));
      return FALSE;
    }
  if (control_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&control_error));
      return FALSE;
    }

  return TRUE;
}

/**
 * sotto_context_is_running:
 *
 * Whether sotto_context_start() ran: this process then holds the profile
 * for its user, and a message sent leaves at once.
 */
gboolean
sotto_context_is_running (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), FALSE);

  return self->running;
}

/**
 * sotto_context_stop:
 * @self: a #SottoContext
 *
 * Stops what sotto_context_start() started: commands are no longer taken,
 * sessions close, queued messages stay queued.
 */
void
sotto_context_stop (SottoContext *self)
{
  g_return_if_fail (SOTTO_IS_CONTEXT (self));

  if (self->control != NULL)
    sotto_control_server_stop (self->control);
  g_clear_object (&self->control);
  if (self->discovery != NULL)
    sotto_discovery_stop (self->discovery);
  if (self->service != NULL)
    sotto_peer_service_stop (self->service);
  self->running = FALSE;
}

/**
 * sotto_context_get_settings:
 *
 * The settings of every profile of the user (see
 * sotto-context-settings.c), loaded on first use.
 *
 * Returns: (transfer none) (nullable): the settings, or %NULL when the
 *   settings schemas are not installed
 */
GSettings *
sotto_context_get_settings (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), NULL);

  _sotto_context_ensure_settings (self, NULL);
  return self->settings;
}

/**
 * sotto_context_get_policy:
 *
 * What the user and their administrator allow; front ends ask it what
 * to offer, the core asks it before doing anything it governs.
 *
 * Returns: (transfer none) (nullable): the policy, or %NULL when the
 *   settings schemas are not installed
 */
SottoPolicy *
sotto_context_get_policy (SottoContext *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), NULL);

  _sotto_context_ensure_settings (self, NULL);
  return self->policy;
}

/**
 * sotto_context_set_listen_port:
 * @port: 1–65535, or 0 for any free port
 *
 * Listens on @port instead of the `listen-port` setting, for this run
 * only (`sotto-cli run --port`); before sotto_context_start(). A setting
 * that an administrator locked can't be overridden: that fails with
 * %SOTTO_ERROR_INVALID_ARGUMENT.
 */
gboolean
sotto_context_set_listen_port (SottoContext  *self,
                               guint          port,
                               GError       **error)
{
  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), FALSE);
  g_return_val_if_fail (port <= 65535, FALSE);
  g_return_val_if_fail (!self->running, FALSE);

  if (!_sotto_context_ensure_settings (self, error))
    return FALSE;
  if (!g_settings_is_writable (self->settings, "listen-port"))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("Your administrator set the port Sotto listens on (%d): "
                     "it can’t be changed"),
                   g_settings_get_int (self->settings, "listen-port"));
      return FALSE;
    }

  self->port_override = (int)port;
  if (self->service != NULL)
    sotto_peer_service_set_port (self->service, port);
  return TRUE;
}

/**
 * sotto_context_dup_invite:
 * @self: a #SottoContext with its profile open
 * @error: return location for a #GError
 *
 * The user's own invite, with this computer's addresses and the port the
 * peer service listens on (or will, by the settings), as `sotto-cli
 * invite` prints it.
 *
 * Returns: (transfer full) (nullable): a `sotto:` URI
 */
char *
sotto_context_dup_invite (SottoContext  *self,
                          GError       **error)
{
  g_auto (GStrv) addresses = NULL;
  g_autoptr (SottoInvite) invite = NULL;
  g_autofree char *listen_address = NULL;
  guint port;

  g_return_val_if_fail (SOTTO_IS_CONTEXT (self), NULL);
  g_return_val_if_fail (self->store != NULL, NULL);

  if (self->service != NULL && sotto_peer_service_get_port (self->service) != 0)
    port = sotto_peer_service_get_port (self->service);
  else
    port = sotto_context_get_listen_port (self);
  /* Only `run --port 0` leaves it open: an invite then names no port yet. */
  if (port == 0)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The profile has no port yet: make the invite once it runs"));
      return NULL;
    }
  listen_address = g_settings_get_string (self->settings, "listen-address");
  addresses = sotto_local_addresses (listen_address, port, error);
  if (addresses == NULL)
    return NULL;
  invite = sotto_invite_new_for_identity (sotto_store_get_identity (self->store),
                                          (const char * const *)addresses, error);
  if (invite == NULL)
    return NULL;

  return sotto_invite_to_uri (invite);
}

typedef struct
{
  SottoKeyProtection  protection;
  char               *passphrase;
} ProtectData;

static void
protect_data_free (gpointer data)
{
  ProtectData *protect = data;

  if (protect->passphrase != NULL)
    sodium_memzero (protect->passphrase, strlen (protect->passphrase));
  g_free (protect->passphrase);
  g_free (protect);
}

static void
on_protection_set_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (!sotto_store_set_key_protection_finish (SOTTO_STORE (object), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_current_key_checked_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  ProtectData *protect = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;

  if (!sotto_store_check_key_finish (SOTTO_STORE (object), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* The default limits: about a second of Argon2id on an office PC. */
  sotto_store_set_key_protection_async (SOTTO_STORE (object), protect->protection,
                                        protect->passphrase, 0, 0, cancellable,
                                        on_protection_set_cb, g_steal_pointer (&task));
}

/**
 * sotto_context_protect_async:
 * @self: a #SottoContext with its profile open
 * @current: (nullable): the passphrase that protects the history key now;
 *   %NULL for a key in the login keyring (which may ask to be unlocked)
 * @protection: how to protect it from now on
 * @passphrase: (nullable): the new passphrase, for
 *   %SOTTO_KEY_PROTECTION_PASSPHRASE
 *
 * Changes how the history key is protected, only for whoever proves they
 * hold what protects it now: a running profile is open to every process
 * of the user, and re-wrapping its key under a passphrase of their own
 * would lock its owner out. Fails with %SOTTO_ERROR_NEEDS_PASSPHRASE or
 * %SOTTO_ERROR_WRONG_PASSPHRASE (nothing changed) when @current does not
 * open the key.
 */
void
sotto_context_protect_async (SottoContext        *self,
                             const char          *current,
                             SottoKeyProtection   protection,
                             const char          *passphrase,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;
  ProtectData *protect;

  g_return_if_fail (SOTTO_IS_CONTEXT (self));
  g_return_if_fail (self->store != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_context_protect_async);
  protect = g_new0 (ProtectData, 1);
  protect->protection = protection;
  protect->passphrase = g_strdup (passphrase);
  g_task_set_task_data (task, protect, protect_data_free);
  sotto_store_check_key_async (self->store, current, cancellable, on_current_key_checked_cb,
                               g_steal_pointer (&task));
}

gboolean
sotto_context_protect_finish (SottoContext  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
