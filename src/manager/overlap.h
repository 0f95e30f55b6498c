/* SPDX-License-Identifier: MIT */
/*
 * When two tunnels must not run side by side: the Windows manager's IntersectsWith
 * (windows-reference.md section 2.6). Start stops the running tunnels that intersect the one
 * being started.
 */
#ifndef _AWG_MANAGER_OVERLAP_H
#define _AWG_MANAGER_OVERLAP_H

#include <stdbool.h>

#include "config.h"

/*
 * The prefix set of a config is each interface address as a host prefix, each address's
 * network, and each peer's allowed IP with its host bits cleared. Two configs intersect when
 * the sets share a prefix (exact equality, not overlap: 10.0.0.0/8 and 10.1.0.0/16 do not).
 */
bool awg_overlap(const struct awg_conf *a, const struct awg_conf *b);

#endif /* _AWG_MANAGER_OVERLAP_H */
