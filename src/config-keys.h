/* SPDX-License-Identifier: MIT */
/* The table of configuration keys (internal to the config module and its tests). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

enum config_key_type {
        KEY_STRING,    /* any text, may be empty */
        KEY_PATH,      /* a file name, not empty */
        KEY_PATH_OPT,  /* a file name, empty = none */
        KEY_NAMESPACE, /* DNS-1123 label */
        KEY_DNS_OPT,   /* DNS-1123 subdomain or empty (priority class) */
        KEY_LABEL,     /* key=value */
        KEY_SELECTOR,  /* label selector, may be empty */
        KEY_IMAGE,     /* image reference */
        KEY_QUANTITY,  /* resource quantity: 10m, 16Mi, 0.5 */
        KEY_RUN_AS,    /* auto, or a uid from 1 */
        KEY_JOURNAL,   /* auto, yes, no */
        KEY_DURATION,
        KEY_PERCENT,
        KEY_COUNT,
        KEY_DOUBLE,
        KEY_BOOL,
        KEY_LEVEL,
        KEY_LIST,      /* validated per key by config_key_check_list() */
        KEY_SHARE,     /* a percentage in (0, 100] or auto (sets percentage_auto) */
        KEY_RATE,      /* a transfer rate (config_parse_rate); empty = 0 when min is 0 */
};

struct config_key {
        const char *section;
        const char *name;
        enum config_key_type type;
        size_t offset;
        const char *def; /* default, as it would be written in seeder.ini */
        int64_t min, max;
        const char *help; /* one line, shown in --help and seeder.ini */
};

extern const struct config_key config_keys[];
extern const size_t config_n_keys;

/* Index of section.name in config_keys, or -1. */
ssize_t config_key_find(const char *section, const char *name);

/* Whether the key's field is a char * owned by struct config. */
int config_key_is_string(const struct config_key *k);

/* Validate a string value / list value for key k. Return 0, or -EINVAL with *ret_why. */
int config_key_check_string(const struct config_key *k, const char *value, const char **ret_why);
int config_key_check_list(const struct config_key *k, char **l, const char **ret_why);
