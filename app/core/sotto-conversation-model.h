/* sotto-conversation-model.h — one conversation, loaded a page at a time
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "sotto-contact.h"
#include "sotto-store.h"

G_BEGIN_DECLS

/* Messages fetched per page: a screenful or two, at ~0.2 ms a page. */
#define SOTTO_CONVERSATION_PAGE 100

#define SOTTO_TYPE_CONVERSATION_MODEL (sotto_conversation_model_get_type ())

G_DECLARE_FINAL_TYPE (SottoConversationModel, sotto_conversation_model,
                      SOTTO, CONVERSATION_MODEL, GObject)

SottoConversationModel *sotto_conversation_model_new               (SottoStore              *store,
                                                                    SottoContact            *contact);
SottoConversationModel *sotto_conversation_model_new_for_group     (SottoStore              *store,
                                                                    SottoGroup              *group);
SottoContact           *sotto_conversation_model_get_contact       (SottoConversationModel  *self);
SottoGroup             *sotto_conversation_model_get_group         (SottoConversationModel  *self);
gboolean                sotto_conversation_model_get_complete      (SottoConversationModel  *self);
gboolean                sotto_conversation_model_get_loading       (SottoConversationModel  *self);
guint                   sotto_conversation_model_get_n_damaged     (SottoConversationModel  *self);
const GError           *sotto_conversation_model_get_error         (SottoConversationModel  *self);
void                    sotto_conversation_model_load_older_async  (SottoConversationModel  *self,
                                                                    GCancellable            *cancellable,
                                                                    GAsyncReadyCallback      callback,
                                                                    gpointer                 user_data);
gboolean                sotto_conversation_model_load_older_finish (SottoConversationModel  *self,
                                                                    GAsyncResult            *result,
                                                                    guint                   *out_loaded,
                                                                    GError                 **error);

G_END_DECLS
