/* test-discovery.c — what LAN discovery publishes and how it reads what
 * others publish (PROTOCOL.md, "Discovery on the local network"): the
 * discovery id, and a TXT record from anyone on the network
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <avahi-common/strlst.h>

#include "sotto-discovery-private.h"
#include "sotto-identity.h"
#include "sotto-nearby.h"

/* RFC 7748, section 6.1: Alice's and Bob's public keys (PROTOCOL.md,
 * "Fingerprints"). */
static const char alice_hex[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char bob_hex[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";

static void
key_from_hex (const char *hex,
              guint8     *key)
{
  for (guint i = 0; i < SOTTO_KEY_LEN; i++)
    key[i] = (guint8)(g_ascii_xdigit_value (hex[2 * i]) << 4 | g_ascii_xdigit_value (hex[2 * i + 1]));
}

static void
test_id (void)
{
  guint8 key[SOTTO_KEY_LEN];
  g_autofree char *alice = NULL;
  g_autofree char *bob = NULL;
  g_autofree char *grouped = NULL;

  key_from_hex (alice_hex, key);
  alice = sotto_discovery_id_for_key (key);
  g_assert_cmpstr (alice, ==, "615372108248558");
  key_from_hex (bob_hex, key);
  bob = sotto_discovery_id_for_key (key);
  g_assert_cmpstr (bob, ==, "847682795970443");
  grouped = sotto_discovery_id_format (alice);
  g_assert_cmpstr (grouped, ==, "61537 21082 48558");
}

static void
test_id_valid (void)
{
  /* Exactly SOTTO_DISCOVERY_ID_DIGITS digits: at the limit, and one on
   * either side of it. */
  g_assert_true (sotto_discovery_id_is_valid ("615372108248558"));
  g_assert_false (sotto_discovery_id_is_valid ("61537210824855"));
  g_assert_false (sotto_discovery_id_is_valid ("6153721082485580"));
  g_assert_false (sotto_discovery_id_is_valid (""));
  g_assert_false (sotto_discovery_id_is_valid (NULL));
  g_assert_false (sotto_discovery_id_is_valid ("61537 21082 48558"));
  g_assert_false (sotto_discovery_id_is_valid ("61537210824855a"));
  g_assert_false (sotto_discovery_id_is_valid ("６15372108248558"));  /* a fullwidth digit */
}

/* Reads @items as one TXT record, as Avahi gives it. */
static gboolean
read_items (const char * const  *items,
            char               **out_id,
            char               **out_name)
{
  AvahiStringList *txt = NULL;
  gboolean ok;

  /* avahi_string_list_add() puts each in front. */
  for (gint i = (gint)g_strv_length ((char **)items) - 1; i >= 0; i--)
    txt = avahi_string_list_add (txt, items[i]);
  ok = _sotto_discovery_read_txt (txt, out_id, out_name);
  avahi_string_list_free (txt);
  return ok;
}

static void
test_txt (void)
{
  g_autofree char *long_name = g_strnfill (SOTTO_DISPLAY_NAME_MAX_CHARS, 'x');
  g_autofree char *too_long = g_strnfill (SOTTO_DISPLAY_NAME_MAX_CHARS + 1, 'x');
  g_autofree char *name_at_limit = g_strconcat ("name=", long_name, NULL);
  g_autofree char *name_past_limit = g_strconcat ("name=", too_long, NULL);
  const struct {
    const char *items[6];
    gboolean    ok;
    const char *id;
    const char *name;
  } cases[] = {
    { { "txtvers=1", "v=1", "id=615372108248558", NULL }, TRUE, "615372108248558", NULL },
    { { "txtvers=1", "v=1", "id=615372108248558", "name=Alice Example", NULL },
      TRUE, "615372108248558", "Alice Example" },
    /* Keys without regard to case; the order does not matter. */
    { { "ID=615372108248558", "V=1", NULL }, TRUE, "615372108248558", NULL },
    /* Only the first of a key counts (RFC 6763, 6.4). */
    { { "v=1", "id=615372108248558", "id=847682795970443", NULL }, TRUE, "615372108248558", NULL },
    { { "v=1", "id=nonsense", "id=615372108248558", NULL }, FALSE, NULL, NULL },
    /* Another major version, or none. */
    { { "v=2", "id=615372108248558", NULL }, FALSE, NULL, NULL },
    { { "id=615372108248558", NULL }, FALSE, NULL, NULL },
    { { "v", "id=615372108248558", NULL }, FALSE, NULL, NULL },
    { { "v=", "id=615372108248558", NULL }, FALSE, NULL, NULL },
    /* An id one digit short or long. */
    { { "v=1", "id=61537210824855", NULL }, FALSE, NULL, NULL },
    { { "v=1", "id=6153721082485580", NULL }, FALSE, NULL, NULL },
    { { "v=1", NULL }, FALSE, NULL, NULL },
    { { NULL }, FALSE, NULL, NULL },
    /* A name that is no display name: the service counts, the name not. */
    { { "v=1", "id=615372108248558", "name=", NULL }, TRUE, "615372108248558", NULL },
    { { "v=1", "id=615372108248558", "name=Eve\xe2\x80\xae" "ecilA", NULL },
      TRUE, "615372108248558", NULL },
    { { "v=1", "id=615372108248558", "name=\xff\xfe", NULL }, TRUE, "615372108248558", NULL },
    { { "v=1", "id=615372108248558", "name=Bell\x07", NULL }, TRUE, "615372108248558", NULL },
    { { "v=1", "id=615372108248558", name_at_limit, NULL }, TRUE, "615372108248558", long_name },
    { { "v=1", "id=615372108248558", name_past_limit, NULL }, TRUE, "615372108248558", NULL },
    /* Only the first name, even when it is not one. */
    { { "v=1", "id=615372108248558", "name=", "name=Mallory", NULL },
      TRUE, "615372108248558", NULL },
    /* Something with no key. */
    { { "=1", "v=1", "id=615372108248558", NULL }, TRUE, "615372108248558", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *id = NULL;
      g_autofree char *name = NULL;
      gboolean ok = read_items (cases[i].items, &id, &name);

      g_test_message ("case %u", i);
      g_assert_cmpint (ok, ==, cases[i].ok);
      if (!ok)
        continue;
      g_assert_cmpstr (id, ==, cases[i].id);
      g_assert_cmpstr (name, ==, cases[i].name);
    }
}

/* A value with a NUL byte inside is nothing Sotto publishes. */
static void
test_txt_nul (void)
{
  AvahiStringList *txt = NULL;
  g_autofree char *id = NULL;
  g_autofree char *name = NULL;
  static const guint8 name_with_nul[] = "name=Al\0ice";
  static const guint8 id_with_nul[] = "id=615372108248558\0";

  txt = avahi_string_list_add_arbitrary (txt, name_with_nul, sizeof name_with_nul - 1);
  txt = avahi_string_list_add (txt, "id=615372108248558");
  txt = avahi_string_list_add (txt, "v=1");
  g_assert_true (_sotto_discovery_read_txt (txt, &id, &name));
  g_assert_cmpstr (id, ==, "615372108248558");
  g_assert_null (name);
  avahi_string_list_free (txt);
  g_clear_pointer (&id, g_free);

  txt = avahi_string_list_add_arbitrary (NULL, id_with_nul, sizeof id_with_nul - 1);
  txt = avahi_string_list_add (txt, "v=1");
  g_assert_false (_sotto_discovery_read_txt (txt, &id, &name));
  avahi_string_list_free (txt);
}

static void
test_nearby (void)
{
  g_autoptr (SottoNearby) nearby = sotto_nearby_new ("615372108248558", "Sotto 61537 21082 48558");
  const char * const addresses[] = { "10.20.0.5:47300", "[fd00::5]:47300", NULL };
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  g_autofree char *fingerprint = NULL;

  g_assert_null (sotto_nearby_get_name (nearby));
  g_assert_cmpint (sotto_nearby_get_contact_id (nearby), ==, 0);
  g_assert_true (sotto_nearby_set_addresses (nearby, addresses));
  g_assert_false (sotto_nearby_set_addresses (nearby, addresses));
  sotto_nearby_set_name (nearby, "Alice");
  fingerprint = sotto_nearby_dup_fingerprint (nearby);
  g_assert_cmpstr (fingerprint, ==, "61537 21082 48558");

  node = sotto_nearby_to_json (nearby, NULL);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  g_assert_cmpstr (text, ==,
                   "{\"id\":\"615372108248558\",\"fingerprint\":\"61537 21082 48558\","
                   "\"name\":\"Alice\",\"addresses\":[\"10.20.0.5:47300\",\"[fd00::5]:47300\"],"
                   "\"contact\":null,\"service\":\"Sotto 61537 21082 48558\"}");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/discovery/id", test_id);
  g_test_add_func ("/discovery/id-valid", test_id_valid);
  g_test_add_func ("/discovery/txt", test_txt);
  g_test_add_func ("/discovery/txt-nul", test_txt_nul);
  g_test_add_func ("/discovery/nearby", test_nearby);

  return g_test_run ();
}
