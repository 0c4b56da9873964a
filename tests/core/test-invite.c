/* test-invite.c — invite URIs and address hints
 *
 * The example URIs were computed outside Sotto (Python's hashlib and
 * base64) from the definitions in app/core/PROTOCOL.md. make_uri() below
 * is a second, independent writer: it builds invites with a correct
 * checksum around contents the library would never write, so that the
 * parser's checks behind the checksum can be reached.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sodium.h>

#include "sotto-core.h"

/* RFC 7748, section 6.1: Alice's key pair and Bob's public key. */
static const guint8 alice_secret[SOTTO_KEY_LEN] = {
  0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
  0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a,
};
static const guint8 alice_public[SOTTO_KEY_LEN] = {
  0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
  0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a,
};
static const guint8 bob_public[SOTTO_KEY_LEN] = {
  0xde, 0x9e, 0xdb, 0x7d, 0x7b, 0x7d, 0xc1, 0xb4, 0xd3, 0x5b, 0x61, 0xc2, 0xec, 0xe4, 0x35, 0x37,
  0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78, 0x67, 0x4d, 0xad, 0xfc, 0x7e, 0x14, 0x6f, 0x88, 0x2b, 0x4f,
};

#define ALICE_KEY "quqpacmjgctvi5elpxolipxxlig36oqney4bv5hlusuy5ku3jzva"
#define BOB_KEY   "32pnw7l3pxa3ju23mhbozzbvg47ygq6iln4gotnn7r7bi34ifnhq"

/* The worked example of PROTOCOL.md. */
#define EXAMPLE_URI \
  "sotto:" ALICE_KEY "?v=1&n=Zo%C3%AB%20M%C3%BCller&a=192.0.2.7%3A7447" \
  "&a=%5B2001%3Adb8%3A%3A7%5D%3A7447&a=zoe.example.com%3A7447&c=n3tpwxss"
static const char * const example_addresses[] = {
  "192.0.2.7:7447", "[2001:db8::7]:7447", "zoe.example.com:7447", NULL
};

#define ALICE_URI "sotto:" ALICE_KEY "?v=1&n=Alice&c=fuqib2ku"
#define BOB_URI   "sotto:" BOB_KEY "?v=1&n=Bob&a=192.0.2.8%3A7447&c=fd457f4v"

static const char * const no_addresses[] = { NULL };

/* --- an independent writer ------------------------------------------- */

static void
append_base32 (GString      *out,
               const guint8 *data,
               gsize         len)
{
  /* Bit by bit, unlike the library's shift register. */
  for (gsize bit = 0; bit < len * 8; bit += 5)
    {
      guint v = 0;

      for (guint i = 0; i < 5; i++)
        {
          gsize b = bit + i;
          guint set = b < len * 8 ? (data[b / 8] >> (7 - b % 8)) & 1 : 0;

          v = v << 1 | set;
        }
      g_string_append_c (out, "abcdefghijklmnopqrstuvwxyz234567"[v]);
    }
}

static void
append_escaped (GString    *out,
                const char *value)
{
  for (const guchar *p = (const guchar *) value; *p != '\0'; p++)
    {
      if (strchr ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", *p))
        g_string_append_c (out, *p);
      else
        g_string_append_printf (out, "%%%02X", *p);
    }
}

static void
hash_u16_and_bytes (crypto_generichash_state *state,
                    const char               *value)
{
  gsize len = strlen (value);
  guint8 be[2] = { len >> 8, len & 0xff };

  crypto_generichash_update (state, be, 2);
  crypto_generichash_update (state, (const guint8 *) value, len);
}

/* Any name, any number of addresses: no validation at all. */
static char *
make_uri (const guint8       *key,
          const char         *name,
          const char * const *addresses)
{
  crypto_generichash_state state;
  guint8 hash[32];
  guint8 count = 0;
  GString *uri = g_string_new ("sotto:");

  while (addresses[count] != NULL)
    count++;

  crypto_generichash_init (&state, NULL, 0, sizeof hash);
  crypto_generichash_update (&state, (const guint8 *) "Sotto invite v1", 15);
  crypto_generichash_update (&state, key, SOTTO_KEY_LEN);
  hash_u16_and_bytes (&state, name);
  crypto_generichash_update (&state, &count, 1);
  for (guint i = 0; i < count; i++)
    hash_u16_and_bytes (&state, addresses[i]);
  crypto_generichash_final (&state, hash, sizeof hash);

  append_base32 (uri, key, SOTTO_KEY_LEN);
  g_string_append (uri, "?v=1&n=");
  append_escaped (uri, name);
  for (guint i = 0; i < count; i++)
    {
      g_string_append (uri, "&a=");
      append_escaped (uri, addresses[i]);
    }
  g_string_append (uri, "&c=");
  append_base32 (uri, hash, 5);

  return g_string_free (uri, FALSE);
}

static char *
replace_once (const char *text,
              const char *old,
              const char *new)
{
  const char *at = strstr (text, old);

  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - text), text, new, at + strlen (old));
}

static char *
dup_repeated (char  c,
              gsize times)
{
  char *s = g_malloc (times + 1);

  memset (s, c, times);
  s[times] = '\0';

  return s;
}

/* A DNS name of @len characters: labels of 63 letters between dots. */
static char *
make_host (gsize len)
{
  char *host = dup_repeated ('h', len);

  for (gsize i = 63; i < len; i += 64)
    host[i] = '.';
  g_assert_cmpint (host[len - 1], !=, '.');

  return host;
}

static void
assert_invite (const SottoInvite  *invite,
               const guint8       *key,
               const char         *name,
               const char * const *addresses)
{
  g_assert_nonnull (invite);
  g_assert_cmpmem (invite->public_key, SOTTO_KEY_LEN, key, SOTTO_KEY_LEN);
  g_assert_cmpstr (invite->display_name, ==, name);
  g_assert_nonnull (invite->addresses);
  g_assert_cmpstrv (invite->addresses, addresses);
}

static void
assert_parse_fails (const char *text,
                    int         code,
                    const char *message)
{
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (GError) error = NULL;

  invite = sotto_invite_parse (text, &error);
  g_assert_null (invite);
  g_assert_error (error, SOTTO_ERROR, code);
  if (strstr (error->message, message) == NULL)
    g_error ("expected “%s” in the message “%s”", message, error->message);
}

/* --- tests ------------------------------------------------------------ */

static void
test_parse_example (void)
{
  const struct {
    const char *uri;
    const guint8 *key;
    const char *name;
    const char * const *addresses;
  } cases[] = {
    { EXAMPLE_URI, alice_public, "Zoë Müller", example_addresses },
    { ALICE_URI, alice_public, "Alice", no_addresses },
    { BOB_URI, bob_public, "Bob", (const char * const[]) { "192.0.2.8:7447", NULL } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SottoInvite) invite = NULL;
      g_autoptr (SottoInvite) made = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *again = NULL;
      g_autofree char *made_uri = NULL;
      g_autofree char *independent = NULL;

      invite = sotto_invite_parse (cases[i].uri, &error);
      g_assert_no_error (error);
      assert_invite (invite, cases[i].key, cases[i].name, cases[i].addresses);

      again = sotto_invite_to_uri (invite);
      g_assert_cmpstr (again, ==, cases[i].uri);

      made = sotto_invite_new (cases[i].key, cases[i].name, cases[i].addresses, &error);
      g_assert_no_error (error);
      made_uri = sotto_invite_to_uri (made);
      g_assert_cmpstr (made_uri, ==, cases[i].uri);

      independent = make_uri (cases[i].key, cases[i].name, cases[i].addresses);
      g_assert_cmpstr (independent, ==, cases[i].uri);
    }
}

static void
test_round_trip (void)
{
  g_autofree char *host_253 = make_host (253);
  g_autofree char *longest_dns = g_strconcat (host_253, ":65535", NULL);
  const char * const one[] = { "10.0.0.1:1", NULL };
  const char * const eight[] = {
    "192.0.2.1:7447", "[2001:db8::1]:7447", "sotto.example.com:7447", "[::1]:1",
    "255.255.255.255:65535", "0.0.0.0:80", "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:9",
    "a-b.c-d.example:443", NULL
  };
  const char * const dns_max[] = { longest_dns, NULL };
  const struct {
    const char *name;
    const char * const *addresses;
  } cases[] = {
    { "Alice", no_addresses },
    { "Zoë Müller", one },
    { "王小明 😀", eight },
    { "a", dns_max },
    { "Dr. O'Neil-Smith & Co. ~ 100% + ?=#", one },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SottoInvite) invite = NULL;
      g_autoptr (SottoInvite) parsed = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *uri = NULL;
      g_autofree char *independent = NULL;

      invite = sotto_invite_new (bob_public, cases[i].name, cases[i].addresses, &error);
      g_assert_no_error (error);
      uri = sotto_invite_to_uri (invite);
      g_test_message ("uri: %s", uri);
      g_assert_cmpuint (strlen (uri), <=, SOTTO_INVITE_MAX_LEN);

      independent = make_uri (bob_public, cases[i].name, cases[i].addresses);
      g_assert_cmpstr (uri, ==, independent);

      parsed = sotto_invite_parse (uri, &error);
      g_assert_no_error (error);
      assert_invite (parsed, bob_public, cases[i].name, cases[i].addresses);
    }
}

static void
test_parse_lenient (void)
{
  g_autofree char *upper_key =
    replace_once (EXAMPLE_URI, ALICE_KEY, "QUQPACMJGCTVI5ELPXOLIPXXLIG36OQNEY4BV5HLUSUY5KU3JZVA");
  g_autofree char *lower_hex = replace_once (EXAMPLE_URI, "Zo%C3%AB%20M%C3%BCller",
                                             "Zo%c3%ab%20M%c3%bcller");
  g_autofree char *upper_check = replace_once (EXAMPLE_URI, "c=n3tpwxss", "c=N3TPWXSS");
  g_autofree char *upper_scheme = replace_once (EXAMPLE_URI, "sotto:", "SoTTO:");
  g_autofree char *escaped_unreserved = replace_once (ALICE_URI, "n=Alice", "n=%41li%63e");
  g_autofree char *padded = g_strconcat (" \t\r\n\v\f", EXAMPLE_URI, "\r\n \t", NULL);
  const char *cases[] = { upper_key, lower_hex, upper_check, upper_scheme, padded };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SottoInvite) invite = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *canonical = NULL;

      invite = sotto_invite_parse (cases[i], &error);
      g_assert_no_error (error);
      assert_invite (invite, alice_public, "Zoë Müller", example_addresses);

      /* Written back, it has its one canonical form. */
      canonical = sotto_invite_to_uri (invite);
      g_assert_cmpstr (canonical, ==, EXAMPLE_URI);
    }

  {
    g_autoptr (SottoInvite) invite = NULL;
    g_autoptr (GError) error = NULL;
    g_autofree char *canonical = NULL;

    invite = sotto_invite_parse (escaped_unreserved, &error);
    g_assert_no_error (error);
    assert_invite (invite, alice_public, "Alice", no_addresses);
    canonical = sotto_invite_to_uri (invite);
    g_assert_cmpstr (canonical, ==, ALICE_URI);
  }
}

/* Shorthands for the table below. */
#define A       "sotto:" ALICE_KEY
#define BAD     SOTTO_ERROR_INVALID_INVITE
#define DAMAGED SOTTO_ERROR_INVITE_DAMAGED
#define TOO_NEW SOTTO_ERROR_INVITE_TOO_NEW

static void
test_parse_structure_errors (void)
{
  g_autofree char *key_51 = replace_once (ALICE_URI, ALICE_KEY, ALICE_KEY + 1);
  g_autofree char *key_53 = replace_once (ALICE_URI, ALICE_KEY, "a" ALICE_KEY);
  g_autofree char *key_digit_1 = replace_once (ALICE_URI, "quqp", "q1qp");
  g_autofree char *key_digit_8 = replace_once (ALICE_URI, "quqp", "q8qp");
  g_autofree char *key_padding = replace_once (ALICE_URI, "quqp", "q=qp");
  g_autofree char *key_non_canonical = replace_once (ALICE_URI, "jzva?", "jzvb?");
  g_autofree char *key_non_canonical_q = replace_once (BOB_URI, "fnhq?", "fnhr?");
  g_autofree char *v2_long_key = g_strconcat ("sotto:", ALICE_KEY, ALICE_KEY, "?v=2&k=x", NULL);
  const struct {
    const char *text;
    int code;
    const char *message;
  } cases[] = {
    { "", BAD, "is empty" },
    { " \n\t ", BAD, "is empty" },
    { "sotta:" ALICE_KEY "?v=1&n=Alice&c=fuqib2ku", BAD, "sotto:" },
    { "https://example.com/?v=1", BAD, "sotto:" },
    { "sotto", BAD, "sotto:" },
    { ALICE_URI "#x", BAD, "“#”" },
    { A "?v=1&n=Al#ice&c=fuqib2ku", BAD, "“#”" },
    /* The version is looked at before anything after it. */
    { A "?v=2&n=Alice&c=fuqib2ku", TOO_NEW, "newer version" },
    { A "?v=10&n=Alice&c=fuqib2ku", TOO_NEW, "newer version" },
    { A "?v=&n=Alice&c=fuqib2ku", TOO_NEW, "newer version" },
    { A "?v=2", TOO_NEW, "newer version" },
    { v2_long_key, TOO_NEW, "newer version" },
    /* The key. */
    { key_51, BAD, "exactly 52 characters" },
    { key_53, BAD, "exactly 52 characters" },
    { "sotto:?v=1&n=Alice&c=fuqib2ku", BAD, "exactly 52 characters" },
    { key_digit_1, BAD, "2–7" },
    { key_digit_8, BAD, "2–7" },
    { key_padding, BAD, "2–7" },
    { key_non_canonical, BAD, "last character" },
    { key_non_canonical_q, BAD, "last character" },
    /* Parameters. */
    { A, BAD, "lacks the “v”" },
    { A "?", BAD, "unknown parameter" },
    { A "?n=Alice&c=fuqib2ku", BAD, "lacks the “v”" },
    { A "?v=1&c=fuqib2ku", BAD, "lacks the “n”" },
    { A "?v=1&n=Alice", BAD, "lacks the “c”" },
    { A "?v=1&x=1&n=Alice&c=fuqib2ku", BAD, "unknown parameter" },
    { A "?v=1&N=Alice&c=fuqib2ku", BAD, "unknown parameter" },
    { A "?v=1&nn=Alice&c=fuqib2ku", BAD, "unknown parameter" },
    { A "?v=1&=Alice&c=fuqib2ku", BAD, "unknown parameter" },
    { A "?v=1&n=Alice&&c=fuqib2ku", BAD, "unknown parameter" },
    { A "?v=1&n=Alice&c=fuqib2ku&", BAD, "unknown parameter" },
    { A "?v=1&n&c=fuqib2ku", BAD, "“n” parameter of this invite has no value" },
    { A "?v=1&v=1&n=Alice&c=fuqib2ku", BAD, "“v” parameter more than once" },
    { A "?v=1&n=Alice&n=Alice&c=fuqib2ku", BAD, "“n” parameter more than once" },
    { A "?v=1&n=Alice&c=fuqib2ku&c=fuqib2ku", BAD, "“c” parameter more than once" },
    { A "?n=Alice&v=1&c=fuqib2ku", BAD, "wrong order" },
    { A "?v=1&c=fuqib2ku&n=Alice", BAD, "wrong order" },
    { A "?v=1&a=10.0.0.1%3A80&n=Alice&c=fuqib2ku", BAD, "wrong order" },
    { A "?v=1&n=Alice&c=fuqib2ku&a=10.0.0.1%3A80", BAD, "wrong order" },
    /* Values. */
    { A "?v=1&n=Al%00ice&c=fuqib2ku", BAD, "zero byte" },
    { A "?v=1&n=Al%G1ice&c=fuqib2ku", BAD, "percent escape" },
    { A "?v=1&n=Al%1Gice&c=fuqib2ku", BAD, "percent escape" },
    { A "?v=1&n=Alice%4&c=fuqib2ku", BAD, "percent escape" },
    { A "?v=1&n=Alice%&c=fuqib2ku", BAD, "percent escape" },
    { A "?v=1&n=Al ice&c=fuqib2ku", BAD, "does not belong" },
    { A "?v=1&n=Al+ice&c=fuqib2ku", BAD, "does not belong" },
    { A "?v=1&n=Zoë&c=fuqib2ku", BAD, "does not belong" },
    { A "?v=1&n=Alice&c=fuqib2k", BAD, "8 letters and digits" },
    { A "?v=1&n=Alice&c=fuqib2kuu", BAD, "8 letters and digits" },
    { A "?v=1&n=Alice&c=fuqib2k1", BAD, "8 letters and digits" },
    /* One character changed anywhere: caught by the checksum. */
    { A "?v=1&n=Alicf&c=fuqib2ku", DAMAGED, "damaged or mistyped" },
    { A "?v=1&n=alice&c=fuqib2ku", DAMAGED, "damaged or mistyped" },
    { A "?v=1&n=Alice&c=fuqib2kv", DAMAGED, "damaged or mistyped" },
    { "sotto:ruqpacmjgctvi5elpxolipxxlig36oqney4bv5hlusuy5ku3jzva?v=1&n=Alice&c=fuqib2ku",
      DAMAGED, "damaged or mistyped" },
    { A "?v=1&n=Zo%C3%AB%20M%C3%BCllet&a=192.0.2.7%3A7447"
      "&a=%5B2001%3Adb8%3A%3A7%5D%3A7447&a=zoe.example.com%3A7447&c=n3tpwxss",
      DAMAGED, "damaged or mistyped" },
    { A "?v=1&n=Zo%C3%AB%20M%C3%BCller&a=192.0.2.8%3A7447"
      "&a=%5B2001%3Adb8%3A%3A7%5D%3A7447&a=zoe.example.com%3A7447&c=n3tpwxss",
      DAMAGED, "damaged or mistyped" },
    /* A dropped address. */
    { A "?v=1&n=Zo%C3%AB%20M%C3%BCller&a=192.0.2.7%3A7447"
      "&a=zoe.example.com%3A7447&c=n3tpwxss",
      DAMAGED, "damaged or mistyped" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %u: %s", i, cases[i].text);
      assert_parse_fails (cases[i].text, cases[i].code, cases[i].message);
    }
}

#undef A
#undef BAD
#undef DAMAGED
#undef TOO_NEW

/* One mistyped character in the key, the name or the checksum is
 * reported as such: damaged or mistyped, not as some other error. */
static void
test_parse_checksum_mismatch (void)
{
  const char *uri = ALICE_URI;
  const char *name = strstr (uri, "n=Alice") + 2;
  const char *check = strstr (uri, "c=") + 2;
  guint n_tried = 0;

  for (gsize i = strlen ("sotto:"); uri[i] != '\0'; i++)
    {
      gboolean in_key = i < strlen ("sotto:") + 52;
      gboolean in_name = &uri[i] >= name && &uri[i] < name + strlen ("Alice");
      gboolean in_check = &uri[i] >= check;
      /* Swaps a letter for another that keeps the text well-formed. Only
       * the key's last character is restricted: it is either a or q. */
      const char *replacements = i == strlen ("sotto:") + 51 ? "q" : "bcxyz";

      if (!in_key && !in_name && !in_check)
        continue;

      for (const char *r = replacements; *r != '\0'; r++)
        {
          g_autofree char *mistyped = g_strdup (uri);

          if (g_ascii_tolower (uri[i]) == *r)
            continue;
          mistyped[i] = *r;
          g_test_message ("%s", mistyped);
          assert_parse_fails (mistyped, SOTTO_ERROR_INVITE_DAMAGED,
                              "This invite is damaged or mistyped");
          n_tried++;
        }
    }

  g_assert_cmpuint (n_tried, >, 250);
}

/* Contents that only a broken or hostile writer makes, behind a correct
 * checksum: the parser's own checks must catch them. */
static void
test_parse_content_errors (void)
{
  g_autofree char *host_254 = make_host (254);
  g_autofree char *host_253 = make_host (253);
  g_autofree char *label_64 = dup_repeated ('l', 64);
  g_autofree char *name_257 = dup_repeated ('n', SOTTO_DISPLAY_NAME_MAX_BYTES + 1);
  g_autofree char *name_65 = dup_repeated ('n', SOTTO_DISPLAY_NAME_MAX_CHARS + 1);
  g_autofree char *address_262 = g_strconcat (host_253, ":65535", "xxx", NULL);
  g_autofree char *address_254 = g_strconcat (host_254, ":1", NULL);
  g_autofree char *address_label_64 = g_strconcat (label_64, ".example:1", NULL);
  const char * const nine[] = { "10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.4:1",
                                "10.0.0.5:1", "10.0.0.6:1", "10.0.0.7:1", "10.0.0.8:1",
                                "10.0.0.9:1", NULL };
  const struct {
    const char *name;
    const char *address;  /* one address, or NULL for none */
    const char * const *addresses;
    const char *message;
  } cases[] = {
    { "\xff", NULL, NULL, "UTF-8" },
    { "Al\xc3", NULL, NULL, "UTF-8" },
    { "", NULL, NULL, "is empty" },
    { " ", NULL, NULL, "only of white space" },
    { " Alice", NULL, NULL, "white space" },
    { "Zoe\xcc\x88", NULL, NULL, "normalization form" },
    { "Bob\nSmith", NULL, NULL, "control characters" },
    { "evil\u202Etxt", NULL, NULL, "formatting characters" },
    { name_257, NULL, NULL, "longer than 256 bytes" },
    { name_65, NULL, NULL, "longer than 64 characters" },
    { "Alice", NULL, nine, "more than 8 addresses" },
    { "Alice", "10.0.0.1:0", NULL, "port" },
    { "Alice", "10.0.0.1:65536", NULL, "port" },
    { "Alice", "10.0.0.1:080", NULL, "port" },
    { "Alice", "10.0.0.1:", NULL, "port" },
    { "Alice", "10.0.0.1", NULL, "no port" },
    { "Alice", "10.0.0.256:80", NULL, "IPv4" },
    { "Alice", ":80", NULL, "no host" },
    { "Alice", "[]:80", NULL, "no host" },
    { "Alice", "[fe80::1%eth0]:80", NULL, "IPv6" },
    { "Alice", "fe80::1:80", NULL, "square brackets" },
    { "Alice", address_label_64, NULL, "longer than 63 characters" },
    { "Alice", address_254, NULL, "longer than 253 characters" },
    { "Alice", address_262, NULL, "longer than 261 bytes" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char * const one[] = { cases[i].address, NULL };
      const char * const *addresses = cases[i].addresses;
      g_autofree char *uri = NULL;

      if (addresses == NULL)
        addresses = cases[i].address != NULL ? one : no_addresses;
      uri = make_uri (alice_public, cases[i].name, addresses);
      g_test_message ("case %u: %s", i, uri);
      assert_parse_fails (uri, SOTTO_ERROR_INVALID_INVITE, cases[i].message);
    }
}

/* X25519 reads a key as a 255-bit number: the top bit is ignored, and
 * 2^255 - 19 + k is k. A key in any of those other forms is refused, so
 * that one key pair has one invite (PROTOCOL.md, "Identity keys"). */
static void
test_parse_non_canonical_key (void)
{
  guint8 high_bit[SOTTO_KEY_LEN];
  guint8 p[SOTTO_KEY_LEN];
  guint8 p_minus_1[SOTTO_KEY_LEN];
  guint8 top[SOTTO_KEY_LEN];
  g_autofree char *high_bit_uri = NULL;
  g_autofree char *p_uri = NULL;
  g_autofree char *top_uri = NULL;
  g_autofree char *p_minus_1_uri = NULL;
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (GError) error = NULL;

  memcpy (high_bit, alice_public, SOTTO_KEY_LEN);
  high_bit[31] |= 0x80;
  /* p = 2^255 - 19, little-endian: ed ff … ff 7f. */
  memset (p, 0xff, SOTTO_KEY_LEN);
  p[0] = 0xed;
  p[31] = 0x7f;
  memcpy (p_minus_1, p, SOTTO_KEY_LEN);
  p_minus_1[0] = 0xec;
  memset (top, 0xff, SOTTO_KEY_LEN);
  top[31] = 0x7f;

  high_bit_uri = make_uri (high_bit, "Alice", no_addresses);
  assert_parse_fails (high_bit_uri, SOTTO_ERROR_INVALID_INVITE, "not in canonical form");
  p_uri = make_uri (p, "Alice", no_addresses);
  assert_parse_fails (p_uri, SOTTO_ERROR_INVALID_INVITE, "not in canonical form");
  top_uri = make_uri (top, "Alice", no_addresses);
  assert_parse_fails (top_uri, SOTTO_ERROR_INVALID_INVITE, "not in canonical form");

  /* The largest canonical value is read as it is. */
  p_minus_1_uri = make_uri (p_minus_1, "Alice", no_addresses);
  invite = sotto_invite_parse (p_minus_1_uri, &error);
  g_assert_no_error (error);
  assert_invite (invite, p_minus_1, "Alice", no_addresses);

  /* A mistyped key is still reported as mistyped, whatever it became. */
  {
    g_autofree char *mistyped = g_strdup (p_uri);

    mistyped[strlen ("sotto:") + 2] = mistyped[strlen ("sotto:") + 2] == 'a' ? 'b' : 'a';
    assert_parse_fails (mistyped, SOTTO_ERROR_INVITE_DAMAGED, "damaged or mistyped");
  }
}

/* The same rule, as a function (the handshake uses it too). */
static void
test_key_canonical (void)
{
  const struct {
    guint8 first;    /* byte 0 */
    guint8 middle;   /* bytes 1 to 30 */
    guint8 last;     /* byte 31 */
    gboolean canonical;
  } cases[] = {
    { 0x00, 0x00, 0x00, TRUE },    /* 0: canonical (refused later, by the DH) */
    { 0x09, 0x00, 0x00, TRUE },    /* 9, the base point */
    { 0xec, 0xff, 0x7f, TRUE },    /* p - 1 */
    { 0xed, 0xff, 0x7f, FALSE },   /* p */
    { 0xee, 0xff, 0x7f, FALSE },   /* p + 1 */
    { 0xff, 0xff, 0x7f, FALSE },   /* 2^255 - 1 */
    { 0xff, 0xfe, 0x7f, TRUE },    /* below p: one byte in the middle is not ff */
    { 0x09, 0x00, 0x80, FALSE },   /* 9 with the top bit set */
    { 0x00, 0x00, 0xff, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint8 key[SOTTO_KEY_LEN];

      memset (key, cases[i].middle, SOTTO_KEY_LEN);
      key[0] = cases[i].first;
      key[31] = cases[i].last;
      g_test_message ("case %u", i);
      g_assert_cmpint (sotto_public_key_is_canonical (key), ==, cases[i].canonical);
    }

  /* Every key X25519 makes is canonical. */
  for (guint i = 0; i < 1000; i++)
    {
      guint8 secret[SOTTO_KEY_LEN];
      guint8 pub[SOTTO_KEY_LEN];

      randombytes_buf (secret, sizeof secret);
      crypto_scalarmult_base (pub, secret);
      g_assert_true (sotto_public_key_is_canonical (pub));
    }
}

static void
test_addresses_limit (void)
{
  const char * const eight[] = { "10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.4:1",
                                 "10.0.0.5:1", "10.0.0.6:1", "10.0.0.7:1", "10.0.0.8:1",
                                 NULL };
  const char * const nine[] = { "10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.4:1",
                                "10.0.0.5:1", "10.0.0.6:1", "10.0.0.7:1", "10.0.0.8:1",
                                "10.0.0.9:1", NULL };
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (SottoInvite) parsed = NULL;
  g_autoptr (SottoInvite) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *uri_8 = make_uri (alice_public, "Alice", eight);
  g_autofree char *uri_9 = make_uri (alice_public, "Alice", nine);

  invite = sotto_invite_new (alice_public, "Alice", eight, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (invite->addresses), ==, SOTTO_INVITE_MAX_ADDRESSES);

  parsed = sotto_invite_parse (uri_8, &error);
  g_assert_no_error (error);
  assert_invite (parsed, alice_public, "Alice", eight);

  refused = sotto_invite_new (alice_public, "Alice", nine, &error);
  g_assert_null (refused);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  assert_parse_fails (uri_9, SOTTO_ERROR_INVALID_INVITE, "more than 8 addresses");
}

/* Seven of the longest addresses, a 64-character name, and an eighth
 * address whose host fills up to exactly @len bytes. */
static char *
make_uri_of_length (gsize len)
{
  g_autofree char *host_253 = make_host (253);
  g_autofree char *longest = g_strconcat (host_253, ":65535", NULL);
  g_autofree char *name = dup_repeated ('N', SOTTO_DISPLAY_NAME_MAX_CHARS);
  g_autofree char *short_uri = NULL;
  g_autofree char *host = NULL;
  g_autofree char *last = NULL;
  const char *addresses[SOTTO_INVITE_MAX_ADDRESSES + 1] = { NULL, };
  gsize host_len;

  for (guint i = 0; i < SOTTO_INVITE_MAX_ADDRESSES - 1; i++)
    addresses[i] = longest;
  addresses[SOTTO_INVITE_MAX_ADDRESSES - 1] = "h:1";
  short_uri = make_uri (alice_public, name, addresses);

  host_len = 1 + len - strlen (short_uri);
  g_assert_cmpuint (host_len, >=, 1);
  g_assert_cmpuint (host_len, <=, 63);
  host = dup_repeated ('h', host_len);
  last = g_strconcat (host, ":1", NULL);
  addresses[SOTTO_INVITE_MAX_ADDRESSES - 1] = last;

  return make_uri (alice_public, name, addresses);
}

static void
test_length_limit (void)
{
  g_autofree char *at_limit = make_uri_of_length (SOTTO_INVITE_MAX_LEN);
  g_autofree char *past_limit = make_uri_of_length (SOTTO_INVITE_MAX_LEN + 1);
  g_autofree char *padded_at_limit = NULL;
  g_autofree char *padded_past_limit = NULL;
  g_autofree char *written = NULL;
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (SottoInvite) padded = NULL;
  g_autoptr (GError) error = NULL;
  gsize example_len = strlen (EXAMPLE_URI);

  g_assert_cmpuint (strlen (at_limit), ==, SOTTO_INVITE_MAX_LEN);
  g_assert_cmpuint (strlen (past_limit), ==, SOTTO_INVITE_MAX_LEN + 1);

  invite = sotto_invite_parse (at_limit, &error);
  g_assert_no_error (error);
  written = sotto_invite_to_uri (invite);
  g_assert_cmpstr (written, ==, at_limit);

  assert_parse_fails (past_limit, SOTTO_ERROR_INVALID_INVITE, "longer than 2048 bytes");

  /* White space counts: the limit is on the text as given. */
  padded_at_limit = g_strdup_printf ("%s%*s", EXAMPLE_URI,
                                     (int) (SOTTO_INVITE_MAX_LEN - example_len), "");
  padded_past_limit = g_strdup_printf ("%s%*s", EXAMPLE_URI,
                                       (int) (SOTTO_INVITE_MAX_LEN + 1 - example_len), "");
  g_assert_cmpuint (strlen (padded_at_limit), ==, SOTTO_INVITE_MAX_LEN);
  padded = sotto_invite_parse (padded_at_limit, &error);
  g_assert_no_error (error);
  assert_invite (padded, alice_public, "Zoë Müller", example_addresses);
  assert_parse_fails (padded_past_limit, SOTTO_ERROR_INVALID_INVITE, "longer than 2048 bytes");
}

static void
test_length_new_too_long (void)
{
  g_autofree char *host_253 = make_host (253);
  g_autofree char *longest = g_strconcat (host_253, ":65535", NULL);
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (GError) error = NULL;
  const char *addresses[SOTTO_INVITE_MAX_ADDRESSES + 1] = { NULL, };

  /* Eight valid addresses, each as long as an address can be: more than
   * a parser accepts, so no such invite is made. */
  for (guint i = 0; i < SOTTO_INVITE_MAX_ADDRESSES; i++)
    addresses[i] = longest;

  invite = sotto_invite_new (alice_public, "Alice", addresses, &error);
  g_assert_null (invite);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "longer than 2048 bytes"));
}

/* The length is checked first and with a bounded scan: the text sits right
 * before libsodium's guard page without a terminating NUL, so reading one
 * byte more than SOTTO_INVITE_MAX_LEN + 1 would crash. */
static void
test_length_bounded_scan (void)
{
  const gsize sizes[] = { SOTTO_INVITE_MAX_LEN + 1, 1024 * 1024 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      char *unterminated = sodium_malloc (sizes[i]);

      g_assert_nonnull (unterminated);
      memcpy (unterminated, ALICE_URI, strlen (ALICE_URI));
      memset (unterminated + strlen (ALICE_URI), ' ', sizes[i] - strlen (ALICE_URI));
      assert_parse_fails (unterminated, SOTTO_ERROR_INVALID_INVITE, "longer than 2048 bytes");
      sodium_free (unterminated);
    }

  {
    char *address = sodium_malloc (SOTTO_INVITE_ADDRESS_MAX_LEN + 1);
    g_autoptr (GError) error = NULL;

    memset (address, 'a', SOTTO_INVITE_ADDRESS_MAX_LEN + 1);
    g_assert_false (sotto_invite_address_validate (address, &error));
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
    sodium_free (address);
  }
}

static void
test_length_huge (void)
{
  gsize size = 1024 * 1024;
  g_autofree char *huge = g_malloc (size + 1);
  gint64 start;

  memcpy (huge, EXAMPLE_URI, strlen (EXAMPLE_URI));
  memset (huge + strlen (EXAMPLE_URI), 'a', size - strlen (EXAMPLE_URI));
  huge[size] = '\0';

  start = g_get_monotonic_time ();
  for (guint i = 0; i < 1000; i++)
    assert_parse_fails (huge, SOTTO_ERROR_INVALID_INVITE, "longer than 2048 bytes");

  /* A thousand rejections of a megabyte each: a scan of the whole text
   * would take about a second, a bounded one takes milliseconds even under
   * valgrind. Generous, so a busy machine does not fail it. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
}

static void
test_address_valid (void)
{
  g_autofree char *host_253 = make_host (253);
  g_autofree char *longest = g_strconcat (host_253, ":65535", NULL);
  g_autofree char *label_63 = dup_repeated ('l', 63);
  g_autofree char *with_label_63 = g_strconcat (label_63, ".example:1", NULL);
  const char *addresses[] = {
    "192.0.2.7:7447",
    "0.0.0.0:1",
    "255.255.255.255:65535",
    "10.0.0.1:80",
    "[2001:db8::7]:7447",
    "[::1]:1",
    "[::]:1",
    "[FE80::A:b]:22",
    "[::ffff:192.0.2.1]:80",
    "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:9",  /* 45 characters */
    "[1:2:3:4:5:6:7:8]:9",
    "localhost:7447",
    "zoe.example.com:7447",
    "Zoe-PC.Example.COM:7447",
    "a:1",
    "1a:1",
    "123.example:1",
    "a-b.c--d.e:2",
    with_label_63,
    longest,           /* 259 bytes: the longest valid address */
    NULL
  };

  g_assert_cmpuint (strlen (longest), ==, 259);

  for (guint i = 0; addresses[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("address: %s", addresses[i]);
      g_assert_true (sotto_invite_address_validate (addresses[i], &error));
      g_assert_no_error (error);
    }
}

static void
test_address_invalid (void)
{
  g_autofree char *host_253 = make_host (253);
  g_autofree char *host_254 = make_host (254);
  g_autofree char *label_64 = dup_repeated ('l', 64);
  g_autofree char *with_label_64 = g_strconcat (label_64, ".example:1", NULL);
  g_autofree char *host_254_port = g_strconcat (host_254, ":1", NULL);
  /* 261 bytes is within the byte limit, but no host is that long. */
  g_autofree char *address_261 = g_strconcat (host_253, ":6553500", NULL);
  g_autofree char *address_262 = g_strconcat (host_253, ":65535000", NULL);
  g_autofree char *huge = dup_repeated ('a', 100000);
  const struct {
    const char *address;
    const char *message;
  } cases[] = {
    { "", "is empty" },
    { "10.0.0.1", "no port" },
    { "example.com", "no port" },
    { "10.0.0.1:", "port" },
    { "10.0.0.1:0", "port" },
    { "10.0.0.1:00", "port" },
    { "10.0.0.1:080", "port" },
    { "10.0.0.1:65536", "port" },
    { "10.0.0.1:99999", "port" },
    { "10.0.0.1:100000", "port" },
    { "10.0.0.1:+80", "port" },
    { "10.0.0.1:-80", "port" },
    { "10.0.0.1: 80", "port" },
    { "10.0.0.1:80 ", "port" },
    { "10.0.0.1:8a", "port" },
    { "[::1]80", "no port" },
    { "[::1]", "no port" },
    { ":80", "no host" },
    { "[]:80", "no host" },
    { "10.0.0.256:80", "IPv4" },
    { "256.0.0.1:80", "IPv4" },
    { "10.0.0.01:80", "IPv4" },
    { "010.0.0.1:80", "IPv4" },
    { "10.0.0:80", "IPv4" },
    { "10.0.0.1.2:80", "IPv4" },
    { "10.0.0.1.:80", "IPv4" },
    { ".10.0.0.1:80", "IPv4" },
    { "10..0.1:80", "IPv4" },
    { "1000.0.0.1:80", "IPv4" },
    { "4294967297:80", "IPv4" },
    { "[fe80::1%eth0]:80", "IPv6" },
    { "[fe80::1%25eth0]:80", "IPv6" },
    { "[1.2.3.4]:80", "IPv6" },
    { "[::g]:80", "IPv6" },
    { "[1::2::3]:80", "IPv6" },
    { "[1:2:3:4:5:6:7:8:9]:80", "IPv6" },
    { "[::1:80", "“[”" },
    { "::1:80", "square brackets" },
    { "fe80::1:80", "square brackets" },
    { "-example.com:80", "“-”" },
    { "example-.com:80", "“-”" },
    { "example.-com:80", "“-”" },
    { "example..com:80", "empty part" },
    { ".example.com:80", "empty part" },
    { "example.com.:80", "empty part" },
    { "exa_mple.com:80", "may only contain" },
    { "exämple.com:80", "may only contain" },
    { "example.com/x:80", "may only contain" },
    { "user@example.com:80", "may only contain" },
    { with_label_64, "longer than 63 characters" },
    { host_254_port, "longer than 253 characters" },
    { address_261, "port" },
    { address_262, "longer than 261 bytes" },
    { huge, "longer than 261 bytes" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("address: %.80s", cases[i].address);
      g_assert_false (sotto_invite_address_validate (cases[i].address, &error));
      g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
      if (strstr (error->message, cases[i].message) == NULL)
        g_error ("expected “%s” in the message “%s”", cases[i].message, error->message);
    }

  {
    g_autoptr (GError) error = NULL;

    g_assert_false (sotto_invite_address_validate (NULL, &error));
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_new_invalid (void)
{
  const char * const bad_address[] = { "10.0.0.1:80", "10.0.0.1:0", NULL };
  const struct {
    const char *name;
    const char * const *addresses;
  } cases[] = {
    { "", NULL },
    { " Alice", NULL },        /* not normalized: invite_new does not fix it */
    { "Bob\nSmith", NULL },
    { "Alice", bad_address },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SottoInvite) invite = NULL;
      g_autoptr (GError) error = NULL;

      invite = sotto_invite_new (alice_public, cases[i].name, cases[i].addresses, &error);
      g_assert_null (invite);
      g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_new_for_identity (void)
{
  static const char * const bad_addresses[] = { "192.0.2.7:0", NULL };
  g_autoptr (SottoIdentity) identity = NULL;
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (SottoInvite) bare = NULL;
  g_autoptr (SottoInvite) bad = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = NULL;

  identity = sotto_identity_new_from_keys (alice_public, alice_secret, "Zoë Müller", &error);
  g_assert_no_error (error);

  invite = sotto_invite_new_for_identity (identity, example_addresses, &error);
  g_assert_no_error (error);
  assert_invite (invite, alice_public, "Zoë Müller", example_addresses);
  uri = sotto_invite_to_uri (invite);
  g_assert_cmpstr (uri, ==, EXAMPLE_URI);

  bare = sotto_invite_new_for_identity (identity, NULL, &error);
  g_assert_no_error (error);
  assert_invite (bare, alice_public, "Zoë Müller", no_addresses);

  bad = sotto_invite_new_for_identity (identity, bad_addresses, &error);
  g_assert_null (bad);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
}

static void
test_copy (void)
{
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (SottoInvite) copy = NULL;
  g_autoptr (SottoInvite) boxed = NULL;
  g_autoptr (GError) error = NULL;

  invite = sotto_invite_parse (EXAMPLE_URI, &error);
  g_assert_no_error (error);

  copy = sotto_invite_copy (invite);
  g_assert_true (copy != invite);
  g_assert_true (copy->display_name != invite->display_name);
  g_assert_true (copy->addresses != invite->addresses);
  assert_invite (copy, alice_public, "Zoë Müller", example_addresses);

  g_assert_true (G_TYPE_IS_BOXED (SOTTO_TYPE_INVITE));
  boxed = g_boxed_copy (SOTTO_TYPE_INVITE, invite);
  assert_invite (boxed, alice_public, "Zoë Müller", example_addresses);

  /* NULL is fine, as for g_free(). */
  sotto_invite_free (NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/invite/parse/example", test_parse_example);
  g_test_add_func ("/invite/parse/lenient", test_parse_lenient);
  g_test_add_func ("/invite/parse/structure-errors", test_parse_structure_errors);
  g_test_add_func ("/invite/parse/checksum-mismatch", test_parse_checksum_mismatch);
  g_test_add_func ("/invite/parse/content-errors", test_parse_content_errors);
  g_test_add_func ("/invite/parse/non-canonical-key", test_parse_non_canonical_key);
  g_test_add_func ("/invite/key/canonical", test_key_canonical);
  g_test_add_func ("/invite/round-trip", test_round_trip);
  g_test_add_func ("/invite/addresses/limit", test_addresses_limit);
  g_test_add_func ("/invite/length/limit", test_length_limit);
  g_test_add_func ("/invite/length/new-too-long", test_length_new_too_long);
  g_test_add_func ("/invite/length/bounded-scan", test_length_bounded_scan);
  g_test_add_func ("/invite/length/huge", test_length_huge);
  g_test_add_func ("/invite/address/valid", test_address_valid);
  g_test_add_func ("/invite/address/invalid", test_address_invalid);
  g_test_add_func ("/invite/new/invalid", test_new_invalid);
  g_test_add_func ("/invite/new/for-identity", test_new_for_identity);
  g_test_add_func ("/invite/copy", test_copy);

  return g_test_run ();
}
