/* SPDX-License-Identifier: MIT */
/*
 * Value parsers and formatters shared by the config-file and UAPI parsers: strict decimal
 * numbers, ranges, booleans per dialect, keys, ports, fwmarks, endpoints and CIDR prefixes.
 *
 * Every parser takes a (pointer, length) pair that need not be NUL-terminated, accepts the
 * whole span or nothing, and returns 0 or -EINVAL. None of them trims whitespace: callers decide.
 */
#ifndef _AWG_CONFIG_PARSE_H
#define _AWG_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "params.h"

/* Longest host name we keep for an endpoint (DNS limit 253) plus NUL. */
#define AWG_HOST_MAX 256
/* Buffer size for awg_format_range: "4294967295-4294967295" + NUL. */
#define AWG_RANGE_STR_MAX 24
/* Buffer size for awg_format_cidr / awg_format_endpoint. */
#define AWG_ADDR_STR_MAX (AWG_HOST_MAX + 16)

/*
 * An address family tag. The values are the core's (AWG_AF_INET/AWG_AF_INET6, equal to Linux
 * AF_INET/AF_INET6), so a parsed address goes to the device and the sockets unconverted.
 */
enum awg_family {
	AWG_FAMILY_NONE = 0,	/* not numeric (a host name) */
	AWG_FAMILY_INET = AWG_AF_INET,
	AWG_FAMILY_INET6 = AWG_AF_INET6,
};

/* A numeric IP address. IPv4 uses the first 4 bytes of addr; the rest stays zero. */
struct awg_ipaddr {
	uint8_t family;		/* enum awg_family */
	uint8_t addr[16];
};

/* An IP prefix (AllowedIPs, Address). */
struct awg_cidr {
	uint8_t family;		/* AWG_FAMILY_INET or AWG_FAMILY_INET6 */
	uint8_t cidr;		/* 0..32 or 0..128 */
	uint8_t addr[16];
};

/* host:port. family/addr are filled when the host is a numeric address. */
struct awg_endpoint {
	char host[AWG_HOST_MAX];	/* without the [] of an IPv6 literal */
	uint16_t port;
	struct awg_ipaddr ip;
};

/* Which spellings a boolean may take. */
enum awg_bool_dialect {
	/* awg setconf (amneziawg-tools config.c): on/off in any case, or a decimal integer. */
	AWG_BOOL_TOOLS,
	/* Lenient file dialect: the tools set plus true/false and yes/no, any case. */
	AWG_BOOL_LENIENT,
	/* UAPI (Go strconv.ParseBool): 1 t T TRUE true True 0 f F FALSE false False. */
	AWG_BOOL_UAPI,
};

/* Strict unsigned decimal: one or more digits, nothing else, value <= max. */
int awg_parse_u32(const char *s, size_t len, uint32_t max, uint32_t *out);
int awg_parse_u64(const char *s, size_t len, uint64_t *out);
/* "N" (= N-N) or "LO-HI" with LO <= HI <= max. */
int awg_parse_range(const char *s, size_t len, uint32_t max, struct awg_range *out);
int awg_parse_bool(const char *s, size_t len, enum awg_bool_dialect d, bool *out);
/* 0..65535, decimal. */
int awg_parse_port(const char *s, size_t len, uint16_t *out);
/* Decimal, 0x hex (32-bit), or "off" (any case, = 0). */
int awg_parse_fwmark(const char *s, size_t len, uint32_t *out);
/* Exactly 44 chars of canonical padded base64; out is wiped on failure. */
int awg_parse_key_base64(uint8_t key[AWG_KEY_LEN], const char *s, size_t len);
/* Exactly 64 hex digits, either case; out is wiped on failure. */
int awg_parse_key_hex(uint8_t key[AWG_KEY_LEN], const char *s, size_t len);
/* A numeric IPv4 or IPv6 address (no brackets, no zone). */
int awg_parse_ipaddr(const char *s, size_t len, struct awg_ipaddr *out);
/*
 * "addr/cidr" or, unless cidr_required, a bare "addr" (full-length prefix). The address is kept
 * as written (host bits are not cleared); see awg_cidr_mask.
 */
int awg_parse_cidr(const char *s, size_t len, bool cidr_required, struct awg_cidr *out);
/*
 * "host:port" or "[v6]:port". With numeric_only, the host must be an IP address (UAPI);
 * otherwise a host name of letters, digits, '.', '-' and '_' is kept for later resolution.
 */
int awg_parse_endpoint(const char *s, size_t len, bool numeric_only, struct awg_endpoint *out);

/* Clears the host bits of a prefix. */
void awg_cidr_mask(struct awg_cidr *c);
bool awg_cidr_equal(const struct awg_cidr *a, const struct awg_cidr *b);

/* "N" when lo == hi, else "LO-HI". Returns the length written. */
size_t awg_format_range(char buf[AWG_RANGE_STR_MAX], struct awg_range r);
/* Canonical text (inet_ntop) of a numeric address. Returns 0 or -EINVAL. */
int awg_format_ipaddr(char *buf, size_t cap, const struct awg_ipaddr *ip);
int awg_format_cidr(char *buf, size_t cap, const struct awg_cidr *c);
/* host:port, brackets around hosts that contain ':'; numeric hosts use canonical text. */
int awg_format_endpoint(char *buf, size_t cap, const struct awg_endpoint *ep);

/*
 * A growable text buffer for the writers. Growing copies and wipes the old block, because the
 * text may hold keys. Errors are sticky: check awg_buf_finish only.
 */
struct awg_buf {
	char *p;
	size_t len;
	size_t cap;
	int err;		/* 0 or -ENOMEM */
};

void awg_buf_put(struct awg_buf *b, const char *s, size_t len);
__attribute__((format(printf, 2, 3)))
void awg_buf_printf(struct awg_buf *b, const char *fmt, ...);
/* On success hands the NUL-terminated text to *out and *len and returns 0; else wipes and fails. */
int awg_buf_finish(struct awg_buf *b, char **out, size_t *len);
/* Wipes and frees the buffer. */
void awg_buf_discard(struct awg_buf *b);

/* ASCII-only helpers that ignore the locale. */
static inline bool awg_char_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static inline int awg_char_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Case-insensitive comparison of s[0..len) with the NUL-terminated word. */
bool awg_word_eq(const char *s, size_t len, const char *word);

/* Longest word awg_safe_quote_len lets through (key names are at most 24 characters). */
#define AWG_SAFE_WORD_MAX 32

/*
 * For error messages about text that failed to parse as "key = value": the length of the
 * longest prefix of s[0..len) made of whole words (separated by whitespace) that look like key
 * names: 1..AWG_SAFE_WORD_MAX letters, digits, '_' or '-' each. Trailing whitespace of the prefix
 * is not counted; 0 when the first word does not qualify. A key (44 base64 or 64 hex characters)
 * never qualifies, so quoting only this much cannot leak a secret typed without its '='.
 */
size_t awg_safe_quote_len(const char *s, size_t len);

#endif /* _AWG_CONFIG_PARSE_H */
