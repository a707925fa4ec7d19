/* SPDX-License-Identifier: MIT */
/* Unit tests of the kubeconfig loader on the fixtures in tests/data/kubeconfig: every
 * field, KUBECONFIG merging, relative paths, in-cluster with a fake root, token files
 * that change, exec plugins (token, certificate, cache, refresh, failures) and every
 * error message. */
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <time.h>

#include "kubeconfig-internal.h"
#include "kubeconfig.h"
#include "macro.h"
#include "tap.h"

#ifndef KUBECONFIG_DATA_DIR
#error "KUBECONFIG_DATA_DIR must point to tests/data/kubeconfig"
#endif
#define D KUBECONFIG_DATA_DIR

static char tmpdir[] = "/tmp/test-kubeconfig-XXXXXX";

/* tmpl with @D@ replaced by the data directory and @T@ by the temporary one; static. */
static const char *expand(const char *tmpl) {
        static char buf[4096];
        size_t n = 0;

        for (const char *p = tmpl; *p && n < sizeof(buf) - 1;) {
                const char *rep = startswith(p, "@D@") ? D : startswith(p, "@T@") ? tmpdir : NULL;

                if (rep) {
                        n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s", rep);
                        p += 3;
                } else
                        buf[n++] = *p++;
        }
        buf[MIN(n, sizeof(buf) - 1)] = '\0';
        return buf;
}

static char *slurp(const char *path) {
        char *s = NULL;
        size_t len;

        if (kc_read_file(path, 1 << 20, &s, &len) < 0)
                return NULL;
        return s;
}

static void write_file(const char *path, const char *content, int64_t mtime_sec) {
        FILE *f = fopen(path, "w");

        if (!f)
                abort();
        fputs(content, f);
        if (fclose(f) != 0)
                abort();
        if (mtime_sec > 0) {
                struct timespec ts[2] = { { .tv_sec = mtime_sec }, { .tv_sec = mtime_sec } };

                if (utimensat(AT_FDCWD, path, ts, 0) < 0)
                        abort();
        }
}

static bool contains(const char *s, size_t len, const char *what) {
        return s && len > 0 && memmem(s, len, what, strlen(what));
}

/* ---- every field ---- */

struct field_case {
        const char *file, *context;
        const char *server, *ca, *sni, *proxy, *cert, *key, *token, *token_file, *user, *password, *ns;
        bool insecure, nocompress;
        const char *auth_token;
        const char *context_name;
};

static const struct field_case field_cases[] = {
        { "full.yaml", NULL, "https://file.example:6443", "CA-FROM-FILE", .token = "static-token",
          .ns = "team-a", .auth_token = "static-token", .context_name = "ctx-token" },
        { "full.yaml", "ctx-tokenfile", "https://data.example:443", "CA-FROM-DATA", .token = "loses-to-tokenfile",
          .token_file = "@D@/token.txt", .auth_token = "token-from-file", .context_name = "ctx-tokenfile" },
        { "full.yaml", "ctx-basic", "https://insecure.example", .insecure = true, .user = "admin",
          .password = "s3cr3t: with colon", .context_name = "ctx-basic" },
        { "full.yaml", "ctx-certfile", "https://10.0.0.1:6443", "CA-FROM-FILE", "kubernetes.default",
          "http://proxy.example:3128", "CLIENT-CERT-FILE", "CLIENT-KEY-FILE", .nocompress = true,
          .ns = "kube-system", .context_name = "ctx-certfile" },
        { "full.yaml", "ctx-certdata", "https://file.example:6443", "CA-FROM-FILE", .cert = "CLIENT-CERT-DATA",
          .key = "CLIENT-KEY-DATA", .context_name = "ctx-certdata" },
        { "full.yaml", "ctx-anonymous", "https://data.example:443", "CA-FROM-DATA", .context_name = "ctx-anonymous" },
        { "full.yaml", "ctx-empty-user", "https://data.example:443", "CA-FROM-DATA", .context_name = "ctx-empty-user" },
        { "flow.json", NULL, "https://json.example:6443", .insecure = true, .token = "json-token",
          .ns = "from-json", .auth_token = "json-token", .context_name = "json" },
};

static void check_pem(const char *got, size_t len, const char *want, const char *what, const char *ctx) {
        if (!want)
                is_int(!!got, 0, "%s: no %s", ctx, what);
        else
                ok(contains(got, len, want) && strlen(got) == len, "%s: %s holds '%s'", ctx, what, want);
}

static void test_field_case(const struct field_case *c) {
        _cleanup_(freep) char *path = NULL, *cause = NULL;
        struct kube_target *t = NULL;
        struct kube_auth a;
        const char *ctx = c->context ? c->context : "(current)";
        int r;

        if (asprintf(&path, "%s/%s", D, c->file) < 0)
                abort();
        r = kube_target_load(path, c->context, &t, &cause);
        if (!ok(r == 0, "%s %s: loads (%s)", c->file, ctx, strempty(cause)))
                return;
        is_str(t->server, c->server, "%s: server", ctx);
        check_pem(t->ca_pem, t->ca_len, c->ca, "CA", ctx);
        is_str(t->tls_server_name, c->sni, "%s: tls-server-name", ctx);
        is_str(t->proxy_url, c->proxy, "%s: proxy-url", ctx);
        is_int(t->insecure, c->insecure, "%s: insecure", ctx);
        is_int(t->disable_compression, c->nocompress, "%s: disable-compression", ctx);
        check_pem(t->cert_pem, t->cert_len, c->cert, "client certificate", ctx);
        check_pem(t->key_pem, t->key_len, c->key, "client key", ctx);
        is_str(t->token, c->token, "%s: token", ctx);
        is_str(t->token_file, c->token_file ? expand(c->token_file) : NULL, "%s: tokenFile", ctx);
        is_str(t->username, c->user, "%s: username", ctx);
        is_str(t->password, c->password, "%s: password", ctx);
        is_str(t->namespace, c->ns, "%s: namespace", ctx);
        is_str(t->context_name, c->context_name, "%s: context name", ctx);
        is_str(t->source, path, "%s: source", ctx);
        ok(!t->exec && !t->in_cluster, "%s: no exec, not in-cluster", ctx);
        r = kube_target_auth(t, false, &a, &cause);
        is_int(r, 0, "%s: auth", ctx);
        is_str(a.token, c->auth_token, "%s: auth token", ctx);
        is_str(a.username, c->user, "%s: auth username", ctx);
        ok(a.cert_pem == t->cert_pem && a.key_pem == t->key_pem, "%s: auth certificate", ctx);
        kube_target_free(t);
}

/* ---- error messages ---- */

struct error_case {
        const char *file, *context;
        int r;
        const char *message; /* exact, or a prefix when it ends in '*' */
};

static const struct error_case error_cases[] = {
        { "errors.yaml", NULL, -ENOENT, "kubeconfig @D@/errors.yaml: context 'missing-context' not found" },
        { "errors.yaml", "no-server", -EINVAL, "kubeconfig @D@/errors.yaml: cluster 'no-server': no server" },
        { "errors.yaml", "no-cluster", -EINVAL, "kubeconfig @D@/errors.yaml: context 'no-cluster': no cluster" },
        { "errors.yaml", "unknown-cluster", -ENOENT,
          "kubeconfig @D@/errors.yaml: context 'unknown-cluster': cluster 'nope' not found" },
        { "errors.yaml", "unknown-user", -ENOENT,
          "kubeconfig @D@/errors.yaml: context 'unknown-user': user 'nope' not found" },
        { "errors.yaml", "missing-ca", -ENOENT,
          "kubeconfig @D@/errors.yaml: cluster 'missing-ca': cannot read certificate-authority "
          "'@D@/missing-ca.pem': No such file or directory" },
        { "errors.yaml", "bad-ca-data", -EINVAL,
          "kubeconfig @D@/errors.yaml: cluster 'bad-ca-data': malformed base64 in 'certificate-authority-data'" },
        { "errors.yaml", "insecure-and-ca", -EINVAL,
          "kubeconfig @D@/errors.yaml: cluster 'insecure-and-ca': certificate-authority and "
          "insecure-skip-tls-verify are both set" },
        { "errors.yaml", "bad-bool", -EINVAL,
          "kubeconfig @D@/errors.yaml:24: cluster 'bad-bool': 'insecure-skip-tls-verify' must be true or false" },
        { "errors.yaml", "server-list", -EINVAL,
          "kubeconfig @D@/errors.yaml:27: cluster 'server-list': 'server' must be a string, not a list" },
        { "errors.yaml", "no-body", -EINVAL, "kubeconfig @D@/errors.yaml:28: cluster 'no-body': 'cluster' must be a mapping" },
        { "errors.yaml", "token-and-basic", -EINVAL,
          "kubeconfig @D@/errors.yaml: user 'token-and-basic': both a token and basic auth (username/password) are set" },
        { "errors.yaml", "cert-no-key", -EINVAL,
          "kubeconfig @D@/errors.yaml: user 'cert-no-key': client-certificate is set but client-key is not" },
        { "errors.yaml", "key-no-cert", -EINVAL,
          "kubeconfig @D@/errors.yaml: user 'key-no-cert': client-key is set but client-certificate is not" },
        { "errors.yaml", "bad-key-data", -EINVAL,
          "kubeconfig @D@/errors.yaml: user 'bad-key-data': malformed base64 in 'client-key-data'" },
        { "errors.yaml", "missing-token-file", -ENOENT,
          "kubeconfig @D@/errors.yaml: context 'missing-token-file': cannot read tokenFile '@D@/no-such-token': "
          "No such file or directory" },
        { "errors.yaml", "auth-provider", -EINVAL,
          "kubeconfig @D@/errors.yaml: user 'auth-provider': auth-provider 'gcp' is not supported, use an exec "
          "credential plugin" },
        { "errors.yaml", "exec-bad-api", -EINVAL,
          "kubeconfig @D@/errors.yaml:55: user 'exec-bad-api': exec: apiVersion "
          "'client.authentication.k8s.io/v1alpha1' is not supported (client.authentication.k8s.io/v1 or "
          "client.authentication.k8s.io/v1beta1)" },
        { "errors.yaml", "exec-no-interactive", -EINVAL,
          "kubeconfig @D@/errors.yaml:58: user 'exec-no-interactive': exec: interactiveMode must be set for "
          "client.authentication.k8s.io/v1" },
        { "errors.yaml", "exec-bad-interactive", -EINVAL,
          "kubeconfig @D@/errors.yaml:61: user 'exec-bad-interactive': exec: invalid interactiveMode 'Sometimes' "
          "(Never, IfAvailable or Always)" },
        { "errors.yaml", "exec-no-command", -EINVAL, "kubeconfig @D@/errors.yaml:64: user 'exec-no-command': exec: no command" },
        { "errors.yaml", "exec-bad-env", -EINVAL,
          "kubeconfig @D@/errors.yaml:70: user 'exec-bad-env': exec env entry without a valid name" },
        { "bad-syntax.yaml", NULL, -EINVAL, "kubeconfig @D@/bad-syntax.yaml:5:*" },
        { "bad-structure.yaml", NULL, -EINVAL,
          "kubeconfig @D@/bad-structure.yaml:2: top level: 'clusters' must be a list, not a mapping" },
        { "no-current.yaml", NULL, -EINVAL,
          "kubeconfig @D@/no-current.yaml: no context given and current-context is not set" },
        { "empty.yaml", NULL, -EINVAL, "kubeconfig @D@/empty.yaml: no context given and current-context is not set" },
        { "empty.yaml", "x", -ENOENT, "kubeconfig @D@/empty.yaml: context 'x' not found" },
        { "nope.yaml", NULL, -ENOENT, "kubeconfig @D@/nope.yaml: No such file or directory" },
        { "certs", NULL, -EISDIR, "kubeconfig @D@/certs: Is a directory" },
};

static void check_message(const char *got, const char *tmpl, const char *what) {
        const char *want = expand(tmpl);
        size_t n = strlen(want);

        if (n > 0 && want[n - 1] == '*') {
                ok(got && strncmp(got, want, n - 1) == 0, "%s: message starts with '%.*s'", what, (int) n - 1, want);
                if (got)
                        printf("#   message: %s\n", got);
        } else
                is_str(got, want, "%s: message", what);
}

static void test_error_case(const struct error_case *c) {
        _cleanup_(freep) char *path = NULL, *cause = NULL;
        struct kube_target *t = NULL;
        int r;

        if (asprintf(&path, "%s/%s", D, c->file) < 0)
                abort();
        r = kube_target_load(path, c->context, &t, &cause);
        is_int(r, c->r, "%s %s: fails with %s", c->file, strempty(c->context), strerror(-c->r));
        ok(!t, "%s %s: no target", c->file, strempty(c->context));
        check_message(cause, c->message, c->context ? c->context : c->file);
        kube_target_free(t);
}

/* ---- KUBECONFIG merging and the source order ---- */

struct merge_case {
        const char *kubeconfig, *explicit_path, *context;
        const char *server, *ca, *token, *username, *ns, *source, *auth_token;
};

static const struct merge_case merge_cases[] = {
        /* current-context from merge-b (first that sets it); cluster and user `shared`
         * wholly from merge-a although merge-b has a CA and basic auth for them */
        { "@D@/merge-a.yaml:@D@/missing.yaml:@D@/merge-b.yaml:@D@/sub/merge-c.yaml", NULL, NULL,
          "https://a.example", NULL, "token-a", NULL, "ns-b", "@D@/merge-b.yaml", "token-a" },
        { "@D@/merge-a.yaml:@D@/merge-b.yaml:@D@/sub/merge-c.yaml", NULL, "only-a", "https://a.example", NULL,
          "token-a", NULL, "ns-a", "@D@/merge-a.yaml", "token-a" },
        /* cluster only-b from merge-b, not merge-c; user from merge-c with its
         * tokenFile relative to sub/ */
        { "@D@/merge-a.yaml:@D@/merge-b.yaml:@D@/sub/merge-c.yaml", NULL, "ctx-only-b", "https://only-b.example",
          NULL, NULL, NULL, NULL, "@D@/merge-b.yaml", "sub-token" },
        { "::@D@/merge-b.yaml:@D@/sub/merge-c.yaml:@D@/merge-b.yaml", NULL, "ctx-sub", "https://sub.example",
          "CA-FROM-SUB", NULL, NULL, NULL, "@D@/sub/merge-c.yaml", "sub-token" },
        /* the other order: merge-b's entries win */
        { "@D@/merge-b.yaml:@D@/merge-a.yaml", NULL, NULL, "https://b.example", "CA-FROM-FILE", NULL, "b", "ns-b",
          "@D@/merge-b.yaml", NULL },
        /* --kubeconfig beats $KUBECONFIG */
        { "@D@/merge-a.yaml", "@D@/flow.json", NULL, "https://json.example:6443", NULL, "json-token", NULL,
          "from-json", "@D@/flow.json", "json-token" },
};

static void test_merge_case(const struct merge_case *c, size_t i) {
        _cleanup_(freep) char *cause = NULL, *explicit_path = NULL;
        struct kube_target *t = NULL;
        struct kube_auth a = {};
        int r;

        setenv("KUBECONFIG", expand(c->kubeconfig), 1);
        if (c->explicit_path && !(explicit_path = strdup(expand(c->explicit_path))))
                abort();
        r = kube_target_load(explicit_path, c->context, &t, &cause);
        if (!ok(r == 0, "merge %zu: loads (%s)", i, strempty(cause)))
                return;
        is_str(t->server, c->server, "merge %zu: server", i);
        check_pem(t->ca_pem, t->ca_len, c->ca, "CA", "merge");
        is_str(t->token, c->token, "merge %zu: token", i);
        is_str(t->username, c->username, "merge %zu: username", i);
        is_str(t->namespace, c->ns, "merge %zu: namespace", i);
        is_str(t->source, expand(c->source), "merge %zu: source", i);
        is_int(kube_target_auth(t, false, &a, &cause), 0, "merge %zu: auth", i);
        is_str(a.token, c->auth_token, "merge %zu: auth token", i);
        kube_target_free(t);
}

static void test_merge_errors(void) {
        _cleanup_(freep) char *cause = NULL;
        struct kube_target *t = NULL;
        int r;

        setenv("KUBECONFIG", expand("@D@/merge-a.yaml:@D@/bad-syntax.yaml:@D@/merge-b.yaml"), 1);
        r = kube_target_load(NULL, NULL, &t, &cause);
        is_int(r, -EINVAL, "an unparseable file in KUBECONFIG is an error");
        check_message(cause, "kubeconfig @D@/bad-syntax.yaml:5:*", "KUBECONFIG with a broken file");

        unsetenv("KUBERNETES_SERVICE_HOST");
        setenv("KUBECONFIG", expand("@D@/missing-1.yaml:@D@/missing-2.yaml"), 1);
        free(cause);
        cause = NULL;
        r = kube_target_load(NULL, NULL, &t, &cause);
        is_int(r, -ENOENT, "only missing files and no cluster: -ENOENT");
        is_str(cause,
               "no kubeconfig found (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not running in a cluster "
               "(KUBERNETES_SERVICE_HOST is not set)",
               "only missing files: message");
        ok(!t, "no target");
}

static void test_home(void) {
        _cleanup_(freep) char *cause = NULL, *home = NULL, *kube = NULL, *config = NULL, *json = NULL;
        struct kube_target *t = NULL;
        int r;

        if (asprintf(&home, "%s/home", tmpdir) < 0 || asprintf(&kube, "%s/.kube", home) < 0 ||
            asprintf(&config, "%s/config", kube) < 0 || !(json = slurp(D "/flow.json")))
                abort();
        (void) mkdir(home, 0700);
        setenv("HOME", home, 1);
        setenv("KUBECONFIG", "", 1); /* empty: as if unset */
        unsetenv("KUBERNETES_SERVICE_HOST");
        r = kube_target_load(NULL, NULL, &t, &cause);
        is_int(r, -ENOENT, "no ~/.kube/config and not in a cluster: -ENOENT");

        (void) mkdir(kube, 0700);
        write_file(config, json, 0);
        unsetenv("KUBECONFIG");
        r = kube_target_load(NULL, NULL, &t, &cause);
        is_int(r, 0, "~/.kube/config is read when KUBECONFIG is unset");
        if (t) {
                is_str(t->server, "https://json.example:6443", "~/.kube/config: server");
                is_str(t->source, config, "~/.kube/config: source");
                t = kube_target_free(t);
        }

        /* nothing configured but KUBERNETES_SERVICE_HOST set: the in-cluster files under
         * the real root are tried (this machine is no pod, so they are missing) */
        (void) unlink(config);
        setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
        setenv("KUBERNETES_SERVICE_PORT", "443", 1);
        if (access("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", F_OK) == 0)
                printf("ok %d - # SKIP running inside a pod\n", ++tap_n);
        else {
                free(cause);
                cause = NULL;
                r = kube_target_load(NULL, NULL, &t, &cause);
                is_int(r, -ENOENT, "falls back to in-cluster");
                is_str(cause,
                       "in-cluster: cannot read certificate-authority "
                       "'/var/run/secrets/kubernetes.io/serviceaccount/ca.crt': No such file or directory",
                       "in-cluster fallback: message");
        }
        unsetenv("KUBERNETES_SERVICE_HOST");
        unsetenv("KUBERNETES_SERVICE_PORT");
}

/* ---- in-cluster ---- */

static void test_in_cluster(void) {
        _cleanup_(freep) char *root = NULL, *sa = NULL, *token = NULL, *ca = NULL, *ns = NULL, *cause = NULL;
        struct kube_target *t = NULL;
        struct kube_auth a;
        int r;

        if (asprintf(&root, "%s/root", tmpdir) < 0 || asprintf(&sa, "%s/var/run/secrets/kubernetes.io/serviceaccount", root) < 0 ||
            asprintf(&token, "%s/token", sa) < 0 || asprintf(&ca, "%s/ca.crt", sa) < 0 ||
            asprintf(&ns, "%s/namespace", sa) < 0)
                abort();
        for (char *p = strchr(sa + strlen(tmpdir) + 1, '/'); p; p = strchr(p + 1, '/')) {
                *p = '\0';
                (void) mkdir(sa, 0755);
                *p = '/';
        }
        (void) mkdir(sa, 0755);

        unsetenv("KUBERNETES_SERVICE_HOST");
        setenv("KUBERNETES_SERVICE_PORT", "443", 1);
        r = kube_target_load_in_cluster(root, &t, &cause);
        is_int(r, -ENOENT, "in-cluster without KUBERNETES_SERVICE_HOST");
        is_str(cause, "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set",
               "in-cluster without host: message");

        setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
        r = kube_target_load_in_cluster(root, &t, &cause);
        is_int(r, -ENOENT, "in-cluster without ca.crt");
        is_str(cause, expand("in-cluster: cannot read certificate-authority '@T@/root/var/run/secrets/kubernetes.io/serviceaccount/ca.crt': No such file or directory"),
               "in-cluster without ca.crt: message");

        write_file(ca, "-----BEGIN CERTIFICATE-----\nCLUSTER-CA\n-----END CERTIFICATE-----\n", 0);
        r = kube_target_load_in_cluster(root, &t, &cause);
        is_int(r, -ENOENT, "in-cluster without a token");
        is_str(cause, expand("in-cluster: cannot read service account token '@T@/root/var/run/secrets/kubernetes.io/serviceaccount/token': No such file or directory"),
               "in-cluster without a token: message");

        write_file(token, "sa-token-1\n", 1000000000);
        write_file(ns, "ns-from-file\n", 0);
        unsetenv("POD_NAMESPACE");
        r = kube_target_load_in_cluster(root, &t, &cause);
        if (!ok(r == 0, "in-cluster loads (%s)", strempty(cause)))
                return;
        is_str(t->server, "https://10.96.0.1:443", "in-cluster: server");
        check_pem(t->ca_pem, t->ca_len, "CLUSTER-CA", "CA", "in-cluster");
        is_str(t->namespace, "ns-from-file", "in-cluster: namespace from the file");
        ok(t->in_cluster && !t->context_name, "in-cluster: flagged, no context");
        is_str(t->source, "in-cluster", "in-cluster: source");
        is_int(kube_target_auth(t, false, &a, &cause), 0, "in-cluster: auth");
        is_str(a.token, "sa-token-1", "in-cluster: token");

        /* the kubelet rotates the token: the next request carries the new one */
        write_file(token, "sa-token-2-rotated\n", 1000000100);
        is_int(kube_target_auth(t, false, &a, &cause), 0, "in-cluster: auth after rotation");
        is_str(a.token, "sa-token-2-rotated", "in-cluster: rotated token is re-read");
        t = kube_target_free(t);

        setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
        setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
        setenv("POD_NAMESPACE", "ns-from-env", 1);
        r = kube_target_load_in_cluster(root, &t, &cause);
        is_int(r, 0, "in-cluster IPv6 loads");
        if (t) {
                is_str(t->server, "https://[fd00:10:96::1]:6443", "in-cluster: IPv6 in brackets");
                is_str(t->namespace, "ns-from-env", "in-cluster: POD_NAMESPACE wins");
                t = kube_target_free(t);
        }
        setenv("KUBERNETES_SERVICE_PORT", "https", 1);
        r = kube_target_load_in_cluster(root, &t, &cause);
        is_int(r, -EINVAL, "in-cluster: a port that is not a number");
        unsetenv("KUBERNETES_SERVICE_HOST");
        unsetenv("KUBERNETES_SERVICE_PORT");
        unsetenv("POD_NAMESPACE");
}

/* ---- tokenFile that changes between calls ---- */

static void test_token_file(void) {
        _cleanup_(freep) char *config = NULL, *tok = NULL, *cause = NULL;
        struct kube_target *t = NULL;
        struct kube_auth a;
        int r;

        if (asprintf(&config, "%s/config", tmpdir) < 0 || asprintf(&tok, "%s/tok", tmpdir) < 0)
                abort();
        write_file(config,
                   "current-context: c\n"
                   "clusters: [{name: c, cluster: {server: 'https://tf.example'}}]\n"
                   "users: [{name: u, user: {tokenFile: tok}}]\n"
                   "contexts: [{name: c, context: {cluster: c, user: u}}]\n", 0);
        write_file(tok, "one\n", 1500000000);
        r = kube_target_load(config, NULL, &t, &cause);
        if (!ok(r == 0, "tokenFile: loads (%s)", strempty(cause)))
                return;
        is_str(t->token_file, tok, "tokenFile: resolved against the kubeconfig's directory");
        is_int(kube_target_auth(t, false, &a, &cause), 0, "tokenFile: auth");
        is_str(a.token, "one", "tokenFile: first token");

        /* same size, same mtime: not read again */
        write_file(tok, "two\n", 1500000000);
        is_int(kube_target_auth(t, false, &a, &cause), 0, "tokenFile: auth, unchanged mtime");
        is_str(a.token, "one", "tokenFile: cached while the mtime stays");
        is_int(kube_target_auth(t, true, &a, &cause), 0, "tokenFile: auth with refresh");
        is_str(a.token, "two", "tokenFile: refresh re-reads");

        write_file(tok, "three\n", 1500000060);
        is_int(kube_target_auth(t, false, &a, &cause), 0, "tokenFile: auth after a change");
        is_str(a.token, "three", "tokenFile: a new mtime is noticed");

        write_file(tok, "\n", 1500000120);
        r = kube_target_auth(t, false, &a, &cause);
        is_int(r, -EINVAL, "tokenFile: empty file fails");
        is_str(cause, expand("kubeconfig @T@/config: context 'c': cannot read tokenFile '@T@/tok': empty or not a single line"),
               "tokenFile: empty file message");

        (void) unlink(tok);
        r = kube_target_auth(t, false, &a, &cause);
        is_int(r, -ENOENT, "tokenFile: removed file fails");
        kube_target_free(t);
}

/* ---- exec credential plugins ---- */

static char state[sizeof(tmpdir) + 16];

static int runs(void) {
        _cleanup_(freep) char *path = NULL, *s = NULL;

        if (asprintf(&path, "%s/count", state) < 0)
                abort();
        s = slurp(path);
        return s ? atoi(s) : 0;
}

static char *state_file(const char *name) {
        _cleanup_(freep) char *path = NULL;

        if (asprintf(&path, "%s/%s", state, name) < 0)
                abort();
        return slurp(path);
}

static void reset_state(void) {
        _cleanup_(freep) char *path = NULL;

        if (asprintf(&path, "%s/count", state) < 0)
                abort();
        (void) unlink(path);
}

static struct kube_target *load_exec(const char *context) {
        _cleanup_(freep) char *cause = NULL;
        struct kube_target *t = NULL;
        int r;

        r = kube_target_load(D "/exec.yaml", context, &t, &cause);
        ok(r == 0 && t && t->exec, "exec %s: loads (%s)", context, strempty(cause));
        return t;
}

static const char *info_str(json_object *o, const char *path) {
        _cleanup_(freep) char *copy = strdup(path);
        char *save = NULL;

        for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
                if (!json_object_object_get_ex(o, k, &o))
                        o = NULL;
        return o ? json_object_get_string(o) : NULL;
}

static void test_exec_info(bool with_cluster, const char *api) {
        _cleanup_(freep) char *info = state_file("exec-info"), *ca = slurp(D "/ca.pem"), *ca64 = NULL;
        json_object *o = info ? json_tokener_parse(info) : NULL;

        ok(o, "KUBERNETES_EXEC_INFO is JSON: %s", strempty(info));
        is_str(info_str(o, "apiVersion"), api, "exec info: apiVersion");
        is_str(info_str(o, "kind"), "ExecCredential", "exec info: kind");
        is_str(info_str(o, "spec.interactive"), "false", "exec info: not interactive");
        if (with_cluster) {
                ca64 = kc_base64_encode(ca, strlen(ca));
                is_str(info_str(o, "spec.cluster.server"), "https://exec.example:6443", "exec info: server");
                is_str(info_str(o, "spec.cluster.tls-server-name"), "api.internal", "exec info: tls-server-name");
                is_str(info_str(o, "spec.cluster.certificate-authority-data"), ca64, "exec info: CA data");
                ok(strstr(strempty(info), "\"config\":{\"audience\":\"sts.example\",\"audiences\":[\"sts.example\","
                                          "\"second\"],\"retries\":3,\"verbose\":false,\"quoted\":\"true\"}"),
                   "exec info: the exec extension as spec.cluster.config");
        } else
                ok(!info_str(o, "spec.cluster"), "exec info: no cluster without provideClusterInfo");
        if (o)
                json_object_put(o);
}

static void test_exec_token(void) {
        _cleanup_(freep) char *cause = NULL, *args = NULL, *greeting = NULL;
        struct kube_target *t;
        struct kube_auth a;

        reset_state();
        unsetenv("KC_TEST_EXPIRY");
        t = load_exec("token");
        if (!t)
                return;
        is_int(runs(), 0, "exec: not run while loading");
        is_int(kube_target_auth(t, false, &a, &cause), 0, "exec: auth (%s)", strempty(cause));
        is_str(a.token, "exec-token-1", "exec: token from the plugin");
        is_int(runs(), 1, "exec: ran once");
        test_exec_info(true, "client.authentication.k8s.io/v1");
        args = state_file("args");
        is_str(args, "client.authentication.k8s.io/v1|--flag=a b|", "exec: args passed");
        greeting = state_file("greeting");
        is_str(greeting, "hello from kubeconfig", "exec: env passed");

        is_int(kube_target_auth(t, false, &a, &cause), 0, "exec: auth again");
        is_str(a.token, "exec-token-1", "exec: cached until expiry");
        is_int(runs(), 1, "exec: not run again");
        is_int(kube_target_auth(t, true, &a, &cause), 0, "exec: auth with refresh");
        is_str(a.token, "exec-token-2", "exec: refresh runs the plugin again");
        is_int(runs(), 2, "exec: ran twice");
        kube_target_free(t);

        /* an expired credential is renewed on the next call */
        reset_state();
        setenv("KC_TEST_EXPIRY", "2001-02-03T04:05:06Z", 1);
        t = load_exec("token");
        if (!t)
                return;
        is_int(kube_target_auth(t, false, &a, &cause), 0, "exec expired: auth");
        is_int(kube_target_auth(t, false, &a, &cause), 0, "exec expired: auth again");
        is_str(a.token, "exec-token-2", "exec expired: renewed");
        is_int(runs(), 2, "exec expired: ran twice");
        ok(t->exec->has_expiry && t->exec->expiry_usec == 981173106000000LL, "exec: expirationTimestamp parsed");
        kube_target_free(t);

        /* without an expiry: cached until refresh */
        reset_state();
        setenv("KC_TEST_EXPIRY", "none", 1);
        t = load_exec("token-beta");
        if (!t)
                return;
        is_str(t->token, "static-loses-to-exec", "exec v1beta1: static token kept in the target");
        is_int(kube_target_auth(t, false, &a, &cause), 0, "exec v1beta1: auth (%s)", strempty(cause));
        is_int(kube_target_auth(t, false, &a, &cause), 0, "exec v1beta1: auth again");
        is_str(a.token, "exec-token-1", "exec v1beta1: plugin token wins, cached without expiry");
        ok(!t->exec->has_expiry, "exec v1beta1: no expiry");
        is_int(runs(), 1, "exec v1beta1: ran once");
        test_exec_info(false, "client.authentication.k8s.io/v1beta1");
        kube_target_free(t);
        unsetenv("KC_TEST_EXPIRY");
}

static void test_exec_cert(void) {
        _cleanup_(freep) char *cause = NULL;
        struct kube_target *t = load_exec("cert");
        struct kube_auth a;

        if (!t)
                return;
        is_int(kube_target_auth(t, false, &a, &cause), 0, "exec cert: auth (%s)", strempty(cause));
        ok(!a.token, "exec cert: no token");
        ok(contains(a.cert_pem, a.cert_len, "-----BEGIN CERTIFICATE-----\nEXEC-CERT\n"), "exec cert: certificate");
        ok(contains(a.key_pem, a.key_len, "-----BEGIN PRIVATE KEY-----\nEXEC-KEY\n"), "exec cert: key");
        is_int(t->exec->expiry_usec, 32503676399500000LL, "exec cert: expiry with offset and fraction");
        kube_target_free(t);
}

struct exec_error_case {
        const char *context;
        int r;
        const char *message;
};

static const struct exec_error_case exec_error_cases[] = {
        { "missing", -ENOENT,
          "kubeconfig @D@/exec.yaml: user 'missing': exec plugin: executable 'clyde-seed-no-such-credential-plugin' "
          "not found: install it with 'apt-get install clyde-plugin'" },
        { "fails", -EIO, "kubeconfig @D@/exec.yaml: user 'fails': exec plugin '@D@/plugins/fail.sh' failed with exit status 3" },
        { "garbage", -EINVAL, "kubeconfig @D@/exec.yaml: user 'garbage': exec plugin output is not a JSON object*" },
        { "slow", -ETIMEDOUT, "kubeconfig @D@/exec.yaml: user 'slow': exec plugin '@D@/plugins/slow.sh' timed out" },
        { "always", -EINVAL,
          "kubeconfig @D@/exec.yaml: user 'always': exec plugin '@D@/plugins/token.sh' needs interactiveMode Always, "
          "but clyde-seed runs without a terminal" },
};

static void test_exec_error(const struct exec_error_case *c) {
        _cleanup_(freep) char *cause = NULL;
        struct kube_target *t = load_exec(c->context);
        struct kube_auth a;

        if (!t)
                return;
        t->exec->timeout_ms = 300; /* only slow.sh gets anywhere near it */
        is_int(kube_target_auth(t, false, &a, &cause), c->r, "exec %s: fails", c->context);
        check_message(cause, c->message, c->context);
        kube_target_free(t);
}

/* ---- pure helpers ---- */

static void test_base64(void) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "", "" }, { "QQ==", "A" }, { "QUI=", "AB" }, { "QUJD", "ABC" }, { "QUJD\n RA==\n", "ABCD" },
                { "QQ=", NULL }, { "Q===", NULL }, { "QQ==QQ==", NULL }, { "!!!!", NULL }, { "QUJ", NULL },
                { "QU=J", NULL }, { "====", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *out = NULL;
                size_t len = 0;
                int r = kc_base64_decode(cases[i].in, &out, &len);

                if (cases[i].out) {
                        is_int(r, 0, "base64 '%s' decodes", cases[i].in);
                        is_str(out, cases[i].out, "base64 '%s'", cases[i].in);
                        is_int(len, strlen(cases[i].out), "base64 '%s': length", cases[i].in);
                } else
                        is_int(r, -EINVAL, "base64 '%s' is refused", cases[i].in);
                free(out);
        }
        for (size_t n = 0; n < 5; n++) {
                _cleanup_(freep) char *enc = kc_base64_encode("hello", n), *dec = NULL;
                size_t len;

                ok(enc && kc_base64_decode(enc, &dec, &len) == 0 && len == n && memcmp(dec, "hello", n) == 0,
                   "base64 round trip of %zu bytes", n);
        }
}

static void test_rfc3339(void) {
        static const struct {
                const char *in;
                int64_t usec;
                int r;
        } cases[] = {
                { "1970-01-01T00:00:00Z", 0, 0 },
                { "2024-05-01T10:00:00Z", 1714557600000000LL, 0 },
                { "2024-05-01T12:00:00+02:00", 1714557600000000LL, 0 },
                { "2024-05-01T09:30:00-00:30", 1714557600000000LL, 0 },
                { "2024-05-01T10:00:00.25Z", 1714557600250000LL, 0 },
                { "2024-05-01t10:00:00.123456789z", 1714557600123456LL, 0 },
                { "2024-05-01", 0, -EINVAL },
                { "2024-13-01T00:00:00Z", 0, -EINVAL },
                { "2024-05-01T10:00:00", 0, -EINVAL },
                { "2024-05-01T10:00:00+0200", 0, -EINVAL },
                { "2024-05-01T10:00:00.Z", 0, -EINVAL },
                { "2024-05-01T10:00:00Z trailing", 0, -EINVAL },
                { "", 0, -EINVAL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int64_t usec = -1;
                int r = kc_parse_rfc3339(cases[i].in, &usec);

                is_int(r, cases[i].r, "rfc3339 '%s'", cases[i].in);
                if (r == 0)
                        is_int(usec, cases[i].usec, "rfc3339 '%s': value", cases[i].in);
        }
}

static void test_credentials(void) {
        static const struct {
                const char *json, *message;
        } cases[] = {
                { "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}", NULL },
                { "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":\"c\"}}",
                  "W: exec plugin returned clientCertificateData without clientKeyData" },
                { "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"clientKeyData\":\"k\",\"token\":\"t\"}}",
                  "W: exec plugin returned clientKeyData without clientCertificateData" },
                { "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{}}",
                  "W: exec plugin returned neither a token nor a client certificate" },
                { "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\"}",
                  "W: exec plugin returned no status" },
                { "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}",
                  "W: exec plugin returned apiVersion 'client.authentication.k8s.io/v1beta1', configured 'client.authentication.k8s.io/v1'" },
                { "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"Status\"}",
                  "W: exec plugin returned kind 'Status', not ExecCredential" },
                { "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"soon\"}}",
                  "W: exec plugin returned an invalid expirationTimestamp 'soon'" },
                { "[1,2]", "W: exec plugin output is not a JSON object" },
                { "{\"apiVersion\":", "W: exec plugin output is not a JSON object: unexpected end of input" },
        };
        struct kube_exec e = { .api_version = (char *) "client.authentication.k8s.io/v1", .what = (char *) "W" };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *cause = NULL;
                int r = kc_exec_parse_credential(&e, cases[i].json, strlen(cases[i].json), &cause);

                is_int(r, cases[i].message ? -EINVAL : 0, "credential %zu", i);
                if (cases[i].message)
                        check_message(cause, cases[i].message, "credential");
                else
                        is_str(e.token, "t", "credential %zu: token", i);
        }
        free(e.token);
        free(e.cert_pem);
        free(e.key_pem);
}

int main(void) {
        if (!mkdtemp(tmpdir))
                abort();
        snprintf(state, sizeof(state), "%s/state", tmpdir);
        (void) mkdir(state, 0700);
        setenv("KC_TEST_STATE", state, 1);
        unsetenv("KUBERNETES_SERVICE_HOST");
        unsetenv("KUBERNETES_SERVICE_PORT");

        for (size_t i = 0; i < ELEMENTSOF(field_cases); i++)
                test_field_case(&field_cases[i]);
        for (size_t i = 0; i < ELEMENTSOF(error_cases); i++)
                test_error_case(&error_cases[i]);
        for (size_t i = 0; i < ELEMENTSOF(merge_cases); i++)
                test_merge_case(&merge_cases[i], i);
        test_merge_errors();
        test_home();
        test_in_cluster();
        test_token_file();
        test_exec_token();
        test_exec_cert();
        for (size_t i = 0; i < ELEMENTSOF(exec_error_cases); i++)
                test_exec_error(&exec_error_cases[i]);
        test_base64();
        test_rfc3339();
        test_credentials();

        (void) !system(expand("rm -rf '@T@'"));
        return tap_done();
}
