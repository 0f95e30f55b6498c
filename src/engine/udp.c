// SPDX-License-Identifier: MIT
/* Owns the interface's UDP sockets and the batched send/receive buffers. */
#include "udp.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOTS_BYTES ((size_t)AWG_UDP_BATCH * AWG_UDP_SLOT)
#define SEGS_MAX ((unsigned)AWG_UDP_BATCH * AWG_UDP_GRO_SEGS)
#define BATCH_MAP_BYTES (SLOTS_BYTES + SEGS_MAX * sizeof(struct awg_udp_seg))

void awg_udp_init(struct awg_udp *u)
{
	/* An escape hatch for drivers or middleboxes that mishandle offloaded UDP. */
	const char *off = getenv("AWG_NO_UDP_OFFLOAD");

	u->fd4 = u->fd6 = -1;
	u->port = 0;
	u->fwmark = 0;
	u->gso = u->gro = false;
	u->no_offload = off && !strcmp(off, "1");
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
 * UDP_SEGMENT exists (Linux 4.18+) when its option reads back. This gate matters: an older
 * kernel ignores the cmsg and would send a whole run as one oversized datagram.
 */
static bool detect_gso(int fd)
{
	socklen_t len;
	int val;

	len = sizeof(val);
	return getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &val, &len) == 0;
}

/* From now on the kernel may queue a run of datagrams from one sender as one buffer. */
static bool enable_gro(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0;
}

/* Fresh sockets: an offload counts only when every open socket has it. */
static void detect_offloads(struct awg_udp *u)
{
	int fds[2] = { u->fd4, u->fd6 };

	u->gso = u->gro = !u->no_offload;
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		u->gso = u->gso && detect_gso(fds[i]);
		u->gro = u->gro && enable_gro(fds[i]);
	}
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
	detect_offloads(u);
	return 0;
}

/* The bound port of a UDP socket of family, or -errno (wrong kind, family or unbound). */
static int adopted_port(int fd, int family)
{
	struct sockaddr_in6 sa = { 0 };
	socklen_t len = sizeof(sa);
	int type = 0;
	socklen_t tlen = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0)
		return -errno;
	if (type != SOCK_DGRAM)
		return -ENOTSOCK;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	if (sa.sin6_family != family || !sa.sin6_port)
		return -EINVAL;
	return ntohs(sa.sin6_port);
}

int awg_udp_adopt(struct awg_udp *u, int fd4, int fd6)
{
	int p4 = fd4 >= 0 ? adopted_port(fd4, AF_INET) : 0;
	int p6 = fd6 >= 0 ? adopted_port(fd6, AF_INET6) : 0;
	int fds[2] = { fd4, fd6 };

	if (p4 < 0 || p6 < 0)
		return p4 < 0 ? p4 : p6;
	if ((fd4 < 0 && fd6 < 0) || (p4 && p6 && p4 != p6))
		return -EINVAL;
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		if (fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK) < 0 ||
		    fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
		set_buffers(fds[i]);
	}
	awg_udp_close(u);
	u->fd4 = fd4;
	u->fd6 = fd6;
	u->port = (uint16_t)(p4 ? p4 : p6);
	u->adopted = true;
	/* The parent's mark, so that a UAPI fwmark= repeating it is no change (reading is free). */
	{
		uint32_t mark = 0;
		socklen_t ml = sizeof(mark);

		if (getsockopt(fd4 >= 0 ? fd4 : fd6, SOL_SOCKET, SO_MARK, &mark, &ml) == 0)
			u->fwmark = mark;
	}
	detect_offloads(u);
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
	/*
	 * mmap, so pages never written (large junk/trailer room, the segment table of a send
	 * batch) never become resident.
	 */
	b->slots = mmap(NULL, BATCH_MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (b->slots == MAP_FAILED) {
		b->slots = NULL;
		return -ENOMEM;
	}
	b->seg = (struct awg_udp_seg *)(b->slots + SLOTS_BYTES);
	for (unsigned i = 0; i < AWG_UDP_BATCH; i++) {
		b->iov[i].iov_base = b->slots + (size_t)i * AWG_UDP_SLOT;
		b->iov[i].iov_len = AWG_UDP_SLOT;
		b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
		b->msgs[i].msg_hdr.msg_iovlen = 1;
		b->msgs[i].msg_hdr.msg_name = &b->addr[i];
		b->msgs[i].msg_hdr.msg_control = b->ctrl[i].buf;
	}
	return 0;
}

void awg_udp_batch_free(struct awg_udp_batch *b)
{
	if (b->slots)
		munmap(b->slots, BATCH_MAP_BYTES);
	b->slots = NULL;
	b->seg = NULL;
}

/* The segment size of a GRO buffer, or 0 when the message is one plain datagram. */
static uint32_t gro_size(struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		int size;

		if (c->cmsg_level != IPPROTO_UDP || c->cmsg_type != UDP_GRO ||
		    c->cmsg_len < CMSG_LEN(sizeof(size)))
			continue;
		memcpy(&size, CMSG_DATA(c), sizeof(size));
		return size > 0 ? (uint32_t)size : 0;
	}
	return 0;
}

/* Adds the datagrams of received message i to the segment table: one, or a GRO buffer's run. */
static void split_msg(struct awg_udp_batch *b, unsigned i)
{
	uint32_t len = b->msgs[i].msg_len, size = gro_size(&b->msgs[i].msg_hdr);
	uint32_t off = i * AWG_UDP_SLOT, end = off + len;

	if (!size || size > len)
		size = len;	/* also keeps an empty datagram, as one of length 0 */
	do {
		struct awg_udp_seg *seg;

		/* Unreachable within the kernel's segment limits; else the rest is lost (UDP). */
		if (b->nseg == SEGS_MAX)
			return;
		seg = &b->seg[b->nseg++];
		seg->off = off;
		seg->len = end - off < size ? end - off : size;
		off += seg->len;
	} while (off < end);
}

int awg_udp_recv(int fd, struct awg_udp_batch *b)
{
	int n;

	for (unsigned i = 0; i < AWG_UDP_BATCH; i++) {
		b->iov[i].iov_len = AWG_UDP_SLOT;
		b->msgs[i].msg_hdr.msg_namelen = sizeof(b->addr[i]);
		b->msgs[i].msg_hdr.msg_controllen = sizeof(b->ctrl[i]);
	}
	b->n = b->nseg = 0;
	n = recvmmsg(fd, b->msgs, AWG_UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	b->n = (unsigned)n;
	for (unsigned i = 0; i < b->n; i++)
		split_msg(b, i);
	return (int)b->nseg;
}

unsigned awg_udp_batch_count(const struct awg_udp_batch *b)
{
	return b->nseg;
}

uint8_t *awg_udp_batch_data(struct awg_udp_batch *b, unsigned i, size_t *len)
{
	*len = b->seg[i].len;
	return b->slots + b->seg[i].off;
}

void awg_udp_batch_src(const struct awg_udp_batch *b, unsigned i, struct awg_udp_addr *src)
{
	unsigned msg = b->seg[i].off / AWG_UDP_SLOT;

	awg_udp_addr_from_sockaddr(src, (const struct sockaddr *)&b->addr[msg]);
}

uint8_t *awg_udp_next_slot(struct awg_udp_batch *b)
{
	return b->n < AWG_UDP_BATCH ? b->iov[b->n].iov_base : NULL;
}

bool awg_udp_queue(struct awg_udp_batch *b, const struct awg_udp_addr *dst, const uint8_t *data,
		   size_t len)
{
	unsigned i = b->n;
	socklen_t alen;

	if (i >= AWG_UDP_BATCH || len > AWG_UDP_SLOT)
		return true;
	if (data != b->iov[i].iov_base)
		memcpy(b->iov[i].iov_base, data, len);
	b->iov[i].iov_len = len;
	awg_udp_addr_to_sockaddr(dst, &b->addr[i], &alen);
	b->msgs[i].msg_hdr.msg_namelen = alen;
	b->n++;
	return b->n == AWG_UDP_BATCH;
}

static bool same_dst(const struct awg_udp_batch *b, unsigned i, unsigned j)
{
	socklen_t len = b->msgs[i].msg_hdr.msg_namelen;

	return len == b->msgs[j].msg_hdr.msg_namelen && !memcmp(&b->addr[i], &b->addr[j], len);
}

/*
 * How many queued datagrams from first on one GSO message can carry: one destination, one
 * size but for a shorter last one, within the kernel's limits. An empty datagram stays
 * alone: as a segment it would vanish.
 */
static unsigned run_len(const struct awg_udp_batch *b, unsigned first)
{
	size_t size = b->iov[first].iov_len, total = size;
	unsigned j = first + 1;

	if (!size)
		return 1;
	while (j < b->n && j - first < AWG_UDP_MAX_SEGS) {
		size_t len = b->iov[j].iov_len;

		if (!len || len > size || total + len > AWG_UDP_GSO_MAX_BYTES ||
		    !same_dst(b, first, j))
			break;
		total += len;
		j++;
		if (len < size)
			break;
	}
	return j - first;
}

/* Asks the kernel to cut a message into datagrams of size bytes. */
static void set_segment_size(struct msghdr *h, union awg_udp_cmsg *ctrl, uint16_t size)
{
	struct cmsghdr *c;

	h->msg_control = ctrl->buf;
	h->msg_controllen = CMSG_SPACE(sizeof(size));
	c = CMSG_FIRSTHDR(h);
	c->cmsg_level = IPPROTO_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(size));
	memcpy(CMSG_DATA(c), &size, sizeof(size));
}

/*
 * Fills b->tx from message at on with the queued datagrams from first on: a message per run
 * with gso, else per datagram. The iovecs of a run are adjacent already, so a message points
 * at them in place. Returns the number of messages then in b->tx.
 */
static unsigned build_tx(struct awg_udp_batch *b, unsigned at, unsigned first, bool gso)
{
	while (first < b->n) {
		unsigned segs = gso ? run_len(b, first) : 1;
		struct msghdr *h = &b->tx[at].msg_hdr;

		memset(h, 0, sizeof(*h));
		h->msg_name = &b->addr[first];
		h->msg_namelen = b->msgs[first].msg_hdr.msg_namelen;
		h->msg_iov = &b->iov[first];
		h->msg_iovlen = segs;
		if (segs > 1)
			set_segment_size(h, &b->ctrl[at], (uint16_t)b->iov[first].iov_len);
		b->tx_first[at++] = (uint8_t)first;
		first += segs;
	}
	return at;
}

/*
 * Whether a GSO message failed for being one, so its datagrams should go again one by one.
 * EIO (an IPsec route) and EINVAL (UDP checksums off; on older kernels also a segment over
 * the path MTU) mean this socket cannot segment: stop trying. EMSGSIZE is a segment over
 * the path MTU, which only plain datagrams get past (by IP fragmentation).
 */
static bool gso_failed(struct awg_udp_batch *b, int err)
{
	if (err == EIO || err == EINVAL) {
		b->gso = false;
		b->gso_refused = true;
		return true;
	}
	return err == EMSGSIZE;
}

/* Records a datagram the kernel refused as larger than the path allows (see awg_udp_batch). */
static void note_too_big(struct awg_udp_batch *b, const struct msghdr *m)
{
	size_t len = 0;

	for (size_t i = 0; i < m->msg_iovlen; i++)
		if (m->msg_iov[i].iov_len > len)
			len = m->msg_iov[i].iov_len;
	b->too_big++;
	if (len > b->too_big_len)
		b->too_big_len = len;
}

void awg_udp_flush(int fd, struct awg_udp_batch *b)
{
	unsigned n = fd >= 0 ? build_tx(b, 0, 0, b->gso) : 0, sent = 0, waits = 0;

	while (sent < n) {
		int r = sendmmsg(fd, b->tx + sent, n - sent, MSG_DONTWAIT), err = errno;
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };

		if (r > 0) {
			sent += (unsigned)r;
			continue;
		}
		if (r < 0 && err == EINTR)
			continue;
		/* A full send queue drains in microseconds: wait a little rather than drop. */
		if (r < 0 && (err == EAGAIN || err == EWOULDBLOCK) && waits++ < 8 &&
		    poll(&pfd, 1, 10) > 0)
			continue;
		if (r < 0 && b->tx[sent].msg_hdr.msg_iovlen > 1 && gso_failed(b, err)) {
			n = build_tx(b, sent, b->tx_first[sent], false);
			continue;
		}
		/* The kernel refused this one (unreachable, no route): drop it, keep going. */
		if (r < 0 && err == EMSGSIZE)
			note_too_big(b, &b->tx[sent].msg_hdr);
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
