/* SPDX-License-Identifier: MIT */
/* json-c objects -> clyde-seed structs. Everything is copied out: the json-c tree can be
 * dropped as soon as a decoder returns. */
#define _GNU_SOURCE 1

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube-decode.h"
#include "macro.h"

#define TEXT_BODY_MAX 1024

const char *kube_json_str(json_object *o, const char *const *path, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!o || !json_object_object_get_ex(o, path[i], &o))
                        return NULL;
        return json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
}

static json_object *get(json_object *o, const char *key) {
        json_object *v = NULL;

        if (!o || !json_object_is_type(o, json_type_object))
                return NULL;
        return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static json_object *get_type(json_object *o, const char *key, json_type type) {
        json_object *v = get(o, key);

        return v && json_object_is_type(v, type) ? v : NULL;
}

static const char *get_str(json_object *o, const char *key) {
        json_object *v = get_type(o, key, json_type_string);

        return v ? json_object_get_string(v) : NULL;
}

static int64_t get_int(json_object *o, const char *key) {
        json_object *v = get_type(o, key, json_type_int);

        return v ? json_object_get_int64(v) : 0;
}

static bool get_bool(json_object *o, const char *key) {
        json_object *v = get_type(o, key, json_type_boolean);

        return v && json_object_get_boolean(v);
}

/* Copies an optional string; *ret stays NULL for NULL. */
static int copy(char **ret, const char *s) {
        return free_and_strdup(ret, s);
}

int kube_parse_time(const char *s, int64_t *ret) {
        struct tm tm = {};
        const char *p;
        int64_t t;
        int oh, om;

        if (!s)
                return -EINVAL;
        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
                return -EINVAL;
        if (*p == '.')
                for (p++; isdigit((unsigned char) *p); p++)
                        ;
        t = (int64_t) timegm(&tm);
        if ((*p == 'Z' || *p == 'z') && p[1] == 0) {
                *ret = t;
                return 0;
        }
        if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2 && strlen(p) == 6) {
                *ret = t - (*p == '+' ? 1 : -1) * (int64_t) (oh * 3600 + om * 60);
                return 0;
        }
        return -EINVAL;
}

/* ---- nodes ---- */

static int node_labels(json_object *labels, const struct kube_node_filter *f, struct node_info *n) {
        int r = 0;

        if (!labels)
                return 0;
        r = copy(&n->zone, get_str(labels, "topology.kubernetes.io/zone"));
        if (r >= 0)
                r = copy(&n->arch, get_str(labels, "kubernetes.io/arch"));
        if (r >= 0)
                r = copy(&n->os, get_str(labels, "kubernetes.io/os"));
        if (r >= 0 && f && f->seeder_label_key)
                r = copy(&n->seeder_label, get_str(labels, f->seeder_label_key));
        n->control_plane = get(labels, "node-role.kubernetes.io/control-plane") ||
                           get(labels, "node-role.kubernetes.io/master");
        if (streq_ptr(get_str(labels, "type"), "virtual-kubelet"))
                n->virtual_kind = NODE_VIRTUAL_KUBELET;
        else if (streq_ptr(get_str(labels, "eks.amazonaws.com/compute-type"), "fargate"))
                n->virtual_kind = NODE_VIRTUAL_FARGATE;
        n->autopilot = get(labels, "cloud.google.com/gke-autopilot");
        return r;
}

static int node_taints(json_object *taints, struct node_info *n) {
        size_t k = taints ? json_object_array_length(taints) : 0;

        if (k == 0)
                return 0;
        n->taints = calloc(k, sizeof(*n->taints));
        if (!n->taints)
                return -ENOMEM;
        for (size_t i = 0; i < k; i++) {
                json_object *t = json_object_array_get_idx(taints, i);
                struct node_taint *d = &n->taints[n->n_taints];

                if (!get_str(t, "key"))
                        continue;
                n->n_taints++;
                if (copy(&d->key, get_str(t, "key")) < 0 || copy(&d->value, get_str(t, "value")) < 0 ||
                    copy(&d->effect, get_str(t, "effect")) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static void node_ready(json_object *conditions, struct node_info *n) {
        size_t k = conditions ? json_object_array_length(conditions) : 0;

        n->ready = NODE_READY_UNKNOWN;
        for (size_t i = 0; i < k; i++) {
                json_object *c = json_object_array_get_idx(conditions, i);
                const char *status = get_str(c, "status");

                if (!streq_ptr(get_str(c, "type"), "Ready"))
                        continue;
                n->ready = streq_ptr(status, "True")    ? NODE_READY_TRUE :
                           streq_ptr(status, "False")   ? NODE_READY_FALSE :
                                                          NODE_READY_UNKNOWN;
                if (kube_parse_time(get_str(c, "lastTransitionTime"), &n->ready_since) < 0)
                        n->ready_since = 0;
                return;
        }
}

static int node_add_image(struct node_info *n, const char *name) {
        char **l;

        for (size_t i = 0; i < n->n_images; i++)
                if (streq(n->images[i], name))
                        return 0;
        /* Kept NULL-terminated as well as counted: callers take the array over and
         * free it with strv_free() (found by the reliability crash matrix). */
        l = realloc(n->images, (n->n_images + 2) * sizeof(char *));
        if (!l)
                return -ENOMEM;
        n->images = l;
        l[n->n_images + 1] = NULL;
        l[n->n_images] = strdup(name);
        if (!l[n->n_images])
                return -ENOMEM;
        n->n_images++;
        return 0;
}

static int node_images(json_object *images, const struct kube_node_filter *f, struct node_info *n) {
        size_t k = images ? json_object_array_length(images) : 0;

        n->n_listed_images = k;
        for (size_t i = 0; i < k; i++) {
                json_object *names = get_type(json_object_array_get_idx(images, i), "names", json_type_array);
                n->max_listed_names = MAX(n->max_listed_names, names ? json_object_array_length(names) : 0);
        }
        if (!f || !f->want_image)
                return 0;
        for (size_t i = 0; i < k; i++) {
                json_object *names = get_type(json_object_array_get_idx(images, i), "names", json_type_array);

                for (size_t j = 0; names && j < json_object_array_length(names); j++) {
                        json_object *s = json_object_array_get_idx(names, j);

                        if (!json_object_is_type(s, json_type_string) ||
                            !f->want_image(json_object_get_string(s), f->userdata))
                                continue;
                        if (node_add_image(n, json_object_get_string(s)) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

int kube_parse_quantity(const char *s, int64_t *ret) {
        static const struct { const char *suffix; long double mult; } units[] = {
                { "Ki", 1024.0L }, { "Mi", 1048576.0L }, { "Gi", 1073741824.0L }, { "Ti", 1099511627776.0L },
                { "Pi", 1125899906842624.0L }, { "Ei", 1152921504606846976.0L }, { "m", 1e-3L }, { "", 1.0L },
                { "k", 1e3L }, { "M", 1e6L }, { "G", 1e9L }, { "T", 1e12L }, { "P", 1e15L }, { "E", 1e18L },
        };
        const char *p = s;
        long double v = 0, scale = 1;
        bool digits = false;

        for (; *p >= '0' && *p <= '9'; p++, digits = true)
                v = v * 10 + (*p - '0');
        if (*p == '.')
                for (p++; *p >= '0' && *p <= '9'; p++, digits = true)
                        v += (*p - '0') * (scale /= 10);
        if (!digits)
                return -EINVAL;
        if ((*p == 'e' || *p == 'E') && p[1] && strchr("+-0123456789", p[1])) {
                char *end;
                long e = strtol(p + 1, &end, 10);
                if (*end || e > 30 || e < -30)
                        return -EINVAL;
                for (; e > 0; e--)
                        v *= 10;
                for (; e < 0; e++)
                        v /= 10;
                p = end;
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(p, units[i].suffix)) {
                        v *= units[i].mult;
                        if (v >= 9.2e18L)
                                return -ERANGE;
                        *ret = (int64_t) v;
                        return 0;
                }
        return -EINVAL;
}

/* Ephemeral storage and the bytes of every listed image, for the disk pre-flight. */
static void node_storage(json_object *status, struct node_info *n) {
        json_object *images = get_type(status, "images", json_type_array);
        const char *cap = get_str(get_type(status, "capacity", json_type_object), "ephemeral-storage");
        const char *alloc = get_str(get_type(status, "allocatable", json_type_object), "ephemeral-storage");

        if (!cap || kube_parse_quantity(cap, &n->storage_capacity) < 0)
                n->storage_capacity = -1;
        if (!alloc || kube_parse_quantity(alloc, &n->storage_allocatable) < 0)
                n->storage_allocatable = -1;
        n->images_bytes = 0;
        for (size_t i = 0; images && i < json_object_array_length(images); i++) {
                json_object *sz = get_type(json_object_array_get_idx(images, i), "sizeBytes", json_type_int);
                if (sz && json_object_get_int64(sz) > 0 && n->images_bytes <= INT64_MAX - json_object_get_int64(sz))
                        n->images_bytes += json_object_get_int64(sz);
        }
}

static int node_fill(json_object *o, const struct kube_node_filter *f, struct node_info *n) {
        json_object *meta = get_type(o, "metadata", json_type_object);
        json_object *spec = get_type(o, "spec", json_type_object);
        json_object *status = get_type(o, "status", json_type_object);
        int r;

        if (!get_str(meta, "name"))
                return -EBADMSG;
        if (copy(&n->name, get_str(meta, "name")) < 0 || copy(&n->uid, get_str(meta, "uid")) < 0)
                return -ENOMEM;
        n->deleting = !!get_str(meta, "deletionTimestamp");
        if (f && f->owner_annotation_key)
                n->owned = !!get(get_type(meta, "annotations", json_type_object), f->owner_annotation_key);
        r = node_labels(get_type(meta, "labels", json_type_object), f, n);
        if (r >= 0)
                r = node_taints(get_type(spec, "taints", json_type_array), n);
        if (r < 0)
                return r;
        n->unschedulable = get_bool(spec, "unschedulable");
        node_ready(get_type(status, "conditions", json_type_array), n);
        node_storage(status, n);
        return node_images(get_type(status, "images", json_type_array), f, n);
}

int kube_decode_node(json_object *o, const struct kube_node_filter *f, struct node_info *ret) {
        struct node_info n = {};
        int r;

        r = node_fill(o, f, &n);
        if (r < 0) {
                node_info_done(&n);
                return r;
        }
        *ret = n;
        return 0;
}

/* ---- pods ---- */

void kube_container_done(struct kube_container *c) {
        if (!c)
                return;
        free(c->name);
        free(c->image);
        free(c->image_id);
        free(c->reason);
        free(c->message);
        *c = (struct kube_container) {};
}

void kube_pod_done(struct kube_pod *p) {
        if (!p)
                return;
        free(p->name);
        free(p->namespace);
        free(p->uid);
        free(p->node_name);
        free(p->target_node);
        free(p->sched_reason);
        free(p->sched_message);
        free(p->owner_ds);
        free(p->phase);
        free(p->resource_version);
        for (size_t i = 0; i < p->n_label_values; i++)
                free(p->label_values[i]);
        free(p->label_values);
        for (size_t i = 0; i < p->n_init_containers; i++)
                kube_container_done(&p->init_containers[i]);
        free(p->init_containers);
        for (size_t i = 0; i < p->n_containers; i++)
                kube_container_done(&p->containers[i]);
        free(p->containers);
        *p = (struct kube_pod) {};
}

static int container_state(json_object *state, struct kube_container *c) {
        json_object *w = get_type(state, "waiting", json_type_object);
        json_object *run = get_type(state, "running", json_type_object);
        json_object *term = get_type(state, "terminated", json_type_object);
        json_object *which = w ?: term;

        c->state = w ? KUBE_CONTAINER_WAITING : run ? KUBE_CONTAINER_RUNNING :
                   term ? KUBE_CONTAINER_TERMINATED : KUBE_CONTAINER_UNKNOWN;
        if (term)
                c->exit_code = (int) get_int(term, "exitCode");
        if (!which)
                return 0;
        if (copy(&c->reason, get_str(which, "reason")) < 0 ||
            copy(&c->message, get_str(which, "message")) < 0)
                return -ENOMEM;
        return 0;
}

static int container_decode(json_object *o, struct kube_container *c) {
        if (copy(&c->name, get_str(o, "name")) < 0 || copy(&c->image, get_str(o, "image")) < 0 ||
            copy(&c->image_id, get_str(o, "imageID")) < 0)
                return -ENOMEM;
        c->ready = get_bool(o, "ready");
        c->restart_count = (int) get_int(o, "restartCount");
        return container_state(get_type(o, "state", json_type_object), c);
}

static int containers_decode(json_object *a, struct kube_container **ret, size_t *ret_n) {
        size_t k = a ? json_object_array_length(a) : 0;

        if (k == 0)
                return 0;
        *ret = calloc(k, sizeof(**ret));
        if (!*ret)
                return -ENOMEM;
        for (size_t i = 0; i < k; i++) {
                json_object *c = json_object_array_get_idx(a, i);

                if (!json_object_is_type(c, json_type_object))
                        continue;
                (*ret_n)++;
                if (container_decode(c, &(*ret)[*ret_n - 1]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static const char *owner_daemonset(json_object *meta) {
        json_object *refs = get_type(meta, "ownerReferences", json_type_array);

        for (size_t i = 0; refs && i < json_object_array_length(refs); i++) {
                json_object *ref = json_object_array_get_idx(refs, i);

                if (streq_ptr(get_str(ref, "kind"), "DaemonSet"))
                        return get_str(ref, "name");
        }
        return NULL;
}

static int pod_labels(json_object *labels, const char *const *keys, size_t n, struct kube_pod *p) {
        if (n == 0)
                return 0;
        p->label_values = calloc(n, sizeof(char *));
        if (!p->label_values)
                return -ENOMEM;
        p->n_label_values = n;
        for (size_t i = 0; i < n; i++)
                if (copy(&p->label_values[i], get_str(labels, keys[i])) < 0)
                        return -ENOMEM;
        return 0;
}

static int pod_fill(json_object *o, const char *const *keys, size_t n_keys, struct kube_pod *p) {
        json_object *meta = get_type(o, "metadata", json_type_object);
        json_object *spec = get_type(o, "spec", json_type_object);
        json_object *status = get_type(o, "status", json_type_object);

        if (!get_str(meta, "name"))
                return -EBADMSG;
        if (copy(&p->name, get_str(meta, "name")) < 0 ||
            copy(&p->namespace, get_str(meta, "namespace")) < 0 ||
            copy(&p->uid, get_str(meta, "uid")) < 0 ||
            copy(&p->resource_version, get_str(meta, "resourceVersion")) < 0 ||
            copy(&p->node_name, get_str(spec, "nodeName")) < 0 ||
            copy(&p->owner_ds, owner_daemonset(meta)) < 0 ||
            copy(&p->phase, get_str(status, "phase")) < 0)
                return -ENOMEM;
        p->deleting = !!get_str(meta, "deletionTimestamp");
        if (pod_labels(get_type(meta, "labels", json_type_object), keys, n_keys, p) < 0 ||
            containers_decode(get_type(status, "initContainerStatuses", json_type_array),
                              &p->init_containers, &p->n_init_containers) < 0 ||
            containers_decode(get_type(status, "containerStatuses", json_type_array),
                              &p->containers, &p->n_containers) < 0 ||
            kube_decode_pod_scheduling(o, p) < 0)
                return -ENOMEM;
        return 0;
}

int kube_decode_pod(json_object *o, const char *const *label_keys, size_t n_label_keys,
                    struct kube_pod *ret) {
        struct kube_pod p = {};
        int r;

        r = pod_fill(o, label_keys, n_label_keys, &p);
        if (r < 0) {
                kube_pod_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

/* ---- daemonsets ---- */

void kube_daemonset_done(struct kube_daemonset *d) {
        if (!d)
                return;
        free(d->name);
        free(d->namespace);
        free(d->uid);
        free(d->resource_version);
        free(d->run_label);
        strv_free(d->nodes);
        *d = (struct kube_daemonset) {};
}

void kube_daemonset_array_free(struct kube_daemonset *a, size_t n) {
        for (size_t i = 0; a && i < n; i++)
                kube_daemonset_done(&a[i]);
        free(a);
}

/* Appends the values of every "metadata.name In" matchFields requirement of the pod
 * template's required node affinity (what manifest_build() writes) to *nodes. */
static int daemonset_nodes(json_object *o, char ***nodes) {
        json_object *a = get_type(get_type(get_type(get_type(get_type(get_type(o, "spec", json_type_object),
                "template", json_type_object), "spec", json_type_object), "affinity", json_type_object),
                "nodeAffinity", json_type_object), "requiredDuringSchedulingIgnoredDuringExecution",
                json_type_object);
        json_object *terms = get_type(a, "nodeSelectorTerms", json_type_array);
        size_t n = 0;

        for (size_t t = 0; terms && t < json_object_array_length(terms); t++) {
                json_object *mf = get_type(json_object_array_get_idx(terms, t), "matchFields", json_type_array);
                for (size_t f = 0; mf && f < json_object_array_length(mf); f++) {
                        json_object *req = json_object_array_get_idx(mf, f);
                        json_object *vals = get_type(req, "values", json_type_array);
                        if (!streq_ptr(get_str(req, "key"), "metadata.name") || !streq_ptr(get_str(req, "operator"), "In"))
                                continue;
                        for (size_t v = 0; vals && v < json_object_array_length(vals); v++) {
                                const char *s = json_object_get_string(json_object_array_get_idx(vals, v));
                                char **l = realloc(*nodes, (n + 2) * sizeof(char *));
                                if (!l)
                                        return -ENOMEM;
                                *nodes = l;
                                l[n + 1] = NULL;
                                l[n] = strdup(strempty(s));
                                if (!l[n])
                                        return -ENOMEM;
                                n++;
                        }
                }
        }
        return 0;
}

int kube_decode_daemonset(json_object *o, const char *label_key, struct kube_daemonset *ret) {
        json_object *meta = get_type(o, "metadata", json_type_object);
        json_object *status = get_type(o, "status", json_type_object);
        struct kube_daemonset d = {};

        if (!get_str(meta, "name"))
                return -EBADMSG;
        if (copy(&d.name, get_str(meta, "name")) < 0 ||
            copy(&d.namespace, get_str(meta, "namespace")) < 0 ||
            copy(&d.uid, get_str(meta, "uid")) < 0 ||
            copy(&d.resource_version, get_str(meta, "resourceVersion")) < 0 ||
            (label_key && copy(&d.run_label, get_str(get_type(meta, "labels", json_type_object), label_key)) < 0) ||
            daemonset_nodes(o, &d.nodes) < 0) {
                kube_daemonset_done(&d);
                return -ENOMEM;
        }
        d.deleting = !!get_str(meta, "deletionTimestamp");
        d.generation = get_int(meta, "generation");
        d.observed_generation = get_int(status, "observedGeneration");
        d.desired = get_int(status, "desiredNumberScheduled");
        d.current = get_int(status, "currentNumberScheduled");
        d.ready = get_int(status, "numberReady");
        d.available = get_int(status, "numberAvailable");
        d.updated = get_int(status, "updatedNumberScheduled");
        d.misscheduled = get_int(status, "numberMisscheduled");
        d.unavailable = get_int(status, "numberUnavailable");
        *ret = d;
        return 0;
}

/* ---- errors ---- */

void kube_error_done(struct kube_error *e) {
        if (!e)
                return;
        free(e->reason);
        free(e->message);
        strv_free(e->causes);
        *e = (struct kube_error) { .retry_after_s = -1 };
}

static int error_causes(json_object *causes, struct kube_error *e) {
        size_t k = causes ? json_object_array_length(causes) : 0, n = 0;

        if (k == 0)
                return 0;
        e->causes = calloc(k + 1, sizeof(char *));
        if (!e->causes)
                return -ENOMEM;
        for (size_t i = 0; i < k; i++) {
                json_object *c = json_object_array_get_idx(causes, i);
                const char *field = get_str(c, "field"), *msg = get_str(c, "message");

                if (!msg && !field)
                        continue;
                if (asprintf(&e->causes[n], "%s%s%s", strempty(field), field ? ": " : "",
                             strempty(msg)) < 0) {
                        e->causes[n] = NULL;
                        return -ENOMEM;
                }
                n++;
        }
        return 0;
}

static int error_from_status(json_object *o, struct kube_error *e) {
        json_object *details = get_type(o, "details", json_type_object);

        if (get_int(o, "code") > 0)
                e->code = (int) get_int(o, "code");
        if (copy(&e->reason, get_str(o, "reason")) < 0 || copy(&e->message, get_str(o, "message")) < 0)
                return -ENOMEM;
        if (get_type(details, "retryAfterSeconds", json_type_int))
                e->retry_after_s = (long) get_int(details, "retryAfterSeconds");
        return error_causes(get_type(details, "causes", json_type_array), e);
}

/* Plain text, trimmed, control characters replaced, capped. */
static int error_from_text(const char *body, size_t len, struct kube_error *e) {
        size_t a = 0, b = MIN(len, (size_t) TEXT_BODY_MAX);

        while (a < b && isspace((unsigned char) body[a]))
                a++;
        while (b > a && isspace((unsigned char) body[b - 1]))
                b--;
        if (a == b)
                return 0;
        e->message = strndup(body + a, b - a);
        if (!e->message)
                return -ENOMEM;
        for (char *p = e->message; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = ' ';
        for (size_t l = strlen(e->message); l > 0 && e->message[l - 1] == ' '; l--)
                e->message[l - 1] = 0;
        return 0;
}

int kube_decode_error(long http_status, const char *body, size_t len, struct kube_error *ret) {
        struct kube_error e = { .code = (int) http_status, .retry_after_s = -1 };
        json_tokener *tok;
        json_object *o = NULL;
        int r = 0;

        if (body && len > 0 && (tok = json_tokener_new())) {
                o = json_tokener_parse_ex(tok, body, (int) MIN(len, (size_t) INT32_MAX));
                if (json_tokener_get_error(tok) != json_tokener_success) {
                        json_object_put(o);
                        o = NULL;
                }
                json_tokener_free(tok);
        }
        if (o && streq_ptr(get_str(o, "kind"), "Status"))
                r = error_from_status(o, &e);
        else if (body)
                r = error_from_text(body, len, &e);
        json_object_put(o);
        if (r < 0) {
                kube_error_done(&e);
                return r;
        }
        *ret = e;
        return 0;
}

int kube_errno_from_status(long status, const char *reason, bool create) {
        if (status >= 200 && status < 300)
                return 0;
        switch (status) {
        case 401:
        case 403:
                return -EACCES;
        case 404:
                return -ENOENT;
        case 409:
                if (streq_ptr(reason, "AlreadyExists") || (create && !reason))
                        return -EEXIST;
                return -ESTALE;
        case 410:
                return -ESTALE;
        case 400:
        case 422:
                return -EINVAL;
        case 413:
                return -E2BIG;
        case 429:
                return -EAGAIN;
        default:
                return status >= 500 ? -EAGAIN : -EPROTO;
        }
}
