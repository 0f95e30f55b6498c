// SPDX-License-Identifier: MIT
/*
 * The signed update list: real signify-openbsd output, envelopes signed here with libsodium in
 * the same format (wrong key, bad signature, broken base64...), the strict b2sum list grammar,
 * version comparison and the no-downgrade pick.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <sodium.h>

#include "crypto.h"
#include "harness.h"
#include "updlist.h"

#define DATA "tests/unit/data/updlist/"
#define H_A "1a90f117599cadd917cb6b09982ccbd779cd1d1325475cc311105f0fd1b91333"
#define H_B "41ea7975250e6fddff2498b91beee220ec7a065df5220d06a1763ba68e854681"
#define GOOD_LIST                                                                              \
	H_A "  awg-suite-amd64-0.2.0.deb\n" H_B "  awg-suite-arm64-0.2.0.deb\n"

static size_t slurp(const char *path, char *buf, size_t max)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "cannot open %s (run from the project root)\n", path);
		abort();
	}
	n = fread(buf, 1, max, f);
	fclose(f);
	return n;
}

/* A signify key made here: the secret half only lives for the test and is wiped. */
struct signer {
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	struct awg_upd_pubkey pk;
};

static void signer_new(struct signer *s, const char *keynum)
{
	CHECK_INT(crypto_sign_keypair(s->pk.key, s->sk), 0);
	memcpy(s->pk.keynum, keynum, 8);
}

/* raw = "Ed" + keynum + Ed25519(msg); text = comment line, base64(raw), message. */
static void sign_raw(uint8_t raw[74], const struct signer *s, const char *msg, size_t len)
{
	raw[0] = 'E';
	raw[1] = 'd';
	memcpy(raw + 2, s->pk.keynum, 8);
	crypto_sign_detached(raw + 10, NULL, (const unsigned char *)msg, len, s->sk);
}

static size_t envelope(char *out, size_t max, const uint8_t *raw, size_t rawlen, const char *msg,
		       size_t len)
{
	char b64[sodium_base64_ENCODED_LEN(80, sodium_base64_VARIANT_ORIGINAL)];
	int n;

	sodium_bin2base64(b64, sizeof(b64), raw, rawlen, sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(out, max, "untrusted comment: verify with test.pub\n%s\n", b64);
	if (n < 0 || (size_t)n + len > max)
		abort();
	memcpy(out + n, msg, len);
	return (size_t)n + len;
}

static size_t sign(char *out, size_t max, const struct signer *s, const char *msg)
{
	uint8_t raw[74];

	sign_raw(raw, s, msg, strlen(msg));
	return envelope(out, max, raw, sizeof(raw), msg, strlen(msg));
}

static bool has(const char *why, const char *part)
{
	return why && strstr(why, part);
}

static void real_signify_output(void)
{
	char pub[512], sig[1024], file[64], msg[512];
	struct awg_upd_pubkey pk, pk2;
	struct awg_upd_list l = { 0 }, l2 = { 0 };
	const char *why = NULL, *nl;
	uint8_t h[32];
	size_t plen, slen, flen, i;

	plen = slurp(DATA "updlist.pub", pub, sizeof(pub));
	slen = slurp(DATA "list.txt.sig", sig, sizeof(sig));
	CHECK_INT(awg_upd_pubkey_parse(&pk, pub, plen, &why), 0);
	/* The bare key line alone (what a build would embed) is the same key. */
	nl = memchr(pub, '\n', plen);
	CHECK(nl != NULL);
	CHECK_INT(awg_upd_pubkey_parse(&pk2, nl + 1, 56, &why), 0);
	CHECK_MEM(&pk, &pk2, sizeof(pk));
	CHECK_INT(awg_upd_pubkey_parse(&pk2, nl + 1, 57, &why), 0);

	CHECK_INT(awg_upd_list_verify(&l, &pk, sig, slen, &why), 0);
	CHECK_INT(l.n, 3);
	CHECK(l.n == 3 && !strcmp(l.v[0].file, "awg-suite-amd64-0.2.0.deb"));
	CHECK(l.n == 3 && !strcmp(l.v[2].file, "awg-suite-armhf-0.2.0.deb"));
	/* The listed hashes are BLAKE2b-256 of the files b2sum saw. */
	for (i = 0; i < l.n; i++) {
		snprintf(msg, sizeof(msg), DATA "%s", l.v[i].file);
		flen = slurp(msg, file, sizeof(file));
		crypto_generichash(h, sizeof(h), (const unsigned char *)file, flen, NULL, 0);
		CHECK(awg_equal(h, l.v[i].hash, 32));
	}
	/* The embedded message is list.txt byte for byte. */
	flen = slurp(DATA "list.txt", msg, sizeof(msg));
	CHECK_INT(awg_upd_list_parse(&l2, msg, flen, &why), 0);
	CHECK_INT(l2.n, l.n);
	CHECK(l2.n == l.n && !memcmp(l2.v, l.v, l.n * sizeof(*l.v)));
	awg_upd_list_free(&l2);
	awg_upd_list_free(&l);
	CHECK(l.v == NULL && l.n == 0);
	awg_upd_list_free(&l);

	/* One flipped bit anywhere in the message breaks the real signature. */
	sig[slen - 5] ^= 1;
	CHECK_INT(awg_upd_list_verify(&l, &pk, sig, slen, &why), -EBADMSG);
	CHECK(has(why, "signature is invalid"));
	CHECK(l.v == NULL && l.n == 0);
}

static void pubkey_forms(void)
{
	static const char bare[] = "RWSoxidXmt0J9Knu3ldtJd5vifzc7j6Dr4CZg+RRtqAp34jFiB7c9n2f";
	struct awg_upd_pubkey pk;
	const char *why = NULL;
	char buf[256];

	CHECK_INT(awg_upd_pubkey_parse(&pk, bare, strlen(bare), &why), 0);
	CHECK_MEM(pk.keynum, "\xa8\xc6\x27\x57\x9a\xdd\x09\xf4", 8);
	snprintf(buf, sizeof(buf), "untrusted comment: x\n%s\n", bare);
	CHECK_INT(awg_upd_pubkey_parse(&pk, buf, strlen(buf), &why), 0);
	/* Too short, too long, not base64, padding junk, whitespace, extra lines. */
	CHECK_INT(awg_upd_pubkey_parse(&pk, bare, 55, &why), -EINVAL);
	CHECK(has(why, "base64"));
	snprintf(buf, sizeof(buf), "%sA", bare);
	CHECK_INT(awg_upd_pubkey_parse(&pk, buf, strlen(buf), &why), -EINVAL);
	snprintf(buf, sizeof(buf), "%s", bare);
	buf[20] = '!';
	CHECK_INT(awg_upd_pubkey_parse(&pk, buf, strlen(buf), &why), -EINVAL);
	snprintf(buf, sizeof(buf), " %.55s", bare);
	CHECK_INT(awg_upd_pubkey_parse(&pk, buf, strlen(buf), &why), -EINVAL);
	snprintf(buf, sizeof(buf), "%s\n\n", bare);
	CHECK_INT(awg_upd_pubkey_parse(&pk, buf, strlen(buf), &why), -EINVAL);
	CHECK(has(why, "extra lines"));
	snprintf(buf, sizeof(buf), "untrusted comment: x\n");
	CHECK_INT(awg_upd_pubkey_parse(&pk, buf, strlen(buf), &why), -EINVAL);
	CHECK_INT(awg_upd_pubkey_parse(&pk, "", 0, &why), -EINVAL);
	/* 42 bytes that are not "Ed": base64 of "Xd" + 40 zero bytes. */
	{
		uint8_t raw[42] = { 'X', 'd' };

		sodium_bin2base64(buf, sizeof(buf), raw, sizeof(raw),
				  sodium_base64_VARIANT_ORIGINAL);
		CHECK_INT(awg_upd_pubkey_parse(&pk, buf, strlen(buf), &why), -EINVAL);
		CHECK(has(why, "not an Ed25519"));
	}
}

static void signed_here(void)
{
	struct signer s, other, twin;
	struct awg_upd_list l = { 0 };
	const char *why = NULL;
	char buf[2048];
	size_t n;

	signer_new(&s, "\x01\x02\x03\x04\x05\x06\x07\x08");
	signer_new(&other, "\x11\x12\x13\x14\x15\x16\x17\x18");
	signer_new(&twin, "\x01\x02\x03\x04\x05\x06\x07\x08");

	n = sign(buf, sizeof(buf), &s, GOOD_LIST);
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n, &why), 0);
	CHECK_INT(l.n, 2);
	CHECK(l.n == 2 && !strcmp(l.v[1].file, "awg-suite-arm64-0.2.0.deb"));
	awg_upd_list_free(&l);

	/* Another key: caught by its key id before any signature math, and named. */
	n = sign(buf, sizeof(buf), &other, GOOD_LIST);
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n, &why), -EBADMSG);
	CHECK(has(why, "signed with another key (key id 1112131415161718, expected "
		       "0102030405060708)"));
	/* The same key id on a different key: only the signature can tell. */
	n = sign(buf, sizeof(buf), &twin, GOOD_LIST);
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n, &why), -EBADMSG);
	CHECK(has(why, "signature is invalid"));

	/* A flipped byte in the message. */
	n = sign(buf, sizeof(buf), &s, GOOD_LIST);
	buf[n - 3] ^= 0x20;
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n, &why), -EBADMSG);
	CHECK(has(why, "signature is invalid"));
	/* A message cut short or extended is not the signed message either. */
	n = sign(buf, sizeof(buf), &s, GOOD_LIST);
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n - 1, &why), -EBADMSG);
	CHECK_INT(l.n, 0);
	awg_wipe(s.sk, sizeof(s.sk));
	awg_wipe(other.sk, sizeof(other.sk));
	awg_wipe(twin.sk, sizeof(twin.sk));
}

static void envelope_damage(void)
{
	struct awg_upd_list l = { 0 };
	const char *why = NULL, *msg = GOOD_LIST;
	struct signer s;
	uint8_t raw[75];
	char buf[2048], *line2;
	size_t n;

	signer_new(&s, "ABCDEFGH");
	sign_raw(raw, &s, msg, strlen(msg));

	/* A flipped byte in the signature itself. */
	raw[40] ^= 0x01;
	n = envelope(buf, sizeof(buf), raw, 74, msg, strlen(msg));
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n, &why), -EBADMSG);
	CHECK(has(why, "signature is invalid"));
	raw[40] ^= 0x01;
	n = envelope(buf, sizeof(buf), raw, 74, msg, strlen(msg));
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n, &why), 0);
	awg_upd_list_free(&l);

	/* No comment line: the base64 line first. */
	line2 = strchr(buf, '\n') + 1;
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, line2, n - (size_t)(line2 - buf), &why),
		  -EINVAL);
	CHECK(has(why, "untrusted comment"));
	/* Only the envelope, no newline after the signature line. */
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, (size_t)(line2 - buf) + 100, &why),
		  -EINVAL);
	CHECK(has(why, "too few lines"));
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, 10, &why), -EINVAL);
	CHECK(has(why, "too few lines"));
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, "", 0, &why), -EINVAL);

	/* Bad base64: a character outside the alphabet, and whitespace inside. */
	line2[7] = '*';
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n, &why), -EINVAL);
	CHECK(has(why, "base64"));
	line2[7] = ' ';
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n, &why), -EINVAL);

	/* Wrong length: 73 and 75 bytes. */
	n = envelope(buf, sizeof(buf), raw, 73, msg, strlen(msg));
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n, &why), -EINVAL);
	CHECK(has(why, "74 bytes"));
	raw[74] = 0;
	n = envelope(buf, sizeof(buf), raw, 75, msg, strlen(msg));
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n, &why), -EINVAL);
	/* Not an Ed signature. */
	raw[1] = 'D';
	n = envelope(buf, sizeof(buf), raw, 74, msg, strlen(msg));
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n, &why), -EINVAL);
	CHECK(has(why, "not an Ed25519"));

	/* A correctly signed empty list is still refused. */
	n = sign(buf, sizeof(buf), &s, "");
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n, &why), -EINVAL);
	CHECK(has(why, "no file hashes"));
	/* So is correctly signed junk after the list. */
	n = sign(buf, sizeof(buf), &s, GOOD_LIST "junk\n");
	CHECK_INT(awg_upd_list_verify(&l, &s.pk, buf, n, &why), -EINVAL);
	CHECK(has(why, "line 3"));
	CHECK_INT(l.n, 0);
	awg_wipe(s.sk, sizeof(s.sk));
}

static void oversized(void)
{
	struct awg_upd_list l = { 0 };
	const char *why = NULL;
	struct awg_upd_pubkey pk = { 0 };
	size_t big = AWG_UPD_LIST_MAX + 1, i;
	char *buf = malloc(big + 1);

	CHECK(buf != NULL);
	if (!buf)
		return;
	/* Valid lines all the way, so only the size can be the reason. */
	for (i = 0; i + 90 <= big; i += 90)
		snprintf(buf + i, 91, "%s  f%022zu\n", H_A, i);
	memset(buf + i, '\n', big - i);
	CHECK_INT(awg_upd_list_parse(&l, buf, big, &why), -E2BIG);
	CHECK(has(why, "512 KiB"));
	CHECK_INT(awg_upd_list_verify(&l, &pk, buf, big, &why), -E2BIG);
	/* At the limit it is a list again (of 5825 entries), parsed in one go. */
	CHECK_INT(awg_upd_list_parse(&l, buf, i, &why), 0);
	CHECK_INT(l.n, i / 90);
	awg_upd_list_free(&l);
	free(buf);
}

struct list_case {
	const char *text;
	int ret;
	const char *why;
};

static void list_grammar(void)
{
	static const struct list_case cases[] = {
		{ GOOD_LIST, 0, NULL },
		{ H_A "  a", 0, NULL },	/* final newline optional */
		{ H_A "  a+b_c-1.2.3.deb\n", 0, NULL },
		{ "", -EINVAL, "no file hashes" },
		{ "\n", -EINVAL, "line 1 is too short" },
		{ H_A "  a\n\n", -EINVAL, "line 2" },	/* one final newline only */
		{ H_A "  a\n\n" H_B "  b\n", -EINVAL, "line 2" },
		{ H_A " a\n", -EINVAL, "two spaces" },
		{ H_A "   a\n", -EINVAL, "file name" },
		{ H_A "\ta\n", -EINVAL, "two spaces" },
		{ "1A90f117599cadd917cb6b09982ccbd779cd1d1325475cc311105f0fd1b91333  a\n", -EINVAL,
		  "lowercase hex" },
		{ "1g90f117599cadd917cb6b09982ccbd779cd1d1325475cc311105f0fd1b91333  a\n", -EINVAL,
		  "lowercase hex" },
		{ "1a90f117599cadd917cb6b09982ccbd779cd1d1325475cc311105f0fd1b913  aa\n", -EINVAL,
		  "lowercase hex" },
		{ H_A "0  a\n", -EINVAL, "two spaces" },
		{ H_A "  a\n" H_B "  a\n", -EINVAL, "names \"a\" twice" },
		{ H_A "  b\n" H_B "  a\n" H_A "  b\n", -EINVAL, "names \"b\" twice" },
		{ H_A "  dir/a\n", -EINVAL, "line 1 has a file name" },
		{ H_A "  ../a\n", -EINVAL, "file name" },
		{ H_A "  .hidden\n", -EINVAL, "file name" },
		{ H_A "  a b\n", -EINVAL, "file name" },
		{ H_A "  a\r\n", -EINVAL, "file name" },
		{ H_A "  \n", -EINVAL, "file name" },
		{ "\\" H_A "  a\\nb\n", -EINVAL, "lowercase hex" },	/* b2sum's escaped form */
		{ H_A "  a\n" H_B "  b\nsigned-by: me\n", -EINVAL, "line 3" },
		{ H_A "  a\n" H_B "  b\n" H_A, -EINVAL, "line 3 is too short" },
	};
	struct awg_upd_list l = { 0 };
	const char *why;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = NULL;
		ret = awg_upd_list_parse(&l, cases[i].text, strlen(cases[i].text), &why);
		if (!CHECK_INT(ret, cases[i].ret))
			fprintf(stderr, "  case %zu: why=%s\n", i, why ? why : "(none)");
		if (cases[i].why && !CHECK(has(why, cases[i].why)))
			fprintf(stderr, "  case %zu: why=%s\n", i, why ? why : "(none)");
		if (ret == 0)
			CHECK(l.n > 0);
		else
			CHECK(l.v == NULL && l.n == 0);
		awg_upd_list_free(&l);
	}
}

static void names_at_the_limit(void)
{
	char buf[64 + 2 + AWG_UPD_FILE_MAX + 3], name[AWG_UPD_FILE_MAX + 2];
	uint8_t h[32];
	struct awg_upd_list l = { 0 };
	const char *why = NULL;

	memset(name, 'n', sizeof(name));
	name[AWG_UPD_FILE_MAX] = '\0';
	snprintf(buf, sizeof(buf), "%s  %s\n", H_A, name);
	CHECK_INT(awg_upd_list_parse(&l, buf, strlen(buf), &why), 0);
	CHECK(l.n == 1 && strlen(l.v[0].file) == AWG_UPD_FILE_MAX);
	test_unhex(h, 32, H_A);
	CHECK(l.n == 1 && !memcmp(l.v[0].hash, h, 32));
	awg_upd_list_free(&l);
	memset(name, 'n', sizeof(name));
	name[AWG_UPD_FILE_MAX + 1] = '\0';
	snprintf(buf, sizeof(buf), "%s  %s\n", H_A, name);
	CHECK_INT(awg_upd_list_parse(&l, buf, strlen(buf), &why), -EINVAL);
	/* An embedded NUL is not a name character either. */
	CHECK_INT(awg_upd_list_parse(&l, H_A "  a\0b\n", 70, &why), -EINVAL);
}

struct ver_case {
	const char *a, *b;
	int ret, cmp;
};

static void versions(void)
{
	static const struct ver_case cases[] = {
		{ "0.1.0", "0.1", 0, 0 },
		{ "0.1", "0.1.0.0.0", 0, 0 },
		{ "0.10", "0.9", 0, 1 },
		{ "0.9", "0.10", 0, -1 },
		{ "1.0.0", "0.99.99", 0, 1 },
		{ "1.2.3.4.5.6.7.8", "1.2.3.4.5.6.7.9", 0, -1 },
		{ "65535", "65534", 0, 1 },
		{ "007", "7", 0, 0 },
		{ "65536", "1", -EINVAL, 0 },
		{ "1", "99999999999999999999999", -EINVAL, 0 },
		{ "1..2", "1", -EINVAL, 0 },
		{ "", "1", -EINVAL, 0 },
		{ "1", "", -EINVAL, 0 },
		{ "1.a", "1", -EINVAL, 0 },
		{ "1.", "1", -EINVAL, 0 },
		{ ".1", "1", -EINVAL, 0 },
		{ "1.2.3.4.5.6.7.8.9", "1", -EINVAL, 0 },
		{ "-1", "1", -EINVAL, 0 },
		{ "+1", "1", -EINVAL, 0 },
		{ " 1", "1", -EINVAL, 0 },
		{ "1.0-rc1", "1", -EINVAL, 0 },
	};
	size_t i;
	int cmp, ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cmp = 42;
		ret = awg_upd_version_cmp(cases[i].a, cases[i].b, &cmp);
		if (!CHECK_INT(ret, cases[i].ret))
			fprintf(stderr, "  case %zu: %s vs %s\n", i, cases[i].a, cases[i].b);
		if (ret == 0 && !CHECK_INT(cmp < 0 ? -1 : cmp > 0, cases[i].cmp))
			fprintf(stderr, "  case %zu: %s vs %s\n", i, cases[i].a, cases[i].b);
		if (ret < 0)
			CHECK_INT(cmp, 42);
	}
	CHECK_INT(awg_upd_version_cmp(NULL, "1", &cmp), -EINVAL);
}

static void pick(void)
{
	static const char text[] =
		H_A "  awg-suite-arm64-0.3.0.deb\n"
		H_A "  awg-suite-amd64-0.3.0.rpm\n"
		H_A "  awg-suite-amd64-0.2.0.deb\n"
		H_B "  awg-suite-amd64-0.3.0.deb\n"
		H_A "  awg-suite-amd64-0.3.0.deb.asc\n"
		H_A "  other-amd64-9.0.deb\n"
		H_A "  awg-suite-amd64x-9.0.deb\n";
	char version[AWG_UPD_VERSION_MAX + 1];
	const struct awg_upd_entry *e = NULL;
	struct awg_upd_list l = { 0 };
	const char *why = NULL;
	uint8_t hb[32];

	CHECK_INT(awg_upd_list_parse(&l, text, strlen(text), &why), 0);
	/* The first newer one for this arch and ext; the arm64 and .rpm ones are skipped. */
	CHECK_INT(awg_upd_pick(&l, "amd64", "deb", "0.1.0", &e, version, &why), 0);
	CHECK(e == &l.v[2]);
	CHECK(!strcmp(version, "0.2.0"));
	CHECK_INT(awg_upd_pick(&l, "amd64", "deb", "0.2", &e, version, &why), 0);
	CHECK(e == &l.v[3]);
	CHECK(!strcmp(version, "0.3.0"));
	test_unhex(hb, 32, H_B);
	CHECK(e && !memcmp(e->hash, hb, 32));
	CHECK_INT(awg_upd_pick(&l, "arm64", "deb", "0.2.9", &e, version, &why), 0);
	CHECK(e == &l.v[0]);
	CHECK_INT(awg_upd_pick(&l, "amd64", "rpm", "0.2.9", &e, version, &why), 0);
	CHECK(e == &l.v[1]);

	/* Equal or older: no reinstall, no downgrade, and the sentence says why. */
	e = NULL;
	CHECK_INT(awg_upd_pick(&l, "amd64", "deb", "0.3", &e, version, &why), -ENOENT);
	CHECK(has(why, "no newer version (installed 0.3, newest listed 0.3.0)"));
	CHECK(e == NULL);
	CHECK_INT(awg_upd_pick(&l, "amd64", "deb", "1.0", &e, version, &why), -ENOENT);
	CHECK(has(why, "no newer version (installed 1.0, newest listed 0.3.0)"));
	CHECK_INT(awg_upd_pick(&l, "armhf", "deb", "0.1", &e, version, &why), -ENOENT);
	CHECK(has(why, "no newer version (installed 0.1, newest listed none)"));
	CHECK_INT(awg_upd_pick(&l, "amd64", "deb", "0.x", &e, version, &why), -EINVAL);
	CHECK_INT(awg_upd_pick(&l, "amd64", "", "0.1", &e, version, &why), -EINVAL);
	CHECK_INT(awg_upd_pick(&l, "amd/64", "deb", "0.1", &e, version, &why), -EINVAL);
	CHECK(e == NULL);
	awg_upd_list_free(&l);
}

static void pick_malformed(void)
{
	static const char text[] =
		H_A "  awg-suite-arm64-0.3.x.deb\n"
		H_A "  awg-suite-amd64-0.3.0-rc1.deb\n"
		H_A "  awg-suite-amd64-0.4.0.deb\n";
	char version[AWG_UPD_VERSION_MAX + 1];
	const struct awg_upd_entry *e = NULL;
	struct awg_upd_list l = { 0 };
	const char *why = NULL;

	CHECK_INT(awg_upd_list_parse(&l, text, strlen(text), &why), 0);
	/* A malformed version in a name for this arch aborts the pick,. */
	CHECK_INT(awg_upd_pick(&l, "amd64", "deb", "0.1", &e, version, &why), -EINVAL);
	CHECK(has(why, "awg-suite-amd64-0.3.0-rc1.deb"));
	CHECK(e == NULL);
	/* Another arch's malformed name is none of this machine's business. */
	CHECK_INT(awg_upd_pick(&l, "arm64", "deb", "0.1", &e, version, &why), -EINVAL);
	CHECK_INT(awg_upd_pick(&l, "i386", "deb", "0.1", &e, version, &why), -ENOENT);
	awg_upd_list_free(&l);
}

static void arch(void)
{
	struct utsname u;
	const char *a = awg_upd_arch();

	CHECK(a && *a);
	CHECK(a == awg_upd_arch());
	CHECK_INT(uname(&u), 0);
	if (!strcmp(u.machine, "x86_64"))
		CHECK(!strcmp(a, "amd64"));
	else if (!strcmp(u.machine, "aarch64"))
		CHECK(!strcmp(a, "arm64"));
	else if (!strcmp(u.machine, "i686"))
		CHECK(!strcmp(a, "i386"));
}

TEST_MAIN("updlist", T(real_signify_output), T(pubkey_forms), T(signed_here),
	  T(envelope_damage), T(oversized), T(list_grammar), T(names_at_the_limit), T(versions),
	  T(pick), T(pick_malformed), T(arch))
