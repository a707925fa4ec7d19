/* SPDX-License-Identifier: MIT */
/* The subcommands: run (default), status, plan, release. */
#include "commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "machine.h"
#include "macro.h"
#include "metrics.h"
#include "release.h"
#include "session.h"
#include "stage-run.h"
#include "status.h"
#include "util.h"

/* Largest images file accepted: far more than any real list. */
#define IMAGES_FILE_MAX (4u * 1024 * 1024)

static uint32_t random_u32(void) {
        uint32_t v = 0;
        FILE *f = fopen("/dev/urandom", "re");

        if (f) {
                if (fread(&v, sizeof(v), 1, f) != 1)
                        v = 0;
                (void) fclose(f);
        }
        return v ^ (uint32_t) getpid();
}

static int start_run(struct machine *m, const struct session *s, bool *images_logged) {
        char id[TRACKER_RUN_ID_MAX];
        int64_t now = now_seconds();
        struct log_fields f = { .message_id = CLYDE_MSGID_RUN_STARTED };
        int r;

        r = tracker_run_id(now, random_u32(), id, sizeof(id));
        if (r >= 0)
                r = tracker_run_start(m->tracker, id, now);
        if (r < 0)
                return EXIT_SOFTWARE;
        log_set_run(id);
        log_set_phase("select");
        if (!*images_logged)
                session_log_images(s);
        *images_logged = true;
        if (m->config->percentage_auto)
                log_fields(LOG_INFO, &f, "run %s started: %zu images, seeders: percentage = auto (%s)", id,
                           m->images->n, m->config->label);
        else
                log_fields(LOG_INFO, &f, "run %s started: %zu images, %g%% of eligible nodes as seeders (%s)", id,
                           m->images->n, m->config->percentage, m->config->label);
        return machine_persist(m) < 0 ? EXIT_IOERR : 0;
}

/* Whether the run being resumed seeds exactly the images asked for now. */
static bool same_images(const struct tracker_run *run, const struct image_list *l) {
        if (run->n_images != l->n)
                return false;
        for (size_t i = 0; i < l->n; i++)
                if (tracker_run_find_image(run, l->entries[i].ref.normalized) < 0)
                        return false;
        return true;
}

/* The Prometheus textfile, when configured; a failure to write it is only a warning. */
static void write_metrics(struct session *s, const struct machine *m, int exit_code) {
        _cleanup_(freep) char *cause = NULL;
        const struct http_counter *counters = NULL;
        struct metrics_input in;

        if (isempty(s->config->metrics_file))
                return;
        metrics_input_init(&in, s->tracker, now_seconds());
        in.n_counters = session_http_counters(s, &counters);
        in.counters = counters;
        in.target = m->last_target;
        in.exit_code = exit_code;
        if (metrics_write(s->config->metrics_file, &in, &cause) < 0)
                log_warning("cannot write metrics to '%s': %s", s->config->metrics_file, strempty(cause));
}

static int run_cycle(struct session *s) {
        struct machine m;
        bool images_logged = false;
        int r;

        machine_init(&m, s, false);
        if (s->tracker->run && s->tracker->run->phase != TRACKER_PHASE_NONE) {
                struct tracker_run *run = s->tracker->run;
                bool again = run->n_images > 0 && !same_images(run, s->images);
                log_set_run(run->id);
                session_log_images(s);
                images_logged = true;
                log_notice("resuming run %s at phase %s (step %llu)", run->id, tracker_phase_to_string(run->phase),
                           (unsigned long long) run->step);
                r = machine_run(&m);
                if (r != EXIT_DONE && r != EXIT_PARTIAL)
                        goto out;
                if (!again)
                        goto out;
                log_notice("the images asked for differ from the resumed run's: starting a new run");
                machine_seeders_free(&m);
                stage_run_free(&m);
                m.nodes_lost = 0;
        }
        r = start_run(&m, s, &images_logged);
        if (r == 0)
                r = machine_run(&m);
out:
        write_metrics(s, &m, r);
        machine_seeders_free(&m);
        stage_run_free(&m);
        return r;
}

static int cmd_run(struct config *c, const char *buf, size_t len, bool dry_run, bool json) {
        _cleanup_(session_done) struct session s = { .config = c };
        int r;

        r = session_images(&s, buf, len);
        if (r == 0)
                r = session_connect(&s);
        if (r == 0)
                r = session_tracker(&s, !dry_run);
        if (r != 0)
                return r;
        if (dry_run)
                return status_plan(&s, json);
        return run_cycle(&s);
}

int command_dispatch(const struct cli *cli, struct config *c) {
        _cleanup_(freep) char *images = NULL;
        size_t len = 0;
        int r;

        log_set_phase("start");
        switch (cli->command) {
        case CLI_STATUS:
                return status_show(c, cli->json);
        case CLI_RELEASE:
                return status_release(c);
        default:
                break;
        }
        /* The images file may be a pipe: read it once, fully, before anything else. */
        r = read_full_file(c->images_file, IMAGES_FILE_MAX, &images, &len);
        if (r < 0) {
                log_error_errno(r, "cannot read images file '%s': %m", c->images_file);
                return EXIT_CONFIG;
        }
        return cmd_run(c, images, len, cli->command == CLI_PLAN, cli->json);
}
