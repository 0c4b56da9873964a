/* sotto-frame.h — the wire framing: a 2-byte big-endian length before
 * every Noise message
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* See PROTOCOL.md, "Framing". A Noise message is at most 65535 bytes, so
 * the length always fits the header. */
#define SOTTO_FRAME_HEADER_LEN 2
#define SOTTO_FRAME_MAX_LEN    65535

#define SOTTO_FRAME_ERROR (sotto_frame_error_quark ())

typedef enum
{
  SOTTO_FRAME_ERROR_EMPTY,
  SOTTO_FRAME_ERROR_TOO_LONG,
} SottoFrameError;

typedef enum
{
  SOTTO_FRAME_NEED_MORE,
  SOTTO_FRAME_READY,
  SOTTO_FRAME_FAILED,
} SottoFrameStatus;

typedef struct _SottoFrameReader SottoFrameReader;

GQuark            sotto_frame_error_quark          (void);

SottoFrameReader *sotto_frame_reader_new           (gsize              max_len);
void              sotto_frame_reader_set_max_len   (SottoFrameReader  *reader,
                                                    gsize              max_len);
gsize             sotto_frame_reader_get_max_len   (SottoFrameReader  *reader);
SottoFrameStatus  sotto_frame_reader_push          (SottoFrameReader  *reader,
                                                    const guint8      *data,
                                                    gsize              len,
                                                    gsize             *consumed,
                                                    GError           **error);
SottoFrameStatus  sotto_frame_reader_next          (SottoFrameReader  *reader,
                                                    guint8            *data,
                                                    gsize              len,
                                                    gsize             *consumed,
                                                    guint8           **frame,
                                                    gsize             *frame_len,
                                                    GError           **error);
const guint8     *sotto_frame_reader_get_frame     (SottoFrameReader  *reader,
                                                    gsize             *len);
gsize             sotto_frame_reader_get_buffered  (SottoFrameReader  *reader);
void              sotto_frame_reader_free          (SottoFrameReader  *reader);

gboolean          sotto_frame_encode               (const guint8      *data,
                                                    gsize              len,
                                                    GByteArray        *out,
                                                    GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoFrameReader, sotto_frame_reader_free)

G_END_DECLS
