/* SPDX-License-Identifier: MIT */
/* Checks, before anything changes, that the API server lets clyde-seed do everything a
 * run needs (SelfSubjectAccessReview), so a missing RBAC rule stops the run cleanly. */
#pragma once

#include "kube.h"

struct access_need {
        const char *verb;
        const char *group; /* "" for the core group */
        const char *resource;
        bool namespaced;
};

/* The permissions a full cycle uses (and that etc/clyde/rbac.yaml grants). */
extern const struct access_need access_needs[];
extern const size_t access_n_needs;

/* Asks the server about every need (namespaced ones in namespace), and about get on each
 * of the named pull secrets (NULL or empty: none; those the registry resolution reads).
 * Logs each missing permission. Returns 0 when all are allowed or the server cannot
 * answer reviews (then the run relies on the API's own answers), -EACCES when one is
 * missing, other negative errno when the server is unreachable. */
int access_check(struct kube_client *k, const char *namespace, char *const *secrets);
