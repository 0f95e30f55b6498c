/* SPDX-License-Identifier: MIT */
/*
 * The manager's shared state (struct awg_manager): the store, the ring log, the server, the
 * supervisor and the requests parked until a tunnel stops. manager.c owns its life cycle,
 * methods.c answers requests against it. Single-threaded: no locks.
 */
#ifndef _AWG_MANAGER_MANAGER_H
#define _AWG_MANAGER_MANAGER_H

#include <stdbool.h>
#include <stdint.h>

#include "authz.h"
#include "ringlog.h"
#include "server.h"
#include "store.h"
#include "supervisor.h"
#include "updater.h"

/* A WaitForStop answered once its tunnel is stopped. */
struct awg_waiter {
	struct awg_waiter *next;
	uint64_t client;
	uint32_t seq;
	char name[AWG_MGR_NAME_MAX + 1];
};

struct awg_manager {
	const char *state_dir, *run_dir, *policy_path, *updates_path;
	struct awg_store store;
	struct awg_ringlog log;
	int log_fd;			/* log.bin, read-write (handed to tunnels) */
	int epfd;
	struct awg_server *server;
	struct awg_sup *sup;
	struct awg_updater *updater;
	struct awg_waiter *waiters;
	bool quitting, quit_called, keep_tunnels, stop_on_quit;
	char (*enabled)[AWG_MGR_NAME_MAX + 1];	/* tunnels that come back at start */
	size_t n_enabled;
};

__attribute__((format(printf, 2, 3)))
void awg_manager_log(struct awg_manager *m, const char *fmt, ...);

/* Enabled set (state_dir/enabled), saved atomically after every change. */
bool awg_manager_enabled(const struct awg_manager *m, const char *name);
void awg_manager_set_enabled(struct awg_manager *m, const char *name, bool on);

/* Begins the shutdown (Quit, SIGTERM): stop_tunnels stops them, else they keep running. */
void awg_manager_quit(struct awg_manager *m, bool stop_tunnels, bool disable);

/* methods.c */
void awg_methods_request(void *ctx, struct awg_server_client *c, struct awg_mgr_msg *req);
/* A tunnel reached state: wakes its waiters and tells every subscriber. */
void awg_methods_changed(struct awg_manager *m, const char *name, enum awg_mgr_state state,
			 const char *error);
/* Parses and re-serialises a config (the store keeps only canonical text). */
int awg_methods_canon(void *ctx, const char *name, const char *text, size_t len, char **out,
		      size_t *outlen, char *why, size_t whylen);
/* Loads and checks a stored config for a start (policy on scripts). */
int awg_methods_load(void *ctx, const char *name, char **text, size_t *len, char *why,
		     size_t whylen);

#endif /* _AWG_MANAGER_MANAGER_H */
