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
#include "verify-events.h"

/* A puller pod the scheduler finds no room for (the node at its pod capacity, too little
 * cpu or memory) fails its seeder's run after this long: long enough for one of our own
 * pods that is going away to free its slot and for the scheduler's retry (its back-off is
 * at most 10 s), far below pull_timeout. */
#define UNSCHEDULABLE_GRACE_S 15

/* A kubelet writes a pod's status and its events on separate paths: the Failed event
 * with a back-off's cause may come after the status. Look again this much later. */
#define CAUSE_RETRY_S 2

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
        struct verify_causes causes; /* back-offs without a cause, to read in events */
        int64_t causes_due;          /* when to read them: 0 at once, else a retry time */
        uint8_t *has_pod; /* per result: a puller pod for its node and batch was seen */
        int64_t *unsched_since; /* per result: when its pod was first seen unschedulable, 0 */
        char *resource_version;
};

static void verify_done(struct verify *v) {
        for (size_t b = 0; b < v->n_batches; b++)
                strv_free(v->names[b]);
        free(v->names);
        free(v->first);
        free(v->suspect);
        free(v->resource_version);
        verify_causes_done(&v->causes);
        free(v->has_pod);
        free(v->unsched_since);
}

/* Container names of every batch, as manifest_build() gave them. */
static int verify_init(struct verify *v, struct machine *m) {
        struct tracker_run *run = m->tracker->run;

        v->m = m;
        v->run = run;
        (void) manifest_batch_count(run->n_images, (size_t) m->config->images_per_daemonset, &v->n_batches);
        v->names = calloc(v->n_batches + 1, sizeof(char **));
        v->first = calloc(v->n_batches + 1, sizeof(size_t));
        v->has_pod = calloc(run->n_results + 1, 1);
        v->unsched_since = calloc(run->n_results + 1, sizeof(int64_t));
        if (!v->names || !v->first || !v->has_pod || !v->unsched_since)
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

static void classify_pull(struct verify *v, struct tracker_result *res, const char *image_id, const char *c_reason,
                          const char *message, char **digest);

static void observe_container(struct verify *v, const struct kube_pod *p, size_t b,
                              const struct kube_container *c) {
        const char *node = p->node_name;
        ssize_t i = image_of(v, b, c->name);
        struct tracker_result *res;
        _cleanup_(freep) char *digest = NULL;

        if (i < 0)
                return;
        res = tracker_result_find(v->run, node, (size_t) i);
        if (!res || res->state != TRACKER_STATE_WAITING)
                return;
        /* A 1.26-1.31 kubelet's back-off has its cause only in the pod's events: read
         * them once this watch or list has returned (resolve_causes()). */
        size_t queued = v->causes.n;
        if (verify_cause_wanted(c, res) && verify_causes_add(&v->causes, p->uid, node, (size_t) i, c) >= 0) {
                if (v->causes.n > queued)
                        v->causes_due = 0;
                return;
        }
        classify_pull(v, res, c->image_id, c->reason, c->message, &digest);
}

/* Turns one container's pull state into its result. */
static void classify_pull(struct verify *v, struct tracker_result *res, const char *image_id, const char *c_reason,
                          const char *message, char **digest) {
        const char *reason = pull_error_is_rate_limited(message) ? "RateLimited" : c_reason;

        switch (pull_classify(image_id, c_reason, message)) {
        case PULL_DONE:
                if (image_id_digest(image_id, digest) < 0)
                        *digest = NULL;
                settle(v, res, TRACKER_STATE_PULLED, *digest, NULL, NULL);
                break;
        case PULL_FAILED:
                settle(v, res, TRACKER_STATE_FAILED, NULL, c_reason, message);
                break;
        case PULL_NOT_APPLICABLE:
                settle(v, res, TRACKER_STATE_NOT_APPLICABLE, NULL, "platform", message);
                break;
        case PULL_WAITING:
                /* Keep the latest reason so a timeout can say what was going on. */
                if (reason && (!streq_ptr(res->reason, reason) || !streq_ptr(res->message, message)))
                        (void) tracker_result_set(v->run, res->node, res->image, TRACKER_STATE_WAITING, NULL,
                                                  reason, message);
                break;
        }
}

/* The seeder cannot run a puller pod this run: each of its waiting results fails with
 * reason. It stays a seeder (what it holds is still there); the next run tries again. */
static void fail_node(struct verify *v, const char *node, const char *reason, const char *message) {
        _cleanup_(freep) char *n = strdup(node), *r = strdup(reason), *msg = message ? strdup(message) : NULL;
        bool logged = false;

        if (!n || !r || (message && !msg))
                return;
        for (size_t j = 0; j < v->run->n_results; j++) {
                struct tracker_result *res = &v->run->results[j];
                if (res->state != TRACKER_STATE_WAITING || !streq(res->node, n))
                        continue;
                if (!logged)
                        log_fields(LOG_WARNING, &(struct log_fields) { .node = n },
                                   "node '%s' cannot run a puller pod this run: %s: %s; it stays a seeder", n, r,
                                   strempty(msg));
                logged = true;
                settle(v, res, TRACKER_STATE_FAILED, NULL, r, msg);
        }
}

/* An init container that exits non-zero or crash-loops (the helper cannot run there). */
static bool init_crashed(struct verify *v, const char *node, const struct kube_container *c) {
        _cleanup_(freep) char *msg = NULL;
        char why[64];
        int r;

        if (!pull_init_failed(c->state == KUBE_CONTAINER_TERMINATED, c->exit_code, c->reason, why, sizeof(why)))
                return false;
        if (c->state == KUBE_CONTAINER_TERMINATED)
                r = asprintf(&msg, "init container '%s' (%s) exited with code %d%s%s", c->name, strempty(c->image),
                             c->exit_code, c->message ? ": " : "", strempty(c->message));
        else
                r = asprintf(&msg, "init container '%s' (%s) cannot start: %s", c->name, strempty(c->image),
                             strempty(c->message));
        fail_node(v, node, why, r < 0 ? NULL : msg);
        return true;
}

/* The helper init container failing means none of the pod's images can come. An init
 * container killed because its pod is being deleted is no failure of the helper. */
static void observe_init(struct verify *v, const char *node, size_t b, const struct kube_container *c,
                         bool deleting) {
        enum pull_verdict pv = pull_classify(c->image_id, c->reason, c->message);

        if (!deleting && init_crashed(v, node, c))
                return;
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

/* ---- pods that never come (the DaemonSet controller cannot create them) ---- */

static void note_pod(struct verify *v, const char *node, size_t b) {
        for (size_t i = 0; b < v->n_batches && v->names[b][i]; i++) {
                struct tracker_result *res = tracker_result_find(v->run, node, v->first[b] + i);
                if (res)
                        v->has_pod[res - v->run->results] = 1;
        }
}

/* stage_fail_fn: node's images of batch b fail with the controller's reason, unless a
 * pod of that batch was seen on it (a quota may refuse some pods of a DaemonSet only). */
static void fail_uncreated(void *userdata, const char *node, size_t b, const char *reason, const char *message) {
        struct verify *v = userdata;

        for (size_t i = 0; b < v->n_batches && v->names[b][i]; i++) {
                struct tracker_result *res = tracker_result_find(v->run, node, v->first[b] + i);
                if (res && res->state == TRACKER_STATE_WAITING && !v->has_pod[res - v->run->results])
                        settle(v, res, TRACKER_STATE_FAILED, NULL, reason, message);
        }
}

/* A pod not bound yet: unschedulable for UNSCHEDULABLE_GRACE_S fails its node
 * (check_unschedulable()); its reason is kept meanwhile. A bound one clears the clock. */
static void note_scheduling(struct verify *v, const struct kube_pod *p, size_t b) {
        int64_t now = now_seconds();
        const char *reason = p->sched_reason ?: "Unschedulable";

        for (size_t i = 0; b < v->n_batches && v->names[b][i]; i++) {
                struct tracker_result *res = tracker_result_find(v->run, p->target_node, v->first[b] + i);
                size_t k;

                if (!res || res->state != TRACKER_STATE_WAITING)
                        continue;
                k = (size_t) (res - v->run->results);
                if (p->node_name || !p->unschedulable) {
                        v->unsched_since[k] = 0;
                        continue;
                }
                if (v->unsched_since[k] == 0)
                        v->unsched_since[k] = now;
                if (!streq_ptr(res->reason, reason) || !streq_ptr(res->message, p->sched_message))
                        (void) tracker_result_set(v->run, res->node, res->image, TRACKER_STATE_WAITING, NULL, reason,
                                                  p->sched_message);
        }
}

/* Fails the nodes unschedulable for UNSCHEDULABLE_GRACE_S. Returns the seconds until the
 * next may be due, or -1 when none waits. */
static int64_t check_unschedulable(struct verify *v) {
        int64_t now = now_seconds(), next = -1;

        for (size_t k = 0; k < v->run->n_results; k++) {
                struct tracker_result *res = &v->run->results[k];
                int64_t due = v->unsched_since[k] + UNSCHEDULABLE_GRACE_S;

                if (v->unsched_since[k] == 0 || res->state != TRACKER_STATE_WAITING)
                        continue;
                if (due <= now)
                        fail_node(v, res->node, res->reason ?: "Unschedulable", res->message);
                else if (next < 0 || due - now < next)
                        next = due - now;
        }
        return next;
}

static void observe_pod(struct verify *v, const struct kube_pod *p) {
        char *end;
        unsigned long b;

        if (!p->target_node || p->n_label_values < 1 || !p->label_values[0])
                return;
        b = strtoul(p->label_values[0], &end, 10);
        if (*end)
                return;
        note_pod(v, p->target_node, b);
        note_scheduling(v, p, b);
        if (!p->node_name)
                return;
        for (size_t i = 0; i < p->n_init_containers; i++)
                observe_init(v, p->node_name, b, &p->init_containers[i], p->deleting);
        for (size_t i = 0; i < p->n_containers; i++)
                observe_container(v, p, b, &p->containers[i]);
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
        return v->waiting == 0 || stage_run_due(v->m) || (v->causes.n > 0 && v->causes_due == 0) ? -ECANCELED : 0;
}

/* Reads the causes the statuses lacked from the pods' events, and classifies by them.
 * One whose event is not there yet is looked up again CAUSE_RETRY_S later. */
static void resolve_causes(struct verify *v) {
        for (size_t i = v->causes.n; i-- > 0;) {
                const struct verify_cause *q = &v->causes.items[i];
                struct tracker_result *res = tracker_result_find(v->run, q->node, q->image);
                _cleanup_(freep) char *msg = NULL, *digest = NULL;

                if (res && res->state == TRACKER_STATE_WAITING &&
                    verify_pull_cause(v->m, q->pod_uid, q->container, &msg) < 0)
                        continue;
                if (res && res->state == TRACKER_STATE_WAITING)
                        classify_pull(v, res, NULL, q->reason, msg, &digest);
                verify_causes_drop(&v->causes, i);
        }
        v->causes_due = v->causes.n > 0 ? now_seconds() + CAUSE_RETRY_S : 0;
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
        int64_t last_check = now_seconds(), unsched, wait_s;
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
                if (v->causes.n > 0 && now >= v->causes_due) {
                        resolve_causes(v);
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
                /* A kubelet writing status once per pod sync shows progress in events. */
                if (left <= 0 && verify_pulls_progressed(v->m, v->run->id, v->last_progress)) {
                        log_info("no pod status moved for %llds, but puller pods pull (Pulling/Pulled events)",
                                 (long long) c->pull_timeout);
                        v->last_progress = now;
                        continue;
                }
                if (left <= 0) {
                        check_nodes(v, 0);
                        time_out(v);
                        break;
                }
                r = stage_run_look(v->m, fail_uncreated, v);
                if (r < 0)
                        return r;
                unsched = check_unschedulable(v);
                if (v->dirty || stage_run_due(v->m))
                        continue;
                /* A batch done somewhere: come back soon to start the next one there. */
                wait_s = MIN(left, stage_run_pending(v->m) ? 1 : (int64_t) stage_run_look_in(v->m));
                if (unsched >= 0)
                        wait_s = MIN(wait_s, MAX(unsched, 1));
                if (v->causes.n > 0)
                        wait_s = MIN(wait_s, MAX(v->causes_due - now, 1));
                r = watch_pods(v, selector, (unsigned) wait_s);
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
