/* SPDX-License-Identifier: MIT */
/* Manifests, indexes, config blobs, challenges and token answers of a registry (pure). */
#define _GNU_SOURCE 1
#include "registry-parse.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "images.h"
#include "json-stream.h"
#include "macro.h"
#include "util.h"

void registry_platform_done(struct registry_platform *p) {
        if (!p)
                return;
        free(p->os);
        free(p->arch);
        free(p->variant);
        free(p->digest);
        *p = (struct registry_platform) { .size = -1 };
}

void registry_manifest_done(struct registry_manifest *m) {
        if (!m)
                return;
        free(m->media_type);
        for (size_t i = 0; i < m->n_platforms; i++)
                registry_platform_done(&m->platforms[i]);
        free(m->platforms);
        free(m->config_digest);
        *m = (struct registry_manifest) { .size = -1 };
}

/* Parses body as one JSON object (nothing after it). */
static int parse_object(const char *body, size_t len, json_object **ret, char **ret_cause) {
        json_tokener *tok;
        json_object *o;

        if (len > REGISTRY_MANIFEST_MAX)
                return cause_fmt(ret_cause, "document larger than %u bytes", REGISTRY_MANIFEST_MAX);
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, body, (int) len);
        if (o && json_tokener_get_parse_end(tok) < len) {
                size_t end = json_tokener_get_parse_end(tok);
                while (end < len && isspace((unsigned char) body[end]))
                        end++;
                if (end < len) {
                        json_object_put(o);
                        o = NULL;
                }
        }
        json_tokener_free(tok);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return cause_fmt(ret_cause, "not a JSON object");
        }
        *ret = o;
        return 0;
}

static json_object *get_type(json_object *o, const char *key, json_type t) {
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
                return NULL;
        return v;
}

static const char *get_str(json_object *o, const char *key) {
        json_object *v = get_type(o, key, json_type_string);
        return v ? json_object_get_string(v) : NULL;
}

static int dup_opt(char **ret, const char *s) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* A descriptor's size: a non-negative integer. */
static int descriptor_size(json_object *d, int64_t *ret) {
        json_object *v = get_type(d, "size", json_type_int);

        if (!v || json_object_get_int64(v) < 0)
                return -EINVAL;
        *ret = json_object_get_int64(v);
        return 0;
}

static bool is_index_type(const char *mt) {
        return streq_ptr(mt, REGISTRY_MT_OCI_INDEX) || streq_ptr(mt, REGISTRY_MT_DOCKER_LIST);
}

static bool is_image_type(const char *mt) {
        return streq_ptr(mt, REGISTRY_MT_OCI_MANIFEST) || streq_ptr(mt, REGISTRY_MT_DOCKER_V2);
}

/* The media type without parameters ("; charset=..."), in buf. */
static const char *bare_type(const char *ct, char *buf, size_t size) {
        size_t n;

        if (!ct)
                return NULL;
        n = strcspn(ct, "; \t");
        if (n >= size)
                return NULL;
        memcpy(buf, ct, n);
        buf[n] = 0;
        return buf;
}

static int index_entry(json_object *d, size_t i, struct registry_platform *p, char **ret_cause) {
        json_object *plat = get_type(d, "platform", json_type_object);
        const char *digest = get_str(d, "digest");
        int64_t size;

        if (!digest || !image_digest_valid(digest))
                return cause_fmt(ret_cause, "manifests[%zu]: missing or invalid digest", i);
        if (descriptor_size(d, &size) < 0)
                return cause_fmt(ret_cause, "manifests[%zu]: missing or negative size", i);
        /* No platform, or an attestation manifest ("unknown/unknown"): nothing runs it. */
        if (!plat || !get_str(plat, "os") || !get_str(plat, "architecture") ||
            streq(get_str(plat, "os"), "unknown") || streq(get_str(plat, "architecture"), "unknown"))
                return 0;
        if (dup_opt(&p->os, get_str(plat, "os")) < 0 || dup_opt(&p->arch, get_str(plat, "architecture")) < 0 ||
            dup_opt(&p->variant, get_str(plat, "variant")) < 0 || dup_opt(&p->digest, digest) < 0)
                return -ENOMEM;
        p->size = -1;
        return 1;
}

static int parse_index(json_object *o, struct registry_manifest *m, char **ret_cause) {
        json_object *list = get_type(o, "manifests", json_type_array);
        size_t n = list ? json_object_array_length(list) : 0;
        int r;

        if (!list)
                return cause_fmt(ret_cause, "index without a manifests array");
        m->platforms = calloc(MIN(n, (size_t) REGISTRY_PLATFORMS_MAX) + 1, sizeof(*m->platforms));
        if (!m->platforms)
                return -ENOMEM;
        for (size_t i = 0; i < n && m->n_platforms < REGISTRY_PLATFORMS_MAX; i++) {
                json_object *d = json_object_array_get_idx(list, i);
                if (!json_object_is_type(d, json_type_object))
                        return cause_fmt(ret_cause, "manifests[%zu] is not an object", i);
                r = index_entry(d, i, &m->platforms[m->n_platforms], ret_cause);
                if (r < 0)
                        return r;
                m->n_platforms += r;
        }
        return 0;
}

static int parse_image(json_object *o, struct registry_manifest *m, char **ret_cause) {
        json_object *config = get_type(o, "config", json_type_object);
        json_object *layers = get_type(o, "layers", json_type_array);
        int64_t size, total;

        if (!config || !image_digest_valid(strempty(get_str(config, "digest"))) ||
            descriptor_size(config, &total) < 0)
                return cause_fmt(ret_cause, "manifest without a valid config descriptor");
        if (!layers)
                return cause_fmt(ret_cause, "manifest without a layers array");
        for (size_t i = 0; i < json_object_array_length(layers); i++) {
                json_object *l = json_object_array_get_idx(layers, i);
                if (!json_object_is_type(l, json_type_object) || descriptor_size(l, &size) < 0 ||
                    !image_digest_valid(strempty(get_str(l, "digest"))))
                        return cause_fmt(ret_cause, "layers[%zu]: missing or invalid digest or size", i);
                if (size > INT64_MAX - total)
                        return cause_fmt(ret_cause, "layer sizes overflow");
                total += size;
        }
        m->size = total;
        return dup_opt(&m->config_digest, get_str(config, "digest"));
}

int registry_manifest_parse(const char *body, size_t len, const char *content_type,
                            struct registry_manifest *ret, char **ret_cause) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        struct registry_manifest m = { .size = -1 };
        json_object *sv;
        char buf[128];
        const char *mt;
        int r;

        r = parse_object(body, len, &o, ret_cause);
        if (r < 0)
                return r;
        sv = get_type(o, "schemaVersion", json_type_int);
        if (!sv || json_object_get_int64(sv) != 2)
                return cause_fmt(ret_cause, "schemaVersion is not 2");
        mt = get_str(o, "mediaType") ?: bare_type(content_type, buf, sizeof(buf));
        /* An OCI index may omit mediaType; its manifests array says what it is. */
        if (!mt && get_type(o, "manifests", json_type_array))
                mt = REGISTRY_MT_OCI_INDEX;
        else if (!mt && get_type(o, "config", json_type_object))
                mt = REGISTRY_MT_OCI_MANIFEST;
        if (!is_index_type(mt) && !is_image_type(mt))
                return cause_fmt(ret_cause, "unsupported media type '%s'", strempty(mt));
        m.kind = is_index_type(mt) ? REGISTRY_KIND_INDEX : REGISTRY_KIND_IMAGE;
        r = dup_opt(&m.media_type, mt);
        if (r >= 0)
                r = m.kind == REGISTRY_KIND_INDEX ? parse_index(o, &m, ret_cause) : parse_image(o, &m, ret_cause);
        if (r < 0) {
                registry_manifest_done(&m);
                return r;
        }
        *ret = m;
        return 0;
}

int registry_config_parse(const char *body, size_t len, struct registry_platform *ret, char **ret_cause) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        struct registry_platform p = { .size = -1 };
        int r;

        r = parse_object(body, len, &o, ret_cause);
        if (r < 0)
                return r;
        if (isempty(get_str(o, "os")) || isempty(get_str(o, "architecture")))
                return cause_fmt(ret_cause, "image config without os and architecture");
        if (dup_opt(&p.os, get_str(o, "os")) < 0 || dup_opt(&p.arch, get_str(o, "architecture")) < 0 ||
            dup_opt(&p.variant, get_str(o, "variant")) < 0) {
                registry_platform_done(&p);
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

/* ---- WWW-Authenticate ---- */

void registry_challenge_done(struct registry_challenge *c) {
        if (!c)
                return;
        free(c->scheme);
        free(c->realm);
        free(c->service);
        free(c->scope);
        free(c->error);
        *c = (struct registry_challenge) {};
}

static bool is_tchar(char c) {
        return c && (isalnum((unsigned char) c) || strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p) {
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

/* Reads a token or quoted string at *pp into a new string; advances *pp. */
static int read_value(const char **pp, char **ret) {
        const char *p = *pp;
        _cleanup_(freep) char *v = malloc(strlen(p) + 1);
        size_t n = 0;

        if (!v)
                return -ENOMEM;
        if (*p == '"') {
                for (p++; *p && *p != '"'; p++) {
                        if (*p == '\\' && p[1])
                                p++;
                        v[n++] = *p;
                }
                if (*p != '"')
                        return -EINVAL;
                p++;
        } else
                while (is_tchar(*p) || *p == '/' || *p == ':' || *p == '=')
                        v[n++] = *p++;
        v[n] = 0;
        *pp = p;
        *ret = TAKE_PTR(v);
        return 0;
}

static char **challenge_slot(struct registry_challenge *c, const char *name, size_t len) {
        static const char *const names[] = { "realm", "service", "scope", "error" };
        char **slots[] = { &c->realm, &c->service, &c->scope, &c->error };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
                        return slots[i];
        return NULL;
}

/* One name=value parameter at *pp. Returns 1 parsed, 0 when the next item is not a
 * parameter (another challenge begins), < 0 on error. */
static int read_param(const char **pp, struct registry_challenge *c) {
        const char *p = skip_ows(*pp), *name = p;
        _cleanup_(freep) char *value = NULL;
        char **slot;
        size_t nlen;
        int r;

        while (is_tchar(*p))
                p++;
        nlen = (size_t) (p - name);
        p = skip_ows(p);
        if (nlen == 0 || *p != '=')
                return 0;
        p = skip_ows(p + 1);
        r = read_value(&p, &value);
        if (r < 0)
                return r;
        slot = challenge_slot(c, name, nlen);
        if (slot && !*slot)
                *slot = TAKE_PTR(value);
        *pp = skip_ows(p);
        return 1;
}

int registry_challenge_parse(const char *value, struct registry_challenge *ret, char **ret_cause) {
        struct registry_challenge c = {};
        const char *p = skip_ows(strempty(value)), *s = p;
        int r = 0;

        while (is_tchar(*p))
                p++;
        if (p == s)
                return cause_fmt(ret_cause, "no authentication scheme");
        c.scheme = strndup(s, (size_t) (p - s));
        if (!c.scheme)
                return -ENOMEM;
        if (*p && *p != ' ' && *p != '\t' && *p != ',') {
                registry_challenge_done(&c);
                return cause_fmt(ret_cause, "malformed authentication scheme");
        }
        for (;;) {
                r = read_param(&p, &c);
                if (r <= 0)
                        break;
                if (*p != ',')
                        break;
                p++;
        }
        if (r < 0) {
                registry_challenge_done(&c);
                return r == -ENOMEM ? r : cause_fmt(ret_cause, "unterminated quoted string");
        }
        *ret = c;
        return 0;
}

int registry_token_parse(const char *body, size_t len, char **ret_token, int64_t *ret_expires_in,
                         char **ret_cause) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *exp;
        const char *tok;
        int64_t e = 60;
        int r;

        r = parse_object(body, len, &o, ret_cause);
        if (r < 0)
                return r;
        tok = get_str(o, "token");
        if (isempty(tok))
                tok = get_str(o, "access_token");
        if (isempty(tok))
                return cause_fmt(ret_cause, "token response without a token");
        exp = get_type(o, "expires_in", json_type_int);
        if (exp && json_object_get_int64(exp) > 60)
                e = json_object_get_int64(exp);
        *ret_token = strdup(tok);
        if (!*ret_token)
                return -ENOMEM;
        *ret_expires_in = e;
        return 0;
}
