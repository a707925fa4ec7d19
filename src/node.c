/* SPDX-License-Identifier: MIT */
#include "node.h"

#include <stdlib.h>
#include <string.h>

void node_info_done(struct node_info *n) {
        if (!n)
                return;
        free(n->name);
        free(n->uid);
        free(n->zone);
        free(n->arch);
        free(n->os);
        free(n->seeder_label);
        for (size_t i = 0; i < n->n_taints; i++) {
                free(n->taints[i].key);
                free(n->taints[i].value);
                free(n->taints[i].effect);
        }
        free(n->taints);
        for (size_t i = 0; i < n->n_images; i++)
                free(n->images[i]);
        free(n->images);
        memset(n, 0, sizeof(*n));
}

void node_info_array_free(struct node_info *a, size_t n) {
        for (size_t i = 0; a && i < n; i++)
                node_info_done(&a[i]);
        free(a);
}

bool node_listing_complete(size_t n_listed_images, size_t max_listed_names) {
        return n_listed_images < NODE_STATUS_MAX_IMAGES && max_listed_names < NODE_STATUS_MAX_NAMES;
}

enum node_image_presence node_image_presence(bool listed, bool listing_complete) {
        if (listed)
                return NODE_IMAGE_HELD;
        return listing_complete ? NODE_IMAGE_GONE : NODE_IMAGE_UNKNOWN;
}
