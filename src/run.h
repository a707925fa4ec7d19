/* SPDX-License-Identifier: MIT */
/* The run context the phases share: what one run works on (configuration, API client,
 * tracker), persisting a step, entering a phase, the permission check, and the mapping
 * of an API error to an exit code. Knows no phase: the phases (phase.h) build on it and
 * the driver (machine.h) sits on top of both. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "images.h"
#include "kube.h"
#include "manifest.h"
#include "node.h"
#include "session.h"
#include "toleration.h"
#include "tracker.h"

/* The annotation that records that clyde-seed set a node's seeder label; its value is
 * the id of the run that set it. Only labels carrying it are ever removed. */
#define CLYDE_OWNER_ANNOTATION "clyde-seed.io/labelled-by"
/* Labels on every object clyde-seed creates. */
#define CLYDE_MANAGED_BY_KEY MANIFEST_LABEL_MANAGED_BY
#define CLYDE_MANAGED_BY_VALUE MANIFEST_APP
#define CLYDE_RUN_LABEL MANIFEST_LABEL_RUN
#define CLYDE_BATCH_LABEL MANIFEST_LABEL_BATCH

/* A seeder as the preload phase needs it: which wanted images its node reports. */
struct machine_seeder {
        char *node;
        char **images; /* names from node.status.images that match wanted images */
        size_t n_images;
};

struct stage_run;

struct machine {
        const struct config *config;
        struct kube_client *kube;
        struct tracker *tracker;
        const char *tracker_path;
        const struct image_list *images; /* the images file of this invocation */
        bool dry_run;                   /* plan: decide and print, change nothing */

        /* What select learnt about the seeders, kept for preload (NULL after a resume:
         * preload then lists the seeder nodes itself). */
        struct machine_seeder *seeders;
        size_t n_seeders;
        bool seeders_known;

        /* Which seeder pulls which batch in which DaemonSet (stage-run.c); NULL until
         * preload or a resumed verify builds it. */
        struct stage_run *stages;

        unsigned nodes_lost; /* seeders that vanished or went NotReady during this run */
        bool access_checked; /* permissions reviewed in this process */
        long last_target;    /* target of the run that ended last, -1 when none ended */
        int io_error;        /* the tracker could not be saved (negative errno), or 0 */
};

/* Sets up the run context of a command from its session (which keeps owning the
 * configuration, client, tracker and images). */
void machine_init(struct machine *m, const struct session *s, bool dry_run);

/* Before the first change to the cluster in this process: checks that every permission a
 * run needs is granted, so a missing one stops the run before anything changes.
 * Returns 0 or a negative errno (-EACCES when one is missing). */
int machine_check_access(struct machine *m);

/* Enters phase p: logs "phase A -> B", records it, persists, and tells systemd.
 * Returns 0 or a negative errno from persisting. */
int machine_enter(struct machine *m, enum tracker_phase p);

/* Persists the tracker (one "step"). In a build configured with --enable-test-hooks, when
 * $CLYDE_TEST_CRASH_AT_STEP is N the process kills itself with SIGKILL right after the
 * N-th persisted step of this process. Returns 0 or a negative errno (and then records
 * it in m->io_error). */
int machine_persist(struct machine *m);

/* Sends STATUS= to systemd (no-op outside systemd) and, on a terminal, a progress line. */
void machine_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Maps a negative errno from the API layer or from memory to an exit code (exitcode.h):
 * -EACCES/-EPERM 77, connection and server failures 69, anything else 70 (EXIT_SOFTWARE:
 * out of memory, a 400/422 for a request we built, a bug). Never 1. */
int machine_exit_code(int r);

/* The exit code of a run that failed with r: 74 (EXIT_IOERR) when the tracker could not be
 * saved in this run, else machine_exit_code(r). */
int machine_exit(const struct machine *m, int r);

void machine_seeders_free(struct machine *m);

/* kube_node_filter.want_image for the wanted images (userdata: struct image_list). */
bool machine_want_image(const char *name, void *userdata);

/* Replaces n->images (kubelet names matching wanted images; several names may designate
 * one image) by the distinct normalised references of the wanted images it holds.
 * Returns 0 or -ENOMEM. */
int machine_held_images(struct node_info *n, const struct image_list *l);

/* Appends a seeder to m->seeders, taking n's name and images. Returns 0 or -ENOMEM. */
int machine_seeder_take(struct machine *m, struct node_info *n);

/* The API server's message for the last failed call, or strerror(-r). Borrowed. */
const char *machine_api_error(struct machine *m, int r);

/* Parses the configured tolerations into *ret (caller frees with
 * toleration_array_free()) and *ret_n. Logs and returns a negative errno on failure. */
int machine_tolerations(const struct machine *m, struct toleration **ret, size_t *ret_n);
