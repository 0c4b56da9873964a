/* sotto-idle-monitor.h — how long the user has not touched the computer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-core.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_IDLE_MONITOR (sotto_idle_monitor_get_type ())

G_DECLARE_FINAL_TYPE (SottoIdleMonitor, sotto_idle_monitor, SOTTO, IDLE_MONITOR, GObject)

SottoIdleMonitor *sotto_idle_monitor_new        (SottoAutoAway    *auto_away);
const char       *sotto_idle_monitor_get_source (SottoIdleMonitor *self);

G_END_DECLS
