// SPDX-License-Identifier: MIT
/*
 * The crypto worker pool: every iteration runs exactly once, with and without workers, from
 * several submitting threads at once, and real packet seals done on workers equal seals done
 * inline.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "cryptopool.h"
#include "harness.h"

#define MAXN 3000

struct counts {
	atomic_uint hits[MAXN];
};

static void count_one(void *ctx, unsigned i)
{
	struct counts *c = ctx;

	atomic_fetch_add(&c->hits[i], 1);
}

/* Runs a loop of n on p and checks every index ran once. */
static bool loop_once(struct awg_cryptopool *p, unsigned n)
{
	static struct counts c;
	bool ok = true;

	for (unsigned i = 0; i < MAXN; i++)
		atomic_store(&c.hits[i], 0);
	awg_cryptopool_for(p, n, count_one, &c);
	for (unsigned i = 0; i < MAXN; i++)
		ok &= atomic_load(&c.hits[i]) == (i < n ? 1u : 0u);
	return ok;
}

static void every_index_once(void)
{
	static const unsigned sizes[] = { 0, 1, 3, 7, 8, 9, 31, 64, 100, 1000, MAXN };

	for (unsigned w = 0; w <= 3; w++) {
		struct awg_cryptopool *p = NULL;

		CHECK_INT(awg_cryptopool_new(w, &p), 0);
		CHECK_INT(awg_cryptopool_workers(p), w);
		for (unsigned r = 0; r < 20; r++)
			for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
				CHECK(loop_once(p, sizes[i]));
		awg_cryptopool_free(p);
	}
	/* No pool at all runs inline; more workers than the cap are capped. */
	CHECK(loop_once(NULL, 100));
	{
		struct awg_cryptopool *p = NULL;

		CHECK_INT(awg_cryptopool_new(1000, &p), 0);
		CHECK_INT(awg_cryptopool_workers(p), AWG_CRYPTOPOOL_MAX_WORKERS);
		CHECK(loop_once(p, 500));
		awg_cryptopool_free(p);
	}
	awg_cryptopool_free(NULL);
}

/* Two submitters at once (the engine's main and receive threads), each with its own loops. */
struct submitter {
	struct awg_cryptopool *p;
	struct counts c;
	unsigned n, rounds;
	bool ok;
};

static void *submit(void *arg)
{
	struct submitter *s = arg;

	s->ok = true;
	for (unsigned r = 0; r < s->rounds; r++) {
		for (unsigned i = 0; i < s->n; i++)
			atomic_store(&s->c.hits[i], 0);
		awg_cryptopool_for(s->p, s->n, count_one, &s->c);
		for (unsigned i = 0; i < s->n; i++)
			s->ok &= atomic_load(&s->c.hits[i]) == 1;
	}
	return NULL;
}

static void concurrent_submitters(void)
{
	struct awg_cryptopool *p = NULL;
	struct submitter *s = calloc(2, sizeof(*s));
	pthread_t t[2];

	CHECK_INT(awg_cryptopool_new(2, &p), 0);
	for (int i = 0; i < 2; i++) {
		s[i].p = p;
		s[i].n = i ? 48 : 777;
		s[i].rounds = 400;
		CHECK_INT(pthread_create(&t[i], NULL, submit, &s[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		CHECK(s[i].ok);
	}
	awg_cryptopool_free(p);
	free(s);
}

struct seal_set {
	uint8_t buf[256][1500];
	size_t len[256];
	uint8_t key[32];
};

static void seal_idx(void *ctx, unsigned i)
{
	struct seal_set *s = ctx;

	awg_aead_encrypt(s->buf[i], s->buf[i], s->len[i], NULL, 0, 1000 + i, s->key);
}

/* Packet seals spread over workers (each with its own cipher context) equal inline ones. */
static void seals_match_inline(void)
{
	struct seal_set *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct awg_cryptopool *p = NULL;

	for (unsigned i = 0; i < 256; i++) {
		a->len[i] = 1 + (i * 37) % 1480;
		for (size_t k = 0; k < a->len[i]; k++)
			a->buf[i][k] = (uint8_t)(i + k);
	}
	memset(a->key, 7, sizeof(a->key));
	memcpy(b, a, sizeof(*a));
	CHECK_INT(awg_cryptopool_new(3, &p), 0);
	for (unsigned i = 0; i < 256; i++)
		seal_idx(a, i);
	awg_cryptopool_for(p, 256, seal_idx, b);
	for (unsigned i = 0; i < 256; i++)
		CHECK_MEM(b->buf[i], a->buf[i], a->len[i] + 16);
	awg_cryptopool_free(p);
	free(a);
	free(b);
}

TEST_MAIN("cryptopool", T(every_index_once), T(concurrent_submitters), T(seals_match_inline))
