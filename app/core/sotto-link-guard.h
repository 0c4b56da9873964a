/* sotto-link-guard.h — what a link in a message would do, before it does it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* A link longer than this is not one people read: it is a finding. */
#define SOTTO_LINK_LONG_LEN 1000
/* Past this, a link is not analysed at all, and not opened. */
#define SOTTO_LINK_MAX_LEN  8192

/**
 * SottoLinkSender:
 * @SOTTO_LINK_SENDER_VERIFIED: a contact whose safety number was compared
 * @SOTTO_LINK_SENDER_UNVERIFIED: a contact not verified (yet)
 * @SOTTO_LINK_SENDER_STRANGER: someone who is no contact (a request)
 *
 * Who sent the message the link is in.
 */
typedef enum
{
  SOTTO_LINK_SENDER_VERIFIED,
  SOTTO_LINK_SENDER_UNVERIFIED,
  SOTTO_LINK_SENDER_STRANGER,
} SottoLinkSender;

/**
 * SottoLinkAction:
 * @SOTTO_LINK_OPEN: a trusted domain and nothing odd: opened without asking
 * @SOTTO_LINK_ASK: an ordinary link: shown in full, opened if the user says so
 * @SOTTO_LINK_WARN: something about it is odd: the dialog says what, and
 *   "Open" is not its default
 * @SOTTO_LINK_BLOCK: never opened (a scheme that runs or reads local
 *   things, links turned off, not a link a browser would open)
 *
 * What a front end does when the link is clicked; the worst of its
 * findings' severities decides it.
 */
typedef enum
{
  SOTTO_LINK_OPEN,
  SOTTO_LINK_ASK,
  SOTTO_LINK_WARN,
  SOTTO_LINK_BLOCK,
} SottoLinkAction;

typedef enum
{
  SOTTO_LINK_NOTE,     /* worth saying, calmly: it does not make the link suspicious */
  SOTTO_LINK_SUSPECT,  /* makes the action at least WARN */
  SOTTO_LINK_FATAL,    /* makes it BLOCK */
} SottoLinkSeverity;

/**
 * SottoLinkFinding:
 * @id: stable, for scripts and tests: "scheme-blocked", "links-off",
 *   "invalid", "too-long", "not-encrypted", "idn", "mixed-script",
 *   "confusable", "invisible", "bidi", "userinfo", "encoded-host",
 *   "ip-address", "ip-private", "ip-loopback", "ip-link-local",
 *   "ip-obfuscated", "port", "long", "sender-unverified",
 *   "sender-stranger", "trusted", "invite"
 * @severity: what it does to the action
 * @text: the explanation for the user, translated
 */
typedef struct
{
  char              *id;
  SottoLinkSeverity  severity;
  char              *text;
} SottoLinkFinding;

/**
 * SottoLinkVerdict:
 * @link: the link as it appeared in the message
 * @shown: @link for display: every invisible or bidirectional control
 *   character replaced by a visible marker "⟦U+202E⟧", so that what is
 *   shown is what is there, never reordered
 * @uri: (nullable): what would be opened, in ASCII (the host in its
 *   `xn--` form, "www." given "https://"); %NULL when blocked
 * @scheme: lower case; "" when there is none
 * @host: (nullable): the host as a browser shows it (Unicode), an IP
 *   address in its usual form; for mailto: the address's domain; %NULL
 *   for a link without one
 * @host_ascii: (nullable): the host as a browser sends it (`xn--`)
 * @registrable_domain: (nullable): the part of @host a registrar hands
 *   out ("example.co.uk" of "www.example.co.uk", from the public suffix
 *   list), to emphasise; %NULL for an IP address or an unknown suffix
 * @port: the port written in the link, -1 for none or the default
 * @action: what to do on a click
 * @findings: (element-type SottoLinkFinding): in the order found
 */
typedef struct
{
  char            *link;
  char            *shown;
  char            *uri;
  char            *scheme;
  char            *host;
  char            *host_ascii;
  char            *registrable_domain;
  int              port;
  SottoLinkAction  action;
  GPtrArray       *findings;
} SottoLinkVerdict;

/**
 * SottoLinkPolicy:
 * @schemes: (nullable): what may be opened (GSettings `link-schemes`);
 *   %NULL for http, https and mailto
 * @trusted_domains: (nullable): domains opened without asking
 *   (`link-trusted-domains`): a link to one of them, or to a name under
 *   one, with nothing odd about it, is %SOTTO_LINK_OPEN
 * @links_off: `link-open` is `never`: every link is blocked
 */
typedef struct
{
  const char * const *schemes;
  const char * const *trusted_domains;
  gboolean            links_off;
} SottoLinkPolicy;

typedef struct
{
  gsize start;  /* byte offsets into the text */
  gsize end;
} SottoLinkSpan;

#define SOTTO_TYPE_LINK_VERDICT (sotto_link_verdict_get_type ())

GType             sotto_link_verdict_get_type     (void) G_GNUC_CONST;
SottoLinkVerdict *sotto_link_guard_check          (const char             *link,
                                                   SottoLinkSender         sender,
                                                   const SottoLinkPolicy  *policy);
gboolean          sotto_link_verdict_has_finding  (const SottoLinkVerdict *verdict,
                                                   const char             *id);
const char       *sotto_link_action_to_string     (SottoLinkAction         action);
SottoLinkVerdict *sotto_link_verdict_copy         (const SottoLinkVerdict *verdict);
void              sotto_link_verdict_free         (SottoLinkVerdict       *verdict);
GArray           *sotto_link_find                 (const char             *text);
char             *sotto_link_dup_shown            (const char             *link);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoLinkVerdict, sotto_link_verdict_free)

G_END_DECLS
