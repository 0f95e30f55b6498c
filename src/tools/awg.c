// SPDX-License-Identifier: MIT
// awg(8): main and the subcommand table.
#include <stdio.h>
#include <string.h>

#include "awg.h"
#include "crypto.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char *argv[]);
	const char *description;
};

static const struct subcommand subcommands[] = {
	{ "show", awg_show_main, "Shows the current configuration and device information" },
	{ "showconf", awg_showconf_main,
	  "Shows the current configuration of a given AmneziaWG interface, "
	  "for use with `setconf'" },
	{ "set", awg_set_main,
	  "Change the current configuration, add peers, remove peers, or change peers" },
	{ "setconf", awg_setconf_main, "Applies a configuration file to an AmneziaWG interface" },
	{ "addconf", awg_setconf_main, "Appends a configuration file to an AmneziaWG interface" },
	{ "syncconf", awg_setconf_main,
	  "Synchronizes a configuration file to an AmneziaWG interface" },
	{ "genkey", awg_genkey_main, "Generates a new private key and writes it to stdout" },
	{ "genpsk", awg_genkey_main, "Generates a new preshared key and writes it to stdout" },
	{ "pubkey", awg_pubkey_main,
	  "Reads a private key from stdin and writes a public key to stdout" },
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void show_usage(FILE *f)
{
	fprintf(f, "Usage: %s <cmd> [<args>]\n\n", PROG_NAME);
	fprintf(f, "Available subcommands:\n");
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(f, "  %s: %s\n", subcommands[i].name, subcommands[i].description);
	fprintf(f, "You may pass `--help' to any of these subcommands to view usage.\n");
	fprintf(f, "\nInterfaces are reached through /var/run/amneziawg/<interface>.sock, then "
		   "/var/run/wireguard/<interface>.sock\n(or only $AWG_SOCKET_DIR/<interface>.sock "
		   "when AWG_SOCKET_DIR is set). WG_COLOR_MODE=always|never|auto\ncontrols colours "
		   "of `show'.\n");
}

static bool is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help") || !strcmp(arg, "help");
}

int main(int argc, char *argv[])
{
	char *show_argv[] = { "show", NULL };

	if (argc == 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version") ||
			  !strcmp(argv[1], "version"))) {
		printf("awg-suite awg v0.1.0 - AmneziaWG tools for Linux\n");
		return 0;
	}
	if (argc == 2 && is_help(argv[1])) {
		show_usage(stdout);
		return 0;
	}
	if (awg_crypto_init()) {
		fprintf(stderr, "%s: cannot initialise the crypto library\n", PROG_NAME);
		return 1;
	}
	if (argc == 1)
		return awg_show_main(1, show_argv);
	for (size_t i = 0; i < N_SUBCOMMANDS; i++) {
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "Invalid subcommand: `%s'\n", argv[1]);
	show_usage(stderr);
	return 1;
}
