/* sotto-nearby.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One instance of `_sotto._tcp` that discovery resolved: what it published
 * (a discovery id, perhaps a name) and where it answers. Nothing in it is
 * proven: the id is a hint for recognising a contact, the name is the
 * stranger's claim, and only a handshake proves the key behind them.
 */
#define G_LOG_DOMAIN "sotto-nearby"

#include "config.h"

#include "sotto-identity.h"
#include "sotto-nearby.h"

struct _SottoNearby
{
  GObject  parent_instance;

  char    *id;            /* SOTTO_DISCOVERY_ID_DIGITS digits */
  char    *service_name;  /* the DNS-SD instance name: display only */
  char    *name;          /* the published display name, valid, or NULL */
  GStrv    addresses;     /* "host:port", allowed by policy */
  gint64   contact_id;    /* the contact with this id, or 0 */
};

G_DEFINE_FINAL_TYPE (SottoNearby, sotto_nearby, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_SERVICE_NAME,
  PROP_NAME,
  PROP_ADDRESSES,
  PROP_CONTACT_ID,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
sotto_nearby_finalize (GObject *object)
{
  SottoNearby *self = SOTTO_NEARBY (object);

  g_free (self->id);
  g_free (self->service_name);
  g_free (self->name);
  g_strfreev (self->addresses);

  G_OBJECT_CLASS (sotto_nearby_parent_class)->finalize (object);
}

static void
sotto_nearby_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  SottoNearby *self = SOTTO_NEARBY (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_SERVICE_NAME:
      g_value_set_string (value, self->service_name);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_ADDRESSES:
      g_value_set_boxed (value, self->addresses);
      break;
    case PROP_CONTACT_ID:
      g_value_set_int64 (value, self->contact_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_nearby_class_init (SottoNearbyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sotto_nearby_finalize;
  object_class->get_property = sotto_nearby_get_property;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SERVICE_NAME] =
    g_param_spec_string ("service-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ADDRESSES] =
    g_param_spec_boxed ("addresses", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CONTACT_ID] =
    g_param_spec_int64 ("contact-id", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sotto_nearby_init (SottoNearby *self)
{
  self->addresses = g_new0 (char *, 1);
}

/**
 * sotto_nearby_new:
 * @id: a valid discovery id
 * @service_name: the DNS-SD instance name
 */
SottoNearby *
sotto_nearby_new (const char *id,
                  const char *service_name)
{
  SottoNearby *self;

  g_return_val_if_fail (sotto_discovery_id_is_valid (id), NULL);
  g_return_val_if_fail (service_name != NULL, NULL);

  self = g_object_new (SOTTO_TYPE_NEARBY, NULL);
  self->id = g_strdup (id);
  self->service_name = g_strdup (service_name);
  return self;
}

const char *
sotto_nearby_get_id (SottoNearby *self)
{
  g_return_val_if_fail (SOTTO_IS_NEARBY (self), NULL);
  return self->id;
}

/**
 * sotto_nearby_dup_fingerprint:
 *
 * Returns: (transfer full): the discovery id as the fingerprint's first
 *   three groups ("61537 21082 48558"), for people to compare
 */
char *
sotto_nearby_dup_fingerprint (SottoNearby *self)
{
  g_return_val_if_fail (SOTTO_IS_NEARBY (self), NULL);
  return sotto_discovery_id_format (self->id);
}

const char *
sotto_nearby_get_service_name (SottoNearby *self)
{
  g_return_val_if_fail (SOTTO_IS_NEARBY (self), NULL);
  return self->service_name;
}

/**
 * sotto_nearby_get_name:
 *
 * Returns: (nullable): the display name the service published, if it
 *   did and it is a valid one: the stranger's own claim
 */
const char *
sotto_nearby_get_name (SottoNearby *self)
{
  g_return_val_if_fail (SOTTO_IS_NEARBY (self), NULL);
  return self->name;
}

void
sotto_nearby_set_name (SottoNearby *self,
                       const char  *name)
{
  g_return_if_fail (SOTTO_IS_NEARBY (self));
  g_return_if_fail (name == NULL || sotto_display_name_validate (name, NULL));

  if (g_strcmp0 (self->name, name) == 0)
    return;
  g_free (self->name);
  self->name = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

/**
 * sotto_nearby_get_addresses:
 *
 * Returns: (transfer none): "host:port" strings, most recently resolved
 *   first; possibly none
 */
const char * const *
sotto_nearby_get_addresses (SottoNearby *self)
{
  g_return_val_if_fail (SOTTO_IS_NEARBY (self), NULL);
  return (const char * const *)self->addresses;
}

/**
 * sotto_nearby_set_addresses:
 *
 * Returns: whether they changed
 */
gboolean
sotto_nearby_set_addresses (SottoNearby        *self,
                            const char * const *addresses)
{
  g_return_val_if_fail (SOTTO_IS_NEARBY (self), FALSE);
  g_return_val_if_fail (addresses != NULL, FALSE);

  if (g_strv_equal ((const char * const *)self->addresses, addresses))
    return FALSE;
  g_strfreev (self->addresses);
  self->addresses = g_strdupv ((char **)addresses);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ADDRESSES]);
  return TRUE;
}

/**
 * sotto_nearby_get_contact_id:
 *
 * Returns: the contact whose key has this discovery id, or 0 for a
 *   stranger
 */
gint64
sotto_nearby_get_contact_id (SottoNearby *self)
{
  g_return_val_if_fail (SOTTO_IS_NEARBY (self), 0);
  return self->contact_id;
}

void
sotto_nearby_set_contact_id (SottoNearby *self,
                             gint64       contact_id)
{
  g_return_if_fail (SOTTO_IS_NEARBY (self));
  g_return_if_fail (contact_id >= 0);

  if (self->contact_id == contact_id)
    return;
  self->contact_id = contact_id;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTACT_ID]);
}

/**
 * sotto_nearby_to_json:
 * @contact_name: (nullable): the name of the contact it is, if it is one
 *
 * Returns: (transfer full): the object `sotto-cli nearby --json` and the
 *   `nearby` events of `sotto-cli run` print: id, fingerprint (the id in
 *   groups), name (published, or null), addresses, contact (or null) and
 *   service (the DNS-SD instance name)
 */
JsonNode *
sotto_nearby_to_json (SottoNearby *self,
                      const char  *contact_name)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *fingerprint = NULL;

  g_return_val_if_fail (SOTTO_IS_NEARBY (self), NULL);

  fingerprint = sotto_nearby_dup_fingerprint (self);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, self->id);
  json_builder_set_member_name (builder, "fingerprint");
  json_builder_add_string_value (builder, fingerprint);
  json_builder_set_member_name (builder, "name");
  if (self->name != NULL)
    json_builder_add_string_value (builder, self->name);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "addresses");
  json_builder_begin_array (builder);
  for (guint i = 0; self->addresses[i] != NULL; i++)
    json_builder_add_string_value (builder, self->addresses[i]);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "contact");
  if (contact_name != NULL)
    json_builder_add_string_value (builder, contact_name);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "service");
  json_builder_add_string_value (builder, self->service_name);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/**
 * sotto_discovery_id_for_key:
 * @public_key: %SOTTO_KEY_LEN bytes
 *
 * Returns: (transfer full): the key's discovery id: the first
 *   %SOTTO_DISCOVERY_ID_DIGITS digits of its fingerprint
 */
char *
sotto_discovery_id_for_key (const guint8 *public_key)
{
  g_autofree char *fingerprint = NULL;
  GString *id;

  g_return_val_if_fail (public_key != NULL, NULL);

  fingerprint = sotto_fingerprint_for_key (public_key);
  id = g_string_sized_new (SOTTO_DISCOVERY_ID_DIGITS + 1);
  for (const char *p = fingerprint; *p != '\0' && id->len < SOTTO_DISCOVERY_ID_DIGITS; p++)
    if (g_ascii_isdigit (*p))
      g_string_append_c (id, *p);
  g_assert (id->len == SOTTO_DISCOVERY_ID_DIGITS);
  return g_string_free (id, FALSE);
}

/**
 * sotto_discovery_id_is_valid:
 * @id: (nullable): text from a TXT record
 *
 * Returns: whether @id is exactly %SOTTO_DISCOVERY_ID_DIGITS ASCII digits
 */
gboolean
sotto_discovery_id_is_valid (const char *id)
{
  gsize i;

  if (id == NULL)
    return FALSE;
  for (i = 0; i <= SOTTO_DISCOVERY_ID_DIGITS && id[i] != '\0'; i++)
    if (!g_ascii_isdigit (id[i]))
      return FALSE;
  return i == SOTTO_DISCOVERY_ID_DIGITS && id[i] == '\0';
}

/**
 * sotto_discovery_id_format:
 * @id: a valid discovery id
 *
 * Returns: (transfer full): @id in groups of five, as fingerprints are
 *   shown: "61537 21082 48558"
 */
char *
sotto_discovery_id_format (const char *id)
{
  g_return_val_if_fail (sotto_discovery_id_is_valid (id), NULL);

  return g_strdup_printf ("%.5s %.5s %.5s", id, id + 5, id + 10);
}
