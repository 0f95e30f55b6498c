/* SPDX-License-Identifier: MIT */
/* The TUN device of one interface: creation (or an inherited fd), MTU, packet read/write. */
#ifndef _AWG_ENGINE_TUN_H
#define _AWG_ENGINE_TUN_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct awg_tun {
	int fd;
	char name[IFNAMSIZ];
	unsigned mtu;
	/*
	 * Reads and writes carry a struct virtio_net_hdr first, and the kernel may hand us TCP
	 * (and, with uso, UDP) super-packets of up to 64 KiB to segment ourselves.
	 */
	bool vnet_hdr;
	bool uso;
};

/*
 * Creates (or attaches to) the TUN interface `name` with IFF_NO_PI, non-blocking, and sets its
 * MTU. With offload, also IFF_VNET_HDR and TSO (and USO where the kernel has it), falling back
 * to plain packets when the kernel refuses. inherited_fd >= 0 (WG_TUN_FD) is used as is
 * instead of opening /dev/net/tun; its name and vnet-header flag are read back.
 * Returns 0 or -errno.
 */
int awg_tun_open(struct awg_tun *tun, const char *name, int inherited_fd, unsigned mtu,
		 bool offload);
void awg_tun_close(struct awg_tun *tun);
/* Reads the interface MTU (it may be changed from outside with `ip link set mtu`). */
int awg_tun_refresh_mtu(struct awg_tun *tun);

#endif /* _AWG_ENGINE_TUN_H */
