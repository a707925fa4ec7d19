/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "config-keys.h"
#include "exitcode.h"
#include "macro.h"

enum {
        OPT_BASE_DIR = 0x100,
        OPT_PERCENTAGE,
        OPT_NAMESPACE,
        OPT_LOG_LEVEL,
        OPT_NO_STDOUT,
        OPT_TRACKER,
        OPT_IMAGES,
        OPT_LOG_FILE,
        OPT_CONFIG,
        OPT_KUBECONFIG,
        OPT_CONTEXT,
        OPT_CHECK_CONFIG,
        OPT_JSON,
        OPT_VERSION,
};

/* Options that set a configuration key; their defaults come from the key table. */
static const struct {
        int opt;
        const char *flag, *section, *key, *fixed_value, *help;
} key_options[] = {
        { OPT_BASE_DIR, "--base-dir", "state", "base_dir", NULL, "directory relative paths resolve against" },
        { OPT_PERCENTAGE, "--seeder-percentage", "seeder", "percentage", NULL, "share of eligible nodes to make seeders, (0, 100], or auto (see plan)" },
        { OPT_NAMESPACE, "--namespace", "preload", "namespace", NULL, "namespace of the puller DaemonSets" },
        { OPT_LOG_LEVEL, "--log-level", "log", "level", NULL, "DEBUG, INFO, WARNING, ERROR, CRITICAL" },
        { OPT_NO_STDOUT, "--no-stdout", "log", "stdout", "no", "do not log to standard output" },
        { OPT_TRACKER, "--seeder-tracker-file", "state", "tracker_file", NULL, "tracker file (JSON state)" },
        { OPT_IMAGES, "--images-to-seed", "preload", "images_file", NULL, "images file, a pipe, or - for stdin" },
        { OPT_LOG_FILE, "--log-file", "log", "file", NULL, "log file ('' for none)" },
        { OPT_KUBECONFIG, "--kubeconfig", "kubernetes", "kubeconfig", NULL, "kubeconfig file" },
        { OPT_CONTEXT, "--context", "kubernetes", "context", NULL, "kubeconfig context" },
};

static const struct option long_options[] = {
        { "base-dir", required_argument, NULL, OPT_BASE_DIR },
        { "seeder-percentage", required_argument, NULL, OPT_PERCENTAGE },
        { "namespace", required_argument, NULL, OPT_NAMESPACE },
        { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
        { "no-stdout", no_argument, NULL, OPT_NO_STDOUT },
        { "seeder-tracker-file", required_argument, NULL, OPT_TRACKER },
        { "images-to-seed", required_argument, NULL, OPT_IMAGES },
        { "log-file", required_argument, NULL, OPT_LOG_FILE },
        { "config", required_argument, NULL, OPT_CONFIG },
        { "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
        { "context", required_argument, NULL, OPT_CONTEXT },
        { "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
        { "json", no_argument, NULL, OPT_JSON },
        { "version", no_argument, NULL, OPT_VERSION },
        { "help", no_argument, NULL, 'h' },
        {},
};

static const char *const command_names[] = {
        [CLI_RUN] = "run",
        [CLI_STATUS] = "status",
        [CLI_PLAN] = "plan",
        [CLI_RELEASE] = "release",
};

const char *cli_command_name(enum cli_command c) {
        return command_names[c];
}

static int add_override(struct cli *cli, int opt, const char *arg) {
        for (size_t i = 0; i < ELEMENTSOF(key_options); i++) {
                if (key_options[i].opt != opt)
                        continue;
                if (cli->n_overrides >= ELEMENTSOF(cli->overrides)) {
                        fprintf(stderr, "clyde-seed: too many options\n");
                        return -E2BIG;
                }
                cli->overrides[cli->n_overrides++] = (struct cli_override) {
                        .section = key_options[i].section,
                        .key = key_options[i].key,
                        .value = key_options[i].fixed_value ? key_options[i].fixed_value : arg,
                        .flag = key_options[i].flag,
                };
                return 0;
        }
        return -ENOENT;
}

static int parse_command(struct cli *cli, int argc, char **argv) {
        if (optind >= argc)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(command_names); i++)
                if (streq(argv[optind], command_names[i])) {
                        cli->command = (enum cli_command) i;
                        optind++;
                        break;
                }
        if (optind < argc) {
                fprintf(stderr, "clyde-seed: unexpected argument '%s' (try --help)\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

int cli_parse(int argc, char **argv, struct cli *ret) {
        struct cli cli = { .command = CLI_RUN };
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", long_options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        cli.help = true;
                        break;
                case OPT_VERSION:
                        cli.version = true;
                        break;
                case OPT_CONFIG:
                        cli.config_path = optarg;
                        break;
                case OPT_CHECK_CONFIG:
                        cli.check_config = true;
                        break;
                case OPT_JSON:
                        cli.json = true;
                        break;
                case '?':
                        if (optopt)
                                fprintf(stderr, "clyde-seed: option '%s' needs an argument or is unknown (try --help)\n",
                                        argv[optind - 1]);
                        else
                                fprintf(stderr, "clyde-seed: unknown option '%s' (try --help)\n", argv[optind - 1]);
                        return -EINVAL;
                default:
                        if (add_override(&cli, c, optarg) < 0)
                                return -EINVAL;
                }
        }
        /* Options may also follow the subcommand: "clyde-seed status --json". */
        if (parse_command(&cli, argc, argv) < 0)
                return -EINVAL;
        *ret = cli;
        return 0;
}

void cli_help(FILE *f) {
        fprintf(f,
                "Usage: clyde-seed [OPTIONS] [run|status|plan|release]\n"
                "\n"
                "Keeps a share of the cluster's nodes labelled as seeders and preloads images\n"
                "onto them, so a P2P layer can serve every other node.\n"
                "\n"
                "Commands:\n"
                "  run       one full cycle: select, label, preload, verify, cleanup (default)\n"
                "  status    show the tracker as a table (--json for JSON)\n"
                "  plan      show what a run would change; changes nothing\n"
                "  release   remove clyde-seed's labels and DaemonSets (decommissioning)\n"
                "\n"
                "Options:\n");
        for (size_t i = 0; i < ELEMENTSOF(key_options); i++) {
                ssize_t k = config_key_find(key_options[i].section, key_options[i].key);
                const char *def = k >= 0 ? config_keys[k].def : "";
                char left[64];

                (void) snprintf(left, sizeof(left), "%s%s", key_options[i].flag,
                                key_options[i].fixed_value ? "" : " VALUE");
                fprintf(f, "  %-30s %s (default: %s%s%s)\n", left, key_options[i].help,
                        key_options[i].fixed_value ? "" : "'",
                        key_options[i].fixed_value ? "log to stdout" : def,
                        key_options[i].fixed_value ? "" : "'");
        }
        fprintf(f,
                "  %-30s configuration file (default: %s)\n"
                "  %-30s print the effective configuration with sources, then exit\n"
                "  %-30s machine-readable output for status and plan\n"
                "  %-30s print the version\n"
                "  %-30s this help\n"
                "\n"
                "Exit codes: 0 done, 1 some images failed, 64 usage, 69 API unavailable,\n"
                "70 internal error, 74 I/O error (tracker, log file), 75 another run holds\n"
                "the lock, 77 permission denied, 78 configuration error.\n"
                "See clyde-seed(8) and seeder.ini(5).\n",
                "--config FILE", CLI_DEFAULT_CONFIG, "--check-config", "--json", "--version", "-h, --help");
}

static void print_errors(const struct config_errors *err) {
        for (size_t i = 0; i < err->n; i++)
                fprintf(stderr, "%s\n", err->lines[i]);
}

int cli_load_config(const struct cli *cli, struct config *ret) {
        _cleanup_(config_errors_done) struct config_errors ferr = {}, cerr = {};
        const char *path = cli->config_path ? cli->config_path : CLI_DEFAULT_CONFIG;
        struct config c;
        int r;

        r = config_init(&c);
        if (r < 0) {
                fprintf(stderr, "clyde-seed: cannot set up defaults: %s\n", strerror(-r));
                return EXIT_CONFIG;
        }
        c.config_explicit = cli->config_path != NULL;
        r = config_load_file(&c, path, &ferr);
        if (r == -ENOENT && c.config_explicit)
                (void) config_errors_add(&ferr, "%s: no such configuration file", path);
        for (size_t i = 0; i < cli->n_overrides; i++) {
                const struct cli_override *o = &cli->overrides[i];
                (void) config_set_cli(&c, o->section, o->key, o->value, o->flag, &cerr);
        }
        if (ferr.n == 0 && cerr.n == 0)
                (void) config_finish(&c, &ferr);
        if (ferr.n > 0 || cerr.n > 0) {
                print_errors(&ferr);
                print_errors(&cerr);
                fprintf(stderr, "clyde-seed: %zu configuration error%s\n", ferr.n + cerr.n,
                        ferr.n + cerr.n == 1 ? "" : "s");
                config_done(&c);
                return ferr.n > 0 ? EXIT_CONFIG : EXIT_USAGE;
        }
        *ret = c;
        return 0;
}
