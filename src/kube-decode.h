/* SPDX-License-Identifier: MIT */
/* Decoders from Kubernetes API JSON (json-c objects) to clyde-seed's structs, and the
 * Status/plain-text error decoder. Pure: no I/O, no logging. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node.h"

/* What the node decoder keeps beyond the fixed fields. All optional. */
struct kube_node_filter {
        const char *seeder_label_key;     /* fills node_info.seeder_label */
        const char *owner_annotation_key; /* fills node_info.owned */
        /* Whether a name from status.images is one of the wanted images. NULL = none. */
        bool (*want_image)(const char *name, void *userdata);
        void *userdata;
};

enum kube_container_state {
        KUBE_CONTAINER_UNKNOWN,
        KUBE_CONTAINER_WAITING,
        KUBE_CONTAINER_RUNNING,
        KUBE_CONTAINER_TERMINATED,
};

struct kube_container {
        char *name;
        char *image;
        char *image_id; /* NULL or "" until pulled */
        enum kube_container_state state;
        char *reason;  /* waiting or terminated reason, NULL when none */
        char *message; /* waiting or terminated message, NULL when none */
        int exit_code; /* terminated */
        int restart_count;
        bool ready;
};

struct kube_pod {
        char *name;
        char *namespace;
        char *uid;
        char *node_name;     /* spec.nodeName, NULL when unscheduled */
        char *target_node;   /* node_name, else the node a DaemonSet pod's affinity pins */
        bool unschedulable;  /* condition PodScheduled=False (the scheduler found no room) */
        char *sched_reason;  /* its reason ("Unschedulable") and message, NULL when none */
        char *sched_message;
        char *owner_ds;      /* name of the owning DaemonSet, NULL when none */
        char *phase;         /* status.phase */
        char *resource_version;
        bool deleting;
        char **label_values; /* aligned with the caller's label keys; NULL entries absent */
        size_t n_label_values;
        struct kube_container *init_containers;
        size_t n_init_containers;
        struct kube_container *containers;
        size_t n_containers;
};

struct kube_daemonset {
        char *name;
        char *namespace;
        char *uid;
        char *resource_version;
        char *run_label; /* value of the caller's label key, NULL when absent or not asked */
        bool deleting;
        int64_t generation;
        int64_t observed_generation;
        int64_t desired;      /* status.desiredNumberScheduled */
        int64_t current;      /* status.currentNumberScheduled */
        int64_t ready;        /* status.numberReady */
        int64_t available;    /* status.numberAvailable */
        int64_t updated;      /* status.updatedNumberScheduled */
        int64_t misscheduled; /* status.numberMisscheduled */
        int64_t unavailable;  /* status.numberUnavailable */
        char **nodes; /* metadata.name values of the pod template's required node affinity
                       * (matchFields In), NULL-terminated; NULL when it has none */
};

/* An API error: the Status object or, failing that, the plain-text body. */
struct kube_error {
        int code;       /* HTTP status (Status.code when present), 0 transport */
        char *reason;   /* Status.reason (e.g. "Forbidden"), NULL when unknown */
        char *message;  /* the server's message, or the transport error text */
        char **causes;  /* "field: message" strings, NULL-terminated, may be NULL */
        long retry_after_s; /* details.retryAfterSeconds, -1 when absent */
};

void kube_container_done(struct kube_container *c);
void kube_pod_done(struct kube_pod *p);
void kube_daemonset_done(struct kube_daemonset *d);
void kube_daemonset_array_free(struct kube_daemonset *a, size_t n);
void kube_error_done(struct kube_error *e);

/* Decodes a Node object into *ret (zeroed first). Returns 0, -EBADMSG when the object has
 * no metadata.name, -ENOMEM. The decoder never sets ret->selected (the caller's business). */
int kube_decode_node(json_object *o, const struct kube_node_filter *f, struct node_info *ret);

/* Decodes a Pod; label_keys (n of them) are the labels whose values to keep. Returns 0,
 * -EBADMSG (no name), -ENOMEM. */
int kube_decode_pod(json_object *o, const char *const *label_keys, size_t n_label_keys,
                    struct kube_pod *ret);

/* Fills p's target_node, unschedulable, sched_reason and sched_message from pod JSON o
 * (called by kube_decode_pod()). target_node: spec.nodeName, else the value of a single
 * required node-affinity term `matchFields metadata.name In [x]`. Returns 0 or -ENOMEM. */
int kube_decode_pod_scheduling(json_object *o, struct kube_pod *p);

/* Decodes a DaemonSet; label_key (may be NULL) names the label for ret->run_label. */
int kube_decode_daemonset(json_object *o, const char *label_key, struct kube_daemonset *ret);

/* Decodes an error response: a JSON Status when the body is one, else the body as text
 * (trimmed, at most 1024 bytes). http_status fills code when the body has none. Returns
 * 0 or -ENOMEM. */
int kube_decode_error(long http_status, const char *body, size_t len, struct kube_error *ret);

/* Maps an HTTP status to a negative errno: 404 -ENOENT, 409 -EEXIST when create (reason
 * AlreadyExists) else -ESTALE, 410 -ESTALE, 401/403 -EACCES, 400/422 -EINVAL,
 * 413 -E2BIG, 429/5xx -EAGAIN, other 4xx -EPROTO; 2xx 0. */
int kube_errno_from_status(long status, const char *reason, bool create);

/* Parses an RFC 3339 time ("2024-05-01T10:00:00Z", fractions and offsets allowed) into
 * unix seconds. Returns 0 or -EINVAL. */
int kube_parse_time(const char *s, int64_t *ret);

/* Parses a resource quantity ("1500", "100Gi", "93478772Ki", "1.5G", "12e6", "500m")
 * into whole units, rounded down. Returns 0 and *ret, -EINVAL, or -ERANGE beyond int64. */
int kube_parse_quantity(const char *s, int64_t *ret);

/* Borrowed string at a path of object keys, NULL when absent or not a string. */
const char *kube_json_str(json_object *o, const char *const *path, size_t n);
#define KUBE_STR(o, ...) \
        kube_json_str((o), (const char *const[]) { __VA_ARGS__ }, \
                      sizeof((const char *const[]) { __VA_ARGS__ }) / sizeof(const char *))
