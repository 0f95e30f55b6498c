// SPDX-License-Identifier: MIT
/* Owns the UAPI text protocol over struct awg_conf: framing, set, get, and their client sides. */
#include "uapi.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "ispec.h"
#include "obfs.h"

/* Longest quotation of request text in an error message. */
#define QUOTE_MAX 64
#define QUOTE_FMT "`%.*s%s'"
#define QUOTE_ARGS(s, len) (int)((len) > QUOTE_MAX ? QUOTE_MAX : (len)), (s), \
			   (len) > QUOTE_MAX ? "..." : ""

/* Group keys committed at the end of a set (see awg_uapi_set). */
#define GROUP_BITS (AWG_CONF_HAS_JC | AWG_CONF_HAS_JMIN | AWG_CONF_HAS_JMAX |                   \
		    (AWG_CONF_HAS_S1 * 0xf) | (AWG_CONF_HAS_H1 * 0xf) | AWG_CONF_HAS_HP_KEY)

/* ------------------------------------------------------------------------------------------ */
/* Framing */

static bool line_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && !memcmp(s, word, len);
}

int awg_uapi_frame(const char *buf, size_t len, struct awg_uapi_request *req)
{
	const char *nl = memchr(buf, '\n', len);
	size_t pos;

	if (!nl)
		return len > AWG_UAPI_LINE_MAX ? -EIO : 0;
	if (line_is(buf, (size_t)(nl - buf), "get=1")) {
		if (len < 7)
			return 0;
		if (buf[6] != '\n')
			return -EINVAL;
		*req = (struct awg_uapi_request){ .op = AWG_UAPI_OP_GET, .total_len = 7 };
		return 1;
	}
	if (!line_is(buf, (size_t)(nl - buf), "set=1"))
		return (size_t)(nl - buf) > AWG_UAPI_LINE_MAX ? -EIO : -EPROTO;
	for (pos = 6; pos < len;) {
		size_t n;

		nl = memchr(buf + pos, '\n', len - pos);
		if (!nl)
			return len - pos > AWG_UAPI_LINE_MAX ? -EIO : 0;
		n = (size_t)(nl - (buf + pos));
		if (n > AWG_UAPI_LINE_MAX)
			return -EIO;
		if (!n) {
			*req = (struct awg_uapi_request){
				.op = AWG_UAPI_OP_SET,
				.payload_off = 6,
				.payload_len = pos - 6,
				.total_len = pos + 1,
			};
			return 1;
		}
		pos += n + 1;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* set */

struct setter {
	struct awg_conf *dev;
	const struct awg_uapi_hooks *hooks;
	void *ctx;
	struct awg_parse_error *err;
	unsigned line;
	/* The group committed at the end: dev->obfs with this request's S/H/HP/J overlaid. */
	struct awg_obfs_params group;
	uint64_t group_has;
	/* Own public key, cached for the self-peer rule. */
	bool have_self;
	uint8_t self_pub[AWG_KEY_LEN];
	/* Peer mode: the selected peer, or the scratch dummy that swallows ignored keys. */
	bool peer_mode;
	bool dummy;
	bool created;
	size_t peer;
	struct awg_conf_peer scratch;
	/* The current line's value. */
	const char *key;
	size_t key_len;
	const char *val;
	size_t len;
};

__attribute__((format(printf, 4, 5)))
static int fail(struct setter *s, int code, unsigned column, const char *fmt, ...)
{
	va_list ap;

	if (!s->err)
		return code;
	s->err->line = s->line;
	s->err->column = column;
	va_start(ap, fmt);
	vsnprintf(s->err->msg, sizeof(s->err->msg), fmt, ap);
	va_end(ap);
	return code;
}

static unsigned val_col(const struct setter *s)
{
	return (unsigned)s->key_len + 2;
}

static int bad_value(struct setter *s)
{
	return fail(s, -EINVAL, val_col(s), "invalid value for %.*s: " QUOTE_FMT, (int)s->key_len,
		    s->key, QUOTE_ARGS(s->val, s->len));
}

/* Never quotes the value: it may be a secret. */
static int bad_key(struct setter *s)
{
	return fail(s, -EINVAL, val_col(s), "invalid hex key for %.*s (want 64 hex digits)",
		    (int)s->key_len, s->key);
}

/* Flag keys take exactly "true". */
static int want_true(struct setter *s)
{
	return line_is(s->val, s->len, "true") ? 0 : bad_value(s);
}

static void drop_peer(struct setter *s, struct awg_conf_peer *peer)
{
	if (s->hooks && s->hooks->peer_removed)
		s->hooks->peer_removed(s->ctx, peer->public_key);
	awg_conf_peer_remove(s->dev, peer);
}

static int d_private_key(struct setter *s, unsigned arg)
{
	struct awg_conf *dev = s->dev;
	uint8_t key[AWG_KEY_LEN];

	(void)arg;
	if (awg_parse_key_hex(key, s->val, s->len) < 0)
		return bad_key(s);
	s->have_self = false;
	if (awg_is_zero(key, AWG_KEY_LEN)) {
		awg_wipe(dev->private_key, AWG_KEY_LEN);
		dev->has &= ~(uint64_t)AWG_CONF_HAS_PRIVATE_KEY;
		return 0;
	}
	/* Stored clamped, as amneziawg-go and the kernel do, so get reports what they report. */
	awg_x25519_clamp(key);
	memcpy(dev->private_key, key, AWG_KEY_LEN);
	awg_wipe(key, sizeof(key));
	dev->has |= AWG_CONF_HAS_PRIVATE_KEY;
	if (!awg_x25519_public(s->self_pub, dev->private_key))
		return fail(s, -EINVAL, val_col(s), "cannot derive the public key");
	s->have_self = true;
	/* A peer with our own public key cannot exist: drop it, as amneziawg-go does. */
	for (size_t i = dev->n_peers; i-- > 0;) {
		if (awg_equal(dev->peers[i].public_key, s->self_pub, AWG_KEY_LEN))
			drop_peer(s, &dev->peers[i]);
	}
	return 0;
}

static int d_listen_port(struct setter *s, unsigned arg)
{
	uint16_t port;
	int ret;

	(void)arg;
	if (awg_parse_port(s->val, s->len, &port) < 0)
		return bad_value(s);
	if (s->hooks && s->hooks->listen_port) {
		ret = s->hooks->listen_port(s->ctx, port);
		if (ret < 0)
			return fail(s, ret, val_col(s), "cannot listen on port %u", port);
	}
	s->dev->listen_port = port;
	s->dev->has |= AWG_CONF_HAS_LISTEN_PORT;
	return 0;
}

static int d_fwmark(struct setter *s, unsigned arg)
{
	uint32_t mark;
	int ret;

	(void)arg;
	if (awg_parse_u32(s->val, s->len, UINT32_MAX, &mark) < 0)
		return bad_value(s);
	if (s->hooks && s->hooks->fwmark) {
		ret = s->hooks->fwmark(s->ctx, mark);
		if (ret < 0)
			return fail(s, ret, val_col(s), "cannot apply fwmark %u", mark);
	}
	s->dev->fwmark = mark;
	s->dev->has |= AWG_CONF_HAS_FWMARK;
	return 0;
}

static int d_replace_peers(struct setter *s, unsigned arg)
{
	int ret = want_true(s);

	(void)arg;
	if (ret)
		return ret;
	while (s->dev->n_peers)
		drop_peer(s, &s->dev->peers[s->dev->n_peers - 1]);
	return 0;
}

static int d_junk(struct setter *s, unsigned arg)
{
	uint32_t *field[] = { &s->group.jc, &s->group.jmin, &s->group.jmax };

	if (awg_parse_u32(s->val, s->len, UINT32_MAX, field[arg]) < 0)
		return bad_value(s);
	s->group_has |= AWG_CONF_HAS_JC << arg;
	return 0;
}

static int d_prefix(struct setter *s, unsigned arg)
{
	uint32_t v;

	if (awg_parse_u32(s->val, s->len, UINT16_MAX, &v) < 0)
		return bad_value(s);
	s->group.s[arg] = (uint16_t)v;
	s->group_has |= AWG_CONF_HAS_S1 << arg;
	return 0;
}

static int d_header(struct setter *s, unsigned arg)
{
	if (awg_parse_range(s->val, s->len, UINT32_MAX, &s->group.h[arg]) < 0)
		return bad_value(s);
	s->group_has |= AWG_CONF_HAS_H1 << arg;
	return 0;
}

static int d_ispec(struct setter *s, unsigned arg)
{
	struct awg_parse_error ierr = { 0 };
	struct awg_ispec *spec = NULL;

	/* The slot keeps the text as a C string, so a NUL inside it could not be stored. */
	if (memchr(s->val, '\0', s->len))
		return fail(s, -EINVAL, val_col(s), "NUL byte in %.*s", (int)s->key_len, s->key);
	if (awg_ispec_parse(s->val, s->len, &spec, &ierr) < 0)
		return fail(s, -EINVAL, val_col(s) + (ierr.column ? ierr.column - 1 : 0),
			    "invalid tag spec for %.*s: %s", (int)s->key_len, s->key, ierr.msg);
	if (!spec)
		return awg_conf_set_ispec(s->dev, arg, NULL, 0);
	awg_ispec_free(spec);
	return awg_conf_set_ispec(s->dev, arg, s->val, s->len);
}

static int d_hp_key(struct setter *s, unsigned arg)
{
	(void)arg;
	if (awg_parse_key_hex(s->group.hp_key, s->val, s->len) < 0)
		return bad_key(s);
	s->group.hp_on = !awg_is_zero(s->group.hp_key, AWG_KEY_LEN);
	s->group_has |= AWG_CONF_HAS_HP_KEY;
	return 0;
}

/* arg: 0 = content_padding_addition, 1.. = timing ranges in struct order. */
static int d_range(struct setter *s, unsigned arg)
{
	struct awg_conf *dev = s->dev;
	struct awg_range *f[] = {
		&dev->obfs.content_padding, &dev->timing.rekey_after_time,
		&dev->timing.rekey_timeout, &dev->timing.reject_after_time,
		&dev->timing.keepalive_timeout, &dev->timing.max_handshake_attempts,
	};
	/* Padding is appended to one datagram, so it is bounded like the group validator wants. */
	uint32_t max = arg ? UINT32_MAX : UINT16_MAX;

	if (awg_parse_range(s->val, s->len, max, f[arg]) < 0)
		return bad_value(s);
	dev->has |= AWG_CONF_HAS_CONTENT_PADDING << arg;
	return 0;
}

static int d_bool(struct setter *s, unsigned arg)
{
	bool *field = arg ? &s->dev->obfs.disable_cookies : &s->dev->obfs.random_trailers;

	if (awg_parse_bool(s->val, s->len, AWG_BOOL_UAPI, field) < 0)
		return bad_value(s);
	s->dev->has |= AWG_CONF_HAS_RANDOM_TRAILERS << arg;
	return 0;
}

struct set_key {
	const char *name;
	int (*fn)(struct setter *s, unsigned arg);
	unsigned arg;
};

static const struct set_key device_keys[] = {
	{ "private_key", d_private_key, 0 },
	{ "listen_port", d_listen_port, 0 },
	{ "fwmark", d_fwmark, 0 },
	{ "replace_peers", d_replace_peers, 0 },
	{ "jc", d_junk, 0 },
	{ "jmin", d_junk, 1 },
	{ "jmax", d_junk, 2 },
	{ "s1", d_prefix, 0 },
	{ "s2", d_prefix, 1 },
	{ "s3", d_prefix, 2 },
	{ "s4", d_prefix, 3 },
	{ "h1", d_header, 0 },
	{ "h2", d_header, 1 },
	{ "h3", d_header, 2 },
	{ "h4", d_header, 3 },
	{ "i1", d_ispec, 0 },
	{ "i2", d_ispec, 1 },
	{ "i3", d_ispec, 2 },
	{ "i4", d_ispec, 3 },
	{ "i5", d_ispec, 4 },
	{ "header_protection_key", d_hp_key, 0 },
	{ "content_padding_addition", d_range, 0 },
	{ "rekey_after_time", d_range, 1 },
	{ "rekey_timeout", d_range, 2 },
	{ "reject_after_time", d_range, 3 },
	{ "keepalive_timeout", d_range, 4 },
	{ "max_handshake_attempts", d_range, 5 },
	{ "random_trailers", d_bool, 0 },
	{ "disable_cookies", d_bool, 1 },
};

static struct awg_conf_peer *target(struct setter *s)
{
	return s->dummy ? &s->scratch : &s->dev->peers[s->peer];
}

static void reset_scratch(struct setter *s)
{
	free(s->scratch.allowed_ips);
	awg_wipe(&s->scratch, sizeof(s->scratch));
}

static void become_dummy(struct setter *s)
{
	reset_scratch(s);
	s->dummy = true;
	s->created = false;
}

static int p_public_key(struct setter *s, unsigned arg)
{
	struct awg_conf *dev = s->dev;
	struct awg_conf_peer *peer;
	uint8_t pub[AWG_KEY_LEN];
	int ret;

	(void)arg;
	/* Public keys are not secret; quoting them helps. */
	if (awg_parse_key_hex(pub, s->val, s->len) < 0)
		return bad_value(s);
	s->peer_mode = true;
	become_dummy(s);
	if (!s->have_self && (dev->has & AWG_CONF_HAS_PRIVATE_KEY))
		s->have_self = awg_x25519_public(s->self_pub, dev->private_key);
	/* Our own key selects a dummy that ignores everything (amneziawg-go). */
	if (s->have_self && awg_equal(pub, s->self_pub, AWG_KEY_LEN))
		return 0;
	peer = awg_conf_peer_find(dev, pub);
	if (!peer) {
		ret = awg_conf_peer_add(dev, pub, &peer);
		if (ret == -ENOSPC)
			return fail(s, -EINVAL, val_col(s), "too many peers");
		if (ret)
			return ret;
		s->created = true;
	}
	s->dummy = false;
	s->peer = (size_t)(peer - dev->peers);
	return 0;
}

static int p_update_only(struct setter *s, unsigned arg)
{
	int ret = want_true(s);

	(void)arg;
	if (ret)
		return ret;
	if (s->created && !s->dummy) {
		drop_peer(s, target(s));
		become_dummy(s);
	}
	return 0;
}

static int p_remove(struct setter *s, unsigned arg)
{
	int ret = want_true(s);

	(void)arg;
	if (ret)
		return ret;
	if (!s->dummy)
		drop_peer(s, target(s));
	become_dummy(s);
	return 0;
}

static int p_preshared_key(struct setter *s, unsigned arg)
{
	struct awg_conf_peer *peer = target(s);

	(void)arg;
	if (awg_parse_key_hex(peer->preshared_key, s->val, s->len) < 0)
		return bad_key(s);
	if (awg_is_zero(peer->preshared_key, AWG_KEY_LEN))
		peer->flags &= ~(uint32_t)AWG_PEER_HAS_PRESHARED_KEY;
	else
		peer->flags |= AWG_PEER_HAS_PRESHARED_KEY;
	return 0;
}

static int p_endpoint(struct setter *s, unsigned arg)
{
	struct awg_conf_peer *peer = target(s);

	(void)arg;
	if (awg_parse_endpoint(s->val, s->len, true, &peer->endpoint) < 0)
		return bad_value(s);
	peer->flags |= AWG_PEER_HAS_ENDPOINT;
	return 0;
}

static int p_keepalive(struct setter *s, unsigned arg)
{
	struct awg_conf_peer *peer = target(s);

	(void)arg;
	/* amneziawg-go 3.x parses this like every range: 32-bit bounds (spec §2, §6.5). */
	if (awg_parse_range(s->val, s->len, UINT32_MAX, &peer->keepalive) < 0)
		return bad_value(s);
	peer->flags |= AWG_PEER_HAS_KEEPALIVE;
	return 0;
}

static int p_replace_allowed_ips(struct setter *s, unsigned arg)
{
	int ret = want_true(s);

	(void)arg;
	if (!ret)
		target(s)->n_allowed_ips = 0;
	return ret;
}

/* Drops ip from peer's list; returns whether it was there. */
static bool remove_allowed_ip(struct awg_conf_peer *peer, const struct awg_cidr *ip)
{
	for (size_t i = 0; i < peer->n_allowed_ips; i++) {
		if (awg_cidr_equal(&peer->allowed_ips[i], ip)) {
			memmove(&peer->allowed_ips[i], &peer->allowed_ips[i + 1],
				(peer->n_allowed_ips - i - 1) * sizeof(*ip));
			peer->n_allowed_ips--;
			return true;
		}
	}
	return false;
}

static int p_allowed_ip(struct setter *s, unsigned arg)
{
	bool del = s->len && s->val[0] == '-';
	struct awg_conf_peer *peer;
	struct awg_cidr ip;

	(void)arg;
	if (awg_parse_cidr(s->val + del, s->len - del, true, &ip) < 0)
		return bad_value(s);
	if (s->dummy)
		return 0;
	/* The engine's routing table keeps masked prefixes; keep the model in step with it. */
	awg_cidr_mask(&ip);
	peer = target(s);
	if (del) {
		remove_allowed_ip(peer, &ip);
		return 0;
	}
	/* A prefix belongs to one peer: adding it here moves it, as in the trie. */
	for (size_t i = 0; i < s->dev->n_peers; i++) {
		if (i != s->peer)
			remove_allowed_ip(&s->dev->peers[i], &ip);
	}
	remove_allowed_ip(peer, &ip);
	return awg_conf_peer_add_allowed_ip(peer, &ip);
}

static int p_protocol_version(struct setter *s, unsigned arg)
{
	(void)arg;
	return line_is(s->val, s->len, "1") ? 0 : bad_value(s);
}

static const struct set_key peer_keys[] = {
	{ "public_key", p_public_key, 0 },
	{ "update_only", p_update_only, 0 },
	{ "remove", p_remove, 0 },
	{ "preshared_key", p_preshared_key, 0 },
	{ "endpoint", p_endpoint, 0 },
	{ "persistent_keepalive_interval", p_keepalive, 0 },
	{ "replace_allowed_ips", p_replace_allowed_ips, 0 },
	{ "allowed_ip", p_allowed_ip, 0 },
	{ "protocol_version", p_protocol_version, 0 },
};

static const struct set_key *lookup(const struct set_key *table, size_t n, const char *key,
				    size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (line_is(key, len, table[i].name))
			return &table[i];
	}
	return NULL;
}

static int set_line(struct setter *s, const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len);
	const struct set_key *k;

	/* Text that is not key=value may be a secret missing its '=': quote key names only. */
	if (!eq) {
		size_t w = awg_safe_quote_len(line, len);

		if (!w)
			return fail(s, -EPROTO, 1, "line without '=' (not quoted)");
		return fail(s, -EPROTO, 1, "line without '=': `%.*s%s'",
			    (int)(w > QUOTE_MAX ? QUOTE_MAX : w), line,
			    w < len || w > QUOTE_MAX ? " ..." : "");
	}
	s->key = line;
	s->key_len = (size_t)(eq - line);
	s->val = eq + 1;
	s->len = len - s->key_len - 1;
	if (s->peer_mode)
		k = lookup(peer_keys, sizeof(peer_keys) / sizeof(peer_keys[0]), s->key, s->key_len);
	else if (line_is(s->key, s->key_len, "public_key"))
		k = &peer_keys[0];
	else
		k = lookup(device_keys, sizeof(device_keys) / sizeof(device_keys[0]), s->key,
			   s->key_len);
	if (!k && s->key_len && !awg_safe_quote_len(s->key, s->key_len))
		return fail(s, -EINVAL, 1, "unknown %s key (not quoted)",
			    s->peer_mode ? "peer" : "device");
	if (!k) {
		size_t w = s->key_len ? awg_safe_quote_len(s->key, s->key_len) : 0;

		return fail(s, -EINVAL, 1, "unknown %s key `%.*s%s'",
			    s->peer_mode ? "peer" : "device", (int)(w > QUOTE_MAX ? QUOTE_MAX : w),
			    s->key, w < s->key_len || w > QUOTE_MAX ? " ..." : "");
	}
	return k->fn(s, k->arg);
}

/* Validates the group against the resulting state and stores all of it or none of it. */
static int commit_group(struct setter *s)
{
	struct awg_conf *dev = s->dev;
	struct awg_obfs_params next = dev->obfs;
	struct awg_parse_error verr = { 0 };
	int ret = 0;

	if (!s->group_has)
		goto out;
	memcpy(next.s, s->group.s, sizeof(next.s));
	memcpy(next.h, s->group.h, sizeof(next.h));
	next.jc = s->group.jc;
	next.jmin = s->group.jmin;
	next.jmax = s->group.jmax;
	next.hp_on = s->group.hp_on;
	memcpy(next.hp_key, s->group.hp_key, AWG_KEY_LEN);
	ret = awg_obfs_params_validate(&next, &verr);
	if (ret) {
		ret = fail(s, -EINVAL, 0, "%s", verr.msg);
		goto out;
	}
	dev->obfs = next;
	dev->has |= s->group_has;
out:
	awg_wipe(&next, sizeof(next));
	return ret;
}

int awg_uapi_set(struct awg_conf *dev, const char *req, size_t len,
		 const struct awg_uapi_hooks *hooks, void *ctx, struct awg_parse_error *err)
{
	struct setter s = { .dev = dev, .hooks = hooks, .ctx = ctx, .err = err, .dummy = true };
	size_t pos = 0;
	int ret = 0;

	s.group = dev->obfs;
	while (pos < len) {
		const char *nl = memchr(req + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (req + pos)) : len - pos;

		s.line++;
		if (n > AWG_UAPI_LINE_MAX) {
			/*
			 * amneziawg-go commits what it has before failing on a long line, and a
			 * commit that fails validation is what it reports (-EINVAL), not -EIO.
			 */
			ret = commit_group(&s);
			if (!ret)
				ret = fail(&s, -EIO, 1, "line longer than %d bytes",
					   AWG_UAPI_LINE_MAX);
			goto out;
		}
		if (!n)
			break;
		ret = set_line(&s, req + pos, n);
		if (ret)
			goto out;
		pos += n + 1;
	}
	ret = commit_group(&s);
out:
	reset_scratch(&s);
	awg_wipe(&s.group, sizeof(s.group));
	awg_wipe(s.self_pub, sizeof(s.self_pub));
	return ret;
}

/* ------------------------------------------------------------------------------------------ */
/* get */

static void put_hex(struct awg_buf *b, const char *name, const uint8_t key[AWG_KEY_LEN])
{
	char hex[AWG_CRYPTO_KEY_HEX_LEN + 1];

	awg_key_to_hex(hex, key);
	awg_buf_printf(b, "%s=%s\n", name, hex);
	awg_wipe(hex, sizeof(hex));
}

static void put_range(struct awg_buf *b, const char *name, struct awg_range r)
{
	char s[AWG_RANGE_STR_MAX];

	awg_format_range(s, r);
	awg_buf_printf(b, "%s=%s\n", name, s);
}

static const char *const range_keys[] = {
	"content_padding_addition", "rekey_after_time", "rekey_timeout", "reject_after_time",
	"keepalive_timeout", "max_handshake_attempts",
};

static void get_device(struct awg_buf *b, const struct awg_conf *c)
{
	const uint32_t junk[] = { c->obfs.jc, c->obfs.jmin, c->obfs.jmax };
	static const char *const junk_keys[] = { "jc", "jmin", "jmax" };
	char name[4];

	if (c->has & AWG_CONF_HAS_PRIVATE_KEY)
		put_hex(b, "private_key", c->private_key);
	if (c->listen_port)
		awg_buf_printf(b, "listen_port=%u\n", c->listen_port);
	if (c->fwmark)
		awg_buf_printf(b, "fwmark=%u\n", c->fwmark);
	for (unsigned i = 0; i < 3; i++) {
		if (junk[i])
			awg_buf_printf(b, "%s=%u\n", junk_keys[i], junk[i]);
	}
	for (unsigned i = 0; i < AWG_KIND_COUNT; i++) {
		if (c->obfs.s[i])
			awg_buf_printf(b, "s%u=%u\n", i + 1, c->obfs.s[i]);
	}
	for (unsigned i = 0; i < AWG_KIND_COUNT; i++) {
		snprintf(name, sizeof(name), "h%u", i + 1);
		if (!awg_range_is_zero(c->obfs.h[i]))
			put_range(b, name, c->obfs.h[i]);
	}
	for (unsigned i = 0; i < AWG_ISPEC_SLOTS; i++) {
		if (c->ispec[i])
			awg_buf_printf(b, "i%u=%s\n", i + 1, c->ispec[i]);
	}
	if (c->obfs.hp_on)
		put_hex(b, "header_protection_key", c->obfs.hp_key);
	for (unsigned i = 0; i < AWG_CONF_RANGES; i++) {
		if (!awg_range_is_zero(*awg_conf_range((struct awg_conf *)c, i)))
			put_range(b, range_keys[i], *awg_conf_range((struct awg_conf *)c, i));
	}
	awg_buf_printf(b, "random_trailers=%d\ndisable_cookies=%d\n", c->obfs.random_trailers,
		       c->obfs.disable_cookies);
}

static void get_peer(struct awg_buf *b, const struct awg_conf_peer *p)
{
	static const uint8_t zero[AWG_KEY_LEN];
	char s[AWG_ADDR_STR_MAX];

	put_hex(b, "public_key", p->public_key);
	put_hex(b, "preshared_key",
		(p->flags & AWG_PEER_HAS_PRESHARED_KEY) ? p->preshared_key : zero);
	awg_buf_put(b, "protocol_version=1\n", 19);
	if ((p->flags & AWG_PEER_HAS_ENDPOINT) && p->endpoint.ip.family &&
	    !awg_format_endpoint(s, sizeof(s), &p->endpoint))
		awg_buf_printf(b, "endpoint=%s\n", s);
	awg_buf_printf(b, "last_handshake_time_sec=%lld\nlast_handshake_time_nsec=%lld\n",
		       (long long)p->last_handshake_sec, (long long)p->last_handshake_nsec);
	awg_buf_printf(b, "tx_bytes=%llu\nrx_bytes=%llu\n", (unsigned long long)p->tx_bytes,
		       (unsigned long long)p->rx_bytes);
	if (!awg_range_is_zero(p->keepalive))
		put_range(b, "persistent_keepalive_interval", p->keepalive);
	for (size_t i = 0; i < p->n_allowed_ips; i++) {
		if (!awg_format_cidr(s, sizeof(s), &p->allowed_ips[i]))
			awg_buf_printf(b, "allowed_ip=%s\n", s);
	}
}

int awg_uapi_get(const struct awg_conf *dev, char **out, size_t *len)
{
	struct awg_buf b = { 0 };

	get_device(&b, dev);
	for (size_t i = 0; i < dev->n_peers; i++)
		get_peer(&b, &dev->peers[i]);
	awg_buf_put(&b, "errno=0\n\n", 9);
	return awg_buf_finish(&b, out, len);
}

/* ------------------------------------------------------------------------------------------ */
/* Client side: parse get output */

struct reader {
	struct awg_conf *c;
	struct awg_conf_peer *peer;
	struct awg_parse_error *err;
	unsigned line;
	const char *key;
	size_t key_len;
	const char *val;
	size_t len;
};

static int r_bad(struct reader *r)
{
	if (r->err) {
		r->err->line = r->line;
		r->err->column = (unsigned)r->key_len + 2;
		snprintf(r->err->msg, sizeof(r->err->msg), "malformed %.*s in get response",
			 (int)r->key_len, r->key);
	}
	return -EPROTO;
}

static bool key_is(const struct reader *r, const char *name)
{
	return line_is(r->key, r->key_len, name);
}

/* Device keys that are plain numbers or ranges: name, has-bit, max, field getter index. */
static int r_device_number(struct reader *r)
{
	struct awg_conf *c = r->c;
	static const char *const junk_keys[] = { "jc", "jmin", "jmax" };
	uint32_t *junk[] = { &c->obfs.jc, &c->obfs.jmin, &c->obfs.jmax };
	char name[4];
	uint32_t v;

	for (unsigned i = 0; i < 3; i++) {
		if (!key_is(r, junk_keys[i]))
			continue;
		if (awg_parse_u32(r->val, r->len, UINT32_MAX, junk[i]) < 0)
			return r_bad(r);
		c->has |= AWG_CONF_HAS_JC << i;
		return 0;
	}
	for (unsigned i = 0; i < AWG_KIND_COUNT; i++) {
		snprintf(name, sizeof(name), "s%u", i + 1);
		if (key_is(r, name)) {
			if (awg_parse_u32(r->val, r->len, UINT16_MAX, &v) < 0)
				return r_bad(r);
			c->obfs.s[i] = (uint16_t)v;
			c->has |= AWG_CONF_HAS_S1 << i;
			return 0;
		}
		snprintf(name, sizeof(name), "h%u", i + 1);
		if (key_is(r, name)) {
			if (awg_parse_range(r->val, r->len, UINT32_MAX, &c->obfs.h[i]) < 0)
				return r_bad(r);
			c->has |= AWG_CONF_HAS_H1 << i;
			return 0;
		}
	}
	for (unsigned i = 0; i < AWG_CONF_RANGES; i++) {
		if (!key_is(r, range_keys[i]))
			continue;
		if (awg_parse_range(r->val, r->len, UINT32_MAX,
				    awg_conf_range(c, i)) < 0)
			return r_bad(r);
		c->has |= AWG_CONF_HAS_CONTENT_PADDING << i;
		return 0;
	}
	return 1;	/* not a number key */
}

static int r_device(struct reader *r)
{
	struct awg_conf *c = r->c;
	bool *flag;
	int ret;

	if (key_is(r, "private_key")) {
		if (awg_parse_key_hex(c->private_key, r->val, r->len) < 0)
			return r_bad(r);
		c->has |= AWG_CONF_HAS_PRIVATE_KEY;
	} else if (key_is(r, "listen_port")) {
		if (awg_parse_port(r->val, r->len, &c->listen_port) < 0)
			return r_bad(r);
		c->has |= AWG_CONF_HAS_LISTEN_PORT;
	} else if (key_is(r, "fwmark")) {
		if (awg_parse_u32(r->val, r->len, UINT32_MAX, &c->fwmark) < 0)
			return r_bad(r);
		c->has |= AWG_CONF_HAS_FWMARK;
	} else if (key_is(r, "header_protection_key")) {
		if (awg_parse_key_hex(c->obfs.hp_key, r->val, r->len) < 0)
			return r_bad(r);
		c->obfs.hp_on = !awg_is_zero(c->obfs.hp_key, AWG_KEY_LEN);
		c->has |= AWG_CONF_HAS_HP_KEY;
	} else if (key_is(r, "random_trailers") || key_is(r, "disable_cookies")) {
		bool dc = key_is(r, "disable_cookies");

		flag = dc ? &c->obfs.disable_cookies : &c->obfs.random_trailers;
		if (awg_parse_bool(r->val, r->len, AWG_BOOL_UAPI, flag) < 0)
			return r_bad(r);
		c->has |= dc ? AWG_CONF_HAS_DISABLE_COOKIES : AWG_CONF_HAS_RANDOM_TRAILERS;
	} else if (r->key_len == 2 && r->key[0] == 'i' && r->key[1] >= '1' && r->key[1] <= '5') {
		return awg_conf_set_ispec(c, (unsigned)(r->key[1] - '1'), r->val, r->len);
	} else {
		ret = r_device_number(r);
		return ret > 0 ? 0 : ret;	/* unknown keys are ignored, as the tools do */
	}
	return 0;
}

static int r_peer(struct reader *r)
{
	struct awg_conf_peer *p = r->peer;
	uint64_t v;

	if (key_is(r, "preshared_key")) {
		if (awg_parse_key_hex(p->preshared_key, r->val, r->len) < 0)
			return r_bad(r);
		if (!awg_is_zero(p->preshared_key, AWG_KEY_LEN))
			p->flags |= AWG_PEER_HAS_PRESHARED_KEY;
	} else if (key_is(r, "endpoint")) {
		if (awg_parse_endpoint(r->val, r->len, true, &p->endpoint) < 0)
			return r_bad(r);
		p->flags |= AWG_PEER_HAS_ENDPOINT;
	} else if (key_is(r, "persistent_keepalive_interval")) {
		if (awg_parse_range(r->val, r->len, UINT32_MAX, &p->keepalive) < 0)
			return r_bad(r);
		p->flags |= AWG_PEER_HAS_KEEPALIVE;
	} else if (key_is(r, "allowed_ip")) {
		struct awg_cidr ip;

		if (awg_parse_cidr(r->val, r->len, true, &ip) < 0)
			return r_bad(r);
		return awg_conf_peer_add_allowed_ip(p, &ip);
	} else if (key_is(r, "last_handshake_time_sec") || key_is(r, "last_handshake_time_nsec")) {
		if (awg_parse_u64(r->val, r->len, &v) < 0 || v > INT64_MAX)
			return r_bad(r);
		if (key_is(r, "last_handshake_time_sec"))
			p->last_handshake_sec = (int64_t)v;
		else
			p->last_handshake_nsec = (int64_t)v;
	} else if (key_is(r, "tx_bytes") || key_is(r, "rx_bytes")) {
		if (awg_parse_u64(r->val, r->len, &v) < 0)
			return r_bad(r);
		*(key_is(r, "tx_bytes") ? &p->tx_bytes : &p->rx_bytes) = v;
	} else if (key_is(r, "protocol_version")) {
		if (!line_is(r->val, r->len, "1"))
			return r_bad(r);
	}
	return 0;
}

static int r_errno(struct reader *r)
{
	uint32_t v;

	if (r->len && r->val[0] == '-' && awg_parse_u32(r->val + 1, r->len - 1, 4095, &v) == 0)
		return v ? -(int)v : 0;
	if (awg_parse_u32(r->val, r->len, 4095, &v) < 0)
		return r_bad(r);
	/* Some daemons print a positive errno; an error is an error either way. */
	return v ? -(int)v : 0;
}

static int r_line(struct reader *r)
{
	uint8_t pub[AWG_KEY_LEN];
	int ret;

	if (key_is(r, "public_key")) {
		if (awg_parse_key_hex(pub, r->val, r->len) < 0)
			return r_bad(r);
		ret = awg_conf_peer_add(r->c, pub, &r->peer);
		return ret == -ENOSPC ? r_bad(r) : ret;
	}
	return r->peer ? r_peer(r) : r_device(r);
}

int awg_uapi_parse_get(struct awg_conf *c, const char *resp, size_t len,
		       struct awg_parse_error *err)
{
	struct reader r = { .c = c, .err = err };
	size_t pos = 0;
	int ret;

	/* The daemon omits exactly the H ranges that are 0-0. */
	memset(c->obfs.h, 0, sizeof(c->obfs.h));
	while (pos < len) {
		const char *nl = memchr(resp + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (resp + pos)) : len - pos;
		const char *eq = memchr(resp + pos, '=', n);

		r.line++;
		r.key = resp + pos;
		r.key_len = eq ? (size_t)(eq - r.key) : n;
		if (!eq) {
			r.val = NULL;
			r.len = 0;
			return r_bad(&r);
		}
		r.val = eq + 1;
		r.len = n - r.key_len - 1;
		if (key_is(&r, "errno"))
			return r_errno(&r);
		ret = r_line(&r);
		if (ret)
			return ret;
		/* Re-derive the borrowed pointer: peer_add may have moved the array. */
		r.peer = c->n_peers ? &c->peers[c->n_peers - 1] : NULL;
		pos += n + 1;
	}
	r.key = "errno";
	r.key_len = 5;
	return r_bad(&r);
}

/* ------------------------------------------------------------------------------------------ */
/* Client side: write a set request */

static int set_device(struct awg_buf *b, const struct awg_conf *c, bool replace)
{
	static const uint8_t zero[AWG_KEY_LEN];
	static const char *const junk_keys[] = { "jc", "jmin", "jmax" };
	const uint32_t junk[] = { c->obfs.jc, c->obfs.jmin, c->obfs.jmax };
	char name[4];

	if ((c->has & AWG_CONF_HAS_PRIVATE_KEY) || replace)
		put_hex(b, "private_key",
			(c->has & AWG_CONF_HAS_PRIVATE_KEY) ? c->private_key : zero);
	if (c->has & AWG_CONF_HAS_LISTEN_PORT)
		awg_buf_printf(b, "listen_port=%u\n", c->listen_port);
	if ((c->has & AWG_CONF_HAS_FWMARK) || replace)
		awg_buf_printf(b, "fwmark=%u\n", (c->has & AWG_CONF_HAS_FWMARK) ? c->fwmark : 0);
	if ((c->has & AWG_CONF_REPLACE_PEERS) || replace)
		awg_buf_put(b, "replace_peers=true\n", 19);
	for (unsigned i = 0; i < 3; i++) {
		if (c->has & (AWG_CONF_HAS_JC << i))
			awg_buf_printf(b, "%s=%u\n", junk_keys[i], junk[i]);
	}
	for (unsigned i = 0; i < AWG_KIND_COUNT; i++) {
		if (c->has & (AWG_CONF_HAS_S1 << i))
			awg_buf_printf(b, "s%u=%u\n", i + 1, c->obfs.s[i]);
	}
	for (unsigned i = 0; i < AWG_KIND_COUNT; i++) {
		snprintf(name, sizeof(name), "h%u", i + 1);
		if (c->has & (AWG_CONF_HAS_H1 << i))
			put_range(b, name, c->obfs.h[i]);
	}
	for (unsigned i = 0; i < AWG_ISPEC_SLOTS; i++) {
		if (!c->ispec[i])
			continue;
		if (strchr(c->ispec[i], '\n'))
			return -EINVAL;
		awg_buf_printf(b, "i%u=%s\n", i + 1, c->ispec[i]);
	}
	if (c->has & AWG_CONF_HAS_HP_KEY)
		put_hex(b, "header_protection_key", c->obfs.hp_on ? c->obfs.hp_key : zero);
	for (unsigned i = 0; i < AWG_CONF_RANGES; i++) {
		if (c->has & (AWG_CONF_HAS_CONTENT_PADDING << i))
			put_range(b, range_keys[i], *awg_conf_range((struct awg_conf *)c, i));
	}
	if (c->has & AWG_CONF_HAS_RANDOM_TRAILERS)
		awg_buf_printf(b, "random_trailers=%d\n", c->obfs.random_trailers);
	if (c->has & AWG_CONF_HAS_DISABLE_COOKIES)
		awg_buf_printf(b, "disable_cookies=%d\n", c->obfs.disable_cookies);
	return 0;
}

static int set_peer(struct awg_buf *b, const struct awg_conf_peer *p, bool replace)
{
	char s[AWG_ADDR_STR_MAX];

	/* The tools refuse the legacy kernel-only flag over UAPI. */
	if (p->flags & AWG_PEER_HAS_ADVANCED_SECURITY)
		return -EINVAL;
	put_hex(b, "public_key", p->public_key);
	if (p->flags & AWG_PEER_REMOVE) {
		awg_buf_put(b, "remove=true\n", 12);
		return 0;
	}
	if (p->flags & AWG_PEER_UPDATE_ONLY)
		awg_buf_put(b, "update_only=true\n", 17);
	if (p->flags & AWG_PEER_HAS_PRESHARED_KEY)
		put_hex(b, "preshared_key", p->preshared_key);
	if (p->flags & AWG_PEER_HAS_ENDPOINT) {
		/* UAPI takes numeric endpoints only: resolve host names before writing. */
		if (!p->endpoint.ip.family || awg_format_endpoint(s, sizeof(s), &p->endpoint) < 0)
			return -EINVAL;
		awg_buf_printf(b, "endpoint=%s\n", s);
	}
	if (p->flags & AWG_PEER_HAS_KEEPALIVE)
		put_range(b, "persistent_keepalive_interval", p->keepalive);
	if ((p->flags & AWG_PEER_REPLACE_ALLOWED_IPS) || replace)
		awg_buf_put(b, "replace_allowed_ips=true\n", 25);
	for (size_t i = 0; i < p->n_allowed_ips; i++) {
		if (awg_format_cidr(s, sizeof(s), &p->allowed_ips[i]) < 0)
			return -EINVAL;
		awg_buf_printf(b, "allowed_ip=%s\n", s);
	}
	return 0;
}

int awg_uapi_write_set(const struct awg_conf *c, unsigned flags, char **out, size_t *len)
{
	bool replace = flags & AWG_UAPI_SET_REPLACE;
	struct awg_buf b = { 0 };
	int ret;

	awg_buf_put(&b, "set=1\n", 6);
	ret = set_device(&b, c, replace);
	for (size_t i = 0; !ret && i < c->n_peers; i++)
		ret = set_peer(&b, &c->peers[i], replace);
	if (ret) {
		awg_buf_discard(&b);
		return ret;
	}
	awg_buf_put(&b, "\n", 1);
	return awg_buf_finish(&b, out, len);
}
