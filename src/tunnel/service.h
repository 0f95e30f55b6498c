/* SPDX-License-Identifier: MIT */
/*
 * One tunnel as a service: bring-up (awgd as an unprivileged, sandboxed child holding the TUN
 * and UDP sockets opened here; its configuration over UAPI; addresses, MTU, routes and the
 * full-tunnel policy rules over rtnetlink; the scripts), supervision, and teardown on a signal,
 * on awgd's death, or after a crash of an earlier awg-tunnel (from its state file).
 */
#ifndef _AWG_TUNNEL_SERVICE_H
#define _AWG_TUNNEL_SERVICE_H

#include "config.h"
#include "firewall.h"
#include "name.h"

#define AWG_TUNNEL_STATE_DIR "/run/awg-tunnel"

struct awg_tunnel {
	char name[AWG_TUNNEL_NAME_MAX + 1];
	char path[4096];		/* the config file (SaveConfig writes it back); empty
					 * for a config from a descriptor: nothing is written */
	struct awg_conf conf;		/* as loaded; owned */
	const char *awgd;		/* the engine binary */
	const char *user;		/* awgd runs as this user */
	bool detached;			/* `up`: awgd's stdout/stderr go to /dev/null */
	int restarts;			/* times to bring the tunnel back after awgd dies */
	/* stderr feeds a log that operators read: never print a script's text (it may hold
	 * secrets); only its output, which the ring log's key filter sees. */
	bool hide_scripts;
	/* The kill switch, engaged once and kept across restarts of awgd (fail-closed). */
	struct awg_firewall *fw;
};

/*
 * Runs the tunnel in the foreground until SIGTERM/SIGINT/SIGHUP (exit status 0) or until awgd
 * dies more than t->restarts times (1; each earlier death brings the tunnel down and up
 * again). ready_fd >= 0 (owned: closed once answered) receives "ok\n" once everything is up,
 * or is closed without it when the bring-up fails and nothing is left configured. Errors and the lifecycle lines
 * (starting, up, awgd exited, up again, down) are printed to stderr, one write each. Returns
 * the exit status.
 */
int awg_tunnel_run(struct awg_tunnel *t, int ready_fd);

/*
 * Stops the tunnel name: signals its awg-tunnel and waits for it, or, when that process is gone
 * (killed), removes what it left (interface, policy rules, state). 0, or 1 when nothing of it
 * was found (reported).
 */
int awg_tunnel_down(const char *name);

#endif /* _AWG_TUNNEL_SERVICE_H */
