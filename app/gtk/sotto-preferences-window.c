/* sotto-preferences-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every preference is a GSettings key bound through bind_setting(), the one
 * place that also shows when an administrator has locked the key: the
 * control greys out (GSettings does that) and the row says why, for as long
 * as the lock lasts. The core enforces the locked values; this only shows
 * them. The display name and the key protection live in the store, not in
 * GSettings: the window asks for them to change with signals. Given LAN
 * discovery, the Network page also says what it is doing.
 */
#define G_LOG_DOMAIN "sotto-preferences-window"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-autostart.h"
#include "sotto-identity.h"
#include "sotto-labels.h"
#include "sotto-preferences-window.h"
#include "sotto-security-log-view.h"

/* One locked-or-not state per key, shared by the controls bound to it. */
typedef struct
{
  GtkWidget  *hint;      /* in the key's row, shown while the key is locked */
  GPtrArray  *controls;  /* (element-type GtkWidget) (unowned): the template's */
  const char *property;  /* bound on the controls, if not through an action */
} KeyHint;

struct _SottoPreferencesWindow
{
  GtkWindow           parent_instance;

  /* template widgets */
  GtkStackSidebar    *sidebar;
  GtkStack           *stack;
  GtkEntry           *display_name_entry;
  GtkSwitch          *start_at_login_switch;
  GtkSpinButton      *auto_away_spin;
  GtkCheckButton     *notify_message_check;
  GtkCheckButton     *notify_sender_check;
  GtkCheckButton     *notify_nothing_check;
  GtkSwitch          *send_typing_switch;
  GtkSwitch          *send_read_receipts_switch;
  GtkSwitch          *allow_requests_switch;
  GtkSwitch          *verified_only_switch;
  GtkSwitch          *user_delete_switch;
  GtkSwitch          *history_switch;
  GtkSpinButton      *retention_spin;
  GtkSpinButton      *listen_port_spin;
  GtkSwitch          *discovery_switch;
  GtkSwitch          *publish_name_switch;
  GtkWidget          *discovery_status_row;
  GtkImage           *discovery_status_icon;
  GtkLabel           *discovery_status_label;
  GtkSwitch          *file_transfer_switch;
  GtkSpinButton      *file_max_size_spin;
  GtkButton          *download_folder_button;
  GtkLabel           *download_folder_label;
  GtkCheckButton     *infected_delete_check;
  GtkCheckButton     *infected_keep_check;
  GtkEntry           *scan_command_entry;
  GtkCheckButton     *link_ask_check;
  GtkCheckButton     *link_never_check;
  GtkEntry           *trusted_domains_entry;
  GtkEntry           *link_schemes_entry;
  GtkLabel           *fingerprint_label;
  GtkLabel           *key_protection_label;
  GtkButton          *change_passphrase_button;
  GtkWidget          *managed_heading;
  GtkWidget          *managed_frame;
  GtkListBox         *managed_list;

  /* owned references */
  GSettings          *settings;          /* every profile's */
  GSettings          *profile_settings;  /* this profile's own */
  GSimpleActionGroup *settings_actions;
  GtkNativeDialog    *folder_chooser;
  GHashTable         *hints;  /* key → KeyHint */
  SottoDiscovery     *discovery;
  GSignalGroup       *discovery_signals;

  char               *profile;
  char               *display_name;
  char               *fingerprint;
  gboolean            passphrase_protected;
};

G_DEFINE_FINAL_TYPE (SottoPreferencesWindow, sotto_preferences_window, GTK_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_SETTINGS,
  PROP_PROFILE_SETTINGS,
  PROP_PROFILE,
  PROP_DISPLAY_NAME,
  PROP_FINGERPRINT,
  PROP_PASSPHRASE_PROTECTED,
  PROP_DISCOVERY,
  N_PROPS
};

enum {
  DISPLAY_NAME_CHANGED,
  DELETE_HISTORY_REQUESTED,
  CHANGE_PASSPHRASE_REQUESTED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void on_writable_changed_cb (GSettings              *settings,
                                    const char             *key,
                                    SottoPreferencesWindow *self);

static void
key_hint_free (gpointer data)
{
  KeyHint *hint = data;

  g_ptr_array_unref (hint->controls);
  g_free (hint);
}

/* Every row is a box whose first child holds the title and subtitle
 * (see the .ui file): the hint goes below them. */
static GtkBox *
text_box_for (GtkWidget *control)
{
  GtkWidget *row = gtk_widget_get_ancestor (control, GTK_TYPE_LIST_BOX_ROW);
  GtkWidget *text_box;

  g_assert (row != NULL);
  text_box = gtk_widget_get_first_child (gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (row)));
  g_assert (GTK_IS_BOX (text_box));

  return GTK_BOX (text_box);
}

static GtkWidget *
make_admin_hint (void)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *icon = gtk_image_new_from_icon_name ("changes-prevent-symbolic");
  GtkWidget *label = gtk_label_new (_("Set by your administrator"));

  gtk_widget_add_css_class (box, "admin-hint");
  gtk_widget_add_css_class (box, "dim-label");
  gtk_widget_set_margin_top (box, 2);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Locked"),
                                  -1);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), label);

  return box;
}

static void
update_key_hint (SottoPreferencesWindow *self,
                 const char             *key,
                 KeyHint                *hint)
{
  gboolean writable = g_settings_is_writable (self->settings, key);

  gtk_widget_set_visible (hint->hint, !writable);

  /* Greyed out says nothing to a screen reader user: the control itself
   * says why it can't be changed. */
  for (guint i = 0; i < hint->controls->len; i++)
    {
      GtkAccessible *control = g_ptr_array_index (hint->controls, i);

      if (writable)
        gtk_accessible_reset_property (control, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
      else
        gtk_accessible_update_property (control,
                                        GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                        _("Set by your administrator"),
                                        -1);
    }
}

static void
track_writable (SottoPreferencesWindow *self,
                const char             *key,
                GtkWidget              *control)
{
  KeyHint *hint = g_hash_table_lookup (self->hints, key);

  if (hint == NULL)
    {
      g_autofree char *signal = g_strconcat ("writable-changed::", key, NULL);

      hint = g_new0 (KeyHint, 1);
      hint->controls = g_ptr_array_new ();
      hint->hint = make_admin_hint ();
      gtk_box_append (text_box_for (control), hint->hint);
      g_hash_table_insert (self->hints, g_strdup (key), hint);

      g_signal_connect_object (self->settings, signal,
                               G_CALLBACK (on_writable_changed_cb), self, 0);
    }

  g_ptr_array_add (hint->controls, control);
  update_key_hint (self, key, hint);
}

/*
 * bind_setting:
 * @key: a key of the schema
 * @control: a control in a row of the template
 * @property: (nullable): the property of @control that holds the value, or
 *   %NULL for a #GtkActionable bound to the action "settings.KEY" (a group
 *   of radio buttons, each with its own target)
 *
 * Binds @control to @key both ways, and shows in the control's row whether
 * an administrator has locked the key, now and whenever that changes.
 */
static gboolean
settings_have_key (GSettings  *settings,
                   const char *key)
{
  g_autoptr (GSettingsSchema) schema = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  return g_settings_schema_has_key (schema, key);
}

static void
bind_property (SottoPreferencesWindow       *self,
               const char                   *key,
               GtkWidget                    *control,
               const char                   *property,
               GSettingsBindGetMapping       get_mapping,
               GSettingsBindSetMapping       set_mapping)
{
  GSettings *settings = self->settings;

  /* A key the profile has too is the profile's, unless an administrator
   * locked the user's: that then applies to every profile. */
  if (g_settings_is_writable (self->settings, key) &&
      settings_have_key (self->profile_settings, key))
    settings = self->profile_settings;
  /* Also greys the control out while the key is not writable. */
  if (get_mapping != NULL)
    g_settings_bind_with_mapping (settings, key, control, property, G_SETTINGS_BIND_DEFAULT,
                                  get_mapping, set_mapping, NULL, NULL);
  else
    g_settings_bind (settings, key, control, property, G_SETTINGS_BIND_DEFAULT);
}

static void
bind_setting_mapped (SottoPreferencesWindow  *self,
                     const char              *key,
                     GtkWidget               *control,
                     const char              *property,
                     GSettingsBindGetMapping  get_mapping,
                     GSettingsBindSetMapping  set_mapping)
{
  if (property != NULL)
    {
      bind_property (self, key, control, property, get_mapping, set_mapping);
    }
  else
    {
      /* The action is disabled while the key is not writable, which
       * greys out every control that uses it. */
      if (!g_action_map_lookup_action (G_ACTION_MAP (self->settings_actions), key))
        {
          g_autoptr (GAction) action = g_settings_create_action (self->settings, key);

          g_action_map_add_action (G_ACTION_MAP (self->settings_actions), action);
        }
      g_assert (g_str_has_prefix (gtk_actionable_get_action_name (GTK_ACTIONABLE (control)),
                                  "settings."));
    }

  track_writable (self, key, control);
  ((KeyHint *)g_hash_table_lookup (self->hints, key))->property = property;
}

static void
bind_setting (SottoPreferencesWindow *self,
              const char             *key,
              GtkWidget              *control,
              const char             *property)
{
  bind_setting_mapped (self, key, control, property, NULL, NULL);
}

/* file-max-size is in bytes; the spin button in MB (10^6, as file
 * managers count). */
#define MEGABYTE 1000000

static gboolean
bytes_to_megabytes (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  guint64 bytes = g_variant_get_uint64 (variant);

  g_value_set_double (value, (double)((bytes + MEGABYTE - 1) / MEGABYTE));
  return TRUE;
}

static GVariant *
megabytes_to_bytes (const GValue       *value,
                    const GVariantType *expected_type,
                    gpointer            user_data)
{
  return g_variant_new_uint64 ((guint64)g_value_get_double (value) * MEGABYTE);
}

/* A list of names as "a, b", and back: empty entries and spaces go. */
static gboolean
strv_to_text (GValue   *value,
              GVariant *variant,
              gpointer  user_data)
{
  g_autofree const char **items = g_variant_get_strv (variant, NULL);
  g_autofree char *text = g_strjoinv (", ", (char **)items);

  g_value_set_string (value, text);
  return TRUE;
}

static GVariant *
text_to_strv (const GValue       *value,
              const GVariantType *expected_type,
              gpointer            user_data)
{
  const char *text = g_value_get_string (value);
  g_auto (GStrv) parts = g_strsplit_set (text != NULL ? text : "", ", \t", -1);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) items = NULL;

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_strv_builder_add (builder, parts[i]);
  items = g_strv_builder_end (builder);
  return g_variant_new_strv ((const char * const *)items, -1);
}

/* The folder received files go to, as the file transfers resolve it. */
static void
update_download_folder (SottoPreferencesWindow *self)
{
  g_autofree char *setting = g_settings_get_string (self->settings, "download-folder");
  g_autofree char *folder = sotto_file_transfer_resolve_folder (setting);
  g_autofree char *shown = g_filename_display_basename (folder);

  gtk_label_set_label (self->download_folder_label, shown);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->download_folder_button), folder);
}

static void
on_folder_chosen_cb (GtkNativeDialog        *dialog,
                     int                     response,
                     SottoPreferencesWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = folder != NULL ? g_file_get_path (folder) : NULL;

      if (path != NULL)
        g_settings_set_string (self->settings, "download-folder", path);
    }
  g_clear_object (&self->folder_chooser);
}

static void
on_download_folder_clicked_cb (SottoPreferencesWindow *self)
{
  g_autofree char *setting = g_settings_get_string (self->settings, "download-folder");
  g_autofree char *current = sotto_file_transfer_resolve_folder (setting);
  g_autoptr (GFile) folder = g_file_new_for_path (current);
  GtkFileChooserNative *chooser;

  if (self->folder_chooser != NULL)
    return;
  chooser = gtk_file_chooser_native_new (_("Save Received Files In"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Select"),
                                         _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, NULL);
  self->folder_chooser = GTK_NATIVE_DIALOG (chooser);
  g_signal_connect_object (chooser, "response", G_CALLBACK (on_folder_chosen_cb), self, 0);
  gtk_native_dialog_show (self->folder_chooser);
}

static void
update_key_protection (SottoPreferencesWindow *self)
{
  if (self->passphrase_protected)
    {
      gtk_label_set_label (self->key_protection_label,
                           _("Protected by a passphrase that you type when Sotto starts"));
      gtk_button_set_label (self->change_passphrase_button, _("_Change Passphrase…"));
    }
  else
    {
      gtk_label_set_label (self->key_protection_label,
                           _("Kept in your login keyring, unlocked when you log in"));
      gtk_button_set_label (self->change_passphrase_button, _("_Use a Passphrase…"));
    }
}

/* What LAN discovery is doing, in the core's words; nothing without it. */
static void
update_discovery_status (SottoPreferencesWindow *self)
{
  g_autofree char *message = NULL;
  const char *icon;

  g_assert (SOTTO_IS_PREFERENCES_WINDOW (self));

  gtk_widget_set_visible (self->discovery_status_row, self->discovery != NULL);
  if (self->discovery == NULL)
    return;

  switch (sotto_discovery_get_state (self->discovery))
    {
    case SOTTO_DISCOVERY_STATE_OFF:
      icon = "network-offline-symbolic";
      break;
    case SOTTO_DISCOVERY_STATE_STARTING:
      icon = "content-loading-symbolic";
      break;
    case SOTTO_DISCOVERY_STATE_RUNNING:
      icon = "network-workgroup-symbolic";
      break;
    case SOTTO_DISCOVERY_STATE_UNAVAILABLE:
      icon = "dialog-warning-symbolic";
      break;
    case SOTTO_DISCOVERY_STATE_FAILED:
    default:
      icon = "dialog-error-symbolic";
    }
  message = sotto_discovery_dup_state_message (self->discovery);
  gtk_image_set_from_icon_name (self->discovery_status_icon, icon);
  gtk_label_set_label (self->discovery_status_label, message);
}

static void
show_error (SottoPreferencesWindow *self,
            const char             *primary,
            const char             *secondary)
{
  GtkWidget *dialog;

  dialog = gtk_message_dialog_new (GTK_WINDOW (self),
                                   GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", primary);
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", secondary);
  gtk_window_set_title (GTK_WINDOW (dialog), primary);
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_window_destroy), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
apply_display_name (SottoPreferencesWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->display_name_entry));
  g_autoptr (GError) error = NULL;
  g_autofree char *name = sotto_display_name_normalize (text, &error);

  if (name == NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->display_name_entry), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->display_name_entry), error->message);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->display_name_entry),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, error->message,
                                      -1);
      return;
    }

  gtk_widget_remove_css_class (GTK_WIDGET (self->display_name_entry), "error");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->display_name_entry), NULL);
  gtk_accessible_reset_property (GTK_ACCESSIBLE (self->display_name_entry),
                                 GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);

  if (g_strcmp0 (name, text) != 0)
    gtk_editable_set_text (GTK_EDITABLE (self->display_name_entry), name);

  if (g_strcmp0 (name, self->display_name) == 0)
    return;

  g_free (self->display_name);
  self->display_name = g_steal_pointer (&name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);
  g_signal_emit (self, signals[DISPLAY_NAME_CHANGED], 0, self->display_name);
}

static void
on_writable_changed_cb (GSettings              *settings,
                        const char             *key,
                        SottoPreferencesWindow *self)
{
  KeyHint *hint = g_hash_table_lookup (self->hints, key);

  if (hint == NULL)
    return;

  update_key_hint (self, key, hint);

  /* Locked or unlocked: a key the profile has too now shows the other
   * value, the administrator's or the profile's own. */
  if (hint->property != NULL && settings_have_key (self->profile_settings, key))
    for (guint i = 0; i < hint->controls->len; i++)
      {
        GtkWidget *control = g_ptr_array_index (hint->controls, i);

        g_settings_unbind (control, hint->property);
        bind_property (self, key, control, hint->property, NULL, NULL);
      }
}

static gboolean
switch_off_start_at_login_cb (gpointer user_data)
{
  GSettings *settings = user_data;

  if (g_settings_is_writable (settings, "start-at-login"))
    g_settings_set_boolean (settings, "start-at-login", FALSE);

  return G_SOURCE_REMOVE;
}

static void
on_start_at_login_changed_cb (GSettings              *settings,
                              const char             *key,
                              SottoPreferencesWindow *self)
{
  gboolean enabled = g_settings_get_boolean (settings, key);
  g_autoptr (GError) error = NULL;

  if (sotto_autostart_set (enabled, self->profile, &error))
    return;

  show_error (self,
              enabled ? _("Sotto could not add itself to the programs started at login")
                      : _("Sotto could not remove itself from the programs started at login"),
              error->message);

  /* The switch should say what will happen at the next login. Not from
   * here: a binding ignores changes made while it is writing the key. */
  if (enabled && g_settings_is_writable (settings, key))
    g_idle_add_full (G_PRIORITY_DEFAULT, switch_off_start_at_login_cb,
                     g_object_ref (settings), g_object_unref);
}

static void
on_display_name_activate_cb (SottoPreferencesWindow *self)
{
  apply_display_name (self);
}

static void
on_display_name_focus_leave_cb (SottoPreferencesWindow *self)
{
  /* Focus also leaves while the window is torn down. */
  if (self->display_name_entry != NULL)
    apply_display_name (self);
}

static void
update_delete_history (SottoPreferencesWindow *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "preferences.delete-history",
                                 g_settings_get_boolean (self->settings, "history-user-delete"));
}

static void
on_delete_history_response_cb (GtkDialog              *dialog,
                               int                     response,
                               SottoPreferencesWindow *self)
{
  gtk_window_destroy (GTK_WINDOW (dialog));

  if (response == GTK_RESPONSE_ACCEPT)
    g_signal_emit (self, signals[DELETE_HISTORY_REQUESTED], 0);
}

static void
delete_history_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  SottoPreferencesWindow *self = SOTTO_PREFERENCES_WINDOW (widget);
  GtkWidget *dialog;
  GtkWidget *button;

  dialog = gtk_message_dialog_new (GTK_WINDOW (self),
                                   GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_WARNING, GTK_BUTTONS_NONE,
                                   "%s", _("Delete all history?"));
  gtk_window_set_title (GTK_WINDOW (dialog), _("Delete all history?"));
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s",
                                            _("Every message of every conversation is deleted "
                                              "from this computer, and cannot be brought back. "
                                              "Messages still waiting to be sent are kept."));
  gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
  button = gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Delete All History"),
                                  GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class (button, "destructive-action");
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  gtk_widget_set_name (dialog, "delete-history-dialog");

  g_signal_connect_object (dialog, "response",
                           G_CALLBACK (on_delete_history_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
change_passphrase_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  g_signal_emit (widget, signals[CHANGE_PASSPHRASE_REQUESTED], 0);
}

static void
sotto_preferences_window_map (GtkWidget *widget)
{
  SottoPreferencesWindow *self = SOTTO_PREFERENCES_WINDOW (widget);

  GTK_WIDGET_CLASS (sotto_preferences_window_parent_class)->map (widget);

  /* Start in the list of pages, not in the first page: focus there would
   * select the display name, ready to be typed over. */
  gtk_widget_child_focus (GTK_WIDGET (self->sidebar), GTK_DIR_TAB_FORWARD);
}

static gboolean
sotto_preferences_window_close_request (GtkWindow *window)
{
  /* A name typed and the window closed: as if Enter had been pressed. */
  apply_display_name (SOTTO_PREFERENCES_WINDOW (window));

  return GTK_WINDOW_CLASS (sotto_preferences_window_parent_class)->close_request (window);
}

/* A locked key's value as people read it: On/Off, lists joined, strings
 * bare; anything else as GVariant text. */
static char *
format_value (GVariant *value)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? _("On") : _("Off"));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      const char *text = g_variant_get_string (value, NULL);

      return g_strdup (text[0] != '\0' ? text : _("(empty)"));
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_autofree const char **items = g_variant_get_strv (value, NULL);

      return items[0] != NULL ? g_strjoinv (", ", (char **)items) : g_strdup (_("(none)"));
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return g_strdup_printf ("%u", g_variant_get_uint32 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    return g_strdup_printf ("%d", g_variant_get_int32 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    return g_strdup_printf ("%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
  return g_variant_print (value, FALSE);
}

/* Every key an administrator locked, on the Security page: also those
 * with no control of their own (allowed networks, key protection, …), so
 * that the user can see every rule they work under. */
static void
update_managed_list (SottoPreferencesWindow *self)
{
  g_autoptr (SottoPolicy) policy = sotto_policy_new (self->settings);
  g_autoptr (GPtrArray) entries = sotto_policy_list (policy);
  g_autoptr (GSettingsSchema) schema = NULL;
  GtkWidget *row;
  guint shown = 0;

  g_assert (SOTTO_IS_PREFERENCES_WINDOW (self));

  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->managed_list))) != NULL)
    gtk_list_box_remove (self->managed_list, row);

  g_object_get (self->settings, "settings-schema", &schema, NULL);
  for (guint i = 0; i < entries->len; i++)
    {
      SottoPolicyEntry *entry = g_ptr_array_index (entries, i);
      g_autoptr (GSettingsSchemaKey) key = NULL;
      g_autofree char *value = NULL;
      g_autofree char *accessible = NULL;
      const char *summary;
      GtkWidget *box;
      GtkWidget *title;
      GtkWidget *caption;

      if (!entry->locked)
        continue;
      key = g_settings_schema_get_key (schema, entry->key);
      /* GLib reads summaries from the schema's XML, installed beside the
       * compiled schemas; without it, the key's name. */
      summary = g_settings_schema_key_get_summary (key);
      if (summary == NULL)
        summary = entry->key;
      value = format_value (entry->value);
      box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      title = gtk_label_new (summary);
      caption = gtk_label_new (value);
      gtk_label_set_xalign (GTK_LABEL (title), 0);
      gtk_label_set_wrap (GTK_LABEL (title), TRUE);
      gtk_label_set_xalign (GTK_LABEL (caption), 0);
      gtk_label_set_wrap (GTK_LABEL (caption), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (caption), PANGO_WRAP_WORD_CHAR);
      gtk_label_set_selectable (GTK_LABEL (caption), TRUE);
      gtk_widget_add_css_class (caption, "dim-label");
      gtk_widget_add_css_class (caption, "caption");
      gtk_widget_set_tooltip_text (title, entry->key);
      gtk_box_append (GTK_BOX (box), title);
      gtk_box_append (GTK_BOX (box), caption);
      row = gtk_list_box_row_new ();
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
      accessible = g_strdup_printf ("%s: %s", summary, value);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      accessible, -1);
      gtk_list_box_append (self->managed_list, row);
      shown++;
    }
  gtk_widget_set_visible (self->managed_heading, shown > 0);
  gtk_widget_set_visible (self->managed_frame, shown > 0);
}

static void
sotto_preferences_window_constructed (GObject *object)
{
  SottoPreferencesWindow *self = (SottoPreferencesWindow *)object;
  g_autofree char *fingerprint = NULL;

  G_OBJECT_CLASS (sotto_preferences_window_parent_class)->constructed (object);

  g_assert (G_IS_SETTINGS (self->settings));
  g_assert (G_IS_SETTINGS (self->profile_settings));

  gtk_widget_insert_action_group (GTK_WIDGET (self), "settings",
                                  G_ACTION_GROUP (self->settings_actions));

  bind_setting (self, "start-at-login", GTK_WIDGET (self->start_at_login_switch), "active");
  bind_setting (self, "auto-away-minutes", GTK_WIDGET (self->auto_away_spin), "value");
  bind_setting (self, "notification-content", GTK_WIDGET (self->notify_message_check), NULL);
  bind_setting (self, "notification-content", GTK_WIDGET (self->notify_sender_check), NULL);
  bind_setting (self, "notification-content", GTK_WIDGET (self->notify_nothing_check), NULL);
  bind_setting (self, "send-typing", GTK_WIDGET (self->send_typing_switch), "active");
  bind_setting (self, "send-read-receipts", GTK_WIDGET (self->send_read_receipts_switch),
                "active");
  bind_setting (self, "allow-contact-requests", GTK_WIDGET (self->allow_requests_switch),
                "active");
  bind_setting (self, "require-verified-contacts", GTK_WIDGET (self->verified_only_switch),
                "active");
  bind_setting (self, "history-enabled", GTK_WIDGET (self->history_switch), "active");
  bind_setting (self, "history-user-delete", GTK_WIDGET (self->user_delete_switch), "active");
  /* Deleting is for the user only while the policy lets them. */
  g_signal_connect_object (self->settings, "changed::history-user-delete",
                           G_CALLBACK (update_delete_history), self, G_CONNECT_SWAPPED);
  update_delete_history (self);
  bind_setting (self, "history-retention-days", GTK_WIDGET (self->retention_spin), "value");
  bind_setting (self, "listen-port", GTK_WIDGET (self->listen_port_spin), "value");
  bind_setting (self, "discovery-enabled", GTK_WIDGET (self->discovery_switch), "active");
  bind_setting (self, "discovery-publish-name", GTK_WIDGET (self->publish_name_switch), "active");
  /* Off by the administrator or on again: the same state, other words. */
  g_signal_connect_object (self->settings, "changed::discovery-enabled",
                           G_CALLBACK (update_discovery_status), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "writable-changed::discovery-enabled",
                           G_CALLBACK (update_discovery_status), self, G_CONNECT_SWAPPED);
  update_discovery_status (self);

  bind_setting (self, "file-transfer-enabled", GTK_WIDGET (self->file_transfer_switch), "active");
  bind_setting_mapped (self, "file-max-size", GTK_WIDGET (self->file_max_size_spin), "value",
                       bytes_to_megabytes, megabytes_to_bytes);
  bind_setting (self, "infected-files", GTK_WIDGET (self->infected_delete_check), NULL);
  bind_setting (self, "infected-files", GTK_WIDGET (self->infected_keep_check), NULL);
  bind_setting (self, "scan-command", GTK_WIDGET (self->scan_command_entry), "text");
  bind_setting (self, "link-open", GTK_WIDGET (self->link_ask_check), NULL);
  bind_setting (self, "link-open", GTK_WIDGET (self->link_never_check), NULL);
  bind_setting_mapped (self, "link-trusted-domains", GTK_WIDGET (self->trusted_domains_entry),
                       "text", strv_to_text, text_to_strv);
  bind_setting_mapped (self, "link-schemes", GTK_WIDGET (self->link_schemes_entry), "text",
                       strv_to_text, text_to_strv);
  /* Not a bound property: the button is greyed out while the key is
   * locked, and shows the folder the setting resolves to. */
  g_settings_bind_writable (self->settings, "download-folder",
                            self->download_folder_button, "sensitive", FALSE);
  track_writable (self, "download-folder", GTK_WIDGET (self->download_folder_button));
  g_signal_connect_object (self->settings, "changed::download-folder",
                           G_CALLBACK (update_download_folder), self, G_CONNECT_SWAPPED);
  update_download_folder (self);

  g_signal_connect_object (self->profile_settings, "changed::start-at-login",
                           G_CALLBACK (on_start_at_login_changed_cb), self, 0);

  gtk_editable_set_text (GTK_EDITABLE (self->display_name_entry),
                         self->display_name != NULL ? self->display_name : "");

  fingerprint = sotto_fingerprint_lines (self->fingerprint);
  gtk_label_set_label (self->fingerprint_label, fingerprint);

  update_key_protection (self);

  g_signal_connect_object (self->settings, "writable-changed",
                           G_CALLBACK (update_managed_list), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed",
                           G_CALLBACK (update_managed_list), self, G_CONNECT_SWAPPED);
  update_managed_list (self);
}

static void
sotto_preferences_window_dispose (GObject *object)
{
  SottoPreferencesWindow *self = (SottoPreferencesWindow *)object;

  if (self->folder_chooser != NULL)
    gtk_native_dialog_destroy (self->folder_chooser);
  g_clear_object (&self->folder_chooser);
  g_clear_pointer (&self->hints, g_hash_table_unref);
  g_clear_object (&self->discovery_signals);
  g_clear_object (&self->discovery);
  g_clear_object (&self->settings_actions);
  g_clear_object (&self->settings);
  g_clear_object (&self->profile_settings);

  gtk_widget_dispose_template (GTK_WIDGET (self), SOTTO_TYPE_PREFERENCES_WINDOW);

  G_OBJECT_CLASS (sotto_preferences_window_parent_class)->dispose (object);
}

static void
sotto_preferences_window_finalize (GObject *object)
{
  SottoPreferencesWindow *self = (SottoPreferencesWindow *)object;

  g_free (self->profile);
  g_free (self->display_name);
  g_free (self->fingerprint);

  G_OBJECT_CLASS (sotto_preferences_window_parent_class)->finalize (object);
}

static void
sotto_preferences_window_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  SottoPreferencesWindow *self = SOTTO_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;

    case PROP_PROFILE_SETTINGS:
      g_value_set_object (value, self->profile_settings);
      break;

    case PROP_PROFILE:
      g_value_set_string (value, self->profile);
      break;

    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;

    case PROP_FINGERPRINT:
      g_value_set_string (value, self->fingerprint);
      break;

    case PROP_PASSPHRASE_PROTECTED:
      g_value_set_boolean (value, self->passphrase_protected);
      break;

    case PROP_DISCOVERY:
      g_value_set_object (value, self->discovery);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_preferences_window_set_property (GObject      *object,
                                       guint         prop_id,
                                       const GValue *value,
                                       GParamSpec   *pspec)
{
  SottoPreferencesWindow *self = SOTTO_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    case PROP_PROFILE_SETTINGS:
      self->profile_settings = g_value_dup_object (value);
      break;

    case PROP_PROFILE:
      self->profile = g_value_dup_string (value);
      break;

    case PROP_DISPLAY_NAME:
      sotto_preferences_window_set_display_name (self, g_value_get_string (value));
      break;

    case PROP_FINGERPRINT:
      self->fingerprint = g_value_dup_string (value);
      break;

    case PROP_PASSPHRASE_PROTECTED:
      sotto_preferences_window_set_passphrase_protected (self, g_value_get_boolean (value));
      break;

    case PROP_DISCOVERY:
      sotto_preferences_window_set_discovery (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sotto_preferences_window_class_init (SottoPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = sotto_preferences_window_constructed;
  object_class->dispose = sotto_preferences_window_dispose;
  object_class->finalize = sotto_preferences_window_finalize;
  object_class->get_property = sotto_preferences_window_get_property;
  object_class->set_property = sotto_preferences_window_set_property;

  widget_class->map = sotto_preferences_window_map;

  window_class->close_request = sotto_preferences_window_close_request;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL,
                         G_TYPE_SETTINGS,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /* The keys of the settings that also exist per profile (the
   * SCHEMA_ID.Profile schema): shown and set there, unless an
   * administrator locked them in the user's settings. */
  properties[PROP_PROFILE_SETTINGS] =
    g_param_spec_object ("profile-settings", NULL, NULL,
                         G_TYPE_SETTINGS,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * SottoPreferencesWindow:profile:
   *
   * The profile that "Start at login" starts.
   */
  properties[PROP_PROFILE] =
    g_param_spec_string ("profile", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * SottoPreferencesWindow:display-name:
   *
   * The name colleagues see. Set it when the store has it; the window
   * changes it itself only when it emits #SottoPreferencesWindow::display-name-changed.
   */
  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_FINGERPRINT] =
    g_param_spec_string ("fingerprint", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_PASSPHRASE_PROTECTED] =
    g_param_spec_boolean ("passphrase-protected", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE |
                           G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  /**
   * SottoPreferencesWindow:discovery:
   *
   * The profile's LAN discovery, whose state the Network page shows; none
   * before the profile is open.
   */
  properties[PROP_DISCOVERY] =
    g_param_spec_object ("discovery", NULL, NULL,
                         SOTTO_TYPE_DISCOVERY,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SottoPreferencesWindow::display-name-changed:
   * @name: the new name, valid and normalized
   *
   * The user changed their display name; the owner stores it.
   */
  signals[DISPLAY_NAME_CHANGED] =
    g_signal_new ("display-name-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * SottoPreferencesWindow::delete-history-requested:
   *
   * The user confirmed that all history is to be deleted.
   */
  signals[DELETE_HISTORY_REQUESTED] =
    g_signal_new ("delete-history-requested",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  /**
   * SottoPreferencesWindow::change-passphrase-requested:
   *
   * The user wants to set or change the passphrase of the history key.
   */
  signals[CHANGE_PASSPHRASE_REQUESTED] =
    g_signal_new ("change-passphrase-requested",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_install_action (widget_class, "preferences.delete-history", NULL,
                                   delete_history_action);
  gtk_widget_class_install_action (widget_class, "preferences.change-passphrase", NULL,
                                   change_passphrase_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK,
                                       "window.close", NULL);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PATH "/sotto-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        display_name_entry);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        start_at_login_switch);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        notify_message_check);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        notify_sender_check);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        notify_nothing_check);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        send_typing_switch);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        send_read_receipts_switch);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        allow_requests_switch);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        verified_only_switch);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        user_delete_switch);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, history_switch);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, retention_spin);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, listen_port_spin);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, discovery_switch);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        publish_name_switch);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        discovery_status_row);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        discovery_status_icon);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        discovery_status_label);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        file_transfer_switch);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, file_max_size_spin);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, auto_away_spin);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, managed_heading);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, managed_frame);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, managed_list);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        download_folder_button);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        download_folder_label);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        infected_delete_check);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, infected_keep_check);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, scan_command_entry);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, link_ask_check);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, link_never_check);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        trusted_domains_entry);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow, link_schemes_entry);
  gtk_widget_class_bind_template_callback (widget_class, on_download_folder_clicked_cb);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        fingerprint_label);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        key_protection_label);
  gtk_widget_class_bind_template_child (widget_class, SottoPreferencesWindow,
                                        change_passphrase_button);
  /* Not used here, but found by name by the tests. */
  gtk_widget_class_bind_template_child_full (widget_class, "delete_history_button", FALSE, 0);
  gtk_widget_class_bind_template_callback (widget_class, on_display_name_activate_cb);
}

static void
sotto_preferences_window_init (SottoPreferencesWindow *self)
{
  GtkEventController *focus;

  self->hints = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, key_hint_free);
  self->settings_actions = g_simple_action_group_new ();
  self->discovery_signals = g_signal_group_new (SOTTO_TYPE_DISCOVERY);
  g_signal_group_connect_swapped (self->discovery_signals, "notify::state",
                                  G_CALLBACK (update_discovery_status), self);

  gtk_widget_init_template (GTK_WIDGET (self));

  /* A name typed and then left is applied as if Enter had been pressed. */
  focus = gtk_event_controller_focus_new ();
  g_signal_connect_swapped (focus, "leave", G_CALLBACK (on_display_name_focus_leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->display_name_entry), focus);
}

/**
 * sotto_preferences_window_new:
 * @parent: (nullable): the window the preferences belong to
 * @settings: the application's settings (schema im.sotto.Sotto)
 * @profile: (nullable): the running profile, started by "Start at login"
 * @display_name: (nullable): the user's display name, from the store
 * @fingerprint: (nullable): the user's fingerprint, from the identity
 * @passphrase_protected: whether the history key is behind a passphrase
 *   rather than in the login keyring
 *
 * Returns: (transfer full): a new, not yet shown, preferences window
 */
SottoPreferencesWindow *
sotto_preferences_window_new (GtkWindow  *parent,
                              GSettings  *settings,
                              GSettings  *profile_settings,
                              const char *profile,
                              const char *display_name,
                              const char *fingerprint,
                              gboolean    passphrase_protected)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (profile_settings), NULL);

  return g_object_new (SOTTO_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "settings", settings,
                       "profile-settings", profile_settings,
                       "profile", profile,
                       "display-name", display_name,
                       "fingerprint", fingerprint,
                       "passphrase-protected", passphrase_protected,
                       NULL);
}

/**
 * sotto_preferences_window_add_security_log:
 * @store: the open profile's store
 *
 * Adds the page that shows @store's security log.
 */
void
sotto_preferences_window_add_security_log (SottoPreferencesWindow *self,
                                           SottoStore             *store)
{
  g_return_if_fail (SOTTO_IS_PREFERENCES_WINDOW (self));
  g_return_if_fail (SOTTO_IS_STORE (store));

  gtk_stack_add_titled (self->stack, sotto_security_log_view_new (store), "security-log",
                        _("Security Log"));
}

const char *
sotto_preferences_window_get_display_name (SottoPreferencesWindow *self)
{
  g_return_val_if_fail (SOTTO_IS_PREFERENCES_WINDOW (self), NULL);

  return self->display_name;
}

/**
 * sotto_preferences_window_set_display_name:
 * @name: (nullable): the name as the store has it
 *
 * Shows @name, without emitting #SottoPreferencesWindow::display-name-changed.
 */
void
sotto_preferences_window_set_display_name (SottoPreferencesWindow *self,
                                           const char             *name)
{
  g_return_if_fail (SOTTO_IS_PREFERENCES_WINDOW (self));

  if (g_strcmp0 (name, self->display_name) == 0)
    return;

  g_free (self->display_name);
  self->display_name = g_strdup (name);
  gtk_editable_set_text (GTK_EDITABLE (self->display_name_entry), name != NULL ? name : "");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);
}

gboolean
sotto_preferences_window_get_passphrase_protected (SottoPreferencesWindow *self)
{
  g_return_val_if_fail (SOTTO_IS_PREFERENCES_WINDOW (self), FALSE);

  return self->passphrase_protected;
}

void
sotto_preferences_window_set_passphrase_protected (SottoPreferencesWindow *self,
                                                   gboolean                value)
{
  g_return_if_fail (SOTTO_IS_PREFERENCES_WINDOW (self));

  value = !!value;
  if (self->passphrase_protected == value)
    return;

  self->passphrase_protected = value;
  update_key_protection (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PASSPHRASE_PROTECTED]);
}

/**
 * sotto_preferences_window_set_discovery:
 * @discovery: (nullable): the open profile's LAN discovery
 *
 * Shows, under the discovery switches, what @discovery is doing, and
 * follows it.
 */
void
sotto_preferences_window_set_discovery (SottoPreferencesWindow *self,
                                        SottoDiscovery         *discovery)
{
  g_return_if_fail (SOTTO_IS_PREFERENCES_WINDOW (self));
  g_return_if_fail (discovery == NULL || SOTTO_IS_DISCOVERY (discovery));

  if (!g_set_object (&self->discovery, discovery))
    return;

  g_signal_group_set_target (self->discovery_signals, discovery);
  update_discovery_status (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISCOVERY]);
}
