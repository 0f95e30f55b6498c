/* SPDX-License-Identifier: MIT */
/*
 * netcfg: the tunnel's network configuration over rtnetlink (libmnl), the way wg-quick does it
 * with ip(8): link MTU/state, addresses, routes, policy rules and route-MTU lookups.
 *
 * Conventions:
 * - Every function returns 0 (or a count where stated) or -errno. Kernel errors come back
 *   unchanged: adding an address to a missing link gives -ENODEV, a duplicate -EEXIST,
 *   deleting something absent -EADDRNOTAVAIL / -ESRCH / -ENOENT as the kernel says.
 * - Changing requests are sent with NLM_F_ACK and wait for the kernel's answer.
 * - An address is (family, addr, prefix): family is AF_INET or AF_INET6 (the same values as
 *   AWG_FAMILY_INET/AWG_FAMILY_INET6 of src/config/parse.h), addr points at 4 or 16 bytes in
 *   network order, so a struct awg_cidr passes as (c->family, c->addr, c->cidr).
 * - Table 0 means the main table (RT_TABLE_MAIN, 254) everywhere.
 * - The socket lives in the network namespace of the thread that opened it.
 * - Not thread-safe: one struct awg_netcfg per thread.
 */
#ifndef _AWG_TUNNEL_NETCFG_H
#define _AWG_TUNNEL_NETCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct awg_netcfg;

/* An address of a link, as listed by awg_netcfg_addr_list. */
struct awg_netcfg_addr {
	int ifindex;
	int family;
	uint8_t addr[16];
	uint8_t prefix;
};

/* A unicast route through a link without a gateway (AllowedIPs and full-tunnel routes). */
struct awg_netcfg_route {
	int family;
	uint8_t dst[16];
	uint8_t prefix;
	int oif;	  /* output interface index; 0 only for deletion (any) */
	uint32_t table;	  /* 0 = main */
	uint32_t metric;  /* 0 = none (kernel default; IPv6 uses 1024) */
	uint8_t protocol; /* 0 = RTPROT_BOOT when adding, any when deleting */
};

/*
 * A policy rule "[not] fwmark M table T" or "table T suppress_prefixlength N". wg-quick's
 * full-tunnel pair is { .fwmark = M, .invert = true, .table = M } and
 * { .table = 0 (main), .suppress_prefixlen = 0 }, both with an explicit priority.
 */
struct awg_netcfg_rule {
	int family;
	uint32_t priority;	/* 0 = let the kernel choose (only when adding) */
	uint32_t table;		/* 0 = main */
	uint32_t fwmark;	/* 0 = no fwmark match */
	bool invert;		/* FIB_RULE_INVERT: "not fwmark M" */
	int suppress_prefixlen; /* -1 = none */
};

int awg_netcfg_open(struct awg_netcfg **out);
void awg_netcfg_close(struct awg_netcfg *nc);

/* Link index by name (RTM_GETLINK): > 0, or -ENODEV. */
int awg_netcfg_link_index(struct awg_netcfg *nc, const char *name);
int awg_netcfg_link_get_mtu(struct awg_netcfg *nc, int ifindex, uint32_t *mtu);
int awg_netcfg_link_set_mtu(struct awg_netcfg *nc, int ifindex, uint32_t mtu);
int awg_netcfg_link_set_up(struct awg_netcfg *nc, int ifindex, bool up);
int awg_netcfg_link_del(struct awg_netcfg *nc, const char *name);

/* Like `ip addr add ADDR/PREFIX dev IF`; IPv6 addresses get IFA_F_NODAD (usable at once). */
int awg_netcfg_addr_add(struct awg_netcfg *nc, int ifindex, int family, const void *addr,
			uint8_t prefix);
int awg_netcfg_addr_del(struct awg_netcfg *nc, int ifindex, int family, const void *addr,
			uint8_t prefix);
/*
 * Lists the addresses of a link (ifindex 0 = of every link; family 0 = both). Fills up to max entries and returns the
 * total count, which may exceed max.
 */
int awg_netcfg_addr_list(struct awg_netcfg *nc, int ifindex, int family,
			 struct awg_netcfg_addr *out, size_t max);
/* Deletes every address of a link (family 0 = both); returns how many were deleted. */
int awg_netcfg_addr_flush(struct awg_netcfg *nc, int ifindex, int family);

/* Adds a route; with replace, an existing route for the same prefix/table is replaced. */
int awg_netcfg_route_add(struct awg_netcfg *nc, const struct awg_netcfg_route *r, bool replace);
int awg_netcfg_route_del(struct awg_netcfg *nc, const struct awg_netcfg_route *r);

/*
 * The route the kernel would use to reach dst (`ip route get`), with fwmark (0 = none): its
 * MTU (RTAX_MTU of the route, else the MTU of its output link) and output interface index
 * (oif may be NULL). -ENETUNREACH if there is none.
 */
int awg_netcfg_route_mtu(struct awg_netcfg *nc, int family, const void *dst, uint32_t fwmark,
			 uint32_t *mtu, int *oif);

int awg_netcfg_rule_add(struct awg_netcfg *nc, const struct awg_netcfg_rule *r);
int awg_netcfg_rule_del(struct awg_netcfg *nc, const struct awg_netcfg_rule *r);
/*
 * Crash cleanup: deletes every rule of family that looks up table (if non-zero, and not main)
 * or matches fwmark (if non-zero), and with suppress_main every "table main
 * suppress_prefixlength N" rule, as wg-quick does on down. Returns how many were deleted.
 */
int awg_netcfg_rule_flush(struct awg_netcfg *nc, int family, uint32_t table, uint32_t fwmark,
			  bool suppress_main);

#endif
