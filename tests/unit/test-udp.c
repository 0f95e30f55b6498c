// SPDX-License-Identifier: MIT
/*
 * Tests the batched UDP sockets over loopback: offload detection, GSO runs on send (mixed
 * sizes and destinations), GRO splitting on receive, the GSO-off and GSO-refused paths, and
 * empty datagrams. Every datagram must arrive once, intact, in order, with its source.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "udp.h"

#define MAX_PLAN 512
#define DRAIN_MS 2000	/* the longest a receiver waits for what it still misses */

/* What one test sends: datagram i goes to receiver dst[i] with len[i] bytes. */
struct plan {
	unsigned n;
	uint8_t dst[MAX_PLAN];
	uint16_t len[MAX_PLAN];
};

struct receiver {
	int fd;
	struct awg_udp_addr addr;	/* where it listens */
	struct awg_udp_batch b;
	unsigned want, got, msgs;	/* datagrams expected so far, received; messages */
	uint32_t seq[MAX_PLAN];		/* the plan index carried, UINT32_MAX if none */
	size_t len[MAX_PLAN];
	unsigned bad_src, bad_data;
};

static void plan_add(struct plan *p, unsigned count, uint8_t dst, uint16_t len)
{
	for (unsigned i = 0; i < count && p->n < MAX_PLAN; i++) {
		p->dst[p->n] = dst;
		p->len[p->n++] = len;
	}
}

/* Datagrams of 8 bytes or more carry their plan index, then a pattern derived from it. */
static void fill(uint8_t *buf, uint32_t seq, size_t len)
{
	if (len < 8)
		return;
	memcpy(buf, &seq, 4);
	memcpy(buf + 4, &(uint32_t){ (uint32_t)len }, 4);
	for (size_t k = 8; k < len; k++)
		buf[k] = (uint8_t)(seq * 31 + k);
}

static bool intact(const uint8_t *buf, size_t len, uint32_t *seq)
{
	uint32_t l;

	*seq = UINT32_MAX;
	if (len < 8)
		return true;
	memcpy(seq, buf, 4);
	memcpy(&l, buf + 4, 4);
	if (l != len)
		return false;
	for (size_t k = 8; k < len; k++)
		if (buf[k] != (uint8_t)(*seq * 31 + k))
			return false;
	return true;
}

static void loopback(struct awg_udp_addr *a, int family, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = family == AF_INET ? AWG_AF_INET : AWG_AF_INET6;
	a->port = port;
	if (family == AF_INET)
		inet_pton(AF_INET, "127.0.0.1", a->addr);
	else
		inet_pton(AF_INET6, "::1", a->addr);
}

/* A plain socket on the loopback address, with UDP_GRO when asked. -errno on failure. */
static int receiver_open(struct receiver *r, int family, bool gro)
{
	struct sockaddr_in6 sa;
	socklen_t len;
	int fd, one = 1, size = 4 << 20;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (awg_udp_batch_init(&r->b) < 0)
		return -ENOMEM;
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r->fd = fd;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (gro && setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) < 0)
		return -errno;
	loopback(&r->addr, family, 0);
	awg_udp_addr_to_sockaddr(&r->addr, &sa, &len);
	if (bind(fd, (struct sockaddr *)&sa, len) < 0)
		return -errno;
	len = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	r->addr.port = ntohs(sa.sin6_port);
	return 0;
}

static void receiver_close(struct receiver *r)
{
	if (r->fd >= 0)
		close(r->fd);
	awg_udp_batch_free(&r->b);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void take_batch(struct receiver *r, const struct awg_udp_addr *from)
{
	int n = awg_udp_recv(r->fd, &r->b);

	if (n <= 0)
		return;
	CHECK_INT(awg_udp_batch_count(&r->b), n);
	r->msgs += r->b.n;
	for (unsigned i = 0; i < (unsigned)n; i++) {
		struct awg_udp_addr src;
		size_t len;
		uint8_t *data = awg_udp_batch_data(&r->b, i, &len);
		uint32_t seq;

		awg_udp_batch_src(&r->b, i, &src);
		if (memcmp(&src, from, sizeof(src)))
			r->bad_src++;
		if (!intact(data, len, &seq))
			r->bad_data++;
		if (r->got < MAX_PLAN) {
			r->seq[r->got] = seq;
			r->len[r->got] = len;
		}
		r->got++;
	}
}

/* Receives until r has what it should by now, then briefly more to catch duplicates. */
static void drain(struct receiver *r, const struct awg_udp_addr *from)
{
	uint64_t deadline = now_ms() + DRAIN_MS;
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };

	while (r->got < r->want && now_ms() < deadline)
		if (poll(&pfd, 1, 100) > 0)
			take_batch(r, from);
	if (poll(&pfd, 1, 10) > 0)
		take_batch(r, from);
}

/* Checks that r got exactly the datagrams of p addressed to it, in plan order. */
static void check_received(const struct receiver *r, const struct plan *p, uint8_t dst)
{
	unsigned k = 0;

	CHECK_INT(r->got, r->want);
	CHECK_INT(r->bad_src, 0);
	CHECK_INT(r->bad_data, 0);
	for (unsigned i = 0; i < p->n && k < r->got && k < MAX_PLAN; i++) {
		if (p->dst[i] != dst)
			continue;
		if (!CHECK_INT(r->len[k], p->len[i]) ||
		    !CHECK_INT(r->seq[k], p->len[i] >= 8 ? i : UINT32_MAX))
			return;
		k++;
	}
}

/*
 * Sends p from a fresh awg_udp to two loopback receivers, flushing whenever the batch fills
 * and draining the receivers after each flush (so no receive queue overflows). gso: the
 * send batch may coalesce. Returns the messages received in all, for the coalescing checks.
 */
static unsigned run_plan(const struct plan *p, int family, bool gso, bool rx_gro, bool no_check)
{
	struct receiver *rx = calloc(2, sizeof(*rx));
	struct awg_udp_batch *b = calloc(1, sizeof(*b));
	struct awg_udp_addr from;
	struct awg_udp u;
	uint8_t *buf = malloc(AWG_UDP_SLOT);
	unsigned msgs = 0;
	int fd, one = 1;

	if (!rx || !b || !buf)
		abort();
	awg_udp_init(&u);
	if (!CHECK_INT(awg_udp_bind(&u, 0), 0) || !CHECK_INT(awg_udp_batch_init(b), 0))
		goto out;
	fd = family == AF_INET ? u.fd4 : u.fd6;
	loopback(&from, family, u.port);
	for (int r = 0; r < 2; r++)
		if (!CHECK_INT(receiver_open(&rx[r], family, rx_gro), 0))
			goto out;
	/* UDP checksums off: the kernel refuses GSO with EINVAL. */
	if (no_check)
		CHECK_INT(setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one)), 0);
	b->gso = gso && u.gso;
	for (unsigned i = 0; i < p->n; i++) {
		fill(buf, i, p->len[i]);
		rx[p->dst[i]].want++;
		if (!awg_udp_queue(b, &rx[p->dst[i]].addr, buf, p->len[i]) && i + 1 < p->n)
			continue;
		awg_udp_flush(fd, b);
		CHECK_INT(b->n, 0);
		for (int r = 0; r < 2; r++)
			drain(&rx[r], &from);
	}
	if (no_check && gso && u.gso) {
		CHECK(!b->gso);
		CHECK(b->gso_refused);
	} else {
		CHECK_INT(b->gso, gso && u.gso);
		CHECK(!b->gso_refused);
	}
	for (int r = 0; r < 2; r++) {
		check_received(&rx[r], p, (uint8_t)r);
		msgs += rx[r].msgs;
		/* Without UDP_GRO the kernel splits every GSO message before we see it. */
		if (!rx_gro)
			CHECK_INT(rx[r].msgs, rx[r].got);
	}
out:
	for (int r = 0; r < 2; r++)
		receiver_close(&rx[r]);
	awg_udp_batch_free(b);
	awg_udp_close(&u);
	free(b);
	free(rx);
	free(buf);
	return msgs;
}

/*
 * Runs of every shape: long ones past the 65507-byte cap and across batch boundaries, short
 * last datagrams, a longer one ending a run, interleaved destinations, singles, empties.
 */
static void mixed_plan(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	plan_add(p, 50, 0, 1400);	/* over 65507 bytes: two GSO messages */
	plan_add(p, 1, 0, 900);		/* shorter: ends the run */
	plan_add(p, 6, 0, 300);
	plan_add(p, 3, 1, 1400);	/* other destination, same size */
	plan_add(p, 1, 0, 1400);
	plan_add(p, 1, 0, 1401);	/* longer: a run of its own */
	plan_add(p, 20, 1, 100);
	plan_add(p, 1, 0, 100);
	plan_add(p, 90, 0, 1000);	/* across a flush */
	plan_add(p, 1, 0, 0);
	plan_add(p, 8, 0, 64);
	for (int i = 0; i < 10; i++) {
		plan_add(p, 1, 0, 200);
		plan_add(p, 1, 1, 200);
	}
	plan_add(p, 1, 1, 8);
	plan_add(p, 1, 1, 60000);	/* a single big datagram */
	plan_add(p, 64, 1, 1200);	/* a whole batch of one run */
	plan_add(p, 1, 1, 1199);
}

/*
 * How many messages a GRO receiver sees when p goes out with GSO over loopback (which hands
 * a GSO message over whole): one per run, cut at every flush of a full batch.
 */
static unsigned model_msgs(const struct plan *p)
{
	unsigned msgs = 0;

	for (unsigned start = 0; start < p->n; start += AWG_UDP_BATCH) {
		unsigned end = start + AWG_UDP_BATCH < p->n ? start + AWG_UDP_BATCH : p->n;

		for (unsigned i = start, j; i < end; i = j, msgs++) {
			size_t total = p->len[i];

			for (j = i + 1; p->len[i] && j < end && j - i < AWG_UDP_MAX_SEGS; j++) {
				if (p->dst[j] != p->dst[i] || !p->len[j] || p->len[j] > p->len[i] ||
				    total + p->len[j] > 65507)
					break;
				total += p->len[j];
				if (p->len[j] < p->len[i]) {
					j++;
					break;
				}
			}
		}
	}
	return msgs;
}

static bool have_ipv6(void)
{
	struct receiver r;
	bool ok = receiver_open(&r, AF_INET6, false) == 0;

	receiver_close(&r);
	return ok;
}

static void mixed_family(int family)
{
	static struct plan p;
	struct awg_udp u;
	bool gso;

	awg_udp_init(&u);
	u.no_offload = false;
	if (!CHECK_INT(awg_udp_bind(&u, 0), 0))
		return;
	gso = u.gso;
	awg_udp_close(&u);
	mixed_plan(&p);
	CHECK(p.n > 2 * AWG_UDP_BATCH);
	for (int rx_gro = 0; rx_gro < 2; rx_gro++) {
		unsigned with = run_plan(&p, family, true, rx_gro, false);
		unsigned without = run_plan(&p, family, false, rx_gro, false);

		/* GSO out and GRO in over loopback: whole runs arrive as one buffer each. */
		if (gso && rx_gro)
			CHECK_INT(with, model_msgs(&p));
		else
			CHECK_INT(with, p.n);
		CHECK_INT(without, p.n);
	}
}

static void mixed_ipv4(void)
{
	mixed_family(AF_INET);
}

static void mixed_ipv6(void)
{
	if (!have_ipv6()) {
		printf("  (no IPv6 on loopback: skipped)\n");
		return;
	}
	mixed_family(AF_INET6);
}

/* Empty datagrams stay datagrams of length 0, next to runs and with GRO on or off. */
static void zero_length(void)
{
	static struct plan p;

	memset(&p, 0, sizeof(p));
	plan_add(&p, 2, 0, 0);
	plan_add(&p, 5, 0, 500);
	plan_add(&p, 1, 0, 0);
	plan_add(&p, 1, 0, 500);
	plan_add(&p, 1, 1, 0);
	plan_add(&p, 3, 0, 500);
	plan_add(&p, 1, 0, 0);
	for (int rx_gro = 0; rx_gro < 2; rx_gro++)
		for (int gso = 0; gso < 2; gso++)
			run_plan(&p, AF_INET, gso, rx_gro, false);
	CHECK_INT(model_msgs(&p), 8);	/* the empties split the runs */
}

/* A socket that cannot segment (checksums off) makes flush fall back and stop trying. */
static void gso_refused(void)
{
	static struct plan p;

	memset(&p, 0, sizeof(p));
	plan_add(&p, 30, 0, 1000);
	plan_add(&p, 30, 1, 700);
	plan_add(&p, 30, 0, 1000);
	for (int rx_gro = 0; rx_gro < 2; rx_gro++)
		CHECK_INT(run_plan(&p, AF_INET, true, rx_gro, true), p.n);
}

static bool sockopt_on(int fd, int opt)
{
	socklen_t len;
	int val = 0;

	len = sizeof(val);
	return getsockopt(fd, IPPROTO_UDP, opt, &val, &len) == 0 && val;
}

static bool sockopt_known(int fd, int opt)
{
	socklen_t len;
	int val;

	len = sizeof(val);
	return getsockopt(fd, IPPROTO_UDP, opt, &val, &len) == 0;
}

/* The fields follow what the kernel offers, and no_offload or the environment turn both off. */
static void detection(void)
{
	struct awg_udp u;

	unsetenv("AWG_NO_UDP_OFFLOAD");
	awg_udp_init(&u);
	CHECK(!u.no_offload && !u.gso && !u.gro);
	if (!CHECK_INT(awg_udp_bind(&u, 0), 0))
		return;
	printf("  kernel offloads: gso=%d gro=%d (fd6 %s)\n", u.gso, u.gro,
	       u.fd6 >= 0 ? "open" : "absent");
	CHECK_INT(u.gso, sockopt_known(u.fd4, UDP_SEGMENT));
	CHECK_INT(u.gro, sockopt_on(u.fd4, UDP_GRO));
	if (u.fd6 >= 0)
		CHECK_INT(u.gro, sockopt_on(u.fd6, UDP_GRO));
	/* A rebind detects afresh, here with offloads forced off. */
	u.no_offload = true;
	if (CHECK_INT(awg_udp_bind(&u, 0), 0)) {
		CHECK(!u.gso && !u.gro);
		CHECK(!sockopt_on(u.fd4, UDP_GRO));
	}
	awg_udp_close(&u);

	setenv("AWG_NO_UDP_OFFLOAD", "1", 1);
	awg_udp_init(&u);
	CHECK(u.no_offload);
	if (CHECK_INT(awg_udp_bind(&u, 0), 0))
		CHECK(!u.gso && !u.gro);
	awg_udp_close(&u);
	setenv("AWG_NO_UDP_OFFLOAD", "0", 1);
	awg_udp_init(&u);
	CHECK(!u.no_offload);
	unsetenv("AWG_NO_UDP_OFFLOAD");
}

/* Nothing queued, or no socket: flush sends nothing and empties the batch. */
static void flush_edges(void)
{
	struct awg_udp_batch *b = calloc(1, sizeof(*b));
	struct awg_udp_addr a;
	uint8_t byte = 1;

	if (!b || !CHECK_INT(awg_udp_batch_init(b), 0))
		goto out;
	loopback(&a, AF_INET, 9);
	b->gso = true;
	awg_udp_flush(-1, b);
	CHECK_INT(b->n, 0);
	for (unsigned i = 0; i < AWG_UDP_BATCH - 1; i++)
		CHECK(!awg_udp_queue(b, &a, &byte, 1));
	CHECK(awg_udp_queue(b, &a, &byte, 1));
	CHECK(awg_udp_queue(b, &a, &byte, 1));	/* full: refused, still "flush me" */
	CHECK_INT(b->n, AWG_UDP_BATCH);
	awg_udp_flush(-1, b);
	CHECK_INT(b->n, 0);
	CHECK(b->gso);
	awg_udp_batch_free(b);
out:
	free(b);
}

/*
 * A datagram the kernel refuses as too large (EMSGSIZE: over 65507 bytes of IPv4 UDP) is
 * dropped and counted with its size, for awgd's rate-limited report; the rest of the batch
 * still goes.
 */
static void too_big_counted(void)
{
	struct awg_udp_batch *b = calloc(1, sizeof(*b));
	static uint8_t big[65520];
	struct receiver r;
	struct awg_udp u;

	awg_udp_init(&u);
	u.no_offload = true;
	if (!b || !CHECK_INT(awg_udp_bind(&u, 0), 0) || !CHECK_INT(awg_udp_batch_init(b), 0))
		goto out;
	if (!CHECK_INT(receiver_open(&r, AF_INET, false), 0))
		goto out;
	CHECK(!awg_udp_queue(b, &r.addr, big, 100));
	CHECK(!awg_udp_queue(b, &r.addr, big, sizeof(big)));
	CHECK(!awg_udp_queue(b, &r.addr, big, 200));
	awg_udp_flush(u.fd4, b);
	CHECK_INT(b->too_big, 1);
	CHECK_INT(b->too_big_len, sizeof(big));
	/* The two others arrived (their bytes are not plan-shaped: only count them). */
	r.want = 2;
	{
		struct pollfd pfd = { .fd = r.fd, .events = POLLIN };
		uint64_t deadline = now_ms() + DRAIN_MS;

		while (r.msgs < 2 && now_ms() < deadline)
			if (poll(&pfd, 1, 100) > 0 && awg_udp_recv(r.fd, &r.b) > 0)
				r.msgs += r.b.n;
	}
	CHECK_INT(r.msgs, 2);
	receiver_close(&r);
	awg_udp_batch_free(b);
out:
	awg_udp_close(&u);
	free(b);
}

TEST_MAIN("udp", T(too_big_counted), T(detection), T(flush_edges), T(mixed_ipv4),
	  T(mixed_ipv6), T(zero_length), T(gso_refused))
