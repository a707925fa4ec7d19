/* SPDX-License-Identifier: MIT */
/* status and plan: the commands that show what runs did and what the next would do. */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "session.h"

/* Prints the tracker as tables, or as JSON. Reads only the file. Returns an exit code. */
int status_show(const struct config *c, bool json);

/* Prints what a run would do now (labels to add and remove, DaemonSets to create),
 * changing nothing, as text or JSON. s is connected and holds the tracker. Returns an
 * exit code. */
int status_plan(struct session *s, bool json);
