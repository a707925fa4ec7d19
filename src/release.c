/* SPDX-License-Identifier: MIT */
/* release: undo clyde-seed on a cluster (decommissioning). Removes only labels that carry
 * our annotation, deletes every DaemonSet we manage, and forgets the seeders. */
#include "release.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "macro.h"
#include "phase.h"
#include "session.h"

int status_release(struct config *c) {
        _cleanup_(session_done) struct session s = { .config = c };
        int r;

        r = session_connect(&s);
        if (r == 0)
                r = session_tracker(&s, true);
        if (r != 0)
                return r;
        struct machine m;
        machine_init(&m, &s, false);
        r = label_remove_all(&m);
        if (r >= 0)
                r = cleanup_daemonsets(&m);
        if (r < 0)
                return machine_exit(&m, r);
        while (s.tracker->n_seeders > 0)
                (void) tracker_seeder_remove(s.tracker, s.tracker->seeders[0].node);
        tracker_run_end(s.tracker);
        r = machine_persist(&m);
        if (r < 0)
                return machine_exit(&m, r);
        log_notice("released: no clyde-seed labels or DaemonSets remain");
        return EXIT_DONE;
}
