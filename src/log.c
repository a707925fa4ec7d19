/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include <systemd/sd-journal.h>

static struct {
        int level;
        bool to_stdout;
        bool use_stderr;
        bool journal;
        FILE *file;
        int file_error;      /* first failed write to the log file (negative errno), or 0 */
        bool progress_shown; /* a progress line is on the terminal */
        char run[64];
        char phase[32];
        unsigned warnings, errors;
} L = { .level = LOG_INFO, .to_stdout = true };

static const char *const level_names[] = {
        [LOG_EMERG] = "EMERG",     [LOG_ALERT] = "ALERT",   [LOG_CRIT] = "CRITICAL",
        [LOG_ERR] = "ERROR",       [LOG_WARNING] = "WARNING", [LOG_NOTICE] = "NOTICE",
        [LOG_INFO] = "INFO",       [LOG_DEBUG] = "DEBUG",
};

const char *log_level_to_string(int level) {
        if (level < 0 || level > LOG_DEBUG)
                return "?";
        return level_names[level];
}

int log_level_from_string(const char *s) {
        static const struct {
                const char *name;
                int level;
        } table[] = {
                { "DEBUG", LOG_DEBUG },    { "INFO", LOG_INFO },      { "NOTICE", LOG_NOTICE },
                { "WARNING", LOG_WARNING }, { "WARN", LOG_WARNING },  { "ERROR", LOG_ERR },
                { "ERR", LOG_ERR },        { "CRITICAL", LOG_CRIT },  { "CRIT", LOG_CRIT },
                { "ALERT", LOG_ALERT },    { "EMERG", LOG_EMERG },
        };

        if (!s)
                return -EINVAL;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
                return s[0] - '0';
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strcasecmp(s, table[i].name) == 0)
                        return table[i].level;
        return -EINVAL;
}

static FILE *open_log_file(const char *path) {
        /* 0640 whatever the umask: fchmod after creating. Never through a symbolic link
         * (ELOOP): one planted where the log goes would have us append to any file. */
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640);
        if (fd < 0)
                return NULL;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777 & ~0640u))
                (void) fchmod(fd, st.st_mode & 0640);
        FILE *f = fdopen(fd, "a");
        if (!f) {
                (void) close(fd);
                return NULL;
        }
        setvbuf(f, NULL, _IOLBF, 0);
        return f;
}

int log_open(const struct log_settings *s) {
        int r = 0;

        log_close();
        L.file_error = 0;
        L.level = s->level;
        L.to_stdout = s->to_stdout;
        L.use_stderr = s->stdout_is_stderr;
        switch (s->journal) {
        case LOG_JOURNAL_YES:
                L.journal = true;
                break;
        case LOG_JOURNAL_NO:
                L.journal = false;
                break;
        case LOG_JOURNAL_AUTO:
                L.journal = !isempty(getenv("JOURNAL_STREAM"));
                break;
        }
        if (!isempty(s->file)) {
                L.file = open_log_file(s->file);
                if (!L.file)
                        r = -errno;
        }
        return r;
}

void log_close(void) {
        log_progress(NULL);
        if (L.file)
                (void) fclose(L.file);
        L.file = NULL;
}

static void copy_field(char *dst, size_t size, const char *s) {
        if (!s)
                dst[0] = '\0';
        else
                (void) snprintf(dst, size, "%s", s);
}

void log_set_run(const char *run_id) {
        copy_field(L.run, sizeof(L.run), run_id);
}

void log_set_phase(const char *phase) {
        copy_field(L.phase, sizeof(L.phase), phase);
}

bool log_enabled(int level) {
        return level <= L.level && (L.to_stdout || L.journal || L.file);
}

unsigned log_count_warnings(void) {
        return L.warnings;
}

unsigned log_count_errors(void) {
        return L.errors;
}

/* A progress line lives on standard error when it is a terminal; log lines clear it. */
void log_progress(const char *s) {
        if (!isatty(STDERR_FILENO))
                return;
        (void) fprintf(stderr, "\r\033[K%s", s ? s : "");
        (void) fflush(stderr);
        L.progress_shown = s && *s;
}

static void clear_progress(FILE *f) {
        if (!L.progress_shown || !isatty(fileno(f)))
                return;
        (void) fputs("\r\033[K", f);
        L.progress_shown = false;
}

/* Returns 0, or a negative errno when the line could not be written. */
static int write_human(FILE *f, int level, const char *msg) {
        char stamp[40];
        struct timespec ts;
        struct tm tm;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        (void) gmtime_r(&ts.tv_sec, &tm);
        clear_progress(f);
        (void) strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        errno = 0;
        if (fprintf(f, "%s.%03ldZ %-8s %s%s%s%s\n", stamp, ts.tv_nsec / 1000000, log_level_to_string(level),
                    L.phase[0] ? "[" : "", L.phase, L.phase[0] ? "] " : "", msg) < 0 ||
            fflush(f) != 0)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

int log_file_error(void) {
        return L.file_error;
}

/* Adds "NAME=value" to iov when value is set; the strings live in the caller's arena. */
static void add_field(struct iovec *iov, size_t *n, char *buf, size_t size, const char *name,
                      const char *value) {
        int k;

        if (isempty(value))
                return;
        k = snprintf(buf, size, "%s=%s", name, value);
        if (k < 0)
                return;
        iov[*n].iov_base = buf;
        iov[*n].iov_len = MIN((size_t) k, size - 1);
        (*n)++;
}

static void write_journal(int level, const struct log_fields *f, const char *msg) {
        enum { FIELDS = 12, FIELD_MAX = 512 };
        _cleanup_(freep) char *message = NULL;
        char bufs[FIELDS][FIELD_MAX], prio[16], line[16] = "";
        struct iovec iov[FIELDS + 1];
        size_t n = 0, b = 0;

        if (asprintf(&message, "MESSAGE=%s", msg) < 0)
                return;
        iov[n++] = (struct iovec) { .iov_base = message, .iov_len = strlen(message) };
        (void) snprintf(prio, sizeof(prio), "%d", level);
        add_field(iov, &n, bufs[b++], FIELD_MAX, "PRIORITY", prio);
        add_field(iov, &n, bufs[b++], FIELD_MAX, "SYSLOG_IDENTIFIER", "clyde-seed");
        add_field(iov, &n, bufs[b++], FIELD_MAX, "CLYDE_RUN", L.run);
        add_field(iov, &n, bufs[b++], FIELD_MAX, "CLYDE_PHASE", L.phase);
        if (f) {
                if (f->config_line > 0)
                        (void) snprintf(line, sizeof(line), "%u", f->config_line);
                add_field(iov, &n, bufs[b++], FIELD_MAX, "CLYDE_NODE", f->node);
                add_field(iov, &n, bufs[b++], FIELD_MAX, "CLYDE_IMAGE", f->image);
                add_field(iov, &n, bufs[b++], FIELD_MAX, "CLYDE_RESULT", f->result);
                add_field(iov, &n, bufs[b++], FIELD_MAX, "MESSAGE_ID", f->message_id);
                add_field(iov, &n, bufs[b++], FIELD_MAX, "CONFIG_FILE", f->config_file);
                add_field(iov, &n, bufs[b++], FIELD_MAX, "CONFIG_LINE", line);
        }
        /* A journal that refuses the message must not stop the run. */
        (void) sd_journal_sendv(iov, (int) n);
}

int log_internal(int level, int error, const struct log_fields *f, const char *fmt, ...) {
        _cleanup_(freep) char *msg = NULL;
        int saved = errno;
        va_list ap;

        if (level <= LOG_ERR)
                L.errors++;
        else if (level == LOG_WARNING)
                L.warnings++;
        if (level > L.level)
                goto finish;
        if (error != 0)
                errno = error < 0 ? -error : error;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg)
                goto finish;
        if (L.to_stdout)
                (void) write_human(L.use_stderr ? stderr : stdout, level, msg);
        if (L.file) {
                int r = write_human(L.file, level, msg);
                if (r < 0 && L.file_error == 0)
                        L.file_error = r;
        }
        if (L.journal)
                write_journal(level, f, msg);
finish:
        errno = saved;
        return error == 0 ? 0 : (error < 0 ? error : -error);
}
