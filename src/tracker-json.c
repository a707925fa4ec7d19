/* SPDX-License-Identifier: MIT */
/* struct tracker -> JSON (schema in docs/tracker.md), and the atomic save. */

#include <json-c/json.h>

#include "fileio.h"
#include "tracker-internal.h"

#define TRY(x)                          \
        do {                            \
                int _r_ = (x);          \
                if (_r_ < 0)            \
                        return _r_;     \
        } while (0)

static void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}

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

static int run_images_to_json(const struct tracker_run *r, json_object *o) {
        json_object *a, *e;

        TRY(add_array(o, "images", r->n_images, &a));
        for (size_t i = 0; i < r->n_images; i++) {
                TRY(append_object(a, &e));
                TRY(add_str(e, "ref", r->images[i].ref));
                TRY(add_str(e, "digest", r->images[i].digest));
        }
        return 0;
}

static int plan_to_json(const struct tracker_run *r, json_object *o) {
        json_object *a, *e;

        TRY(add_array(o, "plan", r->n_plan, &a));
        for (size_t i = 0; i < r->n_plan; i++) {
                const struct tracker_plan_entry *p = &r->plan[i];
                const char *action = tracker_action_to_string(p->action);
                if (!action)
                        return -EINVAL;
                TRY(append_object(a, &e));
                TRY(add_str(e, "node", p->node));
                TRY(add_str(e, "action", action));
                TRY(add_str(e, "reason", p->reason));
                TRY(add(e, "done", json_object_new_boolean(p->done)));
        }
        return 0;
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

static int results_to_json(const struct tracker_run *r, json_object *o) {
        json_object *a, *e;

        TRY(add_array(o, "results", r->n_results, &a));
        for (size_t i = 0; i < r->n_results; i++) {
                TRY(append_object(a, &e));
                TRY(result_to_json(r, &r->results[i], e));
        }
        return 0;
}

static int run_to_json(const struct tracker_run *r, json_object *o) {
        const char *phase = tracker_phase_to_string(r->phase);
        json_object *ps, *ds;

        if (!phase)
                return -EINVAL;
        TRY(add_str(o, "id", r->id));
        TRY(add_str(o, "phase", phase));
        TRY(add_time(o, "started_at", r->started_at));
        TRY(add(o, "step", json_object_new_uint64(r->step)));
        TRY(add_object(o, "phase_started_at", &ps));
        for (int p = 0; p < _TRACKER_PHASE_MAX; p++)
                if (r->phase_started_at[p] != 0)
                        TRY(add_time(ps, tracker_phase_to_string(p), r->phase_started_at[p]));
        TRY(add(o, "target", json_object_new_int64(r->target)));
        TRY(add(o, "eligible", json_object_new_int64(r->eligible)));
        TRY(run_images_to_json(r, o));
        TRY(plan_to_json(r, o));
        TRY(add_array(o, "daemonsets", r->n_daemonsets, &ds));
        for (size_t i = 0; i < r->n_daemonsets; i++)
                TRY(append(ds, json_object_new_string(r->daemonsets[i])));
        return results_to_json(r, o);
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
        }
        return 0;
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
        TRY(add_object(o, "phase_seconds", &ps));
        for (int p = 0; p < _TRACKER_PHASE_MAX; p++)
                if (h->phase_seconds[p] >= 0)
                        TRY(add(ps, tracker_phase_to_string(p), json_object_new_int64(h->phase_seconds[p])));
        return 0;
}

static int tracker_to_json(const struct tracker *t, json_object *o) {
        json_object *c, *run, *a, *e;

        TRY(add(o, "version", json_object_new_int64(TRACKER_VERSION)));
        TRY(add_object(o, "cluster", &c));
        TRY(add_str(c, "server", t->server));
        TRY(add_str(c, "uid", t->uid));
        if (t->run) {
                TRY(add_object(o, "run", &run));
                TRY(run_to_json(t->run, run));
        } else
                TRY(add_null(o, "run"));
        TRY(add_array(o, "seeders", t->n_seeders, &a));
        for (size_t i = 0; i < t->n_seeders; i++) {
                TRY(append_object(a, &e));
                TRY(seeder_to_json(&t->seeders[i], e));
        }
        TRY(add_array(o, "history", t->n_history, &a));
        for (size_t i = 0; i < t->n_history; i++) {
                TRY(append_object(a, &e));
                TRY(history_to_json(&t->history[i], e));
        }
        return 0;
}

/* The layout: the top object and "run", "cluster" are indented one key per line; every
 * array element (a seeder, a result, ...) is one compact line. Readable, diff-friendly
 * per node, and about half the size of json-c's fully pretty output. */
static int print_value(FILE *f, json_object *v, unsigned depth);

static void indent(FILE *f, unsigned depth) {
        for (unsigned i = 0; i < depth; i++)
                fputs("  ", f);
}

static int print_compact(FILE *f, json_object *v) {
        const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        fputs(s, f);
        return 0;
}

static int print_array(FILE *f, json_object *a, unsigned depth) {
        size_t n = json_object_array_length(a);

        if (n == 0) {
                fputs("[]", f);
                return 0;
        }
        fputs("[\n", f);
        for (size_t i = 0; i < n; i++) {
                indent(f, depth + 1);
                TRY(print_compact(f, json_object_array_get_idx(a, i)));
                fputs(i + 1 < n ? ",\n" : "\n", f);
        }
        indent(f, depth);
        fputc(']', f);
        return 0;
}

/* Keys are the schema's own identifiers: plain ASCII, nothing to escape. */
static int print_object(FILE *f, json_object *o, unsigned depth) {
        size_t n = (size_t) json_object_object_length(o), i = 0;

        if (n == 0) {
                fputs("{}", f);
                return 0;
        }
        fputs("{\n", f);
        json_object_object_foreach(o, key, val) {
                indent(f, depth + 1);
                fprintf(f, "\"%s\": ", key);
                TRY(print_value(f, val, depth + 1));
                fputs(++i < n ? ",\n" : "\n", f);
        }
        indent(f, depth);
        fputc('}', f);
        return 0;
}

static int print_value(FILE *f, json_object *v, unsigned depth) {
        if (json_object_is_type(v, json_type_array))
                return print_array(f, v, depth);
        if (json_object_is_type(v, json_type_object) && depth < 2)
                return print_object(f, v, depth);
        if (!v) {
                fputs("null", f);
                return 0;
        }
        return print_compact(f, v);
}

static int print_document(json_object *o, bool pretty, char **ret) {
        _cleanup_(freep) char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        r = pretty ? print_value(f, o, 0) : print_compact(f, o);
        fputc('\n', f);
        bool failed = ferror(f) != 0;
        if (fclose(f) != 0 || failed)
                r = r < 0 ? r : -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

int tracker_to_json_string(const struct tracker *t, bool pretty, char **ret, char **ret_cause) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        int r;

        if (!o)
                return -ENOMEM;
        r = tracker_to_json(t, o);
        if (r == -EINVAL)
                return tracker_cause(ret_cause, r, "a tracker field is out of range (bad enum or time)");
        if (r < 0)
                return r;
        return print_document(o, pretty, ret);
}

int tracker_save(const char *path, const struct tracker *t, char **ret_cause) {
        _cleanup_(freep) char *s = NULL, *why = NULL;
        const char *step = NULL;
        int r;

        r = tracker_to_json_string(t, true, &s, &why);
        if (r < 0)
                return tracker_cause(ret_cause, r, "%s: cannot serialise the tracker: %s", path,
                                     why ? why : strerror(-r));
        r = write_file_atomic(path, s, strlen(s), 0600, &step);
        if (r < 0)
                return tracker_cause(ret_cause, r, "%s: cannot save the tracker (%s): %s", path,
                                     strempty(step), strerror(-r));
        return 0;
}
