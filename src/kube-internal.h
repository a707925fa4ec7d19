/* SPDX-License-Identifier: MIT */
/* Shared between kube.c (client, requests, lists, nodes) and kube-workload.c (DaemonSets,
 * pods, watches, small reads). Not for other modules. */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "json-stream.h"
#include "kube.h"
#include "macro.h"

#define APPS "/apis/apps/v1/namespaces/"

struct kube_client {
        struct kube_target *target;
        struct http_client *http;
        struct kube_error last;
};

/* State of one paginated list; item callbacks get it as userdata. */
struct list_run {
        struct kube_client *k;
        struct json_items *items;
        json_item_fn on_item;
        void *item_userdata;
        char *next;  /* metadata.continue of the current page */
        char *rv;    /* metadata.resourceVersion */
        int stopped; /* a callback's (or the reader's) error */
        bool broken; /* the page's body was cut after its 200 (the HTTP layer does not retry
                      * a response that has started to stream) */
};

/* Records a transport or client-side failure as the last error. */
void kube_set_error(struct kube_client *k, int code, const char *fmt, ...) _printf_(3, 4);

/* Appends "name=value" (escaped) to the query string of *path. Returns 0 or -ENOMEM. */
int kube_query_add(char **path, const char *name, const char *value);

/* prefix + [ns + suffix] + "/" + name (escaped) into *ret. Returns 0 or -ENOMEM. */
int kube_object_path(const char *prefix, const char *ns, const char *suffix, const char *name,
                     char **ret);

/* Sends q with credentials (one refresh after a 401). Returns 0 on 2xx, else a negative
 * errno with the last error set. resp is the caller's to release. */
int kube_send(struct kube_client *k, struct http_request *q, struct http_response *resp, bool create);

/* Parses a buffered response body. Returns 0 and *ret, or -EBADMSG / -ENOMEM. */
int kube_parse_body(struct kube_client *k, const struct http_response *resp, json_object **ret);

/* A buffered GET of path, parsed. */
int kube_get_json(struct kube_client *k, const char *path, json_object **ret);

/* Lists every page of base, handing each item to on_item (userdata: the struct list_run,
 * whose item_userdata is the caller's); an expired continue restarts the list after
 * on_reset. */
int kube_list_all(struct kube_client *k, const char *base, const struct kube_list_options *lo,
                  json_item_fn on_item, void *item_userdata, kube_reset_fn on_reset, void *userdata,
                  char **ret_rv);
