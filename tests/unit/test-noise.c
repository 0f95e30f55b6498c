// SPDX-License-Identifier: MIT
/* Tests the Noise_IKpsk2 handshake, transport keypairs and keypair rotation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "crypto.h"
#include "harness.h"
#include "keypair.h"
#include "noise.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

/* ---- known-answer vectors, computed outside this code base ---- */

/*
 * `printf %s <base64 of bytes 0x01..0x20> | wg pubkey` and the same for 0x21..0x40
 * (wireguard-tools; wg clamps the private key as we do).
 */
static const char wg_priv_a[] = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
static const char wg_pub_a[] = "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=";
static const char wg_priv_b[] = "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=";
static const char wg_pub_b[] = "WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=";

/* C0 = BLAKE2s(construction), H0 = BLAKE2s(C0 || identifier), from Python's hashlib. */
static const char kat_c0[] = "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36";
static const char kat_h0[] = "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3";

/*
 * A whole handshake from an independent Python model (pyca/cryptography X25519 and
 * ChaCha20-Poly1305, hashlib BLAKE2s, hmac): initiator static 0x01..0x20, responder static
 * 0x21..0x40, initiator ephemeral 0x61..0x80, responder ephemeral 0x81..0xa0, sender indices
 * 0x11223344 / 0x55667788, wall clock 1767225600.123456789 s, type bytes 1 and 2, mac2 zero.
 * PSK all-zero, or 0xc1..0xe0. t1 = initiator->responder key, t2 = the reverse.
 */
static const char kat_nopsk_init[] =
	"0100000044332211244fe3b963e899dd295baffce248d3530f3a9a7479ba0630"
	"02680ebfe7adad49cea76d7fc853aade12d6996b10ef94ff13dee02cca397b96"
	"59fe8d62917bbf80ec58adf78f9e8d76e3b48f67a863af0ccd635212648c3e34"
	"8f1878445432fc69eaf860ea4d27b98512fbdd7dfeacfa04effcba69512196b1"
	"e9cf53cc00000000000000000000000000000000";
static const char kat_nopsk_resp[] =
	"020000008877665544332211883186b800b41d5cf0429695da9b3cc4f328ebcd"
	"184a6e482fa578c103f06c77af7a4a32e50ce507d78f07e7574011683e95ee12"
	"0a97ad10a3293c5fad6dca8c00000000000000000000000000000000";
static const char kat_nopsk_t1[] =
	"465b71f36d8ab9febbf4d11502e13be0e6c8983b10109ad5886970ad1b3cd81a";
static const char kat_nopsk_t2[] =
	"41cfaf7e1f353d0ad8568b8e3ea13e838ee8454801d7c4a133c13dcc1bb5eed8";
static const char kat_psk_resp[] =
	"020000008877665544332211883186b800b41d5cf0429695da9b3cc4f328ebcd"
	"184a6e482fa578c103f06c777ab47780a96a2f0f37b763b01ffb69d3bcd1b3ab"
	"04dc728420b5e5202c71ffd300000000000000000000000000000000";
static const char kat_psk_t1[] =
	"53615d2b62b82bab662a13f9b2b72f8ee05ccbc9a62c12f73a46f85f9b541146";
static const char kat_psk_t2[] =
	"2130b007986208dc7a787ea6e5a41e103ca69e5619e0884740759c933959583c";

/* ---- fixtures ---- */

static void seq_bytes(uint8_t *out, uint8_t first, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(first + i);
}

/* One side of a two-peer setup: its identity and its handshake with the other side. */
struct side {
	struct awg_static_identity id;
	struct awg_handshake hs;
	struct awg_keypairs kps;
};

struct pair {
	struct side a, b;
	struct test_env te;
};

static struct awg_handshake *lookup_hs(void *ctx, const uint8_t remote_static[32])
{
	struct side *s = ctx;

	return memcmp(s->hs.remote_static, remote_static, 32) == 0 ? &s->hs : NULL;
}

static struct awg_handshake *lookup_none(void *ctx, const uint8_t remote_static[32])
{
	(void)ctx;
	(void)remote_static;
	return NULL;
}

static void pair_init(struct pair *p, uint64_t seed, const uint8_t *psk)
{
	uint8_t priv[32];

	memset(p, 0, sizeof(*p));
	test_env_init(&p->te, seed);
	awg_env_random(&p->te.env, priv, sizeof(priv));
	CHECK_INT(awg_noise_identity_init(&p->a.id, priv), 0);
	awg_env_random(&p->te.env, priv, sizeof(priv));
	CHECK_INT(awg_noise_identity_init(&p->b.id, priv), 0);
	awg_noise_handshake_init(&p->a.hs, &p->a.id, p->b.id.static_public, psk);
	awg_noise_handshake_init(&p->b.hs, &p->b.id, p->a.id.static_public, psk);
	awg_keypairs_init(&p->a.kps);
	awg_keypairs_init(&p->b.kps);
}

/* Runs a full handshake a -> b; installs the keypairs. Returns false at the first failure. */
static bool pair_handshake(struct pair *p, uint32_t ia, uint32_t ib)
{
	struct awg_msg_initiation init;
	struct awg_msg_response resp;
	struct awg_keypair kp;
	uint64_t now;

	if (!CHECK_INT(awg_noise_create_initiation(&p->a.hs, &init, ia, &p->te.env), 0))
		return false;
	if (!CHECK(awg_noise_consume_initiation(&init, &p->b.id, lookup_hs, &p->b, &p->te.env) ==
		   &p->b.hs))
		return false;
	if (!CHECK_INT(awg_noise_create_response(&p->b.hs, &resp, ib, &p->te.env), 0))
		return false;
	now = awg_env_mono_ns(&p->te.env);
	if (!CHECK_INT(awg_noise_begin_session(&p->b.hs, &kp, now, 0), 0))
		return false;
	awg_keypairs_add(&p->b.kps, &kp);
	if (!CHECK_INT(awg_noise_consume_response(&p->a.hs, &resp), 0))
		return false;
	if (!CHECK_INT(awg_noise_begin_session(&p->a.hs, &kp, now, 0), 0))
		return false;
	awg_keypairs_add(&p->a.kps, &kp);
	return true;
}

/* Seals plain into buf (header + payload + tag) with kp; returns the message length. */
static size_t seal(struct awg_keypair *kp, uint8_t *buf, const char *plain, size_t padded,
		   uint64_t now)
{
	memset(buf, 0xee, 4);	/* stands for the magic header the obfuscation layer writes */
	memset(buf + AWG_MSG_DATA_HEADER_LEN, 0, padded);
	memcpy(buf + AWG_MSG_DATA_HEADER_LEN, plain, strlen(plain));
	if (awg_keypair_seal(kp, buf, padded, now, NULL) != 0)
		return 0;
	return AWG_MSG_DATA_HEADER_LEN + padded + AWG_AUTHTAG_LEN;
}

/* A scripted environment for the KAT: random() hands out fixed bytes, clocks are fixed. */
struct kat_env {
	struct awg_env env;
	uint8_t bytes[32];
	size_t left;
	uint64_t wall_ns;
};

static void kat_random(void *ctx, void *buf, size_t len)
{
	struct kat_env *k = ctx;

	if (len > k->left)
		abort();
	memcpy(buf, k->bytes + sizeof(k->bytes) - k->left, len);
	k->left -= len;
}

static uint64_t kat_mono(void *ctx)
{
	(void)ctx;
	return 5000 * SEC;
}

static uint64_t kat_wall(void *ctx)
{
	return ((struct kat_env *)ctx)->wall_ns;
}

static void kat_env_init(struct kat_env *k, uint8_t first)
{
	k->env = (struct awg_env){
		.mono_ns = kat_mono, .wall_ns = kat_wall, .random = kat_random, .ctx = k,
	};
	seq_bytes(k->bytes, first, sizeof(k->bytes));
	k->left = sizeof(k->bytes);
	k->wall_ns = UINT64_C(1767225600) * SEC + 123456789;
}

/* ---- tests ---- */

static void test_pubkey_matches_wg(void)
{
	struct awg_static_identity id;
	uint8_t priv[32], pub[32];

	CHECK(awg_key_from_base64(priv, wg_priv_a, strlen(wg_priv_a)));
	CHECK(awg_key_from_base64(pub, wg_pub_a, strlen(wg_pub_a)));
	CHECK_INT(awg_noise_identity_init(&id, priv), 0);
	CHECK(id.has_identity);
	CHECK_MEM(id.static_public, pub, 32);

	CHECK(awg_key_from_base64(priv, wg_priv_b, strlen(wg_priv_b)));
	CHECK(awg_key_from_base64(pub, wg_pub_b, strlen(wg_pub_b)));
	CHECK_INT(awg_noise_identity_init(&id, priv), 0);
	CHECK_MEM(id.static_public, pub, 32);
}

static void test_initial_chaining_key_and_hash(void)
{
	struct awg_static_identity id;
	uint8_t zero[32] = { 0 }, c0[32], h0[32];

	test_unhex(c0, sizeof(c0), kat_c0);
	test_unhex(h0, sizeof(h0), kat_h0);
	CHECK_INT(awg_noise_identity_init(&id, zero), 0);
	CHECK(!id.has_identity);
	CHECK_MEM(id.initial_chaining_key, c0, 32);
	CHECK_MEM(id.initial_hash, h0, 32);
}

static void kat_handshake(const uint8_t *psk, const char *resp_hex, const char *t1_hex,
			  const char *t2_hex)
{
	struct awg_static_identity ida, idb;
	struct awg_handshake hsa, hsb;
	struct awg_cookie cookie_to_b, cookie_to_a;
	struct awg_msg_initiation init;
	struct awg_msg_response resp;
	struct awg_keypair kpa, kpb;
	struct kat_env ka, kb;
	struct side sb;
	uint8_t priv[32], want_init[148], want_resp[92], t1[32], t2[32];

	test_unhex(want_init, sizeof(want_init), kat_nopsk_init);
	test_unhex(want_resp, sizeof(want_resp), resp_hex);
	test_unhex(t1, sizeof(t1), t1_hex);
	test_unhex(t2, sizeof(t2), t2_hex);
	seq_bytes(priv, 0x01, 32);
	awg_noise_identity_init(&ida, priv);
	seq_bytes(priv, 0x21, 32);
	awg_noise_identity_init(&idb, priv);
	awg_noise_handshake_init(&hsa, &ida, idb.static_public, psk);
	awg_noise_handshake_init(&hsb, &idb, ida.static_public, psk);
	awg_cookie_init(&cookie_to_b, idb.static_public);
	awg_cookie_init(&cookie_to_a, ida.static_public);
	kat_env_init(&ka, 0x61);
	kat_env_init(&kb, 0x81);

	/* Initiator: Noise fields, then the type, then the MACs over it. */
	CHECK_INT(awg_noise_create_initiation(&hsa, &init, 0x11223344, &ka.env), 0);
	awg_le32_put(init.header.type, AWG_MESSAGE_HANDSHAKE_INITIATION);
	awg_cookie_add_macs(&cookie_to_b, (uint8_t *)&init, sizeof(init), &ka.env);
	CHECK_MEM(&init, want_init, sizeof(init));

	memcpy(&sb.hs, &hsb, sizeof(hsb));
	CHECK(awg_noise_consume_initiation(&init, &idb, lookup_hs, &sb, &kb.env) == &sb.hs);
	CHECK_INT(awg_noise_create_response(&sb.hs, &resp, 0x55667788, &kb.env), 0);
	awg_le32_put(resp.header.type, AWG_MESSAGE_HANDSHAKE_RESPONSE);
	awg_cookie_add_macs(&cookie_to_a, (uint8_t *)&resp, sizeof(resp), &kb.env);
	CHECK_MEM(&resp, want_resp, sizeof(resp));

	CHECK_INT(awg_noise_consume_response(&hsa, &resp), 0);
	CHECK_INT(awg_noise_begin_session(&hsa, &kpa, 1, 0), 0);
	CHECK_INT(awg_noise_begin_session(&sb.hs, &kpb, 1, 0), 0);
	CHECK_MEM(kpa.sending_key, t1, 32);
	CHECK_MEM(kpa.receiving_key, t2, 32);
	CHECK_MEM(kpb.sending_key, t2, 32);
	CHECK_MEM(kpb.receiving_key, t1, 32);
	CHECK(kpa.is_initiator && !kpb.is_initiator);
	CHECK_INT(kpa.local_index, 0x11223344);
	CHECK_INT(kpa.remote_index, 0x55667788);
	CHECK_INT(kpb.local_index, 0x55667788);
	CHECK_INT(kpb.remote_index, 0x11223344);
}

static void test_kat_handshake_no_psk(void)
{
	kat_handshake(NULL, kat_nopsk_resp, kat_nopsk_t1, kat_nopsk_t2);
}

static void test_kat_handshake_psk(void)
{
	uint8_t psk[32];

	seq_bytes(psk, 0xc1, 32);
	kat_handshake(psk, kat_psk_resp, kat_psk_t1, kat_psk_t2);
}

static void test_tai64n(void)
{
	uint8_t ts[12];
	static const uint8_t want[12] = {
		0x40, 0, 0, 0, 0x69, 0x55, 0xb9, 0x0a,	/* 2^62 + 10 + 1767225600 */
		0x07, 0x00, 0x00, 0x00,			/* 123456789 & ~(2^24 - 1) */
	};

	awg_noise_tai64n(ts, UINT64_C(1767225600) * SEC + 123456789);
	CHECK_MEM(ts, want, 12);
	/* Within one 2^24 ns bucket the timestamp does not move. */
	awg_noise_tai64n(ts, UINT64_C(1767225600) * SEC + 117440512 + 16777215);
	CHECK_MEM(ts, want, 12);
}

static void roundtrip(const uint8_t *psk)
{
	struct pair p;
	struct awg_keypair *ka, *kb;
	uint8_t buf[128];
	size_t len, plain_len;
	uint64_t now;

	pair_init(&p, 42, psk);
	if (!pair_handshake(&p, 7, 9))
		return;
	ka = p.a.kps.current;
	kb = p.b.kps.next;
	CHECK(ka && kb && !p.b.kps.current);
	CHECK_MEM(ka->sending_key, kb->receiving_key, 32);
	CHECK_MEM(ka->receiving_key, kb->sending_key, 32);
	CHECK_INT(p.a.hs.state, AWG_HANDSHAKE_ZEROED);
	CHECK_INT(p.b.hs.state, AWG_HANDSHAKE_ZEROED);
	CHECK(awg_is_zero(p.a.hs.chaining_key, 32) && awg_is_zero(p.b.hs.hash, 32));
	now = awg_env_mono_ns(&p.te.env);

	/* Initiator -> responder: confirms the responder's keypair. */
	len = seal(ka, buf, "hello", 16, now);
	CHECK_INT(len, 48);
	CHECK_INT(buf[0], 0xee);	/* type bytes untouched */
	CHECK_INT(awg_le32_get(buf + 4), 9);
	CHECK_INT(awg_le64_get(buf + 8), 0);
	CHECK(memcmp(buf + 16, "hello", 5) != 0);
	CHECK(awg_keypairs_find(&p.b.kps, awg_le32_get(buf + 4)) == kb);
	CHECK_INT(awg_keypair_open(kb, buf, len, now, &plain_len), 0);
	CHECK_INT(plain_len, 16);
	CHECK_MEM(buf + 16, "hello", 5);
	CHECK(awg_keypairs_received_with(&p.b.kps, kb));
	CHECK(p.b.kps.current == kb && !p.b.kps.next);
	CHECK(!awg_keypairs_received_with(&p.b.kps, kb));

	/* Responder -> initiator, keepalive (empty plaintext). */
	len = seal(kb, buf, "", 0, now);
	CHECK_INT(len, 32);
	CHECK_INT(awg_le32_get(buf + 4), 7);
	CHECK_INT(awg_keypair_open(ka, buf, len, now, &plain_len), 0);
	CHECK_INT(plain_len, 0);
}

static void test_roundtrip_no_psk(void)
{
	roundtrip(NULL);
}

static void test_roundtrip_psk(void)
{
	uint8_t psk[32];

	seq_bytes(psk, 0x55, 32);
	roundtrip(psk);
}

static void test_psk_mismatch(void)
{
	struct awg_msg_initiation init;
	struct awg_msg_response resp;
	struct awg_handshake before;
	struct pair p;
	uint8_t psk[32];

	pair_init(&p, 43, NULL);
	seq_bytes(psk, 1, 32);
	awg_noise_handshake_set_psk(&p.b.hs, psk);
	CHECK_INT(awg_noise_create_initiation(&p.a.hs, &init, 1, &p.te.env), 0);
	/* The PSK enters only in the response: the initiation still goes through. */
	CHECK(awg_noise_consume_initiation(&init, &p.b.id, lookup_hs, &p.b, &p.te.env) == &p.b.hs);
	CHECK_INT(awg_noise_create_response(&p.b.hs, &resp, 2, &p.te.env), 0);
	memcpy(&before, &p.a.hs, sizeof(before));
	CHECK_INT(awg_noise_consume_response(&p.a.hs, &resp), -EBADMSG);
	CHECK_MEM(&p.a.hs, &before, sizeof(before));
}

static void test_tamper_initiation(void)
{
	struct awg_cookie_checker checker_b;
	struct awg_cookie cookie_to_b;
	struct awg_msg_initiation init, bad;
	struct awg_msg_cookie reply;
	struct awg_handshake before;
	const uint8_t src[] = { 10, 0, 0, 1, 0x12, 0x34 };
	struct pair p;
	int rejected_by_noise = 0;

	pair_init(&p, 44, NULL);
	awg_cookie_checker_init(&checker_b, p.b.id.static_public);
	awg_cookie_init(&cookie_to_b, p.b.id.static_public);

	/* Get a cookie first, so that mac2 is in play too. */
	CHECK_INT(awg_noise_create_initiation(&p.a.hs, &init, 5, &p.te.env), 0);
	awg_le32_put(init.header.type, 0x7a7a7a7a);
	awg_cookie_add_macs(&cookie_to_b, (uint8_t *)&init, sizeof(init), &p.te.env);
	CHECK_INT(awg_cookie_create_reply(&checker_b, &reply, (uint8_t *)&init, sizeof(init), src,
					  sizeof(src), &p.te.env), 0);
	CHECK_INT(awg_cookie_consume_reply(&cookie_to_b, &reply, &p.te.env), 0);

	test_env_advance(&p.te, SEC);
	CHECK_INT(awg_noise_create_initiation(&p.a.hs, &init, 5, &p.te.env), 0);
	awg_le32_put(init.header.type, 0x7a7a7a7a);
	awg_cookie_add_macs(&cookie_to_b, (uint8_t *)&init, sizeof(init), &p.te.env);
	CHECK_INT(awg_cookie_validate(&checker_b, (uint8_t *)&init, sizeof(init), src, sizeof(src),
				      true, &p.te.env), AWG_COOKIE_VALID_MAC_WITH_COOKIE);

	memcpy(&before, &p.b.hs, sizeof(before));
	for (size_t i = 0; i < sizeof(init); i++) {
		enum awg_cookie_mac_state st;
		struct awg_handshake *hs;

		bad = init;
		((uint8_t *)&bad)[i] ^= 0x01;
		st = awg_cookie_validate(&checker_b, (uint8_t *)&bad, sizeof(bad), src, sizeof(src),
					 true, &p.te.env);
		hs = awg_noise_consume_initiation(&bad, &p.b.id, lookup_hs, &p.b, &p.te.env);
		/* The type and sender index are covered by the MACs only; the rest by Noise too. */
		if (!CHECK(st != AWG_COOKIE_VALID_MAC_WITH_COOKIE || hs == NULL))
			break;
		if (i >= 8 && i < 116) {
			CHECK(hs == NULL);
			rejected_by_noise += hs == NULL;
		}
		if (hs == NULL && !CHECK_MEM(&p.b.hs, &before, sizeof(before)))
			break;
		/* Undo the acceptance of a flip that only the MACs catch. */
		if (hs)
			memcpy(&p.b.hs, &before, sizeof(before));
	}
	CHECK_INT(rejected_by_noise, 108);
	/* The untampered message still goes through: the flips were what failed. */
	CHECK(awg_noise_consume_initiation(&init, &p.b.id, lookup_hs, &p.b, &p.te.env) == &p.b.hs);
	CHECK_INT(p.b.hs.state, AWG_HANDSHAKE_CONSUMED_INITIATION);
	CHECK_INT(p.b.hs.remote_index, 5);
}

static void test_tamper_response(void)
{
	struct awg_msg_initiation init;
	struct awg_msg_response resp, bad;
	struct awg_handshake before;
	struct pair p;

	pair_init(&p, 45, NULL);
	CHECK_INT(awg_noise_create_initiation(&p.a.hs, &init, 3, &p.te.env), 0);
	CHECK(awg_noise_consume_initiation(&init, &p.b.id, lookup_hs, &p.b, &p.te.env) != NULL);
	CHECK_INT(awg_noise_create_response(&p.b.hs, &resp, 4, &p.te.env), 0);
	memcpy(&before, &p.a.hs, sizeof(before));
	/* receiver index (8..11) -> -EINVAL; ephemeral and empty AEAD (12..59) -> -EBADMSG. */
	for (size_t i = 8; i < 60; i++) {
		bad = resp;
		((uint8_t *)&bad)[i] ^= 0x80;
		CHECK_INT(awg_noise_consume_response(&p.a.hs, &bad), i < 12 ? -EINVAL : -EBADMSG);
		if (!CHECK_MEM(&p.a.hs, &before, sizeof(before)))
			break;
	}
	CHECK_INT(awg_noise_consume_response(&p.a.hs, &resp), 0);
}

static void test_initiation_replay(void)
{
	struct awg_msg_initiation first, second;
	struct pair p;

	pair_init(&p, 46, NULL);
	CHECK_INT(awg_noise_create_initiation(&p.a.hs, &first, 1, &p.te.env), 0);
	test_env_advance(&p.te, SEC);
	CHECK_INT(awg_noise_create_initiation(&p.a.hs, &second, 2, &p.te.env), 0);
	test_env_advance(&p.te, SEC);

	CHECK(awg_noise_consume_initiation(&second, &p.b.id, lookup_hs, &p.b, &p.te.env) != NULL);
	test_env_advance(&p.te, SEC);
	/* Same timestamp again, then an older one: both replays, long after the flood window. */
	CHECK(awg_noise_consume_initiation(&second, &p.b.id, lookup_hs, &p.b, &p.te.env) == NULL);
	CHECK(awg_noise_consume_initiation(&first, &p.b.id, lookup_hs, &p.b, &p.te.env) == NULL);
	CHECK_INT(p.b.hs.remote_index, 2);
}

static void test_initiation_flood(void)
{
	struct awg_msg_initiation m1, m2, m3;
	struct pair p;

	pair_init(&p, 47, NULL);
	CHECK_INT(awg_noise_create_initiation(&p.a.hs, &m1, 1, &p.te.env), 0);
	CHECK(awg_noise_consume_initiation(&m1, &p.b.id, lookup_hs, &p.b, &p.te.env) != NULL);

	/* 17 ms later: a newer TAI64N bucket, so only the flood rule can refuse it. */
	test_env_advance(&p.te, 17 * MS);
	CHECK_INT(awg_noise_create_initiation(&p.a.hs, &m2, 2, &p.te.env), 0);
	CHECK(memcmp(m1.encrypted_timestamp, m2.encrypted_timestamp, 28) != 0);
	CHECK(awg_noise_consume_initiation(&m2, &p.b.id, lookup_hs, &p.b, &p.te.env) == NULL);
	CHECK_INT(p.b.hs.remote_index, 1);

	/* At 20 ms the same message is welcome. */
	test_env_advance(&p.te, 3 * MS);
	CHECK(awg_noise_consume_initiation(&m2, &p.b.id, lookup_hs, &p.b, &p.te.env) != NULL);
	CHECK_INT(p.b.hs.remote_index, 2);

	test_env_advance(&p.te, 19 * MS);
	CHECK_INT(awg_noise_create_initiation(&p.a.hs, &m3, 3, &p.te.env), 0);
	CHECK(awg_noise_consume_initiation(&m3, &p.b.id, lookup_hs, &p.b, &p.te.env) == NULL);
}

static void test_unknown_peer_and_no_identity(void)
{
	struct awg_static_identity none;
	struct awg_handshake hs;
	struct awg_msg_initiation init;
	struct pair p;
	uint8_t zero[32] = { 0 }, low_order[32] = { 0 };

	pair_init(&p, 48, NULL);
	CHECK_INT(awg_noise_create_initiation(&p.a.hs, &init, 1, &p.te.env), 0);
	CHECK(awg_noise_consume_initiation(&init, &p.b.id, lookup_none, NULL, &p.te.env) == NULL);
	/* The wrong responder cannot even decrypt the static key. */
	CHECK(awg_noise_consume_initiation(&init, &p.a.id, lookup_hs, &p.a, &p.te.env) == NULL);

	CHECK_INT(awg_noise_identity_init(&none, zero), 0);
	awg_noise_handshake_init(&hs, &none, p.b.id.static_public, NULL);
	CHECK_INT(awg_noise_create_initiation(&hs, &init, 1, &p.te.env), -EINVAL);
	CHECK(awg_noise_consume_initiation(&init, &none, lookup_hs, &p.b, &p.te.env) == NULL);

	/* A peer key of small order gives an all-zero DH: refused, never used. */
	awg_noise_handshake_init(&hs, &p.a.id, low_order, NULL);
	CHECK(awg_is_zero(hs.precomputed_static_static, 32));
	CHECK_INT(awg_noise_create_initiation(&hs, &init, 1, &p.te.env), -EINVAL);
	CHECK_INT(hs.state, AWG_HANDSHAKE_ZEROED);
}

static void test_wrong_state(void)
{
	struct awg_msg_initiation init;
	struct awg_msg_response resp;
	struct awg_keypair kp;
	struct pair p;

	pair_init(&p, 49, NULL);
	CHECK_INT(awg_noise_create_response(&p.b.hs, &resp, 1, &p.te.env), -EINVAL);
	CHECK_INT(awg_noise_begin_session(&p.a.hs, &kp, 0, 0), -EINVAL);
	CHECK(!kp.valid);

	CHECK_INT(awg_noise_create_initiation(&p.a.hs, &init, 1, &p.te.env), 0);
	CHECK_INT(awg_noise_begin_session(&p.a.hs, &kp, 0, 0), -EINVAL);
	CHECK_INT(awg_noise_create_response(&p.a.hs, &resp, 1, &p.te.env), -EINVAL);
	CHECK(awg_noise_consume_initiation(&init, &p.b.id, lookup_hs, &p.b, &p.te.env) != NULL);
	CHECK_INT(awg_noise_begin_session(&p.b.hs, &kp, 0, 0), -EINVAL);
	CHECK_INT(awg_noise_consume_response(&p.b.hs, &resp), -EINVAL);
	CHECK_INT(awg_noise_create_response(&p.b.hs, &resp, 2, &p.te.env), 0);
	CHECK_INT(awg_noise_create_response(&p.b.hs, &resp, 2, &p.te.env), -EINVAL);

	/* Right state, wrong receiver index. */
	awg_le32_put(resp.receiver_index, 99);
	CHECK_INT(awg_noise_consume_response(&p.a.hs, &resp), -EINVAL);
	awg_le32_put(resp.receiver_index, 1);
	CHECK_INT(awg_noise_consume_response(&p.a.hs, &resp), 0);
	CHECK_INT(awg_noise_consume_response(&p.a.hs, &resp), -EINVAL);
	CHECK_INT(awg_noise_begin_session(&p.a.hs, &kp, 0, 0), 0);
	CHECK_INT(awg_noise_begin_session(&p.a.hs, &kp, 0, 0), -EINVAL);
	CHECK(!kp.valid);

	/* A retransmitted initiation restarts; the old response no longer fits. */
	CHECK_INT(awg_noise_create_initiation(&p.a.hs, &init, 1, &p.te.env), 0);
	awg_noise_handshake_clear(&p.a.hs);
	CHECK_INT(p.a.hs.state, AWG_HANDSHAKE_ZEROED);
	CHECK_INT(awg_noise_consume_response(&p.a.hs, &resp), -EINVAL);
}

static void test_transport_replay_and_tamper(void)
{
	struct pair p;
	uint8_t m[4][64], bad[64];
	size_t len[4], plain_len;
	uint64_t now;

	pair_init(&p, 50, NULL);
	if (!pair_handshake(&p, 1, 2))
		return;
	now = awg_env_mono_ns(&p.te.env);
	for (int i = 0; i < 4; i++)
		len[i] = seal(p.a.kps.current, m[i], "data", 16, now);
	CHECK_INT(awg_le64_get(m[3] + 8), 3);

	/* Out of order is fine, twice is not. */
	CHECK_INT(awg_keypair_open(p.b.kps.next, m[2], len[2], now, &plain_len), 0);
	CHECK_INT(awg_keypair_open(p.b.kps.next, m[0], len[0], now, &plain_len), 0);
	memcpy(bad, m[1], len[1]);
	bad[20] ^= 1;
	CHECK_INT(awg_keypair_open(p.b.kps.next, bad, len[1], now, &plain_len), -EBADMSG);
	memcpy(bad, m[1], len[1]);
	bad[8] ^= 1;	/* the counter is the nonce */
	CHECK_INT(awg_keypair_open(p.b.kps.next, bad, len[1], now, &plain_len), -EBADMSG);
	memcpy(bad, m[1], len[1]);
	CHECK_INT(awg_keypair_open(p.b.kps.next, m[1], len[1], now, &plain_len), 0);
	/* bad holds a copy of m[1] as sent: a replay. */
	CHECK_INT(awg_keypair_open(p.b.kps.next, bad, len[1], now, &plain_len), -EALREADY);
	CHECK_INT(awg_keypair_open(p.b.kps.next, m[3], 31, now, &plain_len), -EINVAL);
	CHECK_INT(awg_keypair_open(p.b.kps.next, m[3], len[3], now, &plain_len), 0);
	CHECK_MEM(m[3] + 16, "data", 4);
	/* The responder's own keys do not open what it would send. */
	len[0] = seal(p.b.kps.next, m[0], "x", 16, now);
	CHECK_INT(awg_keypair_open(p.b.kps.next, m[0], len[0], now, &plain_len), -EBADMSG);
}

static void test_key_expiry(void)
{
	struct awg_msg_initiation init;
	struct awg_msg_response resp;
	struct awg_keypair kp;
	struct pair p;
	uint8_t buf[64];
	size_t len, plain_len;
	uint64_t t0;

	pair_init(&p, 51, NULL);
	if (!pair_handshake(&p, 1, 2))
		return;
	t0 = awg_env_mono_ns(&p.te.env);
	len = seal(p.a.kps.current, buf, "late", 16, t0 + 179 * SEC);
	CHECK_INT(len, 48);
	CHECK_INT(awg_keypair_open(p.b.kps.next, buf, len, t0 + 180 * SEC, &plain_len),
		  -EKEYEXPIRED);
	CHECK_INT(awg_keypair_open(p.b.kps.next, buf, len, t0 + 179 * SEC, &plain_len), 0);
	CHECK_INT(awg_keypair_seal(p.a.kps.current, buf, 16, t0 + 180 * SEC, NULL), -EKEYEXPIRED);

	/* Counter exhaustion. */
	p.a.kps.current->sending_counter = AWG_REJECT_AFTER_MESSAGES;
	CHECK_INT(awg_keypair_seal(p.a.kps.current, buf, 16, t0, NULL), -EKEYEXPIRED);

	/* An AWG 3.0 reject-after-time override of 10 s. */
	test_env_advance(&p.te, SEC);
	CHECK_INT(awg_noise_create_initiation(&p.a.hs, &init, 3, &p.te.env), 0);
	CHECK(awg_noise_consume_initiation(&init, &p.b.id, lookup_hs, &p.b, &p.te.env) != NULL);
	CHECK_INT(awg_noise_create_response(&p.b.hs, &resp, 4, &p.te.env), 0);
	CHECK_INT(awg_noise_consume_response(&p.a.hs, &resp), 0);
	t0 = awg_env_mono_ns(&p.te.env);
	CHECK_INT(awg_noise_begin_session(&p.a.hs, &kp, t0, 10 * SEC), 0);
	CHECK_INT(awg_keypair_seal(&kp, buf, 16, t0 + 9 * SEC, NULL), 0);
	CHECK_INT(awg_keypair_seal(&kp, buf, 16, t0 + 10 * SEC, NULL), -EKEYEXPIRED);
	awg_keypair_wipe(&kp);
	CHECK(awg_is_zero(kp.sending_key, 32) && !kp.valid);
	CHECK_INT(awg_keypair_seal(&kp, buf, 16, t0, NULL), -EKEYEXPIRED);
}

static void test_rekey_helpers(void)
{
	struct awg_keypair kp = { .valid = true, .is_initiator = true, .birth_ns = 100 * SEC };

	CHECK(!awg_keypair_should_rekey_on_send(&kp, 219 * SEC, AWG_REKEY_AFTER_NS));
	CHECK(awg_keypair_should_rekey_on_send(&kp, 220 * SEC, AWG_REKEY_AFTER_NS));
	CHECK(!awg_keypair_should_rekey_on_receive(&kp, 264 * SEC, AWG_REKEY_ON_RECEIVE_NS));
	CHECK(awg_keypair_should_rekey_on_receive(&kp, 265 * SEC, AWG_REKEY_ON_RECEIVE_NS));
	kp.is_initiator = false;
	CHECK(!awg_keypair_should_rekey_on_send(&kp, 500 * SEC, AWG_REKEY_AFTER_NS));
	CHECK(!awg_keypair_should_rekey_on_receive(&kp, 500 * SEC, AWG_REKEY_ON_RECEIVE_NS));
	kp.sending_counter = AWG_REKEY_AFTER_MESSAGES + 1;
	CHECK(awg_keypair_should_rekey_on_send(&kp, 101 * SEC, AWG_REKEY_AFTER_NS));
	CHECK(!awg_keypair_should_rekey_on_send(NULL, 0, 0));
}

static struct awg_keypair make_kp(uint32_t idx, bool initiator)
{
	struct awg_keypair kp = {
		.local_index = idx, .is_initiator = initiator, .valid = true,
		.sending_valid = true, .reject_after_ns = AWG_REJECT_AFTER_NS,
	};

	memset(kp.sending_key, (int)idx, 32);
	return kp;
}

static void test_keypair_rotation(void)
{
	struct awg_keypairs kps;
	struct awg_keypair kp, *k1, *k2, *k3, *k4, *k5;

	awg_keypairs_init(&kps);
	/* Initiator: straight to current, old current to previous. */
	kp = make_kp(1, true);
	k1 = awg_keypairs_add(&kps, &kp);
	CHECK(awg_is_zero(&kp, sizeof(kp)));
	CHECK(kps.current == k1 && !kps.previous && !kps.next);
	kp = make_kp(2, true);
	k2 = awg_keypairs_add(&kps, &kp);
	CHECK(kps.current == k2 && kps.previous == k1 && !kps.next);
	CHECK_INT(k1->local_index, 1);
	kp = make_kp(3, true);
	k3 = awg_keypairs_add(&kps, &kp);
	CHECK(kps.current == k3 && kps.previous == k2 && !kps.next);
	CHECK(awg_keypairs_find(&kps, 1) == NULL);
	CHECK(awg_keypairs_find(&kps, 2) == k2);
	CHECK_INT(k2->sending_key[0], 2);

	/* Responder: waits in next, previous dropped, current still sends. */
	kp = make_kp(4, false);
	k4 = awg_keypairs_add(&kps, &kp);
	CHECK(kps.current == k3 && !kps.previous && kps.next == k4);
	CHECK(awg_keypairs_find(&kps, 2) == NULL);
	CHECK(!awg_keypairs_received_with(&kps, k3));
	CHECK(awg_keypairs_received_with(&kps, k4));
	CHECK(kps.current == k4 && kps.previous == k3 && !kps.next);

	/* Responder again, then our own handshake completes first: next becomes previous. */
	kp = make_kp(5, false);
	k5 = awg_keypairs_add(&kps, &kp);
	CHECK(kps.current == k4 && !kps.previous && kps.next == k5);
	kp = make_kp(6, true);
	k1 = awg_keypairs_add(&kps, &kp);
	CHECK(kps.current == k1 && kps.previous == k5 && !kps.next);
	CHECK_INT(kps.current->local_index, 6);
	CHECK_INT(kps.previous->local_index, 5);
	CHECK(awg_keypairs_find(&kps, 4) == NULL);

	/* Expire: receive still works, send does not. */
	awg_keypairs_expire_current(&kps);
	CHECK(!kps.current->sending_valid && kps.previous->sending_valid);
	awg_keypairs_clear(&kps);
	CHECK(!kps.current && !kps.previous && !kps.next);
	CHECK(awg_is_zero(kps.slot, sizeof(kps.slot)));
}

/* Responder keys confirmed by data, then rotated by a rekey from the initiator. */
static void test_rehandshake_rotation(void)
{
	struct pair p;
	uint8_t buf[64];
	size_t len, plain_len;
	struct awg_keypair *old_a, *old_b;
	uint64_t now;

	pair_init(&p, 52, NULL);
	if (!pair_handshake(&p, 1, 2))
		return;
	now = awg_env_mono_ns(&p.te.env);
	len = seal(p.a.kps.current, buf, "a", 16, now);
	CHECK_INT(awg_keypair_open(p.b.kps.next, buf, len, now, &plain_len), 0);
	CHECK(awg_keypairs_received_with(&p.b.kps, p.b.kps.next));
	old_a = p.a.kps.current;
	old_b = p.b.kps.current;

	test_env_advance(&p.te, 121 * SEC);
	now = awg_env_mono_ns(&p.te.env);
	CHECK(awg_keypair_should_rekey_on_send(old_a, now, AWG_REKEY_AFTER_NS));
	if (!pair_handshake(&p, 3, 4))
		return;
	CHECK(p.a.kps.previous == old_a && p.a.kps.current->local_index == 3);
	CHECK(p.b.kps.current == old_b && p.b.kps.next->local_index == 4);

	/* Until the responder sees the new keys it keeps sending with the old ones, which the
	 * initiator still accepts through previous. */
	len = seal(p.b.kps.current, buf, "b", 16, now);
	CHECK(awg_keypairs_find(&p.a.kps, awg_le32_get(buf + 4)) == p.a.kps.previous);
	CHECK_INT(awg_keypair_open(p.a.kps.previous, buf, len, now, &plain_len), 0);
	len = seal(p.a.kps.current, buf, "a", 16, now);
	CHECK_INT(awg_keypair_open(p.b.kps.next, buf, len, now, &plain_len), 0);
	CHECK(awg_keypairs_received_with(&p.b.kps, p.b.kps.next));
	CHECK_INT(p.b.kps.current->local_index, 4);
	CHECK_INT(p.b.kps.previous->local_index, 2);
}

TEST_MAIN("noise",
	  T(test_pubkey_matches_wg),
	  T(test_initial_chaining_key_and_hash),
	  T(test_kat_handshake_no_psk),
	  T(test_kat_handshake_psk),
	  T(test_tai64n),
	  T(test_roundtrip_no_psk),
	  T(test_roundtrip_psk),
	  T(test_psk_mismatch),
	  T(test_tamper_initiation),
	  T(test_tamper_response),
	  T(test_initiation_replay),
	  T(test_initiation_flood),
	  T(test_unknown_peer_and_no_identity),
	  T(test_wrong_state),
	  T(test_transport_replay_and_tamper),
	  T(test_key_expiry),
	  T(test_rekey_helpers),
	  T(test_keypair_rotation),
	  T(test_rehandshake_rotation))
