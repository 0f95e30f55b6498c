// SPDX-License-Identifier: MIT
/*
 * AmneziaWG wire shaping: validation of the parameter group, framing of the four message kinds
 * (prefix, magic header, header protection, trailers), transport padding, decoys and receive
 * classification (spec §3.4, §4.2–§4.9).
 *
 * Invariant: a struct awg_obfs only ever holds a parameter set that passed
 * awg_obfs_params_validate, so with header protection on every prefix holds the 12-byte nonce
 * and S_T + L_T fits in 16 bits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "messages.h"
#include "obfs.h"

struct awg_obfs {
	struct awg_obfs_params p;
	struct awg_ispec *ispec[AWG_ISPEC_SLOTS];
	/* Decoy plan: slots of the I-specs that produce a non-empty payload, in order. */
	unsigned n_ispec;
	uint8_t ispec_slot[AWG_ISPEC_SLOTS];
	unsigned n_junk;
};

/* WireGuard message length per kind; for transport the minimum (keepalive). */
static const size_t kind_len[AWG_KIND_COUNT] = {
	[AWG_KIND_INIT] = AWG_MSG_INITIATION_LEN,
	[AWG_KIND_RESPONSE] = AWG_MSG_RESPONSE_LEN,
	[AWG_KIND_COOKIE] = AWG_MSG_COOKIE_LEN,
	[AWG_KIND_TRANSPORT] = AWG_MSG_DATA_MIN_LEN,
};

static const char *const kind_name[AWG_KIND_COUNT] = {
	"initiation", "response", "cookie reply", "transport",
};

/* --- Validation (spec §3.4) --- */

static void fmt_range(char *buf, size_t size, struct awg_range r)
{
	if (r.lo == r.hi)
		snprintf(buf, size, "%u", r.lo);
	else
		snprintf(buf, size, "%u-%u", r.lo, r.hi);
}

static int validate_h(const struct awg_obfs_params *p, struct awg_parse_error *err)
{
	char a[24], b[24];
	int i, j;

	for (i = 0; i < AWG_KIND_COUNT; i++)
		if (p->h[i].lo > p->h[i].hi)
			return awg_parse_error_set(err, -EINVAL, 0, 0, "H%d range %u-%u has its "
						   "lower bound above the upper", i + 1, p->h[i].lo,
						   p->h[i].hi);
	for (i = 0; i < AWG_KIND_COUNT; i++) {
		for (j = i + 1; j < AWG_KIND_COUNT; j++) {
			if (!awg_range_overlaps(p->h[i], p->h[j]))
				continue;
			fmt_range(a, sizeof(a), p->h[i]);
			fmt_range(b, sizeof(b), p->h[j]);
			return awg_parse_error_set(err, -EINVAL, 0, 0,
						   "H%d range %s overlaps H%d range %s", i + 1, a,
						   j + 1, b);
		}
	}
	return 0;
}

static int validate_s(const struct awg_obfs_params *p, struct awg_parse_error *err)
{
	int i;

	for (i = 0; i < AWG_KIND_COUNT; i++) {
		if (p->hp_on && p->s[i] < AWG_OBFS_HP_MIN_PREFIX)
			return awg_parse_error_set(err, -EINVAL, 0, 0,
						   "S%d = %u is below %d, required when "
						   "HeaderProtectionKey is set",
						   i + 1, p->s[i], AWG_OBFS_HP_MIN_PREFIX);
		if (p->s[i] + kind_len[i] > AWG_OBFS_MAX_DATAGRAM)
			return awg_parse_error_set(err, -EINVAL, 0, 0, "S%d = %u makes the %s "
						   "datagram %zu bytes, above %d", i + 1, p->s[i],
						   kind_name[i], p->s[i] + kind_len[i],
						   AWG_OBFS_MAX_DATAGRAM);
	}
	return 0;
}

static int validate_junk(const struct awg_obfs_params *p, struct awg_parse_error *err)
{
	/* Go 3.x checks neither; an unchecked Jmin > Jmax underflows into ~4 GiB junk (§10.5). */
	if (p->jmax >= AWG_OBFS_MAX_DATAGRAM)
		return awg_parse_error_set(err, -EINVAL, 0, 0, "Jmax = %u must be below %d",
					   p->jmax, AWG_OBFS_MAX_DATAGRAM);
	if (p->jmax && p->jmin > p->jmax)
		return awg_parse_error_set(err, -EINVAL, 0, 0,
					   "Jmin = %u is greater than Jmax = %u", p->jmin, p->jmax);
	return 0;
}

static int validate_padding(const struct awg_obfs_params *p, struct awg_parse_error *err)
{
	struct awg_range r = p->content_padding;

	if (r.lo > r.hi)
		return awg_parse_error_set(err, -EINVAL, 0, 0,
					   "ContentPaddingAddition range %u-%u has its lower bound "
					   "above the upper", r.lo, r.hi);
	if (r.hi > 65535)
		return awg_parse_error_set(err, -EINVAL, 0, 0,
					   "ContentPaddingAddition upper bound %u is above 65535",
					   r.hi);
	return 0;
}

int awg_obfs_params_validate(const struct awg_obfs_params *p, struct awg_parse_error *err)
{
	int ret;

	ret = validate_h(p, err);
	if (!ret)
		ret = validate_s(p, err);
	if (!ret)
		ret = validate_junk(p, err);
	if (!ret)
		ret = validate_padding(p, err);
	return ret;
}

/* --- Lifetime --- */

static void plan_decoys(struct awg_obfs *o)
{
	unsigned k;

	o->n_ispec = 0;
	for (k = 0; k < AWG_ISPEC_SLOTS; k++)
		if (awg_ispec_len(o->ispec[k]) > 0)
			o->ispec_slot[o->n_ispec++] = (uint8_t)k;
	/* Jmax = 0 means no junk: a zero-length datagram must never be sent (§4.3.1). */
	o->n_junk = o->p.jmax ? o->p.jc : 0;
}

int awg_obfs_new_compiled(const struct awg_obfs_params *p,
			  struct awg_ispec *specs[AWG_ISPEC_SLOTS], struct awg_obfs **out,
			  struct awg_parse_error *err)
{
	struct awg_obfs *o;
	unsigned k;
	int ret;

	*out = NULL;
	ret = awg_obfs_params_validate(p, err);
	if (ret < 0)
		return ret;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->p = *p;
	for (k = 0; k < AWG_ISPEC_SLOTS && specs; k++) {
		o->ispec[k] = specs[k];
		specs[k] = NULL;
	}
	plan_decoys(o);
	*out = o;
	return 0;
}

int awg_obfs_new(const struct awg_obfs_params *p, const char *const ispec_text[AWG_ISPEC_SLOTS],
		 struct awg_obfs **out, struct awg_parse_error *err)
{
	struct awg_ispec *specs[AWG_ISPEC_SLOTS] = { NULL };
	unsigned k;
	int ret = 0;

	*out = NULL;
	for (k = 0; k < AWG_ISPEC_SLOTS && ispec_text; k++) {
		if (!ispec_text[k])
			continue;
		ret = awg_ispec_parse(ispec_text[k], strlen(ispec_text[k]), &specs[k], err);
		if (ret < 0) {
			if (err)
				err->line = k + 1;
			goto out;
		}
	}
	ret = awg_obfs_new_compiled(p, specs, out, err);
out:
	/* After a successful hand-over every entry is NULL already. */
	for (k = 0; k < AWG_ISPEC_SLOTS; k++)
		awg_ispec_free(specs[k]);
	return ret;
}

void awg_obfs_free(struct awg_obfs *o)
{
	unsigned k;

	if (!o)
		return;
	for (k = 0; k < AWG_ISPEC_SLOTS; k++)
		awg_ispec_free(o->ispec[k]);
	awg_wipe(o, sizeof(*o));
	free(o);
}

const struct awg_obfs_params *awg_obfs_params(const struct awg_obfs *o)
{
	return &o->p;
}

/* --- Send side --- */

size_t awg_obfs_prefix_len(const struct awg_obfs *o, enum awg_msg_kind kind)
{
	return kind < AWG_KIND_COUNT ? o->p.s[kind] : 0;
}

uint32_t awg_obfs_pick_type(const struct awg_obfs *o, enum awg_msg_kind kind,
			    const struct awg_env *env)
{
	if (kind >= AWG_KIND_COUNT)
		return 0;
	return awg_env_random_range(env, o->p.h[kind].lo, o->p.h[kind].hi);
}

/* XORs len bytes at msg with the HP keystream whose nonce is the first 12 datagram bytes. */
static void protect(const struct awg_obfs *o, const uint8_t *dgram, uint8_t *msg, size_t len)
{
	uint8_t nonce[AWG_CRYPTO_NONCE_LEN];

	memcpy(nonce, dgram, sizeof(nonce));
	awg_chacha20_xor(msg, msg, len, nonce, o->p.hp_key);
}

/* Random trailer length for a handshake/cookie datagram of base bytes (spec §4.8). */
static size_t trailer_len(size_t base, size_t window, size_t room, const struct awg_env *env)
{
	size_t r;

	if (window <= base || room == 0)
		return 0;
	/* [0, W - base) is [0, W - base - 1]; W < 2^32 in practice, clamp for the picker. */
	r = window - base - 1;
	if (r > UINT32_MAX)
		r = UINT32_MAX;
	r = awg_env_random_range(env, 0, (uint32_t)r);
	return r < room ? r : room;
}

size_t awg_obfs_wrap(const struct awg_obfs *o, enum awg_msg_kind kind, uint8_t *buf,
		     size_t msg_len, size_t cap, size_t udp_window, const struct awg_env *env)
{
	size_t s, total, tlen, window;
	uint8_t *msg;

	if (kind >= AWG_KIND_COUNT)
		return 0;
	if (kind == AWG_KIND_TRANSPORT ? msg_len < kind_len[kind] : msg_len != kind_len[kind])
		return 0;
	s = o->p.s[kind];
	if (cap < s || cap - s < msg_len)
		return 0;
	msg = buf + s;
	total = s + msg_len;
	if (s)
		awg_env_random(env, buf, s);
	if (o->p.hp_on)
		protect(o, buf, msg,
			kind == AWG_KIND_TRANSPORT ? (size_t)AWG_MSG_DATA_HEADER_LEN : msg_len);
	if (kind == AWG_KIND_TRANSPORT || !o->p.random_trailers)
		return total;
	window = udp_window ? udp_window : AWG_OBFS_DEFAULT_UDP_WINDOW;
	if (kind == AWG_KIND_COOKIE)
		window = AWG_OBFS_DEFAULT_UDP_WINDOW;
	tlen = trailer_len(total, window, cap - total, env);
	if (tlen)
		awg_env_random(env, buf + total, tlen);
	return total + tlen;
}

static size_t round_up16(size_t n)
{
	return (n + AWG_MESSAGE_PADDING_MULTIPLE - 1) & ~(size_t)(AWG_MESSAGE_PADDING_MULTIPLE - 1);
}

size_t awg_obfs_transport_padding(const struct awg_obfs *o, size_t plain_len, unsigned mtu,
				  size_t udp_window, const struct awg_env *env)
{
	size_t last = plain_len, pad, sum, window;

	/* The part of the packet that sits in the last MTU-sized unit, as Go computes it. */
	if (mtu && last > mtu)
		last %= mtu;
	if (!awg_range_is_zero(o->p.content_padding)) {
		pad = awg_env_random_range(env, o->p.content_padding.lo, o->p.content_padding.hi);
		if (mtu && pad > mtu - last)
			pad = mtu - last;
		return pad;
	}
	if (o->p.random_trailers) {
		window = udp_window ? udp_window : AWG_OBFS_DEFAULT_UDP_WINDOW;
		sum = plain_len + AWG_MSG_DATA_MIN_LEN + o->p.s[AWG_KIND_TRANSPORT];
		if (window <= sum)
			return 0;
		pad = window - sum - 1;
		if (pad > UINT32_MAX)
			pad = UINT32_MAX;
		return awg_env_random_range(env, 0, (uint32_t)pad);
	}
	pad = round_up16(last);
	if (mtu && pad > mtu)
		pad = mtu;
	return pad - last;
}

/* --- Decoys (spec §4.3.1) --- */

unsigned awg_obfs_decoy_count(const struct awg_obfs *o)
{
	return o->n_ispec + o->n_junk;
}

size_t awg_obfs_decoy_max_len(const struct awg_obfs *o)
{
	size_t max = o->n_junk ? o->p.jmax : 0;
	unsigned i;

	for (i = 0; i < o->n_ispec; i++) {
		size_t n = awg_ispec_len(o->ispec[o->ispec_slot[i]]);

		if (n > max)
			max = n;
	}
	return max;
}

size_t awg_obfs_decoy_build(const struct awg_obfs *o, unsigned idx, uint8_t *buf, size_t cap,
			    const struct awg_env *env)
{
	uint32_t lo, n;

	if (idx < o->n_ispec)
		return awg_ispec_eval(o->ispec[o->ispec_slot[idx]], buf, cap, env);
	if (idx - o->n_ispec >= o->n_junk || cap < o->p.jmax)
		return 0;
	lo = o->p.jmin ? o->p.jmin : 1;
	n = awg_env_random_range(env, lo, o->p.jmax);
	awg_env_random(env, buf, n);
	return n;
}

/* --- Receive side (spec §4.4) --- */

static bool size_ok(const struct awg_obfs *o, enum awg_msg_kind kind, size_t n)
{
	size_t need = (size_t)o->p.s[kind] + kind_len[kind];

	if (kind == AWG_KIND_TRANSPORT)
		return n >= need;
	return n == need || (o->p.random_trailers && n > need);
}

int awg_obfs_unwrap(const struct awg_obfs *o, uint8_t *dgram, size_t len,
		    struct awg_obfs_view *out)
{
	uint8_t ks[4] = { 0 };
	int k;

	if (len < AWG_MSG_DATA_MIN_LEN)
		return -EBADMSG;
	/* Every S_T >= 12 with HP on, so the nonce is inside the prefix whatever the kind is. */
	if (o->p.hp_on)
		protect(o, dgram, ks, sizeof(ks));
	for (k = 0; k < AWG_KIND_COUNT; k++) {
		size_t s = o->p.s[k];
		uint8_t t[4];
		uint32_t v;

		if (!size_ok(o, (enum awg_msg_kind)k, len))
			continue;
		t[0] = dgram[s] ^ ks[0];
		t[1] = dgram[s + 1] ^ ks[1];
		t[2] = dgram[s + 2] ^ ks[2];
		t[3] = dgram[s + 3] ^ ks[3];
		v = awg_le32_get(t);
		if (v < o->p.h[k].lo || v > o->p.h[k].hi)
			continue;
		out->kind = (enum awg_msg_kind)k;
		out->msg = dgram + s;
		out->msg_off = s;
		out->msg_len = k == AWG_KIND_TRANSPORT ? len - s : kind_len[k];
		out->magic = v;
		if (o->p.hp_on)
			protect(o, dgram, out->msg,
				k == AWG_KIND_TRANSPORT ? (size_t)AWG_MSG_DATA_HEADER_LEN
							: out->msg_len);
		return 0;
	}
	return -EBADMSG;
}

bool awg_obfs_is_keepalive(const uint8_t *plain, size_t len)
{
	return len == 0 || plain[0] == 0;
}
