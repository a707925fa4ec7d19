/* SPDX-License-Identifier: MIT */
/* label: apply the plan. New seeders get the label and our ownership annotation in
 * bounded concurrent batches; dropped ones lose them through a read-check-patch that
 * touches only labels carrying our annotation. Progress is persisted per batch; every
 * patch is idempotent, so a resumed run may safely send one again. */
#include "phase.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "macro.h"
#include "util.h"

/* Nodes patched between two persisted steps. */
#define LABEL_BATCH 64

static void node_lost(struct machine *m, struct tracker_plan_entry *e, const char *why) {
        struct log_fields f = { .node = e->node, .result = "node-lost" };

        log_fields(LOG_WARNING, &f, "node '%s': %s; it will be replaced on the next run", e->node, why);
        (void) tracker_seeder_remove(m->tracker, e->node);
        e->done = true;
        m->nodes_lost++;
}

static int add_batch(struct machine *m, struct tracker_plan_entry **batch, size_t n) {
        const struct config *c = m->config;
        struct kube_kv label = { c->label_key, c->label_value };
        struct kube_kv owner = { CLYDE_OWNER_ANNOTATION, m->tracker->run->id };
        struct kube_meta_patch p = { &label, 1, &owner, 1 };
        const char *names[LABEL_BATCH];
        int results[LABEL_BATCH];
        int64_t now = now_seconds();

        for (size_t i = 0; i < n; i++)
                names[i] = batch[i]->node;
        (void) kube_patch_nodes(m->kube, names, &p, n, results);
        for (size_t i = 0; i < n; i++) {
                struct log_fields f = { .node = names[i], .result = "labelled" };
                struct tracker_seeder *s;

                /* Denied, or the API is away after its retries (exit 69; the run resumes). */
                if (results[i] == -EACCES || machine_exit_code(results[i]) == EXIT_UNAVAILABLE)
                        return log_error_errno(results[i], "node '%s': cannot label: %s", names[i],
                                               machine_api_error(m, results[i]));
                if (results[i] == -ENOENT) {
                        node_lost(m, batch[i], "deleted before it could be labelled");
                        continue;
                }
                if (results[i] < 0) {
                        /* Not labelled: it is no seeder. The next run picks again. */
                        f.result = "failed";
                        log_fields(LOG_ERR, &f, "node '%s': cannot label: %s", names[i], strerror(-results[i]));
                        (void) tracker_seeder_remove(m->tracker, names[i]);
                        batch[i]->done = true;
                        continue;
                }
                log_fields(LOG_INFO, &f, "node '%s': labelled %s", names[i], c->label);
                s = tracker_seeder_find(m->tracker, names[i]);
                if (s && s->labelled_at == 0)
                        s->labelled_at = now;
                batch[i]->done = true;
        }
        return 0;
}

/* modify() for a drop: only a label with our annotation is removed. */
static int drop_modify(const struct node_info *n, struct kube_meta_patch *ret, void *userdata) {
        struct kube_kv *kv = userdata;

        if (!n->seeder_label || !n->owned)
                return 1;
        *ret = (struct kube_meta_patch) { &kv[0], 1, &kv[1], 1 };
        return 0;
}

int label_remove(struct machine *m, const char *node) {
        const struct config *c = m->config;
        struct kube_kv kv[2] = { { c->label_key, NULL }, { CLYDE_OWNER_ANNOTATION, NULL } };
        struct kube_node_filter f = { .seeder_label_key = c->label_key,
                                      .owner_annotation_key = CLYDE_OWNER_ANNOTATION };

        return kube_update_node(m->kube, node, &f, drop_modify, kv, 0);
}

struct names {
        char **v;
        size_t n;
};

static int on_owned_node(struct node_info *n, void *userdata) {
        struct names *l = userdata;
        char **nv;

        if (!n->owned)
                return 0; /* labelled by someone else: never ours to remove */
        nv = realloc(l->v, (l->n + 1) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        l->v = nv;
        l->v[l->n++] = TAKE_PTR(n->name);
        return 0;
}

int label_remove_all(struct machine *m) {
        struct kube_node_filter f = { .seeder_label_key = m->config->label_key,
                                      .owner_annotation_key = CLYDE_OWNER_ANNOTATION };
        struct kube_list_options lo = { .label_selector = m->config->label, .limit = (unsigned) m->config->page_size };
        struct names l = {};
        int r;

        r = kube_list_nodes(m->kube, &lo, &f, on_owned_node, NULL, &l, NULL);
        if (r < 0)
                log_error_errno(r, "cannot list seeder nodes: %s", machine_api_error(m, r));
        for (size_t i = 0; r >= 0 && i < l.n; i++) {
                r = label_remove(m, l.v[i]);
                if (r == -ENOENT)
                        r = 0;
                if (r < 0)
                        log_error_errno(r, "node '%s': cannot remove the label: %s", l.v[i], machine_api_error(m, r));
                else if (r == 0)
                        log_info("node '%s': removed %s", l.v[i], m->config->label);
        }
        for (size_t i = 0; i < l.n; i++)
                free(l.v[i]);
        free(l.v);
        return r < 0 ? r : 0;
}

static int drop_one(struct machine *m, struct tracker_plan_entry *e) {
        const struct config *c = m->config;
        struct log_fields lf = { .node = e->node, .result = "unlabelled",
                                 .message_id = CLYDE_MSGID_SEEDER_REMOVED };
        int r;

        r = label_remove(m, e->node);
        if (r == -EACCES)
                return log_error_errno(r, "node '%s': cannot unlabel: %s", e->node, machine_api_error(m, r));
        if (r < 0 && r != -ENOENT) {
                lf.result = "failed";
                log_fields(LOG_ERR, &lf, "node '%s': cannot unlabel: %s", e->node, machine_api_error(m, r));
                return 0; /* stays undone: the next run tries again */
        }
        if (r == 0)
                log_fields(LOG_INFO, &lf, "node '%s': removed %s (%s)", e->node, c->label, strempty(e->reason));
        else
                log_debug("node '%s': nothing to remove", e->node);
        (void) tracker_seeder_remove(m->tracker, e->node);
        e->done = true;
        return 0;
}

int phase_label(struct machine *m) {
        struct tracker_run *run = m->tracker->run;
        struct tracker_plan_entry *batch[LABEL_BATCH];
        size_t n = 0, changed = 0;
        int r;

        for (size_t i = 0; i < run->n_plan; i++) {
                struct tracker_plan_entry *e = &run->plan[i];
                if (e->done)
                        continue;
                if (e->action == TRACKER_ACTION_ADD || e->action == TRACKER_ACTION_DROP) {
                        r = machine_check_access(m);
                        if (r < 0)
                                return r;
                }
                if (e->action == TRACKER_ACTION_ADD) {
                        batch[n++] = e;
                        changed++;
                        if (n == LABEL_BATCH) {
                                r = add_batch(m, batch, n);
                                if (r < 0)
                                        return r;
                                n = 0;
                                machine_status("run %s: label: %zu nodes changed", run->id, changed);
                                r = machine_persist(m);
                                if (r < 0)
                                        return r;
                        }
                } else if (e->action == TRACKER_ACTION_DROP) {
                        r = drop_one(m, e);
                        if (r < 0)
                                return r;
                        changed++;
                        r = machine_persist(m);
                        if (r < 0)
                                return r;
                } else
                        e->done = true;
        }
        if (n > 0) {
                r = add_batch(m, batch, n);
                if (r < 0)
                        return r;
        }
        log_info("%zu node labels changed", changed);
        return 0;
}
