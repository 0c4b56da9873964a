/* sotto-contact-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Presents a SottoRosterItem: initials, presence, name, verification,
 * what is going on (typing, last message) and the unread count. Its menu
 * targets the window's actions with the contact's id, so the row holds no
 * logic of its own.
 *
 * The row draws its text and badges itself, with one real child: the menu
 * button. GTK 4.8's list view keeps about 200 rows alive whatever the
 * window's height, so a row made of a dozen widgets cost the buddy list
 * some 11 MiB and most of its start-up; one widget per row costs little.
 * Screen readers get the whole row as one sentence, as before.
 */
#define G_LOG_DOMAIN "sotto-contact-row"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-core.h"
#include "sotto-contact-row.h"
#include "sotto-roster-item.h"

/* Geometry, in pixels at scale 1. */
#define MARGIN_TOP      6
#define MARGIN_BOTTOM   6
#define MARGIN_START    6
#define MARGIN_END      2
#define SPACING         10
#define AVATAR_SIZE     36
#define DOT_SIZE        12
#define DOT_RING        2
#define ICON_SIZE       12
#define ICON_SPACING    4
#define BADGE_PADDING   7
#define BADGE_MIN_WIDTH 24
/* The text column is never narrower than this, so a narrow window
 * ellipsizes names rather than pushing the menu button out. */
#define TEXT_MIN_WIDTH  48

/* What Adwaita's .caption and .dim-label do to the second line. */
#define CAPTION_SCALE   (0.8333)
#define DIM_OPACITY     (0.55)

struct _SottoContactRow
{
  GtkWidget   parent_instance;

  /* children */
  GtkWidget  *menu_button;
  GtkWidget  *menu;            /* made when first opened */

  /* owned references */
  GObject    *item;
  gulong      notify_id;

  /* what is shown, copied from the item on every change */
  char       *name;
  char       *initials;
  char       *detail;
  char       *unread_text;
  int         presence;
  int         verification;
  gint64      contact_id;
  gboolean    blocked;

  /* the menu button's allocated width, margins and padding included */
  int         button_width;

  /* measured once per text and style: the list measures every row often */
  int         text_height;        /* 0: not yet */
  int         text_width;         /* natural; -1: not yet */
  int         badge_width;        /* -1: not yet */

  /* where the parts with tooltips were last drawn */
  graphene_rect_t dot_rect;
  graphene_rect_t icon_rect;
};

G_DEFINE_FINAL_TYPE (SottoContactRow, sotto_contact_row, GTK_TYPE_WIDGET)

static char *
dup_initials (const char *name)
{
  GString *out = g_string_new (NULL);
  gboolean at_word = TRUE;

  for (const char *p = name; *p != '\0' && out->len < 8; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c))
        at_word = TRUE;
      else if (at_word && g_unichar_isalnum (c))
        {
          g_string_append_unichar (out, g_unichar_toupper (c));
          at_word = FALSE;
          if (g_utf8_strlen (out->str, -1) == 2)
            break;
        }
      else
        at_word = FALSE;
    }

  if (out->len == 0)
    g_string_append (out, "?");
  return g_string_free (out, FALSE);
}

static GMenuModel *
build_menu (gint64   contact_id,
            gboolean blocked)
{
  GMenu *menu = g_menu_new ();
  GMenu *section = g_menu_new ();
  g_autoptr (GMenuItem) item = NULL;

#define ADD(menu_, label, action) \
  G_STMT_START { \
    g_autoptr (GMenuItem) it_ = g_menu_item_new (label, NULL); \
    g_menu_item_set_action_and_target_value (it_, action, g_variant_new_int64 (contact_id)); \
    g_menu_append_item (menu_, it_); \
  } G_STMT_END

  ADD (section, _("_Open Chat"), "win.open-chat");
  ADD (section, _("_Verify Security Key…"), "win.verify-contact");
  ADD (section, _("_Rename…"), "win.rename-contact");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (section));
  g_object_unref (section);

  section = g_menu_new ();
  if (blocked)
    ADD (section, _("_Unblock"), "win.unblock-contact");
  else
    ADD (section, _("_Block"), "win.block-contact");
  ADD (section, _("Re_move…"), "win.remove-contact");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (section));
  g_object_unref (section);
#undef ADD

  return G_MENU_MODEL (menu);
}

static const char *
presence_text (int presence)
{
  switch (presence)
    {
    case SOTTO_PRESENCE_AVAILABLE:
      return _("Available");
    case SOTTO_PRESENCE_AWAY:
      return _("Away");
    default:
      return _("Offline");
    }
}

static const char *
verification_text (int verification)
{
  switch (verification)
    {
    case SOTTO_VERIFICATION_VERIFIED:
      return _("Verified");
    case SOTTO_VERIFICATION_KEY_CHANGED:
      return _("Security key changed");
    default:
      return NULL;
    }
}

static gboolean
is_rtl (SottoContactRow *self)
{
  return gtk_widget_get_direction (GTK_WIDGET (self)) == GTK_TEXT_DIR_RTL;
}

/* Mirrors a box laid out from the left for right-to-left languages. */
static graphene_rect_t
place (SottoContactRow *self,
       float            x,
       float            y,
       float            width,
       float            height)
{
  graphene_rect_t rect;

  if (is_rtl (self))
    x = gtk_widget_get_width (GTK_WIDGET (self)) - x - width;
  graphene_rect_init (&rect, x, y, width, height);
  return rect;
}

static GdkRGBA
theme_color (SottoContactRow *self,
             const char      *name,
             const char      *fallback)
{
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (self));
  GdkRGBA color;

  if (!gtk_style_context_lookup_color (style, name, &color))
    gdk_rgba_parse (&color, fallback);
  return color;
}

static GdkRGBA
foreground (SottoContactRow *self)
{
  GdkRGBA color;

  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &color);
  return color;
}

static PangoLayout *
make_layout (SottoContactRow *self,
             const char      *text,
             double           scale,
             gboolean         bold)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  PangoAttrList *attrs = pango_attr_list_new ();

  if (scale != 1.0)
    pango_attr_list_insert (attrs, pango_attr_scale_new (scale));
  if (bold)
    pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  pango_layout_set_single_paragraph_mode (layout, TRUE);
  return layout;
}

static int
line_height (SottoContactRow *self,
             double           scale)
{
  g_autoptr (PangoLayout) layout = make_layout (self, "Ag", scale, FALSE);
  int height;

  pango_layout_get_pixel_size (layout, NULL, &height);
  return height;
}

static int
text_height (SottoContactRow *self)
{
  if (self->text_height == 0)
    self->text_height = MAX (line_height (self, 1.0), ICON_SIZE) + line_height (self, CAPTION_SCALE);
  return self->text_height;
}

static void
forget_sizes (SottoContactRow *self,
              gboolean         style_too)
{
  if (style_too)
    self->text_height = 0;
  self->text_width = -1;
  self->badge_width = -1;
}

static void
draw_layout (GtkSnapshot   *snapshot,
             PangoLayout   *layout,
             float          x,
             float          y,
             const GdkRGBA *color)
{
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, y));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

/* Draws a line of text against the start of a box (given left to right),
 * as a label does: whichever way the text itself runs, it starts next to
 * the avatar. */
static void
draw_line (SottoContactRow *self,
           GtkSnapshot     *snapshot,
           PangoLayout     *layout,
           int              x,
           int              y,
           int              width,
           const GdkRGBA   *color)
{
  graphene_rect_t box = place (self, x, y, width, 1);
  PangoRectangle logical;

  pango_layout_get_pixel_extents (layout, NULL, &logical);
  if (is_rtl (self))
    draw_layout (snapshot, layout, box.origin.x + width - (logical.x + logical.width), y, color);
  else
    draw_layout (snapshot, layout, box.origin.x - logical.x, y, color);
}

static void
append_circle (GtkSnapshot           *snapshot,
               const graphene_rect_t *rect,
               const GdkRGBA         *color)
{
  GskRoundedRect round;

  gsk_rounded_rect_init_from_rect (&round, rect, rect->size.width / 2);
  gtk_snapshot_push_rounded_clip (snapshot, &round);
  gtk_snapshot_append_color (snapshot, color, rect);
  gtk_snapshot_pop (snapshot);
}

static int
badge_width (SottoContactRow *self,
             PangoLayout     *layout)
{
  int width;

  pango_layout_get_pixel_size (layout, &width, NULL);
  return MAX (width + 2 * BADGE_PADDING, BADGE_MIN_WIDTH);
}

static void
update (SottoContactRow *self)
{
  g_autofree char *when = NULL;
  g_autofree char *accessible = NULL;
  g_autofree char *description = NULL;
  g_autoptr (SottoContact) contact = NULL;
  const char *detail;
  gboolean typing = FALSE;
  guint unread = 0;
  gint64 last_activity = 0;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->initials, g_free);
  g_clear_pointer (&self->detail, g_free);
  g_clear_pointer (&self->unread_text, g_free);
  self->presence = SOTTO_PRESENCE_OFFLINE;
  self->verification = SOTTO_VERIFICATION_UNVERIFIED;
  self->blocked = FALSE;
  self->contact_id = 0;

  if (self->item != NULL)
    g_object_get (self->item,
                  "contact", &contact,
                  "name", &self->name,
                  "presence", &self->presence,
                  "verification", &self->verification,
                  "blocked", &self->blocked,
                  "typing", &typing,
                  "unread", &unread,
                  "last-activity", &last_activity,
                  NULL);
  if (self->name == NULL)
    self->name = g_strdup ("");

  self->initials = dup_initials (self->name);

  when = sotto_time_format_short (last_activity, g_get_real_time ());
  if (self->blocked)
    detail = _("Blocked");
  else if (self->verification == SOTTO_VERIFICATION_KEY_CHANGED)
    detail = _("Security key changed — verify again");
  else if (typing)
    detail = _("typing…");
  else if (when[0] != '\0')
    detail = when;
  else
    detail = presence_text (self->presence);
  self->detail = g_strdup (detail);

  if (unread > 0)
    self->unread_text = g_strdup_printf ("%u", unread);

  /* What the row shows, said in words for screen readers (and for the
   * tests that use them): the name, then whether the contact can be
   * reached, whether the key is trusted, and how much is waiting. */
  {
    g_autoptr (GString) sentence = g_string_new (self->name);

    g_string_append_printf (sentence, ", %s",
                            self->blocked ? _("Blocked") : presence_text (self->presence));
    if (self->verification != SOTTO_VERIFICATION_UNVERIFIED)
      g_string_append_printf (sentence, ", %s", verification_text (self->verification));
    if (unread > 0)
      {
        g_string_append (sentence, ", ");
        g_string_append_printf (sentence, ngettext ("%u unread message", "%u unread messages",
                                                    unread), unread);
      }
    accessible = g_string_free (g_steal_pointer (&sentence), FALSE);
  }
  if (detail == when && when[0] != '\0')
    /* Translators: the time (or day) of a contact's last message. */
    description = g_strdup_printf (_("Last message: %s"), when);
  else
    description = g_strdup (self->detail);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                  -1);

  if (contact != NULL)
    self->contact_id = sotto_contact_get_id (contact);

  forget_sizes (self, FALSE);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

static void
popup_menu (SottoContactRow       *self,
            const GdkRectangle    *at)
{
  g_autoptr (GMenuModel) menu = build_menu (self->contact_id, self->blocked);

  /* Built when opened: a menu model makes its popover's widgets at once,
   * which for every row of a long list is slow. */
  if (self->menu == NULL)
    {
      self->menu = gtk_popover_menu_new_from_model (NULL);
      gtk_widget_set_parent (self->menu, GTK_WIDGET (self));
    }
  gtk_popover_menu_set_menu_model (GTK_POPOVER_MENU (self->menu), menu);
  gtk_popover_set_has_arrow (GTK_POPOVER (self->menu), at == NULL);
  gtk_widget_set_halign (self->menu, at == NULL ? GTK_ALIGN_FILL : GTK_ALIGN_START);
  if (at != NULL)
    gtk_popover_set_pointing_to (GTK_POPOVER (self->menu), at);
  else
    {
      graphene_rect_t bounds;

      if (!gtk_widget_compute_bounds (self->menu_button, GTK_WIDGET (self), &bounds))
        graphene_rect_init (&bounds, 0, 0, 1, 1);
      gtk_popover_set_pointing_to (GTK_POPOVER (self->menu),
                                   &(GdkRectangle) { bounds.origin.x, bounds.origin.y,
                                                     bounds.size.width, bounds.size.height });
    }
  gtk_popover_popup (GTK_POPOVER (self->menu));
}

static void
on_item_notify_cb (GObject         *item,
                   GParamSpec      *pspec,
                   SottoContactRow *self)
{
  update (self);
}

static void
on_menu_button_clicked_cb (GtkButton       *button,
                           SottoContactRow *self)
{
  popup_menu (self, NULL);
}

static void
on_secondary_click_cb (GtkGestureClick *gesture,
                       int              n_press,
                       double           x,
                       double           y,
                       SottoContactRow *self)
{
  popup_menu (self, &(GdkRectangle) { (int)x, (int)y, 1, 1 });
}

static gboolean
on_query_tooltip_cb (SottoContactRow *self,
                     int              x,
                     int              y,
                     gboolean         keyboard,
                     GtkTooltip      *tooltip)
{
  graphene_point_t point = GRAPHENE_POINT_INIT (x, y);
  graphene_rect_t button;
  const graphene_rect_t *area = NULL;
  const char *text = NULL;
  gboolean placed;

  /* The menu button's own, asked here rather than set on it: setting a
   * tooltip on a visible widget makes GTK look for the pointer at once,
   * a round trip to the X server for every row the list makes. */
  placed = gtk_widget_compute_bounds (self->menu_button, GTK_WIDGET (self), &button);
  if (keyboard)
    {
      if (!placed || !gtk_widget_has_focus (self->menu_button))
        return FALSE;
      text = _("Contact Menu");
      area = &button;
    }
  else if (placed && graphene_rect_contains_point (&button, &point))
    {
      text = _("Contact Menu");
      area = &button;
    }
  else if (graphene_rect_contains_point (&self->dot_rect, &point))
    {
      text = presence_text (self->presence);
      area = &self->dot_rect;
    }
  else if (graphene_rect_contains_point (&self->icon_rect, &point))
    {
      text = verification_text (self->verification);
      area = &self->icon_rect;
    }
  if (text == NULL)
    return FALSE;

  /* Placed by what it explains, as a widget's own tooltip is. */
  gtk_tooltip_set_tip_area (tooltip, &(GdkRectangle) { (int) area->origin.x, (int) area->origin.y,
                                                       (int) area->size.width,
                                                       (int) area->size.height });
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
sotto_contact_row_measure (GtkWidget      *widget,
                           GtkOrientation  orientation,
                           int             for_size,
                           int            *minimum,
                           int            *natural,
                           int            *minimum_baseline,
                           int            *natural_baseline)
{
  SottoContactRow *self = SOTTO_CONTACT_ROW (widget);
  int button_min, button_nat;

  gtk_widget_measure (self->menu_button, orientation, -1, &button_min, &button_nat, NULL, NULL);

  if (orientation == GTK_ORIENTATION_VERTICAL)
    {
      int content = MAX (MAX (AVATAR_SIZE, text_height (self)), button_nat);

      *minimum = *natural = MARGIN_TOP + content + MARGIN_BOTTOM;
      return;
    }

  if (self->badge_width < 0)
    {
      self->badge_width = 0;
      if (self->unread_text != NULL)
        {
          g_autoptr (PangoLayout) layout = make_layout (self, self->unread_text, CAPTION_SCALE, TRUE);

          self->badge_width = badge_width (self, layout) + SPACING;
        }
    }
  if (self->text_width < 0)
    {
      g_autoptr (PangoLayout) name = make_layout (self, self->name, 1.0, FALSE);
      g_autoptr (PangoLayout) detail = make_layout (self, self->detail, CAPTION_SCALE, FALSE);
      int name_width, detail_width;

      pango_layout_get_pixel_size (name, &name_width, NULL);
      pango_layout_get_pixel_size (detail, &detail_width, NULL);
      if (self->verification != SOTTO_VERIFICATION_UNVERIFIED)
        name_width += ICON_SPACING + ICON_SIZE;
      self->text_width = MAX (TEXT_MIN_WIDTH, MAX (name_width, detail_width));
    }

  *minimum = MARGIN_START + AVATAR_SIZE + SPACING + TEXT_MIN_WIDTH + self->badge_width + SPACING
             + button_min + MARGIN_END;
  *natural = *minimum - TEXT_MIN_WIDTH - button_min + self->text_width + button_nat;
}

static void
sotto_contact_row_size_allocate (GtkWidget *widget,
                                 int        width,
                                 int        height,
                                 int        baseline)
{
  SottoContactRow *self = SOTTO_CONTACT_ROW (widget);
  int button_width, button_height;
  int x;

  gtk_widget_measure (self->menu_button, GTK_ORIENTATION_HORIZONTAL, -1,
                      NULL, &button_width, NULL, NULL);
  gtk_widget_measure (self->menu_button, GTK_ORIENTATION_VERTICAL, button_width,
                      NULL, &button_height, NULL, NULL);
  self->button_width = button_width;
  x = is_rtl (self) ? MARGIN_END : width - MARGIN_END - button_width;
  gtk_widget_size_allocate (self->menu_button,
                            &(GtkAllocation) { x, (height - button_height) / 2,
                                               button_width, button_height },
                            -1);

  if (self->menu != NULL)
    gtk_popover_present (GTK_POPOVER (self->menu));
}

static void
sotto_contact_row_snapshot (GtkWidget   *widget,
                            GtkSnapshot *snapshot)
{
  SottoContactRow *self = SOTTO_CONTACT_ROW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GdkRGBA fg = foreground (self);
  GdkRGBA accent = theme_color (self, "theme_selected_bg_color", "#3584e4");
  GdkRGBA accent_fg = theme_color (self, "theme_selected_fg_color", "#ffffff");
  GdkRGBA base = theme_color (self, "theme_base_color", "#ffffff");
  GdkRGBA avatar_bg = accent;
  GdkRGBA dim = fg;
  GdkRGBA dot;
  graphene_rect_t rect;
  g_autoptr (PangoLayout) initials = NULL;
  g_autoptr (PangoLayout) name = NULL;
  g_autoptr (PangoLayout) detail = NULL;
  g_autoptr (PangoLayout) badge = NULL;
  int name_height, detail_height, text_width, layout_width, layout_height;
  int text_x, text_y, text_end;
  float avatar_y = (height - AVATAR_SIZE) / 2.0f;

  avatar_bg.alpha *= 0.2f;
  dim.alpha *= DIM_OPACITY;

  /* The avatar: initials in a circle, presence as a dot on its corner. */
  rect = place (self, MARGIN_START, avatar_y, AVATAR_SIZE, AVATAR_SIZE);
  append_circle (snapshot, &rect, &avatar_bg);
  initials = make_layout (self, self->initials, 1.0, TRUE);
  pango_layout_get_pixel_size (initials, &layout_width, &layout_height);
  draw_layout (snapshot, initials,
               rect.origin.x + (AVATAR_SIZE - layout_width) / 2.0f,
               rect.origin.y + (AVATAR_SIZE - layout_height) / 2.0f, &fg);

  gdk_rgba_parse (&dot, self->presence == SOTTO_PRESENCE_AVAILABLE ? "#2ec27e"
                        : self->presence == SOTTO_PRESENCE_AWAY ? "#e5a50a" : "#9a9996");
  self->dot_rect = place (self, MARGIN_START + AVATAR_SIZE - DOT_SIZE,
                          avatar_y + AVATAR_SIZE - DOT_SIZE, DOT_SIZE, DOT_SIZE);
  append_circle (snapshot, &self->dot_rect, &base);
  graphene_rect_inset_r (&self->dot_rect, DOT_RING, DOT_RING, &rect);
  append_circle (snapshot, &rect, &dot);

  /* The unread badge, right before the menu button. */
  text_end = width - MARGIN_END - self->button_width - SPACING;
  if (self->unread_text != NULL)
    {
      int badge_w;

      badge = make_layout (self, self->unread_text, CAPTION_SCALE, TRUE);
      badge_w = badge_width (self, badge);
      pango_layout_get_pixel_size (badge, &layout_width, &layout_height);
      text_end -= badge_w;
      rect = place (self, text_end, (height - layout_height) / 2.0f, badge_w, layout_height);
      append_circle (snapshot, &rect, &accent);
      draw_layout (snapshot, badge, rect.origin.x + (badge_w - layout_width) / 2.0f,
                   rect.origin.y, &accent_fg);
      text_end -= SPACING;
    }

  /* Name (and verification) over what is going on. */
  text_x = MARGIN_START + AVATAR_SIZE + SPACING;
  text_width = MAX (text_end - text_x, 1);
  name = make_layout (self, self->name, 1.0, FALSE);
  detail = make_layout (self, self->detail, CAPTION_SCALE, FALSE);
  pango_layout_get_pixel_size (name, NULL, &name_height);
  pango_layout_get_pixel_size (detail, NULL, &detail_height);
  name_height = MAX (name_height, ICON_SIZE);
  text_y = (height - name_height - detail_height) / 2;

  graphene_rect_init (&self->icon_rect, 0, 0, 0, 0);
  if (self->verification != SOTTO_VERIFICATION_UNVERIFIED)
    {
      gboolean changed = self->verification == SOTTO_VERIFICATION_KEY_CHANGED;
      GtkIconTheme *theme = gtk_icon_theme_get_for_display (gtk_widget_get_display (widget));
      g_autoptr (GtkIconPaintable) icon = NULL;
      GdkRGBA colors[4];
      int name_width;

      pango_layout_set_width (name, MAX (text_width - ICON_SPACING - ICON_SIZE, 1) * PANGO_SCALE);
      pango_layout_set_ellipsize (name, PANGO_ELLIPSIZE_END);
      pango_layout_get_pixel_size (name, &name_width, NULL);
      icon = gtk_icon_theme_lookup_icon (theme, changed ? "dialog-warning-symbolic"
                                                        : "emblem-ok-symbolic",
                                         NULL, ICON_SIZE, gtk_widget_get_scale_factor (widget),
                                         gtk_widget_get_direction (widget), 0);
      colors[0] = changed ? theme_color (self, "error_color", "#c01c28")
                          : theme_color (self, "success_color", "#26a269");
      colors[1] = theme_color (self, "success_color", "#26a269");
      colors[2] = theme_color (self, "warning_color", "#9c6e03");
      colors[3] = theme_color (self, "error_color", "#c01c28");
      self->icon_rect = place (self, text_x + name_width + ICON_SPACING,
                               text_y + (name_height - ICON_SIZE) / 2.0f, ICON_SIZE, ICON_SIZE);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &self->icon_rect.origin);
      gtk_symbolic_paintable_snapshot_symbolic (GTK_SYMBOLIC_PAINTABLE (icon), GDK_SNAPSHOT (snapshot),
                                                ICON_SIZE, ICON_SIZE, colors, G_N_ELEMENTS (colors));
      gtk_snapshot_restore (snapshot);
    }
  else
    {
      pango_layout_set_width (name, text_width * PANGO_SCALE);
      pango_layout_set_ellipsize (name, PANGO_ELLIPSIZE_END);
    }
  pango_layout_set_width (detail, text_width * PANGO_SCALE);
  pango_layout_set_ellipsize (detail, PANGO_ELLIPSIZE_END);

  draw_line (self, snapshot, name, text_x, text_y, text_width, &fg);
  draw_line (self, snapshot, detail, text_x, text_y + name_height, text_width, &dim);

  gtk_widget_snapshot_child (widget, self->menu_button, snapshot);
  if (self->menu != NULL)
    gtk_widget_snapshot_child (widget, self->menu, snapshot);
}

static void
sotto_contact_row_css_changed (GtkWidget         *widget,
                               GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (sotto_contact_row_parent_class)->css_changed (widget, change);

  /* Fonts and colours are read when drawing: any change may move or
   * recolour everything. */
  forget_sizes (SOTTO_CONTACT_ROW (widget), TRUE);
  gtk_widget_queue_resize (widget);
}

static void
sotto_contact_row_direction_changed (GtkWidget        *widget,
                                     GtkTextDirection  previous)
{
  forget_sizes (SOTTO_CONTACT_ROW (widget), TRUE);
  gtk_widget_queue_resize (widget);
}

static void
sotto_contact_row_dispose (GObject *object)
{
  SottoContactRow *self = (SottoContactRow *)object;

  sotto_contact_row_set_item (self, NULL);
  g_clear_pointer (&self->menu, gtk_widget_unparent);
  g_clear_pointer (&self->menu_button, gtk_widget_unparent);

  G_OBJECT_CLASS (sotto_contact_row_parent_class)->dispose (object);
}

static void
sotto_contact_row_finalize (GObject *object)
{
  SottoContactRow *self = (SottoContactRow *)object;

  g_free (self->name);
  g_free (self->initials);
  g_free (self->detail);
  g_free (self->unread_text);

  G_OBJECT_CLASS (sotto_contact_row_parent_class)->finalize (object);
}

static void
sotto_contact_row_class_init (SottoContactRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sotto_contact_row_dispose;
  object_class->finalize = sotto_contact_row_finalize;

  widget_class->measure = sotto_contact_row_measure;
  widget_class->size_allocate = sotto_contact_row_size_allocate;
  widget_class->snapshot = sotto_contact_row_snapshot;
  widget_class->css_changed = sotto_contact_row_css_changed;
  widget_class->direction_changed = sotto_contact_row_direction_changed;

  gtk_widget_class_set_css_name (widget_class, "contactrow");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
sotto_contact_row_init (SottoContactRow *self)
{
  GtkGesture *click = gtk_gesture_click_new ();

  self->menu_button = gtk_button_new_from_icon_name ("view-more-symbolic");
  gtk_widget_add_css_class (self->menu_button, "flat");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->menu_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Contact Menu"),
                                  GTK_ACCESSIBLE_PROPERTY_HAS_POPUP, TRUE,
                                  -1);
  g_signal_connect (self->menu_button, "clicked", G_CALLBACK (on_menu_button_clicked_cb), self);
  gtk_widget_set_parent (self->menu_button, GTK_WIDGET (self));

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  g_signal_connect (click, "pressed", G_CALLBACK (on_secondary_click_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));

  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (on_query_tooltip_cb), NULL);

  self->name = g_strdup ("");
  self->initials = g_strdup ("?");
  self->detail = g_strdup ("");
  forget_sizes (self, TRUE);
}

GtkWidget *
sotto_contact_row_new (void)
{
  return g_object_new (SOTTO_TYPE_CONTACT_ROW, NULL);
}

/**
 * sotto_contact_row_set_item:
 * @item: (nullable): a #SottoRosterItem
 */
void
sotto_contact_row_set_item (SottoContactRow *self,
                            GObject         *item)
{
  g_return_if_fail (SOTTO_IS_CONTACT_ROW (self));

  if (self->item == item)
    return;

  if (self->item != NULL)
    {
      g_clear_signal_handler (&self->notify_id, self->item);
      g_clear_object (&self->item);
    }
  if (item != NULL)
    {
      self->item = g_object_ref (item);
      self->notify_id = g_signal_connect (item, "notify", G_CALLBACK (on_item_notify_cb), self);
      update (self);
    }
}

GObject *
sotto_contact_row_get_item (SottoContactRow *self)
{
  g_return_val_if_fail (SOTTO_IS_CONTACT_ROW (self), NULL);

  return self->item;
}

/**
 * sotto_contact_row_popup_menu:
 *
 * Opens the contact's menu under its menu button, as the keyboard's menu
 * key does.
 */
void
sotto_contact_row_popup_menu (SottoContactRow *self)
{
  g_return_if_fail (SOTTO_IS_CONTACT_ROW (self));

  if (self->item != NULL)
    popup_menu (self, NULL);
}
