/* SPDX-License-Identifier: MIT */
/*
 * One running awgd interface: the configuration model (struct awg_conf, what UAPI reads and
 * writes), the protocol device built from it, the TUN, the UDP sockets, the UAPI endpoint, and
 * the epoll loop that moves packets between them. Single-threaded: the loop owns everything.
 */
#ifndef _AWG_ENGINE_H
#define _AWG_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "device.h"
#include "ipc.h"
#include "tun.h"
#include "udp.h"

struct awg_engine_options {
	const char *ifname;
	int tun_fd;			/* WG_TUN_FD, or -1 */
	int uapi_fd;			/* WG_UAPI_FD, or -1 */
	int udp_fd4, udp_fd6;		/* AWG_UDP_FD4/6: bound sockets from the parent, or -1 */
	const char *socket_dir;		/* default /var/run/amneziawg */
	bool wg_socket;			/* also listen in /var/run/wireguard */
	unsigned mtu;			/* default 1420 */
	bool no_offload;		/* plain TUN packets, no TSO/USO/GRO */
	int crypto_threads;		/* crypto workers besides the packet threads; -1: auto */
	int poll_us;			/* busy-poll window of a busy packet thread; -1: default */
	bool sandbox;			/* seccomp allow-list once every thread runs */
};

struct awg_engine;

/* Sets up TUN, sockets, UAPI. Returns 0 and an owned *out, or -errno (logged). */
int awg_engine_new(const struct awg_engine_options *opt, struct awg_engine **out);
/* Runs the loop until SIGTERM/SIGINT or the UAPI socket file is removed. 0 or -errno. */
int awg_engine_run(struct awg_engine *e);
void awg_engine_free(struct awg_engine *e);
/* The interface name the kernel gave the TUN. */
const char *awg_engine_ifname(const struct awg_engine *e);

#endif /* _AWG_ENGINE_H */
