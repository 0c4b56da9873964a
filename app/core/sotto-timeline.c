/* sotto-timeline.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What a chat shows: the conversation's messages (SottoMessage, as the
 * lazy SottoConversationModel has loaded them) with the contact's files
 * (SottoTransfer) among them, each file before the first message sent
 * after it was offered. A file older than every message loaded appears
 * once the page that reaches back to its time is loaded, or once the
 * whole conversation is, as a message would.
 *
 * The order is rebuilt on every change, which is linear in what is
 * loaded, and told to the view as the one span that differs, so that a
 * new message or file redraws one row, not the conversation.
 */
#define G_LOG_DOMAIN "sotto-timeline"

#include "config.h"

#include "sotto-list-change.h"
#include "sotto-timeline.h"

struct _SottoTimeline
{
  GObject                 parent_instance;

  /* owned references */
  SottoConversationModel *messages;
  SottoFileTransfer      *files;
  GPtrArray              *transfers;   /* this contact's, oldest offer first */
  GPtrArray              *items;       /* what the list holds */

  gint64                  contact_id;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SottoTimeline, sotto_timeline, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

/**
 * sotto_timeline_item_time:
 * @item: a #SottoMessage or a #SottoTransfer from the timeline
 *
 * Returns: when it was sent or offered, in microseconds since the epoch,
 *   by the sender's clock
 */
gint64
sotto_timeline_item_time (GObject *item)
{
  if (SOTTO_IS_MESSAGE (item))
    return sotto_message_get_sent (SOTTO_MESSAGE (item));
  g_return_val_if_fail (SOTTO_IS_TRANSFER (item), 0);
  return sotto_transfer_get_offered (SOTTO_TRANSFER (item));
}

static int
compare_offered (gconstpointer a,
                 gconstpointer b)
{
  gint64 ta = sotto_transfer_get_offered (*(SottoTransfer **)a);
  gint64 tb = sotto_transfer_get_offered (*(SottoTransfer **)b);

  return ta < tb ? -1 : ta > tb;
}

static void
rebuild (SottoTimeline *self)
{
  GListModel *messages = G_LIST_MODEL (self->messages);
  guint n_messages = g_list_model_get_n_items (messages);
  GPtrArray *items = g_ptr_array_new_full (n_messages + self->transfers->len, g_object_unref);
  g_autoptr (GPtrArray) before = NULL;
  guint next = 0;

  g_assert (SOTTO_IS_TIMELINE (self));

  /* Files older than the oldest message loaded wait for older pages. */
  if (n_messages > 0 && !sotto_conversation_model_get_complete (self->messages))
    {
      g_autoptr (GObject) first = g_list_model_get_item (messages, 0);
      gint64 start = sotto_timeline_item_time (first);

      while (next < self->transfers->len &&
             sotto_transfer_get_offered (g_ptr_array_index (self->transfers, next)) < start)
        next++;
    }

  for (guint i = 0; i < n_messages; i++)
    {
      GObject *message = g_list_model_get_item (messages, i);
      gint64 sent = sotto_timeline_item_time (message);

      while (next < self->transfers->len &&
             sotto_transfer_get_offered (g_ptr_array_index (self->transfers, next)) <= sent)
        g_ptr_array_add (items, g_object_ref (g_ptr_array_index (self->transfers, next++)));
      g_ptr_array_add (items, message);
    }
  while (next < self->transfers->len)
    g_ptr_array_add (items, g_object_ref (g_ptr_array_index (self->transfers, next++)));

  before = g_steal_pointer (&self->items);
  self->items = items;
  sotto_list_model_items_replaced (G_LIST_MODEL (self), before, self->items);
}

static void
on_messages_changed_cb (SottoTimeline *self)
{
  rebuild (self);
}

static void
on_transfer_added_cb (SottoTimeline *self,
                      SottoTransfer *transfer)
{
  if (sotto_transfer_get_contact_id (transfer) != self->contact_id)
    return;
  g_ptr_array_add (self->transfers, g_object_ref (transfer));
  g_ptr_array_sort (self->transfers, compare_offered);
  rebuild (self);
}

static GType
get_item_type (GListModel *model)
{
  return G_TYPE_OBJECT;
}

static guint
get_n_items (GListModel *model)
{
  return SOTTO_TIMELINE (model)->items->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  SottoTimeline *self = SOTTO_TIMELINE (model);

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
sotto_timeline_dispose (GObject *object)
{
  SottoTimeline *self = (SottoTimeline *)object;

  g_clear_object (&self->messages);
  g_clear_object (&self->files);
  g_ptr_array_set_size (self->transfers, 0);
  g_ptr_array_set_size (self->items, 0);

  G_OBJECT_CLASS (sotto_timeline_parent_class)->dispose (object);
}

static void
sotto_timeline_finalize (GObject *object)
{
  SottoTimeline *self = (SottoTimeline *)object;

  g_ptr_array_unref (self->transfers);
  g_ptr_array_unref (self->items);

  G_OBJECT_CLASS (sotto_timeline_parent_class)->finalize (object);
}

static void
sotto_timeline_class_init (SottoTimelineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sotto_timeline_dispose;
  object_class->finalize = sotto_timeline_finalize;
}

static void
sotto_timeline_init (SottoTimeline *self)
{
  self->transfers = g_ptr_array_new_with_free_func (g_object_unref);
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * sotto_timeline_new:
 * @messages: one conversation
 * @files: (nullable): the profile's transfers; %NULL shows messages only
 *
 * Returns: (transfer full): the conversation's messages with its
 *   contact's files among them, following both
 */
SottoTimeline *
sotto_timeline_new (SottoConversationModel *messages,
                    SottoFileTransfer      *files)
{
  SottoTimeline *self;
  SottoContact *contact;

  g_return_val_if_fail (SOTTO_IS_CONVERSATION_MODEL (messages), NULL);
  g_return_val_if_fail (files == NULL || SOTTO_IS_FILE_TRANSFER (files), NULL);

  self = g_object_new (SOTTO_TYPE_TIMELINE, NULL);
  self->messages = g_object_ref (messages);
  contact = sotto_conversation_model_get_contact (messages);
  self->contact_id = sotto_contact_get_id (contact);
  if (files != NULL)
    {
      g_autoptr (GPtrArray) transfers = sotto_file_transfer_list (files, contact);

      self->files = g_object_ref (files);
      for (guint i = 0; i < transfers->len; i++)
        g_ptr_array_add (self->transfers, g_object_ref (g_ptr_array_index (transfers, i)));
      g_ptr_array_sort (self->transfers, compare_offered);
      g_signal_connect_object (files, "transfer-added", G_CALLBACK (on_transfer_added_cb), self,
                               G_CONNECT_SWAPPED);
    }
  g_signal_connect_object (messages, "items-changed", G_CALLBACK (on_messages_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (messages, "notify::complete", G_CALLBACK (on_messages_changed_cb),
                           self, G_CONNECT_SWAPPED);
  rebuild (self);
  return self;
}

/**
 * sotto_timeline_get_messages:
 *
 * Returns: (transfer none): the conversation it follows
 */
SottoConversationModel *
sotto_timeline_get_messages (SottoTimeline *self)
{
  g_return_val_if_fail (SOTTO_IS_TIMELINE (self), NULL);

  return self->messages;
}
