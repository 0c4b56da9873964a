/* sotto-control.h — the local control socket of a running profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* See PROTOCOL.md, "Local control socket". */
#define SOTTO_CONTROL_MAX_REQUEST  (1024 * 1024)
#define SOTTO_CONTROL_MAX_REPLY    (64 * 1024 * 1024)
#define SOTTO_CONTROL_MAX_ARGS     256

#define SOTTO_TYPE_CONTROL_SERVER  (sotto_control_server_get_type ())
#define SOTTO_TYPE_CONTROL_REQUEST (sotto_control_request_get_type ())

G_DECLARE_FINAL_TYPE (SottoControlServer, sotto_control_server, SOTTO, CONTROL_SERVER, GObject)
G_DECLARE_FINAL_TYPE (SottoControlRequest, sotto_control_request, SOTTO, CONTROL_REQUEST, GObject)

char               *sotto_control_socket_path        (const char          *profile_dir,
                                                      GError             **error);

SottoControlServer *sotto_control_server_new         (const char          *profile_dir,
                                                      GError             **error);
void                sotto_control_server_stop        (SottoControlServer  *self);

const char * const *sotto_control_request_get_argv   (SottoControlRequest *self);
const char         *sotto_control_request_get_cwd    (SottoControlRequest *self);
void                sotto_control_request_reply      (SottoControlRequest *self,
                                                      int                  status,
                                                      const char          *out,
                                                      gsize                out_len,
                                                      const char          *err,
                                                      gsize                err_len);

gboolean            sotto_control_call               (const char          *profile_dir,
                                                      const char * const  *argv,
                                                      const char          *cwd,
                                                      int                 *out_status,
                                                      GBytes             **out_stdout,
                                                      GBytes             **out_stderr,
                                                      GError             **error);

G_END_DECLS
