/* SPDX-License-Identifier: MIT */
/* The driver: phase transitions, persistence, the test-only crash hook, exit codes. */
#include "machine.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "access.h"
#include "exitcode.h"
#include "log.h"
#include "macro.h"
#include "util.h"

static unsigned persisted_steps;

void machine_status(const char *fmt, ...) {
        _cleanup_(freep) char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (!s)
                return;
        /* Without $NOTIFY_SOCKET this does nothing. */
        (void) sd_notifyf(0, "STATUS=%s", s);
        log_progress(s);
}

/* Test-only: $CLYDE_TEST_CRASH_AT_STEP=N kills the process after its N-th persisted step,
 * so the tests can stop a run at every point where state reaches the disk. */
static void crash_hook(void) {
        const char *e = getenv("CLYDE_TEST_CRASH_AT_STEP");
        char *end;
        unsigned long n;

        if (isempty(e))
                return;
        n = strtoul(e, &end, 10);
        if (*end || n == 0 || n != persisted_steps)
                return;
        log_warning("CLYDE_TEST_CRASH_AT_STEP=%lu: killing myself after persisted step %u", n,
                    persisted_steps);
        (void) raise(SIGKILL);
}

int machine_persist(struct machine *m) {
        _cleanup_(freep) char *cause = NULL;
        int r;

        if (m->dry_run)
                return 0;
        if (m->tracker->run)
                m->tracker->run->step++;
        r = tracker_save(m->tracker_path, m->tracker, &cause);
        if (r < 0)
                return log_error_errno(r, "cannot save tracker: %s", strempty(cause));
        persisted_steps++;
        crash_hook();
        return 0;
}

int machine_enter(struct machine *m, enum tracker_phase p) {
        struct tracker_run *run = m->tracker->run;
        const char *from = tracker_phase_to_string(run->phase);
        const char *to = tracker_phase_to_string(p);
        int r;

        r = tracker_run_set_phase(run, p, now_seconds());
        if (r < 0)
                return r;
        log_set_phase(to);
        log_info("phase %s -> %s", from, to);
        machine_status("run %s: %s", run->id, to);
        return machine_persist(m);
}

int machine_check_access(struct machine *m) {
        int r;

        if (m->access_checked || m->dry_run)
                return 0;
        r = access_check(m->kube, m->config->namespace);
        if (r >= 0)
                m->access_checked = true;
        return r;
}

int machine_exit_code(int r) {
        switch (r) {
        case -EACCES:
        case -EPERM:
                return EXIT_NOPERM;
        case -EMEDIUMTYPE: /* a cluster clyde-seed cannot work in (GKE Autopilot) */
                return EXIT_CONFIG;
        case -EHOSTUNREACH:
        case -ECONNREFUSED:
        case -EAGAIN:
        case -ETIMEDOUT:
        case -EPROTO:
        case -ECONNRESET:
        case -ENETUNREACH:
        case -EIO:
                return EXIT_UNAVAILABLE;
        default:
                return EXIT_PARTIAL;
        }
}

const char *machine_api_error(struct machine *m, int r) {
        const struct kube_error *e = m->kube ? kube_last_error(m->kube) : NULL;

        return e && !isempty(e->message) ? e->message : strerror(r < 0 ? -r : r);
}

bool machine_want_image(const char *name, void *userdata) {
        const struct image_list *l = userdata;

        for (size_t i = 0; i < l->n; i++)
                if (image_name_matches(name, &l->entries[i].ref))
                        return true;
        return false;
}

/* Replaces the node's matching status.images names (several names may designate one
 * image) by the distinct wanted references it holds. */
int machine_held_images(struct node_info *n, const struct image_list *l) {
        char **held = NULL;
        size_t k = 0;

        if (n->n_images == 0)
                return 0;
        held = calloc(MIN(l->n, n->n_images) + 1, sizeof(char *));
        if (!held)
                return -ENOMEM;
        for (size_t i = 0; i < l->n && k < n->n_images; i++)
                for (size_t j = 0; j < n->n_images; j++)
                        if (image_name_matches(n->images[j], &l->entries[i].ref)) {
                                held[k] = strdup(l->entries[i].ref.normalized);
                                if (!held[k]) {
                                        strv_free(held);
                                        return -ENOMEM;
                                }
                                k++;
                                break;
                        }
        for (size_t j = 0; j < n->n_images; j++)
                free(n->images[j]);
        free(n->images);
        n->images = held;
        n->n_images = k;
        return 0;
}

int machine_seeder_take(struct machine *m, struct node_info *n) {
        struct machine_seeder *ns = realloc(m->seeders, (m->n_seeders + 1) * sizeof(*ns));

        if (!ns)
                return -ENOMEM;
        m->seeders = ns;
        m->seeders[m->n_seeders++] = (struct machine_seeder) {
                .node = TAKE_PTR(n->name),
                .images = TAKE_PTR(n->images),
                .n_images = n->n_images,
        };
        n->n_images = 0;
        return 0;
}

void machine_seeders_free(struct machine *m) {
        for (size_t i = 0; i < m->n_seeders; i++) {
                free(m->seeders[i].node);
                strv_free(m->seeders[i].images);
        }
        free(m->seeders);
        m->seeders = NULL;
        m->n_seeders = 0;
        m->seeders_known = false;
}

/* After a failure in preload or verify, remove what this run created so a cluster is
 * never left with puller DaemonSets; the run ends as failed. */
static int abort_run(struct machine *m, int error) {
        int exit_code = machine_exit_code(error), ignored;

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
                        return EXIT_PARTIAL;
                }
                if (r < 0) {
                        log_error_errno(r, "phase %s failed: %m", tracker_phase_to_string(p));
                        if (p == TRACKER_PHASE_PRELOAD || p == TRACKER_PHASE_VERIFY)
                                return abort_run(m, r);
                        return machine_exit_code(r);
                }
                if (m->dry_run)
                        return EXIT_DONE;
                r = machine_enter(m, next);
                if (r < 0)
                        return EXIT_PARTIAL;
        }
        return exit_code;
}
