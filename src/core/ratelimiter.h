/* SPDX-License-Identifier: MIT */
/*
 * The handshake flood limiter (spec §8.1): a token bucket per source, 20 packets/s with a burst
 * of 5, keyed by the IPv4 address or the IPv6 /64 as the Linux module does.
 */
#ifndef _AWG_RATELIMITER_H
#define _AWG_RATELIMITER_H

#include <stdbool.h>
#include <stdint.h>

#include "env.h"
#include "params.h"	/* AWG_AF_INET, AWG_AF_INET6 */

enum awg_ratelimiter_limits {
	AWG_RATELIMITER_PACKETS_PER_SECOND = 20,
	AWG_RATELIMITER_PACKETS_BURSTABLE = 5,
	AWG_RATELIMITER_IDLE_NS = 1000000000,	/* entries idle longer than this are dropped */
};

struct awg_ratelimiter_entry;

/*
 * A chained hash table over a fixed array of max_entries buckets-worth of entries, allocated
 * once at init: the table never grows, so a flood of sources cannot exhaust memory. Chains are
 * keyed by SipHash with a secret drawn at init, so sources cannot be chosen to collide.
 * Not thread-safe: the caller serialises calls.
 */
struct awg_ratelimiter {
	struct awg_ratelimiter_entry *entries;	/* max_entries slots */
	uint32_t *buckets;			/* entry index + 1 of each chain head, or 0 */
	uint32_t bucket_mask;
	uint32_t max_entries;
	uint32_t count;				/* entries in use */
	uint32_t free_head;			/* entry index + 1 of the free list; 0 = full */
	uint64_t last_gc_ns;
	uint64_t hash_key[2];
};

/* Returns 0, -EINVAL (max_entries 0 or above 2^24) or -ENOMEM. env supplies the hash secret. */
int awg_ratelimiter_init(struct awg_ratelimiter *rl, uint32_t max_entries,
			 const struct awg_env *env);
void awg_ratelimiter_free(struct awg_ratelimiter *rl);

/*
 * Charges one packet from addr (4 bytes for AWG_AF_INET, 16 for AWG_AF_INET6; only the first 8
 * count) at now_ns. Returns true if it is within the rate. At most once per second, a call
 * first drops entries idle for more than AWG_RATELIMITER_IDLE_NS (their buckets are full again,
 * so dropping them changes no answer). When every entry is in use, packets from sources not in
 * the table are refused until idle entries expire; known sources keep their buckets. Unknown
 * families are refused.
 */
bool awg_ratelimiter_allow(struct awg_ratelimiter *rl, int family, const uint8_t *addr,
			   uint64_t now_ns);

#endif /* _AWG_RATELIMITER_H */
