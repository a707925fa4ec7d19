/* SPDX-License-Identifier: MIT */
/* Prometheus text exposition (format 0.0.4) of the last run, for node_exporter's textfile
 * collector: formatted by a pure function from the tracker and the HTTP counters, then
 * written atomically (temp file + rename, mode 0644) so the collector never reads half a
 * file. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "http.h"
#include "tracker.h"

/* What one run leaves behind. Everything is borrowed. */
struct metrics_input {
        const struct tracker *tracker;      /* required */
        const struct http_counter *counters; /* http_client_counters(kube_http(k)); may be NULL */
        size_t n_counters;
        int64_t now;   /* when the run ended: clyde_seed_last_run_timestamp_seconds */
        long target;   /* seeders wanted by this run; < 0: tracker->run's when a run is in
                        * progress, otherwise the metric is left out */
        int exit_code; /* exit code of this run; < 0 leaves clyde_seed_last_exit_code out */
};

/* Fills in the "unknown" values (target and exit_code -1). */
void metrics_input_init(struct metrics_input *in, const struct tracker *t, int64_t now);

/* Formats the metrics (see clyde-seed(8), METRICS):
 *   clyde_seed_last_run_timestamp_seconds       in->now
 *   clyde_seed_last_success_timestamp_seconds   finished_at of the newest "ok" run in the
 *                                               history, 0 when there is none
 *   clyde_seed_last_exit_code                   in->exit_code (when >= 0)
 *   clyde_seed_seeders, clyde_seed_seeders_target
 *   clyde_seed_image_seeders{image}             seeders holding each image (images of the
 *                                               run in progress appear even at 0)
 *   clyde_seed_pull_failures                    failures of the newest finished run
 *   clyde_seed_run_duration_seconds             of the newest finished run
 *   clyde_seed_phase_duration_seconds{phase}    of the newest finished run
 *   clyde_seed_api_requests_total{verb,code}    requests of this run (code "0": no response)
 * each with HELP and TYPE lines; label values are escaped (\\, \", \n).
 * Returns 0 and *ret (NUL-terminated, owned by the caller), -EINVAL (no tracker) or
 * -ENOMEM, with *ret_cause (owned by the caller) for -EINVAL. */
int metrics_format(const struct metrics_input *in, char **ret, char **ret_cause);

/* Formats and replaces path atomically with mode 0644 (readable by node_exporter).
 * Returns 0 or a negative errno with *ret_cause ("<path>: <step>: <error>", owned by
 * the caller). The old file is intact on any failure. */
int metrics_write(const char *path, const struct metrics_input *in, char **ret_cause);

/* Appends s to f with Prometheus label-value escaping (backslash, double quote, newline).
 * Exposed for tests. */
void metrics_escape_label(FILE *f, const char *s);
