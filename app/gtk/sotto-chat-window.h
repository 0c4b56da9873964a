/* sotto-chat-window.h — the conversations, one tab each
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-contact.h"
#include "sotto-context.h"
#include "sotto-roster.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_CHAT_WINDOW (sotto_chat_window_get_type ())

G_DECLARE_FINAL_TYPE (SottoChatWindow, sotto_chat_window, SOTTO, CHAT_WINDOW, GtkApplicationWindow)

typedef struct _SottoChatPage SottoChatPage;

SottoChatWindow *sotto_chat_window_new            (GtkApplication  *application,
                                                   SottoRoster     *roster,
                                                   SottoContext    *context,
                                                   GSettings       *settings);
SottoChatPage   *sotto_chat_window_open           (SottoChatWindow *self,
                                                   SottoContact    *contact);
SottoChatPage   *sotto_chat_window_find_page      (SottoChatWindow *self,
                                                   gint64           contact_id);
SottoChatPage   *sotto_chat_window_get_current    (SottoChatWindow *self);
gboolean         sotto_chat_window_is_showing     (SottoChatWindow *self,
                                                   gint64           contact_id);

G_END_DECLS
