/* SPDX-License-Identifier: MIT */
#include "labelsel.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "util.h"

static bool is_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` on s[0..len) */
static bool label_name_chars_valid(const char *s, size_t len) {
        if (len == 0 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
                        return false;
        return true;
}

static bool dns_label_valid_n(const char *s, size_t len) {
        if (len == 0 || len > 63 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!is_lower_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

bool dns_label_valid(const char *s) {
        return s && dns_label_valid_n(s, strlen(s));
}

static bool dns_subdomain_valid_n(const char *s, size_t len) {
        size_t start = 0;

        if (len == 0 || len > 253)
                return false;
        for (size_t i = 0; i <= len; i++) {
                if (i < len && s[i] != '.')
                        continue;
                if (!dns_label_valid_n(s + start, i - start))
                        return false;
                start = i + 1;
        }
        return true;
}

bool dns_subdomain_valid(const char *s) {
        return s && dns_subdomain_valid_n(s, strlen(s));
}

int label_key_validate(const char *key, char **ret_cause) {
        const char *slash, *name;
        size_t len;

        if (isempty(key))
                return cause_fmt(ret_cause, "empty label key");
        slash = strchr(key, '/');
        name = slash ? slash + 1 : key;
        if (slash && !dns_subdomain_valid_n(key, (size_t) (slash - key)))
                return cause_fmt(ret_cause,
                             "invalid label key '%s': prefix must be a DNS-1123 subdomain of at most 253 characters",
                             key);
        len = strlen(name);
        if (len == 0)
                return cause_fmt(ret_cause, "invalid label key '%s': name part is empty", key);
        if (len > 63)
                return cause_fmt(ret_cause, "invalid label key '%s': name part longer than 63 characters",
                             key);
        if (!label_name_chars_valid(name, len))
                return cause_fmt(ret_cause,
                             "invalid label key '%s': name must be alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
                             key);
        return 0;
}

int label_value_validate(const char *value, char **ret_cause) {
        size_t len;

        if (!value)
                return cause_fmt(ret_cause, "missing label value");
        len = strlen(value);
        if (len == 0)
                return 0;
        if (len > 63)
                return cause_fmt(ret_cause, "invalid label value '%s': longer than 63 characters", value);
        if (!label_name_chars_valid(value, len))
                return cause_fmt(ret_cause,
                             "invalid label value '%s': must be alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
                             value);
        return 0;
}

int label_pair_parse(const char *s, char **ret_key, char **ret_value, char **ret_cause) {
        _cleanup_(freep) char *k = NULL, *v = NULL;
        const char *eq;
        int r;

        if (!s || !(eq = strchr(s, '=')))
                return cause_fmt(ret_cause, "invalid label '%s': expected key=value", strempty(s));
        k = strndup(s, (size_t) (eq - s));
        v = strdup(eq + 1);
        if (!k || !v)
                return -ENOMEM;
        if (strchr(v, '='))
                return cause_fmt(ret_cause, "invalid label '%s': more than one '='", s);
        r = label_key_validate(k, ret_cause);
        if (r < 0)
                return r;
        r = label_value_validate(v, ret_cause);
        if (r < 0)
                return r;
        *ret_key = TAKE_PTR(k);
        *ret_value = TAKE_PTR(v);
        return 0;
}

/* ---- selector parsing ---- */

struct lexer {
        const char *s;
        size_t pos;
};

static void skip_space(struct lexer *lx) {
        while (lx->s[lx->pos] && isspace((unsigned char) lx->s[lx->pos]))
                lx->pos++;
}

/* Characters that end an identifier. */
static bool is_special(char c) {
        return c == '\0' || c == ',' || c == '(' || c == ')' || c == '=' || c == '!' || c == '<' ||
               c == '>' || isspace((unsigned char) c);
}

/* Reads an identifier (key, value or keyword); may be empty. Caller frees *ret. */
static int read_word(struct lexer *lx, char **ret) {
        size_t start;

        skip_space(lx);
        start = lx->pos;
        while (!is_special(lx->s[lx->pos]))
                lx->pos++;
        *ret = strndup(lx->s + start, lx->pos - start);
        return *ret ? 0 : -ENOMEM;
}

static int req_add_value(struct labelsel_req *req, const char *v) {
        char **n = realloc(req->values, (req->n_values + 1) * sizeof(char *));

        if (!n)
                return -ENOMEM;
        req->values = n;
        n[req->n_values] = strdup(v);
        if (!n[req->n_values])
                return -ENOMEM;
        req->n_values++;
        return 0;
}

static void req_done(struct labelsel_req *req) {
        free(req->key);
        for (size_t i = 0; i < req->n_values; i++)
                free(req->values[i]);
        free(req->values);
}

static int parse_value(struct lexer *lx, struct labelsel_req *req, char **ret_cause) {
        _cleanup_(freep) char *v = NULL;
        int r;

        r = read_word(lx, &v);
        if (r < 0)
                return r;
        if (req->op == LABELSEL_GT || req->op == LABELSEL_LT) {
                char *end;
                errno = 0;
                (void) strtoll(v, &end, 10);
                if (*v == '\0' || *end || errno)
                        return cause_fmt(ret_cause, "position %zu: '%s' needs an integer value, got '%s'",
                                     lx->pos, req->key, v);
        } else {
                r = label_value_validate(v, ret_cause);
                if (r < 0)
                        return r;
        }
        return req_add_value(req, v);
}

static int parse_set(struct lexer *lx, struct labelsel_req *req, char **ret_cause) {
        int r;

        skip_space(lx);
        if (lx->s[lx->pos] != '(')
                return cause_fmt(ret_cause, "position %zu: expected '(' after '%s'", lx->pos,
                             req->op == LABELSEL_IN ? "in" : "notin");
        lx->pos++;
        for (;;) {
                r = parse_value(lx, req, ret_cause);
                if (r < 0)
                        return r;
                skip_space(lx);
                if (lx->s[lx->pos] == ')')
                        break;
                if (lx->s[lx->pos] != ',')
                        return cause_fmt(ret_cause, "position %zu: expected ',' or ')' in the value set of '%s'",
                                     lx->pos, req->key);
                lx->pos++;
        }
        lx->pos++;
        if (req->n_values == 1 && req->values[0][0] == '\0')
                return cause_fmt(ret_cause, "position %zu: empty value set for '%s'", lx->pos, req->key);
        return 0;
}

/* Reads the operator after a key; EXISTS when the requirement ends here. */
static int parse_op(struct lexer *lx, struct labelsel_req *req, char **ret_cause) {
        const char *p;
        _cleanup_(freep) char *w = NULL;
        int r;

        skip_space(lx);
        p = lx->s + lx->pos;
        if (*p == '\0' || *p == ',') {
                req->op = LABELSEL_EXISTS;
                return 0;
        }
        if (startswith(p, "==") || startswith(p, "!=")) {
                req->op = *p == '=' ? LABELSEL_EQ : LABELSEL_NEQ;
                lx->pos += 2;
                return 1;
        }
        if (*p == '=' || *p == '<' || *p == '>') {
                req->op = *p == '=' ? LABELSEL_EQ : *p == '<' ? LABELSEL_LT : LABELSEL_GT;
                lx->pos++;
                return 1;
        }
        r = read_word(lx, &w);
        if (r < 0)
                return r;
        if (streq(w, "in"))
                req->op = LABELSEL_IN;
        else if (streq(w, "notin"))
                req->op = LABELSEL_NOTIN;
        else
                return cause_fmt(ret_cause, "position %zu: expected an operator after '%s', got '%s'",
                             lx->pos - strlen(w), req->key, *w ? w : (char[]){ *p, 0 });
        return 2;
}

static int parse_req(struct lexer *lx, struct labelsel_req *req, char **ret_cause) {
        bool neg = false;
        int r;

        skip_space(lx);
        if (lx->s[lx->pos] == '!') {
                neg = true;
                lx->pos++;
        }
        r = read_word(lx, &req->key);
        if (r < 0)
                return r;
        if (*req->key == '\0')
                return cause_fmt(ret_cause, "position %zu: expected a label key", lx->pos);
        r = label_key_validate(req->key, ret_cause);
        if (r < 0)
                return r;
        if (neg) {
                req->op = LABELSEL_NOT_EXISTS;
                return 0;
        }
        r = parse_op(lx, req, ret_cause);
        if (r <= 0)
                return r;
        if (r == 2)
                return parse_set(lx, req, ret_cause);
        return parse_value(lx, req, ret_cause);
}

static int sel_add_req(struct labelsel *sel, struct labelsel_req **ret) {
        struct labelsel_req *n = realloc(sel->reqs, (sel->n_reqs + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        sel->reqs = n;
        *ret = &n[sel->n_reqs++];
        memset(*ret, 0, sizeof(**ret));
        return 0;
}

int labelsel_parse(const char *s, struct labelsel **ret, char **ret_cause) {
        _cleanup_(labelsel_freep) struct labelsel *sel = NULL;
        struct lexer lx = { .s = strempty(s) };
        struct labelsel_req *req;
        int r;

        sel = calloc(1, sizeof(*sel));
        if (!sel)
                return -ENOMEM;
        skip_space(&lx);
        while (lx.s[lx.pos]) {
                r = sel_add_req(sel, &req);
                if (r < 0)
                        return r;
                r = parse_req(&lx, req, ret_cause);
                if (r < 0)
                        return r;
                skip_space(&lx);
                if (lx.s[lx.pos] == '\0')
                        break;
                if (lx.s[lx.pos] != ',')
                        return cause_fmt(ret_cause, "position %zu: expected ',' or the end of the selector, got '%c'",
                                     lx.pos, lx.s[lx.pos]);
                lx.pos++;
                skip_space(&lx);
                if (lx.s[lx.pos] == '\0')
                        return cause_fmt(ret_cause, "position %zu: trailing ','", lx.pos);
        }
        *ret = TAKE_PTR(sel);
        return 0;
}

struct labelsel *labelsel_free(struct labelsel *sel) {
        if (!sel)
                return NULL;
        for (size_t i = 0; i < sel->n_reqs; i++)
                req_done(&sel->reqs[i]);
        free(sel->reqs);
        free(sel);
        return NULL;
}

void labelsel_freep(struct labelsel **sel) {
        labelsel_free(*sel);
}

/* ---- matching ---- */

static bool in_values(const struct labelsel_req *req, const char *v) {
        for (size_t i = 0; i < req->n_values; i++)
                if (streq(req->values[i], v))
                        return true;
        return false;
}

static bool compare_int(const struct labelsel_req *req, const char *v) {
        long long have, want;
        char *end;

        errno = 0;
        have = strtoll(v, &end, 10);
        if (*v == '\0' || *end || errno)
                return false;
        want = strtoll(req->values[0], NULL, 10);
        return req->op == LABELSEL_GT ? have > want : have < want;
}

static bool req_match(const struct labelsel_req *req, const char *v) {
        switch (req->op) {
        case LABELSEL_EQ:
        case LABELSEL_IN:
                return v && in_values(req, v);
        case LABELSEL_NEQ:
        case LABELSEL_NOTIN:
                return !v || !in_values(req, v);
        case LABELSEL_EXISTS:
                return v;
        case LABELSEL_NOT_EXISTS:
                return !v;
        case LABELSEL_GT:
        case LABELSEL_LT:
                return v && compare_int(req, v);
        }
        return false;
}

bool labelsel_match(const struct labelsel *sel, labelsel_lookup_t lookup, void *userdata) {
        for (size_t i = 0; sel && i < sel->n_reqs; i++)
                if (!req_match(&sel->reqs[i], lookup(sel->reqs[i].key, userdata)))
                        return false;
        return true;
}

struct pairs {
        const char *const *kv;
        size_t n;
};

static const char *pairs_lookup(const char *key, void *userdata) {
        const struct pairs *p = userdata;

        for (size_t i = 0; i < p->n; i++)
                if (p->kv[2 * i] && streq(p->kv[2 * i], key))
                        return strempty(p->kv[2 * i + 1]);
        return NULL;
}

bool labelsel_match_pairs(const struct labelsel *sel, const char *const *kv, size_t n_pairs) {
        struct pairs p = { kv, n_pairs };

        return labelsel_match(sel, pairs_lookup, &p);
}

/* ---- formatting ---- */

static int req_print(FILE *f, const struct labelsel_req *req) {
        static const char *const ops[] = {
                [LABELSEL_EQ] = "=",  [LABELSEL_NEQ] = "!=", [LABELSEL_IN] = " in (",
                [LABELSEL_NOTIN] = " notin (", [LABELSEL_GT] = ">", [LABELSEL_LT] = "<",
        };

        if (req->op == LABELSEL_NOT_EXISTS)
                return fprintf(f, "!%s", req->key);
        if (req->op == LABELSEL_EXISTS)
                return fprintf(f, "%s", req->key);
        fprintf(f, "%s%s", req->key, ops[req->op]);
        for (size_t i = 0; i < req->n_values; i++)
                fprintf(f, "%s%s", i ? "," : "", req->values[i]);
        return fprintf(f, "%s", req->op == LABELSEL_IN || req->op == LABELSEL_NOTIN ? ")" : "");
}

int labelsel_to_string(const struct labelsel *sel, char **ret) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; sel && i < sel->n_reqs; i++) {
                if (i)
                        fputc(',', f);
                req_print(f, &sel->reqs[i]);
        }
        if (fclose(f) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}
