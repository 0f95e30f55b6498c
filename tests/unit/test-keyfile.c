// SPDX-License-Identifier: MIT
/* The Key = Value reader: comments, blanks, trimming, and every refusal names file and line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "keyfile.h"

static char seen[512];

static int collect(void *ctx, const char *key, const char *value, const char **why)
{
	(void)ctx;
	if (!strcmp(key, "Bad")) {
		*why = "no thanks";
		return -1;
	}
	snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "[%s=%s]", key, value);
	return 0;
}

/* Writes text to a temp file and reads it back; returns the reader's result. */
static int read_text(const char *text, char *why, size_t whylen, char *path, size_t pathlen)
{
	FILE *f;
	int fd, ret;

	snprintf(path, pathlen, "/tmp/awg-test-keyfile-XXXXXX");
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	seen[0] = 0;
	ret = awg_keyfile_read(path, collect, NULL, why, whylen);
	unlink(path);
	return ret;
}

static void parses(void)
{
	char why[256] = "", path[64];

	CHECK_INT(read_text("# comment\n\n  A = 1  \nB=two words # tail\r\nC =\n", why,
			    sizeof(why), path, sizeof(path)), 0);
	CHECK(!strcmp(seen, "[A=1][B=two words][C=]"));
}

static void refuses(void)
{
	char why[256], path[64], big[1200], want[96];

	CHECK_INT(read_text("A = 1\nno equals here\n", why, sizeof(why), path, sizeof(path)),
		  -EINVAL);
	snprintf(want, sizeof(want), "%s:2: expected Key = Value", path);
	CHECK(!strncmp(why, want, strlen(want)));
	CHECK_INT(read_text("A = 1\nBad = x\nC = 3\n", why, sizeof(why), path, sizeof(path)),
		  -EINVAL);
	snprintf(want, sizeof(want), "%s:2: Bad: no thanks", path);
	CHECK(!strcmp(why, want));
	CHECK(!strcmp(seen, "[A=1]"));		/* stops at the refusal */
	memset(big, 'x', sizeof(big));
	memcpy(big, "K = ", 4);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = 0;
	CHECK_INT(read_text(big, why, sizeof(why), path, sizeof(path)), -EINVAL);
	CHECK(strstr(why, ":1: line longer than 1 KiB") != NULL);
	CHECK_INT(read_text("= orphan\n", why, sizeof(why), path, sizeof(path)), -EINVAL);
	CHECK(strstr(why, ":1: a value without a key") != NULL);
	CHECK_INT(awg_keyfile_read("/nonexistent/awg-keyfile", collect, NULL, why, sizeof(why)),
		  -ENOENT);
}

TEST_MAIN("keyfile", T(parses), T(refuses))
