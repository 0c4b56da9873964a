/* test-link-guard.c — what a link in a message would do: the finder and
 * the guard's verdicts, tricky and benign
 *
 * Look-alike letters, invisible and bidirectional characters are written
 * as escapes, so that this file shows what is in it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "sotto-link-guard.h"

#define VERIFIED   SOTTO_LINK_SENDER_VERIFIED
#define UNVERIFIED SOTTO_LINK_SENDER_UNVERIFIED
#define STRANGER   SOTTO_LINK_SENDER_STRANGER

#define OPEN  SOTTO_LINK_OPEN
#define ASK   SOTTO_LINK_ASK
#define WARN  SOTTO_LINK_WARN
#define BLOCK SOTTO_LINK_BLOCK

/* An expected host, ASCII host or registrable domain that must be NULL
 * (a NULL expectation means "not checked"). */
#define NONE "(none)"

static const char * const https_only[] = { "https", NULL };
static const char * const with_ftp[] = { "http", "https", "mailto", "ftp", NULL };
static const char * const intranet[] = { "intranet.example", NULL };

static const SottoLinkPolicy policy_https_only = { https_only, NULL, FALSE };
static const SottoLinkPolicy policy_ftp = { with_ftp, NULL, FALSE };
static const SottoLinkPolicy policy_off = { NULL, NULL, TRUE };
static const SottoLinkPolicy policy_trusted = { NULL, intranet, FALSE };
static const SottoLinkPolicy policy_trusted_off = { NULL, intranet, TRUE };

typedef struct
{
  const char            *link;
  SottoLinkSender        sender;
  const SottoLinkPolicy *policy;      /* NULL: the defaults */
  SottoLinkAction        action;
  const char            *present[6];  /* findings that must be there */
  const char            *absent[8];   /* findings that must not */
  gboolean               complete;    /* present is every finding */
  const char            *scheme;      /* these: NULL not checked, NONE must be NULL */
  const char            *host;
  const char            *ascii;
  const char            *domain;
  int                    port;        /* 0: not checked */
  const char            *shown;       /* NULL: not checked (beyond the general rule) */
  gsize                  pad_to;      /* > 0: the link, padded with "a" to this many bytes */
} LinkCase;

static const LinkCase check_cases[] = {
  /* Plain web links, by sender. */
  { "https://example.com/", VERIFIED, NULL, ASK, .complete = TRUE,
    .scheme = "https", .host = "example.com", .ascii = "example.com",
    .domain = "example.com", .port = -1, .shown = "https://example.com/" },
  { "http://example.com/", VERIFIED, NULL, ASK, { "not-encrypted" }, .complete = TRUE,
    .scheme = "http", .host = "example.com", .port = -1 },
  { "https://example.com/path?q=1#frag", UNVERIFIED, NULL, ASK, { "sender-unverified" },
    .complete = TRUE, .host = "example.com" },
  { "http://example.com/", UNVERIFIED, NULL, ASK, { "not-encrypted", "sender-unverified" },
    .complete = TRUE },
  { "https://example.com/", STRANGER, NULL, WARN, { "sender-stranger" }, .complete = TRUE },
  { "http://example.com/", STRANGER, NULL, WARN, { "not-encrypted", "sender-stranger" },
    .complete = TRUE },
  { "HTTPS://EXAMPLE.COM/Path", VERIFIED, NULL, ASK, .complete = TRUE,
    .scheme = "https", .host = "example.com", .ascii = "example.com" },
  { "https://a.b.example.com/x", VERIFIED, NULL, ASK, .complete = TRUE,
    .host = "a.b.example.com", .domain = "example.com" },
  { "https://www.example.co.uk/", VERIFIED, NULL, ASK, .complete = TRUE,
    .host = "www.example.co.uk", .domain = "example.co.uk" },
  { "https://co.uk/", VERIFIED, NULL, ASK, .host = "co.uk", .domain = NONE },
  { "http://localhost/", VERIFIED, NULL, ASK, { "not-encrypted" },
    { "ip-loopback", "ip-address" }, .host = "localhost", .domain = NONE },
  /* A trailing dot names the same host: nothing odd about it. */
  { "https://example.com./", VERIFIED, NULL, ASK, { NULL }, { "invalid" } },
  /* Fullwidth letters are mapped by IDNA to the plain name they show. */
  { "https://\uFF25\uFF38\uFF21\uFF2D\uFF30\uFF2C\uFF25.com/", VERIFIED, NULL, ASK,
    { NULL }, { "idn", "confusable", "invalid" },
    .host = "example.com", .ascii = "example.com" },

  /* Ports: the default, written or not, is no port. */
  { "https://example.com:443/", VERIFIED, NULL, ASK, .complete = TRUE, .port = -1 },
  { "http://example.com:80/", VERIFIED, NULL, ASK, { "not-encrypted" }, .complete = TRUE,
    .port = -1 },
  { "https://example.com:/", VERIFIED, NULL, ASK, .complete = TRUE, .port = -1 },
  { "https://example.com:00443/", VERIFIED, NULL, ASK, { NULL }, { "port", "invalid" },
    .port = -1 },
  { "https://example.com:8443/", VERIFIED, NULL, ASK, { "port" }, .complete = TRUE,
    .port = 8443 },
  { "https://example.com:80/", VERIFIED, NULL, ASK, { "port" }, .port = 80 },
  { "http://example.com:443/", VERIFIED, NULL, ASK, { "port", "not-encrypted" }, .port = 443 },
  { "https://example.com:65535/", VERIFIED, NULL, ASK, { "port" }, .port = 65535 },
  { "https://example.com:65536/", VERIFIED, NULL, BLOCK, { "invalid" } },
  { "https://example.com:8a/", VERIFIED, NULL, BLOCK, { "invalid" } },
  { "https://example.com:-1/", VERIFIED, NULL, BLOCK, { "invalid" } },
  { "http://intranet:8080/", VERIFIED, NULL, ASK, { "not-encrypted", "port" },
    .complete = TRUE, .scheme = "http", .host = "intranet", .ascii = "intranet",
    .domain = NONE, .port = 8080 },
  { "http://intranet:8080/", STRANGER, NULL, WARN,
    { "not-encrypted", "port", "sender-stranger" }, .complete = TRUE },

  /* "www." means the web, encrypted. */
  { "www.example.com", VERIFIED, NULL, ASK, { NULL }, { "not-encrypted", "invalid" },
    .complete = TRUE, .scheme = "https", .host = "www.example.com", .domain = "example.com" },
  { "www.example.org/page?x=1", UNVERIFIED, NULL, ASK, { "sender-unverified" },
    .complete = TRUE, .scheme = "https", .host = "www.example.org" },
  { "www.example.com", STRANGER, NULL, WARN, { "sender-stranger" }, .complete = TRUE },

  /* International names: a note, unless they imitate a Latin one. */
  { "https://münchen.de/", VERIFIED, NULL, ASK, { "idn" }, { "confusable", "mixed-script" },
    .complete = TRUE, .host = "münchen.de", .ascii = "xn--mnchen-3ya.de",
    .domain = "münchen.de", .shown = "https://münchen.de/" },
  { "https://MÜNCHEN.DE/", VERIFIED, NULL, ASK, { "idn" }, { "confusable", "mixed-script" },
    .host = "münchen.de", .ascii = "xn--mnchen-3ya.de" },
  { "https://www.bücher.de/", UNVERIFIED, NULL, ASK, { "idn", "sender-unverified" },
    { "confusable", "mixed-script" }, .complete = TRUE,
    .ascii = "www.xn--bcher-kva.de", .domain = "bücher.de" },
  { "https://пример.рф/", VERIFIED, NULL, ASK, { "idn" }, { "confusable", "mixed-script" },
    .complete = TRUE, .host = "пример.рф", .ascii = "xn--e1afmkfd.xn--p1ai",
    .domain = "пример.рф" },
  { "https://日本語.jp/", VERIFIED, NULL, ASK, { "idn" }, { "confusable", "mixed-script" },
    .complete = TRUE, .host = "日本語.jp", .ascii = "xn--wgv71a119e.jp", .domain = "日本語.jp" },
  /* Cyrillic р а у р а with a Latin l: "paypal". */
  { "https://www.\u0440\u0430\u0443\u0440\u0430l.com/", VERIFIED, NULL, WARN,
    { "idn", "mixed-script", "confusable" },
    .host = "www.\u0440\u0430\u0443\u0440\u0430l.com", .ascii = "www.xn--l-7sba6dbr.com",
    .domain = "\u0440\u0430\u0443\u0440\u0430l.com" },
  /* Cyrillic а, then Latin "pple". */
  { "https://\u0430pple.com/", VERIFIED, NULL, WARN, { "idn", "mixed-script", "confusable" },
    .host = "\u0430pple.com", .ascii = "xn--pple-43d.com", .domain = "\u0430pple.com" },
  /* The same, as its xn-- form: what is checked is the name it stands for. */
  { "https://xn--pple-43d.com/", VERIFIED, NULL, WARN, { "idn", "mixed-script", "confusable" },
    .host = "\u0430pple.com", .ascii = "xn--pple-43d.com" },
  /* Whole-script look-alikes: one script, so not mixed, still confusable. */
  { "https://\u0430\u0440\u0440\u04cf\u0435.com/", VERIFIED, NULL, WARN,   /* Cyrillic "apple" */
    { "idn", "confusable" }, { "mixed-script" }, .ascii = "xn--80ak6aa92e.com" },
  { "https://\u0455\u0441\u043e\u0440\u0435.com/", VERIFIED, NULL, WARN,   /* Cyrillic "scope" */
    { "idn", "confusable" }, { "mixed-script" }, .ascii = "xn--e1argc3h.com" },
  { "https://\u03b1\u03c1\u03c1.com/", VERIFIED, NULL, WARN,               /* Greek "app" */
    { "idn", "confusable" }, { "mixed-script" }, .ascii = "xn--mxa6aa.com" },
  /* Greek ο in "google"; Cyrillic е х а in "example". */
  { "https://g\u03bfogle.com/", VERIFIED, NULL, WARN, { "idn", "mixed-script", "confusable" },
    .ascii = "xn--gogle-rce.com" },
  { "https://\u0435\u0445\u0430mple.com/", STRANGER, NULL, WARN,
    { "idn", "mixed-script", "confusable", "sender-stranger" },
    .ascii = "xn--mple-43d3a6i.com" },

  /* Invisible and bidirectional characters, wherever they are. */
  { "https://exa\u200Bmple.com/", VERIFIED, NULL, WARN, { "invisible" }, { "bidi" },
    .complete = TRUE, .host = "example.com", .ascii = "example.com",
    .shown = "https://exa⟦U+200B⟧mple.com/" },
  { "https://exa\u00ADmple.com/", VERIFIED, NULL, WARN, { "invisible" }, { "bidi" },
    .host = "example.com", .shown = "https://exa⟦U+00AD⟧mple.com/" },
  { "https://example.com/\u202Etxt.exe", VERIFIED, NULL, WARN, { "bidi" }, { "invisible" },
    .complete = TRUE, .host = "example.com", .shown = "https://example.com/⟦U+202E⟧txt.exe" },
  { "https://exa\u202Emple.com/", VERIFIED, NULL, BLOCK, { "bidi", "invalid" },
    .shown = "https://exa⟦U+202E⟧mple.com/" },
  { "https://example.com/\u2066abc\u2069", VERIFIED, NULL, WARN, { "bidi" },
    .shown = "https://example.com/⟦U+2066⟧abc⟦U+2069⟧" },
  { "https://\u2066example.com\u2069/", VERIFIED, NULL, BLOCK, { "bidi", "invalid" },
    .shown = "https://⟦U+2066⟧example.com⟦U+2069⟧/" },
  { "https://example.com/\u200Eabc", VERIFIED, NULL, WARN, { "bidi" },
    .shown = "https://example.com/⟦U+200E⟧abc" },
  { "https://example.com/\u200Fabc", VERIFIED, NULL, WARN, { "bidi" },
    .shown = "https://example.com/⟦U+200F⟧abc" },
  { "https://example.com/a\u061Cb", VERIFIED, NULL, WARN, { "bidi" },
    .shown = "https://example.com/a⟦U+061C⟧b" },
  { "https://example.com/\uFEFF", VERIFIED, NULL, WARN, { "invisible" },
    .shown = "https://example.com/⟦U+FEFF⟧" },
  { "https://example.com/a\u200Db", VERIFIED, NULL, WARN, { "invisible" },
    .shown = "https://example.com/a⟦U+200D⟧b" },
  { "https://example.com/a\u2064b", VERIFIED, NULL, WARN, { "invisible" },
    .shown = "https://example.com/a⟦U+2064⟧b" },
  { "https://example.com/a\u180Eb", VERIFIED, NULL, WARN, { "invisible" },
    .shown = "https://example.com/a⟦U+180E⟧b" },
  { "https://example.com/a\uFE0F", VERIFIED, NULL, WARN, { "invisible" },
    .shown = "https://example.com/a⟦U+FE0F⟧" },
  { "https://example.com/a\U000E0041", VERIFIED, NULL, WARN, { "invisible" },
    .shown = "https://example.com/a⟦U+E0041⟧" },

  /* Userinfo: the site is what comes after the last "@". */
  { "https://bank.example@evil.example/", VERIFIED, NULL, WARN, { "userinfo" },
    .complete = TRUE, .host = "evil.example", .domain = "evil.example" },
  { "https://user:pass@example.com/", VERIFIED, NULL, WARN, { "userinfo" },
    { "port", "invalid" }, .host = "example.com", .port = -1 },
  { "https://a@b@example.com/", VERIFIED, NULL, WARN, { "userinfo" }, .host = "example.com" },
  { "https://example.com%2F@evil.example/", VERIFIED, NULL, WARN, { "userinfo" },
    { "encoded-host" }, .host = "evil.example" },
  { "https://example.com@192.168.1.1/", VERIFIED, NULL, WARN, { "userinfo", "ip-private" },
    .host = "192.168.1.1", .domain = NONE },
  { "https://user@example.com:8443/", UNVERIFIED, NULL, WARN,
    { "userinfo", "port", "sender-unverified" }, .complete = TRUE, .port = 8443 },
  /* An "@" after the authority is no userinfo. */
  { "https://example.com/@evil.example", VERIFIED, NULL, ASK, { NULL }, { "userinfo" },
    .complete = TRUE, .host = "example.com" },
  { "https://example.com\\@evil.example/", VERIFIED, NULL, ASK, { NULL }, { "userinfo" },
    .host = "example.com" },
  { "https://example.com?@evil.example/", VERIFIED, NULL, ASK, { NULL }, { "userinfo" },
    .host = "example.com" },
  { "https://example.com#@evil.example", VERIFIED, NULL, ASK, { NULL }, { "userinfo" },
    .host = "example.com" },
  /* Browsers skip any run of slashes and backslashes after "https:". */
  { "https:\\\\example.com\\", VERIFIED, NULL, ASK, { NULL }, { "invalid" },
    .host = "example.com" },
  { "https:///example.com/", VERIFIED, NULL, ASK, { NULL }, { "invalid" },
    .host = "example.com" },

  /* IPv4 in every form a browser accepts. */
  { "http://2130706433/", VERIFIED, NULL, WARN,
    { "ip-obfuscated", "ip-loopback", "not-encrypted" }, { "ip-address", "ip-private" },
    .complete = TRUE, .host = "127.0.0.1", .ascii = "127.0.0.1", .domain = NONE },
  { "http://0x7f000001/", VERIFIED, NULL, WARN,
    { "ip-obfuscated", "ip-loopback", "not-encrypted" }, { "ip-address" },
    .host = "127.0.0.1", .ascii = "127.0.0.1" },
  { "http://0177.0.0.1/", VERIFIED, NULL, WARN,
    { "ip-obfuscated", "ip-loopback", "not-encrypted" }, { "ip-address" },
    .host = "127.0.0.1", .ascii = "127.0.0.1" },
  { "http://127.1/", VERIFIED, NULL, WARN,
    { "ip-obfuscated", "ip-loopback", "not-encrypted" }, { "ip-address" },
    .host = "127.0.0.1", .ascii = "127.0.0.1" },
  { "http://127.000.000.001/", VERIFIED, NULL, WARN,
    { "ip-obfuscated", "ip-loopback", "not-encrypted" }, .host = "127.0.0.1" },
  { "https://0X7F.1/", VERIFIED, NULL, WARN, { "ip-obfuscated", "ip-loopback" },
    .host = "127.0.0.1" },
  { "http://127.0.0.1/", VERIFIED, NULL, WARN, { "ip-loopback", "not-encrypted" },
    { "ip-obfuscated", "ip-address" }, .complete = TRUE,
    .host = "127.0.0.1", .ascii = "127.0.0.1", .domain = NONE },
  { "https://127.0.0.1./", VERIFIED, NULL, WARN, { "ip-loopback" }, { "ip-obfuscated" },
    .complete = TRUE, .host = "127.0.0.1" },
  { "https://127.0.0.1:8080/", VERIFIED, NULL, WARN, { "ip-loopback", "port" },
    .complete = TRUE, .port = 8080 },
  { "https://10.1.2.3/", VERIFIED, NULL, ASK, { "ip-private" },
    { "ip-address", "ip-obfuscated" }, .complete = TRUE,
    .host = "10.1.2.3", .ascii = "10.1.2.3", .domain = NONE },
  { "http://192.168.1.1/", VERIFIED, NULL, ASK, { "ip-private", "not-encrypted" },
    .complete = TRUE, .host = "192.168.1.1", .domain = NONE },
  { "https://192.168.1.1/", STRANGER, NULL, WARN, { "ip-private", "sender-stranger" },
    .complete = TRUE },
  { "https://172.16.0.1/", VERIFIED, NULL, ASK, { "ip-private" }, { "ip-address" },
    .host = "172.16.0.1" },
  { "https://172.31.255.255/", VERIFIED, NULL, ASK, { "ip-private" }, { "ip-address" } },
  { "https://172.32.0.1/", VERIFIED, NULL, WARN, { "ip-address" }, { "ip-private" } },
  { "http://169.254.1.1/", VERIFIED, NULL, WARN, { "ip-link-local", "not-encrypted" },
    { "ip-address", "ip-private" }, .complete = TRUE, .host = "169.254.1.1" },
  { "https://8.8.8.8/", VERIFIED, NULL, WARN, { "ip-address" },
    { "ip-obfuscated", "ip-private", "ip-loopback" }, .complete = TRUE,
    .host = "8.8.8.8", .ascii = "8.8.8.8", .domain = NONE },
  { "https://0x08.0x08.0x08.0x08/", VERIFIED, NULL, WARN, { "ip-address", "ip-obfuscated" },
    .complete = TRUE, .host = "8.8.8.8", .ascii = "8.8.8.8" },
  { "https://1.65536/", VERIFIED, NULL, WARN, { "ip-address", "ip-obfuscated" },
    .host = "1.1.0.0" },
  { "https://4294967295/", VERIFIED, NULL, WARN, { "ip-address", "ip-obfuscated" },
    .host = "255.255.255.255" },
  { "https://4294967296/", VERIFIED, NULL, BLOCK, { "invalid" } },
  { "https://256.1.1.1/", VERIFIED, NULL, BLOCK, { "invalid" } },
  { "https://1.2.3.256/", VERIFIED, NULL, BLOCK, { "invalid" } },
  { "https://1.2.3.4.5/", VERIFIED, NULL, BLOCK, { "invalid" } },
  { "https://09.1.1.1/", VERIFIED, NULL, BLOCK, { "invalid" } },       /* 9 is no octal digit */
  { "https://example.123/", VERIFIED, NULL, BLOCK, { "invalid" } },    /* ends in a number */

  /* IPv6. */
  { "https://[::1]/", VERIFIED, NULL, WARN, { "ip-loopback" }, { "ip-address" },
    .complete = TRUE, .domain = NONE },
  { "https://[fe80::1]/", VERIFIED, NULL, WARN, { "ip-link-local" }, { "ip-address" },
    .complete = TRUE },
  { "https://[fc00::1]/", VERIFIED, NULL, ASK, { "ip-private" }, { "ip-address" },
    .complete = TRUE, .domain = NONE },
  { "https://[fd12:3456::1]/", VERIFIED, NULL, ASK, { "ip-private" }, { "ip-address" } },
  { "https://[2001:db8::1]/", VERIFIED, NULL, WARN, { "ip-address" }, { "ip-private" },
    .complete = TRUE },
  { "https://[::1]:8443/", VERIFIED, NULL, WARN, { "ip-loopback", "port" }, .port = 8443 },
  { "https://[not-an-address]/", VERIFIED, NULL, BLOCK, { "invalid" } },

  /* Percent-encoded hosts. */
  { "https://%65xample.com/", VERIFIED, NULL, WARN, { "encoded-host" }, .complete = TRUE,
    .host = "example.com", .ascii = "example.com" },
  { "https://m%C3%BCnchen.de/", VERIFIED, NULL, WARN, { "encoded-host", "idn" },
    .host = "münchen.de", .ascii = "xn--mnchen-3ya.de" },
  { "https://%31%32%37.0.0.1/", VERIFIED, NULL, WARN, { "encoded-host", "ip-loopback" },
    .host = "127.0.0.1" },
  { "https://example.com/%65", VERIFIED, NULL, ASK, { NULL }, { "encoded-host" },
    .complete = TRUE },
  { "https://%ff.example/", VERIFIED, NULL, BLOCK, { "invalid" } },       /* not UTF-8 */
  { "https://exa%20mple.com/", VERIFIED, NULL, BLOCK, { "invalid" } },

  /* Schemes that run or read local things. */
  { "file:///etc/passwd", VERIFIED, NULL, BLOCK, { "scheme-blocked" }, .scheme = "file" },
  { "javascript:alert(1)", VERIFIED, NULL, BLOCK, { "scheme-blocked" },
    .scheme = "javascript" },
  { "JavaScript:alert(document.cookie)", VERIFIED, NULL, BLOCK, { "scheme-blocked" },
    .scheme = "javascript" },
  { "java\tscript:alert(1)", VERIFIED, NULL, BLOCK, { "invalid" } },
  { "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", VERIFIED, NULL, BLOCK,
    { "scheme-blocked" }, .scheme = "data" },
  { "smb://server/share/run.exe", VERIFIED, NULL, BLOCK, { "scheme-blocked" },
    .scheme = "smb" },
  { "vbscript:msgbox(1)", VERIFIED, NULL, BLOCK, { "scheme-blocked" },
    .scheme = "vbscript" },
  { "ftp://ftp.example.com/pub/", VERIFIED, NULL, BLOCK, { "scheme-blocked" },
    .scheme = "ftp" },

  /* mailto: only the domain is checked. */
  { "mailto:someone@example.com", VERIFIED, NULL, ASK, { NULL },
    { "not-encrypted", "userinfo", "idn" }, .complete = TRUE, .scheme = "mailto" },
  { "mailto:someone@\u0430pple.com", VERIFIED, NULL, WARN, { "idn", "confusable" },
    { "userinfo" }, .scheme = "mailto" },
  { "mailto:root@127.0.0.1", VERIFIED, NULL, WARN, { "ip-loopback" }, { "userinfo" } },
  { "mailto:a@b@example.com", VERIFIED, NULL, ASK, { NULL }, { "userinfo" } },

  /* Invites are Sotto's own. */
  { "sotto:1AbC", VERIFIED, NULL, ASK, { "invite" }, .complete = TRUE, .scheme = "sotto" },
  { "SOTTO:1AbC", VERIFIED, NULL, ASK, { "invite" }, { "scheme-blocked" }, .scheme = "sotto" },
  { "sotto:1AbC", VERIFIED, &policy_https_only, ASK, { "invite" }, { "scheme-blocked" } },

  /* Not links a browser would open. */
  { "not a link", VERIFIED, NULL, BLOCK, { "invalid" }, .scheme = "" },
  { "", VERIFIED, NULL, BLOCK, { "invalid" }, .scheme = "" },
  { "://example.com", VERIFIED, NULL, BLOCK, { "invalid" } },
  { "1http://example.com/", VERIFIED, NULL, BLOCK, { "invalid" } },
  { "https://", VERIFIED, NULL, BLOCK, { "invalid" }, .scheme = "https" },
  { "https:///", VERIFIED, NULL, BLOCK, { "invalid" } },
  { "https://:443/", VERIFIED, NULL, BLOCK, { "invalid" } },
  { "https://user@/", VERIFIED, NULL, BLOCK, { "invalid" } },
  /* What the finder cuts at the space, given whole. */
  { "http://exa mple.com", VERIFIED, NULL, BLOCK, { "invalid" } },

  /* Policies: the schemes allowed, links turned off. */
  { "http://example.com/", VERIFIED, &policy_https_only, BLOCK, { "scheme-blocked" },
    .scheme = "http" },
  { "https://example.com/", VERIFIED, &policy_https_only, ASK, { NULL }, { "scheme-blocked" },
    .complete = TRUE },
  { "www.example.com", VERIFIED, &policy_https_only, ASK, { NULL }, { "scheme-blocked" } },
  { "mailto:someone@example.com", VERIFIED, &policy_https_only, BLOCK, { "scheme-blocked" } },
  { "ftp://ftp.example.com/pub/", VERIFIED, &policy_ftp, ASK, { NULL },
    { "scheme-blocked", "not-encrypted" }, .scheme = "ftp",
    .host = "ftp.example.com", .domain = "example.com" },
  { "file:///etc/passwd", VERIFIED, &policy_ftp, BLOCK, { "scheme-blocked" } },
  { "https://example.com/", VERIFIED, &policy_off, BLOCK, { "links-off" } },
  { "mailto:someone@example.com", VERIFIED, &policy_off, BLOCK, { "links-off" } },
  { "https://wiki.intranet.example/", VERIFIED, &policy_trusted_off, BLOCK, { "links-off" } },

  /* Trusted domains: opened without asking, unless something is odd. */
  { "https://wiki.intranet.example/", VERIFIED, &policy_trusted, OPEN, { "trusted" },
    .complete = TRUE, .host = "wiki.intranet.example", .domain = "intranet.example" },
  { "https://intranet.example/", VERIFIED, &policy_trusted, OPEN, { "trusted" },
    .complete = TRUE },
  { "https://WIKI.INTRANET.EXAMPLE/", VERIFIED, &policy_trusted, OPEN, { "trusted" },
    .host = "wiki.intranet.example" },
  { "www.intranet.example", VERIFIED, &policy_trusted, OPEN, { "trusted" } },
  { "https://wiki.intranet.example/", UNVERIFIED, &policy_trusted, OPEN,
    { "trusted", "sender-unverified" }, .complete = TRUE },
  { "http://wiki.intranet.example/", VERIFIED, &policy_trusted, OPEN,
    { "trusted", "not-encrypted" }, .complete = TRUE },
  { "https://wiki.intranet.example:8443/", VERIFIED, &policy_trusted, OPEN,
    { "trusted", "port" }, .complete = TRUE },
  { "https://wiki.intranet.example/", STRANGER, &policy_trusted, WARN,
    { "trusted", "sender-stranger" }, .complete = TRUE },
  { "https://evil.example@wiki.intranet.example/", VERIFIED, &policy_trusted, WARN,
    { "trusted", "userinfo" } },
  { "https://wiki.intranet.example@evil.example/", VERIFIED, &policy_trusted, WARN,
    { "userinfo" }, { "trusted" }, .host = "evil.example" },
  { "https://intranet.example/\u202E", VERIFIED, &policy_trusted, WARN,
    { "trusted", "bidi" } },
  { "https://wiki.%69ntranet.example/", VERIFIED, &policy_trusted, WARN,
    { "trusted", "encoded-host" } },
  { "https://evilintranet.example/", VERIFIED, &policy_trusted, ASK, { NULL }, { "trusted" },
    .complete = TRUE },
  { "https://intranet.example.evil.example/", VERIFIED, &policy_trusted, ASK, { NULL },
    { "trusted" }, .complete = TRUE },
  /* Cyrillic і in "intranet": another domain. */
  { "https://wiki.\u0456ntranet.example/", VERIFIED, &policy_trusted, WARN,
    { "idn", "mixed-script", "confusable" }, { "trusted" },
    .ascii = "wiki.xn--ntranet-qog.example" },
  { "https://10.0.0.5/", VERIFIED, &policy_trusted, ASK, { "ip-private" }, { "trusted" } },
  { "https://wiki.intranet.example/", VERIFIED, NULL, ASK, { NULL }, { "trusted" },
    .complete = TRUE },

  /* The two lengths, at the limit and one past it. */
  { "https://example.com/", VERIFIED, NULL, ASK, { NULL }, { "long" }, .complete = TRUE,
    .host = "example.com", .pad_to = SOTTO_LINK_LONG_LEN },
  { "https://example.com/", VERIFIED, NULL, WARN, { "long" }, .complete = TRUE,
    .host = "example.com", .pad_to = SOTTO_LINK_LONG_LEN + 1 },
  { "https://example.com/", VERIFIED, NULL, WARN, { "long" }, { "too-long" },
    .complete = TRUE, .host = "example.com", .pad_to = SOTTO_LINK_MAX_LEN },
  { "javascript:", VERIFIED, NULL, BLOCK, { "scheme-blocked", "long" }, { "too-long" },
    .scheme = "javascript", .pad_to = SOTTO_LINK_MAX_LEN },
  { "https://example.com/", VERIFIED, NULL, BLOCK, { "too-long" }, .complete = TRUE,
    .scheme = "", .host = NONE, .ascii = NONE, .domain = NONE,
    .pad_to = SOTTO_LINK_MAX_LEN + 1 },
  /* Past the limit nothing else is looked at, not even who sent it. */
  { "https://example.com/\u202E", STRANGER, NULL, BLOCK, { "too-long" }, .complete = TRUE,
    .scheme = "", .host = NONE, .pad_to = SOTTO_LINK_MAX_LEN + 1 },
};

typedef struct
{
  const char *text;
  const char *links[4];
} FindCase;

static const FindCase find_cases[] = {
  { "see https://example.com/a?b=c#d now", { "https://example.com/a?b=c#d" } },
  { "HTTPS://EXAMPLE.COM/", { "HTTPS://EXAMPLE.COM/" } },
  /* Non-Latin hosts, found whole. */
  { "смотри https://пример.рф/путь тут", { "https://пример.рф/путь" } },
  { "log in at https://\u0430pple.com/login today", { "https://\u0430pple.com/login" } },
  { "https://www.\u0440\u0430\u0443\u0440\u0430l.com/",
    { "https://www.\u0440\u0430\u0443\u0440\u0430l.com/" } },
  /* Invisible and bidi characters stay inside, for the guard to see. */
  { "x https://exa\u200Bmple.com/ y", { "https://exa\u200Bmple.com/" } },
  { "get https://example.com/\u202Etxt.exe now", { "https://example.com/\u202Etxt.exe" } },
  { "https://exa\u202Emple.com/x", { "https://exa\u202Emple.com/x" } },
  { "https://example.com/\u2066a\u2069 b", { "https://example.com/\u2066a\u2069" } },
  /* Punctuation that ends a sentence is not part of the link. */
  { "Read https://example.com/a.", { "https://example.com/a" } },
  { "https://example.com/a, then", { "https://example.com/a" } },
  { "(see https://example.com/a)", { "https://example.com/a" } },
  { "https://example.com/a) no opening one", { "https://example.com/a" } },
  { "«https://example.com/a»", { "https://example.com/a" } },
  { "“https://quoted.example/”", { "https://quoted.example/" } },
  { "詳細は https://example.jp/a。", { "https://example.jp/a" } },
  /* Brackets that belong to the link stay. */
  { "(https://en.wikipedia.org/wiki/Mercury_(planet))",
    { "https://en.wikipedia.org/wiki/Mercury_(planet)" } },
  { "https://en.wikipedia.org/wiki/Java_(disambiguation)",
    { "https://en.wikipedia.org/wiki/Java_(disambiguation)" } },
  { "Java: https://en.wikipedia.org/wiki/Java_(disambiguation).",
    { "https://en.wikipedia.org/wiki/Java_(disambiguation)" } },
  { "http://[::1]:8080/x", { "http://[::1]:8080/x" } },
  /* Two links. */
  { "https://a.example/ and http://b.example/x", { "https://a.example/", "http://b.example/x" } },
  { "https://a.example/\nhttps://b.example/", { "https://a.example/", "https://b.example/" } },
  { "http://2130706433/ or http://0x7f000001/", { "http://2130706433/", "http://0x7f000001/" } },
  /* Where a link ends. */
  { "https://example.com/a b", { "https://example.com/a" } },
  { "https://example.com/a\nb", { "https://example.com/a" } },
  { "https://example.com/a\tb", { "https://example.com/a" } },
  { "https://example.com/a\u00A0b", { "https://example.com/a" } },
  { "https://example.com/a<b", { "https://example.com/a" } },
  { "<a href=\"https://example.com/a\">x</a>", { "https://example.com/a" } },
  { "http://exa mple.com", { "http://exa" } },
  /* Found so that a click on them can be refused. */
  { "file:///etc/passwd", { "file:///etc/passwd" } },
  { "open file:///etc/passwd now", { "file:///etc/passwd" } },
  { "javascript:alert(1)", { "javascript:alert(1)" } },
  { "click javascript:alert(1) here", { "javascript:alert(1)" } },
  /* The other kinds. */
  { "go to www.example.com, then", { "www.example.com" } },
  { "write to mailto:someone@example.com.", { "mailto:someone@example.com" } },
  { "invite: sotto:1AbC", { "sotto:1AbC" } },
  { "https://bank.example@evil.example/", { "https://bank.example@evil.example/" } },
  /* Any other "scheme://" is found whole, never as the http link inside
   * it: "xhttp" is a scheme of its own, which the guard blocks. */
  { "xhttp://example.com/", { "xhttp://example.com/" } },
  { "a1https://example.com/", { "a1https://example.com/" } },
  /* No links. */
  { "no links here", { NULL } },
  { "", { NULL } },
};

static const char * const sender_names[] = { "verified", "unverified", "stranger" };

/* Every id the guard may give, with the severity the rules fix for it. */
static const struct
{
  const char        *id;
  SottoLinkSeverity  severity;
} known_findings[] = {
  { "scheme-blocked", SOTTO_LINK_FATAL },
  { "links-off", SOTTO_LINK_FATAL },
  { "invalid", SOTTO_LINK_FATAL },
  { "too-long", SOTTO_LINK_FATAL },
  { "not-encrypted", SOTTO_LINK_NOTE },
  { "idn", SOTTO_LINK_NOTE },
  { "mixed-script", SOTTO_LINK_SUSPECT },
  { "confusable", SOTTO_LINK_SUSPECT },
  { "invisible", SOTTO_LINK_SUSPECT },
  { "bidi", SOTTO_LINK_SUSPECT },
  { "userinfo", SOTTO_LINK_SUSPECT },
  { "encoded-host", SOTTO_LINK_SUSPECT },
  { "ip-address", SOTTO_LINK_SUSPECT },
  { "ip-private", SOTTO_LINK_NOTE },
  { "ip-loopback", SOTTO_LINK_SUSPECT },
  { "ip-link-local", SOTTO_LINK_SUSPECT },
  { "ip-obfuscated", SOTTO_LINK_SUSPECT },
  { "port", SOTTO_LINK_NOTE },
  { "long", SOTTO_LINK_SUSPECT },
  { "sender-unverified", SOTTO_LINK_NOTE },
  { "sender-stranger", SOTTO_LINK_SUSPECT },
  { "trusted", SOTTO_LINK_NOTE },
  { "invite", SOTTO_LINK_NOTE },
};

static gboolean
is_bidi_control (gunichar c)
{
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
         c == 0x200E || c == 0x200F || c == 0x061C;
}

static gboolean
is_invisible (gunichar c)
{
  return (c >= 0x200B && c <= 0x200D) || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF ||
         c == 0x00AD || c == 0x180E || (c >= 0xFE00 && c <= 0xFE0F) ||
         (c >= 0xE0000 && c <= 0xE007F);
}

static gboolean
text_has (const char *text,
          gboolean  (*is_one) (gunichar c))
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (is_one (g_utf8_get_char (p)))
      return TRUE;

  return FALSE;
}

/* What the rules say @shown is: an independent oracle, checked against
 * the spelled-out rows. */
static char *
mark_hidden (const char *text)
{
  GString *shown = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_bidi_control (c) || is_invisible (c))
        g_string_append_printf (shown, "⟦U+%04X⟧", (guint) c);
      else
        g_string_append_len (shown, p, g_utf8_next_char (p) - p);
    }

  return g_string_free (shown, FALSE);
}

/* For the test log: readable even when the link holds an RLO, and short
 * for the long ones. */
static char *
describe (const char *text)
{
  GString *out = g_string_new (NULL);
  const char *p = text;

  for (guint n = 0; *p != '\0' && n < 100; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20 || (c >= 0x7F && c <= 0xA0) || is_bidi_control (c) || is_invisible (c) ||
          g_unichar_type (c) == G_UNICODE_FORMAT)
        g_string_append_printf (out, "\\u{%04X}", (guint) c);
      else
        g_string_append_unichar (out, c);
    }
  if (*p != '\0')
    g_string_append_printf (out, "… (%" G_GSIZE_FORMAT " bytes)", strlen (text));

  return g_string_free (out, FALSE);
}

static char *
finding_ids (const SottoLinkVerdict *verdict)
{
  GString *ids = g_string_new (NULL);

  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoLinkFinding *finding = g_ptr_array_index (verdict->findings, i);

      g_string_append_printf (ids, "%s%s", i > 0 ? ", " : "", finding->id);
    }

  return g_string_free (ids, FALSE);
}

static char *
case_link (const LinkCase *row)
{
  GString *text = g_string_new (row->link);

  if (row->pad_to > 0)
    {
      g_assert_cmpuint (text->len, <=, row->pad_to);
      while (text->len < row->pad_to)
        g_string_append_c (text, 'a');
    }

  return g_string_free (text, FALSE);
}

/* Spelled so that a failure names the finding. */
static void
assert_finding (const SottoLinkVerdict *verdict,
                const char             *id,
                gboolean                expected)
{
  const char *found = sotto_link_verdict_has_finding (verdict, id) ? id : "(not found)";

  if (expected)
    g_assert_cmpstr (found, ==, id);
  else
    g_assert_cmpstr (found, ==, "(not found)");
}

static void
assert_field (const char *value,
              const char *expected)
{
  if (expected == NULL)
    return;
  if (g_str_equal (expected, NONE))
    g_assert_null (value);
  else
    g_assert_cmpstr (value, ==, expected);
}

/* What holds for every verdict, whatever the link. */
static void
assert_consistent (const SottoLinkVerdict *verdict)
{
  SottoLinkSeverity worst = SOTTO_LINK_NOTE;
  gboolean trusted = FALSE;
  SottoLinkAction expected;

  g_assert_nonnull (verdict->link);
  g_assert_nonnull (verdict->scheme);
  g_assert_nonnull (verdict->shown);
  g_assert_true (g_utf8_validate (verdict->shown, -1, NULL));
  g_assert_false (text_has (verdict->shown, is_bidi_control));
  g_assert_false (text_has (verdict->shown, is_invisible));
  g_assert_nonnull (verdict->findings);
  g_assert_cmpint (verdict->port, >=, -1);
  g_assert_cmpint (verdict->port, <=, 65535);

  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoLinkFinding *finding = g_ptr_array_index (verdict->findings, i);
      gboolean known = FALSE;

      g_assert_nonnull (finding->id);
      g_assert_nonnull (finding->text);
      g_assert_cmpstr (finding->text, !=, "");
      assert_finding (verdict, finding->id, TRUE);
      for (guint k = 0; k < G_N_ELEMENTS (known_findings); k++)
        if (g_str_equal (finding->id, known_findings[k].id))
          {
            known = TRUE;
            g_test_message ("  %s: %s", finding->id, finding->text);
            g_assert_cmpint (finding->severity, ==, known_findings[k].severity);
          }
      if (!known)
        g_test_message ("unknown finding id “%s”", finding->id);
      g_assert_true (known);
      worst = MAX (worst, finding->severity);
      trusted |= g_str_equal (finding->id, "trusted");
    }

  if (worst == SOTTO_LINK_FATAL)
    expected = SOTTO_LINK_BLOCK;
  else if (worst == SOTTO_LINK_SUSPECT)
    expected = SOTTO_LINK_WARN;
  else if (trusted)
    expected = SOTTO_LINK_OPEN;
  else
    expected = SOTTO_LINK_ASK;
  g_assert_cmpint (verdict->action, ==, expected);

  /* Blocked exactly when there is nothing to open. */
  g_assert_cmpint (verdict->uri == NULL, ==, verdict->action == SOTTO_LINK_BLOCK);
  if (verdict->uri != NULL)
    for (const char *p = verdict->uri; *p != '\0'; p++)
      g_assert_true (*p > 0x20 && *p < 0x7F);

  if (verdict->host_ascii != NULL)
    for (const char *p = verdict->host_ascii; *p != '\0'; p++)
      g_assert_true ((guchar) *p < 0x80);
  if (verdict->registrable_domain != NULL && verdict->host != NULL)
    g_assert_true (g_str_has_suffix (verdict->host, verdict->registrable_domain));
}

static void
assert_verdicts_equal (const SottoLinkVerdict *a,
                       const SottoLinkVerdict *b)
{
  g_assert_cmpstr (a->link, ==, b->link);
  g_assert_cmpstr (a->shown, ==, b->shown);
  g_assert_cmpstr (a->uri, ==, b->uri);
  g_assert_cmpstr (a->scheme, ==, b->scheme);
  g_assert_cmpstr (a->host, ==, b->host);
  g_assert_cmpstr (a->host_ascii, ==, b->host_ascii);
  g_assert_cmpstr (a->registrable_domain, ==, b->registrable_domain);
  g_assert_cmpint (a->port, ==, b->port);
  g_assert_cmpint (a->action, ==, b->action);
  g_assert_cmpuint (a->findings->len, ==, b->findings->len);
  for (guint i = 0; i < a->findings->len; i++)
    {
      const SottoLinkFinding *fa = g_ptr_array_index (a->findings, i);
      const SottoLinkFinding *fb = g_ptr_array_index (b->findings, i);

      g_assert_cmpstr (fa->id, ==, fb->id);
      g_assert_cmpint (fa->severity, ==, fb->severity);
      g_assert_cmpstr (fa->text, ==, fb->text);
    }
}

static void
test_check (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (check_cases); i++)
    {
      const LinkCase *row = &check_cases[i];
      g_autofree char *link_text = case_link (row);
      g_autofree char *described = describe (link_text);
      g_autoptr (SottoLinkVerdict) verdict = NULL;
      g_autoptr (SottoLinkVerdict) copy = NULL;
      g_autofree char *ids = NULL;
      gsize len = strlen (link_text);
      guint n_present = 0;

      verdict = sotto_link_guard_check (link_text, row->sender, row->policy);
      g_assert_nonnull (verdict);
      ids = finding_ids (verdict);
      g_test_message ("%u: %s from a %s%s: %s (expected %s): %s",
                      i, described, sender_names[row->sender],
                      row->policy != NULL ? ", with a policy" : "",
                      sotto_link_action_to_string (verdict->action),
                      sotto_link_action_to_string (row->action), ids);

      if (row->pad_to > 0)
        g_assert_cmpuint (len, ==, row->pad_to);
      g_assert_cmpstr (verdict->link, ==, link_text);
      assert_consistent (verdict);
      g_assert_cmpint (verdict->action, ==, row->action);

      while (n_present < G_N_ELEMENTS (row->present) && row->present[n_present] != NULL)
        assert_finding (verdict, row->present[n_present++], TRUE);
      for (guint j = 0; j < G_N_ELEMENTS (row->absent) && row->absent[j] != NULL; j++)
        assert_finding (verdict, row->absent[j], FALSE);
      if (row->complete)
        g_assert_cmpuint (verdict->findings->len, ==, n_present);

      assert_field (verdict->scheme, row->scheme);
      assert_field (verdict->host, row->host);
      assert_field (verdict->host_ascii, row->ascii);
      assert_field (verdict->registrable_domain, row->domain);
      if (row->port != 0)
        g_assert_cmpint (verdict->port, ==, row->port);
      if (row->shown != NULL)
        g_assert_cmpstr (verdict->shown, ==, row->shown);

      if (len > SOTTO_LINK_MAX_LEN)
        {
          /* Not analysed at all. */
          g_assert_cmpuint (verdict->findings->len, ==, 1);
          assert_finding (verdict, "too-long", TRUE);
          g_assert_cmpstr (verdict->scheme, ==, "");
          g_assert_null (verdict->host);
          g_assert_cmpint (verdict->action, ==, SOTTO_LINK_BLOCK);
        }
      else
        {
          g_autofree char *shown = mark_hidden (link_text);

          g_assert_cmpstr (verdict->shown, ==, shown);
          assert_finding (verdict, "bidi", text_has (link_text, is_bidi_control));
          assert_finding (verdict, "invisible", text_has (link_text, is_invisible));
          assert_finding (verdict, "long", len > SOTTO_LINK_LONG_LEN);
          assert_finding (verdict, "too-long", FALSE);

          /* For a web link that is not blocked, every rule has run. */
          if (verdict->action != SOTTO_LINK_BLOCK &&
              (g_str_equal (verdict->scheme, "http") || g_str_equal (verdict->scheme, "https")))
            {
              assert_finding (verdict, "not-encrypted", g_str_equal (verdict->scheme, "http"));
              assert_finding (verdict, "sender-unverified", row->sender == UNVERIFIED);
              assert_finding (verdict, "sender-stranger", row->sender == STRANGER);
              g_assert_nonnull (verdict->host);
              if (verdict->host_ascii != NULL && strstr (verdict->host_ascii, "xn--") != NULL)
                {
                  assert_finding (verdict, "idn", TRUE);
                  g_assert_nonnull (strstr (verdict->uri, verdict->host_ascii));
                }
            }
        }

      if (g_str_has_prefix (link_text, "www.") && verdict->uri != NULL)
        g_assert_true (g_str_has_prefix (verdict->uri, "https://www."));

      copy = sotto_link_verdict_copy (verdict);
      assert_verdicts_equal (verdict, copy);
    }
}

static void
test_find (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (find_cases); i++)
    {
      const FindCase *row = &find_cases[i];
      g_autoptr (GArray) spans = sotto_link_find (row->text);
      g_autofree char *described = describe (row->text);
      gsize len = strlen (row->text);
      gsize previous_end = 0;
      guint expected = 0;

      while (expected < G_N_ELEMENTS (row->links) && row->links[expected] != NULL)
        expected++;

      g_assert_nonnull (spans);
      g_test_message ("%u: %s: %u link%s", i, described, spans->len, spans->len == 1 ? "" : "s");
      for (guint j = 0; j < spans->len; j++)
        {
          const SottoLinkSpan *span = &g_array_index (spans, SottoLinkSpan, j);
          g_autofree char *found = g_strndup (row->text + span->start, span->end - span->start);
          g_autofree char *found_described = describe (found);

          g_test_message ("  [%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT ") %s",
                          span->start, span->end, found_described);
        }

      g_assert_cmpuint (spans->len, ==, expected);
      for (guint j = 0; j < spans->len; j++)
        {
          const SottoLinkSpan *span = &g_array_index (spans, SottoLinkSpan, j);
          g_autofree char *found = NULL;
          g_autoptr (SottoLinkVerdict) verdict = NULL;

          /* In order, apart, inside the text, on character boundaries. */
          g_assert_cmpuint (span->start, >=, previous_end);
          g_assert_cmpuint (span->start, <, span->end);
          g_assert_cmpuint (span->end, <=, len);
          g_assert_true (((guchar) row->text[span->start] & 0xC0) != 0x80);
          g_assert_true (span->end == len || ((guchar) row->text[span->end] & 0xC0) != 0x80);
          previous_end = span->end;

          found = g_strndup (row->text + span->start, span->end - span->start);
          g_assert_cmpstr (found, ==, row->links[j]);

          /* What is found is what a click hands to the guard. */
          verdict = sotto_link_guard_check (found, VERIFIED, NULL);
          assert_consistent (verdict);
        }
    }
}

/* The front ends show message text through the same marker. */
static void
test_shown (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (check_cases); i++)
    {
      g_autofree char *shown = sotto_link_dup_shown (check_cases[i].link);
      g_autofree char *expected = mark_hidden (check_cases[i].link);

      g_assert_cmpstr (shown, ==, expected);
    }
}

static void
test_action_names (void)
{
  SottoLinkAction actions[] = { OPEN, ASK, WARN, BLOCK };

  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      const char *name = sotto_link_action_to_string (actions[i]);

      g_assert_nonnull (name);
      g_assert_cmpstr (name, !=, "");
      for (guint j = 0; j < i; j++)
        g_assert_cmpstr (name, !=, sotto_link_action_to_string (actions[j]));
    }
}

/* The boxed type is how verdicts travel in signals and GValues. */
static void
test_boxed (void)
{
  g_autoptr (SottoLinkVerdict) verdict = NULL;
  SottoLinkVerdict *copy = NULL;

  verdict = sotto_link_guard_check ("https://user@\u0430pple.com:8443/", STRANGER, NULL);
  copy = g_boxed_copy (SOTTO_TYPE_LINK_VERDICT, verdict);

  g_assert_true (G_TYPE_IS_BOXED (SOTTO_TYPE_LINK_VERDICT));
  g_assert_cmpuint (verdict->findings->len, >, 1);
  assert_verdicts_equal (verdict, copy);
  g_boxed_free (SOTTO_TYPE_LINK_VERDICT, copy);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/link-guard/check", test_check);
  g_test_add_func ("/link-guard/find", test_find);
  g_test_add_func ("/link-guard/shown", test_shown);
  g_test_add_func ("/link-guard/action-names", test_action_names);
  g_test_add_func ("/link-guard/boxed", test_boxed);

  return g_test_run ();
}
