/* SPDX-License-Identifier: MIT */
/* The tracker's data model: enums, times, run ids and the add/find/remove helpers. */

#include <stdint.h>
#include <time.h>

#include "tracker-internal.h"

bool tracker_grow(void **p, size_t *alloc, size_t need, size_t size) {
        if (need <= *alloc)
                return true;
        size_t n = MAX(need * 2, (size_t) 8);
        if (n > SIZE_MAX / size)
                return false;
        void *q = realloc(*p, n * size);
        if (!q)
                return false;
        *p = q;
        *alloc = n;
        return true;
}

int tracker_cause(char **ret_cause, int r, const char *fmt, ...) {
        va_list ap;

        if (!ret_cause)
                return r;
        va_start(ap, fmt);
        if (vasprintf(ret_cause, fmt, ap) < 0)
                *ret_cause = NULL;
        va_end(ap);
        return r;
}

/* --- enums ------------------------------------------------------------------------ */

static const char *const phase_names[_TRACKER_PHASE_MAX] = {
        [TRACKER_PHASE_NONE] = "none",       [TRACKER_PHASE_SELECT] = "select",
        [TRACKER_PHASE_LABEL] = "label",     [TRACKER_PHASE_PRELOAD] = "preload",
        [TRACKER_PHASE_VERIFY] = "verify",   [TRACKER_PHASE_CLEANUP] = "cleanup",
        [TRACKER_PHASE_DONE] = "done",
};
static const char *const action_names[_TRACKER_ACTION_MAX] = {
        [TRACKER_ACTION_KEEP] = "keep", [TRACKER_ACTION_ADOPT] = "adopt",
        [TRACKER_ACTION_ADD] = "add",   [TRACKER_ACTION_DROP] = "drop",
        [TRACKER_ACTION_GONE] = "gone", [TRACKER_ACTION_WAIT] = "wait",
};
static const char *const state_names[_TRACKER_STATE_MAX] = {
        [TRACKER_STATE_WAITING] = "waiting", [TRACKER_STATE_PULLED] = "pulled",
        [TRACKER_STATE_FAILED] = "failed",   [TRACKER_STATE_SKIPPED] = "skipped",
        [TRACKER_STATE_NODE_LOST] = "node-lost", [TRACKER_STATE_NOT_APPLICABLE] = "not-applicable",
};
static const char *const outcome_names[_TRACKER_OUTCOME_MAX] = {
        [TRACKER_OUTCOME_OK] = "ok",
        [TRACKER_OUTCOME_PARTIAL] = "partial",
        [TRACKER_OUTCOME_FAILED] = "failed",
};

static const char *const pull_source_names[_TRACKER_PULL_SOURCE_MAX] = {
        [TRACKER_PULL_EVENTS] = "events",
        [TRACKER_PULL_PHASE] = "phase",
};

static const char *table_to_string(const char *const *t, size_t n, int v) {
        return v >= 0 && (size_t) v < n ? t[v] : NULL;
}

static int table_from_string(const char *const *t, size_t n, const char *s) {
        for (size_t i = 0; s && i < n; i++)
                if (streq(t[i], s))
                        return (int) i;
        return -EINVAL;
}

#define DEFINE_ENUM_STRINGS(name, type, table)                                      \
        const char *name##_to_string(type v) {                                      \
                return table_to_string(table, ELEMENTSOF(table), (int) v);           \
        }                                                                           \
        type name##_from_string(const char *s) {                                    \
                return (type) table_from_string(table, ELEMENTSOF(table), s);        \
        }

DEFINE_ENUM_STRINGS(tracker_phase, enum tracker_phase, phase_names)
DEFINE_ENUM_STRINGS(tracker_action, enum tracker_action, action_names)
DEFINE_ENUM_STRINGS(tracker_state, enum tracker_state, state_names)
DEFINE_ENUM_STRINGS(tracker_outcome, enum tracker_outcome, outcome_names)
DEFINE_ENUM_STRINGS(tracker_pull_source, enum tracker_pull_source, pull_source_names)

/* --- times and ids ---------------------------------------------------------------- */

int tracker_time_format(int64_t t, char *buf, size_t size) {
        time_t tt = (time_t) t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
                return -ERANGE;
        /* Not strftime's %Y: it does not pad years before 1000 to four digits. */
        int n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (n < 0 || (size_t) n >= size)
                return -ERANGE;
        return 0;
}

/* Reads exactly n digits at *p. Returns the value or -1. */
static int digits(const char **p, unsigned n) {
        int v = 0;
        for (unsigned i = 0; i < n; i++, (*p)++) {
                if (**p < '0' || **p > '9')
                        return -1;
                v = v * 10 + (**p - '0');
        }
        return v;
}

static bool expect(const char **p, char c) {
        if (**p != c)
                return false;
        (*p)++;
        return true;
}

static int time_zone_suffix(const char *p) {
        if (*p == '.') /* a fraction is accepted and dropped */
                for (p++; *p >= '0' && *p <= '9'; p++)
                        ;
        if (streq(p, "Z") || streq(p, "+00:00"))
                return 0;
        return -EINVAL;
}

int tracker_time_parse(const char *s, int64_t *ret) {
        static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        const char *p = s;
        struct tm tm = {};
        int y, mo, d, h, mi, se;

        if (!s)
                return -EINVAL;
        y = digits(&p, 4);
        if (y < 0 || !expect(&p, '-') || (mo = digits(&p, 2)) < 1 || mo > 12 ||
            !expect(&p, '-') || (d = digits(&p, 2)) < 1 || d > mdays[mo - 1] ||
            !expect(&p, 'T') || (h = digits(&p, 2)) < 0 || h > 23 || !expect(&p, ':') ||
            (mi = digits(&p, 2)) < 0 || mi > 59 || !expect(&p, ':') ||
            (se = digits(&p, 2)) < 0 || se > 60)
                return -EINVAL;
        if (time_zone_suffix(p) < 0)
                return -EINVAL;
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = se;
        time_t t = timegm(&tm);
        if (t == (time_t) -1 && !(y == 1969 && mo == 12 && d == 31))
                return -EINVAL;
        /* A leap second at the end of 9999 would overflow into a year we cannot write. */
        if ((int64_t) t > INT64_C(253402300799))
                return -EINVAL;
        *ret = (int64_t) t;
        return 0;
}

int tracker_run_id(int64_t now, uint32_t rnd, char *buf, size_t size) {
        time_t tt = (time_t) now;
        struct tm tm;

        if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
                return -ERANGE;
        int n = snprintf(buf, size, "%04d%02d%02dt%02d%02d%02d-%04x", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned) (rnd & 0xffff));
        if (n < 0 || (size_t) n >= size)
                return -ERANGE;
        return 0;
}

/* --- the tracker ------------------------------------------------------------------ */

struct tracker *tracker_new(void) {
        struct tracker *t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->version = TRACKER_VERSION;
        return t;
}

static void seeder_done(struct tracker_seeder *s) {
        free(s->node);
        free(s->zone);
        free(s->arch);
        for (size_t i = 0; i < s->n_images; i++) {
                free(s->images[i].ref);
                free(s->images[i].digest);
        }
        free(s->images);
        for (size_t i = 0; i < s->n_unseeded; i++) {
                free(s->unseeded[i].ref);
                free(s->unseeded[i].reason);
                free(s->unseeded[i].message);
        }
        free(s->unseeded);
}

struct tracker *tracker_free(struct tracker *t) {
        if (!t)
                return NULL;
        free(t->server);
        free(t->uid);
        tracker_run_free(t->run);
        for (size_t i = 0; i < t->n_seeders; i++)
                seeder_done(&t->seeders[i]);
        free(t->seeders);
        for (size_t i = 0; i < t->n_history; i++)
                free(t->history[i].id);
        free(t->history);
        for (size_t i = 0; i < t->n_tags; i++)
                tracker_tag_done(&t->tags[i]);
        free(t->tags);
        free(t);
        return NULL;
}

int tracker_set_cluster(struct tracker *t, const char *server, const char *uid) {
        _cleanup_(freep) char *s = NULL, *u = NULL;

        if ((server && !(s = strdup(server))) || (uid && !(u = strdup(uid))))
                return -ENOMEM;
        free(t->server);
        free(t->uid);
        t->server = TAKE_PTR(s);
        t->uid = TAKE_PTR(u);
        return 0;
}

int tracker_check_cluster(const struct tracker *t, const char *server, const char *uid,
                          char **ret_cause) {
        if (isempty(t->uid))
                return 0;
        if (!streq_ptr(t->uid, uid))
                return tracker_cause(ret_cause, -EXDEV,
                                     "the tracker belongs to another cluster: it records '%s' "
                                     "(kube-system uid %s), but '%s' reports uid %s",
                                     strempty(t->server), t->uid, strempty(server),
                                     uid ? uid : "(none)");
        return streq_ptr(t->server, server) ? 0 : 1;
}

/* --- history ---------------------------------------------------------------------- */

int tracker_history_add(struct tracker *t, const struct tracker_history *h) {
        if (!h || isempty(h->id) || (unsigned) h->result >= _TRACKER_OUTCOME_MAX)
                return -EINVAL;
        char *id = strdup(h->id);
        if (!id)
                return -ENOMEM;
        if (!t->history) {
                t->history = calloc(TRACKER_HISTORY_MAX, sizeof(*t->history));
                if (!t->history) {
                        free(id);
                        return -ENOMEM;
                }
        }
        if (t->n_history == TRACKER_HISTORY_MAX) {
                free(t->history[0].id);
                memmove(t->history, t->history + 1, (TRACKER_HISTORY_MAX - 1) * sizeof(*t->history));
                t->n_history--;
        }
        t->history[t->n_history] = *h;
        t->history[t->n_history++].id = id;
        return 0;
}

/* --- seeders ---------------------------------------------------------------------- */

struct tracker_seeder *tracker_seeder_find(const struct tracker *t, const char *node) {
        for (size_t i = 0; node && i < t->n_seeders; i++)
                if (streq(t->seeders[i].node, node))
                        return &t->seeders[i];
        return NULL;
}

int tracker_seeder_add(struct tracker *t, const char *node, const char *zone, const char *arch,
                       int64_t labelled_at, bool owned, struct tracker_seeder **ret) {
        struct tracker_seeder *s;
        int r = 1;

        if (isempty(node))
                return -EINVAL;
        s = tracker_seeder_find(t, node);
        if (!s) {
                if (!TRACKER_GROW(t->seeders, t->alloc_seeders, t->n_seeders + 1))
                        return -ENOMEM;
                s = &t->seeders[t->n_seeders];
                *s = (struct tracker_seeder) { .node = strdup(node), .labelled_at = labelled_at };
                if (!s->node)
                        return -ENOMEM;
                t->n_seeders++;
                r = 0;
        }
        if (free_and_strdup(&s->zone, zone) < 0 || free_and_strdup(&s->arch, arch) < 0)
                return -ENOMEM;
        if (s->labelled_at == 0)
                s->labelled_at = labelled_at;
        s->owned = owned;
        if (ret)
                *ret = s;
        return r;
}

int tracker_seeder_remove(struct tracker *t, const char *node) {
        struct tracker_seeder *s = tracker_seeder_find(t, node);
        if (!s)
                return -ENOENT;
        size_t i = (size_t) (s - t->seeders);
        seeder_done(s);
        memmove(s, s + 1, (t->n_seeders - i - 1) * sizeof(*s));
        t->n_seeders--;
        return 0;
}

struct tracker_held_image *tracker_seeder_find_image(const struct tracker_seeder *s, const char *ref) {
        for (size_t i = 0; ref && i < s->n_images; i++)
                if (streq(s->images[i].ref, ref))
                        return &s->images[i];
        return NULL;
}

int tracker_seeder_set_image(struct tracker_seeder *s, const char *ref, const char *digest,
                             int64_t pulled_at) {
        struct tracker_held_image *h;

        if (isempty(ref))
                return -EINVAL;
        h = tracker_seeder_find_image(s, ref);
        if (!h) {
                if (!TRACKER_GROW(s->images, s->alloc_images, s->n_images + 1))
                        return -ENOMEM;
                h = &s->images[s->n_images];
                *h = (struct tracker_held_image) { .ref = strdup(ref) };
                if (!h->ref)
                        return -ENOMEM;
                s->n_images++;
        }
        if (free_and_strdup(&h->digest, digest) < 0)
                return -ENOMEM;
        h->pulled_at = pulled_at;
        return 0;
}

int tracker_seeder_remove_image(struct tracker_seeder *s, const char *ref) {
        struct tracker_held_image *h = tracker_seeder_find_image(s, ref);
        if (!h)
                return -ENOENT;
        size_t i = (size_t) (h - s->images);
        free(h->ref);
        free(h->digest);
        memmove(h, h + 1, (s->n_images - i - 1) * sizeof(*h));
        s->n_images--;
        return 0;
}

/* --- lock ------------------------------------------------------------------------- */

#include "fileio.h"

struct tracker_lock {
        int fd;
};

int tracker_lock(const char *path, struct tracker_lock **ret_lock, pid_t *ret_holder_pid) {
        _cleanup_(freep) char *lp = NULL;
        struct tracker_lock *l;
        int fd, r;

        if (asprintf(&lp, "%s.lock", path) < 0)
                return -ENOMEM;
        l = malloc(sizeof(*l));
        if (!l)
                return -ENOMEM;
        r = lock_file_take(lp, &fd, ret_holder_pid);
        if (r < 0) {
                free(l);
                return r;
        }
        l->fd = fd;
        *ret_lock = l;
        return 0;
}

struct tracker_lock *tracker_unlock(struct tracker_lock *l) {
        if (!l)
                return NULL;
        lock_file_release(l->fd);
        free(l);
        return NULL;
}

static bool unseeded_state(enum tracker_state st) {
        return st == TRACKER_STATE_FAILED || st == TRACKER_STATE_NOT_APPLICABLE || st == TRACKER_STATE_NODE_LOST;
}

int tracker_seeder_set_unseeded(struct tracker_seeder *s, const char *ref, enum tracker_state state,
                                const char *reason, const char *message) {
        struct tracker_unseeded *u = NULL;
        size_t i;

        if (isempty(ref))
                return -EINVAL;
        for (i = 0; i < s->n_unseeded && !u; i++)
                if (streq(s->unseeded[i].ref, ref))
                        u = &s->unseeded[i];
        if (!unseeded_state(state)) {
                if (!u)
                        return 0;
                free(u->ref);
                free(u->reason);
                free(u->message);
                memmove(u, u + 1, (size_t) (s->unseeded + s->n_unseeded - u - 1) * sizeof(*u));
                s->n_unseeded--;
                return 0;
        }
        if (!u) {
                if (!TRACKER_GROW(s->unseeded, s->alloc_unseeded, s->n_unseeded + 1))
                        return -ENOMEM;
                u = &s->unseeded[s->n_unseeded];
                *u = (struct tracker_unseeded) { .ref = strdup(ref) };
                if (!u->ref)
                        return -ENOMEM;
                s->n_unseeded++;
        }
        u->state = state;
        if (free_and_strdup(&u->reason, reason) < 0 || free_and_strdup(&u->message, message) < 0)
                return -ENOMEM;
        return 0;
}

int tracker_run_note_outcomes(struct tracker *t) {
        const struct tracker_run *run = t->run;

        for (size_t i = 0; run && i < run->n_results; i++) {
                const struct tracker_result *res = &run->results[i];
                struct tracker_seeder *s = tracker_seeder_find(t, res->node);

                if (!s || res->state == TRACKER_STATE_WAITING || res->image >= run->n_images)
                        continue;
                int r = tracker_seeder_set_unseeded(s, run->images[res->image].ref, res->state, res->reason,
                                                    res->message);
                if (r < 0)
                        return r;
        }
        return 0;
}
