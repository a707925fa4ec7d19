/* SPDX-License-Identifier: MIT */
/* Unit tests for the tracker: model helpers, round trip of every field, atomic save,
 * strict load errors (fixtures in tests/data/tracker and inline documents), set-aside,
 * cluster identity, and the lock across processes. */

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "tap.h"
#include "tracker.h"

#if !defined(TRACKER_DATA_DIR) || !defined(TRACKER_DOC) || !defined(TRACKER_CORPUS)
#error "TRACKER_DATA_DIR, TRACKER_DOC and TRACKER_CORPUS must point into the source tree"
#endif

#define NOBODY 65534
#define T0 INT64_C(1795688400) /* 2026-11-26T10:20:00Z */
#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char tmpdir[] = "/tmp/test-tracker.XXXXXX";

static char *path_in_tmp(const char *name) {
        char *p;
        if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
                abort();
        return p;
}

static size_t count_dir_entries(const char *dir) {
        DIR *d = opendir(dir);
        size_t n = 0;
        struct dirent *e;

        if (!d)
                return SIZE_MAX;
        while ((e = readdir(d)))
                if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static size_t count_substr(const char *s, const char *needle) {
        size_t n = 0;
        for (const char *p = s; p && (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static void rm_rf_tmp(void) {
        DIR *d = opendir(tmpdir);
        struct dirent *e;

        if (!d)
                return;
        while ((e = readdir(d)))
                if (!streq(e->d_name, ".") && !streq(e->d_name, "..")) {
                        _cleanup_(freep) char *p = path_in_tmp(e->d_name);
                        (void) unlink(p);
                }
        closedir(d);
        (void) rmdir(tmpdir);
}

static void empty_tmp(void) {
        rm_rf_tmp();
        if (mkdir(tmpdir, 0700) < 0)
                abort();
}

/* --- enums, times, ids -------------------------------------------------------------- */

static void test_enums(void) {
        for (int p = 0; p < _TRACKER_PHASE_MAX; p++)
                is_int(tracker_phase_from_string(tracker_phase_to_string(p)), p, "phase %d round trip", p);
        for (int a = 0; a < _TRACKER_ACTION_MAX; a++)
                is_int(tracker_action_from_string(tracker_action_to_string(a)), a, "action %d round trip", a);
        for (int s = 0; s < _TRACKER_STATE_MAX; s++)
                is_int(tracker_state_from_string(tracker_state_to_string(s)), s, "state %d round trip", s);
        for (int o = 0; o < _TRACKER_OUTCOME_MAX; o++)
                is_int(tracker_outcome_from_string(tracker_outcome_to_string(o)), o, "outcome %d round trip", o);
        is_str(tracker_state_to_string(TRACKER_STATE_NODE_LOST), "node-lost", "node-lost spelling");
        is_str(tracker_state_to_string(TRACKER_STATE_NOT_APPLICABLE), "not-applicable", "not-applicable spelling");
        is_str(tracker_phase_to_string(TRACKER_PHASE_PRELOAD), "preload", "preload spelling");
        is_int(tracker_phase_from_string("Select"), -EINVAL, "phase names are case-sensitive");
        is_int(tracker_action_from_string(NULL), -EINVAL, "NULL action");
        ok(tracker_phase_to_string(_TRACKER_PHASE_MAX) == NULL, "out-of-range phase has no name");
        ok(tracker_state_to_string((enum tracker_state) - 1) == NULL, "negative state has no name");
}

static void test_times(void) {
        static const struct {
                const char *s;
                int r;
                int64_t t;
        } cases[] = {
                { "2026-11-26T10:20:00Z", 0, T0 },
                { "2026-11-26T10:20:00.123456Z", 0, T0 },
                { "2026-11-26T10:20:00+00:00", 0, T0 },
                { "2024-02-29T23:59:59Z", 0, INT64_C(1709251199) },
                { "1970-01-01T00:00:00Z", 0, 0 },
                { "2026-11-26T10:20:00", -EINVAL, 0 },
                { "2026-11-26T10:20:00+01:00", -EINVAL, 0 },
                { "2026-11-26 10:20:00Z", -EINVAL, 0 },
                { "2026-13-01T00:00:00Z", -EINVAL, 0 },
                { "2026-02-30T00:00:00Z", -EINVAL, 0 },
                { "2026-11-26T24:00:00Z", -EINVAL, 0 },
                { "26-11-26T10:20:00Z", -EINVAL, 0 },
                { "2026-11-26T10:20:00Zjunk", -EINVAL, 0 },
                { "9999-12-31T23:59:59Z", 0, INT64_C(253402300799) },
                { "9999-12-31T23:59:60Z", -EINVAL, 0 }, /* would be year 10000 */
                { "", -EINVAL, 0 },
        };
        char buf[64];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int64_t t = -1;
                int r = tracker_time_parse(cases[i].s, &t);
                is_int(r, cases[i].r, "parse '%s'", cases[i].s);
                if (r == 0)
                        is_int(t, cases[i].t, "value of '%s'", cases[i].s);
        }
        is_int(tracker_time_format(T0, buf, sizeof(buf)), 0, "format");
        is_str(buf, "2026-11-26T10:20:00Z", "formatted time");
        is_int(tracker_time_format(T0, buf, 5), -ERANGE, "format into a short buffer");
        /* Found by the fuzzer: years before 1000 must keep four digits to parse back. */
        int64_t early = 0;
        is_int(tracker_time_parse("0226-11-20T08:00:00Z", &early), 0, "parse year 226");
        is_int(tracker_time_format(early, buf, sizeof(buf)), 0, "format year 226");
        is_str(buf, "0226-11-20T08:00:00Z", "year 226 keeps four digits");
}

static void test_run_id(void) {
        char buf[TRACKER_RUN_ID_MAX];

        is_int(tracker_run_id(T0, 0xa1b2, buf, sizeof(buf)), 0, "run id");
        is_str(buf, "20261126t102000-a1b2", "run id text");
        is_int(tracker_run_id(T0 + 5, 0xdeadbeef, buf, sizeof(buf)), 0, "run id, wide random");
        is_str(buf, "20261126t102005-beef", "only 16 random bits are used");
        is_int(tracker_run_id(T0, 1, buf, sizeof(buf)), 0, "run id, small random");
        is_str(buf, "20261126t102000-0001", "random part is zero-padded");
        is_int(tracker_run_id(T0, 1, buf, 10), -ERANGE, "run id into a short buffer");
}

/* --- model helpers ------------------------------------------------------------------ */

static void test_model(void) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new();
        struct tracker_seeder *s = NULL;
        struct tracker_run *r;

        ok(t && t->version == TRACKER_VERSION && !t->run, "new tracker is empty, version %d", TRACKER_VERSION);
        is_int(tracker_seeder_add(t, "n1", "z1", "amd64", T0, true, &s), 0, "seeder added");
        ok(s && streq(s->node, "n1"), "seeder returned");
        is_int(tracker_seeder_add(t, "n1", "z2", NULL, T0 + 60, false, &s), 1, "seeder updated");
        is_str(s->zone, "z2", "zone updated");
        ok(!s->arch && !s->owned && s->labelled_at == T0, "arch cleared, owned updated, labelled_at kept");
        is_int(tracker_seeder_add(t, "", NULL, NULL, 0, false, NULL), -EINVAL, "empty node refused");
        is_int(tracker_seeder_set_image(s, "img:1", DIGEST_A, T0), 0, "held image added");
        is_int(tracker_seeder_set_image(s, "img:1", DIGEST_B, T0 + 1), 0, "held image updated");
        ok(s->n_images == 1 && streq(s->images[0].digest, DIGEST_B), "one held image, new digest");
        is_int(tracker_seeder_remove_image(s, "img:1"), 0, "held image removed");
        is_int(tracker_seeder_remove_image(s, "img:1"), -ENOENT, "held image gone");
        is_int(tracker_seeder_add(t, "n2", NULL, NULL, 0, true, NULL), 0, "second seeder");
        is_int(tracker_seeder_remove(t, "n1"), 0, "first seeder removed");
        ok(t->n_seeders == 1 && streq(t->seeders[0].node, "n2"), "the other one is left");
        is_int(tracker_seeder_remove(t, "n1"), -ENOENT, "removing twice");

        is_int(tracker_run_start(t, "run-1", T0), 0, "run started");
        r = t->run;
        ok(r->phase == TRACKER_PHASE_SELECT && r->started_at == T0 &&
                   r->phase_started_at[TRACKER_PHASE_SELECT] == T0,
           "a new run is in select");
        is_int(tracker_run_set_phase(r, TRACKER_PHASE_LABEL, T0 + 3), 0, "phase set");
        is_int(r->phase_started_at[TRACKER_PHASE_LABEL], T0 + 3, "phase time recorded");
        is_int(tracker_run_set_phase(r, _TRACKER_PHASE_MAX, T0), -EINVAL, "bad phase refused");
        is_int(tracker_run_add_image(r, "a:1", NULL), 0, "image 0");
        is_int(tracker_run_add_image(r, "b:1", DIGEST_B), 1, "image 1");
        is_int(tracker_run_add_image(r, "a:1", DIGEST_A), 0, "same ref updates image 0");
        is_str(r->images[0].digest, DIGEST_A, "digest resolved later");
        is_int(tracker_run_find_image(r, "c:1"), -ENOENT, "unknown image");

        is_int(tracker_plan_set(r, "n1", TRACKER_ACTION_ADD, "new"), 0, "plan add");
        tracker_plan_find(r, "n1")->done = true;
        is_int(tracker_plan_set(r, "n1", TRACKER_ACTION_ADD, "still new"), 0, "plan same action");
        ok(tracker_plan_find(r, "n1")->done, "done kept when the action is unchanged");
        is_int(tracker_plan_set(r, "n1", TRACKER_ACTION_DROP, NULL), 0, "plan other action");
        ok(!tracker_plan_find(r, "n1")->done && !tracker_plan_find(r, "n1")->reason,
           "done reset and reason cleared on a new action");
        is_int(tracker_plan_set(r, "n2", _TRACKER_ACTION_MAX, NULL), -EINVAL, "bad action refused");
        tracker_plan_clear(r);
        is_int(r->n_plan, 0, "plan cleared");

        is_int(tracker_run_add_daemonset(r, "ds-0"), 0, "daemonset added");
        is_int(tracker_run_add_daemonset(r, "ds-0"), 1, "daemonset not duplicated");
        is_int(tracker_run_add_daemonset(r, "ds-1"), 0, "second daemonset");
        is_int(tracker_run_remove_daemonset(r, "ds-0"), 0, "daemonset removed");
        ok(r->n_daemonsets == 1 && streq(r->daemonsets[0], "ds-1"), "the other is left");
        is_int(tracker_run_remove_daemonset(r, "ds-0"), -ENOENT, "removing twice");

        is_int(tracker_result_set(r, "n1", 0, TRACKER_STATE_WAITING, NULL, NULL, NULL), 0, "result added");
        is_int(tracker_result_set(r, "n1", 0, TRACKER_STATE_PULLED, DIGEST_A, NULL, NULL), 0, "result updated");
        is_int(tracker_result_set(r, "n2", 1, TRACKER_STATE_FAILED, NULL, "ErrImagePull", "nope"), 0, "another");
        is_int(tracker_result_set(r, "n1", 2, TRACKER_STATE_PULLED, NULL, NULL, NULL), -EINVAL, "image out of range");
        is_int(r->n_results, 2, "two results");
        ok(tracker_result_find(r, "n1", 0) && tracker_result_find(r, "n1", 0)->state == TRACKER_STATE_PULLED,
           "result found with its new state");
        ok(!tracker_result_find(r, "n1", 1), "no result for n1 x image 1");
        is_int(tracker_result_remove_node(r, "n1"), 1, "results of n1 removed");
        ok(!tracker_result_find(r, "n1", 0) && tracker_result_find(r, "n2", 1), "lookups right after removal");

        for (int i = 0; i < 25; i++) {
                char id[32];
                snprintf(id, sizeof(id), "run-%02d", i);
                struct tracker_history h = { .id = id, .started_at = T0 + i, .result = TRACKER_OUTCOME_OK };
                is_int(tracker_history_add(t, &h), 0, "history %d", i);
        }
        is_int(t->n_history, TRACKER_HISTORY_MAX, "history is capped");
        is_str(t->history[0].id, "run-05", "oldest entries dropped");
        is_str(t->history[TRACKER_HISTORY_MAX - 1].id, "run-24", "newest kept last");
        tracker_run_end(t);
        ok(!t->run, "run ended");
}

/* --- round trip --------------------------------------------------------------------- */

static struct tracker *build_full(void) {
        struct tracker *t = tracker_new();
        struct tracker_seeder *s;
        struct tracker_run *r;

        if (!t || tracker_set_cluster(t, "https://10.0.0.1:6443", "uid-1") < 0 ||
            tracker_run_start(t, "20261126t102000-a1b2", T0) < 0)
                abort();
        r = t->run;
        r->step = 42;
        r->target = 3;
        r->eligible = 7;
        (void) tracker_run_set_phase(r, TRACKER_PHASE_PRELOAD, T0 + 10);
        (void) tracker_run_set_phase(r, TRACKER_PHASE_VERIFY, T0 + 20);
        if (tracker_run_add_image(r, "docker.io/library/nginx:latest", DIGEST_A) != 0 ||
            tracker_run_add_image(r, "quay.io/x/y@" DIGEST_B, DIGEST_B) != 1 ||
            tracker_run_add_image(r, "registry:5000/unresolved:v1", NULL) != 2)
                abort();
        if (tracker_plan_set(r, "n1", TRACKER_ACTION_KEEP, NULL) < 0 ||
            tracker_plan_set(r, "n2", TRACKER_ACTION_ADOPT, "labelled by hand") < 0 ||
            tracker_plan_set(r, "n3", TRACKER_ACTION_WAIT, "NotReady for 60s") < 0)
                abort();
        r->plan[1].done = true;
        if (tracker_run_add_daemonset(r, "clyde-seed-a1b2-0") < 0 || tracker_run_add_daemonset(r, "clyde-seed-a1b2-1") < 0)
                abort();
        /* same digest as the image (left out of the JSON), none, another digest, text */
        if (tracker_result_set(r, "n1", 0, TRACKER_STATE_PULLED, DIGEST_A, NULL, NULL) < 0 ||
            tracker_result_set(r, "n1", 1, TRACKER_STATE_WAITING, NULL, NULL, NULL) < 0 ||
            tracker_result_set(r, "n2", 0, TRACKER_STATE_PULLED, DIGEST_B, NULL, NULL) < 0 ||
            tracker_result_set(r, "n2", 2, TRACKER_STATE_FAILED, NULL, "ErrImagePull",
                               "rpc error: \"not found\" /\\ é") < 0 ||
            tracker_result_set(r, "n3", 2, TRACKER_STATE_NODE_LOST, NULL, "NodeNotReady", NULL) < 0 ||
            tracker_result_set(r, "n3", 0, TRACKER_STATE_SKIPPED, DIGEST_A, NULL, NULL) < 0 ||
            tracker_result_set(r, "n3", 1, TRACKER_STATE_NOT_APPLICABLE, NULL, "platform",
                               "no match for platform in manifest: not found") < 0)
                abort();
        if (tracker_seeder_add(t, "n1", "eu-1a", "amd64", T0 - 3600, true, &s) < 0 ||
            tracker_seeder_set_image(s, "docker.io/library/nginx:latest", DIGEST_A, T0 - 3000) < 0 ||
            tracker_seeder_set_image(s, "registry:5000/unresolved:v1", NULL, 0) < 0 ||
            tracker_seeder_add(t, "n2", NULL, NULL, 0, false, NULL) < 0)
                abort();
        char id[] = "old-run";
        struct tracker_history h = { .id = id, .started_at = T0 - 7200, .finished_at = T0 - 7000,
                                     .result = TRACKER_OUTCOME_PARTIAL, .seeders = 2, .images = 3,
                                     .failures = 1, .not_applicable = 4,
                                     .phase_seconds = { -1, 1, 2, 3, 190, 4, -1 } };
        if (tracker_history_add(t, &h) < 0)
                abort();
        return t;
}

static void check_full(const struct tracker *t) {
        const struct tracker_run *r = t->run;

        is_int(t->version, TRACKER_VERSION, "rt version");
        is_str(t->server, "https://10.0.0.1:6443", "rt server");
        is_str(t->uid, "uid-1", "rt uid");
        if (!ok(r, "rt run present"))
                return;
        is_str(r->id, "20261126t102000-a1b2", "rt run id");
        is_int(r->phase, TRACKER_PHASE_VERIFY, "rt phase");
        is_int(r->started_at, T0, "rt started_at");
        is_int(r->step, 42, "rt step");
        is_int(r->target, 3, "rt target");
        is_int(r->eligible, 7, "rt eligible");
        ok(r->phase_started_at[TRACKER_PHASE_SELECT] == T0 && r->phase_started_at[TRACKER_PHASE_LABEL] == 0 &&
                   r->phase_started_at[TRACKER_PHASE_PRELOAD] == T0 + 10 &&
                   r->phase_started_at[TRACKER_PHASE_VERIFY] == T0 + 20,
           "rt phase_started_at");
        ok(r->n_images == 3 && streq(r->images[0].ref, "docker.io/library/nginx:latest") &&
                   streq_ptr(r->images[0].digest, DIGEST_A) && streq_ptr(r->images[1].digest, DIGEST_B) &&
                   streq(r->images[2].ref, "registry:5000/unresolved:v1") && !r->images[2].digest,
           "rt images");
        ok(r->n_plan == 3 && r->plan[0].action == TRACKER_ACTION_KEEP && !r->plan[0].reason && !r->plan[0].done &&
                   streq(r->plan[1].node, "n2") && r->plan[1].action == TRACKER_ACTION_ADOPT &&
                   streq_ptr(r->plan[1].reason, "labelled by hand") && r->plan[1].done &&
                   r->plan[2].action == TRACKER_ACTION_WAIT,
           "rt plan");
        ok(r->n_daemonsets == 2 && streq(r->daemonsets[1], "clyde-seed-a1b2-1"), "rt daemonsets");
        is_int(r->n_results, 7, "rt result count");
        struct tracker_run *rw = (struct tracker_run *) r;
        struct tracker_result *x = tracker_result_find(rw, "n1", 0);
        ok(x && x->state == TRACKER_STATE_PULLED && streq_ptr(x->digest, DIGEST_A), "rt result, digest as image");
        x = tracker_result_find(rw, "n1", 1);
        ok(x && x->state == TRACKER_STATE_WAITING && !x->digest, "rt result, no digest though image has one");
        x = tracker_result_find(rw, "n2", 0);
        ok(x && streq_ptr(x->digest, DIGEST_B), "rt result, digest other than the image's");
        x = tracker_result_find(rw, "n2", 2);
        ok(x && x->state == TRACKER_STATE_FAILED && streq_ptr(x->reason, "ErrImagePull") &&
                   streq_ptr(x->message, "rpc error: \"not found\" /\\ é") && !x->digest,
           "rt result, reason and message with quotes and UTF-8");
        x = tracker_result_find(rw, "n3", 2);
        ok(x && x->state == TRACKER_STATE_NODE_LOST && !x->message, "rt result, node-lost");
        x = tracker_result_find(rw, "n3", 0);
        ok(x && x->state == TRACKER_STATE_SKIPPED, "rt result, skipped");
        x = tracker_result_find(rw, "n3", 1);
        ok(x && x->state == TRACKER_STATE_NOT_APPLICABLE && streq_ptr(x->reason, "platform"),
           "rt result, not-applicable");
        if (!ok(t->n_seeders == 2, "rt seeder count"))
                return;
        const struct tracker_seeder *s = &t->seeders[0];
        ok(streq(s->node, "n1") && streq_ptr(s->zone, "eu-1a") && streq_ptr(s->arch, "amd64") &&
                   s->labelled_at == T0 - 3600 && s->owned,
           "rt seeder 0");
        ok(s->n_images == 2 && s->images[0].pulled_at == T0 - 3000 && streq_ptr(s->images[0].digest, DIGEST_A) &&
                   !s->images[1].digest && s->images[1].pulled_at == 0,
           "rt seeder 0 images");
        s = &t->seeders[1];
        ok(streq(s->node, "n2") && !s->zone && !s->arch && s->labelled_at == 0 && !s->owned && s->n_images == 0,
           "rt seeder 1 (nulls)");
        if (!ok(t->n_history == 1, "rt history count"))
                return;
        const struct tracker_history *h = &t->history[0];
        ok(streq(h->id, "old-run") && h->started_at == T0 - 7200 && h->finished_at == T0 - 7000 &&
                   h->result == TRACKER_OUTCOME_PARTIAL && h->seeders == 2 && h->images == 3 && h->failures == 1,
           "rt history");
        is_int(h->not_applicable, 4, "rt history not_applicable");
        ok(h->phase_seconds[TRACKER_PHASE_NONE] == -1 && h->phase_seconds[TRACKER_PHASE_SELECT] == 1 &&
                   h->phase_seconds[TRACKER_PHASE_VERIFY] == 190 && h->phase_seconds[TRACKER_PHASE_CLEANUP] == 4 &&
                   h->phase_seconds[TRACKER_PHASE_DONE] == -1,
           "rt history phase seconds");
}

static void test_round_trip(void) {
        _cleanup_(tracker_freep) struct tracker *t = build_full(), *l = NULL, *l2 = NULL;
        _cleanup_(freep) char *path = path_in_tmp("seeder_tracker.json"), *cause = NULL, *a = NULL, *b = NULL;

        empty_tmp();
        is_int(tracker_save(path, t, &cause), 0, "save full tracker");
        is_int(tracker_load(path, &l, &cause), 0, "load it back");
        if (cause)
                printf("# %s\n", cause);
        if (l)
                check_full(l);
        is_int(tracker_to_json_string(t, true, &a, NULL), 0, "serialise original");
        is_int(tracker_to_json_string(l, true, &b, NULL), 0, "serialise loaded");
        is_str(b, a, "same JSON after a round trip");
        /* DIGEST_A: run.images[0] and the seeder's image; the two results that only repeat
         * the image's digest leave it out. */
        is_int(count_substr(a, DIGEST_A), 2, "results do not repeat the image digest");
        ok(a && strstr(a, "\\/") == NULL, "slashes are not escaped");

        /* The shipped example (docs/tracker.md) is valid and means what it says. */
        is_int(tracker_load(TRACKER_DATA_DIR "/valid.json", &l2, &cause), 0, "valid.json loads");
        if (l2 && l2->run) {
                ok(l2->run->n_results == 4 && tracker_result_find(l2->run, "node-b", 0) &&
                           streq_ptr(tracker_result_find(l2->run, "node-b", 0)->digest,
                                     l2->run->images[0].digest),
                   "valid.json: a result without digest takes the image's");
                ok(tracker_result_find(l2->run, "node-b", 1) && !tracker_result_find(l2->run, "node-b", 1)->digest,
                   "valid.json: a null digest stays null");
                ok(l2->n_seeders == 2 && !l2->seeders[1].owned && l2->n_history == 1, "valid.json: seeders and history");
        }
        /* valid.json is a version 1 tracker: read as it is, written back as the current version. */
        is_int(l2 ? (long) l2->version : -1, 1, "valid.json: version 1 is read");
        if (l2) {
                _cleanup_(freep) char *v1 = NULL, *v1cause = NULL;
                is_int(tracker_to_json_string(l2, false, &v1, &v1cause), 0, "version 1 tracker serialised");
                ok(v1 && strstr(v1, "\"version\": 2") , "a version 1 tracker is written as version 2");
        }
}

/* Evictions and unseeded outcomes per seeder x image: written only when there is one,
 * read back the same; a pulled result forgets an earlier failure. */
static void test_evictions(void) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new(), *l = NULL;
        _cleanup_(freep) char *path = path_in_tmp("evictions.json"), *cause = NULL, *a = NULL, *b = NULL;
        struct tracker_seeder *s = NULL;

        empty_tmp();
        is_int(tracker_seeder_add(t, "node-a", NULL, NULL, 1000, true, &s), 0, "add seeder");
        is_int(tracker_seeder_set_image(s, "docker.io/library/nginx:1.27", NULL, 1000), 0, "held image");
        is_int(tracker_to_json_string(t, false, &a, NULL), 0, "serialise");
        ok(a && !strstr(a, "evictions") && !strstr(a, "unseeded"), "nothing new written without evictions");
        free(TAKE_PTR(a));
        s->images[0].evictions = 2;
        s->images[0].evicted_at = 2000;
        is_int(tracker_seeder_set_unseeded(s, "docker.io/library/x:1", TRACKER_STATE_FAILED, "ImagePullBackOff",
                                           "Failed to pull image \"x:1\": not found"), 0, "failed image");
        is_int(tracker_seeder_set_unseeded(s, "docker.io/library/arm:1", TRACKER_STATE_NOT_APPLICABLE, "platform",
                                           NULL), 0, "not applicable image");
        is_int(tracker_save(path, t, &cause), 0, "save");
        is_int(tracker_load(path, &l, &cause), 0, "load %s", strempty(cause));
        if (l && l->n_seeders == 1) {
                const struct tracker_seeder *ls = &l->seeders[0];
                ok(ls->images[0].evictions == 2 && ls->images[0].evicted_at == 2000, "evictions read back");
                ok(ls->n_unseeded == 2 && ls->unseeded[0].state == TRACKER_STATE_FAILED &&
                           streq_ptr(ls->unseeded[0].reason, "ImagePullBackOff") &&
                           ls->unseeded[1].state == TRACKER_STATE_NOT_APPLICABLE && !ls->unseeded[1].message,
                   "unseeded read back");
        }
        is_int(tracker_to_json_string(t, false, &a, NULL), 0, "serialise original");
        is_int(tracker_to_json_string(l, false, &b, NULL), 0, "serialise loaded");
        is_str(b, a, "same JSON after a round trip");
        is_int(tracker_seeder_set_unseeded(s, "docker.io/library/x:1", TRACKER_STATE_PULLED, NULL, NULL), 0,
               "pulled at last");
        ok(s->n_unseeded == 1 && streq(s->unseeded[0].ref, "docker.io/library/arm:1"), "the failure is forgotten");
        is_int(tracker_seeder_set_unseeded(s, "docker.io/library/y:1", TRACKER_STATE_WAITING, NULL, NULL), 0,
               "waiting records nothing");
        is_int(tracker_seeder_set_unseeded(s, "", TRACKER_STATE_FAILED, NULL, NULL), -EINVAL, "empty ref");
        ok(s->n_unseeded == 1, "still one");
}

/* The example in docs/tracker.md loads and is exactly what clyde-seed writes. */
static void test_doc_example(void) {
        _cleanup_(tracker_freep) struct tracker *t = NULL;
        _cleanup_(freep) char *doc = NULL, *cause = NULL, *out = NULL;
        size_t size = 0;
        FILE *f = fopen(TRACKER_DOC, "re");

        if (!ok(f, "open %s", TRACKER_DOC))
                return;
        ssize_t n = getdelim(&doc, &size, '\0', f);
        fclose(f);
        char *start = n > 0 ? strstr(doc, "```json\n") : NULL;
        char *end = start ? strstr(start + 8, "```") : NULL;
        if (!ok(start && end, "the doc has a json example"))
                return;
        start += 8;
        *end = '\0';
        is_int(tracker_parse("docs/tracker.md", start, strlen(start), &t, &cause), 0, "the example loads");
        if (cause)
                printf("#   %s\n", cause);
        if (!t)
                return;
        is_int(tracker_to_json_string(t, true, &out, NULL), 0, "serialise the example");
        is_str(out, start, "the example is in the layout clyde-seed writes");
}

/* The fuzzer's corpus replayed with its property: accepted -> saves and loads back the
 * same; refused -> with a cause. Keeps crashes the fuzzer found fixed in `make check`. */
static void test_corpus(void) {
        DIR *d = opendir(TRACKER_CORPUS);
        struct dirent *e;
        unsigned n = 0;

        if (!ok(d, "open %s", TRACKER_CORPUS))
                return;
        while ((e = readdir(d))) {
                _cleanup_(tracker_freep) struct tracker *t = NULL, *t2 = NULL;
                _cleanup_(freep) char *path = NULL, *cause = NULL, *a = NULL, *b = NULL;
                if (e->d_name[0] == '.')
                        continue;
                if (asprintf(&path, "%s/%s", TRACKER_CORPUS, e->d_name) < 0)
                        abort();
                n++;
                int r = tracker_load(path, &t, &cause);
                if (r < 0) {
                        ok(cause != NULL, "corpus %s: refused with a cause", e->d_name);
                        continue;
                }
                ok(tracker_to_json_string(t, true, &a, NULL) == 0 &&
                           tracker_parse("again", a, strlen(a), &t2, NULL) == 0 &&
                           tracker_to_json_string(t2, true, &b, NULL) == 0 && streq(a, b),
                   "corpus %s: accepted and stable across save and load", e->d_name);
        }
        closedir(d);
        ok(n >= 4, "corpus has its seeds (%u)", n);
}

/* --- atomic save -------------------------------------------------------------------- */

static void test_save(void) {
        _cleanup_(tracker_freep) struct tracker *t = build_full(), *l = NULL;
        _cleanup_(freep) char *path = path_in_tmp("seeder_tracker.json"), *cause = NULL;
        struct stat st;
        mode_t old;

        empty_tmp();
        old = umask(0);
        is_int(tracker_save(path, t, &cause), 0, "save with umask 000");
        umask(old);
        ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "mode is 0600 whatever the umask (%o)",
           (unsigned) (st.st_mode & 07777));
        is_int(count_dir_entries(tmpdir), 1, "no temp file left behind");

        /* Overwrite: a smaller tracker replaces the bigger one completely. */
        _cleanup_(tracker_freep) struct tracker *small = tracker_new();
        is_int(tracker_save(path, small, &cause), 0, "save over an existing tracker");
        is_int(tracker_load(path, &l, &cause), 0, "load the replacement");
        ok(l && !l->run && l->n_seeders == 0, "the replacement is what was saved");
        is_int(count_dir_entries(tmpdir), 1, "still no temp file");

        /* A failed save leaves nothing behind and names the file. */
        _cleanup_(freep) char *missing = path_in_tmp("no-such-dir/seeder_tracker.json");
        free(cause);
        cause = NULL;
        is_int(tracker_save(missing, t, &cause), -ENOENT, "save into a missing directory");
        ok(cause && strstr(cause, missing), "cause names the file: %s", strempty(cause));

        /* A directory in the way of the rename: old state kept, temp removed. */
        _cleanup_(freep) char *dirpath = path_in_tmp("is-a-dir");
        ok(mkdir(dirpath, 0700) == 0, "make a directory where the tracker should go");
        free(cause);
        cause = NULL;
        ok(tracker_save(dirpath, t, &cause) < 0, "save over a directory fails");
        ok(cause && strstr(cause, "rename"), "cause names the failed step: %s", strempty(cause));
        is_int(count_dir_entries(tmpdir), 2, "temp file removed after the failure");
        (void) rmdir(dirpath);

        /* A run field out of range is refused before anything is written. */
        t->run->phase = (enum tracker_phase) 99;
        free(cause);
        cause = NULL;
        is_int(tracker_save(path, t, &cause), -EINVAL, "bad phase is not written");
        ok(cause && strstr(cause, "out of range"), "cause: %s", strempty(cause));
}

/* --- load errors -------------------------------------------------------------------- */

static void test_load_fixtures(void) {
        static const struct {
                const char *file;
                int r;
                const char *cause; /* substring after "<path>: " */
        } cases[] = {
                { "no-such-file.json", -ENOENT, NULL },
                { "empty.json", -EBADMSG, "is empty" },
                { "truncated.json", -EBADMSG, "ends in the middle of the JSON document" },
                { "garbage.json", -EBADMSG, "is not valid JSON at byte " },
                { "array.json", -EBADMSG, "the top level must be a JSON object, not array" },
                { "seeder-node-not-string.json", -EBADMSG, "'seeders[3].node' must be a string" },
                { "future-version.json", -EPROTONOSUPPORT,
                  "version 7 is newer than this clyde-seed understands (2)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(tracker_freep) struct tracker *t = NULL;
                _cleanup_(freep) char *cause = NULL, *path = NULL, *want = NULL;

                if (asprintf(&path, "%s/%s", TRACKER_DATA_DIR, cases[i].file) < 0)
                        abort();
                is_int(tracker_load(path, &t, &cause), cases[i].r, "load %s", cases[i].file);
                ok(!t, "%s: nothing returned", cases[i].file);
                if (!cases[i].cause) {
                        ok(!cause, "%s: no cause", cases[i].file);
                        continue;
                }
                if (asprintf(&want, "%s: %s", path, cases[i].cause) < 0)
                        abort();
                ok(cause && startswith(cause, want), "%s: cause '%s'", cases[i].file, strempty(cause));
        }
}

/* Wrong shapes, one per line: the document is the minimal valid one with a change. */
#define MIN_HEAD "{\"version\":1,\"cluster\":{\"server\":\"https://k\",\"uid\":\"u\"},"
#define MIN_TAIL "\"seeders\":[],\"history\":[]}"
#define RUN_HEAD "\"run\":{\"id\":\"r\",\"phase\":\"verify\",\"started_at\":\"2026-11-26T10:20:00Z\",\"step\":1," \
                 "\"phase_started_at\":{},\"target\":1,\"eligible\":1,"
#define RUN_IMAGES "\"images\":[{\"ref\":\"a:1\",\"digest\":null}],"
#define RUN_REST "\"plan\":[],\"daemonsets\":[],\"results\":[]},"
#define SEEDER "{\"node\":\"n\",\"zone\":null,\"arch\":null,\"labelled_at\":null,\"owned\":true,\"images\":[]}"

static void test_parse_shapes(void) {
        static const struct {
                const char *doc;
                int r;
                const char *cause;
        } cases[] = {
                { MIN_HEAD "\"run\":null," MIN_TAIL, 0, NULL },
                { MIN_HEAD RUN_HEAD RUN_IMAGES RUN_REST MIN_TAIL, 0, NULL },
                { MIN_HEAD "\"run\":null," MIN_TAIL " \n\t", 0, NULL },
                { "null", -EBADMSG, "the top level must be a JSON object, not null" },
                { "42", -EBADMSG, "the top level must be a JSON object, not int" },
                { MIN_HEAD "\"run\":null," MIN_TAIL " {}", -EBADMSG, "has data after the JSON document" },
                { "{\"version\":\"1\"}", -EBADMSG, "'version' must be an integer" },
                { "{\"version\":1.0}", -EBADMSG, "'version' must be an integer" },
                { "{\"version\":0}", -EBADMSG, "'version' must be 1 or more" },
                { "{\"version\":3,\"cluster\":7}", -EPROTONOSUPPORT, "version 3 is newer" },
                { "{\"cluster\":{}}", -EBADMSG, "'version' is missing" },
                { "{\"version\":1}", -EBADMSG, "'cluster' is missing" },
                { "{\"version\":1,\"cluster\":[]}", -EBADMSG, "'cluster' must be an object" },
                { "{\"version\":1,\"cluster\":{\"server\":1}}", -EBADMSG, "'cluster.server' must be a string" },
                { "{\"version\":1,\"cluster\":{\"server\":\"s\",\"uid\":\"\"}}", -EBADMSG,
                  "'cluster.uid' must not be empty" },
                { MIN_HEAD MIN_TAIL, -EBADMSG, "'run' is missing" },
                { MIN_HEAD "\"run\":[]," MIN_TAIL, -EBADMSG, "'run' must be an object" },
                { MIN_HEAD "\"run\":{\"id\":5}," MIN_TAIL, -EBADMSG, "'run.id' must be a string" },
                { MIN_HEAD "\"run\":{\"id\":\"r\",\"phase\":\"dancing\"}," MIN_TAIL, -EBADMSG,
                  "'run.phase' has unknown value 'dancing'" },
                { MIN_HEAD "\"run\":{\"id\":\"r\",\"phase\":\"select\",\"started_at\":\"yesterday\"}," MIN_TAIL,
                  -EBADMSG, "'run.started_at' must be an RFC 3339 UTC time" },
                { MIN_HEAD "\"run\":{\"id\":\"r\",\"phase\":\"select\",\"started_at\":null}," MIN_TAIL, -EBADMSG,
                  "'run.started_at' must not be null" },
                { MIN_HEAD "\"run\":{\"id\":\"r\",\"phase\":\"select\",\"started_at\":\"2026-11-26T10:20:00Z\","
                           "\"step\":-1}," MIN_TAIL,
                  -EBADMSG, "'run.step' is out of range" },
                { MIN_HEAD RUN_HEAD "\"images\":[{\"ref\":\"a:1\"}]," RUN_REST MIN_TAIL, -EBADMSG,
                  "'run.images[0].digest' is missing" },
                { MIN_HEAD RUN_HEAD "\"images\":[\"a:1\"]," RUN_REST MIN_TAIL, -EBADMSG,
                  "'run.images[0]' must be an object" },
                { MIN_HEAD RUN_HEAD "\"images\":[{\"ref\":\"a\",\"digest\":null},{\"ref\":\"a\",\"digest\":null}],"
                           RUN_REST MIN_TAIL,
                  -EBADMSG, "'run.images[1].ref' repeats an earlier image" },
                { MIN_HEAD RUN_HEAD RUN_IMAGES "\"plan\":[{\"node\":\"n\",\"action\":\"add\",\"done\":\"yes\"}],"
                           "\"daemonsets\":[],\"results\":[]}," MIN_TAIL,
                  -EBADMSG, "'run.plan[0].done' must be true or false" },
                { MIN_HEAD RUN_HEAD RUN_IMAGES "\"plan\":[{\"node\":\"n\",\"action\":\"replace\",\"done\":true}],"
                           "\"daemonsets\":[],\"results\":[]}," MIN_TAIL,
                  -EBADMSG, "'run.plan[0].action' has unknown value 'replace'" },
                { MIN_HEAD RUN_HEAD RUN_IMAGES "\"plan\":[],\"daemonsets\":[\"a\",\"\"],\"results\":[]}," MIN_TAIL,
                  -EBADMSG, "'run.daemonsets[1]' must be a non-empty string" },
                { MIN_HEAD RUN_HEAD RUN_IMAGES "\"plan\":[],\"daemonsets\":[],"
                           "\"results\":[{\"node\":\"n\",\"image\":1,\"state\":\"pulled\"}]}," MIN_TAIL,
                  -EBADMSG, "'run.results[0].image' is not an index into 'run.images'" },
                { MIN_HEAD RUN_HEAD RUN_IMAGES "\"plan\":[],\"daemonsets\":[],"
                           "\"results\":[{\"node\":\"n\",\"image\":0,\"state\":\"done\"}]}," MIN_TAIL,
                  -EBADMSG, "'run.results[0].state' has unknown value 'done'" },
                { MIN_HEAD RUN_HEAD RUN_IMAGES "\"plan\":[],\"daemonsets\":[],"
                           "\"results\":[{\"node\":\"n\",\"image\":0,\"state\":\"failed\",\"reason\":3}]}," MIN_TAIL,
                  -EBADMSG, "'run.results[0].reason' must be a string" },
                { MIN_HEAD RUN_HEAD RUN_IMAGES "\"plan\":[],\"daemonsets\":[],"
                           "\"results\":[{\"node\":\"n\",\"image\":0,\"state\":\"pulled\"},"
                           "{\"node\":\"n\",\"image\":0,\"state\":\"failed\"}]}," MIN_TAIL,
                  -EBADMSG, "'run.results[1]' repeats an earlier node and image" },
                { MIN_HEAD "\"run\":null,\"seeders\":{},\"history\":[]}", -EBADMSG, "'seeders' must be an array" },
                { MIN_HEAD "\"run\":null,\"seeders\":[" SEEDER "," SEEDER "],\"history\":[]}", -EBADMSG,
                  "'seeders[1].node' repeats an earlier seeder" },
                { MIN_HEAD "\"run\":null,\"seeders\":[{\"node\":\"n\",\"zone\":null,\"arch\":null,"
                           "\"labelled_at\":null,\"owned\":1,\"images\":[]}],\"history\":[]}",
                  -EBADMSG, "'seeders[0].owned' must be true or false" },
                { MIN_HEAD "\"run\":null,\"seeders\":[{\"node\":\"n\",\"zone\":null,\"arch\":null,"
                           "\"labelled_at\":null,\"owned\":true,\"images\":[{\"ref\":\"a\",\"digest\":null,"
                           "\"pulled_at\":12}]}],\"history\":[]}",
                  -EBADMSG, "'seeders[0].images[0].pulled_at' must be an RFC 3339 time string" },
                { MIN_HEAD "\"run\":null,\"seeders\":[],\"history\":[{\"id\":\"h\",\"started_at\":null,"
                           "\"finished_at\":null,\"result\":\"meh\"}]}",
                  -EBADMSG, "'history[0].result' has unknown value 'meh'" },
                { MIN_HEAD "\"run\":null,\"seeders\":[],\"history\":[{\"id\":\"h\",\"started_at\":null,"
                           "\"finished_at\":null,\"result\":\"ok\",\"seeders\":1,\"images\":1,\"failures\":"
                           "4294967296}]}",
                  -EBADMSG, "'history[0].failures' is out of range" },
                { MIN_HEAD "\"run\":null,\"seeders\":[],\"history\":[{\"id\":\"h\",\"started_at\":null,"
                           "\"finished_at\":null,\"result\":\"ok\",\"seeders\":1,\"images\":1,\"failures\":0,"
                           "\"phase_seconds\":{\"verify\":\"long\"}}]}",
                  -EBADMSG, "'history[0].phase_seconds.verify' must be an integer" },
                { "{\"version\":1,\"cluster\":{\"server\":\"\xff\"}}", -EBADMSG, "is not valid JSON" },
                { "{\"version\":1,\"cluster\":{\"server\":\"a\\u0000b\"}}", -EBADMSG,
                  "'cluster.server' must not contain NUL" },
                { "{\"version\":1,}", -EBADMSG, "is not valid JSON" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(tracker_freep) struct tracker *t = NULL;
                _cleanup_(freep) char *cause = NULL, *want = NULL;
                const char *d = cases[i].doc;

                int r = tracker_parse("t.json", d, strlen(d), &t, &cause);
                is_int(r, cases[i].r, "shape %zu: %s", i, cases[i].cause ? cases[i].cause : "valid");
                if (!cases[i].cause) {
                        ok(t && !cause, "shape %zu: accepted", i);
                        if (cause)
                                printf("#   cause: %s\n", cause);
                        continue;
                }
                if (asprintf(&want, "t.json: %s", cases[i].cause) < 0)
                        abort();
                ok(!t && cause && startswith(cause, want), "shape %zu: cause '%s'", i, strempty(cause));
        }
}

/* --- symlinks, set-aside, cluster --------------------------------------------------- */

static void test_symlink_and_set_aside(void) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new(), *l = NULL;
        _cleanup_(freep) char *path = path_in_tmp("seeder_tracker.json"), *target = path_in_tmp("elsewhere.json"),
                              *cause = NULL, *np = NULL, *np2 = NULL, *want = NULL;
        struct stat st;

        empty_tmp();
        is_int(tracker_save(target, t, NULL), 0, "a good tracker elsewhere");
        ok(symlink(target, path) == 0, "tracker path is a symlink to it");
        is_int(tracker_load(path, &l, &cause), -ELOOP, "a symlink is refused");
        ok(cause && strstr(cause, "is a symbolic link"), "cause: %s", strempty(cause));
        ok(!l, "nothing loaded through the symlink");

        is_int(tracker_set_aside(path, T0, &np), 0, "set the symlink aside");
        if (asprintf(&want, "%s.corrupt-20261126T102000Z", path) < 0)
                abort();
        is_str(np, want, "set-aside name");
        ok(lstat(np, &st) == 0 && S_ISLNK(st.st_mode), "the link itself was moved");
        ok(stat(target, &st) == 0 && S_ISREG(st.st_mode), "its target is untouched");
        ok(lstat(path, &st) < 0 && errno == ENOENT, "the tracker path is free");

        /* Same second again: a suffix, never an overwrite. */
        ok(symlink(target, path) == 0, "another symlink");
        is_int(tracker_set_aside(path, T0, &np2), 0, "set aside again in the same second");
        free(want);
        if (asprintf(&want, "%s.corrupt-20261126T102000Z-1", path) < 0)
                abort();
        is_str(np2, want, "second set-aside gets -1");
        is_int(tracker_set_aside(path, T0, NULL), -ENOENT, "nothing to set aside");

        /* A directory is not a tracker. */
        ok(mkdir(path, 0700) == 0, "a directory at the tracker path");
        free(cause);
        cause = NULL;
        is_int(tracker_load(path, &l, &cause), -EBADMSG, "a directory is refused");
        ok(cause && strstr(cause, "is not a regular file"), "cause: %s", strempty(cause));
        (void) rmdir(path);

        /* A FIFO must not hang the load. */
        ok(mkfifo(path, 0600) == 0, "a FIFO at the tracker path");
        free(cause);
        cause = NULL;
        is_int(tracker_load(path, &l, &cause), -EBADMSG, "a FIFO is refused without blocking");
        ok(cause && strstr(cause, "is not a regular file"), "cause: %s", strempty(cause));
        (void) unlink(path);
}

/* tracker_load(path) in a child that is not root (root reads anything, so a root test
 * process drops to nobody first): its euid, the result and the cause come back. */
static int load_unprivileged(const char *path, uid_t *ret_euid, char *cause, size_t size) {
        int fd[2], status = 0, r = 0;
        pid_t pid;

        if (pipe(fd) < 0 || (pid = fork()) < 0)
                return -errno;
        if (pid == 0) {
                _cleanup_(tracker_freep) struct tracker *l = NULL;
                _cleanup_(freep) char *c = NULL;
                uid_t euid;

                close(fd[0]);
                if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
                                       setresuid(NOBODY, NOBODY, NOBODY) < 0))
                        _exit(2);
                euid = geteuid();
                r = tracker_load(path, &l, &c);
                if (write(fd[1], &euid, sizeof(euid)) != sizeof(euid) || write(fd[1], &r, sizeof(r)) != sizeof(r) ||
                    (c && write(fd[1], c, strlen(c)) < 0))
                        _exit(3);
                _exit(0);
        }
        close(fd[1]);
        memset(cause, 0, size);
        if (read(fd[0], ret_euid, sizeof(*ret_euid)) != sizeof(*ret_euid) || read(fd[0], &r, sizeof(r)) != sizeof(r))
                r = -EIO;
        else
                (void) !read(fd[0], cause, size - 1);
        close(fd[0]);
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                printf("# the unprivileged child failed (status %#x)\n", (unsigned) status);
                return -ECHILD;
        }
        return r;
}

static void test_unreadable(void) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new();
        _cleanup_(freep) char *path = path_in_tmp("seeder_tracker.json");
        char cause[512];
        uid_t euid = 0;

        empty_tmp();
        is_int(tracker_save(path, t, NULL), 0, "a tracker to make unreadable");
        /* nobody must reach and own it, so that only its mode stands in the way */
        if (geteuid() == 0)
                ok(chown(tmpdir, NOBODY, NOBODY) == 0 && chown(path, NOBODY, NOBODY) == 0,
                   "the directory and the tracker given to nobody");
        is_int(load_unprivileged(path, &euid, cause, sizeof(cause)), 0, "readable: the child loads it");
        ok(euid != 0, "the child is not root (euid %u)", (unsigned) euid);
        ok(chmod(path, 0) == 0, "chmod 000");
        is_int(load_unprivileged(path, &euid, cause, sizeof(cause)), -EACCES, "an unreadable tracker");
        ok(strstr(cause, "cannot be read: "), "cause: %s", cause);
        if (geteuid() == 0)
                ok(chown(tmpdir, 0, 0) == 0, "the directory goes back to root");
}

static void test_cluster(void) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new();
        _cleanup_(freep) char *cause = NULL;

        is_int(tracker_check_cluster(t, "https://a", "uid-a", &cause), 0, "a new tracker matches any cluster");
        is_int(tracker_set_cluster(t, "https://a", "uid-a"), 0, "record the cluster");
        is_int(tracker_check_cluster(t, "https://a", "uid-a", &cause), 0, "same cluster");
        is_int(tracker_check_cluster(t, "https://b", "uid-a", &cause), 1, "same uid through another URL");
        ok(!cause, "no cause when it matches");
        is_int(tracker_check_cluster(t, "https://b", "uid-b", &cause), -EXDEV, "another cluster");
        ok(cause && strstr(cause, "https://a") && strstr(cause, "uid-a") && strstr(cause, "https://b") &&
                   strstr(cause, "uid-b"),
           "the message names both: %s", strempty(cause));
        free(cause);
        cause = NULL;
        is_int(tracker_check_cluster(t, "https://a", NULL, &cause), -EXDEV, "cluster reports no uid");
}

/* --- lock --------------------------------------------------------------------------- */

struct lock_report {
        int r;
        pid_t holder;
};

/* In a child: tries the lock, reports through fd, then holds it (hold) or exits. */
_noreturn_ static void lock_child(const char *path, int fd, bool hold) {
        struct tracker_lock *l = NULL;
        struct lock_report rep = { .holder = -1 };

        rep.r = tracker_lock(path, &l, &rep.holder);
        if (write(fd, &rep, sizeof(rep)) != sizeof(rep))
                _exit(2);
        if (hold && rep.r == 0)
                for (;;)
                        pause();
        _exit(0);
}

static pid_t spawn_lock_child(const char *path, bool hold, struct lock_report *rep) {
        int p[2];
        pid_t pid;

        if (pipe(p) < 0)
                abort();
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                abort();
        if (pid == 0) {
                close(p[0]);
                lock_child(path, p[1], hold);
        }
        close(p[1]);
        if (read(p[0], rep, sizeof(*rep)) != sizeof(*rep))
                rep->r = 1;
        close(p[0]);
        return pid;
}

static void test_lock(void) {
        _cleanup_(freep) char *path = path_in_tmp("seeder_tracker.json"), *lp = path_in_tmp("seeder_tracker.json.lock");
        struct tracker_lock *l = NULL;
        struct lock_report rep;
        pid_t holder = -1, child;
        char buf[32] = {};
        struct stat st;
        int fd, status;
        mode_t old;

        empty_tmp();
        old = umask(0);
        is_int(tracker_lock(path, &l, &holder), 0, "take the lock");
        umask(old);
        ok(stat(lp, &st) == 0 && (st.st_mode & 07777) == 0600, "lock file is 0600 with umask 000");
        fd = open(lp, O_RDONLY | O_CLOEXEC);
        ok(fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 && atol(buf) == (long) getpid(), "lock file holds our pid");
        if (fd >= 0)
                close(fd);

        child = spawn_lock_child(path, false, &rep);
        is_int(rep.r, -EAGAIN, "a second process gets EAGAIN");
        is_int(rep.holder, getpid(), "and the holder's pid");
        ok(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child done");

        l = tracker_unlock(l);
        ok(!l, "unlock returns NULL");
        child = spawn_lock_child(path, true, &rep);
        is_int(rep.r, 0, "after unlock a child takes it");
        holder = -1;
        is_int(tracker_lock(path, &l, &holder), -EAGAIN, "now we are refused");
        is_int(holder, child, "naming the child");
        ok(kill(child, SIGKILL) == 0 && waitpid(child, &status, 0) == child && WIFSIGNALED(status),
           "child killed with SIGKILL");
        is_int(tracker_lock(path, &l, &holder), 0, "a lock left by a killed process does not block");
        l = tracker_unlock(l);

        ok(unlink(lp) == 0 && symlink("/tmp/elsewhere", lp) == 0, "lock path replaced by a symlink");
        is_int(tracker_lock(path, &l, &holder), -ELOOP, "a symlinked lock file is refused");
        ok(!l, "no lock returned");
}

/* --- size: 5,000 nodes x 10 images -------------------------------------------------- */

static double wall_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void test_large(void) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new(), *l = NULL;
        _cleanup_(freep) char *path = path_in_tmp("seeder_tracker.json"), *cause = NULL;
        enum { NODES = 5000, IMAGES = 10 };
        char node[32], ref[64], digest[80];
        int bad = 0;
        struct stat st;

        empty_tmp();
        double t0 = wall_seconds();
        if (tracker_run_start(t, "20261126t102000-a1b2", T0) < 0)
                abort();
        for (int i = 0; i < IMAGES; i++) {
                snprintf(ref, sizeof(ref), "registry.example:5000/team/app-%d:v1", i);
                snprintf(digest, sizeof(digest), "sha256:%064d", i);
                bad += tracker_run_add_image(t->run, ref, digest) != i;
        }
        for (int n = 0; n < NODES; n++) {
                struct tracker_seeder *s;
                snprintf(node, sizeof(node), "node-%05d", n);
                bad += tracker_plan_set(t->run, node, TRACKER_ACTION_ADD, NULL) < 0;
                bad += tracker_seeder_add(t, node, "zone-a", "amd64", T0, true, &s) < 0;
                for (int i = 0; i < IMAGES; i++) {
                        bool fail = (n + i) % 97 == 0;
                        bad += tracker_result_set(t->run, node, (size_t) i,
                                                  fail ? TRACKER_STATE_FAILED : TRACKER_STATE_PULLED,
                                                  fail ? NULL : t->run->images[i].digest,
                                                  fail ? "ErrImagePull" : NULL, NULL) < 0;
                        bad += tracker_seeder_set_image(s, t->run->images[i].ref, t->run->images[i].digest, T0) < 0;
                }
        }
        double t1 = wall_seconds();
        is_int(bad, 0, "50,000 results and 5,000 seeders built");
        is_int(t->run->n_results, NODES * IMAGES, "one result per node x image");
        is_int(tracker_save(path, t, &cause), 0, "save the large tracker");
        double t2 = wall_seconds();
        is_int(tracker_load(path, &l, &cause), 0, "load it back");
        double t3 = wall_seconds();
        ok(stat(path, &st) == 0, "file exists");
        printf("# 5,000 nodes x 10 images: build %.2fs, save %.2fs, load %.2fs, %.1f MiB\n", t1 - t0, t2 - t1,
               t3 - t2, (double) st.st_size / 1048576.0);
        if (!l || !l->run)
                return;
        is_int(l->run->n_results, NODES * IMAGES, "all results loaded");
        is_int(l->n_seeders, NODES, "all seeders loaded");
        struct tracker_result *x = tracker_result_find(l->run, "node-04850", 3);
        ok(x && x->state == TRACKER_STATE_PULLED && streq_ptr(x->digest, l->run->images[3].digest), "a pulled result");
        x = tracker_result_find(l->run, "node-00097", 0);
        ok(x && x->state == TRACKER_STATE_FAILED && !x->digest && streq_ptr(x->reason, "ErrImagePull"),
           "a failed result");
}

int main(void) {
        if (!mkdtemp(tmpdir)) {
                printf("Bail out! mkdtemp: %s\n", strerror(errno));
                return 1;
        }
        test_enums();
        test_times();
        test_run_id();
        test_model();
        test_round_trip();
        test_evictions();
        test_doc_example();
        test_corpus();
        test_save();
        test_load_fixtures();
        test_parse_shapes();
        test_symlink_and_set_aside();
        test_unreadable();
        test_cluster();
        test_lock();
        test_large();
        rm_rf_tmp();
        return tap_done();
}
