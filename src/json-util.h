/* SPDX-License-Identifier: MIT */
/* Small json-c helpers shared by every layer that reads or writes JSON (the tracker, the
 * API client, the commands). Knows nothing of HTTP, Kubernetes or the tracker. */
#pragma once

#include <json-c/json.h>

static inline void json_object_putp(json_object **o) {
        if (*o)
                (void) json_object_put(*o);
}

/* Serialises o with json-c's flags (JSON_C_TO_STRING_*) into *ret (caller frees).
 * Returns 0, or -ENOMEM (*ret untouched). */
int json_to_string(json_object *o, int flags, char **ret);
