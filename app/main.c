/* main.c — the `sotto` program
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-application.h"
#include "sotto-i18n.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr (SottoApplication) app = NULL;

  sotto_i18n_init ();
  g_set_application_name (_("Sotto"));

  app = sotto_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
