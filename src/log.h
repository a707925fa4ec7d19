/* SPDX-License-Identifier: MIT */
/* Logging: journald (structured CLYDE_* fields), standard output (human lines) and a log
 * file, selectable together. A message that cannot be delivered never stops the run.
 * Never pass secrets to these functions. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

enum log_journal_mode {
        LOG_JOURNAL_AUTO, /* only when started by systemd ($JOURNAL_STREAM set) */
        LOG_JOURNAL_YES,
        LOG_JOURNAL_NO,
};

struct log_settings {
        int level;                  /* LOG_DEBUG .. LOG_CRIT: messages above are dropped */
        bool to_stdout;             /* human lines */
        bool stdout_is_stderr;      /* send the human lines to stderr (stdout carries data) */
        const char *file;           /* append here, NULL for none */
        enum log_journal_mode journal;
};

/* Optional structured fields of one message; NULL members are left out. */
struct log_fields {
        const char *node;       /* CLYDE_NODE */
        const char *image;      /* CLYDE_IMAGE */
        const char *result;     /* CLYDE_RESULT */
        const char *message_id; /* MESSAGE_ID (32 hex digits) */
        const char *config_file; /* CONFIG_FILE */
        unsigned config_line;   /* CONFIG_LINE, 0 for none */
};

/* Message ids (documented in clyde-seed(8)). */
#define CLYDE_MSGID_RUN_STARTED     "4d9a1c0e8f2b4a6c9e3b7d5f1a2c4e60"
#define CLYDE_MSGID_RUN_FINISHED    "4d9a1c0e8f2b4a6c9e3b7d5f1a2c4e61"
#define CLYDE_MSGID_SEEDER_ADDED    "4d9a1c0e8f2b4a6c9e3b7d5f1a2c4e62"
#define CLYDE_MSGID_SEEDER_REPLACED "4d9a1c0e8f2b4a6c9e3b7d5f1a2c4e63"
#define CLYDE_MSGID_IMAGE_FAILED    "4d9a1c0e8f2b4a6c9e3b7d5f1a2c4e64"
#define CLYDE_MSGID_SEEDER_REMOVED  "4d9a1c0e8f2b4a6c9e3b7d5f1a2c4e65"

/* Opens the backends. Returns 0, or a negative errno when the log file cannot be opened
 * (-ELOOP: it is a symbolic link, never followed); the other backends stay usable and the
 * caller decides whether that is fatal. */
int log_open(const struct log_settings *s);

/* The first failure to write a line to the log file since log_open() (negative errno),
 * or 0: a log that lost lines is an I/O error of the run. */
int log_file_error(void);
void log_close(void);

/* Sets CLYDE_RUN / CLYDE_PHASE, attached to every following message (NULL clears). */
void log_set_run(const char *run_id);
void log_set_phase(const char *phase);

/* Parses DEBUG, INFO, WARNING/WARN, ERROR, CRITICAL in any case, and the syslog names
 * (debug, info, notice, warning, err, crit, alert, emerg) or 0..7.
 * Returns the syslog priority, or -EINVAL. */
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);

/* Logs one message. Returns -abs(error) so callers can write
 * `return log_error_errno(r, "...: %m");` (errno is set from error for %m). */
int log_internal(int level, int error, const struct log_fields *f, const char *fmt, ...)
        _printf_(4, 5);

#define log_full(level, ...) log_internal((level), 0, NULL, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, 0, NULL, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, NULL, __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), NULL, __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_DEBUG, (e), NULL, __VA_ARGS__)
#define log_fields(level, f, ...) log_internal((level), 0, (f), __VA_ARGS__)

/* Shows s as a live progress line on standard error when it is a terminal (NULL or ""
 * clears it); log lines written to the terminal clear it first. */
void log_progress(const char *s);

/* True when a message at level would be emitted somewhere. */
bool log_enabled(int level);

/* Counts of messages emitted at WARNING and at ERR or worse (for the run summary). */
unsigned log_count_warnings(void);
unsigned log_count_errors(void);
