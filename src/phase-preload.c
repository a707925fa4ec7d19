/* SPDX-License-Identifier: MIT */
/* preload: decide which seeder still needs which image, record that, then start the
 * first batch each seeder needs (stage-run.c: one DaemonSet per batch and group of at
 * most MANIFEST_NODES_PER_DAEMONSET seeders; verify starts the later batches). */
#include "phase.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "resolve.h"
#include "stage-run.h"
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

/* Whether a seeder still holds an image the tracker says it holds, from its node's
 * listing (never trusted to be whole: 50 images, 5 names each at most). A gone image is
 * counted on the tracker's record and seeded again; an unknown one is pulled again too,
 * which costs nothing on the node when it is there (see docs/eviction.md). */
static bool still_held(struct machine *m, struct tracker_seeder *ts, const struct machine_seeder *ms,
                       const struct image_entry *img, size_t *evicted) {
        struct tracker_held_image *h = tracker_seeder_find_image(ts, img->ref.normalized);

        if (!ms || !h) /* the node was not read: nothing to say against the record */
                return true;
        switch (node_image_presence(node_reports(ms, img), ms->listing_complete)) {
        case NODE_IMAGE_HELD:
                return true;
        case NODE_IMAGE_GONE:
                if (!m->dry_run) {
                        h->evictions++;
                        h->evicted_at = now_seconds();
                }
                (*evicted)++;
                log_notice("node '%s': %s is gone from the node (image garbage collection?), seeding it again",
                           ts->node, img->ref.normalized);
                return false;
        default:
                log_info("node '%s': lists too many images to tell whether it holds %s: pulling it again",
                         ts->node, img->ref.normalized);
                return false;
        }
}

/* Fills run.images and one result per seeder x image: skipped (held) or waiting. */
static int decide(struct machine *m) {
        struct tracker *t = m->tracker;
        struct tracker_run *run = t->run;
        _cleanup_(resolve_freep) struct resolve *rs = NULL;
        size_t waiting = 0, skipped = 0, evicted = 0;
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
                        if (h && !still_held(m, &t->seeders[s], ms, img, &evicted))
                                h = NULL;
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
        log_info("%zu images on %zu seeders: %zu to pull (%zu gone from their seeder), %zu already held "
                 "or not to pull", m->images->n, t->n_seeders, waiting, evicted, skipped);
        resolve_report(m);
        return 0;
}

int phase_preload(struct machine *m) {
        struct tracker_run *run = m->tracker->run;
        int r;

        if (run->n_images == 0) {
                r = decide(m);
                if (r < 0)
                        return r;
                r = machine_persist(m);
                if (r < 0)
                        return r;
        }
        /* The first batches of every seeder; verify starts the next ones as they finish. */
        return stage_run_start(m);
}

int phase_preload_plan(struct machine *m, size_t *ret_daemonsets, size_t *ret_pulls) {
        struct tracker_run *run = m->tracker->run;
        size_t pulls = 0;
        int r;

        r = decide(m);
        if (r < 0)
                return r;
        r = stage_run_count(m, ret_daemonsets);
        if (r < 0)
                return r;
        for (size_t i = 0; i < run->n_results; i++)
                pulls += run->results[i].state == TRACKER_STATE_WAITING;
        *ret_pulls = pulls;
        return 0;
}
