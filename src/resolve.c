/* SPDX-License-Identifier: MIT */
/* Plan-time resolution: pull secrets -> registry client -> one HEAD per reference (more
 * only for a digest not seen before) -> tracker tags and run digests; seeder storage
 * from the node list for the disk pre-flight. */
#define _GNU_SOURCE 1
#include "resolve-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "macro.h"
#include "registry.h"
#include "seedfit.h"
#include "util.h"

struct resolver {
        struct machine *m;
        struct registry_hosts hosts;
        struct registry_creds creds;
        struct registry_client *client;
        char **down; /* registries that did not answer: one warning each */
        size_t n_down;
        unsigned resolved, moved, fallback;
};

struct resolve *resolve_free(struct resolve *rs) {
        if (!rs)
                return NULL;
        for (size_t i = 0; i < rs->n_nodes; i++) {
                free(rs->nodes[i].name);
                free(rs->nodes[i].os);
                free(rs->nodes[i].arch);
        }
        free(rs->nodes);
        free(rs);
        return NULL;
}

_printf_(3, 4) static void registry_log(void *userdata, int prio, const char *fmt, ...) {
        _cleanup_(freep) char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (s)
                log_full(prio <= LOG_WARNING ? prio : LOG_DEBUG, "registry: %s", s);
}

/* The named pull secrets' .dockerconfigjson, read with get on those names only. */
static void load_creds(struct resolver *rv) {
        const struct config *c = rv->m->config;

        for (char **s = c->image_pull_secrets; s && *s; s++) {
                _cleanup_(freep) char *b64 = NULL, *cause = NULL;
                char *json = NULL;
                size_t len = 0;
                int r = kube_get_secret_key(rv->m->kube, c->namespace, *s, ".dockerconfigjson", &b64);
                if (r < 0) {
                        log_warning("pull secret '%s' in namespace '%s' cannot be read for registry resolution "
                                    "(%s)%s; resolving without it", *s, c->namespace,
                                    r == -ENOKEY ? "no .dockerconfigjson key" : machine_api_error(rv->m, r),
                                    r == -EACCES ? ": list it under resourceNames in rbac.yaml" : "");
                        continue;
                }
                r = registry_base64_decode(b64, strlen(b64), &json, &len);
                if (r >= 0)
                        r = registry_dockerconfig_parse(json, len, &rv->creds, &cause);
                if (json) {
                        explicit_bzero(json, len);
                        free(json);
                }
                if (r < 0)
                        log_warning("pull secret '%s': %s; resolving without it", *s,
                                    cause ?: "not base64");
        }
}

static int resolver_init(struct resolver *rv, struct machine *m) {
        const struct config *c = m->config;
        _cleanup_(freep) char *cause = NULL;
        struct registry_options o = {
                .hosts = &rv->hosts, .creds = &rv->creds,
                .connect_timeout_ms = MIN(c->registry_timeout, (int64_t) 10) * 1000,
                .request_timeout_ms = c->registry_timeout * 1000,
                .deadline_ms = c->registry_timeout * 2000,
                .max_attempts = 3, .log = registry_log,
        };
        int r;

        *rv = (struct resolver) { .m = m };
        r = registry_hosts_parse((const char *const *) c->registry_mirrors,
                                 (const char *const *) c->registry_ca_files, &rv->hosts, &cause);
        if (r < 0) /* config_validate() checked the lists already */
                return log_error_errno(r, "[registry]: %s", strempty(cause));
        load_creds(rv);
        o.hosts = &rv->hosts;
        o.creds = &rv->creds;
        return registry_client_new(&o, &rv->client);
}

static void resolver_done(struct resolver *rv) {
        registry_client_free(rv->client);
        registry_hosts_done(&rv->hosts);
        registry_creds_done(&rv->creds);
        strv_free(rv->down);
}

static bool registry_down(const struct resolver *rv, const char *domain) {
        for (size_t i = 0; i < rv->n_down; i++)
                if (streq(rv->down[i], domain))
                        return true;
        return false;
}

static void mark_down(struct resolver *rv, const char *domain, const char *cause) {
        char **v = realloc(rv->down, (rv->n_down + 2) * sizeof(char *));

        log_warning("registry '%s' cannot be reached from here (%s): its images are pulled by tag, "
                    "as without [registry] resolve", domain, strempty(cause));
        if (!v)
                return;
        rv->down = v;
        v[rv->n_down] = strdup(domain);
        v[rv->n_down + 1] = NULL;
        rv->n_down += v[rv->n_down] != NULL;
}

static bool is_unreachable(int r) {
        return r == -EHOSTUNREACH || r == -ECONNREFUSED || r == -ETIMEDOUT || r == -EPROTO ||
               r == -ECONNRESET || r == -EIO;
}

/* Copies the registry's platforms into the tracker's shape (borrowed strings). */
static int record(struct resolver *rv, const struct image_ref *ref, const struct registry_image *img, bool same) {
        struct tracker *t = rv->m->tracker;
        struct tracker_platform ps[REGISTRY_PLATFORMS_MAX];
        const struct tracker_tag *g = tracker_tag_find(t, ref->normalized);
        _cleanup_(freep) char *old = g && g->digest ? strdup(g->digest) : NULL;
        size_t n = MIN(img->n_platforms, (size_t) REGISTRY_PLATFORMS_MAX);
        int r;

        for (size_t i = 0; i < n; i++)
                ps[i] = (struct tracker_platform) { img->platforms[i].os, img->platforms[i].arch,
                                                    img->platforms[i].variant, img->platforms[i].size };
        r = tracker_tag_set(t, ref->normalized, img->digest, now_seconds(), same ? NULL : ps, same ? 0 : n);
        if (r < 0)
                return r;
        if (r == 1) {
                struct log_fields f = { .image = ref->normalized, .result = "moved" };
                log_fields(LOG_NOTICE, &f, "image %s moved: %s -> %s; pulling it again now", ref->normalized,
                           strempty(old), img->digest);
                rv->moved++;
        }
        rv->resolved++;
        r = tracker_run_add_image(rv->m->tracker->run, ref->normalized, img->digest);
        return r < 0 ? r : 0;
}

static int resolve_one(struct resolver *rv, const struct image_ref *ref) {
        const struct tracker_tag *g = tracker_tag_find(rv->m->tracker, ref->normalized);
        _cleanup_(registry_image_done) struct registry_image img = {};
        _cleanup_(freep) char *cause = NULL;
        int r;

        if (registry_down(rv, ref->domain)) {
                rv->fallback++;
                return 0;
        }
        /* Only a digest whose platforms are on record can be taken as known. */
        r = registry_resolve(rv->client, ref, g && g->n_platforms > 0 ? g->digest : NULL, &img, &cause);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                return record(rv, ref, &img, r == 1);
        rv->fallback++;
        if (is_unreachable(r))
                mark_down(rv, ref->domain, cause);
        else
                log_warning("image %s: cannot resolve (%s): pulled by tag", ref->normalized, strempty(cause));
        return 0;
}

static int on_node(struct node_info *n, void *userdata) {
        struct resolve *rs = userdata;
        struct resolve_node *v = realloc(rs->nodes, (rs->n_nodes + 1) * sizeof(*v));

        if (!v)
                return -ENOMEM;
        rs->nodes = v;
        v[rs->n_nodes++] = (struct resolve_node) {
                .name = TAKE_PTR(n->name), .os = TAKE_PTR(n->os), .arch = TAKE_PTR(n->arch),
                .capacity = n->storage_capacity, .images_bytes = n->images_bytes,
        };
        return 0;
}

/* Storage of the seeders (a plan lists every node: its new seeders carry no label yet).
 * Returns 0 (a failed list is a warning) or -ENOMEM. */
static int read_nodes(struct machine *m, struct resolve *rs) {
        struct kube_list_options lo = { .label_selector = m->dry_run ? NULL : m->config->label,
                                        .limit = (unsigned) m->config->page_size };
        int r;

        r = kube_list_nodes(m->kube, &lo, NULL, on_node, NULL, rs, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* The pre-flight is a precaution: without the nodes' storage the run goes on. */
                log_warning("cannot read the seeders' storage (%s): no disk pre-flight in this run",
                            machine_api_error(m, r));
                for (size_t i = 0; i < rs->n_nodes; i++)
                        rs->nodes[i].capacity = -1;
        }
        return 0;
}

int resolve_prepare(struct machine *m, struct resolve **ret) {
        _cleanup_(resolve_freep) struct resolve *rs = NULL;
        struct resolver rv;
        int r = 0;

        *ret = NULL;
        if (!m->config->registry_resolve) {
                log_info("[registry] resolve = no: tags are pulled by tag");
                return 0;
        }
        r = resolver_init(&rv, m);
        for (size_t i = 0; r >= 0 && i < m->images->n; i++)
                r = resolve_one(&rv, &m->images->entries[i].ref);
        if (r >= 0)
                log_info("registry: %u of %zu images resolved (%" PRIu64 " requests, %" PRIu64 " HEAD), %u moved, "
                         "%u pulled by tag", rv.resolved, m->images->n, registry_client_requests(rv.client),
                         registry_client_heads(rv.client), rv.moved, rv.fallback);
        resolver_done(&rv);
        if (r < 0)
                return r;
        rs = calloc(1, sizeof(*rs));
        if (!rs)
                return -ENOMEM;
        r = read_nodes(m, rs);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(rs);
        return 0;
}
