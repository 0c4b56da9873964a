/* sotto-error.h — the error domain of libsotto-core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SOTTO_ERROR (sotto_error_quark ())

typedef enum
{
  SOTTO_ERROR_INVALID_ARGUMENT,
  SOTTO_ERROR_PROFILE,
} SottoError;

GQuark sotto_error_quark (void);

G_END_DECLS
