/* sotto-profile.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-profile"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>

#include "sotto-error.h"
#include "sotto-profile.h"

static gboolean
is_name_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '-';
}

/**
 * sotto_profile_name_validate:
 * @name: (nullable): a profile name from the user
 * @error: return location for a #SOTTO_ERROR_INVALID_ARGUMENT
 *
 * Returns: %TRUE if @name can be used as a profile name
 */
gboolean
sotto_profile_name_validate (const char  *name,
                             GError     **error)
{
  gsize len;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (name == NULL || name[0] == '\0')
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The profile name is empty"));
      return FALSE;
    }

  /* Bounded scan: never walk further than one byte past the limit. */
  len = strnlen (name, SOTTO_PROFILE_NAME_MAX + 1);
  if (len > SOTTO_PROFILE_NAME_MAX)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   ngettext ("The profile name is longer than %d character",
                             "The profile name is longer than %d characters",
                             SOTTO_PROFILE_NAME_MAX),
                   SOTTO_PROFILE_NAME_MAX);
      return FALSE;
    }

  if (!g_ascii_isalnum (name[0]))
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("A profile name must start with a letter or a digit"));
      return FALSE;
    }

  for (gsize i = 0; i < len; i++)
    {
      if (!is_name_char (name[i]))
        {
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("A profile name may only contain the letters A–Z and a–z, "
                                 "digits, “-” and “_”"));
          return FALSE;
        }
    }

  return TRUE;
}

/**
 * sotto_profile_application_id:
 * @base_id: the build's application id
 * @name: a valid profile name
 *
 * Each profile is its own unique application on the session bus, so two
 * profiles run side by side while a second start of the same profile
 * activates the running one. The default profile keeps @base_id, so it
 * matches the installed desktop file.
 *
 * Returns: (transfer full): the application id for @name
 */
char *
sotto_profile_application_id (const char *base_id,
                              const char *name)
{
  g_return_val_if_fail (g_application_id_is_valid (base_id), NULL);
  g_return_val_if_fail (sotto_profile_name_validate (name, NULL), NULL);

  if (g_str_equal (name, SOTTO_PROFILE_DEFAULT))
    return g_strdup (base_id);

  /* "Profile_" keeps the element from starting with a digit, which D-Bus
   * names forbid; every other profile name character is allowed. */
  return g_strconcat (base_id, ".Profile_", name, NULL);
}

/**
 * sotto_profile_default_dir:
 * @name: a valid profile name
 *
 * Returns: (transfer full): `$XDG_DATA_HOME/sotto/NAME`
 */
char *
sotto_profile_default_dir (const char *name)
{
  g_return_val_if_fail (sotto_profile_name_validate (name, NULL), NULL);

  return g_build_filename (g_get_user_data_dir (), "sotto", name, NULL);
}

/**
 * sotto_profile_settings_path:
 * @name: a valid profile name
 * @dir: (nullable): the profile's directory, %NULL for its default one
 *
 * Where the profile's own settings (the `SCHEMA_ID.Profile` schema) are
 * kept: `/im/sotto/Sotto/profiles/NAME/` for a profile in its default
 * directory, and for one in another directory (`--profile-dir`) a path
 * named after a hash of that directory, so that two such profiles never
 * share their port or their autostart entry.
 *
 * Returns: (transfer full): a GSettings path, ending with "/"
 */
char *
sotto_profile_settings_path (const char *name,
                             const char *dir)
{
  g_autofree char *default_dir = NULL;
  g_autofree char *hash = NULL;

  g_return_val_if_fail (sotto_profile_name_validate (name, NULL), NULL);

  default_dir = sotto_profile_default_dir (name);
  if (dir == NULL || g_str_equal (dir, default_dir))
    return g_strconcat (SOTTO_PROFILE_SETTINGS_BASE, name, "/", NULL);

  hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, dir, -1);
  hash[16] = '\0';
  return g_strconcat (SOTTO_PROFILE_SETTINGS_BASE, "dir-", hash, "/", NULL);
}

/**
 * sotto_profile_check_dir:
 * @dir: a profile directory
 * @st: (out caller-allocates) (optional): its status, when it exists
 * @error: return location for a #SOTTO_ERROR_PROFILE
 *
 * What keeps a profile from opening before its files are looked at: a
 * path that is a symbolic link (refused rather than followed somewhere
 * nobody chose), not a directory, another user's, or unreadable is said
 * to be so. A directory that does not exist is no error: @st then says
 * nothing (its st_mode is 0).
 *
 * Returns: %TRUE if @dir is the user's own directory or does not exist
 */
gboolean
sotto_profile_check_dir (const char  *dir,
                         GStatBuf    *st,
                         GError     **error)
{
  GStatBuf own;

  g_return_val_if_fail (dir != NULL, FALSE);

  if (st == NULL)
    st = &own;
  memset (st, 0, sizeof *st);
  if (g_lstat (dir, st) != 0)
    {
      int saved_errno = errno;

      memset (st, 0, sizeof *st);
      if (saved_errno == ENOENT)
        return TRUE;
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("Cannot read the profile directory “%s”: %s"), dir,
                   g_strerror (saved_errno));
      return FALSE;
    }
  if (S_ISLNK (st->st_mode))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("The profile path “%s” is a symbolic link; use the real directory instead"),
                   dir);
      return FALSE;
    }
  if (!S_ISDIR (st->st_mode))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("The profile path “%s” is not a directory"), dir);
      return FALSE;
    }
  if (st->st_uid != getuid ())
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("The profile directory “%s” belongs to another user"), dir);
      return FALSE;
    }
  return TRUE;
}
