/* SPDX-License-Identifier: MIT */
/* Exit codes, documented in clyde-seed(8); the values follow sysexits.h. */
#pragma once

enum {
        EXIT_DONE = 0,         /* every seeder holds every image */
        EXIT_PARTIAL = 1,      /* some node x image failed (listed) */
        EXIT_USAGE = 64,       /* bad command line */
        EXIT_UNAVAILABLE = 69, /* API server unreachable or failing */
        EXIT_SOFTWARE = 70,    /* internal error: out of memory, or a request the API
                                * rejected as malformed (400/422), a bug in clyde-seed */
        EXIT_IOERR = 74,       /* local I/O: the tracker or the log file cannot be written */
        EXIT_LOCKED = 75,      /* another run holds the lock: try later */
        EXIT_NOPERM = 77,      /* the API denied a request */
        EXIT_CONFIG = 78,      /* configuration, kubeconfig or images file error */
};
