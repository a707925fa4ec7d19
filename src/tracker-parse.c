/* SPDX-License-Identifier: MIT */
/* JSON -> struct tracker with strict validation of every field, so that later code can
 * trust what it reads; tracker_load() and tracker_set_aside(). Messages name the file and
 * the field, e.g. "seeder_tracker.json: 'seeders[3].node' must be a string". */

#include <inttypes.h>
#include <json-c/json.h>
#include <stdint.h>
#include <time.h>

#include "fileio.h"
#include "json-util.h"
#include "tracker-internal.h"

#define WHERE_MAX 96

struct pctx {
        const char *name;
        char **cause;
};

enum {
        OPT = 1 << 0,      /* may be absent */
        NULLABLE = 1 << 1, /* may be null */
};

static int bad(struct pctx *c, const char *where, const char *what) {
        return tracker_cause(c->cause, -EBADMSG, "%s: '%s' %s", c->name, where, what);
}

/* "prefix.key", or "key" at the top. */
/* Paths are bounded by the schema's depth; a cut one still says where to look. */
static const char *at(char *buf, const char *prefix, const char *key) {
        int n = snprintf(buf, WHERE_MAX, "%s%s%s", strempty(prefix), isempty(prefix) ? "" : ".", key);
        if (n < 0)
                buf[0] = '\0';
        return buf;
}

static const char *at_index(char *buf, const char *prefix, size_t i) {
        int n = snprintf(buf, WHERE_MAX, "%s[%zu]", prefix, i);
        if (n < 0)
                buf[0] = '\0';
        return buf;
}

/* Looks key up. Returns 1 with *ret (borrowed, NULL for JSON null), 0 when absent and
 * allowed, or -EBADMSG. */
static int member(struct pctx *c, json_object *o, const char *prefix, const char *key,
                  unsigned flags, json_object **ret) {
        char w[WHERE_MAX];
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v)) {
                if (flags & OPT)
                        return 0;
                return bad(c, at(w, prefix, key), "is missing");
        }
        if (!v && !(flags & NULLABLE))
                return bad(c, at(w, prefix, key), "must not be null");
        *ret = v;
        return 1;
}

static int typed(struct pctx *c, json_object *o, const char *prefix, const char *key,
                 unsigned flags, json_type type, const char *what, json_object **ret) {
        char w[WHERE_MAX];
        json_object *v = NULL;
        int r = member(c, o, prefix, key, flags, &v);

        *ret = NULL;
        if (r <= 0 || !v)
                return r;
        if (!json_object_is_type(v, type))
                return bad(c, at(w, prefix, key), what);
        *ret = v;
        return 1;
}

/* Non-empty string (owned copy) or NULL when null/absent and allowed. */
static int get_str(struct pctx *c, json_object *o, const char *prefix, const char *key,
                   unsigned flags, char **ret) {
        char w[WHERE_MAX];
        json_object *v;

        *ret = NULL;
        TRY(typed(c, o, prefix, key, flags, json_type_string, "must be a string", &v));
        if (!v)
                return 0;
        if (json_object_get_string_len(v) == 0)
                return bad(c, at(w, prefix, key), "must not be empty");
        if (strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v))
                return bad(c, at(w, prefix, key), "must not contain NUL");
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

static int get_uint(struct pctx *c, json_object *o, const char *prefix, const char *key,
                    uint64_t max, uint64_t *ret) {
        char w[WHERE_MAX];
        json_object *v;

        TRY(typed(c, o, prefix, key, 0, json_type_int, "must be an integer", &v));
        int64_t x = json_object_get_int64(v);
        if (x < 0 || (uint64_t) x > max)
                return bad(c, at(w, prefix, key), "is out of range");
        *ret = (uint64_t) x;
        return 0;
}

static int get_unsigned(struct pctx *c, json_object *o, const char *prefix, const char *key,
                        unsigned *ret) {
        uint64_t v = 0;
        TRY(get_uint(c, o, prefix, key, UINT32_MAX, &v));
        *ret = (unsigned) v;
        return 0;
}

static int get_bool(struct pctx *c, json_object *o, const char *prefix, const char *key, bool *ret) {
        json_object *v;

        TRY(typed(c, o, prefix, key, 0, json_type_boolean, "must be true or false", &v));
        *ret = json_object_get_boolean(v);
        return 0;
}

/* RFC 3339 UTC time, or null (0). */
static int get_time(struct pctx *c, json_object *o, const char *prefix, const char *key,
                    unsigned flags, int64_t *ret) {
        char w[WHERE_MAX];
        json_object *v;

        *ret = 0;
        TRY(typed(c, o, prefix, key, flags, json_type_string, "must be an RFC 3339 time string", &v));
        if (v && (tracker_time_parse(json_object_get_string(v), ret) < 0 || *ret == 0))
                return bad(c, at(w, prefix, key), "must be an RFC 3339 UTC time like 2026-11-26T10:20:00Z");
        return 0;
}

/* A string from a fixed set, turned into its enum value with from(). */
static int get_enum(struct pctx *c, json_object *o, const char *prefix, const char *key,
                    int (*from)(const char *), const char *allowed, int *ret) {
        _cleanup_(freep) char *s = NULL, *msg = NULL;
        char w[WHERE_MAX];

        TRY(get_str(c, o, prefix, key, 0, &s));
        int v = from(s);
        if (v < 0) {
                if (asprintf(&msg, "has unknown value '%s' (expected %s)", s, allowed) < 0)
                        return -ENOMEM;
                return bad(c, at(w, prefix, key), msg);
        }
        *ret = v;
        return 0;
}

static int phase_from(const char *s) {
        return tracker_phase_from_string(s);
}
static int action_from(const char *s) {
        return tracker_action_from_string(s);
}
static int state_from(const char *s) {
        return tracker_state_from_string(s);
}
static int outcome_from(const char *s) {
        return tracker_outcome_from_string(s);
}
static int pull_source_from(const char *s) {
        return tracker_pull_source_from_string(s);
}

static int get_array(struct pctx *c, json_object *o, const char *prefix, const char *key,
                     json_object **ret) {
        return typed(c, o, prefix, key, 0, json_type_array, "must be an array", ret);
}

static int get_object(struct pctx *c, json_object *o, const char *prefix, const char *key,
                      unsigned flags, json_object **ret) {
        return typed(c, o, prefix, key, flags, json_type_object, "must be an object", ret);
}

/* Element i of array a, which must be an object; where receives "prefix[i]". */
static int element(struct pctx *c, json_object *a, const char *prefix, size_t i, char *where,
                   json_object **ret) {
        json_object *e = json_object_array_get_idx(a, i);

        at_index(where, prefix, i);
        if (!e || !json_object_is_type(e, json_type_object))
                return tracker_cause(c->cause, -EBADMSG, "%s: '%s' must be an object", c->name, where);
        *ret = e;
        return 0;
}

/* --- run -------------------------------------------------------------------------- */

static int parse_run_images(struct pctx *c, json_object *o, struct tracker_run *r) {
        char w[WHERE_MAX], k[WHERE_MAX];
        json_object *a, *e;

        TRY(get_array(c, o, "run", "images", &a));
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                _cleanup_(freep) char *ref = NULL, *digest = NULL;
                TRY(element(c, a, "run.images", i, w, &e));
                TRY(get_str(c, e, w, "ref", 0, &ref));
                TRY(get_str(c, e, w, "digest", NULLABLE, &digest));
                if (tracker_run_find_image(r, ref) >= 0)
                        return bad(c, at(k, w, "ref"), "repeats an earlier image");
                TRY(tracker_run_add_image(r, ref, digest));
        }
        return 0;
}

static int parse_plan(struct pctx *c, json_object *o, struct tracker_run *r) {
        char w[WHERE_MAX], k[WHERE_MAX];
        json_object *a, *e;

        TRY(get_array(c, o, "run", "plan", &a));
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                _cleanup_(freep) char *node = NULL, *reason = NULL;
                int action;
                bool done;
                TRY(element(c, a, "run.plan", i, w, &e));
                TRY(get_str(c, e, w, "node", 0, &node));
                TRY(get_enum(c, e, w, "action", action_from, "keep, adopt, add, drop, gone or wait", &action));
                TRY(get_str(c, e, w, "reason", NULLABLE | OPT, &reason));
                TRY(get_bool(c, e, w, "done", &done));
                if (tracker_plan_find(r, node))
                        return bad(c, at(k, w, "node"), "repeats an earlier plan entry");
                TRY(tracker_plan_set(r, node, action, reason));
                r->plan[r->n_plan - 1].done = done;
        }
        return 0;
}

static int parse_daemonsets(struct pctx *c, json_object *o, struct tracker_run *r) {
        char w[WHERE_MAX];
        json_object *a;

        TRY(get_array(c, o, "run", "daemonsets", &a));
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *e = json_object_array_get_idx(a, i);
                at_index(w, "run.daemonsets", i);
                if (!e || !json_object_is_type(e, json_type_string) || json_object_get_string_len(e) == 0)
                        return tracker_cause(c->cause, -EBADMSG, "%s: '%s' must be a non-empty string", c->name, w);
                int k = tracker_run_add_daemonset(r, json_object_get_string(e));
                if (k < 0)
                        return k;
                if (k > 0)
                        return tracker_cause(c->cause, -EBADMSG, "%s: '%s' repeats an earlier name", c->name, w);
        }
        return 0;
}

/* "digest" absent means: the same as the run image's digest (see docs/tracker.md). */
static int parse_result(struct pctx *c, json_object *e, const char *w, struct tracker_run *r) {
        _cleanup_(freep) char *node = NULL, *digest = NULL, *reason = NULL, *message = NULL;
        char k[WHERE_MAX];
        json_object *dv = NULL;
        uint64_t image;
        int state, has_digest;

        TRY(get_str(c, e, w, "node", 0, &node));
        TRY(get_uint(c, e, w, "image", SIZE_MAX, &image));
        if (image >= r->n_images)
                return bad(c, at(k, w, "image"), "is not an index into 'run.images'");
        TRY(get_enum(c, e, w, "state", state_from, "waiting, pulled, failed, skipped, node-lost or not-applicable", &state));
        TRY(has_digest = member(c, e, w, "digest", OPT | NULLABLE, &dv));
        if (has_digest)
                TRY(get_str(c, e, w, "digest", OPT | NULLABLE, &digest));
        else if (r->images[image].digest && !(digest = strdup(r->images[image].digest)))
                return -ENOMEM;
        TRY(get_str(c, e, w, "reason", OPT | NULLABLE, &reason));
        TRY(get_str(c, e, w, "message", OPT | NULLABLE, &message));
        if (tracker_result_find(r, node, (size_t) image))
                return bad(c, w, "repeats an earlier node and image");
        return tracker_result_set(r, node, (size_t) image, state, digest, reason, message);
}

static int parse_results(struct pctx *c, json_object *o, struct tracker_run *r) {
        char w[WHERE_MAX];
        json_object *a, *e;

        TRY(get_array(c, o, "run", "results", &a));
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                TRY(element(c, a, "run.results", i, w, &e));
                TRY(parse_result(c, e, w, r));
        }
        return 0;
}

static int parse_phase_times(struct pctx *c, json_object *o, struct tracker_run *r) {
        json_object *ps;

        TRY(get_object(c, o, "run", "phase_started_at", 0, &ps));
        for (int p = 0; p < _TRACKER_PHASE_MAX; p++)
                TRY(get_time(c, ps, "run.phase_started_at", tracker_phase_to_string(p),
                             OPT | NULLABLE, &r->phase_started_at[p]));
        return 0;
}

static int parse_run(struct pctx *c, json_object *o, struct tracker_run **ret) {
        struct tracker_run *r = calloc(1, sizeof(*r));
        int phase;

        if (!r)
                return -ENOMEM;
        *ret = r; /* owned by the caller from here, even on failure */
        TRY(get_str(c, o, "run", "id", 0, &r->id));
        TRY(get_enum(c, o, "run", "phase", phase_from,
                     "none, select, label, preload, verify, cleanup or done", &phase));
        r->phase = phase;
        TRY(get_time(c, o, "run", "started_at", 0, &r->started_at));
        if (r->started_at == 0)
                return bad(c, "run.started_at", "must not be null");
        TRY(get_uint(c, o, "run", "step", INT64_MAX, &r->step));
        TRY(parse_phase_times(c, o, r));
        TRY(get_unsigned(c, o, "run", "target", &r->target));
        TRY(get_unsigned(c, o, "run", "eligible", &r->eligible));
        TRY(parse_run_images(c, o, r));
        TRY(parse_plan(c, o, r));
        TRY(parse_daemonsets(c, o, r));
        return parse_results(c, o, r);
}

/* --- seeders and history ---------------------------------------------------------- */

/* Optional: "evictions" (count) and "evicted_at" (time or null). */
static int parse_evictions(struct pctx *c, json_object *e, const char *w, struct tracker_held_image *h) {
        json_object *v = NULL;
        uint64_t n = 0;

        TRY(member(c, e, w, "evictions", OPT, &v));
        if (v)
                TRY(get_uint(c, e, w, "evictions", UINT32_MAX, &n));
        h->evictions = (unsigned) n;
        v = NULL;
        if (member(c, e, w, "evicted_at", OPT | NULLABLE, &v) > 0 && v)
                TRY(get_time(c, e, w, "evicted_at", NULLABLE, &h->evicted_at));
        return 0;
}

static int parse_held_images(struct pctx *c, json_object *o, const char *prefix,
                             struct tracker_seeder *s) {
        char w[WHERE_MAX], k[WHERE_MAX], p[WHERE_MAX];
        json_object *a, *e;

        TRY(get_array(c, o, prefix, "images", &a));
        at(p, prefix, "images");
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                _cleanup_(freep) char *ref = NULL, *digest = NULL;
                int64_t pulled_at;
                TRY(element(c, a, p, i, w, &e));
                TRY(get_str(c, e, w, "ref", 0, &ref));
                TRY(get_str(c, e, w, "digest", NULLABLE, &digest));
                TRY(get_time(c, e, w, "pulled_at", NULLABLE, &pulled_at));
                if (tracker_seeder_find_image(s, ref))
                        return bad(c, at(k, w, "ref"), "repeats an earlier image");
                TRY(tracker_seeder_set_image(s, ref, digest, pulled_at));
                TRY(parse_evictions(c, e, w, &s->images[s->n_images - 1]));
        }
        return 0;
}

/* Optional "unseeded": [{ref, state (failed, not-applicable, node-lost), reason, message}]. */
static int parse_unseeded(struct pctx *c, json_object *o, const char *prefix, struct tracker_seeder *s) {
        char w[WHERE_MAX], p[WHERE_MAX];
        json_object *a = NULL, *e;

        TRY(member(c, o, prefix, "unseeded", OPT, &a));
        if (!a)
                return 0;
        TRY(get_array(c, o, prefix, "unseeded", &a));
        at(p, prefix, "unseeded");
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                _cleanup_(freep) char *ref = NULL, *reason = NULL, *message = NULL;
                int state;
                TRY(element(c, a, p, i, w, &e));
                TRY(get_str(c, e, w, "ref", 0, &ref));
                TRY(get_enum(c, e, w, "state", state_from, "failed, not-applicable or node-lost", &state));
                if (state != TRACKER_STATE_FAILED && state != TRACKER_STATE_NOT_APPLICABLE &&
                    state != TRACKER_STATE_NODE_LOST)
                        return bad(c, w, "state must be failed, not-applicable or node-lost");
                TRY(get_str(c, e, w, "reason", NULLABLE, &reason));
                TRY(get_str(c, e, w, "message", NULLABLE, &message));
                TRY(tracker_seeder_set_unseeded(s, ref, state, reason, message));
        }
        return 0;
}

static int parse_seeder(struct pctx *c, json_object *e, const char *w, struct tracker *t) {
        _cleanup_(freep) char *node = NULL, *zone = NULL, *arch = NULL;
        char k[WHERE_MAX];
        struct tracker_seeder *s;
        int64_t labelled_at;
        bool owned;
        int r;

        TRY(get_str(c, e, w, "node", 0, &node));
        TRY(get_str(c, e, w, "zone", NULLABLE, &zone));
        TRY(get_str(c, e, w, "arch", NULLABLE, &arch));
        TRY(get_time(c, e, w, "labelled_at", NULLABLE, &labelled_at));
        TRY(get_bool(c, e, w, "owned", &owned));
        if (tracker_seeder_find(t, node))
                return bad(c, at(k, w, "node"), "repeats an earlier seeder");
        r = tracker_seeder_add(t, node, zone, arch, labelled_at, owned, &s);
        if (r < 0)
                return r;
        TRY(parse_held_images(c, e, w, s));
        return parse_unseeded(c, e, w, s);
}

/* Optional "pull" (a measured rate): {rate > 0, bytes, pulls, nodes, from}. */
static int parse_pull(struct pctx *c, json_object *e, const char *w, struct tracker_pull *ret) {
        char p[WHERE_MAX];
        json_object *po;
        uint64_t rate, bytes;
        int from;

        TRY(get_object(c, e, w, "pull", OPT, &po));
        if (!po)
                return 0;
        at(p, w, "pull");
        TRY(get_uint(c, po, p, "rate", INT64_MAX, &rate));
        if (rate == 0)
                return bad(c, p, "has a rate of 0 (a run that measured none has no 'pull')");
        TRY(get_uint(c, po, p, "bytes", INT64_MAX, &bytes));
        TRY(get_unsigned(c, po, p, "pulls", &ret->pulls));
        TRY(get_unsigned(c, po, p, "nodes", &ret->nodes));
        TRY(get_enum(c, po, p, "from", pull_source_from, "events or phase", &from));
        ret->rate = (int64_t) rate;
        ret->bytes = (int64_t) bytes;
        ret->source = from;
        return 0;
}

static int parse_history_entry(struct pctx *c, json_object *e, const char *w, struct tracker *t) {
        _cleanup_(freep) char *id = NULL;
        struct tracker_history h = {};
        json_object *ps;
        char p[WHERE_MAX];
        int result;

        TRY(get_str(c, e, w, "id", 0, &id));
        h.id = id;
        TRY(get_time(c, e, w, "started_at", NULLABLE, &h.started_at));
        TRY(get_time(c, e, w, "finished_at", NULLABLE, &h.finished_at));
        TRY(get_enum(c, e, w, "result", outcome_from, "ok, partial or failed", &result));
        h.result = result;
        TRY(get_unsigned(c, e, w, "seeders", &h.seeders));
        TRY(get_unsigned(c, e, w, "images", &h.images));
        TRY(get_unsigned(c, e, w, "failures", &h.failures));
        if (json_object_object_get_ex(e, "not_applicable", NULL))
                TRY(get_unsigned(c, e, w, "not_applicable", &h.not_applicable));
        TRY(get_object(c, e, w, "phase_seconds", OPT, &ps));
        at(p, w, "phase_seconds");
        for (int i = 0; i < _TRACKER_PHASE_MAX; i++) {
                uint64_t v;
                h.phase_seconds[i] = -1;
                if (ps && json_object_object_get_ex(ps, tracker_phase_to_string(i), NULL)) {
                        TRY(get_uint(c, ps, p, tracker_phase_to_string(i), INT64_MAX, &v));
                        h.phase_seconds[i] = (int64_t) v;
                }
        }
        TRY(parse_pull(c, e, w, &h.pull));
        return tracker_history_add(t, &h);
}

static int parse_platform(struct pctx *c, json_object *e, const char *w, struct tracker_platform *p) {
        json_object *v;

        TRY(get_str(c, e, w, "os", 0, &p->os));
        TRY(get_str(c, e, w, "arch", 0, &p->arch));
        TRY(get_str(c, e, w, "variant", OPT | NULLABLE, &p->variant));
        TRY(typed(c, e, w, "size", 0, json_type_int, "must be an integer", &v));
        p->size = json_object_get_int64(v);
        return p->size < -1 ? bad(c, w, "has a size below -1") : 0;
}

/* A tags entry; platforms are parsed into a local array handed to tracker_tag_set(). */
static int parse_tag_entry(struct pctx *c, json_object *e, const char *w, struct tracker *t) {
        _cleanup_(freep) char *ref = NULL, *digest = NULL, *previous = NULL;
        struct tracker_platform ps[64] = {};
        struct tracker_tag g = {};
        char pw[WHERE_MAX], aw[WHERE_MAX];
        json_object *a, *pe;
        size_t n = 0;
        int r = 0;

        TRY(get_str(c, e, w, "ref", 0, &ref));
        TRY(get_str(c, e, w, "digest", 0, &digest));
        TRY(get_str(c, e, w, "previous", NULLABLE, &previous));
        TRY(get_time(c, e, w, "seen_at", 0, &g.seen_at));
        TRY(get_time(c, e, w, "changed_at", 0, &g.changed_at));
        TRY(get_uint(c, e, w, "moves", UINT32_MAX, &g.moves));
        TRY(get_array(c, e, w, "platforms", &a));
        if (json_object_array_length(a) > ELEMENTSOF(ps))
                return bad(c, w, "has more than 64 platforms");
        for (size_t i = 0; r >= 0 && i < json_object_array_length(a); i++, n++) {
                r = element(c, a, at(aw, w, "platforms"), i, pw, &pe);
                if (r >= 0)
                        r = parse_platform(c, pe, pw, &ps[i]);
        }
        if (r >= 0 && tracker_tag_find(t, ref))
                r = bad(c, w, "repeats a ref");
        if (r >= 0)
                r = tracker_tag_set(t, ref, digest, g.seen_at, ps, n);
        if (r >= 0) {
                struct tracker_tag *x = tracker_tag_find(t, ref);
                x->changed_at = g.changed_at;
                x->moves = g.moves;
                x->previous = TAKE_PTR(previous);
        }
        for (size_t i = 0; i <= n && i < ELEMENTSOF(ps); i++) {
                free(ps[i].os);
                free(ps[i].arch);
                free(ps[i].variant);
        }
        return r < 0 ? r : 0;
}

/* Parses the array at key with one callback per element object. */
static int parse_list(struct pctx *c, json_object *o, const char *key, struct tracker *t,
                      int (*one)(struct pctx *, json_object *, const char *, struct tracker *)) {
        char w[WHERE_MAX];
        json_object *a, *e;

        TRY(get_array(c, o, NULL, key, &a));
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                TRY(element(c, a, key, i, w, &e));
                TRY(one(c, e, w, t));
        }
        return 0;
}

/* --- the document ----------------------------------------------------------------- */

static int parse_version(struct pctx *c, json_object *o, unsigned *ret) {
        json_object *v;

        TRY(typed(c, o, NULL, "version", 0, json_type_int, "must be an integer", &v));
        int64_t x = json_object_get_int64(v);
        if (x < 1)
                return bad(c, "version", "must be 1 or more");
        if (x > TRACKER_VERSION)
                return tracker_cause(c->cause, -EPROTONOSUPPORT,
                                     "%s: version %" PRId64 " is newer than this clyde-seed understands (%d)",
                                     c->name, x, TRACKER_VERSION);
        *ret = (unsigned) x;
        return 0;
}

static int parse_document(struct pctx *c, json_object *o, struct tracker *t) {
        json_object *cl, *run;

        if (!json_object_is_type(o, json_type_object))
                return tracker_cause(c->cause, -EBADMSG, "%s: the top level must be a JSON object, not %s",
                                     c->name, json_type_to_name(json_object_get_type(o)));
        TRY(parse_version(c, o, &t->version));
        TRY(get_object(c, o, NULL, "cluster", 0, &cl));
        TRY(get_str(c, cl, "cluster", "server", NULLABLE, &t->server));
        TRY(get_str(c, cl, "cluster", "uid", NULLABLE, &t->uid));
        TRY(get_object(c, o, NULL, "run", NULLABLE, &run));
        if (run)
                TRY(parse_run(c, run, &t->run));
        TRY(parse_list(c, o, "seeders", t, parse_seeder));
        TRY(parse_list(c, o, "history", t, parse_history_entry));
        if (json_object_object_get_ex(o, "tags", NULL)) /* absent in trackers before tags */
                TRY(parse_list(c, o, "tags", t, parse_tag_entry));
        return 0;
}

static bool only_space(const char *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!strchr(" \t\r\n", p[i]))
                        return false;
        return true;
}

static int parse_json(struct pctx *c, const char *data, size_t size, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        struct json_tokener *tok;
        enum json_tokener_error e;
        size_t end;

        if (only_space(data, size))
                return tracker_cause(c->cause, -EBADMSG, "%s: is empty", c->name);
        if (size > INT32_MAX)
                return tracker_cause(c->cause, -EFBIG, "%s: is too large", c->name);
        tok = json_tokener_new_ex(64);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 |
                                            JSON_TOKENER_ALLOW_TRAILING_CHARS);
        o = json_tokener_parse_ex(tok, data, (int) size);
        e = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        if (e == json_tokener_continue) {
                /* A top-level number or literal only ends at the end of input: say so. */
                o = json_tokener_parse_ex(tok, "", 1);
                e = json_tokener_get_error(tok);
                end = size;
        }
        json_tokener_free(tok);
        if (e == json_tokener_continue || e == json_tokener_error_parse_eof)
                return tracker_cause(c->cause, -EBADMSG, "%s: ends in the middle of the JSON document (truncated?)",
                                     c->name);
        if (e != json_tokener_success)
                return tracker_cause(c->cause, -EBADMSG, "%s: is not valid JSON at byte %zu: %s", c->name, end,
                                     json_tokener_error_desc(e));
        if (end < size && !only_space(data + end, size - end))
                return tracker_cause(c->cause, -EBADMSG, "%s: has data after the JSON document at byte %zu",
                                     c->name, end);
        *ret = TAKE_PTR(o);
        return 0;
}

/* --- the fast path: one member or array element at a time ------------------------- */

/* Building the whole document as a json-c tree costs ~5 kB a seeder (10 MiB at 2,000
 * seeders with 4 images). The top-level object is walked here instead and each member
 * value, and each element of "seeders" and "history", is parsed alone by json_tokener with
 * the same strictness. Anything unusual (a duplicate, unknown or missing key, any error)
 * makes it give up: the tree path then decides, with its precise messages. */
struct walk {
        const char *p, *end;
        json_tokener *tok;
        unsigned seen; /* bit per known top-level key */
};

static const char *const walk_keys[] = { "version", "cluster", "run", "seeders", "history", "tags" };
#define WALK_REQUIRED 0x1fu /* every key but "tags" */

static void walk_space(struct walk *w) {
        while (w->p < w->end && strchr(" \t\r\n", *w->p) && *w->p)
                w->p++;
}

static bool walk_char(struct walk *w, char c) {
        walk_space(w);
        if (w->p >= w->end || *w->p != c)
                return false;
        w->p++;
        return true;
}

/* Parses the value at w->p; NULL in *ret is JSON null. */
static int walk_value(struct walk *w, json_object **ret) {
        json_object *o;

        walk_space(w);
        if (w->p >= w->end || w->end - w->p > INT32_MAX)
                return -EBADMSG;
        json_tokener_reset(w->tok);
        o = json_tokener_parse_ex(w->tok, w->p, (int) (w->end - w->p));
        if (json_tokener_get_error(w->tok) != json_tokener_success) {
                json_object_put(o);
                return -EBADMSG;
        }
        w->p += json_tokener_get_parse_end(w->tok);
        *ret = o;
        return 0;
}

/* Each element of the array at w->p through one(). */
static int walk_list(struct walk *w, struct pctx *c, const char *key, struct tracker *t,
                     int (*one)(struct pctx *, json_object *, const char *, struct tracker *)) {
        char where[WHERE_MAX];

        if (!walk_char(w, '['))
                return -EBADMSG;
        if (walk_char(w, ']'))
                return 0;
        for (size_t i = 0;; i++) {
                _cleanup_(json_object_putp) json_object *e = NULL;

                TRY(walk_value(w, &e));
                if (!json_object_is_type(e, json_type_object))
                        return -EBADMSG;
                TRY(one(c, e, at_index(where, key, i), t));
                if (walk_char(w, ']'))
                        return 0;
                if (!walk_char(w, ','))
                        return -EBADMSG;
        }
}

/* A scalar or object member, checked by the tree path's own code on {key: value}. */
static int walk_member(struct walk *w, struct pctx *c, const char *key, struct tracker *t) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *v = NULL, *cl, *run;

        if (!o)
                return -ENOMEM;
        TRY(walk_value(w, &v));
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        if (streq(key, "version"))
                return parse_version(c, o, &t->version);
        if (streq(key, "cluster")) {
                TRY(get_object(c, o, NULL, "cluster", 0, &cl));
                TRY(get_str(c, cl, "cluster", "server", NULLABLE, &t->server));
                return get_str(c, cl, "cluster", "uid", NULLABLE, &t->uid);
        }
        TRY(get_object(c, o, NULL, "run", NULLABLE, &run));
        return run ? parse_run(c, run, &t->run) : 0;
}

static int walk_key(struct walk *w, unsigned *ret) {
        _cleanup_(json_object_putp) json_object *k = NULL;

        TRY(walk_value(w, &k));
        if (!json_object_is_type(k, json_type_string))
                return -EBADMSG;
        for (unsigned i = 0; i < ELEMENTSOF(walk_keys); i++)
                if (streq(json_object_get_string(k), walk_keys[i]) && !(w->seen & (1u << i))) {
                        w->seen |= 1u << i;
                        *ret = i;
                        return walk_char(w, ':') ? 0 : -EBADMSG;
                }
        return -EBADMSG; /* unknown or repeated */
}

static int walk_document(struct walk *w, struct pctx *c, struct tracker *t) {
        unsigned k;

        if (!walk_char(w, '{'))
                return -EBADMSG;
        do {
                TRY(walk_key(w, &k));
                if (k == 3)
                        TRY(walk_list(w, c, "seeders", t, parse_seeder));
                else if (k == 4)
                        TRY(walk_list(w, c, "history", t, parse_history_entry));
                else if (k == 5)
                        TRY(walk_list(w, c, "tags", t, parse_tag_entry));
                else
                        TRY(walk_member(w, c, walk_keys[k], t));
        } while (walk_char(w, ','));
        if (!walk_char(w, '}'))
                return -EBADMSG;
        walk_space(w);
        return w->p == w->end && (w->seen & WALK_REQUIRED) == WALK_REQUIRED ? 0 : -EBADMSG;
}

/* Returns 0 with *ret, or < 0 when the tree path must decide. */
static int parse_walk(const char *name, const char *data, size_t size, struct tracker **ret) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new();
        struct pctx c = { .name = name }; /* no cause: the tree path words errors */
        struct walk w = { .p = data, .end = data + size };
        int r;

        if (!t)
                return -ENOMEM;
        /* Two levels less than the tree path allows: a value sits in the object or array. */
        w.tok = json_tokener_new_ex(64 - 2);
        if (!w.tok)
                return -ENOMEM;
        json_tokener_set_flags(w.tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 |
                                              JSON_TOKENER_ALLOW_TRAILING_CHARS);
        r = walk_document(&w, &c, t);
        json_tokener_free(w.tok);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

int tracker_parse(const char *name, const char *data, size_t size, struct tracker **ret,
                  char **ret_cause) {
        _cleanup_(tracker_freep) struct tracker *t = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        struct pctx c = { .name = name, .cause = ret_cause };

        if (parse_walk(name, data, size, ret) == 0)
                return 0;
        TRY(parse_json(&c, data, size, &o));
        if (!o) /* the document is the literal null */
                return tracker_cause(ret_cause, -EBADMSG, "%s: the top level must be a JSON object, not null", name);
        t = tracker_new();
        if (!t)
                return -ENOMEM;
        TRY(parse_document(&c, o, t));
        *ret = TAKE_PTR(t);
        return 0;
}

int tracker_load(const char *path, struct tracker **ret, char **ret_cause) {
        _cleanup_(freep) char *data = NULL;
        size_t size;
        int r;

        r = read_file_nofollow(path, TRACKER_FILE_MAX, &data, &size);
        switch (r) {
        case 0:
                return tracker_parse(path, data, size, ret, ret_cause);
        case -ENOENT:
        case -ENOMEM:
                return r;
        case -ELOOP:
                return tracker_cause(ret_cause, r, "%s: is a symbolic link, refusing to follow it", path);
        case -EISDIR:
        case -EBADFD:
                return tracker_cause(ret_cause, -EBADMSG, "%s: is not a regular file", path);
        case -EFBIG:
                return tracker_cause(ret_cause, r, "%s: is larger than %zu MiB", path, TRACKER_FILE_MAX >> 20);
        default:
                return tracker_cause(ret_cause, r, "%s: cannot be read: %s", path, strerror(-r));
        }
}

int tracker_set_aside(const char *path, int64_t now, char **ret_newpath) {
        char stamp[32];
        time_t tt = (time_t) now;
        struct tm tm;

        if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
                return -ERANGE;
        snprintf(stamp, sizeof(stamp), "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        for (unsigned n = 0; n < 1000; n++) {
                _cleanup_(freep) char *np = NULL;
                int r = n == 0 ? asprintf(&np, "%s.corrupt-%s", path, stamp)
                               : asprintf(&np, "%s.corrupt-%s-%u", path, stamp, n);
                if (r < 0)
                        return -ENOMEM;
                r = rename_noreplace(path, np);
                if (r == -EEXIST)
                        continue;
                if (r < 0)
                        return r;
                if (ret_newpath)
                        *ret_newpath = TAKE_PTR(np);
                return 0;
        }
        return -EEXIST;
}
