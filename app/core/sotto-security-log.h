/* sotto-security-log.h — what the security log records, and how it reads
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Rows the log keeps at most: a new one beyond them drops the oldest. */
#define SOTTO_SECURITY_LOG_MAX_ENTRIES  2000
/* Events waiting to be written at once (main thread): one more is written
 * at once with them, so that a flood of sources costs a write per this
 * many, never memory without bound. */
#define SOTTO_SECURITY_LOG_MAX_PENDING  256
/* A subject or detail longer than this many bytes is cut (on a character
 * boundary): the log holds summaries, not what a stranger sent. */
#define SOTTO_SECURITY_LOG_TEXT_MAX     512
/* How many entries `sotto-cli log` and the preferences show by default. */
#define SOTTO_SECURITY_LOG_PAGE         200

/**
 * SottoSecurityEvent:
 * @SOTTO_SECURITY_EVENT_CONNECTION_REFUSED: a connection closed before or
 *   during the handshake; subject: the source address; detail: a
 *   #SottoRefusal name. Summarised per source, reason and hour.
 * @SOTTO_SECURITY_EVENT_BLOCKED_KEY: a blocked contact's key called;
 *   subject: the contact's name; detail: the key's fingerprint.
 *   Summarised per contact and hour.
 * @SOTTO_SECURITY_EVENT_KEY_CHANGED: a contact answered with a key that is
 *   not the pinned one; subject: the name; detail: the new fingerprint
 * @SOTTO_SECURITY_EVENT_KEY_ACCEPTED: the user accepted a changed key
 * @SOTTO_SECURITY_EVENT_KEY_REJECTED: the user blocked or removed a
 *   contact whose key had changed; detail: the refused fingerprint
 * @SOTTO_SECURITY_EVENT_FILE_FLAGGED: a received file the guard warns
 *   about; subject: the sender; detail: the file's name and why
 * @SOTTO_SECURITY_EVENT_FILE_INFECTED: a received file the virus scanner
 *   found infected; subject: the sender; detail: the file's name
 * @SOTTO_SECURITY_EVENT_POLICY_REFUSED: something the policy forbids was
 *   refused; subject: what was tried; detail: who forbade it and why
 * @SOTTO_SECURITY_EVENT_GROUP_REFUSED: a group record or message that
 *   did not come from whom it must (PROTOCOL.md, "Groups"); subject: the
 *   peer that sent it; detail: the group's name or id, and why
 *
 * What an entry of the security log is about. The values are stored:
 * append only.
 */
typedef enum
{
  SOTTO_SECURITY_EVENT_CONNECTION_REFUSED = 1,
  SOTTO_SECURITY_EVENT_BLOCKED_KEY        = 2,
  SOTTO_SECURITY_EVENT_KEY_CHANGED        = 3,
  SOTTO_SECURITY_EVENT_KEY_ACCEPTED       = 4,
  SOTTO_SECURITY_EVENT_KEY_REJECTED       = 5,
  SOTTO_SECURITY_EVENT_FILE_FLAGGED       = 6,
  SOTTO_SECURITY_EVENT_FILE_INFECTED      = 7,
  SOTTO_SECURITY_EVENT_POLICY_REFUSED     = 8,
  SOTTO_SECURITY_EVENT_GROUP_REFUSED      = 9,
} SottoSecurityEvent;

#define SOTTO_SECURITY_EVENT_LAST SOTTO_SECURITY_EVENT_GROUP_REFUSED

/**
 * SottoRefusal:
 * @SOTTO_REFUSAL_NETWORK: the source is outside `allowed-networks`
 * @SOTTO_REFUSAL_TOO_MANY: over a cap on unfinished handshakes or on
 *   handshakes a minute
 * @SOTTO_REFUSAL_FAILED: the handshake failed or was never finished
 *   (garbage, a wrong protocol, silence until the timeout)
 * @SOTTO_REFUSAL_REQUESTS_OFF: a stranger, while contact requests are off
 * @SOTTO_REFUSAL_IGNORED: a stranger the user ignored
 * @SOTTO_REFUSAL_REQUESTS_FULL: a stranger, while every pending request
 *   was being answered
 *
 * Why a connection was refused.
 */
typedef enum
{
  SOTTO_REFUSAL_NETWORK,
  SOTTO_REFUSAL_TOO_MANY,
  SOTTO_REFUSAL_FAILED,
  SOTTO_REFUSAL_REQUESTS_OFF,
  SOTTO_REFUSAL_IGNORED,
  SOTTO_REFUSAL_REQUESTS_FULL,
} SottoRefusal;

/**
 * SottoSecurityLogEntry:
 * @kind: what happened
 * @subject: who or what it is about (see #SottoSecurityEvent)
 * @detail: more about it (see #SottoSecurityEvent)
 * @count: how many times, for a summarised event; else 1
 * @first: when it first happened, µs since the epoch
 * @last: when it last happened
 *
 * One line of the security log.
 */
typedef struct
{
  SottoSecurityEvent  kind;
  char               *subject;
  char               *detail;
  guint               count;
  gint64              first;
  gint64              last;
} SottoSecurityLogEntry;

#define SOTTO_TYPE_SECURITY_LOG_ENTRY (sotto_security_log_entry_get_type ())
GType                  sotto_security_log_entry_get_type (void);
SottoSecurityLogEntry *sotto_security_log_entry_copy     (const SottoSecurityLogEntry *entry);
void                   sotto_security_log_entry_free     (SottoSecurityLogEntry       *entry);
char                  *sotto_security_log_entry_describe (const SottoSecurityLogEntry *entry);
gboolean               sotto_security_event_is_summarised (SottoSecurityEvent         kind);
const char            *sotto_security_event_to_string    (SottoSecurityEvent          kind);
const char            *sotto_refusal_to_string           (SottoRefusal                refusal);
char                  *sotto_security_log_clip           (const char                 *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoSecurityLogEntry, sotto_security_log_entry_free)

G_END_DECLS
