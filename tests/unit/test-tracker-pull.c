/* SPDX-License-Identifier: MIT */
/* The history entry's optional "pull" (the registry rate a run measured): written only
 * when measured, read back the same, refused when malformed with the field named; a
 * version 2 file from before it (tests/data/tracker/valid.json) loads without one; an
 * unknown key in a history entry is ignored (what a reader before "pull" relies on). */
#include <errno.h>

#include "macro.h"
#include "tap.h"
#include "tracker.h"

#define DOC_HEAD "{\"version\": 2, \"cluster\": {\"server\": null, \"uid\": null}, \"run\": null, \"seeders\": [], "
#define ENTRY "\"id\": \"r1\", \"started_at\": null, \"finished_at\": null, \"result\": \"ok\", " \
              "\"seeders\": 2, \"images\": 1, \"failures\": 0"

static void test_round_trip(void) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new(), *l = NULL;
        _cleanup_(freep) char *a = NULL, *b = NULL, *cause = NULL;
        char r1[] = "r1", r2[] = "r2";
        struct tracker_history h = { .id = r1, .result = TRACKER_OUTCOME_OK, .seeders = 2 };

        for (int p = 0; p < _TRACKER_PHASE_MAX; p++)
                h.phase_seconds[p] = -1;
        is_int(tracker_history_add(t, &h), 0, "a run without a rate");
        is_int(tracker_to_json_string(t, false, &a, NULL), 0, "serialise");
        ok(a && !strstr(a, "\"pull\""), "no 'pull' written when nothing was measured");
        free(TAKE_PTR(a));
        h.id = r2;
        h.pull = (struct tracker_pull) { .rate = 23456789, .bytes = 300000000, .pulls = 6, .nodes = 3,
                                         .source = TRACKER_PULL_PHASE };
        is_int(tracker_history_add(t, &h), 0, "a run with a rate");
        is_int(tracker_to_json_string(t, false, &a, NULL), 0, "serialise");
        ok(a && strstr(a, "\"pull\": { \"rate\": 23456789, \"bytes\": 300000000, \"pulls\": 6, \"nodes\": 3, "
                          "\"from\": \"phase\" }"),
           "'pull' written with its figures");
        is_int(tracker_parse("t.json", a, strlen(a), &l, &cause), 0, "load it back %s", strempty(cause));
        ok(l && l->n_history == 2 && l->history[0].pull.rate == 0 && l->history[1].pull.rate == 23456789 &&
                   l->history[1].pull.bytes == 300000000 && l->history[1].pull.pulls == 6 &&
                   l->history[1].pull.nodes == 3 && l->history[1].pull.source == TRACKER_PULL_PHASE,
           "the figures read back");
        if (l)
                is_int(tracker_to_json_string(l, false, &b, NULL), 0, "serialise the loaded one");
        is_str(b, a, "same JSON after a round trip");
}

/* A version 2 tracker written before "pull" existed, and a version 1 one. */
static void test_old_file(void) {
        _cleanup_(tracker_freep) struct tracker *t = NULL;
        _cleanup_(freep) char *data = NULL, *cause = NULL;
        size_t len = 0;

        const char v2[] = DOC_HEAD "\"history\": [{" ENTRY ", \"phase_seconds\": {\"verify\": 100}}]}";

        is_int(tracker_parse("v2.json", v2, strlen(v2), &t, &cause), 0, "a version 2 history entry without 'pull' "
               "loads %s", strempty(cause));
        ok(t && t->version == 2 && t->n_history == 1 && t->history[0].pull.rate == 0 &&
                   t->history[0].phase_seconds[TRACKER_PHASE_VERIFY] == 100,
           "version 2, no measured rate");
        t = tracker_free(t);
        free(TAKE_PTR(data));
        data = tap_data("tests/data/tracker", "valid.json", &len);
        is_int(tracker_parse("valid.json", data, len, &t, &cause), 0, "version 1 valid.json loads %s",
               strempty(cause));
        ok(t && t->n_history > 0 && t->history[0].pull.rate == 0, "without a measured rate");
}

static void test_bad(void) {
        static const struct {
                const char *entry_tail, *cause;
        } cases[] = {
                { ", \"pull\": {\"rate\": 0, \"bytes\": 1, \"pulls\": 1, \"nodes\": 1, \"from\": \"events\"}",
                  "'history[0].pull' has a rate of 0" },
                { ", \"pull\": {\"rate\": -5, \"bytes\": 1, \"pulls\": 1, \"nodes\": 1, \"from\": \"events\"}",
                  "'history[0].pull.rate' is out of range" },
                { ", \"pull\": {\"rate\": 5, \"pulls\": 1, \"nodes\": 1, \"from\": \"events\"}",
                  "'history[0].pull.bytes' is missing" },
                { ", \"pull\": {\"rate\": 5, \"bytes\": 1, \"pulls\": 1, \"nodes\": 1, \"from\": \"guess\"}",
                  "'history[0].pull.from' has unknown value 'guess'" },
                { ", \"pull\": [1]", "'history[0].pull' must be an object" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(tracker_freep) struct tracker *t = NULL;
                _cleanup_(freep) char *doc = NULL, *cause = NULL;
                if (asprintf(&doc, DOC_HEAD "\"history\": [{" ENTRY "%s}]}", cases[i].entry_tail) < 0)
                        abort();
                int r = tracker_parse("t.json", doc, strlen(doc), &t, &cause);
                ok(r == -EBADMSG && cause && strstr(cause, cases[i].cause), "bad pull %zu refused: %s", i,
                   strempty(cause));
        }
}

/* Readers skip keys they do not know inside a history entry (docs/tracker.md, Versioning):
 * how a clyde-seed from before "pull" reads a file that has one. */
static void test_unknown_key(void) {
        _cleanup_(tracker_freep) struct tracker *t = NULL;
        _cleanup_(freep) char *cause = NULL;
        const char doc[] = DOC_HEAD "\"history\": [{" ENTRY ", \"pull2\": {\"x\": 1}}]}";

        is_int(tracker_parse("t.json", doc, strlen(doc), &t, &cause), 0, "an unknown history key is ignored %s",
               strempty(cause));
}

int main(void) {
        test_round_trip();
        test_old_file();
        test_bad();
        test_unknown_key();
        return tap_done();
}
