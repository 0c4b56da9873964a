/* sotto-noise.h — the Noise protocol state machine (no I/O)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SOTTO_NOISE_KEY_LEN         32
#define SOTTO_NOISE_HASH_LEN        64
#define SOTTO_NOISE_TAG_LEN         16
#define SOTTO_NOISE_MAX_MESSAGE_LEN 65535

#define SOTTO_NOISE_ERROR (sotto_noise_error_quark ())

typedef enum
{
  SOTTO_NOISE_ERROR_INVALID,         /* bad protocol name, wrong state, missing key */
  SOTTO_NOISE_ERROR_DECRYPT,         /* authentication failed */
  SOTTO_NOISE_ERROR_DH,              /* all-zero shared secret */
  SOTTO_NOISE_ERROR_NONCE_EXHAUSTED,
  SOTTO_NOISE_ERROR_TOO_LONG,
  SOTTO_NOISE_ERROR_TRUNCATED,
} SottoNoiseError;

typedef enum
{
  SOTTO_NOISE_ACTION_WRITE_MESSAGE,
  SOTTO_NOISE_ACTION_READ_MESSAGE,
  SOTTO_NOISE_ACTION_SPLIT,
  SOTTO_NOISE_ACTION_FAILED,
} SottoNoiseAction;

typedef struct _SottoNoiseHandshake SottoNoiseHandshake;
typedef struct _SottoNoiseCipher    SottoNoiseCipher;

GQuark               sotto_noise_error_quark                     (void);

SottoNoiseHandshake *sotto_noise_handshake_new                   (const char           *protocol_name,
                                                                  gboolean              initiator,
                                                                  const guint8         *prologue,
                                                                  gsize                 prologue_len,
                                                                  GError              **error);
void                 sotto_noise_handshake_set_static_key        (SottoNoiseHandshake  *hs,
                                                                  const guint8          secret[32]);
void                 sotto_noise_handshake_set_static_keypair    (SottoNoiseHandshake  *hs,
                                                                  const guint8          secret[32],
                                                                  const guint8          pub[32]);
void                 sotto_noise_handshake_set_remote_static_key (SottoNoiseHandshake  *hs,
                                                                  const guint8          pub[32]);
void                 sotto_noise_handshake_set_ephemeral_key     (SottoNoiseHandshake  *hs,
                                                                  const guint8          secret[32]);
void                 sotto_noise_handshake_add_psk               (SottoNoiseHandshake  *hs,
                                                                  const guint8          psk[32]);
gboolean             sotto_noise_handshake_start                 (SottoNoiseHandshake  *hs,
                                                                  GError              **error);
SottoNoiseAction     sotto_noise_handshake_get_action            (SottoNoiseHandshake  *hs);
gboolean             sotto_noise_handshake_is_one_way            (SottoNoiseHandshake  *hs);
gboolean             sotto_noise_handshake_write_message         (SottoNoiseHandshake  *hs,
                                                                  const guint8         *payload,
                                                                  gsize                 payload_len,
                                                                  GByteArray           *out,
                                                                  GError              **error);
gboolean             sotto_noise_handshake_read_message          (SottoNoiseHandshake  *hs,
                                                                  const guint8         *message,
                                                                  gsize                 message_len,
                                                                  GByteArray           *payload_out,
                                                                  GError              **error);
const guint8        *sotto_noise_handshake_get_remote_static_key (SottoNoiseHandshake  *hs);
void                 sotto_noise_handshake_get_handshake_hash    (SottoNoiseHandshake  *hs,
                                                                  guint8                out[64]);
gboolean             sotto_noise_handshake_split                 (SottoNoiseHandshake  *hs,
                                                                  SottoNoiseCipher    **send,
                                                                  SottoNoiseCipher    **receive,
                                                                  GError              **error);
void                 sotto_noise_handshake_free                  (SottoNoiseHandshake  *hs);

gboolean             sotto_noise_cipher_encrypt                  (SottoNoiseCipher     *c,
                                                                  const guint8         *ad,
                                                                  gsize                 ad_len,
                                                                  const guint8         *plaintext,
                                                                  gsize                 len,
                                                                  GByteArray           *out,
                                                                  GError              **error);
gboolean             sotto_noise_cipher_decrypt                  (SottoNoiseCipher     *c,
                                                                  const guint8         *ad,
                                                                  gsize                 ad_len,
                                                                  const guint8         *ciphertext,
                                                                  gsize                 len,
                                                                  GByteArray           *out,
                                                                  GError              **error);
gboolean             sotto_noise_cipher_encrypt_in_place         (SottoNoiseCipher     *c,
                                                                  const guint8         *ad,
                                                                  gsize                 ad_len,
                                                                  guint8               *buffer,
                                                                  gsize                 len,
                                                                  GError              **error);
gboolean             sotto_noise_cipher_decrypt_in_place         (SottoNoiseCipher     *c,
                                                                  const guint8         *ad,
                                                                  gsize                 ad_len,
                                                                  guint8               *buffer,
                                                                  gsize                 len,
                                                                  GError              **error);
void                 sotto_noise_cipher_rekey                    (SottoNoiseCipher     *c);
guint64              sotto_noise_cipher_get_nonce                (SottoNoiseCipher     *c);
void                 sotto_noise_cipher_free                     (SottoNoiseCipher     *c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoNoiseHandshake, sotto_noise_handshake_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoNoiseCipher, sotto_noise_cipher_free)

G_END_DECLS
