/* SPDX-License-Identifier: MIT */
#include "manifest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images.h"
#include "labelsel.h"
#include "macro.h"
#include "util.h"

#define DS_NAME_MAX 63
#define DS_PREFIX "clyde-seed-"

/* ---- small helpers ---- */

static const struct {
        const char *suffix;
        int64_t mult; /* in thousandths */
} quantity_suffixes[] = {
        { "", 1000 },
        { "m", 1 },
        { "k", INT64_C(1000) * 1000 },
        { "M", INT64_C(1000) * 1000 * 1000 },
        { "G", INT64_C(1000) * 1000 * 1000 * 1000 },
        { "T", INT64_C(1000) * 1000 * 1000 * 1000 * 1000 },
        { "Ki", INT64_C(1024) * 1000 },
        { "Mi", INT64_C(1024) * 1024 * 1000 },
        { "Gi", INT64_C(1024) * 1024 * 1024 * 1000 },
        { "Ti", INT64_C(1024) * 1024 * 1024 * 1024 * 1000 },
};

int manifest_quantity_milli(const char *q, int64_t *ret) {
        int64_t whole = 0, frac = 0, scale = 1;
        size_t n;

        if (!q)
                return -EINVAL;
        n = strspn(q, "0123456789");
        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (whole > (INT64_MAX - 9) / 10)
                        return -ERANGE;
                whole = whole * 10 + (q[i] - '0');
        }
        q += n;
        if (*q == '.') {
                n = strspn(q + 1, "0123456789");
                if (n == 0)
                        return -EINVAL;
                /* Digits past nanounits cannot change the result's thousandths. */
                for (size_t i = 0; i < n && i < 9; i++, scale *= 10)
                        frac = frac * 10 + (q[1 + i] - '0');
                q += 1 + n;
        }
        for (size_t i = 0; i < ELEMENTSOF(quantity_suffixes); i++) {
                int64_t mult = quantity_suffixes[i].mult;
                if (!streq(q, quantity_suffixes[i].suffix))
                        continue;
                if (whole > INT64_MAX / mult)
                        return -ERANGE;
                /* Rounded up, as the API server rounds a quantity to its precision. */
                *ret = whole * mult + (frac * mult + scale - 1) / scale;
                return 0;
        }
        return -EINVAL;
}

bool manifest_quantity_valid(const char *q) {
        int64_t v;

        return manifest_quantity_milli(q, &v) == 0;
}

const char *manifest_pull_policy(const char *ref) {
        return ref && strchr(ref, '@') ? "IfNotPresent" : "Always";
}

int manifest_batch_count(size_t n_images, size_t per_batch, size_t *ret_count) {
        if (per_batch == 0)
                return -EINVAL;
        *ret_count = (n_images + per_batch - 1) / per_batch;
        return 0;
}

int manifest_batch_range(size_t n_images, size_t per_batch, size_t i, size_t *ret_start, size_t *ret_len) {
        size_t count, base, extra;

        if (manifest_batch_count(n_images, per_batch, &count) < 0 || i >= count)
                return -EINVAL;
        base = n_images / count;
        extra = n_images % count;
        *ret_start = i * base + MIN(i, extra);
        *ret_len = base + (i < extra);
        return 0;
}

static uint32_t fnv1a32(const char *s) {
        uint32_t h = 2166136261u;

        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 16777619u;
        }
        return h;
}

int manifest_daemonset_name(const char *run_id, unsigned batch, unsigned part, char **ret, char **ret_cause) {
        char id[256], suffix[32], *name;
        size_t n = 0, room;

        for (const char *p = strempty(run_id); *p && n < sizeof(id) - 1; p++) {
                char c = (*p >= 'A' && *p <= 'Z') ? (char) (*p - 'A' + 'a') : *p;
                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                        id[n++] = c;
                else if (n > 0 && id[n - 1] != '-')
                        id[n++] = '-';
        }
        while (n > 0 && id[n - 1] == '-')
                n--;
        if (n == 0)
                return cause_fmt(ret_cause, "run id '%s' has no letters or digits", strempty(run_id));
        snprintf(suffix, sizeof(suffix), "-%u-%u", batch, part);
        room = DS_NAME_MAX - strlen(DS_PREFIX) - strlen(suffix);
        if (n > room || strlen(run_id) >= sizeof(id) - 1) {
                /* Cut, then "-<hash>" of the full id so two long ids stay apart. */
                n = MIN(n, room - 9);
                while (n > 0 && id[n - 1] == '-')
                        n--;
                n += (size_t) snprintf(id + n, sizeof(id) - n, "-%08x", fnv1a32(run_id));
        }
        id[n] = '\0';
        if (asprintf(&name, DS_PREFIX "%s%s", id, suffix) < 0)
                return -ENOMEM;
        *ret = name;
        return 0;
}

/* ---- JSON building: every allocation failure lands in b->oom ---- */

struct jb {
        bool oom;
};

static json_object *jnew(struct jb *b, json_object *o) {
        if (!o)
                b->oom = true;
        return o;
}

static json_object *jset(struct jb *b, json_object *parent, const char *key, json_object *v) {
        if (!v || !parent || json_object_object_add(parent, key, v) < 0) {
                json_object_put(v);
                b->oom = true;
                return NULL;
        }
        return v;
}

static json_object *jpush(struct jb *b, json_object *arr, json_object *v) {
        if (!v || !arr || json_object_array_add(arr, v) < 0) {
                json_object_put(v);
                b->oom = true;
                return NULL;
        }
        return v;
}

#define JOBJ(b) jnew((b), json_object_new_object())
#define JARR(b) jnew((b), json_object_new_array())
#define JSTR(b, s) jnew((b), json_object_new_string(s))
#define JINT(b, i) jnew((b), json_object_new_int64(i))
#define JBOOL(b, v) jnew((b), json_object_new_boolean(v))

static void jset_str(struct jb *b, json_object *o, const char *k, const char *v) {
        jset(b, o, k, JSTR(b, v));
}

static json_object *str_array(struct jb *b, const char *const *v, size_t n) {
        json_object *a = JARR(b);

        for (size_t i = 0; a && i < n; i++)
                jpush(b, a, JSTR(b, v[i]));
        return a;
}

static json_object *labels(struct jb *b, const struct manifest_params *p) {
        json_object *l = JOBJ(b);
        char batch[16], part[16];

        snprintf(batch, sizeof(batch), "%u", p->batch);
        snprintf(part, sizeof(part), "%u", p->part);
        jset_str(b, l, MANIFEST_LABEL_MANAGED_BY, MANIFEST_APP);
        jset_str(b, l, MANIFEST_LABEL_NAME, MANIFEST_APP);
        jset_str(b, l, MANIFEST_LABEL_RUN, p->run_id);
        jset_str(b, l, MANIFEST_LABEL_BATCH, batch);
        jset_str(b, l, MANIFEST_LABEL_PART, part);
        return l;
}

/* ---- the pod ---- */

static json_object *resources(struct jb *b, const struct manifest_params *p) {
        json_object *r = JOBJ(b), *req = jset(b, r, "requests", JOBJ(b)), *lim = jset(b, r, "limits", JOBJ(b));

        jset_str(b, req, "cpu", p->cpu_request ? p->cpu_request : MANIFEST_CPU_REQUEST_DEFAULT);
        jset_str(b, req, "memory", p->memory_request ? p->memory_request : MANIFEST_MEMORY_REQUEST_DEFAULT);
        jset_str(b, lim, "cpu", p->cpu_limit ? p->cpu_limit : MANIFEST_CPU_LIMIT_DEFAULT);
        jset_str(b, lim, "memory", p->memory_limit ? p->memory_limit : MANIFEST_MEMORY_LIMIT_DEFAULT);
        return r;
}

/* runAsNonRoot always; runAsUser/runAsGroup unless auto, so a restricted SCC can pick
 * them (the kubelet then needs the image's USER to be non-numeric-root). */
static void run_as(struct jb *b, json_object *s, const struct manifest_params *p) {
        long long uid = p->run_as_user == 0 ? MANIFEST_RUN_AS_USER : p->run_as_user;

        jset(b, s, "runAsNonRoot", JBOOL(b, true));
        if (uid == MANIFEST_RUN_AS_AUTO)
                return;
        jset(b, s, "runAsUser", JINT(b, uid));
        jset(b, s, "runAsGroup", JINT(b, uid));
}

static json_object *container_security(struct jb *b, const struct manifest_params *p) {
        json_object *s = JOBJ(b), *caps;

        jset(b, s, "allowPrivilegeEscalation", JBOOL(b, false));
        jset(b, s, "readOnlyRootFilesystem", JBOOL(b, true));
        run_as(b, s, p);
        caps = jset(b, s, "capabilities", JOBJ(b));
        jset(b, caps, "drop", str_array(b, (const char *const[]){ "ALL" }, 1));
        jset_str(b, jset(b, s, "seccompProfile", JOBJ(b)), "type", "RuntimeDefault");
        return s;
}

static json_object *container(struct jb *b, const struct manifest_params *p, const char *name,
                              const char *image, const char *policy, const char *const *cmd, size_t n_cmd,
                              bool ro) {
        json_object *c = JOBJ(b), *mounts, *m;

        jset_str(b, c, "name", name);
        jset_str(b, c, "image", image);
        jset_str(b, c, "imagePullPolicy", policy);
        jset(b, c, "command", str_array(b, cmd, n_cmd));
        mounts = jset(b, c, "volumeMounts", JARR(b));
        m = jpush(b, mounts, JOBJ(b));
        jset_str(b, m, "name", MANIFEST_VOLUME);
        jset_str(b, m, "mountPath", MANIFEST_BIN_DIR);
        if (ro)
                jset(b, m, "readOnly", JBOOL(b, true));
        jset(b, c, "resources", resources(b, p));
        jset(b, c, "securityContext", container_security(b, p));
        return c;
}

static json_object *init_containers(struct jb *b, const struct manifest_params *p) {
        static const char *const cmd[] = { "/bin/busybox", "cp", "/bin/busybox", MANIFEST_BIN_DIR "/sleep" };
        json_object *a = JARR(b);

        jpush(b, a, container(b, p, IMAGES_RESERVED_NAME, p->helper_image ? p->helper_image : MANIFEST_HELPER_IMAGE_DEFAULT,
                              "IfNotPresent", cmd, ELEMENTSOF(cmd), false));
        return a;
}

static json_object *image_containers(struct jb *b, const struct manifest_params *p) {
        static const char *const cmd[] = { MANIFEST_BIN_DIR "/sleep", MANIFEST_SLEEP_SECONDS };
        json_object *a = JARR(b);

        for (size_t i = 0; a && i < p->n_images; i++)
                jpush(b, a, container(b, p, p->container_names[i], p->images[i], manifest_pull_policy(p->images[i]),
                                      cmd, ELEMENTSOF(cmd), true));
        return a;
}

/* One nodeSelectorTerm per node, each a single-value matchFields: terms are ORed, and the
 * API server's validation (ValidateNodeFieldSelectorRequirement) allows exactly one value
 * for In/NotIn on a node field selector, so a list of names in one term is refused (422). */
static json_object *affinity(struct jb *b, const struct manifest_params *p) {
        json_object *a = JOBJ(b), *na, *req, *terms;

        na = jset(b, a, "nodeAffinity", JOBJ(b));
        req = jset(b, na, "requiredDuringSchedulingIgnoredDuringExecution", JOBJ(b));
        terms = jset(b, req, "nodeSelectorTerms", JARR(b));
        for (size_t i = 0; terms && i < p->n_nodes; i++) {
                json_object *term = jpush(b, terms, JOBJ(b));
                json_object *f = jpush(b, jset(b, term, "matchFields", JARR(b)), JOBJ(b));
                jset_str(b, f, "key", "metadata.name");
                jset_str(b, f, "operator", "In");
                jset(b, f, "values", str_array(b, p->nodes + i, 1));
        }
        return a;
}

static json_object *tolerations(struct jb *b, const struct manifest_params *p) {
        json_object *a = JARR(b);

        for (size_t i = 0; a && i < p->n_tolerations; i++) {
                const struct toleration *t = &p->tolerations[i];
                json_object *o = jpush(b, a, JOBJ(b));
                if (t->key)
                        jset_str(b, o, "key", t->key);
                jset_str(b, o, "operator", t->op == TOLERATION_EQUAL ? "Equal" : "Exists");
                if (t->op == TOLERATION_EQUAL)
                        jset_str(b, o, "value", strempty(t->value));
                if (t->effect)
                        jset_str(b, o, "effect", t->effect);
        }
        return a;
}

static json_object *pod_security(struct jb *b, const struct manifest_params *p) {
        json_object *s = JOBJ(b);

        run_as(b, s, p);
        jset_str(b, jset(b, s, "seccompProfile", JOBJ(b)), "type", "RuntimeDefault");
        return s;
}

static void pod_options(struct jb *b, json_object *spec, const struct manifest_params *p) {
        if (p->n_tolerations > 0)
                jset(b, spec, "tolerations", tolerations(b, p));
        if (p->n_pull_secrets > 0) {
                json_object *a = jset(b, spec, "imagePullSecrets", JARR(b));
                for (size_t i = 0; a && i < p->n_pull_secrets; i++)
                        jset_str(b, jpush(b, a, JOBJ(b)), "name", p->pull_secrets[i]);
        }
        if (!isempty(p->priority_class))
                jset_str(b, spec, "priorityClassName", p->priority_class);
}

static json_object *pod_spec(struct jb *b, const struct manifest_params *p) {
        json_object *s = JOBJ(b), *vol;

        jset(b, s, "automountServiceAccountToken", JBOOL(b, false));
        jset(b, s, "enableServiceLinks", JBOOL(b, false));
        jset(b, s, "terminationGracePeriodSeconds", JINT(b, 1));
        jset_str(b, s, "restartPolicy", "Always");
        jset_str(b, jset(b, s, "nodeSelector", JOBJ(b)), p->label_key, p->label_value);
        jset(b, s, "affinity", affinity(b, p));
        pod_options(b, s, p);
        jset(b, s, "securityContext", pod_security(b, p));
        vol = jpush(b, jset(b, s, "volumes", JARR(b)), JOBJ(b));
        jset_str(b, vol, "name", MANIFEST_VOLUME);
        jset_str(b, jset(b, vol, "emptyDir", JOBJ(b)), "sizeLimit", "16Mi");
        jset(b, s, "initContainers", init_containers(b, p));
        jset(b, s, "containers", image_containers(b, p));
        return s;
}

/* ---- validation and the DaemonSet ---- */

static int check_images(const struct manifest_params *p, char **ret_cause) {
        if (p->n_images == 0 || !p->images || !p->container_names)
                return cause_fmt(ret_cause, "no image in batch %u", p->batch);
        for (size_t i = 0; i < p->n_images; i++) {
                const char *n = p->container_names[i];
                if (isempty(p->images[i]))
                        return cause_fmt(ret_cause, "image %zu of batch %u is empty", i, p->batch);
                if (!dns_label_valid(n))
                        return cause_fmt(ret_cause, "container name '%s' is not a DNS-1123 label", strempty(n));
                if (streq(n, IMAGES_RESERVED_NAME))
                        return cause_fmt(ret_cause, "container name '%s' is reserved for the init container", n);
                for (size_t j = 0; j < i; j++)
                        if (streq(p->container_names[j], n))
                                return cause_fmt(ret_cause, "container name '%s' is used twice", n);
        }
        return 0;
}

static int check_strings(const char *what, const char *const *v, size_t n, char **ret_cause) {
        for (size_t i = 0; i < n; i++)
                if (isempty(v[i]))
                        return cause_fmt(ret_cause, "%s %zu is empty", what, i);
        return 0;
}

/* The API server refuses a request above its limit ("must be less than or equal to"). */
static int check_pair(const char *what, const char *req, const char *def_req, const char *lim,
                      const char *def_lim, char **ret_cause) {
        int64_t r, l;

        req = req ? req : def_req;
        lim = lim ? lim : def_lim;
        if (manifest_quantity_milli(req, &r) < 0)
                return cause_fmt(ret_cause, "invalid resource quantity '%s'", req);
        if (manifest_quantity_milli(lim, &l) < 0)
                return cause_fmt(ret_cause, "invalid resource quantity '%s'", lim);
        if (r > l)
                return cause_fmt(ret_cause, "%s request '%s' is more than its limit '%s'", what, req, lim);
        return 0;
}

static int check_resources(const struct manifest_params *p, char **ret_cause) {
        int r = check_pair("cpu", p->cpu_request, MANIFEST_CPU_REQUEST_DEFAULT, p->cpu_limit,
                           MANIFEST_CPU_LIMIT_DEFAULT, ret_cause);

        if (r >= 0)
                r = check_pair("memory", p->memory_request, MANIFEST_MEMORY_REQUEST_DEFAULT, p->memory_limit,
                               MANIFEST_MEMORY_LIMIT_DEFAULT, ret_cause);
        if (r >= 0 && p->run_as_user < 0 && p->run_as_user != MANIFEST_RUN_AS_AUTO)
                return cause_fmt(ret_cause, "run_as_user %lld is negative", p->run_as_user);
        return r;
}

static int check_params(const struct manifest_params *p, char **ret_cause) {
        int r;

        if (!dns_label_valid(p->namespace))
                return cause_fmt(ret_cause, "namespace '%s' is not a DNS-1123 label", strempty(p->namespace));
        if (!dns_subdomain_valid(p->name))
                return cause_fmt(ret_cause, "DaemonSet name '%s' is not a DNS-1123 subdomain", strempty(p->name));
        if (isempty(p->run_id) || label_value_validate(p->run_id, NULL) < 0)
                return cause_fmt(ret_cause, "run id '%s' is not a valid label value", strempty(p->run_id));
        r = label_key_validate(p->label_key, ret_cause);
        if (r >= 0)
                r = label_value_validate(p->label_value, ret_cause);
        if (r < 0)
                return r;
        if (p->n_nodes == 0 || !p->nodes)
                return cause_fmt(ret_cause, "no node needs batch %u", p->batch);
        if (p->n_nodes > MANIFEST_NODES_PER_DAEMONSET)
                return cause_fmt(ret_cause, "%zu nodes in one DaemonSet, more than %d", p->n_nodes,
                                 MANIFEST_NODES_PER_DAEMONSET);
        if (p->helper_image && isempty(p->helper_image))
                return cause_fmt(ret_cause, "empty helper image");
        r = check_images(p, ret_cause);
        if (r >= 0)
                r = check_strings("node name", p->nodes, p->n_nodes, ret_cause);
        if (r >= 0)
                r = check_strings("image pull secret", p->pull_secrets, p->n_pull_secrets, ret_cause);
        if (r >= 0)
                r = check_resources(p, ret_cause);
        return r;
}

int manifest_build(const struct manifest_params *p, struct json_object **ret, char **ret_cause) {
        struct jb b = {};
        json_object *ds, *meta, *spec, *tmpl, *sel;
        int r;

        r = check_params(p, ret_cause);
        if (r < 0)
                return r;
        ds = JOBJ(&b);
        jset_str(&b, ds, "apiVersion", "apps/v1");
        jset_str(&b, ds, "kind", "DaemonSet");
        meta = jset(&b, ds, "metadata", JOBJ(&b));
        jset_str(&b, meta, "name", p->name);
        jset_str(&b, meta, "namespace", p->namespace);
        jset(&b, meta, "labels", labels(&b, p));
        spec = jset(&b, ds, "spec", JOBJ(&b));
        sel = jset(&b, spec, "selector", JOBJ(&b));
        jset(&b, sel, "matchLabels", labels(&b, p));
        jset_str(&b, jset(&b, spec, "updateStrategy", JOBJ(&b)), "type", "OnDelete");
        tmpl = jset(&b, spec, "template", JOBJ(&b));
        jset(&b, jset(&b, tmpl, "metadata", JOBJ(&b)), "labels", labels(&b, p));
        jset(&b, tmpl, "spec", pod_spec(&b, p));
        if (b.oom) {
                json_object_put(ds);
                return -ENOMEM;
        }
        *ret = ds;
        return 0;
}
