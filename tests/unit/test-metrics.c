/* SPDX-License-Identifier: MIT */
/* metrics: the textfile is parsed back by a small Prometheus text-format parser (names,
 * HELP/TYPE before samples, escaped label values, numeric values) and checked value by
 * value; then the atomic write (mode 0644, replaces, leaves no temp file). */
#include "metrics.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "tap.h"

#define MAX_SAMPLES 64

struct sample {
        char name[128];
        char labels[512]; /* unescaped, "k=v,k=v" in file order */
        double value;
};

struct parsed {
        struct sample s[MAX_SAMPLES];
        size_t n;
        char typed[MAX_SAMPLES][128]; /* names with a TYPE line */
        char types[MAX_SAMPLES][16];
        size_t n_typed;
        size_t n_help;
};

static bool name_valid(const char *s, size_t len) {
        if (len == 0 || !(strchr("_:", s[0]) || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
                return false;
        for (size_t i = 1; i < len; i++)
                if (!(strchr("_:", s[i]) || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9')))
                        return false;
        return true;
}

static const char *type_of(const struct parsed *p, const char *name) {
        for (size_t i = 0; i < p->n_typed; i++)
                if (streq(p->typed[i], name))
                        return p->types[i];
        return NULL;
}

/* Parses {k="v",...} at *s; unescapes into out. Returns 0 or -EBADMSG. */
static int parse_labels(const char **s, char *out, size_t size) {
        size_t o = 0;
        const char *c = *s + 1;

        while (*c != '}') {
                const char *k = c;
                while (*c && *c != '=')
                        c++;
                if (*c != '=' || !name_valid(k, (size_t) (c - k)) || c[1] != '"')
                        return -EBADMSG;
                o += (size_t) snprintf(out + o, size - o, "%s%.*s=", o ? "," : "", (int) (c - k), k);
                for (c += 2; *c != '"'; c++) {
                        char ch = *c;
                        if (!ch || ch == '\n')
                                return -EBADMSG;
                        if (ch == '\\') {
                                c++;
                                ch = *c == 'n' ? '\n' : *c;
                                if (!strchr("\\\"n", *c))
                                        return -EBADMSG;
                        }
                        if (o + 1 < size)
                                out[o++] = ch;
                }
                out[o] = '\0';
                c++;
                if (*c == ',')
                        c++;
                else if (*c != '}')
                        return -EBADMSG;
        }
        *s = c + 1;
        return 0;
}

static int parse_comment(struct parsed *p, const char *line) {
        char name[128], type[16];

        if (sscanf(line, "# TYPE %127s %15s", name, type) == 2) {
                if (type_of(p, name) || p->n_typed >= MAX_SAMPLES)
                        return -EBADMSG; /* a second TYPE line for one name */
                if (!streq(type, "gauge") && !streq(type, "counter"))
                        return -EBADMSG;
                snprintf(p->typed[p->n_typed], sizeof(p->typed[0]), "%s", name);
                snprintf(p->types[p->n_typed++], sizeof(p->types[0]), "%s", type);
        } else if (sscanf(line, "# HELP %127s", name) == 1) {
                p->n_help++;
        }
        return 0;
}

static int parse_sample(struct parsed *p, const char *line) {
        struct sample *x;
        const char *c = line;
        char *end;

        if (p->n >= MAX_SAMPLES)
                return -E2BIG;
        x = &p->s[p->n];
        *x = (struct sample) {};
        while (*c && *c != '{' && *c != ' ')
                c++;
        if (!name_valid(line, (size_t) (c - line)))
                return -EBADMSG;
        snprintf(x->name, sizeof(x->name), "%.*s", (int) (c - line), line);
        if (!type_of(p, x->name))
                return -EBADMSG; /* every sample follows its TYPE line */
        if (*c == '{' && parse_labels(&c, x->labels, sizeof(x->labels)) < 0)
                return -EBADMSG;
        if (*c != ' ')
                return -EBADMSG;
        errno = 0;
        x->value = strtod(c + 1, &end);
        if (errno != 0 || end == c + 1 || *end != '\0')
                return -EBADMSG;
        p->n++;
        return 0;
}

/* Parses the whole text. Returns 0, or the negative errno of the first bad line, whose
 * number goes to *ret_line. */
static int parse(const char *text, struct parsed *p, int *ret_line) {
        _cleanup_(freep) char *copy = strdup(text);
        char *save = NULL;
        int line = 0, r = 0;

        *p = (struct parsed) {};
        if (!copy || !*text || text[strlen(text) - 1] != '\n')
                return -EBADMSG;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                line++;
                r = l[0] == '#' ? parse_comment(p, l) : parse_sample(p, l);
                if (r < 0) {
                        *ret_line = line;
                        return r;
                }
        }
        return 0;
}

/* The value of name{labels}, or -1 when absent. */
static double value(const struct parsed *p, const char *name, const char *labels) {
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->s[i].name, name) && streq(p->s[i].labels, labels))
                        return p->s[i].value;
        return -1;
}

static bool has(const struct parsed *p, const char *name) {
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->s[i].name, name))
                        return true;
        return false;
}

static struct tracker *fixture(void) {
        struct tracker *t = tracker_new();
        struct tracker_seeder *s;
        struct tracker_history h = { .id = (char *) "20260101t000000-aaaa", .started_at = 1000,
                                     .finished_at = 1100, .result = TRACKER_OUTCOME_OK };

        for (size_t p = 0; p < _TRACKER_PHASE_MAX; p++)
                h.phase_seconds[p] = -1;
        if (!t || tracker_history_add(t, &h) < 0)
                abort();
        h = (struct tracker_history) { .id = (char *) "20260101t010000-bbbb", .started_at = 5000,
                                       .finished_at = 5090, .result = TRACKER_OUTCOME_PARTIAL,
                                       .failures = 3, .not_applicable = 2, .seeders = 2, .images = 3 };
        for (size_t p = 0; p < _TRACKER_PHASE_MAX; p++)
                h.phase_seconds[p] = -1;
        h.phase_seconds[TRACKER_PHASE_SELECT] = 1;
        h.phase_seconds[TRACKER_PHASE_LABEL] = 2;
        h.phase_seconds[TRACKER_PHASE_PRELOAD] = 3;
        h.phase_seconds[TRACKER_PHASE_VERIFY] = 80;
        h.phase_seconds[TRACKER_PHASE_CLEANUP] = 4;
        if (tracker_history_add(t, &h) < 0)
                abort();
        if (tracker_seeder_add(t, "node-a", "z1", "amd64", 900, true, &s) < 0 ||
            tracker_seeder_set_image(s, "docker.io/library/nginx:1.27", NULL, 1000) < 0 ||
            tracker_seeder_set_image(s, "reg.example/odd\"name\\x:1", NULL, 1000) < 0)
                abort();
        if (tracker_seeder_add(t, "node-b", "z2", "amd64", 900, true, &s) < 0 ||
            tracker_seeder_set_image(s, "docker.io/library/nginx:1.27", NULL, 1000) < 0)
                abort();
        return t;
}

static const struct http_counter counters[] = {
        { .verb = "GET", .status = 200, .count = 41 },
        { .verb = "PATCH", .status = 200, .count = 2 },
        { .verb = "GET", .status = 0, .count = 1 },
        { .verb = "DELETE", .status = 404, .count = 5 },
};

static void test_values(void) {
        _cleanup_(tracker_freep) struct tracker *t = fixture();
        _cleanup_(freep) char *text = NULL, *cause = NULL;
        struct metrics_input in;
        struct parsed p;
        int line = 0;

        metrics_input_init(&in, t, 6000);
        in.target = 4;
        in.exit_code = 1;
        in.counters = counters;
        in.n_counters = ELEMENTSOF(counters);
        is_int(metrics_format(&in, &text, &cause), 0, "format");
        is_int(parse(text, &p, &line), 0, "the output parses (bad line %d)", line);
        if (line)
                printf("# %s", text);
        is_int(p.n_help, p.n_typed, "a HELP line for every TYPE line");
        is_int(value(&p, "clyde_seed_last_run_timestamp_seconds", ""), 6000, "last run = now");
        is_int(value(&p, "clyde_seed_last_success_timestamp_seconds", ""), 1100,
               "last success = the newest ok run, not the newer partial one");
        is_int(value(&p, "clyde_seed_last_exit_code", ""), 1, "exit code");
        is_int(value(&p, "clyde_seed_seeders", ""), 2, "seeders");
        is_int(value(&p, "clyde_seed_seeders_target", ""), 4, "target");
        is_int(value(&p, "clyde_seed_image_seeders", "image=docker.io/library/nginx:1.27"), 2, "nginx on 2");
        is_int(value(&p, "clyde_seed_image_seeders", "image=reg.example/odd\"name\\x:1"), 1,
               "quote and backslash survive escaping");
        ok(strstr(text, "image=\"reg.example/odd\\\"name\\\\x:1\"") != NULL, "escaped on the wire");
        is_int(value(&p, "clyde_seed_pull_failures", ""), 3, "failures of the newest run");
        is_int(value(&p, "clyde_seed_pulls_not_applicable", ""), 2, "platform mismatches of the newest run");
        is_int(value(&p, "clyde_seed_run_duration_seconds", ""), 90, "run duration");
        is_int(value(&p, "clyde_seed_phase_duration_seconds", "phase=verify"), 80, "verify duration");
        is_int(value(&p, "clyde_seed_phase_duration_seconds", "phase=select"), 1, "select duration");
        is_int(value(&p, "clyde_seed_phase_duration_seconds", "phase=cleanup"), 4, "cleanup duration");
        is_int(value(&p, "clyde_seed_phase_duration_seconds", "phase=done"), -1, "no 'done' phase");
        is_int(value(&p, "clyde_seed_api_requests_total", "verb=GET,code=200"), 41, "GET 200");
        is_int(value(&p, "clyde_seed_api_requests_total", "verb=GET,code=0"), 1, "GET without response");
        is_int(value(&p, "clyde_seed_api_requests_total", "verb=DELETE,code=404"), 5, "DELETE 404");
        is_str(type_of(&p, "clyde_seed_api_requests_total"), "counter", "requests are a counter");
        is_str(type_of(&p, "clyde_seed_seeders"), "gauge", "seeders is a gauge");
}

static void test_empty(void) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new();
        _cleanup_(freep) char *text = NULL;
        struct metrics_input in;
        struct parsed p;
        int line = 0;

        metrics_input_init(&in, t, 42);
        is_int(metrics_format(&in, &text, NULL), 0, "empty tracker formats");
        is_int(parse(text, &p, &line), 0, "and parses");
        is_int(value(&p, "clyde_seed_last_success_timestamp_seconds", ""), 0, "never succeeded: 0");
        is_int(value(&p, "clyde_seed_seeders", ""), 0, "no seeders");
        ok(!has(&p, "clyde_seed_seeders_target"), "unknown target left out");
        ok(!has(&p, "clyde_seed_last_exit_code"), "unknown exit code left out");
        ok(!has(&p, "clyde_seed_pull_failures"), "no finished run: no failures metric");
        ok(!has(&p, "clyde_seed_api_requests_total"), "no counters: no requests metric");
}

static void test_run_in_progress(void) {
        _cleanup_(tracker_freep) struct tracker *t = tracker_new();
        _cleanup_(freep) char *text = NULL;
        struct metrics_input in;
        struct parsed p;
        int line = 0;

        if (tracker_run_start(t, "20260101t000000-cccc", 100) < 0 ||
            tracker_run_add_image(t->run, "docker.io/library/redis:7", NULL) < 0)
                abort();
        t->run->target = 7;
        metrics_input_init(&in, t, 200);
        is_int(metrics_format(&in, &text, NULL), 0, "format with a run in progress");
        is_int(parse(text, &p, &line), 0, "and parses");
        is_int(value(&p, "clyde_seed_seeders_target", ""), 7, "target from the run in progress");
        is_int(value(&p, "clyde_seed_image_seeders", "image=docker.io/library/redis:7"), 0,
               "a wanted image nobody holds shows 0");
}

static void test_escape(void) {
        static const struct {
                const char *in, *out;
        } table[] = {
                { "plain", "plain" },
                { "a\"b", "a\\\"b" },
                { "a\\b", "a\\\\b" },
                { "a\nb", "a\\nb" },
                { "", "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_(freep) char *buf = NULL;
                size_t size = 0;
                FILE *f = open_memstream(&buf, &size);
                if (!f)
                        abort();
                metrics_escape_label(f, table[i].in);
                fclose(f);
                is_str(buf, table[i].out, "escape case %zu", i);
        }
}

static void test_parser_rejects(void) {
        struct parsed p;
        int line = 0;

        ok(parse("# TYPE x gauge\nx{a=\"b} 1\n", &p, &line) < 0, "parser rejects an open quote");
        ok(parse("y 1\n", &p, &line) < 0, "parser rejects a sample without TYPE");
        ok(parse("# TYPE x gauge\nx one\n", &p, &line) < 0, "parser rejects a bad value");
        ok(parse("# TYPE x gauge\nx 1", &p, &line) < 0, "parser rejects a missing final newline");
}

static int count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        if (!d)
                return -1;
        while ((e = readdir(d)))
                if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void test_write(void) {
        _cleanup_(tracker_freep) struct tracker *t = fixture();
        _cleanup_(freep) char *text = NULL, *cause = NULL, *path = NULL, *bad = NULL;
        char dir[] = "/tmp/test-metrics-XXXXXX";
        struct metrics_input in;
        struct stat st;
        size_t len = 0;
        FILE *f;

        if (!mkdtemp(dir) || asprintf(&path, "%s/clyde.prom", dir) < 0 ||
            asprintf(&bad, "%s/missing/clyde.prom", dir) < 0)
                abort();
        f = fopen(path, "w");
        if (!f)
                abort();
        fputs("old\n", f);
        fclose(f);
        (void) chmod(path, 0600);
        (void) umask(077);
        metrics_input_init(&in, t, 7000);
        is_int(metrics_write(path, &in, &cause), 0, "write");
        ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644, "mode 0644 whatever the umask");
        f = fopen(path, "r");
        if (f) {
                ssize_t k = getdelim(&text, &len, '\0', f);
                fclose(f);
                ok(k > 0 && strstr(text, "clyde_seed_last_run_timestamp_seconds 7000\n"), "new content replaced the old");
        } else
                ok(false, "read back");
        is_int(count_entries(dir), 1, "no temp file left behind");
        int r = metrics_write(bad, &in, &cause);
        ok(r < 0 && cause && strstr(cause, bad), "failure names the path: %s", strempty(cause));
        (void) unlink(path);
        (void) rmdir(dir);
}

int main(void) {
        test_values();
        test_empty();
        test_run_in_progress();
        test_escape();
        test_parser_rejects();
        test_write();
        return tap_done();
}
