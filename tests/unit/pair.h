/* SPDX-License-Identifier: MIT */
/*
 * Two in-process devices wired back to back, for the unit tests and the device fuzzer: each
 * node's sends land in the other's inbox, and the test decides when they are received.
 * Independent of the check harness, so fuzzers link it alone.
 */
#ifndef _AWG_TEST_PAIR_H
#define _AWG_TEST_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"

enum {
	PAIR_INBOX_MAX = 512,		/* datagrams in flight to one node */
	PAIR_LOG_MAX = 4096,		/* sends and deliveries a node remembers */
	PAIR_LAST_MAX = 4096,		/* bytes of the last delivered packet kept */
};

/* One datagram in flight; data is owned (malloc), src is the sender's endpoint. */
struct pair_dgram {
	uint8_t *data;
	size_t len;
	struct awg_udp_addr src;
};

/* One datagram a node sent: when, its first LE32 (the type in plain framing) and its size. */
struct pair_sent {
	uint64_t t;
	uint32_t type;
	size_t len;
};

struct pair_node {
	struct awg_device *dev;		/* owned; pair_teardown() frees it */
	struct awg_udp_addr ep;
	struct pair_node *other;
	struct awg_peer *peer;		/* the other node, as seen from here */
	const struct awg_env *env;
	/* Reports one check (test_check() fits) and returns ok; NULL: a failed check aborts. */
	bool (*check)(bool ok, const char *expr, const char *file, int line);
	/* Moves env's clocks forward by ns; only pair_run_until() needs it. */
	void (*advance)(const struct awg_env *env, uint64_t ns);
	bool deaf;			/* datagrams sent to this node are lost */
	bool inbox_lossy;		/* a full inbox drops (as UDP may) instead of aborting */
	size_t inbox_cap;
	struct pair_dgram inbox[PAIR_INBOX_MAX];
	size_t inbox_len;
	struct pair_sent sent[PAIR_LOG_MAX];
	unsigned n_sent;		/* entries in sent, at most PAIR_LOG_MAX */
	unsigned delivered[PAIR_LOG_MAX];	/* packet ids (bytes 20..21; 0 if shorter) */
	unsigned n_delivered;		/* every delivery, also beyond the log */
	uint8_t last_delivered[PAIR_LAST_MAX];
	size_t last_delivered_len;
	unsigned sessions;
};

/* The device ops behind the nodes (ctx is the node); a fuzzer may wrap them with oracles. */
void pair_send(void *ctx, struct awg_peer *peer, const struct awg_udp_addr *dst,
	       const uint8_t *data, size_t len);
void pair_deliver(void *ctx, struct awg_peer *peer, const uint8_t *pkt, size_t len);
void pair_session(void *ctx, struct awg_peer *peer);
extern const struct awg_device_ops pair_ops;

/* Takes the oldest (or newest) datagram out of n's inbox; the caller frees data. */
struct pair_dgram pair_pop(struct pair_node *n);
struct pair_dgram pair_pop_last(struct pair_node *n);
void pair_drain(struct pair_node *n);
/* Hands the oldest datagram in n's inbox to n's device; returns its verdict. */
int pair_deliver_one(struct pair_node *n);
/* Delivers until both inboxes are empty, a's first; counts drops per node (either may be NULL). */
void pair_pump(struct pair_node *a, struct pair_node *b, unsigned *drops_a, unsigned *drops_b);
/*
 * Runs both devices up to `until` the way an event loop would: sleep to the earliest deadline
 * (through a->advance), expire, deliver whatever that sent, repeat.
 */
void pair_run_until(struct pair_node *a, struct pair_node *b, uint64_t until);

void pair_endpoint_v4(struct awg_udp_addr *ep, uint8_t last, uint16_t port);
/* A full AWG 3.1 parameter set (spec §7.4 shape), and its I1 (a DNS-looking decoy). */
void pair_params_31(struct awg_obfs_params *p);
extern const char *const pair_ispecs_31[AWG_ISPEC_SLOTS];

/* An IPv4/UDP packet from 10.0.0.src to 10.0.0.dst with len - 20 payload bytes seed + i. */
size_t pair_ipv4_packet(uint8_t *buf, size_t len, uint8_t src, uint8_t dst, uint8_t seed);
/* The same with a zero payload carrying id in bytes 20..21 (what `delivered` records). */
size_t pair_id_packet(uint8_t *buf, size_t len, uint8_t src, uint8_t dst, unsigned id);

struct pair_opts {
	const struct awg_env *env;	/* required: clocks, and randomness for the identities */
	const struct awg_device_ops *ops;	/* NULL: pair_ops */
	bool (*check)(bool ok, const char *expr, const char *file, int line);	/* as in the node */
	void (*advance)(const struct awg_env *env, uint64_t ns);
	const uint8_t *private_keys[2];	/* a's and b's; NULL: drawn from env */
	bool psk;			/* draw a preshared key from env for both */
	const struct awg_obfs_params *obfs;	/* NULL: plain WireGuard framing */
	const char *const *ispecs;	/* with obfs; may be NULL */
	const struct awg_timing_params *timing;	/* NULL: WireGuard defaults */
	size_t handshake_queue_cap;	/* 0: no owner queue (the device estimates load) */
	size_t inbox_cap;		/* 0: PAIR_INBOX_MAX, overflow aborts; else it drops */
};

/*
 * a and b with fresh identities, peered, allowed 10.0.0.1/32 (a) and 10.0.0.2/32 (b), endpoints
 * 127.0.0.1:51001 and 127.0.0.2:51002, MTU 1420; only a knows b's endpoint. Every step is
 * reported through opts->check. Returns 0, or the first failing step's -errno (after freeing
 * what it made).
 */
int pair_setup(struct pair_node *a, struct pair_node *b, const struct pair_opts *opts);
/* Drops whatever is in flight and frees both devices. */
void pair_teardown(struct pair_node *a, struct pair_node *b);

#endif /* _AWG_TEST_PAIR_H */
