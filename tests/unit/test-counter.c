// SPDX-License-Identifier: MIT
/* Tests the replay window: a boundary table, then differential runs against a naive model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "harness.h"

/*
 * The naive model: every counter ever accepted in an open-addressing hash set, plus the rule
 * "reject if more than AWG_COUNTER_WINDOW_SIZE behind the highest accepted counter".
 */
struct model {
	uint64_t *slots;	/* counter + 1; 0 = empty */
	size_t cap, len;
	uint64_t next;		/* highest accepted + 1, 0 if none */
};

static size_t model_hash(uint64_t v, size_t cap)
{
	v *= UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(v >> 17) & (cap - 1);
}

static bool model_find_or_add(struct model *m, uint64_t key, bool add);

static void model_grow(struct model *m)
{
	struct model bigger = { .cap = m->cap ? m->cap * 2 : 1024, .next = m->next };

	bigger.slots = calloc(bigger.cap, sizeof(uint64_t));
	if (!bigger.slots)
		abort();
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i])
			model_find_or_add(&bigger, m->slots[i], true);
	free(m->slots);
	*m = bigger;
}

static bool model_find_or_add(struct model *m, uint64_t key, bool add)
{
	size_t i;

	if (add && (m->len + 1) * 2 > m->cap)
		model_grow(m);
	for (i = model_hash(key, m->cap); m->slots[i]; i = (i + 1) & (m->cap - 1))
		if (m->slots[i] == key)
			return true;
	if (add) {
		m->slots[i] = key;
		m->len++;
	}
	return false;
}

static bool model_validate(struct model *m, uint64_t counter)
{
	if (counter >= AWG_REJECT_AFTER_MESSAGES)
		return false;
	if (m->next && m->next - 1 - counter > AWG_COUNTER_WINDOW_SIZE && counter < m->next - 1)
		return false;
	if (model_find_or_add(m, counter + 1, true))
		return false;
	if (counter + 1 > m->next)
		m->next = counter + 1;
	return true;
}

static void model_free(struct model *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

struct pair {
	struct awg_counter c;
	struct model m;
	unsigned mismatches;
	unsigned accepted;
};

static void pair_init(struct pair *p)
{
	awg_counter_init(&p->c);
	memset(&p->m, 0, sizeof(p->m));
	p->mismatches = 0;
	p->accepted = 0;
}

static void pair_feed(struct pair *p, uint64_t counter)
{
	bool want = model_validate(&p->m, counter);
	bool got = awg_counter_validate(&p->c, counter);

	if (want != got && p->mismatches++ < 5)
		CHECK_INT(got, want);
	p->accepted += got;
}

static uint64_t rnd(struct test_env *te)
{
	uint64_t r;

	awg_env_random(&te->env, &r, sizeof(r));
	return r;
}

enum { LIM = AWG_COUNTER_WINDOW_SIZE + 1 };

/* Boundary table in the style of the kernel selftest: each row is (counter, accepted?). */
static void table(void)
{
	static const struct {
		uint64_t counter;
		bool ok;
	} rows[] = {
		/*  1 */ { 0, true },
		/*  2 */ { 1, true },
		/*  3 */ { 1, false },
		/*  4 */ { 9, true },
		/*  5 */ { 8, true },
		/*  6 */ { 7, true },
		/*  7 */ { 7, false },
		/*  8 */ { LIM, true },		/* highest = 8129; 1 is now 8128 behind */
		/*  9 */ { 1, false },		/* seen, and still inside the window */
		/* 10 */ { 0, false },		/* 8129 behind: too old */
		/* 11 */ { LIM - 1, true },
		/* 12 */ { LIM - 1, false },
		/* 13 */ { 2, true },		/* exactly 8127 behind, never seen */
		/* 14 */ { 2, false },
		/* 15 */ { LIM + 16, true },
		/* 16 */ { 3, false },		/* now too old */
		/* 17 */ { LIM + 16, false },
		/* 18 */ { LIM * 4, true },	/* jump of more than a window */
		/* 19 */ { LIM * 4 - (LIM - 1), true },	/* exactly 8128 behind */
		/* 20 */ { 10, false },
		/* 21 */ { LIM * 4 - LIM, false },	/* 8129 behind */
		/* 22 */ { LIM * 4 - (LIM + 1), false },
		/* 23 */ { LIM * 4 - (LIM - 2), true },
		/* 24 */ { LIM * 4 + 1 - LIM, false },
		/* 25 */ { 0, false },
		/* 26 */ { AWG_REJECT_AFTER_MESSAGES, false },
		/* 27 */ { AWG_REJECT_AFTER_MESSAGES - 1, true },
		/* 28 */ { AWG_REJECT_AFTER_MESSAGES, false },
		/* 29 */ { AWG_REJECT_AFTER_MESSAGES - 1, false },
		/* 30 */ { AWG_REJECT_AFTER_MESSAGES - 2, true },
		/* 31 */ { AWG_REJECT_AFTER_MESSAGES + 1, false },
		/* 32 */ { UINT64_MAX, false },
		/* 33 */ { AWG_REJECT_AFTER_MESSAGES - 2, false },
		/* 34 */ { AWG_REJECT_AFTER_MESSAGES - 3, true },
		/* 35 */ { AWG_REJECT_AFTER_MESSAGES - 1 - AWG_COUNTER_WINDOW_SIZE, true },
		/* 36 */ { AWG_REJECT_AFTER_MESSAGES - 2 - AWG_COUNTER_WINDOW_SIZE, false },
		/* 37 */ { 0, false },
	};
	struct awg_counter c;

	awg_counter_init(&c);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (!CHECK_INT(awg_counter_validate(&c, rows[i].counter), rows[i].ok))
			fprintf(stderr, "    row %zu\n", i + 1);
}

/* Whole-window sweeps: ascending, descending, and the same with a ring-unaligned base. */
static void sweeps(void)
{
	struct awg_counter c;
	uint64_t i;
	bool all = true;

	awg_counter_init(&c);
	for (i = 1; i <= AWG_COUNTER_WINDOW_SIZE; i++)
		all &= awg_counter_validate(&c, i);
	CHECK(all);
	CHECK(awg_counter_validate(&c, 0));	/* exactly 8128 behind 8128 */
	CHECK(!awg_counter_validate(&c, 0));

	awg_counter_init(&c);
	all = true;
	for (i = 2; i <= AWG_COUNTER_WINDOW_SIZE + 2; i++)
		all &= awg_counter_validate(&c, i);
	CHECK(all);
	CHECK(!awg_counter_validate(&c, 1));	/* 8129 behind 8130 */
	CHECK(!awg_counter_validate(&c, 0));

	awg_counter_init(&c);
	all = true;
	for (i = AWG_COUNTER_WINDOW_SIZE + 1; i-- > 0;)
		all &= awg_counter_validate(&c, i);
	CHECK(all);

	awg_counter_init(&c);
	all = true;
	for (i = AWG_COUNTER_WINDOW_SIZE + 2; i-- > 1;)
		all &= awg_counter_validate(&c, i);
	CHECK(all);
	CHECK(!awg_counter_validate(&c, 0));

	/* Descending from an unaligned base; then replay every one of them. */
	awg_counter_init(&c);
	all = true;
	for (i = 0; i <= AWG_COUNTER_WINDOW_SIZE; i++)
		all &= awg_counter_validate(&c, 100037 - i);
	CHECK(all);
	all = true;
	for (i = 0; i <= AWG_COUNTER_WINDOW_SIZE; i++)
		all &= !awg_counter_validate(&c, 100037 - i);
	CHECK(all);
}

/* Dense traffic with reordering: base creeps forward, counters land up to 9000 behind. */
static void random_reordered(void)
{
	struct test_env te;
	struct pair p;
	uint64_t base = 0;

	test_env_init(&te, 0xc0ffee);
	pair_init(&p);
	for (int i = 0; i < 400000; i++) {
		uint64_t r = rnd(&te);
		int64_t off = (int64_t)(r % 9200) - 9000;

		base += (r >> 32) % 3;
		pair_feed(&p, (int64_t)base + off < 0 ? 0 : (uint64_t)((int64_t)base + off));
	}
	CHECK_INT(p.mismatches, 0);
	CHECK(p.accepted > 100000);
	model_free(&p.m);
}

/* Adversarial: jumps of exactly and around the window and the ring, then probes at the edges. */
static void adversarial_jumps(void)
{
	static const uint64_t jumps[] = {
		1, 63, 64, 65, 127, 128, 8127, 8128, 8129, 8130, 8191, 8192, 8193, 8256,
		16383, 16384, 16385, 1 << 20, UINT64_C(1) << 40,
	};
	static const int64_t probes[] = {
		0, -1, -2, -63, -64, -65, -8127, -8128, -8129, -8130, -8191, -8192, -8193, 1, 64,
	};
	struct test_env te;
	struct pair p;
	uint64_t hi = 5;

	test_env_init(&te, 77);
	pair_init(&p);
	pair_feed(&p, hi);
	for (int round = 0; round < 3000; round++) {
		uint64_t r = rnd(&te);

		hi += jumps[r % (sizeof(jumps) / sizeof(jumps[0]))];
		pair_feed(&p, hi);
		for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
			int64_t c = (int64_t)hi + probes[(k + (r >> 40)) % (sizeof(probes) /
								       sizeof(probes[0]))];

			if (c >= 0)
				pair_feed(&p, (uint64_t)c);
		}
		/* a burst of random counters within and just outside the window */
		for (int k = 0; k < 20; k++) {
			uint64_t back = rnd(&te) % 8300;

			if (back <= hi)
				pair_feed(&p, hi - back);
		}
	}
	CHECK_INT(p.mismatches, 0);
	model_free(&p.m);
}

/* A shuffled full window after a long gap: every counter exactly once, then all replays. */
static void shuffled_window(void)
{
	enum { N = AWG_COUNTER_WINDOW_SIZE + 64 };
	static uint64_t order[N];
	struct test_env te;
	struct pair p;
	uint64_t base = UINT64_C(1) << 33;

	test_env_init(&te, 4242);
	for (int lap = 0; lap < 4; lap++) {
		pair_init(&p);
		for (size_t i = 0; i < N; i++)
			order[i] = base + i;
		for (size_t i = N - 1; i > 0; i--) {
			size_t j = rnd(&te) % (i + 1);
			uint64_t t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (size_t i = 0; i < N; i++)
			pair_feed(&p, order[i]);
		for (size_t i = 0; i < N; i++)
			pair_feed(&p, order[i]);
		CHECK_INT(p.mismatches, 0);
		model_free(&p.m);
		base += rnd(&te) % 100000;
	}
}

/* The top of the counter space: accepted up to REJECT_AFTER_MESSAGES - 1, nothing beyond. */
static void near_reject_limit(void)
{
	struct test_env te;
	struct pair p;
	uint64_t top = AWG_REJECT_AFTER_MESSAGES;

	test_env_init(&te, 9);
	pair_init(&p);
	for (int i = 0; i < 50000; i++)
		pair_feed(&p, top + 4 - rnd(&te) % 10000);
	pair_feed(&p, UINT64_MAX);
	CHECK_INT(p.mismatches, 0);
	CHECK(p.accepted > 1000);
	model_free(&p.m);
}

TEST_MAIN("counter", T(table), T(sweeps), T(random_reordered), T(adversarial_jumps),
	  T(shuffled_window), T(near_reject_limit))
