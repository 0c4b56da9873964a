/* sotto-security-log-view.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The security log (sotto-store-log.c), newest first, one sentence per
 * entry with when it happened: what Sotto refused or flagged on this
 * computer. Listed again when the store says it changed, at most twice a
 * second: a flood of refused connections must not keep the view busy.
 */
#define G_LOG_DOMAIN "sotto-security-log-view"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-security-log-view.h"

/* While the log keeps changing, it is listed again at most this often. */
#define RELOAD_DELAY_MS 500

struct _SottoSecurityLogView
{
  GtkWidget     parent_instance;

  /* children */
  GtkWidget    *box;
  GtkListBox   *list;
  GtkLabel     *damaged_label;

  /* owned references */
  SottoStore   *store;
  GCancellable *cancellable;

  guint         reload_source;
  gboolean      loading;
  gboolean      stale;          /* changed while loading or unmapped */
};

G_DEFINE_FINAL_TYPE (SottoSecurityLogView, sotto_security_log_view, GTK_TYPE_WIDGET)

static void load (SottoSecurityLogView *self);

/* "Today 10:42", or "Monday 09:10 – 11:15" for an entry that summarises
 * a while. */
static char *
format_when (const SottoSecurityLogEntry *entry,
             gint64                       now)
{
  g_autofree char *day = sotto_time_format_day (entry->last, now);
  g_autofree char *last = sotto_time_format_clock (entry->last);
  g_autofree char *first = NULL;
  g_autofree char *first_day = NULL;

  if (entry->count < 2 || entry->last - entry->first < 60 * G_USEC_PER_SEC)
    /* Translators: a day and a time: "Today 10:42" */
    return g_strdup_printf (C_("log time", "%s %s"), day, last);

  first = sotto_time_format_clock (entry->first);
  if (sotto_time_same_day (entry->first, entry->last))
    /* Translators: a day and two times: "Today 10:42 – 11:15" */
    return g_strdup_printf (C_("log time", "%s %s – %s"), day, first, last);
  first_day = sotto_time_format_day (entry->first, now);
  /* Translators: two days and times: "Monday 23:10 – Tuesday 01:15" */
  return g_strdup_printf (C_("log time", "%s %s – %s %s"), first_day, first, day, last);
}

static GtkWidget *
make_row (const SottoSecurityLogEntry *entry,
          gint64                       now)
{
  g_autofree char *text = sotto_security_log_entry_describe (entry);
  g_autofree char *when = format_when (entry, now);
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *label = gtk_label_new (text);
  GtkWidget *caption = gtk_label_new (when);

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (caption), 0);
  gtk_widget_add_css_class (caption, "dim-label");
  gtk_widget_add_css_class (caption, "caption");
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), caption);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, text,
                                  -1);
  return row;
}

static void
on_listed_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr (SottoSecurityLogView) self = user_data;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  GtkWidget *child;
  guint damaged = 0;
  gint64 now = g_get_real_time ();

  entries = sotto_store_list_security_log_finish (SOTTO_STORE (object), result, &damaged, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->loading = FALSE;
  if (entries == NULL)
    {
      g_warning ("The security log could not be read: %s", error->message);
      return;
    }

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  for (guint i = 0; i < entries->len; i++)
    gtk_list_box_append (self->list, make_row (g_ptr_array_index (entries, i), now));

  if (damaged > 0)
    {
      g_autofree char *text =
        g_strdup_printf (ngettext ("%u entry could not be read: it was changed behind Sotto’s "
                                   "back or damaged",
                                   "%u entries could not be read: they were changed behind "
                                   "Sotto’s back or damaged", damaged),
                         damaged);

      gtk_label_set_label (self->damaged_label, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->damaged_label), damaged > 0);

  if (self->stale)
    load (self);
}

static void
load (SottoSecurityLogView *self)
{
  g_assert (SOTTO_IS_SECURITY_LOG_VIEW (self));

  if (self->store == NULL)
    return;
  if (self->loading || !gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      self->stale = TRUE;
      return;
    }
  self->stale = FALSE;
  self->loading = TRUE;
  sotto_store_list_security_log_async (self->store, SOTTO_SECURITY_LOG_PAGE, self->cancellable,
                                       on_listed_cb, g_object_ref (self));
}

static gboolean
on_reload_cb (gpointer user_data)
{
  SottoSecurityLogView *self = user_data;

  self->reload_source = 0;
  load (self);
  return G_SOURCE_REMOVE;
}

static void
on_log_changed_cb (SottoSecurityLogView *self)
{
  if (self->reload_source == 0)
    self->reload_source = g_timeout_add (RELOAD_DELAY_MS, on_reload_cb, self);
}

static void
sotto_security_log_view_map (GtkWidget *widget)
{
  SottoSecurityLogView *self = SOTTO_SECURITY_LOG_VIEW (widget);

  GTK_WIDGET_CLASS (sotto_security_log_view_parent_class)->map (widget);

  /* Listed each time it is shown, and kept current while it is. */
  load (self);
}

static void
sotto_security_log_view_dispose (GObject *object)
{
  SottoSecurityLogView *self = (SottoSecurityLogView *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->reload_source, g_source_remove);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->store);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (sotto_security_log_view_parent_class)->dispose (object);
}

static void
sotto_security_log_view_class_init (SottoSecurityLogViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sotto_security_log_view_dispose;
  widget_class->map = sotto_security_log_view_map;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
sotto_security_log_view_init (SottoSecurityLogView *self)
{
  GtkWidget *intro;
  GtkWidget *scrolled;
  GtkWidget *placeholder;

  self->cancellable = g_cancellable_new ();

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (self->box, 18);
  gtk_widget_set_margin_bottom (self->box, 18);
  gtk_widget_set_margin_start (self->box, 18);
  gtk_widget_set_margin_end (self->box, 18);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  intro = gtk_label_new (_("What Sotto refused or flagged on this computer: connections it "
                           "turned away, blocked contacts that called, changed keys, files it "
                           "warned about and what the policy did not allow. Kept for as many "
                           "days as your history, at most 2,000 entries."));
  gtk_label_set_wrap (GTK_LABEL (intro), TRUE);
  gtk_label_set_xalign (GTK_LABEL (intro), 0);
  gtk_widget_add_css_class (intro, "dim-label");
  gtk_box_append (GTK_BOX (self->box), intro);

  self->damaged_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->damaged_label, TRUE);
  gtk_label_set_xalign (self->damaged_label, 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->damaged_label), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->damaged_label), FALSE);
  gtk_box_append (GTK_BOX (self->box), GTK_WIDGET (self->damaged_label));

  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  gtk_list_box_set_show_separators (self->list, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "rich-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Security log"), -1);
  placeholder = gtk_label_new (_("Nothing was refused or flagged."));
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 24);
  gtk_widget_set_margin_bottom (placeholder, 24);
  gtk_list_box_set_placeholder (self->list, placeholder);

  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_has_frame (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->list));
  gtk_box_append (GTK_BOX (self->box), scrolled);
}

/**
 * sotto_security_log_view_new:
 * @store: the open profile's store
 *
 * Returns: (transfer full): a view of @store's security log
 */
GtkWidget *
sotto_security_log_view_new (SottoStore *store)
{
  SottoSecurityLogView *self;

  g_return_val_if_fail (SOTTO_IS_STORE (store), NULL);

  self = g_object_new (SOTTO_TYPE_SECURITY_LOG_VIEW, NULL);
  self->store = g_object_ref (store);
  g_signal_connect_object (store, "security-log-changed", G_CALLBACK (on_log_changed_cb), self,
                           G_CONNECT_SWAPPED);
  return GTK_WIDGET (self);
}
