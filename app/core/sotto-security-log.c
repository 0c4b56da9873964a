/* sotto-security-log.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The security log's entries as the front ends show them: one sentence
 * per entry, the same in the preferences and in `sotto-cli log`. The
 * entries themselves live in the store (sotto-store-log.c).
 */
#define G_LOG_DOMAIN "sotto-security-log"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "sotto-security-log.h"
#include "sotto-text.h"

G_DEFINE_BOXED_TYPE (SottoSecurityLogEntry, sotto_security_log_entry,
                     sotto_security_log_entry_copy, sotto_security_log_entry_free)

static const char *const event_names[] = {
  [SOTTO_SECURITY_EVENT_CONNECTION_REFUSED] = "connection-refused",
  [SOTTO_SECURITY_EVENT_BLOCKED_KEY] = "blocked-key",
  [SOTTO_SECURITY_EVENT_KEY_CHANGED] = "key-changed",
  [SOTTO_SECURITY_EVENT_KEY_ACCEPTED] = "key-accepted",
  [SOTTO_SECURITY_EVENT_KEY_REJECTED] = "key-rejected",
  [SOTTO_SECURITY_EVENT_FILE_FLAGGED] = "file-flagged",
  [SOTTO_SECURITY_EVENT_FILE_INFECTED] = "file-infected",
  [SOTTO_SECURITY_EVENT_POLICY_REFUSED] = "policy-refused",
  [SOTTO_SECURITY_EVENT_GROUP_REFUSED] = "group-refused",
};

static const char *const refusal_names[] = {
  [SOTTO_REFUSAL_NETWORK] = "network",
  [SOTTO_REFUSAL_TOO_MANY] = "too-many",
  [SOTTO_REFUSAL_FAILED] = "failed",
  [SOTTO_REFUSAL_REQUESTS_OFF] = "requests-off",
  [SOTTO_REFUSAL_IGNORED] = "ignored",
  [SOTTO_REFUSAL_REQUESTS_FULL] = "requests-full",
};

/**
 * sotto_security_event_to_string:
 *
 * Returns: the event's name in `sotto-cli log --json` ("key-changed")
 */
const char *
sotto_security_event_to_string (SottoSecurityEvent kind)
{
  g_return_val_if_fail (kind >= 1 && kind <= SOTTO_SECURITY_EVENT_LAST, NULL);

  return event_names[kind];
}

/**
 * sotto_refusal_to_string:
 *
 * Returns: the reason's name, as a connection-refused entry's detail
 */
const char *
sotto_refusal_to_string (SottoRefusal refusal)
{
  g_return_val_if_fail (refusal < G_N_ELEMENTS (refusal_names), NULL);

  return refusal_names[refusal];
}

/**
 * sotto_security_event_is_summarised:
 *
 * Returns: whether events of @kind are counted in one entry per subject,
 *   detail and hour rather than written one by one: those a stranger can
 *   cause at will
 */
gboolean
sotto_security_event_is_summarised (SottoSecurityEvent kind)
{
  return kind == SOTTO_SECURITY_EVENT_CONNECTION_REFUSED ||
         kind == SOTTO_SECURITY_EVENT_BLOCKED_KEY ||
         kind == SOTTO_SECURITY_EVENT_KEY_CHANGED;
}

/**
 * sotto_security_log_clip:
 * @text: (nullable): UTF-8 text
 *
 * Returns: (transfer full): @text cut to %SOTTO_SECURITY_LOG_TEXT_MAX bytes
 *   on a character boundary, invalid bytes replaced; "" for %NULL
 */
char *
sotto_security_log_clip (const char *text)
{
  g_autofree char *valid = NULL;

  if (text == NULL)
    return g_strdup ("");
  valid = g_utf8_make_valid (text, -1);
  return sotto_text_utf8_prefix (valid, SOTTO_SECURITY_LOG_TEXT_MAX);
}

SottoSecurityLogEntry *
sotto_security_log_entry_copy (const SottoSecurityLogEntry *entry)
{
  SottoSecurityLogEntry *copy;

  g_return_val_if_fail (entry != NULL, NULL);

  copy = g_memdup2 (entry, sizeof *entry);
  copy->subject = g_strdup (entry->subject);
  copy->detail = g_strdup (entry->detail);
  return copy;
}

void
sotto_security_log_entry_free (SottoSecurityLogEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->subject);
  g_free (entry->detail);
  g_free (entry);
}

static const char *
describe_refusal (const char *name)
{
  if (g_strcmp0 (name, refusal_names[SOTTO_REFUSAL_NETWORK]) == 0)
    return _("the address is outside the allowed networks");
  if (g_strcmp0 (name, refusal_names[SOTTO_REFUSAL_TOO_MANY]) == 0)
    return _("too many connections at once");
  if (g_strcmp0 (name, refusal_names[SOTTO_REFUSAL_REQUESTS_OFF]) == 0)
    return _("a stranger, and contact requests are off");
  if (g_strcmp0 (name, refusal_names[SOTTO_REFUSAL_IGNORED]) == 0)
    return _("a stranger you ignored");
  if (g_strcmp0 (name, refusal_names[SOTTO_REFUSAL_REQUESTS_FULL]) == 0)
    return _("a stranger, while every request was being answered");
  return _("the handshake failed or was never finished");
}

/**
 * sotto_security_log_entry_describe:
 *
 * Returns: (transfer full): one translated sentence saying what happened
 *   (without the time)
 */
char *
sotto_security_log_entry_describe (const SottoSecurityLogEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  switch (entry->kind)
    {
    case SOTTO_SECURITY_EVENT_CONNECTION_REFUSED:
      /* Translators: "Refused 3 connections from 10.0.0.5: too many connections at once" */
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Refused %u connection from %s: %s",
                                           "Refused %u connections from %s: %s", entry->count),
                              entry->count, entry->subject, describe_refusal (entry->detail));
    case SOTTO_SECURITY_EVENT_BLOCKED_KEY:
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "%s, whom you blocked, called %u time (key %s)",
                                           "%s, whom you blocked, called %u times (key %s)",
                                           entry->count),
                              entry->subject, entry->count, entry->detail);
    case SOTTO_SECURITY_EVENT_KEY_CHANGED:
      return g_strdup_printf (_("%s answered with a different key (%s): nothing is sent to "
                                "them until you compare it"),
                              entry->subject, entry->detail);
    case SOTTO_SECURITY_EVENT_KEY_ACCEPTED:
      return g_strdup_printf (_("You accepted the new key of %s (%s)"),
                              entry->subject, entry->detail);
    case SOTTO_SECURITY_EVENT_KEY_REJECTED:
      return g_strdup_printf (_("You refused the new key of %s (%s): the contact was blocked "
                                "or removed"),
                              entry->subject, entry->detail);
    case SOTTO_SECURITY_EVENT_FILE_FLAGGED:
      return g_strdup_printf (_("A file from %s was flagged: %s"), entry->subject, entry->detail);
    case SOTTO_SECURITY_EVENT_FILE_INFECTED:
      return g_strdup_printf (_("A file from %s was found infected: %s"),
                              entry->subject, entry->detail);
    case SOTTO_SECURITY_EVENT_POLICY_REFUSED:
      if (entry->subject[0] == '\0')
        return g_strdup_printf (_("Refused by policy: %s"), entry->detail);
      return g_strdup_printf (_("Refused by policy (%s): %s"), entry->subject, entry->detail);
    case SOTTO_SECURITY_EVENT_GROUP_REFUSED:
      return g_strdup_printf (_("A group change or message from %s was refused: %s"),
                              entry->subject, entry->detail);
    default:
      return g_strdup_printf (_("An event this version does not know (%d)"), entry->kind);
    }
}
