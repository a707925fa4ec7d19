/* SPDX-License-Identifier: MIT */
/* What a container registry says, parsed (pure: no I/O, no logging): manifests and
 * indexes of the OCI image spec and Docker's v2 schema 2, an image's config blob (its
 * platform), WWW-Authenticate challenges, token responses, `.dockerconfigjson` pull
 * secrets, and the [registry] mirror and CA lists of seeder.ini.
 *
 * Every parser returns 0, -EINVAL with a reason in *ret_cause (caller frees; may be
 * NULL), or -ENOMEM; nothing is stored in *ret on failure. Sizes are bytes, -1 unknown. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REGISTRY_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define REGISTRY_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define REGISTRY_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define REGISTRY_MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"
/* The Accept header of every manifest request: the four kinds above, nothing older. */
#define REGISTRY_ACCEPT                                                               \
        REGISTRY_MT_OCI_INDEX ", " REGISTRY_MT_OCI_MANIFEST ", " REGISTRY_MT_DOCKER_LIST \
        ", " REGISTRY_MT_DOCKER_V2

/* Largest manifest or config accepted (the distribution spec suggests 4 MiB). */
#define REGISTRY_MANIFEST_MAX (4u * 1024 * 1024)
/* Platforms of one index kept at most; the rest are ignored. */
#define REGISTRY_PLATFORMS_MAX 64

struct registry_platform {
        char *os;      /* "linux" */
        char *arch;    /* "amd64", "arm64" */
        char *variant; /* "v8", NULL when not given */
        char *digest;  /* the platform's image manifest, NULL for a single-image manifest */
        int64_t size;  /* config + layers (compressed), -1 until known */
};

enum registry_manifest_kind {
        REGISTRY_KIND_INDEX, /* OCI image index or Docker manifest list */
        REGISTRY_KIND_IMAGE, /* OCI image manifest or Docker v2 manifest */
};

struct registry_manifest {
        enum registry_manifest_kind kind;
        char *media_type; /* from the body, else the Content-Type */
        /* index: one entry per runnable platform (attestations "unknown/unknown" and
         * entries without a platform are left out) */
        struct registry_platform *platforms;
        size_t n_platforms;
        /* image: */
        char *config_digest;
        int64_t size; /* config + layers */
};

void registry_platform_done(struct registry_platform *p);
void registry_manifest_done(struct registry_manifest *m);

/* Parses a manifest body. content_type (may be NULL) is used when the body has no
 * mediaType. Rejects a body that is not a JSON object, an unknown or missing media type,
 * schemaVersion other than 2, descriptors without a valid digest or with a negative size. */
int registry_manifest_parse(const char *body, size_t len, const char *content_type,
                            struct registry_manifest *ret, char **ret_cause);

/* Parses an image config blob for its platform: os and architecture required, variant
 * optional. Fills os/arch/variant of *ret (digest NULL, size -1). */
int registry_config_parse(const char *body, size_t len, struct registry_platform *ret, char **ret_cause);

/* One WWW-Authenticate challenge (RFC 7235): scheme and the parameters a registry uses. */
struct registry_challenge {
        char *scheme;  /* "Bearer" or "Basic" as sent */
        char *realm;   /* NULL when absent */
        char *service; /* NULL when absent */
        char *scope;   /* NULL when absent */
        char *error;   /* e.g. "insufficient_scope", NULL when absent */
};

void registry_challenge_done(struct registry_challenge *c);

/* Parses the first challenge of a WWW-Authenticate value: a scheme token, then
 * comma-separated name=value parameters whose values are tokens or quoted strings
 * (backslash escapes; commas inside quotes belong to the value). Names are matched
 * without regard to case; unknown parameters are ignored. */
int registry_challenge_parse(const char *value, struct registry_challenge *ret, char **ret_cause);

/* Parses a token endpoint's answer: "token" or, failing that, "access_token" (a secret:
 * never put it in a cause), and "expires_in" (seconds; 60 when absent or below 60, as
 * the token spec says). */
int registry_token_parse(const char *body, size_t len, char **ret_token, int64_t *ret_expires_in,
                         char **ret_cause);

/* Credentials for one registry host. Secrets: never logged. */
struct registry_cred {
        char *registry; /* normalised host[:port]: "docker.io", "registry.example:5000" */
        char *username;
        char *password;
        char *identity_token; /* NULL when absent */
};

struct registry_creds {
        struct registry_cred *v;
        size_t n;
};

void registry_creds_done(struct registry_creds *c);

/* Normalises an auths key of a docker config ("https://index.docker.io/v1/",
 * "registry.example:5000", "http://host/path") to host[:port], lowercased; Docker Hub's
 * names become "docker.io". Returns 0 and *ret (caller frees), or -EINVAL / -ENOMEM. */
int registry_host_normalize(const char *key, char **ret);

/* Checks and lowercases a host[:port] given as s[0..n) (no scheme; Docker Hub names are
 * kept as they are). Returns 0 and *ret (caller frees), or -EINVAL / -ENOMEM. */
int registry_host_normalize_raw(const char *s, size_t n, char **ret);

/* Appends the credentials of a `.dockerconfigjson` document ({"auths": {host: {"auth":
 * base64("user:password")} or {"username", "password"}, optional "identitytoken"}}) to
 * *creds. An entry already present for a host is kept (the first secret wins). Causes
 * never quote a credential. */
int registry_dockerconfig_parse(const char *json, size_t len, struct registry_creds *creds,
                                char **ret_cause);

/* Returns the credentials for a registry host (as in an image reference; Docker Hub
 * aliases match "docker.io"), borrowed, or NULL. */
const struct registry_cred *registry_creds_find(const struct registry_creds *c, const char *host);

/* Decodes standard base64 (padding optional; no whitespace). Returns 0 and *ret
 * (NUL-terminated, caller frees) with *ret_len, or -EINVAL / -ENOMEM. */
int registry_base64_decode(const char *s, size_t len, char **ret, size_t *ret_len);

/* The hosts.toml-style endpoint table from seeder.ini [registry]. */
struct registry_endpoint {
        char *registry; /* host[:port] of the image references it serves */
        char *url;      /* "https://mirror:5000", no trailing slash */
};

struct registry_ca {
        char *host; /* host[:port] of an endpoint URL */
        char *file;
};

struct registry_hosts {
        struct registry_endpoint *endpoints; /* in the order written */
        size_t n_endpoints;
        struct registry_ca *cas;
        size_t n_cas;
};

void registry_hosts_done(struct registry_hosts *h);

/* Parses the mirrors list (each "registry=URL", URL http:// or https:// with host[:port]
 * and no path, query or credentials) and the CA list (each "host[:port]=/absolute/file").
 * Either may be NULL. */
int registry_hosts_parse(const char *const *mirrors, const char *const *ca_files, struct registry_hosts *ret,
                         char **ret_cause);

/* The URLs to ask for registry, in order: the listed ones, then the registry itself
 * ("https://<registry>", Docker Hub "https://registry-1.docker.io") unless a listed URL
 * names the registry's own host already (that is its server entry, plain HTTP for
 * instance). Stores a NULL-terminated strv in *ret (caller frees). */
int registry_hosts_endpoints(const struct registry_hosts *h, const char *registry, char ***ret);

/* The CA file configured for an endpoint URL's host[:port], borrowed, or NULL. */
const char *registry_hosts_ca(const struct registry_hosts *h, const char *url);

/* True when the platform is os/arch, and variant when both sides give one. */
bool registry_platform_matches(const struct registry_platform *p, const char *os, const char *arch,
                               const char *variant);
