/* SPDX-License-Identifier: MIT */
#include "estimate.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "config-keys.h"
#include "macro.h"
#include "pullrate.h"
#include "seedfit.h"

/* A node pulling at this share of its link or more was bound by the link, not the registry. */
#define LINK_BOUND_SHARE 0.8

static enum estimate_from key_from(const struct config *c, const char *section, const char *name) {
        ssize_t i = config_key_find(section, name);

        return i >= 0 && c->sources[i].origin != CONFIG_DEFAULT ? ESTIMATE_CONFIG : ESTIMATE_DEFAULT;
}

/* The largest size any Linux platform of the reference has (what the biggest node pulls),
 * or -1 when the registry gave none. */
static int64_t image_size(const struct tracker *t, const char *ref) {
        const struct tracker_tag *g = tracker_tag_find(t, ref);
        int64_t best = -1;

        for (size_t i = 0; g && i < g->n_platforms; i++)
                if (streq_ptr(g->platforms[i].os, "linux") && g->platforms[i].size > best)
                        best = g->platforms[i].size;
        return best > 0 ? best : -1;
}

/* S: the registry's sizes when it gave one for every image, else the mean bytes of one
 * pull in the newest measured run, times the images. */
static void gather_bytes(const struct tracker *t, const struct image_list *images, struct estimate *e) {
        double sum = 0;

        for (size_t i = 0; i < images->n; i++) {
                int64_t s = image_size(t, images->entries[i].ref.normalized);
                if (s > 0) {
                        sum += (double) s;
                        e->sized_images++;
                }
        }
        if (images->n > 0 && e->sized_images == images->n) {
                e->in.image_bytes = sum;
                e->bytes_from = ESTIMATE_REGISTRY;
        } else if (images->n > 0 && e->newest && e->newest->pull.pulls > 0) {
                e->in.image_bytes = (double) e->newest->pull.bytes / e->newest->pull.pulls * (double) images->n;
                e->bytes_from = ESTIMATE_MEASURED;
        }
}

static void gather_rates(const struct config *c, const struct tracker *t, struct estimate *e) {
        double median = 0;

        e->rate_runs = pullrate_median(t, &median, &e->newest);
        if (c->registry_rate > 0) {
                e->in.registry_bps = c->registry_rate;
                e->registry_from = ESTIMATE_CONFIG;
        } else if (e->rate_runs > 0) {
                e->in.registry_bps = median;
                e->registry_from = ESTIMATE_MEASURED;
        }
        e->in.link_bps = c->node_link_rate > 0 ? c->node_link_rate : ROLLOUT_DEFAULT_LINK_BPS;
        e->link_from = key_from(c, "plan", "node_link_rate");
        if (e->newest && e->newest->pull.nodes > 0)
                e->link_bound = (double) e->newest->pull.rate / e->newest->pull.nodes >= LINK_BOUND_SHARE * e->in.link_bps;
}

int estimate_gather(const struct config *c, const struct tracker *t, const struct image_list *images,
                    size_t eligible, size_t current_seeders, struct estimate *ret) {
        struct estimate e = {
                .in = { .nodes = eligible, .pull_cost = ROLLOUT_PULL_COST_S, .overhead = ROLLOUT_OVERHEAD_S,
                        .min_seeders = (size_t) c->min_seeders, .max_seeders = (size_t) c->max_seeders },
        };

        gather_rates(c, t, &e);
        gather_bytes(t, images, &e);
        if (eligible == 0)
                e.missing = "no eligible node";
        else if (e.registry_from == ESTIMATE_NONE)
                e.missing = "no run has measured the registry's rate yet; a run that pulls images records it in "
                            "the tracker, or set [plan] registry_rate";
        else if (e.bytes_from == ESTIMATE_NONE)
                e.missing = "the image sizes are not known: neither the registry ([registry] resolve) nor a run "
                            "measured them";
        else if (rollout_check(&e.in) < 0)
                e.missing = "an input is out of range";
        if (!e.missing) {
                if (current_seeders == 0)
                        current_seeders = rollout_seeders_for(&e.in, c->percentage);
                (void) rollout_time_for(&e.in, MIN(MAX(current_seeders, (size_t) 1), eligible), &e.current);
                (void) rollout_best(&e.in, &e.best);
                e.no_seeding_s = rollout_no_seeding(&e.in);
        }
        *ret = e;
        return e.missing ? -ENODATA : 0;
}

const char *estimate_rate(double bps, char *buf, size_t size) {
        static const char *const units[] = { "bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s" };
        double bits = bps * 8;
        size_t u = 0;
        char b[32];

        while (bits >= 1000 && u + 1 < ELEMENTSOF(units)) {
                bits /= 1000;
                u++;
        }
        (void) snprintf(buf, size, "%s/s = %.3g %s", seedfit_bytes((int64_t) llround(bps), b, sizeof(b)), bits,
                        units[u]);
        return buf;
}

static const char *from_text(enum estimate_from f) {
        switch (f) {
        case ESTIMATE_MEASURED: return "measured";
        case ESTIMATE_REGISTRY: return "registry";
        case ESTIMATE_CONFIG: return "config";
        case ESTIMATE_DEFAULT: return "default";
        case ESTIMATE_BUILTIN: return "built-in";
        default: return "none";
        }
}

/* Where the registry rate came from, in words, into buf. */
static const char *rate_origin(const struct estimate *e, char *buf, size_t size) {
        char at[32] = "-";

        if (e->registry_from == ESTIMATE_CONFIG) {
                (void) snprintf(buf, size, "[plan] registry_rate");
                return buf;
        }
        if (e->newest)
                (void) tracker_time_format(e->newest->finished_at, at, sizeof(at));
        (void) snprintf(buf, size, "median of %zu run%s, newest %s measured %s from %s%s", e->rate_runs,
                        e->rate_runs == 1 ? "" : "s", e->newest ? e->newest->id : "-", at,
                        e->newest && e->newest->pull.source == TRACKER_PULL_PHASE ? "the verify phase's time"
                                                                                   : "the kubelet's Pulled events",
                        e->link_bound ? "; link-bound: the registry may be faster" : "");
        return buf;
}

static void print_time(FILE *f, const char *what, const struct rollout_time *t) {
        fprintf(f, "  %-15s %g%% = %zu seeder%s: %.1f s (seeding %.1f s + rollout %.1f s)\n", what, t->share,
                t->seeders, t->seeders == 1 ? "" : "s", t->total_s, t->seed_s, t->roll_s);
}

void estimate_print(const struct estimate *e, const struct config *c, FILE *f) {
        char rate[64], origin[256], b[32];

        fprintf(f, "\nrollout estimate (seeding, then a workload on every eligible node; see clyde-seed(8))\n");
        if (e->missing) {
                fprintf(f, "  not available: %s\n", e->missing);
                if (c->percentage_auto)
                        fprintf(f, "  percentage = auto uses %g%% until then\n", CONFIG_AUTO_FALLBACK_PERCENT);
                return;
        }
        fprintf(f, "  %-15s %zu eligible\n", "nodes", e->in.nodes);
        if (e->bytes_from == ESTIMATE_REGISTRY)
                fprintf(f, "  %-15s %s (registry sizes of %zu image%s)\n", "image bytes",
                        seedfit_bytes((int64_t) e->in.image_bytes, b, sizeof(b)), e->sized_images,
                        e->sized_images == 1 ? "" : "s");
        else
                fprintf(f, "  %-15s %s (mean bytes of a pull in run %s, times the images)\n", "image bytes",
                        seedfit_bytes((int64_t) e->in.image_bytes, b, sizeof(b)), e->newest ? e->newest->id : "-");
        fprintf(f, "  %-15s %s: %s\n", "registry rate", estimate_rate(e->in.registry_bps, rate, sizeof(rate)),
                rate_origin(e, origin, sizeof(origin)));
        fprintf(f, "  %-15s %s: %s\n", "node link rate", estimate_rate(e->in.link_bps, rate, sizeof(rate)),
                e->link_from == ESTIMATE_CONFIG ? "[plan] node_link_rate" : "default");
        fprintf(f, "  %-15s pulls %.1f s a phase, run overhead %.2f s (built in; fitted in bench/rollout/MODEL.md)\n",
                "fixed costs", e->in.pull_cost, e->in.overhead);
        fprintf(f, "  %-15s %.1f s (every node pulls from the registry at once)\n", "no seeding", e->no_seeding_s);
        print_time(f, c->percentage_auto ? "current (auto)" : "current share", &e->current);
        print_time(f, "best share", &e->best);
        if (e->no_seeding_s <= e->best.total_s)
                fprintf(f, "  no seeding is faster here: the registry (or the link) is not the bottleneck, so "
                           "seeding only adds its own overhead\n");
}

static json_object *input_json(double value, enum estimate_from from) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "value", json_object_new_double(value));
        json_object_object_add(o, "from", json_object_new_string(from_text(from)));
        return o;
}

static json_object *time_json(const struct rollout_time *t) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "share", json_object_new_double(t->share));
        json_object_object_add(o, "seeders", json_object_new_int64((int64_t) t->seeders));
        json_object_object_add(o, "seconds", json_object_new_double(t->total_s));
        json_object_object_add(o, "seeding_seconds", json_object_new_double(t->seed_s));
        json_object_object_add(o, "rollout_seconds", json_object_new_double(t->roll_s));
        return o;
}

static json_object *inputs_json(const struct estimate *e) {
        json_object *o = json_object_new_object(), *r;
        char at[32];

        if (!o)
                return NULL;
        json_object_object_add(o, "image_bytes", input_json(e->in.image_bytes, e->bytes_from));
        r = input_json(e->in.registry_bps, e->registry_from);
        if (r && e->registry_from == ESTIMATE_MEASURED && e->newest) {
                json_object_object_add(r, "runs", json_object_new_int64((int64_t) e->rate_runs));
                json_object_object_add(r, "newest_run", json_object_new_string(e->newest->id));
                if (tracker_time_format(e->newest->finished_at, at, sizeof(at)) >= 0)
                        json_object_object_add(r, "measured_at", json_object_new_string(at));
                json_object_object_add(r, "link_bound", json_object_new_boolean(e->link_bound));
        }
        json_object_object_add(o, "registry_rate", r);
        json_object_object_add(o, "node_link_rate", input_json(e->in.link_bps, e->link_from));
        json_object_object_add(o, "pull_cost_seconds", input_json(e->in.pull_cost, ESTIMATE_BUILTIN));
        json_object_object_add(o, "overhead_seconds", input_json(e->in.overhead, ESTIMATE_BUILTIN));
        return o;
}

int estimate_json(const struct estimate *e, const struct config *c, json_object *o) {
        json_object *x = json_object_new_object();

        if (!x)
                return -ENOMEM;
        json_object_object_add(x, "available", json_object_new_boolean(!e->missing));
        json_object_object_add(x, "auto", json_object_new_boolean(c->percentage_auto));
        json_object_object_add(x, "nodes", json_object_new_int64((int64_t) e->in.nodes));
        if (e->missing)
                json_object_object_add(x, "missing", json_object_new_string(e->missing));
        json_object_object_add(x, "inputs", inputs_json(e));
        if (!e->missing) {
                json_object_object_add(x, "no_seeding_seconds", json_object_new_double(e->no_seeding_s));
                json_object_object_add(x, "current", time_json(&e->current));
                json_object_object_add(x, "best", time_json(&e->best));
        }
        json_object_object_add(o, "estimate", x);
        return 0;
}
