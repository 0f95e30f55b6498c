/* SPDX-License-Identifier: MIT */
/*
 * Cryptokey routing (spec §8, WireGuard "allowed IPs"): a longest-prefix-match table from IPv4
 * and IPv6 prefixes to an opaque peer pointer.
 */
#ifndef _AWG_ALLOWEDIPS_H
#define _AWG_ALLOWEDIPS_H

#include <stdint.h>

#include "params.h"	/* AWG_AF_INET, AWG_AF_INET6 */

struct awg_allowedips_node;

/*
 * One path-compressed binary trie per family. Not thread-safe: the owner serialises writers
 * against readers. A peer pointer is only compared and returned, never dereferenced.
 */
struct awg_allowedips {
	struct awg_allowedips_node *root4;
	struct awg_allowedips_node *root6;
};

void awg_allowedips_init(struct awg_allowedips *t);
/* Frees every node; the table is empty (and reusable) afterwards. */
void awg_allowedips_free(struct awg_allowedips *t);

/*
 * Routes addr/cidr to peer. addr is 4 (IPv4) or 16 (IPv6) bytes in network order; bits beyond
 * cidr are ignored. Inserting a prefix that exists moves it to peer. Returns 0, -EINVAL (bad
 * family, cidr or NULL peer) or -ENOMEM (the table is unchanged).
 */
int awg_allowedips_insert(struct awg_allowedips *t, int family, const uint8_t *addr,
			  uint8_t cidr, void *peer);
/*
 * Removes addr/cidr (host bits ignored) if it is routed to peer. Returns 0, -ENOENT if the
 * prefix is absent or owned by another peer, or -EINVAL.
 */
int awg_allowedips_remove(struct awg_allowedips *t, int family, const uint8_t *addr,
			  uint8_t cidr, void *peer);
/* Removes every prefix routed to peer. O(table size). */
void awg_allowedips_remove_by_peer(struct awg_allowedips *t, void *peer);

/* The peer owning the longest prefix that contains addr, or NULL. */
void *awg_allowedips_lookup(const struct awg_allowedips *t, int family, const uint8_t *addr);

/*
 * Calls fn for each prefix routed to peer: IPv4 before IPv6, then ascending by address, a
 * shorter prefix before a longer one at the same address. addr is masked to cidr. fn must not
 * modify the table; a nonzero return stops the walk and is returned. O(table size).
 */
typedef int (*awg_allowedips_walk_fn)(void *ctx, int family, const uint8_t *addr, uint8_t cidr);
int awg_allowedips_walk_by_peer(const struct awg_allowedips *t, const void *peer,
				awg_allowedips_walk_fn fn, void *ctx);

#endif /* _AWG_ALLOWEDIPS_H */
