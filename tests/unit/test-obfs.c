// SPDX-License-Identifier: MIT
/*
 * Unit tests of the AWG wire shaping: validation, header-protection vector (spec §4.5), framing
 * round trips, classification order, trailers, padding, decoys and garbage datagrams.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "messages.h"
#include "obfs.h"

static const size_t kind_len[AWG_KIND_COUNT] = { 148, 92, 64, 32 };

/* An env whose random() replays a script of bytes (then zeros), for exact vectors. */
struct script_env {
	struct awg_env env;
	const uint8_t *data;
	size_t len, pos;
};

static uint64_t script_clock(void *ctx)
{
	(void)ctx;
	return 0;
}

static void script_random(void *ctx, void *buf, size_t len)
{
	struct script_env *se = ctx;
	uint8_t *out = buf;
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = se->pos < se->len ? se->data[se->pos++] : 0;
}

static void script_env_init(struct script_env *se, const uint8_t *data, size_t len)
{
	*se = (struct script_env){
		.env = { .mono_ns = script_clock, .wall_ns = script_clock,
			 .random = script_random, .ctx = se },
		.data = data, .len = len,
	};
}

static void hp_key(uint8_t key[AWG_KEY_LEN])
{
	unsigned i;

	for (i = 0; i < AWG_KEY_LEN; i++)
		key[i] = (uint8_t)(0x20 + i);
}

/* A full AWG 3.1 parameter set: prefixes >= 12, ranged magic headers, HP, trailers, padding. */
static void full_params(struct awg_obfs_params *p)
{
	awg_obfs_params_init(p);
	p->s[0] = 15;
	p->s[1] = 18;
	p->s[2] = 20;
	p->s[3] = 23;
	p->h[0] = (struct awg_range){ 100000, 100999 };
	p->h[1] = (struct awg_range){ 200000, 200999 };
	p->h[2] = (struct awg_range){ 300000, 300999 };
	p->h[3] = (struct awg_range){ 3000000000u, 3000999999u };
	p->jc = 4;
	p->jmin = 40;
	p->jmax = 70;
	p->hp_on = true;
	hp_key(p->hp_key);
	p->content_padding = (struct awg_range){ 0, 64 };
	p->random_trailers = true;
}

static struct awg_obfs *obfs_new(const struct awg_obfs_params *p)
{
	struct awg_parse_error err = { 0 };
	struct awg_obfs *o = NULL;

	if (!CHECK_INT(awg_obfs_new(p, NULL, &o, &err), 0))
		fprintf(stderr, "  %s\n", err.msg);
	return o;
}

/* --- Header protection vector (spec §4.5) --- */

static void test_hp_vector_transport(void)
{
	uint8_t prefix[16], expect[16], buf[64], plain[16];
	struct awg_obfs_params p;
	struct awg_obfs_view view;
	struct script_env se;
	struct awg_obfs *o;
	size_t n;

	awg_obfs_params_init(&p);
	p.s[0] = p.s[1] = p.s[2] = 12;
	p.s[3] = 16;
	p.h[3] = (struct awg_range){ 3000000000u, 3000000000u };
	p.hp_on = true;
	hp_key(p.hp_key);
	o = obfs_new(&p);
	if (!o)
		return;
	test_unhex(prefix, sizeof(prefix), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
	test_unhex(expect, sizeof(expect), "2d3af47b64caecf369682503199daa6c");
	test_unhex(plain, sizeof(plain), "005ed0b2 44332211 0700000000000000");

	script_env_init(&se, NULL, 0);
	memset(buf, 0x55, sizeof(buf));
	awg_le32_put(buf + 16, awg_obfs_pick_type(o, AWG_KIND_TRANSPORT, &se.env));
	awg_le32_put(buf + 20, 0x11223344);
	awg_le64_put(buf + 24, 7);
	CHECK_MEM(buf + 16, plain, 16);
	script_env_init(&se, prefix, sizeof(prefix));
	n = awg_obfs_wrap(o, AWG_KIND_TRANSPORT, buf, 32, sizeof(buf), 0, &se.env);
	CHECK_INT(n, 48);
	CHECK_MEM(buf, prefix, 16);
	CHECK_MEM(buf + 16, expect, 16);
	CHECK_MEM(buf + 32, "\x55\x55\x55\x55\x55\x55\x55\x55\x55\x55\x55\x55\x55\x55\x55\x55",
		  16);

	CHECK_INT(awg_obfs_unwrap(o, buf, n, &view), 0);
	CHECK_INT(view.kind, AWG_KIND_TRANSPORT);
	CHECK_INT(view.msg_off, 16);
	CHECK(view.msg == buf + 16);
	CHECK_INT(view.msg_len, 32);
	CHECK_INT(view.magic, 3000000000u);
	CHECK_MEM(view.msg, plain, 16);
	awg_obfs_free(o);
}

static void test_hp_vector_handshake(void)
{
	uint8_t prefix[16], ks[148], buf[16 + 148];
	struct awg_obfs_params p;
	struct script_env se;
	struct awg_obfs *o;

	awg_obfs_params_init(&p);
	p.s[0] = 16;
	p.s[1] = p.s[2] = p.s[3] = 12;
	p.hp_on = true;
	hp_key(p.hp_key);
	o = obfs_new(&p);
	if (!o)
		return;
	test_unhex(prefix, sizeof(prefix), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
	/* An all-zero message comes out as the raw keystream. */
	memset(buf, 0, sizeof(buf));
	script_env_init(&se, prefix, sizeof(prefix));
	CHECK_INT(awg_obfs_wrap(o, AWG_KIND_INIT, buf, 148, sizeof(buf), 0, &se.env), 164);
	test_unhex(ks, 16, "2d6424c920f9cee26e682503199daa6c");
	CHECK_MEM(buf + 16, ks, 16);
	test_unhex(ks, 16, "5abf1dc6c9e6800a76dd54a10f44e0a8");
	CHECK_MEM(buf + 16 + 64, ks, 16);
	test_unhex(ks, 20, "db2bc67212500b4801e1b3e5c2afe1f4cec69a6f");
	CHECK_MEM(buf + 16 + 128, ks, 20);
	awg_obfs_free(o);
}

/* --- Round trips --- */

static void fill_msg(uint8_t *msg, size_t len, uint32_t magic, struct test_env *te)
{
	awg_env_random(&te->env, msg, len);
	awg_le32_put(msg, magic);
}

static void roundtrip_kind(struct awg_obfs *o, enum awg_msg_kind kind, size_t len,
			   size_t window, struct test_env *te)
{
	uint8_t buf[2048], orig[1600];
	size_t s = awg_obfs_prefix_len(o, kind), n;
	struct awg_obfs_view view;
	uint32_t magic;

	magic = awg_obfs_pick_type(o, kind, &te->env);
	fill_msg(buf + s, len, magic, te);
	memcpy(orig, buf + s, len);
	n = awg_obfs_wrap(o, kind, buf, len, sizeof(buf), window, &te->env);
	if (!CHECK(n >= s + len))
		return;
	if (!CHECK_INT(awg_obfs_unwrap(o, buf, n, &view), 0))
		return;
	CHECK_INT(view.kind, kind);
	CHECK_INT(view.msg_off, s);
	CHECK_INT(view.msg_len, len);
	CHECK_INT(view.magic, magic);
	CHECK_MEM(view.msg, orig, len);
}

static void test_roundtrip_full(void)
{
	struct awg_obfs_params p;
	struct test_env te;
	struct awg_obfs *o;
	int i, k;

	full_params(&p);
	o = obfs_new(&p);
	if (!o)
		return;
	test_env_init(&te, 10);
	for (i = 0; i < 200; i++) {
		for (k = 0; k < AWG_KIND_COUNT - 1; k++)
			roundtrip_kind(o, (enum awg_msg_kind)k, kind_len[k], 500 + (size_t)i * 5,
				       &te);
		roundtrip_kind(o, AWG_KIND_TRANSPORT, 32 + (size_t)i * 7, 0, &te);
	}
	awg_obfs_free(o);
}

static void test_roundtrip_hp_off(void)
{
	struct awg_obfs_params p;
	struct test_env te;
	struct awg_obfs *o;
	int i, k;

	full_params(&p);
	p.hp_on = false;
	p.random_trailers = false;
	p.s[0] = 0;
	p.s[3] = 3;
	o = obfs_new(&p);
	if (!o)
		return;
	test_env_init(&te, 11);
	for (i = 0; i < 100; i++) {
		for (k = 0; k < AWG_KIND_COUNT - 1; k++)
			roundtrip_kind(o, (enum awg_msg_kind)k, kind_len[k], 0, &te);
		roundtrip_kind(o, AWG_KIND_TRANSPORT, 32 + (size_t)i, 0, &te);
	}
	awg_obfs_free(o);
}

static void test_plain_wireguard(void)
{
	uint8_t buf[256], orig[256];
	struct awg_obfs_params p;
	struct awg_obfs_view view;
	struct test_env te;
	struct awg_obfs *o;
	size_t n, extra;
	int k;

	awg_obfs_params_init(&p);
	o = obfs_new(&p);
	if (!o)
		return;
	test_env_init(&te, 12);
	for (k = 0; k < AWG_KIND_COUNT; k++) {
		size_t len = kind_len[k];

		CHECK_INT(awg_obfs_prefix_len(o, (enum awg_msg_kind)k), 0);
		CHECK_INT(awg_obfs_pick_type(o, (enum awg_msg_kind)k, &te.env), k + 1);
		for (extra = 0; extra < (k == AWG_KIND_TRANSPORT ? 64u : 1u); extra += 16) {
			fill_msg(buf, len + extra, (uint32_t)k + 1, &te);
			memcpy(orig, buf, len + extra);
			n = awg_obfs_wrap(o, (enum awg_msg_kind)k, buf, len + extra, sizeof(buf),
					  1400, &te.env);
			CHECK_INT(n, len + extra);
			CHECK_MEM(buf, orig, n);
			CHECK_INT(awg_obfs_unwrap(o, buf, n, &view), 0);
			CHECK_INT(view.kind, k);
			CHECK_INT(view.msg_len, len + extra);
			CHECK_MEM(buf, orig, n);
		}
	}
	CHECK_INT(awg_obfs_decoy_count(o), 0);
	/* Exact sizes only: a 149-byte type-1 datagram is not an initiation but a transport. */
	fill_msg(buf, 149, 1, &te);
	CHECK_INT(awg_obfs_unwrap(o, buf, 149, &view), -EBADMSG);
	fill_msg(buf, 148, 4, &te);
	CHECK_INT(awg_obfs_unwrap(o, buf, 148, &view), 0);
	CHECK_INT(view.kind, AWG_KIND_TRANSPORT);
	/* A transport is at least 32 bytes. */
	fill_msg(buf, 31, 4, &te);
	CHECK_INT(awg_obfs_unwrap(o, buf, 31, &view), -EBADMSG);
	awg_obfs_free(o);
}

/* --- Classification --- */

static void test_classification_order(void)
{
	struct awg_obfs_params p;
	struct awg_obfs_view view;
	uint8_t buf[400];
	struct awg_obfs *o;

	/* S1 + 148 == S2 + 92 == S4 + 32 + 100 == 148: only the header decides, in order. */
	awg_obfs_params_init(&p);
	p.s[0] = 0;
	p.s[1] = 56;
	p.s[2] = 84;
	p.s[3] = 16;
	p.h[0] = (struct awg_range){ 10, 19 };
	p.h[1] = (struct awg_range){ 20, 29 };
	p.h[2] = (struct awg_range){ 30, 39 };
	p.h[3] = (struct awg_range){ 40, 49 };
	o = obfs_new(&p);
	if (!o)
		return;
	memset(buf, 0, sizeof(buf));
	awg_le32_put(buf + 0, 15);
	awg_le32_put(buf + 56, 25);
	awg_le32_put(buf + 84, 35);
	awg_le32_put(buf + 16, 45);
	CHECK_INT(awg_obfs_unwrap(o, buf, 148, &view), 0);
	CHECK_INT(view.kind, AWG_KIND_INIT);
	awg_le32_put(buf + 0, 9);
	CHECK_INT(awg_obfs_unwrap(o, buf, 148, &view), 0);
	CHECK_INT(view.kind, AWG_KIND_RESPONSE);
	CHECK_INT(view.msg_off, 56);
	CHECK_INT(view.msg_len, 92);
	awg_le32_put(buf + 56, 30); /* in H3, but H2 is tested at 56 and the cookie at 84 */
	CHECK_INT(awg_obfs_unwrap(o, buf, 148, &view), 0);
	CHECK_INT(view.kind, AWG_KIND_COOKIE);
	CHECK_INT(view.msg_off, 84);
	awg_le32_put(buf + 84, 50);
	CHECK_INT(awg_obfs_unwrap(o, buf, 148, &view), 0);
	CHECK_INT(view.kind, AWG_KIND_TRANSPORT);
	CHECK_INT(view.msg_off, 16);
	CHECK_INT(view.msg_len, 132);
	CHECK_INT(view.magic, 45);
	awg_le32_put(buf + 16, 50);
	CHECK_INT(awg_obfs_unwrap(o, buf, 148, &view), -EBADMSG);
	/* Size rule: at 147 bytes only the transport test applies. */
	awg_le32_put(buf + 0, 15);
	awg_le32_put(buf + 16, 40);
	CHECK_INT(awg_obfs_unwrap(o, buf, 147, &view), 0);
	CHECK_INT(view.kind, AWG_KIND_TRANSPORT);
	/* Transport needs n >= S4 + 32. */
	CHECK_INT(awg_obfs_unwrap(o, buf, 47, &view), -EBADMSG);
	CHECK_INT(awg_obfs_unwrap(o, buf, 48, &view), 0);
	/* Bounds of a range are inclusive. */
	awg_le32_put(buf + 16, 49);
	CHECK_INT(awg_obfs_unwrap(o, buf, 48, &view), 0);
	awg_le32_put(buf + 16, 39);
	CHECK_INT(awg_obfs_unwrap(o, buf, 48, &view), -EBADMSG);
	awg_obfs_free(o);
}

static void test_trailers_receive(void)
{
	struct awg_obfs_params p;
	struct awg_obfs_view view;
	uint8_t buf[400];
	struct awg_obfs *o;

	/* With trailers on, a longer datagram passes the init size test and wins over transport. */
	awg_obfs_params_init(&p);
	p.random_trailers = true;
	o = obfs_new(&p);
	if (!o)
		return;
	memset(buf, 0, sizeof(buf));
	awg_le32_put(buf, 1);
	CHECK_INT(awg_obfs_unwrap(o, buf, 300, &view), 0);
	CHECK_INT(view.kind, AWG_KIND_INIT);
	CHECK_INT(view.msg_len, 148);
	CHECK_INT(awg_obfs_unwrap(o, buf, 147, &view), -EBADMSG);
	awg_le32_put(buf, 3);
	CHECK_INT(awg_obfs_unwrap(o, buf, 65, &view), 0);
	CHECK_INT(view.kind, AWG_KIND_COOKIE);
	CHECK_INT(view.msg_len, 64);
	awg_obfs_free(o);

	/* Off locally: only the exact size is a handshake; the rest falls through to transport. */
	p.random_trailers = false;
	o = obfs_new(&p);
	if (!o)
		return;
	awg_le32_put(buf, 1);
	CHECK_INT(awg_obfs_unwrap(o, buf, 300, &view), -EBADMSG);
	awg_obfs_free(o);
}

static void test_garbage_datagrams(void)
{
	struct awg_obfs_params sets[3];
	uint8_t *buf;
	int s;

	full_params(&sets[0]);
	awg_obfs_params_init(&sets[1]);
	full_params(&sets[2]);
	sets[2].hp_on = false;
	for (s = 0; s < 3; s++) {
		struct awg_obfs *o = obfs_new(&sets[s]);
		unsigned accepted = 0, total = 0;
		struct test_env te;
		size_t len;
		int i;

		if (!o)
			continue;
		test_env_init(&te, 20 + (uint64_t)s);
		for (len = 0; len <= 600; len++) {
			for (i = 0; i < 8; i++) {
				struct awg_obfs_view view;

				/* Exactly len bytes, so ASan catches any overread. */
				buf = malloc(len ? len : 1);
				awg_env_random(&te.env, buf, len);
				total++;
				if (awg_obfs_unwrap(o, buf, len, &view) == 0) {
					accepted++;
					CHECK(view.msg_off + view.msg_len <= len);
				}
				free(buf);
			}
		}
		CHECK(total == 601 * 8);
		/* Only a magic-range hit at the right offset passes: about |H4| / 2^32. */
		CHECK(accepted * 100 < total);
		awg_obfs_free(o);
	}
}

/* --- Send-side details --- */

static void test_trailer_bounds(void)
{
	size_t min_n = SIZE_MAX, max_n = 0, n;
	struct awg_obfs_params p;
	uint8_t buf[2048];
	struct test_env te;
	struct awg_obfs *o;
	int i;

	full_params(&p);
	o = obfs_new(&p);
	if (!o)
		return;
	test_env_init(&te, 30);
	/* Initiation, W = 200: base 163, R in [0, 37). */
	for (i = 0; i < 2000; i++) {
		memset(buf + 15, 0, 148);
		n = awg_obfs_wrap(o, AWG_KIND_INIT, buf, 148, sizeof(buf), 200, &te.env);
		min_n = n < min_n ? n : min_n;
		max_n = n > max_n ? n : max_n;
	}
	CHECK_INT(min_n, 163);
	CHECK_INT(max_n, 199);
	/* W at or below the base size: no trailer. */
	CHECK_INT(awg_obfs_wrap(o, AWG_KIND_INIT, buf, 148, sizeof(buf), 163, &te.env), 163);
	CHECK_INT(awg_obfs_wrap(o, AWG_KIND_INIT, buf, 148, sizeof(buf), 100, &te.env), 163);
	CHECK_INT(awg_obfs_wrap(o, AWG_KIND_INIT, buf, 148, sizeof(buf), 164, &te.env), 163);
	/* Never past cap. */
	for (i = 0; i < 200; i++) {
		n = awg_obfs_wrap(o, AWG_KIND_RESPONSE, buf, 92, 115, 1500, &te.env);
		CHECK(n >= 110 && n <= 115);
	}
	/* Cookie: fixed W = 500 whatever the peer window is; base 84. */
	max_n = 0;
	for (i = 0; i < 2000; i++) {
		n = awg_obfs_wrap(o, AWG_KIND_COOKIE, buf, 64, sizeof(buf), 2000, &te.env);
		CHECK(n >= 84 && n < 500);
		max_n = n > max_n ? n : max_n;
	}
	CHECK(max_n > 450);
	/* Response with a raised window uses it. */
	max_n = 0;
	for (i = 0; i < 2000; i++) {
		n = awg_obfs_wrap(o, AWG_KIND_RESPONSE, buf, 92, sizeof(buf), 1500, &te.env);
		CHECK(n >= 110 && n < 1500);
		max_n = n > max_n ? n : max_n;
	}
	CHECK(max_n > 1000);
	/* Transport never gets a cleartext trailer. */
	CHECK_INT(awg_obfs_wrap(o, AWG_KIND_TRANSPORT, buf, 40, sizeof(buf), 1500, &te.env), 63);
	awg_obfs_free(o);
}

static void test_wrap_contract(void)
{
	struct awg_obfs_params p;
	uint8_t buf[300];
	struct test_env te;
	struct awg_obfs *o;

	full_params(&p);
	o = obfs_new(&p);
	if (!o)
		return;
	test_env_init(&te, 31);
	CHECK_INT(awg_obfs_wrap(o, AWG_KIND_INIT, buf, 147, sizeof(buf), 0, &te.env), 0);
	CHECK_INT(awg_obfs_wrap(o, AWG_KIND_INIT, buf, 149, sizeof(buf), 0, &te.env), 0);
	CHECK_INT(awg_obfs_wrap(o, AWG_KIND_TRANSPORT, buf, 31, sizeof(buf), 0, &te.env), 0);
	CHECK_INT(awg_obfs_wrap(o, AWG_KIND_INIT, buf, 148, 162, 0, &te.env), 0);
	CHECK_INT(awg_obfs_wrap(o, AWG_KIND_INIT, buf, 148, 163, 1000, &te.env), 163);
	CHECK_INT(awg_obfs_wrap(o, AWG_KIND_COUNT, buf, 148, sizeof(buf), 0, &te.env), 0);
	CHECK_INT(awg_obfs_prefix_len(o, AWG_KIND_COUNT), 0);
	awg_obfs_free(o);
}

static void test_magic_picks(void)
{
	struct awg_obfs_params p;
	struct test_env te;
	struct awg_obfs *o;
	int k, i;

	awg_obfs_params_init(&p);
	p.h[0] = (struct awg_range){ 100, 103 };
	p.h[1] = (struct awg_range){ 5, 5 };
	p.h[2] = (struct awg_range){ 0, 1 };
	p.h[3] = (struct awg_range){ 0xfffffff0u, 0xffffffffu };
	o = obfs_new(&p);
	if (!o)
		return;
	test_env_init(&te, 40);
	for (k = 0; k < AWG_KIND_COUNT; k++) {
		bool lo = false, hi = false;

		for (i = 0; i < 2000; i++) {
			uint32_t v = awg_obfs_pick_type(o, (enum awg_msg_kind)k, &te.env);

			CHECK(v >= p.h[k].lo && v <= p.h[k].hi);
			lo |= v == p.h[k].lo;
			hi |= v == p.h[k].hi;
		}
		CHECK(lo && hi);
	}
	awg_obfs_free(o);
}

static void test_padding_rules(void)
{
	struct awg_obfs_params p;
	struct test_env te;
	struct awg_obfs *o;
	size_t pad, max_pad = 0;
	int i;

	test_env_init(&te, 50);
	/* Standard WireGuard: round up to 16, padded size capped at the MTU. */
	awg_obfs_params_init(&p);
	o = obfs_new(&p);
	if (!o)
		return;
	CHECK_INT(awg_obfs_transport_padding(o, 0, 1420, 0, &te.env), 0);
	CHECK_INT(awg_obfs_transport_padding(o, 1, 1420, 0, &te.env), 15);
	CHECK_INT(awg_obfs_transport_padding(o, 16, 1420, 0, &te.env), 0);
	CHECK_INT(awg_obfs_transport_padding(o, 17, 1420, 0, &te.env), 15);
	CHECK_INT(awg_obfs_transport_padding(o, 1419, 1420, 0, &te.env), 1);
	CHECK_INT(awg_obfs_transport_padding(o, 1420, 1420, 0, &te.env), 0);
	CHECK_INT(awg_obfs_transport_padding(o, 1421, 1420, 0, &te.env), 15);
	CHECK_INT(awg_obfs_transport_padding(o, 2840, 1420, 0, &te.env), 0);
	CHECK_INT(awg_obfs_transport_padding(o, 1419, 0, 0, &te.env), 5);
	CHECK_INT(awg_obfs_transport_padding(o, 5000, 0, 0, &te.env), 8);
	awg_obfs_free(o);

	/* ContentPaddingAddition: pick, capped to mtu - len'; wins over trailers. */
	p.content_padding = (struct awg_range){ 100, 100 };
	p.random_trailers = true;
	o = obfs_new(&p);
	if (!o)
		return;
	CHECK_INT(awg_obfs_transport_padding(o, 0, 1420, 0, &te.env), 100);
	CHECK_INT(awg_obfs_transport_padding(o, 1400, 1420, 0, &te.env), 20);
	CHECK_INT(awg_obfs_transport_padding(o, 1420, 1420, 0, &te.env), 0);
	CHECK_INT(awg_obfs_transport_padding(o, 1500, 1420, 0, &te.env), 100);
	CHECK_INT(awg_obfs_transport_padding(o, 2830, 1420, 0, &te.env), 10);
	CHECK_INT(awg_obfs_transport_padding(o, 1420, 0, 0, &te.env), 100);
	CHECK_INT(awg_obfs_transport_padding(o, 9000, 0, 0, &te.env), 100);
	awg_obfs_free(o);

	p.content_padding = (struct awg_range){ 3, 9 };
	o = obfs_new(&p);
	if (!o)
		return;
	for (i = 0; i < 500; i++) {
		pad = awg_obfs_transport_padding(o, 50, 1420, 0, &te.env);
		CHECK(pad >= 3 && pad <= 9);
	}
	awg_obfs_free(o);

	/* RandomTrailers without content padding: [0, W - (len + 32 + S4)), not MTU-capped. */
	p.content_padding = (struct awg_range){ 0, 0 };
	p.s[3] = 23;
	o = obfs_new(&p);
	if (!o)
		return;
	for (i = 0; i < 3000; i++) {
		pad = awg_obfs_transport_padding(o, 100, 1420, 0, &te.env);
		CHECK(pad < 500 - 155);
		max_pad = pad > max_pad ? pad : max_pad;
	}
	CHECK_INT(max_pad, 344);
	CHECK_INT(awg_obfs_transport_padding(o, 445, 1420, 500, &te.env), 0);
	CHECK_INT(awg_obfs_transport_padding(o, 444, 1420, 500, &te.env), 0);
	CHECK_INT(awg_obfs_transport_padding(o, 2000, 1420, 500, &te.env), 0);
	for (i = 0; i < 100; i++)
		CHECK(awg_obfs_transport_padding(o, 1400, 1420, 3000, &te.env) < 3000 - 1455);
	awg_obfs_free(o);
}

/* --- Decoys --- */

static void test_decoys(void)
{
	static const char *const texts[AWG_ISPEC_SLOTS] = {
		"<b 0x0102><r 2>", NULL, "<b 0xaabbcc>", "<d>", "no tag",
	};
	unsigned lo_hits = 0, hi_hits = 0;
	struct awg_parse_error err;
	struct awg_obfs_params p;
	uint8_t buf[128];
	struct test_env te;
	struct awg_obfs *o;
	size_t n;
	int i;

	test_env_init(&te, 60);
	awg_obfs_params_init(&p);
	p.jc = 3;
	p.jmin = 10;
	p.jmax = 20;
	if (!CHECK_INT(awg_obfs_new(&p, texts, &o, &err), 0))
		return;
	CHECK_INT(awg_obfs_decoy_count(o), 5);
	CHECK_INT(awg_obfs_decoy_max_len(o), 20);
	CHECK_INT(awg_obfs_decoy_build(o, 0, buf, sizeof(buf), &te.env), 4);
	CHECK_MEM(buf, "\x01\x02", 2);
	CHECK_INT(awg_obfs_decoy_build(o, 1, buf, sizeof(buf), &te.env), 3);
	CHECK_MEM(buf, "\xaa\xbb\xcc", 3);
	for (i = 0; i < 1000; i++) {
		n = awg_obfs_decoy_build(o, 2 + (unsigned)i % 3, buf, sizeof(buf), &te.env);
		CHECK(n >= 10 && n <= 20);
		lo_hits += n == 10;
		hi_hits += n == 20;
	}
	CHECK(lo_hits > 0 && hi_hits > 0);
	CHECK_INT(awg_obfs_decoy_build(o, 5, buf, sizeof(buf), &te.env), 0);
	CHECK_INT(awg_obfs_decoy_build(o, 2, buf, 19, &te.env), 0);
	CHECK_INT(awg_obfs_decoy_build(o, 0, buf, 3, &te.env), 0);
	awg_obfs_free(o);

	/* Jmin = 0: never an empty datagram. */
	p.jmin = 0;
	p.jmax = 1;
	o = obfs_new(&p);
	if (!o)
		return;
	CHECK_INT(awg_obfs_decoy_count(o), 3);
	for (i = 0; i < 100; i++)
		CHECK_INT(awg_obfs_decoy_build(o, (unsigned)i % 3, buf, sizeof(buf), &te.env), 1);
	awg_obfs_free(o);

	/* Jmax = 0 or Jc = 0: no junk at all. */
	p.jmax = 0;
	o = obfs_new(&p);
	if (o)
		CHECK_INT(awg_obfs_decoy_count(o), 0);
	awg_obfs_free(o);
	p.jc = 0;
	p.jmax = 100;
	o = obfs_new(&p);
	if (o)
		CHECK_INT(awg_obfs_decoy_count(o), 0);
	awg_obfs_free(o);
}

static void test_new_errors(void)
{
	static const char *const bad[AWG_ISPEC_SLOTS] = { NULL, NULL, "<r 1><x>", NULL, NULL };
	struct awg_ispec *specs[AWG_ISPEC_SLOTS] = { NULL };
	struct awg_parse_error err = { 0 };
	struct awg_obfs_params p;
	struct awg_obfs *o = (struct awg_obfs *)&err;

	awg_obfs_params_init(&p);
	CHECK_INT(awg_obfs_new(&p, bad, &o, &err), -EINVAL);
	CHECK(o == NULL);
	CHECK_INT(err.line, 3);
	CHECK_INT(err.column, 6);
	CHECK(strstr(err.msg, "<x>") != NULL);

	/* Compiled specs: ownership moves only on success. */
	CHECK_INT(awg_ispec_parse("<r 4>", 5, &specs[1], &err), 0);
	p.s[0] = 4;
	p.hp_on = true;
	CHECK_INT(awg_obfs_new_compiled(&p, specs, &o, &err), -EINVAL);
	CHECK(specs[1] != NULL);
	p.hp_on = false;
	CHECK_INT(awg_obfs_new_compiled(&p, specs, &o, &err), 0);
	CHECK(specs[1] == NULL);
	CHECK_INT(awg_obfs_decoy_count(o), 1);
	CHECK_INT(awg_obfs_params(o)->s[0], 4);
	awg_obfs_free(o);
	awg_obfs_free(NULL);
}

/* --- Validation (spec §3.4) --- */

static void test_validate_accepts(void)
{
	struct awg_parse_error err;
	struct awg_obfs_params p;

	awg_obfs_params_init(&p);
	CHECK_INT(awg_obfs_params_validate(&p, &err), 0);
	full_params(&p);
	CHECK_INT(awg_obfs_params_validate(&p, &err), 0);
	p.s[0] = 12;
	p.s[3] = 12;
	p.jmin = p.jmax = 0;
	CHECK_INT(awg_obfs_params_validate(&p, &err), 0);
	p.jmin = 500; /* Jmax = 0 means no junk, Jmin is then irrelevant */
	CHECK_INT(awg_obfs_params_validate(&p, &err), 0);
	p.jmin = p.jmax = 65534;
	p.s[0] = 65535 - 148;
	p.s[3] = 65535 - 32;
	p.h[0] = (struct awg_range){ 0, 0 };
	p.content_padding = (struct awg_range){ 65535, 65535 };
	CHECK_INT(awg_obfs_params_validate(&p, &err), 0);
}

static void set_h2_h3_overlap(struct awg_obfs_params *p)
{
	p->h[1] = (struct awg_range){ 5, 10 };
	p->h[2] = (struct awg_range){ 8, 20 };
}

static void set_h1_h4_touch(struct awg_obfs_params *p)
{
	p->h[0] = (struct awg_range){ 1, 1 };
	p->h[3] = (struct awg_range){ 0, 1 };
}

static void set_h1_reversed(struct awg_obfs_params *p)
{
	p->h[0] = (struct awg_range){ 9, 7 };
}

static void set_s3_small(struct awg_obfs_params *p)
{
	p->hp_on = true;
	p->s[0] = p->s[1] = p->s[3] = 12;
	p->s[2] = 4;
}

static void set_s1_huge(struct awg_obfs_params *p)
{
	p->s[0] = 65535 - 147;
}

static void set_s4_huge(struct awg_obfs_params *p)
{
	p->s[3] = 65535 - 31;
}

static void set_jmin_above(struct awg_obfs_params *p)
{
	p->jc = 1;
	p->jmin = 30;
	p->jmax = 20;
}

static void set_jmax_huge(struct awg_obfs_params *p)
{
	p->jmax = 65535;
}

static void set_pad_reversed(struct awg_obfs_params *p)
{
	p->content_padding = (struct awg_range){ 10, 5 };
}

static void set_pad_huge(struct awg_obfs_params *p)
{
	p->content_padding = (struct awg_range){ 1, 70000 };
}

static const struct {
	void (*set)(struct awg_obfs_params *p);
	const char *msg;
} reject_cases[] = {
	{ set_h2_h3_overlap, "H2 range 5-10 overlaps H3 range 8-20" },
	{ set_h1_h4_touch, "H1 range 1 overlaps H4 range 0-1" },
	{ set_h1_reversed, "H1 range 9-7 has its lower bound above the upper" },
	{ set_s3_small, "S3 = 4 is below 12, required when HeaderProtectionKey is set" },
	{ set_s1_huge, "S1 = 65388 makes the initiation datagram 65536 bytes, above 65535" },
	{ set_s4_huge, "S4 = 65504 makes the transport datagram 65536 bytes, above 65535" },
	{ set_jmin_above, "Jmin = 30 is greater than Jmax = 20" },
	{ set_jmax_huge, "Jmax = 65535 must be below 65535" },
	{ set_pad_reversed,
	  "ContentPaddingAddition range 10-5 has its lower bound above the upper" },
	{ set_pad_huge, "ContentPaddingAddition upper bound 70000 is above 65535" },
};

static void test_validate_rejects(void)
{
	size_t i;

	for (i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++) {
		struct awg_parse_error err = { 0 };
		struct awg_obfs_params p;
		struct awg_obfs *o;

		awg_obfs_params_init(&p);
		reject_cases[i].set(&p);
		CHECK_INT(awg_obfs_params_validate(&p, &err), -EINVAL);
		if (!CHECK(strcmp(err.msg, reject_cases[i].msg) == 0))
			fprintf(stderr, "  got \"%s\"\n  want \"%s\"\n", err.msg,
				reject_cases[i].msg);
		CHECK_INT(awg_obfs_new(&p, NULL, &o, NULL), -EINVAL);
	}
}

static void test_keepalive_rule(void)
{
	CHECK(awg_obfs_is_keepalive(NULL, 0));
	CHECK(awg_obfs_is_keepalive((const uint8_t *)"\0\0\0", 3));
	CHECK(awg_obfs_is_keepalive((const uint8_t *)"\0E", 2));
	CHECK(!awg_obfs_is_keepalive((const uint8_t *)"\x45\0", 2));
	CHECK(!awg_obfs_is_keepalive((const uint8_t *)"\x60", 1));
}

TEST_MAIN("obfs", T(test_hp_vector_transport), T(test_hp_vector_handshake),
	  T(test_roundtrip_full), T(test_roundtrip_hp_off), T(test_plain_wireguard),
	  T(test_classification_order), T(test_trailers_receive), T(test_garbage_datagrams),
	  T(test_trailer_bounds), T(test_wrap_contract), T(test_magic_picks),
	  T(test_padding_rules), T(test_decoys), T(test_new_errors), T(test_validate_accepts),
	  T(test_validate_rejects), T(test_keepalive_rule))
