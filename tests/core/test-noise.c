/* test-noise.c — SottoNoise: handshakes, failures, transport limits
 *
 * The cacophony vectors (test-noise-vectors.c) prove the arithmetic; these
 * tests prove the edges: what is refused, and what state is left behind.
 * The worked example of app/core/PROTOCOL.md was computed independently
 * (Python's hashlib and cryptography packages) and is checked here too.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sodium.h>

#include "sotto-noise-private.h"

#define XX       "Noise_XX_25519_ChaChaPoly_BLAKE2b"
#define PROLOGUE "Sotto/1"

typedef struct
{
  SottoNoiseHandshake *init;
  SottoNoiseHandshake *resp;
  guint8               init_pub[32];
  guint8               resp_pub[32];
} Pair;

static void
pair_clear (Pair *p)
{
  g_clear_pointer (&p->init, sotto_noise_handshake_free);
  g_clear_pointer (&p->resp, sotto_noise_handshake_free);
}

static SottoNoiseHandshake *
new_side (const char *protocol,
          gboolean    initiator,
          const char *prologue,
          guint8      pub_out[32])
{
  g_autoptr (GError) error = NULL;
  SottoNoiseHandshake *hs;
  guint8 *secret = sodium_malloc (32);

  hs = sotto_noise_handshake_new (protocol, initiator, (const guint8 *)prologue,
                                  strlen (prologue), &error);
  g_assert_no_error (error);
  g_assert_nonnull (hs);

  randombytes_buf (secret, 32);
  if (pub_out != NULL)
    crypto_scalarmult_base (pub_out, secret);
  sotto_noise_handshake_set_static_key (hs, secret);
  sodium_free (secret);
  return hs;
}

/* Two started XX sides with fresh static keys. */
static void
pair_init_xx (Pair       *p,
              const char *init_prologue,
              const char *resp_prologue)
{
  g_autoptr (GError) error = NULL;

  p->init = new_side (XX, TRUE, init_prologue, p->init_pub);
  p->resp = new_side (XX, FALSE, resp_prologue, p->resp_pub);
  g_assert_true (sotto_noise_handshake_start (p->init, &error));
  g_assert_no_error (error);
  g_assert_true (sotto_noise_handshake_start (p->resp, &error));
  g_assert_no_error (error);
}

/* One message from writer to reader; returns the wire bytes. */
static GByteArray *
pass_message (SottoNoiseHandshake *writer,
              SottoNoiseHandshake *reader,
              const char          *payload)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) read = g_byte_array_new ();
  GByteArray *wire = g_byte_array_new ();

  g_assert_cmpint (sotto_noise_handshake_get_action (writer), ==, SOTTO_NOISE_ACTION_WRITE_MESSAGE);
  g_assert_cmpint (sotto_noise_handshake_get_action (reader), ==, SOTTO_NOISE_ACTION_READ_MESSAGE);
  g_assert_true (sotto_noise_handshake_write_message (writer, (const guint8 *)payload,
                                                      strlen (payload), wire, &error));
  g_assert_no_error (error);
  g_assert_true (sotto_noise_handshake_read_message (reader, wire->data, wire->len, read, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (read->data, read->len, payload, strlen (payload));
  return wire;
}

static void
pair_handshake (Pair *p)
{
  g_byte_array_unref (pass_message (p->init, p->resp, "one"));
  g_byte_array_unref (pass_message (p->resp, p->init, "two"));
  g_byte_array_unref (pass_message (p->init, p->resp, "three"));
  g_assert_cmpint (sotto_noise_handshake_get_action (p->init), ==, SOTTO_NOISE_ACTION_SPLIT);
  g_assert_cmpint (sotto_noise_handshake_get_action (p->resp), ==, SOTTO_NOISE_ACTION_SPLIT);
}

typedef struct
{
  SottoNoiseCipher *init_send;
  SottoNoiseCipher *init_recv;
  SottoNoiseCipher *resp_send;
  SottoNoiseCipher *resp_recv;
} Ciphers;

static void
ciphers_clear (Ciphers *c)
{
  g_clear_pointer (&c->init_send, sotto_noise_cipher_free);
  g_clear_pointer (&c->init_recv, sotto_noise_cipher_free);
  g_clear_pointer (&c->resp_send, sotto_noise_cipher_free);
  g_clear_pointer (&c->resp_recv, sotto_noise_cipher_free);
}

static void
pair_split (Pair    *p,
            Ciphers *c)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_noise_handshake_split (p->init, &c->init_send, &c->init_recv, &error));
  g_assert_no_error (error);
  g_assert_true (sotto_noise_handshake_split (p->resp, &c->resp_send, &c->resp_recv, &error));
  g_assert_no_error (error);
}

/* A connected XX pair, handshake done and split. */
static void
ciphers_init (Ciphers *c)
{
  Pair p = { 0, };

  pair_init_xx (&p, PROLOGUE, PROLOGUE);
  pair_handshake (&p);
  pair_split (&p, c);
  pair_clear (&p);
}

static void
assert_transport (SottoNoiseCipher *send,
                  SottoNoiseCipher *recv,
                  const guint8     *data,
                  gsize             len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GByteArray) plain = g_byte_array_new ();

  g_assert_true (sotto_noise_cipher_encrypt (send, NULL, 0, data, len, wire, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (wire->len, ==, len + SOTTO_NOISE_TAG_LEN);
  g_assert_true (sotto_noise_cipher_decrypt (recv, NULL, 0, wire->data, wire->len, plain, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (plain->data, plain->len, data, len);
}

static void
test_xx_round_trip (void)
{
  Pair p = { 0, };
  Ciphers c = { 0, };
  static const char ping[] = "ping";
  static const char pong[] = "pong";

  pair_init_xx (&p, PROLOGUE, PROLOGUE);
  g_assert_false (sotto_noise_handshake_is_one_way (p.init));
  pair_handshake (&p);
  pair_split (&p, &c);

  for (guint i = 0; i < 3; i++)
    {
      assert_transport (c.init_send, c.resp_recv, (const guint8 *)ping, strlen (ping));
      assert_transport (c.resp_send, c.init_recv, (const guint8 *)pong, strlen (pong));
    }
  assert_transport (c.init_send, c.resp_recv, NULL, 0);
  g_assert_cmpuint (sotto_noise_cipher_get_nonce (c.init_send), ==, 4);
  g_assert_cmpuint (sotto_noise_cipher_get_nonce (c.resp_recv), ==, 4);
  g_assert_cmpuint (sotto_noise_cipher_get_nonce (c.resp_send), ==, 3);

  ciphers_clear (&c);
  pair_clear (&p);
}

static void
test_xx_remote_static (void)
{
  Pair p = { 0, };

  pair_init_xx (&p, PROLOGUE, PROLOGUE);
  g_assert_null (sotto_noise_handshake_get_remote_static_key (p.init));
  g_assert_null (sotto_noise_handshake_get_remote_static_key (p.resp));

  g_byte_array_unref (pass_message (p.init, p.resp, ""));
  g_assert_null (sotto_noise_handshake_get_remote_static_key (p.resp));
  g_byte_array_unref (pass_message (p.resp, p.init, ""));
  /* The responder's key arrives in message 2, the initiator's in 3. */
  g_assert_cmpmem (sotto_noise_handshake_get_remote_static_key (p.init), 32, p.resp_pub, 32);
  g_assert_null (sotto_noise_handshake_get_remote_static_key (p.resp));
  g_byte_array_unref (pass_message (p.init, p.resp, ""));
  g_assert_cmpmem (sotto_noise_handshake_get_remote_static_key (p.resp), 32, p.init_pub, 32);

  pair_clear (&p);
}

static void
test_xx_handshake_hash (void)
{
  Pair p = { 0, };
  Pair q = { 0, };
  guint8 h_init[64];
  guint8 h_resp[64];
  guint8 h_other[64];

  pair_init_xx (&p, PROLOGUE, PROLOGUE);
  pair_handshake (&p);
  sotto_noise_handshake_get_handshake_hash (p.init, h_init);
  sotto_noise_handshake_get_handshake_hash (p.resp, h_resp);
  g_assert_cmpmem (h_init, 64, h_resp, 64);
  g_assert_false (sodium_is_zero (h_init, 64));

  /* still there after the split, for channel binding */
  g_assert_true (sotto_noise_handshake_split (p.init, NULL, NULL, NULL));
  sotto_noise_handshake_get_handshake_hash (p.init, h_resp);
  g_assert_cmpmem (h_init, 64, h_resp, 64);

  /* another session, another hash */
  pair_init_xx (&q, PROLOGUE, PROLOGUE);
  pair_handshake (&q);
  sotto_noise_handshake_get_handshake_hash (q.init, h_other);
  g_assert_true (memcmp (h_init, h_other, 64) != 0);

  pair_clear (&p);
  pair_clear (&q);
}

/* Curve25519 points of small order (and their non-canonical encodings):
 * DH with any of them gives all zeros, whatever the secret key. */
static const char *const low_order_points[] = {
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

static void
hex_to_key (const char *hex,
            guint8      key[32])
{
  size_t len = 0;

  g_assert_cmpint (sodium_hex2bin (key, 32, hex, strlen (hex), NULL, &len, NULL), ==, 0);
  g_assert_cmpuint (len, ==, 32);
}

static void
test_dh_all_zero (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (low_order_points); i++)
    {
      guint8 point[32];
      Pair p = { 0, };
      g_autoptr (GByteArray) msg1 = g_byte_array_new ();
      g_autoptr (GByteArray) msg2 = g_byte_array_new ();
      g_autoptr (GByteArray) payload = g_byte_array_new ();
      g_autoptr (GError) error = NULL;
      g_autoptr (SottoNoiseHandshake) nk = NULL;

      hex_to_key (low_order_points[i], point);

      /* A low-order remote ephemeral: the responder's "ee" refuses it. */
      pair_init_xx (&p, PROLOGUE, PROLOGUE);
      g_assert_true (sotto_noise_handshake_read_message (p.resp, point, 32, payload, &error));
      g_assert_no_error (error);
      g_assert_false (sotto_noise_handshake_write_message (p.resp, NULL, 0, msg2, &error));
      g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DH);
      g_assert_cmpuint (msg2->len, ==, 0);
      g_assert_cmpint (sotto_noise_handshake_get_action (p.resp), ==, SOTTO_NOISE_ACTION_FAILED);
      g_clear_error (&error);

      /* The same in message 2, read by the initiator. */
      pair_clear (&p);
      pair_init_xx (&p, PROLOGUE, PROLOGUE);
      g_assert_true (sotto_noise_handshake_write_message (p.init, NULL, 0, msg1, &error));
      g_assert_true (sotto_noise_handshake_read_message (p.resp, msg1->data, msg1->len,
                                                         payload, &error));
      g_assert_true (sotto_noise_handshake_write_message (p.resp, NULL, 0, msg2, &error));
      g_assert_no_error (error);
      memcpy (msg2->data, point, 32);
      g_assert_false (sotto_noise_handshake_read_message (p.init, msg2->data, msg2->len,
                                                          payload, &error));
      g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DH);
      g_assert_cmpint (sotto_noise_handshake_get_action (p.init), ==, SOTTO_NOISE_ACTION_FAILED);
      g_clear_error (&error);
      pair_clear (&p);

      /* A low-order remote static key known in advance (NK's "es"). */
      nk = sotto_noise_handshake_new ("Noise_NK_25519_ChaChaPoly_BLAKE2b", TRUE, NULL, 0, &error);
      g_assert_no_error (error);
      sotto_noise_handshake_set_remote_static_key (nk, point);
      g_assert_true (sotto_noise_handshake_start (nk, &error));
      g_byte_array_set_size (msg1, 7);
      g_assert_false (sotto_noise_handshake_write_message (nk, NULL, 0, msg1, &error));
      g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DH);
      g_assert_cmpuint (msg1->len, ==, 7);  /* what was there stays, nothing added */
      g_assert_cmpint (sotto_noise_handshake_get_action (nk), ==, SOTTO_NOISE_ACTION_FAILED);
    }
}

/* Every bit flip anywhere in any handshake message breaks the handshake:
 * in message 1 (sent in the clear) when the initiator reads message 2,
 * otherwise at once. */
static void
test_xx_tampered (void)
{
  /* with a 7-byte payload: e + payload; e + enc s + enc payload; enc s + enc payload */
  static const gsize lengths[] = { 32 + 7, 32 + 48 + 7 + 16, 48 + 7 + 16 };

  for (guint victim = 0; victim < 3; victim++)
    {
      gsize len = lengths[victim];

      for (gsize pos = 0; pos < len; pos++)
        {
          Pair p = { 0, };
          SottoNoiseHandshake *writer;
          SottoNoiseHandshake *reader;
          g_autoptr (GByteArray) wire = g_byte_array_new ();
          g_autoptr (GByteArray) read = g_byte_array_new ();
          g_autoptr (GError) error = NULL;

          pair_init_xx (&p, PROLOGUE, PROLOGUE);
          for (guint i = 0; i < victim; i++)
            g_byte_array_unref (pass_message (i % 2 ? p.resp : p.init, i % 2 ? p.init : p.resp,
                                              "payload"));
          writer = victim % 2 ? p.resp : p.init;
          reader = victim % 2 ? p.init : p.resp;

          g_assert_true (sotto_noise_handshake_write_message (writer, (const guint8 *)"payload", 7,
                                                              wire, &error));
          g_assert_cmpuint (wire->len, ==, len);
          wire->data[pos] ^= 1 << (pos % 8);

          if (victim == 0)
            {
              /* Nothing to authenticate yet: the damage surfaces in h. */
              g_assert_true (sotto_noise_handshake_read_message (reader, wire->data, wire->len,
                                                                 read, &error));
              g_byte_array_set_size (wire, 0);
              g_assert_true (sotto_noise_handshake_write_message (p.resp, NULL, 0, wire, &error));
              reader = p.init;
            }

          g_assert_false (sotto_noise_handshake_read_message (reader, wire->data, wire->len,
                                                              read, &error));
          g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DECRYPT);
          g_assert_cmpint (sotto_noise_handshake_get_action (reader), ==,
                           SOTTO_NOISE_ACTION_FAILED);
          g_assert_null (sotto_noise_handshake_get_remote_static_key (reader));
          g_clear_error (&error);

          /* FAILED is final. */
          g_assert_false (sotto_noise_handshake_read_message (reader, wire->data, wire->len,
                                                              read, &error));
          g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID);
          g_assert_false (sotto_noise_handshake_split (reader, NULL, NULL, NULL));
          pair_clear (&p);
        }
    }
}

static void
test_transport_max_length (void)
{
  Ciphers c = { 0, };
  g_autofree guint8 *big = g_malloc0 (SOTTO_NOISE_MAX_MESSAGE_LEN + 1);
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GByteArray) plain = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  ciphers_init (&c);
  randombytes_buf (big, SOTTO_NOISE_MAX_MESSAGE_LEN + 1);

  /* 65535 - 16 bytes of plaintext: a 65535-byte message. */
  assert_transport (c.init_send, c.resp_recv, big,
                    SOTTO_NOISE_MAX_MESSAGE_LEN - SOTTO_NOISE_TAG_LEN);

  g_assert_false (sotto_noise_cipher_encrypt (c.init_send, NULL, 0, big,
                                              SOTTO_NOISE_MAX_MESSAGE_LEN - SOTTO_NOISE_TAG_LEN + 1,
                                              wire, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TOO_LONG);
  g_assert_cmpuint (wire->len, ==, 0);
  g_assert_cmpuint (sotto_noise_cipher_get_nonce (c.init_send), ==, 1);
  g_clear_error (&error);

  g_assert_false (sotto_noise_cipher_decrypt (c.resp_recv, NULL, 0, big,
                                              SOTTO_NOISE_MAX_MESSAGE_LEN + 1, plain, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TOO_LONG);
  g_assert_cmpuint (plain->len, ==, 0);
  g_clear_error (&error);

  g_assert_false (sotto_noise_cipher_decrypt (c.resp_recv, NULL, 0, big,
                                              SOTTO_NOISE_TAG_LEN - 1, plain, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TRUNCATED);
  g_clear_error (&error);
  g_assert_cmpuint (sotto_noise_cipher_get_nonce (c.resp_recv), ==, 1);

  /* the session goes on */
  assert_transport (c.init_send, c.resp_recv, big, 100);
  ciphers_clear (&c);
}

/* Handshake messages have the same limit; hitting it changes nothing. */
static void
test_handshake_max_length (void)
{
  Pair p = { 0, };
  g_autofree guint8 *big = g_malloc0 (SOTTO_NOISE_MAX_MESSAGE_LEN + 1);
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  pair_init_xx (&p, PROLOGUE, PROLOGUE);

  /* message 1 is e (32 bytes) and the payload in the clear */
  g_assert_false (sotto_noise_handshake_write_message (p.init, big,
                                                       SOTTO_NOISE_MAX_MESSAGE_LEN - 32 + 1,
                                                       wire, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TOO_LONG);
  g_assert_cmpuint (wire->len, ==, 0);
  g_assert_cmpint (sotto_noise_handshake_get_action (p.init), ==, SOTTO_NOISE_ACTION_WRITE_MESSAGE);
  g_clear_error (&error);

  g_assert_true (sotto_noise_handshake_write_message (p.init, big,
                                                      SOTTO_NOISE_MAX_MESSAGE_LEN - 32,
                                                      wire, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (wire->len, ==, SOTTO_NOISE_MAX_MESSAGE_LEN);
  g_assert_true (sotto_noise_handshake_read_message (p.resp, wire->data, wire->len,
                                                     payload, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (payload->len, ==, SOTTO_NOISE_MAX_MESSAGE_LEN - 32);

  /* message 2: e (32), s (32 + 16), payload + 16 */
  g_byte_array_set_size (wire, 0);
  g_assert_false (sotto_noise_handshake_write_message (p.resp, big,
                                                       SOTTO_NOISE_MAX_MESSAGE_LEN - 96 + 1,
                                                       wire, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TOO_LONG);
  g_clear_error (&error);
  g_assert_true (sotto_noise_handshake_write_message (p.resp, big,
                                                      SOTTO_NOISE_MAX_MESSAGE_LEN - 96,
                                                      wire, &error));
  g_assert_cmpuint (wire->len, ==, SOTTO_NOISE_MAX_MESSAGE_LEN);

  /* a message one byte too long is refused by the reader */
  g_byte_array_append (wire, (const guint8 *)"", 1);
  g_assert_false (sotto_noise_handshake_read_message (p.init, wire->data, wire->len,
                                                      payload, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TOO_LONG);
  g_assert_cmpint (sotto_noise_handshake_get_action (p.init), ==, SOTTO_NOISE_ACTION_FAILED);

  pair_clear (&p);
}

static void
test_transport_nonce_exhausted (void)
{
  Ciphers c = { 0, };
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GByteArray) plain = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  ciphers_init (&c);
  sotto_noise_cipher_set_nonce (c.init_send, G_MAXUINT64 - 1);
  sotto_noise_cipher_set_nonce (c.resp_recv, G_MAXUINT64 - 1);

  /* 2^64 - 2 is the last usable nonce */
  assert_transport (c.init_send, c.resp_recv, (const guint8 *)"last", 4);
  g_assert_cmpuint (sotto_noise_cipher_get_nonce (c.init_send), ==, G_MAXUINT64);

  g_assert_false (sotto_noise_cipher_encrypt (c.init_send, NULL, 0, (const guint8 *)"x", 1,
                                              wire, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_NONCE_EXHAUSTED);
  g_assert_cmpuint (wire->len, ==, 0);
  g_clear_error (&error);

  g_byte_array_set_size (wire, 32);
  g_assert_false (sotto_noise_cipher_decrypt (c.resp_recv, NULL, 0, wire->data, wire->len,
                                              plain, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_NONCE_EXHAUSTED);
  g_assert_cmpuint (plain->len, ==, 0);

  ciphers_clear (&c);
}

static void
test_transport_rekey (void)
{
  Ciphers c = { 0, };
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GByteArray) plain = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  ciphers_init (&c);
  assert_transport (c.init_send, c.resp_recv, (const guint8 *)"before", 6);

  /* both sides: still talking, nonces kept */
  sotto_noise_cipher_rekey (c.init_send);
  sotto_noise_cipher_rekey (c.resp_recv);
  g_assert_cmpuint (sotto_noise_cipher_get_nonce (c.init_send), ==, 1);
  assert_transport (c.init_send, c.resp_recv, (const guint8 *)"after", 5);
  assert_transport (c.resp_send, c.init_recv, (const guint8 *)"other way", 9);

  /* one side only: nothing opens */
  sotto_noise_cipher_rekey (c.resp_send);
  g_assert_true (sotto_noise_cipher_encrypt (c.resp_send, NULL, 0, (const guint8 *)"lost", 4,
                                             wire, &error));
  g_assert_false (sotto_noise_cipher_decrypt (c.init_recv, NULL, 0, wire->data, wire->len,
                                              plain, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DECRYPT);
  g_assert_cmpuint (plain->len, ==, 0);

  ciphers_clear (&c);
}

static void
test_transport_failed_decrypt (void)
{
  Ciphers c = { 0, };
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GByteArray) plain = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  static const guint8 ad[] = "header";

  ciphers_init (&c);
  g_byte_array_append (plain, (const guint8 *)"kept", 4);

  g_assert_true (sotto_noise_cipher_encrypt (c.init_send, ad, sizeof ad,
                                             (const guint8 *)"genuine", 7, wire, &error));

  /* flipped ciphertext, wrong associated data, and a replay of nothing */
  wire->data[0] ^= 0x80;
  g_assert_false (sotto_noise_cipher_decrypt (c.resp_recv, ad, sizeof ad, wire->data, wire->len,
                                              plain, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DECRYPT);
  g_clear_error (&error);
  wire->data[0] ^= 0x80;
  g_assert_false (sotto_noise_cipher_decrypt (c.resp_recv, ad, sizeof ad - 1, wire->data,
                                              wire->len, plain, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DECRYPT);
  g_clear_error (&error);

  /* no nonce burnt, nothing appended */
  g_assert_cmpuint (sotto_noise_cipher_get_nonce (c.resp_recv), ==, 0);
  g_assert_cmpmem (plain->data, plain->len, "kept", 4);

  g_assert_true (sotto_noise_cipher_decrypt (c.resp_recv, ad, sizeof ad, wire->data, wire->len,
                                             plain, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (plain->data, plain->len, "keptgenuine", 11);
  g_assert_cmpuint (sotto_noise_cipher_get_nonce (c.resp_recv), ==, 1);

  ciphers_clear (&c);
}

static void
test_handshake_wrong_prologue (void)
{
  Pair p = { 0, };
  g_autoptr (GByteArray) msg1 = NULL;
  g_autoptr (GByteArray) msg2 = g_byte_array_new ();
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  pair_init_xx (&p, "Sotto/1", "Sotto/2");

  /* message 1 has nothing encrypted: it goes through */
  msg1 = pass_message (p.init, p.resp, "");
  g_assert_true (sotto_noise_handshake_write_message (p.resp, NULL, 0, msg2, &error));
  g_assert_false (sotto_noise_handshake_read_message (p.init, msg2->data, msg2->len,
                                                      payload, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DECRYPT);
  g_assert_cmpint (sotto_noise_handshake_get_action (p.init), ==, SOTTO_NOISE_ACTION_FAILED);
  g_assert_cmpuint (payload->len, ==, 0);

  pair_clear (&p);
}

static void
test_handshake_truncated (void)
{
  /* message 1: e (32) + payload; message 2: e (32), s (48), tag (16) */
  static const struct { guint message; gsize len; } cases[] = {
    { 1, 0 }, { 1, 1 }, { 1, 31 },
    { 2, 0 }, { 2, 31 }, { 2, 32 }, { 2, 79 }, { 2, 80 }, { 2, 95 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Pair p = { 0, };
      g_autoptr (GByteArray) wire = g_byte_array_new ();
      g_autoptr (GByteArray) payload = g_byte_array_new ();
      g_autoptr (GError) error = NULL;
      SottoNoiseHandshake *reader;

      pair_init_xx (&p, PROLOGUE, PROLOGUE);
      if (cases[i].message == 2)
        g_byte_array_unref (pass_message (p.init, p.resp, ""));
      reader = cases[i].message == 2 ? p.init : p.resp;

      g_assert_true (sotto_noise_handshake_write_message (cases[i].message == 2 ? p.resp : p.init,
                                                          NULL, 0, wire, &error));
      g_assert_cmpuint (wire->len, >, cases[i].len);
      g_assert_false (sotto_noise_handshake_read_message (reader, wire->data, cases[i].len,
                                                          payload, &error));
      g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TRUNCATED);
      g_assert_cmpint (sotto_noise_handshake_get_action (reader), ==, SOTTO_NOISE_ACTION_FAILED);
      pair_clear (&p);
    }
}

static void
test_handshake_wrong_action (void)
{
  Pair p = { 0, };
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  pair_init_xx (&p, PROLOGUE, PROLOGUE);

  g_assert_cmpint (sotto_noise_handshake_get_action (p.resp), ==, SOTTO_NOISE_ACTION_READ_MESSAGE);
  g_assert_false (sotto_noise_handshake_write_message (p.resp, NULL, 0, wire, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (sotto_noise_handshake_read_message (p.init, (const guint8 *)"x", 1,
                                                      payload, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (sotto_noise_handshake_split (p.init, NULL, NULL, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (sotto_noise_handshake_start (p.init, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID);
  g_clear_error (&error);

  /* a caller's mistake breaks nothing */
  g_assert_cmpuint (wire->len, ==, 0);
  g_assert_cmpint (sotto_noise_handshake_get_action (p.init), ==, SOTTO_NOISE_ACTION_WRITE_MESSAGE);
  g_assert_cmpint (sotto_noise_handshake_get_action (p.resp), ==, SOTTO_NOISE_ACTION_READ_MESSAGE);
  pair_handshake (&p);

  g_assert_true (sotto_noise_handshake_split (p.init, NULL, NULL, &error));
  g_assert_false (sotto_noise_handshake_split (p.init, NULL, NULL, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID);

  pair_clear (&p);
}

static void
test_protocol_name_invalid (void)
{
  g_autofree char *overlong = NULL;
  const char *names[] = {
    "",
    "Noise",
    "Noise_XX_448_ChaChaPoly_BLAKE2b",
    "Noise_XX_25519_AESGCM_BLAKE2b",
    "Noise_XX_25519_ChaChaPoly_SHA256",
    "Noise_XX_25519_ChaChaPoly_BLAKE2s",
    "Noise_XX_25519_ChaChaPoly",
    "Noise_XX_25519_ChaChaPoly_BLAKE2b_",
    "Noise_XX_25519_ChaChaPoly_BLAKE2b_extra",
    "Noise__25519_ChaChaPoly_BLAKE2b",
    "noise_XX_25519_ChaChaPoly_BLAKE2b",
    "Noise_ZZ_25519_ChaChaPoly_BLAKE2b",
    "Noise_xx_25519_ChaChaPoly_BLAKE2b",
    "Noise_XXX_25519_ChaChaPoly_BLAKE2b",
    "Noise_XXpsk9_25519_ChaChaPoly_BLAKE2b",
    "Noise_XXpsk4_25519_ChaChaPoly_BLAKE2b",
    "Noise_Npsk2_25519_ChaChaPoly_BLAKE2b",
    "Noise_XXpsk_25519_ChaChaPoly_BLAKE2b",
    "Noise_XXpsk03_25519_ChaChaPoly_BLAKE2b",
    "Noise_XXpsk0+psk0_25519_ChaChaPoly_BLAKE2b",
    "Noise_NNpsk2+psk0_25519_ChaChaPoly_BLAKE2b",
    "Noise_NNpsk0+_25519_ChaChaPoly_BLAKE2b",
    "Noise_NN+psk0_25519_ChaChaPoly_BLAKE2b",
    "Noise_XXfallback_25519_ChaChaPoly_BLAKE2b",
    "Noise_XXhfs_25519+Kyber1024_ChaChaPoly_BLAKE2b",
    NULL,
  };
  const char *valid[] = {
    XX,
    "Noise_N_25519_ChaChaPoly_BLAKE2b",
    "Noise_NNpsk0+psk2_25519_ChaChaPoly_BLAKE2b",
    "Noise_XXpsk0+psk1+psk2+psk3_25519_ChaChaPoly_BLAKE2b",
    "Noise_X1X1psk4_25519_ChaChaPoly_BLAKE2b",
    "Noise_I1K1_25519_ChaChaPoly_BLAKE2b",
    NULL,
  };
  GString *s = g_string_new ("Noise_XX_25519_ChaChaPoly_BLAKE2b");

  while (s->len < 300)
    g_string_append (s, "_BLAKE2b");
  overlong = g_string_free (s, FALSE);

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SottoNoiseHandshake) hs = sotto_noise_handshake_new (names[i], TRUE, NULL, 0,
                                                                      &error);

      g_test_message ("%s", names[i]);
      g_assert_null (hs);
      g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID);
    }

  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SottoNoiseHandshake) hs = sotto_noise_handshake_new (overlong, TRUE, NULL, 0,
                                                                    &error);
    g_assert_null (hs);
    g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID);
  }

  for (guint i = 0; valid[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SottoNoiseHandshake) hs = sotto_noise_handshake_new (valid[i], FALSE, NULL, 0,
                                                                      &error);

      g_test_message ("%s", valid[i]);
      g_assert_no_error (error);
      g_assert_nonnull (hs);
    }
}

static void
test_handshake_keys_checked (void)
{
  guint8 key[32];
  g_autoptr (GError) error = NULL;

  randombytes_buf (key, sizeof key);

  /* XX without a static key */
  {
    g_autoptr (SottoNoiseHandshake) hs = sotto_noise_handshake_new (XX, TRUE, NULL, 0, NULL);
    g_assert_false (sotto_noise_handshake_start (hs, &error));
    g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID);
    g_clear_error (&error);
  }
  /* XX transmits the remote key: one given in advance would be ignored */
  {
    g_autoptr (SottoNoiseHandshake) hs = sotto_noise_handshake_new (XX, TRUE, NULL, 0, NULL);
    sotto_noise_handshake_set_static_key (hs, key);
    sotto_noise_handshake_set_remote_static_key (hs, key);
    g_assert_false (sotto_noise_handshake_start (hs, &error));
    g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID);
    g_clear_error (&error);
  }
  /* NK needs the responder's key in advance */
  {
    g_autoptr (SottoNoiseHandshake) hs = sotto_noise_handshake_new
      ("Noise_NK_25519_ChaChaPoly_BLAKE2b", TRUE, NULL, 0, NULL);
    g_assert_false (sotto_noise_handshake_start (hs, &error));
    g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID);
    g_clear_error (&error);
  }
  /* NN has no static keys at all */
  {
    g_autoptr (SottoNoiseHandshake) hs = sotto_noise_handshake_new
      ("Noise_NN_25519_ChaChaPoly_BLAKE2b", TRUE, NULL, 0, NULL);
    sotto_noise_handshake_set_static_key (hs, key);
    g_assert_false (sotto_noise_handshake_start (hs, &error));
    g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID);
    g_clear_error (&error);
  }
  /* two psk modifiers, one psk */
  {
    g_autoptr (SottoNoiseHandshake) hs = sotto_noise_handshake_new
      ("Noise_NNpsk0+psk2_25519_ChaChaPoly_BLAKE2b", TRUE, NULL, 0, NULL);
    sotto_noise_handshake_add_psk (hs, key);
    g_assert_false (sotto_noise_handshake_start (hs, &error));
    g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID);
    g_clear_error (&error);
  }
}

/* Several psk modifiers in one pattern, which no cacophony vector has. */
static void
test_psk_several (void)
{
  static const char name[] = "Noise_NNpsk0+psk2_25519_ChaChaPoly_BLAKE2b";
  guint8 psk[2][32];

  randombytes_buf (psk, sizeof psk);

  for (guint wrong = 0; wrong < 3; wrong++)
    {
      g_autoptr (SottoNoiseHandshake) init = sotto_noise_handshake_new (name, TRUE, NULL, 0, NULL);
      g_autoptr (SottoNoiseHandshake) resp = sotto_noise_handshake_new (name, FALSE, NULL, 0, NULL);
      g_autoptr (GByteArray) wire = g_byte_array_new ();
      g_autoptr (GByteArray) payload = g_byte_array_new ();
      g_autoptr (GError) error = NULL;
      guint8 other[32];

      randombytes_buf (other, sizeof other);
      sotto_noise_handshake_add_psk (init, psk[0]);
      sotto_noise_handshake_add_psk (init, psk[1]);
      /* wrong == 0: both right; 1: the first differs; 2: the second */
      sotto_noise_handshake_add_psk (resp, wrong == 1 ? other : psk[0]);
      sotto_noise_handshake_add_psk (resp, wrong == 2 ? other : psk[1]);
      g_assert_true (sotto_noise_handshake_start (init, NULL));
      g_assert_true (sotto_noise_handshake_start (resp, NULL));

      /* psk0: even message 1's payload is encrypted */
      g_assert_true (sotto_noise_handshake_write_message (init, (const guint8 *)"hi", 2,
                                                          wire, NULL));
      g_assert_cmpuint (wire->len, ==, 32 + 2 + 16);
      if (wrong == 1)
        {
          g_assert_false (sotto_noise_handshake_read_message (resp, wire->data, wire->len,
                                                              payload, &error));
          g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DECRYPT);
          continue;
        }
      g_assert_true (sotto_noise_handshake_read_message (resp, wire->data, wire->len,
                                                         payload, &error));
      g_assert_cmpmem (payload->data, payload->len, "hi", 2);

      /* psk2 closes message 2 */
      g_byte_array_set_size (wire, 0);
      g_assert_true (sotto_noise_handshake_write_message (resp, (const guint8 *)"ok", 2,
                                                          wire, NULL));
      if (wrong == 2)
        {
          g_assert_false (sotto_noise_handshake_read_message (init, wire->data, wire->len,
                                                              payload, &error));
          g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DECRYPT);
          continue;
        }
      g_assert_true (sotto_noise_handshake_read_message (init, wire->data, wire->len,
                                                         payload, &error));
      g_assert_no_error (error);

      {
        g_autoptr (SottoNoiseCipher) init_send = NULL;
        g_autoptr (SottoNoiseCipher) init_recv = NULL;
        g_autoptr (SottoNoiseCipher) resp_send = NULL;
        g_autoptr (SottoNoiseCipher) resp_recv = NULL;

        g_assert_true (sotto_noise_handshake_split (init, &init_send, &init_recv, NULL));
        g_assert_true (sotto_noise_handshake_split (resp, &resp_send, &resp_recv, NULL));
        assert_transport (init_send, resp_recv, (const guint8 *)"a", 1);
        assert_transport (resp_send, init_recv, (const guint8 *)"b", 1);
      }
    }
}

static void
test_one_way (void)
{
  static const char name[] = "Noise_X_25519_ChaChaPoly_BLAKE2b";
  guint8 *resp_secret = sodium_malloc (32);
  guint8 resp_pub[32];
  guint8 init_pub[32];
  g_autoptr (SottoNoiseHandshake) init = NULL;
  g_autoptr (SottoNoiseHandshake) resp = NULL;
  g_autoptr (SottoNoiseCipher) send = NULL;
  g_autoptr (SottoNoiseCipher) recv = NULL;
  g_autoptr (GError) error = NULL;

  randombytes_buf (resp_secret, 32);
  crypto_scalarmult_base (resp_pub, resp_secret);

  init = new_side (name, TRUE, "", init_pub);
  sotto_noise_handshake_set_remote_static_key (init, resp_pub);
  resp = sotto_noise_handshake_new (name, FALSE, NULL, 0, &error);
  sotto_noise_handshake_set_static_key (resp, resp_secret);
  sodium_free (resp_secret);
  g_assert_true (sotto_noise_handshake_start (init, &error));
  g_assert_true (sotto_noise_handshake_start (resp, &error));
  g_assert_no_error (error);
  g_assert_true (sotto_noise_handshake_is_one_way (init));

  g_byte_array_unref (pass_message (init, resp, "sealed"));
  g_assert_cmpmem (sotto_noise_handshake_get_remote_static_key (resp), 32, init_pub, 32);

  /* the responder only receives: it may ignore the cipher it would send with */
  g_assert_true (sotto_noise_handshake_split (init, &send, NULL, &error));
  g_assert_true (sotto_noise_handshake_split (resp, NULL, &recv, &error));
  assert_transport (send, recv, (const guint8 *)"more", 4);
}

/* The worked example of app/core/PROTOCOL.md ("The handshake, worked
 * example"), computed with an independent implementation. If this test
 * fails, the document or the wire format changed: fix the one that is
 * wrong, never just the numbers. */
#define EX_H0   "5e331dda0fa392abde29da26c39879af3843046b34764e563070d0be2996972d" \
                "36b85a9cf573c4a8ba367bad3addf455b3266422eb8fddd2505cf6260cc40147"
#define EX_MSG1 "358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254"
#define EX_MSG2 "675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f" \
                "6f2ff9a8497a19e32c4d870f4854c9607a475d0d2bd0fc92029c27cd7ee54248" \
                "1da86872e206501d28317961003b2944ecde2d71b80df51d83343429730b4d58" \
                "91771f7156"
#define EX_MSG3 "a12fafa44b57fc4f9ddfb457bf14ebb7a1174c6a448b087dfcd5618c366cf0ef" \
                "9fc484fddb1c9a9a4f6707ef2a94000825ece14cb48c38dd6ac0cd7f11a1b4a6" \
                "afa1946a8f"
#define EX_HASH "ae8a5f34f9272778ead82c196d87a66abc75602e8eccd6d6bad7d7a42cb343bf" \
                "3f21d907b25952f69fe7fb2cfa664f09adae641c231f52338f634d539d16d794"
#define EX_PING "c70b24d6b8b52039f589f674bfb25129c8bcfb32"
#define EX_PONG "4a8a1eed54a64aba799404037353caaa59a1bfe8"
#define EX_PING_REKEYED "476cacdca629f75e2ce48e731a2f9c04a09557d2"

static void
assert_hex (const guint8 *data,
            gsize         len,
            const char   *expected)
{
  g_autofree char *hex = g_malloc (len * 2 + 1);

  sodium_bin2hex (hex, len * 2 + 1, data, len);
  g_assert_cmpstr (hex, ==, expected);
}

static void
example_keys (guint8 secret[32],
              guint8 first)
{
  for (guint i = 0; i < 32; i++)
    secret[i] = first + i;
}

static void
test_protocol_example (void)
{
  g_autoptr (SottoNoiseHandshake) init = NULL;
  g_autoptr (SottoNoiseHandshake) resp = NULL;
  g_autoptr (SottoNoiseCipher) init_send = NULL;
  g_autoptr (SottoNoiseCipher) init_recv = NULL;
  g_autoptr (SottoNoiseCipher) resp_send = NULL;
  g_autoptr (SottoNoiseCipher) resp_recv = NULL;
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GByteArray) plain = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  guint8 key[32];
  guint8 h[64];
  static const char *payloads[] = { "", "hello", "world" };
  static const char *expected[] = { EX_MSG1, EX_MSG2, EX_MSG3 };

  init = sotto_noise_handshake_new (XX, TRUE, (const guint8 *)PROLOGUE, 7, &error);
  resp = sotto_noise_handshake_new (XX, FALSE, (const guint8 *)PROLOGUE, 7, &error);
  g_assert_no_error (error);
  example_keys (key, 0x00);
  sotto_noise_handshake_set_static_key (init, key);
  example_keys (key, 0x20);
  sotto_noise_handshake_set_ephemeral_key (init, key);
  example_keys (key, 0x40);
  sotto_noise_handshake_set_static_key (resp, key);
  example_keys (key, 0x60);
  sotto_noise_handshake_set_ephemeral_key (resp, key);
  g_assert_true (sotto_noise_handshake_start (init, &error));
  g_assert_true (sotto_noise_handshake_start (resp, &error));

  /* h after the protocol name and the prologue (XX has no pre-messages) */
  sotto_noise_handshake_get_handshake_hash (init, h);
  assert_hex (h, 64, EX_H0);

  for (guint i = 0; i < 3; i++)
    {
      SottoNoiseHandshake *writer = i % 2 ? resp : init;
      SottoNoiseHandshake *reader = i % 2 ? init : resp;

      g_byte_array_set_size (wire, 0);
      g_byte_array_set_size (plain, 0);
      g_assert_true (sotto_noise_handshake_write_message (writer, (const guint8 *)payloads[i],
                                                          strlen (payloads[i]), wire, &error));
      assert_hex (wire->data, wire->len, expected[i]);
      g_assert_true (sotto_noise_handshake_read_message (reader, wire->data, wire->len,
                                                         plain, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (plain->data, plain->len, payloads[i], strlen (payloads[i]));
    }

  sotto_noise_handshake_get_handshake_hash (init, h);
  assert_hex (h, 64, EX_HASH);
  sotto_noise_handshake_get_handshake_hash (resp, h);
  assert_hex (h, 64, EX_HASH);

  g_assert_true (sotto_noise_handshake_split (init, &init_send, &init_recv, &error));
  g_assert_true (sotto_noise_handshake_split (resp, &resp_send, &resp_recv, &error));

  g_byte_array_set_size (wire, 0);
  g_assert_true (sotto_noise_cipher_encrypt (init_send, NULL, 0, (const guint8 *)"ping", 4,
                                             wire, &error));
  assert_hex (wire->data, wire->len, EX_PING);
  g_byte_array_set_size (plain, 0);
  g_assert_true (sotto_noise_cipher_decrypt (resp_recv, NULL, 0, wire->data, wire->len,
                                             plain, &error));
  g_assert_cmpmem (plain->data, plain->len, "ping", 4);

  g_byte_array_set_size (wire, 0);
  g_assert_true (sotto_noise_cipher_encrypt (resp_send, NULL, 0, (const guint8 *)"pong", 4,
                                             wire, &error));
  assert_hex (wire->data, wire->len, EX_PONG);
  g_byte_array_set_size (plain, 0);
  g_assert_true (sotto_noise_cipher_decrypt (init_recv, NULL, 0, wire->data, wire->len,
                                             plain, &error));
  g_assert_cmpmem (plain->data, plain->len, "pong", 4);

  /* rekeyed after the first message: "ping" again, nonce 1 */
  {
    g_autoptr (SottoNoiseHandshake) init2 = NULL;
    g_autoptr (SottoNoiseHandshake) resp2 = NULL;
    g_autoptr (SottoNoiseCipher) send2 = NULL;

    init2 = sotto_noise_handshake_new (XX, TRUE, (const guint8 *)PROLOGUE, 7, NULL);
    resp2 = sotto_noise_handshake_new (XX, FALSE, (const guint8 *)PROLOGUE, 7, NULL);
    example_keys (key, 0x00);
    sotto_noise_handshake_set_static_key (init2, key);
    example_keys (key, 0x20);
    sotto_noise_handshake_set_ephemeral_key (init2, key);
    example_keys (key, 0x40);
    sotto_noise_handshake_set_static_key (resp2, key);
    example_keys (key, 0x60);
    sotto_noise_handshake_set_ephemeral_key (resp2, key);
    g_assert_true (sotto_noise_handshake_start (init2, NULL));
    g_assert_true (sotto_noise_handshake_start (resp2, NULL));
    for (guint i = 0; i < 3; i++)
      g_byte_array_unref (pass_message (i % 2 ? resp2 : init2, i % 2 ? init2 : resp2,
                                        payloads[i]));
    g_assert_true (sotto_noise_handshake_split (init2, &send2, NULL, NULL));

    g_byte_array_set_size (wire, 0);
    g_assert_true (sotto_noise_cipher_encrypt (send2, NULL, 0, (const guint8 *)"ping", 4,
                                               wire, NULL));
    assert_hex (wire->data, wire->len, EX_PING);
    sotto_noise_cipher_rekey (send2);
    g_byte_array_set_size (wire, 0);
    g_assert_true (sotto_noise_cipher_encrypt (send2, NULL, 0, (const guint8 *)"ping", 4,
                                               wire, NULL));
    assert_hex (wire->data, wire->len, EX_PING_REKEYED);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/noise/xx/round-trip", test_xx_round_trip);
  g_test_add_func ("/noise/xx/remote-static", test_xx_remote_static);
  g_test_add_func ("/noise/xx/handshake-hash", test_xx_handshake_hash);
  g_test_add_func ("/noise/xx/tampered", test_xx_tampered);
  g_test_add_func ("/noise/dh/all-zero", test_dh_all_zero);
  g_test_add_func ("/noise/handshake/max-length", test_handshake_max_length);
  g_test_add_func ("/noise/handshake/wrong-prologue", test_handshake_wrong_prologue);
  g_test_add_func ("/noise/handshake/truncated", test_handshake_truncated);
  g_test_add_func ("/noise/handshake/wrong-action", test_handshake_wrong_action);
  g_test_add_func ("/noise/handshake/keys-checked", test_handshake_keys_checked);
  g_test_add_func ("/noise/handshake/one-way", test_one_way);
  g_test_add_func ("/noise/psk/several", test_psk_several);
  g_test_add_func ("/noise/protocol-name/invalid", test_protocol_name_invalid);
  g_test_add_func ("/noise/transport/max-length", test_transport_max_length);
  g_test_add_func ("/noise/transport/nonce-exhausted", test_transport_nonce_exhausted);
  g_test_add_func ("/noise/transport/rekey", test_transport_rekey);
  g_test_add_func ("/noise/transport/failed-decrypt", test_transport_failed_decrypt);
  g_test_add_func ("/noise/protocol-example", test_protocol_example);

  return g_test_run ();
}
