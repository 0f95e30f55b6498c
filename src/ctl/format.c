// SPDX-License-Identifier: MIT
// awgctl output helpers: JSON escaping and the awg-show-style texts (ages, sizes, durations).
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "format.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when s does not start one. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void awg_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		size_t n = utf8_len(p);

		if (!n) {
			fputs("\\ufffd", f);
			p++;
		} else if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
	fputc('"', f);
}

/* vsnprintf at buf + off; returns the new length, clamped to size - 1 on truncation. */
__attribute__((format(printf, 4, 5)))
static size_t put(char *buf, size_t size, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (off + 1 >= size) {
		buf[off] = '\0';	/* callers keep off < size */
		return off;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf + off, size - off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return off;
	return (size_t)n >= size - off ? size - 1 : off + (size_t)n;
}

size_t awg_ctl_format_duration(char *buf, size_t size, uint64_t left)
{
	static const char *const units[] = { "year", "day", "hour", "minute", "second" };
	static const uint64_t secs[] = { 365 * 24 * 3600, 24 * 3600, 3600, 60, 1 };
	size_t off = 0;

	if (!size)
		return 0;
	buf[0] = '\0';
	if (!left)
		return put(buf, size, 0, "0 seconds");
	for (unsigned i = 0; i < 5; i++) {
		uint64_t v = left / secs[i];

		left %= secs[i];
		if (!v)
			continue;
		if (off)
			off = put(buf, size, off, "%s", ", ");
		off = put(buf, size, off, "%" PRIu64 " %s", v, units[i]);
		if (v != 1)
			off = put(buf, size, off, "%s", "s");
	}
	return off;
}

size_t awg_ctl_format_ago(char *buf, size_t size, int64_t now, int64_t sec)
{
	size_t off;

	if (!size)
		return 0;
	if (!sec)
		return put(buf, size, 0, "%s", "never");
	if (now == sec)
		return put(buf, size, 0, "%s", "Now");
	if (now < sec)
		return put(buf, size, 0, "%s",
			   "(System clock wound backward; connection problems may ensue.)");
	off = awg_ctl_format_duration(buf, size, (uint64_t)now - (uint64_t)sec);
	return put(buf, size, off, "%s", " ago");
}

size_t awg_ctl_format_bytes(char *buf, size_t size, uint64_t b)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b / 1024;
	unsigned i = 0;

	if (!size)
		return 0;
	if (b < 1024)
		return put(buf, size, 0, "%" PRIu64 " B", b);
	while (i < 3 && b >= (1024ull << (10 * (i + 1)))) {
		v /= 1024;
		i++;
	}
	return put(buf, size, 0, "%.2f %s", v, units[i]);
}

void awg_ctl_printable(char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	}
}

bool awg_ctl_placeholder_index(const uint8_t key[32], uint64_t *index)
{
	uint64_t v = 0;

	for (unsigned i = 8; i < 32; i++) {
		if (key[i])
			return false;
	}
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)key[i] << (8 * i);
	*index = v;
	return true;
}
