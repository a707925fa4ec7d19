/* SPDX-License-Identifier: MIT */
#include "pullstate.h"

#include <string.h>
#include <strings.h>

#include "macro.h"

static bool contains_nocase(const char *hay, const char *needle) {
        size_t n = strlen(needle);

        for (const char *p = hay; *p; p++)
                if (strncasecmp(p, needle, n) == 0)
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

        if (isempty(message))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(phrases); i++)
                if (contains_nocase(message, phrases[i]))
                        return true;
        return false;
}

bool pull_error_is_platform(const char *message) {
        static const char *const phrases[] = {
                "no match for platform in manifest",
                "no image found in manifest list for architecture",
                "no matching manifest for",
        };

        if (isempty(message))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(phrases); i++)
                if (contains_nocase(message, phrases[i]))
                        return true;
        return false;
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
