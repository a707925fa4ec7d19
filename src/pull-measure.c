/* SPDX-License-Identifier: MIT */
#include "pull-measure.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kube-events.h"
#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "pullrate.h"
#include "resolve.h"
#include "seedfit.h"

struct samples {
        const char *prefix; /* the run's pod names start with it */
        struct pullrate_sample *items;
        char **nodes;       /* owned copies behind items[].node */
        size_t n;
};

static void samples_done(struct samples *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->nodes[i]);
        free(s->nodes);
        free(s->items);
}

static int on_event(const struct kube_api_event *e, void *userdata) {
        struct samples *s = userdata;
        struct pullrate_sample x = {};
        void *p;

        /* Only the seeded images (containers), not the helper (the init container). */
        if (!streq_ptr(e->reason, "Pulled") || !e->object_name || !startswith(e->object_name, s->prefix) ||
            !e->field_path || !startswith(e->field_path, "spec.containers{") || isempty(e->host))
                return 0;
        if (pullrate_parse_pulled(e->message, &x.seconds, &x.bytes) < 0 || x.bytes <= 0)
                return 0;
        if (!(p = realloc(s->items, (s->n + 1) * sizeof(*s->items))))
                return -ENOMEM;
        s->items = p;
        if (!(p = realloc(s->nodes, (s->n + 1) * sizeof(*s->nodes))))
                return -ENOMEM;
        s->nodes = p;
        if (!(s->nodes[s->n] = strdup(e->host)))
                return -ENOMEM;
        x.node = s->nodes[s->n];
        s->items[s->n++] = x;
        return 0;
}

/* The run's pod name prefix: its DaemonSet name of batch 0 part 0 without "0-0". */
static int run_prefix(const char *run_id, char **ret) {
        _cleanup_(freep) char *cause = NULL;
        char *name = NULL;
        size_t n;

        if (manifest_daemonset_name(run_id, 0, 0, &name, &cause) < 0)
                return -EINVAL;
        n = strlen(name);
        if (n < 3) {
                free(name);
                return -EINVAL;
        }
        name[n - 3] = '\0';
        *ret = name;
        return 0;
}

static int from_events(struct machine *m, struct tracker_pull *ret) {
        _cleanup_(freep) char *prefix = NULL;
        struct kube_list_options lo = { .field_selector = "involvedObject.kind=Pod" };
        struct samples s = {};
        int r;

        r = run_prefix(m->tracker->run->id, &prefix);
        if (r < 0)
                return -ENODATA;
        s.prefix = prefix;
        r = kube_list_api_events(m->kube, m->config->namespace, &lo, on_event, &s);
        if (r < 0 && r != -ENOMEM) {
                log_info("cannot list pod events to measure the pull rate: %s", machine_api_error(m, r));
                r = -ENODATA;
        }
        if (r >= 0)
                r = pullrate_from_samples(s.items, s.n, ret);
        samples_done(&s);
        return r;
}

/* Registry sizes of the pulled images over the verify phase's wall time. */
static int from_phase(struct machine *m, struct tracker_pull *ret) {
        const struct tracker_run *run = m->tracker->run;
        struct tracker_pull p = { .source = TRACKER_PULL_PHASE };
        int64_t start = run->phase_started_at[TRACKER_PHASE_VERIFY], end = run->phase_started_at[TRACKER_PHASE_CLEANUP];
        _cleanup_(freep) const char **nodes = calloc(run->n_results + 1, sizeof(char *));

        if (!nodes)
                return -ENOMEM;

        for (size_t i = 0; i < run->n_results; i++) {
                const struct tracker_result *res = &run->results[i];
                int64_t b;
                if (res->state == TRACKER_STATE_FAILED || res->state == TRACKER_STATE_WAITING)
                        return -ENODATA; /* a time-out or back-off is not transfer time */
                if (res->state != TRACKER_STATE_PULLED)
                        continue;
                b = resolve_result_bytes(m, res);
                if (b <= 0)
                        return -ENODATA;
                p.bytes += b;
                p.pulls++;
                size_t k = 0;
                while (k < p.nodes && !streq(nodes[k], res->node))
                        k++;
                if (k == p.nodes)
                        nodes[p.nodes++] = res->node;
        }
        if (p.pulls == 0 || start <= 0 || end - start < 1)
                return -ENODATA;
        p.rate = p.bytes / (end - start);
        if (p.rate <= 0)
                return -ENODATA;
        *ret = p;
        return 0;
}

static bool any_pulled(const struct tracker_run *run) {
        for (size_t i = 0; i < run->n_results; i++)
                if (run->results[i].state == TRACKER_STATE_PULLED)
                        return true;
        return false;
}

int pull_measure(struct machine *m, struct tracker_pull *ret) {
        char rate[32], bytes[32];
        int r;

        /* Nothing pulled (every image held already): nothing to measure, no request. */
        if (!any_pulled(m->tracker->run))
                return -ENODATA;
        r = from_events(m, ret);
        if (r == -ENODATA)
                r = from_phase(m, ret);
        if (r == -ENODATA) {
                log_info("no pull rate measured in this run (no pulled image with a known size and time)");
                return r;
        }
        if (r < 0)
                return r;
        log_info("pull rate: %s/s over %u seeders (%u pulls, %s, from %s)",
                 seedfit_bytes(ret->rate, rate, sizeof(rate)), ret->nodes, ret->pulls,
                 seedfit_bytes(ret->bytes, bytes, sizeof(bytes)),
                 ret->source == TRACKER_PULL_EVENTS ? "the kubelet's Pulled events" : "the verify phase's time");
        return 0;
}
