/* SPDX-License-Identifier: MIT */
/* The images file and image references (pure: no I/O, no logging).
 *
 * A reference is validated against the distribution reference grammar and normalised
 * as Docker does: "nginx" -> "docker.io/library/nginx:latest", "index.docker.io" ->
 * "docker.io", a digest without a tag keeps only the digest, tag + digest keep both. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The puller pod's init container is named this; image containers never are. */
#define IMAGES_RESERVED_NAME "clyde-seed-init"

/* Longest repository name (domain/path after normalisation), as in distribution. */
#define IMAGES_NAME_MAX 255
#define IMAGES_TAG_MAX 128

struct image_ref {
        char *domain;     /* "docker.io", "ghcr.io", "localhost:5000", "[::1]:5000" */
        char *path;       /* "library/nginx" */
        char *tag;        /* NULL when the reference has a digest and no tag */
        char *digest;     /* "sha256:<hex>", NULL when absent */
        char *normalized; /* domain/path[:tag][@digest] */
};

/* Parses and normalises one reference (no surrounding spaces allowed). On success fills
 * *ret (caller frees with image_ref_done()) and returns 0. On an invalid reference
 * returns -EINVAL and stores the reason in *ret_cause (caller frees), e.g.
 * "repository name must be lowercase". -ENOMEM otherwise. */
int image_ref_parse(const char *s, struct image_ref *ret, char **ret_cause);

/* Frees what r points to (not r); safe on a zeroed struct. */
void image_ref_done(struct image_ref *r);

struct image_entry {
        struct image_ref ref;
        unsigned line;  /* 1-based line in the images file */
        char *original; /* the text as written on that line */
};

struct image_list {
        struct image_entry *entries; /* in file order, duplicates removed */
        size_t n;
        char **warnings; /* NULL-terminated, e.g. "images.txt:5: duplicate ..., ignoring" */
};

/* Parses an images file held in memory: one reference per line, '#' comments (whole
 * line, or after whitespace), blank lines, surrounding spaces; duplicates after
 * normalisation are dropped with a warning. filename is only used in messages.
 *
 * On success stores a new list in *ret (caller frees with image_list_free(); it may
 * hold zero entries: whether that is acceptable is the caller's decision) and returns
 * 0. When any line is invalid returns -EINVAL and stores ALL error messages in
 * *ret_errors as a NULL-terminated strv (caller frees with strv_free()), e.g.
 * "images.txt:3: invalid image reference 'Nginx': repository name must be lowercase".
 * -ENOMEM otherwise. Nothing is stored on failure except *ret_errors. */
int images_parse(const char *buf, size_t len, const char *filename, struct image_list **ret,
                 char ***ret_errors);

/* Frees the list and everything it owns; NULL is fine. Returns NULL. */
struct image_list *image_list_free(struct image_list *l);
void image_list_freep(struct image_list **l);

/* Derives a container name from a normalised reference: a DNS-1123 label of at most
 * 63 characters built from the last path component and the tag (or the start of the
 * digest), e.g. "docker.io/library/nginx:1.27" -> "nginx-1-27". Stores a new string in
 * *ret (caller frees). Returns 0, -EINVAL for an unparseable reference, -ENOMEM. The
 * result may equal IMAGES_RESERVED_NAME or another image's name: use
 * images_container_names() for a set. */
int image_container_name(const char *ref, char **ret);

/* Assigns names to n normalised references: each a DNS-1123 label <= 63, unique within
 * the set, never IMAGES_RESERVED_NAME; a clash gets a "-2", "-3", ... suffix (the base
 * shortened to fit). Deterministic for the same input order. Stores a new
 * NULL-terminated strv of n names in *ret (caller frees with strv_free()). Returns 0,
 * -EINVAL when a reference does not parse, -ENOMEM. */
int images_container_names(const char *const *refs, size_t n, char ***ret);

/* True when an image name reported by the kubelet (node.status.images names,
 * containerStatuses image or imageID, with or without a docker-pullable:// prefix)
 * designates the wanted reference: same repository after normalisation, and the
 * wanted digest when it has one, else the wanted tag. A digest-only kubelet name never
 * matches a tag-only wanted reference (the tag's digest is unknown here). */
bool image_name_matches(const char *kubelet_name, const struct image_ref *want);

/* Extracts the digest ("sha256:<hex>") from a containerStatuses imageID such as
 * "docker.io/library/nginx@sha256:..." or "docker-pullable://nginx@sha256:...", or a
 * bare digest. Stores a new string in *ret (caller frees). Returns 0; -ENOENT when the
 * imageID is empty (not pulled yet); -EINVAL when it holds no valid digest; -ENOMEM. */
int image_id_digest(const char *image_id, char **ret);

/* True for a syntactically valid digest: algorithm per the grammar
 * (`[A-Za-z][A-Za-z0-9]*([+._-][A-Za-z][A-Za-z0-9]*)*`) ":" at least 32 hex digits;
 * sha256 needs exactly 64 and sha512 exactly 128 lowercase hex digits. */
bool image_digest_valid(const char *digest);
