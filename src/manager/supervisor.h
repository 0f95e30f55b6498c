/* SPDX-License-Identifier: MIT */
/*
 * The embedded supervisor: one `awg-tunnel run` child per running tunnel, given its decrypted
 * config through a sealed memfd (never a file), its readiness through a pipe, and the ring log
 * as a descriptor. It tracks each child's state, restarts a failed tunnel with back-off, waits
 * for conflicting tunnels to stop before starting, and adopts tunnels a previous manager left
 * running.
 */
#ifndef _AWG_MANAGER_SUPERVISOR_H
#define _AWG_MANAGER_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "awg/manager-proto.h"

/* Restart back-off: 1 s doubling to 30 s; a tunnel that stayed up 30 s starts again at 1 s. */
#define AWG_SUP_BACKOFF_MIN_MS	1000
#define AWG_SUP_BACKOFF_MAX_MS	30000
/* A child that does not exit this long after SIGTERM gets SIGKILL. */
#define AWG_SUP_KILL_MS		15000

struct awg_sup;

struct awg_sup_ops {
	/* A tunnel's state changed (error: why it stopped, or ""). */
	void (*changed)(void *ctx, const char *name, enum awg_mgr_state state, const char *error);
	/*
	 * The config text to start name with (owned: the supervisor wipes and frees it), or
	 * -errno with why filled.
	 */
	int (*load)(void *ctx, const char *name, char **text, size_t *len, char *why, size_t whylen);
	void (*log)(void *ctx, const char *msg);
};

/*
 * tunnel_bin: the awg-tunnel executable; log_fd: the ring log, writable (dup'ed into each
 * child as fd 5), or -1.
 */
int awg_sup_new(struct awg_sup **out, int epfd, const char *tunnel_bin, int log_fd,
		const struct awg_sup_ops *ops, void *ctx);
/* Stops every child (stop_children) or leaves them running for the next manager, and frees. */
void awg_sup_free(struct awg_sup *s, bool stop_children);

/* The interface name of a tunnel: the name itself when it fits IFNAMSIZ, else awg<hash>. */
void awg_sup_ifname(const char *name, char ifname[AWG_MGR_IFNAME_MAX + 1]);

/*
 * Starts name once none of the tunnels in after[0..n) runs any more (the caller has asked them
 * to stop). Returns 0, -EALREADY when it is already starting or running.
 */
int awg_sup_start(struct awg_sup *s, const char *name, const char (*after)[AWG_MGR_NAME_MAX + 1],
		  size_t n);
/* Stops name (SIGTERM to its awg-tunnel); a stopped tunnel is left alone. */
void awg_sup_stop(struct awg_sup *s, const char *name);
/* Takes over a running awg-tunnel of a previous manager for name: true when one was found. */
bool awg_sup_adopt(struct awg_sup *s, const char *name);
/* Forgets a stopped tunnel (Delete). */
void awg_sup_forget(struct awg_sup *s, const char *name);

enum awg_mgr_state awg_sup_state(const struct awg_sup *s, const char *name, const char **error);
/* The Windows aggregate: any Starting, else any Stopping, else any Started/Unknown, else Stopped. */
enum awg_mgr_state awg_sup_global(const struct awg_sup *s);
/* True while any child runs (shutdown waits for that). */
bool awg_sup_busy(const struct awg_sup *s);
/* The running-or-starting tunnel names, for the intersection test (n written, at most max). */
size_t awg_sup_running(const struct awg_sup *s, char (*names)[AWG_MGR_NAME_MAX + 1], size_t max);

/* Timers (restarts, SIGKILL): runs what is due and returns ms until the next one, or -1. */
int awg_sup_tick(struct awg_sup *s);

#endif /* _AWG_MANAGER_SUPERVISOR_H */
