/* sotto-invite.c
 *
 * An invite arrives as pasted text from anywhere, so the parser treats it
 * as hostile: the length is bounded before anything else, every value is
 * decoded into a fixed-size buffer, and nothing is allocated until the
 * whole invite has been checked.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-invite"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <sodium.h>

#include "sotto-error.h"
#include "sotto-identity.h"
#include "sotto-invite.h"

#define INVITE_SCHEME          "sotto:"
#define INVITE_SCHEME_LEN      6
#define INVITE_VERSION         "1"
#define CHECKSUM_DOMAIN        "Sotto invite v1"
#define CHECKSUM_DOMAIN_LEN    15
#define CHECKSUM_HASH_LEN      32
#define CHECKSUM_LEN           5
#define CHECKSUM_CHARS         8   /* base32 of CHECKSUM_LEN bytes */
#define KEY_CHARS              52  /* base32 of SOTTO_KEY_LEN bytes */
#define DNS_NAME_MAX           253
#define DNS_LABEL_MAX          63
#define IPV6_TEXT_MAX          45  /* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" */

G_STATIC_ASSERT (sizeof INVITE_SCHEME - 1 == INVITE_SCHEME_LEN);
G_STATIC_ASSERT (sizeof CHECKSUM_DOMAIN - 1 == CHECKSUM_DOMAIN_LEN);
G_STATIC_ASSERT ((SOTTO_KEY_LEN * 8 + 4) / 5 == KEY_CHARS);
G_STATIC_ASSERT (CHECKSUM_LEN * 8 / 5 == CHECKSUM_CHARS);
/* Lengths go into the checksum input as u16 and the count as u8. */
G_STATIC_ASSERT (SOTTO_DISPLAY_NAME_MAX_BYTES <= G_MAXUINT16);
G_STATIC_ASSERT (SOTTO_INVITE_ADDRESS_MAX_LEN <= G_MAXUINT16);
G_STATIC_ASSERT (SOTTO_INVITE_MAX_ADDRESSES <= G_MAXUINT8);

static const char base32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

typedef enum
{
  PARAM_UNKNOWN,
  PARAM_VERSION,
  PARAM_NAME,
  PARAM_ADDRESS,
  PARAM_CHECKSUM,
} ParamKind;

typedef struct
{
  ParamKind   kind;
  const char *value;     /* NULL: the parameter has no '=' */
  gsize       value_len;
} Param;

/* Walks the '&'-separated parameters of [p, end) without copying. */
typedef struct
{
  const char *p;
  const char *end;
} ParamIter;

typedef enum
{
  DECODE_OK,
  DECODE_BAD_CHAR,
  DECODE_BAD_ESCAPE,
  DECODE_ZERO_BYTE,
  DECODE_TOO_LONG,
} DecodeResult;

G_DEFINE_BOXED_TYPE (SottoInvite, sotto_invite, sotto_invite_copy, sotto_invite_free)

static gboolean
is_unreserved (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Exactly C's isspace() in the C locale; spelled out so PROTOCOL.md can
 * say precisely what is trimmed. */
static gboolean
is_ascii_white_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int
base32_value (char c)
{
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= '2' && c <= '7')
    return c - '2' + 26;
  return -1;
}

/* RFC 4648 base32, lowercase, no padding. @out holds (len * 8 + 4) / 5 chars. */
static void
base32_encode (const guint8 *data,
               gsize         len,
               char         *out)
{
  guint buffer = 0;
  guint bits = 0;

  for (gsize i = 0; i < len; i++)
    {
      buffer = (buffer << 8) | data[i];
      bits += 8;
      while (bits >= 5)
        {
          bits -= 5;
          *out++ = base32_alphabet[(buffer >> bits) & 0x1f];
        }
    }

  if (bits > 0)
    *out++ = base32_alphabet[(buffer << (5 - bits)) & 0x1f];
}

/* @n_chars must be (out_len * 8 + 4) / 5 and every char a base32 digit.
 * Returns FALSE if the unused low bits of the last char are not zero: only
 * one spelling of each key is accepted. */
static gboolean
base32_decode (const char *text,
               gsize       n_chars,
               guint8     *out,
               gsize       out_len)
{
  guint buffer = 0;
  guint bits = 0;
  gsize written = 0;

  g_assert ((out_len * 8 + 4) / 5 == n_chars);

  for (gsize i = 0; i < n_chars; i++)
    {
      int v = base32_value (text[i]);

      g_assert (v >= 0);
      buffer = (buffer << 5) | (guint) v;
      bits += 5;
      if (bits >= 8)
        {
          bits -= 8;
          out[written++] = (buffer >> bits) & 0xff;
        }
    }

  g_assert (written == out_len);

  return (buffer & ((1u << bits) - 1)) == 0;
}

static gboolean
is_base32 (const char *text,
           gsize       len)
{
  for (gsize i = 0; i < len; i++)
    if (base32_value (text[i]) < 0)
      return FALSE;

  return TRUE;
}

static void
append_percent_encoded (GString    *out,
                        const char *value)
{
  for (const char *p = value; *p != '\0'; p++)
    {
      if (is_unreserved (*p))
        g_string_append_c (out, *p);
      else
        g_string_append_printf (out, "%%%02X", (guint) (guchar) *p);
    }
}

static gsize
percent_encoded_len (const char *value)
{
  gsize len = 0;

  for (const char *p = value; *p != '\0'; p++)
    len += is_unreserved (*p) ? 1 : 3;

  return len;
}

/* Decodes [in, in + in_len) into @out, which holds @max_len bytes plus the
 * terminating NUL. Only unreserved characters and %XX escapes are allowed;
 * %00 is refused, since the result is a C string. */
static DecodeResult
percent_decode (const char *in,
                gsize       in_len,
                char       *out,
                gsize       max_len)
{
  gsize o = 0;

  for (gsize i = 0; i < in_len; i++)
    {
      char c = in[i];

      if (c == '%')
        {
          if (in_len - i < 3 || !g_ascii_isxdigit (in[i + 1]) || !g_ascii_isxdigit (in[i + 2]))
            return DECODE_BAD_ESCAPE;
          c = (char) (g_ascii_xdigit_value (in[i + 1]) << 4 | g_ascii_xdigit_value (in[i + 2]));
          if (c == '\0')
            return DECODE_ZERO_BYTE;
          i += 2;
        }
      else if (!is_unreserved (c))
        {
          return DECODE_BAD_CHAR;
        }

      if (o == max_len)
        return DECODE_TOO_LONG;
      out[o++] = c;
    }

  out[o] = '\0';

  return DECODE_OK;
}

static gboolean
param_iter_next (ParamIter *iter,
                 Param     *param)
{
  const char *amp;
  const char *seg_end;
  const char *eq;
  gsize name_len;

  if (iter->p == NULL)
    return FALSE;

  amp = memchr (iter->p, '&', iter->end - iter->p);
  seg_end = amp != NULL ? amp : iter->end;
  eq = memchr (iter->p, '=', seg_end - iter->p);
  name_len = (eq != NULL ? eq : seg_end) - iter->p;

  param->kind = PARAM_UNKNOWN;
  if (name_len == 1)
    {
      switch (iter->p[0])
        {
        case 'v': param->kind = PARAM_VERSION; break;
        case 'n': param->kind = PARAM_NAME; break;
        case 'a': param->kind = PARAM_ADDRESS; break;
        case 'c': param->kind = PARAM_CHECKSUM; break;
        default: break;
        }
    }

  param->value = eq != NULL ? eq + 1 : NULL;
  param->value_len = eq != NULL ? (gsize) (seg_end - (eq + 1)) : 0;

  iter->p = amp != NULL ? amp + 1 : NULL;

  return TRUE;
}

static const char *
param_kind_name (ParamKind kind)
{
  static const char * const names[] = {
    [PARAM_VERSION] = "v",
    [PARAM_NAME] = "n",
    [PARAM_ADDRESS] = "a",
    [PARAM_CHECKSUM] = "c",
  };

  g_assert (kind != PARAM_UNKNOWN && kind < G_N_ELEMENTS (names));

  return names[kind];
}

static void
compute_checksum (const guint8       *public_key,
                  const char         *display_name,
                  const char * const *addresses,
                  guint8              checksum[CHECKSUM_LEN])
{
  crypto_generichash_state state;
  guint8 hash[CHECKSUM_HASH_LEN];
  guint8 be16[2];
  gsize name_len = strlen (display_name);
  guint8 n_addresses = 0;

  g_assert (name_len <= G_MAXUINT16);

  while (addresses[n_addresses] != NULL)
    n_addresses++;

  /* Only selects the fastest BLAKE2b: the portable one it starts with
   * needs no set-up, so even a failure cannot give a wrong hash. */
  if (sodium_init () < 0)
    g_debug ("libsodium could not be initialized; hashing with its portable code");

  crypto_generichash_init (&state, NULL, 0, sizeof hash);
  crypto_generichash_update (&state, (const guint8 *) CHECKSUM_DOMAIN, CHECKSUM_DOMAIN_LEN);
  crypto_generichash_update (&state, public_key, SOTTO_KEY_LEN);
  be16[0] = name_len >> 8;
  be16[1] = name_len & 0xff;
  crypto_generichash_update (&state, be16, 2);
  crypto_generichash_update (&state, (const guint8 *) display_name, name_len);
  crypto_generichash_update (&state, &n_addresses, 1);
  for (guint i = 0; i < n_addresses; i++)
    {
      gsize len = strlen (addresses[i]);

      g_assert (len <= G_MAXUINT16);
      be16[0] = len >> 8;
      be16[1] = len & 0xff;
      crypto_generichash_update (&state, be16, 2);
      crypto_generichash_update (&state, (const guint8 *) addresses[i], len);
    }
  crypto_generichash_final (&state, hash, sizeof hash);

  memcpy (checksum, hash, CHECKSUM_LEN);
}

static gsize
uri_length (const char         *display_name,
            const char * const *addresses)
{
  gsize len = INVITE_SCHEME_LEN + KEY_CHARS;

  len += strlen ("?v=" INVITE_VERSION "&n=") + percent_encoded_len (display_name);
  for (guint i = 0; addresses[i] != NULL; i++)
    len += strlen ("&a=") + percent_encoded_len (addresses[i]);
  len += strlen ("&c=") + CHECKSUM_CHARS;

  return len;
}

/* The same checks as sotto_invite_new(), for invites whose fields were
 * filled in by hand. */
static gboolean
invite_is_valid (const SottoInvite *invite)
{
  guint n = 0;

  if (invite->addresses == NULL || !sotto_display_name_validate (invite->display_name, NULL))
    return FALSE;

  for (; invite->addresses[n] != NULL; n++)
    if (n == SOTTO_INVITE_MAX_ADDRESSES ||
        !sotto_invite_address_validate (invite->addresses[n], NULL))
      return FALSE;

  return uri_length (invite->display_name,
                     (const char * const *) invite->addresses) <= SOTTO_INVITE_MAX_LEN;
}

static gboolean
port_validate (const char  *port,
               gsize        len,
               GError     **error)
{
  guint value = 0;

  /* 1..65535 in one spelling only: no sign, no leading zero. */
  if (len == 0 || len > 5 || port[0] == '0')
    goto invalid;

  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (port[i]))
        goto invalid;
      value = value * 10 + (port[i] - '0');
    }

  if (value <= 65535)
    return TRUE;

invalid:
  g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                       _("The port of the address must be a number from 1 to 65535, "
                         "without leading zeros"));
  return FALSE;
}

static gboolean
ipv4_validate (const char  *host,
               gsize        len,
               GError     **error)
{
  guint n_parts = 0;
  gsize i = 0;

  while (i <= len)
    {
      gsize start = i;
      guint value = 0;

      while (i < len && g_ascii_isdigit (host[i]) && i - start < 3)
        value = value * 10 + (host[i++] - '0');

      /* 1-3 digits, no leading zero, at most 255, then a dot or the end. */
      if (i == start || (host[start] == '0' && i - start > 1) || value > 255 ||
          (i < len && host[i] != '.') || ++n_parts > 4)
        break;

      if (i == len)
        {
          if (n_parts == 4)
            return TRUE;
          break;
        }

      i++;  /* the dot */
    }

  g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                       _("The address is not a valid IPv4 address: it must be four numbers "
                         "from 0 to 255 separated by dots, without leading zeros"));
  return FALSE;
}

static gboolean
ipv6_validate (const char  *host,
               gsize        len,
               GError     **error)
{
  char buffer[IPV6_TEXT_MAX + 1];

  /* Hex digits, ':' and '.' only: no zone ("%eth0"), which means nothing
   * on the colleague's computer. */
  if (len == 0 || len > IPV6_TEXT_MAX || memchr (host, ':', len) == NULL)
    goto invalid;

  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (host[i]) && host[i] != ':' && host[i] != '.')
      goto invalid;

  memcpy (buffer, host, len);
  buffer[len] = '\0';
  if (g_hostname_is_ip_address (buffer))
    return TRUE;

invalid:
  g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                       _("The part of the address in square brackets is not a valid "
                         "IPv6 address"));
  return FALSE;
}

static gboolean
dns_name_validate (const char  *host,
                   gsize        len,
                   GError     **error)
{
  gsize label_start = 0;

  if (len > DNS_NAME_MAX)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   ngettext ("The host name of the address is longer than %d character",
                             "The host name of the address is longer than %d characters",
                             DNS_NAME_MAX),
                   DNS_NAME_MAX);
      return FALSE;
    }

  for (gsize i = 0; i <= len; i++)
    {
      gsize label_len;

      if (i < len && host[i] != '.')
        {
          if (!g_ascii_isalnum (host[i]) && host[i] != '-')
            {
              g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                                   _("The host name of the address may only contain the "
                                     "letters A–Z and a–z, digits, “-” and “.”"));
              return FALSE;
            }
          continue;
        }

      label_len = i - label_start;
      if (label_len == 0)
        {
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("The host name of the address has an empty part: it starts "
                                 "or ends with a dot, or has two dots in a row"));
          return FALSE;
        }
      if (label_len > DNS_LABEL_MAX)
        {
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                       ngettext ("A part of the host name of the address is longer than "
                                 "%d character",
                                 "A part of the host name of the address is longer than "
                                 "%d characters",
                                 DNS_LABEL_MAX),
                       DNS_LABEL_MAX);
          return FALSE;
        }
      if (host[label_start] == '-' || host[i - 1] == '-')
        {
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("A part of the host name of the address starts or ends "
                                 "with “-”"));
          return FALSE;
        }

      label_start = i + 1;
    }

  return TRUE;
}

static void
set_invalid_invite (GError     **error,
                    const char  *message)
{
  g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_INVITE, message);
}

/* Names and addresses are checked by functions that report
 * INVALID_ARGUMENT; inside an invite, the invite is what is invalid. */
static void
propagate_as_invalid_invite (GError **error,
                             GError  *local_error)
{
  local_error->domain = SOTTO_ERROR;
  local_error->code = SOTTO_ERROR_INVALID_INVITE;
  g_propagate_error (error, local_error);
}

static gboolean
decode_value (const Param  *param,
              char         *out,
              gsize         max_len,
              GError      **error)
{
  switch (percent_decode (param->value, param->value_len, out, max_len))
    {
    case DECODE_OK:
      return TRUE;

    case DECODE_BAD_CHAR:
      set_invalid_invite (error, _("This invite contains a space or another character that "
                                   "does not belong in it"));
      return FALSE;

    case DECODE_BAD_ESCAPE:
      set_invalid_invite (error, _("This invite contains a broken percent escape"));
      return FALSE;

    case DECODE_ZERO_BYTE:
      set_invalid_invite (error, _("This invite contains an encoded zero byte"));
      return FALSE;

    case DECODE_TOO_LONG:
      if (param->kind == PARAM_NAME)
        g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_INVITE,
                     ngettext ("The display name is longer than %d byte",
                               "The display name is longer than %d bytes",
                               SOTTO_DISPLAY_NAME_MAX_BYTES),
                     SOTTO_DISPLAY_NAME_MAX_BYTES);
      else
        g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_INVITE,
                     ngettext ("The address is longer than %d byte",
                               "The address is longer than %d bytes",
                               SOTTO_INVITE_ADDRESS_MAX_LEN),
                     SOTTO_INVITE_ADDRESS_MAX_LEN);
      return FALSE;

    default:
      break;
    }

  g_assert_not_reached ();
  return FALSE;
}

/* Parameters must be exactly: v, n, a (0 to 8 times), c. Counting first
 * gives a precise message for an unknown, repeated or missing parameter;
 * what is left over after that can only be a wrong order. */
static gboolean
check_parameters (const char  *query,
                  const char  *end,
                  GError     **error)
{
  /* The parameters that occur exactly once, in their order. */
  static const ParamKind once[] = { PARAM_VERSION, PARAM_NAME, PARAM_CHECKSUM };
  guint counts[PARAM_CHECKSUM + 1] = { 0, };
  ParamIter iter = { query, end };
  Param param;
  guint position = 0;

  while (param_iter_next (&iter, &param))
    {
      if (param.kind == PARAM_UNKNOWN)
        {
          set_invalid_invite (error, _("This invite contains an unknown parameter"));
          return FALSE;
        }
      if (param.value == NULL)
        {
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_INVITE,
                       /* Translators: %s is a one-letter parameter name such as “n” */
                       _("The “%s” parameter of this invite has no value"),
                       param_kind_name (param.kind));
          return FALSE;
        }
      counts[param.kind]++;
    }

  for (guint i = 0; i < G_N_ELEMENTS (once); i++)
    {
      if (counts[once[i]] > 1)
        {
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_INVITE,
                       /* Translators: %s is a one-letter parameter name such as “n” */
                       _("This invite contains the “%s” parameter more than once"),
                       param_kind_name (once[i]));
          return FALSE;
        }
      if (counts[once[i]] == 0)
        {
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_INVITE,
                       /* Translators: %s is a one-letter parameter name such as “n” */
                       _("This invite lacks the “%s” parameter"),
                       param_kind_name (once[i]));
          return FALSE;
        }
    }

  if (counts[PARAM_ADDRESS] > SOTTO_INVITE_MAX_ADDRESSES)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_INVITE,
                   ngettext ("This invite has more than %d address",
                             "This invite has more than %d addresses",
                             SOTTO_INVITE_MAX_ADDRESSES),
                   SOTTO_INVITE_MAX_ADDRESSES);
      return FALSE;
    }

  iter = (ParamIter) { query, end };
  while (param_iter_next (&iter, &param))
    {
      gboolean in_order;

      /* Addresses sit between n and c. */
      if (param.kind == PARAM_ADDRESS)
        in_order = position == 2;
      else
        in_order = position < G_N_ELEMENTS (once) && param.kind == once[position++];

      if (!in_order)
        {
          set_invalid_invite (error, _("The parameters of this invite are in the wrong order"));
          return FALSE;
        }
    }

  return TRUE;
}

/**
 * sotto_invite_new:
 * @public_key: (array fixed-size=32): the X25519 public key
 * @display_name: a valid, normalized display name
 * @addresses: (nullable) (array zero-terminated=1): HOST:PORT hints, or %NULL
 * @error: return location for a #SOTTO_ERROR_INVALID_ARGUMENT
 *
 * Returns: (transfer full) (nullable): a new invite, or %NULL if the name
 *   or an address is not valid, or the URI would be too long
 */
SottoInvite *
sotto_invite_new (const guint8        *public_key,
                  const char          *display_name,
                  const char * const  *addresses,
                  GError             **error)
{
  static const char * const no_addresses[] = { NULL };
  SottoInvite *invite;
  guint n_addresses = 0;

  g_return_val_if_fail (public_key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (addresses == NULL)
    addresses = no_addresses;

  if (!sotto_display_name_validate (display_name, error))
    return NULL;

  for (; addresses[n_addresses] != NULL; n_addresses++)
    {
      if (n_addresses == SOTTO_INVITE_MAX_ADDRESSES)
        {
          g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                       ngettext ("An invite can hold at most %d address",
                                 "An invite can hold at most %d addresses",
                                 SOTTO_INVITE_MAX_ADDRESSES),
                       SOTTO_INVITE_MAX_ADDRESSES);
          return NULL;
        }
      if (!sotto_invite_address_validate (addresses[n_addresses], error))
        return NULL;
    }

  /* Eight of the longest addresses do not fit: refuse what no parser
   * would accept. */
  if (uri_length (display_name, addresses) > SOTTO_INVITE_MAX_LEN)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   ngettext ("The invite would be longer than %d byte; use fewer or "
                             "shorter addresses",
                             "The invite would be longer than %d bytes; use fewer or "
                             "shorter addresses",
                             SOTTO_INVITE_MAX_LEN),
                   SOTTO_INVITE_MAX_LEN);
      return NULL;
    }

  invite = g_new0 (SottoInvite, 1);
  memcpy (invite->public_key, public_key, SOTTO_KEY_LEN);
  invite->display_name = g_strdup (display_name);
  invite->addresses = g_strdupv ((char **) addresses);

  return invite;
}

/**
 * sotto_invite_new_for_identity:
 * @identity: the user's own identity
 * @addresses: (nullable) (array zero-terminated=1): HOST:PORT hints where
 *   the user can be reached, or %NULL
 * @error: return location for a #SOTTO_ERROR_INVALID_ARGUMENT
 *
 * The invite that hands @identity's public key and display name to
 * colleagues.
 *
 * Returns: (transfer full) (nullable): a new invite, or %NULL if an
 *   address is not valid, there are too many, or the URI would be too long
 */
SottoInvite *
sotto_invite_new_for_identity (SottoIdentity       *identity,
                               const char * const  *addresses,
                               GError             **error)
{
  g_return_val_if_fail (SOTTO_IS_IDENTITY (identity), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return sotto_invite_new (sotto_identity_get_public_key (identity),
                           sotto_identity_get_display_name (identity),
                           addresses, error);
}

/**
 * sotto_invite_parse:
 * @text: an invite URI as pasted by the user
 * @error: return location for a #GError: %SOTTO_ERROR_INVITE_TOO_NEW,
 *   %SOTTO_ERROR_INVITE_DAMAGED for a checksum mismatch, or
 *   %SOTTO_ERROR_INVALID_INVITE
 *
 * Reads an invite exactly as PROTOCOL.md, "Invite URIs", describes it.
 * White space around @text is ignored. At most %SOTTO_INVITE_MAX_LEN + 1
 * bytes of @text are ever read.
 *
 * Returns: (transfer full) (nullable): the invite, or %NULL
 */
SottoInvite *
sotto_invite_parse (const char  *text,
                    GError     **error)
{
  char name[SOTTO_DISPLAY_NAME_MAX_BYTES + 1];
  char address_buffers[SOTTO_INVITE_MAX_ADDRESSES][SOTTO_INVITE_ADDRESS_MAX_LEN + 1];
  const char *addresses[SOTTO_INVITE_MAX_ADDRESSES + 1] = { NULL, };
  guint8 public_key[SOTTO_KEY_LEN];
  guint8 checksum[CHECKSUM_LEN];
  guint8 expected[CHECKSUM_LEN];
  GError *local_error = NULL;
  SottoInvite *invite;
  const char *start;
  const char *end;
  const char *key;
  const char *query;
  ParamIter iter;
  Param param;
  guint n_addresses = 0;
  gsize len;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Before anything else: a megabyte of pasted text costs no more than
   * one byte past the limit. */
  len = strnlen (text, SOTTO_INVITE_MAX_LEN + 1);
  if (len > SOTTO_INVITE_MAX_LEN)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_INVITE,
                   ngettext ("This invite is longer than %d byte",
                             "This invite is longer than %d bytes",
                             SOTTO_INVITE_MAX_LEN),
                   SOTTO_INVITE_MAX_LEN);
      return NULL;
    }

  start = text;
  end = text + len;
  while (start < end && is_ascii_white_space (*start))
    start++;
  while (end > start && is_ascii_white_space (end[-1]))
    end--;

  if (start == end)
    {
      set_invalid_invite (error, _("The invite is empty"));
      return NULL;
    }

  if ((gsize) (end - start) < INVITE_SCHEME_LEN ||
      g_ascii_strncasecmp (start, INVITE_SCHEME, INVITE_SCHEME_LEN) != 0)
    {
      set_invalid_invite (error, _("This is not a Sotto invite: it does not start "
                                   "with “sotto:”"));
      return NULL;
    }

  if (memchr (start, '#', end - start) != NULL)
    {
      set_invalid_invite (error, _("This invite contains a “#”, which is not allowed"));
      return NULL;
    }

  key = start + INVITE_SCHEME_LEN;
  query = memchr (key, '?', end - key);

  /* The version comes first, before even the key is looked at: a later
   * version may change everything after it. */
  if (query != NULL)
    {
      iter = (ParamIter) { query + 1, end };
      param_iter_next (&iter, &param);
      if (param.kind == PARAM_VERSION && param.value != NULL &&
          (param.value_len != strlen (INVITE_VERSION) ||
           memcmp (param.value, INVITE_VERSION, param.value_len) != 0))
        {
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVITE_TOO_NEW,
                               _("This invite was made by a newer version of Sotto"));
          return NULL;
        }
    }

  if ((query != NULL ? query : end) - key != KEY_CHARS)
    {
      set_invalid_invite (error, _("The key in this invite must be exactly 52 characters long"));
      return NULL;
    }
  if (!is_base32 (key, KEY_CHARS))
    {
      set_invalid_invite (error, _("The key in this invite contains a character other than "
                                   "the letters A–Z and the digits 2–7"));
      return NULL;
    }
  if (!base32_decode (key, KEY_CHARS, public_key, SOTTO_KEY_LEN))
    {
      set_invalid_invite (error, _("The key in this invite is damaged: its last character "
                                   "is not possible"));
      return NULL;
    }

  if (query == NULL)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_INVITE,
                   _("This invite lacks the “%s” parameter"), "v");
      return NULL;
    }

  if (!check_parameters (query + 1, end, error))
    return NULL;

  /* Now known to be v, n, a*, c: decode, each into its fixed buffer. */
  iter = (ParamIter) { query + 1, end };
  while (param_iter_next (&iter, &param))
    {
      switch (param.kind)
        {
        case PARAM_VERSION:
          break;

        case PARAM_NAME:
          if (!decode_value (&param, name, SOTTO_DISPLAY_NAME_MAX_BYTES, error))
            return NULL;
          break;

        case PARAM_ADDRESS:
          g_assert (n_addresses < SOTTO_INVITE_MAX_ADDRESSES);
          if (!decode_value (&param, address_buffers[n_addresses],
                             SOTTO_INVITE_ADDRESS_MAX_LEN, error))
            return NULL;
          addresses[n_addresses] = address_buffers[n_addresses];
          n_addresses++;
          break;

        case PARAM_CHECKSUM:
          if (param.value_len != CHECKSUM_CHARS || !is_base32 (param.value, CHECKSUM_CHARS))
            {
              set_invalid_invite (error, _("The checksum of this invite must be 8 letters "
                                           "and digits"));
              return NULL;
            }
          /* 8 chars carry exactly 40 bits: no unused bits to check. */
          base32_decode (param.value, CHECKSUM_CHARS, checksum, CHECKSUM_LEN);
          break;

        case PARAM_UNKNOWN:
        default:
          g_assert_not_reached ();
        }
    }

  /* Before the name and address rules: a typo that happens to break one
   * of them is still reported as what it most likely is. */
  compute_checksum (public_key, name, addresses, expected);
  if (memcmp (checksum, expected, CHECKSUM_LEN) != 0)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVITE_DAMAGED,
                           _("This invite is damaged or mistyped: its checksum does not match"));
      return NULL;
    }

  /* Behind the checksum, so that a typo is reported as one: only a
   * writer that meant it makes another form of a key (bit 255 set, or a
   * value from 2^255 - 19 up), which would give the same person a second
   * fingerprint. */
  if (!sotto_public_key_is_canonical (public_key))
    {
      set_invalid_invite (error, _("The key in this invite is not in canonical form: "
                                   "it is not a valid Sotto key"));
      return NULL;
    }

  /* The name is taken as it is, never normalized: what the checksum
   * covers is what the user sees. */
  if (!sotto_display_name_validate (name, &local_error))
    {
      propagate_as_invalid_invite (error, local_error);
      return NULL;
    }

  for (guint i = 0; i < n_addresses; i++)
    {
      if (!sotto_invite_address_validate (addresses[i], &local_error))
        {
          propagate_as_invalid_invite (error, local_error);
          return NULL;
        }
    }

  invite = g_new0 (SottoInvite, 1);
  memcpy (invite->public_key, public_key, SOTTO_KEY_LEN);
  invite->display_name = g_strdup (name);
  invite->addresses = g_strdupv ((char **) addresses);

  return invite;
}

/**
 * sotto_invite_to_uri:
 * @invite: a valid #SottoInvite
 *
 * Returns: (transfer full): the canonical URI of @invite, at most
 *   %SOTTO_INVITE_MAX_LEN bytes
 */
char *
sotto_invite_to_uri (const SottoInvite *invite)
{
  char key[KEY_CHARS];
  guint8 checksum[CHECKSUM_LEN];
  char checksum_text[CHECKSUM_CHARS];
  GString *uri;

  g_return_val_if_fail (invite != NULL, NULL);
  g_return_val_if_fail (invite_is_valid (invite), NULL);

  base32_encode (invite->public_key, SOTTO_KEY_LEN, key);
  compute_checksum (invite->public_key, invite->display_name,
                    (const char * const *) invite->addresses, checksum);
  base32_encode (checksum, CHECKSUM_LEN, checksum_text);

  uri = g_string_sized_new (SOTTO_INVITE_MAX_LEN + 1);
  g_string_append (uri, INVITE_SCHEME);
  g_string_append_len (uri, key, KEY_CHARS);
  g_string_append (uri, "?v=" INVITE_VERSION "&n=");
  append_percent_encoded (uri, invite->display_name);
  for (guint i = 0; invite->addresses[i] != NULL; i++)
    {
      g_string_append (uri, "&a=");
      append_percent_encoded (uri, invite->addresses[i]);
    }
  g_string_append (uri, "&c=");
  g_string_append_len (uri, checksum_text, CHECKSUM_CHARS);

  g_assert (uri->len <= SOTTO_INVITE_MAX_LEN);

  return g_string_free (uri, FALSE);
}

/**
 * sotto_invite_address_validate:
 * @address: (nullable): an address hint
 * @error: return location for a #SOTTO_ERROR_INVALID_ARGUMENT
 *
 * An address hint is `HOST:PORT`, where HOST is a dotted-quad IPv4
 * address, an IPv6 address in square brackets or a DNS name. See
 * PROTOCOL.md, "Invite URIs", for the exact rules.
 *
 * Returns: %TRUE if @address is a valid address hint
 */
gboolean
sotto_invite_address_validate (const char  *address,
                               GError     **error)
{
  const char *host;
  const char *port;
  gsize host_len;
  gsize len;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (address == NULL || address[0] == '\0')
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The address is empty"));
      return FALSE;
    }

  len = strnlen (address, SOTTO_INVITE_ADDRESS_MAX_LEN + 1);
  if (len > SOTTO_INVITE_ADDRESS_MAX_LEN)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   ngettext ("The address is longer than %d byte",
                             "The address is longer than %d bytes",
                             SOTTO_INVITE_ADDRESS_MAX_LEN),
                   SOTTO_INVITE_ADDRESS_MAX_LEN);
      return FALSE;
    }

  if (address[0] == '[')
    {
      const char *close = memchr (address, ']', len);

      if (close == NULL)
        {
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("The address has a “[” without a matching “]”"));
          return FALSE;
        }
      host = address + 1;
      host_len = close - host;
      port = close + 1;
    }
  else
    {
      host = address;
      port = memchr (address, ':', len);
      host_len = (port != NULL ? port : address + len) - address;
      if (port != NULL && memchr (port + 1, ':', address + len - (port + 1)) != NULL)
        {
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("An IPv6 address must be written in square brackets, "
                                 "for example [2001:db8::1]:7447"));
          return FALSE;
        }
    }

  if (port == NULL || port == address + len || *port != ':')
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           /* Translators: HOST and PORT are placeholders; translate them */
                           _("The address has no port: write it as HOST:PORT"));
      return FALSE;
    }
  port++;

  if (host_len == 0)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The address has no host"));
      return FALSE;
    }

  if (address[0] == '[')
    {
      if (!ipv6_validate (host, host_len, error))
        return FALSE;
    }
  else if (strspn (host, "0123456789.") >= host_len)
    {
      /* Digits and dots only: meant as IPv4, never read as a DNS name. */
      if (!ipv4_validate (host, host_len, error))
        return FALSE;
    }
  else if (!dns_name_validate (host, host_len, error))
    {
      return FALSE;
    }

  return port_validate (port, address + len - port, error);
}

/**
 * sotto_invite_copy:
 * @invite: a #SottoInvite
 *
 * Returns: (transfer full): a deep copy of @invite
 */
SottoInvite *
sotto_invite_copy (const SottoInvite *invite)
{
  SottoInvite *copy;

  g_return_val_if_fail (invite != NULL, NULL);

  copy = g_new0 (SottoInvite, 1);
  memcpy (copy->public_key, invite->public_key, SOTTO_KEY_LEN);
  copy->display_name = g_strdup (invite->display_name);
  copy->addresses = g_strdupv (invite->addresses);
  if (copy->addresses == NULL)
    copy->addresses = g_new0 (char *, 1);

  return copy;
}

void
sotto_invite_free (SottoInvite *invite)
{
  if (invite == NULL)
    return;

  g_free (invite->display_name);
  g_strfreev (invite->addresses);
  g_free (invite);
}
