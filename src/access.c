/* SPDX-License-Identifier: MIT */
#include "access.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "macro.h"

const struct access_need access_needs[] = {
        { "list", "", "nodes", false },        { "get", "", "nodes", false },
        { "patch", "", "nodes", false },       { "create", "apps", "daemonsets", true },
        { "get", "apps", "daemonsets", true }, { "list", "apps", "daemonsets", true },
        { "delete", "apps", "daemonsets", true }, { "list", "", "pods", true },
        { "watch", "", "pods", true },         { "list", "", "events", true },
};
const size_t access_n_needs = ELEMENTSOF(access_needs);

#define SSAR_PATH "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

/* Reading a pull secret: get on that one name (rbac.yaml's rule lists resourceNames). */
static const struct access_need secret_need = { "get", "", "secrets", true };

static int review_body(const struct access_need *n, const char *namespace, const char *name, char **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *spec = json_object_new_object(), *attrs = json_object_new_object();

        if (!o || !spec || !attrs) {
                json_object_put(spec);
                json_object_put(attrs);
                return -ENOMEM;
        }
        json_object_object_add(o, "apiVersion", json_object_new_string("authorization.k8s.io/v1"));
        json_object_object_add(o, "kind", json_object_new_string("SelfSubjectAccessReview"));
        json_object_object_add(attrs, "verb", json_object_new_string(n->verb));
        json_object_object_add(attrs, "group", json_object_new_string(n->group));
        json_object_object_add(attrs, "resource", json_object_new_string(n->resource));
        if (n->namespaced)
                json_object_object_add(attrs, "namespace", json_object_new_string(namespace));
        if (name)
                json_object_object_add(attrs, "name", json_object_new_string(name));
        json_object_object_add(spec, "resourceAttributes", attrs);
        json_object_object_add(o, "spec", spec);
        return json_to_string(o, JSON_C_TO_STRING_PLAIN, ret);
}

/* Returns 1 allowed, 0 denied (*ret_reason: the server's reason, caller frees), < 0 error. */
static int review(struct kube_client *k, const struct access_need *n, const char *namespace, const char *name,
                  char **ret_reason) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(freep) char *body = NULL;
        json_object *status, *allowed;
        int r;

        r = review_body(n, namespace, name, &body);
        if (r < 0)
                return r;
        r = kube_post_json(k, SSAR_PATH, body, &o);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "status", &status) ||
            !json_object_object_get_ex(status, "allowed", &allowed))
                return -EBADMSG;
        if (json_object_get_boolean(allowed))
                return 1;
        const char *reason = KUBE_STR(o, "status", "reason");
        *ret_reason = reason ? strdup(reason) : NULL;
        return 0;
}

/* One review: 1 allowed, 0 missing (logged), -ENOTSUP when the server cannot answer
 * reviews, other negative errno on failure. */
static int check_one(struct kube_client *k, const struct access_need *n, const char *namespace, const char *name) {
        _cleanup_(freep) char *reason = NULL;
        int r;

        r = review(k, n, namespace, name, &reason);
        if (r == -ENOENT || r == -EACCES || r == -EBADMSG || r == -EINVAL) {
                /* No review API (or not allowed to ask): the run finds out as it goes. */
                log_debug("cannot review permissions (%s); relying on the API's answers",
                          kube_last_error(k)->message ? kube_last_error(k)->message : strerror(-r));
                return -ENOTSUP;
        }
        if (r != 0)
                return r;
        if (name)
                log_error("missing permission: get secrets '%s' in namespace '%s' (a pull secret that "
                          "[preload] image_pull_secrets names, read for [registry] resolve): list it "
                          "under resourceNames in rbac.yaml's Secret rule",
                          name, namespace);
        else
                log_error("missing permission: %s %s%s%s%s%s%s", n->verb, n->resource, *n->group ? "." : "",
                          n->group, n->namespaced ? " in namespace '" : " (cluster scope)",
                          n->namespaced ? namespace : "", n->namespaced ? "'" : "");
        if (reason)
                log_debug("review says: %s", reason);
        return 0;
}

int access_check(struct kube_client *k, const char *namespace, char *const *secrets) {
        size_t n_secrets = 0;
        unsigned missing = 0;
        int r;

        while (secrets && secrets[n_secrets])
                n_secrets++;
        for (size_t i = 0; i < access_n_needs + n_secrets; i++) {
                bool secret = i >= access_n_needs;

                r = check_one(k, secret ? &secret_need : &access_needs[i], namespace,
                              secret ? secrets[i - access_n_needs] : NULL);
                if (r == -ENOTSUP)
                        return 0;
                if (r < 0)
                        return r;
                missing += r == 0;
        }
        if (missing == 0)
                return 0;
        log_error("%u permission%s missing: nothing was changed; grant what etc/clyde/rbac.yaml lists",
                  missing, missing == 1 ? " is" : "s are");
        return -EACCES;
}
