/* sotto-session-private.h — entry points for tests only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-session.h"

G_BEGIN_DECLS

void sotto_session_set_timeouts       (SottoSession *self,
                                       guint         handshake_ms,
                                       guint         keepalive_ms,
                                       guint         idle_ms);
void sotto_session_set_rekey_interval (SottoSession *self,
                                       guint64       messages,
                                       guint64       bytes);

void sotto_session_set_coalesce_timers (gboolean      coalesce);

G_END_DECLS
