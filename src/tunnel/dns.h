/* SPDX-License-Identifier: MIT */
/*
 * A tunnel's DNS servers and search domains in the system resolver: through systemd-resolved
 * over D-Bus when it runs (link DNS and domains, "~." for a full tunnel, reverted on down),
 * else through resolvconf when it is installed, else by managing /etc/resolv.conf itself, with
 * the original kept in the state directory and put back on down, or by the next up/down after a
 * crash. AWG_TUNNEL_DNS=resolved|resolvconf|file forces one.
 */
#ifndef _AWG_TUNNEL_DNS_H
#define _AWG_TUNNEL_DNS_H

#include <stdbool.h>

#include "config.h"

/*
 * Applies c's DNS servers and search domains to the tunnel's link ifindex (nothing to do
 * without them); full: the tunnel carries all traffic, so all queries should use it.
 * 0 or -errno.
 */
int awg_dns_apply(const char *name, const struct awg_conf *c, int ifindex, bool full);
/* Undoes awg_dns_apply (also one of a crashed run); true when there was something to undo. */
bool awg_dns_revert(const char *name);

#endif /* _AWG_TUNNEL_DNS_H */
