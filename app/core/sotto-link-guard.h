/* sotto-link-guard.h — what a link in a message would do, before it does it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  SOTTO_LINK_OPEN_AFTER_ASKING,  /* an ordinary web link: still shown in full and asked */
  SOTTO_LINK_WARN,               /* something about it is suspicious: say what */
  SOTTO_LINK_REFUSE,             /* a scheme that runs or reads local things */
} SottoLinkRisk;

typedef struct
{
  char          *uri;       /* the whole link, as it will be opened */
  char          *scheme;    /* lower case */
  char          *host;      /* NULL for schemes without one (mailto:) */
  SottoLinkRisk  risk;
  GPtrArray     *reasons;   /* (element-type utf8): why, in words, for the dialog */
} SottoLinkVerdict;

typedef struct
{
  gsize start;  /* byte offsets into the text */
  gsize end;
} SottoLinkSpan;

#define SOTTO_TYPE_LINK_VERDICT (sotto_link_verdict_get_type ())

GType             sotto_link_verdict_get_type (void) G_GNUC_CONST;
SottoLinkVerdict *sotto_link_guard_check      (const char             *uri);
SottoLinkVerdict *sotto_link_verdict_copy     (const SottoLinkVerdict *verdict);
void              sotto_link_verdict_free     (SottoLinkVerdict       *verdict);
GArray           *sotto_link_find             (const char             *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoLinkVerdict, sotto_link_verdict_free)

G_END_DECLS
