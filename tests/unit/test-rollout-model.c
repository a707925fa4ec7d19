/* SPDX-License-Identifier: MIT */
/* The rollout model (rollout-model.c) and the pull rate (pullrate.c): known values worked
 * out by hand below, the best share against N, the share -> k rounding at small N, the
 * kubelet's Pulled messages, aggregation and the median over the history. */
#include <errno.h>
#include <math.h>

#include "macro.h"
#include "pullrate.h"
#include "rollout-model.h"
#include "tap.h"

#define MB 1e6

static bool near(double got, double want, double tol) {
        return fabs(got - want) <= tol;
}

/* S = 100 MB, R = 25 MB/s (200 Mbit/s), L = U = 125 MB/s (1 Gbit/s), c = 1.5 s, o = 10 s.
 * N = 200. Per node rates stay below L for every k in play, so
 *   T_seed(k) = 10 + 100 k / 25 + 1.5      = 11.5 + 4 k
 *   T_roll(k) = 100 (200 - k) / (125 k) + 1.5 = 1.5 + 160 / k - 0.8
 *   T(k)      = 12.2 + 4 k + 160 / k
 * k = 6: 12.2 + 24 + 26.667 = 62.867 (seeding 35.5, rollout 27.367)
 * k = 7: 12.2 + 28 + 22.857 = 63.057;  k = 5: 12.2 + 20 + 32 = 64.2  -> best k = 6 (3%).
 * k = 80 (40%): 12.2 + 320 + 2 = 334.2.
 * No seeding: every node at R / N = 0.125 MB/s: 100 / 0.125 + 1.5 = 801.5. */
static void test_known_values(void) {
        struct rollout_input in = { .nodes = 200, .image_bytes = 100 * MB, .registry_bps = 25 * MB,
                                    .link_bps = 125 * MB, .pull_cost = 1.5, .overhead = 10, .min_seeders = 1 };
        struct rollout_time t = {};

        int r = rollout_time_for(&in, 6, &t);

        ok(r == 0 && near(t.total_s, 62.8667, 1e-3) && near(t.seed_s, 35.5, 1e-9) &&
                   near(t.roll_s, 27.3667, 1e-3),
           "T(6) = 35.5 + 27.367 = 62.867 s (got %.4f = %.4f + %.4f)", t.total_s, t.seed_s, t.roll_s);
        r = rollout_time_for(&in, 80, &t);
        ok(r == 0 && near(t.total_s, 334.2, 1e-6), "T(80) = 334.2 s (got %.4f)",
           t.total_s);
        r = rollout_best(&in, &t);
        ok(r == 0 && t.seeders == 6 && t.share == 3.0 && near(t.total_s, 62.8667, 1e-3),
           "best: 6 seeders = 3%% (got %zu = %g%%, %.3f s)", t.seeders, t.share, t.total_s);
        ok(near(rollout_no_seeding(&in), 801.5, 1e-9), "no seeding: 801.5 s (got %.4f)", rollout_no_seeding(&in));
        is_int(rollout_seeders_for(&in, 40), 80, "40%% of 200 is 80 seeders (select's rounding)");
        is_int(rollout_seeders_for(&in, 3.01), 7, "3.01%% of 200 rounds up to 7");
}

/* Link-bound: R = 1000 MB/s, L = 125 MB/s, S = 100 MB, c = o = 0.
 * Seeding: every seeder at L (R / k >= L for k <= 8): 0.8 s. Rollout of N - k nodes at
 * min(L, k L / (N - k)). N = 4: k = 1: 0.8 + 100 / 41.67 = 3.2; k = 2: 0.8 + 0.8 = 1.6;
 * k = 3: 0.8 + 0.8 = 1.6 -> a tie goes to fewer seeders: k = 2, 50%.
 * N = 3: k = 1: 0.8 + 100 / 62.5 = 2.4; k = 2: 1.6 -> k = 2, and the share is 66.66%
 * (66.67% x 3 = 2.0001, which ceil() makes 3). */
static void test_small_n(void) {
        struct rollout_input in = { .nodes = 4, .image_bytes = 100 * MB, .registry_bps = 1000 * MB,
                                    .link_bps = 125 * MB };
        struct rollout_time t = {};
        size_t lo, hi;

        int r = rollout_best(&in, &t);

        ok(r == 0 && t.seeders == 2 && t.share == 50 && near(t.total_s, 1.6, 1e-9),
           "N=4: best 2 seeders = 50%% (got %zu = %g%%, %.3f s)", t.seeders, t.share, t.total_s);
        in.nodes = 3;
        r = rollout_best(&in, &t);
        ok(r == 0 && t.seeders == 2 && t.share == 66.66, "N=3: best 2 seeders = 66.66%% (got %zu = %g%%)",
           t.seeders, t.share);
        is_int(rollout_seeders_for(&in, t.share), 2, "66.66%% of 3 nodes is 2 seeders");
        is_int(rollout_seeders_for(&in, 66.67), 3, "66.67%% of 3 nodes would be 3 (why the share rounds down)");
        rollout_range(&in, &lo, &hi);
        ok(lo == 1 && hi == 2, "N=3: auto searches 1..2 (never every node)");
        in.nodes = 1;
        rollout_range(&in, &lo, &hi);
        ok(lo == 1 && hi == 1 && rollout_best(&in, &t) == 0 && t.seeders == 1 && t.share == 100 && t.roll_s == 0,
           "N=1: the one node is the seeder, 100%%, nothing to roll out");
        in.nodes = 10;
        in.min_seeders = 4;
        in.max_seeders = 5;
        rollout_range(&in, &lo, &hi);
        ok(lo == 4 && hi == 5, "min/max seeders bound the search (got %zu..%zu)", lo, hi);
        in.min_seeders = 12;
        in.max_seeders = 0;
        rollout_range(&in, &lo, &hi);
        ok(lo == 10 && hi == 10, "min_seeders above N: the N nodes select gives (got %zu..%zu)", lo, hi);
        in.nodes = 0;
        ok(rollout_best(&in, &t) == -EINVAL && rollout_no_seeding(&in) < 0, "N=0: no estimate");
        in.nodes = 3;
        in.registry_bps = NAN;
        ok(rollout_check(&in) == -EINVAL, "a NaN rate is refused");
}

/* k* ~ sqrt(N R / U): as N grows the best share falls (the count still grows). */
static void test_best_share_falls(void) {
        static const size_t nodes[] = { 10, 100, 1000, 5000 };
        struct rollout_input in = { .image_bytes = 150 * MB, .registry_bps = 25 * MB, .link_bps = 125 * MB,
                                    .pull_cost = 1.5, .overhead = 10, .min_seeders = 1 };
        double last_share = 101;
        size_t last_k = 0;

        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                struct rollout_time t = {}, more = {};
                in.nodes = nodes[i];
                int r = rollout_best(&in, &t);
                ok(r == 0 && t.share < last_share && t.seeders >= last_k,
                   "N=%zu: best %zu seeders = %g%% (%.1f s), below the share at fewer nodes", nodes[i], t.seeders,
                   t.share, t.total_s);
                r = rollout_time_for(&in, MIN(2 * t.seeders + 1, in.nodes), &more);
                ok(r == 0 && more.total_s > t.total_s,
                   "N=%zu: twice the seeders is slower (%.1f s > %.1f s)", nodes[i], more.total_s, t.total_s);
                last_share = t.share;
                last_k = t.seeders;
        }
}

static void test_parse_pulled(void) {
        static const struct {
                const char *msg;
                int r;
                double seconds;
                int64_t bytes;
        } cases[] = {
                { "Successfully pulled image \"docker.io/library/nginx:1.27\" in 2.5s (3.25s including waiting). "
                  "Image size: 72100000 bytes.", 0, 2.5, 72100000 },
                { "Successfully pulled image \"x:1\" in 850ms (850ms including waiting)", 0, 0.85, -1 },
                { "Successfully pulled image \"x:1\" in 1m2.5s (1m2.5s including waiting). Image size: 5 bytes.", 0,
                  62.5, 5 },
                { "Successfully pulled image \"x:1\" in 1h0m3s (1h0m3s including waiting)", 0, 3603, -1 },
                { "Successfully pulled image \"x:1\" in 120\xc2\xb5s (1s including waiting)", 0, 120e-6, -1 },
                { "Successfully pulled image \"x:1\" in 2.5 (x)", -EINVAL, 0, 0 },
                { "Successfully pulled image \"x:1\" in 2.5q (x)", -EINVAL, 0, 0 },
                { "Container image \"x:1\" already present on machine", -EINVAL, 0, 0 },
                { "Successfully pulled image \"x:1\"", -EINVAL, 0, 0 },
                { NULL, -EINVAL, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                double s = -1;
                int64_t b = -2;
                int r = pullrate_parse_pulled(cases[i].msg, &s, &b);
                if (cases[i].r < 0)
                        ok(r == cases[i].r, "pulled message %zu refused", i);
                else
                        ok(r == 0 && near(s, cases[i].seconds, 1e-9) && b == cases[i].bytes,
                           "pulled message %zu: %g s, %lld bytes (got %g, %lld)", i, cases[i].seconds,
                           (long long) cases[i].bytes, s, (long long) b);
        }
}

/* Two nodes: a pulls 100 MB in 4 s then 50 MB in 2 s (150 MB / 6 s = 25 MB/s); b pulls
 * 100 MB in 5 s (20 MB/s). Together 45 MB/s. A sample without size or node is left out. */
static void test_samples(void) {
        const struct pullrate_sample s[] = {
                { "b", 100000000, 5 }, { "a", 100000000, 4 }, { "a", 50000000, 2 },
                { "c", -1, 3 },        { NULL, 100, 1 },      { "d", 100, 0 },
        };
        struct tracker_pull p = {};
        int r = pullrate_from_samples(s, ELEMENTSOF(s), &p);

        ok(r == 0 && p.rate == 45000000 && p.nodes == 2 && p.pulls == 3 &&
                   p.bytes == 250000000 && p.source == TRACKER_PULL_EVENTS,
           "a: 25 MB/s + b: 20 MB/s = 45 MB/s over 2 nodes, 3 pulls (got %lld, %u, %u)", (long long) p.rate, p.nodes,
           p.pulls);
        ok(pullrate_from_samples(s + 3, 3, &p) == -ENODATA, "no usable sample: -ENODATA");
}

/* The median of the newest 5 measured runs: runs without a rate do not count. */
static void test_median(void) {
        static const int64_t rates[] = { 1000, 0, 9000, 2000, 0, 3000, 4000, 100 };
        _cleanup_(tracker_freep) struct tracker *t = tracker_new();
        const struct tracker_history *newest = NULL;
        double m = 0;

        ok(t && pullrate_median(t, &m, &newest) == 0 && !newest, "no history: no rate");
        for (size_t i = 0; t && i < ELEMENTSOF(rates); i++) {
                char id[16];
                struct tracker_history h = { .id = id, .pull = { .rate = rates[i], .pulls = 1, .nodes = 1 } };
                snprintf(id, sizeof(id), "run-%zu", i);
                (void) tracker_history_add(t, &h);
        }
        /* Newest first, measured only: 100, 4000, 3000, 2000, 9000 -> sorted 100 2000 3000 4000 9000. */
        size_t n = pullrate_median(t, &m, &newest);
        ok(n == 5 && m == 3000 && newest && streq(newest->id, "run-7"),
           "median of the newest 5 measured runs is 3000 (got %g)", m);
}

int main(void) {
        test_known_values();
        test_small_n();
        test_best_share_falls();
        test_parse_pulled();
        test_samples();
        test_median();
        return tap_done();
}
