/* sotto-session.c — one authenticated connection to a peer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A session runs the Noise XX handshake over one stream, then carries
 * typed payloads both ways, all on the GLib main loop: no thread per
 * connection, no blocking call. Bytes from the network go through the
 * frame reader (lengths), Noise (authentication) and the payload decoder
 * (types and limits) before anything else sees them; any failure closes
 * the session with a reason, and nothing of the failing frame is
 * delivered.
 */

#define G_LOG_DOMAIN "sotto-session"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <glib-unix.h>
#include <sodium.h>

#include "sotto-frame.h"
#include "sotto-noise.h"
#include "sotto-session-private.h"

/* What one read asks for: a handshake message fits the small buffer; an
 * established session reads several large frames at once, and frames
 * that lie whole in the buffer are decrypted where they are. */
#define HANDSHAKE_READ_LEN   4096
#define ESTABLISHED_READ_LEN (128 * 1024)
/* Reads per dispatch of the read source, so that a fast peer does not
 * keep the main loop from everything else. */
#define MAX_READS_PER_DISPATCH 4

typedef enum
{
  STATE_NEW,
  STATE_HANDSHAKE,
  STATE_ESTABLISHED,
  STATE_CLOSED,
} SessionState;

struct _SottoSession
{
  GObject               parent_instance;

  /* owned references */
  GSocketConnection    *connection;      /* NULL for a bare descriptor */
  int                   fd;              /* the connection's, or ours to close */
  GInetSocketAddress   *remote;          /* the peer's, as of the start: a closed
                                          * socket no longer says */
  SottoIdentity        *identity;
  GBytes               *hello_bytes;     /* our hello, encoded */
  SottoHello           *remote_hello;

  gboolean              initiator;
  guint8                expected_key[SOTTO_KEY_LEN];
  guint8                remote_key[SOTTO_KEY_LEN];
  gboolean              has_remote_key;
  SottoSessionAuthFunc  auth_func;
  gpointer              auth_data;

  SessionState          state;
  SottoSessionMode      mode;
  gint64                established_time;

  /* Noise */
  SottoNoiseHandshake  *handshake;
  SottoNoiseCipher     *send_cipher;
  SottoNoiseCipher     *receive_cipher;
  guint64               rekey_messages;
  guint64               rekey_bytes;
  guint64               sent_messages;   /* since the last rekey, each way */
  guint64               sent_bytes;
  guint64               received_messages;
  guint64               received_bytes;

  /* I/O: the session reads and writes the descriptor itself, without
   * blocking (MSG_DONTWAIT), from its own sources: no GTask and no idle
   * callback per read or write, and none of GSocket's per-call checks. */
  GMainContext         *context;         /* the thread-default one at start */

  /* reading */
  SottoFrameReader     *reader;
  guint8               *read_buffer;
  gsize                 read_buffer_len;
  GSource              *read_source;     /* attached for the session's life */
  gboolean              in_read;         /* readable() is running */
  gboolean              read_paused;     /* a nested loop re-entered it */

  /* writing */
  GQueue                write_queue;     /* GBytes, whole frames */
  gsize                 queued_bytes;
  gsize                 write_offset;    /* bytes of the first frame already written */
  GSource              *write_source;    /* attached while the socket is full */
  GSource              *failure_source;  /* reports a failed write from the main loop */
  GError               *write_error;

  /* timers */
  guint                 handshake_ms;
  guint                 keepalive_ms;
  guint                 idle_ms;
  GSource              *handshake_source;
  GSource              *tick_source;
  gint64                last_received;   /* monotonic µs */
  gint64                last_sent;
  guint64               ping_cookie;
};

G_DEFINE_FINAL_TYPE (SottoSession, sotto_session, G_TYPE_OBJECT)

enum {
  ESTABLISHED,
  PAYLOAD_RECEIVED,
  DRAINED,
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_QUARK (sotto-session-error-quark, sotto_session_error)

static void start_reading (SottoSession *self);

/* -------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

static void
close_with (SottoSession *self,
            GQuark        domain,
            int           code,
            const char   *format,
            ...) G_GNUC_PRINTF (4, 5);

static void
close_with (SottoSession *self,
            GQuark        domain,
            int           code,
            const char   *format,
            ...)
{
  g_autoptr (GError) reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_error_new_valist (domain, code, format, args);
  va_end (args);

  sotto_session_close (self, reason);
}

static void
close_with_error (SottoSession *self,
                  int           code,
                  const char   *what,
                  const GError *error)
{
  close_with (self, SOTTO_SESSION_ERROR, code, "%s: %s", what, error->message);
}

/* A source of ours on the session's context, or NULL for none. */
static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static GSource *
add_timeout (SottoSession *self,
             guint         ms,
             GSourceFunc   func)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, self, NULL);
  g_source_attach (source, self->context);
  return source;
}

static void
frame_written (SottoSession *self)
{
  GBytes *frame = g_queue_pop_head (&self->write_queue);

  self->queued_bytes -= g_bytes_get_size (frame);
  self->write_offset = 0;
  g_bytes_unref (frame);
}

/* An I/O error as GIO would report it. */
static GError *
io_error_new (int errsv)
{
  return g_error_new_literal (G_IO_ERROR, g_io_error_from_errno (errsv), g_strerror (errsv));
}

/* send() without blocking and without SIGPIPE: the bytes taken, 0 if
 * the socket is full, or -1 with @error set. */
static gssize
send_some (SottoSession  *self,
           const guint8  *data,
           gsize          size,
           GError       **error)
{
  for (;;)
    {
      gssize n = send (self->fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
      int errsv = errno;

      if (n >= 0)
        return n;
      if (errsv == EINTR)
        continue;
      if (errsv == EAGAIN || errsv == EWOULDBLOCK)
        return 0;
      g_propagate_error (error, io_error_new (errsv));
      return -1;
    }
}

/* Writes queued frames until the socket is full; FALSE once closed. */
static gboolean
write_nonblocking (SottoSession *self)
{
  GBytes *frame;

  while ((frame = g_queue_peek_head (&self->write_queue)) != NULL)
    {
      g_autoptr (GError) error = NULL;
      gsize size = 0;
      const guint8 *data = g_bytes_get_data (frame, &size);
      gssize n;

      n = send_some (self, data + self->write_offset, size - self->write_offset, &error);
      if (n == 0)
        return TRUE;
      if (n < 0)
        {
          close_with_error (self, SOTTO_SESSION_ERROR_IO, "sending failed", error);
          return FALSE;
        }

      self->write_offset += (gsize) n;
      if (self->write_offset == size)
        frame_written (self);
    }

  return TRUE;
}

static gboolean
writable (SottoSession *self)
{
  g_autoptr (SottoSession) hold = g_object_ref (self);

  if (!write_nonblocking (self))
    return G_SOURCE_REMOVE;
  if (!g_queue_is_empty (&self->write_queue))
    return G_SOURCE_CONTINUE;

  clear_source (&self->write_source);
  g_signal_emit (self, signals[DRAINED], 0);
  return G_SOURCE_REMOVE;
}

static gboolean
on_socket_writable_cb (int           fd,
                       GIOCondition  condition,
                       gpointer      user_data)
{
  return writable (user_data);
}

/* A plain descriptor source, not the pollable streams': they wrap the
 * socket's as a child source, and GLib takes a child's descriptor out of
 * the poll set and puts it back around every dispatch, waking the main
 * context twice each time. It does the same to a source's own
 * descriptor unless the source may recurse, hence can_recurse; readable()
 * copes with the recursion that allows. */
static GSource *
io_source_new (SottoSession *self,
               GIOCondition  condition,
               GSourceFunc   func)
{
  GSource *source = g_unix_fd_source_new (self->fd, condition);

  g_source_set_can_recurse (source, TRUE);
  g_source_set_callback (source, func, self, NULL);
  g_source_attach (source, self->context);
  return source;
}

static gboolean
on_write_failed_cb (gpointer user_data)
{
  SottoSession *self = user_data;
  g_autoptr (GError) error = g_steal_pointer (&self->write_error);

  g_clear_pointer (&self->failure_source, g_source_unref);
  if (self->state != STATE_CLOSED)
    close_with_error (self, SOTTO_SESSION_ERROR_IO, "sending failed", error);
  return G_SOURCE_REMOVE;
}

static gboolean
check_room (SottoSession  *self,
            gsize          size,
            GError       **error)
{
  if (self->queued_bytes + size > SOTTO_SESSION_MAX_QUEUED_BYTES)
    {
      g_set_error (error, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_OVERLOADED,
                   "the peer has not read the last %zu bytes", self->queued_bytes);
      return FALSE;
    }
  return TRUE;
}

/* Sends one whole frame (header and Noise message), which check_room()
 * has admitted. It goes out at once if the socket takes it, and only
 * what it does not take is queued. A failure is
 * reported from the main loop, as it would be by an asynchronous write:
 * the caller is in the middle of something. */
static void
send_frame (SottoSession *self,
            GByteArray   *frame)
{
  g_autoptr (GByteArray) owned = frame;
  gsize size = frame->len;
  gsize written = 0;

  self->last_sent = g_get_monotonic_time ();
  if (self->write_error != NULL)
    return;

  if (g_queue_is_empty (&self->write_queue))
    {
      g_autoptr (GError) error = NULL;
      gssize n = send_some (self, frame->data, size, &error);

      if (n == (gssize) size)
        return;
      if (n < 0)
        {
          self->write_error = g_steal_pointer (&error);
          self->failure_source = g_idle_source_new ();
          g_source_set_priority (self->failure_source, G_PRIORITY_DEFAULT);
          g_source_set_callback (self->failure_source, on_write_failed_cb, g_object_ref (self),
                                 g_object_unref);
          g_source_attach (self->failure_source, self->context);
          return;
        }
      written = (gsize) n;
    }

  if (g_queue_is_empty (&self->write_queue))
    self->write_offset = written;
  g_queue_push_tail (&self->write_queue, g_byte_array_free_to_bytes (g_steal_pointer (&owned)));
  self->queued_bytes += size;

  if (self->write_source == NULL)
    self->write_source = io_source_new (self, G_IO_OUT, G_SOURCE_FUNC (on_socket_writable_cb));
}

/* A new frame with room for its header, for the message to follow. */
static GByteArray *
frame_new (gsize message_len)
{
  GByteArray *frame = g_byte_array_sized_new ((guint) (SOTTO_FRAME_HEADER_LEN + message_len));

  g_byte_array_set_size (frame, SOTTO_FRAME_HEADER_LEN);
  return frame;
}

/* Fills in the header once the message is in place. */
static void
frame_finish (GByteArray *frame)
{
  gsize len = frame->len - SOTTO_FRAME_HEADER_LEN;

  /* Noise never makes an empty message, nor one over 65535 bytes. */
  g_assert (len >= 1 && len <= SOTTO_FRAME_MAX_LEN);
  frame->data[0] = len >> 8;
  frame->data[1] = len & 0xff;
}

/* @frame holds the header's room and the plaintext: encrypts it where it
 * is and sends it. */
static gboolean
encrypt_and_send (SottoSession  *self,
                  GByteArray    *frame,
                  GError       **error)
{
  g_autoptr (GByteArray) owned = frame;
  gsize len = frame->len - SOTTO_FRAME_HEADER_LEN;
  gsize message_len = len + SOTTO_NOISE_TAG_LEN;

  if (!check_room (self, SOTTO_FRAME_HEADER_LEN + message_len, error))
    return FALSE;

  g_byte_array_set_size (frame, (guint) (SOTTO_FRAME_HEADER_LEN + message_len));
  if (!sotto_noise_cipher_encrypt_in_place (self->send_cipher, NULL, 0,
                                            frame->data + SOTTO_FRAME_HEADER_LEN, len, error))
    return FALSE;
  frame_finish (frame);

  send_frame (self, g_steal_pointer (&owned));

  /* Rekey after the message that reaches either bound; the receiver
   * counts the same messages and bytes and does the same. */
  self->sent_messages++;
  self->sent_bytes += message_len;
  if (self->sent_messages >= self->rekey_messages || self->sent_bytes >= self->rekey_bytes)
    {
      sotto_noise_cipher_rekey (self->send_cipher);
      self->sent_messages = 0;
      self->sent_bytes = 0;
    }

  return TRUE;
}

static gboolean
send_kind (SottoSession *self,
           guint8        kind,
           guint64       cookie,
           guint8        state)
{
  g_autoptr (SottoPayload) payload = sotto_payload_new (kind);
  g_autoptr (GError) error = NULL;

  payload->cookie = cookie;
  payload->request_state = state;
  if (!sotto_session_send (self, payload, &error))
    {
      if (self->state != STATE_CLOSED)
        close_with_error (self, error->domain == SOTTO_SESSION_ERROR ? error->code
                                                                      : SOTTO_SESSION_ERROR_IO,
                          "sending failed", error);
      return FALSE;
    }
  return TRUE;
}

static gboolean on_tick_cb (gpointer user_data);

/* Arms the one timer of an established session for the earlier of its two
 * deadlines: a PING keepalive_ms after the last frame sent, a close idle_ms
 * after the last one received. Both only move later, so a timer that fires
 * early just looks again.
 *
 * With periods of seconds (all but tests'), a deadline waits for the next
 * multiple of SOTTO_SESSION_TICK_GRID_MS of the wall clock, on one of GLib's
 * whole-second timers: a hundred quiet sessions then all wake the process
 * at the same moment, once per grid step, instead of once each, and their
 * PONGs come back together. Desktops whose clocks are set by NTP, as in an
 * office, pick the same moments, so what their sessions send arrives in
 * the same wake-up too. A PING goes out at most one grid step late, a
 * close comes at most one step late (PROTOCOL.md, Timers). */

/* Whole seconds from @real_now_us (Unix time) to the first multiple of
 * SOTTO_SESSION_TICK_GRID_MS at or after @due_in_us from now; at least 1. */
guint
_sotto_session_grid_delay_s (gint64 real_now_us,
                             gint64 due_in_us)
{
  const gint64 grid = (gint64) SOTTO_SESSION_TICK_GRID_MS * 1000;
  gint64 at = real_now_us + MAX (due_in_us, 0);

  at = (at + grid - 1) / grid * grid;
  return (guint) CLAMP ((at - real_now_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC, 1, G_MAXUINT);
}

/* Off only for bench-protocol's baseline. */
static gboolean coalesce_timers = TRUE;

static void
schedule_tick (SottoSession *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 deadline;
  gint64 left_ms;
  GSource *source;

  deadline = MIN (self->last_received + (gint64) self->idle_ms * 1000,
                  self->last_sent + (gint64) self->keepalive_ms * 1000);
  left_ms = CLAMP ((deadline - now + 999) / 1000, 0, G_MAXUINT);
  clear_source (&self->tick_source);
  if (coalesce_timers && self->keepalive_ms >= SOTTO_SESSION_TICK_GRID_MS &&
      self->idle_ms >= SOTTO_SESSION_TICK_GRID_MS)
    {
      source = g_timeout_source_new_seconds (_sotto_session_grid_delay_s (g_get_real_time (),
                                                                          left_ms * 1000));
      g_source_set_callback (source, on_tick_cb, self, NULL);
      g_source_attach (source, self->context);
      self->tick_source = source;
    }
  else
    self->tick_source = add_timeout (self, (guint) left_ms, on_tick_cb);
}

static gboolean
on_tick_cb (gpointer user_data)
{
  SottoSession *self = user_data;
  gint64 now = g_get_monotonic_time ();
  /* GLib rounds a whole-second timer to its own second: one that fires a
   * little before the keepalive is due still sends, rather than wait a
   * whole grid step more. */
  gint64 slack = coalesce_timers && self->keepalive_ms >= SOTTO_SESSION_TICK_GRID_MS
                 ? G_USEC_PER_SEC : 0;

  if (now - self->last_received >= (gint64)self->idle_ms * 1000)
    {
      close_with (self, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_TIMEOUT,
                  "the peer was silent for %u ms", self->idle_ms);
      return G_SOURCE_REMOVE;
    }

  if (now - self->last_sent >= (gint64)self->keepalive_ms * 1000 - slack &&
      !send_kind (self, SOTTO_PAYLOAD_PING, ++self->ping_cookie, 0))
    return G_SOURCE_REMOVE;

  schedule_tick (self);
  return G_SOURCE_REMOVE;
}

static gboolean
on_handshake_timeout_cb (gpointer user_data)
{
  SottoSession *self = user_data;

  close_with (self, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_TIMEOUT,
              "the handshake did not finish within %u ms", self->handshake_ms);
  return G_SOURCE_REMOVE;
}

static gboolean
split (SottoSession *self)
{
  g_autoptr (GError) error = NULL;

  if (!sotto_noise_handshake_split (self->handshake, &self->send_cipher, &self->receive_cipher,
                                    &error))
    {
      close_with_error (self, SOTTO_SESSION_ERROR_CRYPTO, "handshake", error);
      return FALSE;
    }
  g_clear_pointer (&self->handshake, sotto_noise_handshake_free);
  return TRUE;
}

static void
become_established (SottoSession *self)
{
  g_autoptr (SottoSession) hold = g_object_ref (self);

  self->state = STATE_ESTABLISHED;
  self->established_time = g_get_real_time ();
  clear_source (&self->handshake_source);
  sotto_frame_reader_set_max_len (self->reader, SOTTO_FRAME_MAX_LEN);

  schedule_tick (self);

  if (self->mode == SOTTO_SESSION_MODE_REQUEST &&
      !send_kind (self, SOTTO_PAYLOAD_REQUEST_STATE, 0, SOTTO_REQUEST_PENDING))
    return;

  g_signal_emit (self, signals[ESTABLISHED], 0);
}

/* -------------------------------------------------------------------------
 * Handshake
 * ------------------------------------------------------------------------- */

static gboolean
write_handshake_message (SottoSession *self,
                         GBytes       *payload)
{
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  const guint8 *data = payload != NULL ? g_bytes_get_data (payload, &len) : NULL;
  g_autoptr (GByteArray) frame = frame_new (len + 128);

  if (!sotto_noise_handshake_write_message (self->handshake, data, len, frame, &error) ||
      !check_room (self, frame->len, &error))
    {
      close_with_error (self, SOTTO_SESSION_ERROR_CRYPTO, "handshake", error);
      return FALSE;
    }
  frame_finish (frame);
  send_frame (self, g_steal_pointer (&frame));
  return TRUE;
}

static SottoHello *
read_hello (SottoSession *self,
            GByteArray   *payload)
{
  g_autoptr (GError) error = NULL;
  SottoHello *hello = sotto_hello_decode (payload->data, payload->len, &error);

  if (hello == NULL)
    close_with_error (self, SOTTO_SESSION_ERROR_PROTOCOL, "bad hello", error);
  return hello;
}

static void
handle_handshake_frame (SottoSession *self,
                        const guint8 *frame,
                        gsize         len)
{
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  const guint8 *remote_key;

  if (!sotto_noise_handshake_read_message (self->handshake, frame, len, payload, &error))
    {
      close_with_error (self, g_error_matches (error, SOTTO_NOISE_ERROR, SOTTO_NOISE_ERROR_TRUNCATED)
                              ? SOTTO_SESSION_ERROR_PROTOCOL : SOTTO_SESSION_ERROR_CRYPTO,
                        "handshake", error);
      return;
    }

  remote_key = sotto_noise_handshake_get_remote_static_key (self->handshake);
  if (remote_key != NULL && !self->has_remote_key)
    {
      /* One key pair, one byte form: before the key is compared with the
       * pinned one or looked up (PROTOCOL.md, "Identity keys"). */
      if (!sotto_public_key_is_canonical (remote_key))
        {
          close_with (self, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_PROTOCOL,
                      "the peer's static key is not in canonical form");
          return;
        }
      memcpy (self->remote_key, remote_key, SOTTO_KEY_LEN);
      self->has_remote_key = TRUE;
    }

  if (!self->initiator && self->remote_hello == NULL && !self->has_remote_key)
    {
      /* Message 1: only an ephemeral key, nothing else. */
      if (!sotto_hello_check_empty (payload->data, payload->len, &error))
        {
          close_with_error (self, SOTTO_SESSION_ERROR_PROTOCOL, "message 1", error);
          return;
        }
      sotto_frame_reader_set_max_len (self->reader, SOTTO_SESSION_HANDSHAKE_FRAME_MAX);
      write_handshake_message (self, self->hello_bytes);
      return;
    }

  self->remote_hello = read_hello (self, payload);
  if (self->remote_hello == NULL)
    return;

  if (self->initiator)
    {
      /* Message 2: the responder's key is known now, before anything of
       * ours (our key, our hello) goes out. */
      if (sodium_memcmp (self->remote_key, self->expected_key, SOTTO_KEY_LEN) != 0)
        {
          close_with (self, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_KEY_MISMATCH,
                      "the peer's key is not the one pinned for this contact");
          return;
        }
      if (!write_handshake_message (self, self->hello_bytes) || !split (self))
        return;
      self->mode = SOTTO_SESSION_MODE_CONTACT;
      become_established (self);
      return;
    }

  /* Message 3: the initiator's key and hello. */
  if (!split (self))
    return;
  self->mode = self->auth_func != NULL
               ? self->auth_func (self, self->remote_key, self->remote_hello, self->auth_data)
               : SOTTO_SESSION_MODE_REFUSE;
  if (self->state == STATE_CLOSED)
    return;
  if (self->mode == SOTTO_SESSION_MODE_REFUSE)
    {
      close_with (self, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_REFUSED,
                  "the caller's key is not welcome");
      return;
    }
  become_established (self);
}

/* -------------------------------------------------------------------------
 * Transport
 * ------------------------------------------------------------------------- */

static gboolean
allowed_in_request (guint8 kind)
{
  return kind == SOTTO_PAYLOAD_PING || kind == SOTTO_PAYLOAD_PONG ||
         kind == SOTTO_PAYLOAD_REQUEST_STATE;
}

/* @frame is decrypted into a block of its own, which the payload takes:
 * a text's body is not copied again, and the read buffer never holds
 * plaintext. */
static void
handle_transport_frame (SottoSession *self,
                        const guint8 *frame,
                        gsize         len)
{
  g_autoptr (SottoPayload) payload = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) plaintext = g_byte_array_sized_new ((guint) len);
  gsize plaintext_len;

  if (!sotto_noise_cipher_decrypt (self->receive_cipher, NULL, 0, frame, len, plaintext, &error))
    {
      close_with_error (self, SOTTO_SESSION_ERROR_CRYPTO, "transport", error);
      return;
    }

  self->received_messages++;
  self->received_bytes += len;
  if (self->received_messages >= self->rekey_messages || self->received_bytes >= self->rekey_bytes)
    {
      sotto_noise_cipher_rekey (self->receive_cipher);
      self->received_messages = 0;
      self->received_bytes = 0;
    }

  plaintext_len = plaintext->len;
  /* A peer that did not say it speaks files (a revision-1 peer) may send
   * anything under those kinds, as under any kind it does not know: they
   * are unknown kinds from it (PROTOCOL.md, "Files"). */
  if (plaintext_len > 0 && plaintext->data[0] >= SOTTO_PAYLOAD_FILE_OFFER &&
      plaintext->data[0] <= SOTTO_PAYLOAD_FILE_DONE &&
      (self->remote_hello == NULL || (self->remote_hello->capabilities & SOTTO_CAPABILITY_FILES) == 0))
    {
      g_debug ("ignoring a file payload (kind 0x%02x) from a peer without files",
               plaintext->data[0]);
      sodium_memzero (plaintext->data, plaintext_len);
      return;
    }
  /* The same for groups (PROTOCOL.md, "Groups"). */
  if (plaintext_len > 0 && plaintext->data[0] >= SOTTO_PAYLOAD_SIGNING_KEY &&
      plaintext->data[0] <= SOTTO_PAYLOAD_GROUP_TYPING &&
      (self->remote_hello == NULL || (self->remote_hello->capabilities & SOTTO_CAPABILITY_GROUPS) == 0))
    {
      g_debug ("ignoring a group payload (kind 0x%02x) from a peer without groups",
               plaintext->data[0]);
      sodium_memzero (plaintext->data, plaintext_len);
      return;
    }
  payload = sotto_payload_decode_take (g_byte_array_steal (plaintext, NULL), plaintext_len, &error);
  if (payload == NULL)
    {
      close_with_error (self, SOTTO_SESSION_ERROR_PROTOCOL, "bad payload", error);
      return;
    }

  if (!payload->known)
    {
      g_debug ("ignoring a payload of unknown kind 0x%02x", payload->kind);
      return;
    }

  switch (payload->kind)
    {
    case SOTTO_PAYLOAD_PING:
      send_kind (self, SOTTO_PAYLOAD_PONG, payload->cookie, 0);
      return;
    case SOTTO_PAYLOAD_PONG:
      return;
    default:
      break;
    }

  if (self->mode == SOTTO_SESSION_MODE_REQUEST && !allowed_in_request (payload->kind))
    {
      g_debug ("dropping a %s from a contact request", sotto_payload_kind_to_string (payload->kind));
      return;
    }

  g_signal_emit (self, signals[PAYLOAD_RECEIVED], 0, payload);
}

/* -------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------- */

static void
handle_bytes (SottoSession *self,
              guint8       *data,
              gsize         len)
{
  while (len > 0 && self->state != STATE_CLOSED)
    {
      g_autoptr (GError) error = NULL;
      gsize consumed = 0;
      SottoFrameStatus status;
      guint8 *frame = NULL;
      gsize frame_len = 0;

      status = sotto_frame_reader_next (self->reader, data, len, &consumed, &frame, &frame_len,
                                        &error);
      if (status == SOTTO_FRAME_FAILED)
        {
          close_with_error (self, SOTTO_SESSION_ERROR_PROTOCOL, "bad frame", error);
          return;
        }
      data += consumed;
      len -= consumed;
      if (status == SOTTO_FRAME_NEED_MORE)
        return;

      if (self->state == STATE_HANDSHAKE)
        handle_handshake_frame (self, frame, frame_len);
      else
        handle_transport_frame (self, frame, frame_len);
    }
}

/* What a read brought: @n bytes in the read buffer, 0 at the end of the
 * stream, or -1 and @error. Returns FALSE once the session is closed. */
static gboolean
handle_read (SottoSession *self,
             gssize        n,
             GError       *error)
{
  if (n < 0)
    {
      close_with_error (self, SOTTO_SESSION_ERROR_IO, "receiving failed", error);
      return FALSE;
    }
  if (n == 0)
    {
      gsize held = sotto_frame_reader_get_buffered (self->reader);

      if (held > 0)
        close_with (self, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_PROTOCOL,
                    "the connection ended inside a frame (%zu bytes held)", held);
      else if (self->state == STATE_HANDSHAKE)
        close_with (self, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_PEER_CLOSED,
                    "the peer closed the connection during the handshake");
      else
        close_with (self, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_PEER_CLOSED,
                    "the peer closed the connection");
      return FALSE;
    }

  self->last_received = g_get_monotonic_time ();
  handle_bytes (self, self->read_buffer, (gsize)n);
  return self->state != STATE_CLOSED;
}

/* Between reads, nothing is in the read buffer: the handshake's small
 * one gives way to a large one once the session carries payloads. */
static void
prepare_read_buffer (SottoSession *self)
{
  gsize wanted = self->state == STATE_ESTABLISHED ? ESTABLISHED_READ_LEN : HANDSHAKE_READ_LEN;

  if (self->read_buffer_len >= wanted)
    return;
  g_free (self->read_buffer);
  self->read_buffer = g_malloc (wanted);
  self->read_buffer_len = wanted;
}

static void start_reading (SottoSession *self);

static gboolean
readable (SottoSession *self)
{
  g_autoptr (SottoSession) hold = g_object_ref (self);
  gboolean keep = G_SOURCE_CONTINUE;

  if (self->in_read)
    {
      /* A signal handler below runs a nested main loop, and the outer
       * read is not done with the buffer: stop watching the socket until
       * it is. */
      self->read_paused = TRUE;
      g_clear_pointer (&self->read_source, g_source_unref);
      return G_SOURCE_REMOVE;
    }

  self->in_read = TRUE;
  for (guint i = 0; i < MAX_READS_PER_DISPATCH; i++)
    {
      g_autoptr (GError) error = NULL;
      gssize n;
      int errsv;

      prepare_read_buffer (self);
      do
        {
          n = recv (self->fd, self->read_buffer, self->read_buffer_len, MSG_DONTWAIT);
          errsv = errno;
        }
      while (n < 0 && errsv == EINTR);
      if (n < 0 && (errsv == EAGAIN || errsv == EWOULDBLOCK))
        break;
      if (n < 0)
        error = io_error_new (errsv);
      if (!handle_read (self, n, error))
        {
          keep = G_SOURCE_REMOVE;
          break;
        }
      /* A short read most likely emptied the socket: poll again rather
       * than make a read that finds nothing. */
      if ((gsize) n < self->read_buffer_len)
        break;
    }
  self->in_read = FALSE;

  if (self->read_paused)
    {
      self->read_paused = FALSE;
      /* This dispatch's source is gone: watch with a new one. */
      start_reading (self);
      return G_SOURCE_REMOVE;
    }

  return keep;
}

static gboolean
on_socket_readable_cb (int           fd,
                       GIOCondition  condition,
                       gpointer      user_data)
{
  return readable (user_data);
}

static void
start_reading (SottoSession *self)
{
  /* One source for the whole session: it stays attached and fires
   * whenever there is something to read. */
  if (self->state != STATE_CLOSED && self->read_source == NULL)
    self->read_source = io_source_new (self, G_IO_IN, G_SOURCE_FUNC (on_socket_readable_cb));
}

/* -------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------- */

static void
sotto_session_dispose (GObject *object)
{
  SottoSession *self = SOTTO_SESSION (object);

  if (self->state != STATE_CLOSED && self->state != STATE_NEW)
    {
      g_autoptr (GError) reason = g_error_new_literal (SOTTO_SESSION_ERROR,
                                                       SOTTO_SESSION_ERROR_CLOSED,
                                                       "the session was dropped");
      sotto_session_close (self, reason);
    }
  clear_source (&self->handshake_source);
  clear_source (&self->tick_source);
  clear_source (&self->read_source);
  clear_source (&self->write_source);

  G_OBJECT_CLASS (sotto_session_parent_class)->dispose (object);
}

static void
sotto_session_finalize (GObject *object)
{
  SottoSession *self = SOTTO_SESSION (object);

  g_queue_clear_full (&self->write_queue, (GDestroyNotify)g_bytes_unref);
  g_clear_error (&self->write_error);
  g_clear_object (&self->remote);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->handshake, sotto_noise_handshake_free);
  g_clear_pointer (&self->send_cipher, sotto_noise_cipher_free);
  g_clear_pointer (&self->receive_cipher, sotto_noise_cipher_free);
  g_clear_pointer (&self->reader, sotto_frame_reader_free);
  g_clear_pointer (&self->read_buffer, g_free);
  g_clear_pointer (&self->hello_bytes, g_bytes_unref);
  g_clear_pointer (&self->remote_hello, sotto_hello_free);
  /* A connection closes its socket as it goes; a bare descriptor is ours. */
  if (self->connection == NULL && self->fd >= 0)
    close (self->fd);
  g_clear_object (&self->connection);
  g_clear_object (&self->identity);

  G_OBJECT_CLASS (sotto_session_parent_class)->finalize (object);
}

static void
sotto_session_class_init (SottoSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sotto_session_dispose;
  object_class->finalize = sotto_session_finalize;

  /**
   * SottoSession::established:
   *
   * The handshake is done and the peer accepted: payloads may flow.
   */
  signals[ESTABLISHED] =
    g_signal_new ("established", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * SottoSession::payload-received:
   * @payload: (type gpointer): the decoded #SottoPayload, valid during emission
   *
   * A well-formed payload of a known kind arrived (pings are answered
   * here and not passed on; a request session passes on only request
   * states).
   */
  signals[PAYLOAD_RECEIVED] =
    g_signal_new ("payload-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);

  /**
   * SottoSession::drained:
   *
   * The socket has taken every frame that had to wait for room in it:
   * sotto_session_get_unsent_bytes() is 0 again. A sender that paces
   * itself by that figure goes on from here.
   */
  signals[DRAINED] =
    g_signal_new ("drained", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * SottoSession::closed:
   * @reason: why, a #SOTTO_SESSION_ERROR
   *
   * Emitted once; the session is of no further use.
   */
  signals[CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
sotto_session_init (SottoSession *self)
{
  self->fd = -1;
  self->handshake_ms = SOTTO_SESSION_HANDSHAKE_TIMEOUT_MS;
  self->keepalive_ms = SOTTO_SESSION_KEEPALIVE_MS;
  self->idle_ms = SOTTO_SESSION_IDLE_TIMEOUT_MS;
  self->rekey_messages = SOTTO_REKEY_MESSAGES;
  self->rekey_bytes = SOTTO_REKEY_BYTES;
  g_queue_init (&self->write_queue);
}

static SottoSession *
session_new (int               fd,
             SottoIdentity    *identity,
             const SottoHello *hello,
             const guint8     *expected_key)
{
  g_autoptr (GError) error = NULL;
  SottoSession *self = g_object_new (SOTTO_TYPE_SESSION, NULL);

  self->fd = fd;
  /* Known from now on, also once the peer has hung up. */
  {
    g_autoptr (GInetSocketAddress) remote = sotto_session_get_remote_address (self);
  }
  self->identity = g_object_ref (identity);
  self->initiator = expected_key != NULL;
  if (expected_key != NULL)
    memcpy (self->expected_key, expected_key, SOTTO_KEY_LEN);

  /* Our own hello must be valid: a caller bug, not a network event. */
  self->hello_bytes = sotto_hello_encode (hello, &error);
  if (self->hello_bytes == NULL)
    g_critical ("invalid local hello: %s", error->message);

  return self;
}

/* -------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

/**
 * sotto_session_new:
 * @connection: a connected socket (TCP in real use; any stream socket in tests)
 * @identity: our identity: its secret key is our Noise static key
 * @hello: what we say about ourselves in the handshake
 * @expected_key: (nullable): for a session we start (the initiator), the
 *   contact's pinned key; %NULL for one the peer started
 *
 * Returns: (transfer full): a session; call sotto_session_start()
 */
SottoSession *
sotto_session_new (GSocketConnection *connection,
                   SottoIdentity    *identity,
                   const SottoHello *hello,
                   const guint8     *expected_key)
{
  SottoSession *self;

  g_return_val_if_fail (G_IS_SOCKET_CONNECTION (connection), NULL);
  g_return_val_if_fail (SOTTO_IS_IDENTITY (identity), NULL);
  g_return_val_if_fail (hello != NULL, NULL);

  self = session_new (g_socket_get_fd (g_socket_connection_get_socket (connection)),
                      identity, hello, expected_key);
  self->connection = g_object_ref (connection);
  return self;
}

/**
 * sotto_session_new_for_fd:
 * @fd: a connected stream socket, which the session takes over: it
 *   closes it when it closes (or is finalized unstarted)
 * @identity: our identity: its secret key is our Noise static key
 * @hello: what we say about ourselves in the handshake
 * @expected_key: (nullable): as for sotto_session_new()
 *
 * sotto_session_new() for a socket that has no #GSocket: one accepted or
 * connected with plain system calls. The descriptor may be blocking or
 * not; the session never waits on it.
 *
 * Returns: (transfer full): a session; call sotto_session_start()
 */
SottoSession *
sotto_session_new_for_fd (int               fd,
                          SottoIdentity    *identity,
                          const SottoHello *hello,
                          const guint8     *expected_key)
{
  g_return_val_if_fail (fd >= 0, NULL);
  g_return_val_if_fail (SOTTO_IS_IDENTITY (identity), NULL);
  g_return_val_if_fail (hello != NULL, NULL);

  return session_new (fd, identity, hello, expected_key);
}

void
sotto_session_set_auth_func (SottoSession         *self,
                             SottoSessionAuthFunc  func,
                             gpointer              user_data)
{
  g_return_if_fail (SOTTO_IS_SESSION (self));

  self->auth_func = func;
  self->auth_data = user_data;
}

/**
 * sotto_session_set_timeouts:
 *
 * For tests; before sotto_session_start(). 0 keeps a value.
 */
void
sotto_session_set_timeouts (SottoSession *self,
                            guint         handshake_ms,
                            guint         keepalive_ms,
                            guint         idle_ms)
{
  g_return_if_fail (SOTTO_IS_SESSION (self));
  g_return_if_fail (self->state == STATE_NEW);

  if (handshake_ms > 0)
    self->handshake_ms = handshake_ms;
  if (keepalive_ms > 0)
    self->keepalive_ms = keepalive_ms;
  if (idle_ms > 0)
    self->idle_ms = idle_ms;
}

/**
 * sotto_session_set_coalesce_timers:
 *
 * For the benchmark's baseline: %FALSE arms each session's keepalive and
 * idle timer to the millisecond, as before sessions shared whole-second
 * wake-ups. Affects timers armed from then on.
 */
void
sotto_session_set_coalesce_timers (gboolean coalesce)
{
  coalesce_timers = coalesce;
}

/**
 * sotto_session_set_rekey_interval:
 *
 * For tests: both ends must use the same values, which the protocol fixes
 * at %SOTTO_REKEY_MESSAGES and %SOTTO_REKEY_BYTES.
 */
void
sotto_session_set_rekey_interval (SottoSession *self,
                                  guint64       messages,
                                  guint64       bytes)
{
  g_return_if_fail (SOTTO_IS_SESSION (self));
  g_return_if_fail (messages > 0 && bytes > 0);

  self->rekey_messages = messages;
  self->rekey_bytes = bytes;
}

/**
 * sotto_session_start:
 *
 * Starts the handshake (sends message 1 when we are the initiator) and
 * reading.
 */
void
sotto_session_start (SottoSession *self)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (SOTTO_IS_SESSION (self));
  g_return_if_fail (self->state == STATE_NEW);

  self->state = STATE_HANDSHAKE;
  self->last_received = self->last_sent = g_get_monotonic_time ();

  /* Chat messages are small and each should leave at once: no Nagle.
   * Tests also run sessions over Unix sockets, which have none. */
  {
    int one = 1;

    if (setsockopt (self->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 &&
        errno != EOPNOTSUPP)
      g_debug ("TCP_NODELAY: %s", g_strerror (errno));
  }
  self->context = g_main_context_ref_thread_default ();
  /* Message 1 is an ephemeral key alone: 32 bytes, not one more. */
  self->reader = sotto_frame_reader_new (SOTTO_FRAME_MAX_LEN);
  sotto_frame_reader_set_max_len (self->reader, self->initiator ? SOTTO_SESSION_HANDSHAKE_FRAME_MAX
                                                                : SOTTO_KEY_LEN);
  self->handshake_source = add_timeout (self, self->handshake_ms, on_handshake_timeout_cb);

  if (self->hello_bytes == NULL)
    {
      close_with (self, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_PROTOCOL,
                  "our own hello is invalid");
      return;
    }

  self->handshake = sotto_noise_handshake_new (SOTTO_PROTOCOL_NAME, self->initiator,
                                               (const guint8 *)SOTTO_PROTOCOL_PROLOGUE,
                                               SOTTO_PROTOCOL_PROLOGUE_LEN, &error);
  if (self->handshake != NULL)
    {
      sotto_noise_handshake_set_static_keypair (self->handshake,
                                                sotto_identity_get_secret_key (self->identity),
                                                sotto_identity_get_public_key (self->identity));
      if (!sotto_noise_handshake_start (self->handshake, &error))
        g_clear_pointer (&self->handshake, sotto_noise_handshake_free);
    }
  if (self->handshake == NULL)
    {
      close_with_error (self, SOTTO_SESSION_ERROR_CRYPTO, "handshake", error);
      return;
    }

  if (self->initiator && !write_handshake_message (self, NULL))
    return;

  start_reading (self);
}

gboolean
sotto_session_is_initiator (SottoSession *self)
{
  g_return_val_if_fail (SOTTO_IS_SESSION (self), FALSE);
  return self->initiator;
}

gboolean
sotto_session_is_established (SottoSession *self)
{
  g_return_val_if_fail (SOTTO_IS_SESSION (self), FALSE);
  return self->state == STATE_ESTABLISHED;
}

gboolean
sotto_session_is_closed (SottoSession *self)
{
  g_return_val_if_fail (SOTTO_IS_SESSION (self), TRUE);
  return self->state == STATE_CLOSED;
}

SottoSessionMode
sotto_session_get_mode (SottoSession *self)
{
  g_return_val_if_fail (SOTTO_IS_SESSION (self), SOTTO_SESSION_MODE_REFUSE);
  return self->mode;
}

/**
 * sotto_session_set_mode:
 *
 * Turns a request session into a contact session once the user accepted
 * the caller (and tells the caller so).
 */
void
sotto_session_set_mode (SottoSession     *self,
                        SottoSessionMode  mode)
{
  g_return_if_fail (SOTTO_IS_SESSION (self));
  g_return_if_fail (mode == SOTTO_SESSION_MODE_CONTACT);

  if (self->state != STATE_ESTABLISHED || self->mode == mode)
    return;

  self->mode = mode;
  send_kind (self, SOTTO_PAYLOAD_REQUEST_STATE, 0, SOTTO_REQUEST_ACCEPTED);
}

/**
 * sotto_session_get_remote_key:
 *
 * Returns: (nullable): the peer's static key, once the handshake has shown it
 */
const guint8 *
sotto_session_get_remote_key (SottoSession *self)
{
  g_return_val_if_fail (SOTTO_IS_SESSION (self), NULL);
  return self->has_remote_key ? self->remote_key : NULL;
}

const SottoHello *
sotto_session_get_remote_hello (SottoSession *self)
{
  g_return_val_if_fail (SOTTO_IS_SESSION (self), NULL);
  return self->remote_hello;
}

/**
 * sotto_session_get_local_address:
 *
 * Returns: (transfer full) (nullable): our end of the connection
 */
GInetSocketAddress *
sotto_session_get_local_address (SottoSession *self)
{
  g_autoptr (GSocketAddress) address = NULL;
  struct sockaddr_storage native;
  socklen_t len = sizeof native;

  g_return_val_if_fail (SOTTO_IS_SESSION (self), NULL);

  if (self->fd < 0 || getsockname (self->fd, (struct sockaddr *) &native, &len) != 0)
    return NULL;
  address = g_socket_address_new_from_native (&native, len);
  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;
  return G_INET_SOCKET_ADDRESS (g_steal_pointer (&address));
}

/**
 * sotto_session_get_remote_address:
 *
 * Returns: (transfer full) (nullable): where the peer connects from
 */
GInetSocketAddress *
sotto_session_get_remote_address (SottoSession *self)
{
  g_autoptr (GSocketAddress) address = NULL;
  struct sockaddr_storage native;
  socklen_t len = sizeof native;

  g_return_val_if_fail (SOTTO_IS_SESSION (self), NULL);

  if (self->remote != NULL)
    return g_object_ref (self->remote);
  if (self->fd < 0 || getpeername (self->fd, (struct sockaddr *) &native, &len) != 0)
    return NULL;
  address = g_socket_address_new_from_native (&native, len);
  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;
  self->remote = G_INET_SOCKET_ADDRESS (g_steal_pointer (&address));
  return g_object_ref (self->remote);
}

gint64
sotto_session_get_established_time (SottoSession *self)
{
  g_return_val_if_fail (SOTTO_IS_SESSION (self), 0);
  return self->established_time;
}

/**
 * sotto_session_get_unsent_bytes:
 *
 * Returns: the bytes of frames sent that the socket has not taken yet
 *   (the session closes when they would pass
 *   %SOTTO_SESSION_MAX_QUEUED_BYTES); #SottoSession::drained tells when
 *   they are back to 0
 */
gsize
sotto_session_get_unsent_bytes (SottoSession *self)
{
  g_return_val_if_fail (SOTTO_IS_SESSION (self), 0);
  return self->queued_bytes;
}

/**
 * sotto_session_send:
 *
 * Encrypts and queues one payload. A request session sends nothing but
 * pings and request states.
 */
gboolean
sotto_session_send (SottoSession        *self,
                    const SottoPayload  *payload,
                    GError             **error)
{
  g_autoptr (GByteArray) frame = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (SOTTO_IS_SESSION (self), FALSE);
  g_return_val_if_fail (payload != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->state != STATE_ESTABLISHED)
    {
      g_set_error_literal (error, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_CLOSED,
                           self->state == STATE_CLOSED ? "the session is closed"
                                                       : "the session is not established yet");
      return FALSE;
    }
  if (self->mode == SOTTO_SESSION_MODE_REQUEST && !allowed_in_request (payload->kind))
    {
      g_set_error (error, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_REFUSED,
                   "a %s can't go to a contact request", sotto_payload_kind_to_string (payload->kind));
      return FALSE;
    }

  /* The plaintext goes right after the frame header, where it is
   * encrypted: no copy of it is made, and none is left. The encoder
   * grows the frame to a long text's size, which it measures anyway. */
  frame = frame_new (64);
  if (!sotto_payload_encode_to (payload, frame, error))
    return FALSE;

  /* Our own error: @error may be NULL. */
  if (!encrypt_and_send (self, g_steal_pointer (&frame), &local_error))
    {
      /* A queue that grows past its bound means the peer stopped reading. */
      if (g_error_matches (local_error, SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_OVERLOADED))
        sotto_session_close (self, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

/**
 * sotto_session_close:
 * @reason: (nullable): why; %NULL for an orderly close on this side
 *
 * Closes the connection and emits #SottoSession::closed, once.
 */
void
sotto_session_close (SottoSession *self,
                     const GError *reason)
{
  g_autoptr (SottoSession) hold = NULL;
  g_autoptr (GError) copy = NULL;

  g_return_if_fail (SOTTO_IS_SESSION (self));

  if (self->state == STATE_CLOSED)
    return;

  hold = g_object_ref (self);
  self->state = STATE_CLOSED;
  clear_source (&self->handshake_source);
  clear_source (&self->tick_source);
  clear_source (&self->read_source);
  clear_source (&self->write_source);
  clear_source (&self->failure_source);

  /* Keys go as soon as they are of no use. */
  g_clear_pointer (&self->handshake, sotto_noise_handshake_free);
  g_clear_pointer (&self->send_cipher, sotto_noise_cipher_free);
  g_clear_pointer (&self->receive_cipher, sotto_noise_cipher_free);

  /* Closing a socket does not block (GSocketConnection's close_async()
   * closes it right away too, then reports from an idle callback). */
  if (self->connection != NULL)
    g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);
  else
    close (self->fd);
  self->fd = -1;

  copy = reason != NULL ? g_error_copy (reason)
                        : g_error_new_literal (SOTTO_SESSION_ERROR, SOTTO_SESSION_ERROR_CLOSED,
                                               "closed");
  /* g_debug() would format the line even when it drops it. */
  if (!g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    g_debug ("session closed: %s", copy->message);
  g_signal_emit (self, signals[CLOSED], 0, copy);
}
