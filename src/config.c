/* SPDX-License-Identifier: MIT */
/* The key table, seeder.ini loading (inih) and the command-line overlay. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config-keys.h"
#include "log.h"
#include "macro.h"

static void *field(struct config *c, const struct config_key *k) {
        return (char *) c + k->offset;
}

/* percentage: a share, or auto (its fallback is then the value). */
static int set_share(struct config *c, const struct config_key *k, const char *value, const char **ret_why) {
        double v;
        int r;

        if (streq_ptr(value, "auto")) {
                c->percentage_auto = true;
                *(double *) field(c, k) = CONFIG_AUTO_FALLBACK_PERCENT;
                return 0;
        }
        r = config_parse_percent(value, &v);
        if (r < 0) {
                *ret_why = "expected a percentage in (0, 100] or auto";
                return r;
        }
        c->percentage_auto = false;
        *(double *) field(c, k) = v;
        return 0;
}

static int set_rate(struct config *c, const struct config_key *k, const char *value, const char **ret_why) {
        double v = 0;

        if (isempty(value) && k->min == 0) {
                *(double *) field(c, k) = 0;
                return 0;
        }
        if (config_parse_rate(value, &v) < 0) {
                *ret_why = "expected a rate such as 100mbit, 1gbit or 50MB/s";
                return -EINVAL;
        }
        *(double *) field(c, k) = v;
        return 0;
}

/* Parses value for key k into c. Returns 0, or a negative errno with *ret_why set to a
 * static explanation. */
static int set_value(struct config *c, const struct config_key *k, const char *value,
                     const char **ret_why) {
        int r;

        switch (k->type) {
        case KEY_DURATION:
        case KEY_COUNT: {
                int64_t v;
                char *end;
                if (k->type == KEY_DURATION) {
                        r = config_parse_duration(value, &v);
                        if (r < 0) {
                                *ret_why = "expected a duration such as 30s, 5m, 2h, 1d";
                                return r;
                        }
                } else {
                        errno = 0;
                        v = strtoll(value, &end, 10);
                        if (isempty(value) || *end || errno || !isdigit((unsigned char) value[0])) {
                                *ret_why = "expected a whole number";
                                return -EINVAL;
                        }
                }
                if (v < k->min || v > k->max) {
                        *ret_why = "out of range";
                        return -ERANGE;
                }
                *(int64_t *) field(c, k) = v;
                return 0;
        }
        case KEY_PERCENT:
                r = config_parse_percent(value, (double *) field(c, k));
                if (r < 0)
                        *ret_why = "expected a percentage in (0, 100]";
                return r;
        case KEY_SHARE:
                return set_share(c, k, value, ret_why);
        case KEY_RATE:
                return set_rate(c, k, value, ret_why);
        case KEY_DOUBLE: {
                double v;
                if (config_parse_decimal(value, &v) < 0) {
                        *ret_why = "expected a finite decimal number";
                        return -EINVAL;
                }
                if (v < (double) k->min || v > (double) k->max) {
                        *ret_why = "out of range";
                        return -ERANGE;
                }
                *(double *) field(c, k) = v;
                return 0;
        }
        case KEY_BOOL:
                r = config_parse_bool(value, (bool *) field(c, k));
                if (r < 0)
                        *ret_why = "expected a boolean (yes/no, true/false, on/off, 1/0)";
                return r;
        case KEY_LEVEL:
                r = log_level_from_string(value);
                if (r < 0) {
                        *ret_why = "expected DEBUG, INFO, WARNING, ERROR or CRITICAL";
                        return r;
                }
                *(int *) field(c, k) = r;
                return 0;
        case KEY_LIST: {
                char **l = NULL;
                r = config_parse_list(value, &l);
                if (r < 0) {
                        *ret_why = "cannot parse list";
                        return r;
                }
                r = config_key_check_list(k, l, ret_why);
                if (r < 0) {
                        strv_free(l);
                        return r;
                }
                strv_free(*(char ***) field(c, k));
                *(char ***) field(c, k) = l;
                return 0;
        }
        default:
                r = config_key_check_string(k, value, ret_why);
                if (r < 0)
                        return r;
                return free_and_strdup((char **) field(c, k), value);
        }
}

int config_init(struct config *c) {
        const char *why = NULL;

        memset(c, 0, sizeof(*c));
        for (size_t i = 0; i < config_n_keys; i++) {
                int r = set_value(c, &config_keys[i], config_keys[i].def, &why);
                if (r < 0) {
                        config_done(c);
                        return r == -ENOMEM ? r : -EINVAL;
                }
                c->sources[i] = (struct config_source) { .origin = CONFIG_DEFAULT };
        }
        return 0;
}

void config_done(struct config *c) {
        for (size_t i = 0; i < config_n_keys; i++) {
                const struct config_key *k = &config_keys[i];
                if (k->type == KEY_LIST)
                        strv_free(*(char ***) field(c, k));
                else if (config_key_is_string(k))
                        free(*(char **) field(c, k));
        }
        free(c->config_path);
        free(c->label_key);
        free(c->label_value);
        memset(c, 0, sizeof(*c));
}

static void range_text(const struct config_key *k, char *buf, size_t size) {
        char a[24], b[24];

        if (k->type == KEY_DURATION) {
                (void) config_format_duration(k->min, a, sizeof(a));
                (void) config_format_duration(k->max, b, sizeof(b));
                (void) snprintf(buf, size, "%.24s..%.24s", a, b);
        } else
                (void) snprintf(buf, size, "%" PRId64 "..%" PRId64, k->min, k->max);
}

/* Sets one key and reports a failure to err with the given location prefix. */
static int apply(struct config *c, size_t idx, const char *value, const char *where,
                 struct config_errors *err) {
        const struct config_key *k = &config_keys[idx];
        const char *why = "invalid value";
        char range[80] = "";
        int r;

        r = set_value(c, k, value, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (r == -ERANGE && k->type != KEY_PERCENT && k->type != KEY_SHARE)
                        range_text(k, range, sizeof(range));
                (void) config_errors_add(err, "%s: invalid value '%s' for '%s' in [%s]: %s%s%s", where,
                                         value, k->name, k->section, why, range[0] ? ", allowed " : "",
                                         range);
                return -EINVAL;
        }
        return 0;
}

int config_set_cli(struct config *c, const char *section, const char *key, const char *value,
                   const char *flag, struct config_errors *err) {
        _cleanup_(freep) char *where = NULL;
        ssize_t idx = config_key_find(section, key);
        int r;

        if (idx < 0)
                return -ENOENT;
        if (asprintf(&where, "command line: %s", flag) < 0)
                return -ENOMEM;
        r = apply(c, (size_t) idx, value, where, err);
        if (r < 0)
                return r;
        c->sources[idx] = (struct config_source) { .origin = CONFIG_CLI };
        return 0;
}

/* inih state: the reader counts lines itself (Debian's libinih does not pass them). */
struct ini_state {
        struct config *c;
        struct config_errors *err;
        FILE *f;
        const char *path;
        unsigned line;
        bool known_section;
        unsigned seen[CONFIG_MAX_KEYS];
        char *buf;
        size_t bufsize;
};

static bool section_known(const char *name, size_t len) {
        static const char *const sections[] = { "seeder", "preload", "registry", "plan", "kubernetes", "state",
                                                "log" };

        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                if (strlen(sections[i]) == len && strncmp(sections[i], name, len) == 0)
                        return true;
        return false;
}

/* Checks the syntax of a line inih is about to see; reports what inih would skip. */
static void check_line(struct ini_state *s, const char *p) {
        if (*p == '\0' || *p == '\n' || *p == ';' || *p == '#')
                return;
        if (*p == '[') {
                const char *e = strchr(p, ']');
                if (!e) {
                        (void) config_errors_add(s->err, "%s:%u: malformed section header", s->path,
                                                 s->line);
                        s->known_section = false;
                        return;
                }
                s->known_section = section_known(p + 1, (size_t) (e - p - 1));
                if (!s->known_section)
                        (void) config_errors_add(s->err, "%s:%u: unknown section [%.*s]", s->path,
                                                 s->line, (int) (e - p - 1), p + 1);
                return;
        }
        if (!strpbrk(p, "=:"))
                (void) config_errors_add(s->err, "%s:%u: expected 'key = value'", s->path, s->line);
}

static char *read_line(char *str, int num, void *stream) {
        struct ini_state *s = stream;
        ssize_t n = getline(&s->buf, &s->bufsize, s->f);
        const char *p;

        if (n < 0)
                return NULL;
        s->line++;
        p = s->buf;
        /* Leading spaces would make inih treat the line as a continuation: strip them. */
        while (*p == ' ' || *p == '\t')
                p++;
        check_line(s, p);
        if (strlen(p) >= (size_t) num)
                (void) config_errors_add(s->err, "%s:%u: line too long", s->path, s->line);
        (void) snprintf(str, (size_t) num, "%s", p);
        return str;
}

static int on_key(void *user, const char *section, const char *name, const char *value) {
        struct ini_state *s = user;
        _cleanup_(freep) char *where = NULL;
        ssize_t idx;

        if (!s->known_section)
                return 1; /* already reported with the section header */
        if (isempty(section)) {
                (void) config_errors_add(s->err, "%s:%u: key '%s' outside any section", s->path,
                                         s->line, name);
                return 1;
        }
        idx = config_key_find(section, name);
        if (idx < 0) {
                (void) config_errors_add(s->err, "%s:%u: unknown key '%s' in [%s]", s->path, s->line,
                                         name, section);
                return 1;
        }
        if (s->seen[idx]) {
                (void) config_errors_add(s->err, "%s:%u: duplicate key '%s' in [%s] (first set at line %u)",
                                         s->path, s->line, name, section, s->seen[idx]);
                return 1;
        }
        s->seen[idx] = s->line;
        if (asprintf(&where, "%s:%u", s->path, s->line) < 0)
                return 0;
        if (apply(s->c, (size_t) idx, value, where, s->err) == 0)
                s->c->sources[idx] = (struct config_source) { .origin = CONFIG_FILE, .line = s->line };
        return 1;
}

int config_load_file(struct config *c, const char *path, struct config_errors *err) {
        struct ini_state s = { .c = c, .err = err, .path = path, .known_section = true };
        int r;

        s.f = fopen(path, "re");
        if (!s.f) {
                r = -errno;
                if (r != -ENOENT)
                        (void) config_errors_add(err, "%s: cannot read: %s", path, strerror(-r));
                return r;
        }
        r = ini_parse_stream(read_line, &s, on_key, &s);
        (void) fclose(s.f);
        free(s.buf);
        if (r == -2)
                return -ENOMEM;
        if (r < 0)
                (void) config_errors_add(err, "%s: cannot read", path);
        return free_and_strdup(&c->config_path, path);
}
