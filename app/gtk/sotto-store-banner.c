/* sotto-store-banner.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A banner that says, while it is so, that Sotto can't write to the
 * profile's history (a full disk, a file made read-only): colleagues'
 * messages then wait on their computers, and what the user sends can't be
 * queued. It follows SottoStore:write-error, which the store clears by
 * itself once a write works again; there is nothing to click.
 */
#define G_LOG_DOMAIN "sotto-store-banner"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-store-banner.h"

struct _SottoStoreBanner
{
  GtkWidget     parent_instance;

  /* children */
  GtkWidget    *revealer;
  GtkLabel     *label;

  /* owned references */
  SottoContext *context;
  SottoStore   *store;      /* the one watched */
};

G_DEFINE_FINAL_TYPE (SottoStoreBanner, sotto_store_banner, GTK_TYPE_WIDGET)

static void
update (SottoStoreBanner *self)
{
  const GError *problem = self->store != NULL ? sotto_store_get_write_error (self->store) : NULL;
  g_autofree char *text = NULL;

  g_assert (SOTTO_IS_STORE_BANNER (self));

  if (problem != NULL)
    {
      /* Translators: %s says why, e.g. "The disk is full". */
      text = g_strdup_printf (_("Sotto can’t save to this computer: %s. Colleagues’ messages "
                                "wait on their computers until there is space again, and "
                                "yours can’t be sent. Sotto keeps trying by itself."),
                              problem->message);
      gtk_label_set_label (self->label, text);
    }
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->revealer), problem != NULL);
}

static void
on_write_error_cb (SottoStoreBanner *self)
{
  update (self);
}

static void
watch_store (SottoStoreBanner *self)
{
  SottoStore *store = sotto_context_get_store (self->context);

  g_assert (SOTTO_IS_STORE_BANNER (self));

  if (store == self->store)
    return;
  if (self->store != NULL)
    g_signal_handlers_disconnect_by_func (self->store, on_write_error_cb, self);
  g_set_object (&self->store, store);
  if (store != NULL)
    g_signal_connect_object (store, "notify::write-error", G_CALLBACK (on_write_error_cb),
                             self, G_CONNECT_SWAPPED);
  update (self);
}

static void
sotto_store_banner_dispose (GObject *object)
{
  SottoStoreBanner *self = (SottoStoreBanner *)object;

  g_clear_pointer (&self->revealer, gtk_widget_unparent);
  if (self->store != NULL)
    g_signal_handlers_disconnect_by_func (self->store, on_write_error_cb, self);
  g_clear_object (&self->store);
  g_clear_object (&self->context);

  G_OBJECT_CLASS (sotto_store_banner_parent_class)->dispose (object);
}

static void
sotto_store_banner_class_init (SottoStoreBannerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sotto_store_banner_dispose;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "storebanner");
}

static void
sotto_store_banner_init (SottoStoreBanner *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *icon = gtk_image_new_from_icon_name ("drive-harddisk-symbolic");
  GtkWidget *label = gtk_label_new (NULL);

  gtk_widget_add_css_class (box, "banner");
  gtk_widget_add_css_class (box, "error");
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), label);

  /* At least a button's height, like the port banner: the one line of a
   * wrapping label measures a pixel taller at an unbounded width in GTK
   * 4.8 (curly quotes come from a fallback font), which GTK reports as a
   * broken height-for-width in a critical warning. */
  gtk_widget_set_size_request (box, -1, 36);

  self->revealer = gtk_revealer_new ();
  gtk_revealer_set_child (GTK_REVEALER (self->revealer), box);
  gtk_widget_set_parent (self->revealer, GTK_WIDGET (self));
  self->label = GTK_LABEL (label);
}

/**
 * sotto_store_banner_new:
 * @context: the profile's context; its store may come later
 *
 * Returns: (transfer floating): a banner, hidden while writing works
 */
GtkWidget *
sotto_store_banner_new (SottoContext *context)
{
  SottoStoreBanner *self;

  g_return_val_if_fail (SOTTO_IS_CONTEXT (context), NULL);

  self = g_object_new (SOTTO_TYPE_STORE_BANNER, NULL);
  self->context = g_object_ref (context);
  g_signal_connect_object (context, "notify::store", G_CALLBACK (watch_store), self,
                           G_CONNECT_SWAPPED);
  watch_store (self);

  return GTK_WIDGET (self);
}
