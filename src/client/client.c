// SPDX-License-Identifier: MIT
// libawgclient: the client side of the awg-manager socket (framing, seq matching, event queue).
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "client.h"
#include "crypto.h"

/* Descriptors one recvmsg may carry before the kernel truncates; more than one is an error. */
#define RX_FDS_MAX 4

const char *awg_client_socket_path(const char *path)
{
	const char *env;

	if (path)
		return path;
	env = getenv(AWG_CLIENT_SOCKET_ENV);
	return env && *env ? env : AWG_MGR_SOCKET_PATH;
}

static void rx_reset(struct awg_client *c)
{
	if (c->rx)
		awg_wipe(c->rx, c->rx_len);
	c->rx_len = 0;
	c->rx_need = 4;
	if (c->rx_fd >= 0)
		close(c->rx_fd);
	c->rx_fd = -1;
}

int awg_client_connect(struct awg_client *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ret;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->rx_fd = -1;
	c->rx_need = 4;
	c->next_seq = 1;
	path = awg_client_socket_path(path);
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(c->fd);
		c->fd = -1;
		return ret;
	}
	return 0;
}

void awg_client_close(struct awg_client *c)
{
	while (c->q_len) {
		awg_mgr_msg_free(&c->queue[c->q_head]);
		c->q_head = (c->q_head + 1) % AWG_CLIENT_QUEUE_MAX;
		c->q_len--;
	}
	if (c->rx) {
		rx_reset(c);
		free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int awg_client_fd(const struct awg_client *c)
{
	return c->fd;
}

/* Records the first fatal error; the stream is beyond repair from here on. */
static int fail(struct awg_client *c, int err)
{
	if (!c->broken)
		c->broken = err;
	return c->broken;
}

/* Takes the descriptors of one recvmsg: one per frame is kept in rx_fd, any other is an error. */
static int take_fds(struct awg_client *c, struct msghdr *mh)
{
	int ret = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;
		int fds[RX_FDS_MAX];

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
		for (size_t i = 0; i < n; i++) {
			if (c->rx_fd < 0 && !ret) {
				c->rx_fd = fds[i];
			} else {
				close(fds[i]);
				ret = -EPROTO;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		ret = -EPROTO;
	return ret;
}

/*
 * Reads into the frame buffer, never past the current frame, so a descriptor always belongs
 * to the frame whose bytes came with it. 0 (maybe nothing read: EAGAIN) or -errno.
 */
static int recv_some(struct awg_client *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * RX_FDS_MAX)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { c->rx + c->rx_len, c->rx_need - c->rx_len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;
	int ret;

	do
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	ret = take_fds(c, &mh);
	if (ret)
		return ret;
	if (n == 0)
		return -ECONNRESET;
	c->rx_len += (size_t)n;
	return 0;
}

/* Once the length word is in: size the buffer for the whole frame. */
static int rx_grow(struct awg_client *c)
{
	size_t need = 4;
	uint8_t *p;

	if (c->rx_len == 4 && c->rx_need == 4) {
		need = awg_mgr_frame_len(c->rx);
		if (!need)
			return -EPROTO;
	}
	if (need > c->rx_cap) {
		/* A copy, not realloc: the old block may hold a previous frame's secrets. */
		p = malloc(need);
		if (!p)
			return -ENOMEM;
		if (c->rx) {
			memcpy(p, c->rx, c->rx_len);
			awg_wipe(c->rx, c->rx_cap);
			free(c->rx);
		}
		c->rx = p;
		c->rx_cap = need;
	}
	c->rx_need = need;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for input until the deadline (-1: none). 1 readable, 0 timed out, -errno. */
static int wait_readable(int fd, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t left;
	int n;

	for (;;) {
		left = deadline < 0 ? -1 : deadline - now_ms();
		if (deadline >= 0 && left < 0)
			left = 0;
		n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * Reads one frame and decodes it into m (always initialised; free it). 1 with *fd the
 * descriptor that came with it (or -1; the caller owns it), 0 when timeout_ms passed first (a
 * partial frame stays buffered for the next call), or -errno (fatal).
 */
static int read_frame(struct awg_client *c, struct awg_mgr_msg *m, int *fd, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int ret;

	memset(m, 0, sizeof(*m));
	*fd = -1;
	if (!c->rx) {
		ret = rx_grow(c);
		if (ret)
			return ret;
	}
	while (c->rx_len < c->rx_need) {
		ret = wait_readable(c->fd, deadline);
		if (ret <= 0)
			return ret;
		ret = recv_some(c);
		if (ret)
			return ret;
		if (c->rx_len == c->rx_need && c->rx_need == 4) {
			ret = rx_grow(c);
			if (ret)
				return ret;
		}
	}
	ret = awg_mgr_decode(m, c->rx, c->rx_len);
	*fd = c->rx_fd;
	c->rx_fd = -1;
	rx_reset(c);
	if (ret == -ENOMEM)
		goto err;
	if (ret || (m->kind != AWG_MGR_REPLY && m->kind != AWG_MGR_EVENT)) {
		ret = -EPROTO;
		goto err;
	}
	return 1;

err:
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return ret;
}

/* Moves ev into the queue; a full queue loses its oldest event. */
static void enqueue(struct awg_client *c, struct awg_mgr_msg *ev)
{
	if (c->q_len == AWG_CLIENT_QUEUE_MAX) {
		awg_mgr_msg_free(&c->queue[c->q_head]);
		c->q_head = (c->q_head + 1) % AWG_CLIENT_QUEUE_MAX;
		c->q_len--;
		c->dropped++;
	}
	c->queue[(c->q_head + c->q_len) % AWG_CLIENT_QUEUE_MAX] = *ev;
	c->q_len++;
	memset(ev, 0, sizeof(*ev));
}

static int check_ready(const struct awg_client *c)
{
	if (c->broken)
		return c->broken;
	return c->fd < 0 ? -ENOTCONN : 0;
}

static int send_request(struct awg_client *c, const struct awg_mgr_msg *req, uint32_t seq)
{
	struct awg_mgr_msg m = *req;	/* shallow: encode only reads what the pointers hold */
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	m.kind = AWG_MGR_REQUEST;
	m.seq = seq;
	ret = awg_mgr_encode(&m, &buf, &len);
	if (ret)
		return ret;	/* nothing sent: the stream is still fine */
	ret = awg_fd_send_all(c->fd, buf, len);
	awg_wipe(buf, len);
	free(buf);
	return ret ? fail(c, ret) : 0;
}

int awg_client_call(struct awg_client *c, const struct awg_mgr_msg *req, struct awg_mgr_msg *reply,
		    int *fd_out)
{
	struct awg_mgr_msg m;
	uint32_t seq;
	int fd, ret;

	memset(reply, 0, sizeof(*reply));
	if (fd_out)
		*fd_out = -1;
	ret = check_ready(c);
	if (ret)
		return ret;
	seq = c->next_seq++;
	ret = send_request(c, req, seq);
	if (ret)
		return ret;
	for (;;) {
		ret = read_frame(c, &m, &fd, -1);
		if (ret < 0) {
			awg_mgr_msg_free(&m);
			return fail(c, ret);
		}
		if (m.kind == AWG_MGR_REPLY)
			break;
		if (fd >= 0)
			close(fd);
		enqueue(c, &m);
	}
	/* Replies come strictly in order and we never have two requests outstanding. */
	if (m.seq != seq || m.code != req->code) {
		awg_mgr_msg_free(&m);
		if (fd >= 0)
			close(fd);
		return fail(c, -EPROTO);
	}
	*reply = m;
	if (fd_out)
		*fd_out = fd;
	else if (fd >= 0)
		close(fd);
	return 0;
}

int awg_client_next_event(struct awg_client *c, struct awg_mgr_msg *ev, int timeout_ms)
{
	int fd, ret;

	memset(ev, 0, sizeof(*ev));
	if (c->q_len) {
		*ev = c->queue[c->q_head];
		memset(&c->queue[c->q_head], 0, sizeof(c->queue[0]));
		c->q_head = (c->q_head + 1) % AWG_CLIENT_QUEUE_MAX;
		c->q_len--;
		return 1;
	}
	ret = check_ready(c);
	if (ret)
		return ret;
	ret = read_frame(c, ev, &fd, timeout_ms);
	if (ret <= 0) {
		awg_mgr_msg_free(ev);
		return ret < 0 ? fail(c, ret) : 0;
	}
	if (fd >= 0)
		close(fd);
	if (ev->kind != AWG_MGR_EVENT) {
		/* A reply outside a call answers nothing we asked. */
		awg_mgr_msg_free(ev);
		return fail(c, -EPROTO);
	}
	return 1;
}
