/* SPDX-License-Identifier: MIT */
/* Shared by resolve.c and resolve-judge.c. */
#pragma once

#include "resolve.h"

struct resolve_node {
        char *name, *os, *arch;
        int64_t capacity, images_bytes;
        int64_t planned; /* bytes this run already plans to pull there */
};

struct resolve {
        struct resolve_node *nodes;
        size_t n_nodes;
};
