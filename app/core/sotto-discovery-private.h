/* sotto-discovery-private.h — entry points for tests only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <avahi-common/strlst.h>

#include "sotto-discovery.h"

G_BEGIN_DECLS

gboolean _sotto_discovery_read_txt (AvahiStringList  *txt,
                                    char            **out_id,
                                    char            **out_name);

G_END_DECLS
