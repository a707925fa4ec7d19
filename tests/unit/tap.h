/* SPDX-License-Identifier: MIT */
/* A tiny TAP producer for unit tests: each check prints "ok N - what" or
 * "not ok N - what" with file:line, and tap_done() prints the plan and the exit code. */
#pragma once

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

__attribute__((unused)) static int tap_done(void) {
        printf("1..%d\n", tap_n);
        return tap_failed ? 1 : 0;
}
