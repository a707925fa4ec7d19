/* SPDX-License-Identifier: MIT */
/* Kubernetes operations over http.c: API paths, pagination, watch, JSON decoding, and
 * Status errors mapped to negative errno. Status codes are mapped here and only here:
 * 404 -ENOENT, 409 -EEXIST (create) / -ESTALE (conflict), 410 -ESTALE (relist),
 * 401/403 -EACCES, 400/422 -EINVAL, 429/5xx/timeouts -EAGAIN once retries are spent,
 * unreachable -EHOSTUNREACH / -ECONNREFUSED, TLS failures -EPROTO.
 * After any failure kube_last_error() holds the server's message (or the transport's). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "kube-decode.h"
#include "kubeconfig.h"
#include "node.h"

struct kube_client;

/* Creates a client for target (borrowed: must outlive the client; kube_target_auth() is
 * called on it before each request, and with refresh = true plus one retry after a 401).
 * o: HTTP tuning (may be NULL for defaults); its base_url and TLS fields are ignored and
 * taken from the target. Returns 0, -ENOMEM, or -EINVAL with *ret_cause. */
int kube_client_new(struct kube_target *target, const struct http_options *o,
                    struct kube_client **ret, char **ret_cause);
struct kube_client *kube_client_free(struct kube_client *k);

static inline void kube_client_freep(struct kube_client **k) {
        kube_client_free(*k);
}

/* The error of the last failed call (borrowed; code 0 and message set for transport and
 * authentication failures). Reset at the start of each call. */
const struct kube_error *kube_last_error(const struct kube_client *k);

/* The HTTP client underneath, for its counters. */
struct http_client *kube_http(struct kube_client *k);

struct kube_list_options {
        const char *label_selector; /* NULL = none */
        const char *field_selector; /* NULL = none */
        unsigned limit;             /* page size; 0 = 500 */
};

/* Called for each listed node. The callback may take over the contents (copy the struct
 * and zero *n); whatever remains is freed after it returns. Return < 0 to stop. */
typedef int (*kube_node_fn)(struct node_info *n, void *userdata);
typedef int (*kube_pod_fn)(struct kube_pod *p, void *userdata);
/* Called when a list had to start over (expired continue token): forget what was
 * delivered so far. May be NULL when the caller does not care. */
typedef void (*kube_reset_fn)(void *userdata);

/* Lists nodes page by page, delivering each through on_node, holding one node in memory
 * at a time. An expired continue (410) restarts the list (at most 3 times), calling
 * on_reset first. *ret_resource_version (may be NULL) receives the list's
 * resourceVersion. Returns 0 or a negative errno (see above), or a callback's value. */
int kube_list_nodes(struct kube_client *k, const struct kube_list_options *lo,
                    const struct kube_node_filter *f, kube_node_fn on_node,
                    kube_reset_fn on_reset, void *userdata, char **ret_resource_version);

/* Gets one node. *ret_resource_version (may be NULL) receives its resourceVersion. */
int kube_get_node(struct kube_client *k, const char *name, const struct kube_node_filter *f,
                  struct node_info *ret, char **ret_resource_version);

/* One label or annotation change: value NULL removes the key. */
struct kube_kv {
        const char *key;
        const char *value;
};

struct kube_meta_patch {
        const struct kube_kv *labels;
        size_t n_labels;
        const struct kube_kv *annotations;
        size_t n_annotations;
};

/* Builds the merge-patch body for p (with metadata.resourceVersion when rv is set).
 * Returns 0 and a malloc'd string, or -ENOMEM. Exposed for tests. */
int kube_meta_patch_json(const struct kube_meta_patch *p, const char *rv, char **ret);

/* Merge-patches a node's labels and annotations. With resource_version set the patch is
 * conditional: a changed node gives -ESTALE (read again and retry). Idempotent, so it is
 * retried after transport errors. Returns 0, -ENOENT, -ESTALE, -EACCES, ... */
int kube_patch_node(struct kube_client *k, const char *name, const struct kube_meta_patch *p,
                    const char *resource_version);

/* Read-modify-write with a resourceVersion precondition: reads the node, asks modify()
 * for the change (return 0 to apply it, > 0 when nothing needs changing, < 0 to fail;
 * the patch may point into the callback's storage until its next call), patches, and on
 * -ESTALE starts over, up to max_tries (0 = 5). Returns 0, 1 when modify had nothing to
 * do, or a negative errno. */
typedef int (*kube_modify_fn)(const struct node_info *n, struct kube_meta_patch *ret, void *userdata);
int kube_update_node(struct kube_client *k, const char *name, const struct kube_node_filter *f,
                     kube_modify_fn modify, void *userdata, unsigned max_tries);

/* Patches many nodes concurrently (bounded by the client's max_in_flight and rate).
 * results[i] receives 0 or the negative errno of names[i]; messages of failures are
 * not kept (the last one is in kube_last_error()). A node whose patch meets 409
 * Conflict is read again and patched with its resourceVersion (kube_update_node()).
 * Returns 0 when all succeeded, else the first failure. */
int kube_patch_nodes(struct kube_client *k, const char *const *names, const struct kube_meta_patch *p,
                     size_t n, int *results);

/* DaemonSets. manifest: the complete JSON object. Create: 409 -> -EEXIST; when the
 * create failed in a way that may have reached the server, a GET settles whether it
 * exists (0 if so); after a 5xx it is settled, then sent again (a few times at most).
 * ret may be NULL. */
int kube_create_daemonset(struct kube_client *k, const char *namespace, const char *manifest,
                          struct kube_daemonset *ret);
int kube_get_daemonset(struct kube_client *k, const char *namespace, const char *name,
                       const char *label_key, struct kube_daemonset *ret);
/* Lists DaemonSets matching label_selector (all pages) into a new array; label_key as
 * for kube_decode_daemonset(). */
int kube_list_daemonsets(struct kube_client *k, const char *namespace, const char *label_selector,
                         const char *label_key, struct kube_daemonset **ret, size_t *ret_n,
                         char **ret_resource_version);
/* propagation: "Background", "Foreground", "Orphan" or NULL (server default).
 * 404 -> -ENOENT. */
int kube_delete_daemonset(struct kube_client *k, const char *namespace, const char *name,
                          const char *propagation);

/* One core/v1 Event, as the list callback sees it (borrowed strings). */
struct kube_event_record {
        const char *type;    /* Normal, Warning */
        const char *reason;  /* e.g. FailedCreate */
        const char *message;
        const char *last;    /* lastTimestamp, else eventTime, else NULL (RFC 3339) */
        int64_t count;
};
typedef int (*kube_event_record_fn)(const struct kube_event_record *e, void *userdata);

/* Lists the Events of a namespace matching field_selector (e.g. "involvedObject.uid=X"),
 * all pages, through on_event. Returns 0 or a negative errno. */
int kube_list_events(struct kube_client *k, const char *namespace, const char *field_selector,
                     kube_event_record_fn on_event, void *userdata);

/* Lists pods of a namespace, page by page, one at a time through on_pod (which may take
 * over the contents, as for nodes). label_keys: labels whose values to decode. */
int kube_list_pods(struct kube_client *k, const char *namespace, const struct kube_list_options *lo,
                   const char *const *label_keys, size_t n_label_keys, kube_pod_fn on_pod,
                   kube_reset_fn on_reset, void *userdata, char **ret_resource_version);

enum kube_kind { KUBE_KIND_POD, KUBE_KIND_DAEMONSET };
enum kube_event_type { KUBE_ADDED, KUBE_MODIFIED, KUBE_DELETED, KUBE_BOOKMARK };

struct kube_event {
        enum kube_event_type type;
        enum kube_kind kind;
        const char *resource_version; /* the object's (or the bookmark's) */
        struct kube_pod *pod;         /* KUBE_KIND_POD, not for bookmarks; may be taken over */
        struct kube_daemonset *daemonset;
};

typedef int (*kube_event_fn)(const struct kube_event *e, void *userdata);

struct kube_watch_options {
        const char *label_selector;
        const char *field_selector;
        const char *resource_version; /* start after this; NULL = from now with ADDED events */
        unsigned timeout_s;           /* timeoutSeconds; 0 = 300 */
        const char *const *label_keys; /* pods: labels to decode */
        size_t n_label_keys;
        const char *label_key;         /* daemonsets: label for run_label */
};

/* Watches pods or DaemonSets of a namespace with bookmarks until the server ends the
 * call (timeoutSeconds) or the callback returns < 0. *ret_resource_version (may be NULL)
 * (NULL or a malloc'd string, replaced) receives the last version seen, to resume from,
 * also on failure. Returns 0 when the server closed the
 * stream normally, -ESTALE when the resourceVersion is too old (an ERROR event with 410
 * or a plain 410): relist, then watch from the new list's version. Other errors as above. */
int kube_watch(struct kube_client *k, enum kube_kind kind, const char *namespace,
               const struct kube_watch_options *wo, kube_event_fn on_event, void *userdata,
               char **ret_resource_version);

/* POSTs body to path and parses the answer; for requests without side effects (access
 * reviews), so it is retried like a GET. Returns 0 and *ret (caller puts it), or a
 * negative errno as above. */
int kube_post_json(struct kube_client *k, const char *path, const char *body, json_object **ret);

/* GETs Secret namespace/name and stores data[key] (still base64, a credential: never
 * log it) in *ret_base64 (caller frees). Returns 0, -ENOKEY when the Secret has no such
 * key, or a negative errno as above (-ENOENT, -EACCES, ...). */
int kube_get_secret_key(struct kube_client *k, const char *namespace, const char *name, const char *key,
                        char **ret_base64);

/* GET /version: *ret_git_version (e.g. "v1.30.2"). */
int kube_get_version(struct kube_client *k, char **ret_git_version);

/* A stable identity of the cluster: the uid of namespace kube-system, or of default when
 * kube-system cannot be read. */
int kube_cluster_id(struct kube_client *k, char **ret_uid);
