/* sotto-store-key.h — how the store key is kept: keyring or passphrase
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  SOTTO_KEY_PROTECTION_KEYRING = 1,
  SOTTO_KEY_PROTECTION_PASSPHRASE = 2,
} SottoKeyProtection;

#define SOTTO_STORE_KEY_LEN        32
#define SOTTO_PASSPHRASE_MAX_LEN   1024
#define SOTTO_PWHASH_SALT_LEN      16
/* What a passphrase costs to try: libsodium's "moderate" (256 MiB, 3 passes).
 * A damaged or hostile database can't ask for more than "sensitive". */
#define SOTTO_PWHASH_OPSLIMIT_DEFAULT 3
#define SOTTO_PWHASH_MEMLIMIT_DEFAULT (256 * 1024 * 1024)
#define SOTTO_PWHASH_OPSLIMIT_MIN     1
#define SOTTO_PWHASH_MEMLIMIT_MIN     8192
#define SOTTO_PWHASH_OPSLIMIT_MAX     4
#define SOTTO_PWHASH_MEMLIMIT_MAX     (1024 * 1024 * 1024)

guint8   *sotto_store_key_new            (void);
void      sotto_store_key_free           (guint8        *key);
gboolean  sotto_passphrase_validate      (const char    *passphrase,
                                          GError       **error);
guint8   *sotto_passphrase_derive_kek    (const char    *passphrase,
                                          const guint8  *salt,
                                          guint64        opslimit,
                                          guint64        memlimit,
                                          GError       **error);
gboolean  sotto_keyring_store_key        (const char    *store_id,
                                          const char    *label,
                                          const guint8  *key,
                                          GCancellable  *cancellable,
                                          GError       **error);
guint8   *sotto_keyring_lookup_key       (const char    *store_id,
                                          GCancellable  *cancellable,
                                          GError       **error);
gboolean  sotto_keyring_clear_key        (const char    *store_id,
                                          GCancellable  *cancellable,
                                          GError       **error);

G_END_DECLS
