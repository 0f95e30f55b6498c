// SPDX-License-Identifier: MIT
/* Owns awg-tunnel's command line: config loading and the up, down, run and strip verbs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "name.h"
#include "service.h"

/* Configs are small; a larger file is a mistake, not a tunnel. */
#define CONF_MAX (1u << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: awg-tunnel up|down|run|strip <file.conf | name>\n"
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

/*
 * Resolves arg, reads and parses the config into c (freshly initialised); path receives the
 * file's path (4096 bytes). 0 or 1 (reported).
 */
static int load(const char *arg, struct awg_conf *c, char name[AWG_TUNNEL_NAME_MAX + 1],
		char *path)
{
	struct awg_parse_error err = { 0 };
	char *text = NULL;
	const char *why;
	size_t len = 0;
	int ret;

	if (awg_tunnel_name_resolve(arg, getenv("AWG_TUNNEL_CONF_DIR"), path, name, &why) < 0) {
		fprintf(stderr, "awg-tunnel: '%s': %s\n", arg, why);
		return 1;
	}
	ret = read_conf(path, &text, &len);
	if (ret < 0) {
		fprintf(stderr, "awg-tunnel: %s: %s\n", path,
			ret == -EFBIG ? "larger than 1 MiB" :
			ret == -EINVAL ? "not a regular file" : strerror(-ret));
		return 1;
	}
	ret = awg_conf_parse(c, text, len, AWG_CONF_DIALECT_QUICK, &err);
	awg_wipe(text, len);
	free(text);
	if (ret == -ENOMEM) {
		fprintf(stderr, "awg-tunnel: %s: out of memory\n", path);
		return 1;
	}
	if (ret < 0) {
		if (err.line)
			fprintf(stderr, "awg-tunnel: %s:%u:%u: %s\n", path, err.line, err.column,
				err.msg);
		else
			fprintf(stderr, "awg-tunnel: %s: %s\n", path, err.msg);
		return 1;
	}
	return 0;
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
	static char buf[4096];
	const char *env = getenv("AWGD");
	static const char *const rel[] = { "awgd", "../../awgd", "../sbin/awgd" };
	char self[4000];
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash)
			*slash = 0;
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(buf, sizeof(buf), "%s/%s", self, rel[i]);
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	return "/usr/sbin/awgd";
}

static int cmd_run(const char *arg, bool detach)
{
	struct awg_tunnel t = { .awgd = find_awgd(), .user = getenv("AWG_TUNNEL_USER") };
	int pipefd[2], ret, status;
	char buf[4];
	pid_t pid;

	if (!t.user || !*t.user)
		t.user = "nobody";
	if (getenv("AWG_TUNNEL_RESTART")) {
		char *end;
		long n = strtol(getenv("AWG_TUNNEL_RESTART"), &end, 10);

		if (*end || n < 0 || n > 1000) {
			fprintf(stderr, "awg-tunnel: AWG_TUNNEL_RESTART=%s: expected 0..1000\n",
				getenv("AWG_TUNNEL_RESTART"));
			return 1;
		}
		t.restarts = (int)n;
	}
	awg_conf_init(&t.conf);
	if (load(arg, &t.conf, t.name, t.path)) {
		awg_conf_free(&t.conf);
		return 1;
	}
	if (!detach) {
		ret = awg_tunnel_run(&t, -1);
		awg_conf_free(&t.conf);
		return ret;
	}
	/* up: the service runs in a child; we return once it is up (or has failed). */
	if (pipe2(pipefd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		perror("awg-tunnel");
		awg_conf_free(&t.conf);
		return 1;
	}
	if (pid == 0) {
		int nul;

		close(pipefd[0]);
		setsid();
		t.detached = true;
		nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		ret = awg_tunnel_run(&t, pipefd[1]);
		awg_conf_free(&t.conf);
		_exit(ret);
	}
	close(pipefd[1]);
	awg_conf_free(&t.conf);
	ret = read(pipefd[0], buf, 3) == 3 ? 0 : 1;
	close(pipefd[0]);
	if (ret)
		waitpid(pid, &status, 0);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
			  !strcmp(argv[1], "help"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 3) {
		usage(stderr);
		return 1;
	}
	if (awg_crypto_init() < 0) {
		fprintf(stderr, "awg-tunnel: cannot load libcrypto/libsodium\n");
		return 1;
	}
	if (!strcmp(argv[1], "strip"))
		return cmd_strip(argv[2]);
	if (!strcmp(argv[1], "up"))
		return cmd_run(argv[2], true);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argv[2], false);
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
