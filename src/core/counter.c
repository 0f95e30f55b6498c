// SPDX-License-Identifier: MIT
/* Owns the receive replay window (RFC 6479 ring, spec §8.1); see counter.h for the contract. */
#include "counter.h"

#include <string.h>

/*
 * Bit positions are counter + 1, so that `next` (one past the highest accepted counter) is also
 * the position of the highest accepted counter and a fresh window (next == 0) accepts counter 0.
 * Position p lives in block (p / 64) % AWG_COUNTER_BLOCKS, bit p % 64.
 *
 * Invariant: the block holding `next` and the AWG_COUNTER_BLOCKS - 1 blocks before it describe
 * positions (next rounded down to a block) - 8128 .. next. The oldest position still accepted is
 * next - AWG_COUNTER_WINDOW_SIZE, which is at most 127 blocks behind, so it never shares a ring
 * slot with the newest block: one block of the 128 is the redundant slack RFC 6479 asks for.
 */
_Static_assert(AWG_COUNTER_BLOCK_BITS == 64, "blocks are uint64_t");
_Static_assert((AWG_COUNTER_BLOCKS & (AWG_COUNTER_BLOCKS - 1)) == 0, "ring is a power of two");
_Static_assert(AWG_COUNTER_WINDOW_SIZE == AWG_COUNTER_BITS_TOTAL - AWG_COUNTER_BLOCK_BITS,
	       "window is the ring minus one redundant block");

void awg_counter_init(struct awg_counter *c)
{
	memset(c, 0, sizeof(*c));
}

static uint64_t block_of(uint64_t pos)
{
	return pos / AWG_COUNTER_BLOCK_BITS;
}

/*
 * Moves the window so that `pos` is the newest position. Blocks entered for the first time may
 * hold bits of counters one ring-lap older, so they are cleared; a jump of a whole ring or more
 * clears everything.
 */
static void advance(struct awg_counter *c, uint64_t pos)
{
	uint64_t cur = block_of(c->next), to = block_of(pos);
	uint64_t steps = to - cur, i;

	if (steps > AWG_COUNTER_BLOCKS)
		steps = AWG_COUNTER_BLOCKS;
	for (i = 1; i <= steps; i++)
		c->backtrack[(cur + i) % AWG_COUNTER_BLOCKS] = 0;
	c->next = pos;
}

bool awg_counter_validate(struct awg_counter *c, uint64_t counter)
{
	uint64_t pos, bit, *block;

	/* Also keeps pos + AWG_COUNTER_WINDOW_SIZE below from overflowing. */
	if (counter >= AWG_REJECT_AFTER_MESSAGES)
		return false;
	pos = counter + 1;
	if (pos + AWG_COUNTER_WINDOW_SIZE < c->next)
		return false;	/* fell out of the back of the window */
	if (pos > c->next)
		advance(c, pos);
	block = &c->backtrack[block_of(pos) % AWG_COUNTER_BLOCKS];
	bit = UINT64_C(1) << (pos % AWG_COUNTER_BLOCK_BITS);
	if (*block & bit)
		return false;	/* replay */
	*block |= bit;
	return true;
}
