// SPDX-License-Identifier: MIT
/* Owns the tunnel child processes: spawning, readiness, exit, restart back-off, adoption. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "loop.h"
#include "supervisor.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* awg-tunnel's crash-recovery record (src/tunnel/service.c): who runs an interface. */
#define TUNNEL_STATE_DIR "/run/awg-tunnel"

struct tun {
	struct tun *next;
	struct awg_sup *sup;
	char name[AWG_MGR_NAME_MAX + 1];
	char ifname[AWG_MGR_IFNAME_MAX + 1];
	enum awg_mgr_state state;
	char error[AWG_MGR_ERROR_MAX + 1];
	bool want;			/* should run: a death is restarted */
	bool adopted;			/* not our child: no exit status */
	bool stopping;			/* we sent SIGTERM */
	pid_t pid;
	int pidfd, ready_fd;
	struct awg_watch pid_watch, ready_watch;
	unsigned failures;
	int64_t started_ms;		/* when it last became Started */
	int64_t retry_ms;		/* a pending (re)start fires then; 0 = none */
	int64_t kill_ms;		/* SIGKILL then, if still running; 0 = none */
	char (*after)[AWG_MGR_NAME_MAX + 1];	/* start only once these have stopped */
	size_t n_after;
};

struct awg_sup {
	int epfd, log_fd;
	const char *bin;
	const struct awg_sup_ops *ops;
	void *ctx;
	struct tun *tunnels;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 2, 3)))
static void slog(struct awg_sup *s, const char *fmt, ...)
{
	char buf[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s->ops->log(s->ctx, buf);
}

void awg_sup_ifname(const char *name, char ifname[AWG_MGR_IFNAME_MAX + 1])
{
	uint8_t h[AWG_CRYPTO_HASH_LEN];

	if (strlen(name) <= AWG_MGR_IFNAME_MAX) {
		strcpy(ifname, name);
		return;
	}
	/* Names are unique case-insensitively, so hash the lower-case form. */
	char lower[AWG_MGR_NAME_MAX + 1];
	size_t i;

	for (i = 0; name[i] && i < AWG_MGR_NAME_MAX; i++)
		lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	lower[i] = 0;
	awg_blake2s256(h, lower, i, NULL, 0);
	snprintf(ifname, AWG_MGR_IFNAME_MAX + 1, "awg%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2],
		 h[3], h[4], h[5]);
}

static struct tun *find(const struct awg_sup *s, const char *name)
{
	for (struct tun *t = s->tunnels; t; t = t->next)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

static void set_state(struct tun *t, enum awg_mgr_state st, const char *error)
{
	if (error)
		snprintf(t->error, sizeof(t->error), "%s", error);
	if (t->state == st && !error)
		return;
	t->state = st;
	t->sup->ops->changed(t->sup->ctx, t->name, st, t->error);
}

static void pid_event(struct awg_watch *w, uint32_t events);
static void ready_event(struct awg_watch *w, uint32_t events);

static struct tun *get(struct awg_sup *s, const char *name)
{
	struct tun *t = find(s, name);

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->sup = s;
	snprintf(t->name, sizeof(t->name), "%s", name);
	awg_sup_ifname(name, t->ifname);
	t->state = AWG_MGR_STOPPED;
	t->pid = 0;
	t->pidfd = t->ready_fd = -1;
	t->pid_watch.fn = pid_event;
	t->ready_watch.fn = ready_event;
	t->next = s->tunnels;
	s->tunnels = t;
	return t;
}

static void close_ready(struct tun *t)
{
	if (t->ready_fd < 0)
		return;
	awg_loop_del(t->sup->epfd, t->ready_fd);
	close(t->ready_fd);
	t->ready_fd = -1;
}

/* A sealed memfd holding text: the child reads it, nobody can change it. */
static int config_memfd(const char *text, size_t len)
{
	int fd = memfd_create("awg-tunnel-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n <= 0) {
			close(fd);
			return n < 0 ? -errno : -EIO;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* In the child: fds 3, 4, 5 become config, ready, log; everything else is closed. */
static void exec_child(const struct awg_sup *s, const struct tun *t, int cfg, int rdy)
{
	sigset_t all;
	int log = s->log_fd >= 0 ? fcntl(s->log_fd, F_DUPFD, 10) : -1;
	char *argv[12];
	int argc = 0;

	cfg = fcntl(cfg, F_DUPFD, 10);
	rdy = fcntl(rdy, F_DUPFD, 10);
	if (cfg < 0 || rdy < 0 || dup2(cfg, 3) < 0 || dup2(rdy, 4) < 0)
		_exit(127);
	if (log >= 0 && dup2(log, 5) < 0)
		_exit(127);
	if (close_range(log >= 0 ? 6 : 5, ~0u, 0) < 0)
		for (int fd = log >= 0 ? 6 : 5; fd < 65536; fd++)
			close(fd);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* Nothing ignored or caught here may carry over (the manager ignores SIGPIPE). */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	/* Its own session: a ^C on the manager's terminal is the manager's to handle. */
	setsid();
	unsetenv("AWG_TUNNEL_RESTART");
	argv[argc++] = (char *)"awg-tunnel";
	argv[argc++] = (char *)"run";
	argv[argc++] = (char *)"--config-fd";
	argv[argc++] = (char *)"3";
	argv[argc++] = (char *)"--ready-fd";
	argv[argc++] = (char *)"4";
	if (log >= 0) {
		argv[argc++] = (char *)"--log-fd";
		argv[argc++] = (char *)"5";
	}
	argv[argc++] = (char *)"--display-name";
	argv[argc++] = (char *)t->name;
	argv[argc++] = (char *)t->ifname;
	argv[argc] = NULL;
	execv(s->bin, argv);
	_exit(127);
}

static void fail(struct tun *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct tun *t, const char *fmt, ...)
{
	char buf[AWG_MGR_ERROR_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	slog(t->sup, "tunnel %s: %s", t->name, buf);
	set_state(t, AWG_MGR_STOPPED, buf);
}

static void spawn(struct tun *t)
{
	struct awg_sup *s = t->sup;
	char why[AWG_MGR_ERROR_MAX + 1] = "", *text = NULL;
	int cfg = -1, rdy[2] = { -1, -1 }, ret;
	size_t len = 0;
	pid_t pid;

	t->retry_ms = 0;
	set_state(t, AWG_MGR_STARTING, "");
	ret = s->ops->load(s->ctx, t->name, &text, &len, why, sizeof(why));
	if (ret < 0) {
		/* A config that cannot be read will not get better by retrying. */
		t->want = false;
		fail(t, "%s", why[0] ? why : strerror(-ret));
		return;
	}
	cfg = config_memfd(text, len);
	awg_wipe(text, len);
	free(text);
	if (cfg < 0 || pipe2(rdy, O_CLOEXEC) < 0) {
		fail(t, "cannot hand over the config: %s", strerror(cfg < 0 ? -cfg : errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		fail(t, "cannot start awg-tunnel: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		exec_child(s, t, cfg, rdy[1]);
	t->pid = pid;
	t->adopted = false;
	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	t->ready_fd = rdy[0];
	rdy[0] = -1;
	if (t->pidfd < 0 || awg_loop_add(s->epfd, t->pidfd, EPOLLIN, &t->pid_watch) < 0 ||
	    awg_loop_add(s->epfd, t->ready_fd, EPOLLIN, &t->ready_watch) < 0) {
		/* Cannot watch it: do not leave an untracked tunnel behind. */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (t->pidfd >= 0)
			close(t->pidfd);
		t->pidfd = -1;
		t->pid = 0;
		close_ready(t);
		fail(t, "cannot watch awg-tunnel");
		goto out;
	}
	slog(s, "tunnel %s: starting (awg-tunnel pid %ld, interface %s)", t->name, (long)pid,
	     t->ifname);
out:
	if (cfg >= 0)
		close(cfg);
	if (rdy[0] >= 0)
		close(rdy[0]);
	if (rdy[1] >= 0)
		close(rdy[1]);
}

static void ready_event(struct awg_watch *w, uint32_t events)
{
	struct tun *t = awg_container_of(w, struct tun, ready_watch);
	char buf[16];
	ssize_t n = read(t->ready_fd, buf, sizeof(buf));

	(void)events;
	if (n > 0 && n >= 2 && !memcmp(buf, "ok", 2) && t->state == AWG_MGR_STARTING) {
		t->started_ms = now_ms();
		slog(t->sup, "tunnel %s: started", t->name);
		set_state(t, AWG_MGR_STARTED, "");
	}
	if (n <= 0 || t->state != AWG_MGR_STARTING)
		close_ready(t);
}

static bool blocked(const struct tun *t)
{
	for (size_t i = 0; i < t->n_after; i++) {
		const struct tun *o = find(t->sup, t->after[i]);

		if (o && o->pid)
			return true;
	}
	return false;
}

static void run_pending(struct awg_sup *s)
{
	for (struct tun *t = s->tunnels; t; t = t->next)
		if (t->want && !t->pid && t->n_after && !blocked(t)) {
			free(t->after);
			t->after = NULL;
			t->n_after = 0;
			spawn(t);
		}
}

/* Describes a wait status for people. */
static void describe(const siginfo_t *si, bool known, char *buf, size_t len)
{
	if (!known)
		snprintf(buf, len, "awg-tunnel ended (exit status unknown: it was adopted from an "
			 "earlier manager)");
	else if (si->si_code == CLD_EXITED)
		snprintf(buf, len, "awg-tunnel exited with status %d", si->si_status);
	else
		snprintf(buf, len, "awg-tunnel was killed by signal %d (%s)", si->si_status,
			 strsignal(si->si_status));
}

static void pid_event(struct awg_watch *w, uint32_t events)
{
	struct tun *t = awg_container_of(w, struct tun, pid_watch);
	struct awg_sup *s = t->sup;
	siginfo_t si = { 0 };
	char why[200];
	bool known, clean;

	bool was_stopping = t->stopping;

	(void)events;
	t->stopping = false;
	known = !t->adopted && waitid((idtype_t)P_PIDFD, (id_t)t->pidfd, &si, WEXITED | WNOHANG) == 0 &&
		si.si_pid != 0;
	awg_loop_del(s->epfd, t->pidfd);
	close(t->pidfd);
	t->pidfd = -1;
	t->pid = 0;
	t->kill_ms = 0;
	close_ready(t);
	describe(&si, known, why, sizeof(why));
	/* SIGTERM is how we stop it; it exits 0 then. */
	clean = !t->want || (known && si.si_code == CLD_EXITED && si.si_status == 0);
	if (!t->want || was_stopping) {
		slog(s, "tunnel %s: stopped", t->name);
		set_state(t, AWG_MGR_STOPPED, "");
		/* Started again while it was stopping: go straight on. */
		if (t->want && !t->n_after)
			spawn(t);
	} else {
		int64_t delay;

		if (t->started_ms && now_ms() - t->started_ms > AWG_SUP_BACKOFF_MAX_MS)
			t->failures = 0;
		delay = (int64_t)AWG_SUP_BACKOFF_MIN_MS << (t->failures < 5 ? t->failures : 5);
		if (delay > AWG_SUP_BACKOFF_MAX_MS)
			delay = AWG_SUP_BACKOFF_MAX_MS;
		t->failures++;
		t->retry_ms = now_ms() + delay;
		t->started_ms = 0;
		slog(s, "tunnel %s: %s%s; restarting in %lld ms", t->name, why,
		     clean ? " unexpectedly" : "", (long long)delay);
		set_state(t, AWG_MGR_STOPPED, why);
	}
	run_pending(s);
}

int awg_sup_start(struct awg_sup *s, const char *name, const char (*after)[AWG_MGR_NAME_MAX + 1],
		  size_t n)
{
	struct tun *t = get(s, name);

	if (!t)
		return -ENOMEM;
	if (t->pid && t->want)
		return -EALREADY;
	t->want = true;
	t->failures = 0;
	t->retry_ms = 0;
	free(t->after);
	t->after = NULL;
	t->n_after = 0;
	if (n) {
		t->after = calloc(n, sizeof(*t->after));
		if (!t->after)
			return -ENOMEM;
		memcpy(t->after, after, n * sizeof(*t->after));
		t->n_after = n;
	}
	/* A stop still in progress: the exit handler starts it again (want is set). */
	if (t->pid) {
		t->retry_ms = 0;
		return 0;
	}
	if (blocked(t)) {
		set_state(t, AWG_MGR_STARTING, "");
		return 0;
	}
	free(t->after);
	t->after = NULL;
	t->n_after = 0;
	spawn(t);
	return 0;
}

static void terminate(struct tun *t)
{
	if (!t->pid)
		return;
	if (syscall(SYS_pidfd_send_signal, t->pidfd, SIGTERM, NULL, 0) < 0)
		kill(t->pid, SIGTERM);
	t->kill_ms = now_ms() + AWG_SUP_KILL_MS;
	t->stopping = true;
	set_state(t, AWG_MGR_STOPPING, "");
}

void awg_sup_stop(struct awg_sup *s, const char *name)
{
	struct tun *t = find(s, name);

	if (!t)
		return;
	t->want = false;
	t->retry_ms = 0;
	free(t->after);
	t->after = NULL;
	t->n_after = 0;
	if (t->pid)
		terminate(t);
	else
		set_state(t, AWG_MGR_STOPPED, NULL);
	run_pending(s);
}

/* The pid in awg-tunnel's state file for ifname, if that process still runs awg-tunnel. */
static pid_t running_tunnel(const char *ifname)
{
	char path[256], comm[32] = "";
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.state", TUNNEL_STATE_DIR, ifname);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "pid=%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 1)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return strncmp(comm, "awg-tunnel", 10) ? 0 : (pid_t)pid;
}

bool awg_sup_adopt(struct awg_sup *s, const char *name)
{
	char ifname[AWG_MGR_IFNAME_MAX + 1];
	struct tun *t;
	pid_t pid;
	int fd;

	awg_sup_ifname(name, ifname);
	pid = running_tunnel(ifname);
	if (!pid)
		return false;
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return false;
	t = get(s, name);
	if (!t || awg_loop_add(s->epfd, fd, EPOLLIN, &t->pid_watch) < 0) {
		close(fd);
		return false;
	}
	t->pid = pid;
	t->pidfd = fd;
	t->adopted = true;
	t->want = true;
	t->started_ms = now_ms();
	slog(s, "tunnel %s: adopted running awg-tunnel pid %ld", name, (long)pid);
	set_state(t, AWG_MGR_STARTED, "");
	return true;
}

void awg_sup_forget(struct awg_sup *s, const char *name)
{
	for (struct tun **pp = &s->tunnels; *pp; pp = &(*pp)->next) {
		struct tun *t = *pp;

		if (strcmp(t->name, name) || t->pid)
			continue;
		*pp = t->next;
		free(t->after);
		free(t);
		return;
	}
}

enum awg_mgr_state awg_sup_state(const struct awg_sup *s, const char *name, const char **error)
{
	const struct tun *t = find(s, name);

	if (error)
		*error = t ? t->error : "";
	return t ? t->state : AWG_MGR_STOPPED;
}

enum awg_mgr_state awg_sup_global(const struct awg_sup *s)
{
	bool stopping = false, started = false;

	for (const struct tun *t = s->tunnels; t; t = t->next) {
		if (t->state == AWG_MGR_STARTING)
			return AWG_MGR_STARTING;
		stopping |= t->state == AWG_MGR_STOPPING;
		started |= t->state == AWG_MGR_STARTED || t->state == AWG_MGR_UNKNOWN;
	}
	return stopping ? AWG_MGR_STOPPING : started ? AWG_MGR_STARTED : AWG_MGR_STOPPED;
}

bool awg_sup_busy(const struct awg_sup *s)
{
	for (const struct tun *t = s->tunnels; t; t = t->next)
		if (t->pid)
			return true;
	return false;
}

size_t awg_sup_running(const struct awg_sup *s, char (*names)[AWG_MGR_NAME_MAX + 1], size_t max)
{
	size_t n = 0;

	for (const struct tun *t = s->tunnels; t && n < max; t = t->next)
		if (t->pid || t->want)
			snprintf(names[n++], AWG_MGR_NAME_MAX + 1, "%s", t->name);
	return n;
}

int awg_sup_tick(struct awg_sup *s)
{
	int64_t now = now_ms(), next = -1;

	for (struct tun *t = s->tunnels; t; t = t->next) {
		if (t->kill_ms && now >= t->kill_ms && t->pid) {
			slog(s, "tunnel %s: awg-tunnel did not stop in %d s, killing it", t->name,
			     AWG_SUP_KILL_MS / 1000);
			syscall(SYS_pidfd_send_signal, t->pidfd, SIGKILL, NULL, 0);
			t->kill_ms = 0;
		}
		if (t->retry_ms && now >= t->retry_ms && t->want && !t->pid)
			spawn(t);
		if (t->kill_ms && (next < 0 || t->kill_ms < next))
			next = t->kill_ms;
		if (t->retry_ms && (next < 0 || t->retry_ms < next))
			next = t->retry_ms;
	}
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

int awg_sup_new(struct awg_sup **out, int epfd, const char *tunnel_bin, int log_fd,
		const struct awg_sup_ops *ops, void *ctx)
{
	struct awg_sup *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->epfd = epfd;
	s->bin = tunnel_bin;
	s->log_fd = log_fd;
	s->ops = ops;
	s->ctx = ctx;
	*out = s;
	return 0;
}

void awg_sup_free(struct awg_sup *s, bool stop_children)
{
	struct tun *t;

	if (!s)
		return;
	while ((t = s->tunnels)) {
		s->tunnels = t->next;
		if (t->pid && stop_children) {
			/* The caller has already waited for a clean stop; this is the last resort. */
			syscall(SYS_pidfd_send_signal, t->pidfd, SIGKILL, NULL, 0);
			if (!t->adopted)
				waitpid(t->pid, NULL, 0);
		}
		if (t->pidfd >= 0)
			close(t->pidfd);
		if (t->ready_fd >= 0)
			close(t->ready_fd);
		free(t->after);
		free(t);
	}
	free(s);
}
