// SPDX-License-Identifier: MIT
/*
 * Owns the protocol state of one interface and the send/receive paths that tie noise, cookie,
 * keypair, index, allowedips, obfs and timers together (see device.h). No I/O: datagrams leave
 * through dev->ops, time comes from dev->env.
 *
 * Timer events are reported where WireGuard reports them (timers.c, send.c and receive.c of the
 * Linux module), with one ordering difference: WireGuard encrypts asynchronously, so a packet it
 * "sends" in reaction to a received one is really sent after the receive path has reported its
 * events. Here sending is synchronous, so the receive paths report first and send last.
 */
#include "device.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

enum { ENDPOINT_BYTES = 1 + 2 + 16 };

static uint64_t now_ns(const struct awg_device *dev)
{
	return awg_env_mono_ns(dev->env);
}

/* Stable encoding of a source address for cookies (only we ever check them). */
static size_t endpoint_bytes(const struct awg_udp_addr *ep, uint8_t out[ENDPOINT_BYTES])
{
	size_t alen = ep->family == AWG_AF_INET ? 4 : 16;

	out[0] = (uint8_t)ep->family;
	out[1] = (uint8_t)(ep->port >> 8);
	out[2] = (uint8_t)ep->port;
	memcpy(out + 3, ep->addr, alen);
	return 3 + alen;
}

static bool endpoint_equal(const struct awg_udp_addr *a, const struct awg_udp_addr *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, 16);
}

const char *awg_device_drop_name(enum awg_device_drop why)
{
	static const char *const names[] = {
		[AWG_DROP_NONE] = "not dropped",
		[AWG_DROP_UNCLASSIFIED] = "unclassifiable (junk, decoy or garbage)",
		[AWG_DROP_MAC] = "bad mac1",
		[AWG_DROP_COOKIE_SENT] = "under load without cookie, cookie reply sent",
		[AWG_DROP_RATELIMIT] = "handshake rate limit",
		[AWG_DROP_HANDSHAKE] = "handshake rejected",
		[AWG_DROP_INDEX] = "unknown receiver index",
		[AWG_DROP_DECRYPT] = "does not authenticate",
		[AWG_DROP_REPLAY] = "replayed counter",
		[AWG_DROP_EXPIRED] = "keypair expired",
		[AWG_DROP_PACKET] = "not an IP packet",
		[AWG_DROP_ROUTE] = "source address not allowed for peer",
		[AWG_DROP_NOMEM] = "out of memory",
	};

	if ((size_t)why < sizeof(names) / sizeof(names[0]) && names[why])
		return names[why];
	return "unknown";
}

static void drop(struct awg_device *dev, enum awg_device_drop why)
{
	dev->last_drop = why;
	dev->drops++;
	dev->drops_by[why]++;
}

static void emit(struct awg_device *dev, struct awg_peer *peer, const struct awg_udp_addr *dst,
		 size_t len)
{
	dev->ops->send(dev->ops_ctx, peer, dst, dev->buf, len);
	if (peer)
		peer->tx_bytes += len;
}

int awg_device_new(const struct awg_env *env, const struct awg_device_ops *ops, void *ops_ctx,
		   struct awg_device **out)
{
	struct awg_obfs_params params;
	struct awg_device *dev;
	int ret;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->env = env;
	dev->ops = ops;
	dev->ops_ctx = ops_ctx;
	awg_index_init(&dev->indices);
	awg_allowedips_init(&dev->allowedips);
	awg_cookie_checker_init(&dev->cookie_checker, NULL);
	awg_obfs_params_init(&params);
	ret = awg_obfs_new(&params, NULL, &dev->obfs, NULL);
	if (ret < 0)
		goto err_free;
	ret = awg_ratelimiter_init(&dev->ratelimiter, AWG_DEVICE_RATELIMIT_ENTRIES, env);
	if (ret < 0)
		goto err_obfs;
	*out = dev;
	return 0;

err_obfs:
	awg_obfs_free(dev->obfs);
err_free:
	free(dev);
	return ret;
}

static void drop_staged(struct awg_peer *peer)
{
	for (unsigned i = 0; i < peer->n_staged; i++) {
		awg_wipe(peer->staged[i].data, peer->staged[i].len);
		free(peer->staged[i].data);
	}
	peer->n_staged = 0;
}

static void peer_free(struct awg_peer *peer)
{
	drop_staged(peer);
	free(peer->staged);
	awg_keypairs_clear(&peer->keypairs);
	awg_noise_handshake_wipe(&peer->handshake);
	awg_cookie_wipe(&peer->cookie);
	awg_wipe(peer, sizeof(*peer));
	free(peer);
}

void awg_device_free(struct awg_device *dev)
{
	if (!dev)
		return;
	for (size_t i = 0; i < dev->num_peers; i++)
		peer_free(dev->peers[i]);
	free(dev->peers);
	awg_index_free(&dev->indices);
	awg_allowedips_free(&dev->allowedips);
	awg_obfs_free(dev->obfs);
	awg_ratelimiter_free(&dev->ratelimiter);
	awg_noise_identity_wipe(&dev->identity);
	awg_cookie_checker_wipe(&dev->cookie_checker);
	awg_wipe(dev->buf, sizeof(dev->buf));
	free(dev);
}

void awg_device_set_obfs(struct awg_device *dev, struct awg_obfs *obfs)
{
	awg_obfs_free(dev->obfs);
	dev->obfs = obfs;
}

int awg_device_set_private_key(struct awg_device *dev, const uint8_t *private_key)
{
	static const uint8_t zero[AWG_PRIVATE_KEY_LEN];
	int ret;

	ret = awg_noise_identity_init(&dev->identity, private_key ? private_key : zero);
	if (ret < 0)
		return ret;
	awg_cookie_checker_init(&dev->cookie_checker,
				dev->identity.has_identity ? dev->identity.static_public : NULL);
	/* Sessions keyed under the old identity may still receive, but never send again. */
	for (size_t i = 0; i < dev->num_peers; i++) {
		struct awg_peer *peer = dev->peers[i];

		awg_noise_handshake_precompute(&peer->handshake);
		awg_noise_handshake_clear(&peer->handshake);
		awg_keypairs_expire_current(&peer->keypairs);
	}
	return 0;
}

struct awg_peer *awg_device_peer_find(struct awg_device *dev,
				      const uint8_t public_key[AWG_PUBLIC_KEY_LEN])
{
	for (size_t i = 0; i < dev->num_peers; i++)
		if (!memcmp(dev->peers[i]->public_key, public_key, AWG_PUBLIC_KEY_LEN))
			return dev->peers[i];
	return NULL;
}

int awg_device_peer_add(struct awg_device *dev, const uint8_t public_key[AWG_PUBLIC_KEY_LEN],
			const uint8_t *psk, struct awg_peer **out)
{
	struct awg_peer *peer;

	if (awg_device_peer_find(dev, public_key))
		return -EEXIST;
	if (dev->num_peers >= AWG_MAX_PEERS)
		return -ENOSPC;
	if (dev->num_peers == dev->peers_cap) {
		size_t cap = dev->peers_cap ? dev->peers_cap * 2 : 8;
		struct awg_peer **p = realloc(dev->peers, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		dev->peers = p;
		dev->peers_cap = cap;
	}
	peer = calloc(1, sizeof(*peer));
	if (!peer)
		return -ENOMEM;
	peer->dev = dev;
	memcpy(peer->public_key, public_key, AWG_PUBLIC_KEY_LEN);
	awg_noise_handshake_init(&peer->handshake, &dev->identity, public_key, psk);
	awg_cookie_init(&peer->cookie, public_key);
	awg_keypairs_init(&peer->keypairs);
	awg_timers_init(&peer->timers, &dev->timing, dev->env);
	peer->udp_window = AWG_OBFS_DEFAULT_UDP_WINDOW;
	dev->peers[dev->num_peers++] = peer;
	*out = peer;
	return 0;
}

void awg_device_peer_remove(struct awg_device *dev, struct awg_peer *peer)
{
	for (size_t i = 0; i < dev->num_peers; i++) {
		if (dev->peers[i] != peer)
			continue;
		dev->peers[i] = dev->peers[--dev->num_peers];
		awg_timers_stop(&peer->timers);
		awg_index_remove_peer(&dev->indices, peer);
		awg_allowedips_remove_by_peer(&dev->allowedips, peer);
		peer_free(peer);
		return;
	}
}

int awg_device_peer_allow(struct awg_device *dev, struct awg_peer *peer, int family,
			  const uint8_t *addr, uint8_t cidr)
{
	return awg_allowedips_insert(&dev->allowedips, family, addr, cidr, peer);
}

/* Drops the index of the peer's running handshake, if any. */
static void release_handshake_index(struct awg_device *dev, struct awg_peer *peer)
{
	struct awg_index_entry *e = awg_index_find(&dev->indices, peer->handshake.local_index);

	if (e && e->peer == peer && e->kind == AWG_INDEX_HANDSHAKE)
		awg_index_remove(&dev->indices, e->index);
}

static int new_handshake_index(struct awg_device *dev, struct awg_peer *peer, uint32_t *idx)
{
	release_handshake_index(dev, peer);
	return awg_index_add(&dev->indices, peer, AWG_INDEX_HANDSHAKE, dev->env, idx);
}

static void send_decoys(struct awg_device *dev, struct awg_peer *peer)
{
	unsigned count = awg_obfs_decoy_count(dev->obfs);

	for (unsigned i = 0; i < count; i++) {
		size_t len = awg_obfs_decoy_build(dev->obfs, i, dev->buf, sizeof(dev->buf),
						  dev->env);

		if (len)
			emit(dev, peer, &peer->endpoint, len);
	}
}

/*
 * Frames a handshake message of kind already built (except type and MACs) at
 * dev->buf + prefix, and sends it: type first, because the MACs cover it.
 */
static void send_handshake_message(struct awg_device *dev, struct awg_peer *peer,
				   enum awg_msg_kind kind, size_t msg_len,
				   const struct awg_udp_addr *dst)
{
	uint8_t *msg = dev->buf + awg_obfs_prefix_len(dev->obfs, kind);
	size_t len;

	awg_le32_put(msg, awg_obfs_pick_type(dev->obfs, kind, dev->env));
	awg_cookie_add_macs(&peer->cookie, msg, msg_len, dev->env);
	len = awg_obfs_wrap(dev->obfs, kind, dev->buf, msg_len, sizeof(dev->buf),
			    peer->udp_window, dev->env);
	if (len)
		emit(dev, peer, dst, len);
}

int awg_device_send_initiation(struct awg_device *dev, struct awg_peer *peer)
{
	struct awg_msg_initiation *msg;
	uint32_t idx;
	int ret;

	if (!dev->identity.has_identity)
		return -ENOKEY;
	if (!peer->endpoint.family)
		return -EDESTADDRREQ;
	ret = new_handshake_index(dev, peer, &idx);
	if (ret < 0)
		return ret;
	/* Decoys go first; they reuse dev->buf, so the initiation is built after them. */
	send_decoys(dev, peer);
	msg = (struct awg_msg_initiation *)(dev->buf + awg_obfs_prefix_len(dev->obfs, AWG_KIND_INIT));
	ret = awg_noise_create_initiation(&peer->handshake, msg, idx, dev->env);
	if (ret < 0) {
		awg_index_remove(&dev->indices, idx);
		return ret;
	}
	awg_timers_any_authenticated_packet_traversal(&peer->timers, now_ns(dev), dev->env);
	awg_timers_any_authenticated_packet_sent(&peer->timers);
	send_handshake_message(dev, peer, AWG_KIND_INIT, sizeof(*msg), &peer->endpoint);
	awg_timers_handshake_initiated(&peer->timers, now_ns(dev), dev->env);
	return 0;
}

/* An initiation the timers asked for, or a retry: spaced by LO(rekey_timeout). */
static void retry_initiation(struct awg_device *dev, struct awg_peer *peer)
{
	if (awg_timers_initiation_allowed(&peer->timers, now_ns(dev)))
		awg_device_send_initiation(dev, peer);
}

/*
 * A handshake we decide on by ourselves (no usable session, or the keys are getting old): a new
 * sequence of attempts, as WireGuard's is_retry == false.
 */
static void want_handshake(struct awg_device *dev, struct awg_peer *peer)
{
	awg_timers_handshake_begin(&peer->timers, dev->env);
	retry_initiation(dev, peer);
}

/* The initiator renews a session before it gets old, or before its counter runs out. */
static void keep_key_fresh_on_send(struct awg_device *dev, struct awg_peer *peer)
{
	struct awg_keypair *kp = peer->keypairs.current;

	if (kp && kp->valid && kp->sending_valid &&
	    awg_timers_want_initiation_on_send(&peer->timers, now_ns(dev), kp->birth_ns,
					       kp->sending_counter, kp->is_initiator, dev->env))
		want_handshake(dev, peer);
}

/*
 * The initiator rehandshakes once shortly before the session dies, so that a responder which
 * only receives is never left without keys to answer with.
 */
static void keep_key_fresh_on_receive(struct awg_device *dev, struct awg_peer *peer)
{
	struct awg_keypair *kp = peer->keypairs.current;

	if (kp && kp->valid && kp->sending_valid &&
	    awg_timers_want_initiation_on_receive(&peer->timers, now_ns(dev), kp->birth_ns,
						  kp->is_initiator, dev->env))
		want_handshake(dev, peer);
}

int awg_device_send_data(struct awg_device *dev, struct awg_peer *peer, const uint8_t *packet,
			 size_t len)
{
	struct awg_keypair *kp = peer->keypairs.current;
	size_t s = awg_obfs_prefix_len(dev->obfs, AWG_KIND_TRANSPORT), pad, n, need, cap = 0;
	uint8_t *buf = NULL, *msg;
	uint64_t counter;

	if (!kp || !kp->valid || !kp->sending_valid)
		return -ENOKEY;
	if (!peer->endpoint.family)
		return -EDESTADDRREQ;
	pad = awg_obfs_transport_padding(dev->obfs, len, dev->mtu, peer->udp_window, dev->env);
	need = s + AWG_MSG_DATA_HEADER_LEN + len + pad + AWG_AUTHTAG_LEN;
	if (need > sizeof(dev->buf))
		return -EMSGSIZE;
	/* Built where the owner will send it from, when it offers a place: one copy less. */
	if (dev->ops->send_unsealed && dev->ops->tx_buf)
		buf = dev->ops->tx_buf(dev->ops_ctx, peer, &peer->endpoint, &cap);
	if (!buf || cap < need)
		buf = dev->buf, cap = sizeof(dev->buf);
	msg = buf + s;
	if (len)
		memcpy(msg + AWG_MSG_DATA_HEADER_LEN, packet, len);
	memset(msg + AWG_MSG_DATA_HEADER_LEN + len, 0, pad);
	if (awg_keypair_reserve(kp, msg, now_ns(dev), &counter) < 0)
		return -ENOKEY;
	/* Without an owner that seals, seal now; the header protection does not cover it. */
	if (!dev->ops->send_unsealed)
		awg_aead_encrypt(msg + AWG_MSG_DATA_HEADER_LEN, msg + AWG_MSG_DATA_HEADER_LEN,
				 len + pad, NULL, 0, counter, kp->sending_key);
	awg_le32_put(msg, awg_obfs_pick_type(dev->obfs, AWG_KIND_TRANSPORT, dev->env));
	n = awg_obfs_wrap(dev->obfs, AWG_KIND_TRANSPORT, buf,
			  AWG_MSG_DATA_HEADER_LEN + len + pad + AWG_AUTHTAG_LEN, cap, 0, dev->env);
	if (!n)
		return -EMSGSIZE;
	awg_timers_any_authenticated_packet_traversal(&peer->timers, now_ns(dev), dev->env);
	awg_timers_any_authenticated_packet_sent(&peer->timers);
	if (dev->ops->send_unsealed) {
		struct awg_seal seal = {
			.key = kp->sending_key, .counter = counter,
			.off = s + AWG_MSG_DATA_HEADER_LEN, .len = len + pad,
		};

		dev->ops->send_unsealed(dev->ops_ctx, peer, &peer->endpoint, buf, n, &seal);
		peer->tx_bytes += n;
	} else {
		emit(dev, peer, &peer->endpoint, n);
	}
	if (len)
		awg_timers_data_sent(&peer->timers, now_ns(dev), dev->env);
	if (s + AWG_MSG_DATA_MIN_LEN + len > peer->udp_window)
		peer->udp_window = s + AWG_MSG_DATA_MIN_LEN + len;
	keep_key_fresh_on_send(dev, peer);
	return 0;
}

/*
 * Sends the staged packets in order while a session lets it. Packets that can never be sent
 * (too large) are dropped; the rest wait, and a missing session starts a handshake.
 */
static void flush_staged(struct awg_device *dev, struct awg_peer *peer)
{
	unsigned done = 0;
	int ret = 0;

	while (done < peer->n_staged) {
		struct awg_staged_packet *sp = &peer->staged[done];

		ret = awg_device_send_data(dev, peer, sp->data, sp->len);
		if (ret == -ENOKEY || ret == -EDESTADDRREQ)
			break;
		awg_wipe(sp->data, sp->len);
		free(sp->data);
		done++;
	}
	peer->n_staged -= done;
	memmove(peer->staged, peer->staged + done, peer->n_staged * sizeof(*peer->staged));
	if (ret == -ENOKEY)
		want_handshake(dev, peer);
}

/* Appends a copy of packet to the staging queue, dropping the oldest when it is full. */
static int stage(struct awg_peer *peer, const uint8_t *packet, size_t len)
{
	uint8_t *copy;

	if (!peer->staged) {
		peer->staged = calloc(AWG_DEVICE_MAX_STAGED, sizeof(*peer->staged));
		if (!peer->staged)
			return -ENOMEM;
	}
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, packet, len);
	if (peer->n_staged == AWG_DEVICE_MAX_STAGED) {
		awg_wipe(peer->staged[0].data, peer->staged[0].len);
		free(peer->staged[0].data);
		memmove(peer->staged, peer->staged + 1, --peer->n_staged * sizeof(*peer->staged));
	}
	peer->staged[peer->n_staged++] = (struct awg_staged_packet){ .data = copy, .len = len };
	return 0;
}

int awg_device_send_packet(struct awg_device *dev, struct awg_peer *peer, const uint8_t *packet,
			   size_t len)
{
	int ret;

	if (!peer->endpoint.family)
		return -EDESTADDRREQ;
	if (awg_obfs_prefix_len(dev->obfs, AWG_KIND_TRANSPORT) + AWG_MSG_DATA_MIN_LEN + len >
	    sizeof(dev->buf))
		return -EMSGSIZE;
	/* The fast path; with packets already waiting, the new one must queue behind them. */
	if (!peer->n_staged) {
		ret = awg_device_send_data(dev, peer, packet, len);
		if (ret != -ENOKEY)
			return ret;
	}
	if (!dev->identity.has_identity)
		return -ENOKEY;
	ret = stage(peer, packet, len);
	if (ret < 0)
		return ret;
	flush_staged(dev, peer);
	return 0;
}

/* WireGuard's wg_packet_send_keepalive: staged packets serve as one, else an empty message. */
static void send_keepalive(struct awg_device *dev, struct awg_peer *peer)
{
	if (peer->n_staged)
		flush_staged(dev, peer);
	else if (awg_device_send_data(dev, peer, NULL, 0) == -ENOKEY)
		want_handshake(dev, peer);
}

/* A packet authenticated from src: roam to it (and restart the trailer window if it moved). */
static void update_endpoint(struct awg_peer *peer, const struct awg_udp_addr *src)
{
	if (!endpoint_equal(&peer->endpoint, src)) {
		peer->endpoint = *src;
		peer->udp_window = AWG_OBFS_DEFAULT_UDP_WINDOW;
	}
}

/*
 * Moves the new keypair into the peer's rotation, re-labels its index, and forgets the indices
 * of keypairs the rotation dropped.
 */
static void install_keypair(struct awg_device *dev, struct awg_peer *peer,
			    struct awg_keypair *fresh)
{
	struct awg_keypairs *kps = &peer->keypairs;
	struct awg_keypair *kp;
	uint32_t before[3];

	for (int i = 0; i < 3; i++)
		before[i] = kps->slot[i].valid ? kps->slot[i].local_index : 0;
	kp = awg_keypairs_add(kps, fresh);
	awg_index_set_kind(&dev->indices, kp->local_index, AWG_INDEX_KEYPAIR);
	for (int i = 0; i < 3; i++)
		if (before[i] && !awg_keypairs_find(kps, before[i]))
			awg_index_remove(&dev->indices, before[i]);
}

static void session_established(struct awg_device *dev, struct awg_peer *peer)
{
	peer->last_handshake_wall_ns = awg_env_wall_ns(dev->env);
	if (dev->ops->session)
		dev->ops->session(dev->ops_ctx, peer);
}

static int begin_session(struct awg_device *dev, struct awg_peer *peer)
{
	struct awg_keypair kp;
	int ret;

	ret = awg_noise_begin_session(&peer->handshake, &kp, now_ns(dev),
				      awg_timers_reject_after_ns(&dev->timing));
	if (ret == 0) {
		install_keypair(dev, peer, &kp);
		awg_timers_session_derived(&peer->timers, now_ns(dev));
	}
	awg_wipe(&kp, sizeof(kp));
	return ret;
}

/* Any authenticated packet from peer (handshake message, keepalive or data). */
static void authenticated_received(struct awg_device *dev, struct awg_peer *peer)
{
	awg_timers_any_authenticated_packet_received(&peer->timers);
	awg_timers_any_authenticated_packet_traversal(&peer->timers, now_ns(dev), dev->env);
}

static void send_cookie_reply(struct awg_device *dev, const uint8_t *msg, size_t msg_len,
			      const struct awg_udp_addr *src)
{
	struct awg_msg_cookie *reply;
	uint8_t sb[ENDPOINT_BYTES];
	size_t sl = endpoint_bytes(src, sb), len;

	reply = (struct awg_msg_cookie *)(dev->buf + awg_obfs_prefix_len(dev->obfs, AWG_KIND_COOKIE));
	if (awg_cookie_create_reply(&dev->cookie_checker, reply, msg, msg_len, sb, sl, dev->env))
		return;
	awg_le32_put(reply->header.type, awg_obfs_pick_type(dev->obfs, AWG_KIND_COOKIE, dev->env));
	len = awg_obfs_wrap(dev->obfs, AWG_KIND_COOKIE, dev->buf, sizeof(*reply), sizeof(dev->buf),
			    0, dev->env);
	if (len)
		emit(dev, NULL, src, len);
}

/*
 * mac1 always; under load also mac2, and without a valid one the sender gets a cookie reply
 * (unless DisableCookies) instead of a handshake. Returns true when the message may proceed.
 */
/*
 * An owner with a handshake queue reports its length (handshake_queue_len/cap, as Go and the
 * kernel do). An owner that handles handshakes inline has no queue: then the backlog is
 * approximated by the handshake messages seen in the current window, and AWG_DEVICE_HS_PER_WINDOW
 * of them in one window counts as the queue being 1/8 full.
 */
static bool is_under_load(struct awg_device *dev)
{
	uint64_t now = now_ns(dev);

	if (dev->handshake_queue_cap)
		return awg_cookie_load_update(&dev->load, dev->handshake_queue_len,
					      dev->handshake_queue_cap, now);
	if (now - dev->hs_window_start_ns >= AWG_DEVICE_HS_WINDOW_NS) {
		dev->hs_window_start_ns = now;
		dev->hs_in_window = 0;
	}
	dev->hs_in_window++;
	return awg_cookie_load_update(&dev->load, dev->hs_in_window, 8 * AWG_DEVICE_HS_PER_WINDOW,
				      now);
}

static bool check_macs(struct awg_device *dev, const uint8_t *msg, size_t msg_len,
		       const struct awg_udp_addr *src)
{
	uint8_t sb[ENDPOINT_BYTES];
	size_t sl = endpoint_bytes(src, sb);
	enum awg_cookie_mac_state st;
	bool under_load;

	under_load = is_under_load(dev);
	st = awg_cookie_validate(&dev->cookie_checker, msg, msg_len, sb, sl, under_load, dev->env);
	if (st == AWG_COOKIE_INVALID_MAC) {
		drop(dev, AWG_DROP_MAC);
		return false;
	}
	if (under_load && st != AWG_COOKIE_VALID_MAC_WITH_COOKIE) {
		if (!awg_obfs_params(dev->obfs)->disable_cookies)
			send_cookie_reply(dev, msg, msg_len, src);
		drop(dev, AWG_DROP_COOKIE_SENT);
		return false;
	}
	/* Even with a valid cookie, one source may not monopolise the handshake work. */
	if (under_load && !awg_ratelimiter_allow(&dev->ratelimiter, src->family, src->addr,
						 now_ns(dev))) {
		drop(dev, AWG_DROP_RATELIMIT);
		return false;
	}
	return true;
}

static struct awg_handshake *lookup_static(void *ctx, const uint8_t remote_static[32])
{
	struct awg_peer *peer = awg_device_peer_find(ctx, remote_static);

	return peer ? &peer->handshake : NULL;
}

static int receive_initiation(struct awg_device *dev, uint8_t *msg,
			      const struct awg_udp_addr *src)
{
	struct awg_handshake *hs;
	struct awg_peer *peer;
	uint32_t idx;

	if (!check_macs(dev, msg, AWG_MSG_INITIATION_LEN, src))
		return -EBADMSG;
	hs = awg_noise_consume_initiation((const struct awg_msg_initiation *)msg, &dev->identity,
					  lookup_static, dev, dev->env);
	if (!hs) {
		drop(dev, AWG_DROP_HANDSHAKE);
		return -EBADMSG;
	}
	peer = container_of(hs, struct awg_peer, handshake);
	peer->rx_bytes += AWG_MSG_INITIATION_LEN;
	update_endpoint(peer, src);
	if (new_handshake_index(dev, peer, &idx) < 0) {
		drop(dev, AWG_DROP_NOMEM);
		return -EBADMSG;
	}
	if (awg_noise_create_response(hs, (struct awg_msg_response *)(dev->buf +
		    awg_obfs_prefix_len(dev->obfs, AWG_KIND_RESPONSE)), idx, dev->env) < 0) {
		awg_index_remove(&dev->indices, idx);
		drop(dev, AWG_DROP_HANDSHAKE);
		return -EBADMSG;
	}
	/* The response is framed and sent after begin_session: it only reads dev->buf. */
	if (begin_session(dev, peer) < 0) {
		awg_index_remove(&dev->indices, idx);
		drop(dev, AWG_DROP_HANDSHAKE);
		return -EBADMSG;
	}
	/* Its traversal also stands for the response's, which follows at once. */
	authenticated_received(dev, peer);
	awg_timers_any_authenticated_packet_sent(&peer->timers);
	send_handshake_message(dev, peer, AWG_KIND_RESPONSE, AWG_MSG_RESPONSE_LEN, src);
	return 0;
}

static int receive_response(struct awg_device *dev, uint8_t *msg, const struct awg_udp_addr *src)
{
	const struct awg_msg_response *resp = (const struct awg_msg_response *)msg;
	struct awg_index_entry *e;
	struct awg_peer *peer;

	if (!check_macs(dev, msg, AWG_MSG_RESPONSE_LEN, src))
		return -EBADMSG;
	e = awg_index_find(&dev->indices, awg_le32_get(resp->receiver_index));
	if (!e || e->kind != AWG_INDEX_HANDSHAKE) {
		drop(dev, AWG_DROP_INDEX);
		return -EBADMSG;
	}
	peer = e->peer;
	if (awg_noise_consume_response(&peer->handshake, resp) < 0 || begin_session(dev, peer) < 0) {
		drop(dev, AWG_DROP_HANDSHAKE);
		return -EBADMSG;
	}
	peer->rx_bytes += AWG_MSG_RESPONSE_LEN;
	update_endpoint(peer, src);
	awg_timers_handshake_complete(&peer->timers, dev->env);
	authenticated_received(dev, peer);
	session_established(dev, peer);
	/*
	 * Key confirmation for the responder, who may not send until it hears from us: the
	 * staged packets if there are any, else a keepalive.
	 */
	send_keepalive(dev, peer);
	return 0;
}

static int receive_cookie(struct awg_device *dev, uint8_t *msg)
{
	const struct awg_msg_cookie *reply = (const struct awg_msg_cookie *)msg;
	struct awg_index_entry *e = awg_index_find(&dev->indices,
						   awg_le32_get(reply->receiver_index));

	if (!e) {
		drop(dev, AWG_DROP_INDEX);
		return -EBADMSG;
	}
	if (awg_cookie_consume_reply(&e->peer->cookie, reply, dev->env) < 0) {
		drop(dev, AWG_DROP_DECRYPT);
		return -EBADMSG;
	}
	return 0;
}

/*
 * The authenticated plaintext must be one IPv4/IPv6 packet (WireGuard trims padding by the IP
 * length) whose source address the peer is allowed to use. Returns the packet length or 0.
 */
static size_t ip_packet_len(const uint8_t *p, size_t len, int *family, const uint8_t **srcaddr)
{
	size_t total;

	if (len >= 20 && p[0] >> 4 == 4) {
		total = (size_t)p[2] << 8 | p[3];
		*family = AWG_AF_INET;
		*srcaddr = p + 12;
		return total >= 20 && total <= len ? total : 0;
	}
	if (len >= 40 && p[0] >> 4 == 6) {
		total = 40 + ((size_t)p[4] << 8 | p[5]);
		*family = AWG_AF_INET6;
		*srcaddr = p + 8;
		return total <= len ? total : 0;
	}
	return 0;
}

/* Counts why a transport message was refused before or after its decryption. */
static int transport_drop(struct awg_device *dev, int err)
{
	switch (err) {
	case -EALREADY:
		drop(dev, AWG_DROP_REPLAY);
		break;
	case -EKEYEXPIRED:
		drop(dev, AWG_DROP_EXPIRED);
		break;
	default:
		drop(dev, AWG_DROP_DECRYPT);
		break;
	}
	return -EBADMSG;
}

/* The keypair our receiver index names, or NULL (unknown index, or session gone). */
static struct awg_keypair *find_keypair(struct awg_device *dev, uint32_t index,
					struct awg_peer **peer)
{
	struct awg_index_entry *e = awg_index_find(&dev->indices, index);
	struct awg_keypair *kp = e ? awg_keypairs_find(&e->peer->keypairs, e->index) : NULL;

	*peer = kp ? e->peer : NULL;
	return kp;
}

/* First step of a transport message: which keypair, and may it still receive. */
static int transport_begin(struct awg_device *dev, uint8_t *msg, size_t msg_len,
			   const struct awg_udp_addr *src, struct awg_rx_job *job)
{
	struct awg_peer *peer;
	struct awg_keypair *kp = find_keypair(dev, awg_le32_get(msg + 4), &peer);
	int ret;

	if (!kp) {
		drop(dev, AWG_DROP_INDEX);
		return -EBADMSG;
	}
	ret = awg_keypair_open_check(kp, msg_len, now_ns(dev));
	if (ret < 0)
		return transport_drop(dev, ret);
	job->msg = msg;
	job->msg_len = msg_len;
	job->src = *src;
	job->index = kp->local_index;
	job->counter = awg_le64_get(msg + 8);
	memcpy(job->key, kp->receiving_key, sizeof(job->key));
	job->opened = false;
	return 1;
}

void awg_device_rx_open(struct awg_rx_job *job)
{
	uint8_t *payload = job->msg + AWG_MSG_DATA_HEADER_LEN;

	job->opened = awg_aead_decrypt(payload, payload, job->msg_len - AWG_MSG_DATA_HEADER_LEN,
				       NULL, 0, job->counter, job->key);
	awg_wipe(job->key, sizeof(job->key));
}

int awg_device_receive_finish(struct awg_device *dev, struct awg_rx_job *job)
{
	struct awg_keypair *kp;
	struct awg_peer *peer;
	const uint8_t *plain = job->msg + AWG_MSG_DATA_HEADER_LEN, *saddr;
	size_t plain_len = job->msg_len - AWG_MSG_DATA_HEADER_LEN - AWG_AUTHTAG_LEN, pkt_len;
	bool confirmed;
	int family, ret;

	dev->last_drop = AWG_DROP_NONE;
	awg_wipe(job->key, sizeof(job->key));
	if (!job->opened)
		return transport_drop(dev, -EBADMSG);
	/* The session may have gone while the message was being decrypted. */
	kp = find_keypair(dev, job->index, &peer);
	if (!kp) {
		drop(dev, AWG_DROP_INDEX);
		return -EBADMSG;
	}
	ret = awg_keypair_open_check(kp, job->msg_len, now_ns(dev));
	if (!ret)
		ret = awg_keypair_open_accept(kp, job->counter);
	if (ret < 0) {
		awg_wipe(job->msg + AWG_MSG_DATA_HEADER_LEN, plain_len);
		return transport_drop(dev, ret);
	}
	confirmed = awg_keypairs_received_with(&peer->keypairs, kp);
	peer->rx_bytes += job->msg_len;
	update_endpoint(peer, &job->src);
	if (confirmed) {
		/* We were the responder: the initiator's first message proves it has the keys. */
		awg_timers_handshake_complete(&peer->timers, dev->env);
		session_established(dev, peer);
	}
	keep_key_fresh_on_receive(dev, peer);
	authenticated_received(dev, peer);
	if (confirmed && peer->n_staged)
		flush_staged(dev, peer);
	if (awg_obfs_is_keepalive(plain, plain_len))
		return 0;
	awg_timers_data_received(&peer->timers, now_ns(dev), dev->env);
	pkt_len = ip_packet_len(plain, plain_len, &family, &saddr);
	if (!pkt_len) {
		drop(dev, AWG_DROP_PACKET);
		return -EBADMSG;
	}
	if (awg_allowedips_lookup(&dev->allowedips, family, saddr) != peer) {
		drop(dev, AWG_DROP_ROUTE);
		return -EBADMSG;
	}
	dev->ops->deliver(dev->ops_ctx, peer, plain, pkt_len);
	return 0;
}

int awg_device_receive_begin(struct awg_device *dev, uint8_t *dgram, size_t len,
			     const struct awg_udp_addr *src, struct awg_rx_job *job)
{
	struct awg_obfs_view v;

	dev->last_drop = AWG_DROP_NONE;
	if (awg_obfs_unwrap(dev->obfs, dgram, len, &v) < 0) {
		drop(dev, AWG_DROP_UNCLASSIFIED);
		return -EBADMSG;
	}
	switch (v.kind) {
	case AWG_KIND_INIT:
		return receive_initiation(dev, v.msg, src);
	case AWG_KIND_RESPONSE:
		return receive_response(dev, v.msg, src);
	case AWG_KIND_COOKIE:
		return receive_cookie(dev, v.msg);
	case AWG_KIND_TRANSPORT:
		return transport_begin(dev, v.msg, v.msg_len, src, job);
	default:
		break;
	}
	drop(dev, AWG_DROP_UNCLASSIFIED);
	return -EBADMSG;
}

int awg_device_receive(struct awg_device *dev, uint8_t *dgram, size_t len,
		       const struct awg_udp_addr *src)
{
	struct awg_rx_job job;
	int ret = awg_device_receive_begin(dev, dgram, len, src, &job);

	if (ret != 1)
		return ret;
	awg_device_rx_open(&job);
	return awg_device_receive_finish(dev, &job);
}

void awg_device_set_timing(struct awg_device *dev, const struct awg_timing_params *timing)
{
	/* The peers' timers borrow dev->timing, so they see the change at their next use. */
	dev->timing = *timing;
}

void awg_device_peer_set_keepalive(struct awg_device *dev, struct awg_peer *peer,
				   struct awg_range interval)
{
	peer->persistent_keepalive = interval;
	if (awg_timers_persistent_keepalive_changed(&peer->timers, interval) &&
	    peer->endpoint.family)
		send_keepalive(dev, peer);
}

struct awg_peer *awg_device_route(struct awg_device *dev, const uint8_t *packet, size_t len)
{
	if (len >= 20 && packet[0] >> 4 == 4)
		return awg_allowedips_lookup(&dev->allowedips, AWG_AF_INET, packet + 16);
	if (len >= 40 && packet[0] >> 4 == 6)
		return awg_allowedips_lookup(&dev->allowedips, AWG_AF_INET6, packet + 24);
	return NULL;
}

uint64_t awg_device_next_deadline(const struct awg_device *dev)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < dev->num_peers; i++) {
		uint64_t t = awg_timers_next_deadline(&dev->peers[i]->timers);

		if (t < next)
			next = t;
	}
	return next;
}

/* No new session for a long time: erase every key of the peer, and the indices naming them. */
static void zero_keys(struct awg_device *dev, struct awg_peer *peer)
{
	struct awg_keypairs *kps = &peer->keypairs;

	for (int i = 0; i < 3; i++)
		if (kps->slot[i].valid)
			awg_index_remove(&dev->indices, kps->slot[i].local_index);
	release_handshake_index(dev, peer);
	awg_keypairs_clear(kps);
	awg_noise_handshake_clear(&peer->handshake);
}

/*
 * Performs the actions of one peer's expired timers in the order timers.h prescribes.
 * AWG_TIMERS_CLEAR_ENDPOINT_SRC needs nothing here: the core keeps no local source address.
 */
static void expire_peer(struct awg_device *dev, struct awg_peer *peer, uint64_t now)
{
	unsigned actions = awg_timers_expire(&peer->timers, now, dev->env);

	if (actions & AWG_TIMERS_GIVE_UP)
		drop_staged(peer);
	if (actions & AWG_TIMERS_ZERO_KEYS)
		zero_keys(dev, peer);
	/* expire() already counted the retry or began the sequence: no handshake_begin. */
	if (actions & AWG_TIMERS_SEND_INITIATION)
		retry_initiation(dev, peer);
	if (actions & AWG_TIMERS_SEND_KEEPALIVE)
		send_keepalive(dev, peer);
}

void awg_device_expire_timers(struct awg_device *dev, uint64_t now_ns)
{
	for (size_t i = 0; i < dev->num_peers; i++)
		expire_peer(dev, dev->peers[i], now_ns);
}
