/* SPDX-License-Identifier: MIT */
/* Regression for json_values (found by fuzz-watch): a value that spans pieces gives the
 * same result as in one piece, wherever the pieces end, including a number whose last
 * digit ends a piece and whose terminator opens the next one. */
#include <string.h>

#include "json-stream.h"
#include "macro.h"
#include "tap.h"

static int count(json_object *o, void *userdata) {
        (*(size_t *) userdata)++;
        return 0;
}

/* Feeds s in pieces of step bytes; returns the result, *n the values delivered. */
static int feed(const char *s, size_t len, size_t step, size_t *n) {
        _cleanup_(json_values_freep) struct json_values *v = json_values_new(count, n);
        int r = 0;

        *n = 0;
        for (size_t i = 0; i < len && r >= 0; i += step)
                r = json_values_feed(v, s + i, MIN(step, len - i));
        return r < 0 ? r : json_values_finish(v);
}

static const struct {
        const char *in;
        int result;
} cases[] = {
        { "33-\r", -EBADMSG },            /* "33" then "-": json-c alone accepts 33 */
        { "{\"a\":33-}", -EBADMSG },
        { "[33-]", -EBADMSG },
        { "0\t\t1\"\"\t\t", 0 },         /* 0, 1, "": the number ends at a piece end */
        { "{\"a\":[1,-2]}{\"b\":2e-5}\n", 0 },
        { "333333333333333333333333-\r", -EBADMSG },
        { "1-01-0 ", 0 },                  /* json-c reads 1, -01, -0 in one piece */
};

int main(void) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len = strlen(cases[i].in), whole_n = 0, bad = 0;
                int whole = feed(cases[i].in, len, len, &whole_n);

                is_int(whole, cases[i].result, "case %zu in one piece", i);
                for (size_t step = 1; step < len; step++) {
                        size_t n = 0;
                        int r = feed(cases[i].in, len, step, &n);

                        if (r != whole || (r >= 0 && n != whole_n))
                                bad++;
                }
                is_int(bad, 0, "case %zu: same result in pieces of every size", i);
        }
        return tap_done();
}
