/* SPDX-License-Identifier: MIT */
/* The command line: flags onto keys, precedence, path resolution, the shipped seeder.ini,
 * and reading an images file from a pipe. */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "config-keys.h"
#include "exitcode.h"
#include "macro.h"
#include "tap.h"
#include "util.h"

static char *top_path(const char *rel) {
        char *p = NULL;
        const char *top = getenv("top_srcdir");

        if (asprintf(&p, "%s/%s", top ? top : ".", rel) < 0)
                abort();
        return p;
}

static int parse(struct cli *cli, const char **argv) {
        int argc = 0;

        while (argv[argc])
                argc++;
        return cli_parse(argc, (char **) argv, cli);
}

static void test_parse(void) {
        struct cli cli;
        const char *a1[] = { "clyde-seed", "--base-dir", "/tmp", "--seeder-percentage", "12.5", "--namespace", "ops",
                       "--log-level", "warning", "--no-stdout", "--seeder-tracker-file", "t.json",
                       "--images-to-seed", "-", "--log-file", "x.log", "--kubeconfig", "k", "--context", "c",
                       "--config", "/dev/null", NULL };
        ok(parse(&cli, a1) == 0, "every original flag parses");
        is_int(cli.n_overrides, 10, "ten flags become key overrides");
        is_str(cli.config_path, "/dev/null", "--config is taken");
        is_int(cli.command, CLI_RUN, "run is the default command");

        const char *a2[] = { "clyde-seed", "status", "--json", NULL };
        ok(parse(&cli, a2) == 0 && cli.command == CLI_STATUS && cli.json, "status --json");
        const char *a3[] = { "clyde-seed", "--frobnicate", NULL };
        ok(parse(&cli, a3) < 0, "an unknown option is a usage error");
        const char *a4[] = { "clyde-seed", "launch", NULL };
        ok(parse(&cli, a4) < 0, "an unknown command is a usage error");
        const char *a5[] = { "clyde-seed", "--namespace", NULL };
        ok(parse(&cli, a5) < 0, "a missing argument is a usage error");
        const char *a6[] = { "clyde-seed", "plan", "release", NULL };
        ok(parse(&cli, a6) < 0, "two commands are a usage error");
}

static void test_precedence(void) {
        _cleanup_(freep) char *good = top_path("tests/data/config/good.ini");
        const char *argv[] = { "clyde-seed", "--config", good, "--seeder-percentage", "60", "--base-dir", "/tmp", NULL };
        struct cli cli;
        struct config c;

        ok(parse(&cli, argv) == 0, "parse precedence args");
        is_int(cli_load_config(&cli, &c), 0, "config loads");
        ok(c.percentage == 60.0, "command line beats the file");
        ssize_t k = config_key_find("seeder", "percentage");
        ok(c.sources[k].origin == CONFIG_CLI, "percentage source is the command line");
        is_str(c.label, "example.com/seeder=yes", "the file beats the default");
        is_str(c.label_key, "example.com/seeder", "label key split");
        is_str(c.label_value, "yes", "label value split");
        is_str(c.tracker_file, "/tmp/state/tracker.json", "relative tracker path resolves against --base-dir");
        is_str(c.images_file, "/tmp/images.txt", "default images file resolves against --base-dir");
        config_done(&c);

        const char *argv2[] = { "clyde-seed", "--config", good, "--images-to-seed", "-", "--log-file", "/var/log/x.log",
                          "--seeder-tracker-file", "/abs/t.json", NULL };
        ok(parse(&cli, argv2) == 0, "parse absolute paths");
        is_int(cli_load_config(&cli, &c), 0, "config loads");
        is_str(c.images_file, "-", "'-' stays standard input");
        is_str(c.log_file, "/var/log/x.log", "absolute log path kept");
        is_str(c.tracker_file, "/abs/t.json", "absolute tracker path kept");
        config_done(&c);
}

static void test_errors(void) {
        struct cli cli;
        struct config c;
        const char *missing[] = { "clyde-seed", "--config", "/nonexistent/x.ini", NULL };
        const char *badpct[] = { "clyde-seed", "--config", "/dev/null", "--seeder-percentage", "0", NULL };
        const char *badlvl[] = { "clyde-seed", "--config", "/dev/null", "--log-level", "chatty", NULL };
        const char *nodir[] = { "clyde-seed", "--config", "/dev/null", "--base-dir", "/nonexistent/dir", NULL };

        ok(parse(&cli, missing) == 0, "parse");
        is_int(cli_load_config(&cli, &c), EXIT_CONFIG, "a named config file that is missing is exit 78");
        ok(parse(&cli, badpct) == 0, "parse");
        is_int(cli_load_config(&cli, &c), EXIT_USAGE, "--seeder-percentage 0 is a usage error");
        ok(parse(&cli, badlvl) == 0, "parse");
        is_int(cli_load_config(&cli, &c), EXIT_USAGE, "--log-level chatty is a usage error");
        ok(parse(&cli, nodir) == 0, "parse");
        is_int(cli_load_config(&cli, &c), EXIT_CONFIG, "a missing base dir is a configuration error");
}

/* Every key of the table stands commented out, with its default, in its section. */
static void test_shipped_ini(void) {
        _cleanup_(freep) char *path = top_path("etc/clyde/seeder.ini"), *buf = NULL;
        size_t len;

        ok(read_full_file(path, 1 << 20, &buf, &len) == 0, "read the shipped seeder.ini");
        if (!buf)
                return;
        for (size_t i = 0; i < config_n_keys; i++) {
                const struct config_key *k = &config_keys[i];
                _cleanup_(freep) char *hdr = NULL, *line = NULL;
                if (asprintf(&hdr, "\n[%s]\n", k->section) < 0 ||
                    asprintf(&line, "\n;%s =%s%s\n", k->name, isempty(k->def) ? "" : " ", k->def) < 0)
                        abort();
                const char *sec = strstr(buf, hdr), *at = strstr(buf, line);
                const char *next = sec ? strstr(sec + 1, "\n[") : NULL;
                ok(sec && at && at > sec && (!next || at < next), "seeder.ini lists [%s] %s = %s", k->section,
                   k->name, k->def);
        }
        /* And the file itself is valid: all comments, so it loads without errors. */
        struct config c;
        _cleanup_(config_errors_done) struct config_errors err = {};
        config_init(&c);
        is_int(config_load_file(&c, path, &err), 0, "shipped seeder.ini loads");
        is_int(err.n, 0, "shipped seeder.ini has no errors");
        config_done(&c);
}

static void test_pipe(void) {
        int p[2];
        char fdpath[64];
        _cleanup_(freep) char *buf = NULL;
        size_t len = 0;

        ok(pipe(p) == 0, "pipe");
        pid_t pid = fork();
        if (pid == 0) {
                close(p[0]);
                const char *s = "nginx:1.27\n";
                for (int i = 0; i < 2000; i++) /* more than a pipe buffer */
                        if (write(p[1], s, strlen(s)) < 0)
                                _exit(1);
                _exit(0);
        }
        close(p[1]);
        snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", p[0]);
        is_int(read_full_file(fdpath, 1 << 20, &buf, &len), 0, "read a pipe through /dev/fd/N");
        is_int(len, 2000 * 11, "all of the pipe's bytes were read");
        ok(buf && strncmp(buf, "nginx:1.27\n", 11) == 0, "content intact");
        close(p[0]);
        waitpid(pid, NULL, 0);
        free(TAKE_PTR(buf));
        is_int(read_full_file("/nonexistent/images.txt", 100, &buf, &len), -ENOENT, "missing file is -ENOENT");
        _cleanup_(freep) char *big = NULL;
        is_int(read_full_file("/dev/zero", 1000, &big, &len), -EFBIG, "a file over the limit is -EFBIG");
}

int main(void) {
        test_parse();
        test_precedence();
        test_errors();
        test_shipped_ini();
        test_pipe();
        return tap_done();
}
