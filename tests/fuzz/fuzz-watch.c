/* SPDX-License-Identifier: MIT */
/* libFuzzer: arbitrary bytes as a watch stream and as a list body, fed in pieces whose
 * sizes come from the first byte; checks that feeding in pieces and in one go agree
 * (same result; same values when the input is good). */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "json-stream.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(json_object *o, void *userdata) {
        (*(size_t *) userdata)++;
        return 0;
}

static int count_member(const char *key, json_object *o, void *userdata) {
        return count(o, userdata);
}

static int run_values(const char *s, size_t len, size_t step, size_t *n) {
        struct json_values *v = json_values_new(count, n);
        int r = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < len && r >= 0; i += step)
                r = json_values_feed(v, s + i, MIN(step, len - i));
        if (r >= 0)
                r = json_values_finish(v);
        json_values_free(v);
        return r;
}

static int run_items(const char *s, size_t len, size_t step, size_t *n) {
        struct json_items *it = json_items_new(count, count_member, n);
        int r = 0;

        if (!it)
                return -ENOMEM;
        json_items_set_max(it, 4096);
        for (size_t i = 0; i < len && r >= 0; i += step)
                r = json_items_feed(it, s + i, MIN(step, len - i));
        if (r >= 0)
                r = json_items_finish(it);
        json_items_free(it);
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        size_t a = 0, b = 0, c = 0, d = 0, step;
        const char *s = (const char *) data + 1;

        if (size < 1)
                return 0;
        step = (size_t) data[0] % 17 + 1;
        size--;
        int r1 = run_values(s, size, size ? size : 1, &a);
        int r2 = run_values(s, size, step, &b);
        /* On malformed input json-c may notice the error a value earlier or later
         * depending on where the pieces end; on good input everything must agree. */
        if (r1 != r2 || (r1 >= 0 && a != b))
                abort();
        r1 = run_items(s, size, size ? size : 1, &c);
        r2 = run_items(s, size, step, &d);
        if (r1 != r2 || (r1 >= 0 && c != d))
                abort();
        return 0;
}
