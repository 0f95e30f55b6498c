// SPDX-License-Identifier: MIT
/*
 * Tests TUN offloads: GSO super-packets split into segments checked by an independent checksum
 * implementation, malformed frames, and GRO coalescing checked by splitting its output again.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "offload.h"

#define FRAME_MAX (AWG_VNET_HDR_LEN + 65535 + 64)
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80
#define SEQ0 0xfffff000u	/* wraps within a large super-packet */
#define ID0 0xfff0		/* wraps too */

/* ---- a list of packets (what emit and out receive) ---- */

struct pkt {
	uint8_t *data;
	size_t len;
};

struct list {
	struct pkt *p;
	size_t n, cap;
};

static void list_push(struct list *l, const uint8_t *data, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->p = realloc(l->p, l->cap * sizeof(*l->p));
		if (!l->p)
			abort();
	}
	l->p[l->n].data = malloc(len ? len : 1);
	if (!l->p[l->n].data)
		abort();
	memcpy(l->p[l->n].data, data, len);
	l->p[l->n++].len = len;
}

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->p[i].data);
	free(l->p);
	memset(l, 0, sizeof(*l));
}

static void sink(void *ctx, uint8_t *pkt, size_t len)
{
	list_push(ctx, pkt, len);
}

static bool lists_equal(const struct list *a, const struct list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->p[i].len != b->p[i].len || memcmp(a->p[i].data, b->p[i].data, a->p[i].len))
			return false;
	return true;
}

/* ---- an independent, straightforward checksum ---- */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static void wr16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 2)
		sum += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t ref_pseudo(const uint8_t *ip, unsigned proto, size_t l4_len)
{
	if (ip[0] >> 4 == 4)
		return ref_sum(0, ip + 12, 8) + proto + (uint32_t)l4_len;
	return ref_sum(0, ip + 8, 32) + proto + (uint32_t)l4_len;
}

/* A packet whose L4 header starts at thoff: is the checksum in it correct? */
static bool ref_l4_ok(const uint8_t *ip, size_t len, size_t thoff, unsigned proto)
{
	uint32_t sum = ref_pseudo(ip, proto, len - thoff);

	if (proto == IPPROTO_UDP && rd16(ip + thoff + 6) == 0)
		return false;
	return ref_fold(ref_sum(sum, ip + thoff, len - thoff)) == 0xffff;
}

static bool ref_ip4_ok(const uint8_t *ip)
{
	return ref_fold(ref_sum(0, ip, (size_t)(ip[0] & 15) * 4)) == 0xffff;
}

/* ---- super-packet construction ---- */

struct spec {
	unsigned version;	/* 4 or 6 */
	unsigned proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	size_t payload;
	unsigned gso;		/* 0: GSO_NONE */
	uint8_t flags;		/* TCP */
	size_t optlen;		/* TCP options, a multiple of 4 */
	uint16_t sport;
	uint32_t seq;
	uint16_t id;
	unsigned alt;		/* ALT_*: a field that differs from the usual */
};

enum { ALT_NODF = 1, ALT_ACK = 2, ALT_WINDOW = 4, ALT_TSVAL = 8 };

static size_t spec_iphl(const struct spec *s)
{
	return s->version == 4 ? 20 : 40;
}

static size_t spec_hlen(const struct spec *s)
{
	return spec_iphl(s) + (s->proto == IPPROTO_TCP ? 20 + s->optlen : 8);
}

static uint8_t payload_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3 + (i >> 9));
}

static void build_ip(uint8_t *ip, const struct spec *s, size_t len)
{
	if (s->version == 4) {
		ip[0] = 0x45;
		ip[1] = 0x10;
		wr16(ip + 2, (unsigned)len);
		wr16(ip + 4, s->id);
		wr16(ip + 6, s->alt & ALT_NODF ? 0 : 0x4000);
		ip[8] = 64;
		ip[9] = (uint8_t)s->proto;
		memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		wr16(ip + 10, (unsigned)~ref_fold(ref_sum(0, ip, 20)) & 0xffff);
	} else {
		memcpy(ip, "\x60\x12\x34\x56", 4);
		wr16(ip + 4, (unsigned)(len - 40));
		ip[6] = (uint8_t)s->proto;
		ip[7] = 64;
		for (int i = 0; i < 16; i++) {
			ip[8 + i] = (uint8_t)(0xfd + i);
			ip[24 + i] = (uint8_t)(0xfd + 2 * i);
		}
	}
}

static void build_l4(uint8_t *th, const struct spec *s, size_t l4_len)
{
	wr16(th, s->sport);
	wr16(th + 2, 443);
	if (s->proto == IPPROTO_UDP) {
		wr16(th + 4, (unsigned)l4_len);
		return;
	}
	wr32(th + 4, s->seq);
	wr32(th + 8, s->alt & ALT_ACK ? 0x01020305 : 0x01020304);
	th[12] = (uint8_t)((20 + s->optlen) / 4 << 4);
	th[13] = s->flags;
	wr16(th + 14, s->alt & ALT_WINDOW ? 513 : 512);
	for (size_t i = 0; i < s->optlen; i += 4)
		memcpy(th + 20 + i, i == 0 && s->optlen >= 12 ? "\x01\x01\x08\x0a" : "\x01\x01\x01\x01",
		       4);
	if (s->optlen >= 12)
		memcpy(th + 24, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);	/* timestamps */
	if (s->optlen >= 12 && (s->alt & ALT_TSVAL))
		th[27]++;
}

/*
 * A frame as the kernel hands it over: vnet header, headers, payload, and in the checksum
 * field the pseudo-header sum over the whole L4 length (or the full checksum when !partial).
 */
static size_t build_frame(uint8_t *frame, const struct spec *s, bool partial)
{
	struct virtio_net_hdr h;
	uint8_t *ip = frame + AWG_VNET_HDR_LEN;
	size_t iphl = spec_iphl(s), hlen = spec_hlen(s), len = hlen + s->payload;
	size_t csum_at = iphl + (s->proto == IPPROTO_TCP ? 16 : 6);

	memset(frame, 0, AWG_VNET_HDR_LEN + hlen);
	build_ip(ip, s, len);
	build_l4(ip + iphl, s, len - iphl);
	for (size_t i = 0; i < s->payload; i++)
		ip[hlen + i] = payload_byte(i);
	if (partial) {
		wr16(ip + csum_at, ref_fold(ref_pseudo(ip, s->proto, len - iphl)));
	} else {
		wr16(ip + csum_at, ~ref_fold(ref_sum(ref_pseudo(ip, s->proto, len - iphl), ip + iphl,
						     len - iphl)) & 0xffff);
	}
	memset(&h, 0, sizeof(h));
	h.flags = partial ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0;
	if (s->gso)
		h.gso_type = s->proto == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4 :
			     s->version == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	if (s->gso && (s->flags & TCP_CWR))
		h.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
	h.hdr_len = (uint16_t)hlen;
	h.gso_size = (uint16_t)s->gso;
	h.csum_start = (uint16_t)iphl;
	h.csum_offset = (uint16_t)(csum_at - iphl);
	memcpy(frame, &h, sizeof(h));
	return AWG_VNET_HDR_LEN + len;
}

static uint8_t *frame_buf(void)
{
	uint8_t *b = malloc(FRAME_MAX);

	if (!b)
		abort();
	return b;
}

/* ---- split ---- */

static bool check_segment(const struct spec *s, const uint8_t *ip, size_t len, size_t i,
			  size_t nseg, uint8_t *joined)
{
	size_t iphl = spec_iphl(s), hlen = spec_hlen(s), seglen = len - hlen;
	size_t off = i * s->gso;
	bool ok = true, last = i + 1 == nseg;
	uint8_t want_flags = s->flags;

	ok &= CHECK_INT(len, hlen + (last ? s->payload - off : s->gso));
	if (s->version == 4) {
		ok &= CHECK_INT(rd16(ip + 2), len);
		ok &= CHECK_INT(rd16(ip + 4), (uint16_t)(s->id + i));
		ok &= CHECK(ref_ip4_ok(ip));
	} else {
		ok &= CHECK_INT(rd16(ip + 4), len - 40);
	}
	if (s->proto == IPPROTO_TCP) {
		if (i)
			want_flags &= (uint8_t)~TCP_CWR;
		if (!last)
			want_flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
		ok &= CHECK_INT(rd32(ip + iphl + 4), (uint32_t)(s->seq + off));
		ok &= CHECK_INT(ip[iphl + 13], want_flags);
		ok &= CHECK_INT(rd32(ip + iphl + 8), 0x01020304);
		ok &= CHECK_INT(ip[iphl + 12] >> 4, (20 + s->optlen) / 4);
	} else {
		ok &= CHECK_INT(rd16(ip + iphl + 4), 8 + seglen);
	}
	ok &= CHECK(ref_l4_ok(ip, len, iphl, s->proto));
	memcpy(joined + off, ip + hlen, seglen);
	return ok;
}

/* Splits s as a kernel frame and verifies every segment; returns the segments in out. */
static void split_and_check(const struct spec *s, struct list *out)
{
	uint8_t *frame = frame_buf(), *scratch = frame_buf(), *joined = malloc(s->payload + 1);
	size_t len = build_frame(frame, s, true);
	size_t nseg = (s->payload + s->gso - 1) / s->gso, base = out->n, i;
	bool ok = true;
	int n;

	n = awg_offload_split(frame, len, scratch, AWG_OFFLOAD_SCRATCH_LEN, sink, out);
	if (!CHECK_INT(n, nseg) || !CHECK_INT(out->n - base, nseg))
		goto out;
	for (i = 0; i < nseg && ok; i++)
		ok = check_segment(s, out->p[base + i].data, out->p[base + i].len, i, nseg, joined);
	for (i = 0; i < s->payload && ok; i++)
		ok = CHECK_INT(joined[i], payload_byte(i));
out:
	free(frame);
	free(scratch);
	free(joined);
}

static const size_t payloads[] = { 1, 100, 535, 536, 1448, 1449, 2896, 5000, 30000, 65000 };
static const unsigned gsos[] = { 1448, 1000, 536, 7 };

static void split_tcp(void)
{
	static const uint8_t flag_sets[] = { TCP_ACK, TCP_ACK | TCP_PSH, TCP_ACK | TCP_PSH | TCP_FIN,
					     TCP_ACK | TCP_CWR | TCP_PSH };
	static const size_t opts[] = { 0, 12, 40 };

	for (unsigned v = 4; v <= 6; v += 2)
		for (size_t p = 0; p < sizeof(payloads) / sizeof(payloads[0]); p++)
			for (size_t g = 0; g < sizeof(gsos) / sizeof(gsos[0]); g++)
				for (size_t f = 0; f < sizeof(flag_sets); f++) {
					struct spec s = {
						.version = v, .proto = IPPROTO_TCP,
						.payload = payloads[p] > 65000 - 120 ? 65000 - 120 :
							   payloads[p],
						.gso = gsos[g], .flags = flag_sets[f],
						.optlen = opts[(p + f) % 3], .sport = 1000,
						.seq = SEQ0, .id = ID0,
					};
					struct list out = { 0 };

					if (gsos[g] == 7 && s.payload > 5000)
						continue;
					split_and_check(&s, &out);
					list_free(&out);
				}
}

static void split_udp(void)
{
	for (unsigned v = 4; v <= 6; v += 2)
		for (size_t p = 0; p < sizeof(payloads) / sizeof(payloads[0]); p++)
			for (size_t g = 0; g < sizeof(gsos) / sizeof(gsos[0]); g++) {
				struct spec s = {
					.version = v, .proto = IPPROTO_UDP, .payload = payloads[p],
					.gso = gsos[g], .sport = 2000, .id = ID0,
				};
				struct list out = { 0 };

				if (gsos[g] == 7 && s.payload > 5000)
					continue;
				split_and_check(&s, &out);
				list_free(&out);
			}
}

/* gso_size 1 up to 64 KiB: the most segments a frame can produce. */
static void split_tiny_segments(void)
{
	struct spec s = { .version = 6, .proto = IPPROTO_TCP, .payload = 60000, .gso = 1,
			  .flags = TCP_ACK | TCP_FIN, .sport = 1, .seq = SEQ0 };
	struct list out = { 0 };

	split_and_check(&s, &out);
	list_free(&out);
}

/* GSO_NONE with NEEDS_CSUM: the checksum is completed in place; without it nothing changes. */
static void split_needs_csum(void)
{
	struct spec specs[] = {
		{ .version = 4, .proto = IPPROTO_TCP, .payload = 1000, .flags = TCP_ACK | TCP_PSH,
		  .optlen = 12, .seq = SEQ0 },
		{ .version = 6, .proto = IPPROTO_TCP, .payload = 1, .flags = TCP_SYN },
		{ .version = 4, .proto = IPPROTO_UDP, .payload = 333 },
		{ .version = 6, .proto = IPPROTO_UDP, .payload = 0 },
	};
	uint8_t *frame = frame_buf(), *scratch = frame_buf();

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct list out = { 0 };
		size_t len = build_frame(frame, &specs[i], true);
		size_t plen = len - AWG_VNET_HDR_LEN;

		CHECK_INT(awg_offload_split(frame, len, scratch, 64, sink, &out), 1);
		if (CHECK_INT(out.n, 1) && CHECK_INT(out.p[0].len, plen))
			CHECK(ref_l4_ok(out.p[0].data, plen, spec_iphl(&specs[i]), specs[i].proto));
		list_free(&out);
		/* Already complete: passed through untouched. */
		len = build_frame(frame, &specs[i], false);
		CHECK_INT(awg_offload_split(frame, len, scratch, 64, sink, &out), 1);
		if (CHECK_INT(out.n, 1))
			CHECK_MEM(out.p[0].data, frame + AWG_VNET_HDR_LEN, plen);
		list_free(&out);
	}
	free(frame);
	free(scratch);
}

/* A UDP checksum that computes to zero is sent as 0xffff (RFC 768), split or completed. */
static void split_udp_zero_csum(void)
{
	struct spec s = { .version = 4, .proto = IPPROTO_UDP, .payload = 64, .gso = 64 };
	uint8_t *frame = frame_buf(), *scratch = frame_buf();
	uint8_t *ip = frame + AWG_VNET_HDR_LEN;
	struct list out = { 0 };
	size_t len = build_frame(frame, &s, false);
	uint16_t sum;

	/* Choose payload word 0 so that the data sums to 0xffff. */
	wr16(ip + 28, 0);
	wr16(ip + 26, 0);
	sum = ref_fold(ref_sum(ref_pseudo(ip, IPPROTO_UDP, len - AWG_VNET_HDR_LEN - 20), ip + 20,
			       len - AWG_VNET_HDR_LEN - 20));
	wr16(ip + 28, ~sum & 0xffff);
	for (int gso = 0; gso < 2; gso++) {
		struct virtio_net_hdr h;

		memcpy(&h, frame, sizeof(h));
		h.gso_type = gso ? VIRTIO_NET_HDR_GSO_UDP_L4 : VIRTIO_NET_HDR_GSO_NONE;
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		memcpy(frame, &h, sizeof(h));
		wr16(ip + 26, ref_fold(ref_pseudo(ip, IPPROTO_UDP, len - AWG_VNET_HDR_LEN - 20)));
		CHECK_INT(awg_offload_split(frame, len, scratch, AWG_OFFLOAD_SCRATCH_LEN, sink, &out),
			  1);
		if (CHECK_INT(out.n, 1))
			CHECK_INT(rd16(out.p[0].data + 26), 0xffff);
		list_free(&out);
	}
	free(frame);
	free(scratch);
}

static int split_len(uint8_t *frame, size_t len, uint8_t *scratch, size_t cap, size_t *emitted)
{
	struct list out = { 0 };
	int n = awg_offload_split(frame, len, scratch, cap, sink, &out);

	*emitted = out.n;
	list_free(&out);
	return n;
}

static void set_hdr(uint8_t *frame, void (*edit)(struct virtio_net_hdr *h, unsigned v),
		    unsigned v)
{
	struct virtio_net_hdr h;

	memcpy(&h, frame, sizeof(h));
	edit(&h, v);
	memcpy(frame, &h, sizeof(h));
}

static void edit_hdr_len(struct virtio_net_hdr *h, unsigned v)
{
	h->hdr_len = (uint16_t)v;
}

static void edit_gso_size(struct virtio_net_hdr *h, unsigned v)
{
	h->gso_size = (uint16_t)v;
}

static void edit_gso_type(struct virtio_net_hdr *h, unsigned v)
{
	h->gso_type = (uint8_t)v;
}

static void edit_csum_start(struct virtio_net_hdr *h, unsigned v)
{
	h->csum_start = (uint16_t)v;
}

#define EXPECT_EINVAL(frame, len) do {                                                         \
		size_t emitted_;                                                               \
		CHECK_INT(split_len((frame), (len), scratch, AWG_OFFLOAD_SCRATCH_LEN, &emitted_), \
			  -EINVAL);                                                            \
		CHECK_INT(emitted_, 0);                                                        \
	} while (0)

/* Malformed frames fail with -EINVAL and emit nothing; ASan builds check the bounds. */
static void split_malformed(void)
{
	struct spec tcp = { .version = 4, .proto = IPPROTO_TCP, .payload = 3000, .gso = 1000,
			    .flags = TCP_ACK, .optlen = 12 };
	struct spec udp6 = { .version = 6, .proto = IPPROTO_UDP, .payload = 3000, .gso = 1000 };
	uint8_t *frame = frame_buf(), *scratch = frame_buf();
	size_t len, hlen = AWG_VNET_HDR_LEN + spec_hlen(&tcp), emitted;

	len = build_frame(frame, &tcp, true);
	/* Every truncation inside the headers; past them a shorter frame is still valid. */
	for (size_t l = 0; l <= hlen; l++) {
		build_frame(frame, &tcp, true);
		set_hdr(frame, edit_hdr_len, 0);
		EXPECT_EINVAL(frame, l);
	}
	build_frame(frame, &tcp, true);
	CHECK_INT(split_len(frame, hlen + 1, scratch, AWG_OFFLOAD_SCRATCH_LEN, &emitted), 1);
	build_frame(frame, &tcp, true);
	set_hdr(frame, edit_hdr_len, (unsigned)(len - AWG_VNET_HDR_LEN + 1));
	EXPECT_EINVAL(frame, len);
	build_frame(frame, &tcp, true);
	set_hdr(frame, edit_gso_size, 0);
	EXPECT_EINVAL(frame, len);
	for (unsigned t = 2; t < 256; t++) {
		if (t == VIRTIO_NET_HDR_GSO_UDP_L4 || t == VIRTIO_NET_HDR_GSO_TCPV4 ||
		    t == (VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN))
			continue;
		build_frame(frame, &tcp, true);
		set_hdr(frame, edit_gso_type, t);
		EXPECT_EINVAL(frame, len);
	}
	for (unsigned v = 0; v < 16; v++) {
		if (v == 4)
			continue;
		build_frame(frame, &tcp, true);
		frame[AWG_VNET_HDR_LEN] = (uint8_t)(v << 4 | 5);
		EXPECT_EINVAL(frame, len);
		frame[AWG_VNET_HDR_LEN] = (uint8_t)(v << 4 | 5);
		set_hdr(frame, edit_gso_type, VIRTIO_NET_HDR_GSO_NONE);
		if (v != 6)
			EXPECT_EINVAL(frame, len);
	}
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		build_frame(frame, &tcp, true);
		frame[AWG_VNET_HDR_LEN] = (uint8_t)(0x40 | ihl);
		EXPECT_EINVAL(frame, len);
	}
	build_frame(frame, &tcp, true);
	frame[AWG_VNET_HDR_LEN] = 0x4f;		/* 60-byte IP header in a 70-byte packet */
	EXPECT_EINVAL(frame, AWG_VNET_HDR_LEN + 70);
	build_frame(frame, &tcp, true);
	frame[AWG_VNET_HDR_LEN + 9] = IPPROTO_UDP;	/* TCPV4 over a UDP packet */
	EXPECT_EINVAL(frame, len);
	build_frame(frame, &tcp, true);
	frame[AWG_VNET_HDR_LEN + 6] |= 0x20;		/* MF */
	EXPECT_EINVAL(frame, len);
	for (unsigned doff = 0; doff < 5; doff++) {
		build_frame(frame, &tcp, true);
		frame[AWG_VNET_HDR_LEN + 20 + 12] = (uint8_t)(doff << 4);
		EXPECT_EINVAL(frame, len);
	}
	build_frame(frame, &tcp, true);
	frame[AWG_VNET_HDR_LEN + 20 + 12] = 0xf0;	/* 60-byte TCP header in 70 bytes */
	EXPECT_EINVAL(frame, AWG_VNET_HDR_LEN + 70);
	/* A segment larger than the scratch buffer: nothing is emitted. */
	build_frame(frame, &tcp, true);
	CHECK_INT(split_len(frame, len, scratch, hlen - AWG_VNET_HDR_LEN + 999, &emitted), -ENOSPC);
	CHECK_INT(emitted, 0);
	CHECK_INT(split_len(frame, len, scratch, hlen - AWG_VNET_HDR_LEN + 1000, &emitted), 3);
	/* IPv6: truncated, unknown extension header, wrong next header. */
	len = build_frame(frame, &udp6, true);
	EXPECT_EINVAL(frame, AWG_VNET_HDR_LEN + 47);
	frame[AWG_VNET_HDR_LEN + 6] = 44;		/* fragment header */
	EXPECT_EINVAL(frame, len);
	frame[AWG_VNET_HDR_LEN + 6] = 0;		/* hop-by-hop claiming 2 KiB */
	frame[AWG_VNET_HDR_LEN + 41] = 255;
	EXPECT_EINVAL(frame, AWG_VNET_HDR_LEN + 1000);
	frame[AWG_VNET_HDR_LEN + 6] = IPPROTO_TCP;
	EXPECT_EINVAL(frame, len);
	/* NEEDS_CSUM pointing past the packet. */
	len = build_frame(frame, &(struct spec){ .version = 4, .proto = IPPROTO_UDP, .payload = 10 },
			  true);
	set_hdr(frame, edit_csum_start, (unsigned)(len - AWG_VNET_HDR_LEN - 7));
	EXPECT_EINVAL(frame, len);
	set_hdr(frame, edit_csum_start, 60000);
	EXPECT_EINVAL(frame, len);
	free(frame);
	free(scratch);
}

/* Random corruption of valid frames: any result, but never out of bounds (ASan build). */
static void split_mutations(void)
{
	uint8_t *frame = frame_buf(), *scratch = frame_buf();
	uint64_t x = 88172645463325252ull;
	size_t emitted;

	for (int iter = 0; iter < 20000; iter++) {
		struct spec s = { .version = iter & 1 ? 6 : 4,
				  .proto = iter & 2 ? IPPROTO_UDP : IPPROTO_TCP,
				  .payload = (size_t)(iter % 700) + 1, .gso = (unsigned)(iter % 90) + 1,
				  .flags = TCP_ACK, .optlen = (size_t)(iter % 4) * 4 };
		size_t len = build_frame(frame, &s, true);

		for (int k = 0; k < 1 + iter % 4; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			frame[x % (AWG_VNET_HDR_LEN + 80)] ^= (uint8_t)(x >> 32);
		}
		split_len(frame, len - (x >> 40) % 8, scratch, 1 + (x >> 20) % 2000, &emitted);
	}
	CHECK(true);
	free(frame);
	free(scratch);
}

/* ---- GRO ---- */

struct gro_fixture {
	uint8_t *area;
	struct awg_gro g;
	struct list out;
};

static void gro_setup(struct gro_fixture *f, unsigned nflows, bool udp)
{
	memset(f, 0, sizeof(*f));
	f->area = malloc(AWG_GRO_AREA_LEN(nflows));
	if (!f->area)
		abort();
	CHECK_INT(awg_gro_init(&f->g, f->area, AWG_GRO_AREA_LEN(nflows), udp), 0);
	CHECK_INT(f->g.nflows, nflows);
}

static void gro_teardown(struct gro_fixture *f)
{
	list_free(&f->out);
	free(f->area);
}

static void gro_feed(struct gro_fixture *f, const struct list *in)
{
	for (size_t i = 0; i < in->n; i++)
		CHECK_INT(awg_gro_add(&f->g, in->p[i].data, in->p[i].len, sink, &f->out), 0);
}

/* Splits every GRO output frame again (zero-header frames yield their packet). */
static bool resplit_all(const struct list *frames, struct list *pkts)
{
	uint8_t *buf = frame_buf(), *scratch = frame_buf();
	bool ok = true;

	for (size_t i = 0; i < frames->n && ok; i++) {
		memcpy(buf, frames->p[i].data, frames->p[i].len);
		ok = CHECK(awg_offload_split(buf, frames->p[i].len, scratch, AWG_OFFLOAD_SCRATCH_LEN,
					     sink, pkts) > 0);
	}
	free(buf);
	free(scratch);
	return ok;
}

/* The header and partial checksum of a coalesced frame. */
static void check_gro_frame(const uint8_t *frame, size_t len, const struct spec *s)
{
	struct virtio_net_hdr h;
	const uint8_t *ip = frame + AWG_VNET_HDR_LEN;
	size_t iphl = spec_iphl(s), plen = len - AWG_VNET_HDR_LEN;
	unsigned csum_off = s->proto == IPPROTO_TCP ? 16 : 6;

	memcpy(&h, frame, sizeof(h));
	CHECK_INT(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_INT(h.gso_type, s->proto == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4 :
		  s->version == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6);
	CHECK_INT(h.gso_size, s->gso);
	CHECK_INT(h.hdr_len, spec_hlen(s));
	CHECK_INT(h.csum_start, iphl);
	CHECK_INT(h.csum_offset, csum_off);
	CHECK_INT(rd16(ip + iphl + csum_off), ref_fold(ref_pseudo(ip, s->proto, plen - iphl)));
	if (s->version == 4) {
		CHECK_INT(rd16(ip + 2), plen);
		CHECK(ref_ip4_ok(ip));
	} else {
		CHECK_INT(rd16(ip + 4), plen - 40);
	}
	if (s->proto == IPPROTO_UDP)
		CHECK_INT(rd16(ip + iphl + 4), plen - iphl);
}

/* Split, coalesce, split again: the same segments, and one frame when they fit in 64 KiB. */
static void gro_roundtrip_one(const struct spec *s, size_t want_frames)
{
	struct gro_fixture f;
	struct list segs = { 0 }, again = { 0 };
	struct virtio_net_hdr h;

	gro_setup(&f, 8, true);
	split_and_check(s, &segs);
	gro_feed(&f, &segs);
	awg_gro_flush(&f.g, sink, &f.out);
	CHECK_INT(f.out.n, want_frames);
	if (f.out.n && segs.n > 1 && !(s->flags & (TCP_FIN | TCP_CWR)))
		check_gro_frame(f.out.p[0].data, f.out.p[0].len, s);
	if (segs.n == 1) {
		memcpy(&h, f.out.p[0].data, sizeof(h));
		CHECK(!h.flags && !h.gso_type && !h.gso_size);
	}
	if (resplit_all(&f.out, &again))
		CHECK(lists_equal(&again, &segs));
	list_free(&segs);
	list_free(&again);
	gro_teardown(&f);
}

static void gro_roundtrip(void)
{
	static const size_t sizes[] = { 1, 1448, 2896, 5000, 20000, 60000 };

	for (unsigned v = 4; v <= 6; v += 2)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct spec tcp = { .version = v, .proto = IPPROTO_TCP, .payload = sizes[i],
					    .gso = 1448, .flags = TCP_ACK | TCP_PSH, .optlen = 12,
					    .sport = 5, .seq = SEQ0, .id = ID0 };
			struct spec udp = { .version = v, .proto = IPPROTO_UDP, .payload = sizes[i],
					    .gso = 1200, .sport = 6, .id = ID0 };

			gro_roundtrip_one(&tcp, 1);
			tcp.flags = TCP_ACK;
			tcp.optlen = 0;
			gro_roundtrip_one(&tcp, 1);
			/* FIN on the last segment and CWR on the first pass through alone. */
			tcp.flags = TCP_ACK | TCP_FIN;
			gro_roundtrip_one(&tcp, sizes[i] > 1448 ? 2 : 1);
			tcp.flags = TCP_ACK | TCP_CWR;
			gro_roundtrip_one(&tcp, sizes[i] > 1448 ? 2 : 1);
			gro_roundtrip_one(&udp, 1);
		}
}

/* 64 KiB of segments does not fit one frame: 45 segments of 1448 bytes per IPv4 frame. */
static void gro_size_limit(void)
{
	struct spec s = { .version = 4, .proto = IPPROTO_TCP, .payload = 1448 * 100, .gso = 1448,
			  .flags = TCP_ACK, .sport = 7, .seq = SEQ0 };
	struct spec part = s;
	struct gro_fixture f;
	struct list segs = { 0 }, again = { 0 };

	gro_setup(&f, 2, false);
	for (size_t off = 0; off < s.payload; off += part.payload) {
		part.payload = s.payload - off < 1448 * 30 ? s.payload - off : 1448 * 30;
		part.seq = s.seq + (uint32_t)off;
		part.id = (uint16_t)(off / 1448);
		split_and_check(&part, &segs);
	}
	gro_feed(&f, &segs);
	awg_gro_flush(&f.g, sink, &f.out);
	CHECK_INT(f.out.n, 3);
	for (size_t i = 0; i < f.out.n; i++)
		CHECK(f.out.p[i].len <= AWG_VNET_HDR_LEN + 65535);
	if (resplit_all(&f.out, &again))
		CHECK(lists_equal(&again, &segs));
	list_free(&segs);
	list_free(&again);
	gro_teardown(&f);
}

/* A packet of flow sport, version v, protocol proto with the given TCP flags and payload. */
static void push_alt(struct list *l, unsigned v, unsigned proto, uint16_t sport, uint8_t flags,
		     uint32_t seq, uint16_t id, size_t payload, unsigned alt)
{
	struct spec s = { .version = v, .proto = proto, .payload = payload, .flags = flags,
			  .optlen = 12, .sport = sport, .seq = seq, .id = id, .alt = alt };
	uint8_t *frame = frame_buf();
	size_t len = build_frame(frame, &s, false);

	list_push(l, frame + AWG_VNET_HDR_LEN, len - AWG_VNET_HDR_LEN);
	free(frame);
}

static void push_pkt(struct list *l, unsigned v, unsigned proto, uint16_t sport, uint8_t flags,
		     uint32_t seq, uint16_t id, size_t payload)
{
	push_alt(l, v, proto, sport, flags, seq, id, payload, 0);
}

static void push_icmp(struct list *l, uint8_t tag)
{
	uint8_t p[28] = { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, IPPROTO_ICMP, 0, 0, 10, 0, 0, 1, 10, 0, 0,
			  2, 8, 0, 0, 0, 0, 0, 0, tag };

	list_push(l, p, sizeof(p));
}

/*
 * Order within flows: interleaved A and B data with a pure ACK, PSH and ICMP between. Expected
 * frames: ICMP (at once), A1+A2 (flushed by A's pure ACK), the ACK, B1+B2+B3 (ended by PSH),
 * ICMP, A3+A4 (ended by a short segment), then B4 and A5 at flush.
 */
static void gro_interleaved(void)
{
	struct gro_fixture f;
	struct list in = { 0 }, again = { 0 };
	const uint8_t A = TCP_ACK;
	size_t sz = 1000;

	gro_setup(&f, 8, false);
	push_pkt(&in, 4, IPPROTO_TCP, 10, A, 100, 1, sz);		/* A1 */
	push_pkt(&in, 6, IPPROTO_TCP, 20, A, 500, 0, sz);		/* B1 */
	push_icmp(&in, 1);
	push_pkt(&in, 4, IPPROTO_TCP, 10, A, 100 + 1000, 2, sz);	/* A2 */
	push_pkt(&in, 6, IPPROTO_TCP, 20, A, 500 + 1000, 0, sz);	/* B2 */
	push_pkt(&in, 4, IPPROTO_TCP, 10, A, 100 + 2000, 3, 0);	/* A pure ACK */
	push_pkt(&in, 6, IPPROTO_TCP, 20, A | TCP_PSH, 500 + 2000, 0, sz);	/* B3, PSH */
	push_icmp(&in, 2);
	push_pkt(&in, 4, IPPROTO_TCP, 10, A, 100 + 2000, 4, sz);	/* A3 */
	push_pkt(&in, 4, IPPROTO_TCP, 10, A, 100 + 3000, 5, 600);	/* A4, short */
	push_pkt(&in, 6, IPPROTO_TCP, 20, A, 500 + 3000, 0, sz);	/* B4 */
	push_pkt(&in, 4, IPPROTO_TCP, 10, A, 100 + 3600, 6, sz);	/* A5 */
	gro_feed(&f, &in);
	awg_gro_flush(&f.g, sink, &f.out);
	CHECK_INT(f.out.n, 8);
	if (resplit_all(&f.out, &again) && CHECK_INT(again.n, in.n)) {
		/* ICMP passes at once; A1 A2 wait for A's pure ACK. */
		static const size_t order[] = { 2, 0, 3, 5, 1, 4, 6, 7, 8, 9, 10, 11 };

		for (size_t i = 0; i < in.n; i++)
			CHECK(again.p[i].len == in.p[order[i]].len &&
			      !memcmp(again.p[i].data, in.p[order[i]].data, again.p[i].len));
	}
	list_free(&in);
	list_free(&again);
	gro_teardown(&f);
}

/* ---- random streams: per flow, splitting GRO's output gives back its input ---- */

enum { RFLOWS = 12 };

struct rflow {
	unsigned version, proto;
	uint16_t sport, id;
	uint32_t seq;
	struct list in, got;
};

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Appends one random packet of flow r (mostly in-order data) to in and r->in. */
static void random_pkt(struct rflow *r, uint64_t *x, struct list *in)
{
	static const uint8_t odd_flags[] = { TCP_SYN | TCP_ACK, TCP_FIN | TCP_ACK, TCP_RST,
					     TCP_ACK | TCP_PSH, TCP_ACK | 0x20 };
	uint64_t k = rnd(x) % 100;
	size_t payload = k < 70 ? 1000 : k < 80 ? rnd(x) % 1000 : rnd(x) % 1200;
	uint8_t flags = TCP_ACK;
	uint32_t seq = r->seq;

	if (k >= 90 && k < 95)
		flags = odd_flags[rnd(x) % sizeof(odd_flags)];
	if (k >= 95)
		seq += (uint32_t)(rnd(x) % 3000);	/* out of order */
	if (r->proto == IPPROTO_UDP && !payload)
		payload = 1;
	/* Now and then a field that forbids coalescing with the packets around. */
	push_alt(&r->in, r->version, r->proto, r->sport, flags, seq, r->id++, payload,
		 k >= 85 && k < 90 ? 1u << (k - 85) % 4 : 0);
	if (k == 99 && r->in.p[r->in.n - 1].len > 60)
		r->in.p[r->in.n - 1].data[59] ^= 0x40;	/* bad checksum */
	if (k == 98) {
		uint8_t *ip = r->in.p[r->in.n - 1].data;

		ip[r->version == 4 ? 8 : 7] ^= 1;	/* TTL/hop limit */
		if (r->version == 4) {
			wr16(ip + 10, 0);
			wr16(ip + 10, ~ref_fold(ref_sum(0, ip, 20)) & 0xffff);
		}
	}
	r->seq = seq + (uint32_t)payload;
	list_push(in, r->in.p[r->in.n - 1].data, r->in.p[r->in.n - 1].len);
}

static struct rflow *flow_of(struct rflow *flows, const uint8_t *pkt)
{
	size_t thoff = pkt[0] >> 4 == 4 ? 20 : 40;

	if (pkt[0] >> 4 == 4 && pkt[9] == IPPROTO_ICMP)
		return NULL;
	for (int i = 0; i < RFLOWS; i++)
		if (rd16(pkt + thoff) == flows[i].sport)
			return &flows[i];
	return NULL;
}

static void gro_random_round(uint64_t seed, unsigned nflows, size_t npkts)
{
	struct rflow flows[RFLOWS];
	struct gro_fixture f;
	struct list in = { 0 }, again = { 0 }, icmp_in = { 0 }, icmp_got = { 0 };
	uint64_t x = seed;
	size_t coalesced = 0;

	memset(flows, 0, sizeof(flows));
	gro_setup(&f, nflows, true);
	for (int i = 0; i < RFLOWS; i++) {
		flows[i].version = i % 2 ? 6 : 4;
		flows[i].proto = i % 3 ? IPPROTO_TCP : IPPROTO_UDP;
		flows[i].sport = (uint16_t)(3000 + i);
		flows[i].seq = (uint32_t)rnd(&x);
		flows[i].id = (uint16_t)rnd(&x);
	}
	for (size_t n = 0; n < npkts; n++) {
		uint64_t k = rnd(&x) % 100;

		in.n = 0;
		if (k < 3) {
			push_icmp(&icmp_in, (uint8_t)n);
			push_icmp(&in, (uint8_t)n);
		} else {
			/* Bursts: mostly the same few flows. */
			random_pkt(&flows[k < 60 ? n / 50 % RFLOWS : k % RFLOWS], &x, &in);
		}
		gro_feed(&f, &in);
		list_free(&in);
		if (k == 50)
			awg_gro_flush(&f.g, sink, &f.out);
	}
	awg_gro_flush(&f.g, sink, &f.out);
	CHECK(resplit_all(&f.out, &again));
	for (size_t i = 0; i < again.n; i++) {
		struct rflow *r = flow_of(flows, again.p[i].data);

		list_push(r ? &r->got : &icmp_got, again.p[i].data, again.p[i].len);
	}
	for (size_t i = 0; i < f.out.n; i++)
		coalesced += f.out.p[i].data[1] != VIRTIO_NET_HDR_GSO_NONE;
	for (int i = 0; i < RFLOWS; i++) {
		CHECK(lists_equal(&flows[i].in, &flows[i].got));
		list_free(&flows[i].in);
		list_free(&flows[i].got);
	}
	CHECK(lists_equal(&icmp_in, &icmp_got));
	if (nflows)
		CHECK(coalesced > 0 && f.out.n < again.n);
	else
		CHECK(!coalesced);
	list_free(&again);
	list_free(&icmp_in);
	list_free(&icmp_got);
	gro_teardown(&f);
}

static void gro_random(void)
{
	for (uint64_t seed = 1; seed <= 40; seed++)
		gro_random_round(seed * 0x9e3779b97f4a7c15ull, (unsigned)(seed % 9), 3000);
}

/* UDP passes through untouched unless enabled; bad lengths are refused. */
static void gro_options(void)
{
	struct gro_fixture f;
	struct list in = { 0 };
	uint8_t big[1] = { 0x45 };

	gro_setup(&f, 4, false);
	push_pkt(&in, 4, IPPROTO_UDP, 9, 0, 0, 1, 500);
	push_pkt(&in, 4, IPPROTO_UDP, 9, 0, 0, 2, 500);
	gro_feed(&f, &in);
	CHECK_INT(f.out.n, 2);
	CHECK_INT(awg_gro_add(&f.g, big, 0, sink, &f.out), -EINVAL);
	CHECK_INT(awg_gro_add(&f.g, in.p[0].data, 65536, sink, &f.out), -EINVAL);
	CHECK_INT(f.out.n, 2);
	CHECK_INT(awg_gro_init(&f.g, f.area, AWG_GRO_SLOT_LEN - 1, false), -EINVAL);
	CHECK_INT(awg_gro_init(&f.g, f.area, AWG_GRO_SLOT_LEN, false), 0);
	CHECK_INT(f.g.nflows, 0);
	list_free(&in);
	gro_teardown(&f);
}

/* The exported helpers agree with the reference on odd lengths and offsets. */
static void csum_helpers(void)
{
	uint8_t buf[301];
	uint64_t x = 7;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd(&x);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off < sizeof(buf); len++)
			CHECK_INT(awg_csum_fold(awg_csum_add(0x1234, buf + off, len)),
				  ref_fold(ref_sum(0x1234, buf + off, len)));
	/* All ones: every 64-bit add carries (the 32-bit reference has room for the sum). */
	memset(buf, 0xff, sizeof(buf));
	for (size_t len = 0; len < sizeof(buf); len++)
		CHECK_INT(awg_csum_fold(awg_csum_add(0xfeff01, buf, len)),
			  ref_fold(ref_sum(0xfeff01, buf, len)));
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd(&x);
	buf[0] = 0x45;
	CHECK_INT(awg_csum_fold(awg_csum_pseudo(buf, 4, 6, 1000)),
		  ref_fold(ref_sum(0, buf + 12, 8) + 6 + 1000));
	buf[0] = 0x60;
	CHECK_INT(awg_csum_fold(awg_csum_pseudo(buf, 6, 17, 70000)),
		  ref_fold(ref_sum(0, buf + 8, 32) + 17 + 70000));
}

TEST_MAIN("offload", T(csum_helpers), T(split_tcp), T(split_udp), T(split_tiny_segments),
	  T(split_needs_csum), T(split_udp_zero_csum), T(split_malformed), T(split_mutations),
	  T(gro_roundtrip), T(gro_size_limit), T(gro_interleaved), T(gro_random), T(gro_options))
