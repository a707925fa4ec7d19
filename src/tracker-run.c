/* SPDX-License-Identifier: MIT */
/* The current run: images, plan, DaemonSets, and the node x image results with a hash
 * index so that 5,000 nodes x 10 images stay cheap to update. */

#include <stdint.h>

#include "tracker-internal.h"

#define NO_RESULT SIZE_MAX

static void result_done(struct tracker_result *x) {
        free(x->node);
        free(x->digest);
        free(x->reason);
        free(x->message);
}

struct tracker_run *tracker_run_free(struct tracker_run *r) {
        if (!r)
                return NULL;
        free(r->id);
        for (size_t i = 0; i < r->n_images; i++) {
                free(r->images[i].ref);
                free(r->images[i].digest);
        }
        free(r->images);
        tracker_plan_clear(r);
        free(r->plan);
        for (size_t i = 0; i < r->n_daemonsets; i++)
                free(r->daemonsets[i]);
        free(r->daemonsets);
        for (size_t i = 0; i < r->n_results; i++)
                result_done(&r->results[i]);
        free(r->results);
        free(r->result_index);
        free(r);
        return NULL;
}

int tracker_run_start(struct tracker *t, const char *id, int64_t now) {
        struct tracker_run *r;

        if (isempty(id))
                return -EINVAL;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->id = strdup(id);
        if (!r->id) {
                free(r);
                return -ENOMEM;
        }
        r->started_at = now;
        r->phase = TRACKER_PHASE_SELECT;
        r->phase_started_at[TRACKER_PHASE_SELECT] = now;
        tracker_run_free(t->run);
        t->run = r;
        return 0;
}

void tracker_run_end(struct tracker *t) {
        t->run = tracker_run_free(t->run);
}

int tracker_run_set_phase(struct tracker_run *r, enum tracker_phase p, int64_t now) {
        if ((unsigned) p >= _TRACKER_PHASE_MAX)
                return -EINVAL;
        r->phase = p;
        r->phase_started_at[p] = now;
        return 0;
}

/* --- images, plan, daemonsets ----------------------------------------------------- */

int tracker_run_find_image(const struct tracker_run *r, const char *ref) {
        for (size_t i = 0; ref && i < r->n_images; i++)
                if (streq(r->images[i].ref, ref))
                        return (int) i;
        return -ENOENT;
}

int tracker_run_add_image(struct tracker_run *r, const char *ref, const char *digest) {
        int i;

        if (isempty(ref) || r->n_images >= INT32_MAX)
                return -EINVAL;
        i = tracker_run_find_image(r, ref);
        if (i < 0) {
                if (!TRACKER_GROW(r->images, r->alloc_images, r->n_images + 1))
                        return -ENOMEM;
                r->images[r->n_images] = (struct tracker_image) { .ref = strdup(ref) };
                if (!r->images[r->n_images].ref)
                        return -ENOMEM;
                i = (int) r->n_images++;
        }
        if (free_and_strdup(&r->images[i].digest, digest) < 0)
                return -ENOMEM;
        return i;
}

struct tracker_plan_entry *tracker_plan_find(const struct tracker_run *r, const char *node) {
        for (size_t i = 0; node && i < r->n_plan; i++)
                if (streq(r->plan[i].node, node))
                        return &r->plan[i];
        return NULL;
}

int tracker_plan_set(struct tracker_run *r, const char *node, enum tracker_action action,
                     const char *reason) {
        struct tracker_plan_entry *e;

        if (isempty(node) || (unsigned) action >= _TRACKER_ACTION_MAX)
                return -EINVAL;
        e = tracker_plan_find(r, node);
        if (!e) {
                if (!TRACKER_GROW(r->plan, r->alloc_plan, r->n_plan + 1))
                        return -ENOMEM;
                e = &r->plan[r->n_plan];
                *e = (struct tracker_plan_entry) { .node = strdup(node), .action = action };
                if (!e->node)
                        return -ENOMEM;
                r->n_plan++;
        }
        if (free_and_strdup(&e->reason, reason) < 0)
                return -ENOMEM;
        if (e->action != action)
                e->done = false;
        e->action = action;
        return 0;
}

void tracker_plan_clear(struct tracker_run *r) {
        for (size_t i = 0; i < r->n_plan; i++) {
                free(r->plan[i].node);
                free(r->plan[i].reason);
        }
        r->n_plan = 0;
}

int tracker_run_add_daemonset(struct tracker_run *r, const char *name) {
        if (isempty(name))
                return -EINVAL;
        for (size_t i = 0; i < r->n_daemonsets; i++)
                if (streq(r->daemonsets[i], name))
                        return 1;
        if (!TRACKER_GROW(r->daemonsets, r->alloc_daemonsets, r->n_daemonsets + 1))
                return -ENOMEM;
        r->daemonsets[r->n_daemonsets] = strdup(name);
        if (!r->daemonsets[r->n_daemonsets])
                return -ENOMEM;
        r->n_daemonsets++;
        return 0;
}

int tracker_run_remove_daemonset(struct tracker_run *r, const char *name) {
        for (size_t i = 0; name && i < r->n_daemonsets; i++)
                if (streq(r->daemonsets[i], name)) {
                        free(r->daemonsets[i]);
                        memmove(r->daemonsets + i, r->daemonsets + i + 1,
                                (r->n_daemonsets - i - 1) * sizeof(char *));
                        r->n_daemonsets--;
                        return 0;
                }
        return -ENOENT;
}

/* --- results ---------------------------------------------------------------------- */

static uint64_t result_hash(const char *node, size_t image) {
        uint64_t h = 1469598103934665603ull; /* FNV-1a */
        for (const unsigned char *p = (const unsigned char *) node; *p; p++)
                h = (h ^ *p) * 1099511628211ull;
        h ^= (uint64_t) image * 0x9e3779b97f4a7c15ull;
        return h ^ (h >> 29);
}

static void result_index_insert(struct tracker_run *r, size_t i) {
        size_t mask = r->result_index_size - 1;
        size_t slot = (size_t) result_hash(r->results[i].node, r->results[i].image) & mask;
        while (r->result_index[slot] != NO_RESULT)
                slot = (slot + 1) & mask;
        r->result_index[slot] = i;
}

/* (Re)builds the index with room for at least want results at half load. */
static int result_index_rebuild(struct tracker_run *r, size_t want) {
        size_t size = 64;
        while (size < want * 2) {
                if (size > SIZE_MAX / 4 / sizeof(size_t))
                        return -ENOMEM;
                size *= 2;
        }
        size_t *idx = malloc(size * sizeof(size_t));
        if (!idx)
                return -ENOMEM;
        for (size_t i = 0; i < size; i++)
                idx[i] = NO_RESULT;
        free(r->result_index);
        r->result_index = idx;
        r->result_index_size = size;
        for (size_t i = 0; i < r->n_results; i++)
                result_index_insert(r, i);
        return 0;
}

static size_t result_lookup(struct tracker_run *r, const char *node, size_t image) {
        if (!r->result_index || r->n_results * 2 > r->result_index_size)
                if (result_index_rebuild(r, r->n_results + 1) < 0) {
                        /* No memory for the index: fall back to a scan. */
                        for (size_t i = 0; i < r->n_results; i++)
                                if (r->results[i].image == image && streq(r->results[i].node, node))
                                        return i;
                        return NO_RESULT;
                }
        size_t mask = r->result_index_size - 1;
        for (size_t slot = (size_t) result_hash(node, image) & mask;; slot = (slot + 1) & mask) {
                size_t i = r->result_index[slot];
                if (i == NO_RESULT)
                        return NO_RESULT;
                if (r->results[i].image == image && streq(r->results[i].node, node))
                        return i;
        }
}

struct tracker_result *tracker_result_find(struct tracker_run *r, const char *node, size_t image) {
        if (!node)
                return NULL;
        size_t i = result_lookup(r, node, image);
        return i == NO_RESULT ? NULL : &r->results[i];
}

static int result_append(struct tracker_run *r, const char *node, size_t image, size_t *ret) {
        if (!TRACKER_GROW(r->results, r->alloc_results, r->n_results + 1))
                return -ENOMEM;
        struct tracker_result *x = &r->results[r->n_results];
        *x = (struct tracker_result) { .node = strdup(node), .image = image };
        if (!x->node)
                return -ENOMEM;
        *ret = r->n_results++;
        if (!r->result_index || r->n_results * 2 > r->result_index_size) {
                if (result_index_rebuild(r, r->n_results) < 0)
                        r->result_index = (free(r->result_index), NULL);
        } else
                result_index_insert(r, *ret);
        return 0;
}

int tracker_result_set(struct tracker_run *r, const char *node, size_t image,
                       enum tracker_state state, const char *digest, const char *reason,
                       const char *message) {
        size_t i;
        int k;

        if (isempty(node) || image >= r->n_images || (unsigned) state >= _TRACKER_STATE_MAX)
                return -EINVAL;
        i = result_lookup(r, node, image);
        if (i == NO_RESULT) {
                k = result_append(r, node, image, &i);
                if (k < 0)
                        return k;
        }
        struct tracker_result *x = &r->results[i];
        x->state = state;
        if (free_and_strdup(&x->digest, digest) < 0 || free_and_strdup(&x->reason, reason) < 0 ||
            free_and_strdup(&x->message, message) < 0)
                return -ENOMEM;
        return 0;
}

size_t tracker_result_remove_node(struct tracker_run *r, const char *node) {
        size_t j = 0, removed = 0;

        for (size_t i = 0; i < r->n_results; i++) {
                if (node && streq(r->results[i].node, node)) {
                        result_done(&r->results[i]);
                        removed++;
                        continue;
                }
                r->results[j++] = r->results[i];
        }
        r->n_results = j;
        if (removed > 0) /* positions moved: rebuild lazily on the next lookup */
                r->result_index = (free(r->result_index), NULL);
        return removed;
}
