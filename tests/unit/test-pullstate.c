/* SPDX-License-Identifier: MIT */
/* What a container status says about its pull: done, waiting, failed, not applicable. */
#include "macro.h"
#include "pullstate.h"
#include "tap.h"

int main(void) {
        static const struct {
                const char *image_id, *reason, *message;
                enum pull_verdict want;
        } cases[] = {
                { "docker.io/library/nginx@sha256:00", NULL, NULL, PULL_DONE },
                { NULL, NULL, NULL, PULL_WAITING },
                { "", "ContainerCreating", NULL, PULL_WAITING },
                { NULL, "InvalidImageName", "bad", PULL_FAILED },
                { NULL, "ErrImagePull", "rpc error: manifest unknown", PULL_FAILED },
                { NULL, "ErrImagePull", "dial tcp: i/o timeout", PULL_WAITING },
                /* containerd: the platform error ends in "not found" but is not a missing image */
                { NULL, "ErrImagePull",
                  "failed to pull and unpack image \"docker.io/x/y:1\": no match for platform in manifest: not found",
                  PULL_NOT_APPLICABLE },
                { NULL, "ImagePullBackOff",
                  "Back-off pulling image: no match for platform in manifest: not found", PULL_NOT_APPLICABLE },
                /* CRI-O and cri-dockerd phrase it their own way */
                { NULL, "ErrImagePull",
                  "choosing image instance: no image found in manifest list for architecture arm64, variant \"v8\", "
                  "OS linux", PULL_NOT_APPLICABLE },
                { NULL, "ErrImagePull", "no matching manifest for linux/arm64/v8 in the manifest list entries",
                  PULL_NOT_APPLICABLE },
                /* only pull errors say anything about the platform */
                { NULL, "CreateContainerError", "no match for platform in manifest", PULL_WAITING },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                is_int(pull_classify(cases[i].image_id, cases[i].reason, cases[i].message), cases[i].want,
                       "case %zu: %s / %s", i, strempty(cases[i].reason), strempty(cases[i].message));
        ok(pull_error_is_platform("NO MATCH FOR PLATFORM IN MANIFEST"), "case-insensitive");
        ok(!pull_error_is_platform(NULL) && !pull_error_is_platform(""), "nothing is no platform error");
        ok(!pull_error_is_platform("manifest unknown"), "a missing image is not a platform error");
        return tap_done();
}
