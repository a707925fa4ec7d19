/* SPDX-License-Identifier: MIT */
/* The rollout model (pure: no I/O, no clock, no logging): the end-to-end time of seeding
 * k seeders and then rolling a workload out on every eligible node, in closed form, and
 * the seeder count that minimises it. The physics is the one bench/rollout measures
 * (issue 16):
 *
 *   seeding:  T_seed(k) = o + S / min(L, R / k) + c
 *             the k seeders pull the images at once from the registry, which shares
 *             its egress R among them; each is also bounded by its own link L.
 *   rollout:  T_roll(k) = S / min(L, k U / (N - k)) + c      (k < N)
 *             the N - k other nodes pull from the seeders (the P2P layer); the seeders'
 *             upload U = L is shared among them. With k = N nothing is pulled: 0.
 *   T(k) = T_seed(k) + T_roll(k); without seeding T0 = S / min(L, R / N) + c.
 *
 * Minimising k S / R + S (N - k) / (k U) gives k* ~ sqrt(N R / U): the best share falls
 * as N grows, and seeders past k* make the run slower (each one costs registry time).
 *
 * The calibration constants below are the one place their values live. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Calibration: c, the fixed cost of one phase's pulls (the helper image's and the
 * image's: resolve, unpack, start), and o, the tool's own overhead per run (DaemonSet
 * create, scheduling, verify, cleanup). Fitted to the real containerd points of
 * bench/rollout (N = 4 and 8, 105 MB image, 50-100 Mbit/s registry, 80 Mbit/s links):
 * bench/rollout/MODEL.md's fit is 5.66 s a pull, two pulls a phase, and o = 0.24 s,
 * which leaves the closed form 4.8 % off those points on average. That machine had 2
 * busy cores, so c is high for a real node (unpacking was CPU-bound): the estimate
 * leans against seeding when images are small. */
#define ROLLOUT_PULL_COST_S 11.3
#define ROLLOUT_OVERHEAD_S 0.24
/* The node link rate assumed when [plan] node_link_rate is not set: 1 Gbit/s. */
#define ROLLOUT_DEFAULT_LINK_RATE "1000mbit"
#define ROLLOUT_DEFAULT_LINK_BPS 125e6

struct rollout_input {
        size_t nodes;        /* N: eligible nodes (every one runs the workload) */
        double image_bytes;  /* S: compressed bytes a node pulls (all images), > 0 */
        double registry_bps; /* R: registry egress, bytes/s, > 0 */
        double link_bps;     /* L: a node's download rate, bytes/s, > 0 */
        double upload_bps;   /* U: a seeder's upload to peers, bytes/s; <= 0 means L */
        double pull_cost;    /* c, seconds, >= 0 */
        double overhead;     /* o, seconds, >= 0 */
        size_t min_seeders;  /* as [seeder] min_seeders / max_seeders (0 = no maximum) */
        size_t max_seeders;
};

struct rollout_time {
        size_t seeders;  /* k */
        double share;    /* a percentage that the tool rounds to k seeders */
        double seed_s;   /* T_seed */
        double roll_s;   /* T_roll */
        double total_s;  /* T */
};

/* Whether in describes a cluster the model can estimate: nodes >= 1, bytes and rates
 * positive and finite, costs >= 0. Returns 0, or -EINVAL. */
int rollout_check(const struct rollout_input *in);

/* T(k) for k seeders (1 <= k <= nodes) into *ret, share included. Returns 0 or -EINVAL. */
int rollout_time_for(const struct rollout_input *in, size_t k, struct rollout_time *ret);

/* T0: every node pulls from the registry at once, no seeding. Returns seconds, or a
 * negative value for an input rollout_check() refuses. */
double rollout_no_seeding(const struct rollout_input *in);

/* The seeder count the tool ends up with for share percent: select_target(), the rounding
 * the select phase uses (ceil, then min/max seeders, at most nodes). */
size_t rollout_seeders_for(const struct rollout_input *in, double percent);

/* The k range auto searches: at least 1 and at least min_seeders; at most nodes - 1 (a
 * cluster where every node is a seeder seeds nothing ahead of the rollout; with one node
 * it is the seeder) and max_seeders. */
void rollout_range(const struct rollout_input *in, size_t *ret_lo, size_t *ret_hi);

/* A percentage in (0, 100] for which rollout_seeders_for() gives k: 100 k / N rounded down
 * to hundredths (rounding up can tip ceil() to k + 1, e.g. 66.67% of 3 nodes is 3), or
 * the exact quotient when hundredths are too coarse. */
double rollout_share_for(const struct rollout_input *in, size_t k);

/* The best k in rollout_range() (the smaller one on a tie) into *ret. Returns 0 or
 * -EINVAL. O(range). */
int rollout_best(const struct rollout_input *in, struct rollout_time *ret);
