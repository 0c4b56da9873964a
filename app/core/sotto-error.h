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
  SOTTO_ERROR_PROFILE_IN_USE,
  SOTTO_ERROR_NO_PROFILE,
  SOTTO_ERROR_EXISTS,
  SOTTO_ERROR_NOT_FOUND,
  SOTTO_ERROR_DAMAGED,
  SOTTO_ERROR_WRONG_PASSPHRASE,
  SOTTO_ERROR_NEEDS_PASSPHRASE,
  SOTTO_ERROR_KEY_MISSING,
  SOTTO_ERROR_KEYRING,
  SOTTO_ERROR_STORE,
  SOTTO_ERROR_CRYPTO,
  SOTTO_ERROR_INVALID_INVITE,
  SOTTO_ERROR_INVITE_DAMAGED,
  SOTTO_ERROR_INVITE_TOO_NEW,
  /* A command was handed over and may have run, but no answer came. */
  SOTTO_ERROR_NO_REPLY,
  /* Refused: a policy, a limit or the state of things does not allow it. */
  SOTTO_ERROR_NOT_ALLOWED,
} SottoError;

GQuark sotto_error_quark (void);

G_END_DECLS
