/* SPDX-License-Identifier: MIT */
/*
 * TUN offloads as pure functions over buffers: splitting the kernel's virtio-net GSO
 * super-packets into plain IP packets (TSO/USO), coalescing received packets back into
 * super-packets (GRO), and the internet checksum helpers both need.
 */
#ifndef _AWG_ENGINE_OFFLOAD_H
#define _AWG_ENGINE_OFFLOAD_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Older uapi headers lack the UDP segmentation offload (Linux 6.2) constants. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/*
 * Every frame read from or written to a TUN opened with IFF_VNET_HDR starts with this header.
 * Its 16-bit fields are in host byte order (legacy virtio, no TUNSETVNETLE/BE).
 */
#define AWG_VNET_HDR_LEN sizeof(struct virtio_net_hdr)
/* The largest IP packet either side handles (IPv4 total length, IPv6 payload length). */
#define AWG_OFFLOAD_MAX_PKT 65535
/* A split scratch buffer of this size fits any segment. */
#define AWG_OFFLOAD_SCRATCH_LEN AWG_OFFLOAD_MAX_PKT

/* Receives one packet; pkt is valid only during the call and may be modified by the callee. */
typedef void (*awg_offload_emit_fn)(void *ctx, uint8_t *pkt, size_t len);

/*
 * Splits one TUN read (vnet header + packet, len bytes) into plain IP packets, each at most
 * gso_size of payload: IPv4/IPv6 TCP (TSO) and UDP (USO). Each segment gets its own IP
 * total/payload length, IPv4 ID (incremented per segment) and header checksum, TCP sequence
 * number (FIN and PSH only on the last segment, CWR only on the first) or UDP length, and a full
 * TCP/UDP checksum computed here (the hdr_len, csum_start and csum_offset of the kernel are not
 * trusted; the headers are parsed). GSO_NONE with NEEDS_CSUM completes the checksum at
 * csum_start + csum_offset in place; GSO_NONE packets are emitted in place from frame, segments
 * from scratch (cap bytes; AWG_OFFLOAD_SCRATCH_LEN always suffices). The frame is validated
 * before anything is emitted. Returns the number of packets emitted, -EINVAL for a malformed
 * frame or -ENOSPC when a segment does not fit in scratch.
 */
int awg_offload_split(uint8_t *frame, size_t len, uint8_t *scratch, size_t cap,
		      awg_offload_emit_fn emit, void *ctx);

/* One GRO slot: vnet header room plus the largest super-packet. */
#define AWG_GRO_SLOT_LEN (AWG_VNET_HDR_LEN + AWG_OFFLOAD_MAX_PKT)
#define AWG_GRO_MAX_FLOWS 16
/* The area for n pending flows: one slot per flow plus one to pass packets through. */
#define AWG_GRO_AREA_LEN(n) (((size_t)(n) + 1) * AWG_GRO_SLOT_LEN)

/* A super-packet being built for one flow; len == 0 marks a free slot. */
struct awg_gro_flow {
	uint8_t *buf;		/* AWG_GRO_SLOT_LEN bytes: vnet header, then the packet */
	uint64_t stamp;		/* last use, for evicting the least recently used flow */
	uint32_t len;		/* packet bytes after the vnet header */
	uint32_t next_seq;	/* TCP: the sequence number that extends this flow */
	uint16_t gso_size;	/* payload bytes of the first segment */
	uint16_t segs;
	uint8_t iphl;		/* 20 (IPv4 without options) or 40 (IPv6 without extensions) */
	uint8_t thl;		/* TCP header with options, or 8 for UDP */
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
};

struct awg_gro {
	struct awg_gro_flow flows[AWG_GRO_MAX_FLOWS];
	unsigned nflows;
	bool udp;		/* coalesce UDP too (the TUN accepted TUN_F_USO4 | TUN_F_USO6) */
	uint64_t clock;
	uint8_t *bounce;	/* AWG_GRO_SLOT_LEN bytes for pass-through frames */
};

/*
 * Lays out area (AWG_GRO_AREA_LEN(n) bytes for n flows, at most AWG_GRO_MAX_FLOWS are used).
 * With room for the pass-through slot only, every packet passes through. udp enables UDP
 * coalescing (GSO_UDP_L4 frames). Returns 0, or -EINVAL if area cannot hold a single slot.
 */
int awg_gro_init(struct awg_gro *g, uint8_t *area, size_t area_len, bool udp);

/*
 * Adds one decrypted IP packet. TCP segments with only ACK (and PSH on the last) and UDP
 * datagrams, over IPv4 without options or fragmentation or IPv6 without extension headers,
 * with valid checksums, coalesce with the pending data of their flow when they continue it:
 * same addresses, ports, TOS/traffic class, TTL/hop limit, DF, flow label, TCP ack, window and
 * options, the next sequence number, at most the flow's segment size (a smaller one ends the
 * flow, as does PSH) and at most AWG_OFFLOAD_MAX_PKT in all. Anything else flushes the pending
 * data of its flow first and is then passed through, so per-flow order is kept. out receives
 * vnet header + packet ready for write() to the TUN: coalesced frames carry GSO_TCPV4/TCPV6 or
 * GSO_UDP_L4, gso_size, hdr_len, NEEDS_CSUM with csum_start/csum_offset and the pseudo-header
 * sum in the checksum field; single packets a zeroed header. Returns 0, or -EINVAL (nothing
 * emitted) for an empty packet or one longer than AWG_OFFLOAD_MAX_PKT.
 */
int awg_gro_add(struct awg_gro *g, const uint8_t *pkt, size_t len, awg_offload_emit_fn out,
		void *ctx);
/* Emits everything pending (call at the end of each receive batch). */
void awg_gro_flush(struct awg_gro *g, awg_offload_emit_fn out, void *ctx);

/*
 * Internet checksum pieces, as values of big-endian 16-bit words. awg_csum_add accumulates
 * len bytes (an odd last byte padded with zero) into a partial sum; buf must start at an even
 * offset of the checksummed data. awg_csum_pseudo sums the pseudo-header of an IPv4 (version
 * 4, addresses at ip + 12) or IPv6 (addresses at ip + 8) packet for an upper-layer length.
 * awg_csum_fold reduces to 16 bits, not complemented; the checksum field gets its complement.
 */
uint32_t awg_csum_add(uint32_t sum, const uint8_t *buf, size_t len);
uint32_t awg_csum_pseudo(const uint8_t *ip, unsigned version, uint8_t proto, uint32_t l4_len);
uint16_t awg_csum_fold(uint32_t sum);

#endif /* _AWG_ENGINE_OFFLOAD_H */
