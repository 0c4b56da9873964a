/* sotto-context.h — everything a front end needs, in one object
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SOTTO_TYPE_CONTEXT (sotto_context_get_type ())

G_DECLARE_FINAL_TYPE (SottoContext, sotto_context, SOTTO, CONTEXT, GObject)

SottoContext *sotto_context_new                 (const char    *profile,
                                                 const char    *profile_dir,
                                                 GError       **error);
const char   *sotto_context_get_profile         (SottoContext  *self);
const char   *sotto_context_get_profile_dir     (SottoContext  *self);
gboolean      sotto_context_is_default_profile  (SottoContext  *self);
gboolean      sotto_context_ensure_profile_dir  (SottoContext  *self,
                                                 GError       **error);

G_END_DECLS
