/* SPDX-License-Identifier: MIT */
/* What a container status says about its image pull (pure). DaemonSet readiness is never
 * used: only each container's imageID proves an image is on the node. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum pull_verdict {
        PULL_WAITING, /* not there yet, may still come */
        PULL_DONE,    /* imageID set: the image is on the node */
        PULL_FAILED,  /* will not come without a change: fail now */
        PULL_NOT_APPLICABLE, /* the image has no variant for the node's OS/architecture */
};

/* Classifies one container status. image_id: containerStatuses[].imageID (NULL or "" when
 * not pulled); reason/message: the waiting (or terminated) reason and message.
 * Fails fast on InvalidImageName, ErrImageNeverPull, SignatureValidationFailed and pull
 * errors that say the image does not exist or access is denied; other pull errors
 * (registry unavailable, timeouts, back-off after such errors) keep waiting. A pull
 * error saying the image index has no variant for the node's platform (containerd:
 * "no match for platform in manifest", CRI-O: "no image found in manifest list for
 * architecture", Docker: "no matching manifest for") is PULL_NOT_APPLICABLE. */
enum pull_verdict pull_classify(const char *image_id, const char *reason, const char *message);

/* True when a pull error message says the image or its tag does not exist, or the
 * registry refused access: retrying cannot help. */
bool pull_error_is_permanent(const char *message);

/* True when a pull error message says the image has no variant for the platform. */
bool pull_error_is_platform(const char *message);

/* True when a pull error message says the registry refused for too many requests (429,
 * Docker Hub's "toomanyrequests"): it passes, so the pull keeps waiting, but the reason
 * is worth reporting. */
bool pull_error_is_rate_limited(const char *message);

/* True when a waiting ErrImagePull / ImagePullBackOff status says nothing of its cause:
 * a 1.26-1.31 kubelet's `Back-off pulling image "x"` (1.32 appends ": ErrImagePull: cause")
 * or an empty message. The cause is then only in the pod's last `Failed` event. */
bool pull_status_lacks_cause(const char *reason, const char *message);

/* True when an Event (reason, message) is a kubelet's record of a failed pull with its
 * cause: reason "Failed", message `Failed to pull image "x": <cause>` (not the
 * "Error: ErrImagePull" that follows it). */
bool pull_event_is_cause(const char *reason, const char *message);

/* True when an Event's involvedObject.fieldPath names the container (init or regular):
 * "spec.containers{name}" or "spec.initContainers{name}". */
bool pull_event_for_container(const char *field_path, const char *container);

/* Whether an init container's status says it cannot complete on its node: it exited
 * non-zero (terminated), or waits in CrashLoopBackOff or RunContainerError. Then writes the
 * reason as kubectl shows it ("Init:Error", "Init:ExitCode:2", "Init:CrashLoopBackOff")
 * into ret (n bytes, truncated). terminated: state.terminated (else reason is the waiting
 * reason); exit_code: its exitCode. */
bool pull_init_failed(bool terminated, int exit_code, const char *reason, char *ret, size_t n);
