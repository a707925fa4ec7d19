/* SPDX-License-Identifier: MIT */
/* Kubernetes operations: paths and query strings, authentication per request (with one
 * refresh after a 401), streaming lists and watches, Status -> errno. */
#define _GNU_SOURCE 1

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json-stream.h"
#include "kube-internal.h"
#include "kube.h"
#include "macro.h"

#define DEFAULT_PAGE 500
#define MAX_RESTARTS 3

int kube_client_new(struct kube_target *target, const struct http_options *o,
                    struct kube_client **ret, char **ret_cause) {
        _cleanup_(kube_client_freep) struct kube_client *k = NULL;
        struct http_options ho;
        int r;

        if (o)
                ho = *o;
        else
                http_options_init(&ho);
        ho.base_url = target->server;
        ho.ca_pem = target->ca_pem;
        ho.ca_len = target->ca_len;
        ho.insecure = target->insecure;
        ho.tls_server_name = target->tls_server_name;
        ho.proxy = target->proxy_url;
        ho.disable_compression = target->disable_compression;

        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        k->target = target;
        k->last.retry_after_s = -1;
        r = http_client_new(&ho, &k->http, ret_cause);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(k);
        return 0;
}

struct kube_client *kube_client_free(struct kube_client *k) {
        if (!k)
                return NULL;
        http_client_free(k->http);
        kube_error_done(&k->last);
        free(k);
        return NULL;
}

const struct kube_error *kube_last_error(const struct kube_client *k) {
        return &k->last;
}

struct http_client *kube_http(struct kube_client *k) {
        return k->http;
}

void kube_set_error(struct kube_client *k, int code, const char *fmt, ...) {
        va_list ap;

        kube_error_done(&k->last);
        k->last.code = code;
        va_start(ap, fmt);
        if (vasprintf(&k->last.message, fmt, ap) < 0)
                k->last.message = NULL;
        va_end(ap);
}

/* ---- paths ---- */

static int url_escape(const char *s, char **ret) {
        static const char hex[] = "0123456789ABCDEF";
        char *e = malloc(strlen(s) * 3 + 1), *p = e;

        if (!e)
                return -ENOMEM;
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~')
                        *p++ = (char) c;
                else {
                        *p++ = '%';
                        *p++ = hex[c >> 4];
                        *p++ = hex[c & 15];
                }
        }
        *p = 0;
        *ret = e;
        return 0;
}

/* Appends "&name=escaped(value)" (or '?' first) to *path when value is set. */
int kube_query_add(char **path, const char *name, const char *value) {
        _cleanup_(freep) char *esc = NULL;
        char *n;

        if (!value)
                return 0;
        if (url_escape(value, &esc) < 0 ||
            asprintf(&n, "%s%c%s=%s", *path, strchr(*path, '?') ? '&' : '?', name, esc) < 0)
                return -ENOMEM;
        free(*path);
        *path = n;
        return 0;
}

/* "prefix/name" with name escaped; name may be NULL for the collection. */
int kube_object_path(const char *prefix, const char *ns, const char *suffix, const char *name,
                       char **ret) {
        _cleanup_(freep) char *ens = NULL, *ename = NULL;

        if ((ns && url_escape(ns, &ens) < 0) || (name && url_escape(name, &ename) < 0))
                return -ENOMEM;
        if (asprintf(ret, "%s%s%s%s%s", prefix, strempty(ens), suffix, name ? "/" : "",
                     strempty(ename)) < 0)
                return -ENOMEM;
        return 0;
}

/* ---- requests ---- */

static int fill_auth(struct kube_client *k, struct http_request *q, bool refresh) {
        _cleanup_(freep) char *cause = NULL;
        struct kube_auth a = {};
        int r;

        r = kube_target_auth(k->target, refresh, &a, &cause);
        if (r < 0) {
                kube_set_error(k, 0, "%s", cause ?: "cannot obtain credentials");
                return r;
        }
        q->bearer_token = a.token;
        q->username = a.username;
        q->password = a.password;
        q->cert_pem = a.cert_pem;
        q->cert_len = a.cert_len;
        q->key_pem = a.key_pem;
        q->key_len = a.key_len;
        return 0;
}

static int transport_errno(int r) {
        /* Timeouts and resets that outlived the retries are "try later". */
        return (r == -ETIMEDOUT || r == -ECONNRESET || r == -EIO) ? -EAGAIN : r;
}

/* Records a non-2xx response in k->last and maps it. */
static int response_errno(struct kube_client *k, const struct http_response *resp, bool create) {
        kube_error_done(&k->last);
        if (kube_decode_error(resp->status, resp->body, resp->body_len, &k->last) < 0)
                return -ENOMEM;
        if (!k->last.message &&
            asprintf(&k->last.message, "HTTP %ld from the API server", resp->status) < 0)
                k->last.message = NULL;
        return kube_errno_from_status(resp->status, k->last.reason, create);
}

/* Sends q with credentials; after a 401 refreshes them and tries once more. Returns 0 on
 * 2xx, else a negative errno with k->last set. A streaming callback's own error comes
 * back as is. resp is the caller's to release. */
int kube_send(struct kube_client *k, struct http_request *q, struct http_response *resp,
                     bool create) {
        int r;

        kube_error_done(&k->last);
        for (unsigned i = 0; i < 2; i++) {
                r = fill_auth(k, q, i > 0);
                if (r < 0)
                        return r;
                http_response_done(resp);
                r = http_request(k->http, q, resp);
                if (r < 0 && resp->streamed && resp->status >= 200 && resp->status < 300)
                        return r; /* the callback stopped the stream */
                if (r < 0) {
                        kube_set_error(k, 0, "%s", resp->error_text ?: "request failed");
                        return transport_errno(r);
                }
                if (resp->status != 401)
                        break;
        }
        if (resp->status >= 200 && resp->status < 300)
                return 0;
        return response_errno(k, resp, create);
}

int kube_parse_body(struct kube_client *k, const struct http_response *resp, json_object **ret) {
        json_tokener *tok = json_tokener_new();
        json_object *o;

        if (!tok)
                return -ENOMEM;
        o = resp->body ? json_tokener_parse_ex(tok, resp->body, (int) resp->body_len) : NULL;
        if (json_tokener_get_error(tok) != json_tokener_success || !o) {
                json_tokener_free(tok);
                json_object_put(o);
                kube_set_error(k, (int) resp->status, "malformed JSON in the API server's response");
                return -EBADMSG;
        }
        json_tokener_free(tok);
        *ret = o;
        return 0;
}

/* A buffered GET of path, parsed. */
int kube_get_json(struct kube_client *k, const char *path, json_object **ret) {
        _cleanup_(http_response_done) struct http_response resp = {};
        struct http_request q = { .method = "GET", .path = path, .retry = HTTP_RETRY_IDEMPOTENT };
        int r;

        r = kube_send(k, &q, &resp, false);
        if (r < 0)
                return r;
        return kube_parse_body(k, &resp, ret);
}

int kube_post_json(struct kube_client *k, const char *path, const char *body, json_object **ret) {
        _cleanup_(http_response_done) struct http_response resp = {};
        struct http_request q = {
                .method = "POST", .path = path, .content_type = "application/json",
                .body = body, .body_len = strlen(body),
                /* Only for requests without side effects (reviews): safe to repeat. */
                .retry = HTTP_RETRY_IDEMPOTENT,
        };
        int r;

        r = kube_send(k, &q, &resp, true);
        if (r < 0)
                return r;
        return kube_parse_body(k, &resp, ret);
}

/* ---- paginated lists, one item at a time ---- */

static int list_member(const char *key, json_object *value, void *userdata) {
        struct list_run *l = userdata;
        const char *c, *rv;

        if (!streq(key, "metadata"))
                return 0;
        c = KUBE_STR(value, "continue");
        rv = KUBE_STR(value, "resourceVersion");
        if (free_and_strdup(&l->next, isempty(c) ? NULL : c) < 0 ||
            (rv && free_and_strdup(&l->rv, rv) < 0))
                return -ENOMEM;
        return 0;
}

static int list_data(const char *data, size_t len, void *userdata) {
        struct list_run *l = userdata;
        int r = json_items_feed(l->items, data, len);

        if (r < 0)
                l->stopped = r;
        return r;
}

static int list_page_path(const char *base, const struct kube_list_options *lo, const char *cont,
                          char **ret) {
        _cleanup_(freep) char *p = NULL;

        if (asprintf(&p, "%s?limit=%u", base, lo && lo->limit ? lo->limit : DEFAULT_PAGE) < 0)
                return -ENOMEM;
        if (kube_query_add(&p, "labelSelector", lo ? lo->label_selector : NULL) < 0 ||
            kube_query_add(&p, "fieldSelector", lo ? lo->field_selector : NULL) < 0 ||
            kube_query_add(&p, "continue", cont) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(p);
        return 0;
}

/* Fetches one page, feeding its items as they arrive. */
static int list_page(struct list_run *l, const char *base, const struct kube_list_options *lo,
                     const char *cont) {
        _cleanup_(http_response_done) struct http_response resp = {};
        _cleanup_(freep) char *path = NULL;
        struct http_request q = { .method = "GET", .retry = HTTP_RETRY_IDEMPOTENT,
                                  .on_data = list_data, .userdata = l };
        int r;

        if (list_page_path(base, lo, cont, &path) < 0)
                return -ENOMEM;
        q.path = path;
        json_items_free(l->items);
        l->items = json_items_new(l->on_item, list_member, l);
        if (!l->items)
                return -ENOMEM;
        free(l->next);
        l->next = NULL;
        l->stopped = 0;
        r = kube_send(l->k, &q, &resp, false);
        l->broken = r == -EAGAIN && resp.streamed;
        if (l->stopped < 0 && l->stopped != -EBADMSG)
                return l->stopped;
        if (r >= 0 || l->stopped == -EBADMSG)
                r = l->stopped < 0 ? l->stopped : json_items_finish(l->items);
        if (r == -EBADMSG)
                kube_set_error(l->k, (int) resp.status, "malformed list from the API server at %s", path);
        return r;
}

int kube_list_all(struct kube_client *k, const char *base, const struct kube_list_options *lo,
                    json_item_fn on_item, void *item_userdata, kube_reset_fn on_reset,
                    void *userdata, char **ret_rv) {
        struct list_run l = { .k = k, .on_item = on_item, .item_userdata = item_userdata };
        _cleanup_(freep) char *cont = NULL;
        unsigned restarts = 0;
        int r;

        for (;;) {
                r = list_page(&l, base, lo, cont);
                if (((r == -ESTALE && cont) || l.broken) && restarts++ < MAX_RESTARTS) {
                        /* The continue token expired, or the connection broke while the
                         * page streamed: the list starts over. */
                        if (on_reset)
                                on_reset(userdata);
                        free(cont);
                        cont = NULL;
                        continue;
                }
                if (r < 0 || !l.next)
                        break;
                free(cont);
                cont = TAKE_PTR(l.next);
        }
        if (r >= 0 && ret_rv)
                *ret_rv = TAKE_PTR(l.rv);
        json_items_free(l.items);
        free(l.next);
        free(l.rv);
        return r;
}

struct node_list {
        const struct kube_node_filter *f;
        kube_node_fn on_node;
        void *userdata;
};

static int node_item(json_object *o, void *userdata) {
        struct list_run *l = userdata;
        struct node_list *nl = l->item_userdata;
        struct node_info n = {};
        int r;

        r = kube_decode_node(o, nl->f, &n);
        if (r < 0)
                return r;
        r = nl->on_node(&n, nl->userdata);
        node_info_done(&n);
        return r;
}

int kube_list_nodes(struct kube_client *k, const struct kube_list_options *lo,
                    const struct kube_node_filter *f, kube_node_fn on_node,
                    kube_reset_fn on_reset, void *userdata, char **ret_resource_version) {
        struct node_list nl = { .f = f, .on_node = on_node, .userdata = userdata };

        return kube_list_all(k, "/api/v1/nodes", lo, node_item, &nl, on_reset, userdata,
                        ret_resource_version);
}

int kube_get_node(struct kube_client *k, const char *name, const struct kube_node_filter *f,
                  struct node_info *ret, char **ret_resource_version) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(freep) char *path = NULL, *rv = NULL;
        int r;

        if (kube_object_path("/api/v1/nodes", NULL, "", name, &path) < 0)
                return -ENOMEM;
        r = kube_get_json(k, path, &o);
        if (r < 0)
                return r;
        if (ret_resource_version && !(rv = strdup(strempty(KUBE_STR(o, "metadata", "resourceVersion")))))
                return -ENOMEM;
        r = kube_decode_node(o, f, ret);
        if (r < 0)
                return r;
        if (ret_resource_version)
                *ret_resource_version = TAKE_PTR(rv);
        return 0;
}

/* ---- node metadata patches ---- */

static int kv_object(const struct kube_kv *kv, size_t n, json_object **ret) {
        json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (json_object_object_add(o, kv[i].key, kv[i].value ? json_object_new_string(kv[i].value) : NULL) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
        *ret = o;
        return 0;
}

int kube_meta_patch_json(const struct kube_meta_patch *p, const char *rv, char **ret) {
        _cleanup_(json_object_putp) json_object *root = json_object_new_object();
        json_object *meta = json_object_new_object(), *l = NULL, *a = NULL;

        if (!root || !meta || json_object_object_add(root, "metadata", meta) < 0) {
                json_object_put(meta);
                return -ENOMEM;
        }
        if (p->n_labels > 0 && (kv_object(p->labels, p->n_labels, &l) < 0 ||
                                json_object_object_add(meta, "labels", l) < 0))
                return -ENOMEM;
        if (p->n_annotations > 0 && (kv_object(p->annotations, p->n_annotations, &a) < 0 ||
                                     json_object_object_add(meta, "annotations", a) < 0))
                return -ENOMEM;
        if (rv && json_object_object_add(meta, "resourceVersion", json_object_new_string(rv)) < 0)
                return -ENOMEM;
        return json_to_string(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, ret);
}

int kube_patch_node(struct kube_client *k, const char *name, const struct kube_meta_patch *p,
                    const char *resource_version) {
        _cleanup_(http_response_done) struct http_response resp = {};
        _cleanup_(freep) char *path = NULL, *body = NULL;
        struct http_request q = { .method = "PATCH", .retry = HTTP_RETRY_IDEMPOTENT,
                                  .content_type = "application/merge-patch+json" };

        if (kube_object_path("/api/v1/nodes", NULL, "", name, &path) < 0 ||
            kube_meta_patch_json(p, resource_version, &body) < 0)
                return -ENOMEM;
        q.path = path;
        q.body = body;
        q.body_len = strlen(body);
        return kube_send(k, &q, &resp, false);
}

int kube_update_node(struct kube_client *k, const char *name, const struct kube_node_filter *f,
                     kube_modify_fn modify, void *userdata, unsigned max_tries) {
        int r = -ESTALE;

        for (unsigned i = 0; i < (max_tries ? max_tries : 5) && r == -ESTALE; i++) {
                struct node_info n = {};
                struct kube_meta_patch p = {};
                _cleanup_(freep) char *rv = NULL;

                r = kube_get_node(k, name, f, &n, &rv);
                if (r < 0)
                        return r;
                r = modify(&n, &p, userdata);
                if (r == 0)
                        r = kube_patch_node(k, name, &p, rv);
                else if (r > 0)
                        r = 1;
                node_info_done(&n);
        }
        return r;
}

/* Builds the i-th request of a bulk patch. */
static int bulk_request(const char *name, const char *body, struct http_request *q) {
        char *path = NULL;

        if (kube_object_path("/api/v1/nodes", NULL, "", name, &path) < 0)
                return -ENOMEM;
        *q = (struct http_request) { .method = "PATCH", .path = path, .body = body,
                                     .body_len = strlen(body), .retry = HTTP_RETRY_IDEMPOTENT,
                                     .content_type = "application/merge-patch+json" };
        return 0;
}

#define BULK_PENDING 1

/* kube_update_node() callback of kube_patch_nodes(): the patch does not depend on what
 * was read. */
static int same_patch(const struct node_info *n, struct kube_meta_patch *ret, void *userdata) {
        *ret = *(const struct kube_meta_patch *) userdata;
        return 0;
}

/* Sends the requests whose results[i] is BULK_PENDING; refresh renews credentials first. */
static int bulk_round(struct kube_client *k, struct http_request *qs, size_t n, int *results,
                      bool refresh) {
        _cleanup_(freep) struct http_response *resps = calloc(n, sizeof(*resps));
        _cleanup_(freep) struct http_request *pending = calloc(n, sizeof(*pending));
        _cleanup_(freep) size_t *idx = calloc(n, sizeof(*idx));
        size_t m = 0;
        int r;

        if (!resps || !pending || !idx)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (results[i] == BULK_PENDING) {
                        r = fill_auth(k, &qs[i], refresh && m == 0);
                        if (r < 0)
                                return r;
                        idx[m] = i;
                        pending[m++] = qs[i];
                }
        r = http_request_many(k->http, pending, resps, m);
        for (size_t j = 0; j < m && r >= 0; j++) {
                struct http_response *resp = &resps[j];

                if (resp->error < 0) {
                        kube_set_error(k, 0, "%s", resp->error_text ?: "request failed");
                        results[idx[j]] = transport_errno(resp->error);
                } else if (resp->status == 401 && !refresh)
                        results[idx[j]] = BULK_PENDING; /* next round, with fresh credentials */
                else if (resp->status < 200 || resp->status >= 300)
                        results[idx[j]] = response_errno(k, resp, false);
                else
                        results[idx[j]] = 0;
        }
        for (size_t j = 0; j < m; j++)
                http_response_done(&resps[j]);
        return r;
}

int kube_patch_nodes(struct kube_client *k, const char *const *names, const struct kube_meta_patch *p,
                     size_t n, int *results) {
        _cleanup_(freep) struct http_request *qs = calloc(n ? n : 1, sizeof(*qs));
        _cleanup_(freep) char *body = NULL;
        int r = 0;

        if (!qs || kube_meta_patch_json(p, NULL, &body) < 0)
                return -ENOMEM;
        kube_error_done(&k->last);
        for (size_t i = 0; i < n; i++) {
                results[i] = BULK_PENDING;
                if (r >= 0)
                        r = bulk_request(names[i], body, &qs[i]);
        }
        for (unsigned round = 0; round < 2 && r >= 0; round++)
                r = bulk_round(k, qs, n, results, round > 0);
        /* 409 Conflict: another writer got there first. Read the node again and patch
         * with its resourceVersion as a precondition, starting over while it conflicts. */
        for (size_t i = 0; i < n && r >= 0; i++)
                if (results[i] == -ESTALE)
                        results[i] = MIN(0, kube_update_node(k, names[i], NULL, same_patch, (void *) p, 0));
        for (size_t i = 0; i < n; i++) {
                free((char *) qs[i].path);
                if (results[i] == BULK_PENDING)
                        results[i] = r < 0 ? r : -EACCES;
                if (r >= 0 && results[i] < 0)
                        r = results[i];
        }
        return r;
}
