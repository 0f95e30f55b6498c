// SPDX-License-Identifier: MIT
/* Tests the cryptokey routing trie: table-driven cases, then differential runs against a list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowedips.h"
#include "harness.h"

static char peers[64];
#define P(i) ((void *)&peers[i])

static void v4(uint8_t out[4], unsigned a, unsigned b, unsigned c, unsigned d)
{
	out[0] = (uint8_t)a;
	out[1] = (uint8_t)b;
	out[2] = (uint8_t)c;
	out[3] = (uint8_t)d;
}

static void *look4(struct awg_allowedips *t, unsigned a, unsigned b, unsigned c, unsigned d)
{
	uint8_t ip[4];

	v4(ip, a, b, c, d);
	return awg_allowedips_lookup(t, AWG_AF_INET, ip);
}

static int ins4(struct awg_allowedips *t, unsigned a, unsigned b, unsigned c, unsigned d,
		unsigned cidr, void *peer)
{
	uint8_t ip[4];

	v4(ip, a, b, c, d);
	return awg_allowedips_insert(t, AWG_AF_INET, ip, (uint8_t)cidr, peer);
}

static int rm4(struct awg_allowedips *t, unsigned a, unsigned b, unsigned c, unsigned d,
	       unsigned cidr, void *peer)
{
	uint8_t ip[4];

	v4(ip, a, b, c, d);
	return awg_allowedips_remove(t, AWG_AF_INET, ip, (uint8_t)cidr, peer);
}

static void v6(uint8_t out[16], uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	uint32_t w[4] = { a, b, c, d };

	for (int i = 0; i < 4; i++) {
		out[i * 4] = (uint8_t)(w[i] >> 24);
		out[i * 4 + 1] = (uint8_t)(w[i] >> 16);
		out[i * 4 + 2] = (uint8_t)(w[i] >> 8);
		out[i * 4 + 3] = (uint8_t)w[i];
	}
}

static void *look6(struct awg_allowedips *t, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	uint8_t ip[16];

	v6(ip, a, b, c, d);
	return awg_allowedips_lookup(t, AWG_AF_INET6, ip);
}

static int ins6(struct awg_allowedips *t, uint32_t a, uint32_t b, uint32_t c, uint32_t d,
		unsigned cidr, void *peer)
{
	uint8_t ip[16];

	v6(ip, a, b, c, d);
	return awg_allowedips_insert(t, AWG_AF_INET6, ip, (uint8_t)cidr, peer);
}

/* Collects a walk into a string like "10.0.0.0/8 192.168.1.0/24 " (IPv6 as hex). */
struct walk_buf {
	char s[1024];
	size_t len;
	int calls;
	int stop_after;
};

static int walk_collect(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct walk_buf *w = ctx;
	size_t room = sizeof(w->s) - w->len;

	if (family == AWG_AF_INET) {
		w->len += (size_t)snprintf(w->s + w->len, room, "%u.%u.%u.%u/%u ", addr[0], addr[1],
					   addr[2], addr[3], cidr);
	} else {
		for (int i = 0; i < 16; i += 2)
			w->len += (size_t)snprintf(w->s + w->len, sizeof(w->s) - w->len,
						   "%02x%02x%s", addr[i], addr[i + 1],
						   i < 14 ? ":" : "");
		w->len += (size_t)snprintf(w->s + w->len, sizeof(w->s) - w->len, "/%u ", cidr);
	}
	return ++w->calls == w->stop_after ? 42 : 0;
}

static const char *walk_str(struct awg_allowedips *t, void *peer)
{
	static struct walk_buf w;

	memset(&w, 0, sizeof(w));
	awg_allowedips_walk_by_peer(t, peer, walk_collect, &w);
	return w.s;
}

#define CHECK_STR(a, b)                                                                        \
	do {                                                                                   \
		const char *_a = (a), *_b = (b);                                               \
		if (!CHECK(strcmp(_a, _b) == 0))                                               \
			fprintf(stderr, "    got '%s'\n    want '%s'\n", _a, _b);              \
	} while (0)

/* Cases adapted from the shape of the kernel selftest: overlapping v4 and v6 prefixes. */
static void table_v4(void)
{
	struct awg_allowedips t;

	awg_allowedips_init(&t);
	CHECK(!look4(&t, 1, 2, 3, 4));
	CHECK_INT(ins4(&t, 192, 168, 4, 0, 24, P(1)), 0);
	CHECK_INT(ins4(&t, 192, 168, 4, 4, 32, P(2)), 0);
	CHECK_INT(ins4(&t, 192, 168, 0, 0, 16, P(3)), 0);
	CHECK_INT(ins4(&t, 192, 95, 5, 64, 27, P(4)), 0);
	CHECK_INT(ins4(&t, 192, 95, 5, 65, 27, P(5)), 0);	/* same /27: moves to P5 */
	CHECK_INT(ins4(&t, 10, 0, 0, 0, 8, P(6)), 0);
	CHECK_INT(ins4(&t, 10, 1, 0, 0, 16, P(7)), 0);
	CHECK_INT(ins4(&t, 10, 1, 0, 0, 24, P(8)), 0);
	CHECK_INT(ins4(&t, 10, 1, 0, 129, 25, P(9)), 0);	/* host bits masked: .128/25 */

	CHECK(look4(&t, 192, 168, 4, 20) == P(1));
	CHECK(look4(&t, 192, 168, 4, 0) == P(1));
	CHECK(look4(&t, 192, 168, 4, 4) == P(2));
	CHECK(look4(&t, 192, 168, 200, 182) == P(3));
	CHECK(look4(&t, 192, 169, 0, 0) == NULL);
	CHECK(look4(&t, 192, 95, 5, 68) == P(5));
	CHECK(look4(&t, 192, 95, 5, 96) == NULL);
	CHECK(look4(&t, 10, 2, 3, 4) == P(6));
	CHECK(look4(&t, 10, 1, 3, 4) == P(7));
	CHECK(look4(&t, 10, 1, 0, 4) == P(8));
	CHECK(look4(&t, 10, 1, 0, 128) == P(9));
	CHECK(look4(&t, 10, 1, 0, 255) == P(9));
	CHECK(look4(&t, 11, 0, 0, 0) == NULL);

	CHECK_STR(walk_str(&t, P(5)), "192.95.5.64/27 ");
	CHECK_STR(walk_str(&t, P(4)), "");
	CHECK_STR(walk_str(&t, P(9)), "10.1.0.128/25 ");

	/* Removal restores the shorter prefix's owner, and only the owner may remove. */
	CHECK_INT(rm4(&t, 192, 168, 4, 4, 32, P(1)), -ENOENT);
	CHECK(look4(&t, 192, 168, 4, 4) == P(2));
	CHECK_INT(rm4(&t, 192, 168, 4, 4, 32, P(2)), 0);
	CHECK(look4(&t, 192, 168, 4, 4) == P(1));
	CHECK_INT(rm4(&t, 192, 168, 4, 4, 32, P(2)), -ENOENT);
	CHECK_INT(rm4(&t, 192, 168, 4, 99, 24, P(1)), 0);	/* host bits ignored */
	CHECK(look4(&t, 192, 168, 4, 4) == P(3));
	CHECK_INT(rm4(&t, 10, 1, 0, 0, 20, P(7)), -ENOENT);	/* never inserted */
	CHECK_INT(rm4(&t, 10, 1, 0, 0, 16, P(7)), 0);
	CHECK(look4(&t, 10, 1, 3, 4) == P(6));
	CHECK(look4(&t, 10, 1, 0, 4) == P(8));

	/* /0 catches everything not covered; /32 is one host. */
	CHECK_INT(ins4(&t, 1, 2, 3, 4, 0, P(10)), 0);
	CHECK(look4(&t, 11, 0, 0, 0) == P(10));
	CHECK(look4(&t, 255, 255, 255, 255) == P(10));
	CHECK(look4(&t, 10, 9, 9, 9) == P(6));
	CHECK_STR(walk_str(&t, P(10)), "0.0.0.0/0 ");
	CHECK_INT(ins4(&t, 255, 255, 255, 255, 32, P(11)), 0);
	CHECK(look4(&t, 255, 255, 255, 255) == P(11));
	CHECK(look4(&t, 255, 255, 255, 254) == P(10));
	CHECK_INT(rm4(&t, 0, 0, 0, 0, 0, P(10)), 0);
	CHECK(look4(&t, 11, 0, 0, 0) == NULL);
	CHECK(!look6(&t, 0, 0, 0, 0));	/* families are separate */

	CHECK_INT(ins4(&t, 1, 2, 3, 4, 33, P(1)), -EINVAL);
	CHECK_INT(ins4(&t, 1, 2, 3, 4, 8, NULL), -EINVAL);
	CHECK_INT(awg_allowedips_insert(&t, 99, (const uint8_t *)"abcd", 8, P(1)), -EINVAL);
	awg_allowedips_free(&t);
	CHECK(!look4(&t, 10, 1, 0, 4));
}

static void table_v6(void)
{
	struct awg_allowedips t;

	awg_allowedips_init(&t);
	CHECK_INT(ins6(&t, 0x26075300, 0x60006b00, 0, 0xc05f0543, 128, P(1)), 0);
	CHECK_INT(ins6(&t, 0x26075300, 0x60006b00, 0, 0, 64, P(2)), 0);
	CHECK_INT(ins6(&t, 0, 0, 0, 0, 0, P(3)), 0);
	CHECK_INT(ins6(&t, 0x26075300, 0x6d8a6bf8, 0xdab1e000, 0, 83, P(4)), 0);
	CHECK_INT(ins6(&t, 0x24046800, 0, 0, 0, 32, P(5)), 0);
	CHECK_INT(ins6(&t, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef, 40, P(6)), 0);
	CHECK_INT(ins6(&t, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef, 128, P(7)), 0);
	CHECK_INT(ins6(&t, 0x24046800, 0x40040800, 0xdeadbeef, 0, 96, P(8)), 0);

	CHECK(look6(&t, 0x26075300, 0x60006b00, 0, 0xc05f0543) == P(1));
	CHECK(look6(&t, 0x26075300, 0x60006b00, 0, 0xc02e01ee) == P(2));
	CHECK(look6(&t, 0x26075300, 0x60006b01, 0, 0) == P(3));
	CHECK(look6(&t, 0x26075300, 0x6d8a6bf8, 0xdab1c000, 1) == P(3));	/* bit 82 clear */
	CHECK(look6(&t, 0x26075300, 0x6d8a6bf8, 0xdab1f000, 1) == P(4));	/* bit 83: host */
	CHECK(look6(&t, 0x26075300, 0x6d8a6bf8, 0xdab1e7ff, 1) == P(4));
	CHECK(look6(&t, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef) == P(7));
	CHECK(look6(&t, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeee) == P(8));
	CHECK(look6(&t, 0x24046800, 0x40040800, 0xdeadbeee, 0) == P(6));
	CHECK(look6(&t, 0x24046800, 0x41000000, 0, 0) == P(5));
	CHECK(look6(&t, 0x24046801, 0, 0, 0) == P(3));

	CHECK_STR(walk_str(&t, P(4)), "2607:5300:6d8a:6bf8:dab1:e000:0000:0000/83 ");
	CHECK_STR(walk_str(&t, P(3)), "0000:0000:0000:0000:0000:0000:0000:0000/0 ");
	CHECK_INT(ins6(&t, 0, 0, 0, 0, 129, P(1)), -EINVAL);

	/* A v4 /0 and a v6 /0 are different prefixes. */
	CHECK_INT(ins4(&t, 0, 0, 0, 0, 0, P(3)), 0);
	CHECK_STR(walk_str(&t, P(3)),
		  "0.0.0.0/0 0000:0000:0000:0000:0000:0000:0000:0000/0 ");
	awg_allowedips_remove_by_peer(&t, P(3));
	CHECK(look6(&t, 0x24046801, 0, 0, 0) == NULL);
	CHECK(look4(&t, 1, 1, 1, 1) == NULL);
	CHECK(look6(&t, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeee) == P(8));
	awg_allowedips_free(&t);
}

/* Walk order is by address then length, independent of insertion order; nonzero stops it. */
static void walk_order_and_stop(void)
{
	struct awg_allowedips t;
	struct walk_buf w = { .stop_after = 2 };

	awg_allowedips_init(&t);
	ins4(&t, 10, 0, 0, 0, 24, P(1));
	ins6(&t, 0xfd000000, 0, 0, 0, 8, P(1));
	ins4(&t, 10, 0, 0, 0, 8, P(1));
	ins4(&t, 9, 255, 0, 0, 16, P(1));
	ins4(&t, 10, 0, 0, 7, 32, P(1));
	ins4(&t, 10, 0, 0, 0, 16, P(2));
	CHECK_STR(walk_str(&t, P(1)), "9.255.0.0/16 10.0.0.0/8 10.0.0.0/24 10.0.0.7/32 "
				      "fd00:0000:0000:0000:0000:0000:0000:0000/8 ");
	CHECK_INT(awg_allowedips_walk_by_peer(&t, P(1), walk_collect, &w), 42);
	CHECK_INT(w.calls, 2);
	CHECK_STR(w.s, "9.255.0.0/16 10.0.0.0/8 ");
	/* Moving a prefix to another peer moves it between walks. */
	ins4(&t, 10, 0, 0, 0, 24, P(2));
	CHECK_STR(walk_str(&t, P(2)), "10.0.0.0/16 10.0.0.0/24 ");
	awg_allowedips_free(&t);
}

/* The naive model: a flat list, scanned in full for every lookup. */
struct entry {
	int family;
	uint8_t key[16];
	uint8_t cidr;
	void *peer;
};

struct model {
	struct entry *e;
	size_t n, cap;
};

static void mask(uint8_t out[16], const uint8_t *addr, unsigned cidr, unsigned bytes)
{
	memset(out, 0, 16);
	memcpy(out, addr, bytes);
	for (unsigned i = cidr; i < 128; i++)
		out[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

static bool covers(const struct entry *e, const uint8_t *addr)
{
	for (unsigned i = 0; i < e->cidr; i++)
		if (((e->key[i / 8] ^ addr[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static struct entry *model_find(struct model *m, int family, const uint8_t key[16], uint8_t cidr)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].family == family && m->e[i].cidr == cidr &&
		    !memcmp(m->e[i].key, key, 16))
			return &m->e[i];
	return NULL;
}

static void model_insert(struct model *m, int family, const uint8_t *addr, uint8_t cidr,
			 void *peer)
{
	struct entry *e;
	uint8_t key[16];

	mask(key, addr, cidr, family == AWG_AF_INET ? 4 : 16);
	e = model_find(m, family, key, cidr);
	if (e) {
		e->peer = peer;
		return;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->e = realloc(m->e, m->cap * sizeof(*m->e));
		if (!m->e)
			abort();
	}
	e = &m->e[m->n++];
	e->family = family;
	memcpy(e->key, key, 16);
	e->cidr = cidr;
	e->peer = peer;
}

static int model_remove(struct model *m, int family, const uint8_t *addr, uint8_t cidr,
			void *peer)
{
	struct entry *e;
	uint8_t key[16];

	mask(key, addr, cidr, family == AWG_AF_INET ? 4 : 16);
	e = model_find(m, family, key, cidr);
	if (!e || e->peer != peer)
		return -ENOENT;
	*e = m->e[--m->n];
	return 0;
}

static void model_remove_by_peer(struct model *m, void *peer)
{
	for (size_t i = 0; i < m->n;)
		if (m->e[i].peer == peer)
			m->e[i] = m->e[--m->n];
		else
			i++;
}

static void *model_lookup(struct model *m, int family, const uint8_t *addr)
{
	uint8_t key[16] = { 0 };
	int best = -1;
	void *peer = NULL;

	memcpy(key, addr, family == AWG_AF_INET ? 4 : 16);
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].family == family && (int)m->e[i].cidr > best && covers(&m->e[i], key)) {
			best = m->e[i].cidr;
			peer = m->e[i].peer;
		}
	return peer;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int r;

	if (x->family != y->family)
		return x->family == AWG_AF_INET ? -1 : 1;
	r = memcmp(x->key, y->key, 16);
	if (r)
		return r;
	return (int)x->cidr - (int)y->cidr;
}

struct walk_check {
	struct entry *want;
	size_t n, pos;
	bool ok;
};

static int walk_compare(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct walk_check *w = ctx;
	uint8_t key[16] = { 0 };

	memcpy(key, addr, family == AWG_AF_INET ? 4 : 16);
	if (w->pos >= w->n || w->want[w->pos].family != family || w->want[w->pos].cidr != cidr ||
	    memcmp(w->want[w->pos].key, key, 16))
		w->ok = false;
	w->pos++;
	return 0;
}

static bool walk_matches(struct awg_allowedips *t, struct model *m, void *peer)
{
	struct walk_check w = { .want = calloc(m->n + 1, sizeof(struct entry)), .ok = true };

	if (!w.want)
		abort();
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].peer == peer)
			w.want[w.n++] = m->e[i];
	qsort(w.want, w.n, sizeof(*w.want), entry_cmp);
	awg_allowedips_walk_by_peer(t, peer, walk_compare, &w);
	free(w.want);
	return w.ok && w.pos == w.n;
}

static uint64_t rnd(struct test_env *te)
{
	uint64_t r;

	awg_env_random(&te->env, &r, sizeof(r));
	return r;
}

/*
 * Random addresses clustered around a few bases, so that prefixes nest and collide often; a
 * few are fully random.
 */
static void random_addr(struct test_env *te, const uint8_t bases[4][16], int family,
			uint8_t out[16])
{
	unsigned bytes = family == AWG_AF_INET ? 4 : 16;
	uint64_t r = rnd(te);

	if (r % 8 == 0) {
		for (unsigned i = 0; i < bytes; i++)
			out[i] = (uint8_t)rnd(te);
		return;
	}
	memcpy(out, bases[(r >> 3) % 4], bytes);
	for (unsigned flips = (r >> 8) % 4; flips; flips--) {
		unsigned b = (unsigned)(rnd(te) % (bytes * 8));

		out[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
	}
	/* tails are random often, so host bits get masked */
	if ((r >> 16) % 2)
		out[bytes - 1] = (uint8_t)(r >> 24);
}

static uint8_t random_cidr(struct test_env *te, int family)
{
	unsigned bits = family == AWG_AF_INET ? 32 : 128;
	uint64_t r = rnd(te);

	if (r % 10 == 0)
		return (uint8_t)((r >> 8) % 2 ? bits : 0);
	return (uint8_t)((r >> 8) % (bits + 1));
}

static void differential(uint64_t seed, int rounds, int npeers)
{
	struct awg_allowedips t;
	struct model m = { 0 };
	struct test_env te;
	uint8_t bases[4][16], addr[16];
	unsigned lookup_bad = 0, remove_bad = 0, walk_bad = 0, inserts = 0, removes = 0, hits = 0;

	test_env_init(&te, seed);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 16; j++)
			bases[i][j] = (uint8_t)rnd(&te);
	awg_allowedips_init(&t);
	for (int round = 0; round < rounds; round++) {
		uint64_t r = rnd(&te);
		int family = r % 2 ? AWG_AF_INET : AWG_AF_INET6;
		void *peer = P(1 + (r >> 8) % (unsigned)npeers);
		unsigned op = (unsigned)(r >> 16) % 100;

		random_addr(&te, bases, family, addr);
		if (op < 40) {
			uint8_t cidr = random_cidr(&te, family);

			model_insert(&m, family, addr, cidr, peer);
			CHECK_INT(awg_allowedips_insert(&t, family, addr, cidr, peer), 0);
			inserts++;
		} else if (op < 55) {
			uint8_t cidr = random_cidr(&te, family);

			/* half the time, remove a known prefix (sometimes as the wrong peer) */
			if (m.n && (r >> 32) % 2) {
				struct entry *e = &m.e[(r >> 33) % m.n];

				family = e->family;
				memcpy(addr, e->key, 16);
				cidr = e->cidr;
				if ((r >> 50) % 4)
					peer = e->peer;
			}
			int want = model_remove(&m, family, addr, cidr, peer);

			remove_bad += awg_allowedips_remove(&t, family, addr, cidr, peer) != want;
			removes += want == 0;
		} else if (op < 56) {
			model_remove_by_peer(&m, peer);
			awg_allowedips_remove_by_peer(&t, peer);
		} else {
			void *want = model_lookup(&m, family, addr);

			lookup_bad += awg_allowedips_lookup(&t, family, addr) != want;
			hits += want != NULL;
		}
		if (round % 997 == 0)
			walk_bad += !walk_matches(&t, &m, peer);
	}
	for (int i = 1; i <= npeers; i++)
		walk_bad += !walk_matches(&t, &m, P(i));
	CHECK_INT(lookup_bad, 0);
	CHECK_INT(remove_bad, 0);
	CHECK_INT(walk_bad, 0);
	CHECK(inserts > (unsigned)rounds / 4);
	CHECK(removes > 0);
	CHECK(hits > (unsigned)rounds / 10);
	/*
	 * Empty the table prefix by prefix or peer by peer; either way pruning must leave no
	 * branch nodes behind.
	 */
	if (seed % 2) {
		while (m.n) {
			struct entry e = m.e[m.n - 1];

			remove_bad += awg_allowedips_remove(&t, e.family, e.key, e.cidr,
							    e.peer) != 0;
			m.n--;
		}
		CHECK_INT(remove_bad, 0);
	}
	for (int i = 1; i <= npeers; i++)
		awg_allowedips_remove_by_peer(&t, P(i));
	CHECK(!t.root4 && !t.root6);
	awg_allowedips_free(&t);
	free(m.e);
}

static void random_few_peers(void)
{
	differential(1, 30000, 3);
}

static void random_many_peers(void)
{
	differential(2, 30000, 60);
}

static void random_seeds(void)
{
	for (uint64_t seed = 100; seed < 110; seed++)
		differential(seed, 5000, 1 + (int)(seed % 20));
}

TEST_MAIN("allowedips", T(table_v4), T(table_v6), T(walk_order_and_stop), T(random_few_peers),
	  T(random_many_peers), T(random_seeds))
