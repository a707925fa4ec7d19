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

void verify_causes_done(struct verify_causes *q) {
        for (size_t i = 0; i < q->n; i++) {
                free(q->items[i].pod_uid);
                free(q->items[i].node);
                free(q->items[i].container);
                free(q->items[i].reason);
        }
        free(q->items);
        *q = (struct verify_causes) {};
}

void verify_causes_drop(struct verify_causes *q, size_t i) {
        if (i >= q->n)
                return;
        free(q->items[i].pod_uid);
        free(q->items[i].node);
        free(q->items[i].container);
        free(q->items[i].reason);
        q->items[i] = q->items[--q->n];
}

bool verify_cause_wanted(const struct kube_container *c, const struct tracker_result *res) {
        if (!pull_status_lacks_cause(c->reason, c->message))
                return false;
        /* Looked up before and found: the status has not moved on since. */
        return !(res && streq_ptr(res->reason, c->reason) && pull_event_is_cause("Failed", res->message));
}

int verify_causes_add(struct verify_causes *q, const char *pod_uid, const char *node, size_t image,
                      const struct kube_container *c) {
        struct verify_cause *items, *e;

        if (isempty(pod_uid) || !node)
                return 0;
        for (size_t i = 0; i < q->n; i++)
                if (q->items[i].image == image && streq(q->items[i].node, node))
                        return 0;
        items = realloc(q->items, (q->n + 1) * sizeof(*items));
        if (!items)
                return -ENOMEM;
        q->items = items;
        e = &items[q->n];
        *e = (struct verify_cause) { .pod_uid = strdup(pod_uid), .node = strdup(node), .image = image,
                                     .container = strdup(c->name), .reason = c->reason ? strdup(c->reason) : NULL };
        q->n++;
        if (!e->pod_uid || !e->node || !e->container || (c->reason && !e->reason))
                return -ENOMEM;
        return 0;
}

int verify_pull_cause(struct machine *m, const char *pod_uid, const char *container, char **ret) {
        _cleanup_(freep) char *selector = NULL;
        struct cause_search cs = { .container = container };
        int r;

        if (asprintf(&selector, "involvedObject.uid=%s", pod_uid) < 0)
                return -ENOMEM;
        struct kube_list_options lo = { .field_selector = selector };
        r = kube_list_api_events(m->kube, m->config->namespace, &lo, on_pod_event, &cs);
        if (r < 0) {
                log_debug("cannot list the events of pod %s: %s", pod_uid, machine_api_error(m, r));
                free(cs.message);
                return r;
        }
        if (!cs.message)
                return -ENOENT;
        log_debug("pod %s container '%s': the pod's event says: %s", pod_uid, container, cs.message);
        *ret = cs.message;
        return 0;
}

static int strv_extend(char ***l, const char *s) {
        size_t n = 0;
        char **nl;

        while (*l && (*l)[n])
                n++;
        nl = realloc(*l, (n + 2) * sizeof(char *));
        if (!nl)
                return -ENOMEM;
        *l = nl;
        nl[n + 1] = NULL;
        nl[n] = strdup(s);
        return nl[n] ? 0 : -ENOMEM;
}

static bool strv_contains(char **l, const char *s) {
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

struct progress_search {
        const char *prefix; /* "clyde-seed-<run id>-": the run's pods */
        int64_t since;
        bool pulled;
        char **failed;  /* "<pod uid> <field path>" of failed pulls */
        char **pulling; /* the same for Pulling events since `since` */
};

static int on_ns_event(const struct kube_api_event *e, void *userdata) {
        struct progress_search *ps = userdata;
        _cleanup_(freep) char *key = NULL;
        bool failed = pull_event_is_cause(e->reason, e->message);

        if (!e->object_name || !startswith(e->object_name, ps->prefix))
                return 0;
        if (streq_ptr(e->reason, "Pulled") && e->time >= ps->since) {
                ps->pulled = true;
                return -ECANCELED; /* one is enough */
        }
        if (!failed && !(streq_ptr(e->reason, "Pulling") && e->time >= ps->since))
                return 0;
        if (asprintf(&key, "%s %s", strempty(e->object_uid), strempty(e->field_path)) < 0)
                return -ENOMEM;
        return strv_extend(failed ? &ps->failed : &ps->pulling, key);
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
        if (r < 0 && r != -ECANCELED)
                log_warning("cannot list pod events to look for pull progress: %s", machine_api_error(m, r));
        else if (!ps.pulled)
                for (size_t i = 0; ps.pulling && ps.pulling[i] && !ps.pulled; i++)
                        ps.pulled = !strv_contains(ps.failed, ps.pulling[i]);
        strv_free(ps.failed);
        strv_free(ps.pulling);
        return r >= 0 || r == -ECANCELED ? ps.pulled : false;
}
