/* sotto-time.h — times and days as people read them in lists and chats
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char     *sotto_time_format_short (gint64 usec,
                                   gint64 now_usec);
char     *sotto_time_format_day   (gint64 usec,
                                   gint64 now_usec);
char     *sotto_time_format_clock (gint64 usec);
char     *sotto_time_format_iso8601 (gint64 usec);
gboolean  sotto_time_same_day     (gint64 a_usec,
                                   gint64 b_usec);

G_END_DECLS
