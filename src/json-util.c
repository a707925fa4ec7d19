/* SPDX-License-Identifier: MIT */
#include "json-util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int json_to_string(json_object *o, int flags, char **ret) {
        const char *s = json_object_to_json_string_ext(o, flags);
        char *copy = s ? strdup(s) : NULL;

        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}
