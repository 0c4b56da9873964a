/* sotto-addresses.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Where this computer can be reached: the addresses an invite names, and
 * the ones the listener binds when an administrator sets `listen-address`
 * (an address, or the name of a network interface: all of its addresses,
 * as it has them when Sotto starts listening).
 */
#define G_LOG_DOMAIN "sotto-addresses"

#include "config.h"

#include <string.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <glib/gi18n-lib.h>

#include "sotto-addresses.h"
#include "sotto-error.h"
#include "sotto-invite.h"

/* Linux accepts any byte but '/', ':' (aliases aside), whitespace and NUL;
 * real names use far fewer. */
static gboolean
is_interface_name (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > SOTTO_INTERFACE_NAME_MAX || g_str_equal (name, ".") ||
      g_str_equal (name, ".."))
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.' && *p != '@')
      return FALSE;
  return TRUE;
}

/* Every usable address of the interfaces that are up (only @interface's,
 * if set): loopback ones only when @interface is named, never IPv6
 * link-local ones (dialling them needs an interface name). @out_read says
 * whether the system told them at all. */
static GPtrArray *
interface_addresses (const char *interface,
                     gboolean   *out_read)
{
  GPtrArray *found = g_ptr_array_new_with_free_func (g_object_unref);
  struct ifaddrs *list = NULL;

  if (out_read != NULL)
    *out_read = getifaddrs (&list) == 0;
  else
    (void)getifaddrs (&list);
  if (list == NULL)
    return found;

  for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next)
    {
      g_autoptr (GSocketAddress) socket_address = NULL;
      GInetAddress *address;
      gsize len;

      if (ifa->ifa_addr == NULL || !(ifa->ifa_flags & IFF_UP))
        continue;
      if (interface != NULL ? g_strcmp0 (ifa->ifa_name, interface) != 0
                            : (ifa->ifa_flags & IFF_LOOPBACK) != 0)
        continue;
      if (ifa->ifa_addr->sa_family == AF_INET)
        len = sizeof (struct sockaddr_in);
      else if (ifa->ifa_addr->sa_family == AF_INET6)
        len = sizeof (struct sockaddr_in6);
      else
        continue;

      socket_address = g_socket_address_new_from_native (ifa->ifa_addr, len);
      if (!G_IS_INET_SOCKET_ADDRESS (socket_address))
        continue;
      address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (socket_address));
      if (g_inet_address_get_is_link_local (address) ||
          (interface == NULL && g_inet_address_get_is_loopback (address)))
        continue;
      g_ptr_array_add (found, g_object_ref (address));
    }
  freeifaddrs (list);
  return found;
}

/**
 * sotto_address_is_here:
 * @address: our end of a connection
 *
 * Whether @address is still one of this computer's: loopback, link-local
 * and IPv4 mapped into IPv6 count as here, and so does anything when the
 * addresses can't be read. A connection from an address that went is
 * dead, though the kernel does not say so.
 */
gboolean
sotto_address_is_here (GInetAddress *address)
{
  g_autoptr (GPtrArray) here = NULL;
  gboolean read = FALSE;

  g_return_val_if_fail (G_IS_INET_ADDRESS (address), TRUE);

  if (g_inet_address_get_is_loopback (address) || g_inet_address_get_is_link_local (address) ||
      g_inet_address_get_is_any (address))
    return TRUE;
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    {
      const guint8 *bytes = g_inet_address_to_bytes (address);
      static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

      if (memcmp (bytes, mapped, sizeof mapped) == 0)
        {
          g_autoptr (GInetAddress) v4 = g_inet_address_new_from_bytes (bytes + 12,
                                                                       G_SOCKET_FAMILY_IPV4);

          return sotto_address_is_here (v4);
        }
    }
  here = interface_addresses (NULL, &read);
  if (!read)
    return TRUE;
  for (guint i = 0; i < here->len; i++)
    if (g_inet_address_equal (g_ptr_array_index (here, i), address))
      return TRUE;
  return FALSE;
}

/* IPv4 first, as invites list them. */
static int
compare_family (gconstpointer a,
                gconstpointer b)
{
  GSocketFamily fa = g_inet_address_get_family (*(GInetAddress * const *)a);
  GSocketFamily fb = g_inet_address_get_family (*(GInetAddress * const *)b);

  return (fa == G_SOCKET_FAMILY_IPV6) - (fb == G_SOCKET_FAMILY_IPV6);
}

/**
 * sotto_listen_addresses_resolve:
 * @listen_address: (nullable): the `listen-address` setting: "" for every
 *   address, an IPv4 or IPv6 address, or a network interface's name
 * @out_addresses: (out) (element-type GInetAddress) (transfer full)
 *   (nullable): the addresses to listen on, IPv4 first; %NULL for all
 *
 * Fails with %SOTTO_ERROR_INVALID_ARGUMENT when @listen_address is neither
 * an address nor an interface name, and with %SOTTO_ERROR_NOT_FOUND when
 * no interface of that name is up with an address.
 *
 * Returns: whether @out_addresses says where to listen
 */
gboolean
sotto_listen_addresses_resolve (const char  *listen_address,
                                GPtrArray  **out_addresses,
                                GError     **error)
{
  g_autofree char *setting = g_strstrip (g_strdup (listen_address != NULL ? listen_address : ""));
  g_autoptr (GInetAddress) literal = NULL;
  g_autoptr (GPtrArray) found = NULL;

  g_return_val_if_fail (out_addresses != NULL, FALSE);

  *out_addresses = NULL;
  if (setting[0] == '\0')
    return TRUE;

  /* "[::1]" as well as "::1". */
  if (setting[0] == '[' && g_str_has_suffix (setting, "]"))
    {
      g_autofree char *inner = g_strndup (setting + 1, strlen (setting) - 2);

      literal = g_inet_address_new_from_string (inner);
    }
  else
    literal = g_inet_address_new_from_string (setting);
  if (literal != NULL)
    {
      *out_addresses = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_add (*out_addresses, g_steal_pointer (&literal));
      return TRUE;
    }

  /* Digits and dots only, or a colon: meant as an address, and not one. */
  if (!is_interface_name (setting) || strspn (setting, "0123456789.") == strlen (setting))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("“%s” in listen-address is neither an address nor a network interface"),
                   setting);
      return FALSE;
    }
  found = interface_addresses (setting, NULL);
  if (found->len == 0)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND,
                   _("The network interface “%s” named in listen-address is not up or has "
                     "no address"), setting);
      return FALSE;
    }
  g_ptr_array_sort (found, compare_family);
  *out_addresses = g_steal_pointer (&found);
  return TRUE;
}

/**
 * sotto_format_address:
 *
 * Returns: (transfer full): "host:port", "[v6]:port" for IPv6
 */
char *
sotto_format_address (GInetAddress *address,
                      guint         port)
{
  g_autofree char *host = NULL;

  g_return_val_if_fail (G_IS_INET_ADDRESS (address), NULL);

  host = g_inet_address_to_string (address);
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", host, port);
  return g_strdup_printf ("%s:%u", host, port);
}

/**
 * sotto_local_addresses:
 * @listen_address: (nullable): the `listen-address` setting
 * @port: the port colleagues dial
 *
 * This computer's addresses as invite hints, at most
 * %SOTTO_INVITE_MAX_ADDRESSES, IPv4 first: with @listen_address set, only
 * the ones Sotto listens on; else every address of an interface that is
 * up, except loopback and IPv6 link-local ones (which need an interface
 * name to be dialled).
 *
 * Returns: (transfer full): "host:port" strings, possibly none; %NULL
 *   with @error when @listen_address names nothing to listen on
 */
char **
sotto_local_addresses (const char  *listen_address,
                       guint        port,
                       GError     **error)
{
  g_autoptr (GPtrArray) addresses = NULL;
  GPtrArray *all;

  g_return_val_if_fail (port > 0 && port <= 65535, NULL);

  if (!sotto_listen_addresses_resolve (listen_address, &addresses, error))
    return NULL;
  if (addresses == NULL)
    {
      addresses = interface_addresses (NULL, NULL);
      g_ptr_array_sort (addresses, compare_family);
    }

  all = g_ptr_array_new ();
  for (guint i = 0; i < addresses->len && all->len < SOTTO_INVITE_MAX_ADDRESSES; i++)
    {
      GInetAddress *address = g_ptr_array_index (addresses, i);

      /* Listening on any address: that is not an address to dial. */
      if (g_inet_address_get_is_any (address))
        continue;
      g_ptr_array_add (all, sotto_format_address (address, port));
    }
  g_ptr_array_add (all, NULL);
  return (char **)g_ptr_array_free (all, FALSE);
}
