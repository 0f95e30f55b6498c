/* SPDX-License-Identifier: MIT */
/*
 * The UDP side of one interface: an IPv4 and an IPv6 socket bound to the listen port, fwmark,
 * and batched receive (recvmmsg) and send (sendmmsg) queues with preallocated buffers, so the
 * packet path allocates nothing.
 */
#ifndef _AWG_ENGINE_UDP_H
#define _AWG_ENGINE_UDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "device.h"

#define AWG_UDP_BATCH 64
/* One slot holds any UDP payload. Buffers are allocated once; only used pages become resident. */
#define AWG_UDP_SLOT 65536

struct awg_udp {
	int fd4, fd6;		/* -1 when that family is unavailable */
	uint16_t port;		/* the bound port (the kernel's pick when 0 was asked) */
	uint32_t fwmark;
};

/* A batch of datagrams, for receiving into or sending from. */
struct awg_udp_batch {
	struct mmsghdr msgs[AWG_UDP_BATCH];
	struct iovec iov[AWG_UDP_BATCH];
	struct sockaddr_in6 addr[AWG_UDP_BATCH];	/* large enough for IPv4 too */
	uint8_t *slots;				/* AWG_UDP_BATCH * AWG_UDP_SLOT bytes */
	unsigned n;
};

void awg_udp_init(struct awg_udp *u);
/* (Re)binds both sockets to port (0 = any free port, the same for both families). 0/-errno. */
int awg_udp_bind(struct awg_udp *u, uint16_t port);
/* Applies SO_MARK to both sockets (0 = none). 0/-errno. */
int awg_udp_set_fwmark(struct awg_udp *u, uint32_t mark);
void awg_udp_close(struct awg_udp *u);

int awg_udp_batch_init(struct awg_udp_batch *b);
void awg_udp_batch_free(struct awg_udp_batch *b);

/* Receives up to AWG_UDP_BATCH datagrams from fd into b. Returns the count, 0 or -errno. */
int awg_udp_recv(int fd, struct awg_udp_batch *b);
/* The payload and source address of datagram i of a received batch. */
uint8_t *awg_udp_batch_data(struct awg_udp_batch *b, unsigned i, size_t *len);
void awg_udp_batch_src(const struct awg_udp_batch *b, unsigned i, struct awg_udp_addr *src);

/*
 * Copies a datagram into the send batch of its family. Returns true if the batch is now full
 * and must be flushed.
 */
bool awg_udp_queue(struct awg_udp_batch *b, const struct awg_udp_addr *dst, const uint8_t *data,
		   size_t len);
/* Sends everything queued on fd; datagrams the kernel refuses are dropped (UDP). */
void awg_udp_flush(int fd, struct awg_udp_batch *b);

void awg_udp_addr_to_sockaddr(const struct awg_udp_addr *a, struct sockaddr_in6 *sa,
			      socklen_t *len);
void awg_udp_addr_from_sockaddr(struct awg_udp_addr *a, const struct sockaddr *sa);

#endif /* _AWG_ENGINE_UDP_H */
