/* sotto-discovery.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * DNS-SD through the Avahi service (avahi-client on the GLib main loop):
 * publishes this profile's `_sotto._tcp` instance while it listens, and
 * browses and resolves everyone else's. What it finds is a hint and
 * nothing more (PROTOCOL.md, "Discovery on the local network"): a
 * contact's addresses go to the peer service through
 * SottoDiscovery::contact-seen, where the handshake proves them; anyone
 * else is a SottoNearby in sotto_discovery_get_services(), for the user
 * to look at.
 *
 * Without the Avahi service (or without a system bus) nothing else
 * changes: the state says so, and discovery starts by itself when the
 * service appears.
 */
#define G_LOG_DOMAIN "sotto-discovery"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <net/if.h>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-glib/glib-watch.h>

#include "sotto-addresses.h"
#include "sotto-contact.h"
#include "sotto-discovery-private.h"
#include "sotto-identity.h"
#include "sotto-policy.h"

typedef struct _Instance Instance;

struct _SottoDiscovery
{
  GObject              parent_instance;

  /* owned references */
  SottoStore          *store;
  GSettings           *settings;
  SottoPolicy         *policy;
  GListStore          *services;     /* SottoNearby, in the order they came */

  GHashTable          *instances;    /* "name\ttype\tdomain" → Instance */
  GHashTable          *contact_ids;  /* discovery id → contact id (gint64 *) */
  char                *own_id;

  /* Avahi */
  AvahiGLibPoll       *poll;
  AvahiClient         *client;
  AvahiServiceBrowser *browser;
  AvahiEntryGroup     *group;
  char                *published_name;  /* the instance name we hold, or NULL */
  guint                reconnect_source;
  guint                match_source;   /* contacts changed: matched once settled */

  guint                port;          /* 0: nothing to publish */
  gboolean             running;       /* between start() and stop() */
  SottoDiscoveryState  state;
  char                *failure;       /* why, in FAILED */
};

G_DEFINE_FINAL_TYPE (SottoDiscovery, sotto_discovery, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (SottoDiscoveryState, sotto_discovery_state,
                    G_DEFINE_ENUM_VALUE (SOTTO_DISCOVERY_STATE_OFF, "off"),
                    G_DEFINE_ENUM_VALUE (SOTTO_DISCOVERY_STATE_STARTING, "starting"),
                    G_DEFINE_ENUM_VALUE (SOTTO_DISCOVERY_STATE_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (SOTTO_DISCOVERY_STATE_UNAVAILABLE, "unavailable"),
                    G_DEFINE_ENUM_VALUE (SOTTO_DISCOVERY_STATE_FAILED, "failed"))

enum {
  PROP_0,
  PROP_STATE,
  N_PROPS
};

enum {
  SERVICE_CHANGED,
  SERVICE_REMOVED,
  CONTACT_SEEN,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* One resolver per interface and protocol the browser saw the instance on. */
typedef struct
{
  Instance             *instance;   /* unowned: the instance owns it */
  AvahiIfIndex          interface;
  AvahiProtocol         protocol;
  AvahiServiceResolver *resolver;   /* NULL while waiting to retry */
  guint                 retry_source;

  /* what it last found; NULL/0 while it has found nothing usable */
  GInetAddress         *address;
  guint16               port;
  char                 *id;
  char                 *name;
  guint64               found_serial;  /* newer finds sort first */
} Resolver;

struct _Instance
{
  SottoDiscovery *self;       /* unowned */
  char           *name;
  char           *type;
  char           *domain;
  GPtrArray      *resolvers;  /* Resolver */
  SottoNearby    *nearby;     /* in self->services, once usable */
};

static guint64 find_serial;

static void connect_client (SottoDiscovery *self);
static void publish (SottoDiscovery *self);
static void update_instance (Instance *instance);

/* -------------------------------------------------------------------------
 * State
 * ------------------------------------------------------------------------- */

static void
set_state (SottoDiscovery      *self,
           SottoDiscoveryState  state,
           const char          *failure)
{
  g_assert (SOTTO_IS_DISCOVERY (self));

  if (self->state == state && g_strcmp0 (self->failure, failure) == 0)
    return;
  self->state = state;
  g_free (self->failure);
  self->failure = g_strdup (failure);
  g_debug ("state %s%s%s", sotto_discovery_state_to_string (state),
           failure != NULL ? ": " : "", failure != NULL ? failure : "");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static gboolean
enabled (SottoDiscovery *self)
{
  return g_settings_get_boolean (self->settings, "discovery-enabled");
}

/* -------------------------------------------------------------------------
 * Instances and what they resolved to
 * ------------------------------------------------------------------------- */

static void
resolver_free (Resolver *resolver)
{
  g_clear_handle_id (&resolver->retry_source, g_source_remove);
  g_clear_pointer (&resolver->resolver, avahi_service_resolver_free);
  g_clear_object (&resolver->address);
  g_free (resolver->id);
  g_free (resolver->name);
  g_free (resolver);
}

static gboolean
find_service (SottoDiscovery *self,
              SottoNearby    *nearby,
              guint          *position)
{
  return g_list_store_find (self->services, nearby, position);
}

static void
forget_nearby (Instance *instance)
{
  SottoDiscovery *self = instance->self;
  g_autoptr (SottoNearby) nearby = g_steal_pointer (&instance->nearby);
  guint position;

  if (nearby == NULL)
    return;
  if (find_service (self, nearby, &position))
    g_list_store_remove (self->services, position);
  g_signal_emit (self, signals[SERVICE_REMOVED], 0, nearby);
}

static void
instance_free (Instance *instance)
{
  forget_nearby (instance);
  g_ptr_array_unref (instance->resolvers);
  g_free (instance->name);
  g_free (instance->type);
  g_free (instance->domain);
  g_free (instance);
}

static char *
instance_key (const char *name,
              const char *type,
              const char *domain)
{
  return g_strdup_printf ("%s\t%s\t%s", name, type, domain);
}

/* The TXT record, as PROTOCOL.md reads it: keys without regard to case,
 * only the first of each counts; `v=1` and a valid `id` required. */
gboolean
_sotto_discovery_read_txt (AvahiStringList  *txt,
                           char            **out_id,
                           char            **out_name)
{
  g_autofree char *version = NULL;
  g_autofree char *id = NULL;
  g_autofree char *name = NULL;
  gboolean has_name = FALSE;

  for (AvahiStringList *l = txt; l != NULL; l = avahi_string_list_get_next (l))
    {
      const char *text = (const char *)avahi_string_list_get_text (l);
      gsize size = avahi_string_list_get_size (l);
      const char *equals = memchr (text, '=', size);
      g_autofree char *key = NULL;
      g_autofree char *value = NULL;

      if (equals == NULL || equals == text)
        continue;
      key = g_ascii_strdown (text, equals - text);
      /* A value with a NUL in it is nothing we publish. */
      if (memchr (equals + 1, '\0', size - (equals + 1 - text)) != NULL)
        value = NULL;
      else
        value = g_strndup (equals + 1, size - (equals + 1 - text));

      if (g_str_equal (key, "v") && version == NULL)
        version = value != NULL ? g_steal_pointer (&value) : g_strdup ("");
      else if (g_str_equal (key, "id") && id == NULL)
        id = value != NULL ? g_steal_pointer (&value) : g_strdup ("");
      else if (g_str_equal (key, "name") && !has_name)
        {
          has_name = TRUE;
          if (value != NULL && g_utf8_validate (value, -1, NULL) &&
              sotto_display_name_validate (value, NULL))
            name = g_steal_pointer (&value);
        }
    }

  if (g_strcmp0 (version, SOTTO_DISCOVERY_PROTOCOL) != 0 || !sotto_discovery_id_is_valid (id))
    return FALSE;
  *out_id = g_steal_pointer (&id);
  *out_name = g_steal_pointer (&name);
  return TRUE;
}

static GInetAddress *
inet_address_from_avahi (const AvahiAddress *address)
{
  if (address->proto == AVAHI_PROTO_INET)
    return g_inet_address_new_from_bytes ((const guint8 *)&address->data.ipv4.address,
                                          G_SOCKET_FAMILY_IPV4);
  if (address->proto == AVAHI_PROTO_INET6)
    return g_inet_address_new_from_bytes (address->data.ipv6.address, G_SOCKET_FAMILY_IPV6);
  return NULL;
}

static gint
compare_found (gconstpointer a,
               gconstpointer b)
{
  const Resolver *ra = *(Resolver * const *)a;
  const Resolver *rb = *(Resolver * const *)b;

  return ra->found_serial < rb->found_serial ? 1 : ra->found_serial > rb->found_serial ? -1 : 0;
}

static void
on_resolver_retry_cb (gpointer user_data);

static void
on_resolved_cb (AvahiServiceResolver   *avahi_resolver,
                AvahiIfIndex            interface,
                AvahiProtocol           protocol,
                AvahiResolverEvent      event,
                const char             *name,
                const char             *type,
                const char             *domain,
                const char             *host_name,
                const AvahiAddress     *address,
                uint16_t                port,
                AvahiStringList        *txt,
                AvahiLookupResultFlags  flags,
                void                   *user_data)
{
  Resolver *resolver = user_data;
  g_autofree char *id = NULL;
  g_autofree char *published_name = NULL;

  if (event != AVAHI_RESOLVER_FOUND)
    {
      /* Perhaps the host's address went, and the new one is still on its
       * way: ask again in a moment, while the browser still lists it. */
      g_debug ("resolving “%s” failed: %s", name,
               avahi_strerror (avahi_client_errno (avahi_service_resolver_get_client (avahi_resolver))));
      g_clear_pointer (&resolver->resolver, avahi_service_resolver_free);
      g_clear_object (&resolver->address);
      resolver->retry_source = g_timeout_add_once (SOTTO_DISCOVERY_RESOLVE_RETRY_MS,
                                                   on_resolver_retry_cb, resolver);
      update_instance (resolver->instance);
      return;
    }

  g_clear_object (&resolver->address);
  g_clear_pointer (&resolver->id, g_free);
  g_clear_pointer (&resolver->name, g_free);
  if ((flags & AVAHI_LOOKUP_RESULT_OUR_OWN) == 0 && _sotto_discovery_read_txt (txt, &id, &published_name) &&
      port > 0)
    {
      g_autoptr (GInetAddress) inet = inet_address_from_avahi (address);

      /* A link-local IPv6 address needs a zone that an address cannot
       * carry (PROTOCOL.md, "Address hints"). */
      if (inet != NULL && !g_inet_address_get_is_link_local (inet) &&
          !g_inet_address_get_is_any (inet) && !g_inet_address_get_is_multicast (inet))
        {
          resolver->address = g_steal_pointer (&inet);
          resolver->port = port;
          resolver->id = g_steal_pointer (&id);
          resolver->name = g_steal_pointer (&published_name);
          resolver->found_serial = ++find_serial;
        }
    }
  else
    g_debug ("“%s” is not a Sotto service we can use", name);

  update_instance (resolver->instance);
}

static void
start_resolver (Resolver *resolver)
{
  SottoDiscovery *self = resolver->instance->self;

  if (self->client == NULL)
    return;
  /* The address in the family the instance was seen over. */
  resolver->resolver = avahi_service_resolver_new (self->client, resolver->interface,
                                                   resolver->protocol, resolver->instance->name,
                                                   resolver->instance->type,
                                                   resolver->instance->domain,
                                                   resolver->protocol, 0, on_resolved_cb, resolver);
  if (resolver->resolver == NULL)
    g_debug ("can't resolve “%s”: %s", resolver->instance->name,
             avahi_strerror (avahi_client_errno (self->client)));
}

static void
on_resolver_retry_cb (gpointer user_data)
{
  Resolver *resolver = user_data;

  resolver->retry_source = 0;
  start_resolver (resolver);
}

/* What the instance's resolvers found, as one SottoNearby: the newest id
 * and name, and their addresses, newest first, that the policy allows. */
static void
update_instance (Instance *instance)
{
  SottoDiscovery *self = instance->self;
  g_autoptr (GPtrArray) found = g_ptr_array_new ();
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) addresses = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const Resolver *newest;
  gboolean is_new = FALSE;
  gboolean changed;
  gint64 *contact_id;
  guint n = 0;

  for (guint i = 0; i < instance->resolvers->len; i++)
    {
      Resolver *resolver = g_ptr_array_index (instance->resolvers, i);

      if (resolver->address != NULL)
        g_ptr_array_add (found, resolver);
    }
  g_ptr_array_sort (found, compare_found);
  newest = found->len > 0 ? g_ptr_array_index (found, 0) : NULL;

  for (guint i = 0; newest != NULL && i < found->len && n < SOTTO_DISCOVERY_MAX_ADDRESSES; i++)
    {
      const Resolver *resolver = g_ptr_array_index (found, i);
      char *address;

      /* One instance, one key: what another id says is not this one. */
      if (!g_str_equal (resolver->id, newest->id) ||
          !sotto_policy_may_connect (self->policy, resolver->address))
        continue;
      address = sotto_format_address (resolver->address, resolver->port);
      if (!g_hash_table_add (seen, address))
        continue;
      g_strv_builder_add (builder, address);
      n++;
    }
  addresses = g_strv_builder_end (builder);

  /* Nothing usable, or ourselves (another instance of our own key: our
   * profile on a second interface, or an old registration). */
  if (newest == NULL || addresses[0] == NULL || g_str_equal (newest->id, self->own_id))
    {
      forget_nearby (instance);
      return;
    }

  if (instance->nearby != NULL && !g_str_equal (sotto_nearby_get_id (instance->nearby), newest->id))
    forget_nearby (instance);
  if (instance->nearby == NULL)
    {
      instance->nearby = sotto_nearby_new (newest->id, instance->name);
      is_new = TRUE;
    }

  changed = sotto_nearby_set_addresses (instance->nearby, (const char * const *)addresses);
  if (g_strcmp0 (sotto_nearby_get_name (instance->nearby), newest->name) != 0)
    {
      sotto_nearby_set_name (instance->nearby, newest->name);
      changed = TRUE;
    }
  contact_id = g_hash_table_lookup (self->contact_ids, newest->id);
  sotto_nearby_set_contact_id (instance->nearby, contact_id != NULL ? *contact_id : 0);

  if (is_new)
    g_list_store_append (self->services, instance->nearby);
  if (is_new || changed)
    {
      g_signal_emit (self, signals[SERVICE_CHANGED], 0, instance->nearby);
      if (contact_id != NULL)
        g_signal_emit (self, signals[CONTACT_SEEN], 0, *contact_id, addresses);
    }
}

static Resolver *
find_resolver (Instance      *instance,
               AvahiIfIndex   interface,
               AvahiProtocol  protocol,
               guint         *index)
{
  for (guint i = 0; i < instance->resolvers->len; i++)
    {
      Resolver *resolver = g_ptr_array_index (instance->resolvers, i);

      if (resolver->interface == interface && resolver->protocol == protocol)
        {
          if (index != NULL)
            *index = i;
          return resolver;
        }
    }
  return NULL;
}

static void
on_browsed_cb (AvahiServiceBrowser    *browser,
               AvahiIfIndex            interface,
               AvahiProtocol           protocol,
               AvahiBrowserEvent       event,
               const char             *name,
               const char             *type,
               const char             *domain,
               AvahiLookupResultFlags  flags,
               void                   *user_data)
{
  SottoDiscovery *self = user_data;
  g_autofree char *key = NULL;
  Instance *instance;
  Resolver *resolver;
  guint index;

  switch (event)
    {
    case AVAHI_BROWSER_NEW:
      /* Our own instance is not a colleague. */
      if ((flags & AVAHI_LOOKUP_RESULT_OUR_OWN) != 0)
        return;
      key = instance_key (name, type, domain);
      instance = g_hash_table_lookup (self->instances, key);
      if (instance == NULL)
        {
          if (g_hash_table_size (self->instances) >= SOTTO_DISCOVERY_MAX_SERVICES)
            {
              g_debug ("“%s” ignored: %u services already", name, SOTTO_DISCOVERY_MAX_SERVICES);
              return;
            }
          instance = g_new0 (Instance, 1);
          instance->self = self;
          instance->name = g_strdup (name);
          instance->type = g_strdup (type);
          instance->domain = g_strdup (domain);
          instance->resolvers = g_ptr_array_new_with_free_func ((GDestroyNotify)resolver_free);
          g_hash_table_insert (self->instances, g_steal_pointer (&key), instance);
        }
      if (find_resolver (instance, interface, protocol, NULL) != NULL)
        return;
      resolver = g_new0 (Resolver, 1);
      resolver->instance = instance;
      resolver->interface = interface;
      resolver->protocol = protocol;
      g_ptr_array_add (instance->resolvers, resolver);
      start_resolver (resolver);
      break;

    case AVAHI_BROWSER_REMOVE:
      key = instance_key (name, type, domain);
      instance = g_hash_table_lookup (self->instances, key);
      if (instance == NULL || find_resolver (instance, interface, protocol, &index) == NULL)
        return;
      g_ptr_array_remove_index (instance->resolvers, index);
      if (instance->resolvers->len == 0)
        g_hash_table_remove (self->instances, key);
      else
        update_instance (instance);
      break;

    case AVAHI_BROWSER_FAILURE:
      g_debug ("browsing failed: %s",
               avahi_strerror (avahi_client_errno (avahi_service_browser_get_client (browser))));
      break;

    case AVAHI_BROWSER_CACHE_EXHAUSTED:
    case AVAHI_BROWSER_ALL_FOR_NOW:
    default:
      break;
    }
}

/* -------------------------------------------------------------------------
 * Contacts: which discovery ids are theirs
 * ------------------------------------------------------------------------- */

static void
match_contacts (SottoDiscovery *self)
{
  GListModel *contacts = sotto_store_get_contacts (self->store);
  GHashTableIter iter;
  Instance *instance;

  g_assert (SOTTO_IS_DISCOVERY (self));

  g_hash_table_remove_all (self->contact_ids);
  for (guint i = 0; contacts != NULL && i < g_list_model_get_n_items (contacts); i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (contacts, i);

      if (sotto_contact_get_blocked (contact))
        continue;
      g_hash_table_insert (self->contact_ids,
                           sotto_discovery_id_for_key (sotto_contact_get_public_key (contact)),
                           g_memdup2 (&(gint64){ sotto_contact_get_id (contact) }, sizeof (gint64)));
    }

  /* A stranger added a moment ago is a contact now: its addresses are
   * worth dialling. */
  g_hash_table_iter_init (&iter, self->instances);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&instance))
    if (instance->nearby != NULL)
      {
        gint64 *contact_id = g_hash_table_lookup (self->contact_ids,
                                                  sotto_nearby_get_id (instance->nearby));
        gint64 was = sotto_nearby_get_contact_id (instance->nearby);

        sotto_nearby_set_contact_id (instance->nearby, contact_id != NULL ? *contact_id : 0);
        if (contact_id != NULL && *contact_id != was)
          {
            g_signal_emit (self, signals[SERVICE_CHANGED], 0, instance->nearby);
            g_signal_emit (self, signals[CONTACT_SEEN], 0, *contact_id,
                           sotto_nearby_get_addresses (instance->nearby));
          }
        else if (contact_id == NULL && was != 0)
          g_signal_emit (self, signals[SERVICE_CHANGED], 0, instance->nearby);
      }
}

static void
on_match_cb (gpointer user_data)
{
  SottoDiscovery *self = user_data;

  self->match_source = 0;
  match_contacts (self);
}

/* The store changes a contact by taking it out and putting it back: matched
 * in between, a contact would pass for a stranger for a moment. */
static void
on_contacts_changed_cb (GListModel     *contacts,
                        guint           position,
                        guint           removed,
                        guint           added,
                        SottoDiscovery *self)
{
  if (self->match_source == 0)
    self->match_source = g_idle_add_once (on_match_cb, self);
}

/* -------------------------------------------------------------------------
 * Publishing
 * ------------------------------------------------------------------------- */

/* The instance name: the display name if the user lets us publish it, cut
 * to a DNS label; else the discovery id, which is published anyway. */
static char *
make_instance_name (SottoDiscovery *self)
{
  SottoIdentity *identity = sotto_store_get_identity (self->store);
  const char *display = identity != NULL ? sotto_identity_get_display_name (identity) : NULL;
  g_autofree char *grouped = sotto_discovery_id_format (self->own_id);
  const char *end;

  if (g_settings_get_boolean (self->settings, "discovery-publish-name") && display != NULL &&
      *display != '\0')
    {
      if (strlen (display) <= SOTTO_DISCOVERY_MAX_NAME)
        return g_strdup (display);
      /* At a character boundary. */
      end = g_utf8_find_prev_char (display, display + SOTTO_DISCOVERY_MAX_NAME + 1);
      return g_strndup (display, end - display);
    }
  return g_strdup_printf ("Sotto %s", grouped);
}

/* Where the profile listens (`listen-address`): that interface only. */
static gboolean
publish_interface (SottoDiscovery *self,
                   AvahiIfIndex   *out_interface,
                   AvahiProtocol  *out_protocol)
{
  g_autofree char *listen = g_settings_get_string (self->settings, "listen-address");
  g_autoptr (GInetAddress) address = NULL;
  struct ifaddrs *list = NULL;
  gboolean found = FALSE;

  *out_interface = AVAHI_IF_UNSPEC;
  *out_protocol = AVAHI_PROTO_UNSPEC;
  g_strstrip (listen);
  if (*listen == '\0')
    return TRUE;

  address = g_inet_address_new_from_string (listen);
  if (address == NULL)
    {
      unsigned index = if_nametoindex (listen);

      *out_interface = index;
      return index != 0;
    }

  if (getifaddrs (&list) != 0)
    return FALSE;
  for (struct ifaddrs *i = list; i != NULL && !found; i = i->ifa_next)
    {
      g_autoptr (GSocketAddress) socket_address = NULL;

      if (i->ifa_addr == NULL ||
          (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
        continue;
      socket_address = g_socket_address_new_from_native (i->ifa_addr,
                                                         i->ifa_addr->sa_family == AF_INET
                                                         ? sizeof (struct sockaddr_in)
                                                         : sizeof (struct sockaddr_in6));
      if (G_IS_INET_SOCKET_ADDRESS (socket_address) &&
          g_inet_address_equal (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (socket_address)),
                                address))
        {
          *out_interface = if_nametoindex (i->ifa_name);
          *out_protocol = i->ifa_addr->sa_family == AF_INET ? AVAHI_PROTO_INET : AVAHI_PROTO_INET6;
          found = *out_interface != 0;
        }
    }
  freeifaddrs (list);
  return found;
}

static void
on_group_cb (AvahiEntryGroup      *group,
             AvahiEntryGroupState  state,
             void                 *user_data)
{
  SottoDiscovery *self = user_data;

  switch (state)
    {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
      g_debug ("published “%s”", self->published_name);
      break;

    case AVAHI_ENTRY_GROUP_COLLISION:
      {
        /* Someone else has the name: the next one, as mDNS wants it. */
        char *alternative = avahi_alternative_service_name (self->published_name);

        g_debug ("“%s” is taken, trying “%s”", self->published_name, alternative);
        g_free (self->published_name);
        self->published_name = g_strdup (alternative);
        avahi_free (alternative);
        publish (self);
      }
      break;

    case AVAHI_ENTRY_GROUP_FAILURE:
      g_warning ("can't publish on the local network: %s",
                 avahi_strerror (avahi_client_errno (avahi_entry_group_get_client (group))));
      break;

    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
    default:
      break;
    }
}

static AvahiStringList *
make_txt (SottoDiscovery *self)
{
  SottoIdentity *identity = sotto_store_get_identity (self->store);
  const char *display = identity != NULL ? sotto_identity_get_display_name (identity) : NULL;
  g_autofree char *id = g_strconcat ("id=", self->own_id, NULL);
  AvahiStringList *txt = NULL;

  /* avahi_string_list_add() puts each in front: added last to first. */
  if (g_settings_get_boolean (self->settings, "discovery-publish-name") && display != NULL &&
      *display != '\0' && strlen ("name=") + strlen (display) <= 255)
    txt = avahi_string_list_add_pair (txt, "name", display);
  txt = avahi_string_list_add (txt, id);
  txt = avahi_string_list_add (txt, "v=" SOTTO_DISCOVERY_PROTOCOL);
  txt = avahi_string_list_add (txt, "txtvers=" SOTTO_DISCOVERY_TXT_VERSION);
  return txt;
}

/* (Re)publishes our instance: only while running, enabled, connected and
 * listening, and where `listen-address` says. */
static void
publish (SottoDiscovery *self)
{
  AvahiStringList *txt = NULL;
  AvahiIfIndex interface;
  AvahiProtocol protocol;
  int status = AVAHI_ERR_COLLISION;

  g_assert (SOTTO_IS_DISCOVERY (self));

  if (self->group != NULL)
    avahi_entry_group_reset (self->group);
  if (!self->running || self->client == NULL || self->port == 0 || !enabled (self) ||
      avahi_client_get_state (self->client) != AVAHI_CLIENT_S_RUNNING)
    return;
  if (!publish_interface (self, &interface, &protocol))
    {
      g_debug ("not publishing: the listen-address is not here");
      return;
    }

  if (self->group == NULL)
    self->group = avahi_entry_group_new (self->client, on_group_cb, self);
  if (self->group == NULL)
    {
      g_warning ("can't publish on the local network: %s",
                 avahi_strerror (avahi_client_errno (self->client)));
      return;
    }
  if (self->published_name == NULL)
    self->published_name = make_instance_name (self);

  txt = make_txt (self);
  for (guint tries = 0; status == AVAHI_ERR_COLLISION && tries < 16; tries++)
    {
      status = avahi_entry_group_add_service_strlst (self->group, interface, protocol, 0,
                                                     self->published_name,
                                                     SOTTO_DISCOVERY_SERVICE_TYPE, NULL, NULL,
                                                     self->port, txt);
      if (status == AVAHI_ERR_COLLISION)
        {
          char *alternative = avahi_alternative_service_name (self->published_name);

          g_free (self->published_name);
          self->published_name = g_strdup (alternative);
          avahi_free (alternative);
        }
    }
  avahi_string_list_free (txt);
  if (status == AVAHI_OK)
    status = avahi_entry_group_commit (self->group);
  if (status != AVAHI_OK)
    g_warning ("can't publish on the local network: %s", avahi_strerror (status));
}

static void
republish (SottoDiscovery *self)
{
  g_clear_pointer (&self->published_name, g_free);
  publish (self);
}

/* -------------------------------------------------------------------------
 * The Avahi client
 * ------------------------------------------------------------------------- */

static void
drop_client (SottoDiscovery *self)
{
  g_assert (SOTTO_IS_DISCOVERY (self));

  /* Resolvers and browser belong to the client: they go first. */
  g_hash_table_remove_all (self->instances);
  g_clear_pointer (&self->browser, avahi_service_browser_free);
  g_clear_pointer (&self->group, avahi_entry_group_free);
  g_clear_pointer (&self->client, avahi_client_free);
  g_clear_pointer (&self->published_name, g_free);
}

/* A client that failed is dropped outside its own callback, and a new one
 * made: with NO_FAIL it waits for the service to come back. */
static void
on_reconnect_cb (gpointer user_data)
{
  SottoDiscovery *self = user_data;

  self->reconnect_source = 0;
  drop_client (self);
  connect_client (self);
}

static void
on_client_cb (AvahiClient      *client,
              AvahiClientState  state,
              void             *user_data)
{
  SottoDiscovery *self = user_data;
  int error;

  /* Called from within avahi_client_new() too, before it returned:
   * connect_client() looks at the state then. */
  if (self->client != client)
    return;

  switch (state)
    {
    case AVAHI_CLIENT_S_RUNNING:
      if (self->browser == NULL)
        self->browser = avahi_service_browser_new (client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                                   SOTTO_DISCOVERY_SERVICE_TYPE, NULL, 0,
                                                   on_browsed_cb, self);
      if (self->browser == NULL)
        {
          set_state (self, SOTTO_DISCOVERY_STATE_FAILED, avahi_strerror (avahi_client_errno (client)));
          return;
        }
      set_state (self, SOTTO_DISCOVERY_STATE_RUNNING, NULL);
      publish (self);
      break;

    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
      /* The host name changes: published again once it is settled. */
      if (self->group != NULL)
        avahi_entry_group_reset (self->group);
      break;

    case AVAHI_CLIENT_CONNECTING:
      set_state (self, SOTTO_DISCOVERY_STATE_UNAVAILABLE, NULL);
      break;

    case AVAHI_CLIENT_FAILURE:
      error = avahi_client_errno (client);
      g_debug ("the Avahi service went: %s", avahi_strerror (error));
      /* Everything seen through it is stale now, and goes with it. */
      g_clear_handle_id (&self->reconnect_source, g_source_remove);
      if (error == AVAHI_ERR_DISCONNECTED)
        {
          set_state (self, SOTTO_DISCOVERY_STATE_UNAVAILABLE, NULL);
          self->reconnect_source = g_idle_add_once (on_reconnect_cb, self);
        }
      else
        {
          set_state (self, SOTTO_DISCOVERY_STATE_FAILED, avahi_strerror (error));
          self->reconnect_source = g_timeout_add_once (SOTTO_DISCOVERY_RECONNECT_S * 1000,
                                                               on_reconnect_cb, self);
        }
      break;

    default:
      break;
    }
}

static void
connect_client (SottoDiscovery *self)
{
  AvahiClient *client;
  int error = 0;

  g_assert (SOTTO_IS_DISCOVERY (self));
  g_assert (self->client == NULL);

  if (!self->running || !enabled (self))
    return;

  set_state (self, SOTTO_DISCOVERY_STATE_STARTING, NULL);
  /* NO_FAIL: without the Avahi service the client waits for it to appear
   * (AVAHI_CLIENT_CONNECTING) instead of failing. */
  client = avahi_client_new (avahi_glib_poll_get (self->poll), AVAHI_CLIENT_NO_FAIL,
                             on_client_cb, self, &error);
  if (client == NULL)
    {
      /* No system bus at all: nothing will tell us when there is one. */
      g_debug ("no Avahi client: %s", avahi_strerror (error));
      set_state (self, SOTTO_DISCOVERY_STATE_UNAVAILABLE, NULL);
      self->reconnect_source = g_timeout_add_once (SOTTO_DISCOVERY_RECONNECT_S * 1000,
                                                           on_reconnect_cb, self);
      return;
    }
  self->client = client;
  on_client_cb (client, avahi_client_get_state (client), self);
}

static void
restart (SottoDiscovery *self)
{
  g_assert (SOTTO_IS_DISCOVERY (self));

  g_clear_handle_id (&self->reconnect_source, g_source_remove);
  drop_client (self);
  if (self->running && enabled (self))
    connect_client (self);
  else
    set_state (self, SOTTO_DISCOVERY_STATE_OFF, NULL);
}

/* -------------------------------------------------------------------------
 * Settings
 * ------------------------------------------------------------------------- */

static void
on_setting_changed_cb (GSettings      *settings,
                       const char     *key,
                       SottoDiscovery *self)
{
  if (g_str_equal (key, "discovery-enabled"))
    restart (self);
  else if (g_str_equal (key, "discovery-publish-name") || g_str_equal (key, "listen-address"))
    republish (self);
  else if (g_str_equal (key, "allowed-networks"))
    {
      GHashTableIter iter;
      Instance *instance;

      g_hash_table_iter_init (&iter, self->instances);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&instance))
        update_instance (instance);
    }
}

/* -------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------- */

static void
sotto_discovery_dispose (GObject *object)
{
  SottoDiscovery *self = SOTTO_DISCOVERY (object);

  self->running = FALSE;
  g_clear_handle_id (&self->reconnect_source, g_source_remove);
  g_clear_handle_id (&self->match_source, g_source_remove);
  if (self->instances != NULL)
    drop_client (self);
  if (self->store != NULL)
    g_signal_handlers_disconnect_by_func (sotto_store_get_contacts (self->store),
                                          on_contacts_changed_cb, self);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_func (self->settings, on_setting_changed_cb, self);
  g_clear_object (&self->store);
  g_clear_object (&self->settings);
  g_clear_object (&self->policy);

  G_OBJECT_CLASS (sotto_discovery_parent_class)->dispose (object);
}

static void
sotto_discovery_finalize (GObject *object)
{
  SottoDiscovery *self = SOTTO_DISCOVERY (object);

  g_clear_pointer (&self->instances, g_hash_table_unref);
  g_clear_pointer (&self->contact_ids, g_hash_table_unref);
  g_clear_object (&self->services);
  g_clear_pointer (&self->poll, avahi_glib_poll_free);
  g_free (self->own_id);
  g_free (self->failure);

  G_OBJECT_CLASS (sotto_discovery_parent_class)->finalize (object);
}

static void
sotto_discovery_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  SottoDiscovery *self = SOTTO_DISCOVERY (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_discovery_class_init (SottoDiscoveryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sotto_discovery_dispose;
  object_class->finalize = sotto_discovery_finalize;
  object_class->get_property = sotto_discovery_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, SOTTO_TYPE_DISCOVERY_STATE,
                       SOTTO_DISCOVERY_STATE_OFF,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SottoDiscovery::service-changed:
   * @nearby: a service that appeared, or whose addresses or name changed
   */
  signals[SERVICE_CHANGED] =
    g_signal_new ("service-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, SOTTO_TYPE_NEARBY);
  /**
   * SottoDiscovery::service-removed:
   * @nearby: a service that went
   */
  signals[SERVICE_REMOVED] =
    g_signal_new ("service-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, SOTTO_TYPE_NEARBY);
  /**
   * SottoDiscovery::contact-seen:
   * @contact_id: the contact whose discovery id a service published
   * @addresses: where that service answers, newest first: hints for the
   *   peer service, which the handshake proves or refutes
   */
  signals[CONTACT_SEEN] =
    g_signal_new ("contact-seen", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_STRV);
}

static void
sotto_discovery_init (SottoDiscovery *self)
{
  self->services = g_list_store_new (SOTTO_TYPE_NEARBY);
  self->instances = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify)instance_free);
  self->contact_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->poll = avahi_glib_poll_new (NULL, G_PRIORITY_DEFAULT);
}

/**
 * sotto_discovery_new:
 * @store: an open store: its identity is what we publish, its contacts
 *   are whom we recognise
 * @settings: the `im.sotto.Sotto` settings (`discovery-enabled`,
 *   `discovery-publish-name`, `listen-address`, `allowed-networks`)
 */
SottoDiscovery *
sotto_discovery_new (SottoStore *store,
                     GSettings  *settings)
{
  SottoDiscovery *self;

  g_return_val_if_fail (SOTTO_IS_STORE (store), NULL);
  g_return_val_if_fail (sotto_store_get_identity (store) != NULL, NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (SOTTO_TYPE_DISCOVERY, NULL);
  self->store = g_object_ref (store);
  self->settings = g_object_ref (settings);
  self->policy = sotto_policy_new (settings);
  self->own_id = sotto_discovery_id_for_key (
    sotto_identity_get_public_key (sotto_store_get_identity (store)));
  g_signal_connect (settings, "changed", G_CALLBACK (on_setting_changed_cb), self);
  g_signal_connect (sotto_store_get_contacts (store), "items-changed",
                    G_CALLBACK (on_contacts_changed_cb), self);
  match_contacts (self);
  return self;
}

/**
 * sotto_discovery_start:
 *
 * Browses (and publishes, once sotto_discovery_set_port() gave a port)
 * while `discovery-enabled` is on, from now until sotto_discovery_stop().
 */
void
sotto_discovery_start (SottoDiscovery *self)
{
  g_return_if_fail (SOTTO_IS_DISCOVERY (self));

  if (self->running)
    return;
  self->running = TRUE;
  restart (self);
}

/**
 * sotto_discovery_stop:
 *
 * Withdraws our instance and forgets every service seen.
 */
void
sotto_discovery_stop (SottoDiscovery *self)
{
  g_return_if_fail (SOTTO_IS_DISCOVERY (self));

  if (!self->running)
    return;
  self->running = FALSE;
  restart (self);
}

/**
 * sotto_discovery_set_port:
 * @port: the port the profile listens on; 0 while it does not (not
 *   listening, or invisible): then nothing is published
 */
void
sotto_discovery_set_port (SottoDiscovery *self,
                          guint           port)
{
  g_return_if_fail (SOTTO_IS_DISCOVERY (self));
  g_return_if_fail (port <= 65535);

  if (self->port == port)
    return;
  self->port = port;
  publish (self);
}

SottoDiscoveryState
sotto_discovery_get_state (SottoDiscovery *self)
{
  g_return_val_if_fail (SOTTO_IS_DISCOVERY (self), SOTTO_DISCOVERY_STATE_OFF);
  return self->state;
}

/**
 * sotto_discovery_state_to_string:
 *
 * Returns: the state's nick, as `sotto-cli` prints it: "off", "starting",
 *   "running", "unavailable", "failed"
 */
const char *
sotto_discovery_state_to_string (SottoDiscoveryState state)
{
  g_autoptr (GEnumClass) klass = g_type_class_ref (SOTTO_TYPE_DISCOVERY_STATE);
  GEnumValue *value = g_enum_get_value (klass, state);

  return value != NULL ? value->value_nick : "off";
}

/**
 * sotto_discovery_dup_state_message:
 *
 * Returns: (transfer full): the state in words, for the settings panel
 *   and `sotto-cli`
 */
char *
sotto_discovery_dup_state_message (SottoDiscovery *self)
{
  g_return_val_if_fail (SOTTO_IS_DISCOVERY (self), NULL);

  switch (self->state)
    {
    case SOTTO_DISCOVERY_STATE_OFF:
      if (!enabled (self) && sotto_policy_is_locked (self->policy, "discovery-enabled"))
        return g_strdup (_("LAN discovery is turned off by your administrator"));
      return g_strdup (_("LAN discovery is off"));
    case SOTTO_DISCOVERY_STATE_STARTING:
      return g_strdup (_("Connecting to the Avahi service…"));
    case SOTTO_DISCOVERY_STATE_RUNNING:
      return g_strdup (_("Finding colleagues on the local network"));
    case SOTTO_DISCOVERY_STATE_UNAVAILABLE:
      return g_strdup (_("LAN discovery unavailable: the Avahi service is not running"));
    case SOTTO_DISCOVERY_STATE_FAILED:
    default:
      return g_strdup_printf (_("LAN discovery failed: %s"),
                              self->failure != NULL ? self->failure : _("unknown error"));
    }
}

/**
 * sotto_discovery_get_published_name:
 *
 * Returns: (nullable): the instance name we publish under, if we do
 */
const char *
sotto_discovery_get_published_name (SottoDiscovery *self)
{
  g_return_val_if_fail (SOTTO_IS_DISCOVERY (self), NULL);
  return self->published_name;
}

/**
 * sotto_discovery_get_services:
 *
 * Returns: (transfer none): a #GListModel of #SottoNearby: every Sotto
 *   service seen on the network but our own, contacts' included (see
 *   sotto_nearby_get_contact_id())
 */
GListModel *
sotto_discovery_get_services (SottoDiscovery *self)
{
  g_return_val_if_fail (SOTTO_IS_DISCOVERY (self), NULL);
  return G_LIST_MODEL (self->services);
}

/**
 * sotto_discovery_find:
 * @id: a discovery id
 *
 * Returns: (transfer none) (nullable): the service seen with that id
 */
SottoNearby *
sotto_discovery_find (SottoDiscovery *self,
                      const char     *id)
{
  g_return_val_if_fail (SOTTO_IS_DISCOVERY (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->services)); i++)
    {
      g_autoptr (SottoNearby) nearby = g_list_model_get_item (G_LIST_MODEL (self->services), i);

      if (g_str_equal (sotto_nearby_get_id (nearby), id))
        return nearby;
    }
  return NULL;
}
