// SPDX-License-Identifier: MIT
/* Owns the test counters and the deterministic test environment. */
#include "harness.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned checks_total, checks_failed;

bool test_check(bool ok, const char *expr, const char *file, int line)
{
	checks_total++;
	if (!ok) {
		checks_failed++;
		fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, expr);
	}
	return ok;
}

bool test_check_mem(const void *a, const void *b, size_t n, const char *expr, const char *file,
		    int line)
{
	const uint8_t *x = a, *y = b;
	bool ok = memcmp(a, b, n) == 0;
	size_t first = 0, from, to;

	if (!test_check(ok, expr, file, line)) {
		/* Show at most 32 bytes around the first difference. */
		while (x[first] == y[first])
			first++;
		from = first > 8 ? first - 8 : 0;
		to = from + 32 < n ? from + 32 : n;
		fprintf(stderr, "    first difference at byte %zu of %zu; bytes %zu..%zu:\n", first, n,
			from, to);
		fprintf(stderr, "    got:  ");
		for (size_t i = from; i < to; i++)
			fprintf(stderr, "%02x", x[i]);
		fprintf(stderr, "\n    want: ");
		for (size_t i = from; i < to; i++)
			fprintf(stderr, "%02x", y[i]);
		fprintf(stderr, "\n");
	}
	return ok;
}

bool test_check_int(long long a, long long b, const char *expr, const char *file, int line)
{
	bool ok = a == b;

	if (!test_check(ok, expr, file, line))
		fprintf(stderr, "    got %lld, want %lld\n", a, b);
	return ok;
}

int test_run(const char *suite, const struct test_case *cases, size_t n)
{
	unsigned cases_failed = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned before = checks_failed;

		cases[i].fn();
		if (checks_failed != before)
			cases_failed++;
		printf("%s %s/%s\n", checks_failed == before ? "ok  " : "FAIL", suite,
		       cases[i].name);
	}
	printf("%s: %zu cases, %u checks, %u failed cases, %u failed checks\n", suite, n,
	       checks_total, cases_failed, checks_failed);
	return cases_failed ? 1 : 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

size_t test_unhex(uint8_t *out, size_t max, const char *hex)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (isspace((unsigned char)*hex))
			continue;
		v = hexval((unsigned char)*hex);
		if (v < 0 || (hi < 0 && n >= max)) {
			fprintf(stderr, "test_unhex: bad input near '%s'\n", hex);
			abort();
		}
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		abort();
	return n;
}
