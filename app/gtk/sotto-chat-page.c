/* sotto-chat-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A conversation: the store's lazy SottoConversationModel with the
 * contact's files among the messages (SottoTimeline) in a GtkListView
 * (older pages load as the view reaches the top), the
 * contact's presence, typing and verification from the roster, a composer
 * (Enter sends, Shift+Enter starts a new line) and search through the
 * store. Sending, reading, typing notices and link verdicts are core
 * calls; the page only presents them.
 *
 * While the contact is marked "key changed", a banner says so and nothing
 * can be sent until the user verifies again or trusts the contact again.
 */
#define G_LOG_DOMAIN "sotto-chat-page"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-chat-page.h"
#include "sotto-link-dialog.h"
#include "sotto-transfer-row.h"
#include "sotto-core.h"
#include "sotto-message-row.h"
#include "sotto-peer-service.h"
#include "sotto-roster.h"

/* A typing notice is repeated this often while the user types, and a
 * "stopped" sent after this long without a key press. */
#define TYPING_REPEAT_US   (4 * G_USEC_PER_SEC)
#define TYPING_STOP_MS     5000
/* Search waits for the user to pause. */
#define SEARCH_DELAY_MS    250

struct _SottoChatPage
{
  GtkWidget               parent_instance;

  /* template widgets */
  GtkWidget              *main_box;
  GtkLabel               *name_label;
  GtkLabel               *status_label;
  GtkButton              *verify_button;
  GtkRevealer            *key_banner;
  GtkLabel               *key_banner_label;
  GtkRevealer            *policy_banner;
  GtkLabel               *policy_banner_label;
  GtkSearchBar           *search_bar;
  GtkSearchEntry         *search_entry;
  GtkLabel               *search_count;
  GtkScrolledWindow      *scroller;
  GtkListView            *message_list;
  GtkLabel               *typing_label;
  GtkLabel               *damaged_label;
  GtkLabel               *composer_error;
  GtkWidget              *composer_box;
  GtkWidget              *attach_button;
  GtkTextView            *composer;

  /* owned references */
  SottoContext           *context;
  GSettings              *settings;
  SottoContact           *contact;
  SottoFileTransfer      *files;
  SottoConversationModel *model;
  SottoTimeline          *timeline;
  GPtrArray              *bound_transfers; /* SottoTransferRows on screen, unowned */
  GtkSingleSelection     *selection;
  GObject                *roster_item;
  GCancellable           *cancellable;
  GCancellable           *search_cancellable;
  GArray                 *matches;        /* gint64 message ids, oldest first */
  guint                   search_damaged; /* messages the search could not read */
  GtkWidget              *tab_label;
  GtkWidget              *tab_name;
  GtkWidget              *tab_close;

  gboolean                shown;
  gboolean                stick_to_bottom;
  gint64                  last_read_id;
  gint64                  typing_sent_at;
  guint                   typing_stop_id;
  guint                   search_delay_id;
  int                     match;          /* index into matches, -1 for none */
  gint64                  pending_scroll_id;
};

G_DEFINE_FINAL_TYPE (SottoChatPage, sotto_chat_page, GTK_TYPE_WIDGET)

enum {
  CLOSE_REQUESTED,
  VERIFY_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static SottoStore *
get_store (SottoChatPage *self)
{
  return sotto_context_get_store (self->context);
}

static SottoPeerService *
get_service (SottoChatPage *self)
{
  return sotto_context_get_peer_service (self->context);
}

/* -------------------------------------------------------------------------
 * Header, banner, tab
 * ------------------------------------------------------------------------- */


/* GTK 4.8 names every notebook tab "Tab" for screen readers: name ours
 * after the contact, with the unread count the label shows. The tab is
 * the tab label's parent once the page is in a notebook. */
static void
tab_name_accessible (SottoChatPage *self)
{
  GtkWidget *tab = self->tab_label != NULL ? gtk_widget_get_parent (self->tab_label) : NULL;
  const char *name = sotto_contact_get_name (self->contact);
  guint unread = 0;
  g_autofree char *text = NULL;

  if (self->roster_item != NULL && !self->shown)
    g_object_get (self->roster_item, "unread", &unread, NULL);
  if (tab == NULL || gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (tab)) != GTK_ACCESSIBLE_ROLE_TAB)
    return;

  if (unread > 0)
    {
      g_autofree char *count = g_strdup_printf (ngettext ("%u unread message", "%u unread messages",
                                                          unread), unread);

      text = g_strdup_printf ("%s, %s", name, count);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (tab), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  text != NULL ? text : name, -1);
}

static void
on_tab_label_parent_cb (GtkWidget     *tab_label,
                        GParamSpec    *pspec,
                        SottoChatPage *self)
{
  tab_name_accessible (self);
}

/* The tab's close button says whose chat it closes; a rename follows.
 * The tooltip is set only when it changes: setting one on a visible
 * widget makes GTK ask the X server where the pointer is. */
static void
tab_close_name (SottoChatPage *self,
                const char    *name)
{
  g_autofree char *text = g_strdup_printf (_("Close the chat with %s"), name);
  const char *old = gtk_widget_get_tooltip_text (self->tab_close);

  if (g_strcmp0 (old, text) == 0)
    return;
  gtk_widget_set_tooltip_text (self->tab_close, text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->tab_close), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  text, -1);
}

/* The paperclip: greyed out when nothing may be sent here, and then
 * saying why when it is the policy's doing. */
static void
update_attach (SottoChatPage *self,
               gboolean       nothing_sent)
{
  g_autoptr (GError) refusal = NULL;
  SottoPolicy *policy = sotto_context_get_policy (self->context);
  gboolean files_allowed = policy == NULL || sotto_policy_may_send_files (policy, &refusal);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "page.attach",
                                 files_allowed && !nothing_sent);
  gtk_widget_set_tooltip_text (self->attach_button, files_allowed ? _("Send a File… (Ctrl+O)")
                                                                  : refusal->message);
  if (files_allowed)
    gtk_accessible_reset_property (GTK_ACCESSIBLE (self->attach_button),
                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
  else
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->attach_button),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, refusal->message, -1);
}

static void
update_header (SottoChatPage *self)
{
  SottoVerification verification = sotto_contact_get_verification (self->contact);
  g_autofree char *tab_text = NULL;
  g_autofree char *status = NULL;
  g_autofree char *name = NULL;
  int presence = 0;
  guint unread = 0;
  gboolean typing = FALSE;
  const char *presence_text;
  const char *trust_text;
  gboolean held;
  gboolean forbidden;

  if (self->roster_item != NULL)
    g_object_get (self->roster_item, "presence", &presence, "unread", &unread,
                  "typing", &typing, NULL);

  name = g_strdup (sotto_contact_get_name (self->contact));
  gtk_label_set_label (self->name_label, name);

  presence_text = presence == SOTTO_PRESENCE_AVAILABLE ? _("Available")
                  : presence == SOTTO_PRESENCE_AWAY ? _("Away") : _("Offline");
  trust_text = verification == SOTTO_VERIFICATION_VERIFIED ? _("verified")
               : verification == SOTTO_VERIFICATION_KEY_CHANGED ? _("security key changed")
               : _("not verified");
  if (sotto_contact_get_blocked (self->contact))
    status = g_strdup_printf (_("Blocked · %s"), trust_text);
  else
    status = g_strdup_printf ("%s · %s", presence_text, trust_text);
  gtk_label_set_label (self->status_label, status);
  gtk_widget_set_visible (GTK_WIDGET (self->verify_button),
                          verification == SOTTO_VERIFICATION_UNVERIFIED);

  if (typing)
    {
      g_autofree char *text = g_strdup_printf (_("%s is typing…"), name);

      gtk_label_set_label (self->typing_label, text);
    }
  else
    gtk_label_set_label (self->typing_label, "");

  held = verification == SOTTO_VERIFICATION_KEY_CHANGED;
  if (held)
    {
      g_autofree char *text =
        g_strdup_printf (_("%s’s security key changed: someone answered at their address with "
                           "a different key. Nothing is sent to them until you check with %s "
                           "and verify again."), name, name);

      gtk_label_set_label (self->key_banner_label, text);
    }
  gtk_revealer_set_reveal_child (self->key_banner, held);

  /* Only verified contacts may get anything: the core refuses the rest;
   * the page says so before anyone types. */
  {
    g_autoptr (GError) refusal = NULL;
    SottoPolicy *policy = sotto_context_get_policy (self->context);

    forbidden = !held && policy != NULL &&
                !sotto_policy_may_message (policy, self->contact, &refusal);
    gtk_label_set_label (self->policy_banner_label, forbidden ? refusal->message : "");
    gtk_revealer_set_reveal_child (self->policy_banner, forbidden);
  }
  gtk_widget_set_sensitive (self->composer_box,
                            !held && !forbidden && !sotto_contact_get_blocked (self->contact));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "page.send",
                                 !held && !forbidden && !sotto_contact_get_blocked (self->contact));
  update_attach (self, held || forbidden || sotto_contact_get_blocked (self->contact));

  /* The tab: name, and the number of unread messages when there are any. */
  if (unread > 0 && !self->shown)
    tab_text = g_strdup_printf ("%s (%u)", name, unread);
  else
    tab_text = g_strdup (name);
  gtk_label_set_label (GTK_LABEL (self->tab_name), tab_text);
  /* A notebook gives tabs their minimum width: short names stay whole,
   * long ones are cut. */
  gtk_label_set_ellipsize (GTK_LABEL (self->tab_name),
                           g_utf8_strlen (tab_text, -1) > 20 ? PANGO_ELLIPSIZE_END
                                                             : PANGO_ELLIPSIZE_NONE);
  if (unread > 0 && !self->shown)
    gtk_widget_add_css_class (self->tab_name, "unread");
  else
    gtk_widget_remove_css_class (self->tab_name, "unread");
  tab_name_accessible (self);
  tab_close_name (self, name);

  /* Files offered: who sent them, and whether their key is verified. */
  for (guint i = 0; self->bound_transfers != NULL && i < self->bound_transfers->len; i++)
    sotto_transfer_row_set_sender (g_ptr_array_index (self->bound_transfers, i), name,
                                   verification);
}

static void
on_contact_notify_cb (SottoContact  *contact,
                      GParamSpec    *pspec,
                      SottoChatPage *self)
{
  update_header (self);
}

static void
on_roster_item_notify_cb (GObject       *item,
                          GParamSpec    *pspec,
                          SottoChatPage *self)
{
  update_header (self);
}

static void
on_tab_close_clicked_cb (GtkButton     *button,
                         SottoChatPage *self)
{
  g_signal_emit (self, signals[CLOSE_REQUESTED], 0);
}

/* -------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------- */

static gint64
newest_incoming_id (SottoChatPage *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->model));

  for (guint i = n; i > 0; i--)
    {
      g_autoptr (SottoMessage) message = g_list_model_get_item (G_LIST_MODEL (self->model), i - 1);

      if (sotto_message_get_direction (message) == SOTTO_DIRECTION_IN)
        return sotto_message_get_id (message);
    }

  return 0;
}

static void
on_marked_read_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr (GPtrArray) uids = NULL;
  g_autoptr (GError) error = NULL;

  uids = sotto_peer_service_mark_read_finish (SOTTO_PEER_SERVICE (object), result, &error);
  if (uids == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not mark messages read: %s", error->message);
}

/* What the user has in front of them is read: the store marks it, and the
 * peer service tells the contact if the settings allow read receipts. */
static void
mark_read (SottoChatPage *self)
{
  gint64 newest;

  if (!self->shown || get_service (self) == NULL)
    return;

  newest = newest_incoming_id (self);
  if (newest <= self->last_read_id)
    return;

  self->last_read_id = newest;
  sotto_peer_service_mark_read_async (get_service (self), self->contact, newest,
                                      self->cancellable, on_marked_read_cb, NULL);
}

/* -------------------------------------------------------------------------
 * The message list
 * ------------------------------------------------------------------------- */

static void scroll_to_id (SottoChatPage *self,
                          gint64         id);

static gboolean
scroll_to_bottom_cb (gpointer user_data)
{
  SottoChatPage *self = user_data;
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);

  gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment));
  return G_SOURCE_REMOVE;
}

static gboolean
at_bottom (SottoChatPage *self)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);

  return gtk_adjustment_get_value (adjustment) + gtk_adjustment_get_page_size (adjustment)
         >= gtk_adjustment_get_upper (adjustment) - 24;
}

static void
on_model_items_changed_cb (GListModel    *model,
                           guint          position,
                           guint          removed,
                           guint          added,
                           SottoChatPage *self)
{
  guint n = g_list_model_get_n_items (model);

  /* New messages at the end keep the view at the end if it was there. */
  if (added > 0 && position + added == n && (self->stick_to_bottom || position == 0))
    g_idle_add_full (G_PRIORITY_LOW, scroll_to_bottom_cb, g_object_ref (self), g_object_unref);

  if (self->pending_scroll_id != 0)
    scroll_to_id (self, self->pending_scroll_id);

  mark_read (self);
}

static void
on_value_changed_cb (GtkAdjustment *adjustment,
                     SottoChatPage *self)
{
  self->stick_to_bottom = at_bottom (self);
}

static void
on_loaded_older_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr (SottoChatPage) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!sotto_conversation_model_load_older_finish (SOTTO_CONVERSATION_MODEL (object), result,
                                                   NULL, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not load older messages: %s", error->message);

  if (self->pending_scroll_id != 0)
    scroll_to_id (self, self->pending_scroll_id);
}

static void
load_older (SottoChatPage *self)
{
  if (sotto_conversation_model_get_complete (self->model) ||
      sotto_conversation_model_get_loading (self->model))
    return;

  sotto_conversation_model_load_older_async (self->model, self->cancellable, on_loaded_older_cb,
                                             g_object_ref (self));
}

static void
on_edge_reached_cb (SottoChatPage     *self,
                    GtkPositionType    position,
                    GtkScrolledWindow *scroller)
{
  if (position == GTK_POS_TOP)
    load_older (self);
}

/* Every click on a link ends here: the guard's verdict, under the
 * settings, for who sent it; the dialog shows it and asks. */
static void
on_link_activated_cb (SottoMessageRow *row,
                      const char      *uri,
                      SottoChatPage   *self)
{
  g_autoptr (SottoLinkVerdict) verdict = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  SottoLinkSender sender = sotto_contact_get_verification (self->contact) ==
                           SOTTO_VERIFICATION_VERIFIED
                           ? SOTTO_LINK_SENDER_VERIFIED : SOTTO_LINK_SENDER_UNVERIFIED;

  verdict = sotto_context_check_link (self->context, uri, sender);
  sotto_link_dialog_present (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, verdict);
}

static void
on_retried_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr (SottoChatPage) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!sotto_peer_service_retry_finish (SOTTO_PEER_SERVICE (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      gtk_label_set_label (self->composer_error, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->composer_error), TRUE);
    }
}

/* The message goes back into the outbox; the row follows its state. */
static void
on_retry_cb (SottoMessageRow *row,
             SottoChatPage   *self)
{
  SottoMessage *message = sotto_message_row_get_message (row);

  if (message == NULL || get_service (self) == NULL)
    return;
  sotto_peer_service_retry_async (get_service (self), message, self->cancellable,
                                  on_retried_cb, g_object_ref (self));
}

/* Each row of the list holds a message row, used for messages, and for a
 * file a transfer row made when it is bound (with the day's heading when
 * the file is the first item of its day). */
static void
on_setup_row_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 SottoChatPage            *self)
{
  GtkWidget *holder = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *row = sotto_message_row_new ();

  g_signal_connect (row, "link-activated", G_CALLBACK (on_link_activated_cb), self);
  g_signal_connect (row, "retry", G_CALLBACK (on_retry_cb), self);
  gtk_box_append (GTK_BOX (holder), row);
  gtk_list_item_set_child (list_item, holder);
  gtk_list_item_set_activatable (list_item, FALSE);
}

static void
on_bind_row_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                SottoChatPage            *self)
{
  GObject *item = gtk_list_item_get_item (list_item);
  GtkWidget *holder = gtk_list_item_get_child (list_item);
  GtkWidget *message_row = gtk_widget_get_first_child (holder);
  guint position = gtk_list_item_get_position (list_item);
  g_autoptr (GObject) previous = NULL;
  g_autofree char *heading = NULL;
  gint64 when = sotto_timeline_item_time (item);
  GtkWidget *transfer_row;

  if (position > 0)
    previous = g_list_model_get_item (G_LIST_MODEL (self->timeline), position - 1);
  if (previous == NULL || !sotto_time_same_day (sotto_timeline_item_time (previous), when))
    heading = sotto_time_format_day (when, g_get_real_time ());

  if (SOTTO_IS_MESSAGE (item))
    {
      sotto_message_row_set_message (SOTTO_MESSAGE_ROW (message_row), SOTTO_MESSAGE (item),
                                     heading);
      gtk_widget_set_visible (message_row, TRUE);
      return;
    }

  gtk_widget_set_visible (message_row, FALSE);
  if (heading != NULL)
    {
      GtkWidget *day = gtk_label_new (heading);

      gtk_widget_add_css_class (day, "day-heading");
      gtk_widget_add_css_class (day, "dim-label");
      gtk_box_append (GTK_BOX (holder), day);
    }
  transfer_row = sotto_transfer_row_new (self->files, SOTTO_TRANSFER (item));
  sotto_transfer_row_set_sender (SOTTO_TRANSFER_ROW (transfer_row),
                                 sotto_contact_get_name (self->contact),
                                 sotto_contact_get_verification (self->contact));
  gtk_box_append (GTK_BOX (holder), transfer_row);
  g_ptr_array_add (self->bound_transfers, transfer_row);
}

static void
on_unbind_row_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  SottoChatPage            *self)
{
  GtkWidget *holder = gtk_list_item_get_child (list_item);
  GtkWidget *message_row = gtk_widget_get_first_child (holder);
  GtkWidget *extra;

  sotto_message_row_set_message (SOTTO_MESSAGE_ROW (message_row), NULL, NULL);
  while ((extra = gtk_widget_get_next_sibling (message_row)) != NULL)
    {
      if (self->bound_transfers != NULL)
        g_ptr_array_remove_fast (self->bound_transfers, extra);
      gtk_box_remove (GTK_BOX (holder), extra);
    }
}

/* -------------------------------------------------------------------------
 * Search
 * ------------------------------------------------------------------------- */

static gboolean
find_position (SottoChatPage *self,
               gint64         id,
               guint         *position)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->timeline));

  for (guint i = n; i > 0; i--)
    {
      g_autoptr (GObject) item = g_list_model_get_item (G_LIST_MODEL (self->timeline), i - 1);
      SottoMessage *message = SOTTO_IS_MESSAGE (item) ? SOTTO_MESSAGE (item) : NULL;

      if (message == NULL)
        continue;
      if (sotto_message_get_id (message) == id)
        {
          *position = i - 1;
          return TRUE;
        }
      if (sotto_message_get_id (message) < id)
        break;
    }

  return FALSE;
}

/* Brings a message into view, loading older pages until it is there. */
static void
scroll_to_id (SottoChatPage *self,
              gint64         id)
{
  guint position = 0;

  if (find_position (self, id, &position))
    {
      self->pending_scroll_id = 0;
      gtk_single_selection_set_selected (self->selection, position);
      gtk_widget_activate_action (GTK_WIDGET (self->message_list), "list.scroll-to-item", "u",
                                  position);
      return;
    }

  self->pending_scroll_id = id;
  if (sotto_conversation_model_get_complete (self->model))
    self->pending_scroll_id = 0;  /* gone (retention) since it was found */
  else
    load_older (self);
}

/* "1 message could not be read", for @n > 0. */
static char *
dup_damaged_text (guint n)
{
  return g_strdup_printf (ngettext ("%u message could not be read",
                                    "%u messages could not be read", n), n);
}

static void
show_match (SottoChatPage *self)
{
  g_autofree char *count = NULL;
  g_autofree char *damaged = NULL;
  g_autofree char *text = NULL;

  if (self->search_damaged > 0)
    damaged = dup_damaged_text (self->search_damaged);

  if (self->matches->len == 0)
    {
      /* Translators: after "No results", e.g. "1 message could not be read". */
      text = damaged != NULL ? g_strdup_printf (_("No results; %s"), damaged) : NULL;
      gtk_label_set_label (self->search_count, text != NULL ? text : _("No results"));
      gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
      return;
    }

  /* Translators: "3 of 12" matches. */
  count = g_strdup_printf (_("%d of %u"), self->match + 1, self->matches->len);
  /* Translators: "3 of 12; 1 message could not be read". */
  text = damaged != NULL ? g_strdup_printf (_("%s; %s"), count, damaged) : NULL;
  gtk_label_set_label (self->search_count, text != NULL ? text : count);
  scroll_to_id (self, g_array_index (self->matches, gint64, self->match));
}

/* Rows of this conversation that no longer authenticate are left out of
 * it; the user is told how many, not shown what they now say. */
static void
on_model_damaged_cb (SottoChatPage *self)
{
  guint n = sotto_conversation_model_get_n_damaged (self->model);
  g_autofree char *text = NULL;

  if (n > 0)
    text = g_strdup_printf (ngettext ("%u message could not be read: its record on this "
                                      "computer was changed or is damaged, so it is not shown.",
                                      "%u messages could not be read: their records on this "
                                      "computer were changed or are damaged, so they are not "
                                      "shown.", n), n);
  gtk_label_set_label (self->damaged_label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->damaged_label), n > 0);
}

static void
on_search_matches_cb (SottoStore *store,
                      GPtrArray  *matches,
                      gpointer    user_data)
{
  SottoChatPage *self = user_data;

  /* Newest first from the store; kept oldest first, like the view. */
  for (guint i = 0; i < matches->len; i++)
    {
      gint64 id = sotto_message_get_id (g_ptr_array_index (matches, i));

      g_array_prepend_val (self->matches, id);
    }
}

static void
on_search_done_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr (SottoChatPage) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!sotto_store_search_finish_full (SOTTO_STORE (object), result, NULL,
                                       &self->search_damaged, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_label (self->search_count, error->message);
      return;
    }

  /* The newest match first, as people search for what was said lately. */
  self->match = (int)self->matches->len - 1;
  show_match (self);
}

static gboolean
search_now_cb (gpointer user_data)
{
  SottoChatPage *self = user_data;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  self->search_delay_id = 0;
  g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);
  g_array_set_size (self->matches, 0);
  self->match = -1;
  self->search_damaged = 0;

  if (text[0] == '\0')
    {
      gtk_label_set_label (self->search_count, "");
      gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
      return G_SOURCE_REMOVE;
    }

  self->search_cancellable = g_cancellable_new ();
  gtk_label_set_label (self->search_count, _("Searching…"));
  sotto_store_search_async (get_store (self), self->contact, text, on_search_matches_cb, self,
                            self->search_cancellable, on_search_done_cb, g_object_ref (self));
  return G_SOURCE_REMOVE;
}

static void
on_search_changed_cb (SottoChatPage  *self,
                      GtkSearchEntry *entry)
{
  g_clear_handle_id (&self->search_delay_id, g_source_remove);
  self->search_delay_id = g_timeout_add (SEARCH_DELAY_MS, search_now_cb, self);
}

static void
step_match (SottoChatPage *self,
            int            step)
{
  if (self->search_delay_id != 0)
    {
      g_clear_handle_id (&self->search_delay_id, g_source_remove);
      search_now_cb (self);
      return;
    }
  if (self->matches->len == 0)
    return;

  self->match = CLAMP (self->match + step, 0, (int)self->matches->len - 1);
  show_match (self);
}

static void
on_search_close_clicked_cb (SottoChatPage *self,
                            GtkButton     *button)
{
  gtk_search_bar_set_search_mode (self->search_bar, FALSE);
}

static void
on_search_next_cb (SottoChatPage  *self,
                   GtkSearchEntry *entry)
{
  step_match (self, 1);
}

static void
on_search_previous_cb (SottoChatPage  *self,
                       GtkSearchEntry *entry)
{
  step_match (self, -1);
}

static void
search_next_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  step_match (SOTTO_CHAT_PAGE (widget), 1);
}

static void
search_previous_activated (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  step_match (SOTTO_CHAT_PAGE (widget), -1);
}

/* -------------------------------------------------------------------------
 * Composing
 * ------------------------------------------------------------------------- */

static void
send_typing (SottoChatPage *self,
             gboolean       typing)
{
  if (get_service (self) != NULL)
    sotto_peer_service_send_typing (get_service (self), self->contact, typing);
}

static gboolean
typing_stopped_cb (gpointer user_data)
{
  SottoChatPage *self = user_data;

  self->typing_stop_id = 0;
  self->typing_sent_at = 0;
  send_typing (self, FALSE);
  return G_SOURCE_REMOVE;
}

static void
on_composer_changed_cb (GtkTextBuffer *buffer,
                        SottoChatPage *self)
{
  gint64 now = g_get_monotonic_time ();

  gtk_widget_set_visible (GTK_WIDGET (self->composer_error), FALSE);
  if (gtk_text_buffer_get_char_count (buffer) == 0)
    {
      if (self->typing_sent_at != 0)
        typing_stopped_cb (self);
      g_clear_handle_id (&self->typing_stop_id, g_source_remove);
      return;
    }

  /* The peer service sends nothing when send-typing is off. */
  if (self->typing_sent_at == 0 || now - self->typing_sent_at > TYPING_REPEAT_US)
    {
      self->typing_sent_at = now;
      send_typing (self, TRUE);
    }
  g_clear_handle_id (&self->typing_stop_id, g_source_remove);
  self->typing_stop_id = g_timeout_add (TYPING_STOP_MS, typing_stopped_cb, self);
}

static void
on_sent_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr (SottoChatPage) self = user_data;
  g_autoptr (SottoMessage) message = NULL;
  g_autoptr (GError) error = NULL;

  message = sotto_peer_service_send_finish (SOTTO_PEER_SERVICE (object), result, &error);
  if (message == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      gtk_label_set_label (self->composer_error, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->composer_error), TRUE);
    }
}

static void
send_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  SottoChatPage *self = SOTTO_CHAT_PAGE (widget);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer);
  GtkTextIter start;
  GtkTextIter end;
  g_autofree char *text = NULL;
  g_autofree char *body = NULL;
  g_autoptr (GError) error = NULL;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  /* Leading and trailing blank lines are not part of what was meant. */
  body = g_strstrip (g_strdup (text));
  if (body[0] == '\0')
    return;

  if (!sotto_message_body_validate (body, &error))
    {
      gtk_label_set_label (self->composer_error, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->composer_error), TRUE);
      return;
    }

  self->stick_to_bottom = TRUE;
  sotto_peer_service_send_async (get_service (self), self->contact, body, self->cancellable,
                                 on_sent_cb, g_object_ref (self));
  gtk_text_buffer_set_text (buffer, "", 0);
  g_clear_handle_id (&self->typing_stop_id, g_source_remove);
  self->typing_sent_at = 0;
}

static gboolean
on_composer_key_pressed_cb (GtkEventControllerKey *controller,
                            guint                  keyval,
                            guint                  keycode,
                            GdkModifierType        state,
                            SottoChatPage         *self)
{
  if ((keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter || keyval == GDK_KEY_ISO_Enter) &&
      (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK)) == 0)
    {
      gtk_widget_activate_action (GTK_WIDGET (self), "page.send", NULL);
      return TRUE;
    }

  return FALSE;
}

/* -------------------------------------------------------------------------
 * Trust
 * ------------------------------------------------------------------------- */

static void
verify_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  SottoChatPage *self = SOTTO_CHAT_PAGE (widget);

  g_signal_emit (self, signals[VERIFY_REQUESTED], 0, self->contact);
}

static void
show_trust_error (SottoChatPage *self,
                  const char    *detail)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog;

  dialog = gtk_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE,
                                   "%s", _("The new key could not be trusted"));
  gtk_window_set_title (GTK_WINDOW (dialog), _("The new key could not be trusted"));
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", detail);
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_window_destroy), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_trusted_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr (SottoChatPage) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!sotto_store_accept_contact_key_finish (SOTTO_STORE (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_trust_error (self, error->message);
}

/* The explicit alternative to verifying: the key the contact's address
 * now answers with replaces the old one, not verified, on the same
 * contact; the held messages go out to it. */
static void
trust_again_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  SottoChatPage *self = SOTTO_CHAT_PAGE (widget);
  const guint8 *offered = sotto_contact_get_offered_key (self->contact);

  if (offered == NULL)
    {
      const char *name = sotto_contact_get_name (self->contact);
      g_autofree char *detail = NULL;

      /* Translators: %s is a contact's name, three times. */
      detail = g_strdup_printf (_("Sotto did not keep the new key of %s. Ask %s for a new "
                                  "invite and add it: Sotto then offers to update %s."),
                                name, name, name);
      show_trust_error (self, detail);
      return;
    }

  sotto_store_accept_contact_key_async (get_store (self), self->contact, offered,
                                        SOTTO_VERIFICATION_UNVERIFIED, self->cancellable,
                                        on_trusted_cb, g_object_ref (self));
}

/* -------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------- */

/* -------------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------------- */

static void
show_composer_error (SottoChatPage *self,
                     const char    *message)
{
  gtk_label_set_label (self->composer_error, message);
  gtk_widget_set_visible (GTK_WIDGET (self->composer_error), TRUE);
}

static void
on_offered_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr (SottoChatPage) self = user_data;
  g_autoptr (SottoTransfer) transfer = NULL;
  g_autoptr (GError) error = NULL;

  transfer = sotto_file_transfer_offer_finish (SOTTO_FILE_TRANSFER (object), result, &error);
  if (transfer == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_composer_error (self, error->message);
}

static void
offer (SottoChatPage *self,
       const char    *path)
{
  gtk_widget_set_visible (GTK_WIDGET (self->composer_error), FALSE);
  sotto_file_transfer_offer_async (self->files, self->contact, path, self->cancellable,
                                   on_offered_cb, g_object_ref (self));
}

static void
on_program_response_cb (GtkDialog *dialog,
                        int        response,
                        gpointer   user_data)
{
  SottoChatPage *self = g_object_get_data (G_OBJECT (dialog), "sotto-page");
  const char *path = user_data;

  if (response == GTK_RESPONSE_ACCEPT && self != NULL)
    offer (self, path);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* A file about to be offered, while the guard reads it. */
typedef struct
{
  SottoChatPage *self;
  char          *path;
} Outgoing;

/* What the receiver will only be able to show in its folder, the sender
 * is asked about first; the guard reads the file in a thread. */
static void
on_outgoing_checked_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  Outgoing *outgoing = user_data;
  g_autoptr (SottoChatPage) self = outgoing->self;
  g_autofree char *path = outgoing->path;
  g_autoptr (SottoFileVerdict) verdict = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ask_sender = FALSE;
  GtkWidget *dialog;
  GtkWidget *send;

  g_free (outgoing);
  verdict = sotto_file_guard_check_outgoing_finish (result, &ask_sender, &error);
  if (verdict == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_composer_error (self, error->message);
      return;
    }
  if (!ask_sender)
    {
      offer (self, path);
      return;
    }

  dialog = gtk_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                   GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_WARNING, GTK_BUTTONS_NONE, "%s",
                                   _("Send a program?"));
  gtk_window_set_title (GTK_WINDOW (dialog), _("Send a program?"));
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
                                            _("“%s” is a program or could start one (%s). "
                                              "%s will only be able to show it in its folder. "
                                              "Send it only if they expect it."),
                                            verdict->shown_name, verdict->kind,
                                            sotto_contact_get_name (self->contact));
  gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
  send = gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Send Anyway"), GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class (send, "destructive-action");
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  g_object_set_data_full (G_OBJECT (dialog), "sotto-page", g_object_ref (self), g_object_unref);
  g_signal_connect_data (dialog, "response", G_CALLBACK (on_program_response_cb),
                         g_steal_pointer (&path), (GClosureNotify)(void (*) (void))g_free, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
offer_after_asking (SottoChatPage *self,
                    const char    *path)
{
  Outgoing *outgoing = g_new0 (Outgoing, 1);

  outgoing->self = g_object_ref (self);
  outgoing->path = g_strdup (path);
  sotto_file_guard_check_outgoing_async (path, self->cancellable, on_outgoing_checked_cb,
                                         outgoing);
}

static void
offer_files (SottoChatPage *self,
             GSList        *files)
{
  for (GSList *l = files; l != NULL; l = l->next)
    {
      g_autofree char *path = g_file_get_path (l->data);

      if (path == NULL)
        {
          show_composer_error (self, _("Only files on this computer can be sent"));
          continue;
        }
      offer_after_asking (self, path);
    }
}

static gboolean
on_drop_cb (GtkDropTarget *target,
            const GValue  *value,
            double         x,
            double         y,
            SottoChatPage *self)
{
  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  offer_files (self, g_value_get_boxed (value));
  return TRUE;
}

static void
on_chooser_response_cb (GtkNativeDialog *chooser,
                        int              response,
                        SottoChatPage   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GListModel) chosen = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (chooser));
      g_autoptr (GSList) files = NULL;

      for (guint i = g_list_model_get_n_items (chosen); i-- > 0;)
        files = g_slist_prepend (files, g_list_model_get_item (chosen, i));
      offer_files (self, files);
      g_slist_free_full (g_steal_pointer (&files), g_object_unref);
    }
  g_object_unref (chooser);
  g_object_unref (self);
}

static void
attach_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  SottoChatPage *self = SOTTO_CHAT_PAGE (widget);
  GtkFileChooserNative *chooser;
  g_autofree char *title = g_strdup_printf (_("Send a File to %s"),
                                            sotto_contact_get_name (self->contact));

  chooser = gtk_file_chooser_native_new (title,
                                         GTK_WINDOW (gtk_widget_get_root (widget)),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Send"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* A pasted picture is sent as a PNG file, after the user saw it and said
 * so: a screenshot is pasted in a moment, and may show more than meant. */
static void
on_picture_response_cb (GtkDialog *dialog,
                        int        response,
                        gpointer   user_data)
{
  SottoChatPage *self = g_object_get_data (G_OBJECT (dialog), "sotto-page");
  GdkTexture *texture = user_data;

  if (response == GTK_RESPONSE_ACCEPT && self != NULL)
    {
      g_autoptr (GBytes) png = gdk_texture_save_to_png_bytes (texture);
      g_autoptr (GDateTime) now = g_date_time_new_now_local ();
      g_autofree char *when = g_date_time_format (now, "%Y-%m-%d %H.%M.%S");
      /* Translators: the name a pasted picture is sent under; %s is the
       * date and time, "2026-12-07 10.00.00". Keep it a valid file name. */
      g_autofree char *name = g_strdup_printf (_("Pasted picture %s.png"), when);

      gtk_widget_set_visible (GTK_WIDGET (self->composer_error), FALSE);
      sotto_file_transfer_offer_data_async (self->files, self->contact, name, png,
                                            self->cancellable, on_offered_cb,
                                            g_object_ref (self));
    }
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
ask_to_send_picture (SottoChatPage *self,
                     GdkTexture    *texture)
{
  GtkWidget *dialog;
  GtkWidget *picture;
  GtkWidget *send;

  dialog = gtk_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                   GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s",
                                   _("Send the pasted picture?"));
  gtk_window_set_title (GTK_WINDOW (dialog), _("Send the pasted picture?"));
  /* Translators: "Bea will get it as a PNG file of 1920 × 1080 pixels." */
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
                                            _("%s will get it as a PNG file of %d × %d pixels. "
                                              "Check that it shows only what you mean to send."),
                                            sotto_contact_get_name (self->contact),
                                            gdk_texture_get_width (texture),
                                            gdk_texture_get_height (texture));
  /* Scaled to fit a square, whatever the picture's size. */
  picture = gtk_image_new_from_paintable (GDK_PAINTABLE (texture));
  gtk_image_set_pixel_size (GTK_IMAGE (picture), 240);
  gtk_accessible_update_property (GTK_ACCESSIBLE (picture), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("The pasted picture"), -1);
  gtk_box_append (GTK_BOX (gtk_message_dialog_get_message_area (GTK_MESSAGE_DIALOG (dialog))),
                  picture);
  gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
  send = gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Send"), GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class (send, "suggested-action");
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  g_object_set_data_full (G_OBJECT (dialog), "sotto-page", g_object_ref (self), g_object_unref);
  g_signal_connect_data (dialog, "response", G_CALLBACK (on_picture_response_cb),
                         g_object_ref (texture), (GClosureNotify)(void (*) (void))g_object_unref, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_texture_read_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr (SottoChatPage) self = user_data;
  g_autoptr (GdkTexture) texture = NULL;
  g_autoptr (GError) error = NULL;

  texture = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (object), result, &error);
  if (texture == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *message = g_strdup_printf (_("The pasted picture can’t be read: %s"),
                                                      error->message);

          show_composer_error (self, message);
        }
      return;
    }
  ask_to_send_picture (self, texture);
}

/* Text pastes as text; a clipboard that holds a picture and no text (a
 * screenshot, "Copy Image") offers the picture as a file. */
static void
on_composer_paste_cb (GtkTextView   *view,
                      SottoChatPage *self)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (view));
  g_autoptr (GdkContentFormats) formats = NULL;

  formats = gdk_content_formats_union_deserialize_gtypes (
    gdk_content_formats_ref (gdk_clipboard_get_formats (clipboard)));
  if (!gdk_content_formats_contain_gtype (formats, GDK_TYPE_TEXTURE) ||
      gdk_content_formats_contain_gtype (formats, G_TYPE_STRING))
    return;
  g_signal_stop_emission_by_name (view, "paste-clipboard");
  if (!gtk_widget_is_sensitive (self->composer_box))
    return;
  gdk_clipboard_read_texture_async (clipboard, self->cancellable, on_texture_read_cb,
                                    g_object_ref (self));
}

static void
sotto_chat_page_dispose (GObject *object)
{
  SottoChatPage *self = (SottoChatPage *)object;

  if (self->typing_sent_at != 0 && self->contact != NULL)
    send_typing (self, FALSE);
  g_clear_handle_id (&self->typing_stop_id, g_source_remove);
  g_clear_handle_id (&self->search_delay_id, g_source_remove);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->search_cancellable != NULL)
    g_cancellable_cancel (self->search_cancellable);
  if (self->roster_item != NULL)
    g_signal_handlers_disconnect_by_func (self->roster_item, on_roster_item_notify_cb, self);
  if (self->contact != NULL)
    g_signal_handlers_disconnect_by_func (self->contact, on_contact_notify_cb, self);
  if (self->timeline != NULL)
    g_signal_handlers_disconnect_by_func (self->timeline, on_model_items_changed_cb, self);

  gtk_widget_dispose_template (GTK_WIDGET (self), SOTTO_TYPE_CHAT_PAGE);

  /* The notebook may hold the tab a while longer: it must not call back. */
  if (self->tab_label != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->tab_label, on_tab_label_parent_cb, self);
      g_signal_handlers_disconnect_by_func (self->tab_close, on_tab_close_clicked_cb, self);
    }
  self->tab_close = NULL;
  g_clear_object (&self->tab_label);
  g_clear_object (&self->selection);
  g_clear_object (&self->timeline);
  g_clear_object (&self->model);
  g_clear_pointer (&self->bound_transfers, g_ptr_array_unref);
  g_clear_object (&self->roster_item);
  g_clear_object (&self->contact);
  g_clear_object (&self->files);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->search_cancellable);
  g_clear_object (&self->context);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sotto_chat_page_parent_class)->dispose (object);
}

static void
sotto_chat_page_finalize (GObject *object)
{
  SottoChatPage *self = (SottoChatPage *)object;

  g_clear_pointer (&self->matches, g_array_unref);

  G_OBJECT_CLASS (sotto_chat_page_parent_class)->finalize (object);
}

static void
sotto_chat_page_class_init (SottoChatPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sotto_chat_page_dispose;
  object_class->finalize = sotto_chat_page_finalize;

  /**
   * SottoChatPage::close-requested:
   *
   * The tab's close button was clicked.
   */
  signals[CLOSE_REQUESTED] =
    g_signal_new ("close-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * SottoChatPage::verify-requested:
   * @contact: the contact to verify
   *
   * The user asked to compare safety numbers with @contact: whoever owns
   * the verify dialog shows it.
   */
  signals[VERIFY_REQUESTED] =
    g_signal_new ("verify-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, SOTTO_TYPE_CONTACT);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PATH "/sotto-chat-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, main_box);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, name_label);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, verify_button);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, key_banner);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, key_banner_label);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, policy_banner);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, policy_banner_label);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, search_bar);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, search_count);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, scroller);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, message_list);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, typing_label);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, damaged_label);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, composer_error);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, composer_box);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, attach_button);
  gtk_widget_class_bind_template_child (widget_class, SottoChatPage, composer);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_next_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_close_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_previous_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_edge_reached_cb);

  gtk_widget_class_install_action (widget_class, "page.send", NULL, send_activated);
  gtk_widget_class_install_action (widget_class, "page.attach", NULL, attach_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "page.attach", NULL);
  gtk_widget_class_install_action (widget_class, "page.verify", NULL, verify_activated);
  gtk_widget_class_install_action (widget_class, "page.trust-again", NULL, trust_again_activated);
  gtk_widget_class_install_action (widget_class, "page.search-next", NULL, search_next_activated);
  gtk_widget_class_install_action (widget_class, "page.search-previous", NULL,
                                   search_previous_activated);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
sotto_chat_page_init (SottoChatPage *self)
{
  GtkEventController *keys;
  GtkDropTarget *drop;

  self->cancellable = g_cancellable_new ();
  self->bound_transfers = g_ptr_array_new ();
  self->matches = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->match = -1;
  self->stick_to_bottom = TRUE;

  gtk_widget_init_template (GTK_WIDGET (self));

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_composer_key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->composer), keys);

  g_signal_connect (gtk_text_view_get_buffer (self->composer), "changed",
                    G_CALLBACK (on_composer_changed_cb), self);
  g_signal_connect (self->composer, "paste-clipboard", G_CALLBACK (on_composer_paste_cb), self);
  g_signal_connect (gtk_scrolled_window_get_vadjustment (self->scroller), "value-changed",
                    G_CALLBACK (on_value_changed_cb), self);
  gtk_search_bar_connect_entry (self->search_bar, GTK_EDITABLE (self->search_entry));

  /* Files dropped on the chat are offered, after the same questions as
   * the attach button's. */
  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
}

static GtkWidget *
tab_label_new (SottoChatPage *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *close = gtk_button_new_from_icon_name ("window-close-symbolic");

  self->tab_name = gtk_label_new (NULL);
  gtk_label_set_ellipsize (GTK_LABEL (self->tab_name), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (GTK_LABEL (self->tab_name), 20);
  gtk_box_append (GTK_BOX (box), self->tab_name);

  gtk_widget_add_css_class (close, "flat");
  gtk_widget_add_css_class (close, "tab-close");
  self->tab_close = close;
  g_signal_connect (close, "clicked", G_CALLBACK (on_tab_close_clicked_cb), self);
  gtk_box_append (GTK_BOX (box), close);
  g_signal_connect (box, "notify::parent", G_CALLBACK (on_tab_label_parent_cb), self);

  return g_object_ref_sink (box);
}

/**
 * sotto_chat_page_new:
 * @roster: (nullable): the contact list's model, for presence and unread
 *   counts
 *
 * Returns: (transfer floating): a new page
 */
SottoChatPage *
sotto_chat_page_new (SottoContext *context,
                     GSettings    *settings,
                     SottoRoster  *roster,
                     SottoContact *contact)
{
  g_autoptr (GtkListItemFactory) factory = NULL;
  SottoChatPage *self;

  g_return_val_if_fail (SOTTO_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (roster == NULL || SOTTO_IS_ROSTER (roster), NULL);
  g_return_val_if_fail (SOTTO_IS_CONTACT (contact), NULL);

  self = g_object_new (SOTTO_TYPE_CHAT_PAGE, NULL);
  self->context = g_object_ref (context);
  self->settings = g_object_ref (settings);
  /* What the policy allows here can change while the chat is open. */
  g_signal_connect_object (settings, "changed::require-verified-contacts",
                           G_CALLBACK (update_header), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (settings, "changed::file-transfer-enabled",
                           G_CALLBACK (update_header), self, G_CONNECT_SWAPPED);
  self->contact = g_object_ref (contact);

  if (roster != NULL)
    {
      GObject *item = (GObject *)sotto_roster_find (roster, sotto_contact_get_id (contact));

      if (item != NULL)
        {
          self->roster_item = g_object_ref (item);
          g_signal_connect (item, "notify", G_CALLBACK (on_roster_item_notify_cb), self);
        }
    }
  g_signal_connect (contact, "notify", G_CALLBACK (on_contact_notify_cb), self);

  self->files = g_object_ref (sotto_peer_service_get_files (sotto_context_get_peer_service (context)));
  self->model = sotto_conversation_model_new (sotto_context_get_store (context), contact);
  self->timeline = sotto_timeline_new (self->model, self->files);
  g_signal_connect (self->timeline, "items-changed", G_CALLBACK (on_model_items_changed_cb), self);
  g_signal_connect_object (self->model, "notify::n-damaged", G_CALLBACK (on_model_damaged_cb),
                           self, G_CONNECT_SWAPPED);
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->timeline)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (on_setup_row_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (on_bind_row_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (on_unbind_row_cb), self);
  gtk_list_view_set_factory (self->message_list, factory);
  gtk_list_view_set_model (self->message_list, GTK_SELECTION_MODEL (self->selection));

  self->tab_label = tab_label_new (self);
  update_header (self);

  return self;
}

SottoContact *
sotto_chat_page_get_contact (SottoChatPage *self)
{
  g_return_val_if_fail (SOTTO_IS_CHAT_PAGE (self), NULL);

  return self->contact;
}

/**
 * sotto_chat_page_get_tab_label:
 *
 * Returns: (transfer none): the widget for the notebook tab
 */
GtkWidget *
sotto_chat_page_get_tab_label (SottoChatPage *self)
{
  g_return_val_if_fail (SOTTO_IS_CHAT_PAGE (self), NULL);

  return self->tab_label;
}

/**
 * sotto_chat_page_set_shown:
 * @shown: whether the user can see the conversation now (its tab is in
 *   front, in the focused window)
 *
 * A shown conversation is read as it arrives.
 */
void
sotto_chat_page_set_shown (SottoChatPage *self,
                           gboolean       shown)
{
  g_return_if_fail (SOTTO_IS_CHAT_PAGE (self));

  if (self->shown == shown)
    return;
  self->shown = shown;
  update_header (self);
  mark_read (self);
}

void
sotto_chat_page_focus_composer (SottoChatPage *self)
{
  g_return_if_fail (SOTTO_IS_CHAT_PAGE (self));

  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

void
sotto_chat_page_start_search (SottoChatPage *self)
{
  g_return_if_fail (SOTTO_IS_CHAT_PAGE (self));

  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}
