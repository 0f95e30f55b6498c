/* SPDX-License-Identifier: MIT */
/*
 * The manager's side of manager.sock: accepting clients, framing (include/awg/manager-proto.h),
 * per-client bounded output queues, deferred replies and event broadcast. It decodes requests
 * and hands them to the manager; it decides nothing about what a request may do.
 */
#ifndef _AWG_MANAGER_SERVER_H
#define _AWG_MANAGER_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "awg/manager-proto.h"
#include "loop.h"

/* Bounds that keep one client from holding more than a few MiB of the manager's memory. */
#define AWG_SERVER_CLIENTS_MAX		1024
#define AWG_SERVER_CLIENTS_PER_UID	64	/* root is not limited */
#define AWG_SERVER_QUEUE_FRAMES		128
/* One client's queue holds at least one frame of the largest size. */
#define AWG_SERVER_QUEUE_BYTES		(2u << 20)
/* All queues together: the hard bound on what clients can make the manager hold. */
#define AWG_SERVER_QUEUE_TOTAL		(64u << 20)
/* Larger requests (only Create carries a big config) are read only from admins. */
#define AWG_SERVER_SMALL_FRAME		(64u << 10)

struct awg_server;

struct awg_server_client {
	uint64_t id;			/* never reused: deferred replies refer to it */
	uid_t uid;
	pid_t pid;
	bool subscribed;
	/* private to server.c */
	struct awg_server_client *next, *prev;
	struct awg_server *srv;
	struct awg_watch watch;
	int fd;
	bool parked;			/* a reply is deferred: no more requests are read */
	bool hangup;			/* disconnect once the queue is sent */
	bool dead;			/* disconnected; freed by awg_server_reap() */
	bool writing;			/* EPOLLOUT armed */
	uint8_t head[4];
	size_t head_len;
	uint8_t *in;			/* the frame being read, length word included */
	size_t in_len, in_need;
	struct frame *q_head, *q_tail;
	size_t q_frames, q_bytes;
	size_t q_fds;			/* queued frames carrying a descriptor (at most 1) */
};

struct awg_server_ops {
	/*
	 * A decoded request. The handler answers with awg_server_reply now, or parks the client
	 * (awg_server_park) and answers later through awg_server_reply_to. req is freed after
	 * the call.
	 */
	void (*request)(void *ctx, struct awg_server_client *c, struct awg_mgr_msg *req);
	/* Role check for a large frame before it is read (true = admin). */
	bool (*may_send_large)(void *ctx, uid_t uid);
	/* Whether an event may go to this client (UpdateProgress: admins only). */
	bool (*may_receive)(void *ctx, const struct awg_server_client *c, unsigned event);
	/* For the log: "client pid 123 uid 1000: closed: malformed request". */
	void (*log)(void *ctx, const char *msg);
};

/*
 * Creates run_dir (root-owned, 0755, not a symlink), takes run_dir/manager.lock (-EBUSY when
 * another manager holds it), binds run_dir/manager.sock (mode 0666: every caller is
 * authorised per request) and adds it to epfd.
 */
int awg_server_open(struct awg_server **out, const char *run_dir, int epfd,
		    const struct awg_server_ops *ops, void *ctx, const char **why);
/* Closes every client and the socket, removes the socket file. */
void awg_server_close(struct awg_server *s);

/*
 * Queues a reply (kind, code and seq already set) and, with fd >= 0, a descriptor passed with
 * it (dup'ed; the caller keeps its own). Disconnects the client when its queue is full.
 */
void awg_server_reply(struct awg_server_client *c, const struct awg_mgr_msg *reply, int fd);
/* Sends a reply to a parked client identified by id (gone: ignored) and unparks it. */
void awg_server_reply_to(struct awg_server *s, uint64_t id, const struct awg_mgr_msg *reply);
void awg_server_park(struct awg_server_client *c);
/* Reads no more requests from c and disconnects it once what is queued has been sent. */
void awg_server_hangup(struct awg_server_client *c);
/*
 * Frees the clients disconnected since the last call. The event loop calls it after each
 * batch: until then a disconnected client's struct stays valid (c->dead set), so handlers and
 * pending events never touch freed memory.
 */
void awg_server_reap(struct awg_server *s);
/* An error reply: status (positive errno) and a sentence. */
void awg_server_error(struct awg_server_client *c, const struct awg_mgr_msg *req,
		      uint32_t status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Sends an event to every subscribed client that may receive it. */
void awg_server_broadcast(struct awg_server *s, const struct awg_mgr_msg *ev);
/* Whether the client with this id is still connected. */
bool awg_server_has(struct awg_server *s, uint64_t id);
/* The number of connected clients. */
size_t awg_server_clients(const struct awg_server *s);
/* Flushes what it can of every queue without blocking longer than ms (shutdown). */
void awg_server_flush(struct awg_server *s, int ms);

#endif /* _AWG_MANAGER_SERVER_H */
