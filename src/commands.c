/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "commands.h"
#include "exitcode.h"
#include "log.h"
#include "macro.h"
#include "util.h"

/* Largest images file accepted: far more than any real list. */
#define IMAGES_FILE_MAX (4u * 1024 * 1024)

int command_dispatch(const struct cli *cli, struct config *c) {
        _cleanup_(freep) char *images = NULL;
        size_t len = 0;
        int r;

        /* The images file may be a pipe: read it once, fully, before anything else. */
        if (cli->command == CLI_RUN || cli->command == CLI_PLAN) {
                r = read_full_file(c->images_file, IMAGES_FILE_MAX, &images, &len);
                if (r < 0) {
                        log_error_errno(r, "cannot read images file '%s': %m", c->images_file);
                        return EXIT_CONFIG;
                }
                log_info("read %zu bytes from images file '%s'", len, c->images_file);
        }
        log_error("command '%s' is not available in this build yet", cli_command_name(cli->command));
        return EXIT_UNAVAILABLE;
}
