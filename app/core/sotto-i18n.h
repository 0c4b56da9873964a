/* sotto-i18n.h — locale set-up shared by every Sotto program
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void sotto_i18n_init (void);

G_END_DECLS
