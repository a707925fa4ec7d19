/* SPDX-License-Identifier: MIT */
#include "images.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labelsel.h"
#include "macro.h"
#include "util.h"

#define DEFAULT_DOMAIN "docker.io"
#define QUOTE_MAX 200

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c) {
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c, bool lower_only) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (!lower_only && c >= 'A' && c <= 'F');
}

static bool is_word(char c) {
        return is_alnum(c) || c == '_';
}

/* ---- grammar pieces ---- */

/* tag := [\w][\w.-]{0,127} */
static bool tag_valid(const char *t) {
        size_t len = strlen(t);

        if (len == 0 || len > IMAGES_TAG_MAX || !is_word(t[0]))
                return false;
        for (size_t i = 1; i < len; i++)
                if (!is_word(t[i]) && t[i] != '.' && t[i] != '-')
                        return false;
        return true;
}

/* digest-algorithm := component ([+._-] component)*, component := [A-Za-z][A-Za-z0-9]* */
static bool digest_algorithm_valid(const char *a, size_t len) {
        bool need_alpha = true;

        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = a[i];
                bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
                if (need_alpha) {
                        if (!alpha)
                                return false;
                        need_alpha = false;
                } else if (c == '+' || c == '.' || c == '_' || c == '-')
                        need_alpha = true;
                else if (!is_alnum(c))
                        return false;
        }
        return !need_alpha;
}

bool image_digest_valid(const char *digest) {
        const char *colon = digest ? strchr(digest, ':') : NULL;
        size_t alen, hlen, want = 0;
        bool known;

        if (!colon)
                return false;
        alen = (size_t) (colon - digest);
        if (!digest_algorithm_valid(digest, alen))
                return false;
        hlen = strlen(colon + 1);
        if (alen == 6 && startswith(digest, "sha256:"))
                want = 64;
        else if (alen == 6 && startswith(digest, "sha384:"))
                want = 96;
        else if (alen == 6 && startswith(digest, "sha512:"))
                want = 128;
        known = want > 0;
        if (known ? hlen != want : hlen < 32)
                return false;
        for (size_t i = 0; i < hlen; i++)
                if (!is_hex(colon[1 + i], known))
                        return false;
        return true;
}

/* domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool host_valid(const char *h, size_t len) {
        size_t start = 0;

        if (len == 0)
                return false;
        for (size_t i = 0; i <= len; i++) {
                if (i < len && h[i] != '.') {
                        if (!is_alnum(h[i]) && h[i] != '-')
                                return false;
                        continue;
                }
                if (i == start || h[start] == '-' || h[i - 1] == '-')
                        return false;
                start = i + 1;
        }
        return true;
}

static bool port_valid(const char *p) {
        if (*p == '\0')
                return false;
        for (; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        return true;
}

/* host [":" port], host being a name, an IPv4 address, or "[" IPv6 "]". */
static bool domain_valid(const char *d) {
        const char *end, *colon;

        if (d[0] == '[') {
                end = strchr(d, ']');
                if (!end || end == d + 1)
                        return false;
                for (const char *p = d + 1; p < end; p++)
                        if (!is_hex(*p, false) && *p != ':')
                                return false;
                return end[1] == '\0' || (end[1] == ':' && port_valid(end + 2));
        }
        colon = strchr(d, ':');
        if (!colon)
                return host_valid(d, strlen(d));
        return host_valid(d, (size_t) (colon - d)) && port_valid(colon + 1);
}

/* path-component := [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool component_valid(const char *c, size_t len) {
        size_t sep_start = 0, sep_len = 0;

        if (len == 0 || !is_lower_alnum(c[0]) || !is_lower_alnum(c[len - 1]))
                return false;
        for (size_t i = 0; i < len; i++) {
                if (!is_lower_alnum(c[i])) {
                        if (sep_len++ == 0)
                                sep_start = i;
                        continue;
                }
                if (sep_len > 0) {
                        const char *s = c + sep_start;
                        bool dashes = strspn(s, "-") >= sep_len;
                        bool ok = dashes || (sep_len == 1 && (*s == '.' || *s == '_')) ||
                                  (sep_len == 2 && s[0] == '_' && s[1] == '_');
                        if (!ok)
                                return false;
                        sep_len = 0;
                }
        }
        return true;
}

static bool path_valid(const char *p) {
        const char *start = p;

        for (;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                if (!component_valid(start, (size_t) (p - start)))
                        return false;
                if (*p == '\0')
                        return true;
                start = p + 1;
        }
}

static bool has_upper(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (s[i] >= 'A' && s[i] <= 'Z')
                        return true;
        return false;
}

static int check_path(const char *path, char **ret_cause) {
        _cleanup_(freep) char *lower = NULL;

        if (path_valid(path))
                return 0;
        if (has_upper(path, strlen(path))) {
                lower = strdup(path);
                if (!lower)
                        return -ENOMEM;
                for (char *p = lower; *p; p++)
                        if (*p >= 'A' && *p <= 'Z')
                                *p = (char) (*p - 'A' + 'a');
                if (path_valid(lower))
                        return cause_fmt(ret_cause, "repository name must be lowercase");
        }
        return cause_fmt(ret_cause, "invalid repository path '%s'", path);
}

/* ---- parsing and normalisation ---- */

void image_ref_done(struct image_ref *r) {
        if (!r)
                return;
        free(r->domain);
        free(r->path);
        free(r->tag);
        free(r->digest);
        free(r->normalized);
        memset(r, 0, sizeof(*r));
}

static int check_chars(const char *s, char **ret_cause) {
        size_t hex = strspn(s, "0123456789abcdef");

        if (*s == '\0')
                return cause_fmt(ret_cause, "empty reference");
        for (const char *p = s; *p; p++) {
                if (*p == ' ' || *p == '\t')
                        return cause_fmt(ret_cause, "contains whitespace");
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return cause_fmt(ret_cause, "contains a control character");
        }
        if (hex == 64 && s[64] == '\0')
                return cause_fmt(ret_cause, "a 64-character hexadecimal string is an image ID, not a reference");
        return 0;
}

/* Splits off "@digest" and ":tag"; *name is what remains. */
static int split_tag_digest(char *s, char **name, char **tag, char **digest, char **ret_cause) {
        char *at = strchr(s, '@'), *slash, *colon;

        *digest = *tag = NULL;
        if (at) {
                *at = '\0';
                if (!image_digest_valid(at + 1))
                        return cause_fmt(ret_cause, "invalid digest '%s'", at + 1);
                *digest = at + 1;
        }
        slash = strrchr(s, '/');
        colon = strrchr(s, ':');
        if (colon && (!slash || colon > slash)) {
                *colon = '\0';
                if (!tag_valid(colon + 1))
                        return cause_fmt(ret_cause,
                                     "invalid tag '%s': up to %d of letters, digits, '_', '.', '-', not starting with '.' or '-'",
                                     colon + 1, IMAGES_TAG_MAX);
                *tag = colon + 1;
        }
        *name = s;
        if (*s == '\0')
                return cause_fmt(ret_cause, "missing repository name");
        return 0;
}

/* Docker's rule: the first component is a domain when it has '.' or ':', is
 * "localhost", or has uppercase letters (repositories cannot). */
static void split_domain(char *name, const char **domain, const char **remainder) {
        char *slash = strchr(name, '/');

        if (!slash || (!memchr(name, '.', (size_t) (slash - name)) &&
                       !memchr(name, ':', (size_t) (slash - name)) &&
                       strncmp(name, "localhost/", 10) != 0 && !has_upper(name, (size_t) (slash - name)))) {
                *domain = DEFAULT_DOMAIN;
                *remainder = name;
                return;
        }
        *slash = '\0';
        *domain = name;
        *remainder = slash + 1;
}

static int ref_fill(struct image_ref *r, const char *domain, const char *path, const char *tag,
                    const char *digest) {
        bool library = streq(domain, DEFAULT_DOMAIN) && !strchr(path, '/');

        r->domain = strdup(domain);
        if (asprintf(&r->path, "%s%s", library ? "library/" : "", path) < 0)
                r->path = NULL;
        r->tag = tag ? strdup(tag) : NULL;
        r->digest = digest ? strdup(digest) : NULL;
        if (!r->domain || !r->path || (tag && !r->tag) || (digest && !r->digest))
                return -ENOMEM;
        if (asprintf(&r->normalized, "%s/%s%s%s%s%s", r->domain, r->path, tag ? ":" : "",
                     strempty(tag), digest ? "@" : "", strempty(digest)) < 0) {
                r->normalized = NULL;
                return -ENOMEM;
        }
        return 0;
}

int image_ref_parse(const char *s, struct image_ref *ret, char **ret_cause) {
        _cleanup_(image_ref_done) struct image_ref r = {};
        _cleanup_(freep) char *copy = NULL;
        char *name = NULL, *tag = NULL, *digest = NULL; /* cause_fmt() is opaque to -Wmaybe-uninitialized */
        const char *domain, *path;
        int k;

        k = check_chars(strempty(s), ret_cause);
        if (k < 0)
                return k;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        k = split_tag_digest(copy, &name, &tag, &digest, ret_cause);
        if (k < 0)
                return k;
        split_domain(name, &domain, &path);
        if (!domain_valid(domain))
                return cause_fmt(ret_cause, "invalid registry host '%s'", domain);
        k = check_path(path, ret_cause);
        if (k < 0)
                return k;
        if (streq(domain, "index.docker.io"))
                domain = DEFAULT_DOMAIN;
        /* Docker's default tag, unless a digest already pins the content. */
        k = ref_fill(&r, domain, path, tag ? tag : digest ? NULL : "latest", digest);
        if (k < 0)
                return k;
        /* As distribution does, the limit applies to the normalised name. */
        if (strlen(r.domain) + 1 + strlen(r.path) > IMAGES_NAME_MAX)
                return cause_fmt(ret_cause, "repository name longer than %d characters once normalised",
                             IMAGES_NAME_MAX);
        *ret = r;
        memset(&r, 0, sizeof(r));
        return 0;
}

/* ---- the images file ---- */

struct strv_builder {
        char **v;
        size_t n;
};

_printf_(2, 3) static int strv_push(struct strv_builder *b, const char *fmt, ...) {
        char **n, *s;
        va_list ap;
        int k;

        n = realloc(b->v, (b->n + 2) * sizeof(char *));
        if (!n)
                return -ENOMEM;
        b->v = n;
        va_start(ap, fmt);
        k = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        n[b->n++] = s;
        n[b->n] = NULL;
        return 0;
}

/* A copy of the user's text safe to print: control bytes as '?', long text cut. */
static char *quote(const char *s, size_t len) {
        size_t n = MIN(len, (size_t) QUOTE_MAX);
        char *q = malloc(n + 4);

        if (!q)
                return NULL;
        for (size_t i = 0; i < n; i++)
                q[i] = ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
        strcpy(q + n, len > n ? "..." : "");
        return q;
}

/* Cuts comments and surrounding blanks: returns the reference's start and length. */
static const char *line_trim(const char *line, size_t len, size_t *ret_len) {
        for (size_t i = 0; i < len; i++)
                if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
                        len = i;
                        break;
                }
        while (len > 0 && strchr(" \t\r\v\f", line[len - 1]))
                len--;
        while (len > 0 && strchr(" \t\r\v\f", *line)) {
                line++;
                len--;
        }
        *ret_len = len;
        return line;
}

static const struct image_entry *list_find(const struct image_list *l, const char *normalized) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->entries[i].ref.normalized, normalized))
                        return &l->entries[i];
        return NULL;
}

static int list_add(struct image_list *l, struct image_ref *ref, unsigned line, const char *text,
                    size_t len) {
        struct image_entry *n = realloc(l->entries, (l->n + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        l->entries = n;
        n[l->n] = (struct image_entry){ .ref = *ref, .line = line, .original = strndup(text, len) };
        memset(ref, 0, sizeof(*ref));
        if (!n[l->n].original) {
                image_ref_done(&n[l->n].ref);
                return -ENOMEM;
        }
        l->n++;
        return 0;
}

static int parse_line(struct image_list *l, struct strv_builder *errors, struct strv_builder *warnings,
                      const char *filename, unsigned lineno, const char *text, size_t len) {
        _cleanup_(image_ref_done) struct image_ref ref = {};
        _cleanup_(freep) char *q = quote(text, len), *why = NULL, *copy = NULL;
        const struct image_entry *dup;
        int r;

        if (!q)
                return -ENOMEM;
        if (memchr(text, '\0', len))
                return strv_push(errors, "%s:%u: invalid image reference '%s': contains a NUL byte",
                                 filename, lineno, q);
        copy = strndup(text, len);
        if (!copy)
                return -ENOMEM;
        r = image_ref_parse(copy, &ref, &why);
        if (r == -EINVAL)
                return strv_push(errors, "%s:%u: invalid image reference '%s': %s", filename, lineno, q,
                                 strempty(why));
        if (r < 0)
                return r;
        dup = list_find(l, ref.normalized);
        if (dup)
                return strv_push(warnings, "%s:%u: duplicate image '%s' (%s, as on line %u), ignoring",
                                 filename, lineno, q, ref.normalized, dup->line);
        return list_add(l, &ref, lineno, text, len);
}

int images_parse(const char *buf, size_t len, const char *filename, struct image_list **ret,
                 char ***ret_errors) {
        _cleanup_(image_list_freep) struct image_list *l = NULL;
        struct strv_builder errors = {}, warnings = {};
        unsigned lineno = 0;
        size_t pos = 0;
        int r = 0;

        filename = filename ? filename : "images";
        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        while (r >= 0 && pos < len) {
                const char *nl = memchr(buf + pos, '\n', len - pos), *text;
                size_t end = nl ? (size_t) (nl - buf) : len, tlen;

                lineno++;
                text = line_trim(buf + pos, end - pos, &tlen);
                if (tlen > 0)
                        r = parse_line(l, &errors, &warnings, filename, lineno, text, tlen);
                pos = end + 1;
        }
        l->warnings = warnings.v;
        if (r >= 0 && errors.n > 0) {
                if (ret_errors)
                        *ret_errors = TAKE_PTR(errors.v);
                r = -EINVAL;
        }
        strv_free(errors.v);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

struct image_list *image_list_free(struct image_list *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n; i++) {
                image_ref_done(&l->entries[i].ref);
                free(l->entries[i].original);
        }
        free(l->entries);
        strv_free(l->warnings);
        free(l);
        return NULL;
}

void image_list_freep(struct image_list **l) {
        image_list_free(*l);
}

/* ---- container names ---- */

/* Appends s to the name as lowercase alphanumerics with single '-' between runs. */
static void name_append(char *out, size_t *n, size_t max, const char *s) {
        for (; *s && *n < max; s++) {
                char c = (*s >= 'A' && *s <= 'Z') ? (char) (*s - 'A' + 'a') : *s;
                if (is_lower_alnum(c))
                        out[(*n)++] = c;
                else if (*n > 0 && out[*n - 1] != '-')
                        out[(*n)++] = '-';
        }
}

static char *name_finish(char *out, size_t n) {
        while (n > 0 && out[n - 1] == '-')
                n--;
        if (n == 0)
                return strcpy(out, "image");
        out[n] = '\0';
        return out;
}

int image_container_name(const char *ref, char **ret) {
        _cleanup_(image_ref_done) struct image_ref r = {};
        char out[64];
        const char *base;
        size_t n = 0;
        int k;

        k = image_ref_parse(ref, &r, NULL);
        if (k < 0)
                return k;
        base = strrchr(r.path, '/');
        name_append(out, &n, 63, base ? base + 1 : r.path);
        if (r.tag && !streq(r.tag, "latest")) {
                name_append(out, &n, 63, "-");
                name_append(out, &n, 63, r.tag);
        } else if (!r.tag && r.digest) {
                /* "sha256:0123..." -> "-0123456789ab" */
                char hex[13] = {};
                strncpy(hex, strchr(r.digest, ':') + 1, 12);
                name_append(out, &n, 63, "-");
                name_append(out, &n, 63, hex);
        }
        *ret = strdup(name_finish(out, n));
        return *ret ? 0 : -ENOMEM;
}

static bool name_taken(char *const *names, size_t n, const char *name) {
        if (streq(name, IMAGES_RESERVED_NAME))
                return true;
        for (size_t i = 0; i < n; i++)
                if (streq(names[i], name))
                        return true;
        return false;
}

/* Replaces *name with "<base cut to fit>-<k>" for the first free k >= 2. */
static int name_dedup(char *const *names, size_t n, char **name) {
        char buf[64], suffix[24];

        for (unsigned k = 2;; k++) {
                size_t slen = (size_t) snprintf(suffix, sizeof(suffix), "-%u", k);
                size_t blen = MIN(strlen(*name), 63 - slen);

                memcpy(buf, *name, blen);
                while (blen > 0 && buf[blen - 1] == '-')
                        blen--;
                memcpy(buf + blen, suffix, slen + 1);
                if (!name_taken(names, n, buf))
                        return free_and_strdup(name, buf);
        }
}

int images_container_names(const char *const *refs, size_t n, char ***ret) {
        _cleanup_(strv_freep) char **names = calloc(n + 1, sizeof(char *));
        int r;

        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = image_container_name(refs[i], &names[i]);
                if (r < 0)
                        return r;
                if (name_taken(names, i, names[i])) {
                        r = name_dedup(names, i, &names[i]);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(names);
        return 0;
}

/* ---- what the kubelet reports ---- */

static const char *strip_runtime_prefix(const char *s) {
        const char *p;

        if ((p = startswith(s, "docker-pullable://")) || (p = startswith(s, "docker://")))
                return p;
        return s;
}

/* Whether name can designate want at all: normalisation only adds a registry and
 * "library/" in front, so the last path component (and a digest) appear verbatim. Saves
 * parsing the ~100 names of each node's status.images for every wanted image. */
static bool name_may_match(const char *name, const struct image_ref *want) {
        const char *base = strrchr(want->path, '/');

        base = base ? base + 1 : want->path;
        if (!strstr(name, base))
                return false;
        return !want->digest || strstr(name, want->digest);
}

bool image_name_matches(const char *kubelet_name, const struct image_ref *want) {
        _cleanup_(image_ref_done) struct image_ref have = {};

        if (!kubelet_name || !want || !want->path || !name_may_match(kubelet_name, want))
                return false;
        if (image_ref_parse(strip_runtime_prefix(kubelet_name), &have, NULL) < 0)
                return false;
        if (!streq(have.domain, want->domain) || !streq(have.path, want->path))
                return false;
        if (want->digest)
                return streq_ptr(have.digest, want->digest);
        return streq_ptr(have.tag, want->tag);
}

int image_id_digest(const char *image_id, char **ret) {
        const char *s, *at;
        char *d;

        s = strip_runtime_prefix(strempty(image_id));
        if (*s == '\0')
                return -ENOENT;
        at = strrchr(s, '@');
        s = at ? at + 1 : s;
        if (!image_digest_valid(s))
                return -EINVAL;
        d = strdup(s);
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}
