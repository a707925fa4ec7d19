/* SPDX-License-Identifier: MIT */
/* What every command that talks to the cluster sets up: the images file, the target, the
 * lock, the tracker and the API client. */
#pragma once

#include "config.h"
#include "images.h"
#include "kube.h"
#include "kubeconfig.h"
#include "tracker.h"

struct session {
        struct config *config;
        struct image_list *images;
        struct kube_target *target;
        struct kube_client *kube;
        struct tracker_lock *lock;
        struct tracker *tracker;
        char *cluster_uid;
};

/* Parses the images file read earlier. Returns 0 or an exit code (78) after logging every
 * invalid line. */
int session_images(struct session *s, const char *buf, size_t len);

/* Logs what the images file held (count, duplicates dropped); called once the run id is
 * known, so the messages carry it. */
void session_log_images(const struct session *s);

/* Loads the kubeconfig and creates the API client. Returns 0 or an exit code. */
int session_connect(struct session *s);

/* Takes the lock (unless lock is false) and loads the tracker, setting a damaged one
 * aside; then checks the tracker belongs to this cluster. Returns 0 or an exit code. */
int session_tracker(struct session *s, bool lock);

/* The API client's request counters (borrowed, valid until session_done()); 0 and NULL
 * before session_connect(). */
size_t session_http_counters(const struct session *s, const struct http_counter **ret);

void session_done(struct session *s);
