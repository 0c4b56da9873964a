/* sotto-context-private.h — SottoContext, shared by its two files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-context.h"
#include "sotto-control.h"
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
  SottoStore         *store;
  SottoRetention     *retention;
  SottoPeerService   *service;
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

G_END_DECLS
