/* fuzz-file.c — the file guard on any name, any archive's end, any content
 *
 * Whatever a sender calls a file and puts in it, the name it is saved as
 * must be safe, a ZIP archive's list of entries must be read within its
 * bounds, and every verdict must keep its promises.
 *
 * The input's first byte picks what the rest is, by its value modulo 3:
 * 0 a file name, 1 the end of a ZIP archive, 2 a file's content; for a
 * content, the byte divided by 3 picks the name (modulo 5) and what the
 * scanner said (divided by 5, modulo 4).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "fuzz-common.h"
#include "sotto-file-guard.h"

enum
{
  MODE_NAME,
  MODE_ZIP_TAIL,
  MODE_CONTENT,
  N_MODES
};

static const char * const content_names[] = {
  "received.bin", "report.pdf", "photos.zip", "setup.exe", "notes.txt",
};

static const SottoScanResult scans[] = {
  SOTTO_SCAN_CLEAN, SOTTO_SCAN_NOT_SCANNED, SOTTO_SCAN_INFECTED, SOTTO_SCAN_FAILED,
};

static const char * const device_names[] = {
  "CON", "PRN", "AUX", "NUL",
  "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
  "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
};

static const char * const kinds[] = {
  "elf", "pe", "mach-o", "script", "desktop-entry", "java", "zip", "ooxml", "odf", "ole",
  "archive", "pdf", "image", "text", "empty", "unknown",
};

/* A name saved with one of these would hide, reorder or break itself. */
static gboolean
is_forbidden (gunichar c)
{
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) ||                      /* controls */
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
         c == 0x200E || c == 0x200F || c == 0x061C ||                  /* bidi controls */
         (c >= 0x200B && c <= 0x200D) || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF ||
         c == 0x00AD || c == 0x180E || (c >= 0xFE00 && c <= 0xFE0F) ||
         (c >= 0xE0000 && c <= 0xE007F) ||                             /* invisible */
         c == '/' || c == '\\' ||
         (c < 0x80 && strchr ("<>:\"|?*", (int) c) != NULL);
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

static void
check_safe_name (const char *safe_name)
{
  FUZZ_CHECK (safe_name != NULL);
  FUZZ_CHECK (safe_name[0] != '\0');
  FUZZ_CHECK (safe_name[0] != '.');
  FUZZ_CHECK (strlen (safe_name) <= SOTTO_FILE_NAME_MAX);
  FUZZ_CHECK (g_utf8_validate (safe_name, -1, NULL));
  for (const char *p = safe_name; *p != '\0'; p = g_utf8_next_char (p))
    FUZZ_CHECK (!is_forbidden (g_utf8_get_char (p)));
  FUZZ_CHECK (!is_device_name (safe_name));
}

static void
check_verdict (const SottoFileVerdict *verdict,
               const char             *name,
               const SottoFileContent *content)
{
  g_autofree char *valid = g_utf8_make_valid (name, -1);
  g_autofree char *safe_name = sotto_file_safe_name (name);
  SottoFileSeverity worst = SOTTO_FILE_NOTE;
  SottoFileAction expected;
  gboolean kind_known = FALSE;
  SottoFileVerdict *copy = NULL;

  FUZZ_CHECK (verdict != NULL);
  FUZZ_CHECK (verdict->name != NULL && strcmp (verdict->name, valid) == 0);
  check_safe_name (verdict->safe_name);
  FUZZ_CHECK (strcmp (verdict->safe_name, safe_name) == 0);
  FUZZ_CHECK (verdict->shown_name != NULL);
  FUZZ_CHECK (g_utf8_validate (verdict->shown_name, -1, NULL));
  FUZZ_CHECK (verdict->declared_type != NULL);
  FUZZ_CHECK (verdict->sniffed_type != NULL);
  FUZZ_CHECK (verdict->findings != NULL);

  FUZZ_CHECK (verdict->kind != NULL);
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    kind_known |= strcmp (verdict->kind, kinds[k]) == 0;
  FUZZ_CHECK (kind_known);
  FUZZ_CHECK ((strcmp (verdict->kind, "empty") == 0) == (content->size == 0));

  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoFileFinding *finding = g_ptr_array_index (verdict->findings, i);

      FUZZ_CHECK (finding != NULL);
      FUZZ_CHECK (finding->id != NULL && finding->id[0] != '\0');
      FUZZ_CHECK (finding->text != NULL && finding->text[0] != '\0');
      FUZZ_CHECK ((guint) finding->severity <= SOTTO_FILE_INFECTED);
      FUZZ_CHECK (sotto_file_verdict_has_finding (verdict, finding->id));
      for (guint j = 0; j < i; j++)
        {
          const SottoFileFinding *earlier = g_ptr_array_index (verdict->findings, j);

          FUZZ_CHECK (strcmp (earlier->id, finding->id) != 0);
        }
      worst = MAX (worst, finding->severity);
    }

  /* The worst finding decides. */
  if (worst == SOTTO_FILE_INFECTED)
    expected = SOTTO_FILE_BLOCK;
  else if (worst == SOTTO_FILE_RUNS)
    expected = SOTTO_FILE_SHOW_ONLY;
  else if (worst == SOTTO_FILE_SUSPECT)
    expected = SOTTO_FILE_WARN;
  else
    expected = SOTTO_FILE_ASK;
  FUZZ_CHECK (verdict->action == expected);
  FUZZ_CHECK (sotto_file_action_to_string (verdict->action) != NULL);

  /* What the scanner said is always said. */
  FUZZ_CHECK (sotto_file_verdict_has_finding (verdict, "infected") ==
              (content->scan == SOTTO_SCAN_INFECTED));
  FUZZ_CHECK (sotto_file_verdict_has_finding (verdict, "not-scanned") ==
              (content->scan == SOTTO_SCAN_NOT_SCANNED));
  FUZZ_CHECK (sotto_file_verdict_has_finding (verdict, "scan-failed") ==
              (content->scan == SOTTO_SCAN_FAILED));
  FUZZ_CHECK (sotto_file_verdict_has_finding (verdict, "empty") == (content->size == 0));
  FUZZ_CHECK (sotto_file_verdict_has_finding (verdict, "renamed") ==
              (strcmp (verdict->safe_name, valid) != 0));

  /* A copy owns the same values, for ASan to check. */
  copy = sotto_file_verdict_copy (verdict);
  FUZZ_CHECK (copy != NULL && copy->findings->len == verdict->findings->len);
  FUZZ_CHECK (strcmp (copy->safe_name, verdict->safe_name) == 0);
  FUZZ_CHECK (strcmp (copy->shown_name, verdict->shown_name) == 0);
  FUZZ_CHECK (strcmp (copy->kind, verdict->kind) == 0);
  FUZZ_CHECK (copy->action == verdict->action);
  sotto_file_verdict_free (copy);
}

static void
check_name (const guint8 *data,
            gsize         size)
{
  static const guint8 text[] = "hello\n";
  g_autofree char *name = g_strndup ((const char *) data, size);
  g_autofree char *safe_name = sotto_file_safe_name (name);
  g_autoptr (SottoFileVerdict) verdict = NULL;
  SottoFileContent content = {
    .head = text, .head_len = sizeof text - 1, .size = sizeof text - 1, .scan = SOTTO_SCAN_CLEAN,
  };

  check_safe_name (safe_name);

  verdict = sotto_file_guard_check (name, &content);
  check_verdict (verdict, name, &content);
}

static void
check_zip_list (const guint8 *tail,
                gsize         tail_len,
                guint64       size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = sotto_zip_list_entries (tail, tail_len, size, &error);

  if (entries == NULL)
    {
      FUZZ_CHECK (error != NULL && error->domain == G_IO_ERROR);
      FUZZ_CHECK (error->message != NULL && error->message[0] != '\0');
      return;
    }

  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (entries->len <= SOTTO_FILE_ZIP_ENTRIES_MAX);
  for (guint i = 0; i < entries->len; i++)
    {
      const char *entry = g_ptr_array_index (entries, i);

      FUZZ_CHECK (entry != NULL);
      FUZZ_CHECK (g_utf8_validate (entry, -1, NULL));
    }
}

static void
check_content (const guint8 *data,
               gsize         size,
               guint         variant)
{
  const char *name = content_names[variant % G_N_ELEMENTS (content_names)];
  SottoFileContent content = { 0 };
  g_autoptr (SottoFileVerdict) verdict = NULL;

  /* Cut as sotto_file_guard_check_path() reads a file. */
  content.head = data;
  content.head_len = MIN (size, SOTTO_FILE_HEAD_LEN);
  if (size > SOTTO_FILE_HEAD_LEN)
    {
      content.tail_len = MIN (size, SOTTO_FILE_TAIL_LEN);
      content.tail = data + (size - content.tail_len);
    }
  content.size = size;
  content.scan = scans[(variant / G_N_ELEMENTS (content_names)) % G_N_ELEMENTS (scans)];
  content.scan_detail = content.scan == SOTTO_SCAN_INFECTED ? "Fuzz-Signature" : NULL;

  verdict = sotto_file_guard_check (name, &content);
  check_verdict (verdict, name, &content);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  guint mode;
  guint variant;

  if (size == 0)
    return 0;

  mode = data[0] % N_MODES;
  variant = data[0] / N_MODES;
  data++;
  size--;

  switch (mode)
    {
    case MODE_NAME:
      check_name (data, size);
      break;

    case MODE_ZIP_TAIL:
      check_zip_list (data, size, size);
      /* The same bytes as the end of a longer file: a self-extracting
       * archive, whose offsets do not count what comes first. */
      check_zip_list (data, size, (guint64) size + 1000);
      break;

    case MODE_CONTENT:
    default:
      check_content (data, size, variant);
      break;
    }

  return 0;
}
