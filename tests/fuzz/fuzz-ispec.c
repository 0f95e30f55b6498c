// SPDX-License-Identifier: MIT
/* libFuzzer harness for the I-spec tag language: parse any text, evaluate what parses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ispec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Deterministic env: evaluation must not depend on real time or randomness to reproduce. */
static uint64_t rng_state;

static uint64_t fixed_clock(void *ctx)
{
	(void)ctx;
	return UINT64_C(1767225600) * 1000000000;
}

static void fuzz_random(void *ctx, void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t i;

	(void)ctx;
	for (i = 0; i < len; i++) {
		rng_state += UINT64_C(0x9e3779b97f4a7c15);
		out[i] = (uint8_t)(rng_state >> 56);
	}
}

static const struct awg_env env = {
	.mono_ns = fixed_clock, .wall_ns = fixed_clock, .random = fuzz_random,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct awg_parse_error err = { 0 };
	struct awg_ispec *spec = NULL;
	size_t len, n;
	uint8_t *buf;
	int ret;

	ret = awg_ispec_parse((const char *)data, size, &spec, &err);
	if (ret < 0) {
		/* A rejected spec yields no object and a terminated, bounded message. */
		if (spec || memchr(err.msg, '\0', sizeof(err.msg)) == NULL || err.column > size)
			abort();
		return 0;
	}
	if (!spec)
		return 0;
	len = awg_ispec_len(spec);
	if (len > AWG_ISPEC_MAX_PAYLOAD)
		abort();
	/* Exactly len bytes, so ASan sees any write past the payload. */
	buf = malloc(len ? len : 1);
	if (buf) {
		n = awg_ispec_eval(spec, buf, len, &env);
		if (n != len)
			abort();
		if (len && awg_ispec_eval(spec, buf, len - 1, &env) != 0)
			abort();
		free(buf);
	}
	awg_ispec_free(spec);
	return 0;
}
