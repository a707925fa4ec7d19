/* SPDX-License-Identifier: MIT */
/* What a container status says about its pull: done, waiting, failed, not applicable. */
#include "macro.h"
#include "pullstate.h"
#include "tap.h"

/* A 1.26-1.31 kubelet's back-off says nothing of its cause; 1.32 appends it. */
static void test_without_cause(void) {
        static const struct {
                const char *reason, *message;
                bool lacks;
        } cases[] = {
                { "ImagePullBackOff", "Back-off pulling image \"docker.io/library/x:1\"", true },
                { "ErrImagePull", NULL, true },
                { "ErrImagePull", "", true },
                { "ImagePullBackOff",
                  "Back-off pulling image \"x:1\": ErrImagePull: rpc error: code = NotFound desc = x: not found",
                  false },
                { "ErrImagePull", "rpc error: code = NotFound desc = failed to pull and unpack image", false },
                { "ContainerCreating", NULL, false },
                { NULL, NULL, false },
                { "ImagePullBackOff", "Back-off pulling image \"x:1", false }, /* not the kubelet's */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                is_int(pull_status_lacks_cause(cases[i].reason, cases[i].message), cases[i].lacks,
                       "lacks cause %zu: %s / %s", i, strempty(cases[i].reason), strempty(cases[i].message));
}

/* An init container that cannot complete, named as kubectl shows it. */
static void test_init_failed(void) {
        static const struct {
                bool terminated;
                int exit_code;
                const char *reason, *want; /* want NULL: not a failure */
        } cases[] = {
                { true, 1, "Error", "Init:Error" },
                { true, 2, NULL, "Init:ExitCode:2" },
                { true, 0, "Completed", NULL },
                { false, 0, "CrashLoopBackOff", "Init:CrashLoopBackOff" },
                { false, 0, "RunContainerError", "Init:RunContainerError" },
                { false, 0, "PodInitializing", NULL },
                { false, 0, "ErrImagePull", NULL }, /* a pull error: pull_classify's business */
                { false, 0, NULL, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char why[32] = "";
                bool failed = pull_init_failed(cases[i].terminated, cases[i].exit_code, cases[i].reason, why,
                                               sizeof(why));
                is_int(failed, !!cases[i].want, "init case %zu: %s failed", i, strempty(cases[i].reason));
                if (cases[i].want)
                        is_str(why, cases[i].want, "init case %zu: named", i);
        }
}

/* The pod's Failed event carries the cause; the classification applies to its text. */
static void test_events(void) {
        static const char nf[] = "Failed to pull image \"docker.io/library/x:1\": rpc error: code = NotFound desc = "
                                 "failed to pull and unpack image \"docker.io/library/x:1\": failed to resolve "
                                 "reference \"docker.io/library/x:1\": docker.io/library/x:1: not found";
        static const char rl[] = "Failed to pull image \"docker.io/library/x:1\": rpc error: code = Unknown desc = "
                                 "failed to pull and unpack image \"docker.io/library/x:1\": failed to copy: "
                                 "httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/"
                                 "v2/library/x/manifests/1: 429 Too Many Requests - Server message: "
                                 "toomanyrequests: You have reached your pull rate limit.";
        static const char pf[] = "Failed to pull image \"x:1\": rpc error: code = NotFound desc = failed to pull "
                                 "and unpack image \"docker.io/library/x:1\": no match for platform in manifest: "
                                 "not found";
        static const char ua[] = "Failed to pull image \"x:1\": rpc error: code = Unknown desc = failed to pull and "
                                 "unpack image \"docker.io/library/x:1\": failed to resolve reference: pull access "
                                 "denied, repository does not exist or may require authorization";

        ok(pull_event_is_cause("Failed", nf), "a Failed to pull event is a cause");
        ok(!pull_event_is_cause("Failed", "Error: ErrImagePull"), "Error: ErrImagePull is not");
        ok(!pull_event_is_cause("Failed", "Error: ImagePullBackOff"), "Error: ImagePullBackOff is not");
        ok(!pull_event_is_cause("BackOff", "Back-off pulling image \"x:1\""), "BackOff is not");
        ok(!pull_event_is_cause(NULL, NULL), "nothing is no cause");
        is_int(pull_classify(NULL, "ImagePullBackOff", nf), PULL_FAILED, "event: not found fails");
        is_int(pull_classify(NULL, "ImagePullBackOff", ua), PULL_FAILED, "event: unauthorized fails");
        is_int(pull_classify(NULL, "ImagePullBackOff", pf), PULL_NOT_APPLICABLE, "event: platform n/a");
        is_int(pull_classify(NULL, "ImagePullBackOff", rl), PULL_WAITING, "event: rate limited waits");
        ok(pull_error_is_rate_limited(rl), "429 is rate limited");
        ok(!pull_error_is_rate_limited(nf) && !pull_error_is_rate_limited(NULL), "not found is not");
        ok(pull_event_for_container("spec.containers{img-0}", "img-0"), "container field path");
        ok(pull_event_for_container("spec.initContainers{helper}", "helper"), "init container field path");
        ok(!pull_event_for_container("spec.containers{img-10}", "img-0"), "another container");
        ok(!pull_event_for_container("spec.containers{img-0}", "0"), "a suffix is not the name");
        ok(!pull_event_for_container("metadata{img-0}", "img-0"), "not a container path");
        ok(!pull_event_for_container(NULL, "img-0"), "no field path");
}

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
        test_without_cause();
        test_events();
        test_init_failed();
        return tap_done();
}
