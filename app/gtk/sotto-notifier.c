/* sotto-notifier.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Turns the peer service's new messages and requests into libnotify
 * notifications. What they say is the core's decision
 * (sotto_notification_for_message(), by the `notification-content`
 * setting); this only shows it. One notification per conversation is
 * updated rather than a new one stacked, none is shown for the
 * conversation the user is looking at, and activating one opens its tab
 * (app.open-chat).
 */
#define G_LOG_DOMAIN "sotto-notifier"

#include "config.h"

#include <glib/gi18n.h>
#include <libnotify/notify.h>

#include "sotto-core.h"
#include "sotto-notifier.h"
#include "sotto-peer-service.h"

struct _SottoNotifier
{
  GObject                   parent_instance;

  /* owned references */
  SottoContext             *context;
  GSettings                *settings;
  GHashTable               *notifications;  /* contact id → NotifyNotification */
  GHashTable               *unseen;         /* contact id → guint count */
  NotifyNotification       *request;
  GPtrArray                *offers;         /* NotifyNotification, files offered */

  /* not owned */
  GApplication             *application;
  SottoNotifierShowingFunc  showing;
  gpointer                  showing_data;
};

G_DEFINE_FINAL_TYPE (SottoNotifier, sotto_notifier, G_TYPE_OBJECT)

typedef struct
{
  SottoNotifier *notifier;
  gint64         contact_id;
} Activation;

static void
on_open_action_cb (NotifyNotification *notification,
                   char               *action,
                   gpointer            user_data)
{
  Activation *activation = user_data;

  if (activation->notifier->application != NULL)
    g_action_group_activate_action (G_ACTION_GROUP (activation->notifier->application),
                                    "open-chat", g_variant_new_int64 (activation->contact_id));
  notify_notification_close (notification, NULL);
}

static void
on_closed_cb (NotifyNotification *notification,
              SottoNotifier      *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->notifications);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (value == notification)
      {
        g_hash_table_iter_remove (&iter);
        break;
      }
}

static void
show (NotifyNotification *notification)
{
  g_autoptr (GError) error = NULL;

  /* No notification server is no reason to fail at anything else. */
  if (!notify_notification_show (notification, &error))
    g_debug ("Notification not shown: %s", error->message);
}

static void
on_message_received_cb (SottoPeerService *service,
                        SottoContact     *contact,
                        SottoMessage     *message,
                        SottoNotifier    *self)
{
  gint64 id = sotto_contact_get_id (contact);
  g_autofree char *nick = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *body = NULL;
  NotifyNotification *notification;
  guint unseen;

  if (self->showing != NULL && self->showing (id, self->showing_data))
    return;

  unseen = GPOINTER_TO_UINT (g_hash_table_lookup (self->unseen, &id)) + 1;
  g_hash_table_insert (self->unseen, g_memdup2 (&id, sizeof id), GUINT_TO_POINTER (unseen));

  nick = g_settings_get_string (self->settings, "notification-content");
  sotto_notification_for_message (sotto_notify_content_from_nick (nick),
                                  sotto_contact_get_name (contact), sotto_message_get_body (message),
                                  unseen, &summary, &body);

  notification = g_hash_table_lookup (self->notifications, &id);
  if (notification == NULL)
    {
      Activation *activation = g_new0 (Activation, 1);

      activation->notifier = self;
      activation->contact_id = id;
      notification = notify_notification_new (summary, body, APPLICATION_ID "-symbolic");
      notify_notification_set_category (notification, "im.received");
      notify_notification_set_hint_string (notification, "desktop-entry", APPLICATION_ID);
      notify_notification_add_action (notification, "default", _("Open"), on_open_action_cb,
                                      activation, g_free);
      g_signal_connect (notification, "closed", G_CALLBACK (on_closed_cb), self);
      g_hash_table_insert (self->notifications, g_memdup2 (&id, sizeof id), notification);
    }
  else
    notify_notification_update (notification, summary, body, APPLICATION_ID "-symbolic");

  show (notification);
}

/* A click on "New contact request": the requests, in the contact list. */
static void
on_show_requests_action_cb (NotifyNotification *notification,
                            char               *action,
                            gpointer            user_data)
{
  SottoNotifier *self = user_data;

  if (self->application != NULL)
    g_action_group_activate_action (G_ACTION_GROUP (self->application), "show-requests", NULL);
  notify_notification_close (notification, NULL);
}

static void
on_request_received_cb (SottoPeerService *service,
                        gpointer          request,
                        SottoNotifier    *self)
{
  g_autofree char *summary = NULL;
  g_autofree char *body = NULL;

  sotto_notification_for_request (&summary, &body);
  if (self->request == NULL)
    {
      self->request = notify_notification_new (summary, body, APPLICATION_ID "-symbolic");
      notify_notification_set_category (self->request, "im");
      notify_notification_set_hint_string (self->request, "desktop-entry", APPLICATION_ID);
      notify_notification_add_action (self->request, "default", _("Show"),
                                      on_show_requests_action_cb, self, NULL);
    }
  else
    notify_notification_update (self->request, summary, body, APPLICATION_ID "-symbolic");
  show (self->request);
}

static void
on_offer_closed_cb (NotifyNotification *notification,
                    SottoNotifier      *self)
{
  g_signal_handlers_disconnect_by_data (notification, self);
  g_ptr_array_remove (self->offers, notification);
}

/* A file offered in a conversation the user is not looking at. One
 * notification per offer; the chat has the Accept button. */
static void
on_transfer_added_cb (SottoFileTransfer *files,
                      SottoTransfer     *transfer,
                      SottoNotifier     *self)
{
  gint64 id = sotto_transfer_get_contact_id (transfer);
  SottoContact *contact;
  g_autofree char *shown = NULL;
  g_autofree char *nick = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *body = NULL;
  NotifyNotification *notification;
  Activation *activation;

  if (sotto_transfer_get_direction (transfer) != SOTTO_DIRECTION_IN ||
      sotto_transfer_get_state (transfer) != SOTTO_TRANSFER_OFFERED)
    return;
  if (self->showing != NULL && self->showing (id, self->showing_data))
    return;
  contact = sotto_store_get_contact_by_id (sotto_context_get_store (self->context), id);
  if (contact == NULL)
    return;

  shown = sotto_transfer_dup_shown_name (transfer);
  nick = g_settings_get_string (self->settings, "notification-content");
  sotto_notification_for_file (sotto_notify_content_from_nick (nick),
                               sotto_contact_get_name (contact), shown,
                               sotto_transfer_get_size (transfer), &summary, &body);
  notification = notify_notification_new (summary, body, APPLICATION_ID "-symbolic");
  notify_notification_set_category (notification, "transfer");
  notify_notification_set_hint_string (notification, "desktop-entry", APPLICATION_ID);
  activation = g_new0 (Activation, 1);
  activation->notifier = self;
  activation->contact_id = id;
  notify_notification_add_action (notification, "default", _("Open"), on_open_action_cb,
                                  activation, g_free);
  /* Kept until closed, so that a click still reaches us. */
  g_signal_connect (notification, "closed", G_CALLBACK (on_offer_closed_cb), self);
  g_ptr_array_add (self->offers, notification);
  show (notification);
}

static void
sotto_notifier_dispose (GObject *object)
{
  SottoNotifier *self = (SottoNotifier *)object;
  SottoPeerService *service = self->context != NULL
                                ? sotto_context_get_peer_service (self->context) : NULL;

  if (service != NULL)
    {
      g_signal_handlers_disconnect_by_data (service, self);
      g_signal_handlers_disconnect_by_data (sotto_peer_service_get_files (service), self);
    }
  if (self->notifications != NULL)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, self->notifications);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        g_signal_handlers_disconnect_by_data (value, self);
    }
  g_clear_pointer (&self->notifications, g_hash_table_unref);
  if (self->offers != NULL)
    for (guint i = 0; i < self->offers->len; i++)
      g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->offers, i), self);
  g_clear_pointer (&self->offers, g_ptr_array_unref);
  g_clear_pointer (&self->unseen, g_hash_table_unref);
  g_clear_object (&self->request);
  g_clear_object (&self->context);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sotto_notifier_parent_class)->dispose (object);
}

static void
sotto_notifier_class_init (SottoNotifierClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = sotto_notifier_dispose;
}

static void
sotto_notifier_init (SottoNotifier *self)
{
  self->notifications = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  self->offers = g_ptr_array_new_with_free_func (g_object_unref);
  self->unseen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
}

/**
 * sotto_notifier_new:
 * @application: where app.open-chat is
 * @context: a context whose peer service runs
 * @showing: tells whether a conversation is in front of the user
 */
SottoNotifier *
sotto_notifier_new (GApplication             *application,
                    SottoContext             *context,
                    GSettings                *settings,
                    SottoNotifierShowingFunc  showing,
                    gpointer                  showing_data)
{
  SottoNotifier *self;
  SottoPeerService *service;

  g_return_val_if_fail (SOTTO_IS_CONTEXT (context), NULL);

  if (!notify_is_initted ())
    notify_init (g_get_application_name ());

  self = g_object_new (SOTTO_TYPE_NOTIFIER, NULL);
  self->application = application;
  self->context = g_object_ref (context);
  self->settings = g_object_ref (settings);
  self->showing = showing;
  self->showing_data = showing_data;

  service = sotto_context_get_peer_service (context);
  if (service != NULL)
    {
      g_signal_connect (service, "message-received", G_CALLBACK (on_message_received_cb), self);
      g_signal_connect (service, "request-received", G_CALLBACK (on_request_received_cb), self);
      g_signal_connect (sotto_peer_service_get_files (service), "transfer-added",
                        G_CALLBACK (on_transfer_added_cb), self);
    }

  return self;
}

/**
 * sotto_notifier_seen:
 *
 * The user has looked at @contact_id's conversation: its notification
 * goes, and the count starts again.
 */
void
sotto_notifier_seen (SottoNotifier *self,
                     gint64         contact_id)
{
  NotifyNotification *notification;

  g_return_if_fail (SOTTO_IS_NOTIFIER (self));

  g_hash_table_remove (self->unseen, &contact_id);
  notification = g_hash_table_lookup (self->notifications, &contact_id);
  if (notification != NULL)
    notify_notification_close (notification, NULL);
}
