/* SPDX-License-Identifier: MIT */
/* fileio: an atomic write whose directory cannot be synced after the rename is reported
 * (step "fsync directory"), with the new content in place. The directory is made
 * unreadable (write and search only), so rename works but opening it to fsync does not;
 * as root the check runs in a child that drops to an unprivileged uid. */
#include "fileio.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "tap.h"
#include "util.h"

#define NOBODY 65534

/* In the child: 0 when the write failed at "fsync directory" with the content in place. */
static int write_in_unreadable_dir(const char *dir) {
        _cleanup_(freep) char *path = NULL, *back = NULL;
        const char *step = NULL;
        size_t n = 0;
        int r;

        if (asprintf(&path, "%s/state.json", dir) < 0)
                return 10;
        r = write_file_atomic(path, "{\"v\": 2}\n", 9, 0600, &step);
        if (r != -EACCES || !streq_ptr(step, "fsync directory"))
                return 11;
        /* Unreadable directory: read the file back by its name (search is allowed). */
        if (read_full_file(path, 64, &back, &n) < 0 || !streq(back, "{\"v\": 2}\n"))
                return 12;
        return 0;
}

int main(void) {
        char dir[] = "/tmp/test-fileio-XXXXXX";
        int status = -1;
        pid_t pid;

        if (!mkdtemp(dir)) {
                printf("Bail out! mkdtemp: %s\n", strerror(errno));
                return 1;
        }
        ok(chmod(dir, 0300) == 0, "directory made write+search only");
        if (geteuid() == 0)
                ok(chown(dir, NOBODY, NOBODY) == 0, "as root: the directory belongs to uid %d", NOBODY);
        pid = fork();
        if (pid == 0) {
                if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
                                       setresuid(NOBODY, NOBODY, NOBODY) < 0))
                        _exit(9);
                _exit(write_in_unreadable_dir(dir));
        }
        ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status), "the child ran");
        is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
               "a failed directory fsync after the rename is reported (step 'fsync directory', -EACCES), "
               "the new content in place (9: cannot drop privileges, 11: not reported, 12: content)");
        {
                _cleanup_(freep) char *path = NULL;
                if (asprintf(&path, "%s/state.json", dir) >= 0)
                        (void) unlink(path);
        }
        (void) chmod(dir, 0700);
        (void) rmdir(dir);
        return tap_done();
}
