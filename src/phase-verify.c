/* SPDX-License-Identifier: MIT */
/* verify: follow the run's pods (list, then watch; polling when watching fails) and turn
 * each seeder x image into pulled (digest from imageID), failed (reason) or, at the end,
 * timed out / node lost. */
#include "phase.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "manifest.h"
#include "macro.h"
#include "pullstate.h"
#include "stage-run.h"
#include "util.h"

struct verify {
        struct machine *m;
        struct tracker_run *run;
        size_t *first; /* per batch: index of its first image */
        char ***names; /* per batch: container names, aligned with the batch's images */
        size_t n_batches;
        size_t waiting;
        size_t check_cursor, next_cursor; /* where check_nodes() resumes */
        int64_t last_progress;
        bool dirty;
        char *suspect; /* node whose puller pod disappeared: look at it now */
        char *resource_version;
};

static void verify_done(struct verify *v) {
        for (size_t b = 0; b < v->n_batches; b++)
                strv_free(v->names[b]);
        free(v->names);
        free(v->first);
        free(v->suspect);
        free(v->resource_version);
}

/* Container names of every batch, as manifest_build() gave them. */
static int verify_init(struct verify *v, struct machine *m) {
        struct tracker_run *run = m->tracker->run;

        v->m = m;
        v->run = run;
        (void) manifest_batch_count(run->n_images, (size_t) m->config->images_per_daemonset, &v->n_batches);
        v->names = calloc(v->n_batches + 1, sizeof(char **));
        v->first = calloc(v->n_batches + 1, sizeof(size_t));
        if (!v->names || !v->first)
                return -ENOMEM;
        for (size_t b = 0; b < v->n_batches; b++) {
                size_t first, n;
                const char *refs[64];
                (void) manifest_batch_range(run->n_images, (size_t) m->config->images_per_daemonset, b, &first, &n);
                v->first[b] = first;
                for (size_t i = 0; i < n; i++)
                        refs[i] = run->images[first + i].ref;
                int r = images_container_names(refs, n, &v->names[b]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < run->n_results; i++)
                if (run->results[i].state == TRACKER_STATE_WAITING)
                        v->waiting++;
        v->last_progress = now_seconds();
        return 0;
}

/* Image index of container name in batch b, or -1. */
static ssize_t image_of(const struct verify *v, size_t b, const char *name) {
        if (b >= v->n_batches)
                return -1;
        for (size_t i = 0; v->names[b][i]; i++)
                if (streq(v->names[b][i], name))
                        return (ssize_t) (v->first[b] + i);
        return -1;
}

static void settle(struct verify *v, struct tracker_result *res, enum tracker_state state,
                   const char *digest, const char *reason, const char *message) {
        const char *ref = v->run->images[res->image].ref;
        struct log_fields f = { .node = res->node, .image = ref, .result = tracker_state_to_string(state) };

        if (state == TRACKER_STATE_PULLED)
                log_fields(LOG_INFO, &f, "node '%s': pulled %s (%s)", res->node, ref, strempty(digest));
        else if (state == TRACKER_STATE_NOT_APPLICABLE)
                log_fields(LOG_NOTICE, &f, "node '%s': %s not applicable (platform): %s", res->node, ref,
                           strempty(message));
        else if (state == TRACKER_STATE_NODE_LOST)
                log_fields(LOG_WARNING, &f, "node '%s': %s not pulled: %s; the next run replaces it", res->node,
                           ref, strempty(reason));
        else {
                f.message_id = CLYDE_MSGID_IMAGE_FAILED;
                log_fields(LOG_ERR, &f, "node '%s': %s failed: %s: %s", res->node, ref, strempty(reason),
                           strempty(message));
        }
        (void) tracker_result_set(v->run, res->node, res->image, state, digest, reason, message);
        stage_run_settled(v->m, res->node, res->image);
        v->waiting--;
        v->dirty = true;
        v->last_progress = now_seconds();
}

static void observe_container(struct verify *v, const char *node, size_t b,
                              const struct kube_container *c) {
        ssize_t i = image_of(v, b, c->name);
        struct tracker_result *res;
        _cleanup_(freep) char *digest = NULL;

        if (i < 0)
                return;
        res = tracker_result_find(v->run, node, (size_t) i);
        if (!res || res->state != TRACKER_STATE_WAITING)
                return;
        switch (pull_classify(c->image_id, c->reason, c->message)) {
        case PULL_DONE:
                if (image_id_digest(c->image_id, &digest) < 0)
                        digest = NULL;
                settle(v, res, TRACKER_STATE_PULLED, digest, NULL, NULL);
                break;
        case PULL_FAILED:
                settle(v, res, TRACKER_STATE_FAILED, NULL, c->reason, c->message);
                break;
        case PULL_NOT_APPLICABLE:
                settle(v, res, TRACKER_STATE_NOT_APPLICABLE, NULL, "platform", c->message);
                break;
        case PULL_WAITING:
                /* Keep the latest reason so a timeout can say what was going on. */
                if (c->reason && !streq_ptr(res->reason, c->reason))
                        (void) tracker_result_set(v->run, node, (size_t) i, TRACKER_STATE_WAITING, NULL,
                                                  c->reason, c->message);
                break;
        }
}

/* The helper init container failing means none of the pod's images can come. */
static void observe_init(struct verify *v, const char *node, size_t b, const struct kube_container *c) {
        enum pull_verdict pv = pull_classify(c->image_id, c->reason, c->message);

        /* The helper has no variant for the node: none of the pod's images can run. */
        if (pv != PULL_FAILED && pv != PULL_NOT_APPLICABLE)
                return;
        for (size_t i = 0; b < v->n_batches && v->names[b][i]; i++) {
                struct tracker_result *res = tracker_result_find(v->run, node, v->first[b] + i);
                if (res && res->state == TRACKER_STATE_WAITING)
                        settle(v, res, TRACKER_STATE_FAILED, NULL, c->reason,
                               pv == PULL_FAILED ? "helper image cannot be pulled"
                                                 : "helper image has no variant for this node's platform");
        }
}

static void observe_pod(struct verify *v, const struct kube_pod *p) {
        char *end;
        unsigned long b;

        if (!p->node_name || p->n_label_values < 1 || !p->label_values[0])
                return;
        b = strtoul(p->label_values[0], &end, 10);
        if (*end)
                return;
        for (size_t i = 0; i < p->n_init_containers; i++)
                observe_init(v, p->node_name, b, &p->init_containers[i]);
        for (size_t i = 0; i < p->n_containers; i++)
                observe_container(v, p->node_name, b, &p->containers[i]);
}

static int on_pod(struct kube_pod *p, void *userdata) {
        observe_pod(userdata, p);
        return 0;
}

static bool pod_still_needed(const struct verify *v, const struct kube_pod *p) {
        char *end;
        unsigned long b;

        if (p->n_label_values < 1 || !p->label_values[0])
                return true;
        b = strtoul(p->label_values[0], &end, 10);
        return *end || stage_run_waiting(v->m, p->node_name, b);
}

static int on_event(const struct kube_event *e, void *userdata) {
        struct verify *v = userdata;

        if (e->kind == KUBE_KIND_POD && e->pod && e->type != KUBE_DELETED)
                observe_pod(v, e->pod);
        /* A puller pod that goes away while its node still waits for its batch usually
         * means the node went away (a DaemonSet whose seeders are done is deleted). */
        if (e->kind == KUBE_KIND_POD && e->type == KUBE_DELETED && e->pod && e->pod->node_name &&
            pod_still_needed(v, e->pod)) {
                free(v->suspect);
                v->suspect = strdup(e->pod->node_name);
                return -ECANCELED;
        }
        return v->waiting == 0 || stage_run_due(v->m) ? -ECANCELED : 0;
}

static const char *const pod_label_keys[] = { CLYDE_BATCH_LABEL };

static int list_pods(struct verify *v, const char *selector) {
        struct kube_list_options lo = { .label_selector = selector, .limit = 500 };

        free(v->resource_version);
        v->resource_version = NULL;
        return kube_list_pods(v->m->kube, v->m->config->namespace, &lo, pod_label_keys, 1, on_pod, NULL,
                              v, &v->resource_version);
}

static int watch_pods(struct verify *v, const char *selector, unsigned timeout_s) {
        struct kube_watch_options wo = {
                .label_selector = selector,
                .resource_version = v->resource_version,
                .timeout_s = timeout_s,
                .label_keys = pod_label_keys,
                .n_label_keys = 1,
        };
        _cleanup_(freep) char *rv = NULL;
        int r;

        r = kube_watch(v->m->kube, KUBE_KIND_POD, v->m->config->namespace, &wo, on_event, v, &rv);
        if (rv) {
                free(v->resource_version);
                v->resource_version = TAKE_PTR(rv);
        }
        return r == -ECANCELED ? 0 : r;
}

/* A node that is gone or not Ready cannot finish: its waiting images are "node lost". */
static void check_node(struct verify *v, const char *node) {
        struct kube_node_filter f = {};
        struct node_info n = {};
        _cleanup_(freep) char *name = strdup(node); /* results may be rewritten below */
        int r;

        if (!name)
                return;
        r = kube_get_node(v->m->kube, name, &f, &n, NULL);
        bool lost = r == -ENOENT || (r >= 0 && n.ready != NODE_READY_TRUE);
        const char *why = r == -ENOENT ? "node deleted" : "node not Ready";
        node_info_done(&n);
        if (!lost)
                return;
        v->m->nodes_lost++;
        for (size_t j = 0; j < v->run->n_results; j++)
                if (v->run->results[j].state == TRACKER_STATE_WAITING && streq(v->run->results[j].node, name))
                        settle(v, &v->run->results[j], TRACKER_STATE_NODE_LOST, NULL, why, NULL);
}

/* Looks at up to max nodes with waiting pulls (0: all), starting where the last look
 * stopped so every node gets its turn; a slow pull on many seeders stays cheap. */
static void check_nodes(struct verify *v, size_t max) {
        const char *last = NULL;
        size_t looked = 0, n = v->run->n_results;

        for (size_t k = 0; k < n && (max == 0 || looked < max); k++) {
                size_t i = (v->check_cursor + k) % n;
                struct tracker_result *res = &v->run->results[i];

                v->next_cursor = i + 1;
                if (res->state != TRACKER_STATE_WAITING || streq_ptr(last, res->node))
                        continue;
                last = res->node;
                looked++;
                check_node(v, res->node);
        }
        v->check_cursor = v->next_cursor;
}

static void time_out(struct verify *v) {
        char d[32];

        (void) config_format_duration(v->m->config->pull_timeout, d, sizeof(d));
        for (size_t i = 0; i < v->run->n_results; i++) {
                struct tracker_result *res = &v->run->results[i];
                if (res->state == TRACKER_STATE_WAITING) {
                        _cleanup_(freep) char *msg = NULL;
                        if (asprintf(&msg, "no progress for %s (pull_timeout)%s%s", d, res->reason ? "; last state " : "",
                                     strempty(res->reason)) < 0)
                                msg = NULL;
                        settle(v, res, TRACKER_STATE_FAILED, NULL, "Timeout", msg);
                }
        }
}

/* Records every pulled digest on its seeder and resolves the run's tag digests. */
static void record_digests(struct machine *m) {
        struct tracker_run *run = m->tracker->run;
        int64_t now = now_seconds();

        for (size_t i = 0; i < run->n_results; i++) {
                struct tracker_result *res = &run->results[i];
                struct tracker_seeder *s = tracker_seeder_find(m->tracker, res->node);
                struct tracker_image *img = &run->images[res->image];

                if (res->state != TRACKER_STATE_PULLED || !s)
                        continue;
                (void) tracker_seeder_set_image(s, img->ref, res->digest, now);
                if (!img->digest && res->digest)
                        (void) tracker_run_add_image(run, img->ref, res->digest);
        }
}

static int verify_loop(struct verify *v, const char *selector) {
        const struct config *c = v->m->config;
        int64_t last_check = now_seconds();
        int r;

        r = list_pods(v, selector);
        if (r < 0)
                return log_error_errno(r, "cannot list pods: %s", machine_api_error(v->m, r));
        while (v->waiting > 0) {
                int64_t now = now_seconds(), left = v->last_progress + c->pull_timeout - now;

                if (v->dirty) {
                        machine_status("run %s: verify: %zu node x image pulls waiting", v->run->id, v->waiting);
                        r = machine_persist(v->m);
                        if (r < 0)
                                return r;
                        v->dirty = false;
                }
                if (stage_run_due(v->m)) {
                        r = stage_run_flush(v->m);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (v->suspect) {
                        check_node(v, v->suspect);
                        free(TAKE_PTR(v->suspect));
                        continue;
                }
                if (now - last_check >= 60) {
                        check_nodes(v, 20);
                        last_check = now;
                        continue;
                }
                if (left <= 0) {
                        check_nodes(v, 0);
                        time_out(v);
                        break;
                }
                /* A batch done somewhere: come back soon to start the next one there. */
                r = watch_pods(v, selector, (unsigned) MIN(left, stage_run_pending(v->m) ? 1 : 60));
                if (r == -ESTALE || (r < 0 && r != -EACCES)) {
                        if (r != -ESTALE)
                                log_warning("watching pods failed (%s), listing again", machine_api_error(v->m, r));
                        if (r != -ESTALE)
                                (void) sleep(2);
                        r = list_pods(v, selector);
                        /* The list has its retries and api_deadline: past them the API
                         * is unavailable (exit 69), not worth waiting pull_timeout for. */
                        if (r < 0 && r != -EACCES)
                                return log_error_errno(r, "cannot list pods: %s", machine_api_error(v->m, r));
                }
                if (r == -EACCES)
                        return log_error_errno(r, "cannot watch pods: %s", machine_api_error(v->m, r));
        }
        return 0;
}

int phase_verify(struct machine *m) {
        _cleanup_(verify_done) struct verify v = {};
        _cleanup_(freep) char *selector = NULL;
        int r;

        r = verify_init(&v, m);
        if (r < 0)
                return r;
        /* A resumed run: start the DaemonSets again from the recorded results. */
        if (v.waiting > 0 && !m->stages) {
                r = stage_run_start(m);
                if (r < 0)
                        return r;
        }
        if (v.waiting == 0) {
                log_info("nothing to wait for");
                record_digests(m);
                return 0;
        }
        if (asprintf(&selector, "%s=%s", CLYDE_RUN_LABEL, m->tracker->run->id) < 0)
                return -ENOMEM;
        log_info("waiting for %zu node x image pulls", v.waiting);
        r = verify_loop(&v, selector);
        if (r < 0)
                return r;
        record_digests(m);
        return 0;
}
