// SPDX-License-Identifier: MIT
/*
 * End-to-end protocol test of the core: two in-process devices wired back to back complete a
 * handshake through the AmneziaWG framing and exchange transport packets, with tampering,
 * replays, the cookie path under load, and the exact plain-WireGuard byte layout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "device.h"
#include "harness.h"
#include "pair.h"

static struct test_env te;

/* An explicit, empty handshake queue: the tampering loops must not look like a flood. */
static void setup(struct pair_node *a, struct pair_node *b, const struct awg_obfs_params *p,
		  const char *const *ispecs, bool psk)
{
	pair_setup(a, b, &(struct pair_opts){ .env = &te.env, .check = test_check, .psk = psk,
					      .obfs = p, .ispecs = ispecs,
					      .handshake_queue_cap = 1024 });
}

static void handshake(struct pair_node *a, struct pair_node *b)
{
	CHECK_INT(awg_device_send_initiation(a->dev, a->peer), 0);
	pair_pump(a, b, NULL, NULL);
	CHECK_INT(a->sessions, 1);
	CHECK_INT(b->sessions, 1);
}

/* Sends one packet from `from` and checks it arrives intact. */
static void exchange(struct pair_node *from, struct pair_node *to, size_t len, uint8_t seed)
{
	uint8_t pkt[1500];
	unsigned before = to->n_delivered;
	uint8_t s = from->ep.addr[3], d = to->ep.addr[3];

	pair_ipv4_packet(pkt, len, s, d, seed);
	CHECK_INT(awg_device_send_data(from->dev, from->peer, pkt, len), 0);
	pair_pump(from, to, NULL, NULL);
	CHECK_INT(to->n_delivered, before + 1);
	CHECK_INT(to->last_delivered_len, len);
	CHECK_MEM(to->last_delivered, pkt, len);
}

static void full_31_handshake_and_transport(void)
{
	struct awg_obfs_params p;
	struct pair_node a, b;
	unsigned drops_b = 0;

	pair_params_31(&p);
	setup(&a, &b, &p, pair_ispecs_31, true);
	CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
	/* I1, then 4 junk datagrams, then the initiation. */
	CHECK_INT(b.inbox_len, 1 + 4 + 1);
	CHECK_INT(b.inbox[0].len, 2 + 42);
	for (int i = 1; i <= 4; i++)
		CHECK(b.inbox[i].len >= 40 && b.inbox[i].len <= 70);
	CHECK(b.inbox[5].len >= 15u + 148);
	pair_pump(&a, &b, NULL, &drops_b);
	CHECK_INT(drops_b, 5);		/* the decoys, dropped as unclassifiable */
	CHECK_INT(a.sessions, 1);
	CHECK_INT(b.sessions, 1);	/* confirmed by a's keepalive */
	CHECK(b.peer->keypairs.current != NULL);
	CHECK(memcmp(&b.peer->endpoint, &a.ep, sizeof(a.ep)) == 0);
	for (unsigned i = 0; i < 20; i++) {
		exchange(&a, &b, 20 + 37 * i, (uint8_t)i);
		exchange(&b, &a, 1400 - 41 * i, (uint8_t)(100 + i));
	}
	pair_teardown(&a, &b);
}

static void without_psk(void)
{
	struct awg_obfs_params p;
	struct pair_node a, b;

	pair_params_31(&p);
	setup(&a, &b, &p, pair_ispecs_31, false);
	handshake(&a, &b);
	exchange(&a, &b, 100, 1);
	exchange(&b, &a, 100, 2);
	pair_teardown(&a, &b);
}

/*
 * Flips each byte of the WireGuard message inside a captured datagram (and each of the 12
 * header-protection nonce bytes) and checks the receiver drops every variant; the untouched
 * datagram must still be accepted afterwards, proving the failures changed no state.
 * mac2 (the 16 bytes at skip_off, if non-zero) is left alone: like WireGuard, a receiver that is
 * not under load does not check it (cookie_under_load covers mac2). Flips use bit 7, so a flip
 * in bytes 1..3 of a transport type moves it out of the (narrow) H4 range; byte 0 of a
 * transport type is skipped because the transport type is not authenticated in AmneziaWG —
 * any value inside H4 is accepted, as in amneziawg-go.
 */
static void tamper_each_byte(struct pair_node *rx, const struct pair_dgram *orig, size_t msg_off,
			     size_t msg_len, bool hp, size_t skip_off)
{
	unsigned accepted = 0;
	uint8_t *copy = malloc(orig->len);

	for (size_t i = 0; i < orig->len; i++) {
		bool in_msg = i >= msg_off && i < msg_off + msg_len;

		if (!in_msg && !(hp && i < 12))
			continue;
		if (skip_off && i >= skip_off && i < skip_off + AWG_COOKIE_LEN)
			continue;
		if (!skip_off && i == msg_off)
			continue;
		memcpy(copy, orig->data, orig->len);
		copy[i] ^= 0x80;
		if (awg_device_receive(rx->dev, copy, orig->len, &orig->src) == 0) {
			fprintf(stderr, "  accepted with byte %zu of %zu flipped (message at %zu)\n", i,
				orig->len, msg_off);
			accepted++;
		}
		pair_drain(rx->other);	/* cookie replies etc. are not the point here */
	}
	CHECK_INT(accepted, 0);
	memcpy(copy, orig->data, orig->len);
	CHECK_INT(awg_device_receive(rx->dev, copy, orig->len, &orig->src), 0);
	free(copy);
}

static void tampering_fails(void)
{
	struct awg_obfs_params p;
	struct pair_node a, b;
	struct pair_dgram d;
	uint8_t pkt[200];

	pair_params_31(&p);
	setup(&a, &b, &p, pair_ispecs_31, true);
	CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
	pair_drain(&b);
	/* Rebuild with no decoys in flight: take just the initiation (last datagram). */
	CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
	while (b.inbox_len > 1)
		free(pair_pop(&b).data);
	d = pair_pop(&b);
	te.mono_ns += 30000000;		/* past the 20 ms flood window of the earlier attempt */
	tamper_each_byte(&b, &d, 15, 148, true, 15 + awg_msg_mac2_offset(148));
	free(d.data);
	/* b answered the accepted initiation: tamper with the response at a. */
	CHECK_INT(a.inbox_len, 1);
	d = pair_pop(&a);
	tamper_each_byte(&a, &d, 18, 92, true, 18 + awg_msg_mac2_offset(92));
	free(d.data);
	pair_pump(&a, &b, NULL, NULL);	/* a's keepalive confirms the session at b */
	CHECK_INT(b.sessions, 1);
	/* Transport: every byte of header and ciphertext is covered (header via index/AEAD). */
	pair_ipv4_packet(pkt, sizeof(pkt), 1, 2, 9);
	CHECK_INT(awg_device_send_data(a.dev, a.peer, pkt, sizeof(pkt)), 0);
	d = pair_pop(&b);
	tamper_each_byte(&b, &d, 23, d.len - 23, true, 0);
	/* The transport type moved out of H4 is dropped as unclassifiable. */
	{
		uint8_t *copy = malloc(d.len);

		memcpy(copy, d.data, d.len);
		copy[23 + 3] ^= 0x40;
		CHECK(awg_device_receive(b.dev, copy, d.len, &d.src) < 0);
		CHECK_INT(b.dev->last_drop, AWG_DROP_UNCLASSIFIED);
		free(copy);
	}
	CHECK_INT(b.n_delivered, 1);
	CHECK_MEM(b.last_delivered, pkt, sizeof(pkt));
	free(d.data);
	pair_teardown(&a, &b);
}

static void replays_rejected(void)
{
	struct awg_obfs_params p;
	struct pair_node a, b;
	struct pair_dgram d;
	uint8_t *copy, pkt[64];

	pair_params_31(&p);
	setup(&a, &b, &p, NULL, true);
	CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
	d = b.inbox[b.inbox_len - 1];
	copy = malloc(d.len);
	memcpy(copy, d.data, d.len);
	pair_pump(&a, &b, NULL, NULL);
	CHECK_INT(b.sessions, 1);
	/* The same initiation again, well after the flood window: its timestamp is not newer. */
	te.mono_ns += 2000000000;
	CHECK(awg_device_receive(b.dev, copy, d.len, &a.ep) < 0);
	CHECK_INT(b.dev->last_drop, AWG_DROP_HANDSHAKE);
	CHECK_INT(a.inbox_len, 0);	/* no response to a replay */
	free(copy);

	/* A transport datagram delivered twice is accepted once. */
	pair_ipv4_packet(pkt, sizeof(pkt), 1, 2, 3);
	CHECK_INT(awg_device_send_data(a.dev, a.peer, pkt, sizeof(pkt)), 0);
	d = pair_pop(&b);
	copy = malloc(d.len);
	memcpy(copy, d.data, d.len);
	CHECK_INT(awg_device_receive(b.dev, d.data, d.len, &a.ep), 0);
	CHECK(awg_device_receive(b.dev, copy, d.len, &a.ep) < 0);
	CHECK_INT(b.dev->last_drop, AWG_DROP_REPLAY);
	CHECK_INT(b.dev->drops_by[AWG_DROP_REPLAY], 1);
	CHECK_INT(b.n_delivered, 1);
	free(copy);
	free(d.data);
	pair_teardown(&a, &b);
}

static void cookie_under_load(void)
{
	struct awg_obfs_params p;
	struct pair_node a, b;
	unsigned drops_b = 0;

	pair_params_31(&p);
	setup(&a, &b, &p, NULL, true);
	b.dev->handshake_queue_cap = 1024;
	b.dev->handshake_queue_len = 1024;	/* under load: mac2 demanded */
	CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
	while (b.inbox_len > 1)
		free(pair_pop(&b).data);
	pair_pump(&a, &b, NULL, &drops_b);
	CHECK_INT(drops_b, 1);
	CHECK_INT(b.n_sent, 1);		/* the cookie reply */
	CHECK(b.sent[0].len >= 20u + 64);	/* S3 prefix + cookie, maybe a trailer */
	CHECK(b.sent[0].len < 500);
	CHECK_INT(a.sessions, 0);
	CHECK(a.peer->cookie.is_valid);
	/* The retransmission carries a valid mac2 and gets through while b is still loaded... */
	te.mono_ns += 5100000000ull;
	CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
	while (b.inbox_len > 1)
		free(pair_pop(&b).data);
	/* ...but not with any byte of mac2 flipped: b answers those with cookies again. */
	{
		struct pair_dgram d = pair_pop(&b);
		uint8_t *copy = malloc(d.len);
		size_t mac2 = 15 + awg_msg_mac2_offset(148);

		for (size_t i = mac2; i < mac2 + AWG_COOKIE_LEN; i++) {
			memcpy(copy, d.data, d.len);
			copy[i] ^= 0x80;
			CHECK(awg_device_receive(b.dev, copy, d.len, &d.src) < 0);
			CHECK_INT(b.dev->last_drop, AWG_DROP_COOKIE_SENT);
		}
		pair_drain(&a);
		CHECK_INT(awg_device_receive(b.dev, d.data, d.len, &d.src), 0);
		free(copy);
		free(d.data);
	}
	pair_pump(&a, &b, NULL, NULL);
	CHECK_INT(a.sessions, 1);
	CHECK_INT(b.sessions, 1);
	exchange(&a, &b, 300, 7);
	exchange(&b, &a, 300, 8);
	/*
	 * Still under load, a flood of initiations with valid cookies from one source: the
	 * per-source limiter (burst 5) stops it before any handshake work is done.
	 */
	{
		unsigned limited = 0;

		for (int i = 0; i < 12; i++) {
			CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
			while (b.inbox_len) {
				struct pair_dgram d = pair_pop(&b);

				if (awg_device_receive(b.dev, d.data, d.len, &d.src) < 0 &&
				    b.dev->last_drop == AWG_DROP_RATELIMIT)
					limited++;
				free(d.data);
			}
			pair_drain(&a);
		}
		CHECK(limited >= 6);
	}
	pair_teardown(&a, &b);
}

static void disable_cookies_stays_silent(void)
{
	struct awg_obfs_params p;
	struct pair_node a, b;

	pair_params_31(&p);
	p.disable_cookies = true;
	setup(&a, &b, &p, NULL, false);
	b.dev->handshake_queue_cap = 8;
	b.dev->handshake_queue_len = 8;
	CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
	pair_pump(&a, &b, NULL, NULL);
	CHECK_INT(b.n_sent, 0);
	CHECK_INT(b.dev->last_drop, AWG_DROP_COOKIE_SENT);
	CHECK_INT(a.sessions, 0);
	pair_teardown(&a, &b);
}

/* Plain WireGuard parameters give exactly 148 / 92 / 64 / 32+n byte datagrams, types 1..4. */
static void plain_wireguard_layout(void)
{
	struct awg_obfs_params p;
	struct pair_node a, b;
	struct pair_dgram d;
	uint8_t pkt[100];

	awg_obfs_params_init(&p);
	setup(&a, &b, &p, NULL, false);
	CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
	CHECK_INT(b.inbox_len, 1);
	CHECK_INT(b.inbox[0].len, 148);
	CHECK_INT(awg_le32_get(b.inbox[0].data), 1);
	d = pair_pop(&b);
	CHECK_INT(awg_device_receive(b.dev, d.data, d.len, &d.src), 0);
	free(d.data);
	CHECK_INT(a.inbox_len, 1);
	CHECK_INT(a.inbox[0].len, 92);
	CHECK_INT(awg_le32_get(a.inbox[0].data), 2);
	d = pair_pop(&a);
	CHECK_INT(awg_device_receive(a.dev, d.data, d.len, &d.src), 0);
	free(d.data);
	CHECK_INT(b.inbox_len, 1);	/* the confirming keepalive */
	CHECK_INT(b.inbox[0].len, 32);
	CHECK_INT(awg_le32_get(b.inbox[0].data), 4);
	pair_pump(&a, &b, NULL, NULL);
	/* 100-byte packet: padded to 112, + 16 header + 16 tag. */
	pair_ipv4_packet(pkt, sizeof(pkt), 1, 2, 5);
	CHECK_INT(awg_device_send_data(a.dev, a.peer, pkt, sizeof(pkt)), 0);
	CHECK_INT(b.inbox[0].len, 32 + 112);
	CHECK_INT(awg_le32_get(b.inbox[0].data), 4);
	pair_pump(&a, &b, NULL, NULL);
	CHECK_INT(b.last_delivered_len, sizeof(pkt));
	/* Cookie reply under load: 64 bytes, type 3. */
	b.dev->handshake_queue_cap = b.dev->handshake_queue_len = 8;
	te.mono_ns += 6000000000ull;
	CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
	d = pair_pop(&b);
	CHECK(awg_device_receive(b.dev, d.data, d.len, &d.src) < 0);
	free(d.data);
	CHECK_INT(a.inbox_len, 1);
	CHECK_INT(a.inbox[0].len, 64);
	CHECK_INT(awg_le32_get(a.inbox[0].data), 3);
	pair_teardown(&a, &b);
}

/*
 * Each AWG version's parameter set, as its configs write it, through the same framing:
 * 1.0 (S1, S2, single H values, junk; cookie and transport unprefixed), 2.0 (S1..S4, ranged H,
 * I-packets), 3.0 (+ header protection, content padding), 3.1 (+ trailers). The handshake
 * datagram sizes must be exactly S_T + L_T where the version has no trailers.
 */
static void every_version(void)
{
	static const char *const names[] = { "1.0", "2.0", "3.0", "3.1" };

	for (int v = 0; v < 4; v++) {
		struct awg_obfs_params p;
		struct pair_node a, b;
		size_t n;

		pair_params_31(&p);
		if (v < 3)
			p.random_trailers = false;
		if (v < 2) {
			p.hp_on = false;
			p.content_padding = (struct awg_range){ 0, 0 };
		}
		if (v < 1) {
			p.s[2] = p.s[3] = 0;
			for (int k = 0; k < 4; k++)
				p.h[k].hi = p.h[k].lo;
		}
		setup(&a, &b, &p, v >= 1 ? pair_ispecs_31 : NULL, true);
		CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
		n = b.inbox_len;
		CHECK_INT(n, (v >= 1 ? 1u : 0u) + 4 + 1);
		if (v < 3)
			CHECK_INT(b.inbox[n - 1].len, 15 + 148);
		if (v < 1)
			CHECK_INT(awg_le32_get(b.inbox[n - 1].data + 15), p.h[0].lo);
		pair_pump(&a, &b, NULL, NULL);
		if (!CHECK_INT(b.sessions, 1))
			fprintf(stderr, "    (AWG %s parameter set)\n", names[v]);
		/* The confirming keepalive: S4 + 32 bytes until content padding (3.0) pads it. */
		if (v < 2)
			CHECK_INT(a.sent[a.n_sent - 1].len, (v < 1 ? 0 : 23) + 32);
		exchange(&a, &b, 500, (uint8_t)v);
		exchange(&b, &a, 700, (uint8_t)v);
		pair_teardown(&a, &b);
	}
}

/*
 * Without an owner's queue the device estimates load from the handshake rate: a burst of more
 * than AWG_DEVICE_HS_PER_WINDOW handshake messages in one window triggers cookie replies.
 */
static void rate_estimated_load(void)
{
	struct awg_obfs_params p;
	struct pair_node a, b;
	struct pair_dgram d;
	unsigned cookies = 0;

	awg_obfs_params_init(&p);
	setup(&a, &b, &p, NULL, false);
	b.dev->handshake_queue_cap = 0;
	CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
	d = pair_pop(&b);
	for (unsigned i = 0; i < AWG_DEVICE_HS_PER_WINDOW + 20; i++) {
		uint8_t copy[AWG_MSG_INITIATION_LEN];

		memcpy(copy, d.data, d.len);
		if (awg_device_receive(b.dev, copy, d.len, &d.src) < 0 &&
		    b.dev->last_drop == AWG_DROP_COOKIE_SENT)
			cookies++;
	}
	/* The first AWG_DEVICE_HS_PER_WINDOW / 8 or so pass, the rest of the burst gets cookies. */
	CHECK(cookies >= 20);
	CHECK(cookies < AWG_DEVICE_HS_PER_WINDOW + 20);
	free(d.data);
	/* Two seconds later, in a new window, the load has passed (after the 1 s stickiness). */
	test_env_advance(&te, 2000000000ull);
	CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
	pair_pump(&a, &b, NULL, NULL);
	CHECK_INT(a.sessions, 1);
	pair_teardown(&a, &b);
}

/* A packet whose inner source address is not the peer's is dropped (cryptokey routing). */
static void cryptokey_routing(void)
{
	struct awg_obfs_params p;
	struct pair_node a, b;
	uint8_t pkt[60];

	pair_params_31(&p);
	setup(&a, &b, &p, NULL, false);
	handshake(&a, &b);
	pair_ipv4_packet(pkt, sizeof(pkt), 77, 2, 1);	/* 10.0.0.77 is not a's */
	CHECK_INT(awg_device_send_data(a.dev, a.peer, pkt, sizeof(pkt)), 0);
	pair_pump(&a, &b, NULL, NULL);
	CHECK_INT(b.n_delivered, 0);
	CHECK_INT(b.dev->last_drop, AWG_DROP_ROUTE);
	pair_teardown(&a, &b);
}

/* Peers whose S/H/HP parameters differ cannot talk: the initiation is unclassifiable. */
static void mismatched_params_fail(void)
{
	struct awg_obfs_params p, q;
	struct awg_obfs *o;
	struct pair_node a, b;

	pair_params_31(&p);
	setup(&a, &b, &p, NULL, false);
	q = p;
	q.hp_key[0] ^= 1;
	CHECK_INT(awg_obfs_new(&q, NULL, &o, NULL), 0);
	awg_device_set_obfs(b.dev, o);
	CHECK_INT(awg_device_send_initiation(a.dev, a.peer), 0);
	pair_pump(&a, &b, NULL, NULL);
	CHECK_INT(b.sessions, 0);
	pair_teardown(&a, &b);
}

static void no_session_no_send(void)
{
	struct awg_obfs_params p;
	struct pair_node a, b;
	uint8_t pkt[40];

	awg_obfs_params_init(&p);
	setup(&a, &b, &p, NULL, false);
	pair_ipv4_packet(pkt, sizeof(pkt), 1, 2, 0);
	CHECK_INT(awg_device_send_data(a.dev, a.peer, pkt, sizeof(pkt)), -ENOKEY);
	b.peer->endpoint = (struct awg_udp_addr){ 0 };
	CHECK_INT(awg_device_send_initiation(b.dev, b.peer), -EDESTADDRREQ);
	pair_teardown(&a, &b);
}

/* First case: every later case draws keys and randomness from this seeded environment. */
static void seed_environment(void)
{
	test_env_init(&te, 0x5eed);
	CHECK(te.env.random != NULL);
}

TEST_MAIN("handshake", T(seed_environment), T(full_31_handshake_and_transport), T(without_psk),
	  T(tampering_fails), T(replays_rejected), T(cookie_under_load),
	  T(disable_cookies_stays_silent), T(plain_wireguard_layout), T(cryptokey_routing),
	  T(mismatched_params_fail), T(every_version), T(rate_estimated_load), T(no_session_no_send))
