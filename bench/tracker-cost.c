/* SPDX-License-Identifier: MIT */
/* How much a tracker save and load cost at scale: builds a tracker with S seeders x I
 * images, a run with a plan entry per seeder and a result per seeder x image (what the
 * verify phase leaves), saves it R times as the label phase does after each batch, loads
 * it back, and prints one line: "seeders images bytes save_ms load_ms".
 * Built and run by bench/run against the bench build's libclyde.a; not part of make check.
 *   bench/tracker-cost DIR [SEEDERS [IMAGES [SAVES]]] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "macro.h"
#include "tracker.h"

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int add_seeder(struct tracker *t, unsigned n, unsigned images, int64_t now) {
        struct tracker_seeder *s;
        char node[32];
        int r;

        snprintf(node, sizeof(node), "node-%05u", n);
        r = tracker_plan_set(t->run, node, TRACKER_ACTION_ADD, NULL);
        if (r >= 0)
                r = tracker_seeder_add(t, node, "zone-a", "amd64", now, true, &s);
        for (unsigned i = 0; r >= 0 && i < images; i++) {
                const struct tracker_image *img = &t->run->images[i];

                r = tracker_result_set(t->run, node, i, TRACKER_STATE_PULLED, img->digest, NULL, NULL);
                if (r >= 0)
                        r = tracker_seeder_set_image(s, img->ref, img->digest, now);
        }
        return r < 0 ? r : 0;
}

static struct tracker *build(unsigned seeders, unsigned images, int64_t now) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new();
        char ref[64], digest[80];

        if (!t || tracker_set_cluster(t, "https://127.0.0.1:6443", "uid-bench") < 0 ||
            tracker_run_start(t, "20261126t102000-a1b2", now) < 0)
                return NULL;
        for (unsigned i = 0; i < images; i++) {
                snprintf(ref, sizeof(ref), "registry.example.com/bench/app-%02u:1.%u", i, i);
                snprintf(digest, sizeof(digest), "sha256:%064u", i);
                if (tracker_run_add_image(t->run, ref, digest) < 0)
                        return NULL;
        }
        for (unsigned n = 0; n < seeders; n++)
                if (add_seeder(t, n, images, now) < 0)
                        return NULL;
        return TAKE_PTR(t);
}

int main(int argc, char **argv) {
        _cleanup_(tracker_freep) struct tracker *t = NULL, *l = NULL;
        _cleanup_(freep) char *path = NULL, *cause = NULL;
        unsigned seeders = argc > 2 ? (unsigned) atoi(argv[2]) : 2000;
        unsigned images = argc > 3 ? (unsigned) atoi(argv[3]) : 4;
        unsigned saves = argc > 4 ? (unsigned) atoi(argv[4]) : 32;
        struct stat st;
        double t0, t1, t2;

        if (argc < 2 || asprintf(&path, "%s/seeder_tracker.json", argv[1]) < 0) {
                fprintf(stderr, "usage: %s DIR [SEEDERS [IMAGES [SAVES]]]\n", argv[0]);
                return 64;
        }
        t = build(seeders, images, (int64_t) time(NULL));
        if (!t)
                return fprintf(stderr, "cannot build the tracker\n"), 1;
        t0 = now_ms();
        for (unsigned i = 0; i < saves; i++)
                if (tracker_save(path, t, &cause) < 0)
                        return fprintf(stderr, "%s\n", cause ? cause : "save failed"), 1;
        t1 = now_ms();
        if (tracker_load(path, &l, &cause) < 0 || stat(path, &st) < 0)
                return fprintf(stderr, "%s\n", cause ? cause : "load failed"), 1;
        t2 = now_ms();
        if (l->n_seeders != seeders || !l->run || l->run->n_results != (size_t) seeders * images)
                return fprintf(stderr, "loaded tracker differs\n"), 1;
        printf("%u %u %lld %.1f %.1f\n", seeders, images, (long long) st.st_size,
               (t1 - t0) / (saves ? saves : 1), t2 - t1);
        return 0;
}
