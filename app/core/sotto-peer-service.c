/* sotto-peer-service.c — listener, dialer and delivery for one profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The peer service keeps one session per contact: it listens for
 * contacts (and, if allowed, strangers with a contact request), dials
 * contacts at their last known addresses with exponential backoff, and
 * moves messages: the outbox goes out whenever a session comes up, an
 * incoming message is acknowledged only once the store has it on disk,
 * and a delivered receipt clears the outbox row.
 */

#define G_LOG_DOMAIN "sotto-peer"

#include "config.h"

#include <string.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>

#include "sotto-addresses.h"
#include "sotto-error.h"
#include "sotto-file-transfer-private.h"
#include "sotto-invite.h"
#include "sotto-payload.h"
#include "sotto-peer-service-internal.h"
#include "sotto-peer-service-private.h"
#include "sotto-policy.h"
#include "sotto-session.h"

G_DEFINE_FINAL_TYPE (SottoPeerService, sotto_peer_service, G_TYPE_OBJECT)

/* The client every dial goes through. Its own function, so that
 * build-aux/lsan.supp can name it: GLib 2.74's GSocketClient keeps a
 * reference to itself when a connection attempt fails with a network
 * error such as EHOSTUNREACH (a host on the link that does not answer). */
static G_GNUC_NO_INLINE GSocketClient *
make_dial_client (void)
{
  GSocketClient *client = g_socket_client_new ();

  g_socket_client_set_timeout (client, SOTTO_PEER_CONNECT_TIMEOUT_S);
  return client;
}

G_DEFINE_ENUM_TYPE (SottoStatus, sotto_status,
                    G_DEFINE_ENUM_VALUE (SOTTO_STATUS_AVAILABLE, "available"),
                    G_DEFINE_ENUM_VALUE (SOTTO_STATUS_AWAY, "away"),
                    G_DEFINE_ENUM_VALUE (SOTTO_STATUS_INVISIBLE, "invisible"))

enum {
  PROP_0,
  PROP_STATUS,
  PROP_LISTEN_ERROR,
  PROP_PORT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  CONTACT_ONLINE,
  CONTACT_OFFLINE,
  MESSAGE_RECEIVED,
  MESSAGE_DELIVERED,
  MESSAGE_READ,
  KEY_CHANGED,
  REQUEST_RECEIVED,
  REQUEST_PENDING,
  REQUEST_ACCEPTED,
  TYPING,
  PRESENCE,
  SESSION_FAILED,
  ADDRESS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void dial (Link *link);
static void tell_port (SottoPeerService *self);
static Request *find_request (SottoPeerService *self, const guint8 *public_key, guint *out_index);
static void schedule_flush (Link *link);
static void send_presence (Link *link);
static void attach_session (SottoPeerService *self, SottoSession *session);

#define SESSION_CONTACT_KEY "sotto-contact-id"
/* On a session we dialled: the contact's address we dialled, and our end
 * of the connection ("host:port" both). */
#define SESSION_DIALLED_KEY "sotto-dialled-address"
#define SESSION_LOCAL_KEY   "sotto-local-address"

/* -------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

void
sotto_peer_request_free (SottoPeerRequest *request)
{
  if (request == NULL)
    return;
  g_free (request->display_name);
  g_free (request->intro);
  g_free (request->address);
  g_free (request);
}

/* The store lends its contacts; these take a reference for g_autoptr. */
/* The store lends its contacts; these take a reference for g_autoptr.
 * A former member-only peer (no group we are in lists it) is no one the
 * service talks to: its row stays only for the names in old messages. */
static SottoContact *
ref_contact_by_id (SottoStore *store,
                   gint64      id)
{
  SottoContact *contact = sotto_store_get_contact_by_id (store, id);

  if (contact == NULL || sotto_contact_get_member_only (contact) == SOTTO_MEMBER_ONLY_FORMER)
    return NULL;
  return g_object_ref (contact);
}

/* A contact, or a member-only peer a group we are in lists. */
static SottoContact *
ref_peer_by_key (SottoStore   *store,
                 const guint8 *key)
{
  SottoContact *contact = sotto_store_get_peer_by_key (store, key);

  if (contact == NULL || sotto_contact_get_member_only (contact) == SOTTO_MEMBER_ONLY_FORMER)
    return NULL;
  return g_object_ref (contact);
}

SottoContact *
_sotto_peer_ref_contact (SottoPeerService *self,
                         gint64            contact_id)
{
  return ref_contact_by_id (self->store, contact_id);
}

Link *
_sotto_peer_link (SottoPeerService *self,
                  gint64            contact_id)
{
  return g_hash_table_lookup (self->links, &contact_id);
}

/* Whether the link's session is up and the peer took it. */
gboolean
_sotto_peer_link_ready (Link *link)
{
  return link->session != NULL && link->confirmed &&
         sotto_session_get_mode (link->session) == SOTTO_SESSION_MODE_CONTACT;
}

/* A message id as front ends show it (sotto_message_dup_uid_hex()). */
static char *
uid_to_hex (const guint8 *uid)
{
  char *hex = g_malloc (SOTTO_MESSAGE_UID_LEN * 2 + 1);

  return sodium_bin2hex (hex, SOTTO_MESSAGE_UID_LEN * 2 + 1, uid, SOTTO_MESSAGE_UID_LEN);
}

static SottoPeerRequest *
peer_request_copy (const SottoPeerRequest *request)
{
  SottoPeerRequest *copy = g_new0 (SottoPeerRequest, 1);

  memcpy (copy->public_key, request->public_key, sizeof copy->public_key);
  copy->display_name = g_strdup (request->display_name);
  copy->intro = g_strdup (request->intro);
  copy->address = g_strdup (request->address);
  copy->received = request->received;
  return copy;
}

static void
request_free (Request *request)
{
  sotto_peer_request_free (request->info);
  g_clear_object (&request->session);
  g_free (request->dial_address);
  g_free (request);
}

static gint64
session_contact_id (SottoSession *session)
{
  gint64 *id = g_object_get_data (G_OBJECT (session), SESSION_CONTACT_KEY);

  return id != NULL ? *id : 0;
}

static void
set_session_contact_id (SottoSession *session,
                        gint64        id)
{
  g_object_set_data_full (G_OBJECT (session), SESSION_CONTACT_KEY,
                          g_memdup2 (&id, sizeof id), g_free);
}

static char *
format_address (GInetSocketAddress *address,
                guint               port)
{
  g_autofree char *host = NULL;

  if (address == NULL)
    return NULL;
  host = g_inet_address_to_string (g_inet_socket_address_get_address (address));
  if (g_inet_address_get_family (g_inet_socket_address_get_address (address)) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", host, port);
  return g_strdup_printf ("%s:%u", host, port);
}

/* "host:port" of either end of a connection. */
static char *
format_endpoint (GInetSocketAddress *address)
{
  return format_address (address, g_inet_socket_address_get_port (address));
}

/* The security log's line for a connection refused: per source address
 * (no port: a caller takes a new one each time) and reason, summarised by
 * the store per hour. */
static void
log_refusal (SottoPeerService *self,
             SottoSession     *session,
             const char       *host,
             SottoRefusal      refusal)
{
  g_autofree char *from = NULL;

  if (host == NULL && session != NULL)
    {
      g_autoptr (GInetSocketAddress) remote = sotto_session_get_remote_address (session);

      if (remote != NULL)
        from = g_inet_address_to_string (g_inet_socket_address_get_address (remote));
    }
  sotto_store_log_event (self->store, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED,
                         host != NULL ? host : from, sotto_refusal_to_string (refusal));
}

static gboolean
is_own_key (SottoPeerService *self,
            const guint8     *key)
{
  const guint8 *own = sotto_identity_get_public_key (sotto_store_get_identity (self->store));

  return key != NULL && sodium_memcmp (key, own, SOTTO_KEY_LEN) == 0;
}

static SottoHello *
make_hello (SottoPeerService *self)
{
  SottoIdentity *identity = sotto_store_get_identity (self->store);
  SottoHello *hello = g_new0 (SottoHello, 1);

  hello->version = SOTTO_PROTOCOL_VERSION;
  hello->display_name = g_strdup (sotto_identity_get_display_name (identity));
  hello->listen_port = (guint16)self->bound_port;
  hello->capabilities = SOTTO_CAPABILITY_FILES | SOTTO_CAPABILITY_GROUPS;
  hello->intro = g_strdup (self->intro != NULL ? self->intro : "");
  return hello;
}

static void
link_free (Link *link)
{
  g_clear_handle_id (&link->retry_source, g_source_remove);
  g_clear_handle_id (&link->receipt_source, g_source_remove);
  g_clear_handle_id (&link->drop_source, g_source_remove);
  g_clear_error (&link->drop_reason);
  if (link->dial_cancellable != NULL)
    g_cancellable_cancel (link->dial_cancellable);
  g_clear_object (&link->dial_cancellable);
  g_clear_pointer (&link->dial_addresses, g_strfreev);
  g_clear_pointer (&link->hints, g_strfreev);
  if (link->session != NULL)
    g_signal_handlers_disconnect_by_data (link->session, link->service);
  if (link->outgoing != NULL)
    g_signal_handlers_disconnect_by_data (link->outgoing, link->service);
  if (link->session != NULL)
    sotto_session_close (link->session, NULL);
  if (link->outgoing != NULL)
    sotto_session_close (link->outgoing, NULL);
  g_clear_object (&link->session);
  g_clear_object (&link->outgoing);
  g_clear_pointer (&link->sent, g_hash_table_unref);
  g_queue_clear_full (&link->pending, g_object_unref);
  g_clear_pointer (&link->receipts, g_byte_array_unref);
  g_clear_pointer (&link->answered, g_hash_table_unref);
  g_clear_pointer (&link->versions, g_hash_table_unref);
  g_free (link);
}

static Link *
link_for (SottoPeerService *self,
          gint64            contact_id)
{
  Link *link = g_hash_table_lookup (self->links, &contact_id);

  if (link == NULL)
    {
      link = g_new0 (Link, 1);
      link->service = self;
      link->contact_id = contact_id;
      link->sent = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                          (GDestroyNotify)g_bytes_unref, NULL);
      link->receipts = g_byte_array_new ();
      link->answered = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                              (GDestroyNotify)g_bytes_unref, NULL);
      link->versions = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                              (GDestroyNotify)g_bytes_unref, NULL);
      g_hash_table_insert (self->links, &link->contact_id, link);
    }
  return link;
}

static SottoContact *
link_contact (Link *link)
{
  return ref_contact_by_id (link->service->store, link->contact_id);
}

static void cancel_drop (Link *link);

/* Once per coming online: a session the peer took in place of one dropped
 * a moment ago continues it. */
static void
tell_online (Link         *link,
             SottoContact *contact)
{
  cancel_drop (link);
  if (link->online_told)
    return;
  link->online_told = TRUE;
  g_signal_emit (link->service, signals[CONTACT_ONLINE], 0, contact);
}

/* A contact we said was online is offline now; a call that never got that
 * far failed. */
static void
tell_dropped (Link         *link,
              SottoContact *contact,
              const GError *reason)
{
  if (link->online_told)
    {
      link->online_told = FALSE;
      g_signal_emit (link->service, signals[CONTACT_OFFLINE], 0, contact, reason);
    }
  else
    g_signal_emit (link->service, signals[SESSION_FAILED], 0, contact, reason);
}

static gboolean
on_drop_grace_over_cb (gpointer user_data)
{
  Link *link = user_data;
  g_autoptr (SottoContact) contact = link_contact (link);
  g_autoptr (GError) reason = g_steal_pointer (&link->drop_reason);

  link->drop_source = 0;
  if (contact != NULL)
    tell_dropped (link, contact, reason);
  return G_SOURCE_REMOVE;
}

/* The session that replaces it, if the peer takes one in time, makes the
 * drop nobody's business. */
static void
defer_drop (Link         *link,
            const GError *reason)
{
  g_clear_handle_id (&link->drop_source, g_source_remove);
  g_clear_error (&link->drop_reason);
  link->drop_reason = g_error_copy (reason);
  link->drop_source = g_timeout_add (link->service->tie_grace_ms, on_drop_grace_over_cb, link);
}

static void
cancel_drop (Link *link)
{
  g_clear_handle_id (&link->drop_source, g_source_remove);
  g_clear_error (&link->drop_reason);
}

/* -------------------------------------------------------------------------
 * Reconnecting
 * ------------------------------------------------------------------------- */

static gboolean
on_retry_cb (gpointer user_data)
{
  Link *link = user_data;

  link->retry_source = 0;
  dial (link);
  return G_SOURCE_REMOVE;
}

/* Exponential backoff with ±25 % jitter, so that many desktops coming
 * back after a network outage don't all dial at the same moment. */
static void
schedule_retry (Link *link)
{
  SottoPeerService *self = link->service;
  guint64 delay;

  if (self->stopping || !self->started || link->retry_source != 0 || link->key_mismatch)
    return;

  delay = (guint64)self->backoff_base_ms << MIN (link->attempt, 16u);
  delay = MIN (delay, self->backoff_max_ms);
  delay = (guint64)(delay * g_random_double_range (0.75, 1.25));
  link->attempt++;

  g_debug ("contact %" G_GINT64_FORMAT ": next attempt in %" G_GUINT64_FORMAT " ms",
           link->contact_id, delay);
  link->retry_source = g_timeout_add ((guint)MAX (delay, 1), on_retry_cb, link);
}

/* -------------------------------------------------------------------------
 * Delivery
 * ------------------------------------------------------------------------- */

static void
send_text (Link         *link,
           SottoMessage *message)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_TEXT);
  g_autoptr (GError) error = NULL;
  GBytes *uid;

  if (link->session == NULL)
    return;
  {
    g_autoptr (SottoContact) contact = link_contact (link);

    if (contact == NULL || sotto_contact_get_verification (contact) == SOTTO_VERIFICATION_KEY_CHANGED)
      return;
  }

  /* A group's message goes as GROUP_TEXT, to a peer that speaks groups
   * (to one that does not, it stays owed). */
  if (sotto_message_get_group_id (message) != 0)
    {
      SottoGroup *group = sotto_store_get_group_by_id (link->service->store,
                                                       sotto_message_get_group_id (message));

      if (group == NULL || !sotto_group_is_active (group) || !_sotto_peer_link_speaks_groups (link))
        return;
      payload->kind = SOTTO_PAYLOAD_GROUP_TEXT;
      memcpy (payload->group_id, sotto_group_get_gid (group), SOTTO_GROUP_ID_LEN);
    }

  uid = g_bytes_new (sotto_message_get_uid (message), SOTTO_MESSAGE_UID_LEN);
  if (g_hash_table_contains (link->sent, uid))
    {
      g_bytes_unref (uid);
      return;
    }

  memcpy (payload->uid, sotto_message_get_uid (message), SOTTO_MESSAGE_UID_LEN);
  payload->timestamp = sotto_message_get_sent (message);
  payload->body = g_strdup (sotto_message_get_body (message));
  if (!sotto_session_send (link->session, payload, &error))
    {
      g_debug ("not sent: %s", error->message);
      g_bytes_unref (uid);
      return;
    }
  g_hash_table_add (link->sent, uid);
  /* Written or queued on an established session: that is "sent", told to
   * views without a disk write (the receipt follows within a round trip). */
  sotto_store_note_sent (link->service->store, link->contact_id, sotto_message_get_id (message));
}

/* Sends pending messages while the session holds less than
 * SOTTO_PEER_SEND_WINDOW unsent bytes; #SottoSession::drained calls again.
 * All at once, a large outbox would pass the session's bound on unsent
 * bytes, which closes it, and every new session would start over. */
static void
pump (Link *link)
{
  while (link->session != NULL && !g_queue_is_empty (&link->pending) &&
         sotto_session_get_unsent_bytes (link->session) < SOTTO_PEER_SEND_WINDOW)
    {
      g_autoptr (SottoMessage) message = g_queue_pop_head (&link->pending);

      send_text (link, message);
    }
}

/* A message just written to the outbox (or queued there again): behind
 * what this session still has to send, or with the next listing of the
 * outbox when one is due. */
void
_sotto_peer_link_send_or_list (Link         *link,
              SottoContact *contact,
              SottoMessage *message)
{
  if (link->session != NULL && link->flushed && !link->flushing)
    {
      g_queue_push_tail (&link->pending, g_object_ref (message));
      pump (link);
    }
  else
    sotto_peer_service_deliver (link->service, contact);
}

typedef struct
{
  SottoPeerService *service;
  gint64            contact_id;
  SottoSession     *session;
} FlushData;

static void
on_outbox_listed_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  FlushData *data = user_data;
  g_autoptr (SottoPeerService) self = data->service;
  g_autoptr (SottoSession) session = data->session;
  g_autoptr (GPtrArray) outbox = NULL;
  g_autoptr (GError) error = NULL;
  gint64 contact_id = data->contact_id;
  Link *link;

  g_free (data);
  outbox = sotto_store_list_outbox_finish (SOTTO_STORE (object), result, &error);

  link = g_hash_table_lookup (self->links, &contact_id);
  if (link == NULL)
    return;
  link->flushing = FALSE;

  /* The session it was listed for may be gone: the next one lists again. */
  if (link->session != session)
    {
      if (link->session != NULL)
        schedule_flush (link);
      return;
    }

  if (outbox == NULL)
    {
      g_warning ("can't read the outbox: %s", error->message);
      return;
    }

  /* Oldest first: the outbox is in the order messages were written. A
   * message still pending from an earlier listing is in this one too, at
   * its place. */
  g_queue_clear_full (&link->pending, g_object_unref);
  for (guint i = 0; i < outbox->len; i++)
    g_queue_push_tail (&link->pending, g_object_ref (g_ptr_array_index (outbox, i)));
  link->flushed = TRUE;
  pump (link);

  if (link->flush_again)
    {
      link->flush_again = FALSE;
      schedule_flush (link);
    }
}

/* Sends what the outbox holds for this contact and this session has not
 * carried yet. One listing at a time: a request during one runs after it,
 * so messages always leave in the order they were written. */
static void
schedule_flush (Link *link)
{
  SottoPeerService *self = link->service;
  g_autoptr (SottoContact) contact = NULL;
  FlushData *data;

  if (link->session == NULL || sotto_session_get_mode (link->session) != SOTTO_SESSION_MODE_CONTACT)
    return;
  if (link->flushing)
    {
      link->flush_again = TRUE;
      return;
    }
  contact = link_contact (link);
  if (contact == NULL)
    return;
  /* Until the user has checked the contact again, nothing goes out; and
   * until the peer has spoken, we don't know it took our call. */
  if (sotto_contact_get_verification (contact) == SOTTO_VERIFICATION_KEY_CHANGED || !link->confirmed)
    return;

  link->flushing = TRUE;
  data = g_new0 (FlushData, 1);
  data->service = g_object_ref (self);
  data->contact_id = link->contact_id;
  data->session = g_object_ref (link->session);
  sotto_store_list_outbox_async (self->store, contact, self->cancellable, on_outbox_listed_cb, data);
}

/* Everything still owed to the peer goes again on this session: it has
 * just learned what made it drop some of it (a member, a group). */
void
_sotto_peer_link_resend (Link *link)
{
  g_hash_table_remove_all (link->sent);
  schedule_flush (link);
}

static gboolean
on_send_receipts_cb (gpointer user_data)
{
  Link *link = user_data;
  g_autoptr (GError) error = NULL;

  link->receipt_source = 0;
  while (link->receipts->len > 0 && link->session != NULL)
    {
      g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_RECEIPT);
      guint n = MIN (link->receipts->len / SOTTO_MESSAGE_UID_LEN, SOTTO_PAYLOAD_MAX_RECEIPT_IDS);

      payload->receipt_state = SOTTO_RECEIPT_DELIVERED;
      payload->n_ids = n;
      payload->ids = g_memdup2 (link->receipts->data, (gsize)n * SOTTO_MESSAGE_UID_LEN);
      if (!sotto_session_send (link->session, payload, &error))
        {
          g_debug ("receipt not sent: %s", error->message);
          break;
        }
      g_byte_array_remove_range (link->receipts, 0, n * SOTTO_MESSAGE_UID_LEN);
    }
  /* Whatever could not go is not lost: the sender still has those
   * messages in its outbox and sends them again; we acknowledge the
   * duplicates then. */
  g_byte_array_set_size (link->receipts, 0);

  return G_SOURCE_REMOVE;
}

/* Receipts for everything stored in one main loop iteration go out
 * together, in as few payloads as the limit allows. */
void
_sotto_peer_link_ack (Link         *link,
                      const guint8 *uid)
{
  g_byte_array_append (link->receipts, uid, SOTTO_MESSAGE_UID_LEN);
  if (link->receipt_source == 0)
    link->receipt_source = g_idle_add (on_send_receipts_cb, link);
}

typedef struct
{
  SottoPeerService *service;
  gint64            contact_id;
  SottoSession     *session;
  guint8            uid[SOTTO_MESSAGE_UID_LEN];
} IncomingData;

static void
on_incoming_saved_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  IncomingData *data = user_data;
  g_autoptr (SottoPeerService) self = data->service;
  g_autoptr (SottoSession) session = data->session;
  g_autoptr (SottoMessage) message = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;
  gboolean is_new = FALSE;
  Link *link;

  message = sotto_store_save_incoming_finish (SOTTO_STORE (object), result, &is_new, &error);
  if (message == NULL)
    {
      /* Not on disk, so not acknowledged: the sender keeps it and tries
       * again on a later session. A stop cancels quietly; a peer that
       * reuses one of our ids is at fault, not us; a write that failed
       * (a full disk) is told by SottoStore:write-error, once. */
      if (g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT) ||
          g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_STORE))
        g_debug ("incoming message refused: %s", error->message);
      else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("can't store an incoming message: %s", error->message);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        sotto_session_close (session, error);
      g_free (data);
      return;
    }

  link = g_hash_table_lookup (self->links, &data->contact_id);
  contact = ref_contact_by_id (self->store, data->contact_id);
  if (link != NULL)
    _sotto_peer_link_ack (link, data->uid);
  if (is_new && contact != NULL)
    g_signal_emit (self, signals[MESSAGE_RECEIVED], 0, contact, message);
  g_free (data);
}

typedef struct
{
  SottoPeerService *service;
  gint64            contact_id;
  guint8            uid[SOTTO_MESSAGE_UID_LEN];
} ReceiptData;

static void
on_marked_delivered_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  ReceiptData *data = user_data;
  g_autoptr (SottoPeerService) self = data->service;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *hex = NULL;

  if (!sotto_store_mark_delivered_finish (SOTTO_STORE (object), result, &error))
    {
      Link *link = g_hash_table_lookup (self->links, &data->contact_id);

      /* A receipt for a message we don't have (any more) changes nothing.
       * One we could not write (a full disk) is asked for again: the
       * next session sends the message again, and the peer acknowledges
       * the duplicate. */
      g_debug ("receipt not applied: %s",
               error != NULL ? error->message : "no such message of ours");
      if (g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_STORE) && link != NULL &&
          link->session != NULL)
        sotto_session_close (link->session, error);
      g_free (data);
      return;
    }

  contact = ref_contact_by_id (self->store, data->contact_id);
  hex = uid_to_hex (data->uid);
  if (contact != NULL)
    g_signal_emit (self, signals[MESSAGE_DELIVERED], 0, contact, hex);
  g_free (data);
}

static void
on_marked_read_by_peer_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  ReceiptData *data = user_data;
  g_autoptr (SottoPeerService) self = data->service;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *hex = NULL;

  /* FALSE without an error: no message of ours, or already read. With
   * history off the signal still goes out: the message is gone from the
   * store once delivered, and only views still holding it can show it
   * read. With history on, an id we don't know is ignored. */
  if (!sotto_store_mark_read_by_peer_finish (SOTTO_STORE (object), result, &error) &&
      (error != NULL || g_settings_get_boolean (self->settings, "history-enabled")))
    {
      g_debug ("read receipt not applied: %s",
               error != NULL ? error->message : "no such unread message of ours");
      g_free (data);
      return;
    }

  contact = ref_contact_by_id (self->store, data->contact_id);
  hex = uid_to_hex (data->uid);
  if (contact != NULL)
    g_signal_emit (self, signals[MESSAGE_READ], 0, contact, hex);
  g_free (data);
}

static void
on_outbox_expired_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr (GError) error = NULL;
  guint n;

  /* The store tells views (SottoStore::message-state-changed); nothing
   * more to do here. */
  n = sotto_store_expire_outbox_finish (SOTTO_STORE (object), result, &error);
  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("can't give up on old messages: %s", error->message);
  else if (n > 0)
    g_debug ("%u message(s) not delivered within %d days: not sent", n, SOTTO_OUTBOX_EXPIRY_DAYS);
}

static void
expire_outbox (SottoPeerService *self)
{
  sotto_store_expire_outbox_async (self->store, g_get_real_time (), self->expiry_cancellable,
                                   on_outbox_expired_cb, NULL);
}

static gboolean
on_expiry_timeout_cb (gpointer user_data)
{
  expire_outbox (SOTTO_PEER_SERVICE (user_data));
  return G_SOURCE_CONTINUE;
}

/* Once now, then every interval. Before any outbox is listed: the store
 * runs its jobs in order, so no session sends what is about to fail. */
static void
start_expiry (SottoPeerService *self)
{
  g_assert (self->expiry_source == 0);

  self->expiry_cancellable = g_cancellable_new ();
  expire_outbox (self);
  if (self->expiry_interval_ms % 1000 == 0)
    self->expiry_source = g_timeout_add_seconds (self->expiry_interval_ms / 1000,
                                                 on_expiry_timeout_cb, self);
  else
    self->expiry_source = g_timeout_add (self->expiry_interval_ms, on_expiry_timeout_cb, self);
  g_source_set_name_by_id (self->expiry_source, "[sotto-peer] outbox expiry");
}

static void
stop_expiry (SottoPeerService *self)
{
  g_clear_handle_id (&self->expiry_source, g_source_remove);
  if (self->expiry_cancellable != NULL)
    g_cancellable_cancel (self->expiry_cancellable);
  g_clear_object (&self->expiry_cancellable);
}

/* -------------------------------------------------------------------------
 * Session events
 * ------------------------------------------------------------------------- */

/* Files flow on a confirmed contact session, to a peer that speaks them,
 * and not to a contact whose key changed until the user checked it. */
static void
files_ready (Link *link)
{
  g_autoptr (SottoContact) contact = link_contact (link);
  const SottoHello *hello;

  if (link->session == NULL || !link->confirmed || contact == NULL ||
      sotto_session_get_mode (link->session) != SOTTO_SESSION_MODE_CONTACT ||
      sotto_contact_get_verification (contact) == SOTTO_VERIFICATION_KEY_CHANGED)
    return;
  hello = sotto_session_get_remote_hello (link->session);
  if (hello == NULL || (hello->capabilities & SOTTO_CAPABILITY_FILES) == 0)
    return;
  _sotto_file_transfer_session_ready (link->service->files, contact, link->session);
}

static void
on_payload_received_cb (SottoSession *session,
                        gpointer      payload_ptr,
                        gpointer      user_data)
{
  SottoPeerService *self = user_data;
  const SottoPayload *payload = payload_ptr;
  gint64 contact_id = session_contact_id (session);
  g_autoptr (SottoContact) contact = ref_contact_by_id (self->store, contact_id);
  Link *link = g_hash_table_lookup (self->links, &contact_id);

  if (contact == NULL || link == NULL || link->session != session)
    return;

  if (!link->confirmed)
    {
      link->confirmed = TRUE;
      /* The first word is the peer's presence: known when we say it is online. */
      if (payload->kind == SOTTO_PAYLOAD_PRESENCE)
        link->presence = payload->presence;
      tell_online (link, contact);
      _sotto_peer_groups_session_ready (link, contact);
      schedule_flush (link);
      files_ready (link);
    }

  /* A member-only peer's session carries group traffic only (PROTOCOL.md,
   * "Members who are not contacts"): the rest is dropped, unacknowledged. */
  if (sotto_contact_get_member_only (contact) != SOTTO_MEMBER_ONLY_NO &&
      (payload->kind == SOTTO_PAYLOAD_TEXT || payload->kind == SOTTO_PAYLOAD_TYPING ||
       (payload->kind >= SOTTO_PAYLOAD_FILE_OFFER && payload->kind <= SOTTO_PAYLOAD_FILE_DONE)))
    {
      g_debug ("dropped a %s from %s, who is no contact: a member session carries group "
               "traffic only", sotto_payload_kind_to_string (payload->kind),
               sotto_contact_get_name (contact));
      return;
    }

  switch (payload->kind)
    {
    case SOTTO_PAYLOAD_TEXT:
      {
        IncomingData *data = g_new0 (IncomingData, 1);

        data->service = g_object_ref (self);
        data->contact_id = contact_id;
        data->session = g_object_ref (session);
        memcpy (data->uid, payload->uid, SOTTO_MESSAGE_UID_LEN);
        sotto_store_save_incoming_async (self->store, contact, payload->uid, payload->timestamp,
                                         payload->body, self->cancellable, on_incoming_saved_cb,
                                         data);
      }
      break;

    case SOTTO_PAYLOAD_RECEIPT:
      for (guint i = 0; i < payload->n_ids; i++)
        {
          const guint8 *uid = payload->ids + (gsize)i * SOTTO_MESSAGE_UID_LEN;
          ReceiptData *data = g_new0 (ReceiptData, 1);

          data->service = g_object_ref (self);
          data->contact_id = contact_id;
          memcpy (data->uid, uid, SOTTO_MESSAGE_UID_LEN);
          /* A file offer of ours, or our last word about a file. */
          if (payload->receipt_state == SOTTO_RECEIPT_DELIVERED &&
              _sotto_file_transfer_receipt (self->files, contact_id, uid))
            {
              g_object_unref (data->service);
              g_free (data);
              continue;
            }
          if (payload->receipt_state == SOTTO_RECEIPT_DELIVERED)
            sotto_store_mark_delivered_async (self->store, contact, uid, self->cancellable,
                                              on_marked_delivered_cb, data);
          else
            sotto_store_mark_read_by_peer_async (self->store, contact, uid, self->cancellable,
                                                 on_marked_read_by_peer_cb, data);
        }
      break;

    case SOTTO_PAYLOAD_TYPING:
      g_signal_emit (self, signals[TYPING], 0, contact, payload->typing);
      break;

    case SOTTO_PAYLOAD_PRESENCE:
      link->presence = payload->presence;
      g_signal_emit (self, signals[PRESENCE], 0, contact, (guint)payload->presence);
      break;

    case SOTTO_PAYLOAD_REQUEST_STATE:
      /* The responder's word on whether it took our call: from a caller
       * it means nothing. */
      if (!sotto_session_is_initiator (session))
        break;
      if (payload->request_state == SOTTO_REQUEST_PENDING)
        g_signal_emit (self, signals[REQUEST_PENDING], 0, contact);
      else
        {
          /* Whatever we sent while we were a request was dropped, our
           * presence too: again, presence first. */
          g_hash_table_remove_all (link->sent);
          send_presence (link);
          g_signal_emit (self, signals[REQUEST_ACCEPTED], 0, contact);
          _sotto_peer_groups_session_ready (link, contact);
          schedule_flush (link);
          files_ready (link);
        }
      break;

    case SOTTO_PAYLOAD_FILE_OFFER:
    case SOTTO_PAYLOAD_FILE_ACCEPT:
    case SOTTO_PAYLOAD_FILE_CANCEL:
    case SOTTO_PAYLOAD_FILE_CHUNK:
    case SOTTO_PAYLOAD_FILE_DONE:
      /* Not from a contact whose key changed: nothing is taken from it
       * until the user checked it again. */
      if (sotto_contact_get_verification (contact) != SOTTO_VERIFICATION_KEY_CHANGED)
        _sotto_file_transfer_payload (self->files, contact, session, payload);
      break;

    case SOTTO_PAYLOAD_SIGNING_KEY:
    case SOTTO_PAYLOAD_GROUP_RECORD:
    case SOTTO_PAYLOAD_GROUP_TEXT:
    case SOTTO_PAYLOAD_GROUP_LEAVE:
    case SOTTO_PAYLOAD_GROUP_TYPING:
      /* Nothing is taken from a peer whose key is in doubt. */
      if (sotto_contact_get_verification (contact) != SOTTO_VERIFICATION_KEY_CHANGED)
        _sotto_peer_groups_payload (link, contact, payload);
      break;

    default:
      break;
    }
}

/* Where a caller can be called back: the host it called from, at the
 * port its hello gives; NULL when it gives none (the port it called from
 * is not one to call). */
static char *
dial_address_of (SottoSession     *session,
                 const SottoHello *hello)
{
  g_autoptr (GInetSocketAddress) remote = sotto_session_get_remote_address (session);
  g_autofree char *address = NULL;

  if (remote == NULL || hello->listen_port == 0)
    return NULL;
  address = format_address (remote, hello->listen_port);
  if (address == NULL || !sotto_invite_address_validate (address, NULL))
    return NULL;
  return g_steal_pointer (&address);
}

/* @address is where the contact is now: first of its known addresses,
 * then the others as they were, without repeats, within the invite's
 * limit (PROTOCOL.md, "Connections"). */
static void
move_to_front (SottoPeerService *self,
               SottoContact     *contact,
               const char       *address)
{
  const char * const *known = sotto_contact_get_addresses (contact);
  g_autoptr (GPtrArray) addresses = g_ptr_array_new ();

  if (known != NULL && known[0] != NULL && g_str_equal (known[0], address))
    return;
  g_ptr_array_add (addresses, (gpointer)address);
  for (guint i = 0; known != NULL && known[i] != NULL; i++)
    if (!g_str_equal (known[i], address) && addresses->len < SOTTO_INVITE_MAX_ADDRESSES)
      g_ptr_array_add (addresses, (gpointer)known[i]);
  g_ptr_array_add (addresses, NULL);

  sotto_store_set_contact_addresses_async (self->store, contact,
                                           (const char * const *)addresses->pdata,
                                           NULL, NULL, NULL);
  g_signal_emit (self, signals[ADDRESS_CHANGED], 0, contact, address);
}

/* A caller tells where to call it back. */
static void
learn_address (SottoPeerService *self,
               SottoContact     *contact,
               SottoSession     *session)
{
  const SottoHello *hello = sotto_session_get_remote_hello (session);
  g_autofree char *address = hello != NULL ? dial_address_of (session, hello) : NULL;

  if (address != NULL)
    move_to_front (self, contact, address);
}

static gboolean
strv_contains (const char * const *strv,
               const char         *s)
{
  return strv != NULL && s != NULL && g_strv_contains (strv, s);
}

/* Which of two sessions for one contact both ends keep: the one whose
 * initiator has the smaller key, when both came up together; otherwise
 * the newer one (the peer evidently gave up on the older). */
static gboolean
keep_new_session (SottoPeerService *self,
                  SottoSession     *old,
                  SottoSession     *new)
{
  const guint8 *own = sotto_identity_get_public_key (sotto_store_get_identity (self->store));
  const guint8 *old_initiator;
  const guint8 *new_initiator;
  gint64 apart = sotto_session_get_established_time (new) - sotto_session_get_established_time (old);

  if (apart > (gint64)SOTTO_PEER_TIE_WINDOW_MS * 1000)
    return TRUE;

  old_initiator = sotto_session_is_initiator (old) ? own : sotto_session_get_remote_key (old);
  new_initiator = sotto_session_is_initiator (new) ? own : sotto_session_get_remote_key (new);
  /* The same initiator twice: it dials only when it has no session, so
   * it lost the old one and we have not noticed yet. */
  return memcmp (new_initiator, old_initiator, SOTTO_KEY_LEN) <= 0;
}

static void
on_session_established_cb (SottoSession *session,
                           gpointer      user_data)
{
  attach_session (SOTTO_PEER_SERVICE (user_data), session);
}

/* Our dial reached our own listener: the address is ours now (our own
 * port, or one the contact left and we took over). No key change: the
 * address is forgotten, and the contact's others are tried. */
static void
forget_own_address (SottoPeerService *self,
                    Link             *link,
                    SottoSession     *outgoing)
{
  const char *dialled = g_object_get_data (G_OBJECT (outgoing), SESSION_DIALLED_KEY);
  const char *local = g_object_get_data (G_OBJECT (outgoing), SESSION_LOCAL_KEY);
  g_autoptr (SottoContact) contact = link_contact (link);

  g_assert (SOTTO_IS_PEER_SERVICE (self));

  g_debug ("contact %" G_GINT64_FORMAT ": %s answers with our own key, forgotten",
           link->contact_id, dialled);

  /* Our listener's end of the same connection waits for a message 3 that
   * will not come: it goes as quietly. */
  for (guint i = 0; local != NULL && i < self->handshaking->len; i++)
    {
      SottoSession *incoming = g_ptr_array_index (self->handshaking, i);
      g_autoptr (GInetSocketAddress) remote = sotto_session_get_remote_address (incoming);
      g_autofree char *from = remote != NULL ? format_endpoint (remote) : NULL;

      if (g_strcmp0 (from, local) == 0)
        {
          g_autoptr (SottoSession) hold = g_object_ref (incoming);

          g_signal_handlers_disconnect_by_data (incoming, self);
          g_ptr_array_remove_index (self->handshaking, i);
          sotto_session_close (incoming, NULL);
          break;
        }
    }

  if (dialled != NULL)
    {
      /* Skipped from now on, even before the store has forgotten it. */
      g_hash_table_add (self->own_addresses, g_strdup (dialled));
      if (contact != NULL)
        sotto_store_remove_contact_address_async (self->store, contact, dialled, NULL, NULL, NULL);
    }
  dial (link);
}

/* Whether a session with @link's contact is on its way besides @closed:
 * our own dial, or a call from the host @closed ran to, still in its
 * handshake. A peer that closes a session for a tie-break has just made
 * the one it keeps; a peer that quits has nothing on its way. */
static gboolean
another_session_coming (SottoPeerService *self,
                        Link             *link,
                        SottoSession     *closed)
{
  g_autoptr (GInetSocketAddress) remote = sotto_session_get_remote_address (closed);

  if (link->outgoing != NULL || link->dial_cancellable != NULL)
    return TRUE;
  for (guint i = 0; remote != NULL && i < self->handshaking->len; i++)
    {
      SottoSession *incoming = g_ptr_array_index (self->handshaking, i);
      g_autoptr (GInetSocketAddress) from = sotto_session_get_remote_address (incoming);

      if (from != NULL && g_inet_address_equal (g_inet_socket_address_get_address (from),
                                                g_inet_socket_address_get_address (remote)))
        return TRUE;
    }
  return FALSE;
}

static void
on_session_closed_cb (SottoSession *session,
                      const GError *reason,
                      gpointer      user_data)
{
  SottoPeerService *self = user_data;
  g_autoptr (SottoSession) hold = g_object_ref (session);
  gint64 contact_id = session_contact_id (session);
  g_autoptr (SottoContact) contact = contact_id != 0
                                     ? ref_contact_by_id (self->store, contact_id)
                                     : NULL;
  Link *link = contact_id != 0 ? g_hash_table_lookup (self->links, &contact_id) : NULL;

  g_signal_handlers_disconnect_by_data (session, self);
  /* A caller that never finished its handshake: garbage, silence, or a
   * hang-up half way. One refused on purpose is logged where it was. */
  if (g_ptr_array_remove (self->handshaking, session) && !sotto_session_is_initiator (session) &&
      (g_error_matches (reason, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_TIMEOUT) ||
       g_error_matches (reason, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_PROTOCOL) ||
       g_error_matches (reason, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_CRYPTO) ||
       g_error_matches (reason, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_PEER_CLOSED) ||
       g_error_matches (reason, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_IO)))
    log_refusal (self, session, NULL, SOTTO_REFUSAL_FAILED);
  if (contact_id != 0)
    _sotto_file_transfer_session_gone (self->files, contact_id, session);
  for (guint i = 0; i < self->requests->len; i++)
    {
      Request *request = g_ptr_array_index (self->requests, i);

      if (request->session == session)
        g_clear_object (&request->session);
    }

  if (link != NULL && link->session == session)
    {
      gboolean young = g_get_monotonic_time () - link->session_since <
                       (gint64)SOTTO_PEER_TIE_WINDOW_MS * 1000;

      /* Only a session that lasted as long as the longest wait starts the
       * backoff over: one the contact keeps dropping (its disk is full)
       * is called back no sooner than a call nobody answers, and does
       * not send the whole outbox again every second. */
      if (g_get_monotonic_time () - link->session_since >=
          (gint64)self->backoff_max_ms * 1000)
        link->attempt = 0;
      g_clear_object (&link->session);
      g_hash_table_remove_all (link->sent);
      g_queue_clear_full (&link->pending, g_object_unref);
      link->flushed = FALSE;
      link->confirmed = FALSE;
      link->presence = SOTTO_PRESENCE_OFFLINE;
      /* A call the peer hung up on before it said anything was refused,
       * not a contact going offline. One the peer closed right after it
       * came up may have lost a tie-break that the peer has decided and
       * we have not yet: the session it kept is on its way. */
      if (contact != NULL && link->drop_source == 0)
        {
          if (young &&
              g_error_matches (reason, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_PEER_CLOSED) &&
              another_session_coming (self, link, session))
            defer_drop (link, reason);
          else
            tell_dropped (link, contact, reason);
        }
      /* Else it was a call after such a drop, that the peer did not take
       * either: the drop, when its time is up, tells both. */
      schedule_retry (link);
      return;
    }

  if (link != NULL && link->outgoing == session)
    {
      const char *dialled = g_object_get_data (G_OBJECT (session), SESSION_DIALLED_KEY);
      gboolean hint_only = contact != NULL &&
                           strv_contains ((const char * const *)link->hints, dialled) &&
                           !strv_contains (sotto_contact_get_addresses (contact), dialled);

      g_clear_object (&link->outgoing);
      link->verifying = FALSE;
      /* Discovery's hint led to someone else: it is not the contact, and
       * nothing more (PROTOCOL.md, "Discovery"). */
      if (hint_only &&
          g_error_matches (reason, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_KEY_MISMATCH))
        {
          g_autoptr (GStrvBuilder) rest = g_strv_builder_new ();

          g_debug ("contact %" G_GINT64_FORMAT ": hint %s answers with another key, dropped",
                   link->contact_id, dialled);
          for (guint i = 0; link->hints[i] != NULL; i++)
            if (!g_str_equal (link->hints[i], dialled))
              g_strv_builder_add (rest, link->hints[i]);
          g_strfreev (link->hints);
          link->hints = g_strv_builder_end (rest);
          if (link->session == NULL)
            dial (link);
          return;
        }
      if (g_error_matches (reason, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_KEY_MISMATCH) &&
          is_own_key (self, sotto_session_get_remote_key (session)))
        {
          forget_own_address (self, link, session);
          return;
        }
      /* A dial that began before the user accepted the key it met: that
       * key is the contact's now, and the next dial expects it. */
      if (g_error_matches (reason, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_KEY_MISMATCH) &&
          contact != NULL &&
          sodium_memcmp (sotto_session_get_remote_key (session),
                         sotto_contact_get_public_key (contact), SOTTO_KEY_LEN) == 0)
        {
          dial (link);
          return;
        }
      if (g_error_matches (reason, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_KEY_MISMATCH) &&
          contact != NULL)
        {
          g_autoptr (GBytes) key = g_bytes_new (sotto_session_get_remote_key (session), SOTTO_KEY_LEN);

          /* Nothing more goes to this contact until the user has checked
           * the new key: no dialling, and the contact is marked, with the
           * key it answered with kept for the user to compare and accept. */
          link->key_mismatch = TRUE;
          sotto_store_mark_key_changed_async (self->store, contact,
                                              sotto_session_get_remote_key (session),
                                              NULL, NULL, NULL);
          g_signal_emit (self, signals[KEY_CHANGED], 0, contact, key);
        }
      g_signal_emit (self, signals[SESSION_FAILED], 0, contact, reason);
      if (link->session == NULL)
        schedule_retry (link);
      return;
    }

  /* A caller with our own key is a loop back to us, not a failure. */
  if (!sotto_session_is_initiator (session) &&
      is_own_key (self, sotto_session_get_remote_key (session)))
    {
      g_debug ("refused a caller with our own key");
      return;
    }

  /* A session that never became one: an incoming handshake that failed or
   * was refused, or a duplicate we closed. */
  g_signal_emit (self, signals[SESSION_FAILED], 0, contact, reason);
}

static void
on_session_drained_cb (SottoSession *session,
                       gpointer      user_data)
{
  SottoPeerService *self = user_data;
  gint64 contact_id = session_contact_id (session);
  Link *link = g_hash_table_lookup (self->links, &contact_id);

  if (link != NULL && link->session == session)
    {
      pump (link);
      _sotto_file_transfer_drained (self->files, contact_id, session);
    }
}

static void
watch_session (SottoPeerService *self,
               SottoSession     *session)
{
  g_signal_connect (session, "established", G_CALLBACK (on_session_established_cb), self);
  g_signal_connect (session, "payload-received", G_CALLBACK (on_payload_received_cb), self);
  g_signal_connect (session, "drained", G_CALLBACK (on_session_drained_cb), self);
  g_signal_connect (session, "closed", G_CALLBACK (on_session_closed_cb), self);
}

static void
send_presence (Link *link)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_PRESENCE);
  g_autoptr (GError) error = NULL;

  if (link->session == NULL || sotto_session_get_mode (link->session) != SOTTO_SESSION_MODE_CONTACT)
    return;
  payload->presence = link->service->presence;
  if (!sotto_session_send (link->session, payload, &error))
    g_debug ("presence not sent: %s", error->message);
}

static void
attach_session (SottoPeerService *self,
                SottoSession     *session)
{
  g_autoptr (SottoContact) contact = NULL;
  gboolean verified = FALSE;
  Link *link;

  g_ptr_array_remove (self->handshaking, session);  /* the array holds a ref: keep ours */

  if (sotto_session_get_mode (session) == SOTTO_SESSION_MODE_REQUEST)
    return;

  /* Blocked while our dial was on its way (as a blocked request is: added
   * as a contact, then blocked): no session. */
  contact = ref_peer_by_key (self->store, sotto_session_get_remote_key (session));
  if (contact == NULL || sotto_contact_get_blocked (contact))
    {
      sotto_session_close (session, NULL);
      return;
    }
  set_session_contact_id (session, sotto_contact_get_id (contact));
  link = link_for (self, sotto_contact_get_id (contact));
  if (link->outgoing == session)
    {
      const char *dialled = g_object_get_data (G_OBJECT (session), SESSION_DIALLED_KEY);

      g_clear_object (&link->outgoing);
      if (strv_contains ((const char * const *)link->hints, dialled))
        {
          verified = link->verifying;
          /* Our dial to a discovery hint met the contact's key. */
          move_to_front (self, contact, dialled);
        }
      link->verifying = FALSE;
    }

  if (link->session != NULL)
    {
      SottoSession *old = link->session;
      g_autoptr (GError) reason = g_error_new_literal (SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_CLOSED,
                                                       "a second session to the same contact");

      /* The contact answered where discovery found it, while the session
       * we had runs to where it no longer is: the new one is the one. */
      if (!verified && !keep_new_session (self, old, session))
        {
          g_autoptr (SottoSession) hold = g_object_ref (session);

          /* The one we both keep is up: closing this one is no failure. */
          g_signal_handlers_disconnect_by_data (session, self);
          sotto_session_close (session, reason);
          return;
        }
      /* The old one goes quietly: the contact stays online. */
      link->session = NULL;
      g_signal_handlers_disconnect_by_data (old, self);
      sotto_session_close (old, reason);
      g_object_unref (old);
    }

  link->session = g_object_ref (session);
  link->session_since = g_get_monotonic_time ();
  link->flushed = FALSE;
  g_hash_table_remove_all (link->sent);
  g_hash_table_remove_all (link->answered);
  g_hash_table_remove_all (link->versions);
  link->has_signing_key = FALSE;
  g_queue_clear_full (&link->pending, g_object_unref);
  g_clear_handle_id (&link->retry_source, g_source_remove);

  if (!sotto_session_is_initiator (session))
    learn_address (self, contact, session);

  /* Our first word on every contact session (PROTOCOL.md, "Trust"). */
  send_presence (link);

  /* The responder took the call when it let the session come up; the
   * initiator knows only once the responder speaks: XX finishes on our
   * side before the responder has seen who we are. */
  link->confirmed = !sotto_session_is_initiator (session);
  if (link->confirmed)
    {
      tell_online (link, contact);
      _sotto_peer_groups_session_ready (link, contact);
      schedule_flush (link);
      files_ready (link);
    }
}

static void
drop_request (SottoPeerService *self,
              guint             index)
{
  Request *request = g_ptr_array_index (self->requests, index);

  if (request->session != NULL)
    sotto_session_close (request->session, NULL);
  g_ptr_array_remove_index (self->requests, index);
}

/* Requests nobody answered within SOTTO_PEER_REQUEST_EXPIRY_DAYS. */
static void
drop_expired_requests (SottoPeerService *self)
{
  gint64 oldest = g_get_real_time () - (gint64)SOTTO_PEER_REQUEST_EXPIRY_DAYS * G_TIME_SPAN_DAY;

  for (guint i = self->requests->len; i-- > 0;)
    {
      Request *request = g_ptr_array_index (self->requests, i);

      if (request->info->received < oldest && !request->handling)
        drop_request (self, i);
    }
}

/* Who may talk to us: decided when the caller's key is known. */
static SottoSessionMode
authenticate_cb (SottoSession     *session,
                 const guint8     *remote_key,
                 const SottoHello *hello,
                 gpointer          user_data)
{
  SottoPeerService *self = user_data;
  /* A contact, or a member-only peer of a group we are in (PROTOCOL.md,
   * "Trust", case 4): a member session, limited to group traffic. */
  g_autoptr (SottoContact) contact = ref_peer_by_key (self->store, remote_key);
  g_autoptr (GInetSocketAddress) remote = NULL;
  SottoPeerRequest info = { 0 };
  Request *request;

  if (is_own_key (self, remote_key))
    return SOTTO_SESSION_MODE_REFUSE;

  if (contact != NULL)
    {
      set_session_contact_id (session, sotto_contact_get_id (contact));
      if (sotto_contact_get_blocked (contact))
        {
          g_autofree char *fingerprint = sotto_fingerprint_for_key (remote_key);

          sotto_store_log_event (self->store, SOTTO_SECURITY_EVENT_BLOCKED_KEY,
                                 sotto_contact_get_name (contact), fingerprint);
          return SOTTO_SESSION_MODE_REFUSE;
        }
      return SOTTO_SESSION_MODE_CONTACT;
    }

  if (!g_settings_get_boolean (self->settings, "allow-contact-requests"))
    {
      log_refusal (self, session, NULL, SOTTO_REFUSAL_REQUESTS_OFF);
      return SOTTO_SESSION_MODE_REFUSE;
    }
  /* Ignored: refused as if requests were off, and nobody is told. */
  if (sotto_store_is_key_ignored (self->store, remote_key))
    {
      log_refusal (self, session, NULL, SOTTO_REFUSAL_IGNORED);
      return SOTTO_SESSION_MODE_REFUSE;
    }
  drop_expired_requests (self);

  /* A stranger: one request per key, the latest session kept. */
  for (guint i = 0; i < self->requests->len; i++)
    {
      request = g_ptr_array_index (self->requests, i);
      if (sodium_memcmp (request->info->public_key, remote_key, SOTTO_KEY_LEN) == 0)
        {
          if (request->session != NULL && request->session != session)
            sotto_session_close (request->session, NULL);
          g_set_object (&request->session, session);
          g_free (request->dial_address);
          request->dial_address = dial_address_of (session, hello);
          return SOTTO_SESSION_MODE_REQUEST;
        }
    }
  /* Full: the oldest request makes room (requests come in order), unless
   * every one is being answered. */
  if (self->requests->len >= SOTTO_PEER_MAX_REQUESTS)
    {
      guint oldest = 0;

      while (oldest < self->requests->len &&
             ((Request *)g_ptr_array_index (self->requests, oldest))->handling)
        oldest++;
      if (oldest == self->requests->len)
        {
          log_refusal (self, session, NULL, SOTTO_REFUSAL_REQUESTS_FULL);
          return SOTTO_SESSION_MODE_REFUSE;
        }
      drop_request (self, oldest);
    }

  remote = sotto_session_get_remote_address (session);
  memcpy (info.public_key, remote_key, SOTTO_KEY_LEN);
  info.display_name = hello->display_name;
  info.intro = hello->intro;
  info.address = format_address (remote, hello->listen_port != 0 ? hello->listen_port
                                                                  : g_inet_socket_address_get_port (remote));
  info.received = g_get_real_time ();

  request = g_new0 (Request, 1);
  request->info = peer_request_copy (&info);
  request->session = g_object_ref (session);
  request->dial_address = dial_address_of (session, hello);
  g_ptr_array_add (self->requests, request);
  g_free (info.address);

  g_signal_emit (self, signals[REQUEST_RECEIVED], 0, request->info);
  return SOTTO_SESSION_MODE_REQUEST;
}

/* Handshakes an address started in the current minute. */
typedef struct
{
  gint64 window_start;
  guint  count;
} Rate;

/* The peer's address of @connection, or NULL. */
static GInetAddress *
remote_address (GSocketConnection *connection)
{
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);

  if (!G_IS_INET_SOCKET_ADDRESS (remote))
    return NULL;
  return g_object_ref (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
}

/* Whether one more unauthenticated connection from @host may start its
 * handshake; counts it if so. Cheap: no key work, nothing allocated for a
 * caller that is refused but its rate entry. */
static gboolean
admit_handshake (SottoPeerService *self,
                 const char       *host)
{
  gint64 now = g_get_monotonic_time ();
  guint from_host = 0;
  Rate *rate;

  for (guint i = 0; i < self->handshaking->len; i++)
    {
      g_autoptr (GInetSocketAddress) remote =
        sotto_session_get_remote_address (g_ptr_array_index (self->handshaking, i));
      g_autofree char *other = remote != NULL
        ? g_inet_address_to_string (g_inet_socket_address_get_address (remote)) : NULL;

      if (g_strcmp0 (other, host) == 0)
        from_host++;
    }
  if (from_host >= SOTTO_PEER_MAX_HANDSHAKING_PER_ADDRESS)
    return FALSE;

  rate = g_hash_table_lookup (self->handshake_rate, host);
  if (rate == NULL || now - rate->window_start >= 60 * G_USEC_PER_SEC)
    {
      /* The table only grows with addresses that called this minute. */
      if (rate == NULL && g_hash_table_size (self->handshake_rate) >= 4096)
        {
          GHashTableIter iter;

          g_hash_table_iter_init (&iter, self->handshake_rate);
          while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&rate))
            if (now - rate->window_start >= 60 * G_USEC_PER_SEC)
              g_hash_table_iter_remove (&iter);
        }
      rate = g_new0 (Rate, 1);
      rate->window_start = now;
      g_hash_table_replace (self->handshake_rate, g_strdup (host), rate);
    }
  if (rate->count >= SOTTO_PEER_HANDSHAKES_PER_MINUTE)
    return FALSE;
  rate->count++;

  /* Full: the oldest unfinished handshake goes (a stalled one, most
   * likely), never the newcomer, who may be a contact. */
  if (self->handshaking->len >= SOTTO_PEER_MAX_HANDSHAKING)
    {
      g_autoptr (SottoSession) oldest = g_object_ref (g_ptr_array_index (self->handshaking, 0));

      g_ptr_array_remove_index (self->handshaking, 0);
      log_refusal (self, oldest, NULL, SOTTO_REFUSAL_TOO_MANY);
      sotto_session_close (oldest, NULL);
    }
  return TRUE;
}

static gboolean
on_incoming_cb (GSocketService    *service,
                GSocketConnection *connection,
                GObject           *source,
                gpointer           user_data)
{
  SottoPeerService *self = user_data;
  g_autoptr (SottoHello) hello = NULL;
  g_autoptr (GInetAddress) address = NULL;
  g_autofree char *host = NULL;
  SottoSession *session;

  if (self->stopping)
    return FALSE;

  address = remote_address (connection);
  host = address != NULL ? g_inet_address_to_string (address) : g_strdup ("");
  /* allowed-networks first, then the caps: nothing else before the
   * handshake. */
  if (address != NULL && !sotto_policy_may_connect (self->policy, address))
    {
      log_refusal (self, NULL, host, SOTTO_REFUSAL_NETWORK);
      self->refused_early++;
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }
  if (!admit_handshake (self, host))
    {
      log_refusal (self, NULL, host, SOTTO_REFUSAL_TOO_MANY);
      self->refused_early++;
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }

  hello = make_hello (self);

  session = sotto_session_new (connection, sotto_store_get_identity (self->store),
                               hello, NULL);
  sotto_session_set_auth_func (session, authenticate_cb, self);
  watch_session (self, session);
  g_ptr_array_add (self->handshaking, session);
  sotto_session_start (session);

  return TRUE;
}

/* -------------------------------------------------------------------------
 * Dialling
 * ------------------------------------------------------------------------- */

static void on_listen_address_changed_cb (SottoPeerService *self);
static void on_network_changed_cb (SottoPeerService *self);
static void try_next_address (Link *link);
static char **dial_addresses_for (SottoPeerService *self, SottoContact *contact);

typedef struct
{
  SottoPeerService *service;
  gint64            contact_id;
  GCancellable     *cancellable;
} DialData;

static void
on_connected_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  DialData *data = user_data;
  g_autoptr (SottoPeerService) self = data->service;
  g_autoptr (GCancellable) cancellable = data->cancellable;
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (SottoHello) hello = NULL;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dialled = NULL;
  gint64 contact_id = data->contact_id;
  Link *link;

  g_free (data);
  connection = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (object), result, &error);
  if (g_cancellable_is_cancelled (cancellable))
    return;

  link = g_hash_table_lookup (self->links, &contact_id);
  contact = ref_contact_by_id (self->store, contact_id);
  if (link == NULL || contact == NULL)
    return;

  if (connection == NULL)
    {
      g_debug ("dialling %s failed: %s", link->dial_addresses[link->dial_index], error->message);
      link->dial_index++;
      try_next_address (link);
      return;
    }

  /* A name may resolve outside allowed-networks: not that one. */
  {
    g_autoptr (GInetAddress) address = remote_address (connection);

    if (address != NULL && !sotto_policy_may_connect (self->policy, address))
      {
        g_debug ("not dialling %s: outside allowed-networks",
                 link->dial_addresses[link->dial_index]);
        g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
        link->dial_index++;
        try_next_address (link);
        return;
      }
  }

  dialled = g_strdup (link->dial_addresses[link->dial_index]);
  g_clear_object (&link->dial_cancellable);
  g_clear_pointer (&link->dial_addresses, g_strfreev);

  /* Someone may have called us meanwhile (unless we are checking where
   * the contact went). */
  if (link->session != NULL && !link->verifying)
    return;

  /* The connect timeout must not linger as an I/O timeout. */
  g_socket_set_timeout (g_socket_connection_get_socket (connection), 0);

  hello = make_hello (self);
  link->outgoing = sotto_session_new (connection,
                                      sotto_store_get_identity (self->store), hello,
                                      sotto_contact_get_public_key (contact));
  set_session_contact_id (link->outgoing, contact_id);
  /* Should the call come back to us: which address that was, and how our
   * own listener sees the caller. */
  g_object_set_data_full (G_OBJECT (link->outgoing), SESSION_DIALLED_KEY,
                          g_steal_pointer (&dialled), g_free);
  local = g_socket_connection_get_local_address (connection, NULL);
  if (G_IS_INET_SOCKET_ADDRESS (local))
    g_object_set_data_full (G_OBJECT (link->outgoing), SESSION_LOCAL_KEY,
                            format_endpoint (G_INET_SOCKET_ADDRESS (local)), g_free);
  watch_session (self, link->outgoing);
  sotto_session_start (link->outgoing);
}

/* Whether "host:port" may be dialled: a name is checked once it is
 * connected (on_connected_cb). */
static gboolean
may_dial (SottoPeerService *self,
          const char       *host_and_port)
{
  g_autoptr (GNetworkAddress) parsed = NULL;
  g_autoptr (GInetAddress) address = NULL;

  parsed = G_NETWORK_ADDRESS (g_network_address_parse (host_and_port, SOTTO_PEER_DEFAULT_PORT,
                                                       NULL));
  if (parsed == NULL)
    return TRUE;
  address = g_inet_address_new_from_string (g_network_address_get_hostname (parsed));
  return address == NULL || sotto_policy_may_connect (self->policy, address);
}

static void
try_next_address (Link *link)
{
  SottoPeerService *self = link->service;
  DialData *data;

  /* Hints that came while this dial was on its way go next. */
  if (link->hints_first && link->dial_addresses != NULL)
    {
      g_autoptr (SottoContact) contact = link_contact (link);

      link->hints_first = FALSE;
      if (contact != NULL)
        {
          g_strfreev (link->dial_addresses);
          link->dial_addresses = dial_addresses_for (self, contact);
          link->dial_index = 0;
        }
    }

  /* An address outside allowed-networks is not even dialled. */
  while (link->dial_addresses != NULL && link->dial_addresses[link->dial_index] != NULL &&
         !may_dial (self, link->dial_addresses[link->dial_index]))
    link->dial_index++;

  if (link->dial_addresses == NULL || link->dial_addresses[link->dial_index] == NULL)
    {
      g_clear_object (&link->dial_cancellable);
      g_clear_pointer (&link->dial_addresses, g_strfreev);
      /* Checking a hint while the session is up: the session stays. */
      link->verifying = FALSE;
      if (link->session == NULL)
        schedule_retry (link);
      return;
    }

  data = g_new0 (DialData, 1);
  data->service = g_object_ref (self);
  data->contact_id = link->contact_id;
  data->cancellable = g_object_ref (link->dial_cancellable);
  g_socket_client_connect_to_host_async (self->client, link->dial_addresses[link->dial_index],
                                         SOTTO_PEER_DEFAULT_PORT, link->dial_cancellable,
                                         on_connected_cb, data);
}

/* The contact's addresses, less those that turned out to be our own. */
static char **
dial_addresses_for (SottoPeerService *self,
                    SottoContact     *contact)
{
  const char * const *known = sotto_contact_get_addresses (contact);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  Link *link = g_hash_table_lookup (self->links, &(gint64){ sotto_contact_get_id (contact) });
  const char * const *hints = link != NULL ? (const char * const *)link->hints : NULL;

  /* Where discovery last saw the contact first. */
  for (guint i = 0; hints != NULL && hints[i] != NULL; i++)
    if (!g_hash_table_contains (self->own_addresses, hints[i]))
      g_strv_builder_add (builder, hints[i]);
  for (guint i = 0; known != NULL && known[i] != NULL; i++)
    if (!g_hash_table_contains (self->own_addresses, known[i]) && !strv_contains (hints, known[i]))
      g_strv_builder_add (builder, known[i]);
  return g_strv_builder_end (builder);
}

static void
dial (Link *link)
{
  SottoPeerService *self = link->service;
  g_autoptr (SottoContact) contact = link_contact (link);
  g_auto (GStrv) addresses = NULL;

  if (!self->started || self->stopping || contact == NULL)
    return;
  if ((link->session != NULL && !link->verifying) || link->outgoing != NULL ||
      link->dial_cancellable != NULL)
    return;
  if (sotto_contact_get_blocked (contact) || link->key_mismatch ||
      sotto_contact_get_verification (contact) == SOTTO_VERIFICATION_KEY_CHANGED)
    return;
  /* A stranger whose request is being accepted or blocked: their own
   * session is the one to keep, or none is wanted. */
  if (find_request (self, sotto_contact_get_public_key (contact), NULL) != NULL)
    return;

  addresses = dial_addresses_for (self, contact);
  /* Checking where discovery saw the contact: there only. */
  if (link->verifying)
    {
      g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

      for (guint i = 0; addresses[i] != NULL; i++)
        if (strv_contains ((const char * const *)link->hints, addresses[i]))
          g_strv_builder_add (builder, addresses[i]);
      g_strfreev (addresses);
      addresses = g_strv_builder_end (builder);
    }
  if (addresses[0] == NULL)
    {
      link->verifying = FALSE;
      return;
    }

  g_clear_handle_id (&link->retry_source, g_source_remove);
  link->dial_cancellable = g_cancellable_new ();
  link->dial_addresses = g_steal_pointer (&addresses);
  link->dial_index = 0;
  try_next_address (link);
}

/* -------------------------------------------------------------------------
 * Contacts changing
 * ------------------------------------------------------------------------- */

static void
on_contact_notify_cb (SottoContact *contact,
                      GParamSpec   *pspec,
                      gpointer      user_data)
{
  SottoPeerService *self = user_data;
  gint64 id = sotto_contact_get_id (contact);
  Link *link = link_for (self, id);

  if (sotto_contact_get_blocked (contact))
    {
      if (link->session != NULL)
        sotto_session_close (link->session, NULL);
      return;
    }

  if (sotto_contact_get_verification (contact) != SOTTO_VERIFICATION_KEY_CHANGED)
    link->key_mismatch = FALSE;

  /* The user pinned another key: a session with the old one is not the
   * contact's any more. */
  if (link->session != NULL &&
      sodium_memcmp (sotto_session_get_remote_key (link->session),
                     sotto_contact_get_public_key (contact), SOTTO_KEY_LEN) != 0)
    {
      sotto_session_close (link->session, NULL);
      return;
    }

  if (link->session == NULL)
    dial (link);
  else
    schedule_flush (link);  /* held while the key was in doubt */
}

static void
watch_contact (SottoPeerService *self,
               SottoContact     *contact)
{
  g_signal_handlers_disconnect_by_func (contact, on_contact_notify_cb, self);
  g_signal_connect_object (contact, "notify::blocked", G_CALLBACK (on_contact_notify_cb), self, 0);
  g_signal_connect_object (contact, "notify::verification", G_CALLBACK (on_contact_notify_cb), self, 0);
  g_signal_connect_object (contact, "notify::addresses", G_CALLBACK (on_contact_notify_cb), self, 0);
  g_signal_connect_object (contact, "notify::public-key", G_CALLBACK (on_contact_notify_cb), self, 0);
}

/* A stranger waiting in a request session who has just been added as a
 * contact (by `add` with their invite, not by accepting the request):
 * the session becomes a contact session, as on accepting. */
static void
promote_request (SottoPeerService *self,
                 SottoContact     *contact)
{
  guint index = 0;
  Request *request = find_request (self, sotto_contact_get_public_key (contact), &index);
  g_autoptr (SottoSession) session = NULL;

  if (request == NULL || request->handling || sotto_contact_get_blocked (contact))
    return;
  session = request->session != NULL ? g_object_ref (request->session) : NULL;
  g_ptr_array_remove_index (self->requests, index);
  if (session != NULL && sotto_session_is_established (session))
    {
      set_session_contact_id (session, sotto_contact_get_id (contact));
      sotto_session_set_mode (session, SOTTO_SESSION_MODE_CONTACT);
      attach_session (self, session);
    }
}

static gboolean
on_prune_links_cb (gpointer user_data)
{
  SottoPeerService *self = user_data;
  GHashTableIter iter;
  Link *link;

  self->prune_source = 0;
  g_hash_table_iter_init (&iter, self->links);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&link))
    {
      g_autoptr (SottoContact) contact = link_contact (link);

      if (contact == NULL)
        g_hash_table_iter_remove (&iter);
    }
  return G_SOURCE_REMOVE;
}

static void
on_contacts_changed_cb (GListModel *model,
                        guint       position,
                        guint       removed,
                        guint       added,
                        gpointer    user_data)
{
  SottoPeerService *self = user_data;

  /* Links of contacts that are gone. Not now: the store moves an updated
   * contact by taking it out and putting it back, and its session must
   * survive that. */
  if (removed > 0 && self->prune_source == 0)
    self->prune_source = g_idle_add (on_prune_links_cb, self);

  for (guint i = position; i < position + added; i++)
    {
      g_autoptr (SottoContact) contact = g_list_model_get_item (model, i);

      watch_contact (self, contact);
      promote_request (self, contact);
      dial (link_for (self, sotto_contact_get_id (contact)));
    }
}

/* -------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------- */

static void
sotto_peer_service_dispose (GObject *object)
{
  SottoPeerService *self = SOTTO_PEER_SERVICE (object);

  sotto_peer_service_stop (self);
  g_clear_object (&self->store);
  g_clear_object (&self->policy);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sotto_peer_service_parent_class)->dispose (object);
}

static void
sotto_peer_service_finalize (GObject *object)
{
  SottoPeerService *self = SOTTO_PEER_SERVICE (object);

  g_clear_pointer (&self->links, g_hash_table_unref);
  g_clear_object (&self->files);
  g_clear_pointer (&self->handshaking, g_ptr_array_unref);
  g_clear_pointer (&self->handshake_rate, g_hash_table_unref);
  g_clear_pointer (&self->requests, g_ptr_array_unref);
  g_clear_pointer (&self->own_addresses, g_hash_table_unref);
  g_clear_pointer (&self->listening_on, g_free);
  g_clear_object (&self->listener);
  g_clear_object (&self->client);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->expiry_cancellable);
  g_clear_error (&self->listen_error);
  g_free (self->intro);

  G_OBJECT_CLASS (sotto_peer_service_parent_class)->finalize (object);
}

static void
sotto_peer_service_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  SottoPeerService *self = SOTTO_PEER_SERVICE (object);

  switch (prop_id)
    {
    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;

    case PROP_LISTEN_ERROR:
      g_value_set_boxed (value, self->listen_error);
      break;
    case PROP_PORT:
      g_value_set_uint (value, sotto_peer_service_get_port (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_peer_service_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  SottoPeerService *self = SOTTO_PEER_SERVICE (object);
  g_autoptr (GError) error = NULL;

  switch (prop_id)
    {
    case PROP_STATUS:
      if (!sotto_peer_service_set_status (self, g_value_get_enum (value), &error))
        g_warning ("%s", error->message);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_peer_service_class_init (SottoPeerServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GType type = G_TYPE_FROM_CLASS (klass);

  object_class->dispose = sotto_peer_service_dispose;
  object_class->finalize = sotto_peer_service_finalize;
  object_class->get_property = sotto_peer_service_get_property;
  object_class->set_property = sotto_peer_service_set_property;

  /**
   * SottoPeerService:status:
   *
   * Our own status (sotto_peer_service_set_status()). Setting it to
   * visible may not listen (the port is taken): a warning, and the
   * service dials only (#SottoPeerService:listen-error).
   */
  properties[PROP_STATUS] =
    g_param_spec_enum ("status", NULL, NULL, SOTTO_TYPE_STATUS, SOTTO_STATUS_AVAILABLE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SottoPeerService:listen-error:
   *
   * Why the service, online, does not listen (a #GError, usually
   * %G_IO_ERROR_ADDRESS_IN_USE), or %NULL. See
   * sotto_peer_service_get_listen_error().
   */
  properties[PROP_LISTEN_ERROR] =
    g_param_spec_boxed ("listen-error", NULL, NULL, G_TYPE_ERROR,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * SottoPeerService:port:
   *
   * The port colleagues can call us on now: 0 while stopped, invisible
   * or unable to listen.
   */
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, 65535, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[CONTACT_ONLINE] =
    g_signal_new ("contact-online", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SOTTO_TYPE_CONTACT);
  signals[CONTACT_OFFLINE] =
    g_signal_new ("contact-offline", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, SOTTO_TYPE_CONTACT, G_TYPE_ERROR);
  signals[MESSAGE_RECEIVED] =
    g_signal_new ("message-received", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, SOTTO_TYPE_CONTACT, SOTTO_TYPE_MESSAGE);
  signals[MESSAGE_DELIVERED] =
    g_signal_new ("message-delivered", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, SOTTO_TYPE_CONTACT, G_TYPE_STRING);
  signals[MESSAGE_READ] =
    g_signal_new ("message-read", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, SOTTO_TYPE_CONTACT, G_TYPE_STRING);
  /**
   * SottoPeerService::address-changed:
   * @contact: a contact
   * @address: "host:port", now the first of its known addresses: the
   *   contact called from there, or answered there where LAN discovery
   *   saw it
   */
  signals[ADDRESS_CHANGED] =
    g_signal_new ("address-changed", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, SOTTO_TYPE_CONTACT, G_TYPE_STRING);
  signals[KEY_CHANGED] =
    g_signal_new ("key-changed", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, SOTTO_TYPE_CONTACT, G_TYPE_BYTES);
  signals[REQUEST_RECEIVED] =
    g_signal_new ("request-received", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[REQUEST_PENDING] =
    g_signal_new ("request-pending", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SOTTO_TYPE_CONTACT);
  signals[REQUEST_ACCEPTED] =
    g_signal_new ("request-accepted", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SOTTO_TYPE_CONTACT);
  signals[TYPING] =
    g_signal_new ("typing", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, SOTTO_TYPE_CONTACT, G_TYPE_BOOLEAN);
  signals[PRESENCE] =
    g_signal_new ("presence", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, SOTTO_TYPE_CONTACT, G_TYPE_UINT);
  /**
   * SottoPeerService::session-failed:
   * @contact: (nullable): the contact, if known
   * @reason: why
   *
   * A connection ended before it became a session, or was refused.
   */
  signals[SESSION_FAILED] =
    g_signal_new ("session-failed", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, SOTTO_TYPE_CONTACT, G_TYPE_ERROR);

  _sotto_peer_groups_class_init (object_class);
}

static void
sotto_peer_service_init (SottoPeerService *self)
{
  self->links = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)link_free);
  self->handshaking = g_ptr_array_new_with_free_func (g_object_unref);
  self->handshake_rate = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->requests = g_ptr_array_new_with_free_func ((GDestroyNotify)request_free);
  self->own_addresses = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->cancellable = g_cancellable_new ();
  self->status = SOTTO_STATUS_AVAILABLE;
  self->presence = SOTTO_PRESENCE_AVAILABLE;
  self->backoff_base_ms = SOTTO_PEER_BACKOFF_BASE_MS;
  self->backoff_max_ms = SOTTO_PEER_BACKOFF_MAX_MS;
  self->tie_grace_ms = SOTTO_PEER_TIE_GRACE_MS;
  self->expiry_interval_ms = SOTTO_PEER_EXPIRY_INTERVAL_S * 1000;
  self->port = SOTTO_PEER_DEFAULT_PORT;
  self->client = make_dial_client ();
  /* Colleagues are reached directly on the office network, never through
   * a proxy that would see who talks to whom. */
  g_socket_client_set_enable_proxy (self->client, FALSE);
}

/* -------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

/**
 * sotto_peer_service_new:
 * @settings: the application's settings: `listen-port`,
 *   `allow-contact-requests`
 */
SottoPeerService *
sotto_peer_service_new (SottoStore *store,
                        GSettings  *settings)
{
  SottoPeerService *self;

  g_return_val_if_fail (SOTTO_IS_STORE (store), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (SOTTO_TYPE_PEER_SERVICE, NULL);
  self->store = g_object_ref (store);
  self->settings = g_object_ref (settings);
  self->policy = sotto_policy_new (settings);
  self->port = (guint)g_settings_get_int (settings, "listen-port");
  self->files = sotto_file_transfer_new (store, settings);
  g_signal_connect_object (settings, "changed::listen-address",
                           G_CALLBACK (on_listen_address_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (g_network_monitor_get_default (), "network-changed",
                           G_CALLBACK (on_network_changed_cb), self, G_CONNECT_SWAPPED);

  return self;
}

/**
 * sotto_peer_service_set_port:
 * @port: 1–65535, or 0 for any free port (see sotto_peer_service_get_port())
 *
 * Overrides the `listen-port` setting; before sotto_peer_service_start().
 */
void
sotto_peer_service_set_port (SottoPeerService *self,
                             guint             port)
{
  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (port <= 65535);
  g_return_if_fail (!self->started);

  self->port = port;
}

/**
 * sotto_peer_service_set_intro:
 *
 * The introduction sent with our hello: what a colleague who has not added
 * us yet sees in our contact request.
 */
void
sotto_peer_service_set_intro (SottoPeerService *self,
                              const char       *intro)
{
  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (intro == NULL || sotto_intro_validate (intro, NULL));

  g_free (self->intro);
  self->intro = g_strdup (intro);
}

/**
 * sotto_peer_service_set_backoff:
 *
 * For tests: the first retry delay and the longest.
 */
void
sotto_peer_service_set_backoff (SottoPeerService *self,
                                guint             base_ms,
                                guint             max_ms)
{
  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (base_ms > 0 && max_ms >= base_ms);

  self->backoff_base_ms = base_ms;
  self->backoff_max_ms = max_ms;
}

/**
 * sotto_peer_service_set_tie_grace:
 * @grace_ms: how long a young session the peer closed waits for another
 *   before it is told as dropped (SOTTO_PEER_TIE_GRACE_MS)
 *
 * For tests, which run many tie-breaks.
 */
void
sotto_peer_service_set_tie_grace (SottoPeerService *self,
                                  guint             grace_ms)
{
  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));

  self->tie_grace_ms = grace_ms;
}

/**
 * sotto_peer_service_set_expiry_interval:
 *
 * For tests: how often a running service gives up on old messages,
 * instead of every %SOTTO_PEER_EXPIRY_INTERVAL_S seconds; before
 * sotto_peer_service_start().
 */
void
sotto_peer_service_set_expiry_interval (SottoPeerService *self,
                                        guint             interval_ms)
{
  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (interval_ms > 0);
  g_return_if_fail (!self->running);

  self->expiry_interval_ms = interval_ms;
}

/* Listens on @port (0: any free one) of each of @addresses, the same port
 * on all of them. */
static gboolean
listen_on_addresses (SottoPeerService  *self,
                     GPtrArray         *addresses,
                     guint              port,
                     GError           **error)
{
  for (guint i = 0; i < addresses->len; i++)
    {
      GInetAddress *address = g_ptr_array_index (addresses, i);
      g_autoptr (GSocketAddress) wanted = g_inet_socket_address_new (address, (guint16)port);
      g_autoptr (GSocketAddress) bound = NULL;
      g_autoptr (GError) local_error = NULL;

      if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->listener), wanted,
                                          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                          &bound, &local_error))
        {
          g_autofree char *where = sotto_format_address (address, port);

          g_set_error (error, local_error->domain, local_error->code,
                       _("Can’t listen on %s: %s"), where, local_error->message);
          return FALSE;
        }
      port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    }
  self->bound_port = port;
  tell_port (self);
  return TRUE;
}

/* @addresses, to compare with what a network change brings: "" for all. */
static char *
addresses_text (GPtrArray *addresses)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; addresses != NULL && i < addresses->len; i++)
    {
      g_autofree char *one = g_inet_address_to_string (g_ptr_array_index (addresses, i));

      g_string_append_printf (text, "%s%s", i > 0 ? " " : "", one);
    }
  return g_string_free (text, FALSE);
}

/* Listens on @port (0: any free one), where `listen-address` says. */
static gboolean
listen_on (SottoPeerService  *self,
           guint              port,
           GError           **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GPtrArray) addresses = NULL;
  g_autofree char *listen_address = g_settings_get_string (self->settings, "listen-address");

  g_assert (SOTTO_IS_PEER_SERVICE (self));
  g_assert (self->listener == NULL);

  self->bound_port = 0;
  tell_port (self);
  g_clear_pointer (&self->listening_on, g_free);
  if (!sotto_listen_addresses_resolve (listen_address, &addresses, error))
    return FALSE;
  self->listening_on = addresses_text (addresses);
  self->listener = g_socket_service_new ();
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (self->listener), SOTTO_PEER_LISTEN_BACKLOG);
  if (addresses != NULL)
    {
      if (!listen_on_addresses (self, addresses, port, error))
        {
          g_socket_listener_close (G_SOCKET_LISTENER (self->listener));
          g_clear_object (&self->listener);
          return FALSE;
        }
    }
  else if (port == 0)
    {
      self->bound_port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (self->listener),
                                                              NULL, error);
      if (self->bound_port == 0)
        {
          g_clear_object (&self->listener);
          return FALSE;
        }
    }
  else
    {
      if (!g_socket_listener_add_inet_port (G_SOCKET_LISTENER (self->listener), (guint16)port,
                                            NULL, &local_error))
        {
          /* GIO's code stays, so that a front end can tell a port that is
           * taken (G_IO_ERROR_ADDRESS_IN_USE) from other failures. */
          g_set_error (error, local_error->domain, local_error->code,
                       _("Can’t listen on port %u: %s"), port, local_error->message);
          g_clear_object (&self->listener);
          return FALSE;
        }
      self->bound_port = port;
  tell_port (self);
    }
  g_signal_connect (self->listener, "incoming", G_CALLBACK (on_incoming_cb), self);
  g_socket_service_start (self->listener);

  return TRUE;
}

static void
close_listener (SottoPeerService *self)
{
  if (self->listener == NULL)
    return;
  g_socket_service_stop (self->listener);
  g_socket_listener_close (G_SOCKET_LISTENER (self->listener));
  g_signal_handlers_disconnect_by_data (self->listener, self);
  g_clear_object (&self->listener);
}

static void
tell_port (SottoPeerService *self)
{
  guint port = sotto_peer_service_get_port (self);

  if (port == self->told_port)
    return;
  self->told_port = port;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
}

static void
set_listen_error (SottoPeerService *self,
                  const GError     *error)
{
  tell_port (self);
  if (self->listen_error == NULL && error == NULL)
    return;
  g_clear_error (&self->listen_error);
  self->listen_error = error != NULL ? g_error_copy (error) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LISTEN_ERROR]);
}

/* Listens again where `listen-address` now says, on the same port;
 * sessions stay. */
static void
listen_again (SottoPeerService *self)
{
  g_autoptr (GError) error = NULL;
  guint port = self->bound_port != 0 ? self->bound_port : self->port;

  g_assert (SOTTO_IS_PEER_SERVICE (self));

  if (!self->started || self->stopping)
    return;
  close_listener (self);
  if (!listen_on (self, port, &error))
    g_debug ("not listening: %s", error->message);
  set_listen_error (self, error);
}

static void
on_listen_address_changed_cb (SottoPeerService *self)
{
  listen_again (self);
}

/* An interface named by listen-address may have come up, gone down or
 * changed its addresses: listened on again as it is now. */
/* Sessions over an address this computer no longer has are dead, though
 * the kernel does not say so until a timeout: closed now, and the
 * contact called again at once, from where we are now. */
static void
drop_sessions_gone (SottoPeerService *self)
{
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) reason = g_error_new_literal (SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_IO,
                                                   _("This computer’s network address changed"));
  GHashTableIter iter;
  Link *link;

  g_assert (SOTTO_IS_PEER_SERVICE (self));

  g_hash_table_iter_init (&iter, self->links);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&link))
    {
      g_autoptr (GInetSocketAddress) local = NULL;

      if (link->session == NULL)
        continue;
      local = sotto_session_get_local_address (link->session);
      if (local != NULL && !sotto_address_is_here (g_inet_socket_address_get_address (local)))
        {
          link->attempt = 0;
          g_ptr_array_add (gone, g_object_ref (link->session));
        }
    }
  for (guint i = 0; i < gone->len; i++)
    sotto_session_close (g_ptr_array_index (gone, i), reason);
}

static void
on_network_changed_cb (SottoPeerService *self)
{
  g_autofree char *listen_address = NULL;
  g_autoptr (GPtrArray) addresses = NULL;
  g_autofree char *now = NULL;

  if (!self->started || self->stopping)
    return;
  drop_sessions_gone (self);
  listen_address = g_settings_get_string (self->settings, "listen-address");
  /* Listening where it should already (every address, an address that
   * stays, an interface whose addresses did not change): nothing to do. */
  if (sotto_listen_addresses_resolve (listen_address, &addresses, NULL))
    now = addresses_text (addresses);
  if (self->listener != NULL && g_strcmp0 (now, self->listening_on) == 0)
    return;
  listen_again (self);
}

/* Writing works again after it failed (a full disk): what the store
 * could not take was refused, and the contacts that sent it were hung
 * up on and are backing off. Call them all now, so that it comes at
 * once, not after the longest wait. */
static void
on_write_error_changed_cb (SottoStore       *store,
                           GParamSpec       *pspec,
                           SottoPeerService *self)
{
  GHashTableIter iter;
  Link *link;

  g_assert (SOTTO_IS_PEER_SERVICE (self));

  if (sotto_store_get_write_error (store) != NULL || !self->started || self->stopping)
    return;

  g_hash_table_iter_init (&iter, self->links);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&link))
    {
      if (link->session != NULL || link->outgoing != NULL || link->key_mismatch)
        continue;
      link->attempt = 0;
      g_clear_handle_id (&link->retry_source, g_source_remove);
      dial (link);
    }
}

/* Dials every contact, and listens on @port (0: any) if it can. When it
 * can't, the service is online all the same: our hellos then say we don't
 * listen, and contacts can't call us, but we call them, and the outbox
 * goes out (#SottoPeerService:listen-error). */
static gboolean
go_online (SottoPeerService  *self,
           guint              port,
           GError           **error)
{
  g_autoptr (GError) local_error = NULL;
  GListModel *contacts;
  guint n;

  g_assert (!self->started);

  /* With no port configured, the one we had before is only a preference. */
  if (!listen_on (self, port, &local_error) && self->port == 0 && port != 0)
    {
      g_clear_error (&local_error);
      listen_on (self, 0, &local_error);
    }
  if (local_error != NULL)
    g_debug ("not listening: %s", local_error->message);
  set_listen_error (self, local_error);
  self->started = TRUE;
  tell_port (self);
  _sotto_file_transfer_set_running (self->files, TRUE);

  g_signal_connect_object (self->store, "notify::write-error",
                           G_CALLBACK (on_write_error_changed_cb), self, 0);
  /* Contacts, and the member-only peers of our groups: both are dialled. */
  for (guint list = 0; list < 2; list++)
    {
      contacts = list == 0 ? sotto_store_get_contacts (self->store)
                           : sotto_store_get_members (self->store);
      g_signal_connect_object (contacts, "items-changed", G_CALLBACK (on_contacts_changed_cb),
                               self, 0);
      n = g_list_model_get_n_items (contacts);
      for (guint i = 0; i < n; i++)
        {
          g_autoptr (SottoContact) contact = g_list_model_get_item (contacts, i);

          watch_contact (self, contact);
          dial (link_for (self, sotto_contact_get_id (contact)));
        }
    }

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

/**
 * sotto_peer_service_start:
 *
 * Listens on the port (all interfaces) and dials every contact; while the
 * status is %SOTTO_STATUS_INVISIBLE, only from when it changes.
 *
 * Invisible or not, it also gives up on messages that have waited for
 * delivery longer than %SOTTO_OUTBOX_EXPIRY_DAYS: now, and then every
 * %SOTTO_PEER_EXPIRY_INTERVAL_S seconds until stopped
 * (sotto_store_expire_outbox_async()).
 *
 * When it can't listen (the port is taken: %G_IO_ERROR_ADDRESS_IN_USE),
 * it returns %FALSE with that error, but the service is started all the
 * same: it dials every contact and delivers the outbox, and contacts
 * can't call it (sotto_peer_service_get_port() is 0). The error stays in
 * #SottoPeerService:listen-error until the service listens (see
 * sotto_peer_service_change_port()).
 * Stop the service as after a success.
 *
 * Returns: %TRUE if it listens (or is invisible); %FALSE if it could not
 *   listen, and only dials
 */
gboolean
sotto_peer_service_start (SottoPeerService  *self,
                          GError           **error)
{
  gboolean listening = TRUE;

  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), FALSE);
  g_return_val_if_fail (!self->running, FALSE);

  if (self->status != SOTTO_STATUS_INVISIBLE)
    listening = go_online (self, self->port, error);
  self->running = TRUE;
  start_expiry (self);

  return listening;
}

/* Closes every session and stops listening and dialling; the contacts
 * that were online are told to front ends as gone. */
static void
go_offline (SottoPeerService *self)
{
  g_autoptr (GPtrArray) were_online = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) reason = NULL;
  GHashTableIter iter;
  Link *link;

  if (!self->started || self->stopping)
    return;
  self->stopping = TRUE;

  g_hash_table_iter_init (&iter, self->links);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&link))
    {
      SottoContact *contact = link->online_told ? link_contact (link) : NULL;

      if (contact != NULL)
        g_ptr_array_add (were_online, contact);
    }

  /* What this run had under way ends; a later start gets a fresh one. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_handle_id (&self->prune_source, g_source_remove);
  close_listener (self);
  if (self->store != NULL)
    {
      g_signal_handlers_disconnect_by_func (sotto_store_get_contacts (self->store),
                                            on_contacts_changed_cb, self);
      g_signal_handlers_disconnect_by_func (sotto_store_get_members (self->store),
                                            on_contacts_changed_cb, self);
      g_signal_handlers_disconnect_by_func (self->store, on_write_error_changed_cb, self);
    }

  g_hash_table_iter_init (&iter, self->links);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&link))
    if (link->session != NULL)
      _sotto_file_transfer_session_gone (self->files, link->contact_id, link->session);
  g_hash_table_remove_all (self->links);
  _sotto_peer_groups_stop (self);
  while (self->handshaking->len > 0)
    {
      SottoSession *session = g_object_ref (g_ptr_array_index (self->handshaking, 0));

      g_signal_handlers_disconnect_by_data (session, self);
      g_ptr_array_remove_index (self->handshaking, 0);
      sotto_session_close (session, NULL);
      g_object_unref (session);
    }
  for (guint i = 0; i < self->requests->len; i++)
    {
      Request *request = g_ptr_array_index (self->requests, i);

      if (request->session != NULL)
        {
          g_signal_handlers_disconnect_by_data (request->session, self);
          sotto_session_close (request->session, NULL);
        }
    }
  g_ptr_array_set_size (self->requests, 0);
  /* Next time we may listen elsewhere. */
  g_hash_table_remove_all (self->own_addresses);
  self->started = FALSE;
  tell_port (self);
  _sotto_file_transfer_set_running (self->files, FALSE);
  self->stopping = FALSE;
  /* Not listening is what we want now. */
  set_listen_error (self, NULL);

  /* Told once the service is offline, so that a handler sees it so. */
  reason = g_error_new_literal (SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_CLOSED,
                                _("You went offline"));
  for (guint i = 0; i < were_online->len; i++)
    g_signal_emit (self, signals[CONTACT_OFFLINE], 0, g_ptr_array_index (were_online, i), reason);
}

/* The host of "host:port" or "[v6]:port". */
static char *
host_of (const char *address)
{
  g_autoptr (GSocketConnectable) parsed = g_network_address_parse (address, 1, NULL);

  return parsed != NULL ? g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed)))
                        : NULL;
}

/**
 * sotto_peer_service_hint_addresses:
 * @contact: a contact
 * @addresses: where LAN discovery saw a service with the contact's
 *   discovery id, newest first
 *
 * Takes discovery's word as a hint (PROTOCOL.md, "Discovery on the local
 * network"): these addresses are dialled first, at once, with the backoff
 * started over; one that answers with another key is dropped quietly.
 * With a session up to a host that is none of them (the contact's address
 * changed), they are dialled anyway, and a session there replaces it.
 */
void
sotto_peer_service_hint_addresses (SottoPeerService   *self,
                                   SottoContact       *contact,
                                   const char * const *addresses)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *session_host = NULL;
  gboolean session_host_hinted = FALSE;
  Link *link;
  guint n = 0;

  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));
  g_return_if_fail (addresses != NULL);

  link = link_for (self, sotto_contact_get_id (contact));
  for (guint i = 0; addresses[i] != NULL && n < SOTTO_INVITE_MAX_ADDRESSES; i++)
    if (sotto_invite_address_validate (addresses[i], NULL) && may_dial (self, addresses[i]))
      {
        g_strv_builder_add (builder, addresses[i]);
        n++;
      }
  g_strfreev (link->hints);
  link->hints = g_strv_builder_end (builder);
  if (link->hints[0] == NULL || !self->started || self->stopping)
    return;

  if (link->session != NULL)
    {
      g_autoptr (GInetSocketAddress) remote = sotto_session_get_remote_address (link->session);
      g_autofree char *remote_text = remote != NULL ? format_address (remote, 1) : NULL;

      session_host = remote_text != NULL ? host_of (remote_text) : NULL;
      for (guint i = 0; session_host != NULL && link->hints[i] != NULL; i++)
        {
          g_autofree char *host = host_of (link->hints[i]);

          session_host_hinted |= g_strcmp0 (host, session_host) == 0;
        }
      if (session_host_hinted || link->outgoing != NULL || link->dial_cancellable != NULL)
        return;
      link->verifying = TRUE;
      dial (link);
      return;
    }

  /* Found: now, not when the backoff would have tried again. A dial on
   * its way to an old address goes to the hints next, instead of to the
   * rest of the old ones. (Not cancelled: GLib 2.74 never finishes a
   * connection attempt cancelled while nothing answers it.) */
  link->attempt = 0;
  g_clear_handle_id (&link->retry_source, g_source_remove);
  if (link->dial_cancellable != NULL)
    link->hints_first = TRUE;
  dial (link);
}

/* -------------------------------------------------------------------------
 * Looking at a stranger's key
 * ------------------------------------------------------------------------- */

static void
on_probe_closed_cb (SottoSession *session,
                    const GError *reason,
                    gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  const SottoHello *hello = sotto_session_get_remote_hello (session);

  g_signal_handlers_disconnect_by_data (session, task);
  /* Message 2 arrived, and we stopped there as planned. */
  if (g_error_matches (reason, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_KEY_MISMATCH) &&
      hello != NULL)
    {
      g_object_set_data_full (G_OBJECT (task), "display-name",
                              g_strdup (hello->display_name), g_free);
      g_task_return_pointer (task, g_bytes_new (sotto_session_get_remote_key (session),
                                                SOTTO_KEY_LEN),
                             (GDestroyNotify)g_bytes_unref);
      return;
    }
  g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND,
                           _("%s did not answer as Sotto does: %s"),
                           (const char *)g_task_get_task_data (task),
                           reason != NULL ? reason->message : _("no reason given"));
}

static void
on_probe_connected_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoPeerService *self = g_task_get_source_object (task);
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GInetAddress) address = NULL;
  g_autoptr (SottoHello) hello = NULL;
  g_autoptr (SottoSession) session = NULL;
  g_autoptr (GError) error = NULL;
  /* No key is all zeros (PROTOCOL.md): message 2 never matches it, and the
   * session ends there, before anything of ours is sent. */
  static const guint8 nobody[SOTTO_KEY_LEN] = { 0 };

  connection = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (object), result, &error);
  if (connection == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  address = remote_address (connection);
  if (address != NULL && !sotto_policy_may_connect (self->policy, address))
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("Your administrator does not allow connections to %s"),
                               (const char *)g_task_get_task_data (task));
      return;
    }
  g_socket_set_timeout (g_socket_connection_get_socket (connection), 0);
  hello = make_hello (self);
  session = sotto_session_new (connection, sotto_store_get_identity (self->store), hello, nobody);
  g_signal_connect (session, "closed", G_CALLBACK (on_probe_closed_cb), g_object_ref (task));
  /* The task holds the session until it ends. */
  g_object_set_data_full (G_OBJECT (task), "session", g_object_ref (session), g_object_unref);
  sotto_session_start (session);
}

/**
 * sotto_peer_service_probe_async:
 * @address: "host:port" of a service LAN discovery saw
 *
 * Learns the key and display name of whoever answers at @address, from
 * handshake message 2, and hangs up before message 3: the peer learns
 * nothing of us (PROTOCOL.md, "Discovery on the local network").
 */
void
sotto_peer_service_probe_async (SottoPeerService    *self,
                                const char          *address,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (address != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_peer_service_probe_async);
  g_task_set_task_data (task, g_strdup (address), g_free);
  if (!sotto_invite_address_validate (address, NULL))
    {
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                               _("“%s” is not an address"), address);
      return;
    }
  if (!may_dial (self, address))
    {
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED,
                               _("Your administrator does not allow connections to %s"), address);
      return;
    }
  g_socket_client_connect_to_host_async (self->client, address, SOTTO_PEER_DEFAULT_PORT,
                                         cancellable, on_probe_connected_cb,
                                         g_steal_pointer (&task));
}

/**
 * sotto_peer_service_probe_finish:
 * @out_name: (out) (optional) (transfer full): the display name in its
 *   hello: its own claim
 *
 * Returns: (transfer full): the %SOTTO_KEY_LEN bytes of its static key,
 *   which the handshake proved it holds; %NULL with @error
 */
GBytes *
sotto_peer_service_probe_finish (SottoPeerService  *self,
                                 GAsyncResult      *result,
                                 char             **out_name,
                                 GError           **error)
{
  GBytes *key;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  key = g_task_propagate_pointer (G_TASK (result), error);
  if (out_name != NULL)
    *out_name = key != NULL ? g_strdup (g_object_get_data (G_OBJECT (result), "display-name"))
                            : NULL;
  return key;
}

/**
 * sotto_peer_service_stop:
 *
 * Closes every session and stops listening and dialling. Queued messages
 * stay in the outbox for the next start. #SottoPeerService::contact-offline
 * is emitted for every contact that was online.
 */
void
sotto_peer_service_stop (SottoPeerService *self)
{
  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));

  self->running = FALSE;
  stop_expiry (self);
  go_offline (self);
}

/**
 * sotto_peer_service_get_port:
 *
 * Returns: the port we listen on, 0 when not started or not listening
 */
guint
sotto_peer_service_get_port (SottoPeerService *self)
{
  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), 0);
  return self->started ? self->bound_port : 0;
}

/**
 * sotto_peer_service_get_listen_error:
 *
 * Why the service, started and visible, does not listen: it still dials
 * contacts and delivers the outbox, but they can't call it. Set by
 * sotto_peer_service_start() (or by becoming visible) when the port is
 * taken (%G_IO_ERROR_ADDRESS_IN_USE) or can't be used otherwise; cleared
 * by stopping or going invisible. Notified as
 * #SottoPeerService:listen-error.
 *
 * Returns: (transfer none) (nullable): the error, or %NULL when listening
 *   or not meant to
 */
const GError *
sotto_peer_service_get_listen_error (SottoPeerService *self)
{
  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), NULL);
  return self->listen_error;
}

/**
 * sotto_peer_service_change_port:
 * @self: a #SottoPeerService
 * @port: the port to listen on from now on, 1–65535
 * @error: return location for a #GError
 *
 * Moves the listener to @port. Before sotto_peer_service_start(), or
 * while invisible, that only sets the port, as sotto_peer_service_set_port()
 * does. While online, the old listener closes and the new one opens at
 * once; sessions already up stay, and later hellos name the new port.
 * When @port can't be had, the service goes on without listening, as at
 * start (#SottoPeerService:listen-error), and @error says why.
 *
 * Returns: %TRUE if the service listens on @port, or will
 */
gboolean
sotto_peer_service_change_port (SottoPeerService  *self,
                                guint              port,
                                GError           **error)
{
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), FALSE);
  g_return_val_if_fail (port > 0 && port <= 65535, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  self->port = port;
  if (!self->started)
    return TRUE;

  close_listener (self);
  if (!listen_on (self, port, &local_error))
    {
      set_listen_error (self, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  set_listen_error (self, NULL);
  return TRUE;
}

/**
 * sotto_peer_service_get_contact_presence:
 *
 * Returns: what the contact last told us on its current session, or
 *   %SOTTO_PRESENCE_OFFLINE when it is not online
 */
SottoPresence
sotto_peer_service_get_contact_presence (SottoPeerService *self,
                                         SottoContact     *contact)
{
  gint64 id;
  Link *link;

  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), SOTTO_PRESENCE_OFFLINE);
  g_return_val_if_fail (SOTTO_IS_CONTACT (contact), SOTTO_PRESENCE_OFFLINE);

  id = sotto_contact_get_id (contact);
  link = g_hash_table_lookup (self->links, &id);
  if (link == NULL || link->session == NULL || !link->confirmed)
    return SOTTO_PRESENCE_OFFLINE;
  /* Online but not heard from yet (a peer breaking the first-word rule). */
  return link->presence != SOTTO_PRESENCE_OFFLINE ? link->presence : SOTTO_PRESENCE_AVAILABLE;
}

SottoStore *
sotto_peer_service_get_store (SottoPeerService *self)
{
  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), NULL);
  return self->store;
}

/**
 * sotto_peer_service_get_files:
 *
 * Returns: (transfer none): the profile's file transfers, whose bytes move
 *   while the service runs
 */
SottoFileTransfer *
sotto_peer_service_get_files (SottoPeerService *self)
{
  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), NULL);
  return self->files;
}

gboolean
sotto_peer_service_is_online (SottoPeerService *self,
                              SottoContact     *contact)
{
  gint64 id;
  Link *link;

  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), FALSE);
  g_return_val_if_fail (SOTTO_IS_CONTACT (contact), FALSE);

  id = sotto_contact_get_id (contact);
  link = g_hash_table_lookup (self->links, &id);
  return link != NULL && link->session != NULL && link->confirmed;
}

/**
 * sotto_peer_service_connect:
 *
 * Dials the contact now, without waiting for the backoff.
 */
void
sotto_peer_service_connect (SottoPeerService *self,
                            SottoContact     *contact)
{
  Link *link;

  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));

  link = link_for (self, sotto_contact_get_id (contact));
  link->attempt = 0;
  g_clear_handle_id (&link->retry_source, g_source_remove);
  dial (link);
}

/**
 * sotto_peer_service_deliver:
 *
 * Sends what the contact's outbox holds, now if connected, else dials:
 * for messages queued by someone else (another process's `send`).
 */
void
sotto_peer_service_deliver (SottoPeerService *self,
                            SottoContact     *contact)
{
  Link *link;

  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));

  link = link_for (self, sotto_contact_get_id (contact));
  if (link->session != NULL)
    schedule_flush (link);
  else
    sotto_peer_service_connect (self, contact);
}

static void
on_queued_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoPeerService *self = g_task_get_source_object (task);
  SottoContact *contact = g_task_get_task_data (task);
  g_autoptr (SottoMessage) message = NULL;
  GError *error = NULL;
  Link *link;

  message = sotto_store_queue_message_finish (SOTTO_STORE (object), result, &error);
  if (message == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* On disk: now it may leave. Behind what this session still has to
   * send when the outbox has been listed for it and no listing is under
   * way (so nothing older can be missing); otherwise through the outbox. */
  link = link_for (self, sotto_contact_get_id (contact));
  _sotto_peer_link_send_or_list (link, contact, message);

  g_task_return_pointer (task, g_steal_pointer (&message), g_object_unref);
}

/**
 * sotto_peer_service_send_async:
 *
 * Writes the message to the outbox, then sends it if the contact is
 * online. Completes once the message is on disk.
 */
void
sotto_peer_service_send_async (SottoPeerService    *self,
                               SottoContact        *contact,
                               const char          *body,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_peer_service_send_async);
  g_task_set_task_data (task, g_object_ref (contact), g_object_unref);
  sotto_store_queue_message_async (self->store, contact, body, cancellable, on_queued_cb, task);
}

SottoMessage *
sotto_peer_service_send_finish (SottoPeerService  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_retried_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoPeerService *self = g_task_get_source_object (task);
  SottoMessage *message = g_task_get_task_data (task);
  g_autoptr (SottoContact) contact = NULL;
  GError *error = NULL;

  if (!sotto_store_retry_message_finish (SOTTO_STORE (object), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* Back in the outbox: from here on as a message just written
   * (on_queued_cb()). The session that carried it before, if it is still
   * up, never had it acknowledged: it carries it again. */
  contact = ref_contact_by_id (self->store, sotto_message_get_contact_id (message));
  if (contact != NULL)
    {
      Link *link = link_for (self, sotto_contact_get_id (contact));
      g_autoptr (GBytes) uid = g_bytes_new (sotto_message_get_uid (message),
                                            SOTTO_MESSAGE_UID_LEN);

      g_hash_table_remove (link->sent, uid);
      _sotto_peer_link_send_or_list (link, contact, message);
    }

  g_task_return_boolean (task, TRUE);
}

/**
 * sotto_peer_service_retry_async:
 * @message: one of our messages that could not be sent
 *   (%SOTTO_MESSAGE_FAILED)
 *
 * Queues the message again (sotto_store_retry_message_async(): same id, a
 * new %SOTTO_OUTBOX_EXPIRY_DAYS from now), then sends it as a new one is
 * sent: at once if the contact is online, else the contact is dialled
 * now. Completes once it is back in the outbox on disk.
 */
void
sotto_peer_service_retry_async (SottoPeerService    *self,
                                SottoMessage        *message,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (SOTTO_IS_MESSAGE (message));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_peer_service_retry_async);
  g_task_set_task_data (task, g_object_ref (message), g_object_unref);
  sotto_store_retry_message_async (self->store, message, cancellable, on_retried_cb, task);
}

gboolean
sotto_peer_service_retry_finish (SottoPeerService  *self,
                                 GAsyncResult      *result,
                                 GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Read receipts for @uids, in as few payloads as the limit allows. */
static void
send_read_receipts (Link      *link,
                    GPtrArray *uids)
{
  for (guint first = 0; first < uids->len; first += SOTTO_PAYLOAD_MAX_RECEIPT_IDS)
    {
      g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_RECEIPT);
      g_autoptr (GError) error = NULL;
      guint n = MIN (uids->len - first, SOTTO_PAYLOAD_MAX_RECEIPT_IDS);

      payload->receipt_state = SOTTO_RECEIPT_READ;
      payload->n_ids = n;
      payload->ids = g_malloc ((gsize)n * SOTTO_MESSAGE_UID_LEN);
      for (guint i = 0; i < n; i++)
        memcpy (payload->ids + (gsize)i * SOTTO_MESSAGE_UID_LEN,
                g_bytes_get_data (g_ptr_array_index (uids, first + i), NULL),
                SOTTO_MESSAGE_UID_LEN);
      if (!sotto_session_send (link->session, payload, &error))
        {
          /* Best effort (PROTOCOL.md, "Delivery"): not sent later. */
          g_debug ("read receipt not sent: %s", error->message);
          return;
        }
    }
}

static void
on_marked_read_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoPeerService *self = g_task_get_source_object (task);
  gint64 contact_id = *(gint64 *)g_task_get_task_data (task);
  g_autoptr (GPtrArray) uids = NULL;
  GError *error = NULL;
  Link *link;

  uids = sotto_store_mark_read_finish (SOTTO_STORE (object), result, &error);
  if (uids == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* The setting as it is now, not as it was when the service started. */
  link = g_hash_table_lookup (self->links, &contact_id);
  if (uids->len > 0 && link != NULL && link->session != NULL && link->confirmed &&
      g_settings_get_boolean (self->settings, "send-read-receipts"))
    send_read_receipts (link, uids);

  g_task_return_pointer (task, g_steal_pointer (&uids), (GDestroyNotify)g_ptr_array_unref);
}

/**
 * sotto_peer_service_mark_read_async:
 * @up_to_id: the newest message the user has seen
 *
 * Marks the contact's messages up to @up_to_id read in the store
 * (sotto_store_mark_read_async()), then, if the `send-read-receipts`
 * setting allows and the contact is online, tells the contact. Best
 * effort: a contact that is offline now never hears of these.
 */
void
sotto_peer_service_mark_read_async (SottoPeerService    *self,
                                    SottoContact        *contact,
                                    gint64               up_to_id,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  gint64 contact_id;
  GTask *task;

  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));

  contact_id = sotto_contact_get_id (contact);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sotto_peer_service_mark_read_async);
  g_task_set_task_data (task, g_memdup2 (&contact_id, sizeof contact_id), g_free);
  sotto_store_mark_read_async (self->store, contact, up_to_id, cancellable,
                               on_marked_read_cb, task);
}

/**
 * sotto_peer_service_mark_read_finish:
 *
 * Returns: (transfer container) (element-type GBytes): the uids newly
 *   marked read, as sotto_store_mark_read_finish() gives them
 */
GPtrArray *
sotto_peer_service_mark_read_finish (SottoPeerService  *self,
                                     GAsyncResult      *result,
                                     GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * sotto_peer_service_send_typing:
 *
 * Tells the contact we are typing, if it is online and the `send-typing`
 * setting allows.
 */
gboolean
sotto_peer_service_send_typing (SottoPeerService *self,
                                SottoContact     *contact,
                                gboolean          typing)
{
  g_autoptr (SottoPayload) payload = NULL;
  gint64 id;
  Link *link;

  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), FALSE);
  g_return_val_if_fail (SOTTO_IS_CONTACT (contact), FALSE);

  if (!g_settings_get_boolean (self->settings, "send-typing"))
    return FALSE;
  id = sotto_contact_get_id (contact);
  link = g_hash_table_lookup (self->links, &id);
  /* Online: the peer has spoken, so it took our call (PROTOCOL.md,
   * "First words"). */
  if (link == NULL || link->session == NULL || !link->confirmed)
    return FALSE;

  payload = sotto_payload_new (SOTTO_PAYLOAD_TYPING);
  payload->typing = typing;
  return sotto_session_send (link->session, payload, NULL);
}

/**
 * sotto_peer_service_list_requests:
 *
 * Returns: (transfer container) (element-type SottoPeerRequest): the
 *   contact requests waiting, oldest first
 */
GPtrArray *
sotto_peer_service_list_requests (SottoPeerService *self)
{
  GPtrArray *list;

  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), NULL);

  drop_expired_requests (self);
  list = g_ptr_array_new_with_free_func ((GDestroyNotify)sotto_peer_request_free);
  for (guint i = 0; i < self->requests->len; i++)
    {
      Request *request = g_ptr_array_index (self->requests, i);

      g_ptr_array_add (list, peer_request_copy (request->info));
    }
  return list;
}

static Request *
find_request (SottoPeerService *self,
              const guint8     *public_key,
              guint            *out_index)
{
  for (guint i = 0; i < self->requests->len; i++)
    {
      Request *request = g_ptr_array_index (self->requests, i);

      if (sodium_memcmp (request->info->public_key, public_key, SOTTO_KEY_LEN) == 0)
        {
          if (out_index != NULL)
            *out_index = i;
          return request;
        }
    }
  return NULL;
}

static void
on_request_contact_added_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SottoPeerService *self = g_task_get_source_object (task);
  g_autoptr (SottoContact) contact = NULL;
  GError *error = NULL;
  Request *request;
  guint index = 0;
  gboolean block = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (task), "sotto-block"));

  contact = sotto_store_add_contact_finish (SOTTO_STORE (object), result, &error);
  if (contact == NULL)
    {
      /* Still a request: it can be answered again (or dropped). */
      request = find_request (self, g_task_get_task_data (task), NULL);
      if (request != NULL)
        request->handling = FALSE;
      g_task_return_error (task, error);
      return;
    }

  /* A blocked stranger is a blocked contact (added so, at once): refused
   * from now on, and their session ends. */
  if (block)
    {
      request = find_request (self, sotto_contact_get_public_key (contact), &index);
      if (request != NULL)
        {
          if (request->session != NULL)
            sotto_session_close (request->session, NULL);
          g_ptr_array_remove_index (self->requests, index);
        }
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* If the stranger is still connected, the session becomes a contact
   * session and the caller learns it is welcome now. */
  request = find_request (self, sotto_contact_get_public_key (contact), &index);
  if (request != NULL)
    {
      SottoSession *session = request->session != NULL ? g_object_ref (request->session) : NULL;

      g_ptr_array_remove_index (self->requests, index);
      if (session != NULL && sotto_session_is_established (session))
        {
          set_session_contact_id (session, sotto_contact_get_id (contact));
          sotto_session_set_mode (session, SOTTO_SESSION_MODE_CONTACT);
          attach_session (self, session);
        }
      g_clear_object (&session);
    }
  /* The stranger has gone meanwhile: we call them. */
  dial (link_for (self, sotto_contact_get_id (contact)));

  g_task_return_pointer (task, g_steal_pointer (&contact), g_object_unref);
}

static void
add_request_contact (SottoPeerService    *self,
                     const guint8        *public_key,
                     const char          *alias,
                     gboolean             block,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data,
                     gpointer             source_tag)
{
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (GError) error = NULL;
  const char *addresses[2] = { NULL, NULL };
  Request *request;
  GTask *task;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, g_memdup2 (public_key, SOTTO_KEY_LEN), g_free);
  g_object_set_data (G_OBJECT (task), "sotto-block", GINT_TO_POINTER (block));

  request = find_request (self, public_key, NULL);
  if (request == NULL)
    {
      g_task_return_new_error (task, SOTTO_ERROR, SOTTO_ERROR_NOT_FOUND,
                               _("There is no such contact request"));
      g_object_unref (task);
      return;
    }

  addresses[0] = request->dial_address;
  /* The contact list will change: that is this call's business, not a
   * contact added by other means (see promote_request()). */
  request->handling = TRUE;
  invite = sotto_invite_new (public_key, request->info->display_name, addresses, &error);
  if (invite == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  if (block)
    sotto_store_add_blocked_contact_async (self->store, invite, cancellable,
                                           on_request_contact_added_cb, task);
  else
    sotto_store_add_contact_async (self->store, invite, alias, cancellable,
                                   on_request_contact_added_cb, task);
}

/**
 * sotto_peer_service_accept_request_async:
 * @alias: (nullable): a name of our own for the new contact
 *
 * Adds the stranger as a contact, with the name and address it gave.
 */
void
sotto_peer_service_accept_request_async (SottoPeerService    *self,
                                         const guint8        *public_key,
                                         const char          *alias,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (public_key != NULL);

  add_request_contact (self, public_key, alias, FALSE, cancellable, callback, user_data,
                       sotto_peer_service_accept_request_async);
}

/**
 * sotto_peer_service_block_request_async:
 *
 * Adds the stranger as a blocked contact: their session ends, and they are
 * refused from now on.
 */
void
sotto_peer_service_block_request_async (SottoPeerService    *self,
                                        const guint8        *public_key,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (public_key != NULL);

  add_request_contact (self, public_key, NULL, TRUE, cancellable, callback, user_data,
                       sotto_peer_service_block_request_async);
}

gboolean
sotto_peer_service_block_request_finish (SottoPeerService  *self,
                                         GAsyncResult      *result,
                                         GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

SottoContact *
sotto_peer_service_accept_request_finish (SottoPeerService  *self,
                                          GAsyncResult      *result,
                                          GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_key_ignored_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr (GError) error = NULL;

  if (!sotto_store_ignore_key_finish (SOTTO_STORE (object), result, &error))
    g_warning ("The ignored request could not be remembered: %s", error->message);
}

/* For tests: connections whose handshake has not finished, and those
 * closed before one began (sotto-peer-service-private.h). */
guint
sotto_peer_service_count_handshaking (SottoPeerService *self)
{
  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), 0);

  return self->handshaking->len;
}

guint
sotto_peer_service_count_refused_early (SottoPeerService *self)
{
  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), 0);

  return self->refused_early;
}

/* For tests: every pending request arrived @usec earlier than it did,
 * instead of waiting days for SOTTO_PEER_REQUEST_EXPIRY_DAYS. */
void
sotto_peer_service_age_requests (SottoPeerService *self,
                                 gint64            usec)
{
  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));

  for (guint i = 0; i < self->requests->len; i++)
    ((Request *)g_ptr_array_index (self->requests, i))->info->received -= usec;
}

/**
 * sotto_peer_request_matches:
 * @text: (nullable): a filter as the contact list's ("" or %NULL: all)
 *
 * Whether a request shows under the contact list's filter: by the name the
 * stranger gave, ignoring case and accents, or by the start of their
 * fingerprint (see sotto_roster_set_filter()).
 */
gboolean
sotto_peer_request_matches (const SottoPeerRequest *request,
                            const char             *text)
{
  g_autofree char *folded = NULL;
  g_autofree char *name = NULL;
  g_autofree char *digits = NULL;

  g_return_val_if_fail (request != NULL, FALSE);

  if (text == NULL || text[0] == '\0')
    return TRUE;
  folded = sotto_search_fold (text);
  name = sotto_search_fold (request->display_name != NULL ? request->display_name : "");
  if (strstr (name, folded) != NULL)
    return TRUE;
  digits = sotto_search_fingerprint_digits (text);
  if (digits != NULL)
    {
      g_autofree char *grouped = sotto_fingerprint_for_key (request->public_key);
      g_autofree char *own = sotto_search_digits_only (grouped);

      return g_str_has_prefix (own, digits);
    }
  return FALSE;
}

/**
 * sotto_peer_service_ignore_request:
 *
 * Drops the request and ends its session; the stranger's key is then
 * refused, without a request or a notification, for
 * %SOTTO_PEER_IGNORE_DAYS, also after a restart.
 *
 * Returns: %FALSE if there was no such request
 */
gboolean
sotto_peer_service_ignore_request (SottoPeerService *self,
                                   const guint8     *public_key)
{
  guint index = 0;

  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), FALSE);

  if (find_request (self, public_key, &index) == NULL)
    return FALSE;
  sotto_store_ignore_key_async (self->store, public_key,
                                g_get_real_time () + (gint64)SOTTO_PEER_IGNORE_DAYS * G_TIME_SPAN_DAY,
                                NULL, on_key_ignored_cb, NULL);
  drop_request (self, index);
  return TRUE;
}

/**
 * sotto_peer_service_set_presence:
 * @presence: %SOTTO_PRESENCE_AVAILABLE or %SOTTO_PRESENCE_AWAY
 *
 * The same as sotto_peer_service_set_status() with %SOTTO_STATUS_AVAILABLE
 * or %SOTTO_STATUS_AWAY: a user who says where they are is visible again.
 */
void
sotto_peer_service_set_presence (SottoPeerService *self,
                                 guint             presence)
{
  g_autoptr (GError) error = NULL;
  SottoStatus status;

  g_return_if_fail (SOTTO_IS_PEER_SERVICE (self));
  g_return_if_fail (presence == SOTTO_PRESENCE_AVAILABLE || presence == SOTTO_PRESENCE_AWAY);

  status = presence == SOTTO_PRESENCE_AWAY ? SOTTO_STATUS_AWAY : SOTTO_STATUS_AVAILABLE;
  if (!sotto_peer_service_set_status (self, status, &error))
    g_warning ("%s", error->message);
}

/**
 * sotto_peer_service_set_status:
 *
 * Available or away: contacts are told, now and on every new session.
 * Invisible: the service appears offline, as if stopped (no listening, no
 * dialling, every session closed, #SottoPeerService::contact-offline for
 * each contact that was online); messages written meanwhile wait in the
 * outbox. Leaving invisible listens again, on the same port as before if
 * it is still free, and dials every contact.
 *
 * Before sotto_peer_service_start(), or after sotto_peer_service_stop(),
 * the status is only recorded, for the next start.
 *
 * Returns: %FALSE if the service could not listen again; as after
 *   sotto_peer_service_start(), it is visible all the same, and dials
 */
gboolean
sotto_peer_service_set_status (SottoPeerService  *self,
                               SottoStatus        status,
                               GError           **error)
{
  gboolean listening = TRUE;
  SottoStatus old;

  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), FALSE);
  g_return_val_if_fail (status <= SOTTO_STATUS_INVISIBLE, FALSE);

  old = self->status;
  if (old == status)
    return TRUE;

  if (status != SOTTO_STATUS_INVISIBLE)
    self->presence = status == SOTTO_STATUS_AWAY ? SOTTO_PRESENCE_AWAY : SOTTO_PRESENCE_AVAILABLE;

  if (self->running && status == SOTTO_STATUS_INVISIBLE)
    go_offline (self);
  else if (self->running && old == SOTTO_STATUS_INVISIBLE)
    {
      /* Where contacts last reached us is where they will call again. */
      listening = go_online (self, self->port != 0 ? self->port : self->bound_port, error);
    }
  else
    {
      GHashTableIter iter;
      Link *link;

      g_hash_table_iter_init (&iter, self->links);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&link))
        if (link->confirmed)
          send_presence (link);
    }

  self->status = status;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);

  return listening;
}

SottoStatus
sotto_peer_service_get_status (SottoPeerService *self)
{
  g_return_val_if_fail (SOTTO_IS_PEER_SERVICE (self), SOTTO_STATUS_AVAILABLE);
  return self->status;
}
