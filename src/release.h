/* SPDX-License-Identifier: MIT */
/* release: undo clyde-seed on a cluster (decommissioning). */
#pragma once

#include "config.h"

/* Removes clyde-seed's labels (only those with its annotation) and every DaemonSet it
 * manages, and forgets the seeders. Returns an exit code. */
int status_release(struct config *c);
