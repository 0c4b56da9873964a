/* sotto-contact-private.h — what only the store may change
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-contact.h"

G_BEGIN_DECLS

SottoContact *_sotto_contact_new              (gint64               id,
                                               const guint8        *public_key,
                                               const guint8        *offered_key,
                                               const char          *display_name,
                                               const char          *alias,
                                               SottoVerification    verification,
                                               gboolean             blocked,
                                               const char * const  *addresses);
void          _sotto_contact_update_from      (SottoContact        *self,
                                               SottoContact        *other);
void          _sotto_contact_set_group_state  (SottoContact        *self,
                                               SottoMemberOnly      member_only,
                                               const guint8        *signing_key);

G_END_DECLS
