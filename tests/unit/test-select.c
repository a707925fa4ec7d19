/* SPDX-License-Identifier: MIT */
/* Seeder selection: eligibility, target, keep/adopt/replace/trim, spread, ties. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "macro.h"
#include "node.h"
#include "select.h"
#include "tap.h"

#define NOW 1700000000
#define GRACE 600

/* ---- building clusters ---- */

struct cluster {
        struct node_info *nodes;
        size_t n;
};

static void cluster_done(struct cluster *c) {
        node_info_array_free(c->nodes, c->n);
        c->nodes = NULL;
        c->n = 0;
}

static struct node_info *add_node(struct cluster *c, const char *name, const char *zone, const char *arch) {
        struct node_info *n;

        c->nodes = realloc(c->nodes, (c->n + 1) * sizeof(*c->nodes));
        if (!c->nodes)
                abort();
        n = &c->nodes[c->n++];
        *n = (struct node_info){
                .name = strdup(name),
                .zone = zone ? strdup(zone) : NULL,
                .arch = arch ? strdup(arch) : NULL,
                .os = strdup("linux"),
                .ready = NODE_READY_TRUE,
                .ready_since = NOW - 86400,
                .selected = true,
        };
        return n;
}

static struct node_info *find_node(struct cluster *c, const char *name) {
        for (size_t i = 0; i < c->n; i++)
                if (streq(c->nodes[i].name, name))
                        return &c->nodes[i];
        abort();
}

/* n nodes named <prefix>NN in one zone/arch. */
static void add_nodes(struct cluster *c, const char *prefix, size_t n, const char *zone, const char *arch) {
        char name[64];

        for (size_t i = 0; i < n; i++) {
                snprintf(name, sizeof(name), "%s%02zu", prefix, i);
                add_node(c, name, zone, arch);
        }
}

static void set_seeder(struct node_info *n, bool owned) {
        free(n->seeder_label);
        n->seeder_label = strdup("true");
        n->owned = owned;
}

static void give_images(struct node_info *n, size_t k) {
        n->images = calloc(k + 1, sizeof(char *));
        for (size_t i = 0; i < k; i++)
                n->images[i] = strdup("docker.io/library/nginx:latest");
        n->n_images = k;
}

static void add_taint(struct node_info *n, const char *key, const char *value, const char *effect) {
        n->taints = realloc(n->taints, (n->n_taints + 1) * sizeof(*n->taints));
        n->taints[n->n_taints++] = (struct node_taint){ strdup(key), value ? strdup(value) : NULL, strdup(effect) };
}

static struct select_input input(struct cluster *c, double pct) {
        return (struct select_input){
                .nodes = c->nodes,
                .n_nodes = c->n,
                .label_value = "true",
                .percentage = pct,
                .node_down_grace = GRACE,
                .now = NOW,
                .n_wanted_images = 3,
        };
}

static struct select_plan *plan(const struct select_input *in) {
        struct select_plan *p = NULL;
        _cleanup_(freep) char *why = NULL;
        int r = select_plan(in, &p, &why);

        if (r < 0) {
                printf("# select_plan: %d %s\n", r, strempty(why));
                abort();
        }
        return p;
}

/* Applies the plan as the label phase would: ADD labels + annotates, DROP removes. */
static void apply(struct cluster *c, const struct select_plan *p) {
        for (size_t i = 0; i < p->n_entries; i++) {
                const struct select_entry *e = &p->entries[i];
                if (e->action == SELECT_ADD)
                        set_seeder(&c->nodes[e->index], true);
                else if (e->action == SELECT_DROP) {
                        free(c->nodes[e->index].seeder_label);
                        c->nodes[e->index].seeder_label = NULL;
                        c->nodes[e->index].owned = false;
                }
        }
}

static size_t seeders_in_zone(const struct cluster *c, const char *zone) {
        size_t k = 0;

        for (size_t i = 0; i < c->n; i++)
                k += c->nodes[i].seeder_label && streq_ptr(c->nodes[i].zone, zone);
        return k;
}

static size_t seeders_with_arch(const struct cluster *c, const char *arch) {
        size_t k = 0;

        for (size_t i = 0; i < c->n; i++)
                k += c->nodes[i].seeder_label && streq_ptr(c->nodes[i].arch, arch);
        return k;
}

static enum select_action action_of(const struct select_plan *p, const char *name) {
        const struct select_entry *e = select_plan_find(p, name);

        return e ? e->action : _SELECT_ACTION_MAX;
}

static const char *reason_of(const struct select_plan *p, const char *name) {
        const struct select_entry *e = select_plan_find(p, name);

        return e ? e->reason : NULL;
}

/* ---- tests ---- */

static void test_target(void) {
        static const struct {
                size_t eligible;
                double pct;
                size_t min, max, want;
        } cases[] = {
                { 0, 40, 0, 0, 0 },     { 0, 40, 3, 0, 0 },     { 10, 0.5, 0, 0, 1 },  { 200, 0.5, 0, 0, 1 },
                { 201, 0.5, 0, 0, 2 },  { 50, 40, 0, 0, 20 },   { 7, 100, 0, 0, 7 },   { 7, 40, 0, 0, 3 },
                { 30, 10, 0, 0, 3 },    { 10, 10, 3, 0, 3 },    { 10, 100, 0, 4, 4 },  { 10, 50, 20, 0, 10 },
                { 1, 0.001, 0, 0, 1 },  { 5000, 2.5, 0, 0, 125 }, { 3, 33.333333, 0, 0, 1 }, { 100, 40, 0, 30, 30 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                is_int(select_target(cases[i].eligible, cases[i].pct, cases[i].min, cases[i].max), cases[i].want,
                       "target(%zu, %g%%, min %zu, max %zu)", cases[i].eligible, cases[i].pct, cases[i].min,
                       cases[i].max);
}

static void test_bad_input(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        struct select_plan *p = NULL;
        struct select_input in;
        char *why = NULL;
        static const double bad[] = { 0, -1, 100.5, NAN };

        add_nodes(&c, "n", 3, "a", "amd64");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                in = input(&c, bad[i]);
                is_int(select_plan(&in, &p, &why), -EINVAL, "percentage %g refused", bad[i]);
                ok(why && strstr(why, "percentage"), "cause: %s", strempty(why));
                free(why);
                why = NULL;
        }
        in = input(&c, 40);
        in.min_seeders = 5;
        in.max_seeders = 2;
        is_int(select_plan(&in, &p, &why), -EINVAL, "min > max refused");
        ok(why && strstr(why, "min_seeders"), "cause: %s", strempty(why));
        free(why);
        ok(!p, "no plan on error");
}

static void test_empty_and_ineligible(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        struct select_input in = input(&c, 40);
        struct select_plan *p;
        struct node_info *n;

        p = plan(&in);
        is_int(p->eligible, 0, "empty cluster: eligible");
        is_int(p->target, 0, "empty cluster: target");
        is_int(p->n_entries, 0, "empty cluster: no entries");
        select_plan_free(p);

        n = add_node(&c, "notready", "a", "amd64");
        n->ready = NODE_READY_FALSE;
        add_node(&c, "unknown", "a", "amd64")->ready = NODE_READY_UNKNOWN;
        add_node(&c, "cordoned", "a", "amd64")->unschedulable = true;
        add_node(&c, "deleting", "a", "amd64")->deleting = true;
        n = add_node(&c, "windows", "a", "amd64");
        free(n->os);
        n->os = strdup("windows");
        n = add_node(&c, "noos", "a", "amd64");
        free(n->os);
        n->os = NULL;
        add_node(&c, "unselected", "a", "amd64")->selected = false;
        add_node(&c, "cp", "a", "amd64")->control_plane = true;
        add_node(&c, "vk", "a", "amd64")->virtual_kind = NODE_VIRTUAL_KUBELET;
        add_node(&c, "fargate", "a", "amd64")->virtual_kind = NODE_VIRTUAL_FARGATE;
        add_taint(add_node(&c, "tainted", "a", "amd64"), "dedicated", "gpu", "NoSchedule");
        add_taint(add_node(&c, "noexec", "a", "amd64"), "x", NULL, "NoExecute");
        in = input(&c, 100);
        in.min_seeders = 3;
        p = plan(&in);
        is_int(p->eligible, 0, "all ineligible: eligible");
        is_int(p->target, 0, "all ineligible: target clamped to eligible");
        is_int(p->n_entries, 0, "all ineligible: nothing to do");
        select_plan_free(p);

        /* PreferNoSchedule does not matter; a control-plane node stays out even at 100%. */
        add_taint(add_node(&c, "prefer", "a", "amd64"), "soft", NULL, "PreferNoSchedule");
        in = input(&c, 100);
        p = plan(&in);
        is_int(p->eligible, 1, "PreferNoSchedule node is eligible");
        is_int(action_of(p, "prefer"), SELECT_ADD, "and chosen");
        is_int(action_of(p, "cp"), _SELECT_ACTION_MAX, "control-plane untouched");
        select_plan_free(p);
}

static void test_tolerations(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        struct toleration tol = {};
        struct select_input in;
        struct select_plan *p;

        add_taint(add_node(&c, "gpu1", "a", "amd64"), "dedicated", "gpu", "NoSchedule");
        add_taint(add_node(&c, "gpu2", "a", "amd64"), "dedicated", "gpu", "NoExecute");
        add_taint(add_node(&c, "other", "a", "amd64"), "dedicated", "db", "NoSchedule");
        in = input(&c, 100);
        p = plan(&in);
        is_int(p->eligible, 0, "tainted nodes not eligible without tolerations");
        select_plan_free(p);

        is_int(toleration_parse("dedicated=gpu", &tol, NULL), 0, "toleration parses");
        in.tolerations = &tol;
        in.n_tolerations = 1;
        p = plan(&in);
        is_int(p->eligible, 2, "dedicated=gpu tolerated (both effects)");
        is_int(action_of(p, "gpu1"), SELECT_ADD, "gpu1 added");
        is_int(action_of(p, "gpu2"), SELECT_ADD, "gpu2 added");
        is_int(action_of(p, "other"), _SELECT_ACTION_MAX, "dedicated=db still not tolerated");
        select_plan_free(p);
        toleration_done(&tol);

        /* A seeder of ours that gets an untolerated taint is replaced. */
        set_seeder(find_node(&c, "other"), true);
        add_node(&c, "plain", "a", "amd64");
        in = input(&c, 100);
        p = plan(&in);
        is_int(action_of(p, "other"), SELECT_DROP, "tainted seeder dropped");
        is_str(reason_of(p, "other"), "no longer eligible: taint dedicated=db:NoSchedule not tolerated", "reason");
        is_int(action_of(p, "plain"), SELECT_ADD, "replacement added");
        select_plan_free(p);
}

static void test_stable_growth(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        struct select_input in;
        struct select_plan *p;
        bool was_seeder[10];

        add_nodes(&c, "n", 10, "a", "amd64");
        in = input(&c, 50);
        p = plan(&in);
        is_int(p->target, 5, "10 nodes at 50%%: target 5");
        is_int(select_plan_count(p, SELECT_ADD), 5, "5 added");
        is_int(p->seeders, 5, "5 seeders after the plan");
        apply(&c, p);
        select_plan_free(p);

        /* Same cluster again: nothing changes. */
        in = input(&c, 50);
        p = plan(&in);
        is_int(select_plan_count(p, SELECT_KEEP), 5, "second run keeps 5");
        is_int(select_plan_count(p, SELECT_ADD) + select_plan_count(p, SELECT_DROP), 0, "second run changes nothing");
        select_plan_free(p);

        for (size_t i = 0; i < 10; i++)
                was_seeder[i] = c.nodes[i].seeder_label;
        add_nodes(&c, "m", 10, "a", "amd64");
        in = input(&c, 50);
        p = plan(&in);
        is_int(p->target, 10, "20 nodes: target 10");
        is_int(select_plan_count(p, SELECT_KEEP), 5, "the 5 existing seeders are kept");
        is_int(select_plan_count(p, SELECT_ADD), 5, "5 more added");
        is_int(select_plan_count(p, SELECT_DROP), 0, "none dropped");
        for (size_t i = 0; i < 10; i++)
                if (was_seeder[i])
                        is_int(action_of(p, c.nodes[i].name), SELECT_KEEP, "%s kept", c.nodes[i].name);
        select_plan_free(p);
}

static void test_not_ready(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        struct select_input in;
        struct select_plan *p;
        struct node_info *late, *soon, *nosince;

        add_nodes(&c, "n", 10, "a", "amd64");
        late = &c.nodes[0];
        soon = &c.nodes[1];
        nosince = &c.nodes[2];
        set_seeder(late, true);
        set_seeder(soon, true);
        set_seeder(nosince, true);
        late->ready = NODE_READY_FALSE;
        late->ready_since = NOW - 720;
        soon->ready = NODE_READY_UNKNOWN;
        soon->ready_since = NOW - 180;
        nosince->ready = NODE_READY_FALSE;
        nosince->ready_since = 0;
        in = input(&c, 30);
        p = plan(&in);
        is_int(p->eligible, 7, "NotReady nodes not eligible");
        is_int(p->target, 3, "target 3");
        is_int(action_of(p, "n00"), SELECT_DROP, "NotReady past grace: dropped");
        is_str(reason_of(p, "n00"), "NotReady for 12m > node_down_grace 10m", "reason past grace");
        is_int(action_of(p, "n01"), SELECT_WAIT, "NotReady within grace: wait");
        is_str(reason_of(p, "n01"), "NotReady for 3m <= node_down_grace 10m", "reason within grace");
        is_int(action_of(p, "n02"), SELECT_DROP, "NotReady since unknown: dropped");
        is_int(select_plan_count(p, SELECT_ADD), 2, "two replacements (the waiting one counts)");
        is_int(p->seeders, 3, "3 seeders after the plan");
        select_plan_free(p);

        /* Exactly at the grace: still waiting. */
        late->ready_since = NOW - GRACE;
        in = input(&c, 30);
        p = plan(&in);
        is_int(action_of(p, "n00"), SELECT_WAIT, "NotReady for exactly the grace: wait");
        select_plan_free(p);
}

static void test_cordoned_deleted_gone(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        static const char *const tracked[] = { "n00", "n01", "n02", "vanished", "vanished" };
        struct select_input in;
        struct select_plan *p;

        add_nodes(&c, "n", 10, "a", "amd64");
        set_seeder(&c.nodes[0], true);
        set_seeder(&c.nodes[1], true);
        set_seeder(&c.nodes[2], true);
        c.nodes[0].unschedulable = true;
        c.nodes[1].deleting = true;
        in = input(&c, 30);
        in.tracked = tracked;
        in.n_tracked = ELEMENTSOF(tracked);
        p = plan(&in);
        is_int(action_of(p, "n00"), SELECT_DROP, "cordoned seeder dropped");
        is_str(reason_of(p, "n00"), "cordoned", "reason cordoned");
        is_int(action_of(p, "n01"), SELECT_DROP, "deleting seeder dropped");
        is_str(reason_of(p, "n01"), "being deleted", "reason deleting");
        is_int(action_of(p, "n02"), SELECT_KEEP, "healthy seeder kept");
        is_int(action_of(p, "vanished"), SELECT_GONE, "tracker seeder missing from the cluster: gone");
        is_str(reason_of(p, "vanished"), "deleted from the cluster", "reason gone");
        is_int(select_plan_count(p, SELECT_GONE), 1, "a duplicate tracker name counts once");
        ok(select_plan_find(p, "vanished")->index == SELECT_NO_INDEX, "gone has no node index");
        is_int(select_plan_count(p, SELECT_ADD), 2, "two replacements");
        is_int(p->seeders, 3, "back to 3");
        select_plan_free(p);
}

static void test_foreign(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        struct select_input in;
        struct select_plan *p;
        struct node_info *n;

        add_nodes(&c, "n", 10, "a", "amd64");
        for (size_t i = 0; i < 4; i++)
                set_seeder(&c.nodes[i], false);
        c.nodes[3].unschedulable = true;
        n = &c.nodes[4];
        n->seeder_label = strdup("someone-else");
        in = input(&c, 10);
        p = plan(&in);
        is_int(p->target, 1, "target 1");
        is_int(select_plan_count(p, SELECT_ADOPT), 3, "three hand-labelled seeders adopted");
        is_int(select_plan_count(p, SELECT_DROP), 0, "foreign labels never dropped, even above target");
        is_int(action_of(p, "n03"), SELECT_UNHEALTHY_FOREIGN, "cordoned foreign seeder: not touched");
        is_str(reason_of(p, "n03"), "cordoned", "reason");
        is_int(p->seeders, 3, "3 seeders counted");
        select_plan_free(p);

        /* The foreign value of our key is respected: that node is never chosen. */
        in = input(&c, 100);
        p = plan(&in);
        is_int(action_of(p, "n04"), _SELECT_ACTION_MAX, "node with another value of our key not added");
        is_int(select_plan_count(p, SELECT_ADD), 5, "the other free eligible nodes are added");
        select_plan_free(p);

        /* The same value written by us (owned) may be rewritten. */
        n->owned = true;
        p = plan(&in);
        is_int(action_of(p, "n04"), SELECT_ADD, "owned node with an old value is relabelled");
        select_plan_free(p);
}

static void test_zone_spread_and_trim(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        struct select_input in;
        struct select_plan *p;

        add_nodes(&c, "a-", 17, "zone-a", "amd64");
        add_nodes(&c, "b-", 17, "zone-b", "amd64");
        add_nodes(&c, "c-", 16, "zone-c", "amd64");
        in = input(&c, 40);
        p = plan(&in);
        is_int(p->eligible, 50, "50 eligible");
        is_int(p->target, 20, "40%% of 50 = 20");
        is_int(select_plan_count(p, SELECT_ADD), 20, "20 added");
        apply(&c, p);
        select_plan_free(p);
        is_int(seeders_in_zone(&c, "zone-a"), 7, "zone-a gets 7");
        is_int(seeders_in_zone(&c, "zone-b"), 7, "zone-b gets 7");
        is_int(seeders_in_zone(&c, "zone-c"), 6, "zone-c gets 6");

        /* Shrink to 20%: drop exactly 10 of ours, keeping the spread. */
        in = input(&c, 20);
        p = plan(&in);
        is_int(p->target, 10, "20%% of 50 = 10");
        is_int(select_plan_count(p, SELECT_DROP), 10, "exactly 10 unlabelled");
        is_int(select_plan_count(p, SELECT_KEEP), 10, "10 kept");
        is_int(select_plan_count(p, SELECT_ADD), 0, "none added");
        for (size_t i = 0; i < p->n_entries; i++)
                if (p->entries[i].action == SELECT_DROP) {
                        is_str(p->entries[i].reason, "target shrank 20 -> 10", "drop reason");
                        break;
                }
        apply(&c, p);
        select_plan_free(p);
        is_int(seeders_in_zone(&c, "zone-a"), 4, "zone-a keeps 4");
        is_int(seeders_in_zone(&c, "zone-b"), 3, "zone-b keeps 3");
        is_int(seeders_in_zone(&c, "zone-c"), 3, "zone-c keeps 3");
}

static void test_trim_order(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        struct select_input in;
        struct select_plan *p;

        add_nodes(&c, "n", 10, "a", "amd64");
        for (size_t i = 0; i < 6; i++) {
                set_seeder(&c.nodes[i], true);
                give_images(&c.nodes[i], i < 3 ? 2 : 0);
        }
        set_seeder(&c.nodes[6], false);
        c.nodes[1].ready = NODE_READY_FALSE;
        c.nodes[1].ready_since = NOW - 60;
        in = input(&c, 30);
        p = plan(&in);
        is_int(p->target, 3, "target 3");
        is_int(action_of(p, "n01"), SELECT_DROP, "the waiting seeder is dropped first");
        is_int(action_of(p, "n06"), SELECT_ADOPT, "the foreign one is never dropped");
        is_int(action_of(p, "n03"), SELECT_DROP, "imageless seeder dropped");
        is_int(action_of(p, "n04"), SELECT_DROP, "imageless seeder dropped");
        is_int(action_of(p, "n05"), SELECT_DROP, "imageless seeder dropped");
        is_int(action_of(p, "n00"), SELECT_KEEP, "image holder kept");
        is_int(action_of(p, "n02"), SELECT_KEEP, "image holder kept");
        is_int(p->seeders, 3, "3 seeders left");
        select_plan_free(p);
}

static void test_arch_and_missing_zone(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        struct select_input in;
        struct select_plan *p;

        add_nodes(&c, "x", 30, "a", "amd64");
        add_nodes(&c, "y", 10, "a", "arm64");
        in = input(&c, 50);
        p = plan(&in);
        apply(&c, p);
        select_plan_free(p);
        is_int(seeders_with_arch(&c, "amd64"), 15, "amd64 gets 15 of 20");
        is_int(seeders_with_arch(&c, "arm64"), 5, "arm64 gets 5 of 20");
        cluster_done(&c);

        add_nodes(&c, "z", 10, "a", "amd64");
        add_nodes(&c, "w", 10, NULL, "amd64");
        in = input(&c, 50);
        p = plan(&in);
        apply(&c, p);
        select_plan_free(p);
        is_int(seeders_in_zone(&c, "a"), 5, "zone a gets 5");
        is_int(seeders_in_zone(&c, NULL), 5, "nodes without a zone form their own bucket: 5");
}

static void test_image_preference(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        struct select_input in;
        struct select_plan *p;

        add_nodes(&c, "n", 10, "a", "amd64");
        give_images(&c.nodes[7], 2);
        give_images(&c.nodes[3], 2);
        give_images(&c.nodes[5], 2);
        give_images(&c.nodes[1], 1);
        give_images(&c.nodes[8], 1);
        in = input(&c, 30);
        p = plan(&in);
        is_int(action_of(p, "n07"), SELECT_ADD, "holder of 2 chosen");
        is_int(action_of(p, "n03"), SELECT_ADD, "holder of 2 chosen");
        is_int(action_of(p, "n05"), SELECT_ADD, "holder of 2 chosen");
        is_str(reason_of(p, "n07"), "zone 'a', arch 'amd64', holds 2 of 3 wanted images", "add reason");
        select_plan_free(p);
        in = input(&c, 40);
        p = plan(&in);
        ok(action_of(p, "n01") == SELECT_ADD || action_of(p, "n08") == SELECT_ADD, "then a holder of 1");
        is_int(select_plan_count(p, SELECT_ADD), 4, "4 added");
        select_plan_free(p);

        /* Zone quota beats image preference: images only break ties. */
        cluster_done(&c);
        add_nodes(&c, "a", 5, "a", "amd64");
        add_nodes(&c, "b", 5, "b", "amd64");
        for (size_t i = 0; i < 5; i++)
                give_images(&c.nodes[i], 3);
        in = input(&c, 40);
        p = plan(&in);
        apply(&c, p);
        select_plan_free(p);
        is_int(seeders_in_zone(&c, "a"), 2, "zone a: 2 despite images");
        is_int(seeders_in_zone(&c, "b"), 2, "zone b: 2");
}

/* Deterministic shuffle (LCG), so the test itself is reproducible. */
static void shuffle(struct node_info *a, size_t n, unsigned seed) {
        for (size_t i = n; i > 1; i--) {
                size_t j;
                struct node_info t;
                seed = seed * 1103515245u + 12345u;
                j = (seed >> 8) % i;
                t = a[i - 1];
                a[i - 1] = a[j];
                a[j] = t;
        }
}

static char *plan_signature(const struct select_plan *p) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        for (size_t i = 0; i < p->n_entries; i++)
                fprintf(f, "%s:%s:%s;", p->entries[i].node, select_action_to_string(p->entries[i].action),
                        p->entries[i].reason);
        fclose(f);
        return buf;
}

static void test_determinism(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        _cleanup_(freep) char *first = NULL;
        struct select_input in;
        struct select_plan *p;

        add_nodes(&c, "a", 13, "a", "amd64");
        add_nodes(&c, "b", 11, "b", "arm64");
        add_nodes(&c, "c", 9, NULL, "amd64");
        for (size_t i = 0; i < c.n; i += 4)
                give_images(&c.nodes[i], i % 3);
        set_seeder(&c.nodes[2], true);
        set_seeder(&c.nodes[15], false);
        c.nodes[20].unschedulable = true;
        set_seeder(&c.nodes[20], true);
        in = input(&c, 35);
        p = plan(&in);
        first = plan_signature(p);
        select_plan_free(p);
        for (unsigned seed = 1; seed <= 5; seed++) {
                _cleanup_(freep) char *again = NULL;
                shuffle(c.nodes, c.n, seed);
                in = input(&c, 35);
                p = plan(&in);
                again = plan_signature(p);
                is_str(again, first, "same plan after shuffle %u", seed);
                select_plan_free(p);
        }
}

static void test_iteration_and_names(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        const struct select_entry *e;
        struct select_input in;
        struct select_plan *p;
        size_t k = 0;

        add_nodes(&c, "n", 8, "a", "amd64");
        set_seeder(&c.nodes[0], true);
        in = input(&c, 50);
        p = plan(&in);
        SELECT_PLAN_FOREACH(e, p, SELECT_ADD) {
                ok(e->index < c.n && streq(c.nodes[e->index].name, e->node), "entry index points at its node");
                k++;
        }
        is_int(k, select_plan_count(p, SELECT_ADD), "iteration visits every ADD");
        is_int(k, 3, "3 added next to the kept one");
        ok(!select_plan_find(p, "nope"), "find: unknown name");
        select_plan_free(p);
        for (int a = 0; a < _SELECT_ACTION_MAX; a++)
                is_int(select_action_from_string(select_action_to_string(a)), a, "action %d round-trips", a);
        is_int(select_action_from_string("bogus"), -EINVAL, "unknown action");
        ok(select_hash("") == UINT64_C(0xcbf29ce484222325), "FNV-1a offset basis");
        ok(select_hash("a") == UINT64_C(0xaf63dc4c8601ec8c), "FNV-1a of 'a'");
}

static void test_large(void) {
        _cleanup_(cluster_done) struct cluster c = {};
        struct select_input in;
        struct select_plan *p;
        char zone[16];

        for (size_t z = 0; z < 5; z++) {
                snprintf(zone, sizeof(zone), "zone-%zu", z);
                for (size_t i = 0; i < 1000; i++) {
                        char name[32];
                        snprintf(name, sizeof(name), "node-%zu-%04zu", z, i);
                        add_node(&c, name, zone, i % 4 ? "amd64" : "arm64");
                }
        }
        in = input(&c, 10);
        p = plan(&in);
        is_int(p->eligible, 5000, "5,000 nodes eligible");
        is_int(select_plan_count(p, SELECT_ADD), 500, "500 added");
        apply(&c, p);
        select_plan_free(p);
        is_int(seeders_in_zone(&c, "zone-3"), 100, "100 per zone");
        is_int(seeders_with_arch(&c, "arm64"), 125, "a quarter arm64");
}

int main(void) {
        test_target();
        test_bad_input();
        test_empty_and_ineligible();
        test_tolerations();
        test_stable_growth();
        test_not_ready();
        test_cordoned_deleted_gone();
        test_foreign();
        test_zone_spread_and_trim();
        test_trim_order();
        test_arch_and_missing_zone();
        test_image_preference();
        test_determinism();
        test_iteration_and_names();
        test_large();
        return tap_done();
}
