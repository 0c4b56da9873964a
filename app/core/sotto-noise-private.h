/* sotto-noise-private.h — entry points for tests only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-noise.h"

G_BEGIN_DECLS

void sotto_noise_cipher_set_nonce (SottoNoiseCipher *c,
                                   guint64           n);

G_END_DECLS
