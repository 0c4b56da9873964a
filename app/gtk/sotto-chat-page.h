/* sotto-chat-page.h — one conversation: messages, composer, search
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-contact.h"
#include "sotto-context.h"
#include "sotto-roster.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_CHAT_PAGE (sotto_chat_page_get_type ())

G_DECLARE_FINAL_TYPE (SottoChatPage, sotto_chat_page, SOTTO, CHAT_PAGE, GtkWidget)

SottoChatPage *sotto_chat_page_new            (SottoContext  *context,
                                               GSettings     *settings,
                                               SottoRoster   *roster,
                                               SottoContact  *contact);
SottoContact  *sotto_chat_page_get_contact    (SottoChatPage *self);
GtkWidget     *sotto_chat_page_get_tab_label  (SottoChatPage *self);
void           sotto_chat_page_set_shown      (SottoChatPage *self,
                                               gboolean       shown);
void           sotto_chat_page_focus_composer (SottoChatPage *self);
void           sotto_chat_page_start_search   (SottoChatPage *self);

G_END_DECLS
