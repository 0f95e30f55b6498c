/* SPDX-License-Identifier: MIT */
/*
 * The receive replay window of one keypair (spec §8.1): RFC 6479 ring of 128 64-bit blocks,
 * of which one is redundant, so 8128 counters behind the highest one are tracked.
 */
#ifndef _AWG_COUNTER_H
#define _AWG_COUNTER_H

#include <stdbool.h>
#include <stdint.h>

#include "messages.h"

enum awg_counter_geometry {
	AWG_COUNTER_BITS_TOTAL = 8192,
	AWG_COUNTER_BLOCK_BITS = 64,
	AWG_COUNTER_BLOCKS = AWG_COUNTER_BITS_TOTAL / AWG_COUNTER_BLOCK_BITS,
};

struct awg_counter {
	uint64_t next;	/* one past the highest counter accepted so far */
	uint64_t backtrack[AWG_COUNTER_BLOCKS];
};

void awg_counter_init(struct awg_counter *c);
/*
 * Call only after the packet carrying `counter` authenticated. Returns true and records the
 * counter if it is fresh; false if it was seen already, is too old (more than
 * AWG_COUNTER_WINDOW_SIZE behind) or is >= AWG_REJECT_AFTER_MESSAGES.
 */
bool awg_counter_validate(struct awg_counter *c, uint64_t counter);

#endif /* _AWG_COUNTER_H */
