/* sotto-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The buddy list. It presents the core's SottoRoster (contacts with
 * presence, verification, unread counts, in the core's order and filter),
 * the peer service's pending contact requests and the strangers LAN
 * discovery sees, and turns menu choices into core calls. Chats open in
 * the one SottoChatWindow it owns.
 */
#define G_LOG_DOMAIN "sotto-window"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "sotto-add-contact-dialog.h"
#include "sotto-busy-bar.h"
#include "sotto-chat-window.h"
#include "sotto-contact-row.h"
#include "sotto-core.h"
#include "sotto-invite-window.h"
#include "sotto-nearby-dialog.h"
#include "sotto-nearby-row.h"
#include "sotto-peer-service.h"
#include "sotto-port-banner.h"
#include "sotto-store-banner.h"
#include "sotto-preferences-window.h"
#include "sotto-request-row.h"
#include "sotto-roster.h"
#include "sotto-shortcuts.h"
#include "sotto-verify-dialog.h"
#include "sotto-window.h"

/* The requests area may always grow this tall, and to half the window. */
#define REQUESTS_MIN_MAX_HEIGHT 240
/* The people nearby come second: about three rows, then it scrolls. */
#define NEARBY_MAX_HEIGHT 180

struct _SottoWindow
{
  GtkApplicationWindow parent_instance;

  /* template widgets */
  GtkButton          *add_button;
  GtkMenuButton      *primary_menu_button;
  GtkLabel           *subtitle_label;
  GtkImage           *empty_image;
  GtkImage           *status_image;
  GtkMenuButton      *status_button;
  GtkRevealer        *network_revealer;
  GtkLabel           *network_label;
  GtkSearchBar       *search_bar;
  GtkSearchEntry     *search_entry;
  GtkToggleButton    *search_button;
  GtkRevealer        *requests_revealer;
  GtkLabel           *requests_label;
  GtkListBox         *requests_list;
  GtkScrolledWindow  *requests_scroller;
  GtkRevealer        *nearby_revealer;
  GtkListBox         *nearby_list;
  GtkScrolledWindow  *nearby_scroller;
  GtkStack           *content_stack;
  SottoBusyBar       *opening_bar;
  GtkListView        *contact_list;

  /* owned references */
  SottoContext       *context;
  GSettings          *settings;
  SottoRoster        *roster;
  SottoChatWindow    *chat_window;
  GCancellable       *cancellable;
  GtkFilter          *nearby_filter;  /* strangers only */
  GListModel         *nearby;         /* the services discovery sees, filtered */
};

G_DEFINE_FINAL_TYPE (SottoWindow, sotto_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static SottoStore *
get_store (SottoWindow *self)
{
  return sotto_context_get_store (self->context);
}

static SottoPeerService *
get_service (SottoWindow *self)
{
  return sotto_context_get_peer_service (self->context);
}

static char *
dup_subtitle (SottoWindow *self)
{
  /* The header is narrow: the profile wins, since a development build is
   * already marked by its striped header bar. */
  if (!sotto_context_is_default_profile (self->context))
    return g_strdup_printf (_("Profile “%s”"), sotto_context_get_profile (self->context));

  if (DEVELOPMENT_BUILD)
    return g_strdup (_("Development build"));

  return NULL;
}

static void
restore_window_state (SottoWindow *self)
{
  GSettings *state = sotto_context_get_profile_settings (self->context);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (state, "window-width"),
                               g_settings_get_int (state, "window-height"));

  if (g_settings_get_boolean (state, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
save_window_state (SottoWindow *self)
{
  GSettings *state = sotto_context_get_profile_settings (self->context);
  int width = 0;
  int height = 0;
  gboolean maximized = gtk_window_is_maximized (GTK_WINDOW (self));

  /* A maximized window's size is the screen's: keep the size to restore to. */
  if (!maximized)
    {
      gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
      if (width > 0 && height > 0)
        {
          g_settings_set_int (state, "window-width", width);
          g_settings_set_int (state, "window-height", height);
        }
    }

  g_settings_set_boolean (state, "window-maximized", maximized);
}

static SottoContact *
find_contact (SottoWindow *self,
              gint64       contact_id)
{
  SottoContact *contact = sotto_store_get_contact_by_id (get_store (self), contact_id);

  return contact != NULL ? g_object_ref (contact) : NULL;
}

static void
show_error (SottoWindow  *self,
            const char   *title,
            const GError *error)
{
  GtkWidget *dialog = gtk_message_dialog_new (GTK_WINDOW (self),
                                              GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                              GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", title);

  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", error->message);
  gtk_window_set_title (GTK_WINDOW (dialog), title);
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_window_destroy), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Shows the safety number of @contact, in a dialog of @parent, and lets
 * the user mark it verified. */
static void
verify_contact (SottoWindow  *self,
                SottoContact *contact,
                GtkWindow    *parent)
{
  SottoStore *store;
  GtkWindow *dialog;

  g_assert (SOTTO_IS_WINDOW (self));
  g_assert (SOTTO_IS_CONTACT (contact));

  store = get_store (self);
  dialog = GTK_WINDOW (sotto_verify_dialog_new (parent, store, contact,
                                                sotto_store_get_identity (store)));
  gtk_window_present (dialog);
}

/* -------------------------------------------------------------------------
 * What is shown
 * ------------------------------------------------------------------------- */

static void
update_content (SottoWindow *self)
{
  guint contacts;
  guint shown;

  if (self->roster == NULL)
    return;
  contacts = g_list_model_get_n_items (sotto_store_get_contacts (get_store (self)));
  shown = g_list_model_get_n_items (G_LIST_MODEL (self->roster));
  sotto_busy_bar_set_active (self->opening_bar, FALSE);

  if (contacts == 0)
    gtk_stack_set_visible_child_name (self->content_stack, "empty");
  else if (shown == 0)
    gtk_stack_set_visible_child_name (self->content_stack, "no-match");
  else
    gtk_stack_set_visible_child_name (self->content_stack, "contacts");
}

static void
on_roster_items_changed_cb (GListModel  *model,
                            guint        position,
                            guint        removed,
                            guint        added,
                            SottoWindow *self)
{
  update_content (self);
}

static void update_requests (SottoWindow *self);

/* The contact list's filter filters the requests too. (Rows are hidden
 * rather than filtered out, which screen readers see too.) */
static void
filter_requests (SottoWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->requests_list));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    if (SOTTO_IS_REQUEST_ROW (child))
      gtk_widget_set_visible (child, sotto_request_row_matches (SOTTO_REQUEST_ROW (child), text));
}

/* A request goes when its sender is added as a contact (here or through
 * sotto-cli), too. */
static void
on_contacts_changed_cb (GListModel  *model,
                        guint        position,
                        guint        removed,
                        guint        added,
                        SottoWindow *self)
{
  update_content (self);
  update_requests (self);
}

static void
update_status (SottoWindow *self)
{
  SottoPeerService *service = get_service (self);
  SottoStatus status = service != NULL ? sotto_peer_service_get_status (service)
                                       : SOTTO_STATUS_INVISIBLE;
  const char *icon;
  const char *name;
  const char *target;

  switch (status)
    {
    case SOTTO_STATUS_AVAILABLE:
      icon = "user-available-symbolic";
      name = _("Your status: available");
      target = "available";
      break;
    case SOTTO_STATUS_AWAY:
      icon = "user-away-symbolic";
      name = _("Your status: away");
      target = "away";
      break;
    default:
      icon = "user-invisible-symbolic";
      name = _("Your status: invisible");
      target = "invisible";
    }

  gtk_image_set_from_icon_name (self->status_image, icon);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_button), name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->status_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  g_action_group_change_action_state (G_ACTION_GROUP (self), "status",
                                      g_variant_new_string (target));
}

static void
on_status_notify_cb (SottoPeerService *service,
                     GParamSpec       *pspec,
                     SottoWindow      *self)
{
  update_status (self);
}

/* -------------------------------------------------------------------------
 * Contact requests
 * ------------------------------------------------------------------------- */

static void
on_request_accepted_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr (SottoWindow) self = user_data;
  g_autoptr (SottoContact) contact = NULL;
  g_autoptr (GError) error = NULL;

  contact = sotto_peer_service_accept_request_finish (SOTTO_PEER_SERVICE (object), result, &error);
  if (contact == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_error (self, _("The request could not be accepted"), error);
  update_requests (self);
}

static void
on_request_blocked_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr (SottoWindow) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!sotto_peer_service_block_request_finish (SOTTO_PEER_SERVICE (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_error (self, _("The sender could not be blocked"), error);
  update_requests (self);
}

static void
on_request_answered_cb (SottoRequestRow    *row,
                        SottoRequestAnswer  answer,
                        SottoWindow        *self)
{
  const guint8 *key = sotto_request_row_get_public_key (row);

  switch (answer)
    {
    case SOTTO_REQUEST_ANSWER_ACCEPT:
      sotto_peer_service_accept_request_async (get_service (self), key, NULL, self->cancellable,
                                               on_request_accepted_cb, g_object_ref (self));
      break;
    case SOTTO_REQUEST_ANSWER_IGNORE:
      sotto_peer_service_ignore_request (get_service (self), key);
      update_requests (self);
      break;
    case SOTTO_REQUEST_ANSWER_BLOCK:
      sotto_peer_service_block_request_async (get_service (self), key, self->cancellable,
                                              on_request_blocked_cb, g_object_ref (self));
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Adding contacts, as the policy allows: the action, and why not. */
static void
update_add_contact (SottoWindow *self)
{
  g_autoptr (GError) refusal = NULL;
  SottoPolicy *policy = sotto_context_get_policy (self->context);
  gboolean allowed = policy == NULL || sotto_policy_may_add_contacts (policy, &refusal);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.add-contact",
                                 allowed && get_store (self) != NULL);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->add_button),
                               allowed ? _("Add Contact") : refusal->message);
  if (allowed)
    gtk_accessible_reset_property (GTK_ACCESSIBLE (self->add_button),
                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
  else
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->add_button),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, refusal->message, -1);
}

static void update_requests (SottoWindow *self);
static void update_nearby_refusal (SottoWindow *self);

static void
on_adding_contacts_changed_cb (SottoWindow *self)
{
  if (self->roster == NULL)
    return;
  update_add_contact (self);
  update_requests (self);
  update_nearby_refusal (self);
}

/* The request row for @key, or NULL. */
static SottoRequestRow *
find_request_row (SottoWindow  *self,
                  const guint8 *key)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->requests_list));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    if (SOTTO_IS_REQUEST_ROW (child) &&
        memcmp (sotto_request_row_get_public_key (SOTTO_REQUEST_ROW (child)), key,
                SOTTO_KEY_LEN) == 0)
      return SOTTO_REQUEST_ROW (child);
  return NULL;
}

/* The requests area shows at least one whole request, and grows with the
 * window up to half of it. */
static void
update_requests_height (SottoWindow *self)
{
  GtkWidget *first = gtk_widget_get_first_child (GTK_WIDGET (self->requests_list));
  int width = 0;   /* GTK 4.8 wants both */
  int height = 0;
  int max_height;
  int row_height = 0;

  /* The size the user gave the window (GTK 4 keeps it as its default). */
  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  if (height <= 0)
    height = gtk_widget_get_height (GTK_WIDGET (self));
  max_height = MAX (REQUESTS_MIN_MAX_HEIGHT, height / 2);
  if (first != NULL)
    gtk_widget_measure (first, GTK_ORIENTATION_VERTICAL, -1, NULL, &row_height, NULL, NULL);
  /* The order matters: GTK wants min <= max at every step. */
  gtk_scrolled_window_set_min_content_height (self->requests_scroller, -1);
  gtk_scrolled_window_set_max_content_height (self->requests_scroller, max_height);
  gtk_scrolled_window_set_min_content_height (self->requests_scroller,
                                              MIN (row_height, max_height));
}

/* Rows follow the requests, the ones still there left as they are: a
 * scrolled list stays where it is, and a press under way is not lost. */
static void
update_requests (SottoWindow *self)
{
  g_autoptr (GPtrArray) requests = NULL;
  g_autoptr (GError) refusal = NULL;
  g_autofree char *heading = NULL;
  SottoPolicy *policy = sotto_context_get_policy (self->context);
  GtkWidget *child;
  GtkWidget *next;

  if (get_service (self) == NULL)
    {
      while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->requests_list))) != NULL)
        gtk_list_box_remove (self->requests_list, child);
      return;
    }

  requests = sotto_peer_service_list_requests (get_service (self));
  for (child = gtk_widget_get_first_child (GTK_WIDGET (self->requests_list)); child != NULL;
       child = next)
    {
      gboolean still = FALSE;

      next = gtk_widget_get_next_sibling (child);
      for (guint i = 0; i < requests->len && !still; i++)
        still = memcmp (((SottoPeerRequest *)g_ptr_array_index (requests, i))->public_key,
                        sotto_request_row_get_public_key (SOTTO_REQUEST_ROW (child)),
                        SOTTO_KEY_LEN) == 0;
      if (!still)
        gtk_list_box_remove (self->requests_list, child);
    }

  /* Accepting makes a contact: not where none may be added. */
  if (policy != NULL)
    sotto_policy_may_add_contacts (policy, &refusal);
  for (guint i = 0; i < requests->len; i++)
    {
      SottoPeerRequest *request = g_ptr_array_index (requests, i);
      SottoRequestRow *row = find_request_row (self, request->public_key);

      if (row == NULL)
        {
          row = SOTTO_REQUEST_ROW (sotto_request_row_new (request));
          g_signal_connect (row, "answered", G_CALLBACK (on_request_answered_cb), self);
          gtk_list_box_append (self->requests_list, GTK_WIDGET (row));
        }
      sotto_request_row_set_accept_refusal (row, refusal != NULL ? refusal->message : NULL);
    }
  filter_requests (self);
  update_requests_height (self);

  heading = g_strdup_printf (ngettext ("%u Contact Request", "%u Contact Requests", requests->len),
                             requests->len);
  gtk_label_set_label (self->requests_label, heading);
  gtk_revealer_set_reveal_child (self->requests_revealer, requests->len > 0);
}

static void
on_request_received_cb (SottoPeerService *service,
                        gpointer          request,
                        SottoWindow      *self)
{
  update_requests (self);
}

/* -------------------------------------------------------------------------
 * People nearby
 * ------------------------------------------------------------------------- */

/* A contact seen nearby is in the contact list already. */
static gboolean
is_stranger (gpointer item,
             gpointer user_data)
{
  return sotto_nearby_get_contact_id (SOTTO_NEARBY (item)) == 0;
}

/* Why no contact may be added now, or NULL. */
static char *
dup_add_refusal (SottoWindow *self)
{
  g_autoptr (GError) refusal = NULL;
  SottoPolicy *policy = sotto_context_get_policy (self->context);

  if (policy == NULL || sotto_policy_may_add_contacts (policy, &refusal))
    return NULL;
  return g_strdup (refusal->message);
}

static void
update_nearby_refusal (SottoWindow *self)
{
  g_autofree char *refusal = dup_add_refusal (self);

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->nearby_list));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    if (SOTTO_IS_NEARBY_ROW (child))
      sotto_nearby_row_set_add_refusal (SOTTO_NEARBY_ROW (child), refusal);
}

/* Shown while someone is there, with at least one whole row in view. */
static void
update_nearby (SottoWindow *self)
{
  GtkWidget *first = gtk_widget_get_first_child (GTK_WIDGET (self->nearby_list));
  int row_height = 0;

  if (first != NULL)
    gtk_widget_measure (first, GTK_ORIENTATION_VERTICAL, -1, NULL, &row_height, NULL, NULL);
  gtk_scrolled_window_set_min_content_height (self->nearby_scroller,
                                              MIN (row_height, NEARBY_MAX_HEIGHT));
  gtk_revealer_set_reveal_child (self->nearby_revealer,
                                 g_list_model_get_n_items (self->nearby) > 0);
}

static void
on_nearby_changed_cb (GListModel  *model,
                      guint        position,
                      guint        removed,
                      guint        added,
                      SottoWindow *self)
{
  update_nearby (self);
}

/* Added here, through sotto-cli, or removed again: the filter decides
 * anew. */
static void
on_nearby_contact_id_cb (SottoWindow *self)
{
  /* Not once the window is going. */
  if (self->nearby_filter != NULL)
    gtk_filter_changed (self->nearby_filter, GTK_FILTER_CHANGE_DIFFERENT);
}

static void
on_services_changed_cb (GListModel  *services,
                        guint        position,
                        guint        removed,
                        guint        added,
                        SottoWindow *self)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr (SottoNearby) nearby = g_list_model_get_item (services, i);

      /* Once: a service that goes and comes back is the same object. */
      if (g_signal_handler_find (nearby, G_SIGNAL_MATCH_FUNC | G_SIGNAL_MATCH_DATA, 0, 0, NULL,
                                 on_nearby_contact_id_cb, self) == 0)
        g_signal_connect_object (nearby, "notify::contact-id",
                                 G_CALLBACK (on_nearby_contact_id_cb), self, G_CONNECT_SWAPPED);
    }
}

static void
on_nearby_add_requested_cb (SottoNearbyRow *row,
                            SottoWindow    *self)
{
  GtkWindow *dialog;

  /* The dialog shows the whole fingerprint; only the user's word adds. */
  dialog = GTK_WINDOW (sotto_nearby_dialog_new (GTK_WINDOW (self), self->context,
                                                sotto_nearby_row_get_nearby (row)));
  gtk_window_present (dialog);
}

static GtkWidget *
create_nearby_row_cb (gpointer item,
                      gpointer user_data)
{
  SottoWindow *self = user_data;
  g_autofree char *refusal = dup_add_refusal (self);
  GtkWidget *row = sotto_nearby_row_new (SOTTO_NEARBY (item));

  sotto_nearby_row_set_add_refusal (SOTTO_NEARBY_ROW (row), refusal);
  g_signal_connect_object (row, "add-requested", G_CALLBACK (on_nearby_add_requested_cb),
                           self, 0);
  return row;
}

static void
setup_nearby (SottoWindow *self)
{
  SottoDiscovery *discovery = sotto_context_get_discovery (self->context);
  GListModel *services;

  g_assert (SOTTO_IS_WINDOW (self));
  g_assert (self->nearby == NULL);

  if (discovery == NULL)
    return;

  services = sotto_discovery_get_services (discovery);
  g_signal_connect_object (services, "items-changed", G_CALLBACK (on_services_changed_cb),
                           self, 0);
  on_services_changed_cb (services, 0, 0, g_list_model_get_n_items (services), self);

  self->nearby_filter = GTK_FILTER (gtk_custom_filter_new (is_stranger, NULL, NULL));
  self->nearby = G_LIST_MODEL (gtk_filter_list_model_new (g_object_ref (services),
                                                          g_object_ref (self->nearby_filter)));
  gtk_list_box_bind_model (self->nearby_list, self->nearby, create_nearby_row_cb, self, NULL);
  /* After the list box's own handler: the rows are there to measure. */
  g_signal_connect_object (self->nearby, "items-changed", G_CALLBACK (on_nearby_changed_cb),
                           self, 0);
  update_nearby (self);
}

/* -------------------------------------------------------------------------
 * Callbacks
 * ------------------------------------------------------------------------- */

static void
on_search_changed_cb (SottoWindow    *self,
                      GtkSearchEntry *entry)
{
  if (self->roster == NULL)
    return;
  sotto_roster_set_filter (self->roster, gtk_editable_get_text (GTK_EDITABLE (entry)));
  filter_requests (self);
  update_content (self);
}

/* Enter in the filter opens the first match. */
static void
on_search_activate_cb (SottoWindow    *self,
                       GtkSearchEntry *entry)
{
  g_autoptr (GObject) item = NULL;
  g_autoptr (SottoContact) contact = NULL;

  if (self->roster == NULL)
    return;
  /* search-changed comes after a delay: what was typed counts now. */
  sotto_roster_set_filter (self->roster, gtk_editable_get_text (GTK_EDITABLE (entry)));
  update_content (self);
  item = g_list_model_get_item (G_LIST_MODEL (self->roster), 0);
  if (item == NULL)
    return;
  g_object_get (item, "contact", &contact, NULL);
  sotto_window_open_chat (self, contact);
}

static void
on_contact_activated_cb (SottoWindow *self,
                         guint        position,
                         GtkListView *list)
{
  g_autoptr (GObject) item = g_list_model_get_item (G_LIST_MODEL (self->roster), position);
  g_autoptr (SottoContact) contact = NULL;

  if (item == NULL)
    return;
  g_object_get (item, "contact", &contact, NULL);
  sotto_window_open_chat (self, contact);
}

static void
on_setup_row_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 SottoWindow              *self)
{
  gtk_list_item_set_child (list_item, sotto_contact_row_new ());
}

static void
on_bind_row_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                SottoWindow              *self)
{
  sotto_contact_row_set_item (SOTTO_CONTACT_ROW (gtk_list_item_get_child (list_item)),
                              gtk_list_item_get_item (list_item));
}

static void
on_unbind_row_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  SottoWindow              *self)
{
  sotto_contact_row_set_item (SOTTO_CONTACT_ROW (gtk_list_item_get_child (list_item)), NULL);
}

static void
on_contact_updated_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr (SottoWindow) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!sotto_store_update_contact_finish (SOTTO_STORE (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_error (self, _("The contact could not be changed"), error);
}

static void
on_contact_removed_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr (SottoWindow) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!sotto_store_remove_contact_finish (SOTTO_STORE (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_error (self, _("The contact could not be removed"), error);
}

typedef struct
{
  SottoWindow  *window;
  SottoContact *contact;
  GtkEditable  *entry;
} ContactDialog;

static void
contact_dialog_free (gpointer data)
{
  ContactDialog *dialog = data;

  g_object_unref (dialog->window);
  g_object_unref (dialog->contact);
  g_free (dialog);
}

static void
on_rename_response_cb (GtkDialog     *dialog,
                       int            response,
                       ContactDialog *data)
{
  if (response == GTK_RESPONSE_OK)
    {
      g_autofree char *alias = g_strstrip (g_strdup (gtk_editable_get_text (data->entry)));

      /* An empty name goes back to the one the contact chose. */
      sotto_store_update_contact_async (get_store (data->window), data->contact, alias, -1, -1,
                                        data->window->cancellable, on_contact_updated_cb,
                                        g_object_ref (data->window));
    }
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
on_remove_response_cb (GtkDialog     *dialog,
                       int            response,
                       ContactDialog *data)
{
  if (response == GTK_RESPONSE_ACCEPT)
    sotto_store_remove_contact_async (get_store (data->window), data->contact,
                                      data->window->cancellable, on_contact_removed_cb,
                                      g_object_ref (data->window));
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* -------------------------------------------------------------------------
 * Chat window
 * ------------------------------------------------------------------------- */

static void
on_chat_verify_requested_cb (SottoChatWindow *chat_window,
                             SottoContact    *contact,
                             SottoWindow     *self)
{
  verify_contact (self, contact, GTK_WINDOW (chat_window));
}

static void
on_show_contacts_requested_cb (SottoChatWindow *chat_window,
                               SottoWindow     *self)
{
  gtk_window_present (GTK_WINDOW (self));
}

/* -------------------------------------------------------------------------
 * Actions
 * ------------------------------------------------------------------------- */

static SottoContact *
contact_from_parameter (SottoWindow *self,
                        GVariant    *parameter)
{
  return find_contact (self, g_variant_get_int64 (parameter));
}

static void
open_chat_activated (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  SottoWindow *self = SOTTO_WINDOW (widget);
  g_autoptr (SottoContact) contact = contact_from_parameter (self, parameter);

  if (contact != NULL)
    sotto_window_open_chat (self, contact);
}

static void
verify_contact_activated (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  SottoWindow *self = SOTTO_WINDOW (widget);
  g_autoptr (SottoContact) contact = contact_from_parameter (self, parameter);

  if (contact != NULL)
    verify_contact (self, contact, GTK_WINDOW (self));
}

/* A question about one contact, answered through @on_response with a
 * ContactDialog; the caller adds the buttons and presents it. */
static GtkWidget *
contact_dialog_new (SottoWindow     *self,
                    SottoContact    *contact,
                    GtkMessageType   type,
                    const char      *title,
                    const char      *detail,
                    GCallback        on_response,
                    ContactDialog  **out_data)
{
  ContactDialog *data = g_new0 (ContactDialog, 1);
  GtkWidget *dialog = gtk_message_dialog_new (GTK_WINDOW (self),
                                              GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                              type, GTK_BUTTONS_NONE, "%s", title);

  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", detail);
  /* Not shown, but what screen readers announce for the dialog. */
  gtk_window_set_title (GTK_WINDOW (dialog), title);
  data->window = g_object_ref (self);
  data->contact = g_object_ref (contact);
  g_signal_connect_data (dialog, "response", on_response, data,
                         (GClosureNotify)(void (*) (void))contact_dialog_free, 0);
  if (out_data != NULL)
    *out_data = data;
  return dialog;
}

static void
rename_contact_activated (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  SottoWindow *self = SOTTO_WINDOW (widget);
  g_autoptr (SottoContact) contact = contact_from_parameter (self, parameter);
  g_autofree char *title = NULL;
  g_autofree char *detail = NULL;
  ContactDialog *data;
  GtkWidget *dialog;
  GtkWidget *entry;

  if (contact == NULL)
    return;

  title = g_strdup_printf (_("Rename %s"), sotto_contact_get_name (contact));
  detail = g_strdup_printf (_("Only you see this name. Leave it empty to use the name %s chose."),
                            sotto_contact_get_display_name (contact));
  dialog = contact_dialog_new (self, contact, GTK_MESSAGE_QUESTION, title, detail,
                               G_CALLBACK (on_rename_response_cb), &data);
  gtk_dialog_add_buttons (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL,
                          _("_Rename"), GTK_RESPONSE_OK, NULL);
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_OK);

  entry = gtk_entry_new ();
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_editable_set_text (GTK_EDITABLE (entry), sotto_contact_get_name (contact));
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("New name"), -1);
  gtk_box_append (GTK_BOX (gtk_message_dialog_get_message_area (GTK_MESSAGE_DIALOG (dialog))),
                  entry);
  data->entry = GTK_EDITABLE (entry);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
set_blocked (SottoWindow *self,
             GVariant    *parameter,
             gboolean     blocked)
{
  g_autoptr (SottoContact) contact = contact_from_parameter (self, parameter);

  if (contact != NULL)
    sotto_store_update_contact_async (get_store (self), contact, NULL, blocked, -1,
                                      self->cancellable, on_contact_updated_cb,
                                      g_object_ref (self));
}

static void
block_contact_activated (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  set_blocked (SOTTO_WINDOW (widget), parameter, TRUE);
}

static void
unblock_contact_activated (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  set_blocked (SOTTO_WINDOW (widget), parameter, FALSE);
}

static void
remove_contact_activated (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  SottoWindow *self = SOTTO_WINDOW (widget);
  g_autoptr (SottoContact) contact = contact_from_parameter (self, parameter);
  g_autofree char *title = NULL;
  GtkWidget *dialog;
  GtkWidget *remove;

  if (contact == NULL)
    return;

  title = g_strdup_printf (_("Remove %s?"), sotto_contact_get_name (contact));
  dialog = contact_dialog_new (self, contact, GTK_MESSAGE_WARNING, title,
                               _("Your conversation with them is deleted too. "
                                 "To talk again, you will need their invite."),
                               G_CALLBACK (on_remove_response_cb), NULL);
  gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
  remove = gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Remove"), GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class (remove, "destructive-action");
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
add_contact_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  sotto_window_add_contact (SOTTO_WINDOW (widget), NULL);
}

static void
show_invite_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  SottoWindow *self = SOTTO_WINDOW (widget);
  g_autoptr (GError) error = NULL;
  g_autofree char *invite = sotto_context_dup_invite (self->context, &error);
  GtkWindow *window;

  if (invite == NULL)
    {
      show_error (self, _("Your invite could not be made"), error);
      return;
    }

  window = sotto_invite_window_new (GTK_WINDOW (self), invite);
  gtk_window_present (window);
}

static void
on_display_name_set_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr (SottoWindow) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!sotto_store_set_display_name_finish (SOTTO_STORE (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_error (self, _("Your name could not be changed"), error);
}

static void
on_display_name_changed_cb (SottoPreferencesWindow *preferences,
                            const char             *name,
                            SottoWindow            *self)
{
  sotto_store_set_display_name_async (get_store (self), name, self->cancellable,
                                      on_display_name_set_cb, g_object_ref (self));
}

static void
on_history_deleted_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr (SottoWindow) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!sotto_store_purge_finish (SOTTO_STORE (object), result, NULL, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_error (self, _("The history could not be deleted"), error);
}

/* Confirmed in the preferences window already. What is still waiting to
 * be delivered is not history yet, and stays. */
static void
on_delete_history_requested_cb (SottoPreferencesWindow *preferences,
                                SottoWindow            *self)
{
  sotto_store_purge_async (get_store (self), NULL, G_MAXINT64, FALSE, self->cancellable,
                           on_history_deleted_cb, g_object_ref (self));
}

typedef struct
{
  SottoWindow            *window;
  SottoPreferencesWindow *preferences;
  GtkEditable            *current;  /* NULL for a key in the keyring */
  GtkEditable            *first;
  GtkEditable            *second;
  GtkLabel               *error;
} PassphraseDialog;

static void
passphrase_dialog_free (gpointer data)
{
  PassphraseDialog *dialog = data;

  g_object_unref (dialog->window);
  g_clear_object (&dialog->preferences);
  g_free (dialog);
}

static void
show_passphrase_error (PassphraseDialog *data,
                       const char       *text)
{
  gtk_label_set_label (data->error, text);
  gtk_widget_set_visible (GTK_WIDGET (data->error), TRUE);
}

/* What the answer needs, held for as long as the change runs: the dialog
 * may be closed meanwhile (with the preferences, say). */
typedef struct
{
  SottoWindow            *window;
  SottoPreferencesWindow *preferences;
  GtkWidget              *dialog;
  GtkWidget              *current;
  GtkLabel               *error;
} ProtectJob;

static void
protect_job_free (ProtectJob *job)
{
  g_object_unref (job->window);
  g_clear_object (&job->preferences);
  g_object_unref (job->dialog);
  g_clear_object (&job->current);
  g_object_unref (job->error);
  g_free (job);
}

static void
on_protected_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  ProtectJob *job = user_data;
  g_autoptr (GError) error = NULL;
  gboolean open = !gtk_widget_in_destruction (job->dialog);

  if (sotto_context_protect_finish (SOTTO_CONTEXT (object), result, &error))
    {
      if (job->preferences != NULL)
        sotto_preferences_window_set_passphrase_protected (job->preferences, TRUE);
      if (open)
        gtk_window_destroy (GTK_WINDOW (job->dialog));
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    ;
  else if (open && (g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_WRONG_PASSPHRASE) ||
                    g_error_matches (error, SOTTO_ERROR, SOTTO_ERROR_NEEDS_PASSPHRASE)))
    {
      /* Wrong or missing: the dialog stays, to try again. */
      gtk_widget_set_sensitive (job->dialog, TRUE);
      gtk_label_set_label (job->error, _("The current passphrase is not right"));
      gtk_widget_set_visible (GTK_WIDGET (job->error), TRUE);
      if (job->current != NULL)
        gtk_widget_grab_focus (job->current);
    }
  else
    {
      show_error (job->window, _("The passphrase could not be changed"), error);
      if (open)
        gtk_window_destroy (GTK_WINDOW (job->dialog));
    }
  protect_job_free (job);
}

static void
on_passphrase_response_cb (GtkDialog        *dialog,
                           int               response,
                           PassphraseDialog *data)
{
  const char *first = gtk_editable_get_text (data->first);
  ProtectJob *job;

  if (response != GTK_RESPONSE_OK)
    {
      gtk_window_destroy (GTK_WINDOW (dialog));
      return;
    }

  if (data->current != NULL && gtk_editable_get_text (data->current)[0] == '\0')
    {
      show_passphrase_error (data, _("Enter the current passphrase"));
      return;
    }
  if (first[0] == '\0' || strcmp (first, gtk_editable_get_text (data->second)) != 0)
    {
      show_passphrase_error (data, first[0] == '\0' ? _("Enter a passphrase")
                                                    : _("The two passphrases differ"));
      return;
    }

  /* Only for whoever holds what protects the key now (the core checks). */
  job = g_new0 (ProtectJob, 1);
  job->window = g_object_ref (data->window);
  job->preferences = data->preferences != NULL ? g_object_ref (data->preferences) : NULL;
  job->dialog = g_object_ref (GTK_WIDGET (dialog));
  job->current = data->current != NULL ? g_object_ref (GTK_WIDGET (data->current)) : NULL;
  job->error = g_object_ref (data->error);
  gtk_widget_set_visible (GTK_WIDGET (data->error), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (dialog), FALSE);
  sotto_context_protect_async (data->window->context,
                               data->current != NULL ? gtk_editable_get_text (data->current)
                                                     : NULL,
                               SOTTO_KEY_PROTECTION_PASSPHRASE, first,
                               data->window->cancellable, on_protected_cb, job);
}

static GtkWidget *
password_entry_new (const char *label)
{
  GtkWidget *entry = gtk_password_entry_new ();

  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (entry), TRUE);
  g_object_set (entry, "placeholder-text", label, "activates-default", TRUE, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  return entry;
}

/* A new passphrase (also from the login keyring to a passphrase). The
 * store re-wraps the history key; nothing else is re-encrypted. */
static void
on_change_passphrase_requested_cb (SottoPreferencesWindow *preferences,
                                   SottoWindow            *self)
{
  PassphraseDialog *data = g_new0 (PassphraseDialog, 1);
  GtkWidget *dialog;
  GtkWidget *area;
  GtkWidget *current = NULL;
  GtkWidget *first = password_entry_new (_("New passphrase"));
  GtkWidget *second = password_entry_new (_("Repeat the new passphrase"));
  GtkWidget *error = gtk_label_new (NULL);

  dialog = gtk_message_dialog_new (GTK_WINDOW (preferences),
                                   GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                   "%s", _("Change the Passphrase"));
  gtk_window_set_title (GTK_WINDOW (dialog), _("Change the Passphrase"));
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s",
                                            _("Sotto will ask for it every time it starts. If "
                                              "you forget it, your history cannot be "
                                              "recovered."));
  gtk_dialog_add_buttons (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL,
                          _("C_hange"), GTK_RESPONSE_OK, NULL);
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_OK);

  gtk_widget_add_css_class (error, "error");
  gtk_widget_set_visible (error, FALSE);
  area = gtk_message_dialog_get_message_area (GTK_MESSAGE_DIALOG (dialog));
  if (sotto_store_get_key_protection (get_store (self)) == SOTTO_KEY_PROTECTION_PASSPHRASE)
    {
      current = password_entry_new (_("Current passphrase"));
      gtk_box_append (GTK_BOX (area), current);
    }
  gtk_box_append (GTK_BOX (area), first);
  gtk_box_append (GTK_BOX (area), second);
  gtk_box_append (GTK_BOX (area), error);

  data->window = g_object_ref (self);
  data->preferences = g_object_ref (preferences);
  data->current = current != NULL ? GTK_EDITABLE (current) : NULL;
  data->first = GTK_EDITABLE (first);
  data->second = GTK_EDITABLE (second);
  data->error = GTK_LABEL (error);
  g_signal_connect_data (dialog, "response", G_CALLBACK (on_passphrase_response_cb), data,
                         (GClosureNotify)(void (*) (void))passphrase_dialog_free, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
preferences_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  SottoWindow *self = SOTTO_WINDOW (widget);
  SottoStore *store = get_store (self);
  SottoIdentity *identity = sotto_store_get_identity (store);
  g_autofree char *fingerprint = sotto_identity_dup_fingerprint (identity);
  GtkWindow *window;

  window = GTK_WINDOW (sotto_preferences_window_new (GTK_WINDOW (self), self->settings,
                                                     sotto_context_get_profile_settings (self->context),
                                                     sotto_context_get_profile (self->context),
                                                     sotto_identity_get_display_name (identity),
                                                     fingerprint,
                                                     sotto_store_get_key_protection (store)
                                                       == SOTTO_KEY_PROTECTION_PASSPHRASE));
  sotto_preferences_window_add_security_log (SOTTO_PREFERENCES_WINDOW (window), store);
  sotto_preferences_window_set_discovery (SOTTO_PREFERENCES_WINDOW (window),
                                          sotto_context_get_discovery (self->context));
  g_signal_connect_object (window, "display-name-changed",
                           G_CALLBACK (on_display_name_changed_cb), self, 0);
  g_signal_connect_object (window, "delete-history-requested",
                           G_CALLBACK (on_delete_history_requested_cb), self, 0);
  g_signal_connect_object (window, "change-passphrase-requested",
                           G_CALLBACK (on_change_passphrase_requested_cb), self, 0);
  gtk_window_present (window);
}

static void
change_status (GSimpleAction *action,
               GVariant      *state,
               gpointer       user_data)
{
  SottoWindow *self = user_data;
  const char *name = g_variant_get_string (state, NULL);
  SottoStatus status;

  if (g_str_equal (name, "available"))
    status = SOTTO_STATUS_AVAILABLE;
  else if (g_str_equal (name, "away"))
    status = SOTTO_STATUS_AWAY;
  else if (g_str_equal (name, "invisible"))
    status = SOTTO_STATUS_INVISIBLE;
  else
    return;

  g_simple_action_set_state (action, state);
  if (get_service (self) != NULL && sotto_peer_service_get_status (get_service (self)) != status)
    {
      g_autoptr (GError) error = NULL;

      /* Coming back from invisible listens again: the port may be taken,
       * which the port banner follows and says. */
      if (!sotto_peer_service_set_status (get_service (self), status, &error))
        g_debug ("not listening: %s", error->message);
    }
}

static const GActionEntry window_actions[] = {
  { "status", NULL, "s", "'available'", change_status },
};

/* What can't be done before the profile is open. */
static const char *profile_actions[] = {
  "win.add-contact", "win.show-invite", "win.preferences", "win.open-chat",
  "win.verify-contact", "win.rename-contact", "win.block-contact", "win.unblock-contact",
  "win.remove-contact",
};

/* -------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------- */

static gboolean
sotto_window_close_request (GtkWindow *window)
{
  SottoWindow *self = SOTTO_WINDOW (window);

  save_window_state (self);
  if (self->chat_window != NULL)
    gtk_window_close (GTK_WINDOW (self->chat_window));

  return GTK_WINDOW_CLASS (sotto_window_parent_class)->close_request (window);
}

/* Everything that needs the open profile: the window may exist before,
 * showing that it opens (see sotto_window_set_ready()). */
static void
setup_profile (SottoWindow *self)
{
  g_autoptr (GtkListItemFactory) factory = NULL;
  SottoPeerService *service = get_service (self);

  g_assert (SOTTO_IS_STORE (get_store (self)));
  g_assert (self->roster == NULL);

  self->roster = sotto_roster_new (get_store (self), service);
  g_signal_connect_object (self->roster, "items-changed",
                           G_CALLBACK (on_roster_items_changed_cb), self, 0);
  g_signal_connect_object (sotto_store_get_contacts (get_store (self)), "items-changed",
                           G_CALLBACK (on_contacts_changed_cb), self, 0);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (on_setup_row_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (on_bind_row_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (on_unbind_row_cb), self);
  gtk_list_view_set_factory (self->contact_list, factory);
  gtk_list_view_set_model (self->contact_list,
                           GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->roster)))));

  if (service != NULL)
    {
      g_signal_connect_object (service, "request-received",
                               G_CALLBACK (on_request_received_cb), self, 0);
      g_signal_connect_object (service, "notify::status", G_CALLBACK (on_status_notify_cb),
                               self, 0);
    }

  for (guint i = 0; i < G_N_ELEMENTS (profile_actions); i++)
    gtk_widget_action_set_enabled (GTK_WIDGET (self), profile_actions[i], TRUE);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self),
                                                                            "status")),
                               service != NULL);
  gtk_search_bar_set_key_capture_widget (self->search_bar, GTK_WIDGET (self));

  setup_nearby (self);

  update_status (self);
  update_requests (self);
  update_add_contact (self);
  update_content (self);
}

static void
sotto_window_constructed (GObject *object)
{
  SottoWindow *self = (SottoWindow *)object;
  g_autofree char *subtitle = NULL;
  g_autofree char *title = NULL;

  G_OBJECT_CLASS (sotto_window_parent_class)->constructed (object);

  g_assert (SOTTO_IS_CONTEXT (self->context));
  g_assert (G_IS_SETTINGS (self->settings));

  if (DEVELOPMENT_BUILD)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");

  subtitle = dup_subtitle (self);
  gtk_label_set_label (self->subtitle_label, subtitle);
  gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), subtitle != NULL);

  /* Two profiles' windows must be told apart in the window list, too. */
  if (!sotto_context_is_default_profile (self->context))
    {
      /* Translators: the window title of a named profile's contact list. */
      title = g_strdup_printf (_("Contacts — %s"), sotto_context_get_profile (self->context));
      gtk_window_set_title (GTK_WINDOW (self), title);
    }

  gtk_image_set_from_icon_name (self->empty_image, APPLICATION_ID);

  /* The requests area takes up to half of the window the user chose. */
  g_signal_connect (self, "notify::default-height", G_CALLBACK (update_requests_height), NULL);

  /* What an administrator allows can change while the window is open. */
  g_signal_connect_object (self->settings, "changed::allow-adding-contacts",
                           G_CALLBACK (on_adding_contacts_changed_cb), self, G_CONNECT_SWAPPED);

  /* Under the other network banner: says when the port is taken, and
   * above it when nothing can be saved. */
  gtk_box_insert_child_after (GTK_BOX (gtk_widget_get_parent (GTK_WIDGET (self->network_revealer))),
                              sotto_port_banner_new (self->context),
                              GTK_WIDGET (self->network_revealer));
  gtk_box_insert_child_after (GTK_BOX (gtk_widget_get_parent (GTK_WIDGET (self->network_revealer))),
                              sotto_store_banner_new (self->context),
                              GTK_WIDGET (self->network_revealer));

  g_action_map_add_action_entries (G_ACTION_MAP (self), window_actions,
                                   G_N_ELEMENTS (window_actions), self);
  restore_window_state (self);

  if (get_store (self) != NULL)
    setup_profile (self);
  else
    {
      /* Shown at once; the profile opens meanwhile. */
      gtk_stack_set_visible_child_name (self->content_stack, "opening");
      for (guint i = 0; i < G_N_ELEMENTS (profile_actions); i++)
        gtk_widget_action_set_enabled (GTK_WIDGET (self), profile_actions[i], FALSE);
      g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self),
                                                                                "status")),
                                   FALSE);
    }
}

static void
sotto_window_dispose (GObject *object)
{
  SottoWindow *self = (SottoWindow *)object;

  g_cancellable_cancel (self->cancellable);
  if (self->chat_window != NULL)
    gtk_window_destroy (GTK_WINDOW (self->chat_window));


  g_clear_object (&self->roster);
  g_clear_object (&self->nearby);
  g_clear_object (&self->nearby_filter);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->context);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sotto_window_parent_class)->dispose (object);
}

static void
sotto_window_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  SottoWindow *self = SOTTO_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_object (value, self->context);
      break;

    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_window_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  SottoWindow *self = SOTTO_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_object (value);
      break;

    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_window_class_init (SottoWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = sotto_window_constructed;
  object_class->dispose = sotto_window_dispose;
  object_class->get_property = sotto_window_get_property;
  object_class->set_property = sotto_window_set_property;

  window_class->close_request = sotto_window_close_request;

  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL,
                         SOTTO_TYPE_CONTEXT,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL,
                         G_TYPE_SETTINGS,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PATH "/sotto-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, add_button);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, requests_scroller);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, primary_menu_button);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, empty_image);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, status_image);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, status_button);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, network_revealer);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, network_label);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, search_bar);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, search_button);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, requests_revealer);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, requests_label);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, requests_list);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, nearby_revealer);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, nearby_list);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, nearby_scroller);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, content_stack);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, opening_bar);
  g_type_ensure (SOTTO_TYPE_BUSY_BAR);
  gtk_widget_class_bind_template_child (widget_class, SottoWindow, contact_list);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_contact_activated_cb);

  gtk_widget_class_install_action (widget_class, "win.open-chat", "x", open_chat_activated);
  gtk_widget_class_install_action (widget_class, "win.verify-contact", "x",
                                   verify_contact_activated);
  gtk_widget_class_install_action (widget_class, "win.rename-contact", "x",
                                   rename_contact_activated);
  gtk_widget_class_install_action (widget_class, "win.block-contact", "x",
                                   block_contact_activated);
  gtk_widget_class_install_action (widget_class, "win.unblock-contact", "x",
                                   unblock_contact_activated);
  gtk_widget_class_install_action (widget_class, "win.remove-contact", "x",
                                   remove_contact_activated);
  gtk_widget_class_install_action (widget_class, "win.add-contact", NULL, add_contact_activated);
  gtk_widget_class_install_action (widget_class, "win.show-invite", NULL, show_invite_activated);
  gtk_widget_class_install_action (widget_class, "win.preferences", NULL, preferences_activated);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK,
                                       "win.add-contact", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_comma, GDK_CONTROL_MASK,
                                       "win.preferences", NULL);
}

static gboolean
on_contact_menu_shortcut (GtkWidget *widget,
                          GVariant  *args,
                          gpointer   user_data)
{
  SottoWindow *self = user_data;
  GtkWidget *item = gtk_widget_get_focus_child (GTK_WIDGET (self->contact_list));
  GtkWidget *row = item != NULL ? gtk_widget_get_first_child (item) : NULL;

  if (!SOTTO_IS_CONTACT_ROW (row))
    return FALSE;
  sotto_contact_row_popup_menu (SOTTO_CONTACT_ROW (row));
  return TRUE;
}

static void
on_find_shortcut (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  SottoWindow *self = SOTTO_WINDOW (widget);

  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
sotto_window_init (SottoWindow *self)
{
  GtkEventController *shortcuts = gtk_shortcut_controller_new ();
  GtkEventController *menu_keys = gtk_shortcut_controller_new ();

  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  sotto_shortcuts_add_action (GTK_APPLICATION_WINDOW (self));

  /* Shift+F10 or the Menu key: the focused contact's menu. */
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (menu_keys),
                                        gtk_shortcut_new (gtk_alternative_trigger_new (gtk_keyval_trigger_new (GDK_KEY_F10, GDK_SHIFT_MASK),
                                                                                       gtk_keyval_trigger_new (GDK_KEY_Menu, 0)),
                                                          gtk_callback_action_new (on_contact_menu_shortcut,
                                                                                   self, NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self->contact_list), menu_keys);

  /* Ctrl+F: find a contact. */
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_f, GDK_CONTROL_MASK),
                                                          gtk_callback_action_new ((GtkShortcutFunc)(void (*) (void))on_find_shortcut,
                                                                                   NULL, NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);
}

SottoWindow *
sotto_window_new (GtkApplication *application,
                  SottoContext   *context,
                  GSettings      *settings)
{
  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (SOTTO_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  return g_object_new (SOTTO_TYPE_WINDOW,
                       "application", application,
                       "context", context,
                       "settings", settings,
                       NULL);
}

SottoContext *
sotto_window_get_context (SottoWindow *self)
{
  g_return_val_if_fail (SOTTO_IS_WINDOW (self), NULL);

  return self->context;
}

/**
 * sotto_window_show_requests:
 *
 * Brings the window forward with the contact requests in view and the
 * keyboard on the first (a click on a request's notification).
 */
void
sotto_window_show_requests (SottoWindow *self)
{
  GtkWidget *first;

  g_return_if_fail (SOTTO_IS_WINDOW (self));

  gtk_window_present (GTK_WINDOW (self));
  first = gtk_widget_get_first_child (GTK_WIDGET (self->requests_list));
  if (first != NULL)
    gtk_widget_grab_focus (first);
}

/**
 * sotto_window_open_chat:
 * @self: a #SottoWindow
 * @contact: the contact to talk to
 *
 * Shows the chat window with @contact's tab in front, opening the tab if
 * needed.
 */
void
sotto_window_open_chat (SottoWindow  *self,
                        SottoContact *contact)
{
  g_return_if_fail (SOTTO_IS_WINDOW (self));
  g_return_if_fail (SOTTO_IS_CONTACT (contact));

  if (self->chat_window == NULL)
    {
      GtkApplication *application = gtk_window_get_application (GTK_WINDOW (self));

      /* GTK owns the window; this pointer is cleared when it goes. */
      self->chat_window = sotto_chat_window_new (application, self->roster, self->context,
                                                 self->settings);
      g_object_add_weak_pointer (G_OBJECT (self->chat_window), (gpointer *)&self->chat_window);
      g_signal_connect_object (self->chat_window, "verify-requested",
                               G_CALLBACK (on_chat_verify_requested_cb), self, 0);
      g_signal_connect_object (self->chat_window, "show-contacts-requested",
                               G_CALLBACK (on_show_contacts_requested_cb), self, 0);
    }

  sotto_chat_window_open (self->chat_window, contact);
}

/**
 * sotto_window_get_chat_window:
 *
 * Returns: (transfer none) (nullable): the chat window, if open
 */
SottoChatWindow *
sotto_window_get_chat_window (SottoWindow *self)
{
  g_return_val_if_fail (SOTTO_IS_WINDOW (self), NULL);

  return self->chat_window;
}

/**
 * sotto_window_add_contact:
 * @invite: (nullable): an invite to show, e.g. from a `sotto:` link
 *
 * Opens the dialog that adds a contact from an invite.
 */
void
sotto_window_add_contact (SottoWindow *self,
                          const char  *invite)
{
  GtkWindow *dialog;

  g_return_if_fail (SOTTO_IS_WINDOW (self));

  dialog = GTK_WINDOW (sotto_add_contact_dialog_new (GTK_WINDOW (self), get_store (self), invite));
  gtk_window_present (dialog);
}

/**
 * sotto_window_show_network_error:
 *
 * Says, above the list, why colleagues can't reach us.
 */
void
sotto_window_show_network_error (SottoWindow  *self,
                                 const GError *error)
{
  g_autofree char *text = NULL;

  g_return_if_fail (SOTTO_IS_WINDOW (self));

  if (error == NULL)
    {
      gtk_revealer_set_reveal_child (self->network_revealer, FALSE);
      return;
    }

  text = g_strdup_printf (_("Colleagues can’t reach you: %s"), error->message);
  gtk_label_set_label (self->network_label, text);
  gtk_revealer_set_reveal_child (self->network_revealer, TRUE);
}

/**
 * sotto_window_set_ready:
 *
 * The profile is open (and its peer service started): the window made
 * before shows the contacts now.
 */
void
sotto_window_set_ready (SottoWindow *self)
{
  g_return_if_fail (SOTTO_IS_WINDOW (self));
  g_return_if_fail (SOTTO_IS_STORE (get_store (self)));

  if (self->roster == NULL)
    setup_profile (self);
}
