/* sotto-file-dialog.h — what the file guard says before a received file opens
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-core.h"

G_BEGIN_DECLS

GtkWidget *sotto_file_dialog_new     (GtkWindow              *parent,
                                      const SottoFileVerdict *verdict,
                                      const char             *path);
void       sotto_show_in_folder      (GtkWindow              *parent,
                                      const char             *path);

G_END_DECLS
