/* fuzz-frame.c — the frame reader against a one-shot reference parser
 *
 * Input: byte 0 sets a small limit (1..256), byte 1 seeds the chunk sizes,
 * the rest is the stream from the peer. The stream is pushed in pieces of
 * pseudo-random size through readers with the full limit and the small
 * one (set at creation, and lowered after creation); every frame, the
 * failure and the bytes left over must be exactly what the reference
 * parser finds reading the whole stream at once.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "fuzz-common.h"
#include "sotto-frame.h"

#define CHUNK_MAX_SHIFT 12   /* pieces of up to 4 KiB */

typedef struct
{
  const guint8 *stream;
  gsize         len;
  gsize         max_len;
  gsize         pos;       /* start of the next frame's header */
} Reference;

typedef enum
{
  REF_FRAME,
  REF_END,       /* no complete frame left; len - pos bytes are buffered */
  REF_FAILED,
} RefResult;

/* The wire rules, read straight off the spec. */
static RefResult
reference_next (Reference    *ref,
                const guint8 **frame,
                gsize         *frame_len,
                int           *code)
{
  gsize len;

  if (ref->len - ref->pos < SOTTO_FRAME_HEADER_LEN)
    return REF_END;

  len = (gsize) ref->stream[ref->pos] << 8 | ref->stream[ref->pos + 1];
  if (len == 0)
    {
      *code = SOTTO_FRAME_ERROR_EMPTY;
      return REF_FAILED;
    }
  if (len > ref->max_len)
    {
      *code = SOTTO_FRAME_ERROR_TOO_LONG;
      return REF_FAILED;
    }
  if (ref->len - ref->pos - SOTTO_FRAME_HEADER_LEN < len)
    return REF_END;

  *frame = ref->stream + ref->pos + SOTTO_FRAME_HEADER_LEN;
  *frame_len = len;
  ref->pos += SOTTO_FRAME_HEADER_LEN + len;

  return REF_FRAME;
}

static guint32
next_random (guint32 *state)
{
  /* xorshift32: deterministic, so a crash replays exactly. */
  *state ^= *state << 13;
  *state ^= *state >> 17;
  *state ^= *state << 5;
  return *state;
}

static void
check_reader (SottoFrameReader *reader,
              const guint8     *stream,
              gsize             len,
              gsize             max_len,
              guint8            seed)
{
  Reference ref = { stream, len, max_len, 0 };
  guint32 random = 0x9e3779b9u ^ seed;
  gsize offset = 0;
  gboolean failed = FALSE;

  while (offset < len && !failed)
    {
      guint shift = next_random (&random) % CHUNK_MAX_SHIFT;
      gsize piece = 1 + next_random (&random) % (1u << shift);
      gsize used = 0;

      /* Not inside MIN(), which would draw a second number. */
      piece = MIN (piece, len - offset);

      while (used < piece)
        {
          g_autoptr (GError) error = NULL;
          gsize consumed = G_MAXSIZE;
          SottoFrameStatus status;
          const guint8 *expected = NULL;
          gsize expected_len = 0;
          int code = -1;
          RefResult result;

          status = sotto_frame_reader_push (reader, stream + offset + used, piece - used,
                                            &consumed, &error);
          FUZZ_CHECK (consumed <= piece - used);
          used += consumed;

          switch (status)
            {
            case SOTTO_FRAME_READY:
              {
                const guint8 *frame;
                gsize frame_len = 0;
                g_autoptr (GByteArray) again = g_byte_array_new ();

                FUZZ_CHECK (error == NULL);
                result = reference_next (&ref, &expected, &expected_len, &code);
                FUZZ_CHECK (result == REF_FRAME);
                /* The frame ends exactly where the reader stopped. */
                FUZZ_CHECK (ref.pos == offset + used);
                frame = sotto_frame_reader_get_frame (reader, &frame_len);
                FUZZ_CHECK (frame != NULL);
                FUZZ_CHECK (frame_len == expected_len && frame_len >= 1 && frame_len <= max_len);
                FUZZ_CHECK (memcmp (frame, expected, frame_len) == 0);
                FUZZ_CHECK (sotto_frame_reader_get_buffered (reader) == 0);

                /* Writing it again gives the same bytes. */
                FUZZ_CHECK (sotto_frame_encode (frame, frame_len, again, NULL));
                FUZZ_CHECK (again->len == SOTTO_FRAME_HEADER_LEN + frame_len);
                FUZZ_CHECK (memcmp (again->data, expected - SOTTO_FRAME_HEADER_LEN,
                                    again->len) == 0);
              }
              break;

            case SOTTO_FRAME_NEED_MORE:
              FUZZ_CHECK (error == NULL);
              FUZZ_CHECK (used == piece);
              break;

            case SOTTO_FRAME_FAILED:
              result = reference_next (&ref, &expected, &expected_len, &code);
              FUZZ_CHECK (result == REF_FAILED);
              FUZZ_CHECK (g_error_matches (error, SOTTO_FRAME_ERROR, code));
              /* It stopped right after the bad header. */
              FUZZ_CHECK (offset + used == ref.pos + SOTTO_FRAME_HEADER_LEN);
              FUZZ_CHECK (sotto_frame_reader_get_buffered (reader) == 0);
              failed = TRUE;
              break;

            default:
              FUZZ_CHECK (!"unknown status");
            }

          if (failed)
            break;
        }

      offset += used;
    }

  if (failed)
    {
      g_autoptr (GError) error = NULL;
      gsize consumed = G_MAXSIZE;

      /* Failed for good, even on a valid frame. */
      FUZZ_CHECK (sotto_frame_reader_push (reader, (const guint8 *) "\x00\x01x", 3,
                                           &consumed, &error) == SOTTO_FRAME_FAILED);
      FUZZ_CHECK (consumed == 0);
      FUZZ_CHECK (error != NULL && error->domain == SOTTO_FRAME_ERROR);
    }
  else
    {
      const guint8 *expected = NULL;
      gsize expected_len = 0;
      int code = -1;
      RefResult result = reference_next (&ref, &expected, &expected_len, &code);

      /* What is left is the start of one frame, and the reader holds it. */
      FUZZ_CHECK (result == REF_END);
      FUZZ_CHECK (sotto_frame_reader_get_buffered (reader) == len - ref.pos);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  gsize small_max;
  guint8 seed;

  if (size < 2)
    return 0;

  small_max = (gsize) data[0] + 1;
  seed = data[1];
  data += 2;
  size -= 2;

  {
    g_autoptr (SottoFrameReader) reader = sotto_frame_reader_new (SOTTO_FRAME_MAX_LEN);

    check_reader (reader, data, size, SOTTO_FRAME_MAX_LEN, seed);
  }
  {
    g_autoptr (SottoFrameReader) reader = sotto_frame_reader_new (small_max);

    check_reader (reader, data, size, small_max, seed + 1);
  }
  {
    g_autoptr (SottoFrameReader) reader = sotto_frame_reader_new (SOTTO_FRAME_MAX_LEN);

    sotto_frame_reader_set_max_len (reader, small_max);
    check_reader (reader, data, size, small_max, seed + 2);
  }

  return 0;
}
