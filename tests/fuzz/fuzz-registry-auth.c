/* SPDX-License-Identifier: MIT */
/* libFuzzer: arbitrary bytes as a WWW-Authenticate value, a token answer, base64 and the
 * [registry] mirror and CA lists. */
#define _GNU_SOURCE 1
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "registry-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void lists(const char *s) {
        const char *items[] = { s, NULL };
        struct registry_hosts h = {};
        char **eps = NULL, *cause = NULL;

        if (registry_hosts_parse(items, NULL, &h, &cause) == 0) {
                if (registry_hosts_endpoints(&h, h.endpoints[0].registry, &eps) == 0) {
                        if (!eps || !eps[0])
                                abort();
                        strv_free(eps);
                }
                registry_hosts_done(&h);
        }
        free(cause);
        cause = NULL;
        if (registry_hosts_parse(NULL, items, &h, &cause) == 0)
                registry_hosts_done(&h);
        free(cause);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = strndup((const char *) data, size), *tok = NULL, *out = NULL;
        struct registry_challenge c = {};
        int64_t exp;
        size_t len;

        if (!s)
                return 0;
        if (registry_challenge_parse(s, &c, NULL) == 0) {
                if (!c.scheme || !*c.scheme)
                        abort();
                registry_challenge_done(&c);
        }
        if (registry_token_parse((const char *) data, size, &tok, &exp, NULL) == 0) {
                if (!tok || !*tok || exp < 60)
                        abort();
                free(tok);
        }
        if (registry_base64_decode(s, strlen(s), &out, &len) == 0) {
                if (len > strlen(s))
                        abort();
                free(out);
        }
        lists(s);
        free(s);
        return 0;
}
