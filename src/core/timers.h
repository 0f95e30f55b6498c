/* SPDX-License-Identifier: MIT */
/*
 * Per-peer protocol timers (spec §8.1, with the AWG 3.0 overrides of §4.10) as a pure event API.
 *
 * The engine reports what happened (events below), asks awg_timers_next_deadline() when to wake
 * up, and calls awg_timers_expire() at or after that time; expire() decides and returns the
 * actions to perform. Nothing here sends packets, reads a clock or sleeps. Not thread-safe: the
 * engine serialises all calls for one peer.
 *
 * Timing overrides are read from a borrowed struct awg_timing_params at every use, so a UAPI
 * change applies to the next timer armed. A zero range means the WireGuard default; for a range
 * pick() is a fresh uniform draw, LO/HI its bounds (see the table in spec §4.10).
 */
#ifndef _AWG_TIMERS_H
#define _AWG_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "env.h"
#include "params.h"

enum awg_timer_id {
	/* No response to our initiation: pick(rekey_timeout) + jitter after sending it. */
	AWG_TIMER_RETRANSMIT_HANDSHAKE,
	/* Data received and nothing sent back: pick(keepalive_timeout) after receiving. */
	AWG_TIMER_SEND_KEEPALIVE,
	/* Data sent, nothing heard back: HI(keepalive_timeout) + pick(rekey_timeout) + jitter. */
	AWG_TIMER_NEW_HANDSHAKE,
	/* No new session for 3 * HI(reject_after_time): erase all key material. */
	AWG_TIMER_ZERO_KEY_MATERIAL,
	/* pick(persistent keepalive range) after any authenticated packet crossed the tunnel. */
	AWG_TIMER_PERSISTENT_KEEPALIVE,
	AWG_TIMER_COUNT,
};

/*
 * Actions returned by awg_timers_expire(). The engine performs them in ascending bit order;
 * several may be set at once when a wake-up was late.
 */
enum awg_timers_action {
	/* The handshake gave up (max attempts): drop the packets staged for this peer. */
	AWG_TIMERS_GIVE_UP = 1u << 0,
	/* Erase all keypairs and the in-progress handshake of this peer. */
	AWG_TIMERS_ZERO_KEYS = 1u << 1,
	/* Forget the cached local source address of the endpoint; it may be the problem. */
	AWG_TIMERS_CLEAR_ENDPOINT_SRC = 1u << 2,
	/*
	 * Send a handshake initiation, subject to awg_timers_initiation_allowed(), then call
	 * awg_timers_handshake_initiated(). Do NOT call awg_timers_handshake_begin() for it:
	 * expire() has already counted the retry (or started a new sequence).
	 */
	AWG_TIMERS_SEND_INITIATION = 1u << 3,
	/* Send a keepalive (an empty transport message; with no session, that starts one). */
	AWG_TIMERS_SEND_KEEPALIVE = 1u << 4,
};

struct awg_timers {
	const struct awg_timing_params *params;	/* borrowed from the device */
	uint64_t deadline_ns[AWG_TIMER_COUNT];
	unsigned pending;			/* bit (1 << enum awg_timer_id) per armed timer */
	uint32_t handshake_attempts;		/* retransmissions in the current sequence */
	uint32_t max_handshake_attempts;	/* pick(max_handshake_attempts) for this sequence */
	bool need_another_keepalive;		/* data arrived while SEND_KEEPALIVE pending */
	bool sent_lastminute_handshake;		/* the receive-side rekey already fired */
	bool initiation_sent;			/* last_initiation_ns is valid */
	uint64_t last_initiation_ns;
	struct awg_range persistent_keepalive;	/* seconds; zero = off */
};

/* Nothing pending, attempts zeroed, give-up limit drawn. params must outlive t. */
void awg_timers_init(struct awg_timers *t, const struct awg_timing_params *params,
		     const struct awg_env *env);
/* Disarms every timer (peer removed or interface down); state is kept. */
void awg_timers_stop(struct awg_timers *t);

/* ---- Events: call exactly where each comment says. ---- */

/* After an authenticated data packet (not a keepalive) is sent. */
void awg_timers_data_sent(struct awg_timers *t, uint64_t now_ns, const struct awg_env *env);
/* After an authenticated data packet (not a keepalive, spec §4.7) is received. */
void awg_timers_data_received(struct awg_timers *t, uint64_t now_ns, const struct awg_env *env);
/* After any authenticated packet is sent: keepalive, data or handshake message. */
void awg_timers_any_authenticated_packet_sent(struct awg_timers *t);
/* After any authenticated packet is received: keepalive, data or handshake message. */
void awg_timers_any_authenticated_packet_received(struct awg_timers *t);
/* Before any authenticated packet is sent, and after one is received (arms persistent KA). */
void awg_timers_any_authenticated_packet_traversal(struct awg_timers *t, uint64_t now_ns,
						   const struct awg_env *env);
/*
 * Before an initiation the engine decided on by itself (data staged with no usable session,
 * rekey on send/receive, turning on the peer): starts a new handshake sequence, so the attempt
 * count restarts and the give-up limit is re-drawn. Mirrors WireGuard's is_retry == false.
 */
void awg_timers_handshake_begin(struct awg_timers *t, const struct awg_env *env);
/* Rate limit: false while less than LO(rekey_timeout) has passed since the last initiation. */
bool awg_timers_initiation_allowed(const struct awg_timers *t, uint64_t now_ns);
/* After a handshake initiation is sent: records the time, arms RETRANSMIT_HANDSHAKE. */
void awg_timers_handshake_initiated(struct awg_timers *t, uint64_t now_ns,
				    const struct awg_env *env);
/*
 * After a handshake response is consumed (initiator) or the first data message confirms the
 * keypair (responder): stops retransmission, resets attempts, re-draws the give-up limit.
 */
void awg_timers_handshake_complete(struct awg_timers *t, const struct awg_env *env);
/* After a session's keys are derived (creating a response, or consuming one). */
void awg_timers_session_derived(struct awg_timers *t, uint64_t now_ns);
/*
 * After the peer's persistent keepalive range is set. Returns true when it went from off to on:
 * the engine should then send a keepalive now, as WireGuard does. Turning it off disarms it.
 */
bool awg_timers_persistent_keepalive_changed(struct awg_timers *t, struct awg_range interval);

/* ---- Event loop. ---- */

/* The earliest armed deadline, or UINT64_MAX when nothing is armed. */
uint64_t awg_timers_next_deadline(const struct awg_timers *t);
/*
 * Fires every timer whose deadline is <= now_ns (each at most once per call, in enum
 * awg_timer_id order) and returns the enum awg_timers_action bits to perform:
 *   RETRANSMIT_HANDSHAKE: attempts <= max: attempts++, SEND_INITIATION | CLEAR_ENDPOINT_SRC;
 *                         else GIVE_UP, SEND_KEEPALIVE disarmed, ZERO_KEY_MATERIAL armed for
 *                         3 * HI(reject_after_time) unless already armed. Initiations per
 *                         sequence: max + 2 in total.
 *   SEND_KEEPALIVE:       SEND_KEEPALIVE; re-armed if more data arrived meanwhile (the keepalive's
 *                         own any_authenticated_packet_sent then disarms it, as in WireGuard).
 *   NEW_HANDSHAKE:        SEND_INITIATION | CLEAR_ENDPOINT_SRC, as a new sequence.
 *   ZERO_KEY_MATERIAL:    ZERO_KEYS.
 *   PERSISTENT_KEEPALIVE: SEND_KEEPALIVE if the interval is still on.
 */
unsigned awg_timers_expire(struct awg_timers *t, uint64_t now_ns, const struct awg_env *env);

/* ---- Key-age decisions over struct awg_timing_params (spec §4.10). ---- */

/* Initiator rekey-on-send age: pick(rekey_after_time). */
uint64_t awg_timers_rekey_after_ns(const struct awg_timing_params *p, const struct awg_env *env);
/* Initiator rekey-on-receive age: pick(reject_after_time) - LO(keepalive) - LO(rekey_timeout). */
uint64_t awg_timers_rekey_on_receive_ns(const struct awg_timing_params *p,
					const struct awg_env *env);
/* Keypair expiry (reject for send and receive): HI(reject_after_time). */
uint64_t awg_timers_reject_after_ns(const struct awg_timing_params *p);
/* Minimum spacing of initiations: LO(rekey_timeout). */
uint64_t awg_timers_initiation_spacing_ns(const struct awg_timing_params *p);

/*
 * Before sending on the current keypair: true if a new handshake should start (then call
 * awg_timers_handshake_begin()). Sending counter past AWG_REKEY_AFTER_MESSAGES, or we are the
 * initiator and the key is at least pick(rekey_after_time) old.
 */
bool awg_timers_want_initiation_on_send(const struct awg_timers *t, uint64_t now_ns,
					uint64_t key_birth_ns, uint64_t send_counter,
					bool i_am_initiator, const struct awg_env *env);
/*
 * After receiving on the current keypair: true once per session (until handshake_complete) if
 * we are the initiator and the key is at least awg_timers_rekey_on_receive_ns() old, so the
 * session is renewed before it expires under an idle sender.
 */
bool awg_timers_want_initiation_on_receive(struct awg_timers *t, uint64_t now_ns,
					   uint64_t key_birth_ns, bool i_am_initiator,
					   const struct awg_env *env);
/* True if a keypair born at key_birth_ns must no longer be used: age >= HI(reject). */
bool awg_timers_key_expired(const struct awg_timers *t, uint64_t now_ns, uint64_t key_birth_ns);

#endif /* _AWG_TIMERS_H */
