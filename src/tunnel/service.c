// SPDX-License-Identifier: MIT
/*
 * Owns one tunnel's life as a service (see service.h): the bring-up sequence, the state file
 * that lets a later run clean up after a crash, supervision of awgd, and teardown.
 */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "awg.h"
#include "crypto.h"
#include "dns.h"
#include "mtu.h"
#include "netcfg.h"
#include "uapi.h"

/* UDP segmentation offload flags (Linux 6.2); older headers lack them. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* wg-quick's table and fwmark for a full tunnel. */
#define FULL_TUNNEL_TABLE 51820
#define SOCKET_DIR "/var/run/amneziawg"

/* What is up, so teardown undoes exactly that. */
struct live {
	struct awg_netcfg *nc;
	int ifindex;
	int tun_fd, udp4, udp6;
	pid_t awgd;
	uint32_t table;		/* the full tunnel's table and fwmark, 0 without one */
	bool full[2];		/* IPv4, IPv6 default routes taken over */
	bool scripts_up;	/* PostUp ran: PreDown/PostDown are due */
};

static void err(const struct awg_tunnel *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * One write per message: under --log-fd, stderr is a pipe shared with awgd, and a line written
 * in pieces could be split by awgd's lines into several ring log entries.
 */
static void err(const struct awg_tunnel *t, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n = snprintf(line, sizeof(line), "awg-tunnel(%s): ", t->name);

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

static void state_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s.state", AWG_TUNNEL_STATE_DIR, name);
}

/* ---- scripts ---- */

/*
 * system() without our signal mask: awg_tunnel_run blocks SIGTERM, SIGINT, SIGHUP and SIGCHLD
 * for its signalfd, and a script (and whatever it leaves running) must not inherit that, or
 * SIGTERM would not stop it. Returns the wait status, or -1 if /bin/sh did not start.
 */
static int shell(const char *cmd)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	pid_t pid;
	int st = -1, ret;

	sigemptyset(&none);
	if (posix_spawnattr_init(&attr))
		return -1;
	if (posix_spawn_file_actions_init(&fa)) {
		posix_spawnattr_destroy(&attr);
		return -1;
	}
	/*
	 * Script output goes where ours does: under the manager, into the ring log. Nothing
	 * else is inherited (a script's long-lived child would keep the kill switch's owner
	 * socket, and with it the table, alive).
	 */
	ret = posix_spawn_file_actions_adddup2(&fa, 2, 1) ||
	      posix_spawn_file_actions_addclosefrom_np(&fa, 3) ||
	      posix_spawnattr_setsigmask(&attr, &none) ||
	      posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK) ||
	      posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (ret)
		return -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* Runs each script with %i replaced by the name, /bin/sh, the tunnel-name environment. */
static int run_scripts(const struct awg_tunnel *t, const struct awg_strlist *l, const char *what)
{
	for (size_t i = 0; i < l->n; i++) {
		char cmd[8192];
		size_t o = 0;
		int st;

		for (const char *s = l->v[i]; *s && o + AWG_TUNNEL_NAME_MAX + 1 < sizeof(cmd); s++) {
			if (s[0] == '%' && s[1] == 'i') {
				o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, "%s", t->name);
				s++;
			} else {
				cmd[o++] = *s;
			}
		}
		cmd[o] = 0;
		if (t->hide_scripts)
			fprintf(stderr, "[#] %s script %zu of %zu\n", what, i + 1, l->n);
		else
			fprintf(stderr, "[#] %s\n", cmd);
		setenv("AMNEZIAWG_TUNNEL_NAME", t->name, 1);
		setenv("WIREGUARD_TUNNEL_NAME", t->name, 1);
		st = shell(cmd);
		if (st != 0) {
			err(t, "%s script %zu failed (status %d)%s%s", what, i + 1,
			    WIFEXITED(st) ? WEXITSTATUS(st) : st, t->hide_scripts ? "" : ": ",
			    t->hide_scripts ? "" : cmd);
			return -ECANCELED;
		}
	}
	return 0;
}

/* ---- endpoints ---- */

/* Host-name endpoints become addresses, retried as wg does (WG_ENDPOINT_RESOLUTION_RETRIES). */
static int resolve_endpoints(const struct awg_tunnel *t)
{
	const char *env = getenv("WG_ENDPOINT_RESOLUTION_RETRIES");
	long tries = env ? atol(env) : 15;

	for (size_t i = 0; i < t->conf.n_peers; i++) {
		struct awg_endpoint *ep = &t->conf.peers[i].endpoint;
		struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
		int r = EAI_AGAIN;

		if (!(t->conf.peers[i].flags & AWG_PEER_HAS_ENDPOINT) || ep->ip.family)
			continue;
		for (long n = 0; n <= tries; n++) {
			r = getaddrinfo(ep->host, NULL, &hints, &res);
			if (r != EAI_AGAIN && r != EAI_NONAME && r != EAI_FAIL)
				break;
			if (n < tries)
				sleep(1);
		}
		if (r || !res) {
			err(t, "cannot resolve endpoint host '%s': %s", ep->host, gai_strerror(r));
			return -EHOSTUNREACH;
		}
		if (res->ai_family == AF_INET) {
			ep->ip.family = AWG_FAMILY_INET;
			memcpy(ep->ip.addr, &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
		} else {
			ep->ip.family = AWG_FAMILY_INET6;
			memcpy(ep->ip.addr, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, 16);
		}
		freeaddrinfo(res);
	}
	return 0;
}

/* ---- the fds awgd gets ---- */

static int open_tun(const char *name)
{
	struct ifreq ifr = { 0 };
	unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	int fd;

	for (int vnet = 1; vnet >= 0; vnet--) {
		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
		ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			int e = -errno;

			close(fd);
			return e;
		}
		/* Offloads as awgd would set them itself; without them, no vnet headers. */
		if (!vnet || ioctl(fd, TUNSETOFFLOAD, off | TUN_F_USO4 | TUN_F_USO6) == 0 ||
		    ioctl(fd, TUNSETOFFLOAD, off) == 0)
			return fd;
		close(fd);
	}
	return -EIO;
}

static int udp_socket(int family, uint16_t port, uint32_t mark, uint16_t *bound)
{
	struct sockaddr_in6 sa = { 0 };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(sa);
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	sa.sin6_family = (sa_family_t)family;
	sa.sin6_port = htons(port);	/* sin_port and sin6_port share the offset */
	if ((family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) ||
	    bind(fd, (struct sockaddr *)&sa, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &(socklen_t){ sizeof(sa) }) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	*bound = ntohs(sa.sin6_port);
	return fd;
}

/* Both families on one port (IPv6 only where the kernel has it). */
static int open_udp(const struct awg_tunnel *t, struct live *l, uint32_t mark)
{
	uint16_t port = (t->conf.has & AWG_CONF_HAS_LISTEN_PORT) ? t->conf.listen_port : 0, p4;

	for (int attempt = 0; attempt < 8; attempt++) {
		uint16_t p6;

		l->udp4 = udp_socket(AF_INET, port, mark, &p4);
		if (l->udp4 < 0)
			return l->udp4;
		l->udp6 = udp_socket(AF_INET6, p4, mark, &p6);
		if (l->udp6 >= 0 || l->udp6 == -EAFNOSUPPORT || port)
			break;
		close(l->udp4);	/* a random port taken for IPv6: try another */
		l->udp4 = -1;
	}
	if (l->udp6 == -EAFNOSUPPORT)
		l->udp6 = -1;
	else if (l->udp6 < 0)
		return l->udp6;
	return 0;
}

/* ---- awgd ---- */

static void clear_cloexec(int fd)
{
	if (fd >= 0)
		fcntl(fd, F_SETFD, 0);
}

static int spawn_awgd(const struct awg_tunnel *t, struct live *l)
{
	char tun[16], u4[16], u6[16];
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		snprintf(tun, sizeof(tun), "%d", l->tun_fd);
		snprintf(u4, sizeof(u4), "%d", l->udp4);
		snprintf(u6, sizeof(u6), "%d", l->udp6);
		/*
		 * Nothing but its three fds: libnftables' socket carries no close-on-exec, and an
		 * owner table lives as long as anyone holds that socket; the caller's fds are not
		 * awgd's business either.
		 */
		if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
			for (int fd = 3; fd < 65536; fd++)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
		clear_cloexec(l->tun_fd);
		clear_cloexec(l->udp4);
		clear_cloexec(l->udp6);
		/* Detached (`up`): awgd must not hold the caller's terminal or pipe. */
		if (t->detached) {
			int nul = open("/dev/null", O_RDWR);

			if (nul >= 0) {
				dup2(nul, 1);
				dup2(nul, 2);
			}
		}
		setenv("WG_TUN_FD", tun, 1);
		if (l->udp4 >= 0)
			setenv("AWG_UDP_FD4", u4, 1);
		if (l->udp6 >= 0)
			setenv("AWG_UDP_FD6", u6, 1);
		execl(t->awgd, "awgd", "-f", "--user", t->user, t->name, (char *)NULL);
		fprintf(stderr, "awg-tunnel(%s): cannot run %s: %s\n", t->name, t->awgd,
			strerror(errno));
		_exit(127);
	}
	l->awgd = pid;
	return 0;
}

/* True once awgd answers a UAPI get (its socket file exists before it listens). */
static bool answers(const char *name)
{
	struct awg_conf c;
	bool ok;

	awg_conf_init(&c);
	ok = awg_ipc_get(name, &c) == 0;
	awg_conf_free(&c);
	return ok;
}

/* Waits up to 10 s for awgd's UAPI socket to answer; fails early if awgd exits. */
static int wait_socket(const struct awg_tunnel *t, struct live *l)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s.sock", SOCKET_DIR, t->name);
	for (int i = 0; i < 200; i++) {
		int status;

		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && answers(t->name))
			return 0;
		if (waitpid(l->awgd, &status, WNOHANG) == l->awgd) {
			l->awgd = 0;
			err(t, "awgd exited during start-up (status %d)",
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			return -ECHILD;
		}
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	}
	err(t, "awgd did not open %s within 10 s", path);
	return -ETIMEDOUT;
}

static void stop_awgd(struct live *l)
{
	if (l->awgd <= 0)
		return;
	kill(l->awgd, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(l->awgd, NULL, WNOHANG) == l->awgd) {
			l->awgd = 0;
			return;
		}
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	}
	kill(l->awgd, SIGKILL);
	waitpid(l->awgd, NULL, 0);
	l->awgd = 0;
}

/* ---- network ---- */

static bool has_ipv6_address(const struct awg_conf *c)
{
	for (size_t i = 0; i < c->n_addresses; i++)
		if (c->addresses[i].family == AWG_FAMILY_INET6)
			return true;
	return false;
}

/*
 * The tunnel MTU: the config's, checked against the path, or the smallest route MTU towards
 * the peers' endpoints minus the AmneziaWG overhead (mtu.h).
 */
static int choose_mtu(const struct awg_tunnel *t, struct live *l, unsigned *mtu)
{
	uint32_t path = 0, m;
	bool v6 = false, any = false;

	for (size_t i = 0; i < t->conf.n_peers; i++) {
		const struct awg_ipaddr *ip = &t->conf.peers[i].endpoint.ip;

		if (!ip->family)
			continue;
		if (awg_netcfg_route_mtu(l->nc, ip->family, ip->addr, l->table, &m, NULL) < 0)
			continue;
		if (!any || m < path)
			path = m;
		any = true;
		v6 |= ip->family == AWG_FAMILY_INET6;
	}
	/* No endpoint (a server): peers may come over either family. */
	if (!any) {
		path = 1500;
		v6 = true;
	}
	if (t->conf.has & AWG_CONF_HAS_MTU) {
		unsigned over = awg_mtu_excess(t->conf.mtu, path, &t->conf.obfs, v6);

		*mtu = t->conf.mtu;
		if (over)
			err(t, "warning: MTU %u plus %u bytes of per-packet overhead (IP, UDP, 32 "
			       "framing, S4 = %u) is %u, %u more than the path MTU %u: full-size "
			       "packets will not get through; MTU %u would",
			    t->conf.mtu, awg_mtu_overhead(&t->conf.obfs, v6),
			    t->conf.obfs.s[AWG_KIND_TRANSPORT], t->conf.mtu + awg_mtu_overhead(&t->conf.obfs, v6),
			    over, path, t->conf.mtu - over);
		return 0;
	}
	if (awg_mtu_for_path(path, &t->conf.obfs, v6, has_ipv6_address(&t->conf), mtu) < 0)
		err(t, "warning: the path MTU %u leaves less than the minimum MTU %u", path, *mtu);
	return 0;
}

static bool is_default(const struct awg_cidr *c)
{
	return c->cidr == 0;
}

static int add_routes(const struct awg_tunnel *t, struct live *l)
{
	uint32_t table = t->conf.table == AWG_TABLE_NUMBER ? t->conf.table_number : 0;
	int ret = 0;

	if (t->conf.table == AWG_TABLE_OFF)
		return 0;
	for (size_t i = 0; !ret && i < t->conf.n_peers; i++) {
		const struct awg_conf_peer *p = &t->conf.peers[i];

		for (size_t k = 0; !ret && k < p->n_allowed_ips; k++) {
			const struct awg_cidr *c = &p->allowed_ips[k];
			struct awg_netcfg_route r = {
				.family = c->family, .prefix = c->cidr, .oif = l->ifindex,
				.table = table,
			};

			memcpy(r.dst, c->addr, sizeof(r.dst));
			/* A default route with Table = auto: the full-tunnel scheme instead. */
			if (is_default(c) && t->conf.table == AWG_TABLE_AUTO) {
				l->full[c->family == AWG_FAMILY_INET6] = true;
				r.table = l->table;
			}
			ret = awg_netcfg_route_add(l->nc, &r, true);
			if (ret < 0)
				err(t, "cannot add the route for an allowed IP: %s", strerror(-ret));
		}
	}
	return ret;
}

/* wg-quick's rules: not fwmark T -> table T; main without its default route. */
static int add_full_tunnel_rules(const struct awg_tunnel *t, struct live *l)
{
	for (int v6 = 0; v6 < 2; v6++) {
		struct awg_netcfg_rule to_tunnel = {
			.family = v6 ? AF_INET6 : AF_INET, .table = l->table, .fwmark = l->table,
			.invert = true, .suppress_prefixlen = -1,
		};
		struct awg_netcfg_rule main_rest = {
			.family = v6 ? AF_INET6 : AF_INET, .table = 0, .suppress_prefixlen = 0,
		};
		int ret;

		if (!l->full[v6])
			continue;
		ret = awg_netcfg_rule_add(l->nc, &to_tunnel);
		if (!ret)
			ret = awg_netcfg_rule_add(l->nc, &main_rest);
		if (ret < 0) {
			err(t, "cannot add the full-tunnel policy rules: %s", strerror(-ret));
			return ret;
		}
	}
	if (l->full[0]) {
		/* Replies to marked packets must pass reverse-path filtering (as wg-quick). */
		int fd = open("/proc/sys/net/ipv4/conf/all/src_valid_mark", O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (write(fd, "1", 1) != 1)
				err(t, "warning: cannot set net.ipv4.conf.all.src_valid_mark");
			close(fd);
		}
	}
	return 0;
}

static int configure_network(const struct awg_tunnel *t, struct live *l)
{
	unsigned mtu = 0;
	int ret;

	l->ifindex = awg_netcfg_link_index(l->nc, t->name);
	if (l->ifindex < 0)
		return l->ifindex;
	choose_mtu(t, l, &mtu);
	ret = awg_netcfg_link_set_mtu(l->nc, l->ifindex, mtu);
	for (size_t i = 0; !ret && i < t->conf.n_addresses; i++) {
		const struct awg_cidr *a = &t->conf.addresses[i];

		ret = awg_netcfg_addr_add(l->nc, l->ifindex, a->family, a->addr, a->cidr);
	}
	if (!ret)
		ret = awg_netcfg_link_set_up(l->nc, l->ifindex, true);
	if (ret < 0) {
		err(t, "cannot configure interface %s: %s", t->name, strerror(-ret));
		return ret;
	}
	ret = add_routes(t, l);
	if (!ret)
		ret = add_full_tunnel_rules(t, l);
	return ret;
}

/* ---- state, for cleaning up after a crash ---- */

static int write_state(const struct awg_tunnel *t, const struct live *l)
{
	char path[4096], tmp[4200];
	FILE *f;

	mkdir(AWG_TUNNEL_STATE_DIR, 0700);
	state_path(path, sizeof(path), t->name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "pid=%ld\ntable=%u\nawgd=%ld\n", (long)getpid(), l->table, (long)l->awgd);
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		return -errno;
	return 0;
}

/* Reads a state file: the owner's pid, the full-tunnel table (0 when none), awgd's pid. */
static int read_state(const char *name, pid_t *pid, uint32_t *table, pid_t *awgd)
{
	char path[4096];
	long p = 0, a = 0;
	unsigned tb = 0;
	FILE *f;
	int n;

	state_path(path, sizeof(path), name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fscanf(f, "pid=%ld\ntable=%u\nawgd=%ld", &p, &tb, &a);
	fclose(f);
	if (n != 3)
		return -EINVAL;
	*pid = (pid_t)p;
	*table = tb;
	if (awgd)
		*awgd = (pid_t)a;
	return 0;
}

/*
 * True while pid runs a program whose name starts with prog (not a recycled pid) and has not
 * exited (a zombie nobody reaped yet counts as gone).
 */
static bool alive_as(pid_t pid, const char *prog)
{
	char path[64], line[256] = "", *open_paren, *close_paren;
	FILE *f;

	if (pid <= 0 || kill(pid, 0) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	/* "pid (comm) state ...": comm may hold spaces and parentheses, so take the last ')'. */
	open_paren = strchr(line, '(');
	close_paren = strrchr(line, ')');
	if (!open_paren || !close_paren || close_paren[1] != ' ' || close_paren[2] == 'Z' ||
	    close_paren[2] == 'X')
		return false;
	return !strncmp(open_paren + 1, prog, strlen(prog));
}

static bool tunnel_alive(pid_t pid)
{
	return alive_as(pid, "awg-tunnel");
}

/*
 * Removes what a dead awg-tunnel left: its orphaned awgd, rules of its table, the interface,
 * the state file.
 */
static int remove_remnants(const char *name, uint32_t table, pid_t awgd, bool *found)
{
	struct awg_netcfg *nc;
	char path[4096];
	int ret;

	if (alive_as(awgd, "awgd")) {
		kill(awgd, SIGTERM);
		for (int i = 0; i < 100 && alive_as(awgd, "awgd"); i++)
			nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
		if (alive_as(awgd, "awgd"))
			kill(awgd, SIGKILL);
		*found = true;
	}
	if (awg_dns_revert(name))
		*found = true;
	ret = awg_netcfg_open(&nc);

	if (ret < 0)
		return ret;
	if (table)
		for (int v6 = 0; v6 < 2; v6++)
			if (awg_netcfg_rule_flush(nc, v6 ? AF_INET6 : AF_INET, table, table, true) > 0)
				*found = true;
	if (awg_netcfg_link_del(nc, name) == 0)
		*found = true;
	awg_netcfg_close(nc);
	/* awgd binds its UAPI socket as root and exits as nobody, so it cannot remove it. */
	snprintf(path, sizeof(path), "%s/%s.sock", SOCKET_DIR, name);
	if (!answers(name))
		unlink(path);
	state_path(path, sizeof(path), name);
	if (unlink(path) == 0)
		*found = true;
	return 0;
}

/* Before bring-up: refuses a running instance, cleans up after a crashed one. */
static int check_stale(const struct awg_tunnel *t)
{
	pid_t pid, awgd;
	uint32_t table;
	bool found = false;

	if (read_state(t->name, &pid, &table, &awgd) < 0)
		return 0;
	if (tunnel_alive(pid)) {
		err(t, "already up (awg-tunnel pid %ld)", (long)pid);
		return -EEXIST;
	}
	remove_remnants(t->name, table, awgd, &found);
	if (found)
		err(t, "cleaned up after an earlier awg-tunnel that did not stop (pid %ld)",
		    (long)pid);
	return 0;
}

/* ---- privileges ---- */

/*
 * What the running service still needs once the tunnel is up: rtnetlink and the PreDown/
 * PostDown scripts' firewall tools (NET_ADMIN, NET_RAW), signalling awgd, which runs as another
 * user (KILL), and a restart: a new TUN and sockets, a port below 1024, and awgd's switch to
 * its user (NET_BIND_SERVICE, SETUID, SETGID). It stays uid 0, so the root-owned files it
 * rewrites (resolv.conf, the state directory, SaveConfig's file) need no capability.
 */
static const cap_value_t kept_caps[] = {
	CAP_NET_ADMIN, CAP_NET_RAW, CAP_KILL, CAP_NET_BIND_SERVICE, CAP_SETUID, CAP_SETGID,
};

static bool kept(cap_value_t c)
{
	for (size_t i = 0; i < sizeof(kept_caps) / sizeof(kept_caps[0]); i++)
		if (kept_caps[i] == c)
			return true;
	return false;
}

/*
 * Drops every other capability, also from the bounding set, so that neither this process nor
 * anything it runs (scripts, awgd on restart) regains them through execve as uid 0.
 */
static int drop_capabilities(void)
{
	cap_t caps;
	int ret = 0;

	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
		if (!kept(c) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	caps = cap_init();
	if (!caps)
		return -ENOMEM;
	if (cap_set_flag(caps, CAP_PERMITTED, sizeof(kept_caps) / sizeof(kept_caps[0]),
			 kept_caps, CAP_SET) < 0 ||
	    cap_set_flag(caps, CAP_EFFECTIVE, sizeof(kept_caps) / sizeof(kept_caps[0]),
			 kept_caps, CAP_SET) < 0 ||
	    cap_set_proc(caps) < 0)
		ret = -errno;
	cap_free(caps);
	return ret;
}

/* ---- the service ---- */

/* Moves the awg-quick keys (which UAPI does not know) from one model to the other. */
static void swap_quick_keys(struct awg_conf *a, struct awg_conf *b)
{
	const uint64_t quick = AWG_CONF_HAS_MTU | AWG_CONF_HAS_TABLE | AWG_CONF_HAS_SAVE_CONFIG |
			       AWG_CONF_HAS_KILL_SWITCH | AWG_CONF_HAS_ALLOW_LAN;
	struct awg_conf tmp = *a;
	uint64_t ha = a->has & quick, hb = b->has & quick;

	a->addresses = b->addresses, a->n_addresses = b->n_addresses;
	a->dns_servers = b->dns_servers, a->n_dns_servers = b->n_dns_servers;
	a->dns_search = b->dns_search, a->mtu = b->mtu, a->table = b->table;
	a->table_number = b->table_number, a->save_config = b->save_config;
	a->kill_switch = b->kill_switch, a->allow_lan = b->allow_lan;
	a->pre_up = b->pre_up, a->post_up = b->post_up;
	a->pre_down = b->pre_down, a->post_down = b->post_down;
	b->addresses = tmp.addresses, b->n_addresses = tmp.n_addresses;
	b->dns_servers = tmp.dns_servers, b->n_dns_servers = tmp.n_dns_servers;
	b->dns_search = tmp.dns_search, b->mtu = tmp.mtu, b->table = tmp.table;
	b->table_number = tmp.table_number, b->save_config = tmp.save_config;
	b->kill_switch = tmp.kill_switch, b->allow_lan = tmp.allow_lan;
	b->pre_up = tmp.pre_up, b->post_up = tmp.post_up;
	b->pre_down = tmp.pre_down, b->post_down = tmp.post_down;
	a->has = (a->has & ~quick) | hb;
	b->has = (b->has & ~quick) | ha;
}

/*
 * SaveConfig = true: the running configuration (peers and keys as they are now, e.g. after
 * `awg set`) with the file's awg-quick keys replaces the file, atomically, mode 0600.
 */
static void save_config(struct awg_tunnel *t)
{
	struct awg_conf run;
	char tmp[4200], *out = NULL;
	size_t len = 0;
	int fd, ret;

	/* A config from a descriptor (--config-fd) has no file to write back. */
	if (!t->path[0])
		return;
	awg_conf_init(&run);
	ret = awg_ipc_get(t->name, &run);
	if (!ret) {
		swap_quick_keys(&run, &t->conf);
		ret = awg_conf_write(&run, &out, &len, AWG_CONF_WRITE_QUICK);
		swap_quick_keys(&run, &t->conf);
	}
	awg_conf_free(&run);
	if (ret < 0) {
		err(t, "SaveConfig: cannot read the running configuration: %s", strerror(-ret));
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.awg-tunnel.tmp", t->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	ret = fd < 0 ? -errno : 0;
	if (!ret && (write(fd, out, len) != (ssize_t)len || fsync(fd) < 0))
		ret = -EIO;
	if (fd >= 0 && close(fd) < 0 && !ret)
		ret = -EIO;
	if (!ret && rename(tmp, t->path) < 0)
		ret = -errno;
	if (ret < 0) {
		err(t, "SaveConfig: cannot write %s: %s", t->path, strerror(-ret));
		unlink(tmp);
	}
	awg_wipe(out, len);
	free(out);
}

static void teardown(struct awg_tunnel *t, struct live *l)
{
	char path[4096];
	bool found = false;

	if (l->scripts_up)
		run_scripts(t, &t->conf.pre_down, "PreDown");
	if (l->scripts_up && t->conf.save_config)
		save_config(t);
	stop_awgd(l);
	if (l->nc) {
		awg_netcfg_close(l->nc);
		l->nc = NULL;
	}
	/* The interface went with awgd's fd; rules of our table stay until removed. */
	remove_remnants(t->name, l->table, 0, &found);
	state_path(path, sizeof(path), t->name);
	unlink(path);
	if (l->scripts_up)
		run_scripts(t, &t->conf.post_down, "PostDown");
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Tells systemd (Type=notify) that the tunnel is up, when it asked. */
static void sd_ready(void)
{
	const char *p = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!p || (p[0] != '/' && p[0] != '@') || strlen(p) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, p, strlen(p));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(p)));
	close(fd);
}

/* AllowLAN: the prefixes of every other link's addresses, loopback excluded. */
static size_t lan_prefixes(struct awg_cidr *out, size_t max)
{
	struct awg_netcfg_addr addrs[64];
	struct awg_netcfg *nc;
	size_t n = 0;
	int lo, total;

	if (awg_netcfg_open(&nc) < 0)
		return 0;
	lo = awg_netcfg_link_index(nc, "lo");
	total = awg_netcfg_addr_list(nc, 0, 0, addrs, 64);
	for (int i = 0; i < total && i < 64 && n < max; i++) {
		const struct awg_netcfg_addr *a = &addrs[i];
		struct awg_cidr c = { .family = (uint8_t)a->family, .cidr = a->prefix };

		if (a->ifindex == lo || (a->family == AF_INET && a->addr[0] == 127))
			continue;
		/* fe80::/10 is always in the LAN set; host routes are not subnets. */
		if (a->family == AF_INET6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80)
			continue;
		memcpy(c.addr, a->addr, a->family == AF_INET ? 4 : 16);
		awg_cidr_mask(&c);
		out[n++] = c;
	}
	awg_netcfg_close(nc);
	return n;
}

/*
 * Engages the kill switch before anything can connect (fail-closed), once per service: a
 * restart of awgd keeps it. mark is the fwmark of the tunnel's sockets.
 */
static int engage_kill_switch(struct awg_tunnel *t, uint32_t mark)
{
	struct awg_firewall_spec spec = {
		.ifname = t->name, .mode = awg_conf_kill_switch(&t->conf), .mark = mark,
		.dns = t->conf.dns_servers, .n_dns = t->conf.n_dns_servers,
		.allow_lan = t->conf.allow_lan,
	};
	struct awg_cidr lan[64];
	char why[256] = "", table[64];
	int ret;

	if (t->fw || spec.mode == AWG_KILL_SWITCH_OFF)
		return 0;
	if (spec.allow_lan) {
		spec.n_lan = lan_prefixes(lan, 64);
		spec.lan = lan;
	}
	ret = awg_firewall_engage(&t->fw, &spec, why, sizeof(why));
	if (ret < 0) {
		err(t, "cannot engage the kill switch: %s", why);
		return ret;
	}
	awg_firewall_table_name(table, sizeof(table), t->name,
				spec.mode == AWG_KILL_SWITCH_PERSISTENT);
	fprintf(stderr, "awg-tunnel(%s): kill switch %s%s (nftables table inet %s)\n", t->name,
		spec.mode == AWG_KILL_SWITCH_PERSISTENT ? "persistent" : "on",
		spec.allow_lan ? ", LAN allowed" : "", table);
	return 0;
}

static int bring_up(struct awg_tunnel *t, struct live *l)
{
	uint32_t mark = 0;
	int ret = resolve_endpoints(t);

	if (ret < 0)
		return ret;
	/* A default route in AllowedIPs with Table = auto: the full-tunnel scheme. */
	for (size_t i = 0; i < t->conf.n_peers; i++)
		for (size_t k = 0; k < t->conf.peers[i].n_allowed_ips; k++)
			if (is_default(&t->conf.peers[i].allowed_ips[k]) &&
			    t->conf.table == AWG_TABLE_AUTO)
				l->table = FULL_TUNNEL_TABLE;
	/*
	 * As wg-quick: a configured FwMark is also the full tunnel's table, so the rule
	 * "not fwmark T" exempts exactly what the sockets mark (else the tunnel's own
	 * datagrams would be routed into it).
	 */
	if (l->table && (t->conf.has & AWG_CONF_HAS_FWMARK) && t->conf.fwmark)
		l->table = t->conf.fwmark;
	/* The kill switch matches the tunnel's own datagrams by mark: they must carry one. */
	if ((t->conf.has & AWG_CONF_HAS_FWMARK) && t->conf.fwmark)
		mark = t->conf.fwmark;
	else if (l->table)
		mark = l->table;
	else if (awg_conf_kill_switch(&t->conf) != AWG_KILL_SWITCH_OFF)
		mark = FULL_TUNNEL_TABLE;
	ret = engage_kill_switch(t, mark);
	if (ret < 0)
		return ret;
	ret = run_scripts(t, &t->conf.pre_up, "PreUp");
	if (ret < 0)
		return ret;
	ret = awg_netcfg_open(&l->nc);
	if (ret < 0) {
		err(t, "cannot open rtnetlink: %s", strerror(-ret));
		return ret;
	}
	l->tun_fd = open_tun(t->name);
	if (l->tun_fd < 0) {
		err(t, "cannot create interface %s: %s", t->name, strerror(-l->tun_fd));
		return l->tun_fd;
	}
	ret = open_udp(t, l, mark);
	if (ret < 0) {
		err(t, "cannot open the UDP sockets: %s", strerror(-ret));
		return ret;
	}
	/* awgd gets the sockets marked as above; the UAPI set repeats the mark. */
	if (!(t->conf.has & AWG_CONF_HAS_FWMARK) && mark) {
		t->conf.fwmark = mark;
		t->conf.has |= AWG_CONF_HAS_FWMARK;
	}
	ret = spawn_awgd(t, l);
	close_fd(&l->udp4);
	close_fd(&l->udp6);
	if (ret < 0) {
		err(t, "cannot start awgd: %s", strerror(-ret));
		return ret;
	}
	/* The interface now lives as long as awgd holds its fd. */
	close_fd(&l->tun_fd);
	ret = wait_socket(t, l);
	if (ret < 0)
		return ret;
	ret = awg_ipc_set_conf(t->name, &t->conf, AWG_UAPI_SET_REPLACE);
	if (ret < 0) {
		err(t, "awgd refused the configuration: %s", strerror(-ret));
		return ret;
	}
	ret = configure_network(t, l);
	if (ret < 0)
		return ret;
	/* The state file first: a crash from here on leaves a record of the DNS change too. */
	ret = write_state(t, l);
	if (ret < 0) {
		err(t, "cannot write the state file: %s", strerror(-ret));
		return ret;
	}
	ret = awg_dns_apply(t->name, &t->conf, l->ifindex, l->full[0] || l->full[1]);
	if (ret < 0) {
		err(t, "cannot set the DNS servers: %s", strerror(-ret));
		return ret;
	}
	ret = run_scripts(t, &t->conf.post_up, "PostUp");
	l->scripts_up = true;
	return ret;
}

/*
 * After awgd died: everything down (the interface went with it), a second's pause, everything
 * up again, scripts included, as a service manager's restart would do.
 */
static int restart(struct awg_tunnel *t, struct live *l)
{
	int ret;

	teardown(t, l);
	*l = (struct live){ .tun_fd = -1, .udp4 = -1, .udp6 = -1 };
	sleep(1);
	ret = bring_up(t, l);
	close_fd(&l->tun_fd);
	close_fd(&l->udp4);
	close_fd(&l->udp6);
	if (ret < 0)
		err(t, "the restart failed: giving up");
	else
		fprintf(stderr, "awg-tunnel(%s): up again\n", t->name);
	return ret;
}

/*
 * Lifts the kill switch on an explicit stop. On an error a persistent one stays, so traffic
 * stays blocked until `down` (fail-closed); an owner table goes with the process anyway.
 */
static void stop_kill_switch(struct awg_tunnel *t, bool explicit_stop)
{
	if (!t->fw)
		return;
	if (explicit_stop || awg_conf_kill_switch(&t->conf) != AWG_KILL_SWITCH_PERSISTENT) {
		awg_firewall_release(t->fw);
	} else {
		awg_firewall_abandon(t->fw);
		err(t, "the persistent kill switch stays engaged; `awg-tunnel down %s` lifts it",
		    t->name);
	}
	t->fw = NULL;
}

int awg_tunnel_run(struct awg_tunnel *t, int ready_fd)
{
	struct live l = { .tun_fd = -1, .udp4 = -1, .udp6 = -1 };
	struct signalfd_siginfo si;
	sigset_t set;
	int sfd, status = 0, ret;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0 || check_stale(t) < 0) {
		close_fd(&ready_fd);
		return 1;
	}
	fprintf(stderr, "awg-tunnel(%s): starting\n", t->name);
	ret = bring_up(t, &l);
	close_fd(&l.tun_fd);
	close_fd(&l.udp4);
	close_fd(&l.udp6);
	if (ret < 0) {
		teardown(t, &l);
		stop_kill_switch(t, false);
		close(sfd);
		/* No "down" line: the error stays the last line `up` prints. */
		close_fd(&ready_fd);
		return 1;
	}
	/* A crash's persistent table stays until this successful up when we engage none. */
	if (!t->fw && awg_firewall_remove_stale(t->name))
		fprintf(stderr, "awg-tunnel(%s): removed the persistent kill switch of an earlier "
			"run\n", t->name);
	ret = drop_capabilities();
	if (ret < 0)
		err(t, "warning: cannot drop capabilities: %s", strerror(-ret));
	fprintf(stderr, "awg-tunnel(%s): up: interface %s, ifindex %d\n", t->name, t->name,
		l.ifindex);
	if (ready_fd >= 0 && write(ready_fd, "ok\n", 3) != 3)
		err(t, "cannot report readiness");
	/* Answered: the reader sees EOF after "ok", and no later child can hold the fd. */
	close_fd(&ready_fd);
	/* Detached: let go of the caller's stderr now that it has its answer. */
	if (t->detached) {
		int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (nul >= 0) {
			dup2(nul, 2);
			close(nul);
		}
	}
	sd_ready();
	for (;;) {
		if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		if (si.ssi_signo != SIGCHLD)
			break;
		if (waitpid(l.awgd, &status, WNOHANG) != l.awgd)
			continue;	/* a script's child, not awgd */
		l.awgd = 0;
		status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (t->restarts <= 0) {
			err(t, "awgd exited (status %d): tearing the tunnel down", status);
			status = 1;
			break;
		}
		t->restarts--;
		err(t, "awgd exited (status %d): restarting the tunnel (%d restart(s) left)",
		    status, t->restarts);
		status = 1;
		if (restart(t, &l) < 0)
			break;
		status = 0;
	}
	teardown(t, &l);
	/* A signal is the explicit stop; awgd dying for good is an error state. */
	stop_kill_switch(t, status == 0);
	close(sfd);
	fprintf(stderr, "awg-tunnel(%s): down\n", t->name);
	return status ? 1 : 0;
}

int awg_tunnel_down(const char *name)
{
	pid_t pid, awgd = 0;
	uint32_t table;
	bool found = false;

	if (read_state(name, &pid, &table, &awgd) == 0 && tunnel_alive(pid)) {
		kill(pid, SIGTERM);
		for (int i = 0; i < 300 && tunnel_alive(pid); i++)
			nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
		if (tunnel_alive(pid)) {
			fprintf(stderr, "awg-tunnel(%s): pid %ld did not stop within 15 s\n", name,
				(long)pid);
			return 1;
		}
		/* It removes its state file last: if that is still there, it died mid-way. */
		if (read_state(name, &pid, &table, &awgd) < 0)
			return 0;
	}
	/* Without a state file the table is unknown: rules of another tunnel must stay. */
	if (read_state(name, &pid, &table, &awgd) < 0)
		table = 0, awgd = 0;
	remove_remnants(name, table, awgd, &found);
	/* The explicit down is what lifts a persistent kill switch left by a crash. */
	if (awg_firewall_remove_stale(name)) {
		fprintf(stderr, "awg-tunnel(%s): persistent kill switch lifted\n", name);
		found = true;
	}
	if (!found) {
		fprintf(stderr, "awg-tunnel: '%s' is not up\n", name);
		return 1;
	}
	fprintf(stderr, "awg-tunnel(%s): removed what a stopped awg-tunnel left behind\n", name);
	return 0;
}
