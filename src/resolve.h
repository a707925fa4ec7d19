/* SPDX-License-Identifier: MIT */
/* Registry-aware seeding, between select and preload: each reference of the images file
 * resolved once per run (digest, platforms, sizes, kept in the tracker's tags), then per
 * seeder x image a verdict: pull (by digest), already held (the same digest), not
 * applicable (no platform for the node) or refused (it would fill the node's disk). */
#pragma once

#include <json-c/json.h>
#include <stdio.h>

#include "run.h"

struct resolve;

/* Resolves every image of m->images against its registry (unless [registry] resolve =
 * no: then *ret is NULL), records the tags in the tracker and each resolved digest in
 * run.images, and reads the seeders' storage. Never fails the run for a registry: an
 * unreachable one is one warning and its images are pulled by tag, and a failed node
 * list only skips the disk pre-flight. Returns 0 or -ENOMEM. */
int resolve_prepare(struct machine *m, struct resolve **ret);
struct resolve *resolve_free(struct resolve *rs);
static inline void resolve_freep(struct resolve **rs) {
        resolve_free(*rs);
}

struct resolve_verdict {
        enum tracker_state state; /* WAITING, SKIPPED, NOT_APPLICABLE or FAILED */
        const char *digest;       /* borrowed */
        const char *reason;       /* static, NULL for none */
        char *message;            /* owned, NULL for none */
};

/* The verdict for seeder ts x image i of the run; held/held_digest: what preload knows
 * of the seeder holding it (refresh_interval applied). rs NULL keeps today's rule. */
void resolve_judge(struct resolve *rs, struct machine *m, const struct tracker_seeder *ts, size_t i, bool held,
                   const char *held_digest, struct resolve_verdict *v);

/* Bytes a result of the run pulls: its platform's size when this run resolved the image,
 * -1 unknown. */
int64_t resolve_result_bytes(const struct machine *m, const struct tracker_result *res);

/* Logs "this run moves N GB to K seeders" from the waiting results. */
void resolve_report(const struct machine *m);

/* The references the pullers use for run.images[first, first + n): "repo:tag@digest"
 * for a resolved tag, else the reference itself. Stores a strv (caller frees). */
int resolve_pull_refs(const struct tracker_run *run, size_t first, size_t n, char ***ret);

/* For plan: per image the digest, platforms, sizes, seeders it applies to and the bytes
 * to pull, as text or into o["images"]. */
void resolve_plan_print(const struct machine *m, FILE *f);
int resolve_plan_json(const struct machine *m, json_object *o);
