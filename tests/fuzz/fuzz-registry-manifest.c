/* SPDX-License-Identifier: MIT */
/* libFuzzer: arbitrary bytes as a manifest, index or image config body; the first byte
 * picks the Content-Type. Checks the invariants the resolver relies on. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "images.h"
#include "registry-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const types[] = { NULL, REGISTRY_MT_OCI_INDEX, REGISTRY_MT_DOCKER_V2,
                                             "application/json; charset=utf-8" };
        struct registry_manifest m = { .size = -1 };
        struct registry_platform p = { .size = -1 };
        char *cause = NULL;

        if (size < 1)
                return 0;
        if (registry_manifest_parse((const char *) data + 1, size - 1, types[data[0] & 3], &m, &cause) == 0) {
                if (m.kind == REGISTRY_KIND_IMAGE && (m.size < 0 || !image_digest_valid(m.config_digest)))
                        abort();
                if (m.n_platforms > REGISTRY_PLATFORMS_MAX)
                        abort();
                for (size_t i = 0; i < m.n_platforms; i++)
                        if (!m.platforms[i].os || !m.platforms[i].arch || !image_digest_valid(m.platforms[i].digest))
                                abort();
                registry_manifest_done(&m);
        } else if (!cause)
                abort();
        free(cause);
        if (registry_config_parse((const char *) data + 1, size - 1, &p, NULL) == 0) {
                if (!p.os || !p.arch)
                        abort();
                registry_platform_done(&p);
        }
        return 0;
}
