// SPDX-License-Identifier: MIT
/* Owns the parsing of "Key = Value" configuration files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "keyfile.h"

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

/* One line (NUL-terminated, modified in place). 0, or -EINVAL with why. */
static int parse_line(char *line, unsigned n, const char *label,
		      int (*fn)(void *ctx, const char *key, const char *value, const char **why),
		      void *ctx, char *why, size_t whylen)
{
	char *hash = strchr(line, '#'), *eq, *key;
	const char *fwhy = "refused";

	if (hash)
		*hash = 0;
	key = trim(line);
	if (!*key)
		return 0;
	eq = strchr(key, '=');
	if (!eq) {
		snprintf(why, whylen, "%s:%u: expected Key = Value, got '%.64s'", label, n, key);
		return -EINVAL;
	}
	*eq = 0;
	key = trim(key);
	if (!*key) {
		snprintf(why, whylen, "%s:%u: a value without a key", label, n);
		return -EINVAL;
	}
	if (fn(ctx, key, trim(eq + 1), &fwhy)) {
		snprintf(why, whylen, "%s:%u: %.64s: %s", label, n, key, fwhy);
		return -EINVAL;
	}
	return 0;
}

int awg_keyfile_parse(const char *text, size_t len, const char *label,
		      int (*fn)(void *ctx, const char *key, const char *value, const char **why),
		      void *ctx, char *why, size_t whylen)
{
	char line[AWG_KEYFILE_LINE_MAX + 1];
	unsigned n = 0;
	size_t off = 0;

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t l = (nl ? (size_t)(nl - text) : len) - off;
		int ret;

		n++;
		/* A longer line would come back as two: refuse it instead of guessing. */
		if (l > AWG_KEYFILE_LINE_MAX || memchr(text + off, 0, l)) {
			snprintf(why, whylen, "%s:%u: %s", label, n,
				 l > AWG_KEYFILE_LINE_MAX ? "line longer than 1 KiB" : "NUL byte");
			return -EINVAL;
		}
		memcpy(line, text + off, l);
		line[l] = 0;
		ret = parse_line(line, n, label, fn, ctx, why, whylen);
		if (ret < 0)
			return ret;
		off += l + (nl != NULL);
	}
	return 0;
}

int awg_keyfile_read(const char *path,
		     int (*fn)(void *ctx, const char *key, const char *value, const char **why),
		     void *ctx, char *why, size_t whylen)
{
	char buf[AWG_KEYFILE_MAX];
	size_t len = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (len < sizeof(buf) && (r = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)r;
	/* One byte more than fits means the file is too large. */
	ret = len == sizeof(buf) && read(fd, &buf[0], 1) == 1 ? -EFBIG : 0;
	close(fd);
	if (ret < 0) {
		snprintf(why, whylen, "%s: larger than %zu bytes", path, sizeof(buf) - 1);
		return -EINVAL;
	}
	return awg_keyfile_parse(buf, len, path, fn, ctx, why, whylen);
}
