/* SPDX-License-Identifier: MIT */
/* libFuzzer target for seeder.ini: the input is written to a private temporary file and
 * read with config_load_file(), then config_finish() cross-checks it. Beyond "no crash
 * and no leak": every error is a non-empty line, reading the same file again gives the
 * same number of errors, and config_dump() works on whatever was loaded. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmp_path[] = "/tmp/clyde-fuzz-config-XXXXXX";
static int tmp_fd = -1;
static FILE *devnull;

static void setup(void) {
        if (tmp_fd >= 0)
                return;
        tmp_fd = mkstemp(tmp_path);
        devnull = fopen("/dev/null", "we");
        if (tmp_fd < 0 || !devnull)
                abort();
}

static void cleanup_tmp(void) {
        if (tmp_fd >= 0)
                (void) unlink(tmp_path);
}

static int write_input(const uint8_t *data, size_t size) {
        if (ftruncate(tmp_fd, 0) < 0)
                return -errno;
        for (size_t done = 0; done < size;) {
                ssize_t k = pwrite(tmp_fd, data + done, size - done, (off_t) done);

                if (k <= 0)
                        return -EIO;
                done += (size_t) k;
        }
        return 0;
}

/* Loads the temp file into a fresh config; returns the error count, or -1 when out of
 * memory. */
static ssize_t load(struct config *c, struct config_errors *err) {
        int r;

        if (config_init(c) < 0)
                return -1;
        r = config_load_file(c, tmp_path, err);
        if (r == -ENOMEM)
                return -1;
        if (r < 0 && r != -ENOENT)
                return (ssize_t) err->n;
        (void) config_finish(c, err);
        return (ssize_t) err->n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct config c = {}, c2 = {};
        struct config_errors err = {}, err2 = {};
        ssize_t n, n2;

        setup();
        if (write_input(data, size) < 0)
                return 0;
        n = load(&c, &err);
        if (n >= 0) {
                for (size_t i = 0; i < err.n; i++)
                        if (isempty(err.lines[i]))
                                abort();
                config_dump(&c, devnull);
                /* Reading the same file again gives the same verdict. */
                n2 = load(&c2, &err2);
                if (n2 >= 0 && n2 != n)
                        abort();
        }
        config_done(&c);
        config_done(&c2);
        config_errors_done(&err);
        config_errors_done(&err2);
        return 0;
}

__attribute__((destructor)) static void fuzz_config_exit(void) {
        cleanup_tmp();
}
