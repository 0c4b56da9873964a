/* sotto-payload-private.h — the reference codecs: the fallback of the fast
 * paths, and what the tests and fuzz targets compare them with
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "sotto-payload.h"

G_BEGIN_DECLS

/* The GLib-only paths that the TEXT fast paths must agree with. */
SottoPayload *_sotto_payload_decode_glib (const guint8        *data,
                                          gsize                len,
                                          GError             **error);
GBytes       *_sotto_payload_encode_glib (const SottoPayload  *payload,
                                          GError             **error);

/* The GLib-only paths that the hello's fast paths must agree with. */
SottoHello   *_sotto_hello_decode_glib   (const guint8        *data,
                                          gsize                len,
                                          GError             **error);
GBytes       *_sotto_hello_encode_glib   (const SottoHello    *hello,
                                          GError             **error);

G_END_DECLS
