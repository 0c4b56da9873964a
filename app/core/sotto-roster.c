/* sotto-roster.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The buddy list's model: a GListModel of SottoRosterItem, one per
 * contact of the store, in the order people look for them (available,
 * away, offline, each by name; blocked contacts last), optionally
 * filtered by name or fingerprint.
 *
 * Everything in it follows signals: the store's contacts model (added,
 * removed, renamed, blocked), the store's messages (unread count, last
 * activity) and the peer service's sessions (presence, typing). A change
 * that moves an item is one removal and one insertion of that item, so a
 * list view keeps its rows and selection.
 *
 * Unread counts come from the store (sotto_store_list_summaries_async()),
 * read at the start and again for a conversation whenever the store marks
 * it read or purges it, and are counted up in between as messages arrive.
 * A message received while history is off is not on disk: the store
 * counts it as unread only until it is marked read or the profile is
 * closed, and so does the roster. Last activity counts what arrives while
 * the roster runs, stored or not.
 */
#define G_LOG_DOMAIN "sotto-roster"

#include "config.h"

#include <string.h>

#include "sotto-list-change.h"
#include "sotto-roster-item-private.h"
#include "sotto-roster-private.h"

/* Fewer digits than a fingerprint group could be part of any number. */

typedef struct _Entry Entry;

struct _SottoRoster
{
  GObject           parent_instance;

  /* owned references */
  SottoStore       *store;
  SottoPeerService *service;        /* nullable */
  GListModel       *contacts;       /* the store's */
  GCancellable     *cancellable;    /* summaries being read */

  GHashTable       *entries;        /* gint64 contact id → Entry */
  GPtrArray        *sorted;         /* every item, in order; the entries hold them */
  GPtrArray        *visible;        /* those the filter lets through, in order: the model */

  char             *filter;         /* as given; NULL: none */
  char             *filter_folded;  /* sotto_search_fold () of it */
  char             *filter_digits;  /* it as the start of a fingerprint, or NULL */

  guint             total_unread;
  guint             typing_timeout_ms;
  guint             reconcile_source;
};

struct _Entry
{
  SottoRoster     *roster;          /* unowned: the roster owns the entry */
  gint64           contact_id;
  SottoRosterItem *item;
  guint            typing_source;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SottoRoster, sotto_roster, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_FILTER,
  PROP_TOTAL_UNREAD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void on_contact_notify_cb (SottoContact *contact,
                                  GParamSpec   *pspec,
                                  SottoRoster  *self);

/* -------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

static void
entry_free (Entry *entry)
{
  g_clear_handle_id (&entry->typing_source, g_source_remove);
  g_clear_object (&entry->item);
  g_free (entry);
}

static Entry *
lookup (SottoRoster *self,
        gint64       contact_id)
{
  return g_hash_table_lookup (self->entries, &contact_id);
}

static gboolean
is_visible (SottoRoster     *self,
            SottoRosterItem *item)
{
  return _sotto_roster_item_matches (item, self->filter_folded, self->filter_digits);
}

/* Where @item goes in @array, which is in order and does not hold it. */
static guint
find_position (GPtrArray       *array,
               SottoRosterItem *item)
{
  guint lo = 0;
  guint hi = array->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (_sotto_roster_item_compare (g_ptr_array_index (array, mid), item) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }

  return lo;
}

static guint
insert_sorted (GPtrArray       *array,
               SottoRosterItem *item)
{
  guint position = find_position (array, item);

  g_ptr_array_insert (array, (int)position, item);
  return position;
}

/* After a change to what orders or filters @item: it moves, as one
 * removal and one insertion, or stays where it is without a signal. */
static void
reposition (SottoRoster     *self,
            SottoRosterItem *item)
{
  gboolean was_visible;
  gboolean now_visible = is_visible (self, item);
  guint old_position = 0;
  guint new_position;

  g_ptr_array_remove (self->sorted, item);
  insert_sorted (self->sorted, item);

  was_visible = g_ptr_array_find (self->visible, item, &old_position);
  if (was_visible)
    {
      g_ptr_array_remove_index (self->visible, old_position);
      if (now_visible && find_position (self->visible, item) == old_position)
        {
          g_ptr_array_insert (self->visible, (int)old_position, item);
          return;
        }
      g_list_model_items_changed (G_LIST_MODEL (self), old_position, 1, 0);
    }

  if (now_visible)
    {
      new_position = insert_sorted (self->visible, item);
      g_list_model_items_changed (G_LIST_MODEL (self), new_position, 0, 1);
    }
}

static void
set_unread (SottoRoster     *self,
            SottoRosterItem *item,
            guint            unread)
{
  guint old = sotto_roster_item_get_unread (item);

  if (old == unread)
    return;

  _sotto_roster_item_set_unread (item, unread);
  self->total_unread = self->total_unread - old + unread;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL_UNREAD]);
}

/* Stored last activity only grows (a purge leaves it), and a message seen
 * here may be newer than what is on disk (history off): the later wins. */
static void
note_activity (SottoRosterItem *item,
               gint64           when)
{
  gint64 last = sotto_roster_item_get_last_activity (item);

  _sotto_roster_item_set_last_activity (item, MAX (last, when));
}

static void
add_contact (SottoRoster  *self,
             SottoContact *contact)
{
  gint64 id = sotto_contact_get_id (contact);
  Entry *entry;

  /* The store moves an updated contact by taking it out and putting it
   * back: it is still here (see on_reconcile_cb()). */
  if (lookup (self, id) != NULL)
    return;

  entry = g_new0 (Entry, 1);
  entry->roster = self;
  entry->contact_id = id;
  entry->item = _sotto_roster_item_new (contact);
  if (self->service != NULL)
    _sotto_roster_item_set_presence (entry->item,
                                     sotto_peer_service_get_contact_presence (self->service,
                                                                              contact));
  g_hash_table_insert (self->entries, &entry->contact_id, entry);

  g_signal_connect (contact, "notify::name", G_CALLBACK (on_contact_notify_cb), self);
  g_signal_connect (contact, "notify::blocked", G_CALLBACK (on_contact_notify_cb), self);
  g_signal_connect (contact, "notify::verification", G_CALLBACK (on_contact_notify_cb), self);

  insert_sorted (self->sorted, entry->item);
  if (is_visible (self, entry->item))
    {
      guint position = insert_sorted (self->visible, entry->item);

      g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
    }
}

static void
remove_entry (SottoRoster *self,
              Entry       *entry)
{
  SottoRosterItem *item = entry->item;
  guint position = 0;

  g_signal_handlers_disconnect_by_data (sotto_roster_item_get_contact (item), self);
  set_unread (self, item, 0);

  g_ptr_array_remove (self->sorted, item);
  if (g_ptr_array_find (self->visible, item, &position))
    {
      g_ptr_array_remove_index (self->visible, position);
      g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
    }

  g_hash_table_remove (self->entries, &entry->contact_id);
}

static void
on_summaries_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr (SottoRoster) self = user_data;
  g_autoptr (GPtrArray) summaries = NULL;
  g_autoptr (GError) error = NULL;

  summaries = sotto_store_list_summaries_finish (SOTTO_STORE (object), result, &error);
  if (summaries == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Could not read the unread counts: %s", error->message);
      return;
    }

  /* Store jobs complete in the order they ran: a message-added seen
   * before this was counted in it already, one seen after was not. So
   * the stored count replaces ours. */
  for (guint i = 0; i < summaries->len; i++)
    {
      SottoConversationSummary *summary = g_ptr_array_index (summaries, i);
      Entry *entry = lookup (self, summary->contact_id);

      if (entry == NULL)
        continue;
      set_unread (self, entry->item, summary->unread);
      note_activity (entry->item, summary->last_activity);
    }
}

/* Reads the unread counts again: of one contact's conversation, or of all
 * with 0. */
static void
refresh (SottoRoster *self,
         gint64       contact_id)
{
  SottoContact *contact = contact_id != 0 ? sotto_store_get_contact_by_id (self->store, contact_id)
                                          : NULL;

  if (contact_id != 0 && contact == NULL)
    return;

  sotto_store_list_summaries_async (self->store, contact, self->cancellable,
                                    on_summaries_cb, g_object_ref (self));
}

/* -------------------------------------------------------------------------
 * Callbacks
 * ------------------------------------------------------------------------- */

static void
on_contact_notify_cb (SottoContact *contact,
                      GParamSpec   *pspec,
                      SottoRoster  *self)
{
  Entry *entry = lookup (self, sotto_contact_get_id (contact));

  if (entry != NULL && _sotto_roster_item_sync_contact (entry->item))
    reposition (self, entry->item);
}

static gboolean
on_reconcile_cb (gpointer user_data)
{
  SottoRoster *self = user_data;
  g_autoptr (GHashTable) present = g_hash_table_new_full (g_int64_hash, g_int64_equal,
                                                          g_free, NULL);
  g_autoptr (GPtrArray) gone = g_ptr_array_new ();
  guint n = g_list_model_get_n_items (self->contacts);
  GHashTableIter iter;
  Entry *entry;

  self->reconcile_source = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (self->contacts, i);
      gint64 id = sotto_contact_get_id (contact);

      g_hash_table_add (present, g_memdup2 (&id, sizeof id));
    }

  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&entry))
    if (!g_hash_table_contains (present, &entry->contact_id))
      g_ptr_array_add (gone, entry);

  for (guint i = 0; i < gone->len; i++)
    remove_entry (self, g_ptr_array_index (gone, i));

  return G_SOURCE_REMOVE;
}

static void
on_contacts_changed_cb (GListModel  *model,
                        guint        position,
                        guint        removed,
                        guint        added,
                        SottoRoster *self)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (model, i);

      add_contact (self, contact);
    }

  /* Which contact left is known only by looking; and not now: an updated
   * contact is taken out and put back in one go, and keeps its item. */
  if (removed > 0 && self->reconcile_source == 0)
    self->reconcile_source = g_idle_add (on_reconcile_cb, self);
}

static void
on_message_added_cb (SottoStore   *store,
                     SottoMessage *message,
                     SottoRoster  *self)
{
  Entry *entry = lookup (self, sotto_message_get_contact_id (message));

  if (entry == NULL)
    return;

  /* As the store keeps it (conversations.last_activity). */
  note_activity (entry->item, MAX (sotto_message_get_sent (message),
                                   sotto_message_get_received (message)));
  if (sotto_message_get_direction (message) == SOTTO_DIRECTION_IN)
    set_unread (self, entry->item, sotto_roster_item_get_unread (entry->item) + 1);
}

static void
on_conversation_read_cb (SottoStore  *store,
                         gint64       contact_id,
                         SottoRoster *self)
{
  refresh (self, contact_id);
}

static void
on_history_purged_cb (SottoStore  *store,
                      gint64       contact_id,
                      guint        deleted,
                      SottoRoster *self)
{
  /* 0 deleted: the contact itself went, with its conversation. */
  if (deleted > 0)
    refresh (self, contact_id);
}

static void
set_presence (SottoRoster   *self,
              SottoContact  *contact,
              SottoPresence  presence)
{
  Entry *entry = lookup (self, sotto_contact_get_id (contact));

  if (entry != NULL && _sotto_roster_item_set_presence (entry->item, presence))
    reposition (self, entry->item);
}

static void
on_contact_online_cb (SottoPeerService *service,
                      SottoContact     *contact,
                      SottoRoster      *self)
{
  set_presence (self, contact, sotto_peer_service_get_contact_presence (service, contact));
}

static void
on_contact_offline_cb (SottoPeerService *service,
                       SottoContact     *contact,
                       const GError     *reason,
                       SottoRoster      *self)
{
  Entry *entry = lookup (self, sotto_contact_get_id (contact));

  if (entry == NULL)
    return;

  g_clear_handle_id (&entry->typing_source, g_source_remove);
  _sotto_roster_item_set_typing (entry->item, FALSE);
  set_presence (self, contact, SOTTO_PRESENCE_OFFLINE);
}

static void
on_presence_cb (SottoPeerService *service,
                SottoContact     *contact,
                guint             presence,
                SottoRoster      *self)
{
  if (presence == SOTTO_PRESENCE_AVAILABLE || presence == SOTTO_PRESENCE_AWAY)
    set_presence (self, contact, presence);
}

static gboolean
on_typing_timeout_cb (gpointer user_data)
{
  Entry *entry = user_data;

  entry->typing_source = 0;
  _sotto_roster_item_set_typing (entry->item, FALSE);

  return G_SOURCE_REMOVE;
}

static void
on_typing_cb (SottoPeerService *service,
              SottoContact     *contact,
              gboolean          typing,
              SottoRoster      *self)
{
  Entry *entry = lookup (self, sotto_contact_get_id (contact));

  if (entry == NULL)
    return;

  /* Peers repeat the notice while typing goes on: each one starts the
   * wait again. */
  g_clear_handle_id (&entry->typing_source, g_source_remove);
  if (typing)
    entry->typing_source = g_timeout_add (self->typing_timeout_ms, on_typing_timeout_cb, entry);
  _sotto_roster_item_set_typing (entry->item, typing);
}

/* -------------------------------------------------------------------------
 * GListModel
 * ------------------------------------------------------------------------- */

static GType
get_item_type (GListModel *model)
{
  return SOTTO_TYPE_ROSTER_ITEM;
}

static guint
get_n_items (GListModel *model)
{
  return SOTTO_ROSTER (model)->visible->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  SottoRoster *self = SOTTO_ROSTER (model);

  if (position >= self->visible->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (self->visible, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

/* -------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------- */

static void
sotto_roster_dispose (GObject *object)
{
  SottoRoster *self = (SottoRoster *)object;
  GHashTableIter iter;
  Entry *entry;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->reconcile_source, g_source_remove);
  if (self->store != NULL)
    g_signal_handlers_disconnect_by_data (self->store, self);
  if (self->contacts != NULL)
    g_signal_handlers_disconnect_by_data (self->contacts, self);
  if (self->service != NULL)
    g_signal_handlers_disconnect_by_data (self->service, self);

  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&entry))
    g_signal_handlers_disconnect_by_data (sotto_roster_item_get_contact (entry->item), self);
  /* The arrays borrow the entries' items. */
  g_ptr_array_set_size (self->visible, 0);
  g_ptr_array_set_size (self->sorted, 0);
  g_hash_table_remove_all (self->entries);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->contacts);
  g_clear_object (&self->service);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (sotto_roster_parent_class)->dispose (object);
}

static void
sotto_roster_finalize (GObject *object)
{
  SottoRoster *self = (SottoRoster *)object;

  g_clear_pointer (&self->entries, g_hash_table_unref);
  g_clear_pointer (&self->sorted, g_ptr_array_unref);
  g_clear_pointer (&self->visible, g_ptr_array_unref);
  g_clear_pointer (&self->filter, g_free);
  g_clear_pointer (&self->filter_folded, g_free);
  g_clear_pointer (&self->filter_digits, g_free);

  G_OBJECT_CLASS (sotto_roster_parent_class)->finalize (object);
}

static void
sotto_roster_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  SottoRoster *self = SOTTO_ROSTER (object);

  switch (prop_id)
    {
    case PROP_FILTER:
      g_value_set_string (value, self->filter);
      break;

    case PROP_TOTAL_UNREAD:
      g_value_set_uint (value, self->total_unread);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_roster_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  SottoRoster *self = SOTTO_ROSTER (object);

  switch (prop_id)
    {
    case PROP_FILTER:
      sotto_roster_set_filter (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_roster_class_init (SottoRosterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sotto_roster_dispose;
  object_class->finalize = sotto_roster_finalize;
  object_class->get_property = sotto_roster_get_property;
  object_class->set_property = sotto_roster_set_property;

  /**
   * SottoRoster:filter:
   *
   * See sotto_roster_set_filter().
   */
  properties[PROP_FILTER] =
    g_param_spec_string ("filter", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * SottoRoster:total-unread:
   *
   * The unread messages of every contact, filtered out or not.
   */
  properties[PROP_TOTAL_UNREAD] =
    g_param_spec_uint ("total-unread", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sotto_roster_init (SottoRoster *self)
{
  self->entries = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                         (GDestroyNotify)entry_free);
  self->sorted = g_ptr_array_new ();
  self->visible = g_ptr_array_new ();
  self->cancellable = g_cancellable_new ();
  self->typing_timeout_ms = SOTTO_ROSTER_TYPING_TIMEOUT_MS;
}

/* -------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

/**
 * sotto_roster_new:
 * @service: (nullable): the peer service, for presence and typing; without
 *   it every contact is offline
 *
 * Returns at once with every contact; unread counts and last activity
 * follow from the store (#SottoRosterItem:unread notifies).
 *
 * Returns: (transfer full): the buddy list of @store
 */
SottoRoster *
sotto_roster_new (SottoStore       *store,
                  SottoPeerService *service)
{
  SottoRoster *self;
  guint n;

  g_return_val_if_fail (SOTTO_IS_STORE (store), NULL);
  g_return_val_if_fail (service == NULL || SOTTO_IS_PEER_SERVICE (service), NULL);

  self = g_object_new (SOTTO_TYPE_ROSTER, NULL);
  self->store = g_object_ref (store);
  self->service = service != NULL ? g_object_ref (service) : NULL;
  self->contacts = g_object_ref (sotto_store_get_contacts (store));

  g_signal_connect (self->contacts, "items-changed", G_CALLBACK (on_contacts_changed_cb), self);
  g_signal_connect (store, "message-added", G_CALLBACK (on_message_added_cb), self);
  g_signal_connect (store, "conversation-read", G_CALLBACK (on_conversation_read_cb), self);
  g_signal_connect (store, "history-purged", G_CALLBACK (on_history_purged_cb), self);
  if (service != NULL)
    {
      g_signal_connect (service, "contact-online", G_CALLBACK (on_contact_online_cb), self);
      g_signal_connect (service, "contact-offline", G_CALLBACK (on_contact_offline_cb), self);
      g_signal_connect (service, "presence", G_CALLBACK (on_presence_cb), self);
      g_signal_connect (service, "typing", G_CALLBACK (on_typing_cb), self);
    }

  n = g_list_model_get_n_items (self->contacts);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (self->contacts, i);

      add_contact (self, contact);
    }
  refresh (self, 0);

  return self;
}

/**
 * sotto_roster_set_filter:
 * @text: (nullable): what to look for; %NULL or "" shows every contact
 *
 * Shows only contacts whose name contains @text, ignoring case and accents
 * ("zoe" finds "Zoë", see sotto_search_fold()), or, when @text is at least
 * five digits (spaces aside), whose fingerprint starts with them.
 */
void
sotto_roster_set_filter (SottoRoster *self,
                         const char  *text)
{
  g_autoptr (GPtrArray) old = NULL;

  g_return_if_fail (SOTTO_IS_ROSTER (self));

  if (text != NULL && text[0] == '\0')
    text = NULL;
  if (g_strcmp0 (self->filter, text) == 0)
    return;

  g_free (self->filter);
  self->filter = g_strdup (text);
  g_clear_pointer (&self->filter_folded, g_free);
  g_clear_pointer (&self->filter_digits, g_free);
  if (text != NULL)
    {
      self->filter_folded = sotto_search_fold (text);
      self->filter_digits = sotto_search_fingerprint_digits (text);
    }

  old = g_steal_pointer (&self->visible);
  self->visible = g_ptr_array_new ();
  for (guint i = 0; i < self->sorted->len; i++)
    if (is_visible (self, g_ptr_array_index (self->sorted, i)))
      g_ptr_array_add (self->visible, g_ptr_array_index (self->sorted, i));

  sotto_list_model_items_replaced (G_LIST_MODEL (self), old, self->visible);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILTER]);
}

const char *
sotto_roster_get_filter (SottoRoster *self)
{
  g_return_val_if_fail (SOTTO_IS_ROSTER (self), NULL);
  return self->filter;
}

/**
 * sotto_roster_get_total_unread:
 *
 * Returns: the unread messages of all contacts, shown or filtered out
 */
guint
sotto_roster_get_total_unread (SottoRoster *self)
{
  g_return_val_if_fail (SOTTO_IS_ROSTER (self), 0);
  return self->total_unread;
}

/**
 * sotto_roster_find:
 *
 * Returns: (transfer none) (nullable): the contact's item, shown or
 *   filtered out
 */
SottoRosterItem *
sotto_roster_find (SottoRoster *self,
                   gint64       contact_id)
{
  Entry *entry;

  g_return_val_if_fail (SOTTO_IS_ROSTER (self), NULL);

  entry = lookup (self, contact_id);
  return entry != NULL ? entry->item : NULL;
}

/**
 * sotto_roster_set_typing_timeout:
 *
 * For tests: how long a typing notice lasts without another
 * (%SOTTO_ROSTER_TYPING_TIMEOUT_MS). Applies from the next notice.
 */
void
sotto_roster_set_typing_timeout (SottoRoster *self,
                                 guint        timeout_ms)
{
  g_return_if_fail (SOTTO_IS_ROSTER (self));
  g_return_if_fail (timeout_ms > 0);

  self->typing_timeout_ms = timeout_ms;
}
