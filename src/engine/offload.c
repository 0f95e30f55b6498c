// SPDX-License-Identifier: MIT
/* TUN offloads: splitting virtio-net GSO frames (TSO/USO), coalescing packets (GRO), checksums. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "offload.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80
#define TCP_CSUM_OFF 16
#define UDP_CSUM_OFF 6
#define UDP_HDR_LEN 8
#define IPV4_MIN_HDR 20
#define IPV6_HDR_LEN 40
#define IPV6_NH_HOPOPTS 0
#define IPV6_NH_DSTOPTS 60

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Summed as native-endian words; byte order is restored after folding (RFC 1071, 2.B). */
/* a + b in ones'-complement arithmetic on 64-bit words (the carry wraps around). */
static inline uint64_t add_carry64(uint64_t a, uint64_t b)
{
	a += b;
	return a + (a < b);
}

uint32_t awg_csum_add(uint32_t sum, const uint8_t *buf, size_t len)
{
	uint64_t acc = 0, a1 = 0, w, total;
	uint32_t v;
	uint16_t h;

	/*
	 * The Internet checksum is byte-order independent over native words (RFC 1071): add
	 * 8 bytes at a time with end-around carry, in two chains so they can run in parallel.
	 */
	for (; len >= 16; buf += 16, len -= 16) {
		uint64_t w2;

		memcpy(&w, buf, 8);
		memcpy(&w2, buf + 8, 8);
		acc = add_carry64(acc, w);
		a1 = add_carry64(a1, w2);
	}
	acc = add_carry64(acc, a1);
	if (len >= 8) {
		memcpy(&w, buf, 8);
		acc = add_carry64(acc, w);
		buf += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&v, buf, 4);
		acc = add_carry64(acc, v);
		buf += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, buf, 2);
		acc = add_carry64(acc, h);
		buf += 2;
		len -= 2;
	}
	if (len) {
		uint8_t tail[2] = { buf[0], 0 };

		memcpy(&h, tail, 2);
		acc = add_carry64(acc, h);
	}
	/* Fold 64 -> 16 bits; each step keeps the end-around carry. */
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	total = (uint64_t)sum + ntohs((uint16_t)acc);
	return (uint32_t)((total & 0xffffffff) + (total >> 32));
}

uint32_t awg_csum_pseudo(const uint8_t *ip, unsigned version, uint8_t proto, uint32_t l4_len)
{
	uint32_t sum;

	if (version == 4)
		sum = awg_csum_add(0, ip + 12, 8);
	else
		sum = awg_csum_add(0, ip + 8, 32);
	return sum + proto + (l4_len >> 16) + (l4_len & 0xffff);
}

uint16_t awg_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum of an L4 segment (transport header at l4, l4_len bytes) with its field zero. */
static uint16_t l4_csum(const uint8_t *ip, unsigned version, uint8_t proto, const uint8_t *l4,
			size_t l4_len)
{
	uint32_t sum = awg_csum_pseudo(ip, version, proto, (uint32_t)l4_len);
	uint16_t c = (uint16_t)~awg_csum_fold(awg_csum_add(sum, l4, l4_len));

	/* Zero means "no checksum" for UDP; the same value is sent as all ones. */
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	return c;
}

static uint16_t ipv4_hdr_csum(const uint8_t *ip, size_t ihl)
{
	return (uint16_t)~awg_csum_fold(awg_csum_add(0, ip, ihl));
}

/* Headers of a GSO frame as parsed here: the kernel's hdr_len and csum_start are not trusted. */
struct gso_frame {
	unsigned version;
	uint8_t proto;
	size_t thoff;		/* transport header */
	size_t hlen;		/* all headers, copied to every segment */
	size_t gso_size;
};

/* GSO_NONE with NEEDS_CSUM: the field holds the pseudo-header sum, we add the data to it. */
static int csum_complete(uint8_t *pkt, size_t plen, const struct virtio_net_hdr *h)
{
	size_t start = h->csum_start, off = h->csum_offset;
	uint16_t c;
	uint32_t sum;

	if (start > plen || off > plen - start || plen - start - off < 2)
		return -EINVAL;
	sum = get16(pkt + start + off);
	put16(pkt + start + off, 0);
	c = (uint16_t)~awg_csum_fold(awg_csum_add(sum, pkt + start, plen - start));
	if (off == UDP_CSUM_OFF && c == 0)
		c = 0xffff;
	put16(pkt + start + off, c);
	return 0;
}

static int gso_parse_ipv4(const uint8_t *pkt, size_t plen, struct gso_frame *g)
{
	size_t ihl;

	if (plen < IPV4_MIN_HDR || plen > AWG_OFFLOAD_MAX_PKT)
		return -EINVAL;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < IPV4_MIN_HDR || ihl > plen || pkt[9] != g->proto)
		return -EINVAL;
	if (get16(pkt + 6) & 0x3fff)	/* MF or a fragment offset */
		return -EINVAL;
	g->thoff = ihl;
	return 0;
}

/* Hop-by-hop and destination options may precede the transport header; nothing else may. */
static int gso_parse_ipv6(const uint8_t *pkt, size_t plen, struct gso_frame *g)
{
	size_t off = IPV6_HDR_LEN;
	uint8_t nh;

	if (plen < IPV6_HDR_LEN || plen - IPV6_HDR_LEN > AWG_OFFLOAD_MAX_PKT)
		return -EINVAL;
	nh = pkt[6];
	while (nh == IPV6_NH_HOPOPTS || nh == IPV6_NH_DSTOPTS) {
		if (plen - off < 8)
			return -EINVAL;
		nh = pkt[off];
		off += ((size_t)pkt[off + 1] + 1) * 8;
		if (off > plen)
			return -EINVAL;
	}
	if (nh != g->proto)
		return -EINVAL;
	g->thoff = off;
	return 0;
}

static int gso_parse(const uint8_t *pkt, size_t plen, const struct virtio_net_hdr *h,
		     struct gso_frame *g)
{
	unsigned type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	size_t payload, seg, thl;
	int ret;

	g->version = pkt[0] >> 4;
	g->gso_size = h->gso_size;
	if (type == VIRTIO_NET_HDR_GSO_TCPV4 && g->version == 4)
		g->proto = IPPROTO_TCP;
	else if (type == VIRTIO_NET_HDR_GSO_TCPV6 && g->version == 6)
		g->proto = IPPROTO_TCP;
	else if (type == VIRTIO_NET_HDR_GSO_UDP_L4 && (g->version == 4 || g->version == 6))
		g->proto = IPPROTO_UDP;
	else
		return -EINVAL;
	if (!g->gso_size)
		return -EINVAL;
	ret = g->version == 4 ? gso_parse_ipv4(pkt, plen, g) : gso_parse_ipv6(pkt, plen, g);
	if (ret)
		return ret;
	if (g->proto == IPPROTO_TCP) {
		if (plen - g->thoff < 20)
			return -EINVAL;
		thl = (size_t)(pkt[g->thoff + 12] >> 4) * 4;
		if (thl < 20 || thl > plen - g->thoff)
			return -EINVAL;
	} else {
		thl = UDP_HDR_LEN;
		if (plen - g->thoff < thl)
			return -EINVAL;
	}
	g->hlen = g->thoff + thl;
	if (h->hdr_len > plen || plen == g->hlen)
		return -EINVAL;
	payload = plen - g->hlen;
	seg = payload < g->gso_size ? payload : g->gso_size;
	if (g->hlen + seg - (g->version == 6 ? IPV6_HDR_LEN : 0) > AWG_OFFLOAD_MAX_PKT)
		return -EINVAL;
	return 0;
}

/* Builds segment i (payload bytes [off, off + seglen) after the headers) in s. */
static void gso_build(const uint8_t *pkt, const struct gso_frame *g, uint8_t *s, size_t i,
		      size_t off, size_t seglen, bool last)
{
	size_t l4_len = g->hlen - g->thoff + seglen;
	uint8_t *th = s + g->thoff;

	memcpy(s, pkt, g->hlen);
	memcpy(s + g->hlen, pkt + g->hlen + off, seglen);
	if (g->version == 4) {
		put16(s + 2, (uint16_t)(g->hlen + seglen));
		put16(s + 4, (uint16_t)(get16(pkt + 4) + i));
		put16(s + 10, 0);
		put16(s + 10, ipv4_hdr_csum(s, g->thoff));
	} else {
		put16(s + 4, (uint16_t)(g->hlen - IPV6_HDR_LEN + seglen));
	}
	if (g->proto == IPPROTO_TCP) {
		put32(th + 4, get32(pkt + g->thoff + 4) + (uint32_t)off);
		if (i > 0)
			th[13] &= (uint8_t)~TCP_CWR;
		if (!last)
			th[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		put16(th + TCP_CSUM_OFF, 0);
		put16(th + TCP_CSUM_OFF, l4_csum(s, g->version, g->proto, th, l4_len));
	} else {
		put16(th + 4, (uint16_t)l4_len);
		put16(th + UDP_CSUM_OFF, 0);
		put16(th + UDP_CSUM_OFF, l4_csum(s, g->version, g->proto, th, l4_len));
	}
}

int awg_offload_split(uint8_t *frame, size_t len, uint8_t *scratch, size_t cap,
		      awg_offload_emit_fn emit, void *ctx)
{
	struct virtio_net_hdr h;
	struct gso_frame g;
	uint8_t *pkt = frame + AWG_VNET_HDR_LEN;
	size_t plen, payload, off, seglen;
	int ret, n = 0;

	if (len <= AWG_VNET_HDR_LEN)
		return -EINVAL;
	memcpy(&h, frame, sizeof(h));
	plen = len - AWG_VNET_HDR_LEN;
	if (pkt[0] >> 4 != 4 && pkt[0] >> 4 != 6)
		return -EINVAL;
	if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			ret = csum_complete(pkt, plen, &h);
			if (ret)
				return ret;
		}
		emit(ctx, pkt, plen);
		return 1;
	}
	ret = gso_parse(pkt, plen, &h, &g);
	if (ret)
		return ret;
	payload = plen - g.hlen;
	if (g.hlen + (payload < g.gso_size ? payload : g.gso_size) > cap)
		return -ENOSPC;
	for (off = 0; off < payload; off += seglen, n++) {
		seglen = payload - off < g.gso_size ? payload - off : g.gso_size;
		gso_build(pkt, &g, scratch, (size_t)n, off, seglen, off + seglen == payload);
		emit(ctx, scratch, g.hlen + seglen);
	}
	return n;
}

/* What GRO learns of one packet. */
struct gro_pkt {
	unsigned version;	/* 4 or 6; 0 when too short to carry addresses */
	uint8_t proto;
	bool proto_known;
	size_t thoff;		/* ports readable here; 0 if not (fragment, extension headers) */
	bool cand;		/* may coalesce */
	bool psh;
	uint8_t thl;
	uint16_t payload;
	uint32_t seq;
};

static bool l4_csum_valid(const uint8_t *pkt, size_t len, const struct gro_pkt *p)
{
	size_t l4_len = len - p->thoff;
	uint32_t sum = awg_csum_pseudo(pkt, p->version, p->proto, (uint32_t)l4_len);

	return awg_csum_fold(awg_csum_add(sum, pkt + p->thoff, l4_len)) == 0xffff;
}

/* Candidate IP layer: IPv4 without options or fragmentation, IPv6 without extensions. */
static bool gro_parse_ip(const uint8_t *pkt, size_t len, struct gro_pkt *p)
{
	size_t ihl;

	if (p->version == 4) {
		ihl = (size_t)(pkt[0] & 0x0f) * 4;
		p->proto = pkt[9];
		p->proto_known = true;
		if (get16(pkt + 6) & 0x1fff)	/* a later fragment: no ports */
			return false;
		if (ihl >= IPV4_MIN_HDR && len >= ihl + 4)
			p->thoff = ihl;
		return ihl == IPV4_MIN_HDR && !(get16(pkt + 6) & 0x2000) && get16(pkt + 2) == len &&
		       awg_csum_fold(awg_csum_add(0, pkt, IPV4_MIN_HDR)) == 0xffff;
	}
	p->proto = pkt[6];
	if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)
		return false;
	p->proto_known = true;
	if (len >= IPV6_HDR_LEN + 4)
		p->thoff = IPV6_HDR_LEN;
	return get16(pkt + 4) == len - IPV6_HDR_LEN;
}

static bool gro_parse_tcp(const uint8_t *pkt, size_t len, struct gro_pkt *p)
{
	const uint8_t *th = pkt + p->thoff;
	size_t thl;

	if (len - p->thoff < 20)
		return false;
	thl = (size_t)(th[12] >> 4) * 4;
	if (thl < 20 || thl >= len - p->thoff)	/* no payload */
		return false;
	if (th[13] != TCP_ACK && th[13] != (TCP_ACK | TCP_PSH))
		return false;
	p->thl = (uint8_t)thl;
	p->psh = th[13] & TCP_PSH;
	p->payload = (uint16_t)(len - p->thoff - thl);
	p->seq = get32(th + 4);
	return l4_csum_valid(pkt, len, p);
}

static bool gro_parse_udp(const uint8_t *pkt, size_t len, struct gro_pkt *p)
{
	const uint8_t *uh = pkt + p->thoff;

	if (len - p->thoff <= UDP_HDR_LEN || get16(uh + 4) != len - p->thoff)
		return false;
	if (!get16(uh + UDP_CSUM_OFF))	/* sent without a checksum */
		return false;
	p->thl = UDP_HDR_LEN;
	p->payload = (uint16_t)(len - p->thoff - UDP_HDR_LEN);
	return l4_csum_valid(pkt, len, p);
}

static void gro_parse(const uint8_t *pkt, size_t len, bool udp, struct gro_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->version = pkt[0] >> 4;
	if ((p->version == 4 && len < IPV4_MIN_HDR) || (p->version == 6 && len < IPV6_HDR_LEN) ||
	    (p->version != 4 && p->version != 6)) {
		p->version = 0;
		return;
	}
	if (!gro_parse_ip(pkt, len, p) || !p->thoff)
		return;
	if (p->proto == IPPROTO_TCP)
		p->cand = gro_parse_tcp(pkt, len, p);
	else if (p->proto == IPPROTO_UDP && udp)
		p->cand = gro_parse_udp(pkt, len, p);
}

/* Same flow as f; for packets whose ports (or protocol) are unknown, any flow they may be in. */
static bool flow_matches(const struct awg_gro_flow *f, const uint8_t *pkt,
			 const struct gro_pkt *p)
{
	const uint8_t *fb = f->buf + AWG_VNET_HDR_LEN;

	if (!f->len || !p->version || fb[0] >> 4 != p->version)
		return false;
	if (p->version == 4 ? memcmp(pkt + 12, fb + 12, 8) : memcmp(pkt + 8, fb + 8, 32))
		return false;
	if (p->proto_known && p->proto != f->proto)
		return false;
	return !p->thoff || !memcmp(pkt + p->thoff, fb + f->iphl, 4);
}

static bool flow_can_append(const struct awg_gro_flow *f, const uint8_t *pkt,
			    const struct gro_pkt *p)
{
	const uint8_t *fb = f->buf + AWG_VNET_HDR_LEN;
	const uint8_t *th = pkt + p->thoff, *fth = fb + f->iphl;

	if (p->thl != f->thl || p->payload > f->gso_size ||
	    f->len + p->payload > AWG_OFFLOAD_MAX_PKT)
		return false;
	if (p->version == 4) {
		if (pkt[1] != fb[1] || pkt[6] >> 5 != fb[6] >> 5 || pkt[8] != fb[8])
			return false;
	} else if (memcmp(pkt, fb, 4) || pkt[7] != fb[7]) {
		return false;
	}
	if (f->proto == IPPROTO_UDP)
		return true;
	return p->seq == f->next_seq && !memcmp(th + 8, fth + 8, 4) &&
	       !memcmp(th + 14, fth + 14, 2) && !memcmp(th + 20, fth + 20, p->thl - 20u);
}

static void pass_through(struct awg_gro *g, const uint8_t *pkt, size_t len,
			 awg_offload_emit_fn out, void *ctx)
{
	memset(g->bounce, 0, AWG_VNET_HDR_LEN);
	memcpy(g->bounce + AWG_VNET_HDR_LEN, pkt, len);
	out(ctx, g->bounce, AWG_VNET_HDR_LEN + len);
}

/* Finishes a super-packet of several segments: lengths, IPv4 header checksum, GSO header. */
static void flow_finish(struct awg_gro_flow *f, struct virtio_net_hdr *h)
{
	uint8_t *fb = f->buf + AWG_VNET_HDR_LEN;
	unsigned version = fb[0] >> 4;
	uint16_t l4_len = (uint16_t)(f->len - f->iphl);
	uint16_t csum_off = f->proto == IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF;

	if (version == 4) {
		put16(fb + 2, (uint16_t)f->len);
		put16(fb + 10, 0);
		put16(fb + 10, ipv4_hdr_csum(fb, f->iphl));
	} else {
		put16(fb + 4, l4_len);
	}
	if (f->proto == IPPROTO_UDP)
		put16(fb + f->iphl + 4, l4_len);
	put16(fb + f->iphl + csum_off, awg_csum_fold(awg_csum_pseudo(fb, version, f->proto, l4_len)));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	if (f->proto == IPPROTO_UDP)
		h->gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	else
		h->gso_type = version == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	h->hdr_len = (uint16_t)(f->iphl + f->thl);
	h->gso_size = f->gso_size;
	h->csum_start = f->iphl;
	h->csum_offset = csum_off;
}

static void flow_flush(struct awg_gro_flow *f, awg_offload_emit_fn out, void *ctx)
{
	struct virtio_net_hdr h;

	memset(&h, 0, sizeof(h));
	if (f->segs > 1)
		flow_finish(f, &h);
	memcpy(f->buf, &h, sizeof(h));
	out(ctx, f->buf, AWG_VNET_HDR_LEN + f->len);
	f->len = 0;
}

static void flow_start(struct awg_gro *g, struct awg_gro_flow *f, const uint8_t *pkt,
		       size_t len, const struct gro_pkt *p)
{
	memcpy(f->buf + AWG_VNET_HDR_LEN, pkt, len);
	f->stamp = g->clock;
	f->len = (uint32_t)len;
	f->next_seq = p->seq + p->payload;
	f->gso_size = p->payload;
	f->segs = 1;
	f->iphl = (uint8_t)p->thoff;
	f->thl = p->thl;
	f->proto = p->proto;
}

/* Appends the payload; returns true when nothing may follow (PSH, or a short segment). */
static bool flow_append(struct awg_gro *g, struct awg_gro_flow *f, const uint8_t *pkt,
			const struct gro_pkt *p)
{
	uint8_t *fb = f->buf + AWG_VNET_HDR_LEN;

	memcpy(fb + f->len, pkt + p->thoff + p->thl, p->payload);
	f->stamp = g->clock;
	f->len += p->payload;
	f->next_seq += p->payload;
	f->segs++;
	if (p->psh)
		fb[f->iphl + 13] |= TCP_PSH;
	return p->psh || p->payload < f->gso_size;
}

/* A free slot, or the least recently used one after flushing it; NULL without slots. */
static struct awg_gro_flow *flow_slot(struct awg_gro *g, awg_offload_emit_fn out, void *ctx)
{
	struct awg_gro_flow *lru = NULL;
	unsigned i;

	for (i = 0; i < g->nflows; i++) {
		if (!g->flows[i].len)
			return &g->flows[i];
		if (!lru || g->flows[i].stamp < lru->stamp)
			lru = &g->flows[i];
	}
	if (lru)
		flow_flush(lru, out, ctx);
	return lru;
}

int awg_gro_init(struct awg_gro *g, uint8_t *area, size_t area_len, bool udp)
{
	size_t n;
	unsigned i;

	memset(g, 0, sizeof(*g));
	if (!area || area_len < AWG_GRO_SLOT_LEN)
		return -EINVAL;
	n = area_len / AWG_GRO_SLOT_LEN - 1;
	g->nflows = n < AWG_GRO_MAX_FLOWS ? (unsigned)n : AWG_GRO_MAX_FLOWS;
	g->bounce = area;
	for (i = 0; i < g->nflows; i++)
		g->flows[i].buf = area + (i + 1) * AWG_GRO_SLOT_LEN;
	g->udp = udp;
	return 0;
}

int awg_gro_add(struct awg_gro *g, const uint8_t *pkt, size_t len, awg_offload_emit_fn out,
		void *ctx)
{
	struct awg_gro_flow *f = NULL;
	struct gro_pkt p;
	unsigned i;

	if (!len || len > AWG_OFFLOAD_MAX_PKT)
		return -EINVAL;
	gro_parse(pkt, len, g->udp, &p);
	g->clock++;
	for (i = 0; i < g->nflows; i++) {
		if (!flow_matches(&g->flows[i], pkt, &p))
			continue;
		if (!p.cand) {
			flow_flush(&g->flows[i], out, ctx);
			continue;
		}
		f = &g->flows[i];
		if (flow_can_append(f, pkt, &p)) {
			if (flow_append(g, f, pkt, &p))
				flow_flush(f, out, ctx);
			return 0;
		}
		flow_flush(f, out, ctx);
		break;
	}
	if (!p.cand || p.psh) {
		pass_through(g, pkt, len, out, ctx);
		return 0;
	}
	if (!f)
		f = flow_slot(g, out, ctx);
	if (f)
		flow_start(g, f, pkt, len, &p);
	else
		pass_through(g, pkt, len, out, ctx);
	return 0;
}

void awg_gro_flush(struct awg_gro *g, awg_offload_emit_fn out, void *ctx)
{
	unsigned i;

	for (i = 0; i < g->nflows; i++)
		if (g->flows[i].len)
			flow_flush(&g->flows[i], out, ctx);
}
