/* sotto-profile-lock.h — one process per profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SottoProfileLock SottoProfileLock;

SottoProfileLock *sotto_profile_lock_acquire (const char        *profile_dir,
                                              GError           **error);
void              sotto_profile_lock_release (SottoProfileLock  *lock);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoProfileLock, sotto_profile_lock_release)

G_END_DECLS
