/* SPDX-License-Identifier: MIT */
/* The subcommands. Each returns an exit code from exitcode.h. */
#pragma once

#include "cli.h"
#include "config.h"

int command_dispatch(const struct cli *cli, struct config *c);
