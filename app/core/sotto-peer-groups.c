/* sotto-peer-groups.c — the peer service's groups (PROTOCOL.md, "Groups")
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Part of SottoPeerService (its state is in sotto-peer-service-internal.h).
 * On every confirmed session with a peer that speaks groups, our signing
 * key goes first, then the record of every group that lists the peer.
 * Records that arrive are judged one at a time (sotto_group_record_judge()),
 * for each may depend on the one before it; an accepted one is stored and
 * passed on to every member with a session. Group messages are owed to
 * each member separately and leave through each member's own link, like
 * direct messages; those that arrive are stored once per sender and id,
 * then acknowledged. Admins change a group by signing a new record.
 */
#define G_LOG_DOMAIN "sotto-peer"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>

#include "sotto-error.h"
#include "sotto-peer-service-internal.h"

enum {
  GROUP_MESSAGE_RECEIVED,
  GROUP_JOINED,
  GROUP_REMOVED,
  GROUP_MEMBER_ADDED,
  GROUP_MEMBER_REMOVED,
  GROUP_TYPING,
  N_GROUP_SIGNALS
};

static guint group_signals[N_GROUP_SIGNALS];

/* A record to judge, or a group message that waits behind one: the
 * record that lets it in may be among those before it. */
typedef struct
{
  gint64            contact_id;
  SottoSession     *session;
  SottoGroupRecord *record;
  SottoPayload     *text;
} Inbound;

static void judge_next (SottoPeerService *self);
static void own_saved (SottoPeerService *self);
static void receive_text (Link               *link,
                          SottoContact       *sender,
                          const SottoPayload *payload);

static void
inbound_free (Inbound *inbound)
{
  g_clear_object (&inbound->session);
  g_clear_pointer (&inbound->record, sotto_group_record_free);
  g_clear_pointer (&inbound->text, sotto_payload_free);
  g_free (inbound);
}

static const guint8 *
own_key (SottoPeerService *self)
{
  return sotto_identity_get_public_key (sotto_store_get_identity (self->store));
}

gboolean
_sotto_peer_link_speaks_groups (Link *link)
{
  const SottoHello *hello;

  if (link->session == NULL)
    return FALSE;
  hello = sotto_session_get_remote_hello (link->session);
  return hello != NULL && (hello->capabilities & SOTTO_CAPABILITY_GROUPS) != 0;
}

/* The link of the peer with @key, if its session is up and speaks groups.
 * A peer no group lists any more still has its session until the links
 * are pruned: the record that dropped it reaches it on that session. */
static Link *
ready_link_for_key (SottoPeerService *self,
                    const guint8     *key)
{
  SottoContact *peer = sotto_store_get_peer_by_key (self->store, key);
  Link *link;

  if (peer == NULL)
    return NULL;
  link = _sotto_peer_link (self, sotto_contact_get_id (peer));
  if (link == NULL || !_sotto_peer_link_ready (link) || !_sotto_peer_link_speaks_groups (link))
    return NULL;
  return link;
}

static void
send_payload (Link         *link,
              SottoPayload *payload)
{
  g_autoptr (GError) error = NULL;

  if (!sotto_session_send (link->session, payload, &error))
    g_debug ("%s not sent: %s", sotto_payload_kind_to_string (payload->kind), error->message);
}

static void
send_record (Link                   *link,
             const SottoGroupRecord *record)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_GROUP_RECORD);

  payload->group_record = sotto_group_record_copy (record);
  send_payload (link, payload);
}

static void
send_leave (Link       *link,
            SottoGroup *group)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_GROUP_LEAVE);

  memcpy (payload->group_id, sotto_group_get_gid (group), SOTTO_GROUP_ID_LEN);
  send_payload (link, payload);
}

/* Rules 3 and 4 answer once per group per session. */
static gboolean
first_answer (Link         *link,
              const guint8 *gid)
{
  g_autoptr (GBytes) key = g_bytes_new (gid, SOTTO_GROUP_ID_LEN);

  if (g_hash_table_contains (link->answered, key))
    return FALSE;
  g_hash_table_add (link->answered, g_steal_pointer (&key));
  return TRUE;
}

static void
log_refused (SottoPeerService *self,
             SottoContact     *contact,
             const char       *group_name,
             const char       *why)
{
  g_autofree char *detail = g_strdup_printf ("%s: %s", group_name, why);

  sotto_store_log_event (self->store, SOTTO_SECURITY_EVENT_GROUP_REFUSED,
                         sotto_contact_get_name (contact), detail);
}

/* Rule 2: a record we made or accepted goes at once to every member with
 * a session that the new record or the one it replaced lists. */
static void
spread (SottoPeerService       *self,
        const SottoGroupRecord *record,
        const SottoGroupRecord *replaced,
        gint64                  except_id)
{
  const SottoGroupRecord *both[] = { record, replaced };
  g_autoptr (GHashTable) told = g_hash_table_new (NULL, NULL);

  for (guint r = 0; r < G_N_ELEMENTS (both); r++)
    for (guint i = 0; both[r] != NULL && i < both[r]->members->len; i++)
      {
        SottoGroupMember *member = g_ptr_array_index (both[r]->members, i);
        Link *link = ready_link_for_key (self, member->key);

        if (link == NULL || link->contact_id == except_id ||
            g_hash_table_contains (told, link))
          continue;
        g_hash_table_add (told, link);
        send_record (link, record);
      }
}

/* Who came and went between two records, told to front ends. */
static void
tell_changes (SottoPeerService       *self,
              SottoGroup             *group,
              const SottoGroupRecord *before,
              const SottoGroupRecord *after)
{
  for (guint i = 0; i < after->members->len; i++)
    {
      SottoGroupMember *member = g_ptr_array_index (after->members, i);

      if (before == NULL || sotto_group_record_find_member (before, member->key) == NULL)
        {
          g_autofree char *name = sotto_store_dup_member_name (self->store, member);

          g_signal_emit (self, group_signals[GROUP_MEMBER_ADDED], 0, group, name);
        }
    }
  for (guint i = 0; before != NULL && i < before->members->len; i++)
    {
      SottoGroupMember *member = g_ptr_array_index (before->members, i);

      if (sotto_group_record_find_member (after, member->key) == NULL)
        {
          g_autofree char *name = sotto_store_dup_member_name (self->store, member);

          g_signal_emit (self, group_signals[GROUP_MEMBER_REMOVED], 0, group, name);
        }
    }
}

/* -------------------------------------------------------------------------
 * Sessions
 * ------------------------------------------------------------------------- */

/* Rule 1, on a session just confirmed: our signing key, then the record
 * of every group we are in that lists the peer; and our word that we
 * left, to its admins, until a record drops us. */
void
_sotto_peer_groups_session_ready (Link         *link,
                                  SottoContact *contact)
{
  SottoPeerService *self = link->service;
  g_autoptr (SottoPayload) key = NULL;
  GListModel *groups;
  guint n;

  if (!_sotto_peer_link_speaks_groups (link))
    return;

  key = sotto_payload_new (SOTTO_PAYLOAD_SIGNING_KEY);
  memcpy (key->signing_key, sotto_identity_get_signing_key (sotto_store_get_identity (self->store)),
          SOTTO_SIGNING_KEY_LEN);
  send_payload (link, key);

  groups = sotto_store_get_groups (self->store);
  n = g_list_model_get_n_items (groups);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoGroup) group = g_list_model_get_item (groups, i);
      SottoGroupStatus status = sotto_group_get_status (group);
      const guint8 *peer_key = sotto_contact_get_public_key (contact);

      if ((status != SOTTO_GROUP_STATUS_MEMBER && status != SOTTO_GROUP_STATUS_LEAVING) ||
          !sotto_group_lists (group, peer_key))
        continue;
      send_record (link, sotto_group_get_record (group));
      if (status == SOTTO_GROUP_STATUS_LEAVING && sotto_group_is_admin (group, peer_key))
        send_leave (link, group);
    }
}

void
_sotto_peer_groups_stop (SottoPeerService *self)
{
  g_queue_clear_full (&self->group_inbox, (GDestroyNotify)inbound_free);
  /* A save under way completes into a cancelled callback. */
  self->judging = FALSE;
}

/* -------------------------------------------------------------------------
 * Records that arrive
 * ------------------------------------------------------------------------- */

typedef struct
{
  SottoPeerService *service;
  Inbound          *inbound;
  SottoGroupRecord *before;     /* the record replaced, NULL when joining */
  SottoGroupVerdict verdict;
} JudgedData;

static void
judged_data_free (JudgedData *data)
{
  g_clear_object (&data->service);
  g_clear_pointer (&data->inbound, inbound_free);
  g_clear_pointer (&data->before, sotto_group_record_free);
  g_free (data);
}

static void
on_accepted_saved_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  JudgedData *data = user_data;
  SottoPeerService *self = data->service;
  g_autoptr (SottoGroup) group = NULL;
  g_autoptr (GError) error = NULL;

  group = sotto_store_save_group_finish (SOTTO_STORE (object), result, &error);
  if (group == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("can't store a group record: %s", error->message);
      /* Not stored: the peer sends it again on its next session. */
      judged_data_free (data);
      if (self->judging)
        {
          self->judging = FALSE;
          judge_next (self);
        }
      return;
    }

  spread (self, sotto_group_get_record (group), data->before, data->inbound->contact_id);
  if (data->verdict == SOTTO_GROUP_VERDICT_JOIN)
    g_signal_emit (self, group_signals[GROUP_JOINED], 0, group);
  else
    tell_changes (self, group, data->before, sotto_group_get_record (group));
  if (sotto_group_get_status (group) == SOTTO_GROUP_STATUS_REMOVED)
    g_signal_emit (self, group_signals[GROUP_REMOVED], 0, group);

  judged_data_free (data);
  self->judging = FALSE;
  judge_next (self);
}

typedef struct
{
  SottoPeerService *service;
  gint64            contact_id;
} ChainRequest;

static void
on_chain_listed_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  ChainRequest *request = user_data;
  g_autoptr (SottoPeerService) self = request->service;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GError) error = NULL;
  Link *link;

  records = sotto_store_list_group_records_finish (SOTTO_STORE (object), result, &error);
  link = _sotto_peer_link (self, request->contact_id);
  g_free (request);
  if (records == NULL)
    {
      g_debug ("can't list group records: %s", error->message);
      return;
    }
  if (link == NULL || !_sotto_peer_link_ready (link))
    return;
  for (guint i = 0; i < records->len; i++)
    send_record (link, g_ptr_array_index (records, i));
}

/* Rule 3: a member behind gets every record after the one it holds. */
static void
answer_chain (SottoPeerService *self,
              Link             *link,
              SottoGroup       *group,
              guint64           after)
{
  ChainRequest *request = g_new0 (ChainRequest, 1);

  request->service = g_object_ref (self);
  request->contact_id = link->contact_id;
  sotto_store_list_group_records_async (self->store, group, after, self->cancellable,
                                        on_chain_listed_cb, request);
}

typedef struct
{
  SottoPeerService *service;
  gint64            contact_id;
  gint64            group_id;
  guint8            key[SOTTO_KEY_LEN];
} FormerRequest;

static void
on_former_checked_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  FormerRequest *request = user_data;
  g_autoptr (SottoPeerService) self = request->service;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GError) error = NULL;
  SottoGroup *group;
  gboolean former = FALSE;
  Link *link;

  records = sotto_store_list_group_records_finish (SOTTO_STORE (object), result, &error);
  for (guint i = 0; records != NULL && !former && i < records->len; i++)
    former = sotto_group_record_find_member (g_ptr_array_index (records, i), request->key) != NULL;
  link = _sotto_peer_link (self, request->contact_id);
  group = sotto_store_get_group_by_id (self->store, request->group_id);
  if (former && link != NULL && _sotto_peer_link_ready (link) && group != NULL)
    send_record (link, sotto_group_get_record (group));
  g_free (request);
}

/* Our current record of @group, for a peer it does not list: only if a
 * record of the group we keep listed it (a former member, who learns it
 * was removed). Anyone else learns nothing of who is in the group. */
static void
answer_with_current (SottoPeerService *self,
                     Link             *link,
                     SottoGroup       *group,
                     const guint8     *peer_key)
{
  FormerRequest *request;

  if (sotto_group_lists (group, peer_key))
    {
      send_record (link, sotto_group_get_record (group));
      return;
    }
  request = g_new0 (FormerRequest, 1);
  request->service = g_object_ref (self);
  request->contact_id = link->contact_id;
  request->group_id = sotto_group_get_id (group);
  memcpy (request->key, peer_key, SOTTO_KEY_LEN);
  sotto_store_list_group_records_async (self->store, group, 0, self->cancellable,
                                        on_former_checked_cb, request);
}

/* The signing key that @signer_key's owner gave us itself, if it is a
 * contact we trust: the only word a first record is taken on. */
static const guint8 *
trusted_signing_key (SottoPeerService *self,
                     const guint8     *signer_key,
                     Link             *link)
{
  SottoContact *signer = sotto_store_get_contact_by_key (self->store, signer_key);
  const guint8 *key;

  if (signer == NULL || sotto_contact_get_blocked (signer) ||
      sotto_contact_get_verification (signer) == SOTTO_VERIFICATION_KEY_CHANGED)
    return NULL;
  key = sotto_contact_get_signing_key (signer);
  /* Told on this very session, and not stored yet. */
  if (key == NULL && link != NULL && link->contact_id == sotto_contact_get_id (signer) &&
      link->has_signing_key)
    key = link->signing_key;
  return key;
}

static void
judge_next (SottoPeerService *self)
{
  /* Not while a change of ours is being stored either: a record is
   * judged against the one we hold once that is written. */
  while (!self->judging && self->saving_own == 0 && !g_queue_is_empty (&self->group_inbox))
    {
      Inbound *inbound = g_queue_pop_head (&self->group_inbox);
      const SottoGroupRecord *incoming = inbound->record;
      SottoGroup *group;
      g_autoptr (SottoContact) sender = _sotto_peer_ref_contact (self, inbound->contact_id);
      Link *link = _sotto_peer_link (self, inbound->contact_id);
      const SottoGroupRecord *current = NULL;
      SottoGroupStatus status = SOTTO_GROUP_STATUS_MEMBER;
      SottoGroupVerdict verdict;
      gboolean listed;

      if (link != NULL && link->session != inbound->session)
        link = NULL;
      if (inbound->text != NULL)
        {
          /* Its session gone, it is not acknowledged: sent again later. */
          if (link != NULL && sender != NULL)
            receive_text (link, sender, inbound->text);
          inbound_free (inbound);
          continue;
        }
      group = sotto_store_get_group_by_gid (self->store, incoming->group_id);
      if (group != NULL)
        {
          status = sotto_group_get_status (group);
          if (status == SOTTO_GROUP_STATUS_MEMBER || status == SOTTO_GROUP_STATUS_LEAVING)
            current = sotto_group_get_record (group);
        }
      /* Out of the group, only a newer record brings us back: an old
       * one replayed does not (PROTOCOL.md, "Accepting a record"). */
      if (group != NULL && current == NULL && incoming->version <= sotto_group_get_version (group))
        verdict = SOTTO_GROUP_VERDICT_OLDER;
      else
        verdict = sotto_group_record_judge (current, incoming, own_key (self),
                                            trusted_signing_key (self, incoming->signer, link));
      g_debug ("group record %" G_GUINT64_FORMAT " from %s: %s", incoming->version,
               sender != NULL ? sotto_contact_get_name (sender) : "?",
               sotto_group_verdict_to_string (verdict));

      switch (verdict)
        {
        case SOTTO_GROUP_VERDICT_JOIN:
        case SOTTO_GROUP_VERDICT_CHANGE:
          {
            JudgedData *data = g_new0 (JudgedData, 1);

            listed = sotto_group_record_find_member (incoming, own_key (self)) != NULL;
            if (verdict == SOTTO_GROUP_VERDICT_JOIN)
              status = SOTTO_GROUP_STATUS_MEMBER;
            else if (listed)
              status = status == SOTTO_GROUP_STATUS_LEAVING ? SOTTO_GROUP_STATUS_LEAVING
                                                            : SOTTO_GROUP_STATUS_MEMBER;
            else
              status = status == SOTTO_GROUP_STATUS_LEAVING ? SOTTO_GROUP_STATUS_LEFT
                                                            : SOTTO_GROUP_STATUS_REMOVED;
            data->service = g_object_ref (self);
            data->inbound = inbound;
            data->before = current != NULL ? sotto_group_record_copy (current) : NULL;
            data->verdict = verdict;
            self->judging = TRUE;
            sotto_store_save_group_async (self->store, incoming, status, self->cancellable,
                                          on_accepted_saved_cb, data);
            return;
          }

        case SOTTO_GROUP_VERDICT_OLDER:
          /* Rule 3: behind, or the loser of a tie. */
          if (link != NULL && group != NULL && current != NULL &&
              first_answer (link, incoming->group_id))
            {
              if (sender != NULL && sotto_group_lists (group, sotto_contact_get_public_key (sender)))
                answer_chain (self, link, group, incoming->version);
              else if (sender != NULL)
                answer_with_current (self, link, group, sotto_contact_get_public_key (sender));
            }
          break;

        case SOTTO_GROUP_VERDICT_UNAUTHORIZED:
          /* Rule 4: we may be the one behind; our record lets the peer
           * answer with what we miss. A higher version we cannot trust
           * is worth a line in the security log. */
          if (link != NULL && current != NULL && sender != NULL &&
              first_answer (link, incoming->group_id))
            answer_with_current (self, link, group, sotto_contact_get_public_key (sender));
          if (sender != NULL && (current == NULL || incoming->version > current->version))
            log_refused (self, sender, incoming->name,
                         current == NULL ? _("not signed by a contact who administers the group")
                                         : _("not signed by an administrator of the group"));
          break;

        case SOTTO_GROUP_VERDICT_BAD_SIGNATURE:
          if (sender != NULL)
            log_refused (self, sender, incoming->name, _("the signature does not verify"));
          break;

        case SOTTO_GROUP_VERDICT_SAME:
        case SOTTO_GROUP_VERDICT_NOT_LISTED:
        default:
          break;
        }
      inbound_free (inbound);
    }
}

/* -------------------------------------------------------------------------
 * Messages that arrive
 * ------------------------------------------------------------------------- */

typedef struct
{
  SottoPeerService *service;
  gint64            contact_id;
  gint64            group_id;
  SottoSession     *session;
  guint8            uid[SOTTO_MESSAGE_UID_LEN];
} IncomingData;

static void
on_group_message_saved_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  IncomingData *data = user_data;
  g_autoptr (SottoPeerService) self = data->service;
  g_autoptr (SottoSession) session = data->session;
  g_autoptr (SottoMessage) message = NULL;
  g_autoptr (SottoContact) sender = NULL;
  g_autoptr (GError) error = NULL;
  gboolean is_new = FALSE;
  SottoGroup *group;
  Link *link;

  message = sotto_store_save_incoming_group_finish (SOTTO_STORE (object), result, &is_new, &error);
  if (message == NULL)
    {
      /* Not on disk, so not acknowledged, as for direct messages. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_debug ("group message refused: %s", error->message);
          sotto_session_close (session, error);
        }
      g_free (data);
      return;
    }

  link = _sotto_peer_link (self, data->contact_id);
  if (link != NULL && link->session == session)
    _sotto_peer_link_ack (link, data->uid);
  sender = _sotto_peer_ref_contact (self, data->contact_id);
  group = sotto_store_get_group_by_id (self->store, data->group_id);
  if (is_new && sender != NULL && group != NULL)
    g_signal_emit (self, group_signals[GROUP_MESSAGE_RECEIVED], 0, group, sender, message);
  g_free (data);
}

static void
receive_text (Link               *link,
              SottoContact       *sender,
              const SottoPayload *payload)
{
  SottoPeerService *self = link->service;
  SottoGroup *group = sotto_store_get_group_by_gid (self->store, payload->group_id);
  const guint8 *sender_key = sotto_contact_get_public_key (sender);
  SottoGroupStatus status;
  IncomingData *data;

  /* Rule 1: out of the group, we owe it no more waiting. */
  if (group != NULL)
    {
      status = sotto_group_get_status (group);
      if (status != SOTTO_GROUP_STATUS_MEMBER)
        {
          _sotto_peer_link_ack (link, payload->uid);
          return;
        }
    }

  /* Rule 2: from whom our record does not list, nothing is kept, nor
   * acknowledged: we may be the one behind, and hear of it later. */
  if (group == NULL || !sotto_group_lists (group, sender_key) ||
      !sotto_group_lists (group, own_key (self)))
    {
      if (group != NULL && first_answer (link, payload->group_id))
        {
          answer_with_current (self, link, group, sender_key);
          log_refused (self, sender, sotto_group_get_name (group),
                       _("a message from someone the group does not list"));
        }
      return;
    }

  data = g_new0 (IncomingData, 1);
  data->service = g_object_ref (self);
  data->contact_id = link->contact_id;
  data->group_id = sotto_group_get_id (group);
  data->session = g_object_ref (link->session);
  memcpy (data->uid, payload->uid, SOTTO_MESSAGE_UID_LEN);
  sotto_store_save_incoming_group_async (self->store, group, sender, payload->uid,
                                         payload->timestamp, payload->body, self->cancellable,
                                         on_group_message_saved_cb, data);
}

/* -------------------------------------------------------------------------
 * Changes we make
 * ------------------------------------------------------------------------- */

typedef struct
{
  SottoGroupRecord *before;
  SottoGroupStatus  status;
} ChangeData;

static void
change_data_free (ChangeData *data)
{
  g_clear_pointer (&data->before, sotto_group_record_free);
  g_free (data);
}

static void
on_own_record_saved_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoPeerService *self = g_task_get_source_object (task);
  ChangeData *data = g_task_get_task_data (task);
  g_autoptr (SottoGroup) group = NULL;
  GError *error = NULL;

  group = sotto_store_save_group_finish (SOTTO_STORE (object), result, &error);
  own_saved (self);
  if (group == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  spread (self, sotto_group_get_record (group), data->before, 0);
  if (data->before != NULL)
    tell_changes (self, group, data->before, sotto_group_get_record (group));
  g_task_return_pointer (task, g_steal_pointer (&group), g_object_unref);
}

/* A change of ours is written: the records that waited for it go on. */
static void
own_saved (SottoPeerService *self)
{
  g_assert (self->saving_own > 0);
  self->saving_own--;
  judge_next (self);
}

static void
on_leaving_saved_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoPeerService *self = g_task_get_source_object (task);
  g_autoptr (SottoGroup) group = NULL;
  const SottoGroupRecord *record;
  GError *error = NULL;

  group = sotto_store_save_group_finish (SOTTO_STORE (object), result, &error);
  own_saved (self);
  if (group == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  record = sotto_group_get_record (group);
  for (guint i = 0; sotto_group_get_status (group) == SOTTO_GROUP_STATUS_LEAVING &&
                    i < record->members->len; i++)
    {
      SottoGroupMember *member = g_ptr_array_index (record->members, i);
      Link *link = member->role == SOTTO_GROUP_ROLE_ADMIN ? ready_link_for_key (self, member->key)
                                                          : NULL;

      if (link != NULL)
        send_leave (link, group);
    }
  g_task_return_pointer (task, g_steal_pointer (&group), g_object_unref);
}

/* Signs @record (its version set) and stores it with @status. */
static void
commit_record (SottoPeerService    *self,
               SottoGroupRecord    *record,
               const SottoGroupRecord *before,
               SottoGroupStatus     status,
               gpointer             source_tag,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  g_autoptr (GError) error = NULL;
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  ChangeData *data = g_new0 (ChangeData, 1);

  g_task_set_source_tag (task, source_tag);
  data->before = before != NULL ? sotto_group_record_copy (before) : NULL;
  data->status = status;
  g_task_set_task_data (task, data, (GDestroyNotify)change_data_free);

  if (!sotto_group_record_sign (record, sotto_store_get_identity (self->store), &error))
    {
      /* Only a limit can fail here: say it as the user's mistake. */
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("The group can't be changed that way: %s"), error->message);
      g_object_unref (task);
      return;
    }
  self->saving_own++;
  sotto_store_save_group_async (self->store, record, status, cancellable, on_own_record_saved_cb,
                                task);
}

/* A contact may join a group we make: chosen, not blocked, its key not in
 * doubt (we vouch for it to everyone else). */
static gboolean
may_add (SottoContact  *contact,
         GError       **error)
{
  if (sotto_contact_get_member_only (contact) != SOTTO_MEMBER_ONLY_NO)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                   _("%s is not one of your contacts: only contacts can be added to a group"),
                   sotto_contact_get_name (contact));
      return FALSE;
    }
  if (sotto_contact_get_blocked (contact))
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                   _("%s is blocked"), sotto_contact_get_name (contact));
      return FALSE;
    }
  if (sotto_contact_get_verification (contact) == SOTTO_VERIFICATION_KEY_CHANGED)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                   _("The key of %s changed: compare it before adding them to a group"),
                   sotto_contact_get_name (contact));
      return FALSE;
    }
  return TRUE;
}

static void
add_contact_to (SottoGroupRecord *record,
                SottoContact     *contact)
{
  sotto_group_record_add_member (record, sotto_contact_get_public_key (contact),
                                 sotto_contact_get_signing_key (contact),
                                 sotto_contact_get_name (contact),
                                 sotto_contact_get_addresses (contact), SOTTO_GROUP_ROLE_MEMBER);
}

/**
 * sotto_peer_service_create_group_async:
 * @name: the group's name (a valid display name)
 * @members: (element-type SottoContact): contacts to put in it
 *
 * Makes a group with the user as its admin and @members, and tells every
 * member with a session; the others hear of it on their next session.
 */
void
sotto_peer_service_create_group_async (SottoPeerService    *self,
                                       const char          *name,
                                       GPtrArray           *members,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr (SottoGroupRecord) record = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *normalized = NULL;
  SottoIdentity *identity;
  guint8 gid[SOTTO_GROUP_ID_LEN];

  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (members != NULL);

  normalized = sotto_display_name_normalize (name, &error);
  for (guint i = 0; error == NULL && i < members->len; i++)
    may_add (g_ptr_array_index (members, i), &error);
  if (error == NULL && members->len + 1 > SOTTO_GROUP_MAX_MEMBERS)
    g_set_error (&error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                 _("A group has at most %d members"), SOTTO_GROUP_MAX_MEMBERS);
  if (error != NULL)
    {
      g_task_report_error (self, callback, user_data, sotto_peer_service_create_group_async,
                           g_steal_pointer (&error));
      return;
    }

  identity = sotto_store_get_identity (self->store);
  randombytes_buf (gid, sizeof gid);
  record = sotto_group_record_new (gid, normalized);
  record->version = 1;
  sotto_group_record_add_member (record, sotto_identity_get_public_key (identity),
                                 sotto_identity_get_signing_key (identity),
                                 sotto_identity_get_display_name (identity), NULL,
                                 SOTTO_GROUP_ROLE_ADMIN);
  for (guint i = 0; i < members->len; i++)
    add_contact_to (record, g_ptr_array_index (members, i));
  commit_record (self, record, NULL, SOTTO_GROUP_STATUS_MEMBER,
                 sotto_peer_service_create_group_async, cancellable, callback, user_data);
}

/**
 * sotto_peer_service_change_group_async:
 * @change: what to do
 * @members: (element-type SottoContact) (nullable): whom to add, remove
 *   or name admin
 * @name: (nullable): the new name, for %SOTTO_GROUP_CHANGE_RENAME
 *
 * An admin's change: a new record, signed, stored and told to every
 * member with a session (the removed ones included, so they know).
 */
void
sotto_peer_service_change_group_async (SottoPeerService    *self,
                                       SottoGroup          *group,
                                       SottoGroupChange     change,
                                       GPtrArray           *members,
                                       const char          *name,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  const SottoGroupRecord *current;
  g_autoptr (SottoGroupRecord) record = NULL;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (SOTTO_IS_GROUP (group));

  current = sotto_group_get_record (group);
  if (!sotto_group_is_active (group))
    g_set_error (&error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                 _("You are no longer in the group “%s”"), sotto_group_get_name (group));
  else if (!sotto_group_is_admin (group, own_key (self)))
    g_set_error (&error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                 _("Only an administrator of “%s” can change it"), sotto_group_get_name (group));

  record = sotto_group_record_copy (current);
  record->version = current->version + 1;
  for (guint i = 0; error == NULL && members != NULL && i < members->len; i++)
    {
      SottoContact *contact = g_ptr_array_index (members, i);
      const guint8 *key = sotto_contact_get_public_key (contact);
      SottoGroupMember *member = sotto_group_record_find_member (record, key);

      switch (change)
        {
        case SOTTO_GROUP_CHANGE_ADD:
          if (member != NULL)
            g_set_error (&error, SOTTO_ERROR, SOTTO_ERROR_EXISTS, _("%s is in the group already"),
                         sotto_contact_get_name (contact));
          else if (may_add (contact, &error))
            add_contact_to (record, contact);
          break;
        case SOTTO_GROUP_CHANGE_REMOVE:
          if (member == NULL)
            g_set_error (&error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND, _("%s is not in the group"),
                         sotto_contact_get_name (contact));
          else
            sotto_group_record_remove_member (record, key);
          break;
        case SOTTO_GROUP_CHANGE_ADMIN:
          if (member == NULL)
            g_set_error (&error, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND, _("%s is not in the group"),
                         sotto_contact_get_name (contact));
          else if (!member->has_signing_key && sotto_contact_get_signing_key (contact) == NULL)
            g_set_error (&error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                         _("%s can't administer the group yet: Sotto needs to have talked to "
                           "them once since they were added"),
                         sotto_contact_get_name (contact));
          else
            {
              if (!member->has_signing_key)
                {
                  memcpy (member->signing_key, sotto_contact_get_signing_key (contact),
                          SOTTO_SIGNING_KEY_LEN);
                  member->has_signing_key = TRUE;
                }
              member->role = SOTTO_GROUP_ROLE_ADMIN;
              /* The record changed behind add_member()'s back. */
              g_clear_pointer (&record->bytes, g_bytes_unref);
            }
          break;
        case SOTTO_GROUP_CHANGE_RENAME:
        default:
          break;
        }
    }
  if (error == NULL && change == SOTTO_GROUP_CHANGE_RENAME)
    {
      g_autofree char *normalized = sotto_display_name_normalize (name != NULL ? name : "", &error);

      if (normalized != NULL)
        {
          g_free (record->name);
          record->name = g_steal_pointer (&normalized);
        }
    }
  if (error == NULL && change != SOTTO_GROUP_CHANGE_RENAME && (members == NULL || members->len == 0))
    g_set_error_literal (&error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                         _("Name at least one member"));
  if (error != NULL)
    {
      g_task_report_error (self, callback, user_data, sotto_peer_service_change_group_async,
                           g_steal_pointer (&error));
      return;
    }
  commit_record (self, record, current, SOTTO_GROUP_STATUS_MEMBER,
                 sotto_peer_service_change_group_async, cancellable, callback, user_data);
}

/**
 * sotto_peer_service_change_group_finish:
 *
 * Also the finish of sotto_peer_service_create_group_async() and
 * sotto_peer_service_leave_group_async().
 *
 * Returns: (transfer full): the group as it now is
 */
SottoGroup *
sotto_peer_service_change_group_finish (SottoPeerService  *self,
                                        GAsyncResult      *result,
                                        GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * sotto_peer_service_leave_group_async:
 *
 * Leaves @group. An admin signs the record without itself (naming the
 * first remaining member who can sign admin if no admin would remain);
 * any other member tells the admins until one drops it from the record.
 * Either way nothing more is sent to the group or shown from it.
 */
void
sotto_peer_service_leave_group_async (SottoPeerService    *self,
                                      SottoGroup          *group,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  const SottoGroupRecord *current;
  g_autoptr (SottoGroupRecord) record = NULL;

  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (SOTTO_IS_GROUP (group));

  current = sotto_group_get_record (group);
  if (!sotto_group_is_active (group))
    {
      g_task_report_new_error (self, callback, user_data, sotto_peer_service_leave_group_async,
                               SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("You are no longer in the group “%s”"),
                               sotto_group_get_name (group));
      return;
    }

  record = sotto_group_record_copy (current);
  if (!sotto_group_is_admin (group, own_key (self)) || current->members->len == 1)
    {
      /* Stored as it is, with where we now stand; the admins hear it on
       * every session until they drop us. */
      SottoGroupStatus status = current->members->len == 1 ? SOTTO_GROUP_STATUS_LEFT
                                                           : SOTTO_GROUP_STATUS_LEAVING;
      GTask *task = g_task_new (self, cancellable, callback, user_data);
      ChangeData *data = g_new0 (ChangeData, 1);

      g_task_set_source_tag (task, sotto_peer_service_leave_group_async);
      data->status = status;
      g_task_set_task_data (task, data, (GDestroyNotify)change_data_free);
      /* The admins hear it once we stand as leaving: their answer, the
       * record without us, must find us so. */
      self->saving_own++;
      sotto_store_save_group_async (self->store, record, status, cancellable,
                                    on_leaving_saved_cb, task);
      return;
    }

  sotto_group_record_remove_member (record, own_key (self));
  if (sotto_group_record_count_admins (record) == 0)
    for (guint i = 0; i < record->members->len; i++)
      {
        SottoGroupMember *member = g_ptr_array_index (record->members, i);

        if (member->has_signing_key)
          {
            member->role = SOTTO_GROUP_ROLE_ADMIN;
            break;
          }
      }
  if (sotto_group_record_count_admins (record) == 0)
    {
      g_task_report_new_error (self, callback, user_data, sotto_peer_service_leave_group_async,
                               SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("Nobody else can administer “%s” yet: wait until a member "
                                 "has been online, or name an administrator first"),
                               sotto_group_get_name (group));
      return;
    }
  record->version = current->version + 1;
  commit_record (self, record, current, SOTTO_GROUP_STATUS_LEFT,
                 sotto_peer_service_leave_group_async, cancellable, callback, user_data);
}

/* An admin hears that a member leaves: the record without it. */
static void
on_leave_applied_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr (SottoGroup) group = NULL;
  g_autoptr (GError) error = NULL;

  group = sotto_peer_service_change_group_finish (SOTTO_PEER_SERVICE (object), result, &error);
  if (group == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("can't drop a member who left: %s", error->message);
}

static void
receive_leave (Link               *link,
               SottoContact       *sender,
               const SottoPayload *payload)
{
  SottoPeerService *self = link->service;
  SottoGroup *group = sotto_store_get_group_by_gid (self->store, payload->group_id);
  g_autoptr (GPtrArray) leaving = NULL;

  if (group == NULL || !sotto_group_is_active (group) ||
      !sotto_group_is_admin (group, own_key (self)) ||
      !sotto_group_lists (group, sotto_contact_get_public_key (sender)))
    return;
  leaving = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (leaving, g_object_ref (sender));
  sotto_peer_service_change_group_async (self, group, SOTTO_GROUP_CHANGE_REMOVE, leaving, NULL,
                                         self->cancellable, on_leave_applied_cb, NULL);
}

static void
on_group_deleted_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (!sotto_store_delete_group_finish (SOTTO_STORE (object), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_left_before_delete_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  GTask *task = user_data;
  SottoPeerService *self = g_task_get_source_object (task);
  SottoGroup *group = g_task_get_task_data (task);
  g_autoptr (SottoGroup) left = NULL;
  g_autoptr (GError) error = NULL;

  left = sotto_peer_service_change_group_finish (self, result, &error);
  /* Deleting is local: it goes on even if leaving could not be said. */
  if (left == NULL)
    g_debug ("deleting a group without leaving it first: %s", error->message);
  sotto_store_delete_group_async (self->store, group, g_task_get_cancellable (task),
                                  on_group_deleted_cb, task);
}

/**
 * sotto_peer_service_delete_group_async:
 *
 * Leaves @group if the user is still in it, then forgets it locally:
 * its records and its history.
 */
void
sotto_peer_service_delete_group_async (SottoPeerService    *self,
                                       SottoGroup          *group,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (SOTTO_IS_GROUP (group));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_peer_service_delete_group_async);
  g_task_set_task_data (task, g_object_ref (group), g_object_unref);
  if (sotto_group_is_active (group))
    sotto_peer_service_leave_group_async (self, group, cancellable, on_left_before_delete_cb, task);
  else
    sotto_store_delete_group_async (self->store, group, cancellable, on_group_deleted_cb, task);
}

gboolean
sotto_peer_service_delete_group_finish (SottoPeerService  *self,
                                        GAsyncResult      *result,
                                        GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_group_message_queued_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoPeerService *self = g_task_get_source_object (task);
  SottoGroup *group = g_task_get_task_data (task);
  const SottoGroupRecord *record = sotto_group_get_record (group);
  g_autoptr (SottoMessage) message = NULL;
  GError *error = NULL;

  message = sotto_store_queue_group_message_finish (SOTTO_STORE (object), result, &error);
  if (message == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* On disk: now it leaves through each member's link, like a direct
   * message to each. */
  for (guint i = 0; i < record->members->len; i++)
    {
      SottoGroupMember *member = g_ptr_array_index (record->members, i);
      SottoContact *peer = sotto_store_get_peer_by_key (self->store, member->key);

      if (peer == NULL || sotto_contact_get_member_only (peer) == SOTTO_MEMBER_ONLY_FORMER ||
          sotto_contact_get_blocked (peer))
        continue;
      if (self->started)
        {
          Link *link = _sotto_peer_link (self, sotto_contact_get_id (peer));

          if (link != NULL)
            _sotto_peer_link_send_or_list (link, peer, message);
          else
            sotto_peer_service_deliver (self, peer);
        }
    }
  g_task_return_pointer (task, g_steal_pointer (&message), g_object_unref);
}

/**
 * sotto_peer_service_send_group_async:
 *
 * Writes a message to @group, owed to each member, then sends it to
 * every member online. Completes once it is on disk.
 */
void
sotto_peer_service_send_group_async (SottoPeerService    *self,
                                     SottoGroup          *group,
                                     const char          *body,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (SOTTO_IS_GROUP (group));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_peer_service_send_group_async);
  g_task_set_task_data (task, g_object_ref (group), g_object_unref);
  sotto_store_queue_group_message_async (self->store, group, body, cancellable,
                                         on_group_message_queued_cb, task);
}

SottoMessage *
sotto_peer_service_send_group_finish (SottoPeerService  *self,
                                      GAsyncResult      *result,
                                      GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* -------------------------------------------------------------------------
 * Payloads
 * ------------------------------------------------------------------------- */

static void
on_signing_key_saved_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;

  contact = sotto_store_set_signing_key_finish (SOTTO_STORE (object), result, &error);
  if (contact == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("can't keep a signing key: %s", error->message);
}

void
_sotto_peer_groups_payload (Link               *link,
                            SottoContact       *contact,
                            const SottoPayload *payload)
{
  SottoPeerService *self = link->service;

  switch (payload->kind)
    {
    case SOTTO_PAYLOAD_SIGNING_KEY:
      {
        const guint8 *known = sotto_contact_get_signing_key (contact);

        /* The first key a peer told us is the one kept. */
        if (known != NULL && sodium_memcmp (known, payload->signing_key, SOTTO_SIGNING_KEY_LEN) != 0)
          {
            log_refused (self, contact, _("signing key"),
                         _("it sent another signing key; the first one is kept"));
            break;
          }
        memcpy (link->signing_key, payload->signing_key, SOTTO_SIGNING_KEY_LEN);
        link->has_signing_key = TRUE;
        if (known == NULL)
          sotto_store_set_signing_key_async (self->store, contact, payload->signing_key,
                                             self->cancellable, on_signing_key_saved_cb, NULL);
      }
      break;

    case SOTTO_PAYLOAD_GROUP_RECORD:
      {
        Inbound *inbound = g_new0 (Inbound, 1);
        g_autoptr (GBytes) gid = g_bytes_new (payload->group_record->group_id, SOTTO_GROUP_ID_LEN);
        gpointer known = NULL;
        gboolean newer;

        /* The peer learned a record of the group since it last told us
         * one on this session: what it dropped before, for not knowing a
         * member yet, it takes now (PROTOCOL.md, "Group messages"). */
        newer = g_hash_table_lookup_extended (link->versions, gid, NULL, &known) &&
                payload->group_record->version > GPOINTER_TO_SIZE (known);
        if (!g_hash_table_contains (link->versions, gid) || newer)
          g_hash_table_insert (link->versions, g_steal_pointer (&gid),
                               GSIZE_TO_POINTER ((gsize)payload->group_record->version));
        if (newer)
          _sotto_peer_link_resend (link);

        inbound->contact_id = link->contact_id;
        inbound->session = g_object_ref (link->session);
        inbound->record = sotto_group_record_copy (payload->group_record);
        g_queue_push_tail (&self->group_inbox, inbound);
        judge_next (self);
      }
      break;

    case SOTTO_PAYLOAD_GROUP_TEXT:
      /* Behind the records still to judge: one of them may let it in. */
      if (self->judging || !g_queue_is_empty (&self->group_inbox))
        {
          Inbound *inbound = g_new0 (Inbound, 1);

          inbound->contact_id = link->contact_id;
          inbound->session = g_object_ref (link->session);
          inbound->text = sotto_payload_new (SOTTO_PAYLOAD_GROUP_TEXT);
          memcpy (inbound->text->group_id, payload->group_id, SOTTO_GROUP_ID_LEN);
          memcpy (inbound->text->uid, payload->uid, SOTTO_MESSAGE_UID_LEN);
          inbound->text->timestamp = payload->timestamp;
          inbound->text->body = g_strdup (payload->body);
          g_queue_push_tail (&self->group_inbox, inbound);
        }
      else
        receive_text (link, contact, payload);
      break;

    case SOTTO_PAYLOAD_GROUP_LEAVE:
      receive_leave (link, contact, payload);
      break;

    case SOTTO_PAYLOAD_GROUP_TYPING:
      {
        SottoGroup *group = sotto_store_get_group_by_gid (self->store, payload->group_id);

        if (group != NULL && sotto_group_is_active (group) &&
            sotto_group_lists (group, sotto_contact_get_public_key (contact)) &&
            g_settings_get_boolean (self->settings, "group-typing-and-read"))
          g_signal_emit (self, group_signals[GROUP_TYPING], 0, group, contact, payload->typing);
      }
      break;

    default:
      g_assert_not_reached ();
    }
}

void
_sotto_peer_groups_class_init (GObjectClass *object_class)
{
  GType type = G_TYPE_FROM_CLASS (object_class);

  /**
   * SottoPeerService::group-message-received:
   * @group: the group
   * @sender: the member who wrote it (a contact or member-only peer)
   * @message: the message, stored
   */
  group_signals[GROUP_MESSAGE_RECEIVED] =
    g_signal_new ("group-message-received", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, SOTTO_TYPE_GROUP, SOTTO_TYPE_CONTACT, SOTTO_TYPE_MESSAGE);
  /**
   * SottoPeerService::group-joined:
   *
   * A contact put the user in a group.
   */
  group_signals[GROUP_JOINED] =
    g_signal_new ("group-joined", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SOTTO_TYPE_GROUP);
  /**
   * SottoPeerService::group-removed:
   *
   * An admin removed the user from the group.
   */
  group_signals[GROUP_REMOVED] =
    g_signal_new ("group-removed", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SOTTO_TYPE_GROUP);
  /**
   * SottoPeerService::group-member-added:
   * @name: the member's name, as the user knows them
   */
  group_signals[GROUP_MEMBER_ADDED] =
    g_signal_new ("group-member-added", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, SOTTO_TYPE_GROUP, G_TYPE_STRING);
  group_signals[GROUP_MEMBER_REMOVED] =
    g_signal_new ("group-member-removed", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, SOTTO_TYPE_GROUP, G_TYPE_STRING);
  /**
   * SottoPeerService::group-typing:
   *
   * Only with the group-typing-and-read setting on.
   */
  group_signals[GROUP_TYPING] =
    g_signal_new ("group-typing", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, SOTTO_TYPE_GROUP, SOTTO_TYPE_CONTACT, G_TYPE_BOOLEAN);
}
