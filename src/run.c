/* SPDX-License-Identifier: MIT */
/* The run context: persistence (and the test-only crash hook), phase entry, the
 * permission check, error mapping, and the seeder data the phases share. */
#include "run.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "access.h"
#include "exitcode.h"
#include "log.h"
#include "macro.h"
#include "util.h"

void machine_init(struct machine *m, const struct session *s, bool dry_run) {
        *m = (struct machine) {
                .config = s->config,
                .kube = s->kube,
                .tracker = s->tracker,
                .tracker_path = s->config->tracker_file,
                .images = s->images,
                .dry_run = dry_run,
                .last_target = -1,
        };
}

static unsigned persisted_steps;

void machine_status(const char *fmt, ...) {
        char s[512]; /* a status line: longer ones are cut */
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(s, sizeof(s), fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        /* Without $NOTIFY_SOCKET this does nothing. */
        (void) sd_notifyf(0, "STATUS=%s", s);
        log_progress(s);
}

/* Test builds only (configure --enable-test-hooks; CLYDE_TEST_HOOKS_OFF lets a unit test
 * compile this file as production does): $CLYDE_TEST_CRASH_AT_STEP=N kills the process
 * after its N-th persisted step, so the tests can stop a run at every point where state
 * reaches the disk. A production binary has no such code and ignores the variable. */
#if ENABLE_TEST_HOOKS && !defined(CLYDE_TEST_HOOKS_OFF)
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
#else
static void crash_hook(void) {
}
#endif

int machine_persist(struct machine *m) {
        _cleanup_(freep) char *cause = NULL;
        int r;

        if (m->dry_run)
                return 0;
        if (m->tracker->run)
                m->tracker->run->step++;
        r = tracker_save(m->tracker_path, m->tracker, &cause);
        if (r < 0) {
                m->io_error = r;
                return log_error_errno(r, "cannot save tracker: %s", strempty(cause));
        }
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
        /* the pull secrets are read only to resolve tags */
        r = access_check(m->kube, m->config->namespace,
                         m->config->registry_resolve ? m->config->image_pull_secrets : NULL);
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
        case -EIO:      /* from the HTTP layer: the connection, not a local file */
        case -EBADMSG:  /* the server's answer could not be read */
                return EXIT_UNAVAILABLE;
        default:
                /* -ENOMEM, -EINVAL (the API's 400/422: a request we built wrong), -E2BIG
                 * (413) and anything unforeseen: a fault of clyde-seed, never exit 1,
                 * which only means that some node x image failed. */
                return EXIT_SOFTWARE;
        }
}

int machine_exit(const struct machine *m, int r) {
        return m->io_error < 0 ? EXIT_IOERR : machine_exit_code(r);
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
                .listing_complete = node_listing_complete(n->n_listed_images, n->max_listed_names),
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

int machine_tolerations(const struct machine *m, struct toleration **ret, size_t *ret_n) {
        _cleanup_(freep) char *cause = NULL;
        size_t n = strv_length(m->config->tolerations);
        int r;

        r = toleration_parse_many((const char *const *) m->config->tolerations, n, ret, &cause);
        if (r < 0)
                return log_error_errno(r, "tolerations: %s", strempty(cause));
        *ret_n = n;
        return 0;
}
