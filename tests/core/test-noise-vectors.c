/* test-noise-vectors.c — SottoNoise against cacophony's test vectors
 *
 * Usage: test-noise-vectors FILE.json
 *
 * Runs every vector of the file whose functions SottoNoise implements
 * (25519, ChaChaPoly, BLAKE2b); the others are counted as skipped. Both
 * sides are driven: each handshake message is written by one side, checked
 * byte for byte against the vector and read by the other, whose payload is
 * checked too. Then the handshake hash, and the transport messages: after
 * the handshake, cacophony goes on alternating directions by message index
 * (even: initiator to responder), except in one-way patterns, where every
 * message goes from the initiator to the responder.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <json-glib/json-glib.h>

#include "sotto-noise.h"

typedef enum
{
  RESULT_PASSED,
  RESULT_FAILED,
  RESULT_SKIPPED,
} Result;

/* Returns NULL when the member is absent; sets *bad when it is not hex. */
static GBytes *
get_hex (JsonObject  *o,
         const char  *member,
         gboolean    *bad)
{
  const char *hex;
  gsize hex_len;
  g_autofree guint8 *bin = NULL;
  size_t bin_len = 0;

  if (!json_object_has_member (o, member))
    return NULL;

  hex = json_object_get_string_member (o, member);
  if (hex == NULL)
    {
      *bad = TRUE;
      return NULL;
    }
  hex_len = strlen (hex);
  bin = g_malloc (hex_len / 2 + 1);
  if (sodium_hex2bin (bin, hex_len / 2 + 1, hex, hex_len, NULL, &bin_len, NULL) != 0 ||
      bin_len * 2 != hex_len)
    {
      *bad = TRUE;
      return NULL;
    }
  return g_bytes_new (bin, bin_len);
}

static gboolean
same_bytes (GBytes       *expected,
            const guint8 *data,
            gsize         len)
{
  return g_bytes_get_size (expected) == len &&
         (len == 0 || memcmp (g_bytes_get_data (expected, NULL), data, len) == 0);
}

/* Sets the keys of one side ("init" or "resp") from the vector. */
static gboolean
set_keys (SottoNoiseHandshake  *hs,
          JsonObject           *v,
          const char           *side,
          GString              *why)
{
  static const char *keys[] = { "static", "ephemeral", "remote_static" };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autofree char *member = g_strdup_printf ("%s_%s", side, keys[i]);
      gboolean bad = FALSE;
      g_autoptr (GBytes) key = get_hex (v, member, &bad);

      if (bad || (key != NULL && g_bytes_get_size (key) != 32))
        {
          g_string_printf (why, "bad %s", member);
          return FALSE;
        }
      if (key == NULL)
        continue;
      if (i == 0)
        sotto_noise_handshake_set_static_key (hs, g_bytes_get_data (key, NULL));
      else if (i == 1)
        sotto_noise_handshake_set_ephemeral_key (hs, g_bytes_get_data (key, NULL));
      else
        sotto_noise_handshake_set_remote_static_key (hs, g_bytes_get_data (key, NULL));
    }

  {
    g_autofree char *member = g_strdup_printf ("%s_psks", side);
    JsonArray *psks;

    if (!json_object_has_member (v, member))
      return TRUE;
    psks = json_object_get_array_member (v, member);
    for (guint i = 0; psks != NULL && i < json_array_get_length (psks); i++)
      {
        const char *hex = json_array_get_string_element (psks, i);
        guint8 psk[32];
        size_t len = 0;

        if (hex == NULL || strlen (hex) != 64 ||
            sodium_hex2bin (psk, sizeof psk, hex, 64, NULL, &len, NULL) != 0 || len != 32)
          {
            g_string_printf (why, "bad %s[%u]", member, i);
            return FALSE;
          }
        sotto_noise_handshake_add_psk (hs, psk);
      }
  }

  return TRUE;
}

static SottoNoiseHandshake *
new_side (JsonObject *v,
          const char *name,
          gboolean    initiator,
          GString    *why)
{
  const char *side = initiator ? "init" : "resp";
  g_autofree char *prologue_member = g_strdup_printf ("%s_prologue", side);
  gboolean bad = FALSE;
  g_autoptr (GBytes) prologue = get_hex (v, prologue_member, &bad);
  g_autoptr (SottoNoiseHandshake) hs = NULL;
  g_autoptr (GError) error = NULL;

  if (bad)
    {
      g_string_printf (why, "bad %s", prologue_member);
      return NULL;
    }

  hs = sotto_noise_handshake_new (name, initiator,
                                  prologue ? g_bytes_get_data (prologue, NULL) : NULL,
                                  prologue ? g_bytes_get_size (prologue) : 0,
                                  &error);
  if (hs == NULL)
    {
      g_string_printf (why, "%s: new: %s", side, error->message);
      return NULL;
    }
  if (!set_keys (hs, v, side, why))
    return NULL;
  if (!sotto_noise_handshake_start (hs, &error))
    {
      g_string_printf (why, "%s: start: %s", side, error->message);
      return NULL;
    }

  return g_steal_pointer (&hs);
}

/* The peer's public static key, from its secret in the vector. */
static gboolean
check_remote_static (SottoNoiseHandshake *hs,
                     JsonObject          *v,
                     const char          *peer,
                     GString             *why)
{
  g_autofree char *member = g_strdup_printf ("%s_static", peer);
  gboolean bad = FALSE;
  g_autoptr (GBytes) secret = get_hex (v, member, &bad);
  const guint8 *rs = sotto_noise_handshake_get_remote_static_key (hs);
  guint8 pub[32];

  if (secret == NULL)
    {
      if (rs != NULL)
        {
          g_string_printf (why, "a remote static key appeared from nowhere");
          return FALSE;
        }
      return TRUE;
    }

  crypto_scalarmult_base (pub, g_bytes_get_data (secret, NULL));
  if (rs == NULL || memcmp (rs, pub, 32) != 0)
    {
      g_string_printf (why, "the remote static key learned is not %s's", peer);
      return FALSE;
    }
  return TRUE;
}

static Result
run_vector (JsonObject *v,
            GString    *why)
{
  const char *name = json_object_get_string_member (v, "protocol_name");
  g_auto (GStrv) parts = NULL;
  g_autoptr (SottoNoiseHandshake) init = NULL;
  g_autoptr (SottoNoiseHandshake) resp = NULL;
  g_autoptr (SottoNoiseCipher) init_send = NULL;
  g_autoptr (SottoNoiseCipher) init_recv = NULL;
  g_autoptr (SottoNoiseCipher) resp_send = NULL;
  g_autoptr (SottoNoiseCipher) resp_recv = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) expected_hash = NULL;
  JsonArray *messages;
  gboolean bad = FALSE;
  gboolean one_way;
  guint8 init_hash[SOTTO_NOISE_HASH_LEN];
  guint8 resp_hash[SOTTO_NOISE_HASH_LEN];
  guint i = 0;

  if (name == NULL)
    {
      g_string_printf (why, "no protocol_name");
      return RESULT_FAILED;
    }

  parts = g_strsplit (name, "_", -1);
  if (g_strv_length (parts) == 5 &&
      (strcmp (parts[2], "25519") != 0 || strcmp (parts[3], "ChaChaPoly") != 0 ||
       strcmp (parts[4], "BLAKE2b") != 0))
    return RESULT_SKIPPED;

  messages = json_object_get_array_member (v, "messages");
  expected_hash = get_hex (v, "handshake_hash", &bad);
  if (messages == NULL || bad)
    {
      g_string_printf (why, "malformed vector");
      return RESULT_FAILED;
    }

  init = new_side (v, name, TRUE, why);
  if (init == NULL)
    return RESULT_FAILED;
  resp = new_side (v, name, FALSE, why);
  if (resp == NULL)
    return RESULT_FAILED;

  /* The handshake: whoever's turn it is writes, the other reads. */
  while (sotto_noise_handshake_get_action (init) != SOTTO_NOISE_ACTION_SPLIT ||
         sotto_noise_handshake_get_action (resp) != SOTTO_NOISE_ACTION_SPLIT)
    {
      JsonObject *m;
      SottoNoiseHandshake *writer;
      SottoNoiseHandshake *reader;
      g_autoptr (GBytes) payload = NULL;
      g_autoptr (GBytes) ciphertext = NULL;
      g_autoptr (GByteArray) wire = g_byte_array_new ();
      g_autoptr (GByteArray) read = g_byte_array_new ();

      if (sotto_noise_handshake_get_action (init) == SOTTO_NOISE_ACTION_WRITE_MESSAGE &&
          sotto_noise_handshake_get_action (resp) == SOTTO_NOISE_ACTION_READ_MESSAGE)
        {
          writer = init;
          reader = resp;
        }
      else if (sotto_noise_handshake_get_action (resp) == SOTTO_NOISE_ACTION_WRITE_MESSAGE &&
               sotto_noise_handshake_get_action (init) == SOTTO_NOISE_ACTION_READ_MESSAGE)
        {
          writer = resp;
          reader = init;
        }
      else
        {
          g_string_printf (why, "handshake message %u: the two sides disagree on whose turn it is",
                           i);
          return RESULT_FAILED;
        }

      if (i >= json_array_get_length (messages))
        {
          g_string_printf (why, "the vector has fewer messages than the handshake");
          return RESULT_FAILED;
        }
      m = json_array_get_object_element (messages, i);
      payload = get_hex (m, "payload", &bad);
      ciphertext = get_hex (m, "ciphertext", &bad);
      if (bad || payload == NULL || ciphertext == NULL)
        {
          g_string_printf (why, "message %u malformed", i);
          return RESULT_FAILED;
        }

      if (!sotto_noise_handshake_write_message (writer, g_bytes_get_data (payload, NULL),
                                                g_bytes_get_size (payload), wire, &error))
        {
          g_string_printf (why, "handshake message %u: write: %s", i, error->message);
          return RESULT_FAILED;
        }
      if (!same_bytes (ciphertext, wire->data, wire->len))
        {
          g_string_printf (why, "handshake message %u: ciphertext differs", i);
          return RESULT_FAILED;
        }
      if (!sotto_noise_handshake_read_message (reader, wire->data, wire->len, read, &error))
        {
          g_string_printf (why, "handshake message %u: read: %s", i, error->message);
          return RESULT_FAILED;
        }
      if (!same_bytes (payload, read->data, read->len))
        {
          g_string_printf (why, "handshake message %u: payload differs", i);
          return RESULT_FAILED;
        }
      i++;
    }

  sotto_noise_handshake_get_handshake_hash (init, init_hash);
  sotto_noise_handshake_get_handshake_hash (resp, resp_hash);
  if (expected_hash == NULL ||
      !same_bytes (expected_hash, init_hash, sizeof init_hash) ||
      !same_bytes (expected_hash, resp_hash, sizeof resp_hash))
    {
      g_string_printf (why, "handshake hash differs");
      return RESULT_FAILED;
    }

  if (!check_remote_static (init, v, "resp", why) ||
      !check_remote_static (resp, v, "init", why))
    return RESULT_FAILED;

  one_way = sotto_noise_handshake_is_one_way (init);
  if (!sotto_noise_handshake_split (init, &init_send, &init_recv, &error) ||
      !sotto_noise_handshake_split (resp, &resp_send, &resp_recv, &error))
    {
      g_string_printf (why, "split: %s", error->message);
      return RESULT_FAILED;
    }

  for (; i < json_array_get_length (messages); i++)
    {
      JsonObject *m = json_array_get_object_element (messages, i);
      gboolean from_initiator = one_way || i % 2 == 0;
      SottoNoiseCipher *send = from_initiator ? init_send : resp_send;
      SottoNoiseCipher *recv = from_initiator ? resp_recv : init_recv;
      g_autoptr (GBytes) payload = NULL;
      g_autoptr (GBytes) ciphertext = NULL;
      g_autoptr (GByteArray) wire = g_byte_array_new ();
      g_autoptr (GByteArray) read = g_byte_array_new ();

      payload = get_hex (m, "payload", &bad);
      ciphertext = get_hex (m, "ciphertext", &bad);
      if (bad || payload == NULL || ciphertext == NULL)
        {
          g_string_printf (why, "message %u malformed", i);
          return RESULT_FAILED;
        }

      if (!sotto_noise_cipher_encrypt (send, NULL, 0, g_bytes_get_data (payload, NULL),
                                       g_bytes_get_size (payload), wire, &error))
        {
          g_string_printf (why, "transport message %u: encrypt: %s", i, error->message);
          return RESULT_FAILED;
        }
      if (!same_bytes (ciphertext, wire->data, wire->len))
        {
          g_string_printf (why, "transport message %u: ciphertext differs", i);
          return RESULT_FAILED;
        }
      if (!sotto_noise_cipher_decrypt (recv, NULL, 0, wire->data, wire->len, read, &error))
        {
          g_string_printf (why, "transport message %u: decrypt: %s", i, error->message);
          return RESULT_FAILED;
        }
      if (!same_bytes (payload, read->data, read->len))
        {
          g_string_printf (why, "transport message %u: payload differs", i);
          return RESULT_FAILED;
        }
    }

  return RESULT_PASSED;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonNode *root;
  JsonArray *vectors;
  guint n_passed = 0;
  guint n_failed = 0;
  guint n_skipped = 0;
  guint n;

  if (argc != 2)
    {
      fprintf (stderr, "Usage: %s VECTORS.json\n", argv[0]);
      return 2;
    }
  if (sodium_init () < 0)
    {
      fprintf (stderr, "libsodium could not be initialized\n");
      return 1;
    }
  if (!json_parser_load_from_file (parser, argv[1], &error))
    {
      fprintf (stderr, "%s: %s\n", argv[1], error->message);
      return 1;
    }

  /* cacophony.txt is {"vectors": [...]}; accept a bare array too. */
  root = json_parser_get_root (parser);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root) &&
      json_object_has_member (json_node_get_object (root), "vectors"))
    vectors = json_object_get_array_member (json_node_get_object (root), "vectors");
  else if (root != NULL && JSON_NODE_HOLDS_ARRAY (root))
    vectors = json_node_get_array (root);
  else
    vectors = NULL;
  if (vectors == NULL)
    {
      fprintf (stderr, "%s: no array of vectors\n", argv[1]);
      return 1;
    }

  n = json_array_get_length (vectors);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (vectors, i);
      g_autoptr (GString) why = g_string_new (NULL);
      const char *name = "?";
      Result result;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_string_assign (why, "not an object");
          result = RESULT_FAILED;
        }
      else
        {
          JsonObject *v = json_node_get_object (node);

          if (json_object_has_member (v, "protocol_name"))
            name = json_object_get_string_member (v, "protocol_name");
          result = run_vector (v, why);
        }

      switch (result)
        {
        case RESULT_PASSED:
          n_passed++;
          printf ("passed %u %s\n", i, name ? name : "?");
          break;
        case RESULT_SKIPPED:
          n_skipped++;
          printf ("skipped %u %s: unsupported functions\n", i, name ? name : "?");
          break;
        case RESULT_FAILED:
        default:
          n_failed++;
          printf ("FAILED %u %s: %s\n", i, name ? name : "?", why->str);
          break;
        }
    }

  printf ("%u vectors: %u passed, %u failed, %u skipped\n", n, n_passed, n_failed, n_skipped);

  if (n_passed == 0)
    printf ("no vector ran\n");
  return n_failed == 0 && n_passed > 0 ? 0 : 1;
}
