/* SPDX-License-Identifier: MIT */
#include "pullrate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

static const struct {
        const char *name;
        double seconds;
} go_units[] = {
        /* Longer names first: "ms" before "m", "µs" and "us" before "s". */
        { "ns", 1e-9 }, { "us", 1e-6 }, { "\xc2\xb5s", 1e-6 }, { "\xce\xbcs", 1e-6 },
        { "ms", 1e-3 }, { "s", 1 },     { "m", 60 },           { "h", 3600 },
};

/* The unit at p (at most end), its length in *ret_len; 0 when none. */
static double go_unit(const char *p, const char *end, size_t *ret_len) {
        for (size_t i = 0; i < ELEMENTSOF(go_units); i++) {
                size_t n = strlen(go_units[i].name);
                if ((size_t) (end - p) >= n && strncmp(p, go_units[i].name, n) == 0) {
                        *ret_len = n;
                        return go_units[i].seconds;
                }
        }
        return 0;
}

int pullrate_parse_go_duration(const char *s, size_t len, double *ret) {
        const char *p = s, *end = s + len;
        double total = 0;

        if (len == 0)
                return -EINVAL;
        while (p < end) {
                char num[32], *e;
                size_t k = 0, ulen;
                double v, unit;

                while (p + k < end && (isdigit((unsigned char) p[k]) || p[k] == '.') && k + 1 < sizeof(num))
                        k++;
                if (k == 0)
                        return -EINVAL;
                memcpy(num, p, k);
                num[k] = '\0';
                v = strtod(num, &e);
                if (*e || !isfinite(v))
                        return -EINVAL;
                p += k;
                unit = go_unit(p, end, &ulen);
                if (unit == 0)
                        return -EINVAL;
                total += v * unit;
                p += ulen;
        }
        *ret = total;
        return 0;
}

int pullrate_parse_pulled(const char *message, double *ret_seconds, int64_t *ret_bytes) {
        static const char head[] = "Successfully pulled image \"";
        const char *p, *d, *size;
        int64_t bytes = -1;
        double seconds;

        if (!message || !startswith(message, head))
                return -EINVAL;
        /* The reference holds no quote or blank: the first `" in ` ends it. */
        p = strstr(message + strlen(head), "\" in ");
        if (!p)
                return -EINVAL;
        d = p + strlen("\" in ");
        p = d + strcspn(d, " ");
        if (pullrate_parse_go_duration(d, (size_t) (p - d), &seconds) < 0)
                return -EINVAL;
        size = strstr(p, "Image size: ");
        if (size) {
                char *e;
                errno = 0;
                long long v = strtoll(size + strlen("Image size: "), &e, 10);
                if (errno == 0 && v >= 0 && startswith(e, " bytes"))
                        bytes = v;
        }
        *ret_seconds = seconds;
        *ret_bytes = bytes;
        return 0;
}

/* Samples sorted by node, so that each node's pulls are adjacent. */
static int by_node(const void *a, const void *b) {
        const struct pullrate_sample *x = a, *y = b;
        return strcmp(x->node, y->node);
}

static bool usable(const struct pullrate_sample *s) {
        return !isempty(s->node) && s->bytes > 0 && isfinite(s->seconds) && s->seconds > 0;
}

int pullrate_from_samples(const struct pullrate_sample *s, size_t n, struct tracker_pull *ret) {
        _cleanup_(freep) struct pullrate_sample *v = calloc(MAX(n, 1), sizeof(*v));
        struct tracker_pull out = { .source = TRACKER_PULL_EVENTS };
        size_t m = 0;
        double rate = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (usable(&s[i]))
                        v[m++] = s[i];
        if (m == 0)
                return -ENODATA;
        qsort(v, m, sizeof(*v), by_node);
        for (size_t i = 0; i < m;) {
                double bytes = 0, secs = 0;
                size_t j = i;
                for (; j < m && streq(v[j].node, v[i].node); j++) {
                        bytes += (double) v[j].bytes;
                        secs += v[j].seconds;
                }
                rate += bytes / secs;
                out.bytes += (int64_t) bytes;
                out.nodes++;
                i = j;
        }
        out.pulls = (unsigned) m;
        out.rate = (int64_t) llround(rate);
        if (out.rate <= 0)
                return -ENODATA;
        *ret = out;
        return 0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

size_t pullrate_median(const struct tracker *t, double *ret_bps, const struct tracker_history **ret_newest) {
        double v[PULLRATE_RUNS];
        const struct tracker_history *newest = NULL;
        size_t n = 0;

        for (size_t i = t->n_history; i > 0 && n < PULLRATE_RUNS; i--) {
                const struct tracker_history *h = &t->history[i - 1];
                if (h->pull.rate <= 0)
                        continue;
                if (!newest)
                        newest = h;
                v[n++] = (double) h->pull.rate;
        }
        if (n == 0)
                return 0;
        qsort(v, n, sizeof(v[0]), cmp_double);
        *ret_bps = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        *ret_newest = newest;
        return n;
}
