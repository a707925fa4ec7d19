/* SPDX-License-Identifier: MIT */
/* kubeconfig files and in-cluster configuration -> struct kube_target: where the API
 * server is, how to trust it and how to authenticate. Loaded once; credentials that can
 * change (tokenFile, exec plugins, the service-account token) are refreshed through
 * kube_target_auth(). Key and certificate material stays in memory and is never logged. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kube_exec; /* exec credential plugin settings and cached ExecCredential */

struct kube_target {
        char *server;          /* "https://host:port", no trailing slash */
        char *ca_pem;          /* CA bundle (PEM) in memory, NULL = system trust store */
        size_t ca_len;
        bool insecure;         /* insecure-skip-tls-verify: true only when the file says so */
        char *tls_server_name; /* NULL when unset */
        char *proxy_url;       /* NULL when unset */
        bool disable_compression;

        /* Static client certificate (from files or -data), NULL when none. */
        char *cert_pem;
        size_t cert_len;
        char *key_pem;
        size_t key_len;

        char *token;      /* static bearer token, NULL when none */
        char *token_file; /* absolute path, re-read when it changes; wins over token */
        char *username;   /* basic auth, NULL when none */
        char *password;
        struct kube_exec *exec; /* NULL when no exec plugin */

        char *namespace;    /* the context's (or in-cluster) namespace, NULL when unset */
        char *context_name; /* NULL in-cluster */
        char *source;       /* file that defined the context, or "in-cluster"; for messages */
        bool in_cluster;

        /* private: token file cache */
        char *token_file_cache;
        int64_t token_file_mtime_ns;
        uint64_t token_file_ino;
        int64_t token_file_size;
};

/* The credentials to send with the next request. Everything is borrowed from the target
 * and stays valid until the next kube_target_auth() or kube_target_free() call. */
struct kube_auth {
        const char *token;    /* bearer token or NULL */
        const char *username; /* basic auth or NULL */
        const char *password;
        const char *cert_pem; /* client certificate (PEM) or NULL */
        size_t cert_len;
        const char *key_pem;
        size_t key_len;
};

/* Loads the target the way kubectl does: explicit_path (must exist) when not NULL; else
 * $KUBECONFIG (colon-separated, merged); else ~/.kube/config; else in-cluster.
 * context: the context to use, NULL for current-context.
 * Returns 0 and a new target in *ret, or a negative errno with a message in *ret_cause
 * (malloc'd, names the file and the entry): -ENOENT no configuration found or file
 * missing, -EINVAL malformed content, -ENOMEM. */
int kube_target_load(const char *explicit_path, const char *context, struct kube_target **ret,
                     char **ret_cause);

/* Loads in-cluster configuration below root (normally "/"; tests pass a fake tree):
 * root/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace} and the
 * KUBERNETES_SERVICE_HOST/PORT environment. Same returns as kube_target_load(). */
int kube_target_load_in_cluster(const char *root, struct kube_target **ret, char **ret_cause);

/* Fills *ret with the credentials for the next request. refresh = true after a 401: runs
 * the exec plugin again and re-reads token files. A token file is re-read whenever its
 * mtime changes; an exec credential is cached until its expirationTimestamp.
 * Returns 0, or a negative errno with *ret_cause set (e.g. exec plugin missing, with its
 * installHint; plugin failed; unreadable token file). */
int kube_target_auth(struct kube_target *t, bool refresh, struct kube_auth *ret, char **ret_cause);

/* NULL is fine; returns NULL. Wipes secrets before freeing. */
struct kube_target *kube_target_free(struct kube_target *t);
