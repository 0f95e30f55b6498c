// SPDX-License-Identifier: MIT
/* Owns the UAPI listening sockets, the client connections and their buffers. */
#include "ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"

void awg_ipc_init(struct awg_ipc *ipc, awg_ipc_handler handler, void *ctx)
{
	memset(ipc, 0, sizeof(*ipc));
	ipc->handler = handler;
	ipc->ctx = ctx;
}

static int add_listener(struct awg_ipc *ipc, int fd, const char *path)
{
	if (ipc->n_listen == AWG_IPC_MAX_LISTEN)
		return -ENOSPC;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	ipc->listen_fd[ipc->n_listen] = fd;
	snprintf(ipc->path[ipc->n_listen], sizeof(ipc->path[0]), "%s", path);
	ipc->n_listen++;
	return 0;
}

/* True when something accepts connections on path (a live daemon owns it). */
static bool socket_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return alive;
}

int awg_ipc_listen_path(struct awg_ipc *ipc, const char *dir, const char *ifname)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old_umask;
	int fd, ret;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock", dir, ifname) >=
	    sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	if (socket_alive(&sun))
		return -EADDRINUSE;
	unlink(sun.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The socket file is created by bind(): root-only from birth, no chmod window. */
	old_umask = umask(077);
	ret = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
	umask(old_umask);
	if (ret == 0 && listen(fd, 16) < 0)
		ret = -errno;
	if (ret == 0)
		ret = add_listener(ipc, fd, sun.sun_path);
	if (ret < 0) {
		close(fd);
		unlink(sun.sun_path);
	}
	return ret;
}

int awg_ipc_listen_fd(struct awg_ipc *ipc, int fd)
{
	return add_listener(ipc, fd, "");
}

void awg_ipc_conn_free(struct awg_ipc *ipc, struct awg_ipc_conn *conn)
{
	for (unsigned i = 0; i < AWG_IPC_MAX_CONNS; i++)
		if (ipc->conns[i] == conn)
			ipc->conns[i] = NULL;
	close(conn->fd);
	/* Requests and replies carry keys. */
	if (conn->in)
		awg_wipe(conn->in, conn->in_cap);
	if (conn->out)
		awg_wipe(conn->out, conn->out_len);
	free(conn->in);
	free(conn->out);
	free(conn);
}

void awg_ipc_close(struct awg_ipc *ipc)
{
	for (unsigned i = 0; i < AWG_IPC_MAX_CONNS; i++)
		if (ipc->conns[i])
			awg_ipc_conn_free(ipc, ipc->conns[i]);
	for (unsigned i = 0; i < ipc->n_listen; i++) {
		close(ipc->listen_fd[i]);
		if (ipc->path[i][0])
			unlink(ipc->path[i]);
	}
	ipc->n_listen = 0;
}

void awg_ipc_accept(struct awg_ipc *ipc, unsigned i,
		    void (*cb)(void *ctx, struct awg_ipc_conn *conn), void *cb_ctx)
{
	for (;;) {
		int fd = accept4(ipc->listen_fd[i], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct awg_ipc_conn *conn;
		unsigned slot;

		if (fd < 0)
			return;
		for (slot = 0; slot < AWG_IPC_MAX_CONNS && ipc->conns[slot]; slot++)
			;
		conn = slot < AWG_IPC_MAX_CONNS ? calloc(1, sizeof(*conn)) : NULL;
		if (!conn) {
			awg_err("UAPI: refusing a client: too many connections");
			close(fd);
			continue;
		}
		conn->fd = fd;
		ipc->conns[slot] = conn;
		cb(cb_ctx, conn);
	}
}

static int grow(char **buf, size_t *cap, size_t need)
{
	size_t cap2 = *cap ? *cap : 4096;
	char *p;

	while (cap2 < need)
		cap2 *= 2;
	if (cap2 == *cap)
		return 0;
	p = malloc(cap2);
	if (!p)
		return -ENOMEM;
	if (*buf) {
		memcpy(p, *buf, *cap);
		awg_wipe(*buf, *cap);
		free(*buf);
	}
	*buf = p;
	*cap = cap2;
	return 0;
}

/* Replaces conn->out (exactly out_len bytes) by its unsent part followed by reply. */
static int append_reply(struct awg_ipc_conn *conn, const char *reply, size_t len)
{
	char *p = malloc(conn->out_len - conn->out_off + len);

	if (!p)
		return -ENOMEM;
	memcpy(p, conn->out + conn->out_off, conn->out_len - conn->out_off);
	memcpy(p + conn->out_len - conn->out_off, reply, len);
	if (conn->out) {
		awg_wipe(conn->out, conn->out_len);
		free(conn->out);
	}
	conn->out = p;
	conn->out_len = conn->out_len - conn->out_off + len;
	conn->out_off = 0;
	return 0;
}

static void reply_errno(struct awg_ipc_conn *conn, int err)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "errno=%d\n\n", err);

	append_reply(conn, line, (size_t)n);
}

/* Frames and answers every complete request in conn->in. Returns -1 to close. */
static int process(struct awg_ipc *ipc, struct awg_ipc_conn *conn)
{
	size_t used = 0;
	int ret = 0;

	while (!conn->close_after_write && used < conn->in_len) {
		struct awg_uapi_request req;
		char *reply = NULL;
		size_t reply_len = 0;
		int r = awg_uapi_frame(conn->in + used, conn->in_len - used, &req);

		if (r == 0)
			break;
		if (r == -EPROTO) {
			/* amneziawg-go closes without answering an unknown operation. */
			ret = -1;
			break;
		}
		if (r < 0) {
			reply_errno(conn, r);
			conn->close_after_write = true;
			break;
		}
		ipc->handler(ipc->ctx, req.op,
			     req.op == AWG_UAPI_OP_SET ? conn->in + used + req.payload_off : NULL,
			     req.payload_len, &reply, &reply_len);
		used += req.total_len;
		if (!reply) {
			ret = -1;
			break;
		}
		r = append_reply(conn, reply, reply_len);
		awg_wipe(reply, reply_len);
		free(reply);
		if (r < 0) {
			ret = -1;
			break;
		}
	}
	if (used) {
		memmove(conn->in, conn->in + used, conn->in_len - used);
		awg_wipe(conn->in + conn->in_len - used, used);
		conn->in_len -= used;
	}
	return ret;
}

int awg_ipc_conn_output(struct awg_ipc *ipc, struct awg_ipc_conn *conn)
{
	(void)ipc;
	while (conn->out_off < conn->out_len) {
		ssize_t n = send(conn->fd, conn->out + conn->out_off, conn->out_len - conn->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n <= 0)
			return -1;
		conn->out_off += (size_t)n;
	}
	return conn->close_after_write ? -1 : 0;
}

int awg_ipc_conn_input(struct awg_ipc *ipc, struct awg_ipc_conn *conn)
{
	bool eof = false;

	for (;;) {
		ssize_t n;

		if (conn->in_len == conn->in_cap &&
		    (conn->in_len >= AWG_IPC_MAX_REQUEST ||
		     grow(&conn->in, &conn->in_cap, conn->in_len + 1) < 0))
			return -1;
		n = recv(conn->fd, conn->in + conn->in_len, conn->in_cap - conn->in_len,
			 MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			eof = true;
			break;
		}
		conn->in_len += (size_t)n;
	}
	if (process(ipc, conn) < 0)
		return -1;
	/*
	 * amneziawg-go treats EOF as the end of a set: a client that closes without the blank
	 * line still gets its request applied (see spec §3.2 on AdvancedSecurity).
	 */
	if (eof && conn->in_len && !conn->close_after_write) {
		if (grow(&conn->in, &conn->in_cap, conn->in_len + 2) == 0) {
			if (conn->in[conn->in_len - 1] != '\n')
				conn->in[conn->in_len++] = '\n';
			conn->in[conn->in_len++] = '\n';
			process(ipc, conn);
		}
	}
	if (eof) {
		conn->close_after_write = true;
		return awg_ipc_conn_output(ipc, conn) == 1 ? 1 : -1;
	}
	return awg_ipc_conn_output(ipc, conn);
}
