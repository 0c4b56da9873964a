/* sotto-test-util.h — shared helpers for the test programs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void          sotto_test_keyring_start     (void);
void          sotto_test_keyring_stop      (void);
GAsyncResult *sotto_test_wait              (GAsyncResult **slot);
void          sotto_test_result_cb         (GObject       *object,
                                            GAsyncResult  *result,
                                            gpointer       user_data);
void          sotto_test_rm_rf             (const char    *path);
char         *sotto_test_make_profile_dir  (void);
gboolean      sotto_test_dir_contains      (const char    *dir,
                                            const char    *needle,
                                            char         **out_file);
char         *sotto_test_file_checksum     (const char    *path);

G_END_DECLS
