/* sotto-transfer-private.h — what only the store and the file transfer
 * service may change
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-transfer.h"

G_BEGIN_DECLS

/* What a transfer still owes its peer: a FILE_CANCEL or FILE_DONE under
 * its own message id, sent on every session until a receipt names it. */
typedef enum
{
  SOTTO_TRANSFER_OWES_NOTHING = 0,
  SOTTO_TRANSFER_OWES_CANCEL = SOTTO_PAYLOAD_FILE_CANCEL,
  SOTTO_TRANSFER_OWES_DONE = SOTTO_PAYLOAD_FILE_DONE,
} SottoTransferOwes;

SottoTransfer *_sotto_transfer_new            (gint64              contact_id,
                                               const guint8       *uid,
                                               SottoDirection      direction,
                                               gint64              offered,
                                               const char         *name,
                                               guint64             size,
                                               const guint8       *hash,
                                               GBytes             *head,
                                               const char         *declared_type);
void           _sotto_transfer_set_id         (SottoTransfer      *self,
                                               gint64              id);
void           _sotto_transfer_set_state      (SottoTransfer      *self,
                                               SottoTransferState  state);
void           _sotto_transfer_end            (SottoTransfer      *self,
                                               SottoFileCancelReason reason,
                                               gboolean            by_peer);
void           _sotto_transfer_set_path       (SottoTransfer      *self,
                                               const char         *path);
const char    *_sotto_transfer_peek_path     (SottoTransfer      *self);
void           _sotto_transfer_set_progress   (SottoTransfer      *self,
                                               guint64             progress);
void           _sotto_transfer_set_scan       (SottoTransfer      *self,
                                               SottoScanResult     scan);
void           _sotto_transfer_set_received   (SottoTransfer      *self,
                                               gint64              received);
gint64         _sotto_transfer_get_received   (SottoTransfer      *self);
void           _sotto_transfer_owe            (SottoTransfer      *self,
                                               SottoTransferOwes   owes,
                                               guint8              code);
void           _sotto_transfer_set_owed       (SottoTransfer      *self,
                                               SottoTransferOwes   owes,
                                               const guint8       *uid,
                                               guint8              code);
SottoTransferOwes _sotto_transfer_get_owes    (SottoTransfer      *self,
                                               const guint8      **out_uid,
                                               guint8             *out_code);
SottoTransfer *_sotto_transfer_copy           (SottoTransfer      *self);

G_END_DECLS
