/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>

#include <stddef.h>
#include <stdint.h>

/* Reads a whole file, a pipe, /dev/fd/N or "-" (standard input) into a NUL-terminated
 * buffer of at most max bytes. Returns 0 with *ret (caller frees) and *ret_len, -EFBIG
 * when larger than max, or a negative errno from open/read. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len);

/* Replaces *ret_cause (when ret_cause is not NULL) with a formatted message for the caller
 * to show. Returns -EINVAL, so a parser can `return cause_fmt(ret_cause, "...")`, or
 * -ENOMEM when the message cannot be built. */
int cause_fmt(char **ret_cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same with the arguments as a va_list, returning r instead of -EINVAL (or -ENOMEM). */
int cause_vfmt(char **ret_cause, int r, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* Current time in unix seconds (the only clock reader outside tests). */
int64_t now_seconds(void);

/* Monotonic milliseconds, for measuring durations. */
int64_t now_monotonic_ms(void);
