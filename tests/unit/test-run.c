/* SPDX-License-Identifier: MIT */
/* The run context: exit codes (1 only for a partial run), a tracker that cannot be saved
 * (74), and the crash hook, present only in a build with --enable-test-hooks. This file
 * is built twice: test-run against libclyde.a, test-run-nohooks with src/run.c compiled
 * as a production build compiles it (CLYDE_TEST_HOOKS_OFF). */
#include "run.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "macro.h"
#include "tap.h"

#if ENABLE_TEST_HOOKS && !defined(CLYDE_TEST_HOOKS_OFF)
#define HOOKS 1
#else
#define HOOKS 0
#endif

static void test_exit_codes(void) {
        static const struct {
                int error, want;
        } t[] = {
                { -EACCES, EXIT_NOPERM },         { -EPERM, EXIT_NOPERM },
                { -ECONNREFUSED, EXIT_UNAVAILABLE }, { -EAGAIN, EXIT_UNAVAILABLE },
                { -ETIMEDOUT, EXIT_UNAVAILABLE }, { -EIO, EXIT_UNAVAILABLE },
                { -EBADMSG, EXIT_UNAVAILABLE },   { -ENOMEM, EXIT_SOFTWARE },
                { -EINVAL, EXIT_SOFTWARE },       { -E2BIG, EXIT_SOFTWARE },
                { -ESTALE, EXIT_SOFTWARE },
        };
        int partial = 0;

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                is_int(machine_exit_code(t[i].error), t[i].want, "%s -> %d", strerror(-t[i].error), t[i].want);
        for (int e = 1; e < 134; e++)
                partial += machine_exit_code(-e) == EXIT_PARTIAL;
        is_int(partial, 0, "no errno maps to 1 (exit 1 means only: some node x image failed)");
}

/* A context whose tracker goes to dir/name. */
static void context(struct machine *m, struct tracker *t, const char *path) {
        *m = (struct machine) { .tracker = t, .tracker_path = path, .last_target = -1 };
}

static void test_save_failure(const char *dir) {
        _cleanup_(freep) char *path = NULL;
        struct tracker *t = tracker_new();
        struct machine m;
        int r;

        if (asprintf(&path, "%s/no-such-directory/tracker.json", dir) < 0)
                path = NULL;
        ok(t && path, "set up");
        if (!t || !path)
                return;
        context(&m, t, path);
        is_int(machine_exit(&m, -ENOMEM), EXIT_SOFTWARE, "before any save failure, ENOMEM is 70");
        r = machine_persist(&m);
        ok(r < 0, "persisting into a missing directory fails (%s)", strerror(-r));
        ok(m.io_error < 0, "the failure is recorded as an I/O error of the run");
        is_int(machine_exit(&m, r), EXIT_IOERR, "a tracker that cannot be saved exits 74");
        is_int(machine_exit(&m, -EACCES), EXIT_IOERR, "... whatever errno the save failed with");
        tracker_free(t);
}

static void test_crash_hook(const char *dir) {
        _cleanup_(freep) char *path = NULL;
        int status = 0;
        pid_t pid;

        if (asprintf(&path, "%s/tracker.json", dir) < 0)
                path = NULL;
        ok(path, "set up");
        if (!path)
                return;
        pid = fork();
        if (pid == 0) {
                struct tracker *t = tracker_new();
                struct machine m;
                context(&m, t, path);
                (void) setenv("CLYDE_TEST_CRASH_AT_STEP", "1", 1);
                _exit(t && machine_persist(&m) == 0 ? 0 : 3);
        }
        ok(pid > 0 && waitpid(pid, &status, 0) == pid, "the child ran");
        ok(access(path, F_OK) == 0, "the child persisted its step");
        if (HOOKS)
                ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                   "test build (--enable-test-hooks): CLYDE_TEST_CRASH_AT_STEP=1 kills after step 1");
        else
                ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                   "production build: CLYDE_TEST_CRASH_AT_STEP=1 is ignored, the process goes on");
        (void) unlink(path);
}

int main(void) {
        struct log_settings ls = { .level = LOG_DEBUG, .to_stdout = false, .journal = LOG_JOURNAL_NO };
        char dir[] = "/tmp/test-run-XXXXXX";

        (void) log_open(&ls);
        if (!mkdtemp(dir)) {
                printf("Bail out! mkdtemp: %s\n", strerror(errno));
                return 1;
        }
        printf("# crash hook compiled in: %s\n", HOOKS ? "yes" : "no");
        test_exit_codes();
        test_crash_hook(dir);
        test_save_failure(dir);
        (void) rmdir(dir);
        return tap_done();
}
