/* SPDX-License-Identifier: MIT */
/* Internals of the kubeconfig loader, shared by kubeconfig.c (sources, merge, in-cluster,
 * credentials), kubeconfig-yaml.c (the libyaml document walker, base64, file reading)
 * and kubeconfig-exec.c (exec credential plugins). Not for other modules; the fuzz target
 * and the unit tests use it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "kubeconfig.h"

#define KC_FILE_MAX (16U * 1024U * 1024U)   /* kubeconfig files */
#define KC_PEM_MAX (4U * 1024U * 1024U)     /* CA bundles, certificates, keys, tokens */
#define KC_EXEC_OUTPUT_MAX (1024U * 1024U)  /* ExecCredential on stdout */
#define KC_EXEC_TIMEOUT_MS_DEFAULT 60000

/* One parsed kubeconfig file. The YAML document stays loaded; entries are resolved
 * lazily by name so that the merge rule "first file that defines a name wins" falls out
 * of looking the name up in file order. */
struct kc_file {
        char *path; /* as given */
        char *dir;  /* directory relative paths resolve against */
        yaml_document_t doc;
        bool have_doc;
        yaml_node_t *root;     /* top-level mapping, NULL for an empty file */
        const char *current_context; /* borrowed from doc, NULL when unset or empty */
};

/* Where a field lives, for messages: "kubeconfig PATH" + ":LINE" + ": WHAT". */
struct kc_where {
        const struct kc_file *file;
        const char *what; /* "cluster 'c1'", "user 'u'", ... */
};

/* Formats a malloc'd message into *ret_cause (when ret_cause is not NULL) and returns r. */
int kc_fail(char **ret_cause, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parses data (len bytes, need not be NUL-terminated) as the kubeconfig at path.
 * Returns 0 and a new file in *ret, -EINVAL with "kubeconfig PATH:LINE:COL: problem" for
 * YAML syntax errors and a malformed top-level structure, -ENOMEM. */
int kc_file_parse(const char *path, const char *data, size_t len, struct kc_file **ret,
                  char **ret_cause);
/* Reads and parses path. -ENOENT (and other errno) when it cannot be read. */
int kc_file_load(const char *path, struct kc_file **ret, char **ret_cause);
struct kc_file *kc_file_free(struct kc_file *f);

/* Looks name up in the list `list` ("clusters", "users", "contexts") of f; on success
 * *ret is the mapping under `item` ("cluster", "user", "context"). Returns 1 when found,
 * 0 when not, -EINVAL when the entry is malformed. */
int kc_file_find(const struct kc_file *f, const char *list, const char *item, const char *name,
                 yaml_node_t **ret, char **ret_cause);

/* Field accessors on a mapping node. Absent and null values give NULL / false and return
 * 0; a value of the wrong type gives -EINVAL with a message naming file, line and entry.
 * Strings are borrowed from the document. */
int kc_get_str(const struct kc_where *w, yaml_node_t *map, const char *key, const char **ret,
               char **ret_cause);
int kc_get_bool(const struct kc_where *w, yaml_node_t *map, const char *key, bool *ret,
                char **ret_cause);
/* A sequence of strings: returns a new NULL-terminated strv (empty when absent). */
int kc_get_strv(const struct kc_where *w, yaml_node_t *map, const char *key, char ***ret,
                char **ret_cause);
/* A mapping or NULL when absent; -EINVAL for another type. */
int kc_get_map(const struct kc_where *w, yaml_node_t *map, const char *key, yaml_node_t **ret,
               char **ret_cause);
/* A sequence or NULL when absent; -EINVAL for another type. */
int kc_get_seq(const struct kc_where *w, yaml_node_t *map, const char *key, yaml_node_t **ret,
               char **ret_cause);
/* Converts a YAML node to JSON the way kubectl's YAML-to-JSON step does (plain true/false,
 * null and integers keep their type; everything else is a string). Bounded in depth and
 * size so that aliases cannot blow up. Returns 0 (NULL *ret for a null node), -E2BIG,
 * -ENOMEM. */
struct json_object;
int kc_node_to_json(const struct kc_file *f, const yaml_node_t *n, struct json_object **ret);

/* Number of the line (1-based) a node starts on. */
size_t kc_line(const yaml_node_t *n);
/* Items of a sequence node (NULL seq = empty). */
size_t kc_seq_len(const yaml_node_t *seq);
yaml_node_t *kc_seq_at(const struct kc_file *f, const yaml_node_t *seq, size_t i);

/* Standard base64 with padding; whitespace is ignored. Returns 0 and a malloc'd,
 * NUL-terminated buffer (length without the NUL in *ret_len), -EINVAL, -ENOMEM. */
int kc_base64_decode(const char *s, char **ret, size_t *ret_len);
/* Standard base64 encoding, malloc'd; NULL on allocation failure. */
char *kc_base64_encode(const char *data, size_t len);

/* Reads at most max bytes of path into a malloc'd, NUL-terminated buffer. Returns 0,
 * -EFBIG when larger, or the negative errno of open/read. */
int kc_read_file(const char *path, size_t max, char **ret, size_t *ret_len);

/* dir + "/" + path unless path is absolute; malloc'd or NULL. */
char *kc_path_resolve(const char *dir, const char *path);

/* Frees s after wiping its first len bytes (len = SIZE_MAX: strlen). */
void kc_free_secret(char *s, size_t len);

/* Builds the target for context (NULL: the first current-context) from files, merged in
 * order. read_files = false leaves certificate-authority, client certificate and key
 * files and tokenFile unread (the fuzzer must not touch the disk). Same returns as
 * kube_target_load(). */
int kc_resolve(struct kc_file *const *files, size_t n, const char *context, bool read_files,
               struct kube_target **ret, char **ret_cause);

/* Exec credential plugins (kubeconfig-exec.c). */
enum kc_interactive { KC_INTERACTIVE_NEVER, KC_INTERACTIVE_IF_AVAILABLE, KC_INTERACTIVE_ALWAYS };

struct kube_exec {
        char *api_version;
        char *command; /* resolved against the defining file when it contains '/' */
        char **args;
        char **env;    /* "NAME=VALUE" */
        char *install_hint;
        bool provide_cluster_info;
        enum kc_interactive interactive;
        char *exec_info;  /* KUBERNETES_EXEC_INFO, built once the cluster is known */
        char *what;       /* "kubeconfig PATH: user 'u'", for messages */
        int64_t timeout_ms;

        /* the cached ExecCredential */
        bool have;
        bool has_expiry;
        int64_t expiry_usec; /* CLOCK_REALTIME */
        char *token;
        char *cert_pem;
        size_t cert_len;
        char *key_pem;
        size_t key_len;
        unsigned runs;
};

/* Reads the `exec` mapping of a user. Returns 0 and a new struct in *ret, or -EINVAL. */
int kc_exec_parse(const struct kc_where *w, yaml_node_t *exec, struct kube_exec **ret,
                  char **ret_cause);
/* Builds KUBERNETES_EXEC_INFO, with the cluster when provideClusterInfo is set; config
 * (may be NULL, reference taken) is the cluster's client.authentication.k8s.io/exec
 * extension, passed on as spec.cluster.config. */
int kc_exec_set_cluster(struct kube_exec *e, const struct kube_target *t, struct json_object *config);
/* Makes sure e holds a credential valid at now_usec (CLOCK_REALTIME), running the plugin
 * when there is none, it expired, or refresh is set. */
int kc_exec_refresh(struct kube_exec *e, bool refresh, int64_t now_usec, char **ret_cause);
/* Parses an ExecCredential (exposed for the tests and the fuzzer). */
int kc_exec_parse_credential(struct kube_exec *e, const char *json, size_t len,
                             char **ret_cause);
/* "2024-05-01T10:00:00Z", fractions and numeric offsets allowed -> microseconds since the
 * epoch. Returns 0 or -EINVAL. */
int kc_parse_rfc3339(const char *s, int64_t *ret_usec);
struct kube_exec *kc_exec_free(struct kube_exec *e);
