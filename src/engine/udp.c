// SPDX-License-Identifier: MIT
/* Owns the interface's UDP sockets and the batched send/receive buffers. */
#include "udp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void awg_udp_init(struct awg_udp *u)
{
	u->fd4 = u->fd6 = -1;
	u->port = 0;
	u->fwmark = 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void awg_udp_close(struct awg_udp *u)
{
	close_fd(&u->fd4);
	close_fd(&u->fd6);
}

/*
 * Bursts of a whole batch must not overflow the socket queues: ask for 7 MiB each way (as
 * wireguard-go does), past rmem_max/wmem_max when we may (root), else what the sysctl allows.
 */
static void set_buffers(int fd)
{
	int size = 7 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static int open_socket(int family, uint16_t port, uint32_t mark, uint16_t *bound)
{
	struct sockaddr_in6 sa = { 0 };
	socklen_t len;
	int fd, one = 1, ret;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto err;
	if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
		goto err;
	set_buffers(fd);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&sa;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		len = sizeof(*sin);
	} else {
		sa.sin6_family = AF_INET6;
		sa.sin6_port = htons(port);
		len = sizeof(sa);
	}
	if (bind(fd, (struct sockaddr *)&sa, len) < 0)
		goto err;
	len = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		goto err;
	*bound = ntohs(sa.sin6_port);	/* sin_port and sin6_port share the offset */
	return fd;
err:
	ret = -errno;
	close(fd);
	return ret;
}

/*
 * Binds IPv4 first; with port 0 the IPv6 socket takes the port IPv4 got, retrying a few times
 * when that port happens to be taken for IPv6. A host without IPv6 keeps IPv4 only.
 */
int awg_udp_bind(struct awg_udp *u, uint16_t port)
{
	uint16_t bound4 = 0, bound6 = 0;
	int fd4, fd6 = -1;

	for (int attempt = 0; attempt < 16; attempt++) {
		fd4 = open_socket(AF_INET, port, u->fwmark, &bound4);
		if (fd4 < 0)
			return fd4;
		fd6 = open_socket(AF_INET6, bound4, u->fwmark, &bound6);
		if (fd6 >= 0 || fd6 == -EAFNOSUPPORT || port != 0)
			break;
		close(fd4);
		fd4 = -1;
	}
	if (fd4 < 0)
		return -EADDRINUSE;
	if (fd6 < 0 && fd6 != -EAFNOSUPPORT) {
		close(fd4);
		return fd6;
	}
	awg_udp_close(u);
	u->fd4 = fd4;
	u->fd6 = fd6 >= 0 ? fd6 : -1;
	u->port = bound4;
	return 0;
}

int awg_udp_set_fwmark(struct awg_udp *u, uint32_t mark)
{
	int fds[2] = { u->fd4, u->fd6 };

	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0 && setsockopt(fds[i], SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
			return -errno;
	u->fwmark = mark;
	return 0;
}

int awg_udp_batch_init(struct awg_udp_batch *b)
{
	memset(b, 0, sizeof(*b));
	/* mmap, so pages never written (large junk/trailer room) never become resident. */
	b->slots = mmap(NULL, (size_t)AWG_UDP_BATCH * AWG_UDP_SLOT, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->slots == MAP_FAILED) {
		b->slots = NULL;
		return -ENOMEM;
	}
	for (unsigned i = 0; i < AWG_UDP_BATCH; i++) {
		b->iov[i].iov_base = b->slots + (size_t)i * AWG_UDP_SLOT;
		b->iov[i].iov_len = AWG_UDP_SLOT;
		b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
		b->msgs[i].msg_hdr.msg_iovlen = 1;
		b->msgs[i].msg_hdr.msg_name = &b->addr[i];
	}
	return 0;
}

void awg_udp_batch_free(struct awg_udp_batch *b)
{
	if (b->slots)
		munmap(b->slots, (size_t)AWG_UDP_BATCH * AWG_UDP_SLOT);
	b->slots = NULL;
}

int awg_udp_recv(int fd, struct awg_udp_batch *b)
{
	int n;

	for (unsigned i = 0; i < AWG_UDP_BATCH; i++) {
		b->iov[i].iov_len = AWG_UDP_SLOT;
		b->msgs[i].msg_hdr.msg_namelen = sizeof(b->addr[i]);
	}
	n = recvmmsg(fd, b->msgs, AWG_UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	b->n = (unsigned)n;
	return n;
}

uint8_t *awg_udp_batch_data(struct awg_udp_batch *b, unsigned i, size_t *len)
{
	*len = b->msgs[i].msg_len;
	return b->iov[i].iov_base;
}

void awg_udp_batch_src(const struct awg_udp_batch *b, unsigned i, struct awg_udp_addr *src)
{
	awg_udp_addr_from_sockaddr(src, (const struct sockaddr *)&b->addr[i]);
}

bool awg_udp_queue(struct awg_udp_batch *b, const struct awg_udp_addr *dst, const uint8_t *data,
		   size_t len)
{
	unsigned i = b->n;
	socklen_t alen;

	if (i >= AWG_UDP_BATCH || len > AWG_UDP_SLOT)
		return true;
	memcpy(b->iov[i].iov_base, data, len);
	b->iov[i].iov_len = len;
	awg_udp_addr_to_sockaddr(dst, &b->addr[i], &alen);
	b->msgs[i].msg_hdr.msg_namelen = alen;
	b->n++;
	return b->n == AWG_UDP_BATCH;
}

void awg_udp_flush(int fd, struct awg_udp_batch *b)
{
	unsigned sent = 0, waits = 0;

	while (fd >= 0 && sent < b->n) {
		int n = sendmmsg(fd, b->msgs + sent, b->n - sent, MSG_DONTWAIT);
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };

		if (n > 0) {
			sent += (unsigned)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* A full send queue drains in microseconds: wait a little rather than drop. */
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waits++ < 8 &&
		    poll(&pfd, 1, 10) > 0)
			continue;
		/* The kernel refused this one (unreachable, no route): drop it, keep going. */
		sent++;
	}
	b->n = 0;
}

void awg_udp_addr_to_sockaddr(const struct awg_udp_addr *a, struct sockaddr_in6 *sa,
			      socklen_t *len)
{
	memset(sa, 0, sizeof(*sa));
	if (a->family == AWG_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)sa;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->addr, 4);
		*len = sizeof(*sin);
	} else {
		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons(a->port);
		memcpy(&sa->sin6_addr, a->addr, 16);
		*len = sizeof(*sa);
	}
}

void awg_udp_addr_from_sockaddr(struct awg_udp_addr *a, const struct sockaddr *sa)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		a->family = AWG_AF_INET;
		a->port = ntohs(sin->sin_port);
		memcpy(a->addr, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		a->family = AWG_AF_INET6;
		a->port = ntohs(sin6->sin6_port);
		memcpy(a->addr, &sin6->sin6_addr, 16);
	}
}
