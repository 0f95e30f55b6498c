// SPDX-License-Identifier: MIT
/*
 * libawgclient against a scripted fake manager (a forked child on a Unix socket in a temp
 * directory): seq matching, the event queue and its bound, SCM_RIGHTS handling, strictness
 * on malformed frames, partial frames across timeouts; and awgctl's output helpers.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "format.h"
#include "harness.h"

struct fake {
	char dir[64];
	char path[96];
	pid_t pid;
};

/* --- the child's side --- */

static int read_exact(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one request; exits the child with 10 when it is not one. */
static void srv_read(int fd, struct awg_mgr_msg *m)
{
	uint8_t buf[4096];
	size_t len;

	if (read_exact(fd, buf, 4))
		_exit(10);
	len = awg_mgr_frame_len(buf);
	if (!len || len > sizeof(buf) || read_exact(fd, buf + 4, len - 4) ||
	    awg_mgr_decode(m, buf, len) || m->kind != AWG_MGR_REQUEST)
		_exit(10);
}

/* Sends raw bytes, with pass_fd (if >= 0) as SCM_RIGHTS on them. */
static void srv_raw(int fd, const void *p, size_t len, int pass_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)p, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (pass_fd >= 0) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)len)
		_exit(11);
}

static void srv_send(int fd, struct awg_mgr_msg *m, int pass_fd)
{
	uint8_t *buf;
	size_t len;

	if (awg_mgr_encode(m, &buf, &len))
		_exit(12);
	srv_raw(fd, buf, len, pass_fd);
	free(buf);
}

static void srv_event(int fd, uint8_t code, const char *name, int pass_fd)
{
	struct awg_mgr_msg m = { .kind = AWG_MGR_EVENT, .code = code };

	if (name) {
		snprintf(m.name, sizeof(m.name), "%s", name);
		m.state = AWG_MGR_STARTED;
		m.global_state = AWG_MGR_STARTED;
	}
	srv_send(fd, &m, pass_fd);
}

static void srv_role_reply(int fd, uint32_t seq, uint32_t uid)
{
	struct awg_mgr_msg m = { .kind = AWG_MGR_REPLY, .code = AWG_MGR_ROLE, .seq = seq,
				 .state = AWG_MGR_ROLE_ADMIN, .value = uid };

	srv_send(fd, &m, -1);
}

/* --- scripts --- */

static void script_events_then_reply(int fd)
{
	struct awg_mgr_msg req;

	srv_read(fd, &req);
	if (req.code != AWG_MGR_ROLE)
		_exit(20);
	srv_event(fd, AWG_MGR_EV_TUNNELS_CHANGE, NULL, -1);
	srv_event(fd, AWG_MGR_EV_TUNNEL_CHANGE, "office", -1);
	srv_role_reply(fd, req.seq, 42);
}

static void script_logfd(int fd)
{
	struct awg_mgr_msg req, m = { .kind = AWG_MGR_REPLY, .code = AWG_MGR_LOG_FD, .value = 5 };
	int mfd = memfd_create("log", MFD_CLOEXEC);

	if (mfd < 0 || write(mfd, "hello", 5) != 5)
		_exit(21);
	srv_read(fd, &req);
	m.seq = req.seq;
	srv_send(fd, &m, mfd);
	/* Second round: an fd on an event (must be closed), then a plain reply. */
	srv_read(fd, &req);
	srv_event(fd, AWG_MGR_EV_TUNNELS_CHANGE, NULL, mfd);
	srv_role_reply(fd, req.seq, 7);
}

static void script_bad_flags(int fd)
{
	/* length 12: kind reply, code Role, flags 1 (reserved), seq 1: malformed. */
	static const uint8_t bad[] = { 12, 0, 0, 0, 2, 15, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	struct awg_mgr_msg req;

	srv_read(fd, &req);
	srv_raw(fd, bad, sizeof(bad), -1);
	sleep(1);
}

static void script_bad_length(int fd)
{
	static const uint8_t bad[] = { 0xff, 0xff, 0xff, 0xff, 2, 15, 0, 0 };
	struct awg_mgr_msg req;

	srv_read(fd, &req);
	srv_raw(fd, bad, sizeof(bad), -1);
	sleep(1);
}

static void script_wrong_seq(int fd)
{
	struct awg_mgr_msg req;

	srv_read(fd, &req);
	srv_role_reply(fd, req.seq + 1, 0);
	sleep(1);
}

static void script_split_event(int fd)
{
	struct awg_mgr_msg m = { .kind = AWG_MGR_EVENT, .code = AWG_MGR_EV_TUNNEL_CHANGE };
	uint8_t *buf;
	size_t len;

	snprintf(m.name, sizeof(m.name), "split");
	if (awg_mgr_encode(&m, &buf, &len))
		_exit(22);
	srv_raw(fd, buf, 6, -1);
	usleep(300 * 1000);
	srv_raw(fd, buf + 6, len - 6, -1);
	free(buf);
	sleep(1);
}

static void script_flood(int fd)
{
	struct awg_mgr_msg req;
	char name[16];

	srv_read(fd, &req);
	for (int i = 0; i < AWG_CLIENT_QUEUE_MAX + 6; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		srv_event(fd, AWG_MGR_EV_TUNNEL_CHANGE, name, -1);
	}
	srv_role_reply(fd, req.seq, 1);
}

static void script_unsolicited(int fd)
{
	srv_role_reply(fd, 99, 0);
	sleep(1);
}

/* --- the parent's side --- */

static int fake_start(struct fake *f, void (*script)(int fd))
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, cfd;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test-client-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/m.sock", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1))
		return -1;
	f->pid = fork();
	if (f->pid < 0)
		return -1;
	if (!f->pid) {
		cfd = accept(lfd, NULL, NULL);
		if (cfd < 0)
			_exit(30);
		script(cfd);
		_exit(0);
	}
	close(lfd);
	return 0;
}

/* Waits for the child; its exit status is 0 when its script ran as planned. */
static int fake_stop(struct fake *f)
{
	int status = -1;

	waitpid(f->pid, &status, 0);
	unlink(f->path);
	rmdir(f->dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int role_call(struct awg_client *c, struct awg_mgr_msg *reply, int *fd)
{
	struct awg_mgr_msg req = { .code = AWG_MGR_ROLE };

	return awg_client_call(c, &req, reply, fd);
}

static void call_queues_events(void)
{
	struct awg_client c;
	struct awg_mgr_msg reply, ev;
	struct fake f;
	int fd = 99;

	CHECK_INT(fake_start(&f, script_events_then_reply), 0);
	CHECK_INT(awg_client_connect(&c, f.path), 0);
	CHECK_INT(role_call(&c, &reply, &fd), 0);
	CHECK_INT(reply.kind, AWG_MGR_REPLY);
	CHECK_INT(reply.status, 0);
	CHECK_INT(reply.state, AWG_MGR_ROLE_ADMIN);
	CHECK_INT(reply.value, 42);
	CHECK_INT(fd, -1);
	awg_mgr_msg_free(&reply);
	/* The two events read while waiting come out first, in order. */
	CHECK_INT(awg_client_next_event(&c, &ev, 0), 1);
	CHECK_INT(ev.code, AWG_MGR_EV_TUNNELS_CHANGE);
	awg_mgr_msg_free(&ev);
	CHECK_INT(awg_client_next_event(&c, &ev, 0), 1);
	CHECK_INT(ev.code, AWG_MGR_EV_TUNNEL_CHANGE);
	CHECK(!strcmp(ev.name, "office"));
	CHECK_INT(ev.state, AWG_MGR_STARTED);
	awg_mgr_msg_free(&ev);
	/* The child has exited: end of stream, and it sticks. */
	CHECK_INT(fake_stop(&f), 0);
	CHECK_INT(awg_client_next_event(&c, &ev, 1000), -ECONNRESET);
	CHECK_INT(role_call(&c, &reply, NULL), -ECONNRESET);
	awg_mgr_msg_free(&reply);
	awg_client_close(&c);
	awg_client_close(&c);	/* harmless twice */
}

static void logfd_passes_descriptor(void)
{
	struct awg_mgr_msg req = { .code = AWG_MGR_LOG_FD }, reply;
	struct awg_client c;
	struct fake f;
	char buf[8] = { 0 };
	int fd = -1, before;

	CHECK_INT(fake_start(&f, script_logfd), 0);
	CHECK_INT(awg_client_connect(&c, f.path), 0);
	CHECK_INT(awg_client_call(&c, &req, &reply, &fd), 0);
	CHECK_INT(reply.value, 5);
	CHECK(fd >= 0);
	CHECK_INT(pread(fd, buf, 5, 0), 5);
	CHECK(!strcmp(buf, "hello"));
	awg_mgr_msg_free(&reply);
	close(fd);
	/* A descriptor on an event is closed, not leaked, and not handed out. */
	before = count_fds();
	CHECK_INT(role_call(&c, &reply, &fd), 0);
	CHECK_INT(reply.value, 7);
	CHECK_INT(fd, -1);
	CHECK_INT(count_fds(), before);
	awg_mgr_msg_free(&reply);
	awg_client_close(&c);
	CHECK_INT(fake_stop(&f), 0);
}

static void malformed_is_eproto(void)
{
	void (*scripts[])(int) = { script_bad_flags, script_bad_length, script_wrong_seq };
	struct awg_mgr_msg reply, ev;
	struct awg_client c;
	struct fake f;

	for (unsigned i = 0; i < 3; i++) {
		CHECK_INT(fake_start(&f, scripts[i]), 0);
		CHECK_INT(awg_client_connect(&c, f.path), 0);
		CHECK_INT(role_call(&c, &reply, NULL), -EPROTO);
		awg_mgr_msg_free(&reply);
		/* Beyond repair: later calls fail the same way without touching the socket. */
		CHECK_INT(role_call(&c, &reply, NULL), -EPROTO);
		awg_mgr_msg_free(&reply);
		CHECK_INT(awg_client_next_event(&c, &ev, 0), -EPROTO);
		awg_client_close(&c);
		CHECK_INT(fake_stop(&f), 0);
	}
	/* A reply nobody asked for. */
	CHECK_INT(fake_start(&f, script_unsolicited), 0);
	CHECK_INT(awg_client_connect(&c, f.path), 0);
	CHECK_INT(awg_client_next_event(&c, &ev, 2000), -EPROTO);
	awg_client_close(&c);
	CHECK_INT(fake_stop(&f), 0);
}

static void partial_frame_survives_timeout(void)
{
	struct awg_client c;
	struct awg_mgr_msg ev;
	struct fake f;

	CHECK_INT(fake_start(&f, script_split_event), 0);
	CHECK_INT(awg_client_connect(&c, f.path), 0);
	CHECK_INT(awg_client_next_event(&c, &ev, 100), 0);
	CHECK_INT(awg_client_next_event(&c, &ev, 3000), 1);
	CHECK_INT(ev.code, AWG_MGR_EV_TUNNEL_CHANGE);
	CHECK(!strcmp(ev.name, "split"));
	awg_mgr_msg_free(&ev);
	awg_client_close(&c);
	CHECK_INT(fake_stop(&f), 0);
}

static void queue_is_bounded(void)
{
	struct awg_mgr_msg reply, ev;
	struct awg_client c;
	struct fake f;
	int n = 0;

	CHECK_INT(fake_start(&f, script_flood), 0);
	CHECK_INT(awg_client_connect(&c, f.path), 0);
	CHECK_INT(role_call(&c, &reply, NULL), 0);
	awg_mgr_msg_free(&reply);
	CHECK_INT(c.dropped, 6);
	CHECK_INT(c.q_len, AWG_CLIENT_QUEUE_MAX);
	/* The oldest six went; the rest come in order. */
	while (awg_client_next_event(&c, &ev, 0) == 1) {
		char want[16];

		snprintf(want, sizeof(want), "e%d", n + 6);
		CHECK(!strcmp(ev.name, want));
		awg_mgr_msg_free(&ev);
		n++;
		if (n > AWG_CLIENT_QUEUE_MAX)
			break;
	}
	CHECK_INT(n, AWG_CLIENT_QUEUE_MAX);
	awg_client_close(&c);
	CHECK_INT(fake_stop(&f), 0);
}

static void connect_errors_and_path(void)
{
	struct awg_client c;
	char longpath[200];

	CHECK_INT(awg_client_connect(&c, "/nonexistent-dir/m.sock"), -ENOENT);
	CHECK_INT(awg_client_fd(&c), -1);
	awg_client_close(&c);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	CHECK_INT(awg_client_connect(&c, longpath), -ENAMETOOLONG);
	awg_client_close(&c);
	unsetenv(AWG_CLIENT_SOCKET_ENV);
	CHECK(!strcmp(awg_client_socket_path(NULL), AWG_MGR_SOCKET_PATH));
	setenv(AWG_CLIENT_SOCKET_ENV, "", 1);
	CHECK(!strcmp(awg_client_socket_path(NULL), AWG_MGR_SOCKET_PATH));
	setenv(AWG_CLIENT_SOCKET_ENV, "/x/y.sock", 1);
	CHECK(!strcmp(awg_client_socket_path(NULL), "/x/y.sock"));
	CHECK(!strcmp(awg_client_socket_path("/given"), "/given"));
	unsetenv(AWG_CLIENT_SOCKET_ENV);
}

static void json_escaping(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "\"plain\"" },
		{ "q\"b\\", "\"q\\\"b\\\\\"" },
		{ "a\nb\tc\x01\x1f\x7f", "\"a\\u000ab\\u0009c\\u0001\\u001f\\u007f\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91\"" },
		/* Invalid UTF-8: a stray continuation, a truncated sequence, overlong, surrogate. */
		{ "\x80x", "\"\\ufffdx\"" },
		{ "\xc3", "\"\\ufffd\"" },
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		awg_json_string(f, cases[i].in);
		fclose(f);
		if (!CHECK(!strcmp(buf, cases[i].out)))
			fprintf(stderr, "  case %zu: got %s\n", i, buf);
		free(buf);
	}
}

static void texts(void)
{
	static const struct {
		int64_t now, sec;
		const char *out;
	} ago[] = {
		{ 1000, 0, "never" },
		{ 1000, 1000, "Now" },
		{ 1063, 1000, "1 minute, 3 seconds ago" },
		{ 1000 + 2 * 86400 + 3600, 1000, "2 days, 1 hour ago" },
		{ 1000, 1001, "(System clock wound backward; connection problems may ensue.)" },
	};
	char buf[128];
	uint8_t key[32] = { 0 };
	uint64_t idx = 99;

	for (size_t i = 0; i < sizeof(ago) / sizeof(ago[0]); i++) {
		awg_ctl_format_ago(buf, sizeof(buf), ago[i].now, ago[i].sec);
		if (!CHECK(!strcmp(buf, ago[i].out)))
			fprintf(stderr, "  ago case %zu: got %s\n", i, buf);
	}
	awg_ctl_format_duration(buf, sizeof(buf), 25);
	CHECK(!strcmp(buf, "25 seconds"));
	/* Truncation keeps a terminated string. */
	CHECK_INT(awg_ctl_format_duration(buf, 6, 3661), 5);
	CHECK(!strcmp(buf, "1 hou"));
	CHECK_INT(awg_ctl_format_ago(buf, 1, 1063, 1000), 0);
	CHECK_INT(buf[0], 0);
	awg_ctl_format_bytes(buf, sizeof(buf), 1023);
	CHECK(!strcmp(buf, "1023 B"));
	awg_ctl_format_bytes(buf, sizeof(buf), 4608);
	CHECK(!strcmp(buf, "4.50 KiB"));
	awg_ctl_format_bytes(buf, sizeof(buf), 1289748);
	CHECK(!strcmp(buf, "1.23 MiB"));
	awg_ctl_format_bytes(buf, sizeof(buf), 5ull << 40);
	CHECK(!strcmp(buf, "5.00 TiB"));

	snprintf(buf, sizeof(buf), "a\x1b[2Jb\x7f\tc\xc3\xa9");
	awg_ctl_printable(buf);
	CHECK(!strcmp(buf, "a?[2Jb??c\xc3\xa9"));

	key[0] = 3;
	key[1] = 1;
	CHECK(awg_ctl_placeholder_index(key, &idx));
	CHECK_INT(idx, 259);
	key[31] = 1;
	CHECK(!awg_ctl_placeholder_index(key, &idx));
}

TEST_MAIN("client", T(call_queues_events), T(logfd_passes_descriptor), T(malformed_is_eproto),
	  T(partial_frame_survives_timeout), T(queue_is_bounded), T(connect_errors_and_path),
	  T(json_escaping), T(texts))
