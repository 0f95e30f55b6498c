// SPDX-License-Identifier: MIT
/* Owns redaction: turning a config into what an operator may receive. */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "redact.h"

void awg_redact_placeholder(uint8_t key[AWG_MGR_KEY_LEN], uint64_t i)
{
	memset(key, 0, AWG_MGR_KEY_LEN);
	for (unsigned b = 0; b < AWG_MGR_PLACEHOLDER_INDEX_LEN; b++)
		key[b] = (uint8_t)(i >> (8 * b));
}

static void drop_scripts(struct awg_strlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		awg_wipe(l->v[i], strlen(l->v[i]));
		free(l->v[i]);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void awg_redact_conf(struct awg_conf *c)
{
	awg_wipe(c->private_key, sizeof(c->private_key));
	c->has &= ~(uint64_t)AWG_CONF_HAS_PRIVATE_KEY;
	awg_wipe(c->obfs.hp_key, sizeof(c->obfs.hp_key));
	c->has &= ~(uint64_t)AWG_CONF_HAS_HP_KEY;
	drop_scripts(&c->pre_up);
	drop_scripts(&c->post_up);
	drop_scripts(&c->pre_down);
	drop_scripts(&c->post_down);
	for (size_t i = 0; i < c->n_peers; i++) {
		struct awg_conf_peer *p = &c->peers[i];

		awg_wipe(p->preshared_key, sizeof(p->preshared_key));
		p->flags &= ~(uint32_t)AWG_PEER_HAS_PRESHARED_KEY;
		awg_redact_placeholder(p->public_key, i);
	}
}

uint64_t awg_redact_peer_index(const struct awg_conf *stored, const uint8_t key[AWG_MGR_KEY_LEN],
			       uint64_t extra)
{
	for (size_t i = 0; i < stored->n_peers; i++)
		if (awg_equal(stored->peers[i].public_key, key, AWG_MGR_KEY_LEN))
			return i;
	return stored->n_peers + extra;
}
