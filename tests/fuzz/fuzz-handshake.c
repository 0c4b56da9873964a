/* fuzz-handshake.c — a responder session against a hostile initiator
 *
 * Each input makes a responder SottoSession on one end of a socketpair;
 * this file plays the initiator on the other end, on the main loop.
 * Byte 0, bit 0 picks how:
 *
 * Raw (clear): the rest of the input goes to the session as it is (bad
 * lengths, a lone message 1, garbage). Then the write side is shut down,
 * or, with bit 1, kept open with a handshake timeout of a few ms. The
 * session must close, with no auth call and no "established".
 *
 * Crypto (set): an honest Noise XX initiator, so that the hello decoder,
 * the auth path and the transport dispatch get arbitrary bytes under
 * valid encryption.
 *   byte 1: the verdict of the auth func, bits 0-1: contact, request,
 *           refuse, or request accepted after (byte 1 >> 2) chunks;
 *           with byte 0 bit 1, the auth func closes the session itself;
 *           with byte 0 bit 2, the plaintexts follow message 3 at once,
 *           as an initiator session sends them (the request is then
 *           accepted after the last one)
 *   byte 2: rekey after 1 + byte 2 messages
 *   byte 3: rekey after 8 * byte 3 bytes (0: the protocol's bound)
 *   then the payload of message 3 (the hello), 2-byte big-endian length
 *   first; then transport plaintexts, each the same way (the last one
 *   may be short; a length above SOTTO_PAYLOAD_MAX_LEN replays our last
 *   message instead).
 * The session must establish exactly when the hello decodes and the
 * verdict lets the caller in, and send nothing before; deliver exactly
 * the well-formed payloads it should, in order (none after a malformed
 * or replayed message, no pings, pongs or unknown kinds, only request
 * states from a request); answer every ping; refuse to send a text to a
 * request; and what it sends must decrypt under the rekey rule of
 * PROTOCOL.md. It must close once, for the right reason, and be gone
 * after its last reference is dropped.
 *
 * Other timers never fire: results must not depend on the machine's
 * speed. Where the order of events matters, the initiator waits for the
 * pong of a ping of its own. A watchdog turns a hang into an abort.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <sodium.h>
#include <gio/gio.h>

#include "fuzz-common.h"
#include "sotto-frame.h"
#include "sotto-identity.h"
#include "sotto-noise.h"
#include "sotto-payload.h"
#include "sotto-session-private.h"

#define MODE_CRYPTO        0x01
#define MODE_RAW_KEEP_OPEN 0x02   /* raw */
#define MODE_AUTH_CLOSES   0x02   /* crypto */
#define MODE_PIPELINED     0x04   /* crypto */

#define VERDICT_CONTACT  0
#define VERDICT_REQUEST  1
#define VERDICT_REFUSE   2
#define VERDICT_ACCEPTED 3

/* Far more than any input takes, even under ASan. */
#define WATCHDOG_S 5
/* Timers that must not fire during a run. */
#define NEVER_MS (10 * 60 * 1000)
#define RAW_HANDSHAKE_MS 5

#define SYNC_COOKIE G_GUINT64_CONSTANT (0x53796e6353796e63)

/* The main loop runs until @cond holds; the watchdog ends a hang. */
#define WAIT_UNTIL(cond) \
  G_STMT_START \
    { \
      while (!(cond)) \
        g_main_context_iteration (NULL, TRUE); \
    } \
  G_STMT_END

typedef struct
{
  SottoIdentity *responder;
  SottoHello     responder_hello;
  guint8         initiator_secret[SOTTO_KEY_LEN];
  guint8         initiator_public[SOTTO_KEY_LEN];
  guint8         ephemeral_secret[SOTTO_KEY_LEN];
} Keys;

typedef struct
{
  const guint8 *data;
  gsize         len;
} Input;

typedef struct
{
  const Keys          *keys;
  guint                watchdog;

  /* the responder under test */
  SottoSession        *session;
  gpointer             alive;            /* the session, NULL once finalized */
  SottoSessionMode     verdict;
  gboolean             auth_closes;
  const guint8        *hello;            /* message 3's payload */
  gsize                hello_len;
  gboolean             peer_files;       /* that hello set SOTTO_CAPABILITY_FILES */
  guint                n_auth_calls;
  guint                n_established;
  guint                n_closed;
  GError              *reason;
  GPtrArray           *delivered;        /* SottoPayload, copied */
  GPtrArray           *expected;         /* SottoPayload to be delivered */

  /* the initiator, played here */
  GSocket             *socket;           /* non-blocking */
  guint                socket_source;
  gboolean             eof;
  gboolean             decrypt;          /* FALSE: what the session sends is dropped */
  SottoFrameReader    *reader;
  SottoNoiseHandshake *handshake;
  GByteArray          *message_2;        /* its payload, once read */
  SottoNoiseCipher    *send;
  SottoNoiseCipher    *receive;
  GBytes              *last_message;     /* the last transport message we sent */
  guint64              rekey_messages;
  guint64              rekey_bytes;
  guint64              sent_messages;    /* since the last rekey, each way */
  guint64              sent_bytes;
  guint64              received_messages;
  guint64              received_bytes;
  GPtrArray           *sent_back;        /* SottoPayload the session sent */
  GPtrArray           *expected_back;
} Harness;

static const Keys *
get_keys (void)
{
  static Keys keys;
  static gboolean ready;
  guint8 secret[SOTTO_KEY_LEN];
  guint8 public_key[SOTTO_KEY_LEN];

  if (ready)
    return &keys;

  FUZZ_CHECK (sodium_init () >= 0);
  /* Fixed keys: the same input takes the same path every time (but for
   * the session's own ephemeral key). */
  memset (secret, 0x42, sizeof secret);
  crypto_scalarmult_base (public_key, secret);
  keys.responder = sotto_identity_new_from_keys (public_key, secret, "Bob", NULL);
  FUZZ_CHECK (keys.responder != NULL);
  keys.responder_hello = (SottoHello) { .version = SOTTO_PROTOCOL_VERSION,
                                        .display_name = "Bob", .listen_port = 7007,
                                        .intro = "" };
  memset (keys.initiator_secret, 0x17, SOTTO_KEY_LEN);
  crypto_scalarmult_base (keys.initiator_public, keys.initiator_secret);
  memset (keys.ephemeral_secret, 0x5a, SOTTO_KEY_LEN);

  /* A warning on the way from the network is a finding too. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);

  ready = TRUE;
  return &keys;
}

static guint8
take_byte (Input *in)
{
  if (in->len == 0)
    return 0;
  in->len--;
  return *in->data++;
}

/* A 2-byte big-endian length, then up to that many bytes. */
static const guint8 *
take_block (Input *in,
            gsize *len)
{
  const guint8 *block;
  gsize want = (gsize) take_byte (in) << 8;

  want |= take_byte (in);
  block = in->data;
  *len = MIN (want, in->len);
  in->data += *len;
  in->len -= *len;
  return block;
}

static SottoPayload *
payload_copy (const SottoPayload *payload)
{
  g_autoptr (GBytes) bytes = NULL;
  SottoPayload *copy;

  /* Only known kinds are ever passed on, and those encode. */
  bytes = sotto_payload_encode (payload, NULL);
  FUZZ_CHECK (bytes != NULL);
  copy = sotto_payload_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL);
  FUZZ_CHECK (copy != NULL);
  return copy;
}

static SottoPayload *
make_payload (guint8  kind,
              guint64 cookie,
              guint8  request_state)
{
  SottoPayload *payload = sotto_payload_new (kind);

  payload->cookie = cookie;
  payload->request_state = request_state;
  if (kind == SOTTO_PAYLOAD_TEXT)
    {
      memset (payload->uid, 0xa5, SOTTO_MESSAGE_UID_LEN);
      payload->timestamp = G_GINT64_CONSTANT (1700000000000000);
      payload->body = g_strdup ("hello from the responder");
    }
  return payload;
}

/* Whether @got is @expected, or (@prefix) the start of it. */
static gboolean
payloads_match (GPtrArray *got,
                GPtrArray *expected,
                gboolean   prefix)
{
  if (prefix ? got->len > expected->len : got->len != expected->len)
    return FALSE;
  for (guint i = 0; i < got->len; i++)
    if (!sotto_payload_equal (got->pdata[i], expected->pdata[i]))
      return FALSE;
  return TRUE;
}

/* The rule of sotto-session.c: each way, rekey after the message that
 * reaches either bound. */
static void
count_message (Harness          *h,
               SottoNoiseCipher *cipher,
               guint64          *messages,
               guint64          *bytes,
               gsize             len)
{
  (*messages)++;
  *bytes += len;
  if (*messages >= h->rekey_messages || *bytes >= h->rekey_bytes)
    {
      sotto_noise_cipher_rekey (cipher);
      *messages = 0;
      *bytes = 0;
    }
}

/* -------------------------------------------------------------------------
 * The initiator's socket
 * ------------------------------------------------------------------------- */

static void
handle_session_frame (Harness      *h,
                      const guint8 *frame,
                      gsize         len)
{
  g_autoptr (GByteArray) plaintext = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  SottoPayload *payload;

  if (h->receive == NULL)
    {
      /* Nothing but message 2 before the handshake is done. */
      FUZZ_CHECK (h->handshake != NULL && h->message_2 == NULL);
      FUZZ_CHECK (sotto_noise_handshake_read_message (h->handshake, frame, len, plaintext, &error));
      h->message_2 = g_steal_pointer (&plaintext);
      return;
    }

  FUZZ_CHECK (sotto_noise_cipher_decrypt (h->receive, NULL, 0, frame, len, plaintext, &error));
  count_message (h, h->receive, &h->received_messages, &h->received_bytes, len);
  payload = sotto_payload_decode (plaintext->data, plaintext->len, &error);
  FUZZ_CHECK (payload != NULL && payload->known);
  g_ptr_array_add (h->sent_back, payload);
}

/* Reads whatever the session sent; sets eof once it closed. */
static void
pump (Harness *h)
{
  guint8 buffer[4096];

  while (!h->eof)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_receive (h->socket, (char *) buffer, sizeof buffer, NULL, &error);
      gsize offset = 0;

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return;
      if (n <= 0)
        {
          /* The end, or a reset: the session is gone. */
          h->eof = TRUE;
          return;
        }

      while (h->decrypt && offset < (gsize) n)
        {
          gsize consumed = 0;
          SottoFrameStatus status;

          status = sotto_frame_reader_push (h->reader, buffer + offset, (gsize) n - offset,
                                            &consumed, &error);
          /* The session frames what it sends properly. */
          FUZZ_CHECK (status != SOTTO_FRAME_FAILED);
          offset += consumed;
          if (status == SOTTO_FRAME_READY)
            {
              gsize len = 0;
              const guint8 *frame = sotto_frame_reader_get_frame (h->reader, &len);

              handle_session_frame (h, frame, len);
            }
        }
    }
}

static gboolean
on_socket_ready_cb (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      user_data)
{
  Harness *h = user_data;

  pump (h);
  if (!h->eof)
    return G_SOURCE_CONTINUE;
  h->socket_source = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
on_watchdog_cb (gpointer user_data)
{
  FUZZ_CHECK (!"hang: the session neither went on nor closed, or was never finalized");
  return G_SOURCE_REMOVE;
}

/* Sends all of @data; FALSE once the session has gone. */
static gboolean
write_all (Harness      *h,
           const guint8 *data,
           gsize         len)
{
  while (len > 0)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_send (h->socket, (const char *) data, len, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          /* Full: the session reads on the main loop. */
          g_main_context_iteration (NULL, TRUE);
          continue;
        }
      if (n < 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static gboolean
write_frame (Harness      *h,
             const guint8 *message,
             gsize         len)
{
  g_autoptr (GByteArray) frame = g_byte_array_new ();

  FUZZ_CHECK (sotto_frame_encode (message, len, frame, NULL));
  return write_all (h, frame->data, frame->len);
}

/* One transport message; FALSE if too long for one, or if the session
 * has gone. */
static gboolean
send_transport (Harness      *h,
                const guint8 *plaintext,
                gsize         len)
{
  g_autoptr (GByteArray) message = g_byte_array_new ();

  if (!sotto_noise_cipher_encrypt (h->send, NULL, 0, plaintext, len, message, NULL))
    return FALSE;
  g_clear_pointer (&h->last_message, g_bytes_unref);
  h->last_message = g_bytes_new (message->data, message->len);
  count_message (h, h->send, &h->sent_messages, &h->sent_bytes, message->len);
  return write_frame (h, message->data, message->len);
}

/* A ping of our own: once its pong is back, the session has handled all
 * that came before. FALSE if it closed first. */
static gboolean
sync_with_session (Harness *h)
{
  g_autoptr (SottoPayload) ping = make_payload (SOTTO_PAYLOAD_PING, SYNC_COOKIE, 0);
  g_autoptr (GBytes) bytes = sotto_payload_encode (ping, NULL);

  FUZZ_CHECK (bytes != NULL);
  if (!send_transport (h, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes)))
    return FALSE;
  g_ptr_array_add (h->expected_back, make_payload (SOTTO_PAYLOAD_PONG, SYNC_COOKIE, 0));
  WAIT_UNTIL (h->sent_back->len >= h->expected_back->len || h->eof);
  return h->sent_back->len >= h->expected_back->len;
}

/* -------------------------------------------------------------------------
 * The session under test
 * ------------------------------------------------------------------------- */

static SottoSessionMode
on_auth_cb (SottoSession     *session,
            const guint8     *remote_key,
            const SottoHello *remote_hello,
            gpointer          user_data)
{
  Harness *h = user_data;
  g_autoptr (SottoHello) sent = sotto_hello_decode (h->hello, h->hello_len, NULL);

  /* Asked once, about the caller as it is, and only with a valid hello. */
  h->n_auth_calls++;
  FUZZ_CHECK (h->n_auth_calls == 1 && h->n_closed == 0);
  FUZZ_CHECK (!sotto_session_is_initiator (session) && !sotto_session_is_established (session));
  FUZZ_CHECK (memcmp (remote_key, h->keys->initiator_public, SOTTO_KEY_LEN) == 0);
  FUZZ_CHECK (sent != NULL && remote_hello != NULL && sotto_hello_equal (remote_hello, sent));

  if (h->auth_closes)
    sotto_session_close (session, NULL);
  return h->verdict;
}

static void
on_established_cb (SottoSession *session,
                   Harness      *h)
{
  h->n_established++;
  FUZZ_CHECK (h->n_established == 1 && h->n_closed == 0 && h->n_auth_calls == 1);
  FUZZ_CHECK (sotto_session_is_established (session));
}

static void
on_payload_received_cb (SottoSession *session,
                        gpointer      payload,
                        Harness      *h)
{
  FUZZ_CHECK (h->n_established == 1 && h->n_closed == 0);
  g_ptr_array_add (h->delivered, payload_copy (payload));
}

static void
on_closed_cb (SottoSession *session,
              const GError *reason,
              Harness      *h)
{
  h->n_closed++;
  FUZZ_CHECK (h->n_closed == 1);
  FUZZ_CHECK (sotto_session_is_closed (session) && !sotto_session_is_established (session));
  FUZZ_CHECK (reason != NULL && reason->domain == SOTTO_SESSION_ERROR);
  h->reason = g_error_copy (reason);
}

static void
harness_init (Harness *h,
              guint    handshake_ms)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketConnection) connection = NULL;
  GSource *source;
  int fds[2];

  h->keys = get_keys ();
  h->watchdog = g_timeout_add_seconds (WATCHDOG_S, on_watchdog_cb, NULL);
  h->delivered = g_ptr_array_new_with_free_func ((GDestroyNotify) sotto_payload_free);
  h->expected = g_ptr_array_new_with_free_func ((GDestroyNotify) sotto_payload_free);
  h->sent_back = g_ptr_array_new_with_free_func ((GDestroyNotify) sotto_payload_free);
  h->expected_back = g_ptr_array_new_with_free_func ((GDestroyNotify) sotto_payload_free);
  h->reader = sotto_frame_reader_new (SOTTO_FRAME_MAX_LEN);
  h->rekey_messages = SOTTO_REKEY_MESSAGES;
  h->rekey_bytes = SOTTO_REKEY_BYTES;

  FUZZ_CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  socket = g_socket_new_from_fd (fds[0], NULL);
  h->socket = g_socket_new_from_fd (fds[1], NULL);
  FUZZ_CHECK (socket != NULL && h->socket != NULL);
  g_socket_set_blocking (h->socket, FALSE);
  connection = g_socket_connection_factory_create_connection (socket);

  source = g_socket_create_source (h->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (source, G_SOURCE_FUNC (on_socket_ready_cb), h, NULL);
  h->socket_source = g_source_attach (source, NULL);
  g_source_unref (source);

  h->session = sotto_session_new (connection, h->keys->responder,
                                  &h->keys->responder_hello, NULL);
  h->alive = h->session;
  g_object_add_weak_pointer (G_OBJECT (h->session), &h->alive);
  sotto_session_set_auth_func (h->session, on_auth_cb, h);
  sotto_session_set_timeouts (h->session, handshake_ms, NEVER_MS, NEVER_MS);
  g_signal_connect (h->session, "established", G_CALLBACK (on_established_cb), h);
  g_signal_connect (h->session, "payload-received", G_CALLBACK (on_payload_received_cb), h);
  g_signal_connect (h->session, "closed", G_CALLBACK (on_closed_cb), h);
}

/* Shuts our side down; the session must see the end and close. */
static void
hang_up (Harness *h)
{
  g_socket_shutdown (h->socket, FALSE, TRUE, NULL);
  WAIT_UNTIL (h->n_closed > 0 && h->eof);
}

static void
harness_clear (Harness *h)
{
  /* Dropped, the session must go: anything that keeps it alive after it
   * closed (a timer, a pending operation) hangs here. */
  g_signal_handlers_disconnect_by_data (h->session, h);
  g_clear_object (&h->session);
  WAIT_UNTIL (h->alive == NULL);

  g_clear_handle_id (&h->socket_source, g_source_remove);
  g_clear_handle_id (&h->watchdog, g_source_remove);
  g_socket_close (h->socket, NULL);
  g_clear_object (&h->socket);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  g_clear_error (&h->reason);
  g_clear_pointer (&h->delivered, g_ptr_array_unref);
  g_clear_pointer (&h->expected, g_ptr_array_unref);
  g_clear_pointer (&h->sent_back, g_ptr_array_unref);
  g_clear_pointer (&h->expected_back, g_ptr_array_unref);
  g_clear_pointer (&h->reader, sotto_frame_reader_free);
  g_clear_pointer (&h->handshake, sotto_noise_handshake_free);
  g_clear_pointer (&h->message_2, g_byte_array_unref);
  g_clear_pointer (&h->send, sotto_noise_cipher_free);
  g_clear_pointer (&h->receive, sotto_noise_cipher_free);
  g_clear_pointer (&h->last_message, g_bytes_unref);
}

/* -------------------------------------------------------------------------
 * The two modes
 * ------------------------------------------------------------------------- */

static void
run_raw (const guint8 *data,
         gsize         size,
         gboolean      keep_open)
{
  Harness h = { 0 };

  harness_init (&h, keep_open ? RAW_HANDSHAKE_MS : NEVER_MS);
  sotto_session_start (h.session);

  write_all (&h, data, size);
  if (keep_open)
    WAIT_UNTIL (h.n_closed > 0 && h.eof);
  else
    hang_up (&h);

  /* Without keys, no way past message 2. */
  FUZZ_CHECK (h.n_auth_calls == 0 && h.n_established == 0);
  FUZZ_CHECK (h.reason->code == SOTTO_SESSION_ERROR_PEER_CLOSED ||
              h.reason->code == SOTTO_SESSION_ERROR_PROTOCOL ||
              h.reason->code == SOTTO_SESSION_ERROR_CRYPTO ||
              (keep_open && h.reason->code == SOTTO_SESSION_ERROR_TIMEOUT));
  if (size == 0 && !keep_open)
    FUZZ_CHECK (h.reason->code == SOTTO_SESSION_ERROR_PEER_CLOSED);

  harness_clear (&h);
}

/* What the session must do with a plaintext we sent; FALSE if it must
 * close. */
static gboolean
expect_payload (Harness          *h,
                const guint8     *plaintext,
                gsize             len,
                SottoSessionMode  mode)
{
  g_autoptr (SottoPayload) payload = NULL;

  /* File kinds from a peer that did not announce files are unknown. */
  if (len > 0 && plaintext[0] >= SOTTO_PAYLOAD_FILE_OFFER &&
      plaintext[0] <= SOTTO_PAYLOAD_FILE_DONE && !h->peer_files)
    return TRUE;
  payload = sotto_payload_decode (plaintext, len, NULL);
  if (payload == NULL)
    return FALSE;
  if (!payload->known || payload->kind == SOTTO_PAYLOAD_PONG)
    return TRUE;
  if (payload->kind == SOTTO_PAYLOAD_PING)
    g_ptr_array_add (h->expected_back, make_payload (SOTTO_PAYLOAD_PONG, payload->cookie, 0));
  else if (mode == SOTTO_SESSION_MODE_CONTACT || payload->kind == SOTTO_PAYLOAD_REQUEST_STATE)
    g_ptr_array_add (h->expected, g_steal_pointer (&payload));
  return TRUE;
}

/* The session sends a text: a contact gets it, a request must not. */
static void
session_sends_text (Harness *h)
{
  g_autoptr (SottoPayload) text = make_payload (SOTTO_PAYLOAD_TEXT, 0, 0);
  g_autoptr (GError) error = NULL;

  if (sotto_session_get_mode (h->session) == SOTTO_SESSION_MODE_REQUEST)
    {
      FUZZ_CHECK (!sotto_session_send (h->session, text, &error));
      FUZZ_CHECK (g_error_matches (error, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_REFUSED));
      FUZZ_CHECK (!sotto_session_is_closed (h->session));
      return;
    }
  FUZZ_CHECK (sotto_session_send (h->session, text, &error));
  g_ptr_array_add (h->expected_back, g_steal_pointer (&text));
}

/* Nothing goes out before the handshake is done. */
static void
session_sends_too_early (Harness *h)
{
  g_autoptr (SottoPayload) text = make_payload (SOTTO_PAYLOAD_TEXT, 0, 0);
  g_autoptr (GError) error = NULL;

  FUZZ_CHECK (!sotto_session_send (h->session, text, &error));
  FUZZ_CHECK (g_error_matches (error, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_CLOSED));
  FUZZ_CHECK (!sotto_session_is_closed (h->session));
}

static void
accept_request (Harness *h)
{
  FUZZ_CHECK (sync_with_session (h));
  sotto_session_set_mode (h->session, SOTTO_SESSION_MODE_CONTACT);
  FUZZ_CHECK (sotto_session_get_mode (h->session) == SOTTO_SESSION_MODE_CONTACT);
  g_ptr_array_add (h->expected_back,
                   make_payload (SOTTO_PAYLOAD_REQUEST_STATE, 0, SOTTO_REQUEST_ACCEPTED));
  session_sends_text (h);
}

/* Sends the input's transport plaintexts, and notes in @failure the
 * first reason the session must close for; the request is accepted
 * after @accept_after of them. A length no plaintext can have stands
 * for a replay of our last message, which must not decrypt. The session
 * must ignore all after a failure, so those go too. */
static void
send_plaintexts (Harness          *h,
                 Input            *in,
                 SottoSessionMode *mode,
                 guint             accept_after,
                 int              *failure)
{
  static const guint8 no_message[SOTTO_NOISE_TAG_LEN] = { 0 };
  guint n_sent = 0;

  while (in->len > 0)
    {
      gsize len;
      const guint8 *plaintext;

      if (in->len >= 2 && ((gsize) in->data[0] << 8 | in->data[1]) > SOTTO_PAYLOAD_MAX_LEN)
        {
          gboolean sent;

          in->data += 2;
          in->len -= 2;
          sent = h->last_message != NULL
                 ? write_frame (h, g_bytes_get_data (h->last_message, NULL),
                                g_bytes_get_size (h->last_message))
                 : write_frame (h, no_message, sizeof no_message);
          if (!sent)
            break;
          if (*failure < 0)
            *failure = SOTTO_SESSION_ERROR_CRYPTO;
          continue;
        }

      plaintext = take_block (in, &len);
      if (!send_transport (h, plaintext, len))
        break;
      n_sent++;
      if (*failure >= 0)
        continue;
      if (!expect_payload (h, plaintext, len, *mode))
        *failure = SOTTO_SESSION_ERROR_PROTOCOL;

      if (*failure < 0 && n_sent == accept_after)
        {
          accept_request (h);
          *mode = SOTTO_SESSION_MODE_CONTACT;
        }
    }
}

static void
run_crypto (const guint8 *data,
            gsize         size,
            gboolean      auth_closes,
            gboolean      pipelined)
{
  Harness h = { 0 };
  Input in = { data, size };
  g_autoptr (GByteArray) message = g_byte_array_new ();
  g_autoptr (SottoHello) hello = NULL;
  g_autoptr (SottoHello) responder_hello = NULL;
  g_autoptr (GError) error = NULL;
  SottoSessionMode mode;
  gboolean let_in;
  int failure = -1;   /* a SottoSessionError */
  guint8 verdict;
  guint accept_after;
  guint8 rekey_messages;
  guint8 rekey_bytes;

  verdict = take_byte (&in);
  accept_after = verdict >> 2;
  verdict &= 3;
  rekey_messages = take_byte (&in);
  rekey_bytes = take_byte (&in);

  harness_init (&h, NEVER_MS);
  h.decrypt = TRUE;
  h.auth_closes = auth_closes;
  h.verdict = verdict == VERDICT_CONTACT ? SOTTO_SESSION_MODE_CONTACT
              : verdict == VERDICT_REFUSE ? SOTTO_SESSION_MODE_REFUSE
              : SOTTO_SESSION_MODE_REQUEST;
  h.rekey_messages = 1 + (guint64) rekey_messages;
  h.rekey_bytes = rekey_bytes == 0 ? SOTTO_REKEY_BYTES : 8 * (guint64) rekey_bytes;
  sotto_session_set_rekey_interval (h.session, h.rekey_messages, h.rekey_bytes);
  h.hello = take_block (&in, &h.hello_len);
  sotto_session_start (h.session);
  session_sends_too_early (&h);

  /* Message 1, and message 2 from the right key with the right hello. */
  h.handshake = sotto_noise_handshake_new (SOTTO_PROTOCOL_NAME, TRUE,
                                           (const guint8 *) SOTTO_PROTOCOL_PROLOGUE,
                                           SOTTO_PROTOCOL_PROLOGUE_LEN, &error);
  FUZZ_CHECK (h.handshake != NULL);
  sotto_noise_handshake_set_static_key (h.handshake, h.keys->initiator_secret);
  sotto_noise_handshake_set_ephemeral_key (h.handshake, h.keys->ephemeral_secret);
  FUZZ_CHECK (sotto_noise_handshake_start (h.handshake, &error));
  FUZZ_CHECK (sotto_noise_handshake_write_message (h.handshake, NULL, 0, message, &error));
  FUZZ_CHECK (write_frame (&h, message->data, message->len));
  WAIT_UNTIL (h.message_2 != NULL || h.eof);
  FUZZ_CHECK (h.message_2 != NULL && h.n_closed == 0);
  FUZZ_CHECK (memcmp (sotto_noise_handshake_get_remote_static_key (h.handshake),
                      sotto_identity_get_public_key (h.keys->responder), SOTTO_KEY_LEN) == 0);
  responder_hello = sotto_hello_decode (h.message_2->data, h.message_2->len, &error);
  FUZZ_CHECK (responder_hello != NULL);
  FUZZ_CHECK (sotto_hello_equal (responder_hello, &h.keys->responder_hello));

  /* Message 3, with the input's hello. */
  g_byte_array_set_size (message, 0);
  if (!sotto_noise_handshake_write_message (h.handshake, h.hello, h.hello_len, message, &error))
    {
      /* Too long for Noise: hang up instead. */
      FUZZ_CHECK (g_error_matches (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TOO_LONG));
      hang_up (&h);
      FUZZ_CHECK (g_error_matches (h.reason, SOTTO_SESSION_ERROR,
                                   SOTTO_SESSION_ERROR_PEER_CLOSED));
      FUZZ_CHECK (h.n_auth_calls == 0);
      harness_clear (&h);
      return;
    }
  write_frame (&h, message->data, message->len);
  FUZZ_CHECK (sotto_noise_handshake_split (h.handshake, &h.send, &h.receive, &error));
  g_clear_pointer (&h.handshake, sotto_noise_handshake_free);

  hello = sotto_hello_decode (h.hello, h.hello_len, NULL);
  h.peer_files = hello != NULL && (hello->capabilities & SOTTO_CAPABILITY_FILES) != 0;
  let_in = hello != NULL && verdict != VERDICT_REFUSE && !auth_closes;
  mode = h.verdict;
  if (mode == SOTTO_SESSION_MODE_REQUEST)
    g_ptr_array_add (h.expected_back,
                     make_payload (SOTTO_PAYLOAD_REQUEST_STATE, 0, SOTTO_REQUEST_PENDING));

  /* As an initiator session does: payloads right behind message 3, in
   * the same read as often as not. */
  if (pipelined)
    send_plaintexts (&h, &in, &mode, G_MAXUINT, &failure);

  WAIT_UNTIL (h.n_established > 0 || h.n_closed > 0);
  if (!let_in)
    {
      int code = hello == NULL ? SOTTO_SESSION_ERROR_PROTOCOL
                 : auth_closes ? SOTTO_SESSION_ERROR_CLOSED
                 : SOTTO_SESSION_ERROR_REFUSED;

      FUZZ_CHECK (h.n_established == 0);
      FUZZ_CHECK (g_error_matches (h.reason, SOTTO_SESSION_ERROR, code));
      FUZZ_CHECK (h.n_auth_calls == (hello != NULL ? 1u : 0u));
      WAIT_UNTIL (h.eof);
      FUZZ_CHECK (h.sent_back->len == 0);
      harness_clear (&h);
      return;
    }

  FUZZ_CHECK (h.n_established == 1);
  FUZZ_CHECK (sotto_session_get_mode (h.session) == h.verdict);
  if (!pipelined)
    {
      session_sends_text (&h);
      if (verdict == VERDICT_ACCEPTED && accept_after == 0)
        {
          accept_request (&h);
          mode = SOTTO_SESSION_MODE_CONTACT;
        }
      send_plaintexts (&h, &in, &mode, verdict == VERDICT_ACCEPTED ? accept_after : G_MAXUINT,
                       &failure);
    }
  else if (failure < 0)
    {
      /* The rest of the script, once the session has handled it all. */
      FUZZ_CHECK (sync_with_session (&h));
      session_sends_text (&h);
      if (verdict == VERDICT_ACCEPTED)
        accept_request (&h);
    }

  if (failure < 0)
    FUZZ_CHECK (sync_with_session (&h));
  hang_up (&h);

  FUZZ_CHECK (g_error_matches (h.reason, SOTTO_SESSION_ERROR,
                               failure >= 0 ? failure : SOTTO_SESSION_ERROR_PEER_CLOSED));
  FUZZ_CHECK (payloads_match (h.delivered, h.expected, FALSE));
  /* After a failure, what was queued but not yet written may be dropped. */
  FUZZ_CHECK (payloads_match (h.sent_back, h.expected_back, failure >= 0));

  harness_clear (&h);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  if (size < 1)
    return 0;

  if (data[0] & MODE_CRYPTO)
    run_crypto (data + 1, size - 1, (data[0] & MODE_AUTH_CLOSES) != 0,
                (data[0] & MODE_PIPELINED) != 0);
  else
    run_raw (data + 1, size - 1, (data[0] & MODE_RAW_KEEP_OPEN) != 0);

  return 0;
}
