/* sotto-file-guard.h — what a received file is, before anything opens it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A file name is saved in at most this many bytes (Linux's NAME_MAX); a
 * longer one is shortened, its extension kept. */
#define SOTTO_FILE_NAME_MAX      255
/* What is read of a file's start to tell what it is. */
#define SOTTO_FILE_HEAD_LEN      4096
/* What is read of a file's end to find a ZIP archive's list of entries;
 * a list that does not fit is not read ("archive-unreadable"). */
#define SOTTO_FILE_TAIL_LEN      (1024 * 1024)
/* Entries of an archive looked at, at most. */
#define SOTTO_FILE_ZIP_ENTRIES_MAX 65536

/**
 * SottoScanResult:
 * @SOTTO_SCAN_NOT_SCANNED: no scanner (none installed, or none set)
 * @SOTTO_SCAN_CLEAN: the scanner found nothing
 * @SOTTO_SCAN_INFECTED: the scanner found something
 * @SOTTO_SCAN_FAILED: the scanner ran and failed (no signatures, crashed)
 *
 * What the virus scanner said (sotto-scanner.c).
 */
typedef enum
{
  SOTTO_SCAN_NOT_SCANNED,
  SOTTO_SCAN_CLEAN,
  SOTTO_SCAN_INFECTED,
  SOTTO_SCAN_FAILED,
} SottoScanResult;

/**
 * SottoFileAction:
 * @SOTTO_FILE_ASK: opened with the desktop's application for its type,
 *   after a dialog that names it
 * @SOTTO_FILE_WARN: something is odd: the dialog says what, and "Open" is
 *   not its default
 * @SOTTO_FILE_SHOW_ONLY: a program or something that runs one (an
 *   executable, a script, a .desktop file, a macro document): never opened
 *   or run from Sotto, only shown in its folder
 * @SOTTO_FILE_BLOCK: the scanner found something: not kept for the user
 *
 * What the user may do with a received file; the worst finding decides.
 */
typedef enum
{
  SOTTO_FILE_ASK,
  SOTTO_FILE_WARN,
  SOTTO_FILE_SHOW_ONLY,
  SOTTO_FILE_BLOCK,
} SottoFileAction;

typedef enum
{
  SOTTO_FILE_NOTE,       /* worth saying; changes nothing */
  SOTTO_FILE_SUSPECT,    /* at least WARN */
  SOTTO_FILE_RUNS,       /* SHOW_ONLY: it is or holds a program */
  SOTTO_FILE_INFECTED,   /* BLOCK */
} SottoFileSeverity;

/**
 * SottoFileFinding:
 * @id: stable, for scripts and tests: "renamed", "path", "bidi",
 *   "invisible", "control", "hidden", "reserved", "too-long",
 *   "double-extension", "executable", "script", "desktop-entry",
 *   "macros", "office-legacy", "archive", "archive-holds-program",
 *   "archive-unreadable", "type-mismatch", "empty", "infected",
 *   "not-scanned", "scan-failed"
 * @severity: what it does to the action
 * @text: the explanation for the user, translated
 */
typedef struct
{
  char              *id;
  SottoFileSeverity  severity;
  char              *text;
} SottoFileFinding;

/**
 * SottoFileVerdict:
 * @name: the name as the sender gave it, made valid UTF-8
 * @shown_name: @name with invisible and direction characters made
 *   visible ("invoice⟦U+202E⟧fdp.exe"), for the dialog
 * @safe_name: what the file is saved as: no folder, no control or
 *   direction characters, not hidden, not a reserved name, at most
 *   %SOTTO_FILE_NAME_MAX bytes; never empty
 * @declared_type: the content type its name says (shared-mime-info)
 * @sniffed_type: the content type its bytes say
 * @kind: what its bytes are, in one word: "elf", "pe", "mach-o",
 *   "script", "desktop-entry", "java", "zip", "ooxml", "odf", "ole",
 *   "archive", "pdf", "image", "text", "empty" or "unknown"
 * @action: what the user may do with it
 * @findings: (element-type SottoFileFinding): in the order found
 */
typedef struct
{
  char            *name;
  char            *shown_name;
  char            *safe_name;
  char            *declared_type;
  char            *sniffed_type;
  char            *kind;
  SottoFileAction  action;
  GPtrArray       *findings;
} SottoFileVerdict;

/**
 * SottoFileContent:
 * @head: the file's first bytes, up to %SOTTO_FILE_HEAD_LEN (all of it if
 *   it is shorter)
 * @head_len: how many
 * @tail: (nullable): its last bytes, up to %SOTTO_FILE_TAIL_LEN, for ZIP
 *   archives; %NULL when the file is no longer than @head
 * @tail_len: how many
 * @size: the whole file's size in bytes
 * @scan: what the virus scanner said
 * @scan_detail: (nullable): what it named (a signature), for the dialog
 *
 * What is known of a file's content.
 */
typedef struct
{
  const guint8    *head;
  gsize            head_len;
  const guint8    *tail;
  gsize            tail_len;
  guint64          size;
  SottoScanResult  scan;
  const char      *scan_detail;
} SottoFileContent;

#define SOTTO_TYPE_FILE_VERDICT (sotto_file_verdict_get_type ())

GType             sotto_file_verdict_get_type     (void) G_GNUC_CONST;
char             *sotto_file_safe_name            (const char              *name);
SottoFileVerdict *sotto_file_guard_check          (const char              *name,
                                                   const SottoFileContent  *content);
SottoFileVerdict *sotto_file_guard_check_path     (const char              *path,
                                                   const char              *name,
                                                   SottoScanResult          scan,
                                                   const char              *scan_detail,
                                                   GError                 **error);
void              sotto_file_guard_check_outgoing_async  (const char          *path,
                                                          GCancellable        *cancellable,
                                                          GAsyncReadyCallback  callback,
                                                          gpointer             user_data);
SottoFileVerdict *sotto_file_guard_check_outgoing_finish (GAsyncResult        *result,
                                                          gboolean            *out_ask_sender,
                                                          GError             **error);
GPtrArray        *sotto_zip_list_entries          (const guint8            *tail,
                                                   gsize                    tail_len,
                                                   guint64                  size,
                                                   GError                 **error);
gboolean          sotto_file_verdict_has_finding  (const SottoFileVerdict  *verdict,
                                                   const char              *id);
const char       *sotto_file_action_to_string     (SottoFileAction          action);
SottoFileVerdict *sotto_file_verdict_copy         (const SottoFileVerdict  *verdict);
void              sotto_file_verdict_free         (SottoFileVerdict        *verdict);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoFileVerdict, sotto_file_verdict_free)

G_END_DECLS
