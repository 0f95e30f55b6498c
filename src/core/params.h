/* SPDX-License-Identifier: MIT */
/*
 * AmneziaWG device parameters shared by the core, the config and UAPI parsers and the engine:
 * ranges, per-message-kind prefixes and magic headers, header protection, padding, junk.
 */
#ifndef _AWG_PARAMS_H
#define _AWG_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#define AWG_KEY_LEN 32

/*
 * Address families, numerically equal to Linux AF_INET/AF_INET6 so the data plane may pass
 * either; src/core does not include the socket headers that define them.
 */
#define AWG_AF_INET 2
#define AWG_AF_INET6 10
#define AWG_ISPEC_SLOTS 5

/* An inclusive range [lo, hi]. A single value N is {N, N}; "unset/zero" is {0, 0}. */
struct awg_range {
	uint32_t lo;
	uint32_t hi;
};

static inline bool awg_range_is_zero(struct awg_range r)
{
	return r.lo == 0 && r.hi == 0;
}

static inline bool awg_range_overlaps(struct awg_range a, struct awg_range b)
{
	return a.lo <= b.hi && b.lo <= a.hi;
}

/* The four WireGuard message kinds, in the receive-classification order of spec §4.4. */
enum awg_msg_kind {
	AWG_KIND_INIT = 0,
	AWG_KIND_RESPONSE = 1,
	AWG_KIND_COOKIE = 2,
	AWG_KIND_TRANSPORT = 3,
	AWG_KIND_COUNT = 4,
};

/*
 * The wire-shaping parameters of one device (spec §3.1). Defaults (awg_obfs_params_init) are
 * plain WireGuard: S = 0, H = 1..4, no header protection, no trailers, no padding, no junk.
 * I-specs are not here: they are kept as text by the config model and compiled by ispec.c.
 */
struct awg_obfs_params {
	uint16_t s[AWG_KIND_COUNT];		/* S1..S4: random prefix length per kind */
	struct awg_range h[AWG_KIND_COUNT];	/* H1..H4: magic header ranges per kind */
	uint32_t jc, jmin, jmax;		/* junk datagrams before each initiation */
	bool hp_on;				/* header protection (3.0) */
	uint8_t hp_key[AWG_KEY_LEN];		/* secret: wipe when discarded */
	struct awg_range content_padding;	/* ContentPaddingAddition (3.0) */
	bool random_trailers;			/* RandomTrailers (3.1) */
	bool disable_cookies;			/* DisableCookies (3.1) */
};

/* Timing overrides of spec §4.10; a zero range means the WireGuard default. */
struct awg_timing_params {
	struct awg_range rekey_after_time;	/* seconds */
	struct awg_range rekey_timeout;		/* seconds */
	struct awg_range reject_after_time;	/* seconds */
	struct awg_range keepalive_timeout;	/* seconds */
	struct awg_range max_handshake_attempts; /* count */
};

static inline void awg_obfs_params_init(struct awg_obfs_params *p)
{
	*p = (struct awg_obfs_params){
		.h = { { 1, 1 }, { 2, 2 }, { 3, 3 }, { 4, 4 } },
	};
}

#endif /* _AWG_PARAMS_H */
