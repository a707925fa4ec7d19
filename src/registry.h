/* SPDX-License-Identifier: MIT */
/* A client of the OCI distribution API (manifests only, plus an image's small config blob),
 * over the http module: one HTTP client per endpoint origin, the endpoints of
 * seeder.ini [registry] tried in order (mirrors first), the bearer-token flow and basic
 * auth with credentials from pull secrets, CA files per endpoint host. 429 and 5xx are
 * retried by the http module (Retry-After honoured); proxies come from the environment
 * as libcurl reads it. Credentials and tokens are never logged. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "images.h"
#include "registry-parse.h"

struct registry_options {
        const struct registry_hosts *hosts; /* borrowed; NULL = no mirrors, no CA files */
        const struct registry_creds *creds; /* borrowed; NULL = anonymous */
        long connect_timeout_ms;            /* default 5000 */
        long request_timeout_ms;            /* default 20000 */
        unsigned max_attempts;              /* default 3 */
        long deadline_ms;                   /* all attempts of one request, default 30000 */
        http_log_fn log;                    /* never receives a secret */
        void *log_userdata;
};

struct registry_client;

/* Returns 0 and *ret, or -ENOMEM. */
int registry_client_new(const struct registry_options *o, struct registry_client **ret);
struct registry_client *registry_client_free(struct registry_client *c);
static inline void registry_client_freep(struct registry_client **c) {
        registry_client_free(*c);
}

/* Requests sent so far (all endpoints, token requests included), and of them HEADs. */
uint64_t registry_client_requests(const struct registry_client *c);
uint64_t registry_client_heads(const struct registry_client *c);

/* What the registry says of one reference. */
struct registry_image {
        char *digest;        /* of the manifest the reference names (index or image) */
        bool index;          /* an index: platforms come from it */
        struct registry_platform *platforms; /* each with size; see registry_resolve() */
        size_t n_platforms;
};

void registry_image_done(struct registry_image *i);

/* HEADs the manifest of ref (its digest when it has one, else its tag) and, when the
 * digest differs from known_digest (may be NULL), GETs the manifest, each platform's
 * manifest of an index, and for a single image its config blob (for the platform).
 * Returns 1 when the digest equals known_digest (only ret->digest is set: the caller
 * keeps what it knew), 0 with *ret filled otherwise. Errors, with *ret_cause (caller
 * frees): -EHOSTUNREACH / -ECONNREFUSED / -ETIMEDOUT / -EPROTO (no endpoint answered),
 * -ENOENT (manifest unknown), -EACCES (unauthorized or denied), -EBADMSG (unusable
 * answer), -ENOMEM. */
int registry_resolve(struct registry_client *c, const struct image_ref *ref, const char *known_digest,
                     struct registry_image *ret, char **ret_cause);

/* Percent-encodes s for a query value (unreserved characters kept). *ret is new. */
int registry_query_escape(const char *s, char **ret);
