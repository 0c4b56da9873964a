/* sotto-store-schema.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The store's tables, the migrations that bring an older file up to
 * date, and the checks an existing file passes before it is used.
 */
#define G_LOG_DOMAIN "sotto-store"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "sotto-error.h"
#include "sotto-store-private.h"

/* Per-connection settings: WAL for crash safety with one writer,
 * secure_delete so deleted text is overwritten, not just unlinked. */
gboolean
_sotto_store_db_configure (SottoStore  *self,
                           GError     **error)
{
  _sotto_store_assert_worker (self);

  return _sotto_store_db_exec (self,
                               "PRAGMA foreign_keys = ON;"
                               "PRAGMA secure_delete = ON;"
                               "PRAGMA journal_mode = WAL;"
                               "PRAGMA synchronous = FULL;"
                               "PRAGMA trusted_schema = OFF;",
                               error);
}

static const char *schema_v1 =
  "CREATE TABLE keyinfo ("
  "  id INTEGER PRIMARY KEY CHECK (id = 1),"
  "  store_id TEXT NOT NULL,"
  "  protection INTEGER NOT NULL,"
  "  pwhash_salt BLOB,"
  "  pwhash_opslimit INTEGER,"
  "  pwhash_memlimit INTEGER,"
  "  wrapped_key BLOB,"
  "  key_check BLOB NOT NULL"
  ");"
  "CREATE TABLE identity ("
  "  id INTEGER PRIMARY KEY CHECK (id = 1),"
  "  public_key BLOB NOT NULL,"
  "  secret_key BLOB NOT NULL,"
  "  display_name BLOB NOT NULL,"
  "  created INTEGER NOT NULL"
  ");"
  "CREATE TABLE contacts ("
  "  id INTEGER PRIMARY KEY,"
  "  public_key BLOB NOT NULL UNIQUE,"
  "  display_name BLOB NOT NULL,"
  "  alias BLOB,"
  "  verification INTEGER NOT NULL DEFAULT 0,"
  "  blocked INTEGER NOT NULL DEFAULT 0,"
  "  addresses BLOB,"
  "  added INTEGER NOT NULL"
  ");"
  "CREATE TABLE conversations ("
  "  id INTEGER PRIMARY KEY,"
  "  contact_id INTEGER NOT NULL UNIQUE REFERENCES contacts (id) ON DELETE CASCADE,"
  "  last_activity INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE TABLE messages ("
  "  id INTEGER PRIMARY KEY,"
  "  conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,"
  "  uid BLOB NOT NULL,"
  "  direction INTEGER NOT NULL,"
  "  state INTEGER NOT NULL,"
  "  sent INTEGER NOT NULL,"
  "  received INTEGER NOT NULL DEFAULT 0,"
  "  read INTEGER NOT NULL DEFAULT 0,"
  "  body BLOB NOT NULL,"
  "  UNIQUE (conversation_id, uid)"
  ");"
  "CREATE TABLE outbox ("
  "  message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,"
  "  queued INTEGER NOT NULL,"
  "  attempts INTEGER NOT NULL DEFAULT 0"
  ");";

/* The macs as version 7 defined them, before groups: what migration 7
 * wrote, and what migration 11 checks before it signs a row again. */
#define CONTACT_MAC_V7 \
  "sotto_row_mac('contacts', contacts.id, contacts.public_key, contacts.verification, " \
  "contacts.blocked, contacts.offered_key)"
#define MESSAGE_MAC_V7 \
  "sotto_row_mac('messages', messages.id, (SELECT mc.contact_id FROM conversations mc " \
  "WHERE mc.id = messages.conversation_id), messages.uid, messages.direction, " \
  "messages.state, messages.sent, messages.received)"

/* migrations[v] takes a database from version v + 1 to v + 2. New
 * databases are made by schema_v1 and then every migration, so a new file
 * and a migrated one are the same. Append only; never edit one that
 * shipped, and add a fixture of the old version to tests/core/fixtures/. */
static const char *migrations[] = {
  /* 2: history pages and per-conversation purges walk this index instead of
   * the whole table. */
  "CREATE INDEX messages_by_conversation ON messages (conversation_id, id);",
  /* 3: ids are handed out from counters, never reused after a delete: a
   * front end still holding a removed contact must not reach the next one,
   * and an old sealed value must not fit a new row. */
  "CREATE TABLE id_counters (name TEXT PRIMARY KEY, next INTEGER NOT NULL) WITHOUT ROWID;"
  "INSERT INTO id_counters SELECT 'contacts', IFNULL(MAX(id), 0) + 1 FROM contacts;"
  "INSERT INTO id_counters SELECT 'messages', IFNULL(MAX(id), 0) + 1 FROM messages;",
  /* 4: with history off a received message is shown, not stored; its id
   * alone is remembered, so that the sender's retry is not shown twice. */
  "CREATE TABLE seen ("
  "  contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,"
  "  uid BLOB NOT NULL,"
  "  received INTEGER NOT NULL,"
  "  PRIMARY KEY (contact_id, uid)"
  ") WITHOUT ROWID;",
  /* 5: the buddy list counts unread messages of every conversation, and
   * marking read finds them: both walk only the unread ones, not the whole
   * history (at 100,000 messages, 1 ms instead of 150 ms). Nothing before
   * this version marked messages read, so what was received until now
   * counts as read when it arrived: an old history must not come back as
   * thousands of unread messages. */
  "UPDATE messages SET read = MAX(received, 1) WHERE direction = 1 AND read = 0;"
  "CREATE INDEX messages_unread ON messages (conversation_id, id) "
  "  WHERE direction = 1 AND read = 0;",
  /* 6: the key a contact's address answered with instead of the pinned
   * one, kept with the key-changed mark so that the user can compare it
   * and accept it in place. Public, like public_key; NULL for a contact
   * marked before this version, whose new key was never kept. */
  "ALTER TABLE contacts ADD COLUMN offered_key BLOB;",
  /* 7: the clear columns that decide trust and meaning are bound to the
   * store key by a MAC per row (see sotto-store-seal.c). Runs with the
   * key: rows as they stand now are taken as written by Sotto. */
  "ALTER TABLE contacts ADD COLUMN mac BLOB;"
  "ALTER TABLE messages ADD COLUMN mac BLOB;"
  "UPDATE contacts SET mac = " CONTACT_MAC_V7 ";"
  "UPDATE messages SET mac = " MESSAGE_MAC_V7 ";",
  /* 8: files offered and received (sotto-store-transfers.c), one row per
   * transfer and direction; name, type, first bytes and path sealed, the
   * rest bound by the row's mac. */
  "CREATE TABLE transfers ("
  "  id INTEGER PRIMARY KEY,"
  "  contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,"
  "  uid BLOB NOT NULL,"
  "  direction INTEGER NOT NULL,"
  "  offered INTEGER NOT NULL,"
  "  received INTEGER NOT NULL DEFAULT 0,"
  "  size INTEGER NOT NULL,"
  "  hash BLOB NOT NULL,"
  "  name BLOB NOT NULL,"
  "  type BLOB NOT NULL,"
  "  head BLOB NOT NULL,"
  "  state INTEGER NOT NULL,"
  "  reason INTEGER NOT NULL DEFAULT 0,"
  "  by_peer INTEGER NOT NULL DEFAULT 0,"
  "  path BLOB,"
  "  progress INTEGER NOT NULL DEFAULT 0,"
  "  scan INTEGER NOT NULL DEFAULT 0,"
  "  owes INTEGER NOT NULL DEFAULT 0,"
  "  owed_uid BLOB,"
  "  owed_code INTEGER NOT NULL DEFAULT 0,"
  "  updated INTEGER NOT NULL,"
  "  mac BLOB,"
  "  UNIQUE (contact_id, uid, direction)"
  ");"
  "INSERT INTO id_counters VALUES ('transfers', 1);",
  /* 9: strangers the user ignored, by a keyed tag of their key (see
   * sotto-store-ignored.c), until a time. */
  "CREATE TABLE ignored_keys ("
  "  tag BLOB PRIMARY KEY,"
  "  until INTEGER NOT NULL"
  ") WITHOUT ROWID;",
  /* 10: the security log (see sotto-store-log.c): subject and detail
   * sealed; kind, tag, count and times bound by the row's mac; a
   * summarised entry found again by its keyed tag. */
  "CREATE TABLE security_log ("
  "  id INTEGER PRIMARY KEY,"
  "  kind INTEGER NOT NULL,"
  "  tag BLOB UNIQUE,"
  "  count INTEGER NOT NULL,"
  "  first INTEGER NOT NULL,"
  "  last INTEGER NOT NULL,"
  "  subject BLOB NOT NULL,"
  "  detail BLOB NOT NULL,"
  "  mac BLOB"
  ");"
  "CREATE INDEX security_log_by_last ON security_log (last);"
  "INSERT INTO id_counters VALUES ('security_log', 1);",
  /* 11: groups (sotto-store-groups.c). A contact row may be a member-only
   * peer (1: listed in a group we are in; 2: no longer, kept for the
   * names in old messages); a peer's signing key, as its sessions told
   * it; both bound by the row's mac, which is signed again only where
   * it still matches. A conversation is a contact's or a group's; a
   * message of a group has its sender, and ids are unique per sender.
   * SQLite cannot change those constraints in place: the two tables are
   * rebuilt, with foreign keys off for the migration. */
  "ALTER TABLE contacts ADD COLUMN member_only INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE contacts ADD COLUMN signing_key BLOB;"
  "UPDATE contacts SET mac = " CONTACT_ROW_MAC " WHERE mac IS " CONTACT_MAC_V7 ";"
  "CREATE TABLE groups ("
  "  id INTEGER PRIMARY KEY,"
  "  gid BLOB NOT NULL UNIQUE,"
  "  version INTEGER NOT NULL,"
  "  state BLOB NOT NULL,"
  "  added INTEGER NOT NULL"
  ");"
  "CREATE TABLE group_records ("
  "  id INTEGER PRIMARY KEY,"
  "  group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,"
  "  version INTEGER NOT NULL,"
  "  record BLOB NOT NULL"
  ");"
  "CREATE INDEX group_records_by_group ON group_records (group_id, version);"
  "CREATE TABLE conversations_v11 ("
  "  id INTEGER PRIMARY KEY,"
  "  contact_id INTEGER UNIQUE REFERENCES contacts (id) ON DELETE CASCADE,"
  "  group_id INTEGER UNIQUE REFERENCES groups (id) ON DELETE CASCADE,"
  "  last_activity INTEGER NOT NULL DEFAULT 0,"
  "  CHECK ((contact_id IS NULL) <> (group_id IS NULL))"
  ");"
  "INSERT INTO conversations_v11 (id, contact_id, last_activity) "
  "  SELECT id, contact_id, last_activity FROM conversations;"
  "DROP TABLE conversations;"
  "ALTER TABLE conversations_v11 RENAME TO conversations;"
  "CREATE TABLE messages_v11 ("
  "  id INTEGER PRIMARY KEY,"
  "  conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,"
  "  sender_id INTEGER NOT NULL DEFAULT 0,"
  "  uid BLOB NOT NULL,"
  "  direction INTEGER NOT NULL,"
  "  state INTEGER NOT NULL,"
  "  sent INTEGER NOT NULL,"
  "  received INTEGER NOT NULL DEFAULT 0,"
  "  read INTEGER NOT NULL DEFAULT 0,"
  "  body BLOB NOT NULL,"
  "  mac BLOB,"
  "  UNIQUE (conversation_id, sender_id, uid)"
  ");"
  "INSERT INTO messages_v11 (id, conversation_id, uid, direction, state, sent, received, read, "
  "  body, mac) SELECT id, conversation_id, uid, direction, state, sent, received, read, body, "
  "  mac FROM messages;"
  "DROP TABLE messages;"
  "ALTER TABLE messages_v11 RENAME TO messages;"
  "CREATE INDEX messages_by_conversation ON messages (conversation_id, id);"
  "CREATE INDEX messages_unread ON messages (conversation_id, id) "
  "  WHERE direction = 1 AND read = 0;"
  "CREATE TABLE group_outbox ("
  "  message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,"
  "  contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,"
  "  queued INTEGER NOT NULL,"
  "  delivered INTEGER NOT NULL DEFAULT 0,"
  "  PRIMARY KEY (message_id, contact_id)"
  ") WITHOUT ROWID;"
  "CREATE INDEX group_outbox_owed ON group_outbox (contact_id, message_id) WHERE delivered = 0;"
  "INSERT INTO id_counters VALUES ('groups', 1), ('group_records', 1);",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == SOTTO_STORE_SCHEMA_VERSION - 1);

/* A new database's tables as of version 1: _sotto_store_db_migrate()
 * takes them to the current version. */
gboolean
_sotto_store_db_create_tables (SottoStore  *self,
                               GError     **error)
{
  _sotto_store_assert_worker (self);

  return _sotto_store_db_exec (self, schema_v1, error);
}

/* Runs inside the caller's transaction, with sotto_row_mac() registered
 * (_sotto_store_register_row_mac()). */
gboolean
_sotto_store_db_migrate (SottoStore  *self,
                         gint64       from_version,
                         GError     **error)
{
  g_autofree char *set_version = NULL;

  _sotto_store_assert_worker (self);

  for (gint64 v = from_version; v < SOTTO_STORE_SCHEMA_VERSION; v++)
    if (!_sotto_store_db_exec (self, migrations[v - 1], error))
      return FALSE;

  set_version = g_strdup_printf ("PRAGMA user_version = %d", SOTTO_STORE_SCHEMA_VERSION);
  return _sotto_store_db_exec (self, set_version, error);
}

/* Opens the file and checks it is a healthy Sotto database we can use. */
gboolean
_sotto_store_db_open_existing (SottoStore  *self,
                               GError     **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint64 application_id;
  gint64 version;
  int rc;

  _sotto_store_assert_worker (self);

  rc = sqlite3_open_v2 (self->db_path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
                        NULL);
  if (rc != SQLITE_OK)
    return _sotto_store_set_db_error (error, self->db, rc, _("opening"));

  sqlite3_extended_result_codes (self->db, TRUE);

  /* Reads only: a damaged file is reported, never written to. */
  if ((stmt = _sotto_store_db_prepare (self, "PRAGMA application_id", error)) == NULL)
    return FALSE;
  if ((rc = sqlite3_step (stmt)) != SQLITE_ROW)
    return _sotto_store_set_db_error (error, self->db, rc, _("reading the header"));
  application_id = sqlite3_column_int64 (stmt, 0);
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (application_id != SOTTO_STORE_APPLICATION_ID)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                   _("“%s” is not a Sotto history database"), self->db_path);
      return FALSE;
    }

  if ((stmt = _sotto_store_db_prepare (self, "PRAGMA user_version", error)) == NULL)
    return FALSE;
  if ((rc = sqlite3_step (stmt)) != SQLITE_ROW)
    return _sotto_store_set_db_error (error, self->db, rc, _("reading the header"));
  version = sqlite3_column_int64 (stmt, 0);
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (version > SOTTO_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_STORE,
                   _("This profile was written by a newer version of Sotto "
                     "(history format %lld, this version reads up to %d)"),
                   (long long)version, SOTTO_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  if (version < 1)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                   _("The history database “%s” was never completely created"), self->db_path);
      return FALSE;
    }

  if ((stmt = _sotto_store_db_prepare (self, "PRAGMA quick_check", error)) == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return _sotto_store_set_db_error (error, self->db, rc, _("checking integrity"));
  if (g_strcmp0 ((const char *)sqlite3_column_text (stmt, 0), "ok") != 0)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
                   _("The history database is damaged: %s"),
                   (const char *)sqlite3_column_text (stmt, 0));
      return FALSE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* The check read every page: hand back the cache it filled rather than
   * keep it for as long as the profile is open. */
  sqlite3_db_release_memory (self->db);

  return _sotto_store_db_configure (self, error);
}

static gboolean
foreign_keys_intact (SottoStore  *self,
                     GError     **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  _sotto_store_assert_worker (self);

  if ((stmt = _sotto_store_db_prepare (self, "PRAGMA foreign_key_check", error)) == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc != SQLITE_ROW)
    return _sotto_store_set_db_error (error, self->db, rc, _("checking references"));
  g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED,
               _("The history database is damaged: a row of “%s” refers to one that is gone"),
               (const char *)sqlite3_column_text (stmt, 0));
  return FALSE;
}

/* Brings a file that _sotto_store_db_open_existing() accepted up to date,
 * once the store key has opened it: the MACs of version 7 need the key,
 * and a wrong key or passphrase changes nothing. */
gboolean
_sotto_store_db_upgrade (SottoStore  *self,
                         GError     **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint64 version;
  int rc;

  _sotto_store_assert_worker (self);

  if ((stmt = _sotto_store_db_prepare (self, "PRAGMA user_version", error)) == NULL)
    return FALSE;
  if ((rc = sqlite3_step (stmt)) != SQLITE_ROW)
    return _sotto_store_set_db_error (error, self->db, rc, _("reading the header"));
  version = sqlite3_column_int64 (stmt, 0);
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* Only a file that passed the checks is ever migrated, all in one
   * transaction: a failure leaves it as it was. */
  if (version < SOTTO_STORE_SCHEMA_VERSION)
    {
      /* Rebuilding a table (version 11) drops the old one: with foreign
       * keys on, that would delete what refers to it. They are off for
       * the migration, which must leave every reference intact. */
      if (!_sotto_store_db_exec (self, "PRAGMA foreign_keys = OFF", error))
        return FALSE;
      if (!_sotto_store_db_begin (self, error) ||
          !_sotto_store_db_migrate (self, version, error) ||
          !foreign_keys_intact (self, error) ||
          !_sotto_store_db_commit (self, error))
        {
          _sotto_store_db_rollback (self);
          _sotto_store_db_exec (self, "PRAGMA foreign_keys = ON", NULL);
          return FALSE;
        }
      if (!_sotto_store_db_exec (self, "PRAGMA foreign_keys = ON", error))
        return FALSE;
      g_debug ("Migrated %s from history format %lld to %d", self->db_path,
               (long long)version, SOTTO_STORE_SCHEMA_VERSION);
    }

  return TRUE;
}
