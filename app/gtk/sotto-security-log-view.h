/* sotto-security-log-view.h — the security log, as a page of the preferences
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-core.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_SECURITY_LOG_VIEW (sotto_security_log_view_get_type ())

G_DECLARE_FINAL_TYPE (SottoSecurityLogView, sotto_security_log_view, SOTTO, SECURITY_LOG_VIEW,
                      GtkWidget)

GtkWidget *sotto_security_log_view_new (SottoStore *store);

G_END_DECLS
