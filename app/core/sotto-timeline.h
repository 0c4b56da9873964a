/* sotto-timeline.h — a conversation's messages and files, in time order
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "sotto-conversation-model.h"
#include "sotto-file-transfer.h"

G_BEGIN_DECLS

#define SOTTO_TYPE_TIMELINE (sotto_timeline_get_type ())

G_DECLARE_FINAL_TYPE (SottoTimeline, sotto_timeline, SOTTO, TIMELINE, GObject)

SottoTimeline          *sotto_timeline_new          (SottoConversationModel *messages,
                                                     SottoFileTransfer      *files);
SottoConversationModel *sotto_timeline_get_messages (SottoTimeline          *self);
gint64                  sotto_timeline_item_time    (GObject                *item);

G_END_DECLS
