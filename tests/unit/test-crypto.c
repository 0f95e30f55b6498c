// SPDX-License-Identifier: MIT
/* Known-answer tests for every wrapper in src/crypto/crypto.h, with vectors from published sources. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto.h"
#include "harness.h"

/*
 * Sources (hex copied from the documents, then re-checked at authoring time with Python's
 * hashlib / hmac / pyca-cryptography):
 *   [RFC7748]  RFC 7748 §5.2 (X25519 function and iterated vectors), §6.1 (Diffie-Hellman).
 *   [RFC8439]  RFC 8439 Appendix A.1 (ChaCha20 block functions), A.5 (AEAD decryption).
 *   [XCHACHA]  draft-irtf-cfrg-xchacha-03 Appendix A.3.1 (AEAD_XChaCha20_Poly1305).
 *   [RFC7693]  RFC 7693 Appendix B (BLAKE2s-256("abc")).
 *   [B2KAT]    BLAKE2 reference repository, testvectors/blake2-kat.json (blake2s, unkeyed and
 *              keyed with key 000102..1f, input 00 01 02 .. of the given length).
 *   [SPEC]     /work/shared/spec/awg-protocol.md §4.5 header-protection vector.
 *   [WG]       WireGuard's initial chaining key/hash (same constants as boringtun's
 *              INITIAL_CHAIN_KEY / INITIAL_CHAIN_HASH).
 *   [PY]       computed at authoring time with Python 3: hashlib.blake2s(data, key=..,
 *              digest_size=16), hmac.new(key, msg, hashlib.blake2s), pyca ChaCha20Poly1305.
 *   [WGTOOLS]  `echo <priv> | wg pubkey` (wireguard-tools) at authoring time.
 */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static size_t unhex(uint8_t *out, size_t max, const char *hex)
{
	return test_unhex(out, max, hex);
}

static void unhex32(uint8_t out[32], const char *hex)
{
	size_t n = test_unhex(out, 32, hex);

	CHECK_INT(n, 32);
}

/* out[i] = start + i: the "00 01 02 .." inputs of the BLAKE2 KAT files. */
static void fill_seq(uint8_t *out, size_t len, uint8_t start)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(start + i);
}

/* Independent of awg_is_zero, which is itself under test. */
static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void test_init(void)
{
	CHECK_INT(awg_crypto_init(), 0);
	CHECK_INT(awg_crypto_init(), 0);
}

/* --- X25519 --- */

static void test_x25519_rfc7748_function(void)
{
	/* [RFC7748] §5.2; the second u-coordinate has bit 255 set, which X25519 must mask. */
	static const struct {
		const char *scalar, *u, *out;
	} vec[] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(vec); i++) {
		uint8_t k[32], u[32], want[32], got[32];

		unhex32(k, vec[i].scalar);
		unhex32(u, vec[i].u);
		unhex32(want, vec[i].out);
		CHECK(awg_x25519(got, k, u));
		CHECK_MEM(got, want, 32);
	}
}

static void test_x25519_rfc7748_iterated(void)
{
	/* [RFC7748] §5.2: k = u = 9; each round k' = X25519(k, u), u' = k. 10^6 rounds skipped. */
	uint8_t k[32] = { 9 }, u[32] = { 9 }, r[32], want1[32], want1000[32];
	bool ok = true;

	unhex32(want1, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
	unhex32(want1000, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
	for (int i = 1; i <= 1000; i++) {
		ok &= awg_x25519(r, k, u);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1)
			CHECK_MEM(k, want1, 32);
	}
	CHECK(ok);
	CHECK_MEM(k, want1000, 32);
}

static void test_x25519_rfc7748_dh(void)
{
	/* [RFC7748] §6.1. */
	uint8_t a[32], a_pub[32], b[32], b_pub[32], shared[32], got[32];

	unhex32(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex32(a_pub, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	unhex32(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	unhex32(b_pub, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	unhex32(shared, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

	CHECK(awg_x25519_public(got, a));
	CHECK_MEM(got, a_pub, 32);
	CHECK(awg_x25519_public(got, b));
	CHECK_MEM(got, b_pub, 32);
	CHECK(awg_x25519(got, a, b_pub));
	CHECK_MEM(got, shared, 32);
	CHECK(awg_x25519(got, b, a_pub));
	CHECK_MEM(got, shared, 32);

	/* X25519(a, 9) through the general function agrees with awg_x25519_public. */
	{
		uint8_t nine[32] = { 9 };

		CHECK(awg_x25519(got, a, nine));
		CHECK_MEM(got, a_pub, 32);
	}
}

static void test_x25519_small_order(void)
{
	/*
	 * Points of small order make X25519 output all zero (RFC 7748 §6.1); awg_x25519 must refuse
	 * them and leave no partial output. u = 0, u = 1, u = p - 1 (pyca-cryptography also rejects
	 * all three with Alice's key).
	 */
	static const char *const bad[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t a[32], u[32], out[32];

	unhex32(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		unhex32(u, bad[i]);
		memset(out, 0xaa, sizeof(out));
		CHECK(!awg_x25519(out, a, u));
		CHECK(all_zero(out, sizeof(out)));
	}
}

static void test_x25519_wg_pubkey(void)
{
	/* [WGTOOLS] pairs; the second private key is not clamped (wg and X25519 both clamp). */
	static const struct {
		const char *priv, *pub;
	} vec[] = {
		{ "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1brOrUo=",
		  "v2OGV3MRvN6EYUcQRxevHdU5BSSopg+XiEabL7wZbAc=" },
		{ "//////////////////////////////////////////8=",
		  "hHwNLDdSNPNl5mCVUYejc1oPdhPRYJ06ak2MU66qWiI=" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(vec); i++) {
		uint8_t priv[32], pub[32];
		char b64[AWG_CRYPTO_KEY_B64_LEN + 1];

		CHECK(awg_key_from_base64(priv, vec[i].priv, strlen(vec[i].priv)));
		CHECK(awg_x25519_public(pub, priv));
		awg_key_to_base64(b64, pub);
		CHECK(strcmp(b64, vec[i].pub) == 0);
	}
}

static void test_x25519_clamp(void)
{
	static const struct {
		const char *in, *out;
	} vec[] = {
		{ "0000000000000000000000000000000000000000000000000000000000000000",
		  "0000000000000000000000000000000000000000000000000000000000000040" },
		{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		  "f8ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" },
		/* RFC 7748 §6.1 Alice's key. */
		{ "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
		  "70076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c6a" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(vec); i++) {
		uint8_t k[32], want[32];

		unhex32(k, vec[i].in);
		unhex32(want, vec[i].out);
		awg_x25519_clamp(k);
		CHECK_MEM(k, want, 32);
	}

	/* Clamping does not change the public key: X25519 clamps internally. */
	{
		uint8_t a[32], a_pub[32], got[32];

		unhex32(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
		unhex32(a_pub, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
		awg_x25519_clamp(a);
		CHECK(awg_x25519_public(got, a));
		CHECK_MEM(got, a_pub, 32);
	}
}

static void test_x25519_generate(void)
{
	uint8_t prev[32] = { 0 };
	bool clamped = true, fresh = true;

	for (int i = 0; i < 64; i++) {
		uint8_t k[32];

		awg_x25519_generate(k);
		clamped &= (k[0] & 7) == 0 && (k[31] & 0x80) == 0 && (k[31] & 0x40) != 0;
		fresh &= memcmp(k, prev, 32) != 0;
		memcpy(prev, k, 32);
	}
	CHECK(clamped);
	CHECK(fresh);

	/* Two generated pairs agree on a shared secret. */
	{
		uint8_t a[32], b[32], a_pub[32], b_pub[32], s1[32], s2[32];

		awg_x25519_generate(a);
		awg_x25519_generate(b);
		CHECK(awg_x25519_public(a_pub, a));
		CHECK(awg_x25519_public(b_pub, b));
		CHECK(awg_x25519(s1, a, b_pub));
		CHECK(awg_x25519(s2, b, a_pub));
		CHECK_MEM(s1, s2, 32);
	}
}

/* --- BLAKE2s --- */

static void test_blake2s256_kat(void)
{
	/* [RFC7693] Appendix B and [B2KAT] unkeyed (in = 00 01 .. of length len). */
	static const struct {
		size_t len;
		const char *out;
	} kat[] = {
		{ 0, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9" },
		{ 1, "e34d74dbaf4ff4c6abd871cc220451d2ea2648846c7757fbaac82fe51ad64bea" },
		{ 2, "ddad9ab15dac4549ba42f49d262496bef6c0bae1dd342a8808f8ea267c6e210c" },
		{ 3, "e8f91c6ef232a041452ab0e149070cdd7dd1769e75b3a5921be37876c45c9900" },
		{ 63, "e57cb79487dd57902432b250733813bd96a84efce59f650fac26e6696aefafc3" },
		{ 64, "56f34e8b96557e90c1f24b52d0c89d51086acf1b00f634cf1dde9233b8eaaa3e" },
		{ 65, "1b53ee94aaf34e4b159d48de352c7f0661d0a40edff95a0b1639b4090e974472" },
		{ 255, "f03f5789d3336b80d002d59fdf918bdb775b00956ed5528e86aa994acb38fe2d" },
	};
	uint8_t in[255], want[32], got[32];

	unhex32(want, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	awg_blake2s256(got, "abc", 3, NULL, 0);
	CHECK_MEM(got, want, 32);

	/* The empty string, as a NULL second part and as an empty first part. */
	unhex32(want, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
	awg_blake2s256(got, "", 0, NULL, 0);
	CHECK_MEM(got, want, 32);

	fill_seq(in, sizeof(in), 0);
	for (size_t i = 0; i < ARRAY_SIZE(kat); i++) {
		unhex32(want, kat[i].out);
		awg_blake2s256(got, in, kat[i].len, NULL, 0);
		CHECK_MEM(got, want, 32);
	}
}

static void test_blake2s256_two_part(void)
{
	/* Every split of the [B2KAT] 255-byte input hashes like the whole. */
	uint8_t in[255], want[32], got[32];
	bool same = true;

	fill_seq(in, sizeof(in), 0);
	unhex32(want, "f03f5789d3336b80d002d59fdf918bdb775b00956ed5528e86aa994acb38fe2d");
	for (size_t s = 0; s <= sizeof(in); s++) {
		awg_blake2s256(got, in, s, in + s, sizeof(in) - s);
		same &= memcmp(got, want, 32) == 0;
	}
	CHECK(same);

	/* [WG] Ci = HASH(CONSTRUCTION), Hi = HASH(Ci || IDENTIFIER). */
	{
		static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
		static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
		uint8_t ci[32], hi[32];

		unhex32(want, "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
		awg_blake2s256(ci, construction, strlen(construction), NULL, 0);
		CHECK_MEM(ci, want, 32);
		unhex32(want, "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
		awg_blake2s256(hi, ci, 32, identifier, strlen(identifier));
		CHECK_MEM(hi, want, 32);
	}
}

static void test_blake2s_keyed_kat(void)
{
	/* [B2KAT] keyed: key 000102..1f, in = 00 01 .. of length len, 32-byte output. */
	static const struct {
		size_t len;
		const char *out;
	} kat[] = {
		{ 0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49" },
		{ 1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1" },
		{ 2, "6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803" },
		{ 3, "1d220dbe2ee134661fdf6d9e74b41704710556f2f6e5a091b227697445dbea6b" },
		{ 63, "c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd" },
		{ 64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4" },
		{ 65, "21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8" },
		{ 255, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd" },
	};
	uint8_t key[32], in[255], want[32], got[32];

	fill_seq(key, sizeof(key), 0);
	fill_seq(in, sizeof(in), 0);
	for (size_t i = 0; i < ARRAY_SIZE(kat); i++) {
		unhex32(want, kat[i].out);
		awg_blake2s_keyed(got, 32, key, 32, in, kat[i].len);
		CHECK_MEM(got, want, 32);
	}
}

static void test_blake2s_keyed_mac16(void)
{
	/*
	 * [PY] hashlib.blake2s(data, key=key, digest_size=16): the 16-byte output is a distinct
	 * parameterisation (digest length in the parameter block), not a truncation. key and data
	 * are 00 01 02 .. of the given lengths; 16-byte keys are the cookie case.
	 */
	static const struct {
		size_t keylen, len;
		const char *out;
	} vec[] = {
		{ 32, 0, "9536f9b267655743dee97b8a670f9f53" },
		{ 32, 3, "1e2a79436a7796a3e9826bfedf07659f" },
		{ 32, 64, "f1efa90d2547036841ecd3627fafbc36" },
		{ 32, 116, "072e94ffbfc684bd8ab2a1b9dade2fd5" },
		{ 16, 3, "a63420ca605c6a6d122381a74bde7c9c" },
		{ 16, 200, "b8d300fa7937e4d1e67c8468df4c9a43" },
	};
	uint8_t key[32], in[200], want[16], got[16], full[32];

	fill_seq(key, sizeof(key), 0);
	fill_seq(in, sizeof(in), 0);
	for (size_t i = 0; i < ARRAY_SIZE(vec); i++) {
		CHECK_INT(unhex(want, sizeof(want), vec[i].out), 16);
		awg_blake2s_keyed(got, 16, key, vec[i].keylen, in, vec[i].len);
		CHECK_MEM(got, want, 16);
		awg_blake2s_keyed(full, 32, key, vec[i].keylen, in, vec[i].len);
		CHECK(memcmp(full, got, 16) != 0);
	}
}

static void test_hmac_blake2s(void)
{
	/* [PY] hmac.new(key, msg, hashlib.blake2s); seq(n) = 00 01 02 .. of length n. */
	static const struct {
		const char *key;	/* NULL: seq(keylen) */
		size_t keylen;
		const char *msg;	/* NULL: seq(len) */
		size_t len;
		const char *out;
	} vec[] = {
		{ NULL, 32, "", 0,
		  "e2641d24dfa8dd89e8cb77f1cdc77d8c006e5bebdfc4d6a3a3a6f8d5b7586fb0" },
		{ NULL, 32, "abc", 3,
		  "82623be5bc0a391b24dce53e67d028eff92d586de0485ac37822e597d049c74f" },
		/* Key longer than the 64-byte block: hashed first. */
		{ NULL, 100, NULL, 200,
		  "c4c95271905c6f69c1dd7c6fbc0cb3735457a660ccc2c4370f28825e7abef5af" },
		{ "key", 3, "The quick brown fox jumps over the lazy dog", 43,
		  "f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0" },
	};
	uint8_t seq[200], want[32], got[32];

	fill_seq(seq, sizeof(seq), 0);
	for (size_t i = 0; i < ARRAY_SIZE(vec); i++) {
		const uint8_t *key = vec[i].key ? (const uint8_t *)vec[i].key : seq;
		const void *msg = vec[i].msg ? (const void *)vec[i].msg : seq;

		unhex32(want, vec[i].out);
		awg_hmac_blake2s(got, key, vec[i].keylen, msg, vec[i].len);
		CHECK_MEM(got, want, 32);
	}
}

static void test_kdf(void)
{
	/*
	 * [PY] PRK = HMAC(ck, input); T1 = HMAC(PRK, 0x01); T2 = HMAC(PRK, T1 || 0x02);
	 * T3 = HMAC(PRK, T2 || 0x03), with HMAC = hmac.new(.., hashlib.blake2s).
	 */
	static const struct {
		const char *ck, *input, *t1, *t2, *t3;
	} vec[] = {
		/* ck = Ci of [WG], empty input (as in the transport-key derivation). */
		{ "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36", "",
		  "bd968725a9177942a8c2e4253d1dde31cf7b19ec001b4a3a3d141cd9d998d3ba",
		  "aab5462b323780fa615bf80ffe469510239ff361575a663968e686a7ae41d693",
		  "ae1e06e0931da10b9971bab8e282b42307522b38c0f4492cdd1bf44298126887" },
		/* ck = Ci, input = 40 41 .. 5f (a 32-byte DH result). */
		{ "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36",
		  "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f",
		  "5b263c9127f235a15ebecdd050402881332f942c7ad5251bfecd88dd6f8a76d9",
		  "4717a3de67577baa29ce3559196431ba86bca12383e08e7395e610dd3470c0ab",
		  "2bd6664af56a105b3d5d6db6fbc3d1bfdcc9ed46f21d83132312758f0597e6d3" },
		{ "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf", "01",
		  "6265b681b75736258e351f2621c5f363917f30b071652cc96ded6a2c0cb86ad1",
		  "8c6fef88e92703773e8ed0c52dce3b5ca2803c75a001a68e24a02b0bb22ca2b5",
		  "d4c4f5ebf79198c583d88f9db11e25df30ef968f429956df4563beabf83e3dcf" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(vec); i++) {
		uint8_t ck[32], input[32], w1[32], w2[32], w3[32], t1[32], t2[32], t3[32];
		size_t inlen;

		unhex32(ck, vec[i].ck);
		inlen = unhex(input, sizeof(input), vec[i].input);
		unhex32(w1, vec[i].t1);
		unhex32(w2, vec[i].t2);
		unhex32(w3, vec[i].t3);

		awg_kdf(t1, t2, t3, ck, input, inlen);
		CHECK_MEM(t1, w1, 32);
		CHECK_MEM(t2, w2, 32);
		CHECK_MEM(t3, w3, 32);

		memset(t1, 0, 32);
		memset(t2, 0, 32);
		awg_kdf(t1, t2, NULL, ck, input, inlen);
		CHECK_MEM(t1, w1, 32);
		CHECK_MEM(t2, w2, 32);

		memset(t1, 0, 32);
		awg_kdf(t1, NULL, NULL, ck, input, inlen);
		CHECK_MEM(t1, w1, 32);

		/* T1 is HMAC(HMAC(ck, input), 0x01) through the public HMAC wrapper. */
		{
			uint8_t prk[32], one = 1;

			awg_hmac_blake2s(prk, ck, 32, input, inlen);
			awg_hmac_blake2s(t1, prk, 32, &one, 1);
			CHECK_MEM(t1, w1, 32);
		}
	}
}

/* --- ChaCha20-Poly1305, WireGuard nonce --- */

/*
 * [RFC8439] A.5. The nonce 00000000 0102030405060708 is WireGuard's layout (4 zero bytes ||
 * LE64(counter)) with counter 0x0807060504030201. (The §2.8.2 vector's nonce starts 07000000,
 * which no WireGuard counter produces.)
 */
static const char a5_key[] = "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
static const uint64_t a5_counter = UINT64_C(0x0807060504030201);
static const char a5_ad[] = "f33388860000000000004e91";
static const char a5_ct[] =
	"64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
	"4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
	"332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
	"9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
	"b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
	"af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
	"0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
	"49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
	"a6ad5cb4022b02709b";
static const char a5_tag[] = "eead9d67890cbb22392336fea1851f38";
static const char a5_pt[] =
	"496e7465726e65742d4472616674732061726520647261667420646f63756d65"
	"6e74732076616c696420666f722061206d6178696d756d206f6620736978206d"
	"6f6e74687320616e64206d617920626520757064617465642c207265706c6163"
	"65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65"
	"6e747320617420616e792074696d652e20497420697320696e617070726f7072"
	"6961746520746f2075736520496e7465726e65742d4472616674732061732072"
	"65666572656e6365206d6174657269616c206f7220746f206369746520746865"
	"6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67"
	"726573732e2fe2809d";

enum { A5_LEN = 265 };

struct a5 {
	uint8_t key[32], ad[12], pt[A5_LEN], sealed[A5_LEN + 16];
};

static void a5_load(struct a5 *v)
{
	unhex32(v->key, a5_key);
	CHECK_INT(unhex(v->ad, sizeof(v->ad), a5_ad), 12);
	CHECK_INT(unhex(v->pt, sizeof(v->pt), a5_pt), A5_LEN);
	CHECK_INT(unhex(v->sealed, A5_LEN, a5_ct), A5_LEN);
	CHECK_INT(unhex(v->sealed + A5_LEN, 16, a5_tag), 16);
}

static void test_aead_rfc8439_a5(void)
{
	struct a5 v;
	uint8_t out[A5_LEN + 16];

	a5_load(&v);
	CHECK(awg_aead_decrypt(out, v.sealed, sizeof(v.sealed), v.ad, sizeof(v.ad), a5_counter,
			       v.key));
	CHECK_MEM(out, v.pt, A5_LEN);

	memset(out, 0, sizeof(out));
	awg_aead_encrypt(out, v.pt, A5_LEN, v.ad, sizeof(v.ad), a5_counter, v.key);
	CHECK_MEM(out, v.sealed, sizeof(v.sealed));
}

static void test_aead_tamper(void)
{
	struct a5 v;
	uint8_t out[A5_LEN], zero[A5_LEN] = { 0 };
	bool rejected = true, wiped = true;

	a5_load(&v);

	/* Every single-bit change of ciphertext or tag fails, and leaves no plaintext behind. */
	for (size_t bit = 0; bit < sizeof(v.sealed) * 8; bit++) {
		v.sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(out, 0xaa, sizeof(out));
		rejected &= !awg_aead_decrypt(out, v.sealed, sizeof(v.sealed), v.ad, sizeof(v.ad),
					      a5_counter, v.key);
		wiped &= memcmp(out, zero, sizeof(out)) == 0;
		v.sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CHECK(rejected);
	CHECK(wiped);

	/* Every single-bit change of the associated data fails. */
	rejected = wiped = true;
	for (size_t bit = 0; bit < sizeof(v.ad) * 8; bit++) {
		v.ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(out, 0xaa, sizeof(out));
		rejected &= !awg_aead_decrypt(out, v.sealed, sizeof(v.sealed), v.ad, sizeof(v.ad),
					      a5_counter, v.key);
		wiped &= memcmp(out, zero, sizeof(out)) == 0;
		v.ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CHECK(rejected);
	CHECK(wiped);

	/* Missing or truncated associated data, wrong counter, wrong key. */
	CHECK(!awg_aead_decrypt(out, v.sealed, sizeof(v.sealed), NULL, 0, a5_counter, v.key));
	CHECK(!awg_aead_decrypt(out, v.sealed, sizeof(v.sealed), v.ad, 11, a5_counter, v.key));
	CHECK(!awg_aead_decrypt(out, v.sealed, sizeof(v.sealed), v.ad, sizeof(v.ad),
				a5_counter + 1, v.key));
	CHECK(!awg_aead_decrypt(out, v.sealed, sizeof(v.sealed), v.ad, sizeof(v.ad),
				a5_counter ^ (UINT64_C(1) << 63), v.key));
	v.key[31] ^= 0x80;
	CHECK(!awg_aead_decrypt(out, v.sealed, sizeof(v.sealed), v.ad, sizeof(v.ad), a5_counter,
				v.key));
	v.key[31] ^= 0x80;

	/* Truncation: a shorter message fails; below the tag length it cannot even be tried. */
	CHECK(!awg_aead_decrypt(out, v.sealed, sizeof(v.sealed) - 1, v.ad, sizeof(v.ad),
				a5_counter, v.key));
	CHECK(!awg_aead_decrypt(out, v.sealed, 15, v.ad, sizeof(v.ad), a5_counter, v.key));
	CHECK(!awg_aead_decrypt(out, v.sealed, 0, v.ad, sizeof(v.ad), a5_counter, v.key));

	/* Still intact after all of the above. */
	CHECK(awg_aead_decrypt(out, v.sealed, sizeof(v.sealed), v.ad, sizeof(v.ad), a5_counter,
			       v.key));
	CHECK_MEM(out, v.pt, A5_LEN);
}

static void test_aead_in_place(void)
{
	struct a5 v;
	uint8_t buf[A5_LEN + 16], zero[A5_LEN] = { 0 };

	a5_load(&v);
	memcpy(buf, v.pt, A5_LEN);
	awg_aead_encrypt(buf, buf, A5_LEN, v.ad, sizeof(v.ad), a5_counter, v.key);
	CHECK_MEM(buf, v.sealed, sizeof(v.sealed));
	CHECK(awg_aead_decrypt(buf, buf, sizeof(buf), v.ad, sizeof(v.ad), a5_counter, v.key));
	CHECK_MEM(buf, v.pt, A5_LEN);

	/* In-place failure wipes the buffer's plaintext part. */
	memcpy(buf, v.sealed, sizeof(buf));
	buf[A5_LEN] ^= 1;
	CHECK(!awg_aead_decrypt(buf, buf, sizeof(buf), v.ad, sizeof(v.ad), a5_counter, v.key));
	CHECK_MEM(buf, zero, A5_LEN);
}

static void test_aead_empty_and_counter(void)
{
	struct a5 v;
	uint8_t tag[16], want[32], out[32], dummy[1] = { 0 };

	a5_load(&v);

	/* [PY] Empty plaintext (a keepalive): only the tag. */
	CHECK_INT(unhex(want, 16, "26edab23e9e2b84722a2d89156ef8b24"), 16);
	awg_aead_encrypt(tag, dummy, 0, NULL, 0, 0, v.key);
	CHECK_MEM(tag, want, 16);
	CHECK(awg_aead_decrypt(dummy, tag, 16, NULL, 0, 0, v.key));
	tag[0] ^= 1;
	CHECK(!awg_aead_decrypt(dummy, tag, 16, NULL, 0, 0, v.key));

	CHECK_INT(unhex(want, 16, "e52a5c7efe7648af56246f874c33709c"), 16);
	awg_aead_encrypt(tag, dummy, 0, v.ad, sizeof(v.ad), 7, v.key);
	CHECK_MEM(tag, want, 16);
	CHECK(awg_aead_decrypt(dummy, tag, 16, v.ad, sizeof(v.ad), 7, v.key));
	CHECK(!awg_aead_decrypt(dummy, tag, 16, v.ad, sizeof(v.ad), 6, v.key));

	/* [PY] Every counter byte lands in the nonce little-endian after the 4 zero bytes. */
	unhex32(want, "39b5088194ef9d5e11362787ac828b3c96845f507660929f81babe5b1ffd076a");
	awg_aead_encrypt(out, (const uint8_t *)"WireGuard nonce!", 16, NULL, 0,
			 UINT64_C(0xfedcba9876543210), v.key);
	CHECK_MEM(out, want, 32);
	CHECK(awg_aead_decrypt(out, want, 32, NULL, 0, UINT64_C(0xfedcba9876543210), v.key));
	CHECK_MEM(out, "WireGuard nonce!", 16);
}

/*
 * Short messages take libsodium, long ones OpenSSL (crypto.c, AEAD_SODIUM_MAX): every length
 * around and past the switch must give the RFC 8439 output, here libsodium's combined API as
 * an independent reference, and must open in place and refuse a flipped bit.
 */
static void test_aead_both_backends(void)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 63, 64, 65, 200, 254, 255, 256, 257,
				       300, 511, 512, 1024, 1380, 1420, 1500, 4000 };
	static uint8_t pt[4000], got[4016], want[4016];
	uint8_t key[32], ad[13];

	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 7 + 3);
	memset(key, 0x5a, sizeof(key));
	memset(ad, 0xa5, sizeof(ad));
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = lens[i];
		uint64_t ctr = 1000 + i;
		uint8_t nonce[12] = { 0 };
		unsigned long long wl;

		for (int b = 0; b < 8; b++)
			nonce[4 + b] = (uint8_t)(ctr >> (8 * b));
		for (int with_ad = 0; with_ad < 2; with_ad++) {
			const uint8_t *a = with_ad ? ad : NULL;
			size_t alen = with_ad ? sizeof(ad) : 0;

			crypto_aead_chacha20poly1305_ietf_encrypt(want, &wl, pt, n, a, alen, NULL,
								  nonce, key);
			CHECK_INT(wl, n + 16);
			awg_aead_encrypt(got, pt, n, a, alen, ctr, key);
			CHECK_MEM(got, want, n + 16);
			CHECK(awg_aead_decrypt(got, got, n + 16, a, alen, ctr, key));
			CHECK_MEM(got, pt, n);
			memcpy(got, want, n + 16);
			got[n / 2] ^= 0x80;
			CHECK(!awg_aead_decrypt(got, got, n + 16, a, alen, ctr, key));
			CHECK(!awg_aead_decrypt(got, want, n + 16, a, alen, ctr + 1, key));
		}
	}
}

/* --- XChaCha20-Poly1305 --- */

/* [XCHACHA] A.3.1. */
static const char xc_key[] = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
static const char xc_nonce[] = "404142434445464748494a4b4c4d4e4f5051525354555657";
static const char xc_ad[] = "50515253c0c1c2c3c4c5c6c7";
static const char xc_pt[] =
	"4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
	"73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
	"6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
	"637265656e20776f756c642062652069742e";
static const char xc_ct[] =
	"bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
	"731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
	"2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
	"21f9664c97637da9768812f615c68b13b52e";
static const char xc_tag[] = "c0875924c1c7987947deafd8780acf49";

enum { XC_LEN = 114 };

struct xc {
	uint8_t key[32], nonce[24], ad[12], pt[XC_LEN], sealed[XC_LEN + 16];
};

static void xc_load(struct xc *v)
{
	unhex32(v->key, xc_key);
	CHECK_INT(unhex(v->nonce, sizeof(v->nonce), xc_nonce), 24);
	CHECK_INT(unhex(v->ad, sizeof(v->ad), xc_ad), 12);
	CHECK_INT(unhex(v->pt, sizeof(v->pt), xc_pt), XC_LEN);
	CHECK_INT(unhex(v->sealed, XC_LEN, xc_ct), XC_LEN);
	CHECK_INT(unhex(v->sealed + XC_LEN, 16, xc_tag), 16);
}

static void test_xaead_draft_a31(void)
{
	struct xc v;
	uint8_t out[XC_LEN + 16];

	xc_load(&v);
	CHECK(memcmp(v.pt, "Ladies and Gentlemen of the class of '99: ", 42) == 0);

	awg_xaead_encrypt(out, v.pt, XC_LEN, v.ad, sizeof(v.ad), v.nonce, v.key);
	CHECK_MEM(out, v.sealed, sizeof(v.sealed));

	memset(out, 0, sizeof(out));
	CHECK(awg_xaead_decrypt(out, v.sealed, sizeof(v.sealed), v.ad, sizeof(v.ad), v.nonce,
				v.key));
	CHECK_MEM(out, v.pt, XC_LEN);
}

static void test_xaead_tamper(void)
{
	struct xc v;
	uint8_t out[XC_LEN], zero[XC_LEN] = { 0 };
	bool rejected = true, wiped = true;

	xc_load(&v);
	for (size_t bit = 0; bit < sizeof(v.sealed) * 8; bit++) {
		v.sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(out, 0xaa, sizeof(out));
		rejected &= !awg_xaead_decrypt(out, v.sealed, sizeof(v.sealed), v.ad, sizeof(v.ad),
					       v.nonce, v.key);
		wiped &= memcmp(out, zero, sizeof(out)) == 0;
		v.sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CHECK(rejected);
	CHECK(wiped);

	rejected = true;
	for (size_t bit = 0; bit < sizeof(v.ad) * 8; bit++) {
		v.ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rejected &= !awg_xaead_decrypt(out, v.sealed, sizeof(v.sealed), v.ad, sizeof(v.ad),
					       v.nonce, v.key);
		v.ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CHECK(rejected);

	/* The HChaCha20 part (nonce[0..15]) and the ChaCha20 part (nonce[16..23]) both count. */
	rejected = true;
	for (size_t i = 0; i < sizeof(v.nonce); i++) {
		v.nonce[i] ^= 0x01;
		rejected &= !awg_xaead_decrypt(out, v.sealed, sizeof(v.sealed), v.ad, sizeof(v.ad),
					       v.nonce, v.key);
		v.nonce[i] ^= 0x01;
	}
	CHECK(rejected);

	CHECK(!awg_xaead_decrypt(out, v.sealed, 15, v.ad, sizeof(v.ad), v.nonce, v.key));
	CHECK(!awg_xaead_decrypt(out, v.sealed, 0, v.ad, sizeof(v.ad), v.nonce, v.key));
	CHECK(awg_xaead_decrypt(out, v.sealed, sizeof(v.sealed), v.ad, sizeof(v.ad), v.nonce,
				v.key));
	CHECK_MEM(out, v.pt, XC_LEN);
}

/* --- ChaCha20 keystream (header protection) --- */

static void test_chacha20_rfc8439(void)
{
	/*
	 * [RFC8439] A.1 test vectors #1 (block counter 0) and #2 (block counter 1), both with the
	 * all-zero key and nonce: one call from counter 0 yields #1 then #2. A.2 #1 (encryption
	 * of 64 zero bytes from counter 0) has the same bytes as A.1 #1.
	 */
	static const char zero_ks[] =
		"76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
		"da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"
		"9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
		"29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f";
	/* [RFC8439] A.1 test vector #5: zero key, nonce 00..0002, block counter 0. */
	static const char tv5_ks[] =
		"c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c7"
		"8a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d";
	uint8_t key[32] = { 0 }, nonce[12] = { 0 }, in[128] = { 0 }, out[128], want[128];

	CHECK_INT(unhex(want, sizeof(want), zero_ks), 128);
	awg_chacha20_xor(out, in, 128, nonce, key);
	CHECK_MEM(out, want, 128);

	/* A shorter call is a prefix of the same keystream. */
	memset(out, 0, sizeof(out));
	awg_chacha20_xor(out, in, 20, nonce, key);
	CHECK_MEM(out, want, 20);

	nonce[11] = 2;
	CHECK_INT(unhex(want, sizeof(want), tv5_ks), 64);
	awg_chacha20_xor(out, in, 64, nonce, key);
	CHECK_MEM(out, want, 64);
}

static void test_chacha20_header_protection(void)
{
	/* [SPEC] §4.5. */
	uint8_t key[32], nonce[12], zeros[148] = { 0 }, ks[148], want[20];
	uint8_t hdr[16], prot[16], buf[16];

	unhex32(key, "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f");
	CHECK_INT(unhex(nonce, sizeof(nonce), "a0a1a2a3a4a5a6a7a8a9aaab"), 12);

	awg_chacha20_xor(ks, zeros, sizeof(ks), nonce, key);
	CHECK_INT(unhex(want, 16, "2d6424c920f9cee26e682503199daa6c"), 16);
	CHECK_MEM(ks, want, 16);
	CHECK_INT(unhex(want, 16, "5abf1dc6c9e6800a76dd54a10f44e0a8"), 16);
	CHECK_MEM(ks + 64, want, 16);
	CHECK_INT(unhex(want, 20, "db2bc67212500b4801e1b3e5c2afe1f4cec69a6f"), 20);
	CHECK_MEM(ks + 128, want, 20);

	/* The transport header example: H4 = 3000000000, receiver 0x11223344, counter 7. */
	CHECK_INT(unhex(hdr, 16, "005ed0b2 44332211 0700000000000000"), 16);
	CHECK_INT(unhex(prot, 16, "2d3af47b64caecf369682503199daa6c"), 16);
	awg_chacha20_xor(buf, hdr, 16, nonce, key);
	CHECK_MEM(buf, prot, 16);

	/* In place, and XOR twice restores the input. */
	awg_chacha20_xor(buf, buf, 16, nonce, key);
	CHECK_MEM(buf, hdr, 16);
}

/* --- Comparison, wiping, randomness --- */

static void test_equal_is_zero_wipe(void)
{
	uint8_t a[64], b[64], z[64] = { 0 };
	bool ok = true;

	fill_seq(a, sizeof(a), 0x30);
	memcpy(b, a, sizeof(a));
	CHECK(awg_equal(a, b, sizeof(a)));
	CHECK(awg_equal(a, b, 0));
	for (size_t i = 0; i < sizeof(a); i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			ok &= !awg_equal(a, b, sizeof(a));
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	CHECK(ok);
	/* Only the first len bytes count. */
	b[63] ^= 0xff;
	CHECK(awg_equal(a, b, 63));
	CHECK(!awg_equal(a, b, 64));

	CHECK(awg_is_zero(z, sizeof(z)));
	CHECK(awg_is_zero(z, 0));
	CHECK(awg_is_zero(a, 0));
	ok = true;
	for (size_t i = 0; i < sizeof(z); i++) {
		for (int bit = 0; bit < 8; bit++) {
			z[i] = (uint8_t)(1u << bit);
			ok &= !awg_is_zero(z, sizeof(z));
			z[i] = 0;
		}
	}
	CHECK(ok);

	memset(a, 0xa5, sizeof(a));
	awg_wipe(a, 40);
	CHECK(all_zero(a, 40));
	CHECK(a[40] == 0xa5 && a[63] == 0xa5);
	awg_wipe(a, 0);
}

static void test_random_bytes(void)
{
	uint8_t a[32], b[32], big[4096];
	bool seen[256] = { false };
	unsigned distinct = 0;

	awg_random_bytes(a, sizeof(a));
	awg_random_bytes(b, sizeof(b));
	CHECK(!all_zero(a, sizeof(a)));
	CHECK(!all_zero(b, sizeof(b)));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	awg_random_bytes(a, 0);

	/* 4096 uniform bytes miss a given value with probability ~1e-7: expect nearly all 256. */
	awg_random_bytes(big, sizeof(big));
	for (size_t i = 0; i < sizeof(big); i++) {
		distinct += !seen[big[i]];
		seen[big[i]] = true;
	}
	CHECK(distinct >= 250);
}

/* --- Key encodings --- */

static void test_key_base64(void)
{
	static const struct {
		const char *b64, *hex;
	} good[] = {
		{ "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1brOrUo=",
		  "f09f771dfd5db529cca5357741975852a271a982d8ea09ab4451cfd5bacead4a" },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		  "0000000000000000000000000000000000000000000000000000000000000000" },
		{ "//////////////////////////////////////////8=",
		  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" },
	};
	static const struct {
		const char *text;
		size_t len;
		const char *why;
	} bad[] = {
		{ "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1brOrUp=", 44, "unused bits set ('p')" },
		{ "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1brOrUr=", 44, "unused bits set ('r')" },
		{ "//////////////////////////////////////////9=", 44, "unused bits set ('9')" },
		{ "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1brOrUo", 43, "missing '='" },
		{ "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1brOrUoA", 44, "no padding, 33 bytes" },
		{ "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1brOrU==", 44, "31 bytes" },
		{ "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1brOrUo==", 45, "too long" },
		{ "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1brOrUo=", 43, "truncated" },
		{ "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1br!rUo=", 44, "invalid char '!'" },
		{ "__________________________________________8=", 44, "URL-safe alphabet" },
		{ "8J93Hf1dtSnMpTV3QZdYUqJx-YLY6gmrRFHP1brOrUo=", 44, "URL-safe '-'" },
		{ " J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1brOrUo=", 44, "leading space" },
		{ "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1brOrUo\n", 44, "newline for '='" },
		{ "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1brOrU=o", 44, "'=' too early" },
		{ "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmr\0FHP1brOrUo=", 44, "embedded NUL" },
		{ "", 0, "empty" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		uint8_t want[32], key[32];
		char out[AWG_CRYPTO_KEY_B64_LEN + 1];

		unhex32(want, good[i].hex);
		memset(out, 'x', sizeof(out));
		awg_key_to_base64(out, want);
		CHECK_INT(out[AWG_CRYPTO_KEY_B64_LEN], '\0');
		CHECK(strcmp(out, good[i].b64) == 0);
		CHECK(awg_key_from_base64(key, good[i].b64, strlen(good[i].b64)));
		CHECK_MEM(key, want, 32);
	}

	/* Only len bytes are read: trailing text after the key is not looked at. */
	{
		uint8_t want[32], key[32];

		unhex32(want, good[0].hex);
		CHECK(awg_key_from_base64(key, "8J93Hf1dtSnMpTV3QZdYUqJxqYLY6gmrRFHP1brOrUo=junk", 44));
		CHECK_MEM(key, want, 32);
	}

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint8_t key[32];

		if (!CHECK(!awg_key_from_base64(key, bad[i].text, bad[i].len)))
			fprintf(stderr, "    accepted: %s\n", bad[i].why);
	}
}

static void test_key_hex(void)
{
	static const char lower[] =
		"f09f771dfd5db529cca5357741975852a271a982d8ea09ab4451cfd5bacead4a";
	static const char upper[] =
		"F09F771DFD5DB529CCA5357741975852A271A982D8EA09AB4451CFD5BACEAD4A";
	static const char mixed[] =
		"F09f771dFD5db529cCA5357741975852a271A982d8ea09ab4451cfd5BACEAD4a";
	static const struct {
		const char *text;
		size_t len;
		const char *why;
	} bad[] = {
		{ "f09f771dfd5db529cca5357741975852a271a982d8ea09ab4451cfd5bacead4", 63, "63 digits" },
		{ "f09f771dfd5db529cca5357741975852a271a982d8ea09ab4451cfd5bacead4a0", 65,
		  "65 digits" },
		{ "f09f771dfd5db529cca5357741975852a271a982d8ea09ab4451cfd5bacead4a", 62,
		  "truncated" },
		{ "g09f771dfd5db529cca5357741975852a271a982d8ea09ab4451cfd5bacead4a", 64, "'g'" },
		{ "f09f771dfd5db529cca5357741975852a271a982d8ea09ab4451cfd5bacead4z", 64, "'z'" },
		{ "0x9f771dfd5db529cca5357741975852a271a982d8ea09ab4451cfd5bacead4a", 64, "0x" },
		{ "f09f771dfd5db529cca5357741975852 271a982d8ea09ab4451cfd5bacead4a", 64, "space" },
		{ "f09f771dfd5db529cca5357741975852:271a982d8ea09ab4451cfd5bacead4a", 64, "colon" },
		{ "f09f771dfd5db529cca5357741975852\0" "271a982d8ea09ab4451cfd5bacead4a", 64,
		  "embedded NUL" },
		{ "", 0, "empty" },
	};
	uint8_t want[32], key[32];
	char out[AWG_CRYPTO_KEY_HEX_LEN + 1];

	unhex32(want, lower);
	memset(out, 'x', sizeof(out));
	awg_key_to_hex(out, want);
	CHECK_INT(out[AWG_CRYPTO_KEY_HEX_LEN], '\0');
	CHECK(strcmp(out, lower) == 0);

	CHECK(awg_key_from_hex(key, lower, 64));
	CHECK_MEM(key, want, 32);
	memset(key, 0, sizeof(key));
	CHECK(awg_key_from_hex(key, upper, 64));
	CHECK_MEM(key, want, 32);
	memset(key, 0, sizeof(key));
	CHECK(awg_key_from_hex(key, mixed, 64));
	CHECK_MEM(key, want, 32);

	/* Round trip through both encodings. */
	{
		char b64[AWG_CRYPTO_KEY_B64_LEN + 1];
		uint8_t back[32];

		awg_key_to_base64(b64, want);
		CHECK(awg_key_from_base64(back, b64, strlen(b64)));
		awg_key_to_hex(out, back);
		CHECK(strcmp(out, lower) == 0);
	}

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (!CHECK(!awg_key_from_hex(key, bad[i].text, bad[i].len)))
			fprintf(stderr, "    accepted: %s\n", bad[i].why);
	}
}

/*
 * The per-thread pool behind awg_random_bytes: many small draws across several refills are all
 * different, every byte value turns up about equally often, and a large draw (which bypasses the
 * pool) is fresh too.
 */
static int cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static void test_random_pool(void)
{
	enum { DRAWS = 4000 };
	static uint8_t draws[DRAWS][16];
	unsigned counts[256] = { 0 }, dup = 0, lo = ~0u, hi = 0;
	uint8_t big[8192], big2[8192];

	for (int i = 0; i < DRAWS; i++) {
		/* Odd sizes make draws straddle the pool's refill boundary. */
		uint8_t odd[7];

		awg_random_bytes(draws[i], 16);
		awg_random_bytes(odd, sizeof(odd));
		for (int j = 0; j < 16; j++)
			counts[draws[i][j]]++;
	}
	qsort(draws, DRAWS, 16, cmp16);
	for (int i = 1; i < DRAWS; i++)
		if (!memcmp(draws[i - 1], draws[i], 16))
			dup++;
	CHECK_INT(dup, 0);
	for (int v = 0; v < 256; v++) {
		lo = counts[v] < lo ? counts[v] : lo;
		hi = counts[v] > hi ? counts[v] : hi;
	}
	/* 64000 bytes: 250 expected per value; a biased pool would leave this band. */
	CHECK(lo > 150);
	CHECK(hi < 360);
	awg_random_bytes(big, sizeof(big));
	awg_random_bytes(big2, sizeof(big2));
	CHECK(memcmp(big, big2, sizeof(big)) != 0);
	CHECK(!awg_is_zero(big, sizeof(big)));
}

/* A forked child must not hand out the bytes left in its parent's random pool. */
static void test_random_fork(void)
{
	uint8_t warm[8], mine[32], theirs[32];
	int p[2];
	pid_t pid;

	/* An empty pool, then one small draw: a fresh pool with 4088 bytes left to hand out. */
	awg_crypto_thread_cleanup();
	awg_random_bytes(warm, sizeof(warm));
	if (!CHECK(pipe(p) == 0))
		return;
	pid = fork();
	if (pid == 0) {
		awg_random_bytes(mine, sizeof(mine));
		_exit(write(p[1], mine, sizeof(mine)) == (ssize_t)sizeof(mine) ? 0 : 1);
	}
	close(p[1]);
	awg_random_bytes(mine, sizeof(mine));
	CHECK(read(p[0], theirs, sizeof(theirs)) == (ssize_t)sizeof(theirs));
	close(p[0]);
	waitpid(pid, NULL, 0);
	CHECK(memcmp(mine, theirs, sizeof(mine)) != 0);
}

TEST_MAIN("crypto",
	  T(test_init),
	  T(test_x25519_rfc7748_function),
	  T(test_x25519_rfc7748_iterated),
	  T(test_x25519_rfc7748_dh),
	  T(test_x25519_small_order),
	  T(test_x25519_wg_pubkey),
	  T(test_x25519_clamp),
	  T(test_x25519_generate),
	  T(test_blake2s256_kat),
	  T(test_blake2s256_two_part),
	  T(test_blake2s_keyed_kat),
	  T(test_blake2s_keyed_mac16),
	  T(test_hmac_blake2s),
	  T(test_kdf),
	  T(test_aead_rfc8439_a5),
	  T(test_aead_tamper),
	  T(test_aead_in_place),
	  T(test_aead_empty_and_counter),
	  T(test_aead_both_backends),
	  T(test_xaead_draft_a31),
	  T(test_xaead_tamper),
	  T(test_chacha20_rfc8439),
	  T(test_chacha20_header_protection),
	  T(test_equal_is_zero_wipe),
	  T(test_random_bytes),
	  T(test_random_pool),
	  T(test_random_fork),
	  T(test_key_base64),
	  T(test_key_hex))
