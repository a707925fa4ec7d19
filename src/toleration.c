/* SPDX-License-Identifier: MIT */
#include "toleration.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labelsel.h"
#include "macro.h"
#include "util.h"

static bool effect_valid(const char *e) {
        return streq(e, "NoSchedule") || streq(e, "PreferNoSchedule") || streq(e, "NoExecute");
}

/* Wraps a label validation message into one that names the whole spec. */
static int bad_part(const char *spec, char **ret_cause) {
        _cleanup_(freep) char *inner = ret_cause ? TAKE_PTR(*ret_cause) : NULL;

        return cause_fmt(ret_cause, "invalid toleration '%s': %s", spec, strempty(inner));
}

static int parse_key_value(const char *spec, char *kv, struct toleration *t, char **ret_cause) {
        char *eq = strchr(kv, '=');

        if (eq) {
                *eq = '\0';
                t->op = TOLERATION_EQUAL;
                if (label_value_validate(eq + 1, ret_cause) < 0)
                        return bad_part(spec, ret_cause);
                t->value = strdup(eq + 1);
                if (!t->value)
                        return -ENOMEM;
        } else
                t->op = TOLERATION_EXISTS;
        if (streq(kv, "*")) {
                if (eq)
                        return cause_fmt(ret_cause, "invalid toleration '%s': '*' cannot take a value", spec);
                return 0;
        }
        if (*kv == '\0')
                return cause_fmt(ret_cause, "invalid toleration '%s': empty key (write '*%s' to tolerate every key)",
                             spec, strchr(spec, ':') ? strchr(spec, ':') : "");
        if (label_key_validate(kv, ret_cause) < 0)
                return bad_part(spec, ret_cause);
        t->key = strdup(kv);
        return t->key ? 0 : -ENOMEM;
}

int toleration_parse(const char *spec, struct toleration *ret, char **ret_cause) {
        _cleanup_(toleration_done) struct toleration t = {};
        _cleanup_(freep) char *copy = NULL;
        char *colon;
        int r;

        if (isempty(spec))
                return cause_fmt(ret_cause, "empty toleration");
        copy = strdup(spec);
        if (!copy)
                return -ENOMEM;
        colon = strchr(copy, ':');
        if (colon) {
                *colon = '\0';
                if (!effect_valid(colon + 1))
                        return cause_fmt(ret_cause,
                                     "invalid toleration '%s': effect must be NoSchedule, PreferNoSchedule or NoExecute, got '%s'",
                                     spec, colon + 1);
                t.effect = strdup(colon + 1);
                if (!t.effect)
                        return -ENOMEM;
        }
        r = parse_key_value(spec, copy, &t, ret_cause);
        if (r < 0)
                return r;
        *ret = t;
        memset(&t, 0, sizeof(t));
        return 0;
}

int toleration_parse_many(const char *const *specs, size_t n, struct toleration **ret,
                          char **ret_cause) {
        struct toleration *a;
        int r;

        a = calloc(n ? n : 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = toleration_parse(specs[i], &a[i], ret_cause);
                if (r < 0) {
                        toleration_array_free(a, n);
                        return r;
                }
        }
        *ret = a;
        return 0;
}

void toleration_done(struct toleration *t) {
        if (!t)
                return;
        free(t->key);
        free(t->value);
        free(t->effect);
        memset(t, 0, sizeof(*t));
}

void toleration_array_free(struct toleration *a, size_t n) {
        for (size_t i = 0; a && i < n; i++)
                toleration_done(&a[i]);
        free(a);
}

bool toleration_matches(const struct toleration *t, const struct node_taint *taint) {
        if (t->effect && !streq_ptr(t->effect, taint->effect))
                return false;
        if (isempty(t->key))
                return t->op == TOLERATION_EXISTS;
        if (!streq_ptr(t->key, taint->key))
                return false;
        if (t->op == TOLERATION_EXISTS)
                return true;
        return streq(strempty(t->value), strempty(taint->value));
}

bool toleration_tolerates(const struct toleration *tols, size_t n, const struct node_taint *taint) {
        for (size_t i = 0; i < n; i++)
                if (toleration_matches(&tols[i], taint))
                        return true;
        return false;
}

bool taint_blocks_scheduling(const struct node_taint *taint) {
        return taint->effect && (streq(taint->effect, "NoSchedule") || streq(taint->effect, "NoExecute"));
}

const struct node_taint *toleration_first_untolerated(const struct toleration *tols, size_t n,
                                                      const struct node_taint *taints,
                                                      size_t n_taints) {
        for (size_t i = 0; i < n_taints; i++)
                if (taint_blocks_scheduling(&taints[i]) && !toleration_tolerates(tols, n, &taints[i]))
                        return &taints[i];
        return NULL;
}
