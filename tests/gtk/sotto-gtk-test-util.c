/* sotto-gtk-test-util.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "sotto-gtk-test-util.h"
#include "sotto-test-util.h"

static char *scratch_dir;

/* Before anything reads the XDG directories: what the widgets write (the
 * autostart entry, stores) lands in a throw-away directory, also when the
 * test runs outside build-aux/sotto-dev. GTK keeps the system's data dirs
 * (icons, MIME), so no G_TEST_OPTION_ISOLATE_DIRS. */
void
sotto_gtk_test_init (int    *argc,
                     char ***argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GtkCssProvider) provider = NULL;
  g_autofree char *config = NULL;
  g_autofree char *data = NULL;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_printerr ("No display: run the GUI tests through build-aux/sotto-dev test (Xvfb)\n");
      exit (1);
    }

  scratch_dir = g_dir_make_tmp ("sotto-gtk-test-XXXXXX", &error);
  g_assert_no_error (error);
  config = g_build_filename (scratch_dir, "config", NULL);
  data = g_build_filename (scratch_dir, "data", NULL);
  g_assert_cmpint (g_mkdir_with_parents (config, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (data, 0700), ==, 0);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_setenv ("XDG_DATA_HOME", data, TRUE);

  /* These checks compare untranslated strings. */
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_unsetenv ("LANGUAGE");

  g_test_init (argc, argv, NULL);

  /* Settings stay in memory, so runs can't interfere; a test that needs
   * the dconf backend sets it up for a subprocess of its own. */
  if (!g_test_subprocess ())
    g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);

  gtk_init ();

  /* What SottoApplication loads at startup. */
  provider = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (provider, RESOURCE_PATH "/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

void
sotto_gtk_test_cleanup (void)
{
  if (scratch_dir != NULL)
    sotto_test_rm_rf (scratch_dir);
  g_clear_pointer (&scratch_dir, g_free);
}

/* Runs what is pending: GSettings delivers changes from an idle. */
void
sotto_gtk_test_flush (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* A click, at once: gtk_widget_activate() on a button only clicks after
 * showing it pressed for a moment. */
void
sotto_gtk_test_click (GtkWidget *button)
{
  g_assert_true (GTK_IS_BUTTON (button));
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
}

static gboolean
count_frame_cb (GtkWidget     *widget,
                GdkFrameClock *clock,
                gpointer       user_data)
{
  guint *frames = user_data;

  (*frames)++;
  return G_SOURCE_CONTINUE;
}

/* Until @widget has been drawn @n_frames times: laid out and painted.
 * The deadline only turns a window that never draws into a clear
 * failure; it is no speed limit (a sanitizer build lays out thousands of
 * characters tens of times slower). */
void
sotto_gtk_test_wait_frames (GtkWidget *widget,
                            guint      n_frames)
{
  gint64 deadline = g_get_monotonic_time () + SOTTO_GTK_TEST_FRAME_DEADLINE_S * G_USEC_PER_SEC;
  guint frames = 0;
  guint id;

  id = gtk_widget_add_tick_callback (widget, count_frame_cb, &frames, NULL);
  while (frames < n_frames)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  gtk_widget_remove_tick_callback (widget, id);
  sotto_gtk_test_flush ();
}

/* @widget alone, at its allocated size, as its window's renderer draws
 * it: for tests that look at pixels. */
GdkTexture *
sotto_gtk_test_render (GtkWidget *widget)
{
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GskRenderNode) node = NULL;
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GdkTexture *texture;

  g_assert_nonnull (renderer);
  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_cmpint (gdk_texture_get_width (texture), ==, width);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, height);
  return texture;
}

/* Renders @window as it is on screen into screenshots/NAME.png in the
 * build tree, for a person to look at. Returns the file's path. */
char *
sotto_gtk_test_save_screenshot (GtkWidget  *window,
                                const char *name)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (window);
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *dir = g_test_build_filename (G_TEST_BUILT, "gtk", "screenshots", NULL);
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  char *path = g_build_filename (dir, file, NULL);
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (window));
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  graphene_rect_t bounds;

  g_assert_nonnull (renderer);
  /* At its own size: scaling would blur every edge. */
  gdk_paintable_snapshot (paintable, snapshot,
                          gdk_paintable_get_intrinsic_width (paintable),
                          gdk_paintable_get_intrinsic_height (paintable));

  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  gsk_render_node_get_bounds (node, &bounds);
  texture = gsk_renderer_render_texture (renderer, node, &bounds);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s (%dx%d)", path,
                  gdk_texture_get_width (texture), gdk_texture_get_height (texture));

  return path;
}

/* The first GtkLabel below @root (itself included) showing @text. */
GtkWidget *
sotto_gtk_test_find_label (GtkWidget  *root,
                           const char *text)
{
  if (GTK_IS_LABEL (root) && g_strcmp0 (gtk_label_get_label (GTK_LABEL (root)), text) == 0)
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = sotto_gtk_test_find_label (child, text);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* A GtkMessageDialog shown for @parent, or NULL. */
GtkWidget *
sotto_gtk_test_find_dialog (GtkWindow *parent)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (GTK_IS_MESSAGE_DIALOG (window) &&
          gtk_window_get_transient_for (window) == parent &&
          gtk_widget_get_visible (GTK_WIDGET (window)))
        return GTK_WIDGET (window);
    }

  return NULL;
}

/* --------------------------------------------------------------------------
 * Locks that come and go while a window is up: a settings backend that an
 * "administrator" (the test) can lock keys in, as dconf does when its
 * system database is updated.
 * -------------------------------------------------------------------------- */

struct _TestLockBackend
{
  GSettingsBackend  parent_instance;
  GHashTable       *values;  /* path → GVariant */
  GHashTable       *locked;  /* set of paths */
};

G_DEFINE_FINAL_TYPE (TestLockBackend, test_lock_backend, G_TYPE_SETTINGS_BACKEND)

static GVariant *
test_lock_backend_read (GSettingsBackend   *backend,
                        const char         *key,
                        const GVariantType *expected_type,
                        gboolean            default_value)
{
  TestLockBackend *self = TEST_LOCK_BACKEND (backend);
  GVariant *value;

  if (default_value)
    return NULL;

  value = g_hash_table_lookup (self->values, key);
  return value != NULL ? g_variant_ref (value) : NULL;
}

static gboolean
test_lock_backend_write (GSettingsBackend *backend,
                         const char       *key,
                         GVariant         *value,
                         gpointer          origin_tag)
{
  TestLockBackend *self = TEST_LOCK_BACKEND (backend);

  if (g_hash_table_contains (self->locked, key))
    return FALSE;

  g_hash_table_insert (self->values, g_strdup (key), g_variant_ref_sink (value));
  g_settings_backend_changed (backend, key, origin_tag);
  return TRUE;
}

static gboolean
write_one_cb (gpointer key,
              gpointer value,
              gpointer user_data)
{
  test_lock_backend_write (user_data, key, value, NULL);
  return FALSE;
}

static gboolean
test_lock_backend_write_tree (GSettingsBackend *backend,
                              GTree            *tree,
                              gpointer          origin_tag)
{
  g_tree_foreach (tree, write_one_cb, backend);
  return TRUE;
}

static void
test_lock_backend_reset (GSettingsBackend *backend,
                         const char       *key,
                         gpointer          origin_tag)
{
  TestLockBackend *self = TEST_LOCK_BACKEND (backend);

  if (g_hash_table_remove (self->values, key))
    g_settings_backend_changed (backend, key, origin_tag);
}

static gboolean
test_lock_backend_get_writable (GSettingsBackend *backend,
                                const char       *key)
{
  return !g_hash_table_contains (TEST_LOCK_BACKEND (backend)->locked, key);
}

static GPermission *
test_lock_backend_get_permission (GSettingsBackend *backend,
                                  const char       *path)
{
  return g_simple_permission_new (TRUE);
}

static void
test_lock_backend_finalize (GObject *object)
{
  TestLockBackend *self = TEST_LOCK_BACKEND (object);

  g_hash_table_unref (self->values);
  g_hash_table_unref (self->locked);

  G_OBJECT_CLASS (test_lock_backend_parent_class)->finalize (object);
}

static void
test_lock_backend_class_init (TestLockBackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GSettingsBackendClass *backend_class = G_SETTINGS_BACKEND_CLASS (klass);

  object_class->finalize = test_lock_backend_finalize;
  backend_class->read = test_lock_backend_read;
  backend_class->write = test_lock_backend_write;
  backend_class->write_tree = test_lock_backend_write_tree;
  backend_class->reset = test_lock_backend_reset;
  backend_class->get_writable = test_lock_backend_get_writable;
  backend_class->get_permission = test_lock_backend_get_permission;
}

static void
test_lock_backend_init (TestLockBackend *self)
{
  self->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)g_variant_unref);
  self->locked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/* A backend of its own, for GSettings objects made with
 * g_settings_new_with_backend(). */
TestLockBackend *
sotto_gtk_test_lock_backend_new (void)
{
  return g_object_new (TEST_TYPE_LOCK_BACKEND, NULL);
}

/* The administrator sets @key of the main schema to @value (floating or
 * not) and locks it, or, with %NULL, unlocks it. */
void
sotto_gtk_test_admin_lock (TestLockBackend *self,
                           const char      *key,
                           GVariant        *value)
{
  g_autofree char *path = g_strconcat ("/im/sotto/Sotto/", key, NULL);

  if (value != NULL)
    {
      g_hash_table_insert (self->values, g_strdup (path), g_variant_ref_sink (value));
      g_hash_table_add (self->locked, g_strdup (path));
      g_settings_backend_changed (G_SETTINGS_BACKEND (self), path, NULL);
    }
  else
    g_hash_table_remove (self->locked, path);

  g_settings_backend_writable_changed (G_SETTINGS_BACKEND (self), path);
  sotto_gtk_test_flush ();
}
