/* SPDX-License-Identifier: MIT */
#include "stage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "manifest.h"

struct stage *stage_free(struct stage *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_nodes; i++)
                free(s->nodes[i].results);
        free(s->nodes);
        free(s->sorted);
        free(s->batch_of);
        free(s);
        return NULL;
}

void stage_freep(struct stage **s) {
        *s = stage_free(*s);
}

static const struct stage *sort_stage; /* qsort has no user pointer */

static int cmp_name(const void *a, const void *b) {
        return strcmp(sort_stage->nodes[*(const size_t *) a].name, sort_stage->nodes[*(const size_t *) b].name);
}

ssize_t stage_find(const struct stage *s, const char *name) {
        size_t lo = 0, hi = s->n_nodes;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(s->nodes[s->sorted[mid]].name, name);
                if (c == 0)
                        return (ssize_t) s->sorted[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

static int add_result(struct stage_node *n, size_t k) {
        size_t *l = realloc(n->results, (n->n_results + 1) * sizeof(size_t));

        if (!l)
                return -ENOMEM;
        n->results = l;
        n->results[n->n_results++] = k;
        return 0;
}

/* Adds node name at the end; the sorted index is rebuilt by the caller. */
static int add_node(struct stage *s, const char *name, size_t *ret) {
        struct stage_node *l = realloc(s->nodes, (s->n_nodes + 1) * sizeof(*l));

        if (!l)
                return -ENOMEM;
        s->nodes = l;
        s->nodes[s->n_nodes] = (struct stage_node) { .name = name };
        *ret = s->n_nodes++;
        return 0;
}

/* Results of one node are usually adjacent: the last node is tried first, then a
 * linear look-up among the nodes seen (only for results out of that order). */
static int index_results(struct stage *s) {
        const struct tracker_run *run = s->run;
        size_t last = SIZE_MAX;
        int r;

        for (size_t k = 0; k < run->n_results; k++) {
                const char *name = run->results[k].node;
                size_t i = SIZE_MAX;
                if (last != SIZE_MAX && streq(s->nodes[last].name, name))
                        i = last;
                for (size_t j = 0; i == SIZE_MAX && j < s->n_nodes; j++)
                        if (streq(s->nodes[j].name, name))
                                i = j;
                if (i == SIZE_MAX) {
                        r = add_node(s, name, &i);
                        if (r < 0)
                                return r;
                }
                r = add_result(&s->nodes[i], k);
                if (r < 0)
                        return r;
                last = i;
        }
        return 0;
}

static int index_batches(struct stage *s, size_t per_batch) {
        size_t n_images = s->run->n_images;

        (void) manifest_batch_count(n_images, per_batch, &s->n_batches);
        s->batch_of = calloc(n_images + 1, sizeof(size_t));
        if (!s->batch_of)
                return -ENOMEM;
        for (size_t b = 0; b < s->n_batches; b++) {
                size_t first, len;
                (void) manifest_batch_range(n_images, per_batch, b, &first, &len);
                for (size_t i = first; i < first + len; i++)
                        s->batch_of[i] = b;
        }
        return 0;
}

int stage_new(const struct tracker_run *run, size_t per_batch, size_t pods_per_seeder, struct stage **ret) {
        _cleanup_(stage_freep) struct stage *s = NULL;
        int r;

        if (per_batch == 0 || pods_per_seeder == 0)
                return -EINVAL;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->run = run;
        s->per_batch = per_batch;
        s->pods_per_seeder = pods_per_seeder;
        r = index_batches(s, per_batch);
        if (r >= 0)
                r = index_results(s);
        if (r < 0)
                return r;
        s->sorted = calloc(s->n_nodes + 1, sizeof(size_t));
        if (!s->sorted)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_nodes; i++)
                s->sorted[i] = i;
        sort_stage = s;
        qsort(s->sorted, s->n_nodes, sizeof(size_t), cmp_name);
        sort_stage = NULL;
        *ret = TAKE_PTR(s);
        return 0;
}

bool stage_waiting(const struct stage *s, size_t i, size_t b) {
        const struct stage_node *n = &s->nodes[i];

        for (size_t k = 0; k < n->n_results; k++) {
                const struct tracker_result *res = &s->run->results[n->results[k]];
                if (res->state == TRACKER_STATE_WAITING && res->image < s->run->n_images &&
                    s->batch_of[res->image] == b)
                        return true;
        }
        return false;
}

bool stage_in_flight(const struct stage *s, size_t i, size_t b) {
        size_t ahead = 0;

        if (i >= s->n_nodes || b >= s->n_batches || !stage_waiting(s, i, b))
                return false;
        /* In flight when fewer than pods_per_seeder earlier batches still wait here. */
        for (size_t e = 0; e < b && ahead < s->pods_per_seeder; e++)
                ahead += stage_waiting(s, i, e);
        return ahead < s->pods_per_seeder;
}

int stage_to_start(const struct stage *s, const uint8_t *started, size_t b, size_t max, size_t **ret,
                   size_t *ret_n) {
        _cleanup_(freep) size_t *l = NULL;
        size_t n = 0;

        for (size_t i = 0; i < s->n_nodes && (max == 0 || n < max); i++) {
                if ((started && started[i * s->n_batches + b]) || !stage_in_flight(s, i, b))
                        continue;
                if (!l) {
                        l = calloc(s->n_nodes, sizeof(size_t));
                        if (!l)
                                return -ENOMEM;
                }
                l[n++] = i;
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

uint64_t stage_image_mask(const struct stage *s, size_t i, size_t b) {
        const struct stage_node *n = &s->nodes[i];
        size_t first, len;
        uint64_t mask = 0;

        if (manifest_batch_range(s->run->n_images, s->per_batch, b, &first, &len) < 0)
                return 0;
        for (size_t k = 0; k < n->n_results; k++) {
                const struct tracker_result *res = &s->run->results[n->results[k]];
                if (res->image < first || res->image >= first + len || res->image - first >= 64)
                        continue;
                if (res->state == TRACKER_STATE_WAITING || res->state == TRACKER_STATE_PULLED ||
                    res->state == TRACKER_STATE_SKIPPED)
                        mask |= UINT64_C(1) << (res->image - first);
        }
        return mask;
}

void stage_groups_free(struct stage_group *g, size_t n) {
        for (size_t i = 0; g && i < n; i++)
                free(g[i].nodes);
        free(g);
}

int stage_split(const struct stage *s, size_t b, const size_t *idx, size_t n, struct stage_group **ret,
                size_t *ret_n) {
        struct stage_group *g = NULL;
        size_t k = 0;

        if (n > 0 && !(g = calloc(n, sizeof(*g))))
                return -ENOMEM;
        for (size_t j = 0; j < n; j++) {
                uint64_t mask = stage_image_mask(s, idx[j], b);
                size_t x = 0;
                while (x < k && g[x].mask != mask)
                        x++;
                if (x == k) {
                        g[k].mask = mask;
                        g[k].nodes = calloc(n, sizeof(size_t));
                        if (!g[k++].nodes) {
                                stage_groups_free(g, k);
                                return -ENOMEM;
                        }
                }
                g[x].nodes[g[x].n_nodes++] = idx[j];
        }
        *ret = g;
        *ret_n = k;
        return 0;
}
