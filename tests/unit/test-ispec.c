// SPDX-License-Identifier: MIT
/* Unit tests of the I-spec tag language (spec §5.2): parse rules, error reports, evaluation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ispec.h"

static struct awg_ispec *parse_ok(const char *text)
{
	struct awg_parse_error err = { 0 };
	struct awg_ispec *spec = NULL;
	int ret;

	ret = awg_ispec_parse(text, strlen(text), &spec, &err);
	if (!CHECK_INT(ret, 0))
		fprintf(stderr, "  input \"%s\": %s\n", text, err.msg);
	return spec;
}

/* Valid specs and the length they produce; len -1 means "no tag, slot cleared". */
static const struct {
	const char *text;
	long len;
} valid_cases[] = {
	{ "", -1 },
	{ "no tags here", -1 },
	{ "just > a closer", -1 },
	{ "<b 0x01>", 1 },
	{ "<b 01>", 1 },
	{ "<b 0xDEADbeef>", 4 },
	{ "<b 0x01 02>", 1 },
	{ "<b\t0x0102\n>", 2 },
	{ "<  b   0x0102  >", 2 },
	{ "< b 0x01>", 1 },
	{ "<r 0>", 0 },
	{ "<r 16>", 16 },
	{ "<r 007>", 7 },
	{ "<rc 10>", 10 },
	{ "<rd 5>", 5 },
	{ "<t>", 4 },
	{ "<t 99>", 4 },
	{ "<d>", 0 },
	{ "<ds>", 0 },
	{ "<ds x y>", 0 },
	{ "<dz 3>", 3 },
	{ "<r 2> junk text <rd 3>", 5 },
	{ "<b 0x00><r 65506>", 65507 },
	{ "<r 65507>", 65507 },
	{ "<b 0xaa><t><rc 2><rd 2><r 1><dz 1>", 1 + 4 + 2 + 2 + 1 + 1 },
	{ "<r 3 extra words ignored>", 3 },
};

static void test_valid_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		struct awg_ispec *spec = parse_ok(valid_cases[i].text);

		if (valid_cases[i].len < 0) {
			if (!CHECK(spec == NULL))
				fprintf(stderr, "  input \"%s\"\n", valid_cases[i].text);
		} else if (CHECK(spec != NULL)) {
			if (!CHECK_INT(awg_ispec_len(spec), valid_cases[i].len))
				fprintf(stderr, "  input \"%s\"\n", valid_cases[i].text);
		}
		awg_ispec_free(spec);
	}
}

/* Invalid specs: 1-based column of the bad tag, the quote expected in the message, a reason. */
static const struct {
	const char *text;
	unsigned column;
	const char *quote;
	const char *reason;
} error_cases[] = {
	{ "<x 1>", 1, "\"<x 1>\"", "unknown tag" },
	{ "<B 0x01>", 1, "\"<B 0x01>\"", "unknown tag" },
	{ "<R 1>", 1, "\"<R 1>\"", "unknown tag" },
	{ "<bb 01>", 1, "\"<bb 01>\"", "unknown tag" },
	{ "ab<r 1><q>", 8, "\"<q>\"", "unknown tag" },
	{ "<c>", 1, "\"<c>\"", "not supported by current AmneziaWG" },
	{ "<r 1><c>", 6, "\"<c>\"", "Go 1.5/2.0" },
	{ "<wt 10>", 1, "\"<wt 10>\"", "only in AmneziaWG 1.5" },
	{ "<r 1", 1, "\"<r 1\"", "missing closing" },
	{ "<b 0x01><r 1", 9, "\"<r 1\"", "missing closing" },
	{ "<>", 1, "\"<>\"", "empty tag" },
	{ "x < \t >", 3, "\"< ? >\"", "empty tag" },
	{ "<b>", 1, "\"<b>\"", "missing hex" },
	{ "<b 0x>", 1, "\"<b 0x>\"", "empty hex" },
	{ "<b 0x123>", 1, "\"<b 0x123>\"", "odd number" },
	{ "<b 1>", 1, "\"<b 1>\"", "odd number" },
	{ "<b 0xzz>", 1, "\"<b 0xzz>\"", "invalid hex digit 'z'" },
	{ "<b 0X01>", 1, "\"<b 0X01>\"", "invalid hex digit 'X'" },
	{ "<b 0x0g>", 1, "\"<b 0x0g>\"", "invalid hex" },
	{ "<r>", 1, "\"<r>\"", "missing length" },
	{ "<rc>", 1, "\"<rc>\"", "missing length" },
	{ "<rd>", 1, "\"<rd>\"", "missing length" },
	{ "<dz>", 1, "\"<dz>\"", "missing length" },
	{ "<r 0x10>", 1, "\"<r 0x10>\"", "not a decimal" },
	{ "<r 1e3>", 1, "\"<r 1e3>\"", "not a decimal" },
	{ "<rd 12a>", 1, "\"<rd 12a>\"", "not a decimal" },
	{ "<r -1>", 1, "\"<r -1>\"", "sign" },
	{ "<r +3>", 1, "\"<r +3>\"", "sign" },
	{ "<rc -0>", 1, "\"<rc -0>\"", "sign" },
	{ "<dz +1>", 1, "\"<dz +1>\"", "sign" },
	{ "<r 65508>", 1, "\"<r 65508>\"", "exceed 65507" },
	{ "<r 99999999999999999999999>", 1, "\"<r 99999999999999999999999>\"", "exceed" },
	{ "<r 65507><t>", 10, "\"<t>\"", "exceed" },
	{ "<r 65507><b 00>", 10, "\"<b 00>\"", "exceed" },
	{ "<r 65000><rc 508>", 10, "\"<rc 508>\"", "exceed" },
};

static void test_error_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		struct awg_parse_error err = { 0 };
		struct awg_ispec *spec = (struct awg_ispec *)&err;
		const char *text = error_cases[i].text;
		bool ok = true;
		int ret;

		ret = awg_ispec_parse(text, strlen(text), &spec, &err);
		ok &= CHECK_INT(ret, -EINVAL);
		ok &= CHECK(spec == NULL);
		ok &= CHECK_INT(err.column, error_cases[i].column);
		ok &= CHECK(strstr(err.msg, error_cases[i].quote) != NULL);
		ok &= CHECK(strstr(err.msg, error_cases[i].reason) != NULL);
		if (!ok)
			fprintf(stderr, "  input \"%s\": col %u msg \"%s\"\n", text, err.column,
				err.msg);
	}
}

static void test_error_quote_bounded(void)
{
	struct awg_parse_error err = { 0 };
	struct awg_ispec *spec;
	char text[400];

	memset(text, 'a', sizeof(text));
	text[0] = '<';
	text[1] = 'z';
	text[2] = ' ';
	CHECK_INT(awg_ispec_parse(text, sizeof(text), &spec, &err), -EINVAL);
	CHECK(strlen(err.msg) < 120);
	CHECK(strstr(err.msg, "...") != NULL);
	CHECK(strstr(err.msg, "missing closing") != NULL);
	/* A NULL err is allowed. */
	CHECK_INT(awg_ispec_parse("<q>", 3, &spec, NULL), -EINVAL);
}

static void test_eval_bytes(void)
{
	static const char dns[] =
		"<r 2><b 0x858000010001000000000669636c6f756403636f6d0000010001c00c000100010000105a"
		"00044d583737>";
	uint8_t fixed[64], out[128];
	struct awg_ispec *spec;
	struct test_env te;
	size_t n, flen;

	test_env_init(&te, 1);
	flen = test_unhex(fixed, sizeof(fixed),
			  "858000010001000000000669636c6f756403636f6d0000010001c00c000100010000105a"
			  "00044d583737");
	spec = parse_ok(dns);
	if (!CHECK(spec))
		return;
	CHECK_INT(awg_ispec_len(spec), 2 + flen);
	n = awg_ispec_eval(spec, out, sizeof(out), &te.env);
	CHECK_INT(n, 2 + flen);
	CHECK_MEM(out + 2, fixed, flen);
	/* Two evaluations differ only in the random transaction id. */
	{
		uint8_t out2[128];

		CHECK_INT(awg_ispec_eval(spec, out2, sizeof(out2), &te.env), n);
		CHECK_MEM(out2 + 2, fixed, flen);
		CHECK(memcmp(out, out2, 2) != 0);
	}
	/* A short buffer is refused rather than truncated. */
	CHECK_INT(awg_ispec_eval(spec, out, n - 1, &te.env), 0);
	awg_ispec_free(spec);

	spec = parse_ok("<b 0x01 02>");
	CHECK_INT(awg_ispec_eval(spec, out, sizeof(out), &te.env), 1);
	CHECK_INT(out[0], 0x01);
	awg_ispec_free(spec);

	spec = parse_ok("<b DEADbeef>");
	CHECK_INT(awg_ispec_eval(spec, out, sizeof(out), &te.env), 4);
	CHECK_MEM(out, "\xde\xad\xbe\xef", 4);
	awg_ispec_free(spec);
}

static void test_eval_time(void)
{
	struct awg_ispec *spec = parse_ok("<b 0xff><t><b 0xee>");
	struct test_env te;
	uint8_t out[8];

	test_env_init(&te, 2);
	te.wall_ns = UINT64_C(0x61234567) * 1000000000 + 999999999;
	CHECK_INT(awg_ispec_eval(spec, out, sizeof(out), &te.env), 6);
	CHECK_MEM(out, "\xff\x61\x23\x45\x67\xee", 6);
	/* Seconds past 2^32 wrap like Go's uint32 conversion. */
	te.wall_ns = (UINT64_C(1) << 32 | 5) * 1000000000;
	awg_ispec_eval(spec, out, sizeof(out), &te.env);
	CHECK_MEM(out, "\xff\x00\x00\x00\x05\xee", 6);
	awg_ispec_free(spec);
}

static void test_eval_alphabets(void)
{
	struct awg_ispec *spec = parse_ok("<rc 4000><rd 4000>");
	bool seen_letter[52] = { false }, seen_digit[10] = { false };
	struct test_env te;
	uint8_t *out;
	size_t i, n;

	out = malloc(8000);
	if (!CHECK(spec && out))
		goto out;
	test_env_init(&te, 3);
	n = awg_ispec_eval(spec, out, 8000, &te.env);
	CHECK_INT(n, 8000);
	for (i = 0; i < 4000; i++) {
		uint8_t c = out[i];

		if (c >= 'a' && c <= 'z')
			seen_letter[c - 'a'] = true;
		else if (c >= 'A' && c <= 'Z')
			seen_letter[26 + c - 'A'] = true;
		else
			CHECK(!"rc produced a non-letter");
	}
	for (i = 4000; i < 8000; i++) {
		if (out[i] >= '0' && out[i] <= '9')
			seen_digit[out[i] - '0'] = true;
		else
			CHECK(!"rd produced a non-digit");
	}
	for (i = 0; i < 52; i++)
		CHECK(seen_letter[i]);
	for (i = 0; i < 10; i++)
		CHECK(seen_digit[i]);
out:
	free(out);
	awg_ispec_free(spec);
}

static void test_eval_zero_and_empty(void)
{
	struct awg_ispec *spec = parse_ok("<d><dz 5><ds><r 0>");
	struct test_env te;
	uint8_t out[8];

	test_env_init(&te, 4);
	memset(out, 0xaa, sizeof(out));
	CHECK_INT(awg_ispec_len(spec), 5);
	CHECK_INT(awg_ispec_eval(spec, out, sizeof(out), &te.env), 5);
	CHECK_MEM(out, "\0\0\0\0\0\xaa", 6);
	awg_ispec_free(spec);

	/* A tag that emits nothing still keeps the slot (a spec of length 0, not NULL). */
	spec = parse_ok("<d>");
	CHECK(spec != NULL);
	CHECK_INT(awg_ispec_len(spec), 0);
	CHECK_INT(awg_ispec_eval(spec, out, 0, &te.env), 0);
	awg_ispec_free(spec);

	CHECK_INT(awg_ispec_len(NULL), 0);
	CHECK_INT(awg_ispec_eval(NULL, out, sizeof(out), &te.env), 0);
	awg_ispec_free(NULL);
}

static void test_random_varies(void)
{
	struct awg_ispec *spec = parse_ok("<r 32>");
	uint8_t a[32], b[32];
	struct test_env te;

	test_env_init(&te, 5);
	awg_ispec_eval(spec, a, sizeof(a), &te.env);
	awg_ispec_eval(spec, b, sizeof(b), &te.env);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	awg_ispec_free(spec);
}

/* The text is length-delimited: bytes past len are never looked at, NUL is an ordinary byte. */
static void test_length_delimited(void)
{
	struct awg_ispec *spec = NULL;
	struct awg_parse_error err;

	CHECK_INT(awg_ispec_parse("<r 2><q>", 5, &spec, &err), 0);
	CHECK_INT(awg_ispec_len(spec), 2);
	awg_ispec_free(spec);
	CHECK_INT(awg_ispec_parse("<r 2", 3, &spec, &err), -EINVAL);
	CHECK_INT(awg_ispec_parse("<r\0002>", 5, &spec, &err), -EINVAL);
	CHECK_INT(awg_ispec_parse(NULL, 0, &spec, &err), 0);
	CHECK(spec == NULL);
}

TEST_MAIN("ispec", T(test_valid_table), T(test_error_table), T(test_error_quote_bounded),
	  T(test_eval_bytes), T(test_eval_time), T(test_eval_alphabets),
	  T(test_eval_zero_and_empty), T(test_random_varies), T(test_length_delimited))
