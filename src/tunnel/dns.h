/* SPDX-License-Identifier: MIT */
/*
 * A tunnel's DNS servers and search domains in the system resolver: through resolvconf when it
 * is installed, else by managing /etc/resolv.conf itself, with the original kept in the state
 * directory and put back on down, or by the next up/down after a crash.
 * (systemd-resolved over D-Bus is not done yet: with resolved, install resolvconf's shim.)
 * AWG_TUNNEL_DNS=file forces the managed file, AWG_TUNNEL_DNS=resolvconf the other.
 */
#ifndef _AWG_TUNNEL_DNS_H
#define _AWG_TUNNEL_DNS_H

#include "config.h"

/* Applies c's DNS servers and search domains (nothing to do without them). 0 or -errno. */
int awg_dns_apply(const char *name, const struct awg_conf *c);
/* Undoes awg_dns_apply (also one of a crashed run); true when there was something to undo. */
bool awg_dns_revert(const char *name);

#endif /* _AWG_TUNNEL_DNS_H */
