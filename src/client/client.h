/* SPDX-License-Identifier: MIT */
/*
 * libawgclient: one connection to awg-manager (include/awg/manager-proto.h) for awgctl and the
 * GTK UI. It frames, sends and matches requests with their replies, keeps events that arrive
 * while a reply is awaited in a small bounded queue, and hands over the one descriptor a reply
 * may carry (LogFd).
 *
 * A struct awg_client is used by one thread at a time; it holds no lock.
 */
#ifndef _AWG_CLIENT_H
#define _AWG_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "awg/manager-proto.h"

/* Events kept while a reply is awaited; when full the oldest is dropped (and counted). */
#define AWG_CLIENT_QUEUE_MAX 64

/* The environment variable that names the manager socket instead of AWG_MGR_SOCKET_PATH. */
#define AWG_CLIENT_SOCKET_ENV "AWG_MANAGER_SOCKET"

struct awg_client {
	int fd;				/* -1 when closed */
	uint32_t next_seq;
	/*
	 * The first transport or protocol error; once set every call returns it, because a
	 * stream with a broken frame cannot be resynchronised.
	 */
	int broken;

	/* The frame being read: rx_need is 4 until the length word is in, then the frame. */
	uint8_t *rx;			/* owned; wiped when it held a frame (configs carry keys) */
	size_t rx_len;
	size_t rx_need;
	size_t rx_cap;
	int rx_fd;			/* a descriptor that came with the frame being read, or -1 */

	/* Ring of queued events: queue[(q_head + i) % AWG_CLIENT_QUEUE_MAX], i < q_len. */
	struct awg_mgr_msg queue[AWG_CLIENT_QUEUE_MAX];
	unsigned q_head;
	unsigned q_len;
	unsigned long dropped;		/* events dropped because the queue was full */
};

/*
 * The socket path a connect with path == NULL uses: $AWG_MANAGER_SOCKET when set and not
 * empty, else AWG_MGR_SOCKET_PATH. Borrowed (the environment or a literal).
 */
const char *awg_client_socket_path(const char *path);

/*
 * Initialises c and connects to path (NULL: awg_client_socket_path(NULL)). Returns 0, or
 * -errno from socket/connect (-ENAMETOOLONG for a path that does not fit sun_path); c is then
 * closed (awg_client_close is harmless).
 */
int awg_client_connect(struct awg_client *c, const char *path);

/* Closes the socket, frees the queue and read buffer. Safe on a closed client. */
void awg_client_close(struct awg_client *c);

/* The socket, for poll() in an event loop (readable: call awg_client_next_event(c, ev, 0)). */
int awg_client_fd(const struct awg_client *c);

/*
 * Sends req (kind and seq are filled in here; code and the request fields come from req) and
 * reads frames until its reply; events read meanwhile are queued. Returns 0 with *reply
 * holding the decoded reply (look at reply->status and reply->error; free it with
 * awg_mgr_msg_free in every case), or -errno for a transport or protocol failure: -EPROTO
 * for a malformed frame or a reply that does not match (seq, code), -ECONNRESET when the
 * manager closed the connection, -EINVAL / -E2BIG when req cannot be encoded.
 * fd_out (may be NULL) receives the descriptor that came with the reply (LogFd), else -1; a
 * descriptor that came with any other frame, or when fd_out is NULL, is closed.
 */
int awg_client_call(struct awg_client *c, const struct awg_mgr_msg *req, struct awg_mgr_msg *reply,
		    int *fd_out);

/*
 * The next event, queued ones first, waiting up to timeout_ms (-1: forever, 0: do not wait).
 * Returns 1 with *ev filled (free it with awg_mgr_msg_free), 0 on timeout, or -errno as
 * awg_client_call (-EPROTO also for a reply nobody asked for).
 */
int awg_client_next_event(struct awg_client *c, struct awg_mgr_msg *ev, int timeout_ms);

#endif /* _AWG_CLIENT_H */
