/* fuzz-payload.c — transport plaintexts and handshake hellos
 *
 * The same bytes go to both decoders (and, as text, to the intro check).
 * Whatever decodes must encode again, to exactly the bytes it came from
 * (normal form: one value, one spelling), and decode to an equal value.
 * TEXT payloads and hellos take hand-written paths through the decoders
 * and encoders: each must give exactly what the GLib-only reference
 * gives, verdict, reason and fields, and the same bytes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "fuzz-common.h"
#include "sotto-payload-private.h"

/* A decoder and its reference refused the same input (both results
 * NULL), for the same reason; FALSE if both accepted it. */
static gboolean
same_refusal (gboolean      refused,
              gboolean      reference_refused,
              const GError *error,
              const GError *reference_error)
{
  FUZZ_CHECK (refused == reference_refused);
  if (!refused)
    {
      FUZZ_CHECK (reference_error == NULL);
      return FALSE;
    }
  FUZZ_CHECK (g_error_matches (reference_error, error->domain, error->code));
  FUZZ_CHECK (strcmp (reference_error->message, error->message) == 0);
  return TRUE;
}

/* An encoder and its reference wrote the same bytes, or refused alike. */
static void
check_same_encoding (GBytes       *bytes,
                     GBytes       *reference_bytes,
                     const GError *error,
                     const GError *reference_error)
{
  FUZZ_CHECK ((bytes == NULL) == (reference_bytes == NULL));
  if (bytes != NULL)
    FUZZ_CHECK (g_bytes_equal (bytes, reference_bytes));
  else
    FUZZ_CHECK (strcmp (error->message, reference_error->message) == 0);
}

/* The fast paths against the reference, on the same input. */
static void
check_payload_paths (const guint8       *data,
                     gsize               size,
                     const SottoPayload *payload,
                     const GError       *error)
{
  g_autoptr (GError) reference_error = NULL;
  g_autoptr (SottoPayload) reference = _sotto_payload_decode_glib (data, size, &reference_error);
  g_autoptr (GError) encode_error = NULL;
  g_autoptr (GError) reference_encode_error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) reference_bytes = NULL;

  if (same_refusal (payload == NULL, reference == NULL, error, reference_error))
    return;
  FUZZ_CHECK (payload->kind == reference->kind && !payload->known == !reference->known);
  FUZZ_CHECK (sotto_payload_equal (payload, reference));

  bytes = sotto_payload_encode (payload, &encode_error);
  reference_bytes = _sotto_payload_encode_glib (payload, &reference_encode_error);
  check_same_encoding (bytes, reference_bytes, encode_error, reference_encode_error);
}

static void
check_payload (const guint8 *data,
               gsize         size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoPayload) payload = NULL;
  g_autoptr (SottoPayload) again = NULL;
  g_autoptr (GBytes) bytes = NULL;

  payload = sotto_payload_decode (data, size, &error);
  check_payload_paths (data, size, payload, error);
  {
    g_autoptr (GError) take_error = NULL;
    g_autoptr (SottoPayload) taken = sotto_payload_decode_take (g_memdup2 (data, size), size,
                                                                &take_error);

    /* Taking the block changes where a text's body lives, nothing else. */
    FUZZ_CHECK ((taken == NULL) == (payload == NULL));
    if (taken != NULL)
      FUZZ_CHECK (sotto_payload_equal (taken, payload));
    else
      FUZZ_CHECK (strcmp (take_error->message, error->message) == 0);
  }
  if (payload == NULL)
    {
      FUZZ_CHECK (g_error_matches (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED));
      return;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (size >= 1 && payload->kind == data[0]);
  FUZZ_CHECK (sotto_payload_kind_to_string (payload->kind) != NULL);

  if (!payload->known)
    {
      /* Nothing read, nothing to send back. */
      FUZZ_CHECK (payload->body == NULL && payload->ids == NULL);
      bytes = sotto_payload_encode (payload, &error);
      FUZZ_CHECK (bytes == NULL && error != NULL);
      return;
    }

  bytes = sotto_payload_encode (payload, &error);
  FUZZ_CHECK (error == NULL && bytes != NULL);
  FUZZ_CHECK (g_bytes_get_size (bytes) == size);
  FUZZ_CHECK (memcmp (g_bytes_get_data (bytes, NULL), data, size) == 0);

  again = sotto_payload_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  FUZZ_CHECK (error == NULL && again != NULL);
  FUZZ_CHECK (sotto_payload_equal (payload, again));
}

/* The same for a hello. */
static void
check_hello_paths (const guint8     *data,
                   gsize             size,
                   const SottoHello *hello,
                   const GError     *error)
{
  g_autoptr (GError) reference_error = NULL;
  g_autoptr (SottoHello) reference = _sotto_hello_decode_glib (data, size, &reference_error);
  g_autoptr (GError) encode_error = NULL;
  g_autoptr (GError) reference_encode_error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) reference_bytes = NULL;

  if (same_refusal (hello == NULL, reference == NULL, error, reference_error))
    return;
  FUZZ_CHECK (sotto_hello_equal (hello, reference));
  FUZZ_CHECK (hello->version == reference->version &&
              hello->listen_port == reference->listen_port &&
              hello->capabilities == reference->capabilities);
  FUZZ_CHECK (strcmp (hello->display_name, reference->display_name) == 0);
  FUZZ_CHECK (hello->intro != NULL && strcmp (hello->intro, reference->intro) == 0);

  bytes = sotto_hello_encode (hello, &encode_error);
  reference_bytes = _sotto_hello_encode_glib (hello, &reference_encode_error);
  check_same_encoding (bytes, reference_bytes, encode_error, reference_encode_error);
}

static void
check_hello (const guint8 *data,
             gsize         size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoHello) hello = NULL;
  g_autoptr (SottoHello) again = NULL;
  g_autoptr (GBytes) bytes = NULL;

  FUZZ_CHECK (sotto_hello_check_empty (data, size, NULL) == (size == 0));

  hello = sotto_hello_decode (data, size, &error);
  check_hello_paths (data, size, hello, error);
  if (hello == NULL)
    {
      FUZZ_CHECK (g_error_matches (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED));
      return;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (hello->version >= 1);
  FUZZ_CHECK (hello->display_name != NULL && hello->intro != NULL);
  FUZZ_CHECK (size <= SOTTO_HELLO_MAX_LEN);

  bytes = sotto_hello_encode (hello, &error);
  FUZZ_CHECK (error == NULL && bytes != NULL);
  FUZZ_CHECK (g_bytes_get_size (bytes) == size);
  FUZZ_CHECK (memcmp (g_bytes_get_data (bytes, NULL), data, size) == 0);

  again = sotto_hello_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  FUZZ_CHECK (error == NULL && again != NULL);
  FUZZ_CHECK (sotto_hello_equal (hello, again));
}

static void
check_intro (const guint8 *data,
             gsize         size)
{
  g_autofree char *text = g_malloc (size + 1);
  g_autoptr (GError) error = NULL;

  /* As a C string: up to the first NUL. */
  memcpy (text, data, size);
  text[size] = '\0';

  if (!sotto_intro_validate (text, &error))
    FUZZ_CHECK (g_error_matches (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED));
  else
    FUZZ_CHECK (strlen (text) <= SOTTO_HELLO_INTRO_MAX_BYTES);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  check_payload (data, size);
  check_hello (data, size);
  check_intro (data, size);

  return 0;
}
