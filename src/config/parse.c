// SPDX-License-Identifier: MIT
/* Owns the shared value parsers and formatters of the config and UAPI layers (see parse.h). */
#include "parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

bool awg_word_eq(const char *s, size_t len, const char *word)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (!word[i] || awg_char_lower((unsigned char)s[i]) !=
				awg_char_lower((unsigned char)word[i]))
			return false;
	}
	return word[i] == '\0';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool safe_word_char(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == '-';
}

size_t awg_safe_quote_len(const char *s, size_t len)
{
	size_t i = 0, safe = 0;

	while (i < len) {
		size_t start = i;

		while (i < len && !awg_char_is_space((unsigned char)s[i])) {
			if (i - start == AWG_SAFE_WORD_MAX || !safe_word_char((unsigned char)s[i]))
				return safe;
			i++;
		}
		safe = i;
		while (i < len && awg_char_is_space((unsigned char)s[i]))
			i++;
	}
	return safe;
}

static int hex_digit(int c)
{
	if (is_digit(c))
		return c - '0';
	c = awg_char_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int awg_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (!len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (!is_digit((unsigned char)s[i]))
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int awg_parse_u32(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (awg_parse_u64(s, len, &v) < 0 || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int awg_parse_range(const char *s, size_t len, uint32_t max, struct awg_range *out)
{
	const char *dash = memchr(s, '-', len);
	struct awg_range r;

	if (!dash) {
		if (awg_parse_u32(s, len, max, &r.lo) < 0)
			return -EINVAL;
		r.hi = r.lo;
	} else {
		size_t lo_len = (size_t)(dash - s);

		if (awg_parse_u32(s, lo_len, max, &r.lo) < 0 ||
		    awg_parse_u32(dash + 1, len - lo_len - 1, max, &r.hi) < 0 || r.lo > r.hi)
			return -EINVAL;
	}
	*out = r;
	return 0;
}

static int parse_bool_uapi(const char *s, size_t len, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strlen(yes[i]) == len && !memcmp(s, yes[i], len)) {
			*out = true;
			return 0;
		}
		if (strlen(no[i]) == len && !memcmp(s, no[i], len)) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int awg_parse_bool(const char *s, size_t len, enum awg_bool_dialect d, bool *out)
{
	uint64_t n;

	if (d == AWG_BOOL_UAPI)
		return parse_bool_uapi(s, len, out);
	if (awg_word_eq(s, len, "on") || (d == AWG_BOOL_LENIENT && (awg_word_eq(s, len, "true") ||
								     awg_word_eq(s, len, "yes")))) {
		*out = true;
		return 0;
	}
	if (awg_word_eq(s, len, "off") || (d == AWG_BOOL_LENIENT && (awg_word_eq(s, len, "false") ||
								      awg_word_eq(s, len, "no")))) {
		*out = false;
		return 0;
	}
	/* The tools take any decimal integer, non-zero meaning on. */
	if (awg_parse_u64(s, len, &n) < 0)
		return -EINVAL;
	*out = n != 0;
	return 0;
}

int awg_parse_port(const char *s, size_t len, uint16_t *out)
{
	uint32_t v;

	if (awg_parse_u32(s, len, UINT16_MAX, &v) < 0)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int awg_parse_fwmark(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;

	if (awg_word_eq(s, len, "off")) {
		*out = 0;
		return 0;
	}
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (size_t i = 2; i < len; i++) {
			int d = hex_digit((unsigned char)s[i]);

			if (d < 0 || v > UINT32_MAX >> 4)
				return -EINVAL;
			v = v << 4 | (uint32_t)d;
		}
		*out = v;
		return 0;
	}
	return awg_parse_u32(s, len, UINT32_MAX, out);
}

int awg_parse_key_base64(uint8_t key[AWG_KEY_LEN], const char *s, size_t len)
{
	if (len != AWG_CRYPTO_KEY_B64_LEN || !awg_key_from_base64(key, s, len)) {
		awg_wipe(key, AWG_KEY_LEN);
		return -EINVAL;
	}
	return 0;
}

int awg_parse_key_hex(uint8_t key[AWG_KEY_LEN], const char *s, size_t len)
{
	if (len != AWG_CRYPTO_KEY_HEX_LEN || !awg_key_from_hex(key, s, len)) {
		awg_wipe(key, AWG_KEY_LEN);
		return -EINVAL;
	}
	return 0;
}

int awg_parse_ipaddr(const char *s, size_t len, struct awg_ipaddr *out)
{
	char buf[64];
	struct awg_ipaddr ip = { 0 };

	/* inet_pton wants a C string; anything this long is no address. */
	if (!len || len >= sizeof(buf) || memchr(s, '\0', len))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, ip.addr) == 1)
		ip.family = AWG_FAMILY_INET;
	else if (inet_pton(AF_INET6, buf, ip.addr) == 1)
		ip.family = AWG_FAMILY_INET6;
	else
		return -EINVAL;
	*out = ip;
	return 0;
}

int awg_parse_cidr(const char *s, size_t len, bool cidr_required, struct awg_cidr *out)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	struct awg_ipaddr ip;
	uint32_t max, cidr;

	if (awg_parse_ipaddr(s, alen, &ip) < 0)
		return -EINVAL;
	max = ip.family == AWG_FAMILY_INET ? 32 : 128;
	if (slash) {
		if (awg_parse_u32(slash + 1, len - alen - 1, max, &cidr) < 0)
			return -EINVAL;
	} else if (cidr_required) {
		return -EINVAL;
	} else {
		cidr = max;
	}
	out->family = ip.family;
	out->cidr = (uint8_t)cidr;
	memcpy(out->addr, ip.addr, sizeof(out->addr));
	return 0;
}

void awg_cidr_mask(struct awg_cidr *c)
{
	unsigned bits = c->cidr;

	for (unsigned i = 0; i < sizeof(c->addr); i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		c->addr[i] &= (uint8_t)(0xff00u >> bits);
		bits = 0;
	}
}

bool awg_cidr_equal(const struct awg_cidr *a, const struct awg_cidr *b)
{
	return a->family == b->family && a->cidr == b->cidr && !memcmp(a->addr, b->addr, 16);
}

static bool is_host_char(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
	       c == '-' || c == '_';
}

int awg_parse_endpoint(const char *s, size_t len, bool numeric_only, struct awg_endpoint *out)
{
	const char *colon, *host = s;
	size_t hlen;
	struct awg_endpoint ep = { 0 };

	if (len && s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close || close + 1 == s + len || close[1] != ':')
			return -EINVAL;
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
		if (awg_parse_ipaddr(host, hlen, &ep.ip) < 0 || ep.ip.family != AWG_FAMILY_INET6)
			return -EINVAL;
	} else {
		colon = memchr(s, ':', len);
		/* An IPv6 literal must be bracketed: a second ':' means it was not. */
		if (!colon || memchr(colon + 1, ':', len - (size_t)(colon - s) - 1))
			return -EINVAL;
		hlen = (size_t)(colon - s);
		if (!hlen || hlen >= AWG_HOST_MAX)
			return -EINVAL;
		if (awg_parse_ipaddr(host, hlen, &ep.ip) < 0) {
			if (numeric_only)
				return -EINVAL;
			for (size_t i = 0; i < hlen; i++) {
				if (!is_host_char((unsigned char)host[i]))
					return -EINVAL;
			}
			memcpy(ep.host, host, hlen);
		}
	}
	if (awg_parse_port(colon + 1, len - (size_t)(colon + 1 - s), &ep.port) < 0)
		return -EINVAL;
	/* Numeric hosts are kept in canonical form so every writer prints the same text. */
	if (ep.ip.family && awg_format_ipaddr(ep.host, sizeof(ep.host), &ep.ip) < 0)
		return -EINVAL;
	*out = ep;
	return 0;
}

size_t awg_format_range(char buf[AWG_RANGE_STR_MAX], struct awg_range r)
{
	int n;

	if (r.lo == r.hi)
		n = snprintf(buf, AWG_RANGE_STR_MAX, "%u", r.lo);
	else
		n = snprintf(buf, AWG_RANGE_STR_MAX, "%u-%u", r.lo, r.hi);
	return n < 0 ? 0 : (size_t)n;
}

int awg_format_ipaddr(char *buf, size_t cap, const struct awg_ipaddr *ip)
{
	int af = ip->family == AWG_FAMILY_INET ? AF_INET : AF_INET6;

	if (ip->family != AWG_FAMILY_INET && ip->family != AWG_FAMILY_INET6)
		return -EINVAL;
	if (!inet_ntop(af, ip->addr, buf, (socklen_t)cap))
		return -EINVAL;
	return 0;
}

int awg_format_cidr(char *buf, size_t cap, const struct awg_cidr *c)
{
	struct awg_ipaddr ip = { .family = c->family };
	size_t n;

	memcpy(ip.addr, c->addr, sizeof(ip.addr));
	if (awg_format_ipaddr(buf, cap, &ip) < 0)
		return -EINVAL;
	n = strlen(buf);
	if ((size_t)snprintf(buf + n, cap - n, "/%u", c->cidr) >= cap - n)
		return -EINVAL;
	return 0;
}

int awg_format_endpoint(char *buf, size_t cap, const struct awg_endpoint *ep)
{
	char host[AWG_HOST_MAX];
	const char *h = ep->host;
	int n;

	if (ep->ip.family) {
		if (awg_format_ipaddr(host, sizeof(host), &ep->ip) < 0)
			return -EINVAL;
		h = host;
	}
	if (strchr(h, ':'))
		n = snprintf(buf, cap, "[%s]:%u", h, ep->port);
	else
		n = snprintf(buf, cap, "%s:%u", h, ep->port);
	return n < 0 || (size_t)n >= cap ? -EINVAL : 0;
}

static bool buf_reserve(struct awg_buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->err)
		return false;
	if (more < b->cap - b->len)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len <= more) {
		if (cap > SIZE_MAX / 2)
			goto nomem;
		cap *= 2;
	}
	p = malloc(cap);
	if (!p)
		goto nomem;
	if (b->p) {
		memcpy(p, b->p, b->len);
		awg_wipe(b->p, b->cap);
		free(b->p);
	}
	b->p = p;
	b->cap = cap;
	return true;
nomem:
	b->err = -ENOMEM;
	return false;
}

void awg_buf_put(struct awg_buf *b, const char *s, size_t len)
{
	if (!buf_reserve(b, len))
		return;
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void awg_buf_printf(struct awg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

int awg_buf_finish(struct awg_buf *b, char **out, size_t *len)
{
	if (!buf_reserve(b, 0)) {
		int ret = b->err;

		awg_buf_discard(b);
		return ret;
	}
	b->p[b->len] = '\0';
	*out = b->p;
	if (len)
		*len = b->len;
	*b = (struct awg_buf){ 0 };
	return 0;
}

void awg_buf_discard(struct awg_buf *b)
{
	if (b->p) {
		awg_wipe(b->p, b->cap);
		free(b->p);
	}
	*b = (struct awg_buf){ 0 };
}
