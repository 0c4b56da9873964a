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
}
