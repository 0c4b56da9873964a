/* sotto-context.h — everything a front end needs, in one object
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "sotto-link-guard.h"
#include "sotto-policy.h"

#include "sotto-command.h"
#include "sotto-invite.h"
#include "sotto-store-key.h"

G_BEGIN_DECLS

typedef struct _SottoStore       SottoStore;
typedef struct _SottoPeerService SottoPeerService;
typedef struct _SottoDiscovery SottoDiscovery;
typedef struct _SottoNearby SottoNearby;

#define SOTTO_TYPE_CONTEXT (sotto_context_get_type ())

G_DECLARE_FINAL_TYPE (SottoContext, sotto_context, SOTTO, CONTEXT, GObject)

SottoContext *sotto_context_new                 (const char    *profile,
                                                 const char    *profile_dir,
                                                 GError       **error);
const char   *sotto_context_get_profile         (SottoContext  *self);
const char   *sotto_context_get_profile_dir     (SottoContext  *self);
gboolean      sotto_context_is_default_profile  (SottoContext  *self);
gboolean      sotto_context_ensure_profile_dir  (SottoContext  *self,
                                                 GError       **error);
gboolean      sotto_context_has_profile         (SottoContext  *self);

void          sotto_context_open_async          (SottoContext        *self,
                                                 const char          *passphrase,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean      sotto_context_open_finish         (SottoContext        *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);
void          sotto_context_create_async        (SottoContext        *self,
                                                 const char          *display_name,
                                                 SottoKeyProtection   protection,
                                                 const char          *passphrase,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean      sotto_context_create_finish       (SottoContext        *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);
gboolean      sotto_context_open_interactive    (SottoContext            *self,
                                                 const char              *passphrase_file,
                                                 SottoAskPassphraseFunc   ask,
                                                 gpointer                 ask_data,
                                                 GError                 **error);
GSettings        *sotto_context_get_settings     (SottoContext  *self);
SottoPolicy      *sotto_context_get_policy       (SottoContext  *self);
SottoLinkVerdict *sotto_context_check_link       (SottoContext    *self,
                                                  const char      *link,
                                                  SottoLinkSender  sender);
SottoStore       *sotto_context_get_store        (SottoContext  *self);
SottoPeerService *sotto_context_get_peer_service (SottoContext  *self);
SottoDiscovery   *sotto_context_get_discovery    (SottoContext  *self);
void              sotto_context_look_at_nearby_async  (SottoContext        *self,
                                                       SottoNearby         *nearby,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
SottoInvite      *sotto_context_look_at_nearby_finish (SottoContext        *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);
GSettings        *sotto_context_get_profile_settings (SottoContext  *self);
gboolean      sotto_context_set_listen_port     (SottoContext  *self,
                                                 guint          port,
                                                 GError       **error);
guint         sotto_context_get_listen_port     (SottoContext  *self);
gboolean      sotto_context_is_listen_port_locked (SottoContext *self);
guint         sotto_context_suggest_listen_port (SottoContext  *self,
                                                 GError       **error);
gboolean      sotto_context_change_listen_port  (SottoContext  *self,
                                                 guint          port,
                                                 GError       **error);
gboolean      sotto_context_get_start_at_login  (SottoContext  *self);
gboolean      sotto_context_apply_start_at_login (SottoContext *self,
                                                  GError      **error);
gboolean      sotto_context_start               (SottoContext  *self,
                                                 GError       **error);
gboolean      sotto_context_is_running          (SottoContext  *self);
void          sotto_context_stop                (SottoContext  *self);
int           sotto_context_execute             (SottoContext  *self,
                                                 SottoCommand  *command);
char         *sotto_context_dup_invite          (SottoContext  *self,
                                                 GError       **error);
void          sotto_context_protect_async       (SottoContext        *self,
                                                 const char          *current,
                                                 SottoKeyProtection   protection,
                                                 const char          *passphrase,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean      sotto_context_protect_finish      (SottoContext        *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

G_END_DECLS
