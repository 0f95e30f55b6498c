// SPDX-License-Identifier: MIT
/*
 * The manager's socket server against real Unix-socket clients: a client dropped inside its
 * own request handler (queue full during a broadcast) is never touched after it is freed, a
 * deferred reply does not run the client's next request from inside the caller, a client with
 * no role is hung up after its answer, and malformed frames close only their connection. Run
 * under ASan, a use-after-free in any of these paths fails the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "server.h"

static char dir[] = "/tmp/awg-test-server-XXXXXX";
static int epfd = -1;
static struct awg_server *srv;

/* What the fake manager does with each request. */
static struct {
	unsigned requests;		/* dispatched so far */
	bool broadcast;			/* GlobalState: broadcast an event before replying */
	bool hangup;			/* Role: refuse and hang up */
	uint64_t parked_id;
	uint32_t parked_seq;
} fake;

static void request(void *ctx, struct awg_server_client *c, struct awg_mgr_msg *req)
{
	struct awg_mgr_msg r = { .kind = AWG_MGR_REPLY, .code = req->code, .seq = req->seq };

	(void)ctx;
	fake.requests++;
	switch (req->code) {
	case AWG_MGR_SUBSCRIBE:
		c->subscribed = req->flag;
		break;
	case AWG_MGR_WAIT_FOR_STOP:
		fake.parked_id = c->id;
		fake.parked_seq = req->seq;
		awg_server_park(c);
		return;
	case AWG_MGR_GLOBAL_STATE:
		if (fake.broadcast) {
			struct awg_mgr_msg ev = { .kind = AWG_MGR_EVENT,
						  .code = AWG_MGR_EV_TUNNELS_CHANGE };

			awg_server_broadcast(srv, &ev);
		}
		r.state = AWG_MGR_STOPPED;
		break;
	case AWG_MGR_ROLE:
		if (fake.hangup) {
			awg_server_error(c, req, EACCES, "you are not allowed to use awg-manager");
			awg_server_hangup(c);
			return;
		}
		break;
	default:
		break;
	}
	/* After a drop inside the broadcast above, this must be a harmless no-op. */
	awg_server_reply(c, &r, -1);
}

static bool yes_large(void *ctx, uid_t uid)
{
	(void)ctx;
	(void)uid;
	return true;
}

static bool yes_event(void *ctx, const struct awg_server_client *c, unsigned ev)
{
	(void)ctx;
	(void)c;
	(void)ev;
	return true;
}

static const struct awg_server_ops ops = {
	.request = request, .may_send_large = yes_large, .may_receive = yes_event,
};

/* One pass of the manager's loop: dispatch a batch, then reap. */
static void pump(int ms)
{
	struct epoll_event evs[64];
	int n = epoll_wait(epfd, evs, 64, ms);

	for (int i = 0; i < n; i++) {
		struct awg_watch *w = evs[i].data.ptr;

		w->fn(w, evs[i].events);
	}
	awg_server_reap(srv);
}

static void pump_for(int ms)
{
	for (int i = 0; i < ms / 10; i++)
		pump(10);
}

static void setup(void)
{
	const char *why = "";

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	CHECK_INT(awg_server_open(&srv, dir, epfd, &ops, NULL, &why), 0);
}

static int client(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/manager.sock", dir);
	CHECK_INT(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	pump(10);	/* accept */
	return fd;
}

/* Sends one request, pumping the server while the socket is full. false once it hung up. */
static bool send_req(int fd, unsigned code, uint32_t seq, uint8_t flag)
{
	struct awg_mgr_msg m = { .kind = AWG_MGR_REQUEST, .code = (uint8_t)code, .seq = seq,
				 .flag = flag };
	uint8_t *buf;
	size_t len, off = 0;

	if (code == AWG_MGR_WAIT_FOR_STOP)
		strcpy(m.name, "t1");
	CHECK_INT(awg_mgr_encode(&m, &buf, &len), 0);
	/* The server runs only in pump(): never block on a full socket here. */
	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			break;
		else
			pump(1);
	}
	free(buf);
	return off == len;
}

/* Reads frames until EOF (or nothing more within ms): the number of frames, -1 on garbage. */
static int drain(int fd, int ms, bool *eof)
{
	uint8_t buf[1 << 16];
	size_t have = 0;
	int frames = 0;

	*eof = false;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		pump(0);
		if (poll(&p, 1, ms) <= 0)
			return frames;
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n <= 0) {
			*eof = true;
			return frames;
		}
		have += (size_t)n;
		for (;;) {
			size_t flen = have >= 4 ? awg_mgr_frame_len(buf) : 0;

			if (have >= 4 && !flen)
				return -1;
			if (!flen || have < flen)
				break;
			frames++;
			memmove(buf, buf + flen, have - flen);
			have -= flen;
		}
	}
}

/* The caller's own queue fills during the broadcast its request causes: dropped, not freed. */
static void dropped_inside_its_own_request(void)
{
	int fd = client();
	uint32_t sent = 0;
	bool eof;

	fake.broadcast = true;
	CHECK(send_req(fd, AWG_MGR_SUBSCRIBE, 1, 1));
	/* Every GlobalState makes an event and a reply: far more than kernel + queue hold. */
	while (sent < 2000 && send_req(fd, AWG_MGR_GLOBAL_STATE, sent + 2, 0))
		sent++;
	pump_for(300);
	CHECK(sent < 2000);		/* it was cut off */
	CHECK_INT(awg_server_clients(srv), 0);
	CHECK(drain(fd, 200, &eof) > 0);
	CHECK(eof);
	close(fd);
	fake.broadcast = false;
}

/* Replying to a parked client must not run its pipelined next request inside the reply. */
static void deferred_reply_does_not_dispatch(void)
{
	struct awg_mgr_msg r = { .kind = AWG_MGR_REPLY, .code = AWG_MGR_WAIT_FOR_STOP };
	int fd = client();
	unsigned before;
	bool eof;

	fake.requests = 0;
	CHECK(send_req(fd, AWG_MGR_WAIT_FOR_STOP, 1, 0));
	CHECK(send_req(fd, AWG_MGR_GLOBAL_STATE, 2, 0));
	pump_for(50);
	CHECK_INT(fake.requests, 1);		/* parked after the first */
	before = fake.requests;
	r.seq = fake.parked_seq;
	awg_server_reply_to(srv, fake.parked_id, &r);
	CHECK_INT(fake.requests, before);	/* not run from inside reply_to */
	pump_for(50);
	CHECK_INT(fake.requests, before + 1);	/* but in the next loop pass */
	CHECK_INT(drain(fd, 100, &eof), 2);
	close(fd);
	pump_for(20);
	CHECK_INT(awg_server_clients(srv), 0);
}

/* A refused caller with no role gets its sentence, then the connection ends. */
static void hangup_after_refusal(void)
{
	int fd = client();
	bool eof;

	fake.hangup = true;
	CHECK(send_req(fd, AWG_MGR_ROLE, 1, 0));
	send_req(fd, AWG_MGR_ROLE, 2, 0);
	pump_for(50);
	CHECK_INT(drain(fd, 100, &eof), 1);
	CHECK(eof);
	close(fd);
	fake.hangup = false;
	CHECK_INT(awg_server_clients(srv), 0);
}

/* A malformed frame closes its own connection; another client is still served. */
static void garbage_closes_only_its_connection(void)
{
	static const uint8_t junk[] = { 12, 0, 0, 0, 1, 0, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0 };
	int bad = client(), good = client();
	bool eof;

	CHECK_INT(write(bad, junk, sizeof(junk)), sizeof(junk));
	pump_for(50);
	CHECK_INT(drain(bad, 100, &eof), 0);
	CHECK(eof);
	CHECK(send_req(good, AWG_MGR_GLOBAL_STATE, 9, 0));
	pump_for(50);
	CHECK_INT(drain(good, 100, &eof), 1);
	CHECK(!eof);
	close(bad);
	close(good);
	pump_for(20);
}

static void teardown(void)
{
	char path[128];

	awg_server_close(srv);
	close(epfd);
	snprintf(path, sizeof(path), "%s/manager.lock", dir);
	unlink(path);
	CHECK_INT(rmdir(dir), 0);
}

TEST_MAIN("server",
	  T(setup),
	  T(dropped_inside_its_own_request),
	  T(deferred_reply_does_not_dispatch),
	  T(hangup_after_refusal),
	  T(garbage_closes_only_its_connection),
	  T(teardown))
