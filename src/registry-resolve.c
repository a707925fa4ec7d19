/* SPDX-License-Identifier: MIT */
/* Resolving a reference: one HEAD for the digest; only when it is new, the manifest, the
 * platform manifests of an index and a single image's config blob. Blobs of layers are
 * never fetched. Bodies fetched by digest are not hashed here: the kubelet pulls by
 * digest and verifies what it pulls; these bodies only give platforms and sizes. */
#define _GNU_SOURCE 1
#include "registry-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "util.h"

void registry_image_done(struct registry_image *i) {
        if (!i)
                return;
        free(i->digest);
        for (size_t k = 0; k < i->n_platforms; k++)
                registry_platform_done(&i->platforms[k]);
        free(i->platforms);
        *i = (struct registry_image) {};
}

static int head_digest(struct registry_client *c, const struct image_ref *ref, char **ret, char **ret_cause) {
        _cleanup_(http_response_done) struct http_response resp = {};
        _cleanup_(freep) char *path = NULL;
        const char *d;
        int r;

        if (asprintf(&path, "/v2/%s/manifests/%s", ref->path, ref->digest ?: ref->tag) < 0)
                return -ENOMEM;
        r = registry_request(c, ref->domain, ref->path, "HEAD", path, REGISTRY_ACCEPT, &resp, ret_cause);
        if (r < 0)
                return r;
        d = resp.headers[REGISTRY_H_DIGEST];
        if (!d && ref->digest)
                d = ref->digest; /* asked by digest: the answer is that digest */
        if (!d || !image_digest_valid(d))
                return registry_fail(-EBADMSG, ret_cause, "HEAD %s: no valid Docker-Content-Digest", path);
        if (ref->digest && !streq(d, ref->digest))
                return registry_fail(-EBADMSG, ret_cause, "HEAD %s: the registry answers digest %s", path, d);
        *ret = strdup(d);
        return *ret ? 0 : -ENOMEM;
}

static int get_manifest(struct registry_client *c, const struct image_ref *ref, const char *digest,
                        struct registry_manifest *ret, char **ret_cause) {
        _cleanup_(http_response_done) struct http_response resp = {};
        _cleanup_(freep) char *path = NULL, *why = NULL;
        int r;

        if (asprintf(&path, "/v2/%s/manifests/%s", ref->path, digest) < 0)
                return -ENOMEM;
        r = registry_request(c, ref->domain, ref->path, "GET", path, REGISTRY_ACCEPT, &resp, ret_cause);
        if (r < 0)
                return r;
        r = registry_manifest_parse(resp.body ?: "", resp.body_len, resp.content_type, ret, &why);
        if (r == -EINVAL)
                return registry_fail(-EBADMSG, ret_cause, "manifest %s: %s", digest, strempty(why));
        return r;
}

static int get_config(struct registry_client *c, const struct image_ref *ref, const char *digest,
                      struct registry_platform *ret, char **ret_cause) {
        _cleanup_(http_response_done) struct http_response resp = {};
        _cleanup_(freep) char *path = NULL, *why = NULL;
        int r;

        if (asprintf(&path, "/v2/%s/blobs/%s", ref->path, digest) < 0)
                return -ENOMEM;
        r = registry_request(c, ref->domain, ref->path, "GET", path, "application/json, */*", &resp, ret_cause);
        if (r < 0)
                return r;
        r = registry_config_parse(resp.body ?: "", resp.body_len, ret, &why);
        if (r == -EINVAL)
                return registry_fail(-EBADMSG, ret_cause, "config %s: %s", digest, strempty(why));
        return r;
}

/* The size of each platform of an index, from its own manifest. */
static int index_sizes(struct registry_client *c, const struct image_ref *ref, struct registry_manifest *m,
                       char **ret_cause) {
        int r;

        for (size_t i = 0; i < m->n_platforms; i++) {
                _cleanup_(registry_manifest_done) struct registry_manifest pm = { .size = -1 };
                r = get_manifest(c, ref, m->platforms[i].digest, &pm, ret_cause);
                if (r < 0)
                        return r;
                if (pm.kind != REGISTRY_KIND_IMAGE)
                        return registry_fail(-EBADMSG, ret_cause, "index entry %s is not an image manifest",
                                             m->platforms[i].digest);
                m->platforms[i].size = pm.size;
        }
        return 0;
}

/* A single image: one platform, from its config blob. */
static int image_platform(struct registry_client *c, const struct image_ref *ref, struct registry_manifest *m,
                          struct registry_image *img, char **ret_cause) {
        struct registry_platform p = { .size = -1 };
        int r;

        r = get_config(c, ref, m->config_digest, &p, ret_cause);
        if (r < 0)
                return r;
        img->platforms = calloc(1, sizeof(*img->platforms));
        if (!img->platforms) {
                registry_platform_done(&p);
                return -ENOMEM;
        }
        p.size = m->size;
        img->platforms[0] = p;
        img->n_platforms = 1;
        return 0;
}

int registry_resolve(struct registry_client *c, const struct image_ref *ref, const char *known_digest,
                     struct registry_image *ret, char **ret_cause) {
        _cleanup_(registry_image_done) struct registry_image img = {};
        _cleanup_(registry_manifest_done) struct registry_manifest m = { .size = -1 };
        int r;

        r = head_digest(c, ref, &img.digest, ret_cause);
        if (r < 0)
                return r;
        if (streq_ptr(img.digest, known_digest)) {
                *ret = (struct registry_image) { .digest = TAKE_PTR(img.digest) };
                return 1;
        }
        r = get_manifest(c, ref, img.digest, &m, ret_cause);
        if (r < 0)
                return r;
        img.index = m.kind == REGISTRY_KIND_INDEX;
        if (img.index) {
                r = index_sizes(c, ref, &m, ret_cause);
                if (r < 0)
                        return r;
                img.platforms = TAKE_PTR(m.platforms);
                img.n_platforms = m.n_platforms;
                m.n_platforms = 0;
        } else {
                r = image_platform(c, ref, &m, &img, ret_cause);
                if (r < 0)
                        return r;
        }
        *ret = img;
        img = (struct registry_image) {};
        return 0;
}
