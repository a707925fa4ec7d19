/* SPDX-License-Identifier: MIT */
/* The rollout estimate as the tool uses it: its inputs gathered from the configuration,
 * the tracker (rates measured by earlier runs, image sizes from the registry) and the
 * images file, each with where it came from; the times of the model (rollout-model.h)
 * for the current share and the best one; text and JSON for plan; the share for
 * percentage = auto. Gathering reads only its arguments (no I/O, no clock). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "images.h"
#include "rollout-model.h"
#include "tracker.h"

enum estimate_from {
        ESTIMATE_NONE,     /* not known */
        ESTIMATE_MEASURED, /* recorded in the tracker by earlier runs */
        ESTIMATE_REGISTRY, /* image sizes the registry gave (tracker tags) */
        ESTIMATE_CONFIG,   /* seeder.ini or the command line */
        ESTIMATE_DEFAULT,  /* a configuration key's default */
        ESTIMATE_BUILTIN,  /* a calibration constant (rollout-model.h) */
};

struct estimate {
        struct rollout_input in;
        enum estimate_from bytes_from, registry_from, link_from;
        size_t sized_images;  /* images with a registry size (bytes_from REGISTRY) */
        size_t rate_runs;     /* runs the registry rate is the median of */
        const struct tracker_history *newest; /* the newest of them (borrowed), or NULL */
        bool link_bound;      /* the newest run's nodes pulled at >= 80% of the link rate:
                               * the registry may be faster than measured */
        const char *missing;  /* static: what the estimate lacks; NULL when it is available */
        struct rollout_time current, best;
        double no_seeding_s;
};

/* Gathers the inputs for eligible nodes and, when all are known, computes the times:
 * current for the share the tool would use (current_seeders, as select decided it; 0:
 * from the configured percentage), best from the search. Always fills *ret; returns 0
 * when the estimate is available, -ENODATA when an input is missing (ret->missing says
 * which). */
int estimate_gather(const struct config *c, const struct tracker *t, const struct image_list *images,
                    size_t eligible, size_t current_seeders, struct estimate *ret);

/* The plan section, as text. */
void estimate_print(const struct estimate *e, const struct config *c, FILE *f);

/* The same as o["estimate"]. Returns 0 or -ENOMEM. */
int estimate_json(const struct estimate *e, const struct config *c, json_object *o);

/* "125 MB/s = 1 Gbit/s" for bytes/s, into buf. */
const char *estimate_rate(double bps, char *buf, size_t size);
