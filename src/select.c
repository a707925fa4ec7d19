/* SPDX-License-Identifier: MIT */
#include "select.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "util.h"

#define NO_ACTION (-1)

/* Working state per input node. */
struct slot {
        int action;     /* enum select_action or NO_ACTION */
        char *reason;
        bool eligible;
        bool candidate; /* may be ADDed */
        size_t bucket;
        unsigned images;
        uint64_t hash;
};

struct bucket {
        size_t eligible, current, quota;
        size_t *add, n_add, next_add;    /* candidate node indices, best first */
        size_t *drop, n_drop, next_drop; /* droppable node indices, worst first */
};

struct ctx {
        const struct select_input *in;
        struct slot *slots;
        struct bucket *buckets;
        size_t n_buckets;
        size_t counted;
};

static const char *const action_names[_SELECT_ACTION_MAX] = {
        [SELECT_KEEP] = "keep", [SELECT_ADOPT] = "adopt", [SELECT_ADD] = "add",
        [SELECT_DROP] = "drop", [SELECT_GONE] = "gone",   [SELECT_WAIT] = "wait",
        [SELECT_UNHEALTHY_FOREIGN] = "unhealthy-foreign",
};

const char *select_action_to_string(enum select_action a) {
        return (unsigned) a < _SELECT_ACTION_MAX ? action_names[a] : NULL;
}

int select_action_from_string(const char *s) {
        for (int i = 0; s && i < _SELECT_ACTION_MAX; i++)
                if (streq(s, action_names[i]))
                        return i;
        return -EINVAL;
}

uint64_t select_hash(const char *s) {
        uint64_t h = UINT64_C(14695981039346656037);

        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= UINT64_C(1099511628211);
        }
        return h;
}

size_t select_target(size_t eligible, double percentage, size_t min_seeders, size_t max_seeders) {
        /* The epsilon keeps 0.1 x 30 / 100 from rounding up to 4 through binary noise. */
        double want = ceil(percentage * (double) eligible / 100.0 - 1e-9);
        size_t t = want <= 0 ? 0 : (size_t) want;

        t = MAX(t, min_seeders);
        if (max_seeders > 0)
                t = MIN(t, max_seeders);
        return MIN(t, eligible);
}

/* Seeders that count toward the target. */
static bool counted_action(int a) {
        return a == SELECT_KEEP || a == SELECT_ADOPT || a == SELECT_WAIT || a == SELECT_ADD;
}

/* "45s", "12m", "1h5m", "2d3h" */
static void fmt_duration(int64_t s, char *buf, size_t size) {
        if (s >= 86400)
                snprintf(buf, size, "%" PRId64 "d%" PRId64 "h", s / 86400, s % 86400 / 3600);
        else if (s >= 3600 && s % 3600 >= 60)
                snprintf(buf, size, "%" PRId64 "h%" PRId64 "m", s / 3600, s % 3600 / 60);
        else if (s >= 3600)
                snprintf(buf, size, "%" PRId64 "h", s / 3600);
        else if (s >= 60 && s % 60)
                snprintf(buf, size, "%" PRId64 "m%" PRId64 "s", s / 60, s % 60);
        else if (s >= 60)
                snprintf(buf, size, "%" PRId64 "m", s / 60);
        else
                snprintf(buf, size, "%" PRId64 "s", s);
}

_printf_(3, 4) static int set_action(struct slot *s, int action, const char *fmt, ...) {
        va_list ap;
        char *r;

        va_start(ap, fmt);
        if (vasprintf(&r, fmt, ap) < 0)
                r = NULL;
        va_end(ap);
        if (!r)
                return -ENOMEM;
        free(s->reason);
        s->reason = r;
        s->action = action;
        return 0;
}

/* Why a node cannot be a seeder, written to buf; false when it is eligible. */
static bool ineligible(const struct select_input *in, const struct node_info *n, char *buf, size_t size) {
        const struct node_taint *t;

        if (n->deleting)
                snprintf(buf, size, "being deleted");
        else if (n->unschedulable)
                snprintf(buf, size, "cordoned");
        else if (n->ready != NODE_READY_TRUE)
                snprintf(buf, size, "NotReady");
        else if (n->virtual_kind == NODE_VIRTUAL_KUBELET)
                snprintf(buf, size, "virtual node (type=virtual-kubelet): runs no DaemonSet pods");
        else if (n->virtual_kind == NODE_VIRTUAL_FARGATE)
                snprintf(buf, size, "EKS Fargate node: runs no DaemonSet pods");
        else if (!n->os || !streq(n->os, "linux"))
                snprintf(buf, size, "os '%s' is not linux", n->os ? n->os : "(unset)");
        else if (!n->selected)
                snprintf(buf, size, "does not match node_selector");
        else if (n->control_plane)
                snprintf(buf, size, "control-plane");
        else if ((t = toleration_first_untolerated(in->tolerations, in->n_tolerations, n->taints, n->n_taints)))
                snprintf(buf, size, "taint %s%s%s:%s not tolerated", strempty(t->key), t->value ? "=" : "",
                         strempty(t->value), strempty(t->effect));
        else
                return false;
        return true;
}

/* A seeder that is NotReady: WAIT within the grace period, else a reason to replace. */
static int classify_not_ready(const struct select_input *in, const struct node_info *n, struct slot *s,
                              int bad_action) {
        char d[32], g[32];
        int64_t dur = in->now - n->ready_since;

        fmt_duration(in->node_down_grace, g, sizeof(g));
        if (n->ready_since <= 0)
                return set_action(s, bad_action, "NotReady since an unknown time");
        fmt_duration(MAX(dur, 0), d, sizeof(d));
        if (dur <= in->node_down_grace)
                return set_action(s, SELECT_WAIT, "NotReady for %s <= node_down_grace %s", d, g);
        return set_action(s, bad_action, "NotReady for %s > node_down_grace %s", d, g);
}

static int classify_seeder(const struct select_input *in, const struct node_info *n, struct slot *s,
                           const char *why) {
        int bad = n->owned ? SELECT_DROP : SELECT_UNHEALTHY_FOREIGN;

        if (!why)
                return set_action(s, n->owned ? SELECT_KEEP : SELECT_ADOPT,
                                  n->owned ? "healthy" : "labelled by someone else, adopted");
        if (!n->deleting && !n->unschedulable && n->ready != NODE_READY_TRUE)
                return classify_not_ready(in, n, s, bad);
        if (n->deleting || n->unschedulable)
                return set_action(s, bad, "%s", why);
        return set_action(s, bad, "no longer eligible: %s", why);
}

static int classify(struct ctx *c) {
        const struct select_input *in = c->in;
        char why[512];
        int r;

        for (size_t i = 0; i < in->n_nodes; i++) {
                const struct node_info *n = &in->nodes[i];
                struct slot *s = &c->slots[i];
                bool bad = ineligible(in, n, why, sizeof(why));

                s->action = NO_ACTION;
                s->eligible = !bad;
                s->hash = select_hash(n->name);
                s->images = (unsigned) MIN(n->n_images, in->n_wanted_images);
                if (n->seeder_label && streq(n->seeder_label, in->label_value)) {
                        r = classify_seeder(in, n, s, bad ? why : NULL);
                        if (r < 0)
                                return r;
                        if (counted_action(s->action))
                                c->counted++;
                } else
                        s->candidate = !bad && (!n->seeder_label || n->owned);
        }
        return 0;
}

/* ---- zone x arch buckets ---- */

struct bkey {
        const char *zone, *arch;
        size_t idx;
};

static int bkey_cmp(const void *a, const void *b) {
        const struct bkey *x = a, *y = b;
        int r = strcmp(strempty(x->zone), strempty(y->zone));

        return r ? r : strcmp(strempty(x->arch), strempty(y->arch));
}

static int assign_buckets(struct ctx *c) {
        _cleanup_(freep) struct bkey *keys = malloc(MAX(c->in->n_nodes, 1) * sizeof(*keys));
        size_t n = 0;

        if (!keys)
                return -ENOMEM;
        for (size_t i = 0; i < c->in->n_nodes; i++)
                if (c->slots[i].eligible || counted_action(c->slots[i].action))
                        keys[n++] = (struct bkey){ c->in->nodes[i].zone, c->in->nodes[i].arch, i };
        qsort(keys, n, sizeof(*keys), bkey_cmp);
        c->buckets = calloc(MAX(n, 1), sizeof(*c->buckets));
        if (!c->buckets)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                struct slot *s = &c->slots[keys[k].idx];
                if (k > 0 && bkey_cmp(&keys[k - 1], &keys[k]) != 0)
                        c->n_buckets++;
                s->bucket = c->n_buckets;
                c->buckets[s->bucket].eligible += s->eligible;
                c->buckets[s->bucket].current += counted_action(s->action);
        }
        if (n > 0)
                c->n_buckets++;
        return 0;
}

struct remainder {
        size_t rem, eligible, bucket;
};

static int remainder_cmp(const void *a, const void *b) {
        const struct remainder *x = a, *y = b;

        if (x->rem != y->rem)
                return x->rem > y->rem ? -1 : 1;
        if (x->eligible != y->eligible)
                return x->eligible > y->eligible ? -1 : 1;
        return x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
}

/* Largest remainder: floor(target x eligible_b / eligible), the rest one each to the
 * largest fractional parts. */
static int compute_quotas(struct ctx *c, size_t target, size_t eligible) {
        _cleanup_(freep) struct remainder *rems = calloc(MAX(c->n_buckets, 1), sizeof(*rems));
        size_t assigned = 0;

        if (!rems)
                return -ENOMEM;
        if (eligible == 0)
                return 0;
        for (size_t b = 0; b < c->n_buckets; b++) {
                size_t num = target * c->buckets[b].eligible;
                c->buckets[b].quota = num / eligible;
                assigned += c->buckets[b].quota;
                rems[b] = (struct remainder){ num % eligible, c->buckets[b].eligible, b };
        }
        qsort(rems, c->n_buckets, sizeof(*rems), remainder_cmp);
        for (size_t k = 0; assigned < target && k < c->n_buckets; k++, assigned++)
                c->buckets[rems[k].bucket].quota++;
        return 0;
}

/* ---- ranking within a bucket ---- */

struct rank {
        size_t bucket;
        unsigned images;
        bool wait;
        uint64_t hash;
        const char *name;
        size_t idx;
};

/* Best candidate first: more images, lower hash, then name. */
static int rank_better(const struct rank *x, const struct rank *y) {
        if (x->images != y->images)
                return x->images > y->images ? -1 : 1;
        if (x->hash != y->hash)
                return x->hash < y->hash ? -1 : 1;
        return strcmp(x->name, y->name);
}

/* Worst seeder first: WAIT, fewer images, higher hash. */
static int rank_worse(const struct rank *x, const struct rank *y) {
        if (x->wait != y->wait)
                return x->wait ? -1 : 1;
        return -rank_better(x, y);
}

static int rank_add_cmp(const void *a, const void *b) {
        const struct rank *x = a, *y = b;

        if (x->bucket != y->bucket)
                return x->bucket < y->bucket ? -1 : 1;
        return rank_better(x, y);
}

static int rank_drop_cmp(const void *a, const void *b) {
        const struct rank *x = a, *y = b;

        if (x->bucket != y->bucket)
                return x->bucket < y->bucket ? -1 : 1;
        return rank_worse(x, y);
}

static struct rank rank_of(const struct ctx *c, size_t i) {
        const struct slot *s = &c->slots[i];

        return (struct rank){ s->bucket, s->images, s->action == SELECT_WAIT, s->hash, c->in->nodes[i].name, i };
}

/* Sorts the nodes that pass `want` by bucket and rank into *ret_flat, and points each
 * bucket at its run (through the add or drop fields). */
static int build_lists(struct ctx *c, bool drop, size_t **ret_flat) {
        _cleanup_(freep) struct rank *ranks = malloc(MAX(c->in->n_nodes, 1) * sizeof(*ranks));
        size_t n = 0, *flat;

        if (!ranks)
                return -ENOMEM;
        for (size_t i = 0; i < c->in->n_nodes; i++) {
                const struct slot *s = &c->slots[i];
                bool want = drop ? (c->in->nodes[i].owned && (s->action == SELECT_KEEP || s->action == SELECT_WAIT))
                                 : s->candidate;
                if (want)
                        ranks[n++] = rank_of(c, i);
        }
        qsort(ranks, n, sizeof(*ranks), drop ? rank_drop_cmp : rank_add_cmp);
        flat = malloc(MAX(n, 1) * sizeof(*flat));
        if (!flat)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                struct bucket *b = &c->buckets[ranks[k].bucket];
                flat[k] = ranks[k].idx;
                if (drop && b->n_drop++ == 0)
                        b->drop = &flat[k];
                if (!drop && b->n_add++ == 0)
                        b->add = &flat[k];
        }
        *ret_flat = flat;
        return 0;
}

/* ---- adding and trimming ---- */

static struct bucket *pick_add(struct ctx *c) {
        struct bucket *best = NULL;
        struct rank rb = {};

        for (size_t i = 0; i < c->n_buckets; i++) {
                struct bucket *b = &c->buckets[i];
                long long d, db;
                struct rank r;

                if (b->next_add >= b->n_add)
                        continue;
                r = rank_of(c, b->add[b->next_add]);
                d = (long long) b->quota - (long long) b->current;
                db = best ? (long long) best->quota - (long long) best->current : 0;
                if (!best || d > db || (d == db && rank_better(&r, &rb) < 0)) {
                        best = b;
                        rb = r;
                }
        }
        return best;
}

static struct bucket *pick_drop(struct ctx *c) {
        struct bucket *best = NULL;
        struct rank rb = {};

        for (size_t i = 0; i < c->n_buckets; i++) {
                struct bucket *b = &c->buckets[i];
                long long e, eb;
                struct rank r;

                if (b->next_drop >= b->n_drop)
                        continue;
                r = rank_of(c, b->drop[b->next_drop]);
                e = (long long) b->current - (long long) b->quota;
                eb = best ? (long long) best->current - (long long) best->quota : 0;
                if (!best || e > eb || (e == eb && rank_worse(&r, &rb) < 0)) {
                        best = b;
                        rb = r;
                }
        }
        return best;
}

static int add_seeders(struct ctx *c, size_t target) {
        _cleanup_(freep) size_t *flat = NULL;
        struct bucket *b;
        int r;

        r = build_lists(c, false, &flat);
        if (r < 0)
                return r;
        while (c->counted < target && (b = pick_add(c))) {
                size_t i = b->add[b->next_add++];
                const struct node_info *n = &c->in->nodes[i];
                r = set_action(&c->slots[i], SELECT_ADD, "zone '%s', arch '%s', holds %u of %zu wanted images",
                               n->zone ? n->zone : "(unset)", n->arch ? n->arch : "(unset)", c->slots[i].images,
                               c->in->n_wanted_images);
                if (r < 0)
                        return r;
                b->current++;
                c->counted++;
        }
        return 0;
}

static int trim_seeders(struct ctx *c, size_t target) {
        _cleanup_(freep) size_t *flat = NULL;
        size_t before = c->counted;
        struct bucket *b;
        int r;

        r = build_lists(c, true, &flat);
        if (r < 0)
                return r;
        while (c->counted > target && (b = pick_drop(c))) {
                size_t i = b->drop[b->next_drop++];
                r = set_action(&c->slots[i], SELECT_DROP, "target shrank %zu -> %zu", before, target);
                if (r < 0)
                        return r;
                b->current--;
                c->counted--;
        }
        return 0;
}

/* ---- the plan ---- */

static int strp_cmp(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int entry_cmp(const void *a, const void *b) {
        return strcmp(((const struct select_entry *) a)->node, ((const struct select_entry *) b)->node);
}

static int plan_add(struct select_plan *p, const char *node, size_t index, int action, char *reason) {
        struct select_entry *e = &p->entries[p->n_entries];

        e->node = strdup(node);
        if (!e->node) {
                free(reason);
                return -ENOMEM;
        }
        e->index = index;
        e->action = (enum select_action) action;
        e->reason = reason;
        p->n_entries++;
        p->counts[action]++;
        return 0;
}

/* Tracker names absent from the cluster become GONE entries (each name once). */
static int add_gone(const struct select_input *in, struct select_plan *p) {
        _cleanup_(freep) const char **names = malloc(MAX(in->n_nodes, 1) * sizeof(char *));
        _cleanup_(freep) const char **tracked = malloc(MAX(in->n_tracked, 1) * sizeof(char *));
        int r;

        if (!names || !tracked)
                return -ENOMEM;
        for (size_t i = 0; i < in->n_nodes; i++)
                names[i] = in->nodes[i].name;
        if (in->n_tracked > 0)
                memcpy(tracked, in->tracked, in->n_tracked * sizeof(char *));
        qsort(names, in->n_nodes, sizeof(char *), strp_cmp);
        qsort(tracked, in->n_tracked, sizeof(char *), strp_cmp);
        for (size_t k = 0; k < in->n_tracked; k++) {
                char *reason;
                if ((k > 0 && streq(tracked[k - 1], tracked[k])) ||
                    bsearch(&tracked[k], names, in->n_nodes, sizeof(char *), strp_cmp))
                        continue;
                reason = strdup("deleted from the cluster");
                if (!reason)
                        return -ENOMEM;
                r = plan_add(p, tracked[k], SELECT_NO_INDEX, SELECT_GONE, reason);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int build_plan(struct ctx *c, size_t target, struct select_plan **ret) {
        const struct select_input *in = c->in;
        _cleanup_(select_plan_freep) struct select_plan *p = calloc(1, sizeof(*p));
        int r;

        if (!p)
                return -ENOMEM;
        p->entries = calloc(in->n_nodes + in->n_tracked + 1, sizeof(*p->entries));
        if (!p->entries)
                return -ENOMEM;
        for (size_t i = 0; i < in->n_nodes; i++) {
                struct slot *s = &c->slots[i];
                p->eligible += s->eligible;
                if (s->action == NO_ACTION)
                        continue;
                r = plan_add(p, in->nodes[i].name, i, s->action, TAKE_PTR(s->reason));
                if (r < 0)
                        return r;
        }
        r = add_gone(in, p);
        if (r < 0)
                return r;
        qsort(p->entries, p->n_entries, sizeof(*p->entries), entry_cmp);
        p->target = target;
        p->seeders = c->counted;
        *ret = TAKE_PTR(p);
        return 0;
}

static int check_input(const struct select_input *in, char **ret_cause) {
        if (!(in->percentage > 0 && in->percentage <= 100))
                return cause_fmt(ret_cause, "percentage must be in (0, 100], got %g", in->percentage);
        if (in->max_seeders > 0 && in->min_seeders > in->max_seeders)
                return cause_fmt(ret_cause, "min_seeders %zu > max_seeders %zu", in->min_seeders, in->max_seeders);
        if (!in->label_value)
                return cause_fmt(ret_cause, "no seeder label value");
        for (size_t i = 0; i < in->n_nodes; i++)
                if (isempty(in->nodes[i].name))
                        return cause_fmt(ret_cause, "node %zu has no name", i);
        for (size_t i = 0; i < in->n_tracked; i++)
                if (!in->tracked[i])
                        return cause_fmt(ret_cause, "tracked seeder %zu has no name", i);
        return 0;
}

static void ctx_done(struct ctx *c) {
        for (size_t i = 0; c->slots && i < c->in->n_nodes; i++)
                free(c->slots[i].reason);
        free(c->slots);
        free(c->buckets);
}

int select_plan(const struct select_input *in, struct select_plan **ret, char **ret_cause) {
        _cleanup_(ctx_done) struct ctx c = { .in = in };
        size_t eligible = 0, target;
        int r;

        r = check_input(in, ret_cause);
        if (r < 0)
                return r;
        c.slots = calloc(MAX(in->n_nodes, 1), sizeof(*c.slots));
        if (!c.slots)
                return -ENOMEM;
        r = classify(&c);
        if (r < 0)
                return r;
        for (size_t i = 0; i < in->n_nodes; i++)
                eligible += c.slots[i].eligible;
        target = select_target(eligible, in->percentage, in->min_seeders, in->max_seeders);
        r = assign_buckets(&c);
        if (r >= 0)
                r = compute_quotas(&c, target, eligible);
        if (r >= 0)
                r = c.counted > target ? trim_seeders(&c, target) : add_seeders(&c, target);
        if (r < 0)
                return r;
        return build_plan(&c, target, ret);
}

struct select_plan *select_plan_free(struct select_plan *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_entries; i++) {
                free(p->entries[i].node);
                free(p->entries[i].reason);
        }
        free(p->entries);
        free(p);
        return NULL;
}

void select_plan_freep(struct select_plan **p) {
        select_plan_free(*p);
}

size_t select_plan_count(const struct select_plan *p, enum select_action a) {
        return p && (unsigned) a < _SELECT_ACTION_MAX ? p->counts[a] : 0;
}

const struct select_entry *select_plan_next(const struct select_plan *p, enum select_action a,
                                            size_t *cursor) {
        for (; p && *cursor < p->n_entries; (*cursor)++)
                if (p->entries[*cursor].action == a)
                        return &p->entries[(*cursor)++];
        return NULL;
}

const struct select_entry *select_plan_find(const struct select_plan *p, const char *node) {
        struct select_entry key = { .node = (char *) node };

        if (!p || !node)
                return NULL;
        return bsearch(&key, p->entries, p->n_entries, sizeof(key), entry_cmp);
}
