/* SPDX-License-Identifier: MIT */
/* Which batch each seeder pulls now: batches in order, pods_per_seeder at a time. */
#include <errno.h>
#include <stdlib.h>

#include "macro.h"
#include "stage.h"
#include "tap.h"
#include "tracker.h"

/* A run with n_images images and, for each node, one result per image in state. */
static struct tracker *make(size_t n_images, const char *const *nodes, size_t n_nodes) {
        struct tracker *t = tracker_new();

        if (!t || tracker_run_start(t, "r1", 1000) < 0)
                abort();
        for (size_t i = 0; i < n_images; i++) {
                char ref[64];
                snprintf(ref, sizeof(ref), "docker.io/library/img%zu:1", i);
                if (tracker_run_add_image(t->run, ref, NULL) < 0)
                        abort();
        }
        for (size_t n = 0; n < n_nodes; n++)
                for (size_t i = 0; i < n_images; i++)
                        if (tracker_result_set(t->run, nodes[n], i, TRACKER_STATE_WAITING, NULL, NULL, NULL) < 0)
                                abort();
        return t;
}

static void set(struct tracker *t, const char *node, size_t image, enum tracker_state st) {
        if (tracker_result_set(t->run, node, image, st, NULL, NULL, NULL) < 0)
                abort();
}

static void test_one_at_a_time(void) {
        static const char *const nodes[] = { "b-node", "a-node", "c-node" };
        struct tracker *t = make(5, nodes, 3); /* batches of 2: {0,1} {2,3} {4} */
        struct stage *s = NULL;
        size_t *idx = NULL, n = 0;
        uint8_t *started;

        is_int(stage_new(t->run, 2, 1, &s), 0, "stage built");
        is_int(s->n_nodes, 3, "three nodes");
        is_int(s->n_batches, 3, "three batches");
        is_str(s->nodes[0].name, "b-node", "nodes in order of their results");
        is_int(stage_find(s, "a-node"), 1, "find a-node");
        is_int(stage_find(s, "c-node"), 2, "find c-node");
        is_int(stage_find(s, "zz"), -1, "unknown node");
        for (size_t i = 0; i < 3; i++) {
                ok(stage_in_flight(s, i, 0), "node %zu: batch 0 in flight", i);
                ok(!stage_in_flight(s, i, 1) && !stage_in_flight(s, i, 2), "node %zu: later batches wait", i);
        }
        /* b-node finishes batch 0 (one pulled, one failed): batch 1 comes into flight there only. */
        set(t, "b-node", 0, TRACKER_STATE_PULLED);
        ok(stage_in_flight(s, 0, 0) && !stage_in_flight(s, 0, 1), "half a batch done: still batch 0");
        set(t, "b-node", 1, TRACKER_STATE_FAILED);
        ok(!stage_in_flight(s, 0, 0), "b-node done with batch 0");
        ok(stage_in_flight(s, 0, 1), "b-node: batch 1 in flight");
        ok(stage_in_flight(s, 1, 0) && !stage_in_flight(s, 1, 1), "a-node still on batch 0");
        started = calloc(s->n_nodes * s->n_batches, 1);
        started[0 * 3 + 0] = started[1 * 3 + 0] = started[2 * 3 + 0] = 1;
        is_int(stage_to_start(s, started, 1, 0, &idx, &n), 0, "to start for batch 1");
        ok(n == 1 && idx[0] == 0, "only b-node starts batch 1 (n=%zu)", n);
        free(idx);
        is_int(stage_to_start(s, started, 0, 0, &idx, &n), 0, "to start for batch 0");
        ok(n == 0 && !idx, "batch 0 started everywhere already");
        /* A batch a node holds already (skipped) is not waited for: c-node jumps to batch 2. */
        set(t, "c-node", 0, TRACKER_STATE_PULLED);
        set(t, "c-node", 1, TRACKER_STATE_NOT_APPLICABLE);
        set(t, "c-node", 2, TRACKER_STATE_SKIPPED);
        set(t, "c-node", 3, TRACKER_STATE_NODE_LOST);
        ok(!stage_in_flight(s, 2, 1) && stage_in_flight(s, 2, 2), "c-node: batch 1 settled, batch 2 in flight");
        ok(stage_waiting(s, 2, 2) && !stage_waiting(s, 2, 1), "waiting per batch");
        free(started);
        stage_free(s);
        tracker_free(t);
}

static void test_overlap(void) {
        static const char *const nodes[] = { "n1" };
        struct tracker *t = make(6, nodes, 1); /* batches of 1 */
        struct stage *s = NULL;
        size_t *idx = NULL, n = 0;

        is_int(stage_new(t->run, 1, 2, &s), 0, "pods_per_seeder 2");
        ok(stage_in_flight(s, 0, 0) && stage_in_flight(s, 0, 1) && !stage_in_flight(s, 0, 2), "two in flight");
        set(t, "n1", 1, TRACKER_STATE_PULLED);
        ok(stage_in_flight(s, 0, 0) && stage_in_flight(s, 0, 2) && !stage_in_flight(s, 0, 3),
           "second done first: the third comes in");
        is_int(stage_to_start(s, NULL, 2, 0, &idx, &n), 0, "to start");
        is_int(n, 1, "one node to start");
        free(idx);
        stage_free(s);
        is_int(stage_new(t->run, 0, 1, &s), -EINVAL, "per_batch 0 refused");
        is_int(stage_new(t->run, 1, 0, &s), -EINVAL, "pods_per_seeder 0 refused");
        tracker_free(t);
}

static void test_cap(void) {
        const char **nodes = calloc(2500, sizeof(char *));
        char (*buf)[16] = calloc(2500, 16);
        struct tracker *t;
        struct stage *s = NULL;
        size_t *idx = NULL, n = 0, total = 0, calls = 0;
        uint8_t *started;

        for (size_t i = 0; i < 2500; i++) {
                snprintf(buf[i], 16, "node-%04zu", i);
                nodes[i] = buf[i];
        }
        t = make(1, nodes, 2500);
        is_int(stage_new(t->run, 10, 1, &s), 0, "2500 nodes");
        started = calloc(2500, 1);
        for (;;) {
                is_int(stage_to_start(s, started, 0, 1000, &idx, &n), 0, "to start (cap 1000)");
                if (n == 0)
                        break;
                ok(n <= 1000, "part %zu: %zu nodes", calls, n);
                for (size_t i = 0; i < n; i++)
                        started[idx[i]] = 1;
                total += n;
                calls++;
                free(idx);
        }
        is_int(calls, 3, "three parts");
        is_int(total, 2500, "every node once");
        free(started);
        stage_free(s);
        tracker_free(t);
        free(nodes);
        free(buf);
}

/* Seeders of a batch split by the images each may run: an image not applicable to a node
 * (or refused there) must not be a container of that node's pod. */
static void test_split(void) {
        static const char *const nodes[] = { "amd-1", "arm-1", "amd-2", "small", "arm-2" };
        struct tracker *t = make(5, nodes, 5); /* batches of 3: {0,1,2} {3,4} */
        struct stage *s = NULL;
        struct stage_group *g = NULL;
        size_t *idx = NULL, n = 0, n_groups = 0;

        set(t, "arm-1", 1, TRACKER_STATE_NOT_APPLICABLE); /* image 1: amd64 only */
        set(t, "arm-2", 1, TRACKER_STATE_NOT_APPLICABLE);
        set(t, "amd-2", 2, TRACKER_STATE_SKIPPED);        /* held: still runs, same group */
        set(t, "small", 0, TRACKER_STATE_FAILED);         /* refused: too large */
        set(t, "arm-1", 4, TRACKER_STATE_NOT_APPLICABLE);
        is_int(stage_new(t->run, 3, 1, &s), 0, "stage built");
        is_int((long) stage_image_mask(s, 0, 0), 07, "amd-1 runs all of batch 0");
        is_int((long) stage_image_mask(s, 1, 0), 05, "arm-1 not image 1");
        is_int((long) stage_image_mask(s, 2, 0), 07, "amd-2: a skipped image stays");
        is_int((long) stage_image_mask(s, 3, 0), 06, "small: not the refused image 0");
        is_int((long) stage_image_mask(s, 1, 1), 01, "arm-1, batch 1: bits over the batch (image 3 only)");
        is_int(stage_to_start(s, NULL, 0, 0, &idx, &n), 0, "to start for batch 0");
        is_int(n, 5, "every node starts batch 0");
        is_int(stage_split(s, 0, idx, n, &g, &n_groups), 0, "split");
        is_int(n_groups, 3, "three groups");
        ok(n_groups == 3 && g[0].mask == 07 && g[0].n_nodes == 2 && g[0].nodes[0] == 0 && g[0].nodes[1] == 2,
           "group 0: amd-1 and amd-2, every image");
        ok(n_groups == 3 && g[1].mask == 05 && g[1].n_nodes == 2 && g[1].nodes[0] == 1 && g[1].nodes[1] == 4,
           "group 1: arm-1 and arm-2, without image 1");
        ok(n_groups == 3 && g[2].mask == 06 && g[2].n_nodes == 1 && g[2].nodes[0] == 3,
           "group 2: small, without image 0");
        stage_groups_free(g, n_groups);
        is_int(stage_split(s, 0, idx, 0, &g, &n_groups), 0, "split of no nodes");
        ok(!g && n_groups == 0, "no groups");
        free(idx);
        stage_free(s);
        tracker_free(t);
}

int main(void) {
        test_one_at_a_time();
        test_split();
        test_overlap();
        test_cap();
        return tap_done();
}
