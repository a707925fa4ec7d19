/* SPDX-License-Identifier: MIT */
/* The state machine that drives one run: select -> label -> preload -> verify ->
 * cleanup -> done, persisted in the tracker before every action so a killed run resumes
 * where it stopped. Every phase change goes through machine_enter(). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "images.h"
#include "kube.h"
#include "manifest.h"
#include "node.h"
#include "tracker.h"

/* The annotation that records that clyde-seed set a node's seeder label; its value is
 * the id of the run that set it. Only labels carrying it are ever removed. */
#define CLYDE_OWNER_ANNOTATION "clyde-seed.io/labelled-by"
/* Labels on every object clyde-seed creates. */
#define CLYDE_MANAGED_BY_KEY MANIFEST_LABEL_MANAGED_BY
#define CLYDE_MANAGED_BY_VALUE MANIFEST_APP
#define CLYDE_RUN_LABEL MANIFEST_LABEL_RUN
#define CLYDE_BATCH_LABEL MANIFEST_LABEL_BATCH

struct stage_run;

/* A seeder as the preload phase needs it: which wanted images its node reports. */
struct machine_seeder {
        char *node;
        char **images; /* names from node.status.images that match wanted images */
        size_t n_images;
};

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
};

/* Before the first change to the cluster in this process: checks that every permission a
 * run needs is granted, so a missing one stops the run before anything changes.
 * Returns 0 or a negative errno (-EACCES when one is missing). */
int machine_check_access(struct machine *m);

/* Enters phase p: logs "phase A -> B", records it, persists, and tells systemd.
 * Returns 0 or a negative errno from persisting. */
int machine_enter(struct machine *m, enum tracker_phase p);

/* Persists the tracker (one "step"). When $CLYDE_TEST_CRASH_AT_STEP is N (tests only)
 * the process kills itself with SIGKILL right after the N-th persisted step of this
 * process. Returns 0 or a negative errno. */
int machine_persist(struct machine *m);

/* Sends STATUS= to systemd (no-op outside systemd) and, on a terminal, a progress line. */
void machine_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs (or resumes) the tracker's run to completion. Returns an exit code. */
int machine_run(struct machine *m);

/* Maps a negative errno from the API layer to an exit code (69, 77, 1). */
int machine_exit_code(int r);

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

/* The phases (phase-*.c). Each returns 0 or a negative errno. */
int phase_select(struct machine *m);
int phase_label(struct machine *m);
int phase_preload(struct machine *m);
int phase_verify(struct machine *m);
int phase_cleanup(struct machine *m, int *ret_exit);

/* Removes the seeder label and our annotation from node when the annotation is there.
 * Returns 0 removed, 1 nothing to remove, or a negative errno. */
int label_remove(struct machine *m, const char *node);

/* Deletes every DaemonSet clyde-seed manages in the namespace (orphans of earlier runs
 * once the current run's are gone). Returns 0 or a negative errno. */
int cleanup_daemonsets(struct machine *m);

/* For plan: decides what preload would pull, without creating anything. */
int phase_preload_plan(struct machine *m, size_t *ret_daemonsets, size_t *ret_pulls);
