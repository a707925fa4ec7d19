/* SPDX-License-Identifier: MIT */
/* Every configuration key: section, name, type, default and one line of help. The shipped
 * etc/clyde/seeder.ini is checked against this table by the tests. */
#include "config-keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "images.h"
#include "labelsel.h"
#include "manifest.h"
#include "macro.h"
#include "registry-parse.h"
#include "toleration.h"

#define OFF(f) offsetof(struct config, f)
#define DAY INT64_C(86400)

const struct config_key config_keys[] = {
        { "seeder", "percentage", KEY_SHARE, OFF(percentage), "40", 0, 100,
          "share of eligible nodes to keep as seeders, a decimal in (0, 100], or auto: the "
          "best share of the rollout estimate (see plan), 40 until a run has measured the registry" },
        { "seeder", "label", KEY_LABEL, OFF(label), "p2p-seeder=true", 0, 0,
          "the label that marks a seeder (key=value); point the P2P layer at it" },
        { "seeder", "min_seeders", KEY_COUNT, OFF(min_seeders), "1", 0, 100000,
          "never fewer seeders than this (when enough nodes are eligible)" },
        { "seeder", "max_seeders", KEY_COUNT, OFF(max_seeders), "0", 0, 100000,
          "never more seeders than this; 0 means no maximum" },
        { "seeder", "node_selector", KEY_SELECTOR, OFF(node_selector), "", 0, 0,
          "label selector that eligible nodes must match; empty means every node" },
        { "seeder", "node_down_grace", KEY_DURATION, OFF(node_down_grace), "10m", 0, 7 * DAY,
          "a seeder NotReady for longer than this is replaced" },
        { "seeder", "tolerations", KEY_LIST, OFF(tolerations), "", 0, 0,
          "taints the puller pods tolerate (key[=value][:Effect], comma separated); other "
          "NoSchedule/NoExecute taints make a node ineligible" },

        { "preload", "images_file", KEY_PATH, OFF(images_file), "images.txt", 0, 0,
          "images to seed, one reference per line; relative to base_dir; - for stdin" },
        { "preload", "namespace", KEY_NAMESPACE, OFF(namespace), "default", 0, 0,
          "namespace of the puller DaemonSets (the kubeconfig context's when not set)" },
        { "preload", "images_per_daemonset", KEY_COUNT, OFF(images_per_daemonset), "10", 1, 50,
          "images pulled by one DaemonSet (one container each)" },
        { "preload", "helper_image", KEY_IMAGE, OFF(helper_image),
          "docker.io/library/busybox:1.36.1-musl", 0, 0,
          "static busybox that provides the no-op binary; mirror it for air-gapped clusters" },
        { "preload", "pull_timeout", KEY_DURATION, OFF(pull_timeout), "30m", 1, 2 * DAY,
          "how long one image may take to reach every seeder before it counts as failed" },
        { "preload", "refresh_interval", KEY_DURATION, OFF(refresh_interval), "24h", 0, 365 * DAY,
          "tags are pulled again after this (digests never are); 0 pulls tags every run" },
        { "preload", "image_pull_secrets", KEY_LIST, OFF(image_pull_secrets), "", 0, 0,
          "secrets in the namespace used to pull from private registries" },
        { "preload", "priority_class", KEY_DNS_OPT, OFF(priority_class), "", 0, 0,
          "priorityClassName of the puller pods; empty for none" },
        { "preload", "cpu_request", KEY_QUANTITY, OFF(cpu_request), "10m", 0, 0,
          "CPU request of each puller container (a pod has one per image, plus the helper)" },
        { "preload", "cpu_limit", KEY_QUANTITY, OFF(cpu_limit), "10m", 0, 0,
          "CPU limit of each puller container; at least cpu_request" },
        { "preload", "memory_request", KEY_QUANTITY, OFF(memory_request), "16Mi", 0, 0,
          "memory request of each puller container" },
        { "preload", "memory_limit", KEY_QUANTITY, OFF(memory_limit), "16Mi", 0, 0,
          "memory limit of each puller container; at least memory_request" },
        { "preload", "run_as_user", KEY_RUN_AS, OFF(run_as_user), "65534", 0, 0,
          "uid (and gid) of the puller containers, or auto to leave them to the cluster "
          "(OpenShift SCC); the helper image must then declare a non-root USER" },
        { "preload", "pods_per_seeder", KEY_COUNT, OFF(pods_per_seeder), "1", 1, 8,
          "puller pods (batches of images) a seeder runs at once; the next batch starts "
          "when one is done there" },

        { "plan", "node_link_rate", KEY_RATE, OFF(node_link_rate), "1000mbit", 1, 0,
          "a node's download rate (and a seeder's upload to peers), for the rollout estimate: "
          "100mbit, 10gbit, 125MB/s" },
        { "plan", "registry_rate", KEY_RATE, OFF(registry_rate), "", 0, 0,
          "the registry's egress for the estimate; empty: the median of what the last runs "
          "measured" },

        { "kubernetes", "kubeconfig", KEY_PATH_OPT, OFF(kubeconfig), "", 0, 0,
          "kubeconfig file; empty: $KUBECONFIG, ~/.kube/config, then in-cluster" },
        { "kubernetes", "context", KEY_STRING, OFF(context), "", 0, 0,
          "kubeconfig context; empty for current-context" },
        { "kubernetes", "qps", KEY_DOUBLE, OFF(qps), "20", 0, 10000,
          "client-side request rate limit, requests per second (kubectl uses 5..50)" },
        { "kubernetes", "burst", KEY_COUNT, OFF(burst), "40", 1, 100000,
          "requests allowed above qps in a short burst" },
        { "kubernetes", "max_in_flight", KEY_COUNT, OFF(max_in_flight), "8", 1, 256,
          "concurrent write requests at most" },
        { "kubernetes", "http2", KEY_BOOL, OFF(http2), "yes", 0, 0,
          "HTTP/2 when the server offers it over TLS; no keeps to HTTP/1.1 (for proxies that break h2)" },
        { "kubernetes", "page_size", KEY_COUNT, OFF(page_size), "500", 10, 5000,
          "items per list page (500 is what kubectl and client-go use)" },
        { "kubernetes", "connect_timeout", KEY_DURATION, OFF(connect_timeout), "10s", 1, 600,
          "TCP and TLS connection timeout" },
        { "kubernetes", "request_timeout", KEY_DURATION, OFF(request_timeout), "60s", 1, 3600,
          "timeout of one request (watches use their own)" },
        { "kubernetes", "retry_attempts", KEY_COUNT, OFF(retry_attempts), "5", 1, 50,
          "attempts for one request before it fails" },
        { "kubernetes", "api_deadline", KEY_DURATION, OFF(api_deadline), "2m", 1, DAY,
          "a request and its retries give up after this; then exit 69" },

        { "registry", "resolve", KEY_BOOL, OFF(registry_resolve), "yes", 0, 0,
          "ask the registry for each tag's digest, platforms and size; pullers pull by digest" },
        { "registry", "mirrors", KEY_LIST, OFF(registry_mirrors), "", 0, 0,
          "endpoints tried before a registry, registry=http(s)://host[:port] (comma separated)" },
        { "registry", "ca_files", KEY_LIST, OFF(registry_ca_files), "", 0, 0,
          "CA bundle per endpoint, host[:port]=/path/ca.pem (comma separated)" },
        { "registry", "timeout", KEY_DURATION, OFF(registry_timeout), "20s", 1, 600,
          "timeout of one registry request" },
        { "registry", "max_disk_share", KEY_PERCENT, OFF(registry_max_disk_share), "85", 0, 100,
          "refuse images that would fill a node's ephemeral storage beyond this share (percent)" },

        { "state", "base_dir", KEY_PATH, OFF(base_dir), ".", 0, 0,
          "directory that relative file names resolve against" },
        { "state", "tracker_file", KEY_PATH, OFF(tracker_file), "seeder_tracker.json", 0, 0,
          "the persisted state of runs and seeders (a .lock file sits beside it)" },
        { "state", "metrics_file", KEY_PATH_OPT, OFF(metrics_file), "", 0, 0,
          "Prometheus textfile written after each run; empty for none" },

        { "log", "level", KEY_LEVEL, OFF(log_level), "INFO", 0, 0,
          "DEBUG, INFO, WARNING, ERROR or CRITICAL" },
        { "log", "stdout", KEY_BOOL, OFF(log_stdout), "yes", 0, 0,
          "write human log lines to standard output" },
        { "log", "file", KEY_PATH_OPT, OFF(log_file), "seeder.log", 0, 0,
          "append log lines here (relative to base_dir); empty for none" },
        { "log", "journal", KEY_JOURNAL, OFF(log_journal), "auto", 0, 0,
          "send to journald: auto (when started by systemd), yes or no" },
};

const size_t config_n_keys = ELEMENTSOF(config_keys);

_Static_assert(ELEMENTSOF(config_keys) <= CONFIG_MAX_KEYS, "raise CONFIG_MAX_KEYS");

ssize_t config_key_find(const char *section, const char *name) {
        for (size_t i = 0; i < config_n_keys; i++)
                if (streq(config_keys[i].section, section) && streq(config_keys[i].name, name))
                        return (ssize_t) i;
        return -1;
}

int config_key_is_string(const struct config_key *k) {
        return k->type <= KEY_JOURNAL;
}

/* Keeps a cause handed back by a pure module in a static buffer, for the one message the
 * caller is about to print. */
static int take_cause(int r, char *cause, const char **ret_why) {
        static char buf[256];

        if (r < 0) {
                (void) snprintf(buf, sizeof(buf), "%s", cause ? cause : "invalid");
                *ret_why = buf;
        }
        free(cause);
        return r < 0 ? -EINVAL : 0;
}

static int check_label_pair(const char *v, const char **ret_why) {
        char *key = NULL, *value = NULL, *cause = NULL;
        int r = label_pair_parse(v, &key, &value, &cause);

        free(key);
        free(value);
        return take_cause(r, cause, ret_why);
}

static int check_selector(const char *v, const char **ret_why) {
        struct labelsel *sel = NULL;
        char *cause = NULL;
        int r = labelsel_parse(v, &sel, &cause);

        labelsel_free(sel);
        return take_cause(r, cause, ret_why);
}

static int check_toleration(const char *v, const char **ret_why) {
        struct toleration t = {};
        char *cause = NULL;
        int r = toleration_parse(v, &t, &cause);

        toleration_done(&t);
        return take_cause(r, cause, ret_why);
}

static int check_image(const char *v, const char **ret_why) {
        struct image_ref ref = {};
        char *cause = NULL;
        int r = image_ref_parse(v, &ref, &cause);

        image_ref_done(&ref);
        return take_cause(r, cause, ret_why);
}

int config_key_check_string(const struct config_key *k, const char *v, const char **ret_why) {
        switch (k->type) {
        case KEY_PATH:
                if (isempty(v)) {
                        *ret_why = "must not be empty";
                        return -EINVAL;
                }
                return 0;
        case KEY_NAMESPACE:
                if (!dns_label_valid(v)) {
                        *ret_why = "must be a DNS-1123 label (lowercase letters, digits, '-', at most 63)";
                        return -EINVAL;
                }
                return 0;
        case KEY_DNS_OPT:
                if (!isempty(v) && !dns_subdomain_valid(v)) {
                        *ret_why = "must be a DNS-1123 subdomain";
                        return -EINVAL;
                }
                return 0;
        case KEY_LABEL:
                return check_label_pair(v, ret_why);
        case KEY_SELECTOR:
                return check_selector(v, ret_why);
        case KEY_IMAGE:
                return check_image(v, ret_why);
        case KEY_QUANTITY:
                if (!manifest_quantity_valid(v)) {
                        *ret_why = "expected a resource quantity: digits, an optional fraction and one of "
                                   "m, k, M, G, T, Ki, Mi, Gi, Ti (e.g. 10m, 0.1, 16Mi)";
                        return -EINVAL;
                }
                return 0;
        case KEY_RUN_AS:
                return config_parse_run_as(v, NULL, ret_why);
        case KEY_JOURNAL:
                if (!streq(v, "auto") && !streq(v, "yes") && !streq(v, "no")) {
                        *ret_why = "expected auto, yes or no";
                        return -EINVAL;
                }
                return 0;
        default:
                return 0;
        }
}

int config_key_check_list(const struct config_key *k, char **l, const char **ret_why) {
        if (streq(k->section, "registry")) {
                bool mirrors = streq(k->name, "mirrors");
                struct registry_hosts h = {};
                char *cause = NULL;
                int r = registry_hosts_parse(mirrors ? (const char *const *) l : NULL,
                                             mirrors ? NULL : (const char *const *) l, &h, &cause);
                registry_hosts_done(&h);
                return take_cause(r, cause, ret_why);
        }
        for (char **s = l; s && *s; s++) {
                if (streq(k->name, "tolerations")) {
                        if (check_toleration(*s, ret_why) < 0)
                                return -EINVAL;
                } else if (!dns_subdomain_valid(*s)) {
                        *ret_why = "each name must be a DNS-1123 subdomain";
                        return -EINVAL;
                }
        }
        return 0;
}
