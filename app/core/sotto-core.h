/* sotto-core.h — the public headers of libsotto-core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-autostart.h"
#include "sotto-contact.h"
#include "sotto-context.h"
#include "sotto-conversation-model.h"
#include "sotto-error.h"
#include "sotto-file-guard.h"
#include "sotto-file-transfer.h"
#include "sotto-i18n.h"
#include "sotto-identity.h"
#include "sotto-invite.h"
#include "sotto-link-guard.h"
#include "sotto-message.h"
#include "sotto-notification.h"
#include "sotto-policy.h"
#include "sotto-profile-lock.h"
#include "sotto-profile.h"
#include "sotto-qr.h"
#include "sotto-retention.h"
#include "sotto-roster-item.h"
#include "sotto-roster.h"
#include "sotto-scanner.h"
#include "sotto-security-log.h"
#include "sotto-store-key.h"
#include "sotto-store.h"
#include "sotto-text.h"
#include "sotto-time.h"
#include "sotto-timeline.h"
#include "sotto-transfer.h"
