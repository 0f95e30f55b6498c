// SPDX-License-Identifier: MIT
/* Owns the parsing of "Key = Value" configuration files. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

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

int awg_keyfile_read(const char *path,
		     int (*fn)(void *ctx, const char *key, const char *value, const char **why),
		     void *ctx, char *why, size_t whylen)
{
	char line[1026];
	unsigned n = 0;
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		char *hash, *eq, *key;
		const char *fwhy = "refused";

		n++;
		/* A longer line would come back as two: refuse it instead of guessing. */
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, whylen, "%s:%u: line longer than 1 KiB", path, n);
			ret = -EINVAL;
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		key = trim(line);
		if (!*key)
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(why, whylen, "%s:%u: expected Key = Value, got '%.64s'", path, n, key);
			ret = -EINVAL;
			break;
		}
		*eq = 0;
		key = trim(key);
		if (fn(ctx, key, trim(eq + 1), &fwhy)) {
			snprintf(why, whylen, "%s:%u: %.64s: %s", path, n, key, fwhy);
			ret = -EINVAL;
			break;
		}
	}
	fclose(f);
	return ret;
}
