/* SPDX-License-Identifier: MIT */
/* The registry throughput a run observed (pure: no I/O, no clock, no logging): from the
 * kubelet's `Pulled` events of the run's puller pods, or from the verify phase's wall
 * time, and the robust figure the estimate uses over the last runs. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "tracker.h"

/* Runs whose rates the estimate looks at (newest first) and takes the median of. */
#define PULLRATE_RUNS 5

/* Parses a kubelet's success message: `Successfully pulled image "x" in 1.234s (2.5s
 * including waiting). Image size: 12345 bytes.` (the size only from kubelets that add it;
 * the 1.26 kubelet does not: -1 when absent). The duration is the first one (the pull itself), a Go duration ("850ms",
 * "1m2.5s", "1h0m3s", "120µs"). Returns 0, or -EINVAL for any other message. */
int pullrate_parse_pulled(const char *message, double *ret_seconds, int64_t *ret_bytes);

/* Parses a Go duration (time.Duration.String()): one or more number + unit (h, m, s, ms,
 * us, µs, ns), "0s". Returns 0 and seconds, or -EINVAL. */
int pullrate_parse_go_duration(const char *s, size_t len, double *ret);

/* One pull as an event told it: which node, how many bytes, how long. */
struct pullrate_sample {
        const char *node; /* borrowed */
        int64_t bytes;
        double seconds;
};

/* The aggregate throughput of the samples: per node bytes / seconds (a kubelet pulls one
 * image at a time), summed over the nodes (which pull at the same time). Samples without
 * a node, size or duration are left out. Stores the figures in *ret (source "events") and
 * returns 0, or -ENODATA when no sample counts. */
int pullrate_from_samples(const struct pullrate_sample *s, size_t n, struct tracker_pull *ret);

/* The median of the rates of the newest PULLRATE_RUNS history entries that measured one.
 * Returns how many runs it used (0: none; *ret_bps and *ret_newest untouched), with the
 * newest of them in *ret_newest (borrowed). */
size_t pullrate_median(const struct tracker *t, double *ret_bps, const struct tracker_history **ret_newest);
