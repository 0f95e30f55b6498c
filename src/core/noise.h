/* SPDX-License-Identifier: MIT */
/*
 * The Noise_IKpsk2 handshake of WireGuard (spec §8.2, §8.3): the static identity, the per-peer
 * handshake state machine, creating and consuming initiations and responses, and deriving the
 * transport keypair.
 *
 * Byte 0..3 of every message (the type) and the mac1/mac2 fields are NOT written here: the
 * obfuscation layer stores a magic-header value in the type, then cookie.c adds the MACs over
 * it. Nothing here reads the type either; the receiver has classified the message already.
 *
 * Nothing here locks. The caller serialises calls that touch one handshake (the peer lock) and
 * must not change the identity while a handshake function runs.
 */
#ifndef _AWG_NOISE_H
#define _AWG_NOISE_H

#include <stdbool.h>
#include <stdint.h>

#include "env.h"
#include "keypair.h"
#include "messages.h"

struct awg_static_identity {
	uint8_t static_private[AWG_PRIVATE_KEY_LEN];
	uint8_t static_public[AWG_PUBLIC_KEY_LEN];
	/* Precomputed: C0 = HASH(construction), H0 = HASH(C0 || identifier). */
	uint8_t initial_chaining_key[AWG_HASH_LEN];
	uint8_t initial_hash[AWG_HASH_LEN];
	/* H0 mixed with our own public key: where every initiation to us starts. */
	uint8_t responder_hash[AWG_HASH_LEN];
	bool has_identity;
};

/*
 * ZEROED -> CREATED_INITIATION -> CONSUMED_RESPONSE -> (begin_session) ZEROED  (initiator)
 * ZEROED -> CONSUMED_INITIATION -> CREATED_RESPONSE -> (begin_session) ZEROED   (responder)
 * create_initiation and consume_initiation are accepted in any state: a retransmission or the
 * peer's own initiation simply restarts the handshake.
 */
enum awg_handshake_state {
	AWG_HANDSHAKE_ZEROED,
	AWG_HANDSHAKE_CREATED_INITIATION,
	AWG_HANDSHAKE_CONSUMED_INITIATION,
	AWG_HANDSHAKE_CREATED_RESPONSE,
	AWG_HANDSHAKE_CONSUMED_RESPONSE,
};

struct awg_handshake {
	/* Immutable after awg_noise_handshake_init() (precomputed_static_static: until the
	 * identity changes and awg_noise_handshake_precompute() runs again). */
	const struct awg_static_identity *static_identity;
	uint8_t remote_static[AWG_PUBLIC_KEY_LEN];
	uint8_t precomputed_static_static[AWG_SYMMETRIC_KEY_LEN];	/* DH(S_local, S_remote) */
	uint8_t preshared_key[AWG_SYMMETRIC_KEY_LEN];			/* all-zero: none */

	/* Kept across handshakes: replay and flood protection of consumed initiations. */
	uint8_t latest_timestamp[AWG_TIMESTAMP_LEN];
	uint64_t last_initiation_consumption_ns;
	bool consumed_any_initiation;

	/* The running handshake; wiped by begin_session and awg_noise_handshake_clear(). */
	enum awg_handshake_state state;
	uint8_t hash[AWG_HASH_LEN];
	uint8_t chaining_key[AWG_HASH_LEN];
	uint8_t ephemeral_private[AWG_PRIVATE_KEY_LEN];
	uint8_t remote_ephemeral[AWG_PUBLIC_KEY_LEN];
	uint32_t local_index;		/* our sender index for this handshake */
	uint32_t remote_index;		/* theirs */
};

/*
 * Sets the device identity from a private key (clamped here). An all-zero key means "no
 * identity": handshakes are then refused. Returns 0, or -EINVAL if X25519 fails.
 * After a change, call awg_noise_handshake_precompute() and awg_noise_handshake_clear() on
 * every peer (and recompute the cookie keys).
 */
int awg_noise_identity_init(struct awg_static_identity *id, const uint8_t private_key[32]);
void awg_noise_identity_wipe(struct awg_static_identity *id);

/*
 * Prepares the handshake of the peer with public key remote_static; psk may be NULL (none).
 * The identity must outlive the handshake.
 */
void awg_noise_handshake_init(struct awg_handshake *hs, const struct awg_static_identity *id,
			      const uint8_t remote_static[32], const uint8_t *psk);
/* Recomputes DH(S_local, S_remote); left all-zero (handshakes refused) if it fails. */
void awg_noise_handshake_precompute(struct awg_handshake *hs);
void awg_noise_handshake_set_psk(struct awg_handshake *hs, const uint8_t *psk);
/* Abandons a running handshake (state -> ZEROED); replay/flood memory is kept. */
void awg_noise_handshake_clear(struct awg_handshake *hs);
/* Wipes everything, including the static keys; the handshake must be re-initialised. */
void awg_noise_handshake_wipe(struct awg_handshake *hs);

/*
 * Initiator, step 1. Fills sender index (local_index, which the caller has reserved in its
 * index table), ephemeral, encrypted static and encrypted timestamp. Leaves msg->header and
 * msg->macs alone. Returns 0, or -EINVAL (no identity, or an invalid peer key).
 */
int awg_noise_create_initiation(struct awg_handshake *hs, struct awg_msg_initiation *msg,
				uint32_t local_index, const struct awg_env *env);

/*
 * Responder, step 1. msg is the 148-byte initiation exactly as received (after the MACs were
 * checked). Returns the peer's handshake, now CONSUMED_INITIATION with the sender index stored
 * as remote_index, or NULL: bad encryption, unknown peer, replayed timestamp (not strictly
 * newer than the last one consumed) or flood (less than 20 ms since the last one consumed).
 * On NULL no handshake was changed. lookup(lookup_ctx, s) returns the handshake of the peer
 * whose static public key is s, or NULL; it runs only after s decrypted (authenticated).
 */
struct awg_handshake *awg_noise_consume_initiation(const struct awg_msg_initiation *msg,
						   const struct awg_static_identity *id,
						   struct awg_handshake *(*lookup)(void *ctx,
						   const uint8_t remote_static[32]),
						   void *lookup_ctx,
						   const struct awg_env *env);

/*
 * Responder, step 2: hs must be CONSUMED_INITIATION. Fills sender index (local_index),
 * receiver index, ephemeral and the empty AEAD; leaves header and macs alone.
 * Returns 0, -EINVAL (wrong state) or -EBADMSG (a DH result was zero).
 */
int awg_noise_create_response(struct awg_handshake *hs, struct awg_msg_response *msg,
			      uint32_t local_index, const struct awg_env *env);

/*
 * Initiator, step 2. The caller finds hs by msg->receiver_index in its index table (this is
 * re-checked against hs->local_index). hs must be CREATED_INITIATION.
 * Returns 0 (hs is CONSUMED_RESPONSE), -EINVAL (wrong state or index) or -EBADMSG (does not
 * authenticate); on error hs is unchanged.
 */
int awg_noise_consume_response(struct awg_handshake *hs, const struct awg_msg_response *msg);

/*
 * Both sides, last step: hs must be CREATED_RESPONSE (responder) or CONSUMED_RESPONSE
 * (initiator). Derives (T_send, T_recv) into *kp, which takes over hs->local_index and
 * hs->remote_index, is born now_ns and dies at age reject_after_ns (0: REJECT_AFTER_TIME).
 * Then zeroes the running handshake. The caller installs kp with awg_keypairs_add() and moves
 * its index-table entry for local_index from the handshake to the keypair.
 * Returns 0 or -EINVAL (wrong state; kp is left wiped).
 */
int awg_noise_begin_session(struct awg_handshake *hs, struct awg_keypair *kp, uint64_t now_ns,
			    uint64_t reject_after_ns);

/* TAI64N of wall_ns (ns since the Unix epoch), nanoseconds rounded down to 2^24 ns. */
void awg_noise_tai64n(uint8_t out[AWG_TIMESTAMP_LEN], uint64_t wall_ns);

#endif /* _AWG_NOISE_H */
