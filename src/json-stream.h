/* SPDX-License-Identifier: MIT */
/* Incremental JSON readers for large or endless HTTP bodies, built on json_tokener.
 *
 * json_items: a Kubernetes list ({"kind":...,"metadata":{...},"items":[...]}) fed in
 * arbitrary pieces; each element of the top-level "items" array is parsed on its own and
 * handed to a callback, so only one item (not the page) is held in memory. The other
 * top-level members (metadata, kind, ...) go to a second callback.
 *
 * json_values: a stream of concatenated JSON values (a watch body), in arbitrary pieces,
 * without relying on newline framing. */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

#include "json-util.h"

/* Callbacks get a borrowed value (take a reference with json_object_get() to keep it).
 * Returning < 0 stops the stream: the feed function returns that value. */
typedef int (*json_item_fn)(json_object *item, void *userdata);
typedef int (*json_member_fn)(const char *key, json_object *value, void *userdata);
typedef int (*json_value_fn)(json_object *value, void *userdata);

struct json_items;

/* on_member may be NULL. Returns NULL on allocation failure. */
struct json_items *json_items_new(json_item_fn on_item, json_member_fn on_member, void *userdata);
struct json_items *json_items_free(struct json_items *s);

/* Feeds the next piece. Returns 0, a callback's negative value, -EBADMSG on malformed
 * input (not an object, bad structure, an item json-c rejects), -E2BIG when one item or
 * member exceeds max_value bytes, -ENOMEM. After an error the reader stays failed. */
int json_items_feed(struct json_items *s, const char *data, size_t len);

/* Returns 0 when the top-level object was complete, -EBADMSG otherwise. */
int json_items_finish(struct json_items *s);

/* Largest single item or member accepted (default 16 MiB). */
void json_items_set_max(struct json_items *s, size_t max_value);

struct json_values;

struct json_values *json_values_new(json_value_fn on_value, void *userdata);
struct json_values *json_values_free(struct json_values *s);

/* Same returns as json_items_feed(); values may be any JSON type (null arrives as NULL). */
int json_values_feed(struct json_values *s, const char *data, size_t len);

/* Returns 0 when no value was left half-read, -EBADMSG otherwise. */
int json_values_finish(struct json_values *s);

static inline void json_items_freep(struct json_items **s) {
        json_items_free(*s);
}

static inline void json_values_freep(struct json_values **s) {
        json_values_free(*s);
}
