/* sotto-nearby-row.h — a stranger LAN discovery sees, in the buddy list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-nearby.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_NEARBY_ROW (sotto_nearby_row_get_type ())

G_DECLARE_FINAL_TYPE (SottoNearbyRow, sotto_nearby_row, SOTTO, NEARBY_ROW, GtkListBoxRow)

GtkWidget   *sotto_nearby_row_new             (SottoNearby    *nearby);
SottoNearby *sotto_nearby_row_get_nearby      (SottoNearbyRow *self);
void         sotto_nearby_row_set_add_refusal (SottoNearbyRow *self,
                                               const char     *refusal);

G_END_DECLS
