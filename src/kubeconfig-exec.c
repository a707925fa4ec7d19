/* SPDX-License-Identifier: MIT */
/* exec credential plugins (client.authentication.k8s.io v1 and v1beta1): read the
 * user's `exec` settings, run the plugin with KUBERNETES_EXEC_INFO in its environment,
 * stdin on /dev/null and a timeout, parse the ExecCredential it prints and cache it until
 * its expirationTimestamp. */
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include "kubeconfig-internal.h"
#include "macro.h"

extern char **environ;

#define API_V1 "client.authentication.k8s.io/v1"
#define API_V1BETA1 "client.authentication.k8s.io/v1beta1"

static inline void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}

static int parse_env(const struct kc_where *w, yaml_node_t *exec, struct kube_exec *e,
                     char **ret_cause) {
        yaml_node_t *seq;
        size_t n;
        int r;

        r = kc_get_seq(w, exec, "env", &seq, ret_cause);
        if (r < 0)
                return r;
        n = kc_seq_len(seq);
        e->env = calloc(n + 1, sizeof(char *));
        if (!e->env)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *item = kc_seq_at(w->file, seq, i);
                const char *name, *value;

                if (!item || item->type != YAML_MAPPING_NODE)
                        return kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu: %s: exec env entries must be mappings",
                                       w->file->path, kc_line(item), w->what);
                r = kc_get_str(w, item, "name", &name, ret_cause);
                if (r >= 0)
                        r = kc_get_str(w, item, "value", &value, ret_cause);
                if (r < 0)
                        return r;
                if (isempty(name) || strchr(name, '='))
                        return kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu: %s: exec env entry without a valid name",
                                       w->file->path, kc_line(item), w->what);
                if (asprintf(&e->env[i], "%s=%s", name, strempty(value)) < 0) {
                        e->env[i] = NULL;
                        return -ENOMEM;
                }
        }
        return 0;
}

static int parse_interactive(const struct kc_where *w, yaml_node_t *exec, struct kube_exec *e,
                             char **ret_cause) {
        const char *mode;
        int r;

        r = kc_get_str(w, exec, "interactiveMode", &mode, ret_cause);
        if (r < 0)
                return r;
        if (!mode) {
                if (streq(e->api_version, API_V1))
                        return kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu: %s: exec: interactiveMode must be set for %s",
                                       w->file->path, kc_line(exec), w->what, API_V1);
                e->interactive = KC_INTERACTIVE_IF_AVAILABLE;
        } else if (streq(mode, "Never"))
                e->interactive = KC_INTERACTIVE_NEVER;
        else if (streq(mode, "IfAvailable"))
                e->interactive = KC_INTERACTIVE_IF_AVAILABLE;
        else if (streq(mode, "Always"))
                e->interactive = KC_INTERACTIVE_ALWAYS;
        else
                return kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu: %s: exec: invalid interactiveMode '%s' (Never, IfAvailable or Always)",
                               w->file->path, kc_line(exec), w->what, mode);
        return 0;
}

static int parse_fields(const struct kc_where *w, yaml_node_t *exec, struct kube_exec *e,
                        char **ret_cause) {
        const char *api, *command, *hint;
        int r;

        r = kc_get_str(w, exec, "apiVersion", &api, ret_cause);
        if (r >= 0)
                r = kc_get_str(w, exec, "command", &command, ret_cause);
        if (r >= 0)
                r = kc_get_str(w, exec, "installHint", &hint, ret_cause);
        if (r >= 0)
                r = kc_get_bool(w, exec, "provideClusterInfo", &e->provide_cluster_info, ret_cause);
        if (r >= 0)
                r = kc_get_strv(w, exec, "args", &e->args, ret_cause);
        if (r < 0)
                return r;
        if (!api || !(streq(api, API_V1) || streq(api, API_V1BETA1)))
                return kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu: %s: exec: apiVersion '%s' is not supported (%s or %s)",
                               w->file->path, kc_line(exec), w->what, strempty(api), API_V1, API_V1BETA1);
        if (isempty(command))
                return kc_fail(ret_cause, -EINVAL, "kubeconfig %s:%zu: %s: exec: no command",
                               w->file->path, kc_line(exec), w->what);
        e->api_version = strdup(api);
        /* "./bin/plugin" is relative to the kubeconfig; a bare name is looked up in $PATH */
        e->command = strchr(command, '/') ? kc_path_resolve(w->file->dir, command) : strdup(command);
        if (hint)
                e->install_hint = strdup(hint);
        if (!e->api_version || !e->command || (hint && !e->install_hint))
                return -ENOMEM;
        return 0;
}

int kc_exec_parse(const struct kc_where *w, yaml_node_t *exec, struct kube_exec **ret,
                  char **ret_cause) {
        struct kube_exec *e;
        int r;

        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->timeout_ms = KC_EXEC_TIMEOUT_MS_DEFAULT;
        r = parse_fields(w, exec, e, ret_cause);
        if (r >= 0)
                r = parse_interactive(w, exec, e, ret_cause);
        if (r >= 0)
                r = parse_env(w, exec, e, ret_cause);
        if (r >= 0 && asprintf(&e->what, "kubeconfig %s: %s", w->file->path, w->what) < 0) {
                e->what = NULL;
                r = -ENOMEM;
        }
        if (r < 0) {
                kc_exec_free(e);
                return r;
        }
        *ret = e;
        return 0;
}

static json_object *cluster_info(const struct kube_target *t, json_object *config) {
        _cleanup_(json_object_putp) json_object *c = json_object_new_object();
        _cleanup_(freep) char *ca = NULL;

        if (!c)
                return NULL;
        if (t->ca_pem && !(ca = kc_base64_encode(t->ca_pem, t->ca_len)))
                return NULL;
        if (json_object_object_add(c, "server", json_object_new_string(t->server)) < 0 ||
            (t->tls_server_name &&
             json_object_object_add(c, "tls-server-name", json_object_new_string(t->tls_server_name)) < 0) ||
            (t->insecure &&
             json_object_object_add(c, "insecure-skip-tls-verify", json_object_new_boolean(1)) < 0) ||
            (ca && json_object_object_add(c, "certificate-authority-data", json_object_new_string(ca)) < 0) ||
            (t->proxy_url && json_object_object_add(c, "proxy-url", json_object_new_string(t->proxy_url)) < 0) ||
            (t->disable_compression &&
             json_object_object_add(c, "disable-compression", json_object_new_boolean(1)) < 0) ||
            (config && json_object_object_add(c, "config", json_object_get(config)) < 0))
                return NULL;
        return TAKE_PTR(c);
}

int kc_exec_set_cluster(struct kube_exec *e, const struct kube_target *t, json_object *config) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *spec = NULL;
        const char *s;

        spec = json_object_new_object();
        if (!o || !spec)
                return -ENOMEM;
        /* never interactive: clyde-seed runs unattended with stdin on /dev/null */
        if (json_object_object_add(spec, "interactive", json_object_new_boolean(0)) < 0)
                return -ENOMEM;
        if (e->provide_cluster_info) {
                json_object *c = cluster_info(t, config);

                if (!c || json_object_object_add(spec, "cluster", c) < 0)
                        return -ENOMEM;
        }
        if (json_object_object_add(o, "apiVersion", json_object_new_string(e->api_version)) < 0 ||
            json_object_object_add(o, "kind", json_object_new_string("ExecCredential")) < 0 ||
            json_object_object_add(o, "spec", TAKE_PTR(spec)) < 0)
                return -ENOMEM;
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        return free_and_strdup(&e->exec_info, s);
}

static void credential_clear(struct kube_exec *e) {
        kc_free_secret(e->token, SIZE_MAX);
        kc_free_secret(e->key_pem, e->key_len);
        free(e->cert_pem);
        e->token = e->cert_pem = e->key_pem = NULL;
        e->cert_len = e->key_len = 0;
        e->have = e->has_expiry = false;
        e->expiry_usec = 0;
}

static const char *json_str(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* json-c keeps its own copy of every string: wipe the secret ones before they are freed */
static void json_wipe(json_object *o, const char *key) {
        json_object *v;

        if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
                explicit_bzero((char *) json_object_get_string(v), (size_t) json_object_get_string_len(v));
}

static int credential_take(struct kube_exec *e, json_object *status, char **ret_cause) {
        const char *token = json_str(status, "token"), *cert = json_str(status, "clientCertificateData"),
                   *key = json_str(status, "clientKeyData"), *exp = json_str(status, "expirationTimestamp");
        int64_t expiry = 0;

        if (isempty(cert) != isempty(key))
                return kc_fail(ret_cause, -EINVAL, "%s: exec plugin returned %s without %s", e->what,
                               isempty(cert) ? "clientKeyData" : "clientCertificateData",
                               isempty(cert) ? "clientCertificateData" : "clientKeyData");
        if (isempty(token) && isempty(cert))
                return kc_fail(ret_cause, -EINVAL, "%s: exec plugin returned neither a token nor a client certificate",
                               e->what);
        if (exp && kc_parse_rfc3339(exp, &expiry) < 0)
                return kc_fail(ret_cause, -EINVAL, "%s: exec plugin returned an invalid expirationTimestamp '%s'",
                               e->what, exp);
        credential_clear(e);
        if ((!isempty(token) && !(e->token = strdup(token))) ||
            (!isempty(cert) && (!(e->cert_pem = strdup(cert)) || !(e->key_pem = strdup(key))))) {
                credential_clear(e);
                return -ENOMEM;
        }
        e->cert_len = e->cert_pem ? strlen(e->cert_pem) : 0;
        e->key_len = e->key_pem ? strlen(e->key_pem) : 0;
        e->has_expiry = !!exp;
        e->expiry_usec = expiry;
        e->have = true;
        return 0;
}

static int credential_check(struct kube_exec *e, json_object *o, char **ret_cause) {
        const char *api = json_str(o, "apiVersion"), *kind = json_str(o, "kind");
        json_object *status;

        if (!streq_ptr(kind, "ExecCredential"))
                return kc_fail(ret_cause, -EINVAL, "%s: exec plugin returned kind '%s', not ExecCredential",
                               e->what, strempty(kind));
        if (!streq_ptr(api, e->api_version))
                return kc_fail(ret_cause, -EINVAL, "%s: exec plugin returned apiVersion '%s', configured '%s'",
                               e->what, strempty(api), e->api_version);
        if (!json_object_object_get_ex(o, "status", &status) || !json_object_is_type(status, json_type_object))
                return kc_fail(ret_cause, -EINVAL, "%s: exec plugin returned no status", e->what);
        return credential_take(e, status, ret_cause);
}

int kc_exec_parse_credential(struct kube_exec *e, const char *json, size_t len, char **ret_cause) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_tokener *tok;
        enum json_tokener_error jerr;
        json_object *status;
        int r;

        if (len > INT32_MAX)
                return kc_fail(ret_cause, -EINVAL, "%s: exec plugin output too large", e->what);
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, json, (int) len);
        jerr = json_tokener_get_error(tok);
        json_tokener_free(tok);
        if (!o || jerr != json_tokener_success || !json_object_is_type(o, json_type_object))
                return kc_fail(ret_cause, -EINVAL, "%s: exec plugin output is not a JSON object%s%s",
                               e->what, jerr != json_tokener_success ? ": " : "",
                               jerr == json_tokener_continue ? "unexpected end of input"
                               : jerr != json_tokener_success ? json_tokener_error_desc(jerr) : "");
        r = credential_check(e, o, ret_cause);
        if (json_object_object_get_ex(o, "status", &status) && json_object_is_type(status, json_type_object)) {
                json_wipe(status, "token");
                json_wipe(status, "clientKeyData");
        }
        return r;
}

static int digits(const char **p, int n, int *ret) {
        int v = 0;

        for (int i = 0; i < n; i++, (*p)++) {
                if (**p < '0' || **p > '9')
                        return -EINVAL;
                v = v * 10 + (**p - '0');
        }
        *ret = v;
        return 0;
}

static int expect(const char **p, const char *set) {
        if (!**p || !strchr(set, **p))
                return -EINVAL;
        (*p)++;
        return 0;
}

int kc_parse_rfc3339(const char *s, int64_t *ret_usec) {
        struct tm tm = {};
        int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
        int64_t usec = 0, scale = 100000;
        const char *p = s;
        time_t t;

        if (digits(&p, 4, &y) < 0 || expect(&p, "-") < 0 || digits(&p, 2, &mo) < 0 ||
            expect(&p, "-") < 0 || digits(&p, 2, &d) < 0 || expect(&p, "Tt ") < 0 ||
            digits(&p, 2, &h) < 0 || expect(&p, ":") < 0 || digits(&p, 2, &mi) < 0 ||
            expect(&p, ":") < 0 || digits(&p, 2, &sec) < 0)
                return -EINVAL;
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
                        usec += (*p - '0') * scale;
        }
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                sign = *p++ == '+' ? 1 : -1;
                if (digits(&p, 2, &oh) < 0 || expect(&p, ":") < 0 || digits(&p, 2, &om) < 0 ||
                    oh > 23 || om > 59)
                        return -EINVAL;
        } else
                return -EINVAL;
        if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
                return -EINVAL;
        tm = (struct tm) { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                           .tm_hour = h, .tm_min = mi, .tm_sec = sec };
        t = timegm(&tm);
        if (t == (time_t) -1 && y != 1969)
                return -EINVAL;
        *ret_usec = ((int64_t) t - sign * (int64_t) (oh * 3600 + om * 60)) * 1000000 + usec;
        return 0;
}

/* The plugin's environment: ours, then the configured env (overriding), then
 * KUBERNETES_EXEC_INFO. Entries are borrowed. */
static char **exec_environ(const struct kube_exec *e, char *info) {
        size_t n = 0, k = 0, m = 0;
        char **l;

        for (char **s = environ; s && *s; s++)
                n++;
        for (char **s = e->env; s && *s; s++)
                m++;
        l = calloc(n + m + 2, sizeof(char *));
        if (!l)
                return NULL;
        for (char **s = environ; s && *s; s++) {
                bool overridden = startswith(*s, "KUBERNETES_EXEC_INFO=");

                for (char **c = e->env; c && *c && !overridden; c++) {
                        size_t len = strcspn(*c, "=") + 1;

                        overridden = strncmp(*s, *c, len) == 0;
                }
                if (!overridden)
                        l[k++] = *s;
        }
        for (char **s = e->env; s && *s; s++)
                l[k++] = *s;
        l[k] = info;
        return l;
}

static char **exec_argv(const struct kube_exec *e) {
        size_t n = 0;
        char **l;

        for (char **s = e->args; s && *s; s++)
                n++;
        l = calloc(n + 2, sizeof(char *));
        if (!l)
                return NULL;
        l[0] = e->command;
        for (size_t i = 0; i < n; i++)
                l[i + 1] = e->args[i];
        return l;
}

static int64_t now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads fd until EOF, the deadline, or max bytes. -ETIMEDOUT, -EFBIG. */
static int read_output(int fd, int64_t timeout_ms, char *buf, size_t max, size_t *ret_len) {
        int64_t deadline = now_ms() + timeout_ms;
        size_t n = 0;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int64_t left = deadline - now_ms();
                ssize_t k;
                int r;

                if (left <= 0)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) MIN(left, 1000));
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r <= 0)
                        continue;
                if (n >= max)
                        return -EFBIG;
                k = read(fd, buf + n, max - n);
                if (k < 0 && errno != EINTR && errno != EAGAIN)
                        return -errno;
                if (k == 0)
                        break;
                if (k > 0)
                        n += (size_t) k;
        }
        buf[n] = '\0';
        *ret_len = n;
        return 0;
}

static int wait_child(pid_t pid, int *ret_status) {
        while (waitpid(pid, ret_status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

static int spawn_fail(const struct kube_exec *e, int err, char **ret_cause) {
        if (err == ENOENT)
                return kc_fail(ret_cause, -ENOENT, "%s: exec plugin: executable '%s' not found%s%s", e->what,
                               e->command, e->install_hint ? ": " : "", strempty(e->install_hint));
        return kc_fail(ret_cause, -err, "%s: exec plugin: cannot run '%s': %s", e->what, e->command,
                       strerror(err));
}

static int spawn(const struct kube_exec *e, int out_fd, pid_t *ret_pid, char **ret_cause) {
        _cleanup_(freep) char **argv = exec_argv(e), **envp = NULL, *info = NULL;
        posix_spawn_file_actions_t fa;
        int err;

        if (asprintf(&info, "KUBERNETES_EXEC_INFO=%s", strempty(e->exec_info)) < 0) {
                info = NULL;
                return -ENOMEM;
        }
        envp = exec_environ(e, info);
        if (!argv || !envp)
                return -ENOMEM;
        if (posix_spawn_file_actions_init(&fa) != 0)
                return -ENOMEM;
        err = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (err == 0)
                err = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        if (err == 0)
                err = (strchr(e->command, '/') ? posix_spawn : posix_spawnp)(ret_pid, e->command, &fa, NULL,
                                                                               argv, envp);
        (void) posix_spawn_file_actions_destroy(&fa);
        return err == 0 ? 0 : spawn_fail(e, err, ret_cause);
}

/* Runs the plugin and returns its stdout (malloc'd, NUL-terminated). */
static int exec_run(const struct kube_exec *e, char **ret_out, size_t *ret_len, char **ret_cause) {
        _cleanup_(closep) int rfd = -EBADF, wfd = -EBADF;
        int p[2], status = 0, r;
        size_t len = 0;
        pid_t pid;
        char *out;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        rfd = p[0];
        wfd = p[1];
        r = spawn(e, wfd, &pid, ret_cause);
        if (r < 0)
                return r;
        wfd = (close(wfd), -EBADF);
        out = malloc(KC_EXEC_OUTPUT_MAX + 1);
        r = out ? read_output(rfd, e->timeout_ms, out, KC_EXEC_OUTPUT_MAX, &len) : -ENOMEM;
        if (r < 0)
                (void) kill(pid, SIGKILL);
        if (wait_child(pid, &status) < 0 && r >= 0)
                r = -ECHILD;
        if (r >= 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
                r = WIFEXITED(status) ? kc_fail(ret_cause, -EIO, "%s: exec plugin '%s' failed with exit status %d",
                                                e->what, e->command, WEXITSTATUS(status))
                                      : kc_fail(ret_cause, -EIO, "%s: exec plugin '%s' killed by signal %d",
                                                e->what, e->command, WTERMSIG(status));
        else if (r == -ETIMEDOUT || r == -EFBIG)
                kc_fail(ret_cause, r, "%s: exec plugin '%s' %s", e->what, e->command,
                        r == -ETIMEDOUT ? "timed out" : "printed too much");
        else if (r < 0)
                kc_fail(ret_cause, r, "%s: exec plugin '%s': %s", e->what, e->command, strerror(-r));
        if (r < 0) {
                kc_free_secret(out, out ? KC_EXEC_OUTPUT_MAX : 0);
                return r;
        }
        *ret_out = out;
        *ret_len = len;
        return 0;
}

int kc_exec_refresh(struct kube_exec *e, bool refresh, int64_t now_usec, char **ret_cause) {
        char *out = NULL;
        size_t len = 0;
        int r;

        if (!refresh && e->have && (!e->has_expiry || now_usec < e->expiry_usec))
                return 0;
        if (e->interactive == KC_INTERACTIVE_ALWAYS)
                return kc_fail(ret_cause, -EINVAL, "%s: exec plugin '%s' needs interactiveMode Always, but clyde-seed runs without a terminal",
                               e->what, e->command);
        r = exec_run(e, &out, &len, ret_cause);
        if (r < 0)
                return r;
        e->runs++;
        r = kc_exec_parse_credential(e, out, len, ret_cause);
        kc_free_secret(out, len);
        return r;
}

struct kube_exec *kc_exec_free(struct kube_exec *e) {
        if (!e)
                return NULL;
        credential_clear(e);
        free(e->api_version);
        free(e->command);
        strv_free(e->args);
        strv_free(e->env);
        free(e->install_hint);
        free(e->exec_info);
        free(e->what);
        free(e);
        return NULL;
}
