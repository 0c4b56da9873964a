/* sotto-context.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-context"

#include "config.h"

#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sotto-context.h"
#include "sotto-error.h"
#include "sotto-profile.h"

/* History and keys live below the profile directory: nobody else reads it. */
#define PROFILE_DIR_MODE 0700

struct _SottoContext
{
  GObject parent_instance;

  /* construct-only */
  char *profile;
  char *profile_dir;
};

static void sotto_context_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SottoContext, sotto_context, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      sotto_context_initable_iface_init))

enum {
  PROP_0,
  PROP_PROFILE,
  PROP_PROFILE_DIR,
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

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sotto_context_init (SottoContext *self)
{
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
  if (g_lstat (self->profile_dir, &st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("Cannot read the profile directory “%s”: %s"),
                   self->profile_dir, g_strerror (saved_errno));
      return FALSE;
    }

  if (S_ISLNK (st.st_mode))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("The profile path “%s” is a symbolic link; use the real directory instead"),
                   self->profile_dir);
      return FALSE;
    }

  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("The profile path “%s” is not a directory"),
                   self->profile_dir);
      return FALSE;
    }

  if (st.st_uid != getuid ())
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("The profile directory “%s” belongs to another user"),
                   self->profile_dir);
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
