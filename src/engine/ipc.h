/* SPDX-License-Identifier: MIT */
/*
 * awgd's UAPI endpoint: the listening Unix sockets (/var/run/amneziawg/<if>.sock, optionally
 * /var/run/wireguard/<if>.sock for Debian's wg) and their client connections, with request
 * framing and buffered, non-blocking replies. What a request means is the engine's business
 * (a callback); this file only moves bytes.
 */
#ifndef _AWG_ENGINE_IPC_H
#define _AWG_ENGINE_IPC_H

#include <stdbool.h>
#include <stddef.h>

#include "uapi.h"

#define AWG_IPC_MAX_LISTEN 2
#define AWG_IPC_MAX_CONNS 64
/* A request larger than this ends the connection (a set for 65536 peers fits comfortably). */
#define AWG_IPC_MAX_REQUEST (64u << 20)

struct awg_ipc_conn {
	int fd;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off;
	bool close_after_write;
};

/*
 * Handles one framed request; writes an owned reply into *reply (NULL + 0 = close without
 * answering). payload is the set payload (NULL for get).
 */
typedef void (*awg_ipc_handler)(void *ctx, enum awg_uapi_op op, const char *payload,
				size_t len, char **reply, size_t *reply_len);

struct awg_ipc {
	int listen_fd[AWG_IPC_MAX_LISTEN];
	char path[AWG_IPC_MAX_LISTEN][108];	/* unlinked on close; "" for inherited fds */
	unsigned n_listen;
	struct awg_ipc_conn *conns[AWG_IPC_MAX_CONNS];
	awg_ipc_handler handler;
	void *ctx;
};

void awg_ipc_init(struct awg_ipc *ipc, awg_ipc_handler handler, void *ctx);
/*
 * Creates dir (0755) if needed and listens on dir/<ifname>.sock (mode 0600 via umask 077).
 * A stale socket nobody answers on is replaced; a live one is -EADDRINUSE. 0/-errno.
 */
int awg_ipc_listen_path(struct awg_ipc *ipc, const char *dir, const char *ifname);
/* Listens on an inherited socket (WG_UAPI_FD). */
int awg_ipc_listen_fd(struct awg_ipc *ipc, int fd);
void awg_ipc_close(struct awg_ipc *ipc);

/* Accepts pending clients on listener i; returns the new connections through cb. */
void awg_ipc_accept(struct awg_ipc *ipc, unsigned i,
		    void (*cb)(void *ctx, struct awg_ipc_conn *conn), void *cb_ctx);
/*
 * Reads what conn has sent and answers every complete request. Returns 1 when replies are
 * still pending (wait for writability), 0 when idle, -1 when the connection is finished (the
 * caller must call awg_ipc_conn_free).
 */
int awg_ipc_conn_input(struct awg_ipc *ipc, struct awg_ipc_conn *conn);
/* Writes pending replies; same return values as awg_ipc_conn_input. */
int awg_ipc_conn_output(struct awg_ipc *ipc, struct awg_ipc_conn *conn);
void awg_ipc_conn_free(struct awg_ipc *ipc, struct awg_ipc_conn *conn);

#endif /* _AWG_ENGINE_IPC_H */
