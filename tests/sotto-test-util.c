/* sotto-test-util.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE 1  /* memmem */
#include "config.h"

#include <sqlite3.h>

#include <string.h>
#include <glib/gstdio.h>
#include <libsecret/secret.h>

#include "sotto-store-private.h"
#include "sotto-test-util.h"

/* The keyring: the test program gets its own D-Bus session (GTestDBus)
 * with a real gnome-keyring-daemon on it, its login keyring unlocked, in a
 * throw-away directory: nothing touches the developer's own keyring. */

static GTestDBus   *test_bus;
static GSubprocess *keyring_daemon;
static char        *keyring_home;

static gboolean
secrets_on_bus (void)
{
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr (GVariant) reply = NULL;
  gboolean has_owner = FALSE;

  if (bus == NULL)
    return FALSE;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", "org.freedesktop.secrets"),
                                       G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);

  return has_owner;
}

void
sotto_test_keyring_start (void)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  g_autofree char *runtime = NULL;
  GOutputStream *stdin_pipe;

  g_assert_null (test_bus);

  keyring_home = g_dir_make_tmp ("sotto-keyring-XXXXXX", &error);
  g_assert_no_error (error);
  data = g_build_filename (keyring_home, "data", NULL);
  runtime = g_build_filename (keyring_home, "runtime", NULL);
  g_assert_cmpint (g_mkdir_with_parents (data, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (runtime, 0700), ==, 0);

  test_bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (test_bus);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_subprocess_launcher_setenv (launcher, "HOME", keyring_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", runtime, TRUE);
  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS",
                                g_test_dbus_get_bus_address (test_bus), TRUE);
  /* No prompter can run here: the login keyring is created and unlocked
   * with a password given on stdin. */
  keyring_daemon = g_subprocess_launcher_spawn (launcher, &error,
                                                "gnome-keyring-daemon", "--foreground",
                                                "--unlock", "--components=secrets", NULL);
  g_assert_no_error (error);

  stdin_pipe = g_subprocess_get_stdin_pipe (keyring_daemon);
  g_output_stream_write_all (stdin_pipe, "sotto-test", 10, NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_close (stdin_pipe, NULL, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < 200 && !secrets_on_bus (); i++)
    g_usleep (50 * 1000);
  g_assert_true (secrets_on_bus ());
}

void
sotto_test_keyring_stop (void)
{
  if (keyring_daemon != NULL)
    {
      g_subprocess_send_signal (keyring_daemon, SIGTERM);
      g_subprocess_wait (keyring_daemon, NULL, NULL);
      g_clear_object (&keyring_daemon);
    }

  secret_service_disconnect ();

  /* Not g_test_dbus_down(): libsecret's cached objects keep the shared
   * connection alive until exit, which down() (and finalizing test_bus)
   * would wait on in vain. The daemon stops; the object stays referenced
   * until the process ends. */
  if (test_bus != NULL)
    g_test_dbus_stop (test_bus);

  if (keyring_home != NULL)
    {
      sotto_test_rm_rf (keyring_home);
      g_clear_pointer (&keyring_home, g_free);
    }
}

void
sotto_test_result_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
  g_main_context_wakeup (NULL);
}

/* Iterates the main context until sotto_test_result_cb() filled @slot. */
GAsyncResult *
sotto_test_wait (GAsyncResult **slot)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (*slot == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }

  return *slot;
}

void
sotto_test_rm_rf (const char *path)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return;

  if (S_ISDIR (st.st_mode))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          sotto_test_rm_rf (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

/**
 * sotto_test_low_free_port:
 *
 * A port nobody listens on, below the kernel's range of ephemeral ports
 * (as tests/cli/peers.py picks them): a port from that range may meanwhile
 * become the local end of an outgoing connection, of this test or
 * another, and listening on it would then fail.
 */
guint
sotto_test_low_free_port (void)
{
  g_autofree char *range = NULL;
  guint low = 32768;

  if (g_file_get_contents ("/proc/sys/net/ipv4/ip_local_port_range", &range, NULL, NULL))
    low = (guint)g_ascii_strtoull (range, NULL, 10);
  g_assert_cmpuint (low, >, 10001);

  for (guint i = 0; i < 1000; i++)
    {
      g_autoptr (GSocketListener) listener = g_socket_listener_new ();
      guint port = (guint)g_random_int_range (10000, (gint32)low);

      if (g_socket_listener_add_inet_port (listener, (guint16)port, NULL, NULL))
        {
          g_socket_listener_close (listener);
          return port;
        }
    }
  g_error ("no free port below the ephemeral range");
}

/* A private directory under this test's user data dir. */
char *
sotto_test_make_profile_dir (void)
{
  static guint counter;
  char *dir = g_strdup_printf ("%s/profile-%u", g_get_user_data_dir (), ++counter);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return dir;
}

/* Whether any file below @dir holds @needle, byte for byte. */
gboolean
sotto_test_dir_contains (const char  *dir,
                         const char  *needle,
                         char       **out_file)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  gsize needle_len = strlen (needle);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (sotto_test_dir_contains (path, needle, out_file))
            return TRUE;
          continue;
        }

      if (!g_file_get_contents (path, &contents, &len, NULL))
        continue;
      if (len >= needle_len && memmem (contents, len, needle, needle_len) != NULL)
        {
          if (out_file != NULL)
            *out_file = g_steal_pointer (&path);
          return TRUE;
        }
    }

  return FALSE;
}

char *
sotto_test_file_checksum (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return g_strdup ("(missing)");

  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)contents, len);
}

SottoStore *
sotto_test_create_store (const char          *dir,
                         const char          *name,
                         SottoKeyProtection   protection,
                         const char          *passphrase,
                         GError             **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_store_create_async (dir, name, protection, passphrase,
                            SOTTO_PWHASH_OPSLIMIT_MIN, SOTTO_PWHASH_MEMLIMIT_MIN,
                            NULL, sotto_test_result_cb, &result);
  return sotto_store_create_finish (sotto_test_wait (&result), error);
}

SottoStore *
sotto_test_open_store (const char  *dir,
                       const char  *passphrase,
                       GError     **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_store_open_async (dir, passphrase, NULL, sotto_test_result_cb, &result);
  return sotto_store_open_finish (sotto_test_wait (&result), error);
}

/* The store holds the profile lock: it must really be gone before anyone
 * opens the profile again. */
void
sotto_test_close_store (SottoStore **store)
{
  /* A security log batch on its way holds the store until it is written. */
  {
    g_autoptr (GAsyncResult) result = NULL;

    sotto_store_write_log_async (*store, NULL, sotto_test_result_cb, &result);
    g_assert_true (sotto_store_write_log_finish (*store, sotto_test_wait (&result), NULL));
  }
  g_assert_finalize_object (g_steal_pointer (store));
}

/* A contact with a freshly made key, added from its invite. */
SottoContact *
sotto_test_add_contact (SottoStore          *store,
                        const char          *name,
                        const char          *alias,
                        const char * const  *addresses,
                        GError             **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (SottoIdentity) peer = sotto_identity_generate (name, NULL);
  g_autoptr (SottoInvite) invite = NULL;

  g_assert_nonnull (peer);
  invite = sotto_invite_new (sotto_identity_get_public_key (peer), name, addresses, NULL);
  g_assert_nonnull (invite);

  sotto_store_add_contact_async (store, invite, alias, NULL, sotto_test_result_cb, &result);
  return sotto_store_add_contact_finish (store, sotto_test_wait (&result), error);
}

/* @identity (another profile's, or a made-up one) as a contact of @store,
 * reachable at @address (nullable); fails the test if that is refused. */
SottoContact *
sotto_test_add_identity (SottoStore    *store,
                         SottoIdentity *identity,
                         const char    *address)
{
  const char *addresses[] = { address, NULL };
  g_autoptr (SottoInvite) invite = sotto_invite_new (sotto_identity_get_public_key (identity),
                                                     sotto_identity_get_display_name (identity),
                                                     addresses, NULL);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SottoContact *contact;

  sotto_store_add_contact_async (store, invite, NULL, NULL, sotto_test_result_cb, &result);
  contact = sotto_store_add_contact_finish (store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);
  return contact;
}

/* Runs @sql on the database file behind any store's back, as an attacker
 * with the file (or time) would; fails the test if SQLite refuses it. */
void
sotto_test_db_exec (const char *db_path,
                    const char *sql)
{
  sqlite3 *db = NULL;
  char *errmsg = NULL;

  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &errmsg) != SQLITE_OK)
    g_error ("%s: %s", sql, errmsg);
  sqlite3_close (db);
}

/* Runs @sql in one transaction on the store's own connection, where
 * sotto_row_mac() is known: rows changed as Sotto itself would, for states
 * only time (or a full disk) reaches. */
gboolean
sotto_test_store_exec (SottoStore  *store,
                       const char  *sql,
                       GError     **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  _sotto_store_exec_async (store, sql, sotto_test_result_cb, &result);
  return _sotto_store_exec_finish (store, sotto_test_wait (&result), error);
}

GPtrArray *
sotto_test_outbox (SottoStore   *store,
                   SottoContact *contact)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *queue;

  sotto_store_list_outbox_async (store, contact, NULL, sotto_test_result_cb, &result);
  queue = sotto_store_list_outbox_finish (store, sotto_test_wait (&result), &error);
  g_assert_no_error (error);

  return queue;
}

/* The whole conversation in reading order, read page by page from the
 * newest end as a chat window would. */
GPtrArray *
sotto_test_full_history (SottoStore   *store,
                         SottoContact *contact,
                         guint         page_size)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 before = 0;

  for (;;)
    {
      g_autoptr (GAsyncResult) result = NULL;
      g_autoptr (GPtrArray) page = NULL;
      g_autoptr (GError) error = NULL;

      sotto_store_history_async (store, contact, before, page_size, NULL,
                                 sotto_test_result_cb, &result);
      page = sotto_store_history_finish (store, sotto_test_wait (&result), &error);
      g_assert_no_error (error);
      g_assert_cmpuint (page->len, <=, page_size);

      for (guint i = page->len; i > 0; i--)
        g_ptr_array_insert (all, 0, g_object_ref (g_ptr_array_index (page, i - 1)));
      if (page->len < page_size)
        break;
      before = sotto_message_get_id (g_ptr_array_index (page, 0));
    }

  return g_steal_pointer (&all);
}

/* Lets everything run for @ms: what must not happen has its chance. */
void
sotto_test_spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
on_tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* A 10 ms timer that keeps blocking iterations (SOTTO_TEST_WAIT_FOR,
 * sotto_test_spin) waking up; remove it with g_source_remove(). */
guint
sotto_test_tick_start (void)
{
  return g_timeout_add (10, on_tick_cb, NULL);
}

/* sotto_store_update_contact_async(), waited for. */
gboolean
sotto_test_update_contact (SottoStore    *store,
                           SottoContact  *contact,
                           const char    *alias,
                           int            blocked,
                           int            verification,
                           GError       **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  sotto_store_update_contact_async (store, contact, alias, blocked, verification, NULL,
                                    sotto_test_result_cb, &result);
  return sotto_store_update_contact_finish (store, sotto_test_wait (&result), error);
}

/* A client for a test's own sockets: always direct. With glib-networking
 * installed, GIO would otherwise ask the desktop's proxy settings, which
 * the tests hide. */
GSocketClient *
sotto_test_socket_client_new (void)
{
  GSocketClient *client = g_socket_client_new ();

  g_socket_client_set_enable_proxy (client, FALSE);
  return client;
}
