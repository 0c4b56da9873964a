/* sotto-qr-code.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Draws a SottoQr matrix: a whole number of pixels per module, so no edge
 * is ever blurred by scaling, centred in whatever size the widget is
 * given, on white even in a dark style — readers want dark on light.
 */
#define G_LOG_DOMAIN "sotto-qr-code"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-qr-code.h"

/* Pixels per module asked for when there is room, and the least that is
 * still readable from a screen. */
#define NATURAL_MODULE_PX 5
#define MINIMUM_MODULE_PX 2

struct _SottoQrCode
{
  GtkWidget  parent_instance;

  /* owned references */
  SottoQr   *qr;
};

G_DEFINE_FINAL_TYPE (SottoQrCode, sotto_qr_code, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GtkSizeRequestMode
sotto_qr_code_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_CONSTANT_SIZE;
}

static void
sotto_qr_code_measure (GtkWidget      *widget,
                       GtkOrientation  orientation,
                       int             for_size,
                       int            *minimum,
                       int            *natural,
                       int            *minimum_baseline,
                       int            *natural_baseline)
{
  SottoQrCode *self = SOTTO_QR_CODE (widget);
  int modules = self->qr != NULL ? (int)sotto_qr_get_size (self->qr) : 0;

  *minimum = modules * MINIMUM_MODULE_PX;
  *natural = modules * NATURAL_MODULE_PX;
}

static void
sotto_qr_code_snapshot (GtkWidget   *widget,
                        GtkSnapshot *snapshot)
{
  SottoQrCode *self = SOTTO_QR_CODE (widget);
  static const GdkRGBA light = { 1.0f, 1.0f, 1.0f, 1.0f };
  static const GdkRGBA dark = { 0.0f, 0.0f, 0.0f, 1.0f };
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  int modules;
  int module_px;
  int side;
  int x0;
  int y0;

  if (self->qr == NULL)
    return;

  modules = (int)sotto_qr_get_size (self->qr);
  module_px = MAX (1, MIN (width, height) / modules);
  side = modules * module_px;
  x0 = (width - side) / 2;
  y0 = (height - side) / 2;

  /* The quiet zone is part of the matrix: white all the way round. */
  gtk_snapshot_append_color (snapshot, &light, &GRAPHENE_RECT_INIT (x0, y0, side, side));

  /* One rectangle per run of dark modules in a row: a few hundred nodes
   * for the largest symbol instead of one per module. */
  for (int y = 0; y < modules; y++)
    {
      int x = 0;

      while (x < modules)
        {
          int start;

          if (!sotto_qr_get_module (self->qr, x, y))
            {
              x++;
              continue;
            }

          start = x;
          while (x < modules && sotto_qr_get_module (self->qr, x, y))
            x++;

          gtk_snapshot_append_color (snapshot, &dark,
                                     &GRAPHENE_RECT_INIT (x0 + start * module_px,
                                                          y0 + y * module_px,
                                                          (x - start) * module_px,
                                                          module_px));
        }
    }
}

static void
sotto_qr_code_finalize (GObject *object)
{
  SottoQrCode *self = (SottoQrCode *)object;

  g_clear_pointer (&self->qr, sotto_qr_unref);

  G_OBJECT_CLASS (sotto_qr_code_parent_class)->finalize (object);
}

static void
sotto_qr_code_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  SottoQrCode *self = SOTTO_QR_CODE (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      g_value_set_string (value, sotto_qr_code_get_text (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_qr_code_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  SottoQrCode *self = SOTTO_QR_CODE (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      {
        g_autoptr (GError) error = NULL;

        /* From a .ui file or g_object_set(): no caller to hand the error to. */
        if (!sotto_qr_code_set_text (self, g_value_get_string (value), &error))
          g_warning ("Cannot show a QR code: %s", error->message);
      }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_qr_code_class_init (SottoQrCodeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = sotto_qr_code_finalize;
  object_class->get_property = sotto_qr_code_get_property;
  object_class->set_property = sotto_qr_code_set_property;

  widget_class->get_request_mode = sotto_qr_code_get_request_mode;
  widget_class->measure = sotto_qr_code_measure;
  widget_class->snapshot = sotto_qr_code_snapshot;

  /**
   * SottoQrCode:text:
   *
   * The text the code holds, %NULL to show nothing.
   */
  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "qrcode");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
sotto_qr_code_init (SottoQrCode *self)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("QR code"),
                                  -1);
}

GtkWidget *
sotto_qr_code_new (void)
{
  return g_object_new (SOTTO_TYPE_QR_CODE, NULL);
}

/**
 * sotto_qr_code_get_text:
 *
 * Returns: (nullable): the text shown as a QR code
 */
const char *
sotto_qr_code_get_text (SottoQrCode *self)
{
  g_return_val_if_fail (SOTTO_IS_QR_CODE (self), NULL);

  return self->qr != NULL ? sotto_qr_get_text (self->qr) : NULL;
}

/**
 * sotto_qr_code_set_text:
 * @text: (nullable): what to encode, %NULL to show nothing
 * @error: return location for a #SOTTO_QR_ERROR
 *
 * Returns: %TRUE if @text is shown; on error nothing is
 */
gboolean
sotto_qr_code_set_text (SottoQrCode  *self,
                        const char   *text,
                        GError      **error)
{
  g_autoptr (SottoQr) qr = NULL;

  g_return_val_if_fail (SOTTO_IS_QR_CODE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_strcmp0 (text, sotto_qr_code_get_text (self)) == 0)
    return TRUE;

  if (text != NULL)
    qr = sotto_qr_encode (text, error);

  g_clear_pointer (&self->qr, sotto_qr_unref);
  self->qr = g_steal_pointer (&qr);

  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);

  return text == NULL || self->qr != NULL;
}

/**
 * sotto_qr_code_get_qr:
 *
 * Returns: (nullable) (transfer none): the matrix shown
 */
SottoQr *
sotto_qr_code_get_qr (SottoQrCode *self)
{
  g_return_val_if_fail (SOTTO_IS_QR_CODE (self), NULL);

  return self->qr;
}
