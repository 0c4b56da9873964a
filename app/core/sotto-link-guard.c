/* sotto-link-guard.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The one entry point every link click goes through (SottoLinkGuard in
 * DESIGN.md). It never opens anything: it works out what a browser would
 * open — the WHATWG URL standard's host parsing, IDNA (UTS #46) and the
 * IPv4 forms browsers accept — and what is odd about it: look-alike
 * letters (UTS #39 confusables, through ICU), invisible and bidirectional
 * characters, a name before "@", numeric hosts. Each finding carries an
 * explanation; the worst one decides what a click does. The registrable
 * domain comes from the public suffix list (libpsl), for the dialog to
 * emphasise.
 *
 * The finder (sotto_link_find) takes a link to the first white space, so
 * that a link with Cyrillic letters or an invisible character in its host
 * is found whole and judged, not cut short into an innocent-looking one.
 */
#define G_LOG_DOMAIN "sotto-link-guard"

#include "config.h"

#include <string.h>
#include <libpsl.h>
#include <unicode/uidna.h>
#include <unicode/uspoof.h>
#include <glib/gi18n-lib.h>
#include <gio/gio.h>

#include "sotto-link-guard.h"
#include "sotto-text.h"

G_DEFINE_BOXED_TYPE (SottoLinkVerdict, sotto_link_verdict,
                     sotto_link_verdict_copy, sotto_link_verdict_free)

/* A host longer than this is no DNS name; ICU is not asked. */
#define HOST_MAX_LEN 1024

static const char * const default_schemes[] = { "http", "https", "mailto", NULL };

/* -------------------------------------------------------------------------
 * Findings
 * ------------------------------------------------------------------------- */

static void
finding_free (SottoLinkFinding *finding)
{
  g_free (finding->id);
  g_free (finding->text);
  g_free (finding);
}

static void
add_finding (SottoLinkVerdict  *verdict,
             const char        *id,
             SottoLinkSeverity  severity,
             const char        *text)
{
  SottoLinkFinding *finding;

  if (sotto_link_verdict_has_finding (verdict, id))
    return;
  finding = g_new0 (SottoLinkFinding, 1);
  finding->id = g_strdup (id);
  finding->severity = severity;
  finding->text = g_strdup (text);
  g_ptr_array_add (verdict->findings, finding);
}

static SottoLinkVerdict *
verdict_new (const char *link)
{
  SottoLinkVerdict *verdict = g_new0 (SottoLinkVerdict, 1);

  verdict->link = g_strdup (link);
  verdict->scheme = g_strdup ("");
  verdict->port = -1;
  verdict->findings = g_ptr_array_new_with_free_func ((GDestroyNotify)finding_free);
  return verdict;
}

/* -------------------------------------------------------------------------
 * The libraries, opened once
 * ------------------------------------------------------------------------- */

static const UIDNA *
get_idna (void)
{
  static gsize once = 0;
  static UIDNA *idna = NULL;

  if (g_once_init_enter (&once))
    {
      UErrorCode status = U_ZERO_ERROR;

      /* The WHATWG URL standard's "domain to ASCII": non-transitional,
       * with the bidi and joiner rules. */
      idna = uidna_openUTS46 (UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_NONTRANSITIONAL_TO_UNICODE |
                              UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ, &status);
      if (U_FAILURE (status))
        g_error ("ICU's IDNA could not be opened: %s", u_errorName (status));
      g_once_init_leave (&once, 1);
    }
  return idna;
}

static const USpoofChecker *
get_spoof_checker (void)
{
  static gsize once = 0;
  static USpoofChecker *checker = NULL;

  if (g_once_init_enter (&once))
    {
      UErrorCode status = U_ZERO_ERROR;

      checker = uspoof_open (&status);
      uspoof_setChecks (checker, USPOOF_RESTRICTION_LEVEL, &status);
      uspoof_setRestrictionLevel (checker, USPOOF_HIGHLY_RESTRICTIVE);
      if (U_FAILURE (status))
        g_error ("ICU's spoof checker could not be opened: %s", u_errorName (status));
      g_once_init_leave (&once, 1);
    }
  return checker;
}

static const psl_ctx_t *
get_psl (void)
{
  static gsize once = 0;
  static const psl_ctx_t *psl = NULL;

  if (g_once_init_enter (&once))
    {
      /* The system's list (the publicsuffix package) when there is one,
       * else the one libpsl was built with. */
      psl = psl_latest (NULL);
      if (psl == NULL)
        psl = psl_builtin ();
      g_once_init_leave (&once, 1);
    }
  return psl;
}

/* UTS #46 to ASCII or to Unicode, with the errors the WHATWG URL standard
 * ignores (hyphens, label and name lengths: CheckHyphens and
 * VerifyDnsLength are false) ignored. */
static char *
idna_convert (const char *name,
              gboolean    to_ascii)
{
  const uint32_t ignored = UIDNA_ERROR_LEADING_HYPHEN | UIDNA_ERROR_TRAILING_HYPHEN |
                           UIDNA_ERROR_HYPHEN_3_4 | UIDNA_ERROR_EMPTY_LABEL |
                           UIDNA_ERROR_LABEL_TOO_LONG | UIDNA_ERROR_DOMAIN_NAME_TOO_LONG;
  char buffer[HOST_MAX_LEN * 4 + 1];
  UIDNAInfo info = UIDNA_INFO_INITIALIZER;
  UErrorCode status = U_ZERO_ERROR;
  int32_t len;

  if (to_ascii)
    len = uidna_nameToASCII_UTF8 (get_idna (), name, -1, buffer, sizeof buffer - 1, &info, &status);
  else
    len = uidna_nameToUnicodeUTF8 (get_idna (), name, -1, buffer, sizeof buffer - 1, &info,
                                   &status);
  if (U_FAILURE (status) || (info.errors & ~ignored) != 0 || len < 0 ||
      len >= (int32_t)sizeof buffer)
    return NULL;

  return g_strndup (buffer, (gsize)len);
}

/* -------------------------------------------------------------------------
 * Hosts
 * ------------------------------------------------------------------------- */

/* One part of a WHATWG IPv4 address: decimal, 0x-hex or 0-octal. */
static gboolean
parse_ipv4_number (const char *part,
                   gsize       len,
                   guint64    *out)
{
  guint base = 10;
  guint64 value = 0;

  if (len == 0)
    return FALSE;
  if (len >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X'))
    {
      base = 16;
      part += 2;
      len -= 2;
    }
  else if (len >= 2 && part[0] == '0')
    {
      base = 8;
      part++;
      len--;
    }

  for (gsize i = 0; i < len; i++)
    {
      int digit = g_ascii_xdigit_value (part[i]);

      if (digit < 0 || (guint)digit >= base)
        return FALSE;
      value = value * base + (guint)digit;
      if (value > G_MAXUINT32)
        {
          /* Too big for any part: only the size matters now. */
          value = (guint64)G_MAXUINT32 + 1;
        }
    }
  *out = value;
  return TRUE;
}

/* Whether the last label (after one trailing empty label) is a number, in
 * which case browsers read the host as an IPv4 address. */
static gboolean
ends_in_number (const char *host)
{
  g_auto (GStrv) labels = g_strsplit (host, ".", -1);
  guint n = g_strv_length (labels);
  const char *last;
  guint64 ignored;

  if (n > 1 && labels[n - 1][0] == '\0')
    n--;
  last = labels[n - 1];
  if (last[0] == '\0')
    return FALSE;
  if (strspn (last, "0123456789") == strlen (last))
    return TRUE;
  return parse_ipv4_number (last, strlen (last), &ignored);
}

/* The WHATWG IPv4 parser: 1 to 4 parts, each at most 255 but the last,
 * which fills the remaining bytes. */
static gboolean
parse_ipv4 (const char *host,
            guint32    *out)
{
  g_auto (GStrv) parts = g_strsplit (host, ".", -1);
  guint n = g_strv_length (parts);
  guint64 numbers[4];
  guint64 value = 0;

  if (n > 1 && parts[n - 1][0] == '\0')
    n--;
  if (n == 0 || n > 4)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (!parse_ipv4_number (parts[i], strlen (parts[i]), &numbers[i]))
      return FALSE;
  for (guint i = 0; i + 1 < n; i++)
    if (numbers[i] > 255)
      return FALSE;
  if (numbers[n - 1] >= ((guint64)1 << (8 * (5 - n))))
    return FALSE;

  value = numbers[n - 1];
  for (guint i = 0; i + 1 < n; i++)
    value += numbers[i] << (8 * (3 - i));
  *out = (guint32)value;
  return TRUE;
}

static void
judge_address (SottoLinkVerdict *verdict,
               GInetAddress     *address)
{
  const guint8 *bytes = g_inet_address_to_bytes (address);
  gboolean v6 = g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6;

  if (g_inet_address_get_is_loopback (address))
    add_finding (verdict, "ip-loopback", SOTTO_LINK_SUSPECT,
                 _("The link goes to this computer itself, not to a web site. Pages there can "
                   "reach programs that only trust this computer."));
  else if (g_inet_address_get_is_link_local (address))
    add_finding (verdict, "ip-link-local", SOTTO_LINK_SUSPECT,
                 _("The link goes to a device on your own network segment by a numeric "
                   "address, not to a named site."));
  else if (g_inet_address_get_is_site_local (address) || (v6 && (bytes[0] & 0xfe) == 0xfc))
    add_finding (verdict, "ip-private", SOTTO_LINK_NOTE,
                 _("The link goes to a numeric address in a private network, such as your "
                   "company’s."));
  else
    add_finding (verdict, "ip-address", SOTTO_LINK_SUSPECT,
                 _("The link goes to a numeric address on the internet instead of a named "
                   "site: you can’t tell whose it is."));
}

/* Look-alike letters, label by label: a label that mixes scripts in a way
 * real names don't (Latin with Cyrillic), or whose letters all imitate
 * plain ASCII ones. */
static void
judge_labels (SottoLinkVerdict *verdict)
{
  g_auto (GStrv) labels = g_strsplit (verdict->host, ".", -1);

  for (guint i = 0; labels[i] != NULL; i++)
    {
      const char *label = labels[i];
      UErrorCode status = U_ZERO_ERROR;
      char skeleton[HOST_MAX_LEN * 4 + 1];
      int32_t checks;
      int32_t len;
      gboolean ascii = TRUE;

      for (const char *p = label; *p != '\0'; p++)
        if ((guchar)*p >= 0x80)
          ascii = FALSE;
      if (ascii)
        continue;

      checks = uspoof_checkUTF8 (get_spoof_checker (), label, -1, NULL, &status);
      if (U_SUCCESS (status) && (checks & USPOOF_RESTRICTION_LEVEL) != 0)
        add_finding (verdict, "mixed-script", SOTTO_LINK_SUSPECT,
                     _("The site’s name mixes letters of different alphabets, as names meant "
                       "to imitate another site’s do."));

      status = U_ZERO_ERROR;
      len = uspoof_getSkeletonUTF8 (get_spoof_checker (), 0, label, -1, skeleton,
                                    sizeof skeleton - 1, &status);
      if (U_SUCCESS (status) && len > 0 && len < (int32_t)sizeof skeleton &&
          strspn (skeleton, "abcdefghijklmnopqrstuvwxyz0123456789-") == (gsize)len)
        {
          g_autofree char *text = NULL;

          skeleton[len] = '\0';
          /* Translators: %s is the plain name it imitates, e.g. "apple". */
          text = g_strdup_printf (_("The site’s name is written with letters that only look "
                                    "like “%s”: it is another site."), skeleton);
          add_finding (verdict, "confusable", SOTTO_LINK_SUSPECT, text);
        }
    }
}

/* WHATWG's forbidden domain code points, after IDNA. */
static gboolean
has_forbidden_code_point (const char *ascii)
{
  for (const char *p = ascii; *p != '\0'; p++)
    if ((guchar)*p <= 0x20 || *p == 0x7f || strchr ("#/:<>?@[\\]^|%", *p) != NULL)
      return TRUE;
  return FALSE;
}

static void
set_registrable_domain (SottoLinkVerdict *verdict)
{
  const char *domain = psl_registrable_domain (get_psl (), verdict->host_ascii);

  if (domain != NULL)
    verdict->registrable_domain = idna_convert (domain, FALSE);
}

/* The host as a browser reads it. FALSE: there is none it would open. */
static gboolean
parse_host (SottoLinkVerdict *verdict,
            const char       *raw,
            gsize             raw_len)
{
  g_autofree char *written = g_strndup (raw, raw_len);
  g_autofree char *decoded = NULL;
  g_autofree char *lower = NULL;
  guint32 ipv4;

  if (raw_len == 0 || raw_len > HOST_MAX_LEN)
    return FALSE;

  if (written[0] == '[')
    {
      g_autoptr (GInetAddress) address = NULL;
      g_autofree char *inner = NULL;

      if (written[raw_len - 1] != ']')
        return FALSE;
      inner = g_strndup (written + 1, raw_len - 2);
      address = g_inet_address_new_from_string (inner);
      if (address == NULL || g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV6)
        return FALSE;
      verdict->host = g_inet_address_to_string (address);
      verdict->host_ascii = g_strdup (verdict->host);
      judge_address (verdict, address);
      return TRUE;
    }

  decoded = g_uri_unescape_string (written, NULL);
  if (decoded == NULL || !g_utf8_validate (decoded, -1, NULL))
    return FALSE;
  if (!g_str_equal (decoded, written))
    add_finding (verdict, "encoded-host", SOTTO_LINK_SUSPECT,
                 _("The site’s name is disguised with percent codes; the site is the decoded "
                   "name."));

  verdict->host_ascii = idna_convert (decoded, TRUE);
  if (verdict->host_ascii == NULL || verdict->host_ascii[0] == '\0' ||
      has_forbidden_code_point (verdict->host_ascii))
    return FALSE;
  lower = g_ascii_strdown (verdict->host_ascii, -1);
  g_free (verdict->host_ascii);
  verdict->host_ascii = g_steal_pointer (&lower);

  if (ends_in_number (verdict->host_ascii))
    {
      g_autoptr (GInetAddress) address = NULL;
      g_autofree char *written_lower = g_ascii_strdown (decoded, -1);
      gsize len = strlen (written_lower);
      guint8 bytes[4];

      if (!parse_ipv4 (verdict->host_ascii, &ipv4))
        return FALSE;
      bytes[0] = ipv4 >> 24;
      bytes[1] = (ipv4 >> 16) & 0xff;
      bytes[2] = (ipv4 >> 8) & 0xff;
      bytes[3] = ipv4 & 0xff;
      address = g_inet_address_new_from_bytes (bytes, G_SOCKET_FAMILY_IPV4);
      g_free (verdict->host_ascii);
      verdict->host_ascii = g_inet_address_to_string (address);
      verdict->host = g_strdup (verdict->host_ascii);
      if (len > 0 && written_lower[len - 1] == '.')
        written_lower[len - 1] = '\0';
      if (!g_str_equal (written_lower, verdict->host_ascii))
        add_finding (verdict, "ip-obfuscated", SOTTO_LINK_SUSPECT,
                     _("The numeric address is written in an unusual form that hides what it "
                       "is; browsers read it as the address shown."));
      judge_address (verdict, address);
      return TRUE;
    }

  verdict->host = idna_convert (verdict->host_ascii, FALSE);
  if (verdict->host == NULL)
    verdict->host = g_strdup (verdict->host_ascii);
  if (g_str_has_prefix (verdict->host_ascii, "xn--") || strstr (verdict->host_ascii, ".xn--") != NULL)
    {
      g_autofree char *text = NULL;

      /* Translators: the site's name in its letters, then as browsers send it. */
      text = g_strdup_printf (_("The site’s name has letters beyond A to Z: “%s”, which is "
                                "“%s” to a browser."), verdict->host, verdict->host_ascii);
      add_finding (verdict, "idn", SOTTO_LINK_NOTE, text);
      judge_labels (verdict);
    }
  set_registrable_domain (verdict);
  return TRUE;
}

/* -------------------------------------------------------------------------
 * The link
 * ------------------------------------------------------------------------- */

static gboolean
scheme_allowed (const char            *scheme,
                const SottoLinkPolicy *policy)
{
  const char * const *schemes = policy != NULL && policy->schemes != NULL
                                ? policy->schemes : default_schemes;

  for (guint i = 0; schemes[i] != NULL; i++)
    if (g_ascii_strcasecmp (schemes[i], scheme) == 0)
      return TRUE;
  return FALSE;
}

static int
default_port (const char *scheme)
{
  if (g_str_equal (scheme, "http"))
    return 80;
  if (g_str_equal (scheme, "https"))
    return 443;
  if (g_str_equal (scheme, "ftp"))
    return 21;
  return -1;
}

/* Percent-encodes what can't stand in a URL as it is sent: controls,
 * spaces, non-ASCII bytes and a few delimiters. */
static void
append_encoded (GString    *out,
                const char *text,
                gsize       len)
{
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar)text[i];

      if (c <= 0x20 || c >= 0x7f || strchr ("\"<>`{}|^", c) != NULL)
        g_string_append_printf (out, "%%%02X", c);
      else
        g_string_append_c (out, (char)c);
    }
}

static gboolean
is_trusted (const SottoLinkVerdict *verdict,
            const SottoLinkPolicy  *policy)
{
  if (policy == NULL || policy->trusted_domains == NULL || verdict->host_ascii == NULL)
    return FALSE;

  for (guint i = 0; policy->trusted_domains[i] != NULL; i++)
    {
      g_autofree char *domain = idna_convert (policy->trusted_domains[i], TRUE);
      g_autofree char *lower = NULL;
      gsize host_len = strlen (verdict->host_ascii);
      gsize len;

      if (domain == NULL || domain[0] == '\0')
        continue;
      lower = g_ascii_strdown (domain, -1);
      len = strlen (lower);
      if (g_str_equal (verdict->host_ascii, lower) ||
          (host_len > len && g_str_has_suffix (verdict->host_ascii, lower) &&
           verdict->host_ascii[host_len - len - 1] == '.'))
        return TRUE;
    }
  return FALSE;
}

/* The authority of a hierarchical link: userinfo, host, port. Returns
 * the offset of what follows it, or -1 when there is no host a browser
 * would open. */
static gssize
parse_authority (SottoLinkVerdict *verdict,
                 const char       *text,
                 gsize             start)
{
  gsize end = start + strcspn (text + start, "/\\?#");
  const char *at = NULL;
  const char *host = text + start;
  const char *colon = NULL;
  gsize host_len;

  for (const char *p = text + start; p < text + end; p++)
    if (*p == '@')
      at = p;
  if (at != NULL)
    {
      add_finding (verdict, "userinfo", SOTTO_LINK_SUSPECT,
                   _("The link has a name before “@”: the site it goes to is what comes after "
                     "the “@”, not what comes before."));
      host = at + 1;
    }

  host_len = (gsize)(text + end - host);
  /* The port follows the last ":" outside an IPv6 literal's brackets. */
  for (const char *p = host + host_len; p > host; p--)
    {
      if (p[-1] == ']')
        break;
      if (p[-1] == ':')
        {
          colon = p - 1;
          break;
        }
    }
  if (colon != NULL)
    {
      const char *digits = colon + 1;
      gsize n = (gsize)(text + end - digits);
      guint64 port = 0;

      for (gsize i = 0; i < n; i++)
        {
          if (!g_ascii_isdigit (digits[i]))
            return -1;
          port = port * 10 + (guint)(digits[i] - '0');
          if (port > 65535)
            return -1;
        }
      host_len = (gsize)(colon - host);
      if (n > 0 && (int)port != default_port (verdict->scheme))
        {
          g_autofree char *text_port = NULL;

          verdict->port = (int)port;
          /* Translators: %d is a port number, e.g. 8080. */
          text_port = g_strdup_printf (_("The link names a port, %d: usual for company "
                                         "services, unusual for public sites."), verdict->port);
          add_finding (verdict, "port", SOTTO_LINK_NOTE, text_port);
        }
    }

  if (!parse_host (verdict, host, host_len))
    return -1;
  return (gssize)end;
}

static void
add_invalid (SottoLinkVerdict *verdict)
{
  add_finding (verdict, "invalid", SOTTO_LINK_FATAL,
               _("This is not a link a browser would open."));
}

/**
 * sotto_link_dup_shown:
 * @link: a link (valid UTF-8)
 *
 * The link as the user should see it (#SottoLinkVerdict:shown): its
 * invisible and bidirectional control characters written out as
 * "⟦U+202E⟧" (sotto_text_reveal_hidden()). Control characters are left
 * as they are: a link found in a message holds none (the finder ends it
 * at one), and one given with a control character is invalid anyway.
 *
 * Returns: (transfer full): the text to show
 */
char *
sotto_link_dup_shown (const char *link)
{
  return sotto_text_reveal_hidden (link, FALSE);
}

static void
check_characters (SottoLinkVerdict *verdict)
{
  for (const char *p = verdict->link; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (sotto_char_is_bidi_control (c))
        add_finding (verdict, "bidi", SOTTO_LINK_SUSPECT,
                     _("The link contains characters that change the direction of the text, "
                       "so that it can read differently from what it is; they are shown as "
                       "⟦U+…⟧."));
      else if (sotto_char_is_invisible (c))
        add_finding (verdict, "invisible", SOTTO_LINK_SUSPECT,
                     _("The link contains invisible characters, shown as ⟦U+…⟧: the name you "
                       "read is not the one it goes to."));
    }
}

static void
decide (SottoLinkVerdict      *verdict,
        const SottoLinkPolicy *policy,
        GString               *uri)
{
  SottoLinkSeverity worst = SOTTO_LINK_NOTE;

  for (guint i = 0; i < verdict->findings->len; i++)
    {
      SottoLinkFinding *finding = g_ptr_array_index (verdict->findings, i);

      worst = MAX (worst, finding->severity);
    }

  if (worst == SOTTO_LINK_FATAL)
    verdict->action = SOTTO_LINK_BLOCK;
  else if (worst == SOTTO_LINK_SUSPECT)
    verdict->action = SOTTO_LINK_WARN;
  else if (sotto_link_verdict_has_finding (verdict, "trusted"))
    verdict->action = SOTTO_LINK_OPEN;
  else
    verdict->action = SOTTO_LINK_ASK;

  if (verdict->action != SOTTO_LINK_BLOCK && uri != NULL)
    verdict->uri = g_strdup (uri->str);
}

/**
 * sotto_link_guard_check:
 * @link: a link as it appears in a message (UTF-8)
 * @sender: who sent it
 * @policy: (nullable): the administrator's rules; %NULL for the defaults
 *
 * Works out what a browser would open and what is odd about it. Pure:
 * no I/O, the same answer for the same input.
 *
 * Returns: (transfer full): the verdict; never %NULL
 */
SottoLinkVerdict *
sotto_link_guard_check (const char            *link,
                        SottoLinkSender        sender,
                        const SottoLinkPolicy *policy)
{
  g_autoptr (SottoLinkVerdict) verdict = NULL;
  g_autoptr (GString) uri = NULL;
  g_autofree char *full = NULL;
  gsize scheme_len;
  gsize len;

  g_return_val_if_fail (link != NULL, NULL);

  if (!g_utf8_validate (link, -1, NULL))
    {
      g_autofree char *valid = g_utf8_make_valid (link, -1);

      verdict = verdict_new (valid);
      verdict->shown = sotto_link_dup_shown (valid);
      add_invalid (verdict);
      decide (verdict, policy, NULL);
      return g_steal_pointer (&verdict);
    }

  verdict = verdict_new (link);
  len = strlen (link);
  if (len > SOTTO_LINK_MAX_LEN)
    {
      verdict->shown = g_strdup ("");
      add_finding (verdict, "too-long", SOTTO_LINK_FATAL,
                   _("The link is far too long to be a real address, so Sotto does not open "
                     "it."));
      decide (verdict, policy, NULL);
      return g_steal_pointer (&verdict);
    }
  verdict->shown = sotto_link_dup_shown (link);

  if (policy != NULL && policy->links_off)
    add_finding (verdict, "links-off", SOTTO_LINK_FATAL,
                 _("Your administrator has turned off opening links from messages."));
  if (len > SOTTO_LINK_LONG_LEN)
    add_finding (verdict, "long", SOTTO_LINK_SUSPECT,
                 _("The link is very long, which can hide where it really goes."));
  check_characters (verdict);

  /* "www.example.com" in a message means the web. */
  if (g_ascii_strncasecmp (link, "www.", 4) == 0)
    full = g_strconcat ("https://", link, NULL);
  else
    full = g_strdup (link);

  scheme_len = 0;
  if (g_ascii_isalpha (full[0]))
    {
      scheme_len = 1;
      /* strchr() finds the terminator too: the end is checked first. */
      while (full[scheme_len] != '\0' &&
             (g_ascii_isalnum (full[scheme_len]) || strchr ("+.-", full[scheme_len]) != NULL))
        scheme_len++;
    }
  if (scheme_len == 0 || full[scheme_len] != ':')
    {
      add_invalid (verdict);
      decide (verdict, policy, NULL);
      return g_steal_pointer (&verdict);
    }
  g_free (verdict->scheme);
  verdict->scheme = g_ascii_strdown (full, (gssize)scheme_len);

  if (g_str_equal (verdict->scheme, "sotto"))
    {
      add_finding (verdict, "invite", SOTTO_LINK_NOTE,
                   _("This is a Sotto invite: Sotto shows who it is from before anything "
                     "else happens."));
      uri = g_string_new (NULL);
      append_encoded (uri, full, strlen (full));
      decide (verdict, policy, uri);
      return g_steal_pointer (&verdict);
    }

  if (!scheme_allowed (verdict->scheme, policy))
    {
      g_autofree char *text = NULL;

      /* Translators: %s is a link's scheme, e.g. "file" or "javascript". */
      text = g_strdup_printf (_("Links of the kind “%s:” can open files or run programs on "
                                "your computer, or are not allowed here, so Sotto does not "
                                "open them."), verdict->scheme);
      add_finding (verdict, "scheme-blocked", SOTTO_LINK_FATAL, text);
      decide (verdict, policy, NULL);
      return g_steal_pointer (&verdict);
    }

  uri = g_string_new (verdict->scheme);
  g_string_append_c (uri, ':');

  if (g_str_equal (verdict->scheme, "mailto"))
    {
      const char *address = full + scheme_len + 1;
      gsize address_len = strcspn (address, "?");
      const char *at = NULL;

      for (const char *p = address; p < address + address_len; p++)
        if (*p == '@')
          at = p;
      if (at != NULL && !parse_host (verdict, at + 1, (gsize)(address + address_len - at - 1)))
        {
          add_invalid (verdict);
          decide (verdict, policy, NULL);
          return g_steal_pointer (&verdict);
        }
      append_encoded (uri, address, strlen (address));
    }
  else
    {
      const char *rest = full + scheme_len + 1;
      gsize skip = strspn (rest, "/\\");
      gssize end;

      if (skip == 0 && default_port (verdict->scheme) < 0)
        {
          /* An opaque link of an allowed scheme: nothing to parse. */
          append_encoded (uri, rest, strlen (rest));
        }
      else
        {
          end = parse_authority (verdict, rest, skip);
          if (end < 0)
            {
              add_invalid (verdict);
              decide (verdict, policy, NULL);
              return g_steal_pointer (&verdict);
            }
          g_string_append (uri, "//");
          if (strchr (verdict->host_ascii, ':') != NULL)
            g_string_append_printf (uri, "[%s]", verdict->host_ascii);
          else
            g_string_append (uri, verdict->host_ascii);
          if (verdict->port >= 0)
            g_string_append_printf (uri, ":%d", verdict->port);
          /* Browsers read "\" as "/" in web links. */
          for (const char *p = rest + end; *p != '\0'; p++)
            {
              if (*p == '\\')
                g_string_append_c (uri, '/');
              else
                append_encoded (uri, p, 1);
            }
          if (rest[end] == '\0')
            g_string_append_c (uri, '/');
        }

      if (g_str_equal (verdict->scheme, "http"))
        add_finding (verdict, "not-encrypted", SOTTO_LINK_NOTE,
                     _("The page is not encrypted: others on the network could read or change "
                       "it. Usual for company-internal pages."));
    }

  if (sender == SOTTO_LINK_SENDER_UNVERIFIED)
    add_finding (verdict, "sender-unverified", SOTTO_LINK_NOTE,
                 _("You have not verified the sender’s safety number yet."));
  else if (sender == SOTTO_LINK_SENDER_STRANGER)
    add_finding (verdict, "sender-stranger", SOTTO_LINK_SUSPECT,
                 _("The sender is not one of your contacts."));

  if (is_trusted (verdict, policy))
    add_finding (verdict, "trusted", SOTTO_LINK_NOTE,
                 _("Your administrator lists this site as trusted."));

  decide (verdict, policy, uri);
  return g_steal_pointer (&verdict);
}

/**
 * sotto_link_verdict_has_finding:
 * @id: a finding's id, e.g. "userinfo"
 *
 * Returns: whether @verdict has that finding
 */
gboolean
sotto_link_verdict_has_finding (const SottoLinkVerdict *verdict,
                                const char             *id)
{
  g_return_val_if_fail (verdict != NULL, FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoLinkFinding *finding = g_ptr_array_index (verdict->findings, i);

      if (g_str_equal (finding->id, id))
        return TRUE;
    }
  return FALSE;
}

/**
 * sotto_link_action_to_string:
 *
 * Returns: "open", "ask", "warn" or "block", for scripts
 */
const char *
sotto_link_action_to_string (SottoLinkAction action)
{
  switch (action)
    {
    case SOTTO_LINK_OPEN:
      return "open";
    case SOTTO_LINK_ASK:
      return "ask";
    case SOTTO_LINK_WARN:
      return "warn";
    case SOTTO_LINK_BLOCK:
    default:
      return "block";
    }
}

SottoLinkVerdict *
sotto_link_verdict_copy (const SottoLinkVerdict *verdict)
{
  SottoLinkVerdict *copy;

  g_return_val_if_fail (verdict != NULL, NULL);

  copy = verdict_new (verdict->link);
  copy->shown = g_strdup (verdict->shown);
  copy->uri = g_strdup (verdict->uri);
  g_free (copy->scheme);
  copy->scheme = g_strdup (verdict->scheme);
  copy->host = g_strdup (verdict->host);
  copy->host_ascii = g_strdup (verdict->host_ascii);
  copy->registrable_domain = g_strdup (verdict->registrable_domain);
  copy->port = verdict->port;
  copy->action = verdict->action;
  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoLinkFinding *finding = g_ptr_array_index (verdict->findings, i);

      add_finding (copy, finding->id, finding->severity, finding->text);
    }
  return copy;
}

void
sotto_link_verdict_free (SottoLinkVerdict *verdict)
{
  if (verdict == NULL)
    return;
  g_free (verdict->link);
  g_free (verdict->shown);
  g_free (verdict->uri);
  g_free (verdict->scheme);
  g_free (verdict->host);
  g_free (verdict->host_ascii);
  g_free (verdict->registrable_domain);
  g_ptr_array_unref (verdict->findings);
  g_free (verdict);
}

/* -------------------------------------------------------------------------
 * Finding links in text
 * ------------------------------------------------------------------------- */

/* Where a link can't go on: white space, controls, and what can't stand
 * in one even unencoded. Anything else — other alphabets, invisible and
 * bidirectional characters — is part of it, to be judged. */
static gboolean
ends_link (gunichar c)
{
  GUnicodeType type = g_unichar_type (c);

  return g_unichar_isspace (c) || type == G_UNICODE_SPACE_SEPARATOR ||
         type == G_UNICODE_LINE_SEPARATOR || type == G_UNICODE_PARAGRAPH_SEPARATOR ||
         type == G_UNICODE_CONTROL || c == '<' || c == '>' || c == '"' || c == '`' ||
         c == '{' || c == '}' || c == '|' || c == '^';
}

/* Sentence punctuation after a link is not part of it. */
static gboolean
is_trailing_punctuation (gunichar c)
{
  return (c != 0 && c < 0x80 && strchr (".,;:!?)]'", (int)c) != NULL) ||
         c == 0x00BB /* » */ || c == 0x201D /* ” */ || c == 0x2019 /* ’ */ ||
         c == 0x3002 /* 。 */ || c == 0xFF0C /* ， */ || c == 0x3001 /* 、 */ ||
         c == 0xFF09 /* ） */ || c == 0x2026 /* … */;
}

static guint
count_char (const char *text,
            gsize       len,
            char        c)
{
  guint n = 0;

  for (gsize i = 0; i < len; i++)
    n += text[i] == c;
  return n;
}

/* The length of a link's start at @text + @i: a known scheme, any
 * "scheme://", or "www."; 0 for none. */
static gsize
link_start_at (const char *text,
               gsize       i)
{
  static const char * const prefixes[] = {
    "https://", "http://", "www.", "mailto:", "sotto:",
    /* Found so that a click on them is refused, not ignored. */
    "javascript:", "vbscript:", "data:", "file:", NULL
  };
  gsize n;

  /* Only at the start of a word: "xhttp://" is not a link. */
  if (i > 0 && (g_ascii_isalnum (text[i - 1]) || strchr ("/+.-_@", text[i - 1]) != NULL))
    return 0;
  for (guint p = 0; prefixes[p] != NULL; p++)
    if (g_ascii_strncasecmp (text + i, prefixes[p], strlen (prefixes[p])) == 0)
      return strlen (prefixes[p]);

  /* Any other scheme with an authority: smb://, ftp://, … */
  if (!g_ascii_isalpha (text[i]))
    return 0;
  for (n = 1; n < 32; n++)
    {
      char c = text[i + n];

      if (!g_ascii_isalnum (c) && (c == '\0' || strchr ("+.-", c) == NULL))
        break;
    }
  if (n >= 2 && strncmp (text + i + n, "://", 3) == 0)
    return n + 3;
  return 0;
}

/**
 * sotto_link_find:
 * @text: a message (valid UTF-8)
 *
 * Where the links are: http(s)://…, www.…, mailto:…, sotto:…, and any
 * other "scheme://" or scheme that runs things (javascript:, data:,
 * file:), so that a click on them is refused rather than ignored. A link
 * goes on to the first white space, control character or character that
 * can't be in one (<, >, "), letters of every alphabet and invisible
 * characters included; sentence punctuation at its end is left out, and
 * a closing bracket only when the link opened none.
 *
 * Returns: (transfer full) (element-type SottoLinkSpan): the spans, in order
 */
GArray *
sotto_link_find (const char *text)
{
  GArray *spans = g_array_new (FALSE, FALSE, sizeof (SottoLinkSpan));
  gsize len;
  gsize i = 0;

  g_return_val_if_fail (text != NULL, spans);

  len = strlen (text);
  while (i < len)
    {
      gsize prefix = link_start_at (text, i);
      const char *end;
      SottoLinkSpan span;

      if (prefix == 0)
        {
          i = (gsize)(g_utf8_next_char (text + i) - text);
          continue;
        }

      end = text + i + prefix;
      while (end < text + len && !ends_link (g_utf8_get_char (end)))
        end = g_utf8_next_char (end);
      while (end > text + i + prefix)
        {
          const char *last = g_utf8_prev_char (end);
          gunichar c = g_utf8_get_char (last);

          if (!is_trailing_punctuation (c))
            break;
          /* A closing bracket that closes one in the link stays. */
          if (c == ')' && count_char (text + i, (gsize)(end - text - i), '(') >=
                          count_char (text + i, (gsize)(end - text - i), ')'))
            break;
          if (c == ']' && count_char (text + i, (gsize)(end - text - i), '[') >=
                          count_char (text + i, (gsize)(end - text - i), ']'))
            break;
          end = last;
        }
      if (end == text + i + prefix)
        {
          i += prefix;
          continue;
        }

      span.start = i;
      span.end = (gsize)(end - text);
      g_array_append_val (spans, span);
      i = span.end;
    }

  return spans;
}
