// SPDX-License-Identifier: MIT
/*
 * Owns the per-peer timer state machine: five deadlines, the handshake attempt count and the
 * AWG 3.0 ranged timing overrides (spec §4.10). See timers.h for where each event is called.
 *
 * The five timers, as in WireGuard:
 *  - retransmit_handshake: we sent an initiation and have no response yet; retry, and give up
 *    after the drawn maximum number of retries.
 *  - send_keepalive: we received data and have sent nothing back; a keepalive acknowledges it.
 *  - new_handshake: we sent data and have heard nothing back; the session may be dead.
 *  - zero_key_material: no new session for a long time; erase the keys.
 *  - persistent_keepalive: nothing crossed the tunnel for the configured interval; keep NAT open.
 */
#include "timers.h"

#include "messages.h"

enum {
	NSEC_PER_MSEC = 1000000,
	NSEC_PER_SEC = 1000000000,
};

/* Deadlines saturate instead of wrapping: a configured range can reach 2^32 - 1 seconds. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sec_ns(uint64_t s)
{
	return s > UINT64_MAX / NSEC_PER_SEC ? UINT64_MAX : s * NSEC_PER_SEC;
}

static uint32_t pick(struct awg_range r, uint32_t dflt, const struct awg_env *env)
{
	return awg_range_is_zero(r) ? dflt : awg_env_random_range(env, r.lo, r.hi);
}

static uint32_t lo(struct awg_range r, uint32_t dflt)
{
	return awg_range_is_zero(r) ? dflt : r.lo;
}

static uint32_t hi(struct awg_range r, uint32_t dflt)
{
	return awg_range_is_zero(r) ? dflt : r.hi;
}

/* WireGuard's 0-333 ms retransmission jitter, so that peers do not retry in lockstep. */
static uint64_t jitter_ns(const struct awg_env *env)
{
	return (uint64_t)awg_env_random_range(env, 0, AWG_REKEY_TIMEOUT_JITTER_MAX_MS - 1) *
	       NSEC_PER_MSEC;
}

static bool is_pending(const struct awg_timers *t, enum awg_timer_id id)
{
	return t->pending & (1u << id);
}

static void arm(struct awg_timers *t, enum awg_timer_id id, uint64_t now_ns, uint64_t delay_ns)
{
	t->deadline_ns[id] = add_sat(now_ns, delay_ns);
	t->pending |= 1u << id;
}

static void disarm(struct awg_timers *t, enum awg_timer_id id)
{
	t->pending &= ~(1u << id);
}

static void draw_max_attempts(struct awg_timers *t, const struct awg_env *env)
{
	t->max_handshake_attempts = pick(t->params->max_handshake_attempts,
					 AWG_MAX_TIMER_HANDSHAKES, env);
}

static uint64_t zero_key_delay_ns(const struct awg_timing_params *p)
{
	uint64_t reject = awg_timers_reject_after_ns(p);

	return reject > UINT64_MAX / 3 ? UINT64_MAX : 3 * reject;
}

void awg_timers_init(struct awg_timers *t, const struct awg_timing_params *params,
		     const struct awg_env *env)
{
	*t = (struct awg_timers){ .params = params };
	draw_max_attempts(t, env);
}

void awg_timers_stop(struct awg_timers *t)
{
	t->pending = 0;
}

void awg_timers_data_sent(struct awg_timers *t, uint64_t now_ns, const struct awg_env *env)
{
	const struct awg_timing_params *p = t->params;
	uint64_t delay;

	if (is_pending(t, AWG_TIMER_NEW_HANDSHAKE))
		return;
	delay = add_sat(sec_ns(hi(p->keepalive_timeout, AWG_KEEPALIVE_TIMEOUT)),
			sec_ns(pick(p->rekey_timeout, AWG_REKEY_TIMEOUT, env)));
	arm(t, AWG_TIMER_NEW_HANDSHAKE, now_ns, add_sat(delay, jitter_ns(env)));
}

void awg_timers_data_received(struct awg_timers *t, uint64_t now_ns, const struct awg_env *env)
{
	if (is_pending(t, AWG_TIMER_SEND_KEEPALIVE)) {
		t->need_another_keepalive = true;
		return;
	}
	arm(t, AWG_TIMER_SEND_KEEPALIVE, now_ns,
	    sec_ns(pick(t->params->keepalive_timeout, AWG_KEEPALIVE_TIMEOUT, env)));
}

void awg_timers_any_authenticated_packet_sent(struct awg_timers *t)
{
	disarm(t, AWG_TIMER_SEND_KEEPALIVE);
}

void awg_timers_any_authenticated_packet_received(struct awg_timers *t)
{
	disarm(t, AWG_TIMER_NEW_HANDSHAKE);
}

void awg_timers_any_authenticated_packet_traversal(struct awg_timers *t, uint64_t now_ns,
						   const struct awg_env *env)
{
	if (awg_range_is_zero(t->persistent_keepalive))
		return;
	/* A fresh draw every time it is armed (spec §3.2). */
	arm(t, AWG_TIMER_PERSISTENT_KEEPALIVE, now_ns,
	    sec_ns(awg_env_random_range(env, t->persistent_keepalive.lo,
					t->persistent_keepalive.hi)));
}

void awg_timers_handshake_begin(struct awg_timers *t, const struct awg_env *env)
{
	t->handshake_attempts = 0;
	draw_max_attempts(t, env);
}

bool awg_timers_initiation_allowed(const struct awg_timers *t, uint64_t now_ns)
{
	if (!t->initiation_sent || now_ns < t->last_initiation_ns)
		return true;
	return now_ns - t->last_initiation_ns >= awg_timers_initiation_spacing_ns(t->params);
}

void awg_timers_handshake_initiated(struct awg_timers *t, uint64_t now_ns,
				    const struct awg_env *env)
{
	uint64_t delay = sec_ns(pick(t->params->rekey_timeout, AWG_REKEY_TIMEOUT, env));

	t->initiation_sent = true;
	t->last_initiation_ns = now_ns;
	arm(t, AWG_TIMER_RETRANSMIT_HANDSHAKE, now_ns, add_sat(delay, jitter_ns(env)));
}

void awg_timers_handshake_complete(struct awg_timers *t, const struct awg_env *env)
{
	disarm(t, AWG_TIMER_RETRANSMIT_HANDSHAKE);
	t->handshake_attempts = 0;
	t->sent_lastminute_handshake = false;
	draw_max_attempts(t, env);
}

void awg_timers_session_derived(struct awg_timers *t, uint64_t now_ns)
{
	arm(t, AWG_TIMER_ZERO_KEY_MATERIAL, now_ns, zero_key_delay_ns(t->params));
}

bool awg_timers_persistent_keepalive_changed(struct awg_timers *t, struct awg_range interval)
{
	bool was_off = awg_range_is_zero(t->persistent_keepalive);

	t->persistent_keepalive = interval;
	if (awg_range_is_zero(interval)) {
		disarm(t, AWG_TIMER_PERSISTENT_KEEPALIVE);
		return false;
	}
	return was_off;
}

uint64_t awg_timers_next_deadline(const struct awg_timers *t)
{
	uint64_t next = UINT64_MAX;

	for (int id = 0; id < AWG_TIMER_COUNT; id++)
		if (is_pending(t, id) && t->deadline_ns[id] < next)
			next = t->deadline_ns[id];
	return next;
}

static unsigned expired_retransmit_handshake(struct awg_timers *t, uint64_t now_ns)
{
	if (t->handshake_attempts <= t->max_handshake_attempts) {
		t->handshake_attempts++;
		return AWG_TIMERS_SEND_INITIATION | AWG_TIMERS_CLEAR_ENDPOINT_SRC;
	}
	/*
	 * Give up: no more retries until something new wants a handshake. Staged packets are
	 * dropped, and whatever is left of the partial exchange is erased later.
	 */
	disarm(t, AWG_TIMER_SEND_KEEPALIVE);
	if (!is_pending(t, AWG_TIMER_ZERO_KEY_MATERIAL))
		arm(t, AWG_TIMER_ZERO_KEY_MATERIAL, now_ns, zero_key_delay_ns(t->params));
	return AWG_TIMERS_GIVE_UP;
}

static unsigned expired_send_keepalive(struct awg_timers *t, uint64_t now_ns,
				       const struct awg_env *env)
{
	if (t->need_another_keepalive) {
		t->need_another_keepalive = false;
		arm(t, AWG_TIMER_SEND_KEEPALIVE, now_ns,
		    sec_ns(pick(t->params->keepalive_timeout, AWG_KEEPALIVE_TIMEOUT, env)));
	}
	return AWG_TIMERS_SEND_KEEPALIVE;
}

static unsigned expired_new_handshake(struct awg_timers *t, const struct awg_env *env)
{
	awg_timers_handshake_begin(t, env);
	return AWG_TIMERS_SEND_INITIATION | AWG_TIMERS_CLEAR_ENDPOINT_SRC;
}

static unsigned fire(struct awg_timers *t, enum awg_timer_id id, uint64_t now_ns,
		     const struct awg_env *env)
{
	switch (id) {
	case AWG_TIMER_RETRANSMIT_HANDSHAKE:
		return expired_retransmit_handshake(t, now_ns);
	case AWG_TIMER_SEND_KEEPALIVE:
		return expired_send_keepalive(t, now_ns, env);
	case AWG_TIMER_NEW_HANDSHAKE:
		return expired_new_handshake(t, env);
	case AWG_TIMER_ZERO_KEY_MATERIAL:
		return AWG_TIMERS_ZERO_KEYS;
	case AWG_TIMER_PERSISTENT_KEEPALIVE:
		return awg_range_is_zero(t->persistent_keepalive) ? 0 : AWG_TIMERS_SEND_KEEPALIVE;
	case AWG_TIMER_COUNT:
		break;
	}
	return 0;
}

unsigned awg_timers_expire(struct awg_timers *t, uint64_t now_ns, const struct awg_env *env)
{
	unsigned due = 0, actions = 0;
	int id;

	/* Snapshot first, so a timer re-armed by its own handler fires on a later call. */
	for (id = 0; id < AWG_TIMER_COUNT; id++)
		if (is_pending(t, id) && t->deadline_ns[id] <= now_ns)
			due |= 1u << id;
	for (id = 0; id < AWG_TIMER_COUNT; id++) {
		/* An earlier handler may have disarmed it (giving up cancels the keepalive). */
		if (!(due & (1u << id)) || !is_pending(t, id))
			continue;
		disarm(t, id);
		actions |= fire(t, id, now_ns, env);
	}
	return actions;
}

uint64_t awg_timers_rekey_after_ns(const struct awg_timing_params *p, const struct awg_env *env)
{
	return sec_ns(pick(p->rekey_after_time, AWG_REKEY_AFTER_TIME, env));
}

uint64_t awg_timers_rekey_on_receive_ns(const struct awg_timing_params *p,
					const struct awg_env *env)
{
	uint64_t reject = pick(p->reject_after_time, AWG_REJECT_AFTER_TIME, env);
	uint64_t margin = (uint64_t)lo(p->keepalive_timeout, AWG_KEEPALIVE_TIMEOUT) +
			  lo(p->rekey_timeout, AWG_REKEY_TIMEOUT);

	return reject > margin ? sec_ns(reject - margin) : 0;
}

uint64_t awg_timers_reject_after_ns(const struct awg_timing_params *p)
{
	return sec_ns(hi(p->reject_after_time, AWG_REJECT_AFTER_TIME));
}

uint64_t awg_timers_initiation_spacing_ns(const struct awg_timing_params *p)
{
	return sec_ns(lo(p->rekey_timeout, AWG_REKEY_TIMEOUT));
}

static uint64_t key_age(uint64_t now_ns, uint64_t key_birth_ns)
{
	return now_ns > key_birth_ns ? now_ns - key_birth_ns : 0;
}

bool awg_timers_want_initiation_on_send(const struct awg_timers *t, uint64_t now_ns,
					uint64_t key_birth_ns, uint64_t send_counter,
					bool i_am_initiator, const struct awg_env *env)
{
	if (send_counter > AWG_REKEY_AFTER_MESSAGES)
		return true;
	return i_am_initiator &&
	       key_age(now_ns, key_birth_ns) >= awg_timers_rekey_after_ns(t->params, env);
}

bool awg_timers_want_initiation_on_receive(struct awg_timers *t, uint64_t now_ns,
					   uint64_t key_birth_ns, bool i_am_initiator,
					   const struct awg_env *env)
{
	if (!i_am_initiator || t->sent_lastminute_handshake)
		return false;
	if (key_age(now_ns, key_birth_ns) < awg_timers_rekey_on_receive_ns(t->params, env))
		return false;
	t->sent_lastminute_handshake = true;
	return true;
}

bool awg_timers_key_expired(const struct awg_timers *t, uint64_t now_ns, uint64_t key_birth_ns)
{
	return key_age(now_ns, key_birth_ns) >= awg_timers_reject_after_ns(t->params);
}
