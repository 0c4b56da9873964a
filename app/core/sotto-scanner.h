/* sotto-scanner.h — a received file through the virus scanner
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "sotto-file-guard.h"

G_BEGIN_DECLS

/* A scan that takes longer is stopped and counts as failed. */
#define SOTTO_SCAN_TIMEOUT_S 300

char            *sotto_scanner_find_command (void);
void             sotto_scanner_scan_async   (const char           *command,
                                             const char           *path,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
SottoScanResult  sotto_scanner_scan_finish  (GAsyncResult         *result,
                                             char                **out_detail,
                                             GError              **error);
const char      *sotto_scan_result_to_string (SottoScanResult     result);

G_END_DECLS
