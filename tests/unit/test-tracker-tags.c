/* SPDX-License-Identifier: MIT */
/* The tracker's tags record: set, move, round trip through JSON, old trackers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "tap.h"
#include "tracker.h"

#define T0 INT64_C(1795688400) /* 2026-11-26T10:20:00Z */
#define DA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define REF "docker.io/library/nginx:1.27"

static void test_set_and_move(void) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new();
        char os[] = "linux", amd[] = "amd64", arm[] = "arm64", v8[] = "v8";
        struct tracker_platform ps[] = { { os, amd, NULL, 1000 }, { os, arm, v8, 900 } };
        struct tracker_tag *g;

        is_int(tracker_tag_set(t, REF, DA, T0, ps, 2), 0, "first resolution is no move");
        g = tracker_tag_find(t, REF);
        ok(g && streq(g->digest, DA) && g->n_platforms == 2 && g->changed_at == T0 && !g->previous,
           "recorded with platforms and changed_at");
        is_int(tracker_tag_set(t, REF, DA, T0 + 60, NULL, 0), 0, "same digest: no move");
        g = tracker_tag_find(t, REF);
        ok(g->seen_at == T0 + 60 && g->changed_at == T0 && g->n_platforms == 2 && g->moves == 0,
           "same digest: seen_at updated, platforms kept");
        is_int(tracker_tag_set(t, REF, DB, T0 + 120, NULL, 0), 1, "new digest: a move");
        g = tracker_tag_find(t, REF);
        ok(streq(g->digest, DB) && streq_ptr(g->previous, DA) && g->moves == 1 && g->changed_at == T0 + 120 &&
           g->n_platforms == 0, "move: previous kept, counted, platforms of the old digest dropped");
        is_int(tracker_tag_set(t, "", DA, T0, NULL, 0), -EINVAL, "empty ref refused");
}

static void test_round_trip(void) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new(), *back = NULL;
        _cleanup_(freep) char *out = NULL, *out2 = NULL, *cause = NULL;
        char os[] = "linux", arm[] = "arm64", v8[] = "v8";
        struct tracker_platform ps[] = { { os, arm, v8, 4242 } };

        (void) tracker_tag_set(t, REF, DA, T0, ps, 1);
        (void) tracker_tag_set(t, REF, DB, T0 + 5, ps, 1);
        is_int(tracker_to_json_string(t, true, &out, NULL), 0, "serialise with tags");
        ok(out && strstr(out, "\"tags\"") && strstr(out, "\"previous\": \"" DA "\""), "tags written");
        is_int(tracker_parse("t.json", out, strlen(out), &back, &cause), 0, "tags load back");
        if (cause)
                printf("#   %s\n", cause);
        is_int(tracker_to_json_string(back, true, &out2, NULL), 0, "serialise again");
        is_str(out2, out, "round trip is exact");
}

static void test_old_and_bad(void) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new(), *back = NULL;
        _cleanup_(freep) char *out = NULL, *cause = NULL, *bad = NULL;
        char *p;

        is_int(tracker_to_json_string(t, false, &out, NULL), 0, "a tracker without tags");
        ok(out && !strstr(out, "tags"), "no tags key written when there are none (old readers)");
        is_int(tracker_parse("old.json", out, strlen(out), &back, NULL), 0, "a tracker without tags loads");
        tracker_free(TAKE_PTR(back));
        free(out);
        out = NULL;
        (void) tracker_tag_set(t, REF, DA, T0, NULL, 0);
        (void) tracker_to_json_string(t, false, &out, NULL);
        p = strstr(out, "\"moves\": 0");
        ok(p != NULL, "output has moves");
        if (!p || asprintf(&bad, "%.*s\"moves\": -1%s", (int) (p - out), out, p + strlen("\"moves\": 0")) < 0)
                return;
        is_int(tracker_parse("bad.json", bad, strlen(bad), &back, &cause), -EBADMSG, "a bad tags entry refused");
        ok(cause && strstr(cause, "tags[0]"), "the cause names tags[0]: %s", strempty(cause));
}

int main(void) {
        test_set_and_move();
        test_round_trip();
        test_old_and_bad();
        return tap_done();
}
