// SPDX-License-Identifier: MIT
/* Owns the stderr-to-ring-log pipe of awg-tunnel (see logpipe.h): redirection and reader thread. */
#include "logpipe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* One ring log entry for the line collected so far (the ring log skips empty ones). */
static void emit(struct awg_logpipe *lp)
{
	lp->line[lp->len] = 0;
	if (lp->len)
		awg_ringlog_write(&lp->log, lp->line);
	lp->len = 0;
}

/* Splits bytes into lines; a line longer than an entry holds is cut into several entries. */
static void consume(struct awg_logpipe *lp, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			emit(lp);
			continue;
		}
		if (lp->len == sizeof(lp->line) - 1)
			emit(lp);
		/* A NUL would end the entry early. */
		lp->line[lp->len++] = buf[i] ? buf[i] : ' ';
	}
}

/* The original stderr gets exactly the bytes that came in; it is dropped once it fails. */
static void mirror(struct awg_logpipe *lp, const char *buf, size_t n)
{
	while (lp->mirror && n) {
		ssize_t w = write(lp->orig_stderr, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			lp->mirror = false;	/* EPIPE etc.; SIGPIPE is blocked in this thread */
			break;
		}
		buf += w;
		n -= (size_t)w;
	}
}

static void *reader(void *arg)
{
	struct awg_logpipe *lp = arg;
	struct pollfd p[2] = { { .fd = lp->rfd, .events = POLLIN },
			       { .fd = lp->stop_fd, .events = POLLIN } };
	bool stopping = false;
	char buf[4096];

	for (;;) {
		ssize_t n = read(lp->rfd, buf, sizeof(buf));

		if (n > 0) {
			mirror(lp, buf, (size_t)n);
			consume(lp, buf, (size_t)n);
			continue;
		}
		if (n == 0)
			break;		/* every writer is gone */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || stopping)
			break;		/* after stop: the pipe is drained */
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			stopping = true;
	}
	emit(lp);
	return NULL;
}

/* Tells the reader to drain and exit (an eventfd add of 1 cannot fail short of overflow). */
static void wake(int fd)
{
	if (write(fd, &(uint64_t){ 1 }, sizeof(uint64_t)) != sizeof(uint64_t))
		fprintf(stderr, "awg-tunnel: cannot stop the log reader: %s\n", strerror(errno));
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int awg_logpipe_start(struct awg_logpipe *lp, int log_fd, const char *name)
{
	sigset_t all, old;
	int p[2] = { -1, -1 }, ret;

	*lp = (struct awg_logpipe){ .rfd = -1, .stop_fd = -1, .orig_stderr = -1 };
	ret = awg_ringlog_open_fd(&lp->log, log_fd, true, "TUN");
	if (ret < 0)
		return ret;
	/* Its own mirror would print into fd 2, that is back into this pipe. */
	lp->log.mirror = false;
	awg_ringlog_set_prefix(&lp->log, name);
	if (pipe2(p, O_CLOEXEC) < 0)
		goto err_errno;
	lp->rfd = p[0];
	lp->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (lp->stop_fd < 0 || fcntl(lp->rfd, F_SETFL, O_NONBLOCK) < 0)
		goto err_errno;
	lp->orig_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (lp->orig_stderr < 0 && errno != EBADF)
		goto err_errno;
	lp->mirror = lp->orig_stderr >= 0;
	/* Signals stay with the main thread's signalfd; SIGPIPE from the mirror is ignored. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&lp->thread, NULL, reader, lp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret < 0)
		goto err;
	fflush(stderr);
	/* dup2 leaves fd 2 inheritable: awgd and the scripts write into the pipe too. */
	if (dup2(p[1], STDERR_FILENO) < 0) {
		ret = -errno;
		wake(lp->stop_fd);
		pthread_join(lp->thread, NULL);
		goto err;
	}
	close(p[1]);
	return 0;

err_errno:
	ret = -errno;
err:
	close_fd(&p[1]);
	close_fd(&lp->rfd);
	close_fd(&lp->stop_fd);
	close_fd(&lp->orig_stderr);
	awg_ringlog_close(&lp->log);
	return ret;
}

void awg_logpipe_stop(struct awg_logpipe *lp)
{
	fflush(stderr);
	/* Our write end goes; a child still holding one must not keep the join waiting. */
	if (lp->orig_stderr >= 0)
		dup2(lp->orig_stderr, STDERR_FILENO);
	else
		close(STDERR_FILENO);
	wake(lp->stop_fd);
	pthread_join(lp->thread, NULL);
	close_fd(&lp->rfd);
	close_fd(&lp->stop_fd);
	close_fd(&lp->orig_stderr);
	awg_ringlog_close(&lp->log);
}
