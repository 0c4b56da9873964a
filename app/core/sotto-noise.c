/* sotto-noise.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Noise Protocol Framework, revision 34 (noiseprotocol.org/noise.html),
 * for DH 25519, cipher ChaChaPoly and hash BLAKE2b, on libsodium. A pure
 * state machine: bytes in, bytes out, no I/O, no main loop. Sotto itself
 * speaks Noise_XX_25519_ChaChaPoly_BLAKE2b; the other patterns are here so
 * the whole machinery can be checked against the published test vectors.
 *
 * Every secret (k, ck, h, s, e, psk, DH outputs, HKDF temporaries and the
 * HMAC's hash state) lives in one sodium_malloc() block per handshake and
 * one per cipher: guard pages, never swapped, wiped when done. A wiped
 * block is kept for the next handshake or cipher (see secure_alloc()).
 */
#define G_LOG_DOMAIN "sotto-noise"

#include "config.h"

#include <string.h>
#include <sodium.h>

#include "sotto-noise-private.h"

#define DHLEN    32
#define KEYLEN   SOTTO_NOISE_KEY_LEN
#define HASHLEN  SOTTO_NOISE_HASH_LEN
#define BLOCKLEN 128
#define TAGLEN   SOTTO_NOISE_TAG_LEN
#define MAXLEN   SOTTO_NOISE_MAX_MESSAGE_LEN
/* Noise reserves the last nonce for Rekey(). */
#define NONCE_RESERVED G_MAXUINT64

/* Longer names are a mistake or an attack; real ones are ~50 bytes. */
#define PROTOCOL_NAME_MAX 255
#define MAX_MESSAGES      4
/* the longest message pattern (6 tokens) plus psk tokens */
#define MAX_TOKENS        8
/* psk0 ... pskN for N messages */
#define MAX_PSKS          (MAX_MESSAGES + 1)

G_STATIC_ASSERT (DHLEN == crypto_scalarmult_BYTES);
G_STATIC_ASSERT (DHLEN == crypto_scalarmult_SCALARBYTES);
G_STATIC_ASSERT (KEYLEN == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
G_STATIC_ASSERT (TAGLEN == crypto_aead_chacha20poly1305_ietf_ABYTES);
G_STATIC_ASSERT (12 == crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
G_STATIC_ASSERT (HASHLEN <= crypto_generichash_BYTES_MAX);

G_DEFINE_QUARK (sotto-noise-error-quark, sotto_noise_error)

typedef enum
{
  TOKEN_END = 0,
  TOKEN_E,
  TOKEN_S,
  TOKEN_EE,
  TOKEN_ES,
  TOKEN_SE,
  TOKEN_SS,
  TOKEN_PSK,
} Token;

typedef struct
{
  const char *name;
  /* pre-messages: "s" or "" (no supported pattern has an "e" in one) */
  const char *pre_initiator;
  const char *pre_responder;
  /* alternating, the initiator's first; NULL-terminated */
  const char *messages[MAX_MESSAGES + 1];
} PatternDef;

/* Sections 7.4 (one-way), 7.5 (interactive) and 18 (deferred) of the
 * specification, in its own notation. */
/* A position in @array, which may have no storage yet when it is empty:
 * never NULL + offset (undefined, even for 0). */
static guint8 *
array_at (GByteArray *array,
          gsize       offset)
{
  g_assert (offset <= array->len);
  return array->data != NULL ? array->data + offset : NULL;
}

static const PatternDef pattern_defs[] = {
  { "N",    "",  "s", { "e, es", NULL } },
  { "K",    "s", "s", { "e, es, ss", NULL } },
  { "X",    "",  "s", { "e, es, s, ss", NULL } },

  { "NN",   "",  "",  { "e", "e, ee", NULL } },
  { "NK",   "",  "s", { "e, es", "e, ee", NULL } },
  { "NX",   "",  "",  { "e", "e, ee, s, es", NULL } },
  { "XN",   "",  "",  { "e", "e, ee", "s, se", NULL } },
  { "XK",   "",  "s", { "e, es", "e, ee", "s, se", NULL } },
  { "XX",   "",  "",  { "e", "e, ee, s, es", "s, se", NULL } },
  { "KN",   "s", "",  { "e", "e, ee, se", NULL } },
  { "KK",   "s", "s", { "e, es, ss", "e, ee, se", NULL } },
  { "KX",   "s", "",  { "e", "e, ee, se, s, es", NULL } },
  { "IN",   "",  "",  { "e, s", "e, ee, se", NULL } },
  { "IK",   "",  "s", { "e, es, s, ss", "e, ee, se", NULL } },
  { "IX",   "",  "",  { "e, s", "e, ee, se, s, es", NULL } },

  { "NK1",  "",  "s", { "e", "e, ee, es", NULL } },
  { "NX1",  "",  "",  { "e", "e, ee, s", "es", NULL } },
  { "X1N",  "",  "",  { "e", "e, ee", "s", "se", NULL } },
  { "X1K",  "",  "s", { "e, es", "e, ee", "s", "se", NULL } },
  { "XK1",  "",  "s", { "e", "e, ee, es", "s, se", NULL } },
  { "X1K1", "",  "s", { "e", "e, ee, es", "s", "se", NULL } },
  { "X1X",  "",  "",  { "e", "e, ee, s, es", "s", "se", NULL } },
  { "XX1",  "",  "",  { "e", "e, ee, s", "es, s, se", NULL } },
  { "X1X1", "",  "",  { "e", "e, ee, s", "es, s", "se", NULL } },
  { "K1N",  "s", "",  { "e", "e, ee", "se", NULL } },
  { "K1K",  "s", "s", { "e, es", "e, ee", "se", NULL } },
  { "KK1",  "s", "s", { "e", "e, ee, se, es", NULL } },
  { "K1K1", "s", "s", { "e", "e, ee, es", "se", NULL } },
  { "K1X",  "s", "",  { "e", "e, ee, s, es", "se", NULL } },
  { "KX1",  "s", "",  { "e", "e, ee, se, s", "es", NULL } },
  { "K1X1", "s", "",  { "e", "e, ee, s", "se, es", NULL } },
  { "I1N",  "",  "",  { "e, s", "e, ee", "se", NULL } },
  { "I1K",  "",  "s", { "e, es, s", "e, ee", "se", NULL } },
  { "IK1",  "",  "s", { "e, s", "e, ee, se, es", NULL } },
  { "I1K1", "",  "s", { "e, s", "e, ee, es", "se", NULL } },
  { "I1X",  "",  "",  { "e, s", "e, ee, s, es", "se", NULL } },
  { "IX1",  "",  "",  { "e, s", "e, ee, se, s", "es", NULL } },
  { "I1X1", "",  "",  { "e, s", "e, ee, s", "se, es", NULL } },
};

typedef enum
{
  STATE_NEW,      /* keys may be set */
  STATE_RUNNING,  /* messages being exchanged */
  STATE_SPLIT,    /* all messages done, split() expected */
  STATE_DONE,     /* split() done: only the handshake hash is left */
  STATE_FAILED,   /* an error: secrets wiped, no further use */
} State;

/* Secrets of one handshake. The hash state comes first: libsodium wants
 * it 64-byte aligned, and as the struct's size is then a multiple of 64,
 * so is the address sodium_malloc() returns (it puts the block right
 * before a guard page). */
typedef struct
{
  crypto_generichash_state hash;
  guint8 block[BLOCKLEN];           /* HMAC key ^ ipad / opad */
  guint8 inner[HASHLEN];            /* HMAC inner hash */
  guint8 temp_key[HASHLEN];         /* HKDF */
  guint8 out[3][HASHLEN];           /* HKDF outputs */
  guint8 dh[DHLEN];
  guint8 ck[HASHLEN];
  guint8 h[HASHLEN];
  guint8 k[KEYLEN];
  guint8 s[DHLEN];
  guint8 e[DHLEN];
  guint8 psk[MAX_PSKS][KEYLEN];
} HandshakeSecrets;

typedef struct
{
  guint8 k[KEYLEN];
  guint8 rekey[KEYLEN + TAGLEN];
} CipherSecrets;

struct _SottoNoiseHandshake
{
  /* the protocol, fixed by the name */
  char     *protocol_name;
  guint8    tokens[MAX_MESSAGES][MAX_TOKENS + 1];  /* TOKEN_END-terminated */
  guint     n_messages;
  gboolean  pre_s[2];          /* [0]: initiator's pre-message, [1]: responder's */
  guint     n_psk_tokens;
  gboolean  initiator;
  GBytes   *prologue;

  /* progress */
  State     state;
  guint     message_index;
  guint     n_psks;            /* added with add_psk() */
  guint     psk_index;         /* the next one to mix in */
  gboolean  has_k;
  guint64   n;

  /* public halves in ordinary memory; the rest in sodium_malloc() memory */
  HandshakeSecrets *sec;
  guint8    s_pub[DHLEN];
  guint8    e_pub[DHLEN];
  guint8    rs[DHLEN];
  guint8    re[DHLEN];
  gboolean  has_s;
  gboolean  has_e;
  gboolean  has_rs;
  gboolean  has_re;
};

struct _SottoNoiseCipher
{
  CipherSecrets *sec;
  guint64        n;
};

static const guint8 zeros[KEYLEN];

/* sodium_malloc() maps pages, guards and locks them, and sodium_free()
 * undoes it all: about ten system calls that change page tables, as
 * long as an X25519 operation each, and a session needs three blocks.
 * So a released block is wiped and kept, still guarded and locked, for
 * the next one of its size; a few per size are enough for sessions that
 * come and go. The cache belongs to the process like malloc()'s arenas:
 * it holds no secret, only zeros. */
#define SECURE_CACHE_MAX 8

typedef struct
{
  gsize    size;
  guint    n_blocks;
  gpointer blocks[SECURE_CACHE_MAX];
} SecureCache;

G_LOCK_DEFINE_STATIC (secure_caches);
static SecureCache secure_caches[] = {
  { sizeof (HandshakeSecrets), 0, { NULL, } },
  { sizeof (CipherSecrets), 0, { NULL, } },
};

static SecureCache *
secure_cache_for (gsize size)
{
  for (gsize i = 0; i < G_N_ELEMENTS (secure_caches); i++)
    if (secure_caches[i].size == size)
      return &secure_caches[i];
  return NULL;
}

/* Zeroed memory from sodium_malloc(), fresh or kept. */
static gpointer
secure_alloc (gsize size)
{
  SecureCache *cache = secure_cache_for (size);
  gpointer p = NULL;

  G_LOCK (secure_caches);
  if (cache != NULL && cache->n_blocks > 0)
    p = cache->blocks[--cache->n_blocks];
  G_UNLOCK (secure_caches);
  if (p != NULL)
    return p;

  p = sodium_malloc (size);
  /* Out of locked memory is not something a caller can handle. */
  if (p == NULL)
    g_error ("sodium_malloc (%" G_GSIZE_FORMAT ") failed", size);
  sodium_memzero (p, size);
  return p;
}

/* Wipes @p, then keeps it or gives it back. */
static void
secure_free (gpointer p,
             gsize    size)
{
  SecureCache *cache = secure_cache_for (size);
  gboolean kept = FALSE;

  if (p == NULL)
    return;

  sodium_memzero (p, size);
  G_LOCK (secure_caches);
  if (cache != NULL && cache->n_blocks < SECURE_CACHE_MAX)
    {
      cache->blocks[cache->n_blocks++] = p;
      kept = TRUE;
    }
  G_UNLOCK (secure_caches);
  if (!kept)
    sodium_free (p);
}

/* ChaCha20-Poly1305 (IETF) with Noise's nonce: 32 zero bits, then the
 * 64-bit counter little-endian. */
static void
make_nonce (guint8  nonce[12],
            guint64 n)
{
  guint64 le = GUINT64_TO_LE (n);

  memset (nonce, 0, 4);
  memcpy (nonce + 4, &le, 8);
}

static void
aead_encrypt (const guint8 *k,
              guint64       n,
              const guint8 *ad,
              gsize         ad_len,
              const guint8 *plaintext,
              gsize         len,
              guint8       *out)
{
  guint8 nonce[12];
  unsigned long long out_len = 0;

  make_nonce (nonce, n);
  crypto_aead_chacha20poly1305_ietf_encrypt (out, &out_len, plaintext, len,
                                             ad, ad_len, NULL, nonce, k);
  g_assert (out_len == len + TAGLEN);
}

static gboolean
aead_decrypt (const guint8 *k,
              guint64       n,
              const guint8 *ad,
              gsize         ad_len,
              const guint8 *ciphertext,
              gsize         len,
              guint8       *out)
{
  guint8 nonce[12];
  unsigned long long out_len = 0;

  g_assert (len >= TAGLEN);
  make_nonce (nonce, n);
  return crypto_aead_chacha20poly1305_ietf_decrypt (out, &out_len, NULL, ciphertext, len,
                                                    ad, ad_len, nonce, k) == 0;
}

static SottoNoiseCipher *
cipher_new (const guint8 *k)
{
  SottoNoiseCipher *c = g_new0 (SottoNoiseCipher, 1);

  c->sec = secure_alloc (sizeof *c->sec);
  memcpy (c->sec->k, k, KEYLEN);
  return c;
}

static gboolean
can_encrypt (SottoNoiseCipher  *c,
             gsize              len,
             GError           **error)
{
  if (len > MAXLEN - TAGLEN)
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TOO_LONG,
                   "Noise transport message would be longer than %d bytes", MAXLEN);
      return FALSE;
    }
  if (c->n == NONCE_RESERVED)
    {
      g_set_error_literal (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_NONCE_EXHAUSTED,
                           "Noise transport cipher: nonces exhausted");
      return FALSE;
    }

  return TRUE;
}

static gboolean
can_decrypt (SottoNoiseCipher  *c,
             gsize              len,
             GError           **error)
{
  if (len > MAXLEN)
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TOO_LONG,
                   "Noise transport message longer than %d bytes", MAXLEN);
      return FALSE;
    }
  if (len < TAGLEN)
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TRUNCATED,
                   "Noise transport message shorter than its %d-byte tag", TAGLEN);
      return FALSE;
    }
  if (c->n == NONCE_RESERVED)
    {
      g_set_error_literal (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_NONCE_EXHAUSTED,
                           "Noise transport cipher: nonces exhausted");
      return FALSE;
    }

  return TRUE;
}

static void
decrypt_failed (SottoNoiseCipher  *c,
                GError           **error)
{
  g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DECRYPT,
               "Noise transport message %" G_GUINT64_FORMAT " does not authenticate", c->n);
}

/* HMAC (RFC 2104) over BLAKE2b. Keyed BLAKE2b would be shorter but is a
 * different function, and every other Noise implementation uses HMAC. */
static void
hmac (HandshakeSecrets *sec,
      const guint8     *key,
      gsize             key_len,
      const guint8     *data1,
      gsize             data1_len,
      const guint8     *data2,
      gsize             data2_len,
      guint8           *out)
{
  /* Keys here are ck or an HKDF temp_key: never longer than a block. */
  g_assert (key_len <= BLOCKLEN);

  memset (sec->block, 0, BLOCKLEN);
  memcpy (sec->block, key, key_len);
  for (gsize i = 0; i < BLOCKLEN; i++)
    sec->block[i] ^= 0x36;
  crypto_generichash_init (&sec->hash, NULL, 0, HASHLEN);
  crypto_generichash_update (&sec->hash, sec->block, BLOCKLEN);
  if (data1_len > 0)
    crypto_generichash_update (&sec->hash, data1, data1_len);
  if (data2_len > 0)
    crypto_generichash_update (&sec->hash, data2, data2_len);
  crypto_generichash_final (&sec->hash, sec->inner, HASHLEN);

  for (gsize i = 0; i < BLOCKLEN; i++)
    sec->block[i] ^= 0x36 ^ 0x5c;
  crypto_generichash_init (&sec->hash, NULL, 0, HASHLEN);
  crypto_generichash_update (&sec->hash, sec->block, BLOCKLEN);
  crypto_generichash_update (&sec->hash, sec->inner, HASHLEN);
  crypto_generichash_final (&sec->hash, out, HASHLEN);
}

/* HKDF as Noise defines it (section 4.3), chaining key ck, outputs in
 * sec->out[0 .. n_outputs - 1]. */
static void
hkdf (HandshakeSecrets *sec,
      const guint8     *ikm,
      gsize             ikm_len,
      guint             n_outputs)
{
  guint8 byte;

  g_assert (n_outputs == 2 || n_outputs == 3);

  hmac (sec, sec->ck, HASHLEN, ikm, ikm_len, NULL, 0, sec->temp_key);
  byte = 0x01;
  hmac (sec, sec->temp_key, HASHLEN, &byte, 1, NULL, 0, sec->out[0]);
  byte = 0x02;
  hmac (sec, sec->temp_key, HASHLEN, sec->out[0], HASHLEN, &byte, 1, sec->out[1]);
  if (n_outputs == 3)
    {
      byte = 0x03;
      hmac (sec, sec->temp_key, HASHLEN, sec->out[1], HASHLEN, &byte, 1, sec->out[2]);
    }
  /* The HMACs' temporaries, and the hash state that held the input
   * key material, go once the HKDF is done: each HMAC overwrites the
   * last one's, so once is enough. */
  sodium_memzero (sec->temp_key, HASHLEN);
  sodium_memzero (sec->block, BLOCKLEN);
  sodium_memzero (sec->inner, HASHLEN);
  sodium_memzero (&sec->hash, sizeof sec->hash);
}

static void
mix_hash (SottoNoiseHandshake *hs,
          const guint8        *data,
          gsize                len)
{
  HandshakeSecrets *sec = hs->sec;

  crypto_generichash_init (&sec->hash, NULL, 0, HASHLEN);
  crypto_generichash_update (&sec->hash, sec->h, HASHLEN);
  if (len > 0)
    crypto_generichash_update (&sec->hash, data, len);
  crypto_generichash_final (&sec->hash, sec->h, HASHLEN);
}

static void
initialize_key (SottoNoiseHandshake *hs,
                const guint8        *temp_k)
{
  /* HASHLEN is 64: the cipher key is the first 32 bytes. */
  memcpy (hs->sec->k, temp_k, KEYLEN);
  hs->has_k = TRUE;
  hs->n = 0;
}

static void
mix_key (SottoNoiseHandshake *hs,
         const guint8        *ikm,
         gsize                ikm_len)
{
  HandshakeSecrets *sec = hs->sec;

  hkdf (sec, ikm, ikm_len, 2);
  memcpy (sec->ck, sec->out[0], HASHLEN);
  initialize_key (hs, sec->out[1]);
  sodium_memzero (sec->out, sizeof sec->out);
}

static void
mix_key_and_hash (SottoNoiseHandshake *hs,
                  const guint8        *ikm)
{
  HandshakeSecrets *sec = hs->sec;

  hkdf (sec, ikm, KEYLEN, 3);
  memcpy (sec->ck, sec->out[0], HASHLEN);
  mix_hash (hs, sec->out[1], HASHLEN);
  initialize_key (hs, sec->out[2]);
  sodium_memzero (sec->out, sizeof sec->out);
}

/* Appends len (+ TAGLEN once a key is set) bytes to out. */
static gboolean
encrypt_and_hash (SottoNoiseHandshake  *hs,
                  const guint8         *plaintext,
                  gsize                 len,
                  GByteArray           *out,
                  GError              **error)
{
  guint offset = out->len;

  if (!hs->has_k)
    {
      g_byte_array_append (out, plaintext, len);
      mix_hash (hs, array_at (out, offset), len);
      return TRUE;
    }

  if (hs->n == NONCE_RESERVED)
    {
      g_set_error_literal (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_NONCE_EXHAUSTED,
                           "Noise handshake: nonces exhausted");
      return FALSE;
    }

  g_byte_array_set_size (out, offset + len + TAGLEN);
  aead_encrypt (hs->sec->k, hs->n, hs->sec->h, HASHLEN, plaintext, len, array_at (out, offset));
  hs->n++;
  mix_hash (hs, array_at (out, offset), len + TAGLEN);
  return TRUE;
}

/* Writes len (- TAGLEN once a key is set) bytes to out. */
static gboolean
decrypt_and_hash (SottoNoiseHandshake  *hs,
                  const guint8         *ciphertext,
                  gsize                 len,
                  guint8               *out,
                  GError              **error)
{
  if (!hs->has_k)
    {
      if (len > 0)
        memcpy (out, ciphertext, len);
      mix_hash (hs, ciphertext, len);
      return TRUE;
    }

  if (hs->n == NONCE_RESERVED)
    {
      g_set_error_literal (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_NONCE_EXHAUSTED,
                           "Noise handshake: nonces exhausted");
      return FALSE;
    }

  if (!aead_decrypt (hs->sec->k, hs->n, hs->sec->h, HASHLEN, ciphertext, len, out))
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DECRYPT,
                   "Noise handshake message %u does not authenticate",
                   hs->message_index + 1);
      return FALSE;
    }
  hs->n++;
  mix_hash (hs, ciphertext, len);
  return TRUE;
}

static gboolean
mix_dh (SottoNoiseHandshake  *hs,
        const guint8         *secret,
        const guint8         *pub,
        GError              **error)
{
  HandshakeSecrets *sec = hs->sec;

  /* A low-order public key gives an all-zero result: whoever sent it
   * would know the "shared" secret. libsodium already returns -1 then;
   * the explicit check keeps that promise independent of its version. */
  if (crypto_scalarmult (sec->dh, secret, pub) != 0 || sodium_is_zero (sec->dh, DHLEN))
    {
      sodium_memzero (sec->dh, DHLEN);
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DH,
                   "Noise handshake message %u: the Diffie-Hellman result is all zeros "
                   "(a low-order public key)", hs->message_index + 1);
      return FALSE;
    }

  mix_key (hs, sec->dh, DHLEN);
  sodium_memzero (sec->dh, DHLEN);
  return TRUE;
}

/* ee, es, se, ss: the first letter is the initiator's key, the second the
 * responder's, whoever is running the token. */
static gboolean
process_dh_token (SottoNoiseHandshake  *hs,
                  Token                 token,
                  GError              **error)
{
  gboolean initiator_ephemeral = token == TOKEN_EE || token == TOKEN_ES;
  gboolean responder_ephemeral = token == TOKEN_EE || token == TOKEN_SE;
  gboolean local_ephemeral = hs->initiator ? initiator_ephemeral : responder_ephemeral;
  gboolean remote_ephemeral = hs->initiator ? responder_ephemeral : initiator_ephemeral;
  const guint8 *secret = local_ephemeral ? hs->sec->e : hs->sec->s;
  const guint8 *pub = remote_ephemeral ? hs->re : hs->rs;

  /* The pattern tables and start() guarantee these. */
  g_assert (local_ephemeral ? hs->has_e : hs->has_s);
  g_assert (remote_ephemeral ? hs->has_re : hs->has_rs);

  return mix_dh (hs, secret, pub, error);
}

static void
wipe_secrets (SottoNoiseHandshake *hs,
              gboolean             keep_hash)
{
  HandshakeSecrets *sec = hs->sec;
  guint8 h[HASHLEN];

  if (keep_hash)
    memcpy (h, sec->h, HASHLEN);
  sodium_memzero (sec, sizeof *sec);
  if (keep_hash)
    {
      memcpy (sec->h, h, HASHLEN);
      sodium_memzero (h, HASHLEN);
    }
  hs->has_k = FALSE;
}

static void
fail (SottoNoiseHandshake *hs)
{
  hs->state = STATE_FAILED;
  wipe_secrets (hs, FALSE);
}

static gboolean
uses_psk (SottoNoiseHandshake *hs)
{
  return hs->n_psk_tokens > 0;
}

static gboolean
local_writes (SottoNoiseHandshake *hs,
              guint                message_index)
{
  /* Messages alternate, the initiator's first. */
  return (message_index % 2 == 0) == !!hs->initiator;
}

/* One word of a message pattern, "e" to "ss", as @len bytes of @word. */
static Token
parse_token (const char *word,
             gsize       len)
{
  static const struct { const char *word; Token token; } words[] = {
    { "e", TOKEN_E }, { "s", TOKEN_S }, { "ee", TOKEN_EE }, { "es", TOKEN_ES },
    { "se", TOKEN_SE }, { "ss", TOKEN_SS },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (words); i++)
    if (strlen (words[i].word) == len && memcmp (word, words[i].word, len) == 0)
      return words[i].token;
  g_assert_not_reached ();
}

/* "XX" or "NNpsk0+psk2" (@len bytes, not NUL-terminated): the base
 * pattern, then psk modifiers. Parsed in place: a session parses its
 * protocol's name at every handshake. */
static gboolean
parse_pattern (SottoNoiseHandshake  *hs,
               const char           *pattern,
               gsize                 len,
               GError              **error)
{
  static const char base_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  gsize base_len = 0;
  const PatternDef *def = NULL;
  gboolean psk_at[MAX_MESSAGES + 1] = { FALSE, };
  gboolean sent_e[2] = { FALSE, FALSE };
  gboolean psk_seen = FALSE;
  int last_psk = -1;

  while (base_len < len && pattern[base_len] != '\0' &&
         strchr (base_chars, pattern[base_len]) != NULL)
    base_len++;

  for (gsize i = 0; i < G_N_ELEMENTS (pattern_defs); i++)
    if (strlen (pattern_defs[i].name) == base_len &&
        memcmp (pattern_defs[i].name, pattern, base_len) == 0)
      def = &pattern_defs[i];

  if (def == NULL)
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                   "Unsupported Noise handshake pattern “%.*s”", (int) len, pattern);
      return FALSE;
    }

  while (def->messages[hs->n_messages] != NULL)
    hs->n_messages++;

  /* "+"-separated modifiers: psk0 .. psk<n_messages>, one digit, each
   * once, in order. */
  for (gsize at = base_len; at < len;)
    {
      const char *m = pattern + at;
      const char *plus = memchr (m, '+', len - at);
      gsize m_len = plus != NULL ? (gsize) (plus - m) : len - at;
      int position;

      if (m_len != 4 || memcmp (m, "psk", 3) != 0 || !g_ascii_isdigit (m[3]) ||
          (position = m[3] - '0') > (int) hs->n_messages || position <= last_psk)
        {
          g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                       "Unsupported Noise pattern modifier “%.*s” in “%.*s”",
                       (int) m_len, m, (int) len, pattern);
          return FALSE;
        }
      psk_at[position] = TRUE;
      last_psk = position;
      at += m_len + 1;
      /* "XXpsk0+" ends in an empty modifier */
      if (plus != NULL && at == len)
        {
          g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                       "Unsupported Noise pattern modifier “” in “%.*s”", (int) len, pattern);
          return FALSE;
        }
    }

  hs->pre_s[0] = strcmp (def->pre_initiator, "s") == 0;
  hs->pre_s[1] = strcmp (def->pre_responder, "s") == 0;
  g_assert (hs->pre_s[0] || def->pre_initiator[0] == '\0');
  g_assert (hs->pre_s[1] || def->pre_responder[0] == '\0');

  for (guint i = 0; i < hs->n_messages; i++)
    {
      const char *word = def->messages[i];
      guint n = 0;

      /* psk0 opens the first message, pskN closes message N. */
      if (i == 0 && psk_at[0])
        hs->tokens[i][n++] = TOKEN_PSK;
      /* "e, ee, s, es" */
      for (;;)
        {
          gsize word_len = strcspn (word, ",");

          hs->tokens[i][n++] = parse_token (word, word_len);
          if (word[word_len] == '\0')
            break;
          g_assert (word[word_len + 1] == ' ');
          word += word_len + 2;
        }
      if (psk_at[i + 1])
        hs->tokens[i][n++] = TOKEN_PSK;
      g_assert (n <= MAX_TOKENS);
      hs->tokens[i][n] = TOKEN_END;

      /* Section 9.3: nothing may be encrypted under a psk-derived key by
       * a party that has not sent an ephemeral key, or the psk alone
       * would make its nonces repeat across sessions. */
      for (guint j = 0; j < n; j++)
        {
          if (hs->tokens[i][j] == TOKEN_E)
            sent_e[i % 2] = TRUE;
          else if (hs->tokens[i][j] == TOKEN_PSK)
            {
              psk_seen = TRUE;
              hs->n_psk_tokens++;
            }
        }
      if (psk_seen && !sent_e[i % 2])
        {
          g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                       "Noise pattern “%.*s” breaks the psk validity rule", (int) len, pattern);
          return FALSE;
        }
    }

  /* Transport messages: both parties send in interactive patterns. */
  if (psk_seen && hs->n_messages > 1 && !(sent_e[0] && sent_e[1]))
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                   "Noise pattern “%.*s” breaks the psk validity rule", (int) len, pattern);
      return FALSE;
    }

  return TRUE;
}

/* Whether the next "_"-separated part of a protocol name, from *@at, is
 * @expected (NULL: anything); moves *@at past it and its "_", and gives
 * where it starts and how long it is. */
static gboolean
next_name_part (const char  **at,
                const char   *expected,
                const char  **part,
                gsize        *part_len)
{
  const char *end = strchr (*at, '_');

  *part = *at;
  *part_len = end != NULL ? (gsize) (end - *at) : strlen (*at);
  *at = end != NULL ? end + 1 : *at + *part_len;
  return expected == NULL ||
         (strlen (expected) == *part_len && memcmp (*part, expected, *part_len) == 0);
}

static gboolean
parse_protocol_name (SottoNoiseHandshake  *hs,
                     const char           *protocol_name,
                     GError              **error)
{
  const char *at = protocol_name;
  const char *part;
  const char *pattern;
  gsize part_len;
  gsize pattern_len;
  gboolean functions_ok;

  /* Bounded scan: a huge string costs no more than one past the limit. */
  if (strnlen (protocol_name, PROTOCOL_NAME_MAX + 1) > PROTOCOL_NAME_MAX)
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                   "Noise protocol name longer than %d bytes", PROTOCOL_NAME_MAX);
      return FALSE;
    }

  /* Noise_<pattern>_25519_ChaChaPoly_BLAKE2b: exactly five parts. */
  {
    guint n_underscores = 0;

    for (const char *c = protocol_name; *c != '\0'; c++)
      n_underscores += *c == '_';
    if (n_underscores != 4 || !next_name_part (&at, "Noise", &part, &part_len))
      {
        g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                     "Malformed Noise protocol name “%s”", protocol_name);
        return FALSE;
      }
  }

  next_name_part (&at, NULL, &pattern, &pattern_len);
  functions_ok = next_name_part (&at, "25519", &part, &part_len);
  functions_ok = next_name_part (&at, "ChaChaPoly", &part, &part_len) && functions_ok;
  functions_ok = next_name_part (&at, "BLAKE2b", &part, &part_len) && functions_ok;
  if (!functions_ok)
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                   "Unsupported Noise functions in “%s”: only 25519, ChaChaPoly "
                   "and BLAKE2b are implemented", protocol_name);
      return FALSE;
    }

  return parse_pattern (hs, pattern, pattern_len, error);
}

/* The exact length of the next message we write, or of the fixed part
 * (everything but the payload) of the next one we read. */
static gsize
message_overhead (SottoNoiseHandshake *hs)
{
  const guint8 *tokens = hs->tokens[hs->message_index];
  gboolean has_k = hs->has_k;
  gsize len = 0;

  for (guint i = 0; tokens[i] != TOKEN_END; i++)
    {
      switch (tokens[i])
        {
        case TOKEN_E:
          len += DHLEN;
          if (uses_psk (hs))
            has_k = TRUE;
          break;
        case TOKEN_S:
          len += DHLEN + (has_k ? TAGLEN : 0);
          break;
        default:
          has_k = TRUE;
          break;
        }
    }

  return len + (has_k ? TAGLEN : 0);
}

static gboolean
check_action (SottoNoiseHandshake  *hs,
              SottoNoiseAction      wanted,
              GError              **error)
{
  if (sotto_noise_handshake_get_action (hs) != wanted)
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                   "Noise handshake: cannot %s a message now",
                   wanted == SOTTO_NOISE_ACTION_WRITE_MESSAGE ? "write" : "read");
      return FALSE;
    }
  return TRUE;
}

/**
 * sotto_noise_handshake_new:
 * @protocol_name: e.g. "Noise_XX_25519_ChaChaPoly_BLAKE2b"
 * @initiator: which side this is
 * @prologue: (array length=prologue_len) (nullable): data both sides must agree on
 * @prologue_len: its length
 * @error: %SOTTO_NOISE_ERROR_INVALID for a name that is malformed or not
 *   supported
 *
 * Set the keys the pattern needs, then call sotto_noise_handshake_start().
 *
 * Returns: (transfer full): a new handshake, or %NULL
 */
SottoNoiseHandshake *
sotto_noise_handshake_new (const char    *protocol_name,
                           gboolean       initiator,
                           const guint8  *prologue,
                           gsize          prologue_len,
                           GError       **error)
{
  g_autoptr (SottoNoiseHandshake) hs = NULL;

  g_return_val_if_fail (protocol_name != NULL, NULL);
  g_return_val_if_fail (prologue != NULL || prologue_len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (sodium_init () < 0)
    {
      g_set_error_literal (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                           "libsodium could not be initialized");
      return NULL;
    }

  hs = g_new0 (SottoNoiseHandshake, 1);
  hs->initiator = !!initiator;
  hs->state = STATE_NEW;
  hs->sec = secure_alloc (sizeof *hs->sec);

  if (!parse_protocol_name (hs, protocol_name, error))
    return NULL;

  hs->protocol_name = g_strdup (protocol_name);
  hs->prologue = g_bytes_new (prologue, prologue_len);

  return g_steal_pointer (&hs);
}

/**
 * sotto_noise_handshake_set_static_key:
 * @hs: a handshake not yet started
 * @secret: the local static X25519 secret key; the public key is derived
 */
void
sotto_noise_handshake_set_static_key (SottoNoiseHandshake *hs,
                                      const guint8         secret[32])
{
  g_return_if_fail (hs != NULL && secret != NULL);
  g_return_if_fail (hs->state == STATE_NEW);

  memcpy (hs->sec->s, secret, DHLEN);
  crypto_scalarmult_base (hs->s_pub, hs->sec->s);
  hs->has_s = TRUE;
}

/**
 * sotto_noise_handshake_set_static_keypair:
 * @hs: a handshake not yet started
 * @secret: the local static X25519 secret key
 * @pub: its public key, as the caller already has it
 *
 * Like sotto_noise_handshake_set_static_key(), without deriving the public
 * key again: a long-lived identity derives it once, and a handshake then
 * costs only the X25519 operations of the pattern itself.
 */
void
sotto_noise_handshake_set_static_keypair (SottoNoiseHandshake *hs,
                                          const guint8         secret[32],
                                          const guint8         pub[32])
{
  g_return_if_fail (hs != NULL && secret != NULL && pub != NULL);
  g_return_if_fail (hs->state == STATE_NEW);

  memcpy (hs->sec->s, secret, DHLEN);
  memcpy (hs->s_pub, pub, DHLEN);
  hs->has_s = TRUE;
}

/**
 * sotto_noise_handshake_set_remote_static_key:
 * @hs: a handshake not yet started
 * @pub: the peer's static public key, for patterns where it is known
 *   beforehand (a "<- s" or "-> s" pre-message)
 */
void
sotto_noise_handshake_set_remote_static_key (SottoNoiseHandshake *hs,
                                             const guint8         pub[32])
{
  g_return_if_fail (hs != NULL && pub != NULL);
  g_return_if_fail (hs->state == STATE_NEW);

  memcpy (hs->rs, pub, DHLEN);
  hs->has_rs = TRUE;
}

/**
 * sotto_noise_handshake_set_ephemeral_key:
 * @hs: a handshake not yet started
 * @secret: the ephemeral secret key
 *
 * For test vectors only: a real handshake generates a fresh one.
 */
void
sotto_noise_handshake_set_ephemeral_key (SottoNoiseHandshake *hs,
                                         const guint8         secret[32])
{
  g_return_if_fail (hs != NULL && secret != NULL);
  g_return_if_fail (hs->state == STATE_NEW);

  memcpy (hs->sec->e, secret, DHLEN);
  crypto_scalarmult_base (hs->e_pub, hs->sec->e);
  hs->has_e = TRUE;
}

/**
 * sotto_noise_handshake_add_psk:
 * @hs: a handshake not yet started
 * @psk: a 32-byte pre-shared key
 *
 * Call once per psk modifier, in the order they are used.
 */
void
sotto_noise_handshake_add_psk (SottoNoiseHandshake *hs,
                               const guint8         psk[32])
{
  g_return_if_fail (hs != NULL && psk != NULL);
  g_return_if_fail (hs->state == STATE_NEW);
  g_return_if_fail (hs->n_psks < MAX_PSKS);

  memcpy (hs->sec->psk[hs->n_psks++], psk, KEYLEN);
}

/**
 * sotto_noise_handshake_start:
 * @hs: a handshake with its keys set
 * @error: %SOTTO_NOISE_ERROR_INVALID when a key the pattern needs is
 *   missing, or one it would not use was given
 *
 * Checks the keys and runs Initialize(): the protocol name, the prologue
 * and the pre-messages go into the handshake hash.
 */
gboolean
sotto_noise_handshake_start (SottoNoiseHandshake  *hs,
                             GError              **error)
{
  HandshakeSecrets *sec;
  guint local;
  gboolean writes_s = FALSE;
  gboolean writes_e = FALSE;
  gsize name_len;

  g_return_val_if_fail (hs != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (hs->state != STATE_NEW)
    {
      g_set_error_literal (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                           "Noise handshake already started");
      return FALSE;
    }

  local = hs->initiator ? 0 : 1;

  for (guint i = 0; i < hs->n_messages; i++)
    if (local_writes (hs, i))
      for (guint j = 0; hs->tokens[i][j] != TOKEN_END; j++)
        {
          writes_s |= hs->tokens[i][j] == TOKEN_S;
          writes_e |= hs->tokens[i][j] == TOKEN_E;
        }

  /* Refusing unused keys matters as much as requiring used ones: a
   * pinned remote key that the pattern would silently replace with the
   * one it receives would look like a check and be none. */
  if ((writes_s || hs->pre_s[local]) != hs->has_s)
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                   hs->has_s ? "%s: this side has no static key in this pattern"
                             : "%s: the local static key is missing",
                   hs->protocol_name);
      return FALSE;
    }
  if (hs->pre_s[1 - local] != hs->has_rs)
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                   hs->has_rs ? "%s: the remote static key is not known in advance in this pattern"
                              : "%s: the remote static key is missing",
                   hs->protocol_name);
      return FALSE;
    }
  if (hs->has_e && !writes_e)
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                   "%s: this side sends no ephemeral key in this pattern", hs->protocol_name);
      return FALSE;
    }
  if (hs->n_psks != hs->n_psk_tokens)
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                   "%s needs %u pre-shared keys, %u given",
                   hs->protocol_name, hs->n_psk_tokens, hs->n_psks);
      return FALSE;
    }

  /* InitializeSymmetric() */
  sec = hs->sec;
  name_len = strlen (hs->protocol_name);
  if (name_len <= HASHLEN)
    {
      memset (sec->h, 0, HASHLEN);
      memcpy (sec->h, hs->protocol_name, name_len);
    }
  else
    {
      crypto_generichash (sec->h, HASHLEN, (const guint8 *)hs->protocol_name, name_len, NULL, 0);
    }
  memcpy (sec->ck, sec->h, HASHLEN);
  hs->has_k = FALSE;
  hs->n = 0;

  mix_hash (hs, g_bytes_get_data (hs->prologue, NULL), g_bytes_get_size (hs->prologue));

  /* Pre-messages: the initiator's first. */
  if (hs->pre_s[0])
    mix_hash (hs, hs->initiator ? hs->s_pub : hs->rs, DHLEN);
  if (hs->pre_s[1])
    mix_hash (hs, hs->initiator ? hs->rs : hs->s_pub, DHLEN);

  hs->state = STATE_RUNNING;
  return TRUE;
}

/**
 * sotto_noise_handshake_get_action:
 * @hs: a started handshake
 *
 * Returns: what to do next. %SOTTO_NOISE_ACTION_SPLIT stays the answer
 *   after sotto_noise_handshake_split().
 */
SottoNoiseAction
sotto_noise_handshake_get_action (SottoNoiseHandshake *hs)
{
  g_return_val_if_fail (hs != NULL, SOTTO_NOISE_ACTION_FAILED);
  g_return_val_if_fail (hs->state != STATE_NEW, SOTTO_NOISE_ACTION_FAILED);

  switch (hs->state)
    {
    case STATE_RUNNING:
      return local_writes (hs, hs->message_index) ? SOTTO_NOISE_ACTION_WRITE_MESSAGE
                                                  : SOTTO_NOISE_ACTION_READ_MESSAGE;
    case STATE_SPLIT:
    case STATE_DONE:
      return SOTTO_NOISE_ACTION_SPLIT;
    case STATE_NEW:
    case STATE_FAILED:
    default:
      return SOTTO_NOISE_ACTION_FAILED;
    }
}

/**
 * sotto_noise_handshake_is_one_way:
 * @hs: a handshake
 *
 * Returns: whether the pattern is one-way (N, K, X): after the split only
 *   the initiator sends.
 */
gboolean
sotto_noise_handshake_is_one_way (SottoNoiseHandshake *hs)
{
  g_return_val_if_fail (hs != NULL, FALSE);

  return hs->n_messages == 1;
}

/**
 * sotto_noise_handshake_write_message:
 * @hs: a handshake whose action is %SOTTO_NOISE_ACTION_WRITE_MESSAGE
 * @payload: (array length=payload_len) (nullable): the payload
 * @payload_len: its length
 * @out: the message is appended here
 * @error: %SOTTO_NOISE_ERROR_INVALID (wrong state) or
 *   %SOTTO_NOISE_ERROR_TOO_LONG (the message would exceed 65535 bytes)
 *   leave the handshake as it was; any other error fails it
 */
gboolean
sotto_noise_handshake_write_message (SottoNoiseHandshake  *hs,
                                     const guint8         *payload,
                                     gsize                 payload_len,
                                     GByteArray           *out,
                                     GError              **error)
{
  const guint8 *tokens;
  guint out_start;
  gsize overhead;

  g_return_val_if_fail (hs != NULL, FALSE);
  g_return_val_if_fail (payload != NULL || payload_len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_action (hs, SOTTO_NOISE_ACTION_WRITE_MESSAGE, error))
    return FALSE;

  /* Checked before anything changes: a caller's mistake, not an attack. */
  overhead = message_overhead (hs);
  if (payload_len > MAXLEN || overhead + payload_len > MAXLEN)
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TOO_LONG,
                   "Noise handshake message %u would be longer than %d bytes",
                   hs->message_index + 1, MAXLEN);
      return FALSE;
    }

  tokens = hs->tokens[hs->message_index];
  out_start = out->len;

  for (guint i = 0; tokens[i] != TOKEN_END; i++)
    {
      gboolean ok = TRUE;

      switch (tokens[i])
        {
        case TOKEN_E:
          if (!hs->has_e)
            {
              randombytes_buf (hs->sec->e, DHLEN);
              crypto_scalarmult_base (hs->e_pub, hs->sec->e);
              hs->has_e = TRUE;
            }
          g_byte_array_append (out, hs->e_pub, DHLEN);
          mix_hash (hs, hs->e_pub, DHLEN);
          if (uses_psk (hs))
            mix_key (hs, hs->e_pub, DHLEN);
          break;

        case TOKEN_S:
          g_assert (hs->has_s);
          ok = encrypt_and_hash (hs, hs->s_pub, DHLEN, out, error);
          break;

        case TOKEN_PSK:
          g_assert (hs->psk_index < hs->n_psks);
          mix_key_and_hash (hs, hs->sec->psk[hs->psk_index++]);
          break;

        case TOKEN_EE:
        case TOKEN_ES:
        case TOKEN_SE:
        case TOKEN_SS:
          ok = process_dh_token (hs, tokens[i], error);
          break;

        default:
          g_assert_not_reached ();
        }

      if (!ok)
        goto failed;
    }

  if (!encrypt_and_hash (hs, payload, payload_len, out, error))
    goto failed;

  g_assert (out->len - out_start == overhead + payload_len);
  hs->message_index++;
  if (hs->message_index == hs->n_messages)
    hs->state = STATE_SPLIT;
  return TRUE;

failed:
  sodium_memzero (array_at (out, out_start), out->len - out_start);
  g_byte_array_set_size (out, out_start);
  fail (hs);
  return FALSE;
}

/**
 * sotto_noise_handshake_read_message:
 * @hs: a handshake whose action is %SOTTO_NOISE_ACTION_READ_MESSAGE
 * @message: (array length=message_len): the message as received
 * @message_len: its length
 * @payload_out: the payload is appended here
 * @error: %SOTTO_NOISE_ERROR_INVALID (wrong state) leaves the handshake
 *   as it was; any other error (%SOTTO_NOISE_ERROR_DECRYPT,
 *   %SOTTO_NOISE_ERROR_DH, %SOTTO_NOISE_ERROR_TRUNCATED,
 *   %SOTTO_NOISE_ERROR_TOO_LONG) fails it
 */
gboolean
sotto_noise_handshake_read_message (SottoNoiseHandshake  *hs,
                                    const guint8         *message,
                                    gsize                 message_len,
                                    GByteArray           *payload_out,
                                    GError              **error)
{
  const guint8 *tokens;
  guint out_start;
  gsize pos = 0;
  gsize payload_len;

  g_return_val_if_fail (hs != NULL, FALSE);
  g_return_val_if_fail (message != NULL || message_len == 0, FALSE);
  g_return_val_if_fail (payload_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_action (hs, SOTTO_NOISE_ACTION_READ_MESSAGE, error))
    return FALSE;

  tokens = hs->tokens[hs->message_index];
  out_start = payload_out->len;

  if (message_len > MAXLEN)
    {
      g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TOO_LONG,
                   "Noise handshake message %u is longer than %d bytes",
                   hs->message_index + 1, MAXLEN);
      goto failed;
    }

  for (guint i = 0; tokens[i] != TOKEN_END; i++)
    {
      gboolean ok = TRUE;
      gsize need;
      guint8 rs[DHLEN];

      switch (tokens[i])
        {
        case TOKEN_E:
          if (message_len - pos < DHLEN)
            goto truncated;
          memcpy (hs->re, message + pos, DHLEN);
          hs->has_re = TRUE;
          pos += DHLEN;
          mix_hash (hs, hs->re, DHLEN);
          if (uses_psk (hs))
            mix_key (hs, hs->re, DHLEN);
          break;

        case TOKEN_S:
          need = DHLEN + (hs->has_k ? TAGLEN : 0);
          if (message_len - pos < need)
            goto truncated;
          ok = decrypt_and_hash (hs, message + pos, need, rs, error);
          if (ok)
            {
              memcpy (hs->rs, rs, DHLEN);
              hs->has_rs = TRUE;
            }
          pos += need;
          break;

        case TOKEN_PSK:
          g_assert (hs->psk_index < hs->n_psks);
          mix_key_and_hash (hs, hs->sec->psk[hs->psk_index++]);
          break;

        case TOKEN_EE:
        case TOKEN_ES:
        case TOKEN_SE:
        case TOKEN_SS:
          ok = process_dh_token (hs, tokens[i], error);
          break;

        default:
          g_assert_not_reached ();
        }

      if (!ok)
        goto failed;
    }

  if (hs->has_k && message_len - pos < TAGLEN)
    goto truncated;
  payload_len = message_len - pos - (hs->has_k ? TAGLEN : 0);
  g_byte_array_set_size (payload_out, out_start + payload_len);
  if (!decrypt_and_hash (hs, message + pos, message_len - pos,
                         array_at (payload_out, out_start), error))
    goto failed;

  hs->message_index++;
  if (hs->message_index == hs->n_messages)
    hs->state = STATE_SPLIT;
  return TRUE;

truncated:
  g_set_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TRUNCATED,
               "Noise handshake message %u is truncated (%" G_GSIZE_FORMAT " bytes)",
               hs->message_index + 1, message_len);
failed:
  sodium_memzero (array_at (payload_out, out_start), payload_out->len - out_start);
  g_byte_array_set_size (payload_out, out_start);
  fail (hs);
  return FALSE;
}

/**
 * sotto_noise_handshake_get_remote_static_key:
 * @hs: a handshake
 *
 * Returns: (nullable): the peer's static public key once it is known
 *   (given in advance or received); %NULL before, or after a failure
 */
const guint8 *
sotto_noise_handshake_get_remote_static_key (SottoNoiseHandshake *hs)
{
  g_return_val_if_fail (hs != NULL, NULL);

  if (hs->state == STATE_FAILED || !hs->has_rs)
    return NULL;
  return hs->rs;
}

/**
 * sotto_noise_handshake_get_handshake_hash:
 * @hs: a started handshake
 * @out: (out caller-allocates): the 64-byte handshake hash h; after the
 *   last message, both sides hold the same one (channel binding)
 */
void
sotto_noise_handshake_get_handshake_hash (SottoNoiseHandshake *hs,
                                          guint8               out[64])
{
  g_return_if_fail (hs != NULL && out != NULL);
  g_return_if_fail (hs->state != STATE_NEW);

  /* zeros after a failure: the secrets are gone */
  memcpy (out, hs->sec->h, HASHLEN);
}

/**
 * sotto_noise_handshake_split:
 * @hs: a handshake whose action is %SOTTO_NOISE_ACTION_SPLIT
 * @send: (out) (optional): the cipher to send with
 * @receive: (out) (optional): the cipher to receive with
 * @error: %SOTTO_NOISE_ERROR_INVALID if the handshake is not complete
 *   or was split already
 *
 * The initiator sends with the first cipher of Split(), the responder
 * with the second. In one-way patterns only the initiator sends: the
 * responder's @send is never used. Afterwards only the handshake hash
 * is kept.
 */
gboolean
sotto_noise_handshake_split (SottoNoiseHandshake  *hs,
                             SottoNoiseCipher    **send,
                             SottoNoiseCipher    **receive,
                             GError              **error)
{
  HandshakeSecrets *sec;
  SottoNoiseCipher *c1;
  SottoNoiseCipher *c2;

  g_return_val_if_fail (hs != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (hs->state != STATE_SPLIT)
    {
      g_set_error_literal (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_INVALID,
                           hs->state == STATE_DONE ? "Noise handshake already split"
                                                   : "Noise handshake not complete");
      return FALSE;
    }

  sec = hs->sec;
  hkdf (sec, NULL, 0, 2);
  c1 = cipher_new (sec->out[0]);
  c2 = cipher_new (sec->out[1]);
  sodium_memzero (sec->out, sizeof sec->out);

  if (!hs->initiator)
    {
      SottoNoiseCipher *tmp = c1;

      c1 = c2;
      c2 = tmp;
    }
  if (send != NULL)
    *send = c1;
  else
    sotto_noise_cipher_free (c1);
  if (receive != NULL)
    *receive = c2;
  else
    sotto_noise_cipher_free (c2);

  hs->state = STATE_DONE;
  wipe_secrets (hs, TRUE);
  return TRUE;
}

/**
 * sotto_noise_handshake_free:
 * @hs: (nullable): a handshake
 *
 * Wipes and frees it.
 */
void
sotto_noise_handshake_free (SottoNoiseHandshake *hs)
{
  if (hs == NULL)
    return;

  secure_free (hs->sec, sizeof *hs->sec);  /* wipes */
  g_free (hs->protocol_name);
  g_clear_pointer (&hs->prologue, g_bytes_unref);
  sodium_memzero (hs, sizeof *hs);
  g_free (hs);
}

/**
 * sotto_noise_cipher_encrypt:
 * @c: a transport cipher
 * @ad: (array length=ad_len) (nullable): associated data
 * @ad_len: its length
 * @plaintext: (array length=len) (nullable): at most 65535 - 16 bytes;
 *   must not point into @out
 * @len: its length
 * @out: len + 16 bytes are appended here
 * @error: %SOTTO_NOISE_ERROR_TOO_LONG or
 *   %SOTTO_NOISE_ERROR_NONCE_EXHAUSTED
 */
gboolean
sotto_noise_cipher_encrypt (SottoNoiseCipher  *c,
                            const guint8      *ad,
                            gsize              ad_len,
                            const guint8      *plaintext,
                            gsize              len,
                            GByteArray        *out,
                            GError           **error)
{
  guint offset;

  g_return_val_if_fail (c != NULL, FALSE);
  g_return_val_if_fail (ad != NULL || ad_len == 0, FALSE);
  g_return_val_if_fail (plaintext != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!can_encrypt (c, len, error))
    return FALSE;

  offset = out->len;
  g_byte_array_set_size (out, offset + len + TAGLEN);
  aead_encrypt (c->sec->k, c->n, ad, ad_len, plaintext, len, array_at (out, offset));
  c->n++;
  return TRUE;
}

/**
 * sotto_noise_cipher_encrypt_in_place:
 * @c: a transport cipher
 * @ad: (array length=ad_len) (nullable): associated data
 * @ad_len: its length
 * @buffer: (array length=len): @len bytes of plaintext, followed by room
 *   for the 16-byte tag
 * @len: the length of the plaintext, at most 65535 - 16
 * @error: %SOTTO_NOISE_ERROR_TOO_LONG or
 *   %SOTTO_NOISE_ERROR_NONCE_EXHAUSTED
 *
 * sotto_noise_cipher_encrypt() where the plaintext is: @buffer then holds
 * @len + 16 bytes of ciphertext. A failure leaves @buffer as it was.
 */
gboolean
sotto_noise_cipher_encrypt_in_place (SottoNoiseCipher  *c,
                                     const guint8      *ad,
                                     gsize              ad_len,
                                     guint8            *buffer,
                                     gsize              len,
                                     GError           **error)
{
  g_return_val_if_fail (c != NULL, FALSE);
  g_return_val_if_fail (ad != NULL || ad_len == 0, FALSE);
  g_return_val_if_fail (buffer != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!can_encrypt (c, len, error))
    return FALSE;

  /* libsodium encrypts and decrypts in place: the stream cipher reads
   * each byte before it writes it, and the tag goes after the text. */
  aead_encrypt (c->sec->k, c->n, ad, ad_len, buffer, len, buffer);
  c->n++;
  return TRUE;
}

/**
 * sotto_noise_cipher_decrypt_in_place:
 * @c: a transport cipher
 * @ad: (array length=ad_len) (nullable): associated data
 * @ad_len: its length
 * @buffer: (array length=len): the ciphertext, 16 to 65535 bytes
 * @len: its length
 * @error: as for sotto_noise_cipher_decrypt()
 *
 * sotto_noise_cipher_decrypt() where the ciphertext is: on success the
 * first @len - 16 bytes of @buffer are the plaintext. On failure the nonce
 * stays where it was, and @buffer holds no plaintext.
 */
gboolean
sotto_noise_cipher_decrypt_in_place (SottoNoiseCipher  *c,
                                     const guint8      *ad,
                                     gsize              ad_len,
                                     guint8            *buffer,
                                     gsize              len,
                                     GError           **error)
{
  g_return_val_if_fail (c != NULL, FALSE);
  g_return_val_if_fail (ad != NULL || ad_len == 0, FALSE);
  g_return_val_if_fail (buffer != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!can_decrypt (c, len, error))
    return FALSE;

  /* The tag is checked before anything is decrypted. */
  if (!aead_decrypt (c->sec->k, c->n, ad, ad_len, buffer, len, buffer))
    {
      decrypt_failed (c, error);
      return FALSE;
    }
  c->n++;
  return TRUE;
}

/**
 * sotto_noise_cipher_decrypt:
 * @c: a transport cipher
 * @ad: (array length=ad_len) (nullable): associated data
 * @ad_len: its length
 * @ciphertext: (array length=len): 16 to 65535 bytes
 * @len: its length
 * @out: len - 16 bytes are appended here on success, nothing on failure
 * @error: %SOTTO_NOISE_ERROR_DECRYPT, %SOTTO_NOISE_ERROR_TRUNCATED,
 *   %SOTTO_NOISE_ERROR_TOO_LONG or %SOTTO_NOISE_ERROR_NONCE_EXHAUSTED
 *
 * A failure leaves the nonce where it was: the next genuine message
 * still opens.
 */
gboolean
sotto_noise_cipher_decrypt (SottoNoiseCipher  *c,
                            const guint8      *ad,
                            gsize              ad_len,
                            const guint8      *ciphertext,
                            gsize              len,
                            GByteArray        *out,
                            GError           **error)
{
  guint offset;

  g_return_val_if_fail (c != NULL, FALSE);
  g_return_val_if_fail (ad != NULL || ad_len == 0, FALSE);
  g_return_val_if_fail (ciphertext != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!can_decrypt (c, len, error))
    return FALSE;

  offset = out->len;
  g_byte_array_set_size (out, offset + len - TAGLEN);
  if (!aead_decrypt (c->sec->k, c->n, ad, ad_len, ciphertext, len, array_at (out, offset)))
    {
      sodium_memzero (array_at (out, offset), len - TAGLEN);
      g_byte_array_set_size (out, offset);
      decrypt_failed (c, error);
      return FALSE;
    }
  c->n++;
  return TRUE;
}

/**
 * sotto_noise_cipher_rekey:
 * @c: a transport cipher
 *
 * Rekey() of section 11.3: k becomes the first 32 bytes of
 * ENCRYPT (k, 2^64 - 1, empty ad, 32 zero bytes). The nonce is kept.
 * Both sides must rekey at the same point of the stream.
 */
void
sotto_noise_cipher_rekey (SottoNoiseCipher *c)
{
  g_return_if_fail (c != NULL);

  aead_encrypt (c->sec->k, NONCE_RESERVED, NULL, 0, zeros, KEYLEN, c->sec->rekey);
  memcpy (c->sec->k, c->sec->rekey, KEYLEN);
  sodium_memzero (c->sec->rekey, sizeof c->sec->rekey);
}

/**
 * sotto_noise_cipher_get_nonce:
 * @c: a transport cipher
 *
 * Returns: the nonce of the next message
 */
guint64
sotto_noise_cipher_get_nonce (SottoNoiseCipher *c)
{
  g_return_val_if_fail (c != NULL, 0);

  return c->n;
}

/**
 * sotto_noise_cipher_set_nonce:
 * @c: a transport cipher
 * @n: the nonce of the next message
 *
 * For tests (nonce exhaustion). Reusing a nonce destroys confidentiality.
 */
void
sotto_noise_cipher_set_nonce (SottoNoiseCipher *c,
                              guint64           n)
{
  g_return_if_fail (c != NULL);

  c->n = n;
}

/**
 * sotto_noise_cipher_free:
 * @c: (nullable): a transport cipher
 *
 * Wipes and frees it.
 */
void
sotto_noise_cipher_free (SottoNoiseCipher *c)
{
  if (c == NULL)
    return;

  secure_free (c->sec, sizeof *c->sec);  /* wipes */
  g_free (c);
}
