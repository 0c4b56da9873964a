/* test-qr.c — QR matrices from libqrencode, as the front ends draw them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "sotto-core.h"

/* Modules per side of a version's symbol, without the quiet zone. */
static guint
symbol_width (guint version)
{
  return 17 + 4 * version;
}

/* A finder pattern: a dark 7 × 7 ring, a light ring, a dark 3 × 3 core,
 * with (x, y) its top-left corner in the matrix. */
static gboolean
is_finder_at (const SottoQr *qr,
              guint          x,
              guint          y)
{
  for (guint dy = 0; dy < 7; dy++)
    for (guint dx = 0; dx < 7; dx++)
      {
        guint ring = MIN (MIN (dx, dy), MIN (6 - dx, 6 - dy));

        if (sotto_qr_get_module (qr, x + dx, y + dy) != (ring != 1))
          return FALSE;
      }

  return TRUE;
}

static void
assert_quiet_zone (const SottoQr *qr)
{
  guint size = sotto_qr_get_size (qr);

  for (guint y = 0; y < size; y++)
    for (guint x = 0; x < size; x++)
      if (x < SOTTO_QR_QUIET_ZONE || y < SOTTO_QR_QUIET_ZONE ||
          x >= size - SOTTO_QR_QUIET_ZONE || y >= size - SOTTO_QR_QUIET_ZONE)
        g_assert_false (sotto_qr_get_module (qr, x, y));
}

/* The 15 format bits next to the top-left finder (ISO/IEC 18004, 7.9):
 * they say which error correction level the symbol was made with. */
static guint
read_format_bits (const SottoQr *qr)
{
  const guint q = SOTTO_QR_QUIET_ZONE;
  guint bits = 0;

  for (guint i = 0; i <= 5; i++)
    bits |= (guint)sotto_qr_get_module (qr, q + 8, q + i) << i;
  bits |= (guint)sotto_qr_get_module (qr, q + 8, q + 7) << 6;
  bits |= (guint)sotto_qr_get_module (qr, q + 8, q + 8) << 7;
  bits |= (guint)sotto_qr_get_module (qr, q + 7, q + 8) << 8;
  for (guint i = 9; i < 15; i++)
    bits |= (guint)sotto_qr_get_module (qr, q + 14 - i, q + 8) << i;

  return bits ^ 0x5412;
}

static void
assert_level_m (const SottoQr *qr)
{
  guint bits = read_format_bits (qr);
  guint data = bits >> 10;
  guint rem = data;

  /* A readable BCH(15,5) code word, so the bits were found where they are. */
  for (guint i = 0; i < 10; i++)
    rem = (rem << 1) ^ ((rem >> 9) * 0x537);
  g_assert_cmphex ((data << 10) | (rem & 0x3ff), ==, bits);

  /* Level indicator: L 01, M 00, Q 11, H 10. */
  g_assert_cmpuint (data >> 3, ==, 0);
}

static void
assert_well_formed (const SottoQr *qr)
{
  guint version = sotto_qr_get_version (qr);
  guint width = symbol_width (version);
  const guint q = SOTTO_QR_QUIET_ZONE;

  g_assert_cmpuint (sotto_qr_get_size (qr), ==, width + 2 * q);
  assert_quiet_zone (qr);
  g_assert_true (is_finder_at (qr, q, q));
  g_assert_true (is_finder_at (qr, q + width - 7, q));
  g_assert_true (is_finder_at (qr, q, q + width - 7));
  g_assert_false (is_finder_at (qr, q + width - 7, q + width - 7));
  /* The timing patterns alternate between the finders. */
  for (guint i = 8; i < width - 8; i++)
    {
      g_assert_cmpint (sotto_qr_get_module (qr, q + i, q + 6), ==, i % 2 == 0);
      g_assert_cmpint (sotto_qr_get_module (qr, q + 6, q + i), ==, i % 2 == 0);
    }
  /* The dark module every symbol has, next to the bottom-left finder. */
  g_assert_true (sotto_qr_get_module (qr, q + 8, q + width - 8));
  assert_level_m (qr);
}

static void
test_qr_small (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoQr) qr = sotto_qr_encode ("HELLO", &error);

  g_assert_no_error (error);
  g_assert_nonnull (qr);
  g_assert_cmpstr (sotto_qr_get_text (qr), ==, "HELLO");
  g_assert_cmpuint (sotto_qr_get_version (qr), ==, 1);
  g_assert_cmpuint (sotto_qr_get_size (qr), ==, 21 + 8);
  assert_well_formed (qr);
}

/* A safety number's 60 digits fit version 2 at level M (63 digits) in
 * numeric mode; in 8-bit mode they would need version 4. */
static void
test_qr_digits (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoQr) qr = NULL;
  GString *digits = g_string_new (NULL);

  for (guint i = 0; i < SOTTO_SAFETY_NUMBER_DIGITS; i++)
    g_string_append_c (digits, '0' + (i * 7) % 10);
  qr = sotto_qr_encode (digits->str, &error);
  g_string_free (digits, TRUE);

  g_assert_no_error (error);
  g_assert_cmpuint (sotto_qr_get_version (qr), ==, 2);
  g_assert_cmpuint (sotto_qr_get_size (qr), ==, 25 + 8);
  assert_well_formed (qr);
}

static void
test_qr_utf8 (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoQr) qr = sotto_qr_encode ("sotto:invite?name=J%C3%BCrgen&n=Jürgen", &error);

  g_assert_no_error (error);
  assert_well_formed (qr);
}

/* Version 40 at level M holds 2331 bytes in 8-bit mode; one more is an error. */
static void
test_qr_too_long (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoQr) largest = NULL;
  g_autoptr (SottoQr) too_long = NULL;
  g_autofree char *text = g_malloc (2333);

  memset (text, 'a', 2331);
  text[2331] = '\0';
  largest = sotto_qr_encode (text, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sotto_qr_get_version (largest), ==, 40);
  g_assert_cmpuint (sotto_qr_get_size (largest), ==, 177 + 8);
  assert_well_formed (largest);

  text[2331] = 'a';
  text[2332] = '\0';
  too_long = sotto_qr_encode (text, &error);
  g_assert_error (error, SOTTO_QR_ERROR, SOTTO_QR_ERROR_TOO_LONG);
  g_assert_null (too_long);
  g_assert_nonnull (strstr (error->message, "2332"));
}

static void
test_qr_empty (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoQr) qr = sotto_qr_encode ("", &error);

  g_assert_error (error, SOTTO_QR_ERROR, SOTTO_QR_ERROR_FAILED);
  g_assert_null (qr);
}

static void
test_qr_boxed (void)
{
  g_autoptr (SottoQr) qr = sotto_qr_encode ("boxed", NULL);
  SottoQr *copy;

  g_assert_true (G_TYPE_IS_BOXED (SOTTO_TYPE_QR));
  copy = g_boxed_copy (SOTTO_TYPE_QR, qr);
  g_assert_true (copy == qr);
  g_boxed_free (SOTTO_TYPE_QR, copy);
  g_assert_cmpstr (sotto_qr_get_text (qr), ==, "boxed");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/qr/encode/small", test_qr_small);
  g_test_add_func ("/qr/encode/digits", test_qr_digits);
  g_test_add_func ("/qr/encode/utf8", test_qr_utf8);
  g_test_add_func ("/qr/encode/too-long", test_qr_too_long);
  g_test_add_func ("/qr/encode/empty", test_qr_empty);
  g_test_add_func ("/qr/boxed", test_qr_boxed);

  return g_test_run ();
}
