/* sotto-store-banner.h — "Sotto can't save", while writing fails
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-core.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_STORE_BANNER (sotto_store_banner_get_type ())

G_DECLARE_FINAL_TYPE (SottoStoreBanner, sotto_store_banner, SOTTO, STORE_BANNER, GtkWidget)

GtkWidget *sotto_store_banner_new (SottoContext *context);

G_END_DECLS
