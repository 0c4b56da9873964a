/* sotto-preferences-window.h — every preference, each bound to its
 * GSettings key, and what an administrator has locked shown as such
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-core.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_PREFERENCES_WINDOW (sotto_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (SottoPreferencesWindow, sotto_preferences_window,
                      SOTTO, PREFERENCES_WINDOW, GtkWindow)

SottoPreferencesWindow *
sotto_preferences_window_new (GtkWindow  *parent,
                              GSettings  *settings,
                              GSettings  *profile_settings,
                              const char *profile,
                              const char *display_name,
                              const char *fingerprint,
                              gboolean    passphrase_protected);

const char *sotto_preferences_window_get_display_name         (SottoPreferencesWindow *self);
void        sotto_preferences_window_set_display_name         (SottoPreferencesWindow *self,
                                                               const char             *name);
gboolean    sotto_preferences_window_get_passphrase_protected (SottoPreferencesWindow *self);
void        sotto_preferences_window_add_security_log         (SottoPreferencesWindow *self,
                                                               SottoStore             *store);
void        sotto_preferences_window_set_passphrase_protected (SottoPreferencesWindow *self,
                                                               gboolean                value);
void        sotto_preferences_window_set_discovery            (SottoPreferencesWindow *self,
                                                               SottoDiscovery         *discovery);

G_END_DECLS
