// SPDX-License-Identifier: MIT
/* Owns the back-to-back device pair shared by the unit tests and the device fuzzer. */
#include "pair.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "messages.h"

/* Reports one check through the node's hook; without one, a failure is fatal. */
static bool report(const struct pair_node *n, bool ok, const char *expr, int line)
{
	if (n->check)
		return n->check(ok, expr, __FILE__, line);
	if (!ok) {
		fprintf(stderr, "pair: %s:%d: %s\n", __FILE__, line, expr);
		abort();
	}
	return ok;
}

/* As report(), for a step that returns 0 or -errno; a failure names the value. */
static int report_ret(const struct pair_node *n, int ret, const char *expr, int line)
{
	char msg[256];

	if (!ret) {
		report(n, true, expr, line);
		return 0;
	}
	snprintf(msg, sizeof(msg), "%s == 0 (got %d)", expr, ret);
	report(n, false, msg, line);
	return ret;
}

#define EXPECT(n, cond) report((n), !!(cond), #cond, __LINE__)
#define EXPECT_OK(n, call) report_ret((n), (call), #call, __LINE__)

static uint64_t now(const struct pair_node *n)
{
	return awg_env_mono_ns(n->env);
}

void pair_send(void *ctx, struct awg_peer *peer, const struct awg_udp_addr *dst,
	       const uint8_t *data, size_t len)
{
	struct pair_node *n = ctx, *to = n->other;
	uint32_t type = len >= 4 ? awg_le32_get(data) : 0;
	struct pair_dgram *d;

	(void)peer;
	(void)dst;
	if (n->n_sent < PAIR_LOG_MAX)
		n->sent[n->n_sent++] = (struct pair_sent){ now(n), type, len };
	if (to->deaf)
		return;
	if (to->inbox_len == to->inbox_cap) {
		if (to->inbox_lossy)
			return;
		abort();
	}
	d = &to->inbox[to->inbox_len];
	d->data = malloc(len ? len : 1);
	if (!d->data)
		abort();
	memcpy(d->data, data, len);
	d->len = len;
	d->src = n->ep;
	to->inbox_len++;
}

void pair_deliver(void *ctx, struct awg_peer *peer, const uint8_t *pkt, size_t len)
{
	struct pair_node *n = ctx;

	(void)peer;
	if (len <= sizeof(n->last_delivered)) {
		memcpy(n->last_delivered, pkt, len);
		n->last_delivered_len = len;
	}
	if (n->n_delivered < PAIR_LOG_MAX)
		n->delivered[n->n_delivered] = len >= 22 ? (unsigned)pkt[20] << 8 | pkt[21] : 0;
	n->n_delivered++;
}

void pair_session(void *ctx, struct awg_peer *peer)
{
	(void)peer;
	((struct pair_node *)ctx)->sessions++;
}

const struct awg_device_ops pair_ops = {
	.send = pair_send, .deliver = pair_deliver, .session = pair_session,
};

struct pair_dgram pair_pop(struct pair_node *n)
{
	struct pair_dgram d = n->inbox[0];

	memmove(n->inbox, n->inbox + 1, --n->inbox_len * sizeof(n->inbox[0]));
	return d;
}

struct pair_dgram pair_pop_last(struct pair_node *n)
{
	return n->inbox[--n->inbox_len];
}

void pair_drain(struct pair_node *n)
{
	while (n->inbox_len)
		free(pair_pop(n).data);
}

int pair_deliver_one(struct pair_node *n)
{
	struct pair_dgram d = pair_pop(n);
	int ret = awg_device_receive(n->dev, d.data, d.len, &d.src);

	free(d.data);
	return ret;
}

void pair_pump(struct pair_node *a, struct pair_node *b, unsigned *drops_a, unsigned *drops_b)
{
	while (a->inbox_len || b->inbox_len) {
		struct pair_node *n = a->inbox_len ? a : b;
		unsigned *drops = n == a ? drops_a : drops_b;

		if (pair_deliver_one(n) < 0 && drops)
			(*drops)++;
	}
}

static uint64_t min_u64(uint64_t x, uint64_t y)
{
	return x < y ? x : y;
}

void pair_run_until(struct pair_node *a, struct pair_node *b, uint64_t until)
{
	unsigned rounds = 0;

	if (!a->advance)
		abort();
	pair_pump(a, b, NULL, NULL);
	for (;;) {
		uint64_t d = min_u64(awg_device_next_deadline(a->dev),
				     awg_device_next_deadline(b->dev));

		if (d > until)
			break;
		if (!EXPECT(a, ++rounds < 100000))
			break;
		if (d > now(a))
			a->advance(a->env, d - now(a));
		awg_device_expire_timers(a->dev, now(a));
		awg_device_expire_timers(b->dev, now(a));
		pair_pump(a, b, NULL, NULL);
	}
	if (until > now(a))
		a->advance(a->env, until - now(a));
}

void pair_endpoint_v4(struct awg_udp_addr *ep, uint8_t last, uint16_t port)
{
	*ep = (struct awg_udp_addr){ .family = AWG_AF_INET, .port = port };
	ep->addr[0] = 127;
	ep->addr[3] = last;
}

void pair_params_31(struct awg_obfs_params *p)
{
	awg_obfs_params_init(p);
	p->s[0] = 15, p->s[1] = 18, p->s[2] = 20, p->s[3] = 23;
	p->h[0] = (struct awg_range){ 1020325451, 1020335451 };
	p->h[1] = (struct awg_range){ 3288052141, 3288062141 };
	p->h[2] = (struct awg_range){ 1766607858, 1766617858 };
	p->h[3] = (struct awg_range){ 2528465083, 2528475083 };
	p->jc = 4, p->jmin = 40, p->jmax = 70;
	p->hp_on = true;
	for (int i = 0; i < AWG_KEY_LEN; i++)
		p->hp_key[i] = (uint8_t)(0x5f + 7 * i);
	p->content_padding = (struct awg_range){ 0, 64 };
	p->random_trailers = true;
}

const char *const pair_ispecs_31[AWG_ISPEC_SLOTS] = {
	"<r 2><b 0x858000010001000000000669636c6f756403636f6d0000010001c00c000100010000105a00044d583737>",
};

static void ipv4_header(uint8_t *buf, size_t len, uint8_t src, uint8_t dst)
{
	memset(buf, 0, 20);
	buf[0] = 0x45;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	buf[8] = 64;
	buf[9] = 17;
	buf[12] = 10, buf[15] = src;
	buf[16] = 10, buf[19] = dst;
}

size_t pair_ipv4_packet(uint8_t *buf, size_t len, uint8_t src, uint8_t dst, uint8_t seed)
{
	ipv4_header(buf, len, src, dst);
	for (size_t i = 20; i < len; i++)
		buf[i] = (uint8_t)(seed + i);
	return len;
}

size_t pair_id_packet(uint8_t *buf, size_t len, uint8_t src, uint8_t dst, unsigned id)
{
	ipv4_header(buf, len, src, dst);
	memset(buf + 20, 0, len - 20);
	buf[20] = (uint8_t)(id >> 8);
	buf[21] = (uint8_t)id;
	return len;
}

static void node_init(struct pair_node *n, struct pair_node *other, uint8_t last,
		      const struct pair_opts *opts)
{
	memset(n, 0, sizeof(*n));
	n->other = other;
	pair_endpoint_v4(&n->ep, last, (uint16_t)(51000 + last));
	n->env = opts->env;
	n->check = opts->check;
	n->advance = opts->advance;
	n->inbox_lossy = opts->inbox_cap != 0;
	n->inbox_cap = opts->inbox_cap && opts->inbox_cap < PAIR_INBOX_MAX ? opts->inbox_cap :
									      PAIR_INBOX_MAX;
}

int pair_setup(struct pair_node *a, struct pair_node *b, const struct pair_opts *opts)
{
	const struct awg_device_ops *ops = opts->ops ? opts->ops : &pair_ops;
	const struct awg_obfs_params *p = opts->obfs;
	uint8_t ka[32], kb[32], pa[32], pb[32], psk[32];
	uint8_t ip[4] = { 10, 0, 0, 0 };
	struct awg_obfs_params plain;
	struct awg_obfs *o;
	int ret;

	node_init(a, b, 1, opts);
	node_init(b, a, 2, opts);
	if (opts->private_keys[0])
		memcpy(ka, opts->private_keys[0], 32);
	else
		awg_env_random(opts->env, ka, 32);
	if (opts->private_keys[1])
		memcpy(kb, opts->private_keys[1], 32);
	else
		awg_env_random(opts->env, kb, 32);
	if (opts->psk)
		awg_env_random(opts->env, psk, 32);
	awg_x25519_clamp(ka);
	awg_x25519_clamp(kb);
	ret = -EINVAL;
	if (!EXPECT(a, awg_x25519_public(pa, ka)) || !EXPECT(a, awg_x25519_public(pb, kb)))
		goto out;
	if (!p) {
		awg_obfs_params_init(&plain);
		p = &plain;
	}
	ret = EXPECT_OK(a, awg_device_new(opts->env, ops, a, &a->dev));
	if (ret)
		goto out;
	ret = EXPECT_OK(a, awg_device_new(opts->env, ops, b, &b->dev));
	if (ret)
		goto out;
	ret = EXPECT_OK(a, awg_device_set_private_key(a->dev, ka));
	if (ret)
		goto out;
	ret = EXPECT_OK(a, awg_device_set_private_key(b->dev, kb));
	if (ret)
		goto out;
	ret = EXPECT_OK(a, awg_obfs_new(p, opts->ispecs, &o, NULL));
	if (ret)
		goto out;
	awg_device_set_obfs(a->dev, o);
	ret = EXPECT_OK(a, awg_obfs_new(p, opts->ispecs, &o, NULL));
	if (ret)
		goto out;
	awg_device_set_obfs(b->dev, o);
	/* Before the peers: their timers draw max_handshake_attempts from it. */
	if (opts->timing) {
		awg_device_set_timing(a->dev, opts->timing);
		awg_device_set_timing(b->dev, opts->timing);
	}
	ret = EXPECT_OK(a, awg_device_peer_add(a->dev, pb, opts->psk ? psk : NULL, &a->peer));
	if (ret)
		goto out;
	ret = EXPECT_OK(a, awg_device_peer_add(b->dev, pa, opts->psk ? psk : NULL, &b->peer));
	if (ret)
		goto out;
	a->peer->endpoint = b->ep;	/* only the initiator knows where to go */
	ip[3] = 2;
	ret = EXPECT_OK(a, awg_device_peer_allow(a->dev, a->peer, AWG_AF_INET, ip, 32));
	if (ret)
		goto out;
	ip[3] = 1;
	ret = EXPECT_OK(a, awg_device_peer_allow(b->dev, b->peer, AWG_AF_INET, ip, 32));
	if (ret)
		goto out;
	a->dev->mtu = b->dev->mtu = 1420;
	a->dev->handshake_queue_cap = b->dev->handshake_queue_cap = opts->handshake_queue_cap;
out:
	awg_wipe(ka, 32);
	awg_wipe(kb, 32);
	awg_wipe(psk, 32);
	if (ret)
		pair_teardown(a, b);
	return ret;
}

void pair_teardown(struct pair_node *a, struct pair_node *b)
{
	pair_drain(a);
	pair_drain(b);
	awg_device_free(a->dev);
	awg_device_free(b->dev);
	a->dev = b->dev = NULL;
	a->peer = b->peer = NULL;
}
