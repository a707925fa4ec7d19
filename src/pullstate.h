/* SPDX-License-Identifier: MIT */
/* What a container status says about its image pull (pure). DaemonSet readiness is never
 * used: only each container's imageID proves an image is on the node. */
#pragma once

#include <stdbool.h>

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
