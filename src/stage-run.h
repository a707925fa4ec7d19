/* SPDX-License-Identifier: MIT */
/* Starting and ending puller DaemonSets as seeders move from batch to batch (driver of
 * stage.h). preload starts the first batches; verify, as results settle, starts the
 * next batch for the seeders done with the previous one and deletes DaemonSets whose
 * seeders are all done. Each DaemonSet holds at most MANIFEST_NODES_PER_DAEMONSET
 * seeders, all of which may run every image it carries (seeders of one batch are split
 * by stage_split(): an image not applicable to a node is not in its pod), and is named
 * clyde-seed-<run>-<batch>-<part>, part being the run's step when it was recorded
 * (unique within the run). Which seeder is in which DaemonSet lives in
 * memory only: a resumed run deletes the DaemonSets it recorded and starts again from
 * the recorded results. */
#pragma once

#include <stdbool.h>

#include "run.h"

/* Builds the state for m's run (m->stages) and starts what is in flight. When the run
 * already recorded DaemonSets and this process has no state (a resume), deletes them
 * first. Returns 0 or a negative errno (logged). */
int stage_run_start(struct machine *m);

/* Starts DaemonSets for seeders whose next batch came into flight and deletes those
 * whose seeders are all done. Returns 0 or a negative errno (logged). */
int stage_run_flush(struct machine *m);

/* Whether a flush may change something: a settled result ended its node's batch (set
 * by stage_run_settled()) and the last flush is at least STAGE_FLUSH_MS old. */
bool stage_run_due(const struct machine *m);
bool stage_run_pending(const struct machine *m);

/* Tells the state that node's result for image settled. */
void stage_run_settled(struct machine *m, const char *node, size_t image);

/* Whether node still waits for an image of batch b (true when unknown). */
bool stage_run_waiting(const struct machine *m, const char *node, size_t b);

/* DaemonSets the first flush would create, for plan. Returns 0 or -ENOMEM. */
int stage_run_count(struct machine *m, size_t *ret);

void stage_run_free(struct machine *m);
