/* SPDX-License-Identifier: MIT */
/* Reading one key of one named Secret (the pull secrets the configuration names). The
 * value is a credential: it is handed back and never logged. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "json-stream.h"
#include "kube-internal.h"
#include "kube.h"
#include "macro.h"

#define CORE "/api/v1/namespaces/"

int kube_get_secret_key(struct kube_client *k, const char *namespace, const char *name, const char *key,
                        char **ret_base64) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(freep) char *path = NULL;
        json_object *data, *v;
        int r;

        if (kube_object_path(CORE, namespace, "/secrets", name, &path) < 0)
                return -ENOMEM;
        r = kube_get_json(k, path, &o);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "data", &data) || !json_object_object_get_ex(data, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return -ENOKEY;
        *ret_base64 = strdup(json_object_get_string(v));
        return *ret_base64 ? 0 : -ENOMEM;
}
