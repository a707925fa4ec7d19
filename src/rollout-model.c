/* SPDX-License-Identifier: MIT */
#include "rollout-model.h"

#include <errno.h>
#include <math.h>

#include "macro.h"
#include "select.h"

static bool positive(double v) {
        return isfinite(v) && v > 0;
}

int rollout_check(const struct rollout_input *in) {
        if (!in || in->nodes < 1 || !positive(in->image_bytes) || !positive(in->registry_bps) ||
            !positive(in->link_bps) || !isfinite(in->upload_bps))
                return -EINVAL;
        if (!isfinite(in->pull_cost) || in->pull_cost < 0 || !isfinite(in->overhead) || in->overhead < 0)
                return -EINVAL;
        return 0;
}

static double upload(const struct rollout_input *in) {
        return in->upload_bps > 0 ? in->upload_bps : in->link_bps;
}

double rollout_no_seeding(const struct rollout_input *in) {
        if (rollout_check(in) < 0)
                return -1;
        return in->image_bytes / fmin(in->link_bps, in->registry_bps / (double) in->nodes) + in->pull_cost;
}

size_t rollout_seeders_for(const struct rollout_input *in, double percent) {
        return select_target(in->nodes, percent, in->min_seeders, in->max_seeders);
}

void rollout_range(const struct rollout_input *in, size_t *ret_lo, size_t *ret_hi) {
        size_t n = in->nodes, lo = MAX(in->min_seeders, (size_t) 1), hi = n >= 2 ? n - 1 : n;

        if (in->max_seeders > 0)
                hi = MIN(hi, in->max_seeders);
        lo = MIN(lo, n);
        /* min_seeders above nodes - 1 (or max below 1) leaves one choice: what select gives. */
        if (hi < lo)
                hi = lo;
        *ret_lo = lo;
        *ret_hi = hi;
}

double rollout_share_for(const struct rollout_input *in, size_t k) {
        double exact = 100.0 * (double) k / (double) in->nodes;
        double down = floor(exact * 100.0 + 1e-9) / 100.0;

        if (down > 0 && rollout_seeders_for(in, down) == k)
                return down;
        return exact;
}

int rollout_time_for(const struct rollout_input *in, size_t k, struct rollout_time *ret) {
        double s, l, kk = (double) k, others;

        if (rollout_check(in) < 0 || k < 1 || k > in->nodes)
                return -EINVAL;
        s = in->image_bytes;
        l = in->link_bps;
        others = (double) (in->nodes - k);
        *ret = (struct rollout_time) { .seeders = k, .share = rollout_share_for(in, k) };
        ret->seed_s = in->overhead + s / fmin(l, in->registry_bps / kk) + in->pull_cost;
        ret->roll_s = others > 0 ? s / fmin(l, kk * upload(in) / others) + in->pull_cost : 0;
        ret->total_s = ret->seed_s + ret->roll_s;
        return 0;
}

int rollout_best(const struct rollout_input *in, struct rollout_time *ret) {
        struct rollout_time best = {}, t;
        size_t lo, hi;

        if (rollout_check(in) < 0)
                return -EINVAL;
        rollout_range(in, &lo, &hi);
        for (size_t k = lo; k <= hi; k++) {
                (void) rollout_time_for(in, k, &t);
                /* A relative margin: a tie in exact arithmetic goes to fewer seeders. */
                if (k == lo || t.total_s < best.total_s * (1 - 1e-12))
                        best = t;
        }
        *ret = best;
        return 0;
}
