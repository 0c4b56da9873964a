/* sotto-profile.h — profile names and what derives from them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

G_BEGIN_DECLS

/* A profile name ends up in a directory name and in a D-Bus name, so it is
 * short and plain: 1 to SOTTO_PROFILE_NAME_MAX bytes of [A-Za-z0-9_-],
 * starting with a letter or digit. */
#define SOTTO_PROFILE_NAME_MAX 64
#define SOTTO_PROFILE_DEFAULT  "default"

/* Each profile's own settings live below this GSettings path. */
#define SOTTO_PROFILE_SETTINGS_BASE "/im/sotto/Sotto/profiles/"

gboolean  sotto_profile_name_validate    (const char  *name,
                                          GError     **error);
char     *sotto_profile_application_id   (const char  *base_id,
                                          const char  *name);
char     *sotto_profile_default_dir      (const char  *name);
char     *sotto_profile_settings_path    (const char  *name,
                                          const char  *dir);
gboolean  sotto_profile_check_dir        (const char  *dir,
                                          GStatBuf    *st,
                                          GError     **error);

G_END_DECLS
