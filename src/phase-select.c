/* SPDX-License-Identifier: MIT */
/* select: read the nodes, decide with select_plan(), record the plan in the tracker. */
#include "phase.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "labelsel.h"
#include "estimate.h"
#include "log.h"
#include "macro.h"
#include "select.h"
#include "util.h"

struct node_set {
        struct node_info *nodes;
        size_t n, alloc;
        bool selected; /* value for node_info.selected of nodes added by this list */
        const struct image_list *images;
};

static void node_set_done(struct node_set *s) {
        node_info_array_free(s->nodes, s->n);
        s->nodes = NULL;
        s->n = s->alloc = 0;
}

static struct node_info *node_set_find(struct node_set *s, const char *name) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->nodes[i].name, name))
                        return &s->nodes[i];
        return NULL;
}

static int on_node(struct node_info *n, void *userdata) {
        struct node_set *s = userdata;
        int r;

        /* The second list (seeders outside node_selector) must not repeat nodes. */
        if (!s->selected && node_set_find(s, n->name))
                return 0;
        r = machine_held_images(n, s->images);
        if (r < 0)
                return r;
        if (s->n == s->alloc) {
                size_t na = s->alloc ? s->alloc * 2 : 64;
                struct node_info *nn = realloc(s->nodes, na * sizeof(*nn));
                if (!nn)
                        return -ENOMEM;
                s->nodes = nn;
                s->alloc = na;
        }
        s->nodes[s->n] = *n;
        s->nodes[s->n].selected = s->selected;
        s->n++;
        memset(n, 0, sizeof(*n));
        return 0;
}

static void on_reset(void *userdata) {
        struct node_set *s = userdata;
        size_t keep = 0;

        /* Forget only what the interrupted list delivered. */
        for (size_t i = 0; i < s->n; i++) {
                if (s->nodes[i].selected == s->selected)
                        node_info_done(&s->nodes[i]);
                else
                        s->nodes[keep++] = s->nodes[i];
        }
        s->n = keep;
}

/* Lists every node (or, with node_selector, the selected ones plus the current seeders
 * outside the selector, so their labels are still managed). */
static int list_nodes(struct machine *m, struct node_set *s) {
        const struct config *c = m->config;
        struct kube_node_filter f = {
                .seeder_label_key = c->label_key,
                .owner_annotation_key = CLYDE_OWNER_ANNOTATION,
                .want_image = machine_want_image,
                .userdata = (void *) m->images,
        };
        struct kube_list_options lo = { .limit = (unsigned) c->page_size };
        int r;

        s->images = m->images;
        s->selected = true;
        lo.label_selector = isempty(c->node_selector) ? NULL : c->node_selector;
        r = kube_list_nodes(m->kube, &lo, &f, on_node, on_reset, s, NULL);
        if (r < 0 || isempty(c->node_selector))
                return r;
        s->selected = false;
        lo.label_selector = c->label;
        return kube_list_nodes(m->kube, &lo, &f, on_node, on_reset, s, NULL);
}

static enum tracker_action to_tracker_action(enum select_action a) {
        switch (a) {
        case SELECT_KEEP: return TRACKER_ACTION_KEEP;
        case SELECT_ADOPT: return TRACKER_ACTION_ADOPT;
        case SELECT_ADD: return TRACKER_ACTION_ADD;
        case SELECT_DROP: return TRACKER_ACTION_DROP;
        case SELECT_GONE: return TRACKER_ACTION_GONE;
        case SELECT_WAIT: return TRACKER_ACTION_WAIT;
        default: return _TRACKER_ACTION_INVALID;
        }
}

static void log_decision(const struct select_entry *e) {
        struct log_fields f = { .node = e->node, .result = select_action_to_string(e->action) };

        switch (e->action) {
        case SELECT_ADD:
                f.message_id = CLYDE_MSGID_SEEDER_ADDED;
                log_fields(LOG_INFO, &f, "node '%s': new seeder: %s", e->node, strempty(e->reason));
                break;
        case SELECT_DROP:
        case SELECT_GONE:
                f.message_id = CLYDE_MSGID_SEEDER_REPLACED;
                log_fields(LOG_NOTICE, &f, "node '%s': seeder %s: %s", e->node,
                           e->action == SELECT_GONE ? "gone" : "removed", strempty(e->reason));
                break;
        case SELECT_WAIT:
        case SELECT_UNHEALTHY_FOREIGN:
                log_fields(LOG_WARNING, &f, "node '%s': seeder %s: %s", e->node,
                           e->action == SELECT_WAIT ? "unhealthy, within grace" : "labelled by someone else and unhealthy, left alone",
                           strempty(e->reason));
                break;
        default:
                log_fields(LOG_DEBUG, &f, "node '%s': %s%s%s", e->node, select_action_to_string(e->action),
                           e->reason ? ": " : "", strempty(e->reason));
        }
}

/* Seeders that preload works on: NotReady ones (WAIT) cannot pull. */
static bool pulls_images(enum select_action a) {
        return a == SELECT_KEEP || a == SELECT_ADOPT || a == SELECT_ADD;
}


/* Records the plan and brings the tracker's seeder list in line with it: seeders are
 * what the labels say (plus the ones about to be labelled). */
static int record_plan(struct machine *m, const struct select_plan *p, struct node_set *s) {
        struct tracker *t = m->tracker;
        struct tracker_run *run = t->run;
        int64_t now = now_seconds();
        const struct select_entry *e;
        int r;

        tracker_plan_clear(run);
        run->target = (unsigned) p->target;
        run->eligible = (unsigned) p->eligible;
        for (size_t i = 0; i < p->n_entries; i++) {
                e = &p->entries[i];
                struct node_info *n = e->index == SELECT_NO_INDEX ? NULL : &s->nodes[e->index];
                log_decision(e);
                if (e->action == SELECT_UNHEALTHY_FOREIGN || e->action == SELECT_GONE) {
                        (void) tracker_seeder_remove(t, e->node);
                        if (e->action == SELECT_UNHEALTHY_FOREIGN)
                                continue;
                }
                r = tracker_plan_set(run, e->node, to_tracker_action(e->action), e->reason);
                if (r < 0)
                        return r;
                if (e->action == SELECT_GONE)
                        continue;
                struct tracker_seeder *ts = tracker_seeder_find(t, e->node);
                r = tracker_seeder_add(t, e->node, n->zone, n->arch,
                                       ts ? ts->labelled_at : (e->action == SELECT_ADD ? 0 : now),
                                       e->action == SELECT_ADD ? true : n->owned, NULL);
                if (r < 0)
                        return r;
                if (pulls_images(e->action)) {
                        r = machine_seeder_take(m, n);
                        if (r < 0)
                                return r;
                }
        }
        /* A seeder the tracker knew whose label is gone (removed by hand) is no longer one. */
        for (size_t i = t->n_seeders; i > 0; i--)
                if (!select_plan_find(p, t->seeders[i - 1].node)) {
                        log_notice("node '%s': no longer labelled, forgetting it as a seeder", t->seeders[i - 1].node);
                        (void) tracker_seeder_remove(t, t->seeders[i - 1].node);
                }
        m->seeders_known = true;
        return 0;
}

static void log_summary(const struct select_plan *p) {
        log_info("%zu eligible nodes, target %zu seeders: keep %zu, adopt %zu, add %zu, drop %zu, "
                 "gone %zu, waiting %zu",
                 p->eligible, p->target, p->counts[SELECT_KEEP], p->counts[SELECT_ADOPT],
                 p->counts[SELECT_ADD], p->counts[SELECT_DROP], p->counts[SELECT_GONE],
                 p->counts[SELECT_WAIT]);
        if (p->seeders < p->target)
                log_warning("only %zu seeders for a target of %zu: not enough eligible nodes",
                            p->seeders, p->target);
}

/* GKE Autopilot refuses what clyde-seed does: labelling nodes and pods with a custom
 * nodeSelector. Refuse at once (exit 78) instead of failing on the first write.
 * Sources (searched 2026-12-02): Autopilot's admission (GKE Warden) denies node affinity
 * and selectors on labels outside its allow-list ("denied by
 * autogke-node-affinity-selector-limitation", quoted in github.com/rancher/dashboard
 * issue 10564). The node label cloud.google.com/gke-autopilot is what third-party tools
 * check for Autopilot nodes; no Google document naming it was found, so it stays
 * unconfirmed: Autopilot nodes without it are not detected here. */
static int refuse_autopilot(const struct node_set *s) {
        for (size_t i = 0; i < s->n; i++)
                if (s->nodes[i].autopilot) {
                        log_error("node '%s' has the label cloud.google.com/gke-autopilot: this is a GKE Autopilot "
                                  "cluster, which forbids changing node labels and custom node selectors, both of "
                                  "which clyde-seed needs; it cannot run here (use a GKE Standard node pool)",
                                  s->nodes[i].name);
                        return -EMEDIUMTYPE;
                }
        return 0;
}

/* percentage = auto: the rollout estimate's best share when the tracker holds a measured
 * registry rate (or [plan] registry_rate is set), else the fallback already in
 * *percentage, with one line saying why. Returns 1 when *percentage changed, else 0. */
static int auto_share(struct machine *m, size_t eligible, double *percentage) {
        struct estimate e;

        if (estimate_gather(m->config, m->tracker, m->images, eligible, 0, &e) < 0) {
                log_notice("percentage = auto: using %g%%, no rollout estimate: %s", *percentage, e.missing);
                return 0;
        }
        log_notice("percentage = auto: %g%% (%zu of %zu eligible nodes), the rollout estimate's best share: "
                   "%.0f s end to end, against %.0f s at %g%%",
                   e.best.share, e.best.seeders, eligible, e.best.total_s, e.current.total_s, *percentage);
        if (e.best.share == *percentage)
                return 0;
        *percentage = e.best.share;
        return 1;
}

int phase_select(struct machine *m) {
        const struct config *c = m->config;
        _cleanup_(node_set_done) struct node_set s = {};
        _cleanup_(select_plan_freep) struct select_plan *p = NULL;
        _cleanup_(freep) struct toleration *tols = NULL;
        _cleanup_(freep) const char **tracked = NULL;
        _cleanup_(freep) char *cause = NULL;
        size_t n_tols = 0;
        int r;

        r = machine_tolerations(m, &tols, &n_tols);
        if (r < 0)
                return r;
        r = list_nodes(m, &s);
        if (r < 0) {
                toleration_array_free(TAKE_PTR(tols), n_tols);
                return log_error_errno(r, "cannot list nodes: %s", machine_api_error(m, r));
        }
        r = refuse_autopilot(&s);
        if (r < 0) {
                toleration_array_free(TAKE_PTR(tols), n_tols);
                return r;
        }
        tracked = calloc(m->tracker->n_seeders + 1, sizeof(char *));
        if (!tracked) {
                toleration_array_free(TAKE_PTR(tols), n_tols);
                return -ENOMEM;
        }
        for (size_t i = 0; i < m->tracker->n_seeders; i++)
                tracked[i] = m->tracker->seeders[i].node;
        struct select_input in = {
                .nodes = s.nodes,
                .n_nodes = s.n,
                .label_value = c->label_value,
                .tracked = tracked,
                .n_tracked = m->tracker->n_seeders,
                .percentage = c->percentage,
                .min_seeders = (size_t) c->min_seeders,
                .max_seeders = (size_t) c->max_seeders,
                .node_down_grace = c->node_down_grace,
                .now = now_seconds(),
                .tolerations = tols,
                .n_tolerations = n_tols,
                .n_wanted_images = m->images->n,
        };
        r = select_plan(&in, &p, &cause);
        if (r >= 0 && c->percentage_auto && auto_share(m, p->eligible, &in.percentage) > 0) {
                p = select_plan_free(p);
                r = select_plan(&in, &p, &cause);
        }
        toleration_array_free(TAKE_PTR(tols), n_tols);
        if (r < 0)
                return log_error_errno(r, "cannot select seeders: %s", strempty(cause));
        log_summary(p);
        machine_seeders_free(m);
        return record_plan(m, p, &s);
}
