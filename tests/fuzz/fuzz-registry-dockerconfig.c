/* SPDX-License-Identifier: MIT */
/* libFuzzer: arbitrary bytes as a .dockerconfigjson pull secret. Invariants: every entry
 * found has its host, user and password; a cause never quotes a password or an auth
 * value (unless the same text is also an auths key, which a cause may name, or a word of
 * the cause's own fixed text). */
#define _GNU_SOURCE 1
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "registry-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool in_keys(json_object *auths, const char *s) {
        json_object_object_foreach(auths, key, v) {
                (void) v;
                if (strstr(key, s))
                        return true;
        }
        return false;
}

/* The fixed words of registry_dockerconfig_parse's causes (src/registry-creds.c): a
 * secret that is one of them ("password", say) is in the cause without being quoted. */
static const char fixed_text[] = "not a JSON object\n" "no \"auths\" object\n"
                                 "auths ' is not an object\n" "auths key ' is not a registry host\n"
                                 "auths ': auth is not base64 of user:password\n";

static void check_cause(const char *data, size_t size, const char *cause) {
        json_object *o = json_tokener_parse(strndupa(data, MIN(size, (size_t) 65536))), *auths;

        if (!o)
                return;
        if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "auths", &auths) &&
            json_object_is_type(auths, json_type_object)) {
                json_object_object_foreach(auths, key, e) {
                        (void) key;
                        if (!json_object_is_type(e, json_type_object))
                                continue;
                        json_object_object_foreach(e, k, v) {
                                const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
                                if ((streq(k, "password") || streq(k, "auth")) && strlen(s) >= 6 &&
                                    !in_keys(auths, s) && !strstr(fixed_text, s) && strstr(cause, s))
                                        abort();
                        }
                }
        }
        json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct registry_creds c = {};
        char *cause = NULL;

        if (registry_dockerconfig_parse((const char *) data, size, &c, &cause) == 0) {
                for (size_t i = 0; i < c.n; i++) {
                        if (!c.v[i].registry || !c.v[i].username || !c.v[i].password)
                                abort();
                        if (registry_creds_find(&c, c.v[i].registry) != &c.v[i])
                                abort();
                }
        } else if (cause && size < 65536)
                check_cause((const char *) data, size, cause);
        registry_creds_done(&c);
        free(cause);
        return 0;
}
