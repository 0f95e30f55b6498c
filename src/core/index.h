/* SPDX-License-Identifier: MIT */
/*
 * The receiver-index table of one device (spec §8.3 "Indices"): random 32-bit local indices
 * that identify a running handshake or a keypair, mapped to the owning peer.
 *
 * Not thread-safe: the device serialises all calls.
 */
#ifndef _AWG_INDEX_H
#define _AWG_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"

struct awg_peer;

enum awg_index_kind {
	AWG_INDEX_HANDSHAKE,	/* a handshake we started or answered, not yet a keypair */
	AWG_INDEX_KEYPAIR,	/* a keypair of the peer's awg_keypairs */
};

struct awg_index_entry {
	uint32_t index;
	enum awg_index_kind kind;
	struct awg_peer *peer;
	bool used;		/* live entry */
	bool tombstone;		/* removed: keeps probe chains intact until the next rehash */
};

/* Open addressing with linear probing; capacity is a power of two, load kept <= 1/2. */
struct awg_index_table {
	struct awg_index_entry *slots;
	size_t cap;
	size_t count;
	size_t tombstones;
};

void awg_index_init(struct awg_index_table *t);
void awg_index_free(struct awg_index_table *t);

/*
 * Draws a random index not in use (never 0, so a zeroed field is never a live index), records
 * it for peer and stores it in *out. Returns 0 or -ENOMEM.
 */
int awg_index_add(struct awg_index_table *t, struct awg_peer *peer, enum awg_index_kind kind,
		  const struct awg_env *env, uint32_t *out);
/* Looks up index; NULL when absent. The entry pointer is valid until the next add/remove. */
struct awg_index_entry *awg_index_find(struct awg_index_table *t, uint32_t index);
/* Changes the kind of a live entry (handshake -> keypair when a session begins). */
void awg_index_set_kind(struct awg_index_table *t, uint32_t index, enum awg_index_kind kind);
/* Removes index if present. */
void awg_index_remove(struct awg_index_table *t, uint32_t index);
/* Removes every index that belongs to peer. */
void awg_index_remove_peer(struct awg_index_table *t, const struct awg_peer *peer);

#endif /* _AWG_INDEX_H */
