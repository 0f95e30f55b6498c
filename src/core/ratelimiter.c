// SPDX-License-Identifier: MIT
/* Owns the per-source token buckets that limit handshake floods (spec §8.1). */
#include "ratelimiter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	NSEC_PER_SEC = 1000000000,
	/* Tokens are nanoseconds of credit: one packet costs 1/20 s, the bucket holds 5. */
	PACKET_COST = NSEC_PER_SEC / AWG_RATELIMITER_PACKETS_PER_SECOND,
	TOKEN_MAX = PACKET_COST * AWG_RATELIMITER_PACKETS_BURSTABLE,
	MAX_ENTRIES_LIMIT = 1 << 24,
};

struct awg_ratelimiter_entry {
	uint64_t prefix;	/* IPv4 address or IPv6 /64, big-endian bytes packed */
	uint64_t last_ns;
	uint64_t tokens;
	uint32_t next;		/* entry index + 1 of the next in chain or free list */
	uint8_t family;
};

static uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static void sip_round(uint64_t v[4])
{
	v[0] += v[1], v[1] = rotl(v[1], 13), v[1] ^= v[0], v[0] = rotl(v[0], 32);
	v[2] += v[3], v[3] = rotl(v[3], 16), v[3] ^= v[2];
	v[0] += v[3], v[3] = rotl(v[3], 21), v[3] ^= v[0];
	v[2] += v[1], v[1] = rotl(v[1], 17), v[1] ^= v[2], v[2] = rotl(v[2], 32);
}

static void sip_absorb(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

/* SipHash-2-4 of the 16-byte message m0 || m1 (each little-endian). */
static uint64_t siphash_2u64(const uint64_t key[2], uint64_t m0, uint64_t m1)
{
	uint64_t v[4] = {
		key[0] ^ UINT64_C(0x736f6d6570736575), key[1] ^ UINT64_C(0x646f72616e646f6d),
		key[0] ^ UINT64_C(0x6c7967656e657261), key[1] ^ UINT64_C(0x7465646279746573),
	};

	sip_absorb(v, m0);
	sip_absorb(v, m1);
	sip_absorb(v, UINT64_C(16) << 56);
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static bool source_key(int family, const uint8_t *addr, uint64_t *prefix)
{
	unsigned len;

	if (family == AWG_AF_INET)
		len = 4;
	else if (family == AWG_AF_INET6)
		len = 8;	/* one /64 is one subscriber: aggregate like the kernel */
	else
		return false;
	*prefix = 0;
	for (unsigned i = 0; i < len; i++)
		*prefix = *prefix << 8 | addr[i];
	return true;
}

static uint32_t *bucket_of(struct awg_ratelimiter *rl, int family, uint64_t prefix)
{
	return &rl->buckets[siphash_2u64(rl->hash_key, (uint64_t)family, prefix) & rl->bucket_mask];
}

int awg_ratelimiter_init(struct awg_ratelimiter *rl, uint32_t max_entries,
			 const struct awg_env *env)
{
	uint32_t nbuckets = 1;

	memset(rl, 0, sizeof(*rl));
	if (!max_entries || max_entries > MAX_ENTRIES_LIMIT)
		return -EINVAL;
	while (nbuckets < max_entries)
		nbuckets <<= 1;
	rl->entries = calloc(max_entries, sizeof(*rl->entries));
	rl->buckets = calloc(nbuckets, sizeof(*rl->buckets));
	if (!rl->entries || !rl->buckets)
		goto err_free;
	rl->bucket_mask = nbuckets - 1;
	rl->max_entries = max_entries;
	for (uint32_t i = 0; i < max_entries; i++)
		rl->entries[i].next = i + 2 <= max_entries ? i + 2 : 0;
	rl->free_head = 1;
	awg_env_random(env, rl->hash_key, sizeof(rl->hash_key));
	return 0;

err_free:
	awg_ratelimiter_free(rl);
	return -ENOMEM;
}

void awg_ratelimiter_free(struct awg_ratelimiter *rl)
{
	free(rl->entries);
	free(rl->buckets);
	memset(rl, 0, sizeof(*rl));
}

static bool idle(const struct awg_ratelimiter_entry *e, uint64_t now_ns)
{
	return now_ns > e->last_ns && now_ns - e->last_ns > AWG_RATELIMITER_IDLE_NS;
}

/* Unlinks every idle entry onto the free list. O(max_entries), at most once a second. */
static void gc(struct awg_ratelimiter *rl, uint64_t now_ns)
{
	for (uint32_t b = 0; b <= rl->bucket_mask; b++) {
		uint32_t *link = &rl->buckets[b];

		while (*link) {
			struct awg_ratelimiter_entry *e = &rl->entries[*link - 1];
			uint32_t idx = *link;

			if (!idle(e, now_ns)) {
				link = &e->next;
				continue;
			}
			*link = e->next;
			e->next = rl->free_head;
			rl->free_head = idx;
			rl->count--;
		}
	}
	rl->last_gc_ns = now_ns;
}

static struct awg_ratelimiter_entry *find(struct awg_ratelimiter *rl, uint32_t head, int family,
					  uint64_t prefix)
{
	while (head) {
		struct awg_ratelimiter_entry *e = &rl->entries[head - 1];

		if (e->prefix == prefix && e->family == family)
			return e;
		head = e->next;
	}
	return NULL;
}

/* A new source starts with a full bucket and pays for this packet at once. */
static bool add(struct awg_ratelimiter *rl, uint32_t *bucket, int family, uint64_t prefix,
		uint64_t now_ns)
{
	struct awg_ratelimiter_entry *e;
	uint32_t idx = rl->free_head;

	if (!idx)
		return false;	/* full: refuse unknown sources rather than evict known ones */
	e = &rl->entries[idx - 1];
	rl->free_head = e->next;
	*e = (struct awg_ratelimiter_entry){
		.prefix = prefix, .last_ns = now_ns, .tokens = TOKEN_MAX - PACKET_COST,
		.next = *bucket, .family = (uint8_t)family,
	};
	*bucket = idx;
	rl->count++;
	return true;
}

static bool charge(struct awg_ratelimiter_entry *e, uint64_t now_ns)
{
	uint64_t elapsed = now_ns > e->last_ns ? now_ns - e->last_ns : 0;

	e->tokens = elapsed >= TOKEN_MAX - e->tokens ? TOKEN_MAX : e->tokens + elapsed;
	if (now_ns > e->last_ns)
		e->last_ns = now_ns;
	if (e->tokens < PACKET_COST)
		return false;
	e->tokens -= PACKET_COST;
	return true;
}

bool awg_ratelimiter_allow(struct awg_ratelimiter *rl, int family, const uint8_t *addr,
			   uint64_t now_ns)
{
	struct awg_ratelimiter_entry *e;
	uint32_t *bucket;
	uint64_t prefix;

	if (!source_key(family, addr, &prefix))
		return false;
	if (now_ns < rl->last_gc_ns || now_ns - rl->last_gc_ns >= NSEC_PER_SEC)
		gc(rl, now_ns);
	bucket = bucket_of(rl, family, prefix);
	e = find(rl, *bucket, family, prefix);
	if (!e)
		return add(rl, bucket, family, prefix, now_ns);
	return charge(e, now_ns);
}
