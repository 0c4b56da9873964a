/* sotto-contact-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Presents a SottoRosterItem: initials, presence, name, verification,
 * what is going on (typing, last message) and the unread count. Its menu
 * targets the window's actions with the contact's id, so the row holds no
 * logic of its own.
 */
#define G_LOG_DOMAIN "sotto-contact-row"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-core.h"
#include "sotto-contact-row.h"
#include "sotto-roster-item.h"

struct _SottoContactRow
{
  GtkWidget   parent_instance;

  /* template widgets */
  GtkWidget  *box;
  GtkLabel   *initials;
  GtkWidget  *presence_dot;
  GtkLabel   *name_label;
  GtkImage   *verification_image;
  GtkLabel   *detail_label;
  GtkLabel   *unread_label;
  GtkMenuButton *menu_button;

  /* owned references */
  GObject    *item;
  gulong      notify_id;
  GtkWidget  *context_menu;   /* made on the first right click */
  gint64      contact_id;
  gboolean    blocked;
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

static void
update (SottoContactRow *self)
{
  g_autofree char *name = NULL;
  g_autofree char *initials = NULL;
  g_autofree char *when = NULL;
  g_autofree char *unread_text = NULL;
  g_autofree char *accessible = NULL;
  g_autoptr (SottoContact) contact = NULL;
  const char *detail;
  int presence = 0;
  int verification = 0;
  gboolean blocked = FALSE;
  gboolean typing = FALSE;
  guint unread = 0;
  gint64 last_activity = 0;

  if (self->item == NULL)
    return;

  g_object_get (self->item,
                "contact", &contact,
                "name", &name,
                "presence", &presence,
                "verification", &verification,
                "blocked", &blocked,
                "typing", &typing,
                "unread", &unread,
                "last-activity", &last_activity,
                NULL);

  initials = dup_initials (name != NULL ? name : "");
  gtk_label_set_label (self->initials, initials);
  gtk_label_set_label (self->name_label, name);

  gtk_widget_remove_css_class (self->presence_dot, "available");
  gtk_widget_remove_css_class (self->presence_dot, "away");
  gtk_widget_remove_css_class (self->presence_dot, "offline");
  gtk_widget_add_css_class (self->presence_dot,
                            presence == SOTTO_PRESENCE_AVAILABLE ? "available"
                            : presence == SOTTO_PRESENCE_AWAY ? "away" : "offline");
  gtk_widget_set_tooltip_text (self->presence_dot, presence_text (presence));

  switch (verification)
    {
    case SOTTO_VERIFICATION_VERIFIED:
      gtk_image_set_from_icon_name (self->verification_image, "emblem-ok-symbolic");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->verification_image), _("Verified"));
      gtk_widget_set_visible (GTK_WIDGET (self->verification_image), TRUE);
      break;
    case SOTTO_VERIFICATION_KEY_CHANGED:
      gtk_image_set_from_icon_name (self->verification_image, "dialog-warning-symbolic");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->verification_image),
                                   _("Security key changed"));
      gtk_widget_set_visible (GTK_WIDGET (self->verification_image), TRUE);
      break;
    default:
      gtk_widget_set_visible (GTK_WIDGET (self->verification_image), FALSE);
    }
  gtk_widget_set_css_classes (GTK_WIDGET (self->verification_image),
                              (const char *[]) { verification == SOTTO_VERIFICATION_KEY_CHANGED
                                                   ? "error" : "success", NULL });

  when = sotto_time_format_short (last_activity, g_get_real_time ());
  if (blocked)
    detail = _("Blocked");
  else if (verification == SOTTO_VERIFICATION_KEY_CHANGED)
    detail = _("Security key changed — verify again");
  else if (typing)
    detail = _("typing…");
  else if (when[0] != '\0')
    detail = when;
  else
    detail = presence_text (presence);
  gtk_label_set_label (self->detail_label, detail);

  unread_text = g_strdup_printf ("%u", unread);
  gtk_label_set_label (self->unread_label, unread_text);
  gtk_widget_set_visible (GTK_WIDGET (self->unread_label), unread > 0);

  /* One sentence for screen readers, and for the tests that use them. */
  if (unread > 0)
    accessible = g_strdup_printf (ngettext ("%s, %s, %u unread message",
                                            "%s, %s, %u unread messages", unread),
                                  name, presence_text (presence), unread);
  else
    accessible = g_strdup_printf ("%s, %s", name, presence_text (presence));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);

  /* The menus are built when opened: a menu model makes its popover's
   * widgets at once, which for every row of a long list is slow. */
  self->contact_id = contact != NULL ? sotto_contact_get_id (contact) : 0;
  self->blocked = blocked;
}

static GMenuModel *
current_menu (SottoContactRow *self)
{
  return build_menu (self->contact_id, self->blocked);
}

static void
create_menu_cb (GtkMenuButton *button,
                gpointer       user_data)
{
  SottoContactRow *self = user_data;
  g_autoptr (GMenuModel) menu = current_menu (self);

  gtk_menu_button_set_menu_model (button, menu);
}

static void
on_item_notify_cb (GObject         *item,
                   GParamSpec      *pspec,
                   SottoContactRow *self)
{
  update (self);
}

static void
on_secondary_click_cb (GtkGestureClick *gesture,
                       int              n_press,
                       double           x,
                       double           y,
                       SottoContactRow *self)
{
  GdkRectangle at = { (int)x, (int)y, 1, 1 };
  g_autoptr (GMenuModel) menu = current_menu (self);

  if (self->context_menu == NULL)
    {
      self->context_menu = gtk_popover_menu_new_from_model (NULL);
      gtk_popover_set_has_arrow (GTK_POPOVER (self->context_menu), FALSE);
      gtk_widget_set_halign (self->context_menu, GTK_ALIGN_START);
      gtk_widget_set_parent (self->context_menu, GTK_WIDGET (self));
    }
  gtk_popover_menu_set_menu_model (GTK_POPOVER_MENU (self->context_menu), menu);
  gtk_popover_set_pointing_to (GTK_POPOVER (self->context_menu), &at);
  gtk_popover_popup (GTK_POPOVER (self->context_menu));
}

static void
sotto_contact_row_dispose (GObject *object)
{
  SottoContactRow *self = (SottoContactRow *)object;

  sotto_contact_row_set_item (self, NULL);
  g_clear_pointer (&self->context_menu, gtk_widget_unparent);
  gtk_widget_dispose_template (GTK_WIDGET (self), SOTTO_TYPE_CONTACT_ROW);

  G_OBJECT_CLASS (sotto_contact_row_parent_class)->dispose (object);
}

static void
sotto_contact_row_class_init (SottoContactRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sotto_contact_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PATH "/sotto-contact-row.ui");
  gtk_widget_class_bind_template_child (widget_class, SottoContactRow, box);
  gtk_widget_class_bind_template_child (widget_class, SottoContactRow, initials);
  gtk_widget_class_bind_template_child (widget_class, SottoContactRow, presence_dot);
  gtk_widget_class_bind_template_child (widget_class, SottoContactRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, SottoContactRow, verification_image);
  gtk_widget_class_bind_template_child (widget_class, SottoContactRow, detail_label);
  gtk_widget_class_bind_template_child (widget_class, SottoContactRow, unread_label);
  gtk_widget_class_bind_template_child (widget_class, SottoContactRow, menu_button);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "contactrow");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
sotto_contact_row_init (SottoContactRow *self)
{
  GtkGesture *click = gtk_gesture_click_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_menu_button_set_create_popup_func (self->menu_button, create_menu_cb, self, NULL);

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  g_signal_connect (click, "pressed", G_CALLBACK (on_secondary_click_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
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
