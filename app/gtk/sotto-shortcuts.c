/* sotto-shortcuts.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The keyboard shortcuts window (gtk/help-overlay.ui), shared by the
 * contact list and the chat window, each with its own copy.
 */
#define G_LOG_DOMAIN "sotto-shortcuts"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-shortcuts.h"

/* GTK 4.8's shortcuts window leaves its own search button and entry and
 * its section menu without names: screen readers would say "GtkImage",
 * "GtkSearchEntry" and "GtkMenuButton". */
static void
name_shortcuts_window_parts (GtkWidget *widget,
                             gboolean   in_menu_button)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      const char *name = NULL;

      if (GTK_IS_SEARCH_ENTRY (child))
        name = _("Search Shortcuts");
      else if (GTK_IS_MENU_BUTTON (child) || (in_menu_button && GTK_IS_BUTTON (child)))
        name = _("Sections");
      else if (GTK_IS_TOGGLE_BUTTON (child) &&
               g_strcmp0 (gtk_button_get_icon_name (GTK_BUTTON (child)), "edit-find-symbolic") == 0)
        name = _("Search Shortcuts");
      if (name != NULL)
        gtk_accessible_update_property (GTK_ACCESSIBLE (child), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                        name, -1);
      name_shortcuts_window_parts (child, in_menu_button || GTK_IS_MENU_BUTTON (child));
    }
}

static void
show_shortcuts_activated_cb (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  GtkApplicationWindow *window = user_data;
  GtkShortcutsWindow *shortcuts = gtk_application_window_get_help_overlay (window);

  if (shortcuts == NULL)
    {
      g_autoptr (GtkBuilder) builder = gtk_builder_new_from_resource (RESOURCE_PATH
                                                                      "/shortcuts-window.ui");

      shortcuts = GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder, "help_overlay"));
      name_shortcuts_window_parts (GTK_WIDGET (shortcuts), FALSE);
      gtk_application_window_set_help_overlay (window, shortcuts);
    }
  gtk_window_present (GTK_WINDOW (shortcuts));
}

/**
 * sotto_shortcuts_add_action:
 * @window: a window of the application
 *
 * Adds win.show-help-overlay, which shows the keyboard shortcuts window
 * (gtk/help-overlay.ui), built the first time it is asked for. GTK would
 * build it for every application window as the window is made, before
 * its first frame, if it were where GTK looks for it.
 */
void
sotto_shortcuts_add_action (GtkApplicationWindow *window)
{
  g_autoptr (GSimpleAction) action = g_simple_action_new ("show-help-overlay", NULL);

  g_return_if_fail (GTK_IS_APPLICATION_WINDOW (window));

  g_signal_connect (action, "activate", G_CALLBACK (show_shortcuts_activated_cb), window);
  g_action_map_add_action (G_ACTION_MAP (window), G_ACTION (action));
}
