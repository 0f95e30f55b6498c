// SPDX-License-Identifier: MIT
/* Owns the deterministic test environment (see testenv.h); links into tests and fuzzers. */
#include "testenv.h"

#include <string.h>

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void te_random(void *ctx, void *buf, size_t len)
{
	struct test_env *te = ctx;
	uint8_t *p = buf;

	while (len) {
		uint64_t r = splitmix64(&te->rng_state);
		size_t k = len < 8 ? len : 8;

		memcpy(p, &r, k);
		p += k;
		len -= k;
	}
}

static uint64_t te_mono(void *ctx)
{
	return ((struct test_env *)ctx)->mono_ns;
}

static uint64_t te_wall(void *ctx)
{
	return ((struct test_env *)ctx)->wall_ns;
}

void test_env_init(struct test_env *te, uint64_t seed)
{
	te->rng_state = seed;
	te->mono_ns = UINT64_C(1000) * 1000000000;	/* 1000 s after boot */
	te->wall_ns = UINT64_C(1767225600) * 1000000000; /* 2026-01-01T00:00:00Z */
	te->env = (struct awg_env){
		.mono_ns = te_mono, .wall_ns = te_wall, .random = te_random, .ctx = te,
	};
}

void test_env_advance(struct test_env *te, uint64_t ns)
{
	te->mono_ns += ns;
	te->wall_ns += ns;
}
