/* sotto-port-banner.h — "your port is taken", with a free one to use
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-core.h"
#include "sotto-peer-service.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_PORT_BANNER (sotto_port_banner_get_type ())

G_DECLARE_FINAL_TYPE (SottoPortBanner, sotto_port_banner, SOTTO, PORT_BANNER, GtkWidget)

GtkWidget *sotto_port_banner_new              (SottoContext    *context);
guint      sotto_port_banner_get_offered_port (SottoPortBanner *self);

G_END_DECLS
