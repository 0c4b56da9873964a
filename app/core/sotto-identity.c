/* sotto-identity.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-identity"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <sodium.h>

#include "sotto-error.h"
#include "sotto-identity.h"
#include "sotto-identity-private.h"
#include "sotto-text.h"

/* Domain separation: this hash is never confused with any other use of
 * BLAKE2b over a key. Versioned, so a later scheme cannot collide. */
#define FINGERPRINT_DOMAIN     "Sotto fingerprint v1"
#define FINGERPRINT_DOMAIN_LEN 20
#define SIGNING_DOMAIN         "Sotto signing key v1"   /* PROTOCOL.md, "Groups" */
#define FINGERPRINT_HASH_LEN   64
#define DIGITS_PER_GROUP       5
#define BYTES_PER_GROUP        5

G_STATIC_ASSERT (sizeof FINGERPRINT_DOMAIN - 1 == FINGERPRINT_DOMAIN_LEN);
G_STATIC_ASSERT (SOTTO_KEY_LEN == crypto_scalarmult_BYTES);
G_STATIC_ASSERT (SOTTO_KEY_LEN == crypto_scalarmult_SCALARBYTES);
G_STATIC_ASSERT (SOTTO_FINGERPRINT_DIGITS / DIGITS_PER_GROUP * BYTES_PER_GROUP
                 <= FINGERPRINT_HASH_LEN);
G_STATIC_ASSERT (SOTTO_SAFETY_NUMBER_DIGITS == 2 * SOTTO_FINGERPRINT_DIGITS);

struct _SottoIdentity
{
  GObject parent_instance;

  guint8  public_key[SOTTO_KEY_LEN];
  /* sodium_malloc memory: guard pages, locked, read-only once written,
   * wiped by sodium_free. */
  guint8 *secret_key;
  /* normalized, see sotto_display_name_normalize() */
  char   *display_name;
  /* Ed25519, derived from the secret key (PROTOCOL.md, "Groups"): the
   * secret half in sodium memory like the key it comes from */
  guint8  signing_public_key[SOTTO_SIGNING_KEY_LEN];
  guint8 *signing_secret_key;
};

G_DEFINE_FINAL_TYPE (SottoIdentity, sotto_identity, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_DISPLAY_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Unicode's White_Space property. g_unichar_isspace() alone misses
 * VT (U+000B) and NEL (U+0085). */
static gboolean
is_white_space (gunichar c)
{
  return g_unichar_isspace (c) || c == 0x000B || c == 0x0085;
}

static gboolean
check_name_size (const char  *name,
                 gsize       *out_len,
                 GError     **error)
{
  gsize len;

  if (name == NULL || name[0] == '\0')
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The display name is empty"));
      return FALSE;
    }

  /* Bounded scan: a huge string costs no more than one past the limit. */
  len = strnlen (name, SOTTO_DISPLAY_NAME_MAX_BYTES + 1);
  if (len > SOTTO_DISPLAY_NAME_MAX_BYTES)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   ngettext ("The display name is longer than %d byte",
                             "The display name is longer than %d bytes",
                             SOTTO_DISPLAY_NAME_MAX_BYTES),
                   SOTTO_DISPLAY_NAME_MAX_BYTES);
      return FALSE;
    }

  if (!g_utf8_validate (name, len, NULL))
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The display name is not valid UTF-8 text"));
      return FALSE;
    }

  *out_len = len;
  return TRUE;
}

static gboolean
ensure_sodium (GError **error)
{
  if (sodium_init () < 0)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_CRYPTO,
                           _("The cryptography library could not be initialized"));
      return FALSE;
    }

  return TRUE;
}

static guint8 *
secret_key_alloc (GError **error)
{
  guint8 *secret_key = sodium_malloc (SOTTO_KEY_LEN);

  if (secret_key == NULL)
    g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_CRYPTO,
                         _("There is no protected memory left for a secret key"));

  return secret_key;
}

/* The signing key is a function of the X25519 secret key, so it needs
 * no storage of its own and lives exactly as long as the identity:
 * seed = BLAKE2b-256 keyed with the secret key over SIGNING_DOMAIN. */
static void
derive_signing_key (SottoIdentity *self)
{
  guint8 *seed = sodium_malloc (crypto_sign_SEEDBYTES);

  g_assert (seed != NULL);
  self->signing_secret_key = sodium_malloc (crypto_sign_SECRETKEYBYTES);
  g_assert (self->signing_secret_key != NULL);
  crypto_generichash (seed, crypto_sign_SEEDBYTES, (const guint8 *)SIGNING_DOMAIN,
                      strlen (SIGNING_DOMAIN), self->secret_key, SOTTO_KEY_LEN);
  crypto_sign_seed_keypair (self->signing_public_key, self->signing_secret_key, seed);
  sodium_free (seed);
}

/* Takes ownership of @secret_key (sodium memory) and @display_name. */
static SottoIdentity *
identity_new_take (const guint8 *public_key,
                   guint8       *secret_key,
                   char         *display_name)
{
  SottoIdentity *self = g_object_new (SOTTO_TYPE_IDENTITY, NULL);

  memcpy (self->public_key, public_key, SOTTO_KEY_LEN);
  self->secret_key = secret_key;
  self->display_name = display_name;
  derive_signing_key (self);
  /* Nothing writes the keys again: a stray write now faults instead of
   * silently corrupting them. */
  sodium_mprotect_readonly (secret_key);
  sodium_mprotect_readonly (self->signing_secret_key);

  return self;
}

static void
fingerprint_digits (const guint8 *public_key,
                    char          digits[SOTTO_FINGERPRINT_DIGITS])
{
  guint8 input[FINGERPRINT_DOMAIN_LEN + SOTTO_KEY_LEN];
  guint8 hash[FINGERPRINT_HASH_LEN];

  /* Only selects the fastest BLAKE2b: the portable one it starts with
   * needs no set-up, so even a failure cannot give a wrong hash. */
  if (sodium_init () < 0)
    g_debug ("libsodium could not be initialized; hashing with its portable code");

  memcpy (input, FINGERPRINT_DOMAIN, FINGERPRINT_DOMAIN_LEN);
  memcpy (input + FINGERPRINT_DOMAIN_LEN, public_key, SOTTO_KEY_LEN);
  crypto_generichash (hash, sizeof hash, input, sizeof input, NULL, 0);

  for (guint group = 0; group < SOTTO_FINGERPRINT_DIGITS / DIGITS_PER_GROUP; group++)
    {
      guint64 v = 0;

      for (guint i = 0; i < BYTES_PER_GROUP; i++)
        v = (v << 8) | hash[group * BYTES_PER_GROUP + i];

      /* 2^40 is about 11 million times 10^5: the bias of the modulus is
       * negligible. */
      v %= 100000;

      for (int i = DIGITS_PER_GROUP - 1; i >= 0; i--)
        {
          digits[group * DIGITS_PER_GROUP + i] = '0' + v % 10;
          v /= 10;
        }
    }
}

/* "0123456789…" → "01234 56789 …" */
static char *
format_digit_groups (const char *digits,
                     gsize       n_digits)
{
  gsize n_groups = n_digits / DIGITS_PER_GROUP;
  char *out = g_malloc (n_digits + n_groups);
  char *p = out;

  g_assert (n_digits % DIGITS_PER_GROUP == 0 && n_groups > 0);

  for (gsize group = 0; group < n_groups; group++)
    {
      if (group > 0)
        *p++ = ' ';
      memcpy (p, digits + group * DIGITS_PER_GROUP, DIGITS_PER_GROUP);
      p += DIGITS_PER_GROUP;
    }
  *p = '\0';

  return out;
}

static void
sotto_identity_finalize (GObject *object)
{
  SottoIdentity *self = (SottoIdentity *)object;

  /* sodium_free wipes the key before releasing it. */
  g_clear_pointer (&self->secret_key, sodium_free);
  g_clear_pointer (&self->signing_secret_key, sodium_free);
  g_clear_pointer (&self->display_name, g_free);

  G_OBJECT_CLASS (sotto_identity_parent_class)->finalize (object);
}

static void
sotto_identity_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  SottoIdentity *self = SOTTO_IDENTITY (object);

  switch (prop_id)
    {
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_identity_class_init (SottoIdentityClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sotto_identity_finalize;
  object_class->get_property = sotto_identity_get_property;

  /**
   * SottoIdentity:display-name:
   *
   * The name colleagues see, normalized and valid.
   */
  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sotto_identity_init (SottoIdentity *self)
{
}

/**
 * sotto_display_name_validate:
 * @name: (nullable): a display name
 * @error: return location for a #SOTTO_ERROR_INVALID_ARGUMENT
 *
 * Checks that @name is a valid display name in normalized form: what
 * sotto_display_name_normalize() returns. A name with white space at
 * either end or not in NFC is refused, so that one person's name has one
 * spelling on every computer.
 *
 * Returns: %TRUE if @name is valid
 */
gboolean
sotto_display_name_validate (const char  *name,
                             GError     **error)
{
  g_autofree char *nfc = NULL;
  gboolean only_white_space = TRUE;
  gboolean ascii = TRUE;
  gsize len;
  glong n_chars;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_name_size (name, &len, error))
    return FALSE;

  n_chars = g_utf8_strlen (name, len);
  if (n_chars > SOTTO_DISPLAY_NAME_MAX_CHARS)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   ngettext ("The display name is longer than %d character",
                             "The display name is longer than %d characters",
                             SOTTO_DISPLAY_NAME_MAX_CHARS),
                   SOTTO_DISPLAY_NAME_MAX_CHARS);
      return FALSE;
    }

  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      switch (sotto_char_classify (c))
        {
        case SOTTO_CHAR_CONTROL:
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                       /* Translators: U+%04X is a Unicode code point, such as U+000A */
                       _("A display name cannot contain control characters such as "
                         "line breaks or tabs (found U+%04X)"),
                       (guint) c);
          return FALSE;

        case SOTTO_CHAR_SEPARATOR:
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                       _("A display name cannot contain line or paragraph separators "
                         "(found U+%04X)"),
                       (guint) c);
          return FALSE;

        case SOTTO_CHAR_FORMAT:
          /* Bidi overrides and zero-width spaces can disguise a name. */
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                       _("A display name cannot contain invisible formatting characters "
                         "such as text direction overrides or zero-width spaces "
                         "(found U+%04X)"),
                       (guint) c);
          return FALSE;

        case SOTTO_CHAR_PRIVATE_USE:
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                       _("A display name cannot contain private-use characters "
                         "(found U+%04X)"),
                       (guint) c);
          return FALSE;

        case SOTTO_CHAR_ALLOWED:
        default:
          break;
        }

      if (!is_white_space (c))
        only_white_space = FALSE;
      if (c >= 0x80)
        ascii = FALSE;
    }

  if (only_white_space)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The display name consists only of white space"));
      return FALSE;
    }

  if (is_white_space (g_utf8_get_char (name)) ||
      is_white_space (g_utf8_get_char (g_utf8_prev_char (name + len))))
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The display name begins or ends with white space"));
      return FALSE;
    }

  /* ASCII is always in NFC (no decompositions, nothing combines); every
   * handshake checks two names, so the common case skips the tables. */
  if (ascii)
    return TRUE;
  nfc = g_utf8_normalize (name, len, G_NORMALIZE_NFC);
  if (nfc == NULL || strcmp (nfc, name) != 0)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The display name is not in Unicode normalization form C (NFC)"));
      return FALSE;
    }

  return TRUE;
}

/**
 * sotto_display_name_normalize:
 * @name: (nullable): a display name as the user typed or pasted it
 * @error: return location for a #SOTTO_ERROR_INVALID_ARGUMENT
 *
 * Trims Unicode white space at both ends, converts to NFC, then checks
 * the result with sotto_display_name_validate().
 *
 * Returns: (transfer full) (nullable): the normalized name, or %NULL if
 *   it is not a valid display name
 */
char *
sotto_display_name_normalize (const char  *name,
                              GError     **error)
{
  g_autofree char *normalized = NULL;
  const char *start;
  const char *end;
  gsize len;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_name_size (name, &len, error))
    return NULL;

  start = name;
  end = name + len;
  while (start < end && is_white_space (g_utf8_get_char (start)))
    start = g_utf8_next_char (start);
  while (end > start && is_white_space (g_utf8_get_char (g_utf8_prev_char (end))))
    end = g_utf8_prev_char (end);

  if (start == end)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The display name consists only of white space"));
      return NULL;
    }

  normalized = g_utf8_normalize (start, end - start, G_NORMALIZE_NFC);
  g_assert (normalized != NULL);

  /* NFC can make a name longer in bytes; this checks it again. */
  if (!sotto_display_name_validate (normalized, error))
    return NULL;

  return g_steal_pointer (&normalized);
}

/**
 * sotto_identity_generate:
 * @display_name: the user's name, normalized with sotto_display_name_normalize()
 * @error: return location for a #GError
 *
 * Makes a new X25519 key pair from the system's random number generator.
 *
 * Returns: (transfer full) (nullable): a new identity, or %NULL if
 *   @display_name is not valid or libsodium cannot be used
 */
SottoIdentity *
sotto_identity_generate (const char  *display_name,
                         GError     **error)
{
  g_autofree char *name = NULL;
  guint8 public_key[SOTTO_KEY_LEN];
  guint8 *secret_key;

  g_return_val_if_fail (display_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  name = sotto_display_name_normalize (display_name, error);
  if (name == NULL)
    return NULL;

  if (!ensure_sodium (error))
    return NULL;

  secret_key = secret_key_alloc (error);
  if (secret_key == NULL)
    return NULL;

  randombytes_buf (secret_key, SOTTO_KEY_LEN);
  if (crypto_scalarmult_base (public_key, secret_key) != 0)
    {
      sodium_free (secret_key);
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_CRYPTO,
                           _("Cannot compute the public key"));
      return NULL;
    }

  return identity_new_take (public_key, secret_key, g_steal_pointer (&name));
}

/**
 * sotto_identity_new_from_keys:
 * @public_key: (array fixed-size=32): the X25519 public key
 * @secret_key: (array fixed-size=32): the matching secret key; copied
 * @display_name: the user's name, normalized with sotto_display_name_normalize()
 * @error: return location for a #GError
 *
 * Rebuilds an identity from stored keys. The caller should wipe its own
 * copy of @secret_key afterwards.
 *
 * Returns: (transfer full) (nullable): the identity, or %NULL if the
 *   keys do not belong together or @display_name is not valid
 */
SottoIdentity *
sotto_identity_new_from_keys (const guint8  *public_key,
                              const guint8  *secret_key,
                              const char    *display_name,
                              GError       **error)
{
  g_autofree char *name = NULL;
  guint8 derived[SOTTO_KEY_LEN];
  guint8 *secret_copy;

  g_return_val_if_fail (public_key != NULL, NULL);
  g_return_val_if_fail (secret_key != NULL, NULL);
  g_return_val_if_fail (display_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  name = sotto_display_name_normalize (display_name, error);
  if (name == NULL)
    return NULL;

  if (!ensure_sodium (error))
    return NULL;

  /* A mismatched pair would let us announce a key whose handshakes we can
   * never complete: refuse it here, where the cause is still clear. */
  if (crypto_scalarmult_base (derived, secret_key) != 0 ||
      sodium_memcmp (derived, public_key, SOTTO_KEY_LEN) != 0)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The public key and the secret key do not belong together"));
      return NULL;
    }

  secret_copy = secret_key_alloc (error);
  if (secret_copy == NULL)
    return NULL;
  memcpy (secret_copy, secret_key, SOTTO_KEY_LEN);

  return identity_new_take (public_key, secret_copy, g_steal_pointer (&name));
}

/**
 * sotto_identity_get_public_key:
 * @self: a #SottoIdentity
 *
 * Returns: (array fixed-size=32) (transfer none): the X25519 public key
 */
const guint8 *
sotto_identity_get_public_key (SottoIdentity *self)
{
  g_return_val_if_fail (SOTTO_IS_IDENTITY (self), NULL);

  return self->public_key;
}

/**
 * sotto_identity_get_signing_key:
 * @self: a #SottoIdentity
 *
 * Returns: (array fixed-size=32) (transfer none): the Ed25519 public key
 *   that goes with this identity (PROTOCOL.md, "Groups")
 */
const guint8 *
sotto_identity_get_signing_key (SottoIdentity *self)
{
  g_return_val_if_fail (SOTTO_IS_IDENTITY (self), NULL);

  return self->signing_public_key;
}

/**
 * sotto_identity_sign:
 * @self: a #SottoIdentity
 * @message: (array length=len): what to sign
 * @len: its length
 * @signature: (out caller-allocates) (array fixed-size=64): the Ed25519 signature
 *
 * Signs with the identity's signing key.
 */
void
sotto_identity_sign (SottoIdentity *self,
                     const guint8  *message,
                     gsize          len,
                     guint8        *signature)
{
  g_return_if_fail (SOTTO_IS_IDENTITY (self));
  g_return_if_fail (message != NULL || len == 0);
  g_return_if_fail (signature != NULL);

  crypto_sign_detached (signature, NULL, message, len, self->signing_secret_key);
}

/**
 * sotto_identity_get_secret_key:
 * @self: a #SottoIdentity
 *
 * The secret key, for the handshake and for sealing it at rest. It lives
 * in read-only protected memory owned by @self: never copy it into
 * ordinary memory, never log it.
 *
 * Returns: (array fixed-size=32) (transfer none): the X25519 secret key
 */
const guint8 *
sotto_identity_get_secret_key (SottoIdentity *self)
{
  g_return_val_if_fail (SOTTO_IS_IDENTITY (self), NULL);

  return self->secret_key;
}

const char *
sotto_identity_get_display_name (SottoIdentity *self)
{
  g_return_val_if_fail (SOTTO_IS_IDENTITY (self), NULL);

  return self->display_name;
}

/**
 * sotto_identity_dup_fingerprint:
 * @self: a #SottoIdentity
 *
 * Returns: (transfer full): the fingerprint of the public key, see
 *   sotto_fingerprint_for_key()
 */
char *
sotto_identity_dup_fingerprint (SottoIdentity *self)
{
  g_return_val_if_fail (SOTTO_IS_IDENTITY (self), NULL);

  return sotto_fingerprint_for_key (self->public_key);
}

/**
 * sotto_public_key_is_canonical:
 * @public_key: %SOTTO_KEY_LEN bytes, an X25519 public key as received
 *
 * X25519 reads a public key as a little-endian number, ignores its top bit
 * and reduces it modulo p = 2^255 - 19: the same key pair then has other
 * byte forms (the top bit set, or u + p for u < 19), each with its own
 * fingerprint. Only the canonical form is accepted: the top bit clear and
 * the value below p (PROTOCOL.md, "Identity keys"). Low-order keys are
 * canonical; the handshake refuses them by their all-zero DH result.
 *
 * Returns: %TRUE if @public_key is in canonical form
 */
gboolean
sotto_public_key_is_canonical (const guint8 *public_key)
{
  g_return_val_if_fail (public_key != NULL, FALSE);

  if (public_key[31] & 0x80)
    return FALSE;
  /* Below 2^255: at least p exactly when bytes 31 … 1 are 7f ff … ff and
   * byte 0 is at least ed. */
  if (public_key[31] != 0x7f)
    return TRUE;
  for (guint i = 30; i >= 1; i--)
    if (public_key[i] != 0xff)
      return TRUE;
  return public_key[0] < 0xed;
}

/**
 * sotto_key_to_hex:
 * @public_key: %SOTTO_KEY_LEN bytes
 *
 * Returns: (transfer full): the key as 64 lower-case hex digits, as
 *   `sotto-cli` and the control socket print keys
 */
char *
sotto_key_to_hex (const guint8 *public_key)
{
  char hex[2 * SOTTO_KEY_LEN + 1];

  g_return_val_if_fail (public_key != NULL, NULL);

  sodium_bin2hex (hex, sizeof hex, public_key, SOTTO_KEY_LEN);
  return g_strdup (hex);
}

/**
 * sotto_fingerprint_for_key:
 * @public_key: (array fixed-size=32): an X25519 public key
 *
 * The short form of a key that people compare to recognise each other:
 * 30 digits in six groups of five, e.g. "61537 21082 48558 42141 97358 07623".
 * See PROTOCOL.md, "Fingerprints".
 *
 * Returns: (transfer full): the fingerprint, 35 characters
 */
char *
sotto_fingerprint_for_key (const guint8 *public_key)
{
  char digits[SOTTO_FINGERPRINT_DIGITS];

  g_return_val_if_fail (public_key != NULL, NULL);

  fingerprint_digits (public_key, digits);

  return format_digit_groups (digits, sizeof digits);
}

/**
 * sotto_fingerprint_matches_key:
 * @text: a fingerprint as a person typed it: its 30 digits, with spaces
 *   or hyphens between them or not
 * @public_key: (array fixed-size=32): an X25519 public key
 *
 * Fails with %SOTTO_ERROR_INVALID_ARGUMENT for text that is not a
 * fingerprint at all.
 *
 * Returns: %TRUE if @text is the fingerprint of @public_key
 */
gboolean
sotto_fingerprint_matches_key (const char    *text,
                               const guint8  *public_key,
                               GError       **error)
{
  char digits[SOTTO_FINGERPRINT_DIGITS];
  char typed[SOTTO_FINGERPRINT_DIGITS];
  gsize n = 0;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (public_key != NULL, FALSE);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == ' ' || *p == '-')
        continue;
      if (!g_ascii_isdigit (*p) || n == sizeof typed)
        {
          n = 0;
          break;
        }
      typed[n++] = *p;
    }
  if (n != sizeof typed)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a fingerprint: a fingerprint has %d digits"),
                   text, SOTTO_FINGERPRINT_DIGITS);
      return FALSE;
    }

  fingerprint_digits (public_key, digits);
  return memcmp (digits, typed, sizeof digits) == 0;
}

/**
 * sotto_safety_number:
 * @key_a: (array fixed-size=32): an X25519 public key
 * @key_b: (array fixed-size=32): another one
 *
 * The number two people read to each other to check that neither
 * connection is intercepted. Both sides get the same 60 digits whatever
 * the order of the arguments. See PROTOCOL.md, "Safety numbers".
 *
 * Returns: (transfer full): the safety number, twelve groups of five digits
 */
char *
sotto_safety_number (const guint8 *key_a,
                     const guint8 *key_b)
{
  char digits[SOTTO_SAFETY_NUMBER_DIGITS];
  const guint8 *first;
  const guint8 *second;

  g_return_val_if_fail (key_a != NULL, NULL);
  g_return_val_if_fail (key_b != NULL, NULL);

  if (memcmp (key_a, key_b, SOTTO_KEY_LEN) <= 0)
    {
      first = key_a;
      second = key_b;
    }
  else
    {
      first = key_b;
      second = key_a;
    }

  fingerprint_digits (first, digits);
  fingerprint_digits (second, digits + SOTTO_FINGERPRINT_DIGITS);

  return format_digit_groups (digits, sizeof digits);
}

/* After the store has persisted it (sotto_store_set_display_name_async()):
 * sessions started from now on introduce us by the new name. */
void
_sotto_identity_set_display_name (SottoIdentity *self,
                                  const char    *display_name)
{
  g_return_if_fail (SOTTO_IS_IDENTITY (self));
  g_return_if_fail (display_name != NULL);

  if (g_strcmp0 (self->display_name, display_name) == 0)
    return;
  g_free (self->display_name);
  self->display_name = g_strdup (display_name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);
}
