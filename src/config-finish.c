/* SPDX-License-Identifier: MIT */
/* Cross-checks after all layers are applied, path resolution and --check-config output. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config-keys.h"
#include "log.h"
#include "macro.h"
#include "manifest.h"

/* Makes *p absolute against base unless it is empty, "-" or already absolute. */
static int resolve(char **p, const char *base) {
        char *n;

        if (isempty(*p) || streq(*p, "-") || (*p)[0] == '/')
                return 0;
        if (asprintf(&n, "%s/%s", base, *p) < 0)
                return -ENOMEM;
        free(*p);
        *p = n;
        return 0;
}

static int split_label(struct config *c) {
        const char *eq = strchr(c->label, '=');

        if (!eq)
                return -EINVAL;
        free(c->label_key);
        free(c->label_value);
        c->label_key = strndup(c->label, (size_t) (eq - c->label));
        c->label_value = strdup(eq + 1);
        return c->label_key && c->label_value ? 0 : -ENOMEM;
}

/* "seeder.ini:12: " for a key set in the file, "" otherwise. */
static void where(const struct config *c, const char *name, char *buf, size_t size) {
        ssize_t i = config_key_find("preload", name);

        buf[0] = '\0';
        if (i >= 0 && c->sources[i].origin == CONFIG_FILE)
                (void) snprintf(buf, size, "%s:%u: ", strempty(c->config_path), c->sources[i].line);
        else if (i >= 0 && c->sources[i].origin == CONFIG_CLI)
                (void) snprintf(buf, size, "command line: ");
}

/* A request above its limit is refused by the API server: say so before the run. */
static void check_request(const struct config *c, const char *req_key, const char *req, const char *lim_key,
                          const char *lim, struct config_errors *err) {
        int64_t r, l;
        char at[600];

        if (manifest_quantity_milli(req, &r) < 0 || manifest_quantity_milli(lim, &l) < 0 || r <= l)
                return;
        where(c, c->sources[config_key_find("preload", req_key)].origin != CONFIG_DEFAULT ? req_key : lim_key,
              at, sizeof(at));
        (void) config_errors_add(err, "%s%s '%s' is more than %s '%s' (the API server refuses a request above "
                                 "its limit)", at, req_key, req, lim_key, lim);
}

int config_finish(struct config *c, struct config_errors *err) {
        char **paths[] = { &c->tracker_file, &c->images_file, &c->log_file, &c->metrics_file };
        struct stat st;
        int r;

        r = split_label(c);
        if (r == -ENOMEM)
                return r;
        if (c->max_seeders > 0 && c->min_seeders > c->max_seeders)
                (void) config_errors_add(err, "min_seeders (%" PRId64 ") is larger than max_seeders (%" PRId64 ")",
                                         c->min_seeders, c->max_seeders);
        check_request(c, "cpu_request", c->cpu_request, "cpu_limit", c->cpu_limit, err);
        check_request(c, "memory_request", c->memory_request, "memory_limit", c->memory_limit, err);
        if (config_parse_run_as(c->run_as_user, &c->run_as_uid, &(const char *){ NULL }) < 0)
                c->run_as_uid = 0; /* already reported where it was set */
        if (stat(c->base_dir, &st) < 0)
                (void) config_errors_add(err, "base_dir '%s': %s", c->base_dir, strerror(errno));
        else if (!S_ISDIR(st.st_mode))
                (void) config_errors_add(err, "base_dir '%s' is not a directory", c->base_dir);
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                r = resolve(paths[i], c->base_dir);
                if (r < 0)
                        return r;
        }
        return err->n > 0 ? -EINVAL : 0;
}

static void format_value(const struct config *c, const struct config_key *k, char *buf, size_t size) {
        const void *p = (const char *) c + k->offset;

        switch (k->type) {
        case KEY_DURATION:
                (void) config_format_duration(*(const int64_t *) p, buf, size);
                break;
        case KEY_COUNT:
                (void) snprintf(buf, size, "%" PRId64, *(const int64_t *) p);
                break;
        case KEY_SHARE:
                if (c->percentage_auto)
                        (void) snprintf(buf, size, "auto");
                else
                        (void) snprintf(buf, size, "%g", *(const double *) p);
                break;
        case KEY_PERCENT:
        case KEY_DOUBLE:
                (void) snprintf(buf, size, "%g", *(const double *) p);
                break;
        case KEY_RATE:
                if (*(const double *) p <= 0)
                        buf[0] = '\0';
                else
                        (void) config_format_rate(*(const double *) p, buf, size);
                break;
        case KEY_BOOL:
                (void) snprintf(buf, size, "%s", *(const bool *) p ? "yes" : "no");
                break;
        case KEY_LEVEL:
                (void) snprintf(buf, size, "%s", log_level_to_string(*(const int *) p));
                break;
        case KEY_LIST: {
                size_t used = 0;
                buf[0] = '\0';
                for (char *const *s = *(char *const *const *) p; s && *s; s++) {
                        int n = snprintf(buf + used, size - used, "%s%s", used ? "," : "", *s);
                        if (n < 0 || (size_t) n >= size - used)
                                break;
                        used += (size_t) n;
                }
                break;
        }
        default:
                (void) snprintf(buf, size, "%s", strempty(*(char *const *) p));
        }
}

void config_dump(const struct config *c, FILE *f) {
        const char *section = NULL;

        for (size_t i = 0; i < config_n_keys; i++) {
                const struct config_key *k = &config_keys[i];
                const struct config_source *s = &c->sources[i];
                char value[1024], where[600];

                if (!section || !streq(section, k->section)) {
                        fprintf(f, "%s[%s]\n", section ? "\n" : "", k->section);
                        section = k->section;
                }
                format_value(c, k, value, sizeof(value));
                switch (s->origin) {
                case CONFIG_FILE:
                        (void) snprintf(where, sizeof(where), "%s:%u", strempty(c->config_path), s->line);
                        break;
                case CONFIG_CLI:
                        (void) snprintf(where, sizeof(where), "command line");
                        break;
                default:
                        (void) snprintf(where, sizeof(where), "default");
                }
                fprintf(f, "%-22s = %-40s # %s\n", k->name, value, where);
        }
}
