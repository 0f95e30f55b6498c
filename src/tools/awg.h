/* SPDX-License-Identifier: MIT */
/*
 * awg(8), the amneziawg-tools / wireguard-tools compatible command-line tool: the subcommands
 * and the helpers they share (UAPI client, terminal colours, key files).
 */
#ifndef _AWG_TOOLS_H
#define _AWG_TOOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define PROG_NAME "awg"

/* Subcommands: argv[0] is the subcommand name. Each returns the process exit status. */
int awg_show_main(int argc, char *argv[]);
int awg_showconf_main(int argc, char *argv[]);
int awg_set_main(int argc, char *argv[]);
int awg_setconf_main(int argc, char *argv[]);
int awg_genkey_main(int argc, char *argv[]);
int awg_pubkey_main(int argc, char *argv[]);

/* --- ipc.c: the UAPI client --- */

/* Reads the configuration of ifname into c (freshly initialised). 0 or -errno. */
int awg_ipc_get(const char *ifname, struct awg_conf *c);
/* The same, reading at most max bytes within timeout_ms in all: -EMSGSIZE, -ETIMEDOUT. */
int awg_ipc_get_bounded(const char *ifname, struct awg_conf *c, size_t max, int timeout_ms);
/* Sends a complete set request; 0, -errno of the transport, or the daemon's negative errno. */
int awg_ipc_set(const char *ifname, const char *req, size_t len);
/* Sends c as a set request (flags: enum awg_uapi_set_flags). 0 or -errno. */
int awg_ipc_set_conf(const char *ifname, const struct awg_conf *c, unsigned flags);
/*
 * Lists the interfaces with a socket in the UAPI directories, sorted and without duplicates:
 * *out is an owned array of owned strings (free with awg_ipc_list_free). 0 or -errno.
 */
int awg_ipc_list(char ***out, size_t *n);
void awg_ipc_list_free(char **v, size_t n);

/* --- terminal.c: colours --- */

#define TERMINAL_FG_RED "\x1b[31m"
#define TERMINAL_FG_GREEN "\x1b[32m"
#define TERMINAL_FG_YELLOW "\x1b[33m"
#define TERMINAL_FG_CYAN "\x1b[36m"
#define TERMINAL_BOLD "\x1b[1m"
#define TERMINAL_RESET "\x1b[0m"

/* printf to stdout; ANSI escapes are removed unless colour is on (WG_COLOR_MODE, isatty). */
__attribute__((format(printf, 1, 2)))
void awg_terminal_printf(const char *fmt, ...);

/* --- keys.c --- */

/*
 * Reads a base64 key from the file at path (as `wg set ... private-key FILE`): trailing
 * whitespace is ignored and an empty file yields the all-zero key. Prints the error itself.
 * Returns 0 or -errno.
 */
int awg_keys_read_file(uint8_t key[AWG_KEY_LEN], const char *path);

/* --- set.c / setconf.c shared --- */

/* Resolves host-name endpoints of every peer of c to numeric ones. Prints errors. 0/-errno. */
int awg_set_resolve_endpoints(struct awg_conf *c);
/* Prints the message for a failed set request on ifname. */
void awg_set_report(const char *ifname, int ret);

#endif /* _AWG_TOOLS_H */
