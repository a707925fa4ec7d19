/* SPDX-License-Identifier: MIT */
/* The scheduling facts of a pod (pure): the node it is for and whether the scheduler
 * found no room for it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kube-decode.h"
#include "macro.h"

static json_object *member(json_object *o, const char *key, json_type type) {
        json_object *v = NULL;

        if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, type))
                return NULL;
        return v;
}

static const char *str(json_object *o, const char *key) {
        json_object *v = member(o, key, json_type_string);

        return v ? json_object_get_string(v) : NULL;
}

/* The one node a pod's single required term pins with `metadata.name In [x]`: how the
 * DaemonSet controller (since Kubernetes 1.12) tells the scheduler where its pod goes. */
static const char *affinity_node(json_object *spec) {
        json_object *req = member(member(member(spec, "affinity", json_type_object), "nodeAffinity", json_type_object),
                                  "requiredDuringSchedulingIgnoredDuringExecution", json_type_object);
        json_object *terms = member(req, "nodeSelectorTerms", json_type_array);
        json_object *fields;

        if (!terms || json_object_array_length(terms) != 1)
                return NULL;
        fields = member(json_object_array_get_idx(terms, 0), "matchFields", json_type_array);
        for (size_t i = 0; fields && i < json_object_array_length(fields); i++) {
                json_object *r = json_object_array_get_idx(fields, i);
                json_object *vals = member(r, "values", json_type_array);

                if (streq_ptr(str(r, "key"), "metadata.name") && streq_ptr(str(r, "operator"), "In") && vals &&
                    json_object_array_length(vals) == 1 &&
                    json_object_is_type(json_object_array_get_idx(vals, 0), json_type_string))
                        return json_object_get_string(json_object_array_get_idx(vals, 0));
        }
        return NULL;
}

static int dup_or_null(char **ret, const char *s) {
        *ret = s ? strdup(s) : NULL;
        return s && !*ret ? -ENOMEM : 0;
}

int kube_decode_pod_scheduling(json_object *o, struct kube_pod *p) {
        json_object *spec = member(o, "spec", json_type_object);
        json_object *conds = member(member(o, "status", json_type_object), "conditions", json_type_array);
        const char *node = str(spec, "nodeName");

        if (dup_or_null(&p->target_node, node ?: affinity_node(spec)) < 0)
                return -ENOMEM;
        for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
                json_object *c = json_object_array_get_idx(conds, i);

                if (!streq_ptr(str(c, "type"), "PodScheduled") || !streq_ptr(str(c, "status"), "False"))
                        continue;
                p->unschedulable = true;
                if (dup_or_null(&p->sched_reason, str(c, "reason")) < 0 ||
                    dup_or_null(&p->sched_message, str(c, "message")) < 0)
                        return -ENOMEM;
                break;
        }
        return 0;
}
