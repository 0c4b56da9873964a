/* sotto-frame.c
 *
 * The first code to see a peer's bytes. The only number the peer controls
 * here is the 16-bit length, and it is checked against the reader's limit
 * before a single byte of the frame is stored: the buffer is allocated
 * once, at the size the owner chose, never at a size the peer asked for.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "sotto-frame"

#include "config.h"

#include <string.h>

#include "sotto-frame.h"

/* The header can say nothing larger. */
G_STATIC_ASSERT (SOTTO_FRAME_MAX_LEN == (1 << (8 * SOTTO_FRAME_HEADER_LEN)) - 1);

struct _SottoFrameReader
{
  /* limits */
  gsize    capacity;  /* size of @buffer: the max_len given to _new() */
  gsize    max_len;   /* 1..capacity, applied to each header as it completes */

  /* the frame being read */
  guint8   header[SOTTO_FRAME_HEADER_LEN];
  gsize    header_len;
  gsize    frame_len; /* set once the header is complete */
  gsize    body_len;  /* bytes of the frame held in @buffer */
  guint8  *buffer;
  gboolean ready;     /* the last push completed the frame in @buffer */

  /* A bad length leaves no way to find the next frame: the reader stays
   * failed and reports the same error again. */
  GError  *failure;
};

G_DEFINE_QUARK (sotto-frame-error-quark, sotto_frame_error)

static void
start_next_frame (SottoFrameReader *reader)
{
  reader->header_len = 0;
  reader->frame_len = 0;
  reader->body_len = 0;
  reader->ready = FALSE;
}

static SottoFrameStatus
fail (SottoFrameReader  *reader,
      GError            *failure,
      GError           **error)
{
  start_next_frame (reader);
  reader->failure = failure;
  g_propagate_error (error, g_error_copy (failure));

  return SOTTO_FRAME_FAILED;
}

/**
 * sotto_frame_reader_new:
 * @max_len: the longest frame accepted, 1 to %SOTTO_FRAME_MAX_LEN
 *
 * Creates a reader with a buffer of @max_len bytes, allocated when the
 * first frame is stored and never grown. sotto_frame_reader_set_max_len() can lower the limit later,
 * and raise it again up to @max_len.
 *
 * Returns: (transfer full): a new reader
 */
SottoFrameReader *
sotto_frame_reader_new (gsize max_len)
{
  SottoFrameReader *reader;

  g_return_val_if_fail (max_len >= 1 && max_len <= SOTTO_FRAME_MAX_LEN, NULL);

  reader = g_new0 (SottoFrameReader, 1);
  reader->capacity = max_len;
  reader->max_len = max_len;

  return reader;
}

/**
 * sotto_frame_reader_set_max_len:
 * @reader: a reader
 * @max_len: the longest frame accepted from now on, 1 to the max_len the
 *   reader was created with
 *
 * A session lowers the limit while the handshake runs, so that a peer
 * that has not proved who it is cannot make us buffer much. The new limit
 * applies to every header completed after this call; a frame whose header
 * is already in keeps the length it announced.
 */
void
sotto_frame_reader_set_max_len (SottoFrameReader *reader,
                                gsize             max_len)
{
  g_return_if_fail (reader != NULL);
  g_return_if_fail (max_len >= 1 && max_len <= reader->capacity);

  reader->max_len = max_len;
}

gsize
sotto_frame_reader_get_max_len (SottoFrameReader *reader)
{
  g_return_val_if_fail (reader != NULL, 0);

  return reader->max_len;
}

/**
 * sotto_frame_reader_push:
 * @reader: a reader
 * @data: (array length=len) (nullable): bytes from the peer
 * @len: the number of bytes in @data
 * @consumed: (out): how many bytes of @data were used
 * @error: return location for a #SOTTO_FRAME_ERROR
 *
 * Feeds bytes as they arrive, in pieces of any size.
 *
 * Returns: %SOTTO_FRAME_NEED_MORE when all of @data was used without
 *   completing a frame; %SOTTO_FRAME_READY when a frame is complete: take
 *   it with sotto_frame_reader_get_frame(), then push the rest of @data
 *   (from @consumed on); %SOTTO_FRAME_FAILED when a header announced 0
 *   bytes or more than the limit, now and for every later push
 */
SottoFrameStatus
sotto_frame_reader_push (SottoFrameReader  *reader,
                         const guint8      *data,
                         gsize              len,
                         gsize             *consumed,
                         GError           **error)
{
  gsize used = 0;
  gsize n;

  g_return_val_if_fail (reader != NULL, SOTTO_FRAME_FAILED);
  g_return_val_if_fail (data != NULL || len == 0, SOTTO_FRAME_FAILED);
  g_return_val_if_fail (consumed != NULL, SOTTO_FRAME_FAILED);
  g_return_val_if_fail (error == NULL || *error == NULL, SOTTO_FRAME_FAILED);

  *consumed = 0;

  if (reader->failure != NULL)
    {
      g_propagate_error (error, g_error_copy (reader->failure));
      return SOTTO_FRAME_FAILED;
    }

  if (reader->ready)
    start_next_frame (reader);

  if (reader->header_len < SOTTO_FRAME_HEADER_LEN)
    {
      n = MIN (SOTTO_FRAME_HEADER_LEN - reader->header_len, len);
      if (n > 0)
        memcpy (reader->header + reader->header_len, data, n);
      reader->header_len += n;
      used = n;
      *consumed = used;

      if (reader->header_len < SOTTO_FRAME_HEADER_LEN)
        return SOTTO_FRAME_NEED_MORE;

      reader->frame_len = (gsize) reader->header[0] << 8 | reader->header[1];

      if (reader->frame_len == 0)
        return fail (reader,
                     g_error_new_literal (SOTTO_FRAME_ERROR, SOTTO_FRAME_ERROR_EMPTY,
                                          "frame header announces an empty frame"),
                     error);

      if (reader->frame_len > reader->max_len)
        return fail (reader,
                     g_error_new (SOTTO_FRAME_ERROR, SOTTO_FRAME_ERROR_TOO_LONG,
                                  "frame header announces %" G_GSIZE_FORMAT " bytes, "
                                  "at most %" G_GSIZE_FORMAT " allowed",
                                  reader->frame_len, reader->max_len),
                     error);
    }

  /* max_len never exceeds the capacity, and a header is only accepted
   * within max_len. */
  g_assert (reader->frame_len <= reader->capacity);
  g_assert (reader->body_len < reader->frame_len);

  n = MIN (reader->frame_len - reader->body_len, len - used);
  if (n > 0)
    {
      /* At the size the owner chose, the first time a frame is stored:
       * sotto_frame_reader_next() may never need it. */
      if (reader->buffer == NULL)
        reader->buffer = g_malloc (reader->capacity);
      memcpy (reader->buffer + reader->body_len, data + used, n);
    }
  reader->body_len += n;
  used += n;
  *consumed = used;

  if (reader->body_len < reader->frame_len)
    return SOTTO_FRAME_NEED_MORE;

  reader->ready = TRUE;
  return SOTTO_FRAME_READY;
}

/**
 * sotto_frame_reader_next:
 * @reader: a reader
 * @data: (array length=len) (nullable): bytes from the peer, in a buffer
 *   of the caller's that a frame may be handed out of
 * @len: the number of bytes in @data
 * @consumed: (out): how many bytes of @data were used
 * @frame: (out) (transfer none): the frame when %SOTTO_FRAME_READY is
 *   returned, without its header
 * @frame_len: (out): its length, 1 to the limit
 * @error: return location for a #SOTTO_FRAME_ERROR
 *
 * sotto_frame_reader_push() that copies only what it must: a frame that
 * lies whole in @data is handed out where it is, and only a frame split
 * between two pieces of input is gathered in the reader's buffer. The
 * frame may be changed in place (decrypted); it is valid until the next
 * call, and, when in @data, as long as @data is.
 *
 * Returns: as sotto_frame_reader_push(), with the same checks and errors
 */
SottoFrameStatus
sotto_frame_reader_next (SottoFrameReader  *reader,
                         guint8            *data,
                         gsize              len,
                         gsize             *consumed,
                         guint8           **frame,
                         gsize             *frame_len,
                         GError           **error)
{
  SottoFrameStatus status;

  g_return_val_if_fail (reader != NULL, SOTTO_FRAME_FAILED);
  g_return_val_if_fail (data != NULL || len == 0, SOTTO_FRAME_FAILED);
  g_return_val_if_fail (consumed != NULL, SOTTO_FRAME_FAILED);
  g_return_val_if_fail (frame != NULL && frame_len != NULL, SOTTO_FRAME_FAILED);
  g_return_val_if_fail (error == NULL || *error == NULL, SOTTO_FRAME_FAILED);

  *consumed = 0;
  *frame = NULL;
  *frame_len = 0;

  if (reader->ready)
    start_next_frame (reader);

  /* Nothing held, a whole frame within the limit in @data. Any other
   * header, the failures included, is push()'s to judge. */
  if (reader->failure == NULL && reader->header_len == 0 && len >= SOTTO_FRAME_HEADER_LEN)
    {
      gsize announced = (gsize) data[0] << 8 | data[1];

      if (announced > 0 && announced <= reader->max_len &&
          len - SOTTO_FRAME_HEADER_LEN >= announced)
        {
          *consumed = SOTTO_FRAME_HEADER_LEN + announced;
          *frame = data + SOTTO_FRAME_HEADER_LEN;
          *frame_len = announced;
          return SOTTO_FRAME_READY;
        }
    }

  status = sotto_frame_reader_push (reader, data, len, consumed, error);
  if (status == SOTTO_FRAME_READY)
    {
      *frame = reader->buffer;
      *frame_len = reader->frame_len;
    }

  return status;
}

/**
 * sotto_frame_reader_get_frame:
 * @reader: a reader whose last push returned %SOTTO_FRAME_READY
 * @len: (out): the length of the frame, 1 to the limit
 *
 * Returns: (transfer none) (array length=len): the frame, without its
 *   header; valid until the next push
 */
const guint8 *
sotto_frame_reader_get_frame (SottoFrameReader *reader,
                              gsize            *len)
{
  g_return_val_if_fail (reader != NULL, NULL);
  g_return_val_if_fail (len != NULL, NULL);

  *len = 0;
  g_return_val_if_fail (reader->ready, NULL);

  *len = reader->frame_len;
  return reader->buffer;
}

/**
 * sotto_frame_reader_get_buffered:
 * @reader: a reader
 *
 * Returns: how many bytes of an incomplete frame (header included) the
 *   reader holds: not 0 when the peer closes means it sent a truncated frame
 */
gsize
sotto_frame_reader_get_buffered (SottoFrameReader *reader)
{
  g_return_val_if_fail (reader != NULL, 0);

  if (reader->ready || reader->failure != NULL)
    return 0;

  return reader->header_len + reader->body_len;
}

void
sotto_frame_reader_free (SottoFrameReader *reader)
{
  if (reader == NULL)
    return;

  g_clear_error (&reader->failure);
  g_free (reader->buffer);
  g_free (reader);
}

/**
 * sotto_frame_encode:
 * @data: (array length=len): one Noise message
 * @len: its length, 1 to %SOTTO_FRAME_MAX_LEN
 * @out: where the header and @data are appended
 * @error: return location for a #SOTTO_FRAME_ERROR
 *
 * Returns: %TRUE if the frame was appended; %FALSE, with @out unchanged,
 *   if @len cannot be framed
 */
gboolean
sotto_frame_encode (const guint8  *data,
                    gsize          len,
                    GByteArray    *out,
                    GError       **error)
{
  guint8 header[SOTTO_FRAME_HEADER_LEN];

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len == 0)
    {
      g_set_error_literal (error, SOTTO_FRAME_ERROR, SOTTO_FRAME_ERROR_EMPTY,
                           "a frame cannot be empty");
      return FALSE;
    }

  if (len > SOTTO_FRAME_MAX_LEN)
    {
      g_set_error (error, SOTTO_FRAME_ERROR, SOTTO_FRAME_ERROR_TOO_LONG,
                   "a frame of %" G_GSIZE_FORMAT " bytes is too long, at most %d",
                   len, SOTTO_FRAME_MAX_LEN);
      return FALSE;
    }

  header[0] = len >> 8;
  header[1] = len & 0xff;
  g_byte_array_append (out, header, SOTTO_FRAME_HEADER_LEN);
  g_byte_array_append (out, data, (guint) len);

  return TRUE;
}
