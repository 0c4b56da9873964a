/* test-peer-service.c — the peer service: several profiles in one process,
 * real stores, real TCP on loopback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * tests/cli/peers.py drives two sotto-cli processes end to end; these tests
 * run the services side by side on one main context, so that they can
 * choose the moment things happen (both dial at once, a peer goes away
 * with messages queued) and count every signal.
 */
#include "config.h"

#include <string.h>
#include <sodium.h>
#include <sqlite3.h>
#define G_SETTINGS_ENABLE_BACKEND 1
#include <gio/gsettingsbackend.h>

#include "sotto-contact-private.h"
#include "sotto-core.h"
#include "sotto-payload.h"
#include "sotto-peer-service-private.h"
#include "sotto-session.h"
#include "sotto-store.h"
#include "sotto-store-private.h"
#include "sotto-test-util.h"

static char *
uid_hex (const guint8 *uid)
{
  char *hex = g_malloc (SOTTO_MESSAGE_UID_LEN * 2 + 1);

  return sodium_bin2hex (hex, SOTTO_MESSAGE_UID_LEN * 2 + 1, uid, SOTTO_MESSAGE_UID_LEN);
}

static guint
count_str (GPtrArray  *strings,
           const char *needle)
{
  guint n = 0;

  for (guint i = 0; i < strings->len; i++)
    if (g_str_equal (g_ptr_array_index (strings, i), needle))
      n++;
  return n;
}

/* A port nobody listens on (for now). */
static guint
free_port (void)
{
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GError) error = NULL;
  guint port;

  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);
  return port;
}

/* ------------------------------------------------------------------ */
/* A peer: a profile, its settings and its service, and what it heard. */

typedef struct
{
  const char       *name;
  char             *dir;
  SottoStore       *store;
  GSettings        *settings;
  SottoPeerService *service;
  guint             port;

  guint             online;
  guint             offline;
  guint             failed;
  int               failed_code;     /* the last session-failed's SOTTO_SESSION_ERROR code */
  guint             pending;
  guint             accepted;
  GPtrArray        *received;        /* char *: bodies, in the order of message-received */
  GPtrArray        *delivered;       /* char *: uids in hex, in the order of message-delivered */
  GPtrArray        *read;            /* char *: uids in hex, in the order of message-read */
  GPtrArray        *requests;        /* SottoPeerRequest, as request-received gave them */
  GPtrArray        *changed_keys;    /* GBytes, as key-changed gave them */
  GPtrArray        *moved;           /* char *: addresses, as address-changed gave them */
} Peer;

static void
on_contact_online_cb (SottoPeerService *service,
                      SottoContact     *contact,
                      Peer             *peer)
{
  peer->online++;
}

static void
on_contact_offline_cb (SottoPeerService *service,
                       SottoContact     *contact,
                       const GError     *reason,
                       Peer             *peer)
{
  peer->offline++;
}

static void
on_session_failed_cb (SottoPeerService *service,
                      SottoContact     *contact,
                      const GError     *reason,
                      Peer             *peer)
{
  peer->failed++;
  peer->failed_code = reason != NULL && reason->domain == SOTTO_SESSION_ERROR ? reason->code : -1;
}

static void
on_message_received_cb (SottoPeerService *service,
                        SottoContact     *contact,
                        SottoMessage     *message,
                        Peer             *peer)
{
  g_assert_cmpint (sotto_message_get_direction (message), ==, SOTTO_DIRECTION_IN);
  g_ptr_array_add (peer->received, g_strdup (sotto_message_get_body (message)));
}

static void
on_message_delivered_cb (SottoPeerService *service,
                         SottoContact     *contact,
                         const char       *uid,
                         Peer             *peer)
{
  g_ptr_array_add (peer->delivered, g_strdup (uid));
}

static void
on_address_changed_cb (SottoPeerService *service,
                       SottoContact     *contact,
                       const char       *address,
                       Peer             *peer)
{
  g_ptr_array_add (peer->moved, g_strdup (address));
}

static void
on_message_read_cb (SottoPeerService *service,
                    SottoContact     *contact,
                    const char       *uid,
                    Peer             *peer)
{
  g_ptr_array_add (peer->read, g_strdup (uid));
}

static void
on_key_changed_cb (SottoPeerService *service,
                   SottoContact     *contact,
                   GBytes           *key,
                   Peer             *peer)
{
  g_ptr_array_add (peer->changed_keys, g_bytes_ref (key));
}

static void
on_request_received_cb (SottoPeerService       *service,
                        const SottoPeerRequest *info,
                        Peer                   *peer)
{
  SottoPeerRequest *copy = g_new0 (SottoPeerRequest, 1);

  memcpy (copy->public_key, info->public_key, sizeof copy->public_key);
  copy->display_name = g_strdup (info->display_name);
  copy->intro = g_strdup (info->intro);
  copy->address = g_strdup (info->address);
  copy->received = info->received;
  g_ptr_array_add (peer->requests, copy);
}

static void
on_request_pending_cb (SottoPeerService *service,
                       SottoContact     *contact,
                       Peer             *peer)
{
  peer->pending++;
}

static void
on_request_accepted_cb (SottoPeerService *service,
                        SottoContact     *contact,
                        Peer             *peer)
{
  peer->accepted++;
}

static Peer *
peer_new (const char *name)
{
  g_autoptr (GSettingsBackend) backend = g_memory_settings_backend_new ();
  g_autoptr (GError) error = NULL;
  Peer *peer = g_new0 (Peer, 1);

  peer->name = name;
  peer->dir = sotto_test_make_profile_dir ();
  peer->store = sotto_test_create_store (peer->dir, name, SOTTO_KEY_PROTECTION_PASSPHRASE,
                                         "correct horse", &error);
  g_assert_no_error (error);
  peer->settings = g_settings_new_with_backend (SCHEMA_ID, backend);
  peer->received = g_ptr_array_new_with_free_func (g_free);
  peer->delivered = g_ptr_array_new_with_free_func (g_free);
  peer->read = g_ptr_array_new_with_free_func (g_free);
  peer->requests = g_ptr_array_new_with_free_func ((GDestroyNotify)sotto_peer_request_free);
  peer->changed_keys = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  peer->moved = g_ptr_array_new_with_free_func (g_free);
  return peer;
}

static const guint8 *
peer_key (Peer *peer)
{
  return sotto_identity_get_public_key (sotto_store_get_identity (peer->store));
}

/* The peer's service, made once, not started. */
static SottoPeerService *
peer_service (Peer *peer)
{
  if (peer->service == NULL)
    {
      SottoPeerService *service = sotto_peer_service_new (peer->store, peer->settings);

      sotto_peer_service_set_backoff (service, 20, 200);
      sotto_peer_service_set_tie_grace (service, 500);
      g_signal_connect (service, "contact-online", G_CALLBACK (on_contact_online_cb), peer);
      g_signal_connect (service, "contact-offline", G_CALLBACK (on_contact_offline_cb), peer);
      g_signal_connect (service, "session-failed", G_CALLBACK (on_session_failed_cb), peer);
      g_signal_connect (service, "message-received", G_CALLBACK (on_message_received_cb), peer);
      g_signal_connect (service, "message-delivered", G_CALLBACK (on_message_delivered_cb), peer);
      g_signal_connect (service, "message-read", G_CALLBACK (on_message_read_cb), peer);
      g_signal_connect (service, "key-changed", G_CALLBACK (on_key_changed_cb), peer);
      g_signal_connect (service, "address-changed", G_CALLBACK (on_address_changed_cb), peer);
      g_signal_connect (service, "request-received", G_CALLBACK (on_request_received_cb), peer);
      g_signal_connect (service, "request-pending", G_CALLBACK (on_request_pending_cb), peer);
      g_signal_connect (service, "request-accepted", G_CALLBACK (on_request_accepted_cb), peer);
      peer->service = service;
    }
  return peer->service;
}

/* Starts the peer's service (the same object again after a stop), on
 * @port or, with 0, a free one below the ephemeral range. */
static void
peer_start (Peer  *peer,
            guint  port)
{
  g_autoptr (GError) error = NULL;

  /* Never one of the kernel's ephemeral ports: an outgoing connection of
   * this or another test may hold it. */
  if (port == 0)
    port = sotto_test_low_free_port ();
  peer_service (peer);
  sotto_peer_service_set_port (peer->service, port);
  g_assert_true (sotto_peer_service_start (peer->service, &error));
  g_assert_no_error (error);
  peer->port = sotto_peer_service_get_port (peer->service);
  g_assert_cmpuint (peer->port, ==, port);
}

/* Drops the service for good, and waits until it is really gone (what it
 * still had in flight holds it). */
static void
peer_drop_service (Peer *peer)
{
  GObject *service = G_OBJECT (peer->service);

  if (service == NULL)
    return;
  sotto_peer_service_stop (peer->service);
  g_object_add_weak_pointer (service, (gpointer *)&service);
  g_clear_object (&peer->service);
  SOTTO_TEST_WAIT_FOR (service == NULL);
}

static void
peer_free (Peer *peer)
{
  peer_drop_service (peer);
  /* Closed sockets and cancelled reads finish on the main context. */
  sotto_test_spin (50);
  sotto_test_close_store (&peer->store);
  g_clear_object (&peer->settings);
  sotto_test_rm_rf (peer->dir);
  g_free (peer->dir);
  g_ptr_array_unref (peer->received);
  g_ptr_array_unref (peer->delivered);
  g_ptr_array_unref (peer->read);
  g_ptr_array_unref (peer->requests);
  g_ptr_array_unref (peer->changed_keys);
  g_ptr_array_unref (peer->moved);
  g_free (peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_free)

/* @other becomes a contact of @owner, dialled at @addresses, in order. */
static SottoContact *
add_contact_at (Peer              *owner,
                Peer              *other,
                const char * const *addresses)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (GError) error = NULL;
  SottoContact *contact;

  invite = sotto_invite_new (peer_key (other), other->name, addresses, &error);
  g_assert_no_error (error);
  sotto_store_add_contact_async (owner->store, invite, NULL, NULL, sotto_test_result_cb, &result);
  contact = sotto_store_add_contact_finish (owner->store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  return contact;
}

/* @other becomes a contact of @owner, dialled at 127.0.0.1:@port (none
 * with 0). */
static SottoContact *
add_contact (Peer  *owner,
             Peer  *other,
             guint  port)
{
  g_autofree char *address = port > 0 ? g_strdup_printf ("127.0.0.1:%u", port) : NULL;
  const char *addresses[] = { address, NULL };

  return add_contact_at (owner, other, addresses);
}

static void
update_contact (Peer         *owner,
                SottoContact *contact,
                const char   *alias,
                int           blocked,
                int           verification)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_test_update_contact (owner->store, contact, alias, blocked, verification,
                                            &error));
  g_assert_no_error (error);
}

/* Queues (and, if the contact is online, sends) one message. */
static SottoMessage *
send_message (Peer         *peer,
              SottoContact *contact,
              const char   *body)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoMessage *message;

  sotto_peer_service_send_async (peer->service, contact, body, NULL, sotto_test_result_cb, &result);
  message = sotto_peer_service_send_finish (peer->service, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (message);
  return message;
}

static guint
outbox_len (Peer         *peer,
            SottoContact *contact)
{
  g_autoptr (GPtrArray) outbox = sotto_test_outbox (peer->store, contact);

  return outbox->len;
}

/* The TCP connections (either end, established or left half-closed) with
 * @port at one end: one session between two local peers is two. */
static guint
count_connections (guint port)
{
  const char *files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
  guint n = 0;

  for (guint f = 0; f < G_N_ELEMENTS (files); f++)
    {
      g_autofree char *contents = NULL;
      g_auto (GStrv) lines = NULL;

      if (!g_file_get_contents (files[f], &contents, NULL, NULL))
        continue;
      lines = g_strsplit (contents, "\n", -1);
      for (guint i = 1; lines[i] != NULL; i++)
        {
          g_auto (GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
          g_autoptr (GPtrArray) words = g_ptr_array_new ();
          const char *local_port;
          const char *remote_port;

          for (guint j = 0; fields[j] != NULL; j++)
            if (fields[j][0] != '\0')
              g_ptr_array_add (words, fields[j]);
          if (words->len < 4)
            continue;
          local_port = strrchr (g_ptr_array_index (words, 1), ':');
          remote_port = strrchr (g_ptr_array_index (words, 2), ':');
          if (local_port == NULL || remote_port == NULL)
            continue;
          /* 01 ESTABLISHED, 08 CLOSE_WAIT (the peer closed, we did not) */
          if (!g_str_equal (g_ptr_array_index (words, 3), "01") &&
              !g_str_equal (g_ptr_array_index (words, 3), "08"))
            continue;
          if (g_ascii_strtoull (local_port + 1, NULL, 16) == port ||
              g_ascii_strtoull (remote_port + 1, NULL, 16) == port)
            n++;
        }
    }
  return n;
}

/* ------------------------------------------------------------------ */
/* A raw peer: a bare SottoSession on a listener, which says what the  */
/* test wants it to say.                                               */

typedef struct
{
  SottoIdentity  *identity;
  GSocketService *listener;
  guint           port;
  SottoSession   *session;
  gboolean        established;
  guint           closed;
  GByteArray     *texts;           /* uids of the TEXTs it got, 16 bytes each */
  GByteArray     *acks;            /* uids its delivered receipts named */
  GByteArray     *reads;           /* uids its read receipts named, if not NULL */
  guint           read_payloads;   /* read receipts it got */
  guint16         hello_port;      /* the listen port its hello gives when it dials */
  GPtrArray      *states;          /* SottoRequestState its REQUEST_STATEs said, if not NULL */
} RawPeer;

static SottoSessionMode
raw_auth_cb (SottoSession     *session,
             const guint8     *remote_key,
             const SottoHello *hello,
             gpointer          user_data)
{
  return SOTTO_SESSION_MODE_CONTACT;
}

static void
on_raw_established_cb (SottoSession *session,
                       RawPeer      *raw)
{
  raw->established = TRUE;
  /* As the protocol asks: a contact session's first payload is a presence
   * (the caller counts us online only then). */
  {
    g_autoptr (SottoPayload) presence = sotto_payload_new (SOTTO_PAYLOAD_PRESENCE);

    presence->presence = SOTTO_PRESENCE_AVAILABLE;
    g_assert_true (sotto_session_send (session, presence, NULL));
  }
}

static void
on_raw_payload_cb (SottoSession *session,
                   gpointer      payload_ptr,
                   RawPeer      *raw)
{
  const SottoPayload *payload = payload_ptr;

  if (payload->kind == SOTTO_PAYLOAD_TEXT)
    g_byte_array_append (raw->texts, payload->uid, SOTTO_MESSAGE_UID_LEN);
  if (payload->kind == SOTTO_PAYLOAD_REQUEST_STATE && raw->states != NULL)
    g_ptr_array_add (raw->states, GUINT_TO_POINTER (payload->request_state));
  if (payload->kind == SOTTO_PAYLOAD_RECEIPT && payload->receipt_state == SOTTO_RECEIPT_DELIVERED)
    g_byte_array_append (raw->acks, payload->ids, payload->n_ids * SOTTO_MESSAGE_UID_LEN);
  if (payload->kind == SOTTO_PAYLOAD_RECEIPT && payload->receipt_state == SOTTO_RECEIPT_READ &&
      raw->reads != NULL)
    {
      g_byte_array_append (raw->reads, payload->ids, payload->n_ids * SOTTO_MESSAGE_UID_LEN);
      raw->read_payloads++;
    }
}

static void
on_raw_closed_cb (SottoSession *session,
                  const GError *reason,
                  RawPeer      *raw)
{
  raw->closed++;
}

static void
raw_watch (RawPeer      *raw,
           SottoSession *session)
{
  g_signal_connect (session, "established", G_CALLBACK (on_raw_established_cb), raw);
  g_signal_connect (session, "payload-received", G_CALLBACK (on_raw_payload_cb), raw);
  g_signal_connect (session, "closed", G_CALLBACK (on_raw_closed_cb), raw);
}

static gboolean
on_raw_incoming_cb (GSocketService    *service,
                    GSocketConnection *connection,
                    GObject           *source,
                    RawPeer           *raw)
{
  SottoHello hello = { SOTTO_PROTOCOL_VERSION, (char *)"Bob", (guint16)raw->port, 0, (char *)"" };

  g_assert_null (raw->session);
  raw->session = sotto_session_new (connection, raw->identity, &hello, NULL);
  sotto_session_set_auth_func (raw->session, raw_auth_cb, raw);
  raw_watch (raw, raw->session);
  sotto_session_start (raw->session);
  return TRUE;
}

/* The raw peer calls a service, as the contact whose identity it has. */
static void
raw_dial (RawPeer      *raw,
          guint         port,
          const guint8 *expected_key)
{
  g_autoptr (GSocketClient) client = sotto_test_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GError) error = NULL;
  SottoHello hello = { SOTTO_PROTOCOL_VERSION, (char *)"Alice", raw->hello_port, 0, (char *)"" };

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16)port, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&raw->session);
  raw->established = FALSE;
  raw->session = sotto_session_new (connection, raw->identity, &hello, expected_key);
  raw_watch (raw, raw->session);
  sotto_session_start (raw->session);
  SOTTO_TEST_WAIT_FOR (raw->established);
}

static void
raw_send (RawPeer      *raw,
          SottoPayload *payload)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_session_send (raw->session, payload, &error));
  g_assert_no_error (error);
}

static void
raw_send_receipt (RawPeer      *raw,
                  const guint8 *ids,
                  guint         n_ids)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_RECEIPT);

  payload->receipt_state = SOTTO_RECEIPT_DELIVERED;
  payload->n_ids = n_ids;
  payload->ids = g_memdup2 (ids, (gsize)n_ids * SOTTO_MESSAGE_UID_LEN);
  raw_send (raw, payload);
}

static void
raw_clear (RawPeer *raw)
{
  if (raw->listener != NULL)
    {
      g_socket_service_stop (raw->listener);
      g_socket_listener_close (G_SOCKET_LISTENER (raw->listener));
      g_clear_object (&raw->listener);
    }
  if (raw->session != NULL)
    sotto_session_close (raw->session, NULL);
  g_clear_object (&raw->session);
  g_clear_pointer (&raw->texts, g_byte_array_unref);
  g_clear_pointer (&raw->acks, g_byte_array_unref);
  g_clear_pointer (&raw->reads, g_byte_array_unref);
  g_clear_pointer (&raw->states, g_ptr_array_unref);
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */

/* A and B online; 50 messages from A arrive at B once each, in order, are
 * acknowledged, and leave A's outbox. */
static void
test_deliver (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (GPtrArray) sent = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) history = NULL;
  g_autofree char *a_address = NULL;
  GAsyncResult *results[50] = { NULL };
  const guint n = G_N_ELEMENTS (results);

  peer_start (a, 0);
  peer_start (b, 0);
  /* B knows A but not where: only A dials, and B learns A's address. */
  ba = add_contact (b, a, 0);
  ab = add_contact (a, b, b->port);

  SOTTO_TEST_WAIT_FOR (a->online == 1 && b->online == 1);
  g_assert_true (sotto_peer_service_is_online (a->service, ab));
  g_assert_true (sotto_peer_service_is_online (b->service, ba));

  /* All at once: the outbox, the direct path and the receipts overlap. */
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *body = g_strdup_printf ("message %u", i);

      sotto_peer_service_send_async (a->service, ab, body, NULL, sotto_test_result_cb,
                                     &results[i]);
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GError) error = NULL;
      SottoMessage *message;

      message = sotto_peer_service_send_finish (a->service, sotto_test_wait (&results[i]), &error);
      g_assert_no_error (error);
      g_ptr_array_add (sent, message);
      g_clear_object (&results[i]);
    }

  SOTTO_TEST_WAIT_FOR (b->received->len >= n && a->delivered->len >= n);
  sotto_test_spin (300);  /* room for a duplicate */

  g_assert_cmpuint (b->received->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *body = g_strdup_printf ("message %u", i);
      g_autofree char *hex = uid_hex (sotto_message_get_uid (g_ptr_array_index (sent, i)));

      g_assert_cmpstr (g_ptr_array_index (b->received, i), ==, body);
      g_assert_cmpuint (count_str (a->delivered, hex), ==, 1);
    }
  g_assert_cmpuint (a->delivered->len, ==, n);
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);

  history = sotto_test_full_history (b->store, ba, 100);
  g_assert_cmpuint (history->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      SottoMessage *message = g_ptr_array_index (history, i);

      g_assert_cmpint (sotto_message_get_direction (message), ==, SOTTO_DIRECTION_IN);
      g_assert_cmpstr (sotto_message_get_body (message), ==,
                       sotto_message_get_body (g_ptr_array_index (sent, i)));
      g_assert_cmpmem (sotto_message_get_uid (message), SOTTO_MESSAGE_UID_LEN,
                       sotto_message_get_uid (g_ptr_array_index (sent, i)), SOTTO_MESSAGE_UID_LEN);
    }

  /* B, the responder, learned where A listens; the session stayed up all
   * along, on both sides. */
  a_address = g_strdup_printf ("127.0.0.1:%u", a->port);
  SOTTO_TEST_WAIT_FOR (sotto_contact_get_addresses (ba)[0] != NULL);
  g_assert_cmpstr (sotto_contact_get_addresses (ba)[0], ==, a_address);
  g_assert_cmpuint (a->online, ==, 1);
  g_assert_cmpuint (b->online, ==, 1);
  g_assert_cmpuint (a->offline, ==, 0);
  g_assert_cmpuint (b->offline, ==, 0);
}

/* Editing a contact (a new alias, a verification) must not cut its
 * session. */
static void
test_contact_update_keeps_session (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) m = NULL;

  peer_start (a, 0);
  peer_start (b, 0);
  /* This time B dials, and A learns B's address. */
  ab = add_contact (a, b, 0);
  ba = add_contact (b, a, a->port);
  SOTTO_TEST_WAIT_FOR (a->online == 1 && b->online == 1);
  SOTTO_TEST_WAIT_FOR (sotto_contact_get_addresses (ab)[0] != NULL);
  sotto_test_spin (100);

  update_contact (a, ab, "Bobby", -1, SOTTO_VERIFICATION_VERIFIED);
  update_contact (b, ba, "Ali", -1, -1);
  sotto_test_spin (300);

  g_assert_true (sotto_peer_service_is_online (a->service, ab));
  g_assert_true (sotto_peer_service_is_online (b->service, ba));
  g_assert_cmpuint (a->offline, ==, 0);
  g_assert_cmpuint (b->offline, ==, 0);
  g_assert_cmpuint (a->online, ==, 1);
  g_assert_cmpuint (b->online, ==, 1);

  m = send_message (a, ab, "still there?");
  SOTTO_TEST_WAIT_FOR (b->received->len == 1 && a->delivered->len == 1);
}

/* Sends one more message the moment the contact comes online, i.e. while
 * the outbox is still being listed for the new session. */
static void
on_online_send_cb (SottoPeerService *service,
                   SottoContact     *contact,
                   GAsyncResult    **slot)
{
  g_signal_handlers_disconnect_by_func (service, on_online_send_cb, slot);
  sotto_peer_service_send_async (service, contact, "written as you came", NULL,
                                 sotto_test_result_cb, slot);
}

/* B is not running: messages wait in A's outbox; B comes up, A's next
 * retry reaches it, and they arrive once each, in the order written, with
 * one written just as the session came up last. */
static void
test_offline_then_online (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (GPtrArray) sent = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GAsyncResult) late_result = NULL;
  g_autoptr (GError) error = NULL;
  const char *bodies[] = { "while you were out", "one", "two", "three", "written as you came" };
  guint port_b = free_port ();

  peer_start (a, 0);
  ba = add_contact (b, a, 0);  /* B will not dial: A's retry must do it */
  ab = add_contact (a, b, port_b);

  for (guint i = 0; i < 4; i++)
    g_ptr_array_add (sent, send_message (a, ab, bodies[i]));
  sotto_test_spin (300);  /* several failed dials */
  g_assert_cmpuint (a->online, ==, 0);
  g_assert_false (sotto_peer_service_is_online (a->service, ab));
  g_assert_cmpuint (outbox_len (a, ab), ==, 4);

  g_signal_connect (a->service, "contact-online", G_CALLBACK (on_online_send_cb), &late_result);
  peer_start (b, port_b);
  SOTTO_TEST_WAIT_FOR (late_result != NULL);
  g_ptr_array_add (sent, sotto_peer_service_send_finish (a->service, late_result, &error));
  g_assert_no_error (error);
  SOTTO_TEST_WAIT_FOR (b->received->len >= 5 && a->delivered->len >= 5);
  sotto_test_spin (300);

  g_assert_cmpuint (b->received->len, ==, 5);
  g_assert_cmpuint (a->delivered->len, ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *hex = uid_hex (sotto_message_get_uid (g_ptr_array_index (sent, i)));

      g_assert_cmpstr (g_ptr_array_index (b->received, i), ==, bodies[i]);
      g_assert_cmpuint (count_str (a->delivered, hex), ==, 1);
    }
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);
  g_assert_cmpuint (a->online, ==, 1);
}

/* A backlog larger than a session's bound on unsent bytes
 * (SOTTO_SESSION_MAX_QUEUED_BYTES): it goes out at the pace the
 * connection takes it, in one session, each message once and in order;
 * three times that bound, as the kernel's socket buffers take a part.
 * Sent all at once, it used to overflow that bound and close the session,
 * and every new one started again from the oldest message. */
#define BACKLOG_MESSAGES (3 * SOTTO_SESSION_MAX_QUEUED_BYTES / SOTTO_MESSAGE_BODY_MAX)

static void
test_outbox_backlog (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autofree char *body = g_malloc (SOTTO_MESSAGE_BODY_MAX + 1);
  guint port_b = free_port ();

  peer_start (a, 0);
  ba = add_contact (b, a, 0);
  ab = add_contact (a, b, port_b);

  memset (body, 'x', SOTTO_MESSAGE_BODY_MAX);
  body[SOTTO_MESSAGE_BODY_MAX] = '\0';
  for (guint i = 0; i < BACKLOG_MESSAGES; i++)
    {
      g_autoptr (SottoMessage) message = NULL;

      /* Each one told apart by its first characters. */
      g_snprintf (body, 12, "%010u", i);
      body[10] = ' ';
      message = send_message (a, ab, body);
    }
  g_assert_cmpuint (outbox_len (a, ab), ==, BACKLOG_MESSAGES);

  peer_start (b, port_b);
  SOTTO_TEST_WAIT_FOR (a->delivered->len >= BACKLOG_MESSAGES || a->offline > 0);
  sotto_test_spin (200);

  g_assert_cmpuint (a->offline, ==, 0);
  g_assert_cmpuint (a->online, ==, 1);
  g_assert_cmpuint (b->received->len, ==, BACKLOG_MESSAGES);
  g_assert_cmpuint (a->delivered->len, ==, BACKLOG_MESSAGES);
  for (guint i = 0; i < BACKLOG_MESSAGES; i++)
    {
      const char *got = g_ptr_array_index (b->received, i);
      g_autofree char *expected = g_strdup_printf ("%010u ", i);

      g_assert_cmpuint (strlen (got), ==, SOTTO_MESSAGE_BODY_MAX);
      g_assert_true (g_str_has_prefix (got, expected));
    }
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);
}

/* Both dial each other at the same moment, 20 times over: each time both
 * end up with one and the same session, messages cross once each, and
 * then nothing moves any more. */
static void
test_simultaneous_dial (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  guint port_a;
  guint port_b;
  guint online_a, online_b, offline_a, offline_b;
  const guint rounds = 20;

  /* Ports first, then the contacts, so that the services find addresses
   * at start and dial at once. */
  peer_start (a, 0);
  peer_start (b, 0);
  port_a = a->port;
  port_b = b->port;
  sotto_peer_service_stop (a->service);
  sotto_peer_service_stop (b->service);
  ab = add_contact (a, b, port_b);
  ba = add_contact (b, a, port_a);

  for (guint r = 0; r < rounds; r++)
    {
      g_autoptr (SottoMessage) ma = NULL;
      g_autoptr (SottoMessage) mb = NULL;
      g_autofree char *body_a = g_strdup_printf ("from A, round %u", r);
      g_autofree char *body_b = g_strdup_printf ("from B, round %u", r);
      guint received_a = a->received->len;
      guint received_b = b->received->len;
      guint offline_a_before = a->offline;
      guint offline_b_before = b->offline;
      guint failed_a_before = a->failed;
      guint failed_b_before = b->failed;

      /* Queued first, so that they go out on whichever session comes up
       * first, and must go again on the one kept. */
      ma = send_message (a, ab, body_a);
      mb = send_message (b, ba, body_b);

      /* In one main loop iteration: start dials every contact, and
       * connect asks again (a no-op while a dial is on its way). */
      peer_start (a, port_a);
      peer_start (b, port_b);
      sotto_peer_service_connect (a->service, ab);
      sotto_peer_service_connect (b->service, ba);

      SOTTO_TEST_WAIT_FOR (count_str (b->received, body_a) >= 1 && count_str (a->received, body_b) >= 1 &&
                outbox_len (a, ab) == 0 && outbox_len (b, ba) == 0);
      g_assert_true (sotto_peer_service_is_online (a->service, ab));
      g_assert_true (sotto_peer_service_is_online (b->service, ba));
      g_assert_cmpuint (a->received->len, ==, received_a + 1);
      g_assert_cmpuint (b->received->len, ==, received_b + 1);
      /* Both keep the same session, and the one they close is nobody's
       * business: neither side sees the contact drop or a call fail
       * (a tie-break that disagrees would drop it on both). */
      sotto_test_spin (700);
      g_assert_cmpuint (a->offline, ==, offline_a_before);
      g_assert_cmpuint (b->offline, ==, offline_b_before);
      g_assert_cmpuint (a->failed, ==, failed_a_before);
      g_assert_cmpuint (b->failed, ==, failed_b_before);

      if (r + 1 < rounds)
        {
          /* Alternately, so that either side is the last to let go. */
          sotto_peer_service_stop (r % 2 == 0 ? a->service : b->service);
          sotto_peer_service_stop (r % 2 == 0 ? b->service : a->service);
        }
    }

  /* Settled: over 2 s of quiet, nobody connects or disconnects. */
  sotto_test_spin (300);
  online_a = a->online;
  online_b = b->online;
  offline_a = a->offline;
  offline_b = b->offline;
  sotto_test_spin (2000);
  g_assert_cmpuint (a->online, ==, online_a);
  g_assert_cmpuint (b->online, ==, online_b);
  g_assert_cmpuint (a->offline, ==, offline_a);
  g_assert_cmpuint (b->offline, ==, offline_b);
  g_assert_true (sotto_peer_service_is_online (a->service, ab));
  g_assert_true (sotto_peer_service_is_online (b->service, ba));

  /* One TCP connection between them (two ends): the one dialled by the
   * peer with the smaller key, to the other's port. */
  if (g_file_test ("/proc/net/tcp", G_FILE_TEST_EXISTS))
    {
      gboolean a_smaller = memcmp (peer_key (a), peer_key (b), SOTTO_KEY_LEN) < 0;

      g_assert_cmpuint (count_connections (a_smaller ? port_b : port_a), ==, 2);
      g_assert_cmpuint (count_connections (a_smaller ? port_a : port_b), ==, 0);
    }

  /* Every message arrived exactly once. */
  g_assert_cmpuint (a->received->len, ==, rounds);
  g_assert_cmpuint (b->received->len, ==, rounds);
  for (guint r = 0; r < rounds; r++)
    {
      g_autofree char *body_a = g_strdup_printf ("from A, round %u", r);
      g_autofree char *body_b = g_strdup_printf ("from B, round %u", r);

      g_assert_cmpuint (count_str (b->received, body_a), ==, 1);
      g_assert_cmpuint (count_str (a->received, body_b), ==, 1);
    }
  g_assert_cmpuint (a->delivered->len, ==, rounds);
  g_assert_cmpuint (b->delivered->len, ==, rounds);
}

/* How many times the security log of @peer counted events of @kind about
 * @subject (any, if %NULL) with @detail (any, if %NULL). */
static guint
log_count (Peer               *peer,
           SottoSecurityEvent  kind,
           const char         *subject,
           const char         *detail)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  guint count = 0;

  sotto_store_list_security_log_async (peer->store, SOTTO_SECURITY_LOG_MAX_ENTRIES, NULL,
                                       sotto_test_result_cb, &result);
  entries = sotto_store_list_security_log_finish (peer->store, sotto_test_wait (&result), NULL,
                                                  &error);
  g_assert_no_error (error);
  for (guint i = 0; i < entries->len; i++)
    {
      SottoSecurityLogEntry *entry = g_ptr_array_index (entries, i);

      if (entry->kind == kind && (subject == NULL || g_str_equal (entry->subject, subject)) &&
          (detail == NULL || g_str_equal (entry->detail, detail)))
        count += entry->count;
    }
  return count;
}

/* LAN discovery saw B elsewhere: A dials there at once, delivers what
 * waited, and B's address there becomes the first A knows. */
static void
test_hint (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) m = NULL;
  g_autofree char *old = NULL;
  g_autofree char *found = NULL;
  const char *hints[] = { NULL, NULL };

  peer_start (b, 0);
  ba = add_contact (b, a, 0);
  /* Where B was: nobody answers there now. */
  old = g_strdup_printf ("127.0.0.1:%u", free_port ());
  ab = add_contact_at (a, b, (const char *[]){ old, NULL });
  /* A backoff that would keep A from trying again within the test. */
  peer_start (a, 0);
  sotto_peer_service_set_backoff (a->service, 60000, 60000);
  m = send_message (a, ab, "found you");
  sotto_test_spin (300);
  g_assert_cmpuint (b->received->len, ==, 0);

  found = g_strdup_printf ("127.0.0.1:%u", b->port);
  hints[0] = found;
  sotto_peer_service_hint_addresses (a->service, ab, hints);
  SOTTO_TEST_WAIT_FOR (b->received->len == 1 && a->delivered->len == 1);
  g_assert_cmpstr (g_ptr_array_index (b->received, 0), ==, "found you");
  SOTTO_TEST_WAIT_FOR (a->moved->len == 1);
  g_assert_cmpstr (g_ptr_array_index (a->moved, 0), ==, found);
  SOTTO_TEST_WAIT_FOR (g_strcmp0 (sotto_contact_get_addresses (ab)[0], found) == 0);
  g_assert_cmpstr (sotto_contact_get_addresses (ab)[1], ==, old);
  g_assert_cmpuint (a->changed_keys->len, ==, 0);
}

/* A hint that leads to someone else is no key change: nothing is marked,
 * nothing raised, the hint is dropped, and the message still waits. */
static void
test_hint_other_key (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (Peer) c = peer_new ("Carol");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoMessage) m = NULL;
  g_autofree char *elsewhere = NULL;
  const char *hints[] = { NULL, NULL };
  guint failed;

  peer_start (c, 0);
  ab = add_contact (a, b, free_port ());
  peer_start (a, 0);
  sotto_peer_service_set_backoff (a->service, 60000, 60000);
  m = send_message (a, ab, "for Bob only");
  sotto_test_spin (300);

  /* Carol answers where discovery claims Bob is. */
  elsewhere = g_strdup_printf ("127.0.0.1:%u", c->port);
  hints[0] = elsewhere;
  failed = a->failed;
  sotto_peer_service_hint_addresses (a->service, ab, hints);
  sotto_test_spin (1000);
  g_assert_cmpuint (a->changed_keys->len, ==, 0);
  g_assert_cmpint (sotto_contact_get_verification (ab), !=, SOTTO_VERIFICATION_KEY_CHANGED);
  g_assert_cmpuint (a->failed, ==, failed);
  g_assert_cmpuint (a->moved->len, ==, 0);
  g_assert_cmpuint (c->received->len, ==, 0);
  g_assert_false (g_strv_contains (sotto_contact_get_addresses (ab), elsewhere));
  g_assert_cmpuint (outbox_len (a, ab), ==, 1);
  /* Carol saw a call end after message 2 (the dial did reach her), and
   * nothing of A's: no request. */
  SOTTO_TEST_WAIT_FOR (log_count (c, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, "127.0.0.1",
                                  "failed") >= 1);
  g_assert_cmpuint (c->requests->len, ==, 0);
  g_assert_cmpuint (log_count (a, SOTTO_SECURITY_EVENT_KEY_CHANGED, NULL, NULL), ==, 0);
}

/* A session is up, and discovery sees B at a host the session does not
 * run to (B's address changed): A checks there, and the session there
 * replaces the old one. */
static void
test_hint_moved (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) m = NULL;
  g_autofree char *moved = NULL;
  g_autofree char *same = NULL;
  const char *hints[] = { NULL, NULL };

  peer_start (a, 0);
  peer_start (b, 0);
  ba = add_contact (b, a, 0);
  ab = add_contact (a, b, b->port);
  SOTTO_TEST_WAIT_FOR (a->online == 1 && b->online == 1);

  /* The host of the session: nothing to check. */
  same = g_strdup_printf ("127.0.0.1:%u", b->port);
  hints[0] = same;
  sotto_peer_service_hint_addresses (a->service, ab, hints);
  sotto_test_spin (500);
  g_assert_cmpuint (a->moved->len, ==, 0);

  /* Another host (all of 127/8 is this machine's loopback). */
  moved = g_strdup_printf ("127.0.0.2:%u", b->port);
  hints[0] = moved;
  sotto_peer_service_hint_addresses (a->service, ab, hints);
  SOTTO_TEST_WAIT_FOR (a->moved->len == 1);
  g_assert_cmpstr (g_ptr_array_index (a->moved, 0), ==, moved);
  m = send_message (a, ab, "still there");
  SOTTO_TEST_WAIT_FOR (b->received->len == 1 && a->delivered->len == 1);
  /* The contact never went offline for it. */
  sotto_test_spin (700);
  g_assert_cmpuint (a->offline, ==, 0);
  g_assert_true (sotto_peer_service_is_online (a->service, ab));
}

/* B blocks A: A is refused, its message waits; B unblocks A: delivered. */
static void
test_blocked (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) m = NULL;
  guint failed;

  peer_start (a, 0);
  peer_start (b, 0);
  ba = add_contact (b, a, 0);
  ab = add_contact (a, b, b->port);
  SOTTO_TEST_WAIT_FOR (a->online == 1 && b->online == 1);

  update_contact (b, ba, NULL, 1, -1);
  SOTTO_TEST_WAIT_FOR (a->offline >= 1 && b->offline >= 1);
  g_assert_false (sotto_peer_service_is_online (b->service, ba));

  /* A keeps trying; B refuses each time. */
  failed = b->failed;
  SOTTO_TEST_WAIT_FOR (b->failed >= failed + 2);
  g_assert_cmpint (b->failed_code, ==, SOTTO_SESSION_ERROR_REFUSED);

  m = send_message (a, ab, "let me in");
  failed = b->failed;
  SOTTO_TEST_WAIT_FOR (b->failed >= failed + 2);  /* A tried with the message in its outbox */
  g_assert_cmpuint (b->received->len, ==, 0);
  g_assert_cmpuint (a->delivered->len, ==, 0);
  g_assert_cmpuint (outbox_len (a, ab), ==, 1);
  g_assert_false (sotto_peer_service_is_online (b->service, ba));
  g_assert_cmpuint (b->online, ==, 1);  /* never again while blocked */
  /* In B's security log: a blocked contact calling, once per call, in one
   * entry, with the key. */
  {
    g_autofree char *fingerprint = sotto_fingerprint_for_key (peer_key (a));

    g_assert_cmpuint (log_count (b, SOTTO_SECURITY_EVENT_BLOCKED_KEY, "Alice", fingerprint), >=,
                      4);
  }

  update_contact (b, ba, NULL, 0, -1);
  SOTTO_TEST_WAIT_FOR (b->received->len >= 1 && a->delivered->len >= 1);
  sotto_test_spin (200);
  g_assert_cmpuint (b->received->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (b->received, 0), ==, "let me in");
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);
}

/* A blocks B while its dial to B is on its way: the session that comes of
 * it is not kept. */
static void
test_block_while_dialling (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoContact) blocked = NULL;

  peer_start (b, 0);
  ba = add_contact (b, a, 0);
  ab = add_contact (a, b, b->port);

  /* start dials B; before the loop runs again, the user blocks B. The
   * change is made to the contact as the store would make it, without
   * the store's round trip, so that it surely lands mid-dial. */
  peer_start (a, 0);
  blocked = _sotto_contact_new (sotto_contact_get_id (ab), sotto_contact_get_public_key (ab), NULL,
                                sotto_contact_get_display_name (ab), NULL,
                                sotto_contact_get_verification (ab), TRUE,
                                sotto_contact_get_addresses (ab));
  _sotto_contact_update_from (ab, blocked);
  g_assert_true (sotto_contact_get_blocked (ab));

  SOTTO_TEST_WAIT_FOR (a->failed >= 1);
  sotto_test_spin (300);
  g_assert_cmpuint (a->online, ==, 0);
  g_assert_false (sotto_peer_service_is_online (a->service, ab));
  /* B, which learned A's address from that session, calls back: refused. */
  g_assert_cmpint (a->failed_code, ==, SOTTO_SESSION_ERROR_REFUSED);
}

/* Someone else answers at B's address: A marks B's key changed, tells
 * nothing, and stops dialling until the user verifies again. */
static void
test_key_changed (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (Peer) mallory = peer_new ("Mallory");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) m = NULL;
  g_autoptr (GPtrArray) requests = NULL;
  guint port_b;
  guint failed;

  peer_start (a, 0);
  peer_start (b, 0);
  port_b = b->port;
  ba = add_contact (b, a, 0);
  ab = add_contact (a, b, port_b);
  SOTTO_TEST_WAIT_FOR (a->online == 1 && b->online == 1);

  /* B goes; Mallory takes its port. A's retry finds her. */
  peer_drop_service (b);
  SOTTO_TEST_WAIT_FOR (a->offline == 1);
  peer_start (mallory, port_b);

  SOTTO_TEST_WAIT_FOR (a->changed_keys->len == 1);
  g_assert_cmpmem (g_bytes_get_data (g_ptr_array_index (a->changed_keys, 0), NULL),
                   g_bytes_get_size (g_ptr_array_index (a->changed_keys, 0)),
                   peer_key (mallory), SOTTO_KEY_LEN);
  g_assert_cmpint (a->failed_code, ==, SOTTO_SESSION_ERROR_KEY_MISMATCH);
  SOTTO_TEST_WAIT_FOR (sotto_contact_get_verification (ab) == SOTTO_VERIFICATION_KEY_CHANGED);

  /* A message now stays home, and A does not dial again by itself. */
  failed = a->failed;
  m = send_message (a, ab, "for Bob only");
  sotto_peer_service_connect (a->service, ab);
  sotto_test_spin (1000);
  g_assert_cmpuint (a->failed, ==, failed);
  g_assert_cmpuint (a->changed_keys->len, ==, 1);
  g_assert_cmpuint (a->online, ==, 1);
  g_assert_cmpuint (outbox_len (a, ab), ==, 1);
  g_assert_cmpuint (mallory->received->len, ==, 0);
  /* A left before its own message 3: Mallory never learned who called. */
  g_assert_cmpuint (mallory->requests->len, ==, 0);
  requests = sotto_peer_service_list_requests (mallory->service);
  g_assert_cmpuint (requests->len, ==, 0);
  g_assert_cmpuint (mallory->online, ==, 0);

  /* Verified again: A dials again (and finds Mallory again). */
  update_contact (a, ab, NULL, -1, SOTTO_VERIFICATION_VERIFIED);
  SOTTO_TEST_WAIT_FOR (a->changed_keys->len == 2);
  g_assert_cmpuint (a->failed, ==, failed + 1);
  SOTTO_TEST_WAIT_FOR (sotto_contact_get_verification (ab) == SOTTO_VERIFICATION_KEY_CHANGED);
  g_assert_cmpuint (mallory->received->len, ==, 0);

  /* Mallory gone, B back, verified again: the message reaches B. */
  peer_drop_service (mallory);
  update_contact (a, ab, NULL, -1, SOTTO_VERIFICATION_VERIFIED);
  peer_start (b, port_b);
  SOTTO_TEST_WAIT_FOR (b->received->len >= 1 && a->delivered->len >= 1);
  sotto_test_spin (200);
  g_assert_cmpuint (b->received->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (b->received, 0), ==, "for Bob only");
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);
  g_assert_cmpuint (mallory->received->len, ==, 0);
}

/* The only address A has for B is A's own port: A answers its own call.
 * That is no key change: A forgets the address, says nothing, and B stays
 * as verified as it was. */
static void
test_own_address (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");      /* only its key: B never runs */
  g_autoptr (SottoContact) ab = NULL;
  guint port_a = sotto_test_low_free_port ();

  ab = add_contact (a, b, port_a);
  update_contact (a, ab, NULL, -1, SOTTO_VERIFICATION_VERIFIED);
  peer_start (a, port_a);

  SOTTO_TEST_WAIT_FOR (sotto_contact_get_addresses (ab)[0] == NULL ||
                       a->changed_keys->len > 0 || a->failed > 0);
  sotto_test_spin (300);  /* room for a late signal, or a dial to nowhere */
  g_assert_cmpuint (a->changed_keys->len, ==, 0);
  g_assert_cmpuint (a->failed, ==, 0);
  g_assert_cmpint (sotto_contact_get_verification (ab), ==, SOTTO_VERIFICATION_VERIFIED);
  g_assert_null (sotto_contact_get_addresses (ab)[0]);
  g_assert_cmpuint (a->online, ==, 0);
  g_assert_cmpuint (a->requests->len, ==, 0);
}

/* A has two addresses for B: first A's own (B's old one, say, now A's),
 * then B's. A's message still reaches B, and only B's address is left. */
static void
test_own_address_then_peer (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) m = NULL;
  g_autofree char *own = NULL;
  g_autofree char *bob = NULL;
  guint port_a = sotto_test_low_free_port ();

  peer_start (b, 0);
  own = g_strdup_printf ("127.0.0.1:%u", port_a);
  bob = g_strdup_printf ("127.0.0.1:%u", b->port);
  ba = add_contact (b, a, 0);
  ab = add_contact_at (a, b, (const char * const[]) { own, bob, NULL });
  peer_service (a);
  m = send_message (a, ab, "past my own door");
  peer_start (a, port_a);

  SOTTO_TEST_WAIT_FOR ((b->received->len >= 1 && a->delivered->len >= 1) ||
                       a->changed_keys->len > 0);
  g_assert_cmpuint (a->changed_keys->len, ==, 0);
  sotto_test_spin (200);
  g_assert_cmpuint (b->received->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (b->received, 0), ==, "past my own door");
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);
  g_assert_cmpuint (a->failed, ==, 0);
  g_assert_cmpuint (b->failed, ==, 0);
  g_assert_cmpint (sotto_contact_get_verification (ab), ==, SOTTO_VERIFICATION_UNVERIFIED);
  SOTTO_TEST_WAIT_FOR (g_strv_length ((char **)sotto_contact_get_addresses (ab)) == 1);
  g_assert_cmpstr (sotto_contact_get_addresses (ab)[0], ==, bob);
}

/* A caller with A's own key (a copy of A's profile, say) is refused, and
 * quietly: no request, no failure to tell anyone about. */
static void
test_own_key_calls (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  RawPeer raw = { 0 };

  raw.identity = sotto_store_get_identity (a->store);
  raw.texts = g_byte_array_new ();
  raw.acks = g_byte_array_new ();
  peer_start (a, 0);

  raw_dial (&raw, a->port, peer_key (a));
  SOTTO_TEST_WAIT_FOR (raw.closed == 1);
  sotto_test_spin (100);
  g_assert_cmpuint (a->failed, ==, 0);
  g_assert_cmpuint (a->requests->len, ==, 0);
  g_assert_cmpuint (a->online, ==, 0);
  raw_clear (&raw);
}

/* A stranger (D knows A, A does not know D) gets a contact request through,
 * and nothing else until A accepts. */
static void
test_request_accept (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) d = peer_new ("Dave");
  g_autoptr (SottoContact) da = NULL;
  g_autoptr (SottoContact) ad = NULL;
  g_autoptr (SottoMessage) m = NULL;
  g_autoptr (GPtrArray) requests = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *d_address = NULL;
  const char *intro = "Hi, it’s Dave from accounting.\nAbout the invoices.";
  SottoPeerRequest *request;

  peer_start (a, 0);
  da = add_contact (d, a, a->port);
  sotto_peer_service_set_intro (peer_service (d), intro);
  sotto_peer_service_set_presence (peer_service (d), SOTTO_PRESENCE_AWAY);
  peer_start (d, 0);

  SOTTO_TEST_WAIT_FOR (a->requests->len >= 1 && d->pending >= 1);
  g_assert_cmpuint (a->requests->len, ==, 1);
  request = g_ptr_array_index (a->requests, 0);
  g_assert_cmpmem (request->public_key, SOTTO_KEY_LEN, peer_key (d), SOTTO_KEY_LEN);
  g_assert_cmpstr (request->display_name, ==, "Dave");
  g_assert_cmpstr (request->intro, ==, intro);
  d_address = g_strdup_printf ("127.0.0.1:%u", d->port);
  g_assert_cmpstr (request->address, ==, d_address);

  requests = sotto_peer_service_list_requests (a->service);
  g_assert_cmpuint (requests->len, ==, 1);
  g_assert_cmpstr (((SottoPeerRequest *)g_ptr_array_index (requests, 0))->display_name, ==, "Dave");
  g_clear_pointer (&requests, g_ptr_array_unref);

  /* D's message goes out on the session and is dropped by A. */
  m = send_message (d, da, "hello from a stranger");
  sotto_test_spin (300);
  g_assert_cmpuint (a->received->len, ==, 0);
  g_assert_cmpuint (d->delivered->len, ==, 0);
  g_assert_cmpuint (outbox_len (d, da), ==, 1);
  g_assert_null (sotto_store_get_contact_by_key (a->store, peer_key (d)));
  g_assert_cmpuint (a->online, ==, 0);

  sotto_peer_service_accept_request_async (a->service, peer_key (d), NULL, NULL,
                                           sotto_test_result_cb, &result);
  ad = sotto_peer_service_accept_request_finish (a->service, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (ad);
  g_assert_cmpstr (sotto_contact_get_display_name (ad), ==, "Dave");
  g_assert_false (sotto_contact_get_blocked (ad));
  g_assert_cmpstr (sotto_contact_get_addresses (ad)[0], ==, d_address);

  SOTTO_TEST_WAIT_FOR (d->accepted >= 1 && a->received->len >= 1 && d->delivered->len >= 1);
  sotto_test_spin (300);
  g_assert_cmpuint (d->accepted, ==, 1);
  g_assert_cmpuint (a->received->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (a->received, 0), ==, "hello from a stranger");
  g_assert_cmpuint (outbox_len (d, da), ==, 0);
  g_assert_true (sotto_peer_service_is_online (a->service, ad));
  g_assert_true (sotto_peer_service_is_online (d->service, da));
  /* D's first presence fell in the request and was dropped: it says it
   * again once accepted. */
  g_assert_cmpint (sotto_peer_service_get_contact_presence (a->service, ad), ==, SOTTO_PRESENCE_AWAY);

  requests = sotto_peer_service_list_requests (a->service);
  g_assert_cmpuint (requests->len, ==, 0);
}

/* Ignoring a request ends its session and adds no contact. */
static void
test_request_ignore (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) e = peer_new ("Eve");
  g_autoptr (SottoContact) ea = NULL;
  g_autoptr (SottoMessage) m = NULL;
  g_autoptr (GPtrArray) requests = NULL;
  g_autoptr (GError) error = NULL;
  guint failed;
  guint port;

  peer_start (a, 0);
  peer_start (e, 0);
  ea = add_contact (e, a, a->port);
  SOTTO_TEST_WAIT_FOR (a->requests->len >= 1 && e->pending >= 1);
  m = send_message (e, ea, "psst");

  g_assert_true (sotto_peer_service_ignore_request (a->service, peer_key (e)));
  port = a->port;
  g_clear_pointer (&requests, g_ptr_array_unref);
  requests = sotto_peer_service_list_requests (a->service);
  g_assert_cmpuint (requests->len, ==, 0);
  g_assert_false (sotto_peer_service_ignore_request (a->service, peer_key (e)));
  SOTTO_TEST_WAIT_FOR (e->offline >= 1);

  sotto_test_spin (300);
  g_assert_null (sotto_store_get_contact_by_key (a->store, peer_key (e)));
  g_assert_cmpuint (a->received->len, ==, 0);
  g_assert_cmpuint (outbox_len (e, ea), ==, 1);

  /* Ignore holds: E keeps calling, and is refused without a new request
   * (nothing for the app to notify)... */
  failed = a->failed;
  SOTTO_TEST_WAIT_FOR (a->failed >= failed + 2);
  g_assert_cmpint (a->failed_code, ==, SOTTO_SESSION_ERROR_REFUSED);
  g_assert_cmpuint (a->requests->len, ==, 1);

  /* ... also after A restarts, with the store opened anew. */
  peer_drop_service (a);
  sotto_test_close_store (&a->store);
  a->store = sotto_test_open_store (a->dir, "correct horse", &error);
  g_assert_no_error (error);
  peer_start (a, port);
  failed = a->failed;
  SOTTO_TEST_WAIT_FOR (a->failed >= failed + 2);
  g_assert_cmpint (a->failed_code, ==, SOTTO_SESSION_ERROR_REFUSED);
  g_assert_cmpuint (a->requests->len, ==, 1);
  g_clear_pointer (&requests, g_ptr_array_unref);
  requests = sotto_peer_service_list_requests (a->service);
  g_assert_cmpuint (requests->len, ==, 0);
}

/* An ignore ends: a key ignored until a moment ago is a stranger again,
 * whose request comes through. */
static void
test_request_ignore_expires (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) e = peer_new ("Eve");
  g_autoptr (SottoContact) ea = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gint64 until = g_get_real_time () + 2 * G_USEC_PER_SEC;

  peer_service (a);
  sotto_store_ignore_key_async (a->store, peer_key (e), until, NULL, sotto_test_result_cb,
                                &result);
  g_assert_true (sotto_store_ignore_key_finish (a->store, sotto_test_wait (&result), &error));
  g_assert_no_error (error);
  g_assert_true (sotto_store_is_key_ignored (a->store, peer_key (e)));
  g_assert_false (sotto_store_is_key_ignored (a->store, peer_key (a)));

  peer_start (a, 0);
  peer_start (e, 0);
  ea = add_contact (e, a, a->port);
  SOTTO_TEST_WAIT_FOR (a->failed >= 1);
  g_assert_cmpuint (a->requests->len, ==, 0);
  /* After the end, E's next call is a request. */
  SOTTO_TEST_WAIT_FOR (a->requests->len == 1);
  g_assert_cmpint (g_get_real_time (), >=, until);
  g_assert_false (sotto_store_is_key_ignored (a->store, peer_key (e)));
}

/* A request nobody answers is gone after SOTTO_PEER_REQUEST_EXPIRY_DAYS,
 * not a minute before; the stranger's next call is a new request. */
static void
test_request_expires (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) e = peer_new ("Eve");
  g_autoptr (SottoContact) ea = NULL;
  g_autoptr (GPtrArray) requests = NULL;
  gint64 days = (gint64)SOTTO_PEER_REQUEST_EXPIRY_DAYS * G_TIME_SPAN_DAY;

  peer_start (a, 0);
  peer_start (e, 0);
  ea = add_contact (e, a, a->port);
  SOTTO_TEST_WAIT_FOR (a->requests->len >= 1);
  peer_drop_service (e);

  sotto_peer_service_age_requests (a->service, days - G_TIME_SPAN_MINUTE);
  requests = sotto_peer_service_list_requests (a->service);
  g_assert_cmpuint (requests->len, ==, 1);
  g_clear_pointer (&requests, g_ptr_array_unref);

  sotto_peer_service_age_requests (a->service, 2 * G_TIME_SPAN_MINUTE);
  requests = sotto_peer_service_list_requests (a->service);
  g_assert_cmpuint (requests->len, ==, 0);
  g_clear_pointer (&requests, g_ptr_array_unref);

  peer_start (e, 0);
  SOTTO_TEST_WAIT_FOR (a->requests->len >= 2);
  requests = sotto_peer_service_list_requests (a->service);
  g_assert_cmpuint (requests->len, ==, 1);
}

/* Blocking a request makes the stranger a blocked contact: refused from
 * then on, and nothing of theirs gets through. */
static void
test_request_block (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) e = peer_new ("Eve");
  g_autoptr (SottoContact) ea = NULL;
  g_autoptr (SottoMessage) m = NULL;
  g_autoptr (GPtrArray) requests = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoContact *ae;
  guint failed;

  peer_start (a, 0);
  peer_start (e, 0);
  ea = add_contact (e, a, a->port);
  SOTTO_TEST_WAIT_FOR (a->requests->len >= 1 && e->pending >= 1);
  m = send_message (e, ea, "psst");

  sotto_peer_service_block_request_async (a->service, peer_key (e), NULL,
                                          sotto_test_result_cb, &result);
  g_assert_true (sotto_peer_service_block_request_finish (a->service, sotto_test_wait (&result),
                                                          &error));
  g_assert_no_error (error);

  ae = sotto_store_get_contact_by_key (a->store, peer_key (e));
  g_assert_nonnull (ae);
  g_assert_true (sotto_contact_get_blocked (ae));
  requests = sotto_peer_service_list_requests (a->service);
  g_assert_cmpuint (requests->len, ==, 0);

  /* E keeps calling; A refuses, and never holds a session with E. */
  failed = a->failed;
  SOTTO_TEST_WAIT_FOR (a->failed >= failed + 3);
  g_assert_cmpint (a->failed_code, ==, SOTTO_SESSION_ERROR_REFUSED);
  g_assert_cmpuint (a->requests->len, ==, 1);
  g_assert_cmpuint (a->online, ==, 0);
  g_assert_false (sotto_peer_service_is_online (a->service, ae));
  g_assert_cmpuint (a->received->len, ==, 0);
  g_assert_cmpuint (outbox_len (e, ea), ==, 1);
}

/* Keeping a stranger out is allowed even where no contact may be added:
 * the blocked contact is refused from then on, and Accept is refused. */
static void
test_request_block_adding_forbidden (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) e = peer_new ("Eve");
  g_autoptr (Peer) m = peer_new ("Mallory");
  g_autoptr (SottoContact) ea = NULL;
  g_autoptr (SottoContact) ma = NULL;
  g_autoptr (SottoPolicy) policy = sotto_policy_new (a->settings);
  g_autoptr (GAsyncResult) blocked = NULL;
  g_autoptr (GAsyncResult) accepted = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;
  SottoContact *ae;

  g_settings_set_boolean (a->settings, "allow-adding-contacts", FALSE);
  sotto_store_set_policy (a->store, policy);
  peer_start (a, 0);
  peer_start (e, 0);
  peer_start (m, 0);
  ea = add_contact (e, a, a->port);
  ma = add_contact (m, a, a->port);
  SOTTO_TEST_WAIT_FOR (a->requests->len >= 2);

  sotto_peer_service_accept_request_async (a->service, peer_key (m), NULL, NULL,
                                           sotto_test_result_cb, &accepted);
  contact = sotto_peer_service_accept_request_finish (a->service, sotto_test_wait (&accepted),
                                                      &error);
  g_assert_null (contact);
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_NOT_ALLOWED);
  g_clear_error (&error);
  g_assert_null (sotto_store_get_contact_by_key (a->store, peer_key (m)));

  sotto_peer_service_block_request_async (a->service, peer_key (e), NULL,
                                          sotto_test_result_cb, &blocked);
  g_assert_true (sotto_peer_service_block_request_finish (a->service, sotto_test_wait (&blocked),
                                                          &error));
  g_assert_no_error (error);
  ae = sotto_store_get_contact_by_key (a->store, peer_key (e));
  g_assert_nonnull (ae);
  g_assert_true (sotto_contact_get_blocked (ae));
}

/* Past SOTTO_PEER_MAX_REQUESTS, a new stranger's request drops the
 * oldest one; the cap holds. */
static void
test_request_cap (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (GPtrArray) strangers = g_ptr_array_new_with_free_func ((GDestroyNotify)peer_free);
  g_autoptr (GPtrArray) requests = NULL;
  Peer *first;
  Peer *last;

  peer_start (a, 0);
  for (guint i = 0; i < SOTTO_PEER_MAX_REQUESTS + 1; i++)
    {
      g_autofree char *name = g_strdup_printf ("Stranger %u", i);
      Peer *stranger = peer_new (name);
      g_autoptr (SottoContact) contact = NULL;

      g_ptr_array_add (strangers, stranger);
      peer_start (stranger, 0);
      contact = add_contact (stranger, a, a->port);
      SOTTO_TEST_WAIT_FOR (a->requests->len == i + 1);
      requests = sotto_peer_service_list_requests (a->service);
      g_assert_cmpuint (requests->len, ==, MIN (i + 1, SOTTO_PEER_MAX_REQUESTS));
      g_clear_pointer (&requests, g_ptr_array_unref);
      /* Its session is the stranger's only way in: stop its redials. */
      peer_drop_service (stranger);
    }

  requests = sotto_peer_service_list_requests (a->service);
  g_assert_cmpuint (requests->len, ==, SOTTO_PEER_MAX_REQUESTS);
  first = g_ptr_array_index (strangers, 0);
  last = g_ptr_array_index (strangers, SOTTO_PEER_MAX_REQUESTS);
  for (guint i = 0; i < requests->len; i++)
    {
      SottoPeerRequest *request = g_ptr_array_index (requests, i);

      g_assert_false (memcmp (request->public_key, peer_key (first), SOTTO_KEY_LEN) == 0);
    }
  g_assert_true (memcmp (((SottoPeerRequest *)g_ptr_array_index (requests, requests->len - 1))
                           ->public_key, peer_key (last), SOTTO_KEY_LEN) == 0);
}

/* A connection from @host to @port that never says a word. */
static GSocketConnection *
connect_from (const char *host,
              guint       port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) local = g_inet_socket_address_new_from_string (host, 0);
  g_autoptr (GError) error = NULL;
  GSocketConnection *connection;

  g_socket_client_set_local_address (client, local);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  /* The listener shares this thread: let it take the call before the
   * next one fills its backlog. */
  sotto_test_spin (5);
  return connection;
}

/* Connections that never finish a handshake are capped per address and in
 * total before any key work, the oldest giving way to newcomers; an
 * address that calls too often is refused; a contact still gets in. */
static void
test_handshake_caps (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (GPtrArray) stalled = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  guint refused;

  peer_start (a, 0);

  /* One address: at most SOTTO_PEER_MAX_HANDSHAKING_PER_ADDRESS at once. */
  for (guint i = 0; i < SOTTO_PEER_MAX_HANDSHAKING_PER_ADDRESS + 12; i++)
    g_ptr_array_add (stalled, connect_from ("127.0.0.2", a->port));
  SOTTO_TEST_WAIT_FOR (sotto_peer_service_count_handshaking (a->service) +
                       sotto_peer_service_count_refused_early (a->service) >=
                       SOTTO_PEER_MAX_HANDSHAKING_PER_ADDRESS + 12);
  g_assert_cmpuint (sotto_peer_service_count_handshaking (a->service), ==,
                    SOTTO_PEER_MAX_HANDSHAKING_PER_ADDRESS);
  g_assert_cmpuint (sotto_peer_service_count_refused_early (a->service), ==, 12);
  g_assert_cmpuint (log_count (a, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, "127.0.0.2",
                               sotto_refusal_to_string (SOTTO_REFUSAL_TOO_MANY)), ==, 12);

  /* A contact (from another address) is not kept out by them. */
  ab = add_contact (a, b, 0);
  peer_start (b, 0);
  ba = add_contact (b, a, a->port);
  SOTTO_TEST_WAIT_FOR (a->online >= 1 && b->online >= 1);

  /* Many addresses: at most SOTTO_PEER_MAX_HANDSHAKING in all; the oldest
   * make room for the newest. */
  for (guint host = 3; host < 3 + SOTTO_PEER_MAX_HANDSHAKING / SOTTO_PEER_MAX_HANDSHAKING_PER_ADDRESS + 2; host++)
    {
      g_autofree char *address = g_strdup_printf ("127.0.0.%u", host);

      for (guint i = 0; i < SOTTO_PEER_MAX_HANDSHAKING_PER_ADDRESS; i++)
        g_ptr_array_add (stalled, connect_from (address, a->port));
    }
  refused = sotto_peer_service_count_refused_early (a->service);
  sotto_test_spin (500);
  g_assert_cmpuint (sotto_peer_service_count_handshaking (a->service), ==,
                    SOTTO_PEER_MAX_HANDSHAKING);
  g_assert_cmpuint (sotto_peer_service_count_refused_early (a->service), ==, refused);

  /* One address calling again and again: refused past the rate. */
  for (guint i = 0; i < SOTTO_PEER_HANDSHAKES_PER_MINUTE + 10; i++)
    {
      g_autoptr (GSocketConnection) quick = connect_from ("127.0.0.200", a->port);

      g_io_stream_close (G_IO_STREAM (quick), NULL, NULL);
      /* A sees it, and its end, before the next: only the rate counts. */
      sotto_test_spin (20);
    }
  SOTTO_TEST_WAIT_FOR (sotto_peer_service_count_refused_early (a->service) >= refused + 10);
  /* Logged per address and reason: the evicted, the refused, and those
   * that hung up without a word. */
  g_assert_cmpuint (log_count (a, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, "127.0.0.3",
                               sotto_refusal_to_string (SOTTO_REFUSAL_TOO_MANY)), >=, 1);
  g_assert_cmpuint (log_count (a, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, "127.0.0.200",
                               sotto_refusal_to_string (SOTTO_REFUSAL_TOO_MANY)), >=, 10);
  g_assert_cmpuint (log_count (a, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, "127.0.0.200",
                               sotto_refusal_to_string (SOTTO_REFUSAL_FAILED)), ==,
                    SOTTO_PEER_HANDSHAKES_PER_MINUTE);

  /* The contact's session lived through all of it. */
  g_assert_true (sotto_peer_service_is_online (a->service, ab));
}

/* auto-away-minutes: away at the threshold and not a second before, back
 * when active, as the contact sees; a status the user chose is theirs; 0
 * never. */
static void
test_auto_away (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoAutoAway) away = NULL;

  peer_start (a, 0);
  peer_start (b, 0);
  ab = add_contact (a, b, b->port);
  ba = add_contact (b, a, a->port);
  SOTTO_TEST_WAIT_FOR (a->online >= 1 && b->online >= 1);
  g_settings_set_uint (a->settings, "auto-away-minutes", 2);
  away = sotto_auto_away_new (a->service, a->settings);
  g_assert_cmpuint (sotto_auto_away_get_threshold (away), ==, 120);

  sotto_auto_away_set_idle_time (away, 119);
  g_assert_cmpint (sotto_peer_service_get_status (a->service), ==, SOTTO_STATUS_AVAILABLE);
  sotto_auto_away_set_idle_time (away, 120);
  g_assert_cmpint (sotto_peer_service_get_status (a->service), ==, SOTTO_STATUS_AWAY);
  g_assert_true (sotto_auto_away_is_away (away));
  SOTTO_TEST_WAIT_FOR (sotto_peer_service_get_contact_presence (b->service, ba) ==
                       SOTTO_PRESENCE_AWAY);
  sotto_auto_away_set_idle_time (away, 3);
  g_assert_cmpint (sotto_peer_service_get_status (a->service), ==, SOTTO_STATUS_AVAILABLE);
  g_assert_false (sotto_auto_away_is_away (away));
  SOTTO_TEST_WAIT_FOR (sotto_peer_service_get_contact_presence (b->service, ba) ==
                       SOTTO_PRESENCE_AVAILABLE);

  /* Away by choice stays away when the user comes back. */
  g_assert_true (sotto_peer_service_set_status (a->service, SOTTO_STATUS_AWAY, NULL));
  sotto_auto_away_set_idle_time (away, 500);
  sotto_auto_away_set_idle_time (away, 0);
  g_assert_cmpint (sotto_peer_service_get_status (a->service), ==, SOTTO_STATUS_AWAY);

  /* Made away, then Invisible by choice: still invisible when back. */
  g_assert_true (sotto_peer_service_set_status (a->service, SOTTO_STATUS_AVAILABLE, NULL));
  sotto_auto_away_set_idle_time (away, 500);
  g_assert_cmpint (sotto_peer_service_get_status (a->service), ==, SOTTO_STATUS_AWAY);
  g_assert_true (sotto_peer_service_set_status (a->service, SOTTO_STATUS_INVISIBLE, NULL));
  g_assert_false (sotto_auto_away_is_away (away));
  sotto_auto_away_set_idle_time (away, 0);
  g_assert_cmpint (sotto_peer_service_get_status (a->service), ==, SOTTO_STATUS_INVISIBLE);

  /* Turned off while away: back at once; then never. */
  g_assert_true (sotto_peer_service_set_status (a->service, SOTTO_STATUS_AVAILABLE, NULL));
  sotto_auto_away_set_idle_time (away, 500);
  g_assert_cmpint (sotto_peer_service_get_status (a->service), ==, SOTTO_STATUS_AWAY);
  g_settings_set_uint (a->settings, "auto-away-minutes", 0);
  g_assert_cmpint (sotto_peer_service_get_status (a->service), ==, SOTTO_STATUS_AVAILABLE);
  g_assert_cmpuint (sotto_auto_away_get_threshold (away), ==, 0);
  sotto_auto_away_set_idle_time (away, G_MAXUINT);
  g_assert_cmpint (sotto_peer_service_get_status (a->service), ==, SOTTO_STATUS_AVAILABLE);
}

/* Whether something listens at @host:@port (loopback: refused at once). */
static gboolean
can_connect (const char *host,
             guint       port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;

  connection = g_socket_client_connect_to_host (client, host, port, NULL, NULL);
  if (connection != NULL)
    g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return connection != NULL;
}

/* listen-address: listened on there only; moved when it changes, sessions
 * kept; an interface that is not there means not listening, said, while
 * contacts are still dialled. */
static void
test_listen_address (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) m = NULL;
  guint port;

  g_settings_set_string (a->settings, "listen-address", "127.0.0.2");
  peer_start (a, 0);
  port = a->port;
  g_assert_true (can_connect ("127.0.0.2", port));
  g_assert_false (can_connect ("127.0.0.1", port));

  g_settings_set_string (a->settings, "listen-address", "");
  SOTTO_TEST_WAIT_FOR (can_connect ("127.0.0.1", port));
  g_assert_cmpuint (sotto_peer_service_get_port (a->service), ==, port);

  /* B is A's contact; A listens nowhere, and still calls B. */
  peer_start (b, 0);
  ab = add_contact (a, b, b->port);
  ba = add_contact (b, a, port);
  SOTTO_TEST_WAIT_FOR (a->online >= 1 && b->online >= 1);
  g_settings_set_string (a->settings, "listen-address", "nosuchif0");
  SOTTO_TEST_WAIT_FOR (sotto_peer_service_get_listen_error (a->service) != NULL);
  g_assert_error (sotto_peer_service_get_listen_error (a->service), SOTTO_ERROR,
                  SOTTO_ERROR_NOT_FOUND);
  g_assert_cmpuint (sotto_peer_service_get_port (a->service), ==, 0);
  g_assert_false (can_connect ("127.0.0.1", port));
  /* The session up before is kept. */
  g_assert_true (sotto_peer_service_is_online (a->service, ab));
  m = send_message (b, ba, "still here");
  SOTTO_TEST_WAIT_FOR (a->received->len >= 1);

  /* An interface's name: each of its addresses, the same port. */
  g_settings_set_string (a->settings, "listen-address", "lo");
  SOTTO_TEST_WAIT_FOR (sotto_peer_service_get_listen_error (a->service) == NULL);
  g_assert_true (can_connect ("127.0.0.1", port));
}

/* allowed-networks: a caller outside them is closed before any handshake,
 * and such an address is not dialled; once allowed, the two meet. */
static void
test_allowed_networks (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  const char *office[] = { "10.0.0.0/8", NULL };
  const char *with_loopback[] = { "10.0.0.0/8", "127.0.0.0/8", NULL };

  g_settings_set_strv (a->settings, "allowed-networks", office);
  peer_start (a, 0);
  peer_start (b, 0);
  ab = add_contact (a, b, b->port);
  ba = add_contact (b, a, a->port);

  SOTTO_TEST_WAIT_FOR (sotto_peer_service_count_refused_early (a->service) >= 2);
  g_assert_cmpuint (a->online, ==, 0);
  g_assert_cmpuint (b->online, ==, 0);
  g_assert_cmpuint (sotto_peer_service_count_handshaking (a->service), ==, 0);
  g_assert_cmpuint (log_count (a, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, "127.0.0.1",
                               sotto_refusal_to_string (SOTTO_REFUSAL_NETWORK)), >=, 2);
  g_assert_cmpuint (log_count (a, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, NULL, NULL), ==,
                    sotto_peer_service_count_refused_early (a->service));

  g_settings_set_strv (a->settings, "allowed-networks", with_loopback);
  SOTTO_TEST_WAIT_FOR (a->online >= 1 && b->online >= 1);
}

/* The contact list's filter, on a request: the stranger's name (case and
 * accents aside) or the start of their fingerprint, five digits or more. */
static void
test_request_matches (void)
{
  SottoPeerRequest request = { { 0 } };
  g_autofree char *grouped = NULL;
  g_autofree char *digits = NULL;
  g_autofree char *five = NULL;
  g_autofree char *four = NULL;
  g_autofree char *spaced = NULL;

  for (guint i = 0; i < sizeof request.public_key; i++)
    request.public_key[i] = (guint8)(i * 7 + 1);
  request.display_name = (char *)"Zoë Müller";
  grouped = sotto_fingerprint_for_key (request.public_key);
  digits = sotto_search_digits_only (grouped);
  five = g_strndup (digits, 5);
  four = g_strndup (digits, 4);
  spaced = g_strdup_printf ("%.5s %.3s", digits, digits + 5);

  g_assert_true (sotto_peer_request_matches (&request, NULL));
  g_assert_true (sotto_peer_request_matches (&request, ""));
  g_assert_true (sotto_peer_request_matches (&request, "zoe"));
  g_assert_true (sotto_peer_request_matches (&request, "MULLER"));
  g_assert_false (sotto_peer_request_matches (&request, "zoey"));
  g_assert_true (sotto_peer_request_matches (&request, five));
  g_assert_true (sotto_peer_request_matches (&request, spaced));
  g_assert_false (sotto_peer_request_matches (&request, four));   /* too short for a fingerprint */
  g_assert_false (sotto_peer_request_matches (&request, "99999 99999"));
}

/* With allow-contact-requests off, a stranger is refused outright. */
static void
test_requests_off (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) f = peer_new ("Frank");
  g_autoptr (SottoContact) fa = NULL;
  g_autoptr (GPtrArray) requests = NULL;

  g_settings_set_boolean (a->settings, "allow-contact-requests", FALSE);
  peer_start (a, 0);
  peer_start (f, 0);
  fa = add_contact (f, a, a->port);

  /* Frank only sees the call end: refused before Alice said a word, so
   * never online, never offline. */
  SOTTO_TEST_WAIT_FOR (a->failed >= 2 && f->failed >= 2);
  g_assert_cmpint (a->failed_code, ==, SOTTO_SESSION_ERROR_REFUSED);
  g_assert_cmpuint (f->online, ==, 0);
  g_assert_cmpuint (f->offline, ==, 0);
  g_assert_cmpuint (a->requests->len, ==, 0);
  g_assert_cmpuint (f->pending, ==, 0);
  requests = sotto_peer_service_list_requests (a->service);
  g_assert_cmpuint (requests->len, ==, 0);
  g_assert_cmpuint (log_count (a, SOTTO_SECURITY_EVENT_CONNECTION_REFUSED, "127.0.0.1",
                               sotto_refusal_to_string (SOTTO_REFUSAL_REQUESTS_OFF)), >=, 2);
}

/* A receipt naming ids A never sent to that peer (a random one, one of the
 * peer's own messages, one of A's messages to someone else) changes
 * nothing and signals nothing; the session goes on. */
static void
test_receipt_for_unknown_id (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");      /* only its identity: a raw session speaks */
  g_autoptr (Peer) c = peer_new ("Carol");    /* only its key */
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ac = NULL;
  g_autoptr (SottoMessage) mb = NULL;
  g_autoptr (SottoMessage) mc = NULL;
  g_autoptr (SottoPayload) text = sotto_payload_new (SOTTO_PAYLOAD_TEXT);
  g_autoptr (GPtrArray) history = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *mb_hex = NULL;
  guint8 ids[3 * SOTTO_MESSAGE_UID_LEN];
  RawPeer raw = { 0 };

  raw.identity = sotto_store_get_identity (b->store);
  raw.texts = g_byte_array_new ();
  raw.acks = g_byte_array_new ();
  raw.listener = g_socket_service_new ();
  raw.port = sotto_test_low_free_port ();
  g_socket_listener_add_inet_port (G_SOCKET_LISTENER (raw.listener), (guint16)raw.port, NULL,
                                   &error);
  g_assert_no_error (error);
  g_signal_connect (raw.listener, "incoming", G_CALLBACK (on_raw_incoming_cb), &raw);
  g_socket_service_start (raw.listener);

  peer_start (a, 0);
  ac = add_contact (a, c, 0);
  mc = send_message (a, ac, "for Carol");
  ab = add_contact (a, b, raw.port);
  SOTTO_TEST_WAIT_FOR (raw.established && a->online == 1);

  mb = send_message (a, ab, "for Bob");
  mb_hex = uid_hex (sotto_message_get_uid (mb));
  SOTTO_TEST_WAIT_FOR (raw.texts->len == SOTTO_MESSAGE_UID_LEN);
  g_assert_cmpmem (raw.texts->data, SOTTO_MESSAGE_UID_LEN,
                   sotto_message_get_uid (mb), SOTTO_MESSAGE_UID_LEN);

  /* One message of B's own, which A stores. */
  randombytes_buf (text->uid, SOTTO_MESSAGE_UID_LEN);
  text->timestamp = g_get_real_time ();
  text->body = g_strdup ("from Bob");
  raw_send (&raw, text);
  SOTTO_TEST_WAIT_FOR (a->received->len == 1);

  /* Unknown, B's own (incoming at A), A's to Carol; then the real one.
   * The store takes them in order, so once the last is applied the
   * others have been too. */
  randombytes_buf (ids, SOTTO_MESSAGE_UID_LEN);
  memcpy (ids + SOTTO_MESSAGE_UID_LEN, text->uid, SOTTO_MESSAGE_UID_LEN);
  memcpy (ids + 2 * SOTTO_MESSAGE_UID_LEN, sotto_message_get_uid (mc), SOTTO_MESSAGE_UID_LEN);
  raw_send_receipt (&raw, ids, 3);
  /* Read, too: nothing of ours has the unknown id, nothing is read. */
  {
    g_autoptr (SottoPayload) read = sotto_payload_new (SOTTO_PAYLOAD_RECEIPT);

    read->receipt_state = SOTTO_RECEIPT_READ;
    read->n_ids = 1;
    read->ids = g_memdup2 (ids, SOTTO_MESSAGE_UID_LEN);
    raw_send (&raw, read);
  }
  raw_send_receipt (&raw, sotto_message_get_uid (mb), 1);

  SOTTO_TEST_WAIT_FOR (a->delivered->len >= 1);
  sotto_test_spin (200);
  g_assert_cmpuint (a->delivered->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (a->delivered, 0), ==, mb_hex);
  g_assert_cmpuint (a->read->len, ==, 0);
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);
  g_assert_cmpuint (outbox_len (a, ac), ==, 1);
  history = sotto_test_full_history (a->store, ac, 10);
  g_assert_cmpuint (history->len, ==, 1);
  g_assert_cmpint (sotto_message_get_state (g_ptr_array_index (history, 0)), !=,
                   SOTTO_MESSAGE_DELIVERED);

  g_assert_true (sotto_peer_service_is_online (a->service, ab));
  g_assert_cmpuint (a->offline, ==, 0);
  g_assert_cmpuint (raw.closed, ==, 0);

  peer_drop_service (a);
  SOTTO_TEST_WAIT_FOR (raw.closed == 1);
  raw_clear (&raw);
}

/* A contact that takes every call and drops it as soon as a message
 * arrives, as one whose disk is full does. */
typedef struct
{
  SottoIdentity  *identity;
  GSocketService *listener;
  guint           port;
  GPtrArray      *sessions;
  guint           calls;
} DroppingPeer;

static gboolean
drop_session_cb (gpointer user_data)
{
  sotto_session_close (user_data, NULL);
  return G_SOURCE_REMOVE;
}

static void
on_dropping_payload_cb (SottoSession *session,
                        gpointer      payload_ptr,
                        DroppingPeer *peer)
{
  const SottoPayload *payload = payload_ptr;

  if (payload->kind == SOTTO_PAYLOAD_TEXT)
    g_idle_add_full (G_PRIORITY_DEFAULT, drop_session_cb, g_object_ref (session), g_object_unref);
}

static void
on_dropping_established_cb (SottoSession *session,
                            DroppingPeer *peer)
{
  g_autoptr (SottoPayload) presence = sotto_payload_new (SOTTO_PAYLOAD_PRESENCE);

  presence->presence = SOTTO_PRESENCE_AVAILABLE;
  g_assert_true (sotto_session_send (session, presence, NULL));
}

static gboolean
on_dropping_incoming_cb (GSocketService    *service,
                         GSocketConnection *connection,
                         GObject           *source,
                         DroppingPeer      *peer)
{
  SottoHello hello = { SOTTO_PROTOCOL_VERSION, (char *)"Bob", (guint16)peer->port, 0, (char *)"" };
  SottoSession *session = sotto_session_new (connection, peer->identity, &hello, NULL);

  peer->calls++;
  sotto_session_set_auth_func (session, raw_auth_cb, NULL);
  g_signal_connect (session, "established", G_CALLBACK (on_dropping_established_cb), peer);
  g_signal_connect (session, "payload-received", G_CALLBACK (on_dropping_payload_cb), peer);
  g_ptr_array_add (peer->sessions, session);
  sotto_session_start (session);
  return TRUE;
}

/* A session that the contact drops at once counts as a failed call: the
 * next call waits as long as after a call nobody answered, and longer
 * each time. Before, every dropped session was called again at once. */
static void
test_dropped_sessions_back_off (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");      /* only its identity: a dropping peer speaks */
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (GError) error = NULL;
  DroppingPeer drop = { 0 };
  guint calls;

  drop.identity = sotto_store_get_identity (b->store);
  drop.sessions = g_ptr_array_new_with_free_func (g_object_unref);
  drop.listener = g_socket_service_new ();
  drop.port = sotto_test_low_free_port ();
  g_assert_true (g_socket_listener_add_inet_port (G_SOCKET_LISTENER (drop.listener),
                                                  (guint16)drop.port, NULL, &error));
  g_assert_no_error (error);
  g_signal_connect (drop.listener, "incoming", G_CALLBACK (on_dropping_incoming_cb), &drop);
  g_socket_service_start (drop.listener);

  /* Waits of 50, 100, 200, 400, then 800 ms (each ±25 %). */
  sotto_peer_service_set_backoff (peer_service (a), 50, 800);
  peer_start (a, 0);
  ab = add_contact (a, b, drop.port);
  g_object_unref (send_message (a, ab, "into a full disk"));

  SOTTO_TEST_WAIT_FOR (drop.calls >= 1);
  calls = drop.calls;
  sotto_test_spin (2000);
  calls = drop.calls - calls;
  g_test_message ("%u calls in 2 s", calls);
  /* At most 6 with the shortest waits (37, 75, 150, 300, 600, 600 ms). */
  g_assert_cmpuint (calls, <=, 6);
  g_assert_cmpuint (calls, >=, 3);

  peer_drop_service (a);
  g_socket_service_stop (drop.listener);
  g_socket_listener_close (G_SOCKET_LISTENER (drop.listener));
  g_clear_object (&drop.listener);
  for (guint i = 0; i < drop.sessions->len; i++)
    sotto_session_close (g_ptr_array_index (drop.sessions, i), NULL);
  sotto_test_spin (50);
  g_ptr_array_unref (drop.sessions);
}

static void
on_write_error_notify_cb (SottoStore *store,
                          GParamSpec *pspec,
                          guint      *changes)
{
  (*changes)++;
}

/* A receiver whose disk is full (SQLite's own limit on the database's
 * size: the same SQLITE_FULL) takes nothing it can't write, says so, and
 * once a write works again calls the sender back at once: every message
 * arrives once, none is lost. */
static void
test_disk_full (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autofree char *filler = g_strnfill (3000, 'x');
  const guint n = 30;
  guint changes = 0;

  _sotto_store_set_write_retry_ms (b->store, 100);
  g_signal_connect (b->store, "notify::write-error", G_CALLBACK (on_write_error_notify_cb),
                    &changes);
  peer_start (a, 0);
  peer_start (b, 0);
  ba = add_contact (b, a, a->port);
  ab = add_contact (a, b, b->port);
  SOTTO_TEST_WAIT_FOR (a->online == 1 && b->online == 1);
  /* From now on a slow backoff: only the call back on recovery can be
   * quick. */
  sotto_peer_service_set_backoff (peer_service (a), 60000, 60000);
  sotto_peer_service_set_backoff (peer_service (b), 60000, 60000);

  /* No page more than the database has now. */
  g_assert_true (sotto_test_store_exec (b->store, "PRAGMA max_page_count = 1", NULL));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *body = g_strdup_printf ("%u %s", i, filler);

      g_object_unref (send_message (a, ab, body));
    }

  SOTTO_TEST_WAIT_FOR (sotto_store_get_write_error (b->store) != NULL);
  g_assert_error ((GError *)sotto_store_get_write_error (b->store), SOTTO_ERROR, SOTTO_ERROR_STORE);
  g_assert_nonnull (strstr (sotto_store_get_write_error (b->store)->message, "full"));
  g_assert_cmpuint (changes, ==, 1);
  sotto_test_spin (500);
  /* Told once, however many writes failed; what was refused waits. */
  g_assert_cmpuint (changes, ==, 1);
  g_assert_cmpuint (b->received->len, <, n);
  g_assert_cmpuint (outbox_len (a, ab), ==, n - b->received->len);

  /* Space again: the probe finds it, B calls A back at once. */
  g_assert_true (sotto_test_store_exec (b->store, "PRAGMA max_page_count = 1000000", NULL));
  SOTTO_TEST_WAIT_FOR (sotto_store_get_write_error (b->store) == NULL);
  g_assert_cmpuint (changes, ==, 2);
  SOTTO_TEST_WAIT_FOR (b->received->len >= n && a->delivered->len >= n);
  sotto_test_spin (300);  /* room for a duplicate */
  g_assert_cmpuint (b->received->len, ==, n);
  g_assert_cmpuint (a->delivered->len, ==, n);
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("%u ", i);

      g_assert_true (g_str_has_prefix (g_ptr_array_index (b->received, i), prefix));
    }
}

/* A stranger whose hello says it does not listen: accepted, it becomes
 * a contact without an address (the port it called from is not one to
 * call back on); one whose hello gives a port is kept with that port. */
/* The contact's current address goes first, without repeats, at most 8;
 * the name in the hello of a known contact changes nothing (PROTOCOL.md,
 * Connections). */
static void
test_learned_addresses (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (SottoIdentity) bob = sotto_identity_generate ("Bob", NULL);
  g_autoptr (SottoInvite) invite = NULL;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) known = g_ptr_array_new_with_free_func (g_free);
  const guint ports[] = { 4444, 4444, 5555 };

  /* Eight addresses nobody answers at (TEST-NET-1), the invite's limit. */
  for (guint i = 0; i < SOTTO_INVITE_MAX_ADDRESSES; i++)
    g_ptr_array_add (known, g_strdup_printf ("192.0.2.%u:7", i + 1));
  g_ptr_array_add (known, NULL);
  invite = sotto_invite_new (sotto_identity_get_public_key (bob), "Robert",
                             (const char * const *)known->pdata, &error);
  g_assert_no_error (error);
  sotto_store_add_contact_async (a->store, invite, NULL, NULL, sotto_test_result_cb, &result);
  contact = sotto_store_add_contact_finish (a->store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  peer_start (a, 0);

  for (guint round = 0; round < G_N_ELEMENTS (ports); round++)
    {
      g_autofree char *expected = g_strdup_printf ("127.0.0.1:%u", ports[round]);
      const char * const *addresses;
      RawPeer raw = { 0 };

      raw.identity = bob;
      raw.texts = g_byte_array_new ();
      raw.acks = g_byte_array_new ();
      raw.states = g_ptr_array_new ();
      raw.hello_port = ports[round];
      raw_dial (&raw, a->port, peer_key (a));
      SOTTO_TEST_WAIT_FOR (sotto_contact_get_addresses (contact) != NULL &&
                           g_strcmp0 (sotto_contact_get_addresses (contact)[0], expected) == 0);
      sotto_test_spin (50);

      addresses = sotto_contact_get_addresses (contact);
      g_assert_cmpuint (g_strv_length ((char **)addresses), ==, SOTTO_INVITE_MAX_ADDRESSES);
      g_assert_cmpstr (addresses[0], ==, expected);
      if (round < 2)
        {
          /* The same address again changes nothing. */
          for (guint i = 1; i < SOTTO_INVITE_MAX_ADDRESSES; i++)
            g_assert_cmpstr (addresses[i], ==, g_ptr_array_index (known, i - 1));
        }
      else
        {
          g_assert_cmpstr (addresses[1], ==, "127.0.0.1:4444");
          for (guint i = 2; i < SOTTO_INVITE_MAX_ADDRESSES; i++)
            g_assert_cmpstr (addresses[i], ==, g_ptr_array_index (known, i - 2));
        }
      /* The hello said "Alice": the contact is still Robert. */
      g_assert_cmpstr (sotto_contact_get_name (contact), ==, "Robert");
      raw_clear (&raw);
    }
}

static void
test_request_address (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");

  peer_start (a, 0);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (SottoIdentity) stranger = sotto_identity_generate (i == 0 ? "Erin" : "Frank", NULL);
      g_autoptr (SottoContact) contact = NULL;
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (GError) error = NULL;
      const char * const *addresses;
      RawPeer raw = { 0 };

      raw.identity = stranger;
      raw.texts = g_byte_array_new ();
      raw.acks = g_byte_array_new ();
      raw.states = g_ptr_array_new ();
      raw.hello_port = i == 0 ? 0 : 4444;
      raw_dial (&raw, a->port, peer_key (a));
      SOTTO_TEST_WAIT_FOR (a->requests->len == i + 1 && raw.states->len >= 1);
      g_assert_cmpuint (GPOINTER_TO_UINT (g_ptr_array_index (raw.states, 0)), ==,
                        SOTTO_REQUEST_PENDING);

      sotto_peer_service_accept_request_async (a->service, sotto_identity_get_public_key (stranger),
                                               NULL, NULL, sotto_test_result_cb, &result);
      contact = sotto_peer_service_accept_request_finish (a->service, sotto_test_wait (&result),
                                                          &error);
      g_assert_no_error (error);
      addresses = sotto_contact_get_addresses (contact);
      if (i == 0)
        g_assert_true (addresses == NULL || addresses[0] == NULL);
      else
        {
          g_assert_nonnull (addresses);
          g_assert_cmpstr (addresses[0], ==, "127.0.0.1:4444");
          g_assert_null (addresses[1]);
        }
      raw_clear (&raw);
    }
}

/* REQUEST_STATE is the responder's word about the session: from the
 * initiator it means nothing, and changes nothing. */
static void
test_request_state_from_initiator (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");      /* only its identity: a raw session speaks */
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoPayload) text = sotto_payload_new (SOTTO_PAYLOAD_TEXT);
  RawPeer raw = { 0 };

  raw.identity = sotto_store_get_identity (b->store);
  raw.texts = g_byte_array_new ();
  raw.acks = g_byte_array_new ();
  peer_start (a, 0);
  ab = add_contact (a, b, 0);
  raw_dial (&raw, a->port, peer_key (a));
  SOTTO_TEST_WAIT_FOR (a->online == 1);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (SottoPayload) state = sotto_payload_new (SOTTO_PAYLOAD_REQUEST_STATE);

      state->request_state = i == 0 ? SOTTO_REQUEST_PENDING : SOTTO_REQUEST_ACCEPTED;
      raw_send (&raw, state);
    }
  /* Payloads are handled in order: once the text is in, so are they. */
  randombytes_buf (text->uid, SOTTO_MESSAGE_UID_LEN);
  text->timestamp = g_get_real_time ();
  text->body = g_strdup ("after the states");
  raw_send (&raw, text);
  SOTTO_TEST_WAIT_FOR (a->received->len == 1);

  g_assert_cmpuint (a->pending, ==, 0);
  g_assert_cmpuint (a->accepted, ==, 0);
  g_assert_cmpuint (a->offline, ==, 0);
  g_assert_true (sotto_peer_service_is_online (a->service, ab));
  raw_clear (&raw);
}

/* A calls again while B still holds A's first session (A lost it without
 * B noticing): B keeps the new one, closes the old, and sends again on
 * the new one what A had not acknowledged. */
static void
test_redial_replaces (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");    /* only its identity: raw sessions speak */
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) m = NULL;
  RawPeer first = { 0 };
  RawPeer second = { 0 };

  first.identity = second.identity = sotto_store_get_identity (a->store);
  first.texts = g_byte_array_new ();
  first.acks = g_byte_array_new ();
  second.texts = g_byte_array_new ();
  second.acks = g_byte_array_new ();

  peer_start (b, 0);
  ba = add_contact (b, a, 0);
  m = send_message (b, ba, "did you get this?");

  raw_dial (&first, b->port, peer_key (b));
  SOTTO_TEST_WAIT_FOR (first.texts->len == SOTTO_MESSAGE_UID_LEN);

  /* Well within the tie window, and with the same initiator. */
  raw_dial (&second, b->port, peer_key (b));
  SOTTO_TEST_WAIT_FOR (first.closed == 1);
  SOTTO_TEST_WAIT_FOR (second.texts->len == SOTTO_MESSAGE_UID_LEN);
  g_assert_cmpmem (second.texts->data, SOTTO_MESSAGE_UID_LEN,
                   sotto_message_get_uid (m), SOTTO_MESSAGE_UID_LEN);
  g_assert_cmpuint (second.closed, ==, 0);
  g_assert_true (sotto_peer_service_is_online (b->service, ba));
  g_assert_cmpuint (b->offline, ==, 0);  /* replaced quietly */

  raw_send_receipt (&second, sotto_message_get_uid (m), 1);
  SOTTO_TEST_WAIT_FOR (b->delivered->len == 1);
  g_assert_cmpuint (outbox_len (b, ba), ==, 0);

  peer_drop_service (b);
  raw_clear (&first);
  raw_clear (&second);
}

/* A retried message (twice on one session, again on the next) is shown
 * once and acknowledged every time; a TEXT that reuses the id of one of
 * B's own messages is refused and ends the session. */
static void
test_duplicate (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");    /* only its identity: a raw session speaks */
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) own = NULL;
  g_autoptr (SottoPayload) text = sotto_payload_new (SOTTO_PAYLOAD_TEXT);
  g_autoptr (SottoPayload) forged = sotto_payload_new (SOTTO_PAYLOAD_TEXT);
  g_autoptr (GPtrArray) history = NULL;
  RawPeer raw = { 0 };

  raw.identity = sotto_store_get_identity (a->store);
  raw.texts = g_byte_array_new ();
  raw.acks = g_byte_array_new ();

  peer_start (b, 0);
  ba = add_contact (b, a, 0);
  raw_dial (&raw, b->port, peer_key (b));
  SOTTO_TEST_WAIT_FOR (b->online == 1);

  randombytes_buf (text->uid, SOTTO_MESSAGE_UID_LEN);
  text->timestamp = g_get_real_time ();
  text->body = g_strdup ("say it twice");
  raw_send (&raw, text);
  raw_send (&raw, text);
  SOTTO_TEST_WAIT_FOR (raw.acks->len == 2 * SOTTO_MESSAGE_UID_LEN);

  /* A new session, as after a lost receipt: once more. */
  sotto_session_close (raw.session, NULL);
  SOTTO_TEST_WAIT_FOR (b->offline == 1);
  raw_dial (&raw, b->port, peer_key (b));
  SOTTO_TEST_WAIT_FOR (b->online == 2);
  raw_send (&raw, text);
  SOTTO_TEST_WAIT_FOR (raw.acks->len == 3 * SOTTO_MESSAGE_UID_LEN);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpmem (raw.acks->data + i * SOTTO_MESSAGE_UID_LEN, SOTTO_MESSAGE_UID_LEN,
                     text->uid, SOTTO_MESSAGE_UID_LEN);
  g_assert_cmpuint (b->received->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (b->received, 0), ==, "say it twice");

  /* B writes to A; A answers with a TEXT under that message's id. */
  own = send_message (b, ba, "mine");
  SOTTO_TEST_WAIT_FOR (raw.texts->len == SOTTO_MESSAGE_UID_LEN);
  memcpy (forged->uid, sotto_message_get_uid (own), SOTTO_MESSAGE_UID_LEN);
  forged->timestamp = g_get_real_time ();
  forged->body = g_strdup ("yours, really");
  raw_send (&raw, forged);
  SOTTO_TEST_WAIT_FOR (raw.closed == 2);
  sotto_test_spin (100);
  g_assert_cmpuint (raw.acks->len, ==, 3 * SOTTO_MESSAGE_UID_LEN);
  g_assert_cmpuint (b->received->len, ==, 1);
  g_assert_cmpuint (b->offline, ==, 2);

  history = sotto_test_full_history (b->store, ba, 10);
  g_assert_cmpuint (history->len, ==, 2);
  g_assert_cmpint (sotto_message_get_direction (g_ptr_array_index (history, 1)), ==,
                   SOTTO_DIRECTION_OUT);
  g_assert_cmpstr (sotto_message_get_body (g_ptr_array_index (history, 1)), ==, "mine");

  peer_drop_service (b);
  raw_clear (&raw);
}

/* Stopping keeps what is queued; a stopped service sends nothing, even
 * when asked to; the same service, started again, sends it all once the
 * peer is there. */
static void
test_stop_keeps_outbox (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (GPtrArray) sent = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GSocketClient) client = sotto_test_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GError) error = NULL;
  guint port_b = free_port ();
  guint port_a;

  peer_start (a, 0);
  port_a = a->port;
  ba = add_contact (b, a, 0);  /* B never dials A */
  ab = add_contact (a, b, port_b);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *body = g_strdup_printf ("queued %u", i);

      g_ptr_array_add (sent, send_message (a, ab, body));
    }
  sotto_test_spin (100);

  sotto_peer_service_stop (a->service);
  g_assert_cmpuint (sotto_peer_service_get_port (a->service), ==, 0);
  g_assert_cmpuint (outbox_len (a, ab), ==, 3);
  /* Not listening any more. */
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16)port_a, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_null (connection);

  /* Started again while B is away: still queued. */
  peer_start (a, 0);
  sotto_test_spin (200);
  g_assert_cmpuint (outbox_len (a, ab), ==, 3);
  g_assert_cmpuint (a->online, ==, 0);

  /* Stopped, B there, one more written: nothing leaves. */
  sotto_peer_service_stop (a->service);
  peer_start (b, port_b);
  g_ptr_array_add (sent, send_message (a, ab, "queued 3"));
  sotto_test_spin (300);
  g_assert_cmpuint (b->online, ==, 0);
  g_assert_cmpuint (b->received->len, ==, 0);
  g_assert_cmpuint (outbox_len (a, ab), ==, 4);

  peer_start (a, 0);
  SOTTO_TEST_WAIT_FOR (b->received->len >= 4 && a->delivered->len >= 4);
  sotto_test_spin (200);
  g_assert_cmpuint (b->received->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *body = g_strdup_printf ("queued %u", i);
      g_autofree char *hex = uid_hex (sotto_message_get_uid (g_ptr_array_index (sent, i)));

      g_assert_cmpstr (g_ptr_array_index (b->received, i), ==, body);
      g_assert_cmpuint (count_str (a->delivered, hex), ==, 1);
    }
  g_assert_cmpuint (a->delivered->len, ==, 4);
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Read receipts, the sent state, our own status                      */

static GPtrArray *
peer_mark_read (Peer         *peer,
                SottoContact *contact,
                gint64        up_to_id)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *uids;

  sotto_peer_service_mark_read_async (peer->service, contact, up_to_id, NULL,
                                      sotto_test_result_cb, &result);
  uids = sotto_peer_service_mark_read_finish (peer->service, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (uids);
  return uids;
}

/* The id of the newest message in @peer's conversation with @contact. */
static gint64
newest_id (Peer         *peer,
           SottoContact *contact)
{
  g_autoptr (GPtrArray) history = sotto_test_full_history (peer->store, contact, 100);

  g_assert_cmpuint (history->len, >, 0);
  return sotto_message_get_id (g_ptr_array_index (history, history->len - 1));
}

static SottoMessageState
stored_state (Peer         *peer,
              SottoContact *contact,
              SottoMessage *message)
{
  g_autoptr (GPtrArray) history = sotto_test_full_history (peer->store, contact, 100);

  for (guint i = 0; i < history->len; i++)
    if (sotto_message_get_id (g_ptr_array_index (history, i)) == sotto_message_get_id (message))
      return sotto_message_get_state (g_ptr_array_index (history, i));
  g_assert_not_reached ();
}

/* B reads what A wrote; A hears of it if B's send-read-receipts (as it is
 * when B marks read) says so. Marked read while A is away, never told. */
static void
test_read_receipts (gconstpointer data)
{
  gboolean send = GPOINTER_TO_INT (data);
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) m1 = NULL;
  g_autoptr (SottoMessage) m2 = NULL;
  g_autoptr (SottoMessage) m3 = NULL;
  g_autoptr (GPtrArray) uids = NULL;
  g_autofree char *hex1 = NULL;
  g_autofree char *hex2 = NULL;

  peer_start (a, 0);
  peer_start (b, 0);
  ba = add_contact (b, a, 0);
  ab = add_contact (a, b, b->port);
  SOTTO_TEST_WAIT_FOR (a->online == 1 && b->online == 1);
  /* After the start: the service reads the setting when it marks read. */
  g_settings_set_boolean (b->settings, "send-read-receipts", send);

  m1 = send_message (a, ab, "read me");
  m2 = send_message (a, ab, "and me");
  hex1 = uid_hex (sotto_message_get_uid (m1));
  hex2 = uid_hex (sotto_message_get_uid (m2));
  SOTTO_TEST_WAIT_FOR (b->received->len == 2 && a->delivered->len == 2);

  uids = peer_mark_read (b, ba, newest_id (b, ba));
  g_assert_cmpuint (uids->len, ==, 2);
  g_clear_pointer (&uids, g_ptr_array_unref);

  if (send)
    {
      SOTTO_TEST_WAIT_FOR (a->read->len == 2);
      g_assert_cmpstr (g_ptr_array_index (a->read, 0), ==, hex1);
      g_assert_cmpstr (g_ptr_array_index (a->read, 1), ==, hex2);
      SOTTO_TEST_WAIT_FOR (stored_state (a, ab, m2) == SOTTO_MESSAGE_READ);
      g_assert_cmpint (stored_state (a, ab, m1), ==, SOTTO_MESSAGE_READ);
    }
  else
    {
      sotto_test_spin (300);
      g_assert_cmpuint (a->read->len, ==, 0);
      g_assert_cmpint (stored_state (a, ab, m1), ==, SOTTO_MESSAGE_DELIVERED);
      g_assert_cmpint (stored_state (a, ab, m2), ==, SOTTO_MESSAGE_DELIVERED);
    }

  /* Nothing new to mark: nothing sent. */
  uids = peer_mark_read (b, ba, newest_id (b, ba));
  g_assert_cmpuint (uids->len, ==, 0);
  g_clear_pointer (&uids, g_ptr_array_unref);

  /* Read while A is away: best effort, so A never hears of it. */
  m3 = send_message (a, ab, "read me later");
  SOTTO_TEST_WAIT_FOR (b->received->len == 3 && a->delivered->len == 3);
  sotto_peer_service_stop (a->service);
  SOTTO_TEST_WAIT_FOR (b->offline == 1);
  uids = peer_mark_read (b, ba, newest_id (b, ba));
  g_assert_cmpuint (uids->len, ==, 1);
  peer_start (a, 0);
  SOTTO_TEST_WAIT_FOR (a->online == 2 && b->online == 2);
  sotto_test_spin (300);
  g_assert_cmpuint (a->read->len, ==, send ? 2 : 0);
  g_assert_cmpint (stored_state (a, ab, m3), ==, SOTTO_MESSAGE_DELIVERED);
}

/* More ids than one receipt may carry go out in several, in order. */
static void
test_read_receipts_split (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");    /* only its identity: a raw session speaks */
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (GByteArray) sent = g_byte_array_new ();
  g_autoptr (GPtrArray) uids = NULL;
  const guint n = SOTTO_PAYLOAD_MAX_RECEIPT_IDS + 44;
  RawPeer raw = { 0 };

  raw.identity = sotto_store_get_identity (a->store);
  raw.texts = g_byte_array_new ();
  raw.acks = g_byte_array_new ();
  raw.reads = g_byte_array_new ();

  peer_start (b, 0);
  ba = add_contact (b, a, 0);
  raw_dial (&raw, b->port, peer_key (b));
  SOTTO_TEST_WAIT_FOR (b->online == 1);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SottoPayload) text = sotto_payload_new (SOTTO_PAYLOAD_TEXT);

      randombytes_buf (text->uid, SOTTO_MESSAGE_UID_LEN);
      text->timestamp = g_get_real_time ();
      text->body = g_strdup_printf ("message %u", i);
      raw_send (&raw, text);
      g_byte_array_append (sent, text->uid, SOTTO_MESSAGE_UID_LEN);
    }
  SOTTO_TEST_WAIT_FOR (raw.acks->len == n * SOTTO_MESSAGE_UID_LEN && b->received->len == n);

  uids = peer_mark_read (b, ba, newest_id (b, ba));
  g_assert_cmpuint (uids->len, ==, n);
  SOTTO_TEST_WAIT_FOR (raw.reads->len == n * SOTTO_MESSAGE_UID_LEN);
  g_assert_cmpuint (raw.read_payloads, ==, 2);
  g_assert_cmpmem (raw.reads->data, raw.reads->len, sent->data, sent->len);

  peer_drop_service (b);
  raw_clear (&raw);
}

typedef struct
{
  gint64            id;
  SottoMessageState state;
} StateChange;

static void
on_state_notify_cb (SottoMessage *message,
                    GParamSpec   *pspec,
                    GArray       *log)
{
  StateChange change = { sotto_message_get_id (message), sotto_message_get_state (message) };

  g_array_append_val (log, change);
}

static void
on_model_items_changed_cb (GListModel *model,
                           guint       position,
                           guint       removed,
                           guint       added,
                           GArray     *log)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr (SottoMessage) message = g_list_model_get_item (model, i);

      g_signal_connect (message, "notify::state", G_CALLBACK (on_state_notify_cb), log);
    }
}

/* The states @log saw @message take, as a string: "sent delivered". */
static char *
states_seen (GArray       *log,
             SottoMessage *message)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) states = NULL;

  for (guint i = 0; i < log->len; i++)
    if (g_array_index (log, StateChange, i).id == sotto_message_get_id (message))
      {
        SottoMessageState state = g_array_index (log, StateChange, i).state;

        g_strv_builder_add (builder, sotto_message_state_to_string (state));
      }
  states = g_strv_builder_end (builder);
  return g_strjoinv (" ", states);
}

/* A conversation view sees a message go sent (nothing written), then
 * delivered, then read, and never back, whatever order the news comes in. */
static void
test_sent_state (void)
{
  g_autoptr (GArray) log = g_array_new (FALSE, FALSE, sizeof (StateChange));
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoConversationModel) model = NULL;
  g_autoptr (SottoMessage) m = NULL;
  g_autoptr (GPtrArray) uids = NULL;
  g_autofree char *seen = NULL;

  peer_start (a, 0);
  peer_start (b, 0);
  ba = add_contact (b, a, 0);
  ab = add_contact (a, b, b->port);
  SOTTO_TEST_WAIT_FOR (a->online == 1 && b->online == 1);

  model = sotto_conversation_model_new (a->store, ab);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_model_items_changed_cb), log);
  SOTTO_TEST_WAIT_FOR (!sotto_conversation_model_get_loading (model));

  m = send_message (a, ab, "watch me go");
  {
    g_autoptr (SottoMessage) shown = g_list_model_get_item (G_LIST_MODEL (model), 0);

    g_assert_true (shown == m);
  }
  SOTTO_TEST_WAIT_FOR (a->delivered->len == 1 && sotto_message_get_state (m) == SOTTO_MESSAGE_DELIVERED);
  seen = states_seen (log, m);
  g_assert_cmpstr (seen, ==, "sent delivered");
  g_clear_pointer (&seen, g_free);
  /* "Sent" was never written. */
  g_assert_cmpint (stored_state (a, ab, m), ==, SOTTO_MESSAGE_DELIVERED);

  /* A resend listed before the receipt came back: noted as sent after it
   * was delivered, it does not move the message back. */
  sotto_store_note_sent (a->store, sotto_contact_get_id (ab), sotto_message_get_id (m));
  g_assert_cmpint (sotto_message_get_state (m), ==, SOTTO_MESSAGE_DELIVERED);

  uids = peer_mark_read (b, ba, newest_id (b, ba));
  g_assert_cmpuint (uids->len, ==, 1);
  SOTTO_TEST_WAIT_FOR (sotto_message_get_state (m) == SOTTO_MESSAGE_READ);
  sotto_store_note_sent (a->store, sotto_contact_get_id (ab), sotto_message_get_id (m));
  {
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GError) error = NULL;

    sotto_store_mark_delivered_async (a->store, ab, sotto_message_get_uid (m), NULL,
                                      sotto_test_result_cb, &result);
    g_assert_false (sotto_store_mark_delivered_finish (a->store, sotto_test_wait (&result),
                                                       &error));
    g_assert_no_error (error);
  }
  sotto_test_spin (100);
  g_assert_cmpint (sotto_message_get_state (m), ==, SOTTO_MESSAGE_READ);
  seen = states_seen (log, m);
  g_assert_cmpstr (seen, ==, "sent delivered read");

  g_signal_handlers_disconnect_by_data (m, log);
}

static void
count_notify_cb (guint *count)
{
  (*count)++;
}

/* Invisible, A looks to B as if it had stopped: B sees it go, can't
 * reach it, and what either writes waits. Visible again (away), on the
 * same port, it all flows, and B learns the new presence. */
static void
test_status_invisible (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) from_a = NULL;
  g_autoptr (SottoMessage) from_b = NULL;
  g_autoptr (GSocketClient) client = sotto_test_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GError) error = NULL;
  SottoStatus status = SOTTO_STATUS_INVISIBLE;
  guint notified = 0;
  guint port_a;

  peer_start (a, 0);
  peer_start (b, 0);
  port_a = a->port;
  /* Only A dials at first (two at once would make one drop); B learns
   * where A is, and calls there from then on. */
  ba = add_contact (b, a, 0);
  ab = add_contact (a, b, b->port);
  SOTTO_TEST_WAIT_FOR (a->online == 1 && b->online == 1);
  SOTTO_TEST_WAIT_FOR (sotto_contact_get_addresses (ba)[0] != NULL);
  SOTTO_TEST_WAIT_FOR (sotto_peer_service_get_contact_presence (b->service, ba) == SOTTO_PRESENCE_AVAILABLE);
  g_signal_connect_swapped (a->service, "notify::status", G_CALLBACK (count_notify_cb), &notified);

  g_assert_true (sotto_peer_service_set_status (a->service, SOTTO_STATUS_INVISIBLE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sotto_peer_service_get_status (a->service), ==, SOTTO_STATUS_INVISIBLE);
  g_assert_cmpuint (notified, ==, 1);
  /* Our side hears of it at once: nobody is online for us any more. */
  g_assert_cmpuint (a->offline, ==, 1);
  g_assert_false (sotto_peer_service_is_online (a->service, ab));
  SOTTO_TEST_WAIT_FOR (b->offline == 1);
  g_assert_false (sotto_peer_service_is_online (b->service, ba));
  g_assert_cmpint (sotto_peer_service_get_contact_presence (b->service, ba), ==,
                   SOTTO_PRESENCE_OFFLINE);
  g_assert_cmpuint (sotto_peer_service_get_port (a->service), ==, 0);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16)port_a, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_null (connection);
  g_clear_error (&error);

  /* The same again changes nothing. */
  g_assert_true (sotto_peer_service_set_status (a->service, SOTTO_STATUS_INVISIBLE, NULL));
  g_assert_cmpuint (notified, ==, 1);

  from_a = send_message (a, ab, "written while invisible");
  from_b = send_message (b, ba, "written while you hide");
  sotto_test_spin (500);  /* B dials again and again, A dials not at all */
  g_assert_cmpuint (a->online, ==, 1);
  g_assert_cmpuint (b->online, ==, 1);
  g_assert_cmpuint (a->received->len, ==, 0);
  g_assert_cmpuint (b->received->len, ==, 0);
  g_assert_cmpuint (outbox_len (a, ab), ==, 1);
  g_assert_cmpuint (outbox_len (b, ba), ==, 1);

  g_assert_true (sotto_peer_service_set_status (a->service, SOTTO_STATUS_AWAY, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (notified, ==, 2);
  g_assert_cmpuint (sotto_peer_service_get_port (a->service), ==, port_a);
  SOTTO_TEST_WAIT_FOR (a->online >= 2 && b->online >= 2);
  SOTTO_TEST_WAIT_FOR (a->received->len == 1 && b->received->len == 1 &&
            outbox_len (a, ab) == 0 && outbox_len (b, ba) == 0);
  g_assert_cmpstr (g_ptr_array_index (b->received, 0), ==, "written while invisible");
  g_assert_cmpstr (g_ptr_array_index (a->received, 0), ==, "written while you hide");
  SOTTO_TEST_WAIT_FOR (sotto_peer_service_get_contact_presence (b->service, ba) == SOTTO_PRESENCE_AWAY);

  /* The old call still works, and makes us visible too. */
  sotto_peer_service_set_presence (a->service, SOTTO_PRESENCE_AVAILABLE);
  g_object_get (a->service, "status", &status, NULL);
  g_assert_cmpint (status, ==, SOTTO_STATUS_AVAILABLE);
  g_assert_cmpuint (notified, ==, 3);
  SOTTO_TEST_WAIT_FOR (sotto_peer_service_get_contact_presence (b->service, ba) == SOTTO_PRESENCE_AVAILABLE);
  g_assert_true (sotto_peer_service_is_online (a->service, ab));
  g_assert_true (sotto_peer_service_is_online (b->service, ba));
}

/* A's port is taken: A can't listen, but it still dials, and its queued
 * message reaches B. The start says why, and so does the service until
 * it listens; the port it offers instead is one A can listen on. */
static void
test_port_taken (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) m = NULL;
  g_autoptr (GSocketListener) squatter = g_socket_listener_new ();
  g_autoptr (GSocketListener) probe = g_socket_listener_new ();
  g_autoptr (GError) listen_error = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *offered_address = NULL;
  guint port = sotto_test_low_free_port ();
  guint notified = 0;
  guint offered;
  guint online;

  g_assert_true (g_socket_listener_add_inet_port (squatter, (guint16)port, NULL, &error));
  g_assert_no_error (error);
  peer_start (b, 0);
  ba = add_contact (b, a, 0);
  ab = add_contact (a, b, b->port);
  peer_service (a);
  m = send_message (a, ab, "from behind a taken port");
  g_signal_connect_swapped (a->service, "notify::listen-error", G_CALLBACK (count_notify_cb),
                            &notified);

  sotto_peer_service_set_port (a->service, port);
  g_assert_false (sotto_peer_service_start (a->service, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_clear_error (&error);
  g_assert_error ((GError *)sotto_peer_service_get_listen_error (a->service),
                  G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_object_get (a->service, "listen-error", &listen_error, NULL);
  g_assert_error (listen_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpuint (sotto_peer_service_get_port (a->service), ==, 0);

  SOTTO_TEST_WAIT_FOR (b->received->len >= 1 && a->delivered->len >= 1);
  sotto_test_spin (200);
  g_assert_cmpuint (b->received->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (b->received, 0), ==, "from behind a taken port");
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);
  g_assert_true (sotto_peer_service_is_online (a->service, ab));
  /* A's hello said it does not listen: B has nowhere to call it back. */
  g_assert_null (sotto_contact_get_addresses (ba)[0]);

  offered = sotto_test_low_free_port ();
  g_assert_cmpuint (offered, !=, port);

  /* Invisible, A is not meant to listen; visible again, it still can't,
   * and dials all the same. */
  g_assert_true (sotto_peer_service_set_status (a->service, SOTTO_STATUS_INVISIBLE, &error));
  g_assert_no_error (error);
  g_assert_null (sotto_peer_service_get_listen_error (a->service));
  g_assert_cmpuint (notified, ==, 2);
  online = a->online;
  g_assert_false (sotto_peer_service_set_status (a->service, SOTTO_STATUS_AVAILABLE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_clear_error (&error);
  g_assert_cmpint (sotto_peer_service_get_status (a->service), ==, SOTTO_STATUS_AVAILABLE);
  g_assert_nonnull (sotto_peer_service_get_listen_error (a->service));
  g_assert_cmpuint (notified, ==, 3);
  SOTTO_TEST_WAIT_FOR (a->online > online);

  /* Moved to a taken port while running: still not listening, and
   * said so. */
  g_assert_false (sotto_peer_service_change_port (a->service, port, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_clear_error (&error);
  g_assert_nonnull (sotto_peer_service_get_listen_error (a->service));
  g_assert_cmpuint (notified, ==, 4);

  /* Moved to a free one while running: A listens there at once, says
   * nothing is wrong any more, and B learns where to call A. */
  g_assert_true (sotto_peer_service_change_port (a->service, offered, &error));
  g_assert_no_error (error);
  g_assert_null (sotto_peer_service_get_listen_error (a->service));
  g_assert_cmpuint (notified, ==, 5);
  g_assert_cmpuint (sotto_peer_service_get_port (a->service), ==, offered);
  g_assert_false (g_socket_listener_add_inet_port (probe, (guint16)offered, NULL, NULL));
  /* B calls back only on a new session: end this one. */
  sotto_peer_service_stop (a->service);
  g_assert_cmpuint (notified, ==, 5);
  peer_start (a, offered);
  g_assert_null (sotto_peer_service_get_listen_error (a->service));
  g_assert_cmpuint (notified, ==, 5);
  offered_address = g_strdup_printf ("127.0.0.1:%u", offered);
  SOTTO_TEST_WAIT_FOR (sotto_contact_get_addresses (ba)[0] != NULL);
  g_assert_cmpstr (sotto_contact_get_addresses (ba)[0], ==, offered_address);

  g_socket_listener_close (squatter);
}

/* Invisible before the start: started, but not listening until visible. */
static void
test_status_invisible_at_start (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (GError) error = NULL;

  g_object_set (peer_service (a), "status", SOTTO_STATUS_INVISIBLE, NULL);
  sotto_peer_service_set_port (a->service, sotto_test_low_free_port ());
  g_assert_true (sotto_peer_service_start (a->service, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sotto_peer_service_get_port (a->service), ==, 0);

  g_assert_true (sotto_peer_service_set_status (a->service, SOTTO_STATUS_AVAILABLE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sotto_peer_service_get_port (a->service), >, 0);
}

/* ------------------------------------------------------------------ */
/* Giving up on old messages, and trying again                        */

#define EXPIRY_SPAN ((gint64)SOTTO_OUTBOX_EXPIRY_DAYS * G_TIME_SPAN_DAY)

/* Edits @peer's database behind its store's back (a second connection:
 * the store's stays open). */
static void
peer_raw_sql (Peer       *peer,
              const char *sql)
{
  g_autofree char *path = g_build_filename (peer->dir, SOTTO_STORE_FILENAME, NULL);
  sqlite3 *db = NULL;
  char *errmsg = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  if (sqlite3_exec (db, sql, NULL, NULL, &errmsg) != SQLITE_OK)
    g_error ("%s: %s", sql, errmsg);
  sqlite3_close (db);
}

/* Everything in @peer's outbox was queued @by µs earlier than it was.
 * Only while the store is idle: it expects to be the only writer, and a
 * write of its own would find the file busy. */
static void
age_outbox (Peer   *peer,
            gint64  by)
{
  g_autofree char *sql = g_strdup_printf ("UPDATE outbox SET queued = queued - %" G_GINT64_FORMAT,
                                          by);
  g_autoptr (GPtrArray) drained = NULL;

  /* The store runs one job at a time, in order: once this one is back,
   * nothing queued before it is still writing. */
  drained = sotto_test_outbox (peer->store, NULL);
  peer_raw_sql (peer, sql);
}

/* A week and a second: as if nothing had run since. */
#define LONG_AGO     (EXPIRY_SPAN + G_TIME_SPAN_SECOND)
/* A second short of the week: fails soon after, while running. */
#define NEARLY_EXPIRED (EXPIRY_SPAN - G_TIME_SPAN_SECOND)

/* Message ids the store said had failed, in order. */
static void
on_failed_logged_cb (SottoStore        *store,
                     gint64             contact_id,
                     gint64             message_id,
                     SottoMessageState  state,
                     GArray            *failed)
{
  if (state == SOTTO_MESSAGE_FAILED)
    g_array_append_val (failed, message_id);
}

static gboolean
peer_retry (Peer         *peer,
            SottoMessage *message,
            GError      **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_peer_service_retry_async (peer->service, message, NULL, sotto_test_result_cb, &result);
  return sotto_peer_service_retry_finish (peer->service, sotto_test_wait (&result), error);
}

/* What waited too long while nothing ran fails as soon as the service
 * starts, before anything could be sent. */
static void
test_expiry_on_start (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoMessage) old = NULL;
  g_autoptr (SottoMessage) fresh = NULL;
  g_autoptr (GArray) failed = g_array_new (FALSE, FALSE, sizeof (gint64));

  ab = add_contact (a, b, 0);
  {
    g_autoptr (GAsyncResult) result = NULL;
    g_autoptr (GError) error = NULL;

    sotto_store_queue_message_async (a->store, ab, "written last month", NULL,
                                     sotto_test_result_cb, &result);
    old = sotto_store_queue_message_finish (a->store, sotto_test_wait (&result), &error);
    g_assert_no_error (error);
  }
  age_outbox (a, LONG_AGO);
  g_signal_connect (a->store, "message-state-changed", G_CALLBACK (on_failed_logged_cb), failed);

  peer_start (a, 0);
  fresh = send_message (a, ab, "written today");
  SOTTO_TEST_WAIT_FOR (failed->len == 1);
  g_assert_cmpint (g_array_index (failed, gint64, 0), ==, sotto_message_get_id (old));
  g_assert_cmpint (stored_state (a, ab, old), ==, SOTTO_MESSAGE_FAILED);
  g_assert_cmpint (stored_state (a, ab, fresh), ==, SOTTO_MESSAGE_QUEUED);
  g_assert_cmpuint (outbox_len (a, ab), ==, 1);
  g_signal_handlers_disconnect_by_data (a->store, failed);
}

/* While running, the service gives up every interval, not only on
 * starting; once stopped, no more. */
static void
test_expiry_interval (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoMessage) first = NULL;
  g_autoptr (SottoMessage) second = NULL;
  g_autoptr (GArray) failed = g_array_new (FALSE, FALSE, sizeof (gint64));

  ab = add_contact (a, b, 0);
  g_signal_connect (a->store, "message-state-changed", G_CALLBACK (on_failed_logged_cb), failed);
  sotto_peer_service_set_expiry_interval (peer_service (a), 50);

  /* Not yet expired when the service starts; a later round gets it. */
  first = send_message (a, ab, "nobody there");
  age_outbox (a, NEARLY_EXPIRED);
  peer_start (a, 0);
  g_assert_cmpuint (outbox_len (a, ab), ==, 1);  /* after the round on starting */
  g_assert_cmpuint (failed->len, ==, 0);
  SOTTO_TEST_WAIT_FOR (failed->len == 1);
  g_assert_cmpint (g_array_index (failed, gint64, 0), ==, sotto_message_get_id (first));
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);

  sotto_peer_service_stop (a->service);
  second = send_message (a, ab, "written while stopped");
  age_outbox (a, LONG_AGO);
  sotto_test_spin (300);
  g_assert_cmpuint (failed->len, ==, 1);
  g_assert_cmpuint (outbox_len (a, ab), ==, 1);
  g_signal_handlers_disconnect_by_data (a->store, failed);
}

/* A message fails while B is away; B comes back and does not get it (but
 * what is written next); the user retries, and B gets it exactly once. */
static void
test_expiry_retry_delivers (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) lost = NULL;
  g_autoptr (SottoMessage) next = NULL;
  g_autoptr (GArray) failed = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GPtrArray) history = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *lost_hex = NULL;
  guint port_b = free_port ();

  ba = add_contact (b, a, 0);  /* B will not dial: A's retry must do it */
  ab = add_contact (a, b, port_b);
  g_signal_connect (a->store, "message-state-changed", G_CALLBACK (on_failed_logged_cb), failed);
  sotto_peer_service_set_expiry_interval (peer_service (a), 50);

  /* Nearly a week old when A starts: dials to B fail until it expires. */
  lost = send_message (a, ab, "a week too late");
  lost_hex = uid_hex (sotto_message_get_uid (lost));
  age_outbox (a, NEARLY_EXPIRED);
  peer_start (a, 0);
  SOTTO_TEST_WAIT_FOR (failed->len == 1);
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);

  /* B is back: what was given up on stays behind; the outbox goes oldest
   * first, so with the next message there, the lost one would be too. */
  peer_start (b, port_b);
  SOTTO_TEST_WAIT_FOR (a->online == 1 && b->online == 1);
  next = send_message (a, ab, "written after");
  SOTTO_TEST_WAIT_FOR (b->received->len >= 1 && a->delivered->len >= 1);
  sotto_test_spin (200);
  g_assert_cmpuint (b->received->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (b->received, 0), ==, "written after");
  g_assert_cmpint (stored_state (a, ab, lost), ==, SOTTO_MESSAGE_FAILED);

  /* Retried: sent at once on the session that is up. */
  g_assert_true (peer_retry (a, lost, &error));
  g_assert_no_error (error);
  SOTTO_TEST_WAIT_FOR (b->received->len >= 2 && count_str (a->delivered, lost_hex) >= 1);
  sotto_test_spin (300);  /* room for a duplicate */
  g_assert_cmpuint (b->received->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (b->received, 1), ==, "a week too late");
  g_assert_cmpuint (count_str (a->delivered, lost_hex), ==, 1);
  g_assert_cmpint (stored_state (a, ab, lost), ==, SOTTO_MESSAGE_DELIVERED);
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);

  history = sotto_test_full_history (b->store, ba, 10);
  g_assert_cmpuint (history->len, ==, 2);
  g_assert_cmpmem (sotto_message_get_uid (g_ptr_array_index (history, 1)), SOTTO_MESSAGE_UID_LEN,
                   sotto_message_get_uid (lost), SOTTO_MESSAGE_UID_LEN);

  /* Delivered now: a second retry is refused. */
  g_assert_false (peer_retry (a, lost, &error));
  g_assert_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (failed->len, ==, 1);
  g_signal_handlers_disconnect_by_data (a->store, failed);
}

/* B did get the message, but A never heard: A gives up, the user retries
 * on the very session that carried it, and B recognises the id: shown
 * once, acknowledged again, delivered at last. */
static void
test_expiry_retry_duplicate (void)
{
  g_autoptr (Peer) a = peer_new ("Alice");
  g_autoptr (Peer) b = peer_new ("Bob");
  g_autoptr (SottoContact) ab = NULL;
  g_autoptr (SottoContact) ba = NULL;
  g_autoptr (SottoMessage) m = NULL;
  g_autoptr (GPtrArray) history = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *hex = NULL;
  g_autofree char *sql = NULL;

  peer_start (a, 0);
  peer_start (b, 0);
  ba = add_contact (b, a, 0);
  ab = add_contact (a, b, b->port);
  SOTTO_TEST_WAIT_FOR (a->online == 1 && b->online == 1);

  m = send_message (a, ab, "did you get this?");
  hex = uid_hex (sotto_message_get_uid (m));
  SOTTO_TEST_WAIT_FOR (b->received->len == 1 && a->delivered->len == 1);

  /* As if the receipt had been lost a week ago. */
  sql = g_strdup_printf ("UPDATE messages SET state = %d, mac = " MESSAGE_ROW_MAC ("%d")
                         " WHERE id = %" G_GINT64_FORMAT ";"
                         "INSERT INTO outbox (message_id, queued) VALUES (%" G_GINT64_FORMAT
                         ", %" G_GINT64_FORMAT ");",
                         SOTTO_MESSAGE_QUEUED, SOTTO_MESSAGE_QUEUED, sotto_message_get_id (m),
                         sotto_message_get_id (m), g_get_real_time () - LONG_AGO);
  /* With the key, on the store's connection: as if Sotto had written it. */
  g_assert_true (sotto_test_store_exec (a->store, sql, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_expire_outbox_async (a->store, g_get_real_time (), NULL, sotto_test_result_cb,
                                     &result);
    g_assert_cmpuint (sotto_store_expire_outbox_finish (a->store, sotto_test_wait (&result),
                                                        &error), ==, 1);
    g_assert_no_error (error);
  }
  g_assert_cmpint (stored_state (a, ab, m), ==, SOTTO_MESSAGE_FAILED);

  g_assert_true (peer_retry (a, m, &error));
  g_assert_no_error (error);
  SOTTO_TEST_WAIT_FOR (count_str (a->delivered, hex) == 2);
  sotto_test_spin (200);
  g_assert_cmpuint (b->received->len, ==, 1);
  g_assert_cmpint (stored_state (a, ab, m), ==, SOTTO_MESSAGE_DELIVERED);
  g_assert_cmpuint (outbox_len (a, ab), ==, 0);
  history = sotto_test_full_history (b->store, ba, 10);
  g_assert_cmpuint (history->len, ==, 1);
  g_assert_cmpuint (a->online, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  int status;
  guint tick;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/peer-service/deliver", test_deliver);
  g_test_add_func ("/peer-service/contact-update-keeps-session", test_contact_update_keeps_session);
  g_test_add_func ("/peer-service/offline-then-online", test_offline_then_online);
  g_test_add_func ("/peer-service/outbox/backlog", test_outbox_backlog);
  g_test_add_func ("/peer-service/simultaneous-dial", test_simultaneous_dial);
  g_test_add_func ("/peer-service/hint", test_hint);
  g_test_add_func ("/peer-service/hint-other-key", test_hint_other_key);
  g_test_add_func ("/peer-service/hint-moved", test_hint_moved);
  g_test_add_func ("/peer-service/blocked", test_blocked);
  g_test_add_func ("/peer-service/block-while-dialling", test_block_while_dialling);
  g_test_add_func ("/peer-service/key-changed", test_key_changed);
  g_test_add_func ("/peer-service/own-address", test_own_address);
  g_test_add_func ("/peer-service/own-address-then-peer", test_own_address_then_peer);
  g_test_add_func ("/peer-service/own-key-calls", test_own_key_calls);
  g_test_add_func ("/peer-service/request", test_request_accept);
  g_test_add_func ("/peer-service/request-ignore", test_request_ignore);
  g_test_add_func ("/peer-service/request-ignore/expires", test_request_ignore_expires);
  g_test_add_func ("/peer-service/request-block", test_request_block);
  g_test_add_func ("/peer-service/request-block/adding-forbidden", test_request_block_adding_forbidden);
  g_test_add_func ("/peer-service/requests-off", test_requests_off);
  g_test_add_func ("/peer-service/request/cap", test_request_cap);
  g_test_add_func ("/peer-service/request/matches", test_request_matches);
  g_test_add_func ("/peer-service/handshake-caps", test_handshake_caps);
  g_test_add_func ("/peer-service/listen-address", test_listen_address);
  g_test_add_func ("/peer-service/auto-away", test_auto_away);
  g_test_add_func ("/peer-service/request-expires", test_request_expires);
  g_test_add_func ("/peer-service/allowed-networks", test_allowed_networks);
  g_test_add_func ("/peer-service/receipt-for-unknown-id", test_receipt_for_unknown_id);
  g_test_add_func ("/peer-service/dropped-sessions-back-off", test_dropped_sessions_back_off);
  g_test_add_func ("/peer-service/disk-full", test_disk_full);
  g_test_add_func ("/peer-service/request/address", test_request_address);
  g_test_add_func ("/peer-service/learned-addresses", test_learned_addresses);
  g_test_add_func ("/peer-service/request/state-from-initiator", test_request_state_from_initiator);
  g_test_add_func ("/peer-service/duplicate", test_duplicate);
  g_test_add_func ("/peer-service/redial-replaces", test_redial_replaces);
  g_test_add_func ("/peer-service/stop-keeps-outbox", test_stop_keeps_outbox);
  g_test_add_data_func ("/peer-service/read-receipts/on", GINT_TO_POINTER (TRUE),
                        test_read_receipts);
  g_test_add_data_func ("/peer-service/read-receipts/off", GINT_TO_POINTER (FALSE),
                        test_read_receipts);
  g_test_add_func ("/peer-service/read-receipts/split", test_read_receipts_split);
  g_test_add_func ("/peer-service/sent-state", test_sent_state);
  g_test_add_func ("/peer-service/status/invisible", test_status_invisible);
  g_test_add_func ("/peer-service/status/invisible-at-start", test_status_invisible_at_start);
  g_test_add_func ("/peer-service/port-taken", test_port_taken);
  g_test_add_func ("/peer-service/expiry/on-start", test_expiry_on_start);
  g_test_add_func ("/peer-service/expiry/interval", test_expiry_interval);
  g_test_add_func ("/peer-service/expiry/retry-delivers-once", test_expiry_retry_delivers);
  g_test_add_func ("/peer-service/expiry/retry-duplicate-dropped", test_expiry_retry_duplicate);

  tick = sotto_test_tick_start ();
  status = g_test_run ();
  g_source_remove (tick);

  return status;
}
