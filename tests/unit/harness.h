/* SPDX-License-Identifier: MIT */
/*
 * The unit-test harness: checks that count instead of abort, table-driven cases, hex helpers,
 * and a deterministic struct awg_env (seeded RNG, hand-driven clocks).
 */
#ifndef _AWG_TEST_HARNESS_H
#define _AWG_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "testenv.h"

struct test_case {
	const char *name;
	void (*fn)(void);
};

/* Records one check; prints file:line and the expression when it fails. Returns ok. */
bool test_check(bool ok, const char *expr, const char *file, int line);
bool test_check_mem(const void *a, const void *b, size_t n, const char *expr, const char *file,
		    int line);
bool test_check_int(long long a, long long b, const char *expr, const char *file, int line);

#define CHECK(cond) test_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_MEM(a, b, n) test_check_mem((a), (b), (n), #a " == " #b, __FILE__, __LINE__)
#define CHECK_INT(a, b) test_check_int((long long)(a), (long long)(b), #a " == " #b, __FILE__, \
				       __LINE__)

/* Runs every case, prints a per-case line and a summary; returns the process exit status. */
int test_run(const char *suite, const struct test_case *cases, size_t n);
#define TEST_MAIN(suite, ...)                                                                  \
	int main(void)                                                                         \
	{                                                                                      \
		static const struct test_case cases[] = { __VA_ARGS__ };                       \
		return test_run(suite, cases, sizeof(cases) / sizeof(cases[0]));              \
	}
#define T(fn) { #fn, fn }

/* Decodes a hex string (whitespace ignored) into out; returns the byte count or aborts. */
size_t test_unhex(uint8_t *out, size_t max, const char *hex);



#endif /* _AWG_TEST_HARNESS_H */
