/* sotto-test-util.h — shared helpers for the test programs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "sotto-store.h"

G_BEGIN_DECLS

/* Every wait gives up (and fails the test) after this long. */
#define SOTTO_TEST_WAIT_S 10

/* Iterates the main context until @cond holds; a test that waits longer
 * than SOTTO_TEST_WAIT_S fails, naming the condition. */
#define SOTTO_TEST_WAIT_FOR(cond)                                             \
  G_STMT_START                                                                \
  {                                                                           \
    gint64 wait_end_ = g_get_monotonic_time () + SOTTO_TEST_WAIT_S * G_USEC_PER_SEC; \
    while (!(cond))                                                           \
      {                                                                       \
        if (g_get_monotonic_time () > wait_end_)                              \
          g_error ("%s:%d: timed out waiting for %s", __FILE__, __LINE__, #cond); \
        g_main_context_iteration (NULL, TRUE);                                \
      }                                                                       \
  }                                                                           \
  G_STMT_END

void          sotto_test_keyring_start     (void);
void          sotto_test_keyring_stop      (void);
GAsyncResult *sotto_test_wait              (GAsyncResult **slot);
void          sotto_test_result_cb         (GObject       *object,
                                            GAsyncResult  *result,
                                            gpointer       user_data);
void          sotto_test_rm_rf             (const char    *path);
GSocketClient *sotto_test_socket_client_new (void);
char         *sotto_test_make_profile_dir  (void);
guint         sotto_test_low_free_port     (void);
gboolean      sotto_test_dir_contains      (const char    *dir,
                                            const char    *needle,
                                            char         **out_file);
char         *sotto_test_file_checksum     (const char    *path);
void          sotto_test_spin              (guint          ms);
guint         sotto_test_tick_start        (void);

/* The store, synchronously (fast Argon2id limits for created profiles). */
SottoStore   *sotto_test_create_store      (const char          *dir,
                                            const char          *name,
                                            SottoKeyProtection   protection,
                                            const char          *passphrase,
                                            GError             **error);
SottoStore   *sotto_test_open_store        (const char          *dir,
                                            const char          *passphrase,
                                            GError             **error);
void          sotto_test_close_store       (SottoStore         **store);
gboolean      sotto_test_update_contact    (SottoStore          *store,
                                            SottoContact        *contact,
                                            const char          *alias,
                                            int                  blocked,
                                            int                  verification,
                                            GError             **error);
SottoContact *sotto_test_add_identity      (SottoStore          *store,
                                            SottoIdentity       *identity,
                                            const char          *address);
SottoContact *sotto_test_add_contact       (SottoStore          *store,
                                            const char          *name,
                                            const char          *alias,
                                            const char * const  *addresses,
                                            GError             **error);
void          sotto_test_db_exec           (const char          *db_path,
                                            const char          *sql);
gboolean      sotto_test_store_exec        (SottoStore          *store,
                                            const char          *sql,
                                            GError             **error);
GPtrArray    *sotto_test_outbox            (SottoStore          *store,
                                            SottoContact        *contact);
GPtrArray    *sotto_test_full_history      (SottoStore          *store,
                                            SottoContact        *contact,
                                            guint                page_size);

G_END_DECLS
