/* sotto-i18n.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-i18n"

#include "config.h"

#include <locale.h>
#include <glib/gi18n-lib.h>

#include "sotto-i18n.h"

/**
 * sotto_i18n_init:
 *
 * Sets the locale from the environment and binds the `sotto` domain.
 * `SOTTO_LOCALEDIR` points at a build tree's catalogues, so a program run
 * from the build directory is translated without being installed.
 */
void
sotto_i18n_init (void)
{
  const char *localedir = g_getenv ("SOTTO_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* GLib 2.74 makes its C locale for g_ascii_strtoll() and friends on
   * their first call, under a mutex; contended, the mutex's futex leaves
   * errno at EAGAIN, and that first g_ascii_string_to_signed() then calls
   * a valid number invalid. Make it now, while nothing else runs. */
  g_ascii_strtoll ("0", NULL, 10);
}
