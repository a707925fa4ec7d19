/* SPDX-License-Identifier: MIT */
/* Reading core/v1 Events: what a kubelet or a controller said about an object, for the
 * causes a status does not carry (a 1.26-1.31 kubelet's image pull back-off) and for
 * progress a status does not show yet (a kubelet that writes status once per pod sync). */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "kube.h"

/* One Event, decoded. Strings NULL when absent. */
struct kube_api_event {
        char *type;        /* Normal, Warning */
        char *reason;      /* Pulling, Pulled, Failed, BackOff, FailedCreate, ... */
        char *message;
        char *object_kind; /* involvedObject.kind */
        char *object_name;
        char *object_uid;
        char *field_path;  /* involvedObject.fieldPath, e.g. "spec.containers{img-0}" */
        char *host;        /* source.host, else reportingInstance: the kubelet's node */
        int64_t time;      /* unix seconds: the latest of lastTimestamp, eventTime,
                            * series.lastObservedTime, firstTimestamp; 0 unknown */
};

void kube_api_event_done(struct kube_api_event *e);

/* Decodes one Event object (pure). Returns 0, -EBADMSG when it is not an object, -ENOMEM. */
int kube_decode_api_event(json_object *o, struct kube_api_event *ret);

/* Called for each listed Event (borrowed: valid during the call). Return < 0 to stop. */
typedef int (*kube_api_event_fn)(const struct kube_api_event *e, void *userdata);

/* Lists the Events of a namespace (all pages; lo's field selector e.g.
 * "involvedObject.uid=..." narrows it on the server). Returns 0 or a negative errno
 * (kube.h), or a callback's value. */
int kube_list_api_events(struct kube_client *k, const char *namespace, const struct kube_list_options *lo,
                         kube_api_event_fn on_event, void *userdata);
