/* SPDX-License-Identifier: MIT */
/* The phases of a run (phase-*.c), on top of the run context (run.h). Each returns 0 or a
 * negative errno; the driver (machine.c) calls them in order. */
#pragma once

#include <stddef.h>

#include "run.h"

int phase_select(struct machine *m);
int phase_label(struct machine *m);
int phase_preload(struct machine *m);
int phase_verify(struct machine *m);
int phase_cleanup(struct machine *m, int *ret_exit);

/* Removes the seeder label and our annotation from node when the annotation is there.
 * Returns 0 removed, 1 nothing to remove, or a negative errno. */
int label_remove(struct machine *m, const char *node);

/* Removes our label from every node that carries it with our annotation (release).
 * Logs each failure; returns 0 or the first negative errno. */
int label_remove_all(struct machine *m);

/* Deletes every DaemonSet clyde-seed manages in the namespace (orphans of earlier runs
 * once the current run's are gone). Returns 0 or a negative errno. */
int cleanup_daemonsets(struct machine *m);

/* For plan: decides what preload would pull, without creating anything. */
int phase_preload_plan(struct machine *m, size_t *ret_daemonsets, size_t *ret_pulls);
