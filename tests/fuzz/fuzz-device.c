// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the device receive path (awg_device_receive and everything behind it:
 * classification, MACs and cookies, the handshake, transport decryption, replay, routing and
 * timers). Two in-process devices (the unit tests' pair, tests/unit/pair.c), "a" (the target)
 * and "b" (a real peer that makes valid traffic), are created per input with fixed keys and a
 * deterministic splitmix env, so every input replays exactly and nothing survives it.
 *
 * Input: byte 0 = flags, then ops of [opcode][LE16 length][payload] until the input ends.
 *   flags bit 0: AWG 3.1 framing (S, ranged H, header protection, junk, I1, trailers) vs plain;
 *   flags bit 1: complete a real handshake b -> a before the ops run.
 * Opcodes (low 3 bits; bit 3 and bit 4 are modifiers):
 *   0 RAW      payload -> a as one datagram (bit 3: from a second, IPv6 source)
 *   1 INIT     b sends an initiation (decoys first); its last datagram is mutated by payload
 *   2 DATA     b encrypts payload (bit 3: fixed up as an IPv4 packet from b's address) -> a
 *   3 MUTATE   b's last datagram, mutated by payload (empty: plain replay), -> a
 *   4 TIME     advance the clocks by LE32(payload) ms and run both devices' timers
 *   5 SEND     a sends payload (fixed up as IPv4 to b) to b; stages and starts a handshake
 *   6 LOAD     a's handshake queue is reported payload[0] * 8 / 1024 full (cookie path)
 *   7 KEEPALIVE a's persistent keepalive to b: off, or 1..(1 + payload[0] % 30) s
 * A mutation is [LE16 offset][bytes]: XOR the bytes in at offset % len; with bit 4 the datagram
 * is instead truncated to offset % (len + 1) bytes.
 * After each op the datagrams both devices sent are delivered to each other (bounded).
 */
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "messages.h"
#include "pair.h"
#include "testenv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	MAX_OPS = 64,
	MAX_INBOX = 64,
	MAX_PUMP = 256,
	MAX_PAYLOAD = 2048,
	MAX_EXPIRE = 64,
};

static struct test_env fe;
static struct pair_node na, nb;
/* The last datagram b sent, for MUTATE. */
static uint8_t last[AWG_DEVICE_MAX_DATAGRAM];
static size_t last_len;

static uint8_t priv_a[32], priv_b[32];
static const uint8_t ip_a[4] = { 10, 0, 0, 1 }, ip_b[4] = { 10, 0, 0, 2 };
static const uint8_t ip6_b[16] = { 0xfd, [15] = 2 };


/* The shared ops, behind this harness's oracles; b's last datagram is kept for MUTATE. */
static void node_send(void *ctx, struct awg_peer *peer, const struct awg_udp_addr *dst,
		      const uint8_t *dgram, size_t len)
{
	if (len > AWG_DEVICE_MAX_DATAGRAM)
		abort();
	if (ctx == &nb) {
		memcpy(last, dgram, len);
		last_len = len;
	}
	pair_send(ctx, peer, dst, dgram, len);
}

/* Cryptokey routing: a packet delivered from a peer must come from that peer's allowed IPs. */
static void node_deliver(void *ctx, struct awg_peer *peer, const uint8_t *pkt, size_t len)
{
	struct pair_node *n = ctx;

	if (peer != n->peer || len < 20 || len > AWG_DEVICE_MAX_DATAGRAM)
		abort();
	if (pkt[0] >> 4 == 4) {
		if (memcmp(pkt + 12, n == &na ? ip_b : ip_a, 4))
			abort();
	} else if (pkt[0] >> 4 == 6) {
		if (n != &na || len < 40 || memcmp(pkt + 8, ip6_b, 16))
			abort();
	} else {
		abort();
	}
	pair_deliver(ctx, peer, pkt, len);
}

static void node_session(void *ctx, struct awg_peer *peer)
{
	if (peer != ((struct pair_node *)ctx)->peer)
		abort();
	pair_session(ctx, peer);
}

static const struct awg_device_ops ops = {
	.send = node_send, .deliver = node_deliver, .session = node_session,
};

static void init_keys(void)
{
	for (int i = 0; i < 32; i++) {
		priv_a[i] = (uint8_t)(0x11 * (i + 1));
		priv_b[i] = (uint8_t)(0x5a ^ (3 * i));
	}
}

static void setup(bool awg31)
{
	struct awg_obfs_params p;

	test_env_init(&fe, 0x6177672d66757a7a);
	fe.wall_ns = UINT64_C(1700000000) * 1000000000;
	last_len = 0;
	if (awg31)
		pair_params_31(&p);
	if (pair_setup(&na, &nb, &(struct pair_opts){ .env = &fe.env, .ops = &ops,
						      .private_keys = { priv_a, priv_b },
						      .obfs = awg31 ? &p : NULL,
						      .ispecs = awg31 ? pair_ispecs_31 : NULL,
						      .inbox_cap = MAX_INBOX }) < 0)
		abort();
	na.dev->mtu = nb.dev->mtu = 1400;
	/* b is the initiator that knows where a is; a learns b's endpoint from b's packets. */
	na.peer->endpoint = (struct awg_udp_addr){ 0 };
	nb.peer->endpoint = na.ep;
	if (awg_device_peer_allow(na.dev, na.peer, AWG_AF_INET6, ip6_b, 128) < 0)
		abort();
}

/* Alternates between the nodes for at most MAX_PUMP rounds, then drops what is left. */
static void pump(void)
{
	for (unsigned steps = 0; steps < MAX_PUMP && (na.inbox_len || nb.inbox_len); steps++) {
		if (na.inbox_len)
			pair_deliver_one(&na);
		if (nb.inbox_len)
			pair_deliver_one(&nb);
	}
	pair_drain(&na);
	pair_drain(&nb);
}

static void run_timers(void)
{
	for (unsigned i = 0; i < MAX_EXPIRE; i++) {
		uint64_t d = awg_device_next_deadline(na.dev), e = awg_device_next_deadline(nb.dev);

		if ((d > fe.mono_ns && e > fe.mono_ns))
			break;
		awg_device_expire_timers(na.dev, fe.mono_ns);
		awg_device_expire_timers(nb.dev, fe.mono_ns);
		pump();
	}
}

/* XOR the mutation into buf[0..*len) or truncate; see the header comment. */
static void mutate(uint8_t *buf, size_t *len, const uint8_t *m, size_t mlen, bool truncate)
{
	size_t off;

	if (mlen < 2 || !*len)
		return;
	off = (size_t)m[0] | (size_t)m[1] << 8;
	if (truncate) {
		*len = off % (*len + 1);
		return;
	}
	off %= *len;
	for (size_t i = 2; i < mlen && off < *len; i++, off++)
		buf[off] ^= m[i];
}

/* payload as an IPv4 packet of its own length from src to dst (at least a bare header). */
static size_t ipv4_packet(uint8_t *out, const uint8_t *payload, size_t len, const uint8_t *src,
			  const uint8_t *dst)
{
	if (len < 20) {
		memset(out, 0, 20);
		memcpy(out, payload, len);
		len = 20;
	} else {
		memcpy(out, payload, len);
	}
	out[0] = 0x45;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	memcpy(out + 12, src, 4);
	memcpy(out + 16, dst, 4);
	return len;
}

static void op_raw(const uint8_t *p, size_t len, bool alt_src)
{
	static const struct awg_udp_addr alt = {
		.family = AWG_AF_INET6, .port = 40000, .addr = { 0xfd, [15] = 0x99 },
	};
	uint8_t *d = malloc(len ? len : 1);

	if (!d)
		return;
	memcpy(d, p, len);
	awg_device_receive(na.dev, d, len, alt_src ? &alt : &nb.ep);
	free(d);
	pump();
}

static void op_init(const uint8_t *p, size_t len, bool truncate)
{
	awg_device_send_initiation(nb.dev, nb.peer);
	if (na.inbox_len)
		mutate(na.inbox[na.inbox_len - 1].data, &na.inbox[na.inbox_len - 1].len, p, len,
		       truncate);
	pump();
}

static void op_data(const uint8_t *p, size_t len, bool fixup)
{
	static uint8_t pkt[MAX_PAYLOAD];

	if (len > MAX_PAYLOAD)
		len = MAX_PAYLOAD;
	if (fixup)
		len = ipv4_packet(pkt, p, len, ip_b, ip_a);
	else
		memcpy(pkt, p, len);
	awg_device_send_data(nb.dev, nb.peer, pkt, len);
	pump();
}

static void op_mutate(const uint8_t *p, size_t len, bool truncate)
{
	static uint8_t d[AWG_DEVICE_MAX_DATAGRAM];
	size_t n = last_len;

	if (!n)
		return;
	memcpy(d, last, n);
	mutate(d, &n, p, len, truncate);
	awg_device_receive(na.dev, d, n, &nb.ep);
	pump();
}

static void op_time(const uint8_t *p, size_t len)
{
	uint32_t ms = 0;

	memcpy(&ms, p, len < 4 ? len : 4);
	fe.mono_ns += (uint64_t)ms * 1000000;
	fe.wall_ns += (uint64_t)ms * 1000000;
	run_timers();
}

static void op_send(const uint8_t *p, size_t len)
{
	static uint8_t pkt[MAX_PAYLOAD];

	if (len > MAX_PAYLOAD)
		len = MAX_PAYLOAD;
	len = ipv4_packet(pkt, p, len, ip_a, ip_b);
	awg_device_send_packet(na.dev, na.peer, pkt, len);
	pump();
}

static void op_load(const uint8_t *p, size_t len)
{
	na.dev->handshake_queue_cap = 1024;
	na.dev->handshake_queue_len = len ? (size_t)p[0] * 8 : 0;
}

static void op_keepalive(const uint8_t *p, size_t len)
{
	struct awg_range r = { 0, 0 };

	if (len && p[0]) {
		r.lo = 1;
		r.hi = 1 + p[0] % 30;
	}
	awg_device_peer_set_keepalive(na.dev, na.peer, r);
	pump();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool keys;
	size_t i = 1;

	if (!keys) {
		init_keys();
		keys = true;
	}
	if (size < 1)
		return 0;
	setup(data[0] & 1);
	if (data[0] & 2) {
		awg_device_send_initiation(nb.dev, nb.peer);
		pump();
		if (!na.peer->keypairs.current || !nb.peer->keypairs.current)
			abort();
	}
	for (unsigned ops_done = 0; ops_done < MAX_OPS && size - i >= 3; ops_done++) {
		uint8_t op = data[i];
		size_t len = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;
		const uint8_t *p = data + i + 3;

		i += 3;
		if (len > size - i)
			len = size - i;
		i += len;
		switch (op & 7) {
		case 0:
			op_raw(p, len, op & 8);
			break;
		case 1:
			op_init(p, len, op & 16);
			break;
		case 2:
			op_data(p, len, op & 8);
			break;
		case 3:
			op_mutate(p, len, op & 16);
			break;
		case 4:
			op_time(p, len);
			break;
		case 5:
			op_send(p, len);
			break;
		case 6:
			op_load(p, len);
			break;
		case 7:
			op_keepalive(p, len);
			break;
		}
	}
	pair_teardown(&na, &nb);
	return 0;
}
