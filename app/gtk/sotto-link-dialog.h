/* sotto-link-dialog.h — what a link is, before it opens
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-link-guard.h"

G_BEGIN_DECLS

GtkWidget *sotto_link_dialog_new     (GtkWindow              *parent,
                                      const SottoLinkVerdict *verdict);
void       sotto_link_dialog_present (GtkWindow              *parent,
                                      const SottoLinkVerdict *verdict);

G_END_DECLS
