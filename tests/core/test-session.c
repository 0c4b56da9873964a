/* test-session.c — SottoSession on real loopback TCP: handshake, transport,
 * rekeying, timers, request mode, back-pressure, and what a hostile peer
 * can do to each
 *
 * Every test runs a GSocketListener on 127.0.0.1 whose connections become
 * responder sessions, as in the peer service. Attacks use a "raw peer":
 * the protocol spoken by hand (SottoNoise, sotto_frame_encode(),
 * sotto_payload_encode(), or bytes crafted here) on a plain non-blocking
 * GSocket, so a test sends exactly what an attacker would. The raw peer
 * runs on the main thread and iterates the main loop while it waits, so
 * the session under test keeps running; every wait has a watchdog.
 *
 * After each attack, an honest session on the same listener must still
 * work: one bad peer never takes the listener down.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sodium.h>
#include <gio/gio.h>

#include "sotto-frame.h"
#include "sotto-identity.h"
#include "sotto-noise.h"
#include "sotto-payload.h"
#include "sotto-session-private.h"
#include "sotto-test-util.h"

/* A wait longer than this is a hang, and fails the test. */
#define WATCHDOG_US (20 * G_USEC_PER_SEC)

#define BASE_TIMESTAMP G_GINT64_CONSTANT (1700000000000000)

/* Iterates the main loop until @cond holds. The fixture's ticker wakes
 * the loop every few ms, so conditions changed outside a source (a raw
 * peer's socket) are seen too. */
#define WAIT_UNTIL(cond) \
  G_STMT_START \
    { \
      gint64 wait_deadline_ = g_get_monotonic_time () + WATCHDOG_US; \
      while (!(cond)) \
        { \
          if (g_get_monotonic_time () > wait_deadline_) \
            g_error ("%s:%d: timed out waiting for %s", __FILE__, __LINE__, #cond); \
          g_main_context_iteration (NULL, TRUE); \
        } \
    } \
  G_STMT_END

/* -------------------------------------------------------------------------
 * Sessions under test
 * ------------------------------------------------------------------------- */

typedef struct
{
  SottoSession *session;
  gpointer      alive;        /* the session, NULL once finalized */
  gboolean      established;
  gint64        started;      /* monotonic µs */
  gint64        established_at;
  gint64        closed_at;
  GPtrArray    *payloads;     /* SottoPayload, copied during emission */
  GError       *reason;       /* why it closed */
  guint         n_closed;
} Peer;

typedef struct
{
  SottoIdentity    *server_id;      /* the listener's */
  SottoIdentity    *client_id;
  SottoHello        server_hello;   /* strings owned by the test */
  SottoHello        client_hello;

  /* Every connection the listener accepts becomes a responder session. */
  GSocketListener  *listener;
  guint16           port;
  GCancellable     *cancellable;
  gboolean          accepting;
  GPtrArray        *servers;        /* Peer */
  SottoSessionMode  auth_mode;
  guint             n_auth_calls;
  guint8            auth_key[SOTTO_KEY_LEN];

  /* Applied to every session made from now on; both ends must agree on
   * rekeying. 0 keeps a default timeout. */
  guint             handshake_ms;
  guint             keepalive_ms;
  guint             idle_ms;
  guint64           rekey_messages;
  guint64           rekey_bytes;

  GPtrArray        *clients;        /* Peer: initiators made by the test */
  GPtrArray        *raws;           /* Raw */
  guint             ticker;
} Fixture;

static SottoPayload *
payload_copy (const SottoPayload *payload)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  SottoPayload *copy;

  /* Only known kinds are ever passed on: encoding an unknown one fails. */
  bytes = sotto_payload_encode (payload, &error);
  g_assert_no_error (error);
  copy = sotto_payload_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  return copy;
}

static void
on_established_cb (SottoSession *session,
                   Peer         *peer)
{
  g_assert_false (peer->established);
  g_assert_true (sotto_session_is_established (session));
  peer->established = TRUE;
  peer->established_at = g_get_monotonic_time ();
}

static void
on_payload_received_cb (SottoSession *session,
                        gpointer      payload,
                        Peer         *peer)
{
  g_assert_true (peer->established);
  g_assert_null (peer->reason);
  g_ptr_array_add (peer->payloads, payload_copy (payload));
}

static void
on_closed_cb (SottoSession *session,
              const GError *reason,
              Peer         *peer)
{
  g_assert_true (sotto_session_is_closed (session));
  peer->n_closed++;
  g_clear_error (&peer->reason);
  peer->reason = g_error_copy (reason);
  peer->closed_at = g_get_monotonic_time ();
}

static SottoSessionMode
auth_cb (SottoSession     *session,
         const guint8     *remote_key,
         const SottoHello *remote_hello,
         gpointer          user_data)
{
  Fixture *f = user_data;

  g_assert_false (sotto_session_is_initiator (session));
  g_assert_nonnull (remote_hello);
  f->n_auth_calls++;
  memcpy (f->auth_key, remote_key, SOTTO_KEY_LEN);
  return f->auth_mode;
}

/* A session on @connection, or (@connection NULL) on the descriptor @fd. */
static Peer *
peer_new_full (Fixture           *f,
               GSocketConnection *connection,
               int                fd,
               SottoIdentity     *identity,
               const SottoHello  *hello,
               const guint8      *expected_key)
{
  Peer *peer = g_new0 (Peer, 1);

  peer->session = connection != NULL
    ? sotto_session_new (connection, identity, hello, expected_key)
    : sotto_session_new_for_fd (fd, identity, hello, expected_key);
  peer->alive = peer->session;
  g_object_add_weak_pointer (G_OBJECT (peer->session), &peer->alive);
  peer->payloads = g_ptr_array_new_with_free_func ((GDestroyNotify) sotto_payload_free);

  sotto_session_set_auth_func (peer->session, auth_cb, f);
  sotto_session_set_timeouts (peer->session, f->handshake_ms, f->keepalive_ms, f->idle_ms);
  sotto_session_set_rekey_interval (peer->session, f->rekey_messages, f->rekey_bytes);
  g_signal_connect (peer->session, "established", G_CALLBACK (on_established_cb), peer);
  g_signal_connect (peer->session, "payload-received", G_CALLBACK (on_payload_received_cb), peer);
  g_signal_connect (peer->session, "closed", G_CALLBACK (on_closed_cb), peer);

  return peer;
}

static Peer *
peer_new (Fixture           *f,
          GSocketConnection *connection,
          SottoIdentity     *identity,
          const SottoHello  *hello,
          const guint8      *expected_key)
{
  return peer_new_full (f, connection, -1, identity, hello, expected_key);
}

static void
peer_start (Peer *peer)
{
  peer->started = g_get_monotonic_time ();
  sotto_session_start (peer->session);
}

/* Closes and drops the session, and waits until it is really gone: a
 * session that outlives its last reference (a pending read, a timer)
 * fails here rather than leaking. */
static void
peer_free (Peer *peer)
{
  g_signal_handlers_disconnect_by_data (peer->session, peer);
  sotto_session_close (peer->session, NULL);
  g_clear_object (&peer->session);
  WAIT_UNTIL (peer->alive == NULL);

  g_ptr_array_unref (peer->payloads);
  g_clear_error (&peer->reason);
  g_free (peer);
}

static void
assert_closed_with (Peer *peer,
                    int   code)
{
  WAIT_UNTIL (peer->reason != NULL);
  g_assert_error (peer->reason, SOTTO_SESSION_ERROR, code);
  g_assert_cmpuint (peer->n_closed, ==, 1);
  g_assert_true (sotto_session_is_closed (peer->session));
}

static SottoPayload *
make_text (guint       i,
           const char *who)
{
  SottoPayload *text = sotto_payload_new (SOTTO_PAYLOAD_TEXT);

  /* Same length for every i below 10000: the byte rekey tests count on it. */
  memset (text->uid, 0xa5, SOTTO_MESSAGE_UID_LEN);
  text->uid[0] = i & 0xff;
  text->uid[1] = (i >> 8) & 0xff;
  text->timestamp = BASE_TIMESTAMP + i;
  text->body = g_strdup_printf ("message %04u from %s", i, who);
  return text;
}

static void
assert_text (const SottoPayload *payload,
             guint               i,
             const char         *who)
{
  g_autoptr (SottoPayload) expected = make_text (i, who);

  g_assert_cmpuint (payload->kind, ==, SOTTO_PAYLOAD_TEXT);
  g_assert_cmpstr (payload->body, ==, expected->body);
  g_assert_true (sotto_payload_equal (payload, expected));
}

static void
send_text (Peer       *peer,
           guint       i,
           const char *who)
{
  g_autoptr (SottoPayload) text = make_text (i, who);
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_session_send (peer->session, text, &error));
  g_assert_no_error (error);
}

static const SottoPayload *
peer_payload (Peer  *peer,
              guint  i)
{
  g_assert_cmpuint (i, <, peer->payloads->len);
  return g_ptr_array_index (peer->payloads, i);
}

/* -------------------------------------------------------------------------
 * Loopback TCP and the listener
 * ------------------------------------------------------------------------- */

static GSocketListener *
listen_on_loopback (guint16 *port)
{
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback,
                                                                  sotto_test_low_free_port ());
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GError) error = NULL;
  GSocketListener *listener = g_socket_listener_new ();

  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &effective, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  return listener;
}

/* The kernel completes a loopback connect from the backlog at once, so a
 * blocking connect never waits for the main loop. */
static GSocketConnection *
connect_to_loopback (guint16 port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autoptr (GError) error = NULL;
  GSocketConnection *connection;

  g_socket_client_set_enable_proxy (client, FALSE);
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  g_assert_no_error (error);
  return connection;
}

static void accept_next (Fixture *f);

static void
on_accepted_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Fixture *f = user_data;
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GError) error = NULL;
  Peer *peer;

  f->accepting = FALSE;
  connection = g_socket_listener_accept_finish (G_SOCKET_LISTENER (object), result, NULL, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_assert_no_error (error);

  peer = peer_new (f, connection, f->server_id, &f->server_hello, NULL);
  g_ptr_array_add (f->servers, peer);
  peer_start (peer);
  accept_next (f);
}

static void
accept_next (Fixture *f)
{
  f->accepting = TRUE;
  g_socket_listener_accept_async (f->listener, f->cancellable, on_accepted_cb, f);
}

/* The responder session the listener made for the connection after the
 * first @n. */
static Peer *
wait_for_server (Fixture *f,
                 guint    n)
{
  WAIT_UNTIL (f->servers->len > n);
  g_assert_cmpuint (f->servers->len, ==, n + 1);
  return g_ptr_array_index (f->servers, n);
}

/* An initiator session to the listener, expecting @expected_key. */
static Peer *
client_connect (Fixture       *f,
                const guint8  *expected_key,
                Peer         **server_out)
{
  g_autoptr (GSocketConnection) connection = NULL;
  guint n = f->servers->len;
  Peer *client;

  connection = connect_to_loopback (f->port);
  client = peer_new (f, connection, f->client_id, &f->client_hello, expected_key);
  g_ptr_array_add (f->clients, client);
  peer_start (client);
  *server_out = wait_for_server (f, n);
  return client;
}

static void
assert_honest_session_works (Fixture *f)
{
  Peer *server;
  Peer *client;

  f->auth_mode = SOTTO_SESSION_MODE_CONTACT;
  client = client_connect (f, sotto_identity_get_public_key (f->server_id), &server);
  WAIT_UNTIL (client->established && server->established);

  send_text (client, 1, "client");
  send_text (server, 2, "server");
  WAIT_UNTIL (client->payloads->len == 1 && server->payloads->len == 1);
  assert_text (peer_payload (server, 0), 1, "client");
  assert_text (peer_payload (client, 0), 2, "server");

  sotto_session_close (client->session, NULL);
  assert_closed_with (server, SOTTO_SESSION_ERROR_PEER_CLOSED);
}

static gboolean
on_tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  f->server_id = sotto_identity_generate ("Bob", &error);
  g_assert_no_error (error);
  f->client_id = sotto_identity_generate ("Alice", &error);
  g_assert_no_error (error);
  f->server_hello = (SottoHello) { .version = SOTTO_PROTOCOL_VERSION, .display_name = "Bob",
                                   .listen_port = 7007, .intro = "" };
  f->client_hello = (SottoHello) { .version = SOTTO_PROTOCOL_VERSION, .display_name = "Alice",
                                   .listen_port = 7008, .capabilities = 1 << 20, .intro = "" };

  f->auth_mode = SOTTO_SESSION_MODE_CONTACT;
  f->rekey_messages = SOTTO_REKEY_MESSAGES;
  f->rekey_bytes = SOTTO_REKEY_BYTES;

  f->servers = g_ptr_array_new ();
  f->clients = g_ptr_array_new ();
  f->raws = g_ptr_array_new ();
  f->ticker = g_timeout_add (5, on_tick_cb, NULL);

  f->listener = listen_on_loopback (&f->port);
  f->cancellable = g_cancellable_new ();
  accept_next (f);
}

static void raw_free (gpointer data);

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_ptr_array_foreach (f->raws, (GFunc) raw_free, NULL);
  g_ptr_array_unref (f->raws);
  g_ptr_array_foreach (f->clients, (GFunc) peer_free, NULL);
  g_ptr_array_unref (f->clients);
  g_ptr_array_foreach (f->servers, (GFunc) peer_free, NULL);
  g_ptr_array_unref (f->servers);

  g_cancellable_cancel (f->cancellable);
  WAIT_UNTIL (!f->accepting);
  g_socket_listener_close (f->listener);
  g_clear_object (&f->listener);
  g_clear_object (&f->cancellable);
  g_clear_handle_id (&f->ticker, g_source_remove);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  g_clear_object (&f->server_id);
  g_clear_object (&f->client_id);
}

/* -------------------------------------------------------------------------
 * The raw peer
 * ------------------------------------------------------------------------- */

typedef struct
{
  GSocketConnection   *connection;
  GSocket             *socket;        /* non-blocking */
  SottoNoiseHandshake *handshake;
  SottoNoiseCipher    *send;
  SottoNoiseCipher    *receive;
} Raw;

static void
raw_free (gpointer data)
{
  Raw *raw = data;

  g_io_stream_close (G_IO_STREAM (raw->connection), NULL, NULL);
  g_clear_object (&raw->connection);
  g_clear_pointer (&raw->handshake, sotto_noise_handshake_free);
  g_clear_pointer (&raw->send, sotto_noise_cipher_free);
  g_clear_pointer (&raw->receive, sotto_noise_cipher_free);
  g_free (raw);
}

static Raw *
raw_new (Fixture           *f,
         GSocketConnection *connection)
{
  Raw *raw = g_new0 (Raw, 1);

  raw->connection = g_object_ref (connection);
  raw->socket = g_socket_connection_get_socket (connection);
  g_socket_set_blocking (raw->socket, FALSE);
  g_ptr_array_add (f->raws, raw);
  return raw;
}

/* A raw initiator, connected to the listener; @server_out is the session
 * the listener made for it. */
static Raw *
raw_connect (Fixture  *f,
             Peer    **server_out)
{
  g_autoptr (GSocketConnection) connection = NULL;
  guint n = f->servers->len;

  connection = connect_to_loopback (f->port);
  *server_out = wait_for_server (f, n);
  return raw_new (f, connection);
}

/* A raw responder, and an initiator session to it that expects
 * @expected_key. */
static Raw *
raw_accept (Fixture       *f,
            const guint8  *expected_key,
            Peer         **client_out)
{
  g_autoptr (GSocketListener) listener = NULL;
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GSocketConnection) accepted = NULL;
  g_autoptr (GError) error = NULL;
  guint16 port;
  Peer *client;

  listener = listen_on_loopback (&port);
  connection = connect_to_loopback (port);
  accepted = g_socket_listener_accept (listener, NULL, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);

  client = peer_new (f, connection, f->client_id, &f->client_hello, expected_key);
  g_ptr_array_add (f->clients, client);
  peer_start (client);
  *client_out = client;
  return raw_new (f, accepted);
}

/* Sends all of @data, iterating the main loop while the socket is full.
 * FALSE once the other end has gone (a closed session resets). */
static gboolean
raw_write (Raw          *raw,
           const void   *data,
           gsize         len)
{
  const guint8 *p = data;
  gint64 deadline = g_get_monotonic_time () + WATCHDOG_US;

  while (len > 0)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_send (raw->socket, (const char *) p, len, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          if (g_get_monotonic_time () > deadline)
            g_error ("raw peer: timed out sending");
          g_main_context_iteration (NULL, TRUE);
          continue;
        }
      if (n < 0)
        return FALSE;
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Reads @len bytes, or fewer if the connection ends (or is reset). */
static gsize
raw_read (Raw    *raw,
          guint8 *buffer,
          gsize   len)
{
  gint64 deadline = g_get_monotonic_time () + WATCHDOG_US;
  gsize got = 0;

  while (got < len)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_receive (raw->socket, (char *) buffer + got, len - got, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          if (g_get_monotonic_time () > deadline)
            g_error ("raw peer: timed out reading");
          g_main_context_iteration (NULL, TRUE);
          continue;
        }
      if (n <= 0)
        break;
      got += (gsize) n;
    }
  return got;
}

/* The session sends nothing more and closes the connection. */
static void
raw_assert_eof (Raw *raw)
{
  guint8 byte;

  g_assert_cmpuint (raw_read (raw, &byte, 1), ==, 0);
}

/* One whole frame, without its header; NULL at the end of the stream. */
static GBytes *
raw_read_frame (Raw *raw)
{
  guint8 header[SOTTO_FRAME_HEADER_LEN];
  g_autofree guint8 *body = NULL;
  gsize got;
  gsize len;

  got = raw_read (raw, header, sizeof header);
  if (got == 0)
    return NULL;
  g_assert_cmpuint (got, ==, sizeof header);
  len = (gsize) header[0] << 8 | header[1];
  g_assert_cmpuint (len, >, 0);
  body = g_malloc (len);
  g_assert_cmpuint (raw_read (raw, body, len), ==, len);
  return g_bytes_new_take (g_steal_pointer (&body), len);
}

static gboolean
raw_write_frame (Raw          *raw,
                 const guint8 *data,
                 gsize         len,
                 GBytes      **wire_out)
{
  g_autoptr (GByteArray) frame = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_frame_encode (data, len, frame, &error));
  g_assert_no_error (error);
  if (wire_out != NULL)
    *wire_out = g_bytes_new (frame->data, frame->len);
  return raw_write (raw, frame->data, frame->len);
}

static void
raw_start_noise (Raw           *raw,
                 gboolean       initiator,
                 SottoIdentity *identity,
                 const char    *prologue)
{
  g_autoptr (GError) error = NULL;

  raw->handshake = sotto_noise_handshake_new (SOTTO_PROTOCOL_NAME, initiator,
                                              (const guint8 *) prologue, strlen (prologue),
                                              &error);
  g_assert_no_error (error);
  sotto_noise_handshake_set_static_key (raw->handshake, sotto_identity_get_secret_key (identity));
  g_assert_true (sotto_noise_handshake_start (raw->handshake, &error));
  g_assert_no_error (error);
}

static void
raw_write_handshake (Raw          *raw,
                     const guint8 *payload,
                     gsize         len)
{
  g_autoptr (GByteArray) message = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_noise_handshake_write_message (raw->handshake, payload, len, message,
                                                      &error));
  g_assert_no_error (error);
  g_assert_true (raw_write_frame (raw, message->data, message->len, NULL));
}

static void
raw_write_hello (Raw              *raw,
                 const SottoHello *hello)
{
  g_autoptr (GBytes) bytes = sotto_hello_encode (hello, NULL);

  g_assert_nonnull (bytes);
  raw_write_handshake (raw, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* Reads one handshake message into @payload; FALSE if Noise refuses it. */
static gboolean
raw_read_handshake (Raw         *raw,
                    GByteArray  *payload,
                    GError     **error)
{
  g_autoptr (GBytes) frame = raw_read_frame (raw);

  g_assert_nonnull (frame);
  return sotto_noise_handshake_read_message (raw->handshake, g_bytes_get_data (frame, NULL),
                                             g_bytes_get_size (frame), payload, error);
}

static void
raw_split (Raw *raw)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (sotto_noise_handshake_get_action (raw->handshake), ==,
                   SOTTO_NOISE_ACTION_SPLIT);
  g_assert_true (sotto_noise_handshake_split (raw->handshake, &raw->send, &raw->receive, &error));
  g_assert_no_error (error);
  g_clear_pointer (&raw->handshake, sotto_noise_handshake_free);
}

/* The whole handshake, honestly, as the initiator: checks who answered. */
static void
raw_handshake_as_initiator (Fixture *f,
                            Raw     *raw)
{
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  g_autoptr (SottoHello) hello = NULL;
  g_autoptr (GError) error = NULL;

  raw_start_noise (raw, TRUE, f->client_id, SOTTO_PROTOCOL_PROLOGUE);
  raw_write_handshake (raw, NULL, 0);
  g_assert_true (raw_read_handshake (raw, payload, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (sotto_noise_handshake_get_remote_static_key (raw->handshake), SOTTO_KEY_LEN,
                   sotto_identity_get_public_key (f->server_id), SOTTO_KEY_LEN);
  hello = sotto_hello_decode (payload->data, payload->len, &error);
  g_assert_no_error (error);
  g_assert_true (sotto_hello_equal (hello, &f->server_hello));
  raw_write_hello (raw, &f->client_hello);
  raw_split (raw);
}

/* Reads message 1 and answers with message 2, as @identity. */
static void
raw_respond (Raw              *raw,
             SottoIdentity    *identity,
             const char       *prologue,
             const SottoHello *hello)
{
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  raw_start_noise (raw, FALSE, identity, prologue);
  g_assert_true (raw_read_handshake (raw, payload, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (payload->len, ==, 0);
  raw_write_hello (raw, hello);
}

static gboolean
raw_send_plaintext (Raw          *raw,
                    const guint8 *data,
                    gsize         len,
                    GBytes      **wire_out)
{
  g_autoptr (GByteArray) message = g_byte_array_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (sotto_noise_cipher_encrypt (raw->send, NULL, 0, data, len, message, &error));
  g_assert_no_error (error);
  return raw_write_frame (raw, message->data, message->len, wire_out);
}

static gboolean
raw_send_payload (Raw                *raw,
                  const SottoPayload *payload,
                  GBytes            **wire_out)
{
  g_autoptr (GBytes) plaintext = NULL;
  g_autoptr (GError) error = NULL;

  plaintext = sotto_payload_encode (payload, &error);
  g_assert_no_error (error);
  return raw_send_plaintext (raw, g_bytes_get_data (plaintext, NULL),
                             g_bytes_get_size (plaintext), wire_out);
}

static gboolean
raw_send_text (Raw        *raw,
               guint       i,
               const char *who)
{
  g_autoptr (SottoPayload) text = make_text (i, who);

  return raw_send_payload (raw, text, NULL);
}

/* The next transport payload from the session. */
static SottoPayload *
raw_receive_payload (Raw *raw)
{
  g_autoptr (GBytes) frame = raw_read_frame (raw);
  g_autoptr (GByteArray) plaintext = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  SottoPayload *payload;

  g_assert_nonnull (frame);
  g_assert_true (sotto_noise_cipher_decrypt (raw->receive, NULL, 0, g_bytes_get_data (frame, NULL),
                                             g_bytes_get_size (frame), plaintext, &error));
  g_assert_no_error (error);
  payload = sotto_payload_decode (plaintext->data, plaintext->len, &error);
  g_assert_no_error (error);
  return payload;
}

/* A payload's wire form with the kind byte first (-1: none), crafted
 * here so it can break the rules sotto_payload_encode() enforces. */
static GBytes *
craft_plaintext (int       kind,
                 GVariant *variant)
{
  g_autoptr (GVariant) sunk = g_variant_ref_sink (variant);
  g_autoptr (GVariant) little = NULL;
  GByteArray *out = g_byte_array_new ();

  little = G_BYTE_ORDER == G_BIG_ENDIAN ? g_variant_byteswap (sunk) : g_variant_ref (sunk);
  if (kind >= 0)
    {
      guint8 k = (guint8) kind;

      g_byte_array_append (out, &k, 1);
    }
  g_byte_array_append (out, g_variant_get_data (little), (guint) g_variant_get_size (little));
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
craft_receipt (guint n_ids)
{
  g_auto (GVariantBuilder) ids = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aay"));

  for (guint i = 0; i < n_ids; i++)
    {
      guint8 id[SOTTO_MESSAGE_UID_LEN];

      memset (id, (int) (i & 0xff), sizeof id);
      id[0] = (guint8) (i >> 8);
      g_variant_builder_add_value (&ids, g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, id,
                                                                    sizeof id, 1));
    }
  return craft_plaintext (SOTTO_PAYLOAD_RECEIPT,
                          g_variant_new ("(y@aay)", SOTTO_RECEIPT_DELIVERED,
                                         g_variant_builder_end (&ids)));
}

/* -------------------------------------------------------------------------
 * Noise XX by hand (initiator), from the spec, with libsodium only
 *
 * SottoNoise can't finish a handshake whose prologue differs from the
 * responder's: it fails to authenticate message 2. An attacker who knows
 * the responder's key (it is public) can still compute message 3 without
 * reading message 2's encrypted parts; this does that, so the test can
 * show that the *responder* binds the prologue too.
 * ------------------------------------------------------------------------- */

typedef struct
{
  guint8  ck[64];
  guint8  h[64];
  guint8  k[32];
  guint64 n;
} HandState;

static void
hand_hmac (const guint8  key[64],
           const guint8 *a,
           gsize         a_len,
           const guint8 *b,
           gsize         b_len,
           guint8        out[64])
{
  crypto_generichash_state state;
  guint8 block[128];
  guint8 inner[64];

  memset (block, 0, sizeof block);
  memcpy (block, key, 64);
  for (gsize i = 0; i < sizeof block; i++)
    block[i] ^= 0x36;
  crypto_generichash_init (&state, NULL, 0, 64);
  crypto_generichash_update (&state, block, sizeof block);
  crypto_generichash_update (&state, a, a_len);
  crypto_generichash_update (&state, b, b_len);
  crypto_generichash_final (&state, inner, 64);

  memset (block, 0, sizeof block);
  memcpy (block, key, 64);
  for (gsize i = 0; i < sizeof block; i++)
    block[i] ^= 0x5c;
  crypto_generichash_init (&state, NULL, 0, 64);
  crypto_generichash_update (&state, block, sizeof block);
  crypto_generichash_update (&state, inner, 64);
  crypto_generichash_final (&state, out, 64);
}

static void
hand_hkdf (const guint8  ck[64],
           const guint8 *ikm,
           gsize         ikm_len,
           guint8        out1[64],
           guint8        out2[64])
{
  const guint8 one = 1;
  const guint8 two = 2;
  guint8 temp[64];

  hand_hmac (ck, ikm, ikm_len, NULL, 0, temp);
  hand_hmac (temp, &one, 1, NULL, 0, out1);
  hand_hmac (temp, out1, 64, &two, 1, out2);
}

static void
hand_mix_hash (HandState    *s,
               const guint8 *data,
               gsize         len)
{
  crypto_generichash_state state;

  crypto_generichash_init (&state, NULL, 0, 64);
  crypto_generichash_update (&state, s->h, 64);
  crypto_generichash_update (&state, data, len);
  crypto_generichash_final (&state, s->h, 64);
}

static void
hand_mix_key (HandState    *s,
              const guint8  secret[32],
              const guint8  pub[32])
{
  guint8 dh[32];
  guint8 out1[64];
  guint8 out2[64];

  g_assert_cmpint (crypto_scalarmult (dh, secret, pub), ==, 0);
  hand_hkdf (s->ck, dh, sizeof dh, out1, out2);
  memcpy (s->ck, out1, 64);
  memcpy (s->k, out2, 32);
  s->n = 0;
}

static void
hand_nonce (guint64 n,
            guint8  nonce[12])
{
  memset (nonce, 0, 12);
  for (int i = 0; i < 8; i++)
    nonce[4 + i] = (guint8) (n >> (8 * i));
}

static void
hand_encrypt (const guint8  k[32],
              guint64       n,
              const guint8 *ad,
              gsize         ad_len,
              const guint8 *plaintext,
              gsize         len,
              GByteArray   *out)
{
  guint offset = out->len;
  guint8 nonce[12];

  hand_nonce (n, nonce);
  g_byte_array_set_size (out, offset + (guint) len + 16);
  crypto_aead_chacha20poly1305_ietf_encrypt (out->data + offset, NULL, plaintext, len, ad, ad_len,
                                             NULL, nonce, k);
}

static void
hand_encrypt_and_hash (HandState    *s,
                       const guint8 *plaintext,
                       gsize         len,
                       GByteArray   *out)
{
  guint offset = out->len;

  hand_encrypt (s->k, s->n++, s->h, 64, plaintext, len, out);
  hand_mix_hash (s, out->data + offset, len + 16);
}

/* Returns whether the ciphertext was authentic; hashes it either way. */
static gboolean
hand_decrypt_and_hash (HandState    *s,
                       const guint8 *ciphertext,
                       gsize         len)
{
  g_autofree guint8 *plaintext = g_malloc (len);
  guint8 nonce[12];
  gboolean ok;

  g_assert_cmpuint (len, >=, 16);
  hand_nonce (s->n++, nonce);
  ok = crypto_aead_chacha20poly1305_ietf_decrypt (plaintext, NULL, NULL, ciphertext, len, s->h, 64,
                                                  nonce, s->k) == 0;
  hand_mix_hash (s, ciphertext, len);
  return ok;
}

/* Runs the initiator's side of XX on @raw with @prologue, pretending
 * message 2 was fine; returns whether it was, and the transport key. */
static gboolean
hand_initiator (Fixture    *f,
                Raw        *raw,
                const char *prologue,
                guint8      send_key[32])
{
  g_autoptr (GBytes) hello = sotto_hello_encode (&f->client_hello, NULL);
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (GByteArray) message = g_byte_array_new ();
  const guint8 *rs = sotto_identity_get_public_key (f->server_id);
  const guint8 *s_pub = sotto_identity_get_public_key (f->client_id);
  const guint8 *s_secret = sotto_identity_get_secret_key (f->client_id);
  const guint8 *m;
  HandState s = { 0 };
  guint8 e_secret[32];
  guint8 e_pub[32];
  guint8 re[32];
  guint8 out1[64];
  guint8 out2[64];
  gsize len;
  gboolean authentic;

  G_STATIC_ASSERT (sizeof SOTTO_PROTOCOL_NAME - 1 <= 64);
  memcpy (s.h, SOTTO_PROTOCOL_NAME, strlen (SOTTO_PROTOCOL_NAME));
  memcpy (s.ck, s.h, 64);
  hand_mix_hash (&s, (const guint8 *) prologue, strlen (prologue));
  randombytes_buf (e_secret, sizeof e_secret);
  crypto_scalarmult_base (e_pub, e_secret);

  /* -> e (and an empty payload: MixHash of nothing) */
  hand_mix_hash (&s, e_pub, 32);
  hand_mix_hash (&s, NULL, 0);
  g_assert_true (raw_write_frame (raw, e_pub, 32, NULL));

  /* <- e, ee, s, es, payload */
  frame = raw_read_frame (raw);
  g_assert_nonnull (frame);
  m = g_bytes_get_data (frame, &len);
  g_assert_cmpuint (len, >, 32 + 48 + 16);
  memcpy (re, m, 32);
  hand_mix_hash (&s, re, 32);
  hand_mix_key (&s, e_secret, re);
  authentic = hand_decrypt_and_hash (&s, m + 32, 48);
  hand_mix_key (&s, e_secret, rs);
  authentic &= hand_decrypt_and_hash (&s, m + 80, len - 80);

  /* -> s, se, payload */
  hand_encrypt_and_hash (&s, s_pub, 32, message);
  hand_mix_key (&s, s_secret, re);
  hand_encrypt_and_hash (&s, g_bytes_get_data (hello, NULL), g_bytes_get_size (hello), message);
  g_assert_true (raw_write_frame (raw, message->data, message->len, NULL));

  hand_hkdf (s.ck, NULL, 0, out1, out2);
  memcpy (send_key, out1, 32);
  sodium_memzero (&s, sizeof s);
  sodium_memzero (e_secret, sizeof e_secret);
  return authentic;
}

/* -------------------------------------------------------------------------
 * Tests: the honest path
 * ------------------------------------------------------------------------- */

#define N_HAPPY 200

static void
test_happy_path (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr (SottoPayload) early = make_text (0, "client");
  g_autoptr (GInetSocketAddress) address = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *where = NULL;
  Peer *server;
  Peer *client;

  client = client_connect (f, sotto_identity_get_public_key (f->server_id), &server);
  g_assert_true (sotto_session_is_initiator (client->session));
  g_assert_false (sotto_session_is_initiator (server->session));

  /* Nothing goes out before the handshake is done. */
  g_assert_false (sotto_session_send (client->session, early, &error));
  g_assert_error (error, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_CLOSED);
  g_clear_error (&error);

  WAIT_UNTIL (client->established && server->established);
  g_assert_cmpuint (f->n_auth_calls, ==, 1);
  g_assert_cmpmem (f->auth_key, SOTTO_KEY_LEN,
                   sotto_identity_get_public_key (f->client_id), SOTTO_KEY_LEN);
  g_assert_cmpmem (sotto_session_get_remote_key (client->session), SOTTO_KEY_LEN,
                   sotto_identity_get_public_key (f->server_id), SOTTO_KEY_LEN);
  g_assert_cmpmem (sotto_session_get_remote_key (server->session), SOTTO_KEY_LEN,
                   sotto_identity_get_public_key (f->client_id), SOTTO_KEY_LEN);
  g_assert_true (sotto_hello_equal (sotto_session_get_remote_hello (client->session),
                                    &f->server_hello));
  g_assert_true (sotto_hello_equal (sotto_session_get_remote_hello (server->session),
                                    &f->client_hello));
  g_assert_cmpint (sotto_session_get_mode (client->session), ==, SOTTO_SESSION_MODE_CONTACT);
  g_assert_cmpint (sotto_session_get_mode (server->session), ==, SOTTO_SESSION_MODE_CONTACT);
  g_assert_cmpint (sotto_session_get_established_time (server->session), >, 0);
  address = sotto_session_get_remote_address (server->session);
  g_assert_nonnull (address);
  where = g_inet_address_to_string (g_inet_socket_address_get_address (address));
  g_assert_cmpstr (where, ==, "127.0.0.1");

  for (guint i = 0; i < N_HAPPY; i++)
    {
      send_text (client, i, "client");
      send_text (server, i, "server");
    }
  WAIT_UNTIL (client->payloads->len == N_HAPPY && server->payloads->len == N_HAPPY);
  for (guint i = 0; i < N_HAPPY; i++)
    {
      assert_text (peer_payload (server, i), i, "client");
      assert_text (peer_payload (client, i), i, "server");
    }

  sotto_session_close (client->session, NULL);
  assert_closed_with (client, SOTTO_SESSION_ERROR_CLOSED);
  assert_closed_with (server, SOTTO_SESSION_ERROR_PEER_CLOSED);
  g_assert_cmpuint (client->payloads->len, ==, N_HAPPY);
  g_assert_cmpuint (server->payloads->len, ==, N_HAPPY);

  /* A closed session sends nothing, and closing again changes nothing. */
  g_assert_false (sotto_session_send (server->session, early, &error));
  g_assert_error (error, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_CLOSED);
  sotto_session_close (client->session, NULL);
  g_assert_cmpuint (client->n_closed, ==, 1);
}

/* Two connected TCP descriptors on loopback, from plain system calls. */
static void
tcp_pair (int fds[2])
{
  struct sockaddr_in address = { .sin_family = AF_INET };
  socklen_t len = sizeof address;
  int listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (listen_fd, >=, 0);
  g_assert_no_errno (bind (listen_fd, (struct sockaddr *) &address, sizeof address));
  g_assert_no_errno (listen (listen_fd, 1));
  g_assert_no_errno (getsockname (listen_fd, (struct sockaddr *) &address, &len));
  fds[1] = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_no_errno (connect (fds[1], (struct sockaddr *) &address, sizeof address));
  fds[0] = accept (listen_fd, NULL, NULL);
  g_assert_cmpint (fds[0], >=, 0);
  close (listen_fd);
}

/* sotto_session_new_for_fd(): a session on a descriptor that has no
 * GSocket (TCP from plain system calls, as the benchmark makes it, and a
 * Unix socket pair, which has no Nagle to turn off) works as one on a
 * connection does, and closes the descriptor it took over: when it
 * closes, and when it is dropped before it started. */
static void
test_plain_descriptor (Fixture       *f,
                       gconstpointer  data)
{
  int fds[2];
  char byte;
  SottoSession *unstarted;

  for (guint pass = 0; pass < 2; pass++)
    {
      g_autoptr (GInetSocketAddress) address = NULL;
      Peer *server;
      Peer *client;

      if (pass == 0)
        tcp_pair (fds);
      else
        g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));

      server = peer_new_full (f, NULL, fds[0], f->server_id, &f->server_hello, NULL);
      client = peer_new_full (f, NULL, fds[1], f->client_id, &f->client_hello,
                              sotto_identity_get_public_key (f->server_id));
      g_ptr_array_add (f->clients, server);
      g_ptr_array_add (f->clients, client);
      peer_start (server);
      peer_start (client);
      WAIT_UNTIL (client->established && server->established);
      g_assert_true (sotto_hello_equal (sotto_session_get_remote_hello (server->session),
                                        &f->client_hello));

      address = sotto_session_get_remote_address (server->session);
      if (pass == 0)
        {
          g_autofree char *where = NULL;

          g_assert_nonnull (address);
          where = g_inet_address_to_string (g_inet_socket_address_get_address (address));
          g_assert_cmpstr (where, ==, "127.0.0.1");
        }
      else
        g_assert_null (address);

      for (guint i = 0; i < 10; i++)
        {
          send_text (client, i, "client");
          send_text (server, i, "server");
        }
      WAIT_UNTIL (client->payloads->len == 10 && server->payloads->len == 10);
      for (guint i = 0; i < 10; i++)
        {
          assert_text (peer_payload (server, i), i, "client");
          assert_text (peer_payload (client, i), i, "server");
        }

      /* The server hears the close: the client's descriptor is shut. */
      sotto_session_close (client->session, NULL);
      assert_closed_with (client, SOTTO_SESSION_ERROR_CLOSED);
      assert_closed_with (server, SOTTO_SESSION_ERROR_PEER_CLOSED);
    }

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  unstarted = sotto_session_new_for_fd (fds[0], f->server_id, &f->server_hello, NULL);
  g_object_unref (unstarted);
  g_assert_cmpint (recv (fds[1], &byte, 1, MSG_DONTWAIT), ==, 0);
  close (fds[1]);
}

/* A handler of payload-received that runs a nested main loop (as a test
 * waiting for the store does) while more arrives: the nested loop neither
 * re-enters the session's read nor spins on the readable socket, and
 * everything arrives in order once the handler returns. */
#define N_NESTED 50

typedef struct
{
  Peer    *client;
  guint    depth;
  gboolean nested_done;
  guint    iterations;
} Nested;

static gboolean
on_nested_send_cb (gpointer user_data)
{
  Nested *nested = user_data;

  for (guint i = 1; i < N_NESTED; i++)
    send_text (nested->client, i, "client");
  return G_SOURCE_REMOVE;
}

static gboolean
on_nested_done_cb (gpointer user_data)
{
  Nested *nested = user_data;

  nested->nested_done = TRUE;
  return G_SOURCE_REMOVE;
}

static void
on_nested_payload_cb (SottoSession *session,
                      gpointer      payload,
                      Nested       *nested)
{
  g_assert_cmpuint (nested->depth, ==, 0);
  if (nested->iterations > 0)
    return;

  nested->depth++;
  g_timeout_add (5, on_nested_send_cb, nested);
  g_timeout_add (100, on_nested_done_cb, nested);
  while (!nested->nested_done)
    {
      g_main_context_iteration (NULL, TRUE);
      nested->iterations++;
    }
  nested->depth--;
}

static void
test_nested_main_loop (Fixture       *f,
                       gconstpointer  data)
{
  Nested nested = { 0 };
  Peer *server;
  Peer *client;

  client = client_connect (f, sotto_identity_get_public_key (f->server_id), &server);
  WAIT_UNTIL (client->established && server->established);
  nested.client = client;
  g_signal_connect (server->session, "payload-received", G_CALLBACK (on_nested_payload_cb),
                    &nested);

  send_text (client, 0, "client");
  WAIT_UNTIL (server->payloads->len == N_NESTED);
  for (guint i = 0; i < N_NESTED; i++)
    assert_text (peer_payload (server, i), i, "client");

  /* The client's sends and its own socket made a handful of iterations;
   * a readable socket polled over and over would make thousands. */
  g_assert_true (nested.nested_done);
  g_assert_cmpuint (nested.iterations, <, 100);
  g_assert_null (server->reason);
  assert_honest_session_works (f);
}

/* -------------------------------------------------------------------------
 * Tests: attacks
 * ------------------------------------------------------------------------- */

static void
test_attack_flipped_byte (Fixture       *f,
                          gconstpointer  data)
{
  /* A byte of the ciphertext body, and the last byte of the tag. */
  const gssize flips[] = { SOTTO_FRAME_HEADER_LEN, SOTTO_FRAME_HEADER_LEN + 9, -1 };

  for (gsize n = 0; n < G_N_ELEMENTS (flips); n++)
    {
      g_autoptr (SottoPayload) text = make_text (1, "raw");
      g_autoptr (GBytes) wire = NULL;
      g_autofree guint8 *bytes = NULL;
      gsize len;
      Peer *server;
      Raw *raw = raw_connect (f, &server);

      raw_handshake_as_initiator (f, raw);
      WAIT_UNTIL (server->established);
      g_assert_true (raw_send_text (raw, 0, "raw"));
      WAIT_UNTIL (server->payloads->len == 1);

      /* Encrypt the next message, flip one bit on the wire. */
      {
        g_autoptr (GBytes) plaintext = sotto_payload_encode (text, NULL);
        g_autoptr (GByteArray) message = g_byte_array_new ();
        g_autoptr (GByteArray) frame = g_byte_array_new ();

        g_assert_true (sotto_noise_cipher_encrypt (raw->send, NULL, 0,
                                                   g_bytes_get_data (plaintext, NULL),
                                                   g_bytes_get_size (plaintext), message, NULL));
        g_assert_true (sotto_frame_encode (message->data, message->len, frame, NULL));
        wire = g_byte_array_free_to_bytes (g_steal_pointer (&frame));
      }
      len = g_bytes_get_size (wire);
      bytes = g_memdup2 (g_bytes_get_data (wire, NULL), len);
      bytes[flips[n] >= 0 ? (gsize) flips[n] : len - 1] ^= 0x01;
      g_assert_true (raw_write (raw, bytes, len));

      assert_closed_with (server, SOTTO_SESSION_ERROR_CRYPTO);
      g_assert_cmpuint (server->payloads->len, ==, 1);
      raw_assert_eof (raw);
    }

  assert_honest_session_works (f);
}

#define N_RECORDED 3

static void
test_attack_replay (Fixture       *f,
                    gconstpointer  data)
{
  GBytes *recorded[N_RECORDED];
  Peer *server1;
  Peer *server2;
  Peer *server3;
  Raw *raw1 = raw_connect (f, &server1);
  Raw *raw2;
  Raw *raw3;

  /* Session 1: three messages, recorded as they went on the wire. */
  raw_handshake_as_initiator (f, raw1);
  WAIT_UNTIL (server1->established);
  for (guint i = 0; i < N_RECORDED; i++)
    {
      g_autoptr (SottoPayload) text = make_text (i, "raw");

      g_assert_true (raw_send_payload (raw1, text, &recorded[i]));
    }
  WAIT_UNTIL (server1->payloads->len == N_RECORDED);

  /* Replayed into the same session: its nonce has moved on. */
  g_assert_true (raw_write (raw1, g_bytes_get_data (recorded[0], NULL),
                            g_bytes_get_size (recorded[0])));
  assert_closed_with (server1, SOTTO_SESSION_ERROR_CRYPTO);
  g_assert_cmpuint (server1->payloads->len, ==, N_RECORDED);
  raw_assert_eof (raw1);

  /* Replayed into a new session: new keys. Each of the recorded frames,
   * including the one whose nonce (0) is the one expected next. */
  for (guint i = 0; i < N_RECORDED; i++)
    {
      raw2 = raw_connect (f, &server2);
      raw_handshake_as_initiator (f, raw2);
      WAIT_UNTIL (server2->established);
      g_assert_true (raw_write (raw2, g_bytes_get_data (recorded[i], NULL),
                                g_bytes_get_size (recorded[i])));
      assert_closed_with (server2, SOTTO_SESSION_ERROR_CRYPTO);
      g_assert_cmpuint (server2->payloads->len, ==, 0);
      raw_assert_eof (raw2);
    }

  /* Nor can a whole recorded handshake be: the responder's ephemeral key
   * is new, so an old message 3 fails. */
  {
    g_autoptr (GBytes) hello = sotto_hello_encode (&f->client_hello, NULL);
    g_autoptr (GByteArray) message = g_byte_array_new ();
    g_autoptr (GByteArray) payload = g_byte_array_new ();
    g_autoptr (GBytes) msg1 = NULL;
    g_autoptr (GBytes) msg2 = NULL;
    g_autoptr (GBytes) msg3 = NULL;

    raw3 = raw_connect (f, &server3);
    raw_start_noise (raw3, TRUE, f->client_id, SOTTO_PROTOCOL_PROLOGUE);
    g_assert_true (sotto_noise_handshake_write_message (raw3->handshake, NULL, 0, message, NULL));
    g_assert_true (raw_write_frame (raw3, message->data, message->len, &msg1));
    g_assert_true (raw_read_handshake (raw3, payload, NULL));
    g_byte_array_set_size (message, 0);
    g_assert_true (sotto_noise_handshake_write_message (raw3->handshake,
                                                        g_bytes_get_data (hello, NULL),
                                                        g_bytes_get_size (hello), message, NULL));
    g_assert_true (raw_write_frame (raw3, message->data, message->len, &msg3));
    WAIT_UNTIL (server3->established);

    raw2 = raw_connect (f, &server2);
    g_assert_true (raw_write (raw2, g_bytes_get_data (msg1, NULL), g_bytes_get_size (msg1)));
    msg2 = raw_read_frame (raw2);
    g_assert_nonnull (msg2);
    g_assert_true (raw_write (raw2, g_bytes_get_data (msg3, NULL), g_bytes_get_size (msg3)));
    assert_closed_with (server2, SOTTO_SESSION_ERROR_CRYPTO);
    g_assert_false (server2->established);
    raw_assert_eof (raw2);
  }

  for (guint i = 0; i < N_RECORDED; i++)
    g_bytes_unref (recorded[i]);
  /* Session 1, the new sessions and the honest one of the handshake
   * recording; never the replayed handshake. */
  g_assert_cmpuint (f->n_auth_calls, ==, 1 + N_RECORDED + 1);
  assert_honest_session_works (f);
}

static void
test_attack_truncated_frame (Fixture       *f,
                             gconstpointer  data)
{
  /* After the handshake: a header for 100 bytes, then 50, then EOF;
   * one byte of a header, then EOF. During the handshake: 32 announced,
   * 10 sent. */
  const struct
  {
    gboolean     handshake_first;
    const char  *bytes;
    gsize        len;
  } cases[] = {
    { TRUE, "\x00\x64" "0123456789012345678901234567890123456789012345678", 52 },
    { TRUE, "\x00", 1 },
    { FALSE, "\x00\x20" "0123456789", 12 },
  };

  for (gsize n = 0; n < G_N_ELEMENTS (cases); n++)
    {
      g_autoptr (GError) error = NULL;
      Peer *server;
      Raw *raw = raw_connect (f, &server);

      if (cases[n].handshake_first)
        {
          raw_handshake_as_initiator (f, raw);
          WAIT_UNTIL (server->established);
        }
      g_assert_true (raw_write (raw, cases[n].bytes, cases[n].len));
      g_socket_shutdown (raw->socket, FALSE, TRUE, &error);
      g_assert_no_error (error);

      assert_closed_with (server, SOTTO_SESSION_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (server->reason->message, "ended inside a frame"));
      g_assert_cmpuint (server->payloads->len, ==, 0);
      raw_assert_eof (raw);
    }

  assert_honest_session_works (f);
}

static void
test_attack_handshake_frame_too_long (Fixture       *f,
                                      gconstpointer  data)
{
  guint8 bytes[2 + 33];
  Peer *server;
  Raw *raw;

  /* Message 1 is exactly 32 bytes: a header saying 33 is refused before
   * any of its bytes are read. */
  memset (bytes, 0x42, sizeof bytes);
  bytes[0] = 0;
  bytes[1] = 33;
  raw = raw_connect (f, &server);
  g_assert_true (raw_write (raw, bytes, sizeof bytes));
  assert_closed_with (server, SOTTO_SESSION_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (server->reason->message, "bad frame"));
  raw_assert_eof (raw);

  /* One byte short: Noise can't read an ephemeral key from it. */
  bytes[1] = 31;
  raw = raw_connect (f, &server);
  g_assert_true (raw_write (raw, bytes, 2 + 31));
  assert_closed_with (server, SOTTO_SESSION_ERROR_PROTOCOL);
  raw_assert_eof (raw);
  g_assert_cmpuint (f->n_auth_calls, ==, 0);

  /* The largest header there is, at once. */
  bytes[0] = bytes[1] = 0xff;
  raw = raw_connect (f, &server);
  g_assert_true (raw_write (raw, bytes, 2));
  assert_closed_with (server, SOTTO_SESSION_ERROR_PROTOCOL);
  raw_assert_eof (raw);

  assert_honest_session_works (f);
}

static void
test_attack_empty_frame (Fixture       *f,
                         gconstpointer  data)
{
  const guint8 empty[] = { 0, 0 };

  for (int handshake = 0; handshake <= 1; handshake++)
    {
      Peer *server;
      Raw *raw = raw_connect (f, &server);

      if (handshake)
        {
          raw_handshake_as_initiator (f, raw);
          WAIT_UNTIL (server->established);
        }
      g_assert_true (raw_write (raw, empty, sizeof empty));
      assert_closed_with (server, SOTTO_SESSION_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (server->reason->message, "bad frame"));
      g_assert_cmpuint (server->payloads->len, ==, 0);
      raw_assert_eof (raw);
    }

  assert_honest_session_works (f);
}

static void
test_attack_garbage (Fixture       *f,
                     gconstpointer  data)
{
  const char *garbage[] = {
    "GET / HTTP/1.1\r\n\r\n",
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  /* a TLS ClientHello */
    "SSH-2.0-OpenSSH_9.2\r\n",
  };

  for (gsize n = 0; n < G_N_ELEMENTS (garbage); n++)
    {
      Peer *server;
      Raw *raw = raw_connect (f, &server);

      g_assert_true (raw_write (raw, garbage[n], strlen (garbage[n])));
      assert_closed_with (server, SOTTO_SESSION_ERROR_PROTOCOL);
      /* Not a byte back: the responder speaks only after message 1. */
      raw_assert_eof (raw);
    }
  g_assert_cmpuint (f->n_auth_calls, ==, 0);

  assert_honest_session_works (f);
}

static void
test_attack_wrong_prologue_initiator (Fixture       *f,
                                      gconstpointer  data)
{
  const char *prologues[] = { SOTTO_PROTOCOL_PROLOGUE, "Sotto/2" };

  for (gsize n = 0; n < G_N_ELEMENTS (prologues); n++)
    {
      gboolean right = n == 0;
      Peer *client;
      Raw *raw = raw_accept (f, sotto_identity_get_public_key (f->server_id), &client);

      raw_respond (raw, f->server_id, prologues[n], &f->server_hello);
      if (right)
        {
          g_autoptr (GByteArray) payload = g_byte_array_new ();
          g_autoptr (GError) error = NULL;

          g_assert_true (raw_read_handshake (raw, payload, &error));
          g_assert_no_error (error);
          WAIT_UNTIL (client->established);
          continue;
        }
      assert_closed_with (client, SOTTO_SESSION_ERROR_CRYPTO);
      g_assert_false (client->established);
      raw_assert_eof (raw);
    }

  assert_honest_session_works (f);
}

static void
test_attack_wrong_prologue_responder (Fixture       *f,
                                      gconstpointer  data)
{
  guint8 key[32];
  Peer *server;
  Raw *raw;

  /* The hand-made initiator is right with the right prologue: the session
   * accepts it and the transport key it derives. */
  raw = raw_connect (f, &server);
  g_assert_true (hand_initiator (f, raw, SOTTO_PROTOCOL_PROLOGUE, key));
  WAIT_UNTIL (server->established);
  {
    g_autoptr (SottoPayload) text = make_text (7, "by hand");
    g_autoptr (GBytes) plaintext = sotto_payload_encode (text, NULL);
    g_autoptr (GByteArray) message = g_byte_array_new ();

    hand_encrypt (key, 0, NULL, 0, g_bytes_get_data (plaintext, NULL),
                  g_bytes_get_size (plaintext), message);
    g_assert_true (raw_write_frame (raw, message->data, message->len, NULL));
  }
  WAIT_UNTIL (server->payloads->len == 1);
  assert_text (peer_payload (server, 0), 7, "by hand");
  g_assert_cmpuint (f->n_auth_calls, ==, 1);

  /* With another prologue, message 2 doesn't authenticate here, and
   * message 3 doesn't there: the caller is never even looked at. */
  raw = raw_connect (f, &server);
  g_assert_false (hand_initiator (f, raw, "Sotto/2", key));
  assert_closed_with (server, SOTTO_SESSION_ERROR_CRYPTO);
  g_assert_false (server->established);
  g_assert_cmpuint (f->n_auth_calls, ==, 1);
  raw_assert_eof (raw);

  assert_honest_session_works (f);
}

static void
test_attack_refused (Fixture       *f,
                     gconstpointer  data)
{
  Peer *server;
  Raw *raw;

  f->auth_mode = SOTTO_SESSION_MODE_REFUSE;
  raw = raw_connect (f, &server);
  raw_handshake_as_initiator (f, raw);
  assert_closed_with (server, SOTTO_SESSION_ERROR_REFUSED);
  g_assert_false (server->established);
  g_assert_cmpuint (f->n_auth_calls, ==, 1);
  g_assert_cmpmem (f->auth_key, SOTTO_KEY_LEN,
                   sotto_identity_get_public_key (f->client_id), SOTTO_KEY_LEN);
  /* Not even a request state: the connection just ends. */
  raw_assert_eof (raw);

  /* A session without an auth func refuses everyone. */
  {
    g_autoptr (GSocketListener) listener = NULL;
    g_autoptr (GSocketConnection) connection = NULL;
    g_autoptr (GSocketConnection) accepted = NULL;
    guint16 port;
    Peer *lone;

    listener = listen_on_loopback (&port);
    connection = connect_to_loopback (port);
    accepted = g_socket_listener_accept (listener, NULL, NULL, NULL);
    g_assert_nonnull (accepted);
    lone = peer_new (f, accepted, f->server_id, &f->server_hello, NULL);
    sotto_session_set_auth_func (lone->session, NULL, NULL);
    g_ptr_array_add (f->servers, lone);
    peer_start (lone);
    raw = raw_new (f, connection);
    raw_handshake_as_initiator (f, raw);
    assert_closed_with (lone, SOTTO_SESSION_ERROR_REFUSED);
    raw_assert_eof (raw);
    g_assert_cmpuint (f->n_auth_calls, ==, 1);
  }

  assert_honest_session_works (f);
}

static void
test_attack_mitm (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr (SottoIdentity) mallory = NULL;
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  Peer *client;
  Raw *raw;

  mallory = sotto_identity_generate ("Bob", &error);
  g_assert_no_error (error);

  /* Mallory answers in Bob's name, with her own key. */
  raw = raw_accept (f, sotto_identity_get_public_key (f->server_id), &client);
  raw_respond (raw, mallory, SOTTO_PROTOCOL_PROLOGUE, &f->server_hello);
  assert_closed_with (client, SOTTO_SESSION_ERROR_KEY_MISMATCH);
  g_assert_false (client->established);
  /* Message 3 (our key and hello, encrypted to Mallory) never left. */
  raw_assert_eof (raw);

  /* The same raw responder with Bob's key gets message 3. */
  raw = raw_accept (f, sotto_identity_get_public_key (f->server_id), &client);
  raw_respond (raw, f->server_id, SOTTO_PROTOCOL_PROLOGUE, &f->server_hello);
  g_assert_true (raw_read_handshake (raw, payload, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (client->established);

  assert_honest_session_works (f);
}

/* X25519 ignores a public key's top bit: with it set, the same key pair
 * has a second byte form, under a second fingerprint. The responder
 * refuses it once message 3 is read, before it asks who may call. */
static void
test_attack_non_canonical_key_initiator (Fixture       *f,
                                         gconstpointer  data)
{
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  guint8 other_form[SOTTO_KEY_LEN];
  Peer *server;
  Raw *raw;

  memcpy (other_form, sotto_identity_get_public_key (f->client_id), SOTTO_KEY_LEN);
  other_form[31] |= 0x80;

  raw = raw_connect (f, &server);
  raw->handshake = sotto_noise_handshake_new (SOTTO_PROTOCOL_NAME, TRUE,
                                              (const guint8 *) SOTTO_PROTOCOL_PROLOGUE,
                                              strlen (SOTTO_PROTOCOL_PROLOGUE), &error);
  g_assert_no_error (error);
  sotto_noise_handshake_set_static_keypair (raw->handshake,
                                            sotto_identity_get_secret_key (f->client_id),
                                            other_form);
  g_assert_true (sotto_noise_handshake_start (raw->handshake, &error));
  g_assert_no_error (error);
  raw_write_handshake (raw, NULL, 0);
  g_assert_true (raw_read_handshake (raw, payload, &error));
  g_assert_no_error (error);
  raw_write_hello (raw, &f->client_hello);

  assert_closed_with (server, SOTTO_SESSION_ERROR_PROTOCOL);
  g_assert_false (server->established);
  g_assert_cmpuint (f->n_auth_calls, ==, 0);
  raw_assert_eof (raw);

  assert_honest_session_works (f);
}

/* The initiator refuses it in message 2, before it compares it with the
 * pinned key, and sends nothing more. */
static void
test_attack_non_canonical_key_responder (Fixture       *f,
                                         gconstpointer  data)
{
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  guint8 other_form[SOTTO_KEY_LEN];
  Peer *client;
  Raw *raw;

  memcpy (other_form, sotto_identity_get_public_key (f->server_id), SOTTO_KEY_LEN);
  other_form[31] |= 0x80;

  /* Even when that form is the one the initiator expects. */
  raw = raw_accept (f, other_form, &client);
  raw->handshake = sotto_noise_handshake_new (SOTTO_PROTOCOL_NAME, FALSE,
                                              (const guint8 *) SOTTO_PROTOCOL_PROLOGUE,
                                              strlen (SOTTO_PROTOCOL_PROLOGUE), &error);
  g_assert_no_error (error);
  sotto_noise_handshake_set_static_keypair (raw->handshake,
                                            sotto_identity_get_secret_key (f->server_id),
                                            other_form);
  g_assert_true (sotto_noise_handshake_start (raw->handshake, &error));
  g_assert_no_error (error);
  g_assert_true (raw_read_handshake (raw, payload, &error));
  g_assert_no_error (error);
  raw_write_hello (raw, &f->server_hello);

  assert_closed_with (client, SOTTO_SESSION_ERROR_PROTOCOL);
  g_assert_false (client->established);
  raw_assert_eof (raw);

  assert_honest_session_works (f);
}

static void
test_attack_malformed_payload (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *long_body = g_malloc (SOTTO_MESSAGE_BODY_MAX + 2);
  guint8 short_uid[SOTTO_MESSAGE_UID_LEN - 1] = { 0 };
  guint8 uid[SOTTO_MESSAGE_UID_LEN] = { 0 };
  GBytes *bad[7];
  g_autoptr (GBytes) good = craft_receipt (SOTTO_PAYLOAD_MAX_RECEIPT_IDS);

  memset (long_body, 'a', SOTTO_MESSAGE_BODY_MAX + 1);
  long_body[SOTTO_MESSAGE_BODY_MAX + 1] = '\0';

  bad[0] = g_bytes_new (NULL, 0);     /* no kind byte */
  bad[1] = craft_receipt (SOTTO_PAYLOAD_MAX_RECEIPT_IDS + 1);
  bad[2] = craft_receipt (0);
  bad[3] = craft_plaintext (SOTTO_PAYLOAD_TEXT,
                            g_variant_new ("(@ayxs)",
                                           g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                      short_uid, sizeof short_uid,
                                                                      1),
                                           BASE_TIMESTAMP, "hi"));
  bad[4] = craft_plaintext (SOTTO_PAYLOAD_TEXT,
                            g_variant_new ("(@ayxs)",
                                           g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                      uid, sizeof uid, 1),
                                           BASE_TIMESTAMP, long_body));
  bad[5] = g_bytes_new ("\x05" "1234567", 8);     /* a ping of 7 bytes, not 8 */
  bad[6] = craft_plaintext (SOTTO_PAYLOAD_REQUEST_STATE, g_variant_new_byte (3));

  for (gsize n = 0; n < G_N_ELEMENTS (bad); n++)
    {
      Peer *server;
      Raw *raw = raw_connect (f, &server);

      raw_handshake_as_initiator (f, raw);
      WAIT_UNTIL (server->established);
      /* The same bytes are accepted with the right content: a full receipt. */
      g_assert_true (raw_send_plaintext (raw, g_bytes_get_data (good, NULL),
                                         g_bytes_get_size (good), NULL));
      WAIT_UNTIL (server->payloads->len == 1);
      g_assert_cmpuint (peer_payload (server, 0)->n_ids, ==, SOTTO_PAYLOAD_MAX_RECEIPT_IDS);

      g_assert_true (raw_send_plaintext (raw, g_bytes_get_data (bad[n], NULL),
                                         g_bytes_get_size (bad[n]), NULL));
      assert_closed_with (server, SOTTO_SESSION_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (server->reason->message, "bad payload"));
      g_assert_cmpuint (server->payloads->len, ==, 1);
      raw_assert_eof (raw);
      g_bytes_unref (bad[n]);
    }

  assert_honest_session_works (f);
}

static void
test_attack_unknown_kind (Fixture       *f,
                          gconstpointer  data)
{
  const guint8 kinds[] = { 0x42, SOTTO_PAYLOAD_KIND_RESERVED_FIRST, 0xff, 0x00 };
  Peer *server;
  Raw *raw = raw_connect (f, &server);

  raw_handshake_as_initiator (f, raw);
  WAIT_UNTIL (server->established);
  for (gsize n = 0; n < G_N_ELEMENTS (kinds); n++)
    {
      guint8 plaintext[] = { kinds[n], 'f', 'u', 't', 'u', 'r', 'e' };

      g_assert_true (raw_send_plaintext (raw, plaintext, sizeof plaintext, NULL));
      g_assert_true (raw_send_plaintext (raw, plaintext, 1, NULL));
      g_assert_true (raw_send_text (raw, (guint) n, "raw"));
    }
  WAIT_UNTIL (server->payloads->len == G_N_ELEMENTS (kinds));
  for (gsize n = 0; n < G_N_ELEMENTS (kinds); n++)
    assert_text (peer_payload (server, (guint) n), (guint) n, "raw");
  g_assert_true (sotto_session_is_established (server->session));
  g_assert_null (server->reason);

  assert_honest_session_works (f);
}

static void
test_attack_message1_payload (Fixture       *f,
                              gconstpointer  data)
{
  const char *payloads[] = { "x", "hello from a stranger" };

  for (gsize n = 0; n < G_N_ELEMENTS (payloads); n++)
    {
      Peer *server;
      Raw *raw = raw_connect (f, &server);

      /* A real Noise message 1, carrying a payload in the clear. It can't
       * be the 32 bytes message 1 must be. */
      raw_start_noise (raw, TRUE, f->client_id, SOTTO_PROTOCOL_PROLOGUE);
      raw_write_handshake (raw, (const guint8 *) payloads[n], strlen (payloads[n]));
      assert_closed_with (server, SOTTO_SESSION_ERROR_PROTOCOL);
      raw_assert_eof (raw);
    }
  g_assert_cmpuint (f->n_auth_calls, ==, 0);

  assert_honest_session_works (f);
}

/* -------------------------------------------------------------------------
 * Tests: limits
 * ------------------------------------------------------------------------- */

static void
test_limits_transport_frame (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree guint8 *plaintext = g_malloc (SOTTO_PAYLOAD_MAX_LEN + 1);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GBytes) wire = NULL;
  g_autoptr (GError) error = NULL;
  Peer *server;
  Raw *raw = raw_connect (f, &server);

  /* No known payload is that large (a TEXT is at most ~32 KiB); one of a
   * kind from a later version may be. The longest plaintext makes a
   * frame of exactly 65535 bytes, which is read and ignored. */
  memset (plaintext, 0x5a, SOTTO_PAYLOAD_MAX_LEN + 1);
  plaintext[0] = 0x42;
  raw_handshake_as_initiator (f, raw);
  WAIT_UNTIL (server->established);
  g_assert_true (raw_send_plaintext (raw, plaintext, SOTTO_PAYLOAD_MAX_LEN, &wire));
  g_assert_cmpuint (g_bytes_get_size (wire), ==, SOTTO_FRAME_HEADER_LEN + SOTTO_FRAME_MAX_LEN);
  g_assert_true (raw_send_text (raw, 1, "raw"));
  WAIT_UNTIL (server->payloads->len == 1);
  assert_text (peer_payload (server, 0), 1, "raw");
  g_assert_null (server->reason);

  /* One byte more can't be sent at all: the 2-byte header can't say
   * 65536, and Noise refuses to make a message that long. */
  g_assert_false (sotto_noise_cipher_encrypt (raw->send, NULL, 0, plaintext,
                                              SOTTO_PAYLOAD_MAX_LEN + 1, out, &error));
  g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TOO_LONG);
  g_clear_error (&error);
  g_assert_false (sotto_frame_encode (plaintext, SOTTO_FRAME_MAX_LEN + 1, out, &error));
  g_assert_error (error, SOTTO_FRAME_ERROR, SOTTO_FRAME_ERROR_TOO_LONG);
  g_assert_cmpuint (out->len, ==, 0);

  /* What the header wraps to instead (65536 & 0xffff = 0) is refused. */
  g_assert_true (raw_write (raw, "\x00\x00", 2));
  assert_closed_with (server, SOTTO_SESSION_ERROR_PROTOCOL);
  g_assert_cmpuint (server->payloads->len, ==, 1);
}

static void
test_limits_largest_text (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr (SottoPayload) text = make_text (1, "client");
  g_autoptr (GError) error = NULL;
  Peer *server;
  Peer *client;

  client = client_connect (f, sotto_identity_get_public_key (f->server_id), &server);
  WAIT_UNTIL (client->established && server->established);

  g_free (text->body);
  text->body = g_malloc (SOTTO_MESSAGE_BODY_MAX + 1);
  memset (text->body, 'z', SOTTO_MESSAGE_BODY_MAX);
  text->body[SOTTO_MESSAGE_BODY_MAX] = '\0';
  g_assert_true (sotto_session_send (client->session, text, &error));
  g_assert_no_error (error);
  g_assert_true (sotto_session_send (server->session, text, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (client->payloads->len == 1 && server->payloads->len == 1);
  g_assert_true (sotto_payload_equal (peer_payload (client, 0), text));
  g_assert_true (sotto_payload_equal (peer_payload (server, 0), text));

  /* One byte more is refused on the sending side; the session goes on. */
  text->body = g_realloc (text->body, SOTTO_MESSAGE_BODY_MAX + 2);
  strcpy (text->body + SOTTO_MESSAGE_BODY_MAX, "z");
  g_assert_false (sotto_session_send (client->session, text, &error));
  g_assert_error (error, SOTTO_PAYLOAD_ERROR, SOTTO_PAYLOAD_ERROR_MALFORMED);
  g_assert_true (sotto_session_is_established (client->session));
}

/* A hello in normal form of exactly @size bytes, valid but for its
 * (far too long) display name. */
static GBytes *
craft_hello_of_size (gsize size)
{
  /* The name is padded to 8 bytes before the capabilities: the intro,
   * last, fills the gap. */
  for (gsize name_len = size - 40; name_len < size; name_len++)
    for (gsize intro_len = 0; intro_len < 8; intro_len++)
      {
        g_autofree char *name = g_strnfill (name_len, 'a');
        g_autofree char *intro = g_strnfill (intro_len, 'b');
        GVariant *variant = g_variant_new ("(qsqts)", 1, name, 0, (guint64) 0, intro);

        g_variant_ref_sink (variant);
        if (g_variant_get_size (variant) == size)
          {
            GBytes *bytes = craft_plaintext (-1, variant);

            g_variant_unref (variant);
            return bytes;
          }
        g_variant_unref (variant);
      }
  g_assert_not_reached ();
  return NULL;
}

static void
test_limits_hello (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr (GString) name = g_string_new (NULL);
  g_autoptr (GString) intro = g_string_new (NULL);
  g_autoptr (GBytes) encoded = NULL;
  g_autoptr (GBytes) too_big = craft_hello_of_size (SOTTO_HELLO_MAX_LEN);
  guint8 header[2];
  Peer *server;
  Peer *client;
  Raw *raw;

  /* The largest valid hello (a 256-byte name, a 1024-byte intro) both ways. */
  for (int i = 0; i < SOTTO_DISPLAY_NAME_MAX_CHARS; i++)
    g_string_append_unichar (name, 0x1F600);
  for (int i = 0; i < SOTTO_HELLO_INTRO_MAX_BYTES / 4; i++)
    g_string_append_unichar (intro, 0x1F600);
  g_assert_cmpuint (name->len, ==, SOTTO_DISPLAY_NAME_MAX_BYTES);
  g_assert_cmpuint (intro->len, ==, SOTTO_HELLO_INTRO_MAX_BYTES);
  f->client_hello.display_name = f->server_hello.display_name = name->str;
  f->client_hello.intro = f->server_hello.intro = intro->str;
  encoded = sotto_hello_encode (&f->client_hello, NULL);
  g_assert_cmpuint (g_bytes_get_size (encoded), ==, 1299);

  client = client_connect (f, sotto_identity_get_public_key (f->server_id), &server);
  WAIT_UNTIL (client->established && server->established);
  g_assert_true (sotto_hello_equal (sotto_session_get_remote_hello (client->session),
                                    &f->server_hello));
  g_assert_true (sotto_hello_equal (sotto_session_get_remote_hello (server->session),
                                    &f->client_hello));

  f->client_hello.display_name = "Alice";
  f->server_hello.display_name = "Bob";
  f->client_hello.intro = f->server_hello.intro = "";

  /* Message 2 at exactly SOTTO_SESSION_HANDSHAKE_FRAME_MAX bytes (a hello
   * of SOTTO_HELLO_MAX_LEN) gets past the frame reader and Noise; only
   * the hello's content is refused. */
  g_assert_cmpuint (g_bytes_get_size (too_big), ==, SOTTO_HELLO_MAX_LEN);
  raw = raw_accept (f, sotto_identity_get_public_key (f->server_id), &client);
  raw_start_noise (raw, FALSE, f->server_id, SOTTO_PROTOCOL_PROLOGUE);
  {
    g_autoptr (GByteArray) payload = g_byte_array_new ();
    g_autoptr (GByteArray) message = g_byte_array_new ();

    g_assert_true (raw_read_handshake (raw, payload, NULL));
    g_assert_true (sotto_noise_handshake_write_message (raw->handshake,
                                                        g_bytes_get_data (too_big, NULL),
                                                        SOTTO_HELLO_MAX_LEN, message, NULL));
    g_assert_cmpuint (message->len, ==, SOTTO_SESSION_HANDSHAKE_FRAME_MAX);
    g_assert_true (raw_write_frame (raw, message->data, message->len, NULL));
  }
  assert_closed_with (client, SOTTO_SESSION_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (client->reason->message, "bad hello"));
  raw_assert_eof (raw);

  /* One byte more is refused by the frame reader, from the header. */
  header[0] = (SOTTO_SESSION_HANDSHAKE_FRAME_MAX + 1) >> 8;
  header[1] = (SOTTO_SESSION_HANDSHAKE_FRAME_MAX + 1) & 0xff;
  raw = raw_accept (f, sotto_identity_get_public_key (f->server_id), &client);
  raw_start_noise (raw, FALSE, f->server_id, SOTTO_PROTOCOL_PROLOGUE);
  {
    g_autoptr (GByteArray) payload = g_byte_array_new ();

    g_assert_true (raw_read_handshake (raw, payload, NULL));
  }
  g_assert_true (raw_write (raw, header, sizeof header));
  assert_closed_with (client, SOTTO_SESSION_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (client->reason->message, "bad frame"));
  raw_assert_eof (raw);

  /* The same for the responder: message 3 with a hello of
   * SOTTO_HELLO_MAX_LEN is decrypted and refused for its content; a
   * header above the limit is refused as it is. */
  for (int past = 0; past <= 1; past++)
    {
      g_autoptr (GByteArray) payload = g_byte_array_new ();

      raw = raw_connect (f, &server);
      raw_start_noise (raw, TRUE, f->client_id, SOTTO_PROTOCOL_PROLOGUE);
      raw_write_handshake (raw, NULL, 0);
      g_assert_true (raw_read_handshake (raw, payload, NULL));
      if (past)
        g_assert_true (raw_write (raw, header, sizeof header));
      else
        raw_write_handshake (raw, g_bytes_get_data (too_big, NULL), SOTTO_HELLO_MAX_LEN);
      assert_closed_with (server, SOTTO_SESSION_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (server->reason->message, past ? "bad frame" : "bad hello"));
      raw_assert_eof (raw);
    }
  g_assert_cmpuint (f->n_auth_calls, ==, 1);

  assert_honest_session_works (f);
}

/* -------------------------------------------------------------------------
 * Tests: rekeying
 * ------------------------------------------------------------------------- */

#define REKEY_AFTER_MESSAGES 4
#define REKEY_AFTER_TEXTS_OF_BYTES 3

/* Sets the fixture to rekey after REKEY_AFTER_MESSAGES messages, or
 * after as many bytes as REKEY_AFTER_TEXTS_OF_BYTES texts from @who take:
 * the bound is reached exactly, not passed. Returns the period in texts. */
static guint
set_rekey_case (Fixture       *f,
                gconstpointer  data,
                const char    *who)
{
  gboolean by_bytes = GPOINTER_TO_INT (data);
  g_autoptr (SottoPayload) text = make_text (0, who);
  g_autoptr (GBytes) plaintext = sotto_payload_encode (text, NULL);

  if (!by_bytes)
    {
      f->rekey_messages = REKEY_AFTER_MESSAGES;
      f->rekey_bytes = G_MAXUINT64;
      return REKEY_AFTER_MESSAGES;
    }
  /* Every text of make_text() from @who encrypts to the same length. */
  f->rekey_messages = G_MAXUINT64;
  f->rekey_bytes = REKEY_AFTER_TEXTS_OF_BYTES *
                   (g_bytes_get_size (plaintext) + SOTTO_NOISE_TAG_LEN);
  return REKEY_AFTER_TEXTS_OF_BYTES;
}

#define N_REKEY_SESSIONS 20

static void
test_rekey_sessions (Fixture       *f,
                     gconstpointer  data)
{
  Peer *server;
  Peer *client;

  /* "client" and "server" are as long. */
  set_rekey_case (f, data, "client");
  client = client_connect (f, sotto_identity_get_public_key (f->server_id), &server);
  WAIT_UNTIL (client->established && server->established);
  for (guint i = 0; i < N_REKEY_SESSIONS; i++)
    {
      send_text (client, i, "client");
      send_text (server, i, "server");
    }
  WAIT_UNTIL (client->payloads->len == N_REKEY_SESSIONS &&
              server->payloads->len == N_REKEY_SESSIONS);
  for (guint i = 0; i < N_REKEY_SESSIONS; i++)
    {
      assert_text (peer_payload (server, i), i, "client");
      assert_text (peer_payload (client, i), i, "server");
    }
  g_assert_null (client->reason);
  g_assert_null (server->reason);
}

/* The session rekeys its sending cipher after exactly every period-th
 * message: a raw peer that does not rekey reads up to there, not one
 * more; rekeyed, it reads the next one. */
static void
test_rekey_send (Fixture       *f,
                 gconstpointer  data)
{
  guint period = set_rekey_case (f, data, "server");
  guint n_texts = 2 * period + 1;
  Peer *server;
  Raw *raw = raw_connect (f, &server);

  raw_handshake_as_initiator (f, raw);
  WAIT_UNTIL (server->established);
  for (guint i = 0; i < n_texts; i++)
    send_text (server, i, "server");

  for (guint i = 0; i < n_texts; i++)
    {
      g_autoptr (GBytes) frame = raw_read_frame (raw);
      g_autoptr (GByteArray) plaintext = g_byte_array_new ();
      g_autoptr (SottoPayload) payload = NULL;
      g_autoptr (GError) error = NULL;
      gboolean opened;

      g_assert_nonnull (frame);
      opened = sotto_noise_cipher_decrypt (raw->receive, NULL, 0, g_bytes_get_data (frame, NULL),
                                           g_bytes_get_size (frame), plaintext, &error);
      if (i > 0 && i % period == 0)
        {
          g_assert_false (opened);
          g_assert_error (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_DECRYPT);
          g_clear_error (&error);
          sotto_noise_cipher_rekey (raw->receive);
          opened = sotto_noise_cipher_decrypt (raw->receive, NULL, 0,
                                               g_bytes_get_data (frame, NULL),
                                               g_bytes_get_size (frame), plaintext, &error);
        }
      g_assert_no_error (error);
      g_assert_true (opened);
      payload = sotto_payload_decode (plaintext->data, plaintext->len, &error);
      g_assert_no_error (error);
      assert_text (payload, i, "server");
    }
}

/* The session expects the peer to rekey after exactly every period-th
 * message: one that doesn't fails on the next message; one that does
 * goes on. */
static void
test_rekey_receive (Fixture       *f,
                    gconstpointer  data)
{
  guint period = set_rekey_case (f, data, "raw");
  guint n_texts = 2 * period + 1;
  Peer *server;
  Raw *raw;

  raw = raw_connect (f, &server);
  raw_handshake_as_initiator (f, raw);
  WAIT_UNTIL (server->established);
  for (guint i = 0; i <= period; i++)
    raw_send_text (raw, i, "raw");
  assert_closed_with (server, SOTTO_SESSION_ERROR_CRYPTO);
  g_assert_cmpuint (server->payloads->len, ==, period);
  for (guint i = 0; i < period; i++)
    assert_text (peer_payload (server, i), i, "raw");

  raw = raw_connect (f, &server);
  raw_handshake_as_initiator (f, raw);
  WAIT_UNTIL (server->established);
  for (guint i = 0; i < n_texts; i++)
    {
      if (i > 0 && i % period == 0)
        sotto_noise_cipher_rekey (raw->send);
      g_assert_true (raw_send_text (raw, i, "raw"));
    }
  WAIT_UNTIL (server->payloads->len == n_texts);
  for (guint i = 0; i < n_texts; i++)
    assert_text (peer_payload (server, i), i, "raw");
  g_assert_null (server->reason);
}

/* -------------------------------------------------------------------------
 * Tests: timers
 * ------------------------------------------------------------------------- */

#define HANDSHAKE_MS 300
#define KEEPALIVE_MS 100
#define IDLE_MS      400

static void
assert_elapsed_ms (gint64 from,
                   gint64 to,
                   guint  at_least_ms)
{
  gint64 elapsed_ms = (to - from) / 1000;

  g_assert_cmpint (elapsed_ms, >=, (gint64) at_least_ms - 5);
  g_assert_cmpint (elapsed_ms, <, (gint64) at_least_ms + 1500);
}

static void
test_timeout_handshake (Fixture       *f,
                        gconstpointer  data)
{
  Peer *server;
  Peer *client;
  Raw *raw;

  f->handshake_ms = HANDSHAKE_MS;

  /* Connects and says nothing. */
  raw = raw_connect (f, &server);
  assert_closed_with (server, SOTTO_SESSION_ERROR_TIMEOUT);
  assert_elapsed_ms (server->started, server->closed_at, HANDSHAKE_MS);
  raw_assert_eof (raw);

  /* Drips message 1, a byte at a time: the deadline holds anyway. */
  raw = raw_connect (f, &server);
  g_assert_true (raw_write (raw, "\x00\x20", 2));
  for (guint sent = 0; server->reason == NULL; sent++)
    {
      gint64 next = g_get_monotonic_time () + 40 * 1000;

      /* More than message 1 and a header: past that, it is not a drip. */
      g_assert_cmpuint (sent, <, 34);
      if (!raw_write (raw, "e", 1))
        break;
      WAIT_UNTIL (g_get_monotonic_time () >= next || server->reason != NULL);
    }
  assert_closed_with (server, SOTTO_SESSION_ERROR_TIMEOUT);
  assert_elapsed_ms (server->started, server->closed_at, HANDSHAKE_MS);

  /* An initiator whose responder never answers message 1. */
  raw = raw_accept (f, sotto_identity_get_public_key (f->server_id), &client);
  {
    g_autoptr (GBytes) msg1 = raw_read_frame (raw);

    g_assert_cmpuint (g_bytes_get_size (msg1), ==, 32);
  }
  assert_closed_with (client, SOTTO_SESSION_ERROR_TIMEOUT);
  assert_elapsed_ms (client->started, client->closed_at, HANDSHAKE_MS);
  raw_assert_eof (raw);

  assert_honest_session_works (f);
}

static void
test_timeout_keepalive (Fixture       *f,
                        gconstpointer  data)
{
  gint64 until;
  Peer *server;
  Peer *client;

  f->keepalive_ms = KEEPALIVE_MS;
  f->idle_ms = IDLE_MS;
  client = client_connect (f, sotto_identity_get_public_key (f->server_id), &server);
  WAIT_UNTIL (client->established && server->established);

  /* No application traffic, more than three idle timeouts long. */
  until = g_get_monotonic_time () + 1500 * 1000;
  WAIT_UNTIL (g_get_monotonic_time () >= until || client->reason != NULL ||
              server->reason != NULL);
  g_assert_null (client->reason);
  g_assert_null (server->reason);
  g_assert_true (sotto_session_is_established (client->session));
  g_assert_true (sotto_session_is_established (server->session));
  /* Pings and pongs are answered inside, not passed on. */
  g_assert_cmpuint (client->payloads->len, ==, 0);
  g_assert_cmpuint (server->payloads->len, ==, 0);

  send_text (client, 1, "client");
  WAIT_UNTIL (server->payloads->len == 1);
}

static gint
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* Waits for the next payload from @raw, which must be of @kind, and says
 * when it came. */
static gint64
raw_expect (Raw              *raw,
            SottoPayloadKind  kind)
{
  g_autoptr (SottoPayload) payload = raw_receive_payload (raw);

  g_assert_cmpuint (payload->kind, ==, kind);
  return g_get_monotonic_time ();
}

/* A quiet peer gets a PING one keepalive period after the session last
 * sent something, whenever in the timer's cycle that was: a timer that
 * only looks every quarter period sends each PING up to a quarter late,
 * and a peer counting on one every 20 s sees too few. */
static void
test_timeout_keepalive_period (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr (GArray) gaps = g_array_new (FALSE, FALSE, sizeof (gint64));
  Peer *server;
  Raw *raw;

  f->keepalive_ms = KEEPALIVE_MS;
  f->idle_ms = 20 * KEEPALIVE_MS;
  raw = raw_connect (f, &server);
  raw_handshake_as_initiator (f, raw);
  WAIT_UNTIL (server->established);

  raw_expect (raw, SOTTO_PAYLOAD_PING);
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr (SottoPayload) ping = sotto_payload_new (SOTTO_PAYLOAD_PING);
      gint64 pong_at;
      gint64 gap;
      gint64 until;

      /* Out of step with the previous PING, and so with any fixed tick. */
      until = g_get_monotonic_time () + (KEEPALIVE_MS / 20 + i * 7) * 1000;
      WAIT_UNTIL (g_get_monotonic_time () >= until);
      ping->cookie = 100 + i;
      g_assert_true (raw_send_payload (raw, ping, NULL));
      pong_at = raw_expect (raw, SOTTO_PAYLOAD_PONG);
      gap = raw_expect (raw, SOTTO_PAYLOAD_PING) - pong_at;
      g_array_append_val (gaps, gap);
    }
  g_array_sort (gaps, compare_gint64);
  /* Never early, and typically within a tenth of the period. */
  g_assert_cmpint (g_array_index (gaps, gint64, 0), >=, (KEEPALIVE_MS - 5) * 1000);
  g_assert_cmpint (g_array_index (gaps, gint64, gaps->len / 2), <=, KEEPALIVE_MS * 1100);
  g_assert_null (server->reason);

  assert_honest_session_works (f);
}

static void
test_timeout_idle (Fixture       *f,
                   gconstpointer  data)
{
  guint n_pings = 0;
  Peer *server;
  Raw *raw;

  f->keepalive_ms = KEEPALIVE_MS;
  f->idle_ms = IDLE_MS;
  raw = raw_connect (f, &server);
  raw_handshake_as_initiator (f, raw);
  WAIT_UNTIL (server->established);

  /* The raw peer reads the pings and never answers. */
  assert_closed_with (server, SOTTO_SESSION_ERROR_TIMEOUT);
  assert_elapsed_ms (server->established_at, server->closed_at, IDLE_MS);
  for (;;)
    {
      g_autoptr (GBytes) frame = raw_read_frame (raw);
      g_autoptr (GByteArray) plaintext = g_byte_array_new ();
      g_autoptr (SottoPayload) payload = NULL;

      if (frame == NULL)
        break;
      g_assert_true (sotto_noise_cipher_decrypt (raw->receive, NULL, 0,
                                                 g_bytes_get_data (frame, NULL),
                                                 g_bytes_get_size (frame), plaintext, NULL));
      payload = sotto_payload_decode (plaintext->data, plaintext->len, NULL);
      g_assert_nonnull (payload);
      g_assert_cmpuint (payload->kind, ==, SOTTO_PAYLOAD_PING);
      n_pings++;
    }
  g_assert_cmpuint (n_pings, >=, IDLE_MS / KEEPALIVE_MS - 1);

  assert_honest_session_works (f);
}

/* -------------------------------------------------------------------------
 * Tests: contact requests
 * ------------------------------------------------------------------------- */

static void
assert_request_state (const SottoPayload *payload,
                      SottoRequestState   state)
{
  g_assert_cmpuint (payload->kind, ==, SOTTO_PAYLOAD_REQUEST_STATE);
  g_assert_cmpuint (payload->request_state, ==, state);
}

static void
test_request_accept (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr (SottoPayload) text = make_text (9, "server");
  g_autoptr (SottoPayload) barrier = sotto_payload_new (SOTTO_PAYLOAD_REQUEST_STATE);
  g_autoptr (SottoPayload) typing = sotto_payload_new (SOTTO_PAYLOAD_TYPING);
  g_autoptr (GError) error = NULL;
  Peer *server;
  Peer *client;

  f->auth_mode = SOTTO_SESSION_MODE_REQUEST;
  f->client_hello.intro = "Hi Bob, Alice from accounting here.";
  client = client_connect (f, sotto_identity_get_public_key (f->server_id), &server);
  WAIT_UNTIL (client->established && server->established && client->payloads->len == 1);
  g_assert_cmpint (sotto_session_get_mode (server->session), ==, SOTTO_SESSION_MODE_REQUEST);
  g_assert_cmpstr (sotto_session_get_remote_hello (server->session)->intro, ==,
                   "Hi Bob, Alice from accounting here.");
  assert_request_state (peer_payload (client, 0), SOTTO_REQUEST_PENDING);

  /* The stranger's text is dropped. A request state behind it is the one
   * kind passed on, so once it is in, the text was seen and dropped. */
  send_text (client, 1, "client");
  barrier->request_state = SOTTO_REQUEST_PENDING;
  g_assert_true (sotto_session_send (client->session, barrier, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (server->payloads->len == 1);
  assert_request_state (peer_payload (server, 0), SOTTO_REQUEST_PENDING);

  /* Nothing but pings and request states goes to a stranger either. */
  g_assert_false (sotto_session_send (server->session, text, &error));
  g_assert_error (error, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_REFUSED);
  g_clear_error (&error);
  g_assert_false (sotto_session_send (server->session, typing, &error));
  g_assert_error (error, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_REFUSED);
  g_clear_error (&error);
  g_assert_true (sotto_session_is_established (server->session));

  /* Accepted: the caller is told, and text flows both ways. */
  sotto_session_set_mode (server->session, SOTTO_SESSION_MODE_CONTACT);
  g_assert_cmpint (sotto_session_get_mode (server->session), ==, SOTTO_SESSION_MODE_CONTACT);
  WAIT_UNTIL (client->payloads->len == 2);
  assert_request_state (peer_payload (client, 1), SOTTO_REQUEST_ACCEPTED);
  send_text (client, 2, "client");
  send_text (server, 3, "server");
  WAIT_UNTIL (server->payloads->len == 2 && client->payloads->len == 3);
  assert_text (peer_payload (server, 1), 2, "client");
  assert_text (peer_payload (client, 2), 3, "server");
  g_assert_null (server->reason);
  g_assert_null (client->reason);
}

static void
test_request_drops_payloads (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr (SottoPayload) state = NULL;
  g_autoptr (SottoPayload) pong = NULL;
  g_autoptr (SottoPayload) accepted = NULL;
  g_autoptr (SottoPayload) receipt = sotto_payload_new (SOTTO_PAYLOAD_RECEIPT);
  g_autoptr (SottoPayload) typing = sotto_payload_new (SOTTO_PAYLOAD_TYPING);
  g_autoptr (SottoPayload) presence = sotto_payload_new (SOTTO_PAYLOAD_PRESENCE);
  g_autoptr (SottoPayload) ping = sotto_payload_new (SOTTO_PAYLOAD_PING);
  guint8 id[SOTTO_MESSAGE_UID_LEN] = { 1 };
  Peer *server;
  Raw *raw;

  f->auth_mode = SOTTO_SESSION_MODE_REQUEST;
  raw = raw_connect (f, &server);
  raw_handshake_as_initiator (f, raw);
  state = raw_receive_payload (raw);
  assert_request_state (state, SOTTO_REQUEST_PENDING);

  receipt->receipt_state = SOTTO_RECEIPT_READ;
  receipt->ids = g_memdup2 (id, sizeof id);
  receipt->n_ids = 1;
  typing->typing = TRUE;
  presence->presence = SOTTO_PRESENCE_AWAY;
  ping->cookie = 0x1234567890;
  g_assert_true (raw_send_text (raw, 1, "raw"));
  g_assert_true (raw_send_payload (raw, receipt, NULL));
  g_assert_true (raw_send_payload (raw, typing, NULL));
  g_assert_true (raw_send_payload (raw, presence, NULL));
  g_assert_true (raw_send_payload (raw, ping, NULL));

  /* The pong says everything before it was read. */
  pong = raw_receive_payload (raw);
  g_assert_cmpuint (pong->kind, ==, SOTTO_PAYLOAD_PONG);
  g_assert_cmpuint (pong->cookie, ==, ping->cookie);
  g_assert_cmpuint (server->payloads->len, ==, 0);
  g_assert_true (sotto_session_is_established (server->session));

  sotto_session_set_mode (server->session, SOTTO_SESSION_MODE_CONTACT);
  accepted = raw_receive_payload (raw);
  assert_request_state (accepted, SOTTO_REQUEST_ACCEPTED);
  g_assert_true (raw_send_text (raw, 2, "raw"));
  WAIT_UNTIL (server->payloads->len == 1);
  assert_text (peer_payload (server, 0), 2, "raw");
}

/* -------------------------------------------------------------------------
 * Tests: a peer that does not read
 * ------------------------------------------------------------------------- */

/* Far more than loopback socket buffers and the queue hold together. */
#define OVERLOAD_GIVE_UP (256 * 1024 * 1024)

static void
test_overload (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr (SottoPayload) text = make_text (1, "server");
  g_autoptr (GBytes) plaintext = NULL;
  gsize frame_len;
  gsize accepted = 0;
  gint64 start;
  Peer *server;
  Raw *raw;

  raw = raw_connect (f, &server);
  raw_handshake_as_initiator (f, raw);
  WAIT_UNTIL (server->established);

  g_free (text->body);
  text->body = g_strnfill (SOTTO_MESSAGE_BODY_MAX, 'q');
  plaintext = sotto_payload_encode (text, NULL);
  frame_len = SOTTO_FRAME_HEADER_LEN + g_bytes_get_size (plaintext) + SOTTO_NOISE_TAG_LEN;

  /* Send until the session gives up, letting it write between sends so
   * the kernel buffers fill first. No GError: that path must work too. */
  start = g_get_monotonic_time ();
  while (sotto_session_send (server->session, text, NULL))
    {
      accepted += frame_len;
      g_assert_cmpuint (accepted, <, OVERLOAD_GIVE_UP);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  assert_closed_with (server, SOTTO_SESSION_ERROR_OVERLOADED);
  g_assert_cmpuint (accepted, >=, SOTTO_SESSION_MAX_QUEUED_BYTES - frame_len);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_test_message ("overloaded after %zu bytes (%zu queued at most)", accepted,
                  (gsize) SOTTO_SESSION_MAX_QUEUED_BYTES);

  assert_honest_session_works (f);
}

static void
on_drained_cb (SottoSession *session,
               guint        *count)
{
  g_assert_cmpuint (sotto_session_get_unsent_bytes (session), ==, 0);
  (*count)++;
}

/* What a sender pacing itself needs: the bytes the socket has not taken
 * yet, and a signal when they are all gone. */
static void
test_drained (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr (SottoPayload) text = make_text (1, "server");
  guint drained = 0;
  guint sent = 0;
  Peer *server;
  Raw *raw;

  raw = raw_connect (f, &server);
  raw_handshake_as_initiator (f, raw);
  WAIT_UNTIL (server->established);
  g_signal_connect (server->session, "drained", G_CALLBACK (on_drained_cb), &drained);
  g_assert_cmpuint (sotto_session_get_unsent_bytes (server->session), ==, 0);

  /* The raw peer reads nothing yet: the kernel's buffers fill, then the
   * session holds the rest. */
  g_free (text->body);
  text->body = g_strnfill (SOTTO_MESSAGE_BODY_MAX, 'd');
  while (sotto_session_get_unsent_bytes (server->session) == 0)
    {
      text->timestamp = BASE_TIMESTAMP + ++sent;
      g_assert_true (sotto_session_send (server->session, text, NULL));
      g_assert_cmpuint (sent, <, SOTTO_SESSION_MAX_QUEUED_BYTES / SOTTO_MESSAGE_BODY_MAX);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  g_assert_cmpuint (drained, ==, 0);

  /* Reading lets the session write the rest, and say so once. */
  for (guint i = 1; i <= sent; i++)
    {
      g_autoptr (SottoPayload) got = raw_receive_payload (raw);

      g_assert_cmpint (got->timestamp, ==, BASE_TIMESTAMP + i);
    }
  WAIT_UNTIL (drained == 1);
  g_assert_cmpuint (sotto_session_get_unsent_bytes (server->session), ==, 0);
  g_assert_true (sotto_session_is_established (server->session));
}

/* Quiet sessions wake on a shared 10 s grid of the wall clock: the delay
 * reaches the first grid instant at or after the deadline, in whole
 * seconds, never 0. */
static void
test_grid_delay (void)
{
  const gint64 s = G_USEC_PER_SEC;
  const gint64 grid = (gint64)SOTTO_SESSION_TICK_GRID_MS * 1000;
  const gint64 t0 = (gint64)1800000000 * s;   /* a multiple of the grid */

  g_assert_cmpint (t0 % grid, ==, 0);
  /* Due at a grid instant: that one. */
  g_assert_cmpuint (_sotto_session_grid_delay_s (t0, grid), ==, 10);
  g_assert_cmpuint (_sotto_session_grid_delay_s (t0 + 3 * s, 7 * s), ==, 7);
  /* One microsecond past it: the next one. */
  g_assert_cmpuint (_sotto_session_grid_delay_s (t0, grid + 1), ==, 20);
  /* Due between instants: waits for the next. */
  g_assert_cmpuint (_sotto_session_grid_delay_s (t0 + 2 * s, 5 * s), ==, 8);
  /* Due now or past, on an instant: at least a second. */
  g_assert_cmpuint (_sotto_session_grid_delay_s (t0, 0), ==, 1);
  g_assert_cmpuint (_sotto_session_grid_delay_s (t0, -5 * s), ==, 1);
  /* Past due between instants: the next instant. */
  g_assert_cmpuint (_sotto_session_grid_delay_s (t0 + 4 * s, -5 * s), ==, 6);
  /* A part of a second rounds up, so the timer never fires before it. */
  g_assert_cmpuint (_sotto_session_grid_delay_s (t0 + s / 2, 0), ==, 10);
  /* Sessions due at any moment of one step fire together. */
  for (gint64 due = 1; due <= grid; due += s / 3)
    g_assert_cmpint (t0 + (gint64)_sotto_session_grid_delay_s (t0, due) * s, ==, t0 + grid);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_assert_cmpint (sodium_init (), >=, 0);

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/session/keepalive/grid", test_grid_delay);
  ADD ("/session/happy-path", test_happy_path, NULL);
  ADD ("/session/plain-descriptor", test_plain_descriptor, NULL);
  ADD ("/session/nested-main-loop", test_nested_main_loop, NULL);
  ADD ("/session/attack/flipped-byte", test_attack_flipped_byte, NULL);
  ADD ("/session/attack/replay", test_attack_replay, NULL);
  ADD ("/session/attack/truncated-frame", test_attack_truncated_frame, NULL);
  ADD ("/session/attack/handshake-frame-too-long", test_attack_handshake_frame_too_long, NULL);
  ADD ("/session/attack/empty-frame", test_attack_empty_frame, NULL);
  ADD ("/session/attack/garbage", test_attack_garbage, NULL);
  ADD ("/session/attack/wrong-prologue/initiator", test_attack_wrong_prologue_initiator, NULL);
  ADD ("/session/attack/wrong-prologue/responder", test_attack_wrong_prologue_responder, NULL);
  ADD ("/session/attack/refused", test_attack_refused, NULL);
  ADD ("/session/attack/mitm", test_attack_mitm, NULL);
  ADD ("/session/attack/non-canonical-key/initiator", test_attack_non_canonical_key_initiator,
       NULL);
  ADD ("/session/attack/non-canonical-key/responder", test_attack_non_canonical_key_responder,
       NULL);
  ADD ("/session/attack/malformed-payload", test_attack_malformed_payload, NULL);
  ADD ("/session/attack/unknown-kind", test_attack_unknown_kind, NULL);
  ADD ("/session/attack/message1-payload", test_attack_message1_payload, NULL);
  ADD ("/session/limits/transport-frame", test_limits_transport_frame, NULL);
  ADD ("/session/limits/largest-text", test_limits_largest_text, NULL);
  ADD ("/session/limits/hello", test_limits_hello, NULL);
  ADD ("/session/rekey/sessions/messages", test_rekey_sessions, GINT_TO_POINTER (FALSE));
  ADD ("/session/rekey/sessions/bytes", test_rekey_sessions, GINT_TO_POINTER (TRUE));
  ADD ("/session/rekey/send/messages", test_rekey_send, GINT_TO_POINTER (FALSE));
  ADD ("/session/rekey/send/bytes", test_rekey_send, GINT_TO_POINTER (TRUE));
  ADD ("/session/rekey/receive/messages", test_rekey_receive, GINT_TO_POINTER (FALSE));
  ADD ("/session/rekey/receive/bytes", test_rekey_receive, GINT_TO_POINTER (TRUE));
  ADD ("/session/timeout/handshake", test_timeout_handshake, NULL);
  ADD ("/session/timeout/keepalive", test_timeout_keepalive, NULL);
  ADD ("/session/timeout/keepalive-period", test_timeout_keepalive_period, NULL);
  ADD ("/session/timeout/idle", test_timeout_idle, NULL);
  ADD ("/session/request/accept", test_request_accept, NULL);
  ADD ("/session/request/drops-payloads", test_request_drops_payloads, NULL);
  ADD ("/session/overload", test_overload, NULL);
  ADD ("/session/drained", test_drained, NULL);

#undef ADD

  return g_test_run ();
}
