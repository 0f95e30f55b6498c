// SPDX-License-Identifier: MIT
/* Owns awg-tunnel's command line: config loading and the up, down, run and strip verbs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "fdio.h"
#include "logpipe.h"
#include "name.h"
#include "service.h"

/* Configs are small; a larger file is a mistake, not a tunnel. */
#define CONF_MAX (1u << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: awg-tunnel up|down|run|strip <file.conf | name>\n"
		"       awg-tunnel run [--config-fd N] [--ready-fd N] [--log-fd N]\n"
		"                      [--display-name NAME] <file.conf | name>\n"
		"\n"
		"AmneziaWG tunnel service, for awg-quick configs: [Interface] with Address, DNS,\n"
		"MTU, Table, PreUp/PostUp/PreDown/PostDown, SaveConfig and every AmneziaWG key;\n"
		"[Peer] sections as for `awg setconf`.\n"
		"\n"
		"  up      bring the tunnel up and leave a service process running it (returns once\n"
		"          everything is configured; on any error nothing is left configured)\n"
		"  down    stop that process, which takes everything down again; after a crash,\n"
		"          remove what the crashed one left (interface, policy rules)\n"
		"  run     bring it up and stay in the foreground until SIGTERM/SIGINT (for systemd:\n"
		"          reports readiness with sd_notify); if awgd dies, the tunnel is taken down\n"
		"          and brought up again AWG_TUNNEL_RESTART times (default 0), then exits 1\n"
		"  strip   print the config without the awg-quick keys, as `awg setconf` takes it\n"
		"\n"
		"Options of run, for a supervisor such as awg-manager that starts it as a child:\n"
		"  --config-fd N     read the config from descriptor N (a sealed memfd or a pipe, up\n"
		"                    to 1 MiB) instead of a file, then close it; the argument is then\n"
		"                    the tunnel and interface name, and SaveConfig is ignored (there\n"
		"                    is no file to write back)\n"
		"  --ready-fd N      write \"ok\\n\" to descriptor N once the tunnel is up, then close\n"
		"                    it; if the bring-up fails, N is closed without it\n"
		"  --log-fd N        N is a writable descriptor of the shared ring log file: every\n"
		"                    line awg-tunnel, awgd and the scripts print on stderr is also\n"
		"                    written there as \"[TUN] [NAME] line\" (keys hidden), and still\n"
		"                    goes to stderr\n"
		"  --display-name NAME  the NAME in those lines (default: the interface name)\n"
		"\n"
		"A name is looked up as %s/<name>.conf (AWG_TUNNEL_CONF_DIR overrides the\n"
		"directory); an argument with a '/' or ending in .conf is a path. The tunnel and\n"
		"interface name is the file's base name: 1-15 bytes of a-z A-Z 0-9 _ = + . -.\n"
		"\n"
		"The engine, awgd, runs as an unprivileged user (AWG_TUNNEL_USER, default nobody) with\n"
		"no capabilities and a seccomp allow-list; awg-tunnel creates the interface and the\n"
		"UDP sockets and hands them over. AWGD=path selects the engine binary. Without MTU the\n"
		"tunnel MTU is the route MTU towards the endpoints minus IP, UDP, WireGuard and S4\n"
		"overhead; a given MTU that cannot fit is warned about, with the numbers. A default\n"
		"route in AllowedIPs with Table = auto takes over all traffic the way wg-quick does\n"
		"(table and fwmark 51820, or FwMark when set; `not fwmark` and\n"
		"`suppress_prefixlength 0` rules). DNS servers and search domains go to\n"
		"systemd-resolved over D-Bus when it runs (~. for a full tunnel), else to resolvconf\n"
		"when installed, else into a managed /etc/resolv.conf whose original comes back on\n"
		"down (AWG_TUNNEL_DNS=resolved|resolvconf|file forces one). SaveConfig = true\n"
		"writes the running configuration back to the file on down. State for crash\n"
		"clean-up lives in /run/awg-tunnel/.\n"
		"\n"
		"Kill switch ([Interface] KillSwitch = auto | off | on | persistent, AllowLAN =\n"
		"true | false): while on, an nftables table drops all traffic that does not go\n"
		"through the tunnel except loopback, the tunnel's own UDP, DHCP and IPv6 neighbour\n"
		"discovery; DNS (port 53) goes only to the DNS = servers, also inside the tunnel;\n"
		"AllowLAN lets the directly connected subnets through. It is in place before the\n"
		"tunnel connects and stays across awgd restarts. auto (the default) turns it on as\n"
		"the Windows client does: one peer with 0.0.0.0/0 or ::/0 and Table not off. on:\n"
		"the table (awg_ks_<if>, flags owner) goes when awg-tunnel exits or dies.\n"
		"persistent: the table (awg_ksp_<if>) stays after a crash or an error and keeps\n"
		"traffic blocked until `down`, or until the next successful up replaces it.\n"
		"\n"
		"Errors in a config are reported as file:line:column: message. Exit status: 0 on\n"
		"success, 1 on any error.\n",
		AWG_TUNNEL_CONF_DIR);
}

/* Reads a regular file of at most CONF_MAX bytes into an owned NUL-terminated buffer. */
static int read_conf(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	ssize_t r;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), ret = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONF_MAX) {
		ret = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		goto out;
	}
	if (st.st_mode & 0007)
		fprintf(stderr, "Warning: `%s' is world accessible\n", path);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size && (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	buf[got] = 0;
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return ret;
}

/* Reads descriptor fd to EOF (pread from 0 for a memfd or file) into buf (CONF_MAX + 1). */
static int read_fd(int fd, char *buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	bool file;

	if (fstat(fd, &st) < 0)
		return -errno;
	file = S_ISREG(st.st_mode);
	for (;;) {
		ssize_t r = file ? pread(fd, buf + got, CONF_MAX + 1 - got, (off_t)got) :
				   read(fd, buf + got, CONF_MAX + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		/* A non-blocking pipe from the supervisor: wait for its writer. */
		if (r < 0 && errno == EAGAIN &&
		    poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, -1) >= 0)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > CONF_MAX)
			return -EFBIG;
	}
	*len = got;
	return 0;
}

/*
 * Parses text (len bytes, NUL-terminated) into c, reporting errors as "what:line:column:
 * message"; wipes and frees text. 0 or 1 (reported).
 */
static int parse(const char *what, char *text, size_t len, struct awg_conf *c)
{
	struct awg_parse_error err = { 0 };
	int ret = awg_conf_parse(c, text, len, AWG_CONF_DIALECT_QUICK, &err);

	awg_wipe(text, len);
	free(text);
	if (ret == -ENOMEM) {
		fprintf(stderr, "%s: out of memory\n", what);
		return 1;
	}
	if (ret < 0) {
		if (err.line)
			fprintf(stderr, "%s:%u:%u: %s\n", what, err.line, err.column, err.msg);
		else
			fprintf(stderr, "%s: %s\n", what, err.msg);
		return 1;
	}
	return 0;
}

/* Reads and parses the config file at path into c (freshly initialised). 0 or 1 (reported). */
static int load_path(const char *path, struct awg_conf *c)
{
	char what[4200], *text = NULL;
	size_t len = 0;
	int ret = read_conf(path, &text, &len);

	if (ret < 0) {
		fprintf(stderr, "awg-tunnel: %s: %s\n", path,
			ret == -EFBIG ? "larger than 1 MiB" :
			ret == -EINVAL ? "not a regular file" : strerror(-ret));
		return 1;
	}
	snprintf(what, sizeof(what), "awg-tunnel: %s", path);
	return parse(what, text, len, c);
}

/*
 * Reads the config of tunnel name from descriptor fd (--config-fd) and parses it into c
 * (freshly initialised). SaveConfig is switched off: there is no file to write back. 0 or 1
 * (reported).
 */
static int load_fd(int fd, const char *name, struct awg_conf *c)
{
	char what[64], *text = malloc(CONF_MAX + 2);
	size_t len = 0;
	int ret;

	if (!text) {
		fprintf(stderr, "awg-tunnel(%s): out of memory\n", name);
		return 1;
	}
	ret = read_fd(fd, text, &len);
	if (ret < 0) {
		fprintf(stderr, "awg-tunnel(%s): --config-fd %d: %s\n", name, fd,
			ret == -EFBIG ? "larger than 1 MiB" : strerror(-ret));
		/* What was read before the error may hold a key. */
		awg_wipe(text, CONF_MAX + 2);
		free(text);
		return 1;
	}
	text[len] = 0;
	snprintf(what, sizeof(what), "awg-tunnel(%s): config from fd %d", name, fd);
	if (parse(what, text, len, c))
		return 1;
	if (c->save_config) {
		fprintf(stderr, "awg-tunnel(%s): warning: SaveConfig = true is ignored for a "
				"config read from a descriptor\n", name);
		c->save_config = false;
	}
	return 0;
}

/*
 * Resolves arg, reads and parses the config into c (freshly initialised); path receives the
 * file's path (4096 bytes). 0 or 1 (reported).
 */
static int load(const char *arg, struct awg_conf *c, char name[AWG_TUNNEL_NAME_MAX + 1],
		char *path)
{
	const char *why;

	if (awg_tunnel_name_resolve(arg, getenv("AWG_TUNNEL_CONF_DIR"), path, name, &why) < 0) {
		fprintf(stderr, "awg-tunnel: '%s': %s\n", arg, why);
		return 1;
	}
	return load_path(path, c);
}

static int cmd_strip(const char *arg)
{
	char name[AWG_TUNNEL_NAME_MAX + 1], path[4096], *out = NULL;
	struct awg_conf c;
	size_t len = 0;
	int ret;

	awg_conf_init(&c);
	ret = load(arg, &c, name, path);
	if (!ret && awg_conf_write(&c, &out, &len, 0) < 0) {
		fprintf(stderr, "awg-tunnel: %s: cannot write the stripped config\n", name);
		ret = 1;
	}
	if (!ret && fwrite(out, 1, len, stdout) != len)
		ret = 1;
	if (out) {
		awg_wipe(out, len);
		free(out);
	}
	awg_conf_free(&c);
	return ret;
}

/* The engine: $AWGD, next to this binary (installed or in the build tree), or sbin. */
static const char *find_awgd(void)
{
	static const char *const rel[] = { "awgd", "../../awgd", "../sbin/awgd" };

	return awg_exe_sibling("AWGD", rel, 3, "/usr/sbin/awgd");
}

/* The run verb's options; a descriptor is -1 when not given. */
struct run_opts {
	const char *arg;		/* a config file or name; with config_fd, the tunnel name */
	const char *display;		/* --display-name: the ring log's [NAME], or NULL */
	int config_fd;
	int ready_fd;
	int log_fd;
};

/* Reads the AWG_TUNNEL_RESTART count into *restarts. 0 or 1 (reported). */
static int restart_count(int *restarts)
{
	const char *env = getenv("AWG_TUNNEL_RESTART");
	char *end;
	long n;

	if (!env)
		return 0;
	n = strtol(env, &end, 10);
	if (*end || n < 0 || n > 1000) {
		fprintf(stderr, "awg-tunnel: AWG_TUNNEL_RESTART=%s: expected 0..1000\n", env);
		return 1;
	}
	*restarts = (int)n;
	return 0;
}

/* `up`: the service runs in a child; this returns once it is up (0) or has failed (1). */
static int detach_run(struct awg_tunnel *t)
{
	int pipefd[2], ret, status;
	char buf[4];
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		perror("awg-tunnel");
		return 1;
	}
	if (pid == 0) {
		int nul;

		close(pipefd[0]);
		setsid();
		t->detached = true;
		nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		ret = awg_tunnel_run(t, pipefd[1]);
		awg_conf_free(&t->conf);
		_exit(ret);
	}
	close(pipefd[1]);
	ret = read(pipefd[0], buf, 3) == 3 ? 0 : 1;
	close(pipefd[0]);
	if (ret)
		waitpid(pid, &status, 0);
	return ret;
}

/*
 * up and run. The tunnel's name comes first (from the file name, or the argument itself with
 * --config-fd), then the ring log, so that config errors land in it too.
 */
static int cmd_run(const struct run_opts *o, bool detach)
{
	struct awg_tunnel t = { .awgd = find_awgd(), .user = getenv("AWG_TUNNEL_USER") };
	struct awg_logpipe lp;
	bool logging = false;
	const char *why;
	int ret;

	if (!t.user || !*t.user)
		t.user = "nobody";
	awg_conf_init(&t.conf);
	ret = restart_count(&t.restarts);
	if (ret)
		goto out;
	ret = 1;
	if (o->config_fd >= 0) {
		if (!awg_tunnel_name_valid(o->arg, &why)) {
			fprintf(stderr, "awg-tunnel: '%s': %s\n", o->arg, why);
			goto out;
		}
		snprintf(t.name, sizeof(t.name), "%s", o->arg);
	} else if (awg_tunnel_name_resolve(o->arg, getenv("AWG_TUNNEL_CONF_DIR"), t.path, t.name,
					   &why) < 0) {
		fprintf(stderr, "awg-tunnel: '%s': %s\n", o->arg, why);
		goto out;
	}
	if (o->log_fd >= 0) {
		int r = awg_logpipe_start(&lp, o->log_fd, o->display ? o->display : t.name);

		/* A broken log must not keep the tunnel down: stderr still has everything. */
		if (r < 0)
			fprintf(stderr, "awg-tunnel(%s): warning: --log-fd %d: cannot use the "
					"ring log: %s\n", t.name, o->log_fd, strerror(-r));
		logging = r == 0;
		t.hide_scripts = true;
		/* Mapped now; awgd and the scripts must not inherit a writable log. */
		close(o->log_fd);
	}
	if (o->config_fd >= 0) {
		ret = load_fd(o->config_fd, t.name, &t.conf);
		close(o->config_fd);
	} else {
		ret = load_path(t.path, &t.conf);
	}
	if (ret)
		goto out;
	ret = detach ? detach_run(&t) : awg_tunnel_run(&t, o->ready_fd);
out:
	awg_conf_free(&t.conf);
	if (logging)
		awg_logpipe_stop(&lp);
	return ret;
}

/* Parses a descriptor number that must be open in this process. 0 or -1 (reported). */
static int parse_fd(const char *opt, const char *s, int *fd)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (!*s || *end || errno || n < 0 || n > INT_MAX) {
		fprintf(stderr, "awg-tunnel: %s '%s': not a descriptor number\n", opt, s);
		return -1;
	}
	if (fcntl((int)n, F_GETFD) < 0) {
		fprintf(stderr, "awg-tunnel: %s %ld: not an open descriptor\n", opt, n);
		return -1;
	}
	*fd = (int)n;
	return 0;
}

/*
 * The options of run, then exactly one argument. The descriptors must differ from each other
 * and from stderr, which --log-fd replaces. 0 or -1 (reported).
 */
static int parse_run(int argc, char **argv, struct run_opts *o)
{
	int i;

	*o = (struct run_opts){ .config_fd = -1, .ready_fd = -1, .log_fd = -1 };
	for (i = 0; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
		int *fd = !strcmp(argv[i], "--config-fd") ? &o->config_fd :
			  !strcmp(argv[i], "--ready-fd") ? &o->ready_fd :
			  !strcmp(argv[i], "--log-fd") ? &o->log_fd : NULL;

		if (i + 1 >= argc || (!fd && strcmp(argv[i], "--display-name"))) {
			fprintf(stderr, "awg-tunnel: run: unknown option or missing value: '%s'\n",
				argv[i]);
			return -1;
		}
		if (!fd)
			o->display = argv[i + 1];
		else if (parse_fd(argv[i], argv[i + 1], fd) < 0)
			return -1;
	}
	if (i != argc - 1) {
		fprintf(stderr, "awg-tunnel: run: expected one config file or name after the "
				"options\n");
		return -1;
	}
	o->arg = argv[i];
	if ((o->config_fd >= 0 && (o->config_fd == o->ready_fd || o->config_fd == o->log_fd)) ||
	    (o->ready_fd >= 0 && o->ready_fd == o->log_fd) ||
	    o->config_fd == STDERR_FILENO || o->ready_fd == STDERR_FILENO ||
	    o->log_fd == STDERR_FILENO) {
		fprintf(stderr, "awg-tunnel: run: --config-fd, --ready-fd and --log-fd must be "
				"different descriptors other than 2\n");
		return -1;
	}
	if (o->display && (!*o->display || strlen(o->display) > 64)) {
		fprintf(stderr, "awg-tunnel: run: --display-name must have 1-64 bytes\n");
		return -1;
	}
	/* Neither awgd nor a script may hold the readiness pipe open. */
	if (o->ready_fd >= 0)
		fcntl(o->ready_fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

int main(int argc, char **argv)
{
	struct run_opts o;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
			  !strcmp(argv[1], "help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "run")) {
		if (parse_run(argc - 2, argv + 2, &o) < 0)
			return 1;
	} else if (argc != 3) {
		usage(stderr);
		return 1;
	}
	if (awg_crypto_init() < 0) {
		fprintf(stderr, "awg-tunnel: cannot load libcrypto/libsodium\n");
		return 1;
	}
	if (!strcmp(argv[1], "strip"))
		return cmd_strip(argv[2]);
	if (!strcmp(argv[1], "up")) {
		o = (struct run_opts){ .arg = argv[2], .config_fd = -1, .ready_fd = -1,
				       .log_fd = -1 };
		return cmd_run(&o, true);
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(&o, false);
	if (!strcmp(argv[1], "down")) {
		char path[4096], name[AWG_TUNNEL_NAME_MAX + 1];
		const char *why;

		if (awg_tunnel_name_resolve(argv[2], NULL, path, name, &why) < 0) {
			fprintf(stderr, "awg-tunnel: '%s': %s\n", argv[2], why);
			return 1;
		}
		return awg_tunnel_down(name);
	}
	usage(stderr);
	return 1;
}
