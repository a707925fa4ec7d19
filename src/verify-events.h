/* SPDX-License-Identifier: MIT */
/* What verify reads from Events when pod status is not enough (verify-events.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kube-decode.h"
#include "run.h"
#include "tracker.h"

/* A container whose status lacks its pull error's cause (a 1.26-1.31 kubelet's
 * `Back-off pulling image "x"`), to look up in its pod's events once the watch or list
 * that showed it has returned (the client cannot send a request from inside one). */
struct verify_cause {
        char *pod_uid;
        char *node;
        char *container;
        char *reason;
        size_t image;
};

struct verify_causes {
        struct verify_cause *items;
        size_t n;
};

void verify_causes_done(struct verify_causes *q);

/* Frees lookup i and moves the last one into its place (order is not kept). */
void verify_causes_drop(struct verify_causes *q, size_t i);

/* Whether container c's status needs its cause looked up: it lacks one, and res (its
 * result) does not hold one found before for the same state. */
bool verify_cause_wanted(const struct kube_container *c, const struct tracker_result *res);

/* Queues a lookup (one per node x image). Returns 0 or -ENOMEM. */
int verify_causes_add(struct verify_causes *q, const char *pod_uid, const char *node, size_t image,
                      const struct kube_container *c);

/* The message of the pod's last `Failed to pull image` event for the container (listing
 * the events with fieldSelector involvedObject.uid=), in *ret (caller frees). Returns 0,
 * -ENOENT when there is none, or a negative errno from the list (logged at debug). */
int verify_pull_cause(struct machine *m, const char *pod_uid, const char *container, char **ret);

/* Whether a puller pod of run run_id pulls: a Pulled event at or after since (unix
 * seconds), or a Pulling event then for a container with no failed pull (a back-off's
 * retries are no progress). A kubelet that writes pod status once per pod sync shows a
 * long pull of many images only there. One list of the namespace's pod events; false
 * when the list fails (logged). */
bool verify_pulls_progressed(struct machine *m, const char *run_id, int64_t since);
