/* sotto-nearby-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Someone LAN discovery sees who is not a contact. Nothing in the row is
 * proven: the name is the stranger's own claim, shown as plain text, and
 * the fingerprint prefix is what the service published, for a person to
 * compare. "Add…" only asks to look at the key behind it; the window's
 * dialog shows the whole fingerprint before anything is added.
 */
#define G_LOG_DOMAIN "sotto-nearby-row"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-core.h"
#include "sotto-nearby-row.h"

struct _SottoNearbyRow
{
  GtkListBoxRow  parent_instance;

  /* template widgets */
  GtkLabel      *name_label;
  GtkLabel      *fingerprint_label;
  GtkButton     *add_button;

  /* owned references */
  SottoNearby   *nearby;
};

G_DEFINE_FINAL_TYPE (SottoNearbyRow, sotto_nearby_row, GTK_TYPE_LIST_BOX_ROW)

enum {
  PROP_0,
  PROP_NEARBY,
  N_PROPS
};

enum {
  ADD_REQUESTED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* The published name as a window may show it, or NULL. */
static char *
dup_shown_name (SottoNearbyRow *self)
{
  const char *name = sotto_nearby_get_name (self->nearby);

  return name != NULL ? sotto_display_text (name, TRUE) : NULL;
}

static void
update (SottoNearbyRow *self)
{
  g_autofree char *name = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *isolated = NULL;
  g_autofree char *caption = NULL;
  g_autofree char *row_name = NULL;
  g_autofree char *button_name = NULL;

  g_assert (SOTTO_IS_NEARBY_ROW (self));

  name = dup_shown_name (self);
  fingerprint = sotto_nearby_dup_fingerprint (self->nearby);

  gtk_label_set_text (self->name_label, name != NULL ? name : _("Someone nearby"));
  /* The digits stay left to right in a right-to-left sentence, and on
   * one line (no-break spaces), to be read together. */
  {
    g_auto (GStrv) groups = g_strsplit (fingerprint, " ", -1);
    g_autofree char *unbroken = g_strjoinv ("\u00a0", groups);

    isolated = g_strdup_printf ("\u2066%s\u2069", unbroken);
  }
  /* Translators: under a name in the list of people nearby. %s is the
   * start of their fingerprint: three groups of five digits. */
  caption = g_strdup_printf (_("Fingerprint starts with %s"), isolated);
  gtk_label_set_text (self->fingerprint_label, caption);

  if (name != NULL)
    {
      /* Translators: how a screen reader names a row of the people nearby:
       * their published name, then the start of their fingerprint. */
      row_name = g_strdup_printf (_("%s, nearby, fingerprint starts with %s"), name, fingerprint);
      /* Translators: the accessible name of a nearby person's Add button. */
      button_name = g_strdup_printf (_("Add %s as a contact"), name);
    }
  else
    {
      row_name = g_strdup_printf (_("Someone nearby, fingerprint starts with %s"), fingerprint);
      button_name = g_strdup_printf (_("Add someone nearby as a contact, fingerprint starts "
                                       "with %s"), fingerprint);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  row_name, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->add_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, button_name, -1);
}

static void
on_name_changed_cb (SottoNearbyRow *self)
{
  update (self);
}

static void
on_add_clicked_cb (SottoNearbyRow *self,
                   GtkButton      *button)
{
  g_signal_emit (self, signals[ADD_REQUESTED], 0);
}

static void
sotto_nearby_row_constructed (GObject *object)
{
  SottoNearbyRow *self = (SottoNearbyRow *)object;

  G_OBJECT_CLASS (sotto_nearby_row_parent_class)->constructed (object);

  g_assert (SOTTO_IS_NEARBY (self->nearby));

  /* A name published later, or taken back, shows at once. */
  g_signal_connect_object (self->nearby, "notify::name", G_CALLBACK (on_name_changed_cb), self,
                           G_CONNECT_SWAPPED);
  update (self);
}

static void
sotto_nearby_row_dispose (GObject *object)
{
  SottoNearbyRow *self = (SottoNearbyRow *)object;

  gtk_widget_dispose_template (GTK_WIDGET (self), SOTTO_TYPE_NEARBY_ROW);
  g_clear_object (&self->nearby);

  G_OBJECT_CLASS (sotto_nearby_row_parent_class)->dispose (object);
}

static void
sotto_nearby_row_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  SottoNearbyRow *self = SOTTO_NEARBY_ROW (object);

  switch (prop_id)
    {
    case PROP_NEARBY:
      g_value_set_object (value, self->nearby);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_nearby_row_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  SottoNearbyRow *self = SOTTO_NEARBY_ROW (object);

  switch (prop_id)
    {
    case PROP_NEARBY:
      self->nearby = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_nearby_row_class_init (SottoNearbyRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = sotto_nearby_row_constructed;
  object_class->dispose = sotto_nearby_row_dispose;
  object_class->get_property = sotto_nearby_row_get_property;
  object_class->set_property = sotto_nearby_row_set_property;

  properties[PROP_NEARBY] =
    g_param_spec_object ("nearby", NULL, NULL,
                         SOTTO_TYPE_NEARBY,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SottoNearbyRow::add-requested:
   *
   * The user pressed "Add…": the owner shows the key behind the service,
   * to compare before anything is added.
   */
  signals[ADD_REQUESTED] =
    g_signal_new ("add-requested",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PATH "/sotto-nearby-row.ui");
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyRow, fingerprint_label);
  gtk_widget_class_bind_template_child (widget_class, SottoNearbyRow, add_button);
  gtk_widget_class_bind_template_callback (widget_class, on_add_clicked_cb);
}

static void
sotto_nearby_row_init (SottoNearbyRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * sotto_nearby_row_new:
 * @nearby: a service LAN discovery saw
 *
 * Returns: (transfer floating): a row that follows @nearby's name
 */
GtkWidget *
sotto_nearby_row_new (SottoNearby *nearby)
{
  g_return_val_if_fail (SOTTO_IS_NEARBY (nearby), NULL);

  return g_object_new (SOTTO_TYPE_NEARBY_ROW, "nearby", nearby, NULL);
}

SottoNearby *
sotto_nearby_row_get_nearby (SottoNearbyRow *self)
{
  g_return_val_if_fail (SOTTO_IS_NEARBY_ROW (self), NULL);

  return self->nearby;
}

/**
 * sotto_nearby_row_set_add_refusal:
 * @refusal: (nullable): why no contact may be added (the policy's
 *   words), or %NULL
 *
 * Greys out "Add…" and says why, on the button and to screen readers.
 */
void
sotto_nearby_row_set_add_refusal (SottoNearbyRow *self,
                                  const char     *refusal)
{
  g_return_if_fail (SOTTO_IS_NEARBY_ROW (self));

  gtk_widget_set_sensitive (GTK_WIDGET (self->add_button), refusal == NULL);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->add_button), refusal);
  if (refusal == NULL)
    gtk_accessible_reset_property (GTK_ACCESSIBLE (self->add_button),
                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
  else
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->add_button),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, refusal, -1);
}
