/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the kubeconfig parser: the input is parsed as a kubeconfig file,
 * its current context resolved (without reading any file it names or running any plugin),
 * and the same bytes are fed to the ExecCredential, base64 and RFC 3339 decoders. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kubeconfig-internal.h"
#include "kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_kubeconfig(const char *s, size_t size) {
        struct kube_target *t = NULL;
        struct kc_file *f = NULL;
        char *cause = NULL;

        if (kc_file_parse("/nonexistent/fuzz/config", s, size, &f, &cause) >= 0) {
                if (kc_resolve(&f, 1, NULL, false, &t, &cause) >= 0)
                        kube_target_free(t);
                kc_file_free(f);
        }
        free(cause);
}

static void fuzz_decoders(const char *s, size_t size) {
        struct kube_exec e = { .api_version = (char *) "client.authentication.k8s.io/v1", .what = (char *) "fuzz" };
        char *cause = NULL, *out = NULL;
        int64_t usec;
        size_t len;

        (void) kc_exec_parse_credential(&e, s, size, &cause);
        free(cause);
        free(e.token);
        free(e.cert_pem);
        free(e.key_pem);
        if (kc_base64_decode(s, &out, &len) >= 0)
                free(out);
        (void) kc_parse_rfc3339(s, &usec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s;

        if (size > 256 * 1024)
                return 0;
        /* NUL-terminated copy for the string decoders; the parsers get the length */
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        fuzz_kubeconfig(s, size);
        fuzz_decoders(s, size);
        free(s);
        return 0;
}
