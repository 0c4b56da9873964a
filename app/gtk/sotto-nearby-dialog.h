/* sotto-nearby-dialog.h — look at the key of someone nearby, compare its
 * whole fingerprint with theirs, then add them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-context.h"
#include "sotto-nearby.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_NEARBY_DIALOG (sotto_nearby_dialog_get_type ())

G_DECLARE_FINAL_TYPE (SottoNearbyDialog, sotto_nearby_dialog, SOTTO, NEARBY_DIALOG, GtkWindow)

SottoNearbyDialog *sotto_nearby_dialog_new        (GtkWindow         *parent,
                                                   SottoContext      *context,
                                                   SottoNearby       *nearby);
SottoNearby       *sotto_nearby_dialog_get_nearby (SottoNearbyDialog *self);

G_END_DECLS
