/* SPDX-License-Identifier: MIT */
/*
 * The injected environment of the protocol core: clock and randomness.
 *
 * src/core makes no syscalls. Everything that depends on time or chance comes in through
 * struct awg_env, so a test can drive handshakes, timers and obfuscation deterministically.
 */
#ifndef _AWG_ENV_H
#define _AWG_ENV_H

#include <stddef.h>
#include <stdint.h>

struct awg_env {
	/* Monotonic time in nanoseconds; drives timers and rate limits. */
	uint64_t (*mono_ns)(void *ctx);
	/* Wall-clock time in nanoseconds since the Unix epoch; used for TAI64N and <t>. */
	uint64_t (*wall_ns)(void *ctx);
	/* Fills buf with len bytes from a CSPRNG (or a deterministic stream in tests). */
	void (*random)(void *ctx, void *buf, size_t len);
	void *ctx;
};

static inline uint64_t awg_env_mono_ns(const struct awg_env *env)
{
	return env->mono_ns(env->ctx);
}

static inline uint64_t awg_env_wall_ns(const struct awg_env *env)
{
	return env->wall_ns(env->ctx);
}

static inline void awg_env_random(const struct awg_env *env, void *buf, size_t len)
{
	env->random(env->ctx, buf, len);
}

/*
 * Uniform integer in [lo, hi] (inclusive). Rejection sampling, so there is no modulo bias.
 * hi < lo is treated as lo.
 */
static inline uint32_t awg_env_random_range(const struct awg_env *env, uint32_t lo, uint32_t hi)
{
	uint64_t span, limit, r32;
	uint32_t r;

	if (hi <= lo)
		return lo;
	span = (uint64_t)hi - lo + 1;
	/* Largest multiple of span that fits in 2^32: values at or above it are redrawn. */
	limit = (UINT64_C(1) << 32) - ((UINT64_C(1) << 32) % span);
	do {
		awg_env_random(env, &r, sizeof(r));
		r32 = r;
	} while (r32 >= limit);
	return lo + (uint32_t)(r32 % span);
}

#endif /* _AWG_ENV_H */
