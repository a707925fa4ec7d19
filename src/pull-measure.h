/* SPDX-License-Identifier: MIT */
/* What the run's pulls say of the registry's throughput, for the rollout estimate: read
 * at cleanup, recorded in the run's history entry (pull-measure.c). */
#pragma once

#include "run.h"
#include "tracker.h"

/* Measures the run's registry throughput: from the kubelet's Pulled events of the run's
 * puller pods (per node bytes / pull time, summed over the nodes), else, when every pull
 * succeeded and the registry gave the sizes, the bytes pulled over the verify phase's
 * wall time. Logs one line either way. Returns 0 with *ret, or -ENODATA when the run
 * measured nothing (no pull, no size, events not readable: *ret untouched), -ENOMEM. */
int pull_measure(struct machine *m, struct tracker_pull *ret);
