/* sotto-store-private.h — the store's internals, shared by its files, and
 * entry points for tests and benchmarks only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sqlite3.h>

#include "sotto-profile-lock.h"
#include "sotto-policy.h"
#include "sotto-store.h"

G_BEGIN_DECLS

/* -------------------------------------------------------------------------
 * For tests and benchmarks
 * ------------------------------------------------------------------------- */

void     _sotto_store_insert_history_async  (SottoStore          *self,
                                             SottoContact        *contact,
                                             GPtrArray           *bodies,
                                             gint64               first_time,
                                             gint64               step,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean _sotto_store_insert_history_finish (SottoStore          *self,
                                             GAsyncResult        *result,
                                             GError             **error);
void     _sotto_store_exec_async            (SottoStore          *self,
                                             const char          *sql,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean _sotto_store_exec_finish           (SottoStore          *self,
                                             GAsyncResult        *result,
                                             GError             **error);
void     _sotto_store_set_write_retry_ms    (SottoStore          *self,
                                             guint                interval_ms);

/* -------------------------------------------------------------------------
 * Shared by sotto-store*.c only
 * ------------------------------------------------------------------------- */

#define STORE_ID_LEN 16

struct _SottoStore
{
  GObject             parent_instance;

  /* construct-only */
  char               *profile_dir;
  char               *db_path;

  /* main thread */
  SottoIdentity      *identity;
  SottoPolicy        *policy;          /* what the user may do; NULL: anything */
  guint8             *ignore_tag_key;  /* sotto-store-ignored.c */
  GHashTable         *ignored;         /* tag hex → gint64 until */
  GListStore         *contacts;
  /* sotto-store-log.c: events not written yet, by what merges them */
  GHashTable         *log_pending;     /* key → SottoSecurityLogEntry */
  gboolean            log_writing;     /* a batch is on the worker */
  guint64             log_serial;      /* keys of events never merged */
  GHashTable         *contacts_by_id;  /* id → contact or member-only peer (owned) */
  GListStore         *members;         /* member-only peers a group lists */
  GListStore         *groups;          /* SottoGroup (sotto-store-groups.c) */
  guint               n_damaged_contacts;  /* left out of the list at open */

  /* worker thread (and finalize, once the worker has stopped) */
  GThreadPool        *pool;
  GThread            *worker;          /* the pool's one thread, set by its first job */
  SottoProfileLock   *lock;
  sqlite3            *db;
  /* SQL text (a literal) → prepared statement, for what runs per message */
  GHashTable         *statements;
  guint8             *key;
  guint8             *mac_key;         /* derived from key: sotto_row_mac() */
  char               *store_id;
  SottoKeyProtection  protection;
  /* history-enabled, as the last retention applied it: decides whether a
   * message outlives its delivery */
  gboolean            keep_history;
  gboolean            job_wrote;       /* the current job began a write transaction */
  /* contact id → GArray of Unstored (sotto-store-messages.c): messages
   * received while history was off and not marked read yet. Unread like
   * any other, but only for as long as the store is open. */
  GHashTable         *unstored;

  /* main thread: the protection as of the last completed job */
  SottoKeyProtection  key_protection;
  /* main thread: why the last write failed, until one succeeds */
  GError             *write_error;
  guint               write_retry_source;
  guint               write_retry_ms;
  gboolean            write_probing;
};

/* The worker (sotto-store.c) */

/* The connection, the key and the rest of the worker's state are used on
 * the worker thread only: every function that touches them starts with
 * this, and a failure names the function that was called elsewhere. */
#define _sotto_store_assert_worker(self)              \
  G_STMT_START {                                      \
    g_assert (SOTTO_IS_STORE (self));                 \
    g_assert (g_thread_self () == (self)->worker);    \
  } G_STMT_END

typedef gpointer (*StoreJobFunc)   (SottoStore    *self,
                                    gpointer       data,
                                    GCancellable  *cancellable,
                                    GError       **error);
typedef gpointer (*StoreApplyFunc) (SottoStore    *self,
                                    gpointer       data,
                                    gpointer       result);

void     _sotto_store_schedule       (SottoStore          *self,
                                      gpointer             source_tag,
                                      StoreJobFunc         run,
                                      StoreApplyFunc       apply,
                                      gpointer             data,
                                      GDestroyNotify       data_free,
                                      GDestroyNotify       result_free,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
gpointer _sotto_store_job_get_data   (GTask               *task);
void     _sotto_store_run_in_context (GMainContext        *context,
                                      GSourceFunc          func,
                                      gpointer             data);

/* Ignored strangers (sotto-store-ignored.c) */
#define SOTTO_STORE_IGNORE_TAG_LEN 32
gboolean _sotto_store_load_ignored   (SottoStore          *self,
                                      guint8             **out_tag_key,
                                      GHashTable         **out_ignored,
                                      GError             **error);

/* Groups (sotto-store-groups.c) */
GPtrArray *_sotto_store_load_groups      (SottoStore    *self,
                                          GError       **error);
void       _sotto_store_groups_set       (SottoStore    *self,
                                          GPtrArray     *groups);
gint64     _sotto_store_group_receipt    (SottoStore    *self,
                                          gint64         contact_id,
                                          const guint8  *uid,
                                          gboolean      *out_settled,
                                          GError       **error);
gboolean   _sotto_store_expire_group_owed (SottoStore  *self,
                                           gint64       cutoff,
                                           GArray      *failed,
                                           GError     **error);
GPtrArray *_sotto_store_list_group_owed  (SottoStore    *self,
                                          gint64         contact_id,
                                          GError       **error);
gint64     _sotto_store_insert_message   (SottoStore        *self,
                                          gint64             conversation_id,
                                          gint64             sender_id,
                                          const guint8      *uid,
                                          SottoDirection     direction,
                                          SottoMessageState  state,
                                          gint64             sent,
                                          gint64             received,
                                          const char        *body,
                                          GError           **error);

/* Signals, on the main thread (sotto-store.c) */

void _sotto_store_emit_message_added         (SottoStore        *self,
                                              SottoMessage      *message);
void _sotto_store_emit_message_state_changed (SottoStore        *self,
                                              gint64             contact_id,
                                              gint64             message_id,
                                              SottoMessageState  state);
void _sotto_store_emit_history_purged        (SottoStore        *self,
                                              gint64             contact_id,
                                              guint              deleted);
void _sotto_store_emit_security_log_changed (SottoStore        *self);
void _sotto_store_emit_conversation_read     (SottoStore        *self,
                                              gint64             contact_id);

/* SQLite, on the worker thread (sotto-store.c) */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* A statement from the store's cache (_sotto_store_db_cached()): going out
 * of scope resets it for the next use instead of finalizing it. */
typedef sqlite3_stmt CachedStmt;

void _sotto_store_cached_stmt_release (CachedStmt *stmt);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CachedStmt, _sotto_store_cached_stmt_release)

gboolean      _sotto_store_set_db_error  (GError        **error,
                                          sqlite3        *db,
                                          int             rc,
                                          const char     *what);
gboolean      _sotto_store_db_exec       (SottoStore     *self,
                                          const char     *sql,
                                          GError        **error);
sqlite3_stmt *_sotto_store_db_cached     (SottoStore     *self,
                                          const char     *sql,
                                          GError        **error);
gboolean      _sotto_store_db_run_cached (SottoStore     *self,
                                          const char     *sql,
                                          GError        **error);
sqlite3_stmt *_sotto_store_db_prepare    (SottoStore     *self,
                                          const char     *sql,
                                          GError        **error);
gboolean      _sotto_store_db_step_done  (SottoStore     *self,
                                          sqlite3_stmt   *stmt,
                                          GError        **error);
gboolean      _sotto_store_db_begin      (SottoStore     *self,
                                          GError        **error);
gboolean      _sotto_store_db_commit     (SottoStore     *self,
                                          GError        **error);
void          _sotto_store_db_rollback   (SottoStore     *self);
gint64        _sotto_store_db_next_id    (SottoStore     *self,
                                          const char     *table,
                                          GError        **error);

/* Schema and migrations (sotto-store-schema.c) */

gboolean _sotto_store_db_configure     (SottoStore  *self,
                                        GError     **error);
gboolean _sotto_store_db_create_tables (SottoStore  *self,
                                        GError     **error);
gboolean _sotto_store_db_migrate       (SottoStore  *self,
                                        gint64       from_version,
                                        GError     **error);
gboolean _sotto_store_db_open_existing (SottoStore  *self,
                                        GError     **error);
gboolean _sotto_store_db_upgrade       (SottoStore  *self,
                                        GError     **error);

/* The store key and sealed columns (sotto-store-seal.c) */

/* The clear columns a row's mac authenticates (see sotto-store-seal.c),
 * as SQL: sotto_row_mac() over them, always in this order. A message is
 * bound to its contact, through its conversation. */
#define CONTACT_MAC(id, public_key, verification, blocked, offered_key, member_only,   \
                    signing_key)                                                      \
  "sotto_row_mac('contacts', " id ", " public_key ", " verification ", " blocked      \
  ", " offered_key ", " member_only ", " signing_key ")"
#define CONTACT_ROW_MAC \
  CONTACT_MAC ("contacts.id", "contacts.public_key", "contacts.verification", \
               "contacts.blocked", "contacts.offered_key", "contacts.member_only", \
               "contacts.signing_key")

/* Whom a message is with, as its mac binds it: the contact of a direct
 * conversation (the value before groups, so those macs stand), or for a
 * group's the text "group G from S", S the sender's contact id (0: us). */
#define MESSAGE_PARTY(contact_id, group_id, sender_id)                              \
  "(CASE WHEN " group_id " IS NULL THEN " contact_id                                \
  " ELSE 'group ' || " group_id " || ' from ' || " sender_id " END)"

#define MESSAGE_MAC(id, party, uid, direction, state, sent, received)               \
  "sotto_row_mac('messages', " id ", " party ", " uid ", " direction ", " state     \
  ", " sent ", " received ")"
/* In an UPDATE of messages: the row's own values, with @state for its
 * state (the new one, or "messages.state"). */
#define MESSAGE_ROW_MAC(state)                                                      \
  MESSAGE_MAC ("messages.id",                                                       \
               "(SELECT " MESSAGE_PARTY ("mc.contact_id", "mc.group_id",            \
                                         "messages.sender_id")                      \
               " FROM conversations mc WHERE mc.id = messages.conversation_id)",    \
               "messages.uid", "messages.direction", state, "messages.sent",       \
               "messages.received")

typedef struct
{
  char               *display_name;
  SottoKeyProtection  protection;
  char               *passphrase;   /* sodium_malloc() */
  guint64             opslimit;
  guint64             memlimit;
} KeyRequest;

char       *_sotto_store_secure_strdup           (const char          *s);
KeyRequest *_sotto_store_key_request_new         (const char          *display_name,
                                                  SottoKeyProtection   protection,
                                                  const char          *passphrase,
                                                  guint64              opslimit,
                                                  guint64              memlimit);
void        _sotto_store_key_request_free        (KeyRequest          *request);
char       *_sotto_store_dup_keyring_label       (SottoStore          *self);
gboolean    _sotto_store_write_keyinfo           (SottoStore          *self,
                                                  KeyRequest          *request,
                                                  gboolean             insert,
                                                  GError             **error);
gboolean    _sotto_store_read_keyinfo_and_unlock (SottoStore          *self,
                                                  const char          *passphrase,
                                                  GCancellable        *cancellable,
                                                  GError             **error);
gboolean    _sotto_store_register_row_mac        (SottoStore          *self,
                                                  GError             **error);
gboolean    _sotto_store_row_mac_matches         (sqlite3_stmt        *stmt,
                                                  int                  mac_col,
                                                  int                  expected_col);
void        _sotto_store_bind_sealed             (sqlite3_stmt        *stmt,
                                                  int                  index,
                                                  GBytes              *sealed);
GBytes     *_sotto_store_seal_string             (SottoStore          *self,
                                                  const char          *table,
                                                  const char          *column,
                                                  gint64               rowid,
                                                  const char          *text);
char       *_sotto_store_unseal_string           (SottoStore          *self,
                                                  sqlite3_stmt        *stmt,
                                                  int                  col,
                                                  const char          *table,
                                                  const char          *column,
                                                  gint64               rowid,
                                                  GError             **error);

/* The security log (sotto-store-log.c) */

gboolean _sotto_store_purge_log (SottoStore  *self,
                                 gint64       before,
                                 GError     **error);

/* Contacts (sotto-store-contacts.c) */

GPtrArray *_sotto_store_load_contacts   (SottoStore    *self,
                                         guint         *n_damaged,
                                         GError       **error);
void       _sotto_store_contacts_insert (SottoStore    *self,
                                         SottoContact  *contact);
SottoContact *_sotto_store_contacts_replace (SottoStore   *self,
                                             SottoContact *fresh);
SottoContact *_sotto_store_load_contact   (SottoStore    *self,
                                           gint64         id,
                                           GError       **error);
gboolean   _sotto_store_bind_contact_row (SottoStore    *self,
                                          gint64         id,
                                          GError       **error);

/* Messages (sotto-store-messages.c) */

/* With m for messages and c for its conversation. */
#define MESSAGE_COLUMNS \
  "m.id, c.contact_id, m.uid, m.direction, m.state, m.sent, m.received, m.body, m.mac, " \
  MESSAGE_MAC ("m.id", MESSAGE_PARTY ("c.contact_id", "c.group_id", "m.sender_id"), "m.uid", \
               "m.direction", "m.state", "m.sent", "m.received") ", c.group_id, m.sender_id"

typedef struct
{
  gint64             contact_id;
  guint8             uid[SOTTO_MESSAGE_UID_LEN];
  gint64             sent;
  char              *body;
  gint64             before_id;
  guint              limit;
  gboolean           is_new;
  gint64             delivered_id;  /* the message whose state changed, or 0 */
  SottoMessageState  target_state;  /* the peer's receipts: delivered or read */
  gint64             up_to_id;      /* marking read: the newest message shown */
  guint              n_damaged;     /* rows left out of a page: they did not authenticate */
  gint64             group_id;      /* a group's history instead of a contact's */
  gint64             group_message_id;  /* a receipt paid what a group message owed */
} MessageRequest;

void          _sotto_store_message_request_free (MessageRequest  *request);
void          _sotto_store_schedule_list        (SottoStore          *self,
                                                 gpointer             source_tag,
                                                 StoreJobFunc         run,
                                                 SottoContact        *contact,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
GPtrArray    *_sotto_store_load_messages        (SottoStore      *self,
                                                 sqlite3_stmt    *stmt,
                                                 guint            max,
                                                 guint           *n_damaged,
                                                 GError         **error);
SottoMessage *_sotto_store_load_message         (SottoStore      *self,
                                                 gint64           id,
                                                 GError         **error);

G_END_DECLS
