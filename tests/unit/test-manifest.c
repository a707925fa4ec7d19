/* SPDX-License-Identifier: MIT */
/* The puller DaemonSet: every field, names, batching, refusals. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "images.h"
#include "labelsel.h"
#include "macro.h"
#include "manifest.h"
#include "tap.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Follows a path like "spec.template.spec.containers[1].name"; NULL when missing. */
static json_object *at(json_object *o, const char *path) {
        char buf[256], *save = NULL, *tok;

        snprintf(buf, sizeof(buf), "%s", path);
        for (tok = strtok_r(buf, ".", &save); o && tok; tok = strtok_r(NULL, ".", &save)) {
                char *br = strchr(tok, '[');
                size_t idx = 0;
                if (br) {
                        idx = strtoul(br + 1, NULL, 10);
                        *br = '\0';
                }
                if (*tok && !json_object_object_get_ex(o, tok, &o))
                        return NULL;
                if (br)
                        o = json_object_is_type(o, json_type_array) && idx < json_object_array_length(o)
                                    ? json_object_array_get_idx(o, idx)
                                    : NULL;
        }
        return o;
}

static const char *str_at(json_object *o, const char *path) {
        json_object *v = at(o, path);

        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static long long int_at(json_object *o, const char *path) {
        json_object *v = at(o, path);

        return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -999;
}

/* 1 true, 0 false, -1 missing or not a boolean */
static int bool_at(json_object *o, const char *path) {
        json_object *v = at(o, path);

        return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : -1;
}

static size_t len_at(json_object *o, const char *path) {
        json_object *v = at(o, path);

        return v && json_object_is_type(v, json_type_array) ? json_object_array_length(v) : (size_t) -1;
}

static const char *const images[] = {
        "docker.io/library/nginx:1.27",
        "ghcr.io/org/distroless@sha256:" D64,
        "docker.io/library/redis:7@sha256:" D64,
};
static const char *const names[] = { "nginx-1-27", "distroless-0123456789ab", "redis-7" };
static const char *const nodes[] = { "node-a", "node-b" };
static const char *const secrets[] = { "regcred" };

static struct manifest_params params(void) {
        return (struct manifest_params){
                .namespace = "clyde-seed",
                .name = "clyde-seed-r1-0",
                .run_id = "r1",
                .batch = 0,
                .part = 3,
                .images = images,
                .container_names = names,
                .n_images = ELEMENTSOF(images),
                .label_key = "clyde-seed.io/seeder",
                .label_value = "true",
                .nodes = nodes,
                .n_nodes = ELEMENTSOF(nodes),
        };
}

static void check_labels(json_object *ds, const char *where) {
        ok(at(ds, where) && json_object_object_length(at(ds, where)) == 5, "%s has 5 labels", where);
        {
                json_object *l = at(ds, where), *v;
                ok(json_object_object_get_ex(l, "app.kubernetes.io/managed-by", &v) &&
                           streq(json_object_get_string(v), "clyde-seed"),
                   "%s managed-by", where);
                ok(json_object_object_get_ex(l, "app.kubernetes.io/name", &v) &&
                           streq(json_object_get_string(v), "clyde-seed"),
                   "%s name", where);
                ok(json_object_object_get_ex(l, "clyde-seed/run", &v) && streq(json_object_get_string(v), "r1"),
                   "%s run", where);
                ok(json_object_object_get_ex(l, "clyde-seed/batch", &v) && streq(json_object_get_string(v), "0"),
                   "%s batch", where);
                ok(json_object_object_get_ex(l, "clyde-seed/part", &v) && streq(json_object_get_string(v), "3"),
                   "%s part", where);
        }
}

static void check_container_common(json_object *c, const char *what, bool ro) {
        /* requests = limits: a LimitRange with maxLimitRequestRatio 1 admits the pod */
        is_str(str_at(c, "resources.requests.cpu"), "10m", "%s cpu request", what);
        is_str(str_at(c, "resources.requests.memory"), "16Mi", "%s memory request", what);
        is_str(str_at(c, "resources.limits.cpu"), "10m", "%s cpu limit", what);
        is_str(str_at(c, "resources.limits.memory"), "16Mi", "%s memory limit", what);
        is_int(bool_at(c, "securityContext.allowPrivilegeEscalation"), 0, "%s no privilege escalation", what);
        is_int(bool_at(c, "securityContext.readOnlyRootFilesystem"), 1, "%s read-only root", what);
        is_int(bool_at(c, "securityContext.runAsNonRoot"), 1, "%s runAsNonRoot", what);
        is_int(int_at(c, "securityContext.runAsUser"), 65534, "%s runAsUser", what);
        is_int(len_at(c, "securityContext.capabilities.drop"), 1, "%s drops one entry", what);
        is_str(str_at(c, "securityContext.capabilities.drop[0]"), "ALL", "%s drops ALL", what);
        is_str(str_at(c, "securityContext.seccompProfile.type"), "RuntimeDefault", "%s seccomp", what);
        is_str(str_at(c, "volumeMounts[0].name"), "clyde-seed-bin", "%s mounts the volume", what);
        is_str(str_at(c, "volumeMounts[0].mountPath"), "/clyde-seed", "%s mount path", what);
        is_int(bool_at(c, "volumeMounts[0].readOnly"), ro ? 1 : -1, "%s mount read-only: %d", what, ro);
}

static void test_structure(void) {
        struct manifest_params p = params();
        json_object *ds = NULL, *spec, *c;
        char *why = NULL;

        is_int(manifest_build(&p, &ds, &why), 0, "build (%s)", strempty(why));
        is_str(str_at(ds, "apiVersion"), "apps/v1", "apiVersion");
        is_str(str_at(ds, "kind"), "DaemonSet", "kind");
        is_str(str_at(ds, "metadata.name"), "clyde-seed-r1-0", "name");
        is_str(str_at(ds, "metadata.namespace"), "clyde-seed", "namespace");
        check_labels(ds, "metadata.labels");
        check_labels(ds, "spec.selector.matchLabels");
        check_labels(ds, "spec.template.metadata.labels");
        ok(json_object_equal(at(ds, "spec.selector.matchLabels"), at(ds, "spec.template.metadata.labels")),
           "selector equals template labels");
        is_str(str_at(ds, "spec.updateStrategy.type"), "OnDelete", "updateStrategy OnDelete");

        spec = at(ds, "spec.template.spec");
        is_int(bool_at(spec, "automountServiceAccountToken"), 0, "no service account token");
        is_int(bool_at(spec, "enableServiceLinks"), 0, "no service links");
        is_int(int_at(spec, "terminationGracePeriodSeconds"), 1, "grace 1 s");
        is_str(str_at(spec, "restartPolicy"), "Always", "restartPolicy Always");
        ok(json_object_object_length(at(spec, "nodeSelector")) == 1, "nodeSelector has one entry");
        {
                json_object *v;
                ok(json_object_object_get_ex(at(spec, "nodeSelector"), "clyde-seed.io/seeder", &v) &&
                           streq(json_object_get_string(v), "true"),
                   "nodeSelector is the seeder label");
        }
        /* One term per node, one value per term: the real API server refuses more than one
         * value for In on a node field selector (ValidateNodeFieldSelectorRequirement). */
        is_int(len_at(spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"),
               2, "one node selector term per node");
        for (size_t i = 0; i < 2; i++) {
                char path[160];
                snprintf(path, sizeof(path),
                         "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[%zu]", i);
                c = at(spec, path);
                is_int(json_object_object_length(c), 1, "term %zu has only matchFields", i);
                is_int(len_at(c, "matchFields"), 1, "term %zu: one requirement", i);
                is_str(str_at(c, "matchFields[0].key"), "metadata.name", "term %zu: key", i);
                is_str(str_at(c, "matchFields[0].operator"), "In", "term %zu: operator", i);
                is_int(len_at(c, "matchFields[0].values"), 1, "term %zu: exactly one value", i);
                is_str(str_at(c, "matchFields[0].values[0]"), i == 0 ? "node-a" : "node-b", "term %zu: node", i);
        }
        ok(!at(spec, "tolerations"), "no tolerations by default");
        ok(!at(spec, "imagePullSecrets"), "no pull secrets by default");
        ok(!at(spec, "priorityClassName"), "no priority class by default");
        is_int(bool_at(spec, "securityContext.runAsNonRoot"), 1, "pod runAsNonRoot");
        is_int(int_at(spec, "securityContext.runAsUser"), 65534, "pod runAsUser");
        is_str(str_at(spec, "securityContext.seccompProfile.type"), "RuntimeDefault", "pod seccomp");
        is_str(str_at(spec, "volumes[0].name"), "clyde-seed-bin", "volume");
        ok(at(spec, "volumes[0].emptyDir"), "emptyDir volume");

        is_int(len_at(spec, "initContainers"), 1, "one init container");
        c = at(spec, "initContainers[0]");
        is_str(str_at(c, "name"), IMAGES_RESERVED_NAME, "init container name");
        is_str(str_at(c, "image"), "docker.io/library/busybox:1.36.1-musl", "default helper image (static musl)");
        is_str(str_at(c, "imagePullPolicy"), "IfNotPresent", "helper pull policy");
        is_str(str_at(c, "command[0]"), "/bin/busybox", "init runs busybox");
        is_str(str_at(c, "command[1]"), "cp", "init copies");
        is_str(str_at(c, "command[3]"), "/clyde-seed/sleep", "into the emptyDir as 'sleep'");
        check_container_common(c, "init", false);

        is_int(len_at(spec, "containers"), 3, "one container per image");
        for (size_t i = 0; i < 3; i++) {
                char what[32];
                c = at(spec, "containers");
                c = json_object_array_get_idx(c, i);
                snprintf(what, sizeof(what), "container %zu", i);
                is_str(str_at(c, "name"), names[i], "%s name", what);
                is_str(str_at(c, "image"), images[i], "%s image", what);
                is_int(len_at(c, "command"), 2, "%s command has 2 words", what);
                is_str(str_at(c, "command[0]"), "/clyde-seed/sleep", "%s runs the copied binary", what);
                is_str(str_at(c, "command[1]"), "2147483647", "%s sleeps", what);
                ok(!at(c, "args"), "%s has no args", what);
                check_container_common(c, what, true);
        }
        is_str(str_at(spec, "containers[0].imagePullPolicy"), "Always", "tag: Always");
        is_str(str_at(spec, "containers[1].imagePullPolicy"), "IfNotPresent", "digest: IfNotPresent");
        is_str(str_at(spec, "containers[2].imagePullPolicy"), "IfNotPresent", "tag+digest: IfNotPresent");
        json_object_put(ds);
        free(why);
}

static void test_options(void) {
        static const char *const tol_specs[] = { "dedicated=seed:NoSchedule", "gpu", "*:NoExecute" };
        struct manifest_params p = params();
        struct toleration *tols = NULL;
        json_object *ds = NULL, *spec;

        is_int(toleration_parse_many(tol_specs, 3, &tols, NULL), 0, "tolerations parse");
        p.tolerations = tols;
        p.n_tolerations = 3;
        p.pull_secrets = secrets;
        p.n_pull_secrets = 1;
        p.priority_class = "system-node-critical";
        p.helper_image = "registry.local/busybox:1.36.1-musl";
        p.cpu_request = "5m";
        p.memory_limit = "64Mi";
        p.run_as_user = 1000680000;
        is_int(manifest_build(&p, &ds, NULL), 0, "build with options");
        spec = at(ds, "spec.template.spec");
        is_int(len_at(spec, "tolerations"), 3, "3 tolerations");
        is_str(str_at(spec, "tolerations[0].key"), "dedicated", "toleration key");
        is_str(str_at(spec, "tolerations[0].operator"), "Equal", "toleration Equal");
        is_str(str_at(spec, "tolerations[0].value"), "seed", "toleration value");
        is_str(str_at(spec, "tolerations[0].effect"), "NoSchedule", "toleration effect");
        is_str(str_at(spec, "tolerations[1].operator"), "Exists", "toleration Exists");
        ok(!at(spec, "tolerations[1].effect"), "no effect = all effects");
        ok(!at(spec, "tolerations[1].value"), "Exists has no value");
        ok(!at(spec, "tolerations[2].key"), "'*' has no key");
        is_str(str_at(spec, "tolerations[2].effect"), "NoExecute", "'*:NoExecute' effect");
        is_str(str_at(spec, "imagePullSecrets[0].name"), "regcred", "pull secret");
        is_str(str_at(spec, "priorityClassName"), "system-node-critical", "priority class");
        is_str(str_at(spec, "initContainers[0].image"), "registry.local/busybox:1.36.1-musl", "helper image");
        is_str(str_at(spec, "containers[0].resources.requests.cpu"), "5m", "cpu request override");
        is_str(str_at(spec, "containers[0].resources.limits.memory"), "64Mi", "memory limit override");
        is_int(int_at(spec, "securityContext.runAsUser"), 1000680000, "run_as_user N: pod runAsUser");
        is_int(int_at(spec, "containers[0].securityContext.runAsGroup"), 1000680000, "run_as_user N: runAsGroup");
        json_object_put(ds);
        ds = NULL;
        p.run_as_user = MANIFEST_RUN_AS_AUTO;
        is_int(manifest_build(&p, &ds, NULL), 0, "build with run_as_user auto");
        spec = at(ds, "spec.template.spec");
        ok(!at(spec, "securityContext.runAsUser") && !at(spec, "securityContext.runAsGroup"), "auto: pod uid unset");
        ok(!at(spec, "initContainers[0].securityContext.runAsUser") &&
                   !at(spec, "containers[1].securityContext.runAsGroup"),
           "auto: container uid and gid unset");
        is_int(bool_at(spec, "securityContext.runAsNonRoot"), 1, "auto: runAsNonRoot kept (pod)");
        is_int(bool_at(spec, "containers[2].securityContext.runAsNonRoot"), 1, "auto: runAsNonRoot kept (container)");
        is_str(str_at(spec, "containers[0].resources.requests.memory"), "16Mi", "other defaults kept");
        json_object_put(ds);
        toleration_array_free(tols, 3);
}

static void test_refusals(void) {
        static const char *const dup_names[] = { "nginx", "nginx", "x" };
        static const char *const reserved[] = { "nginx", IMAGES_RESERVED_NAME, "x" };
        static const char *const upper[] = { "Nginx", "a", "b" };
        static const char *const empty_node[] = { "node-a", "" };
        struct {
                const char *what, *cause;
                struct manifest_params p;
        } cases[14];
        size_t n = 0;
        json_object *ds = NULL;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                cases[i].p = params();
        cases[n].what = "duplicate container names", cases[n].cause = "used twice", cases[n++].p.container_names = dup_names;
        cases[n].what = "reserved name", cases[n].cause = "reserved", cases[n++].p.container_names = reserved;
        cases[n].what = "uppercase name", cases[n].cause = "DNS-1123", cases[n++].p.container_names = upper;
        cases[n].what = "no images", cases[n].cause = "no image", cases[n++].p.n_images = 0;
        cases[n].what = "no nodes", cases[n].cause = "no node", cases[n++].p.n_nodes = 0;
        cases[n].what = "empty node", cases[n].cause = "node name", cases[n++].p.nodes = empty_node;
        cases[n].what = "bad namespace", cases[n].cause = "namespace", cases[n++].p.namespace = "Bad_NS";
        cases[n].what = "bad run id", cases[n].cause = "run id", cases[n++].p.run_id = "has space";
        cases[n].what = "bad label key", cases[n].cause = "label key", cases[n++].p.label_key = "-x";
        cases[n].what = "bad quantity", cases[n].cause = "quantity", cases[n++].p.memory_limit = "32 MiB";
        cases[n].what = "cpu request above limit", cases[n].cause = "cpu request '20m' is more than its limit '10m'";
        cases[n++].p.cpu_request = "20m";
        cases[n].what = "memory request above limit", cases[n].cause = "memory request";
        cases[n].p.memory_request = "1Gi", cases[n++].p.memory_limit = "1000Mi";
        cases[n].what = "negative uid", cases[n].cause = "run_as_user", cases[n++].p.run_as_user = -5;
        cases[n].what = "too many nodes", cases[n].cause = "more than 1000", cases[n++].p.n_nodes = 1001;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *why = NULL;
                is_int(manifest_build(&cases[i].p, &ds, &why), -EINVAL, "refused: %s", cases[i].what);
                ok(why && strstr(why, cases[i].cause), "%s: cause '%s'", cases[i].what, strempty(why));
        }
        ok(!ds, "nothing built");
}

static void test_names(void) {
        static const struct {
                const char *run_id;
                unsigned batch;
                const char *want;
        } cases[] = {
                { "r1", 0, "clyde-seed-r1-0-0" },
                { "20250101T120000Z-ab12", 3, "clyde-seed-20250101t120000z-ab12-3-0" },
                { "--Run__ID..x--", 12, "clyde-seed-run-id-x-12-0" },
        };
        char long_id[200], *name = NULL, *other = NULL, *why = NULL;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                is_int(manifest_daemonset_name(cases[i].run_id, cases[i].batch, 0, &name, NULL), 0, "name for %s",
                       cases[i].run_id);
                is_str(name, cases[i].want, "name for '%s'", cases[i].run_id);
                free(name);
        }
        memset(long_id, 'z', sizeof(long_id));
        long_id[sizeof(long_id) - 1] = '\0';
        is_int(manifest_daemonset_name(long_id, 4294967295u, 7, &name, NULL), 0, "long run id");
        ok(strlen(name) <= 63 && dns_label_valid(name), "long run id gives a DNS label: %s", name);
        ok(startswith(name, "clyde-seed-zzz") && strlen(name) > 13 && streq(name + strlen(name) - 13, "-4294967295-7"), "keeps prefix, batch and part: %s",
           name);
        is_int(manifest_daemonset_name(long_id, 4294967295u, 4294967295u, &other, NULL), 0, "largest part");
        ok(strlen(other) <= 63 && dns_label_valid(other), "still a DNS label: %s", other);
        free(other);
        long_id[100] = 'y';
        is_int(manifest_daemonset_name(long_id, 4294967295u, 7, &other, NULL), 0, "other long run id");
        ok(!streq(name, other), "two long ids stay distinct: %s vs %s", name, other);
        free(name);
        free(other);
        is_int(manifest_daemonset_name("---", 0, 0, &name, &why), -EINVAL, "run id without letters refused");
        ok(why && strstr(why, "run id"), "cause: %s", strempty(why));
        free(why);
}

static void test_awkward_images(void) {
        /* The full chain: references -> names -> manifest accepted, names valid. */
        static const char *const refs[] = {
                "localhost:5000/team/app:v1",
                "[::1]:5000/app@sha256:" D64,
                "r.io/" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/b:t",
                "r.io/" "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb:t",
                "q.io/" "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb:t",
                "docker.io/library/clyde-seed:init",
        };
        struct manifest_params p = params();
        char **cnames = NULL;
        json_object *ds = NULL;
        _cleanup_(freep) char *why = NULL;

        is_int(images_container_names(refs, ELEMENTSOF(refs), &cnames), 0, "names for awkward images");
        p.images = refs;
        p.container_names = (const char *const *) cnames;
        p.n_images = ELEMENTSOF(refs);
        is_int(manifest_build(&p, &ds, &why), 0, "manifest accepts them (%s)", strempty(why));
        for (size_t i = 0; i < ELEMENTSOF(refs); i++) {
                ok(dns_label_valid(cnames[i]) && strlen(cnames[i]) <= 63, "'%s' valid", cnames[i]);
                ok(!streq(cnames[i], IMAGES_RESERVED_NAME), "'%s' not the init name", cnames[i]);
        }
        is_str(str_at(ds, "spec.template.spec.containers[1].imagePullPolicy"), "IfNotPresent", "IPv6 digest");
        is_str(cnames[5], "clyde-seed-init-2", "image that would take the init name is renamed");
        json_object_put(ds);
        strv_free(cnames);
}

static void test_batches(void) {
        static const struct {
                size_t n, per, count;
                size_t sizes[6];
        } cases[] = {
                { 0, 5, 0, { 0 } },        { 1, 5, 1, { 1 } },        { 5, 5, 1, { 5 } },
                { 6, 5, 2, { 3, 3 } },     { 11, 5, 3, { 4, 4, 3 } }, { 10, 1, 10, { 1, 1, 1, 1, 1, 1 } },
                { 7, 3, 3, { 3, 2, 2 } },  { 12, 4, 3, { 4, 4, 4 } },
        };
        size_t count, start, len;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t next = 0;
                is_int(manifest_batch_count(cases[i].n, cases[i].per, &count), 0, "count %zu/%zu", cases[i].n,
                       cases[i].per);
                is_int(count, cases[i].count, "%zu images by %zu: %zu batches", cases[i].n, cases[i].per,
                       cases[i].count);
                for (size_t b = 0; b < count; b++) {
                        is_int(manifest_batch_range(cases[i].n, cases[i].per, b, &start, &len), 0, "range");
                        is_int(start, next, "batch %zu starts where the last ended", b);
                        ok(len <= cases[i].per && len > 0, "batch %zu size %zu within 1..%zu", b, len, cases[i].per);
                        if (b < 6)
                                is_int(len, cases[i].sizes[b], "batch %zu size", b);
                        next = start + len;
                }
                is_int(next, cases[i].n, "batches cover every image");
                is_int(manifest_batch_range(cases[i].n, cases[i].per, count, &start, &len), -EINVAL, "past the end");
        }
        is_int(manifest_batch_count(3, 0, &count), -EINVAL, "per_batch 0 refused");
}

static void test_quantities(void) {
        static const struct {
                const char *q;
                bool ok;
        } cases[] = {
                { "1m", true }, { "8Mi", true }, { "0.5", true }, { "2", true }, { "1Gi", true },
                { "", false },  { "m", false },  { "1.", false }, { "1 Mi", false }, { "1MB", false }, { "-1", false },
        };
        static const struct {
                const char *q;
                int r;
                int64_t milli;
        } values[] = {
                { "100m", 0, 100 },          { "0.1", 0, 100 },         { "1", 0, 1000 },
                { "16Mi", 0, INT64_C(16) * 1024 * 1024 * 1000 },         { "1k", 0, 1000000 },
                { "0.0001", 0, 1 },          { "1.5Ki", 0, 1536000 },   { "2Ti", 0, INT64_C(2) * 1024 * 1024 * 1024 * 1024 * 1000 },
                { "99999999999999999999", -ERANGE, 0 },                { "9000000T", -ERANGE, 0 },
                { "1e3", -EINVAL, 0 },
        };
        int64_t v;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                is_int(manifest_quantity_valid(cases[i].q), cases[i].ok, "quantity '%s'", cases[i].q);
        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                v = -1;
                is_int(manifest_quantity_milli(values[i].q, &v), values[i].r, "parse '%s'", values[i].q);
                if (values[i].r == 0)
                        is_int(v, values[i].milli, "'%s' in thousandths", values[i].q);
        }
        is_str(manifest_pull_policy("a/b:1"), "Always", "tag policy");
        is_str(manifest_pull_policy("a/b@sha256:" D64), "IfNotPresent", "digest policy");
}

/* The body of a DaemonSet with n seeders whose names are len characters long. */
static size_t body_size(size_t n, size_t len) {
        struct manifest_params p = params();
        const char **l = calloc(n, sizeof(char *));
        char *names_buf = malloc(n * (len + 1));
        json_object *ds = NULL;
        size_t size = 0;

        if (!l || !names_buf)
                abort();
        for (size_t i = 0; i < n; i++) {
                char *s = names_buf + i * (len + 1);
                /* distinct DNS-1123 subdomains: "node-<i>" padded with label-sized runs */
                int k = snprintf(s, len + 1, "n%06zu", i);
                for (size_t j = (size_t) k; j < len; j++)
                        s[j] = (j % 64 == 63) ? '.' : 'a';
                s[len] = '\0';
                l[i] = s;
        }
        p.nodes = l;
        p.n_nodes = n;
        if (manifest_build(&p, &ds, NULL) == 0)
                size = strlen(json_object_to_json_string_ext(ds, JSON_C_TO_STRING_PLAIN));
        json_object_put(ds);
        free(names_buf);
        free(l);
        return size;
}

/* The API server refuses a request body above 3 MiB and etcd an object above 1.5 MiB:
 * one DaemonSet of the most seeders allowed stays far below both. */
static void test_size(void) {
        size_t typical = body_size(MANIFEST_NODES_PER_DAEMONSET, 42); /* ip-10-0-1-2.eu-west-1.compute.internal */
        size_t longest = body_size(MANIFEST_NODES_PER_DAEMONSET, 253);

        printf("# DaemonSet body, %d seeders: %zu bytes with 42-character names, %zu bytes with 253\n",
             MANIFEST_NODES_PER_DAEMONSET, typical, longest);
        ok(typical > 0 && longest > typical, "bodies built");
        ok(longest < 512 * 1024, "253-character names: %zu bytes < 512 KiB (a third of etcd's 1.5 MiB)", longest);
        ok(typical < 160 * 1024, "typical names: %zu bytes < 160 KiB", typical);
}

int main(void) {
        test_structure();
        test_options();
        test_refusals();
        test_names();
        test_awkward_images();
        test_batches();
        test_quantities();
        test_size();
        return tap_done();
}
