/* SPDX-License-Identifier: MIT */
#include "session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config-keys.h"
#include "exitcode.h"
#include "log.h"
#include "macro.h"
#include "util.h"

int session_images(struct session *s, const char *buf, size_t len) {
        _cleanup_(strv_freep) char **errors = NULL;
        int r;

        r = images_parse(buf, len, s->config->images_file, &s->images, &errors);
        if (r < 0) {
                for (char **e = errors; e && *e; e++)
                        log_error("%s", *e);
                log_error("images file '%s' has errors: nothing was changed", s->config->images_file);
                return EXIT_CONFIG;
        }
        if (s->images->n == 0) {
                log_error("images file '%s' lists no images", s->config->images_file);
                return EXIT_CONFIG;
        }
        return 0;
}

void session_log_images(const struct session *s) {
        for (char **w = s->images->warnings; w && *w; w++)
                log_warning("%s", *w);
        log_info("%zu images from '%s'", s->images->n, s->config->images_file);
}

_printf_(3, 4) static void http_log(void *userdata, int priority, const char *fmt, ...) {
        _cleanup_(freep) char *msg = NULL;
        va_list ap;

        if (!log_enabled(priority))
                return;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (msg)
                log_full(priority, "%s", msg);
}

/* The context's namespace applies unless a namespace was configured. */
static void pick_namespace(struct session *s) {
        ssize_t k = config_key_find("preload", "namespace");

        if (s->target->namespace && k >= 0 && s->config->sources[k].origin == CONFIG_DEFAULT &&
            free_and_strdup(&s->config->namespace, s->target->namespace) >= 0)
                log_debug("namespace '%s' from the kubeconfig context", s->config->namespace);
}

int session_connect(struct session *s) {
        const struct config *c = s->config;
        _cleanup_(freep) char *cause = NULL;
        struct http_options o;
        int r;

        r = kube_target_load(isempty(c->kubeconfig) ? NULL : c->kubeconfig, isempty(c->context) ? NULL : c->context,
                             &s->target, &cause);
        if (r < 0) {
                log_error("%s", cause ? cause : strerror(-r));
                return r == -ENOMEM ? EXIT_SOFTWARE : EXIT_CONFIG;
        }
        if (s->target->insecure)
                log_warning("TLS verification of %s is OFF (insecure-skip-tls-verify in %s)", s->target->server,
                            strempty(s->target->source));
        pick_namespace(s);
        http_options_init(&o);
        o.qps = c->qps;
        o.burst = (double) c->burst;
        o.max_in_flight = (unsigned) c->max_in_flight;
        o.connect_timeout_ms = c->connect_timeout * 1000;
        o.request_timeout_ms = c->request_timeout * 1000;
        o.max_attempts = (unsigned) c->retry_attempts;
        o.deadline_ms = c->api_deadline * 1000;
        o.disable_http2 = !c->http2;
        o.log = http_log;
        r = kube_client_new(s->target, &o, &s->kube, &cause);
        if (r < 0) {
                log_error("cannot set up the API client: %s", cause ? cause : strerror(-r));
                return EXIT_CONFIG;
        }
        log_debug("API server %s (%s)", s->target->server, strempty(s->target->source));
        return 0;
}

static int load_tracker(struct session *s) {
        const char *path = s->config->tracker_file;
        _cleanup_(freep) char *cause = NULL, *aside = NULL;
        int r;

        r = tracker_load(path, &s->tracker, &cause);
        if (r == -ENOMEM)
                return EXIT_SOFTWARE;
        if (r < 0 && r != -ENOENT) {
                log_warning("tracker %s", cause ? cause : strerror(-r));
                if (tracker_set_aside(path, now_seconds(), &aside) >= 0)
                        log_warning("moved the damaged tracker to '%s'; rebuilding from the cluster's labels", aside);
                else {
                        log_error("cannot move the damaged tracker '%s' aside: nothing was changed", path);
                        return EXIT_CONFIG;
                }
        }
        if (!s->tracker) {
                s->tracker = tracker_new();
                if (!s->tracker)
                        return EXIT_SOFTWARE;
        }
        return 0;
}

/* Without a cluster uid (a cluster with neither kube-system nor default), the tracker is
 * matched on the server URL alone. */
static int check_cluster_by_url(struct session *s) {
        if (s->tracker->server && !streq(s->tracker->server, s->target->server) && s->tracker->uid) {
                log_error("tracker '%s' belongs to the cluster at %s (uid %s), not to %s; refusing to use it "
                          "(point --seeder-tracker-file elsewhere or move it away)",
                          s->config->tracker_file, s->tracker->server, s->tracker->uid, s->target->server);
                return EXIT_CONFIG;
        }
        return tracker_set_cluster(s->tracker, s->target->server, s->tracker->uid) < 0 ? EXIT_SOFTWARE : 0;
}

static int check_cluster(struct session *s) {
        _cleanup_(freep) char *cause = NULL;
        int r;

        r = kube_cluster_id(s->kube, &s->cluster_uid);
        if (r == -EACCES) {
                log_error("missing permission: get namespaces 'kube-system' (the cluster's identity, "
                          "granted by etc/clyde/rbac.yaml): %s", strempty(kube_last_error(s->kube)->message));
                return EXIT_NOPERM;
        }
        if (r == -ENOENT) {
                log_debug("cannot read the cluster's identity (%s): matching the tracker by server URL",
                          strempty(kube_last_error(s->kube)->message));
                return check_cluster_by_url(s);
        }
        if (r < 0) {
                log_error("cannot reach the API server %s: %s", s->target->server,
                          kube_last_error(s->kube)->message ? kube_last_error(s->kube)->message : strerror(-r));
                return EXIT_UNAVAILABLE;
        }
        r = tracker_check_cluster(s->tracker, s->target->server, s->cluster_uid, &cause);
        if (r == -EXDEV) {
                log_error("%s; refusing to use it (point --seeder-tracker-file elsewhere or move it away)",
                          strempty(cause));
                return EXIT_CONFIG;
        }
        if (r < 0 || tracker_set_cluster(s->tracker, s->target->server, s->cluster_uid) < 0)
                return EXIT_SOFTWARE; /* out of memory, or a server URL the tracker refuses */
        return 0;
}

int session_tracker(struct session *s, bool lock) {
        pid_t holder = 0;
        int r;

        if (lock) {
                r = tracker_lock(s->config->tracker_file, &s->lock, &holder);
                if (r == -EAGAIN || r == -EWOULDBLOCK) {
                        log_error("another clyde-seed run (pid %d) holds the lock on '%s.lock'; try later",
                                  (int) holder, s->config->tracker_file);
                        return EXIT_LOCKED;
                }
                if (r < 0) {
                        log_error_errno(r, "cannot lock '%s.lock': %m", s->config->tracker_file);
                        return EXIT_CONFIG;
                }
        }
        r = load_tracker(s);
        if (r != 0)
                return r;
        return check_cluster(s);
}

size_t session_http_counters(const struct session *s, const struct http_counter **ret) {
        *ret = NULL;
        return s->kube ? http_client_counters(kube_http(s->kube), ret) : 0;
}

void session_done(struct session *s) {
        image_list_free(s->images);
        kube_client_free(s->kube);
        kube_target_free(s->target);
        tracker_free(s->tracker);
        tracker_unlock(s->lock);
        free(s->cluster_uid);
        memset(s, 0, sizeof(*s));
}
