/* SPDX-License-Identifier: MIT */
/* Tolerations: parsed from short spec strings, matched against node taints with the
 * scheduler's semantics (pure: no I/O, no logging).
 *
 * Spec strings (one toleration each):
 *   key=value:Effect   operator Equal, that effect
 *   key=value          operator Equal, every effect
 *   key:Effect         operator Exists, that effect
 *   key                operator Exists, every effect
 *   *:Effect           every key with that effect (empty key, Exists)
 *   *                  every taint (empty key, Exists, every effect). Allowed, but it
 *                      also tolerates cordoning and not-ready taints: see the docs.
 * ":Effect" (an empty key) is refused: an empty key is more often an empty variable
 * than an intent; write "*:Effect". Effect is NoSchedule, PreferNoSchedule or
 * NoExecute, spelled exactly. Keys and values follow the label rules. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "node.h"

enum toleration_op {
        TOLERATION_EQUAL,
        TOLERATION_EXISTS,
};

struct toleration {
        char *key;    /* NULL = every key (operator Exists) */
        enum toleration_op op;
        char *value;  /* Equal only; NULL otherwise */
        char *effect; /* NULL = every effect */
};

/* Parses one spec into *ret (caller frees with toleration_done()). Returns 0, or
 * -EINVAL with a message in *ret_cause (caller frees), or -ENOMEM. */
int toleration_parse(const char *spec, struct toleration *ret, char **ret_cause);

/* Parses n specs into a new array stored in *ret (caller frees with
 * toleration_array_free(*ret, n)). On -EINVAL the cause names the first bad spec. */
int toleration_parse_many(const char *const *specs, size_t n, struct toleration **ret,
                          char **ret_cause);

/* Frees what t points to (not t); safe on a zeroed struct. */
void toleration_done(struct toleration *t);

/* Frees n tolerations and the array; NULL is fine. */
void toleration_array_free(struct toleration *a, size_t n);

/* True when toleration t tolerates taint (key match or empty key with Exists; value
 * equal for Equal, a NULL taint value counting as ""; effect equal or t's empty). */
bool toleration_matches(const struct toleration *t, const struct node_taint *taint);

/* True when any of the n tolerations tolerates the taint. */
bool toleration_tolerates(const struct toleration *tols, size_t n, const struct node_taint *taint);

/* True for the effects that keep new pods off a node: NoSchedule and NoExecute. */
bool taint_blocks_scheduling(const struct node_taint *taint);

/* Returns the first taint of the node that blocks scheduling and is not tolerated,
 * or NULL when the tolerations cover them all. Borrowed pointer into the node. */
const struct node_taint *toleration_first_untolerated(const struct toleration *tols, size_t n,
                                                      const struct node_taint *taints,
                                                      size_t n_taints);
