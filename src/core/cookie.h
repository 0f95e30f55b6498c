/* SPDX-License-Identifier: MIT */
/*
 * The WireGuard MAC and cookie layer (spec §4.6): mac1/mac2 on handshake messages, the
 * responder's cookie checker and cookie replies, the initiator's per-peer cookie, and the
 * "under load" detector that decides when cookies are demanded.
 *
 * MACs cover the message exactly as it is on the wire before header protection: bytes 0..3
 * hold the AWG magic-header value, so the type must be written BEFORE awg_cookie_add_macs()
 * and must not be rewritten before awg_cookie_validate(). No function here reads or writes the
 * type bytes.
 *
 * Nothing here locks; the caller serialises access to each struct.
 */
#ifndef _AWG_COOKIE_H
#define _AWG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "messages.h"

/* Responder side: one per device, keyed by the device's own public key. */
struct awg_cookie_checker {
	uint8_t secret[AWG_HASH_LEN];		/* cookie = MAC(secret, source address) */
	uint64_t secret_birth_ns;
	bool has_secret;			/* drawn lazily, at the first cookie needed */
	uint8_t cookie_encryption_key[AWG_SYMMETRIC_KEY_LEN];
	uint8_t message_mac1_key[AWG_SYMMETRIC_KEY_LEN];
};

/* Initiator side: one per peer, keyed by the peer's public key. */
struct awg_cookie {
	uint8_t cookie[AWG_COOKIE_LEN];		/* the latest cookie the peer sent us */
	uint64_t birth_ns;
	bool is_valid;
	uint8_t last_mac1_sent[AWG_COOKIE_LEN];	/* AD the peer's cookie reply must carry */
	bool have_sent_mac1;
	uint8_t cookie_decryption_key[AWG_SYMMETRIC_KEY_LEN];
	uint8_t message_mac1_key[AWG_SYMMETRIC_KEY_LEN];
};

enum awg_cookie_mac_state {
	AWG_COOKIE_INVALID_MAC,
	AWG_COOKIE_VALID_MAC_BUT_NO_COOKIE,
	AWG_COOKIE_VALID_MAC_WITH_COOKIE,
};

/* Tracks whether the handshake queue is congested; sticky for AWG_COOKIE_LOAD_STICKY_NS. */
struct awg_cookie_load {
	uint64_t last_under_load_ns;
	bool ever_under_load;
};

#define AWG_COOKIE_LOAD_STICKY_NS UINT64_C(1000000000)

/*
 * own_public NULL (no identity): the keys are zeroed and every mac1 fails. Call again when
 * the private key changes.
 */
void awg_cookie_checker_init(struct awg_cookie_checker *checker, const uint8_t *own_public);
void awg_cookie_checker_wipe(struct awg_cookie_checker *checker);

/*
 * Checks mac1 of a handshake message (initiation or response, msg_len its fixed size), and
 * mac2 if check_cookie (i.e. when under load). src/src_len: the datagram's source address in
 * any stable encoding (the cookie is only ever checked by us).
 */
enum awg_cookie_mac_state awg_cookie_validate(struct awg_cookie_checker *checker,
					      const uint8_t *msg, size_t msg_len,
					      const uint8_t *src, size_t src_len, bool check_cookie,
					      const struct awg_env *env);

/*
 * Builds the cookie reply to a handshake message that was not accepted for lack of a cookie:
 * receiver index = the message's sender index (bytes 4..7), a random nonce, and the cookie for
 * src encrypted with AD = the message's mac1. reply->header is left for the obfuscation layer.
 * Returns 0, or -EINVAL if msg_len is too short to carry a sender index and macs.
 */
int awg_cookie_create_reply(struct awg_cookie_checker *checker, struct awg_msg_cookie *reply,
			    const uint8_t *msg, size_t msg_len, const uint8_t *src, size_t src_len,
			    const struct awg_env *env);

void awg_cookie_init(struct awg_cookie *cookie, const uint8_t peer_public[32]);
void awg_cookie_wipe(struct awg_cookie *cookie);

/*
 * Fills the mac1 and mac2 fields at the end of a handshake message of msg_len bytes whose type
 * is already written. mac2 is set only while we hold a cookie younger than 120 s, else zeroed.
 */
void awg_cookie_add_macs(struct awg_cookie *cookie, uint8_t *msg, size_t msg_len,
			 const struct awg_env *env);

/*
 * Takes in a cookie reply from the peer (the caller found the peer by reply->receiver_index).
 * Returns 0, -EINVAL (we have no mac1 outstanding) or -EBADMSG (does not decrypt). Each mac1
 * answers at most one reply.
 */
int awg_cookie_consume_reply(struct awg_cookie *cookie, const struct awg_msg_cookie *reply,
			     const struct awg_env *env);

/*
 * Reports whether we are under load: queue_len >= queue_cap / 8 now (never when queue_cap is
 * 0), or was within the last second. Call once per received handshake message, before awg_cookie_validate().
 */
bool awg_cookie_load_update(struct awg_cookie_load *load, size_t queue_len, size_t queue_cap,
			    uint64_t now_ns);

#endif /* _AWG_COOKIE_H */
