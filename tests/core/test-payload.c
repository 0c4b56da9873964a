/* test-payload.c — the hello and the typed payloads of a session
 *
 * The known answers are the worked examples of app/core/PROTOCOL.md, where
 * each byte is explained. Everything the library would never send is
 * built here with GVariant directly (wire()) or byte by byte, so that the
 * decoder's checks can be reached.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sodium.h>

#include "sotto-identity.h"
#include "sotto-payload-private.h"

/* --- the worked examples -------------------------------------------- */

#define TEXT_HEX \
  "01" "000102030405060708090a0b0c0d0e0f" "00401e18240a0600" \
  "48656c6c6f2c20426f622100" "10"
#define RECEIPT_HEX \
  "02" "01" "000102030405060708090a0b0c0d0e0f" "101112131415161718191a1b1c1d1e1f" "1020"
#define TYPING_HEX        "0301"
#define PRESENCE_HEX      "0402"
#define PING_HEX          "05efcdab8967452301"
#define PONG_HEX          "06efcdab8967452301"
#define REQUEST_STATE_HEX "0701"
#define HELLO_HEX \
  "0100" "5a6fc3ab204dc3bc6c6c657200" "00" "171d" "000000000000" "0000000000000000" \
  "48692c206974e2809973205a6fc3ab2066726f6d206163636f756e74696e672e00" "0f"
#define HELLO_NAME  "Zoë Müller"
#define HELLO_INTRO "Hi, it’s Zoë from accounting."

/* A revision-2 hello: version 2, "Bob", not listening, FILES, no intro. */
#define HELLO_FILES_HEX \
  "0200" "426f6200" "0000" "0100000000000000" "00" "06"

/* The file examples: "report.pdf", the 5 bytes "%PDF-", transfer id
 * 00 01 … 0f. The hash is BLAKE2b-512 of those 5 bytes. */
#define FILE_CONTENT      "%PDF-"
#define FILE_HASH_HEX \
  "252b2e5168bd9b82054698f174efd280e1456ea5d6998a06c5330d299695bd48" \
  "a4247168d74f143adea0ad7153725fbc0af254a379773849742f45b0bbf9e5f1"
#define FILE_OFFER_HEX \
  "08" "000102030405060708090a0b0c0d0e0f" "00401e18240a0600" "7265706f72742e70646600" \
  "0000000000" "0500000000000000" FILE_HASH_HEX "255044462d" \
  "6170706c69636174696f6e2f70646600" "75702310"
#define FILE_ACCEPT_HEX \
  "09" "000102030405060708090a0b0c0d0e0f" "0000000000000000" "10"
#define FILE_ACCEPT_RESUME_HEX \
  "09" "000102030405060708090a0b0c0d0e0f" "0300000000000000" "10"
#define FILE_CHUNK_HEX \
  "0b" "000102030405060708090a0b0c0d0e0f" "0000000000000000" "255044462d" "10"
#define FILE_CHUNK_RESUME_HEX \
  "0b" "000102030405060708090a0b0c0d0e0f" "0300000000000000" "462d" "10"
#define FILE_DONE_HEX \
  "0c" "202122232425262728292a2b2c2d2e2f" "000102030405060708090a0b0c0d0e0f" "01" "2010"
#define FILE_CANCEL_HEX \
  "0a" "101112131415161718191a1b1c1d1e1f" "000102030405060708090a0b0c0d0e0f" "01" "2010"
/* The receipts of the offer (its transfer id) and of the done. */
#define FILE_OFFER_RECEIPT_HEX "02" "01" "000102030405060708090a0b0c0d0e0f" "10"
#define FILE_DONE_RECEIPT_HEX  "02" "01" "202122232425262728292a2b2c2d2e2f" "10"

#define EXAMPLE_TIMESTAMP G_GINT64_CONSTANT (1700000000000000)  /* 2023-11-14 22:13:20 UTC */
#define EXAMPLE_COOKIE    G_GUINT64_CONSTANT (0x0123456789abcdef)

/* --- helpers ---------------------------------------------------------- */

static GBytes *
hex_bytes (const char *hex)
{
  gsize len = strlen (hex);
  guint8 *data = g_malloc (len / 2 + 1);

  g_assert_cmpuint (len % 2, ==, 0);
  for (gsize i = 0; i < len / 2; i++)
    {
      g_assert_true (g_ascii_isxdigit (hex[2 * i]) && g_ascii_isxdigit (hex[2 * i + 1]));
      data[i] = g_ascii_xdigit_value (hex[2 * i]) << 4 | g_ascii_xdigit_value (hex[2 * i + 1]);
    }

  return g_bytes_new_take (data, len / 2);
}

static void
assert_bytes_hex (GBytes     *bytes,
                  const char *hex)
{
  g_autoptr (GBytes) expected = hex_bytes (hex);

  g_assert_nonnull (bytes);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                   g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
}

/* @kind (or -1 for none) and the little-endian serialization of @value:
 * a second writer, independent of the library's. Takes @value. */
static GBytes *
wire (int       kind,
      GVariant *value)
{
  g_autoptr (GVariant) sunk = g_variant_ref_sink (value);
  g_autoptr (GVariant) little = NULL;
  GByteArray *out = g_byte_array_new ();

  little = G_BYTE_ORDER == G_BIG_ENDIAN ? g_variant_byteswap (sunk) : g_variant_ref (sunk);
  if (kind >= 0)
    {
      guint8 k = (guint8) kind;

      g_byte_array_append (out, &k, 1);
    }
  g_byte_array_append (out, g_variant_get_data (little), (guint) g_variant_get_size (little));

  return g_byte_array_free_to_bytes (out);
}

/* @bytes with @extra appended, or with its last @cut bytes removed. */
static GBytes *
bytes_edited (GBytes     *bytes,
              const char *extra_hex,
              gsize       cut)
{
  GByteArray *out = g_byte_array_new ();
  g_autoptr (GBytes) extra = hex_bytes (extra_hex != NULL ? extra_hex : "");

  g_assert_cmpuint (cut, <=, g_bytes_get_size (bytes));
  g_byte_array_append (out, g_bytes_get_data (bytes, NULL),
                       (guint) (g_bytes_get_size (bytes) - cut));
  g_byte_array_append (out, g_bytes_get_data (extra, NULL), (guint) g_bytes_get_size (extra));

  return g_byte_array_free_to_bytes (out);
}

static GVariant *
uid_variant (gsize  len,
             guint8 seed)
{
  guint8 uid[64];

  g_assert_cmpuint (len, <=, sizeof uid);
  for (gsize i = 0; i < len; i++)
    uid[i] = (guint8) (seed + i);

  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, uid, len, 1);
}

static GVariant *
text_variant (gsize       uid_len,
              gint64      timestamp,
              const char *body)
{
  return g_variant_new ("(@ayxs)", uid_variant (uid_len, 0), timestamp, body);
}

/* A receipt of @n_ids ids of @id_len bytes, the last one @last_len bytes. */
static GVariant *
receipt_variant (guint8 state,
                 guint  n_ids,
                 gsize  id_len,
                 gsize  last_len)
{
  g_auto (GVariantBuilder) ids = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aay"));

  for (guint i = 0; i < n_ids; i++)
    g_variant_builder_add_value (&ids, uid_variant (i + 1 == n_ids ? last_len : id_len, i));

  return g_variant_new ("(y@aay)", state, g_variant_builder_end (&ids));
}

static GVariant *
hello_variant (guint16     version,
               const char *name,
               const char *intro)
{
  return g_variant_new ("(qsqts)", version, name, 7447, G_GUINT64_CONSTANT (0), intro);
}

static SottoPayload *
decode_ok (GBytes *bytes)
{
  g_autoptr (GError) error = NULL;
  SottoPayload *payload;

  payload = sotto_payload_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                  &error);
  g_assert_no_error (error);
  g_assert_nonnull (payload);

  return payload;
}

static void
assert_decode_fails (GBytes     *bytes,
                     const char *message)
{
  g_autoptr (SottoPayload) payload = NULL;
  g_autoptr (GError) error = NULL;

  payload = sotto_payload_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                  &error);
  g_assert_null (payload);
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  if (strstr (error->message, message) == NULL)
    g_error ("expected “%s” in the message “%s”", message, error->message);
}

/* Takes @bytes. */
static void
assert_decode_fails_take (GBytes     *bytes,
                          const char *message)
{
  g_autoptr (GBytes) owned = bytes;

  assert_decode_fails (owned, message);
}

static void
assert_encode_fails (const SottoPayload *payload,
                     const char         *message)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;

  bytes = sotto_payload_encode (payload, &error);
  g_assert_null (bytes);
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  if (strstr (error->message, message) == NULL)
    g_error ("expected “%s” in the message “%s”", message, error->message);
}

/* encode, decode, compare; and the bytes decode back to the same bytes. */
static void
assert_round_trip (const SottoPayload *payload)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) again = NULL;
  g_autoptr (SottoPayload) decoded = NULL;

  bytes = sotto_payload_encode (payload, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), <=, SOTTO_PAYLOAD_MAX_LEN);
  decoded = decode_ok (bytes);
  g_assert_true (decoded->known);
  g_assert_true (sotto_payload_equal (payload, decoded));
  again = sotto_payload_encode (decoded, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (bytes, again));
}

static SottoHello *
hello_decode_ok (GBytes *bytes)
{
  g_autoptr (GError) error = NULL;
  SottoHello *hello;

  hello = sotto_hello_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  g_assert_nonnull (hello);

  return hello;
}

static void
assert_hello_decode_fails (GBytes     *bytes,
                           const char *message)
{
  g_autoptr (SottoHello) hello = NULL;
  g_autoptr (GError) error = NULL;

  hello = sotto_hello_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_null (hello);
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  if (strstr (error->message, message) == NULL)
    g_error ("expected “%s” in the message “%s”", message, error->message);
}

static void
assert_hello_encode_fails (const SottoHello *hello,
                           const char       *message)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;

  bytes = sotto_hello_encode (hello, &error);
  g_assert_null (bytes);
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  if (strstr (error->message, message) == NULL)
    g_error ("expected “%s” in the message “%s”", message, error->message);
}

static char *
dup_repeated (const char *unit,
              gsize       times)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < times; i++)
    g_string_append (s, unit);

  return g_string_free (s, FALSE);
}

/* --- known answers ---------------------------------------------------- */

static void
test_known_answer_text (void)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_TEXT);
  g_autoptr (SottoPayload) decoded = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) expected = hex_bytes (TEXT_HEX);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < SOTTO_MESSAGE_UID_LEN; i++)
    payload->uid[i] = i;
  payload->timestamp = EXAMPLE_TIMESTAMP;
  payload->body = g_strdup ("Hello, Bob!");

  bytes = sotto_payload_encode (payload, &error);
  g_assert_no_error (error);
  assert_bytes_hex (bytes, TEXT_HEX);

  decoded = decode_ok (expected);
  g_assert_cmpuint (decoded->kind, ==, SOTTO_PAYLOAD_TEXT);
  g_assert_true (decoded->known);
  g_assert_cmpmem (decoded->uid, SOTTO_MESSAGE_UID_LEN, payload->uid, SOTTO_MESSAGE_UID_LEN);
  g_assert_cmpint (decoded->timestamp, ==, EXAMPLE_TIMESTAMP);
  g_assert_cmpstr (decoded->body, ==, "Hello, Bob!");
}

static void
test_known_answer_receipt (void)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_RECEIPT);
  g_autoptr (SottoPayload) decoded = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) expected = hex_bytes (RECEIPT_HEX);
  g_autoptr (GError) error = NULL;

  payload->receipt_state = SOTTO_RECEIPT_DELIVERED;
  payload->n_ids = 2;
  payload->ids = g_malloc (2 * SOTTO_MESSAGE_UID_LEN);
  for (guint i = 0; i < 2 * SOTTO_MESSAGE_UID_LEN; i++)
    payload->ids[i] = i;

  bytes = sotto_payload_encode (payload, &error);
  g_assert_no_error (error);
  assert_bytes_hex (bytes, RECEIPT_HEX);

  decoded = decode_ok (expected);
  g_assert_cmpuint (decoded->kind, ==, SOTTO_PAYLOAD_RECEIPT);
  g_assert_cmpuint (decoded->receipt_state, ==, SOTTO_RECEIPT_DELIVERED);
  g_assert_cmpmem (decoded->ids, decoded->n_ids * SOTTO_MESSAGE_UID_LEN,
                   payload->ids, 2 * SOTTO_MESSAGE_UID_LEN);
}

static void
test_known_answer_small (void)
{
  const struct {
    const char *hex;
    guint8 kind;
    guint64 value;
  } cases[] = {
    { TYPING_HEX, SOTTO_PAYLOAD_TYPING, TRUE },
    { PRESENCE_HEX, SOTTO_PAYLOAD_PRESENCE, SOTTO_PRESENCE_AWAY },
    { PING_HEX, SOTTO_PAYLOAD_PING, EXAMPLE_COOKIE },
    { PONG_HEX, SOTTO_PAYLOAD_PONG, EXAMPLE_COOKIE },
    { REQUEST_STATE_HEX, SOTTO_PAYLOAD_REQUEST_STATE, SOTTO_REQUEST_PENDING },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SottoPayload) payload = sotto_payload_new (cases[i].kind);
      g_autoptr (SottoPayload) decoded = NULL;
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GBytes) expected = hex_bytes (cases[i].hex);
      g_autoptr (GError) error = NULL;

      payload->typing = (gboolean) cases[i].value;
      payload->presence = (guint8) cases[i].value;
      payload->cookie = cases[i].value;
      payload->request_state = (guint8) cases[i].value;

      bytes = sotto_payload_encode (payload, &error);
      g_assert_no_error (error);
      assert_bytes_hex (bytes, cases[i].hex);

      decoded = decode_ok (expected);
      g_assert_cmpuint (decoded->kind, ==, cases[i].kind);
      g_assert_true (decoded->known);
      g_assert_true (sotto_payload_equal (payload, decoded));
    }
}

static void
test_known_answer_hello (void)
{
  SottoHello hello = { 1, HELLO_NAME, 7447, 0, HELLO_INTRO };
  g_autoptr (SottoHello) decoded = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) expected = hex_bytes (HELLO_HEX);
  g_autoptr (GError) error = NULL;

  bytes = sotto_hello_encode (&hello, &error);
  g_assert_no_error (error);
  assert_bytes_hex (bytes, HELLO_HEX);

  decoded = hello_decode_ok (expected);
  g_assert_cmpuint (decoded->version, ==, 1);
  g_assert_cmpstr (decoded->display_name, ==, HELLO_NAME);
  g_assert_cmpuint (decoded->listen_port, ==, 7447);
  g_assert_cmpuint (decoded->capabilities, ==, 0);
  g_assert_cmpstr (decoded->intro, ==, HELLO_INTRO);
}

/* --- round trips ------------------------------------------------------ */

static void
test_round_trip (void)
{
  g_autofree char *longest = dup_repeated ("x", SOTTO_MESSAGE_BODY_MAX);

  for (guint8 kind = SOTTO_PAYLOAD_TEXT; kind <= SOTTO_PAYLOAD_REQUEST_STATE; kind++)
    for (guint variant = 0; variant < 2; variant++)
      {
        g_autoptr (SottoPayload) payload = sotto_payload_new (kind);

        g_assert_true (payload->known);
        memset (payload->uid, 0xa5 + variant, SOTTO_MESSAGE_UID_LEN);
        payload->timestamp = variant == 0 ? 1 : G_MAXINT64;
        payload->body = g_strdup (variant == 0 ? "é" : longest);
        payload->receipt_state = variant == 0 ? SOTTO_RECEIPT_DELIVERED : SOTTO_RECEIPT_READ;
        payload->n_ids = variant == 0 ? 1 : SOTTO_PAYLOAD_MAX_RECEIPT_IDS;
        payload->ids = g_malloc (payload->n_ids * SOTTO_MESSAGE_UID_LEN);
        for (guint i = 0; i < payload->n_ids * SOTTO_MESSAGE_UID_LEN; i++)
          payload->ids[i] = i * 13;
        payload->typing = variant == 0;
        payload->presence = variant == 0 ? SOTTO_PRESENCE_AVAILABLE : SOTTO_PRESENCE_AWAY;
        payload->cookie = variant == 0 ? 0 : G_MAXUINT64;
        payload->request_state = variant == 0 ? SOTTO_REQUEST_PENDING : SOTTO_REQUEST_ACCEPTED;

        assert_round_trip (payload);
      }
}

static void
test_hello_round_trip (void)
{
  g_autofree char *longest_intro = dup_repeated ("\xf0\x9f\x91\x8b", 256);  /* 👋: 1024 bytes */
  g_autofree char *longest_name = dup_repeated ("\xe2\x82\xac", 64);  /* €: 192 bytes */
  const SottoHello hellos[] = {
    { 1, "Bob", 0, 0, "" },
    { 1, HELLO_NAME, 7447, 0, "Line one\nline two" },
    { G_MAXUINT16, longest_name, G_MAXUINT16, G_MAXUINT64, longest_intro },
  };

  for (guint i = 0; i < G_N_ELEMENTS (hellos); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) bytes = sotto_hello_encode (&hellos[i], &error);
      g_autoptr (GBytes) again = NULL;
      g_autoptr (SottoHello) decoded = NULL;

      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (bytes), <=, SOTTO_HELLO_MAX_LEN);
      decoded = hello_decode_ok (bytes);
      g_assert_true (sotto_hello_equal (&hellos[i], decoded));
      again = sotto_hello_encode (decoded, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (bytes, again));
    }
}

/* --- text ------------------------------------------------------------- */

static void
test_text_id_length (void)
{
  g_autoptr (SottoPayload) ok = NULL;

  assert_decode_fails_take (wire (SOTTO_PAYLOAD_TEXT, text_variant (15, 1, "hi")),
                            "text message id is 15 bytes, must be 16");
  assert_decode_fails_take (wire (SOTTO_PAYLOAD_TEXT, text_variant (17, 1, "hi")),
                            "text message id is 17 bytes, must be 16");
  assert_decode_fails_take (wire (SOTTO_PAYLOAD_TEXT, text_variant (0, 1, "hi")),
                            "text message id is 0 bytes");

  {
    g_autoptr (GBytes) bytes = wire (SOTTO_PAYLOAD_TEXT, text_variant (16, 1, "hi"));

    ok = decode_ok (bytes);
  }
  g_assert_cmpstr (ok->body, ==, "hi");
}

static void
test_text_body_limits (void)
{
  g_autofree char *longest = dup_repeated ("x", SOTTO_MESSAGE_BODY_MAX);
  g_autofree char *too_long = dup_repeated ("x", SOTTO_MESSAGE_BODY_MAX + 1);
  g_autofree char *longest_multibyte = dup_repeated ("\xc3\xa9", SOTTO_MESSAGE_BODY_MAX / 2);
  g_autofree char *too_long_multibyte = g_strconcat (longest_multibyte, "x", NULL);
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_TEXT);

  g_assert_cmpint (SOTTO_MESSAGE_BODY_MAX, ==, 32768);

  {
    g_autoptr (GBytes) bytes = wire (SOTTO_PAYLOAD_TEXT, text_variant (16, 1, longest));
    g_autoptr (SottoPayload) decoded = decode_ok (bytes);

    g_assert_cmpuint (strlen (decoded->body), ==, 32768);
  }
  {
    g_autoptr (GBytes) bytes = wire (SOTTO_PAYLOAD_TEXT, text_variant (16, 1, longest_multibyte));
    g_autoptr (SottoPayload) decoded = decode_ok (bytes);

    g_assert_cmpstr (decoded->body, ==, longest_multibyte);
  }
  assert_decode_fails_take (wire (SOTTO_PAYLOAD_TEXT, text_variant (16, 1, too_long)),
                            "text body is invalid");
  assert_decode_fails_take (wire (SOTTO_PAYLOAD_TEXT, text_variant (16, 1, too_long_multibyte)),
                            "text body is invalid");
  assert_decode_fails_take (wire (SOTTO_PAYLOAD_TEXT, text_variant (16, 1, "")),
                            "text body is invalid");

  payload->timestamp = 1;
  payload->body = g_strdup (longest);
  assert_round_trip (payload);
  g_free (payload->body);
  payload->body = g_strdup (too_long);
  assert_encode_fails (payload, "text body is invalid");
  g_free (payload->body);
  payload->body = g_strdup ("");
  assert_encode_fails (payload, "text body is invalid");
  g_clear_pointer (&payload->body, g_free);
  assert_encode_fails (payload, "text body is invalid");
  payload->body = g_strdup ("\xff");
  assert_encode_fails (payload, "text body is invalid");
}

static void
test_text_timestamp (void)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_TEXT);

  assert_decode_fails_take (wire (SOTTO_PAYLOAD_TEXT, text_variant (16, 0, "hi")),
                            "text timestamp 0 is not after the Unix epoch");
  assert_decode_fails_take (wire (SOTTO_PAYLOAD_TEXT, text_variant (16, -1, "hi")),
                            "text timestamp -1");
  assert_decode_fails_take (wire (SOTTO_PAYLOAD_TEXT, text_variant (16, G_MININT64, "hi")),
                            "is not after the Unix epoch");

  payload->body = g_strdup ("hi");
  payload->timestamp = 0;
  assert_encode_fails (payload, "text timestamp 0");
  payload->timestamp = 1;
  assert_round_trip (payload);
}

/* --- receipt ---------------------------------------------------------- */

static void
test_receipt_limits (void)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_RECEIPT);

  g_assert_cmpint (SOTTO_PAYLOAD_MAX_RECEIPT_IDS, ==, 256);

  {
    g_autoptr (GBytes) bytes = wire (SOTTO_PAYLOAD_RECEIPT, receipt_variant (2, 256, 16, 16));
    g_autoptr (SottoPayload) decoded = decode_ok (bytes);

    g_assert_cmpuint (decoded->n_ids, ==, 256);
    g_assert_cmpuint (decoded->ids[255 * 16], ==, 255);
  }
  {
    g_autoptr (GBytes) bytes = wire (SOTTO_PAYLOAD_RECEIPT, receipt_variant (1, 1, 16, 16));
    g_autoptr (SottoPayload) decoded = decode_ok (bytes);

    g_assert_cmpuint (decoded->n_ids, ==, 1);
  }
  assert_decode_fails_take (wire (SOTTO_PAYLOAD_RECEIPT, receipt_variant (1, 257, 16, 16)),
                            "receipt lists 257 ids, must be 1 to 256");
  assert_decode_fails_take (wire (SOTTO_PAYLOAD_RECEIPT, receipt_variant (1, 0, 16, 16)),
                            "receipt lists 0 ids");
  /* Many empty ids: the count is refused before any id is looked at. */
  assert_decode_fails_take (wire (SOTTO_PAYLOAD_RECEIPT, receipt_variant (1, 20000, 0, 0)),
                            "receipt lists 20000 ids");

  payload->receipt_state = SOTTO_RECEIPT_READ;
  payload->ids = g_malloc0 (257 * SOTTO_MESSAGE_UID_LEN);
  payload->n_ids = 256;
  assert_round_trip (payload);
  payload->n_ids = 257;
  assert_encode_fails (payload, "receipt lists 257 ids");
  payload->n_ids = 0;
  assert_encode_fails (payload, "receipt lists 0 ids");
  g_clear_pointer (&payload->ids, g_free);
  payload->n_ids = 1;
  assert_encode_fails (payload, "receipt has no id array");
}

static void
test_receipt_id_length (void)
{
  assert_decode_fails_take (wire (SOTTO_PAYLOAD_RECEIPT, receipt_variant (1, 3, 16, 15)),
                            "receipt id is 15 bytes, must be 16");
  assert_decode_fails_take (wire (SOTTO_PAYLOAD_RECEIPT, receipt_variant (1, 256, 16, 17)),
                            "receipt id is 17 bytes, must be 16");
  assert_decode_fails_take (wire (SOTTO_PAYLOAD_RECEIPT, receipt_variant (1, 1, 16, 0)),
                            "receipt id is 0 bytes");
}

static void
test_receipt_state (void)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_RECEIPT);
  const guint8 bad[] = { 0, 3, 255 };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *message = g_strdup_printf ("receipt state %u is unknown", bad[i]);

      assert_decode_fails_take (wire (SOTTO_PAYLOAD_RECEIPT, receipt_variant (bad[i], 1, 16, 16)),
                                message);
    }

  payload->ids = g_malloc0 (SOTTO_MESSAGE_UID_LEN);
  payload->n_ids = 1;
  payload->receipt_state = 3;
  assert_encode_fails (payload, "receipt state 3 is unknown");
  payload->receipt_state = SOTTO_RECEIPT_READ;
  assert_round_trip (payload);
}

/* --- the small kinds -------------------------------------------------- */

static void
test_byte_values (void)
{
  const struct {
    guint8 kind;
    const char *name;
  } kinds[] = {
    { SOTTO_PAYLOAD_PRESENCE, "presence" },
    { SOTTO_PAYLOAD_REQUEST_STATE, "request state" },
  };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    for (guint value = 0; value <= 255; value++)
      {
        g_autoptr (GBytes) bytes = wire (kinds[k].kind, g_variant_new_byte (value));
        g_autoptr (SottoPayload) payload = sotto_payload_new (kinds[k].kind);

        payload->presence = value;
        payload->request_state = value;

        if (value == 1 || value == 2)
          {
            g_autoptr (SottoPayload) decoded = decode_ok (bytes);

            g_assert_true (sotto_payload_equal (payload, decoded));
            assert_round_trip (payload);
          }
        else
          {
            g_autofree char *message = g_strdup_printf ("%s %u is unknown", kinds[k].name, value);

            assert_decode_fails (bytes, message);
            assert_encode_fails (payload, message);
          }
      }
}

static void
test_typing (void)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_TYPING);

  {
    g_autoptr (GBytes) bytes = hex_bytes ("0300");
    g_autoptr (SottoPayload) decoded = decode_ok (bytes);

    g_assert_false (decoded->typing);
  }

  /* A boolean is 0 or 1, nothing else. */
  assert_decode_fails_take (hex_bytes ("0302"), "not a GVariant “b” in normal form");
  assert_decode_fails_take (hex_bytes ("03ff"), "not a GVariant “b” in normal form");

  /* Any true value is sent as 1. */
  payload->typing = 42;
  {
    g_autoptr (GBytes) bytes = sotto_payload_encode (payload, NULL);

    assert_bytes_hex (bytes, "0301");
  }
}

static void
test_fixed_size (void)
{
  const struct {
    const char *hex;
    const char *type;
  } cases[] = {
    { "05", "t" },
    { "05efcdab89674523", "t" },         /* 7 bytes */
    { "05efcdab896745230100", "t" },     /* 9 bytes */
    { "06efcdab89674523", "t" },
    { "06efcdab896745230100", "t" },
    { "03", "b" },
    { "030100", "b" },
    { "04", "y" },
    { "040100", "y" },
    { "07", "y" },
    { "070101", "y" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *message = g_strdup_printf ("not a GVariant “%s” in normal form",
                                                  cases[i].type);

      assert_decode_fails_take (hex_bytes (cases[i].hex), message);
    }
}

/* --- normal form ------------------------------------------------------ */

static void
test_non_normal (void)
{
  const char *cases[] = {
    /* trailing bytes */
    TEXT_HEX "00",
    RECEIPT_HEX "00",
    /* the first framing offset moved: the uid would end at 15, and the
     * padding before the timestamp would be a non-zero byte */
    "01" "000102030405060708090a0b0c0d0e0f" "00401e18240a0600" "48656c6c6f2c20426f622100" "0f",
    /* a framing offset past the end */
    "01" "000102030405060708090a0b0c0d0e0f" "00401e18240a0600" "48656c6c6f2c20426f622100" "ff",
    /* the body without its NUL */
    "01" "000102030405060708090a0b0c0d0e0f" "00401e18240a0600" "48656c6c6f2c20426f6221" "10",
    /* a NUL inside the body */
    "01" "000102030405060708090a0b0c0d0e0f" "00401e18240a0600" "48656c6c6f0020426f622100" "10",
    /* invalid UTF-8 in the body */
    "01" "000102030405060708090a0b0c0d0e0f" "00401e18240a0600" "48656c6c6fc020426f622100" "10",
    /* receipt: 2-byte framing offsets where 1 byte suffices */
    "02" "01" "000102030405060708090a0b0c0d0e0f" "101112131415161718191a1b1c1d1e1f" "10002000",
    /* receipt: offsets out of order */
    "02" "01" "000102030405060708090a0b0c0d0e0f" "101112131415161718191a1b1c1d1e1f" "2010",
    /* receipt: offsets not ending where the array does */
    "02" "01" "000102030405060708090a0b0c0d0e0f" "101112131415161718191a1b1c1d1e1f" "1010",
    /* text: the whole tuple cut short */
    "01" "000102030405060708090a0b0c0d0e0f" "00401e18",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    assert_decode_fails_take (hex_bytes (cases[i]), "in normal form");
}

static void
test_non_normal_hello (void)
{
  g_autoptr (GBytes) good = hex_bytes (HELLO_HEX);
  g_autofree char *bad_pad = g_strdup (HELLO_HEX);
  char *pad = strstr (bad_pad, "00" "171d");

  /* The byte between the name's NUL and the port is padding: it must be 0. */
  g_assert_nonnull (pad);
  g_assert_true (strncmp (pad - 2, "00", 2) == 0);
  pad[1] = '1';
  {
    g_autoptr (GBytes) bytes = hex_bytes (bad_pad);

    assert_hello_decode_fails (bytes, "hello payload of 66 bytes is not a GVariant “(qsqts)” "
                                      "in normal form");
  }
  {
    g_autoptr (GBytes) bytes = bytes_edited (good, "00", 0);

    assert_hello_decode_fails (bytes, "in normal form");
  }
  {
    g_autoptr (GBytes) bytes = bytes_edited (good, NULL, 1);

    assert_hello_decode_fails (bytes, "in normal form");
  }
}

/* --- unknown kinds and sizes ------------------------------------------ */

static void
test_unknown_kind (void)
{
  /* 0x08 … 0x0C are the file kinds since revision 2; 0x0D … 0x0F stay
   * reserved (see test_file_reserved_kinds()). */
  const char *cases[] = { "42", "42deadbeef", "0d", "0d00", "0f", "00", "15", "1500", "ff" TEXT_HEX };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) bytes = hex_bytes (cases[i]);
      g_autoptr (SottoPayload) payload = decode_ok (bytes);
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) encoded = NULL;

      g_assert_cmphex (payload->kind, ==, ((const guint8 *) g_bytes_get_data (bytes, NULL))[0]);
      g_assert_false (payload->known);
      g_assert_null (payload->body);
      g_assert_null (payload->ids);

      /* What we cannot check, we cannot send. */
      encoded = sotto_payload_encode (payload, &error);
      g_assert_null (encoded);
      g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
    }

  g_assert_cmpstr (sotto_payload_kind_to_string (0x01), ==, "text");
  g_assert_cmpstr (sotto_payload_kind_to_string (0x07), ==, "request-state");
  g_assert_cmpstr (sotto_payload_kind_to_string (0x0d), ==, "reserved");
  g_assert_cmpstr (sotto_payload_kind_to_string (0x0f), ==, "reserved");
  g_assert_cmpstr (sotto_payload_kind_to_string (0x10), ==, "signing-key");
  g_assert_cmpstr (sotto_payload_kind_to_string (0x14), ==, "group-typing");
  g_assert_cmpstr (sotto_payload_kind_to_string (0x15), ==, "unknown");
  g_assert_cmpstr (sotto_payload_kind_to_string (0x00), ==, "unknown");
  g_assert_cmpstr (sotto_payload_kind_to_string (0x42), ==, "unknown");
}

static void
test_sizes (void)
{
  g_autofree guint8 *data = g_malloc0 (SOTTO_PAYLOAD_MAX_LEN + 1);
  g_autoptr (SottoPayload) payload = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (SOTTO_PAYLOAD_MAX_LEN, ==, 65519);

  payload = sotto_payload_decode (data, 0, &error);
  g_assert_null (payload);
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "empty"));
  g_clear_error (&error);

  payload = sotto_payload_decode (NULL, 0, &error);
  g_assert_null (payload);
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  g_clear_error (&error);

  data[0] = 0x42;
  payload = sotto_payload_decode (data, SOTTO_PAYLOAD_MAX_LEN, &error);
  g_assert_no_error (error);
  g_assert_false (payload->known);
  g_clear_pointer (&payload, sotto_payload_free);

  payload = sotto_payload_decode (data, SOTTO_PAYLOAD_MAX_LEN + 1, &error);
  g_assert_null (payload);
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "payload is 65520 bytes, at most 65519"));
}

static void
test_encode_unknown (void)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (0x42);
  g_autoptr (SottoPayload) lying = sotto_payload_new (SOTTO_PAYLOAD_PING);

  g_assert_false (payload->known);
  assert_encode_fails (payload, "unknown kind 0x42");
  payload->known = TRUE;
  assert_encode_fails (payload, "unknown kind 0x42");

  lying->known = FALSE;
  assert_encode_fails (lying, "unknown kind 0x05");
}

/* --- hello ------------------------------------------------------------ */

static void
test_hello_intro_limits (void)
{
  g_autofree char *bytes_max = dup_repeated ("\xf0\x9f\x91\x8b", 256);  /* 1024 bytes, 256 chars */
  g_autofree char *bytes_over = g_strconcat (bytes_max, "a", NULL);       /* 1025 bytes */
  g_autofree char *chars_max = dup_repeated ("a", 280);
  g_autofree char *chars_over = dup_repeated ("a", 281);
  g_autofree char *chars_max_multibyte = dup_repeated ("\xc3\xa9", 280);  /* 560 bytes */
  g_autofree char *chars_over_multibyte = dup_repeated ("\xc3\xa9", 281);
  const struct {
    const char *intro;
    const char *error;   /* NULL: valid */
  } cases[] = {
    { "", NULL },
    { bytes_max, NULL },
    { chars_max, NULL },
    { chars_max_multibyte, NULL },
    { "Line one\nline two\n", NULL },
    { "\xd9\x85\xe2\x80\x8c\xd9\x86", NULL },                   /* U+200C between letters */
    { "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", NULL },   /* U+200D in an emoji */
    { bytes_over, "intro is more than 1024 bytes" },
    { chars_over, "intro is 281 characters, at most 280" },
    { chars_over_multibyte, "intro is 281 characters" },
    { "evil\xe2\x80\xaetxt.exe", "U+202E" },                    /* right-to-left override */
    { "a\xe2\x81\xa6" "b", "U+2066" },                          /* left-to-right isolate */
    { "zero\xe2\x80\x8bwidth", "U+200B" },
    { "tab\there", "U+0009" },
    { "cr\r\n", "U+000D" },
    { "bell\x07", "U+0007" },
    { "del\x7f", "U+007F" },
    { "\xc2\x85", "U+0085" },
    { "\xee\x80\x80", "U+E000" },                               /* private use */
    { "\xf0\x93\x90\xb9", "U+13439" },                          /* Cf since Unicode 15.0 */
    { "bad \xff utf-8", "not valid UTF-8" },
    { "\xed\xa0\x80", "not valid UTF-8" },                      /* a surrogate */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      SottoHello hello = { 1, "Bob", 7447, 0, (char *) cases[i].intro };
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) bytes = NULL;

      /* Invalid UTF-8 does not even make a GVariant string. */
      if (g_utf8_validate (cases[i].intro, -1, NULL))
        bytes = wire (-1, hello_variant (1, "Bob", cases[i].intro));

      if (cases[i].error == NULL)
        {
          g_autoptr (SottoHello) decoded = hello_decode_ok (bytes);
          g_autoptr (GBytes) encoded = NULL;

          g_assert_cmpstr (decoded->intro, ==, cases[i].intro);
          g_assert_true (sotto_intro_validate (cases[i].intro, &error));
          g_assert_no_error (error);
          encoded = sotto_hello_encode (&hello, &error);
          g_assert_no_error (error);
          g_assert_true (g_bytes_equal (encoded, bytes));
        }
      else
        {
          if (bytes != NULL)
            assert_hello_decode_fails (bytes, cases[i].error);
          g_assert_false (sotto_intro_validate (cases[i].intro, &error));
          g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
          if (strstr (error->message, cases[i].error) == NULL)
            g_error ("expected “%s” in the message “%s”", cases[i].error, error->message);
          assert_hello_encode_fails (&hello, cases[i].error);
        }
    }

  /* No intro at all is the same as an empty one. */
  g_assert_true (sotto_intro_validate (NULL, NULL));
}

static void
test_hello_display_name (void)
{
  g_autofree char *longest = dup_repeated ("a", 64);
  g_autofree char *too_long = dup_repeated ("a", 65);
  const struct {
    const char *name;
    gboolean valid;
  } cases[] = {
    { "Bob", TRUE },
    { longest, TRUE },
    { "Zo\xc3\xab", TRUE },            /* NFC */
    { too_long, FALSE },
    { "", FALSE },
    { " Bob", FALSE },                 /* not normalized: a peer's name is never fixed up */
    { "Bob ", FALSE },
    { "Zoe\xcc\x88", FALSE },          /* NFD */
    { "Bob\nSmith", FALSE },
    { "\xe2\x80\xae" "boB", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      SottoHello hello = { 1, (char *) cases[i].name, 7447, 0, "" };
      g_autoptr (GBytes) bytes = wire (-1, hello_variant (1, cases[i].name, ""));

      if (cases[i].valid)
        {
          g_autoptr (SottoHello) decoded = hello_decode_ok (bytes);
          g_autoptr (GBytes) encoded = sotto_hello_encode (&hello, NULL);

          g_assert_cmpstr (decoded->display_name, ==, cases[i].name);
          g_assert_true (g_bytes_equal (encoded, bytes));
        }
      else
        {
          assert_hello_decode_fails (bytes, "hello display name is invalid: ");
          assert_hello_encode_fails (&hello, "hello display name is invalid: ");
        }
    }

  {
    SottoHello hello = { 1, NULL, 7447, 0, "" };

    assert_hello_encode_fails (&hello, "hello display name is invalid: ");
  }
}

static void
test_hello_fields (void)
{
  SottoHello hello = { 0, "Bob", 0, 0, NULL };

  /* Version 0 does not exist; a higher one is a later minor revision. */
  assert_hello_encode_fails (&hello, "hello version 0 is invalid");
  {
    g_autoptr (GBytes) bytes = wire (-1, hello_variant (0, "Bob", ""));

    assert_hello_decode_fails (bytes, "hello version 0 is invalid");
  }
  {
    g_autoptr (GBytes) bytes = wire (-1, g_variant_new ("(qsqts)", SOTTO_PROTOCOL_VERSION + 1,
                                                        "Bob", 0,
                                                        G_GUINT64_CONSTANT (0xfedcba9876543210),
                                                        ""));
    g_autoptr (SottoHello) decoded = hello_decode_ok (bytes);

    g_assert_cmpuint (decoded->version, ==, SOTTO_PROTOCOL_VERSION + 1);
    g_assert_cmpuint (decoded->listen_port, ==, 0);
    /* Unknown capabilities are kept, for the caller to ignore. */
    g_assert_cmphex (decoded->capabilities, ==, G_GUINT64_CONSTANT (0xfedcba9876543210));
  }

  /* A NULL intro goes out as "". */
  hello.version = 2;
  {
    g_autoptr (GBytes) bytes = sotto_hello_encode (&hello, NULL);
    g_autoptr (SottoHello) decoded = hello_decode_ok (bytes);

    g_assert_cmpstr (decoded->intro, ==, "");
    g_assert_true (sotto_hello_equal (&hello, decoded));
    assert_bytes_hex (bytes, "0200" "426f6200" "0000" "0000000000000000" "00" "06");
  }
}

static void
test_hello_sizes (void)
{
  g_autofree guint8 *data = g_malloc0 (SOTTO_HELLO_MAX_LEN + 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoHello) hello = NULL;
  g_autofree char *name = dup_repeated ("\xf0\x9f\x91\x8b", 64);    /* 256 bytes */
  g_autofree char *intro = dup_repeated ("\xf0\x9f\x91\x8b", 256);  /* 1024 bytes */
  SottoHello largest = { 1, name, 1, 1, intro };
  g_autoptr (GBytes) bytes = NULL;

  hello = sotto_hello_decode (data, 0, &error);
  g_assert_null (hello);
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "hello is missing"));
  g_clear_error (&error);

  hello = sotto_hello_decode (data, SOTTO_HELLO_MAX_LEN + 1, &error);
  g_assert_null (hello);
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "hello is 2049 bytes, at most 2048"));
  g_clear_error (&error);

  /* The largest valid hello, as sotto-payload.h promises. */
  bytes = sotto_hello_encode (&largest, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 1299);
  hello = hello_decode_ok (bytes);
  g_assert_true (sotto_hello_equal (&largest, hello));
}

static void
test_hello_check_empty (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_hello_check_empty (NULL, 0, &error));
  g_assert_no_error (error);
  g_assert_false (sotto_hello_check_empty ((const guint8 *) "\0", 1, &error));
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "1-byte payload, must be empty"));
}

/* Where the framing offsets grow from 1 to 2 bytes, as PROTOCOL.md says:
 * the container, offsets included, no longer fits in 255 bytes. */
static void
test_offset_size (void)
{
  const struct {
    gsize body_len;
    gsize offset_size;
  } texts[] = {
    { 229, 1 },
    { 230, 2 },
  };
  const struct {
    guint n_ids;
    gsize size;
  } receipts[] = {
    { 15, 1 + 1 + 15 * 16 + 15 },
    { 16, 1 + 1 + 16 * 16 + 16 * 2 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_TEXT);
      g_autoptr (GBytes) bytes = NULL;
      const guint8 *data;
      gsize size;

      payload->timestamp = 1;
      payload->body = dup_repeated ("x", texts[i].body_len);
      bytes = sotto_payload_encode (payload, NULL);
      data = g_bytes_get_data (bytes, &size);
      /* kind, id, timestamp, body and NUL, one framing offset */
      g_assert_cmpuint (size, ==, 1 + 16 + 8 + texts[i].body_len + 1 + texts[i].offset_size);
      /* It is the end of the id, 16, little-endian. */
      g_assert_cmphex (data[size - texts[i].offset_size], ==, 16);
      if (texts[i].offset_size == 2)
        g_assert_cmphex (data[size - 1], ==, 0);
    }

  for (guint i = 0; i < G_N_ELEMENTS (receipts); i++)
    {
      g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_RECEIPT);
      g_autoptr (GBytes) bytes = NULL;

      payload->receipt_state = SOTTO_RECEIPT_DELIVERED;
      payload->n_ids = receipts[i].n_ids;
      payload->ids = g_malloc0 (payload->n_ids * SOTTO_MESSAGE_UID_LEN);
      bytes = sotto_payload_encode (payload, NULL);
      g_assert_cmpuint (g_bytes_get_size (bytes), ==, receipts[i].size);
    }
}

/* --- the TEXT fast paths against the GLib reference --------------------- */

/* The fast decoder and the reference agree on @data: both refuse it for
 * the same reason, or both accept it with the same fields. Returns
 * whether it was accepted. */
static gboolean
assert_paths_agree (const guint8 *data,
                    gsize         len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) reference_error = NULL;
  g_autoptr (SottoPayload) payload = sotto_payload_decode (data, len, &error);
  g_autoptr (SottoPayload) reference = _sotto_payload_decode_glib (data, len, &reference_error);
  g_autoptr (GError) take_error = NULL;
  guint8 *block = g_memdup2 (data, len);
  g_autoptr (SottoPayload) taken = sotto_payload_decode_take (block, len, &take_error);

  if (reference == NULL)
    {
      g_assert_null (payload);
      g_assert_null (taken);
      g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
      g_assert_error (reference_error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
      g_assert_cmpstr (error->message, ==, reference_error->message);
      g_assert_cmpstr (take_error->message, ==, reference_error->message);
      return FALSE;
    }

  g_assert_no_error (error);
  g_assert_no_error (take_error);
  g_assert_nonnull (payload);
  g_assert_true (sotto_payload_equal (payload, reference));
  g_assert_true (sotto_payload_equal (taken, reference));
  /* A text's body was left in the block, not copied out of it. */
  if (taken->kind == SOTTO_PAYLOAD_TEXT)
    {
      g_assert_true (taken->body_storage == block);
      g_assert_true ((guint8 *) taken->body > block && (guint8 *) taken->body < block + len);
    }
  /* A chunk's data is the same whichever way it was read; if the taken
   * payload kept the block, the data lies in it. */
  if (taken->kind == SOTTO_PAYLOAD_FILE_CHUNK && taken->known)
    {
      g_assert_cmpuint (reference->chunk_len, >, 0);
      g_assert_cmpmem (payload->chunk, payload->chunk_len, reference->chunk, reference->chunk_len);
      g_assert_cmpmem (taken->chunk, taken->chunk_len, reference->chunk, reference->chunk_len);
      g_assert_cmpuint (taken->file_offset, ==, reference->file_offset);
      if (taken->body_storage != NULL)
        {
          g_assert_true (taken->body_storage == block);
          g_assert_true (taken->chunk > block && taken->chunk + taken->chunk_len <= block + len);
        }
    }
  return TRUE;
}

/* Bodies on both sides of every boundary the fast paths know about: the
 * offset size (229/230 bytes), the longest body, ASCII runs of every
 * length around the 8-byte step, characters of 2, 3 and 4 bytes. */
static char *
fast_path_body (guint i)
{
  static const char *const units[] = { "a", "é", "€", "😀", "a\n", "ab€", "abcdefg😀" };

  switch (i)
    {
    case 0: return g_strdup ("x");
    case 1: return dup_repeated ("a", 229);
    case 2: return dup_repeated ("a", 230);
    case 3: return dup_repeated ("a", SOTTO_MESSAGE_BODY_MAX);
    case 4: return dup_repeated ("€", SOTTO_MESSAGE_BODY_MAX / 3);
    case 5: return g_strconcat ("abcdefgh", "😀", "abcdefghijklmno", "é", NULL);
    default:
      return dup_repeated (units[(i - 6) % G_N_ELEMENTS (units)], 1 + (i - 6) / 3);
    }
}

#define N_FAST_PATH_BODIES 27

static void
test_fast_encode (void)
{
  for (guint i = 0; i < N_FAST_PATH_BODIES; i++)
    {
      g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_TEXT);
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GBytes) reference = NULL;
      g_autoptr (GBytes) independent = NULL;
      g_autoptr (GByteArray) appended = g_byte_array_new ();
      g_autoptr (GError) error = NULL;

      payload->timestamp = EXAMPLE_TIMESTAMP + i;
      payload->body = fast_path_body (i);
      for (guint j = 0; j < SOTTO_MESSAGE_UID_LEN; j++)
        payload->uid[j] = (guint8) (i * 16 + j);

      bytes = sotto_payload_encode (payload, &error);
      g_assert_no_error (error);
      reference = _sotto_payload_encode_glib (payload, &error);
      g_assert_no_error (error);
      independent = wire (SOTTO_PAYLOAD_TEXT,
                          g_variant_new ("(@ayxs)",
                                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, payload->uid,
                                                                    SOTTO_MESSAGE_UID_LEN, 1),
                                         payload->timestamp, payload->body));
      g_assert_true (g_bytes_equal (bytes, reference));
      g_assert_true (g_bytes_equal (bytes, independent));

      /* Appending leaves what was there. */
      g_byte_array_append (appended, (const guint8 *) "\xaa\xbb", 2);
      g_assert_true (sotto_payload_encode_to (payload, appended, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (appended->data + 2, appended->len - 2,
                       g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      g_assert_cmpuint (appended->data[0], ==, 0xaa);
    }
}

static void
test_fast_encode_refuses (void)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_TEXT);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) reference_error = NULL;
  g_autoptr (GBytes) reference = NULL;
  const char *bodies[] = { "", "caf\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80" };

  payload->timestamp = EXAMPLE_TIMESTAMP;
  for (guint i = 0; i <= G_N_ELEMENTS (bodies); i++)
    {
      g_free (payload->body);
      payload->body = i < G_N_ELEMENTS (bodies) ? g_strdup (bodies[i])
                                                : dup_repeated ("a", SOTTO_MESSAGE_BODY_MAX + 1);
      g_assert_false (sotto_payload_encode_to (payload, out, &error));
      g_assert_cmpuint (out->len, ==, 0);
      reference = _sotto_payload_encode_glib (payload, &reference_error);
      g_assert_null (reference);
      g_assert_cmpstr (error->message, ==, reference_error->message);
      g_clear_error (&error);
      g_clear_error (&reference_error);
    }
}

/* Every single-byte change of valid TEXT payloads, and every truncation:
 * the fast decoder gives the reference's verdict, reason and fields. */
static void
test_fast_decode_mutations (void)
{
  /* NUL, the id's end (16) and its neighbours, ASCII, a continuation
   * byte, lead bytes of each length, the edges of the valid range. */
  static const guint8 values[] = { 0x00, 0x01, 0x10, 0x11, 0x7f, 0x80, 0xc0, 0xc2, 0xe0, 0xed,
                                   0xf0, 0xf4, 0xf5, 0xff };

  for (guint i = 0; i < N_FAST_PATH_BODIES; i++)
    {
      g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_TEXT);
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree guint8 *data = NULL;
      gsize len;
      guint accepted = 0;
      gboolean long_body;

      payload->timestamp = EXAMPLE_TIMESTAMP;
      payload->body = fast_path_body (i);
      memset (payload->uid, 0x42, SOTTO_MESSAGE_UID_LEN);
      bytes = sotto_payload_encode (payload, &error);
      g_assert_no_error (error);
      data = g_bytes_unref_to_data (g_steal_pointer (&bytes), &len);
      g_assert_true (assert_paths_agree (data, len));
      long_body = len > 4096;

      for (gsize at = 0; at < len; at++)
        {
          guint8 saved = data[at];

          /* In a long body: the id, the timestamp, the start and end of the
           * body, the offset, and every 4093rd byte between. */
          if (long_body && at > 40 && at + 16 < len && at % 4093 != 0)
            continue;

          for (guint v = 0; v < G_N_ELEMENTS (values); v++)
            {
              if (values[v] == saved)
                continue;
              data[at] = values[v];
              accepted += assert_paths_agree (data, len);
            }
          data[at] = saved;
          assert_paths_agree (data, at);
        }

      /* Some changes keep it valid (another id, timestamp or letter). */
      g_assert_cmpuint (accepted, >, 0);
    }
}

/* Around the change of offset size, both sizes, whichever is normal. */
static void
test_fast_decode_offset_size (void)
{
  for (gsize body_len = 220; body_len < 240; body_len++)
    for (gsize k = 1; k <= 2; k++)
      {
        GByteArray *data = g_byte_array_new ();
        g_autoptr (GBytes) bytes = NULL;
        guint8 byte = SOTTO_PAYLOAD_TEXT;
        gint64 timestamp = GINT64_TO_LE (EXAMPLE_TIMESTAMP);
        guint8 offset[2] = { 16, 0 };
        gsize unframed = 24 + body_len + 1;
        gboolean normal = k == (unframed + 1 <= 255 ? 1 : 2);

        g_byte_array_append (data, &byte, 1);
        for (guint i = 0; i < 16; i++)
          g_byte_array_append (data, (const guint8 *) "u", 1);
        g_byte_array_append (data, (const guint8 *) &timestamp, 8);
        for (gsize i = 0; i < body_len; i++)
          g_byte_array_append (data, (const guint8 *) "b", 1);
        byte = 0;
        g_byte_array_append (data, &byte, 1);
        g_byte_array_append (data, offset, (guint) k);
        bytes = g_byte_array_free_to_bytes (data);

        g_assert_cmpint (assert_paths_agree (g_bytes_get_data (bytes, NULL),
                                             g_bytes_get_size (bytes)), ==, normal);
      }
}

/* --- the hello's fast paths against the GLib reference ----------------- */

/* As assert_paths_agree(), for a hello. */
static gboolean
assert_hello_paths_agree (const guint8 *data,
                          gsize         len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) reference_error = NULL;
  g_autoptr (SottoHello) hello = sotto_hello_decode (data, len, &error);
  g_autoptr (SottoHello) reference = _sotto_hello_decode_glib (data, len, &reference_error);

  if (reference == NULL)
    {
      g_assert_null (hello);
      g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
      g_assert_error (reference_error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
      g_assert_cmpstr (error->message, ==, reference_error->message);
      return FALSE;
    }

  g_assert_no_error (reference_error);
  g_assert_no_error (error);
  g_assert_nonnull (hello);
  g_assert_true (sotto_hello_equal (hello, reference));
  g_assert_cmpuint (hello->version, ==, reference->version);
  g_assert_cmpstr (hello->display_name, ==, reference->display_name);
  g_assert_cmpuint (hello->listen_port, ==, reference->listen_port);
  g_assert_cmphex (hello->capabilities, ==, reference->capabilities);
  g_assert_nonnull (hello->intro);
  g_assert_cmpstr (hello->intro, ==, reference->intro);
  return TRUE;
}

/* The normal form of "(qsqts)" written out by hand, with framing offsets
 * of @k bytes whether or not that is the size GLib would choose. */
static GBytes *
hello_by_hand (const SottoHello *hello,
               gsize             k)
{
  GByteArray *out = g_byte_array_new ();
  const char *intro = hello->intro != NULL ? hello->intro : "";
  guint16 version = GUINT16_TO_LE (hello->version);
  guint16 port = GUINT16_TO_LE (hello->listen_port);
  guint64 capabilities = GUINT64_TO_LE (hello->capabilities);
  const guint8 zero = 0;
  gsize name_end;

  g_byte_array_append (out, (const guint8 *) &version, 2);
  g_byte_array_append (out, (const guint8 *) hello->display_name,
                       (guint) strlen (hello->display_name) + 1);
  name_end = out->len;
  while (out->len % 2 != 0)
    g_byte_array_append (out, &zero, 1);
  g_byte_array_append (out, (const guint8 *) &port, 2);
  while (out->len % 8 != 0)
    g_byte_array_append (out, &zero, 1);
  g_byte_array_append (out, (const guint8 *) &capabilities, 8);
  g_byte_array_append (out, (const guint8 *) intro, (guint) strlen (intro) + 1);
  for (gsize i = 0; i < k; i++)
    {
      guint8 byte = (guint8) (name_end >> (8 * i));

      g_byte_array_append (out, &byte, 1);
    }

  return g_byte_array_free_to_bytes (out);
}

/* Takes @name and @intro. */
static void
add_hello (GPtrArray  *hellos,
           char       *name,
           char       *intro)
{
  SottoHello *hello = g_new0 (SottoHello, 1);
  guint i = hellos->len;

  /* Every field takes small and large values, and bytes of every kind. */
  hello->version = i % 5 == 4 ? G_MAXUINT16 : 1 + i % 3;
  hello->display_name = name;
  hello->listen_port = i % 7 == 0 ? 0 : (guint16) (i * 7919 + 1);
  hello->capabilities = i % 11 == 0 ? 0 : G_GUINT64_CONSTANT (0x0123456789abcdef) * (i + 1);
  hello->intro = intro;
  g_ptr_array_add (hellos, hello);
}

/* Hellos on both sides of every boundary the fast paths know about: the
 * name's end at every position mod 8 (where the padding changes); intros
 * of every length mod 8, none and empty; characters of 2, 3 and 4 bytes;
 * the longest name (its end then needs the offset's second byte) and the
 * longest intro; and totals around 255/256 bytes, where the offsets grow
 * from 1 to 2 bytes. */
static GPtrArray *
fast_path_hellos (void)
{
  GPtrArray *hellos = g_ptr_array_new_with_free_func ((GDestroyNotify) sotto_hello_free);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) intros = g_ptr_array_new_with_free_func (g_free);
  const char *boundary_names[] = { "a", "Bob", "Zoë Müller", "abcdefghij", "€" };

  for (gsize n = 1; n <= 17; n++)
    g_ptr_array_add (names, g_strndup ("abcdefghijklmnopqrstuvwxyz", n));
  g_ptr_array_add (names, g_strdup (HELLO_NAME));
  g_ptr_array_add (names, g_strdup ("€uro"));
  g_ptr_array_add (names, g_strdup ("😀"));
  g_ptr_array_add (names, g_strdup ("a😀b€cé"));
  g_ptr_array_add (names, dup_repeated ("a", SOTTO_DISPLAY_NAME_MAX_CHARS));
  g_ptr_array_add (names, dup_repeated ("😀", 63));                 /* 252 bytes */
  g_ptr_array_add (names, g_strconcat (names->pdata[names->len - 1], "a", NULL));
  g_ptr_array_add (names, g_strconcat (names->pdata[names->len - 2], "é", NULL));
  g_ptr_array_add (names, g_strconcat (names->pdata[names->len - 3], "€", NULL));
  g_ptr_array_add (names, dup_repeated ("😀", 64));                 /* 256 bytes */

  g_ptr_array_add (intros, NULL);
  for (gsize n = 0; n <= 16; n++)
    g_ptr_array_add (intros, g_strndup ("Hi, I am from the accounts team.", n));
  g_ptr_array_add (intros, g_strdup (HELLO_INTRO));
  g_ptr_array_add (intros, g_strdup ("Line one\nline two"));
  g_ptr_array_add (intros, g_strdup ("é€😀"));
  g_ptr_array_add (intros, g_strdup ("\xd9\x85\xe2\x80\x8c\xd9\x86"));  /* a joiner */
  g_ptr_array_add (intros, dup_repeated ("a", SOTTO_HELLO_INTRO_MAX_CHARS));
  g_ptr_array_add (intros, dup_repeated ("😀", SOTTO_HELLO_INTRO_MAX_BYTES / 4));

  for (guint i = 0; i < names->len; i++)
    for (guint j = 0; j < intros->len; j++)
      add_hello (hellos, g_strdup (names->pdata[i]), g_strdup (intros->pdata[j]));

  /* Totals from about 230 to 290 bytes, in steps of 1 (ASCII) and of
   * 2 bytes (é) after an odd or even start. */
  for (guint i = 0; i < G_N_ELEMENTS (boundary_names); i++)
    for (gsize n = 200; n <= 260; n++)
      {
        add_hello (hellos, g_strdup (boundary_names[i]), dup_repeated ("x", n));
        if (n % 2 == 0)
          {
            g_autofree char *accents = dup_repeated ("é", n / 2 - 1);

            add_hello (hellos, g_strdup (boundary_names[i]), g_strconcat ("a", accents, NULL));
            add_hello (hellos, g_strdup (boundary_names[i]), g_strdup (accents));
          }
      }

  return hellos;
}

static void
test_hello_fast_encode (void)
{
  g_autoptr (GPtrArray) hellos = fast_path_hellos ();
  gboolean seen_size[SOTTO_HELLO_MAX_LEN + 1] = { FALSE, };
  gboolean seen_name_end_mod_8[8] = { FALSE, };
  gboolean seen_intro_mod_8[8] = { FALSE, };
  gboolean seen_two_byte_name_end = FALSE;

  for (guint i = 0; i < hellos->len; i++)
    {
      const SottoHello *hello = hellos->pdata[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GBytes) reference = NULL;
      g_autoptr (GBytes) independent = NULL;
      g_autoptr (GBytes) by_hand = NULL;
      g_autoptr (SottoHello) decoded = NULL;
      g_autoptr (SottoHello) decoded_reference = NULL;
      const guint8 *data;
      gsize size;
      gsize name_end = 2 + strlen (hello->display_name) + 1;

      bytes = sotto_hello_encode (hello, &error);
      g_assert_no_error (error);
      reference = _sotto_hello_encode_glib (hello, &error);
      g_assert_no_error (error);
      independent = wire (-1, g_variant_new ("(qsqts)", hello->version, hello->display_name,
                                             hello->listen_port, hello->capabilities,
                                             hello->intro != NULL ? hello->intro : ""));
      g_assert_true (g_bytes_equal (bytes, reference));
      g_assert_true (g_bytes_equal (bytes, independent));

      data = g_bytes_get_data (bytes, &size);
      g_assert_cmpuint (size, <=, SOTTO_HELLO_MAX_LEN);
      by_hand = hello_by_hand (hello, size <= G_MAXUINT8 ? 1 : 2);
      g_assert_true (g_bytes_equal (bytes, by_hand));

      decoded = sotto_hello_decode (data, size, &error);
      g_assert_no_error (error);
      decoded_reference = _sotto_hello_decode_glib (data, size, &error);
      g_assert_no_error (error);
      g_assert_true (sotto_hello_equal (hello, decoded));
      g_assert_true (sotto_hello_equal (hello, decoded_reference));
      g_assert_true (assert_hello_paths_agree (data, size));

      seen_size[size] = TRUE;
      seen_name_end_mod_8[name_end % 8] = TRUE;
      seen_intro_mod_8[strlen (hello->intro != NULL ? hello->intro : "") % 8] = TRUE;
      seen_two_byte_name_end |= name_end > G_MAXUINT8;
    }

  /* The cases reach what they are meant to. */
  for (guint r = 0; r < 8; r++)
    g_assert_true (seen_name_end_mod_8[r] && seen_intro_mod_8[r]);
  g_assert_true (seen_two_byte_name_end);
  for (gsize size = 250; size <= 262; size++)
    g_assert_true (seen_size[size] == (size != 256));
  g_assert_true (seen_size[18]);    /* "a", no intro: the smallest */
  g_assert_true (seen_size[1299]);  /* the largest */
}

static void
test_hello_fast_encode_refuses (void)
{
  g_autofree char *long_name = dup_repeated ("a", SOTTO_DISPLAY_NAME_MAX_CHARS + 1);
  g_autofree char *wide_name = dup_repeated ("😀", SOTTO_DISPLAY_NAME_MAX_CHARS + 1);
  g_autofree char *long_intro = dup_repeated ("a", SOTTO_HELLO_INTRO_MAX_CHARS + 1);
  g_autofree char *wide_intro = dup_repeated ("😀", SOTTO_HELLO_INTRO_MAX_BYTES / 4 + 1);
  const SottoHello hellos[] = {
    { 0, "Bob", 7447, 0, "" },
    { 1, NULL, 7447, 0, "" },
    { 1, "", 7447, 0, "" },
    { 1, " Bob", 7447, 0, "" },
    { 1, "Bob ", 7447, 0, "" },
    { 1, "Zoe\xcc\x88", 7447, 0, "" },               /* NFD */
    { 1, "Bob\nSmith", 7447, 0, "" },
    { 1, "\xe2\x80\xae" "boB", 7447, 0, "" },
    { 1, "B\xffob", 7447, 0, "" },
    { 1, "\xed\xa0\x80", 7447, 0, "" },              /* a surrogate */
    { 1, long_name, 7447, 0, "" },
    { 1, wide_name, 7447, 0, "" },
    { 1, "Bob", 7447, 0, long_intro },
    { 1, "Bob", 7447, 0, wide_intro },
    { 1, "Bob", 7447, 0, "tab\there" },
    { 1, "Bob", 7447, 0, "evil\xe2\x80\xaetxt.exe" },
    { 1, "Bob", 7447, 0, "bad \xff utf-8" },
    { 1, "Bob", 7447, 0, "\xf4\x90\x80\x80" },       /* past U+10FFFF */
  };

  for (guint i = 0; i < G_N_ELEMENTS (hellos); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GError) reference_error = NULL;
      g_autoptr (GBytes) bytes = sotto_hello_encode (&hellos[i], &error);
      g_autoptr (GBytes) reference = _sotto_hello_encode_glib (&hellos[i], &reference_error);

      g_assert_null (bytes);
      g_assert_null (reference);
      g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
      g_assert_error (reference_error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
      g_assert_cmpstr (error->message, ==, reference_error->message);
    }
}

/* Every single-byte change, insertion, deletion and truncation of valid
 * hellos, and a byte more: the fast decoder gives the reference's verdict, reason
 * and fields. */
static void
test_hello_fast_decode_mutations (void)
{
  /* NUL, space (a name must not begin or end with one), ASCII, a
   * continuation byte, lead bytes of each length, the edges of the
   * valid range; besides each byte's neighbours. */
  static const guint8 values[] = { 0x00, 0x01, 0x20, 0x7f, 0x80, 0xc3, 0xe0, 0xed, 0xf0,
                                   0xf4, 0xf5, 0xff };
  g_autoptr (GPtrArray) all = fast_path_hellos ();
  g_autoptr (GPtrArray) hellos = g_ptr_array_new ();
  g_autofree char *emoji = dup_repeated ("😀", 63);
  g_autofree char *name_to_256 = g_strconcat (emoji, "a", NULL);
  SottoHello example = { 1, HELLO_NAME, 7447, 0, HELLO_INTRO };
  SottoHello smallest = { 1, "a", 0, 0, NULL };
  /* Its offset is 256, "00 01": without the intro's NUL, its first byte
   * would read as an empty intro. */
  SottoHello name_ends_at_256 = { 1, name_to_256, 7447, 0, "" };
  guint accepted = 0;

  g_ptr_array_add (hellos, &example);
  g_ptr_array_add (hellos, &smallest);
  g_ptr_array_add (hellos, &name_ends_at_256);

  /* And some of the generated ones: short names of each length, sizes
   * 254 to 258, the longest name, the largest hello. */
  for (guint i = 0; i < all->len; i++)
    {
      const SottoHello *hello = all->pdata[i];
      g_autoptr (GBytes) bytes = sotto_hello_encode (hello, NULL);
      gsize size = g_bytes_get_size (bytes);
      gsize name_len = strlen (hello->display_name);
      gsize intro_len = strlen (hello->intro != NULL ? hello->intro : "");

      if ((name_len <= 8 && intro_len == name_len % 3 + 5) ||
          (size >= 254 && size <= 258 && i % 3 == 0) ||
          (name_len == 256 && intro_len < 2) ||
          size == 1299)
        g_ptr_array_add (hellos, (gpointer) hello);
    }
  g_assert_cmpuint (hellos->len, >=, 15);

  for (guint h = 0; h < hellos->len; h++)
    {
      g_autoptr (GBytes) bytes = sotto_hello_encode (hellos->pdata[h], NULL);
      g_autofree guint8 *data = NULL;
      gsize len;

      data = g_bytes_unref_to_data (g_steal_pointer (&bytes), &len);
      g_assert_true (assert_hello_paths_agree (data, len));

      for (gsize at = 0; at < len; at++)
        {
          guint8 saved = data[at];
          guint8 extra[] = { (guint8) (saved + 1), (guint8) (saved - 1) };
          g_autofree guint8 *inserted = g_malloc (len + 1);

          /* In the largest: the fields, the ends of the strings, the
           * offset, and every 61st byte between. */
          if (len > 1024 && at > 300 && at + 16 < len && at % 61 != 0)
            continue;

          for (guint v = 0; v < G_N_ELEMENTS (values) + G_N_ELEMENTS (extra); v++)
            {
              guint8 value = v < G_N_ELEMENTS (values) ? values[v]
                                                       : extra[v - G_N_ELEMENTS (values)];

              if (value == saved)
                continue;
              data[at] = value;
              accepted += assert_hello_paths_agree (data, len);
            }
          data[at] = saved;

          assert_hello_paths_agree (data, at);

          memcpy (inserted, data, at);
          memcpy (inserted + at + 1, data + at, len - at);
          inserted[at] = 0;
          assert_hello_paths_agree (inserted, len + 1);
          inserted[at] = 'a';
          assert_hello_paths_agree (inserted, len + 1);

          /* And without it. */
          memcpy (inserted + at, data + at + 1, len - at - 1);
          assert_hello_paths_agree (inserted, len - 1);
        }

      {
        g_autofree guint8 *longer = g_malloc (len + 1);

        memcpy (longer, data, len);
        for (guint v = 0; v < G_N_ELEMENTS (values); v++)
          {
            longer[len] = values[v];
            g_assert_false (assert_hello_paths_agree (longer, len + 1));
          }
      }
    }

  /* Some changes keep it valid (another version, port, letter…). */
  g_assert_cmpuint (accepted, >, 0);
}

/* Offsets of 1 and 2 bytes around the change of size, whichever is
 * normal: no hello is 256 bytes, a 257-byte one cannot have a 1-byte
 * offset, a 255-byte one cannot have a 2-byte offset. */
static void
test_hello_fast_decode_offset_size (void)
{
  const char *names[] = { "a", "Bob", HELLO_NAME, "abcdefghij" };
  guint n_normal[3] = { 0, };
  guint n_refused[3] = { 0, };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    for (gsize intro_len = 200; intro_len <= 260; intro_len++)
      {
        g_autofree char *intro = dup_repeated ("x", intro_len);
        SottoHello hello = { 1, (char *) names[i], 7447, 0, intro };
        g_autoptr (GBytes) encoded = sotto_hello_encode (&hello, NULL);

        for (gsize k = 1; k <= 2; k++)
          {
            g_autoptr (GBytes) bytes = hello_by_hand (&hello, k);
            gsize size = g_bytes_get_size (bytes);
            gsize unframed = size - k;
            gboolean normal = k == (unframed + 1 <= G_MAXUINT8 ? 1 : 2);
            gboolean accepted = assert_hello_paths_agree (g_bytes_get_data (bytes, NULL), size);

            g_assert_cmpint (accepted, ==, normal);
            g_assert_cmpint (g_bytes_equal (bytes, encoded), ==, normal);
            if (size >= 255 && size <= 257)
              {
                if (normal)
                  n_normal[size - 255]++;
                else
                  n_refused[size - 255]++;
              }
          }
      }

  /* Each side of the boundary, both ways. */
  g_assert_cmpuint (n_normal[0], >, 0);
  g_assert_cmpuint (n_refused[0], >, 0);
  g_assert_cmpuint (n_normal[1], ==, 0);
  g_assert_cmpuint (n_refused[1], >, 0);
  g_assert_cmpuint (n_normal[2], >, 0);
  g_assert_cmpuint (n_refused[2], >, 0);

  /* The longest name ends past 255: only a 2-byte offset can say where. */
  {
    g_autofree char *name = dup_repeated ("😀", SOTTO_DISPLAY_NAME_MAX_CHARS);
    SottoHello hello = { 1, name, 7447, 0, "" };
    g_autoptr (GBytes) good = hello_by_hand (&hello, 2);
    g_autoptr (GBytes) bad = hello_by_hand (&hello, 1);

    g_assert_true (assert_hello_paths_agree (g_bytes_get_data (good, NULL),
                                             g_bytes_get_size (good)));
    g_assert_false (assert_hello_paths_agree (g_bytes_get_data (bad, NULL),
                                              g_bytes_get_size (bad)));
  }
}

/* --- files ------------------------------------------------------------ */

/* The bytes of every id, hash, head and chunk below: a payload built
 * field by field and the GVariant built from lengths then hold the same. */
static void
pattern_fill (guint8 *data,
              gsize   len,
              guint   seed)
{
  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (seed + i * 7);
}

/* @len bytes of the pattern that starts at @seed; never NULL. */
static guint8 *
pattern (gsize len,
         guint seed)
{
  guint8 *data = g_malloc (MAX (len, 1));

  pattern_fill (data, len, seed);

  return data;
}

static GVariant *
pattern_variant (gsize len,
                 guint seed)
{
  g_autofree guint8 *data = pattern (len, seed);

  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

/* An "ay" of @len bytes at @data, which may be NULL when @len is 0. */
static GVariant *
bytes_variant (const guint8 *data,
               gsize         len)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data != NULL ? data : (const guint8 *) "",
                                    len, 1);
}

/* The fields of a FILE_OFFER as they go on the wire, lengths included. */
typedef struct
{
  gsize       id_len;
  gint64      timestamp;
  const char *name;
  guint64     size;
  gsize       hash_len;
  gsize       head_len;
  const char *type;
} OfferFields;

static const OfferFields example_offer = {
  SOTTO_FILE_ID_LEN, EXAMPLE_TIMESTAMP, "report.pdf", 5, SOTTO_FILE_HASH_LEN, 5, "application/pdf"
};

static GVariant *
offer_variant (const OfferFields *f)
{
  return g_variant_new ("(@ayxst@ay@ays)", pattern_variant (f->id_len, 0), f->timestamp, f->name,
                        f->size, pattern_variant (f->hash_len, 0x80), pattern_variant (f->head_len, 0x25),
                        f->type);
}

static GVariant *
accept_variant (gsize   id_len,
                guint64 offset)
{
  return g_variant_new ("(@ayt)", pattern_variant (id_len, 0), offset);
}

static GVariant *
chunk_variant (gsize   id_len,
               guint64 offset,
               gsize   data_len)
{
  return g_variant_new ("(@ayt@ay)", pattern_variant (id_len, 0), offset,
                        pattern_variant (data_len, 3));
}

/* FILE_CANCEL and FILE_DONE: message id, transfer id, reason or result. */
static GVariant *
end_variant (gsize  message_id_len,
             gsize  transfer_id_len,
             guint8 value)
{
  return g_variant_new ("(@ay@ayy)", pattern_variant (message_id_len, 0x10),
                        pattern_variant (transfer_id_len, 0), value);
}

/* A valid FILE_OFFER with a head of the right length, for @size. */
static SottoPayload *
offer_payload (const char *name,
               guint64     size,
               const char *type)
{
  SottoPayload *payload = sotto_payload_new (SOTTO_PAYLOAD_FILE_OFFER);
  gsize head_len = (gsize) MIN (size, SOTTO_FILE_HEAD_MAX);

  g_assert_true (payload->known);
  pattern_fill (payload->file_id, SOTTO_FILE_ID_LEN, 0);
  payload->timestamp = EXAMPLE_TIMESTAMP;
  payload->file_name = g_strdup (name);
  payload->file_size = size;
  pattern_fill (payload->file_hash, SOTTO_FILE_HASH_LEN, 0x80);
  payload->file_head = head_len > 0 ? pattern (head_len, 0x25) : NULL;
  payload->file_head_len = head_len;
  payload->file_type = g_strdup (type);

  return payload;
}

static SottoPayload *
accept_payload (guint64 offset)
{
  SottoPayload *payload = sotto_payload_new (SOTTO_PAYLOAD_FILE_ACCEPT);

  g_assert_true (payload->known);
  pattern_fill (payload->file_id, SOTTO_FILE_ID_LEN, 0);
  payload->file_offset = offset;

  return payload;
}

/* The payload owns its data: it is not in a taken block. */
static SottoPayload *
chunk_payload (guint64 offset,
               gsize   len)
{
  SottoPayload *payload = sotto_payload_new (SOTTO_PAYLOAD_FILE_CHUNK);

  g_assert_true (payload->known);
  pattern_fill (payload->file_id, SOTTO_FILE_ID_LEN, 0);
  payload->file_offset = offset;
  payload->chunk = len > 0 ? pattern (len, 3) : NULL;
  payload->chunk_len = len;

  return payload;
}

/* FILE_CANCEL or FILE_DONE. */
static SottoPayload *
end_payload (guint8 kind,
             guint8 value)
{
  SottoPayload *payload = sotto_payload_new (kind);

  g_assert_true (payload->known);
  pattern_fill (payload->uid, SOTTO_MESSAGE_UID_LEN, 0x10);
  pattern_fill (payload->file_id, SOTTO_FILE_ID_LEN, 0);
  payload->file_reason = value;

  return payload;
}

/* The payload serialized by GVariant directly, from its fields: a second
 * writer, independent of the library's. */
static GBytes *
file_wire (const SottoPayload *payload)
{
  switch (payload->kind)
    {
    case SOTTO_PAYLOAD_FILE_OFFER:
      return wire (payload->kind,
                   g_variant_new ("(@ayxst@ay@ays)",
                                  bytes_variant (payload->file_id, SOTTO_FILE_ID_LEN),
                                  payload->timestamp, payload->file_name, payload->file_size,
                                  bytes_variant (payload->file_hash, SOTTO_FILE_HASH_LEN),
                                  bytes_variant (payload->file_head, payload->file_head_len),
                                  payload->file_type));
    case SOTTO_PAYLOAD_FILE_ACCEPT:
      return wire (payload->kind,
                   g_variant_new ("(@ayt)", bytes_variant (payload->file_id, SOTTO_FILE_ID_LEN),
                                  payload->file_offset));
    case SOTTO_PAYLOAD_FILE_CHUNK:
      return wire (payload->kind,
                   g_variant_new ("(@ayt@ay)",
                                  bytes_variant (payload->file_id, SOTTO_FILE_ID_LEN),
                                  payload->file_offset,
                                  bytes_variant (payload->chunk, payload->chunk_len)));
    case SOTTO_PAYLOAD_FILE_CANCEL:
    case SOTTO_PAYLOAD_FILE_DONE:
      return wire (payload->kind,
                   g_variant_new ("(@ay@ayy)", bytes_variant (payload->uid, SOTTO_MESSAGE_UID_LEN),
                                  bytes_variant (payload->file_id, SOTTO_FILE_ID_LEN),
                                  payload->file_reason));
    default:
      g_assert_not_reached ();
    }
}

/* Every field of two file payloads, one by one (sotto_payload_equal()
 * is checked besides, not relied on). */
static void
assert_file_fields_equal (const SottoPayload *a,
                          const SottoPayload *b)
{
  g_assert_cmphex (a->kind, ==, b->kind);
  g_assert_true (a->known && b->known);
  g_assert_cmpmem (a->file_id, SOTTO_FILE_ID_LEN, b->file_id, SOTTO_FILE_ID_LEN);

  switch (a->kind)
    {
    case SOTTO_PAYLOAD_FILE_OFFER:
      g_assert_cmpint (a->timestamp, ==, b->timestamp);
      g_assert_cmpstr (a->file_name, ==, b->file_name);
      g_assert_cmpuint (a->file_size, ==, b->file_size);
      g_assert_cmpmem (a->file_hash, SOTTO_FILE_HASH_LEN, b->file_hash, SOTTO_FILE_HASH_LEN);
      g_assert_cmpmem (a->file_head, a->file_head_len, b->file_head, b->file_head_len);
      g_assert_cmpstr (a->file_type, ==, b->file_type);
      break;
    case SOTTO_PAYLOAD_FILE_ACCEPT:
      g_assert_cmpuint (a->file_offset, ==, b->file_offset);
      break;
    case SOTTO_PAYLOAD_FILE_CHUNK:
      g_assert_cmpuint (a->file_offset, ==, b->file_offset);
      g_assert_cmpmem (a->chunk, a->chunk_len, b->chunk, b->chunk_len);
      break;
    case SOTTO_PAYLOAD_FILE_CANCEL:
    case SOTTO_PAYLOAD_FILE_DONE:
      g_assert_cmpmem (a->uid, SOTTO_MESSAGE_UID_LEN, b->uid, SOTTO_MESSAGE_UID_LEN);
      g_assert_cmpuint (a->file_reason, ==, b->file_reason);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* A valid file payload: the library writes what GVariant writes (and
 * what its reference writes), the bytes decode to the same fields by
 * every path, and encode again to the same bytes. Returns the bytes. */
static GBytes *
assert_file_round_trip (const SottoPayload *payload)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) reference = NULL;
  g_autoptr (GBytes) independent = file_wire (payload);
  g_autoptr (SottoPayload) decoded = NULL;

  bytes = sotto_payload_encode (payload, &error);
  g_assert_no_error (error);
  reference = _sotto_payload_encode_glib (payload, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (bytes, independent));
  g_assert_true (g_bytes_equal (bytes, reference));

  assert_round_trip (payload);
  decoded = decode_ok (bytes);
  assert_file_fields_equal (payload, decoded);
  g_assert_true (assert_paths_agree (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes)));

  return g_steal_pointer (&bytes);
}

/* Malformed: every decoding path refuses it, for the same reason. */
static void
assert_file_malformed (GBytes *bytes)
{
  g_assert_false (assert_paths_agree (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes)));
  assert_decode_fails (bytes, "");
}

/* Takes @bytes. */
static void
assert_file_malformed_take (GBytes *bytes)
{
  g_autoptr (GBytes) owned = bytes;

  assert_file_malformed (owned);
}

/* The encoder and its reference refuse @payload, for the same reason. */
static void
assert_file_encode_refused (const SottoPayload *payload)
{
  g_autoptr (GError) reference_error = NULL;
  g_autoptr (GBytes) reference = _sotto_payload_encode_glib (payload, &reference_error);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  assert_encode_fails (payload, "");
  g_assert_null (reference);
  g_assert_error (reference_error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  g_assert_false (sotto_payload_encode_to (payload, out, &error));
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  g_assert_cmpuint (out->len, ==, 0);
}

static void
test_file_constants (void)
{
  g_assert_cmphex (SOTTO_CAPABILITY_FILES, ==, 0x1);
  g_assert_cmpint (SOTTO_PAYLOAD_FILE_OFFER, ==, 0x08);
  g_assert_cmpint (SOTTO_PAYLOAD_FILE_ACCEPT, ==, 0x09);
  g_assert_cmpint (SOTTO_PAYLOAD_FILE_CANCEL, ==, 0x0a);
  g_assert_cmpint (SOTTO_PAYLOAD_FILE_CHUNK, ==, 0x0b);
  g_assert_cmpint (SOTTO_PAYLOAD_FILE_DONE, ==, 0x0c);
  g_assert_cmpint (SOTTO_PAYLOAD_KIND_RESERVED_FIRST, ==, 0x0d);
  g_assert_cmpint (SOTTO_PAYLOAD_KIND_RESERVED_LAST, ==, 0x0f);
  g_assert_cmpint (SOTTO_FILE_ID_LEN, ==, 16);
  g_assert_cmpint (SOTTO_FILE_HASH_LEN, ==, 64);
  g_assert_cmpint (SOTTO_FILE_HEAD_MAX, ==, 4096);
  g_assert_cmpint (SOTTO_FILE_OFFER_NAME_MAX, ==, 1024);
  g_assert_cmpint (SOTTO_FILE_TYPE_MAX, ==, 255);
  g_assert_cmpuint (SOTTO_FILE_SIZE_MAX, ==, G_GUINT64_CONSTANT (9007199254740992));
  g_assert_cmpint (SOTTO_FILE_CHUNK_MAX, ==, 61440);
  g_assert_cmpint (SOTTO_FILE_WINDOW, ==, 4194304);
  g_assert_cmpint (SOTTO_FILE_ACCEPT_STEP, ==, 1048576);
  g_assert_cmpint (SOTTO_FILE_CANCEL_DECLINED, ==, 1);
  g_assert_cmpint (SOTTO_FILE_CANCEL_STORAGE, ==, 7);
  g_assert_cmpint (SOTTO_FILE_CANCEL_LAST, ==, 7);
  g_assert_cmpint (SOTTO_FILE_DONE_RECEIVED, ==, 1);
  g_assert_cmpint (SOTTO_FILE_DONE_INFECTED, ==, 2);

  /* The largest chunk fits in one transport message: kind, id, offset,
   * data, a 2-byte framing offset. */
  g_assert_cmpint (1 + 16 + 8 + SOTTO_FILE_CHUNK_MAX + 2, <=, SOTTO_PAYLOAD_MAX_LEN);
}

/* --- files: the worked examples --------------------------------------- */

static void
test_file_hello_known_answer (void)
{
  SottoHello hello = { 2, "Bob", 0, SOTTO_CAPABILITY_FILES, "" };
  g_autoptr (SottoHello) decoded = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) expected = hex_bytes (HELLO_FILES_HEX);
  g_autoptr (GError) error = NULL;

  bytes = sotto_hello_encode (&hello, &error);
  g_assert_no_error (error);
  assert_bytes_hex (bytes, HELLO_FILES_HEX);

  decoded = hello_decode_ok (expected);
  g_assert_cmpuint (decoded->version, ==, 2);
  g_assert_cmpstr (decoded->display_name, ==, "Bob");
  g_assert_cmpuint (decoded->listen_port, ==, 0);
  g_assert_cmphex (decoded->capabilities, ==, SOTTO_CAPABILITY_FILES);
  g_assert_cmpstr (decoded->intro, ==, "");
  g_assert_true (assert_hello_paths_agree (g_bytes_get_data (expected, NULL),
                                           g_bytes_get_size (expected)));
}

static void
test_file_offer_known_answer (void)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_FILE_OFFER);
  g_autoptr (SottoPayload) decoded = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) expected = hex_bytes (FILE_OFFER_HEX);
  g_autoptr (GBytes) hash = hex_bytes (FILE_HASH_HEX);
  g_autoptr (GError) error = NULL;
  guint8 computed[SOTTO_FILE_HASH_LEN];

  /* The example is consistent: its hash is that of its content. */
  g_assert_cmpint (sodium_init (), >=, 0);
  g_assert_cmpint (crypto_generichash (computed, sizeof computed, (const guint8 *) FILE_CONTENT,
                                       strlen (FILE_CONTENT), NULL, 0), ==, 0);
  g_assert_cmpmem (computed, sizeof computed, g_bytes_get_data (hash, NULL), g_bytes_get_size (hash));

  g_assert_true (payload->known);
  for (guint i = 0; i < SOTTO_FILE_ID_LEN; i++)
    payload->file_id[i] = i;
  payload->timestamp = EXAMPLE_TIMESTAMP;
  payload->file_name = g_strdup ("report.pdf");
  payload->file_size = strlen (FILE_CONTENT);
  memcpy (payload->file_hash, computed, SOTTO_FILE_HASH_LEN);
  payload->file_head = (guint8 *) g_strdup (FILE_CONTENT);
  payload->file_head_len = strlen (FILE_CONTENT);
  payload->file_type = g_strdup ("application/pdf");

  bytes = sotto_payload_encode (payload, &error);
  g_assert_no_error (error);
  assert_bytes_hex (bytes, FILE_OFFER_HEX);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 138);

  decoded = decode_ok (expected);
  g_assert_cmphex (decoded->kind, ==, SOTTO_PAYLOAD_FILE_OFFER);
  g_assert_true (decoded->known);
  g_assert_cmpmem (decoded->file_id, SOTTO_FILE_ID_LEN, payload->file_id, SOTTO_FILE_ID_LEN);
  g_assert_cmpint (decoded->timestamp, ==, EXAMPLE_TIMESTAMP);
  g_assert_cmpstr (decoded->file_name, ==, "report.pdf");
  g_assert_cmpuint (decoded->file_size, ==, 5);
  g_assert_cmpmem (decoded->file_hash, SOTTO_FILE_HASH_LEN, computed, SOTTO_FILE_HASH_LEN);
  g_assert_cmpmem (decoded->file_head, decoded->file_head_len, FILE_CONTENT, 5);
  g_assert_cmpstr (decoded->file_type, ==, "application/pdf");
  g_assert_true (sotto_payload_equal (payload, decoded));
  g_assert_true (assert_paths_agree (g_bytes_get_data (expected, NULL),
                                     g_bytes_get_size (expected)));

  /* Its receipt names the transfer id. */
  {
    g_autoptr (SottoPayload) receipt = sotto_payload_new (SOTTO_PAYLOAD_RECEIPT);
    g_autoptr (GBytes) receipt_bytes = NULL;

    receipt->receipt_state = SOTTO_RECEIPT_DELIVERED;
    receipt->n_ids = 1;
    receipt->ids = g_memdup2 (decoded->file_id, SOTTO_FILE_ID_LEN);
    receipt_bytes = sotto_payload_encode (receipt, &error);
    g_assert_no_error (error);
    assert_bytes_hex (receipt_bytes, FILE_OFFER_RECEIPT_HEX);
  }
}

static void
test_file_accept_known_answer (void)
{
  const struct {
    const char *hex;
    guint64 offset;
  } cases[] = {
    { FILE_ACCEPT_HEX, 0 },
    { FILE_ACCEPT_RESUME_HEX, 3 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_FILE_ACCEPT);
      g_autoptr (SottoPayload) decoded = NULL;
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GBytes) expected = hex_bytes (cases[i].hex);
      g_autoptr (GError) error = NULL;

      for (guint j = 0; j < SOTTO_FILE_ID_LEN; j++)
        payload->file_id[j] = j;
      payload->file_offset = cases[i].offset;

      bytes = sotto_payload_encode (payload, &error);
      g_assert_no_error (error);
      assert_bytes_hex (bytes, cases[i].hex);
      g_assert_cmpuint (g_bytes_get_size (bytes), ==, 26);

      decoded = decode_ok (expected);
      g_assert_cmphex (decoded->kind, ==, SOTTO_PAYLOAD_FILE_ACCEPT);
      g_assert_true (decoded->known);
      g_assert_cmpmem (decoded->file_id, SOTTO_FILE_ID_LEN, payload->file_id, SOTTO_FILE_ID_LEN);
      g_assert_cmpuint (decoded->file_offset, ==, cases[i].offset);
      g_assert_true (sotto_payload_equal (payload, decoded));
      g_assert_true (assert_paths_agree (g_bytes_get_data (expected, NULL),
                                         g_bytes_get_size (expected)));
    }
}

static void
test_file_chunk_known_answer (void)
{
  const struct {
    const char *hex;
    guint64 offset;
    const char *data;
  } cases[] = {
    { FILE_CHUNK_HEX, 0, FILE_CONTENT },
    { FILE_CHUNK_RESUME_HEX, 3, FILE_CONTENT + 3 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_FILE_CHUNK);
      g_autoptr (SottoPayload) decoded = NULL;
      g_autoptr (SottoPayload) taken = NULL;
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GBytes) expected = hex_bytes (cases[i].hex);
      g_autoptr (GError) error = NULL;
      gsize data_len = strlen (cases[i].data);
      gsize len;
      guint8 *block;

      for (guint j = 0; j < SOTTO_FILE_ID_LEN; j++)
        payload->file_id[j] = j;
      payload->file_offset = cases[i].offset;
      payload->chunk = g_memdup2 (cases[i].data, data_len);
      payload->chunk_len = data_len;

      bytes = sotto_payload_encode (payload, &error);
      g_assert_no_error (error);
      assert_bytes_hex (bytes, cases[i].hex);
      g_assert_cmpuint (g_bytes_get_size (bytes), ==, 1 + 16 + 8 + data_len + 1);

      decoded = decode_ok (expected);
      g_assert_cmphex (decoded->kind, ==, SOTTO_PAYLOAD_FILE_CHUNK);
      g_assert_true (decoded->known);
      g_assert_cmpmem (decoded->file_id, SOTTO_FILE_ID_LEN, payload->file_id, SOTTO_FILE_ID_LEN);
      g_assert_cmpuint (decoded->file_offset, ==, cases[i].offset);
      g_assert_cmpmem (decoded->chunk, decoded->chunk_len, cases[i].data, data_len);
      g_assert_true (sotto_payload_equal (payload, decoded));

      /* Taking the plaintext gives the same data, in the block or not. */
      block = g_bytes_unref_to_data (g_bytes_ref (expected), &len);
      taken = sotto_payload_decode_take (block, len, &error);
      g_assert_no_error (error);
      g_assert_nonnull (taken);
      g_assert_cmpuint (taken->file_offset, ==, cases[i].offset);
      g_assert_cmpmem (taken->chunk, taken->chunk_len, cases[i].data, data_len);
      g_assert_cmpmem (taken->file_id, SOTTO_FILE_ID_LEN, payload->file_id, SOTTO_FILE_ID_LEN);
      if (taken->body_storage != NULL)
        {
          g_assert_true (taken->body_storage == (gpointer) block);
          g_assert_true (taken->chunk > block && taken->chunk + taken->chunk_len <= block + len);
        }
      g_assert_true (sotto_payload_equal (payload, taken));
      g_assert_true (assert_paths_agree (g_bytes_get_data (expected, NULL),
                                         g_bytes_get_size (expected)));
    }
}

static void
test_file_end_known_answer (void)
{
  const struct {
    const char *hex;
    guint8 kind;
    guint8 first_id_byte;
    guint8 value;
  } cases[] = {
    { FILE_DONE_HEX, SOTTO_PAYLOAD_FILE_DONE, 0x20, SOTTO_FILE_DONE_RECEIVED },
    { FILE_CANCEL_HEX, SOTTO_PAYLOAD_FILE_CANCEL, 0x10, SOTTO_FILE_CANCEL_DECLINED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SottoPayload) payload = sotto_payload_new (cases[i].kind);
      g_autoptr (SottoPayload) decoded = NULL;
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GBytes) expected = hex_bytes (cases[i].hex);
      g_autoptr (GError) error = NULL;

      for (guint j = 0; j < SOTTO_MESSAGE_UID_LEN; j++)
        payload->uid[j] = cases[i].first_id_byte + j;
      for (guint j = 0; j < SOTTO_FILE_ID_LEN; j++)
        payload->file_id[j] = j;
      payload->file_reason = cases[i].value;

      bytes = sotto_payload_encode (payload, &error);
      g_assert_no_error (error);
      assert_bytes_hex (bytes, cases[i].hex);
      g_assert_cmpuint (g_bytes_get_size (bytes), ==, 36);

      decoded = decode_ok (expected);
      g_assert_cmphex (decoded->kind, ==, cases[i].kind);
      g_assert_true (decoded->known);
      g_assert_cmpmem (decoded->uid, SOTTO_MESSAGE_UID_LEN, payload->uid, SOTTO_MESSAGE_UID_LEN);
      g_assert_cmpmem (decoded->file_id, SOTTO_FILE_ID_LEN, payload->file_id, SOTTO_FILE_ID_LEN);
      g_assert_cmpuint (decoded->file_reason, ==, cases[i].value);
      g_assert_true (sotto_payload_equal (payload, decoded));
      g_assert_true (assert_paths_agree (g_bytes_get_data (expected, NULL),
                                         g_bytes_get_size (expected)));
    }

  /* The done's receipt names its message id. */
  {
    g_autoptr (SottoPayload) receipt = sotto_payload_new (SOTTO_PAYLOAD_RECEIPT);
    g_autoptr (GBytes) receipt_bytes = NULL;
    g_autoptr (GError) error = NULL;

    receipt->receipt_state = SOTTO_RECEIPT_DELIVERED;
    receipt->n_ids = 1;
    receipt->ids = g_malloc (SOTTO_MESSAGE_UID_LEN);
    for (guint j = 0; j < SOTTO_MESSAGE_UID_LEN; j++)
      receipt->ids[j] = 0x20 + j;
    receipt_bytes = sotto_payload_encode (receipt, &error);
    g_assert_no_error (error);
    assert_bytes_hex (receipt_bytes, FILE_DONE_RECEIPT_HEX);
  }
}

/* --- files: round trips at the limits ------------------------------- */

static void
test_file_offer_limits (void)
{
  g_autofree char *longest_ascii = dup_repeated ("x", SOTTO_FILE_OFFER_NAME_MAX);
  g_autofree char *longest_emoji = dup_repeated ("😀", SOTTO_FILE_OFFER_NAME_MAX / 4);
  g_autofree char *euros = dup_repeated ("€", SOTTO_FILE_OFFER_NAME_MAX / 3);       /* 1023 bytes */
  g_autofree char *longest_mixed = g_strconcat ("a", euros, NULL);
  g_autofree char *longest_type = g_malloc (SOTTO_FILE_TYPE_MAX + 1);
  const char *names[] = {
    "a", "é", "report.pdf", longest_ascii, longest_emoji, longest_mixed,
    /* Nothing but the length is checked on the wire: a receiver makes
     * its own safe name. */
    "../../.bashrc", "/etc/passwd", "tab\there", "evil\xe2\x80\xaetxt.exe", " ",
  };
  const guint64 sizes[] = {
    0, 1, 5, SOTTO_FILE_HEAD_MAX - 1, SOTTO_FILE_HEAD_MAX, SOTTO_FILE_HEAD_MAX + 1,
    G_GUINT64_CONSTANT (4294967296), SOTTO_FILE_SIZE_MAX - 1, SOTTO_FILE_SIZE_MAX,
  };
  const char *types[] = { "", " ", "~", "application/pdf", "text/plain; charset=utf-8", NULL };

  /* Every printable ASCII byte, 255 of them. */
  for (guint i = 0; i < SOTTO_FILE_TYPE_MAX; i++)
    longest_type[i] = (char) (0x20 + i % (0x7f - 0x20));
  longest_type[SOTTO_FILE_TYPE_MAX] = '\0';
  types[G_N_ELEMENTS (types) - 1] = longest_type;

  g_assert_cmpuint (strlen (longest_emoji), ==, 1024);
  g_assert_cmpuint (strlen (longest_mixed), ==, 1024);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (SottoPayload) payload = offer_payload (names[i], 5, "");

      g_bytes_unref (assert_file_round_trip (payload));
    }

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (SottoPayload) payload = offer_payload ("data.bin", sizes[i], "");
      g_autoptr (GBytes) bytes = assert_file_round_trip (payload);
      g_autoptr (SottoPayload) decoded = decode_ok (bytes);

      g_assert_cmpuint (decoded->file_size, ==, sizes[i]);
      g_assert_cmpuint (decoded->file_head_len, ==, MIN (sizes[i], 4096));
    }

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr (SottoPayload) payload = offer_payload ("a", 1, types[i]);
      g_autoptr (GBytes) bytes = assert_file_round_trip (payload);
      g_autoptr (SottoPayload) decoded = decode_ok (bytes);

      g_assert_cmpstr (decoded->file_type, ==, types[i]);
    }

  /* Timestamps: any positive one. */
  {
    g_autoptr (SottoPayload) payload = offer_payload ("a", 0, "");

    payload->timestamp = 1;
    g_bytes_unref (assert_file_round_trip (payload));
    payload->timestamp = G_MAXINT64;
    g_bytes_unref (assert_file_round_trip (payload));
  }

  /* The largest offer: every field at its longest. */
  {
    g_autoptr (SottoPayload) payload = offer_payload (longest_emoji, SOTTO_FILE_SIZE_MAX,
                                                      longest_type);
    g_autoptr (GBytes) bytes = assert_file_round_trip (payload);

    g_assert_cmpuint (g_bytes_get_size (bytes), ==, 1 + 5488);
  }

  /* Decoded from GVariant's own bytes as well. */
  {
    OfferFields f = example_offer;
    g_autoptr (GBytes) bytes = NULL;
    g_autoptr (SottoPayload) decoded = NULL;

    f.size = 0;
    f.head_len = 0;
    f.type = "";
    bytes = wire (SOTTO_PAYLOAD_FILE_OFFER, offer_variant (&f));
    decoded = decode_ok (bytes);
    g_assert_cmpuint (decoded->file_size, ==, 0);
    g_assert_cmpuint (decoded->file_head_len, ==, 0);
    g_assert_cmpstr (decoded->file_type, ==, "");
  }
}

static void
test_file_accept_limits (void)
{
  const guint64 offsets[] = { 0, 1, 3, SOTTO_FILE_WINDOW, SOTTO_FILE_SIZE_MAX - 1,
                              SOTTO_FILE_SIZE_MAX };

  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    {
      g_autoptr (SottoPayload) payload = accept_payload (offsets[i]);
      g_autoptr (GBytes) bytes = assert_file_round_trip (payload);

      g_assert_cmpuint (g_bytes_get_size (bytes), ==, 26);
    }
}

/* PROTOCOL.md (and the contract): an offset is checked against its
 * transfer, not on the wire, so one past every possible file is still a
 * well-formed FILE_ACCEPT or FILE_CHUNK; the receiver's checks refuse it. */
/* No byte of a file lies at or past 2^53: an ACCEPT offset above it, or a
 * chunk that would reach past it, is malformed on the wire alone. */
static void
test_file_offset_limit (void)
{
  const guint64 past[] = { SOTTO_FILE_SIZE_MAX + 1, G_MAXUINT64 - SOTTO_FILE_CHUNK_MAX,
                           G_MAXUINT64 };
  g_autoptr (SottoPayload) at_limit = accept_payload (SOTTO_FILE_SIZE_MAX);
  g_autoptr (SottoPayload) straddling = chunk_payload (SOTTO_FILE_SIZE_MAX - 1, 2);

  /* The end of the largest file is where an ACCEPT may point. */
  g_bytes_unref (assert_file_round_trip (at_limit));

  assert_file_encode_refused (straddling);
  assert_file_malformed_take (wire (SOTTO_PAYLOAD_FILE_CHUNK,
                                    chunk_variant (SOTTO_FILE_ID_LEN, SOTTO_FILE_SIZE_MAX - 1, 2)));
  for (guint i = 0; i < G_N_ELEMENTS (past); i++)
    {
      g_autoptr (SottoPayload) accept = accept_payload (past[i]);
      g_autoptr (SottoPayload) chunk = chunk_payload (past[i], 1);

      assert_file_encode_refused (accept);
      assert_file_encode_refused (chunk);
      assert_file_malformed_take (wire (SOTTO_PAYLOAD_FILE_ACCEPT,
                                        accept_variant (SOTTO_FILE_ID_LEN, past[i])));
      assert_file_malformed_take (wire (SOTTO_PAYLOAD_FILE_CHUNK,
                                        chunk_variant (SOTTO_FILE_ID_LEN, past[i], 1)));
      assert_file_malformed_take (wire (SOTTO_PAYLOAD_FILE_CHUNK,
                                        chunk_variant (SOTTO_FILE_ID_LEN, past[i],
                                                       SOTTO_FILE_CHUNK_MAX)));
    }
}

static void
test_file_chunk_limits (void)
{
  const gsize lengths[] = { 1, 2, 229, 230, 231, 4096, SOTTO_FILE_CHUNK_MAX - 1,
                            SOTTO_FILE_CHUNK_MAX };

  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    for (guint j = 0; j < 3; j++)
      {
        /* From the start, from a resume point, and ending at the end of
         * the largest file. */
        const guint64 offset = j == 0 ? 0 : j == 1 ? 3 : SOTTO_FILE_SIZE_MAX - lengths[i];
        g_autoptr (SottoPayload) payload = chunk_payload (offset, lengths[i]);
        g_autoptr (GBytes) bytes = assert_file_round_trip (payload);
        g_autoptr (GError) error = NULL;
        g_autoptr (SottoPayload) taken = NULL;
        gsize len;
        guint8 *block;

        /* kind, id, offset, data, one framing offset of 1 or 2 bytes */
        g_assert_cmpuint (g_bytes_get_size (bytes), ==,
                          1 + 16 + 8 + lengths[i] + (lengths[i] <= 230 ? 1 : 2));

        block = g_bytes_unref_to_data (g_bytes_ref (bytes), &len);
        taken = sotto_payload_decode_take (block, len, &error);
        g_assert_no_error (error);
        assert_file_fields_equal (payload, taken);
        if (taken->body_storage != NULL)
          {
            g_assert_true (taken->body_storage == (gpointer) block);
            g_assert_true (taken->chunk > block && taken->chunk + taken->chunk_len <= block + len);
          }
      }

  g_assert_cmpint (1 + 16 + 8 + SOTTO_FILE_CHUNK_MAX + 2, ==, 61467);
}

/* Reasons 1 … 7 and results 1 … 2, every other byte malformed. */
static void
test_file_end_values (void)
{
  const struct {
    guint8 kind;
    guint8 last;
  } kinds[] = {
    { SOTTO_PAYLOAD_FILE_CANCEL, SOTTO_FILE_CANCEL_LAST },
    { SOTTO_PAYLOAD_FILE_DONE, SOTTO_FILE_DONE_INFECTED },
  };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    for (guint value = 0; value <= 255; value++)
      {
        g_autoptr (SottoPayload) payload = end_payload (kinds[k].kind, value);
        g_autoptr (GBytes) bytes = wire (kinds[k].kind, end_variant (16, 16, value));

        if (value >= 1 && value <= kinds[k].last)
          {
            g_autoptr (GBytes) encoded = assert_file_round_trip (payload);
            g_autoptr (SottoPayload) decoded = decode_ok (bytes);

            g_assert_true (g_bytes_equal (encoded, bytes));
            g_assert_cmpuint (decoded->file_reason, ==, value);
          }
        else
          {
            assert_file_malformed (bytes);
            assert_file_encode_refused (payload);
          }
      }
}

/* --- files: one past each limit --------------------------------------- */

static void
test_file_id_length (void)
{
  const gsize bad[] = { 0, 1, 15, 17, 32 };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      OfferFields f = example_offer;

      f.id_len = bad[i];
      assert_file_malformed_take (wire (SOTTO_PAYLOAD_FILE_OFFER, offer_variant (&f)));
      assert_file_malformed_take (wire (SOTTO_PAYLOAD_FILE_ACCEPT, accept_variant (bad[i], 0)));
      assert_file_malformed_take (wire (SOTTO_PAYLOAD_FILE_CHUNK, chunk_variant (bad[i], 0, 5)));
      for (guint8 kind = SOTTO_PAYLOAD_FILE_CANCEL; kind <= SOTTO_PAYLOAD_FILE_DONE; kind += 2)
        {
          /* The message id, then the transfer id. */
          assert_file_malformed_take (wire (kind, end_variant (bad[i], 16, 1)));
          assert_file_malformed_take (wire (kind, end_variant (16, bad[i], 1)));
        }
    }

  /* And 16 is right everywhere. */
  {
    g_autoptr (GBytes) offer = wire (SOTTO_PAYLOAD_FILE_OFFER, offer_variant (&example_offer));
    g_autoptr (GBytes) accept = wire (SOTTO_PAYLOAD_FILE_ACCEPT, accept_variant (16, 0));
    g_autoptr (GBytes) chunk = wire (SOTTO_PAYLOAD_FILE_CHUNK, chunk_variant (16, 0, 5));
    g_autoptr (GBytes) cancel = wire (SOTTO_PAYLOAD_FILE_CANCEL, end_variant (16, 16, 1));
    g_autoptr (GBytes) done = wire (SOTTO_PAYLOAD_FILE_DONE, end_variant (16, 16, 1));
    GBytes *all[] = { offer, accept, chunk, cancel, done };

    for (guint i = 0; i < G_N_ELEMENTS (all); i++)
      g_assert_true (assert_paths_agree (g_bytes_get_data (all[i], NULL),
                                         g_bytes_get_size (all[i])));
  }
}

static void
test_file_offer_malformed (void)
{
  g_autofree char *name_over = dup_repeated ("x", SOTTO_FILE_OFFER_NAME_MAX + 1);
  g_autofree char *emoji = dup_repeated ("😀", SOTTO_FILE_OFFER_NAME_MAX / 4);
  g_autofree char *name_over_multibyte = g_strconcat (emoji, "a", NULL);
  g_autofree char *type_over = dup_repeated ("a", SOTTO_FILE_TYPE_MAX + 1);
  const OfferFields e = example_offer;
  const OfferFields cases[] = {
    { e.id_len, 0, e.name, e.size, e.hash_len, e.head_len, e.type },
    { e.id_len, -1, e.name, e.size, e.hash_len, e.head_len, e.type },
    { e.id_len, G_MININT64, e.name, e.size, e.hash_len, e.head_len, e.type },
    { e.id_len, e.timestamp, "", e.size, e.hash_len, e.head_len, e.type },
    { e.id_len, e.timestamp, name_over, e.size, e.hash_len, e.head_len, e.type },
    { e.id_len, e.timestamp, name_over_multibyte, e.size, e.hash_len, e.head_len, e.type },
    { e.id_len, e.timestamp, e.name, SOTTO_FILE_SIZE_MAX + 1, e.hash_len, 4096, e.type },
    { e.id_len, e.timestamp, e.name, G_MAXUINT64, e.hash_len, 4096, e.type },
    { e.id_len, e.timestamp, e.name, e.size, 0, e.head_len, e.type },
    { e.id_len, e.timestamp, e.name, e.size, 63, e.head_len, e.type },
    { e.id_len, e.timestamp, e.name, e.size, 65, e.head_len, e.type },
    { e.id_len, e.timestamp, e.name, e.size, 32, e.head_len, e.type },
    /* The head is exactly min (size, 4096) bytes. */
    { e.id_len, e.timestamp, e.name, 5, e.hash_len, 4, e.type },
    { e.id_len, e.timestamp, e.name, 5, e.hash_len, 6, e.type },
    { e.id_len, e.timestamp, e.name, 0, e.hash_len, 1, e.type },
    { e.id_len, e.timestamp, e.name, 1, e.hash_len, 0, e.type },
    { e.id_len, e.timestamp, e.name, 4095, e.hash_len, 4094, e.type },
    { e.id_len, e.timestamp, e.name, 4096, e.hash_len, 4095, e.type },
    { e.id_len, e.timestamp, e.name, 4096, e.hash_len, 4097, e.type },
    { e.id_len, e.timestamp, e.name, 4097, e.hash_len, 4095, e.type },
    { e.id_len, e.timestamp, e.name, 4097, e.hash_len, 4097, e.type },
    { e.id_len, e.timestamp, e.name, SOTTO_FILE_SIZE_MAX, e.hash_len, 4095, e.type },
    { e.id_len, e.timestamp, e.name, SOTTO_FILE_SIZE_MAX, e.hash_len, 0, e.type },
    /* The declared type: at most 255 bytes of printable ASCII. */
    { e.id_len, e.timestamp, e.name, e.size, e.hash_len, e.head_len, type_over },
    { e.id_len, e.timestamp, e.name, e.size, e.hash_len, e.head_len, "text/plain\x1f" },
    { e.id_len, e.timestamp, e.name, e.size, e.hash_len, e.head_len, "\x7f" },
    { e.id_len, e.timestamp, e.name, e.size, e.hash_len, e.head_len, "text/plain\n" },
    { e.id_len, e.timestamp, e.name, e.size, e.hash_len, e.head_len, "\t" },
    { e.id_len, e.timestamp, e.name, e.size, e.hash_len, e.head_len, "image/caf\xc3\xa9" },
    { e.id_len, e.timestamp, e.name, e.size, e.hash_len, e.head_len, "\xc2\x80" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    assert_file_malformed_take (wire (SOTTO_PAYLOAD_FILE_OFFER, offer_variant (&cases[i])));

  /* The encoder refuses the same values (ids and the hash have a fixed
   * length in a SottoPayload). */
  {
    g_autoptr (SottoPayload) payload = offer_payload ("a", 5, "");

    payload->timestamp = 0;
    assert_file_encode_refused (payload);
    payload->timestamp = -1;
    assert_file_encode_refused (payload);
    payload->timestamp = G_MININT64;
    assert_file_encode_refused (payload);
  }
  {
    const char *names[] = { "", name_over, name_over_multibyte, "bad \xff utf-8", "\xed\xa0\x80",
                            NULL };

    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autoptr (SottoPayload) payload = offer_payload ("a", 5, "");

        g_free (payload->file_name);
        payload->file_name = g_strdup (names[i]);
        assert_file_encode_refused (payload);
      }
  }
  {
    g_autoptr (SottoPayload) over = offer_payload ("a", SOTTO_FILE_SIZE_MAX + 1, "");
    g_autoptr (SottoPayload) largest = offer_payload ("a", G_MAXUINT64, "");

    assert_file_encode_refused (over);
    assert_file_encode_refused (largest);
  }
  {
    const struct {
      guint64 size;
      gsize head_len;
    } heads[] = {
      { 5, 4 }, { 5, 6 }, { 0, 1 }, { 1, 0 }, { 4096, 4095 }, { 4097, 4095 }, { 4097, 4097 },
      { SOTTO_FILE_SIZE_MAX, 4095 },
    };

    for (guint i = 0; i < G_N_ELEMENTS (heads); i++)
      {
        g_autoptr (SottoPayload) payload = offer_payload ("a", heads[i].size, "");

        g_free (payload->file_head);
        payload->file_head = pattern (heads[i].head_len, 0x25);
        payload->file_head_len = heads[i].head_len;
        assert_file_encode_refused (payload);
      }
  }
  {
    /* No head where there must be one. */
    g_autoptr (SottoPayload) payload = offer_payload ("a", 5, "");

    g_clear_pointer (&payload->file_head, g_free);
    assert_file_encode_refused (payload);
  }
  {
    const char *types[] = { type_over, "text/plain\x1f", "\x7f", "a\x80", "\xff", "caf\xc3\xa9",
                            "\n" };

    for (guint i = 0; i < G_N_ELEMENTS (types); i++)
      {
        g_autoptr (SottoPayload) payload = offer_payload ("a", 5, types[i]);

        assert_file_encode_refused (payload);
      }
  }
}

/* Where the declared type starts in an offer's plaintext: kind, id,
 * timestamp, name and NUL, padding to 8, size, hash, head. */
static gsize
offer_type_at (const char *name,
               gsize       head_len)
{
  return 1 + (16 + 8 + strlen (name) + 1 + 7) / 8 * 8 + 8 + 64 + head_len;
}

/* A one-byte declared type: only 0x20 … 0x7E. Bytes from 0x80 on are
 * not even UTF-8 alone, so those offers are written by hand. */
static void
test_file_offer_type_bytes (void)
{
  guint accepted = 0;

  g_assert_cmpuint (offer_type_at ("report.pdf", 5), ==, 1 + 117);

  for (guint value = 1; value <= 255; value++)
    {
      gboolean valid = value >= 0x20 && value <= 0x7e;
      char type[2] = { 'a', '\0' };
      OfferFields f = example_offer;
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (SottoPayload) payload = NULL;

      f.type = type;
      if (value < 0x80)
        {
          type[0] = (char) value;
          bytes = wire (SOTTO_PAYLOAD_FILE_OFFER, offer_variant (&f));
        }
      else
        {
          gsize len;
          guint8 *data = g_bytes_unref_to_data (wire (SOTTO_PAYLOAD_FILE_OFFER,
                                                      offer_variant (&f)), &len);

          g_assert_cmpuint (data[offer_type_at (f.name, f.head_len)], ==, 'a');
          data[offer_type_at (f.name, f.head_len)] = (guint8) value;
          bytes = g_bytes_new_take (data, len);
          type[0] = (char) value;
        }

      payload = offer_payload (f.name, f.size, type);

      if (valid)
        {
          g_autoptr (SottoPayload) decoded = decode_ok (bytes);
          g_autoptr (GBytes) encoded = assert_file_round_trip (payload);

          g_assert_cmpstr (decoded->file_type, ==, type);
          g_assert_true (g_bytes_equal (encoded, bytes));
          accepted++;
        }
      else
        {
          assert_file_malformed (bytes);
          assert_file_encode_refused (payload);
        }
    }

  g_assert_cmpuint (accepted, ==, 0x7f - 0x20);
}

static void
test_file_chunk_malformed (void)
{
  g_autoptr (SottoPayload) empty = chunk_payload (0, 0);
  g_autoptr (SottoPayload) over = chunk_payload (0, SOTTO_FILE_CHUNK_MAX + 1);
  g_autoptr (SottoPayload) no_data = chunk_payload (0, 5);

  assert_file_malformed_take (wire (SOTTO_PAYLOAD_FILE_CHUNK, chunk_variant (16, 0, 0)));
  assert_file_malformed_take (wire (SOTTO_PAYLOAD_FILE_CHUNK,
                                    chunk_variant (16, 0, SOTTO_FILE_CHUNK_MAX + 1)));
  assert_file_malformed_take (wire (SOTTO_PAYLOAD_FILE_CHUNK,
                                    chunk_variant (16, 12345, SOTTO_FILE_CHUNK_MAX + 1)));
  assert_file_malformed_take (wire (SOTTO_PAYLOAD_FILE_CHUNK, chunk_variant (16, 0, 65000)));

  assert_file_encode_refused (empty);
  assert_file_encode_refused (over);
  g_free ((gpointer) no_data->chunk);
  no_data->chunk = NULL;
  assert_file_encode_refused (no_data);
}

/* Trailing bytes, non-zero padding, offsets of the wrong size or order:
 * not the normal form. */
static void
test_file_non_normal (void)
{
  const char *cases[] = {
    /* a byte after each valid value */
    FILE_OFFER_HEX "00",
    FILE_ACCEPT_HEX "00",
    FILE_CHUNK_HEX "00",
    FILE_CANCEL_HEX "00",
    FILE_DONE_HEX "00",
    /* the offer's padding between the name's NUL and the size */
    "08" "000102030405060708090a0b0c0d0e0f" "00401e18240a0600" "7265706f72742e70646600"
    "0000000001" "0500000000000000" FILE_HASH_HEX "255044462d"
    "6170706c69636174696f6e2f70646600" "75702310",
    "08" "000102030405060708090a0b0c0d0e0f" "00401e18240a0600" "7265706f72742e70646600"
    "2000000000" "0500000000000000" FILE_HASH_HEX "255044462d"
    "6170706c69636174696f6e2f70646600" "75702310",
    /* the offer's padding left out */
    "08" "000102030405060708090a0b0c0d0e0f" "00401e18240a0600" "7265706f72742e70646600"
    "0500000000000000" FILE_HASH_HEX "255044462d"
    "6170706c69636174696f6e2f70646600" "70" "6b" "23" "10",
    /* the offer's offsets in 2 bytes where 1 suffices */
    "08" "000102030405060708090a0b0c0d0e0f" "00401e18240a0600" "7265706f72742e70646600"
    "0000000000" "0500000000000000" FILE_HASH_HEX "255044462d"
    "6170706c69636174696f6e2f70646600" "7500700023001000",
    /* the offer's offsets in member order instead of reverse */
    "08" "000102030405060708090a0b0c0d0e0f" "00401e18240a0600" "7265706f72742e70646600"
    "0000000000" "0500000000000000" FILE_HASH_HEX "255044462d"
    "6170706c69636174696f6e2f70646600" "10237075",
    /* the declared type without its NUL */
    "08" "000102030405060708090a0b0c0d0e0f" "00401e18240a0600" "7265706f72742e70646600"
    "0000000000" "0500000000000000" FILE_HASH_HEX "255044462d"
    "6170706c69636174696f6e2f706466" "75702310",
    /* the accept's offset in 7 bytes, or 9 */
    "09" "000102030405060708090a0b0c0d0e0f" "00000000000000" "10",
    "09" "000102030405060708090a0b0c0d0e0f" "000000000000000000" "10",
    /* the accept without its framing offset */
    "09" "000102030405060708090a0b0c0d0e0f" "0000000000000000",
    /* the chunk's id offset pointing past the id */
    "0b" "000102030405060708090a0b0c0d0e0f" "0000000000000000" "255044462d" "11",
    /* cancel and done: offsets swapped, or 2 bytes each */
    "0a" "101112131415161718191a1b1c1d1e1f" "000102030405060708090a0b0c0d0e0f" "01" "1020",
    "0c" "202122232425262728292a2b2c2d2e2f" "000102030405060708090a0b0c0d0e0f" "01" "20001000",
    /* cancel: the reason missing */
    "0a" "101112131415161718191a1b1c1d1e1f" "000102030405060708090a0b0c0d0e0f" "2010",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) bytes = hex_bytes (cases[i]);

      assert_file_malformed (bytes);
    }

  /* A byte after these is not the normal form. (A chunk with a 00 after
   * it is: an empty id, an offset made of the id's first bytes, and the
   * rest as data. Its id is what is wrong.) */
  assert_decode_fails_take (hex_bytes (FILE_OFFER_HEX "00"), "in normal form");
  assert_decode_fails_take (hex_bytes (FILE_ACCEPT_HEX "00"), "in normal form");
  assert_decode_fails_take (hex_bytes (FILE_CANCEL_HEX "00"), "in normal form");
  assert_decode_fails_take (hex_bytes (FILE_DONE_HEX "00"), "in normal form");

  /* A kind byte alone. */
  for (guint8 kind = SOTTO_PAYLOAD_FILE_OFFER; kind <= SOTTO_PAYLOAD_FILE_DONE; kind++)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (&kind, 1);

      assert_file_malformed (bytes);
    }
}

/* Where the framing offsets grow from 1 to 2 bytes, as PROTOCOL.md says. */
static void
test_file_offset_size (void)
{
  /* A 1-byte name, no type, a size (and head) of 146 bytes: a 255-byte
   * tuple with 1-byte offsets; 147 bytes: 252 + 8 = 260 bytes. */
  {
    g_autoptr (SottoPayload) payload = offer_payload ("a", 146, "");
    g_autoptr (GBytes) bytes = assert_file_round_trip (payload);
    const guint8 *data;
    gsize size;

    data = g_bytes_get_data (bytes, &size);
    g_assert_cmpuint (size, ==, 1 + 255);
    /* head, hash, name, id */
    g_assert_cmpmem (data + size - 4, 4, "\xfa\x68\x1a\x10", 4);
  }
  {
    g_autoptr (SottoPayload) payload = offer_payload ("a", 147, "");
    g_autoptr (GBytes) bytes = assert_file_round_trip (payload);
    const guint8 *data;
    gsize size;

    data = g_bytes_get_data (bytes, &size);
    g_assert_cmpuint (size, ==, 1 + 260);
    g_assert_cmpmem (data + size - 8, 8, "\xfb\x00\x68\x00\x1a\x00\x10\x00", 8);
  }

  /* Names of every length mod 8 move the padding; sizes around the
   * change: the encoder agrees with GVariant on each. */
  for (gsize name_len = 1; name_len <= 17; name_len++)
    for (guint64 size = 130; size <= 160; size++)
      {
        g_autofree char *name = dup_repeated ("n", name_len);
        g_autoptr (SottoPayload) payload = offer_payload (name, size, "");
        g_autoptr (GBytes) bytes = assert_file_round_trip (payload);
        gsize a = (25 + name_len + 7) / 8 * 8;
        gsize u = a + 73 + size;

        g_assert_cmpuint (g_bytes_get_size (bytes), ==, 1 + u + (u <= 251 ? 4 : 8));
      }

  /* A chunk: 230 bytes of data, 1-byte offset; 231, 2 bytes. */
  {
    g_autoptr (SottoPayload) payload = chunk_payload (0, 230);
    g_autoptr (GBytes) bytes = assert_file_round_trip (payload);
    const guint8 *data;
    gsize size;

    data = g_bytes_get_data (bytes, &size);
    g_assert_cmpuint (size, ==, 1 + 255);
    g_assert_cmphex (data[size - 1], ==, 0x10);
  }
  {
    g_autoptr (SottoPayload) payload = chunk_payload (0, 231);
    g_autoptr (GBytes) bytes = assert_file_round_trip (payload);
    const guint8 *data;
    gsize size;

    data = g_bytes_get_data (bytes, &size);
    g_assert_cmpuint (size, ==, 1 + 257);
    g_assert_cmpmem (data + size - 2, 2, "\x10\x00", 2);
  }

  /* The others never change. */
  {
    g_autoptr (SottoPayload) accept = accept_payload (SOTTO_FILE_SIZE_MAX);
    g_autoptr (SottoPayload) cancel = end_payload (SOTTO_PAYLOAD_FILE_CANCEL, 7);
    g_autoptr (SottoPayload) done = end_payload (SOTTO_PAYLOAD_FILE_DONE, 2);
    g_autoptr (GBytes) accept_bytes = assert_file_round_trip (accept);
    g_autoptr (GBytes) cancel_bytes = assert_file_round_trip (cancel);
    g_autoptr (GBytes) done_bytes = assert_file_round_trip (done);

    g_assert_cmpuint (g_bytes_get_size (accept_bytes), ==, 26);
    g_assert_cmpuint (g_bytes_get_size (cancel_bytes), ==, 36);
    g_assert_cmpuint (g_bytes_get_size (done_bytes), ==, 36);
  }
}

/* 0x0D … 0x0F are reserved: unknown, whatever follows. */
static void
test_file_reserved_kinds (void)
{
  g_autofree guint8 *largest = g_malloc0 (SOTTO_PAYLOAD_MAX_LEN);
  /* Nothing, bytes, and the values of valid payloads of other kinds,
   * the file kinds' included. */
  const char *values[] = { "", "00", "01", "ff", TEXT_HEX + 2, FILE_OFFER_HEX + 2,
                           FILE_ACCEPT_HEX + 2, FILE_CANCEL_HEX + 2, FILE_CHUNK_HEX + 2,
                           FILE_DONE_HEX + 2 };

  for (guint kind = SOTTO_PAYLOAD_KIND_RESERVED_FIRST; kind <= SOTTO_PAYLOAD_KIND_RESERVED_LAST;
       kind++)
    {
      GPtrArray *cases = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

      for (guint i = 0; i < G_N_ELEMENTS (values); i++)
        {
          g_autofree char *hex = g_strdup_printf ("%02x%s", kind, values[i]);

          g_ptr_array_add (cases, hex_bytes (hex));
        }
      /* The largest plaintext. */
      largest[0] = (guint8) kind;
      g_ptr_array_add (cases, g_bytes_new (largest, SOTTO_PAYLOAD_MAX_LEN));

      for (guint i = 0; i < cases->len; i++)
        {
          GBytes *bytes = cases->pdata[i];
          g_autoptr (SottoPayload) payload = decode_ok (bytes);
          g_autoptr (GError) error = NULL;
          g_autoptr (GBytes) encoded = NULL;

          g_assert_cmphex (payload->kind, ==, kind);
          g_assert_false (payload->known);
          g_assert_null (payload->file_name);
          g_assert_null (payload->file_head);
          g_assert_null (payload->file_type);
          g_assert_null (payload->chunk);
          g_assert_cmpuint (payload->chunk_len, ==, 0);
          g_assert_true (assert_paths_agree (g_bytes_get_data (bytes, NULL),
                                             g_bytes_get_size (bytes)));

          /* What we cannot check, we cannot send. */
          encoded = sotto_payload_encode (payload, &error);
          g_assert_null (encoded);
          g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
        }

      g_assert_cmpstr (sotto_payload_kind_to_string (kind), ==, "reserved");
      g_ptr_array_unref (cases);
    }

  /* The file kinds are neither reserved nor unknown any more, and each
   * has a name of its own. */
  for (guint kind = SOTTO_PAYLOAD_FILE_OFFER; kind <= SOTTO_PAYLOAD_FILE_DONE; kind++)
    {
      const char *name = sotto_payload_kind_to_string (kind);
      g_autoptr (SottoPayload) payload = sotto_payload_new (kind);

      g_assert_true (payload->known);
      g_assert_cmpstr (name, !=, "reserved");
      g_assert_cmpstr (name, !=, "unknown");
      for (guint other = SOTTO_PAYLOAD_TEXT; other < kind; other++)
        g_assert_cmpstr (name, !=, sotto_payload_kind_to_string (other));
    }
}

/* Every single-byte change and every truncation of the file examples
 * (and of larger values, with 2-byte offsets): every decoding path gives
 * the reference's verdict, reason and fields. */
static void
test_file_mutations (void)
{
  static const guint8 values[] = { 0x00, 0x01, 0x03, 0x05, 0x07, 0x08, 0x10, 0x11, 0x1f, 0x20,
                                   0x7e, 0x7f, 0x80, 0xc3, 0xff };
  const char *examples[] = {
    FILE_OFFER_HEX, FILE_ACCEPT_HEX, FILE_ACCEPT_RESUME_HEX, FILE_CHUNK_HEX,
    FILE_CHUNK_RESUME_HEX, FILE_CANCEL_HEX, FILE_DONE_HEX,
  };
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  guint accepted = 0;

  for (guint i = 0; i < G_N_ELEMENTS (examples); i++)
    g_ptr_array_add (all, hex_bytes (examples[i]));
  {
    g_autoptr (SottoPayload) offer = offer_payload ("a", 147, "");
    g_autoptr (SottoPayload) chunk = chunk_payload (1, 231);
    g_autoptr (SottoPayload) empty = offer_payload ("é", 0, "x");

    g_ptr_array_add (all, sotto_payload_encode (offer, NULL));
    g_ptr_array_add (all, sotto_payload_encode (chunk, NULL));
    g_ptr_array_add (all, sotto_payload_encode (empty, NULL));
  }

  for (guint e = 0; e < all->len; e++)
    {
      gsize len;
      g_autofree guint8 *data = NULL;

      g_assert_nonnull (all->pdata[e]);
      data = g_bytes_unref_to_data (g_bytes_ref (all->pdata[e]), &len);
      g_assert_true (assert_paths_agree (data, len));

      for (gsize at = 0; at < len; at++)
        {
          guint8 saved = data[at];

          for (guint v = 0; v < G_N_ELEMENTS (values); v++)
            {
              if (values[v] == saved)
                continue;
              data[at] = values[v];
              accepted += assert_paths_agree (data, len);
            }
          data[at] = saved;
          assert_paths_agree (data, at);
        }
    }

  /* Some changes keep it valid (another id, offset, letter…). */
  g_assert_cmpuint (accepted, >, 0);
}

static void
test_constants (void)
{
  g_assert_cmpuint (strlen (SOTTO_PROTOCOL_PROLOGUE), ==, 7);
  g_assert_cmpstr (SOTTO_PROTOCOL_PROLOGUE, ==, "Sotto/1");
  g_assert_cmpstr (SOTTO_PROTOCOL_NAME, ==, "Noise_XX_25519_ChaChaPoly_BLAKE2b");
  g_assert_cmpint (SOTTO_PROTOCOL_VERSION, ==, 3);
  g_assert_cmpint (SOTTO_HELLO_INTRO_MAX_BYTES, ==, 1024);
  g_assert_cmpint (SOTTO_HELLO_INTRO_MAX_CHARS, ==, 280);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/payload/constants", test_constants);
  g_test_add_func ("/payload/known-answer/text", test_known_answer_text);
  g_test_add_func ("/payload/known-answer/receipt", test_known_answer_receipt);
  g_test_add_func ("/payload/known-answer/small-kinds", test_known_answer_small);
  g_test_add_func ("/payload/known-answer/hello", test_known_answer_hello);
  g_test_add_func ("/payload/round-trip", test_round_trip);
  g_test_add_func ("/payload/text/id-length", test_text_id_length);
  g_test_add_func ("/payload/text/body-limits", test_text_body_limits);
  g_test_add_func ("/payload/text/timestamp", test_text_timestamp);
  g_test_add_func ("/payload/receipt/limits", test_receipt_limits);
  g_test_add_func ("/payload/receipt/id-length", test_receipt_id_length);
  g_test_add_func ("/payload/receipt/state", test_receipt_state);
  g_test_add_func ("/payload/byte-values", test_byte_values);
  g_test_add_func ("/payload/typing", test_typing);
  g_test_add_func ("/payload/fixed-size", test_fixed_size);
  g_test_add_func ("/payload/non-normal", test_non_normal);
  g_test_add_func ("/payload/unknown-kind", test_unknown_kind);
  g_test_add_func ("/payload/sizes", test_sizes);
  g_test_add_func ("/payload/offset-size", test_offset_size);
  g_test_add_func ("/payload/encode-unknown", test_encode_unknown);
  g_test_add_func ("/payload/hello/round-trip", test_hello_round_trip);
  g_test_add_func ("/payload/hello/non-normal", test_non_normal_hello);
  g_test_add_func ("/payload/hello/intro-limits", test_hello_intro_limits);
  g_test_add_func ("/payload/hello/display-name", test_hello_display_name);
  g_test_add_func ("/payload/hello/fields", test_hello_fields);
  g_test_add_func ("/payload/hello/sizes", test_hello_sizes);
  g_test_add_func ("/payload/hello/check-empty", test_hello_check_empty);
  g_test_add_func ("/payload/text/fast-encode", test_fast_encode);
  g_test_add_func ("/payload/text/fast-encode-refuses", test_fast_encode_refuses);
  g_test_add_func ("/payload/text/fast-decode-mutations", test_fast_decode_mutations);
  g_test_add_func ("/payload/text/fast-decode-offset-size", test_fast_decode_offset_size);
  g_test_add_func ("/payload/hello/fast-encode", test_hello_fast_encode);
  g_test_add_func ("/payload/hello/fast-encode-refuses", test_hello_fast_encode_refuses);
  g_test_add_func ("/payload/hello/fast-decode-mutations", test_hello_fast_decode_mutations);
  g_test_add_func ("/payload/hello/fast-decode-offset-size", test_hello_fast_decode_offset_size);
  g_test_add_func ("/payload/file/constants", test_file_constants);
  g_test_add_func ("/payload/file/hello/known-answer", test_file_hello_known_answer);
  g_test_add_func ("/payload/file/offer/known-answer", test_file_offer_known_answer);
  g_test_add_func ("/payload/file/accept/known-answer", test_file_accept_known_answer);
  g_test_add_func ("/payload/file/chunk/known-answer", test_file_chunk_known_answer);
  g_test_add_func ("/payload/file/cancel-done/known-answer", test_file_end_known_answer);
  g_test_add_func ("/payload/file/offer/limits", test_file_offer_limits);
  g_test_add_func ("/payload/file/accept/limits", test_file_accept_limits);
  g_test_add_func ("/payload/file/chunk/limits", test_file_chunk_limits);
  g_test_add_func ("/payload/file/offset-limit", test_file_offset_limit);
  g_test_add_func ("/payload/file/cancel-done/values", test_file_end_values);
  g_test_add_func ("/payload/file/id-length", test_file_id_length);
  g_test_add_func ("/payload/file/offer/malformed", test_file_offer_malformed);
  g_test_add_func ("/payload/file/offer/type-bytes", test_file_offer_type_bytes);
  g_test_add_func ("/payload/file/chunk/malformed", test_file_chunk_malformed);
  g_test_add_func ("/payload/file/non-normal", test_file_non_normal);
  g_test_add_func ("/payload/file/offset-size", test_file_offset_size);
  g_test_add_func ("/payload/file/reserved-kinds", test_file_reserved_kinds);
  g_test_add_func ("/payload/file/mutations", test_file_mutations);

  return g_test_run ();
}
