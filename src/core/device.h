/* SPDX-License-Identifier: MIT */
/*
 * The protocol state of one AmneziaWG interface, without I/O: identity, peers, receiver
 * indices, cryptokey routing, and the two paths that tie the core modules together —
 * "send" (handshake messages with their decoys, transport packets) and "receive" (classify a
 * datagram, run the handshake or decrypt it). Datagrams leave and plaintext packets arrive
 * through callbacks, so the same code serves the engine (real sockets, TUN) and in-process
 * tests (two devices wired back to back).
 *
 * Nothing here locks: the owner serialises every call on one device.
 */
#ifndef _AWG_DEVICE_H
#define _AWG_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allowedips.h"
#include "cookie.h"
#include "env.h"
#include "index.h"
#include "keypair.h"
#include "noise.h"
#include "obfs.h"
#include "ratelimiter.h"
#include "timers.h"

/* A UDP endpoint as plain data (src/core has no socket headers). */
struct awg_udp_addr {
	uint16_t family;	/* AWG_AF_INET or AWG_AF_INET6; 0 = none */
	uint16_t port;		/* host order */
	uint8_t addr[16];	/* network order; IPv4 uses the first 4 bytes */
};

struct awg_device;

/* WireGuard's MAX_STAGED_PACKETS: packets kept per peer while a handshake is in flight. */
#define AWG_DEVICE_MAX_STAGED 128

struct awg_staged_packet {
	uint8_t *data;		/* owned */
	size_t len;
};

struct awg_peer {
	struct awg_device *dev;
	uint8_t public_key[AWG_PUBLIC_KEY_LEN];
	struct awg_handshake handshake;
	struct awg_cookie cookie;
	struct awg_keypairs keypairs;
	struct awg_udp_addr endpoint;
	/* Per-peer "UDP window" of RandomTrailers (spec §4.8): largest datagram sent lately. */
	size_t udp_window;
	uint64_t last_handshake_wall_ns;	/* 0 = never */
	uint64_t rx_bytes, tx_bytes;
	struct awg_timers timers;		/* reads dev->timing */
	struct awg_range persistent_keepalive;	/* seconds; {0,0} = off */
	/* IP packets waiting for a session, oldest first; bounded by AWG_DEVICE_MAX_STAGED. */
	struct awg_staged_packet *staged;
	unsigned n_staged;
	void *user;				/* for the owner */
};

/* What the device asks of its owner. Every callback is required. */
/*
 * A transport payload the owner encrypts itself (awg_device_ops.send_unsealed): the bytes
 * dgram[off, off + len) are plaintext, to become ciphertext with the tag in the AWG_AUTHTAG_LEN
 * bytes after them: awg_aead_encrypt(p, p, len, NULL, 0, counter, key) with p = dgram + off.
 * key is borrowed from the keypair and valid only during the callback: copy it.
 */
struct awg_seal {
	const uint8_t *key;
	uint64_t counter;
	size_t off;
	size_t len;
};

struct awg_device_ops {
	/* Send one UDP datagram to dst. Errors are the owner's business (UDP may drop). */
	void (*send)(void *ctx, struct awg_peer *peer, const struct awg_udp_addr *dst,
		     const uint8_t *dgram, size_t len);
	/*
	 * Optional, for owners that encrypt outside their lock or on other cores. When set,
	 * transport datagrams come here instead of to send, complete but for the payload
	 * encryption (header, counter, prefix and header protection done). The owner must apply
	 * seal before the datagram leaves, and send datagrams in the order they came.
	 */
	void (*send_unsealed)(void *ctx, struct awg_peer *peer, const struct awg_udp_addr *dst,
			      const uint8_t *dgram, size_t len, const struct awg_seal *seal);
	/*
	 * Optional, with send_unsealed: where to build the next transport datagram to dst (at
	 * least *cap bytes), so that it needs no copy; the send_unsealed call that follows passes
	 * the same pointer. NULL (or a *cap too small) builds it in the device's own buffer.
	 */
	uint8_t *(*tx_buf)(void *ctx, struct awg_peer *peer, const struct awg_udp_addr *dst,
			   size_t *cap);
	/* An authenticated IP packet from peer for the TUN device. */
	void (*deliver)(void *ctx, struct awg_peer *peer, const uint8_t *packet, size_t len);
	/* Optional: a session was established with peer (handshake complete). */
	void (*session)(void *ctx, struct awg_peer *peer);
};

/* Why awg_device_receive dropped a datagram; for counters and tests, never sent anywhere. */
enum awg_device_drop {
	AWG_DROP_NONE = 0,
	AWG_DROP_UNCLASSIFIED,	/* junk, decoys, garbage: no kind matched */
	AWG_DROP_MAC,		/* handshake with a bad mac1 */
	AWG_DROP_COOKIE_SENT,	/* under load without a valid mac2: answered with a cookie */
	AWG_DROP_RATELIMIT,	/* under load, source over its rate */
	AWG_DROP_HANDSHAKE,	/* did not authenticate, replayed, flooded, or wrong state */
	AWG_DROP_INDEX,		/* unknown receiver index */
	AWG_DROP_DECRYPT,	/* transport did not authenticate */
	AWG_DROP_REPLAY,	/* authentic transport counter seen before */
	AWG_DROP_EXPIRED,	/* keypair too old */
	AWG_DROP_PACKET,	/* decrypted, but not a valid IP packet */
	AWG_DROP_ROUTE,		/* source address not in the peer's allowed IPs */
	AWG_DROP_NOMEM,
	AWG_DROP_COUNT,
};

/* A short lower-case description of a drop reason, for logs. */
const char *awg_device_drop_name(enum awg_device_drop why);

/* Without an owner's queue: more than this many handshake messages per window is "load". */
#define AWG_DEVICE_HS_WINDOW_NS UINT64_C(125000000)
#define AWG_DEVICE_HS_PER_WINDOW 128

/* Largest datagram handled: a full UDP payload plus room for a trailer. */
#define AWG_DEVICE_MAX_DATAGRAM 65535
/* Sources tracked by the handshake rate limiter; new ones are refused when it is full. */
#define AWG_DEVICE_RATELIMIT_ENTRIES 8192

struct awg_device {
	const struct awg_env *env;
	const struct awg_device_ops *ops;
	void *ops_ctx;
	struct awg_static_identity identity;
	struct awg_cookie_checker cookie_checker;
	struct awg_cookie_load load;
	struct awg_ratelimiter ratelimiter;	/* handshakes per source while under load */
	size_t handshake_queue_len, handshake_queue_cap;	/* set by the owner; cap 0: none */
	uint64_t hs_window_start_ns;		/* without a queue: the load-estimate window */
	unsigned hs_in_window;
	struct awg_obfs *obfs;			/* owned */
	struct awg_index_table indices;
	struct awg_allowedips allowedips;
	struct awg_peer **peers;		/* owned */
	size_t num_peers, peers_cap;
	unsigned mtu;				/* tunnel MTU for padding caps; 0 = unknown */
	struct awg_timing_params timing;	/* AWG 3.0 overrides; zero = WireGuard defaults */
	uint8_t buf[AWG_DEVICE_MAX_DATAGRAM];	/* scratch for building datagrams */
	enum awg_device_drop last_drop;
	uint64_t drops;				/* all drops */
	uint64_t drops_by[AWG_DROP_COUNT];	/* per reason */
};

/*
 * Creates a device with plain-WireGuard framing and no identity. env and ops must outlive it.
 * Returns 0 and an owned *out (free with awg_device_free), or -ENOMEM.
 */
int awg_device_new(const struct awg_env *env, const struct awg_device_ops *ops, void *ops_ctx,
		   struct awg_device **out);
void awg_device_free(struct awg_device *dev);

/* Sets (or with NULL / all-zero, removes) the private key; resets every handshake. */
int awg_device_set_private_key(struct awg_device *dev, const uint8_t *private_key);
/* Replaces the framing; takes ownership of obfs (also on error). */
void awg_device_set_obfs(struct awg_device *dev, struct awg_obfs *obfs);

/* Adds a peer (psk may be NULL). Returns 0 and the borrowed peer, -EEXIST, -EINVAL, -ENOMEM. */
int awg_device_peer_add(struct awg_device *dev, const uint8_t public_key[AWG_PUBLIC_KEY_LEN],
			const uint8_t *psk, struct awg_peer **out);
struct awg_peer *awg_device_peer_find(struct awg_device *dev,
				      const uint8_t public_key[AWG_PUBLIC_KEY_LEN]);
/* Removes the peer, its sessions, indices and allowed IPs, and wipes its keys. */
void awg_device_peer_remove(struct awg_device *dev, struct awg_peer *peer);
int awg_device_peer_allow(struct awg_device *dev, struct awg_peer *peer, int family,
			  const uint8_t *addr, uint8_t cidr);

/*
 * Starts (or retransmits) a handshake with peer: sends the decoys (I1..I5, then junk), then the
 * initiation. Returns 0, -EDESTADDRREQ (no endpoint), -ENOKEY (no identity) or -EINVAL.
 */
int awg_device_send_initiation(struct awg_device *dev, struct awg_peer *peer);
/*
 * Encrypts one IP packet (len 0 = keepalive) to peer with the current keypair, now, bypassing
 * the staging queue, and reports the send timer events (and a rekey if the keys are old).
 * Returns 0, -ENOKEY (no usable session: nothing is sent or staged), -EDESTADDRREQ or
 * -EMSGSIZE. The engine normally wants awg_device_send_packet().
 */
int awg_device_send_data(struct awg_device *dev, struct awg_peer *peer, const uint8_t *packet,
			 size_t len);

/* Sets the AWG 3.0 timing overrides (spec §4.10); they apply to the next timer armed. */
void awg_device_set_timing(struct awg_device *dev, const struct awg_timing_params *timing);
/*
 * Sets the persistent keepalive range of peer ({0,0} = off). Turning it on from off sends a
 * keepalive at once (as WireGuard does) when a session or endpoint allows it.
 */
void awg_device_peer_set_keepalive(struct awg_device *dev, struct awg_peer *peer,
				   struct awg_range interval);
/*
 * Cryptokey routing for an outgoing IP packet: the peer whose allowed IPs contain the packet's
 * destination address, or NULL (not IPv4/IPv6, too short, or no peer).
 */
struct awg_peer *awg_device_route(struct awg_device *dev, const uint8_t *packet, size_t len);
/*
 * Sends an IP packet read from the TUN to peer: encrypts it now when a session is usable, else
 * stages a copy (dropping the oldest beyond AWG_DEVICE_MAX_STAGED) and starts a handshake.
 * Staged packets are flushed, in order, when a session is established. Also reports the
 * "data sent" timer events. Returns 0 (sent or staged), -EDESTADDRREQ (no endpoint), -EMSGSIZE,
 * -ENOKEY (no session and no private key: nothing staged) or -ENOMEM.
 */
int awg_device_send_packet(struct awg_device *dev, struct awg_peer *peer, const uint8_t *packet,
			   size_t len);
/* The earliest timer deadline over all peers (monotonic ns), or UINT64_MAX when none is armed. */
uint64_t awg_device_next_deadline(const struct awg_device *dev);
/*
 * Runs every peer's expired timers at now_ns (the env's monotonic clock) and performs their
 * actions: retransmit or start handshakes, send keepalives, drop staged packets after giving up,
 * erase old keys. Call it at or after awg_device_next_deadline(); every call on the device
 * may move that deadline, so ask for it again after each.
 */
void awg_device_expire_timers(struct awg_device *dev, uint64_t now_ns);

/*
 * Processes one received datagram from src; dgram is modified in place. Returns 0 when it was
 * used, or -EBADMSG after a drop (the reason is in dev->last_drop).
 */
int awg_device_receive(struct awg_device *dev, uint8_t *dgram, size_t len,
		       const struct awg_udp_addr *src);

/*
 * awg_device_receive in three steps, so that the decryption of transport messages can run
 * without the owner's lock and on other cores:
 *   awg_device_receive_begin (device access): handshakes, cookies and drops are done at once
 *     (returns 0 or -EBADMSG, like awg_device_receive); a transport message that may be
 *     authentic fills *job and returns 1.
 *   awg_device_rx_open (no device access, any thread): decrypts in place, wipes job->key.
 *   awg_device_receive_finish (device access): the replay window, timers, roaming, routing
 *     check and delivery; returns 0 or -EBADMSG. The keypair is looked up again by index, so
 *     a session replaced or a peer removed in between only drops the packet.
 * Jobs of one peer must be finished in the order they were begun. dgram must stay in place
 * until the job is finished.
 */
struct awg_rx_job {
	uint8_t *msg;			/* the transport message inside the datagram */
	size_t msg_len;
	struct awg_udp_addr src;
	uint32_t index;			/* our receiver index from the header */
	uint64_t counter;
	uint8_t key[AWG_SYMMETRIC_KEY_LEN];	/* a copy; wiped by awg_device_rx_open */
	bool opened;			/* authentic (set by awg_device_rx_open) */
};

int awg_device_receive_begin(struct awg_device *dev, uint8_t *dgram, size_t len,
			     const struct awg_udp_addr *src, struct awg_rx_job *job);
void awg_device_rx_open(struct awg_rx_job *job);
int awg_device_receive_finish(struct awg_device *dev, struct awg_rx_job *job);

#endif /* _AWG_DEVICE_H */
