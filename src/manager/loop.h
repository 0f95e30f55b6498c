/* SPDX-License-Identifier: MIT */
/*
 * The manager's single-threaded event loop: every descriptor in the epoll set carries a
 * pointer to a struct awg_watch embedded in the object that owns it. Nothing in the manager
 * blocks for long except a bounded UAPI read (2 s in all), so one thread serves everything and no
 * state needs a lock.
 */
#ifndef _AWG_MANAGER_LOOP_H
#define _AWG_MANAGER_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct awg_watch {
	void (*fn)(struct awg_watch *w, uint32_t events);
};

#define awg_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* epoll_ctl wrappers; 0 or -errno. */
int awg_loop_add(int epfd, int fd, uint32_t events, struct awg_watch *w);
int awg_loop_mod(int epfd, int fd, uint32_t events, struct awg_watch *w);
void awg_loop_del(int epfd, int fd);

#endif /* _AWG_MANAGER_LOOP_H */
