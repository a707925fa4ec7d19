/* SPDX-License-Identifier: MIT */
/* preload: decide which seeder still needs which image, record that, then create one
 * DaemonSet per batch of images, restricted to the seeders that need the batch. The
 * DaemonSet names are persisted before they are created; a create that finds the
 * DaemonSet already there (a resumed run) is fine. */
#include "machine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "resolve.h"
#include "util.h"

/* Whether the tracker's record (or the node itself, for a digest) shows the image held
 * fresh enough. Tags are pulled again after refresh_interval; digests never change. */
static const struct tracker_held_image *held_fresh(struct machine *m, const struct tracker_seeder *s,
                                                   const struct image_entry *img) {
        const struct tracker_held_image *h = s ? tracker_seeder_find_image(s, img->ref.normalized) : NULL;

        if (!h)
                return NULL;
        if (img->ref.digest)
                return h;
        if (m->config->refresh_interval > 0 && h->pulled_at > 0 &&
            now_seconds() - h->pulled_at < m->config->refresh_interval)
                return h;
        return NULL;
}

/* ms->images holds the normalised wanted references its node reports. */
static bool node_reports(const struct machine_seeder *ms, const struct image_entry *img) {
        for (size_t i = 0; ms && i < ms->n_images; i++)
                if (streq(ms->images[i], img->ref.normalized))
                        return true;
        return false;
}

/* After a resume the nodes were not read in this process: read the seeders now. */
static int on_seeder_node(struct node_info *n, void *userdata) {
        struct machine *m = userdata;
        int r = machine_held_images(n, m->images);

        return r < 0 ? r : machine_seeder_take(m, n);
}

static int read_seeders(struct machine *m) {
        struct kube_node_filter f = { .seeder_label_key = m->config->label_key,
                                      .owner_annotation_key = CLYDE_OWNER_ANNOTATION,
                                      .want_image = machine_want_image,
                                      .userdata = (void *) m->images };
        struct kube_list_options lo = { .label_selector = m->config->label,
                                        .limit = (unsigned) m->config->page_size };
        int r;

        machine_seeders_free(m);
        r = kube_list_nodes(m->kube, &lo, &f, on_seeder_node, NULL, m, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot list seeder nodes: %s", machine_api_error(m, r));
        m->seeders_known = true;
        return 0;
}

static const struct machine_seeder *find_seeder(const struct machine *m, const char *node) {
        for (size_t i = 0; i < m->n_seeders; i++)
                if (streq(m->seeders[i].node, node))
                        return &m->seeders[i];
        return NULL;
}

/* Whether this run's plan makes node a seeder that pulls. */
static bool pulls(const struct machine *m, const struct tracker_run *run, const struct tracker_seeder *s) {
        const struct tracker_plan_entry *e = tracker_plan_find(run, s->node);

        /* A seeder whose label did not stick has labelled_at 0 (a plan labels nothing). */
        return e && (s->labelled_at != 0 || m->dry_run) &&
               (e->action == TRACKER_ACTION_KEEP || e->action == TRACKER_ACTION_ADOPT ||
                e->action == TRACKER_ACTION_ADD);
}

/* Fills run.images and one result per seeder x image: skipped (held) or waiting. */
static int decide(struct machine *m) {
        struct tracker *t = m->tracker;
        struct tracker_run *run = t->run;
        _cleanup_(resolve_freep) struct resolve *rs = NULL;
        size_t waiting = 0, skipped = 0;
        int r;

        for (size_t i = 0; i < m->images->n; i++) {
                const struct image_ref *ref = &m->images->entries[i].ref;
                r = tracker_run_add_image(run, ref->normalized, ref->digest);
                if (r < 0)
                        return r;
        }
        if (!m->seeders_known) {
                r = read_seeders(m);
                if (r < 0)
                        return r;
        }
        r = resolve_prepare(m, &rs);
        if (r < 0)
                return r;
        for (size_t s = 0; s < t->n_seeders; s++) {
                const struct tracker_seeder *ts = &t->seeders[s];
                const struct machine_seeder *ms = find_seeder(m, ts->node);
                if (!pulls(m, run, ts))
                        continue;
                for (size_t i = 0; i < m->images->n; i++) {
                        const struct image_entry *img = &m->images->entries[i];
                        const struct tracker_held_image *h = held_fresh(m, ts, img);
                        bool held = h || (img->ref.digest && node_reports(ms, img));
                        struct resolve_verdict v;
                        resolve_judge(rs, m, ts, i, held, h ? h->digest : img->ref.digest, &v);
                        r = tracker_result_set(run, ts->node, i, v.state, v.digest, v.reason, v.message);
                        free(v.message);
                        if (r < 0)
                                return r;
                        v.state == TRACKER_STATE_WAITING ? waiting++ : skipped++;
                }
        }
        log_info("%zu images on %zu seeders: %zu to pull, %zu already held or not to pull", m->images->n,
                 t->n_seeders, waiting, skipped);
        resolve_report(m);
        return 0;
}

/* Seeders with a waiting result for an image in [first, first + n). Borrowed names. */
static int batch_nodes(const struct tracker_run *run, size_t first, size_t n, const char ***ret,
                       size_t *ret_n) {
        const char **l = NULL;
        size_t k = 0;

        for (size_t i = 0; i < run->n_results; i++) {
                const struct tracker_result *res = &run->results[i];
                if (res->state != TRACKER_STATE_WAITING || res->image < first || res->image >= first + n)
                        continue;
                if (k > 0 && streq(l[k - 1], res->node))
                        continue; /* results of one node are adjacent */
                bool seen = false;
                for (size_t j = 0; j < k && !seen; j++)
                        seen = streq(l[j], res->node);
                if (seen)
                        continue;
                const char **nl = realloc(l, (k + 1) * sizeof(char *));
                if (!nl) {
                        free(l);
                        return -ENOMEM;
                }
                l = nl;
                l[k++] = res->node;
        }
        *ret = l;
        *ret_n = k;
        return 0;
}

/* One DaemonSet: the images of mask (bits over the batch) on nodes. Group 0 keeps the
 * batch's own name; further groups (seeders that may not run every image) get their own. */
static int create_ds(struct machine *m, const struct toleration *tols, size_t n_tols, unsigned b, unsigned g,
                     char **names, char **pull, size_t n, const struct resolve_group *grp) {
        const struct config *c = m->config;
        struct tracker_run *run = m->tracker->run;
        _cleanup_(freep) char *ds = NULL, *cause = NULL;
        const char *imgs[64], *cnames[64];
        size_t k = 0, n_secrets = 0;
        json_object *o = NULL;
        int r;

        for (size_t i = 0; i < n; i++)
                if (grp->mask & (UINT64_C(1) << i)) {
                        imgs[k] = pull[i];
                        cnames[k++] = names[i];
                }
        r = manifest_daemonset_name(run->id, b + 1000 * g, &ds, &cause);
        if (r < 0)
                return log_error_errno(r, "DaemonSet name: %s", strempty(cause));
        while (c->image_pull_secrets && c->image_pull_secrets[n_secrets])
                n_secrets++;
        struct manifest_params p = {
                .namespace = c->namespace, .name = ds, .run_id = run->id, .batch = b,
                .images = imgs, .container_names = cnames, .n_images = k,
                .label_key = c->label_key, .label_value = c->label_value,
                .nodes = grp->nodes, .n_nodes = grp->n_nodes, .helper_image = c->helper_image,
                .tolerations = tols, .n_tolerations = n_tols,
                .pull_secrets = (const char *const *) c->image_pull_secrets, .n_pull_secrets = n_secrets,
                .priority_class = c->priority_class,
        };
        r = manifest_build(&p, &o, &cause);
        if (r < 0)
                return log_error_errno(r, "DaemonSet '%s': %s", ds, strempty(cause));
        /* Persist the name before creating it: a crash in between leaves no orphan unknown. */
        if (tracker_run_add_daemonset(run, ds) == 0) {
                r = machine_persist(m);
                if (r < 0)
                        goto out;
        }
        r = kube_create_daemonset(m->kube, c->namespace, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), NULL);
        if (r == -EEXIST)
                r = 0;
        if (r < 0)
                log_error_errno(r, "cannot create DaemonSet '%s': %s", ds, machine_api_error(m, r));
        else
                log_info("DaemonSet '%s': %zu images on %zu seeders", ds, k, grp->n_nodes);
out:
        json_object_put(o);
        return r;
}

static int create_batch(struct machine *m, const struct toleration *tols, size_t n_tols, unsigned b,
                        size_t first, size_t n) {
        struct tracker_run *run = m->tracker->run;
        _cleanup_(freep) const char **nodes = NULL;
        _cleanup_(strv_freep) char **names = NULL, **pull = NULL;
        struct resolve_group *groups = NULL;
        const char *refs[64];
        size_t n_nodes = 0, n_groups = 0;
        int r;

        r = batch_nodes(run, first, n, &nodes, &n_nodes);
        if (r < 0 || n_nodes == 0)
                return r;
        r = machine_check_access(m);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                refs[i] = run->images[first + i].ref;
        r = images_container_names(refs, n, &names);
        if (r >= 0) /* names from the references as written; pulls by resolved digest */
                r = resolve_pull_refs(run, first, n, &pull);
        if (r >= 0)
                r = resolve_batch_groups(run, first, n, nodes, n_nodes, &groups, &n_groups);
        for (size_t g = 0; r >= 0 && g < n_groups; g++)
                r = create_ds(m, tols, n_tols, b, (unsigned) g, names, pull, n, &groups[g]);
        resolve_groups_free(groups, n_groups);
        return r;
}

int phase_preload(struct machine *m) {
        struct tracker_run *run = m->tracker->run;
        _cleanup_(freep) struct toleration *tols = NULL;
        _cleanup_(freep) char *cause = NULL;
        size_t n_tols = 0, n_batches = 0, per = (size_t) m->config->images_per_daemonset;
        int r;

        if (run->n_images == 0) {
                r = decide(m);
                if (r < 0)
                        return r;
                r = machine_persist(m);
                if (r < 0)
                        return r;
        }
        while (m->config->tolerations && m->config->tolerations[n_tols])
                n_tols++;
        r = toleration_parse_many((const char *const *) m->config->tolerations, n_tols, &tols, &cause);
        if (r < 0)
                return log_error_errno(r, "tolerations: %s", strempty(cause));
        (void) manifest_batch_count(run->n_images, per, &n_batches);
        for (size_t b = 0; b < n_batches && r >= 0; b++) {
                size_t first, n;
                (void) manifest_batch_range(run->n_images, per, b, &first, &n);
                r = create_batch(m, tols, n_tols, (unsigned) b, first, n);
        }
        toleration_array_free(TAKE_PTR(tols), n_tols);
        return r;
}

int phase_preload_plan(struct machine *m, size_t *ret_daemonsets, size_t *ret_pulls) {
        struct tracker_run *run = m->tracker->run;
        size_t n_batches = 0, ds = 0, pulls = 0;
        int r;

        r = decide(m);
        if (r < 0)
                return r;
        (void) manifest_batch_count(run->n_images, (size_t) m->config->images_per_daemonset, &n_batches);
        for (size_t b = 0; b < n_batches; b++) {
                _cleanup_(freep) const char **nodes = NULL;
                size_t first, n, n_nodes = 0;
                (void) manifest_batch_range(run->n_images, (size_t) m->config->images_per_daemonset, b, &first, &n);
                r = batch_nodes(run, first, n, &nodes, &n_nodes);
                if (r < 0)
                        return r;
                ds += n_nodes > 0;
        }
        for (size_t i = 0; i < run->n_results; i++)
                pulls += run->results[i].state == TRACKER_STATE_WAITING;
        *ret_daemonsets = ds;
        *ret_pulls = pulls;
        return 0;
}
