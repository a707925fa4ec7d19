/* SPDX-License-Identifier: MIT */
/* Configuration: built-in defaults, /etc/clyde/seeder.ini (inih), then the command line.
 * Every key is described once, in the table in config.c; --check-config prints each
 * effective value with where it came from. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum config_origin {
        CONFIG_DEFAULT,
        CONFIG_FILE,
        CONFIG_CLI,
};

struct config_source {
        enum config_origin origin;
        unsigned line; /* CONFIG_FILE only */
};

enum { CONFIG_MAX_KEYS = 48 };

struct config {
        /* [seeder] */
        double percentage;    /* with percentage_auto: the fallback, 40 */
        bool percentage_auto; /* percentage = auto: the estimate's best share (plan.h) */
        char *label; /* "key=value" */
        int64_t min_seeders;
        int64_t max_seeders; /* 0: no maximum */
        char *node_selector;
        int64_t node_down_grace; /* seconds */
        char **tolerations;

        /* [preload] */
        char *images_file;
        char *namespace;
        int64_t images_per_daemonset;
        char *helper_image;
        int64_t pull_timeout;     /* seconds, per image */
        int64_t refresh_interval; /* seconds: tags are pulled again after this */
        char **image_pull_secrets;
        char *priority_class;
        char *cpu_request, *cpu_limit, *memory_request, *memory_limit; /* per container */
        char *run_as_user;         /* "auto" or a uid */
        int64_t pods_per_seeder;   /* puller pods (batches) started at once on one seeder */

        /* [registry] */
        bool registry_resolve;
        char **registry_mirrors;  /* "registry=URL" */
        char **registry_ca_files; /* "host[:port]=/file" */
        int64_t registry_timeout; /* seconds */
        double registry_max_disk_share; /* percent of ephemeral-storage capacity */

        /* [plan] */
        double node_link_rate; /* bytes/s */
        double registry_rate;  /* bytes/s; 0: the rate measured by earlier runs */

        /* [kubernetes] */
        char *kubeconfig;
        char *context;
        double qps;
        int64_t burst;
        int64_t max_in_flight;
        bool http2;
        int64_t page_size;
        int64_t connect_timeout; /* seconds */
        int64_t request_timeout; /* seconds */
        int64_t retry_attempts;
        int64_t api_deadline; /* seconds: a request with its retries gives up after this */

        /* [state] */
        char *base_dir;
        char *tracker_file;
        char *metrics_file; /* empty: none */

        /* [log] */
        int log_level;
        bool log_stdout;
        char *log_file; /* empty: none */
        char *log_journal; /* auto, yes, no */

        /* Not keys. */
        char *config_path;    /* the seeder.ini that was read, NULL when none */
        bool config_explicit; /* named with --config */
        char *label_key;      /* label split at '=' */
        char *label_value;
        long long run_as_uid; /* run_as_user parsed: -1 for auto (MANIFEST_RUN_AS_AUTO) */
        struct config_source sources[CONFIG_MAX_KEYS];
};

/* Error list: every problem is collected before the caller gives up. */
struct config_errors {
        char **lines;
        size_t n;
};

/* What percentage = auto falls back to without a measured rate. */
#define CONFIG_AUTO_FALLBACK_PERCENT 40.0

/* Fills c with the built-in defaults. Returns 0 or -ENOMEM. */
int config_init(struct config *c);
void config_done(struct config *c);

/* Reads an ini file into c, marking values as CONFIG_FILE with their line. Unknown
 * sections and keys, malformed lines, duplicates and bad values are appended to err as
 * "path:line: message". Returns 0 when the file was read (errors may have been added),
 * -ENOENT when it does not exist, other negative errno when unreadable (added to err). */
int config_load_file(struct config *c, const char *path, struct config_errors *err);

/* Sets section.key (e.g. "seeder", "percentage") from the command line. Errors go to err
 * as "command line: --flag: message" using flag for the name. Returns 0 or -EINVAL. */
int config_set_cli(struct config *c, const char *section, const char *key, const char *value,
                   const char *flag, struct config_errors *err);

/* Cross-checks values and resolves paths against base_dir (tracker, images, log, metrics
 * files; "-" and absolute paths are kept). Appends problems to err. */
int config_finish(struct config *c, struct config_errors *err);

/* Prints every key with its effective value and source, one per line. */
void config_dump(const struct config *c, FILE *f);

/* Pure value parsers, exported for tests. Return 0 or -EINVAL/-ERANGE with *ret untouched. */
int config_parse_duration(const char *s, int64_t *ret);
int config_parse_bool(const char *s, bool *ret);
int config_parse_percent(const char *s, double *ret);
/* A finite decimal: "nan", "inf", blanks and trailing text are -EINVAL. */
int config_parse_decimal(const char *s, double *ret);
int config_parse_list(const char *s, char ***ret);
/* A transfer rate in bytes/s: a positive decimal with a unit, decimal multiples as links
 * and registries are sold: bit, kbit, mbit, gbit (also "Mbit/s", "mbps") or B/s, kB/s,
 * MB/s, GB/s, and binary KiB/s, MiB/s, GiB/s. Units of bits are case-insensitive. */
int config_parse_rate(const char *s, double *ret);
/* Formats bytes/s the way config_parse_rate() reads back: "1000mbit" for whole
 * megabits, else "12.5MB/s". */
int config_format_rate(double bps, char *buf, size_t size);
int config_format_duration(int64_t seconds, char *buf, size_t size);
/* run_as_user: "auto" (stores -1) or a uid in 1..2147483647 (0 is root, which the pod's
 * runAsNonRoot forbids). ret may be NULL; on failure *ret_why says why. */
int config_parse_run_as(const char *s, long long *ret, const char **ret_why);

int config_errors_add(struct config_errors *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void config_errors_done(struct config_errors *err);
