/* SPDX-License-Identifier: MIT */
/* Test helper: resolves references with the registry client and prints one JSON line
 * each ({"ref", "rc", "digest", "platforms": [...], "requests", "heads", "cause"}).
 *   registry-resolve [-m registry=URL]... [-c host=CAFILE]... [-a dockerconfig.json]
 *                    [-k KNOWN_DIGEST] REF...
 * Every log line of the http layer goes to stderr, so a test can look for secrets there. */
#define _GNU_SOURCE 1
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "registry.h"
#include "util.h"

_printf_(3, 4) static void to_stderr(void *userdata, int prio, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        fprintf(stderr, "<%d> ", prio);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

static json_object *platforms(const struct registry_image *img) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < img->n_platforms; i++) {
                json_object *p = json_object_new_object();
                json_object_object_add(p, "os", json_object_new_string(img->platforms[i].os));
                json_object_object_add(p, "arch", json_object_new_string(img->platforms[i].arch));
                json_object_object_add(p, "size", json_object_new_int64(img->platforms[i].size));
                json_object_array_add(a, p);
        }
        return a;
}

static void resolve(struct registry_client *c, const char *s, const char *known) {
        struct image_ref ref = {};
        struct registry_image img = {};
        char *cause = NULL;
        json_object *o = json_object_new_object();
        int r = image_ref_parse(s, &ref, &cause);

        if (r >= 0)
                r = registry_resolve(c, &ref, known, &img, &cause);
        json_object_object_add(o, "ref", json_object_new_string(s));
        json_object_object_add(o, "rc", json_object_new_int(r));
        json_object_object_add(o, "digest", img.digest ? json_object_new_string(img.digest) : NULL);
        json_object_object_add(o, "index", json_object_new_boolean(img.index));
        json_object_object_add(o, "platforms", platforms(&img));
        json_object_object_add(o, "requests", json_object_new_int64((int64_t) registry_client_requests(c)));
        json_object_object_add(o, "heads", json_object_new_int64((int64_t) registry_client_heads(c)));
        json_object_object_add(o, "cause", cause ? json_object_new_string(cause) : NULL);
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        registry_image_done(&img);
        image_ref_done(&ref);
        free(cause);
}

int main(int argc, char **argv) {
        const char *mirrors[16] = {}, *cas[16] = {}, *known = NULL;
        size_t nm = 0, nc = 0;
        struct registry_hosts hosts = {};
        struct registry_creds creds = {};
        struct registry_client *c = NULL;
        char *buf = NULL, *cause = NULL;
        size_t len;
        int opt;

        while ((opt = getopt(argc, argv, "m:c:a:k:")) != -1) {
                if (opt == 'm' && nm < 15)
                        mirrors[nm++] = optarg;
                else if (opt == 'c' && nc < 15)
                        cas[nc++] = optarg;
                else if (opt == 'k')
                        known = optarg;
                else if (opt == 'a') {
                        if (read_full_file(optarg, 1 << 20, &buf, &len) < 0 ||
                            registry_dockerconfig_parse(buf, len, &creds, &cause) < 0) {
                                fprintf(stderr, "bad docker config: %s\n", strempty(cause));
                                return 2;
                        }
                        free(buf);
                } else
                        return 64;
        }
        if (registry_hosts_parse(mirrors, cas, &hosts, &cause) < 0) {
                fprintf(stderr, "bad table: %s\n", strempty(cause));
                return 2;
        }
        struct registry_options o = { .hosts = &hosts, .creds = &creds, .request_timeout_ms = 5000,
                                      .deadline_ms = 8000, .log = to_stderr };
        if (registry_client_new(&o, &c) < 0)
                return 1;
        for (int i = optind; i < argc; i++)
                resolve(c, argv[i], known);
        registry_client_free(c);
        registry_hosts_done(&hosts);
        registry_creds_done(&creds);
        return 0;
}
