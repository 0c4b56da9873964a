/* sotto-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-error"

#include "config.h"

#include "sotto-error.h"

G_DEFINE_QUARK (sotto-error-quark, sotto_error)
