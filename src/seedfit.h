/* SPDX-License-Identifier: MIT */
/* What a resolved image means for one seeder (pure): whether it offers the node's
 * platform, how many bytes the node would pull, whether that fits the node's ephemeral
 * storage under the configured share. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tracker.h"

/* The node as the disk pre-flight sees it. */
struct seedfit_node {
        const char *os, *arch, *variant; /* os NULL = "linux" (only Linux nodes are eligible) */
        int64_t capacity;     /* ephemeral-storage capacity, bytes; <= 0 unknown: no check */
        int64_t images_bytes; /* what status.images already takes */
        int64_t planned;      /* bytes already planned for this node in this run */
};

/* The platform of g that the node runs, or NULL. A tag without recorded platforms (not
 * resolved) offers everything: returns NULL and *ret_unknown true. */
const struct tracker_platform *seedfit_platform(const struct tracker_tag *g, const struct seedfit_node *n,
                                                bool *ret_unknown);

/* Formats "linux/arm64/v8" (variant when given) into buf. */
const char *seedfit_platform_name(const char *os, const char *arch, const char *variant, char *buf, size_t size);

/* The platforms g offers, "linux/amd64, linux/arm64/v8", into buf ("unknown" when none). */
const char *seedfit_platforms(const struct tracker_tag *g, char *buf, size_t size);

/* Whether size more bytes fit: images_bytes + planned + size <= share% of capacity.
 * Unknown capacity or size (<= 0 / < 0) always fits. */
bool seedfit_fits(const struct seedfit_node *n, int64_t size, double share_pct);

/* Human bytes, decimal units as registries and kubectl show them: "812 B", "4.2 MB",
 * "84 GB" (three significant digits). */
const char *seedfit_bytes(int64_t bytes, char *buf, size_t size);
