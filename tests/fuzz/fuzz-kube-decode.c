/* SPDX-License-Identifier: MIT */
/* libFuzzer: arbitrary bytes as an API response body: the error decoder, and when the
 * bytes are JSON, the Node, Pod and DaemonSet decoders. The first byte picks the HTTP status. */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "kube-decode.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool want_all(const char *name, void *userdata) {
        return name[0] != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct kube_node_filter f = { .seeder_label_key = "clyde/seeder", .owner_annotation_key = "clyde/owned",
                                      .want_image = want_all };
        const char *keys[] = { "app", "clyde/run" };
        struct kube_error e = {};
        struct node_info n = {};
        struct kube_pod p = {};
        struct kube_daemonset d = {};
        json_tokener *tok;
        json_object *o;
        int64_t t;

        if (size < 1)
                return 0;
        if (kube_decode_error(400 + data[0], (const char *) data + 1, size - 1, &e) == 0)
                kube_error_done(&e);
        tok = json_tokener_new();
        if (!tok)
                return 0;
        o = json_tokener_parse_ex(tok, (const char *) data + 1, (int) MIN(size - 1, (size_t) INT32_MAX));
        if (o) {
                if (kube_decode_node(o, data[0] & 1 ? &f : NULL, &n) == 0)
                        node_info_done(&n);
                if (kube_decode_pod(o, keys, 2, &p) == 0)
                        kube_pod_done(&p);
                if (kube_decode_daemonset(o, "clyde/run", &d) == 0)
                        kube_daemonset_done(&d);
                if (json_object_is_type(o, json_type_string))
                        (void) kube_parse_time(json_object_get_string(o), &t);
                json_object_put(o);
        }
        json_tokener_free(tok);
        return 0;
}
