/* SPDX-License-Identifier: MIT */
/* The tags record of the tracker: reference -> digest, when seen, moves, platforms. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tracker-internal.h"

static void platform_done(struct tracker_platform *p) {
        free(p->os);
        free(p->arch);
        free(p->variant);
        *p = (struct tracker_platform) {};
}

void tracker_tag_done(struct tracker_tag *g) {
        if (!g)
                return;
        free(g->ref);
        free(g->digest);
        free(g->previous);
        for (size_t i = 0; i < g->n_platforms; i++)
                platform_done(&g->platforms[i]);
        free(g->platforms);
        *g = (struct tracker_tag) {};
}

struct tracker_tag *tracker_tag_find(const struct tracker *t, const char *ref) {
        for (size_t i = 0; i < t->n_tags; i++)
                if (streq(t->tags[i].ref, ref))
                        return &t->tags[i];
        return NULL;
}

static int copy_platforms(const struct tracker_platform *ps, size_t n, struct tracker_platform **ret) {
        struct tracker_platform *v = calloc(n + 1, sizeof(*v));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                v[i].os = strdup(strempty(ps[i].os));
                v[i].arch = strdup(strempty(ps[i].arch));
                v[i].variant = ps[i].variant ? strdup(ps[i].variant) : NULL;
                v[i].size = ps[i].size;
                if (!v[i].os || !v[i].arch || (ps[i].variant && !v[i].variant)) {
                        for (size_t j = 0; j <= i; j++)
                                platform_done(&v[j]);
                        free(v);
                        return -ENOMEM;
                }
        }
        *ret = v;
        return 0;
}

static struct tracker_tag *tag_add(struct tracker *t, const char *ref) {
        struct tracker_tag *v = realloc(t->tags, (t->n_tags + 1) * sizeof(*v));

        if (!v)
                return NULL;
        t->tags = v;
        v[t->n_tags] = (struct tracker_tag) { .ref = strdup(ref) };
        if (!v[t->n_tags].ref)
                return NULL;
        return &v[t->n_tags++];
}

int tracker_tag_set(struct tracker *t, const char *ref, const char *digest, int64_t now,
                    const struct tracker_platform *platforms, size_t n_platforms) {
        struct tracker_tag *g;
        struct tracker_platform *ps = NULL;
        bool moved;
        char *d;

        if (isempty(ref) || isempty(digest))
                return -EINVAL;
        if ((platforms || n_platforms > 0) && copy_platforms(platforms, n_platforms, &ps) < 0)
                return -ENOMEM;
        g = tracker_tag_find(t, ref) ?: tag_add(t, ref);
        d = strdup(digest);
        if (!g || !d) {
                for (size_t i = 0; ps && i < n_platforms; i++)
                        platform_done(&ps[i]);
                free(ps);
                free(d);
                return -ENOMEM;
        }
        moved = g->digest && !streq(g->digest, digest);
        if (!g->digest || moved) {
                free(g->previous);
                g->previous = g->digest;
                g->digest = d;
                g->changed_at = now;
                g->moves += moved;
        } else
                free(d);
        g->seen_at = now;
        if (ps || moved) {
                for (size_t i = 0; i < g->n_platforms; i++)
                        platform_done(&g->platforms[i]);
                free(g->platforms);
                g->platforms = ps;
                g->n_platforms = ps ? n_platforms : 0;
        }
        return moved;
}
