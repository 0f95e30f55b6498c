// SPDX-License-Identifier: MIT
/* Owns the update jobs: updates.conf, the worker thread, downloads, the sealed copy, the install. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "crypto.h"
#include "fdio.h"
#include "keyfile.h"
#include "loop.h"
#include "updater.h"
#include "updlist.h"

#ifndef AWG_SUITE_VERSION
#define AWG_SUITE_VERSION "0.0.0"
#endif
/* The signify public key official builds pin (meson -Dupdate_pubkey=...); empty: none. */
#ifndef AWG_UPDATE_PUBKEY
#define AWG_UPDATE_PUBKEY ""
#endif
/* The slowest a whole transfer may be on average (bytes/s): 100 MiB then takes under an hour. */
#define TRANSFER_FLOOR_RATE (32u << 10)

/* updates.conf, read afresh for every job. */
struct upd_conf {
	char url[1024];
	struct awg_upd_pubkey key;
	bool have_key;
	char cafile[512];
	bool insecure;
	char install[1024];
	char arch[32];
	char ext[16];
	unsigned timeout, first_delay, interval, install_timeout;
};

enum msg_type { MSG_PROGRESS, MSG_FOUND, MSG_LOG, MSG_DONE };

/* One pipe message; smaller than PIPE_BUF, so every write is atomic. */
struct msg {
	enum msg_type type;
	struct awg_update_progress p;
	char text[256];
};

struct awg_updater {
	struct awg_watch watch;
	int epfd, pipe_r, pipe_w, cachefd;
	const char *conf_path;
	const struct awg_updater_ops *ops;
	void *ctx;
	pthread_t thread;
	atomic_bool busy;		/* a job thread exists (set by main, cleared on MSG_DONE) */
	atomic_bool stopping;		/* the manager is going: abort the transfer */
	atomic_bool job_installs;	/* the running job goes on to install */
	atomic_bool want_install;	/* Update arrived during a check-only job */
	bool joinable;
	enum awg_mgr_update_state state;
	int64_t next_check_ms;
};

/* What the worker thread owns for one job. */
struct job {
	struct awg_updater *u;
	struct upd_conf conf;
	bool install;			/* Update (else a check only) */
	struct awg_update_progress p;
	int64_t last_report_ms;
	uint64_t last_report_bytes;
	/* the current transfer's sink */
	uint8_t *mem;
	size_t mem_len, max;
	int fd;
	uint64_t received;		/* bytes written to fd (the cap and the length) */
	bool too_big;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- updates.conf ---- */

static int conf_number(const char *v, unsigned *out)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (!*v || *end || n > 7 * 24 * 3600)
		return -EINVAL;
	*out = (unsigned)n;
	return 0;
}

/* Applies one "Key = value"; returns 0 or -EINVAL with why. */
static int conf_key(void *ctx, const char *k, const char *v, const char **why)
{
	struct upd_conf *c = ctx;
	size_t vl = strlen(v);

	if (!strcasecmp(k, "URL") && vl < sizeof(c->url))
		memcpy(c->url, v, vl + 1);
	else if (!strcasecmp(k, "PublicKey")) {
		if (awg_upd_pubkey_parse(&c->key, v, vl, why) < 0)
			return -EINVAL;
		c->have_key = true;
	} else if (!strcasecmp(k, "CAFile") && vl < sizeof(c->cafile))
		memcpy(c->cafile, v, vl + 1);
	else if (!strcasecmp(k, "AllowInsecure") && (!strcmp(v, "0") || !strcmp(v, "1")))
		c->insecure = v[0] == '1';
	else if (!strcasecmp(k, "InstallCommand") && vl < sizeof(c->install))
		memcpy(c->install, v, vl + 1);
	else if (!strcasecmp(k, "Arch") && vl && vl < sizeof(c->arch))
		memcpy(c->arch, v, vl + 1);
	else if (!strcasecmp(k, "Extension") && vl && vl < sizeof(c->ext))
		memcpy(c->ext, v, vl + 1);
	else if (!strcasecmp(k, "Timeout"))
		return conf_number(v, &c->timeout) < 0 || !c->timeout ?
		       (*why = "Timeout must be 1 or more seconds", -EINVAL) : 0;
	else if (!strcasecmp(k, "InstallTimeout"))
		return conf_number(v, &c->install_timeout) < 0 || !c->install_timeout ?
		       (*why = "InstallTimeout must be 1 or more seconds", -EINVAL) : 0;
	else if (!strcasecmp(k, "FirstCheckDelay"))
		return conf_number(v, &c->first_delay) < 0 ?
		       (*why = "FirstCheckDelay must be seconds", -EINVAL) : 0;
	else if (!strcasecmp(k, "CheckInterval"))
		return conf_number(v, &c->interval) < 0 || c->interval < 60 ?
		       (*why = "CheckInterval must be 60 or more seconds", -EINVAL) : 0;
	else {
		*why = "unknown key or bad value";
		return -EINVAL;
	}
	return 0;
}

/* Reads the config: 0, -ENOENT (no file: no source), -EINVAL with why (file:line: ...). */
static int conf_read(const char *path, struct upd_conf *c, char *why, size_t whylen)
{
	const char *pinned = AWG_UPDATE_PUBKEY, *kwhy = "";
	int ret;

	memset(c, 0, sizeof(*c));
	c->timeout = 30;
	c->first_delay = 300;
	c->interval = 3600;
	c->install_timeout = 1800;
	snprintf(c->install, sizeof(c->install), "/usr/bin/dpkg -i");
	snprintf(c->arch, sizeof(c->arch), "%s", awg_upd_arch());
	snprintf(c->ext, sizeof(c->ext), "deb");
	if (*pinned && awg_upd_pubkey_parse(&c->key, pinned, strlen(pinned), &kwhy) == 0)
		c->have_key = true;
	ret = awg_keyfile_read(path, conf_key, c, why, whylen);
	return ret < 0 && ret != -EINVAL ? -ENOENT : ret;
}

/* ---- messages to the main thread ---- */

static void send_msg(struct job *j, enum msg_type type, const char *text)
{
	struct msg m = { .type = type, .p = j->p };

	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	/* A full pipe only delays this worker; the main loop drains it. */
	while (write(j->u->pipe_w, &m, sizeof(m)) < 0 && errno == EINTR)
		;
}

static void progress(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(struct job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->p.activity, sizeof(j->p.activity), fmt, ap);
	va_end(ap);
	j->p.downloaded = j->p.total = 0;
	if (j->install)
		send_msg(j, MSG_PROGRESS, NULL);
}

static void jlog(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jlog(struct job *j, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	send_msg(j, MSG_LOG, buf);
}

/* ---- transfers ---- */

static size_t sink_write(char *data, size_t size, size_t n, void *arg)
{
	struct job *j = arg;
	size_t len = size * n, have = j->fd >= 0 ? (size_t)j->received : j->mem_len;

	if (have + len > j->max) {
		j->too_big = true;
		return 0;
	}
	if (j->fd >= 0) {
		if (awg_fd_write_all(j->fd, data, len) < 0)
			return 0;
		j->received += len;
		return len;
	}
	memcpy(j->mem + j->mem_len, data, len);
	j->mem_len += len;
	return len;
}

static int sink_progress(void *arg, curl_off_t total, curl_off_t now, curl_off_t ut,
			 curl_off_t un)
{
	struct job *j = arg;
	int64_t t = now_ms();

	(void)ut;
	(void)un;
	if (atomic_load(&j->u->stopping))
		return 1;	/* aborts the transfer */
	if (j->fd < 0 || !j->install)
		return 0;
	j->p.total = total > 0 ? (uint64_t)total : 0;
	if ((uint64_t)now - j->last_report_bytes >= (256u << 10) || t - j->last_report_ms >= 250) {
		j->p.downloaded = (uint64_t)now;
		j->last_report_bytes = (uint64_t)now;
		j->last_report_ms = t;
		send_msg(j, MSG_PROGRESS, NULL);
	}
	return 0;
}

/* GETs url into j's sink (memory when fd < 0). 0 or -EIO with why. */
static int fetch(struct job *j, const char *url, char *why, size_t whylen)
{
	const char *protos = j->conf.insecure ? "https,http,file" : "https";
	char errbuf[CURL_ERROR_SIZE] = "", agent[96];
	CURL *c = curl_easy_init();
	CURLcode rc;

	if (!c) {
		snprintf(why, whylen, "cannot start a transfer");
		return -ENOMEM;
	}
	snprintf(agent, sizeof(agent), "awg-suite/%s (Linux; %s)", AWG_SUITE_VERSION, j->conf.arch);
	j->too_big = false;
	/*
	 * The options that keep a hostile server or network in check: a failure to set any of
	 * them fails the transfer instead of running it with libcurl's defaults.
	 */
	if (curl_easy_setopt(c, CURLOPT_URL, url) ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protos) ||
	    /* A redirect never leads to a local file, even from an insecure mirror. */
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
			     j->conf.insecure ? "https,http" : "https") ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) ||
	    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L) ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) ||
	    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) ||
	    (j->conf.cafile[0] &&
	     /* Only that CA: without clearing CAPATH the system's would count too. */
	     (curl_easy_setopt(c, CURLOPT_CAINFO, j->conf.cafile) ||
	      curl_easy_setopt(c, CURLOPT_CAPATH, NULL))) ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)j->max) ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)j->conf.timeout) ||
	    /* At least 1 KiB/s over Timeout seconds, and an end: a trickle cannot hold the job. */
	    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L) ||
	    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)j->conf.timeout) ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT,
			     (long)(j->conf.timeout + j->max / TRANSFER_FLOOR_RATE))) {
		snprintf(why, whylen, "this libcurl cannot enforce the transfer limits");
		curl_easy_cleanup(c);
		return -ENOTSUP;
	}
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, agent);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, sink_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, j);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	if (rc == CURLE_OK)
		return 0;
	if (j->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(why, whylen, "%.200s is larger than %zu bytes", url, j->max);
	else if (rc == CURLE_UNSUPPORTED_PROTOCOL)
		snprintf(why, whylen, "cannot download %.200s: refused a redirect or URL that is not "
			 "https:// (%.200s)", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else
		snprintf(why, whylen, "cannot download %.200s: %.250s", url,
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	return -EIO;
}

/*
 * The package's URL: file resolved against the list's URL, as a browser resolves a relative
 * link (the name is a bare [A-Za-z0-9._+-] file name, updlist.c makes sure). 0 or -EINVAL.
 */
static int package_url(char *out, size_t cap, const char *list_url, const char *file)
{
	CURLU *h = curl_url();
	char *u = NULL;
	int ret = -EINVAL;

	if (h && !curl_url_set(h, CURLUPART_URL, list_url, 0) &&
	    !curl_url_set(h, CURLUPART_URL, file, 0) &&
	    !curl_url_get(h, CURLUPART_URL, &u, 0) && strlen(u) < cap) {
		memcpy(out, u, strlen(u) + 1);
		ret = 0;
	}
	curl_free(u);
	curl_url_cleanup(h);
	return ret;
}

/* Fetches and verifies the list and picks the newer package. 0, -ENOENT (none), -errno. */
static int check(struct job *j, struct awg_upd_list *list, const struct awg_upd_entry **pick,
		 char version[AWG_UPD_VERSION_MAX + 1], char *why, size_t whylen)
{
	const char *vwhy = "";
	int ret;

	progress(j, "Checking for update");
	if (!j->conf.insecure && strncasecmp(j->conf.url, "https://", 8)) {
		snprintf(why, whylen, "the update URL must be https:// (AllowInsecure = 1 allows "
			 "others): %.200s", j->conf.url);
		return -EINVAL;
	}
	j->mem = malloc(AWG_UPD_LIST_MAX);
	if (!j->mem) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	j->mem_len = 0;
	j->max = AWG_UPD_LIST_MAX;
	j->fd = -1;
	ret = fetch(j, j->conf.url, why, whylen);
	if (!ret) {
		ret = awg_upd_list_verify(list, &j->conf.key, (const char *)j->mem, j->mem_len, &vwhy);
		if (ret < 0)
			snprintf(why, whylen, "the update list is not trustworthy: %s", vwhy);
	}
	free(j->mem);
	j->mem = NULL;
	if (ret < 0)
		return ret;
	ret = awg_upd_pick(list, j->conf.arch, j->conf.ext, AWG_SUITE_VERSION, pick, version,
			   &vwhy);
	if (ret < 0)
		snprintf(why, whylen, "%s", vwhy);
	return ret;
}

/*
 * Copies the downloaded file into a sealed memfd and checks its BLAKE2b-256 there: what the
 * installer will read is exactly what was hashed. Returns the memfd or -errno.
 */
static int seal_and_verify(struct job *j, const uint8_t want[32], uint64_t len, char *why,
			   size_t whylen)
{
	crypto_generichash_state st;
	uint8_t buf[65536], got[32];
	int mfd = memfd_create("awg-suite-update", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	uint64_t off = 0;

	if (mfd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = pread(j->fd, buf, sizeof(buf), (off_t)off);

		if (n <= 0 || awg_fd_write_all(mfd, buf, (size_t)n) < 0) {
			snprintf(why, whylen, "cannot copy the download: %s",
				 n < 0 ? strerror(errno) : "short read");
			close(mfd);
			return -EIO;
		}
		off += (uint64_t)n;
	}
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		snprintf(why, whylen, "cannot seal the download: %s", strerror(errno));
		close(mfd);
		return -EIO;
	}
	/* The hash of the sealed bytes, read back: nothing can change them any more. */
	crypto_generichash_init(&st, NULL, 0, sizeof(got));
	off = 0;
	for (;;) {
		ssize_t n = pread(mfd, buf, sizeof(buf), (off_t)off);

		if (n <= 0)
			break;
		crypto_generichash_update(&st, buf, (size_t)n);
		off += (uint64_t)n;
	}
	crypto_generichash_final(&st, got, sizeof(got));
	if (off != len || !awg_equal(got, want, sizeof(got))) {
		snprintf(why, whylen, "the downloaded update has the wrong BLAKE2b-256 hash");
		close(mfd);
		return -EBADMSG;
	}
	return mfd;
}

/*
 * Waits for pid at most ms. 0 with *status; -ETIMEDOUT; -ECANCELED when the manager stops
 * meanwhile (the installer is left to finish on its own: it is in a session of its own).
 */
static int wait_bounded(const struct job *j, pid_t pid, int64_t ms, int *status)
{
	int64_t end = now_ms() + ms;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (atomic_load(&j->u->stopping))
			return -ECANCELED;
		if (now_ms() >= end)
			return -ETIMEDOUT;
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	}
}

/*
 * Under systemd the installer must run as a unit of its own: the manager's unit is sandboxed
 * (read-only /usr, no new privileges) and its cgroup is killed when the package restarts the
 * manager. systemd-run --pipe hands it our stdin, the sealed file, as its stdin.
 */
static bool use_systemd_run(void)
{
	return access("/run/systemd/system", F_OK) == 0 && access("/usr/bin/systemd-run", X_OK) == 0;
}

/* argv for the install: [systemd-run ... --] InstallCommand... PACKAGE. -EINVAL with why. */
static int install_argv(const struct job *j, char *cmd, char **argv, size_t max, bool unit,
			char *why, size_t whylen)
{
	static char unit_arg[64];
	char *save = NULL, *tok;
	size_t argc = 0;

	if (unit) {
		snprintf(unit_arg, sizeof(unit_arg), "--unit=awg-suite-update-%ld", (long)getpid());
		argv[argc++] = (char *)"/usr/bin/systemd-run";
		argv[argc++] = (char *)"--quiet";
		argv[argc++] = (char *)"--collect";
		argv[argc++] = (char *)"--wait";
		argv[argc++] = (char *)"--pipe";
		argv[argc++] = unit_arg;
		argv[argc++] = (char *)"--";
	}
	snprintf(cmd, sizeof(j->conf.install), "%s", j->conf.install);
	for (tok = strtok_r(cmd, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (argc + 2 >= max) {
			snprintf(why, whylen, "InstallCommand has too many words");
			return -EINVAL;
		}
		argv[argc++] = tok;
	}
	if (argc == (unit ? 7u : 0u) || argv[unit ? 7 : 0][0] != '/') {
		snprintf(why, whylen, "InstallCommand must start with an absolute path");
		return -EINVAL;
	}
	argv[argc++] = (char *)(unit ? "/proc/self/fd/0" : "/proc/self/fd/3");
	argv[argc] = NULL;
	return 0;
}

/* In the child: the sealed file as fd 3 (and stdin for systemd-run), defaults, nothing else. */
static void exec_installer(int mfd, char **argv, bool unit)
{
	sigset_t none;
	int nul = open("/dev/null", O_RDWR);

	/* Its own session: a package restarting awg-manager must not take it along. */
	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	/* dup2 onto itself keeps CLOEXEC: clear it by hand then. */
	if (mfd == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(mfd, 3) < 0)
		_exit(127);
	if (dup2(unit ? 3 : nul, 0) < 0 || (nul >= 0 && dup2(nul, 1) < 0))
		_exit(127);
	if (close_range(4, ~0u, 0) < 0)
		for (int fd = 4; fd < 65536; fd++)
			close(fd);
	execv(argv[0], argv);
	_exit(127);
}

/* Runs the install command on the sealed file, in its own session (or unit). */
static int install(struct job *j, int mfd, char *why, size_t whylen)
{
	char cmd[sizeof(j->conf.install)], *argv[48];
	bool unit = use_systemd_run();
	int status, ret;
	pid_t pid;

	ret = install_argv(j, cmd, argv, sizeof(argv) / sizeof(argv[0]), unit, why, whylen);
	if (ret < 0)
		return ret;
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "cannot start the installer: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0)
		exec_installer(mfd, argv, unit);
	ret = wait_bounded(j, pid, (int64_t)j->conf.install_timeout * 1000, &status);
	if (ret == -ECANCELED) {
		snprintf(why, whylen, "the manager stopped during the install; it goes on alone");
		return ret;
	}
	if (ret < 0) {
		/* Its own session: the whole group goes, the job is free again. */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		snprintf(why, whylen, "the install command %.200s did not finish within %u s",
			 j->conf.install, j->conf.install_timeout);
		return -ETIMEDOUT;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(why, whylen, "the install command %.200s %s %d", j->conf.install,
		 WIFEXITED(status) ? "exited with status" : "was killed by signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return -EIO;
}

/* Download, seal, verify, install. The cache file goes in every case. */
static int download_and_install(struct job *j, const struct awg_upd_entry *e, char *why,
				size_t whylen)
{
	uint8_t rnd[32];
	char name[65], url[1400];
	int mfd = -1, ret;

	progress(j, "Creating temporary file");
	awg_random_bytes(rnd, sizeof(rnd));
	for (int i = 0; i < 32; i++)
		snprintf(name + 2 * i, 3, "%02x", rnd[i]);
	j->fd = openat(j->u->cachefd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		       0600);
	if (j->fd < 0) {
		snprintf(why, whylen, "cannot create the download file: %s", strerror(errno));
		return -errno;
	}
	progress(j, "Downloading %s", e->file);
	if (package_url(url, sizeof(url), j->conf.url, e->file) < 0) {
		snprintf(why, whylen, "cannot make the package URL from %.200s", j->conf.url);
		unlinkat(j->u->cachefd, name, 0);
		close(j->fd);
		j->fd = -1;
		return -EINVAL;
	}
	j->max = AWG_UPD_PACKAGE_MAX;
	j->received = 0;
	ret = fetch(j, url, why, whylen);
	if (!ret) {
		uint64_t len = j->received;

		/* The last chunk may have fallen inside the report throttle: say it all arrived. */
		j->p.downloaded = j->p.total = len;
		send_msg(j, MSG_PROGRESS, NULL);
		progress(j, "Verifying %s", e->file);
		ret = mfd = seal_and_verify(j, e->hash, len, why, whylen);
	}
	/* The sealed copy is all that is needed now: the file on disk goes before the install. */
	unlinkat(j->u->cachefd, name, 0);
	close(j->fd);
	j->fd = -1;
	if (ret < 0)
		return ret;
	progress(j, "Installing %s", e->file);
	ret = install(j, mfd, why, whylen);
	close(mfd);
	return ret;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	char why[AWG_MGR_ERROR_MAX + 1] = "", version[AWG_UPD_VERSION_MAX + 1] = "";
	const struct awg_upd_entry *e = NULL;
	struct awg_upd_list list = { 0 };
	int ret = check(j, &list, &e, version, why, sizeof(why));

	/* An Update that came while this was a periodic check rides along. */
	if (!j->install && atomic_exchange(&j->u->want_install, false)) {
		j->install = true;
		atomic_store(&j->u->job_installs, true);
		send_msg(j, MSG_PROGRESS, NULL);
	}
	if (!ret) {
		send_msg(j, MSG_FOUND, version);
		if (j->install)
			ret = download_and_install(j, e, why, sizeof(why));
	}
	awg_upd_list_free(&list);
	if (j->install) {
		j->p.complete = true;
		snprintf(j->p.activity, sizeof(j->p.activity), ret ? "Failed" : "Installed");
		snprintf(j->p.error, sizeof(j->p.error), "%s", ret ? why : "");
		send_msg(j, MSG_PROGRESS, NULL);
		jlog(j, ret ? "update failed: %s" : "update to %s installed", ret ? why : version);
	} else if (ret && ret != -ENOENT) {
		jlog(j, "update check failed: %s", why);
	}
	send_msg(j, MSG_DONE, NULL);
	awg_crypto_thread_cleanup();
	free(j);
	return NULL;
}

/* ---- the main-thread side ---- */

static int start_job(struct awg_updater *u, bool install, char *why, size_t whylen);

static void pipe_event(struct awg_watch *w, uint32_t events)
{
	struct awg_updater *u = awg_container_of(w, struct awg_updater, watch);
	struct msg m;

	(void)events;
	while (read(u->pipe_r, &m, sizeof(m)) == (ssize_t)sizeof(m)) {
		m.text[sizeof(m.text) - 1] = 0;
		switch (m.type) {
		case MSG_PROGRESS:
			u->ops->progress(u->ctx, &m.p);
			break;
		case MSG_FOUND:
			if (u->state != AWG_MGR_UPDATE_FOUND) {
				u->state = AWG_MGR_UPDATE_FOUND;
				u->ops->found(u->ctx, m.text);
			}
			break;
		case MSG_LOG:
			u->ops->log(u->ctx, m.text);
			break;
		case MSG_DONE: {
			char why[AWG_MGR_ERROR_MAX + 1];

			if (u->joinable)
				pthread_join(u->thread, NULL);
			u->joinable = false;
			atomic_store(&u->busy, false);
			/* Asked for after the check had passed the point of taking it along. */
			if (atomic_exchange(&u->want_install, false) &&
			    start_job(u, true, why, sizeof(why)) < 0)
				u->ops->log(u->ctx, why);
			break;
		}
		}
	}
}

static int start_job(struct awg_updater *u, bool install, char *why, size_t whylen)
{
	struct job *j;
	int ret;

	if (atomic_load(&u->busy)) {
		/* A periodic check is running: the install follows it instead of failing. */
		if (install && !atomic_load(&u->job_installs)) {
			atomic_store(&u->want_install, true);
			return 0;
		}
		if (!install)
			return -EBUSY;
		snprintf(why, whylen, "an update is already in progress");
		return -EBUSY;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	ret = conf_read(u->conf_path, &j->conf, why, whylen);
	if (!ret && !j->conf.url[0]) {
		snprintf(why, whylen, "%s has no URL", u->conf_path);
		ret = -ENOENT;
	}
	if (!ret && !j->conf.have_key) {
		u->state = AWG_MGR_UPDATE_DISABLED;
		snprintf(why, whylen, "updates are disabled: an unofficial build with no pinned key "
			 "(PublicKey in %s enables them)", u->conf_path);
		ret = -ENOTSUP;
	}
	if (ret < 0) {
		free(j);
		return ret;
	}
	if (u->state == AWG_MGR_UPDATE_DISABLED)
		u->state = AWG_MGR_UPDATE_UNKNOWN;
	j->u = u;
	j->install = install;
	j->fd = -1;
	atomic_store(&u->job_installs, install);
	atomic_store(&u->busy, true);
	if (pthread_create(&u->thread, NULL, worker, j) != 0) {
		atomic_store(&u->busy, false);
		free(j);
		snprintf(why, whylen, "cannot start the update thread");
		return -EAGAIN;
	}
	u->joinable = true;
	return 0;
}

int awg_updater_start(struct awg_updater *u, char *why, size_t whylen)
{
	return start_job(u, true, why, whylen);
}

enum awg_mgr_update_state awg_updater_state(const struct awg_updater *u)
{
	return u->state;
}

int awg_updater_tick(struct awg_updater *u)
{
	int64_t now = now_ms();

	if (!u->next_check_ms)
		return -1;
	if (now >= u->next_check_ms) {
		struct upd_conf c;
		char why[AWG_MGR_ERROR_MAX + 1];
		unsigned interval = 3600;

		if (conf_read(u->conf_path, &c, why, sizeof(why)) == 0)
			interval = c.interval;
		/* Jitter of +-5 %, so a fleet of machines does not ask at the same second. */
		u->next_check_ms = now + (int64_t)interval * 1000 * (95 + randombytes_uniform(11)) / 100;
		start_job(u, false, why, sizeof(why));
	}
	return (int)(u->next_check_ms - now);
}

/* The cache: root/updates, 0700, emptied of anything a crash left. */
static int open_cache(int rootfd)
{
	int fd, d;
	DIR *dir;
	struct dirent *e;

	if (mkdirat(rootfd, "updates", 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(rootfd, "updates", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fchmod(fd, 0700);
	d = dup(fd);
	dir = d >= 0 ? fdopendir(d) : NULL;
	if (!dir) {
		if (d >= 0)
			close(d);
		return fd;
	}
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.')
			unlinkat(fd, e->d_name, 0);
	closedir(dir);
	return fd;
}

int awg_updater_new(struct awg_updater **out, int epfd, const char *conf_path, int state_rootfd,
		    const struct awg_updater_ops *ops, void *ctx)
{
	struct awg_updater *u = calloc(1, sizeof(*u));
	struct upd_conf c;
	char why[AWG_MGR_ERROR_MAX + 1];
	int p[2], ret;

	if (!u)
		return -ENOMEM;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		free(u);
		return -EIO;
	}
	u->epfd = epfd;
	u->conf_path = conf_path;
	u->ops = ops;
	u->ctx = ctx;
	u->watch.fn = pipe_event;
	u->cachefd = open_cache(state_rootfd);
	if (u->cachefd < 0 || pipe2(p, O_CLOEXEC) < 0) {
		ret = u->cachefd < 0 ? u->cachefd : -errno;
		goto fail;
	}
	u->pipe_r = p[0];
	u->pipe_w = p[1];
	fcntl(u->pipe_r, F_SETFL, O_NONBLOCK);
	ret = awg_loop_add(epfd, u->pipe_r, EPOLLIN, &u->watch);
	if (ret < 0)
		goto fail;
	ret = conf_read(conf_path, &c, why, sizeof(why));
	if (ret == 0 && c.url[0] && !c.have_key)
		u->state = AWG_MGR_UPDATE_DISABLED;
	if (ret == -ENOENT && !*AWG_UPDATE_PUBKEY)
		u->state = AWG_MGR_UPDATE_DISABLED;
	/* The first check FirstCheckDelay after start, plus up to 40 % so machines spread out. */
	if (ret == 0 && c.url[0])
		u->next_check_ms = now_ms() + (int64_t)c.first_delay * 1000 +
				   randombytes_uniform(c.first_delay * 400 + 1);
	*out = u;
	return 0;
fail:
	if (u->cachefd >= 0)
		close(u->cachefd);
	curl_global_cleanup();
	free(u);
	return ret;
}

void awg_updater_free(struct awg_updater *u)
{
	struct msg m;

	if (!u)
		return;
	atomic_store(&u->stopping, true);
	/* Keep draining: a worker blocked on a full pipe could never finish otherwise. */
	while (u->joinable && pthread_tryjoin_np(u->thread, NULL) != 0) {
		struct pollfd pfd = { .fd = u->pipe_r, .events = POLLIN };

		if (poll(&pfd, 1, 50) > 0)
			while (read(u->pipe_r, &m, sizeof(m)) > 0)
				;
	}
	awg_loop_del(u->epfd, u->pipe_r);
	close(u->pipe_r);
	close(u->pipe_w);
	close(u->cachefd);
	curl_global_cleanup();
	free(u);
}
