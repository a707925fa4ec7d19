/* SPDX-License-Identifier: MIT */
/* Decoding core/v1 Events as the kubelet and the controllers write them. */
#include <json-c/json.h>

#include "kube-events.h"
#include "macro.h"
#include "tap.h"

static void decode(const char *text, struct kube_api_event *e) {
        json_object *o = json_tokener_parse(text);

        is_int(kube_decode_api_event(o, e), 0, "decodes %.40s", text);
        json_object_put(o);
}

int main(void) {
        struct kube_api_event e = {};
        json_object *s = json_object_new_string("x");

        decode("{\"type\":\"Warning\",\"reason\":\"Failed\",\"message\":\"Failed to pull image \\\"x:1\\\": no\","
               "\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"clyde-seed-r-0-1-abcde\",\"uid\":\"u1\","
               "\"fieldPath\":\"spec.containers{img-0}\"},\"firstTimestamp\":\"2026-12-01T10:00:00Z\","
               "\"lastTimestamp\":\"2026-12-01T10:05:00Z\",\"eventTime\":null}", &e);
        is_str(e.type, "Warning", "type");
        is_str(e.reason, "Failed", "reason");
        is_str(e.object_kind, "Pod", "kind");
        is_str(e.object_uid, "u1", "uid");
        is_str(e.field_path, "spec.containers{img-0}", "field path");
        is_int(e.time, 1796119500, "the later of first and last timestamp");
        kube_api_event_done(&e);
        /* events/v1 writers: eventTime (microseconds) and series, no lastTimestamp */
        decode("{\"reason\":\"Pulled\",\"involvedObject\":{\"name\":\"p\"},\"eventTime\":\"2026-12-01T10:00:00.123456Z\","
               "\"series\":{\"count\":3,\"lastObservedTime\":\"2026-12-01T10:01:00.000001Z\"}}", &e);
        is_int(e.time, 1796119260, "series.lastObservedTime");
        ok(!e.message && !e.field_path, "absent fields are NULL");
        kube_api_event_done(&e);
        decode("{}", &e);
        is_int(e.time, 0, "no time");
        kube_api_event_done(&e);
        is_int(kube_decode_api_event(s, &e), -EBADMSG, "not an object");
        json_object_put(s);
        return tap_done();
}
