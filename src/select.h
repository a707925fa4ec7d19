/* SPDX-License-Identifier: MIT */
/* Seeder selection (pure: no I/O, no clock, no logging). See ARCHITECTURE.md,
 * "Seeder selection".
 *
 * Eligible: Ready=True, schedulable, not being deleted, os linux, matches
 * node_selector (node_info.selected), not control-plane, and every NoSchedule or
 * NoExecute taint covered by the tolerations.
 * Target: ceil(percentage x eligible / 100), raised to min_seeders, lowered to
 * max_seeders (0 = no maximum), never above the eligible count.
 *
 * Current seeders are the nodes whose seeder label equals the configured value:
 *   KEEP   ours (annotation present), healthy and eligible: kept (stability first)
 *   ADOPT  labelled by someone else, healthy and eligible: counted, never touched
 *   WAIT   NotReady for at most node_down_grace: counted, kept, reported
 *   DROP   ours and: NotReady past the grace (or since an unknown time), cordoned,
 *          being deleted, no longer eligible, or in excess of a shrunken target;
 *          the label phase removes our label and annotation
 *   UNHEALTHY_FOREIGN  labelled by someone else and unhealthy or ineligible: not
 *          counted, never touched
 *   GONE   a name the tracker holds as seeder that is no longer in the cluster
 *   ADD    a new seeder: eligible, without the label (or with another value of our
 *          key on a node we own; a foreign value of our key is respected: such a node
 *          is never chosen)
 * New seeders fill per-(zone, arch) quotas computed by largest remainder from the
 * eligible nodes (missing zone or arch = its own bucket); within a bucket, and
 * between buckets with the same shortfall, the node holding more wanted images wins,
 * then the lower FNV-1a hash of the name. Trimming drops from the bucket most above
 * its quota: WAIT first, then fewer images held, then the higher hash. The result does
 * not depend on the order of the input arrays. Memory and time are O(n log n). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "toleration.h"

enum select_action {
        SELECT_KEEP,
        SELECT_ADOPT,
        SELECT_ADD,
        SELECT_DROP,
        SELECT_GONE,
        SELECT_WAIT,
        SELECT_UNHEALTHY_FOREIGN,
        _SELECT_ACTION_MAX,
};

#define SELECT_NO_INDEX SIZE_MAX

struct select_entry {
        char *node;                /* node name (owned copy) */
        size_t index;              /* into select_input.nodes; SELECT_NO_INDEX for GONE */
        enum select_action action;
        char *reason;              /* short, e.g. "cordoned", "target shrank 20 -> 10" */
};

struct select_plan {
        struct select_entry *entries; /* nodes with an action, sorted by name */
        size_t n_entries;
        size_t eligible;              /* eligible nodes in the cluster */
        size_t target;                /* wanted seeder count */
        size_t seeders;               /* after the plan: KEEP + ADOPT + WAIT + ADD */
        size_t counts[_SELECT_ACTION_MAX];
};

struct select_input {
        const struct node_info *nodes;
        size_t n_nodes;
        const char *label_value;          /* the seeder label value we set, e.g. "true" */
        const char *const *tracked;       /* names the tracker holds as seeders */
        size_t n_tracked;
        double percentage;                /* (0, 100] */
        size_t min_seeders;
        size_t max_seeders;               /* 0 = no maximum */
        int64_t node_down_grace;          /* seconds */
        int64_t now;                      /* unix seconds */
        const struct toleration *tolerations;
        size_t n_tolerations;
        size_t n_wanted_images;           /* caps node_info.n_images in reasons and ranking */
};

/* Computes the plan. Stores a new plan in *ret (caller frees with select_plan_free())
 * and returns 0. Returns -EINVAL with a message in *ret_cause (caller frees) for a
 * percentage outside (0, 100], min_seeders > max_seeders, a missing label value or a
 * node without a name; -ENOMEM otherwise. Reads nothing but its arguments. */
int select_plan(const struct select_input *in, struct select_plan **ret, char **ret_cause);

/* Frees the plan and everything it owns; NULL is fine. Returns NULL. */
struct select_plan *select_plan_free(struct select_plan *p);
void select_plan_freep(struct select_plan **p);

/* Number of entries with action a. */
size_t select_plan_count(const struct select_plan *p, enum select_action a);

/* Iterates over the entries with action a: start with *cursor = 0; returns NULL at
 * the end. Borrowed pointers into the plan. */
const struct select_entry *select_plan_next(const struct select_plan *p, enum select_action a,
                                            size_t *cursor);

#define SELECT_PLAN_FOREACH(e, p, a) for (size_t _sc_ = 0; ((e) = select_plan_next((p), (a), &_sc_));)

/* Finds the entry for a node name (binary search), NULL when it has no action. */
const struct select_entry *select_plan_find(const struct select_plan *p, const char *node);

/* "keep", "adopt", "add", "drop", "gone", "wait", "unhealthy-foreign"; NULL when out of range. */
const char *select_action_to_string(enum select_action a);

/* Inverse of select_action_to_string(); -EINVAL for an unknown string. */
int select_action_from_string(const char *s);

/* The stable 64-bit FNV-1a hash used for tie-breaks. */
uint64_t select_hash(const char *s);

/* ceil(percentage x eligible / 100) clamped as described above. */
size_t select_target(size_t eligible, double percentage, size_t min_seeders, size_t max_seeders);
