// SPDX-License-Identifier: MIT
/* Owns the TUN file descriptor and the interface's name and MTU. */
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>

/* Linux >= 6.2 values; Debian 12's headers predate them. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int ifreq_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (s < 0)
		return -errno;
	if (ioctl(s, req, ifr) < 0)
		ret = -errno;
	close(s);
	return ret;
}

int awg_tun_refresh_mtu(struct awg_tun *tun)
{
	struct ifreq ifr = { 0 };
	int ret;

	memcpy(ifr.ifr_name, tun->name, IFNAMSIZ);
	ret = ifreq_ioctl(SIOCGIFMTU, &ifr);
	if (ret == 0)
		tun->mtu = (unsigned)ifr.ifr_mtu;
	return ret;
}

static int set_mtu(const char *name, unsigned mtu)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_mtu = (int)mtu;
	return ifreq_ioctl(SIOCSIFMTU, &ifr);
}

/*
 * Asks for checksum and TCP segmentation offload, plus UDP segmentation where the kernel knows
 * it (Linux >= 6.2). Without any of it the vnet header is pointless: returns false.
 */
static bool enable_offload(struct awg_tun *tun, int fd)
{
	unsigned base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

	if (ioctl(fd, TUNSETOFFLOAD, base | TUN_F_USO4 | TUN_F_USO6) == 0) {
		tun->uso = true;
		return true;
	}
	return ioctl(fd, TUNSETOFFLOAD, base) == 0;
}

static int create(const char *name, bool vnet_hdr, struct ifreq *ifr)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	memset(ifr, 0, sizeof(*ifr));
	ifr->ifr_flags = IFF_TUN | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, ifr) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

int awg_tun_open(struct awg_tun *tun, const char *name, int inherited_fd, unsigned mtu,
		 bool offload)
{
	struct ifreq ifr = { 0 };
	int fd = inherited_fd, ret;

	memset(tun, 0, sizeof(*tun));
	tun->fd = -1;
	if (fd < 0) {
		fd = create(name, offload, &ifr);
		if (fd < 0)
			return fd;
		tun->vnet_hdr = offload;
		if (offload && !enable_offload(tun, fd)) {
			/* The interface goes with the fd; recreate it without headers. */
			close(fd);
			tun->vnet_hdr = false;
			fd = create(name, false, &ifr);
			if (fd < 0)
				return fd;
		}
	} else if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
		ret = -errno;
		goto err_close;
	} else {
		tun->vnet_hdr = ifr.ifr_flags & IFF_VNET_HDR;
	}
	memcpy(tun->name, ifr.ifr_name, IFNAMSIZ);
	tun->name[IFNAMSIZ - 1] = 0;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		ret = -errno;
		goto err_close;
	}
	tun->fd = fd;
	if (inherited_fd < 0 && mtu && (ret = set_mtu(tun->name, mtu)) < 0)
		goto err_close;
	awg_tun_refresh_mtu(tun);
	return 0;

err_close:
	close(fd);
	tun->fd = -1;
	return ret;
}

void awg_tun_close(struct awg_tun *tun)
{
	if (tun->fd >= 0)
		close(tun->fd);
	tun->fd = -1;
}
