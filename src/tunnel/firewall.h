/* SPDX-License-Identifier: MIT */
/*
 * The kill switch: one nftables table (family inet) that drops everything not going through
 * the tunnel, with the exceptions of windows-reference.md §4.4 mapped as in §10.5 — loopback,
 * the tunnel's own encrypted UDP (its sockets' fwmark), DNS only to the tunnel's servers,
 * DHCP, IPv6 neighbour discovery with hop limit 255, and optionally the directly connected
 * subnets (AllowLAN).
 *
 * Mode on: table awg_ks_<if> with flags owner — bound to this process's netlink socket, it
 * goes when the process exits or dies, and another program's `nft flush ruleset` skips it.
 * Mode persistent: table awg_ksp_<if> without owner — it outlives a crash and keeps traffic
 * blocked until an explicit down, or until the next successful up replaces it in one
 * transaction. Nothing but these two tables is ever touched.
 */
#ifndef _AWG_TUNNEL_FIREWALL_H
#define _AWG_TUNNEL_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct awg_firewall;

struct awg_firewall_spec {
	const char *ifname;
	enum awg_kill_switch mode;		/* ON or PERSISTENT */
	uint32_t mark;				/* the tunnel sockets' fwmark, not 0 */
	const struct awg_ipaddr *dns;		/* DNS = servers: port 53 goes only there */
	size_t n_dns;
	bool allow_lan;				/* these and IPv6 link-local pass: */
	const struct awg_cidr *lan;		/* the directly connected prefixes */
	size_t n_lan;
};

/*
 * Installs the table, atomically replacing a persistent table of ifname left by a crash.
 * Returns 0 or -errno with why (nft's own message).
 */
int awg_firewall_engage(struct awg_firewall **out, const struct awg_firewall_spec *spec,
			char *why, size_t whylen);

/* Removes the table (the explicit down) and frees fw. NULL is fine. */
void awg_firewall_release(struct awg_firewall *fw);

/*
 * Frees fw leaving the table in place: a persistent table keeps blocking after an error exit;
 * an owner table goes anyway when this process exits.
 */
void awg_firewall_abandon(struct awg_firewall *fw);

/* Deletes a persistent table of ifname if there is one (down after a crash). True if it was. */
bool awg_firewall_remove_stale(const char *ifname);

/* The table name for ifname and mode ("awg_ks_" / "awg_ksp_" + ifname, escaped). */
void awg_firewall_table_name(char *buf, size_t cap, const char *ifname, bool persistent);

#endif /* _AWG_TUNNEL_FIREWALL_H */
