/* SPDX-License-Identifier: MIT */
/*
 * awg-tunnel's stderr into the shared ring log: fd 2 becomes a pipe, inherited by awgd and the
 * scripts, and a reader thread writes each line to the ring log and mirrors the bytes to the
 * original stderr.
 */
#ifndef _AWG_TUNNEL_LOGPIPE_H
#define _AWG_TUNNEL_LOGPIPE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "ringlog.h"

/*
 * Between start and stop every field belongs to the reader thread except stop_fd (written by
 * stop) and orig_stderr (read by stop after it restored fd 2, before the join).
 */
struct awg_logpipe {
	struct awg_ringlog log;		/* the mapped ring log, tag "TUN", prefix "[name] " */
	pthread_t thread;
	int rfd;			/* the pipe's read end, non-blocking */
	int stop_fd;			/* eventfd: stop -> reader: drain what is there and exit */
	int orig_stderr;		/* fd 2 as it was before start (-1 if closed) */
	bool mirror;			/* orig_stderr still takes writes */
	size_t len;			/* bytes of an unfinished line in line[] */
	char line[AWG_RINGLOG_TEXT];
};

/*
 * Maps the ring log open on log_fd (writable; the caller may close log_fd afterwards), sets
 * its prefix to "[name] " (the ring log cuts a long name), and redirects fd 2 into a
 * pipe read by a new thread that has every signal blocked, so signal handling (signalfd in the
 * main thread) is unchanged. 0 or -errno; on failure fd 2 is unchanged.
 */
int awg_logpipe_start(struct awg_logpipe *lp, int log_fd, const char *name);

/*
 * Puts the original fd 2 back, lets the reader drain what is already in the pipe (the last
 * lines of awg-tunnel and of a reaped awgd) and joins it; a child that still holds the pipe
 * cannot block this. Unmaps the ring log.
 */
void awg_logpipe_stop(struct awg_logpipe *lp);

#endif /* _AWG_TUNNEL_LOGPIPE_H */
