/* sotto-conversation-model.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A GListModel of the SottoMessages of one conversation, oldest first,
 * holding only what has been loaded: the newest page at once, older pages
 * as the view scrolls back (load_older). A conversation of a million
 * messages therefore opens in the time of one page. The store's signals
 * keep it current: new messages are appended, delivery states change on
 * the objects the view shows (only ever forward), and a purge reloads it.
 */
#define G_LOG_DOMAIN "sotto-conversation-model"

#include "config.h"

#include "sotto-conversation-model.h"
#include "sotto-message-private.h"

struct _SottoConversationModel
{
  GObject       parent_instance;

  /* owned references */
  SottoStore   *store;
  SottoContact *contact;       /* a direct conversation's, or */
  SottoGroup   *group;         /* a group's */
  GPtrArray    *items;         /* SottoMessage, ascending id */
  GCancellable *cancellable;   /* every load; cancelled on dispose or reload */
  GError       *error;

  guint         loading;       /* loads under way */
  gboolean      complete;
  guint         n_damaged;     /* rows left out of the pages loaded */
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SottoConversationModel, sotto_conversation_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_CONTACT,
  PROP_COMPLETE,
  PROP_LOADING,
  PROP_N_DAMAGED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void load_newest (SottoConversationModel *self);

static gint64
item_id (SottoConversationModel *self,
         guint                   position)
{
  return sotto_message_get_id (g_ptr_array_index (self->items, position));
}

static void
set_loading (SottoConversationModel *self,
             gboolean                loading)
{
  gboolean was = self->loading > 0;

  if (loading)
    self->loading++;
  else
    {
      g_assert (self->loading > 0);
      self->loading--;
    }

  if (was != (self->loading > 0))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
set_complete (SottoConversationModel *self,
              gboolean                complete)
{
  if (self->complete == complete)
    return;

  self->complete = complete;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPLETE]);
}

static void
add_damaged (SottoConversationModel *self,
             guint                   n)
{
  if (n == 0)
    return;

  self->n_damaged += n;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_DAMAGED]);
}

/* Puts @page (ascending ids) in front of what is loaded, keeping ids
 * unique: a message may have arrived through message-added while the
 * page was being read. Returns how many were added. */
static guint
prepend_page (SottoConversationModel *self,
              GPtrArray              *page)
{
  gint64 oldest = self->items->len > 0 ? item_id (self, 0) : G_MAXINT64;
  guint n = 0;

  while (n < page->len && sotto_message_get_id (g_ptr_array_index (page, n)) < oldest)
    n++;

  for (guint i = 0; i < n; i++)
    g_ptr_array_insert (self->items, (int)i, g_object_ref (g_ptr_array_index (page, i)));

  if (n > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, 0, n);

  return n;
}

static void
on_newest_loaded_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr (SottoConversationModel) self = user_data;
  g_autoptr (GPtrArray) page = NULL;
  g_autoptr (GError) error = NULL;
  guint n_damaged = 0;

  page = sotto_store_history_finish_full (SOTTO_STORE (object), result, &n_damaged, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (page == NULL)
    {
      g_message ("Could not load the conversation: %s", error->message);
      g_clear_error (&self->error);
      self->error = g_steal_pointer (&error);
    }
  else
    {
      prepend_page (self, page);
      set_complete (self, page->len < SOTTO_CONVERSATION_PAGE);
      add_damaged (self, n_damaged);
    }

  set_loading (self, FALSE);
}

/* One page before @before_id (0: the newest), of the contact's or the
 * group's conversation. */
static void
request_page (SottoConversationModel *self,
              gint64                  before_id,
              GAsyncReadyCallback     callback,
              gpointer                user_data)
{
  if (self->group != NULL)
    sotto_store_group_history_async (self->store, self->group, before_id,
                                     SOTTO_CONVERSATION_PAGE, self->cancellable, callback,
                                     user_data);
  else
    sotto_store_history_async (self->store, self->contact, before_id, SOTTO_CONVERSATION_PAGE,
                               self->cancellable, callback, user_data);
}

static void
load_newest (SottoConversationModel *self)
{
  set_loading (self, TRUE);
  request_page (self, 0, on_newest_loaded_cb, g_object_ref (self));
}

static gboolean
is_ours (SottoConversationModel *self,
         SottoMessage           *message)
{
  if (self->group != NULL)
    return sotto_message_get_group_id (message) == sotto_group_get_id (self->group);
  return sotto_message_get_group_id (message) == 0 &&
         sotto_message_get_contact_id (message) == sotto_contact_get_id (self->contact);
}

static void
on_message_added_cb (SottoStore             *store,
                     SottoMessage           *message,
                     SottoConversationModel *self)
{
  guint position;

  if (!is_ours (self, message))
    return;

  /* New messages have the highest ids; the loaded part always reaches
   * the newest, so a new one goes at the end. */
  position = self->items->len;
  if (position > 0 && item_id (self, position - 1) >= sotto_message_get_id (message))
    return;

  g_ptr_array_add (self->items, g_object_ref (message));
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
}

/* States only move forward: queued, sent, delivered, read. Signals of one
 * message can cross (a resend of the outbox, listed before the receipt
 * was recorded, is noted as sent after it was delivered), and a view must
 * not show a delivered message as merely sent again. Failure is possible
 * only before the peer has it, and a later success overrides it. */
static gboolean
state_moves_forward (SottoMessageState from,
                     SottoMessageState to)
{
  if (to == SOTTO_MESSAGE_FAILED)
    return from < SOTTO_MESSAGE_DELIVERED;
  if (from == SOTTO_MESSAGE_FAILED)
    return TRUE;
  return to > from;
}

static void
on_message_state_changed_cb (SottoStore             *store,
                             gint64                  contact_id,
                             gint64                  message_id,
                             SottoMessageState       state,
                             SottoConversationModel *self)
{
  guint lo = 0;
  guint hi;

  /* A group message's state is told with the member whose receipt
   * settled it: message ids alone say whether it is ours. */
  if (self->group == NULL && contact_id != sotto_contact_get_id (self->contact))
    return;

  /* Ids ascend: binary search. The object notifies, the list does not
   * change. */
  hi = self->items->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      gint64 id = item_id (self, mid);

      if (id == message_id)
        {
          SottoMessage *message = g_ptr_array_index (self->items, mid);

          if (state_moves_forward (sotto_message_get_state (message), state))
            _sotto_message_set_state (message, state);
          return;
        }
      if (id < message_id)
        lo = mid + 1;
      else
        hi = mid;
    }
}

static void
on_history_purged_cb (SottoStore             *store,
                      gint64                  contact_id,
                      guint                   deleted,
                      SottoConversationModel *self)
{
  guint removed;

  if (contact_id != 0 && (self->group != NULL || contact_id != sotto_contact_get_id (self->contact)))
    return;

  /* What went could be anywhere: start again from the newest page. Loads
   * under way would return rows that no longer exist. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  while (self->loading > 0)
    set_loading (self, FALSE);

  removed = self->items->len;
  g_ptr_array_set_size (self->items, 0);
  if (removed > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, 0);
  set_complete (self, FALSE);
  if (self->n_damaged > 0)
    {
      self->n_damaged = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_DAMAGED]);
    }

  load_newest (self);
}

static GType
get_item_type (GListModel *model)
{
  return SOTTO_TYPE_MESSAGE;
}

static guint
get_n_items (GListModel *model)
{
  return SOTTO_CONVERSATION_MODEL (model)->items->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  SottoConversationModel *self = SOTTO_CONVERSATION_MODEL (model);

  if (position >= self->items->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

static void
sotto_conversation_model_dispose (GObject *object)
{
  SottoConversationModel *self = (SottoConversationModel *)object;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->store != NULL)
    g_signal_handlers_disconnect_by_data (self->store, self);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->store);
  g_clear_object (&self->contact);
  g_clear_object (&self->group);

  G_OBJECT_CLASS (sotto_conversation_model_parent_class)->dispose (object);
}

static void
sotto_conversation_model_finalize (GObject *object)
{
  SottoConversationModel *self = (SottoConversationModel *)object;

  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (sotto_conversation_model_parent_class)->finalize (object);
}

static void
sotto_conversation_model_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  SottoConversationModel *self = SOTTO_CONVERSATION_MODEL (object);

  switch (prop_id)
    {
    case PROP_CONTACT:
      g_value_set_object (value, self->contact);
      break;

    case PROP_COMPLETE:
      g_value_set_boolean (value, self->complete);
      break;

    case PROP_LOADING:
      g_value_set_boolean (value, self->loading > 0);
      break;

    case PROP_N_DAMAGED:
      g_value_set_uint (value, self->n_damaged);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_conversation_model_class_init (SottoConversationModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = sotto_conversation_model_dispose;
  object_class->finalize = sotto_conversation_model_finalize;
  object_class->get_property = sotto_conversation_model_get_property;

  properties[PROP_CONTACT] =
    g_param_spec_object ("contact", NULL, NULL, SOTTO_TYPE_CONTACT, flags);
  /**
   * SottoConversationModel:complete:
   *
   * Whether the oldest message is loaded: nothing more to load.
   */
  properties[PROP_COMPLETE] =
    g_param_spec_boolean ("complete", NULL, NULL, FALSE, flags);
  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE, flags);
  /**
   * SottoConversationModel:n-damaged:
   *
   * How many messages of the pages loaded so far could not be read (their
   * row no longer authenticates): left out, and to be told to the user.
   */
  properties[PROP_N_DAMAGED] =
    g_param_spec_uint ("n-damaged", NULL, NULL, 0, G_MAXUINT, 0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sotto_conversation_model_init (SottoConversationModel *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->cancellable = g_cancellable_new ();
}

static SottoConversationModel *
model_new (SottoStore   *store,
           SottoContact *contact,
           SottoGroup   *group)
{
  SottoConversationModel *self = g_object_new (SOTTO_TYPE_CONVERSATION_MODEL, NULL);

  self->store = g_object_ref (store);
  g_set_object (&self->contact, contact);
  g_set_object (&self->group, group);

  g_signal_connect (store, "message-added", G_CALLBACK (on_message_added_cb), self);
  g_signal_connect (store, "message-state-changed",
                    G_CALLBACK (on_message_state_changed_cb), self);
  g_signal_connect (store, "history-purged", G_CALLBACK (on_history_purged_cb), self);

  load_newest (self);

  return self;
}

/**
 * sotto_conversation_model_new:
 *
 * Returns at once, empty; the newest page follows (#GListModel::items-changed,
 * #SottoConversationModel:loading).
 *
 * Returns: (transfer full): the conversation with @contact
 */
SottoConversationModel *
sotto_conversation_model_new (SottoStore   *store,
                              SottoContact *contact)
{
  g_return_val_if_fail (SOTTO_IS_STORE (store), NULL);
  g_return_val_if_fail (SOTTO_IS_CONTACT (contact), NULL);

  return model_new (store, contact, NULL);
}

/**
 * sotto_conversation_model_new_for_group:
 *
 * sotto_conversation_model_new() for a group's conversation.
 *
 * Returns: (transfer full): the conversation in @group
 */
SottoConversationModel *
sotto_conversation_model_new_for_group (SottoStore *store,
                                        SottoGroup *group)
{
  g_return_val_if_fail (SOTTO_IS_STORE (store), NULL);
  g_return_val_if_fail (SOTTO_IS_GROUP (group), NULL);

  return model_new (store, NULL, group);
}

/**
 * sotto_conversation_model_get_group:
 *
 * Returns: (transfer none) (nullable): the group, for a group's conversation
 */
SottoGroup *
sotto_conversation_model_get_group (SottoConversationModel *self)
{
  g_return_val_if_fail (SOTTO_IS_CONVERSATION_MODEL (self), NULL);
  return self->group;
}

SottoContact *
sotto_conversation_model_get_contact (SottoConversationModel *self)
{
  g_return_val_if_fail (SOTTO_IS_CONVERSATION_MODEL (self), NULL);
  return self->contact;
}

gboolean
sotto_conversation_model_get_complete (SottoConversationModel *self)
{
  g_return_val_if_fail (SOTTO_IS_CONVERSATION_MODEL (self), FALSE);
  return self->complete;
}

gboolean
sotto_conversation_model_get_loading (SottoConversationModel *self)
{
  g_return_val_if_fail (SOTTO_IS_CONVERSATION_MODEL (self), FALSE);
  return self->loading > 0;
}

guint
sotto_conversation_model_get_n_damaged (SottoConversationModel *self)
{
  g_return_val_if_fail (SOTTO_IS_CONVERSATION_MODEL (self), 0);
  return self->n_damaged;
}

/**
 * sotto_conversation_model_get_error:
 *
 * Returns: (nullable): why the last load failed, if it did
 */
const GError *
sotto_conversation_model_get_error (SottoConversationModel *self)
{
  g_return_val_if_fail (SOTTO_IS_CONVERSATION_MODEL (self), NULL);
  return self->error;
}

static void
on_older_loaded_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoConversationModel *self = g_task_get_source_object (task);
  g_autoptr (GPtrArray) page = NULL;
  GError *error = NULL;
  guint n_damaged = 0;
  guint added;

  page = sotto_store_history_finish_full (SOTTO_STORE (object), result, &n_damaged, &error);
  if (page == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        set_loading (self, FALSE);
      g_task_return_error (task, error);
      return;
    }

  added = prepend_page (self, page);
  set_complete (self, page->len < SOTTO_CONVERSATION_PAGE);
  add_damaged (self, n_damaged);
  set_loading (self, FALSE);
  g_task_return_int (task, added);
}

/**
 * sotto_conversation_model_load_older_async:
 *
 * Loads the page before the oldest loaded message. Completes with 0 when
 * there is nothing older (#SottoConversationModel:complete).
 */
void
sotto_conversation_model_load_older_async (SottoConversationModel *self,
                                           GCancellable           *cancellable,
                                           GAsyncReadyCallback     callback,
                                           gpointer                user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (SOTTO_IS_CONVERSATION_MODEL (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_conversation_model_load_older_async);

  if (self->complete)
    {
      g_task_return_int (task, 0);
      return;
    }

  /* Before the newest page is in there is no "older" yet: that page is
   * then the one to load. The read runs under the model's cancellable, so
   * a reload after a purge drops it; @cancellable cancels the task. */
  set_loading (self, TRUE);
  request_page (self, self->items->len > 0 ? item_id (self, 0) : 0, on_older_loaded_cb,
                g_steal_pointer (&task));
}

gboolean
sotto_conversation_model_load_older_finish (SottoConversationModel  *self,
                                            GAsyncResult            *result,
                                            guint                   *out_loaded,
                                            GError                 **error)
{
  gssize loaded;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  loaded = g_task_propagate_int (G_TASK (result), error);
  if (out_loaded != NULL)
    *out_loaded = loaded > 0 ? (guint)loaded : 0;

  return loaded >= 0;
}
