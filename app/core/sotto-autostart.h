/* sotto-autostart.h — starting Sotto when the user logs in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char     *sotto_autostart_dup_path   (const char  *profile);
gboolean  sotto_autostart_set        (gboolean     enabled,
                                      const char  *profile,
                                      GError     **error);
gboolean  sotto_autostart_is_enabled (const char  *profile);

G_END_DECLS
