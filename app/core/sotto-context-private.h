/* sotto-context-private.h — SottoContext, shared by its two files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-context.h"
#include "sotto-control.h"
#include "sotto-policy.h"
#include "sotto-retention.h"

G_BEGIN_DECLS

struct _SottoContext
{
  GObject             parent_instance;

  /* construct-only */
  char               *profile;
  char               *profile_dir;

  /* owned references: the settings once needed, the rest once the profile
   * is open (see sotto_context_open_async()) */
  GSettings          *settings;          /* SCHEMA_ID: every profile's */
  GSettings          *profile_settings;  /* SCHEMA_ID.Profile: this one's */
  SottoPolicy        *policy;            /* over settings */
  SottoStore         *store;
  SottoRetention     *retention;
  SottoPeerService   *service;
  SottoDiscovery     *discovery;  /* LAN discovery, with the service */
  SottoControlServer *control;    /* while running */

  int                 port_override;  /* -1: the setting */
  guint               chosen_port;    /* for a profile whose setting is 0 */
  gboolean            running;
};

void     _sotto_context_serve              (SottoContext         *self,
                                           SottoControlRequest  *request);
gboolean _sotto_context_ensure_settings    (SottoContext         *self,
                                           GError              **error);
guint    _sotto_context_choose_listen_port (SottoContext         *self,
                                           gboolean              keep);

/* sotto-context-commands.c: what every one-shot command uses */
void          _sotto_context_result_cb    (GObject        *object,
                                           GAsyncResult   *result,
                                           gpointer        user_data);
GAsyncResult *_sotto_context_wait_for     (GAsyncResult  **slot);
int           _sotto_context_open_or_fail (SottoContext   *self,
                                           SottoCommand   *command,
                                           SottoStore    **store);
int           _sotto_context_find_or_fail (SottoCommand   *command,
                                           SottoStore     *store,
                                           const char     *query,
                                           SottoContact  **contact);

/* sotto-context-files.c: the commands about links and files */
#define SOTTO_CONTEXT_COMMAND(name) \
  int _sotto_context_cmd_##name (SottoContext *self, SottoCommand *command, int argc, char **argv)
SOTTO_CONTEXT_COMMAND (check_link);
SOTTO_CONTEXT_COMMAND (check_file);
SOTTO_CONTEXT_COMMAND (send_file);
SOTTO_CONTEXT_COMMAND (files);
SOTTO_CONTEXT_COMMAND (accept_file);
SOTTO_CONTEXT_COMMAND (decline_file);
SOTTO_CONTEXT_COMMAND (cancel_file);

/* sotto-context-nearby.c */
SOTTO_CONTEXT_COMMAND (nearby);

/* sotto-context-groups.c */
SOTTO_CONTEXT_COMMAND (groups);
SOTTO_CONTEXT_COMMAND (group);
int   _sotto_context_find_target_or_fail (SottoCommand   *command,
                                          SottoStore     *store,
                                          const char     *query,
                                          SottoContact  **contact,
                                          SottoGroup    **group);
char *_sotto_context_dup_sender_name      (SottoStore     *store,
                                          SottoMessage   *message);

G_END_DECLS
