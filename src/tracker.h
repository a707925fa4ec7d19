/* SPDX-License-Identifier: MIT */
/* The tracker: clyde-seed's persisted state (seeder_tracker.json). The driver owns one
 * struct tracker in memory, changes it with the helpers below, and saves it after every
 * persisted step. The on-disk schema is documented in docs/tracker.md.
 *
 * Times are int64 unix seconds (0 = unknown), written as RFC 3339 UTC strings (or null).
 * Every struct owns the strings and arrays it points to. A pointer returned by a find or
 * add helper is borrowed and stays valid until the next add or remove on the same array
 * (arrays grow with realloc). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* The schema version written (docs/tracker.md, Versioning). 2 added the result state
 * not-applicable; a version 1 document is read as it is (it is a valid version 2 one). */
#define TRACKER_VERSION 2
#define TRACKER_HISTORY_MAX 20
#define TRACKER_RUN_ID_MAX 32 /* "20261126t102000-a1b2" plus room */

enum tracker_phase {
        TRACKER_PHASE_NONE,
        TRACKER_PHASE_SELECT,
        TRACKER_PHASE_LABEL,
        TRACKER_PHASE_PRELOAD,
        TRACKER_PHASE_VERIFY,
        TRACKER_PHASE_CLEANUP,
        TRACKER_PHASE_DONE,
        _TRACKER_PHASE_MAX,
        _TRACKER_PHASE_INVALID = -EINVAL,
};

/* What select decided for a node. */
enum tracker_action {
        TRACKER_ACTION_KEEP,  /* a seeder that stays */
        TRACKER_ACTION_ADOPT, /* labelled by someone else: becomes ours to track, not to remove */
        TRACKER_ACTION_ADD,   /* a new seeder to label */
        TRACKER_ACTION_DROP,  /* a seeder to unlabel (target shrank, or unhealthy) */
        TRACKER_ACTION_GONE,  /* a seeder whose node no longer exists */
        TRACKER_ACTION_WAIT,  /* an unhealthy seeder still inside node_down_grace */
        _TRACKER_ACTION_MAX,
        _TRACKER_ACTION_INVALID = -EINVAL,
};

/* Outcome of one node x image in verify. */
enum tracker_state {
        TRACKER_STATE_WAITING,
        TRACKER_STATE_PULLED,
        TRACKER_STATE_FAILED,
        TRACKER_STATE_SKIPPED,   /* already held (digest recorded), not pulled again */
        TRACKER_STATE_NODE_LOST, /* node deleted or NotReady mid-run */
        /* The image has no variant for the node's platform (reason "platform"): known at
         * plan time from the registry, or from the runtime's pull error. Not a failure. */
        TRACKER_STATE_NOT_APPLICABLE,
        _TRACKER_STATE_MAX,
        _TRACKER_STATE_INVALID = -EINVAL,
};

/* Outcome of a finished run (history). */
enum tracker_outcome {
        TRACKER_OUTCOME_OK,
        TRACKER_OUTCOME_PARTIAL,
        TRACKER_OUTCOME_FAILED,
        _TRACKER_OUTCOME_MAX,
        _TRACKER_OUTCOME_INVALID = -EINVAL,
};

struct tracker_image {
        char *ref;    /* normalised reference */
        char *digest; /* resolved "sha256:...", NULL when not known yet */
};

struct tracker_plan_entry {
        char *node;
        enum tracker_action action;
        char *reason; /* NULL for none */
        bool done;    /* the label step for this node completed */
};

/* One node x image. image is an index into run.images. digest NULL, or the digest the
 * node reported; reason/message NULL for none. */
struct tracker_result {
        char *node;
        size_t image;
        enum tracker_state state;
        char *digest;
        char *reason;
        char *message;
};

struct tracker_run {
        char *id;
        enum tracker_phase phase;
        int64_t started_at;
        uint64_t step; /* persisted steps so far */
        int64_t phase_started_at[_TRACKER_PHASE_MAX]; /* when each phase was entered, 0 not yet */
        struct tracker_image *images;
        size_t n_images, alloc_images;
        struct tracker_plan_entry *plan;
        size_t n_plan, alloc_plan;
        unsigned target;   /* seeders wanted */
        unsigned eligible; /* eligible nodes seen by select */
        char **daemonsets;
        size_t n_daemonsets, alloc_daemonsets;
        struct tracker_result *results;
        size_t n_results, alloc_results;
        /* Lookup index over results (open addressing, not persisted). */
        size_t *result_index;
        size_t result_index_size;
};

struct tracker_held_image {
        char *ref;
        char *digest;      /* NULL when not known */
        int64_t pulled_at; /* 0 unknown */
        unsigned evictions; /* times a run found it gone from the node and seeded it again */
        int64_t evicted_at; /* when a run last found it gone, 0 never */
};

/* An image the last run that tried could not seed on a seeder: failed (with its reason),
 * not applicable (no variant for the platform) or node lost. */
struct tracker_unseeded {
        char *ref;
        enum tracker_state state;
        char *reason;  /* NULL when none */
        char *message; /* NULL when none */
};

struct tracker_seeder {
        char *node;
        char *zone; /* NULL when the node has none */
        char *arch; /* NULL when the node has none */
        int64_t labelled_at;
        bool owned; /* we set the label (our annotation is on the node) */
        struct tracker_held_image *images;
        size_t n_images, alloc_images;
        struct tracker_unseeded *unseeded;
        size_t n_unseeded, alloc_unseeded;
};

/* Where a run's registry throughput came from (history "pull.from"). */
enum tracker_pull_source {
        TRACKER_PULL_EVENTS, /* the kubelet's Pulled events: per node bytes / pull time */
        TRACKER_PULL_PHASE,  /* registry sizes of the pulled images / verify wall time */
        _TRACKER_PULL_SOURCE_MAX,
        _TRACKER_PULL_SOURCE_INVALID = -EINVAL,
};

/* The registry throughput a run observed (history "pull", optional: absent when the run
 * measured none; readers before it ignore it). No secret goes here: figures only. */
struct tracker_pull {
        int64_t rate;   /* bytes/s, the nodes together; 0 = not measured */
        int64_t bytes;  /* what the measured pulls moved */
        unsigned pulls; /* pulls measured */
        unsigned nodes; /* seeders that pulled */
        enum tracker_pull_source source;
};

struct tracker_history {
        char *id;
        int64_t started_at, finished_at;
        enum tracker_outcome result;
        unsigned seeders, images, failures;
        unsigned not_applicable; /* seeder x image pulls without a variant for the platform */
        int64_t phase_seconds[_TRACKER_PHASE_MAX]; /* -1 = not recorded */
        struct tracker_pull pull;                  /* rate 0: not measured */
};

/* One platform of a resolved image. */
struct tracker_platform {
        char *os;
        char *arch;
        char *variant; /* NULL when the registry gives none */
        int64_t size;  /* compressed bytes (config + layers), -1 unknown */
};

/* What the registry said of a reference of the images file: its digest, since when, and
 * the platforms of that digest. */
struct tracker_tag {
        char *ref;          /* normalised reference as in the images file */
        char *digest;       /* the manifest (or index) digest the reference resolved to */
        char *previous;     /* the digest before the last move, NULL when none seen */
        int64_t seen_at;    /* last time the registry confirmed digest */
        int64_t changed_at; /* when digest was first seen */
        uint64_t moves;     /* digest changes seen since the first resolution */
        struct tracker_platform *platforms;
        size_t n_platforms;
};

struct tracker {
        unsigned version;
        char *server; /* cluster API server URL */
        char *uid;    /* kube-system namespace uid, NULL when not known yet */
        struct tracker_run *run; /* NULL when no run is in progress */
        struct tracker_seeder *seeders;
        size_t n_seeders, alloc_seeders;
        struct tracker_history *history; /* oldest first */
        size_t n_history;
        struct tracker_tag *tags; /* optional in the file ("tags"); written when not empty */
        size_t n_tags;
};

/* --- enums ------------------------------------------------------------------------ */
/* to_string: a static string, or NULL for an out-of-range value.
 * from_string: the value, or the _INVALID member (-EINVAL). */
const char *tracker_phase_to_string(enum tracker_phase p);
enum tracker_phase tracker_phase_from_string(const char *s);
const char *tracker_action_to_string(enum tracker_action a);
enum tracker_action tracker_action_from_string(const char *s);
const char *tracker_state_to_string(enum tracker_state s);
enum tracker_state tracker_state_from_string(const char *s);
const char *tracker_outcome_to_string(enum tracker_outcome o);
enum tracker_outcome tracker_outcome_from_string(const char *s);
const char *tracker_pull_source_to_string(enum tracker_pull_source s);
enum tracker_pull_source tracker_pull_source_from_string(const char *s);

/* --- times ------------------------------------------------------------------------ */
/* Formats t as "2026-11-26T10:20:00Z" into buf (at least 32 bytes). Returns 0 or -ERANGE. */
int tracker_time_format(int64_t t, char *buf, size_t size);
/* Parses a strict RFC 3339 UTC time ("YYYY-MM-DDTHH:MM:SSZ", optional fraction, "Z" or
 * "+00:00"). Returns 0 and *ret, or -EINVAL. */
int tracker_time_parse(const char *s, int64_t *ret);

/* --- the tracker ------------------------------------------------------------------ */
/* Returns a new empty tracker (version 1, no run, no seeders), or NULL on ENOMEM. */
struct tracker *tracker_new(void);
/* Frees t and everything it owns. NULL is fine; returns NULL. */
struct tracker *tracker_free(struct tracker *t);
static inline void tracker_freep(struct tracker **t) {
        tracker_free(*t);
}

/* Records the cluster identity (copies). Returns 0 or -ENOMEM. */
int tracker_set_cluster(struct tracker *t, const char *server, const char *uid);

/* Compares the recorded cluster with what the cluster reports now.
 * Returns 0 when they match or when the tracker has no uid yet, 1 when the uid matches but
 * the server URL differs (same cluster reached another way: the caller may update it),
 * -EXDEV when the uid differs (another cluster), with *ret_cause (owned by the caller)
 * naming both; -ENOMEM. */
int tracker_check_cluster(const struct tracker *t, const char *server, const char *uid,
                          char **ret_cause);

/* Builds a run id "YYYYmmddtHHMMSS-xxxx" (UTC, lowercase, DNS-1123 friendly) from now and
 * the low 16 bits of rnd. buf must hold TRACKER_RUN_ID_MAX bytes. Returns 0 or -ERANGE. */
int tracker_run_id(int64_t now, uint32_t rnd, char *buf, size_t size);

/* --- the run ---------------------------------------------------------------------- */
/* Starts a new run (replacing any current one) with id, phase SELECT, started_at now.
 * Returns 0, -EINVAL (empty id), -ENOMEM. */
int tracker_run_start(struct tracker *t, const char *id, int64_t now);
/* Drops the current run (no-op without one). */
void tracker_run_end(struct tracker *t);
struct tracker_run *tracker_run_free(struct tracker_run *r);

/* Sets phase and records when it was entered. Returns 0 or -EINVAL (bad phase). */
int tracker_run_set_phase(struct tracker_run *r, enum tracker_phase p, int64_t now);

/* Appends an image (or updates the digest of one with the same ref). digest may be NULL.
 * Returns the index (>= 0), or -EINVAL / -ENOMEM. */
int tracker_run_add_image(struct tracker_run *r, const char *ref, const char *digest);
/* Returns the index of ref, or -ENOENT. */
int tracker_run_find_image(const struct tracker_run *r, const char *ref);

/* Appends or replaces the plan entry for node. reason may be NULL. done starts false
 * for a new entry and is kept for a replaced one only if the action is unchanged.
 * Returns 0, -EINVAL, -ENOMEM. */
int tracker_plan_set(struct tracker_run *r, const char *node, enum tracker_action action,
                     const char *reason);
/* Returns the entry for node (borrowed) or NULL. */
struct tracker_plan_entry *tracker_plan_find(const struct tracker_run *r, const char *node);
/* Removes all plan entries. */
void tracker_plan_clear(struct tracker_run *r);

/* Adds a DaemonSet name (no duplicate). Returns 0 (added), 1 (already there), -ENOMEM. */
int tracker_run_add_daemonset(struct tracker_run *r, const char *name);
/* Removes it. Returns 0 or -ENOENT. */
int tracker_run_remove_daemonset(struct tracker_run *r, const char *name);

/* Sets the result of node x image (index into run.images), creating it when missing.
 * digest/reason/message may be NULL. Amortised O(1). Returns 0, -EINVAL (image index out
 * of range, bad state), -ENOMEM. */
int tracker_result_set(struct tracker_run *r, const char *node, size_t image,
                       enum tracker_state state, const char *digest, const char *reason,
                       const char *message);
/* Returns the result (borrowed) or NULL. Amortised O(1). */
struct tracker_result *tracker_result_find(struct tracker_run *r, const char *node, size_t image);
/* Removes every result of node (e.g. a node dropped from the plan). Returns how many. */
size_t tracker_result_remove_node(struct tracker_run *r, const char *node);

/* --- seeders ---------------------------------------------------------------------- */
/* Returns the seeder for node (borrowed) or NULL. */
struct tracker_seeder *tracker_seeder_find(const struct tracker *t, const char *node);
/* Adds a seeder, or updates zone/arch/owned of an existing one (labelled_at is kept when
 * it exists). Returns the seeder (borrowed) in *ret (may be NULL).
 * Returns 0 added, 1 updated, -EINVAL, -ENOMEM. */
int tracker_seeder_add(struct tracker *t, const char *node, const char *zone, const char *arch,
                       int64_t labelled_at, bool owned, struct tracker_seeder **ret);
/* Removes the seeder for node. Returns 0 or -ENOENT. */
int tracker_seeder_remove(struct tracker *t, const char *node);
/* Records that the seeder holds ref (updates digest and pulled_at if already listed).
 * Returns 0, -EINVAL, -ENOMEM. */
int tracker_seeder_set_image(struct tracker_seeder *s, const char *ref, const char *digest,
                             int64_t pulled_at);
/* Records that ref could not be seeded on s (state failed, not-applicable or node-lost),
 * or with any other state forgets such a record. Returns 0, -EINVAL, -ENOMEM. */
int tracker_seeder_set_unseeded(struct tracker_seeder *s, const char *ref, enum tracker_state state,
                                const char *reason, const char *message);
/* Notes every settled result of the run in progress on its seeder: the unseeded ones with
 * their reason, the pulled or skipped ones forgotten. Returns 0 or -ENOMEM. */
int tracker_run_note_outcomes(struct tracker *t);
/* Returns the held image (borrowed) or NULL. */
struct tracker_held_image *tracker_seeder_find_image(const struct tracker_seeder *s, const char *ref);
/* Forgets ref on this seeder. Returns 0 or -ENOENT. */
int tracker_seeder_remove_image(struct tracker_seeder *s, const char *ref);

/* --- tags ------------------------------------------------------------------------ */
/* Returns the record for ref (borrowed) or NULL. */
struct tracker_tag *tracker_tag_find(const struct tracker *t, const char *ref);
/* Records that ref resolved to digest at now. A new digest for a known ref keeps the old
 * one in previous, counts a move and sets changed_at; the same digest only updates
 * seen_at. platforms (copied; n may be 0) replace the recorded ones when given (a new
 * digest without platforms clears them). Returns 1 when the digest moved, 0 otherwise,
 * -EINVAL (empty ref or digest), -ENOMEM. */
int tracker_tag_set(struct tracker *t, const char *ref, const char *digest, int64_t now,
                    const struct tracker_platform *platforms, size_t n_platforms);
void tracker_tag_done(struct tracker_tag *g);

/* --- history ---------------------------------------------------------------------- */
/* Appends a finished run (copied; h->id required), dropping the oldest beyond
 * TRACKER_HISTORY_MAX. Returns 0, -EINVAL, -ENOMEM. */
int tracker_history_add(struct tracker *t, const struct tracker_history *h);

/* --- files ------------------------------------------------------------------------ */
/* Loads and strictly validates path. On success *ret owns a new tracker.
 * Errors, each with *ret_cause (owned by the caller; "<path>: what is wrong"):
 *   -ENOENT missing (start empty; no cause is set)
 *   -ELOOP path is a symlink (refused, never followed)
 *   -EBADMSG empty, truncated, not JSON, wrong shape or wrong types, not a regular file
 *   -EPROTONOSUPPORT version newer than TRACKER_VERSION
 *   -EFBIG larger than the limit; other negative errno when it cannot be read
 *   -ENOMEM (no cause) */
int tracker_load(const char *path, struct tracker **ret, char **ret_cause);

/* Same validation on a buffer (for the fuzzer and tests); name is used in messages. */
int tracker_parse(const char *name, const char *data, size_t size, struct tracker **ret,
                  char **ret_cause);

/* Serialises t as pretty-printed JSON. Returns 0 and *ret (owned), or -ENOMEM / -EINVAL
 * (a field out of range, with cause). */
int tracker_to_json_string(const struct tracker *t, bool pretty, char **ret, char **ret_cause);

/* Saves t atomically to path (temp file in the same directory, mode 0600, fsync,
 * rename, fsync of the directory). The old file is intact on any failure.
 * Returns 0 or a negative errno with *ret_cause. */
int tracker_save(const char *path, const struct tracker *t, char **ret_cause);

/* Renames a damaged tracker (or a symlink, itself) to "<path>.corrupt-YYYYmmddTHHMMSSZ"
 * (now, UTC), adding "-N" when that name exists. Returns 0 and *ret_newpath (owned, may
 * be NULL to ignore), or -ENOENT / other negative errno. */
int tracker_set_aside(const char *path, int64_t now, char **ret_newpath);

/* --- lock ------------------------------------------------------------------------- */
struct tracker_lock;

/* Takes an exclusive, non-blocking flock on "<path>.lock" (created 0600, never through a
 * symlink) and writes our pid into it. The lock dies with the process.
 * Returns 0 and *ret_lock; -EAGAIN when another process holds it, with *ret_holder_pid
 * set to the pid read from the file (0 when unreadable; ret_holder_pid may be NULL);
 * -ELOOP when the lock path is a symlink; other negative errno. */
int tracker_lock(const char *path, struct tracker_lock **ret_lock, pid_t *ret_holder_pid);
/* Releases and frees the lock. NULL is fine; returns NULL. */
struct tracker_lock *tracker_unlock(struct tracker_lock *l);
static inline void tracker_unlockp(struct tracker_lock **l) {
        tracker_unlock(*l);
}
