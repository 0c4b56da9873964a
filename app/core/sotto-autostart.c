/* sotto-autostart.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The XDG autostart entries ($XDG_CONFIG_HOME/autostart/APP_ID.desktop,
 * one per profile, named after the profile's application id) that the
 * session starts at login. It is a copy of the installed
 * desktop entry, translations included, so the session shows the same
 * name and icon; only Exec differs: it names the profile to start.
 */
#define G_LOG_DOMAIN "sotto-autostart"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "sotto-autostart.h"
#include "sotto-profile.h"

#define DESKTOP_GROUP G_KEY_FILE_DESKTOP_GROUP

/* The installed desktop entry, or a minimal one when Sotto runs from its
 * build tree and none is installed. */
static GKeyFile *
load_desktop_entry (void)
{
  g_autoptr (GKeyFile) entry = g_key_file_new ();

  /* Looked up as the session would, but without GDesktopAppInfo: it would
   * refuse an entry whose program is not in this process's PATH. */
  if (g_key_file_load_from_data_dirs (entry, "applications/" APPLICATION_ID ".desktop", NULL,
                                      G_KEY_FILE_KEEP_TRANSLATIONS, NULL))
    return g_steal_pointer (&entry);

  g_clear_pointer (&entry, g_key_file_unref);
  entry = g_key_file_new ();
  g_key_file_set_string (entry, DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_TYPE,
                         G_KEY_FILE_DESKTOP_TYPE_APPLICATION);
  g_key_file_set_string (entry, DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_NAME, "Sotto");
  g_key_file_set_string (entry, DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_ICON, APPLICATION_ID);
  g_key_file_set_boolean (entry, DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_TERMINAL, FALSE);

  return g_steal_pointer (&entry);
}

/**
 * sotto_autostart_dup_path:
 * @profile: (nullable): a valid profile name, %NULL for the default one
 *
 * Returns: (transfer full): where the profile's autostart entry is kept
 */
char *
sotto_autostart_dup_path (const char *profile)
{
  g_autofree char *id = NULL;
  g_autofree char *file = NULL;

  id = sotto_profile_application_id (APPLICATION_ID,
                                     profile != NULL ? profile : SOTTO_PROFILE_DEFAULT);
  file = g_strconcat (id, ".desktop", NULL);
  return g_build_filename (g_get_user_config_dir (), "autostart", file, NULL);
}

/**
 * sotto_autostart_set:
 * @enabled: whether Sotto should start at login
 * @profile: (nullable): the profile to start, %NULL for the default one
 * @error: return location for a #GFileError or a #SOTTO_ERROR
 *
 * Writes the autostart entry, or removes it. Removing one that is not
 * there is no error.
 *
 * Returns: %TRUE on success
 */
gboolean
sotto_autostart_set (gboolean     enabled,
                     const char  *profile,
                     GError     **error)
{
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *exec = NULL;
  g_autoptr (GKeyFile) entry = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (profile == NULL)
    profile = SOTTO_PROFILE_DEFAULT;
  /* Validated profile names need no quoting in Exec: [A-Za-z0-9_-] only. */
  if (!sotto_profile_name_validate (profile, error))
    return FALSE;
  path = sotto_autostart_dup_path (profile);

  if (!enabled)
    {
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          int saved_errno = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                       _("Could not remove “%s”: %s"), path, g_strerror (saved_errno));
          return FALSE;
        }
      return TRUE;
    }

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("Could not create the folder “%s”: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }

  entry = load_desktop_entry ();
  exec = g_strdup_printf ("sotto --profile %s", profile);
  g_key_file_set_string (entry, DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_EXEC, exec);
  /* A copy of an entry that the user had hidden must still start. */
  g_key_file_remove_key (entry, DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_HIDDEN, NULL);
  g_key_file_remove_key (entry, DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_NO_DISPLAY, NULL);
  g_key_file_remove_key (entry, DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_DBUS_ACTIVATABLE, NULL);
  g_key_file_remove_key (entry, DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_TRY_EXEC, NULL);
  g_key_file_set_boolean (entry, DESKTOP_GROUP, "X-GNOME-Autostart-enabled", TRUE);

  return g_key_file_save_to_file (entry, path, error);
}

/**
 * sotto_autostart_is_enabled:
 * @profile: (nullable): a valid profile name, %NULL for the default one
 *
 * Returns: %TRUE if the profile's autostart entry is there and the
 *   session would start it
 */
gboolean
sotto_autostart_is_enabled (const char *profile)
{
  g_autofree char *path = sotto_autostart_dup_path (profile);
  g_autoptr (GKeyFile) entry = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  gboolean enabled;

  if (!g_key_file_load_from_file (entry, path, G_KEY_FILE_NONE, NULL))
    return FALSE;

  if (g_key_file_get_boolean (entry, DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_HIDDEN, NULL))
    return FALSE;

  enabled = g_key_file_get_boolean (entry, DESKTOP_GROUP, "X-GNOME-Autostart-enabled", &error);
  return enabled || error != NULL;
}
