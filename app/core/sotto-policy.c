/* sotto-policy.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The rules a profile runs under: the GSettings schema's keys, as the
 * user set them and as an administrator set or locked them through dconf
 * system databases. Front ends do not decide what is allowed: they ask
 * here (through the context, the peer service and the file transfers),
 * so that the app and `sotto-cli` obey the same rules and a changed user
 * interface could not get round them. A refusal says who decided it: the
 * administrator when the key is locked, else the user's own preferences.
 */
#define G_LOG_DOMAIN "sotto-policy"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "sotto-error.h"
#include "sotto-policy.h"

struct _SottoPolicy
{
  GObject    parent_instance;

  /* owned references */
  GSettings *settings;
  char      *warned_network;   /* the invalid allowed-networks entry last logged */
};

G_DEFINE_FINAL_TYPE (SottoPolicy, sotto_policy, G_TYPE_OBJECT)

/* Fails with NOT_ALLOWED, saying who forbade it. */
static gboolean
refuse (SottoPolicy  *self,
        const char   *key,
        const char   *by_administrator,
        const char   *by_user,
        GError      **error)
{
  g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                       sotto_policy_is_locked (self, key) ? by_administrator : by_user);
  return FALSE;
}

static void
sotto_policy_dispose (GObject *object)
{
  SottoPolicy *self = (SottoPolicy *)object;

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sotto_policy_parent_class)->dispose (object);
}

static void
sotto_policy_finalize (GObject *object)
{
  SottoPolicy *self = (SottoPolicy *)object;

  g_free (self->warned_network);

  G_OBJECT_CLASS (sotto_policy_parent_class)->finalize (object);
}

static void
sotto_policy_class_init (SottoPolicyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sotto_policy_dispose;
  object_class->finalize = sotto_policy_finalize;
}

static void
sotto_policy_init (SottoPolicy *self)
{
}

/**
 * sotto_policy_new:
 * @settings: the user's settings (the im.sotto.Sotto schema)
 *
 * Returns: (transfer full): the policy they make
 */
SottoPolicy *
sotto_policy_new (GSettings *settings)
{
  SottoPolicy *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (SOTTO_TYPE_POLICY, NULL);
  self->settings = g_object_ref (settings);
  return self;
}

/**
 * sotto_policy_get_settings:
 *
 * Returns: (transfer none): the settings the policy reads
 */
GSettings *
sotto_policy_get_settings (SottoPolicy *self)
{
  g_return_val_if_fail (SOTTO_IS_POLICY (self), NULL);

  return self->settings;
}

/**
 * sotto_policy_is_locked:
 * @key: a key of the schema
 *
 * Returns: whether an administrator locked @key (the user can't change it)
 */
gboolean
sotto_policy_is_locked (SottoPolicy *self,
                        const char  *key)
{
  g_return_val_if_fail (SOTTO_IS_POLICY (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  return !g_settings_is_writable (self->settings, key);
}

/**
 * sotto_policy_get_source:
 * @key: a key of the schema
 *
 * An administrator's value is one that is locked, or a default of a
 * system database that differs from the schema's own.
 *
 * Returns: where @key's effective value comes from
 */
SottoPolicySource
sotto_policy_get_source (SottoPolicy *self,
                         const char  *key)
{
  g_autoptr (GSettingsSchema) schema = NULL;
  g_autoptr (GSettingsSchemaKey) schema_key = NULL;
  g_autoptr (GVariant) user = NULL;
  g_autoptr (GVariant) system_default = NULL;
  g_autoptr (GVariant) schema_default = NULL;

  g_return_val_if_fail (SOTTO_IS_POLICY (self), SOTTO_POLICY_SOURCE_DEFAULT);
  g_return_val_if_fail (key != NULL, SOTTO_POLICY_SOURCE_DEFAULT);

  if (sotto_policy_is_locked (self, key))
    return SOTTO_POLICY_SOURCE_ADMINISTRATOR;
  user = g_settings_get_user_value (self->settings, key);
  if (user != NULL)
    return SOTTO_POLICY_SOURCE_USER;
  g_object_get (self->settings, "settings-schema", &schema, NULL);
  schema_key = g_settings_schema_get_key (schema, key);
  schema_default = g_settings_schema_key_get_default_value (schema_key);
  system_default = g_settings_get_default_value (self->settings, key);
  if (system_default != NULL && !g_variant_equal (system_default, schema_default))
    return SOTTO_POLICY_SOURCE_ADMINISTRATOR;
  return SOTTO_POLICY_SOURCE_DEFAULT;
}

/* For scripts: "default", "user", "administrator". */
const char *
sotto_policy_source_to_string (SottoPolicySource source)
{
  switch (source)
    {
    case SOTTO_POLICY_SOURCE_USER:          return "user";
    case SOTTO_POLICY_SOURCE_ADMINISTRATOR: return "administrator";
    case SOTTO_POLICY_SOURCE_DEFAULT:
    default:                                return "default";
    }
}

void
sotto_policy_entry_free (SottoPolicyEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->key);
  g_clear_pointer (&entry->value, g_variant_unref);
  g_free (entry);
}

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const SottoPolicyEntry *ea = *(SottoPolicyEntry **)a;
  const SottoPolicyEntry *eb = *(SottoPolicyEntry **)b;

  return strcmp (ea->key, eb->key);
}

/**
 * sotto_policy_list:
 *
 * Returns: (transfer container) (element-type SottoPolicyEntry): every
 *   key of the schema with its effective value, where that comes from and
 *   whether it is locked, by name
 */
GPtrArray *
sotto_policy_list (SottoPolicy *self)
{
  g_autoptr (GSettingsSchema) schema = NULL;
  g_auto (GStrv) keys = NULL;
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify)sotto_policy_entry_free);

  g_return_val_if_fail (SOTTO_IS_POLICY (self), entries);

  g_object_get (self->settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      SottoPolicyEntry *entry = g_new0 (SottoPolicyEntry, 1);

      entry->key = g_strdup (keys[i]);
      entry->value = g_settings_get_value (self->settings, keys[i]);
      entry->source = sotto_policy_get_source (self, keys[i]);
      entry->locked = sotto_policy_is_locked (self, keys[i]);
      g_ptr_array_add (entries, entry);
    }
  g_ptr_array_sort (entries, compare_entries);
  return entries;
}

/* An IPv4 address a dual-stack socket shows as ::ffff:a.b.c.d, as IPv4. */
static GInetAddress *
plain_address (GInetAddress *address)
{
  static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  const guint8 *bytes;

  if (g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV6)
    return g_object_ref (address);
  bytes = g_inet_address_to_bytes (address);
  if (memcmp (bytes, mapped, sizeof mapped) != 0)
    return g_object_ref (address);
  return g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);
}

/**
 * sotto_networks_contain:
 * @networks: CIDR networks ("10.0.0.0/8", "fd00::/8", or one address),
 *   as the allowed-networks key holds them
 * @address: a peer's address
 * @out_invalid: (out) (optional) (transfer none): the first entry that is
 *   not a network, if any (it matches nothing)
 *
 * Returns: whether @address lies in one of @networks; an empty list
 *   contains every address. An IPv4 address mapped into IPv6 counts as
 *   IPv4.
 */
gboolean
sotto_networks_contain (const char * const  *networks,
                        GInetAddress        *address,
                        const char         **out_invalid)
{
  g_autoptr (GInetAddress) plain = NULL;
  gboolean any = FALSE;
  gboolean found = FALSE;

  g_return_val_if_fail (G_IS_INET_ADDRESS (address), FALSE);

  if (out_invalid != NULL)
    *out_invalid = NULL;
  plain = plain_address (address);
  for (guint i = 0; networks != NULL && networks[i] != NULL; i++)
    {
      g_autoptr (GInetAddressMask) mask = g_inet_address_mask_new_from_string (networks[i], NULL);

      any = TRUE;
      if (mask == NULL)
        {
          if (out_invalid != NULL && *out_invalid == NULL)
            *out_invalid = networks[i];
          continue;
        }
      if (g_inet_address_mask_matches (mask, plain))
        found = TRUE;
    }
  return !any || found;
}

/**
 * sotto_policy_may_connect:
 * @address: a peer's address, calling or about to be called
 *
 * Whether Sotto may accept a connection from @address or dial it
 * (allowed-networks). Asked before any handshake.
 */
gboolean
sotto_policy_may_connect (SottoPolicy  *self,
                          GInetAddress *address)
{
  g_auto (GStrv) networks = NULL;
  const char *invalid = NULL;
  gboolean allowed;

  g_return_val_if_fail (SOTTO_IS_POLICY (self), FALSE);
  g_return_val_if_fail (G_IS_INET_ADDRESS (address), FALSE);

  networks = g_settings_get_strv (self->settings, "allowed-networks");
  allowed = sotto_networks_contain ((const char * const *)networks, address, &invalid);
  /* Said once, not at every connection. */
  if (invalid != NULL && g_strcmp0 (invalid, self->warned_network) != 0)
    {
      g_warning ("allowed-networks: “%s” is not a network (such as 10.0.0.0/8): it allows nothing",
                 invalid);
      g_free (self->warned_network);
      self->warned_network = g_strdup (invalid);
    }
  return allowed;
}

/**
 * sotto_policy_may_add_contacts:
 *
 * Whether new contacts may be added: from an invite, or by accepting a
 * contact request (allow-adding-contacts).
 */
gboolean
sotto_policy_may_add_contacts (SottoPolicy  *self,
                               GError      **error)
{
  g_return_val_if_fail (SOTTO_IS_POLICY (self), FALSE);

  if (g_settings_get_boolean (self->settings, "allow-adding-contacts"))
    return TRUE;
  return refuse (self, "allow-adding-contacts",
                 _("Your administrator does not allow adding contacts"),
                 _("Adding contacts is turned off in the preferences"), error);
}

/**
 * sotto_policy_may_send_files:
 *
 * Whether files may be offered at all (file-transfer-enabled).
 */
gboolean
sotto_policy_may_send_files (SottoPolicy  *self,
                             GError      **error)
{
  g_return_val_if_fail (SOTTO_IS_POLICY (self), FALSE);

  if (g_settings_get_boolean (self->settings, "file-transfer-enabled"))
    return TRUE;
  return refuse (self, "file-transfer-enabled",
                 _("Your administrator turned off sending files"),
                 _("Sending files is turned off on this computer"), error);
}

/**
 * sotto_policy_may_message:
 * @contact: who would get a message or a file
 *
 * Whether messages and files may go to @contact: with
 * require-verified-contacts, only once its key is verified.
 */
gboolean
sotto_policy_may_message (SottoPolicy   *self,
                          SottoContact  *contact,
                          GError       **error)
{
  g_autofree char *by_administrator = NULL;
  g_autofree char *by_user = NULL;

  g_return_val_if_fail (SOTTO_IS_POLICY (self), FALSE);
  g_return_val_if_fail (SOTTO_IS_CONTACT (contact), FALSE);

  if (!g_settings_get_boolean (self->settings, "require-verified-contacts") ||
      sotto_contact_get_verification (contact) == SOTTO_VERIFICATION_VERIFIED)
    return TRUE;
  by_administrator = g_strdup_printf (_("Your administrator allows messages and files only to "
                                        "verified contacts: verify %s’s security key first"),
                                      sotto_contact_get_name (contact));
  by_user = g_strdup_printf (_("Your preferences allow messages and files only to verified "
                               "contacts: verify %s’s security key first"),
                             sotto_contact_get_name (contact));
  return refuse (self, "require-verified-contacts", by_administrator, by_user, error);
}

/**
 * sotto_policy_may_delete_history:
 *
 * Whether the user may delete messages themselves (history-user-delete).
 * Retention (history-retention-days) deletes whatever this says.
 */
gboolean
sotto_policy_may_delete_history (SottoPolicy  *self,
                                 GError      **error)
{
  g_return_val_if_fail (SOTTO_IS_POLICY (self), FALSE);

  if (g_settings_get_boolean (self->settings, "history-user-delete"))
    return TRUE;
  return refuse (self, "history-user-delete",
                 _("Your administrator does not allow deleting history"),
                 _("Deleting history is turned off in the preferences"), error);
}

/**
 * sotto_policy_may_protect:
 * @protection: how the history key would be kept
 * @passphrase: (nullable): the passphrase, for
 *   %SOTTO_KEY_PROTECTION_PASSPHRASE
 *
 * Whether the history key may be kept so (key-protection), and the
 * passphrase is long enough (passphrase-min-length, in characters).
 */
gboolean
sotto_policy_may_protect (SottoPolicy         *self,
                          SottoKeyProtection   protection,
                          const char          *passphrase,
                          GError             **error)
{
  g_autofree char *allowed = NULL;
  guint min_length;

  g_return_val_if_fail (SOTTO_IS_POLICY (self), FALSE);

  allowed = g_settings_get_string (self->settings, "key-protection");
  if (protection == SOTTO_KEY_PROTECTION_KEYRING && g_str_equal (allowed, "passphrase"))
    return refuse (self, "key-protection",
                   _("Your administrator requires a passphrase for the history key"),
                   _("Your preferences require a passphrase for the history key"), error);
  if (protection == SOTTO_KEY_PROTECTION_PASSPHRASE && g_str_equal (allowed, "keyring"))
    return refuse (self, "key-protection",
                   _("Your administrator requires the history key to be kept in the login "
                     "keyring"),
                   _("Your preferences require the history key to be kept in the login "
                     "keyring"), error);

  min_length = g_settings_get_uint (self->settings, "passphrase-min-length");
  if (protection == SOTTO_KEY_PROTECTION_PASSPHRASE &&
      (passphrase == NULL || !g_utf8_validate (passphrase, -1, NULL) ||
       (guint)g_utf8_strlen (passphrase, -1) < min_length))
    {
      g_autofree char *by_administrator =
        g_strdup_printf (ngettext ("Your administrator requires a passphrase of at least %u "
                                   "character",
                                   "Your administrator requires a passphrase of at least %u "
                                   "characters", min_length), min_length);
      g_autofree char *by_user =
        g_strdup_printf (ngettext ("A passphrase must have at least %u character",
                                   "A passphrase must have at least %u characters", min_length),
                         min_length);

      return refuse (self, "passphrase-min-length", by_administrator, by_user, error);
    }
  return TRUE;
}
