/* SPDX-License-Identifier: MIT */
#include "status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "estimate.h"
#include "exitcode.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"
#include "phase.h"
#include "resolve.h"
#include "util.h"

static void fmt_time(int64_t t, char *buf, size_t size) {
        if (t <= 0 || tracker_time_format(t, buf, size) < 0)
                (void) snprintf(buf, size, "-");
}

static void show_seeders(const struct tracker *t) {
        printf("\n%-32s %-14s %-8s %-21s %-5s %s\n", "SEEDER", "ZONE", "ARCH", "LABELLED", "OWNED", "IMAGES");
        for (size_t i = 0; i < t->n_seeders; i++) {
                const struct tracker_seeder *s = &t->seeders[i];
                char at[32];
                fmt_time(s->labelled_at, at, sizeof(at));
                printf("%-32s %-14s %-8s %-21s %-5s %zu\n", s->node, s->zone ? s->zone : "-",
                       s->arch ? s->arch : "-", at, s->owned ? "yes" : "no", s->n_images);
        }
}

/* Every image any seeder holds, with how many seeders hold it and its digest. */
static void show_images(const struct tracker *t) {
        struct row {
                const char *ref, *digest;
                size_t count;
        } *rows = NULL;
        size_t n = 0;

        for (size_t i = 0; i < t->n_seeders; i++)
                for (size_t j = 0; j < t->seeders[i].n_images; j++) {
                        const struct tracker_held_image *h = &t->seeders[i].images[j];
                        size_t k = 0;
                        while (k < n && !streq(rows[k].ref, h->ref))
                                k++;
                        if (k == n) {
                                struct row *nr = realloc(rows, (n + 1) * sizeof(*rows));
                                if (!nr)
                                        goto out;
                                rows = nr;
                                rows[n++] = (struct row) { h->ref, h->digest, 0 };
                        }
                        rows[k].count++;
                }
        printf("\n%-56s %-8s %s\n", "IMAGE", "SEEDERS", "DIGEST");
        for (size_t k = 0; k < n; k++)
                printf("%-56s %-8zu %s\n", rows[k].ref, rows[k].count, rows[k].digest ? rows[k].digest : "-");
out:
        free(rows);
}

/* The run in progress: pulls per state, and each seeder x image without a variant for
 * the seeder's platform (not a failure). */
static void show_run_results(const struct tracker_run *run) {
        size_t count[_TRACKER_STATE_MAX] = { 0 };
        bool any = false;

        if (!run || run->n_results == 0)
                return;
        for (size_t i = 0; i < run->n_results; i++)
                if ((unsigned) run->results[i].state < _TRACKER_STATE_MAX)
                        count[run->results[i].state]++;
        printf("pulls    ");
        for (int s = 0; s < _TRACKER_STATE_MAX; s++)
                printf(" %s %zu", tracker_state_to_string((enum tracker_state) s), count[s]);
        printf("\n");
        for (size_t i = 0; i < run->n_results; i++) {
                const struct tracker_result *res = &run->results[i];
                if (res->state != TRACKER_STATE_NOT_APPLICABLE)
                        continue;
                if (!any)
                        printf("\n%-32s %-56s %s\n", "SEEDER", "IMAGE", "NOT APPLICABLE (PLATFORM)");
                any = true;
                printf("%-32s %-56s %s\n", res->node, run->images[res->image].ref, strempty(res->message));
        }
}

/* One line per seeder x image: held, evicted and re-seeded, or what the last run that
 * tried could not do there (failed with its reason, not applicable, node lost). */
static void show_seeder_image(const struct tracker_seeder *s, const struct tracker_held_image *h) {
        char at[32];

        if (h->evictions == 0) {
                printf("%-32s %-56s held\n", s->node, h->ref);
                return;
        }
        fmt_time(h->evicted_at, at, sizeof(at));
        printf("%-32s %-56s evicted and re-seeded (%u time%s, last found gone %s)\n", s->node, h->ref, h->evictions,
               h->evictions == 1 ? "" : "s", at);
}

static void show_seeder_images(const struct tracker *t) {
        bool any = false;

        for (size_t i = 0; i < t->n_seeders && !any; i++)
                any = t->seeders[i].n_images > 0 || t->seeders[i].n_unseeded > 0;
        if (!any)
                return;
        printf("\n%-32s %-56s %s\n", "SEEDER", "IMAGE", "STATE");
        for (size_t i = 0; i < t->n_seeders; i++) {
                const struct tracker_seeder *s = &t->seeders[i];
                for (size_t j = 0; j < s->n_images; j++)
                        show_seeder_image(s, &s->images[j]);
                for (size_t j = 0; j < s->n_unseeded; j++) {
                        const struct tracker_unseeded *u = &s->unseeded[j];
                        const char *what = u->state == TRACKER_STATE_NOT_APPLICABLE ? "not applicable"
                                           : u->state == TRACKER_STATE_NODE_LOST   ? "node lost"
                                                                                    : "failed";
                        printf("%-32s %-56s %s: %s%s%s\n", s->node, u->ref, what, strempty(u->reason),
                               u->message ? ": " : "", strempty(u->message));
                }
        }
}

static void show_history(const struct tracker *t) {
        printf("\n%-22s %-21s %-8s %-8s %-8s %-7s %-8s %s\n", "RUN", "STARTED", "SECONDS", "RESULT", "SEEDERS",
               "IMAGES", "FAILURES", "N/A(PLATFORM)");
        for (size_t i = t->n_history; i > 0; i--) {
                const struct tracker_history *h = &t->history[i - 1];
                char at[32];
                fmt_time(h->started_at, at, sizeof(at));
                printf("%-22s %-21s %-8lld %-8s %-8u %-7u %-8u %u\n", h->id, at,
                       (long long) (h->finished_at - h->started_at), tracker_outcome_to_string(h->result), h->seeders,
                       h->images, h->failures, h->not_applicable);
        }
}

int status_show(const struct config *c, bool json) {
        _cleanup_(tracker_freep) struct tracker *t = NULL;
        _cleanup_(freep) char *cause = NULL, *text = NULL;
        int r;

        r = tracker_load(c->tracker_file, &t, &cause);
        if (r == -ENOENT) {
                fprintf(stderr, "no tracker at '%s': clyde-seed has not run here yet\n", c->tracker_file);
                return EXIT_DONE;
        }
        if (r < 0) {
                fprintf(stderr, "%s\n", cause ? cause : strerror(-r));
                return EXIT_CONFIG;
        }
        if (json) {
                r = tracker_to_json_string(t, true, &text, &cause);
                if (r < 0)
                        return EXIT_SOFTWARE;
                printf("%s\n", text);
                return EXIT_DONE;
        }
        printf("cluster   %s (uid %s)\n", strempty(t->server), t->uid ? t->uid : "-");
        printf("seeders   %zu\n", t->n_seeders);
        if (t->run)
                printf("run       %s in phase %s (step %llu)\n", t->run->id, tracker_phase_to_string(t->run->phase),
                       (unsigned long long) t->run->step);
        else
                printf("run       none in progress\n");
        show_run_results(t->run);
        show_seeders(t);
        show_images(t);
        show_seeder_images(t);
        show_history(t);
        return EXIT_DONE;
}

static void print_plan(const struct machine *m) {
        const struct tracker_run *run = m->tracker->run;

        printf("eligible nodes  %u\ntarget seeders  %u\n\n", run->eligible, run->target);
        for (size_t i = 0; i < run->n_plan; i++) {
                const struct tracker_plan_entry *e = &run->plan[i];
                const char *what;
                switch (e->action) {
                case TRACKER_ACTION_ADD: what = "label"; break;
                case TRACKER_ACTION_DROP: what = "unlabel"; break;
                case TRACKER_ACTION_GONE: what = "forget"; break;
                case TRACKER_ACTION_WAIT: what = "wait"; break;
                case TRACKER_ACTION_ADOPT: what = "adopt"; break;
                default: what = "keep"; break;
                }
                printf("%-8s %s%s%s\n", what, e->node, e->reason ? "  # " : "", strempty(e->reason));
        }
}

static void print_plan_json(const struct machine *m, size_t ds, size_t pulls, const struct estimate *est) {
        const struct tracker_run *run = m->tracker->run;
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *plan = json_object_new_array();

        if (!o || !plan) {
                json_object_put(plan);
                return;
        }
        for (size_t i = 0; i < run->n_plan; i++) {
                const struct tracker_plan_entry *e = &run->plan[i];
                json_object *je = json_object_new_object();
                if (!je)
                        break;
                json_object_object_add(je, "node", json_object_new_string(e->node));
                json_object_object_add(je, "action", json_object_new_string(tracker_action_to_string(e->action)));
                json_object_object_add(je, "reason", e->reason ? json_object_new_string(e->reason) : NULL);
                json_object_array_add(plan, je);
        }
        json_object_object_add(o, "eligible", json_object_new_int64(run->eligible));
        json_object_object_add(o, "target", json_object_new_int64(run->target));
        json_object_object_add(o, "plan", plan);
        json_object_object_add(o, "namespace", json_object_new_string(m->config->namespace));
        json_object_object_add(o, "daemonsets", json_object_new_int64((int64_t) ds));
        json_object_object_add(o, "pulls", json_object_new_int64((int64_t) pulls));
        (void) resolve_plan_json(m, o);
        (void) estimate_json(est, m->config, o);
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
}

int status_plan(struct session *s, bool json) {
        struct machine m;
        struct estimate e;
        size_t ds = 0, pulls = 0;
        int r;

        /* Everything below happens in memory only: dry_run never persists. */
        machine_init(&m, s, true);
        tracker_run_end(s->tracker);
        r = tracker_run_start(s->tracker, "plan", now_seconds());
        if (r < 0)
                return EXIT_SOFTWARE;
        r = phase_select(&m);
        if (r >= 0)
                r = phase_preload_plan(&m, &ds, &pulls);
        if (r < 0) {
                machine_seeders_free(&m);
                return machine_exit_code(r);
        }
        (void) estimate_gather(s->config, s->tracker, s->images, s->tracker->run->eligible, s->tracker->run->target,
                               &e);
        if (json)
                print_plan_json(&m, ds, pulls, &e);
        else {
                print_plan(&m);
                resolve_plan_print(&m, stdout);
                printf("\n%zu DaemonSets in namespace '%s' for %zu node x image pulls\n", ds, s->config->namespace,
                       pulls);
                estimate_print(&e, s->config, stdout);
        }
        machine_seeders_free(&m);
        return EXIT_DONE;
}
