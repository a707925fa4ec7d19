/* SPDX-License-Identifier: MIT */
/* The [registry] endpoint and CA tables, modelled on containerd's hosts.toml: for each
 * registry the mirrors to ask first, then the registry itself (or the server URL the
 * table gives for its own host); a CA file per endpoint host. Platform matching. (pure) */
#define _GNU_SOURCE 1
#include "registry-parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "util.h"

void registry_hosts_done(struct registry_hosts *h) {
        if (!h)
                return;
        for (size_t i = 0; i < h->n_endpoints; i++) {
                free(h->endpoints[i].registry);
                free(h->endpoints[i].url);
        }
        for (size_t i = 0; i < h->n_cas; i++) {
                free(h->cas[i].host);
                free(h->cas[i].file);
        }
        free(h->endpoints);
        free(h->cas);
        *h = (struct registry_hosts) {};
}

/* host[:port] of an http(s) URL without path, query or user info; *ret is new. */
static int url_hostport(const char *url, char **ret) {
        const char *p = startswith(url, "https://") ?: startswith(url, "http://");
        size_t n;

        if (!p)
                return -EINVAL;
        n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
                n--;
        if (n == 0 || memchr(p, '/', n) || memchr(p, '@', n) || memchr(p, '?', n) || memchr(p, '#', n))
                return -EINVAL;
        return registry_host_normalize_raw(p, n, ret);
}

int registry_host_normalize_raw(const char *s, size_t n, char **ret) {
        _cleanup_(freep) char *h = strndup(s, n);

        if (!h)
                return -ENOMEM;
        for (char *c = h; *c; c++) {
                if (!isalnum((unsigned char) *c) && !strchr(".-:[]", *c))
                        return -EINVAL;
                *c = (char) tolower((unsigned char) *c);
        }
        if (!*h)
                return -EINVAL;
        *ret = TAKE_PTR(h);
        return 0;
}

/* Splits "left=right" at the first '='. */
static int split_pair(const char *s, char **ret_left, const char **ret_right) {
        const char *eq = strchr(s, '=');

        if (!eq || eq == s || !eq[1])
                return -EINVAL;
        return registry_host_normalize_raw(s, (size_t) (eq - s), ret_left) < 0 ? -EINVAL :
               (*ret_right = eq + 1, 0);
}

static int add_endpoint(struct registry_hosts *h, const char *item, char **ret_cause) {
        _cleanup_(freep) char *reg = NULL, *hp = NULL, *url = NULL;
        struct registry_endpoint *v;
        const char *u;
        size_t n;

        if (split_pair(item, &reg, &u) < 0 || url_hostport(u, &hp) < 0)
                return cause_fmt(ret_cause, "mirror '%s': expected registry=http(s)://host[:port]", item);
        n = strlen(u);
        while (n > 0 && u[n - 1] == '/')
                n--;
        url = strndup(u, n);
        v = url ? realloc(h->endpoints, (h->n_endpoints + 1) * sizeof(*v)) : NULL;
        if (!v)
                return -ENOMEM;
        h->endpoints = v;
        h->endpoints[h->n_endpoints++] = (struct registry_endpoint) { TAKE_PTR(reg), TAKE_PTR(url) };
        return 0;
}

static int add_ca(struct registry_hosts *h, const char *item, char **ret_cause) {
        _cleanup_(freep) char *host = NULL, *file = NULL;
        struct registry_ca *v;
        const char *f;

        if (split_pair(item, &host, &f) < 0 || f[0] != '/')
                return cause_fmt(ret_cause, "CA '%s': expected host[:port]=/absolute/file", item);
        file = strdup(f);
        v = file ? realloc(h->cas, (h->n_cas + 1) * sizeof(*v)) : NULL;
        if (!v)
                return -ENOMEM;
        h->cas = v;
        h->cas[h->n_cas++] = (struct registry_ca) { TAKE_PTR(host), TAKE_PTR(file) };
        return 0;
}

int registry_hosts_parse(const char *const *mirrors, const char *const *ca_files, struct registry_hosts *ret,
                         char **ret_cause) {
        struct registry_hosts h = {};
        int r = 0;

        for (const char *const *s = mirrors; r >= 0 && s && *s; s++)
                r = add_endpoint(&h, *s, ret_cause);
        for (const char *const *s = ca_files; r >= 0 && s && *s; s++)
                r = add_ca(&h, *s, ret_cause);
        if (r < 0) {
                registry_hosts_done(&h);
                return r;
        }
        *ret = h;
        return 0;
}

static int strv_push(char ***l, size_t *n, const char *s) {
        char **v = realloc(*l, (*n + 2) * sizeof(char *));

        if (!v)
                return -ENOMEM;
        *l = v;
        v[*n] = strdup(s);
        v[*n + 1] = NULL;
        if (!v[*n])
                return -ENOMEM;
        (*n)++;
        return 0;
}

int registry_hosts_endpoints(const struct registry_hosts *h, const char *registry, char ***ret) {
        _cleanup_(strv_freep) char **l = NULL;
        _cleanup_(freep) char *self = NULL, *reg = NULL;
        bool has_self = false;
        size_t n = 0;
        int r;

        r = registry_host_normalize_raw(registry, strlen(registry), &reg);
        if (r < 0)
                return r;
        for (size_t i = 0; h && i < h->n_endpoints; i++) {
                _cleanup_(freep) char *hp = NULL;
                if (!streq(h->endpoints[i].registry, reg))
                        continue;
                if (strv_push(&l, &n, h->endpoints[i].url) < 0)
                        return -ENOMEM;
                has_self = has_self || (url_hostport(h->endpoints[i].url, &hp) == 0 && streq(hp, reg));
        }
        if (!has_self) {
                if (asprintf(&self, "https://%s", streq(reg, "docker.io") ? "registry-1.docker.io" : reg) < 0)
                        return -ENOMEM;
                if (strv_push(&l, &n, self) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

const char *registry_hosts_ca(const struct registry_hosts *h, const char *url) {
        _cleanup_(freep) char *hp = NULL;

        if (!h || url_hostport(url, &hp) < 0)
                return NULL;
        for (size_t i = 0; i < h->n_cas; i++)
                if (streq(h->cas[i].host, hp))
                        return h->cas[i].file;
        return NULL;
}

bool registry_platform_matches(const struct registry_platform *p, const char *os, const char *arch,
                               const char *variant) {
        if (!p->os || !p->arch || !os || !arch || !streq(p->os, os) || !streq(p->arch, arch))
                return false;
        return !p->variant || !variant || streq(p->variant, variant);
}
