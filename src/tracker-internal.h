/* SPDX-License-Identifier: MIT */
/* Shared between tracker.c (model, files) and tracker-json.c (JSON both ways). */
#pragma once

#include <stdarg.h>

#include "tracker.h"

/* Returns from the calling function when x is a negative errno. */
#define TRY(x)                          \
        do {                            \
                int _r_ = (x);          \
                if (_r_ < 0)            \
                        return _r_;     \
        } while (0)

/* Grows *p to hold at least need elements of size bytes. Returns false on ENOMEM. */
bool tracker_grow(void **p, size_t *alloc, size_t need, size_t size);
#define TRACKER_GROW(p, alloc, need) tracker_grow((void **) &(p), &(alloc), (need), sizeof(*(p)))

/* When ret_cause is not NULL, sets it to the formatted message (left NULL on ENOMEM).
 * Returns r, so callers can write `return tracker_cause(ret_cause, -EBADMSG, ...)`. */
int tracker_cause(char **ret_cause, int r, const char *fmt, ...) _printf_(3, 4);

/* Largest tracker file accepted by tracker_load(). */
#define TRACKER_FILE_MAX ((size_t) 256 * 1024 * 1024)
