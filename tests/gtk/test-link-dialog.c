/* test-link-dialog.c — the dialog a click on a link opens: what it shows
 * of the core's verdict, which buttons it offers, and that it stays on
 * screen whatever the link
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <gtk/gtk.h>

#include "sotto-core.h"
#include "sotto-gtk-test-util.h"
#include "sotto-link-dialog.h"

/* What Xvfb's screen is in the tests: a dialog must fit it. */
#define SCREEN_WIDTH  1280
#define SCREEN_HEIGHT 1024

typedef struct
{
  GtkWidget *open;    /* the button that opens, NULL if none */
  GtkWidget *cancel;
  guint      n_buttons;
} Buttons;

static void
find_buttons (GtkWidget *root,
              Buttons   *buttons)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_BUTTON (child) && gtk_button_get_use_underline (GTK_BUTTON (child)))
        {
          const char *label = gtk_button_get_label (GTK_BUTTON (child));

          buttons->n_buttons++;
          if (g_str_has_prefix (label, "_Open"))
            buttons->open = child;
          else
            buttons->cancel = child;
        }
      find_buttons (child, buttons);
    }
}

/* Every label of the link and site: left to right and without hyphens. */
static guint
check_verbatim_labels (GtkWidget  *root,
                       const char *shown)
{
  guint found = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_LABEL (child) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (child)), shown) == 0)
        {
          PangoAttrList *attributes = gtk_label_get_attributes (GTK_LABEL (child));
          g_autoptr (GSList) list = attributes != NULL
                                    ? pango_attr_list_get_attributes (attributes) : NULL;
          gboolean no_hyphens = FALSE;

          for (GSList *l = list; l != NULL; l = l->next)
            {
              PangoAttribute *attribute = l->data;

              if (attribute->klass->type == PANGO_ATTR_INSERT_HYPHENS &&
                  !((PangoAttrInt *)attribute)->value)
                no_hyphens = TRUE;
            }
          g_slist_free_full (g_steal_pointer (&list), (GDestroyNotify)pango_attribute_destroy);
          g_assert_true (no_hyphens);
          g_assert_cmpint (gtk_widget_get_direction (child), ==, GTK_TEXT_DIR_LTR);
          g_assert_true (gtk_label_get_wrap (GTK_LABEL (child)));
          found++;
        }
      found += check_verbatim_labels (child, shown);
    }
  return found;
}

static GtkWidget *
show (const char      *link,
      SottoLinkSender  sender,
      const char      *screenshot)
{
  g_autoptr (SottoLinkVerdict) verdict = sotto_link_guard_check (link, sender, NULL);
  GtkWidget *dialog = sotto_link_dialog_new (NULL, verdict);
  int width;
  int height;

  gtk_window_present (GTK_WINDOW (dialog));
  sotto_gtk_test_wait_frames (dialog, 3);
  width = gtk_widget_get_width (dialog);
  height = gtk_widget_get_height (dialog);
  g_test_message ("%s: %d×%d", screenshot, width, height);
  /* On screen, however long the link. */
  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (width, <=, SCREEN_WIDTH);
  g_assert_cmpint (height, <=, SCREEN_HEIGHT);
  g_free (sotto_gtk_test_save_screenshot (dialog, screenshot));
  g_assert_cmpuint (check_verbatim_labels (dialog, verdict->shown), ==, 1);
  return dialog;
}

static void
test_link_dialog_plain (void)
{
  GtkWidget *dialog = show ("https://www.gnome.org/", SOTTO_LINK_SENDER_VERIFIED, "link-plain");
  Buttons buttons = { 0 };

  find_buttons (dialog, &buttons);
  g_assert_cmpuint (buttons.n_buttons, ==, 2);
  g_assert_nonnull (buttons.open);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (dialog)), ==, "Open this link?");
  /* Nothing odd: Enter opens it. */
  g_assert_true (gtk_window_get_default_widget (GTK_WINDOW (dialog)) == buttons.open);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* A look-alike host: the findings are listed, and Enter does not open. */
static void
test_link_dialog_lookalike (void)
{
  GtkWidget *dialog = show ("https://www.раураl.com/signin", SOTTO_LINK_SENDER_UNVERIFIED,
                            "link-lookalike");
  Buttons buttons = { 0 };

  find_buttons (dialog, &buttons);
  g_assert_nonnull (buttons.open);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (buttons.open)), ==, "_Open Anyway");
  g_assert_false (gtk_window_get_default_widget (GTK_WINDOW (dialog)) == buttons.open);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (dialog)), ==,
                   "This link may not go where it seems");
  g_assert_nonnull (sotto_gtk_test_find_label (dialog,
                                               "• The site’s name is written with letters that "
                                               "only look like “paypal”: it is another site."));
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* A scheme that runs things: Close is all there is. */
static void
test_link_dialog_blocked (void)
{
  GtkWidget *dialog = show ("file:///etc/passwd", SOTTO_LINK_SENDER_VERIFIED, "link-blocked");
  Buttons buttons = { 0 };

  find_buttons (dialog, &buttons);
  g_assert_cmpuint (buttons.n_buttons, ==, 1);
  g_assert_null (buttons.open);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (dialog)), ==,
                   "Sotto will not open this link");
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* Thousands of characters, a direction override inside: wrapped, on
 * screen, the override shown, not obeyed. */
static void
test_link_dialog_long (void)
{
  g_autoptr (GString) link = g_string_new ("https://example.com/");
  GtkWidget *dialog;

  while (link->len < 3000)
    g_string_append (link, "averyveryverylongpathsegment/");
  g_string_append (link, "\u202Efdp.exe");
  dialog = show (link->str, SOTTO_LINK_SENDER_VERIFIED, "link-long");
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* The longest link that is still looked at. */
  while (link->len < SOTTO_LINK_MAX_LEN)
    g_string_append_c (link, 'x');
  g_string_truncate (link, SOTTO_LINK_MAX_LEN);
  dialog = show (link->str, SOTTO_LINK_SENDER_VERIFIED, "link-longest");
  gtk_window_destroy (GTK_WINDOW (dialog));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  sotto_gtk_test_init (&argc, &argv);

  g_test_add_func ("/link-dialog/plain", test_link_dialog_plain);
  g_test_add_func ("/link-dialog/lookalike", test_link_dialog_lookalike);
  g_test_add_func ("/link-dialog/blocked", test_link_dialog_blocked);
  g_test_add_func ("/link-dialog/long", test_link_dialog_long);

  status = g_test_run ();
  sotto_gtk_test_cleanup ();

  return status;
}
