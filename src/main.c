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

        /* A log file that cannot be opened must not stop the run: say so and go on. */
        if (r < 0)
                log_warning_errno(r, "cannot open log file '%s', continuing without it: %m", c->log_file);
        return 0;
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
        (void) open_logging(&c, &cli);
        r = command_dispatch(&cli, &c);
        log_close();
        return r;
}
