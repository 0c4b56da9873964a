/* sotto-file-transfer.h — files offered, accepted and moved over sessions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "sotto-contact.h"
#include "sotto-store.h"
#include "sotto-transfer.h"

G_BEGIN_DECLS

/* While a session holds this many unsent bytes, no file chunk is added
 * to it; texts go on up to SOTTO_PEER_SEND_WINDOW, so chat passes a file
 * (PROTOCOL.md, "Files"). */
#define SOTTO_FILE_SEND_WINDOW    (256 * 1024)
/* A received file gets "name (2).ext", "name (3).ext", … up to this, never
 * replacing a file that is there. */
#define SOTTO_FILE_NUMBERED_MAX   999
/* The folder under the user's Downloads folder that receives files, when
 * the download-folder setting is empty. */
#define SOTTO_FILE_FOLDER_NAME    "Sotto"
/* A transfer can be named by the start of its id: this many hex digits
 * at least. */
#define SOTTO_FILE_ID_PREFIX_MIN  6

#define SOTTO_TYPE_FILE_TRANSFER (sotto_file_transfer_get_type ())
G_DECLARE_FINAL_TYPE (SottoFileTransfer, sotto_file_transfer, SOTTO, FILE_TRANSFER, GObject)

char              *sotto_file_transfer_resolve_folder (const char *setting);

SottoFileTransfer *sotto_file_transfer_new           (SottoStore          *store,
                                                      GSettings           *settings);
void               sotto_file_transfer_load_async    (SottoFileTransfer   *self,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean           sotto_file_transfer_load_finish   (SottoFileTransfer   *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
GPtrArray         *sotto_file_transfer_list          (SottoFileTransfer   *self,
                                                      SottoContact        *contact);
SottoTransfer     *sotto_file_transfer_find          (SottoFileTransfer   *self,
                                                      const char          *id_prefix,
                                                      GError             **error);
char              *sotto_file_transfer_dup_folder    (SottoFileTransfer   *self);
void               sotto_file_transfer_offer_async   (SottoFileTransfer   *self,
                                                      SottoContact        *contact,
                                                      const char          *path,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
void               sotto_file_transfer_offer_data_async (SottoFileTransfer   *self,
                                                      SottoContact        *contact,
                                                      const char          *name,
                                                      GBytes              *data,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
SottoTransfer     *sotto_file_transfer_offer_finish  (SottoFileTransfer   *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
void               sotto_file_transfer_accept_async  (SottoFileTransfer   *self,
                                                      SottoTransfer       *transfer,
                                                      const char          *folder,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
void               sotto_file_transfer_decline_async (SottoFileTransfer   *self,
                                                      SottoTransfer       *transfer,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
void               sotto_file_transfer_cancel_async  (SottoFileTransfer   *self,
                                                      SottoTransfer       *transfer,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean           sotto_file_transfer_change_finish (SottoFileTransfer   *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);

G_END_DECLS
