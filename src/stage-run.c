/* SPDX-License-Identifier: MIT */
#include "stage-run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "resolve.h"
#include "stage.h"
#include "util.h"

/* Results settle in bursts: starting the next DaemonSets at most this often groups the
 * seeders done at about the same time into one DaemonSet. */
#define STAGE_FLUSH_MS 500
/* Verify reads the run's DaemonSets' status this often, and their Events once one has had
 * fewer pods than desired for this long (a controller that cannot create pods). */
#define STAGE_LOOK_MS 10000
#define STAGE_SHORT_MS 10000

struct wave {
        char *name;
        size_t batch;
        size_t *nodes; /* stage node indices */
        size_t n_nodes;
        int64_t short_since; /* when its DaemonSet was first seen with fewer pods than desired */
        bool reported;       /* its controller's failure was reported */
};

struct stage_run {
        struct stage *stage;
        uint8_t *started; /* n_nodes x n_batches: a DaemonSet was started for it */
        struct wave *waves;
        size_t n_waves;
        struct toleration *tols;
        size_t n_tols;
        int64_t last_flush_ms;
        int64_t last_look_ms;
        bool pending;
};

static int64_t now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wave_done(struct wave *w) {
        free(w->name);
        free(w->nodes);
}

void stage_run_free(struct machine *m) {
        struct stage_run *s = m->stages;

        if (!s)
                return;
        for (size_t i = 0; i < s->n_waves; i++)
                wave_done(&s->waves[i]);
        free(s->waves);
        free(s->started);
        toleration_array_free(s->tols, s->n_tols);
        stage_free(s->stage);
        free(s);
        m->stages = NULL;
}

static int build(struct machine *m) {
        const struct config *c = m->config;
        _cleanup_(freep) char *cause = NULL;
        struct stage_run *s;
        int r;

        s = m->stages = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        r = stage_new(m->tracker->run, (size_t) c->images_per_daemonset, (size_t) MAX(c->pods_per_seeder, 1),
                      &s->stage);
        if (r < 0)
                return r;
        s->started = calloc(s->stage->n_nodes * s->stage->n_batches + 1, 1);
        if (!s->started)
                return -ENOMEM;
        while (c->tolerations && c->tolerations[s->n_tols])
                s->n_tols++;
        r = toleration_parse_many((const char *const *) c->tolerations, s->n_tols, &s->tols, &cause);
        if (r < 0) {
                s->n_tols = 0;
                return log_error_errno(r, "tolerations: %s", strempty(cause));
        }
        return 0;
}

static int add_wave(struct stage_run *s, char **name, size_t b, size_t **idx, size_t n);

/* Adopts recorded DaemonSet d as a wave: its batch label and the nodes of its affinity
 * say which seeders pull which batch in it. Returns 1 adopted, 0 not ours to adopt. */
static int adopt(struct machine *m, const struct kube_daemonset *d) {
        struct stage_run *s = m->stages;
        _cleanup_(freep) size_t *idx = NULL;
        _cleanup_(freep) char *name = NULL;
        size_t n = 0, k = 0;
        char *end;
        unsigned long b;

        if (d->deleting || !d->run_label || !d->nodes)
                return 0;
        b = strtoul(d->run_label, &end, 10);
        if (*end || end == d->run_label || b >= s->stage->n_batches)
                return 0;
        while (d->nodes[n])
                n++;
        idx = calloc(n + 1, sizeof(size_t));
        name = strdup(d->name);
        if (!idx || !name)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                ssize_t j = stage_find(s->stage, d->nodes[i]);
                if (j >= 0 && !s->started[(size_t) j * s->stage->n_batches + b])
                        idx[k++] = (size_t) j;
        }
        if (k == 0)
                return 0;
        return add_wave(s, &name, b, &idx, k) < 0 ? -ENOMEM : 1;
}

/* A resumed run: the puller pods of the DaemonSets it recorded keep pulling (a kubelet
 * does not cancel a pull when its pod goes), so they are adopted as they are; only one
 * that cannot be read back (gone, being deleted, not ours) is deleted. */
static int resume_recorded(struct machine *m) {
        struct tracker_run *run = m->tracker->run;
        _cleanup_(freep) char *selector = NULL;
        struct kube_daemonset *l = NULL;
        size_t n = 0, adopted = 0;
        int r;

        if (run->n_daemonsets == 0)
                return 0;
        if (asprintf(&selector, "%s=%s", CLYDE_RUN_LABEL, run->id) < 0)
                return -ENOMEM;
        r = kube_list_daemonsets(m->kube, m->config->namespace, selector, CLYDE_BATCH_LABEL, &l, &n, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot list DaemonSets: %s", machine_api_error(m, r));
        for (size_t i = run->n_daemonsets; r >= 0 && i > 0; i--) {
                _cleanup_(freep) char *name = strdup(run->daemonsets[i - 1]);
                const struct kube_daemonset *d = NULL;
                if (!name) {
                        r = -ENOMEM;
                        break;
                }
                for (size_t j = 0; j < n && !d; j++)
                        if (streq(l[j].name, name))
                                d = &l[j];
                r = d ? adopt(m, d) : 0;
                if (r != 0) {
                        adopted += r > 0;
                        continue;
                }
                r = kube_delete_daemonset(m->kube, m->config->namespace, name, "Background");
                if (r < 0 && r != -ENOENT) {
                        log_error_errno(r, "cannot delete DaemonSet '%s': %s", name, machine_api_error(m, r));
                        break;
                }
                (void) tracker_run_remove_daemonset(run, name);
                r = machine_persist(m);
        }
        kube_daemonset_array_free(l, n);
        if (r >= 0)
                log_info("resuming: adopted %zu of the DaemonSets this run recorded", adopted);
        return r < 0 ? r : 0;
}

static int create(struct machine *m, const struct manifest_params *p) {
        _cleanup_(freep) char *cause = NULL;
        json_object *o = NULL;
        int r;

        r = manifest_build(p, &o, &cause);
        if (r < 0)
                return log_error_errno(r, "DaemonSet '%s': %s", p->name, strempty(cause));
        /* Persist the name before creating it: a crash in between leaves no orphan unknown. */
        if (tracker_run_add_daemonset(m->tracker->run, p->name) == 0) {
                r = machine_persist(m);
                if (r < 0)
                        goto out;
        }
        r = kube_create_daemonset(m->kube, m->config->namespace,
                                  json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), NULL);
        if (r == -EEXIST)
                r = 0;
        if (r < 0)
                log_error_errno(r, "cannot create DaemonSet '%s': %s", p->name, machine_api_error(m, r));
        else
                log_info("DaemonSet '%s': batch %u, %zu images on %zu seeders", p->name, p->batch, p->n_images,
                         p->n_nodes);
out:
        json_object_put(o);
        return r;
}

static void fill_params(struct machine *m, size_t b, size_t n_images, const char **refs, const char **names,
                        struct manifest_params *p) {
        const struct config *c = m->config;
        const struct stage_run *s = m->stages;
        size_t n_secrets = 0;

        while (c->image_pull_secrets && c->image_pull_secrets[n_secrets])
                n_secrets++;
        *p = (struct manifest_params) {
                .namespace = c->namespace, .run_id = m->tracker->run->id, .batch = (unsigned) b,
                .images = refs, .container_names = names, .n_images = n_images,
                .label_key = c->label_key, .label_value = c->label_value, .helper_image = c->helper_image,
                .tolerations = s->tols, .n_tolerations = s->n_tols,
                .pull_secrets = (const char *const *) c->image_pull_secrets, .n_pull_secrets = n_secrets,
                .priority_class = c->priority_class,
                .cpu_request = c->cpu_request, .cpu_limit = c->cpu_limit,
                .memory_request = c->memory_request, .memory_limit = c->memory_limit,
                .run_as_user = c->run_as_uid,
        };
}

static int add_wave(struct stage_run *s, char **name, size_t b, size_t **idx, size_t n) {
        struct wave *l = realloc(s->waves, (s->n_waves + 1) * sizeof(*l));

        if (!l)
                return -ENOMEM;
        s->waves = l;
        s->waves[s->n_waves++] = (struct wave) { .name = TAKE_PTR(*name), .batch = b, .nodes = TAKE_PTR(*idx),
                                                 .n_nodes = n };
        for (size_t i = 0; i < n; i++)
                s->started[s->waves[s->n_waves - 1].nodes[i] * s->stage->n_batches + b] = 1;
        return 0;
}

/* Of batch b, the images in mask: the pull references ("repo:tag@digest" when resolved)
 * and container names (named over the whole batch, as verify reads them back), borrowed
 * from *ret_pull and *ret_names. Returns the count or a negative errno. */
static int wave_images(const struct machine *m, size_t b, uint64_t mask, const char **refs, const char **cnames,
                       char ***ret_names, char ***ret_pull) {
        const struct tracker_run *run = m->tracker->run;
        const char *all[64];
        size_t first, len, k = 0;
        int r;

        (void) manifest_batch_range(run->n_images, (size_t) m->config->images_per_daemonset, b, &first, &len);
        len = MIN(len, ELEMENTSOF(all));
        for (size_t i = 0; i < len; i++)
                all[i] = run->images[first + i].ref;
        r = images_container_names(all, len, ret_names);
        if (r >= 0)
                r = resolve_pull_refs(run, first, len, ret_pull);
        if (r < 0)
                return r;
        for (size_t i = 0; i < len; i++)
                if (mask & (UINT64_C(1) << i)) {
                        refs[k] = (*ret_pull)[i];
                        cnames[k++] = (*ret_names)[i];
                }
        return (int) k;
}

/* One DaemonSet of batch b with the images in mask for the n stage nodes in *idx (taken
 * on success). */
static int start_wave(struct machine *m, size_t b, uint64_t mask, size_t **idx, size_t n) {
        struct stage_run *s = m->stages;
        struct tracker_run *run = m->tracker->run;
        _cleanup_(strv_freep) char **names = NULL, **pull = NULL;
        _cleanup_(freep) const char **nodes = calloc(n, sizeof(char *));
        _cleanup_(freep) char *ds = NULL, *cause = NULL;
        const char *refs[64], *cnames[64];
        struct manifest_params p;
        size_t k;
        int r;

        if (!nodes)
                return -ENOMEM;
        r = wave_images(m, b, mask, refs, cnames, &names, &pull);
        if (r < 0)
                return r;
        k = (size_t) r;
        for (size_t i = 0; i < n; i++)
                nodes[i] = s->stage->nodes[(*idx)[i]].name;
        /* The step about to be persisted is unique within the run: it names the part. */
        r = manifest_daemonset_name(run->id, (unsigned) b, (unsigned) (run->step + 1), &ds, &cause);
        if (r < 0)
                return log_error_errno(r, "DaemonSet name: %s", strempty(cause));
        fill_params(m, b, k, refs, cnames, &p);
        p.name = ds;
        p.part = (unsigned) (run->step + 1);
        p.nodes = nodes;
        p.n_nodes = n;
        r = create(m, &p);
        if (r < 0)
                return r;
        return add_wave(s, &ds, b, idx, n);
}

/* DaemonSets for the seeders whose batch b came into flight: at most
 * MANIFEST_NODES_PER_DAEMONSET seeders each, and one per set of images the seeders may
 * run (an image not applicable to a seeder has no container in its pod). */
static int start_batch(struct machine *m, size_t b) {
        struct stage_run *s = m->stages;
        int r;

        for (;;) {
                _cleanup_(freep) size_t *idx = NULL;
                struct stage_group *g = NULL;
                size_t n = 0, n_groups = 0;
                r = stage_to_start(s->stage, s->started, b, MANIFEST_NODES_PER_DAEMONSET, &idx, &n);
                if (r < 0 || n == 0)
                        return r;
                r = machine_check_access(m);
                if (r >= 0)
                        r = stage_split(s->stage, b, idx, n, &g, &n_groups);
                for (size_t i = 0; r >= 0 && i < n_groups; i++)
                        r = start_wave(m, b, g[i].mask, &g[i].nodes, g[i].n_nodes);
                stage_groups_free(g, n_groups);
                if (r < 0)
                        return r;
        }
}

static bool wave_finished(const struct stage_run *s, const struct wave *w) {
        for (size_t i = 0; i < w->n_nodes; i++)
                if (stage_waiting(s->stage, w->nodes[i], w->batch))
                        return false;
        return true;
}

/* Deletes DaemonSets whose seeders are all done with their batch: frees their pods. */
static int end_waves(struct machine *m) {
        struct stage_run *s = m->stages;
        int r;

        for (size_t i = 0; i < s->n_waves;) {
                struct wave *w = &s->waves[i];
                if (!wave_finished(s, w)) {
                        i++;
                        continue;
                }
                r = kube_delete_daemonset(m->kube, m->config->namespace, w->name, "Background");
                if (r < 0 && r != -ENOENT)
                        return log_error_errno(r, "cannot delete DaemonSet '%s': %s", w->name,
                                               machine_api_error(m, r));
                log_info("DaemonSet '%s': its %zu seeders are done with batch %zu", w->name, w->n_nodes, w->batch);
                (void) tracker_run_remove_daemonset(m->tracker->run, w->name);
                wave_done(w);
                s->waves[i] = s->waves[--s->n_waves];
                r = machine_persist(m);
                if (r < 0)
                        return r;
        }
        return 0;
}

int stage_run_flush(struct machine *m) {
        struct stage_run *s = m->stages;
        int r = 0;

        if (!s)
                return 0;
        s->pending = false;
        s->last_flush_ms = now_ms();
        /* Delete first: a seeder's finished pod goes before its next one comes. */
        r = end_waves(m);
        for (size_t b = 0; r >= 0 && b < s->stage->n_batches; b++)
                r = start_batch(m, b);
        return r;
}

int stage_run_start(struct machine *m) {
        int r;

        if (m->stages)
                return 0;
        r = build(m);
        if (r >= 0)
                r = resume_recorded(m);
        if (r >= 0)
                r = stage_run_flush(m);
        return r;
}

bool stage_run_pending(const struct machine *m) {
        return m->stages && m->stages->pending;
}

bool stage_run_due(const struct machine *m) {
        return stage_run_pending(m) && now_ms() - m->stages->last_flush_ms >= STAGE_FLUSH_MS;
}

void stage_run_settled(struct machine *m, const char *node, size_t image) {
        struct stage_run *s = m->stages;
        ssize_t i;

        if (!s || image >= m->tracker->run->n_images)
                return;
        i = stage_find(s->stage, node);
        if (i >= 0 && !stage_waiting(s->stage, (size_t) i, s->stage->batch_of[image]))
                s->pending = true;
}

bool stage_run_waiting(const struct machine *m, const char *node, size_t b) {
        const struct stage_run *s = m->stages;
        ssize_t i;

        if (!s || b >= s->stage->n_batches)
                return true;
        i = stage_find(s->stage, node);
        return i < 0 || stage_waiting(s->stage, (size_t) i, b);
}

/* DaemonSets start_batch() makes of the n nodes idx of batch b: parts of at most
 * MANIFEST_NODES_PER_DAEMONSET nodes, each split by the images its seeders may run. */
static size_t count_parts(const struct stage *st, size_t b, const size_t *idx, size_t n) {
        size_t total = 0;

        for (size_t at = 0; at < n; at += MANIFEST_NODES_PER_DAEMONSET) {
                struct stage_group *g = NULL;
                size_t n_groups = 0;
                /* Out of memory counts the part as one DaemonSet: plan only shows it. */
                if (stage_split(st, b, idx + at, MIN(n - at, (size_t) MANIFEST_NODES_PER_DAEMONSET), &g,
                                &n_groups) < 0)
                        n_groups = 1;
                total += n_groups;
                stage_groups_free(g, n_groups);
        }
        return total;
}

int stage_run_count(struct machine *m, size_t *ret) {
        const struct config *c = m->config;
        _cleanup_(stage_freep) struct stage *st = NULL;
        size_t total = 0;
        int r;

        r = stage_new(m->tracker->run, (size_t) c->images_per_daemonset, (size_t) MAX(c->pods_per_seeder, 1), &st);
        if (r < 0)
                return r;
        for (size_t b = 0; b < st->n_batches; b++) {
                _cleanup_(freep) size_t *idx = NULL;
                size_t n = 0;
                r = stage_to_start(st, NULL, b, 0, &idx, &n);
                if (r < 0)
                        return r;
                total += count_parts(st, b, idx, n);
        }
        *ret = total;
        return 0;
}

/* ---- pods the DaemonSet controller cannot create ---- */

struct event_pick {
        char *reason;
        char *message;
        char *last;
};

static void event_pick_done(struct event_pick *p) {
        free(p->reason);
        free(p->message);
        free(p->last);
}

/* Keeps the newest FailedCreate or FailedPlacement Warning (RFC 3339 UTC times sort as text). */
static int pick_event(const struct kube_event_record *e, void *userdata) {
        struct event_pick *p = userdata;
        struct event_pick n = {};

        if (!streq_ptr(e->type, "Warning") ||
            !(streq_ptr(e->reason, "FailedCreate") || streq_ptr(e->reason, "FailedPlacement")))
                return 0;
        if (p->reason && strcmp(strempty(e->last), strempty(p->last)) < 0)
                return 0;
        n.reason = strdup(e->reason);
        n.message = strdup(strempty(e->message));
        n.last = strdup(strempty(e->last));
        if (!n.reason || !n.message || !n.last) {
                event_pick_done(&n);
                return -ENOMEM;
        }
        event_pick_done(p);
        *p = n;
        return 0;
}

/* Reads d's Events; reports each seeder of w with the newest failure to create its pod. */
static int report_wave(struct machine *m, struct wave *w, const struct kube_daemonset *d, stage_fail_fn fail,
                       void *userdata) {
        struct stage_run *s = m->stages;
        _cleanup_(freep) char *selector = NULL;
        struct event_pick p = {};
        int r;

        if (asprintf(&selector, "involvedObject.uid=%s", strempty(d->uid)) < 0)
                return -ENOMEM;
        r = kube_list_events(m->kube, m->config->namespace, selector, pick_event, &p);
        if (r < 0)
                log_warning("DaemonSet '%s': cannot list its events: %s", w->name, machine_api_error(m, r));
        else if (p.reason) {
                log_error("DaemonSet '%s': %" PRId64 " of %" PRId64 " pods exist: %s: %s", w->name, d->current,
                          d->desired, p.reason, p.message);
                w->reported = true;
                for (size_t i = 0; i < w->n_nodes; i++)
                        fail(userdata, s->stage->nodes[w->nodes[i]].name, w->batch, p.reason, p.message);
        }
        event_pick_done(&p);
        return r == -ENOMEM ? r : 0;
}

static void look_wave(struct machine *m, struct wave *w, const struct kube_daemonset *d, int64_t now,
                      stage_fail_fn fail, void *userdata, int *ret) {
        if (!d || d->desired <= d->current || w->reported) {
                w->short_since = 0;
                return;
        }
        if (w->short_since == 0) {
                w->short_since = now;
                return;
        }
        if (now - w->short_since >= STAGE_SHORT_MS && *ret >= 0)
                *ret = report_wave(m, w, d, fail, userdata);
}

int stage_run_look(struct machine *m, stage_fail_fn fail, void *userdata) {
        struct stage_run *s = m->stages;
        _cleanup_(freep) char *selector = NULL;
        struct kube_daemonset *l = NULL;
        size_t n = 0;
        int64_t now = now_ms();
        int r;

        if (!s || s->n_waves == 0 || now - s->last_look_ms < STAGE_LOOK_MS)
                return 0;
        s->last_look_ms = now;
        if (asprintf(&selector, "%s=%s", CLYDE_RUN_LABEL, m->tracker->run->id) < 0)
                return -ENOMEM;
        r = kube_list_daemonsets(m->kube, m->config->namespace, selector, NULL, &l, &n, NULL);
        if (r < 0) {
                log_warning("cannot list the run's DaemonSets: %s", machine_api_error(m, r));
                return r == -ENOMEM ? r : 0;
        }
        /* Waves may end while reporting (a failed seeder settles): index, not pointer. */
        for (size_t i = 0; i < s->n_waves && r >= 0; i++) {
                const struct kube_daemonset *d = NULL;
                for (size_t j = 0; j < n && !d; j++)
                        if (streq(l[j].name, s->waves[i].name))
                                d = &l[j];
                look_wave(m, &s->waves[i], d, now, fail, userdata, &r);
        }
        kube_daemonset_array_free(l, n);
        return r;
}

unsigned stage_run_look_in(const struct machine *m) {
        const struct stage_run *s = m->stages;
        int64_t left;

        if (!s || s->n_waves == 0)
                return 60;
        left = s->last_look_ms + STAGE_LOOK_MS - now_ms();
        return left <= 0 ? 1 : (unsigned) ((left + 999) / 1000);
}
