/* sotto-policy.h — what the user and their administrator allow
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "sotto-contact.h"
#include "sotto-store-key.h"

G_BEGIN_DECLS

/**
 * SottoPolicySource:
 * @SOTTO_POLICY_SOURCE_DEFAULT: the schema's default
 * @SOTTO_POLICY_SOURCE_USER: set by the user
 * @SOTTO_POLICY_SOURCE_ADMINISTRATOR: set by an administrator (a system
 *   dconf database), locked or as a default the user may change
 *
 * Where a setting's effective value comes from.
 */
typedef enum
{
  SOTTO_POLICY_SOURCE_DEFAULT,
  SOTTO_POLICY_SOURCE_USER,
  SOTTO_POLICY_SOURCE_ADMINISTRATOR,
} SottoPolicySource;

/**
 * SottoPolicyEntry:
 * @key: the setting's name
 * @value: its effective value
 * @source: where that value comes from
 * @locked: whether an administrator locked it
 */
typedef struct
{
  char              *key;
  GVariant          *value;
  SottoPolicySource  source;
  gboolean           locked;
} SottoPolicyEntry;

#define SOTTO_TYPE_POLICY (sotto_policy_get_type ())

G_DECLARE_FINAL_TYPE (SottoPolicy, sotto_policy, SOTTO, POLICY, GObject)

SottoPolicy       *sotto_policy_new                (GSettings          *settings);
GSettings         *sotto_policy_get_settings       (SottoPolicy        *self);
gboolean           sotto_policy_is_locked          (SottoPolicy        *self,
                                                    const char         *key);
SottoPolicySource  sotto_policy_get_source         (SottoPolicy        *self,
                                                    const char         *key);
GPtrArray         *sotto_policy_list               (SottoPolicy        *self);
const char        *sotto_policy_source_to_string   (SottoPolicySource   source);
void               sotto_policy_entry_free         (SottoPolicyEntry   *entry);

gboolean           sotto_networks_contain          (const char * const *networks,
                                                    GInetAddress       *address,
                                                    const char        **out_invalid);
gboolean           sotto_policy_may_connect        (SottoPolicy        *self,
                                                    GInetAddress       *address);
gboolean           sotto_policy_may_add_contacts   (SottoPolicy        *self,
                                                    GError            **error);
gboolean           sotto_policy_may_send_files     (SottoPolicy        *self,
                                                    GError            **error);
gboolean           sotto_policy_may_message        (SottoPolicy        *self,
                                                    SottoContact       *contact,
                                                    GError            **error);
gboolean           sotto_policy_may_delete_history (SottoPolicy        *self,
                                                    GError            **error);
gboolean           sotto_policy_may_protect        (SottoPolicy        *self,
                                                    SottoKeyProtection  protection,
                                                    const char         *passphrase,
                                                    GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoPolicyEntry, sotto_policy_entry_free)

G_END_DECLS
