/* sotto-transfer.h — one file offered to or by a contact
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "sotto-contact.h"
#include "sotto-file-guard.h"
#include "sotto-message.h"
#include "sotto-payload.h"

G_BEGIN_DECLS

/**
 * SottoTransferState:
 * @SOTTO_TRANSFER_QUEUED: outgoing: the offer has not reached the contact yet
 * @SOTTO_TRANSFER_OFFERED: outgoing: the contact has the offer and has not
 *   answered; incoming: waiting for the user to accept or decline
 * @SOTTO_TRANSFER_ACTIVE: accepted: bytes flow whenever a session is up
 * @SOTTO_TRANSFER_CHECKING: incoming: every byte is here; hash, virus scan
 *   and file checks run
 * @SOTTO_TRANSFER_DONE: the file is complete on the receiving side
 * @SOTTO_TRANSFER_INFECTED: the receiver's virus scanner found it infected
 *   (and removed or locked it there)
 * @SOTTO_TRANSFER_CANCELLED: ended without the file: see
 *   sotto_transfer_get_reason() and sotto_transfer_get_ended_by_peer()
 */
typedef enum
{
  SOTTO_TRANSFER_QUEUED,
  SOTTO_TRANSFER_OFFERED,
  SOTTO_TRANSFER_ACTIVE,
  SOTTO_TRANSFER_CHECKING,
  SOTTO_TRANSFER_DONE,
  SOTTO_TRANSFER_INFECTED,
  SOTTO_TRANSFER_CANCELLED,
} SottoTransferState;

#define SOTTO_TYPE_TRANSFER_STATE (sotto_transfer_state_get_type ())
GType sotto_transfer_state_get_type (void);

#define SOTTO_TYPE_TRANSFER (sotto_transfer_get_type ())
G_DECLARE_FINAL_TYPE (SottoTransfer, sotto_transfer, SOTTO, TRANSFER, GObject)

gint64               sotto_transfer_get_id            (SottoTransfer *self);
gint64               sotto_transfer_get_contact_id    (SottoTransfer *self);
const guint8        *sotto_transfer_get_uid           (SottoTransfer *self);
char                *sotto_transfer_dup_uid_hex       (SottoTransfer *self);
SottoDirection       sotto_transfer_get_direction     (SottoTransfer *self);
SottoTransferState   sotto_transfer_get_state         (SottoTransfer *self);
gboolean             sotto_transfer_is_ended          (SottoTransfer *self);
SottoFileCancelReason sotto_transfer_get_reason       (SottoTransfer *self);
gboolean             sotto_transfer_get_ended_by_peer (SottoTransfer *self);
const char          *sotto_transfer_get_name          (SottoTransfer *self);
const char          *sotto_transfer_get_declared_type (SottoTransfer *self);
guint64              sotto_transfer_get_size          (SottoTransfer *self);
const guint8        *sotto_transfer_get_hash          (SottoTransfer *self);
GBytes              *sotto_transfer_get_head          (SottoTransfer *self);
gint64               sotto_transfer_get_offered       (SottoTransfer *self);
const char          *sotto_transfer_get_path          (SottoTransfer *self);
guint64              sotto_transfer_get_progress      (SottoTransfer *self);
SottoScanResult      sotto_transfer_get_scan          (SottoTransfer *self);
char                *sotto_transfer_dup_shown_name    (SottoTransfer *self);
SottoFileVerdict    *sotto_transfer_check             (SottoTransfer *self);
void                 sotto_transfer_check_async       (SottoTransfer       *self,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
SottoFileVerdict    *sotto_transfer_check_finish      (SottoTransfer       *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);
const char          *sotto_transfer_state_to_string   (SottoTransferState     state);
const char          *sotto_file_cancel_reason_to_string (SottoFileCancelReason reason);
char                *sotto_transfer_dup_description   (SottoTransfer *self);
char                *sotto_transfer_dup_offer_about   (SottoTransfer     *self,
                                                       const char        *sender,
                                                       SottoVerification  verification);

G_END_DECLS
