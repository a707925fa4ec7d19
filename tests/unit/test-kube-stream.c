/* SPDX-License-Identifier: MIT */
/* The streaming readers: list items found in a byte stream split at every boundary, and
 * a watch stream of concatenated JSON values split at every boundary. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "json-stream.h"
#include "macro.h"
#include "tap.h"

static char *slurp(const char *name, size_t *ret_len) {
        return tap_data("tests/data/api", name, ret_len);
}

/* What the readers saw, as one string: items (or values) and members in order. */
struct seen {
        char log[8192];
        int stop_after; /* stop with -EINTR after this many callbacks; 0 = never */
        int calls;
};

static int record(struct seen *s, const char *prefix, json_object *o) {
        size_t l = strlen(s->log);

        (void) snprintf(s->log + l, sizeof(s->log) - l, "%s%s|", prefix,
                        o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "NULL");
        if (s->stop_after && ++s->calls >= s->stop_after)
                return -EINTR;
        return 0;
}

static int on_item(json_object *o, void *userdata) {
        return record(userdata, "I:", o);
}

static int on_member(const char *key, json_object *o, void *userdata) {
        struct seen *s = userdata;
        size_t l = strlen(s->log);

        (void) snprintf(s->log + l, sizeof(s->log) - l, "%s=", key);
        return record(s, "", o);
}

static int on_value(json_object *o, void *userdata) {
        return record(userdata, "V:", o);
}

/* Feeds data in two pieces split at cut. */
static int items_split(const char *data, size_t len, size_t cut, struct seen *s) {
        _cleanup_(json_items_freep) struct json_items *r = json_items_new(on_item, on_member, s);
        int e;

        memset(s->log, 0, sizeof(s->log));
        e = json_items_feed(r, data, cut);
        if (e >= 0)
                e = json_items_feed(r, data + cut, len - cut);
        return e < 0 ? e : json_items_finish(r);
}

static int items_bytewise(const char *data, size_t len, struct seen *s) {
        _cleanup_(json_items_freep) struct json_items *r = json_items_new(on_item, on_member, s);
        int e = 0;

        memset(s->log, 0, sizeof(s->log));
        for (size_t i = 0; i < len && e >= 0; i++)
                e = json_items_feed(r, data + i, 1);
        return e < 0 ? e : json_items_finish(r);
}

static void test_items_every_split(void) {
        _cleanup_(freep) char *data = NULL;
        struct seen whole = {}, part = {};
        size_t len, bad = 0;

        data = slurp("pods-states.json", &len);
        is_int(items_split(data, len, len, &whole), 0, "pod list in one piece");
        ok(strstr(whole.log, "metadata={\"resourceVersion\":\"900\",\"continue\":\"\"}|") != NULL,
           "metadata member delivered");
        ok(strstr(whole.log, "I:{\"metadata\":{\"name\":\"puller-abc\"") != NULL, "first item delivered");
        is_int(strstr(whole.log, "I:{\"metadata\":{\"namespace\":\"clyde\"},\"spec\":{},\"status\":{}}|") != NULL, 1,
               "third item delivered");
        for (size_t cut = 0; cut <= len; cut++) {
                if (items_split(data, len, cut, &part) < 0 || !streq(part.log, whole.log))
                        bad++;
        }
        is_int(bad, 0, "same items at each of %zu split points", len + 1);
        is_int(items_bytewise(data, len, &part), 0, "byte by byte");
        is_str(part.log, whole.log, "byte by byte gives the same items");
}

static void test_items_tricky(void) {
        static const struct { const char *in; int r; const char *want; } t[] = {
                { "{\"items\":[]}", 0, "" },
                { " {\"kind\":\"List\" , \"items\" : [ {\"a\":1} , {\"b\":[1,{\"c\":\"]}\"}]} ] ,\"x\":null}\n", 0,
                  "kind=\"List\"|I:{\"a\":1}|I:{\"b\":[1,{\"c\":\"]}\"}]}|x=NULL|" },
                { "{\"items\":[1, -2.5e3,true,\"s\\\"]\",null]}", 0, "I:1|I:-2.5e3|I:true|I:\"s\\\"]\"|I:NULL|" },
                { "{\"x\\\"items\":[1],\"items\":[{\"items\":[9]}]}", 0, "x\\\"items=[1]|I:{\"items\":[9]}|" },
                { "{\"metadata\":{\"continue\":\"abc\"},\"items\":null}", 0,
                  "metadata={\"continue\":\"abc\"}|items=NULL|" },
                { "{}", 0, "" },
                { "[]", -EBADMSG, NULL },
                { "{\"items\":[{\"a\":}]}", -EBADMSG, NULL },
                { "{\"items\":[{\"a\":1}", -EBADMSG, NULL },
                { "{\"items\":[{\"a\":1}] x}", -EBADMSG, NULL },
                { "{\"items\" [1]}", -EBADMSG, NULL },
                { "{\"items\":[1]} {", -EBADMSG, NULL },
                { "{\"items\":[@]}", -EBADMSG, NULL },
                { "", -EBADMSG, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                struct seen s = {};
                int r = items_bytewise(t[i].in, strlen(t[i].in), &s);

                is_int(r, t[i].r, "items case %zu result", i);
                if (t[i].want)
                        is_str(s.log, t[i].want, "items case %zu content", i);
        }
}

static void test_items_limits(void) {
        _cleanup_(json_items_freep) struct json_items *r = NULL;
        struct seen s = { .stop_after = 2 };
        const char *in = "{\"items\":[{\"a\":1},{\"b\":2},{\"c\":3}]}";

        r = json_items_new(on_item, NULL, &s);
        is_int(json_items_feed(r, in, strlen(in)), -EINTR, "callback error stops the reader");
        is_int(json_items_feed(r, "x", 1), -EINTR, "and the reader stays stopped");
        is_int(s.calls, 2, "no items after the stop");
        r = json_items_free(r);

        memset(&s, 0, sizeof(s));
        r = json_items_new(on_item, NULL, &s);
        json_items_set_max(r, 16);
        is_int(json_items_feed(r, "{\"items\":[{\"a\":1},{\"long\":\"0123456789abcdef\"}]}", 46), -E2BIG,
               "an item over the limit is refused");
        is_str(s.log, "I:{\"a\":1}|", "items before it were delivered");
}

static int values_split(const char *data, size_t len, size_t cut, struct seen *s) {
        _cleanup_(json_values_freep) struct json_values *r = json_values_new(on_value, s);
        int e;

        memset(s->log, 0, sizeof(s->log));
        e = json_values_feed(r, data, cut);
        if (e >= 0)
                e = json_values_feed(r, data + cut, len - cut);
        return e < 0 ? e : json_values_finish(r);
}

static void test_watch_every_split(void) {
        _cleanup_(freep) char *data = NULL;
        struct seen whole = {}, part = {};
        size_t len, bad = 0;
        int e = 0;

        data = slurp("watch-stream.json", &len);
        is_int(values_split(data, len, len, &whole), 0, "watch stream in one piece");
        ok(strstr(whole.log, "V:{\"type\":\"BOOKMARK\"") != NULL, "bookmark without newline before it");
        ok(strstr(whole.log, "\"labels\":{\"k\":\"v \\\"}\\\" x\"}") != NULL, "braces and quotes in strings");
        ok(strstr(whole.log, "V:{\"type\":\"ERROR\"") != NULL, "error event last");
        for (size_t cut = 0; cut <= len; cut++)
                if (values_split(data, len, cut, &part) < 0 || !streq(part.log, whole.log))
                        bad++;
        is_int(bad, 0, "same events at each of %zu split points", len + 1);

        _cleanup_(json_values_freep) struct json_values *r = json_values_new(on_value, &part);
        memset(part.log, 0, sizeof(part.log));
        for (size_t i = 0; i < len && e >= 0; i++)
                e = json_values_feed(r, data + i, 1);
        is_int(e, 0, "byte by byte");
        is_int(json_values_finish(r), 0, "finished cleanly");
        is_str(part.log, whole.log, "byte by byte gives the same events");
}

static void test_watch_bad(void) {
        struct seen s = {};

        is_int(values_split("{\"a\":1}{\"b\"", 11, 5, &s), -EBADMSG, "truncated value at the end");
        is_str(s.log, "V:{\"a\":1}|", "complete value before it delivered");
        is_int(values_split("{\"a\":1}}", 8, 3, &s), -EBADMSG, "stray brace");
        is_int(values_split("  \n ", 4, 2, &s), 0, "whitespace only");
        is_str(s.log, "", "no values");
        is_int(values_split("{}[]\"x\"", 7, 1, &s), 0, "values of any type");
        is_str(s.log, "V:{}|V:[]|V:\"x\"|", "object, array, string");
}

int main(void) {
        test_items_every_split();
        test_items_tricky();
        test_items_limits();
        test_watch_every_split();
        test_watch_bad();
        return tap_done();
}
