/* test-contact-row.c — the buddy list's rows over a real store and roster:
 * what each state draws, right-to-left, narrow windows, dark style, the
 * per-contact menu, and a row following its contact as it changes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The row draws itself, so the checks look at its pixels: a texture of the
 * row alone, rendered by the window's own renderer.
 */
#include "config.h"

#include <string.h>
#include <gtk/gtk.h>
#include <sodium.h>

#include "sotto-contact-row.h"
#include "sotto-core.h"
#include "sotto-gtk-test-util.h"
#include "sotto-test-util.h"

#define PASSPHRASE "correct horse battery staple"
#define ROW_WIDTH  360

/* Where the row puts the presence dot's centre (see sotto-contact-row.c:
 * margin 6, avatar 36, dot 12 in the avatar's bottom corner). */
#define DOT_CENTER_FROM_EDGE 36
#define DOT_CENTER_FROM_AVATAR_TOP 30

typedef struct
{
  char         *dir;
  SottoStore   *store;
  SottoRoster  *roster;
  GtkWidget    *window;
  GtkWidget    *box;
} Fixture;

typedef struct
{
  guint8 r, g, b, a;
} Pixel;

typedef struct
{
  int     width;
  int     height;
  guint8 *data;      /* premultiplied ARGB32, as cairo lays it out */
  gsize   stride;
} Picture;

static void
picture_free (Picture *picture)
{
  g_free (picture->data);
  g_free (picture);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Picture, picture_free)

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  fixture->dir = sotto_test_make_profile_dir ();
  fixture->store = sotto_test_create_store (fixture->dir, "Ann Example",
                                            SOTTO_KEY_PROTECTION_PASSPHRASE, PASSPHRASE, &error);
  g_assert_no_error (error);
  /* No peer service: everyone is offline, which is what these checks
   * expect; presence itself is the roster's business (test-roster). */
  fixture->roster = sotto_roster_new (fixture->store, NULL);

  fixture->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), ROW_WIDTH, -1);
  fixture->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_window_set_child (GTK_WINDOW (fixture->window), fixture->box);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_pointer ((GtkWindow **)&fixture->window, gtk_window_destroy);
  g_clear_object (&fixture->roster);
  if (fixture->store != NULL)
    sotto_test_close_store (&fixture->store);
  sotto_test_rm_rf (fixture->dir);
  g_clear_pointer (&fixture->dir, g_free);
  sotto_gtk_test_flush ();
}

static SottoContact *
add_contact (Fixture    *fixture,
             const char *name,
             int         blocked,
             int         verification)
{
  g_autoptr (GError) error = NULL;
  SottoContact *contact = sotto_test_add_contact (fixture->store, name, NULL, NULL, &error);

  g_assert_no_error (error);
  if (blocked >= 0 || verification >= 0)
    {
      sotto_test_update_contact (fixture->store, contact, NULL, blocked, verification, &error);
      g_assert_no_error (error);
    }
  return contact;
}

static void
receive (Fixture      *fixture,
         SottoContact *contact,
         const char   *body)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SottoMessage) message = NULL;
  guint8 uid[SOTTO_MESSAGE_UID_LEN];

  randombytes_buf (uid, sizeof uid);
  sotto_store_save_incoming_async (fixture->store, contact, uid, g_get_real_time (), body, NULL,
                                   sotto_test_result_cb, &result);
  message = sotto_store_save_incoming_finish (fixture->store, sotto_test_wait (&result), NULL,
                                              &error);
  g_assert_no_error (error);
}

static SottoRosterItem *
item_for (Fixture      *fixture,
          SottoContact *contact)
{
  SottoRosterItem *item = NULL;

  SOTTO_TEST_WAIT_FOR ((item = sotto_roster_find (fixture->roster,
                                                  sotto_contact_get_id (contact))) != NULL);
  return item;
}

static SottoContactRow *
add_row (Fixture      *fixture,
         SottoContact *contact)
{
  GtkWidget *row = sotto_contact_row_new ();

  sotto_contact_row_set_item (SOTTO_CONTACT_ROW (row), G_OBJECT (item_for (fixture, contact)));
  gtk_box_append (GTK_BOX (fixture->box), row);
  return SOTTO_CONTACT_ROW (row);
}

static void
show (Fixture *fixture)
{
  gtk_window_present (GTK_WINDOW (fixture->window));
  sotto_gtk_test_wait_frames (fixture->window, 3);
}

/* The row alone, as the window's renderer draws it. */
static Picture *
render (SottoContactRow *row)
{
  g_autoptr (GdkTexture) texture = sotto_gtk_test_render (GTK_WIDGET (row));
  Picture *picture = g_new0 (Picture, 1);

  picture->width = gdk_texture_get_width (texture);
  picture->height = gdk_texture_get_height (texture);
  picture->stride = (gsize)picture->width * 4;
  picture->data = g_malloc ((gsize)picture->height * picture->stride);
  gdk_texture_download (texture, picture->data, picture->stride);
  return picture;
}

static Pixel
pixel_at (const Picture *picture,
          int            x,
          int            y)
{
  const guint8 *p;

  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (x, <, picture->width);
  g_assert_cmpint (y, <, picture->height);
  p = picture->data + (gsize)y * picture->stride + (gsize)x * 4;
  /* Little-endian ARGB32: B, G, R, A in memory. */
  return (Pixel) { p[2], p[1], p[0], p[3] };
}

static gboolean
close_to (Pixel       pixel,
          const char *expected)
{
  GdkRGBA rgba;

  g_assert_true (gdk_rgba_parse (&rgba, expected));
  return pixel.a == 255
         && ABS (pixel.r - (int)(rgba.red * 255)) <= 10
         && ABS (pixel.g - (int)(rgba.green * 255)) <= 10
         && ABS (pixel.b - (int)(rgba.blue * 255)) <= 10;
}

typedef gboolean (*PixelTest) (Pixel pixel);

static gboolean
is_green (Pixel p)
{
  return p.a > 200 && p.g > p.r + 50 && p.g > p.b + 20;
}

static gboolean
is_red (Pixel p)
{
  return p.a > 200 && p.r > p.g + 80 && p.r > p.b + 60;
}

static gboolean
is_accent (Pixel p)
{
  return p.a > 240 && p.b > p.r + 100;
}

/* Text in the light style: dark grey to black. */
static gboolean
is_ink (Pixel p)
{
  return p.a > 200 && p.r < 110 && p.g < 110 && p.b < 110;
}

static guint
count_pixels_between (const Picture *picture,
                      PixelTest      test,
                      int            x_from,
                      int            x_to)
{
  guint n = 0;

  for (int y = 0; y < picture->height; y++)
    for (int x = MAX (x_from, 0); x < MIN (x_to, picture->width); x++)
      if (test (pixel_at (picture, x, y)))
        n++;
  return n;
}

static guint
count_pixels (const Picture *picture,
              PixelTest      test)
{
  return count_pixels_between (picture, test, 0, picture->width);
}

/* The x of the leftmost or rightmost pixel that passes @test, or -1. */
static int
extent_of (const Picture *picture,
           PixelTest      test,
           gboolean       rightmost)
{
  int found = -1;

  for (int y = 0; y < picture->height; y++)
    for (int x = 0; x < picture->width; x++)
      if (test (pixel_at (picture, x, y)))
        if (found < 0 || (rightmost ? x > found : x < found))
          found = x;
  return found;
}

static Pixel
dot_pixel (const Picture *picture,
           gboolean       rtl,
           int            dx)
{
  int avatar_top = (picture->height - 36) / 2;
  int x = rtl ? picture->width - DOT_CENTER_FROM_EDGE - dx : DOT_CENTER_FROM_EDGE + dx;

  return pixel_at (picture, x, avatar_top + DOT_CENTER_FROM_AVATAR_TOP);
}

static GtkWidget *
menu_button (SottoContactRow *row)
{
  GtkWidget *button = gtk_widget_get_first_child (GTK_WIDGET (row));

  g_assert_true (GTK_IS_BUTTON (button));
  return button;
}

static GtkPopoverMenu *
open_menu (SottoContactRow *row)
{
  GtkWidget *popover;

  sotto_gtk_test_click (menu_button (row));
  popover = gtk_widget_get_last_child (GTK_WIDGET (row));
  g_assert_true (GTK_IS_POPOVER_MENU (popover));
  SOTTO_TEST_WAIT_FOR (gtk_widget_get_mapped (popover));
  return GTK_POPOVER_MENU (popover);
}

/* Every "action(target)" of a menu, sections flattened, in order. */
static char *
menu_actions (GMenuModel *model)
{
  GString *out = g_string_new (NULL);

  for (int i = 0; i < g_menu_model_get_n_items (model); i++)
    {
      g_autoptr (GMenuModel) section = g_menu_model_get_item_link (model, i, G_MENU_LINK_SECTION);
      g_autofree char *action = NULL;
      g_autoptr (GVariant) target = NULL;

      if (section != NULL)
        {
          g_autofree char *inner = menu_actions (section);

          g_string_append (out, inner);
          continue;
        }
      g_assert_true (g_menu_model_get_item_attribute (model, i, G_MENU_ATTRIBUTE_ACTION,
                                                      "s", &action));
      target = g_menu_model_get_item_attribute_value (model, i, G_MENU_ATTRIBUTE_TARGET,
                                                      G_VARIANT_TYPE_INT64);
      g_assert_nonnull (target);
      g_string_append_printf (out, "%s(%" G_GINT64_FORMAT ") ", action,
                              g_variant_get_int64 (target));
    }
  return g_string_free (out, FALSE);
}

static void
test_row_states (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr (SottoContact) plain = add_contact (fixture, "Alan Turing", -1, -1);
  g_autoptr (SottoContact) verified = add_contact (fixture, "Ada Lovelace", -1,
                                                   SOTTO_VERIFICATION_VERIFIED);
  g_autoptr (SottoContact) changed = add_contact (fixture, "Grace Hopper", -1,
                                                  SOTTO_VERIFICATION_KEY_CHANGED);
  g_autoptr (SottoContact) unread = add_contact (fixture, "Edsger Dijkstra", -1, -1);
  SottoContactRow *rows[4];
  g_autofree char *screenshot = NULL;

  receive (fixture, unread, "one");
  receive (fixture, unread, "two");
  SOTTO_TEST_WAIT_FOR (sotto_roster_item_get_unread (item_for (fixture, unread)) == 2);

  rows[0] = add_row (fixture, plain);
  rows[1] = add_row (fixture, verified);
  rows[2] = add_row (fixture, changed);
  rows[3] = add_row (fixture, unread);
  show (fixture);
  screenshot = sotto_gtk_test_save_screenshot (fixture->window, "contact-rows");

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr (Picture) picture = render (rows[i]);
      guint green = count_pixels (picture, is_green);
      guint red = count_pixels (picture, is_red);
      guint accent = count_pixels (picture, is_accent);

      g_test_message ("row %u: %dx%d, green %u, red %u, accent %u", i,
                      picture->width, picture->height, green, red, accent);
      g_assert_cmpint (picture->height, >=, 36 + 12);

      /* Offline: a grey dot, ringed in the background colour. */
      g_assert_true (close_to (dot_pixel (picture, FALSE, 0), "#9a9996"));
      g_assert_true (close_to (dot_pixel (picture, FALSE, -5), "#ffffff"));

      /* The verified mark is green, the changed key's is red, and only the
       * row with unread messages has a badge. */
      g_assert_true ((green > 4) == (i == 1));
      g_assert_true ((red > 4) == (i == 2));
      g_assert_true ((accent > 30) == (i == 3));
    }

  /* The badge sits at the end, before the menu button. */
  {
    g_autoptr (Picture) picture = render (rows[3]);
    graphene_rect_t button;

    g_assert_true (gtk_widget_compute_bounds (menu_button (rows[3]), GTK_WIDGET (rows[3]),
                                              &button));
    g_assert_cmpint (extent_of (picture, is_accent, TRUE), <, button.origin.x);
    g_assert_cmpint (extent_of (picture, is_accent, FALSE), >, picture->width / 2);
  }
}

static void
test_row_right_to_left (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr (SottoContact) contact = add_contact (fixture, "Edsger Dijkstra", -1, -1);
  SottoContactRow *row;
  graphene_rect_t button;
  g_autofree char *screenshot = NULL;

  receive (fixture, contact, "one");
  SOTTO_TEST_WAIT_FOR (sotto_roster_item_get_unread (item_for (fixture, contact)) == 1);
  row = add_row (fixture, contact);
  gtk_widget_set_direction (GTK_WIDGET (row), GTK_TEXT_DIR_RTL);
  show (fixture);
  screenshot = sotto_gtk_test_save_screenshot (fixture->window, "contact-row-rtl");

  {
    g_autoptr (Picture) picture = render (row);

    /* Everything mirrored: the avatar's dot on the right, the menu
     * button on the left, the badge just right of it. */
    g_assert_true (close_to (dot_pixel (picture, TRUE, 0), "#9a9996"));
    g_assert_true (gtk_widget_compute_bounds (menu_button (row), GTK_WIDGET (row), &button));
    g_assert_cmpfloat (button.origin.x + button.size.width, <, picture->width / 4.0);
    g_assert_cmpint (extent_of (picture, is_accent, FALSE), >,
                     button.origin.x + button.size.width);
    g_assert_cmpint (extent_of (picture, is_accent, TRUE), <, picture->width / 2);

    /* The name and the time start next to the avatar, as labels would,
     * though both run left to right. */
    g_assert_cmpint (count_pixels_between (picture, is_ink, extent_of (picture, is_accent, TRUE) + 4,
                                           picture->width / 2), ==, 0);
    g_assert_cmpint (count_pixels_between (picture, is_ink, picture->width / 2,
                                           picture->width - 52), >, 50);
  }
}

static void
test_row_narrow (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr (GString) long_name = g_string_new (NULL);
  g_autoptr (SottoContact) contact = NULL;
  SottoContactRow *row;
  int minimum, natural;
  graphene_rect_t button;

  for (int i = 0; i < 4; i++)
    g_string_append (long_name, "Bartholomew ");
  g_string_append (long_name, "Smith");
  contact = add_contact (fixture, long_name->str, -1, SOTTO_VERIFICATION_VERIFIED);
  row = add_row (fixture, contact);

  /* A long name asks for room but makes do with little: it is cut short,
   * and the menu button stays inside the row. */
  gtk_widget_measure (GTK_WIDGET (row), GTK_ORIENTATION_HORIZONTAL, -1,
                      &minimum, &natural, NULL, NULL);
  g_assert_cmpint (minimum, <, 200);
  g_assert_cmpint (natural, >, minimum + 300);

  gtk_window_set_default_size (GTK_WINDOW (fixture->window), minimum, -1);
  gtk_window_set_resizable (GTK_WINDOW (fixture->window), FALSE);
  gtk_widget_set_size_request (fixture->box, minimum, -1);
  gtk_widget_set_hexpand (fixture->box, FALSE);
  gtk_widget_set_halign (fixture->box, GTK_ALIGN_START);
  show (fixture);

  g_assert_true (gtk_widget_compute_bounds (menu_button (row), GTK_WIDGET (row), &button));
  g_assert_cmpfloat (button.origin.x + button.size.width, <=, gtk_widget_get_width (GTK_WIDGET (row)));
  {
    g_autoptr (Picture) picture = render (row);

    /* The verified mark follows the cut name, still left of the button. */
    g_assert_cmpint (count_pixels (picture, is_green), >, 4);
    g_assert_cmpint (extent_of (picture, is_green, TRUE), <, button.origin.x);
  }
}

static void
test_row_dark (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr (SottoContact) contact = add_contact (fixture, "Alan Turing", -1, -1);
  GtkSettings *settings = gtk_settings_get_default ();
  SottoContactRow *row = add_row (fixture, contact);
  g_autofree char *screenshot = NULL;

  g_object_set (settings, "gtk-application-prefer-dark-theme", TRUE, NULL);
  show (fixture);
  screenshot = sotto_gtk_test_save_screenshot (fixture->window, "contact-rows-dark");
  {
    g_autoptr (Picture) picture = render (row);
    Pixel ring = dot_pixel (picture, FALSE, -5);

    /* The dot's ring takes the dark background's colour. */
    g_assert_cmpint (ring.a, ==, 255);
    g_assert_cmpint (ring.r + ring.g + ring.b, <, 3 * 90);
  }
  g_object_set (settings, "gtk-application-prefer-dark-theme", FALSE, NULL);
  sotto_gtk_test_wait_frames (fixture->window, 2);
  {
    g_autoptr (Picture) picture = render (row);

    g_assert_true (close_to (dot_pixel (picture, FALSE, -5), "#ffffff"));
  }
}

static void
test_row_menu (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr (SottoContact) friend = add_contact (fixture, "Alan Turing", -1, -1);
  g_autoptr (SottoContact) blocked = add_contact (fixture, "Mallory", TRUE, -1);
  SottoContactRow *friend_row = add_row (fixture, friend);
  SottoContactRow *blocked_row = add_row (fixture, blocked);
  gint64 friend_id = sotto_contact_get_id (friend);
  gint64 blocked_id = sotto_contact_get_id (blocked);
  g_autofree char *expected_friend = NULL;
  g_autofree char *expected_blocked = NULL;
  g_autofree char *actions = NULL;
  GtkPopoverMenu *menu;

  show (fixture);

  /* Every entry targets this contact's id; the row itself decides nothing. */
  menu = open_menu (friend_row);
  expected_friend = g_strdup_printf ("win.open-chat(%1$" G_GINT64_FORMAT ") "
                                     "win.verify-contact(%1$" G_GINT64_FORMAT ") "
                                     "win.rename-contact(%1$" G_GINT64_FORMAT ") "
                                     "win.block-contact(%1$" G_GINT64_FORMAT ") "
                                     "win.remove-contact(%1$" G_GINT64_FORMAT ") ",
                                     friend_id);
  actions = menu_actions (gtk_popover_menu_get_menu_model (menu));
  g_assert_cmpstr (actions, ==, expected_friend);
  gtk_popover_popdown (GTK_POPOVER (menu));
  g_clear_pointer (&actions, g_free);

  menu = open_menu (blocked_row);
  expected_blocked = g_strdup_printf ("win.open-chat(%1$" G_GINT64_FORMAT ") "
                                      "win.verify-contact(%1$" G_GINT64_FORMAT ") "
                                      "win.rename-contact(%1$" G_GINT64_FORMAT ") "
                                      "win.unblock-contact(%1$" G_GINT64_FORMAT ") "
                                      "win.remove-contact(%1$" G_GINT64_FORMAT ") ",
                                      blocked_id);
  actions = menu_actions (gtk_popover_menu_get_menu_model (menu));
  g_assert_cmpstr (actions, ==, expected_blocked);
  gtk_popover_popdown (GTK_POPOVER (menu));
  g_clear_pointer (&actions, g_free);

  /* The keyboard's way (Shift+F10 or Menu, from the window): the same
   * menu, under the button, whatever row had it last. */
  sotto_contact_row_popup_menu (friend_row);
  menu = GTK_POPOVER_MENU (gtk_widget_get_last_child (GTK_WIDGET (friend_row)));
  SOTTO_TEST_WAIT_FOR (gtk_widget_get_mapped (GTK_WIDGET (menu)));
  actions = menu_actions (gtk_popover_menu_get_menu_model (menu));
  g_assert_cmpstr (actions, ==, expected_friend);
  sotto_gtk_test_wait_frames (fixture->window, 2);
  gtk_popover_popdown (GTK_POPOVER (menu));
  SOTTO_TEST_WAIT_FOR (!gtk_widget_get_mapped (GTK_WIDGET (menu)));
  g_clear_pointer (&actions, g_free);

  /* Unblocked meanwhile: the next menu says so. */
  {
    g_autoptr (GError) error = NULL;

    sotto_test_update_contact (fixture->store, blocked, NULL, FALSE, -1, &error);
    g_assert_no_error (error);
  }
  SOTTO_TEST_WAIT_FOR (!sotto_roster_item_get_blocked (item_for (fixture, blocked)));
  menu = open_menu (blocked_row);
  actions = menu_actions (gtk_popover_menu_get_menu_model (menu));
  g_assert_nonnull (strstr (actions, "win.block-contact"));
  g_assert_null (strstr (actions, "win.unblock-contact"));
  gtk_popover_popdown (GTK_POPOVER (menu));
}

/* What the row's query-tooltip handler says at (@x, @y), in row
 * coordinates, as GTK asks it when the pointer rests there (or, with
 * @keyboard, for the focus). */
static gboolean
query_tooltip (SottoContactRow *row,
               double           x,
               double           y,
               gboolean         keyboard)
{
  g_autoptr (GtkTooltip) tooltip = g_object_new (GTK_TYPE_TOOLTIP, NULL);
  gboolean shown = FALSE;

  g_signal_emit_by_name (row, "query-tooltip", (int) x, (int) y, keyboard, tooltip, &shown);
  return shown;
}

/* The menu button's tooltip comes from the row's handler: a tooltip set
 * on the button itself would make GTK query the pointer's position from
 * the X server for every row a list makes. */
static void
test_row_tooltips (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr (SottoContact) contact = add_contact (fixture, "Alan Turing", -1, -1);
  g_autoptr (SottoContact) other = add_contact (fixture, "Grace Hopper", -1, -1);
  SottoContactRow *row = add_row (fixture, contact);
  SottoContactRow *other_row = add_row (fixture, other);
  GtkWidget *button = menu_button (row);
  graphene_rect_t bounds;

  show (fixture);
  g_assert_false (gtk_widget_get_has_tooltip (button));
  g_assert_null (gtk_widget_get_tooltip_text (button));

  g_assert_true (gtk_widget_compute_bounds (button, GTK_WIDGET (row), &bounds));
  g_assert_true (query_tooltip (row, bounds.origin.x + bounds.size.width / 2,
                                bounds.origin.y + bounds.size.height / 2, FALSE));
  /* Left of the button, on the name's line: nothing to explain. */
  g_assert_false (query_tooltip (row, bounds.origin.x - 20, bounds.origin.y + 2, FALSE));

  /* From the keyboard: only while its button has the focus. */
  g_assert_true (gtk_widget_grab_focus (menu_button (other_row)));
  g_assert_false (query_tooltip (row, 0, 0, TRUE));
  g_assert_true (gtk_widget_grab_focus (button));
  g_assert_true (query_tooltip (row, 0, 0, TRUE));
}

static void
test_row_follows_contact (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr (SottoContact) contact = add_contact (fixture, "Al", -1, -1);
  SottoContactRow *row = add_row (fixture, contact);
  SottoRosterItem *item = item_for (fixture, contact);
  g_autoptr (GError) error = NULL;
  int before, after;

  show (fixture);
  gtk_widget_measure (GTK_WIDGET (row), GTK_ORIENTATION_HORIZONTAL, -1, NULL, &before,
                      NULL, NULL);
  {
    g_autoptr (Picture) picture = render (row);

    g_assert_cmpint (count_pixels (picture, is_red), ==, 0);
  }

  /* Renamed and its key changed: the row asks for more room and shows
   * the warning, without being bound again. */
  sotto_test_update_contact (fixture->store, contact, "Alexander of Macedon", -1,
                             SOTTO_VERIFICATION_KEY_CHANGED, &error);
  g_assert_no_error (error);
  SOTTO_TEST_WAIT_FOR (sotto_roster_item_get_verification (item) == SOTTO_VERIFICATION_KEY_CHANGED);
  sotto_gtk_test_wait_frames (fixture->window, 2);

  gtk_widget_measure (GTK_WIDGET (row), GTK_ORIENTATION_HORIZONTAL, -1, NULL, &after,
                      NULL, NULL);
  g_assert_cmpint (after, >, before);
  {
    g_autoptr (Picture) picture = render (row);

    g_assert_cmpint (count_pixels (picture, is_red), >, 4);
  }

  /* Unbound, it lets go of the item. */
  sotto_contact_row_set_item (row, NULL);
  g_assert_null (sotto_contact_row_get_item (row));
}

static void
on_setup_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *list_item)
{
  gtk_list_item_set_child (list_item, sotto_contact_row_new ());
}

static void
on_bind_cb (GtkSignalListItemFactory *factory,
            GtkListItem              *list_item)
{
  sotto_contact_row_set_item (SOTTO_CONTACT_ROW (gtk_list_item_get_child (list_item)),
                              gtk_list_item_get_item (list_item));
}

static void
on_unbind_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item)
{
  sotto_contact_row_set_item (SOTTO_CONTACT_ROW (gtk_list_item_get_child (list_item)), NULL);
}

/* The row showing @name in @list, or NULL. */
static SottoContactRow *
row_in_list (GtkWidget  *list,
             const char *name)
{
  for (GtkWidget *item = gtk_widget_get_first_child (list); item != NULL;
       item = gtk_widget_get_next_sibling (item))
    {
      GtkWidget *row = gtk_widget_get_first_child (item);
      GObject *bound;

      if (!SOTTO_IS_CONTACT_ROW (row) || !gtk_widget_get_mapped (row))
        continue;
      bound = sotto_contact_row_get_item (SOTTO_CONTACT_ROW (row));
      if (bound != NULL && g_strcmp0 (sotto_roster_item_get_name (SOTTO_ROSTER_ITEM (bound)), name) == 0)
        return SOTTO_CONTACT_ROW (row);
    }
  return NULL;
}

/* As in the buddy list: rows are recycled as the filter changes, and a
 * menu opened on a row before must not trouble one opened after. */
static void
test_row_menu_in_list (Fixture       *fixture,
                       gconstpointer  data)
{
  const char *names[] = { "Alan Turing", "Bob Builder", "Carol Shaw", "Dan Kaminsky" };
  g_autoptr (GPtrArray) contacts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *list;
  SottoContactRow *row;
  GtkWidget *menu;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_ptr_array_add (contacts, add_contact (fixture, names[i], -1, -1));
  SOTTO_TEST_WAIT_FOR (g_list_model_get_n_items (G_LIST_MODEL (fixture->roster)) == G_N_ELEMENTS (names));

  g_signal_connect (factory, "setup", G_CALLBACK (on_setup_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (on_bind_cb), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (on_unbind_cb), NULL);
  list = gtk_list_view_new (GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (G_LIST_MODEL (fixture->roster)))),
                            g_object_ref (factory));
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), list);
  gtk_widget_set_size_request (scrolled, ROW_WIDTH, 300);
  gtk_box_append (GTK_BOX (fixture->box), scrolled);
  show (fixture);

  SOTTO_TEST_WAIT_FOR ((row = row_in_list (list, "Alan Turing")) != NULL);
  menu = GTK_WIDGET (open_menu (row));
  gtk_popover_popdown (GTK_POPOVER (menu));
  SOTTO_TEST_WAIT_FOR (!gtk_widget_get_mapped (menu));

  for (guint round = 0; round < 3; round++)
    {
      const char *filter = round % 2 == 0 ? "bui" : "";

      sotto_roster_set_filter (fixture->roster, filter);
      sotto_gtk_test_wait_frames (fixture->window, 2);
      SOTTO_TEST_WAIT_FOR ((row = row_in_list (list, "Bob Builder")) != NULL);
      g_assert_true (gtk_widget_grab_focus (gtk_widget_get_parent (GTK_WIDGET (row))));

      sotto_contact_row_popup_menu (row);
      menu = gtk_widget_get_last_child (GTK_WIDGET (row));
      g_assert_true (GTK_IS_POPOVER_MENU (menu));
      SOTTO_TEST_WAIT_FOR (gtk_widget_get_mapped (menu));
      sotto_gtk_test_wait_frames (fixture->window, 2);
      gtk_popover_popdown (GTK_POPOVER (menu));
      SOTTO_TEST_WAIT_FOR (!gtk_widget_get_mapped (menu));
    }
}

int
main (int   argc,
      char *argv[])
{
  sotto_gtk_test_init (&argc, &argv);
  g_assert_cmpint (sodium_init (), >=, 0);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/contact-row/draw/states", test_row_states);
  ADD ("/contact-row/draw/right-to-left", test_row_right_to_left);
  ADD ("/contact-row/draw/narrow", test_row_narrow);
  ADD ("/contact-row/draw/dark", test_row_dark);
  ADD ("/contact-row/menu/targets-contact", test_row_menu);
  ADD ("/contact-row/menu/in-a-list", test_row_menu_in_list);
  ADD ("/contact-row/follows-contact", test_row_follows_contact);
  ADD ("/contact-row/tooltips", test_row_tooltips);

#undef ADD

  return g_test_run ();
}
