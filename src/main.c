/* SPDX-License-Identifier: MIT */
/* clyde-seed: argv, configuration, logging, then one command; the only main(). */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "exitcode.h"
#include "log.h"
#include "macro.h"

static int open_logging(const struct config *c, const struct cli *cli) {
        struct log_settings s = {
                .level = c->log_level,
                .to_stdout = c->log_stdout,
                /* status and plan print their data on stdout: keep log lines apart. */
                .stdout_is_stderr = cli->command != CLI_RUN && cli->command != CLI_RELEASE,
                .file = isempty(c->log_file) ? NULL : c->log_file,
                .journal = streq(c->log_journal, "yes") ? LOG_JOURNAL_YES
                           : streq(c->log_journal, "no") ? LOG_JOURNAL_NO
                                                         : LOG_JOURNAL_AUTO,
        };
        int r = log_open(&s);

        /* The log file is the record of what a run changed: without it, change nothing. */
        if (r < 0) {
                (void) fprintf(stderr, "clyde-seed: cannot open log file '%s': %s; nothing was changed "
                               "(--log-file '' runs without one)\n", c->log_file,
                               r == -ELOOP ? "it is a symbolic link, which is never followed" : strerror(-r));
                return EXIT_IOERR;
        }
        return 0;
}

/* A log file that lost lines turns a finished command into an I/O error. */
static int check_log_file(const struct config *c, int exit_code) {
        int r = log_file_error();

        if (r == 0 || (exit_code != EXIT_DONE && exit_code != EXIT_PARTIAL))
                return exit_code;
        (void) fprintf(stderr, "clyde-seed: cannot write log file '%s': %s\n", c->log_file, strerror(-r));
        return EXIT_IOERR;
}

int main(int argc, char **argv) {
        _cleanup_(config_done) struct config c = {};
        struct cli cli;
        int r;

        (void) setlocale(LC_ALL, "C");
        if (cli_parse(argc, argv, &cli) < 0)
                return EXIT_USAGE;
        if (cli.help) {
                cli_help(stdout);
                return EXIT_DONE;
        }
        if (cli.version) {
                printf("clyde-seed %s\n", PACKAGE_VERSION);
                return EXIT_DONE;
        }
        r = cli_load_config(&cli, &c);
        if (r != 0)
                return r;
        if (cli.check_config) {
                config_dump(&c, stdout);
                printf("configuration OK\n");
                return EXIT_DONE;
        }
        r = open_logging(&c, &cli);
        if (r != 0)
                return r;
        r = command_dispatch(&cli, &c);
        r = check_log_file(&c, r);
        log_close();
        return r;
}
