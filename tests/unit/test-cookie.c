// SPDX-License-Identifier: MIT
/* Tests mac1/mac2, cookie replies, cookie and secret expiry, and the under-load detector. */
#include <errno.h>
#include <string.h>

#include "cookie.h"
#include "crypto.h"
#include "harness.h"

#define SEC UINT64_C(1000000000)
#define MS UINT64_C(1000000)

/*
 * mac1 of an initiation-sized message (148 bytes: 0x00..0x73 then zero macs) under the
 * responder public key 0x21..0x40, i.e. BLAKE2s-128(key = BLAKE2s-256("mac1----" || pub),
 * msg[0..116)), from Python's hashlib.
 */
static const char kat_mac1[] = "11502fcdbf5676de4d450510903864a5";

struct fixture {
	struct test_env te;
	uint8_t pub_r[32];		/* responder's public key (any 32 bytes will do here) */
	struct awg_cookie_checker checker;	/* responder */
	struct awg_cookie cookie;		/* initiator's view of the responder */
	uint8_t msg[AWG_MSG_INITIATION_LEN];
};

static const uint8_t src_a[] = { 192, 0, 2, 1, 0xca, 0x6c };
static const uint8_t src_b[] = { 192, 0, 2, 2, 0xca, 0x6c };

static void fixture_init(struct fixture *f, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	test_env_init(&f->te, seed);
	for (int i = 0; i < 32; i++)
		f->pub_r[i] = (uint8_t)(0x21 + i);
	awg_cookie_checker_init(&f->checker, f->pub_r);
	awg_cookie_init(&f->cookie, f->pub_r);
	for (size_t i = 0; i < AWG_MSG_INITIATION_LEN; i++)
		f->msg[i] = (uint8_t)i;
	awg_le32_put(f->msg, 0x5eed1e55);	/* an AWG magic header in the type bytes */
}

static enum awg_cookie_mac_state validate(struct fixture *f, const uint8_t *msg,
					  const uint8_t *src, bool check_cookie)
{
	return awg_cookie_validate(&f->checker, msg, AWG_MSG_INITIATION_LEN, src, sizeof(src_a),
				   check_cookie, &f->te.env);
}

/* The responder demands a cookie; the initiator takes the reply in. */
static void fetch_cookie(struct fixture *f, const uint8_t *src)
{
	struct awg_msg_cookie reply;

	awg_cookie_add_macs(&f->cookie, f->msg, sizeof(f->msg), &f->te.env);
	CHECK_INT(awg_cookie_create_reply(&f->checker, &reply, f->msg, sizeof(f->msg), src,
					  sizeof(src_a), &f->te.env), 0);
	CHECK_INT(awg_cookie_consume_reply(&f->cookie, &reply, &f->te.env), 0);
}

static void test_mac1_known_answer(void)
{
	uint8_t pub[32], msg[AWG_MSG_INITIATION_LEN] = { 0 }, want[16];
	struct awg_cookie cookie;
	struct test_env te;

	test_env_init(&te, 1);
	for (int i = 0; i < 32; i++)
		pub[i] = (uint8_t)(0x21 + i);
	for (int i = 0; i < 116; i++)
		msg[i] = (uint8_t)i;
	test_unhex(want, sizeof(want), kat_mac1);
	awg_cookie_init(&cookie, pub);
	awg_cookie_add_macs(&cookie, msg, sizeof(msg), &te.env);
	CHECK_MEM(msg + 116, want, 16);
	CHECK(awg_is_zero(msg + 132, 16));	/* no cookie held: mac2 is zero */
	for (int i = 0; i < 116; i++)
		CHECK_INT(msg[i], i);		/* nothing before the macs is touched */
}

static void test_mac1_valid_and_tampered(void)
{
	struct fixture f;
	uint8_t bad[AWG_MSG_INITIATION_LEN];

	fixture_init(&f, 2);
	awg_cookie_add_macs(&f.cookie, f.msg, sizeof(f.msg), &f.te.env);
	CHECK_INT(validate(&f, f.msg, src_a, false), AWG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
	/* Under load without a cookie: mac1 fine, mac2 (zero) is not. */
	CHECK_INT(validate(&f, f.msg, src_a, true), AWG_COOKIE_VALID_MAC_BUT_NO_COOKIE);

	/* mac1 covers every byte before it, the magic header included. */
	for (size_t i = 0; i < 132; i++) {
		memcpy(bad, f.msg, sizeof(bad));
		bad[i] ^= 0x40;
		if (!CHECK_INT(validate(&f, bad, src_a, false), AWG_COOKIE_INVALID_MAC))
			break;
	}
	/* mac2 is not mac1's business. */
	memcpy(bad, f.msg, sizeof(bad));
	bad[140] ^= 1;
	CHECK_INT(validate(&f, bad, src_a, false), AWG_COOKIE_VALID_MAC_BUT_NO_COOKIE);

	/* A checker for another key refuses it; one without identity refuses everything. */
	f.pub_r[0] ^= 1;
	awg_cookie_checker_init(&f.checker, f.pub_r);
	CHECK_INT(validate(&f, f.msg, src_a, false), AWG_COOKIE_INVALID_MAC);
	awg_cookie_checker_init(&f.checker, NULL);
	CHECK_INT(validate(&f, f.msg, src_a, false), AWG_COOKIE_INVALID_MAC);
	CHECK_INT(awg_cookie_validate(&f.checker, f.msg, 39, src_a, 6, false, &f.te.env),
		  AWG_COOKIE_INVALID_MAC);
}

static void test_cookie_reply_roundtrip_and_mac2(void)
{
	struct fixture f;
	struct awg_msg_cookie reply;
	uint8_t bad[AWG_MSG_INITIATION_LEN];

	fixture_init(&f, 3);
	awg_le32_put(f.msg + 4, 0xabcdef01);	/* sender index */
	awg_cookie_add_macs(&f.cookie, f.msg, sizeof(f.msg), &f.te.env);
	memset(reply.header.type, 0x99, 4);
	CHECK_INT(awg_cookie_create_reply(&f.checker, &reply, f.msg, sizeof(f.msg), src_a,
					  sizeof(src_a), &f.te.env), 0);
	CHECK_INT(reply.header.type[0], 0x99);	/* left for the obfuscation layer */
	CHECK_INT(awg_le32_get(reply.receiver_index), 0xabcdef01);
	CHECK(!awg_is_zero(reply.nonce, sizeof(reply.nonce)));
	CHECK_INT(awg_cookie_consume_reply(&f.cookie, &reply, &f.te.env), 0);
	CHECK(f.cookie.is_valid);
	/* One reply per mac1: the same reply again is refused. */
	CHECK_INT(awg_cookie_consume_reply(&f.cookie, &reply, &f.te.env), -EINVAL);

	/* Next message carries mac2 and passes the under-load check from the same source. */
	test_env_advance(&f.te, 50 * MS);
	f.msg[10] ^= 0xff;
	awg_cookie_add_macs(&f.cookie, f.msg, sizeof(f.msg), &f.te.env);
	CHECK(!awg_is_zero(f.msg + 132, 16));
	CHECK_INT(validate(&f, f.msg, src_a, true), AWG_COOKIE_VALID_MAC_WITH_COOKIE);
	CHECK_INT(validate(&f, f.msg, src_a, false), AWG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
	/* The cookie is bound to the source address. */
	CHECK_INT(validate(&f, f.msg, src_b, true), AWG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
	/* mac2 covers mac1 and itself. */
	memcpy(bad, f.msg, sizeof(bad));
	bad[145] ^= 4;
	CHECK_INT(validate(&f, bad, src_a, true), AWG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
}

static void test_cookie_reply_tampered(void)
{
	struct fixture f;
	struct awg_msg_cookie reply, bad;
	struct awg_cookie other;

	fixture_init(&f, 4);
	/* Unsolicited: we never sent a mac1. */
	awg_cookie_add_macs(&f.cookie, f.msg, sizeof(f.msg), &f.te.env);
	CHECK_INT(awg_cookie_create_reply(&f.checker, &reply, f.msg, sizeof(f.msg), src_a,
					  sizeof(src_a), &f.te.env), 0);
	awg_cookie_init(&other, f.pub_r);
	CHECK_INT(awg_cookie_consume_reply(&other, &reply, &f.te.env), -EINVAL);

	/* Nonce and ciphertext are authenticated (index and type are routing only). */
	for (size_t i = 8; i < sizeof(reply); i++) {
		bad = reply;
		((uint8_t *)&bad)[i] ^= 0x10;
		if (!CHECK_INT(awg_cookie_consume_reply(&f.cookie, &bad, &f.te.env), -EBADMSG))
			break;
	}
	CHECK(!f.cookie.is_valid);

	/* A reply to a different mac1 (an older message) does not decrypt. */
	f.msg[20] ^= 1;
	awg_cookie_add_macs(&f.cookie, f.msg, sizeof(f.msg), &f.te.env);
	CHECK_INT(awg_cookie_consume_reply(&f.cookie, &reply, &f.te.env), -EBADMSG);
	CHECK(!f.cookie.is_valid);

	/* A reply from someone without the responder's public key does not decrypt either. */
	f.pub_r[31] ^= 1;
	awg_cookie_checker_init(&f.checker, f.pub_r);
	CHECK_INT(awg_cookie_create_reply(&f.checker, &reply, f.msg, sizeof(f.msg), src_a,
					  sizeof(src_a), &f.te.env), 0);
	CHECK_INT(awg_cookie_consume_reply(&f.cookie, &reply, &f.te.env), -EBADMSG);
	CHECK_INT(awg_cookie_create_reply(&f.checker, &reply, f.msg, 39, src_a, 6, &f.te.env),
		  -EINVAL);
}

static void test_cookie_expiry(void)
{
	struct fixture f;

	fixture_init(&f, 5);
	fetch_cookie(&f, src_a);

	test_env_advance(&f.te, 119 * SEC);
	awg_cookie_add_macs(&f.cookie, f.msg, sizeof(f.msg), &f.te.env);
	CHECK(!awg_is_zero(f.msg + 132, 16));

	test_env_advance(&f.te, 1 * SEC);
	awg_cookie_add_macs(&f.cookie, f.msg, sizeof(f.msg), &f.te.env);
	CHECK(awg_is_zero(f.msg + 132, 16));
	CHECK_INT(validate(&f, f.msg, src_a, true), AWG_COOKIE_VALID_MAC_BUT_NO_COOKIE);

	/* A fresh reply restores it. */
	fetch_cookie(&f, src_a);
	awg_cookie_add_macs(&f.cookie, f.msg, sizeof(f.msg), &f.te.env);
	CHECK_INT(validate(&f, f.msg, src_a, true), AWG_COOKIE_VALID_MAC_WITH_COOKIE);
}

static void test_secret_rotation(void)
{
	struct fixture f;
	uint8_t first_secret[32];

	fixture_init(&f, 6);
	CHECK(!f.checker.has_secret);	/* drawn lazily */
	fetch_cookie(&f, src_a);
	CHECK(f.checker.has_secret);
	memcpy(first_secret, f.checker.secret, 32);

	/* 60 s in, the initiator still holds a cookie the responder accepts. */
	test_env_advance(&f.te, 60 * SEC);
	awg_cookie_add_macs(&f.cookie, f.msg, sizeof(f.msg), &f.te.env);
	CHECK_INT(validate(&f, f.msg, src_a, true), AWG_COOKIE_VALID_MAC_WITH_COOKIE);
	CHECK_MEM(f.checker.secret, first_secret, 32);

	/*
	 * 120 s after the secret was drawn it is replaced: a cookie fetched at 60 s (still
	 * young for the initiator) no longer validates.
	 */
	fetch_cookie(&f, src_a);
	test_env_advance(&f.te, 60 * SEC);
	awg_cookie_add_macs(&f.cookie, f.msg, sizeof(f.msg), &f.te.env);
	CHECK(!awg_is_zero(f.msg + 132, 16));
	CHECK_INT(validate(&f, f.msg, src_a, true), AWG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
	CHECK(memcmp(f.checker.secret, first_secret, 32) != 0);

	/* A cookie under the new secret works again. */
	fetch_cookie(&f, src_a);
	awg_cookie_add_macs(&f.cookie, f.msg, sizeof(f.msg), &f.te.env);
	CHECK_INT(validate(&f, f.msg, src_a, true), AWG_COOKIE_VALID_MAC_WITH_COOKIE);
}

static void test_under_load_sticky(void)
{
	struct awg_cookie_load load = { 0 };
	uint64_t t = 1000 * SEC;

	CHECK(!awg_cookie_load_update(&load, 0, 1024, t));
	CHECK(!awg_cookie_load_update(&load, 127, 1024, t));
	CHECK(awg_cookie_load_update(&load, 128, 1024, t));
	/* Drained, but sticky for one second after the last congested observation. */
	CHECK(awg_cookie_load_update(&load, 0, 1024, t + 999 * MS));
	CHECK(!awg_cookie_load_update(&load, 0, 1024, t + 1000 * MS));
	/* Each congested observation restarts the second. */
	CHECK(awg_cookie_load_update(&load, 600, 4096, t + 2 * SEC));
	CHECK(awg_cookie_load_update(&load, 512, 4096, t + 2500 * MS));
	CHECK(awg_cookie_load_update(&load, 10, 4096, t + 3400 * MS));
	CHECK(!awg_cookie_load_update(&load, 10, 4096, t + 3500 * MS));
}

TEST_MAIN("cookie",
	  T(test_mac1_known_answer),
	  T(test_mac1_valid_and_tampered),
	  T(test_cookie_reply_roundtrip_and_mac2),
	  T(test_cookie_reply_tampered),
	  T(test_cookie_expiry),
	  T(test_secret_rotation),
	  T(test_under_load_sticky))
