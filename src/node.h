/* SPDX-License-Identifier: MIT */
/* What clyde-seed keeps of a Node object: only the fields it decides on. Shared by the
 * API decoder (kube.c fills it), selection (select.c reads it) and the driver. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum node_ready {
        NODE_READY_TRUE,
        NODE_READY_FALSE,
        NODE_READY_UNKNOWN, /* condition Unknown or missing */
};

struct node_taint {
        char *key;
        char *value;  /* may be NULL */
        char *effect; /* NoSchedule, PreferNoSchedule, NoExecute */
};

struct node_info {
        char *name;
        char *uid;
        char *zone; /* topology.kubernetes.io/zone, NULL when absent */
        char *arch; /* kubernetes.io/arch, NULL when absent */
        char *os;   /* kubernetes.io/os, NULL when absent */
        enum node_ready ready;
        int64_t ready_since; /* Ready condition lastTransitionTime, unix seconds, 0 unknown */
        bool unschedulable;  /* spec.unschedulable (cordoned) */
        bool deleting;       /* metadata.deletionTimestamp set */
        bool control_plane;  /* node-role.kubernetes.io/control-plane or /master label */
        /* Nodes that run no DaemonSet pod: NODE_VIRTUAL_KUBELET (label
         * type=virtual-kubelet: ACI virtual nodes and other virtual-kubelet providers),
         * NODE_VIRTUAL_FARGATE (eks.amazonaws.com/compute-type=fargate). */
        enum node_virtual { NODE_REAL, NODE_VIRTUAL_KUBELET, NODE_VIRTUAL_FARGATE } virtual_kind;
        bool autopilot;      /* label cloud.google.com/gke-autopilot: a GKE Autopilot node */
        bool selected;       /* matches the configured node_selector (true when none) */
        char *seeder_label;  /* value of the configured seeder label key, NULL when absent */
        bool owned;          /* carries clyde-seed's ownership annotation */
        int64_t storage_capacity;    /* status.capacity ephemeral-storage, bytes; -1 unknown */
        int64_t storage_allocatable; /* status.allocatable ephemeral-storage, bytes; -1 unknown */
        int64_t images_bytes;        /* sum of status.images sizeBytes (every image listed) */
        struct node_taint *taints;
        size_t n_taints;
        /* Names from status.images that the caller asked about (the wanted images), as
         * listed by the kubelet (e.g. "docker.io/library/nginx:1.27" or "repo@sha256:..."). */
        char **images;
        size_t n_images;
        /* The listing itself: how many status.images entries, and the most names one has
         * (the kubelet lists at most 50 images and 5 names per image). */
        size_t n_listed_images;
        size_t max_listed_names;
};

/* The kubelet's caps on node.status.images (--node-status-max-images default, and
 * maxNamesPerImageInNodeStatus). */
#define NODE_STATUS_MAX_IMAGES 50
#define NODE_STATUS_MAX_NAMES 5

/* Whether an image absent from a node's listing is absent from the node: the listing is
 * below both caps (fewer than 50 images, every one with fewer than 5 names), so nothing
 * was cut from it. Pure. */
bool node_listing_complete(size_t n_listed_images, size_t max_listed_names);

/* What a node's listing says of an image clyde-seed seeded there: a listed image is held;
 * one absent from a complete listing is gone (image garbage collection removed it); one
 * absent from a listing that may have been cut is unknown (a pull must tell). Pure. */
enum node_image_presence { NODE_IMAGE_HELD, NODE_IMAGE_GONE, NODE_IMAGE_UNKNOWN };
enum node_image_presence node_image_presence(bool listed, bool listing_complete);

/* Frees what the struct points to (not the struct itself); safe on a zeroed struct. */
void node_info_done(struct node_info *n);

/* Frees an array of n nodes and the array. NULL is fine. */
void node_info_array_free(struct node_info *a, size_t n);
