/* sotto-store-groups.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Groups (PROTOCOL.md, "Groups"): each group's current record and where
 * the user stands in it, sealed together in one value; the records
 * accepted since joining, for members that fell behind; the member-only
 * peers the records list; messages to a group, owed to each member
 * separately (group_outbox), and messages from its members, unique per
 * sender.
 *
 * A group row's state is sealed as status (1 byte) || signature (64) ||
 * record; a chain row's record as signature || record. The group id is
 * kept in the clear to find a group by, and checked against the sealed
 * record on every read.
 */
#define G_LOG_DOMAIN "sotto-store"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>

#include "sotto-contact-private.h"
#include "sotto-error.h"
#include "sotto-group-private.h"
#include "sotto-message-private.h"
#include "sotto-seal.h"
#include "sotto-store-private.h"

/* How many accepted records of a group are kept for members behind. */
#define KEEP_RECORDS 64

/* -------------------------------------------------------------------------
 * Rows (worker thread)
 * ------------------------------------------------------------------------- */

static GBytes *
seal_state (SottoStore             *self,
            gint64                  id,
            SottoGroupStatus        status,
            const SottoGroupRecord *record)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  guint8 status_byte = (guint8)status;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (record->bytes, &len);
  GBytes *sealed;

  _sotto_store_assert_worker (self);

  g_byte_array_append (buf, &status_byte, 1);
  g_byte_array_append (buf, record->signature, SOTTO_SIGNATURE_LEN);
  g_byte_array_append (buf, data, (guint)len);
  sealed = sotto_seal (self->key, "groups", "state", id, buf->data, buf->len);
  sodium_memzero (buf->data, buf->len);
  return sealed;
}

static GBytes *
seal_chain_record (SottoStore             *self,
                   gint64                  id,
                   const SottoGroupRecord *record)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (record->bytes, &len);

  _sotto_store_assert_worker (self);

  g_byte_array_append (buf, record->signature, SOTTO_SIGNATURE_LEN);
  g_byte_array_append (buf, data, (guint)len);
  return sotto_seal (self->key, "group_records", "record", id, buf->data, buf->len);
}

static SottoGroupRecord *
record_from_plain (GBytes  *plain,
                   gsize    skip,
                   GError **error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (plain, &len);

  if (len < skip + SOTTO_SIGNATURE_LEN + 1)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED, _("A group is damaged"));
      return NULL;
    }
  return sotto_group_record_parse (data + skip + SOTTO_SIGNATURE_LEN,
                                   len - skip - SOTTO_SIGNATURE_LEN, data + skip, error);
}

/* A group from its row (id, gid, state), or NULL and a DAMAGED error. */
static SottoGroup *
group_from_row (SottoStore    *self,
                sqlite3_stmt  *stmt,
                GError       **error)
{
  gint64 id = sqlite3_column_int64 (stmt, 0);
  g_autoptr (GBytes) plain = NULL;
  g_autoptr (SottoGroupRecord) record = NULL;
  g_autoptr (GError) local_error = NULL;
  guint8 status;

  _sotto_store_assert_worker (self);

  plain = sotto_unseal (self->key, "groups", "state", id, sqlite3_column_blob (stmt, 2),
                        (gsize)sqlite3_column_bytes (stmt, 2), &local_error);
  if (plain != NULL)
    record = record_from_plain (plain, 1, &local_error);
  if (record == NULL ||
      sqlite3_column_bytes (stmt, 1) != SOTTO_GROUP_ID_LEN ||
      memcmp (sqlite3_column_blob (stmt, 1), record->group_id, SOTTO_GROUP_ID_LEN) != 0)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED, _("Group %lld is damaged"),
                   (long long)id);
      return NULL;
    }
  status = ((const guint8 *)g_bytes_get_data (plain, NULL))[0];
  if (status < SOTTO_GROUP_STATUS_MEMBER || status > SOTTO_GROUP_STATUS_REMOVED)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_DAMAGED, _("Group %lld is damaged"),
                   (long long)id);
      return NULL;
    }
  return _sotto_group_new (id, record, (SottoGroupStatus)status);
}

/* Every group that still reads; a damaged one is left out and logged. */
GPtrArray *
_sotto_store_load_groups (SottoStore  *self,
                          GError     **error)
{
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self, "SELECT id, gid, state FROM groups ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr (GError) local_error = NULL;
      SottoGroup *group = group_from_row (self, stmt, &local_error);

      if (group == NULL)
        {
          g_message ("Left out: %s", local_error->message);
          continue;
        }
      g_ptr_array_add (groups, group);
    }
  if (rc != SQLITE_DONE)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading groups"));
      return NULL;
    }
  return g_steal_pointer (&groups);
}

static gint64
conversation_for_group (SottoStore  *self,
                        gint64       group_id,
                        GError     **error)
{
  g_autoptr (CachedStmt) stmt = NULL;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_cached (self, "SELECT id FROM conversations WHERE group_id = ?", error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, group_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND, _("No such group"));
      return 0;
    }
  return sqlite3_column_int64 (stmt, 0);
}

/* The contact row of @key, any kind: its id, or 0. */
static gint64
peer_id_for_key (SottoStore    *self,
                 const guint8  *key,
                 gint64        *out_member_only,
                 GError       **error)
{
  g_autoptr (CachedStmt) stmt = NULL;
  int rc;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_cached (self, "SELECT id, member_only FROM contacts WHERE public_key = ?",
                                 error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_blob (stmt, 1, key, SOTTO_KEY_LEN, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return 0;
  if (rc != SQLITE_ROW)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading a contact"));
      return -1;
    }
  if (out_member_only != NULL)
    *out_member_only = sqlite3_column_int64 (stmt, 1);
  return sqlite3_column_int64 (stmt, 0);
}

static gboolean
set_member_only (SottoStore       *self,
                 gint64            id,
                 SottoMemberOnly   member_only,
                 GError          **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self, "UPDATE contacts SET member_only = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, member_only);
  sqlite3_bind_int64 (stmt, 2, id);
  return _sotto_store_db_step_done (self, stmt, error) &&
         _sotto_store_bind_contact_row (self, id, error);
}

/* A member-only peer, as the record that lists it knows it. It gets a
 * conversation like any contact: adding it as one later needs nothing. */
static gint64
insert_member (SottoStore              *self,
               const SottoGroupMember  *member,
               GError                 **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (sqlite3_stmt) conv = NULL;
  g_autoptr (GBytes) name = NULL;
  g_autoptr (GBytes) addresses = NULL;
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  gint64 id;

  _sotto_store_assert_worker (self);

  if ((id = _sotto_store_db_next_id (self, "contacts", error)) == 0)
    return 0;
  name = _sotto_store_seal_string (self, "contacts", "display_name", id, member->display_name);
  for (guint i = 0; member->addresses != NULL && member->addresses[i] != NULL; i++)
    g_byte_array_append (buf, (const guint8 *)member->addresses[i],
                         strlen (member->addresses[i]) + 1);
  addresses = sotto_seal (self->key, "contacts", "addresses", id, buf->data, buf->len);

  stmt = _sotto_store_db_prepare (self,
                                  "INSERT INTO contacts (id, public_key, display_name, addresses, "
                                  "added, member_only) VALUES (?, ?, ?, ?, ?, ?)",
                                  error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_blob (stmt, 2, member->key, SOTTO_KEY_LEN, SQLITE_TRANSIENT);
  _sotto_store_bind_sealed (stmt, 3, name);
  _sotto_store_bind_sealed (stmt, 4, addresses);
  sqlite3_bind_int64 (stmt, 5, g_get_real_time ());
  sqlite3_bind_int (stmt, 6, SOTTO_MEMBER_ONLY_ACTIVE);
  if (!_sotto_store_db_step_done (self, stmt, error) ||
      !_sotto_store_bind_contact_row (self, id, error))
    return 0;

  conv = _sotto_store_db_prepare (self, "INSERT INTO conversations (contact_id) VALUES (?)", error);
  if (conv == NULL)
    return 0;
  sqlite3_bind_int64 (conv, 1, id);
  if (!_sotto_store_db_step_done (self, conv, error))
    return 0;
  return id;
}

/* Makes the member-only peers what the groups we are in list: a key
 * listed and unknown becomes an active member-only peer, a former one
 * active again, and an active one no group lists any more former. The
 * ids of rows it changed go to @changed. */
static gboolean
sync_members (SottoStore  *self,
              GArray      *changed,
              GError     **error)
{
  g_autoptr (GPtrArray) groups = NULL;
  g_autoptr (GHashTable) listed = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                                         (GDestroyNotify)g_bytes_unref, NULL);
  g_autoptr (sqlite3_stmt) active = NULL;
  const guint8 *own = sotto_identity_get_public_key (self->identity);
  GHashTableIter iter;
  gpointer key, value;
  int rc;

  _sotto_store_assert_worker (self);

  if ((groups = _sotto_store_load_groups (self, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < groups->len; i++)
    {
      SottoGroup *group = g_ptr_array_index (groups, i);
      const SottoGroupRecord *record = sotto_group_get_record (group);

      if (sotto_group_get_status (group) != SOTTO_GROUP_STATUS_MEMBER &&
          sotto_group_get_status (group) != SOTTO_GROUP_STATUS_LEAVING)
        continue;
      for (guint m = 0; m < record->members->len; m++)
        {
          SottoGroupMember *member = g_ptr_array_index (record->members, m);

          if (memcmp (member->key, own, SOTTO_KEY_LEN) != 0)
            g_hash_table_insert (listed, g_bytes_new (member->key, SOTTO_KEY_LEN), member);
        }
    }

  g_hash_table_iter_init (&iter, listed);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gint64 member_only = SOTTO_MEMBER_ONLY_NO;
      gint64 id = peer_id_for_key (self, g_bytes_get_data (key, NULL), &member_only, error);

      if (id < 0)
        return FALSE;
      if (id == 0)
        {
          if ((id = insert_member (self, value, error)) == 0)
            return FALSE;
          g_array_append_val (changed, id);
        }
      else if (member_only == SOTTO_MEMBER_ONLY_FORMER)
        {
          if (!set_member_only (self, id, SOTTO_MEMBER_ONLY_ACTIVE, error))
            return FALSE;
          g_array_append_val (changed, id);
        }
    }

  active = _sotto_store_db_prepare (self, "SELECT id, public_key FROM contacts WHERE member_only = ?",
                                    error);
  if (active == NULL)
    return FALSE;
  sqlite3_bind_int (active, 1, SOTTO_MEMBER_ONLY_ACTIVE);
  {
    g_autoptr (GArray) gone = g_array_new (FALSE, FALSE, sizeof (gint64));

    while ((rc = sqlite3_step (active)) == SQLITE_ROW)
      {
        g_autoptr (GBytes) k = g_bytes_new (sqlite3_column_blob (active, 1),
                                            (gsize)sqlite3_column_bytes (active, 1));
        gint64 id = sqlite3_column_int64 (active, 0);

        if (!g_hash_table_contains (listed, k))
          g_array_append_val (gone, id);
      }
    if (rc != SQLITE_DONE)
      return _sotto_store_set_db_error (error, self->db, rc, _("reading contacts"));
    g_clear_pointer (&active, sqlite3_finalize);
    for (guint i = 0; i < gone->len; i++)
      {
        gint64 id = g_array_index (gone, gint64, i);

        if (!set_member_only (self, id, SOTTO_MEMBER_ONLY_FORMER, error))
          return FALSE;
        g_array_append_val (changed, id);
      }
  }
  return TRUE;
}

/* The ids in column 0 of every row @stmt gives, into @ids. */
static gboolean
collect_ids (SottoStore    *self,
             sqlite3_stmt  *stmt,
             GArray        *ids,
             GError       **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, id);
    }
  if (rc != SQLITE_DONE)
    return _sotto_store_set_db_error (error, self->db, rc, _("reading messages"));
  return TRUE;
}

/* Moves one of our messages to @state, if its row still authenticates;
 * @out_changed says whether it did. */
static gboolean
set_message_state (SottoStore         *self,
                   gint64              id,
                   SottoMessageState   state,
                   gboolean           *out_changed,
                   GError            **error)
{
  g_autoptr (CachedStmt) update = NULL;

  update = _sotto_store_db_cached (self,
                                   "UPDATE messages SET state = ?1, mac = " MESSAGE_ROW_MAC ("?1")
                                   " WHERE id = ?2 AND mac = " MESSAGE_ROW_MAC ("messages.state"),
                                   error);
  if (update == NULL)
    return FALSE;
  sqlite3_bind_int (update, 1, state);
  sqlite3_bind_int64 (update, 2, id);
  if (!_sotto_store_db_step_done (self, update, error))
    return FALSE;
  *out_changed = sqlite3_changes (self->db) > 0;
  return TRUE;
}

/* A group message whose every member has it is delivered. */
static gboolean
settle_group_messages (SottoStore  *self,
                       gint64       conversation_id,
                       GArray      *settled,
                       GError     **error)
{
  g_autoptr (sqlite3_stmt) find = NULL;
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  _sotto_store_assert_worker (self);

  find = _sotto_store_db_prepare (self,
                                  "SELECT id FROM messages m WHERE conversation_id = ?1 "
                                  "AND direction = ?2 AND state = ?3 AND NOT EXISTS "
                                  "(SELECT 1 FROM group_outbox g WHERE g.message_id = m.id "
                                  "AND g.delivered = 0)",
                                  error);
  if (find == NULL)
    return FALSE;
  sqlite3_bind_int64 (find, 1, conversation_id);
  sqlite3_bind_int (find, 2, SOTTO_DIRECTION_OUT);
  sqlite3_bind_int (find, 3, SOTTO_MESSAGE_QUEUED);
  if (!collect_ids (self, find, ids, error))
    return FALSE;

  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      gboolean changed = FALSE;

      if (!set_message_state (self, id, SOTTO_MESSAGE_DELIVERED, &changed, error))
        return FALSE;
      if (changed && settled != NULL)
        g_array_append_val (settled, id);
    }
  return TRUE;
}

/* Nothing is owed to whom the group no longer lists, and nothing at all
 * once we are out of it. */
static gboolean
drop_owed (SottoStore        *self,
           gint64             group_id,
           SottoGroup        *group,
           GError           **error)
{
  g_autoptr (sqlite3_stmt) rows = NULL;
  g_autoptr (GArray) drop = g_array_new (FALSE, FALSE, sizeof (gint64) * 2);
  gboolean active = sotto_group_get_status (group) == SOTTO_GROUP_STATUS_MEMBER;
  gint64 conversation_id;
  int rc;

  _sotto_store_assert_worker (self);

  if ((conversation_id = conversation_for_group (self, group_id, error)) == 0)
    return FALSE;
  rows = _sotto_store_db_prepare (self,
                                  "SELECT g.message_id, g.contact_id, k.public_key FROM group_outbox g "
                                  "JOIN messages m ON m.id = g.message_id "
                                  "JOIN contacts k ON k.id = g.contact_id "
                                  "WHERE m.conversation_id = ? AND g.delivered = 0",
                                  error);
  if (rows == NULL)
    return FALSE;
  sqlite3_bind_int64 (rows, 1, conversation_id);
  while ((rc = sqlite3_step (rows)) == SQLITE_ROW)
    {
      gint64 pair[2] = { sqlite3_column_int64 (rows, 0), sqlite3_column_int64 (rows, 1) };

      if (!active || sqlite3_column_bytes (rows, 2) != SOTTO_KEY_LEN ||
          !sotto_group_lists (group, sqlite3_column_blob (rows, 2)))
        g_array_append_vals (drop, pair, 1);
    }
  if (rc != SQLITE_DONE)
    return _sotto_store_set_db_error (error, self->db, rc, _("reading the outbox"));
  g_clear_pointer (&rows, sqlite3_finalize);

  for (guint i = 0; i < drop->len; i++)
    {
      gint64 *pair = &g_array_index (drop, gint64, 2 * i);
      g_autoptr (CachedStmt) del = _sotto_store_db_cached (self,
                                                           "DELETE FROM group_outbox WHERE "
                                                           "message_id = ? AND contact_id = ?",
                                                           error);

      if (del == NULL)
        return FALSE;
      sqlite3_bind_int64 (del, 1, pair[0]);
      sqlite3_bind_int64 (del, 2, pair[1]);
      if (!_sotto_store_db_step_done (self, del, error))
        return FALSE;
    }
  return drop->len == 0 || settle_group_messages (self, conversation_id, NULL, error);
}

/* -------------------------------------------------------------------------
 * The groups list (main thread)
 * ------------------------------------------------------------------------- */

static SottoGroup *
groups_find (SottoStore *self,
             gint64      id,
             guint      *position)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->groups));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoGroup) group = g_list_model_get_item (G_LIST_MODEL (self->groups), i);

      if (sotto_group_get_id (group) == id)
        {
          if (position != NULL)
            *position = i;
          return group;   /* the list keeps its reference */
        }
    }
  return NULL;
}

void
_sotto_store_groups_set (SottoStore *self,
                         GPtrArray  *groups)
{
  /* A profile just created has none. */
  for (guint i = 0; groups != NULL && i < groups->len; i++)
    g_list_store_append (self->groups, g_ptr_array_index (groups, i));
}

/**
 * sotto_store_get_groups:
 *
 * Returns: (transfer none): a #GListModel of #SottoGroup, every group the
 *   user is in or was in and did not delete, in the order they came
 */
GListModel *
sotto_store_get_groups (SottoStore *self)
{
  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);

  return G_LIST_MODEL (self->groups);
}

/**
 * sotto_store_get_group_by_gid:
 *
 * Returns: (transfer none) (nullable): the group with that wire id
 */
SottoGroup *
sotto_store_get_group_by_gid (SottoStore   *self,
                              const guint8 *gid)
{
  guint n;

  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);
  g_return_val_if_fail (gid != NULL, NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->groups));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoGroup) group = g_list_model_get_item (G_LIST_MODEL (self->groups), i);

      if (memcmp (sotto_group_get_gid (group), gid, SOTTO_GROUP_ID_LEN) == 0)
        return group;
    }
  return NULL;
}

/**
 * sotto_store_get_group_by_id:
 *
 * Returns: (transfer none) (nullable): the group with that store id
 */
SottoGroup *
sotto_store_get_group_by_id (SottoStore *self,
                             gint64      id)
{
  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);

  return groups_find (self, id, NULL);
}

/* -------------------------------------------------------------------------
 * Saving a record
 * ------------------------------------------------------------------------- */

typedef struct
{
  SottoGroupRecord *record;
  SottoGroupStatus  status;
  gint64            group_id;     /* deleting: the group */
  guint64           after;        /* listing records: above this version */
} GroupRequest;

typedef struct
{
  SottoGroup *group;              /* as saved; NULL once deleted */
  gint64      deleted_id;
  GPtrArray  *contacts;           /* rows whose kind changed, as they now are */
} GroupResult;

static void
group_request_free (GroupRequest *request)
{
  g_clear_pointer (&request->record, sotto_group_record_free);
  g_free (request);
}

static void
group_result_free (GroupResult *result)
{
  g_clear_object (&result->group);
  g_clear_pointer (&result->contacts, g_ptr_array_unref);
  g_free (result);
}

static gboolean
load_changed (SottoStore   *self,
              GArray       *ids,
              GroupResult  *result,
              GError      **error)
{
  result->contacts = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < ids->len; i++)
    {
      SottoContact *contact = _sotto_store_load_contact (self, g_array_index (ids, gint64, i), error);

      if (contact == NULL)
        return FALSE;
      g_ptr_array_add (result->contacts, contact);
    }
  return TRUE;
}

static gboolean
keep_in_chain (SottoStore             *self,
               gint64                  group_id,
               const SottoGroupRecord *record,
               GError                **error)
{
  g_autoptr (sqlite3_stmt) drop = NULL;
  g_autoptr (sqlite3_stmt) insert = NULL;
  g_autoptr (sqlite3_stmt) trim = NULL;
  g_autoptr (GBytes) sealed = NULL;
  gint64 id;

  _sotto_store_assert_worker (self);

  /* A record that won a tie replaces the loser and what was built on it. */
  drop = _sotto_store_db_prepare (self,
                                  "DELETE FROM group_records WHERE group_id = ? AND version >= ?",
                                  error);
  if (drop == NULL)
    return FALSE;
  sqlite3_bind_int64 (drop, 1, group_id);
  sqlite3_bind_int64 (drop, 2, (gint64)record->version);
  if (!_sotto_store_db_step_done (self, drop, error))
    return FALSE;

  if ((id = _sotto_store_db_next_id (self, "group_records", error)) == 0)
    return FALSE;
  sealed = seal_chain_record (self, id, record);
  insert = _sotto_store_db_prepare (self,
                                    "INSERT INTO group_records (id, group_id, version, record) "
                                    "VALUES (?, ?, ?, ?)",
                                    error);
  if (insert == NULL)
    return FALSE;
  sqlite3_bind_int64 (insert, 1, id);
  sqlite3_bind_int64 (insert, 2, group_id);
  sqlite3_bind_int64 (insert, 3, (gint64)record->version);
  _sotto_store_bind_sealed (insert, 4, sealed);
  if (!_sotto_store_db_step_done (self, insert, error))
    return FALSE;

  trim = _sotto_store_db_prepare (self,
                                  "DELETE FROM group_records WHERE group_id = ?1 AND id NOT IN "
                                  "(SELECT id FROM group_records WHERE group_id = ?1 "
                                  "ORDER BY version DESC LIMIT " G_STRINGIFY (KEEP_RECORDS) ")",
                                  error);
  if (trim == NULL)
    return FALSE;
  sqlite3_bind_int64 (trim, 1, group_id);
  return _sotto_store_db_step_done (self, trim, error);
}

static gpointer
save_group_job (SottoStore    *self,
                gpointer       data,
                GCancellable  *cancellable,
                GError       **error)
{
  GroupRequest *request = data;
  g_autoptr (GArray) changed = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (CachedStmt) find = NULL;
  g_autoptr (sqlite3_stmt) write = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (SottoGroup) group = NULL;
  GroupResult *result;
  gboolean is_new;
  gint64 id = 0;
  int rc;

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  find = _sotto_store_db_cached (self, "SELECT id FROM groups WHERE gid = ?", error);
  if (find == NULL)
    goto failed;
  sqlite3_bind_blob (find, 1, request->record->group_id, SOTTO_GROUP_ID_LEN, SQLITE_TRANSIENT);
  rc = sqlite3_step (find);
  if (rc == SQLITE_ROW)
    id = sqlite3_column_int64 (find, 0);
  else if (rc != SQLITE_DONE)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading groups"));
      goto failed;
    }
  g_clear_pointer (&find, _sotto_store_cached_stmt_release);

  is_new = id == 0;
  if (is_new && (id = _sotto_store_db_next_id (self, "groups", error)) == 0)
    goto failed;
  sealed = seal_state (self, id, request->status, request->record);
  write = _sotto_store_db_prepare (self,
                                   is_new
                                   ? "INSERT INTO groups (version, state, id, gid, added) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5)"
                                   : "UPDATE groups SET version = ?1, state = ?2 WHERE id = ?3",
                                   error);
  if (write == NULL)
    goto failed;
  sqlite3_bind_int64 (write, 1, (gint64)request->record->version);
  _sotto_store_bind_sealed (write, 2, sealed);
  sqlite3_bind_int64 (write, 3, id);
  if (is_new)
    {
      sqlite3_bind_blob (write, 4, request->record->group_id, SOTTO_GROUP_ID_LEN, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (write, 5, g_get_real_time ());
    }
  if (!_sotto_store_db_step_done (self, write, error))
    goto failed;

  if (is_new)
    {
      g_autoptr (sqlite3_stmt) conv = NULL;

      conv = _sotto_store_db_prepare (self, "INSERT INTO conversations (group_id) VALUES (?)", error);
      if (conv == NULL)
        goto failed;
      sqlite3_bind_int64 (conv, 1, id);
      if (!_sotto_store_db_step_done (self, conv, error))
        goto failed;
    }

  group = _sotto_group_new (id, request->record, request->status);
  if (!keep_in_chain (self, id, request->record, error) ||
      !sync_members (self, changed, error) ||
      !drop_owed (self, id, group, error))
    goto failed;

  result = g_new0 (GroupResult, 1);
  result->group = g_steal_pointer (&group);
  if (!load_changed (self, changed, result, error) || !_sotto_store_db_commit (self, error))
    {
      group_result_free (result);
      goto failed;
    }
  return result;

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

static gpointer
group_changed_apply (SottoStore *self,
                     gpointer    data,
                     gpointer    value)
{
  GroupResult *result = value;
  guint position;

  /* Members first: whoever follows the group finds its peers known. */
  for (guint i = 0; i < result->contacts->len; i++)
    _sotto_store_contacts_replace (self, g_ptr_array_index (result->contacts, i));

  if (result->group != NULL)
    {
      SottoGroup *known = groups_find (self, sotto_group_get_id (result->group), NULL);

      if (known != NULL)
        {
          _sotto_group_update_from (known, result->group);
          g_set_object (&result->group, known);
        }
      else
        g_list_store_append (self->groups, result->group);
    }
  else if (groups_find (self, result->deleted_id, &position) != NULL)
    g_list_store_remove (self->groups, position);

  return result;
}

/**
 * sotto_store_save_group_async:
 * @record: a signed record the caller accepted (or made)
 * @status: where the user now stands in the group
 *
 * Stores @record as its group's current one (making the group if it is
 * new) and in the group's chain, makes the member-only peers what the
 * groups list, and drops what is owed to members no longer listed. The
 * #SottoGroup in sotto_store_get_groups() is updated (or added) once
 * this completes.
 */
void
sotto_store_save_group_async (SottoStore             *self,
                              const SottoGroupRecord *record,
                              SottoGroupStatus        status,
                              GCancellable           *cancellable,
                              GAsyncReadyCallback     callback,
                              gpointer                user_data)
{
  GroupRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (record != NULL && record->bytes != NULL);

  request = g_new0 (GroupRequest, 1);
  request->record = sotto_group_record_copy (record);
  request->status = status;
  _sotto_store_schedule (self, sotto_store_save_group_async, save_group_job, group_changed_apply,
                         request, (GDestroyNotify)group_request_free,
                         (GDestroyNotify)group_result_free, cancellable, callback, user_data);
}

/**
 * sotto_store_save_group_finish:
 *
 * Returns: (transfer full) (nullable): the group, as the groups list holds it
 */
SottoGroup *
sotto_store_save_group_finish (SottoStore    *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  GroupResult *value;
  SottoGroup *group;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  /* The task keeps the result: take the group, leave the rest to it. */
  value = g_task_propagate_pointer (G_TASK (result), error);
  if (value == NULL)
    return NULL;
  group = g_steal_pointer (&value->group);
  group_result_free (value);
  return group;
}

static gpointer
delete_group_job (SottoStore    *self,
                  gpointer       data,
                  GCancellable  *cancellable,
                  GError       **error)
{
  GroupRequest *request = data;
  g_autoptr (GArray) changed = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (sqlite3_stmt) del = NULL;
  GroupResult *result;

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;
  /* Its conversation, messages, what was owed and its chain go with it. */
  del = _sotto_store_db_prepare (self, "DELETE FROM groups WHERE id = ?", error);
  if (del == NULL)
    goto failed;
  sqlite3_bind_int64 (del, 1, request->group_id);
  if (!_sotto_store_db_step_done (self, del, error) || !sync_members (self, changed, error))
    goto failed;

  result = g_new0 (GroupResult, 1);
  result->deleted_id = request->group_id;
  if (!load_changed (self, changed, result, error) || !_sotto_store_db_commit (self, error))
    {
      group_result_free (result);
      goto failed;
    }
  /* As for purges: deleted text leaves the WAL too. */
  {
    g_autoptr (GError) checkpoint_error = NULL;

    if (!_sotto_store_db_exec (self, "PRAGMA wal_checkpoint(TRUNCATE)", &checkpoint_error))
      g_warning ("Could not empty the WAL after deleting a group: %s", checkpoint_error->message);
  }
  return result;

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

/**
 * sotto_store_delete_group_async:
 *
 * Forgets a group locally: its records, its history, what was owed to
 * its members. The caller leaves it first if the user is still in it.
 */
void
sotto_store_delete_group_async (SottoStore          *self,
                                SottoGroup          *group,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GroupRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_GROUP (group));

  request = g_new0 (GroupRequest, 1);
  request->group_id = sotto_group_get_id (group);
  _sotto_store_schedule (self, sotto_store_delete_group_async, delete_group_job,
                         group_changed_apply, request, (GDestroyNotify)group_request_free,
                         (GDestroyNotify)group_result_free, cancellable, callback, user_data);
}

gboolean
sotto_store_delete_group_finish (SottoStore    *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  GroupResult *value;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  value = g_task_propagate_pointer (G_TASK (result), error);
  if (value == NULL)
    return FALSE;
  group_result_free (value);
  return TRUE;
}

static gpointer
list_records_job (SottoStore    *self,
                  gpointer       data,
                  GCancellable  *cancellable,
                  GError       **error)
{
  GroupRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify)sotto_group_record_free);
  int rc;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self,
                                  "SELECT id, record FROM group_records WHERE group_id = ? "
                                  "AND version > ? ORDER BY version, id",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, request->group_id);
  sqlite3_bind_int64 (stmt, 2, (gint64)MIN (request->after, (guint64)G_MAXINT64));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_autoptr (GError) local_error = NULL;
      g_autoptr (GBytes) plain = sotto_unseal (self->key, "group_records", "record", id,
                                               sqlite3_column_blob (stmt, 1),
                                               (gsize)sqlite3_column_bytes (stmt, 1), &local_error);
      SottoGroupRecord *record = plain != NULL ? record_from_plain (plain, 0, &local_error) : NULL;

      if (record == NULL)
        {
          g_message ("Left out a damaged group record: %s", local_error->message);
          continue;
        }
      g_ptr_array_add (records, record);
    }
  if (rc != SQLITE_DONE)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading groups"));
      return NULL;
    }
  return g_steal_pointer (&records);
}

/**
 * sotto_store_list_group_records_async:
 * @after: list the records above this version
 *
 * The records of @group kept since the user joined, oldest first: what
 * a member that is behind needs to catch up (PROTOCOL.md, "Spreading
 * records").
 */
void
sotto_store_list_group_records_async (SottoStore          *self,
                                      SottoGroup          *group,
                                      guint64              after,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  GroupRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_GROUP (group));

  request = g_new0 (GroupRequest, 1);
  request->group_id = sotto_group_get_id (group);
  request->after = after;
  _sotto_store_schedule (self, sotto_store_list_group_records_async, list_records_job, NULL,
                         request, (GDestroyNotify)group_request_free,
                         (GDestroyNotify)g_ptr_array_unref, cancellable, callback, user_data);
}

/**
 * sotto_store_list_group_records_finish:
 *
 * Returns: (transfer container) (element-type SottoGroupRecord): the records
 */
GPtrArray *
sotto_store_list_group_records_finish (SottoStore    *self,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* -------------------------------------------------------------------------
 * Group messages
 * ------------------------------------------------------------------------- */

typedef struct
{
  gint64     group_id;
  gint64     sender_id;
  GPtrArray *owed_keys;   /* GBytes: the members a new message is owed to */
  guint8     uid[SOTTO_MESSAGE_UID_LEN];
  gint64     sent;
  char      *body;
  gboolean   is_new;
} GroupMessageRequest;

static void
group_message_request_free (GroupMessageRequest *request)
{
  g_clear_pointer (&request->owed_keys, g_ptr_array_unref);
  g_free (request->body);
  g_free (request);
}

static gpointer
queue_group_message_job (SottoStore    *self,
                         gpointer       data,
                         GCancellable  *cancellable,
                         GError       **error)
{
  GroupMessageRequest *request = data;
  SottoMessageState state = SOTTO_MESSAGE_QUEUED;
  gint64 conversation_id;
  gint64 id;
  SottoMessage *message;

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;

  /* The message and what it owes each member commit together. A group of
   * one owes nobody: delivered as it is written. */
  if (request->owed_keys->len == 0)
    state = SOTTO_MESSAGE_DELIVERED;
  if ((conversation_id = conversation_for_group (self, request->group_id, error)) == 0 ||
      (id = _sotto_store_insert_message (self, conversation_id, 0, request->uid,
                                         SOTTO_DIRECTION_OUT, state, request->sent, 0,
                                         request->body, error)) == 0)
    goto failed;

  for (guint i = 0; i < request->owed_keys->len; i++)
    {
      g_autoptr (CachedStmt) owe = NULL;
      gint64 contact_id = peer_id_for_key (self, g_bytes_get_data (request->owed_keys->pdata[i], NULL),
                                           NULL, error);

      if (contact_id < 0)
        goto failed;
      /* Listed but with no row: the record was saved without it, which
       * sync_members() does not allow; nothing to owe to. */
      if (contact_id == 0)
        continue;
      owe = _sotto_store_db_cached (self,
                                    "INSERT INTO group_outbox (message_id, contact_id, queued) "
                                    "VALUES (?, ?, ?)",
                                    error);
      if (owe == NULL)
        goto failed;
      sqlite3_bind_int64 (owe, 1, id);
      sqlite3_bind_int64 (owe, 2, contact_id);
      sqlite3_bind_int64 (owe, 3, request->sent);
      if (!_sotto_store_db_step_done (self, owe, error))
        goto failed;
    }
  if (!_sotto_store_db_commit (self, error))
    goto failed;

  message = _sotto_message_new (id, 0, request->uid, SOTTO_DIRECTION_OUT, state, request->sent, 0,
                                request->body);
  _sotto_message_set_group (message, request->group_id, 0);
  return message;

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

static gpointer
group_message_added_apply (SottoStore *self,
                           gpointer    data,
                           gpointer    value)
{
  GroupMessageRequest *request = data;
  SottoMessage *message = value;

  if (sotto_message_get_direction (message) == SOTTO_DIRECTION_OUT || request->is_new)
    _sotto_store_emit_message_added (self, message);
  return message;
}

/**
 * sotto_store_queue_group_message_async:
 * @group: a group the user is in
 * @body: the text; see sotto_message_body_validate()
 *
 * Stores a message to @group, owed to every member its record lists but
 * the user, with a new random id. When this completes it is on disk.
 */
void
sotto_store_queue_group_message_async (SottoStore          *self,
                                       SottoGroup          *group,
                                       const char          *body,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr (GError) error = NULL;
  const SottoGroupRecord *record;
  const guint8 *own;
  GroupMessageRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_GROUP (group));

  if (!sotto_message_body_validate (body, &error))
    {
      g_task_report_error (self, callback, user_data, sotto_store_queue_group_message_async,
                           g_steal_pointer (&error));
      return;
    }
  if (!sotto_group_is_active (group))
    {
      g_task_report_new_error (self, callback, user_data, sotto_store_queue_group_message_async,
                               SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("You are no longer in the group “%s”"),
                               sotto_group_get_name (group));
      return;
    }

  record = sotto_group_get_record (group);
  own = sotto_identity_get_public_key (self->identity);
  request = g_new0 (GroupMessageRequest, 1);
  request->group_id = sotto_group_get_id (group);
  request->owed_keys = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  for (guint i = 0; i < record->members->len; i++)
    {
      SottoGroupMember *member = g_ptr_array_index (record->members, i);

      if (memcmp (member->key, own, SOTTO_KEY_LEN) != 0)
        g_ptr_array_add (request->owed_keys, g_bytes_new (member->key, SOTTO_KEY_LEN));
    }
  randombytes_buf (request->uid, SOTTO_MESSAGE_UID_LEN);
  request->sent = g_get_real_time ();
  request->body = g_strdup (body);
  _sotto_store_schedule (self, sotto_store_queue_group_message_async, queue_group_message_job,
                         group_message_added_apply, request,
                         (GDestroyNotify)group_message_request_free, g_object_unref, cancellable,
                         callback, user_data);
}

SottoMessage *
sotto_store_queue_group_message_finish (SottoStore    *self,
                                        GAsyncResult  *result,
                                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gpointer
save_incoming_group_job (SottoStore    *self,
                         gpointer       data,
                         GCancellable  *cancellable,
                         GError       **error)
{
  GroupMessageRequest *request = data;
  g_autoptr (CachedStmt) known = NULL;
  g_autoptr (CachedStmt) seen = NULL;
  SottoMessage *message;
  gint64 conversation_id;
  gint64 received;
  gint64 id;
  int rc;

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;
  if ((conversation_id = conversation_for_group (self, request->group_id, error)) == 0)
    goto failed;

  /* Ids are the sender's: one of ours, or the same id from another
   * member, is another message. Ours must not be taken for theirs. */
  known = _sotto_store_db_cached (self,
                                  "SELECT id, sender_id FROM messages WHERE conversation_id = ?1 "
                                  "AND uid = ?2 AND sender_id IN (0, ?3) ORDER BY sender_id DESC",
                                  error);
  if (known == NULL)
    goto failed;
  sqlite3_bind_int64 (known, 1, conversation_id);
  sqlite3_bind_blob (known, 2, request->uid, SOTTO_MESSAGE_UID_LEN, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (known, 3, request->sender_id);
  rc = sqlite3_step (known);
  if (rc == SQLITE_ROW)
    {
      id = sqlite3_column_int64 (known, 0);
      if (sqlite3_column_int64 (known, 1) == 0)
        {
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("A member sent a message with the id of one of yours"));
          goto failed;
        }
      g_clear_pointer (&known, _sotto_store_cached_stmt_release);
      _sotto_store_db_rollback (self);
      request->is_new = FALSE;
      return _sotto_store_load_message (self, id, error);
    }
  if (rc != SQLITE_DONE)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading messages"));
      goto failed;
    }
  g_clear_pointer (&known, _sotto_store_cached_stmt_release);

  /* History off: the sender's id alone is kept, as for direct messages. */
  seen = _sotto_store_db_cached (self, "SELECT received FROM seen WHERE contact_id = ? AND uid = ?",
                                 error);
  if (seen == NULL)
    goto failed;
  sqlite3_bind_int64 (seen, 1, request->sender_id);
  sqlite3_bind_blob (seen, 2, request->uid, SOTTO_MESSAGE_UID_LEN, SQLITE_TRANSIENT);
  rc = sqlite3_step (seen);
  if (rc == SQLITE_ROW)
    {
      received = sqlite3_column_int64 (seen, 0);
      g_clear_pointer (&seen, _sotto_store_cached_stmt_release);
      _sotto_store_db_rollback (self);
      request->is_new = FALSE;
      message = _sotto_message_new (0, 0, request->uid, SOTTO_DIRECTION_IN,
                                    SOTTO_MESSAGE_DELIVERED, request->sent, received, request->body);
      _sotto_message_set_group (message, request->group_id, request->sender_id);
      return message;
    }
  g_clear_pointer (&seen, _sotto_store_cached_stmt_release);

  received = g_get_real_time ();
  if (!self->keep_history)
    {
      g_autoptr (CachedStmt) remember = NULL;

      if ((id = _sotto_store_db_next_id (self, "messages", error)) == 0)
        goto failed;
      remember = _sotto_store_db_cached (self,
                                         "INSERT INTO seen (contact_id, uid, received) "
                                         "VALUES (?, ?, ?)",
                                         error);
      if (remember == NULL)
        goto failed;
      sqlite3_bind_int64 (remember, 1, request->sender_id);
      sqlite3_bind_blob (remember, 2, request->uid, SOTTO_MESSAGE_UID_LEN, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (remember, 3, received);
      if (!_sotto_store_db_step_done (self, remember, error))
        goto failed;
    }
  else if ((id = _sotto_store_insert_message (self, conversation_id, request->sender_id,
                                              request->uid, SOTTO_DIRECTION_IN,
                                              SOTTO_MESSAGE_DELIVERED, request->sent, received,
                                              request->body, error)) == 0)
    goto failed;
  if (!_sotto_store_db_commit (self, error))
    goto failed;

  request->is_new = TRUE;
  message = _sotto_message_new (id, 0, request->uid, SOTTO_DIRECTION_IN, SOTTO_MESSAGE_DELIVERED,
                                request->sent, received, request->body);
  _sotto_message_set_group (message, request->group_id, request->sender_id);
  return message;

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

/**
 * sotto_store_save_incoming_group_async:
 * @group: the group the message is to
 * @sender: the member who sent it (a contact or member-only peer)
 * @uid: (array fixed-size=16): the sender's message id
 *
 * Persists a message a member sent to @group, once per sender and id;
 * only when this completes may its *delivered* receipt go out. The
 * caller has checked that the group lists @sender and the user.
 */
void
sotto_store_save_incoming_group_async (SottoStore          *self,
                                       SottoGroup          *group,
                                       SottoContact        *sender,
                                       const guint8        *uid,
                                       gint64               sent,
                                       const char          *body,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr (GError) error = NULL;
  GroupMessageRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_GROUP (group));
  g_return_if_fail (SOTTO_IS_CONTACT (sender));
  g_return_if_fail (uid != NULL);

  if (!sotto_message_body_validate (body, &error))
    {
      g_task_report_error (self, callback, user_data, sotto_store_save_incoming_group_async,
                           g_steal_pointer (&error));
      return;
    }

  request = g_new0 (GroupMessageRequest, 1);
  request->group_id = sotto_group_get_id (group);
  request->sender_id = sotto_contact_get_id (sender);
  memcpy (request->uid, uid, SOTTO_MESSAGE_UID_LEN);
  request->sent = sent;
  request->body = g_strdup (body);
  _sotto_store_schedule (self, sotto_store_save_incoming_group_async, save_incoming_group_job,
                         group_message_added_apply, request,
                         (GDestroyNotify)group_message_request_free, g_object_unref, cancellable,
                         callback, user_data);
}

SottoMessage *
sotto_store_save_incoming_group_finish (SottoStore    *self,
                                        GAsyncResult  *result,
                                        gboolean      *out_is_new,
                                        GError       **error)
{
  GroupMessageRequest *request;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  request = _sotto_store_job_get_data (G_TASK (result));
  if (out_is_new != NULL)
    *out_is_new = request->is_new;
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* A member's *delivered* (or *read*) receipt for one of our group
 * messages, inside the caller's transaction: what was owed to it is
 * paid, and the message is delivered once every member has it. Returns
 * the message's id, 0 if the receipt names none of ours owed to it, or
 * -1 on error. @out_settled: whether the message's state changed. */
gint64
_sotto_store_group_receipt (SottoStore  *self,
                            gint64       contact_id,
                            const guint8 *uid,
                            gboolean    *out_settled,
                            GError     **error)
{
  g_autoptr (CachedStmt) find = NULL;
  g_autoptr (CachedStmt) pay = NULL;
  g_autoptr (GArray) settled = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 id, conversation_id;
  int rc;

  _sotto_store_assert_worker (self);

  *out_settled = FALSE;
  find = _sotto_store_db_cached (self,
                                 "SELECT m.id, m.conversation_id FROM group_outbox g "
                                 "JOIN messages m ON m.id = g.message_id "
                                 "WHERE g.contact_id = ? AND m.uid = ? AND m.sender_id = 0 "
                                 "AND m.direction = ?",
                                 error);
  if (find == NULL)
    return -1;
  sqlite3_bind_int64 (find, 1, contact_id);
  sqlite3_bind_blob (find, 2, uid, SOTTO_MESSAGE_UID_LEN, SQLITE_TRANSIENT);
  sqlite3_bind_int (find, 3, SOTTO_DIRECTION_OUT);
  rc = sqlite3_step (find);
  if (rc == SQLITE_DONE)
    return 0;
  if (rc != SQLITE_ROW)
    {
      _sotto_store_set_db_error (error, self->db, rc, _("reading messages"));
      return -1;
    }
  id = sqlite3_column_int64 (find, 0);
  conversation_id = sqlite3_column_int64 (find, 1);
  g_clear_pointer (&find, _sotto_store_cached_stmt_release);

  pay = _sotto_store_db_cached (self,
                                "UPDATE group_outbox SET delivered = ? WHERE message_id = ? "
                                "AND contact_id = ? AND delivered = 0",
                                error);
  if (pay == NULL)
    return -1;
  sqlite3_bind_int64 (pay, 1, g_get_real_time ());
  sqlite3_bind_int64 (pay, 2, id);
  sqlite3_bind_int64 (pay, 3, contact_id);
  if (!_sotto_store_db_step_done (self, pay, error))
    return -1;
  if (sqlite3_changes (self->db) == 0)
    return id;   /* a repeated receipt */
  if (!settle_group_messages (self, conversation_id, settled, error))
    return -1;
  *out_settled = settled->len > 0;
  return id;
}

/* The group messages owed to @contact_id, oldest first. */
GPtrArray *
_sotto_store_list_group_owed (SottoStore  *self,
                              gint64       contact_id,
                              GError     **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  _sotto_store_assert_worker (self);

  stmt = _sotto_store_db_prepare (self,
                                  "SELECT " MESSAGE_COLUMNS " FROM group_outbox g "
                                  "JOIN messages m ON m.id = g.message_id "
                                  "JOIN conversations c ON c.id = m.conversation_id "
                                  "WHERE g.contact_id = ?1 AND g.delivered = 0 "
                                  "AND m.direction = ?2 AND m.sender_id = 0 "
                                  "ORDER BY g.message_id",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, contact_id);
  sqlite3_bind_int (stmt, 2, SOTTO_DIRECTION_OUT);
  return _sotto_store_load_messages (self, stmt, 0, NULL, error);
}

/* -------------------------------------------------------------------------
 * Signing keys
 * ------------------------------------------------------------------------- */

typedef struct
{
  gint64 contact_id;
  guint8 key[SOTTO_SIGNING_KEY_LEN];
} SigningKeyRequest;

static gpointer
set_signing_key_job (SottoStore    *self,
                     gpointer       data,
                     GCancellable  *cancellable,
                     GError       **error)
{
  SigningKeyRequest *request = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;

  _sotto_store_assert_worker (self);

  if (!_sotto_store_db_begin (self, error))
    return NULL;
  /* The first key a peer sent is the one kept (PROTOCOL.md). */
  stmt = _sotto_store_db_prepare (self,
                                  "UPDATE contacts SET signing_key = ? WHERE id = ? "
                                  "AND signing_key IS NULL",
                                  error);
  if (stmt == NULL)
    goto failed;
  sqlite3_bind_blob (stmt, 1, request->key, SOTTO_SIGNING_KEY_LEN, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, request->contact_id);
  if (!_sotto_store_db_step_done (self, stmt, error) ||
      !_sotto_store_bind_contact_row (self, request->contact_id, error) ||
      !_sotto_store_db_commit (self, error))
    goto failed;
  return _sotto_store_load_contact (self, request->contact_id, error);

failed:
  _sotto_store_db_rollback (self);
  return NULL;
}

static gpointer
contact_changed_apply (SottoStore *self,
                       gpointer    data,
                       gpointer    value)
{
  g_autoptr (SottoContact) fresh = value;

  return g_object_ref (_sotto_store_contacts_replace (self, fresh));
}

/**
 * sotto_store_set_signing_key_async:
 * @key: (array fixed-size=32): the Ed25519 key the peer sent in its session
 *
 * Keeps @key as @contact's signing key, unless it already has one.
 */
void
sotto_store_set_signing_key_async (SottoStore          *self,
                                   SottoContact        *contact,
                                   const guint8        *key,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  SigningKeyRequest *request;

  g_return_if_fail (SOTTO_IS_STORE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (key != NULL);

  request = g_new0 (SigningKeyRequest, 1);
  request->contact_id = sotto_contact_get_id (contact);
  memcpy (request->key, key, SOTTO_SIGNING_KEY_LEN);
  _sotto_store_schedule (self, sotto_store_set_signing_key_async, set_signing_key_job,
                         contact_changed_apply, request, g_free, g_object_unref, cancellable,
                         callback, user_data);
}

SottoContact *
sotto_store_set_signing_key_finish (SottoStore    *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * sotto_store_dup_member_name:
 * @member: an entry of a group record
 *
 * What front ends call a member: the user's own name, a contact's name
 * (its alias, if any), or else the name the record gives.
 *
 * Returns: (transfer full): the name
 */
char *
sotto_store_dup_member_name (SottoStore             *self,
                             const SottoGroupMember *member)
{
  SottoIdentity *identity;
  SottoContact *peer;

  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);
  g_return_val_if_fail (member != NULL, NULL);

  identity = sotto_store_get_identity (self);
  if (memcmp (member->key, sotto_identity_get_public_key (identity), SOTTO_KEY_LEN) == 0)
    return g_strdup (sotto_identity_get_display_name (identity));
  peer = sotto_store_get_peer_by_key (self, member->key);
  if (peer != NULL && sotto_contact_get_member_only (peer) == SOTTO_MEMBER_ONLY_NO)
    return g_strdup (sotto_contact_get_name (peer));
  return g_strdup (member->display_name);
}

/* -------------------------------------------------------------------------
 * Finding a group by what the user typed
 * ------------------------------------------------------------------------- */

/**
 * sotto_store_find_group:
 * @query: a group's id (32 hex digits), its whole name (any case), or
 *   the start of its name
 *
 * As sotto_store_find_contact(): the query must fit one group only, and
 * a whole name fitting one group wins over starts of others.
 *
 * Returns: (transfer none) (nullable): the group, or %NULL with
 *   %SOTTO_ERROR_NOT_FOUND, or %SOTTO_ERROR_INVALID_ARGUMENT when several fit
 */
SottoGroup *
sotto_store_find_group (SottoStore  *self,
                        const char  *query,
                        GError     **error)
{
  g_autoptr (GPtrArray) exact = g_ptr_array_new ();
  g_autoptr (GPtrArray) prefix = g_ptr_array_new ();
  g_autofree char *folded = NULL;
  guint8 gid[SOTTO_GROUP_ID_LEN];
  guint n;

  g_return_val_if_fail (SOTTO_IS_STORE (self), NULL);
  g_return_val_if_fail (query != NULL, NULL);

  if (sotto_group_id_from_hex (query, gid))
    {
      SottoGroup *group = sotto_store_get_group_by_gid (self, gid);

      if (group != NULL)
        return group;
    }

  folded = g_utf8_casefold (query, -1);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->groups));
  for (guint i = 0; folded[0] != '\0' && i < n; i++)
    {
      g_autoptr (SottoGroup) group = g_list_model_get_item (G_LIST_MODEL (self->groups), i);
      g_autofree char *name = g_utf8_casefold (sotto_group_get_name (group), -1);

      if (g_str_equal (name, folded))
        g_ptr_array_add (exact, group);   /* the list keeps it alive */
      else if (g_str_has_prefix (name, folded))
        g_ptr_array_add (prefix, group);
    }

  if (exact->len == 1)
    return g_ptr_array_index (exact, 0);
  if (exact->len == 0 && prefix->len == 1)
    return g_ptr_array_index (prefix, 0);
  if (exact->len == 0 && prefix->len == 0)
    g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND, _("No group is called “%s”"), query);
  else
    g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                 _("“%s” could be several groups: give the group’s id (sotto-cli groups)"), query);
  return NULL;
}

/* Inside the outbox expiry's transaction: what a group message still
 * owes members after @cutoff is given up, as for direct messages, and the
 * message shows as not sent (to some). Its id goes to @failed. */
gboolean
_sotto_store_expire_group_owed (SottoStore  *self,
                                gint64       cutoff,
                                GArray      *failed,
                                GError     **error)
{
  g_autoptr (sqlite3_stmt) find = NULL;
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  _sotto_store_assert_worker (self);

  find = _sotto_store_db_prepare (self,
                                  "SELECT DISTINCT g.message_id FROM group_outbox g "
                                  "JOIN messages m ON m.id = g.message_id "
                                  "WHERE g.delivered = 0 AND g.queued < ?1 AND m.direction = ?2 "
                                  "AND m.state = ?3 ORDER BY g.message_id",
                                  error);
  if (find == NULL)
    return FALSE;
  sqlite3_bind_int64 (find, 1, cutoff);
  sqlite3_bind_int (find, 2, SOTTO_DIRECTION_OUT);
  sqlite3_bind_int (find, 3, SOTTO_MESSAGE_QUEUED);
  if (!collect_ids (self, find, ids, error))
    return FALSE;

  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      g_autoptr (CachedStmt) drop = NULL;
      gboolean changed = FALSE;

      drop = _sotto_store_db_cached (self,
                                     "DELETE FROM group_outbox WHERE message_id = ? AND delivered = 0",
                                     error);
      if (drop == NULL)
        return FALSE;
      sqlite3_bind_int64 (drop, 1, id);
      if (!_sotto_store_db_step_done (self, drop, error) ||
          !set_message_state (self, id, SOTTO_MESSAGE_FAILED, &changed, error))
        return FALSE;
      if (changed)
        g_array_append_val (failed, id);
    }
  return TRUE;
}
