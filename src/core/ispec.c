// SPDX-License-Identifier: MIT
/*
 * The I1..I5 tag language (spec §5.2, amneziawg-go 3.x semantics): parsing text into a compiled
 * list of items, and evaluating that list into one decoy payload.
 *
 * Invariants of a compiled spec: every item has a fixed length, the lengths sum to spec->len,
 * and spec->len <= AWG_ISPEC_MAX_PAYLOAD. <b> bytes live in one pool owned by the spec.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ispec.h"

enum item_kind {
	ITEM_BYTES,	/* fixed bytes from the pool */
	ITEM_RANDOM,	/* <r N> */
	ITEM_LETTERS,	/* <rc N> */
	ITEM_DIGITS,	/* <rd N> */
	ITEM_TIME,	/* <t>: 4 bytes BE unix seconds */
	ITEM_ZERO,	/* <dz N> */
};

struct ispec_item {
	enum item_kind kind;
	uint32_t len;
	uint32_t pool_off;	/* ITEM_BYTES only */
};

struct awg_ispec {
	struct ispec_item *items;
	size_t n_items;
	uint8_t *pool;
	size_t pool_len;
	size_t len;
};

/* How much of a bad tag an error message quotes; longer tags are cut with "...". */
#define QUOTE_MAX 48

/* One tag as found in the text: [start, end) spans "<" through ">" inclusive. */
struct tag {
	const char *text;
	size_t start;
	size_t end;
	const char *word[2];	/* name and argument; NULL when absent */
	size_t word_len[2];
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Copies the tag text into a printable, bounded quote (non-printable bytes become '?'). */
static void quote_tag(const struct tag *t, char *out, size_t out_size)
{
	size_t n = t->end - t->start, i, o = 0;
	bool cut = n > QUOTE_MAX;

	if (cut)
		n = QUOTE_MAX;
	for (i = 0; i < n && o + 1 < out_size; i++) {
		unsigned char c = (unsigned char)t->text[t->start + i];

		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (cut)
		for (i = 0; i < 3 && o + 1 < out_size; i++)
			out[o++] = '.';
	out[o] = '\0';
}

__attribute__((format(printf, 3, 4)))
static int tag_error(struct awg_parse_error *err, const struct tag *t, const char *fmt, ...)
{
	char quote[QUOTE_MAX + 8], reason[160];
	va_list ap;

	quote_tag(t, quote, sizeof(quote));
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return awg_parse_error_set(err, -EINVAL, 0, (unsigned)(t->start + 1), "tag \"%s\": %s",
				   quote, reason);
}

static bool word_is(const struct tag *t, unsigned i, const char *s)
{
	size_t n = strlen(s);

	return t->word[i] && t->word_len[i] == n && memcmp(t->word[i], s, n) == 0;
}

/* Splits the inside of the tag at whitespace runs; only the first two words matter. */
static void split_words(struct tag *t)
{
	size_t i = t->start + 1, w = 0;

	t->word[0] = t->word[1] = NULL;
	t->word_len[0] = t->word_len[1] = 0;
	while (i < t->end - 1 && w < 2) {
		size_t j;

		while (i < t->end - 1 && is_ws(t->text[i]))
			i++;
		if (i >= t->end - 1)
			break;
		for (j = i; j < t->end - 1 && !is_ws(t->text[j]); j++)
			;
		t->word[w] = t->text + i;
		t->word_len[w] = j - i;
		w++;
		i = j;
	}
}

/* Strict decimal: digits only, no sign, no prefix; values above limit are reported as such. */
static int parse_len(struct tag *t, size_t limit, uint32_t *out, struct awg_parse_error *err)
{
	const char *s = t->word[1];
	size_t i, n = t->word_len[1];
	uint64_t v = 0;

	if (!s)
		return tag_error(err, t, "missing length");
	if (s[0] == '+' || s[0] == '-')
		return tag_error(err, t, "length must not have a sign");
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return tag_error(err, t, "length is not a decimal number");
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > limit)
			return tag_error(err, t, "payload would exceed %d bytes",
					 AWG_ISPEC_MAX_PAYLOAD);
	}
	*out = (uint32_t)v;
	return 0;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int push_item(struct awg_ispec *spec, enum item_kind kind, uint32_t len, uint32_t pool_off)
{
	struct ispec_item *items;

	items = realloc(spec->items, (spec->n_items + 1) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	spec->items = items;
	items[spec->n_items++] = (struct ispec_item){ .kind = kind, .len = len,
						      .pool_off = pool_off };
	spec->len += len;
	return 0;
}

static int parse_bytes(struct awg_ispec *spec, struct tag *t, struct awg_parse_error *err)
{
	const char *s = t->word[1];
	size_t n = t->word_len[1], i, nbytes;
	uint8_t *pool;

	if (!s)
		return tag_error(err, t, "missing hex string");
	/* Go's strings.TrimPrefix(arg, "0x"): lower-case prefix only, optional. */
	if (n >= 2 && s[0] == '0' && s[1] == 'x') {
		s += 2;
		n -= 2;
	}
	if (n == 0)
		return tag_error(err, t, "empty hex string");
	if (n % 2)
		return tag_error(err, t, "odd number of hex digits");
	for (i = 0; i < n; i++)
		if (hex_val(s[i]) < 0)
			return tag_error(err, t, "invalid hex digit '%c'",
					 (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?');
	nbytes = n / 2;
	if (nbytes > AWG_ISPEC_MAX_PAYLOAD - spec->len)
		return tag_error(err, t, "payload would exceed %d bytes", AWG_ISPEC_MAX_PAYLOAD);
	pool = realloc(spec->pool, spec->pool_len + nbytes);
	if (!pool)
		return -ENOMEM;
	spec->pool = pool;
	for (i = 0; i < nbytes; i++)
		pool[spec->pool_len + i] =
			(uint8_t)(hex_val(s[2 * i]) << 4 | hex_val(s[2 * i + 1]));
	if (push_item(spec, ITEM_BYTES, (uint32_t)nbytes, (uint32_t)spec->pool_len) < 0)
		return -ENOMEM;
	spec->pool_len += nbytes;
	return 0;
}

static int parse_counted(struct awg_ispec *spec, struct tag *t, enum item_kind kind,
			 struct awg_parse_error *err)
{
	uint32_t n = 0;
	int ret;

	ret = parse_len(t, AWG_ISPEC_MAX_PAYLOAD - spec->len, &n, err);
	if (ret < 0)
		return ret;
	return push_item(spec, kind, n, 0);
}

/* Compiles one tag; t->start/end are set and the words split. */
static int parse_tag(struct awg_ispec *spec, struct tag *t, struct awg_parse_error *err)
{
	if (!t->word[0])
		return tag_error(err, t, "empty tag");
	if (word_is(t, 0, "b"))
		return parse_bytes(spec, t, err);
	if (word_is(t, 0, "r"))
		return parse_counted(spec, t, ITEM_RANDOM, err);
	if (word_is(t, 0, "rc"))
		return parse_counted(spec, t, ITEM_LETTERS, err);
	if (word_is(t, 0, "rd"))
		return parse_counted(spec, t, ITEM_DIGITS, err);
	if (word_is(t, 0, "dz"))
		return parse_counted(spec, t, ITEM_ZERO, err);
	if (word_is(t, 0, "t")) {
		if (4 > AWG_ISPEC_MAX_PAYLOAD - spec->len)
			return tag_error(err, t, "payload would exceed %d bytes",
					 AWG_ISPEC_MAX_PAYLOAD);
		return push_item(spec, ITEM_TIME, 4, 0);
	}
	/* Reserved data-transform tags: accepted by Go 3.x, produce nothing in an I-packet. */
	if (word_is(t, 0, "d") || word_is(t, 0, "ds"))
		return 0;
	if (word_is(t, 0, "c"))
		return tag_error(err, t,
				 "the <c> counter tag is not supported by current AmneziaWG "
				 "(only the Linux module and Go 1.5/2.0-first-cut had it)");
	if (word_is(t, 0, "wt"))
		return tag_error(err, t, "the <wt> delay tag existed only in AmneziaWG 1.5");
	return tag_error(err, t, "unknown tag name (known: b r rc rd t d ds dz)");
}

int awg_ispec_parse(const char *text, size_t len, struct awg_ispec **out,
		    struct awg_parse_error *err)
{
	struct awg_ispec *spec;
	bool seen_tag = false;
	size_t i = 0;
	int ret;

	*out = NULL;
	spec = calloc(1, sizeof(*spec));
	if (!spec)
		return -ENOMEM;
	while (i < len) {
		struct tag t = { .text = text };
		const char *close;

		if (text[i] != '<') {
			i++;
			continue;
		}
		t.start = i;
		close = memchr(text + i + 1, '>', len - i - 1);
		if (!close) {
			t.end = len;
			ret = tag_error(err, &t, "missing closing '>'");
			goto err_free;
		}
		t.end = (size_t)(close - text) + 1;
		split_words(&t);
		ret = parse_tag(spec, &t, err);
		if (ret < 0)
			goto err_free;
		i = t.end;
		seen_tag = true;
	}
	/* No tag at all clears the slot; a tag that emits nothing (<d>, <r 0>) does not. */
	if (!seen_tag) {
		awg_ispec_free(spec);
		return 0;
	}
	*out = spec;
	return 0;

err_free:
	if (ret == -ENOMEM)
		awg_parse_error_set(err, -ENOMEM, 0, 0, "out of memory");
	awg_ispec_free(spec);
	return ret;
}

void awg_ispec_free(struct awg_ispec *spec)
{
	if (!spec)
		return;
	free(spec->items);
	free(spec->pool);
	free(spec);
}

size_t awg_ispec_len(const struct awg_ispec *spec)
{
	return spec ? spec->len : 0;
}

/* n characters drawn uniformly from alphabet; byte rejection keeps it free of modulo bias. */
static void fill_alphabet(uint8_t *buf, size_t n, const char *alphabet, unsigned size,
			  const struct awg_env *env)
{
	unsigned limit = 256 - 256 % size;
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t b;

		do
			awg_env_random(env, &b, 1);
		while (b >= limit);
		buf[i] = (uint8_t)alphabet[b % size];
	}
}

static void eval_item(const struct awg_ispec *spec, const struct ispec_item *it, uint8_t *buf,
		      const struct awg_env *env)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	static const char digits[] = "0123456789";
	uint32_t secs;

	switch (it->kind) {
	case ITEM_BYTES:
		memcpy(buf, spec->pool + it->pool_off, it->len);
		break;
	case ITEM_RANDOM:
		if (it->len)
			awg_env_random(env, buf, it->len);
		break;
	case ITEM_LETTERS:
		fill_alphabet(buf, it->len, letters, 52, env);
		break;
	case ITEM_DIGITS:
		fill_alphabet(buf, it->len, digits, 10, env);
		break;
	case ITEM_TIME:
		/* Unsigned 32-bit seconds, truncated like Go's uint32(time.Now().Unix()). */
		secs = (uint32_t)(awg_env_wall_ns(env) / UINT64_C(1000000000));
		buf[0] = (uint8_t)(secs >> 24);
		buf[1] = (uint8_t)(secs >> 16);
		buf[2] = (uint8_t)(secs >> 8);
		buf[3] = (uint8_t)secs;
		break;
	case ITEM_ZERO:
		memset(buf, 0, it->len);
		break;
	}
}

size_t awg_ispec_eval(const struct awg_ispec *spec, uint8_t *buf, size_t cap,
		      const struct awg_env *env)
{
	size_t i, off = 0;

	/* A short buffer is a caller bug: write nothing rather than a truncated payload. */
	if (!spec || cap < spec->len)
		return 0;
	for (i = 0; i < spec->n_items; i++) {
		eval_item(spec, &spec->items[i], buf + off, env);
		off += spec->items[i].len;
	}
	return off;
}
