/* SPDX-License-Identifier: MIT */
/* Kubernetes DaemonSets, pods, watches and small reads, over kube.c's requests and lists. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json-stream.h"
#include "kube-internal.h"
#include "kube.h"
#include "macro.h"

/* ---- DaemonSets ---- */

int kube_get_daemonset(struct kube_client *k, const char *namespace, const char *name,
                       const char *label_key, struct kube_daemonset *ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        if (kube_object_path(APPS, namespace, "/daemonsets", name, &path) < 0)
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
                kube_set_error(k, 0, "%s", saved ?: "create failed");
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

        if (kube_object_path(APPS, namespace, "/daemonsets", NULL, &path) < 0)
                return -ENOMEM;
        q.path = path;
        r = kube_send(k, &q, &resp, true);
        if (r < 0 && resp.status == 0 && resp.maybe_sent)
                return create_settle(k, namespace, manifest, ret, r);
        if (r < 0 || !ret)
                return r;
        r = kube_parse_body(k, &resp, &o);
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

        if (kube_object_path(APPS, namespace, "/daemonsets", NULL, &base) < 0)
                return -ENOMEM;
        r = kube_list_all(k, base, &lo, ds_item, &dl, ds_reset, &dl, ret_resource_version);
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

        if (kube_object_path(APPS, namespace, "/daemonsets", name, &path) < 0 ||
            kube_query_add(&path, "propagationPolicy", propagation) < 0)
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

        if (kube_object_path("/api/v1/namespaces/", namespace, "/pods", NULL, &base) < 0)
                return -ENOMEM;
        return kube_list_all(k, base, lo, pod_item, &pl, on_reset, userdata, ret_resource_version);
}

/* ---- events ---- */

struct event_list {
        kube_event_record_fn fn;
        void *userdata;
};

static int event_item(json_object *o, void *userdata) {
        struct list_run *l = userdata;
        struct event_list *el = l->item_userdata;
        json_object *c = NULL;
        struct kube_event_record e = {
                .type = KUBE_STR(o, "type"), .reason = KUBE_STR(o, "reason"), .message = KUBE_STR(o, "message"),
                .last = KUBE_STR(o, "lastTimestamp"),
        };

        if (!e.last)
                e.last = KUBE_STR(o, "eventTime");
        if (json_object_object_get_ex(o, "count", &c) && json_object_is_type(c, json_type_int))
                e.count = json_object_get_int64(c);
        return el->fn(&e, el->userdata);
}

int kube_list_events(struct kube_client *k, const char *namespace, const char *field_selector,
                     kube_event_record_fn on_event, void *userdata) {
        struct event_list el = { .fn = on_event, .userdata = userdata };
        struct kube_list_options lo = { .field_selector = field_selector, .limit = 100 };
        _cleanup_(freep) char *base = NULL;

        if (kube_object_path("/api/v1/namespaces/", namespace, "/events", NULL, &base) < 0)
                return -ENOMEM;
        return kube_list_all(k, base, &lo, event_item, &el, NULL, NULL, NULL);
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
                kube_set_error(k, 200, "/version has no gitVersion");
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

                if (kube_object_path("/api/v1/namespaces", NULL, "", namespaces[i], &path) < 0)
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

        if (kube_object_path(kind == KUBE_KIND_POD ? "/api/v1/namespaces/" : APPS, namespace,
                        kind == KUBE_KIND_POD ? "/pods" : "/daemonsets", NULL, &p) < 0)
                return -ENOMEM;
        if (asprintf(ret, "%s?watch=1&allowWatchBookmarks=true&timeoutSeconds=%u", p,
                     wo->timeout_s ? wo->timeout_s : 300) < 0)
                return -ENOMEM;
        if (kube_query_add(ret, "resourceVersion", wo->resource_version) < 0 ||
            kube_query_add(ret, "labelSelector", wo->label_selector) < 0 ||
            kube_query_add(ret, "fieldSelector", wo->field_selector) < 0)
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
                kube_set_error(k, (int) resp.status, "malformed watch stream from the API server");
        if (ret_resource_version && w.rv) {
                free(*ret_resource_version);
                *ret_resource_version = TAKE_PTR(w.rv);
        }
        json_values_free(w.values);
        free(w.rv);
        return r;
}
