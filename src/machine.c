/* SPDX-License-Identifier: MIT */
/* The driver: runs the phases in order, and cleans up after a failed preload or verify. */
#include "machine.h"

#include "exitcode.h"
#include "log.h"
#include "phase.h"

/* After a failure in preload or verify, remove what this run created so a cluster is
 * never left with puller DaemonSets; the run ends as failed. */
static int abort_run(struct machine *m, int error) {
        int exit_code = machine_exit(m, error), ignored;

        if (error == -EACCES || error == -EPERM)
                log_error("the API server denied a request; clyde-seed needs the permissions in "
                          "rbac.yaml (see clyde-seed(8))");
        if (m->tracker->run->n_daemonsets == 0)
                return exit_code;
        /* The API is away: cleanup would fail too, and the next run can resume this one
         * (its DaemonSets are recorded) instead of starting over. */
        if (exit_code == EXIT_UNAVAILABLE) {
                log_warning("run %s stays in phase %s; the next run resumes it", m->tracker->run->id,
                            tracker_phase_to_string(m->tracker->run->phase));
                return exit_code;
        }
        log_warning("cleaning up this run's DaemonSets after the failure");
        if (machine_enter(m, TRACKER_PHASE_CLEANUP) < 0)
                return exit_code;
        (void) phase_cleanup(m, &ignored);
        return exit_code;
}

int machine_run(struct machine *m) {
        struct tracker_run *run = m->tracker->run;
        int exit_code = EXIT_DONE, r = 0;

        log_set_run(run->id);
        while (run->phase != TRACKER_PHASE_DONE) {
                enum tracker_phase p = run->phase, next = p + 1;

                log_set_phase(tracker_phase_to_string(p));
                switch (p) {
                case TRACKER_PHASE_SELECT:
                        r = phase_select(m);
                        break;
                case TRACKER_PHASE_LABEL:
                        r = phase_label(m);
                        break;
                case TRACKER_PHASE_PRELOAD:
                        r = phase_preload(m);
                        break;
                case TRACKER_PHASE_VERIFY:
                        r = phase_verify(m);
                        break;
                case TRACKER_PHASE_CLEANUP:
                        r = phase_cleanup(m, &exit_code);
                        if (r >= 0)
                                return exit_code; /* cleanup ends the run itself */
                        break;
                default:
                        log_error("tracker run %s is in an unknown phase", run->id);
                        return EXIT_SOFTWARE;
                }
                if (r < 0) {
                        log_error_errno(r, "phase %s failed: %m", tracker_phase_to_string(p));
                        if (p == TRACKER_PHASE_PRELOAD || p == TRACKER_PHASE_VERIFY)
                                return abort_run(m, r);
                        return machine_exit(m, r);
                }
                if (m->dry_run)
                        return EXIT_DONE;
                r = machine_enter(m, next);
                if (r < 0)
                        return machine_exit(m, r);
        }
        return exit_code;
}
