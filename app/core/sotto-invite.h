/* sotto-invite.h — invite URIs: how a colleague's key reaches you
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "sotto-identity.h"

G_BEGIN_DECLS

/* See PROTOCOL.md, "Invite URIs". The whole text is checked against
 * SOTTO_INVITE_MAX_LEN before anything else, with a bounded scan. */
#define SOTTO_INVITE_MAX_LEN         2048
#define SOTTO_INVITE_MAX_ADDRESSES   8
#define SOTTO_INVITE_ADDRESS_MAX_LEN 261

#define SOTTO_TYPE_INVITE (sotto_invite_get_type ())

typedef struct
{
  guint8   public_key[SOTTO_KEY_LEN];
  char    *display_name;
  char   **addresses;  /* HOST:PORT hints, NULL-terminated, never NULL */
} SottoInvite;

GType        sotto_invite_get_type          (void) G_GNUC_CONST;

SottoInvite *sotto_invite_new               (const guint8        *public_key,
                                             const char          *display_name,
                                             const char * const  *addresses,
                                             GError             **error);
SottoInvite *sotto_invite_new_for_identity  (SottoIdentity       *identity,
                                             const char * const  *addresses,
                                             GError             **error);
SottoInvite *sotto_invite_parse             (const char          *text,
                                             GError             **error);
char        *sotto_invite_to_uri            (const SottoInvite   *invite);
gboolean     sotto_invite_address_validate  (const char          *address,
                                             GError             **error);
SottoInvite *sotto_invite_copy              (const SottoInvite   *invite);
void         sotto_invite_free              (SottoInvite         *invite);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoInvite, sotto_invite_free)

G_END_DECLS
