/* sotto-core.h — the public headers of libsotto-core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-context.h"
#include "sotto-error.h"
#include "sotto-i18n.h"
#include "sotto-identity.h"
#include "sotto-invite.h"
#include "sotto-profile.h"
