/* sotto-gtk-test-util.h — helpers for tests that build widgets directly
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include <gtk/gtk.h>

G_BEGIN_DECLS

/* How long a window may take to draw before a test gives up on it. */
#define SOTTO_GTK_TEST_FRAME_DEADLINE_S 60

void       sotto_gtk_test_init            (int          *argc,
                                           char       ***argv);
void       sotto_gtk_test_cleanup         (void);
void       sotto_gtk_test_flush           (void);
void       sotto_gtk_test_click           (GtkWidget    *button);
void       sotto_gtk_test_wait_frames     (GtkWidget    *widget,
                                           guint         n_frames);
char      *sotto_gtk_test_save_screenshot (GtkWidget    *window,
                                           const char   *name);
GdkTexture *sotto_gtk_test_render         (GtkWidget    *widget);
GtkWidget *sotto_gtk_test_find_label      (GtkWidget    *root,
                                           const char   *text);
GtkWidget *sotto_gtk_test_find_dialog     (GtkWindow    *parent);

/* A settings backend in which the test locks keys, as an administrator. */
#define TEST_TYPE_LOCK_BACKEND (test_lock_backend_get_type ())
G_DECLARE_FINAL_TYPE (TestLockBackend, test_lock_backend, TEST, LOCK_BACKEND, GSettingsBackend)

TestLockBackend *sotto_gtk_test_lock_backend_new (void);
void             sotto_gtk_test_admin_lock       (TestLockBackend *self,
                                                  const char      *key,
                                                  GVariant        *value);

G_END_DECLS
