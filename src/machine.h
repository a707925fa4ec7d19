/* SPDX-License-Identifier: MIT */
/* The driver of one run: select -> label -> preload -> verify -> cleanup -> done,
 * persisted in the tracker before every action so a killed run resumes where it stopped.
 * Sits on top of the phases (phase.h) and the run context (run.h). */
#pragma once

#include "run.h"

/* Runs (or resumes) the tracker's run to completion. Returns an exit code. */
int machine_run(struct machine *m);
