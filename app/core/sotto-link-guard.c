/* sotto-link-guard.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The one entry point every link click goes through (SottoLinkGuard in
 * DESIGN.md). It never opens anything: it says what the link is and what
 * is suspicious about it, and the front end shows that and asks. A link
 * whose scheme runs or reads local things (file:, javascript:, data:,
 * smb: …) is refused outright; http:, https:, mailto: and sotto: are
 * opened only after the user has seen the whole link and its host.
 */
#define G_LOG_DOMAIN "sotto-link-guard"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <gio/gio.h>

#include "sotto-link-guard.h"

G_DEFINE_BOXED_TYPE (SottoLinkVerdict, sotto_link_verdict,
                     sotto_link_verdict_copy, sotto_link_verdict_free)

/* Longer links are not links people read: they are refused as text. */
#define LINK_MAX_LEN 2048

static void
add_reason (SottoLinkVerdict *verdict,
            SottoLinkRisk     risk,
            const char       *reason)
{
  g_ptr_array_add (verdict->reasons, g_strdup (reason));
  if (risk > verdict->risk)
    verdict->risk = risk;
}

static gboolean
host_is_address (const char *host)
{
  g_autoptr (GInetAddress) address = NULL;
  g_autofree char *bare = NULL;

  if (host[0] == '[')
    bare = g_strndup (host + 1, strlen (host) - 2);
  else
    bare = g_strdup (host);
  address = g_inet_address_new_from_string (bare);
  return address != NULL;
}

/**
 * sotto_link_guard_check:
 * @uri: a link as it appears in a message
 *
 * Returns: (transfer full): the verdict; never %NULL
 */
SottoLinkVerdict *
sotto_link_guard_check (const char *uri)
{
  SottoLinkVerdict *verdict;
  g_autoptr (GUri) parsed = NULL;
  g_autoptr (GError) error = NULL;
  const char *host;

  g_return_val_if_fail (uri != NULL, NULL);

  verdict = g_new0 (SottoLinkVerdict, 1);
  verdict->reasons = g_ptr_array_new_with_free_func (g_free);
  /* "www.example.com" in a message means the web. */
  if (g_ascii_strncasecmp (uri, "www.", 4) == 0)
    verdict->uri = g_strconcat ("https://", uri, NULL);
  else
    verdict->uri = g_strdup (uri);

  if (strlen (verdict->uri) > LINK_MAX_LEN)
    {
      verdict->scheme = g_strdup ("");
      add_reason (verdict, SOTTO_LINK_REFUSE, _("The link is too long to be checked."));
      return verdict;
    }

  parsed = g_uri_parse (verdict->uri, G_URI_FLAGS_ENCODED | G_URI_FLAGS_SCHEME_NORMALIZE, &error);
  if (parsed == NULL)
    {
      verdict->scheme = g_strdup ("");
      add_reason (verdict, SOTTO_LINK_REFUSE, _("This is not a valid link."));
      return verdict;
    }

  verdict->scheme = g_ascii_strdown (g_uri_get_scheme (parsed), -1);
  host = g_uri_get_host (parsed);
  verdict->host = host != NULL && host[0] != '\0' ? g_strdup (host) : NULL;

  if (g_str_equal (verdict->scheme, "http") || g_str_equal (verdict->scheme, "https"))
    {
      if (verdict->host == NULL)
        {
          add_reason (verdict, SOTTO_LINK_REFUSE, _("The link names no web site."));
          return verdict;
        }
      if (g_str_equal (verdict->scheme, "http"))
        add_reason (verdict, SOTTO_LINK_WARN,
                    _("The page is not encrypted: others on the network can read and change it."));
      if (g_uri_get_userinfo (parsed) != NULL)
        add_reason (verdict, SOTTO_LINK_WARN,
                    _("The link has a name before “@”: the real site is what comes after it."));
      if (host_is_address (verdict->host))
        add_reason (verdict, SOTTO_LINK_WARN,
                    _("The link goes to a numeric address instead of a named site."));
      if (g_str_has_prefix (verdict->host, "xn--") || strstr (verdict->host, ".xn--") != NULL)
        add_reason (verdict, SOTTO_LINK_WARN,
                    _("The site name uses international letters that can imitate another "
                      "site’s name."));
      /* Scheme normalisation fills in the default port. */
      if (g_uri_get_port (parsed) != -1 &&
          g_uri_get_port (parsed) != (g_str_equal (verdict->scheme, "https") ? 443 : 80))
        add_reason (verdict, SOTTO_LINK_WARN, _("The link uses an unusual port."));
    }
  else if (g_str_equal (verdict->scheme, "mailto") || g_str_equal (verdict->scheme, "sotto"))
    ;
  else
    add_reason (verdict, SOTTO_LINK_REFUSE,
                _("Links of this kind can open files or run programs on your computer, so "
                  "Sotto does not open them."));

  return verdict;
}

SottoLinkVerdict *
sotto_link_verdict_copy (const SottoLinkVerdict *verdict)
{
  SottoLinkVerdict *copy = g_new0 (SottoLinkVerdict, 1);

  copy->uri = g_strdup (verdict->uri);
  copy->scheme = g_strdup (verdict->scheme);
  copy->host = g_strdup (verdict->host);
  copy->risk = verdict->risk;
  copy->reasons = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < verdict->reasons->len; i++)
    g_ptr_array_add (copy->reasons, g_strdup (g_ptr_array_index (verdict->reasons, i)));
  return copy;
}

void
sotto_link_verdict_free (SottoLinkVerdict *verdict)
{
  if (verdict == NULL)
    return;
  g_free (verdict->uri);
  g_free (verdict->scheme);
  g_free (verdict->host);
  g_ptr_array_unref (verdict->reasons);
  g_free (verdict);
}

static gboolean
is_link_char (char c)
{
  return g_ascii_isalnum (c) || strchr ("-._~:/?#[]@!$&'()*+,;=%", c) != NULL;
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

static gsize
link_start_at (const char *text,
               gsize       i)
{
  static const char *prefixes[] = { "https://", "http://", "www.", "mailto:", "sotto:", NULL };

  /* Only at the start of a word: "xhttp://" is not a link. */
  if (i > 0 && (g_ascii_isalnum (text[i - 1]) || text[i - 1] == '/'))
    return 0;
  for (guint p = 0; prefixes[p] != NULL; p++)
    if (g_ascii_strncasecmp (text + i, prefixes[p], strlen (prefixes[p])) == 0)
      return strlen (prefixes[p]);
  return 0;
}

/**
 * sotto_link_find:
 * @text: a message
 *
 * Where the links are: http(s)://…, www.…, mailto:… and sotto:…, up to
 * the first space or character that can't be in a link, without a
 * trailing full stop, comma, closing bracket or quote that ends a
 * sentence.
 *
 * Returns: (transfer full) (element-type SottoLinkSpan): the spans, in order
 */
GArray *
sotto_link_find (const char *text)
{
  GArray *spans = g_array_new (FALSE, FALSE, sizeof (SottoLinkSpan));
  gsize len;

  g_return_val_if_fail (text != NULL, spans);

  len = strlen (text);
  for (gsize i = 0; i < len; i++)
    {
      gsize prefix = link_start_at (text, i);
      gsize end;
      SottoLinkSpan span;

      if (prefix == 0)
        continue;

      end = i + prefix;
      while (end < len && is_link_char (text[end]))
        end++;
      while (end > i + prefix && strchr (".,;:!?)]'\"", text[end - 1]) != NULL)
        {
          /* A closing bracket that closes one in the link stays. */
          if (text[end - 1] == ')' && count_char (text + i, end - i, '(') >=
                                      count_char (text + i, end - i, ')'))
            break;
          end--;
        }
      if (end == i + prefix)
        continue;

      span.start = i;
      span.end = end;
      g_array_append_val (spans, span);
      i = end;
    }

  return spans;
}
