/* SPDX-License-Identifier: MIT */
/* kubeconfig sources in kubectl's order, the merge of $KUBECONFIG, the context ->
 * cluster + user resolution, in-cluster configuration and the credentials handed to the
 * HTTP client. The YAML walker lives in kubeconfig-yaml.c, exec plugins in
 * kubeconfig-exec.c. */
#include <ctype.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <time.h>

#include "kubeconfig-internal.h"
#include "kubeconfig.h"
#include "macro.h"

#define SA_DIR "var/run/secrets/kubernetes.io/serviceaccount"

struct kube_target *kube_target_free(struct kube_target *t) {
        if (!t)
                return NULL;
        free(t->server);
        free(t->ca_pem);
        free(t->tls_server_name);
        free(t->proxy_url);
        free(t->cert_pem);
        kc_free_secret(t->key_pem, t->key_len);
        kc_free_secret(t->token, SIZE_MAX);
        free(t->token_file);
        free(t->username);
        kc_free_secret(t->password, SIZE_MAX);
        kc_exec_free(t->exec);
        free(t->namespace);
        free(t->context_name);
        free(t->source);
        kc_free_secret(t->token_file_cache, SIZE_MAX);
        free(t);
        return NULL;
}

static void kube_target_freep(struct kube_target **t) {
        kube_target_free(*t);
}

/* Removes leading and trailing whitespace in place. */
static void strip(char *s) {
        size_t n = strlen(s), k = 0;

        while (n > 0 && isspace((unsigned char) s[n - 1]))
                s[--n] = '\0';
        while (isspace((unsigned char) s[k]))
                k++;
        memmove(s, s + k, n - k + 1);
}

static bool endswith_slash(const char *s) {
        return !isempty(s) && s[strlen(s) - 1] == '/';
}

static int dup_opt(char **p, const char *s) {
        return free_and_strdup(p, isempty(s) ? NULL : s);
}

/* certificate-authority / client-certificate / client-key and their -data forms: the
 * data wins; a file is read relative to the kubeconfig that names it. Returns 1 when
 * set, 0 when neither is. */
static int pem_field(const struct kc_where *w, yaml_node_t *map, const char *key, bool read_files,
                     char **ret, size_t *ret_len, char **ret_cause) {
        _cleanup_(freep) char *data_key = NULL, *path = NULL;
        const char *data, *file;
        int r;

        if (asprintf(&data_key, "%s-data", key) < 0)
                return -ENOMEM;
        r = kc_get_str(w, map, data_key, &data, ret_cause);
        if (r >= 0)
                r = kc_get_str(w, map, key, &file, ret_cause);
        if (r < 0)
                return r;
        if (!isempty(data)) {
                r = kc_base64_decode(data, ret, ret_len);
                if (r == -EINVAL)
                        return kc_fail(ret_cause, r, "kubeconfig %s: %s: malformed base64 in '%s'",
                                       w->file->path, w->what, data_key);
                return r < 0 ? r : 1;
        }
        if (isempty(file))
                return 0;
        path = kc_path_resolve(w->file->dir, file);
        if (!path)
                return -ENOMEM;
        if (!read_files)
                return 0;
        r = kc_read_file(path, KC_PEM_MAX, ret, ret_len);
        if (r < 0)
                return kc_fail(ret_cause, r, "kubeconfig %s: %s: cannot read %s '%s': %s", w->file->path,
                               w->what, key, path, r == -EFBIG ? "file too large" : strerror(-r));
        return 1;
}

static int server_set(struct kube_target *t, const struct kc_where *w, const char *server,
                      char **ret_cause) {
        size_t n;
        int r;

        if (isempty(server))
                return kc_fail(ret_cause, -EINVAL, "kubeconfig %s: %s: no server", w->file->path, w->what);
        /* kubectl accepts "host:port" and means https */
        if (strstr(server, "://"))
                r = free_and_strdup(&t->server, server);
        else
                r = asprintf(&t->server, "https://%s", server) < 0 ? -ENOMEM : 0;
        if (r < 0)
                return r;
        n = strlen(t->server);
        while (n > 0 && t->server[n - 1] == '/')
                t->server[--n] = '\0';
        return 0;
}

static int cluster_apply(struct kube_target *t, const struct kc_where *w, yaml_node_t *c,
                         bool read_files, char **ret_cause) {
        const char *server, *sni, *proxy;
        int r, ca;

        r = kc_get_str(w, c, "server", &server, ret_cause);
        if (r >= 0)
                r = kc_get_str(w, c, "tls-server-name", &sni, ret_cause);
        if (r >= 0)
                r = kc_get_str(w, c, "proxy-url", &proxy, ret_cause);
        if (r >= 0)
                r = kc_get_bool(w, c, "insecure-skip-tls-verify", &t->insecure, ret_cause);
        if (r >= 0)
                r = kc_get_bool(w, c, "disable-compression", &t->disable_compression, ret_cause);
        if (r >= 0)
                r = server_set(t, w, server, ret_cause);
        if (r < 0)
                return r;
        if (dup_opt(&t->tls_server_name, sni) < 0 || dup_opt(&t->proxy_url, proxy) < 0)
                return -ENOMEM;
        ca = pem_field(w, c, "certificate-authority", read_files, &t->ca_pem, &t->ca_len, ret_cause);
        if (ca < 0)
                return ca;
        if (t->insecure) {
                const char *file;

                /* kubectl refuses the combination even when the file is not read */
                r = kc_get_str(w, c, "certificate-authority", &file, ret_cause);
                if (r < 0)
                        return r;
                if (ca > 0 || !isempty(file))
                        return kc_fail(ret_cause, -EINVAL,
                                       "kubeconfig %s: %s: certificate-authority and insecure-skip-tls-verify are both set",
                                       w->file->path, w->what);
        }
        return 0;
}

static int user_cert(struct kube_target *t, const struct kc_where *w, yaml_node_t *u, bool read_files,
                     char **ret_cause) {
        const char *cf, *kf;
        int cert, key, r;

        cert = pem_field(w, u, "client-certificate", read_files, &t->cert_pem, &t->cert_len, ret_cause);
        if (cert < 0)
                return cert;
        key = pem_field(w, u, "client-key", read_files, &t->key_pem, &t->key_len, ret_cause);
        if (key < 0)
                return key;
        r = kc_get_str(w, u, "client-certificate", &cf, ret_cause);
        if (r >= 0)
                r = kc_get_str(w, u, "client-key", &kf, ret_cause);
        if (r < 0)
                return r;
        cert = cert > 0 || !isempty(cf);
        key = key > 0 || !isempty(kf);
        if (cert != key)
                return kc_fail(ret_cause, -EINVAL, "kubeconfig %s: %s: %s is set but %s is not", w->file->path,
                               w->what, cert ? "client-certificate" : "client-key",
                               cert ? "client-key" : "client-certificate");
        return 0;
}

static int user_token(struct kube_target *t, const struct kc_where *w, yaml_node_t *u, char **ret_cause) {
        const char *token, *token_file, *user, *password;
        int r;

        r = kc_get_str(w, u, "token", &token, ret_cause);
        if (r >= 0)
                r = kc_get_str(w, u, "tokenFile", &token_file, ret_cause);
        if (r >= 0)
                r = kc_get_str(w, u, "username", &user, ret_cause);
        if (r >= 0)
                r = kc_get_str(w, u, "password", &password, ret_cause);
        if (r < 0)
                return r;
        if ((!isempty(token) || !isempty(token_file)) && (!isempty(user) || !isempty(password)))
                return kc_fail(ret_cause, -EINVAL,
                               "kubeconfig %s: %s: both a token and basic auth (username/password) are set",
                               w->file->path, w->what);
        if (dup_opt(&t->token, token) < 0 || dup_opt(&t->username, user) < 0 ||
            dup_opt(&t->password, password) < 0)
                return -ENOMEM;
        if (!isempty(token_file) && !(t->token_file = kc_path_resolve(w->file->dir, token_file)))
                return -ENOMEM;
        return 0;
}

static int user_apply(struct kube_target *t, const struct kc_where *w, yaml_node_t *u, bool read_files,
                      char **ret_cause) {
        yaml_node_t *exec, *provider;
        int r;

        r = kc_get_map(w, u, "auth-provider", &provider, ret_cause);
        if (r < 0)
                return r;
        if (provider) {
                const char *name = NULL;

                (void) kc_get_str(w, provider, "name", &name, NULL);
                return kc_fail(ret_cause, -EINVAL,
                               "kubeconfig %s: %s: auth-provider '%s' is not supported, use an exec credential plugin",
                               w->file->path, w->what, strempty(name));
        }
        r = user_cert(t, w, u, read_files, ret_cause);
        if (r >= 0)
                r = user_token(t, w, u, ret_cause);
        if (r >= 0)
                r = kc_get_map(w, u, "exec", &exec, ret_cause);
        if (r >= 0 && exec)
                r = kc_exec_parse(w, exec, &t->exec, ret_cause);
        return r;
}

static int token_file_fail(const struct kube_target *t, int r, const char *problem, char **ret_cause) {
        if (t->in_cluster)
                return kc_fail(ret_cause, r, "in-cluster: cannot read service account token '%s': %s", t->token_file,
                               problem ? problem : strerror(-r));
        return kc_fail(ret_cause, r, "kubeconfig %s: context '%s': cannot read tokenFile '%s': %s",
                       strempty(t->source), strempty(t->context_name), t->token_file,
                       problem ? problem : strerror(-r));
}

/* Re-reads the token file when it changed (mtime, inode or size) or refresh is set. */
static int token_file_refresh(struct kube_target *t, bool refresh, char **ret_cause) {
        char *token = NULL;
        struct stat st;
        size_t len;
        int64_t mtime;
        int r;

        if (stat(t->token_file, &st) < 0)
                return token_file_fail(t, -errno, NULL, ret_cause);
        mtime = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        if (!refresh && t->token_file_cache && mtime == t->token_file_mtime_ns &&
            (uint64_t) st.st_ino == t->token_file_ino && (int64_t) st.st_size == t->token_file_size)
                return 0;
        r = kc_read_file(t->token_file, KC_PEM_MAX, &token, &len);
        if (r < 0)
                return token_file_fail(t, r, r == -EFBIG ? "file too large" : NULL, ret_cause);
        /* a NUL byte or a second line cannot go into an Authorization header */
        bool bad = strlen(token) != len;
        strip(token);
        if (bad || isempty(token) || strchr(token, '\n') || strchr(token, '\r')) {
                kc_free_secret(token, len);
                return token_file_fail(t, -EINVAL, "empty or not a single line", ret_cause);
        }
        kc_free_secret(t->token_file_cache, SIZE_MAX);
        t->token_file_cache = token;
        t->token_file_mtime_ns = mtime;
        t->token_file_ino = (uint64_t) st.st_ino;
        t->token_file_size = (int64_t) st.st_size;
        return 0;
}

static int64_t now_realtime_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int kube_target_auth(struct kube_target *t, bool refresh, struct kube_auth *ret, char **ret_cause) {
        struct kube_auth a = {
                .token = t->token,
                .username = t->username,
                .password = t->password,
                .cert_pem = t->cert_pem,
                .cert_len = t->cert_len,
                .key_pem = t->key_pem,
                .key_len = t->key_len,
        };
        int r;

        if (t->token_file) {
                r = token_file_refresh(t, refresh, ret_cause);
                if (r < 0)
                        return r;
                a.token = t->token_file_cache;
        }
        if (t->exec) {
                r = kc_exec_refresh(t->exec, refresh, now_realtime_usec(), ret_cause);
                if (r < 0)
                        return r;
                /* the plugin's credential replaces the static ones of the same kind */
                if (t->exec->token)
                        a.token = t->exec->token;
                if (t->exec->cert_pem) {
                        a.cert_pem = t->exec->cert_pem;
                        a.cert_len = t->exec->cert_len;
                        a.key_pem = t->exec->key_pem;
                        a.key_len = t->exec->key_len;
                }
        }
        *ret = a;
        return 0;
}

/* Finds list/item name in the first file that defines it. */
static int find(struct kc_file *const *files, size_t n, const char *list, const char *item,
                const char *name, struct kc_file **ret_file, yaml_node_t **ret, char **ret_cause) {
        for (size_t i = 0; i < n; i++) {
                int r = kc_file_find(files[i], list, item, name, ret, ret_cause);

                if (r != 0) {
                        *ret_file = files[i];
                        return r;
                }
        }
        return 0;
}

static char *sources(struct kc_file *const *files, size_t n) {
        size_t len = 1;
        char *s;

        for (size_t i = 0; i < n; i++)
                len += strlen(files[i]->path) + 1;
        s = calloc(1, len);
        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        strcat(s, ":");
                strcat(s, files[i]->path);
        }
        return s;
}

struct refs {
        const char *context, *cluster, *user, *namespace;
        struct kc_file *context_file;
        struct kc_file *cluster_file;
        yaml_node_t *cluster_node;
};

static int context_find(struct kc_file *const *files, size_t n, const char *context, struct refs *ret,
                        char **ret_cause) {
        _cleanup_(freep) char *what = NULL, *src = sources(files, n);
        struct kc_where w;
        yaml_node_t *c;
        int r;

        if (!src)
                return -ENOMEM;
        for (size_t i = 0; i < n && !context; i++)
                context = files[i]->current_context;
        if (!context)
                return kc_fail(ret_cause, -EINVAL, "kubeconfig %s: no context given and current-context is not set", src);
        r = find(files, n, "contexts", "context", context, &ret->context_file, &c, ret_cause);
        if (r < 0)
                return r;
        if (r == 0)
                return kc_fail(ret_cause, -ENOENT, "kubeconfig %s: context '%s' not found", src, context);
        if (asprintf(&what, "context '%s'", context) < 0)
                return -ENOMEM;
        w = (struct kc_where) { .file = ret->context_file, .what = what };
        r = kc_get_str(&w, c, "cluster", &ret->cluster, ret_cause);
        if (r >= 0)
                r = kc_get_str(&w, c, "user", &ret->user, ret_cause);
        if (r >= 0)
                r = kc_get_str(&w, c, "namespace", &ret->namespace, ret_cause);
        if (r < 0)
                return r;
        if (isempty(ret->cluster))
                return kc_fail(ret_cause, -EINVAL, "kubeconfig %s: %s: no cluster", w.file->path, what);
        ret->context = context;
        return 0;
}

static int entry_apply(struct kube_target *t, struct kc_file *const *files, size_t n, struct refs *refs,
                       bool cluster, bool read_files, char **ret_cause) {
        _cleanup_(freep) char *what = NULL;
        const char *name = cluster ? refs->cluster : refs->user;
        struct kc_file *f;
        yaml_node_t *node;
        int r;

        if (asprintf(&what, "%s '%s'", cluster ? "cluster" : "user", name) < 0)
                return -ENOMEM;
        r = find(files, n, cluster ? "clusters" : "users", cluster ? "cluster" : "user", name, &f, &node,
                 ret_cause);
        if (r < 0)
                return r;
        if (r == 0)
                return kc_fail(ret_cause, -ENOENT, "kubeconfig %s: context '%s': %s not found",
                               refs->context_file->path, refs->context, what);
        if (cluster) {
                refs->cluster_file = f;
                refs->cluster_node = node;
        }
        struct kc_where w = { .file = f, .what = what };
        return cluster ? cluster_apply(t, &w, node, read_files, ret_cause)
                       : user_apply(t, &w, node, read_files, ret_cause);
}

/* KUBERNETES_EXEC_INFO, with the cluster's client.authentication.k8s.io/exec extension. */
static int exec_info(struct kube_target *t, const struct refs *refs, char **ret_cause) {
        _cleanup_(freep) char *what = NULL;
        json_object *config = NULL;
        yaml_node_t *exts, *ext = NULL;
        struct kc_where w;
        int r;

        if (asprintf(&what, "cluster '%s'", refs->cluster) < 0)
                return -ENOMEM;
        w = (struct kc_where) { .file = refs->cluster_file, .what = what };
        r = kc_get_seq(&w, refs->cluster_node, "extensions", &exts, ret_cause);
        for (size_t i = 0; r >= 0 && i < kc_seq_len(exts) && !ext; i++) {
                yaml_node_t *item = kc_seq_at(w.file, exts, i);
                const char *name;

                if (!item || item->type != YAML_MAPPING_NODE || kc_get_str(&w, item, "name", &name, NULL) < 0 ||
                    !streq_ptr(name, "client.authentication.k8s.io/exec"))
                        continue;
                r = kc_get_map(&w, item, "extension", &ext, ret_cause);
        }
        if (r >= 0 && ext) {
                r = kc_node_to_json(w.file, ext, &config);
                if (r == -E2BIG)
                        return kc_fail(ret_cause, r, "kubeconfig %s:%zu: %s: exec extension is too large or too deep",
                                       w.file->path, kc_line(ext), what);
        }
        if (r >= 0)
                r = kc_exec_set_cluster(t->exec, t, config);
        if (config)
                json_object_put(config);
        return r;
}

int kc_resolve(struct kc_file *const *files, size_t n, const char *context, bool read_files,
               struct kube_target **ret, char **ret_cause) {
        _cleanup_(kube_target_freep) struct kube_target *t = NULL;
        struct refs refs = {};
        int r;

        r = context_find(files, n, context, &refs, ret_cause);
        if (r < 0)
                return r;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        r = entry_apply(t, files, n, &refs, true, read_files, ret_cause);
        if (r >= 0 && !isempty(refs.user)) /* a context without a user is anonymous */
                r = entry_apply(t, files, n, &refs, false, read_files, ret_cause);
        if (r < 0)
                return r;
        if (dup_opt(&t->namespace, refs.namespace) < 0 || dup_opt(&t->context_name, refs.context) < 0 ||
            dup_opt(&t->source, refs.context_file->path) < 0)
                return -ENOMEM;
        if (t->exec) {
                r = exec_info(t, &refs, ret_cause);
                if (r < 0)
                        return r;
        }
        if (t->token_file && read_files) {
                /* an unreadable token file is a configuration error: report it now */
                r = token_file_refresh(t, true, ret_cause);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

static int in_cluster_server(struct kube_target *t, char **ret_cause) {
        const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");

        if (isempty(host) || isempty(port))
                return kc_fail(ret_cause, -ENOENT,
                               "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
        if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 || strpbrk(host, "/[]@ "))
                return kc_fail(ret_cause, -EINVAL, "in-cluster: invalid KUBERNETES_SERVICE_HOST/PORT '%s' '%s'",
                               host, port);
        /* an IPv6 address needs brackets in a URL */
        if (asprintf(&t->server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port) < 0) {
                t->server = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int in_cluster_files(struct kube_target *t, const char *dir, char **ret_cause) {
        _cleanup_(freep) char *ca = NULL, *ns_path = NULL, *ns = NULL;
        const char *pod_ns = getenv("POD_NAMESPACE");
        size_t len;
        int r;

        if (asprintf(&t->token_file, "%s/token", dir) < 0 || asprintf(&ca, "%s/ca.crt", dir) < 0 ||
            asprintf(&ns_path, "%s/namespace", dir) < 0)
                return -ENOMEM;
        r = kc_read_file(ca, KC_PEM_MAX, &t->ca_pem, &t->ca_len);
        if (r < 0)
                return kc_fail(ret_cause, r, "in-cluster: cannot read certificate-authority '%s': %s", ca,
                               r == -EFBIG ? "file too large" : strerror(-r));
        r = token_file_refresh(t, true, ret_cause);
        if (r < 0)
                return r;
        if (!isempty(pod_ns))
                return free_and_strdup(&t->namespace, pod_ns);
        r = kc_read_file(ns_path, 4096, &ns, &len);
        if (r == -ENOENT)
                return 0; /* no namespace: the caller's default applies */
        if (r < 0)
                return kc_fail(ret_cause, r, "in-cluster: cannot read namespace '%s': %s", ns_path,
                               r == -EFBIG ? "file too large" : strerror(-r));
        strip(ns);
        return dup_opt(&t->namespace, ns);
}

int kube_target_load_in_cluster(const char *root, struct kube_target **ret, char **ret_cause) {
        _cleanup_(kube_target_freep) struct kube_target *t = NULL;
        _cleanup_(freep) char *dir = NULL;
        int r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->in_cluster = true;
        t->source = strdup("in-cluster");
        if (!t->source)
                return -ENOMEM;
        if (asprintf(&dir, "%s%s" SA_DIR, strempty(root), endswith_slash(root) ? "" : "/") < 0) {
                dir = NULL;
                return -ENOMEM;
        }
        r = in_cluster_server(t, ret_cause);
        if (r >= 0)
                r = in_cluster_files(t, dir, ret_cause);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

struct file_list {
        struct kc_file **files;
        size_t n;
};

static void file_list_done(struct file_list *l) {
        for (size_t i = 0; i < l->n; i++)
                kc_file_free(l->files[i]);
        free(l->files);
}

/* Loads path into l; a missing file is skipped unless required. */
static int file_list_add(struct file_list *l, const char *path, bool required, char **ret_cause) {
        struct kc_file **a, *f = NULL;
        int r;

        for (size_t i = 0; i < l->n; i++)
                if (streq(l->files[i]->path, path))
                        return 0; /* kubectl ignores repeated entries */
        r = kc_file_load(path, &f, ret_cause);
        if ((r == -ENOENT || r == -ENOTDIR) && !required) {
                if (ret_cause) {
                        free(*ret_cause);
                        *ret_cause = NULL;
                }
                return 0;
        }
        if (r < 0)
                return r;
        a = realloc(l->files, (l->n + 1) * sizeof(*a));
        if (!a) {
                kc_file_free(f);
                return -ENOMEM;
        }
        l->files = a;
        l->files[l->n++] = f;
        return 0;
}

static int file_list_from_env(struct file_list *l, const char *env, char **ret_cause) {
        _cleanup_(freep) char *copy = strdup(env);
        char *save = NULL;
        int r;

        if (!copy)
                return -ENOMEM;
        for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
                r = file_list_add(l, p, false, ret_cause);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_sources(struct file_list *l, const char *explicit_path, char **ret_cause) {
        const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");
        _cleanup_(freep) char *path = NULL;

        if (explicit_path)
                return file_list_add(l, explicit_path, true, ret_cause);
        if (!isempty(env))
                return file_list_from_env(l, env, ret_cause);
        if (isempty(home))
                return 0;
        if (asprintf(&path, "%s/.kube/config", home) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        return file_list_add(l, path, false, ret_cause);
}

int kube_target_load(const char *explicit_path, const char *context, struct kube_target **ret,
                     char **ret_cause) {
        struct file_list l = {};
        int r;

        r = load_sources(&l, explicit_path, ret_cause);
        if (r >= 0 && l.n > 0)
                r = kc_resolve(l.files, l.n, context, true, ret, ret_cause);
        file_list_done(&l);
        if (r < 0 || l.n > 0)
                return r;
        if (isempty(getenv("KUBERNETES_SERVICE_HOST")))
                return kc_fail(ret_cause, -ENOENT,
                               "no kubeconfig found (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not running in a cluster (KUBERNETES_SERVICE_HOST is not set)");
        return kube_target_load_in_cluster("/", ret, ret_cause);
}
