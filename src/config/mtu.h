/* SPDX-License-Identifier: MIT */
/*
 * The tunnel MTU a configuration allows on a given underlay path: AmneziaWG's framing adds the
 * transport prefix S4 to WireGuard's 32 bytes, and a tunnel MTU chosen without it (amneziawg-go
 * with S4 = 23 at MTU 1420 sends 1503-byte datagrams) loses every full-size packet.
 *
 * A full-size transport datagram is IP + UDP + S4 + 16 (header) + MTU + 16 (tag). Content
 * padding and random trailers add nothing at full size: padding is capped at MTU - length and a
 * transport trailer stays below the largest datagram already sent (spec §4.3.4, obfs.c).
 */
#ifndef _AWG_CONFIG_MTU_H
#define _AWG_CONFIG_MTU_H

#include <stdbool.h>

#include "params.h"

/* IPv6 needs links of at least 1280 bytes (RFC 8200); IPv4 hosts must take 576 (RFC 791). */
#define AWG_MTU_MIN_IPV6 1280
#define AWG_MTU_MIN_IPV4 576

/* Bytes a full-size packet gains on the way out (IPv6 underlay when ipv6_underlay). */
unsigned awg_mtu_overhead(const struct awg_obfs_params *p, bool ipv6_underlay);

/*
 * The largest tunnel MTU whose full-size packets fit path_mtu. ipv6_inner: the tunnel carries
 * IPv6, so the result may not go below 1280. Returns 0 and *mtu, or -ERANGE when the path is too
 * small for the minimum (*mtu is then the minimum, which will not fit: the caller warns).
 */
int awg_mtu_for_path(unsigned path_mtu, const struct awg_obfs_params *p, bool ipv6_underlay,
		     bool ipv6_inner, unsigned *mtu);

/* Bytes by which a full-size packet at mtu exceeds path_mtu (0: it fits). */
unsigned awg_mtu_excess(unsigned mtu, unsigned path_mtu, const struct awg_obfs_params *p,
			bool ipv6_underlay);

#endif /* _AWG_CONFIG_MTU_H */
