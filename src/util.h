/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Reads a whole file, a pipe, /dev/fd/N or "-" (standard input) into a NUL-terminated
 * buffer of at most max bytes. Returns 0 with *ret (caller frees) and *ret_len, -EFBIG
 * when larger than max, or a negative errno from open/read. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len);

/* Current time in unix seconds (the only clock reader outside tests). */
int64_t now_seconds(void);

/* Monotonic milliseconds, for measuring durations. */
int64_t now_monotonic_ms(void);
