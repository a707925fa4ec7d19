/* SPDX-License-Identifier: MIT */
/* The kubeconfig document walker over libyaml's document API, plus the small helpers the
 * loader needs: base64, bounded file reads, path resolution, secret wiping. Kubeconfigs
 * are YAML or JSON (a subset of YAML); only the structure kubectl reads is walked, so
 * aliases cannot make the walk blow up. */
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "kubeconfig-internal.h"
#include "macro.h"

int kc_fail(char **ret_cause, int r, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        if (!ret_cause)
                return r;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(*ret_cause);
        *ret_cause = s;
        return r;
}

void kc_free_secret(char *s, size_t len) {
        if (!s)
                return;
        explicit_bzero(s, len == SIZE_MAX ? strlen(s) : len);
        free(s);
}

static yaml_node_t *node_at(const yaml_document_t *d, int i) {
        if (i < 1 || d->nodes.start + i > d->nodes.top)
                return NULL;
        return d->nodes.start + i - 1;
}

size_t kc_line(const yaml_node_t *n) {
        return n ? n->start_mark.line + 1 : 0;
}

size_t kc_seq_len(const yaml_node_t *seq) {
        if (!seq || seq->type != YAML_SEQUENCE_NODE)
                return 0;
        return (size_t) (seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *kc_seq_at(const struct kc_file *f, const yaml_node_t *seq, size_t i) {
        if (i >= kc_seq_len(seq))
                return NULL;
        return node_at(&f->doc, seq->data.sequence.items.start[i]);
}

static bool scalar_is(const yaml_node_t *n, const char *s) {
        return n && n->type == YAML_SCALAR_NODE &&
               n->data.scalar.length == strlen(s) &&
               memcmp(n->data.scalar.value, s, n->data.scalar.length) == 0;
}

/* A YAML null: missing, or a plain "", "~", "null". */
static bool node_is_null(const yaml_node_t *n) {
        if (!n)
                return true;
        if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                return false;
        return scalar_is(n, "") || scalar_is(n, "~") || scalar_is(n, "null") ||
               scalar_is(n, "Null") || scalar_is(n, "NULL");
}

static yaml_node_t *map_get(const yaml_document_t *d, const yaml_node_t *map, const char *key) {
        if (!map || map->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
                if (scalar_is(node_at(d, p->key), key))
                        return node_at(d, p->value);
        return NULL;
}

static const char *type_name(const yaml_node_t *n) {
        switch (n->type) {
        case YAML_MAPPING_NODE:
                return "a mapping";
        case YAML_SEQUENCE_NODE:
                return "a list";
        default:
                return "a scalar";
        }
}

static int wrong_type(const struct kc_where *w, const yaml_node_t *n, const char *key,
                      const char *want, char **ret_cause) {
        return kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu: %s: '%s' must be %s, not %s",
                       w->file->path, kc_line(n), w->what, key, want, type_name(n));
}

/* A scalar as a C string; embedded NUL bytes are refused. */
static int scalar_str(const struct kc_where *w, const yaml_node_t *n, const char *key,
                      const char **ret, char **ret_cause) {
        const char *s = (const char *) n->data.scalar.value;

        if (n->type != YAML_SCALAR_NODE)
                return wrong_type(w, n, key, "a string", ret_cause);
        if (strlen(s) != n->data.scalar.length)
                return kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu: %s: '%s' contains a NUL byte",
                               w->file->path, kc_line(n), w->what, key);
        *ret = s;
        return 0;
}

int kc_get_str(const struct kc_where *w, yaml_node_t *map, const char *key, const char **ret,
               char **ret_cause) {
        yaml_node_t *n = map_get(&w->file->doc, map, key);
        const char *s;
        int r;

        if (node_is_null(n)) {
                *ret = NULL;
                return 0;
        }
        r = scalar_str(w, n, key, &s, ret_cause);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

int kc_get_bool(const struct kc_where *w, yaml_node_t *map, const char *key, bool *ret,
                char **ret_cause) {
        static const char *const yes[] = { "true", "True", "TRUE" };
        static const char *const no[] = { "false", "False", "FALSE" };
        yaml_node_t *n = map_get(&w->file->doc, map, key);

        if (node_is_null(n)) {
                *ret = false;
                return 0;
        }
        if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
                for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                        if (scalar_is(n, yes[i])) {
                                *ret = true;
                                return 0;
                        }
                        if (scalar_is(n, no[i])) {
                                *ret = false;
                                return 0;
                        }
                }
        return kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu: %s: '%s' must be true or false",
                       w->file->path, kc_line(n), w->what, key);
}

int kc_get_map(const struct kc_where *w, yaml_node_t *map, const char *key, yaml_node_t **ret,
               char **ret_cause) {
        yaml_node_t *n = map_get(&w->file->doc, map, key);

        if (node_is_null(n)) {
                *ret = NULL;
                return 0;
        }
        if (n->type != YAML_MAPPING_NODE)
                return wrong_type(w, n, key, "a mapping", ret_cause);
        *ret = n;
        return 0;
}

int kc_get_seq(const struct kc_where *w, yaml_node_t *map, const char *key, yaml_node_t **ret,
               char **ret_cause) {
        yaml_node_t *n = map_get(&w->file->doc, map, key);

        if (node_is_null(n)) {
                *ret = NULL;
                return 0;
        }
        if (n->type != YAML_SEQUENCE_NODE)
                return wrong_type(w, n, key, "a list", ret_cause);
        *ret = n;
        return 0;
}

int kc_get_strv(const struct kc_where *w, yaml_node_t *map, const char *key, char ***ret,
                char **ret_cause) {
        _cleanup_(strv_freep) char **l = NULL;
        yaml_node_t *seq;
        size_t n = 0;
        int r;

        r = kc_get_seq(w, map, key, &seq, ret_cause);
        if (r < 0)
                return r;
        if (seq)
                n = (size_t) (seq->data.sequence.items.top - seq->data.sequence.items.start);
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *item = node_at(&w->file->doc, seq->data.sequence.items.start[i]);
                const char *s;

                if (!item)
                        return -EINVAL;
                r = scalar_str(w, item, key, &s, ret_cause);
                if (r < 0)
                        return r;
                l[i] = strdup(s);
                if (!l[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

#define JSON_DEPTH_MAX 32
#define JSON_NODES_MAX 10000

static json_object *scalar_to_json(const yaml_node_t *n) {
        const char *s = (const char *) n->data.scalar.value;
        char *end = NULL;
        long long v;

        if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
                if (scalar_is(n, "true") || scalar_is(n, "false"))
                        return json_object_new_boolean(scalar_is(n, "true"));
                errno = 0;
                v = strtoll(s, &end, 10);
                if (*s && end && !*end && errno == 0 && s[strspn(s, "+-0123456789")] == '\0')
                        return json_object_new_int64(v);
        }
        return json_object_new_string_len(s, (int) MIN(n->data.scalar.length, (size_t) INT_MAX));
}

static int to_json(const struct kc_file *f, const yaml_node_t *n, unsigned depth, unsigned *budget,
                   json_object **ret);

static int container_to_json(const struct kc_file *f, const yaml_node_t *n, unsigned depth, unsigned *budget,
                             json_object *o) {
        json_object *v;
        int r;

        if (n->type == YAML_SEQUENCE_NODE) {
                for (size_t i = 0; i < kc_seq_len(n); i++) {
                        r = to_json(f, kc_seq_at(f, n, i), depth + 1, budget, &v);
                        if (r < 0)
                                return r;
                        if (json_object_array_add(o, v) < 0) {
                                json_object_put(v);
                                return -ENOMEM;
                        }
                }
                return 0;
        }
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
                const yaml_node_t *k = node_at(&f->doc, p->key);

                if (!k || k->type != YAML_SCALAR_NODE)
                        continue; /* JSON keys are strings */
                r = to_json(f, node_at(&f->doc, p->value), depth + 1, budget, &v);
                if (r < 0)
                        return r;
                if (json_object_object_add(o, (const char *) k->data.scalar.value, v) < 0) {
                        json_object_put(v);
                        return -ENOMEM;
                }
        }
        return 0;
}

static int to_json(const struct kc_file *f, const yaml_node_t *n, unsigned depth, unsigned *budget,
                   json_object **ret) {
        json_object *o;
        int r;

        if (depth > JSON_DEPTH_MAX || *budget == 0)
                return -E2BIG;
        (*budget)--;
        if (node_is_null(n)) {
                *ret = NULL;
                return 0;
        }
        if (n->type == YAML_SCALAR_NODE)
                o = scalar_to_json(n);
        else
                o = n->type == YAML_SEQUENCE_NODE ? json_object_new_array() : json_object_new_object();
        if (!o)
                return -ENOMEM;
        if (n->type != YAML_SCALAR_NODE) {
                r = container_to_json(f, n, depth, budget, o);
                if (r < 0) {
                        json_object_put(o);
                        return r;
                }
        }
        *ret = o;
        return 0;
}

int kc_node_to_json(const struct kc_file *f, const yaml_node_t *n, json_object **ret) {
        unsigned budget = JSON_NODES_MAX;

        return to_json(f, n, 0, &budget, ret);
}

/* Checks that list is a sequence of mappings with a string `name`. */
static int check_list(struct kc_file *f, const char *list, char **ret_cause) {
        struct kc_where w = { .file = f, .what = "top level" };
        yaml_node_t *seq;
        int r;

        r = kc_get_seq(&w, f->root, list, &seq, ret_cause);
        if (r < 0 || !seq)
                return r;
        for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
                yaml_node_t *item = node_at(&f->doc, *i);
                const char *name;

                if (!item || item->type != YAML_MAPPING_NODE)
                        return kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu: %s: every entry must be a mapping",
                                       f->path, kc_line(item), list);
                r = kc_get_str(&w, item, "name", &name, ret_cause);
                if (r < 0)
                        return r;
                if (isempty(name))
                        return kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu: %s: entry without a name",
                                       f->path, kc_line(item), list);
        }
        return 0;
}

int kc_file_find(const struct kc_file *f, const char *list, const char *item, const char *name,
                 yaml_node_t **ret, char **ret_cause) {
        yaml_node_t *seq = map_get(&f->doc, f->root, list);

        if (!seq || seq->type != YAML_SEQUENCE_NODE)
                return 0;
        for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
                yaml_node_t *e = node_at(&f->doc, *i), *body;

                if (!scalar_is(map_get(&f->doc, e, "name"), name))
                        continue;
                body = map_get(&f->doc, e, item);
                if (node_is_null(body) || body->type != YAML_MAPPING_NODE)
                        return kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu: %s '%s': '%s' must be a mapping",
                                       f->path, kc_line(e), item, name, item);
                *ret = body;
                return 1;
        }
        return 0;
}

static int file_check(struct kc_file *f, char **ret_cause) {
        static const char *const lists[] = { "clusters", "users", "contexts" };
        struct kc_where w = { .file = f, .what = "top level" };
        int r;

        if (node_is_null(f->root)) {
                f->root = NULL; /* an empty file is an empty configuration */
                return 0;
        }
        if (f->root->type != YAML_MAPPING_NODE)
                return kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu: the document must be a mapping",
                               f->path, kc_line(f->root));
        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                r = check_list(f, lists[i], ret_cause);
                if (r < 0)
                        return r;
        }
        r = kc_get_str(&w, f->root, "current-context", &f->current_context, ret_cause);
        if (r < 0)
                return r;
        if (isempty(f->current_context))
                f->current_context = NULL;
        return 0;
}

static int yaml_load(struct kc_file *f, const char *data, size_t len, char **ret_cause) {
        yaml_parser_t parser;
        int r = 0;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
        if (!yaml_parser_load(&parser, &f->doc)) {
                if (parser.error == YAML_MEMORY_ERROR)
                        r = -ENOMEM;
                else
                        r = kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu:%zu: %s%s%s",
                                    f->path, parser.problem_mark.line + 1,
                                    parser.problem_mark.column + 1, strempty(parser.problem),
                                    parser.context ? " " : "", strempty(parser.context));
        } else
                f->have_doc = true;
        yaml_parser_delete(&parser);
        return r;
}

int kc_file_parse(const char *path, const char *data, size_t len, struct kc_file **ret,
                  char **ret_cause) {
        struct kc_file *f;
        const char *slash;
        int r;

        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        slash = strrchr(path, '/');
        f->path = strdup(path);
        f->dir = slash ? strndup(path, slash == path ? 1 : (size_t) (slash - path)) : strdup(".");
        if (!f->path || !f->dir) {
                kc_file_free(f);
                return -ENOMEM;
        }
        r = yaml_load(f, data, len, ret_cause);
        if (r >= 0) {
                f->root = yaml_document_get_root_node(&f->doc);
                r = file_check(f, ret_cause);
        }
        if (r < 0) {
                kc_file_free(f);
                return r;
        }
        *ret = f;
        return 0;
}

int kc_file_load(const char *path, struct kc_file **ret, char **ret_cause) {
        char *data = NULL;
        size_t len = 0;
        int r;

        r = kc_read_file(path, KC_FILE_MAX, &data, &len);
        if (r < 0)
                return kc_fail(ret_cause, r, "kubeconfig %s: %s", path,
                               r == -EFBIG ? "file too large" : strerror(-r));
        r = kc_file_parse(path, data, len, ret, ret_cause);
        kc_free_secret(data, len); /* the file may hold tokens and keys */
        return r;
}

struct kc_file *kc_file_free(struct kc_file *f) {
        if (!f)
                return NULL;
        if (f->have_doc) {
                /* scalars may be tokens, passwords or keys */
                for (yaml_node_t *n = f->doc.nodes.start; n < f->doc.nodes.top; n++)
                        if (n->type == YAML_SCALAR_NODE)
                                explicit_bzero(n->data.scalar.value, n->data.scalar.length);
                yaml_document_delete(&f->doc);
        }
        free(f->path);
        free(f->dir);
        free(f);
        return NULL;
}

static int b64_value(unsigned char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int kc_base64_decode(const char *s, char **ret, size_t *ret_len) {
        size_t n = 0, len = strlen(s), pad = 0, chars = 0;
        uint32_t acc = 0;
        char *out;

        out = malloc(len / 4 * 3 + 4);
        if (!out)
                return -ENOMEM;
        for (const char *p = s; *p; p++) {
                int v;

                if (strchr(" \t\r\n", *p))
                        continue;
                if (*p == '=') {
                        pad++;
                        chars++;
                        continue;
                }
                v = b64_value((unsigned char) *p);
                if (v < 0 || pad > 0)
                        goto fail;
                acc = acc << 6 | (uint32_t) v;
                if (++chars % 4 == 0) {
                        out[n++] = (char) (acc >> 16);
                        out[n++] = (char) (acc >> 8);
                        out[n++] = (char) acc;
                        acc = 0;
                }
        }
        if (chars % 4 != 0 || pad > 2)
                goto fail;
        if (pad > 0) {
                /* the last group held 4 - pad characters */
                acc <<= 6 * pad;
                out[n++] = (char) (acc >> 16);
                if (pad == 1)
                        out[n++] = (char) (acc >> 8);
        }
        out[n] = '\0';
        *ret = out;
        *ret_len = n;
        return 0;
fail:
        kc_free_secret(out, len / 4 * 3 + 4);
        return -EINVAL;
}

char *kc_base64_encode(const char *data, size_t len) {
        static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *d = (const unsigned char *) data;
        char *out, *o;

        out = o = malloc((len + 2) / 3 * 4 + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t) d[i] << 16;

                if (i + 1 < len)
                        v |= (uint32_t) d[i + 1] << 8;
                if (i + 2 < len)
                        v |= d[i + 2];
                *o++ = tab[v >> 18 & 63];
                *o++ = tab[v >> 12 & 63];
                *o++ = i + 1 < len ? tab[v >> 6 & 63] : '=';
                *o++ = i + 2 < len ? tab[v & 63] : '=';
        }
        *o = '\0';
        return out;
}

int kc_read_file(const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_(closep) int fd = -EBADF;
        size_t n = 0, size = 4096;
        char *buf;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k;

                if (n + 1 >= size) {
                        char *b;

                        if (size > max) {
                                kc_free_secret(buf, n);
                                return -EFBIG;
                        }
                        /* grow by copying so that no stale secret is left behind by realloc */
                        b = malloc(size * 2);
                        if (!b) {
                                kc_free_secret(buf, n);
                                return -ENOMEM;
                        }
                        memcpy(b, buf, n);
                        kc_free_secret(buf, n);
                        buf = b;
                        size *= 2;
                }
                k = read(fd, buf + n, size - n - 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int r = -errno;

                        kc_free_secret(buf, n);
                        return r;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        if (n > max) {
                kc_free_secret(buf, n);
                return -EFBIG;
        }
        buf[n] = '\0';
        *ret = buf;
        *ret_len = n;
        return 0;
}

char *kc_path_resolve(const char *dir, const char *path) {
        char *s;

        if (path[0] == '/' || !dir)
                return strdup(path);
        while (path[0] == '.' && path[1] == '/')
                for (path += 2; *path == '/'; path++)
                        ;
        if (asprintf(&s, "%s/%s", dir, path) < 0)
                return NULL;
        return s;
}
