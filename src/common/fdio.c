// SPDX-License-Identifier: MIT
/* Owns whole-buffer writes and companion-program lookup shared by the programs. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdio.h"

static int put_all(int fd, const void *buf, size_t len, bool sock)
{
	const char *p = buf;

	while (len) {
		ssize_t n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int awg_fd_write_all(int fd, const void *buf, size_t len)
{
	return put_all(fd, buf, len, false);
}

int awg_fd_send_all(int fd, const void *buf, size_t len)
{
	return put_all(fd, buf, len, true);
}

const char *awg_exe_sibling(const char *env, const char *const *rel, size_t n,
			    const char *fallback)
{
	static char buf[4096];
	const char *val = env ? getenv(env) : NULL;
	char self[4000], *slash;
	ssize_t len;

	if (val && *val)
		return val;
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return fallback;
	self[len] = 0;
	slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s/%s", self, rel[i]);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return fallback;
}
