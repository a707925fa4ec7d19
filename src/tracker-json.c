/* SPDX-License-Identifier: MIT */
/* struct tracker -> JSON (schema in docs/tracker.md), and the atomic save. */

#include <assert.h>
#include <inttypes.h>
#include <json-c/json.h>

#include "fileio.h"
#include "json-util.h"
#include "tracker-internal.h"

/* Adds v (consumed) under a static key. v == NULL is an allocation failure. */
static int add(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add_ex(o, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int add_null(json_object *o, const char *key) {
        return json_object_object_add_ex(o, key, NULL, JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY) < 0
                       ? -ENOMEM
                       : 0;
}

static int add_str(json_object *o, const char *key, const char *s) {
        return s ? add(o, key, json_object_new_string(s)) : add_null(o, key);
}

static int add_time(json_object *o, const char *key, int64_t t) {
        char buf[64];

        if (t == 0)
                return add_null(o, key);
        TRY(tracker_time_format(t, buf, sizeof(buf)));
        return add(o, key, json_object_new_string(buf));
}

static int append(json_object *a, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

/* Creates an empty array added under key; *ret is borrowed. */
static int add_array(json_object *o, const char *key, size_t n, json_object **ret) {
        json_object *a = json_object_new_array_ext((int) MIN(n, (size_t) INT32_MAX));
        TRY(add(o, key, a));
        *ret = a;
        return 0;
}

static int add_object(json_object *o, const char *key, json_object **ret) {
        json_object *v = json_object_new_object();
        TRY(add(o, key, v));
        *ret = v;
        return 0;
}

/* Creates an object appended to array a; *ret is borrowed. */
static int append_object(json_object *a, json_object **ret) {
        json_object *v = json_object_new_object();
        TRY(append(a, v));
        *ret = v;
        return 0;
}

static int run_image_to_json(const struct tracker_image *i, json_object *e) {
        TRY(add_str(e, "ref", i->ref));
        return add_str(e, "digest", i->digest);
}

static int plan_entry_to_json(const struct tracker_plan_entry *p, json_object *e) {
        const char *action = tracker_action_to_string(p->action);

        if (!action)
                return -EINVAL;
        TRY(add_str(e, "node", p->node));
        TRY(add_str(e, "action", action));
        TRY(add_str(e, "reason", p->reason));
        return add(e, "done", json_object_new_boolean(p->done));
}

/* One result, compactly: "digest" is left out when it equals the run image's digest,
 * "reason" and "message" when they are NULL. */
static int result_to_json(const struct tracker_run *r, const struct tracker_result *x, json_object *e) {
        const char *state = tracker_state_to_string(x->state);

        if (!state || x->image >= r->n_images)
                return -EINVAL;
        TRY(add_str(e, "node", x->node));
        TRY(add(e, "image", json_object_new_int64((int64_t) x->image)));
        TRY(add_str(e, "state", state));
        if (!streq_ptr(x->digest, r->images[x->image].digest))
                TRY(add_str(e, "digest", x->digest));
        if (x->reason)
                TRY(add_str(e, "reason", x->reason));
        if (x->message)
                TRY(add_str(e, "message", x->message));
        return 0;
}

static int seeder_to_json(const struct tracker_seeder *s, json_object *o) {
        json_object *a, *e;

        TRY(add_str(o, "node", s->node));
        TRY(add_str(o, "zone", s->zone));
        TRY(add_str(o, "arch", s->arch));
        TRY(add_time(o, "labelled_at", s->labelled_at));
        TRY(add(o, "owned", json_object_new_boolean(s->owned)));
        TRY(add_array(o, "images", s->n_images, &a));
        for (size_t i = 0; i < s->n_images; i++) {
                TRY(append_object(a, &e));
                TRY(add_str(e, "ref", s->images[i].ref));
                TRY(add_str(e, "digest", s->images[i].digest));
                TRY(add_time(e, "pulled_at", s->images[i].pulled_at));
                /* Written only once it happened: trackers of earlier versions stay as they were. */
                if (s->images[i].evictions > 0) {
                        TRY(add(e, "evictions", json_object_new_int64(s->images[i].evictions)));
                        TRY(add_time(e, "evicted_at", s->images[i].evicted_at));
                }
        }
        if (s->n_unseeded == 0) /* written only when there is something to say */
                return 0;
        TRY(add_array(o, "unseeded", s->n_unseeded, &a));
        for (size_t i = 0; i < s->n_unseeded; i++) {
                const struct tracker_unseeded *u = &s->unseeded[i];
                const char *state = tracker_state_to_string(u->state);
                if (!state)
                        return -EINVAL;
                TRY(append_object(a, &e));
                TRY(add_str(e, "ref", u->ref));
                TRY(add_str(e, "state", state));
                TRY(add_str(e, "reason", u->reason));
                TRY(add_str(e, "message", u->message));
        }
        return 0;
}

/* Written only when the run measured a rate: readers before it ignore the member. */
static int pull_to_json(const struct tracker_pull *p, json_object *o) {
        const char *from = tracker_pull_source_to_string(p->source);
        json_object *po;

        if (!from || p->bytes < 0)
                return -EINVAL;
        TRY(add_object(o, "pull", &po));
        TRY(add(po, "rate", json_object_new_int64(p->rate)));
        TRY(add(po, "bytes", json_object_new_int64(p->bytes)));
        TRY(add(po, "pulls", json_object_new_int64(p->pulls)));
        TRY(add(po, "nodes", json_object_new_int64(p->nodes)));
        return add_str(po, "from", from);
}

static int history_to_json(const struct tracker_history *h, json_object *o) {
        const char *result = tracker_outcome_to_string(h->result);
        json_object *ps;

        if (!result)
                return -EINVAL;
        TRY(add_str(o, "id", h->id));
        TRY(add_time(o, "started_at", h->started_at));
        TRY(add_time(o, "finished_at", h->finished_at));
        TRY(add_str(o, "result", result));
        TRY(add(o, "seeders", json_object_new_int64(h->seeders)));
        TRY(add(o, "images", json_object_new_int64(h->images)));
        TRY(add(o, "failures", json_object_new_int64(h->failures)));
        if (h->not_applicable > 0)
                TRY(add(o, "not_applicable", json_object_new_int64(h->not_applicable)));
        TRY(add_object(o, "phase_seconds", &ps));
        for (int p = 0; p < _TRACKER_PHASE_MAX; p++)
                if (h->phase_seconds[p] >= 0)
                        TRY(add(ps, tracker_phase_to_string(p), json_object_new_int64(h->phase_seconds[p])));
        return h->pull.rate > 0 ? pull_to_json(&h->pull, o) : 0;
}

/* The document is printed while it is walked: only one array element at a time exists
 * as a json-c tree, so saving thousands of seeders and results costs a few kB of heap
 * besides the text itself (building the whole tree first cost ~7 kB a seeder).
 * The layout (pretty): the top object and "run", "cluster" are indented one key per line;
 * every array element (a seeder, a result, ...) is one compact line; anything deeper is
 * compact. Readable, diff-friendly per node, and about half the size of json-c's fully
 * pretty output. Without pretty the same document is on one line. */
struct writer {
        FILE *f;
        bool pretty;
        unsigned depth;   /* open objects and arrays */
        bool first[8];    /* per depth: nothing written inside yet */
};

static void w_indent(struct writer *w) {
        for (unsigned i = 0; i < w->depth; i++)
                fputs("  ", w->f);
}

static void w_open(struct writer *w, char c) {
        assert(w->depth + 1 < ELEMENTSOF(w->first));
        fputc(c, w->f);
        w->first[++w->depth] = true;
}

static void w_close(struct writer *w, char c) {
        bool empty = w->first[w->depth];

        w->depth--;
        if (!empty && w->pretty) {
                fputc('\n', w->f);
                w_indent(w);
        } else if (!empty)
                fputc(' ', w->f);
        fputc(c, w->f);
}

/* Separator before the next member or element. */
static void w_next(struct writer *w) {
        if (!w->first[w->depth])
                fputc(',', w->f);
        w->first[w->depth] = false;
        if (w->pretty) {
                fputc('\n', w->f);
                w_indent(w);
        } else
                fputc(' ', w->f);
}

/* Keys are the schema's own identifiers: plain ASCII, nothing to escape. */
static void w_key(struct writer *w, const char *key) {
        w_next(w);
        fprintf(w->f, "\"%s\": ", key);
}

/* Prints v compactly and releases it; v == NULL is an allocation failure. */
static int w_put(struct writer *w, json_object *v) {
        const char *s;

        if (!v)
                return -ENOMEM;
        s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (s)
                fputs(s, w->f);
        json_object_put(v);
        return s ? 0 : -ENOMEM;
}

static int w_str(struct writer *w, const char *key, const char *s) {
        w_key(w, key);
        if (!s) {
                fputs("null", w->f);
                return 0;
        }
        return w_put(w, json_object_new_string(s));
}

static int w_time(struct writer *w, const char *key, int64_t t) {
        char buf[64];

        if (t == 0)
                return w_str(w, key, NULL);
        TRY(tracker_time_format(t, buf, sizeof(buf)));
        return w_str(w, key, buf);
}

static void w_int(struct writer *w, const char *key, int64_t v) {
        w_key(w, key);
        fprintf(w->f, "%" PRId64, v);
}

/* One array element: a fresh object filled by fill(), printed, released. */
typedef int (*fill_fn)(const void *item, const void *ctx, json_object *o);

static int w_element(struct writer *w, fill_fn fill, const void *item, const void *ctx) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        TRY(fill(item, ctx, o));
        w_next(w);
        return w_put(w, TAKE_PTR(o));
}

static int w_array(struct writer *w, const char *key, fill_fn fill, const void *items, size_t size,
                   size_t n, const void *ctx) {
        w_key(w, key);
        w_open(w, '[');
        for (size_t i = 0; i < n; i++)
                TRY(w_element(w, fill, (const char *) items + i * size, ctx));
        w_close(w, ']');
        return 0;
}

static int fill_run_image(const void *item, const void *ctx, json_object *o) {
        return run_image_to_json(item, o);
}

static int fill_plan(const void *item, const void *ctx, json_object *o) {
        return plan_entry_to_json(item, o);
}

static int fill_result(const void *item, const void *ctx, json_object *o) {
        return result_to_json(ctx, item, o);
}

static int fill_seeder(const void *item, const void *ctx, json_object *o) {
        return seeder_to_json(item, o);
}

static int fill_tag(const void *item, const void *ctx, json_object *o) {
        const struct tracker_tag *g = item;
        json_object *a, *e;

        TRY(add_str(o, "ref", g->ref));
        TRY(add_str(o, "digest", g->digest));
        TRY(add_str(o, "previous", g->previous));
        TRY(add_time(o, "seen_at", g->seen_at));
        TRY(add_time(o, "changed_at", g->changed_at));
        TRY(add(o, "moves", json_object_new_int64((int64_t) g->moves)));
        TRY(add_array(o, "platforms", g->n_platforms, &a));
        for (size_t i = 0; i < g->n_platforms; i++) {
                TRY(append_object(a, &e));
                TRY(add_str(e, "os", g->platforms[i].os));
                TRY(add_str(e, "arch", g->platforms[i].arch));
                if (g->platforms[i].variant)
                        TRY(add_str(e, "variant", g->platforms[i].variant));
                TRY(add(e, "size", json_object_new_int64(g->platforms[i].size)));
        }
        return 0;
}

static int fill_history(const void *item, const void *ctx, json_object *o) {
        return history_to_json(item, o);
}

static int w_phase_started(struct writer *w, const struct tracker_run *r) {
        _cleanup_(json_object_putp) json_object *ps = json_object_new_object();

        if (!ps)
                return -ENOMEM;
        for (int p = 0; p < _TRACKER_PHASE_MAX; p++)
                if (r->phase_started_at[p] != 0)
                        TRY(add_time(ps, tracker_phase_to_string(p), r->phase_started_at[p]));
        w_key(w, "phase_started_at");
        return w_put(w, TAKE_PTR(ps));
}

static int w_run(struct writer *w, const struct tracker_run *r) {
        const char *phase = tracker_phase_to_string(r->phase);

        if (!phase)
                return -EINVAL;
        w_key(w, "run");
        w_open(w, '{');
        TRY(w_str(w, "id", r->id));
        TRY(w_str(w, "phase", phase));
        TRY(w_time(w, "started_at", r->started_at));
        w_key(w, "step");
        fprintf(w->f, "%" PRIu64, (uint64_t) r->step);
        TRY(w_phase_started(w, r));
        w_int(w, "target", r->target);
        w_int(w, "eligible", r->eligible);
        TRY(w_array(w, "images", fill_run_image, r->images, sizeof(r->images[0]), r->n_images, NULL));
        TRY(w_array(w, "plan", fill_plan, r->plan, sizeof(r->plan[0]), r->n_plan, NULL));
        w_key(w, "daemonsets");
        w_open(w, '[');
        for (size_t i = 0; i < r->n_daemonsets; i++) {
                w_next(w);
                TRY(w_put(w, json_object_new_string(r->daemonsets[i])));
        }
        w_close(w, ']');
        TRY(w_array(w, "results", fill_result, r->results, sizeof(r->results[0]), r->n_results, r));
        w_close(w, '}');
        return 0;
}

static int w_tracker(struct writer *w, const struct tracker *t) {
        w_open(w, '{');
        w_int(w, "version", TRACKER_VERSION);
        w_key(w, "cluster");
        w_open(w, '{');
        TRY(w_str(w, "server", t->server));
        TRY(w_str(w, "uid", t->uid));
        w_close(w, '}');
        if (t->run)
                TRY(w_run(w, t->run));
        else
                TRY(w_str(w, "run", NULL));
        TRY(w_array(w, "seeders", fill_seeder, t->seeders, sizeof(t->seeders[0]), t->n_seeders, NULL));
        TRY(w_array(w, "history", fill_history, t->history, sizeof(t->history[0]), t->n_history, NULL));
        if (t->n_tags > 0)
                TRY(w_array(w, "tags", fill_tag, t->tags, sizeof(t->tags[0]), t->n_tags, NULL));
        w_close(w, '}');
        return 0;
}

int tracker_to_json_string(const struct tracker *t, bool pretty, char **ret, char **ret_cause) {
        _cleanup_(freep) char *buf = NULL;
        size_t size = 0;
        struct writer w = { .pretty = pretty };
        int r;

        w.f = open_memstream(&buf, &size);
        if (!w.f)
                return -ENOMEM;
        r = w_tracker(&w, t);
        fputc('\n', w.f);
        bool failed = ferror(w.f) != 0;
        if (fclose(w.f) != 0 || failed)
                r = r < 0 ? r : -ENOMEM;
        if (r == -EINVAL)
                return tracker_cause(ret_cause, r, "a tracker field is out of range (bad enum or time)");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

struct save_ctx {
        const struct tracker *t;
        int serialise_error; /* the walk failed (not the file) */
};

static int save_fill(FILE *f, void *userdata) {
        struct save_ctx *c = userdata;
        struct writer w = { .f = f, .pretty = true };
        int r;

        r = w_tracker(&w, c->t);
        if (r < 0) {
                c->serialise_error = r;
                return r;
        }
        fputc('\n', f);
        return 0;
}

/* Streams the document into the temp file: no copy of it is held in memory. */
int tracker_save(const char *path, const struct tracker *t, char **ret_cause) {
        struct save_ctx c = { .t = t };
        const char *step = NULL;
        int r;

        r = write_file_atomic_with(path, 0600, save_fill, &c, &step);
        if (r < 0 && c.serialise_error == -EINVAL)
                return tracker_cause(ret_cause, r, "%s: cannot serialise the tracker: %s", path,
                                     "a tracker field is out of range (bad enum or time)");
        if (r < 0 && c.serialise_error < 0)
                return tracker_cause(ret_cause, r, "%s: cannot serialise the tracker: %s", path,
                                     strerror(-r));
        if (r < 0)
                return tracker_cause(ret_cause, r, "%s: cannot save the tracker (%s): %s", path,
                                     strempty(step), strerror(-r));
        return 0;
}
