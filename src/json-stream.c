/* SPDX-License-Identifier: MIT */
/* A small structural scanner finds where each element of a list's "items" array starts
 * and ends in the byte stream (strings and escapes included); json_tokener parses each
 * element alone. Memory stays at one element, however large the page. */
#define _GNU_SOURCE 1

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json-stream.h"
#include "macro.h"

#define DEFAULT_MAX_VALUE (16u * 1024u * 1024u)
#define MAX_DEPTH 512

/* Follows one JSON value byte by byte to find where it ends. */
struct value_track {
        int depth;
        bool started, in_str, esc, literal;
};

enum track_result { TRACK_MORE, TRACK_DONE, TRACK_DONE_UNCONSUMED, TRACK_BAD };

static bool is_ws(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static enum track_result track_first(struct value_track *v, char c) {
        v->started = true;
        if (c == '{' || c == '[')
                v->depth = 1;
        else if (c == '"')
                v->in_str = true;
        else if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n')
                v->literal = true;
        else
                return TRACK_BAD;
        return TRACK_MORE;
}

static enum track_result track(struct value_track *v, char c) {
        if (!v->started)
                return track_first(v, c);
        if (v->in_str) {
                if (v->esc)
                        v->esc = false;
                else if (c == '\\')
                        v->esc = true;
                else if (c == '"') {
                        v->in_str = false;
                        if (v->depth == 0)
                                return TRACK_DONE;
                }
                return TRACK_MORE;
        }
        if (v->literal)
                return (is_ws(c) || c == ',' || c == '}' || c == ']') ? TRACK_DONE_UNCONSUMED : TRACK_MORE;
        if (c == '"')
                v->in_str = true;
        else if (c == '{' || c == '[') {
                if (++v->depth > MAX_DEPTH)
                        return TRACK_BAD;
        } else if (c == '}' || c == ']') {
                if (--v->depth == 0)
                        return TRACK_DONE;
        }
        return TRACK_MORE;
}

/* ---- json_items ---- */

enum items_state {
        S_BEGIN,      /* before the top-level '{' */
        S_KEY,        /* expecting a key or '}' */
        S_KEYSTR,     /* inside a key */
        S_COLON,
        S_VALUE,      /* expecting a member value */
        S_MEMBER,     /* inside a member value */
        S_NEXT,       /* expecting ',' or '}' */
        S_ELEM,       /* inside "items": expecting an element or ']' */
        S_ITEM,       /* inside an element */
        S_ELEM_NEXT,  /* expecting ',' or ']' */
        S_END,        /* after the top-level '}' */
        S_FAILED,
};

struct json_items {
        json_item_fn on_item;
        json_member_fn on_member;
        void *userdata;
        enum items_state state;
        char key[64];
        size_t key_len;
        bool key_esc, key_long;
        struct value_track vt;
        char *buf;
        size_t len, cap, max;
        json_tokener *tok;
        int error;
};

struct json_items *json_items_new(json_item_fn on_item, json_member_fn on_member, void *userdata) {
        struct json_items *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        s->tok = json_tokener_new();
        if (!s->tok) {
                free(s);
                return NULL;
        }
        s->on_item = on_item;
        s->on_member = on_member;
        s->userdata = userdata;
        s->max = DEFAULT_MAX_VALUE;
        return s;
}

struct json_items *json_items_free(struct json_items *s) {
        if (!s)
                return NULL;
        json_tokener_free(s->tok);
        free(s->buf);
        free(s);
        return NULL;
}

void json_items_set_max(struct json_items *s, size_t max_value) {
        s->max = max_value;
}

static int buf_push(struct json_items *s, char c) {
        /* max counts the value itself; one more byte for the space buf_parse() adds. */
        if (s->len > s->max)
                return -E2BIG;
        if (s->len + 2 > s->cap) {
                size_t cap = MAX((size_t) 4096, s->cap * 2);
                char *p;

                p = realloc(s->buf, cap);
                if (!p)
                        return -ENOMEM;
                s->buf = p;
                s->cap = cap;
        }
        s->buf[s->len++] = c;
        return 0;
}

/* Appends n bytes at once; same limit as n calls of buf_push(). */
static int buf_append(struct json_items *s, const char *p, size_t n) {
        if (s->len + n > s->max + 1)
                return -E2BIG;
        if (s->len + n + 1 > s->cap) {
                size_t cap = MAX((size_t) 4096, s->cap);
                char *b;

                while (cap < s->len + n + 1)
                        cap *= 2;
                b = realloc(s->buf, cap);
                if (!b)
                        return -ENOMEM;
                s->buf = b;
                s->cap = cap;
        }
        memcpy(s->buf + s->len, p, n);
        s->len += n;
        return 0;
}

/* How many bytes from p on leave the tracked value's structure alone (string contents
 * without quote or backslash; outside strings anything but quotes and brackets), so that
 * they can be copied in one go: a node is ~20 kB of mostly such bytes. */
static size_t plain_run(const struct value_track *v, const char *p, size_t len) {
        size_t i = 0;

        if (!v->started || v->literal || v->esc)
                return 0;
        if (v->in_str)
                while (i < len && p[i] != '"' && p[i] != '\\')
                        i++;
        else
                while (i < len && p[i] != '"' && p[i] != '{' && p[i] != '}' && p[i] != '[' && p[i] != ']')
                        i++;
        return i;
}

/* Parses the captured value alone. A trailing space ends a bare number. */
static int buf_parse(struct json_items *s, json_object **ret) {
        json_object *o;
        int r;

        r = buf_push(s, ' ');
        if (r < 0)
                return r;
        json_tokener_reset(s->tok);
        o = json_tokener_parse_ex(s->tok, s->buf, (int) s->len);
        s->len = 0;
        if (json_tokener_get_error(s->tok) != json_tokener_success) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

static int emit(struct json_items *s, bool item) {
        json_object *o = NULL;
        int r;

        r = buf_parse(s, &o);
        if (r < 0)
                return r;
        if (item)
                r = s->on_item(o, s->userdata);
        else if (s->on_member) {
                s->key[s->key_long ? 0 : s->key_len] = 0;
                r = s->on_member(s->key, o, s->userdata);
        }
        json_object_put(o);
        return r;
}

/* Feeds c to the value being captured; *consumed false when c belongs to what follows. */
static int capture(struct json_items *s, char c, bool item, bool *consumed) {
        enum track_result t = track(&s->vt, c);
        int r;

        *consumed = t != TRACK_DONE_UNCONSUMED;
        if (t == TRACK_BAD)
                return -EBADMSG;
        if (*consumed) {
                r = buf_push(s, c);
                if (r < 0)
                        return r;
        }
        if (t == TRACK_MORE)
                return 0;
        s->state = item ? S_ELEM_NEXT : S_NEXT;
        return emit(s, item);
}

static void start_value(struct json_items *s, enum items_state st) {
        s->vt = (struct value_track) {};
        s->len = 0;
        s->state = st;
}

static int key_char(struct json_items *s, char c) {
        if (s->key_esc)
                s->key_esc = false;
        else if (c == '\\')
                s->key_esc = true;
        else if (c == '"') {
                s->state = S_COLON;
                return 0;
        }
        if (s->key_len + 1 >= sizeof(s->key))
                s->key_long = true;
        else
                s->key[s->key_len++] = c;
        return 0;
}

static bool key_is_items(struct json_items *s) {
        return !s->key_long && s->key_len == 5 && memcmp(s->key, "items", 5) == 0;
}

/* One byte of structure outside captured values. Returns 0, or -EBADMSG. */
static int structure(struct json_items *s, char c) {
        if (is_ws(c))
                return 0;
        switch (s->state) {
        case S_BEGIN:
                if (c != '{')
                        return -EBADMSG;
                s->state = S_KEY;
                return 0;
        case S_KEY:
                if (c == '}') {
                        s->state = S_END;
                        return 0;
                }
                if (c != '"')
                        return -EBADMSG;
                s->key_len = 0;
                s->key_long = s->key_esc = false;
                s->state = S_KEYSTR;
                return 0;
        case S_COLON:
                if (c != ':')
                        return -EBADMSG;
                s->state = S_VALUE;
                return 0;
        case S_NEXT:
                if (c == ',' || c == '}') {
                        s->state = c == ',' ? S_KEY : S_END;
                        return 0;
                }
                return -EBADMSG;
        case S_ELEM_NEXT:
                if (c == ',' || c == ']') {
                        s->state = c == ',' ? S_ELEM : S_NEXT;
                        return 0;
                }
                return -EBADMSG;
        default:
                return -EBADMSG;
        }
}

static int items_byte(struct json_items *s, char c) {
        bool consumed = true;
        int r;

        switch (s->state) {
        case S_KEYSTR:
                return key_char(s, c);
        case S_VALUE:
                if (is_ws(c))
                        return 0;
                if (c == '[' && key_is_items(s)) {
                        s->state = S_ELEM;
                        return 0;
                }
                start_value(s, S_MEMBER);
                return capture(s, c, false, &consumed);
        case S_MEMBER:
                r = capture(s, c, false, &consumed);
                break;
        case S_ELEM:
                if (is_ws(c))
                        return 0;
                if (c == ']') {
                        s->state = S_NEXT;
                        return 0;
                }
                start_value(s, S_ITEM);
                return capture(s, c, true, &consumed);
        case S_ITEM:
                r = capture(s, c, true, &consumed);
                break;
        default:
                return structure(s, c);
        }
        if (r < 0 || consumed)
                return r;
        /* A bare literal ended at c: c is structure. */
        return structure(s, c);
}

int json_items_feed(struct json_items *s, const char *data, size_t len) {
        int r;

        if (s->state == S_FAILED)
                return s->error;
        for (size_t i = 0; i < len;) {
                size_t n = 0;

                if (s->state == S_ITEM || s->state == S_MEMBER)
                        n = plain_run(&s->vt, data + i, len - i);
                if (n > 0) {
                        r = buf_append(s, data + i, n);
                        i += n;
                } else
                        r = items_byte(s, data[i++]);
                if (r < 0) {
                        s->state = S_FAILED;
                        s->error = r;
                        return r;
                }
        }
        return 0;
}

int json_items_finish(struct json_items *s) {
        if (s->state == S_FAILED)
                return s->error;
        return s->state == S_END ? 0 : -EBADMSG;
}

/* ---- json_values ---- */

struct json_values {
        json_value_fn on_value;
        void *userdata;
        json_tokener *tok;
        bool midway; /* copy holds the start of an unfinished value */
        size_t max;
        char *copy; /* the bytes of a value that spans pieces, see values_step() */
        size_t copy_len, copy_cap;
        int error;
};

struct json_values *json_values_new(json_value_fn on_value, void *userdata) {
        struct json_values *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        s->tok = json_tokener_new();
        if (!s->tok) {
                free(s);
                return NULL;
        }
        s->on_value = on_value;
        s->userdata = userdata;
        s->max = DEFAULT_MAX_VALUE;
        return s;
}

struct json_values *json_values_free(struct json_values *s) {
        if (!s)
                return NULL;
        json_tokener_free(s->tok);
        free(s->copy);
        free(s);
        return NULL;
}

static int values_keep(struct json_values *s, const char *p, size_t n) {
        if (s->copy_len + n + 1 > s->copy_cap) {
                size_t cap = MAX((size_t) 4096, s->copy_cap);
                char *b;

                while (cap < s->copy_len + n + 1)
                        cap *= 2;
                b = realloc(s->copy, cap);
                if (!b)
                        return -ENOMEM;
                s->copy = b;
                s->copy_cap = cap;
        }
        memcpy(s->copy + s->copy_len, p, n);
        s->copy_len += n;
        return 0;
}

/* Parses buf[0..n) in one go with a fresh tokener state. Returns 1 with the value and
 * where it ends, 0 when more bytes are needed, -EBADMSG when it is not JSON. */
static int values_parse(struct json_values *s, const char *buf, size_t n, json_object **ret,
                        size_t *ret_end) {
        enum json_tokener_error e;
        json_object *o;

        json_tokener_reset(s->tok);
        o = json_tokener_parse_ex(s->tok, buf, (int) n);
        e = json_tokener_get_error(s->tok);
        if (e == json_tokener_continue)
                return 0;
        if (e != json_tokener_success) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        *ret_end = json_tokener_get_parse_end(s->tok);
        return 1;
}

/* One value from *p on. json-c 0.16 judges a value fed in several calls differently from
 * the same bytes in one call ("33" then "-}" completes 33; in one call it is an error),
 * so the tokener never carries a value across pieces: the bytes of an unfinished value
 * are kept and parsed again, from its start, in one call with the next piece. The result
 * is then the same wherever the reads end (found by fuzz-watch). */
static int values_step(struct json_values *s, const char **p, size_t *len) {
        size_t n = MIN(*len, (size_t) INT32_MAX), before = s->copy_len, end = 0, used;
        json_object *o = NULL;
        int r;

        if (!s->midway)
                while (*len > 0 && is_ws(**p)) {
                        (*p)++;
                        (*len)--;
                        n = MIN(*len, (size_t) INT32_MAX);
                }
        if (*len == 0)
                return 0;
        if (s->midway) {
                if (before + n > s->max)
                        n = s->max + 1 - before; /* enough to tell "too large" */
                r = values_keep(s, *p, n);
                if (r >= 0)
                        r = values_parse(s, s->copy, s->copy_len, &o, &end);
        } else
                r = values_parse(s, *p, n, &o, &end);
        if (r < 0)
                return r;
        if (r == 0) {
                if (!s->midway)
                        r = n > s->max ? -E2BIG : values_keep(s, *p, n);
                s->midway = true;
                *p += n;
                *len -= n;
                if (r < 0)
                        return r;
                return s->copy_len > s->max ? -E2BIG : 0;
        }
        if (s->midway && end < before) {
                /* a shorter input was judged unfinished: json-c broke its own rule */
                json_object_put(o);
                return -EBADMSG;
        }
        used = s->midway ? end - before : end;
        s->copy_len = 0;
        s->midway = false;
        *p += used;
        *len -= used;
        r = s->on_value(o, s->userdata);
        json_object_put(o);
        return r;
}

int json_values_feed(struct json_values *s, const char *data, size_t len) {
        int r;

        if (s->error < 0)
                return s->error;
        while (len > 0) {
                r = values_step(s, &data, &len);
                if (r < 0)
                        return (s->error = r);
        }
        return 0;
}

int json_values_finish(struct json_values *s) {
        if (s->error < 0)
                return s->error;
        return s->midway ? -EBADMSG : 0;
}
