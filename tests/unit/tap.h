/* SPDX-License-Identifier: MIT */
/* A tiny TAP producer for unit tests: each check prints "ok N - what" or
 * "not ok N - what" with file:line, and tap_done() prints the plan and the exit code. */
#pragma once

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int tap_n, tap_failed;

__attribute__((format(printf, 4, 5), unused)) static bool
tap_check(bool cond, const char *file, int line, const char *fmt, ...) {
        va_list ap;

        tap_n++;
        printf("%sok %d - ", cond ? "" : "not ", tap_n);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        if (!cond) {
                tap_failed++;
                printf("#   failed at %s:%d\n", file, line);
        }
        fflush(stdout);
        return cond;
}

#define ok(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                          \
        do {                                                                            \
                long long _g = (long long) (got), _w = (long long) (want);              \
                if (!tap_check(_g == _w, __FILE__, __LINE__, __VA_ARGS__))              \
                        printf("#   got %lld, want %lld\n", _g, _w);                    \
        } while (0)

#define is_str(got, want, ...)                                                          \
        do {                                                                            \
                const char *_g = (got), *_w = (want);                                   \
                bool _eq = (_g && _w) ? strcmp(_g, _w) == 0 : _g == _w;                 \
                if (!tap_check(_eq, __FILE__, __LINE__, __VA_ARGS__))                   \
                        printf("#   got '%s', want '%s'\n", _g ? _g : "(null)",          \
                               _w ? _w : "(null)");                                     \
        } while (0)

/* Reads $top_srcdir/dir/name whole (NUL-terminated; *ret_len may be NULL) or bails out. */
__attribute__((unused)) static char *tap_data(const char *dir, const char *name, size_t *ret_len) {
        const char *top = getenv("top_srcdir");
        char *path = NULL, *buf = NULL;
        size_t len = 0;

        if (asprintf(&path, "%s/%s/%s", top ? top : ".", dir, name) < 0)
                abort();
        if (read_full_file(path, 64u << 20, &buf, &len) < 0) {
                printf("Bail out! cannot read %s\n", path);
                exit(1);
        }
        free(path);
        if (ret_len)
                *ret_len = len;
        return buf;
}

__attribute__((unused)) static int tap_done(void) {
        printf("1..%d\n", tap_n);
        return tap_failed ? 1 : 0;
}
