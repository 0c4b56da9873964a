/* test-frame.c — the 2-byte length framing of Noise messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "sotto-frame.h"

/* A frame of @len bytes, each byte a function of its position and @seed,
 * so that frames from different places never compare equal by accident. */
static GBytes *
make_body (gsize  len,
           guint8 seed)
{
  guint8 *data = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (seed + i * 7);

  return g_bytes_new_take (data, len);
}

static GByteArray *
encode (GBytes *body)
{
  g_autoptr (GError) error = NULL;
  GByteArray *out = g_byte_array_new ();
  gsize len;
  const guint8 *data = g_bytes_get_data (body, &len);

  g_assert_true (sotto_frame_encode (data, len, out, &error));
  g_assert_no_error (error);

  return out;
}

typedef struct
{
  GPtrArray        *frames;    /* GBytes */
  SottoFrameStatus  status;    /* of the last push */
  GError           *error;
} ReadResult;

static void
read_result_clear (ReadResult *result)
{
  g_clear_pointer (&result->frames, g_ptr_array_unref);
  g_clear_error (&result->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ReadResult, read_result_clear)

/* Pushes @data in pieces of @chunk bytes (0: all at once), collecting
 * every frame, until the data is used up or the reader fails. */
static void
read_all (SottoFrameReader *reader,
          const guint8     *data,
          gsize             len,
          gsize             chunk,
          ReadResult       *result)
{
  gsize offset = 0;

  result->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  result->status = SOTTO_FRAME_NEED_MORE;

  while (offset < len)
    {
      gsize piece = chunk == 0 ? len - offset : MIN (chunk, len - offset);
      gsize used = 0;

      while (piece > 0)
        {
          gsize consumed = G_MAXSIZE;

          result->status = sotto_frame_reader_push (reader, data + offset + used, piece,
                                                    &consumed, &result->error);
          g_assert_cmpuint (consumed, <=, piece);
          used += consumed;
          piece -= consumed;

          if (result->status == SOTTO_FRAME_FAILED)
            {
              g_assert_nonnull (result->error);
              return;
            }
          g_assert_no_error (result->error);

          if (result->status == SOTTO_FRAME_READY)
            {
              gsize frame_len = 0;
              const guint8 *frame = sotto_frame_reader_get_frame (reader, &frame_len);

              g_assert_nonnull (frame);
              g_assert_cmpuint (frame_len, >=, 1);
              g_assert_cmpuint (sotto_frame_reader_get_buffered (reader), ==, 0);
              g_ptr_array_add (result->frames, g_bytes_new (frame, frame_len));
            }
          else
            {
              g_assert_cmpuint (piece, ==, 0);
            }
        }

      offset += used;
    }
}

static void
assert_frame (ReadResult *result,
              guint       index,
              GBytes     *expected)
{
  g_assert_cmpuint (result->frames->len, >, index);
  g_assert_true (g_bytes_equal (result->frames->pdata[index], expected));
}

static void
test_encode_limits (void)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GBytes) max = make_body (SOTTO_FRAME_MAX_LEN + 1, 1);
  g_autoptr (GError) error = NULL;
  const guint8 *data = g_bytes_get_data (max, NULL);
  const guint8 one_byte[] = { 0x00, 0x01, 0x2a };

  g_assert_true (sotto_frame_encode ((const guint8 *) "\x2a", 1, out, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (out->data, out->len, one_byte, sizeof one_byte);

  g_byte_array_set_size (out, 0);
  g_assert_true (sotto_frame_encode (data, SOTTO_FRAME_MAX_LEN, out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (out->len, ==, SOTTO_FRAME_HEADER_LEN + SOTTO_FRAME_MAX_LEN);
  g_assert_cmphex (out->data[0], ==, 0xff);
  g_assert_cmphex (out->data[1], ==, 0xff);
  g_assert_cmpmem (out->data + 2, SOTTO_FRAME_MAX_LEN, data, SOTTO_FRAME_MAX_LEN);

  /* Refused frames leave the output alone. */
  g_byte_array_set_size (out, 0);
  g_assert_false (sotto_frame_encode (data, 0, out, &error));
  g_assert_error (error, SOTTO_FRAME_ERROR, SOTTO_FRAME_ERROR_EMPTY);
  g_clear_error (&error);
  g_assert_false (sotto_frame_encode (data, SOTTO_FRAME_MAX_LEN + 1, out, &error));
  g_assert_error (error, SOTTO_FRAME_ERROR, SOTTO_FRAME_ERROR_TOO_LONG);
  g_assert_cmpuint (out->len, ==, 0);
}

static void
test_read_limits (void)
{
  const gsize lengths[] = { 1, 2, 255, 256, SOTTO_FRAME_MAX_LEN - 1, SOTTO_FRAME_MAX_LEN };

  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      g_autoptr (SottoFrameReader) reader = sotto_frame_reader_new (SOTTO_FRAME_MAX_LEN);
      g_autoptr (GBytes) body = make_body (lengths[i], i);
      g_autoptr (GByteArray) wire = encode (body);
      g_auto (ReadResult) result = { 0 };

      read_all (reader, wire->data, wire->len, 0, &result);
      g_assert_cmpint (result.status, ==, SOTTO_FRAME_READY);
      g_assert_cmpuint (result.frames->len, ==, 1);
      assert_frame (&result, 0, body);
    }
}

static void
test_read_empty (void)
{
  g_autoptr (SottoFrameReader) reader = sotto_frame_reader_new (SOTTO_FRAME_MAX_LEN);
  g_autoptr (GError) error = NULL;
  const guint8 wire[] = { 0x00, 0x00, 0x00, 0x01, 0x2a };
  gsize consumed = G_MAXSIZE;

  g_assert_cmpint (sotto_frame_reader_push (reader, wire, sizeof wire, &consumed, &error),
                   ==, SOTTO_FRAME_FAILED);
  g_assert_error (error, SOTTO_FRAME_ERROR, SOTTO_FRAME_ERROR_EMPTY);
  g_assert_cmpuint (consumed, ==, 2);
  g_clear_error (&error);

  /* There is no finding the next frame after a bad header: the valid
   * frame behind it is refused too. */
  g_assert_cmpint (sotto_frame_reader_push (reader, wire + 2, 3, &consumed, &error),
                   ==, SOTTO_FRAME_FAILED);
  g_assert_error (error, SOTTO_FRAME_ERROR, SOTTO_FRAME_ERROR_EMPTY);
  g_assert_cmpuint (consumed, ==, 0);
  g_assert_cmpuint (sotto_frame_reader_get_buffered (reader), ==, 0);
}

static void
test_read_too_long (void)
{
  const struct {
    gsize max_len;
    gsize len;
    gboolean ok;
  } cases[] = {
    { 1, 1, TRUE },
    { 1, 2, FALSE },
    { 1024, 1024, TRUE },
    { 1024, 1025, FALSE },
    { 1024, SOTTO_FRAME_MAX_LEN, FALSE },
    { SOTTO_FRAME_MAX_LEN - 1, SOTTO_FRAME_MAX_LEN - 1, TRUE },
    { SOTTO_FRAME_MAX_LEN - 1, SOTTO_FRAME_MAX_LEN, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SottoFrameReader) reader = sotto_frame_reader_new (cases[i].max_len);
      g_autoptr (GBytes) body = make_body (cases[i].len, i);
      g_autoptr (GByteArray) wire = encode (body);
      g_auto (ReadResult) result = { 0 };

      read_all (reader, wire->data, wire->len, 0, &result);
      if (cases[i].ok)
        {
          g_assert_cmpint (result.status, ==, SOTTO_FRAME_READY);
          assert_frame (&result, 0, body);
        }
      else
        {
          g_assert_cmpint (result.status, ==, SOTTO_FRAME_FAILED);
          g_assert_error (result.error, SOTTO_FRAME_ERROR, SOTTO_FRAME_ERROR_TOO_LONG);
          g_assert_cmpuint (result.frames->len, ==, 0);
        }
    }
}

static void
test_read_lowered_max (void)
{
  g_autoptr (SottoFrameReader) reader = sotto_frame_reader_new (SOTTO_FRAME_MAX_LEN);
  g_autoptr (GBytes) small = make_body (100, 1);
  g_autoptr (GBytes) big = make_body (SOTTO_FRAME_MAX_LEN, 2);
  g_autoptr (GBytes) too_big = make_body (101, 3);
  g_autoptr (GByteArray) wire = NULL;

  /* The handshake: only short messages. */
  sotto_frame_reader_set_max_len (reader, 100);
  g_assert_cmpuint (sotto_frame_reader_get_max_len (reader), ==, 100);
  {
    g_auto (ReadResult) result = { 0 };

    wire = encode (small);
    read_all (reader, wire->data, wire->len, 0, &result);
    g_assert_cmpint (result.status, ==, SOTTO_FRAME_READY);
    assert_frame (&result, 0, small);
    g_clear_pointer (&wire, g_byte_array_unref);
  }

  /* After it, the full size again: the buffer was allocated for it. */
  sotto_frame_reader_set_max_len (reader, SOTTO_FRAME_MAX_LEN);
  {
    g_auto (ReadResult) result = { 0 };

    wire = encode (big);
    read_all (reader, wire->data, wire->len, 1000, &result);
    g_assert_cmpint (result.status, ==, SOTTO_FRAME_READY);
    assert_frame (&result, 0, big);
    g_clear_pointer (&wire, g_byte_array_unref);
  }

  sotto_frame_reader_set_max_len (reader, 100);
  {
    g_auto (ReadResult) result = { 0 };

    wire = encode (too_big);
    read_all (reader, wire->data, wire->len, 0, &result);
    g_assert_cmpint (result.status, ==, SOTTO_FRAME_FAILED);
    g_assert_error (result.error, SOTTO_FRAME_ERROR, SOTTO_FRAME_ERROR_TOO_LONG);
    g_assert_nonnull (strstr (result.error->message, "101"));
  }
}

/* A header that is already in keeps the length it announced. */
static void
test_read_lowered_mid_frame (void)
{
  g_autoptr (SottoFrameReader) reader = sotto_frame_reader_new (1000);
  g_autoptr (GBytes) body = make_body (500, 4);
  g_autoptr (GByteArray) wire = encode (body);
  g_autoptr (GError) error = NULL;
  gsize consumed = 0;
  gsize len = 0;

  g_assert_cmpint (sotto_frame_reader_push (reader, wire->data, 10, &consumed, &error),
                   ==, SOTTO_FRAME_NEED_MORE);
  g_assert_cmpuint (consumed, ==, 10);
  sotto_frame_reader_set_max_len (reader, 10);
  g_assert_cmpint (sotto_frame_reader_push (reader, wire->data + 10, wire->len - 10,
                                            &consumed, &error),
                   ==, SOTTO_FRAME_READY);
  g_assert_no_error (error);
  g_assert_cmpmem (sotto_frame_reader_get_frame (reader, &len), len,
                   g_bytes_get_data (body, NULL), 500);

  /* The next one meets the new limit. */
  g_assert_cmpint (sotto_frame_reader_push (reader, wire->data, wire->len, &consumed, &error),
                   ==, SOTTO_FRAME_FAILED);
  g_assert_error (error, SOTTO_FRAME_ERROR, SOTTO_FRAME_ERROR_TOO_LONG);
}

static GByteArray *
encode_several (GBytes **bodies,
                guint    n)
{
  GByteArray *wire = g_byte_array_new ();

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GByteArray) one = encode (bodies[i]);

      g_byte_array_append (wire, one->data, one->len);
    }

  return wire;
}

static void
test_read_byte_by_byte (void)
{
  g_autoptr (SottoFrameReader) reader = sotto_frame_reader_new (SOTTO_FRAME_MAX_LEN);
  g_autoptr (GBytes) a = make_body (1, 10);
  g_autoptr (GBytes) b = make_body (300, 11);
  g_autoptr (GBytes) c = make_body (2, 12);
  GBytes *bodies[] = { a, b, c };
  g_autoptr (GByteArray) wire = encode_several (bodies, G_N_ELEMENTS (bodies));
  g_autoptr (GError) error = NULL;
  guint n_frames = 0;
  gsize frame_start = 0;

  for (gsize i = 0; i < wire->len; i++)
    {
      gsize consumed = G_MAXSIZE;
      SottoFrameStatus status;

      status = sotto_frame_reader_push (reader, wire->data + i, 1, &consumed, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (consumed, ==, 1);

      if (status == SOTTO_FRAME_READY)
        {
          gsize len = 0;
          const guint8 *frame = sotto_frame_reader_get_frame (reader, &len);
          gsize expected_len;
          const guint8 *expected = g_bytes_get_data (bodies[n_frames], &expected_len);

          g_assert_cmpmem (frame, len, expected, expected_len);
          g_assert_cmpuint (i + 1 - frame_start, ==, SOTTO_FRAME_HEADER_LEN + expected_len);
          n_frames++;
          frame_start = i + 1;
        }
      else
        {
          g_assert_cmpint (status, ==, SOTTO_FRAME_NEED_MORE);
          /* Everything of the unfinished frame, its header included. */
          g_assert_cmpuint (sotto_frame_reader_get_buffered (reader), ==, i + 1 - frame_start);
        }
    }

  g_assert_cmpuint (n_frames, ==, 3);
  g_assert_cmpuint (sotto_frame_reader_get_buffered (reader), ==, 0);
}

static void
test_read_split_header (void)
{
  g_autoptr (SottoFrameReader) reader = sotto_frame_reader_new (SOTTO_FRAME_MAX_LEN);
  g_autoptr (GBytes) body = make_body (258, 13);
  g_autoptr (GByteArray) wire = encode (body);
  g_autoptr (GError) error = NULL;
  gsize consumed = G_MAXSIZE;
  gsize len = 0;

  g_assert_cmphex (wire->data[0], ==, 0x01);
  g_assert_cmphex (wire->data[1], ==, 0x02);

  g_assert_cmpint (sotto_frame_reader_push (reader, wire->data, 1, &consumed, &error),
                   ==, SOTTO_FRAME_NEED_MORE);
  g_assert_cmpuint (consumed, ==, 1);
  g_assert_cmpuint (sotto_frame_reader_get_buffered (reader), ==, 1);

  /* An empty push changes nothing. */
  g_assert_cmpint (sotto_frame_reader_push (reader, NULL, 0, &consumed, &error),
                   ==, SOTTO_FRAME_NEED_MORE);
  g_assert_cmpuint (consumed, ==, 0);
  g_assert_cmpuint (sotto_frame_reader_get_buffered (reader), ==, 1);

  g_assert_cmpint (sotto_frame_reader_push (reader, wire->data + 1, wire->len - 1,
                                            &consumed, &error),
                   ==, SOTTO_FRAME_READY);
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, wire->len - 1);
  g_assert_cmpmem (sotto_frame_reader_get_frame (reader, &len), len,
                   g_bytes_get_data (body, NULL), 258);
}

static void
test_read_several_in_one_push (void)
{
  g_autoptr (SottoFrameReader) reader = sotto_frame_reader_new (SOTTO_FRAME_MAX_LEN);
  g_autoptr (GBytes) a = make_body (5, 20);
  g_autoptr (GBytes) b = make_body (1, 21);
  g_autoptr (GBytes) c = make_body (SOTTO_FRAME_MAX_LEN, 22);
  g_autoptr (GBytes) d = make_body (70, 23);
  GBytes *bodies[] = { a, b, c, d };
  g_autoptr (GByteArray) wire = encode_several (bodies, G_N_ELEMENTS (bodies));
  g_auto (ReadResult) result = { 0 };
  gsize consumed = G_MAXSIZE;
  g_autoptr (GError) error = NULL;

  /* All at once, and the last frame cut short. */
  read_all (reader, wire->data, wire->len - 10, 0, &result);
  g_assert_cmpint (result.status, ==, SOTTO_FRAME_NEED_MORE);
  g_assert_cmpuint (result.frames->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    assert_frame (&result, i, bodies[i]);
  g_assert_cmpuint (sotto_frame_reader_get_buffered (reader), ==, 2 + 60);

  g_assert_cmpint (sotto_frame_reader_push (reader, wire->data + wire->len - 10, 10,
                                            &consumed, &error),
                   ==, SOTTO_FRAME_READY);
  g_assert_cmpuint (consumed, ==, 10);
}

static void
test_read_chunk_sizes (void)
{
  g_autoptr (GBytes) a = make_body (3, 30);
  g_autoptr (GBytes) b = make_body (1000, 31);
  g_autoptr (GBytes) c = make_body (1, 32);
  GBytes *bodies[] = { a, b, c };
  g_autoptr (GByteArray) wire = encode_several (bodies, G_N_ELEMENTS (bodies));
  const gsize chunks[] = { 1, 2, 3, 4, 5, 7, 999, 1000, 1001, 1002, 1003, 4096 };

  for (guint i = 0; i < G_N_ELEMENTS (chunks); i++)
    {
      g_autoptr (SottoFrameReader) reader = sotto_frame_reader_new (1000);
      g_auto (ReadResult) result = { 0 };

      read_all (reader, wire->data, wire->len, chunks[i], &result);
      g_assert_cmpint (result.status, ==, SOTTO_FRAME_READY);
      g_assert_cmpuint (result.frames->len, ==, 3);
      for (guint j = 0; j < 3; j++)
        assert_frame (&result, j, bodies[j]);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/frame/encode/limits", test_encode_limits);
  g_test_add_func ("/frame/read/limits", test_read_limits);
  g_test_add_func ("/frame/read/empty", test_read_empty);
  g_test_add_func ("/frame/read/too-long", test_read_too_long);
  g_test_add_func ("/frame/read/lowered-max", test_read_lowered_max);
  g_test_add_func ("/frame/read/lowered-mid-frame", test_read_lowered_mid_frame);
  g_test_add_func ("/frame/read/byte-by-byte", test_read_byte_by_byte);
  g_test_add_func ("/frame/read/split-header", test_read_split_header);
  g_test_add_func ("/frame/read/several-in-one-push", test_read_several_in_one_push);
  g_test_add_func ("/frame/read/chunk-sizes", test_read_chunk_sizes);

  return g_test_run ();
}
