/* bench-protocol.c — how fast sessions are, next to libsodium alone
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prints figures, each next to a baseline measured in the same run; it
 * does not pass or fail. Run it with `build-aux/sotto-dev bench protocol`.
 *
 *  1. Transport throughput of one session over loopback TCP (sender and
 *     receiver on their own threads) vs. raw
 *     crypto_aead_chacha20poly1305_ietf_encrypt on the same chunk size.
 *  2. Handshakes per second over loopback TCP vs. the bound set by the
 *     X25519 operations a handshake contains.
 *  3. Message latency between two processes on loopback, each with its
 *     own profile and store (persistence included on both sides), and
 *     sustained messages per second.
 *
 * Each also measures a floor: the same cryptography, disk syncs and TCP
 * traffic in a plain C loop with blocking sockets, no Sotto code at all.
 * No implementation on this machine can beat it, which tells a target
 * missed because of the code from one missed because of the machine.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "sotto-core.h"
#include "sotto-test-util.h"
#include "sotto-payload.h"
#include "sotto-peer-service.h"
#include "sotto-session.h"
#include "sotto-session-private.h"

#define PASSPHRASE "bench"
/* The largest text a message may hold: transport throughput is about bulk. */
#define CHUNK_BODY SOTTO_MESSAGE_BODY_MAX
/* The socket buffers of the floor's second run. */
#define FLOOR_SOCKET_BUFFER (1024 * 1024)

static double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;
}

static SottoHello *
hello_for (const char *name)
{
  SottoHello *hello = g_new0 (SottoHello, 1);

  hello->version = SOTTO_PROTOCOL_VERSION;
  hello->display_name = g_strdup (name);
  hello->intro = g_strdup ("");
  return hello;
}

static SottoSessionMode
accept_all_cb (SottoSession     *session,
               const guint8     *key,
               const SottoHello *hello,
               gpointer          data)
{
  return SOTTO_SESSION_MODE_CONTACT;
}

/* -------------------------------------------------------------------------
 * 1. Throughput
 * ------------------------------------------------------------------------- */

typedef struct
{
  SottoIdentity     *identity;
  GSocketListener   *listener;
  GMainContext      *context;
  GMainLoop         *loop;
  guint64            bytes;
  gint               messages;
  guint64            expected;
  gint64             done_at;
  gint               sender_waiting;
  GMutex             lock;
  GCond              cond;
  gboolean           ready;
} Receiver;

static void
on_received_cb (SottoSession *session,
                gpointer      payload_ptr,
                Receiver     *receiver)
{
  const SottoPayload *payload = payload_ptr;

  receiver->bytes += strlen (payload->body);
  g_atomic_int_inc (&receiver->messages);
  /* The sender may be waiting for room in its window. */
  if (g_atomic_int_get (&receiver->sender_waiting))
    g_main_context_wakeup (NULL);
  if ((guint64)g_atomic_int_get (&receiver->messages) == receiver->expected)
    {
      receiver->done_at = g_get_monotonic_time ();
      g_main_loop_quit (receiver->loop);
    }
}

static gpointer
receiver_thread (gpointer data)
{
  Receiver *receiver = data;
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (SottoSession) session = NULL;
  g_autoptr (SottoHello) hello = hello_for ("Receiver");
  g_autoptr (GError) error = NULL;

  g_main_context_push_thread_default (receiver->context);
  g_mutex_lock (&receiver->lock);
  receiver->ready = TRUE;
  g_cond_signal (&receiver->cond);
  g_mutex_unlock (&receiver->lock);

  connection = g_socket_listener_accept (receiver->listener, NULL, NULL, &error);
  if (connection == NULL)
    g_error ("accept: %s", error->message);

  session = sotto_session_new (connection, receiver->identity, hello, NULL);
  sotto_session_set_auth_func (session, accept_all_cb, NULL);
  g_signal_connect (session, "payload-received", G_CALLBACK (on_received_cb), receiver);
  sotto_session_start (session);
  g_main_loop_run (receiver->loop);
  sotto_session_close (session, NULL);
  g_main_context_pop_thread_default (receiver->context);
  return NULL;
}

/* The floor of 1: what the machine allows with no Sotto code at all. */
typedef struct
{
  int          listen_fd;
  int          buffer_size;  /* SO_RCVBUF, or 0 for the kernel's own tuning */
  guint        n;
  gsize        len;        /* of a ciphertext */
  const guint8 *key;
} FloorReceiver;

static void
read_exactly (int     fd,
              guint8 *buffer,
              gsize   len)
{
  gsize got = 0;

  while (got < len)
    {
      ssize_t n = read (fd, buffer + got, len - got);

      if (n <= 0)
        g_error ("floor: read: %s", n < 0 ? g_strerror (errno) : "end of stream");
      got += (gsize)n;
    }
}

static void
write_exactly (int           fd,
               const guint8 *buffer,
               gsize         len)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = write (fd, buffer + done, len - done);

      if (n <= 0)
        g_error ("floor: write: %s", g_strerror (errno));
      done += (gsize)n;
    }
}

static gpointer
floor_receiver_thread (gpointer data)
{
  FloorReceiver *receiver = data;
  g_autofree guint8 *cipher = g_malloc (receiver->len);
  g_autofree guint8 *plain = g_malloc (receiver->len);
  guint8 nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = { 0 };
  int fd = accept (receiver->listen_fd, NULL, NULL);

  if (fd < 0)
    g_error ("floor: accept: %s", g_strerror (errno));
  if (receiver->buffer_size > 0 &&
      setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &receiver->buffer_size, sizeof receiver->buffer_size) != 0)
    g_error ("floor: SO_RCVBUF: %s", g_strerror (errno));
  for (guint i = 0; i < receiver->n; i++)
    {
      unsigned long long len = 0;

      read_exactly (fd, cipher, receiver->len);
      memcpy (nonce + 4, &i, sizeof i);
      if (crypto_aead_chacha20poly1305_ietf_decrypt (plain, &len, NULL, cipher, receiver->len,
                                                     NULL, 0, nonce, receiver->key) != 0)
        g_error ("floor: a chunk did not decrypt");
    }
  close (fd);
  return NULL;
}

static int
floor_listen (struct sockaddr_in *address)
{
  socklen_t len = sizeof *address;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  memset (address, 0, sizeof *address);
  address->sin_family = AF_INET;
  address->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0 || bind (fd, (struct sockaddr *)address, sizeof *address) != 0 ||
      listen (fd, 16) != 0 || getsockname (fd, (struct sockaddr *)address, &len) != 0)
    g_error ("floor: listen: %s", g_strerror (errno));
  return fd;
}

static int
floor_connect (const struct sockaddr_in *address)
{
  int one = 1;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0 || connect (fd, (const struct sockaddr *)address, sizeof *address) != 0)
    g_error ("floor: connect: %s", g_strerror (errno));
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* @buffer_size: both ends' socket buffers, or 0 to leave them to the
 * kernel's tuning. The floor is measured both ways, so that a buffer
 * size the session could set is not a gain left out of the floor. */
static double
floor_throughput (const guint8 *plaintext,
                  gsize         len,
                  guint         n,
                  int           buffer_size)
{
  guint8 key[crypto_aead_chacha20poly1305_ietf_KEYBYTES];
  guint8 nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = { 0 };
  g_autofree guint8 *cipher = g_malloc (len + crypto_aead_chacha20poly1305_ietf_ABYTES);
  FloorReceiver receiver = { 0 };
  struct sockaddr_in address;
  GThread *thread;
  gint64 start;
  int fd;

  crypto_aead_chacha20poly1305_ietf_keygen (key);
  receiver.listen_fd = floor_listen (&address);
  receiver.buffer_size = buffer_size;
  receiver.n = n;
  receiver.len = len + crypto_aead_chacha20poly1305_ietf_ABYTES;
  receiver.key = key;
  thread = g_thread_new ("floor", floor_receiver_thread, &receiver);
  fd = floor_connect (&address);
  if (buffer_size > 0 && setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &buffer_size, sizeof buffer_size) != 0)
    g_error ("floor: SO_SNDBUF: %s", g_strerror (errno));

  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      unsigned long long cipher_len = 0;

      memcpy (nonce + 4, &i, sizeof i);
      crypto_aead_chacha20poly1305_ietf_encrypt (cipher, &cipher_len, plaintext, len,
                                                 NULL, 0, NULL, nonce, key);
      write_exactly (fd, cipher, cipher_len);
    }
  g_thread_join (thread);
  close (fd);
  close (receiver.listen_fd);
  return seconds_since (start);
}

static gboolean
session_up (SottoSession *session)
{
  return sotto_session_is_established (session) || sotto_session_is_closed (session);
}

static void
bench_throughput (guint n_chunks)
{
  g_autoptr (SottoIdentity) sender_id = sotto_identity_generate ("Sender", NULL);
  g_autoptr (SottoIdentity) receiver_id = sotto_identity_generate ("Receiver", NULL);
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (SottoSession) session = NULL;

  g_autoptr (SottoHello) hello = hello_for ("Sender");
  g_autoptr (SottoPayload) payload = sotto_payload_new (SOTTO_PAYLOAD_TEXT);
  g_autoptr (GBytes) encoded = NULL;
  g_autoptr (GError) error = NULL;
  Receiver receiver = { 0 };
  GThread *thread;
  guint8 key[crypto_aead_chacha20poly1305_ietf_KEYBYTES];
  guint8 nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = { 0 };
  g_autofree guint8 *cipher = NULL;
  gsize chunk;
  gint64 start;
  double baseline_s;
  double session_s;
  double floor_s;
  double fixed_floor_s;
  guint sent = 0;

  if (!g_socket_listener_add_address (listener, any, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                      NULL, &bound, &error))
    g_error ("listen: %s", error->message);

  receiver.identity = receiver_id;
  receiver.listener = listener;
  receiver.context = g_main_context_new ();
  receiver.loop = g_main_loop_new (receiver.context, FALSE);
  receiver.expected = n_chunks;
  g_mutex_init (&receiver.lock);
  g_cond_init (&receiver.cond);
  thread = g_thread_new ("receiver", receiver_thread, &receiver);
  g_mutex_lock (&receiver.lock);
  while (!receiver.ready)
    g_cond_wait (&receiver.cond, &receiver.lock);
  g_mutex_unlock (&receiver.lock);

  g_socket_client_set_enable_proxy (client, FALSE);
  /* Direct, whatever proxy settings the machine has. */
  g_socket_client_set_enable_proxy (client, FALSE);
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (bound), NULL, &error);
  if (connection == NULL)
    g_error ("connect: %s", error->message);
  session = sotto_session_new (connection, sender_id, hello,
                               sotto_identity_get_public_key (receiver_id));
  sotto_session_start (session);
  while (!session_up (session))
    g_main_context_iteration (NULL, TRUE);
  if (!sotto_session_is_established (session))
    g_error ("the throughput session did not come up");

  payload->timestamp = g_get_real_time ();
  payload->body = g_malloc (CHUNK_BODY + 1);
  for (gsize i = 0; i < CHUNK_BODY; i++)
    payload->body[i] = (char)('a' + i % 26);
  payload->body[CHUNK_BODY] = '\0';
  encoded = sotto_payload_encode (payload, &error);
  g_assert (encoded != NULL);
  chunk = g_bytes_get_size (encoded);

  /* Baseline: encrypting the same number of same-size plaintexts. */
  crypto_aead_chacha20poly1305_ietf_keygen (key);
  cipher = g_malloc (chunk + crypto_aead_chacha20poly1305_ietf_ABYTES);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n_chunks; i++)
    {
      unsigned long long len = 0;

      nonce[4] = (guint8)i;
      crypto_aead_chacha20poly1305_ietf_encrypt (cipher, &len, g_bytes_get_data (encoded, NULL),
                                                 chunk, NULL, 0, NULL, nonce, key);
    }
  baseline_s = seconds_since (start);

  /* The session: encode, encrypt, frame, write; on the other thread read,
   * decrypt, check, decode, hand over. Sending keeps about 4 MiB in
   * flight, under the session's bound for a peer that does not read. */
  start = g_get_monotonic_time ();
  while (sent < n_chunks)
    {
      randombytes_buf (payload->uid, sizeof payload->uid);
      if (sent - (guint)g_atomic_int_get (&receiver.messages) < 128)
        {
          if (!sotto_session_send (session, payload, &error))
            g_error ("send: %s", error->message);
          sent++;
        }
      else
        {
          /* Set before the second look, so that the receiver's next
           * message either is seen here or wakes us. */
          g_atomic_int_set (&receiver.sender_waiting, 1);
          if (sent - (guint)g_atomic_int_get (&receiver.messages) >= 128)
            g_main_context_iteration (NULL, TRUE);
          g_atomic_int_set (&receiver.sender_waiting, 0);
        }
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  /* What the socket had no room for yet leaves from this main loop. */
  while (sotto_session_get_unsent_bytes (session) > 0)
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);
  session_s = (receiver.done_at - start) / (double)G_USEC_PER_SEC;
  sotto_session_close (session, NULL);

  floor_s = floor_throughput (g_bytes_get_data (encoded, NULL), chunk, n_chunks, 0);
  fixed_floor_s = floor_throughput (g_bytes_get_data (encoded, NULL), chunk, n_chunks,
                                    FLOOR_SOCKET_BUFFER);

  g_print ("\ntransport, one session over loopback TCP, %u messages of %zu bytes of plaintext:\n",
           n_chunks, chunk);
  g_print ("  session:  %8.1f MB/s  (%.3f s)\n", n_chunks * (double)chunk / session_s / 1e6, session_s);
  g_print ("  baseline: %8.1f MB/s  crypto_aead_chacha20poly1305_ietf_encrypt, same chunks  (%.3f s)\n",
           n_chunks * (double)chunk / baseline_s / 1e6, baseline_s);
  g_print ("  floor:    %8.1f MB/s  plain C: encrypt, write; read, decrypt; two threads  (%.3f s)\n",
           n_chunks * (double)chunk / floor_s / 1e6, floor_s);
  g_print ("            %8.1f MB/s  the same with fixed %d KiB socket buffers  (%.3f s)\n",
           n_chunks * (double)chunk / fixed_floor_s / 1e6, FLOOR_SOCKET_BUFFER / 1024, fixed_floor_s);
  g_print ("  ratio:    %8.2f  (target: at least 0.80; the floor's: %.2f, with fixed buffers %.2f)\n",
           baseline_s / session_s, baseline_s / floor_s, baseline_s / fixed_floor_s);

  g_main_loop_unref (receiver.loop);
  g_main_context_unref (receiver.context);
  g_mutex_clear (&receiver.lock);
  g_cond_clear (&receiver.cond);
}

/* -------------------------------------------------------------------------
 * 2. Handshakes
 * ------------------------------------------------------------------------- */

typedef struct
{
  SottoIdentity *identity;
  SottoHello    *hello;
  guint          established;
  guint          failed;
} Handshakes;

static void
on_established_cb (SottoSession *session,
                   Handshakes   *state)
{
  state->established++;
}

static void
on_closed_cb (SottoSession *session,
              const GError *reason,
              Handshakes   *state)
{
  if (!g_error_matches (reason, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_CLOSED))
    {
      g_printerr ("handshake failed: %s\n", reason->message);
      state->failed++;
    }
}

/* On a GIO connection, or (@connection NULL) on the bare descriptor @fd. */
static SottoSession *
start_session (GSocketConnection *connection,
               int                fd,
               Handshakes        *state,
               const guint8      *expected_key)
{
  SottoSession *session = connection != NULL
    ? sotto_session_new (connection, state->identity, state->hello, expected_key)
    : sotto_session_new_for_fd (fd, state->identity, state->hello, expected_key);

  if (expected_key == NULL)
    sotto_session_set_auth_func (session, accept_all_cb, NULL);
  g_signal_connect (session, "established", G_CALLBACK (on_established_cb), state);
  g_signal_connect (session, "closed", G_CALLBACK (on_closed_cb), state);
  sotto_session_start (session);
  return session;
}

/* 2 fixed-base and 6 variable-base X25519 multiplications: a Noise XX
 * handshake's, both sides. */
static void
dh_ops_of_a_handshake (guint8       *secret,
                       guint8       *pub,
                       guint8       *shared)
{
  for (guint side = 0; side < 2; side++)
    {
      crypto_scalarmult_base (pub, secret);
      for (guint dh = 0; dh < 3; dh++)
        if (crypto_scalarmult (shared, secret, pub) != 0)
          g_error ("scalarmult");
      secret[0] ^= shared[0];
    }
}

/* The floor of 2, one at a time like the sessions: the X25519
 * operations in the order a handshake makes them, and between them the
 * three messages, of the sizes Sotto's have, over a fresh TCP
 * connection, closed at the end. */
static double
floor_handshakes (guint   n,
                  guint8 *secret,
                  guint8 *pub)
{
  static const gsize sizes[3] = { 2 + 32, 2 + 32 + 48 + 64, 2 + 48 + 64 };
  guint8 message[256] = { 0 };
  guint8 shared[crypto_scalarmult_BYTES];
  struct sockaddr_in address;
  int listen_fd = floor_listen (&address);
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < n; i++)
    {
      int one = 1;
      int initiator = floor_connect (&address);
      int responder = accept (listen_fd, NULL, NULL);

      if (responder < 0)
        g_error ("floor: accept: %s", g_strerror (errno));
      setsockopt (responder, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

      crypto_scalarmult_base (pub, secret);                      /* -> e */
      write_exactly (initiator, message, sizes[0]);
      read_exactly (responder, message, sizes[0]);
      crypto_scalarmult_base (pub, secret);                      /* <- e, ee, s, es */
      for (guint dh = 0; dh < 2; dh++)
        if (crypto_scalarmult (shared, secret, pub) != 0)
          g_error ("scalarmult");
      write_exactly (responder, message, sizes[1]);
      read_exactly (initiator, message, sizes[1]);
      for (guint dh = 0; dh < 3; dh++)                           /* ee, es; -> s, se */
        if (crypto_scalarmult (shared, secret, pub) != 0)
          g_error ("scalarmult");
      write_exactly (initiator, message, sizes[2]);
      read_exactly (responder, message, sizes[2]);
      if (crypto_scalarmult (shared, secret, pub) != 0)          /* se */
        g_error ("scalarmult");

      close (initiator);
      close (responder);
    }
  close (listen_fd);
  return seconds_since (start);
}

/* A TCP connection made with GSocket alone: GSocketClient's address
 * enumeration and proxy lookup are not what is measured here. */
static GSocketConnection *
connect_plain (GSocketAddress *address)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, &error);

  if (socket == NULL || !g_socket_connect (socket, address, NULL, &error))
    g_error ("connect: %s", error->message);
  return g_socket_connection_factory_create_connection (socket);
}

/* n handshakes one at a time, TCP connect included: each is a full
 * session set-up, and both ends close it once it is up. The connection
 * is made and accepted synchronously (on loopback both ends are ready
 * at once), so that the figure is the sessions' and not an asynchronous
 * connect and accept machinery. With @gio the sockets are GIO's
 * (GSocket, GSocketConnection: what the peer service's listener and
 * dialer hand a session); without, plain descriptors, as in the floor.
 * A session left open would keep its socket and timer in the main
 * context, and every later iteration would pay for all of them: the
 * figure would depend on n. */
static double
session_handshakes (guint       n,
                    gboolean    gio,
                    Handshakes *server,
                    Handshakes *clients,
                    const guint8 *server_key)
{
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;
  struct sockaddr_in address;
  int listen_fd = -1;
  guint done = server->established + server->failed;
  gint64 start;

  if (gio && !g_socket_listener_add_address (listener, any, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error))
    g_error ("listen: %s", error->message);
  if (!gio)
    listen_fd = floor_listen (&address);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GSocketConnection) connection = NULL;
      g_autoptr (GSocketConnection) incoming = NULL;
      g_autoptr (SottoSession) session = NULL;
      g_autoptr (SottoSession) accepted = NULL;
      int fd = -1;
      int incoming_fd = -1;

      if (gio)
        {
          connection = connect_plain (bound);
          incoming = g_socket_listener_accept (listener, NULL, NULL, &error);
          if (incoming == NULL)
            g_error ("accept: %s", error->message);
        }
      else
        {
          fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
          if (fd < 0 || connect (fd, (const struct sockaddr *)&address, sizeof address) != 0)
            g_error ("connect: %s", g_strerror (errno));
          incoming_fd = accept (listen_fd, NULL, NULL);
          if (incoming_fd < 0)
            g_error ("accept: %s", g_strerror (errno));
        }
      accepted = start_session (incoming, incoming_fd, server, NULL);
      session = start_session (connection, fd, clients, server_key);
      while (server->established + server->failed < done + i + 1)
        g_main_context_iteration (NULL, TRUE);

      sotto_session_close (session, NULL);
      sotto_session_close (accepted, NULL);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (listen_fd >= 0)
    close (listen_fd);
  return seconds_since (start);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *)a;
  double y = *(const double *)b;

  return x < y ? -1 : x > y;
}

/* The four measurements run in rounds, each round all four back to back
 * on n / HANDSHAKE_ROUNDS handshakes: a slow moment of the machine then
 * falls on all of them alike, and the median of the rounds' own ratios
 * shows it least. The totals are printed too. */
#define HANDSHAKE_ROUNDS 10

static void
bench_handshakes (guint n)
{
  g_autoptr (SottoIdentity) client_id = sotto_identity_generate ("Client", NULL);
  g_autoptr (SottoIdentity) server_id = sotto_identity_generate ("Server", NULL);
  g_autoptr (SottoHello) client_hello = hello_for ("Client");
  g_autoptr (SottoHello) server_hello = hello_for ("Server");
  Handshakes server = { server_id, server_hello, 0, 0 };
  Handshakes clients = { client_id, client_hello, 0, 0 };
  const guint8 *server_key = sotto_identity_get_public_key (server_id);
  guint8 secret[crypto_scalarmult_SCALARBYTES];
  guint8 pub[crypto_scalarmult_BYTES];
  guint8 shared[crypto_scalarmult_BYTES];
  double ratios[3][HANDSHAKE_ROUNDS];
  double dh_s = 0, total_s = 0, gio_s = 0, floor_s = 0;
  guint per_round = MAX (n / HANDSHAKE_ROUNDS, 1);
  const guint per_handshake = 8;

  n = per_round * HANDSHAKE_ROUNDS;
  randombytes_buf (secret, sizeof secret);
  crypto_scalarmult_base (pub, secret);

  for (guint round = 0; round < HANDSHAKE_ROUNDS; round++)
    {
      gint64 start;
      double dh, session, gio, floor;

      /* Baseline: the X25519 operations alone, as many and of the same
       * kinds as the handshakes do: on each side one key generation (a
       * fixed-base multiplication) and three DH (ee and es, or ee and
       * se, and the other side's static). */
      start = g_get_monotonic_time ();
      for (guint i = 0; i < per_round; i++)
        dh_ops_of_a_handshake (secret, pub, shared);
      dh = seconds_since (start);

      session = session_handshakes (per_round, FALSE, &server, &clients, server_key);
      gio = session_handshakes (per_round, TRUE, &server, &clients, server_key);
      floor = floor_handshakes (per_round, secret, pub);

      ratios[0][round] = dh / session;
      ratios[1][round] = dh / gio;
      ratios[2][round] = dh / floor;
      dh_s += dh;
      total_s += session;
      gio_s += gio;
      floor_s += floor;
    }
  for (guint i = 0; i < 3; i++)
    qsort (ratios[i], HANDSHAKE_ROUNDS, sizeof (double), compare_doubles);

  g_print ("\nhandshakes, Noise XX over loopback TCP, both ends in this process, %u in a row "
           "in %u rounds, each session closed once up (%u failed):\n",
           n, HANDSHAKE_ROUNDS, server.failed + clients.failed);
  g_print ("  session:  %8.0f handshakes/s  (%.3f s, TCP connect and close included, "
           "plain sockets as in the floor)\n", n / total_s, total_s);
  g_print ("  with GIO: %8.0f handshakes/s  (%.3f s, the same on GSocket connections, as the "
           "peer service's: +%.0f us each)\n", n / gio_s, gio_s, (gio_s - total_s) * 1e6 / n);
  g_print ("  bound:    %8.0f handshakes/s  from the %u X25519 operations in each, alone  (%.3f s)\n",
           n / dh_s, per_handshake, dh_s);
  g_print ("  floor:    %8.0f handshakes/s  plain C: those operations, and the connect, "
           "three messages and close  (%.3f s)\n", n / floor_s, floor_s);
  g_print ("  ratio:    %8.2f  (target: at least 0.70; with GIO's sockets: %.2f; the floor's: %.2f)\n",
           dh_s / total_s, dh_s / gio_s, dh_s / floor_s);
  g_print ("  median of the rounds' ratios: %.2f  (with GIO's sockets: %.2f; the floor's: %.2f; "
           "rounds from %.2f to %.2f)\n",
           (ratios[0][HANDSHAKE_ROUNDS / 2 - 1] + ratios[0][HANDSHAKE_ROUNDS / 2]) / 2,
           (ratios[1][HANDSHAKE_ROUNDS / 2 - 1] + ratios[1][HANDSHAKE_ROUNDS / 2]) / 2,
           (ratios[2][HANDSHAKE_ROUNDS / 2 - 1] + ratios[2][HANDSHAKE_ROUNDS / 2]) / 2,
           ratios[0][0], ratios[0][HANDSHAKE_ROUNDS - 1]);
}

/* -------------------------------------------------------------------------
 * 3. Latency between two processes, with their stores
 * ------------------------------------------------------------------------- */

static SottoStore *
create_store (const char *dir,
              const char *name)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoStore *store;

  g_mkdir_with_parents (dir, 0700);
  sotto_store_create_async (dir, name, SOTTO_KEY_PROTECTION_PASSPHRASE, PASSPHRASE,
                            SOTTO_PWHASH_OPSLIMIT_MIN, SOTTO_PWHASH_MEMLIMIT_MIN,
                            NULL, sotto_test_result_cb, &result);
  store = sotto_store_create_finish (sotto_test_wait (&result), &error);
  if (store == NULL)
    g_error ("create: %s", error->message);
  return store;
}

static SottoStore *
open_store (const char *dir)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoStore *store;

  sotto_store_open_async (dir, PASSPHRASE, NULL, sotto_test_result_cb, &result);
  store = sotto_store_open_finish (sotto_test_wait (&result), &error);
  if (store == NULL)
    g_error ("open: %s", error->message);
  return store;
}

static void
add_contact (SottoStore    *store,
             SottoIdentity *other,
             guint          port)
{
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", port);
  const char *addresses[] = { address, NULL };
  g_autoptr (SottoInvite) invite = sotto_invite_new (sotto_identity_get_public_key (other),
                                                     sotto_identity_get_display_name (other),
                                                     addresses, NULL);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoContact) contact = NULL;

  sotto_store_add_contact_async (store, invite, NULL, NULL, sotto_test_result_cb, &result);
  contact = sotto_store_add_contact_finish (store, sotto_test_wait (&result), &error);
  if (contact == NULL)
    g_error ("add: %s", error->message);
}

static guint
free_port (void)
{
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GError) error = NULL;
  guint port = g_socket_listener_add_any_inet_port (listener, NULL, &error);

  if (port == 0)
    g_error ("port: %s", error->message);
  g_socket_listener_close (listener);
  return port;
}

static GSettings *
memory_settings (void)
{
  g_autoptr (GSettingsBackend) backend = g_memory_settings_backend_new ();

  return g_settings_new_with_backend (SCHEMA_ID, backend);
}

static gboolean
on_term_cb (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

/* When each message was stored, on the monotonic clock, which all
 * processes on this machine share. */
static void
on_peer_received_cb (SottoPeerService *service,
                     SottoContact     *contact,
                     SottoMessage     *message,
                     GString          *log)
{
  g_autofree char *uid = sotto_message_dup_uid_hex (message);

  g_string_append_printf (log, "%s %" G_GINT64_FORMAT "\n", uid, g_get_monotonic_time ());
}

/* The peer's side, in its own process: run the profile until SIGTERM,
 * then print when each message arrived. */
static int
run_peer (const char *dir,
          guint       port)
{
  g_autoptr (SottoStore) store = open_store (dir);
  g_autoptr (GSettings) settings = memory_settings ();
  g_autoptr (SottoPeerService) service = sotto_peer_service_new (store, settings);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) log = g_string_new (NULL);
  GMainLoop *loop = g_main_loop_new (NULL, FALSE);

  g_signal_connect (service, "message-received", G_CALLBACK (on_peer_received_cb), log);

  sotto_peer_service_set_port (service, port);
  if (!sotto_peer_service_start (service, &error))
    g_error ("peer: %s", error->message);

  g_unix_signal_add (SIGTERM, on_term_cb, loop);
  /* Tell the parent we listen. */
  g_print ("ready\n");
  fflush (stdout);
  g_main_loop_run (loop);
  g_main_loop_unref (loop);
  sotto_peer_service_stop (service);
  fputs (log->str, stdout);
  fflush (stdout);
  return 0;
}

typedef struct
{
  GHashTable *sent_at;     /* uid hex → gint64 µs, until its receipt */
  GHashTable *started;     /* uid hex → gint64 µs, every one recorded */
  GArray     *latencies;   /* double ms */
  guint       delivered;
  gboolean    online;
  gboolean    recording;
} Latency;

static void
on_online_cb (SottoPeerService *service,
              SottoContact     *contact,
              Latency          *state)
{
  state->online = TRUE;
}

static void
on_delivered_cb (SottoPeerService *service,
                 SottoContact     *contact,
                 const char       *uid,
                 Latency          *state)
{
  gint64 *sent_at = g_hash_table_lookup (state->sent_at, uid);

  if (sent_at != NULL && state->recording)
    {
      double ms = (g_get_monotonic_time () - *sent_at) / 1000.0;
      g_array_append_val (state->latencies, ms);
      g_hash_table_remove (state->sent_at, uid);
    }
  state->delivered++;
}

typedef struct
{
  Latency *state;
  gint64   started;
  gboolean done;
} SendOne;

static void
on_sent_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  SendOne *one = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoMessage) message = sotto_peer_service_send_finish (SOTTO_PEER_SERVICE (object),
                                                                     result, &error);

  if (message == NULL)
    g_error ("send: %s", error->message);
  /* The delivered receipt can't come before this runs: the message went
   * out in the same callback that completed the send. */
  if (one->state->recording)
    {
      g_hash_table_insert (one->state->sent_at, sotto_message_dup_uid_hex (message),
                           g_memdup2 (&one->started, sizeof one->started));
      g_hash_table_insert (one->state->started, sotto_message_dup_uid_hex (message),
                           g_memdup2 (&one->started, sizeof one->started));
    }
  one->done = TRUE;
}

/* The value below which @fraction of the sorted @values lie (1: the worst). */
static double
percentile (GArray *values,
            double  fraction)
{
  guint i = MIN ((guint)(values->len * fraction), values->len - 1);

  return g_array_index (values, double, i);
}

/* The floor of 3: what the disk and the loopback hop allow with no
 * Sotto code. Each message is one synced 4 KiB write on each side (a
 * WAL commit of one page, over space already allocated, as SQLite's
 * WAL is once it has wrapped) and 64 bytes each way over loopback TCP,
 * between two processes. The receiver answers with the time it had
 * stored the message; the sender then marks it without syncing, as the
 * store marks a message delivered. */
#define FLOOR_PAGE 4096
#define FLOOR_FILE_PAGES 256
#define LATENCY_ROUNDS 10

static int
floor_wal (const char *path)
{
  g_autofree guint8 *zeros = g_malloc0 (FLOOR_PAGE);
  int fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  if (fd < 0)
    g_error ("floor: %s: %s", path, g_strerror (errno));
  for (guint i = 0; i < FLOOR_FILE_PAGES; i++)
    write_exactly (fd, zeros, FLOOR_PAGE);
  if (fsync (fd) != 0)
    g_error ("floor: fsync: %s", g_strerror (errno));
  return fd;
}

/* Raw system calls only, here and in floor_exchange(): the forked child
 * uses them too. */
static gboolean
floor_commit (int      fd,
              guint8  *page,
              guint    i,
              gboolean sync)
{
  page[0] = (guint8)i;
  if (pwrite (fd, page, FLOOR_PAGE, (off_t)(i % FLOOR_FILE_PAGES) * FLOOR_PAGE) != FLOOR_PAGE)
    return FALSE;
  return !sync || fdatasync (fd) == 0;
}

static gboolean
floor_exchange (int      fd,
                guint8  *buffer,
                gsize    len,
                gboolean out)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = out ? write (fd, buffer + done, len - done) : read (fd, buffer + done, len - done);

      if (n <= 0)
        return FALSE;
      done += (gsize)n;
    }
  return TRUE;
}

static void
floor_latency_receiver (const struct sockaddr_in *address,
                        const char               *path,
                        guint                     n)
{
  static guint8 page[FLOOR_PAGE];
  guint8 message[64];
  int one = 1;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int wal = open (path, O_RDWR | O_CLOEXEC);

  if (fd < 0 || wal < 0 || connect (fd, (const struct sockaddr *)address, sizeof *address) != 0)
    _exit (1);
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  for (guint i = 0; i < n; i++)
    {
      struct timespec now;
      gint64 stored;

      if (!floor_exchange (fd, message, sizeof message, FALSE) || !floor_commit (wal, page, i, TRUE))
        _exit (1);
      clock_gettime (CLOCK_MONOTONIC, &now);
      stored = (gint64)now.tv_sec * G_USEC_PER_SEC + now.tv_nsec / 1000;
      memcpy (message, &stored, sizeof stored);
      if (!floor_exchange (fd, message, sizeof message, TRUE))
        _exit (1);
    }
  _exit (0);
}

/* Appends n latencies in ms to @one_way and @round_trip. */
static void
floor_latency (const char *root,
               guint       n,
               GArray     *one_way,
               GArray     *round_trip)
{
  g_autofree char *path_a = g_build_filename (root, "floor-a.wal", NULL);
  g_autofree char *path_b = g_build_filename (root, "floor-b.wal", NULL);
  g_autofree guint8 *page = g_malloc0 (FLOOR_PAGE);
  guint8 message[64] = { 0 };
  struct sockaddr_in address;
  int listen_fd = floor_listen (&address);
  int wal = floor_wal (path_a);
  int status = 0;
  int one = 1;
  int fd;
  pid_t child;

  close (floor_wal (path_b));
  child = fork ();
  if (child < 0)
    g_error ("floor: fork: %s", g_strerror (errno));
  if (child == 0)
    floor_latency_receiver (&address, path_b, n);

  fd = accept (listen_fd, NULL, NULL);
  if (fd < 0)
    g_error ("floor: accept: %s", g_strerror (errno));
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  for (guint i = 0; i < n; i++)
    {
      gint64 start = g_get_monotonic_time ();
      gint64 stored;
      double ms;

      if (!floor_commit (wal, page, i, TRUE) ||
          !floor_exchange (fd, message, sizeof message, TRUE) ||
          !floor_exchange (fd, message, sizeof message, FALSE))
        g_error ("floor: message %u: %s", i, g_strerror (errno));
      ms = (g_get_monotonic_time () - start) / 1000.0;
      g_array_append_val (round_trip, ms);
      memcpy (&stored, message, sizeof stored);
      ms = (stored - start) / 1000.0;
      g_array_append_val (one_way, ms);
      if (!floor_commit (wal, page, i + 1, FALSE))
        g_error ("floor: mark: %s", g_strerror (errno));
    }
  if (waitpid (child, &status, 0) != child || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    g_error ("floor: the receiving process failed");
  close (fd);
  close (wal);
  close (listen_fd);
  g_unlink (path_a);
  g_unlink (path_b);
}

static void
bench_latency (const char *self_path,
               guint       n_messages,
               guint       n_sustained)
{
  g_autofree char *root = g_dir_make_tmp ("sotto-bench-XXXXXX", NULL);
  g_autofree char *dir_a = g_build_filename (root, "a", NULL);
  g_autofree char *dir_b = g_build_filename (root, "b", NULL);
  g_autoptr (SottoStore) store = NULL;
  g_autoptr (GSettings) settings = memory_settings ();
  g_autoptr (SottoPeerService) service = NULL;
  g_autoptr (SottoContact) bob = NULL;
  g_autoptr (GSubprocess) peer = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *port_b_text = NULL;
  g_autoptr (GDataInputStream) peer_out = NULL;
  g_autofree char *line = NULL;
  Latency state = { 0 };
  guint port_a = free_port ();
  guint port_b = free_port ();
  g_autoptr (GArray) floor_one_way = NULL;
  g_autoptr (GArray) floor_round_trip = NULL;
  GArray *one_way;
  double ms_sum = 0;
  double sustained_s;
  gint64 start;

  {
    g_autoptr (SottoStore) a = create_store (dir_a, "Alice");
    g_autoptr (SottoStore) b = create_store (dir_b, "Bob");

    add_contact (a, sotto_store_get_identity (b), port_b);
    add_contact (b, sotto_store_get_identity (a), port_a);
    sotto_test_close_store (&a);
    sotto_test_close_store (&b);
  }

  port_b_text = g_strdup_printf ("%u", port_b);
  peer = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                           self_path, "--peer-dir", dir_b, "--peer-port", port_b_text, NULL);
  if (peer == NULL)
    g_error ("peer: %s", error->message);
  peer_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (peer));
  line = g_data_input_stream_read_line (peer_out, NULL, NULL, &error);
  if (line == NULL || !g_str_equal (line, "ready"))
    g_error ("the peer did not start");

  store = open_store (dir_a);
  bob = g_list_model_get_item (sotto_store_get_contacts (store), 0);
  service = sotto_peer_service_new (store, settings);
  sotto_peer_service_set_port (service, port_a);
  state.sent_at = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  state.started = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  state.latencies = g_array_new (FALSE, FALSE, sizeof (double));
  g_signal_connect (service, "contact-online", G_CALLBACK (on_online_cb), &state);
  g_signal_connect (service, "message-delivered", G_CALLBACK (on_delivered_cb), &state);
  if (!sotto_peer_service_start (service, &error))
    g_error ("start: %s", error->message);
  while (!state.online)
    g_main_context_iteration (NULL, TRUE);

  /* Latency: one message at a time, from the call that writes it to the
   * outbox to the delivered receipt (the peer stored it first). The
   * floor runs in turns with it, so that a slow moment of the disk falls
   * on both alike. */
  floor_one_way = g_array_new (FALSE, FALSE, sizeof (double));
  floor_round_trip = g_array_new (FALSE, FALSE, sizeof (double));
  state.recording = TRUE;
  for (guint round = 0, probe = 0; round < LATENCY_ROUNDS; round++)
    {
      guint per_round = n_messages / LATENCY_ROUNDS + (round < n_messages % LATENCY_ROUNDS);

      floor_latency (root, per_round, floor_one_way, floor_round_trip);
      for (guint i = 0; i < per_round; i++)
        {
          g_autofree char *body = g_strdup_printf ("latency probe %u: the quarterly numbers look fine",
                                                   probe++);
          SendOne one = { &state, g_get_monotonic_time (), FALSE };
          guint before = state.delivered;

          sotto_peer_service_send_async (service, bob, body, NULL, on_sent_cb, &one);
          while (!one.done || state.delivered == before)
            g_main_context_iteration (NULL, TRUE);
        }
    }
  g_array_sort (floor_one_way, compare_doubles);
  g_array_sort (floor_round_trip, compare_doubles);
  g_array_sort (state.latencies, compare_doubles);
  for (guint i = 0; i < state.latencies->len; i++)
    ms_sum += g_array_index (state.latencies, double, i);

  /* Sustained: many in flight, until the last receipt. */
  state.recording = FALSE;
  start = g_get_monotonic_time ();
  {
    g_autoptr (GPtrArray) ones = g_ptr_array_new_with_free_func (g_free);
    guint first = state.delivered;
    guint issued = 0;

    while (state.delivered < first + n_sustained)
      {
        while (issued < n_sustained && issued - (state.delivered - first) < 256)
          {
            SendOne *one = g_new0 (SendOne, 1);
            g_autofree char *body = g_strdup_printf ("sustained %u: lunch at noon?", issued);

            one->state = &state;
            one->started = g_get_monotonic_time ();
            g_ptr_array_add (ones, one);
            sotto_peer_service_send_async (service, bob, body, NULL, on_sent_cb, one);
            issued++;
          }
        g_main_context_iteration (NULL, TRUE);
      }
    /* The last completions may still be queued. */
    while (g_main_context_iteration (NULL, FALSE))
      ;
  }
  sustained_s = seconds_since (start);

  sotto_peer_service_stop (service);
  g_subprocess_send_signal (peer, SIGTERM);
  /* The peer's arrival times, against the start of each send here. */
  one_way = g_array_new (FALSE, FALSE, sizeof (double));
  while (TRUE)
    {
      g_autofree char *arrival = g_data_input_stream_read_line (peer_out, NULL, NULL, NULL);
      g_auto (GStrv) fields = NULL;
      gint64 *started;

      if (arrival == NULL)
        break;
      fields = g_strsplit (arrival, " ", 2);
      if (g_strv_length (fields) == 2 &&
          (started = g_hash_table_lookup (state.started, fields[0])) != NULL)
        {
          double ms = (g_ascii_strtoll (fields[1], NULL, 10) - *started) / 1000.0;
          g_array_append_val (one_way, ms);
        }
    }
  g_subprocess_wait (peer, NULL, NULL);
  if (one_way->len != state.latencies->len)
    g_error ("the peer reported %u of the %u messages", one_way->len, state.latencies->len);
  g_array_sort (one_way, compare_doubles);

  g_print ("\nmessages between two processes on loopback, each storing (synchronous=FULL) before "
           "it acknowledges:\n");
  g_print ("  latency, send to stored by the receiver, %u one at a time: p50 %.2f ms, p99 %.2f ms, "
           "worst %.2f ms  (target: p99 at most 2 ms)\n",
           one_way->len,
           g_array_index (one_way, double, one_way->len / 2),
           g_array_index (one_way, double, (guint)(one_way->len * 0.99)),
           g_array_index (one_way, double, one_way->len - 1));
  g_print ("  floor:    p50 %.2f ms, p99 %.2f ms, worst %.2f ms  plain C, in turns with the above: one "
           "synced %u-byte write on each side and 64 bytes over loopback\n",
           percentile (floor_one_way, 0.5), percentile (floor_one_way, 0.99),
           percentile (floor_one_way, 1), FLOOR_PAGE);
  g_print ("  round trip, send to delivered receipt, the same %u: p50 %.2f ms, p99 %.2f ms, "
           "mean %.2f ms, worst %.2f ms\n",
           state.latencies->len,
           g_array_index (state.latencies, double, state.latencies->len / 2),
           g_array_index (state.latencies, double, (guint)(state.latencies->len * 0.99)),
           ms_sum / state.latencies->len,
           g_array_index (state.latencies, double, state.latencies->len - 1));
  g_print ("  floor:    p50 %.2f ms, p99 %.2f ms  (and the answer back, and an unsynced mark)\n",
           percentile (floor_round_trip, 0.5), percentile (floor_round_trip, 0.99));
  g_print ("  sustained, up to 256 in flight: %.0f messages/s  (%u in %.2f s)\n",
           n_sustained / sustained_s, n_sustained, sustained_s);

  g_hash_table_unref (state.sent_at);
  g_hash_table_unref (state.started);
  g_array_unref (one_way);
  g_array_unref (state.latencies);
  sotto_test_rm_rf (root);
}

/* -------------------------------------------------------------------------
 * 4. Idle wake-ups
 * ------------------------------------------------------------------------- */

static GPollFunc default_poll;
static guint     n_sleeps;

/* Every time the loop goes to sleep, it is woken once. */
static gint
counting_poll (GPollFD *fds,
               guint    nfds,
               gint     timeout)
{
  if (timeout != 0)
    n_sleeps++;
  return default_poll (fds, nfds, timeout);
}

static guint64
context_switches (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "voluntary_ctxt_switches:");
  return line != NULL ? g_ascii_strtoull (line + strlen ("voluntary_ctxt_switches:"), NULL, 10)
                      : 0;
}

static gboolean
wake_cb (gpointer data)
{
  *(guint *)data = 0;
  return G_SOURCE_REMOVE;
}

/* Runs the loop until @until, and not past it for want of an event. */
static void
iterate_until (gint64 until)
{
  gint64 left = until - g_get_monotonic_time ();
  guint wake;

  if (left <= 0)
    return;
  wake = g_timeout_add ((guint)((left + 999) / 1000), wake_cb, &wake);
  while (wake != 0)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
on_far_term_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static gboolean
on_far_incoming_cb (GSocketService    *service,
                    GSocketConnection *connection,
                    GObject           *source,
                    gpointer           data)
{
  Handshakes *state = data;

  g_ptr_array_add (g_object_get_data (G_OBJECT (service), "sessions"),
                   start_session (connection, -1, state, NULL));
  return TRUE;
}

/* The far ends of the idle sessions, in a process of their own as
 * contacts' desktops are: listens on loopback, says "PORT KEYHEX", and
 * answers as a Sotto session does until SIGTERM. */
static int
run_idle_far_end (gboolean coalesce)
{
  g_autoptr (SottoIdentity) identity = sotto_identity_generate ("Far end", NULL);
  g_autoptr (SottoHello) hello = hello_for ("Far end");
  g_autoptr (GSocketService) service = g_socket_service_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GPtrArray) sessions = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  Handshakes state = { identity, hello, 0, 0 };
  GMainLoop *loop = g_main_loop_new (NULL, FALSE);
  char hex[SOTTO_KEY_LEN * 2 + 1];
  guint failed;

  sotto_session_set_coalesce_timers (coalesce);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), any, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error))
    g_error ("far end: listen: %s", error->message);
  g_object_set_data (G_OBJECT (service), "sessions", sessions);
  g_signal_connect (service, "incoming", G_CALLBACK (on_far_incoming_cb), &state);
  g_socket_service_start (service);
  sodium_bin2hex (hex, sizeof hex, sotto_identity_get_public_key (identity), SOTTO_KEY_LEN);
  g_print ("%u %s\n", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)), hex);
  fflush (stdout);

  g_unix_signal_add (SIGTERM, on_far_term_cb, loop);
  g_main_loop_run (loop);
  g_main_loop_unref (loop);
  /* What failed while it ran; closing now is the end, not a failure. */
  failed = state.failed;
  for (guint i = 0; i < sessions->len; i++)
    {
      g_signal_handlers_disconnect_by_data (g_ptr_array_index (sessions, i), &state);
      sotto_session_close (g_ptr_array_index (sessions, i), NULL);
    }
  if (failed > 0)
    g_printerr ("far end: %u sessions failed\n", failed);
  return failed > 0 ? 1 : 0;
}

/* @n quiet sessions made one after the other over one keepalive period
 * (as contacts come online at different times), then left alone for
 * @seconds: how often is this process woken? With @far_end (this
 * program's path), the other ends run in a process of their own and only
 * this one's wake-ups count, as on a desktop with @n contacts online;
 * otherwise both ends run here. */
static double
idle_wakeups (guint       n,
              guint       seconds,
              gboolean    coalesce,
              const char *far_end,
              double     *switches_per_s)
{
  g_autoptr (SottoIdentity) server_id = sotto_identity_generate ("Server", NULL);
  g_autoptr (SottoIdentity) client_id = sotto_identity_generate ("Client", NULL);
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GPtrArray) sessions = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoHello) server_hello = hello_for ("Server");
  g_autoptr (SottoHello) client_hello = hello_for ("Client");
  Handshakes server = { server_id, server_hello, 0, 0 };
  Handshakes clients = { client_id, client_hello, 0, 0 };
  g_autoptr (GSubprocess) far = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 period = (gint64)SOTTO_SESSION_KEEPALIVE_MS * 1000;
  guint8 far_key[SOTTO_KEY_LEN];
  guint64 switches;
  guint sleeps;

  sotto_session_set_coalesce_timers (coalesce);
  g_socket_client_set_enable_proxy (client, FALSE);
  if (far_end != NULL)
    {
      g_autoptr (GDataInputStream) out = NULL;
      g_autofree char *line = NULL;
      g_auto (GStrv) fields = NULL;
      gsize key_len = 0;

      far = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, far_end,
                              coalesce ? "--idle-far-end" : "--idle-far-end-baseline", NULL);
      if (far == NULL)
        g_error ("far end: %s", error->message);
      out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (far));
      line = g_data_input_stream_read_line (out, NULL, NULL, &error);
      fields = line != NULL ? g_strsplit (line, " ", 2) : NULL;
      if (fields == NULL || g_strv_length (fields) != 2 ||
          sodium_hex2bin (far_key, sizeof far_key, fields[1], strlen (fields[1]), NULL, &key_len,
                          NULL) != 0 || key_len != SOTTO_KEY_LEN)
        g_error ("far end said “%s”", line != NULL ? line : "nothing");
      bound = g_inet_socket_address_new (loopback, (guint16)g_ascii_strtoull (fields[0], NULL, 10));
      server.established = n;  /* counted over there; a failure there fails its exit */
    }
  else if (!g_socket_listener_add_address (listener, any, G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error))
    g_error ("listen: %s", error->message);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GSocketConnection) out = NULL;
      g_autoptr (GSocketConnection) in = NULL;

      iterate_until (start + period * i / n);
      out = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (bound), NULL, &error);
      if (out == NULL)
        g_error ("connect: %s", error->message);
      if (far == NULL)
        {
          in = g_socket_listener_accept (listener, NULL, NULL, &error);
          if (in == NULL)
            g_error ("accept: %s", error->message);
          g_ptr_array_add (sessions, start_session (in, -1, &server, NULL));
        }
      g_ptr_array_add (sessions, start_session (out, -1, &clients,
                                                far != NULL ? far_key
                                                : sotto_identity_get_public_key (server_id)));
    }
  iterate_until (start + period + G_USEC_PER_SEC);
  if (server.established != n || clients.established != n)
    g_error ("%u and %u of %u sessions up", server.established, clients.established, n);

  n_sleeps = 0;
  switches = context_switches ();
  iterate_until (g_get_monotonic_time () + (gint64)seconds * G_USEC_PER_SEC);
  sleeps = n_sleeps;
  *switches_per_s = (double)(context_switches () - switches) / seconds;
  if (server.failed + clients.failed > 0)
    g_error ("%u sessions closed while idle", server.failed + clients.failed);

  if (far != NULL)
    {
      g_subprocess_send_signal (far, SIGTERM);
      if (!g_subprocess_wait_check (far, NULL, &error))
        g_error ("far end: %s", error->message);
    }
  for (guint i = 0; i < sessions->len; i++)
    {
      g_signal_handlers_disconnect_by_data (g_ptr_array_index (sessions, i), &server);
      g_signal_handlers_disconnect_by_data (g_ptr_array_index (sessions, i), &clients);
      sotto_session_close (g_ptr_array_index (sessions, i), NULL);
    }
  iterate_until (g_get_monotonic_time () + G_USEC_PER_SEC / 10);
  sotto_session_set_coalesce_timers (TRUE);
  return (double)sleeps / seconds;
}

static void
bench_idle (guint       n,
            guint       seconds,
            const char *self_path)
{
  double baseline_switches;
  double switches;
  double baseline;
  double wakeups;

  default_poll = g_main_context_get_poll_func (NULL);
  g_main_context_set_poll_func (NULL, counting_poll);

  g_print ("\nidle: %u quiet sessions made over one keepalive period (%d s), then %u s of "
           "nothing to say; wake-ups of this process (target: at most 1/s with 100 contacts "
           "online):\n", n, SOTTO_SESSION_KEEPALIVE_MS / 1000, seconds);
  baseline = idle_wakeups (n, seconds, FALSE, self_path, &baseline_switches);
  wakeups = idle_wakeups (n, seconds, TRUE, self_path, &switches);
  g_print ("  far ends in another process, as contacts' desktops:\n");
  g_print ("    session:   %.2f wake-ups/s, %.2f context switches/s\n", wakeups, switches);
  g_print ("    baseline:  %.2f wake-ups/s, %.2f context switches/s  each session's timer to "
           "the millisecond, as before\n", baseline, baseline_switches);
  baseline = idle_wakeups (n, seconds, FALSE, NULL, &baseline_switches);
  wakeups = idle_wakeups (n, seconds, TRUE, NULL, &switches);
  g_print ("  both ends in this process (%u session objects):\n", 2 * n);
  g_print ("    session:   %.2f wake-ups/s, %.2f context switches/s\n", wakeups, switches);
  g_print ("    baseline:  %.2f wake-ups/s, %.2f context switches/s\n", baseline,
           baseline_switches);

  g_main_context_set_poll_func (NULL, default_poll);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GOptionContext) options = g_option_context_new ("— protocol benchmark");
  g_autoptr (GError) error = NULL;
  g_autofree char *peer_dir = NULL;
  g_autofree char *self_path = NULL;
  int peer_port = 0;
  int chunks = 20000;
  int handshakes = 5000;
  int messages = 2000;
  int sustained = 10000;
  int idle_sessions = 100;
  int idle_seconds = 40;
  gboolean idle_only = FALSE;
  gboolean idle_far_end = FALSE;
  gboolean idle_far_end_baseline = FALSE;
  GOptionEntry entries[] = {
    { "chunks", 0, 0, G_OPTION_ARG_INT, &chunks, "Messages for the throughput test", "N" },
    { "handshakes", 0, 0, G_OPTION_ARG_INT, &handshakes, "Handshakes to time", "N" },
    { "messages", 0, 0, G_OPTION_ARG_INT, &messages, "Messages for the latency test", "N" },
    { "sustained", 0, 0, G_OPTION_ARG_INT, &sustained, "Messages for the sustained rate", "N" },
    { "idle-sessions", 0, 0, G_OPTION_ARG_INT, &idle_sessions, "Quiet sessions for the wake-up count (0: skip)", "N" },
    { "idle-seconds", 0, 0, G_OPTION_ARG_INT, &idle_seconds, "How long to count wake-ups", "S" },
    { "idle-only", 0, 0, G_OPTION_ARG_NONE, &idle_only, "Count idle wake-ups only", NULL },
    { "idle-far-end", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &idle_far_end, NULL, NULL },
    { "idle-far-end-baseline", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &idle_far_end_baseline,
      NULL, NULL },
    { "peer-dir", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &peer_dir, NULL, NULL },
    { "peer-port", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &peer_port, NULL, NULL },
    { NULL }
  };

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    g_error ("%s", error->message);
  if (sodium_init () < 0)
    g_error ("sodium_init");

  if (peer_dir != NULL)
    return run_peer (peer_dir, (guint)peer_port);
  if (idle_far_end || idle_far_end_baseline)
    return run_idle_far_end (idle_far_end);

  if (chunks < 100 || handshakes < 10 || messages < 100 || sustained < 100)
    g_error ("--chunks >= 100, --handshakes >= 10, --messages >= 100, --sustained >= 100, please");

  g_print ("Sotto protocol benchmark, %d cores, libsodium %s\n", g_get_num_processors (),
           sodium_version_string ());
  self_path = g_file_read_link ("/proc/self/exe", NULL);
  if (!idle_only)
    {
      bench_throughput ((guint)chunks);
      bench_handshakes ((guint)handshakes);
      bench_latency (self_path != NULL ? self_path : argv[0], (guint)messages, (guint)sustained);
    }
  if (idle_sessions > 0)
    bench_idle ((guint)idle_sessions, (guint)MAX (idle_seconds, 1),
                self_path != NULL ? self_path : argv[0]);

  return 0;
}
