// SPDX-License-Identifier: MIT
/* Owns a tunnel's entries in the system resolver configuration (see dns.h). */
#include "dns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parse.h"
#include "service.h"

#define RESOLV_CONF "/etc/resolv.conf"
#define RESOLVCONF "/sbin/resolvconf"
/* resolv.conf is small; more than this is not a resolver config. */
#define RESOLV_MAX (64u << 10)

static void backup_path(char *buf, size_t cap, const char *name, const char *what)
{
	snprintf(buf, cap, "%s/%s.%s", AWG_TUNNEL_STATE_DIR, name, what);
}

static bool use_resolvconf(void)
{
	const char *mode = getenv("AWG_TUNNEL_DNS");

	if (mode && !strcmp(mode, "file"))
		return false;
	if (mode && !strcmp(mode, "resolvconf"))
		return true;
	return access(RESOLVCONF, X_OK) == 0;
}

/* The resolv.conf lines for c: nameserver per server, one search line. */
static int render(const struct awg_conf *c, struct awg_buf *b)
{
	char ip[64];

	for (size_t i = 0; i < c->n_dns_servers; i++) {
		if (awg_format_ipaddr(ip, sizeof(ip), &c->dns_servers[i]) < 0)
			return -EINVAL;
		awg_buf_printf(b, "nameserver %s\n", ip);
	}
	if (c->dns_search.n) {
		awg_buf_put(b, "search", 6);
		for (size_t i = 0; i < c->dns_search.n; i++)
			awg_buf_printf(b, " %s", c->dns_search.v[i]);
		awg_buf_put(b, "\n", 1);
	}
	return 0;
}

/* Reads a whole small file; *out owned. */
static int slurp(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = malloc(RESOLV_MAX + 1);
	ssize_t r;
	size_t got = 0;

	if (fd < 0 || !buf) {
		int e = fd < 0 ? -errno : -ENOMEM;

		free(buf);
		if (fd >= 0)
			close(fd);
		return e;
	}
	while (got < RESOLV_MAX && (r = read(fd, buf + got, RESOLV_MAX - got)) > 0)
		got += (size_t)r;
	close(fd);
	buf[got] = 0;
	*out = buf;
	*len = got;
	return 0;
}

/*
 * Overwrites path in place (O_TRUNC, not rename): /etc/resolv.conf may be a bind mount (ip netns
 * exec) or a symlink, which a rename would break.
 */
static int spill(const char *path, const char *data, size_t len, int flags, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, mode), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) < 0)
		ret = -EIO;
	close(fd);
	return ret;
}

static int run_resolvconf(const char *const argv[], const char *input, size_t len)
{
	int pfd[2], st;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(pfd[0], 0);
		execv(RESOLVCONF, (char *const *)argv);
		_exit(127);
	}
	close(pfd[0]);
	if (len && write(pfd[1], input, len) != (ssize_t)len)
		st = -EIO;
	close(pfd[1]);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -EIO;
	return 0;
}

static int apply_file(const char *name, const char *text, size_t len)
{
	char bak[4096], *orig = NULL;
	size_t olen = 0;
	struct awg_buf b = { 0 };
	char *out = NULL;
	size_t outlen = 0;
	int ret;

	mkdir(AWG_TUNNEL_STATE_DIR, 0700);
	backup_path(bak, sizeof(bak), name, "resolv.conf");
	/* A backup left by a crashed run is the original: put it back before anything else. */
	awg_dns_revert(name);
	ret = slurp(RESOLV_CONF, &orig, &olen);
	if (ret == -ENOENT) {
		orig = calloc(1, 1);
		ret = orig ? 0 : -ENOMEM;
	}
	if (!ret)
		ret = spill(bak, orig, olen, O_EXCL, 0600);
	free(orig);
	if (ret < 0)
		return ret;
	awg_buf_printf(&b, "# Written by awg-tunnel for %s; the original comes back on down.\n",
		       name);
	awg_buf_put(&b, text, len);
	ret = awg_buf_finish(&b, &out, &outlen);
	if (!ret)
		ret = spill(RESOLV_CONF, out, outlen, O_TRUNC, 0644);
	free(out);
	if (ret < 0)
		awg_dns_revert(name);
	return ret;
}

int awg_dns_apply(const char *name, const struct awg_conf *c)
{
	struct awg_buf b = { 0 };
	char *text = NULL, iface[64];
	size_t len = 0;
	int ret;

	if (!c->n_dns_servers && !c->dns_search.n)
		return 0;
	ret = render(c, &b);
	if (ret < 0) {
		awg_buf_discard(&b);
		return ret;
	}
	ret = awg_buf_finish(&b, &text, &len);
	if (ret < 0)
		return ret;
	if (use_resolvconf()) {
		const char *argv[] = { "resolvconf", "-a", iface, "-m", "0", "-x", NULL };
		char mark[4096];

		snprintf(iface, sizeof(iface), "tun.%s", name);
		ret = run_resolvconf(argv, text, len);
		backup_path(mark, sizeof(mark), name, "resolvconf");
		if (!ret)
			ret = spill(mark, "", 0, O_TRUNC, 0600);
	} else {
		ret = apply_file(name, text, len);
	}
	free(text);
	return ret;
}

bool awg_dns_revert(const char *name)
{
	char bak[4096], mark[4096], *orig = NULL;
	size_t olen = 0;
	bool done = false;

	backup_path(mark, sizeof(mark), name, "resolvconf");
	if (access(mark, F_OK) == 0) {
		char iface[64];
		const char *argv[] = { "resolvconf", "-d", iface, "-f", NULL };

		snprintf(iface, sizeof(iface), "tun.%s", name);
		run_resolvconf(argv, NULL, 0);
		unlink(mark);
		done = true;
	}
	backup_path(bak, sizeof(bak), name, "resolv.conf");
	if (slurp(bak, &orig, &olen) == 0) {
		if (spill(RESOLV_CONF, orig, olen, O_TRUNC, 0644) == 0)
			unlink(bak);
		free(orig);
		done = true;
	}
	return done;
}
