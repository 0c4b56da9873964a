/* sotto-control.c — the local control socket of a running profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Only one process may hold a profile (the profile lock). So that
 * `sotto-cli` stays useful next to a running Sotto, the process holding
 * the profile listens on a Unix socket in the user's runtime directory,
 * and a one-shot command finding it hands its arguments over instead of
 * opening the profile; the holder runs the command and sends back what
 * it printed and its exit status.
 *
 * Only the same user may connect: the directory is 0700, the socket 0600,
 * and the peer's credentials are checked on every connection.
 */

#define G_LOG_DOMAIN "sotto-control"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>

#include "sotto-control.h"
#include "sotto-error.h"

#define REQUEST_TYPE "(aayay)"
#define REPLY_TYPE   "(iayay)"

struct _SottoControlServer
{
  GObject          parent_instance;

  /* owned references */
  GSocketService  *service;
  GQueue           queue;       /* SottoControlRequest, the head is being served */
  char            *path;
};

struct _SottoControlRequest
{
  GObject              parent_instance;

  SottoControlServer  *server;  /* unowned: the server outlives its requests */
  GSocketConnection   *connection;
  GStrv                argv;
  char                *cwd;
  gboolean             replied;
};

G_DEFINE_FINAL_TYPE (SottoControlServer, sotto_control_server, G_TYPE_OBJECT)
G_DEFINE_FINAL_TYPE (SottoControlRequest, sotto_control_request, G_TYPE_OBJECT)

enum {
  REQUEST,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void serve_next (SottoControlServer *self);

/* -------------------------------------------------------------------------
 * Messages: a 4-byte big-endian length, then a GVariant in normal form
 * ------------------------------------------------------------------------- */

static GBytes *
encode_message (GVariant *variant)
{
  g_autoptr (GVariant) owned = g_variant_ref_sink (variant);
  gsize size = g_variant_get_size (owned);
  guint8 *data = g_malloc (4 + size);
  guint32 be = GUINT32_TO_BE ((guint32)size);

  memcpy (data, &be, 4);
  g_variant_store (owned, data + 4);
  return g_bytes_new_take (data, 4 + size);
}

static GVariant *
decode_message (const guint8        *data,
                gsize                len,
                const GVariantType  *type,
                GError             **error)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);
  g_autoptr (GVariant) variant = g_variant_new_from_bytes (type, bytes, FALSE);

  if (!g_variant_is_normal_form (variant))
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           "malformed control message");
      return NULL;
    }
  return g_steal_pointer (&variant);
}

/* Reads one message, at most @max bytes, blocking. */
static GVariant *
read_message (GInputStream        *in,
              gsize                max,
              const GVariantType  *type,
              GError             **error)
{
  g_autofree guint8 *data = NULL;
  guint32 be = 0;
  gsize got = 0;
  gsize len;

  if (!g_input_stream_read_all (in, &be, 4, &got, NULL, error))
    return NULL;
  if (got != 4)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                           "the connection ended before a reply");
      return NULL;
    }
  len = GUINT32_FROM_BE (be);
  if (len > max)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                   "control message of %zu bytes, at most %zu", len, max);
      return NULL;
    }
  data = g_malloc (MAX (len, 1));
  if (!g_input_stream_read_all (in, data, len, &got, NULL, error))
    return NULL;
  if (got != len)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                           "the connection ended inside a message");
      return NULL;
    }
  return decode_message (data, len, type, error);
}

static GVariant *
strv_to_variant (const char * const *strv)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aay"));
  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    g_variant_builder_add_value (&builder, g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                      strv[i], strlen (strv[i]), 1));
  return g_variant_builder_end (&builder);
}

/* A byte string without NUL, as a string; NULL if it holds a NUL. */
static char *
bytes_to_string (GVariant *value)
{
  gsize len = 0;
  const char *data = g_variant_get_fixed_array (value, &len, 1);

  if (memchr (data, '\0', len) != NULL)
    return NULL;
  return g_strndup (data, len);
}

/* -------------------------------------------------------------------------
 * The socket's place
 * ------------------------------------------------------------------------- */

/**
 * sotto_control_socket_path:
 * @profile_dir: the profile's directory
 *
 * Where the process holding this profile listens:
 * `$XDG_RUNTIME_DIR/sotto/control-<hash>`, the hash being the first 8
 * bytes (in hex) of BLAKE2b of the directory's absolute path, so that any
 * profile directory has a short socket path. Makes the directory (0700)
 * if needed and refuses one that is not the user's own.
 */
char *
sotto_control_socket_path (const char  *profile_dir,
                           GError     **error)
{
  g_autofree char *absolute = NULL;
  g_autofree char *dir = NULL;
  guint8 hash[8];
  char hex[2 * sizeof hash + 1];
  GStatBuf st;

  g_return_val_if_fail (profile_dir != NULL, NULL);

  absolute = g_canonicalize_filename (profile_dir, NULL);
  crypto_generichash (hash, sizeof hash, (const guint8 *)absolute, strlen (absolute), NULL, 0);
  sodium_bin2hex (hex, sizeof hex, hash, sizeof hash);

  dir = g_build_filename (g_get_user_runtime_dir (), "sotto", NULL);
  if (g_mkdir_with_parents (dir, 0700) != 0 && errno != EEXIST)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Can’t create “%s”: %s"), dir, g_strerror (saved));
      return NULL;
    }
  if (g_lstat (dir, &st) != 0 || !S_ISDIR (st.st_mode) || st.st_uid != getuid () ||
      (st.st_mode & 0077) != 0)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE,
                   _("“%s” must be a directory of your own that only you can open"), dir);
      return NULL;
    }

  return g_strdup_printf ("%s/control-%s", dir, hex);
}

/* -------------------------------------------------------------------------
 * Requests
 * ------------------------------------------------------------------------- */

static void
sotto_control_request_finalize (GObject *object)
{
  SottoControlRequest *self = SOTTO_CONTROL_REQUEST (object);

  g_clear_object (&self->connection);
  g_strfreev (self->argv);
  g_free (self->cwd);

  G_OBJECT_CLASS (sotto_control_request_parent_class)->finalize (object);
}

static void
sotto_control_request_class_init (SottoControlRequestClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sotto_control_request_finalize;
}

static void
sotto_control_request_init (SottoControlRequest *self)
{
}

/**
 * sotto_control_request_get_argv:
 *
 * Returns: (transfer none): the command and its arguments, as given to
 *   `sotto-cli` after its global options
 */
const char * const *
sotto_control_request_get_argv (SottoControlRequest *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTROL_REQUEST (self), NULL);
  return (const char * const *)self->argv;
}

/**
 * sotto_control_request_get_cwd:
 *
 * Returns: the caller's working directory
 */
const char *
sotto_control_request_get_cwd (SottoControlRequest *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTROL_REQUEST (self), NULL);
  return self->cwd;
}

static void
on_reply_written_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr (SottoControlRequest) request = user_data;
  g_autoptr (GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    g_debug ("reply not sent: %s", error->message);
  g_io_stream_close_async (G_IO_STREAM (request->connection), G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

/**
 * sotto_control_request_reply:
 * @status: the command's exit status
 *
 * Sends what the command printed and its status back; the next request,
 * if any, is served after this.
 */
void
sotto_control_request_reply (SottoControlRequest *self,
                             int                  status,
                             const char          *out,
                             gsize                out_len,
                             const char          *err,
                             gsize                err_len)
{
  SottoControlServer *server;
  GBytes *message;
  GOutputStream *stream;

  g_return_if_fail (SOTTO_IS_CONTROL_REQUEST (self));
  g_return_if_fail (!self->replied);

  self->replied = TRUE;
  server = self->server;

  /* Output past the bound is cut, and says so. */
  if (out_len + err_len > SOTTO_CONTROL_MAX_REPLY - 1024)
    {
      out_len = MIN (out_len, SOTTO_CONTROL_MAX_REPLY / 2);
      err = "sotto: the output was too long and was cut\n";
      err_len = strlen (err);
      status = status == 0 ? 1 : status;
    }

  message = encode_message (g_variant_new ("(i@ay@ay)", status,
                                           g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                      out ? out : "", out_len, 1),
                                           g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                      err ? err : "", err_len, 1)));
  stream = g_io_stream_get_output_stream (G_IO_STREAM (self->connection));
  g_output_stream_write_all_async (stream, g_bytes_get_data (message, NULL),
                                   g_bytes_get_size (message), G_PRIORITY_DEFAULT, NULL,
                                   on_reply_written_cb, g_object_ref (self));
  /* The bytes must live until written: the request holds them. */
  g_object_set_data_full (G_OBJECT (self), "reply", message, (GDestroyNotify)g_bytes_unref);

  if (server != NULL && g_queue_peek_head (&server->queue) == self)
    {
      g_object_unref (g_queue_pop_head (&server->queue));
      serve_next (server);
    }
}

/* -------------------------------------------------------------------------
 * Server
 * ------------------------------------------------------------------------- */

static gboolean
on_serve_cb (gpointer user_data)
{
  SottoControlServer *self = user_data;
  SottoControlRequest *request = g_queue_peek_head (&self->queue);

  if (request != NULL)
    g_signal_emit (self, signals[REQUEST], 0, request);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* One request at a time: commands print into one buffer. */
static void
serve_next (SottoControlServer *self)
{
  if (!g_queue_is_empty (&self->queue))
    g_idle_add (on_serve_cb, g_object_ref (self));
}

typedef struct
{
  SottoControlServer *server;
  GSocketConnection  *connection;
  guint8              header[4];
  guint8             *body;
  gsize               body_len;
} Incoming;

static void
incoming_free (Incoming *incoming)
{
  g_clear_object (&incoming->server);
  g_clear_object (&incoming->connection);
  g_free (incoming->body);
  g_free (incoming);
}

static void
drop (Incoming   *incoming,
      const char *why)
{
  g_debug ("control connection dropped: %s", why);
  g_io_stream_close_async (G_IO_STREAM (incoming->connection), G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  incoming_free (incoming);
}

static void
on_body_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Incoming *incoming = user_data;
  g_autoptr (GVariant) message = NULL;
  g_autoptr (GVariant) args = NULL;
  g_autoptr (GVariant) cwd = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = NULL;
  SottoControlRequest *request;
  gsize got = 0;
  gsize n;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &got, &error) ||
      got != incoming->body_len)
    {
      drop (incoming, error ? error->message : "short request");
      return;
    }

  message = decode_message (incoming->body, incoming->body_len, G_VARIANT_TYPE (REQUEST_TYPE),
                            &error);
  if (message == NULL)
    {
      drop (incoming, error->message);
      return;
    }

  args = g_variant_get_child_value (message, 0);
  cwd = g_variant_get_child_value (message, 1);
  n = g_variant_n_children (args);
  if (n == 0 || n > SOTTO_CONTROL_MAX_ARGS)
    {
      drop (incoming, "bad argument count");
      return;
    }
  argv = g_ptr_array_new_with_free_func (g_free);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) arg = g_variant_get_child_value (args, i);
      char *text = bytes_to_string (arg);

      if (text == NULL || !g_utf8_validate (text, -1, NULL))
        {
          g_free (text);
          drop (incoming, "an argument is not text");
          return;
        }
      g_ptr_array_add (argv, text);
    }
  g_ptr_array_add (argv, NULL);

  request = g_object_new (SOTTO_TYPE_CONTROL_REQUEST, NULL);
  request->server = incoming->server;
  request->connection = g_steal_pointer (&incoming->connection);
  request->argv = (GStrv)g_ptr_array_free (g_steal_pointer (&argv), FALSE);
  request->cwd = bytes_to_string (cwd);
  if (request->cwd == NULL || !g_path_is_absolute (request->cwd))
    {
      g_free (request->cwd);
      request->cwd = g_strdup ("/");
    }

  g_queue_push_tail (&incoming->server->queue, request);
  if (incoming->server->queue.length == 1)
    serve_next (incoming->server);
  incoming_free (incoming);
}

static void
on_header_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Incoming *incoming = user_data;
  g_autoptr (GError) error = NULL;
  guint32 be;
  gsize got = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &got, &error) || got != 4)
    {
      drop (incoming, error ? error->message : "short header");
      return;
    }

  memcpy (&be, incoming->header, 4);
  incoming->body_len = GUINT32_FROM_BE (be);
  if (incoming->body_len == 0 || incoming->body_len > SOTTO_CONTROL_MAX_REQUEST)
    {
      drop (incoming, "request too long");
      return;
    }
  incoming->body = g_malloc (incoming->body_len);
  g_input_stream_read_all_async (G_INPUT_STREAM (object), incoming->body, incoming->body_len,
                                 G_PRIORITY_DEFAULT, NULL, on_body_cb, incoming);
}

static gboolean
on_incoming_cb (GSocketService    *service,
                GSocketConnection *connection,
                GObject           *source,
                gpointer           user_data)
{
  SottoControlServer *self = user_data;
  g_autoptr (GCredentials) credentials = NULL;
  g_autoptr (GError) error = NULL;
  Incoming *incoming;

  /* The directory already keeps others out; this holds even if it
   * did not. */
  credentials = g_socket_get_credentials (g_socket_connection_get_socket (connection), &error);
  if (credentials == NULL || g_credentials_get_unix_user (credentials, NULL) != getuid ())
    {
      g_warning ("refused a control connection from another user");
      return TRUE;
    }

  incoming = g_new0 (Incoming, 1);
  incoming->server = g_object_ref (self);
  incoming->connection = g_object_ref (connection);
  g_input_stream_read_all_async (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                                 incoming->header, 4, G_PRIORITY_DEFAULT, NULL, on_header_cb,
                                 incoming);
  return TRUE;
}

static void
sotto_control_server_dispose (GObject *object)
{
  SottoControlServer *self = SOTTO_CONTROL_SERVER (object);

  sotto_control_server_stop (self);
  g_queue_clear_full (&self->queue, g_object_unref);

  G_OBJECT_CLASS (sotto_control_server_parent_class)->dispose (object);
}

static void
sotto_control_server_finalize (GObject *object)
{
  SottoControlServer *self = SOTTO_CONTROL_SERVER (object);

  g_free (self->path);

  G_OBJECT_CLASS (sotto_control_server_parent_class)->finalize (object);
}

static void
sotto_control_server_class_init (SottoControlServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sotto_control_server_dispose;
  object_class->finalize = sotto_control_server_finalize;

  /**
   * SottoControlServer::request:
   * @request: a #SottoControlRequest: run it, then
   *   sotto_control_request_reply()
   *
   * Requests come one at a time: the next after the reply to this one.
   */
  signals[REQUEST] =
    g_signal_new ("request", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SOTTO_TYPE_CONTROL_REQUEST);
}

static void
sotto_control_server_init (SottoControlServer *self)
{
  g_queue_init (&self->queue);
}

/* A socket file nobody answers on is left over from a process that died. */
static gboolean
socket_in_use (const char *path)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr (GSocketConnection) connection = NULL;

  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, NULL);
  return connection != NULL;
}

/**
 * sotto_control_server_new:
 *
 * Listens on the profile's control socket. Call only while holding the
 * profile lock.
 */
SottoControlServer *
sotto_control_server_new (const char  *profile_dir,
                          GError     **error)
{
  g_autoptr (SottoControlServer) self = NULL;
  g_autoptr (GSocketAddress) address = NULL;

  g_return_val_if_fail (profile_dir != NULL, NULL);

  self = g_object_new (SOTTO_TYPE_CONTROL_SERVER, NULL);
  self->path = sotto_control_socket_path (profile_dir, error);
  if (self->path == NULL)
    return NULL;

  if (g_file_test (self->path, G_FILE_TEST_EXISTS))
    {
      if (socket_in_use (self->path))
        {
          g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_PROFILE_IN_USE,
                               _("Another program already answers for this profile"));
          g_clear_pointer (&self->path, g_free);
          return NULL;
        }
      g_unlink (self->path);
    }

  self->service = g_socket_service_new ();
  address = g_unix_socket_address_new (self->path);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                      NULL, NULL, error))
    {
      g_clear_pointer (&self->path, g_free);
      return NULL;
    }
  g_chmod (self->path, 0600);
  g_signal_connect (self->service, "incoming", G_CALLBACK (on_incoming_cb), self);
  g_socket_service_start (self->service);

  return g_steal_pointer (&self);
}

/**
 * sotto_control_server_stop:
 *
 * Stops listening and removes the socket.
 */
void
sotto_control_server_stop (SottoControlServer *self)
{
  g_return_if_fail (SOTTO_IS_CONTROL_SERVER (self));

  if (self->service != NULL)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_signal_handlers_disconnect_by_data (self->service, self);
      g_clear_object (&self->service);
    }
  if (self->path != NULL)
    {
      g_unlink (self->path);
      g_clear_pointer (&self->path, g_free);
    }
  for (GList *l = self->queue.head; l != NULL; l = l->next)
    SOTTO_CONTROL_REQUEST (l->data)->server = NULL;
}

/* -------------------------------------------------------------------------
 * Client
 * ------------------------------------------------------------------------- */

/**
 * sotto_control_call:
 * @argv: the command and its arguments
 * @cwd: the caller's working directory
 *
 * Hands a command to the process holding the profile, and waits for its
 * output and exit status (blocking: for command-line tools).
 *
 * Returns: %FALSE with %G_IO_ERROR_NOT_FOUND or
 *   %G_IO_ERROR_CONNECTION_REFUSED when no process answers for the profile,
 *   with %SOTTO_ERROR_NO_REPLY when the request was handed over but no
 *   answer came (the command may have run: never run it again blindly)
 */
gboolean
sotto_control_call (const char          *profile_dir,
                    const char * const  *argv,
                    const char          *cwd,
                    int                 *out_status,
                    GBytes             **out_stdout,
                    GBytes             **out_stderr,
                    GError             **error)
{
  g_autofree char *path = NULL;
  g_autoptr (GSocketClient) client = NULL;
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) out = NULL;
  g_autoptr (GVariant) err = NULL;
  g_autoptr (GError) local_error = NULL;
  GOutputStream *output;
  gint32 status = 0;

  g_return_val_if_fail (profile_dir != NULL && argv != NULL && argv[0] != NULL, FALSE);

  path = sotto_control_socket_path (profile_dir, error);
  if (path == NULL)
    return FALSE;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no control socket");
      return FALSE;
    }

  client = g_socket_client_new ();
  address = g_unix_socket_address_new (path);
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, error);
  if (connection == NULL)
    return FALSE;

  request = encode_message (g_variant_new ("(@aay@ay)", strv_to_variant (argv),
                                           g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, cwd,
                                                                      strlen (cwd), 1)));
  if (g_bytes_get_size (request) > SOTTO_CONTROL_MAX_REQUEST + 4)
    {
      g_set_error_literal (error, SOTTO_ERROR, SOTTO_ERROR_INVALID_ARGUMENT,
                           _("The command line is too long"));
      return FALSE;
    }
  /* Until the whole request is written, the holder can't have run it:
   * the caller may still run the command itself. */
  output = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  if (!g_output_stream_write_all (output, g_bytes_get_data (request, NULL),
                                  g_bytes_get_size (request), NULL, NULL, error))
    return FALSE;

  /* From here on it may have: running it again would do it twice (a
   * message stored and sent under two ids). */
  reply = read_message (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                        SOTTO_CONTROL_MAX_REPLY, G_VARIANT_TYPE (REPLY_TYPE), &local_error);
  if (reply == NULL)
    {
      g_set_error (error, SOTTO_ERROR, SOTTO_ERROR_NO_REPLY,
                   _("The Sotto process that has the profile open stopped before it answered "
                     "(%s). The command may have been carried out: check before running it "
                     "again, for instance with “sotto-cli history”."),
                   local_error->message);
      return FALSE;
    }

  g_variant_get (reply, "(i@ay@ay)", &status, &out, &err);
  *out_status = status;
  *out_stdout = g_variant_get_data_as_bytes (out);
  *out_stderr = g_variant_get_data_as_bytes (err);
  return TRUE;
}
