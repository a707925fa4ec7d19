/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the tracker parser: any input must be accepted or refused with a
 * cause, never crash; what is accepted must serialise and parse back to the same JSON. */

#include <stdint.h>

#include "tracker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(tracker_freep) struct tracker *t = NULL, *t2 = NULL;
        _cleanup_(freep) char *cause = NULL, *s = NULL, *s2 = NULL;

        if (tracker_parse("fuzz.json", (const char *) data, size, &t, &cause) < 0) {
                /* Every refusal explains itself (allocation failures aside). */
                if (!cause)
                        abort();
                return 0;
        }
        if (tracker_to_json_string(t, false, &s, NULL) < 0)
                abort();
        if (tracker_parse("fuzz.json", s, strlen(s), &t2, NULL) < 0)
                abort();
        if (tracker_to_json_string(t2, false, &s2, NULL) < 0 || !streq(s, s2))
                abort();
        return 0;
}
