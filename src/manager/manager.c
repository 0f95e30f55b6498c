// SPDX-License-Identifier: MIT
/* Owns awg-manager's life: options, start-up, the event loop, the enabled set and shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "fdio.h"
#include "manager.h"

#define RUN_DIR "/run/awg-suite"
/* How long a shutdown waits for the tunnels to go down cleanly. */
#define SHUTDOWN_MS 20000

static void usage(FILE *f)
{
	fprintf(f,
"Usage: awg-manager [--foreground] [--keep-tunnels] [--state-dir DIR] [--run-dir DIR]\n"
"                   [--policy FILE] [--updates FILE] [--tunnel-bin PATH]\n"
"\n"
"The AmneziaWG manager service. It keeps the tunnel configs encrypted in a store, runs each\n"
"started tunnel as an `awg-tunnel run` child (restarting it with back-off when it fails, and\n"
"bringing the enabled ones back when it starts), and serves clients (awgctl, awg-gui) on\n"
"RUN_DIR/manager.sock. Every request is authorised from the caller's SO_PEERCRED uid:\n"
"  admin     uid 0 or a member of group awg-admin: everything\n"
"  operator  a member of awg-operator while LimitedOperatorUI = 1 in the policy file: list,\n"
"            start, stop, status and log; configs come without private, preshared and\n"
"            header-protection keys, without scripts, and with peer keys replaced\n"
"  others    refused\n"
"Group membership is read afresh for every request.\n"
"\n"
"Options:\n"
"  --foreground     stay in the foreground (log lines also go to stderr); otherwise\n"
"                   detach once the socket is ready\n"
"  --keep-tunnels   on SIGTERM/SIGINT leave the tunnels running; the next manager adopts\n"
"                   them (default: stop them, keeping them enabled for the next start)\n"
"  --state-dir DIR  store and log root (default " AWG_STORE_ROOT "):\n"
"                   DIR/configurations/NAME.conf.enc  configs, XChaCha20-Poly1305 under\n"
"                   DIR/store.key (0400), the tunnel name bound as associated data;\n"
"                   a plaintext NAME.conf dropped there is encrypted and removed\n"
"                   DIR/log.bin   the ring log shared with the tunnels (awgctl log)\n"
"                   DIR/enabled   the tunnels that come back at start\n"
"  --run-dir DIR    socket and lock directory (default " RUN_DIR ")\n"
"  --policy FILE    the policy file (default " AWG_AUTHZ_POLICY_PATH "), read at each use:\n"
"                   LimitedOperatorUI = 0|1, DangerousScriptExecution = 0|1 (configs with\n"
"                   PreUp/PostUp/PreDown/PostDown, which run as root, start only with 1)\n"
"  --updates FILE   the updater's config (default " AWG_UPDATES_CONF "), read at each\n"
"                   check: URL = https://.../latest.sig (a `signify -S -e` signed `b2sum -l\n"
"                   256` list of awg-suite-<arch>-<version>.deb), PublicKey (overrides the\n"
"                   key pinned in the build; without either, updates are disabled),\n"
"                   CAFile, AllowInsecure = 0|1 (http:// and file:// sources), InstallCommand\n"
"                   (default /usr/bin/dpkg -i; the package is appended as /proc/self/fd/3,\n"
"                   a sealed copy of the verified bytes), InstallTimeout (1800 s), Arch,\n"
"                   Extension, Timeout (30 s without progress),\n"
"                   FirstCheckDelay (300 s), CheckInterval (3600 s)\n"
"  --tunnel-bin P   the awg-tunnel binary (default: next to awg-manager, or AWG_TUNNEL)\n"
"\n"
"Signals: SIGTERM and SIGINT stop the manager (see --keep-tunnels). Under systemd it\n"
"reports readiness with sd_notify. Exit status: 0 after a clean stop, 1 on a start-up error.\n");
}

void awg_manager_log(struct awg_manager *m, const char *fmt, ...)
{
	char buf[AWG_RINGLOG_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (m->log.map)
		awg_ringlog_write(&m->log, buf);
	else
		fprintf(stderr, "awg-manager: %s\n", buf);
}

static void log_cb(void *ctx, const char *msg)
{
	awg_manager_log(ctx, "%s", msg);
}

/* ---- the enabled set ---- */

bool awg_manager_enabled(const struct awg_manager *m, const char *name)
{
	for (size_t i = 0; i < m->n_enabled; i++)
		if (!strcmp(m->enabled[i], name))
			return true;
	return false;
}

static void save_enabled(struct awg_manager *m)
{
	char tmp[] = "enabled.tmp";
	bool ok;
	FILE *f;
	int fd = openat(m->store.rootfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
			O_CLOEXEC, 0600);

	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		awg_manager_log(m, "cannot save the enabled tunnels: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	for (size_t i = 0; i < m->n_enabled; i++)
		fprintf(f, "%s\n", m->enabled[i]);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || renameat(m->store.rootfd, tmp, m->store.rootfd, "enabled") < 0) {
		awg_manager_log(m, "cannot save the enabled tunnels: %s", strerror(errno));
		unlinkat(m->store.rootfd, tmp, 0);
		return;
	}
	/* The rename is durable only once the directory is. */
	fsync(m->store.rootfd);
}

void awg_manager_set_enabled(struct awg_manager *m, const char *name, bool on)
{
	if (on == awg_manager_enabled(m, name))
		return;
	if (on) {
		void *v = realloc(m->enabled, (m->n_enabled + 1) * sizeof(*m->enabled));

		if (!v)
			return;
		m->enabled = v;
		snprintf(m->enabled[m->n_enabled++], AWG_MGR_NAME_MAX + 1, "%s", name);
	} else {
		for (size_t i = 0; i < m->n_enabled; i++)
			if (!strcmp(m->enabled[i], name)) {
				memmove(&m->enabled[i], &m->enabled[i + 1],
					(m->n_enabled - i - 1) * sizeof(*m->enabled));
				m->n_enabled--;
				break;
			}
	}
	save_enabled(m);
}

static void load_enabled(struct awg_manager *m)
{
	char line[128];
	FILE *f;
	int fd = openat(m->store.rootfd, "enabled", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char found[AWG_MGR_NAME_MAX + 1];
		void *v;

		line[strcspn(line, "\n")] = 0;
		if (!awg_store_name_valid(line, NULL) || awg_store_find(&m->store, line, found) < 0 ||
		    awg_manager_enabled(m, found))
			continue;
		v = realloc(m->enabled, (m->n_enabled + 1) * sizeof(*m->enabled));
		if (!v)
			break;
		m->enabled = v;
		memcpy(m->enabled[m->n_enabled++], found, sizeof(found));
	}
	fclose(f);
}

/* ---- callbacks ---- */

static void sup_changed(void *ctx, const char *name, enum awg_mgr_state st, const char *error)
{
	awg_methods_changed(ctx, name, st, error);
}

static bool may_send_large(void *ctx, uid_t uid)
{
	struct awg_manager *m = ctx;
	char why[256];

	return awg_authz_role(uid, m->policy_path, why, sizeof(why)) == AWG_MGR_ROLE_ADMIN;
}

static bool may_receive(void *ctx, const struct awg_server_client *c, unsigned event)
{
	struct awg_manager *m = ctx;
	char why[256];

	/* Asked per event: a user taken out of the groups stops hearing at once. */
	return awg_authz_event_allowed(awg_authz_role(c->uid, m->policy_path, why, sizeof(why)),
				       event);
}

static void ingest_report(void *ctx, const char *name, const char *reason)
{
	awg_manager_log(ctx, "Unable to ingest and encrypt %s.conf: %s", name, reason);
}

static const struct awg_server_ops server_ops = {
	.request = awg_methods_request,
	.may_send_large = may_send_large,
	.may_receive = may_receive,
	.log = log_cb,
};

static void update_progress(void *ctx, const struct awg_update_progress *p)
{
	struct awg_manager *m = ctx;
	struct awg_mgr_msg ev = { .kind = AWG_MGR_EVENT, .code = AWG_MGR_EV_UPDATE_PROGRESS,
				  .downloaded = p->downloaded, .total = p->total,
				  .flag = p->complete };

	snprintf(ev.activity, sizeof(ev.activity), "%s", p->activity);
	snprintf(ev.error, sizeof(ev.error), "%s", p->error);
	/* server.c asks may_receive per client: admins only. */
	awg_server_broadcast(m->server, &ev);
}

static void update_found(void *ctx, const char *version)
{
	struct awg_manager *m = ctx;
	struct awg_mgr_msg ev = { .kind = AWG_MGR_EVENT, .code = AWG_MGR_EV_UPDATE_FOUND,
				  .state = AWG_MGR_UPDATE_FOUND };

	awg_manager_log(m, "update found: version %s", version);
	awg_server_broadcast(m->server, &ev);
}

static const struct awg_updater_ops updater_ops = {
	.progress = update_progress,
	.found = update_found,
	.log = log_cb,
};

static const struct awg_sup_ops sup_ops = {
	.changed = sup_changed,
	.load = awg_methods_load,
	.log = log_cb,
};

/* ---- the store watcher ---- */

struct watcher {
	struct awg_watch watch;
	struct awg_manager *m;
	int fd;
};

static void ingest(struct awg_manager *m)
{
	int n = awg_store_ingest(&m->store, awg_methods_canon, ingest_report, m);

	if (n > 0)
		awg_manager_log(m, "encrypted %d plaintext config%s dropped into the store", n,
				n == 1 ? "" : "s");
}

static void store_event(struct awg_watch *w, uint32_t events)
{
	struct watcher *sw = awg_container_of(w, struct watcher, watch);
	struct awg_mgr_msg ev = { .kind = AWG_MGR_EVENT, .code = AWG_MGR_EV_TUNNELS_CHANGE };

	(void)events;
	if (!awg_store_watch_drain(sw->fd))
		return;
	ingest(sw->m);
	awg_server_broadcast(sw->m->server, &ev);
}

/* ---- signals ---- */

struct signals {
	struct awg_watch watch;
	struct awg_manager *m;
	int fd;
};

static void signal_event(struct awg_watch *w, uint32_t events)
{
	struct signals *s = awg_container_of(w, struct signals, watch);
	struct signalfd_siginfo si;

	(void)events;
	while (read(s->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;
		awg_manager_log(s->m, "%s received, stopping%s", strsignal((int)si.ssi_signo),
				s->m->keep_tunnels ? "; tunnels keep running" : "");
		awg_manager_quit(s->m, !s->m->keep_tunnels, false);
	}
}

void awg_manager_quit(struct awg_manager *m, bool stop_tunnels, bool disable)
{
	struct awg_mgr_msg ev = { .kind = AWG_MGR_EVENT, .code = AWG_MGR_EV_MANAGER_STOPPING };
	char (*names)[AWG_MGR_NAME_MAX + 1];
	size_t n;

	if (m->quitting)
		return;
	m->quitting = true;
	m->stop_on_quit = stop_tunnels;
	sd_notify(0, "STOPPING=1");
	awg_server_broadcast(m->server, &ev);
	if (!stop_tunnels)
		return;
	names = calloc(AWG_MGR_TUNNELS_MAX, sizeof(*names));
	if (!names)
		return;
	n = awg_sup_running(m->sup, names, AWG_MGR_TUNNELS_MAX);
	for (size_t i = 0; i < n; i++) {
		awg_sup_stop(m->sup, names[i]);
		if (disable)
			awg_manager_set_enabled(m, names[i], false);
	}
	free(names);
}

/* ---- start-up ---- */

static const char *find_tunnel_bin(void)
{
	static const char *const rel[] = { "awg-tunnel", "../tunnel/awg-tunnel" };

	return awg_exe_sibling("AWG_TUNNEL", rel, 2, "/usr/sbin/awg-tunnel");
}

static int open_log(struct awg_manager *m, bool foreground)
{
	int ret = awg_ringlog_open(&m->log, m->store.rootfd, "log.bin", "MGR");

	if (ret < 0)
		return ret;
	m->log.mirror = foreground;
	m->log_fd = openat(m->store.rootfd, "log.bin", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	return m->log_fd < 0 ? -errno : 0;
}

/* Brings back the enabled tunnels: adopts the ones still running, starts the others. */
static void restore(struct awg_manager *m)
{
	size_t n = m->n_enabled;
	char (*names)[AWG_MGR_NAME_MAX + 1] = calloc(n ? n : 1, sizeof(*names));

	if (!names)
		return;
	if (n)
		memcpy(names, m->enabled, n * sizeof(*names));
	for (size_t i = 0; i < n; i++) {
		if (awg_sup_adopt(m->sup, names[i]))
			continue;
		awg_manager_log(m, "tunnel %s: enabled, starting it", names[i]);
		awg_sup_start(m->sup, names[i], NULL, 0);
	}
	free(names);
}

static int setup_signals(struct signals *s, struct awg_manager *m)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	s->m = m;
	s->watch.fn = signal_event;
	s->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	return awg_loop_add(m->epfd, s->fd, EPOLLIN, &s->watch);
}

/* Detaches: the parent exits 0 once the child reports readiness on the pipe, 1 otherwise. */
static int daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	/* One descriptor per client; the default soft limit of 1024 is below the client cap. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int run(struct awg_manager *m, bool foreground, const char *tunnel_bin)
{
	struct watcher sw = { .watch.fn = store_event, .m = m, .fd = -1 };
	struct signals sig = { .fd = -1 };
	const char *why = "";
	int ret, ready_fd = -1;
	int64_t deadline = 0;

	umask(077);
	raise_nofile();
	if (!foreground && (ret = daemonize(&ready_fd)) < 0) {
		fprintf(stderr, "awg-manager: cannot detach: %s\n", strerror(-ret));
		return 1;
	}
	ret = awg_store_open(&m->store, m->state_dir, &why);
	if (ret < 0) {
		fprintf(stderr, "awg-manager: %s: %s (%s)\n", m->state_dir, why, strerror(-ret));
		return 1;
	}
	ret = open_log(m, foreground);
	if (ret < 0) {
		fprintf(stderr, "awg-manager: %s/log.bin: %s\n", m->state_dir, strerror(-ret));
		goto out;
	}
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->epfd < 0 || setup_signals(&sig, m) < 0) {
		fprintf(stderr, "awg-manager: cannot set up the event loop: %s\n", strerror(errno));
		ret = -EIO;
		goto out;
	}
	ret = awg_server_open(&m->server, m->run_dir, m->epfd, &server_ops, m, &why);
	if (ret < 0) {
		fprintf(stderr, "awg-manager: %s: %s (%s)\n", m->run_dir, why, strerror(-ret));
		goto out;
	}
	ret = awg_sup_new(&m->sup, m->epfd, tunnel_bin, m->log_fd, &sup_ops, m);
	if (ret < 0)
		goto out;
	ret = awg_updater_new(&m->updater, m->epfd, m->updates_path, m->store.rootfd,
			      &updater_ops, m);
	if (ret < 0) {
		fprintf(stderr, "awg-manager: cannot set up the updater: %s\n", strerror(-ret));
		goto out;
	}
	sw.fd = awg_store_watch(&m->store);
	if (sw.fd < 0 || awg_loop_add(m->epfd, sw.fd, EPOLLIN, &sw.watch) < 0)
		awg_manager_log(m, "cannot watch the store; plaintext drop-ins are taken at start only");
	awg_manager_log(m, "starting (pid %ld, store %s, socket %s/manager.sock)", (long)getpid(),
			m->state_dir, m->run_dir);
	ingest(m);
	load_enabled(m);
	restore(m);
	sd_notify(0, "READY=1");
	if (ready_fd >= 0) {
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (write(ready_fd, "1", 1) < 0)
			ret = -errno;
		close(ready_fd);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
			close(nul);
		}
	}
	for (;;) {
		struct epoll_event evs[64];
		int timeout = awg_sup_tick(m->sup), n, ut = awg_updater_tick(m->updater);

		if (ut >= 0 && (timeout < 0 || ut < timeout))
			timeout = ut;

		if (m->quitting) {
			struct timespec ts;
			int64_t now;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
			if (!deadline)
				deadline = now + SHUTDOWN_MS;
			if (!m->stop_on_quit || !awg_sup_busy(m->sup) || now >= deadline)
				break;
			if (timeout < 0 || timeout > 100)
				timeout = 100;
		}
		n = epoll_wait(m->epfd, evs, 64, timeout);
		for (int i = 0; i < n; i++) {
			struct awg_watch *w = evs[i].data.ptr;

			w->fn(w, evs[i].events);
		}
		awg_server_reap(m->server);
	}
	awg_manager_log(m, "stopped");
	awg_server_flush(m->server, 200);
	ret = 0;
out:
	awg_updater_free(m->updater);
	awg_sup_free(m->sup, m->stop_on_quit);
	awg_server_close(m->server);
	if (sw.fd >= 0)
		close(sw.fd);
	if (sig.fd >= 0)
		close(sig.fd);
	if (m->epfd > 0)
		close(m->epfd);
	if (m->log_fd >= 0)
		close(m->log_fd);
	awg_ringlog_close(&m->log);
	awg_store_close(&m->store);
	free(m->enabled);
	for (struct awg_waiter *w = m->waiters, *next; w; w = next) {
		next = w->next;
		free(w);
	}
	return ret < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "keep-tunnels", no_argument, NULL, 'k' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "policy", required_argument, NULL, 'p' },
		{ "tunnel-bin", required_argument, NULL, 't' },
		{ "updates", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct awg_manager m = { .state_dir = AWG_STORE_ROOT, .run_dir = RUN_DIR,
				 .policy_path = AWG_AUTHZ_POLICY_PATH, .log_fd = -1, .epfd = -1,
				 .updates_path = AWG_UPDATES_CONF };
	const char *tunnel_bin = NULL;
	bool foreground = false;
	int c;

	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': foreground = true; break;
		case 'k': m.keep_tunnels = true; break;
		case 's': m.state_dir = optarg; break;
		case 'r': m.run_dir = optarg; break;
		case 'p': m.policy_path = optarg; break;
		case 't': tunnel_bin = optarg; break;
		case 'u': m.updates_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "awg-manager: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "awg-manager: must run as root (it owns the store and the tunnels)\n");
		return 1;
	}
	if (awg_crypto_init() < 0) {
		fprintf(stderr, "awg-manager: cannot load libcrypto/libsodium\n");
		return 1;
	}
	return run(&m, foreground, tunnel_bin ? tunnel_bin : find_tunnel_bin());
}
