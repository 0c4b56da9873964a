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

/* Quiet sessions' deadlines wait for the next multiple of this of the
 * wall clock (PROTOCOL.md, Timers). */
#define SOTTO_SESSION_TICK_GRID_MS 10000

guint _sotto_session_grid_delay_s (gint64 real_now_us,
                                   gint64 due_in_us);

G_END_DECLS
