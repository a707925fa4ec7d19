/* SPDX-License-Identifier: MIT */
/* The command line: options, subcommands, and their mapping onto configuration keys. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

enum cli_command {
        CLI_RUN,
        CLI_STATUS,
        CLI_PLAN,
        CLI_RELEASE,
};

struct cli_override {
        const char *section, *key, *value, *flag;
};

struct cli {
        const char *config_path; /* NULL: the default seeder.ini */
        bool check_config;
        bool json;
        bool help, version;
        enum cli_command command;
        struct cli_override overrides[24];
        size_t n_overrides;
};

/* Default configuration file. */
#define CLI_DEFAULT_CONFIG SYSCONFDIR "/clyde/seeder.ini"

/* Parses argv. Returns 0, or -EINVAL after printing the problem to stderr (exit 64). */
int cli_parse(int argc, char **argv, struct cli *ret);

/* Prints --help: every option with its default. */
void cli_help(FILE *f);

/* Builds the effective configuration from defaults, the file and the command line.
 * Returns 0, or an exit code (64 command line, 78 configuration) after printing every
 * error to stderr. */
int cli_load_config(const struct cli *cli, struct config *ret);

const char *cli_command_name(enum cli_command c);
