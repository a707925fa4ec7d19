/* SPDX-License-Identifier: MIT */
/* Prometheus textfile of the last run: formatting (pure) and the atomic write. */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "macro.h"

#define METRICS_MAX_IMAGES 100000

void metrics_input_init(struct metrics_input *in, const struct tracker *t, int64_t now) {
        *in = (struct metrics_input) {
                .tracker = t,
                .now = now,
                .target = -1,
                .exit_code = -1,
        };
}

void metrics_escape_label(FILE *f, const char *s) {
        for (; s && *s; s++)
                switch (*s) {
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                default:
                        fputc(*s, f);
                }
}

static void header(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(FILE *f, const char *name, const char *help, int64_t v) {
        header(f, name, "gauge", help);
        fprintf(f, "%s %" PRId64 "\n", name, v);
}

/* The newest history entry, or NULL. */
static const struct tracker_history *last_run(const struct tracker *t) {
        return t->n_history > 0 ? &t->history[t->n_history - 1] : NULL;
}

static int64_t last_success(const struct tracker *t) {
        for (size_t i = t->n_history; i > 0; i--)
                if (t->history[i - 1].result == TRACKER_OUTCOME_OK)
                        return t->history[i - 1].finished_at;
        return 0;
}

/* One image and how many seeders hold it. */
struct image_count {
        const char *ref;
        uint64_t seeders;
};

static int count_add(struct image_count **a, size_t *n, const char *ref, uint64_t k) {
        for (size_t i = 0; i < *n; i++)
                if (streq((*a)[i].ref, ref)) {
                        (*a)[i].seeders += k;
                        return 0;
                }
        if (*n >= METRICS_MAX_IMAGES)
                return 0; /* a textfile this large would be useless; keep the first ones */
        struct image_count *b = realloc(*a, (*n + 1) * sizeof(**a));
        if (!b)
                return -ENOMEM;
        *a = b;
        b[(*n)++] = (struct image_count) { .ref = ref, .seeders = k };
        return 0;
}

static int cmp_count(const void *x, const void *y) {
        return strcmp(((const struct image_count *) x)->ref, ((const struct image_count *) y)->ref);
}

/* Per image: seeders that hold it. Images of the run in progress are listed even at 0. */
static int image_counts(const struct tracker *t, struct image_count **ret, size_t *ret_n) {
        _cleanup_(freep) struct image_count *a = NULL;
        size_t n = 0;
        int r;

        for (size_t i = 0; t->run && i < t->run->n_images; i++)
                if ((r = count_add(&a, &n, t->run->images[i].ref, 0)) < 0)
                        return r;
        for (size_t s = 0; s < t->n_seeders; s++)
                for (size_t i = 0; i < t->seeders[s].n_images; i++)
                        if ((r = count_add(&a, &n, t->seeders[s].images[i].ref, 1)) < 0)
                                return r;
        if (n > 0)
                qsort(a, n, sizeof(*a), cmp_count);
        *ret = TAKE_PTR(a);
        *ret_n = n;
        return 0;
}

static int write_images(FILE *f, const struct tracker *t) {
        _cleanup_(freep) struct image_count *a = NULL;
        size_t n = 0;
        int r = image_counts(t, &a, &n);

        if (r < 0)
                return r;
        if (n == 0)
                return 0;
        header(f, "clyde_seed_image_seeders", "gauge", "Seeders that hold each image.");
        for (size_t i = 0; i < n; i++) {
                fputs("clyde_seed_image_seeders{image=\"", f);
                metrics_escape_label(f, a[i].ref);
                fprintf(f, "\"} %" PRIu64 "\n", a[i].seeders);
        }
        return 0;
}

/* Digest changes seen per resolved reference ([registry] resolve). */
static void write_tag_moves(FILE *f, const struct tracker *t) {
        if (t->n_tags == 0)
                return;
        header(f, "clyde_seed_tag_moves_total", "counter", "Times each reference was seen to move to a new digest.");
        for (size_t i = 0; i < t->n_tags; i++) {
                fputs("clyde_seed_tag_moves_total{image=\"", f);
                metrics_escape_label(f, t->tags[i].ref);
                fprintf(f, "\"} %" PRIu64 "\n", t->tags[i].moves);
        }
}

static void write_last_run(FILE *f, const struct tracker_history *h) {
        bool any = false;

        if (!h)
                return;
        gauge(f, "clyde_seed_pull_failures", "Node x image pulls that failed in the last finished run.",
              (int64_t) h->failures);
        gauge(f, "clyde_seed_pulls_not_applicable",
              "Node x image pulls of the last finished run skipped: no image variant for the node's platform.",
              (int64_t) h->not_applicable);
        gauge(f, "clyde_seed_run_duration_seconds", "Duration of the last finished run.",
              h->finished_at >= h->started_at ? h->finished_at - h->started_at : 0);
        for (int p = TRACKER_PHASE_SELECT; p < TRACKER_PHASE_DONE; p++) {
                if (h->phase_seconds[p] < 0)
                        continue;
                if (!any)
                        header(f, "clyde_seed_phase_duration_seconds", "gauge",
                               "Time spent in each phase by the last finished run.");
                any = true;
                fprintf(f, "clyde_seed_phase_duration_seconds{phase=\"%s\"} %" PRId64 "\n",
                        tracker_phase_to_string((enum tracker_phase) p), h->phase_seconds[p]);
        }
}

static void write_requests(FILE *f, const struct http_counter *c, size_t n) {
        if (!c || n == 0)
                return;
        header(f, "clyde_seed_api_requests_total", "counter",
               "Kubernetes API requests of the last run by verb and HTTP status (0: no response); "
               "restarts at every run.");
        for (size_t i = 0; i < n; i++) {
                char verb[sizeof(c[i].verb) + 1];

                /* verb is a fixed array that may lack its NUL when full. */
                memcpy(verb, c[i].verb, sizeof(c[i].verb));
                verb[sizeof(c[i].verb)] = '\0';
                fputs("clyde_seed_api_requests_total{verb=\"", f);
                metrics_escape_label(f, verb);
                fprintf(f, "\",code=\"%ld\"} %" PRIu64 "\n", c[i].status, c[i].count);
        }
}

/* Kept on each seeder's held image in the tracker, so it counts across runs (a seeder
 * dropped takes its count along: Prometheus sees a counter reset). */
static void write_evictions(FILE *f, const struct tracker *t) {
        uint64_t n = 0;

        for (size_t i = 0; i < t->n_seeders; i++)
                for (size_t j = 0; j < t->seeders[i].n_images; j++)
                        n += t->seeders[i].images[j].evictions;
        header(f, "clyde_seed_images_evicted_total", "counter",
               "Seeded images that a run found gone from their seeder (image garbage collection) and seeded again.");
        fprintf(f, "clyde_seed_images_evicted_total %" PRIu64 "\n", n);
}

static long target_of(const struct metrics_input *in) {
        if (in->target >= 0)
                return in->target;
        return in->tracker->run ? (long) in->tracker->run->target : -1;
}

static int format_to(FILE *f, const struct metrics_input *in) {
        const struct tracker *t = in->tracker;
        long target = target_of(in);

        gauge(f, "clyde_seed_last_run_timestamp_seconds", "When the last run ended (unix time).", in->now);
        gauge(f, "clyde_seed_last_success_timestamp_seconds",
              "When the last run that seeded every image ended (unix time); 0: never.", last_success(t));
        if (in->exit_code >= 0)
                gauge(f, "clyde_seed_last_exit_code", "Exit code of the last run (see clyde-seed(8)).",
                      in->exit_code);
        gauge(f, "clyde_seed_seeders", "Nodes labelled as seeders.", (int64_t) t->n_seeders);
        if (target >= 0)
                gauge(f, "clyde_seed_seeders_target", "Seeders wanted by the last run.", target);
        int r = write_images(f, t);
        if (r < 0)
                return r;
        write_tag_moves(f, t);
        write_last_run(f, last_run(t));
        write_evictions(f, t);
        write_requests(f, in->counters, in->n_counters);
        return 0;
}

int metrics_format(const struct metrics_input *in, char **ret, char **ret_cause) {
        _cleanup_(freep) char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        if (!in || !in->tracker) {
                if (ret_cause)
                        *ret_cause = strdup("metrics: no tracker");
                return -EINVAL;
        }
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        r = format_to(f, in);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

int metrics_write(const char *path, const struct metrics_input *in, char **ret_cause) {
        _cleanup_(freep) char *text = NULL;
        const char *step = NULL;
        int r;

        r = metrics_format(in, &text, ret_cause);
        if (r < 0)
                return r;
        r = write_file_atomic(path, text, strlen(text), 0644, &step);
        if (r < 0 && ret_cause && asprintf(ret_cause, "%s: %s: %s", path, step ? step : "write", strerror(-r)) < 0)
                *ret_cause = NULL;
        return r;
}
