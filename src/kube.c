/* SPDX-License-Identifier: MIT */
/* Kubernetes operations: paths and query strings, authentication per request (with one
 * refresh after a 401), streaming lists and watches, Status -> errno. */
#define _GNU_SOURCE 1
#include <config.h> /* autoconf's, not src/config.h */

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json-stream.h"
#include "kube.h"
#include "macro.h"

#define DEFAULT_PAGE 500
#define MAX_RESTARTS 3
#define APPS "/apis/apps/v1/namespaces/"

struct kube_client {
        struct kube_target *target;
        struct http_client *http;
        struct kube_error last;
};

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

_printf_(3, 4) static void set_error(struct kube_client *k, int code, const char *fmt, ...) {
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
static int query_add(char **path, const char *name, const char *value) {
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
static int object_path(const char *prefix, const char *ns, const char *suffix, const char *name,
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
                set_error(k, 0, "%s", cause ?: "cannot obtain credentials");
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
static int kube_send(struct kube_client *k, struct http_request *q, struct http_response *resp,
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
                        set_error(k, 0, "%s", resp->error_text ?: "request failed");
                        return transport_errno(r);
                }
                if (resp->status != 401)
                        break;
        }
        if (resp->status >= 200 && resp->status < 300)
                return 0;
        return response_errno(k, resp, create);
}

static int parse_body(struct kube_client *k, const struct http_response *resp, json_object **ret) {
        json_tokener *tok = json_tokener_new();
        json_object *o;

        if (!tok)
                return -ENOMEM;
        o = resp->body ? json_tokener_parse_ex(tok, resp->body, (int) resp->body_len) : NULL;
        if (json_tokener_get_error(tok) != json_tokener_success || !o) {
                json_tokener_free(tok);
                json_object_put(o);
                set_error(k, (int) resp->status, "malformed JSON in the API server's response");
                return -EBADMSG;
        }
        json_tokener_free(tok);
        *ret = o;
        return 0;
}

/* A buffered GET of path, parsed. */
static int kube_get_json(struct kube_client *k, const char *path, json_object **ret) {
        _cleanup_(http_response_done) struct http_response resp = {};
        struct http_request q = { .method = "GET", .path = path, .retry = HTTP_RETRY_IDEMPOTENT };
        int r;

        r = kube_send(k, &q, &resp, false);
        if (r < 0)
                return r;
        return parse_body(k, &resp, ret);
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
        return parse_body(k, &resp, ret);
}

/* ---- paginated lists, one item at a time ---- */

struct list_run {
        struct kube_client *k;
        struct json_items *items;
        json_item_fn on_item;
        void *item_userdata;
        char *next;  /* metadata.continue of the current page */
        char *rv;    /* metadata.resourceVersion */
        int stopped; /* a callback's (or the reader's) error */
};

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
        if (query_add(&p, "labelSelector", lo ? lo->label_selector : NULL) < 0 ||
            query_add(&p, "fieldSelector", lo ? lo->field_selector : NULL) < 0 ||
            query_add(&p, "continue", cont) < 0)
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
        if (l->stopped < 0 && l->stopped != -EBADMSG)
                return l->stopped;
        if (r >= 0 || l->stopped == -EBADMSG)
                r = l->stopped < 0 ? l->stopped : json_items_finish(l->items);
        if (r == -EBADMSG)
                set_error(l->k, (int) resp.status, "malformed list from the API server at %s", path);
        return r;
}

static int list_all(struct kube_client *k, const char *base, const struct kube_list_options *lo,
                    json_item_fn on_item, void *item_userdata, kube_reset_fn on_reset,
                    void *userdata, char **ret_rv) {
        struct list_run l = { .k = k, .on_item = on_item, .item_userdata = item_userdata };
        _cleanup_(freep) char *cont = NULL;
        unsigned restarts = 0;
        int r;

        for (;;) {
                r = list_page(&l, base, lo, cont);
                if (r == -ESTALE && cont && restarts++ < MAX_RESTARTS) {
                        /* The continue token expired: the list starts over. */
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

        return list_all(k, "/api/v1/nodes", lo, node_item, &nl, on_reset, userdata,
                        ret_resource_version);
}

int kube_get_node(struct kube_client *k, const char *name, const struct kube_node_filter *f,
                  struct node_info *ret, char **ret_resource_version) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(freep) char *path = NULL, *rv = NULL;
        int r;

        if (object_path("/api/v1/nodes", NULL, "", name, &path) < 0)
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
        const char *s;

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
        s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        *ret = s ? strdup(s) : NULL;
        return *ret ? 0 : -ENOMEM;
}

int kube_patch_node(struct kube_client *k, const char *name, const struct kube_meta_patch *p,
                    const char *resource_version) {
        _cleanup_(http_response_done) struct http_response resp = {};
        _cleanup_(freep) char *path = NULL, *body = NULL;
        struct http_request q = { .method = "PATCH", .retry = HTTP_RETRY_IDEMPOTENT,
                                  .content_type = "application/merge-patch+json" };

        if (object_path("/api/v1/nodes", NULL, "", name, &path) < 0 ||
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

        if (object_path("/api/v1/nodes", NULL, "", name, &path) < 0)
                return -ENOMEM;
        *q = (struct http_request) { .method = "PATCH", .path = path, .body = body,
                                     .body_len = strlen(body), .retry = HTTP_RETRY_IDEMPOTENT,
                                     .content_type = "application/merge-patch+json" };
        return 0;
}

#define BULK_TODO 1

/* kube_update_node() callback of kube_patch_nodes(): the patch does not depend on what
 * was read. */
static int same_patch(const struct node_info *n, struct kube_meta_patch *ret, void *userdata) {
        *ret = *(const struct kube_meta_patch *) userdata;
        return 0;
}

/* Sends the requests whose results[i] is BULK_TODO; refresh renews credentials first. */
static int bulk_round(struct kube_client *k, struct http_request *qs, size_t n, int *results,
                      bool refresh) {
        _cleanup_(freep) struct http_response *resps = calloc(n, sizeof(*resps));
        _cleanup_(freep) struct http_request *todo = calloc(n, sizeof(*todo));
        _cleanup_(freep) size_t *idx = calloc(n, sizeof(*idx));
        size_t m = 0;
        int r;

        if (!resps || !todo || !idx)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (results[i] == BULK_TODO) {
                        r = fill_auth(k, &qs[i], refresh && m == 0);
                        if (r < 0)
                                return r;
                        idx[m] = i;
                        todo[m++] = qs[i];
                }
        r = http_request_many(k->http, todo, resps, m);
        for (size_t j = 0; j < m && r >= 0; j++) {
                struct http_response *resp = &resps[j];

                if (resp->error < 0) {
                        set_error(k, 0, "%s", resp->error_text ?: "request failed");
                        results[idx[j]] = transport_errno(resp->error);
                } else if (resp->status == 401 && !refresh)
                        results[idx[j]] = BULK_TODO; /* next round, with fresh credentials */
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
                results[i] = BULK_TODO;
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
                if (results[i] == BULK_TODO)
                        results[i] = r < 0 ? r : -EACCES;
                if (r >= 0 && results[i] < 0)
                        r = results[i];
        }
        return r;
}

/* ---- DaemonSets ---- */

int kube_get_daemonset(struct kube_client *k, const char *namespace, const char *name,
                       const char *label_key, struct kube_daemonset *ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        if (object_path(APPS, namespace, "/daemonsets", name, &path) < 0)
                return -ENOMEM;
        r = kube_get_json(k, path, &o);
        if (r < 0)
                return r;
        return kube_decode_daemonset(o, label_key, ret);
}

/* After a create whose fate is unknown: does the object exist now? */
static int create_settle(struct kube_client *k, const char *namespace, const char *manifest,
                         struct kube_daemonset *ret, int r) {
        _cleanup_(json_object_putp) json_object *m = json_tokener_parse(manifest);
        struct kube_daemonset d = {};
        const char *name = KUBE_STR(m, "metadata", "name");
        _cleanup_(freep) char *saved = NULL;

        if (!name)
                return r;
        saved = k->last.message ? strdup(k->last.message) : NULL;
        if (kube_get_daemonset(k, namespace, name, NULL, &d) < 0) {
                set_error(k, 0, "%s", saved ?: "create failed");
                return r;
        }
        if (ret)
                *ret = d;
        else
                kube_daemonset_done(&d);
        return 0;
}

static int create_once(struct kube_client *k, const char *namespace, const char *manifest,
                       struct kube_daemonset *ret) {
        _cleanup_(http_response_done) struct http_response resp = {};
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(freep) char *path = NULL;
        struct http_request q = { .method = "POST", .retry = HTTP_RETRY_UNSAFE,
                                  .content_type = "application/json", .body = manifest,
                                  .body_len = strlen(manifest) };
        int r;

        if (object_path(APPS, namespace, "/daemonsets", NULL, &path) < 0)
                return -ENOMEM;
        q.path = path;
        r = kube_send(k, &q, &resp, true);
        if (r < 0 && resp.status == 0 && resp.maybe_sent)
                return create_settle(k, namespace, manifest, ret, r);
        if (r < 0 || !ret)
                return r;
        r = parse_body(k, &resp, &o);
        if (r < 0)
                return r;
        return kube_decode_daemonset(o, NULL, ret);
}

#define CREATE_ATTEMPTS 4

int kube_create_daemonset(struct kube_client *k, const char *namespace, const char *manifest,
                          struct kube_daemonset *ret) {
        int r;

        for (unsigned attempt = 1;; attempt++) {
                r = create_once(k, namespace, manifest, ret);
                if (r != -EAGAIN || attempt >= CREATE_ATTEMPTS)
                        return r;
                /* A 5xx (or 429 without Retry-After) to a create: it may have happened.
                 * When the object is there now, done; else a named object is safe to ask
                 * for again (a copy would be refused with 409). Found by the reliability
                 * suite: one 503 used to fail the whole preload. */
                if (create_settle(k, namespace, manifest, ret, r) == 0)
                        return 0;
                (void) usleep((useconds_t) http_backoff_ms(attempt, 250, 4000, (uint32_t) random()) * 1000);
        }
}

struct ds_list {
        const char *label_key;
        struct kube_daemonset *a;
        size_t n;
};

static int ds_item(json_object *o, void *userdata) {
        struct list_run *l = userdata;
        struct ds_list *dl = l->item_userdata;
        struct kube_daemonset *a = realloc(dl->a, (dl->n + 1) * sizeof(*a));

        if (!a)
                return -ENOMEM;
        dl->a = a;
        a[dl->n] = (struct kube_daemonset) {};
        if (kube_decode_daemonset(o, dl->label_key, &a[dl->n]) < 0)
                return 0; /* a nameless object: skip it */
        dl->n++;
        return 0;
}

static void ds_reset(void *userdata) {
        struct ds_list *dl = userdata;

        kube_daemonset_array_free(dl->a, dl->n);
        dl->a = NULL;
        dl->n = 0;
}

int kube_list_daemonsets(struct kube_client *k, const char *namespace, const char *label_selector,
                         const char *label_key, struct kube_daemonset **ret, size_t *ret_n,
                         char **ret_resource_version) {
        struct kube_list_options lo = { .label_selector = label_selector };
        struct ds_list dl = { .label_key = label_key };
        _cleanup_(freep) char *base = NULL;
        int r;

        if (object_path(APPS, namespace, "/daemonsets", NULL, &base) < 0)
                return -ENOMEM;
        r = list_all(k, base, &lo, ds_item, &dl, ds_reset, &dl, ret_resource_version);
        if (r < 0) {
                ds_reset(&dl);
                return r;
        }
        *ret = dl.a;
        *ret_n = dl.n;
        return 0;
}

int kube_delete_daemonset(struct kube_client *k, const char *namespace, const char *name,
                          const char *propagation) {
        _cleanup_(http_response_done) struct http_response resp = {};
        _cleanup_(freep) char *path = NULL;
        struct http_request q = { .method = "DELETE", .retry = HTTP_RETRY_IDEMPOTENT };

        if (object_path(APPS, namespace, "/daemonsets", name, &path) < 0 ||
            query_add(&path, "propagationPolicy", propagation) < 0)
                return -ENOMEM;
        q.path = path;
        return kube_send(k, &q, &resp, false);
}

/* ---- pods ---- */

struct pod_list {
        const char *const *keys;
        size_t n_keys;
        kube_pod_fn on_pod;
        void *userdata;
};

static int pod_item(json_object *o, void *userdata) {
        struct list_run *l = userdata;
        struct pod_list *pl = l->item_userdata;
        struct kube_pod p = {};
        int r;

        r = kube_decode_pod(o, pl->keys, pl->n_keys, &p);
        if (r < 0)
                return r;
        r = pl->on_pod(&p, pl->userdata);
        kube_pod_done(&p);
        return r;
}

int kube_list_pods(struct kube_client *k, const char *namespace, const struct kube_list_options *lo,
                   const char *const *label_keys, size_t n_label_keys, kube_pod_fn on_pod,
                   kube_reset_fn on_reset, void *userdata, char **ret_resource_version) {
        struct pod_list pl = { .keys = label_keys, .n_keys = n_label_keys, .on_pod = on_pod,
                               .userdata = userdata };
        _cleanup_(freep) char *base = NULL;

        if (object_path("/api/v1/namespaces/", namespace, "/pods", NULL, &base) < 0)
                return -ENOMEM;
        return list_all(k, base, lo, pod_item, &pl, on_reset, userdata, ret_resource_version);
}

/* ---- small reads ---- */

int kube_get_version(struct kube_client *k, char **ret_git_version) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *v;
        int r;

        r = kube_get_json(k, "/version", &o);
        if (r < 0)
                return r;
        v = KUBE_STR(o, "gitVersion");
        if (!v) {
                set_error(k, 200, "/version has no gitVersion");
                return -EBADMSG;
        }
        *ret_git_version = strdup(v);
        return *ret_git_version ? 0 : -ENOMEM;
}

int kube_cluster_id(struct kube_client *k, char **ret_uid) {
        static const char *const namespaces[] = { "kube-system", "default" };
        int r = -ENOENT;

        for (size_t i = 0; i < ELEMENTSOF(namespaces); i++) {
                _cleanup_(json_object_putp) json_object *o = NULL;
                _cleanup_(freep) char *path = NULL;
                const char *uid;

                if (object_path("/api/v1/namespaces", NULL, "", namespaces[i], &path) < 0)
                        return -ENOMEM;
                r = kube_get_json(k, path, &o);
                if (r == -ENOENT)
                        continue; /* forbidden is final: the caller names kube-system */
                if (r < 0)
                        return r;
                uid = KUBE_STR(o, "metadata", "uid");
                if (!uid) {
                        r = -EBADMSG;
                        continue;
                }
                *ret_uid = strdup(uid);
                return *ret_uid ? 0 : -ENOMEM;
        }
        return r;
}

/* ---- watch ---- */

struct watch_run {
        struct kube_client *k;
        enum kube_kind kind;
        const struct kube_watch_options *wo;
        kube_event_fn on_event;
        void *userdata;
        struct json_values *values;
        char *rv;
        int stopped;
};

static int watch_error_event(struct watch_run *w, json_object *status) {
        const char *s = json_object_to_json_string_ext(status, JSON_C_TO_STRING_PLAIN);
        int code;

        kube_error_done(&w->k->last);
        if (kube_decode_error(0, s, strlen(strempty(s)), &w->k->last) < 0)
                return -ENOMEM;
        code = w->k->last.code;
        /* 410 Gone/Expired: the resourceVersion is too old. Anything else is a failure. */
        return code == 410 ? -ESTALE : kube_errno_from_status(code ?: 500, w->k->last.reason, false);
}

static int watch_object(struct watch_run *w, struct kube_event *e, json_object *obj) {
        struct kube_pod pod = {};
        struct kube_daemonset ds = {};
        int r;

        if (w->kind == KUBE_KIND_POD) {
                r = kube_decode_pod(obj, w->wo->label_keys, w->wo->n_label_keys, &pod);
                e->pod = &pod;
        } else {
                r = kube_decode_daemonset(obj, w->wo->label_key, &ds);
                e->daemonset = &ds;
        }
        if (r >= 0)
                r = w->on_event(e, w->userdata);
        else if (r == -EBADMSG)
                r = 0; /* nothing we can name: skip */
        /* e outlives the objects decoded on this stack frame */
        e->pod = NULL;
        e->daemonset = NULL;
        kube_pod_done(&pod);
        kube_daemonset_done(&ds);
        return r;
}

static int watch_value(json_object *v, void *userdata) {
        struct watch_run *w = userdata;
        const char *type = KUBE_STR(v, "type"), *rv;
        json_object *obj = NULL;
        struct kube_event e = { .kind = w->kind };

        if (!type || !json_object_object_get_ex(v, "object", &obj))
                return -EBADMSG;
        if (streq(type, "ERROR"))
                return watch_error_event(w, obj);
        rv = KUBE_STR(obj, "metadata", "resourceVersion");
        if (rv && free_and_strdup(&w->rv, rv) < 0)
                return -ENOMEM;
        e.resource_version = w->rv;
        if (streq(type, "BOOKMARK")) {
                e.type = KUBE_BOOKMARK;
                return w->on_event(&e, w->userdata);
        }
        e.type = streq(type, "ADDED") ? KUBE_ADDED : streq(type, "MODIFIED") ? KUBE_MODIFIED :
                 streq(type, "DELETED") ? KUBE_DELETED : -1;
        if ((int) e.type < 0)
                return 0; /* a type from the future: ignore */
        return watch_object(w, &e, obj);
}

static int watch_data(const char *data, size_t len, void *userdata) {
        struct watch_run *w = userdata;
        int r = json_values_feed(w->values, data, len);

        if (r < 0)
                w->stopped = r;
        return r;
}

static int watch_path(enum kube_kind kind, const char *namespace, const struct kube_watch_options *wo,
                      char **ret) {
        _cleanup_(freep) char *p = NULL;

        if (object_path(kind == KUBE_KIND_POD ? "/api/v1/namespaces/" : APPS, namespace,
                        kind == KUBE_KIND_POD ? "/pods" : "/daemonsets", NULL, &p) < 0)
                return -ENOMEM;
        if (asprintf(ret, "%s?watch=1&allowWatchBookmarks=true&timeoutSeconds=%u", p,
                     wo->timeout_s ? wo->timeout_s : 300) < 0)
                return -ENOMEM;
        if (query_add(ret, "resourceVersion", wo->resource_version) < 0 ||
            query_add(ret, "labelSelector", wo->label_selector) < 0 ||
            query_add(ret, "fieldSelector", wo->field_selector) < 0)
                return -ENOMEM;
        return 0;
}

int kube_watch(struct kube_client *k, enum kube_kind kind, const char *namespace,
               const struct kube_watch_options *wo, kube_event_fn on_event, void *userdata,
               char **ret_resource_version) {
        _cleanup_(http_response_done) struct http_response resp = {};
        _cleanup_(freep) char *path = NULL;
        struct watch_run w = { .k = k, .kind = kind, .wo = wo, .on_event = on_event,
                               .userdata = userdata };
        struct http_request q = { .method = "GET", .retry = HTTP_RETRY_IDEMPOTENT,
                                  .on_data = watch_data, .userdata = &w };
        int r;

        if (watch_path(kind, namespace, wo, &path) < 0)
                return -ENOMEM;
        q.path = path;
        /* The server ends the call after timeoutSeconds; allow it some slack. */
        q.timeout_ms = ((long) (wo->timeout_s ? wo->timeout_s : 300) + 30) * 1000;
        w.values = json_values_new(watch_value, &w);
        if (!w.values || (wo->resource_version && !(w.rv = strdup(wo->resource_version)))) {
                json_values_free(w.values);
                return -ENOMEM;
        }
        r = kube_send(k, &q, &resp, false);
        if (w.stopped < 0)
                r = w.stopped;
        else if (r >= 0)
                r = json_values_finish(w.values);
        if (r == -EBADMSG && !k->last.message)
                set_error(k, (int) resp.status, "malformed watch stream from the API server");
        if (ret_resource_version && w.rv) {
                free(*ret_resource_version);
                *ret_resource_version = TAKE_PTR(w.rv);
        }
        json_values_free(w.values);
        free(w.rv);
        return r;
}
