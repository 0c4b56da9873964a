/* sotto-store.h — the profile's encrypted database
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "sotto-contact.h"
#include "sotto-group.h"
#include "sotto-identity.h"
#include "sotto-invite.h"
#include "sotto-message.h"
#include "sotto-policy.h"
#include "sotto-security-log.h"
#include "sotto-store-key.h"
#include "sotto-transfer.h"

G_BEGIN_DECLS

#define SOTTO_STORE_FILENAME       "sotto.db"
#define SOTTO_STORE_SCHEMA_VERSION 11
/* PRAGMA application_id: "Sott" — tells our file from any other SQLite file. */
#define SOTTO_STORE_APPLICATION_ID 0x536f7474
#define SOTTO_HISTORY_PAGE_MAX     1000
/* Search text: enough for any phrase, bounded like every other input. */
#define SOTTO_SEARCH_TEXT_MAX      1024
/* Matches are handed to the caller in batches of at most this many. */
#define SOTTO_SEARCH_BATCH         64
/* With history off, the ids of received messages are kept this long so
 * that a retry is still recognised: a sender retries for far less. */
#define SOTTO_SEEN_KEEP_DAYS       30
/* An outgoing message still without its delivered receipt this many days
 * after it was queued becomes %SOTTO_MESSAGE_FAILED and leaves the outbox:
 * after a week without delivery the sender should hear about it rather
 * than wait silently. A retry queues it again, for as long again. */
#define SOTTO_OUTBOX_EXPIRY_DAYS   7
/* While writing fails (a full disk), a small write is tried this often:
 * the first one that succeeds clears SottoStore:write-error. */
#define SOTTO_STORE_WRITE_RETRY_SECONDS 5


/**
 * SottoConversationSummary:
 * @contact_id: the conversation's contact
 * @unread: incoming messages on disk not marked read
 * @last_activity: when the newest message was sent or received, µs since
 *   the epoch; 0 for none yet
 *
 * What the buddy list shows of a conversation without opening it.
 */
typedef struct
{
  gint64 contact_id;
  guint  unread;
  gint64 last_activity;
} SottoConversationSummary;

#define SOTTO_TYPE_CONVERSATION_SUMMARY (sotto_conversation_summary_get_type ())
GType                     sotto_conversation_summary_get_type (void);
SottoConversationSummary *sotto_conversation_summary_copy (const SottoConversationSummary *summary);
void                      sotto_conversation_summary_free (SottoConversationSummary *summary);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoConversationSummary, sotto_conversation_summary_free)

/**
 * SottoContactMatch:
 * @SOTTO_CONTACT_MATCH_KEY: the invite's key is the contact's, pinned or
 *   offered
 * @SOTTO_CONTACT_MATCH_NAME: the invite's name is the contact's name or alias
 *
 * What an invite has in common with a contact (sotto_store_match_invite()).
 */
typedef enum
{
  SOTTO_CONTACT_MATCH_NONE = 0,
  SOTTO_CONTACT_MATCH_KEY  = 1 << 0,
  SOTTO_CONTACT_MATCH_NAME = 1 << 1,
} SottoContactMatch;

#define SOTTO_TYPE_STORE (sotto_store_get_type ())

G_DECLARE_FINAL_TYPE (SottoStore, sotto_store, SOTTO, STORE, GObject)

/**
 * SottoSearchFunc:
 * @matches: (element-type SottoMessage): the next matches, newest first
 *
 * Called on the caller's main context as matches are found, before the
 * search completes.
 */
typedef void (*SottoSearchFunc) (SottoStore *store,
                                 GPtrArray  *matches,
                                 gpointer    user_data);

void                sotto_store_create_async              (const char          *profile_dir,
                                                           const char          *display_name,
                                                           SottoKeyProtection   protection,
                                                           const char          *passphrase,
                                                           guint64              opslimit,
                                                           guint64              memlimit,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
SottoStore         *sotto_store_create_finish             (GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_open_async                (const char          *profile_dir,
                                                           const char          *passphrase,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
SottoStore         *sotto_store_open_finish               (GAsyncResult        *result,
                                                           GError             **error);

gboolean            sotto_store_profile_exists            (const char          *profile_dir);
gboolean            sotto_store_peek_protection           (const char          *profile_dir,
                                                           SottoKeyProtection  *out_protection,
                                                           GError             **error);
const char         *sotto_store_get_profile_dir           (SottoStore          *self);
SottoIdentity      *sotto_store_get_identity              (SottoStore          *self);
void                sotto_store_set_policy                (SottoStore          *self,
                                                           SottoPolicy         *policy);
SottoPolicy        *sotto_store_get_policy                (SottoStore          *self);
SottoKeyProtection  sotto_store_get_key_protection        (SottoStore          *self);
const GError       *sotto_store_get_write_error           (SottoStore          *self);
GListModel         *sotto_store_get_contacts              (SottoStore          *self);
guint               sotto_store_get_n_damaged_contacts    (SottoStore          *self);
SottoContact       *sotto_store_find_contact              (SottoStore          *self,
                                                           const char          *query,
                                                           GError             **error);
SottoContact       *sotto_store_get_contact_by_key        (SottoStore          *self,
                                                           const guint8        *public_key);
SottoContact       *sotto_store_get_contact_by_id         (SottoStore          *self,
                                                           gint64               id);
GListModel         *sotto_store_get_members               (SottoStore          *self);
SottoContact       *sotto_store_get_peer_by_key           (SottoStore          *self,
                                                           const guint8        *public_key);

/* Groups (PROTOCOL.md, "Groups") */
GListModel         *sotto_store_get_groups                (SottoStore          *self);
SottoGroup         *sotto_store_get_group_by_gid          (SottoStore          *self,
                                                           const guint8        *gid);
SottoGroup         *sotto_store_get_group_by_id           (SottoStore          *self,
                                                           gint64               id);
char               *sotto_store_dup_member_name           (SottoStore          *self,
                                                           const SottoGroupMember *member);
SottoGroup         *sotto_store_find_group                (SottoStore          *self,
                                                           const char          *query,
                                                           GError             **error);
void                sotto_store_save_group_async          (SottoStore          *self,
                                                           const SottoGroupRecord *record,
                                                           SottoGroupStatus     status,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
SottoGroup         *sotto_store_save_group_finish         (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_delete_group_async        (SottoStore          *self,
                                                           SottoGroup          *group,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_delete_group_finish       (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_list_group_records_async  (SottoStore          *self,
                                                           SottoGroup          *group,
                                                           guint64              after,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
GPtrArray          *sotto_store_list_group_records_finish (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_queue_group_message_async (SottoStore          *self,
                                                           SottoGroup          *group,
                                                           const char          *body,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
SottoMessage       *sotto_store_queue_group_message_finish (SottoStore         *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_save_incoming_group_async (SottoStore          *self,
                                                           SottoGroup          *group,
                                                           SottoContact        *sender,
                                                           const guint8        *uid,
                                                           gint64               sent,
                                                           const char          *body,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
SottoMessage       *sotto_store_save_incoming_group_finish (SottoStore         *self,
                                                           GAsyncResult        *result,
                                                           gboolean            *out_is_new,
                                                           GError             **error);
void                sotto_store_group_history_async       (SottoStore          *self,
                                                           SottoGroup          *group,
                                                           gint64               before_id,
                                                           guint                limit,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
void                sotto_store_set_signing_key_async     (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           const guint8        *key,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
SottoContact       *sotto_store_set_signing_key_finish    (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);

void                sotto_store_set_key_protection_async  (SottoStore          *self,
                                                           SottoKeyProtection   protection,
                                                           const char          *passphrase,
                                                           guint64              opslimit,
                                                           guint64              memlimit,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_set_key_protection_finish (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);

void                sotto_store_check_key_async           (SottoStore          *self,
                                                           const char          *passphrase,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_check_key_finish          (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);

void                sotto_store_set_display_name_async    (SottoStore          *self,
                                                           const char          *name,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_set_display_name_finish   (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_add_contact_async         (SottoStore          *self,
                                                           const SottoInvite   *invite,
                                                           const char          *alias,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
void                sotto_store_ignore_key_async          (SottoStore          *self,
                                                           const guint8        *public_key,
                                                           gint64               until,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_ignore_key_finish         (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
gboolean            sotto_store_is_key_ignored            (SottoStore          *self,
                                                           const guint8        *public_key);
void                sotto_store_add_blocked_contact_async (SottoStore          *self,
                                                           const SottoInvite   *invite,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
SottoContact       *sotto_store_add_contact_finish        (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_remove_contact_async      (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_remove_contact_finish     (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_update_contact_async      (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           const char          *alias,
                                                           int                  blocked,
                                                           int                  verification,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
void                sotto_store_set_contact_addresses_async (SottoStore        *self,
                                                           SottoContact        *contact,
                                                           const char * const  *addresses,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_update_contact_finish     (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_mark_key_changed_async    (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           const guint8        *offered_key,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
void                sotto_store_accept_contact_key_async  (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           const guint8        *expected_key,
                                                           SottoVerification    verification,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_accept_contact_key_finish (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
SottoContact       *sotto_store_match_invite              (SottoStore          *self,
                                                           const SottoInvite   *invite,
                                                           SottoContactMatch   *out_match);
void                sotto_store_update_contact_from_invite_async (SottoStore   *self,
                                                           SottoContact        *contact,
                                                           const SottoInvite   *invite,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
void                sotto_store_remove_contact_address_async (SottoStore       *self,
                                                           SottoContact        *contact,
                                                           const char          *address,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_remove_contact_address_finish (SottoStore      *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);

void                sotto_store_queue_message_async       (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           const char          *body,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
SottoMessage       *sotto_store_queue_message_finish      (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_save_incoming_async       (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           const guint8        *uid,
                                                           gint64               sent,
                                                           const char          *body,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
SottoMessage       *sotto_store_save_incoming_finish      (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           gboolean            *out_is_new,
                                                           GError             **error);
void                sotto_store_mark_delivered_async      (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           const guint8        *uid,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_mark_delivered_finish     (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_note_sent                 (SottoStore          *self,
                                                           gint64               contact_id,
                                                           gint64               message_id);
void                sotto_store_mark_read_by_peer_async   (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           const guint8        *uid,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_mark_read_by_peer_finish  (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_mark_read_async           (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           gint64               up_to_id,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
GPtrArray          *sotto_store_mark_read_finish          (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_list_summaries_async      (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
GPtrArray          *sotto_store_list_summaries_finish     (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_list_outbox_async         (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
GPtrArray          *sotto_store_list_outbox_finish        (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_expire_outbox_async       (SottoStore          *self,
                                                           gint64               now_us,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
guint               sotto_store_expire_outbox_finish      (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_retry_message_async       (SottoStore          *self,
                                                           SottoMessage        *message,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_retry_message_finish      (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_list_failed_async         (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
GPtrArray          *sotto_store_list_failed_finish        (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_history_async             (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           gint64               before_id,
                                                           guint                limit,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
GPtrArray          *sotto_store_history_finish            (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
GPtrArray          *sotto_store_history_finish_full       (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           guint               *out_n_damaged,
                                                           GError             **error);

void                sotto_store_purge_async               (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           gint64               before,
                                                           gboolean             include_queued,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_purge_finish              (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           guint               *out_deleted,
                                                           GError             **error);
void                sotto_store_apply_retention_async     (SottoStore          *self,
                                                           gboolean             history_enabled,
                                                           guint                retention_days,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_apply_retention_finish    (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           guint               *out_deleted,
                                                           GError             **error);
void                sotto_store_search_async              (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           const char          *text,
                                                           SottoSearchFunc      on_matches,
                                                           gpointer             matches_data,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_search_finish             (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           guint               *out_n_matches,
                                                           GError             **error);
gboolean            sotto_store_search_finish_full        (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           guint               *out_n_matches,
                                                           guint               *out_n_damaged,
                                                           GError             **error);
void                sotto_store_save_transfer_async       (SottoStore          *self,
                                                           SottoTransfer       *transfer,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
SottoTransfer      *sotto_store_save_transfer_finish      (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           gboolean            *out_is_new,
                                                           GError             **error);
void                sotto_store_list_transfers_async      (SottoStore          *self,
                                                           SottoContact        *contact,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
GPtrArray          *sotto_store_list_transfers_finish     (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           guint               *out_n_damaged,
                                                           GError             **error);
gint64              sotto_store_days_ago                  (guint                days);
/* A filter of at least this many digits looks for the start of a
 * fingerprint. */
#define SOTTO_SEARCH_FINGERPRINT_MIN_DIGITS 5

char               *sotto_search_fold                     (const char          *text);
char               *sotto_search_fingerprint_digits       (const char          *text);
char               *sotto_search_digits_only              (const char          *text);

void                sotto_store_log_event                 (SottoStore          *self,
                                                           SottoSecurityEvent   kind,
                                                           const char          *subject,
                                                           const char          *detail);
void                sotto_store_write_log_async           (SottoStore          *self,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean            sotto_store_write_log_finish          (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void                sotto_store_list_security_log_async   (SottoStore          *self,
                                                           guint                limit,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
GPtrArray          *sotto_store_list_security_log_finish  (SottoStore          *self,
                                                           GAsyncResult        *result,
                                                           guint               *out_damaged,
                                                           GError             **error);

G_END_DECLS
