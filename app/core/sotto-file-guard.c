/* sotto-file-guard.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every received file passes here before the user can open it
 * (SottoFileGuard in DESIGN.md). Its name is untrusted: it loses folders,
 * control, direction and invisible characters, a leading dot and
 * reserved device names, and is shortened to what a file system takes,
 * so that "invoice\u202Efdp.exe" is saved, and shown, as "invoicefdp.exe".
 * Its bytes say what it really is (magic numbers; for ZIP containers the
 * list of entries: Office macros, Java archives, programs inside), which
 * its name may contradict. The virus scanner's answer comes in too. The
 * worst finding decides what the user may do: programs are never opened
 * from Sotto, only shown in their folder.
 *
 * Pure but for sotto_file_guard_check_path(), which reads the two ends of
 * a file for the rest.
 */
#define G_LOG_DOMAIN "sotto-file-guard"

#define _GNU_SOURCE 1  /* memmem */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sotto-file-guard.h"
#include "sotto-text.h"

G_DEFINE_BOXED_TYPE (SottoFileVerdict, sotto_file_verdict,
                     sotto_file_verdict_copy, sotto_file_verdict_free)

/* An extension longer than this is not kept when a name is shortened. */
#define EXTENSION_KEEP_MAX 32
/* Where a ZIP archive's end record can be: its size plus the longest comment. */
#define ZIP_EOCD_LEN       22
#define ZIP_EOCD_SEARCH    (ZIP_EOCD_LEN + 65535)
#define ZIP_CD_ENTRY_LEN   46

static const char * const executable_extensions[] = {
  "exe", "com", "scr", "pif", "msi", "msp", "msc", "cpl", "lnk", "reg", "jar", "class",
  "appimage", "run", "deb", "rpm", "apk", "dmg", "pkg", NULL
};
static const char * const script_extensions[] = {
  "sh", "bash", "zsh", "csh", "ksh", "py", "pyw", "pl", "rb", "php", "ps1", "psm1", "vbs",
  "vbe", "js", "jse", "wsf", "wsh", "bat", "cmd", "hta", NULL
};
static const char * const macro_extensions[] = {
  "docm", "dotm", "xlsm", "xltm", "xlam", "xlsb", "pptm", "potm", "ppam", "ppsm", "sldm", NULL
};
static const char * const archive_extensions[] = {
  "zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "tbz2", "xz", "txz", "zst", "cab", "arj",
  "lzh", "iso", "img", NULL
};
/* What a double extension pretends to be before the real one. */
static const char * const document_extensions[] = {
  "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "txt", "rtf", "csv",
  "jpg", "jpeg", "png", "gif", "bmp", "webp", "mp3", "mp4", "avi", "mov", "wav", "html", "htm",
  "zip", NULL
};
static const char * const reserved_names[] = {
  "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
  "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9", NULL
};

/* What an extension promises its content is. */
static const struct
{
  const char *extensions;   /* space-separated */
  const char *kinds;        /* space-separated */
} expected_kinds[] = {
  { "pdf", "pdf" },
  { "png jpg jpeg gif webp bmp", "image" },
  { "docx xlsx pptx docm xlsm pptm dotx dotm xltx xltm potx ppsx", "ooxml" },
  { "odt ods odp odg", "odf" },
  { "doc xls ppt", "ole" },
  { "zip", "zip ooxml odf java" },
  { "jar apk", "java" },
  { "txt csv md log", "text empty" },
  { "tar gz tgz 7z rar bz2 xz zst", "archive" },
};

/* -------------------------------------------------------------------------
 * Findings
 * ------------------------------------------------------------------------- */

static void
finding_free (SottoFileFinding *finding)
{
  g_free (finding->id);
  g_free (finding->text);
  g_free (finding);
}

static void
add_finding (SottoFileVerdict  *verdict,
             const char        *id,
             SottoFileSeverity  severity,
             const char        *text)
{
  SottoFileFinding *finding;

  if (verdict == NULL || sotto_file_verdict_has_finding (verdict, id))
    return;
  finding = g_new0 (SottoFileFinding, 1);
  finding->id = g_strdup (id);
  finding->severity = severity;
  finding->text = g_strdup (text);
  g_ptr_array_add (verdict->findings, finding);
}

static gboolean
in_list (const char * const *list,
         const char         *word)
{
  if (word == NULL)
    return FALSE;
  for (guint i = 0; list[i] != NULL; i++)
    if (g_str_equal (list[i], word))
      return TRUE;
  return FALSE;
}

static gboolean
in_words (const char *words,
          const char *word)
{
  g_auto (GStrv) list = g_strsplit (words, " ", -1);

  return in_list ((const char * const *)list, word);
}

/* -------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------- */

static gboolean
is_reserved (const char *name)
{
  g_autofree char *stem = g_strndup (name, strcspn (name, "."));
  g_autofree char *lower = g_ascii_strdown (stem, -1);

  return in_list (reserved_names, lower);
}

/* The last extension of @name, lower case, white space trimmed; and the
 * one before it. NULL where there is none. */
static void
get_extensions (const char  *name,
                char       **out_last,
                char       **out_before)
{
  g_auto (GStrv) parts = g_strsplit (name, ".", -1);
  guint n = g_strv_length (parts);

  *out_last = NULL;
  *out_before = NULL;
  /* parts[0] is the stem. */
  if (n >= 2)
    *out_last = g_utf8_strdown (g_strstrip (parts[n - 1]), -1);
  if (n >= 3)
    *out_before = g_utf8_strdown (g_strstrip (parts[n - 2]), -1);
}

/* @name cut to fit SOTTO_FILE_NAME_MAX bytes, its extension kept. */
static char *
shorten (const char *name)
{
  const char *dot = strrchr (name, '.');
  gsize ext_len = dot != NULL && dot != name ? strlen (dot) : 0;
  g_autofree char *stem = NULL;
  gsize stem_max;
  const char *end;

  if (ext_len > EXTENSION_KEEP_MAX)
    ext_len = 0;
  stem_max = SOTTO_FILE_NAME_MAX - ext_len;
  /* The last whole character that fits. */
  end = name + stem_max;
  while (end > name && (((guchar)*end & 0xC0) == 0x80))
    end--;
  stem = g_strndup (name, (gsize)(end - name));
  return g_strconcat (stem, ext_len > 0 ? name + strlen (name) - ext_len : "", NULL);
}

/* The name made safe, with what was done to it as findings on @verdict
 * (which may be NULL). */
static char *
make_safe_name (const char       *given,
                SottoFileVerdict *verdict)
{
  g_autofree char *valid = g_utf8_make_valid (given != NULL ? given : "", -1);
  g_autoptr (GString) kept = g_string_new (NULL);
  g_autofree char *normal = NULL;
  const char *base = valid;
  char *name;
  gsize len;

  for (const char *p = valid; *p != '\0'; p++)
    if (*p == '/' || *p == '\\')
      base = p + 1;
  if (base != valid)
    add_finding (verdict, "path", SOTTO_FILE_SUSPECT,
                 _("The name came with folders in it; only the file’s own name is kept, "
                   "and it is saved in Sotto’s folder."));

  for (const char *p = base; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
        add_finding (verdict, "control", SOTTO_FILE_SUSPECT,
                     _("The name contained control characters, which were removed."));
      else if (sotto_char_is_bidi_control (c))
        add_finding (verdict, "bidi", SOTTO_FILE_SUSPECT,
                     _("The name contained characters that reverse the text, so that it "
                       "could show a different ending from its real one; they were "
                       "removed."));
      else if (sotto_char_is_invisible (c))
        add_finding (verdict, "invisible", SOTTO_FILE_SUSPECT,
                     _("The name contained invisible characters, which were removed."));
      else if (c < 0x80 && strchr ("<>:\"|?*", (int)c) != NULL)
        g_string_append_c (kept, '_');
      else
        g_string_append_unichar (kept, c);
    }

  normal = g_utf8_normalize (kept->str, -1, G_NORMALIZE_NFC);
  name = g_steal_pointer (&normal);
  if (name == NULL)
    name = g_strdup ("");

  /* Trim white space at both ends and dots at the end; dots at the start
   * would hide the file. */
  {
    const char *start = name;
    const char *end = name + strlen (name);
    gboolean hidden = FALSE;
    char *trimmed;

    while (TRUE)
      {
        gunichar c = g_utf8_get_char (start);

        if (*start != '\0' && g_unichar_isspace (c))
          start = g_utf8_next_char (start);
        else if (*start == '.')
          {
            hidden = TRUE;
            start++;
          }
        else
          break;
      }
    while (end > start)
      {
        const char *prev = g_utf8_prev_char (end);
        gunichar c = g_utf8_get_char (prev);

        if (c == '.' || g_unichar_isspace (c))
          end = prev;
        else
          break;
      }
    trimmed = g_strndup (start, (gsize)(end - start));
    g_free (name);
    name = trimmed;
    if (hidden && name[0] != '\0')
      add_finding (verdict, "hidden", SOTTO_FILE_NOTE,
                   _("The name started with a dot, which hides a file; the dot was "
                     "removed."));
  }

  if (name[0] == '\0')
    {
      g_free (name);
      name = g_strdup ("file");
    }

  if (is_reserved (name))
    {
      char *prefixed = g_strconcat ("_", name, NULL);

      g_free (name);
      name = prefixed;
      add_finding (verdict, "reserved", SOTTO_FILE_NOTE,
                   _("The name is one that Windows keeps for devices; a “_” was put in "
                     "front of it."));
    }

  len = strlen (name);
  if (len > SOTTO_FILE_NAME_MAX)
    {
      char *short_name = shorten (name);

      g_free (name);
      name = short_name;
      add_finding (verdict, "too-long", SOTTO_FILE_NOTE,
                   _("The name was too long for a file and was shortened."));
    }

  if (verdict != NULL && !g_str_equal (name, valid))
    {
      g_autofree char *text = NULL;

      /* Translators: %s is the name the file is saved under. */
      text = g_strdup_printf (_("It is saved as “%s”."), name);
      add_finding (verdict, "renamed", SOTTO_FILE_NOTE, text);
    }

  return name;
}

/**
 * sotto_file_safe_name:
 * @name: a file name as a sender gave it (any bytes)
 *
 * What a received file is saved as: no folders, no control, direction or
 * invisible characters, no leading dots, no Windows device name, at most
 * %SOTTO_FILE_NAME_MAX bytes with its extension kept, never empty.
 *
 * Returns: (transfer full): the name
 */
char *
sotto_file_safe_name (const char *name)
{
  return make_safe_name (name, NULL);
}

static gboolean
runs_by_name (const char *extension)
{
  return in_list (executable_extensions, extension) || in_list (script_extensions, extension) ||
         g_strcmp0 (extension, "desktop") == 0 || in_list (macro_extensions, extension);
}

static void
judge_name (SottoFileVerdict *verdict)
{
  g_autofree char *last = NULL;
  g_autofree char *before = NULL;

  get_extensions (verdict->safe_name, &last, &before);
  if (in_list (executable_extensions, last))
    add_finding (verdict, "executable", SOTTO_FILE_RUNS,
                 _("This is a program. Sotto never opens or runs one: run it only if you "
                   "know what it is and expected it."));
  else if (in_list (script_extensions, last))
    add_finding (verdict, "script", SOTTO_FILE_RUNS,
                 _("This is a script, a program in text. Sotto never opens or runs one."));
  else if (g_strcmp0 (last, "desktop") == 0)
    add_finding (verdict, "desktop-entry", SOTTO_FILE_RUNS,
                 _("This is a desktop launcher: opening it runs whatever program it names."));
  else if (in_list (macro_extensions, last))
    add_finding (verdict, "macros", SOTTO_FILE_RUNS,
                 _("This document holds macros, programs that run when it is opened."));
  else if (in_list (archive_extensions, last))
    add_finding (verdict, "archive", SOTTO_FILE_NOTE,
                 _("This is an archive: it can hold programs. Look at what it holds before "
                   "you open anything in it."));

  if (runs_by_name (last) && in_list (document_extensions, before))
    {
      g_autofree char *text = NULL;

      /* Translators: the extension it pretends to have, then its real one. */
      text = g_strdup_printf (_("The name ends in “.%s” after “.%s”: it only looks like a "
                                "document."), last, before);
      add_finding (verdict, "double-extension", SOTTO_FILE_SUSPECT, text);
    }
}

/* -------------------------------------------------------------------------
 * ZIP archives: the list of entries, and nothing else
 * ------------------------------------------------------------------------- */

static guint16
get_le16 (const guint8 *p)
{
  return (guint16)(p[0] | (p[1] << 8));
}

static guint32
get_le32 (const guint8 *p)
{
  return (guint32)p[0] | ((guint32)p[1] << 8) | ((guint32)p[2] << 16) | ((guint32)p[3] << 24);
}

static guint64
get_le64 (const guint8 *p)
{
  return (guint64)get_le32 (p) | ((guint64)get_le32 (p + 4) << 32);
}

static gboolean
zip_error (GError     **error,
           const char  *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("The archive’s list of entries can’t be read: %s"), what);
  return FALSE;
}

/**
 * sotto_zip_list_entries:
 * @tail: the last @tail_len bytes of a ZIP archive
 * @size: the whole file's size (@tail_len at most that)
 *
 * The names in a ZIP archive's central directory, which must lie within
 * @tail. Everything is bounds-checked: the bytes are a stranger's. Data
 * before the archive (a self-extracting one) does not matter: the
 * directory is found from its end record, not from the offsets it states.
 *
 * Returns: (transfer full) (element-type utf8): the names in order, or
 *   %NULL with %G_IO_ERROR_INVALID_DATA
 */
GPtrArray *
sotto_zip_list_entries (const guint8  *tail,
                        gsize          tail_len,
                        guint64        size,
                        GError       **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  gssize eocd = -1;
  gsize lowest;
  guint64 count;
  guint64 cd_size;
  gsize cd_end;
  gsize cd_start;
  gsize at;

  g_return_val_if_fail (tail != NULL || tail_len == 0, NULL);

  if (tail_len > size || tail_len < ZIP_EOCD_LEN)
    {
      zip_error (error, _("it is too short"));
      return NULL;
    }

  lowest = tail_len > ZIP_EOCD_SEARCH ? tail_len - ZIP_EOCD_SEARCH : 0;
  for (gsize i = tail_len - ZIP_EOCD_LEN + 1; i-- > lowest;)
    if (get_le32 (tail + i) == 0x06054b50)
      {
        eocd = (gssize)i;
        break;
      }
  if (eocd < 0)
    {
      zip_error (error, _("it has no end record"));
      return NULL;
    }

  count = get_le16 (tail + eocd + 10);
  cd_size = get_le32 (tail + eocd + 12);
  cd_end = (gsize)eocd;

  if (count == 0xFFFF || cd_size == 0xFFFFFFFF || get_le32 (tail + eocd + 16) == 0xFFFFFFFF)
    {
      /* ZIP64: a locator just before the end record, pointing at the
       * ZIP64 end record, which ends where the locator starts. */
      const guint8 *record;
      gsize locator;

      if ((gsize)eocd < 20 || get_le32 (tail + eocd - 20) != 0x07064b50)
        {
          zip_error (error, _("its ZIP64 locator is missing"));
          return NULL;
        }
      locator = (gsize)eocd - 20;
      if (locator < 56)
        {
          zip_error (error, _("its ZIP64 end record is cut off"));
          return NULL;
        }
      record = tail + locator - 56;
      if (get_le32 (record) != 0x06064b50)
        {
          zip_error (error, _("its ZIP64 end record is missing"));
          return NULL;
        }
      count = get_le64 (record + 32);
      cd_size = get_le64 (record + 40);
      cd_end = locator - 56;
    }

  if (count > SOTTO_FILE_ZIP_ENTRIES_MAX)
    {
      zip_error (error, _("it has too many entries"));
      return NULL;
    }
  if (cd_size > cd_end)
    {
      g_autofree char *what = g_strdup_printf (ngettext ("the list of entries is not within "
                                                         "the last %u byte",
                                                         "the list of entries is not within "
                                                         "the last %u bytes",
                                                         SOTTO_FILE_TAIL_LEN),
                                               (guint)SOTTO_FILE_TAIL_LEN);

      zip_error (error, what);
      return NULL;
    }
  cd_start = cd_end - (gsize)cd_size;

  at = cd_start;
  for (guint64 i = 0; i < count; i++)
    {
      guint16 name_len;
      gsize entry_len;

      if (cd_end - at < ZIP_CD_ENTRY_LEN || get_le32 (tail + at) != 0x02014b50)
        {
          zip_error (error, _("an entry is damaged"));
          return NULL;
        }
      name_len = get_le16 (tail + at + 28);
      entry_len = (gsize)ZIP_CD_ENTRY_LEN + name_len + get_le16 (tail + at + 30) +
                  get_le16 (tail + at + 32);
      if (entry_len > cd_end - at)
        {
          zip_error (error, _("an entry runs past the list"));
          return NULL;
        }
      g_ptr_array_add (names, g_utf8_make_valid ((const char *)tail + at + ZIP_CD_ENTRY_LEN,
                                                 name_len));
      at += entry_len;
    }
  if (at != cd_end)
    {
      zip_error (error, _("it lists fewer entries than it holds"));
      return NULL;
    }

  return g_steal_pointer (&names);
}

/* -------------------------------------------------------------------------
 * Contents
 * ------------------------------------------------------------------------- */

static gboolean
has_prefix (const guint8 *head,
            gsize         len,
            const char   *magic,
            gsize         magic_len)
{
  return len >= magic_len && memcmp (head, magic, magic_len) == 0;
}

#define HAS(magic) has_prefix (head, len, magic, sizeof magic - 1)

/* "[Desktop Entry]" after an optional BOM and comment or empty lines. */
static gboolean
is_desktop_entry (const guint8 *head,
                  gsize         len)
{
  gsize i = 0;

  if (len >= 3 && memcmp (head, "\xef\xbb\xbf", 3) == 0)
    i = 3;
  while (i < len && (head[i] == '#' || head[i] == '\n' || head[i] == '\r'))
    {
      if (head[i] == '#')
        while (i < len && head[i] != '\n')
          i++;
      else
        i++;
    }
  return len - i >= 15 && memcmp (head + i, "[Desktop Entry]", 15) == 0;
}

/* Valid UTF-8; a character cut at the end of the head of a longer file
 * counts. */
static gboolean
is_text (const guint8 *head,
         gsize         len,
         guint64       size)
{
  const char *end = NULL;

  if (g_utf8_validate_len ((const char *)head, len, &end))
    return TRUE;
  return size > len && (gsize)((const char *)head + len - end) < 4 &&
         g_utf8_get_char_validated (end, (gssize)((const char *)head + len - end)) == (gunichar)-2;
}

static gboolean
is_program_kind (const char *kind)
{
  return in_words ("elf pe mach-o java script desktop-entry", kind);
}

static void
add_executable (SottoFileVerdict *verdict)
{
  add_finding (verdict, "executable", SOTTO_FILE_RUNS,
               _("This is a program. Sotto never opens or runs one: run it only if you know "
                 "what it is and expected it."));
}

static void
judge_zip (SottoFileVerdict       *verdict,
           const SottoFileContent *content,
           const guint8           *head,
           gsize                   len)
{
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  const guint8 *tail = content->tail != NULL ? content->tail : content->head;
  gsize tail_len = content->tail != NULL ? content->tail_len : content->head_len;
  gboolean ooxml = FALSE;
  gboolean odf = FALSE;
  gboolean java = FALSE;
  gboolean macros = FALSE;
  const char *program = NULL;

  entries = sotto_zip_list_entries (tail, tail_len, content->size, &error);
  if (entries == NULL)
    {
      verdict->kind = g_strdup ("zip");
      add_finding (verdict, "archive-unreadable", SOTTO_FILE_SUSPECT,
                   _("This archive is damaged or built to hide what it holds: Sotto can’t "
                     "tell what is in it."));
      return;
    }

  for (guint i = 0; i < entries->len; i++)
    {
      const char *entry = g_ptr_array_index (entries, i);
      g_autofree char *lower = g_ascii_strdown (entry, -1);
      g_autofree char *last = NULL;
      g_autofree char *before = NULL;

      if (g_str_equal (entry, "META-INF/MANIFEST.MF") || g_str_equal (entry, "AndroidManifest.xml"))
        java = TRUE;
      if (g_str_equal (entry, "[Content_Types].xml"))
        ooxml = TRUE;
      if (g_str_has_suffix (lower, "vbaproject.bin"))
        macros = TRUE;
      if ((g_str_has_prefix (entry, "Basic/") || g_str_has_prefix (entry, "Scripts/")) &&
          !g_str_equal (entry, "Basic/") && !g_str_equal (entry, "Scripts/"))
        macros = TRUE;

      if (program == NULL && !g_str_has_suffix (entry, "/"))
        {
          const char *base = strrchr (entry, '/');

          get_extensions (base != NULL ? base + 1 : entry, &last, &before);
          if (runs_by_name (last))
            program = entry;
        }
    }

  odf = entries->len > 0 && g_str_equal (g_ptr_array_index (entries, 0), "mimetype") &&
        memmem (head, len, "application/vnd.oasis.opendocument",
                strlen ("application/vnd.oasis.opendocument")) != NULL;

  if (java)
    {
      verdict->kind = g_strdup ("java");
      add_executable (verdict);
      return;
    }
  if (ooxml || odf)
    {
      verdict->kind = g_strdup (ooxml ? "ooxml" : "odf");
      if (macros)
        add_finding (verdict, "macros", SOTTO_FILE_RUNS,
                     _("This document holds macros, programs that run when it is opened."));
      return;
    }

  verdict->kind = g_strdup ("zip");
  add_finding (verdict, "archive", SOTTO_FILE_NOTE,
               _("This is an archive: it can hold programs. Look at what it holds before you "
                 "open anything in it."));
  if (program != NULL)
    {
      g_autofree char *safe = sotto_file_safe_name (program);
      g_autofree char *text = NULL;

      /* Translators: %s is the name of a program inside an archive. */
      text = g_strdup_printf (_("The archive holds a program, “%s”: don’t run it unless you "
                                "expected it."), safe);
      add_finding (verdict, "archive-holds-program", SOTTO_FILE_SUSPECT, text);
    }
}

static void
judge_content (SottoFileVerdict       *verdict,
               const SottoFileContent *content)
{
  const guint8 *head = content->head;
  gsize len = content->head_len;

  if (content->size == 0)
    {
      verdict->kind = g_strdup ("empty");
      add_finding (verdict, "empty", SOTTO_FILE_NOTE, _("The file is empty."));
      return;
    }

  if (HAS ("\x7f" "ELF") || HAS ("MZ") || HAS ("\xfe\xed\xfa\xce") || HAS ("\xfe\xed\xfa\xcf") ||
      HAS ("\xce\xfa\xed\xfe") || HAS ("\xcf\xfa\xed\xfe") || HAS ("\xca\xfe\xba\xbe"))
    {
      verdict->kind = g_strdup (HAS ("\x7f" "ELF") ? "elf"
                                : HAS ("MZ") ? "pe"
                                : HAS ("\xca\xfe\xba\xbe") ? "java" : "mach-o");
      add_executable (verdict);
    }
  else if (HAS ("#!"))
    {
      verdict->kind = g_strdup ("script");
      add_finding (verdict, "script", SOTTO_FILE_RUNS,
                   _("This is a script, a program in text. Sotto never opens or runs one."));
    }
  else if (is_desktop_entry (head, len))
    {
      verdict->kind = g_strdup ("desktop-entry");
      add_finding (verdict, "desktop-entry", SOTTO_FILE_RUNS,
                   _("This is a desktop launcher: opening it runs whatever program it "
                     "names."));
    }
  else if (HAS ("PK\x03\x04") || HAS ("PK\x05\x06"))
    judge_zip (verdict, content, head, len);
  else if (HAS ("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"))
    {
      verdict->kind = g_strdup ("ole");
      add_finding (verdict, "office-legacy", SOTTO_FILE_SUSPECT,
                   _("This is an Office document in the old format, which can hold macros "
                     "that Sotto can’t see. Open it only if you expected it."));
    }
  else if (HAS ("Rar!\x1a\x07") || HAS ("7z\xbc\xaf\x27\x1c") || HAS ("\x1f\x8b") ||
           HAS ("BZh") || HAS ("\xfd" "7zXZ\x00") || HAS ("\x28\xb5\x2f\xfd") ||
           (len >= 262 && memcmp (head + 257, "ustar", 5) == 0))
    {
      verdict->kind = g_strdup ("archive");
      add_finding (verdict, "archive", SOTTO_FILE_NOTE,
                   _("This is an archive: it can hold programs. Look at what it holds before "
                     "you open anything in it."));
    }
  else if (HAS ("%PDF-"))
    verdict->kind = g_strdup ("pdf");
  else if (HAS ("\x89PNG\r\n\x1a\n") || HAS ("\xff\xd8\xff") || HAS ("GIF87a") ||
           HAS ("GIF89a") || (len >= 12 && HAS ("RIFF") && memcmp (head + 8, "WEBP", 4) == 0))
    verdict->kind = g_strdup ("image");
  else if (memchr (head, '\0', len) == NULL && is_text (head, len, content->size))
    verdict->kind = g_strdup ("text");
  else
    verdict->kind = g_strdup ("unknown");
}

/* The content against what the name promises. */
static void
judge_match (SottoFileVerdict *verdict)
{
  g_autofree char *last = NULL;
  g_autofree char *before = NULL;
  gboolean mismatch = FALSE;

  get_extensions (verdict->safe_name, &last, &before);

  if (is_program_kind (verdict->kind) && !runs_by_name (last))
    mismatch = TRUE;
  else if (last != NULL && !g_str_equal (verdict->kind, "unknown"))
    {
      for (guint i = 0; i < G_N_ELEMENTS (expected_kinds); i++)
        if (in_words (expected_kinds[i].extensions, last) &&
            !in_words (expected_kinds[i].kinds, verdict->kind))
          mismatch = TRUE;
    }

  if (mismatch)
    {
      g_autofree char *text = NULL;

      /* Translators: the file's real kind, from its bytes, e.g. "elf" or "pdf". */
      text = g_strdup_printf (_("The name says one kind of file, but its content is another "
                                "(%s): the name is not to be trusted."), verdict->kind);
      add_finding (verdict, "type-mismatch", SOTTO_FILE_SUSPECT, text);
    }
}

static void
judge_scan (SottoFileVerdict       *verdict,
            const SottoFileContent *content)
{
  switch (content->scan)
    {
    case SOTTO_SCAN_INFECTED:
      {
        g_autofree char *text = NULL;

        if (content->scan_detail != NULL)
          /* Translators: %s is what the virus scanner found, e.g. "Eicar-Signature". */
          text = g_strdup_printf (_("The virus scanner found “%s” in this file."),
                                  content->scan_detail);
        add_finding (verdict, "infected", SOTTO_FILE_INFECTED,
                     text != NULL ? text : _("The virus scanner found a threat in this file."));
      }
      break;

    case SOTTO_SCAN_NOT_SCANNED:
      add_finding (verdict, "not-scanned", SOTTO_FILE_SUSPECT,
                   _("No virus scanner checked this file."));
      break;

    case SOTTO_SCAN_FAILED:
      add_finding (verdict, "scan-failed", SOTTO_FILE_SUSPECT,
                   _("The virus scanner could not check this file."));
      break;

    case SOTTO_SCAN_CLEAN:
    default:
      break;
    }
}

/**
 * sotto_file_guard_check:
 * @name: (nullable): the file's name as the sender gave it (any bytes)
 * @content: what is known of its bytes
 *
 * Pure: the same verdict for the same input, no I/O.
 *
 * Returns: (transfer full): the verdict; never %NULL
 */
SottoFileVerdict *
sotto_file_guard_check (const char             *name,
                        const SottoFileContent *content)
{
  SottoFileVerdict *verdict;
  SottoFileSeverity worst = SOTTO_FILE_NOTE;
  gsize head_len;

  g_return_val_if_fail (content != NULL, NULL);
  g_return_val_if_fail (content->head != NULL || content->head_len == 0, NULL);

  verdict = g_new0 (SottoFileVerdict, 1);
  verdict->findings = g_ptr_array_new_with_free_func ((GDestroyNotify)finding_free);
  verdict->name = g_utf8_make_valid (name != NULL ? name : "", -1);
  verdict->shown_name = sotto_text_reveal_hidden (verdict->name, TRUE);
  verdict->safe_name = make_safe_name (verdict->name, verdict);

  judge_content (verdict, content);
  judge_name (verdict);
  judge_match (verdict);
  judge_scan (verdict, content);

  head_len = MIN (content->head_len, SOTTO_FILE_HEAD_LEN);
  verdict->declared_type = g_content_type_guess (verdict->safe_name, NULL, 0, NULL);
  verdict->sniffed_type = g_content_type_guess (NULL, content->head, head_len, NULL);

  for (guint i = 0; i < verdict->findings->len; i++)
    worst = MAX (worst, ((SottoFileFinding *)g_ptr_array_index (verdict->findings, i))->severity);
  verdict->action = worst == SOTTO_FILE_INFECTED ? SOTTO_FILE_BLOCK
                    : worst == SOTTO_FILE_RUNS ? SOTTO_FILE_SHOW_ONLY
                    : worst == SOTTO_FILE_SUSPECT ? SOTTO_FILE_WARN
                    : SOTTO_FILE_ASK;

  return verdict;
}

static gboolean
read_at (int       fd,
         guint8   *buffer,
         gsize     len,
         goffset   offset,
         GError  **error)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = pread (fd, buffer + done, len - done, offset + (goffset)done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, n < 0 ? g_io_error_from_errno (saved_errno)
                                                : G_IO_ERROR_PARTIAL_INPUT,
                       _("The file could not be read: %s"),
                       n < 0 ? g_strerror (saved_errno) : _("it is shorter than it says"));
          return FALSE;
        }
      done += (gsize)n;
    }
  return TRUE;
}

/**
 * sotto_file_guard_check_path:
 * @path: a file (a symbolic link is refused, not followed)
 * @name: (nullable): the name the sender gave it; %NULL for @path's own
 * @scan: what the virus scanner said of it
 * @scan_detail: (nullable): what it named
 *
 * Reads the file's two ends and judges it (sotto_file_guard_check()).
 *
 * Returns: (transfer full) (nullable): the verdict, or %NULL with a
 *   #G_IO_ERROR when the file can't be read
 */
SottoFileVerdict *
sotto_file_guard_check_path (const char       *path,
                             const char       *name,
                             SottoScanResult   scan,
                             const char       *scan_detail,
                             GError          **error)
{
  g_autofree guint8 *head = NULL;
  g_autofree guint8 *tail = NULL;
  g_autofree char *base = NULL;
  SottoFileContent content = { 0 };
  struct stat st;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0);
  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno == ELOOP)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_LINKS,
                     _("“%s” is a symbolic link, which Sotto does not follow"), path);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                     _("“%s” could not be opened: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   _("“%s” is not a file"), path);
      close (fd);
      return NULL;
    }

  content.size = (guint64)st.st_size;
  content.head_len = (gsize)MIN (content.size, (guint64)SOTTO_FILE_HEAD_LEN);
  head = g_malloc (MAX (content.head_len, 1));
  if (!read_at (fd, head, content.head_len, 0, error))
    {
      close (fd);
      return NULL;
    }
  if (content.size > content.head_len)
    {
      content.tail_len = (gsize)MIN (content.size, (guint64)SOTTO_FILE_TAIL_LEN);
      tail = g_malloc (content.tail_len);
      if (!read_at (fd, tail, content.tail_len, (goffset)(content.size - content.tail_len), error))
        {
          close (fd);
          return NULL;
        }
    }
  close (fd);

  content.head = head;
  content.tail = tail;
  content.scan = scan;
  content.scan_detail = scan_detail;
  base = g_path_get_basename (path);

  return sotto_file_guard_check (name != NULL ? name : base, &content);
}

static void
check_outgoing_thread (GTask        *task,
                       gpointer      source,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  GError *error = NULL;
  SottoFileVerdict *verdict = sotto_file_guard_check_path (task_data, NULL,
                                                           SOTTO_SCAN_NOT_SCANNED, NULL, &error);

  if (verdict == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, verdict, (GDestroyNotify)sotto_file_verdict_free);
}

/**
 * sotto_file_guard_check_outgoing_async:
 * @path: a file the user is about to send
 *
 * What the receiver's guard will say about the file, judged before it is
 * offered, without the virus scanner; the file is read in a thread.
 */
void
sotto_file_guard_check_outgoing_async (const char          *path,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (path != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_file_guard_check_outgoing_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, check_outgoing_thread);
}

/**
 * sotto_file_guard_check_outgoing_finish:
 * @out_ask_sender: (out): %TRUE when the receiver could only show it in
 *   its folder (a program, or what runs one): the sender is asked first
 *
 * Returns: (transfer full) (nullable): the verdict, %NULL if the file
 *   can't be read
 */
SottoFileVerdict *
sotto_file_guard_check_outgoing_finish (GAsyncResult  *result,
                                        gboolean      *out_ask_sender,
                                        GError       **error)
{
  SottoFileVerdict *verdict;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (out_ask_sender != NULL, NULL);

  verdict = g_task_propagate_pointer (G_TASK (result), error);
  *out_ask_sender = verdict != NULL && verdict->action >= SOTTO_FILE_SHOW_ONLY;
  return verdict;
}

gboolean
sotto_file_verdict_has_finding (const SottoFileVerdict *verdict,
                                const char             *id)
{
  g_return_val_if_fail (verdict != NULL, FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  for (guint i = 0; i < verdict->findings->len; i++)
    if (g_str_equal (((SottoFileFinding *)g_ptr_array_index (verdict->findings, i))->id, id))
      return TRUE;
  return FALSE;
}

/**
 * sotto_file_action_to_string:
 *
 * Returns: "ask", "warn", "show-only" or "block", for scripts
 */
const char *
sotto_file_action_to_string (SottoFileAction action)
{
  switch (action)
    {
    case SOTTO_FILE_ASK:
      return "ask";
    case SOTTO_FILE_WARN:
      return "warn";
    case SOTTO_FILE_SHOW_ONLY:
      return "show-only";
    case SOTTO_FILE_BLOCK:
    default:
      return "block";
    }
}

SottoFileVerdict *
sotto_file_verdict_copy (const SottoFileVerdict *verdict)
{
  SottoFileVerdict *copy;

  g_return_val_if_fail (verdict != NULL, NULL);

  copy = g_new0 (SottoFileVerdict, 1);
  copy->name = g_strdup (verdict->name);
  copy->shown_name = g_strdup (verdict->shown_name);
  copy->safe_name = g_strdup (verdict->safe_name);
  copy->declared_type = g_strdup (verdict->declared_type);
  copy->sniffed_type = g_strdup (verdict->sniffed_type);
  copy->kind = g_strdup (verdict->kind);
  copy->action = verdict->action;
  copy->findings = g_ptr_array_new_with_free_func ((GDestroyNotify)finding_free);
  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoFileFinding *finding = g_ptr_array_index (verdict->findings, i);

      add_finding (copy, finding->id, finding->severity, finding->text);
    }
  return copy;
}

void
sotto_file_verdict_free (SottoFileVerdict *verdict)
{
  if (verdict == NULL)
    return;
  g_free (verdict->name);
  g_free (verdict->shown_name);
  g_free (verdict->safe_name);
  g_free (verdict->declared_type);
  g_free (verdict->sniffed_type);
  g_free (verdict->kind);
  g_ptr_array_unref (verdict->findings);
  g_free (verdict);
}
