/* SPDX-License-Identifier: MIT */
/*
 * The updater inside awg-manager: reads /etc/awg-suite/updates.conf, fetches the signify-signed
 * list (updlist.c verifies it), picks a newer package for this architecture, downloads it with
 * libcurl into a root-only cache under a random name, copies it into a sealed memfd whose
 * BLAKE2b-256 must match the list, and hands exactly that sealed file to the install command
 * (as /proc/self/fd/3), in its own session. Nothing can swap the bytes between the check and
 * the install: after sealing, not even root can write them.
 *
 * Jobs run in one worker thread (one at a time); progress reaches the main loop through a
 * pipe, so all callbacks run on the manager's thread.
 */
#ifndef _AWG_MANAGER_UPDATER_H
#define _AWG_MANAGER_UPDATER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "awg/manager-proto.h"

#define AWG_UPDATES_CONF "/etc/awg-suite/updates.conf"
#define AWG_UPD_PACKAGE_MAX (100u << 20)

struct awg_updater;

struct awg_update_progress {
	char activity[AWG_MGR_ACTIVITY_MAX + 1];
	uint64_t downloaded, total;
	char error[AWG_MGR_ERROR_MAX + 1];	/* set on failure (then complete too) */
	bool complete;
};

struct awg_updater_ops {
	void (*progress)(void *ctx, const struct awg_update_progress *p);
	/* A check found version (UpdateFound). */
	void (*found)(void *ctx, const char *version);
	void (*log)(void *ctx, const char *msg);
};

/*
 * conf_path: updates.conf; state_rootfd: the store's root (the cache is its updates/, 0700,
 * emptied here). Adds its pipe to epfd.
 */
int awg_updater_new(struct awg_updater **out, int epfd, const char *conf_path, int state_rootfd,
		    const struct awg_updater_ops *ops, void *ctx);
/* Waits for a running job to finish its current transfer step, then frees. */
void awg_updater_free(struct awg_updater *u);

enum awg_mgr_update_state awg_updater_state(const struct awg_updater *u);

/* Update: starts check + download + install. -EBUSY (one runs), -ENOTSUP (disabled), with why. */
int awg_updater_start(struct awg_updater *u, char *why, size_t whylen);

/* Periodic checks: starts one when due; returns ms until the next, or -1. */
int awg_updater_tick(struct awg_updater *u);

#endif /* _AWG_MANAGER_UPDATER_H */
