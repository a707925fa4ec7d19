/* SPDX-License-Identifier: MIT */
/* Pure parsers for typed configuration values and the error list. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"

int config_errors_add(struct config_errors *err, const char *fmt, ...) {
        char *line = NULL, **l;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&line, fmt, ap) < 0)
                line = NULL;
        va_end(ap);
        if (!line)
                return -ENOMEM;
        l = realloc(err->lines, (err->n + 2) * sizeof(char *));
        if (!l) {
                free(line);
                return -ENOMEM;
        }
        l[err->n++] = line;
        l[err->n] = NULL;
        err->lines = l;
        return 0;
}

void config_errors_done(struct config_errors *err) {
        strv_free(err->lines);
        err->lines = NULL;
        err->n = 0;
}

/* "30s", "5m", "2h", "1d", "1h30m", or plain seconds. */
int config_parse_duration(const char *s, int64_t *ret) {
        int64_t total = 0;
        const char *p = s;

        if (isempty(s))
                return -EINVAL;
        while (*p) {
                char *end;
                int64_t mult;

                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                errno = 0;
                unsigned long long v = strtoull(p, &end, 10);
                if (errno != 0 || v > INT64_MAX / 86400)
                        return -ERANGE;
                switch (*end) {
                case 's': mult = 1; end++; break;
                case 'm': mult = 60; end++; break;
                case 'h': mult = 3600; end++; break;
                case 'd': mult = 86400; end++; break;
                case '\0':
                        /* A bare number is seconds, but only on its own ("90", not "1m30"). */
                        if (p != s)
                                return -EINVAL;
                        mult = 1;
                        break;
                default:
                        return -EINVAL;
                }
                if (total > INT64_MAX - (int64_t) v * mult)
                        return -ERANGE;
                total += (int64_t) v * mult;
                p = end;
        }
        *ret = total;
        return 0;
}

int config_format_duration(int64_t seconds, char *buf, size_t size) {
        static const struct {
                int64_t unit;
                char suffix;
        } units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
        size_t used = 0;

        if (seconds == 0)
                return snprintf(buf, size, "0s") < (int) size ? 0 : -ENOBUFS;
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                int64_t q = seconds / units[i].unit;
                if (q == 0)
                        continue;
                seconds -= q * units[i].unit;
                int k = snprintf(buf + used, size - used, "%lld%c", (long long) q, units[i].suffix);
                if (k < 0 || (size_t) k >= size - used)
                        return -ENOBUFS;
                used += (size_t) k;
        }
        return 0;
}

int config_parse_bool(const char *s, bool *ret) {
        static const char *const yes[] = { "yes", "true", "on", "1", "y" };
        static const char *const no[] = { "no", "false", "off", "0", "n" };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

/* A finite decimal starting at s (no leading blank); *ret_end is where it stops. */
static int parse_finite(const char *s, double *ret, const char **ret_end) {
        char *end;
        double v;

        if (isempty(s) || isspace((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        /* strtod() takes "nan", "inf" and "infinity": none is a number of requests or a
         * share, and converting them to an integer later is undefined. */
        if (errno != 0 || end == s || !isfinite(v))
                return -EINVAL;
        *ret = v;
        *ret_end = end;
        return 0;
}

int config_parse_decimal(const char *s, double *ret) {
        const char *end;
        double v;

        if (parse_finite(s, &v, &end) < 0 || *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

/* A decimal in (0, 100], with an optional trailing '%'. */
int config_parse_percent(const char *s, double *ret) {
        const char *end;
        double v;

        if (parse_finite(s, &v, &end) < 0)
                return -EINVAL;
        if (*end == '%')
                end++;
        if (*end != '\0')
                return -EINVAL;
        if (v <= 0.0 || v > 100.0)
                return -ERANGE;
        *ret = v;
        return 0;
}

static char *strip_dup(const char *b, const char *e) {
        while (b < e && isspace((unsigned char) *b))
                b++;
        while (e > b && isspace((unsigned char) e[-1]))
                e--;
        return strndup(b, (size_t) (e - b));
}

/* Comma- or whitespace-separated list; empty items are dropped. */
int config_parse_list(const char *s, char ***ret) {
        _cleanup_(strv_freep) char **l = NULL;
        size_t n = 0;
        const char *p = s ? s : "";

        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        while (*p) {
                size_t k = strcspn(p, ", \t");
                if (k > 0) {
                        char **nl = realloc(l, (n + 2) * sizeof(char *));
                        if (!nl)
                                return -ENOMEM;
                        l = nl;
                        l[n] = strip_dup(p, p + k);
                        if (!l[n])
                                return -ENOMEM;
                        l[++n] = NULL;
                }
                p += k;
                if (*p)
                        p++;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int config_parse_run_as(const char *s, long long *ret, const char **ret_why) {
        char *end;
        long long v;

        if (streq_ptr(s, "auto")) {
                if (ret)
                        *ret = -1;
                return 0;
        }
        if (isempty(s) || !isdigit((unsigned char) s[0])) {
                *ret_why = "expected auto or a uid (1 to 2147483647)";
                return -EINVAL;
        }
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || *end || v > INT32_MAX) {
                *ret_why = "expected auto or a uid (1 to 2147483647)";
                return -EINVAL;
        }
        if (v == 0) {
                *ret_why = "0 is root, which the puller pods' runAsNonRoot refuses; use a uid or auto";
                return -EINVAL;
        }
        if (ret)
                *ret = v;
        return 0;
}

static const struct {
        const char *unit;
        double bytes;   /* per second, for 1 of the unit */
        bool nocase;    /* bits are written every way: Mbit, mbit, MBit */
} rate_units[] = {
        { "bit", 1.0 / 8, true },     { "kbit", 1e3 / 8, true },  { "mbit", 1e6 / 8, true },
        { "gbit", 1e9 / 8, true },    { "bps", 1.0 / 8, true },   { "kbps", 1e3 / 8, true },
        { "mbps", 1e6 / 8, true },    { "gbps", 1e9 / 8, true },  { "B/s", 1, false },
        { "kB/s", 1e3, false },       { "KB/s", 1e3, false },     { "MB/s", 1e6, false },
        { "GB/s", 1e9, false },       { "KiB/s", 1024.0, false }, { "MiB/s", 1048576.0, false },
        { "GiB/s", 1073741824.0, false },
};

int config_parse_rate(const char *s, double *ret) {
        const char *end;
        double v;

        if (parse_finite(s, &v, &end) < 0 || !(v > 0))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(rate_units); i++) {
                const char *u = rate_units[i].unit;
                size_t n = strlen(u);
                bool same = rate_units[i].nocase ? strncasecmp(end, u, n) == 0 : strncmp(end, u, n) == 0;
                /* "Mbit/s" is "Mbit": the per-second suffix is optional on bits. */
                if (!same || !(end[n] == '\0' || (rate_units[i].nocase && u[n - 1] == 't' && streq(end + n, "/s"))))
                        continue;
                if (!isfinite(v * rate_units[i].bytes))
                        return -EINVAL;
                *ret = v * rate_units[i].bytes;
                return 0;
        }
        return -EINVAL;
}

int config_format_rate(double bps, char *buf, size_t size) {
        double mbit = bps * 8 / 1e6;
        int n;

        if (mbit >= 1 && fabs(mbit - round(mbit)) < 1e-6)
                n = snprintf(buf, size, "%.0fmbit", round(mbit));
        else
                n = snprintf(buf, size, "%.6gMB/s", bps / 1e6);
        return n >= 0 && (size_t) n < size ? 0 : -ENOBUFS;
}
