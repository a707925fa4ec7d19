/* SPDX-License-Identifier: MIT */
/* Starting and ending puller DaemonSets as seeders move from batch to batch (driver of
 * stage.h). preload starts the first batches; verify, as results settle, starts the
 * next batch for the seeders done with the previous one and deletes DaemonSets whose
 * seeders are all done. Each DaemonSet holds at most MANIFEST_NODES_PER_DAEMONSET
 * seeders, all of which may run every image it carries (seeders of one batch are split
 * by stage_split(): an image not applicable to a node is not in its pod), and is named
 * clyde-seed-<run>-<batch>-<part>, part being the run's step when it was recorded
 * (unique within the run). Which seeder is in which DaemonSet lives in memory and in each
 * DaemonSet (its batch label and node affinity): a resumed run adopts the DaemonSets it
 * recorded (their pods keep the pulls they started: a kubelet does not cancel a pull when
 * its pod goes, so a replacement would queue behind it), deletes those it cannot read
 * back, and starts what is still waiting. */
#pragma once

#include <stdbool.h>

#include "run.h"

/* Builds the state for m's run (m->stages) and starts what is in flight. When the run
 * already recorded DaemonSets and this process has no state (a resume), adopts them
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

/* Called for each seeder of a DaemonSet whose controller cannot create its pods: node,
 * the batch, and the newest FailedCreate/FailedPlacement event's reason and message. */
typedef void (*stage_fail_fn)(void *userdata, const char *node, size_t batch, const char *reason,
                              const char *message);

/* At most every 10 s (else returns 0 at once): lists the run's DaemonSets (one request);
 * a DaemonSet with fewer pods (currentNumberScheduled) than desired for 10 s has its
 * Events read (fieldSelector involvedObject.uid=) and, when one says why pods cannot be
 * created, fail is called for each of its seeders (once per DaemonSet). An API error is
 * logged and ignored. Returns 0 or -ENOMEM. */
int stage_run_look(struct machine *m, stage_fail_fn fail, void *userdata);

/* Seconds until the next look is due (at least 1; 60 when nothing to look at). */
unsigned stage_run_look_in(const struct machine *m);

/* DaemonSets the first flush would create, for plan. Returns 0 or -ENOMEM. */
int stage_run_count(struct machine *m, size_t *ret);

void stage_run_free(struct machine *m);
