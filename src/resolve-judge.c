/* SPDX-License-Identifier: MIT */
/* Verdicts per seeder x image from the tracker's tags and the seeders' storage; the pull
 * references; what plan shows. */
#define _GNU_SOURCE 1
#include "resolve-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "seedfit.h"

static struct resolve_node *find_node(struct resolve *rs, const char *name) {
        for (size_t i = 0; rs && i < rs->n_nodes; i++)
                if (streq(rs->nodes[i].name, name))
                        return &rs->nodes[i];
        return NULL;
}

/* The tag record behind run image i when this run resolved it (its digest is the run's). */
static const struct tracker_tag *run_tag(const struct machine *m, size_t i) {
        const struct tracker_image *img = &m->tracker->run->images[i];
        const struct tracker_tag *g = tracker_tag_find(m->tracker, img->ref);

        return g && img->digest && streq(g->digest, img->digest) ? g : NULL;
}

static void not_applicable(const struct tracker_tag *g, const struct seedfit_node *sn, struct resolve_verdict *v) {
        char offered[512], own[128];

        v->state = TRACKER_STATE_NOT_APPLICABLE;
        v->reason = "platform";
        if (asprintf(&v->message, "the image offers %s; the node is %s", seedfit_platforms(g, offered, sizeof(offered)),
                     seedfit_platform_name(sn->os ?: "linux", sn->arch, NULL, own, sizeof(own))) < 0)
                v->message = NULL;
}

static void too_large(const struct seedfit_node *sn, int64_t size, double share, struct resolve_verdict *v) {
        char need[32], used[32], cap[32];

        v->state = TRACKER_STATE_FAILED;
        v->reason = "TooLarge";
        if (asprintf(&v->message, "needs %s; with %s of images already there and planned, the node would pass "
                     "%g%% of its %s ephemeral storage ([registry] max_disk_share)",
                     seedfit_bytes(size, need, sizeof(need)),
                     seedfit_bytes(sn->images_bytes + sn->planned, used, sizeof(used)), share,
                     seedfit_bytes(sn->capacity, cap, sizeof(cap))) < 0)
                v->message = NULL;
}

void resolve_judge(struct resolve *rs, struct machine *m, const struct tracker_seeder *ts, size_t i, bool held,
                   const char *held_digest, struct resolve_verdict *v) {
        const struct tracker_tag *g = rs ? run_tag(m, i) : NULL;
        struct resolve_node *rn = find_node(rs, ts->node);
        const struct tracker_platform *p;
        const struct tracker_held_image *h;
        bool unknown;

        *v = (struct resolve_verdict) { .state = held ? TRACKER_STATE_SKIPPED : TRACKER_STATE_WAITING,
                                        .digest = held ? held_digest : m->tracker->run->images[i].digest };
        if (!g)
                return; /* not resolved: today's rule */
        struct seedfit_node sn = { .os = rn ? rn->os : NULL, .arch = rn && rn->arch ? rn->arch : ts->arch,
                                   .capacity = rn ? rn->capacity : -1, .images_bytes = rn ? rn->images_bytes : 0,
                                   .planned = rn ? rn->planned : 0 };
        p = seedfit_platform(g, &sn, &unknown);
        if (!p && !unknown)
                return not_applicable(g, &sn, v);
        /* The digest decides, not refresh_interval: the same digest is held, another is pulled. */
        h = tracker_seeder_find_image(ts, g->ref);
        if (h && streq_ptr(h->digest, g->digest)) {
                *v = (struct resolve_verdict) { .state = TRACKER_STATE_SKIPPED, .digest = g->digest };
                return;
        }
        v->state = TRACKER_STATE_WAITING;
        v->digest = g->digest;
        if (p && !seedfit_fits(&sn, p->size, m->config->registry_max_disk_share))
                return too_large(&sn, p->size, m->config->registry_max_disk_share, v);
        if (rn && p && p->size > 0)
                rn->planned += p->size;
}

int64_t resolve_result_bytes(const struct machine *m, const struct tracker_result *res) {
        const struct tracker_seeder *ts = tracker_seeder_find(m->tracker, res->node);
        const struct tracker_tag *g = run_tag(m, res->image);
        struct seedfit_node sn = { .arch = ts ? ts->arch : NULL };
        const struct tracker_platform *p;
        bool unknown;

        p = g ? seedfit_platform(g, &sn, &unknown) : NULL;
        return p ? p->size : -1;
}

void resolve_report(const struct machine *m) {
        const struct tracker_run *run = m->tracker->run;
        int64_t total = 0;
        size_t pulls = 0, unknown = 0;
        char buf[32];

        for (size_t i = 0; i < run->n_results; i++) {
                int64_t b;
                if (run->results[i].state != TRACKER_STATE_WAITING)
                        continue;
                pulls++;
                b = resolve_result_bytes(m, &run->results[i]);
                b < 0 ? unknown++ : (void) (total += b);
        }
        if (unknown)
                log_info("this run moves %s in %zu pulls (%zu more of unknown size: not resolved)",
                         seedfit_bytes(total, buf, sizeof(buf)), pulls - unknown, unknown);
        else
                log_info("this run moves %s in %zu pulls", seedfit_bytes(total, buf, sizeof(buf)), pulls);
}

int resolve_pull_refs(const struct tracker_run *run, size_t first, size_t n, char ***ret) {
        char **l = calloc(n + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct tracker_image *img = &run->images[first + i];
                int r = img->digest && !strchr(img->ref, '@') ? asprintf(&l[i], "%s@%s", img->ref, img->digest) :
                                                               ((l[i] = strdup(img->ref)) ? 0 : -1);
                if (r < 0) {
                        l[i] = NULL;
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        return 0;
}

/* Per image of the plan: seeders it applies to, not applicable, refused, bytes to pull. */
struct image_sum {
        size_t applies, not_applicable, refused, pulls;
        int64_t bytes;
};

static void image_sum(const struct machine *m, size_t i, struct image_sum *s) {
        const struct tracker_run *run = m->tracker->run;

        *s = (struct image_sum) {};
        for (size_t j = 0; j < run->n_results; j++) {
                const struct tracker_result *res = &run->results[j];
                int64_t b;
                if (res->image != i)
                        continue;
                if (res->state == TRACKER_STATE_NOT_APPLICABLE) {
                        s->not_applicable++;
                        continue;
                }
                s->applies++;
                s->refused += res->state == TRACKER_STATE_FAILED;
                if (res->state != TRACKER_STATE_WAITING)
                        continue;
                s->pulls++;
                b = resolve_result_bytes(m, res);
                s->bytes += b > 0 ? b : 0;
        }
}

void resolve_plan_print(const struct machine *m, FILE *f) {
        const struct tracker_run *run = m->tracker->run;

        fprintf(f, "\nimages\n");
        for (size_t i = 0; i < run->n_images; i++) {
                const struct tracker_tag *g = run_tag(m, i);
                struct image_sum s;
                char b[32];

                image_sum(m, i, &s);
                fprintf(f, "%s\n  digest     %s\n", run->images[i].ref,
                        run->images[i].digest ?: "not resolved (pulled by tag)");
                for (size_t k = 0; g && k < g->n_platforms; k++) {
                        char name[128];
                        fprintf(f, "  platform   %-20s %s\n",
                                seedfit_platform_name(g->platforms[k].os, g->platforms[k].arch,
                                                      g->platforms[k].variant, name, sizeof(name)),
                                seedfit_bytes(g->platforms[k].size, b, sizeof(b)));
                }
                fprintf(f, "  seeders    %zu apply, %zu not applicable, %zu refused (too large)\n", s.applies,
                        s.not_applicable, s.refused);
                fprintf(f, "  to pull    %s on %zu seeders\n", seedfit_bytes(s.bytes, b, sizeof(b)), s.pulls);
        }
}

static json_object *platforms_json(const struct tracker_tag *g) {
        json_object *a = json_object_new_array();

        for (size_t k = 0; a && g && k < g->n_platforms; k++) {
                json_object *p = json_object_new_object();
                if (!p)
                        break;
                json_object_object_add(p, "os", json_object_new_string(g->platforms[k].os));
                json_object_object_add(p, "architecture", json_object_new_string(g->platforms[k].arch));
                if (g->platforms[k].variant)
                        json_object_object_add(p, "variant", json_object_new_string(g->platforms[k].variant));
                json_object_object_add(p, "size", json_object_new_int64(g->platforms[k].size));
                json_object_array_add(a, p);
        }
        return a;
}

int resolve_plan_json(const struct machine *m, json_object *o) {
        const struct tracker_run *run = m->tracker->run;
        json_object *a = json_object_new_array();

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < run->n_images; i++) {
                json_object *e = json_object_new_object();
                struct image_sum s;
                if (!e)
                        break;
                image_sum(m, i, &s);
                json_object_object_add(e, "ref", json_object_new_string(run->images[i].ref));
                json_object_object_add(e, "digest", run->images[i].digest ? json_object_new_string(run->images[i].digest) : NULL);
                json_object_object_add(e, "platforms", platforms_json(run_tag(m, i)));
                json_object_object_add(e, "seeders", json_object_new_int64((int64_t) s.applies));
                json_object_object_add(e, "not_applicable", json_object_new_int64((int64_t) s.not_applicable));
                json_object_object_add(e, "refused", json_object_new_int64((int64_t) s.refused));
                json_object_object_add(e, "pulls", json_object_new_int64((int64_t) s.pulls));
                json_object_object_add(e, "bytes_to_pull", json_object_new_int64(s.bytes));
                json_object_array_add(a, e);
        }
        json_object_object_add(o, "images", a);
        return 0;
}
