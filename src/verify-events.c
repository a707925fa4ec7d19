/* SPDX-License-Identifier: MIT */
#include "verify-events.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kube-events.h"
#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "pullstate.h"
#include "util.h"

struct cause_search {
        const char *container;
        int64_t time;
        char *message;
};

static int on_pod_event(const struct kube_api_event *e, void *userdata) {
        struct cause_search *cs = userdata;

        if (!pull_event_is_cause(e->reason, e->message) || !pull_event_for_container(e->field_path, cs->container))
                return 0;
        /* The latest wins; the list is in creation order, so a tie goes to the later one. */
        if (cs->message && e->time < cs->time)
                return 0;
        cs->time = e->time;
        return free_and_strdup(&cs->message, e->message);
}

const char *verify_pull_message(struct machine *m, const char *pod_uid, const struct kube_container *c,
                                const struct tracker_result *res, char **buf) {
        _cleanup_(freep) char *selector = NULL;
        struct cause_search cs = { .container = c->name };
        int r;

        if (!pull_status_lacks_cause(c->reason, c->message) || isempty(pod_uid))
                return c->message;
        /* Looked up before and found: the status has not moved on since. */
        if (res && streq_ptr(res->reason, c->reason) && pull_event_is_cause("Failed", res->message)) {
                /* A copy: the caller may write res with it. */
                if (free_and_strdup(buf, res->message) < 0)
                        return c->message;
                return *buf;
        }
        if (asprintf(&selector, "involvedObject.uid=%s", pod_uid) < 0)
                return c->message;
        struct kube_list_options lo = { .field_selector = selector };
        r = kube_list_api_events(m->kube, m->config->namespace, &lo, on_pod_event, &cs);
        if (r < 0 || !cs.message) {
                if (r < 0)
                        log_debug("cannot list the events of pod %s: %s", pod_uid, machine_api_error(m, r));
                free(cs.message);
                return c->message;
        }
        log_debug("pod %s container '%s': %s without a cause, the pod's event says: %s", pod_uid, c->name,
                  c->reason, cs.message);
        free(*buf);
        *buf = cs.message;
        return *buf;
}

struct progress_search {
        const char *prefix; /* "clyde-seed-<run id>-": the run's pods */
        int64_t since;
        bool found;
};

static int on_ns_event(const struct kube_api_event *e, void *userdata) {
        struct progress_search *ps = userdata;

        if (!streq_ptr(e->reason, "Pulling") && !streq_ptr(e->reason, "Pulled"))
                return 0;
        if (!e->object_name || !startswith(e->object_name, ps->prefix) || e->time < ps->since)
                return 0;
        ps->found = true;
        return -ECANCELED; /* one is enough */
}

bool verify_pulls_progressed(struct machine *m, const char *run_id, int64_t since) {
        _cleanup_(freep) char *name = NULL, *cause = NULL;
        struct kube_list_options lo = { .field_selector = "involvedObject.kind=Pod" };
        struct progress_search ps = { .since = since };
        size_t n;
        int r;

        /* The DaemonSet name of batch 0 part 0 without its "0-0" tail is the run's prefix. */
        if (manifest_daemonset_name(run_id, 0, 0, &name, &cause) < 0)
                return false;
        n = strlen(name);
        if (n < 3)
                return false;
        name[n - 3] = '\0';
        ps.prefix = name;
        r = kube_list_api_events(m->kube, m->config->namespace, &lo, on_ns_event, &ps);
        if (r < 0 && r != -ECANCELED) {
                log_warning("cannot list pod events to look for pull progress: %s", machine_api_error(m, r));
                return false;
        }
        return ps.found;
}
