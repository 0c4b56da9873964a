/* sotto-addresses.h — this computer's addresses: invite hints and where to listen
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A network interface's name, as Linux allows it (IFNAMSIZ - 1). */
#define SOTTO_INTERFACE_NAME_MAX 15

gboolean   sotto_listen_addresses_resolve (const char  *listen_address,
                                           GPtrArray  **out_addresses,
                                           GError     **error);
char     **sotto_local_addresses          (const char  *listen_address,
                                           guint        port,
                                           GError     **error);
gboolean   sotto_address_is_here          (GInetAddress *address);
char      *sotto_format_address           (GInetAddress *address,
                                           guint         port);

G_END_DECLS
