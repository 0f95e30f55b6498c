/* SPDX-License-Identifier: MIT */
/*
 * What an operator may see of a config: everything but the secrets. The private key, preshared
 * keys, header-protection key and every script are removed; peer public keys become
 * placeholders holding the peer's index (include/awg/manager-proto.h, AWG_MGR_PLACEHOLDER_*).
 */
#ifndef _AWG_MANAGER_REDACT_H
#define _AWG_MANAGER_REDACT_H

#include <stdint.h>

#include "awg/manager-proto.h"
#include "config.h"

/* The placeholder key of peer index i. */
void awg_redact_placeholder(uint8_t key[AWG_MGR_KEY_LEN], uint64_t i);

/* Removes the secrets from c in place (wiping them) and replaces the peer keys. */
void awg_redact_conf(struct awg_conf *c);

/*
 * The placeholder index of a runtime peer: its position among the stored config's peers, or
 * n_peers + extra for a peer the stored config does not have (added with `awg set`).
 */
uint64_t awg_redact_peer_index(const struct awg_conf *stored, const uint8_t key[AWG_MGR_KEY_LEN],
			       uint64_t extra);

#endif /* _AWG_MANAGER_REDACT_H */
