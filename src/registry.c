/* SPDX-License-Identifier: MIT */
/* The registry client's transport: endpoints in order, one http client per origin, the
 * bearer-token and basic auth flows. What is asked and how it is read: registry-resolve.c. */
#define _GNU_SOURCE 1
#include "registry-internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "macro.h"
#include "util.h"

#define CA_FILE_MAX (1024u * 1024)

int registry_client_new(const struct registry_options *o, struct registry_client **ret) {
        struct registry_client *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->o = *o;
        if (c->o.connect_timeout_ms <= 0)
                c->o.connect_timeout_ms = 5000;
        if (c->o.request_timeout_ms <= 0)
                c->o.request_timeout_ms = 20000;
        if (c->o.max_attempts == 0)
                c->o.max_attempts = 3;
        if (c->o.deadline_ms <= 0)
                c->o.deadline_ms = 30000;
        *ret = c;
        return 0;
}

struct registry_client *registry_client_free(struct registry_client *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_origins; i++) {
                free(c->origins[i].origin);
                http_client_free(c->origins[i].http);
        }
        for (size_t i = 0; i < c->n_tokens; i++) {
                free(c->tokens[i].key);
                if (c->tokens[i].token)
                        explicit_bzero(c->tokens[i].token, strlen(c->tokens[i].token));
                free(c->tokens[i].token);
        }
        free(c->origins);
        free(c->tokens);
        free(c);
        return NULL;
}

int registry_fail(int r, char **ret_cause, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        r = cause_vfmt(ret_cause, r, fmt, ap);
        va_end(ap);
        return r;
}

uint64_t registry_client_requests(const struct registry_client *c) {
        return c->requests;
}

uint64_t registry_client_heads(const struct registry_client *c) {
        return c->heads;
}

int registry_query_escape(const char *s, char **ret) {
        char *o = malloc(strlen(s) * 3 + 1), *p = o;

        if (!o)
                return -ENOMEM;
        for (; *s; s++) {
                if (isalnum((unsigned char) *s) || strchr("-._~", *s))
                        *p++ = *s;
                else
                        p += sprintf(p, "%%%02X", (unsigned char) *s);
        }
        *p = 0;
        *ret = o;
        return 0;
}

/* Splits "scheme://host[:port]/path?q" into a new origin and a borrowed path ("/" when
 * empty is returned as ""). */
int registry_split_url(const char *url, char **ret_origin, const char **ret_path) {
        const char *p = startswith(url, "https://") ?: startswith(url, "http://");
        size_t n;

        if (!p || !*p)
                return -EINVAL;
        n = strcspn(p, "/?#");
        if (n == 0)
                return -EINVAL;
        *ret_origin = strndup(url, (size_t) (p - url) + n);
        if (!*ret_origin)
                return -ENOMEM;
        *ret_path = p + n;
        return 0;
}

static int origin_new(struct registry_client *c, const char *origin, struct http_client **ret) {
        _cleanup_(freep) char *ca = NULL, *cause = NULL;
        struct http_options ho;
        const char *ca_file = registry_hosts_ca(c->o.hosts, origin);
        struct registry_origin *v;
        size_t ca_len = 0;
        int r;

        if (ca_file) {
                r = read_full_file(ca_file, CA_FILE_MAX, &ca, &ca_len);
                if (r < 0) {
                        if (c->o.log)
                                c->o.log(c->o.log_userdata, LOG_WARNING, "cannot read CA file '%s': %s",
                                         ca_file, strerror(-r));
                        return r;
                }
        }
        http_options_init(&ho);
        ho.base_url = origin;
        ho.ca_pem = ca;
        ho.ca_len = ca_len;
        ho.connect_timeout_ms = c->o.connect_timeout_ms;
        ho.request_timeout_ms = c->o.request_timeout_ms;
        ho.max_attempts = c->o.max_attempts;
        ho.deadline_ms = c->o.deadline_ms;
        ho.qps = 0;
        ho.log = c->o.log;
        ho.log_userdata = c->o.log_userdata;
        v = realloc(c->origins, (c->n_origins + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        c->origins = v;
        v[c->n_origins] = (struct registry_origin) { .origin = strdup(origin) };
        if (!v[c->n_origins].origin)
                return -ENOMEM;
        r = http_client_new(&ho, &v[c->n_origins].http, &cause);
        if (r < 0) {
                free(v[c->n_origins].origin);
                return r;
        }
        *ret = v[c->n_origins++].http;
        return 0;
}

static int origin_client(struct registry_client *c, const char *origin, struct http_client **ret) {
        for (size_t i = 0; i < c->n_origins; i++)
                if (streq(c->origins[i].origin, origin)) {
                        *ret = c->origins[i].http;
                        return 0;
                }
        return origin_new(c, origin, ret);
}

/* Sends req to url's origin; req->path is replaced by url's path. */
int registry_send(struct registry_client *c, const char *url, struct http_request *req,
                  struct http_response *resp) {
        _cleanup_(freep) char *origin = NULL;
        struct http_client *h;
        const char *path;
        int r;

        http_response_done(resp);
        r = registry_split_url(url, &origin, &path);
        if (r < 0)
                return r;
        r = origin_client(c, origin, &h);
        if (r < 0)
                return r;
        req->path = *path ? path : "/";
        c->requests++;
        c->heads += streq(req->method, "HEAD");
        return http_request(h, req, resp);
}

static struct registry_token *token_find(struct registry_client *c, const char *key) {
        for (size_t i = 0; i < c->n_tokens; i++)
                if (streq(c->tokens[i].key, key))
                        return &c->tokens[i];
        return NULL;
}

static int token_store(struct registry_client *c, const char *key, char *token, bool basic) {
        struct registry_token *t = token_find(c, key), *v;

        if (!t) {
                v = realloc(c->tokens, (c->n_tokens + 1) * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                c->tokens = v;
                t = &v[c->n_tokens];
                *t = (struct registry_token) { .key = strdup(key) };
                if (!t->key)
                        return -ENOMEM;
                c->n_tokens++;
        }
        if (t->token)
                explicit_bzero(t->token, strlen(t->token));
        free(t->token);
        t->token = token;
        t->basic = basic;
        return 0;
}

/* The credentials for an endpoint: those of its own host, else the registry's. */
static const struct registry_cred *creds_for(struct registry_client *c, const char *endpoint,
                                             const char *registry) {
        _cleanup_(freep) char *origin = NULL;
        const struct registry_cred *cr = NULL;
        const char *path, *host;

        if (registry_split_url(endpoint, &origin, &path) == 0) {
                host = strstr(origin, "://") + 3;
                cr = registry_creds_find(c->o.creds, host);
        }
        return cr ?: registry_creds_find(c->o.creds, registry);
}

/* GETs a token from the challenge's realm for repository:<repo>:pull (or the challenge's
 * own scope), with the credentials as basic auth when there are any. */
static int fetch_token(struct registry_client *c, const struct registry_challenge *ch,
                       const struct registry_cred *cr, const char *repo, char **ret, char **ret_cause) {
        _cleanup_(freep) char *url = NULL, *svc = NULL, *scope = NULL, *own = NULL;
        _cleanup_(http_response_done) struct http_response resp = {};
        struct http_request req = { .method = "GET", .retry = HTTP_RETRY_IDEMPOTENT };
        int64_t expires;
        int r;

        if (isempty(ch->realm) || !(startswith(ch->realm, "https://") || startswith(ch->realm, "http://")))
                return registry_fail(-EACCES, ret_cause, "bearer challenge without a usable realm");
        if (!ch->scope && asprintf(&own, "repository:%s:pull", repo) < 0)
                return -ENOMEM;
        if (registry_query_escape(strempty(ch->service), &svc) < 0 ||
            registry_query_escape(ch->scope ?: own, &scope) < 0)
                return -ENOMEM;
        if (asprintf(&url, "%s%sservice=%s&scope=%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?",
                     svc, scope) < 0)
                return -ENOMEM;
        if (cr && !isempty(cr->username)) {
                req.username = cr->username;
                req.password = cr->password;
        }
        r = registry_send(c, url, &req, &resp);
        if (r < 0)
                return registry_fail(r, ret_cause, "token service: %s", resp.error_text ?: strerror(-r));
        if (resp.status == 401 || resp.status == 403)
                return registry_fail(-EACCES, ret_cause, "token service refused the %s (HTTP %ld)",
                                     req.username ? "credentials" : "anonymous request", resp.status);
        if (resp.status != 200)
                return registry_fail(-EBADMSG, ret_cause, "token service answered HTTP %ld", resp.status);
        r = registry_token_parse(resp.body, resp.body_len, ret, &expires, ret_cause);
        return r == -EINVAL ? -EBADMSG : r;
}

/* After a 401: obtains what the next attempt sends. Returns 0 or a negative errno. */
static int authorize(struct registry_client *c, const char *key, const char *challenge,
                     const char *endpoint, const char *registry, const char *repo, char **ret_cause) {
        _cleanup_(registry_challenge_done) struct registry_challenge ch = {};
        const struct registry_cred *cr = creds_for(c, endpoint, registry);
        char *token = NULL;
        int r;

        if (!challenge || registry_challenge_parse(challenge, &ch, NULL) < 0)
                return registry_fail(-EACCES, ret_cause, "unauthorized, without a usable WWW-Authenticate challenge");
        if (strcasecmp(ch.scheme, "Basic") == 0) {
                if (!cr)
                        return registry_fail(-EACCES, ret_cause,
                                             "unauthorized: basic auth and no pull secret for '%s'", registry);
                return token_store(c, key, NULL, true);
        }
        if (strcasecmp(ch.scheme, "Bearer") != 0)
                return registry_fail(-EACCES, ret_cause, "unsupported authentication scheme '%s'", ch.scheme);
        r = fetch_token(c, &ch, cr, repo, &token, ret_cause);
        if (r < 0)
                return r;
        return token_store(c, key, token, false);
}

/* One request to one endpoint, with auth: at most one new authorisation per call. */
static int endpoint_request(struct registry_client *c, const char *endpoint, const char *registry,
                            const char *repo, struct http_request *req, const char *path,
                            struct http_response *resp, char **ret_cause) {
        static const char *const want[] = { "Docker-Content-Digest", "WWW-Authenticate", "Content-Length", NULL };
        _cleanup_(freep) char *url = NULL, *key = NULL;
        const struct registry_cred *cr = creds_for(c, endpoint, registry);
        struct registry_token *t;
        int r;

        if (asprintf(&url, "%s%s", endpoint, path) < 0 || asprintf(&key, "%s/%s", endpoint, repo) < 0)
                return -ENOMEM;
        req->want_headers = want;
        for (int pass = 0;; pass++) {
                t = token_find(c, key);
                req->bearer_token = t && !t->basic ? t->token : NULL;
                req->username = t && t->basic && cr ? cr->username : NULL;
                req->password = t && t->basic && cr ? cr->password : NULL;
                r = registry_send(c, url, req, resp);
                if (r < 0 || resp->status != 401 || pass > 0)
                        return r;
                r = authorize(c, key, resp->headers[REGISTRY_H_AUTHENTICATE], endpoint, registry, repo, ret_cause);
                if (r < 0)
                        return r;
                http_response_done(resp);
        }
}

static int status_errno(long status) {
        if (status >= 200 && status < 300)
                return 0;
        if (status == 404)
                return -ENOENT;
        if (status == 401 || status == 403)
                return -EACCES;
        return -EBADMSG;
}

int registry_request(struct registry_client *c, const char *registry, const char *repo,
                     const char *method, const char *path, const char *accept,
                     struct http_response *resp, char **ret_cause) {
        _cleanup_(strv_freep) char **eps = NULL;
        int r;

        r = registry_hosts_endpoints(c->o.hosts, registry, &eps);
        if (r < 0)
                return r;
        for (char **e = eps; *e; e++) {
                struct http_request req = { .method = method, .accept = accept, .retry = HTTP_RETRY_IDEMPOTENT,
                                            .follow_redirects = streq(method, "GET") };
                http_response_done(resp);
                r = endpoint_request(c, *e, registry, repo, &req, path, resp, ret_cause);
                if (r == 0 && resp->status < 500) {
                        r = status_errno(resp->status);
                        return r < 0 ? registry_fail(r, ret_cause, "%s %s%s: HTTP %ld", method, *e, path,
                                                     resp->status) : 0;
                }
                if (r == -EACCES || r == -ENOMEM)
                        return r;
                /* An endpoint that does not answer, or fails, leaves the next one to try. */
                if (r == 0)
                        r = registry_fail(-EHOSTUNREACH, ret_cause, "%s %s%s: HTTP %ld", method, *e, path,
                                          resp->status);
                else
                        (void) registry_fail(r, ret_cause, "%s: %s", *e, resp->error_text ?: strerror(-r));
                if (c->o.log && e[1])
                        c->o.log(c->o.log_userdata, LOG_INFO, "registry endpoint '%s' failed, trying '%s'", *e, e[1]);
        }
        return r;
}
