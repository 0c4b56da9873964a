/* sotto-auto-away.h — away while the user is not at the computer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "sotto-peer-service.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_AUTO_AWAY (sotto_auto_away_get_type ())

G_DECLARE_FINAL_TYPE (SottoAutoAway, sotto_auto_away, SOTTO, AUTO_AWAY, GObject)

SottoAutoAway *sotto_auto_away_new            (SottoPeerService *service,
                                               GSettings        *settings);
void           sotto_auto_away_set_idle_time  (SottoAutoAway    *self,
                                               guint             seconds);
guint          sotto_auto_away_get_threshold  (SottoAutoAway    *self);
gboolean       sotto_auto_away_is_away        (SottoAutoAway    *self);
GSettings     *sotto_auto_away_get_settings   (SottoAutoAway    *self);

G_END_DECLS
