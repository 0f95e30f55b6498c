// SPDX-License-Identifier: MIT
/* Owns the cryptokey routing tries: insert, remove, longest-prefix lookup and per-peer walks. */
#include "allowedips.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * A path-compressed binary trie. Every node stands for the prefix key/cidr (key masked to cidr).
 * A child continues its parent's prefix and is chosen by the key bit at position parent->cidr,
 * so child->cidr > parent->cidr. A node with peer == NULL is a branch point created to split
 * two diverging prefixes; the invariant is that such a node always has two children (a node
 * left with fewer is spliced out), so the trie never holds more than 2n - 1 nodes.
 */
struct awg_allowedips_node {
	struct awg_allowedips_node *child[2];
	struct awg_allowedips_node *parent;
	void *peer;
	uint8_t cidr;
	uint8_t key[16];
};

static unsigned family_bits(int family)
{
	if (family == AWG_AF_INET)
		return 32;
	if (family == AWG_AF_INET6)
		return 128;
	return 0;
}

static struct awg_allowedips_node **root_of(struct awg_allowedips *t, int family)
{
	return family == AWG_AF_INET ? &t->root4 : &t->root6;
}

/* Bit i of key, counting from the most significant bit of byte 0. */
static unsigned bit_at(const uint8_t *key, unsigned i)
{
	return (key[i / 8] >> (7 - i % 8)) & 1;
}

/* out = the first `bits` bits of addr with every bit from position cidr on cleared. */
static void mask_key(uint8_t out[16], const uint8_t *addr, unsigned cidr, unsigned bits)
{
	uint8_t tmp[16] = { 0 };
	unsigned i;

	memcpy(tmp, addr, bits / 8);	/* addr may alias out */
	for (i = 0; i < 16; i++) {
		if (i * 8 >= cidr)
			tmp[i] = 0;
		else if (i * 8 + 8 > cidr)
			tmp[i] &= (uint8_t)(0xff00 >> (cidr - i * 8));
	}
	memcpy(out, tmp, 16);
}

/* Number of leading bits a and b share, at most limit. */
static unsigned common_bits(const uint8_t *a, const uint8_t *b, unsigned limit)
{
	unsigned i;

	for (i = 0; i < limit / 8; i++)
		if (a[i] != b[i])
			return i * 8 + (unsigned)__builtin_clz((unsigned)(a[i] ^ b[i])) - 24;
	i *= 8;
	while (i < limit && bit_at(a, i) == bit_at(b, i))
		i++;
	return i;
}

static bool node_covers(const struct awg_allowedips_node *n, const uint8_t *key)
{
	return common_bits(n->key, key, n->cidr) == n->cidr;
}

/* The slot in n's parent (or the root) that points at n. */
static struct awg_allowedips_node **slot_of(struct awg_allowedips_node **root,
					    struct awg_allowedips_node *n)
{
	if (!n->parent)
		return root;
	return &n->parent->child[bit_at(n->key, n->parent->cidr)];
}

static void attach(struct awg_allowedips_node **slot, struct awg_allowedips_node *parent,
		   struct awg_allowedips_node *n)
{
	*slot = n;
	if (n)
		n->parent = parent;
}

static struct awg_allowedips_node *node_new(const uint8_t key[16], unsigned cidr, void *peer)
{
	struct awg_allowedips_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	memcpy(n->key, key, 16);
	n->cidr = (uint8_t)cidr;
	n->peer = peer;
	return n;
}

/*
 * The deepest node whose prefix contains key/cidr with node->cidr <= cidr: the only node that
 * can hold the prefix itself or be the parent of a new node for it. NULL means the root slot.
 */
static struct awg_allowedips_node *find_parent(struct awg_allowedips_node *n, const uint8_t *key,
					       unsigned cidr)
{
	struct awg_allowedips_node *best = NULL;

	while (n && n->cidr <= cidr && node_covers(n, key)) {
		best = n;
		if (n->cidr == cidr)
			break;
		n = n->child[bit_at(key, n->cidr)];
	}
	return best;
}

static struct awg_allowedips_node *find_exact(struct awg_allowedips_node *root,
					      const uint8_t *key, unsigned cidr)
{
	struct awg_allowedips_node *n = find_parent(root, key, cidr);

	return n && n->cidr == cidr && n->peer ? n : NULL;
}

int awg_allowedips_insert(struct awg_allowedips *t, int family, const uint8_t *addr,
			  uint8_t cidr, void *peer)
{
	struct awg_allowedips_node **root, **slot, *parent, *down, *n, *branch;
	unsigned bits = family_bits(family), common;
	uint8_t key[16];

	if (!bits || cidr > bits || !peer)
		return -EINVAL;
	mask_key(key, addr, cidr, bits);
	root = root_of(t, family);
	parent = find_parent(*root, key, cidr);
	if (parent && parent->cidr == cidr) {
		parent->peer = peer;	/* existing prefix (or branch point) changes owner */
		return 0;
	}
	slot = parent ? &parent->child[bit_at(key, parent->cidr)] : root;
	down = *slot;
	n = node_new(key, cidr, peer);
	if (!n)
		return -ENOMEM;
	if (!down) {
		attach(slot, parent, n);
		return 0;
	}
	/* down diverges from key/cidr, or is longer than cidr: split the edge to it. */
	common = common_bits(down->key, key, cidr < down->cidr ? cidr : down->cidr);
	if (common == cidr) {
		attach(&n->child[bit_at(down->key, cidr)], n, down);
		attach(slot, parent, n);
		return 0;
	}
	mask_key(key, key, common, bits);
	branch = node_new(key, common, NULL);
	if (!branch) {
		free(n);
		return -ENOMEM;
	}
	attach(&branch->child[bit_at(down->key, common)], branch, down);
	attach(&branch->child[bit_at(n->key, common)], branch, n);
	attach(slot, parent, branch);
	return 0;
}

/* Takes n out of the trie, moving its one child (if any) up into its place. */
static void splice(struct awg_allowedips_node **root, struct awg_allowedips_node *n)
{
	struct awg_allowedips_node *only = n->child[0] ? n->child[0] : n->child[1];

	attach(slot_of(root, n), n->parent, only);
	free(n);
}

static bool redundant(const struct awg_allowedips_node *n)
{
	return !n->peer && !(n->child[0] && n->child[1]);
}

/*
 * n has just lost its peer. Splice out n, and then its parent if that was a branch point, so
 * that every peerless node keeps two children.
 */
static void prune(struct awg_allowedips_node **root, struct awg_allowedips_node *n)
{
	while (n && redundant(n)) {
		struct awg_allowedips_node *parent = n->parent;

		splice(root, n);
		n = parent;
	}
}

int awg_allowedips_remove(struct awg_allowedips *t, int family, const uint8_t *addr,
			  uint8_t cidr, void *peer)
{
	struct awg_allowedips_node **root, *n;
	unsigned bits = family_bits(family);
	uint8_t key[16];

	if (!bits || cidr > bits)
		return -EINVAL;
	mask_key(key, addr, cidr, bits);
	root = root_of(t, family);
	n = find_exact(*root, key, cidr);
	if (!n || n->peer != peer)
		return -ENOENT;
	n->peer = NULL;
	prune(root, n);
	return 0;
}

/*
 * Post-order, and each call splices out at most n itself: n's ancestors are still on the
 * recursion stack and get pruned when their own turn comes.
 */
static void remove_peer_below(struct awg_allowedips_node **root, struct awg_allowedips_node *n,
			      const void *peer)
{
	if (!n)
		return;
	remove_peer_below(root, n->child[0], peer);
	remove_peer_below(root, n->child[1], peer);
	if (n->peer == peer)
		n->peer = NULL;
	if (redundant(n))
		splice(root, n);
}

void awg_allowedips_remove_by_peer(struct awg_allowedips *t, void *peer)
{
	if (!peer)
		return;
	remove_peer_below(&t->root4, t->root4, peer);
	remove_peer_below(&t->root6, t->root6, peer);
}

void *awg_allowedips_lookup(const struct awg_allowedips *t, int family, const uint8_t *addr)
{
	const struct awg_allowedips_node *n;
	unsigned bits = family_bits(family);
	uint8_t key[16] = { 0 };
	void *best = NULL;

	if (!bits)
		return NULL;
	memcpy(key, addr, bits / 8);
	n = family == AWG_AF_INET ? t->root4 : t->root6;
	while (n && node_covers(n, key)) {
		if (n->peer)
			best = n->peer;
		if (n->cidr == bits)
			break;
		n = n->child[bit_at(key, n->cidr)];
	}
	return best;
}

static int walk_below(const struct awg_allowedips_node *n, int family, const void *peer,
		      awg_allowedips_walk_fn fn, void *ctx)
{
	int ret;

	if (!n)
		return 0;
	if (n->peer == peer) {
		ret = fn(ctx, family, n->key, n->cidr);
		if (ret)
			return ret;
	}
	ret = walk_below(n->child[0], family, peer, fn, ctx);
	if (ret)
		return ret;
	return walk_below(n->child[1], family, peer, fn, ctx);
}

int awg_allowedips_walk_by_peer(const struct awg_allowedips *t, const void *peer,
				awg_allowedips_walk_fn fn, void *ctx)
{
	int ret;

	if (!peer)
		return 0;
	ret = walk_below(t->root4, AWG_AF_INET, peer, fn, ctx);
	if (ret)
		return ret;
	return walk_below(t->root6, AWG_AF_INET6, peer, fn, ctx);
}

static void free_below(struct awg_allowedips_node *n)
{
	if (!n)
		return;
	free_below(n->child[0]);
	free_below(n->child[1]);
	free(n);
}

void awg_allowedips_init(struct awg_allowedips *t)
{
	t->root4 = NULL;
	t->root6 = NULL;
}

void awg_allowedips_free(struct awg_allowedips *t)
{
	free_below(t->root4);
	free_below(t->root6);
	awg_allowedips_init(t);
}
