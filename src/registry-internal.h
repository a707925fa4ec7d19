/* SPDX-License-Identifier: MIT */
/* Shared by registry.c (transport, auth) and registry-resolve.c (what is asked). */
#pragma once

#include "registry.h"

enum { REGISTRY_H_DIGEST, REGISTRY_H_AUTHENTICATE, REGISTRY_H_LENGTH };

struct registry_origin {
        char *origin; /* "https://host:port" */
        struct http_client *http;
};

/* What an endpoint x repository sends after its first 401: a bearer token, or basic auth. */
struct registry_token {
        char *key; /* endpoint URL + "/" + repository */
        char *token; /* secret; NULL for basic */
        bool basic;
};

struct registry_client {
        struct registry_options o;
        struct registry_origin *origins;
        size_t n_origins;
        struct registry_token *tokens;
        size_t n_tokens;
        uint64_t requests, heads;
};

/* Replaces *ret_cause (may be NULL) with a formatted message and returns r (or -ENOMEM
 * when the message cannot be built). */
int registry_fail(int r, char **ret_cause, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int registry_split_url(const char *url, char **ret_origin, const char **ret_path);

/* Sends req to url (absolute) through the origin's http client. As http_request(). */
int registry_send(struct registry_client *c, const char *url, struct http_request *req,
                  struct http_response *resp);

/* method on path ("/v2/...") of registry's endpoints in order, authorising for repo as the
 * registry asks. Returns 0 with a 2xx response in *resp (released by the caller in any
 * case), -ENOENT (404), -EACCES (401/403 after authorising), -EBADMSG (other status),
 * -EHOSTUNREACH and other transport errors when no endpoint answered; *ret_cause says
 * which endpoint failed how. */
int registry_request(struct registry_client *c, const char *registry, const char *repo,
                     const char *method, const char *path, const char *accept,
                     struct http_response *resp, char **ret_cause);
