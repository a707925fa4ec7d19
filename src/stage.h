/* SPDX-License-Identifier: MIT */
/* Which batches of images each seeder pulls now (pure: reads a run's results only).
 *
 * A seeder pulls its batches one after the other: its batches "in flight" are the
 * first pods_per_seeder batches (in batch order) in which it still has a waiting
 * result. A batch in which all its results are settled (pulled, failed, skipped, not
 * applicable, node lost) is done there, so the next one comes into flight. The driver
 * (stage-run.c) starts a puller DaemonSet for the seeders whose batch came into flight
 * and deletes a DaemonSet once every seeder in it is done with its batch. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tracker.h"

struct stage_node {
        const char *name; /* borrowed from the run's results */
        size_t *results;  /* indices into run->results */
        size_t n_results;
};

struct stage {
        const struct tracker_run *run; /* borrowed: results are read, never changed */
        struct stage_node *nodes;      /* in the order of their first result */
        size_t n_nodes;
        size_t *sorted;                /* node indices sorted by name, for stage_find() */
        size_t *batch_of;              /* per image: its batch */
        size_t n_batches;
        size_t per_batch;
        size_t pods_per_seeder;
};

/* Seeders of one batch that run the same images: bit k of mask is the batch's k-th image
 * (a batch has at most 64). */
struct stage_group {
        uint64_t mask;
        size_t *nodes; /* stage node indices, owned */
        size_t n_nodes;
};

/* Indexes run's results: nodes, and the batch of each image for per_batch images per
 * batch (manifest_batch_range()). The run's results must not be added or removed while
 * the stage is used (their states may change). Stores a new stage in *ret (free with
 * stage_free()). Returns 0, -EINVAL for per_batch or pods_per_seeder 0, -ENOMEM. */
int stage_new(const struct tracker_run *run, size_t per_batch, size_t pods_per_seeder, struct stage **ret);
struct stage *stage_free(struct stage *s);
void stage_freep(struct stage **s);

/* Index of the node called name, or -1. */
ssize_t stage_find(const struct stage *s, const char *name);

/* Whether node i has a waiting result in batch b. */
bool stage_waiting(const struct stage *s, size_t i, size_t b);

/* Whether batch b is in flight on node i now. */
bool stage_in_flight(const struct stage *s, size_t i, size_t b);

/* Node indices with batch b in flight whose bit in started (n_nodes x n_batches, row
 * per node; NULL = none started) is clear, at most max of them, in node order. Stores a
 * new array in *ret (caller frees; NULL when none) and its length. Returns 0 or -ENOMEM. */
int stage_to_start(const struct stage *s, const uint8_t *started, size_t b, size_t max, size_t **ret,
                   size_t *ret_n);

/* The images of batch b that node i may run, as bits over the batch: those with a
 * waiting, pulled or skipped result. An image that is not applicable to the node (no
 * variant for its platform) or was refused there before any pull (failed) has no
 * container in the node's pod, and an image without a result for the node neither. */
uint64_t stage_image_mask(const struct stage *s, size_t i, size_t b);

/* Splits the n node indices idx of batch b into groups of equal stage_image_mask(), so
 * that one DaemonSet per group carries only what each of its seeders may run. Groups come
 * in the order of their first node; nodes keep their order. Stores a new array in *ret
 * (free with stage_groups_free(); NULL when n is 0) and its length. Returns 0 or -ENOMEM. */
int stage_split(const struct stage *s, size_t b, const size_t *idx, size_t n, struct stage_group **ret,
                size_t *ret_n);
void stage_groups_free(struct stage_group *g, size_t n);
