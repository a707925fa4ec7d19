/* SPDX-License-Identifier: MIT */
/* What verify reads from Events when pod status is not enough (verify-events.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kube-decode.h"
#include "run.h"
#include "tracker.h"

/* The message to classify container c of pod pod_uid by: its own, or, when it lacks the
 * cause (a 1.26-1.31 kubelet's `Back-off pulling image "x"`), the message of the pod's
 * last `Failed to pull image` event for that container, stored in *buf (caller frees).
 * Lists the pod's events (fieldSelector involvedObject.uid=) only then, and only while
 * res does not hold such a cause already. Never fails: without an event the container's
 * own message is returned. */
const char *verify_pull_message(struct machine *m, const char *pod_uid, const struct kube_container *c,
                                const struct tracker_result *res, char **buf);

/* Whether a puller pod of run run_id had a Pulling or Pulled event at or after since
 * (unix seconds): a kubelet that writes pod status once per pod sync shows a long pull
 * of many images only there. One list of the namespace's pod events; false when the
 * list fails (logged). */
bool verify_pulls_progressed(struct machine *m, const char *run_id, int64_t since);
