/* SPDX-License-Identifier: MIT */
#include "seedfit.h"

#include <stdio.h>
#include <string.h>

#include "macro.h"

const struct tracker_platform *seedfit_platform(const struct tracker_tag *g, const struct seedfit_node *n,
                                                bool *ret_unknown) {
        const char *os = n->os ?: "linux";

        *ret_unknown = !g || g->n_platforms == 0;
        for (size_t i = 0; g && i < g->n_platforms; i++) {
                const struct tracker_platform *p = &g->platforms[i];
                if (streq(p->os, os) && n->arch && streq(p->arch, n->arch) &&
                    (!p->variant || !n->variant || streq(p->variant, n->variant)))
                        return p;
        }
        return NULL;
}

const char *seedfit_platform_name(const char *os, const char *arch, const char *variant, char *buf, size_t size) {
        (void) snprintf(buf, size, "%s/%s%s%s", strempty(os), arch ?: "?", variant ? "/" : "", strempty(variant));
        return buf;
}

const char *seedfit_platforms(const struct tracker_tag *g, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = 0;
        for (size_t i = 0; g && i < g->n_platforms && n < size; i++) {
                char one[128];
                int k = snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
                                 seedfit_platform_name(g->platforms[i].os, g->platforms[i].arch,
                                                       g->platforms[i].variant, one, sizeof(one)));
                if (k < 0)
                        break;
                n += (size_t) k;
        }
        if (!buf[0])
                (void) snprintf(buf, size, "unknown");
        return buf;
}

bool seedfit_fits(const struct seedfit_node *n, int64_t size, double share_pct) {
        long double limit;

        if (n->capacity <= 0 || size < 0)
                return true;
        limit = (long double) n->capacity * share_pct / 100.0L;
        return (long double) n->images_bytes + (long double) n->planned + (long double) size <= limit;
}

const char *seedfit_bytes(int64_t bytes, char *buf, size_t size) {
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
        double v = (double) bytes;
        size_t u = 0;

        if (bytes < 0) {
                (void) snprintf(buf, size, "unknown");
                return buf;
        }
        while (v >= 1000 && u + 1 < ELEMENTSOF(units)) {
                v /= 1000;
                u++;
        }
        if (u == 0 || v >= 100)
                (void) snprintf(buf, size, "%.0f %s", v, units[u]);
        else
                (void) snprintf(buf, size, "%.*f %s", v >= 10 ? 1 : 2, v, units[u]);
        return buf;
}
