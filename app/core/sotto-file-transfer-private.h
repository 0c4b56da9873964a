/* sotto-file-transfer-private.h — what the peer service tells the file
 * transfer service about sessions, and the service's internals, shared by
 * sotto-file-transfer.c and sotto-file-receive.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sodium.h>

#include "sotto-file-transfer.h"
#include "sotto-session.h"

G_BEGIN_DECLS

void     _sotto_file_transfer_set_running   (SottoFileTransfer  *self,
                                             gboolean            running);
void     _sotto_file_transfer_session_ready (SottoFileTransfer  *self,
                                             SottoContact       *contact,
                                             SottoSession       *session);
void     _sotto_file_transfer_session_gone  (SottoFileTransfer  *self,
                                             gint64              contact_id,
                                             SottoSession       *session);
void     _sotto_file_transfer_drained       (SottoFileTransfer  *self,
                                             gint64              contact_id,
                                             SottoSession       *session);
void     _sotto_file_transfer_payload       (SottoFileTransfer  *self,
                                             SottoContact       *contact,
                                             SottoSession       *session,
                                             const SottoPayload *payload);
gboolean _sotto_file_transfer_receipt       (SottoFileTransfer  *self,
                                             gint64              contact_id,
                                             const guint8       *uid);

/* -------------------------------------------------------------------------
 * Shared by sotto-file-transfer.c and sotto-file-receive.c only
 * ------------------------------------------------------------------------- */

/* Reading a file to hash it, or a part file to resume its hash. */
#define SOTTO_FILE_HASH_BLOCK (1024 * 1024)

typedef struct _Live Live;

struct _SottoFileTransfer
{
  GObject           parent_instance;

  /* owned references */
  SottoStore       *store;
  GSettings        *settings;
  SottoPolicy      *policy;     /* over settings; NULL without settings */
  GCancellable     *cancellable;

  GHashTable       *lives;      /* "direction:contact:hex" → Live */
  GHashTable       *sessions;   /* gint64 contact id → SottoSession, ready for files */
  gboolean          running;    /* part of a running peer service: bytes may flow */
};

struct _Live
{
  SottoFileTransfer *service;   /* unowned: the service owns its lives */
  SottoTransfer     *transfer;
  SottoSession      *session;   /* the session this transfer's bytes use, or NULL */
  SottoSession      *offered_on; /* the session the offer last went out on */
  gboolean           busy;      /* a file operation runs in a thread */
  gint64             progress_told;

  /* sending: the file, and what the receiver's FILE_ACCEPTs allow */
  int                fd;
  guint64            next;
  guint64            accepted;
  gboolean           reading;

  /* receiving: the part file and the hash of what it holds */
  int                part_fd;
  crypto_generichash_state *hash;
  guint64            expected;  /* the next byte the sender sends */
  guint64            written;   /* bytes in the part file */
  guint64            accept_sent;
  GQueue             writes;    /* GBytes, each at the offset after the one before */
  gboolean           ready;     /* the part file is open and hashed */
  gboolean           finishing;
};

/* sotto-file-transfer.c */
char         *_sotto_file_live_key                (gint64                 contact_id,
                                                   SottoDirection         direction,
                                                   const guint8          *uid);
void          _sotto_file_live_close              (Live                  *live);
Live         *_sotto_file_live_lookup             (SottoFileTransfer     *self,
                                                   gint64                 contact_id,
                                                   SottoDirection         direction,
                                                   const guint8          *uid);
SottoSession *_sotto_file_transfer_ready_session  (SottoFileTransfer     *self,
                                                   gint64                 contact_id);
void          _sotto_file_live_send_owed          (Live                  *live,
                                                   SottoSession          *session);
void          _sotto_file_live_send_accept        (Live                  *live,
                                                   guint64                offset);
void          _sotto_file_live_set_progress       (Live                  *live,
                                                   guint64                progress);
void          _sotto_file_live_emit_changed       (Live                  *live);
void          _sotto_file_live_end                (Live                  *live,
                                                   SottoFileCancelReason  reason,
                                                   gboolean               by_peer);
void          _sotto_file_live_fail               (Live                  *live,
                                                   SottoFileCancelReason  reason);
void          _sotto_file_live_save               (Live                  *live,
                                                   SottoSession          *session,
                                                   const guint8          *ack);

/* sotto-file-copies.c */
char         *_sotto_file_copies_folder           (SottoFileTransfer     *self);
gboolean      _sotto_file_copy_name_is_valid      (const char            *name);
char         *_sotto_file_copy_write              (const char            *folder,
                                                   const char            *name,
                                                   GBytes                *data,
                                                   GError               **error);
void          _sotto_file_copy_forget             (SottoFileTransfer     *self,
                                                   const char            *path);
void          _sotto_file_copies_sweep_async      (SottoFileTransfer     *self,
                                                   GAsyncReadyCallback    callback,
                                                   gpointer               user_data);

/* sotto-file-receive.c */
char         *_sotto_file_part_name               (SottoTransfer         *transfer);
void          _sotto_file_receive_prepare         (Live                  *live);
void          _sotto_file_receive_chunk           (SottoFileTransfer     *self,
                                                   SottoContact          *contact,
                                                   SottoSession          *session,
                                                   const SottoPayload    *payload);
void          _sotto_file_receive_finish          (Live                  *live);

G_END_DECLS
