/* SPDX-License-Identifier: MIT */
/*
 * Transport keypairs of one peer: the keys a finished handshake yields, their send counter and
 * receive replay window, transport seal/open, and the current/previous/next rotation.
 *
 * Nothing here locks. The caller serialises all calls on one struct awg_keypairs (and on the
 * keypairs in it) under its peer lock.
 */
#ifndef _AWG_KEYPAIR_H
#define _AWG_KEYPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counter.h"
#include "messages.h"

#define AWG_NSEC_PER_SEC UINT64_C(1000000000)

struct awg_keypair {
	uint8_t sending_key[AWG_SYMMETRIC_KEY_LEN];
	uint8_t receiving_key[AWG_SYMMETRIC_KEY_LEN];
	uint64_t sending_counter;		/* next counter to use */
	struct awg_counter receiving_counter;
	uint64_t birth_ns;			/* monotonic time the keys were derived */
	uint64_t reject_after_ns;		/* age at which the keys die (REJECT_AFTER_TIME) */
	uint32_t local_index;			/* receiver index peers put in packets to us */
	uint32_t remote_index;			/* receiver index we put in packets to them */
	bool is_initiator;
	bool sending_valid;			/* cleared by awg_keypairs_expire_current() */
	bool valid;				/* holds keys at all; false once wiped */
};

/*
 * The three keypair roles of WireGuard. current/previous/next point into slot[] (or are NULL),
 * so the struct must not be copied or moved after awg_keypairs_init(). A pointer obtained from
 * it stays valid until the next awg_keypairs_add(), _received_with() or _clear().
 */
struct awg_keypairs {
	struct awg_keypair *current;
	struct awg_keypair *previous;
	struct awg_keypair *next;
	struct awg_keypair slot[3];
};

/* Age limit applied when awg_noise_begin_session() is given 0: REJECT_AFTER_TIME. */
#define AWG_REJECT_AFTER_NS ((uint64_t)AWG_REJECT_AFTER_TIME * AWG_NSEC_PER_SEC)
#define AWG_REKEY_AFTER_NS ((uint64_t)AWG_REKEY_AFTER_TIME * AWG_NSEC_PER_SEC)
/* WireGuard's initiator rekey-on-receive age: REJECT - KEEPALIVE - REKEY_TIMEOUT = 165 s. */
#define AWG_REKEY_ON_RECEIVE_NS                                                                \
	((uint64_t)(AWG_REJECT_AFTER_TIME - AWG_KEEPALIVE_TIMEOUT - AWG_REKEY_TIMEOUT) *       \
	 AWG_NSEC_PER_SEC)

/* Wipes the keys and marks the keypair unusable. */
void awg_keypair_wipe(struct awg_keypair *kp);

/*
 * The sending half of a seal without the cipher: reserves the next counter and writes the
 * receiver index and the counter into msg's header (bytes 0..3, the type, are left for the
 * obfuscation layer). The caller then encrypts the payload with kp->sending_key and *counter
 * (awg_aead_encrypt), possibly later and on another thread with a copy of the key.
 * Returns 0, or -EKEYEXPIRED if the keypair is too old, exhausted or not valid for sending.
 */
int awg_keypair_reserve(struct awg_keypair *kp, uint8_t *msg, uint64_t now_ns, uint64_t *counter);

/*
 * Encrypts one transport message in place (awg_keypair_reserve, then the cipher).
 * msg: AWG_MSG_DATA_HEADER_LEN header bytes, then padded_len plaintext bytes, then
 * AWG_AUTHTAG_LEN spare bytes that receive the tag. Returns what awg_keypair_reserve returns.
 */
int awg_keypair_seal(struct awg_keypair *kp, uint8_t *msg, size_t padded_len, uint64_t now_ns,
		     uint64_t *counter_out);

/*
 * The receiving halves, around a decryption that may run elsewhere: _check before it (length
 * and age: -EINVAL, -EKEYEXPIRED or 0), _accept after an authentic one (the replay window:
 * -EALREADY for a counter seen before or too old, else 0). The window moves only for authentic
 * packets, otherwise anyone could push it forward and make us drop the real ones.
 */
int awg_keypair_open_check(const struct awg_keypair *kp, size_t msg_len, uint64_t now_ns);
int awg_keypair_open_accept(struct awg_keypair *kp, uint64_t counter);

/*
 * Decrypts one transport message in place: msg_len >= AWG_MSG_DATA_MIN_LEN bytes, header then
 * ciphertext and tag. The receiver index is not checked: the caller found kp by it. On success
 * the plaintext is at msg + AWG_MSG_DATA_HEADER_LEN and *plain_len is its length.
 * Returns 0, -EINVAL (too short), -EKEYEXPIRED, -EBADMSG (authentication failed; the
 * plaintext area is wiped) or -EALREADY (authentic but replayed or too old a counter).
 */
int awg_keypair_open(struct awg_keypair *kp, uint8_t *msg, size_t msg_len, uint64_t now_ns,
		     size_t *plain_len);

static inline uint64_t awg_keypair_age_ns(const struct awg_keypair *kp, uint64_t now_ns)
{
	return now_ns >= kp->birth_ns ? now_ns - kp->birth_ns : 0;
}

/* True once the keypair may no longer send or receive (age >= its reject_after_ns). */
static inline bool awg_keypair_expired(const struct awg_keypair *kp, uint64_t now_ns)
{
	return awg_keypair_age_ns(kp, now_ns) >= kp->reject_after_ns;
}

/*
 * After sending with kp: start a new handshake if we initiated it and it is older than
 * rekey_after_ns (REKEY_AFTER_TIME or the AWG 3.0 pick), or it has sent too many messages.
 */
static inline bool awg_keypair_should_rekey_on_send(const struct awg_keypair *kp,
						    uint64_t now_ns, uint64_t rekey_after_ns)
{
	return kp && kp->valid &&
	       (kp->sending_counter > AWG_REKEY_AFTER_MESSAGES ||
		(kp->is_initiator && awg_keypair_age_ns(kp, now_ns) >= rekey_after_ns));
}

/*
 * After receiving with the current keypair: the initiator rehandshakes when the keys are close
 * to dying (AWG_REKEY_ON_RECEIVE_NS by default), so the responder is never left unable to send.
 */
static inline bool awg_keypair_should_rekey_on_receive(const struct awg_keypair *kp,
						       uint64_t now_ns, uint64_t threshold_ns)
{
	return kp && kp->valid && kp->is_initiator &&
	       awg_keypair_age_ns(kp, now_ns) >= threshold_ns;
}

void awg_keypairs_init(struct awg_keypairs *kps);
/* Wipes every keypair (the zero-key-material timer, peer removal). */
void awg_keypairs_clear(struct awg_keypairs *kps);

/*
 * Installs a keypair that awg_noise_begin_session() derived into *kp (a local, never a pointer
 * into kps), and wipes *kp. Returns the installed copy. Keypairs this drops are wiped; the
 * caller drops their local_index from its index table (compare before/after). Rotation:
 *  - initiator: the new keypair becomes current at once (the peer has proven it holds the keys
 *    by answering). Old current becomes previous, unless a next was waiting: then that next
 *    becomes previous, and old current and old previous are dropped.
 *  - responder: the new keypair becomes next, and must not send until the initiator has used
 *    it (awg_keypairs_received_with()). Old next and old previous are dropped.
 */
struct awg_keypair *awg_keypairs_add(struct awg_keypairs *kps, struct awg_keypair *kp);

/*
 * Call after a packet authenticated with kp. If kp was next, it is confirmed: previous is
 * dropped, current becomes previous and kp becomes current; returns true (the caller then
 * completes the handshake timers and flushes staged packets). Otherwise returns false.
 */
bool awg_keypairs_received_with(struct awg_keypairs *kps, struct awg_keypair *kp);

/* The live keypair whose local_index is idx, or NULL. */
struct awg_keypair *awg_keypairs_find(struct awg_keypairs *kps, uint32_t local_index);

/* Stops current and next from sending (e.g. the private key changed); receiving still works. */
void awg_keypairs_expire_current(struct awg_keypairs *kps);

#endif /* _AWG_KEYPAIR_H */
