// SPDX-License-Identifier: MIT
/* Owns manager.sock and its client connections: framing, output queues, deferred replies. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto.h"
#include "server.h"

/* One queued outgoing frame; fd (or -1) travels as SCM_RIGHTS with its first byte. */
struct frame {
	struct frame *next;
	size_t len, off;
	int fd;
	uint8_t data[];
};

struct awg_server {
	struct awg_watch watch;
	int epfd, fd, dirfd, lockfd;
	int spare_fd;			/* given up to accept-and-close when out of descriptors */
	const struct awg_server_ops *ops;
	void *ctx;
	struct awg_server_client *clients;
	/*
	 * Disconnected clients wait here until awg_server_reap(): a handler, a broadcast or a
	 * later event of the same epoll batch may still hold a pointer to one.
	 */
	struct awg_server_client *dead;
	size_t n_clients;
	size_t q_bytes;			/* queued bytes over all clients */
	uint64_t next_id;
};

int awg_loop_add(int epfd, int fd, uint32_t events, struct awg_watch *w)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int awg_loop_mod(int epfd, int fd, uint32_t events, struct awg_watch *w)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void awg_loop_del(int epfd, int fd)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}

__attribute__((format(printf, 2, 3)))
static void slog(struct awg_server *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!s->ops->log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s->ops->log(s->ctx, buf);
}

static void frame_free(struct frame *f)
{
	if (f->fd >= 0)
		close(f->fd);
	/* Replies may carry a config with keys (admins' StoredConfig). */
	awg_wipe(f->data, f->len);
	free(f);
}

/*
 * Disconnects c: its socket, queue and input go now, the struct stays (marked dead, off the
 * client list) until awg_server_reap(), so every pointer to it stays valid until then.
 */
static void client_kill(struct awg_server_client *c)
{
	struct awg_server *s = c->srv;
	struct frame *f;

	if (c->dead)
		return;
	c->dead = true;
	awg_loop_del(s->epfd, c->fd);
	close(c->fd);
	c->fd = -1;
	while ((f = c->q_head)) {
		c->q_head = f->next;
		s->q_bytes -= f->len;
		frame_free(f);
	}
	c->q_tail = NULL;
	c->q_frames = c->q_bytes = c->q_fds = 0;
	if (c->in) {
		awg_wipe(c->in, c->in_len);
		free(c->in);
		c->in = NULL;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_clients--;
	c->prev = NULL;
	c->next = s->dead;
	s->dead = c;
}

void awg_server_reap(struct awg_server *s)
{
	struct awg_server_client *c;

	while ((c = s->dead)) {
		s->dead = c->next;
		free(c);
	}
}

static void drop(struct awg_server_client *c, const char *why)
{
	if (c->dead)
		return;
	slog(c->srv, "client pid %ld uid %u: disconnected: %s", (long)c->pid, (unsigned)c->uid, why);
	client_kill(c);
}

static void arm(struct awg_server_client *c)
{
	uint32_t ev = (c->parked || c->hangup ? 0 : EPOLLIN) | (c->q_head ? EPOLLOUT : 0);

	if (c->dead)
		return;

	awg_loop_mod(c->srv->epfd, c->fd, ev | EPOLLRDHUP, &c->watch);
	c->writing = c->q_head != NULL;
}

/* Writes queued frames until the socket is full. false when the client is gone (freed). */
static bool flush(struct awg_server_client *c)
{
	struct frame *f;

	if (c->dead)
		return false;
	while ((f = c->q_head)) {
		struct iovec iov = { f->data + f->off, f->len - f->off };
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int))];
		} u;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (f->fd >= 0 && f->off == 0) {
			struct cmsghdr *cm;

			memset(&u, 0, sizeof(u));
			mh.msg_control = u.buf;
			mh.msg_controllen = sizeof(u.buf);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &f->fd, sizeof(int));
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			drop(c, strerror(errno));
			return false;
		}
		if (f->fd >= 0) {
			close(f->fd);
			f->fd = -1;
			c->q_fds--;
		}
		f->off += (size_t)n;
		if (f->off < f->len)
			break;
		c->q_head = f->next;
		if (!c->q_head)
			c->q_tail = NULL;
		c->q_frames--;
		c->q_bytes -= f->len;
		c->srv->q_bytes -= f->len;
		frame_free(f);
	}
	if (c->hangup && !c->q_head) {
		client_kill(c);
		return false;
	}
	if ((c->q_head != NULL) != c->writing)
		arm(c);
	return true;
}

/* Queues an encoded frame (ownership passes). false when the client was dropped. */
static bool enqueue(struct awg_server_client *c, uint8_t *buf, size_t len, int fd)
{
	struct awg_server *s = c->srv;
	const char *why = NULL;
	struct frame *f;

	if (c->dead)
		why = "";
	else if (c->q_frames >= AWG_SERVER_QUEUE_FRAMES || c->q_bytes + len > AWG_SERVER_QUEUE_BYTES)
		why = "it does not read what it is sent (queue full)";
	else if (s->q_bytes + len > AWG_SERVER_QUEUE_TOTAL)
		why = "the manager's output buffers are full";
	else if (fd >= 0 && c->q_fds)
		why = "it does not collect the descriptors it asks for";
	if (why) {
		awg_wipe(buf, len);
		free(buf);
		drop(c, why);
		return false;
	}
	f = malloc(sizeof(*f) + len);
	if (!f) {
		awg_wipe(buf, len);
		free(buf);
		drop(c, "out of memory");
		return false;
	}
	f->next = NULL;
	f->len = len;
	f->off = 0;
	f->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
	c->q_fds += f->fd >= 0;
	memcpy(f->data, buf, len);
	awg_wipe(buf, len);
	free(buf);
	if (c->q_tail)
		c->q_tail->next = f;
	else
		c->q_head = f;
	c->q_tail = f;
	c->q_frames++;
	c->q_bytes += len;
	s->q_bytes += len;
	return flush(c);
}

static bool send_msg(struct awg_server_client *c, const struct awg_mgr_msg *m, int fd)
{
	uint8_t *buf;
	size_t len;
	int ret = awg_mgr_encode(m, &buf, &len);

	if (ret == -E2BIG && m->kind == AWG_MGR_REPLY) {
		struct awg_mgr_msg e = { .kind = m->kind, .code = m->code, .seq = m->seq,
					 .status = E2BIG };

		snprintf(e.error, sizeof(e.error), "the answer is larger than the protocol allows");
		ret = awg_mgr_encode(&e, &buf, &len);
	}
	if (ret < 0) {
		drop(c, "cannot encode a reply");
		return false;
	}
	return enqueue(c, buf, len, fd);
}

void awg_server_reply(struct awg_server_client *c, const struct awg_mgr_msg *reply, int fd)
{
	send_msg(c, reply, fd);
}

void awg_server_error(struct awg_server_client *c, const struct awg_mgr_msg *req, uint32_t status,
		      const char *fmt, ...)
{
	struct awg_mgr_msg m = { .kind = AWG_MGR_REPLY, .code = req->code, .seq = req->seq,
				 .status = status };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m.error, sizeof(m.error), fmt, ap);
	va_end(ap);
	send_msg(c, &m, -1);
}

void awg_server_park(struct awg_server_client *c)
{
	c->parked = true;
	arm(c);
}

void awg_server_hangup(struct awg_server_client *c)
{
	if (c->dead)
		return;
	c->hangup = true;
	if (!c->q_head)
		client_kill(c);
	else
		arm(c);
}

static struct awg_server_client *find(struct awg_server *s, uint64_t id)
{
	for (struct awg_server_client *c = s->clients; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

void awg_server_reply_to(struct awg_server *s, uint64_t id, const struct awg_mgr_msg *reply)
{
	struct awg_server_client *c = find(s, id);

	if (!c)
		return;
	c->parked = false;
	if (!send_msg(c, reply, -1))
		return;
	/*
	 * Requests sent while it was parked wait in the socket (frames are read exactly), so
	 * the level-triggered EPOLLIN picks them up in the next loop pass. Reading them here
	 * would run handlers inside whatever callback is replying.
	 */
	arm(c);
}

void awg_server_broadcast(struct awg_server *s, const struct awg_mgr_msg *ev)
{
	struct awg_server_client *c = s->clients, *next;
	uint8_t *buf;
	size_t len;

	if (awg_mgr_encode(ev, &buf, &len) < 0)
		return;
	for (; c; c = next) {
		uint8_t *copy;

		next = c->next;
		if (!c->subscribed || !s->ops->may_receive(s->ctx, c, ev->code))
			continue;
		copy = malloc(len);
		if (!copy)
			continue;
		memcpy(copy, buf, len);
		enqueue(c, copy, len, -1);
	}
	free(buf);
}

/* One complete frame in c->in: decode and dispatch. false when the client is gone. */
static bool dispatch(struct awg_server_client *c)
{
	struct awg_server *s = c->srv;
	struct awg_mgr_msg m;
	int ret = awg_mgr_decode(&m, c->in, c->in_len);

	awg_wipe(c->in, c->in_len);
	free(c->in);
	c->in = NULL;
	c->in_len = c->in_need = 0;
	c->head_len = 0;
	if (ret < 0 || m.kind != AWG_MGR_REQUEST) {
		awg_mgr_msg_free(&m);
		drop(c, ret == -ENOMEM ? "out of memory" : "malformed request");
		return false;
	}
	s->ops->request(s->ctx, c, &m);
	awg_mgr_msg_free(&m);
	return !c->dead;
}

/* Reads and dispatches frames until the socket is empty or the client parks or goes. */
static void read_requests(struct awg_server_client *c)
{
	struct awg_server *s = c->srv;

	while (!c->parked && !c->hangup && !c->dead) {
		ssize_t n;

		if (c->head_len < 4) {
			n = recv(c->fd, c->head + c->head_len, 4 - c->head_len, MSG_DONTWAIT);
		} else {
			n = recv(c->fd, c->in + c->in_len, c->in_need - c->in_len, MSG_DONTWAIT);
		}
		if (n == 0) {
			client_kill(c);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			drop(c, strerror(errno));
			return;
		}
		if (c->head_len < 4) {
			c->head_len += (size_t)n;
			if (c->head_len < 4)
				continue;
			c->in_need = awg_mgr_frame_len(c->head);
			if (!c->in_need) {
				drop(c, "malformed request (frame length)");
				return;
			}
			if (c->in_need > AWG_SERVER_SMALL_FRAME &&
			    !s->ops->may_send_large(s->ctx, c->uid)) {
				drop(c, "request too large for its role");
				return;
			}
			c->in = malloc(c->in_need);
			if (!c->in) {
				drop(c, "out of memory");
				return;
			}
			memcpy(c->in, c->head, 4);
			c->in_len = 4;
			continue;
		}
		c->in_len += (size_t)n;
		if (c->in_len == c->in_need && !dispatch(c))
			return;
	}
}

static void client_event(struct awg_watch *w, uint32_t events)
{
	struct awg_server_client *c = awg_container_of(w, struct awg_server_client, watch);

	/* Killed earlier in this epoll batch: the struct is still there, the socket is not. */
	if (c->dead)
		return;
	if (events & EPOLLOUT && !flush(c))
		return;
	/* A parked client that hangs up cannot read its deferred reply any more. */
	if ((c->parked || c->hangup) && events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		client_kill(c);
	else if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		read_requests(c);
}

static size_t count_uid(const struct awg_server *s, uid_t uid)
{
	size_t n = 0;

	for (const struct awg_server_client *c = s->clients; c; c = c->next)
		n += c->uid == uid;
	return n;
}

static void accept_event(struct awg_watch *w, uint32_t events)
{
	struct awg_server *s = awg_container_of(w, struct awg_server, watch);

	(void)events;
	for (;;) {
		struct awg_server_client *c;
		struct ucred cred;
		socklen_t len = sizeof(cred);
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && (errno == EMFILE || errno == ENFILE) && s->spare_fd >= 0) {
			/* Out of descriptors: take the pending client off the backlog with the
			 * spare one and close it, or the readable listener would spin the loop. */
			close(s->spare_fd);
			fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				close(fd);
			s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			slog(s, "out of file descriptors: refused a client");
			return;
		}
		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(fd);
			continue;
		}
		if (s->n_clients >= AWG_SERVER_CLIENTS_MAX ||
		    (cred.uid != 0 && count_uid(s, cred.uid) >= AWG_SERVER_CLIENTS_PER_UID)) {
			slog(s, "client pid %ld uid %u: refused: too many connections",
			     (long)cred.pid, (unsigned)cred.uid);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->id = ++s->next_id;
		c->uid = cred.uid;
		c->pid = cred.pid;
		c->srv = s;
		c->fd = fd;
		c->watch.fn = client_event;
		if (awg_loop_add(s->epfd, fd, EPOLLIN | EPOLLRDHUP, &c->watch) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->clients;
		if (s->clients)
			s->clients->prev = c;
		s->clients = c;
		s->n_clients++;
	}
}

/* run_dir: created if missing, must be a root-owned directory (not a symlink), mode 0755. */
static int open_run_dir(const char *run_dir, const char **why)
{
	struct stat st;
	int fd;

	if (mkdir(run_dir, 0755) < 0 && errno != EEXIST) {
		*why = "cannot create the run directory";
		return -errno;
	}
	fd = open(run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		*why = errno == ELOOP || errno == ENOTDIR ? "the run directory is not a directory "
							      "(a symlink?)" :
							    "cannot open the run directory";
		return -errno;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid()) {
		*why = "the run directory is owned by someone else";
		close(fd);
		return -EPERM;
	}
	if ((st.st_mode & 07777) != 0755 && fchmod(fd, 0755) < 0) {
		*why = "cannot set the run directory's mode";
		close(fd);
		return -errno;
	}
	return fd;
}

int awg_server_open(struct awg_server **out, const char *run_dir, int epfd,
		    const struct awg_server_ops *ops, void *ctx, const char **why)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct awg_server *s = calloc(1, sizeof(*s));
	mode_t old;
	int ret;

	if (!s)
		return -ENOMEM;
	s->fd = s->lockfd = -1;
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->epfd = epfd;
	s->ops = ops;
	s->ctx = ctx;
	s->watch.fn = accept_event;
	s->dirfd = open_run_dir(run_dir, why);
	if (s->dirfd < 0) {
		ret = s->dirfd;
		goto fail;
	}
	s->lockfd = openat(s->dirfd, "manager.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			   0600);
	if (s->lockfd < 0 || flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		*why = ret == -EBUSY ? "another awg-manager is running" :
				       "cannot open the manager lock";
		goto fail;
	}
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/manager.sock", run_dir) >=
	    sizeof(sun.sun_path)) {
		*why = "the run directory's path is too long for a socket";
		ret = -ENAMETOOLONG;
		goto fail;
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		ret = -errno;
		*why = "cannot create the socket";
		goto fail;
	}
	/* We hold the lock, so a socket file there is a dead manager's. */
	unlinkat(s->dirfd, "manager.sock", 0);
	old = umask(077);
	ret = bind(s->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
	umask(old);
	if (!ret && fchmodat(s->dirfd, "manager.sock", 0666, 0) < 0)
		ret = -errno;
	if (!ret && listen(s->fd, SOMAXCONN) < 0)
		ret = -errno;
	if (!ret)
		ret = awg_loop_add(epfd, s->fd, EPOLLIN, &s->watch);
	if (ret) {
		*why = "cannot listen on the socket";
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->fd >= 0)
		close(s->fd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	free(s);
	return ret;
}

bool awg_server_has(struct awg_server *s, uint64_t id)
{
	return find(s, id) != NULL;
}

size_t awg_server_clients(const struct awg_server *s)
{
	return s->n_clients;
}

void awg_server_flush(struct awg_server *s, int ms)
{
	for (int waited = 0; waited < ms; waited += 10) {
		struct awg_server_client *c, *next;
		bool pending = false;

		for (c = s->clients; c; c = next) {
			next = c->next;
			if (c->q_head && flush(c))
				pending |= c->q_head != NULL;
		}
		if (!pending)
			return;
		poll(NULL, 0, 10);
	}
}

void awg_server_close(struct awg_server *s)
{
	if (!s)
		return;
	while (s->clients)
		client_kill(s->clients);
	awg_server_reap(s);
	awg_loop_del(s->epfd, s->fd);
	close(s->fd);
	unlinkat(s->dirfd, "manager.sock", 0);
	close(s->lockfd);
	close(s->dirfd);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	free(s);
}
