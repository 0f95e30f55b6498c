/* SPDX-License-Identifier: MIT */
/* Whole-buffer writes to files and sockets, and finding the programs installed beside us. */
#ifndef _AWG_FDIO_H
#define _AWG_FDIO_H

#include <stddef.h>

/* Writes all of buf (retrying short writes and EINTR). 0 or -errno. */
int awg_fd_write_all(int fd, const void *buf, size_t len);
/* The same for a stream socket, without SIGPIPE when the peer has gone (-EPIPE instead). */
int awg_fd_send_all(int fd, const void *buf, size_t len);

/*
 * The path of a companion program: $env when set and not empty; else the first of rel[0..n)
 * (paths relative to the running executable's directory, e.g. "awgd" or "../tunnel/awg-tunnel")
 * that is executable; else fallback. The result stays valid until the next call.
 */
const char *awg_exe_sibling(const char *env, const char *const *rel, size_t n,
			    const char *fallback);

#endif /* _AWG_FDIO_H */
