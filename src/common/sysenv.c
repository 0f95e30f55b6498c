// SPDX-License-Identifier: MIT
/* Owns the system implementation of struct awg_env: CLOCK_MONOTONIC, CLOCK_REALTIME, CSPRNG. */
#include "sysenv.h"

#include <time.h>

#include "crypto.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The held time of this thread, 0 when not held. */
static _Thread_local uint64_t tl_held_mono;

static uint64_t mono_ns(void *ctx)
{
	(void)ctx;
	return tl_held_mono ? tl_held_mono : clock_ns(CLOCK_MONOTONIC);
}

void awg_sysenv_clock_hold(void)
{
	tl_held_mono = clock_ns(CLOCK_MONOTONIC);
}

void awg_sysenv_clock_release(void)
{
	tl_held_mono = 0;
}

static uint64_t wall_ns(void *ctx)
{
	(void)ctx;
	return clock_ns(CLOCK_REALTIME);
}

static void random_fill(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	awg_random_bytes(buf, len);
}

static const struct awg_env sysenv = {
	.mono_ns = mono_ns,
	.wall_ns = wall_ns,
	.random = random_fill,
};

const struct awg_env *awg_sysenv(void)
{
	return &sysenv;
}
