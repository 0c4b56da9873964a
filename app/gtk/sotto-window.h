/* sotto-window.h — the main window: the contact list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-contact.h"
#include "sotto-context.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_WINDOW (sotto_window_get_type ())

G_DECLARE_FINAL_TYPE (SottoWindow, sotto_window, SOTTO, WINDOW, GtkApplicationWindow)

typedef struct _SottoChatWindow SottoChatWindow;

SottoWindow     *sotto_window_new                (GtkApplication   *application,
                                                  SottoContext     *context,
                                                  GSettings        *settings);
SottoContext    *sotto_window_get_context        (SottoWindow      *self);
void             sotto_window_show_requests      (SottoWindow      *self);
void             sotto_window_open_chat          (SottoWindow      *self,
                                                  SottoContact     *contact);
SottoChatWindow *sotto_window_get_chat_window    (SottoWindow      *self);
void             sotto_window_add_contact        (SottoWindow      *self,
                                                  const char       *invite);
void             sotto_window_show_network_error (SottoWindow      *self,
                                                  const GError     *error);
void             sotto_window_set_ready          (SottoWindow      *self);

G_END_DECLS
