/* test-busy-bar.c — the bar that stands in for a spinner: hidden until
 * something is under way, moving while it is, and no SVG loaded for it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <gtk/gtk.h>

#include "sotto-busy-bar.h"
#include "sotto-gtk-test-util.h"
#include "sotto-test-util.h"

static void
on_notify_cb (GObject    *object,
              GParamSpec *pspec,
              guint      *count)
{
  (*count)++;
}

static gboolean
same_pixels (GdkTexture *a,
             GdkTexture *b)
{
  int width = gdk_texture_get_width (a);
  int height = gdk_texture_get_height (a);
  gsize stride = (gsize)width * 4;
  g_autofree guint8 *pa = g_malloc (stride * height);
  g_autofree guint8 *pb = g_malloc (stride * height);

  if (gdk_texture_get_width (b) != width || gdk_texture_get_height (b) != height)
    return FALSE;
  gdk_texture_download (a, pa, stride);
  gdk_texture_download (b, pb, stride);
  return memcmp (pa, pb, stride * height) == 0;
}

static void
test_busy_bar_moves_while_active (void)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *bar = sotto_busy_bar_new ();
  GtkWidget *inner = gtk_widget_get_first_child (bar);
  guint notified = 0;
  g_autoptr (GdkTexture) before = NULL;
  g_autoptr (GdkTexture) after = NULL;

  gtk_widget_set_size_request (bar, 160, -1);
  gtk_window_set_child (GTK_WINDOW (window), bar);
  g_signal_connect (bar, "notify::active", G_CALLBACK (on_notify_cb), &notified);
  gtk_window_present (GTK_WINDOW (window));
  sotto_gtk_test_wait_frames (window, 2);

  /* Inactive: it keeps its place and shows nothing. */
  g_assert_true (GTK_IS_PROGRESS_BAR (inner));
  g_assert_false (sotto_busy_bar_get_active (SOTTO_BUSY_BAR (bar)));
  g_assert_cmpfloat (gtk_widget_get_opacity (inner), ==, 0);
  g_assert_cmpint (gtk_widget_get_width (bar), >=, 160);

  /* Active: shown, and moving from one frame to a later one. */
  sotto_busy_bar_set_active (SOTTO_BUSY_BAR (bar), TRUE);
  sotto_busy_bar_set_active (SOTTO_BUSY_BAR (bar), TRUE);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpfloat (gtk_widget_get_opacity (inner), ==, 1);
  sotto_gtk_test_wait_frames (window, 2);
  before = sotto_gtk_test_render (bar);
  g_assert_nonnull (before);
  sotto_test_spin (350);
  sotto_gtk_test_wait_frames (window, 2);
  after = sotto_gtk_test_render (bar);
  g_assert_nonnull (after);
  g_assert_false (same_pixels (before, after));

  /* Done: hidden again, and still. */
  sotto_busy_bar_set_active (SOTTO_BUSY_BAR (bar), FALSE);
  g_assert_cmpuint (notified, ==, 2);
  g_assert_cmpfloat (gtk_widget_get_opacity (inner), ==, 0);

  gtk_window_destroy (GTK_WINDOW (window));
  sotto_gtk_test_flush ();
}

int
main (int   argc,
      char *argv[])
{
  sotto_gtk_test_init (&argc, &argv);

  g_test_add_func ("/busy-bar/moves-while-active", test_busy_bar_moves_while_active);

  return g_test_run ();
}
