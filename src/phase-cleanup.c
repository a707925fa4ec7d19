/* SPDX-License-Identifier: MIT */
/* cleanup: delete this run's DaemonSets and any orphan left by an earlier run, report per
 * image and per failure, record the run in the history and end it. */
#include "phase.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "macro.h"
#include "pull-measure.h"
#include "util.h"

static int delete_ds(struct machine *m, const char *name) {
        int r = kube_delete_daemonset(m->kube, m->config->namespace, name, "Background");

        if (r == -ENOENT)
                log_debug("DaemonSet '%s' already gone", name);
        else if (r < 0)
                return log_error_errno(r, "cannot delete DaemonSet '%s': %s", name, machine_api_error(m, r));
        else
                log_info("deleted DaemonSet '%s'", name);
        return 0;
}

static int delete_run_daemonsets(struct machine *m) {
        struct tracker_run *run = m->tracker->run;
        int r;

        while (run->n_daemonsets > 0) {
                _cleanup_(freep) char *name = strdup(run->daemonsets[run->n_daemonsets - 1]);
                if (!name)
                        return -ENOMEM;
                r = delete_ds(m, name);
                if (r < 0)
                        return r;
                (void) tracker_run_remove_daemonset(run, name);
                r = machine_persist(m);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cleanup_daemonsets(struct machine *m) {
        struct kube_daemonset *ds = NULL;
        size_t n = 0;
        int r;

        r = kube_list_daemonsets(m->kube, m->config->namespace, CLYDE_MANAGED_BY_KEY "=" CLYDE_MANAGED_BY_VALUE,
                                 CLYDE_RUN_LABEL, &ds, &n, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot list DaemonSets: %s", machine_api_error(m, r));
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (ds[i].deleting)
                        continue;
                log_warning("DaemonSet '%s' left by run %s: deleting it", ds[i].name, strempty(ds[i].run_label));
                r = delete_ds(m, ds[i].name);
        }
        kube_daemonset_array_free(ds, n);
        return r < 0 ? r : 0;
}

static bool same_failure(const struct tracker_result *a, const struct tracker_result *b) {
        return a->image == b->image && streq_ptr(a->reason, b->reason) && streq_ptr(a->message, b->message);
}

/* One line per image and reason, naming every node it failed on. */
static void report_failures(const struct tracker_run *run) {
        for (size_t j = 0; j < run->n_results; j++) {
                const struct tracker_result *res = &run->results[j];
                _cleanup_(freep) char *nodes = NULL;
                size_t count = 0, len = 0;
                bool first = true;

                if (res->state != TRACKER_STATE_FAILED)
                        continue;
                for (size_t k = 0; k < j && first; k++)
                        if (run->results[k].state == TRACKER_STATE_FAILED && same_failure(&run->results[k], res))
                                first = false;
                if (!first)
                        continue;
                for (size_t k = j; k < run->n_results; k++) {
                        const struct tracker_result *o = &run->results[k];
                        if (o->state != TRACKER_STATE_FAILED || !same_failure(o, res))
                                continue;
                        count++;
                        char *n = realloc(nodes, len + strlen(o->node) + 3);
                        if (!n)
                                return;
                        nodes = n;
                        len += (size_t) sprintf(nodes + len, "%s%s", len ? ", " : "", o->node);
                }
                struct log_fields f = { .image = run->images[res->image].ref, .result = "failed" };
                log_fields(LOG_ERR, &f, "FAILED image %s on %zu seeder%s (%s): %s: %s", run->images[res->image].ref,
                           count, count == 1 ? "" : "s", nodes, strempty(res->reason), strempty(res->message));
        }
}

static unsigned count_state(const struct tracker_run *run, enum tracker_state st) {
        unsigned n = 0;

        for (size_t j = 0; j < run->n_results; j++)
                n += run->results[j].state == st;
        return n;
}

/* Platform mismatches are reported, not failures: the image has no variant to pull. */
static void report_not_applicable(const struct tracker_run *run) {
        for (size_t i = 0; i < run->n_images; i++) {
                size_t n = 0;
                for (size_t j = 0; j < run->n_results; j++)
                        n += run->results[j].image == i && run->results[j].state == TRACKER_STATE_NOT_APPLICABLE;
                if (n == 0)
                        continue;
                struct log_fields f = { .image = run->images[i].ref, .result = "not-applicable" };
                log_fields(LOG_NOTICE, &f, "image %s: not applicable (platform) on %zu seeder%s: no variant for their "
                           "OS/architecture", run->images[i].ref, n, n == 1 ? "" : "s");
        }
}

/* Logs per image how many seeders hold it, and every failure. Returns the failures. */
static unsigned summarize(struct machine *m) {
        struct tracker_run *run = m->tracker->run;
        unsigned failures = 0;

        for (size_t i = 0; i < run->n_images; i++) {
                size_t held = 0, total = 0;
                for (size_t j = 0; j < run->n_results; j++) {
                        const struct tracker_result *res = &run->results[j];
                        if (res->image != i || res->state == TRACKER_STATE_NODE_LOST ||
                            res->state == TRACKER_STATE_NOT_APPLICABLE)
                                continue;
                        total++;
                        if (res->state == TRACKER_STATE_PULLED || res->state == TRACKER_STATE_SKIPPED)
                                held++;
                }
                struct log_fields f = { .image = run->images[i].ref, .result = held == total ? "complete" : "incomplete" };
                log_fields(held == total ? LOG_INFO : LOG_WARNING, &f, "image %s%s%s: on %zu of %zu seeders",
                           run->images[i].ref, run->images[i].digest ? " " : "", strempty(run->images[i].digest),
                           held, total);
        }
        /* Anything neither on its seeder nor lost with its node is a failure, including
         * pulls a failed run left waiting. */
        for (size_t j = 0; j < run->n_results; j++)
                failures += run->results[j].state == TRACKER_STATE_FAILED ||
                            run->results[j].state == TRACKER_STATE_WAITING;
        report_failures(run);
        report_not_applicable(run);
        return failures;
}

static int finish(struct machine *m, unsigned failures) {
        struct tracker_run *run = m->tracker->run;
        int64_t now = now_seconds();
        struct tracker_history h = {
                .id = run->id,
                .started_at = run->started_at,
                .finished_at = now,
                .result = failures == 0 ? TRACKER_OUTCOME_OK : TRACKER_OUTCOME_PARTIAL,
                .seeders = (unsigned) m->tracker->n_seeders,
                .images = (unsigned) run->n_images,
                .failures = failures,
                .not_applicable = count_state(run, TRACKER_STATE_NOT_APPLICABLE),
        };
        struct log_fields f = { .result = tracker_outcome_to_string(h.result),
                                .message_id = CLYDE_MSGID_RUN_FINISHED };

        for (size_t p = 0; p < _TRACKER_PHASE_MAX; p++) {
                int64_t start = run->phase_started_at[p], end = now;
                h.phase_seconds[p] = -1;
                for (size_t q = p + 1; start > 0 && q < _TRACKER_PHASE_MAX; q++)
                        if (run->phase_started_at[q] > 0) {
                                end = run->phase_started_at[q];
                                break;
                        }
                if (start > 0)
                        h.phase_seconds[p] = end - start;
        }
        /* The registry throughput this run saw, for the rollout estimate (plan, auto). */
        int r = pull_measure(m, &h.pull);
        if (r == -ENOMEM)
                return r;
        r = tracker_history_add(m->tracker, &h);
        if (r < 0)
                return r;
        /* Per seeder x image, what could not be seeded and why, for status. */
        r = tracker_run_note_outcomes(m->tracker);
        if (r < 0)
                return r;
        log_fields(failures ? LOG_WARNING : LOG_NOTICE, &f,
                   "run %s finished: %zu seeders (target %u), %zu images, %u failures, %u not applicable, "
                   "%u nodes lost, %lld s",
                   run->id, m->tracker->n_seeders, run->target, run->n_images, failures, h.not_applicable,
                   m->nodes_lost,
                   (long long) (now - run->started_at));
        m->last_target = run->target;
        tracker_run_end(m->tracker);
        return machine_persist(m);
}

int phase_cleanup(struct machine *m, int *ret_exit) {
        unsigned failures;
        int r;

        r = delete_run_daemonsets(m);
        if (r < 0)
                return r;
        r = cleanup_daemonsets(m);
        if (r < 0)
                return r;
        failures = summarize(m);
        r = finish(m, failures);
        if (r < 0)
                return r;
        *ret_exit = failures == 0 ? EXIT_DONE : EXIT_PARTIAL;
        return 0;
}
