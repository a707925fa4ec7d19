/* SPDX-License-Identifier: MIT */
/* Pull-secret credentials, base64, registry host names and the [registry] endpoint and CA
 * tables (pure). Nothing here puts a credential into a cause. */
#define _GNU_SOURCE 1
#include "registry-parse.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json-stream.h"
#include "macro.h"
#include "util.h"

#define DOCKER_HUB "docker.io"

static void wipe_free(char *s) {
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

void registry_creds_done(struct registry_creds *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n; i++) {
                free(c->v[i].registry);
                wipe_free(c->v[i].username);
                wipe_free(c->v[i].password);
                wipe_free(c->v[i].identity_token);
        }
        free(c->v);
        *c = (struct registry_creds) {};
}

static int b64_value(char c) {
        const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = c ? strchr(a, c) : NULL;

        return p ? (int) (p - a) : -1;
}

int registry_base64_decode(const char *s, size_t len, char **ret, size_t *ret_len) {
        _cleanup_(freep) char *out = NULL;
        uint32_t acc = 0;
        size_t n = 0, bits = 0;

        while (len > 0 && s[len - 1] == '=')
                len--;
        if (len % 4 == 1)
                return -EINVAL;
        out = malloc(len / 4 * 3 + 3);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                int v = b64_value(s[i]);
                if (v < 0)
                        return -EINVAL;
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (char) ((acc >> bits) & 0xff);
                }
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        *ret_len = n;
        return 0;
}

static bool is_hub_alias(const char *h) {
        return streq(h, "index.docker.io") || streq(h, "registry-1.docker.io") ||
               streq(h, "registry.hub.docker.com") || streq(h, DOCKER_HUB);
}

int registry_host_normalize(const char *key, char **ret) {
        const char *p = key, *s;
        char *h;
        size_t n;

        if ((s = startswith(p, "https://")) || (s = startswith(p, "http://")))
                p = s;
        n = strcspn(p, "/");
        if (n == 0 || n > 255)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) p[i]) && !strchr(".-:[]_", p[i]))
                        return -EINVAL;
        h = strndup(p, n);
        if (!h)
                return -ENOMEM;
        for (char *c = h; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        if (is_hub_alias(h)) {
                free(h);
                h = strdup(DOCKER_HUB);
                if (!h)
                        return -ENOMEM;
        }
        *ret = h;
        return 0;
}

const struct registry_cred *registry_creds_find(const struct registry_creds *c, const char *host) {
        _cleanup_(freep) char *h = NULL;

        if (!c || registry_host_normalize(host, &h) < 0)
                return NULL;
        for (size_t i = 0; i < c->n; i++)
                if (streq(c->v[i].registry, h))
                        return &c->v[i];
        return NULL;
}

static const char *str_of(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* "auth" is base64("user:password"); explicit username/password win when given. */
static int entry_cred(const char *host, json_object *e, struct registry_cred *c, char **ret_cause) {
        const char *auth = str_of(e, "auth"), *user = str_of(e, "username"), *pass = str_of(e, "password");
        _cleanup_(freep) char *plain = NULL;
        size_t len = 0;
        char *colon;

        if (!isempty(auth) && isempty(user)) {
                if (registry_base64_decode(auth, strlen(auth), &plain, &len) < 0 || strlen(plain) != len ||
                    !(colon = strchr(plain, ':')))
                        return cause_fmt(ret_cause, "auths '%s': auth is not base64 of user:password", host);
                *colon = 0;
                user = plain;
                pass = colon + 1;
        }
        c->username = strdup(strempty(user));
        c->password = strdup(strempty(pass));
        if (str_of(e, "identitytoken"))
                c->identity_token = strdup(str_of(e, "identitytoken"));
        if (plain)
                explicit_bzero(plain, len);
        if (!c->username || !c->password || (str_of(e, "identitytoken") && !c->identity_token))
                return -ENOMEM;
        return 0;
}

static int add_entry(struct registry_creds *creds, const char *key, json_object *e, char **ret_cause) {
        struct registry_cred c = {}, *v;
        _cleanup_(freep) char *host = NULL;
        int r;

        if (!json_object_is_type(e, json_type_object))
                return cause_fmt(ret_cause, "auths '%s' is not an object", key);
        r = registry_host_normalize(key, &host);
        if (r < 0)
                return r == -ENOMEM ? r : cause_fmt(ret_cause, "auths key '%s' is not a registry host", key);
        if (registry_creds_find(creds, host))
                return 0;
        r = entry_cred(key, e, &c, ret_cause);
        v = r < 0 ? NULL : realloc(creds->v, (creds->n + 1) * sizeof(*v));
        if (!v) {
                wipe_free(c.username);
                wipe_free(c.password);
                wipe_free(c.identity_token);
                return r < 0 ? r : -ENOMEM;
        }
        c.registry = TAKE_PTR(host);
        creds->v = v;
        creds->v[creds->n++] = c;
        return 0;
}

int registry_dockerconfig_parse(const char *json, size_t len, struct registry_creds *creds, char **ret_cause) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_tokener *tok = json_tokener_new();
        json_object *auths;
        int r = 0;

        if (!tok)
                return -ENOMEM;
        if (len <= REGISTRY_MANIFEST_MAX)
                o = json_tokener_parse_ex(tok, json, (int) len);
        json_tokener_free(tok);
        if (!o || !json_object_is_type(o, json_type_object))
                return cause_fmt(ret_cause, "not a JSON object");
        if (!json_object_object_get_ex(o, "auths", &auths) || !json_object_is_type(auths, json_type_object))
                return cause_fmt(ret_cause, "no \"auths\" object");
        json_object_object_foreach(auths, key, e) {
                r = add_entry(creds, key, e, ret_cause);
                if (r < 0)
                        break;
        }
        return r;
}
