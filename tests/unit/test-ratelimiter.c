// SPDX-License-Identifier: MIT
/* Tests the handshake rate limiter on a hand-driven clock, and against a naive bucket model. */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "ratelimiter.h"

#define MS(x) ((uint64_t)(x) * 1000000u)
#define S(x) ((uint64_t)(x) * 1000000000u)

static const uint8_t ip_a[4] = { 192, 0, 2, 1 };
static const uint8_t ip_b[4] = { 192, 0, 2, 2 };

static unsigned burst(struct awg_ratelimiter *rl, int family, const uint8_t *addr, uint64_t now,
		      unsigned n)
{
	unsigned ok = 0;

	while (n--)
		ok += awg_ratelimiter_allow(rl, family, addr, now);
	return ok;
}

static void init_limits(void)
{
	struct awg_ratelimiter rl;
	struct test_env te;

	test_env_init(&te, 1);
	CHECK_INT(awg_ratelimiter_init(&rl, 0, &te.env), -EINVAL);
	CHECK_INT(awg_ratelimiter_init(&rl, (1u << 24) + 1, &te.env), -EINVAL);
	CHECK_INT(awg_ratelimiter_init(&rl, 1, &te.env), 0);
	CHECK(!awg_ratelimiter_allow(&rl, 99, ip_a, te.mono_ns));
	CHECK(awg_ratelimiter_allow(&rl, AWG_AF_INET, ip_a, te.mono_ns));
	awg_ratelimiter_free(&rl);
	awg_ratelimiter_free(&rl);	/* idempotent */
}

static void burst_then_refuse(void)
{
	struct awg_ratelimiter rl;
	struct test_env te;
	uint64_t t0;

	test_env_init(&te, 2);
	CHECK_INT(awg_ratelimiter_init(&rl, 64, &te.env), 0);
	t0 = te.mono_ns;
	CHECK_INT(burst(&rl, AWG_AF_INET, ip_a, t0, 5), 5);
	CHECK(!awg_ratelimiter_allow(&rl, AWG_AF_INET, ip_a, t0));
	CHECK(!awg_ratelimiter_allow(&rl, AWG_AF_INET, ip_a, t0 + MS(50) - 1));
	CHECK(awg_ratelimiter_allow(&rl, AWG_AF_INET, ip_a, t0 + MS(50)));
	CHECK(!awg_ratelimiter_allow(&rl, AWG_AF_INET, ip_a, t0 + MS(50)));
	/* Refused packets cost nothing; 250 ms refill the whole bucket, never more. */
	CHECK_INT(burst(&rl, AWG_AF_INET, ip_a, t0 + S(10), 10), 5);
	awg_ratelimiter_free(&rl);
}

static void steady_rate(void)
{
	struct awg_ratelimiter rl;
	struct test_env te;
	unsigned ok = 0;
	uint64_t t0;

	test_env_init(&te, 3);
	CHECK_INT(awg_ratelimiter_init(&rl, 64, &te.env), 0);
	t0 = te.mono_ns;
	/* 1000 packets/s for 10 s: the burst, then 20 per second. */
	for (uint64_t i = 0; i < 10000; i++)
		ok += awg_ratelimiter_allow(&rl, AWG_AF_INET, ip_a, t0 + i * MS(1));
	CHECK(ok >= 5 + 199 && ok <= 5 + 200);
	awg_ratelimiter_free(&rl);
}

static void independent_sources(void)
{
	struct awg_ratelimiter rl;
	struct test_env te;
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	uint64_t t0;

	test_env_init(&te, 4);
	CHECK_INT(awg_ratelimiter_init(&rl, 64, &te.env), 0);
	t0 = te.mono_ns;
	CHECK_INT(burst(&rl, AWG_AF_INET, ip_a, t0, 8), 5);
	CHECK_INT(burst(&rl, AWG_AF_INET, ip_b, t0, 8), 5);
	/* The same leading bytes in the other family are another source. */
	memcpy(v6, ip_a, 4);
	CHECK_INT(burst(&rl, AWG_AF_INET6, v6, t0, 8), 5);
	CHECK_INT(rl.count, 3);
	awg_ratelimiter_free(&rl);
}

static void ipv6_slash64(void)
{
	struct awg_ratelimiter rl;
	struct test_env te;
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2 }, b[16];
	uint64_t t0;

	test_env_init(&te, 5);
	CHECK_INT(awg_ratelimiter_init(&rl, 64, &te.env), 0);
	t0 = te.mono_ns;
	/* Five different hosts of one /64 share one bucket. */
	for (int i = 0; i < 5; i++) {
		memcpy(b, a, 16);
		b[15] = (uint8_t)i;
		b[8] = (uint8_t)(0x10 * i);
		CHECK(awg_ratelimiter_allow(&rl, AWG_AF_INET6, b, t0));
	}
	b[12] = 0xff;
	CHECK(!awg_ratelimiter_allow(&rl, AWG_AF_INET6, b, t0));
	/* The neighbouring /64 is a different source. */
	memcpy(b, a, 16);
	b[7] ^= 1;
	CHECK_INT(burst(&rl, AWG_AF_INET6, b, t0, 6), 5);
	CHECK_INT(rl.count, 2);
	awg_ratelimiter_free(&rl);
}

static void garbage_collection(void)
{
	struct awg_ratelimiter rl;
	struct test_env te;
	uint8_t ip[4] = { 10, 0, 0, 0 };
	uint64_t t0;

	test_env_init(&te, 6);
	CHECK_INT(awg_ratelimiter_init(&rl, 1000, &te.env), 0);
	t0 = te.mono_ns;
	for (int i = 0; i < 300; i++) {
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)i;
		CHECK(awg_ratelimiter_allow(&rl, AWG_AF_INET, ip, t0));
	}
	CHECK_INT(rl.count, 300);
	/* Keep one of them busy; GC runs lazily, at most once a second. */
	CHECK(awg_ratelimiter_allow(&rl, AWG_AF_INET, ip, t0 + MS(900)));
	CHECK_INT(rl.count, 300);
	/* At 1 s nobody has been idle for more than 1 s yet. */
	CHECK(awg_ratelimiter_allow(&rl, AWG_AF_INET, ip_a, t0 + S(1)));
	CHECK_INT(rl.count, 301);
	/*
	 * The next sweep is due at 2 s: ip (last seen at 0.9 s) and the other 299 are gone, ip_a
	 * (idle exactly 1 s) stays; ip_b is new.
	 */
	CHECK(awg_ratelimiter_allow(&rl, AWG_AF_INET, ip_b, t0 + S(2)));
	CHECK_INT(rl.count, 2);
	CHECK(awg_ratelimiter_allow(&rl, AWG_AF_INET, ip_b, t0 + S(4)));
	CHECK_INT(rl.count, 1);
	awg_ratelimiter_free(&rl);
}

static void table_full(void)
{
	struct awg_ratelimiter rl;
	struct test_env te;
	uint8_t ip[4] = { 10, 0, 0, 0 };
	uint64_t t0;

	test_env_init(&te, 7);
	CHECK_INT(awg_ratelimiter_init(&rl, 4, &te.env), 0);
	t0 = te.mono_ns;
	for (int i = 0; i < 4; i++) {
		ip[3] = (uint8_t)i;
		CHECK(awg_ratelimiter_allow(&rl, AWG_AF_INET, ip, t0));
	}
	/* Full: a new source is refused; known ones keep their buckets. */
	CHECK(!awg_ratelimiter_allow(&rl, AWG_AF_INET, ip_a, t0));
	CHECK(!awg_ratelimiter_allow(&rl, AWG_AF_INET, ip_a, t0 + MS(500)));
	CHECK_INT(burst(&rl, AWG_AF_INET, ip, t0 + MS(500), 10), 5);
	CHECK_INT(rl.count, 4);
	/* Once the other three have idled out and a sweep ran, there is room again. */
	CHECK(awg_ratelimiter_allow(&rl, AWG_AF_INET, ip_a, t0 + MS(1200)));
	CHECK_INT(rl.count, 2);
	awg_ratelimiter_free(&rl);
}

/*
 * Naive model: one bucket per source forever, no table, no GC. Since an entry idle for a second
 * has a full bucket, GC and refusal-free operation must give exactly the same answers.
 */
struct bucket {
	bool used;
	uint64_t last, tokens;
};

static bool model_allow(struct bucket *b, uint64_t now)
{
	const uint64_t cost = S(1) / 20, max = 5 * cost;

	if (!b->used) {
		*b = (struct bucket){ .used = true, .last = now, .tokens = max - cost };
		return true;
	}
	b->tokens += now - b->last;
	if (b->tokens > max)
		b->tokens = max;
	b->last = now;
	if (b->tokens < cost)
		return false;
	b->tokens -= cost;
	return true;
}

static void differential(void)
{
	enum { SOURCES = 200 };
	static struct bucket model[SOURCES];
	struct awg_ratelimiter rl;
	struct test_env te;
	unsigned bad = 0, allowed = 0, refused = 0;
	uint64_t t;

	test_env_init(&te, 8);
	memset(model, 0, sizeof(model));
	CHECK_INT(awg_ratelimiter_init(&rl, SOURCES, &te.env), 0);
	t = te.mono_ns;
	for (int i = 0; i < 200000; i++) {
		uint64_t r;
		unsigned src;
		uint8_t addr[16] = { 0 };
		int family;

		awg_env_random(&te.env, &r, sizeof(r));
		/* bursty sources: a few hot ones, many that come and go */
		src = r % 4 ? (unsigned)(r >> 8) % 8 : (unsigned)(r >> 8) % SOURCES;
		t += (r >> 32) % 3 ? (r >> 40) % MS(5) : (r >> 40) % MS(1500);
		family = src % 2 ? AWG_AF_INET : AWG_AF_INET6;
		addr[0] = (uint8_t)src;
		addr[9] = (uint8_t)r;	/* host bits of a v6 /64: ignored */
		bool want = model_allow(&model[src], t);
		bool got = awg_ratelimiter_allow(&rl, family, addr, t);

		bad += want != got;
		allowed += got;
		refused += !got;
	}
	CHECK_INT(bad, 0);
	CHECK(allowed > 10000 && refused > 10000);
	awg_ratelimiter_free(&rl);
}

TEST_MAIN("ratelimiter", T(init_limits), T(burst_then_refuse), T(steady_rate),
	  T(independent_sources), T(ipv6_slash64), T(garbage_collection), T(table_full),
	  T(differential))
