/* fuzz-common.h — what every fuzz target shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The entry point libFuzzer (or replay-main.c) calls once per input. */
int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* Not g_assert(): a finding must abort even where assertions are
 * compiled out, and say which property broke. */
#define FUZZ_CHECK(condition) \
  do \
    { \
      if (!(condition)) \
        { \
          fprintf (stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #condition); \
          abort (); \
        } \
    } \
  while (0)
