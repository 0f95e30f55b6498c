// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for AWG receive classification (awg_obfs_unwrap). The first input byte picks
 * a parameter set (full 3.1, plain WireGuard, HP off with trailers, overlapping sizes) and, with
 * bit 7 set, a wrap-then-unwrap round trip of the rest of the input as a message; the rest is the
 * datagram.
 */
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "obfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { N_SETS = 4 };

static const size_t kind_len[AWG_KIND_COUNT] = { 148, 92, 64, 32 };
static struct awg_obfs *sets[N_SETS];
static uint64_t rng_state;

static uint64_t fixed_clock(void *ctx)
{
	(void)ctx;
	return 0;
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

static void full_set(struct awg_obfs_params *p)
{
	unsigned i;

	awg_obfs_params_init(p);
	p->s[0] = 15;
	p->s[1] = 18;
	p->s[2] = 20;
	p->s[3] = 23;
	p->h[0] = (struct awg_range){ 100000, 100999 };
	p->h[1] = (struct awg_range){ 200000, 200999 };
	p->h[2] = (struct awg_range){ 300000, 300999 };
	p->h[3] = (struct awg_range){ 3000000000u, 3000999999u };
	p->hp_on = true;
	for (i = 0; i < AWG_KEY_LEN; i++)
		p->hp_key[i] = (uint8_t)(0x20 + i);
	p->content_padding = (struct awg_range){ 0, 64 };
	p->random_trailers = true;
}

static void build_sets(void)
{
	struct awg_obfs_params p[N_SETS];
	unsigned i;

	full_set(&p[0]);
	awg_obfs_params_init(&p[1]);
	full_set(&p[2]);
	p[2].hp_on = false;
	p[2].s[0] = 0;
	/* Every handshake size equals 148 and a transport may too: order decides. */
	awg_obfs_params_init(&p[3]);
	p[3].s[1] = 56;
	p[3].s[2] = 84;
	p[3].s[3] = 16;
	p[3].h[0] = (struct awg_range){ 0, 0x3fffffff };
	p[3].h[1] = (struct awg_range){ 0x40000000, 0x7fffffff };
	p[3].h[2] = (struct awg_range){ 0x80000000, 0xbfffffff };
	p[3].h[3] = (struct awg_range){ 0xc0000000, 0xffffffff };
	for (i = 0; i < N_SETS; i++)
		if (awg_obfs_new(&p[i], NULL, &sets[i], NULL) < 0)
			abort();
}

static void check_view(const struct awg_obfs_view *v, const uint8_t *dgram, size_t len)
{
	if (v->kind >= AWG_KIND_COUNT || v->msg != dgram + v->msg_off ||
	    v->msg_off + v->msg_len > len || v->msg_len < kind_len[v->kind] ||
	    (v->kind != AWG_KIND_TRANSPORT && v->msg_len != kind_len[v->kind]) ||
	    awg_le32_get(v->msg) != v->magic)
		abort();
}

static void unwrap_case(const struct awg_obfs *o, const uint8_t *data, size_t size)
{
	struct awg_obfs_view view;
	uint8_t *dgram;

	dgram = malloc(size ? size : 1);
	if (!dgram)
		return;
	memcpy(dgram, data, size);
	if (awg_obfs_unwrap(o, dgram, size, &view) == 0)
		check_view(&view, dgram, size);
	free(dgram);
}

static void roundtrip_case(const struct awg_obfs *o, const uint8_t *data, size_t size)
{
	enum awg_msg_kind kind;
	struct awg_obfs_view view;
	size_t s, len, cap, n;
	uint8_t *buf, *orig;

	if (size < 2)
		return;
	kind = (enum awg_msg_kind)(data[0] & 3);
	data++;
	size--;
	len = kind == AWG_KIND_TRANSPORT ? (size < 32 ? 32 : size) : kind_len[kind];
	s = awg_obfs_prefix_len(o, kind);
	cap = s + len + (size & 0x3ff);
	buf = malloc(cap);
	orig = malloc(len);
	if (!buf || !orig)
		goto out;
	memset(orig, 0, len);
	memcpy(orig, data, size < len ? size : len);
	awg_le32_put(orig, awg_obfs_pick_type(o, kind, &env));
	memcpy(buf + s, orig, len);
	n = awg_obfs_wrap(o, kind, buf, len, cap, 64 + size * 3, &env);
	if (n < s + len || n > cap)
		abort();
	if (awg_obfs_unwrap(o, buf, n, &view) != 0)
		abort();
	check_view(&view, buf, n);
	/*
	 * The own kind always passes its test, so classification stops there or earlier: an earlier
	 * kind may claim the datagram by chance (random prefix/trailer bytes, spec §4.4).
	 */
	if (view.kind > kind)
		abort();
	if (view.kind == kind && (view.msg_len != len || memcmp(view.msg, orig, len) != 0))
		abort();
out:
	free(buf);
	free(orig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct awg_obfs *o;

	if (!sets[0])
		build_sets();
	if (size < 1)
		return 0;
	o = sets[(data[0] & 0x7f) % N_SETS];
	if (data[0] & 0x80)
		roundtrip_case(o, data + 1, size - 1);
	else
		unwrap_case(o, data + 1, size - 1);
	return 0;
}
