/* sotto-chat-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One window, one GtkNotebook tab per conversation. Opening a chat that
 * is already open brings its tab to the front. Tabs can be reordered,
 * closed (Ctrl+W) and switched (Ctrl+Page Up/Down, Alt+1…9).
 */
#define G_LOG_DOMAIN "sotto-chat-window"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-chat-page.h"
#include "sotto-chat-window.h"
#include "sotto-core.h"
#include "sotto-shortcuts.h"

struct _SottoChatWindow
{
  GtkApplicationWindow parent_instance;

  /* template widgets */
  GtkLabel            *title_label;
  GtkNotebook         *notebook;

  /* owned references */
  SottoContext        *context;
  GSettings           *settings;
  SottoRoster         *roster;
};

G_DEFINE_FINAL_TYPE (SottoChatWindow, sotto_chat_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
  SHOW_CONTACTS_REQUESTED,
  VERIFY_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
update_title (SottoChatWindow *self)
{
  SottoChatPage *page = sotto_chat_window_get_current (self);
  const char *name = page != NULL ? sotto_contact_get_name (sotto_chat_page_get_contact (page))
                                  : _("Chats");

  gtk_label_set_label (self->title_label, name);
  gtk_window_set_title (GTK_WINDOW (self), name);
}

static void
on_switch_page_cb (SottoChatWindow *self,
                   GtkWidget       *page,
                   guint            page_num,
                   GtkNotebook     *notebook)
{
  SottoChatPage *previous = sotto_chat_window_get_current (self);

  if (previous != NULL && GTK_WIDGET (previous) != page)
    sotto_chat_page_set_shown (previous, FALSE);
  sotto_chat_page_set_shown (SOTTO_CHAT_PAGE (page), gtk_window_is_active (GTK_WINDOW (self)));
  /* switch-page runs before the notebook's current page changes. */
  gtk_label_set_label (self->title_label,
                       sotto_contact_get_name (sotto_chat_page_get_contact (SOTTO_CHAT_PAGE (page))));
  gtk_window_set_title (GTK_WINDOW (self), gtk_label_get_label (self->title_label));
}

static void
on_page_removed_cb (SottoChatWindow *self,
                    GtkWidget       *page,
                    guint            page_num,
                    GtkNotebook     *notebook)
{
  if (gtk_notebook_get_n_pages (notebook) == 0)
    gtk_window_close (GTK_WINDOW (self));
  else
    update_title (self);
}

static void
on_active_notify_cb (SottoChatWindow *self,
                     GParamSpec      *pspec,
                     gpointer         user_data)
{
  SottoChatPage *page = sotto_chat_window_get_current (self);

  if (page != NULL)
    sotto_chat_page_set_shown (page, gtk_window_is_active (GTK_WINDOW (self)));
}

static void
on_close_tab_cb (SottoChatPage   *page,
                 SottoChatWindow *self)
{
  int index = gtk_notebook_page_num (self->notebook, GTK_WIDGET (page));

  if (index >= 0)
    gtk_notebook_remove_page (self->notebook, index);
}

static void
on_verify_requested_cb (SottoChatPage   *page,
                        SottoContact    *contact,
                        SottoChatWindow *self)
{
  g_signal_emit (self, signals[VERIFY_REQUESTED], 0, contact);
}

static void
close_tab_activated (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  SottoChatWindow *self = SOTTO_CHAT_WINDOW (widget);
  int index = gtk_notebook_get_current_page (self->notebook);

  if (index >= 0)
    gtk_notebook_remove_page (self->notebook, index);
}

static void
next_tab_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  SottoChatWindow *self = SOTTO_CHAT_WINDOW (widget);
  int n = gtk_notebook_get_n_pages (self->notebook);
  int index = gtk_notebook_get_current_page (self->notebook);
  int step = g_variant_get_int32 (parameter);

  if (n > 0)
    gtk_notebook_set_current_page (self->notebook, ((index + step) % n + n) % n);
}

static void
go_to_tab_activated (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  SottoChatWindow *self = SOTTO_CHAT_WINDOW (widget);
  int index = g_variant_get_int32 (parameter);

  if (index < gtk_notebook_get_n_pages (self->notebook))
    gtk_notebook_set_current_page (self->notebook, index);
}

static void
find_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  SottoChatPage *page = sotto_chat_window_get_current (SOTTO_CHAT_WINDOW (widget));

  if (page != NULL)
    sotto_chat_page_start_search (page);
}

static void
show_contacts_activated (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  g_signal_emit (widget, signals[SHOW_CONTACTS_REQUESTED], 0);
}

static void
save_window_state (SottoChatWindow *self)
{
  GSettings *state = sotto_context_get_profile_settings (self->context);
  int width = 0;
  int height = 0;
  gboolean maximized = gtk_window_is_maximized (GTK_WINDOW (self));

  if (!maximized)
    {
      gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
      if (width > 0 && height > 0)
        {
          g_settings_set_int (state, "chat-window-width", width);
          g_settings_set_int (state, "chat-window-height", height);
        }
    }
  g_settings_set_boolean (state, "chat-window-maximized", maximized);
}

static gboolean
sotto_chat_window_close_request (GtkWindow *window)
{
  save_window_state (SOTTO_CHAT_WINDOW (window));

  return GTK_WINDOW_CLASS (sotto_chat_window_parent_class)->close_request (window);
}

static void
sotto_chat_window_dispose (GObject *object)
{
  SottoChatWindow *self = (SottoChatWindow *)object;

  g_clear_object (&self->context);
  g_clear_object (&self->settings);
  g_clear_object (&self->roster);

  G_OBJECT_CLASS (sotto_chat_window_parent_class)->dispose (object);
}

static void
sotto_chat_window_class_init (SottoChatWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = sotto_chat_window_dispose;
  window_class->close_request = sotto_chat_window_close_request;

  /**
   * SottoChatWindow::show-contacts-requested:
   *
   * The user asked for the contact list.
   */
  signals[SHOW_CONTACTS_REQUESTED] =
    g_signal_new ("show-contacts-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * SottoChatWindow::verify-requested:
   * @contact: the contact to verify
   *
   * A tab asked to compare safety numbers with @contact (see
   * SottoChatPage::verify-requested); the dialog belongs to this window.
   */
  signals[VERIFY_REQUESTED] =
    g_signal_new ("verify-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, SOTTO_TYPE_CONTACT);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PATH "/sotto-chat-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SottoChatWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, SottoChatWindow, notebook);
  gtk_widget_class_bind_template_callback (widget_class, on_switch_page_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_page_removed_cb);

  gtk_widget_class_install_action (widget_class, "chat.close-tab", NULL, close_tab_activated);
  gtk_widget_class_install_action (widget_class, "chat.next-tab", "i", next_tab_activated);
  gtk_widget_class_install_action (widget_class, "chat.go-to-tab", "i", go_to_tab_activated);
  gtk_widget_class_install_action (widget_class, "chat.find", NULL, find_activated);
  gtk_widget_class_install_action (widget_class, "chat.show-contacts", NULL,
                                   show_contacts_activated);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK,
                                       "chat.close-tab", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Down, GDK_CONTROL_MASK,
                                       "chat.next-tab", "i", 1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Up, GDK_CONTROL_MASK,
                                       "chat.next-tab", "i", -1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK,
                                       "chat.find", NULL);
  for (int i = 0; i < 9; i++)
    gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1 + i, GDK_ALT_MASK,
                                         "chat.go-to-tab", "i", i);
}

static void
sotto_chat_window_init (SottoChatWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  sotto_shortcuts_add_action (GTK_APPLICATION_WINDOW (self));
  g_signal_connect (self, "notify::is-active", G_CALLBACK (on_active_notify_cb), NULL);
}

/**
 * sotto_chat_window_new:
 * @roster: (nullable): the contact list's model, which the tabs share
 *
 * Returns: (transfer none): a new window, owned by GTK
 */
SottoChatWindow *
sotto_chat_window_new (GtkApplication *application,
                       SottoRoster    *roster,
                       SottoContext   *context,
                       GSettings      *settings)
{
  SottoChatWindow *self;
  GSettings *state;

  g_return_val_if_fail (roster == NULL || SOTTO_IS_ROSTER (roster), NULL);
  g_return_val_if_fail (SOTTO_IS_CONTEXT (context), NULL);

  self = g_object_new (SOTTO_TYPE_CHAT_WINDOW, "application", application, NULL);
  self->roster = roster != NULL ? g_object_ref (roster) : NULL;
  self->context = g_object_ref (context);
  self->settings = g_object_ref (settings);

  if (DEVELOPMENT_BUILD)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
  state = sotto_context_get_profile_settings (context);
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (state, "chat-window-width"),
                               g_settings_get_int (state, "chat-window-height"));
  if (g_settings_get_boolean (state, "chat-window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  return self;
}

SottoChatPage *
sotto_chat_window_find_page (SottoChatWindow *self,
                             gint64           contact_id)
{
  int n;

  g_return_val_if_fail (SOTTO_IS_CHAT_WINDOW (self), NULL);

  n = gtk_notebook_get_n_pages (self->notebook);
  for (int i = 0; i < n; i++)
    {
      SottoChatPage *page = SOTTO_CHAT_PAGE (gtk_notebook_get_nth_page (self->notebook, i));

      if (sotto_contact_get_id (sotto_chat_page_get_contact (page)) == contact_id)
        return page;
    }

  return NULL;
}

/**
 * sotto_chat_window_open:
 *
 * Brings @contact's tab to the front, making it if needed, and the window
 * with it.
 *
 * Returns: (transfer none): the page
 */
SottoChatPage *
sotto_chat_window_open (SottoChatWindow *self,
                        SottoContact    *contact)
{
  SottoChatPage *page;

  g_return_val_if_fail (SOTTO_IS_CHAT_WINDOW (self), NULL);
  g_return_val_if_fail (SOTTO_IS_CONTACT (contact), NULL);

  page = sotto_chat_window_find_page (self, sotto_contact_get_id (contact));
  if (page == NULL)
    {
      int index;

      page = sotto_chat_page_new (self->context, self->settings, self->roster, contact);
      g_signal_connect (page, "close-requested", G_CALLBACK (on_close_tab_cb), self);
      g_signal_connect (page, "verify-requested", G_CALLBACK (on_verify_requested_cb), self);
      index = gtk_notebook_append_page (self->notebook, GTK_WIDGET (page),
                                        sotto_chat_page_get_tab_label (page));
      gtk_notebook_set_tab_reorderable (self->notebook, GTK_WIDGET (page), TRUE);
      gtk_notebook_set_current_page (self->notebook, index);
    }
  else
    gtk_notebook_set_current_page (self->notebook,
                                   gtk_notebook_page_num (self->notebook, GTK_WIDGET (page)));

  gtk_window_present (GTK_WINDOW (self));
  sotto_chat_page_focus_composer (page);
  return page;
}

/**
 * sotto_chat_window_get_current:
 *
 * Returns: (transfer none) (nullable): the page in front
 */
SottoChatPage *
sotto_chat_window_get_current (SottoChatWindow *self)
{
  int index;

  g_return_val_if_fail (SOTTO_IS_CHAT_WINDOW (self), NULL);

  index = gtk_notebook_get_current_page (self->notebook);
  return index >= 0 ? SOTTO_CHAT_PAGE (gtk_notebook_get_nth_page (self->notebook, index)) : NULL;
}

/**
 * sotto_chat_window_is_showing:
 *
 * Returns: whether the user is looking at @contact_id's conversation now:
 *   its tab is in front and this window has the focus
 */
gboolean
sotto_chat_window_is_showing (SottoChatWindow *self,
                              gint64           contact_id)
{
  SottoChatPage *page;

  g_return_val_if_fail (SOTTO_IS_CHAT_WINDOW (self), FALSE);

  page = sotto_chat_window_get_current (self);
  return page != NULL && gtk_window_is_active (GTK_WINDOW (self)) &&
         sotto_contact_get_id (sotto_chat_page_get_contact (page)) == contact_id;
}
