// SPDX-License-Identifier: MIT
/*
 * The awg-manager wire codec (include/awg/manager-proto.h): one table of field descriptors per
 * (kind, code), walked by both the encoder and the decoder, so the two cannot disagree.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "awg/manager-proto.h"
#include "crypto.h"

enum ftype {
	/* Integers; for U8..U32 a limit != 0 means value < limit (enumerations, bools). */
	F_U8,
	F_U16,
	F_U32,
	F_U64,
	F_I64,		/* two's complement: stored and sent as the u64 of the same bits */
	F_KEY,
	F_STR,		/* char[limit + 1] in the struct, NUL-terminated */
	F_CONFIG,	/* m->config / m->config_len; limit AWG_MGR_CONFIG_MAX */
	F_ARRAY,	/* u32 count, then count elements described by arr */
};

struct array_desc;

struct field {
	enum ftype type;
	size_t off;			/* offsetof into the containing struct */
	uint32_t limit;
	const struct array_desc *arr;	/* F_ARRAY only */
};

/* An array field: u32 count at count_off, owned element pointer at ptr_off. */
struct array_desc {
	size_t count_off;
	size_t ptr_off;
	size_t elem_size;
	uint32_t max;
	bool bounded;			/* count <= the u32 at bound_off (already walked) */
	size_t bound_off;
	const struct field *fields;
	size_t n_fields;
};

struct msg_desc {
	const struct field *fields;
	size_t n;
};

#define MSG(f)	offsetof(struct awg_mgr_msg, f)
#define U8(off, lim)	{ F_U8, (off), (lim), NULL }
#define BOOL(off)	{ F_U8, (off), 2, NULL }
#define U16(off)	{ F_U16, (off), 0, NULL }
#define U32(off, lim)	{ F_U32, (off), (lim), NULL }
#define U64(off)	{ F_U64, (off), 0, NULL }
#define I64(off)	{ F_I64, (off), 0, NULL }
#define KEY(off)	{ F_KEY, (off), 0, NULL }
#define STR(off, lim)	{ F_STR, (off), (lim), NULL }
#define CONFIG		{ F_CONFIG, MSG(config), AWG_MGR_CONFIG_MAX, NULL }
#define ARRAY(a)	{ F_ARRAY, 0, 0, &(a) }
#define NAME		STR(MSG(name), AWG_MGR_NAME_MAX)
#define ERROR		STR(MSG(error), AWG_MGR_ERROR_MAX)
#define DESC(f)		{ (f), sizeof(f) / sizeof((f)[0]) }
#define NONE		{ NULL, 0 }

#define PEER(f)		offsetof(struct awg_mgr_peer, f)
static const struct field peer_fields[] = {
	KEY(PEER(public_key)),
	STR(PEER(endpoint), AWG_MGR_ENDPOINT_MAX),
	U64(PEER(rx_bytes)),
	U64(PEER(tx_bytes)),
	I64(PEER(last_handshake_sec)),
	U32(PEER(last_handshake_nsec), 1000000000u),
	U16(PEER(keepalive)),
};

static const struct array_desc peers = {
	MSG(n_peers), MSG(peers), sizeof(struct awg_mgr_peer), AWG_MGR_PEERS_MAX,
	true, MSG(total_peers), peer_fields, sizeof(peer_fields) / sizeof(peer_fields[0]),
};

#define TUN(f)		offsetof(struct awg_mgr_tunnel, f)
static const struct field tunnel_fields[] = {
	STR(TUN(name), AWG_MGR_NAME_MAX),
	U8(TUN(state), AWG_MGR_STATES),
	BOOL(TUN(enabled)),
};

static const struct array_desc tunnels = {
	MSG(n_tunnels), MSG(tunnels), sizeof(struct awg_mgr_tunnel), AWG_MGR_TUNNELS_MAX,
	false, 0, tunnel_fields, sizeof(tunnel_fields) / sizeof(tunnel_fields[0]),
};

/* Request payloads, by method. */
static const struct field f_name[] = { NAME };
static const struct field f_create[] = { NAME, CONFIG, BOOL(MSG(flag)) };
static const struct field f_flag[] = { BOOL(MSG(flag)) };

static const struct msg_desc requests[AWG_MGR_METHODS] = {
	[AWG_MGR_STORED_CONFIG] = DESC(f_name),
	[AWG_MGR_RUNTIME_CONFIG] = DESC(f_name),
	[AWG_MGR_START] = DESC(f_name),
	[AWG_MGR_STOP] = DESC(f_name),
	[AWG_MGR_WAIT_FOR_STOP] = DESC(f_name),
	[AWG_MGR_DELETE] = DESC(f_name),
	[AWG_MGR_STATE] = DESC(f_name),
	[AWG_MGR_GLOBAL_STATE] = NONE,
	[AWG_MGR_CREATE] = DESC(f_create),
	[AWG_MGR_TUNNELS] = NONE,
	[AWG_MGR_QUIT] = DESC(f_flag),
	[AWG_MGR_UPDATE_STATE] = NONE,
	[AWG_MGR_UPDATE] = NONE,
	[AWG_MGR_SUBSCRIBE] = DESC(f_flag),
	[AWG_MGR_LOG_FD] = NONE,
	[AWG_MGR_ROLE] = NONE,
};

/* Result fields of successful replies (after status and the empty error), by method. */
static const struct field r_config[] = { CONFIG };
static const struct field r_runtime[] = {
	CONFIG,
	BOOL(MSG(flag)),
	STR(MSG(ifname), AWG_MGR_IFNAME_MAX),
	U16(MSG(listen_port)),
	BOOL(MSG(has_public_key)),
	KEY(MSG(public_key)),
	U32(MSG(total_peers), 0),
	ARRAY(peers),
};
static const struct field r_state[] = { U8(MSG(state), AWG_MGR_STATES), ERROR };
static const struct field r_global[] = { U8(MSG(state), AWG_MGR_STATES) };
static const struct field r_tunnels[] = { ARRAY(tunnels) };
static const struct field r_update[] = { U8(MSG(state), AWG_MGR_UPDATE_STATES) };
static const struct field r_logfd[] = { U32(MSG(value), 0) };
static const struct field r_role[] = { U8(MSG(state), AWG_MGR_ROLES), U32(MSG(value), 0) };

static const struct msg_desc results[AWG_MGR_METHODS] = {
	[AWG_MGR_STORED_CONFIG] = DESC(r_config),
	[AWG_MGR_RUNTIME_CONFIG] = DESC(r_runtime),
	[AWG_MGR_START] = NONE,
	[AWG_MGR_STOP] = NONE,
	[AWG_MGR_WAIT_FOR_STOP] = NONE,
	[AWG_MGR_DELETE] = NONE,
	[AWG_MGR_STATE] = DESC(r_state),
	[AWG_MGR_GLOBAL_STATE] = DESC(r_global),
	[AWG_MGR_CREATE] = DESC(f_name),
	[AWG_MGR_TUNNELS] = DESC(r_tunnels),
	[AWG_MGR_QUIT] = DESC(f_flag),
	[AWG_MGR_UPDATE_STATE] = DESC(r_update),
	[AWG_MGR_UPDATE] = NONE,
	[AWG_MGR_SUBSCRIBE] = NONE,
	[AWG_MGR_LOG_FD] = DESC(r_logfd),
	[AWG_MGR_ROLE] = DESC(r_role),
};

static const struct field e_tunnel[] = {
	NAME,
	U8(MSG(state), AWG_MGR_STATES),
	U8(MSG(global_state), AWG_MGR_STATES),
	ERROR,
};
static const struct field e_progress[] = {
	STR(MSG(activity), AWG_MGR_ACTIVITY_MAX),
	U64(MSG(downloaded)),
	U64(MSG(total)),
	ERROR,
	BOOL(MSG(flag)),
};

static const struct msg_desc events[AWG_MGR_EVENTS] = {
	[AWG_MGR_EV_TUNNEL_CHANGE] = DESC(e_tunnel),
	[AWG_MGR_EV_TUNNELS_CHANGE] = NONE,
	[AWG_MGR_EV_MANAGER_STOPPING] = NONE,
	[AWG_MGR_EV_UPDATE_FOUND] = DESC(r_update),
	[AWG_MGR_EV_UPDATE_PROGRESS] = DESC(e_progress),
};

/* The payload table of (kind, code), or NULL if the pair is unknown. */
static const struct msg_desc *lookup(unsigned kind, unsigned code)
{
	switch (kind) {
	case AWG_MGR_REQUEST:
		return code < AWG_MGR_METHODS ? &requests[code] : NULL;
	case AWG_MGR_REPLY:
		return code < AWG_MGR_METHODS ? &results[code] : NULL;
	case AWG_MGR_EVENT:
		return code < AWG_MGR_EVENTS ? &events[code] : NULL;
	}
	return NULL;
}

static bool has_field(const struct msg_desc *d, size_t off)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->fields[i].type == F_STR && d->fields[i].off == off)
			return true;
	return false;
}

/* Bytes of an integer type, on the wire and in the struct. */
static size_t width(enum ftype t)
{
	switch (t) {
	case F_U8:
		return 1;
	case F_U16:
		return 2;
	case F_U32:
		return 4;
	default:
		return 8;
	}
}

static uint64_t load(const uint8_t *p, size_t w)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (w) {
	case 1:
		memcpy(&u8, p, 1);
		return u8;
	case 2:
		memcpy(&u16, p, 2);
		return u16;
	case 4:
		memcpy(&u32, p, 4);
		return u32;
	}
	memcpy(&u64, p, 8);
	return u64;
}

static void store(uint8_t *p, size_t w, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (w) {
	case 1:
		memcpy(p, &u8, 1);
		return;
	case 2:
		memcpy(p, &u16, 2);
		return;
	case 4:
		memcpy(p, &u32, 4);
		return;
	}
	memcpy(p, &v, 8);
}

/* --- Encoding. The first pass measures (w->buf NULL) and validates; the second writes. --- */

struct writer {
	uint8_t *buf;
	size_t pos;
};

static void put(struct writer *w, const void *p, size_t n)
{
	if (w->buf && n)
		memcpy(w->buf + w->pos, p, n);
	w->pos += n;
}

static void put_le(struct writer *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, n);
}

static int put_str(struct writer *w, const char *s, size_t n, uint32_t limit)
{
	if (n > limit || (n && memchr(s, '\0', n)))
		return -EINVAL;
	put_le(w, n, 4);
	put(w, s, n);
	return 0;
}

static int put_fields(struct writer *w, const void *base, const struct field *f, size_t n,
		      const void *msg);

static int put_array(struct writer *w, const void *base, const struct array_desc *a)
{
	const uint8_t *b = base;
	const uint8_t *elems;
	uint64_t count = load(b + a->count_off, 4);
	int ret;

	memcpy(&elems, b + a->ptr_off, sizeof(elems));
	if (count > a->max || (count && !elems))
		return -EINVAL;
	if (a->bounded && count > load(b + a->bound_off, 4))
		return -EINVAL;
	put_le(w, count, 4);
	for (uint32_t i = 0; i < count; i++) {
		ret = put_fields(w, elems + (size_t)i * a->elem_size, a->fields, a->n_fields, base);
		if (ret)
			return ret;
	}
	return 0;
}

static int put_field(struct writer *w, const void *base, const struct field *f, const void *msg)
{
	const uint8_t *p = (const uint8_t *)base + f->off;
	const struct awg_mgr_msg *m = msg;
	uint64_t v;
	size_t n;

	switch (f->type) {
	case F_U8:
	case F_U16:
	case F_U32:
	case F_U64:
	case F_I64:
		v = load(p, width(f->type));
		if (f->limit && v >= f->limit)
			return -EINVAL;
		put_le(w, v, width(f->type));
		return 0;
	case F_KEY:
		put(w, p, AWG_MGR_KEY_LEN);
		return 0;
	case F_STR:
		/* The array holds limit + 1 bytes: a longer string has no NUL within it. */
		n = strnlen((const char *)p, f->limit + 1);
		return put_str(w, (const char *)p, n, f->limit);
	case F_CONFIG:
		if (!m->config && m->config_len)
			return -EINVAL;
		return put_str(w, m->config, m->config_len, f->limit);
	case F_ARRAY:
		return put_array(w, base, f->arr);
	}
	return -EINVAL;
}

static int put_fields(struct writer *w, const void *base, const struct field *f, size_t n,
		      const void *msg)
{
	int ret;

	for (size_t i = 0; i < n; i++) {
		ret = put_field(w, base, &f[i], msg);
		if (ret)
			return ret;
	}
	return 0;
}

/* Header and payload of m; the length word is written by the caller. */
static int put_msg(struct writer *w, const struct awg_mgr_msg *m, const struct msg_desc *d)
{
	size_t elen;

	put_le(w, m->kind, 1);
	put_le(w, m->code, 1);
	put_le(w, 0, 2);
	put_le(w, m->seq, 4);
	if (m->kind == AWG_MGR_REPLY) {
		put_le(w, m->status, 4);
		elen = strnlen(m->error, sizeof(m->error));
		if (m->status) {
			/* Failed: the error and nothing else. */
			return put_str(w, m->error, elen, AWG_MGR_ERROR_MAX);
		}
		/* Succeeded: the error is empty; only a result field may carry text. */
		if (elen && !has_field(d, MSG(error)))
			return -EINVAL;
		put_le(w, 0, 4);
	}
	return put_fields(w, m, d->fields, d->n, m);
}

int awg_mgr_encode(const struct awg_mgr_msg *m, uint8_t **out, size_t *len)
{
	const struct msg_desc *d = lookup(m->kind, m->code);
	struct writer w = { NULL, 4 };
	size_t total;
	int ret;

	*out = NULL;
	*len = 0;
	if (!d || (m->kind == AWG_MGR_EVENT && m->seq))
		return -EINVAL;
	ret = put_msg(&w, m, d);
	if (ret)
		return ret;
	total = w.pos;
	/* Unreachable with today's limits (the largest RuntimeConfig is ~790 KiB); kept for them. */
	if (total > AWG_MGR_FRAME_MAX)
		return -E2BIG;
	w.buf = malloc(total);
	if (!w.buf)
		return -ENOMEM;
	w.pos = 0;
	put_le(&w, total - 4, 4);
	/* Cannot fail: the measuring pass validated the same message. */
	put_msg(&w, m, d);
	*out = w.buf;
	*len = total;
	return 0;
}

size_t awg_mgr_frame_len(const uint8_t head[4])
{
	uint32_t n = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 |
		     (uint32_t)head[3] << 24;

	if (n < AWG_MGR_HDR_LEN || n > AWG_MGR_FRAME_MAX - 4)
		return 0;
	return (size_t)n + 4;
}

/* --- Decoding. Every read is bounds-checked against the frame first. --- */

struct reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
};

static const uint8_t *get(struct reader *r, size_t n)
{
	const uint8_t *p;

	if (n > r->len - r->pos)
		return NULL;
	p = r->buf + r->pos;
	r->pos += n;
	return p;
}

static int get_le(struct reader *r, size_t n, uint64_t *v)
{
	const uint8_t *p = get(r, n);

	if (!p)
		return -EINVAL;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v |= (uint64_t)p[i] << (8 * i);
	return 0;
}

/* A str field within limit and without NUL; *s points into the frame. */
static int get_str(struct reader *r, uint32_t limit, const uint8_t **s, size_t *n)
{
	uint64_t v;

	if (get_le(r, 4, &v) || v > limit)
		return -EINVAL;
	*s = get(r, v);
	if (!*s || (v && memchr(*s, '\0', v)))
		return -EINVAL;
	*n = v;
	return 0;
}

/* The fewest bytes count elements of a take on the wire (their strings empty). */
static size_t min_wire_size(const struct field *f, size_t n)
{
	static const size_t sizes[] = {
		[F_U8] = 1, [F_U16] = 2, [F_U32] = 4, [F_U64] = 8, [F_I64] = 8,
		[F_KEY] = AWG_MGR_KEY_LEN, [F_STR] = 4, [F_CONFIG] = 4, [F_ARRAY] = 4,
	};
	size_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += sizes[f[i].type];
	return sum;
}

static int get_fields(struct reader *r, void *base, const struct field *f, size_t n, void *msg);

static int get_array(struct reader *r, void *base, const struct array_desc *a)
{
	uint8_t *b = base;
	uint8_t *elems;
	uint64_t count;
	int ret;

	if (get_le(r, 4, &count) || count > a->max)
		return -EINVAL;
	if (a->bounded && count > load(b + a->bound_off, 4))
		return -EINVAL;
	/* Refuse a count the rest of the frame cannot hold before allocating for it. */
	if (count * min_wire_size(a->fields, a->n_fields) > r->len - r->pos)
		return -EINVAL;
	store(b + a->count_off, 4, count);
	if (!count)
		return 0;
	elems = calloc(count, a->elem_size);
	if (!elems)
		return -ENOMEM;
	/* Owned by the message from here on, so awg_mgr_msg_free releases it on error. */
	memcpy(b + a->ptr_off, &elems, sizeof(elems));
	for (uint64_t i = 0; i < count; i++) {
		ret = get_fields(r, elems + i * a->elem_size, a->fields, a->n_fields, base);
		if (ret)
			return ret;
	}
	return 0;
}

static int get_field(struct reader *r, void *base, const struct field *f, void *msg)
{
	uint8_t *p = (uint8_t *)base + f->off;
	struct awg_mgr_msg *m = msg;
	const uint8_t *s;
	uint64_t v;
	size_t n;

	switch (f->type) {
	case F_U8:
	case F_U16:
	case F_U32:
	case F_U64:
	case F_I64:
		if (get_le(r, width(f->type), &v) || (f->limit && v >= f->limit))
			return -EINVAL;
		store(p, width(f->type), v);
		return 0;
	case F_KEY:
		s = get(r, AWG_MGR_KEY_LEN);
		if (!s)
			return -EINVAL;
		memcpy(p, s, AWG_MGR_KEY_LEN);
		return 0;
	case F_STR:
		if (get_str(r, f->limit, &s, &n))
			return -EINVAL;
		memcpy(p, s, n);
		p[n] = '\0';
		return 0;
	case F_CONFIG:
		if (get_str(r, f->limit, &s, &n))
			return -EINVAL;
		return awg_mgr_msg_set_config(m, (const char *)s, n);
	case F_ARRAY:
		return get_array(r, base, f->arr);
	}
	return -EINVAL;
}

static int get_fields(struct reader *r, void *base, const struct field *f, size_t n, void *msg)
{
	int ret;

	for (size_t i = 0; i < n; i++) {
		ret = get_field(r, base, &f[i], msg);
		if (ret)
			return ret;
	}
	return 0;
}

/* The reply's status and error; *more is false when the frame must end there. */
static int get_status(struct reader *r, struct awg_mgr_msg *m, bool *more)
{
	const uint8_t *s;
	uint64_t v;
	size_t n;

	if (get_le(r, 4, &v) || get_str(r, AWG_MGR_ERROR_MAX, &s, &n))
		return -EINVAL;
	m->status = (uint32_t)v;
	/* A success carries no error text (State's error is a result field). */
	if (!m->status && n)
		return -EINVAL;
	memcpy(m->error, s, n);
	m->error[n] = '\0';
	*more = !m->status;
	return 0;
}

int awg_mgr_decode(struct awg_mgr_msg *m, const uint8_t *buf, size_t len)
{
	struct reader r = { buf, len, 4 };
	const struct msg_desc *d;
	uint64_t kind, code, flags, seq;
	bool more = true;
	int ret;

	memset(m, 0, sizeof(*m));
	if (len < 4 || awg_mgr_frame_len(buf) != len)
		return -EINVAL;
	if (get_le(&r, 1, &kind) || get_le(&r, 1, &code) || get_le(&r, 2, &flags) ||
	    get_le(&r, 4, &seq))
		return -EINVAL;
	d = lookup((unsigned)kind, (unsigned)code);
	if (!d || flags || (kind == AWG_MGR_EVENT && seq))
		return -EINVAL;
	m->kind = (uint8_t)kind;
	m->code = (uint8_t)code;
	m->seq = (uint32_t)seq;
	if (kind == AWG_MGR_REPLY) {
		ret = get_status(&r, m, &more);
		if (ret)
			return ret;
	}
	if (more) {
		ret = get_fields(&r, m, d->fields, d->n, m);
		if (ret)
			return ret;
	}
	return r.pos == r.len ? 0 : -EINVAL;
}

int awg_mgr_msg_set_config(struct awg_mgr_msg *m, const char *config, size_t len)
{
	char *copy;

	if (len > AWG_MGR_CONFIG_MAX)
		return -E2BIG;
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, config, len);
	copy[len] = '\0';
	if (m->config) {
		awg_wipe(m->config, m->config_len);
		free(m->config);
	}
	m->config = copy;
	m->config_len = len;
	return 0;
}

void awg_mgr_msg_free(struct awg_mgr_msg *m)
{
	if (m->config) {
		/* Configs hold private and preshared keys. */
		awg_wipe(m->config, m->config_len);
		free(m->config);
	}
	free(m->peers);
	free(m->tunnels);
	memset(m, 0, sizeof(*m));
}

/* --- Names. --- */

static const char *const method_names[AWG_MGR_METHODS] = {
	"StoredConfig", "RuntimeConfig", "Start", "Stop", "WaitForStop", "Delete", "State",
	"GlobalState", "Create", "Tunnels", "Quit", "UpdateState", "Update", "Subscribe", "LogFd",
	"Role",
};

static const char *const event_names[AWG_MGR_EVENTS] = {
	"TunnelChange", "TunnelsChange", "ManagerStopping", "UpdateFound", "UpdateProgress",
};

static const char *const state_names[AWG_MGR_STATES] = {
	"Unknown", "Started", "Stopped", "Starting", "Stopping",
};

static const char *const role_names[AWG_MGR_ROLES] = { "None", "Admin", "Operator" };

const char *awg_mgr_method_name(unsigned code)
{
	return code < AWG_MGR_METHODS ? method_names[code] : "?";
}

const char *awg_mgr_event_name(unsigned code)
{
	return code < AWG_MGR_EVENTS ? event_names[code] : "?";
}

const char *awg_mgr_state_name(unsigned state)
{
	return state < AWG_MGR_STATES ? state_names[state] : "?";
}

const char *awg_mgr_role_name(unsigned role)
{
	return role < AWG_MGR_ROLES ? role_names[role] : "?";
}
