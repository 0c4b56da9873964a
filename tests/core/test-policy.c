/* test-policy.c — what SottoPolicy allows, key by key, with settings in
 * memory; and which addresses allowed-networks lets in (table-driven).
 * The same keys locked through a real dconf database: tests/cli/policy.py.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "sotto-addresses.h"
#include "sotto-error.h"
#include "sotto-policy.h"

#define SCHEMA_ID "im.sotto.Sotto"

static GSettings *
memory_settings (void)
{
  g_autoptr (GSettingsBackend) backend = g_memory_settings_backend_new ();

  return g_settings_new_with_backend (SCHEMA_ID, backend);
}

static const struct
{
  const char *networks[4];
  const char *address;
  gboolean    allowed;
} network_cases[] = {
  { { NULL }, "192.0.2.1", TRUE },                       /* empty: any */
  { { NULL }, "2001:db8::1", TRUE },
  { { "10.0.0.0/8", NULL }, "10.1.2.3", TRUE },
  { { "10.0.0.0/8", NULL }, "10.255.255.255", TRUE },     /* the last of it */
  { { "10.0.0.0/8", NULL }, "11.0.0.0", FALSE },          /* one past */
  { { "10.0.0.0/8", NULL }, "9.255.255.255", FALSE },     /* one before */
  { { "10.0.0.0/8", NULL }, "::ffff:10.1.2.3", TRUE },    /* mapped by a dual-stack socket */
  { { "10.0.0.0/8", NULL }, "::ffff:11.1.2.3", FALSE },
  { { "10.0.0.0/8", NULL }, "fd00::1", FALSE },
  { { "192.168.1.0/24", "fd00:1::/64", NULL }, "fd00:1::5", TRUE },
  { { "192.168.1.0/24", "fd00:1::/64", NULL }, "fd00:2::5", FALSE },
  { { "192.168.1.0/24", "fd00:1::/64", NULL }, "192.168.1.200", TRUE },
  { { "192.168.1.7", NULL }, "192.168.1.7", TRUE },       /* one address */
  { { "192.168.1.7", NULL }, "192.168.1.8", FALSE },
  { { "0.0.0.0/0", NULL }, "203.0.113.9", TRUE },
  { { "127.0.0.0/8", NULL }, "127.0.0.2", TRUE },
  { { "not a network", NULL }, "10.1.2.3", FALSE },       /* invalid: allows nothing */
  { { "not a network", "10.0.0.0/8", NULL }, "10.1.2.3", TRUE },
  { { "10.0.0.0/33", NULL }, "10.1.2.3", FALSE },         /* prefix past the length */
  { { "10.0.0.1/8", NULL }, "10.1.2.3", FALSE },          /* host bits set: not a network */
};

static void
test_networks (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (network_cases); i++)
    {
      g_autoptr (GInetAddress) address =
        g_inet_address_new_from_string (network_cases[i].address);
      const char *invalid = NULL;
      gboolean allowed;

      g_assert_nonnull (address);
      allowed = sotto_networks_contain (network_cases[i].networks, address, &invalid);
      if (allowed != network_cases[i].allowed)
        g_error ("case %u: %s: expected %s", i, network_cases[i].address,
                 network_cases[i].allowed ? "allowed" : "refused");
      if (g_str_has_prefix (network_cases[i].networks[0] != NULL ? network_cases[i].networks[0] : "",
                            "not"))
        g_assert_cmpstr (invalid, ==, "not a network");
    }
}

static void
test_may_connect (void)
{
  g_autoptr (GSettings) settings = memory_settings ();
  g_autoptr (SottoPolicy) policy = sotto_policy_new (settings);
  g_autoptr (GInetAddress) inside = g_inet_address_new_from_string ("10.1.2.3");
  g_autoptr (GInetAddress) outside = g_inet_address_new_from_string ("192.0.2.1");
  const char *networks[] = { "10.0.0.0/8", NULL };

  g_assert_true (sotto_policy_may_connect (policy, outside));
  g_settings_set_strv (settings, "allowed-networks", networks);
  g_assert_true (sotto_policy_may_connect (policy, inside));
  g_assert_false (sotto_policy_may_connect (policy, outside));
}

/* Each governed key: allowed by default, refused when set, naming the
 * user's preferences (the key is not locked here). */
static void
test_refusals (void)
{
  g_autoptr (GSettings) settings = memory_settings ();
  g_autoptr (SottoPolicy) policy = sotto_policy_new (settings);
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_policy_may_add_contacts (policy, NULL));
  g_assert_true (sotto_policy_may_delete_history (policy, NULL));
  g_assert_true (sotto_policy_may_send_files (policy, NULL));

  g_settings_set_boolean (settings, "allow-adding-contacts", FALSE);
  g_assert_false (sotto_policy_may_add_contacts (policy, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED);
  g_assert_cmpstr (error->message, ==, "Adding contacts is turned off in the preferences");
  g_clear_error (&error);

  g_settings_set_boolean (settings, "history-user-delete", FALSE);
  g_assert_false (sotto_policy_may_delete_history (policy, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED);
  g_clear_error (&error);

  g_settings_set_boolean (settings, "file-transfer-enabled", FALSE);
  g_assert_false (sotto_policy_may_send_files (policy, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED);
  g_clear_error (&error);
}

/* passphrase-min-length at the limit and one below; key-protection both
 * ways; the length counts characters, not bytes. */
static void
test_protection (void)
{
  g_autoptr (GSettings) settings = memory_settings ();
  g_autoptr (SottoPolicy) policy = sotto_policy_new (settings);
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (g_settings_get_uint (settings, "passphrase-min-length"), ==, 8);
  g_assert_true (sotto_policy_may_protect (policy, SOTTO_KEY_PROTECTION_PASSPHRASE, "12345678",
                                           NULL));
  g_assert_false (sotto_policy_may_protect (policy, SOTTO_KEY_PROTECTION_PASSPHRASE, "1234567",
                                            &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED);
  g_clear_error (&error);
  /* Eight characters in 16 bytes. */
  g_assert_true (sotto_policy_may_protect (policy, SOTTO_KEY_PROTECTION_PASSPHRASE,
                                           "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", NULL));
  g_assert_false (sotto_policy_may_protect (policy, SOTTO_KEY_PROTECTION_PASSPHRASE, NULL, NULL));
  g_assert_true (sotto_policy_may_protect (policy, SOTTO_KEY_PROTECTION_KEYRING, NULL, NULL));

  g_settings_set_string (settings, "key-protection", "passphrase");
  g_assert_false (sotto_policy_may_protect (policy, SOTTO_KEY_PROTECTION_KEYRING, NULL, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED);
  g_clear_error (&error);
  g_settings_set_string (settings, "key-protection", "keyring");
  g_assert_false (sotto_policy_may_protect (policy, SOTTO_KEY_PROTECTION_PASSPHRASE,
                                            "a long passphrase", &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED);
}

/* Every key listed once, by name, with where its value comes from. */
static void
test_list (void)
{
  g_autoptr (GSettings) settings = memory_settings ();
  g_autoptr (SottoPolicy) policy = sotto_policy_new (settings);
  g_autoptr (GPtrArray) entries = NULL;
  gboolean seen_user = FALSE;

  g_settings_set_boolean (settings, "send-typing", FALSE);
  entries = sotto_policy_list (policy);
  g_assert_cmpuint (entries->len, >=, 20);
  for (guint i = 0; i < entries->len; i++)
    {
      SottoPolicyEntry *entry = g_ptr_array_index (entries, i);

      if (i > 0)
        g_assert_cmpstr (((SottoPolicyEntry *)g_ptr_array_index (entries, i - 1))->key, <,
                         entry->key);
      g_assert_false (entry->locked);
      if (g_str_equal (entry->key, "send-typing"))
        {
          g_assert_cmpint (entry->source, ==, SOTTO_POLICY_SOURCE_USER);
          g_assert_false (g_variant_get_boolean (entry->value));
          seen_user = TRUE;
        }
      else
        g_assert_cmpint (entry->source, ==, SOTTO_POLICY_SOURCE_DEFAULT);
    }
  g_assert_true (seen_user);
}

/* listen-address: empty for all, an address, or an interface's name; at
 * and past the interface name's length; what is meant as an address and
 * is not one. */
static void
test_listen_address (void)
{
  static const struct
  {
    const char *setting;
    int         code;      /* -1: resolves */
    const char *first;     /* the first address, if it resolves to some */
  } cases[] = {
    { "", -1, NULL },
    { "   ", -1, NULL },
    { "127.0.0.2", -1, "127.0.0.2" },
    { " 127.0.0.2\t", -1, "127.0.0.2" },
    { "::1", -1, "::1" },
    { "[::1]", -1, "::1" },
    { "lo", -1, "127.0.0.1" },
    { "nosuchif0", SOTTO_ERROR_NOT_FOUND, NULL },
    { "abcdefghijklmno", SOTTO_ERROR_NOT_FOUND, NULL },        /* 15: a name */
    { "abcdefghijklmnop", SOTTO_ERROR_INVALID_ARGUMENT, NULL }, /* 16: too long */
    { "10.0.0.300", SOTTO_ERROR_INVALID_ARGUMENT, NULL },
    { "10.0.0", SOTTO_ERROR_INVALID_ARGUMENT, NULL },
    { "fe80::1::2", SOTTO_ERROR_INVALID_ARGUMENT, NULL },
    { "eth0/1", SOTTO_ERROR_INVALID_ARGUMENT, NULL },
    { "..", SOTTO_ERROR_INVALID_ARGUMENT, NULL },
    { "eth 0", SOTTO_ERROR_INVALID_ARGUMENT, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GPtrArray) addresses = NULL;
      g_autoptr (GError) error = NULL;
      gboolean ok = sotto_listen_addresses_resolve (cases[i].setting, &addresses, &error);

      g_test_message ("listen-address “%s”", cases[i].setting);
      if (cases[i].code >= 0)
        {
          g_assert_false (ok);
          g_assert_error (error, SOTTO_ERROR, cases[i].code);
          g_assert_null (addresses);
          continue;
        }
      g_assert_no_error (error);
      g_assert_true (ok);
      if (cases[i].first == NULL)
        {
          g_assert_null (addresses);
          continue;
        }
      g_assert_nonnull (addresses);
      g_assert_cmpuint (addresses->len, >=, 1);
      {
        g_autofree char *first = g_inet_address_to_string (g_ptr_array_index (addresses, 0));

        g_assert_cmpstr (first, ==, cases[i].first);
      }
    }
}

/* An invite names where Sotto listens: only that address when one is set,
 * never loopback otherwise. */
static void
test_invite_addresses (void)
{
  g_auto (GStrv) set = NULL;
  g_auto (GStrv) all = NULL;
  g_auto (GStrv) missing = NULL;
  g_autoptr (GError) error = NULL;

  set = sotto_local_addresses ("127.0.0.2", 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (set), ==, 1);
  g_assert_cmpstr (set[0], ==, "127.0.0.2:5000");

  all = sotto_local_addresses ("", 5000, &error);
  g_assert_no_error (error);
  for (guint i = 0; all[i] != NULL; i++)
    g_assert_false (g_str_has_prefix (all[i], "127."));

  missing = sotto_local_addresses ("nosuchif0", 5000, &error);
  g_assert_null (missing);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/policy/networks", test_networks);
  g_test_add_func ("/policy/may-connect", test_may_connect);
  g_test_add_func ("/policy/refusals", test_refusals);
  g_test_add_func ("/policy/protection", test_protection);
  g_test_add_func ("/policy/list", test_list);
  g_test_add_func ("/policy/listen-address", test_listen_address);
  g_test_add_func ("/policy/invite-addresses", test_invite_addresses);

  return g_test_run ();
}
