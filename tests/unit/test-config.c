/* SPDX-License-Identifier: MIT */
/* Configuration: typed values, seeder.ini errors with lines, precedence, paths, the CLI. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "config-keys.h"
#include "exitcode.h"
#include "macro.h"
#include "tap.h"
#include "util.h"

static char *data_path(const char *name) {
        char *p = NULL;
        const char *top = getenv("top_srcdir");

        if (asprintf(&p, "%s/tests/data/config/%s", top ? top : ".", name) < 0)
                abort();
        return p;
}

static void test_durations(void) {
        static const struct {
                const char *in;
                int64_t want; /* -1: invalid */
        } t[] = {
                { "30s", 30 },   { "5m", 300 },  { "2h", 7200 },     { "1d", 86400 }, { "1h30m", 5400 },
                { "90", 90 },    { "0", 0 },     { "", -1 },         { "5", 5 },      { "1m30", -1 },
                { "m", -1 },     { "5x", -1 },   { "-5s", -1 },      { "10 m", -1 },  { "1d2h3m4s", 93784 },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                int64_t v = -1;
                int r = config_parse_duration(t[i].in, &v);
                if (t[i].want < 0)
                        ok(r < 0, "duration '%s' is rejected", t[i].in);
                else
                        is_int(r == 0 ? v : -99, t[i].want, "duration '%s'", t[i].in);
        }
        char buf[32];
        ok(config_format_duration(5400, buf, sizeof(buf)) == 0 && streq(buf, "1h30m"), "format 5400s as 1h30m");
        ok(config_format_duration(0, buf, sizeof(buf)) == 0 && streq(buf, "0s"), "format 0 as 0s");
}

static void test_bools_percent(void) {
        static const char *const yes[] = { "yes", "TRUE", "on", "1", "Y" };
        static const char *const no[] = { "no", "False", "OFF", "0" };
        static const char *const bad[] = { "maybe", "", "2", "yess" };
        bool b;

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                ok(config_parse_bool(yes[i], &b) == 0 && b, "bool '%s' is true", yes[i]);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                ok(config_parse_bool(no[i], &b) == 0 && !b, "bool '%s' is false", no[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ok(config_parse_bool(bad[i], &b) < 0, "bool '%s' is rejected", bad[i]);

        static const struct {
                const char *in;
                double want; /* < 0: invalid */
        } p[] = { { "40", 40 }, { "0.5", 0.5 }, { "100", 100 }, { "12.5%", 12.5 }, { "0", -1 },
                  { "100.1", -1 }, { "-3", -1 }, { "abc", -1 }, { "", -1 }, { "nan", -1 }, { " 4", -1 } };
        for (size_t i = 0; i < ELEMENTSOF(p); i++) {
                double v = -1;
                int r = config_parse_percent(p[i].in, &v);
                if (p[i].want < 0)
                        ok(r < 0, "percentage '%s' is rejected", p[i].in);
                else
                        ok(r == 0 && v == p[i].want, "percentage '%s' is %g", p[i].in, p[i].want);
        }
}

static void test_decimals(void) {
        static const struct {
                const char *in;
                double want; /* < 0: invalid */
        } d[] = { { "20", 20 }, { "0.25", 0.25 }, { "1e3", 1000 }, { "nan", -1 }, { "NaN", -1 },
                  { "-nan", -1 }, { "inf", -1 }, { "-inf", -1 }, { "Infinity", -1 }, { "1e999", -1 },
                  { "", -1 }, { " 5", -1 }, { "5 ", -1 }, { "5x", -1 } };
        for (size_t i = 0; i < ELEMENTSOF(d); i++) {
                double v = -1;
                int r = config_parse_decimal(d[i].in, &v);
                if (d[i].want < 0)
                        ok(r == -EINVAL && v == -1, "decimal '%s' is rejected", d[i].in);
                else
                        ok(r == 0 && v == d[i].want, "decimal '%s' is %g", d[i].in, d[i].want);
        }
}

/* Every decimal key, from a file: a non-finite value is an error naming file:line. */
static void test_nonfinite_keys(void) {
        static const char *const values[] = { "nan", "inf", "-inf", "infinity", "NAN" };
        size_t tested = 0;

        for (size_t i = 0; i < config_n_keys; i++) {
                const struct config_key *k = &config_keys[i];
                if (k->type != KEY_DOUBLE && k->type != KEY_PERCENT && k->type != KEY_SHARE)
                        continue;
                for (size_t j = 0; j < ELEMENTSOF(values); j++) {
                        _cleanup_(config_done) struct config c = {};
                        _cleanup_(config_errors_done) struct config_errors err = {};
                        _cleanup_(freep) char *want = NULL;
                        char path[] = "/tmp/test-config-XXXXXX";
                        int fd = mkstemp(path);
                        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

                        if (!f || fprintf(f, "[%s]\n# comment\n%s = %s\n", k->section, k->name, values[j]) < 0 ||
                            fclose(f) != 0) {
                                ok(false, "cannot write %s", path);
                                continue;
                        }
                        config_init(&c);
                        (void) config_load_file(&c, path, &err);
                        (void) unlink(path);
                        if (asprintf(&want, "%s:3: invalid value '%s' for '%s' in [%s]: expected a ", path, values[j],
                                     k->name, k->section) < 0)
                                want = NULL;
                        ok(want && err.n == 1 && startswith(err.lines[0], want), "[%s] %s = %s: rejected at file:3",
                           k->section, k->name, values[j]);
                        for (size_t e = 0; e < err.n; e++)
                                printf("# %s\n", err.lines[e]);
                        tested++;
                }
        }
        ok(tested >= 2 * ELEMENTSOF(values), "the decimal keys (percentage, qps, ...) were all tried (%zu cases)",
           tested);
}

static void test_lists(void) {
        _cleanup_(strv_freep) char **l = NULL;

        ok(config_parse_list(" a, b ,,c  d", &l) == 0, "list parses");
        ok(l && l[0] && streq(l[0], "a") && streq(l[1], "b") && streq(l[2], "c") && streq(l[3], "d") && !l[4],
           "list items are split on commas and spaces");
}

static void test_defaults(void) {
        _cleanup_(config_done) struct config c = {};

        is_int(config_init(&c), 0, "defaults load");
        ok(c.percentage == 40.0, "default percentage 40");
        is_str(c.label, "p2p-seeder=true", "default label");
        is_str(c.namespace, "default", "default namespace");
        is_str(c.images_file, "images.txt", "default images file");
        is_str(c.tracker_file, "seeder_tracker.json", "default tracker file");
        is_str(c.log_file, "seeder.log", "default log file");
        is_str(c.base_dir, ".", "default base dir");
        ok(c.log_stdout, "stdout on by default");
        is_int(c.node_down_grace, 600, "default node_down_grace 10m");
        for (size_t i = 0; i < config_n_keys; i++)
                if (c.sources[i].origin != CONFIG_DEFAULT) {
                        ok(false, "key %s has a default source", config_keys[i].name);
                        return;
                }
        ok(true, "every key's source is 'default'");
}

static void test_good_file(void) {
        _cleanup_(config_done) struct config c = {};
        _cleanup_(config_errors_done) struct config_errors err = {};
        _cleanup_(freep) char *path = data_path("good.ini");

        config_init(&c);
        is_int(config_load_file(&c, path, &err), 0, "good.ini loads");
        is_int(err.n, 0, "good.ini has no errors");
        for (size_t i = 0; i < err.n; i++)
                printf("# %s\n", err.lines[i]);
        ok(c.percentage == 25.5, "percentage from file");
        is_str(c.label, "example.com/seeder=yes", "label from file");
        is_int(c.node_down_grace, 5400, "grace 1h30m");
        ok(c.tolerations && streq(c.tolerations[0], "dedicated=p2p:NoSchedule") &&
                   streq(c.tolerations[1], "example.com/spot") && !c.tolerations[2],
           "tolerations list");
        is_int(c.images_per_daemonset, 5, "images_per_daemonset");
        ok(c.qps == 50.0, "qps 50");
        is_int(c.log_level, 7, "level debug");
        ok(!c.log_stdout, "stdout off");
        is_str(c.log_file, "", "log file disabled by empty value");
        ssize_t k = config_key_find("seeder", "percentage");
        ok(k >= 0 && c.sources[k].origin == CONFIG_FILE && c.sources[k].line == 3,
           "percentage source is good.ini:3");
        k = config_key_find("kubernetes", "burst");
        ok(k >= 0 && c.sources[k].line == 16, "burst source is line 16");
}

static void test_bad_file(void) {
        static const char *const want[] = {
                ":3: unknown key 'forks' in [seeder]",
                ":4: invalid value '150' for 'percentage' in [seeder]: expected a percentage in (0, 100]",
                ":5: invalid value 'no-equals-sign' for 'label' in [seeder]",
                ":6: invalid value '10 minutes' for 'node_down_grace'",
                ":7: invalid value '-1' for 'min_seeders' in [seeder]: expected a whole number",
                ":9: invalid value '0' for 'images_per_daemonset' in [preload]: out of range, allowed 1..50",
                ":10: invalid value 'UPPER/Case:tag' for 'helper_image'",
                ":11: invalid value 'Not_A_Namespace' for 'namespace'",
                ":12: unknown section [nonsense]",
                ":15: invalid value 'LOUD' for 'level' in [log]",
                ":16: invalid value 'maybe' for 'stdout' in [log]",
                ":17: duplicate key 'level' in [log] (first set at line 15)",
                ":18: expected 'key = value'",
        };
        _cleanup_(config_done) struct config c = {};
        _cleanup_(config_errors_done) struct config_errors err = {};
        _cleanup_(freep) char *path = data_path("bad.ini");

        config_init(&c);
        config_load_file(&c, path, &err);
        is_int(err.n, ELEMENTSOF(want), "bad.ini: every mistake reported, nothing else");
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                bool found = false;
                for (size_t j = 0; j < err.n; j++)
                        if (strstr(err.lines[j], want[i]) && startswith(err.lines[j], path))
                                found = true;
                ok(found, "error '%s' reported with the file name", want[i]);
        }
        for (size_t j = 0; j < err.n; j++)
                printf("# %s\n", err.lines[j]);
        ok(c.percentage == 40.0, "a rejected value leaves the default in place");
}

static void test_missing_file(void) {
        _cleanup_(config_done) struct config c = {};
        _cleanup_(config_errors_done) struct config_errors err = {};

        config_init(&c);
        is_int(config_load_file(&c, "/nonexistent/seeder.ini", &err), -ENOENT, "missing file is -ENOENT");
        is_int(err.n, 0, "a missing file adds no error by itself");
}


static void test_rates(void) {
        static const struct {
                const char *in;
                double want; /* bytes/s; < 0: invalid */
        } d[] = { { "1000mbit", 125e6 }, { "1Gbit", 125e6 },    { "100Mbit/s", 12.5e6 }, { "50mbps", 6.25e6 },
                  { "800kbit", 1e5 },    { "125MB/s", 125e6 },  { "1.5GB/s", 1.5e9 },    { "10MiB/s", 10485760 },
                  { "8bit", 1 },         { "0mbit", -1 },       { "-5mbit", -1 },        { "100", -1 },
                  { "100 mbit", -1 },    { "mbit", -1 },        { "100mb/s", -1 },       { "nanmbit", -1 },
                  { "100mbit/h", -1 },   { "", -1 } };
        char buf[32];

        for (size_t i = 0; i < ELEMENTSOF(d); i++) {
                double v = -1;
                int r = config_parse_rate(d[i].in, &v);
                if (d[i].want < 0)
                        ok(r == -EINVAL && v == -1, "rate '%s' is rejected", d[i].in);
                else
                        ok(r == 0 && v == d[i].want, "rate '%s' is %g B/s (got %g)", d[i].in, d[i].want, v);
        }
        ok(config_format_rate(125e6, buf, sizeof(buf)) == 0 && streq(buf, "1000mbit"), "125 MB/s prints as 1000mbit");
        ok(config_format_rate(1234567, buf, sizeof(buf)) == 0 && streq(buf, "1.23457MB/s"), "1234567 B/s prints as "
           "1.23457MB/s (got %s)", buf);
}

/* Writes text to a temp file and loads it; returns the errors in err. */
static void load_text(struct config *c, struct config_errors *err, const char *text, char *path) {
        int fd;

        strcpy(path, "/tmp/test-config-plan-XXXXXX");
        fd = mkstemp(path);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                abort();
        config_init(c);
        (void) config_load_file(c, path, err);
        (void) unlink(path);
}

/* percentage = auto, --seeder-percentage auto, and the [plan] keys, good and bad. */
static void test_auto_and_plan(void) {
        _cleanup_(config_done) struct config c = {};
        _cleanup_(config_errors_done) struct config_errors err = {};
        char path[] = "/tmp/test-config-plan-XXXXXX";

        config_init(&c);
        ok(!c.percentage_auto && c.percentage == 40 && c.node_link_rate == 125e6 && c.registry_rate == 0,
           "defaults: 40%%, no auto, link 1000mbit, registry rate measured");
        config_done(&c);
        load_text(&c, &err, "[seeder]\npercentage = auto\n[plan]\nnode_link_rate = 10gbit\nregistry_rate = 50MB/s\n",
                  path);
        ok(err.n == 0 && c.percentage_auto && c.percentage == CONFIG_AUTO_FALLBACK_PERCENT &&
                   c.node_link_rate == 1.25e9 && c.registry_rate == 50e6,
           "auto, 10gbit and 50MB/s from the file");
        is_int(config_set_cli(&c, "seeder", "percentage", "25", "--seeder-percentage", &err), 0, "CLI 25");
        ok(!c.percentage_auto && c.percentage == 25, "a number on the command line ends auto");
        is_int(config_set_cli(&c, "seeder", "percentage", "auto", "--seeder-percentage", &err), 0, "CLI auto");
        ok(c.percentage_auto && c.percentage == 40, "--seeder-percentage auto");
        is_int(config_set_cli(&c, "seeder", "percentage", "automatic", "--seeder-percentage", &err), -EINVAL,
               "CLI 'automatic' refused");
        ok(err.n == 1 && startswith(err.lines[0], "command line: --seeder-percentage: invalid value 'automatic'"),
           "named: %s", err.n ? err.lines[0] : "(none)");
        config_done(&c);
        config_errors_done(&err);
        load_text(&c, &err, "[seeder]\npercentage = Auto\n[plan]\nnode_link_rate = fast\nregistry_rate = 0mbit\n"
                  "link = 1\n", path);
        ok(err.n == 4, "four mistakes, four errors (got %zu)", err.n);
        static const char *const want[] = {
                ":2: invalid value 'Auto' for 'percentage' in [seeder]: expected a percentage in (0, 100] or auto",
                ":4: invalid value 'fast' for 'node_link_rate' in [plan]: expected a rate such as 100mbit",
                ":5: invalid value '0mbit' for 'registry_rate' in [plan]",
                ":6: unknown key 'link' in [plan]",
        };
        for (size_t i = 0; i < ELEMENTSOF(want) && i < err.n; i++)
                ok(startswith(err.lines[i], path) && strstr(err.lines[i], want[i]), "file:line %s", err.lines[i]);
        ok(!c.percentage_auto && c.node_link_rate == 125e6, "bad values leave the defaults");
}

int main(void) {
        test_durations();
        test_rates();
        test_auto_and_plan();
        test_bools_percent();
        test_decimals();
        test_nonfinite_keys();
        test_lists();
        test_defaults();
        test_good_file();
        test_bad_file();
        test_missing_file();
        return tap_done();
}
