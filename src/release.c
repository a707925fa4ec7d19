/* SPDX-License-Identifier: MIT */
/* release: undo clyde-seed on a cluster (decommissioning). Removes only labels that carry
 * our annotation, deletes every DaemonSet we manage, and forgets the seeders. */
#include "status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "machine.h"
#include "macro.h"

struct names {
        char **v;
        size_t n;
};

static int on_node(struct node_info *n, void *userdata) {
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

static int unlabel_all(struct machine *m) {
        struct kube_node_filter f = { .seeder_label_key = m->config->label_key,
                                      .owner_annotation_key = CLYDE_OWNER_ANNOTATION };
        struct kube_list_options lo = { .label_selector = m->config->label, .limit = (unsigned) m->config->page_size };
        struct names l = {};
        int r;

        r = kube_list_nodes(m->kube, &lo, &f, on_node, NULL, &l, NULL);
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

int status_release(struct config *c) {
        _cleanup_(session_done) struct session s = { .config = c };
        int r;

        r = session_connect(&s);
        if (r == 0)
                r = session_tracker(&s, true);
        if (r != 0)
                return r;
        struct machine m = { .config = c, .kube = s.kube, .tracker = s.tracker, .tracker_path = c->tracker_file };
        r = unlabel_all(&m);
        if (r >= 0)
                r = cleanup_daemonsets(&m);
        if (r < 0)
                return machine_exit_code(r);
        while (s.tracker->n_seeders > 0)
                (void) tracker_seeder_remove(s.tracker, s.tracker->seeders[0].node);
        tracker_run_end(s.tracker);
        r = machine_persist(&m);
        if (r < 0)
                return EXIT_PARTIAL;
        log_notice("released: no clyde-seed labels or DaemonSets remain");
        return EXIT_DONE;
}
