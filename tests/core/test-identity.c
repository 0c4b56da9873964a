/* test-identity.c — key pairs, display names, fingerprints, safety numbers
 *
 * The expected fingerprints and safety numbers were computed outside Sotto
 * (Python's hashlib.blake2b) from the definitions in app/core/PROTOCOL.md.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sodium.h>

#include "sotto-core.h"

/* RFC 7748, section 6.1: Alice's and Bob's X25519 key pairs. */
static const guint8 alice_secret[SOTTO_KEY_LEN] = {
  0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
  0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a,
};
static const guint8 alice_public[SOTTO_KEY_LEN] = {
  0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
  0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a,
};
static const guint8 bob_secret[SOTTO_KEY_LEN] = {
  0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80, 0x0e, 0xe6,
  0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb,
};
static const guint8 bob_public[SOTTO_KEY_LEN] = {
  0xde, 0x9e, 0xdb, 0x7d, 0x7b, 0x7d, 0xc1, 0xb4, 0xd3, 0x5b, 0x61, 0xc2, 0xec, 0xe4, 0x35, 0x37,
  0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78, 0x67, 0x4d, 0xad, 0xfc, 0x7e, 0x14, 0x6f, 0x88, 0x2b, 0x4f,
};

#define ALICE_FINGERPRINT "61537 21082 48558 42141 97358 07623"
#define BOB_FINGERPRINT   "84768 27959 70443 45309 64003 62213"

/* Every fingerprint and safety number has this shape: groups of five
 * digits separated by single spaces. */
static void
assert_digit_groups (const char *text,
                     guint       n_groups)
{
  g_assert_nonnull (text);
  g_assert_cmpuint (strlen (text), ==, n_groups * 6 - 1);

  for (gsize i = 0; text[i] != '\0'; i++)
    {
      if (i % 6 == 5)
        g_assert_cmpint (text[i], ==, ' ');
      else
        g_assert_true (g_ascii_isdigit (text[i]));
    }
}

static char *
dup_repeated (const char *unit,
              guint       times)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < times; i++)
    g_string_append (s, unit);

  return g_string_free (s, FALSE);
}

static void
test_fingerprint_stable (void)
{
  static const struct {
    guint8 key[SOTTO_KEY_LEN];
    const char *fingerprint;
  } cases[] = {
    { { 0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7,
        0x5a, 0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b,
        0x4e, 0x6a }, ALICE_FINGERPRINT },
    { { 0xde, 0x9e, 0xdb, 0x7d, 0x7b, 0x7d, 0xc1, 0xb4, 0xd3, 0x5b, 0x61, 0xc2, 0xec, 0xe4, 0x35,
        0x37, 0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78, 0x67, 0x4d, 0xad, 0xfc, 0x7e, 0x14, 0x6f, 0x88,
        0x2b, 0x4f }, BOB_FINGERPRINT },
    { { 0 }, "72360 68871 25504 75100 92843 27272" },
    /* Leading zeros in the first group are kept. */
    { { 0x01, [31] = 0xff }, "08659 06843 19761 90736 20450 28115" },
    { { 0x02 }, "94881 44770 33937 83397 43262 57717" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *fingerprint = sotto_fingerprint_for_key (cases[i].key);
      g_autofree char *again = sotto_fingerprint_for_key (cases[i].key);

      g_assert_cmpstr (fingerprint, ==, cases[i].fingerprint);
      g_assert_cmpstr (again, ==, fingerprint);
      assert_digit_groups (fingerprint, SOTTO_FINGERPRINT_DIGITS / 5);
    }
}

static void
test_fingerprint_format (void)
{
  for (guint i = 0; i < 200; i++)
    {
      guint8 key[SOTTO_KEY_LEN];
      g_autofree char *fingerprint = NULL;

      randombytes_buf (key, sizeof key);
      fingerprint = sotto_fingerprint_for_key (key);
      g_assert_cmpuint (strlen (fingerprint), ==, 35);
      assert_digit_groups (fingerprint, 6);
    }
}

static void
test_fingerprint_distinct (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *alice = sotto_fingerprint_for_key (alice_public);
  g_autofree char *bob = sotto_fingerprint_for_key (bob_public);

  g_assert_cmpstr (alice, !=, bob);

  /* One flipped bit anywhere in the key changes the fingerprint. */
  for (guint bit = 0; bit < SOTTO_KEY_LEN * 8; bit++)
    {
      guint8 key[SOTTO_KEY_LEN];
      char *fingerprint;

      memcpy (key, alice_public, sizeof key);
      key[bit / 8] ^= 1u << (bit % 8);
      fingerprint = sotto_fingerprint_for_key (key);
      g_assert_cmpstr (fingerprint, !=, alice);
      g_assert_false (g_hash_table_contains (seen, fingerprint));
      g_hash_table_add (seen, fingerprint);
    }
}

static void
test_safety_number_exact (void)
{
  g_autofree char *ab = sotto_safety_number (alice_public, bob_public);

  g_assert_cmpstr (ab, ==, ALICE_FINGERPRINT " " BOB_FINGERPRINT);
  assert_digit_groups (ab, SOTTO_SAFETY_NUMBER_DIGITS / 5);
}

static void
test_safety_number_symmetric (void)
{
  g_autofree char *ab = sotto_safety_number (alice_public, bob_public);
  g_autofree char *ba = sotto_safety_number (bob_public, alice_public);

  g_assert_cmpstr (ab, ==, ba);

  for (guint i = 0; i < 100; i++)
    {
      guint8 a[SOTTO_KEY_LEN];
      guint8 b[SOTTO_KEY_LEN];
      g_autofree char *x = NULL;
      g_autofree char *y = NULL;

      randombytes_buf (a, sizeof a);
      randombytes_buf (b, sizeof b);
      x = sotto_safety_number (a, b);
      y = sotto_safety_number (b, a);
      g_assert_cmpstr (x, ==, y);
      assert_digit_groups (x, 12);
    }
}

static void
test_safety_number_order (void)
{
  /* memcmp order, not number order: read as little-endian integers, high
   * would be the smaller key. */
  static const guint8 low[SOTTO_KEY_LEN] = { 0x01, [31] = 0xff };
  static const guint8 high[SOTTO_KEY_LEN] = { 0x02 };
  /* Differ only in the last byte. */
  static const guint8 last_a[SOTTO_KEY_LEN] = { 0x07, [31] = 0x01 };
  static const guint8 last_b[SOTTO_KEY_LEN] = { 0x07, [31] = 0x02 };
  g_autofree char *low_fp = sotto_fingerprint_for_key (low);
  g_autofree char *high_fp = sotto_fingerprint_for_key (high);
  g_autofree char *last_a_fp = sotto_fingerprint_for_key (last_a);
  g_autofree char *last_b_fp = sotto_fingerprint_for_key (last_b);
  g_autofree char *number = sotto_safety_number (high, low);
  g_autofree char *last = sotto_safety_number (last_b, last_a);
  g_autofree char *expected = g_strconcat (low_fp, " ", high_fp, NULL);
  g_autofree char *expected_last = g_strconcat (last_a_fp, " ", last_b_fp, NULL);

  g_assert_cmpstr (number,
                   ==,
                   "08659 06843 19761 90736 20450 28115 94881 44770 33937 83397 43262 57717");
  g_assert_cmpstr (number, ==, expected);
  g_assert_true (g_str_has_prefix (number, low_fp));
  g_assert_cmpstr (last, ==, expected_last);
}

static void
test_safety_number_equal_keys (void)
{
  g_autofree char *number = sotto_safety_number (alice_public, alice_public);

  g_assert_cmpstr (number, ==, ALICE_FINGERPRINT " " ALICE_FINGERPRINT);
}

static void
test_identity_generate (void)
{
  g_autoptr (SottoIdentity) one = NULL;
  g_autoptr (SottoIdentity) two = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *expected_fingerprint = NULL;
  g_autofree char *property = NULL;
  guint8 derived[SOTTO_KEY_LEN];

  one = sotto_identity_generate ("  Zoe\xcc\x88 Mu\xcc\x88ller\n", &error);
  g_assert_no_error (error);
  g_assert_true (SOTTO_IS_IDENTITY (one));

  g_assert_cmpint (crypto_scalarmult_base (derived, sotto_identity_get_secret_key (one)), ==, 0);
  g_assert_cmpmem (derived, sizeof derived, sotto_identity_get_public_key (one), SOTTO_KEY_LEN);

  /* Trimmed and composed (NFC). */
  g_assert_cmpstr (sotto_identity_get_display_name (one), ==, "Zoë Müller");
  g_object_get (one, "display-name", &property, NULL);
  g_assert_cmpstr (property, ==, "Zoë Müller");

  fingerprint = sotto_identity_dup_fingerprint (one);
  expected_fingerprint = sotto_fingerprint_for_key (sotto_identity_get_public_key (one));
  g_assert_cmpstr (fingerprint, ==, expected_fingerprint);

  two = sotto_identity_generate ("Zoë Müller", &error);
  g_assert_no_error (error);
  g_assert_cmpint (memcmp (sotto_identity_get_public_key (one),
                           sotto_identity_get_public_key (two), SOTTO_KEY_LEN), !=, 0);
  g_assert_cmpint (memcmp (sotto_identity_get_secret_key (one),
                           sotto_identity_get_secret_key (two), SOTTO_KEY_LEN), !=, 0);
}

static void
test_identity_generate_invalid_name (void)
{
  g_autoptr (SottoIdentity) identity = NULL;
  g_autoptr (GError) error = NULL;

  identity = sotto_identity_generate ("Bob\nSmith", &error);
  g_assert_null (identity);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
}

static void
test_identity_from_keys (void)
{
  g_autoptr (SottoIdentity) identity = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *fingerprint = NULL;
  guint8 secret[SOTTO_KEY_LEN];

  memcpy (secret, alice_secret, sizeof secret);
  identity = sotto_identity_new_from_keys (alice_public, secret, "Alice", &error);
  g_assert_no_error (error);

  /* The identity keeps its own copy. */
  sodium_memzero (secret, sizeof secret);
  g_assert_cmpmem (sotto_identity_get_secret_key (identity), SOTTO_KEY_LEN,
                   alice_secret, SOTTO_KEY_LEN);
  g_assert_cmpmem (sotto_identity_get_public_key (identity), SOTTO_KEY_LEN,
                   alice_public, SOTTO_KEY_LEN);
  g_assert_cmpstr (sotto_identity_get_display_name (identity), ==, "Alice");

  fingerprint = sotto_identity_dup_fingerprint (identity);
  g_assert_cmpstr (fingerprint, ==, ALICE_FINGERPRINT);
}

static void
test_identity_from_keys_mismatch (void)
{
  const guint8 *pairs[][2] = {
    { alice_public, bob_secret },
    { bob_public, alice_secret },
  };

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autoptr (SottoIdentity) identity = NULL;
      g_autoptr (GError) error = NULL;

      identity = sotto_identity_new_from_keys (pairs[i][0], pairs[i][1], "Mallory", &error);
      g_assert_null (identity);
      g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "do not belong together"));
    }

  /* One flipped bit in the public key is enough. */
  {
    g_autoptr (SottoIdentity) identity = NULL;
    g_autoptr (GError) error = NULL;
    guint8 public[SOTTO_KEY_LEN];

    memcpy (public, alice_public, sizeof public);
    public[31] ^= 0x01;
    identity = sotto_identity_new_from_keys (public, alice_secret, "Alice", &error);
    g_assert_null (identity);
    g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_identity_from_keys_invalid_name (void)
{
  g_autoptr (SottoIdentity) identity = NULL;
  g_autoptr (GError) error = NULL;

  identity = sotto_identity_new_from_keys (alice_public, alice_secret, "   ", &error);
  g_assert_null (identity);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
}

static void
test_display_name_valid (void)
{
  g_autofree char *ascii_64 = dup_repeated ("a", SOTTO_DISPLAY_NAME_MAX_CHARS);
  g_autofree char *emoji_64 = dup_repeated ("😀", SOTTO_DISPLAY_NAME_MAX_CHARS);
  g_autofree char *umlaut_64 = dup_repeated ("ü", SOTTO_DISPLAY_NAME_MAX_CHARS);
  const char *names[] = {
    "Alice",
    "Zoë Müller",
    "王小明",
    "山田 太郎",
    "😀 Party",
    "Dr. Jane O'Neil-Smith (IT)",
    "Ελένη Παπαδοπούλου",
    "محمد علي",
    "Jean\u00a0Luc",         /* no-break space inside is fine */
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  /* Persian: needs ZERO WIDTH NON-JOINER */
    "\U0001F469\u200D\U0001F4BB Dev",  /* emoji ZWJ sequence: woman technologist */
    /* The same to every Unicode version: what one has not assigned yet is
     * allowed, so that a name new in 15.0 is valid to an implementation on
     * 14.0, and the reverse. */
    "heart \U0001FA75",       /* LIGHT BLUE HEART, new in 15.0 */
    "unassigned \u0378",      /* unassigned in 15.0 */
    "a",
    ascii_64,
    emoji_64,                /* 64 characters, 256 bytes: both limits exactly */
    umlaut_64,
    NULL
  };

  g_assert_cmpuint (strlen (emoji_64), ==, SOTTO_DISPLAY_NAME_MAX_BYTES);

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *normalized = NULL;

      g_test_message ("name: %s", names[i]);
      g_assert_true (sotto_display_name_validate (names[i], &error));
      g_assert_no_error (error);

      /* A valid name is already normalized. */
      normalized = sotto_display_name_normalize (names[i], &error);
      g_assert_no_error (error);
      g_assert_cmpstr (normalized, ==, names[i]);
    }
}

static void
test_display_name_invalid (void)
{
  g_autofree char *ascii_65 = dup_repeated ("a", SOTTO_DISPLAY_NAME_MAX_CHARS + 1);
  g_autofree char *umlaut_65 = dup_repeated ("ü", SOTTO_DISPLAY_NAME_MAX_CHARS + 1);
  g_autofree char *emoji_64 = dup_repeated ("😀", SOTTO_DISPLAY_NAME_MAX_CHARS);
  g_autofree char *emoji_64_a = g_strconcat (emoji_64, "a", NULL);
  g_autofree char *huge = dup_repeated ("a", 100000);
  g_autofree char *ascii_257 = dup_repeated ("a", SOTTO_DISPLAY_NAME_MAX_BYTES + 1);
  const struct {
    const char *name;
    const char *message;  /* a part of the expected message */
  } cases[] = {
    { "", "is empty" },
    { " ", "only of white space" },
    { "     ", "only of white space" },
    { "\u3000\u00a0", "only of white space" },
    { ascii_65, "longer than 64 characters" },
    { umlaut_65, "longer than 64 characters" },
    { emoji_64_a, "longer than 256 bytes" },
    { ascii_257, "longer than 256 bytes" },
    { huge, "longer than 256 bytes" },
    { "Bob\nSmith", "control characters" },
    { "Bob\tSmith", "control characters" },
    { "Bob\x7f", "control characters" },
    { "Bob\xc2\x85", "control characters" },          /* U+0085 NEL */
    { "evil\u202Etxt.exe", "formatting characters" },  /* RIGHT-TO-LEFT OVERRIDE */
    { "a\u202Ab", "formatting characters" },
    { "a\u2066b\u2069", "formatting characters" },    /* isolates */
    { "zero\u200Bwidth", "formatting characters" },    /* ZERO WIDTH SPACE */
    { "two\u2028lines", "line or paragraph separators" },
    { "two\u2029paragraphs", "line or paragraph separators" },
    { "\ufeffBOM", "formatting characters" },
    { "soft\u00adhyphen", "formatting characters" },
    { "private\ue000", "private-use" },
    { "hieroglyph\U00013439", "formatting characters" },  /* Cf since Unicode 15.0 */
    { "tag\U000E0041", "formatting characters" },       /* TAG LATIN CAPITAL LETTER A */
    { "plane15\U000F0000", "private-use" },
    { "non\uFDD0char", "private-use" },                 /* a noncharacter */
    { "end\U0010FFFF", "private-use" },                 /* a noncharacter */
    { "bad\xff", "UTF-8" },
    { "truncated\xc3", "UTF-8" },
    { "overlong\xc0\xaf", "UTF-8" },
    { "surrogate\xed\xa0\x80", "UTF-8" },
    /* Only normalized names are valid, so a name has one spelling. */
    { " Bob", "begins or ends with white space" },
    { "Bob ", "begins or ends with white space" },
    { "Bob\u3000", "begins or ends with white space" },
    { "Zoe\xcc\x88", "normalization form" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;

      /* Escaped: invalid UTF-8 in the log would break the TAP stream. */
      g_autofree char *shown = g_strndup (cases[i].name, 40);
      g_autofree char *escaped = g_strescape (shown, NULL);

      g_test_message ("case %u: %s", i, escaped);
      g_assert_false (sotto_display_name_validate (cases[i].name, &error));
      g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, cases[i].message));
    }
}

static void
test_display_name_null (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *normalized = NULL;

  g_assert_false (sotto_display_name_validate (NULL, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  normalized = sotto_display_name_normalize (NULL, &error);
  g_assert_null (normalized);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
}

static void
test_display_name_normalize (void)
{
  g_autofree char *expected_64 = dup_repeated ("x", SOTTO_DISPLAY_NAME_MAX_CHARS);
  g_autofree char *padded_64 = g_strconcat ("  ", expected_64, "\t\n", NULL);
  const struct {
    const char *input;
    const char *output;
  } cases[] = {
    { "Alice", "Alice" },
    { "  Alice  ", "Alice" },
    { "\tAlice\r\n", "Alice" },
    { "\u3000\u00a0Alice\u2029\xc2\x85\v", "Alice" },
    { "Zoe\xcc\x88 Mu\xcc\x88ller", "Zoë Müller" },     /* decomposed → NFC */
    { "Ko\xcc\x88nig\u2003", "König" },
    { "Mary  Ann", "Mary  Ann" },                         /* inside: left alone */
    { padded_64, expected_64 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *normalized = sotto_display_name_normalize (cases[i].input, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (normalized, ==, cases[i].output);
    }
}

static void
test_display_name_normalize_invalid (void)
{
  const struct {
    const char *input;
    const char *message;
  } cases[] = {
    { "", "is empty" },
    { "   ", "only of white space" },
    { "\t\n", "only of white space" },
    { "\u3000", "only of white space" },
    { " Bob\nSmith ", "control characters" },
    { "a\u202Eb", "formatting characters" },
    { "bad\xff", "UTF-8" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *normalized = sotto_display_name_normalize (cases[i].input, &error);

      g_assert_null (normalized);
      g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, cases[i].message));
    }
}

/* The length check reads at most one byte past the limit: the name is
 * placed right before libsodium's guard page and has no terminating NUL,
 * so one more byte read would crash. */
static void
test_display_name_bounded_scan (void)
{
  gsize size = SOTTO_DISPLAY_NAME_MAX_BYTES + 1;
  char *unterminated;
  g_autoptr (GError) error = NULL;
  g_autofree char *normalized = NULL;

  g_assert_cmpint (sodium_init (), >=, 0);
  unterminated = sodium_malloc (size);
  g_assert_nonnull (unterminated);
  memset (unterminated, 'a', size);

  g_assert_false (sotto_display_name_validate (unterminated, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  normalized = sotto_display_name_normalize (unterminated, &error);
  g_assert_null (normalized);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);

  sodium_free (unterminated);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/identity/fingerprint/stable", test_fingerprint_stable);
  g_test_add_func ("/identity/fingerprint/format", test_fingerprint_format);
  g_test_add_func ("/identity/fingerprint/distinct", test_fingerprint_distinct);
  g_test_add_func ("/identity/safety-number/exact", test_safety_number_exact);
  g_test_add_func ("/identity/safety-number/symmetric", test_safety_number_symmetric);
  g_test_add_func ("/identity/safety-number/smaller-key-first", test_safety_number_order);
  g_test_add_func ("/identity/safety-number/equal-keys", test_safety_number_equal_keys);
  g_test_add_func ("/identity/generate/key-pair", test_identity_generate);
  g_test_add_func ("/identity/generate/invalid-name", test_identity_generate_invalid_name);
  g_test_add_func ("/identity/from-keys/valid", test_identity_from_keys);
  g_test_add_func ("/identity/from-keys/mismatch", test_identity_from_keys_mismatch);
  g_test_add_func ("/identity/from-keys/invalid-name", test_identity_from_keys_invalid_name);
  g_test_add_func ("/identity/display-name/valid", test_display_name_valid);
  g_test_add_func ("/identity/display-name/invalid", test_display_name_invalid);
  g_test_add_func ("/identity/display-name/null", test_display_name_null);
  g_test_add_func ("/identity/display-name/normalize", test_display_name_normalize);
  g_test_add_func ("/identity/display-name/normalize-invalid",
                   test_display_name_normalize_invalid);
  g_test_add_func ("/identity/display-name/bounded-scan", test_display_name_bounded_scan);

  return g_test_run ();
}
