/* SPDX-License-Identifier: MIT */
/* Decoders of Node, Pod, DaemonSet and Status objects on fixture JSON, errno mapping,
 * time parsing and the label patch body. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "json-stream.h"
#include "kube-decode.h"
#include "kube.h"
#include "macro.h"
#include "tap.h"

static char *slurp(const char *name, size_t *ret_len) {
        return tap_data("tests/data/api", name, ret_len);
}

static json_object *fixture(const char *name) {
        _cleanup_(freep) char *s = slurp(name, NULL);
        json_object *o = json_tokener_parse(s);

        if (!o)
                abort();
        return o;
}

static bool want_nginx_or_big(const char *name, void *userdata) {
        (*(int *) userdata)++;
        return startswith(name, "docker.io/library/nginx") || streq(name, "registry.example/big:1.0");
}

static void test_node_full(void) {
        _cleanup_(json_object_putp) json_object *o = fixture("node-full.json");
        int calls = 0;
        struct kube_node_filter f = { .seeder_label_key = "clyde.example/seeder",
                                      .owner_annotation_key = "clyde.example/owned",
                                      .want_image = want_nginx_or_big, .userdata = &calls };
        struct node_info n = {};

        is_int(kube_decode_node(o, &f, &n), 0, "full node decodes");
        is_str(n.name, "worker-a1", "name");
        is_str(n.uid, "6f1c2a9e-0000-4000-8000-000000000001", "uid");
        is_str(n.zone, "eu-west-1a", "zone");
        is_str(n.arch, "arm64", "arch");
        is_str(n.os, "linux", "os");
        is_int(n.ready, NODE_READY_FALSE, "Ready=False");
        /* 09:30:00+02:00 is 07:30:00Z */
        is_int(n.ready_since, 1714548600, "lastTransitionTime with fraction and offset");
        ok(n.unschedulable, "cordoned");
        ok(n.deleting, "deletionTimestamp seen");
        ok(n.control_plane, "control-plane role label");
        ok(!n.selected, "decoder leaves selected alone");
        is_str(n.seeder_label, "true", "seeder label value");
        ok(n.owned, "ownership annotation present");
        is_int(n.n_taints, 2, "taints without key skipped");
        is_str(n.taints[0].key, "node-role.kubernetes.io/control-plane", "taint 0 key");
        ok(n.taints[0].value == NULL, "taint 0 no value");
        is_str(n.taints[1].value, "gpu", "taint 1 value");
        is_str(n.taints[1].effect, "NoExecute", "taint 1 effect");
        is_int(n.n_images, 3, "only wanted images, duplicates merged");
        is_str(n.images[0], "registry.example/big:1.0", "image 0");
        is_str(n.images[1], "docker.io/library/nginx@sha256:bbbb", "image 1");
        is_str(n.images[2], "docker.io/library/nginx:1.27", "image 2");
        is_int(calls, 6, "predicate asked once per listed name");
        node_info_done(&n);
}

static void test_node_kinds(void) {
        static const struct {
                const char *labels;
                enum node_virtual kind;
                bool autopilot;
        } cases[] = {
                { "{\"type\":\"virtual-kubelet\",\"kubernetes.io/role\":\"agent\"}", NODE_VIRTUAL_KUBELET, false },
                { "{\"eks.amazonaws.com/compute-type\":\"fargate\"}", NODE_VIRTUAL_FARGATE, false },
                { "{\"eks.amazonaws.com/compute-type\":\"auto\"}", NODE_REAL, false },
                { "{\"type\":\"worker\"}", NODE_REAL, false },
                { "{\"cloud.google.com/gke-autopilot\":\"true\"}", NODE_REAL, true },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[512];
                struct node_info n = {};
                snprintf(buf, sizeof(buf), "{\"metadata\":{\"name\":\"n\",\"labels\":%s}}", cases[i].labels);
                _cleanup_(json_object_putp) json_object *o = json_tokener_parse(buf);
                is_int(kube_decode_node(o, NULL, &n), 0, "node %s decodes", cases[i].labels);
                is_int(n.virtual_kind, cases[i].kind, "labels %s: kind", cases[i].labels);
                is_int(n.autopilot, cases[i].autopilot, "labels %s: autopilot", cases[i].labels);
                node_info_done(&n);
        }
}

static void test_node_minimal(void) {
        _cleanup_(json_object_putp) json_object *o = fixture("node-minimal.json");
        _cleanup_(json_object_putp) json_object *bad = json_tokener_parse("{\"metadata\":{}}");
        struct node_info n = {};

        is_int(kube_decode_node(o, NULL, &n), 0, "minimal node decodes without filter");
        is_str(n.name, "bare", "minimal name");
        ok(!n.zone && !n.arch && !n.os && !n.seeder_label, "absent labels are NULL");
        is_int(n.ready, NODE_READY_UNKNOWN, "no Ready condition is Unknown");
        is_int(n.ready_since, 0, "no transition time");
        ok(!n.owned && !n.deleting && !n.control_plane && !n.unschedulable, "flags false");
        ok(n.virtual_kind == NODE_REAL && !n.autopilot, "a real node, not Autopilot");
        is_int(n.n_images, 0, "no images");
        node_info_done(&n);
        is_int(kube_decode_node(bad, NULL, &n), -EBADMSG, "nameless node rejected");
}

static void test_pods(void) {
        _cleanup_(json_object_putp) json_object *list = fixture("pods-states.json");
        json_object *items = json_object_object_get(list, "items");
        const char *keys[] = { "clyde.example/run", "absent" };
        struct kube_pod p = {};
        const struct kube_container *c;

        is_int(kube_decode_pod(json_object_array_get_idx(items, 0), keys, 2, &p), 0, "pod decodes");
        is_str(p.name, "puller-abc", "pod name");
        is_str(p.namespace, "clyde", "pod namespace");
        is_str(p.node_name, "worker-a1", "nodeName");
        is_str(p.owner_ds, "clyde-seed-run-42-0", "owner DaemonSet");
        is_str(p.phase, "Pending", "phase");
        is_str(p.resource_version, "801", "resourceVersion");
        is_int(p.n_label_values, 2, "label values aligned with keys");
        is_str(p.label_values[0], "run-42", "run label");
        ok(p.label_values[1] == NULL, "absent label NULL");
        is_int(p.n_init_containers, 1, "one init container");
        c = &p.init_containers[0];
        is_int(c->state, KUBE_CONTAINER_TERMINATED, "init terminated");
        is_str(c->reason, "Completed", "init reason");
        is_int(p.n_containers, 5, "five containers");
        c = p.containers;
        is_int(c[0].state, KUBE_CONTAINER_RUNNING, "running");
        is_str(c[0].image_id, "docker.io/library/nginx@sha256:bbbb", "imageID");
        ok(c[0].ready, "ready");
        is_int(c[1].state, KUBE_CONTAINER_WAITING, "waiting");
        is_str(c[1].reason, "ImagePullBackOff", "back-off reason");
        is_str(c[1].message, "Back-off pulling image \"registry.example/missing:9\"", "back-off message");
        is_str(c[1].image_id, "", "imageID empty until pulled");
        is_str(c[2].reason, "InvalidImageName", "invalid name reason");
        is_int(c[3].state, KUBE_CONTAINER_TERMINATED, "terminated");
        is_int(c[3].exit_code, 137, "exit code");
        is_int(c[3].restart_count, 3, "restart count");
        is_str(c[3].message, "killed", "terminated message");
        is_int(c[4].state, KUBE_CONTAINER_UNKNOWN, "empty state unknown");
        kube_pod_done(&p);

        is_int(kube_decode_pod(json_object_array_get_idx(items, 1), NULL, 0, &p), 0, "unscheduled pod");
        ok(p.node_name == NULL && p.owner_ds == NULL, "no node, no owner");
        ok(p.deleting, "pod being deleted");
        is_int(p.n_containers, 0, "no statuses");
        kube_pod_done(&p);
        is_int(kube_decode_pod(json_object_array_get_idx(items, 2), NULL, 0, &p), -EBADMSG, "nameless pod");
}

/* A DaemonSet pod the real scheduler (v1.26) found no room for, as the API served it. */
static void test_pod_scheduling(void) {
        _cleanup_(json_object_putp) json_object *list = fixture("pod-unschedulable.json");
        json_object *items = json_object_object_get(list, "items");
        struct kube_pod p = {};

        is_int(kube_decode_pod(json_object_array_get_idx(items, 0), NULL, 0, &p), 0, "unschedulable pod decodes");
        ok(p.node_name == NULL, "not bound");
        is_str(p.target_node, "node-0002", "target node from the pinning affinity");
        ok(p.unschedulable, "PodScheduled=False");
        is_str(p.sched_reason, "Unschedulable", "condition reason");
        is_str(p.sched_message, "0/4 nodes are available: 1 Too many pods. preemption: 0/4 nodes are available: 4 No "
               "preemption victims found for incoming pod..", "condition message");
        kube_pod_done(&p);
        is_int(kube_decode_pod(json_object_array_get_idx(items, 1), NULL, 0, &p), 0, "two-term pod decodes");
        ok(p.target_node == NULL && !p.unschedulable && !p.sched_message, "two terms pin no single node");
        kube_pod_done(&p);
        is_int(kube_decode_pod(json_object_array_get_idx(items, 2), NULL, 0, &p), 0, "bound pod decodes");
        is_str(p.target_node, "node-0001", "a bound pod's target is its node");
        kube_pod_done(&p);
}

static void test_daemonset(void) {
        _cleanup_(json_object_putp) json_object *o = fixture("daemonset.json");
        struct kube_daemonset d = {};

        is_int(kube_decode_daemonset(o, "clyde.example/run", &d), 0, "DaemonSet decodes");
        is_str(d.name, "clyde-seed-run-42-0", "ds name");
        is_str(d.run_label, "run-42", "ds run label");
        is_int(d.generation, 2, "generation");
        is_int(d.observed_generation, 2, "observedGeneration");
        is_int(d.desired, 5, "desired");
        is_int(d.current, 4, "current");
        is_int(d.ready, 3, "ready");
        is_int(d.available, 2, "available");
        is_int(d.updated, 4, "updated");
        is_int(d.misscheduled, 1, "misscheduled");
        ok(!d.deleting, "not deleting");
        kube_daemonset_done(&d);
}

static void test_errors(void) {
        struct kube_error e = {};
        _cleanup_(freep) char *conflict = NULL, *invalid = NULL, *text = NULL;
        size_t n;

        conflict = slurp("status-conflict.json", &n);
        is_int(kube_decode_error(409, conflict, n, &e), 0, "conflict decodes");
        is_int(e.code, 409, "code");
        is_str(e.reason, "Conflict", "reason");
        ok(e.message && strstr(e.message, "the object has been modified"), "message kept");
        is_int(kube_errno_from_status(e.code, e.reason, true), -ESTALE, "Conflict on create is still -ESTALE");
        kube_error_done(&e);

        invalid = slurp("status-invalid.json", &n);
        is_int(kube_decode_error(422, invalid, n, &e), 0, "invalid decodes");
        is_str(e.reason, "Invalid", "invalid reason");
        ok(e.causes && e.causes[0] && e.causes[1] && !e.causes[2], "two causes");
        is_str(e.causes[0], "spec.template.spec.containers[0].name: Invalid value: \"A\": a lowercase RFC 1123 label", "cause with field");
        is_str(e.causes[1], "Required value", "cause without field");
        kube_error_done(&e);

        text = slurp("toomany.txt", &n);
        is_int(kube_decode_error(429, text, n, &e), 0, "plain text decodes");
        is_int(e.code, 429, "code from HTTP");
        ok(e.reason == NULL, "no reason in plain text");
        is_str(e.message, "Too many requests, please try again later.", "text trimmed");
        kube_error_done(&e);

        is_int(kube_decode_error(503, "{\"kind\":\"Pod\"}", 14, &e), 0, "JSON that is no Status");
        is_str(e.message, "{\"kind\":\"Pod\"}", "kept as text");
        kube_error_done(&e);
        is_int(kube_decode_error(500, NULL, 0, &e), 0, "empty body");
        ok(e.message == NULL && e.code == 500, "no message, code kept");
        kube_error_done(&e);
        is_int(kube_decode_error(400, "line1\nline2\x01", 12, &e), 0, "control characters");
        is_str(e.message, "line1 line2", "control characters blanked and trimmed");
        kube_error_done(&e);
}

static void test_errno_map(void) {
        static const struct { long status; const char *reason; bool create; int want; } t[] = {
                { 200, NULL, false, 0 },         { 201, NULL, true, 0 },
                { 404, "NotFound", false, -ENOENT }, { 409, "AlreadyExists", true, -EEXIST },
                { 409, "AlreadyExists", false, -EEXIST }, { 409, NULL, true, -EEXIST },
                { 409, "Conflict", false, -ESTALE }, { 410, "Expired", false, -ESTALE },
                { 401, NULL, false, -EACCES },   { 403, "Forbidden", false, -EACCES },
                { 422, "Invalid", true, -EINVAL }, { 400, "BadRequest", false, -EINVAL },
                { 413, NULL, true, -E2BIG },     { 429, NULL, false, -EAGAIN },
                { 500, NULL, false, -EAGAIN },   { 503, NULL, false, -EAGAIN },
                { 418, NULL, false, -EPROTO },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                is_int(kube_errno_from_status(t[i].status, t[i].reason, t[i].create), t[i].want,
                       "status %ld reason %s create %d", t[i].status, strempty(t[i].reason), t[i].create);
}

static void test_time(void) {
        static const struct { const char *s; int r; int64_t want; } t[] = {
                { "1970-01-01T00:00:00Z", 0, 0 },
                { "2024-05-01T10:00:00Z", 0, 1714557600 },
                { "2024-05-01T10:00:00.5Z", 0, 1714557600 },
                { "2024-05-01T10:00:00-01:30", 0, 1714563000 },
                { "2024-05-01 10:00:00Z", -EINVAL, 0 },
                { "2024-05-01T10:00:00", -EINVAL, 0 },
                { "2024-05-01T10:00:00Zjunk", -EINVAL, 0 },
                { "", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                int64_t v = 0;

                is_int(kube_parse_time(t[i].s, &v), t[i].r, "parse '%s'", t[i].s);
                if (t[i].r == 0)
                        is_int(v, t[i].want, "value of '%s'", t[i].s);
        }
}

static void test_patch_json(void) {
        const struct kube_kv labels[] = { { "clyde.example/seeder", "true" }, { "old", NULL } };
        const struct kube_kv ann[] = { { "clyde.example/owned", "run-1" } };
        struct kube_meta_patch p = { .labels = labels, .n_labels = 2, .annotations = ann, .n_annotations = 1 };
        _cleanup_(freep) char *a = NULL, *b = NULL;

        is_int(kube_meta_patch_json(&p, "77", &a), 0, "patch body with precondition");
        is_str(a, "{\"metadata\":{\"labels\":{\"clyde.example/seeder\":\"true\",\"old\":null},"
                  "\"annotations\":{\"clyde.example/owned\":\"run-1\"},\"resourceVersion\":\"77\"}}",
               "labels, null removal, annotations, resourceVersion");
        p.n_annotations = 0;
        is_int(kube_meta_patch_json(&p, NULL, &b), 0, "patch body without precondition");
        is_str(b, "{\"metadata\":{\"labels\":{\"clyde.example/seeder\":\"true\",\"old\":null}}}",
               "no annotations, no resourceVersion");
}

int main(void) {
        test_node_kinds();
        test_node_full();
        test_node_minimal();
        test_pods();
        test_pod_scheduling();
        test_daemonset();
        test_errors();
        test_errno_map();
        test_time();
        test_patch_json();
        return tap_done();
}
