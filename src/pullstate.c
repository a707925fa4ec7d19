/* SPDX-License-Identifier: MIT */
#include "pullstate.h"

#include <string.h>
#include <stdio.h>
#include <strings.h>

#include "macro.h"

static bool contains_nocase(const char *hay, const char *needle) {
        size_t n = strlen(needle);

        for (const char *p = hay; *p; p++)
                if (strncasecmp(p, needle, n) == 0)
                        return true;
        return false;
}

/* Whether message (NULL or "" = no) holds one of the phrases, ignoring case. */
static bool contains_any(const char *message, const char *const *phrases, size_t n) {
        if (isempty(message))
                return false;
        for (size_t i = 0; i < n; i++)
                if (contains_nocase(message, phrases[i]))
                        return true;
        return false;
}

bool pull_error_is_permanent(const char *message) {
        /* Phrases of containerd, CRI-O and registries for a missing image or refused access. */
        static const char *const phrases[] = {
                "not found",          "notfound",         "manifest unknown", "name unknown",
                "pull access denied", "unauthorized",     "authorization failed",
                "403 forbidden",      "requested access to the resource is denied",
                "repository does not exist",
        };

        return contains_any(message, phrases, ELEMENTSOF(phrases));
}

bool pull_error_is_platform(const char *message) {
        static const char *const phrases[] = {
                "no match for platform in manifest",
                "no image found in manifest list for architecture",
                "no matching manifest for",
        };

        return contains_any(message, phrases, ELEMENTSOF(phrases));
}

bool pull_error_is_rate_limited(const char *message) {
        static const char *const phrases[] = { "429 too many requests", "toomanyrequests", "pull rate limit" };

        return contains_any(message, phrases, ELEMENTSOF(phrases));
}

bool pull_status_lacks_cause(const char *reason, const char *message) {
        static const char prefix[] = "Back-off pulling image \"";
        const char *q;

        if (!streq_ptr(reason, "ErrImagePull") && !streq_ptr(reason, "ImagePullBackOff"))
                return false;
        if (isempty(message))
                return true;
        if (strncmp(message, prefix, sizeof(prefix) - 1) != 0)
                return false;
        /* An image reference has no quote: the message ends at its closing quote. */
        q = strchr(message + sizeof(prefix) - 1, '"');
        return q && q[1] == '\0';
}

bool pull_event_is_cause(const char *reason, const char *message) {
        static const char prefix[] = "Failed to pull image \"";

        return streq_ptr(reason, "Failed") && message && strncmp(message, prefix, sizeof(prefix) - 1) == 0;
}

bool pull_event_for_container(const char *field_path, const char *container) {
        size_t n, c;

        if (!field_path || isempty(container))
                return false;
        n = strlen(field_path);
        c = strlen(container);
        if (!startswith(field_path, "spec.containers{") && !startswith(field_path, "spec.initContainers{"))
                return false;
        return n > c + 2 && field_path[n - 1] == '}' && field_path[n - c - 2] == '{' &&
               strncmp(field_path + n - c - 1, container, c) == 0;
}

enum pull_verdict pull_classify(const char *image_id, const char *reason, const char *message) {
        static const char *const fatal[] = { "InvalidImageName", "ErrImageNeverPull",
                                             "SignatureValidationFailed" };

        if (!isempty(image_id))
                return PULL_DONE;
        if (isempty(reason))
                return PULL_WAITING;
        for (size_t i = 0; i < ELEMENTSOF(fatal); i++)
                if (streq(reason, fatal[i]))
                        return PULL_FAILED;
        /* containerd's platform error ends in "not found": look for it first. */
        if ((streq(reason, "ErrImagePull") || streq(reason, "ImagePullBackOff")) &&
            pull_error_is_platform(message))
                return PULL_NOT_APPLICABLE;
        if ((streq(reason, "ErrImagePull") || streq(reason, "ImagePullBackOff")) &&
            pull_error_is_permanent(message))
                return PULL_FAILED;
        return PULL_WAITING;
}

bool pull_init_failed(bool terminated, int exit_code, const char *reason, char *ret, size_t n) {
        static const char *const waiting[] = { "CrashLoopBackOff", "RunContainerError" };
        bool failed = terminated && exit_code != 0;

        for (size_t i = 0; !terminated && !isempty(reason) && i < ELEMENTSOF(waiting); i++)
                failed = failed || streq(reason, waiting[i]);
        if (!failed)
                return false;
        /* As kubectl names it: the terminated reason, else the exit code. */
        if (!isempty(reason))
                (void) snprintf(ret, n, "Init:%s", reason);
        else
                (void) snprintf(ret, n, "Init:ExitCode:%d", exit_code);
        return true;
}
