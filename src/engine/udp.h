/* SPDX-License-Identifier: MIT */
/*
 * The UDP side of one interface: an IPv4 and an IPv6 socket bound to the listen port, fwmark,
 * and batched receive (recvmmsg) and send (sendmmsg) queues with preallocated buffers, so the
 * packet path allocates nothing. Where the kernel offers them, UDP segmentation offloads cut
 * the per-datagram cost: UDP_SEGMENT (GSO) sends a run of equal-sized datagrams as one
 * message, UDP_GRO receives a run from one sender as one buffer that is split here again.
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
/* Segments per GSO message sent: the kernel's UDP_MAX_SEGMENTS (64; 128 on a few versions). */
#define AWG_UDP_MAX_SEGS 64
/*
 * Segments per GRO buffer received: GRO from a NIC merges up to 64, but a GSO message from a
 * local sender (loopback, veth) arrives whole, up to the sending kernel's UDP_MAX_SEGMENTS.
 */
#define AWG_UDP_GRO_SEGS 128
/* The largest UDP payload of one IPv4 datagram, which caps a GSO message of either family. */
#define AWG_UDP_GSO_MAX_BYTES 65507

struct awg_udp {
	int fd4, fd6;		/* -1 when that family is unavailable */
	uint16_t port;		/* the bound port (the kernel's pick when 0 was asked) */
	uint32_t fwmark;
	/*
	 * Offloads found at the last bind, true only when every open socket has them. gro: the
	 * sockets have UDP_GRO on (awg_udp_recv splits what it coalesces, nothing to do). gso:
	 * UDP_SEGMENT is usable; copy it into the send batches' gso (see awg_udp_batch).
	 */
	bool gso, gro;
	/* Set before awg_udp_bind to keep both off (awg_udp_init: AWG_NO_UDP_OFFLOAD=1 sets it). */
	bool no_offload;
	/* The sockets came from the parent (awg_udp_adopt): port and fwmark are its to choose. */
	bool adopted;
};

/* Where one received datagram lies: off into the slots (off / AWG_UDP_SLOT is its message). */
struct awg_udp_seg {
	uint32_t off;
	uint32_t len;
};

/* Room for one int-sized control message: UDP_GRO on receive, UDP_SEGMENT on send. */
union awg_udp_cmsg {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

/* A batch of datagrams, for receiving into or sending from. */
struct awg_udp_batch {
	struct mmsghdr msgs[AWG_UDP_BATCH];
	struct iovec iov[AWG_UDP_BATCH];
	struct sockaddr_in6 addr[AWG_UDP_BATCH];	/* large enough for IPv4 too */
	union awg_udp_cmsg ctrl[AWG_UDP_BATCH];
	uint8_t *slots;				/* AWG_UDP_BATCH * AWG_UDP_SLOT bytes */
	unsigned n;				/* datagrams queued, or messages received */
	/* Receive: the datagrams of the last awg_udp_recv, GRO buffers split (same mapping). */
	struct awg_udp_seg *seg;		/* AWG_UDP_BATCH * AWG_UDP_GRO_SEGS entries */
	unsigned nseg;
	/* Send: the messages of one flush, each a run of queued datagrams from tx_first on. */
	struct mmsghdr tx[AWG_UDP_BATCH];
	uint8_t tx_first[AWG_UDP_BATCH];
	/*
	 * Send: coalesce with UDP_SEGMENT (off after init; set it from awg_udp.gso by the thread
	 * that flushes this batch). awg_udp_flush clears it and sets gso_refused when the kernel
	 * refuses GSO on the way out (EIO: IPsec route, EINVAL: no checksums); the datagrams of
	 * that flush still go, one by one.
	 */
	bool gso, gso_refused;
	/*
	 * Send: datagrams the kernel refused with EMSGSIZE (larger than the route's MTU allows)
	 * and the largest of them; the owner reports and resets them.
	 */
	uint64_t too_big;
	size_t too_big_len;
};

void awg_udp_init(struct awg_udp *u);
/*
 * (Re)binds both sockets to port (0 = any free port, the same for both families) and detects
 * the offloads into u->gso and u->gro. 0/-errno.
 */
int awg_udp_bind(struct awg_udp *u, uint16_t port);
/*
 * Takes over already bound UDP sockets (either may be -1, not both): an IPv4 one and a
 * V6ONLY IPv6 one on the same port, opened by a privileged parent. Returns 0, -ENOTSOCK (not a
 * datagram socket) or -EINVAL (wrong family, unbound, ports differ).
 */
int awg_udp_adopt(struct awg_udp *u, int fd4, int fd6);
/* Applies SO_MARK to both sockets (0 = none). 0/-errno. */
int awg_udp_set_fwmark(struct awg_udp *u, uint32_t mark);
void awg_udp_close(struct awg_udp *u);

int awg_udp_batch_init(struct awg_udp_batch *b);
void awg_udp_batch_free(struct awg_udp_batch *b);

/*
 * Receives up to AWG_UDP_BATCH messages from fd into b, splitting GRO buffers. Returns the
 * number of datagrams (up to AWG_UDP_BATCH * AWG_UDP_GRO_SEGS; b->n holds the messages), 0 or
 * -errno.
 */
int awg_udp_recv(int fd, struct awg_udp_batch *b);
/* The number of datagrams of the last awg_udp_recv. */
unsigned awg_udp_batch_count(const struct awg_udp_batch *b);
/*
 * The payload and source address of datagram i of a received batch. Datagrams of one GRO
 * buffer are adjacent: a datagram may be changed in place, but only within its len.
 */
uint8_t *awg_udp_batch_data(struct awg_udp_batch *b, unsigned i, size_t *len);
void awg_udp_batch_src(const struct awg_udp_batch *b, unsigned i, struct awg_udp_addr *src);

/*
 * Copies a datagram into the send batch of its family. Returns true if the batch is now full
 * and must be flushed. data may be awg_udp_next_slot(b) itself: then nothing is copied.
 */
/* Where the next queued datagram will lie (AWG_UDP_SLOT bytes), or NULL if b is full. */
uint8_t *awg_udp_next_slot(struct awg_udp_batch *b);
bool awg_udp_queue(struct awg_udp_batch *b, const struct awg_udp_addr *dst, const uint8_t *data,
		   size_t len);
/*
 * Sends everything queued on fd; datagrams the kernel refuses are dropped (UDP). With b->gso,
 * runs of datagrams to one destination of one size (the last may be shorter) go as one
 * UDP_SEGMENT message each.
 */
void awg_udp_flush(int fd, struct awg_udp_batch *b);

void awg_udp_addr_to_sockaddr(const struct awg_udp_addr *a, struct sockaddr_in6 *sa,
			      socklen_t *len);
void awg_udp_addr_from_sockaddr(struct awg_udp_addr *a, const struct sockaddr *sa);

#endif /* _AWG_ENGINE_UDP_H */
