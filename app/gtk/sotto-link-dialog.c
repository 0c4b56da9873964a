/* sotto-link-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Presents the link guard's verdict (sotto-link-guard.c) when a link in a
 * message is clicked: the whole link as it is (invisible and direction
 * characters made visible, left to right, wrapped, never hyphenated), the
 * site with the part a registrar hands out in bold, and each finding. A
 * blocked link can only be closed; with any finding, "Open" is not the
 * default, so Enter never opens a suspicious link. The dialog decides
 * nothing itself.
 */
#define G_LOG_DOMAIN "sotto-link-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "sotto-labels.h"
#include "sotto-link-dialog.h"

/* Pixels of link shown at most; the rest scrolls. */
#define LINK_DIALOG_MAX_LINK_HEIGHT 320

static void
on_response_cb (GtkDialog        *dialog,
                int               response,
                SottoLinkVerdict *verdict)
{
  if (response == GTK_RESPONSE_ACCEPT && verdict->action != SOTTO_LINK_BLOCK &&
      verdict->uri != NULL)
    gtk_show_uri (gtk_window_get_transient_for (GTK_WINDOW (dialog)), verdict->uri,
                  GDK_CURRENT_TIME);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* The host with its registrable domain in bold: "www.<b>example.co.uk</b>". */
static char *
dup_host_markup (const SottoLinkVerdict *verdict)
{
  const char *host = verdict->host;
  const char *domain = verdict->registrable_domain;
  gsize host_len = strlen (host);
  gsize domain_len = domain != NULL ? strlen (domain) : 0;
  g_autofree char *head = NULL;
  g_autofree char *tail = NULL;

  if (domain == NULL || domain_len > host_len || !g_str_has_suffix (host, domain))
    return g_markup_escape_text (host, -1);

  head = g_markup_escape_text (host, (gssize)(host_len - domain_len));
  tail = g_markup_escape_text (domain, -1);
  return g_strdup_printf ("%s<b>%s</b>", head, tail);
}

static const char *
heading_for (const SottoLinkVerdict *verdict)
{
  switch (verdict->action)
    {
    case SOTTO_LINK_BLOCK:
      return _("Sotto will not open this link");
    case SOTTO_LINK_WARN:
      return _("This link may not go where it seems");
    case SOTTO_LINK_OPEN:
    case SOTTO_LINK_ASK:
    default:
      return _("Open this link?");
    }
}

/**
 * sotto_link_dialog_new:
 * @parent: (nullable): the window the link was clicked in
 * @verdict: what the guard said
 *
 * Returns: (transfer floating): the dialog, not shown yet; it opens the
 *   link if the user says so, and destroys itself
 */
GtkWidget *
sotto_link_dialog_new (GtkWindow              *parent,
                       const SottoLinkVerdict *verdict)
{
  g_autofree char *escaped = NULL;
  GtkWidget *dialog;
  GtkWidget *area;
  GtkWidget *scroller;
  GtkWidget *open = NULL;
  gboolean findings = FALSE;

  g_return_val_if_fail (verdict != NULL, NULL);

  dialog = gtk_message_dialog_new (parent, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   verdict->action == SOTTO_LINK_ASK ? GTK_MESSAGE_QUESTION
                                                                     : GTK_MESSAGE_WARNING,
                                   GTK_BUTTONS_NONE, "%s", heading_for (verdict));
  gtk_window_set_title (GTK_WINDOW (dialog), heading_for (verdict));
  area = gtk_message_dialog_get_message_area (GTK_MESSAGE_DIALOG (dialog));

  /* A link of thousands of characters scrolls, and the dialog stays on
   * screen with its buttons. */
  escaped = g_markup_escape_text (verdict->shown, -1);
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scroller),
                                              LINK_DIALOG_MAX_LINK_HEIGHT);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), sotto_verbatim_label_new (escaped));
  gtk_box_append (GTK_BOX (area), scroller);

  if (verdict->host != NULL)
    {
      g_autofree char *host = dup_host_markup (verdict);
      g_autofree char *site = NULL;
      GtkWidget *label;

      /* Translators: followed by the site's name, e.g. "Site: www.example.com". */
      site = g_strdup_printf ("%s %s", _("Site:"), host);
      label = sotto_verbatim_label_new (site);
      gtk_box_append (GTK_BOX (area), label);
    }

  for (guint i = 0; i < verdict->findings->len; i++)
    {
      const SottoLinkFinding *finding = g_ptr_array_index (verdict->findings, i);
      g_autofree char *line = g_strdup_printf ("• %s", finding->text);

      gtk_box_append (GTK_BOX (area), sotto_prose_label_new (line));
      findings = TRUE;
    }

  if (verdict->action == SOTTO_LINK_BLOCK)
    gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Close"), GTK_RESPONSE_CANCEL);
  else
    {
      gtk_box_append (GTK_BOX (area),
                      sotto_prose_label_new (_("Open it only if you expected this link from this "
                                         "person.")));
      gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
      open = gtk_dialog_add_button (GTK_DIALOG (dialog),
                                    verdict->action == SOTTO_LINK_WARN ? _("_Open Anyway")
                                                                       : _("_Open Link"),
                                    GTK_RESPONSE_ACCEPT);
      if (verdict->action == SOTTO_LINK_WARN)
        gtk_widget_add_css_class (open, "destructive-action");
    }
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), open != NULL && !findings
                                                          ? GTK_RESPONSE_ACCEPT
                                                          : GTK_RESPONSE_CANCEL);

  g_signal_connect_data (dialog, "response", G_CALLBACK (on_response_cb),
                         sotto_link_verdict_copy (verdict),
                         (GClosureNotify)(void (*) (void))sotto_link_verdict_free, 0);
  return dialog;
}

/**
 * sotto_link_dialog_present:
 * @parent: (nullable): the window the link was clicked in
 * @verdict: what the guard said
 *
 * Opens a link the guard lets open without asking (%SOTTO_LINK_OPEN: a
 * trusted site, nothing odd); asks about every other one.
 */
void
sotto_link_dialog_present (GtkWindow              *parent,
                           const SottoLinkVerdict *verdict)
{
  g_return_if_fail (verdict != NULL);

  if (verdict->action == SOTTO_LINK_OPEN && verdict->uri != NULL)
    {
      gtk_show_uri (parent, verdict->uri, GDK_CURRENT_TIME);
      return;
    }
  gtk_window_present (GTK_WINDOW (sotto_link_dialog_new (parent, verdict)));
}
