/* SPDX-License-Identifier: MIT */
/*
 * What the awgctl command files share: the global options, the lazily opened manager
 * connection, argument parsing, and one entry point per command.
 */
#ifndef _AWG_CTL_H
#define _AWG_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"

#define PROG_NAME "awgctl"

/* Exit statuses (awgctl --help: EXIT STATUS). */
enum {
	CTL_OK = 0,
	CTL_FAIL = 1,
	CTL_USAGE = 2,
};

struct ctl {
	const char *socket;		/* --socket, else awg_client_socket_path(NULL) */
	bool json;			/* --json */
	bool connected;
	/* The first connect or transport failure; printed once, then every call returns it. */
	int conn_err;
	struct awg_client client;
};

/* One option of a command: "--name" with a value (*value) or a flag (*flag). */
struct ctl_opt {
	const char *name;
	const char **value;
	bool *flag;
};

/*
 * Parses a command's arguments (argv[0] is the command): options from opts anywhere, "--" ends
 * them, everything else is positional and stored in pos[0..max_pos). Returns the number of
 * positionals, or -1 after printing a usage error (unknown option, missing value, more than
 * max_pos or fewer than min_pos positionals).
 */
int awg_ctl_args(int argc, char **argv, const struct ctl_opt *opts, const char **pos,
		 int min_pos, int max_pos);

/* Prints "awgctl: <msg>" to stderr. */
__attribute__((format(printf, 1, 2)))
void awg_ctl_err(const char *fmt, ...);

/*
 * Connects on first use and sends req. Returns 0 (reply->status is 0), a positive errno
 * after printing the manager's sentence (the reply stays valid), or -errno after printing the
 * transport failure. Free *reply in every case. fd as awg_client_call.
 */
int awg_ctl_call(struct ctl *ctl, const struct awg_mgr_msg *req, struct awg_mgr_msg *reply,
		 int *fd);
/* As awg_ctl_call with only a tunnel name and no result fields; CTL_OK or CTL_FAIL. */
int awg_ctl_simple(struct ctl *ctl, unsigned method, const char *name);
/* Lowercase state text: "started", "stopped", ... "unknown". */
const char *awg_ctl_state_text(unsigned state);
/* Checks a tunnel name's length and characters ([a-zA-Z0-9_=+.-], 1..32); prints why not. */
bool awg_ctl_name_ok(const char *name);

struct awg_conf;
/*
 * Parses text as an awg-quick file into conf (initialised here; free it in every case) and
 * prints a failure as "label:line:column: message". 0 or -errno.
 */
int awg_ctl_validate(const char *label, const char *text, size_t len, struct awg_conf *conf);
/* Create(name, text, overwrite); the result as awg_ctl_call. */
int awg_ctl_create(struct ctl *ctl, const char *name, const char *text, size_t len,
		   bool overwrite);

/* Reads a whole file (or stdin for "-") into an owned buffer; wipe it. 0 or -errno. */
int awg_ctl_read_file(const char *path, size_t max, char **out, size_t *len);

/* Commands: argv[0] is the command name. They return an exit status. */
int awg_ctl_cmd_list(struct ctl *ctl, int argc, char **argv);
int awg_ctl_cmd_status(struct ctl *ctl, int argc, char **argv);
int awg_ctl_cmd_import(struct ctl *ctl, int argc, char **argv);
int awg_ctl_cmd_export(struct ctl *ctl, int argc, char **argv);
int awg_ctl_cmd_add(struct ctl *ctl, int argc, char **argv);
int awg_ctl_cmd_edit(struct ctl *ctl, int argc, char **argv);
int awg_ctl_cmd_log(struct ctl *ctl, int argc, char **argv);
int awg_ctl_cmd_update(struct ctl *ctl, int argc, char **argv);

#endif /* _AWG_CTL_H */
