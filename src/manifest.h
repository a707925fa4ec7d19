/* SPDX-License-Identifier: MIT */
/* The puller DaemonSet for one batch of images (pure: builds JSON, no I/O).
 *
 * Shape (apps/v1 DaemonSet):
 * - labels app.kubernetes.io/managed-by=clyde-seed, app.kubernetes.io/name=clyde-seed,
 *   clyde-seed/run=<run id>, clyde-seed/batch=<n>, clyde-seed/part=<p> on the DaemonSet,
 *   as its selector and on the pod template (the part keeps the selectors of two
 *   DaemonSets of one batch apart);
 * - updateStrategy OnDelete: a puller DaemonSet is created once per run and batch and
 *   deleted at cleanup, never updated in place; should anyone edit it, OnDelete keeps
 *   the controller from rolling the pods (which would restart pulls mid-verify);
 * - nodeSelector = the seeder label, plus required node affinity with one
 *   nodeSelectorTerm per seeder that still lacks the batch's images, each
 *   `matchFields metadata.name In [that node]` (terms are ORed; the API server allows
 *   only one value in a node field selector);
 * - init container IMAGES_RESERVED_NAME from the helper image (a static busybox) runs
 *   `/bin/busybox cp /bin/busybox /clyde-seed/sleep` into an emptyDir; each seeded image
 *   is one container running `/clyde-seed/sleep 2147483647` (busybox is multi-call and
 *   picks the applet from its name), so the image's own entrypoint never runs and
 *   distroless or scratch images work; the emptyDir is read-only there;
 * - imagePullPolicy Always for tags (a moved tag is pulled again), IfNotPresent for
 *   digests and for the helper image;
 * - every container: requests = limits = cpu 10m / memory 16Mi by default (a sleeping
 *   busybox needs well under 1 MiB; requests equal to limits pass a LimitRange with
 *   maxLimitRequestRatio 1; 10m is the smallest CPU limit the kubelet enforces as
 *   given, 16Mi is above CRI-O's 12 MiB minimum), runAsNonRoot, runAsUser and
 *   runAsGroup 65534 or as configured (unset with run_as_user = auto, so an OpenShift
 *   SCC assigns them), allowPrivilegeEscalation false, capabilities drop ALL,
 *   readOnlyRootFilesystem, seccomp RuntimeDefault: the pod meets the PodSecurity
 *   "restricted" profile either way;
 * - automountServiceAccountToken false, enableServiceLinks false,
 *   terminationGracePeriodSeconds 1, restartPolicy Always; optional tolerations, image
 *   pull secrets and priority class. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toleration.h"

#define MANIFEST_HELPER_IMAGE_DEFAULT "docker.io/library/busybox:1.36.1-musl"
#define MANIFEST_CPU_REQUEST_DEFAULT "10m"
#define MANIFEST_MEMORY_REQUEST_DEFAULT "16Mi"
#define MANIFEST_CPU_LIMIT_DEFAULT "10m"
#define MANIFEST_MEMORY_LIMIT_DEFAULT "16Mi"
#define MANIFEST_RUN_AS_USER 65534
#define MANIFEST_RUN_AS_AUTO (-1) /* leave runAsUser/runAsGroup unset */
/* At most this many seeders in one DaemonSet: a batch with more is split into parts.
 * 1,000 terms of 253-character node names make a body of ~0.3 MiB, far below the
 * API server's 3 MiB request and etcd's 1.5 MiB object limits. */
#define MANIFEST_NODES_PER_DAEMONSET 1000
#define MANIFEST_BIN_DIR "/clyde-seed"
#define MANIFEST_VOLUME "clyde-seed-bin"
#define MANIFEST_SLEEP_SECONDS "2147483647"

#define MANIFEST_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define MANIFEST_LABEL_NAME "app.kubernetes.io/name"
#define MANIFEST_LABEL_RUN "clyde-seed/run"
#define MANIFEST_LABEL_BATCH "clyde-seed/batch"
#define MANIFEST_LABEL_PART "clyde-seed/part"
#define MANIFEST_APP "clyde-seed"

struct manifest_params {
        const char *namespace;
        const char *name;                    /* from manifest_daemonset_name() */
        const char *run_id;                  /* must be a valid label value */
        unsigned batch;
        unsigned part;                       /* distinguishes DaemonSets of one batch */
        const char *const *images;           /* normalised references */
        const char *const *container_names;  /* parallel to images */
        size_t n_images;
        const char *label_key, *label_value; /* the seeder label */
        const char *const *nodes;            /* seeders still lacking the batch's images */
        size_t n_nodes;
        const char *helper_image;            /* NULL = MANIFEST_HELPER_IMAGE_DEFAULT */
        const struct toleration *tolerations;
        size_t n_tolerations;
        const char *const *pull_secrets;
        size_t n_pull_secrets;
        const char *priority_class;          /* NULL or "" = none */
        const char *cpu_request, *memory_request, *cpu_limit, *memory_limit; /* NULL = defaults */
        long long run_as_user;               /* 0: MANIFEST_RUN_AS_USER; MANIFEST_RUN_AS_AUTO: unset */
};

/* Builds the DaemonSet. Stores a new json-c object in *ret (caller owns the reference:
 * json_object_put()) and returns 0. Returns -EINVAL with a message in *ret_cause
 * (caller frees) when a parameter would make the API server refuse the object or the
 * pod useless: bad namespace, name, run id or seeder label, no image, no node, a
 * container name that is not a DNS-1123 label, is reserved or repeats, an empty helper
 * image, pull secret or node name, more than MANIFEST_NODES_PER_DAEMONSET nodes, a
 * malformed resource quantity, a request above its limit, a negative run_as_user other
 * than MANIFEST_RUN_AS_AUTO. -ENOMEM otherwise. */
int manifest_build(const struct manifest_params *p, struct json_object **ret, char **ret_cause);

/* Derives the DaemonSet name "clyde-seed-<run id>-<batch>-<part>": the run id lowercased,
 * anything outside [a-z0-9] turned into '-', runs of '-' merged; the result is a
 * DNS-1123 label (<= 63, so it is also a valid label value and leaves pod names
 * room); a run id too long to fit is cut and followed by 8 hex digits of its hash so
 * distinct long ids stay distinct. Stores a new string in *ret (caller frees). Returns
 * 0, -EINVAL (cause set) when nothing usable remains of the run id, -ENOMEM. */
int manifest_daemonset_name(const char *run_id, unsigned batch, unsigned part, char **ret, char **ret_cause);

/* Splits n_images into ceil(n_images / per_batch) batches whose sizes differ by at
 * most one (larger first), in order. manifest_batch_count() stores the count;
 * manifest_batch_range() the first index and length of batch i. Both return 0, or
 * -EINVAL when per_batch is 0 or i is out of range. */
int manifest_batch_count(size_t n_images, size_t per_batch, size_t *ret_count);
int manifest_batch_range(size_t n_images, size_t per_batch, size_t i, size_t *ret_start, size_t *ret_len);

/* True for a Kubernetes resource quantity of the simple form used here:
 * digits, optional ".digits", optional suffix m, k, M, G, T, Ki, Mi, Gi, Ti. */
bool manifest_quantity_valid(const char *q);

/* Parses such a quantity into thousandths of its unit ("100m" -> 100, "1Mi" ->
 * 1048576000). Returns 0, -EINVAL when malformed, -ERANGE when too large. */
int manifest_quantity_milli(const char *q, int64_t *ret);

/* The pull policy for a normalised reference: "IfNotPresent" with a digest, else "Always". */
const char *manifest_pull_policy(const char *ref);
