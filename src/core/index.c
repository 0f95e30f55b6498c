// SPDX-License-Identifier: MIT
/* Owns the receiver-index table: random local indices to peers (see index.h). */
#include "index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { INITIAL_CAP = 64 };

void awg_index_init(struct awg_index_table *t)
{
	memset(t, 0, sizeof(*t));
}

void awg_index_free(struct awg_index_table *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* Fibonacci hashing spreads indices chosen by an attacker-influenced RNG no worse than random. */
static size_t slot_of(const struct awg_index_table *t, uint32_t index)
{
	return (size_t)((index * UINT32_C(2654435769)) & (t->cap - 1));
}

static struct awg_index_entry *probe(struct awg_index_table *t, uint32_t index)
{
	size_t i;

	if (!t->cap)
		return NULL;
	for (i = slot_of(t, index);; i = (i + 1) & (t->cap - 1)) {
		struct awg_index_entry *e = &t->slots[i];

		if (!e->used && !e->tombstone)
			return NULL;	/* a never-used slot ends the chain */
		if (e->used && e->index == index)
			return e;
	}
}

/* Puts src into the first free or tombstone slot of its chain. */
static void place(struct awg_index_table *t, const struct awg_index_entry *src)
{
	size_t i;

	for (i = slot_of(t, src->index);; i = (i + 1) & (t->cap - 1)) {
		if (!t->slots[i].used) {
			if (t->slots[i].tombstone)
				t->tombstones--;
			t->slots[i] = *src;
			return;
		}
	}
}

static int rehash(struct awg_index_table *t, size_t cap)
{
	struct awg_index_entry *old = t->slots;
	size_t old_cap = t->cap;

	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old;
		return -ENOMEM;
	}
	t->cap = cap;
	t->tombstones = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].used)
			place(t, &old[i]);
	free(old);
	return 0;
}

int awg_index_add(struct awg_index_table *t, struct awg_peer *peer, enum awg_index_kind kind,
		  const struct awg_env *env, uint32_t *out)
{
	struct awg_index_entry e = { .kind = kind, .peer = peer, .used = true };
	int ret;

	if ((t->count + t->tombstones + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap : INITIAL_CAP;

		while ((t->count + 1) * 2 > cap)
			cap *= 2;
		ret = rehash(t, cap);
		if (ret < 0)
			return ret;
	}
	do
		awg_env_random(env, &e.index, sizeof(e.index));
	while (e.index == 0 || probe(t, e.index));
	place(t, &e);
	t->count++;
	*out = e.index;
	return 0;
}

struct awg_index_entry *awg_index_find(struct awg_index_table *t, uint32_t index)
{
	return index ? probe(t, index) : NULL;
}

void awg_index_set_kind(struct awg_index_table *t, uint32_t index, enum awg_index_kind kind)
{
	struct awg_index_entry *e = awg_index_find(t, index);

	if (e)
		e->kind = kind;
}

static void drop(struct awg_index_table *t, struct awg_index_entry *e)
{
	*e = (struct awg_index_entry){ .tombstone = true };
	t->count--;
	t->tombstones++;
}

void awg_index_remove(struct awg_index_table *t, uint32_t index)
{
	struct awg_index_entry *e = awg_index_find(t, index);

	if (e)
		drop(t, e);
}

void awg_index_remove_peer(struct awg_index_table *t, const struct awg_peer *peer)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used && t->slots[i].peer == peer)
			drop(t, &t->slots[i]);
}
