/* sotto-application.h — the `sotto` GtkApplication
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-context.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_APPLICATION (sotto_application_get_type ())

G_DECLARE_FINAL_TYPE (SottoApplication, sotto_application, SOTTO, APPLICATION, GtkApplication)

SottoApplication *sotto_application_new         (void);
SottoContext     *sotto_application_get_context (SottoApplication *self);

G_END_DECLS
