// SPDX-License-Identifier: MIT
/*
 * Tunnel MTU arithmetic: S4 and the underlay family count, padding and trailers do not, the
 * IPv6 minimum holds, and the trap (S4 = 23 at MTU 1420 on a 1500 path) is caught.
 */
#include <errno.h>

#include "harness.h"
#include "mtu.h"

static void params(struct awg_obfs_params *p, unsigned s4)
{
	awg_obfs_params_init(p);
	p->s[AWG_KIND_TRANSPORT] = (uint16_t)s4;
}

static void overhead_and_path(void)
{
	struct awg_obfs_params p;
	unsigned mtu = 0;

	params(&p, 0);
	/* Plain WireGuard: wg-quick's 80 is the IPv6 case. */
	CHECK_INT(awg_mtu_overhead(&p, true), 80);
	CHECK_INT(awg_mtu_overhead(&p, false), 60);
	CHECK_INT(awg_mtu_for_path(1500, &p, true, false, &mtu), 0);
	CHECK_INT(mtu, 1420);
	CHECK_INT(awg_mtu_for_path(1500, &p, false, false, &mtu), 0);
	CHECK_INT(mtu, 1440);

	params(&p, 23);
	CHECK_INT(awg_mtu_for_path(1500, &p, false, true, &mtu), 0);
	CHECK_INT(mtu, 1417);
	CHECK_INT(awg_mtu_for_path(1500, &p, true, true, &mtu), 0);
	CHECK_INT(mtu, 1397);
	/* Padding and trailers are capped at full size: they do not lower the MTU. */
	p.content_padding = (struct awg_range){ 0, 64 };
	p.random_trailers = true;
	CHECK_INT(awg_mtu_for_path(1500, &p, true, true, &mtu), 0);
	CHECK_INT(mtu, 1397);
	/* What a full-size packet sends must then fit the path exactly. */
	CHECK_INT(awg_mtu_excess(mtu, 1500, &p, true), 0);
	CHECK_INT(awg_mtu_excess(mtu + 1, 1500, &p, true), 1);
}

static void the_amneziawg_go_trap(void)
{
	struct awg_obfs_params p;

	params(&p, 23);
	/* MTU 1420 with S4 = 23 over IPv4: 20 + 8 + 23 + 32 + 1420 = 1503 bytes. */
	CHECK_INT(awg_mtu_excess(1420, 1500, &p, false), 3);
	CHECK_INT(awg_mtu_excess(1420, 1500, &p, true), 23);
}

static void minimums(void)
{
	struct awg_obfs_params p;
	unsigned mtu = 0;

	params(&p, 64);
	/* A 1400 path over IPv6 leaves 1256 < 1280 for an IPv6 tunnel: refused, minimum given. */
	CHECK_INT(awg_mtu_for_path(1400, &p, true, true, &mtu), -ERANGE);
	CHECK_INT(mtu, AWG_MTU_MIN_IPV6);
	/* An IPv4-only tunnel may go lower. */
	CHECK_INT(awg_mtu_for_path(1400, &p, true, false, &mtu), 0);
	CHECK_INT(mtu, 1256);
	CHECK_INT(awg_mtu_for_path(100, &p, false, false, &mtu), -ERANGE);
	CHECK_INT(mtu, AWG_MTU_MIN_IPV4);
	CHECK_INT(awg_mtu_for_path(0, &p, false, false, &mtu), -ERANGE);
}

TEST_MAIN("mtu", T(overhead_and_path), T(the_amneziawg_go_trap), T(minimums))
