/* sotto-message-row.h — one message in a conversation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-message.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_MESSAGE_ROW (sotto_message_row_get_type ())

G_DECLARE_FINAL_TYPE (SottoMessageRow, sotto_message_row, SOTTO, MESSAGE_ROW, GtkWidget)

GtkWidget    *sotto_message_row_new         (void);
void          sotto_message_row_set_message (SottoMessageRow *self,
                                             SottoMessage    *message,
                                             const char      *day_heading);
SottoMessage *sotto_message_row_get_message (SottoMessageRow *self);

G_END_DECLS
