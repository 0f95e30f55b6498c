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

#include <systemd/sd-bus.h>

#include "parse.h"
#include "service.h"

#define RESOLV_CONF "/etc/resolv.conf"
/* systemd-resolved's varlink socket: present while resolved runs. */
#define RESOLVED_SOCKET "/run/systemd/resolve/io.systemd.Resolve"
#define RESOLVCONF "/sbin/resolvconf"
/* resolv.conf is small; more than this is not a resolver config. */
#define RESOLV_MAX (64u << 10)

static void backup_path(char *buf, size_t cap, const char *name, const char *what)
{
	snprintf(buf, cap, "%s/%s.%s", AWG_TUNNEL_STATE_DIR, name, what);
}

static int spill(const char *path, const char *data, size_t len, int flags, mode_t mode);
static int slurp(const char *path, char **out, size_t *len);

enum dns_mode { DNS_FILE, DNS_RESOLVCONF, DNS_RESOLVED };

static enum dns_mode dns_mode(void)
{
	const char *mode = getenv("AWG_TUNNEL_DNS");

	if (mode && !strcmp(mode, "file"))
		return DNS_FILE;
	if (mode && !strcmp(mode, "resolvconf"))
		return DNS_RESOLVCONF;
	if ((mode && !strcmp(mode, "resolved")) || access(RESOLVED_SOCKET, F_OK) == 0)
		return DNS_RESOLVED;
	return access(RESOLVCONF, X_OK) == 0 ? DNS_RESOLVCONF : DNS_FILE;
}

/* ---- systemd-resolved over D-Bus (the system bus; DBUS_SYSTEM_BUS_ADDRESS is honoured) ---- */

#define RESOLVE1 "org.freedesktop.resolve1"
#define RESOLVE1_PATH "/org/freedesktop/resolve1"
#define RESOLVE1_MANAGER "org.freedesktop.resolve1.Manager"

/* A Manager method call on the link: the ifindex appended and an array of sig opened. */
static int link_call(sd_bus *bus, sd_bus_message **m, const char *method, int ifindex,
		     const char *sig)
{
	int ret = sd_bus_message_new_method_call(bus, m, RESOLVE1, RESOLVE1_PATH,
						 RESOLVE1_MANAGER, method);

	if (ret >= 0)
		ret = sd_bus_message_append(*m, "i", ifindex);
	if (ret >= 0)
		ret = sd_bus_message_open_container(*m, 'a', sig);
	return ret;
}

/* Closes the array, sends m and waits for the answer; m is consumed. */
static int link_send(sd_bus *bus, sd_bus_message *m, int ret, sd_bus_error *e)
{
	sd_bus_message *reply = NULL;

	if (ret >= 0)
		ret = sd_bus_message_close_container(m);
	if (ret >= 0)
		ret = sd_bus_call(bus, m, 0, e, &reply);
	sd_bus_message_unref(reply);
	sd_bus_message_unref(m);
	return ret;
}

/* SetLinkDNS(i a(iay)): the servers of the link. */
static int set_link_dns(sd_bus *bus, int ifindex, const struct awg_conf *c, sd_bus_error *e)
{
	sd_bus_message *m = NULL;
	int ret = link_call(bus, &m, "SetLinkDNS", ifindex, "(iay)");

	for (size_t i = 0; ret >= 0 && i < c->n_dns_servers; i++) {
		const struct awg_ipaddr *a = &c->dns_servers[i];

		ret = sd_bus_message_open_container(m, 'r', "iay");
		if (ret >= 0)
			ret = sd_bus_message_append(m, "i", (int)a->family);
		if (ret >= 0)
			ret = sd_bus_message_append_array(m, 'y', a->addr,
							  a->family == AWG_FAMILY_INET ? 4 : 16);
		if (ret >= 0)
			ret = sd_bus_message_close_container(m);
	}
	return link_send(bus, m, ret, e);
}

/* SetLinkDomains(i a(sb)): search domains, and "~." (route all queries) for a full tunnel. */
static int set_link_domains(sd_bus *bus, int ifindex, const struct awg_conf *c, bool full,
			    sd_bus_error *e)
{
	sd_bus_message *m = NULL;
	int ret = link_call(bus, &m, "SetLinkDomains", ifindex, "(sb)");

	for (size_t i = 0; ret >= 0 && i < c->dns_search.n; i++)
		ret = sd_bus_message_append(m, "(sb)", c->dns_search.v[i], 0);
	if (ret >= 0 && full)
		ret = sd_bus_message_append(m, "(sb)", ".", 1);
	return link_send(bus, m, ret, e);
}

static int apply_resolved(const char *name, const struct awg_conf *c, int ifindex, bool full)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char mark[4096], idx[16];
	sd_bus *bus = NULL;
	int ret = sd_bus_open_system(&bus);

	if (ret >= 0 && c->n_dns_servers)
		ret = set_link_dns(bus, ifindex, c, &e);
	if (ret >= 0)
		ret = set_link_domains(bus, ifindex, c, full, &e);
	if (ret < 0 && sd_bus_error_is_set(&e))
		fprintf(stderr, "awg-tunnel(%s): systemd-resolved: %s\n", name, e.message);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	if (ret < 0)
		return ret;
	backup_path(mark, sizeof(mark), name, "resolved");
	snprintf(idx, sizeof(idx), "%d\n", ifindex);
	return spill(mark, idx, strlen(idx), O_TRUNC, 0600);
}

/* RevertLink(i); the link is usually gone by now, and resolved forgets it then anyway. */
static void revert_resolved(int ifindex)
{
	sd_bus *bus = NULL;

	if (sd_bus_open_system(&bus) < 0)
		return;
	sd_bus_call_method(bus, RESOLVE1, RESOLVE1_PATH, RESOLVE1_MANAGER, "RevertLink", NULL,
			   NULL, "i", ifindex);
	sd_bus_flush_close_unref(bus);
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

int awg_dns_apply(const char *name, const struct awg_conf *c, int ifindex, bool full)
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
	if (dns_mode() == DNS_RESOLVED) {
		ret = apply_resolved(name, c, ifindex, full);
	} else if (dns_mode() == DNS_RESOLVCONF) {
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

	backup_path(mark, sizeof(mark), name, "resolved");
	if (slurp(mark, &orig, &olen) == 0) {
		revert_resolved(atoi(orig));
		free(orig);
		orig = NULL;
		unlink(mark);
		done = true;
	}
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
