// SPDX-License-Identifier: MIT
/* Owns struct awg_conf: its lifetime, the configuration-file parser and the file writer. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "ispec.h"
#include "obfs.h"

/* Longest quotation of offending text in an error message. */
#define QUOTE_MAX 64

/* ------------------------------------------------------------------------------------------ */
/* The model */

static void strlist_free(struct awg_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int strlist_add(struct awg_strlist *l, const char *s, size_t len)
{
	char **v, *copy;

	copy = strndup(s, len);
	if (!copy)
		return -ENOMEM;
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	v[l->n++] = copy;
	l->v = v;
	return 0;
}

static bool strlist_equal(const struct awg_strlist *a, const struct awg_strlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->v[i], b->v[i]))
			return false;
	}
	return true;
}

void awg_conf_init(struct awg_conf *c)
{
	*c = (struct awg_conf){ 0 };
	awg_obfs_params_init(&c->obfs);
}

static void peer_release(struct awg_conf_peer *p)
{
	free(p->allowed_ips);
	awg_wipe(p, sizeof(*p));
}

void awg_conf_free(struct awg_conf *c)
{
	for (size_t i = 0; i < c->n_peers; i++)
		peer_release(&c->peers[i]);
	free(c->peers);
	for (unsigned i = 0; i < AWG_ISPEC_SLOTS; i++)
		free(c->ispec[i]);
	free(c->addresses);
	free(c->dns_servers);
	strlist_free(&c->dns_search);
	strlist_free(&c->pre_up);
	strlist_free(&c->post_up);
	strlist_free(&c->pre_down);
	strlist_free(&c->post_down);
	awg_wipe(c, sizeof(*c));
	awg_conf_init(c);
}

int awg_conf_peer_add(struct awg_conf *c, const uint8_t pub[AWG_KEY_LEN],
		      struct awg_conf_peer **out)
{
	struct awg_conf_peer *p;

	if (c->n_peers >= AWG_CONF_MAX_PEERS)
		return -ENOSPC;
	if (c->n_peers == c->cap_peers) {
		size_t cap = c->cap_peers ? c->cap_peers * 2 : 4;

		/* Not realloc: the old block holds preshared keys and must be wiped. */
		p = calloc(cap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		if (c->peers) {
			memcpy(p, c->peers, c->n_peers * sizeof(*p));
			awg_wipe(c->peers, c->cap_peers * sizeof(*p));
			free(c->peers);
		}
		c->peers = p;
		c->cap_peers = cap;
	}
	p = &c->peers[c->n_peers++];
	*p = (struct awg_conf_peer){ 0 };
	memcpy(p->public_key, pub, AWG_KEY_LEN);
	if (out)
		*out = p;
	return 0;
}

struct awg_conf_peer *awg_conf_peer_find(const struct awg_conf *c, const uint8_t pub[AWG_KEY_LEN])
{
	for (size_t i = 0; i < c->n_peers; i++) {
		if (awg_equal(c->peers[i].public_key, pub, AWG_KEY_LEN))
			return &c->peers[i];
	}
	return NULL;
}

void awg_conf_peer_remove(struct awg_conf *c, struct awg_conf_peer *peer)
{
	size_t i = (size_t)(peer - c->peers);

	peer_release(peer);
	memmove(&c->peers[i], &c->peers[i + 1], (c->n_peers - i - 1) * sizeof(*peer));
	c->n_peers--;
	awg_wipe(&c->peers[c->n_peers], sizeof(*peer));
}

int awg_conf_peer_add_allowed_ip(struct awg_conf_peer *peer, const struct awg_cidr *ip)
{
	if (peer->n_allowed_ips == peer->cap_allowed_ips) {
		size_t cap = peer->cap_allowed_ips ? peer->cap_allowed_ips * 2 : 4;
		struct awg_cidr *v = realloc(peer->allowed_ips, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		peer->allowed_ips = v;
		peer->cap_allowed_ips = cap;
	}
	peer->allowed_ips[peer->n_allowed_ips++] = *ip;
	return 0;
}

int awg_conf_set_ispec(struct awg_conf *c, unsigned n, const char *text, size_t len)
{
	char *copy = NULL;

	if (text) {
		copy = strndup(text, len);
		if (!copy)
			return -ENOMEM;
	}
	free(c->ispec[n]);
	c->ispec[n] = copy;
	if (copy)
		c->has |= AWG_CONF_HAS_I1 << n;
	else
		c->has &= ~(AWG_CONF_HAS_I1 << n);
	return 0;
}

static bool peer_equal(const struct awg_conf_peer *a, const struct awg_conf_peer *b)
{
	if (a->flags != b->flags || memcmp(a->public_key, b->public_key, AWG_KEY_LEN) ||
	    memcmp(a->preshared_key, b->preshared_key, AWG_KEY_LEN) ||
	    strcmp(a->endpoint.host, b->endpoint.host) || a->endpoint.port != b->endpoint.port ||
	    memcmp(&a->endpoint.ip, &b->endpoint.ip, sizeof(a->endpoint.ip)) ||
	    a->keepalive.lo != b->keepalive.lo || a->keepalive.hi != b->keepalive.hi ||
	    a->advanced_security != b->advanced_security ||
	    a->n_allowed_ips != b->n_allowed_ips || a->last_handshake_sec != b->last_handshake_sec ||
	    a->last_handshake_nsec != b->last_handshake_nsec || a->rx_bytes != b->rx_bytes ||
	    a->tx_bytes != b->tx_bytes)
		return false;
	for (size_t i = 0; i < a->n_allowed_ips; i++) {
		if (!awg_cidr_equal(&a->allowed_ips[i], &b->allowed_ips[i]))
			return false;
	}
	return true;
}

static bool obfs_equal(const struct awg_obfs_params *a, const struct awg_obfs_params *b)
{
	for (unsigned i = 0; i < AWG_KIND_COUNT; i++) {
		if (a->s[i] != b->s[i] || a->h[i].lo != b->h[i].lo || a->h[i].hi != b->h[i].hi)
			return false;
	}
	return a->jc == b->jc && a->jmin == b->jmin && a->jmax == b->jmax && a->hp_on == b->hp_on &&
	       !memcmp(a->hp_key, b->hp_key, AWG_KEY_LEN) &&
	       a->content_padding.lo == b->content_padding.lo &&
	       a->content_padding.hi == b->content_padding.hi &&
	       a->random_trailers == b->random_trailers && a->disable_cookies == b->disable_cookies;
}

bool awg_conf_equal(const struct awg_conf *a, const struct awg_conf *b)
{
	if (a->has != b->has || memcmp(a->private_key, b->private_key, AWG_KEY_LEN) ||
	    a->listen_port != b->listen_port || a->fwmark != b->fwmark ||
	    !obfs_equal(&a->obfs, &b->obfs) || memcmp(&a->timing, &b->timing, sizeof(a->timing)) ||
	    a->n_addresses != b->n_addresses || a->n_dns_servers != b->n_dns_servers ||
	    a->mtu != b->mtu || a->table != b->table || a->table_number != b->table_number ||
	    a->save_config != b->save_config || a->n_peers != b->n_peers ||
	    a->kill_switch != b->kill_switch || a->allow_lan != b->allow_lan)
		return false;
	for (unsigned i = 0; i < AWG_ISPEC_SLOTS; i++) {
		if (!a->ispec[i] != !b->ispec[i] || (a->ispec[i] && strcmp(a->ispec[i], b->ispec[i])))
			return false;
	}
	for (size_t i = 0; i < a->n_addresses; i++) {
		if (!awg_cidr_equal(&a->addresses[i], &b->addresses[i]))
			return false;
	}
	if ((a->n_dns_servers &&
	     memcmp(a->dns_servers, b->dns_servers, a->n_dns_servers * sizeof(*a->dns_servers))) ||
	    !strlist_equal(&a->dns_search, &b->dns_search) || !strlist_equal(&a->pre_up, &b->pre_up) ||
	    !strlist_equal(&a->post_up, &b->post_up) || !strlist_equal(&a->pre_down, &b->pre_down) ||
	    !strlist_equal(&a->post_down, &b->post_down))
		return false;
	for (size_t i = 0; i < a->n_peers; i++) {
		if (!peer_equal(&a->peers[i], &b->peers[i]))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* The parser */

enum section {
	SECTION_NONE,
	SECTION_INTERFACE,
	SECTION_PEER,
};

struct parser;

enum key_flags {
	K_IFACE = 1u << 0,	/* belongs to [Interface] */
	K_PEER = 1u << 1,	/* belongs to [Peer] */
	K_QUICK = 1u << 2,	/* awg-quick key: not for the tools dialect */
	K_NOWIN = 1u << 3,	/* rejected by the Windows dialect */
	K_VERBATIM = 1u << 4,	/* keep inner whitespace */
	K_EMPTY_OK = 1u << 5,	/* an empty value clears the setting */
	K_AWG15 = 1u << 6,	/* AWG 1.5-only key, removed in 2.0 */
};

struct key_desc {
	const char *name;	/* canonical spelling, used in messages */
	unsigned flags;		/* enum key_flags */
	int (*fn)(struct parser *p, const struct key_desc *k);
	unsigned arg;		/* handler-specific: slot number or field selector */
};

struct parser {
	struct awg_conf *c;
	enum awg_conf_dialect dialect;
	struct awg_parse_error *err;
	unsigned line;
	enum section section;
	unsigned interface_line;	/* 0 until [Interface] is seen */
	unsigned peer_line;		/* line of the current [Peer] header */
	bool peer_has_key;
	/* The value being parsed: trimmed raw text, its column, and the text handed to handlers. */
	const char *raw;
	size_t raw_len;
	unsigned raw_col;
	bool compacted;
	char *val;			/* NUL-terminated scratch copy */
	size_t len;
};

/* Column of byte off of p->val, mapped back through the whitespace removal. */
static unsigned value_column(const struct parser *p, size_t off)
{
	size_t i, seen = 0;

	if (!p->compacted)
		return p->raw_col + (unsigned)off;
	for (i = 0; i < p->raw_len; i++) {
		if (awg_char_is_space((unsigned char)p->raw[i]))
			continue;
		if (seen++ == off)
			break;
	}
	return p->raw_col + (unsigned)i;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, unsigned column, const char *fmt, ...)
{
	va_list ap;

	if (!p->err)
		return -EINVAL;
	p->err->line = p->line;
	p->err->column = column;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Quotes s[0..len) as `...', cut at QUOTE_MAX bytes. */
#define QUOTE_FMT "`%.*s%s'"
#define QUOTE_ARGS(s, len) (int)((len) > QUOTE_MAX ? QUOTE_MAX : (len)), (s), \
			   (len) > QUOTE_MAX ? "..." : ""

/* "invalid <what> for <Key>: `text'" about val[off..off+n). */
static int bad_value(struct parser *p, const struct key_desc *k, size_t off, size_t n,
		     const char *what)
{
	return fail(p, value_column(p, off), "invalid %s for %s: " QUOTE_FMT, what, k->name,
		    QUOTE_ARGS(p->val + off, n));
}

/* Never echoes the text: it may be a secret key or a typo of one. */
static int bad_secret(struct parser *p, const struct key_desc *k)
{
	return fail(p, p->raw_col, "invalid base64 key for %s (want 44 characters of base64)",
		    k->name);
}

static int parse_secret(struct parser *p, const struct key_desc *k, uint8_t key[AWG_KEY_LEN])
{
	return awg_parse_key_base64(key, p->val, p->len) < 0 ? bad_secret(p, k) : 0;
}

static struct awg_conf_peer *cur_peer(struct parser *p)
{
	return &p->c->peers[p->c->n_peers - 1];
}

static enum awg_bool_dialect bool_dialect(const struct parser *p)
{
	return p->dialect == AWG_CONF_DIALECT_TOOLS ? AWG_BOOL_TOOLS : AWG_BOOL_LENIENT;
}

static int h_private_key(struct parser *p, const struct key_desc *k)
{
	int ret = parse_secret(p, k, p->c->private_key);

	if (!ret)
		p->c->has |= AWG_CONF_HAS_PRIVATE_KEY;
	return ret;
}

static int h_listen_port(struct parser *p, const struct key_desc *k)
{
	if (awg_parse_port(p->val, p->len, &p->c->listen_port) < 0)
		return bad_value(p, k, 0, p->len, "port");
	p->c->has |= AWG_CONF_HAS_LISTEN_PORT;
	return 0;
}

static int h_fwmark(struct parser *p, const struct key_desc *k)
{
	if (awg_parse_fwmark(p->val, p->len, &p->c->fwmark) < 0)
		return bad_value(p, k, 0, p->len, "fwmark");
	p->c->has |= AWG_CONF_HAS_FWMARK;
	return 0;
}

/* arg: 0 = Jc, 1 = Jmin, 2 = Jmax. The tools store these as 16 bits. */
static int h_junk(struct parser *p, const struct key_desc *k)
{
	uint32_t *field[] = { &p->c->obfs.jc, &p->c->obfs.jmin, &p->c->obfs.jmax };

	if (awg_parse_u32(p->val, p->len, UINT16_MAX, field[k->arg]) < 0)
		return bad_value(p, k, 0, p->len, "number (0-65535)");
	p->c->has |= AWG_CONF_HAS_JC << k->arg;
	return 0;
}

static int h_prefix(struct parser *p, const struct key_desc *k)
{
	uint32_t v;

	if (awg_parse_u32(p->val, p->len, UINT16_MAX, &v) < 0)
		return bad_value(p, k, 0, p->len, "number (0-65535)");
	p->c->obfs.s[k->arg] = (uint16_t)v;
	p->c->has |= AWG_CONF_HAS_S1 << k->arg;
	return 0;
}

static int h_header(struct parser *p, const struct key_desc *k)
{
	if (awg_parse_range(p->val, p->len, UINT32_MAX, &p->c->obfs.h[k->arg]) < 0)
		return bad_value(p, k, 0, p->len, "range (N or LO-HI, 32-bit)");
	p->c->has |= AWG_CONF_HAS_H1 << k->arg;
	return 0;
}

static int h_ispec(struct parser *p, const struct key_desc *k)
{
	struct awg_parse_error ierr = { 0 };
	struct awg_ispec *spec = NULL;

	if (p->len > AWG_CONF_ISPEC_MAX)
		return fail(p, p->raw_col, "%s is too long (%zu bytes, at most %d)", k->name,
			    p->len, AWG_CONF_ISPEC_MAX);
	if (awg_ispec_parse(p->val, p->len, &spec, &ierr) < 0)
		return fail(p, p->raw_col + (ierr.column ? ierr.column - 1 : 0),
			    "invalid tag spec for %s: %s", k->name, ierr.msg);
	/* A spec without any tag clears the slot, as amneziawg-go does. */
	if (!spec)
		return awg_conf_set_ispec(p->c, k->arg, NULL, 0);
	awg_ispec_free(spec);
	return awg_conf_set_ispec(p->c, k->arg, p->val, p->len);
}

static int h_hp_key(struct parser *p, const struct key_desc *k)
{
	int ret = parse_secret(p, k, p->c->obfs.hp_key);

	if (ret)
		return ret;
	p->c->obfs.hp_on = !awg_is_zero(p->c->obfs.hp_key, AWG_KEY_LEN);
	p->c->has |= AWG_CONF_HAS_HP_KEY;
	return 0;
}

struct awg_range *awg_conf_range(struct awg_conf *c, unsigned arg)
{
	struct awg_range *f[AWG_CONF_RANGES] = {
		&c->obfs.content_padding, &c->timing.rekey_after_time, &c->timing.rekey_timeout,
		&c->timing.reject_after_time, &c->timing.keepalive_timeout,
		&c->timing.max_handshake_attempts,
	};

	return f[arg];
}

static int h_range(struct parser *p, const struct key_desc *k)
{
	uint64_t bit = AWG_CONF_HAS_CONTENT_PADDING << k->arg;
	/* Padding goes into one datagram, so it is bounded as the group validator wants. */
	uint32_t max = k->arg ? UINT32_MAX : UINT16_MAX;

	if (!p->len) {
		*awg_conf_range(p->c, k->arg) = (struct awg_range){ 0 };
		p->c->has &= ~bit;
		return 0;
	}
	if (awg_parse_range(p->val, p->len, max, awg_conf_range(p->c, k->arg)) < 0)
		return bad_value(p, k, 0, p->len, "range (N or LO-HI)");
	p->c->has |= bit;
	return 0;
}

/* arg: 0 = RandomTrailers, 1 = DisableCookies. */
static int h_obfs_bool(struct parser *p, const struct key_desc *k)
{
	bool *field = k->arg ? &p->c->obfs.disable_cookies : &p->c->obfs.random_trailers;
	uint64_t bit = AWG_CONF_HAS_RANDOM_TRAILERS << k->arg;

	if (!p->len) {
		*field = false;
		p->c->has &= ~bit;
		return 0;
	}
	if (awg_parse_bool(p->val, p->len, bool_dialect(p), field) < 0)
		return bad_value(p, k, 0, p->len, "boolean");
	p->c->has |= bit;
	return 0;
}

/* Calls fn on every non-empty comma-separated item of the value. */
static int for_each_item(struct parser *p, const struct key_desc *k,
			 int (*fn)(struct parser *, const struct key_desc *, size_t, size_t))
{
	size_t start = 0;

	while (start <= p->len) {
		const char *comma = memchr(p->val + start, ',', p->len - start);
		size_t end = comma ? (size_t)(comma - p->val) : p->len;
		int ret;

		/* Empty items (a trailing comma) are skipped, as the tools do. */
		if (end > start) {
			ret = fn(p, k, start, end - start);
			if (ret)
				return ret;
		}
		start = end + 1;
	}
	return 0;
}

static int address_item(struct parser *p, const struct key_desc *k, size_t off, size_t n)
{
	struct awg_conf *c = p->c;
	struct awg_cidr a, *v;

	if (awg_parse_cidr(p->val + off, n, false, &a) < 0)
		return bad_value(p, k, off, n, "address");
	v = realloc(c->addresses, (c->n_addresses + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[c->n_addresses++] = a;
	c->addresses = v;
	return 0;
}

static int h_address(struct parser *p, const struct key_desc *k)
{
	return for_each_item(p, k, address_item);
}

/* DNS items that are IP addresses are resolvers; anything else is a search domain. */
static int dns_item(struct parser *p, const struct key_desc *k, size_t off, size_t n)
{
	struct awg_conf *c = p->c;
	struct awg_ipaddr ip = { 0 };
	struct awg_ipaddr *v;

	(void)k;
	if (awg_parse_ipaddr(p->val + off, n, &ip) < 0)
		return strlist_add(&c->dns_search, p->val + off, n);
	v = realloc(c->dns_servers, (c->n_dns_servers + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[c->n_dns_servers++] = ip;
	c->dns_servers = v;
	return 0;
}

static int h_dns(struct parser *p, const struct key_desc *k)
{
	return for_each_item(p, k, dns_item);
}

static int h_mtu(struct parser *p, const struct key_desc *k)
{
	uint32_t v;

	if (awg_parse_u32(p->val, p->len, UINT16_MAX, &v) < 0 || v < 576)
		return bad_value(p, k, 0, p->len, "MTU (576-65535)");
	p->c->mtu = (uint16_t)v;
	p->c->has |= AWG_CONF_HAS_MTU;
	return 0;
}

static int h_table(struct parser *p, const struct key_desc *k)
{
	struct awg_conf *c = p->c;

	if (awg_word_eq(p->val, p->len, "auto"))
		c->table = AWG_TABLE_AUTO;
	else if (awg_word_eq(p->val, p->len, "off"))
		c->table = AWG_TABLE_OFF;
	else if (awg_word_eq(p->val, p->len, "main"))
		c->table = AWG_TABLE_MAIN;
	else if (awg_parse_u32(p->val, p->len, UINT32_MAX, &c->table_number) == 0)
		c->table = AWG_TABLE_NUMBER;
	else
		return bad_value(p, k, 0, p->len, "table (auto, off, main or a number)");
	if (c->table != AWG_TABLE_NUMBER)
		c->table_number = 0;
	c->has |= AWG_CONF_HAS_TABLE;
	return 0;
}

static struct awg_strlist *script_list(struct awg_conf *c, unsigned arg)
{
	struct awg_strlist *l[] = { &c->pre_up, &c->post_up, &c->pre_down, &c->post_down };

	return l[arg];
}

static int h_script(struct parser *p, const struct key_desc *k)
{
	return strlist_add(script_list(p->c, k->arg), p->val, p->len);
}

static int h_save_config(struct parser *p, const struct key_desc *k)
{
	if (awg_parse_bool(p->val, p->len, AWG_BOOL_LENIENT, &p->c->save_config) < 0)
		return bad_value(p, k, 0, p->len, "boolean");
	p->c->has |= AWG_CONF_HAS_SAVE_CONFIG;
	return 0;
}

static int h_kill_switch(struct parser *p, const struct key_desc *k)
{
	static const char *const words[] = { "auto", "off", "on", "persistent" };

	for (unsigned i = 0; i < 4; i++)
		if (awg_word_eq(p->val, p->len, words[i])) {
			p->c->kill_switch = (enum awg_kill_switch)i;
			p->c->has |= AWG_CONF_HAS_KILL_SWITCH;
			return 0;
		}
	return bad_value(p, k, 0, p->len, "auto, off, on or persistent");
}

static int h_allow_lan(struct parser *p, const struct key_desc *k)
{
	if (awg_parse_bool(p->val, p->len, AWG_BOOL_LENIENT, &p->c->allow_lan) < 0)
		return bad_value(p, k, 0, p->len, "boolean");
	p->c->has |= AWG_CONF_HAS_ALLOW_LAN;
	return 0;
}

static int h_public_key(struct parser *p, const struct key_desc *k)
{
	/* Public keys are not secret, so the message may quote them. */
	if (awg_parse_key_base64(cur_peer(p)->public_key, p->val, p->len) < 0)
		return bad_value(p, k, 0, p->len, "base64 key");
	p->peer_has_key = true;
	return 0;
}

static int h_preshared_key(struct parser *p, const struct key_desc *k)
{
	struct awg_conf_peer *peer = cur_peer(p);
	int ret = parse_secret(p, k, peer->preshared_key);

	if (!ret)
		peer->flags |= AWG_PEER_HAS_PRESHARED_KEY;
	return ret;
}

static int h_endpoint(struct parser *p, const struct key_desc *k)
{
	struct awg_conf_peer *peer = cur_peer(p);

	if (awg_parse_endpoint(p->val, p->len, false, &peer->endpoint) < 0)
		return bad_value(p, k, 0, p->len, "endpoint (host:port or [v6]:port)");
	peer->flags |= AWG_PEER_HAS_ENDPOINT;
	return 0;
}

static int allowed_ip_item(struct parser *p, const struct key_desc *k, size_t off, size_t n)
{
	struct awg_cidr a;

	if (awg_parse_cidr(p->val + off, n, false, &a) < 0)
		return bad_value(p, k, off, n, "allowed IP");
	return awg_conf_peer_add_allowed_ip(cur_peer(p), &a);
}

static int h_allowed_ips(struct parser *p, const struct key_desc *k)
{
	/* An empty AllowedIPs clears the list (tools behaviour). */
	if (!p->len) {
		cur_peer(p)->n_allowed_ips = 0;
		return 0;
	}
	return for_each_item(p, k, allowed_ip_item);
}

static int h_keepalive(struct parser *p, const struct key_desc *k)
{
	struct awg_conf_peer *peer = cur_peer(p);

	/* "off" is accepted although the 3.x tools dropped it (spec §10 item 15). */
	if (awg_word_eq(p->val, p->len, "off"))
		peer->keepalive = (struct awg_range){ 0 };
	else if (awg_parse_range(p->val, p->len, UINT16_MAX, &peer->keepalive) < 0)
		return bad_value(p, k, 0, p->len, "keepalive (off, N or LO-HI, 0-65535)");
	peer->flags |= AWG_PEER_HAS_KEEPALIVE;
	return 0;
}

static int h_advanced_security(struct parser *p, const struct key_desc *k)
{
	struct awg_conf_peer *peer = cur_peer(p);

	if (awg_parse_bool(p->val, p->len, bool_dialect(p), &peer->advanced_security) < 0)
		return bad_value(p, k, 0, p->len, "boolean");
	peer->flags |= AWG_PEER_HAS_ADVANCED_SECURITY;
	return 0;
}

static int h_awg15(struct parser *p, const struct key_desc *k)
{
	(void)p;
	(void)k;
	return -EINVAL;	/* never reached: K_AWG15 keys are refused before dispatch */
}

#define IFACE(name, fn, arg) { name, K_IFACE, fn, arg }
static const struct key_desc keys[] = {
	IFACE("PrivateKey", h_private_key, 0),
	IFACE("ListenPort", h_listen_port, 0),
	{ "FwMark", K_IFACE | K_NOWIN, h_fwmark, 0 },
	IFACE("Jc", h_junk, 0),
	IFACE("Jmin", h_junk, 1),
	IFACE("Jmax", h_junk, 2),
	IFACE("S1", h_prefix, 0),
	IFACE("S2", h_prefix, 1),
	IFACE("S3", h_prefix, 2),
	IFACE("S4", h_prefix, 3),
	IFACE("H1", h_header, 0),
	IFACE("H2", h_header, 1),
	IFACE("H3", h_header, 2),
	IFACE("H4", h_header, 3),
	{ "I1", K_IFACE | K_VERBATIM | K_EMPTY_OK, h_ispec, 0 },
	{ "I2", K_IFACE | K_VERBATIM | K_EMPTY_OK, h_ispec, 1 },
	{ "I3", K_IFACE | K_VERBATIM | K_EMPTY_OK, h_ispec, 2 },
	{ "I4", K_IFACE | K_VERBATIM | K_EMPTY_OK, h_ispec, 3 },
	{ "I5", K_IFACE | K_VERBATIM | K_EMPTY_OK, h_ispec, 4 },
	IFACE("HeaderProtectionKey", h_hp_key, 0),
	{ "ContentPaddingAddition", K_IFACE | K_EMPTY_OK, h_range, 0 },
	{ "RekeyAfterTime", K_IFACE | K_EMPTY_OK, h_range, 1 },
	{ "RekeyTimeout", K_IFACE | K_EMPTY_OK, h_range, 2 },
	{ "RejectAfterTime", K_IFACE | K_EMPTY_OK, h_range, 3 },
	{ "KeepaliveTimeout", K_IFACE | K_EMPTY_OK, h_range, 4 },
	{ "MaxHandshakeAttempts", K_IFACE | K_EMPTY_OK, h_range, 5 },
	{ "RandomTrailers", K_IFACE | K_EMPTY_OK, h_obfs_bool, 0 },
	{ "DisableCookies", K_IFACE | K_EMPTY_OK, h_obfs_bool, 1 },
	{ "Address", K_IFACE | K_QUICK, h_address, 0 },
	{ "DNS", K_IFACE | K_QUICK, h_dns, 0 },
	{ "MTU", K_IFACE | K_QUICK, h_mtu, 0 },
	{ "Table", K_IFACE | K_QUICK, h_table, 0 },
	{ "PreUp", K_IFACE | K_QUICK | K_VERBATIM, h_script, 0 },
	{ "PostUp", K_IFACE | K_QUICK | K_VERBATIM, h_script, 1 },
	{ "PreDown", K_IFACE | K_QUICK | K_VERBATIM, h_script, 2 },
	{ "PostDown", K_IFACE | K_QUICK | K_VERBATIM, h_script, 3 },
	{ "SaveConfig", K_IFACE | K_QUICK | K_NOWIN, h_save_config, 0 },
	{ "KillSwitch", K_IFACE | K_QUICK, h_kill_switch, 0 },
	{ "AllowLAN", K_IFACE | K_QUICK, h_allow_lan, 0 },
	{ "PublicKey", K_PEER, h_public_key, 0 },
	{ "PresharedKey", K_PEER, h_preshared_key, 0 },
	{ "Endpoint", K_PEER, h_endpoint, 0 },
	{ "AllowedIPs", K_PEER | K_EMPTY_OK, h_allowed_ips, 0 },
	{ "PersistentKeepalive", K_PEER, h_keepalive, 0 },
	{ "AdvancedSecurity", K_PEER | K_NOWIN, h_advanced_security, 0 },
	{ "J1", K_IFACE | K_AWG15, h_awg15, 0 },
	{ "J2", K_IFACE | K_AWG15, h_awg15, 0 },
	{ "J3", K_IFACE | K_AWG15, h_awg15, 0 },
	{ "Itime", K_IFACE | K_AWG15, h_awg15, 0 },
	{ "SpecialHandshake", K_PEER | K_AWG15, h_awg15, 0 },
};
#undef IFACE

static const struct key_desc *find_key(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (awg_word_eq(s, len, keys[i].name))
			return &keys[i];
	}
	return NULL;
}

static const char *section_name(enum section s)
{
	return s == SECTION_PEER ? "[Peer]" : "[Interface]";
}

/* Ends the current section; a [Peer] must have had a PublicKey. */
static int end_section(struct parser *p)
{
	if (p->section == SECTION_PEER && !p->peer_has_key) {
		p->line = p->peer_line;
		return fail(p, 1, "[Peer] section without PublicKey");
	}
	return 0;
}

static int parse_section(struct parser *p, const char *s, size_t len, unsigned col)
{
	char name[32];
	size_t n = 0;
	int ret;

	/* Whitespace is dropped everywhere in a header, as the tools do: "[ Peer ]" is fine. */
	for (size_t i = 0; i < len; i++) {
		if (awg_char_is_space((unsigned char)s[i]))
			continue;
		if (n == sizeof(name))
			goto bad;
		name[n++] = s[i];
	}
	if (n < 2 || name[n - 1] != ']')
		goto bad;
	ret = end_section(p);
	if (ret)
		return ret;
	if (awg_word_eq(name, n, "[Interface]")) {
		if (p->interface_line)
			return fail(p, col, "duplicate [Interface] section (first on line %u)",
				    p->interface_line);
		p->section = SECTION_INTERFACE;
		p->interface_line = p->line;
		return 0;
	}
	if (awg_word_eq(name, n, "[Peer]")) {
		static const uint8_t zero[AWG_KEY_LEN];

		ret = awg_conf_peer_add(p->c, zero, NULL);
		if (ret == -ENOSPC)
			return fail(p, col, "too many peers (at most %d)", AWG_CONF_MAX_PEERS);
		if (ret)
			return ret;
		p->section = SECTION_PEER;
		p->peer_line = p->line;
		p->peer_has_key = false;
		return 0;
	}
bad:
	return fail(p, col, "unknown section " QUOTE_FMT, QUOTE_ARGS(s, len));
}

/* Rejects keys that exist but are not allowed here (section, dialect, AWG version). */
static int check_key(struct parser *p, const struct key_desc *k, unsigned col)
{
	if (k->flags & K_AWG15)
		return fail(p, col, "%s is an AWG 1.5-only key that was removed in AWG 2.0; "
			    "delete it (J1-J3, Itime and SpecialHandshake are not supported)",
			    k->name);
	if (p->section == SECTION_NONE)
		return fail(p, col, "key %s before any [Interface] or [Peer] section", k->name);
	if (!(k->flags & (p->section == SECTION_PEER ? K_PEER : K_IFACE)))
		return fail(p, col, "key %s does not belong in %s", k->name,
			    section_name(p->section));
	if ((k->flags & K_QUICK) && p->dialect == AWG_CONF_DIALECT_TOOLS)
		return fail(p, col, "%s is an awg-quick key, not accepted by awg setconf",
			    k->name);
	if ((k->flags & K_NOWIN) && p->dialect == AWG_CONF_DIALECT_WINDOWS)
		return fail(p, col, "%s is not supported in the Windows dialect", k->name);
	return 0;
}

/* Fills p->val/p->len from the trimmed raw value, removing all whitespace unless verbatim. */
static int load_value(struct parser *p, const struct key_desc *k)
{
	size_t n = 0;

	p->val = malloc(p->raw_len + 1);
	if (!p->val)
		return -ENOMEM;
	p->compacted = !(k->flags & K_VERBATIM);
	for (size_t i = 0; i < p->raw_len; i++) {
		if (p->compacted && awg_char_is_space((unsigned char)p->raw[i]))
			continue;
		p->val[n++] = p->raw[i];
	}
	p->val[n] = '\0';
	p->len = n;
	return 0;
}

static void drop_value(struct parser *p)
{
	if (p->val) {
		awg_wipe(p->val, p->len);
		free(p->val);
	}
	p->val = NULL;
	p->len = 0;
}

static size_t skip_space(const char *s, size_t i, size_t len)
{
	while (i < len && awg_char_is_space((unsigned char)s[i]))
		i++;
	return i;
}

static size_t trim_end(const char *s, size_t start, size_t end)
{
	while (end > start && awg_char_is_space((unsigned char)s[end - 1]))
		end--;
	return end;
}

static int parse_assignment(struct parser *p, const char *s, size_t len, size_t start)
{
	const char *eq = memchr(s + start, '=', len - start);
	const struct key_desc *k;
	size_t kend, vstart;
	int ret;

	/*
	 * Text that is not "key = value" may be a secret typed without its '=' (or a key pasted on
	 * a line of its own, whose base64 padding reads as the '='): quote a key name at most.
	 */
	if (!eq) {
		size_t end = trim_end(s, start, len);
		size_t w = awg_safe_quote_len(s + start, end - start);

		if (!w)
			return fail(p, (unsigned)start + 1, "line unrecognized (not quoted)");
		return fail(p, (unsigned)start + 1, "line unrecognized: `%.*s%s'",
			    (int)(w > QUOTE_MAX ? QUOTE_MAX : w), s + start,
			    start + w < end || w > QUOTE_MAX ? " ..." : "");
	}
	kend = trim_end(s, start, (size_t)(eq - s));
	k = find_key(s + start, kend - start);
	if (!k) {
		size_t w = awg_safe_quote_len(s + start, kend - start);

		if (!w)
			return fail(p, (unsigned)start + 1, "unknown key (not quoted) in %s",
				    p->section == SECTION_NONE ? "no section"
							       : section_name(p->section));
		return fail(p, (unsigned)start + 1, "unknown key `%.*s%s' in %s",
			    (int)(w > QUOTE_MAX ? QUOTE_MAX : w), s + start,
			    start + w < kend || w > QUOTE_MAX ? " ..." : "",
			    p->section == SECTION_NONE ? "no section" : section_name(p->section));
	}
	ret = check_key(p, k, (unsigned)start + 1);
	if (ret)
		return ret;
	vstart = skip_space(s, (size_t)(eq - s) + 1, len);
	p->raw = s + vstart;
	p->raw_len = trim_end(s, vstart, len) - vstart;
	p->raw_col = (unsigned)vstart + 1;
	ret = load_value(p, k);
	if (ret)
		return ret;
	if (!p->len && !(k->flags & K_EMPTY_OK))
		ret = fail(p, p->raw_col, "empty value for %s", k->name);
	else
		ret = k->fn(p, k);
	drop_value(p);
	return ret;
}

static int parse_line(struct parser *p, const char *s, size_t len)
{
	const char *hash = memchr(s, '#', len);
	size_t start;

	if (len && s[len - 1] == '\r')
		len--;
	if (hash)
		len = (size_t)(hash - s);
	/*
	 * Control characters other than tab (NUL, a lone CR, VT, FF, ...) are refused: no key needs
	 * them, and the verbatim I-spec and script values could not be written back.
	 */
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return fail(p, (unsigned)i + 1, "control character 0x%02x in line", ch);
	}
	start = skip_space(s, 0, len);
	if (start == len)
		return 0;
	if (s[start] == '[')
		return parse_section(p, s + start, trim_end(s, start, len) - start,
				     (unsigned)start + 1);
	return parse_assignment(p, s, len, start);
}

/* Runs the group rules of spec §3.4 once the whole [Interface] is known. */
static int validate_group(struct parser *p)
{
	struct awg_parse_error verr = { 0 };

	if (awg_obfs_params_validate(&p->c->obfs, &verr) == 0)
		return 0;
	p->line = p->interface_line;
	return fail(p, p->interface_line ? 1 : 0, "[Interface] parameters conflict: %s", verr.msg);
}

int awg_conf_parse(struct awg_conf *c, const char *text, size_t len, enum awg_conf_dialect dialect,
		   struct awg_parse_error *err)
{
	struct parser p = { .c = c, .dialect = dialect, .err = err };
	size_t pos = 0;
	int ret;

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		p.line++;
		ret = parse_line(&p, text + pos, end - pos);
		if (ret)
			return ret;
		pos = end + 1;
	}
	p.line++;
	ret = end_section(&p);
	if (ret)
		return ret;
	return validate_group(&p);
}

/* ------------------------------------------------------------------------------------------ */
/* The writer */

/* Text values are written verbatim, so they must survive the parser unchanged. */
static bool text_ok(const char *s)
{
	size_t n = strlen(s);

	/* The parser refuses control characters other than tab (see parse_line). */
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return !strchr(s, '#') && n && !awg_char_is_space((unsigned char)s[0]) &&
	       !awg_char_is_space((unsigned char)s[n - 1]);
}

static void put_key(struct awg_buf *b, const char *name, const uint8_t key[AWG_KEY_LEN],
		    bool redact)
{
	char b64[AWG_CRYPTO_KEY_B64_LEN + 1];

	if (redact) {
		awg_buf_printf(b, "%s = (hidden)\n", name);
		return;
	}
	awg_key_to_base64(b64, key);
	awg_buf_printf(b, "%s = %s\n", name, b64);
	awg_wipe(b64, sizeof(b64));
}

static void put_range(struct awg_buf *b, const char *name, struct awg_range r)
{
	char s[AWG_RANGE_STR_MAX];

	awg_format_range(s, r);
	awg_buf_printf(b, "%s = %s\n", name, s);
}

static int put_cidrs(struct awg_buf *b, const char *name, const struct awg_cidr *v, size_t n)
{
	char s[AWG_ADDR_STR_MAX];

	if (!n)
		return 0;
	awg_buf_printf(b, "%s = ", name);
	for (size_t i = 0; i < n; i++) {
		if (awg_format_cidr(s, sizeof(s), &v[i]) < 0)
			return -EINVAL;
		awg_buf_printf(b, "%s%s", i ? ", " : "", s);
	}
	awg_buf_put(b, "\n", 1);
	return 0;
}

static int put_dns(struct awg_buf *b, const struct awg_conf *c)
{
	char s[AWG_ADDR_STR_MAX];
	size_t i;

	if (!c->n_dns_servers && !c->dns_search.n)
		return 0;
	awg_buf_put(b, "DNS = ", 6);
	for (i = 0; i < c->n_dns_servers; i++) {
		if (awg_format_ipaddr(s, sizeof(s), &c->dns_servers[i]) < 0)
			return -EINVAL;
		awg_buf_printf(b, "%s%s", i ? ", " : "", s);
	}
	for (size_t j = 0; j < c->dns_search.n; j++) {
		const char *d = c->dns_search.v[j];
		struct awg_ipaddr ip;

		/* A search domain must not read back as an address, a list or a comment. */
		if (!text_ok(d) || strpbrk(d, ", \t") || !awg_parse_ipaddr(d, strlen(d), &ip))
			return -EINVAL;
		awg_buf_printf(b, "%s%s", i + j ? ", " : "", d);
	}
	awg_buf_put(b, "\n", 1);
	return 0;
}

static const char *const kill_switch_names[] = { "auto", "off", "on", "persistent" };

static int put_quick(struct awg_buf *b, const struct awg_conf *c)
{
	static const char *const script_names[] = { "PreUp", "PostUp", "PreDown", "PostDown" };
	static const char *const table_names[] = { "auto", "off", "main" };

	if (put_cidrs(b, "Address", c->addresses, c->n_addresses) || put_dns(b, c))
		return -EINVAL;
	if (c->has & AWG_CONF_HAS_MTU)
		awg_buf_printf(b, "MTU = %u\n", c->mtu);
	if ((c->has & AWG_CONF_HAS_TABLE) && c->table == AWG_TABLE_NUMBER)
		awg_buf_printf(b, "Table = %u\n", c->table_number);
	else if (c->has & AWG_CONF_HAS_TABLE)
		awg_buf_printf(b, "Table = %s\n", table_names[c->table]);
	for (unsigned i = 0; i < 4; i++) {
		const struct awg_strlist *l = script_list((struct awg_conf *)c, i);

		for (size_t j = 0; j < l->n; j++) {
			if (!text_ok(l->v[j]))
				return -EINVAL;
			awg_buf_printf(b, "%s = %s\n", script_names[i], l->v[j]);
		}
	}
	if (c->has & AWG_CONF_HAS_SAVE_CONFIG)
		awg_buf_printf(b, "SaveConfig = %s\n", c->save_config ? "true" : "false");
	if (c->has & AWG_CONF_HAS_KILL_SWITCH)
		awg_buf_printf(b, "KillSwitch = %s\n", kill_switch_names[c->kill_switch]);
	if (c->has & AWG_CONF_HAS_ALLOW_LAN)
		awg_buf_printf(b, "AllowLAN = %s\n", c->allow_lan ? "true" : "false");
	return 0;
}

enum awg_kill_switch awg_conf_kill_switch(const struct awg_conf *c)
{
	if (c->kill_switch != AWG_KILL_SWITCH_AUTO)
		return c->kill_switch;
	if (c->n_peers != 1 || c->table == AWG_TABLE_OFF)
		return AWG_KILL_SWITCH_OFF;
	for (size_t i = 0; i < c->peers[0].n_allowed_ips; i++)
		if (c->peers[0].allowed_ips[i].cidr == 0)
			return AWG_KILL_SWITCH_ON;
	return AWG_KILL_SWITCH_OFF;
}

static const char *const range_names[] = {
	"ContentPaddingAddition", "RekeyAfterTime", "RekeyTimeout", "RejectAfterTime",
	"KeepaliveTimeout", "MaxHandshakeAttempts",
};

static int put_awg(struct awg_buf *b, const struct awg_conf *c, bool redact)
{
	static const char *const junk_names[] = { "Jc", "Jmin", "Jmax" };
	const uint32_t junk[] = { c->obfs.jc, c->obfs.jmin, c->obfs.jmax };
	char name[4];

	for (unsigned i = 0; i < 3; i++) {
		if (c->has & (AWG_CONF_HAS_JC << i))
			awg_buf_printf(b, "%s = %u\n", junk_names[i], junk[i]);
	}
	for (unsigned i = 0; i < AWG_KIND_COUNT; i++) {
		if (c->has & (AWG_CONF_HAS_S1 << i))
			awg_buf_printf(b, "S%u = %u\n", i + 1, c->obfs.s[i]);
	}
	for (unsigned i = 0; i < AWG_KIND_COUNT; i++) {
		snprintf(name, sizeof(name), "H%u", i + 1);
		if (c->has & (AWG_CONF_HAS_H1 << i))
			put_range(b, name, c->obfs.h[i]);
	}
	for (unsigned i = 0; i < AWG_ISPEC_SLOTS; i++) {
		if (!c->ispec[i])
			continue;
		if (!text_ok(c->ispec[i]))
			return -EINVAL;
		awg_buf_printf(b, "I%u = %s\n", i + 1, c->ispec[i]);
	}
	if (c->has & AWG_CONF_HAS_HP_KEY)
		put_key(b, "HeaderProtectionKey", c->obfs.hp_key, redact);
	for (unsigned i = 0; i < AWG_CONF_RANGES; i++) {
		if (c->has & (AWG_CONF_HAS_CONTENT_PADDING << i))
			put_range(b, range_names[i], *awg_conf_range((struct awg_conf *)c, i));
	}
	if (c->has & AWG_CONF_HAS_RANDOM_TRAILERS)
		awg_buf_printf(b, "RandomTrailers = %s\n", c->obfs.random_trailers ? "on" : "off");
	if (c->has & AWG_CONF_HAS_DISABLE_COOKIES)
		awg_buf_printf(b, "DisableCookies = %s\n", c->obfs.disable_cookies ? "on" : "off");
	return 0;
}

static int put_peer(struct awg_buf *b, const struct awg_conf_peer *peer, bool redact)
{
	char s[AWG_ADDR_STR_MAX];

	awg_buf_put(b, "\n[Peer]\n", 8);
	put_key(b, "PublicKey", peer->public_key, false);
	if (peer->flags & AWG_PEER_HAS_PRESHARED_KEY)
		put_key(b, "PresharedKey", peer->preshared_key, redact);
	if (put_cidrs(b, "AllowedIPs", peer->allowed_ips, peer->n_allowed_ips))
		return -EINVAL;
	if (peer->flags & AWG_PEER_HAS_ENDPOINT) {
		if (awg_format_endpoint(s, sizeof(s), &peer->endpoint) < 0 || !peer->endpoint.host[0])
			return -EINVAL;
		awg_buf_printf(b, "Endpoint = %s\n", s);
	}
	if ((peer->flags & AWG_PEER_HAS_KEEPALIVE) && awg_range_is_zero(peer->keepalive))
		awg_buf_put(b, "PersistentKeepalive = off\n", 26);
	else if (peer->flags & AWG_PEER_HAS_KEEPALIVE)
		put_range(b, "PersistentKeepalive", peer->keepalive);
	if (peer->flags & AWG_PEER_HAS_ADVANCED_SECURITY)
		awg_buf_printf(b, "AdvancedSecurity = %s\n", peer->advanced_security ? "on" : "off");
	return 0;
}

int awg_conf_write(const struct awg_conf *c, char **out, size_t *len, unsigned flags)
{
	bool redact = flags & AWG_CONF_WRITE_REDACT;
	struct awg_buf b = { 0 };
	int ret;

	awg_buf_put(&b, "[Interface]\n", 12);
	if (c->has & AWG_CONF_HAS_PRIVATE_KEY)
		put_key(&b, "PrivateKey", c->private_key, redact);
	if (c->has & AWG_CONF_HAS_LISTEN_PORT)
		awg_buf_printf(&b, "ListenPort = %u\n", c->listen_port);
	if ((c->has & AWG_CONF_HAS_FWMARK) && c->fwmark)
		awg_buf_printf(&b, "FwMark = 0x%x\n", c->fwmark);
	else if (c->has & AWG_CONF_HAS_FWMARK)
		awg_buf_put(&b, "FwMark = off\n", 13);
	ret = (flags & AWG_CONF_WRITE_QUICK) ? put_quick(&b, c) : 0;
	if (!ret)
		ret = put_awg(&b, c, redact);
	for (size_t i = 0; !ret && i < c->n_peers; i++)
		ret = put_peer(&b, &c->peers[i], redact);
	if (ret) {
		awg_buf_discard(&b);
		return ret;
	}
	return awg_buf_finish(&b, out, len);
}
