/* sotto-file-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Presents the file guard's verdict (sotto-file-guard.c) before a
 * received file is opened: its name as saved (and as offered, hidden
 * characters made visible), what its bytes are, what the virus scanner
 * said, and each finding. A program is never opened from Sotto: "Show in
 * Folder" is all it gets; a blocked file can only be closed; with any
 * finding, "Open" is not the default. The dialog decides nothing itself.
 */
#define G_LOG_DOMAIN "sotto-file-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-file-dialog.h"
#include "sotto-labels.h"

enum {
  RESPONSE_SHOW = 1,
};

typedef struct
{
  SottoFileAction  action;
  char            *path;
} DialogData;

static void
dialog_data_free (gpointer data,
                  GClosure *closure)
{
  DialogData *dialog_data = data;

  g_free (dialog_data->path);
  g_free (dialog_data);
}

static void
on_shown_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr (GtkWindow) parent = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      g_autofree char *uri = g_object_steal_data (G_OBJECT (parent), "sotto-folder-uri");

      /* No file manager that selects files: the folder, at least. */
      g_debug ("FileManager1.ShowItems: %s", error->message);
      if (uri != NULL)
        gtk_show_uri (parent, uri, GDK_CURRENT_TIME);
    }
}

/**
 * sotto_show_in_folder:
 * @parent: (nullable): the window asking
 * @path: a file
 *
 * Shows @path selected in the file manager (org.freedesktop.FileManager1),
 * or its folder when there is none. Never opens the file.
 */
void
sotto_show_in_folder (GtkWindow  *parent,
                      const char *path)
{
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFile) folder = NULL;
  g_autofree char *uri = NULL;
  GDBusConnection *bus;
  const char *uris[2] = { NULL, NULL };

  g_return_if_fail (path != NULL);

  file = g_file_new_for_path (path);
  folder = g_file_get_parent (file);
  uri = g_file_get_uri (file);
  uris[0] = uri;
  bus = g_application_get_dbus_connection (g_application_get_default ());
  if (bus == NULL || parent == NULL)
    {
      if (folder != NULL)
        {
          g_autofree char *folder_uri = g_file_get_uri (folder);

          gtk_show_uri (parent, folder_uri, GDK_CURRENT_TIME);
        }
      return;
    }
  if (folder != NULL)
    g_object_set_data_full (G_OBJECT (parent), "sotto-folder-uri", g_file_get_uri (folder), g_free);
  g_dbus_connection_call (bus, "org.freedesktop.FileManager1", "/org/freedesktop/FileManager1",
                          "org.freedesktop.FileManager1", "ShowItems",
                          g_variant_new ("(^ass)", uris, ""), NULL, G_DBUS_CALL_FLAGS_NONE, 5000,
                          NULL, on_shown_cb, g_object_ref (parent));
}

static void
on_response_cb (GtkDialog  *dialog,
                int         response,
                DialogData *data)
{
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (dialog));

  if (response == GTK_RESPONSE_ACCEPT && data->action <= SOTTO_FILE_WARN)
    {
      g_autoptr (GFile) file = g_file_new_for_path (data->path);
      g_autofree char *uri = g_file_get_uri (file);

      gtk_show_uri (parent, uri, GDK_CURRENT_TIME);
    }
  else if (response == RESPONSE_SHOW && data->action != SOTTO_FILE_BLOCK)
    sotto_show_in_folder (parent, data->path);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static const char *
heading_for (const SottoFileVerdict *verdict)
{
  switch (verdict->action)
    {
    case SOTTO_FILE_BLOCK:
      return _("This file is infected");
    case SOTTO_FILE_SHOW_ONLY:
      return _("Sotto will not open this file");
    case SOTTO_FILE_WARN:
      return _("This file may not be what it seems");
    case SOTTO_FILE_ASK:
    default:
      return _("Open this file?");
    }
}

static const char *
advice_for (const SottoFileVerdict *verdict)
{
  switch (verdict->action)
    {
    case SOTTO_FILE_BLOCK:
      return _("The virus scanner found something in it. Do not open it; tell your "
               "administrator and the person who sent it.");
    case SOTTO_FILE_SHOW_ONLY:
      return _("Sotto can only show it in its folder.");
    case SOTTO_FILE_WARN:
    case SOTTO_FILE_ASK:
    default:
      return _("Open it only if you expected this file from this person.");
    }
}

/**
 * sotto_file_dialog_new:
 * @parent: (nullable): the window the file was opened from
 * @verdict: what the guard said about the saved file
 * @path: where the file is
 *
 * Returns: (transfer floating): the dialog, not shown yet; it opens the
 *   file or shows it in its folder if the user says so, and destroys
 *   itself
 */
GtkWidget *
sotto_file_dialog_new (GtkWindow              *parent,
                       const SottoFileVerdict *verdict,
                       const char             *path)
{
  g_autofree char *name = NULL;
  g_autofree char *what = NULL;
  GtkWidget *dialog;
  GtkWidget *area;
  GtkWidget *open = NULL;
  DialogData *data;
  gboolean findings = verdict->findings->len > 0;

  g_return_val_if_fail (verdict != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);

  dialog = gtk_message_dialog_new (parent, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   verdict->action == SOTTO_FILE_ASK ? GTK_MESSAGE_QUESTION
                                                                     : GTK_MESSAGE_WARNING,
                                   GTK_BUTTONS_NONE, "%s", heading_for (verdict));
  gtk_window_set_title (GTK_WINDOW (dialog), heading_for (verdict));
  area = gtk_message_dialog_get_message_area (GTK_MESSAGE_DIALOG (dialog));

  name = g_markup_printf_escaped ("<b>%s</b>", verdict->shown_name);
  gtk_box_append (GTK_BOX (area), sotto_verbatim_label_new (name));
  {
    g_autofree char *content_type = g_content_type_from_mime_type (verdict->sniffed_type);
    g_autofree char *description = content_type != NULL
                                   ? g_content_type_get_description (content_type) : NULL;

    /* Translators: what a file's bytes say it is, e.g. "Content: PDF document (application/pdf)". */
    what = g_markup_printf_escaped ("%s %s (%s)", _("Content:"),
                                    description != NULL ? description : verdict->kind,
                                    verdict->sniffed_type);
  }
  gtk_box_append (GTK_BOX (area), sotto_verbatim_label_new (what));

  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoFileFinding *finding = g_ptr_array_index (verdict->findings, i);
      g_autofree char *line = g_strdup_printf ("• %s", finding->text);

      gtk_box_append (GTK_BOX (area), sotto_prose_label_new (line));
    }
  gtk_box_append (GTK_BOX (area), sotto_prose_label_new (advice_for (verdict)));

  switch (verdict->action)
    {
    case SOTTO_FILE_BLOCK:
      gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Close"), GTK_RESPONSE_CANCEL);
      break;

    case SOTTO_FILE_SHOW_ONLY:
      gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Close"), GTK_RESPONSE_CANCEL);
      gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Show in Folder"), RESPONSE_SHOW);
      break;

    case SOTTO_FILE_ASK:
    case SOTTO_FILE_WARN:
    default:
      gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
      gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Show in Folder"), RESPONSE_SHOW);
      open = gtk_dialog_add_button (GTK_DIALOG (dialog),
                                    verdict->action == SOTTO_FILE_WARN ? _("_Open Anyway")
                                                                       : _("_Open File"),
                                    GTK_RESPONSE_ACCEPT);
      if (verdict->action == SOTTO_FILE_WARN)
        gtk_widget_add_css_class (open, "destructive-action");
      break;
    }
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), open != NULL && !findings
                                                          ? GTK_RESPONSE_ACCEPT
                                                          : GTK_RESPONSE_CANCEL);

  data = g_new0 (DialogData, 1);
  data->action = verdict->action;
  data->path = g_strdup (path);
  g_signal_connect_data (dialog, "response", G_CALLBACK (on_response_cb), data,
                         dialog_data_free, 0);
  return dialog;
}
