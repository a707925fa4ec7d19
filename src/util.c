/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(freep) char *buf = NULL;
        size_t len = 0, size = 0;
        bool is_stdin = streq(path, "-");

        if (!is_stdin) {
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return -errno;
        }
        for (;;) {
                if (len + 1 >= size) {
                        size_t nsize = size ? size * 2 : 4096;
                        if (nsize > max + 2)
                                nsize = max + 2;
                        if (nsize <= len + 1)
                                return -EFBIG;
                        char *n = realloc(buf, nsize);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        size = nsize;
                }
                ssize_t k = read(is_stdin ? STDIN_FILENO : fd, buf + len, size - len - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > max)
                        return -EFBIG;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int cause_vfmt(char **ret_cause, int r, const char *fmt, va_list ap) {
        char *s;

        if (!ret_cause)
                return r;
        if (vasprintf(&s, fmt, ap) < 0)
                return -ENOMEM;
        free(*ret_cause);
        *ret_cause = s;
        return r;
}

int cause_fmt(char **ret_cause, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = cause_vfmt(ret_cause, -EINVAL, fmt, ap);
        va_end(ap);
        return r;
}

int64_t now_seconds(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec;
}

int64_t now_monotonic_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
