// SPDX-License-Identifier: MIT
/* Owns the tunnel intersection test used by Start. */
#include <stdlib.h>

#include "overlap.h"

struct prefixes {
	struct awg_cidr *v;
	size_t n;
};

static bool push(struct prefixes *s, struct awg_cidr c, bool mask)
{
	struct awg_cidr *v;

	if (mask)
		awg_cidr_mask(&c);
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return false;
	s->v = v;
	s->v[s->n++] = c;
	return true;
}

static bool collect(const struct awg_conf *c, struct prefixes *s)
{
	for (size_t i = 0; i < c->n_addresses; i++) {
		struct awg_cidr host = c->addresses[i];

		host.cidr = host.family == AWG_FAMILY_INET ? 32 : 128;
		if (!push(s, host, false) || !push(s, c->addresses[i], true))
			return false;
	}
	for (size_t i = 0; i < c->n_peers; i++)
		for (size_t j = 0; j < c->peers[i].n_allowed_ips; j++)
			if (!push(s, c->peers[i].allowed_ips[j], true))
				return false;
	return true;
}

bool awg_overlap(const struct awg_conf *a, const struct awg_conf *b)
{
	struct prefixes sa = { 0 }, sb = { 0 };
	bool hit = false;

	/* Out of memory counts as intersecting: stopping a tunnel is safer than a routing clash. */
	if (!collect(a, &sa) || !collect(b, &sb)) {
		hit = true;
		goto out;
	}
	for (size_t i = 0; i < sa.n && !hit; i++)
		for (size_t j = 0; j < sb.n && !hit; j++)
			hit = awg_cidr_equal(&sa.v[i], &sb.v[j]);
out:
	free(sa.v);
	free(sb.v);
	return hit;
}
