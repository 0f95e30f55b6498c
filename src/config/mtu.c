// SPDX-License-Identifier: MIT
/* Owns the tunnel-MTU arithmetic of mtu.h. */
#include "mtu.h"

#include <errno.h>

#include "messages.h"

enum { IPV4_HDR = 20, IPV6_HDR = 40, UDP_HDR = 8 };

unsigned awg_mtu_overhead(const struct awg_obfs_params *p, bool ipv6_underlay)
{
	return (ipv6_underlay ? IPV6_HDR : IPV4_HDR) + UDP_HDR + AWG_MSG_DATA_MIN_LEN +
	       p->s[AWG_KIND_TRANSPORT];
}

int awg_mtu_for_path(unsigned path_mtu, const struct awg_obfs_params *p, bool ipv6_underlay,
		     bool ipv6_inner, unsigned *mtu)
{
	unsigned over = awg_mtu_overhead(p, ipv6_underlay);
	unsigned min = ipv6_inner ? AWG_MTU_MIN_IPV6 : AWG_MTU_MIN_IPV4;

	if (path_mtu < over || path_mtu - over < min) {
		*mtu = min;
		return -ERANGE;
	}
	*mtu = path_mtu - over;
	return 0;
}

unsigned awg_mtu_excess(unsigned mtu, unsigned path_mtu, const struct awg_obfs_params *p,
			bool ipv6_underlay)
{
	unsigned need = mtu + awg_mtu_overhead(p, ipv6_underlay);

	return need > path_mtu ? need - path_mtu : 0;
}
