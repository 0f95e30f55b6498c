// SPDX-License-Identifier: MIT
/*
 * awgd: the AmneziaWG data-plane engine, a drop-in replacement for amneziawg-go
 * (`awgd [-f|--foreground] <ifname>`, WG_TUN_FD, WG_UAPI_FD, LOG_LEVEL). Owns the command line,
 * daemonising and dropping privileges; the interface itself is engine.c.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cryptopool.h"
#include "engine.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: awgd [options] <interface>\n"
		"\n"
		"AmneziaWG data-plane engine. Creates the TUN interface <interface> and serves the\n"
		"UAPI configuration protocol on /var/run/amneziawg/<interface>.sock (configure it with\n"
		"`awg`, or `wg` for plain WireGuard parameters). Exits when that socket file is\n"
		"removed or on SIGTERM/SIGINT.\n"
		"\n"
		"Options:\n"
		"  -f, --foreground     stay in the foreground (default: go to the background once\n"
		"                       the interface and socket exist)\n"
		"      --wg-socket      also serve /var/run/wireguard/<interface>.sock, where\n"
		"                       Debian's wg tool looks\n"
		"      --socket-dir DIR serve DIR/<interface>.sock instead of /var/run/amneziawg\n"
		"      --mtu N          MTU of a newly created interface (default 1420)\n"
		"      --user USER      after set-up, switch to USER with no capabilities and\n"
		"                       no_new_privs (the UDP port then stays where it is);\n"
		"                       implies --sandbox\n"
		"      --sandbox        once running, allow only the system calls the packet path\n"
		"                       and UAPI need (seccomp; others fail with EPERM)\n"
		"      --no-offload     plain TUN packets: no TCP/UDP segmentation offload from the\n"
		"                       kernel and no coalescing towards it (also AWG_NO_OFFLOAD=1)\n"
		"      --crypto-threads N  threads that encrypt and decrypt packets besides the two\n"
		"                       packet threads (0-15; default: one per core beyond two;\n"
		"                       also AWG_CRYPTO_THREADS=N)\n"
		"      --poll-us N      while packets keep coming (less than N us apart), poll up\n"
		"                       to N us for the next before sleeping: fewer context switches\n"
		"                       under load, nothing spent when idle (default 100, 0 = never;\n"
		"                       also AWG_POLL_US=N)\n"
		"  -h, --help           this text\n"
		"      --version        print the version\n"
		"\n"
		"Environment:\n"
		"  WG_TUN_FD=N          use the already open TUN file descriptor N\n"
		"  WG_UAPI_FD=N         serve UAPI on the already listening socket N\n"
		"  AWG_UDP_FD4=N, AWG_UDP_FD6=N  use these bound UDP sockets (IPv4; IPv6 V6ONLY, same\n"
		"                       port) instead of opening any: the parent keeps the port and\n"
		"                       the fwmark, so listen_port/fwmark changes are refused\n"
		"  WG_PROCESS_FOREGROUND=1  same as --foreground\n"
		"  LOG_LEVEL=verbose|debug|error|silent  (default error); logs go to stderr\n"
		"\n"
		"Signals: SIGTERM, SIGINT, SIGHUP end the daemon; SIGUSR1 logs (verbose) how many\n"
		"datagrams from the network were dropped, per reason.\n");
}

static int env_fd(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long fd;

	if (!v)
		return -1;
	errno = 0;
	fd = strtol(v, &end, 10);
	if (errno || *end || end == v || fd < 0 || fd > 65535) {
		fprintf(stderr, "awgd: %s=%s is not a file descriptor number\n", name, v);
		exit(1);
	}
	return (int)fd;
}

static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		awg_err("--user %s: no such user", user);
		return -ENOENT;
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		awg_err("--user %s: cannot switch: %s", user, strerror(errno));
		return -errno;
	}
	awg_info("running as %s (uid %u) without capabilities", user, (unsigned)pw->pw_uid);
	return 0;
}

/* Forks; the parent exits once the child is the daemon. The interface exists already. */
static void daemonise(void)
{
	pid_t pid = fork();

	if (pid < 0) {
		awg_err("fork: %s", strerror(errno));
		exit(1);
	}
	if (pid > 0)
		_exit(0);
	setsid();
	if (!freopen("/dev/null", "r", stdin) || !freopen("/dev/null", "w", stdout))
		awg_err("cannot redirect stdio: %s", strerror(errno));
	/*
	 * Like amneziawg-go: the daemon keeps stderr only when LOG_LEVEL asks for logs; otherwise a
	 * caller that captures stderr (`$(awgd wg0 2>&1)`, a test runner) would wait for it forever.
	 */
	if ((!getenv("LOG_LEVEL") || awg_log_level() == AWG_LOG_SILENT) &&
	    !freopen("/dev/null", "w", stderr))
		_exit(1);
}

int main(int argc, char **argv)
{
	enum {
		OPT_WG_SOCKET = 256, OPT_SOCKET_DIR, OPT_MTU, OPT_USER, OPT_VERSION, OPT_NO_OFFLOAD,
		OPT_CRYPTO_THREADS, OPT_POLL_US, OPT_SANDBOX,
	};
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "wg-socket", no_argument, NULL, OPT_WG_SOCKET },
		{ "socket-dir", required_argument, NULL, OPT_SOCKET_DIR },
		{ "mtu", required_argument, NULL, OPT_MTU },
		{ "user", required_argument, NULL, OPT_USER },
		{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
		{ "crypto-threads", required_argument, NULL, OPT_CRYPTO_THREADS },
		{ "poll-us", required_argument, NULL, OPT_POLL_US },
		{ "sandbox", no_argument, NULL, OPT_SANDBOX },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	struct awg_engine_options opt = {
		.tun_fd = -1, .uapi_fd = -1, .udp_fd4 = -1, .udp_fd6 = -1, .crypto_threads = -1,
		.poll_us = -1,
	};
	const char *threads = getenv("AWG_CRYPTO_THREADS"), *poll = getenv("AWG_POLL_US");
	const char *user = NULL, *fg = getenv("WG_PROCESS_FOREGROUND");
	bool foreground = fg && !strcmp(fg, "1");
	struct awg_engine *e;
	char *end;
	int c, ret;

	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			foreground = true;
			break;
		case OPT_WG_SOCKET:
			opt.wg_socket = true;
			break;
		case OPT_SOCKET_DIR:
			opt.socket_dir = optarg;
			break;
		case OPT_MTU:
			opt.mtu = (unsigned)strtoul(optarg, &end, 10);
			if (*end || opt.mtu < 576 || opt.mtu > 65535) {
				fprintf(stderr, "awgd: --mtu %s: expected 576..65535\n", optarg);
				return 1;
			}
			break;
		case OPT_USER:
			user = optarg;
			opt.sandbox = true;
			break;
		case OPT_NO_OFFLOAD:
			opt.no_offload = true;
			break;
		case OPT_CRYPTO_THREADS:
			threads = optarg;
			break;
		case OPT_POLL_US:
			poll = optarg;
			break;
		case OPT_SANDBOX:
			opt.sandbox = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("awgd 0.1.0 (AmneziaWG 1.0-3.1)\n");
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 1;
	}
	opt.ifname = argv[optind];
	if (strlen(opt.ifname) >= IFNAMSIZ || !*opt.ifname || strchr(opt.ifname, '/')) {
		fprintf(stderr, "awgd: '%s' is not a valid interface name (1-15 chars, no '/')\n",
			opt.ifname);
		return 1;
	}
	if (getenv("AWG_NO_OFFLOAD") && !strcmp(getenv("AWG_NO_OFFLOAD"), "1"))
		opt.no_offload = true;
	if (threads) {
		unsigned long n = strtoul(threads, &end, 10);

		if (!*threads || *end || n > AWG_CRYPTOPOOL_MAX_WORKERS) {
			fprintf(stderr, "awgd: crypto threads '%s': expected 0..%d\n", threads,
				AWG_CRYPTOPOOL_MAX_WORKERS);
			return 1;
		}
		opt.crypto_threads = (int)n;
	}
	if (poll) {
		unsigned long n = strtoul(poll, &end, 10);

		if (!*poll || *end || n > 10000) {
			fprintf(stderr, "awgd: busy-poll window '%s': expected 0..10000 (us)\n", poll);
			return 1;
		}
		opt.poll_us = (int)n;
	}
	opt.tun_fd = env_fd("WG_TUN_FD");
	opt.uapi_fd = env_fd("WG_UAPI_FD");
	opt.udp_fd4 = env_fd("AWG_UDP_FD4");
	opt.udp_fd6 = env_fd("AWG_UDP_FD6");
	awg_log_init(opt.ifname);
	ret = awg_engine_new(&opt, &e);
	if (ret < 0)
		return 1;
	if (user && drop_privileges(user) < 0) {
		awg_engine_free(e);
		return 1;
	}
	if (!foreground)
		daemonise();
	ret = awg_engine_run(e);
	awg_engine_free(e);
	return ret < 0 ? 1 : 0;
}
