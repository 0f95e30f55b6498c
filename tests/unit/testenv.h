/* SPDX-License-Identifier: MIT */
/* The deterministic struct awg_env of unit tests and fuzzers: seeded RNG, hand-driven clocks. */
#ifndef _AWG_TEST_ENV_H
#define _AWG_TEST_ENV_H

#include <stdint.h>

#include "env.h"

/*
 * A deterministic environment: splitmix64 RNG from a seed, clocks that only move when the test
 * moves them. Not a CSPRNG; for tests only.
 */
struct test_env {
	struct awg_env env;
	uint64_t rng_state;
	uint64_t mono_ns;
	uint64_t wall_ns;
};

void test_env_init(struct test_env *te, uint64_t seed);
void test_env_advance(struct test_env *te, uint64_t ns);

#endif /* _AWG_TEST_ENV_H */
