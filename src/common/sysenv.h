/* SPDX-License-Identifier: MIT */
/* The real struct awg_env of a process: kernel clocks and the pooled CSPRNG of crypto.c. */
#ifndef _AWG_SYSENV_H
#define _AWG_SYSENV_H

#include "env.h"

/* Returns the process-wide environment (borrowed, immutable, thread-safe). */
const struct awg_env *awg_sysenv(void);

/*
 * Freezes the monotonic clock of the calling thread at the current time until
 * awg_sysenv_clock_release(): a batch of packets handled in a few hundred microseconds sees
 * one time instead of paying for a clock read per timer update (3% of the send path). Timers
 * have millisecond granularity, so nothing observes the difference.
 */
void awg_sysenv_clock_hold(void);
void awg_sysenv_clock_release(void);

#endif /* _AWG_SYSENV_H */
