/* sotto-request-row.h — a stranger's contact request in the buddy list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "sotto-peer-service.h"

G_BEGIN_DECLS

typedef enum
{
  SOTTO_REQUEST_ANSWER_ACCEPT,
  SOTTO_REQUEST_ANSWER_IGNORE,
  SOTTO_REQUEST_ANSWER_BLOCK,
} SottoRequestAnswer;

#define SOTTO_TYPE_REQUEST_ROW (sotto_request_row_get_type ())

G_DECLARE_FINAL_TYPE (SottoRequestRow, sotto_request_row, SOTTO, REQUEST_ROW, GtkListBoxRow)

GtkWidget    *sotto_request_row_new            (const SottoPeerRequest *request);
const guint8 *sotto_request_row_get_public_key (SottoRequestRow        *self);
gboolean      sotto_request_row_matches        (SottoRequestRow        *self,
                                                const char             *text);
void          sotto_request_row_set_accept_refusal (SottoRequestRow    *self,
                                                    const char         *refusal);

G_END_DECLS
