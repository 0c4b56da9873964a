/* sotto-message-private.h — what only the store may change
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-message.h"

G_BEGIN_DECLS

SottoMessage *_sotto_message_new (gint64             id,
                                  gint64             contact_id,
                                  const guint8      *uid,
                                  SottoDirection     direction,
                                  SottoMessageState  state,
                                  gint64             sent,
                                  gint64             received,
                                  const char        *body);
void          _sotto_message_set_state (SottoMessage      *self,
                                        SottoMessageState  state);
void          _sotto_message_set_group (SottoMessage      *self,
                                        gint64             group_id,
                                        gint64             sender_id);

G_END_DECLS
