// SPDX-License-Identifier: MIT
// awgctl log and update: reading the shared ring log through LogFd, and the update commands.
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "format.h"
#include "ringlog.h"

static volatile sig_atomic_t stop_follow;

static void on_stop(int sig)
{
	(void)sig;
	stop_follow = 1;
}

struct log_out {
	bool json;
	int err;		/* first write error on stdout (EPIPE: the reader went away) */
};

/* The time column awg_ringlog_format writes, without the ": text" part. */
static void time_text(char *buf, size_t size, int64_t time_ns)
{
	size_t n = awg_ringlog_format(buf, size, time_ns, "");

	while (n && (buf[n - 1] == ' ' || buf[n - 1] == ':'))
		buf[--n] = '\0';
}

static void print_line(void *ctx, int64_t time_ns, const char *text)
{
	struct log_out *o = ctx;
	char buf[AWG_RINGLOG_TEXT + 64];

	if (o->err)
		return;
	if (o->json) {
		time_text(buf, sizeof(buf), time_ns);
		fputs("{\"time\":", stdout);
		awg_json_string(stdout, buf);
		printf(",\"time_ns\":%" PRId64 ",\"text\":", time_ns);
		awg_json_string(stdout, text);
		fputs("}\n", stdout);
	} else {
		awg_ringlog_format(buf, sizeof(buf), time_ns, text);
		puts(buf);
	}
	if (ferror(stdout))
		o->err = errno ? errno : EIO;
}

static int flush_out(struct log_out *o)
{
	if (!o->err && fflush(stdout))
		o->err = errno ? errno : EIO;
	return o->err;
}

/*
 * Waits 100 ms, watching stdout: a pipe whose reader went away reports POLLERR at once, so
 * "awgctl log --follow | head" ends even while no new line comes. A signal cuts the wait short,
 * which is what we want. Returns false when stdout is gone.
 */
static bool wait_100ms(void)
{
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = 0 };

	if (poll(&pfd, 1, 100) > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)))
		return false;
	return true;
}

/* Follows the log until SIGINT/SIGTERM or a write error. */
static void follow(const struct awg_ringlog *r, uint32_t *cursor, struct log_out *o)
{
	struct sigaction sa = { .sa_handler = on_stop }, old_int, old_term;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	while (!stop_follow && !o->err) {
		awg_ringlog_follow(r, cursor, print_line, o);
		if (flush_out(o) || !wait_100ms())
			break;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
}

int awg_ctl_cmd_log(struct ctl *ctl, int argc, char **argv)
{
	struct awg_mgr_msg req = { .code = AWG_MGR_LOG_FD }, reply;
	struct log_out o = { .json = ctl->json };
	struct awg_ringlog r;
	uint32_t cursor = AWG_RINGLOG_CURSOR_ALL;
	bool follow_opt = false;
	const struct ctl_opt opts[] = { { "--follow", NULL, &follow_opt }, { 0 } };
	int fd, ret;

	if (awg_ctl_args(argc, argv, opts, NULL, 0, 0) < 0)
		return CTL_USAGE;
	ret = awg_ctl_call(ctl, &req, &reply, &fd);
	awg_mgr_msg_free(&reply);
	if (ret)
		return CTL_FAIL;
	if (fd < 0) {
		awg_ctl_err("the manager sent no log descriptor");
		return CTL_FAIL;
	}
	ret = awg_ringlog_open_fd(&r, fd, false, "CLI");
	close(fd);
	if (ret) {
		awg_ctl_err("cannot map the log: %s", ret == -EINVAL ? "not a ring log"
								     : strerror(-ret));
		return CTL_FAIL;
	}
	/* The descriptor is all we needed: the mapping outlives the connection. */
	awg_client_close(&ctl->client);
	ctl->connected = false;
	awg_ringlog_follow(&r, &cursor, print_line, &o);
	flush_out(&o);
	if (follow_opt && !o.err)
		follow(&r, &cursor, &o);
	awg_ringlog_close(&r);
	if (o.err && o.err != EPIPE) {
		awg_ctl_err("writing the log: %s", strerror(o.err));
		return CTL_FAIL;
	}
	clearerr(stdout);	/* EPIPE: the reader is gone; end quietly and successfully */
	return CTL_OK;
}

static const char *update_text(unsigned state)
{
	switch (state) {
	case AWG_MGR_UPDATE_FOUND:
		return "update available";
	case AWG_MGR_UPDATE_DISABLED:
		return "updates disabled in this build";
	default:
		return "no update known";
	}
}

static int update_check(struct ctl *ctl)
{
	static const char *const keys[] = { "unknown", "available", "disabled" };
	struct awg_mgr_msg req = { .code = AWG_MGR_UPDATE_STATE }, reply;

	if (awg_ctl_call(ctl, &req, &reply, NULL)) {
		awg_mgr_msg_free(&reply);
		return CTL_FAIL;
	}
	if (ctl->json)
		printf("{\"update_state\":\"%s\",\"text\":\"%s\"}\n",
		       reply.state < AWG_MGR_UPDATE_STATES ? keys[reply.state] : "unknown",
		       update_text(reply.state));
	else
		printf("%s\n", update_text(reply.state));
	awg_mgr_msg_free(&reply);
	return CTL_OK;
}

/* One UpdateProgress: 1 finished, -1 failed, 0 go on. */
static int update_progress(struct awg_mgr_msg *ev)
{
	char got[32], total[32];

	awg_ctl_printable(ev->error);
	awg_ctl_printable(ev->activity);
	if (ev->error[0]) {
		awg_ctl_err("update failed: %s", ev->error);
		return -1;
	}
	if (ev->total) {
		awg_ctl_format_bytes(got, sizeof(got), ev->downloaded);
		awg_ctl_format_bytes(total, sizeof(total), ev->total);
		printf("%s: %s of %s\n", ev->activity[0] ? ev->activity : "Downloading", got, total);
	} else if (ev->activity[0]) {
		printf("%s\n", ev->activity);
	}
	if (ev->flag)
		printf("Update complete\n");
	fflush(stdout);
	return ev->flag ? 1 : 0;
}

static int update_run(struct ctl *ctl)
{
	struct awg_mgr_msg req = { .code = AWG_MGR_SUBSCRIBE, .flag = 1 }, m;
	int ret;

	/* Subscribe first, or the first progress events could come before we listen. */
	ret = awg_ctl_call(ctl, &req, &m, NULL);
	awg_mgr_msg_free(&m);
	if (ret)
		return CTL_FAIL;
	req = (struct awg_mgr_msg){ .code = AWG_MGR_UPDATE };
	ret = awg_ctl_call(ctl, &req, &m, NULL);
	awg_mgr_msg_free(&m);
	if (ret)
		return CTL_FAIL;
	for (;;) {
		ret = awg_client_next_event(&ctl->client, &m, -1);
		if (ret < 0) {
			awg_ctl_err("lost the connection to the manager: %s",
				    ret == -EPROTO ? "malformed message" : strerror(-ret));
			return CTL_FAIL;
		}
		if (m.code == AWG_MGR_EV_UPDATE_PROGRESS)
			ret = update_progress(&m);
		else if (m.code == AWG_MGR_EV_MANAGER_STOPPING)
			ret = -2;
		else
			ret = 0;
		awg_mgr_msg_free(&m);
		if (ret == -2)
			awg_ctl_err("the manager is stopping before the update completed");
		if (ret)
			return ret > 0 ? CTL_OK : CTL_FAIL;
	}
}

int awg_ctl_cmd_update(struct ctl *ctl, int argc, char **argv)
{
	bool check = false;
	const struct ctl_opt opts[] = { { "--check", NULL, &check }, { 0 } };

	if (awg_ctl_args(argc, argv, opts, NULL, 0, 0) < 0)
		return CTL_USAGE;
	return check ? update_check(ctl) : update_run(ctl);
}
