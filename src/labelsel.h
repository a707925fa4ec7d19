/* SPDX-License-Identifier: MIT */
/* Kubernetes label selectors and label key/value validation (pure: no I/O, no logging).
 *
 * Grammar, as the API server's labels.Parse accepts it:
 *   selector    := "" | requirement ("," requirement)*
 *   requirement := key ("=" | "==" | "!=") value
 *                | key ("in" | "notin") "(" value ("," value)* ")"
 *                | key ("<" | ">") integer
 *                | key | "!" key
 * Whitespace around tokens is ignored; a comma is AND. An empty selector matches
 * every label set. `!=` and `notin` also match when the key is absent. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum labelsel_op {
        LABELSEL_EQ,         /* k=v, k==v */
        LABELSEL_NEQ,        /* k!=v */
        LABELSEL_IN,         /* k in (a,b) */
        LABELSEL_NOTIN,      /* k notin (a,b) */
        LABELSEL_EXISTS,     /* k */
        LABELSEL_NOT_EXISTS, /* !k */
        LABELSEL_GT,         /* k>N (integer values) */
        LABELSEL_LT,         /* k<N */
};

struct labelsel_req {
        char *key;
        enum labelsel_op op;
        char **values; /* EQ/NEQ/GT/LT: one; IN/NOTIN: >= 1; EXISTS: none */
        size_t n_values;
};

struct labelsel {
        struct labelsel_req *reqs;
        size_t n_reqs;
};

/* Returns the value of label `key`, or NULL when the label is absent. */
typedef const char *(*labelsel_lookup_t)(const char *key, void *userdata);

/* Parses selector `s` (NULL or "" = match everything). On success stores a new
 * selector in *ret (caller frees with labelsel_free()) and returns 0. On a syntax or
 * validation error returns -EINVAL and, when ret_cause is not NULL, stores a message
 * (caller frees) such as "position 7: expected '(' after 'in'". -ENOMEM otherwise. */
int labelsel_parse(const char *s, struct labelsel **ret, char **ret_cause);

/* Frees the selector and everything it owns; NULL is fine. Returns NULL. */
struct labelsel *labelsel_free(struct labelsel *sel);
void labelsel_freep(struct labelsel **sel);

/* True when every requirement holds for the label set seen through `lookup`. */
bool labelsel_match(const struct labelsel *sel, labelsel_lookup_t lookup, void *userdata);

/* Same, for a label set given as n_pairs (key, value) pairs laid out flat:
 * kv[0]=key0, kv[1]=value0, kv[2]=key1, ... */
bool labelsel_match_pairs(const struct labelsel *sel, const char *const *kv, size_t n_pairs);

/* Formats the selector canonically (e.g. for a labelSelector= query parameter).
 * Stores a new string in *ret (caller frees). Returns 0 or -ENOMEM. */
int labelsel_to_string(const struct labelsel *sel, char **ret);

/* Label key: optional DNS-1123 subdomain prefix (<= 253) + "/" + name (<= 63,
 * `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`). Returns 0 when valid, else -EINVAL
 * with a message in *ret_cause (when not NULL; caller frees), or -ENOMEM. */
int label_key_validate(const char *key, char **ret_cause);

/* Label value: empty, or <= 63 characters of the label-name pattern. Same returns. */
int label_value_validate(const char *value, char **ret_cause);

/* Parses "key=value" (one '=', both validated; the value may be empty). Stores new
 * strings in *ret_key and *ret_value (caller frees) and returns 0; -EINVAL with a
 * cause on bad input; -ENOMEM. */
int label_pair_parse(const char *s, char **ret_key, char **ret_value, char **ret_cause);

/* DNS-1123 label (<= 63, `[a-z0-9]([-a-z0-9]*[a-z0-9])?`) and subdomain (<= 253,
 * dot-separated labels) checks, shared with the images and manifest modules. */
bool dns_label_valid(const char *s);
bool dns_subdomain_valid(const char *s);
