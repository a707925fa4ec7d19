/* SPDX-License-Identifier: MIT */
#include "kube-events.h"

#include <errno.h>
#include <stdlib.h>

#include "kube-internal.h"
#include "macro.h"

void kube_api_event_done(struct kube_api_event *e) {
        if (!e)
                return;
        free(e->type);
        free(e->reason);
        free(e->message);
        free(e->object_kind);
        free(e->object_name);
        free(e->object_uid);
        free(e->field_path);
        free(e->host);
        *e = (struct kube_api_event) {};
}

/* The latest of the times an Event may carry (core/v1 writers fill lastTimestamp,
 * events/v1 writers eventTime and series). */
static int64_t event_time(json_object *o) {
        const char *keys[][2] = { { "lastTimestamp", NULL }, { "eventTime", NULL },
                                  { "series", "lastObservedTime" }, { "firstTimestamp", NULL } };
        int64_t best = 0;

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const char *s = keys[i][1] ? KUBE_STR(o, keys[i][0], keys[i][1]) : KUBE_STR(o, keys[i][0]);
                int64_t t;
                if (s && kube_parse_time(s, &t) >= 0 && t > best)
                        best = t;
        }
        return best;
}

int kube_decode_api_event(json_object *o, struct kube_api_event *ret) {
        struct kube_api_event e = {};
        const char *const fields[][2] = {
                { "type", NULL },          { "reason", NULL },        { "message", NULL },
                { "involvedObject", "kind" }, { "involvedObject", "name" },
                { "involvedObject", "uid" },  { "involvedObject", "fieldPath" },
                { "source", "host" },
        };
        char **dst[] = { &e.type, &e.reason, &e.message, &e.object_kind, &e.object_name, &e.object_uid,
                         &e.field_path, &e.host };

        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                const char *s = fields[i][1] ? KUBE_STR(o, fields[i][0], fields[i][1]) : KUBE_STR(o, fields[i][0]);
                if (free_and_strdup(dst[i], s) < 0) {
                        kube_api_event_done(&e);
                        return -ENOMEM;
                }
        }
        if (!e.host && free_and_strdup(&e.host, KUBE_STR(o, "reportingInstance")) < 0) {
                kube_api_event_done(&e);
                return -ENOMEM;
        }
        e.time = event_time(o);
        *ret = e;
        return 0;
}

struct event_list {
        kube_api_event_fn on_event;
        void *userdata;
};

static int event_item(json_object *o, void *userdata) {
        struct list_run *l = userdata;
        struct event_list *el = l->item_userdata;
        struct kube_api_event e = {};
        int r;

        r = kube_decode_api_event(o, &e);
        if (r < 0)
                return r;
        r = el->on_event(&e, el->userdata);
        kube_api_event_done(&e);
        return r;
}

int kube_list_api_events(struct kube_client *k, const char *namespace, const struct kube_list_options *lo,
                         kube_api_event_fn on_event, void *userdata) {
        struct event_list el = { .on_event = on_event, .userdata = userdata };
        _cleanup_(freep) char *base = NULL;

        if (kube_object_path("/api/v1/namespaces/", namespace, "/events", NULL, &base) < 0)
                return -ENOMEM;
        return kube_list_all(k, base, lo, event_item, &el, NULL, NULL, NULL);
}
