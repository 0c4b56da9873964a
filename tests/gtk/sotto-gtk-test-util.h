/* sotto-gtk-test-util.h — helpers for tests that build widgets directly
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

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

G_END_DECLS
